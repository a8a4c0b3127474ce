/* MTCNN geometry that needs no network: NMS and the pyramid. */
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
