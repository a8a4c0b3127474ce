/* calibrate.c — a threshold from the class's own enrolled photos.
 *
 * Published thresholds come from other people's photos and cameras. The
 * roster itself holds the evidence for this class: two photos of one
 * student are a genuine pair, photos of two students an impostor pair. The
 * accept threshold is set so that at most the target fraction of impostor
 * pairs would be taken for the same person. Students who look alike
 * (twins, siblings) are reported rather than allowed to drag the
 * threshold up for everybody: no threshold can tell them apart, a person
 * has to. The rule itself is pl_calibrate_rows (eval/eval.h), which
 * `evaluate` applies to labelled photos as well.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attend/attend.h"
#include "eval/eval.h"
#include "match/match.h"

static int float_desc(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x < y) - (x > y);
}

/* The loosest threshold keeping at most floor(far * n) of the n impostor
 * scores (sorted descending) at or above it. */
static float threshold_at(const float *imp_desc, int n, double far)
{
    long k = (long)floor(far * n + 1e-9);
    if (n == 0) return 1;
    if (k >= n) return nextafterf(imp_desc[n - 1], -INFINITY);
    return nextafterf(imp_desc[k], INFINITY);
}

static int lookalike_desc(const void *a, const void *b)
{
    float x = ((const pl_lookalike *)a)->score, y = ((const pl_lookalike *)b)->score;
    return (x < y) - (x > y);
}

/* Every pair's cosine: genuine scores, and the best cross score of each
 * pair of students (cross[a * n_labels + b], a < b). */
static pl_status pair_scores(const float *rows, const int *label, int n, int dim, int n_labels,
                             float **gen, int *n_gen, float *cross, pl_error *err)
{
    size_t cap = 64;
    int m = 0;
    float *g = malloc(cap * sizeof *g);
    if (!g) return pl_fail(err, PL_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            float c = pl_cosine(rows + (size_t)i * dim, rows + (size_t)j * dim, dim);
            int a = label[i], b = label[j];
            if (a == b) {
                if ((size_t)m == cap) {
                    float *bigger = realloc(g, (cap *= 2) * sizeof *g);
                    if (!bigger) {
                        free(g);
                        return pl_fail(err, PL_ERR_NOMEM, "out of memory");
                    }
                    g = bigger;
                }
                g[m++] = c;
                continue;
            }
            if (a > b) {
                int t = a;
                a = b;
                b = t;
            }
            float *x = &cross[(size_t)a * n_labels + b];
            if (c > *x) *x = c;
        }
    *gen = g;
    *n_gen = m;
    return PL_OK;
}

pl_status pl_calibrate_rows(const float *rows, const int *label, int n, int dim, int n_labels,
                            const char *const *names, double target_far, pl_calibration *out,
                            pl_error *err)
{
    out->target_far = target_far;
    out->photos = n;
    out->students = 0;
    int *per = calloc((size_t)n_labels + 1, sizeof *per);
    float *cross = malloc(((size_t)n_labels * n_labels + 1) * sizeof *cross);
    float *gen = NULL, *imp = NULL;
    int n_gen = 0;
    pl_status st = PL_OK;
    if (!per || !cross) {
        st = pl_fail(err, PL_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int i = 0; i < n; i++) per[label[i]]++;
    for (int l = 0; l < n_labels; l++) out->students += per[l] > 0;
    if (out->students < 2) {
        st = pl_fail(err, PL_ERR_ARG,
                     "calibration needs photos of at least 2 students (have %d)", out->students);
        goto done;
    }
    for (size_t i = 0; i < (size_t)n_labels * n_labels; i++) cross[i] = -INFINITY;
    if ((st = pair_scores(rows, label, n, dim, n_labels, &gen, &n_gen, cross, err)) != PL_OK)
        goto done;
    qsort(gen, (size_t)n_gen, sizeof *gen, float_desc);
    /* No genuine pairs (one photo each): nobody can be called a look-alike. */
    float alike = n_gen ? gen[n_gen / 2] : INFINITY;
    int n_alike = 0;
    for (int a = 0; a < n_labels; a++)
        for (int b = a + 1; b < n_labels; b++) n_alike += cross[(size_t)a * n_labels + b] >= alike;
    out->lookalikes = calloc((size_t)n_alike + 1, sizeof *out->lookalikes);
    imp = malloc(((size_t)n * n / 2 + 1) * sizeof *imp);
    if (!out->lookalikes || !imp) {
        st = pl_fail(err, PL_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int a = 0; a < n_labels; a++)
        for (int b = a + 1; b < n_labels; b++) {
            float c = cross[(size_t)a * n_labels + b];
            if (c < alike) continue;
            pl_lookalike *l = &out->lookalikes[out->n_lookalikes++];
            snprintf(l->a, sizeof l->a, "%s", names[a]);
            snprintf(l->b, sizeof l->b, "%s", names[b]);
            l->score = c;
        }
    qsort(out->lookalikes, (size_t)out->n_lookalikes, sizeof *out->lookalikes, lookalike_desc);
    /* Impostor pairs of students who are not look-alikes. */
    int n_imp = 0;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            int a = label[i] < label[j] ? label[i] : label[j];
            int b = label[i] < label[j] ? label[j] : label[i];
            if (a == b || cross[(size_t)a * n_labels + b] >= alike) continue;
            imp[n_imp++] = pl_cosine(rows + (size_t)i * dim, rows + (size_t)j * dim, dim);
        }
    qsort(imp, (size_t)n_imp, sizeof *imp, float_desc);
    out->n_genuine = n_gen;
    out->n_impostor = n_imp;
    out->accept = threshold_at(imp, n_imp, target_far);
    out->review = threshold_at(imp, n_imp, target_far * 10);
    if (out->review > out->accept) out->review = out->accept;
    int fa = 0, ta = 0;
    for (int i = 0; i < n_imp; i++) fa += imp[i] >= out->accept;
    for (int i = 0; i < n_gen; i++) ta += gen[i] >= out->accept;
    out->far = n_imp ? (double)fa / n_imp : 0;
    out->tar = n_gen ? (double)ta / n_gen : 0;
done:
    free(per);
    free(cross);
    free(gen);
    free(imp);
    return st;
}

pl_status pl_calibrate(pl_app *app, double target_far, int apply, pl_calibration *out,
                       pl_error *err)
{
    memset(out, 0, sizeof *out);
    snprintf(out->model, sizeof out->model, "%s", app->model);
    if (!(target_far > 0 && target_far < 1))
        return pl_fail(err, PL_ERR_ARG, "target false-match rate must be in (0, 1), got %g", target_far);
    const pl_embedder_spec *spec = pl_embedder_spec_of(app->embedder);
    pl_store_thresholds_get(app->store, app->model, &out->old_accept, &out->old_review, spec->accept,
                            spec->review);
    pl_gallery g;
    memset(&g, 0, sizeof g);
    pl_status st = pl_store_gallery_load(app->store, app->model, &g, err);
    if (st != PL_OK) return st;
    /* Rows are stored as the embedder wrote them; normalise a copy anyway
     * so a vector from elsewhere cannot skew the cosines. */
    float *rows = malloc(((size_t)g.n_rows * g.dim + 1) * sizeof *rows);
    if (!rows) st = pl_fail(err, PL_ERR_NOMEM, "out of memory");
    if (st == PL_OK) {
        memcpy(rows, g.rows, (size_t)g.n_rows * g.dim * sizeof *rows);
        for (int i = 0; i < g.n_rows; i++) pl_l2_normalize(rows + (size_t)i * g.dim, g.dim);
        st = pl_calibrate_rows(rows, g.row_student, g.n_rows, g.dim, g.n_students,
                               (const char *const *)g.student_name, target_far, out, err);
        if (st != PL_OK) pl_error_prefix(err, "%s: model %s: ", pl_store_path(app->store), app->model);
    }
    if (st == PL_OK && apply) {
        st = pl_store_begin(app->store, err);
        if (st == PL_OK) st = pl_store_thresholds_set(app->store, app->model, out->accept, out->review, err);
        if (st == PL_OK) st = pl_store_commit(app->store, err);
        else pl_store_rollback(app->store);
        out->applied = st == PL_OK;
    }
    free(rows);
    pl_gallery_free(&g);
    if (st != PL_OK) pl_calibration_free(out);
    return st;
}

void pl_calibration_free(pl_calibration *c)
{
    free(c->lookalikes);
    c->lookalikes = NULL;
    c->n_lookalikes = 0;
}
