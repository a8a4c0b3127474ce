/* The whole evaluation on ../shared/faces (read at run time) with the four
 * built-in embedders, as `pasalista evaluate ../shared/faces --model
 * mobilefacenet,fr-feature,dlib-resnet,faceres` runs it; prints the tables
 * quoted in the README and writes the report to build/eval-report/.
 * Checks the bars that hold for any sound setup:
 *   - detection recall of annotated faces (IoU 0.4) >= 0.95;
 *   - calibration: the threshold proposed from the identity photos at
 *     target FAR 1e-3 gives a false-present rate on the group photos no
 *     higher than the target (checked for the default model; printed for
 *     all);
 *   - every model loaded, and the default model's leave-one-out rank-1
 *     is >= 0.97.
 * Under ASan (PASALISTA_ASAN) it runs a subset: two photos per person,
 * four group photos, two models: the same code, ten times slower. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pasalista.h"
#include "test.h"

static void progress(void *ctx, int done, int total, const char *what)
{
    (void)ctx, (void)what;
    if (done == total || done % 50 == 0) fprintf(stderr, "    %d/%d photos\n", done, total);
}

TEST(evaluate_four_models_on_shared_faces)
{
    char data[1024];
    snprintf(data, sizeof data, "%s/faces", test_shared_dir());
    if (access(data, R_OK) != 0) SKIP("%s not present", data);
    int asan = getenv("PASALISTA_ASAN") != NULL;
    pl_eval_options o = {0};
    o.data = data;
    o.models = asan ? "mobilefacenet,fr-feature" : "mobilefacenet,fr-feature,dlib-resnet,faceres";
    o.threads = 2;
    o.target_far = 1e-3;
    o.progress = progress;
    if (asan) {
        o.max_photos_per_identity = 2;
        o.max_groups = 4;
        printf("    ASan build: subset (2 photos per person, 4 group photos, 2 models)\n");
    }
    pl_eval_result r;
    pl_error err = {0};
    CHECK_MSG(pl_evaluate(&o, &r, &err) == PL_OK, "%s", err.msg);
    const pl_eval_detection *d = &r.det;
    printf("    %d people, %d identity photos (%d used), %d groups, %.0f s, detection %.0f ms/photo\n",
           r.n_identities, r.identity_photos, r.photos_used, r.n_groups, r.seconds, r.ms_detect_per_photo);
    printf("    detection: %d annotated, %d detections; IoU 0.4 R %.3f P %.3f; IoU 0.5 R %.3f P %.3f\n",
           d->annotated, d->detections, d->recall40, d->precision40, d->recall50, d->precision50);
    printf("    | model | AUC | EER | TAR@FAR1e-2 (thr) | TAR@FAR1e-3 (thr) | rank-1 | rank-5 | attendance P / R (built-in thr) "
           "| calibrated thr | attendance P / R (calibrated) | false-present rate (calibrated) | ms/face |\n");
    int def = -1;
    for (int i = 0; i < r.n_models; i++) {
        const pl_eval_model *m = &r.models[i];
        CHECK_MSG(!m->error[0], "%s: %s", m->name, m->error);
        if (!strcmp(m->name, pl_default_model())) def = i;
        printf("    | %s | %.4f | %.3f | %.3f (%.3f) | %.3f (%.3f) | %.3f | %.3f | %.3f / %.3f (%.2f) | %.3f | %.3f / %.3f "
               "| %.5f (%d/%d) | %.1f |\n",
               m->name, m->ver.auc, m->ver.eer, m->ver.tar[0], m->ver.thr[0], m->ver.tar[1], m->ver.thr[1],
               m->ident.rank1, m->ident.rank5, m->att.precision, m->att.recall, m->att.accept, m->cal_accept,
               m->att_cal.precision, m->att_cal.recall, m->att_cal.false_present_rate, m->att_cal.fp,
               m->att_cal.absent_slots, m->ms_per_face);
    }
    for (int i = 0; i < r.n_models; i++) {
        const pl_eval_model *m = &r.models[i];
        for (int g = 0; g < r.n_groups; g++) {
            const pl_eval_group_att *x = &m->att_cal.groups[g];
            if (x->fp) printf("    %s calibrated: %s false present: %s\n", m->name, r.groups[g].name, x->false_present);
        }
    }
    CHECK(mkdir("build", 0755) == 0 || access("build", W_OK) == 0);
    CHECK_MSG(pl_eval_write_report(&r, "build/eval-report", &err) == PL_OK, "%s", err.msg);
    CHECK_MSG(d->recall40 >= 0.95, "detection recall %.3f", d->recall40);
    CHECK(def >= 0);
    const pl_eval_model *m = &r.models[def];
    CHECK_MSG(m->att_cal.false_present_rate <= o.target_far, "%s: calibrated false-present rate %.5f > %g",
              m->name, m->att_cal.false_present_rate, o.target_far);
    if (!asan) CHECK_MSG(m->ident.rank1 >= 0.97, "%s rank-1 %.3f", m->name, m->ident.rank1);
    pl_eval_result_free(&r);
}
