/* test_engine_random.c — random small graphs with random (often invalid)
 * parameters: validate, infer and run must never crash or read out of
 * bounds (run under `make asan`); wherever a graph is accepted, the fast
 * path and the optimised graph must agree with the reference. */
#include <stdio.h>

#include "engine_helpers.h"
#include "test.h"

static unsigned rng_state;
static int n_valid, n_ran, cur_seed;
static int rnd(int n) /* 0..n-1 */
{
    rng_state = rng_state * 1103515245u + 12345u;
    return (int)((rng_state >> 16) % (unsigned)n);
}
static int rnd_range(int lo, int hi) { return lo + rnd(hi - lo + 1); }

static int random_const(pl_graph *g, int rank)
{
    int64_t d[PL_MAX_RANK];
    for (int i = 0; i < rank; i++) d[i] = rnd_range(1, 4);
    int64_t n = 1;
    for (int i = 0; i < rank; i++) n *= d[i];
    float *v = malloc(sizeof(float) * (size_t)n);
    h_fill(v, n, (unsigned)rnd(1000));
    return pl_graph_add_const(g, "k", rank, d, v);
}

static void random_params(pl_node_params *p, int rank)
{
    p->act = (pl_act)rnd(8);
    if (p->act == PL_ACT_PRELU) p->act = PL_ACT_RELU;
    p->alpha = 0.1f;
    p->axis = rnd_range(-rank - 1, rank);
    p->conv.stride_h = rnd_range(1, 3);
    p->conv.stride_w = rnd_range(1, 3);
    p->conv.dilation_h = rnd_range(1, 2);
    p->conv.dilation_w = rnd_range(1, 2);
    p->conv.padding = (pl_padding)rnd(3);
    p->conv.pad_top = rnd(2);
    p->conv.pad_bottom = rnd(3);
    p->conv.pad_left = rnd(2);
    p->conv.pad_right = rnd(2);
    p->conv.groups = rnd(3) == 0 ? 2 : 1;
    p->pool = (pl_pool_params){rnd_range(1, 3), rnd_range(1, 3), rnd_range(1, 2), rnd_range(1, 2),
                               (pl_padding)rnd(3), rnd(2), rnd(2), rnd(2), rnd(2), rnd(2), rnd(5) == 0};
    p->reduce.axes_mask = rnd(1 << (rank > 0 ? rank : 1));
    p->reduce.keep_dims = rnd(2);
    p->reshape.rank = rnd_range(1, 3);
    for (int i = 0; i < 3; i++) p->reshape.dims[i] = rnd(3) ? rnd_range(1, 6) : -1;
    p->transpose.rank = rank;
    for (int i = 0; i < rank; i++) p->transpose.perm[i] = i;
    for (int i = rank - 1; i > 0; i--) {
        int j = rnd(i + 1), t = p->transpose.perm[i];
        p->transpose.perm[i] = p->transpose.perm[j];
        p->transpose.perm[j] = t;
    }
    p->pad.rank = rank;
    for (int i = 0; i < rank; i++) p->pad.before[i] = rnd(2), p->pad.after[i] = rnd(3);
    p->pad.value = 0.5f;
    p->slice.rank = rank;
    for (int i = 0; i < rank; i++) {
        p->slice.begin[i] = rnd_range(-3, 3);
        p->slice.end[i] = rnd(4) == 0 ? INT64_MAX : rnd_range(-3, 5);
        p->slice.stride[i] = rnd(4) == 0 ? -1 : rnd_range(1, 2);
    }
}

static void one_graph(void)
{
    pl_graph *g = pl_graph_new("random");
    int64_t xd[4] = {rnd_range(1, 2), rnd_range(1, 7), rnd_range(1, 7), rnd_range(1, 4)};
    int tensors[16], nt = 0;
    tensors[nt++] = h_input(g, "x", 4, xd);
    int last = tensors[0];
    int n_nodes = rnd_range(1, 6);
    for (int k = 0; k < n_nodes; k++) {
        pl_op op = (pl_op)rnd(PL_OP_COUNT);
        /* no NaN makers: NaN semantics of max/min/relu differ between
         * runtimes, and rewrites may legitimately change them */
        if (op == PL_OP_POW || op == PL_OP_LOG || op == PL_OP_SQRT || op == PL_OP_RSQRT ||
            op == PL_OP_DIV)
            op = PL_OP_MUL;
        int a = tensors[rnd(nt)];
        int rank = g->tensors[a].rank; /* declared or 0 before inference */
        int in[4] = {a, -1, -1, -1}, n_in = 1;
        if (op == PL_OP_CONV2D) {
            int64_t wd[4] = {rnd_range(1, 4), rnd_range(1, 3), rnd_range(1, 3), rnd_range(1, 4)};
            float *w = malloc(sizeof(float) * (size_t)(wd[0] * wd[1] * wd[2] * wd[3]));
            h_fill(w, wd[0] * wd[1] * wd[2] * wd[3], (unsigned)k);
            in[1] = pl_graph_add_const(g, "w", 4, wd, w);
            in[2] = rnd(2) ? random_const(g, 1) : -1;
            n_in = 3;
        } else if (op == PL_OP_FULLY_CONNECTED) {
            int64_t wd[2] = {rnd_range(1, 4), rnd_range(1, 40)};
            float *w = malloc(sizeof(float) * (size_t)(wd[0] * wd[1]));
            h_fill(w, wd[0] * wd[1], (unsigned)k);
            in[1] = pl_graph_add_const(g, "w", 2, wd, w);
            n_in = 2;
        } else if ((op >= PL_OP_ADD && op <= PL_OP_SQUARED_DIFF) || op == PL_OP_PRELU) {
            in[1] = rnd(2) ? tensors[rnd(nt)] : random_const(g, rnd(5));
            n_in = 2;
        } else if (op == PL_OP_AFFINE) {
            in[1] = random_const(g, 1);
            in[2] = random_const(g, 1);
            n_in = 3;
        } else if (op == PL_OP_CONCAT) {
            in[1] = tensors[rnd(nt)];
            n_in = 2;
        }
        if (rnd(20) == 0) n_in = rnd(4); /* wrong arity now and then */
        int y;
        pl_node *n = h_node(g, op, n_in, in[0], in[1], in[2], in[3], &y);
        random_params(&n->params, rank ? rank : 4);
        if (op == PL_OP_EXP) n->params.act = PL_ACT_SIGMOID; /* keep values finite */
        if (nt < 16) tensors[nt++] = y;
        last = y;
    }
    pl_graph_add_output(g, last);
    pl_error err = {0};
    if (pl_graph_validate(g, &err) == PL_OK) {
        n_valid++;
        int64_t n = 1;
        for (int i = 0; i < 4; i++) n *= xd[i];
        float *x = malloc(sizeof(float) * (size_t)n);
        h_fill(x, n, 5);
        int r;
        int64_t od[PL_MAX_RANK];
        float *ref = h_run(g, 1, PL_KERNELS_REFERENCE, x, 4, xd, 0, &r, od, &err);
        if (ref) {
            n_ran++;
            float *fast = h_run(g, 2, PL_KERNELS_FAST, x, 4, xd, 0, NULL, NULL, &err);
            CHECK(fast);
            int64_t m = 1;
            for (int i = 0; i < r; i++) m *= od[i];
            for (int64_t i = 0; i < m; i++)
                if (isfinite(ref[i]))
                    CHECK_MSG(fabsf(fast[i] - ref[i]) <= 1e-4f * (1 + fabsf(ref[i])), "elem %lld: %g vs %g",
                              (long long)i, fast[i], ref[i]);
            free(fast);
            /* the load-time rewrites keep the result */
            CHECK_MSG(pl_graph_optimize(g, &err) == PL_OK, "optimize: %s", err.msg);
            float *opt = h_run(g, 1, PL_KERNELS_REFERENCE, x, 4, xd, 0, NULL, NULL, &err);
            CHECK_MSG(opt, "after optimize: %s", err.msg);
            for (int64_t i = 0; i < m; i++)
                if (isfinite(ref[i]))
                    CHECK_MSG(fabsf(opt[i] - ref[i]) <= 1e-4f * (1 + fabsf(ref[i])), "graph %d: optimized elem %lld: %g vs %g", cur_seed,
                              (long long)i, opt[i], ref[i]);
            free(opt);
            free(ref);
        } else {
            CHECK(err.msg[0] != '\0');
        }
        free(x);
    } else {
        CHECK_CONTAINS(err.msg, "random");
    }
    pl_graph_free(g);
}

TEST(random_graphs_never_crash)
{
    int runs = getenv("PL_RANDOM_GRAPHS") ? atoi(getenv("PL_RANDOM_GRAPHS")) : 1500;
    for (int i = 0; i < runs; i++) {
        rng_state = (unsigned)i * 7919u + 1;
        cur_seed = i;
        one_graph();
    }
    printf("    %d graphs: %d valid, %d ran\n", runs, n_valid, n_ran);
    CHECK(n_ran > runs / 10);
}
