/* test_engine_session.c — memory planning, threads, fast vs reference. */
#include <stdio.h>
#include <string.h>

#include "engine/threadpool.h"
#include "engine_helpers.h"
#include "test.h"

/* A chain of `depth` 3x3 SAME convs (C channels) with ReLU, then a
 * residual ADD of the first and last maps and a global average pool. */
static pl_graph *conv_chain(int depth, int C, int *first_out)
{
    pl_graph *g = pl_graph_new("chain");
    int64_t xd[4] = {1, -1, -1, C}, wd[4] = {C, 3, 3, C}, bd[1] = {C};
    int x = h_input(g, "x", 4, xd), cur = x, first = -1;
    for (int i = 0; i < depth; i++) {
        float *w = malloc(sizeof(float) * (size_t)(C * 9 * C)), *b = malloc(sizeof(float) * (size_t)C);
        h_fill(w, C * 9 * C, 100 + i);
        h_fill(b, C, 200 + i);
        for (int k = 0; k < C * 9 * C; k++) w[k] *= 0.2f;
        int wt = pl_graph_add_const(g, "w", 4, wd, w), bt = pl_graph_add_const(g, "b", 1, bd, b), y;
        pl_node *n = h_node(g, PL_OP_CONV2D, 3, cur, wt, bt, 0, &y);
        n->params.conv.padding = PL_PAD_SAME;
        n->params.act = PL_ACT_RELU;
        cur = y;
        if (i == 0) first = y;
    }
    int s, p;
    h_node(g, PL_OP_ADD, 2, cur, first, 0, 0, &s);
    pl_node *n = h_node(g, PL_OP_AVG_POOL, 1, s, 0, 0, 0, &p);
    n->params.pool.global = 1;
    pl_graph_add_output(g, p);
    pl_graph_add_output(g, s);
    if (first_out) *first_out = first;
    return g;
}

TEST(planner_reuses_memory_in_a_chain)
{
    pl_graph *g = conv_chain(10, 8, NULL);
    pl_error err = {0};
    pl_session *s = pl_session_new(g, 1, &err);
    CHECK_MSG(s, "%s", err.msg);
    int64_t d[4] = {1, 16, 16, 8};
    CHECK_MSG(pl_session_set_input_shape(s, 0, 4, d, &err) == PL_OK, "%s", err.msg);
    size_t one = 16 * 16 * 8 * sizeof(float);
    size_t planned = pl_session_arena_bytes(s);
    /* 12 maps of `one` bytes (+ the pool) exist; at most 4 live at once:
     * input, first conv (kept for the residual), current in/out. */
    CHECK_MSG(planned <= 5 * one, "arena %zu bytes, one map %zu", planned, one);
    float *in = pl_session_input(s, 0);
    h_fill(in, 16 * 16 * 8, 7);
    CHECK(pl_session_run(s, &err) == PL_OK);
    int r;
    int64_t od[4];
    const float *y = pl_session_output(s, 1, &r, od);
    float *planned_out = malloc(one);
    memcpy(planned_out, y, one);
    float pooled = pl_session_output(s, 0, NULL, NULL)[3];

    /* keep_all: every tensor its own bytes, same results */
    pl_session_keep_all(s, 1);
    in = pl_session_input(s, 0);
    h_fill(in, 16 * 16 * 8, 7);
    CHECK(pl_session_run(s, &err) == PL_OK);
    CHECK_MSG(pl_session_arena_bytes(s) >= 12 * one, "keep_all arena %zu", pl_session_arena_bytes(s));
    y = pl_session_output(s, 1, &r, od);
    for (int i = 0; i < 16 * 16 * 8; i++) CHECK_NEAR(y[i], planned_out[i], 0);
    CHECK_NEAR(pl_session_output(s, 0, NULL, NULL)[3], pooled, 0);
    free(planned_out);
    pl_session_free(s);
    pl_graph_free(g);
}

TEST(threads_1_2_3_identical_and_fast_matches_reference)
{
    pl_graph *g = conv_chain(4, 16, NULL);
    int64_t d[4] = {1, 23, 19, 16};
    float *x = malloc(sizeof(float) * 23 * 19 * 16);
    h_fill(x, 23 * 19 * 16, 3);
    pl_error err = {0};
    int n = 23 * 19 * 16;
    float *ref = h_run(g, 1, PL_KERNELS_REFERENCE, x, 4, d, 1, NULL, NULL, &err);
    CHECK_MSG(ref, "%s", err.msg);
    for (int t = 1; t <= 3; t++) {
        float *y = h_run(g, t, PL_KERNELS_REFERENCE, x, 4, d, 1, NULL, NULL, &err);
        CHECK(y);
        for (int i = 0; i < n; i++) CHECK_MSG(y[i] == ref[i], "threads %d elem %d", t, i);
        free(y);
        float *f = h_run(g, t, PL_KERNELS_FAST, x, 4, d, 1, NULL, NULL, &err);
        float *f1 = h_run(g, 1, PL_KERNELS_FAST, x, 4, d, 1, NULL, NULL, &err);
        CHECK(f && f1);
        for (int i = 0; i < n; i++) {
            CHECK_MSG(fabsf(f[i] - ref[i]) <= 1e-4f * (1 + fabsf(ref[i])), "fast elem %d: %g vs %g", i,
                      f[i], ref[i]);
            CHECK_MSG(f[i] == f1[i], "fast threads %d elem %d", t, i);
        }
        free(f);
        free(f1);
    }
    free(ref);
    free(x);
    pl_graph_free(g);
}

TEST(session_reshapes_between_runs)
{
    pl_graph *g = conv_chain(2, 4, NULL);
    pl_error err = {0};
    pl_session *s = pl_session_new(g, 2, &err);
    CHECK(s);
    for (int h = 5; h <= 9; h += 4) {
        int64_t d[4] = {1, h, h + 1, 4};
        CHECK_MSG(pl_session_set_input_shape(s, 0, 4, d, &err) == PL_OK, "%s", err.msg);
        h_fill(pl_session_input(s, 0), h * (h + 1) * 4, 1);
        CHECK(pl_session_run(s, &err) == PL_OK);
        int r;
        int64_t od[4];
        CHECK(pl_session_output(s, 1, &r, od));
        CHECK_EQ_INT(od[1], h);
        CHECK_EQ_INT(od[2], h + 1);
    }
    int64_t bad[3] = {1, 5, 5};
    CHECK(pl_session_set_input_shape(s, 0, 3, bad, &err) == PL_ERR_ARG);
    CHECK_CONTAINS(err.msg, "rank 3");
    pl_session_free(s);
    pl_graph_free(g);
}

/* x [2,2,2,3] -> RESHAPE to [2,12] (a view of x) -> FULLY_CONNECTED to 4
 * outputs, the graph's output 0. *w: the weights (the graph owns them);
 * *x_id, *r_id: the input and the reshape's tensors. */
static pl_graph *reshape_fc(const float **w, int *x_id, int *r_id)
{
    pl_graph *g = pl_graph_new("t");
    int64_t xd[4] = {2, 2, 2, 3}, wd[2] = {4, 12};
    int f;
    *x_id = h_input(g, "x", 4, xd);
    float *wv = malloc(sizeof(float) * 48);
    h_fill(wv, 48, 5);
    *w = wv;
    int wt = pl_graph_add_const(g, "w", 2, wd, wv);
    pl_node *n = h_node(g, PL_OP_RESHAPE, 1, *x_id, 0, 0, 0, r_id);
    n->params.reshape.rank = 2;
    n->params.reshape.dims[0] = 2;
    n->params.reshape.dims[1] = 12;
    h_node(g, PL_OP_FULLY_CONNECTED, 2, *r_id, wt, -1, 0, &f);
    pl_graph_add_output(g, f);
    return g;
}

/* reshape_fc's output y for input in, against the plain sums. */
static void check_reshape_fc(const float *y, const float *in, const float *w)
{
    for (int b = 0; b < 2; b++)
        for (int o = 0; o < 4; o++) {
            float acc = 0;
            for (int k = 0; k < 12; k++) acc += in[b * 12 + k] * w[o * 12 + k];
            CHECK_NEAR(y[b * 4 + o], acc, 1e-5);
        }
}

TEST(reshape_is_a_view_and_batch_runs)
{
    const float *w;
    int x, r;
    pl_graph *g = reshape_fc(&w, &x, &r);
    int64_t xd[4] = {2, 2, 2, 3};
    pl_error err = {0};
    pl_session *s = pl_session_new(g, 2, &err);
    CHECK(pl_session_set_input_shape(s, 0, 4, xd, &err) == PL_OK);
    float *in = pl_session_input(s, 0);
    h_fill(in, 24, 9);
    CHECK(pl_session_tensor(s, r) == in); /* the reshape shares the input's bytes */
    CHECK(pl_session_run(s, &err) == PL_OK);
    check_reshape_fc(pl_session_output(s, 0, NULL, NULL), in, w);
    pl_session_free(s);
    pl_graph_free(g);
}

/* pl_session_run_from reads the caller's tensor where pl_session_run reads
 * the arena's copy: the same bits, through a view of the input (RESHAPE)
 * and a fused first convolution, and the arena input is left alone; an
 * input that is also a graph output is copied in. */
TEST(run_from_reads_the_callers_tensor)
{
    pl_error err = {0};
    int64_t xd[4] = {1, 9, 11, 4};
    size_t nx = 9 * 11 * 4;
    float *x = malloc(sizeof(float) * nx);
    h_fill(x, (int)nx, 31);
    for (int mode = 0; mode < 2; mode++) {
        pl_graph *g = conv_chain(3, 4, NULL);
        pl_session *s = pl_session_new(g, 2, &err);
        pl_session_set_kernels(s, mode ? PL_KERNELS_REFERENCE : PL_KERNELS_FAST);
        CHECK(pl_session_set_input_shape(s, 0, 4, xd, &err) == PL_OK);
        memcpy(pl_session_input(s, 0), x, sizeof(float) * nx);
        CHECK(pl_session_run(s, &err) == PL_OK);
        int64_t od[4];
        int rank;
        const float *y = pl_session_output(s, 1, &rank, od);
        size_t ny = (size_t)(od[0] * od[1] * od[2] * od[3]);
        float *want = malloc(sizeof(float) * ny);
        memcpy(want, y, sizeof(float) * ny);
        float *arena_in = pl_session_input(s, 0);
        h_fill(arena_in, (int)nx, 77); /* not what run_from reads */
        CHECK(pl_session_run_from(s, 0, x, &err) == PL_OK);
        CHECK(memcmp(pl_session_output(s, 1, NULL, NULL), want, sizeof(float) * ny) == 0);
        /* The nodes read the arena again afterwards. */
        memcpy(arena_in, x, sizeof(float) * nx);
        CHECK(pl_session_run(s, &err) == PL_OK);
        CHECK(memcmp(pl_session_output(s, 1, NULL, NULL), want, sizeof(float) * ny) == 0);
        free(want);
        pl_session_free(s);
        pl_graph_free(g);
    }
    /* A view of the input feeding a layer, and the input as an output. */
    const float *w;
    int in, r;
    pl_graph *g = reshape_fc(&w, &in, &r);
    int64_t vd[4] = {2, 2, 2, 3};
    pl_graph_add_output(g, in);
    pl_session *s = pl_session_new(g, 1, &err);
    CHECK(pl_session_set_input_shape(s, 0, 4, vd, &err) == PL_OK);
    CHECK(pl_session_run_from(s, 0, x, &err) == PL_OK);
    check_reshape_fc(pl_session_output(s, 0, NULL, NULL), x, w);
    CHECK(memcmp(pl_session_output(s, 1, NULL, NULL), x, sizeof(float) * 24) == 0);
    pl_session_free(s);
    pl_graph_free(g);
    free(x);
}

static void count_task(void *ctx, int t0, int t1)
{
    int *hits = ctx;
    for (int t = t0; t < t1; t++) __atomic_fetch_add(&hits[t], 1, __ATOMIC_RELAXED);
}

TEST(threadpool_runs_every_task_once)
{
    for (int threads = 1; threads <= 4; threads++) {
        pl_threadpool *p = pl_threadpool_new(threads);
        CHECK(p);
        CHECK_EQ_INT(pl_threadpool_size(p), threads);
        for (int n = 1; n <= 9; n++) {
            int hits[9] = {0};
            for (int rep = 0; rep < 20; rep++) pl_threadpool_run(p, n, count_task, hits);
            for (int t = 0; t < n; t++) CHECK_EQ_INT(hits[t], 20);
        }
        pl_threadpool_free(p);
    }
}

TEST(fpu_flushes_denormals)
{
    unsigned old = pl_fpu_fast_begin();
    volatile float tiny = 1e-39f; /* a denormal */
    volatile float y = tiny * 3.0f; /* DAZ reads tiny as 0 */
    pl_fpu_fast_end(old);
#if defined(__x86_64__)
    CHECK(y == 0.0f);
#else
    (void)y;
#endif
}
