/* test_engine_ops.c — every reference operator on tiny hand-computed inputs. */
#include <stdio.h>

#include "engine_helpers.h"
#include "test.h"

#define N_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Runs a one-input graph in reference mode and compares it to want. */
static void expect(pl_graph *g, const float *x, int rank, const int64_t *dims,
                   const float *want, int n_want, int want_rank, const int64_t *want_dims)
{
    pl_error err = {0};
    int r = 0;
    int64_t od[PL_MAX_RANK];
    float *y = h_run(g, 1, PL_KERNELS_REFERENCE, x, rank, dims, 0, &r, od, &err);
    CHECK_MSG(y != NULL, "run failed: %s", err.msg);
    CHECK_EQ_INT(r, want_rank);
    for (int i = 0; i < r; i++) CHECK_EQ_INT(od[i], want_dims[i]);
    float *yy = y;
    y = NULL;
    int64_t m = 1;
    for (int i = 0; i < r; i++) m *= od[i];
    CHECK_EQ_INT(m, n_want);
    for (int i = 0; i < n_want; i++) {
        if (!(fabs(yy[i] - want[i]) <= 1e-5 * (1 + fabs(want[i])))) {
            float a = yy[i];
            free(yy);
            pl_graph_free(g);
            TEST_FAIL_("element %d: got %.7g want %.7g", i, a, want[i]);
        }
    }
    free(yy);
    pl_graph_free(g);
}

static float seq[64] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                        17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

TEST(conv_valid_2x2)
{
    pl_graph *g = pl_graph_new("t");
    int64_t xd[4] = {1, 3, 3, 1}, wd[4] = {1, 2, 2, 1};
    float ones[4] = {1, 1, 1, 1};
    int x = h_input(g, "x", 4, xd), w = h_const(g, "w", 4, wd, ones), y;
    pl_node *n = h_node(g, PL_OP_CONV2D, 3, x, w, -1, 0, &y);
    n->params.conv.padding = PL_PAD_VALID;
    pl_graph_add_output(g, y);
    float want[4] = {12, 16, 24, 28};
    int64_t od[4] = {1, 2, 2, 1};
    expect(g, seq, 4, xd, want, 4, 4, od);
}

TEST(conv_same_stride2_pads_bottom_right)
{
    pl_graph *g = pl_graph_new("t");
    int64_t xd[4] = {1, 4, 4, 1}, wd[4] = {1, 3, 3, 1}, bd[1] = {1};
    float ones[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1}, bias[1] = {0.5f};
    int x = h_input(g, "x", 4, xd), w = h_const(g, "w", 4, wd, ones), b = h_const(g, "b", 1, bd, bias), y;
    pl_node *n = h_node(g, PL_OP_CONV2D, 3, x, w, b, 0, &y);
    n->params.conv.padding = PL_PAD_SAME;
    n->params.conv.stride_h = n->params.conv.stride_w = 2;
    pl_graph_add_output(g, y);
    /* TF SAME: total pad 1, all of it at the bottom/right. */
    float want[4] = {54.5f, 45.5f, 72.5f, 54.5f};
    int64_t od[4] = {1, 2, 2, 1};
    expect(g, seq, 4, xd, want, 4, 4, od);
}

TEST(conv_dilation_2)
{
    pl_graph *g = pl_graph_new("t");
    int64_t xd[4] = {1, 5, 5, 1}, wd[4] = {1, 3, 3, 1};
    float wv[9] = {1, 0, 0, 0, 1, 0, 0, 0, 2};
    float xv[25];
    for (int i = 0; i < 25; i++) xv[i] = (float)i;
    int x = h_input(g, "x", 4, xd), w = h_const(g, "w", 4, wd, wv), y;
    pl_node *n = h_node(g, PL_OP_CONV2D, 2, x, w, 0, 0, &y);
    n->params.conv.padding = PL_PAD_VALID;
    n->params.conv.dilation_h = n->params.conv.dilation_w = 2;
    pl_graph_add_output(g, y);
    float want[1] = {0 + 12 + 2 * 24}; /* taps (0,0), (2,2), (4,4) */
    int64_t od[4] = {1, 1, 1, 1};
    expect(g, xv, 4, xd, want, 1, 4, od);
}

TEST(conv_groups_and_explicit_pads)
{
    pl_graph *g = pl_graph_new("t");
    int64_t xd[4] = {1, 1, 1, 4}, wd[4] = {2, 1, 1, 2};
    float wv[4] = {1, 1, 1, -1}, xv[4] = {1, 2, 3, 4};
    int x = h_input(g, "x", 4, xd), w = h_const(g, "w", 4, wd, wv), y;
    pl_node *n = h_node(g, PL_OP_CONV2D, 2, x, w, 0, 0, &y);
    n->params.conv.groups = 2;
    n->params.conv.pad_top = 1; /* explicit: a zero row above */
    pl_graph_add_output(g, y);
    float want[4] = {0, 0, 3, -1};
    int64_t od[4] = {1, 2, 1, 2};
    expect(g, xv, 4, xd, want, 4, 4, od);
}

TEST(conv_depthwise_same_relu6)
{
    pl_graph *g = pl_graph_new("t");
    int64_t xd[4] = {1, 2, 2, 2}, wd[4] = {2, 3, 3, 1};
    float wv[18];
    for (int i = 0; i < 9; i++) wv[i] = 1, wv[9 + i] = -1;
    float xv[8] = {1, 1, 2, 1, 3, 1, 4, 1}; /* ch0: 1 2 3 4, ch1: all 1 */
    int x = h_input(g, "x", 4, xd), w = h_const(g, "w", 4, wd, wv), y;
    pl_node *n = h_node(g, PL_OP_CONV2D, 2, x, w, 0, 0, &y);
    n->params.conv.groups = 2;
    n->params.conv.padding = PL_PAD_SAME;
    n->params.act = PL_ACT_RELU6;
    pl_graph_add_output(g, y);
    /* ch0 sums every pixel (10) -> clipped to 6; ch1 = -4 -> 0 */
    float want[8] = {6, 0, 6, 0, 6, 0, 6, 0};
    int64_t od[4] = {1, 2, 2, 2};
    expect(g, xv, 4, xd, want, 8, 4, od);
}

TEST(fc_flattens_nhwc_and_prelu)
{
    pl_graph *g = pl_graph_new("t");
    int64_t xd[4] = {1, 2, 2, 1}, wd[2] = {2, 4}, bd[1] = {2}, sd[1] = {1};
    float wv[8] = {1, 1, 1, 1, -1, 0, 0, 0}, bv[2] = {0, 0}, sv[1] = {0.25f};
    int x = h_input(g, "x", 4, xd), w = h_const(g, "w", 2, wd, wv);
    int b = h_const(g, "b", 1, bd, bv), sl = h_const(g, "s", 1, sd, sv), y;
    pl_node *n = h_node(g, PL_OP_FULLY_CONNECTED, 4, x, w, b, sl, &y);
    n->params.act = PL_ACT_PRELU;
    pl_graph_add_output(g, y);
    float want[2] = {10, -0.25f};
    int64_t od[2] = {1, 2};
    expect(g, seq, 4, xd, want, 2, 2, od);
}

TEST(maxpool_same_and_valid)
{
    pl_graph *g = pl_graph_new("t");
    int64_t xd[4] = {1, 3, 3, 1};
    int x = h_input(g, "x", 4, xd), y;
    pl_node *n = h_node(g, PL_OP_MAX_POOL, 1, x, 0, 0, 0, &y);
    n->params.pool = (pl_pool_params){.kh = 2, .kw = 2, .stride_h = 2, .stride_w = 2, .padding = PL_PAD_SAME};
    pl_graph_add_output(g, y);
    float want[4] = {5, 6, 8, 9};
    int64_t od[4] = {1, 2, 2, 1};
    expect(g, seq, 4, xd, want, 4, 4, od);

    g = pl_graph_new("t");
    x = h_input(g, "x", 4, xd);
    n = h_node(g, PL_OP_MAX_POOL, 1, x, 0, 0, 0, &y);
    n->params.pool = (pl_pool_params){.kh = 2, .kw = 2, .stride_h = 2, .stride_w = 2, .padding = PL_PAD_VALID};
    pl_graph_add_output(g, y);
    float want2[1] = {5};
    int64_t od2[4] = {1, 1, 1, 1};
    expect(g, seq, 4, xd, want2, 1, 4, od2);
}

TEST(avgpool_same_excludes_padding)
{
    pl_graph *g = pl_graph_new("t");
    int64_t xd[4] = {1, 3, 3, 1};
    int x = h_input(g, "x", 4, xd), y;
    pl_node *n = h_node(g, PL_OP_AVG_POOL, 1, x, 0, 0, 0, &y);
    n->params.pool = (pl_pool_params){.kh = 2, .kw = 2, .stride_h = 2, .stride_w = 2, .padding = PL_PAD_SAME};
    pl_graph_add_output(g, y);
    float want[4] = {3, 4.5f, 7.5f, 9};
    int64_t od[4] = {1, 2, 2, 1};
    expect(g, seq, 4, xd, want, 4, 4, od);
}

TEST(avgpool_onnx_explicit_pads_include)
{
    for (int inc = 0; inc < 2; inc++) {
        pl_graph *g = pl_graph_new("t");
        int64_t xd[4] = {1, 3, 3, 1};
        int x = h_input(g, "x", 4, xd), y;
        pl_node *n = h_node(g, PL_OP_AVG_POOL, 1, x, 0, 0, 0, &y);
        n->params.pool = (pl_pool_params){.kh = 3, .kw = 3, .stride_h = 2, .stride_w = 2,
                                          .padding = PL_PAD_EXPLICIT, .pad_top = 1, .pad_left = 1,
                                          .pad_bottom = 1, .pad_right = 1, .count_include_pad = inc};
        pl_graph_add_output(g, y);
        /* windows at the 4 corners: 2x2 valid pixels each */
        float d = inc ? 9.0f : 4.0f;
        float want[4] = {(1 + 2 + 4 + 5) / d, (2 + 3 + 5 + 6) / d, (4 + 5 + 7 + 8) / d, (5 + 6 + 8 + 9) / d};
        int64_t od[4] = {1, 2, 2, 1};
        expect(g, seq, 4, xd, want, 4, 4, od);
    }
}

TEST(global_avg_pool)
{
    pl_graph *g = pl_graph_new("t");
    int64_t xd[4] = {1, 2, 2, 2};
    int x = h_input(g, "x", 4, xd), y;
    pl_node *n = h_node(g, PL_OP_AVG_POOL, 1, x, 0, 0, 0, &y);
    n->params.pool.global = 1;
    pl_graph_add_output(g, y);
    float want[2] = {4, 5};
    int64_t od[4] = {1, 1, 1, 2};
    expect(g, seq, 4, xd, want, 2, 4, od);
}

TEST(binary_broadcasting)
{
    /* [2,1] + [1,3] -> [2,3] */
    pl_graph *g = pl_graph_new("t");
    int64_t xd[2] = {2, 1}, cd[2] = {1, 3};
    float cv[3] = {10, 20, 30};
    int x = h_input(g, "x", 2, xd), c = h_const(g, "c", 2, cd, cv), y;
    h_node(g, PL_OP_ADD, 2, x, c, 0, 0, &y);
    pl_graph_add_output(g, y);
    float want[6] = {11, 21, 31, 12, 22, 32};
    int64_t od[2] = {2, 3};
    expect(g, seq, 2, xd, want, 6, 2, od);

    /* per-channel [3] against [1,2,2,3], constant first: c - x */
    g = pl_graph_new("t");
    int64_t xd2[4] = {1, 2, 2, 3}, cd2[1] = {3};
    x = h_input(g, "x", 4, xd2);
    c = h_const(g, "c", 1, cd2, cv);
    h_node(g, PL_OP_SUB, 2, c, x, 0, 0, &y);
    pl_graph_add_output(g, y);
    float want2[12];
    for (int i = 0; i < 12; i++) want2[i] = cv[i % 3] - seq[i];
    expect(g, seq, 4, xd2, want2, 12, 4, xd2);
}

TEST(binary_ops_and_fused_relu)
{
    pl_op ops[] = {PL_OP_MUL, PL_OP_DIV, PL_OP_MAXIMUM, PL_OP_MINIMUM, PL_OP_POW, PL_OP_SQUARED_DIFF};
    float a[4] = {1, -2, 3, 4}, bv[4] = {2, 2, -1, 0.5f};
    float want[][4] = {{2, -4, -3, 2}, {0.5f, -1, -3, 8}, {2, 2, 3, 4}, {1, -2, -1, 0.5f},
                       {1, 4, 1.0f / 3, 2}, {1, 16, 16, 12.25f}};
    for (int k = 0; k < N_OF(ops); k++) {
        pl_graph *g = pl_graph_new("t");
        int64_t d[1] = {4};
        int x = h_input(g, "x", 1, d), c = h_const(g, "c", 1, d, bv), y;
        h_node(g, ops[k], 2, x, c, 0, 0, &y);
        pl_graph_add_output(g, y);
        expect(g, a, 1, d, want[k], 4, 1, d);
    }
    pl_graph *g = pl_graph_new("t");
    int64_t d[1] = {4};
    int x = h_input(g, "x", 1, d), c = h_const(g, "c", 1, d, bv), y;
    pl_node *n = h_node(g, PL_OP_ADD, 2, x, c, 0, 0, &y);
    n->params.act = PL_ACT_RELU;
    pl_graph_add_output(g, y);
    float w2[4] = {3, 0, 2, 4.5f};
    expect(g, a, 1, d, w2, 4, 1, d);
}

TEST(unary_ops)
{
    pl_op ops[] = {PL_OP_NEG, PL_OP_ABS, PL_OP_RELU, PL_OP_RELU6, PL_OP_CLIP, PL_OP_LEAKY_RELU,
                   PL_OP_SIGMOID, PL_OP_TANH, PL_OP_EXP};
    float a[4] = {-1, 0.5f, 7, -8};
    for (int k = 0; k < N_OF(ops); k++) {
        pl_graph *g = pl_graph_new("t");
        int64_t d[1] = {4};
        int x = h_input(g, "x", 1, d), y;
        pl_node *n = h_node(g, ops[k], 1, x, 0, 0, 0, &y);
        n->params.alpha = 0.2f;
        n->params.clip.lo = -2;
        n->params.clip.hi = 1;
        pl_graph_add_output(g, y);
        float want[4];
        for (int i = 0; i < 4; i++) {
            float v = a[i];
            switch (ops[k]) {
            case PL_OP_NEG: want[i] = -v; break;
            case PL_OP_ABS: want[i] = fabsf(v); break;
            case PL_OP_RELU: want[i] = v > 0 ? v : 0; break;
            case PL_OP_RELU6: want[i] = v < 0 ? 0 : v > 6 ? 6 : v; break;
            case PL_OP_CLIP: want[i] = v < -2 ? -2 : v > 1 ? 1 : v; break;
            case PL_OP_LEAKY_RELU: want[i] = v >= 0 ? v : 0.2f * v; break;
            case PL_OP_SIGMOID: want[i] = 1.0f / (1.0f + expf(-v)); break;
            case PL_OP_TANH: want[i] = tanhf(v); break;
            default: want[i] = expf(v); break;
            }
        }
        expect(g, a, 1, d, want, 4, 1, d);
    }
}

TEST(prelu_and_affine)
{
    pl_graph *g = pl_graph_new("t");
    int64_t xd[2] = {2, 2}, sd[1] = {2};
    float xv[4] = {-1, -2, 3, -4}, sv[2] = {0.5f, 0.25f}, bv[2] = {1, 2};
    int x = h_input(g, "x", 2, xd), s = h_const(g, "s", 1, sd, sv), y;
    h_node(g, PL_OP_PRELU, 2, x, s, 0, 0, &y);
    pl_graph_add_output(g, y);
    float want[4] = {-0.5f, -0.5f, 3, -1};
    expect(g, xv, 2, xd, want, 4, 2, xd);

    g = pl_graph_new("t");
    x = h_input(g, "x", 2, xd);
    s = h_const(g, "s", 1, sd, sv);
    int b = h_const(g, "b", 1, sd, bv);
    h_node(g, PL_OP_AFFINE, 3, x, s, b, 0, &y);
    pl_graph_add_output(g, y);
    float want2[4] = {0.5f, 1.5f, 2.5f, 1};
    expect(g, xv, 2, xd, want2, 4, 2, xd);
}

TEST(softmax_and_l2norm)
{
    pl_graph *g = pl_graph_new("t");
    int64_t xd[2] = {2, 2};
    float xv[4] = {0, 0, 1, 3};
    int x = h_input(g, "x", 2, xd), y;
    pl_node *n = h_node(g, PL_OP_SOFTMAX, 1, x, 0, 0, 0, &y);
    n->params.axis = -1;
    pl_graph_add_output(g, y);
    float e = expf(2);
    float want[4] = {0.5f, 0.5f, 1 / (1 + e), e / (1 + e)};
    expect(g, xv, 2, xd, want, 4, 2, xd);

    g = pl_graph_new("t");
    float xv2[4] = {3, 4, 0, 0};
    x = h_input(g, "x", 2, xd);
    n = h_node(g, PL_OP_L2_NORMALIZE, 1, x, 0, 0, 0, &y);
    n->params.axis = 1;
    pl_graph_add_output(g, y);
    float want2[4] = {0.6f, 0.8f, 0, 0};
    expect(g, xv2, 2, xd, want2, 4, 2, xd);

    /* softmax over axis 0 of [2,2] */
    g = pl_graph_new("t");
    x = h_input(g, "x", 2, xd);
    n = h_node(g, PL_OP_SOFTMAX, 1, x, 0, 0, 0, &y);
    n->params.axis = 0;
    pl_graph_add_output(g, y);
    float e1 = expf(1), e3 = expf(3);
    float want3[4] = {1 / (1 + e1), 1 / (1 + e3), e1 / (1 + e1), e3 / (1 + e3)};
    expect(g, xv, 2, xd, want3, 4, 2, xd);
}

TEST(reductions)
{
    int64_t xd[3] = {2, 2, 3};
    struct { pl_op op; int mask, keep; int rank; int64_t d[3]; float w[6]; int n; } cases[] = {
        {PL_OP_REDUCE_MEAN, 0x6, 0, 1, {2}, {3.5f, 9.5f}, 2},
        {PL_OP_REDUCE_SUM, 0x1, 1, 3, {1, 2, 3}, {8, 10, 12, 14, 16, 18}, 6},
        {PL_OP_REDUCE_MAX, 0x4, 0, 2, {2, 2}, {3, 6, 9, 12}, 4},
    };
    for (int k = 0; k < N_OF(cases); k++) {
        pl_graph *g = pl_graph_new("t");
        int x = h_input(g, "x", 3, xd), y;
        pl_node *n = h_node(g, cases[k].op, 1, x, 0, 0, 0, &y);
        n->params.reduce.axes_mask = cases[k].mask;
        n->params.reduce.keep_dims = cases[k].keep;
        pl_graph_add_output(g, y);
        expect(g, seq, 3, xd, cases[k].w, cases[k].n, cases[k].rank, cases[k].d);
    }
}

TEST(reshape_transpose_concat)
{
    pl_graph *g = pl_graph_new("t");
    int64_t xd[2] = {2, 3};
    int x = h_input(g, "x", 2, xd), r, y;
    pl_node *n = h_node(g, PL_OP_RESHAPE, 1, x, 0, 0, 0, &r);
    n->params.reshape.rank = 2;
    n->params.reshape.dims[0] = 3;
    n->params.reshape.dims[1] = -1;
    n = h_node(g, PL_OP_TRANSPOSE, 1, r, 0, 0, 0, &y);
    n->params.transpose.rank = 2;
    n->params.transpose.perm[0] = 1;
    n->params.transpose.perm[1] = 0;
    pl_graph_add_output(g, y);
    float want[6] = {1, 3, 5, 2, 4, 6};
    int64_t od[2] = {2, 3};
    expect(g, seq, 2, xd, want, 6, 2, od);

    g = pl_graph_new("t");
    int64_t cd[2] = {2, 1};
    float cv[2] = {-1, -2};
    x = h_input(g, "x", 2, xd);
    int c = h_const(g, "c", 2, cd, cv);
    n = h_node(g, PL_OP_CONCAT, 3, c, x, c, 0, &y);
    n->params.axis = -1;
    pl_graph_add_output(g, y);
    float want2[10] = {-1, 1, 2, 3, -1, -2, 4, 5, 6, -2};
    int64_t od2[2] = {2, 5};
    expect(g, seq, 2, xd, want2, 10, 2, od2);
}

TEST(transpose_4d_nchw)
{
    pl_graph *g = pl_graph_new("t");
    int64_t xd[4] = {1, 2, 2, 3}; /* NHWC -> NCHW */
    int x = h_input(g, "x", 4, xd), y;
    pl_node *n = h_node(g, PL_OP_TRANSPOSE, 1, x, 0, 0, 0, &y);
    n->params.transpose.rank = 4;
    int perm[4] = {0, 3, 1, 2};
    memcpy(n->params.transpose.perm, perm, sizeof perm);
    pl_graph_add_output(g, y);
    float want[12];
    for (int c = 0; c < 3; c++)
        for (int p = 0; p < 4; p++) want[c * 4 + p] = seq[p * 3 + c];
    int64_t od[4] = {1, 3, 2, 2};
    expect(g, seq, 4, xd, want, 12, 4, od);
}

TEST(pad_and_slice)
{
    pl_graph *g = pl_graph_new("t");
    int64_t xd[2] = {2, 2};
    int x = h_input(g, "x", 2, xd), y;
    pl_node *n = h_node(g, PL_OP_PAD, 1, x, 0, 0, 0, &y);
    n->params.pad.rank = 2;
    n->params.pad.before[0] = 1;
    n->params.pad.after[1] = 2;
    n->params.pad.value = -1;
    pl_graph_add_output(g, y);
    float want[12] = {-1, -1, -1, -1, 1, 2, -1, -1, 3, 4, -1, -1};
    int64_t od[2] = {3, 4};
    expect(g, seq, 2, xd, want, 12, 2, od);

    /* x[::-1, 1:] on a [3,4]; and a clamped end */
    g = pl_graph_new("t");
    int64_t xd2[2] = {3, 4};
    x = h_input(g, "x", 2, xd2);
    n = h_node(g, PL_OP_SLICE, 1, x, 0, 0, 0, &y);
    n->params.slice.rank = 2;
    n->params.slice.begin[0] = -1;
    n->params.slice.end[0] = INT64_MIN;
    n->params.slice.stride[0] = -1;
    n->params.slice.begin[1] = 1;
    n->params.slice.end[1] = 100;
    n->params.slice.stride[1] = 2;
    pl_graph_add_output(g, y);
    float want2[6] = {10, 12, 6, 8, 2, 4};
    int64_t od2[2] = {3, 2};
    expect(g, seq, 2, xd2, want2, 6, 2, od2);
}

TEST(unary_log_sqrt_rsqrt_identity)
{
    pl_op ops[] = {PL_OP_LOG, PL_OP_SQRT, PL_OP_RSQRT, PL_OP_IDENTITY};
    float a[3] = {0.25f, 1, 4};
    float want[][3] = {{logf(0.25f), 0, logf(4)}, {0.5f, 1, 2}, {2, 1, 0.5f}, {0.25f, 1, 4}};
    for (int k = 0; k < N_OF(ops); k++) {
        pl_graph *g = pl_graph_new("t");
        int64_t d[1] = {3};
        int x = h_input(g, "x", 1, d), y;
        h_node(g, ops[k], 1, x, 0, 0, 0, &y);
        pl_graph_add_output(g, y);
        expect(g, a, 1, d, want[k], 3, 1, d);
    }
}

TEST(conv_fused_leaky_clip_sigmoid_tanh)
{
    pl_act acts[] = {PL_ACT_LEAKY, PL_ACT_CLIP, PL_ACT_SIGMOID, PL_ACT_TANH};
    float xv[4] = {-2, -0.5f, 0.5f, 3};
    for (int k = 0; k < N_OF(acts); k++) {
        pl_graph *g = pl_graph_new("t");
        int64_t xd[4] = {1, 1, 4, 1}, wd[4] = {1, 1, 1, 1};
        float one = 1;
        int x = h_input(g, "x", 4, xd), w = h_const(g, "w", 4, wd, &one), y;
        pl_node *n = h_node(g, PL_OP_CONV2D, 2, x, w, 0, 0, &y);
        n->params.act = acts[k];
        n->params.alpha = 0.1f;
        n->params.clip.lo = -1;
        n->params.clip.hi = 1;
        pl_graph_add_output(g, y);
        float want[4];
        for (int i = 0; i < 4; i++) {
            float v = xv[i];
            want[i] = acts[k] == PL_ACT_LEAKY ? (v >= 0 ? v : 0.1f * v)
                    : acts[k] == PL_ACT_CLIP ? (v < -1 ? -1 : v > 1 ? 1 : v)
                    : acts[k] == PL_ACT_SIGMOID ? 1 / (1 + expf(-v)) : tanhf(v);
        }
        expect(g, xv, 4, xd, want, 4, 4, xd);
    }
}
