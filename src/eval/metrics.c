/* metrics.c — ROC, AUC, EER, TAR@FAR, rank credit, IoU, box matching. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval/metrics.h"
#include "util/error.h"

typedef struct scored {
    float s;
    unsigned char genuine;
} scored;

static int by_score_desc(const void *a, const void *b)
{
    float x = ((const scored *)a)->s, y = ((const scored *)b)->s;
    return (x < y) - (x > y);
}

pl_status pl_eval_roc(const float *scores, const unsigned char *genuine, int n,
                      pl_roc_point **roc, int *n_roc, pl_error *err)
{
    *roc = NULL;
    *n_roc = 0;
    int n_gen = 0;
    for (int i = 0; i < n; i++) n_gen += genuine[i] != 0;
    int n_imp = n - n_gen;
    if (n_gen == 0 || n_imp == 0)
        return pl_fail(err, PL_ERR_ARG, "ROC needs genuine and impostor pairs (%d genuine, %d impostor)",
                       n_gen, n_imp);
    scored *v = malloc((size_t)n * sizeof *v);
    pl_roc_point *p = malloc((size_t)(n + 1) * sizeof *p);
    if (!v || !p) {
        free(v);
        free(p);
        return pl_fail(err, PL_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < n; i++) v[i] = (scored){scores[i], genuine[i] != 0};
    qsort(v, (size_t)n, sizeof *v, by_score_desc);
    /* The strictest point: a threshold just above the top score. */
    int m = 0;
    p[m++] = (pl_roc_point){nextafterf(v[0].s, INFINITY), 0, 0};
    int tp = 0, fp = 0;
    for (int i = 0; i < n;) {
        float s = v[i].s;
        for (; i < n && v[i].s == s; i++) {
            tp += v[i].genuine;
            fp += !v[i].genuine;
        }
        p[m++] = (pl_roc_point){s, (double)fp / n_imp, (double)tp / n_gen};
    }
    free(v);
    *roc = p;
    *n_roc = m;
    return PL_OK;
}

double pl_eval_auc(const pl_roc_point *roc, int n)
{
    double a = 0;
    for (int i = 1; i < n; i++)
        a += (roc[i].far - roc[i - 1].far) * (roc[i].tar + roc[i - 1].tar) / 2;
    return a;
}

double pl_eval_eer(const pl_roc_point *roc, int n, float *thr)
{
    /* FAR rises and FRR falls along the curve; find where they cross. */
    for (int i = 1; i < n; i++) {
        double far_a = roc[i - 1].far, frr_a = 1 - roc[i - 1].tar;
        double far_b = roc[i].far, frr_b = 1 - roc[i].tar;
        if (far_b < frr_b) continue;
        double den = (far_b - far_a) - (frr_b - frr_a);
        double t = den > 0 ? (frr_a - far_a) / den : 0;
        if (thr) *thr = (float)(roc[i - 1].thr + t * (roc[i].thr - roc[i - 1].thr));
        return far_a + t * (far_b - far_a);
    }
    if (thr) *thr = n ? roc[n - 1].thr : 0;
    return 1;
}

double pl_eval_tar_at_far(const pl_roc_point *roc, int n, double far, float *thr)
{
    int best = 0;
    for (int i = 0; i < n; i++)
        if (roc[i].far <= far + 1e-12) best = i;
    if (thr) *thr = n ? roc[best].thr : 0;
    return n ? roc[best].tar : 0;
}

double pl_eval_rank_credit(const float *scores, int n, int truth, int k)
{
    if (truth < 0 || truth >= n) return 0;
    int above = 0, tied = 0;
    for (int i = 0; i < n; i++) {
        if (i == truth) continue;
        above += scores[i] > scores[truth];
        tied += scores[i] == scores[truth];
    }
    int in = k - above;
    if (in <= 0) return 0;
    if (in > tied + 1) in = tied + 1;
    return (double)in / (tied + 1);
}

float pl_eval_iou(const float a[4], const float b[4])
{
    float ix = fminf(a[0] + a[2], b[0] + b[2]) - fmaxf(a[0], b[0]);
    float iy = fminf(a[1] + a[3], b[1] + b[3]) - fmaxf(a[1], b[1]);
    if (ix <= 0 || iy <= 0) return 0;
    float inter = ix * iy;
    float uni = a[2] * a[3] + b[2] * b[3] - inter;
    return uni > 0 ? inter / uni : 0;
}

typedef struct pair_iou {
    float iou;
    int t, d;
} pair_iou;

static int by_iou_desc(const void *a, const void *b)
{
    const pair_iou *x = a, *y = b;
    if (x->iou != y->iou) return (x->iou < y->iou) - (x->iou > y->iou);
    if (x->t != y->t) return x->t - y->t; /* deterministic among ties */
    return x->d - y->d;
}

pl_status pl_eval_match_boxes(const float (*truth)[4], int n_truth, const float (*det)[4],
                              int n_det, float min_iou, int *truth_to_det, int *det_to_truth,
                              float *iou_out, pl_error *err)
{
    int *t2d = truth_to_det ? truth_to_det : malloc((size_t)(n_truth + 1) * sizeof *t2d);
    int *d2t = det_to_truth ? det_to_truth : malloc((size_t)(n_det + 1) * sizeof *d2t);
    pair_iou *pairs = malloc((size_t)(n_truth * n_det + 1) * sizeof *pairs);
    pl_status st = PL_OK;
    if (!t2d || !d2t || !pairs) {
        st = pl_fail(err, PL_ERR_NOMEM, "out of memory");
        goto done;
    }
    int m = 0;
    for (int t = 0; t < n_truth; t++)
        for (int d = 0; d < n_det; d++) {
            float v = pl_eval_iou(truth[t], det[d]);
            if (v >= min_iou) pairs[m++] = (pair_iou){v, t, d};
        }
    qsort(pairs, (size_t)m, sizeof *pairs, by_iou_desc);
    for (int t = 0; t < n_truth; t++) {
        t2d[t] = -1;
        if (iou_out) iou_out[t] = 0;
    }
    for (int d = 0; d < n_det; d++) d2t[d] = -1;
    for (int i = 0; i < m; i++) {
        if (t2d[pairs[i].t] >= 0 || d2t[pairs[i].d] >= 0) continue;
        t2d[pairs[i].t] = pairs[i].d;
        d2t[pairs[i].d] = pairs[i].t;
        if (iou_out) iou_out[pairs[i].t] = pairs[i].iou;
    }
done:
    if (t2d != truth_to_det) free(t2d);
    if (d2t != det_to_truth) free(d2t);
    free(pairs);
    return st;
}
