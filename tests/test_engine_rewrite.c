/* test_engine_rewrite.c — each load-time rewrite keeps the outputs (within
 * 1e-5 relative) and leaves the expected ops. */
#include <stdio.h>

#include "engine_helpers.h"
#include "test.h"

static int64_t numel(int rank, const int64_t *d)
{
    int64_t n = 1;
    for (int i = 0; i < rank; i++) n *= d[i];
    return n;
}

/* Run, optimise, run again; compare every output; return node count. */
static int check_rewrite(pl_graph *g, int rank, const int64_t *dims)
{
    int64_t n = numel(rank, dims);
    float *x = malloc(sizeof(float) * (size_t)n);
    h_fill(x, n, 11);
    for (int64_t i = 0; i < n; i++) x[i] *= 8.0f; /* cross the ReLU6 knee */
    pl_error err = {0};
    float *before[4] = {0};
    int64_t counts[4];
    for (int o = 0; o < g->n_outputs; o++) {
        int r;
        int64_t od[PL_MAX_RANK];
        before[o] = h_run(g, 1, PL_KERNELS_REFERENCE, x, rank, dims, o, &r, od, &err);
        CHECK_MSG(before[o], "before: %s", err.msg);
        counts[o] = numel(r, od);
    }
    CHECK_MSG(pl_graph_optimize(g, &err) == PL_OK, "optimize: %s", err.msg);
    for (int o = 0; o < g->n_outputs; o++) {
        float *after = h_run(g, 2, PL_KERNELS_REFERENCE, x, rank, dims, o, NULL, NULL, &err);
        CHECK_MSG(after, "after: %s", err.msg);
        for (int64_t i = 0; i < counts[o]; i++)
            CHECK_MSG(fabsf(after[i] - before[o][i]) <= 1e-5f * (1 + fabsf(before[o][i])),
                      "output %d elem %lld: %.8g vs %.8g", o, (long long)i, after[i], before[o][i]);
        free(after);
        free(before[o]);
    }
    free(x);
    return g->n_nodes;
}

static int add_conv(pl_graph *g, int x, int cin, int cout, unsigned seed)
{
    int64_t wd[4] = {cout, 3, 3, cin}, bd[1] = {cout};
    float *w = malloc(sizeof(float) * (size_t)(cout * 9 * cin)), *b = malloc(sizeof(float) * (size_t)cout);
    h_fill(w, cout * 9 * cin, seed);
    h_fill(b, cout, seed + 1);
    int wt = pl_graph_add_const(g, "w", 4, wd, w), bt = pl_graph_add_const(g, "b", 1, bd, b), y;
    pl_node *n = h_node(g, PL_OP_CONV2D, 3, x, wt, bt, 0, &y);
    n->params.conv.padding = PL_PAD_SAME;
    return y;
}

static int chan_const(pl_graph *g, int c, unsigned seed, float scale)
{
    int64_t d[1] = {c};
    float *v = malloc(sizeof(float) * (size_t)c);
    h_fill(v, c, seed);
    for (int i = 0; i < c; i++) v[i] = v[i] * scale;
    return pl_graph_add_const(g, "c", 1, d, v);
}

TEST(rewrite_mtcnn_prelu_then_fused_into_conv)
{
    pl_graph *g = pl_graph_new("t");
    int64_t xd[4] = {1, 6, 5, 3};
    int x = h_input(g, "x", 4, xd);
    int y = add_conv(g, x, 3, 4, 1);
    int alpha = chan_const(g, 4, 5, 0.5f);
    int r1, n1, r2, n2, m, out;
    h_node(g, PL_OP_RELU, 1, y, 0, 0, 0, &r1);
    h_node(g, PL_OP_NEG, 1, y, 0, 0, 0, &n1);
    h_node(g, PL_OP_RELU, 1, n1, 0, 0, 0, &r2);
    h_node(g, PL_OP_NEG, 1, r2, 0, 0, 0, &n2);
    h_node(g, PL_OP_MUL, 2, alpha, n2, 0, 0, &m);
    h_node(g, PL_OP_ADD, 2, r1, m, 0, 0, &out);
    pl_graph_add_output(g, out);
    CHECK_EQ_INT(check_rewrite(g, 4, xd), 1);
    CHECK(g->nodes[0].op == PL_OP_CONV2D);
    CHECK(g->nodes[0].params.act == PL_ACT_PRELU);
    pl_graph_free(g);
}

TEST(rewrite_mobilefacenet_prelu)
{
    pl_graph *g = pl_graph_new("t");
    int64_t xd[4] = {1, 4, 4, 3};
    int x = h_input(g, "x", 4, xd);
    int y = add_conv(g, x, 3, 5, 2);
    int res;
    h_node(g, PL_OP_ADD, 2, y, y, 0, 0, &res); /* y has another reader: no fusion */
    int c = chan_const(g, 5, 8, 0.3f);
    int r, a, s, m, out;
    h_node(g, PL_OP_RELU, 1, y, 0, 0, 0, &r);
    h_node(g, PL_OP_ABS, 1, y, 0, 0, 0, &a);
    h_node(g, PL_OP_SUB, 2, y, a, 0, 0, &s);
    h_node(g, PL_OP_MUL, 2, c, s, 0, 0, &m);
    h_node(g, PL_OP_ADD, 2, r, m, 0, 0, &out);
    pl_graph_add_output(g, out);
    pl_graph_add_output(g, res);
    CHECK_EQ_INT(check_rewrite(g, 4, xd), 3);
    CHECK(g->nodes[2].op == PL_OP_PRELU);
    CHECK(g->nodes[0].params.act == PL_ACT_NONE);
    pl_graph_free(g);
}

TEST(rewrite_relu6_and_clip)
{
    /* MIN(RELU(x), 6) -> RELU6; MAX(MIN(x, 2), -1) -> CLIP; fused into the conv/add */
    pl_graph *g = pl_graph_new("t");
    int64_t xd[4] = {1, 3, 3, 2}, sd[1] = {1};
    float six = 6, two = 2, m1 = -1;
    int x = h_input(g, "x", 4, xd);
    int y = add_conv(g, x, 2, 2, 3);
    int k6 = h_const(g, "six", 1, sd, &six), k2 = h_const(g, "two", 0, sd, &two),
        km = h_const(g, "m1", 1, sd, &m1);
    int r, mn, ad, mn2, mx;
    h_node(g, PL_OP_RELU, 1, y, 0, 0, 0, &r);
    h_node(g, PL_OP_MINIMUM, 2, r, k6, 0, 0, &mn);
    h_node(g, PL_OP_ADD, 2, mn, x, 0, 0, &ad);
    h_node(g, PL_OP_MINIMUM, 2, k2, ad, 0, 0, &mn2);
    h_node(g, PL_OP_MAXIMUM, 2, mn2, km, 0, 0, &mx);
    pl_graph_add_output(g, mx);
    CHECK_EQ_INT(check_rewrite(g, 4, xd), 2);
    CHECK(g->nodes[0].params.act == PL_ACT_RELU6);
    CHECK(g->nodes[1].op == PL_OP_ADD && g->nodes[1].params.act == PL_ACT_CLIP);
    CHECK_NEAR(g->nodes[1].params.clip.lo, -1, 0);
    CHECK_NEAR(g->nodes[1].params.clip.hi, 2, 0);
    pl_graph_free(g);
}

TEST(rewrite_softmax)
{
    pl_graph *g = pl_graph_new("t");
    int64_t xd[4] = {1, 3, 2, 4};
    int x = h_input(g, "x", 4, xd);
    int mx, sb, ex, sm, dv;
    pl_node *n = h_node(g, PL_OP_REDUCE_MAX, 1, x, 0, 0, 0, &mx);
    n->params.reduce.axes_mask = 8;
    n->params.reduce.keep_dims = 1;
    h_node(g, PL_OP_SUB, 2, x, mx, 0, 0, &sb);
    h_node(g, PL_OP_EXP, 1, sb, 0, 0, 0, &ex);
    n = h_node(g, PL_OP_REDUCE_SUM, 1, ex, 0, 0, 0, &sm);
    n->params.reduce.axes_mask = 8;
    n->params.reduce.keep_dims = 1;
    h_node(g, PL_OP_DIV, 2, ex, sm, 0, 0, &dv);
    pl_graph_add_output(g, dv);
    CHECK_EQ_INT(check_rewrite(g, 4, xd), 1);
    CHECK(g->nodes[0].op == PL_OP_SOFTMAX);
    CHECK_EQ_INT(g->nodes[0].params.axis, 3);
    pl_graph_free(g);
}

TEST(rewrite_folds_affine_and_mul_add_into_conv)
{
    pl_graph *g = pl_graph_new("t");
    int64_t xd[4] = {1, 5, 5, 3};
    int x = h_input(g, "x", 4, xd);
    /* conv -> AFFINE -> RELU */
    int y = add_conv(g, x, 3, 4, 4), af, rl;
    h_node(g, PL_OP_AFFINE, 3, y, chan_const(g, 4, 20, 2), chan_const(g, 4, 21, 1), 0, &af);
    h_node(g, PL_OP_RELU, 1, af, 0, 0, 0, &rl);
    /* conv -> MUL(c) -> ADD(c), with the weights shared with a third conv */
    int y2 = add_conv(g, rl, 4, 4, 6), mu, ad;
    h_node(g, PL_OP_MUL, 2, chan_const(g, 4, 22, 3), y2, 0, 0, &mu);
    h_node(g, PL_OP_ADD, 2, mu, chan_const(g, 4, 23, 1), 0, 0, &ad);
    int w_shared = g->nodes[g->n_nodes - 3].inputs[1], y3;
    int in3[3] = {ad, w_shared, -1};
    y3 = pl_graph_add_tensor(g, "y3");
    pl_node *n = pl_graph_add_node(g, PL_OP_CONV2D, "c3", in3, 3, &y3, 1);
    n->params.conv.padding = PL_PAD_SAME;
    pl_graph_add_output(g, y3);
    CHECK_EQ_INT(check_rewrite(g, 4, xd), 3);
    CHECK(g->nodes[0].params.act == PL_ACT_RELU);
    CHECK(g->nodes[2].inputs[1] == w_shared); /* the shared weights were not changed */
    pl_graph_free(g);
}

TEST(rewrite_fuses_into_fc_and_add_and_keeps_outputs)
{
    pl_graph *g = pl_graph_new("t");
    int64_t xd[2] = {2, 6}, wd[2] = {3, 6};
    int x = h_input(g, "x", 2, xd);
    float *w = malloc(sizeof(float) * 18);
    h_fill(w, 18, 30);
    int wt = pl_graph_add_const(g, "w", 2, wd, w), f, sg, ad, th, lk, sl, pr;
    h_node(g, PL_OP_FULLY_CONNECTED, 2, x, wt, 0, 0, &f);
    h_node(g, PL_OP_SIGMOID, 1, f, 0, 0, 0, &sg);
    h_node(g, PL_OP_ADD, 2, sg, sg, 0, 0, &ad);
    h_node(g, PL_OP_TANH, 1, ad, 0, 0, 0, &th);
    /* a conv-less leaky on a graph output's producer: must stay */
    pl_node *n = h_node(g, PL_OP_LEAKY_RELU, 1, th, 0, 0, 0, &lk);
    n->params.alpha = 0.1f;
    int64_t sd[1] = {1};
    float a = 0.25f;
    sl = h_const(g, "slope", 1, sd, &a);
    int ad2;
    h_node(g, PL_OP_ADD, 2, lk, chan_const(g, 3, 31, 2), 0, 0, &ad2); /* [2,3] + [3] */
    h_node(g, PL_OP_PRELU, 2, ad2, sl, 0, 0, &pr);
    pl_graph_add_output(g, th);
    pl_graph_add_output(g, pr);
    CHECK_EQ_INT(check_rewrite(g, 2, xd), 4);
    CHECK(g->nodes[0].params.act == PL_ACT_SIGMOID);
    CHECK(g->nodes[1].params.act == PL_ACT_TANH);
    CHECK(g->nodes[2].op == PL_OP_LEAKY_RELU);
    CHECK(g->nodes[3].op == PL_OP_ADD && g->nodes[3].params.act == PL_ACT_PRELU);
    pl_graph_free(g);
}

TEST(rewrite_removes_dead_nodes)
{
    pl_graph *g = pl_graph_new("t");
    int64_t xd[2] = {1, 4};
    int x = h_input(g, "x", 2, xd), a, b, c;
    h_node(g, PL_OP_EXP, 1, x, 0, 0, 0, &a);
    h_node(g, PL_OP_NEG, 1, a, 0, 0, 0, &b); /* nobody reads b */
    h_node(g, PL_OP_ABS, 1, x, 0, 0, 0, &c);
    pl_graph_add_output(g, c);
    CHECK_EQ_INT(check_rewrite(g, 2, xd), 1);
    CHECK(g->nodes[0].op == PL_OP_ABS);
    pl_graph_free(g);
}

TEST(rewrite_composes_clamps_after_fused_relu)
{
    /* faceres: conv with a fused Relu, then Minimum(6), then Maximum(0) */
    pl_graph *g = pl_graph_new("t");
    int64_t xd[4] = {1, 4, 4, 2}, sd[1] = {1};
    float six = 6, zero = 0, half = 0.5f;
    int x = h_input(g, "x", 4, xd);
    int y = add_conv(g, x, 2, 3, 9);
    g->nodes[g->n_nodes - 1].params.act = PL_ACT_RELU;
    int mn, mx, mx2;
    h_node(g, PL_OP_MINIMUM, 2, y, h_const(g, "six", 1, sd, &six), 0, 0, &mn);
    h_node(g, PL_OP_MAXIMUM, 2, mn, h_const(g, "zero", 1, sd, &zero), 0, 0, &mx);
    /* a lone Maximum by a scalar on the graph input becomes a CLIP */
    h_node(g, PL_OP_MAXIMUM, 2, h_const(g, "half", 1, sd, &half), x, 0, 0, &mx2);
    pl_graph_add_output(g, mx);
    pl_graph_add_output(g, mx2);
    CHECK_EQ_INT(check_rewrite(g, 4, xd), 2);
    CHECK(g->nodes[0].op == PL_OP_CONV2D && g->nodes[0].params.act == PL_ACT_RELU6);
    CHECK(g->nodes[1].op == PL_OP_CLIP);
    CHECK_NEAR(g->nodes[1].params.clip.lo, 0.5, 0);
    pl_graph_free(g);
}
