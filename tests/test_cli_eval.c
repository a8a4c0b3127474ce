/* `pasalista evaluate` and `pasalista calibrate` from the command line, on
 * a small subset of ../shared/faces linked into a temporary folder (read
 * at run time; nothing of it is committed):
 *   - evaluate with two models writes report.html + report.json; the page,
 *     opened in headless Chromium, shows every plot with no missing
 *     resource (screenshot + rendered DOM, tests/report_screenshot.sh);
 *   - calibrate on a roster where two "students" are photos of one person
 *     warns about that look-alike pair and stores thresholds take uses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_run.h"
#include "test.h"
#include "util/fs.h"
#include "util/json.h"

static char tmp[256];

static int asan(void) { return getenv("PASALISTA_ASAN") != NULL; }

static const char *faces_dir(void)
{
    static char d[1024];
    snprintf(d, sizeof d, "%s/faces", test_shared_dir());
    if (access(d, R_OK) != 0) SKIP("%s not present", d);
    if (d[0] != '/') { /* symlinks need an absolute target */
        char cwd[512];
        if (getcwd(cwd, sizeof cwd)) {
            char abs[1024];
            snprintf(abs, sizeof abs, "%.500s/%.500s", cwd, d);
            snprintf(d, sizeof d, "%s", abs);
        }
    }
    return d;
}

/* The temporary folder goes at exit, also when a filter skips zz_cleanup;
 * PASALISTA_KEEP=1 keeps it (the report and screenshot are in it). */
static void remove_tmp(void)
{
    if (tmp[0] && !getenv("PASALISTA_KEEP")) run("rm -rf %s", tmp);
}

static void setup(void)
{
    if (tmp[0]) return;
    snprintf(tmp, sizeof tmp, "/tmp/pl_test_cli_eval_%d", (int)getpid());
    CHECK(run("rm -rf %s && mkdir -p %s", tmp, tmp) == 0);
    atexit(remove_tmp);
}

static const char *people[] = {"jim_parsons", "johnny_galecki", "kunal_nayyar", "simon_helberg",
                               "jennifer_aniston", "matt_damon", "tom_hanks", "halle_berry"};

/* DATA: eight people (Big Bang Theory cast and four others), two groups. */
static void make_data(const char *faces, const char *data)
{
    CHECK(run("mkdir -p %s/identities %s/groups", data, data) == 0);
    for (size_t i = 0; i < sizeof people / sizeof *people; i++)
        CHECK(run("ln -s %s/identities/%s %s/identities/%s", faces, people[i], data, people[i]) == 0);
    const char *groups[] = {"bbt1", "bbt2"};
    for (int i = 0; i < 2; i++)
        CHECK(run("ln -s %s/groups/%s.jpg %s/groups/ && ln -s %s/groups/%s.json %s/groups/", faces, groups[i],
                  data, faces, groups[i], data) == 0);
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static int count_of(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

TEST(evaluate_report_opens_in_chromium)
{
    const char *faces = faces_dir();
    setup();
    char data[512], rep[512], json[600];
    snprintf(data, sizeof data, "%s/data", tmp);
    snprintf(rep, sizeof rep, "%s/report", tmp);
    make_data(faces, data);
    /* Under ASan (ten times slower) three photos per person do. */
    int rc = run("%s evaluate %s --model fr-feature,mobilefacenet --out %s --json%s > %s/stdout.json", cli(), data,
                 rep, asan() ? " --max-photos 3" : "", tmp);
    CHECK_MSG(rc == 0, "evaluate exit %d: %s", rc, out);
    snprintf(json, sizeof json, "%s/report.json", rep);
    pl_error err = {0};
    pl_json *j = pl_json_load_file(json, &err);
    CHECK_MSG(j != NULL, "%s", err.msg);
    const pl_json *models = pl_json_get(j, "models");
    CHECK_EQ_INT(pl_json_len(models), 2);
    for (int m = 0; m < 2; m++) {
        const pl_json *v = pl_json_get(pl_json_at(models, m), "verification");
        double auc = pl_json_as_number(pl_json_get(v, "auc"), -1);
        printf("    %s: AUC %.4f, rank-1 %.3f\n", pl_json_as_string(pl_json_get(pl_json_at(models, m), "name"), "?"),
               auc, pl_json_as_number(pl_json_get(pl_json_get(pl_json_at(models, m), "identification"), "rank1"), -1));
        CHECK(auc > 0.9 && auc <= 1);
    }
    CHECK_EQ_INT((int)pl_json_as_number(pl_json_get(j, "identities"), 0), 8);
    pl_json_free(j);
    /* the same JSON went to stdout */
    snprintf(json, sizeof json, "%s/stdout.json", tmp);
    j = pl_json_load_file(json, &err);
    CHECK_MSG(j != NULL, "stdout: %s", err.msg);
    pl_json_free(j);

    /* Open it as a user would. */
    char html[600], png[600], dom[600], log[600];
    snprintf(html, sizeof html, "%s/report.html", rep);
    snprintf(png, sizeof png, "%s/screenshot.png", rep);
    snprintf(dom, sizeof dom, "%s/dom.html", rep);
    snprintf(log, sizeof log, "%s/chromium.log", rep);
    rc = run("tests/report_screenshot.sh %s %s %s %s", html, png, dom, log);
    if (rc == 77) SKIP("chromium not installed (apt-get install chromium)");
    CHECK_MSG(rc == 0, "chromium failed (%d): %s", rc, out);
    CHECK_MSG(file_size(png) > 20000, "screenshot %s: %ld bytes", png, file_size(png));
    uint8_t *d = NULL;
    size_t len = 0;
    CHECK(pl_read_file(dom, 64 << 20, &d, &len, NULL) == PL_OK);
    char *text = realloc(d, len + 1);
    CHECK(text != NULL);
    text[len] = 0;
    /* Every plot is there: bars, ROC and one histogram per model. */
    int svgs = count_of(text, "<svg");
    printf("    rendered DOM: %zu bytes, %d <svg>, %d <img>; screenshot %s (%ld bytes)\n", len, svgs,
           count_of(text, "<img"), png, file_size(png));
    CHECK_CONTAINS(text, "ROC: identity-photo pairs");
    CHECK_CONTAINS(text, "Per-model figures");
    CHECK_CONTAINS(text, "fr-feature: genuine vs impostor scores");
    CHECK_CONTAINS(text, "mobilefacenet: genuine vs impostor scores");
    CHECK(svgs >= 4);
    /* Nothing to fetch: every image is inline, no external reference. */
    CHECK_MSG(count_of(text, "<img") == count_of(text, "src=\"data:image/jpeg;base64,"), "an <img> is not inline");
    CHECK(!strstr(text, "src=\"http") && !strstr(text, "href=\"http") && !strstr(text, "<link") &&
          !strstr(text, "<script src"));
    free(text);
    CHECK(pl_read_file(log, 16 << 20, &d, &len, NULL) == PL_OK);
    text = realloc(d, len + 1);
    text[len] = 0;
    CHECK_MSG(!strstr(text, "net::ERR") && !strstr(text, "Failed to load resource"), "chromium log: %s", text);
    free(text);
}

/* Two "students" who are one person (photos 1-3 and 4-6 of her). */
TEST(calibrate_warns_about_lookalikes_and_take_uses_it)
{
    const char *faces = faces_dir();
    setup();
    char src[512], db[512];
    snprintf(src, sizeof src, "%s/roster", tmp);
    snprintf(db, sizeof db, "%s/class.db", tmp);
    CHECK(run("mkdir -p %s/twin_a %s/twin_b", src, src) == 0);
    size_t n_people = asan() ? 3 : sizeof people / sizeof *people; /* ASan: a smaller class */
    for (size_t i = 0; i < n_people; i++)
        CHECK(run("ln -s %s/identities/%s %s/%s", faces, people[i], src, people[i]) == 0);
    for (int k = 1; k <= 6; k++)
        CHECK(run("ln -s %s/identities/scarlett_johansson/%d.jpg %s/twin_%c/%d.jpg", faces, k, src,
                  k <= 3 ? 'a' : 'b', k) == 0);
    int rc = run("%s enroll %s --db %s --quiet", cli(), src, db);
    CHECK_MSG(rc == 0 || rc == 1, "enroll exit %d: %s", rc, out);
    /* dry run first: nothing stored */
    rc = run("%s calibrate --db %s --dry-run --json", cli(), db);
    CHECK_MSG(rc == 1, "calibrate --dry-run exit %d: %s", rc, out);
    CHECK_CONTAINS(out, "\"applied\":false");
    rc = run("%s calibrate --db %s", cli(), db);
    printf("%s", out);
    CHECK_MSG(rc == 1, "calibrate exit %d (1 = look-alikes found): %s", rc, out);
    CHECK_CONTAINS(out, "look-alikes: twin_a and twin_b");
    CHECK_CONTAINS(out, "stored");
    rc = run("%s calibrate --db %s --json --dry-run", cli(), db);
    pl_json *j = pl_json_parse(out, strlen(out), "calibrate --json", NULL);
    CHECK_MSG(j != NULL, "not JSON: %s", out);
    double accept = pl_json_as_number(pl_json_get(j, "accept"), -9);
    const pl_json *la = pl_json_get(j, "lookalikes");
    CHECK(pl_json_len(la) >= 1);
    CHECK_STR(pl_json_as_string(pl_json_get(pl_json_at(la, 0), "a"), ""), "twin_a");
    CHECK_STR(pl_json_as_string(pl_json_get(pl_json_at(la, 0), "b"), ""), "twin_b");
    CHECK(pl_json_as_number(pl_json_get(j, "far"), 1) <= 1e-3);
    pl_json_free(j);
    /* take reads the stored threshold */
    rc = run("%s take %s/groups/bbt2.jpg --db %s --json", cli(), faces, db);
    CHECK_MSG(rc == 0 || rc == 1, "take exit %d: %s", rc, out);
    char want[64];
    snprintf(want, sizeof want, "\"accept\":%.4f", accept);
    CHECK_CONTAINS(out, want);
}

TEST(calibrate_usage_errors)
{
    setup();
    CHECK_EQ_INT(run("%s calibrate --far 2", cli()), 2);
    CHECK_EQ_INT(run("%s evaluate", cli()), 2);
    CHECK_EQ_INT(run("%s evaluate /nonexistent/data", cli()), 3);
    CHECK_CONTAINS(out, "/nonexistent/data");
    CHECK_EQ_INT(run("%s calibrate --help", cli()), 0);
    CHECK_CONTAINS(out, "look-alikes");
}

/* Identity photos only: verification and identification, no attendance;
 * a model that cannot load is reported and the others still run. */
TEST(evaluate_without_groups_and_with_a_bad_model)
{
    const char *faces = faces_dir();
    setup();
    char data[512];
    snprintf(data, sizeof data, "%s/nogroups", tmp);
    CHECK(run("mkdir -p %s/identities", data) == 0);
    for (int i = 0; i < 3; i++)
        CHECK(run("ln -s %s/identities/%s %s/identities/%s", faces, people[i], data, people[i]) == 0);
    int rc = run("%s evaluate %s --model fr-feature,no-such-model --max-photos 2", cli(), data);
    CHECK_MSG(rc == 1, "exit %d: %s", rc, out);
    CHECK_CONTAINS(out, "not measured");
    CHECK_CONTAINS(out, "no-such-model  error: unknown model");
    CHECK_CONTAINS(out, "\nfr-feature     "); /* its row of figures ... */
    CHECK(!strstr(out, "fr-feature     error"));   /* ... not an error */
    rc = run("%s evaluate %s --model no-such-model", cli(), data);
    CHECK_EQ_INT(rc, 3);
    CHECK_CONTAINS(out, "no model could be loaded");
}
