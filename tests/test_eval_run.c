/* The README's evaluation, exactly as a user runs it:
 *     pasalista evaluate ../shared/faces --model mobilefacenet,fr-feature,dlib-resnet,faceres
 * (../shared/faces is read at run time), with --out build/eval-report so
 * the report of the last test run can be opened. Prints the table quoted
 * in the README and holds the bars that any sound setup meets:
 *   - detection recall of annotated faces (IoU 0.4) >= 0.95;
 *   - calibration: the threshold proposed from the identity photos at
 *     target FAR 1e-3 gives a false-present rate on the group photos no
 *     higher than the target (checked for the default model; printed for
 *     every model);
 *   - every model loaded; the default model's leave-one-out rank-1 >= 0.97.
 * Under ASan (PASALISTA_ASAN) it runs a subset (12 people x 2 photos, 2
 * group photos, fr-feature) and checks only that it completes cleanly:
 * the same code, ten times slower. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_run.h"
#include "pasalista.h"
#include "test.h"
#include "util/json.h"

static double num(const pl_json *o, const char *path)
{
    /* "a.b.c": nested keys */
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    const pl_json *v = o;
    for (char *save = NULL, *k = strtok_r(buf, ".", &save); k && v; k = strtok_r(NULL, ".", &save))
        v = pl_json_get(v, k);
    return pl_json_as_number(v, NAN);
}

TEST(evaluate_four_models_on_shared_faces)
{
    char data[1024];
    snprintf(data, sizeof data, "%s/faces", test_shared_dir());
    if (access(data, R_OK) != 0) SKIP("%s not present", data);
    int asan = getenv("PASALISTA_ASAN") != NULL;
    const char *models = asan ? "fr-feature" : "mobilefacenet,fr-feature,dlib-resnet,faceres";
    const char *subset = asan ? " --max-people 12 --max-photos 2 --max-groups 2" : "";
    if (asan) printf("    ASan build: subset (12 people x 2 photos, 2 group photos, 1 model); no accuracy bars\n");
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s evaluate %s --model %s%s --out build/eval-report > build/eval-report.txt 2>&1",
             cli(), data, models, subset);
    printf("    %s\n", cmd);
    int status = system(cmd);
    int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    CHECK_MSG(rc == 0, "exit %d (see build/eval-report.txt)", rc);
    pl_error err = {0};
    pl_json *j = pl_json_load_file("build/eval-report/report.json", &err);
    CHECK_MSG(j != NULL, "%s", err.msg);
    printf("    %g people, %g identity photos (%g used), %g s, detection %.0f ms/photo\n", num(j, "identities"),
           num(j, "identity_photos"), num(j, "photos_used"), num(j, "seconds"), num(j, "ms_detect_per_photo"));
    printf("    detection: %g annotated, %g detections; IoU 0.4 R %.3f P %.3f; IoU 0.5 R %.3f P %.3f\n",
           num(j, "detection.annotated"), num(j, "detection.detections"), num(j, "detection.iou40.recall"),
           num(j, "detection.iou40.precision"), num(j, "detection.iou50.recall"), num(j, "detection.iou50.precision"));
    printf("    | model | AUC | EER | TAR @ FAR 1e-2 (thr) | TAR @ FAR 1e-3 (thr) | rank-1 | rank-5 | attendance P / R "
           "(built-in thr) | calibrated thr | attendance P / R (calibrated) | false presents (calibrated) | ms/face |\n");
    const pl_json *ms = pl_json_get(j, "models");
    int def = -1;
    for (int i = 0; i < pl_json_len(ms); i++) {
        const pl_json *m = pl_json_at(ms, i);
        const char *name = pl_json_as_string(pl_json_get(m, "name"), "?");
        CHECK_MSG(!pl_json_get(m, "error"), "%s: %s", name, pl_json_as_string(pl_json_get(m, "error"), ""));
        if (!strcmp(name, pl_default_model())) def = i;
        const pl_json *tar = pl_json_get(pl_json_get(m, "verification"), "tar_at_far");
        printf("    | %s | %.4f | %.3f | %.3f (%.3f) | %.3f (%.3f) | %.3f | %.3f | %.3f / %.3f (%.2f) | %.3f | %.3f / %.3f "
               "| %g of %g (%.5f) | %.1f |\n",
               name, num(m, "verification.auc"), num(m, "verification.eer"), num(pl_json_at(tar, 0), "tar"),
               num(pl_json_at(tar, 0), "threshold"), num(pl_json_at(tar, 1), "tar"), num(pl_json_at(tar, 1), "threshold"),
               num(m, "identification.rank1"), num(m, "identification.rank5"), num(m, "attendance.precision"),
               num(m, "attendance.recall"), num(m, "attendance.accept"), num(m, "calibrated.accept"),
               num(m, "calibrated.attendance.precision"), num(m, "calibrated.attendance.recall"),
               num(m, "calibrated.attendance.fp"), num(m, "calibrated.attendance.absent_slots"),
               num(m, "calibrated.attendance.false_present_rate"), num(m, "ms_per_face"));
    }
    CHECK(def >= 0);
    if (asan) { /* the subset is too small for the rates to mean anything */
        pl_json_free(j);
        return;
    }
    CHECK_MSG(num(j, "detection.iou40.recall") >= 0.95, "detection recall %.3f", num(j, "detection.iou40.recall"));
    const pl_json *m = pl_json_at(ms, def);
    double fpr = num(m, "calibrated.attendance.false_present_rate");
    CHECK_MSG(fpr <= 1e-3, "%s: calibrated false-present rate %.5f > 1e-3", pl_default_model(), fpr);
    CHECK_MSG(num(m, "identification.rank1") >= 0.97, "rank-1 %.3f", num(m, "identification.rank1"));
    pl_json_free(j);
}
