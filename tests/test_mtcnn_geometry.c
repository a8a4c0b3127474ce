/* MTCNN geometry that needs no network: NMS and the pyramid. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/kernels.h"
#include "face/mtcnn.h"
#include "test.h"

static pl_mtcnn_box box(float x1, float y1, float x2, float y2, float score)
{
    pl_mtcnn_box b = {0};
    b.x1 = x1; b.y1 = y1; b.x2 = x2; b.y2 = y2; b.score = score;
    return b;
}

TEST(nms_union_keeps_best_of_overlapping_pair)
{
    pl_mtcnn_box b[3] = {box(0, 0, 9, 9, 0.8f), box(1, 1, 10, 10, 0.9f), box(50, 50, 59, 59, 0.7f)};
    int n = pl_mtcnn_nms(b, 3, 0.5f, 0);
    CHECK_EQ_INT(n, 2);
    CHECK_NEAR(b[0].score, 0.9, 1e-6); /* sorted, best first */
    CHECK_NEAR(b[1].x1, 50, 1e-6);
}

TEST(nms_union_iou_uses_plus_one_pixels)
{
    /* Boxes 0..9 and 5..14 (10 px each): intersection 5x10=50, union 150: IoU 1/3. */
    pl_mtcnn_box b[2] = {box(0, 0, 9, 9, 0.9f), box(5, 0, 14, 9, 0.8f)};
    CHECK_EQ_INT(pl_mtcnn_nms(b, 2, 0.34f, 0), 2);
    pl_mtcnn_box c[2] = {box(0, 0, 9, 9, 0.9f), box(5, 0, 14, 9, 0.8f)};
    CHECK_EQ_INT(pl_mtcnn_nms(c, 2, 0.33f, 0), 1);
}

TEST(nms_min_removes_box_inside_a_bigger_one)
{
    /* A small box fully inside a big one: IoU is small, but intersection
     * over the smaller area is 1, so "Min" removes it. */
    pl_mtcnn_box b[2] = {box(0, 0, 99, 99, 0.95f), box(10, 10, 29, 29, 0.9f)};
    CHECK_EQ_INT(pl_mtcnn_nms(b, 2, 0.7f, 0), 2);
    pl_mtcnn_box c[2] = {box(0, 0, 99, 99, 0.95f), box(10, 10, 29, 29, 0.9f)};
    CHECK_EQ_INT(pl_mtcnn_nms(c, 2, 0.7f, 1), 1);
}

/* NMS as first written: greedy in score order, fmaxf/fminf, IoU or
 * intersection over the smaller box. */
static int by_score(const void *a, const void *b)
{
    float sa = ((const pl_mtcnn_box *)a)->score, sb = ((const pl_mtcnn_box *)b)->score;
    return (sa < sb) - (sa > sb);
}

static int plain_nms(pl_mtcnn_box *b, int n, float threshold, int use_min)
{
    qsort(b, (size_t)n, sizeof *b, by_score);
    char gone[1024] = {0};
    for (int i = 0; i < n; i++) {
        if (gone[i]) continue;
        for (int j = i + 1; j < n; j++) {
            if (gone[j]) continue;
            float ix1 = fmaxf(b[i].x1, b[j].x1), iy1 = fmaxf(b[i].y1, b[j].y1);
            float ix2 = fminf(b[i].x2, b[j].x2), iy2 = fminf(b[i].y2, b[j].y2);
            if (ix2 < ix1 || iy2 < iy1) continue;
            float inter = (ix2 - ix1 + 1) * (iy2 - iy1 + 1);
            float ai = (b[i].x2 - b[i].x1 + 1) * (b[i].y2 - b[i].y1 + 1);
            float aj = (b[j].x2 - b[j].x1 + 1) * (b[j].y2 - b[j].y1 + 1);
            float overlap = use_min ? inter / fminf(ai, aj) : inter / (ai + aj - inter);
            if (overlap >= threshold) gone[j] = 1;
        }
    }
    int kept = 0;
    for (int i = 0; i < n; i++)
        if (!gone[i]) b[kept++] = b[i];
    return kept;
}

/* 700 crowded boxes (PNet's cells: rounded corners, negative zeros at the
 * edge, repeated scores, exact-threshold overlaps) through pl_mtcnn_nms
 * with and without AVX2: the boxes the plain loop keeps, in its order. */
static void check_nms_against_plain(void)
{
    enum { N = 700 };
    static pl_mtcnn_box in[N], ours[N], plain[N];
    unsigned seed = 12345;
    for (int i = 0; i < N; i++) {
        seed = seed * 1103515245u + 12345u;
        float x = roundf((float)(seed >> 8 & 1023) / 5.0f - 2.4f), side = (float)(6 + (seed >> 20) % 40);
        seed = seed * 1103515245u + 12345u;
        float y = roundf((float)(seed >> 8 & 1023) / 5.0f - 2.4f);
        in[i] = box(x, y, x + side - 1, y + side - 1, (float)((seed >> 16) % 50) / 50.0f);
    }
    in[1] = box(-0.0f, -0.0f, 9, 9, 0.5f); /* touches in[2] at exactly IoU 1/3 */
    in[2] = box(5, 0.0f, 14, 9, 0.5f);
    const float thresholds[] = {0.5f, 0.7f, 1.0f / 3.0f};
    for (int t = 0; t < 3; t++)
        for (int use_min = 0; use_min < 2; use_min++) {
            memcpy(ours, in, sizeof in);
            memcpy(plain, in, sizeof in);
            int n = pl_mtcnn_nms(ours, N, thresholds[t], use_min), m = plain_nms(plain, N, thresholds[t], use_min);
            CHECK_MSG(n == m && n > 20 && n < N - 20, "threshold %g min %d: kept %d, plain %d", thresholds[t],
                      use_min, n, m);
            CHECK(memcmp(ours, plain, (size_t)m * sizeof *ours) == 0);
        }
}

TEST(nms_matches_the_plain_loop) { check_nms_against_plain(); }

TEST(nms_without_avx2_matches_the_plain_loop)
{
    setenv("PL_CPU", "generic", 1);
    pl_cpu_reload();
    check_nms_against_plain();
    unsetenv("PL_CPU");
    pl_cpu_reload();
}

/* PNet's cells skipped by their logits (difference at or under the floor)
 * are exactly cells whose probability, computed as the SOFTMAX op does,
 * would not pass the threshold: 2 million pairs, dense around each
 * threshold's boundary. And the floor is within 0.02 of the boundary, so
 * few cells are computed in vain. */
TEST(pnet_logit_floor_skips_only_cells_under_threshold)
{
    const float thresholds[] = {0.6f, 0.7f, 0.5f, 0.95f, 0.05f};
    unsigned seed = 99;
    for (int t = 0; t < 5; t++) {
        float th = thresholds[t], floor = pl_mtcnn_logit_floor(th), edge = logf(th / (1 - th));
        CHECK(floor < edge && floor > edge - 0.02f);
        long wrong = 0;
        for (int i = 0; i < 400000; i++) {
            seed = seed * 1664525u + 1013904223u;
            float l0 = (float)(seed >> 8) / (float)(1 << 24) * 40.0f - 20.0f;
            seed = seed * 1664525u + 1013904223u;
            float u = (float)(seed >> 8) / (float)(1 << 24);
            float d = i % 2 ? edge + (u - 0.5f) * 0.06f : (u - 0.5f) * 30.0f;
            float l1 = l0 + d, p0, p1;
            pl_softmax_pair(l0, l1, &p0, &p1);
            if (l1 - l0 <= floor && p1 > th) wrong++;
        }
        CHECK_MSG(wrong == 0, "threshold %g: %ld cells skipped that pass", th, wrong);
    }
    CHECK(isinf(pl_mtcnn_logit_floor(0.0f)) && isinf(pl_mtcnn_logit_floor(1.0f)));
}

TEST(pyramid_starts_at_min_face_and_stops_at_short_side)
{
    float s[64];
    int n = pl_mtcnn_scales(1920, 1280, 20, 0.709f, s, 64);
    CHECK_NEAR(s[0], 12.0 / 20, 1e-6);
    /* last face size 20/0.709^(n-1) <= 1280 < 20/0.709^n */
    double last_face = 12.0 / s[n - 1];
    CHECK(last_face <= 1280);
    CHECK(last_face / 0.709 > 1280);
    CHECK_NEAR(s[1] / s[0], 0.709, 1e-5);
}
