/* match.c — cosine scores and the per-photo face/student decisions. */
#include "match/match.h"

#include <math.h>
#include <stdlib.h>

void pl_l2_normalize(float *v, int dim)
{
    double n2 = 0;
    for (int i = 0; i < dim; i++) n2 += (double)v[i] * v[i];
    if (n2 <= 0) return;
    double inv = 1.0 / sqrt(n2);
    for (int i = 0; i < dim; i++) v[i] = (float)(v[i] * inv);
}

static double norm(const float *v, int dim)
{
    double n2 = 0;
    for (int i = 0; i < dim; i++) n2 += (double)v[i] * v[i];
    return sqrt(n2);
}

static double dot(const float *a, const float *b, int dim)
{
    double d = 0;
    for (int i = 0; i < dim; i++) d += (double)a[i] * b[i];
    return d;
}

float pl_cosine(const float *a, const float *b, int dim)
{
    double na = norm(a, dim), nb = norm(b, dim);
    return na > 0 && nb > 0 ? (float)(dot(a, b, dim) / (na * nb)) : 0.0f;
}

pl_status pl_match_scores(const float *faces, int m, const float *gallery, int n,
                          int dim, float *scores, pl_error *err)
{
    if (m < 0 || n < 0 || dim <= 0)
        return pl_fail(err, PL_ERR_ARG, "match scores: bad sizes %dx%d, dim %d", m, n, dim);
    double *gn = malloc(((size_t)n + 1) * sizeof *gn);
    if (!gn) return pl_fail(err, PL_ERR_NOMEM, "match scores: out of memory");
    for (int j = 0; j < n; j++) gn[j] = norm(gallery + (size_t)j * dim, dim);
    for (int i = 0; i < m; i++) {
        const float *f = faces + (size_t)i * dim;
        double fn = norm(f, dim);
        for (int j = 0; j < n; j++) {
            double d = fn > 0 && gn[j] > 0
                           ? dot(f, gallery + (size_t)j * dim, dim) / (fn * gn[j]) : 0;
            scores[(size_t)i * n + j] = (float)d;
        }
    }
    free(gn);
    return PL_OK;
}

const char *pl_match_decision_name(pl_match_decision d)
{
    switch (d) {
    case PL_MATCH_PRESENT: return "present";
    case PL_MATCH_REVIEW: return "review";
    case PL_MATCH_UNKNOWN: return "unknown";
    }
    return "unknown";
}

static pl_match_decision decide(float score, pl_match_thresholds th)
{
    if (score >= th.accept) return PL_MATCH_PRESENT;
    if (score >= th.review_low) return PL_MATCH_REVIEW;
    return PL_MATCH_UNKNOWN;
}

/* Each face's best column, whatever the assignment does with it. */
static void best_guesses(const float *scores, int m, int n, pl_match_result *out)
{
    for (int i = 0; i < m; i++) {
        out[i].best_student = -1;
        out[i].best_score = 0;
        for (int j = 0; j < n; j++) {
            float s = scores[(size_t)i * n + j];
            if (out[i].best_student < 0 || s > out[i].best_score) {
                out[i].best_student = j;
                out[i].best_score = s;
            }
        }
        out[i].student = -1;
        out[i].score = out[i].best_score;
        out[i].decision = PL_MATCH_UNKNOWN;
    }
}

pl_status pl_match_assign(const float *scores, int m, int n, pl_match_thresholds th,
                          pl_match_result *out, pl_error *err)
{
    if (m < 0 || n < 0)
        return pl_fail(err, PL_ERR_ARG, "match: bad sizes %dx%d", m, n);
    if (!(th.review_low <= th.accept))
        return pl_fail(err, PL_ERR_ARG, "match: review threshold %g above accept %g",
                       (double)th.review_low, (double)th.accept);
    for (size_t k = 0; k < (size_t)m * (size_t)n; k++)
        if (!isfinite(scores[k]))
            return pl_fail(err, PL_ERR_ARG, "match: score %zu (face %zu, student %zu) "
                           "is not a number", k, k / (size_t)n, k % (size_t)n);
    best_guesses(scores, m, n, out);
    if (m == 0 || n == 0) return PL_OK;

    /* Pairs below review_low may not be assigned: weight 0, the same as
     * leaving both unmatched. Allowed pairs keep their similarity as weight
     * (shifted up when review_low <= 0 so that they stay positive). */
    double shift = th.review_low > 0 ? 0 : 1e-3 - th.review_low;
    double *w = malloc((size_t)m * (size_t)n * sizeof *w);
    int *col = malloc((size_t)m * sizeof *col);
    if (!w || !col) {
        free(w); free(col);
        return pl_fail(err, PL_ERR_NOMEM, "match %dx%d: out of memory", m, n);
    }
    for (size_t k = 0; k < (size_t)m * (size_t)n; k++)
        w[k] = scores[k] >= th.review_low ? scores[k] + shift : 0;
    pl_status st = pl_hungarian_max(w, m, n, col, err);
    for (int i = 0; !st && i < m; i++) {
        int j = col[i];
        if (j < 0 || w[(size_t)i * n + j] <= 0) continue; /* not allowed: unmatched */
        out[i].student = j;
        out[i].score = scores[(size_t)i * n + j];
        out[i].decision = decide(out[i].score, th);
    }
    free(w);
    free(col);
    return st;
}
