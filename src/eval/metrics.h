/* metrics.h — owns the arithmetic of evaluation: ROC curves, AUC, EER,
 * TAR at a fixed FAR, rank-k identification credit with ties, box overlap
 * (IoU) and one-to-one box matching. Pure functions on plain arrays: no
 * files, no models, so each can be checked on a hand-computed case
 * (tests/test_eval_metrics.c).
 *
 * Convention everywhere: a pair is ACCEPTED when score >= threshold.
 * FAR = accepted impostor pairs / impostor pairs; TAR = accepted genuine
 * pairs / genuine pairs; FRR = 1 - TAR.
 */
#ifndef PL_EVAL_METRICS_H
#define PL_EVAL_METRICS_H

#include "pasalista.h"

/* ROC of n scored pairs (genuine[i] = 1 for same person). Points run from
 * the strictest threshold (FAR = TAR = 0, thr just above the top score)
 * to the loosest (FAR = TAR = 1): one point per distinct score, so tied
 * scores move FAR and TAR together. *roc is malloc'd (free()). Needs at
 * least one genuine and one impostor pair. */
pl_status pl_eval_roc(const float *scores, const unsigned char *genuine, int n,
                      pl_roc_point **roc, int *n_roc, pl_error *err);

/* Area under the ROC (trapezoids; equals P(genuine > impostor) + half the
 * ties). */
double pl_eval_auc(const pl_roc_point *roc, int n);

/* Equal error rate: where FAR = FRR, linearly interpolated between the
 * two ROC points that straddle it; *thr gets the interpolated threshold. */
double pl_eval_eer(const pl_roc_point *roc, int n, float *thr);

/* The best TAR whose FAR is at most far, and the threshold giving it
 * (the loosest one that still keeps FAR <= far). */
double pl_eval_tar_at_far(const pl_roc_point *roc, int n, double far, float *thr);

/* How much a query counts as found within the first k ranks, given its
 * scores against n classes and the index of the right one. Ties are
 * broken at random, so the credit is the probability of being in the top
 * k: with g classes strictly above and t others tied with the truth,
 * credit = clamp(k - g, 0, t + 1) / (t + 1). */
double pl_eval_rank_credit(const float *scores, int n, int truth, int k);

/* Intersection over union of two boxes [x, y, w, h]. */
float pl_eval_iou(const float a[4], const float b[4]);

/* Pair annotated boxes with detected boxes one-to-one, best overlap first
 * (greedy, the usual detection-benchmark rule); a pair needs IoU >=
 * min_iou. truth_to_det[i] = detection index or -1; det_to_truth likewise
 * (either may be NULL). iou_out[i] (may be NULL) gets the pair's IoU. */
pl_status pl_eval_match_boxes(const float (*truth)[4], int n_truth, const float (*det)[4],
                              int n_det, float min_iou, int *truth_to_det, int *det_to_truth,
                              float *iou_out, pl_error *err);

#endif
