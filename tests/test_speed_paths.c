/* test_speed_paths.c — the fast paths added for `take` give the same
 * results as the plain ones: the axis-aligned crop sampler against the
 * documented sampling loop, the grow-only arena across shrinking and
 * growing shapes, and the vectorised same-shape ADD against broadcasting.
 * Synthetic inputs only. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/kernels.h"
#include "engine_helpers.h"
#include "face/preprocess.h"
#include "image/image.h"
#include "test.h"

/* ---- crop sampler ---------------------------------------------------------- */

/* The sampling preprocess.h documents, written the slow obvious way:
 * k x k bilinear samples per output pixel, outside the image black, the
 * same operations in the same order. */
static void ref_sample(const pl_image *img, const float m[6], const pl_input_spec *spec, int k,
                       float *out)
{
    for (int y = 0; y < spec->h; y++)
        for (int x = 0; x < spec->w; x++) {
            float acc[3] = {0, 0, 0};
            for (int sy = 0; sy < k; sy++)
                for (int sx = 0; sx < k; sx++) {
                    float cx = (float)x + ((float)sx + 0.5f) / (float)k;
                    float cy = (float)y + ((float)sy + 0.5f) / (float)k;
                    float ix = m[0] * cx + m[1] * cy + m[2] - 0.5f;
                    float iy = m[3] * cx + m[4] * cy + m[5] - 0.5f;
                    int x0 = (int)floorf(ix), y0 = (int)floorf(iy);
                    float fx = ix - (float)x0, fy = iy - (float)y0;
                    float w[4] = {(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy};
                    for (int t = 0; t < 4; t++) {
                        int xx = x0 + (t & 1), yy = y0 + (t >> 1);
                        if (xx < 0 || yy < 0 || xx >= img->w || yy >= img->h || w[t] == 0) continue;
                        const uint8_t *p = img->px + ((size_t)yy * img->w + xx) * img->c;
                        acc[0] += w[t] * p[spec->bgr ? 2 : 0];
                        acc[1] += w[t] * p[1];
                        acc[2] += w[t] * p[spec->bgr ? 0 : 2];
                    }
                }
            for (int c = 0; c < 3; c++) {
                size_t o = spec->layout == PL_LAYOUT_NWHC ? ((size_t)x * spec->h + y) * 3 + c
                                                          : ((size_t)y * spec->w + x) * 3 + c;
                out[o] = (acc[c] * (1.0f / (float)(k * k)) - spec->mean[c]) * spec->scale[c];
            }
        }
}

/* RGB and RGBA (the fast paths read 4 bytes per pixel), boxes inside,
 * across every border (incl. the last row) and larger than the image,
 * upright (the axis-aligned path) and rotated (the general one). */
static void check_crops_in(int channels, int w, int h)
{
    pl_image img = {0};
    pl_error err = {0};
    CHECK(pl_image_new(w, h, channels, &img, &err) == PL_OK);
    unsigned s = 7;
    for (size_t i = 0; i < (size_t)img.w * img.h * channels; i++) {
        s = s * 1664525u + 1013904223u;
        img.px[i] = (uint8_t)(s >> 24);
    }
    float *a = malloc(sizeof(float) * 48 * 48 * 3), *b = malloc(sizeof(float) * 48 * 48 * 3);
    int bad = 0;
    for (int it = 0; it < 120; it++) {
        int size = it % 2 ? 24 : 48;
        /* boxes inside, across every border, and larger than the image */
        float x1 = (float)(it * 7 % (w + 23)) - 30.25f, y1 = (float)(it * 11 % (h + 19)) - 20.5f;
        float side = 6.0f + (float)(it * 13 % (w + h) / 2 * (it % 5 == 1 ? 3 : 1));
        float m[6];
        pl_box_to_affine(x1, y1, x1 + side - 1, y1 + side - 1, size, size, m);
        if (it % 4 == 3) { /* a rotated face: the general path */
            float ang = 0.05f * (float)(it % 13) - 0.3f, c = cosf(ang), sn = sinf(ang);
            float s0 = m[0];
            m[0] = s0 * c, m[1] = -s0 * sn, m[3] = s0 * sn, m[4] = s0 * c;
        }
        pl_input_spec spec = {size, size, it % 3 == 0, {127.5f, 127.5f, 127.5f},
                              {1 / 128.0f, 1 / 128.0f, 1 / 128.0f},
                              it % 2 ? PL_LAYOUT_NWHC : PL_LAYOUT_NHWC, 1};
        float scale = sqrtf(fabsf(m[0] * m[4] - m[1] * m[3]));
        int k = (int)ceilf(scale - 0.25f);
        k = k < 1 ? 1 : k > 6 ? 6 : k;
        pl_sample_affine(&img, m, &spec, a);
        ref_sample(&img, m, &spec, k, b);
        if (memcmp(a, b, sizeof(float) * (size_t)size * size * 3)) bad++;
    }
    CHECK_EQ_INT(bad, 0);
    free(a);
    free(b);
    pl_image_free(&img);
}

/* The small image puts most boxes across a border; the big one holds
 * whole boxes of every size, incl. those whose samples are far apart. */
static void check_crops(int channels)
{
    check_crops_in(channels, 97, 61);
    check_crops_in(channels, 423, 317);
}

TEST(axis_aligned_crops_match_the_plain_loop_bit_for_bit) { check_crops(3); }
TEST(axis_aligned_crops_of_rgba_match_bit_for_bit) { check_crops(4); }

/* The same through the SSE2 paths a CPU without AVX2 takes. */
TEST(crops_without_avx2_match_bit_for_bit)
{
    setenv("PL_CPU", "generic", 1);
    pl_cpu_reload();
    check_crops(3);
    check_crops(4);
    unsetenv("PL_CPU");
    pl_cpu_reload();
}

/* ---- arena --------------------------------------------------------------- */

/* x -> ADD(x, x) -> RELU: enough tensors for the planner to place. */
static pl_graph *add_relu(void)
{
    pl_graph *g = pl_graph_new("speed");
    int64_t any[4] = {1, -1, -1, 4};
    int x = h_input(g, "x", 4, any), a, r;
    h_node(g, PL_OP_ADD, 2, x, x, -1, -1, &a);
    h_node(g, PL_OP_RELU, 1, a, -1, -1, -1, &r);
    pl_graph_add_output(g, r);
    return g;
}

TEST(arena_grows_only_and_results_do_not_depend_on_shape_history)
{
    pl_graph *g = add_relu();
    pl_error err = {0};
    pl_session *s = pl_session_new(g, 2, &err);
    CHECK(s);
    static const int sizes[4] = {40, 8, 64, 8};
    size_t prev = 0;
    for (int i = 0; i < 4; i++) {
        int64_t d[4] = {1, sizes[i], sizes[i] + 3, 4};
        int64_t n = d[1] * d[2] * 4;
        CHECK(pl_session_set_input_shape(s, 0, 4, d, &err) == PL_OK);
        float *x = pl_session_input(s, 0);
        h_fill(x, n, (unsigned)i + 1);
        float *want = malloc(sizeof(float) * (size_t)n);
        for (int64_t k = 0; k < n; k++) want[k] = x[k] + x[k] > 0 ? x[k] + x[k] : 0.0f;
        CHECK(pl_session_run(s, &err) == PL_OK);
        const float *y = pl_session_output(s, 0, NULL, NULL);
        CHECK(memcmp(y, want, sizeof(float) * (size_t)n) == 0);
        size_t bytes = pl_session_arena_bytes(s);
        CHECK(bytes >= (size_t)n * sizeof(float));
        if (i == 1) CHECK(bytes < prev); /* what the plan uses shrinks ... */
        prev = bytes;
        free(want);
    }
    pl_session_free(s);
    pl_graph_free(g);
}

/* ---- element-wise ------------------------------------------------------------ */

TEST(same_shape_add_and_add_relu_match_scalar_sums)
{
    /* same shape: the vectorised loop, with and without a fused ReLU */
    pl_graph *g = pl_graph_new("speed-add");
    int64_t d[4] = {1, 5, 7, 9}, db[4] = {1, 5, 7, 9};
    int x = h_input(g, "x", 4, d);
    float bv[5 * 7 * 9];
    h_fill(bv, 5 * 7 * 9, 3);
    int b = h_const(g, "b", 4, db, bv), y, yr;
    h_node(g, PL_OP_ADD, 2, x, b, -1, -1, &y);
    h_node(g, PL_OP_ADD, 2, x, b, -1, -1, &yr)->params.act = PL_ACT_RELU;
    pl_graph_add_output(g, y);
    pl_graph_add_output(g, yr);
    float xv[5 * 7 * 9];
    h_fill(xv, 5 * 7 * 9, 4);
    pl_error err = {0};
    float *out = h_run(g, 1, PL_KERNELS_FAST, xv, 4, d, 0, NULL, NULL, &err);
    float *relu = h_run(g, 1, PL_KERNELS_FAST, xv, 4, d, 1, NULL, NULL, &err);
    CHECK_MSG(out && relu, "%s", err.msg);
    int negatives = 0;
    for (int i = 0; i < 5 * 7 * 9; i++) {
        float v = xv[i] + bv[i];
        CHECK(out[i] == v);
        CHECK(relu[i] == (v > 0.0f ? v : 0.0f));
        negatives += v < 0.0f;
    }
    CHECK(negatives > 0);
    free(out);
    free(relu);
    pl_graph_free(g);
}
