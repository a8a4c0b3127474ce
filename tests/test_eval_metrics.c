/* The evaluation arithmetic on cases small enough to do by hand. */
#include <stdlib.h>

#include "eval/eval.h"
#include "eval/metrics.h"
#include "test.h"

/* Three pairs: genuine 0.9, impostor 0.5, genuine 0.3.
 * Thresholds from strict to loose:
 *   > 0.9  : FAR 0, TAR 0
 *   0.9    : FAR 0, TAR 1/2
 *   0.5    : FAR 1, TAR 1/2
 *   0.3    : FAR 1, TAR 1
 * AUC = 1/2 (P(genuine > impostor): 0.9 > 0.5 yes, 0.3 > 0.5 no).
 * FRR = 1/2 at both 0.9 and 0.5, FAR goes 0 -> 1 between them; they cross
 * halfway: EER = 1/2, threshold halfway from 0.9 to 0.5 = 0.7. */
TEST(roc_with_three_pairs)
{
    float s[3] = {0.9f, 0.5f, 0.3f};
    unsigned char g[3] = {1, 0, 1};
    pl_roc_point *roc;
    int n;
    CHECK(pl_eval_roc(s, g, 3, &roc, &n, NULL) == PL_OK);
    CHECK_EQ_INT(n, 4);
    CHECK(roc[0].thr > 0.9f);
    CHECK_NEAR(roc[0].far, 0, 0);
    CHECK_NEAR(roc[0].tar, 0, 0);
    CHECK_NEAR(roc[1].thr, 0.9, 1e-7);
    CHECK_NEAR(roc[1].far, 0, 0);
    CHECK_NEAR(roc[1].tar, 0.5, 0);
    CHECK_NEAR(roc[2].thr, 0.5, 1e-7);
    CHECK_NEAR(roc[2].far, 1, 0);
    CHECK_NEAR(roc[2].tar, 0.5, 0);
    CHECK_NEAR(roc[3].far, 1, 0);
    CHECK_NEAR(roc[3].tar, 1, 0);
    CHECK_NEAR(pl_eval_auc(roc, n), 0.5, 1e-12);
    float thr;
    CHECK_NEAR(pl_eval_eer(roc, n, &thr), 0.5, 1e-12);
    CHECK_NEAR(thr, 0.7, 1e-6);
    /* Only FAR 0 is allowed below 1: the best is TAR 1/2 at 0.9. */
    CHECK_NEAR(pl_eval_tar_at_far(roc, n, 0.01, &thr), 0.5, 0);
    CHECK_NEAR(thr, 0.9, 1e-7);
    free(roc);
}

/* Ties: a genuine and an impostor pair with the same score move together
 * (one diagonal step, which the trapezoid counts as half). */
TEST(roc_ties_count_half)
{
    float s[2] = {0.6f, 0.6f};
    unsigned char g[2] = {1, 0};
    pl_roc_point *roc;
    int n;
    CHECK(pl_eval_roc(s, g, 2, &roc, &n, NULL) == PL_OK);
    CHECK_EQ_INT(n, 2);
    CHECK_NEAR(pl_eval_auc(roc, n), 0.5, 1e-12);
    free(roc);
}

/* EER by hand: genuine {0.8, 0.6, 0.4, 0.2}, impostor {0.5, 0.3, 0.1, 0.0}.
 * thr 0.8: FAR 0 FRR .75; 0.6: 0 / .5; 0.5: .25 / .5; 0.4: .25 / .25 -> the
 * curves meet exactly at a point: EER 0.25 at threshold 0.4. */
TEST(eer_by_hand)
{
    float s[8] = {0.8f, 0.6f, 0.4f, 0.2f, 0.5f, 0.3f, 0.1f, 0.0f};
    unsigned char g[8] = {1, 1, 1, 1, 0, 0, 0, 0};
    pl_roc_point *roc;
    int n;
    CHECK(pl_eval_roc(s, g, 8, &roc, &n, NULL) == PL_OK);
    float thr;
    CHECK_NEAR(pl_eval_eer(roc, n, &thr), 0.25, 1e-12);
    CHECK_NEAR(thr, 0.4, 1e-6);
    /* AUC: pairs (g > i) = 4 + 3 + 2 + 1... count: 0.8>all 4, 0.6>4, 0.4>3, 0.2>2 = 13/16 */
    CHECK_NEAR(pl_eval_auc(roc, n), 13.0 / 16, 1e-12);
    /* FAR <= 0.25 allows one impostor (0.5): best TAR 3/4 at threshold 0.4 */
    CHECK_NEAR(pl_eval_tar_at_far(roc, n, 0.25, &thr), 0.75, 1e-12);
    CHECK_NEAR(thr, 0.4, 1e-6);
    free(roc);
}

TEST(roc_needs_both_kinds)
{
    float s[2] = {0.1f, 0.2f};
    unsigned char g[2] = {1, 1};
    pl_roc_point *roc;
    int n;
    pl_error err = {0};
    CHECK(pl_eval_roc(s, g, 2, &roc, &n, &err) == PL_ERR_ARG);
    CHECK_CONTAINS(err.msg, "impostor");
}

/* Rank-1 with ties: the truth (index 0) ties with one other class at the
 * top: a coin flip, credit 1/2 at rank 1 and full credit at rank 2. */
TEST(rank1_with_ties)
{
    float s[4] = {0.7f, 0.7f, 0.2f, 0.1f};
    CHECK_NEAR(pl_eval_rank_credit(s, 4, 0, 1), 0.5, 1e-12);
    CHECK_NEAR(pl_eval_rank_credit(s, 4, 0, 2), 1.0, 1e-12);
    /* three-way tie below one better class: rank 2 credit 1/3, rank 3 2/3 */
    float t[4] = {0.9f, 0.5f, 0.5f, 0.5f};
    CHECK_NEAR(pl_eval_rank_credit(t, 4, 2, 1), 0.0, 1e-12);
    CHECK_NEAR(pl_eval_rank_credit(t, 4, 2, 2), 1.0 / 3, 1e-12);
    CHECK_NEAR(pl_eval_rank_credit(t, 4, 2, 3), 2.0 / 3, 1e-12);
    CHECK_NEAR(pl_eval_rank_credit(t, 4, 2, 5), 1.0, 1e-12);
    CHECK_NEAR(pl_eval_rank_credit(t, 4, 0, 1), 1.0, 1e-12);
}

TEST(iou_and_box_matching)
{
    float a[4] = {0, 0, 10, 10}, b[4] = {5, 0, 10, 10};
    CHECK_NEAR(pl_eval_iou(a, b), 50.0 / 150, 1e-6);
    float far_box[4] = {100, 100, 5, 5};
    CHECK_NEAR(pl_eval_iou(a, far_box), 0, 0);
    /* Two truths, three detections; detection 0 overlaps both truths but
     * truth 1 has a better partner (det 2), so each truth gets its best. */
    float truth[2][4] = {{0, 0, 10, 10}, {20, 0, 10, 10}};
    float det[3][4] = {{1, 0, 10, 10}, {50, 50, 10, 10}, {20, 0, 10, 10}};
    int t2d[2], d2t[3];
    float iou[2];
    CHECK(pl_eval_match_boxes((const float(*)[4])truth, 2, (const float(*)[4])det, 3, 0.4f, t2d, d2t, iou,
                              NULL) == PL_OK);
    CHECK_EQ_INT(t2d[0], 0);
    CHECK_EQ_INT(t2d[1], 2);
    CHECK_EQ_INT(d2t[1], -1);
    CHECK_NEAR(iou[1], 1, 1e-6);
    CHECK_NEAR(iou[0], 90.0 / 110, 1e-6);
}

/* Calibration on rows built by hand (2-d unit vectors):
 * students A (2 photos), B (2 photos), C (1 photo). */
TEST(calibration_rule_by_hand)
{
    float rows[5 * 2] = {1, 0, 0.8f, 0.6f, 0, 1, 0.6f, 0.8f, -1, 0};
    int label[5] = {0, 0, 1, 1, 2};
    const char *names[3] = {"A", "B", "C"};
    pl_calibration c = {0};
    /* genuine: A 0.8, B 0.8 -> median 0.8. Cross best: A-B 0.96 (0.8,0.6 vs
     * 0.6,0.8) >= 0.8 -> look-alikes. Impostor pairs left: A-C (-1, -0.8),
     * B-C (0, -0.6). Target 0.3 of 4 -> 1 allowed: accept just above the
     * second highest (-0.6). */
    CHECK(pl_calibrate_rows(rows, label, 5, 2, 3, names, 0.3, &c, NULL) == PL_OK);
    CHECK_EQ_INT(c.n_genuine, 2);
    CHECK_EQ_INT(c.n_impostor, 4);
    CHECK_EQ_INT(c.n_lookalikes, 1);
    CHECK_STR(c.lookalikes[0].a, "A");
    CHECK_STR(c.lookalikes[0].b, "B");
    CHECK_NEAR(c.lookalikes[0].score, 0.96, 1e-6);
    CHECK(c.accept > -0.6f && c.accept < -0.59f);
    CHECK_NEAR(c.far, 0.25, 1e-12);
    CHECK_NEAR(c.tar, 1, 0);
    pl_calibration_free(&c);
}

TEST(sbuf_base64_and_escape)
{
    pl_sbuf b = {0};
    pl_sbuf_base64(&b, (const unsigned char *)"Man", 3);
    pl_sbuf_base64(&b, (const unsigned char *)"Ma", 2);
    pl_sbuf_base64(&b, (const unsigned char *)"M", 1);
    CHECK_STR(b.s, "TWFuTWE=TQ==");
    b.len = 0;
    pl_sbuf_html(&b, "<a&\"b\">");
    CHECK_STR(b.s, "&lt;a&amp;&quot;b&quot;&gt;");
    pl_sbuf_free(&b);
}
