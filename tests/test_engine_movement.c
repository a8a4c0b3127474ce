/* test_engine_movement.c — the reference ops' fast paths (coalesced axes,
 * contiguous / single-value binary loops, blocked transposition, row
 * copies, last-axis softmax) against a naive element-by-element version
 * written here with full index arithmetic, on many random shapes: ranks 0
 * to 6, broadcasts, axes of size 1, odd sizes, permutations that do and do
 * not coalesce, negative slice strides, and element-wise ops big enough to
 * be split across threads mid-run. Every result must match bit for bit:
 * each path does the same single IEEE operation (or expf) per element. */
#include <stdio.h>

#include "engine/ops.h"
#include "engine_helpers.h"
#include "test.h"

static unsigned rng_state = 12345;
static int rnd(int n) /* 0 .. n-1 */
{
    rng_state = rng_state * 1103515245u + 12345u;
    return (int)((rng_state >> 16) % (unsigned)n);
}

static int64_t numel_of(int rank, const int64_t *d)
{
    int64_t n = 1;
    for (int i = 0; i < rank; i++) n *= d[i];
    return n;
}

/* Output index e of a contiguous [rank, dims] -> per-axis index. */
static void unravel(int64_t e, int rank, const int64_t *dims, int64_t *idx)
{
    for (int d = rank - 1; d >= 0; d--) {
        idx[d] = e % dims[d];
        e /= dims[d];
    }
}

static int same_bits(float a, float b) { return memcmp(&a, &b, sizeof a) == 0 || (a != a && b != b); }

/* Runs g (input x of shape [rank, dims]) on `threads` threads and checks
 * output 0 against want (n values). Frees g. */
static void expect_exact(pl_graph *g, int threads, const float *x, int rank, const int64_t *dims,
                         const float *want, int64_t n, const char *what)
{
    pl_error err = {0};
    int r = 0;
    int64_t od[PL_MAX_RANK];
    float *y = h_run(g, threads, PL_KERNELS_FAST, x, rank, dims, 0, &r, od, &err);
    pl_graph_free(g);
    CHECK_MSG(y != NULL, "%s: run failed: %s", what, err.msg);
    CHECK_MSG(numel_of(r, od) == n, "%s: %lld elements, want %lld", what,
              (long long)numel_of(r, od), (long long)n);
    for (int64_t i = 0; i < n; i++)
        if (!same_bits(y[i], want[i])) {
            float got = y[i];
            free(y);
            TEST_FAIL_("%s: element %lld: got %.9g want %.9g", what, (long long)i, got, want[i]);
        }
    free(y);
}

/* ---- binary ops with broadcasting ------------------------------------------ */

static float naive_binary(pl_op op, float a, float b)
{
    switch (op) {
    case PL_OP_ADD: return a + b;
    case PL_OP_SUB: return a - b;
    case PL_OP_MUL: return a * b;
    case PL_OP_DIV: return a / b;
    case PL_OP_MAXIMUM: return a > b ? a : b;
    case PL_OP_MINIMUM: return a < b ? a : b;
    case PL_OP_POW: return powf(a, b);
    case PL_OP_SQUARED_DIFF: return (a - b) * (a - b);
    case PL_OP_PRELU: return a >= 0.0f ? a : a * b;
    default: return 0.0f;
    }
}

/* Offset in an operand of shape [r, d] (right-aligned against the output)
 * of output index idx[orank]. */
static int64_t bcast_offset(int r, const int64_t *d, int orank, const int64_t *idx)
{
    int64_t off = 0;
    for (int i = 0; i < r; i++) {
        int64_t k = d[i] == 1 ? 0 : idx[i + orank - r];
        off = off * d[i] + k;
    }
    return off;
}

/* One random case: output rank ro and dims, each operand keeps an axis or
 * broadcasts it (and may have fewer axes); x is the graph input, the other
 * operand a constant (on either side). */
static void binary_case(int trial, int big)
{
    static const pl_op ops[] = {PL_OP_ADD, PL_OP_SUB, PL_OP_MUL, PL_OP_DIV, PL_OP_MAXIMUM,
                                PL_OP_MINIMUM, PL_OP_POW, PL_OP_SQUARED_DIFF, PL_OP_PRELU};
    static const int64_t sizes[] = {1, 2, 3, 4, 5, 7, 16, 17};
    pl_op op = ops[rnd(9)];
    int ro = big ? 3 : rnd(7);
    int64_t od[PL_MAX_RANK], ad[PL_MAX_RANK], bd[PL_MAX_RANK];
    for (int i = 0; i < ro; i++) od[i] = big ? (int64_t[]){3, 71, 131}[i] : sizes[rnd(8)];
    if (!big && numel_of(ro, od) > 20000) od[0] = 1;
    int ra = op == PL_OP_PRELU ? ro : (ro ? ro - rnd(2) : 0), rb = ro ? ro - rnd(ro + 1) : 0;
    if (ra < ro && rb < ro) ra = ro; /* one operand carries the output rank */
    for (int i = 0; i < ra; i++) ad[i] = op == PL_OP_PRELU || rnd(4) ? od[i + ro - ra] : 1;
    for (int i = 0; i < rb; i++) bd[i] = rnd(3) ? od[i + ro - rb] : 1;
    if (op == PL_OP_PRELU) /* the slope must broadcast to the input */
        for (int i = 0; i < ra; i++) ad[i] = od[i];
    /* The output is the broadcast of both: fix od where both say 1. */
    for (int i = 0; i < ro; i++) {
        int64_t a = i - (ro - ra) >= 0 ? ad[i - (ro - ra)] : 1, b = i - (ro - rb) >= 0 ? bd[i - (ro - rb)] : 1;
        od[i] = a > b ? a : b;
    }
    int64_t na = numel_of(ra, ad), nb = numel_of(rb, bd), no = numel_of(ro, od);
    float *a = malloc(sizeof(float) * (size_t)na), *b = malloc(sizeof(float) * (size_t)nb);
    float *want = malloc(sizeof(float) * (size_t)no);
    h_fill(a, na, (unsigned)trial * 2 + 1);
    h_fill(b, nb, (unsigned)trial * 2 + 2);
    if (op == PL_OP_POW)
        for (int64_t i = 0; i < na; i++) a[i] = fabsf(a[i]) + 0.5f;
    if (op == PL_OP_DIV)
        for (int64_t i = 0; i < nb; i++) b[i] = b[i] >= 0 ? b[i] + 0.25f : b[i] - 0.25f;

    /* A fused activation on the ops that take one (not the PRELU op). */
    pl_act act = op == PL_OP_PRELU ? PL_ACT_NONE : (pl_act[]){PL_ACT_NONE, PL_ACT_RELU, PL_ACT_PRELU, PL_ACT_CLIP}[rnd(4)];
    int64_t ch = ro ? od[ro - 1] : 1;
    float *slope = malloc(sizeof(float) * (size_t)ch);
    h_fill(slope, ch, (unsigned)trial + 99);

    pl_graph *g = pl_graph_new("t");
    int x = h_input(g, "x", ra, ad), c = h_const(g, "c", rb, bd, b), s = -1, y;
    if (act == PL_ACT_PRELU) s = h_const(g, "s", 1, &ch, slope);
    pl_node *n = h_node(g, op, act == PL_ACT_PRELU ? 3 : 2, x, c, s, 0, &y);
    n->params.act = act;
    n->params.clip.lo = -0.5f;
    n->params.clip.hi = 0.25f;
    pl_graph_add_output(g, y);

    int64_t idx[PL_MAX_RANK];
    for (int64_t e = 0; e < no; e++) {
        unravel(e, ro, od, idx);
        float v = naive_binary(op, a[bcast_offset(ra, ad, ro, idx)], b[bcast_offset(rb, bd, ro, idx)]);
        if (act == PL_ACT_RELU) v = v > 0.0f ? v : 0.0f;
        if (act == PL_ACT_PRELU) v = v >= 0.0f ? v : v * slope[ro ? idx[ro - 1] : 0];
        if (act == PL_ACT_CLIP) v = v < -0.5f ? -0.5f : (v > 0.25f ? 0.25f : v);
        want[e] = v;
    }
    char what[96];
    snprintf(what, sizeof what, "trial %d %s act %d rank %d/%d/%d", trial, pl_op_name(op), (int)act,
             ro, ra, rb);
    expect_exact(g, big ? 3 : 1 + rnd(2), a, ra, ad, want, no, what);
    free(a);
    free(b);
    free(want);
    free(slope);
}

TEST(binary_broadcasts_match_naive)
{
    for (int trial = 0; trial < 400; trial++) binary_case(trial, 0);
}

/* 27903 elements: two tasks of an element-wise op, the second starting in
 * the middle of a row. */
TEST(binary_split_across_threads_match_naive)
{
    for (int trial = 0; trial < 24; trial++) binary_case(1000 + trial, 1);
}

/* An image minus a per-channel mean ([1,150,150,3] - [3], and mirrored),
 * 67500 elements on 3 threads: tasks of 16384 elements start mid-pixel. */
TEST(binary_row_broadcast_split_mid_row)
{
    int64_t xd[4] = {1, 150, 150, 3}, cd[1] = {3}, n = 67500;
    float mean[3] = {0.25f, -0.5f, 0.125f};
    float *x = malloc(sizeof(float) * (size_t)n), *want = malloc(sizeof(float) * (size_t)n);
    h_fill(x, n, 11);
    for (int k = 0; k < 4; k++) {
        pl_graph *g = pl_graph_new("t");
        int xi = h_input(g, "x", 4, xd), c = h_const(g, "m", 1, cd, mean), y;
        pl_node *nd = k % 2 ? h_node(g, PL_OP_SUB, 2, c, xi, 0, 0, &y)
                            : h_node(g, PL_OP_SUB, 2, xi, c, 0, 0, &y);
        if (k >= 2) nd->params.act = PL_ACT_RELU;
        pl_graph_add_output(g, y);
        for (int64_t i = 0; i < n; i++) {
            float v = k % 2 ? mean[i % 3] - x[i] : x[i] - mean[i % 3];
            want[i] = k >= 2 && v <= 0.0f ? 0.0f : v;
        }
        expect_exact(g, 3, x, 4, xd, want, n, k % 2 ? "mean - x" : "x - mean");
    }
    free(x);
    free(want);
}

/* fr_detect's box decoding: [1,4420,2] with a scalar, with a [4420,2]
 * constant, and a scalar divided by a tensor. */
TEST(binary_box_decoding_shapes)
{
    int64_t xd[3] = {1, 4420, 2}, pd[2] = {4420, 2}, one[1] = {1};
    int64_t n = 8840;
    float *x = malloc(sizeof(float) * (size_t)n), *p = malloc(sizeof(float) * (size_t)n);
    float *want = malloc(sizeof(float) * (size_t)n), half = 2.0f;
    h_fill(x, n, 7);
    h_fill(p, n, 8);
    for (int k = 0; k < 3; k++) {
        pl_graph *g = pl_graph_new("t");
        int xi = h_input(g, "x", 3, xd), y;
        if (k == 0) {
            int c = h_const(g, "c", 1, one, &half);
            h_node(g, PL_OP_DIV, 2, xi, c, 0, 0, &y);
            for (int64_t i = 0; i < n; i++) want[i] = x[i] / 2.0f;
        } else if (k == 1) {
            int c = h_const(g, "c", 2, pd, p);
            h_node(g, PL_OP_MUL, 2, xi, c, 0, 0, &y);
            for (int64_t i = 0; i < n; i++) want[i] = x[i] * p[i];
        } else {
            int c = h_const(g, "c", 0, one, &half);
            h_node(g, PL_OP_SUB, 2, c, xi, 0, 0, &y);
            for (int64_t i = 0; i < n; i++) want[i] = 2.0f - x[i];
        }
        pl_graph_add_output(g, y);
        expect_exact(g, 1, x, 3, xd, want, n, "box decoding");
    }
    free(x);
    free(p);
    free(want);
}

/* ---- transpose ------------------------------------------------------------ */

static void transpose_case(int rank, const int64_t *xd, const int *perm, unsigned seed)
{
    int64_t n = numel_of(rank, xd), yd[PL_MAX_RANK], xs[PL_MAX_RANK], s = 1;
    for (int d = rank - 1; d >= 0; d--) {
        xs[d] = s;
        s *= xd[d];
    }
    for (int d = 0; d < rank; d++) yd[d] = xd[perm[d]];
    float *x = malloc(sizeof(float) * (size_t)n), *want = malloc(sizeof(float) * (size_t)n);
    h_fill(x, n, seed);
    int64_t idx[PL_MAX_RANK];
    for (int64_t e = 0; e < n; e++) {
        unravel(e, rank, yd, idx);
        int64_t off = 0;
        for (int d = 0; d < rank; d++) off += idx[d] * xs[perm[d]];
        want[e] = x[off];
    }
    pl_graph *g = pl_graph_new("t");
    int xi = h_input(g, "x", rank, xd), y;
    pl_node *nd = h_node(g, PL_OP_TRANSPOSE, 1, xi, 0, 0, 0, &y);
    nd->params.transpose.rank = rank;
    memcpy(nd->params.transpose.perm, perm, sizeof(int) * (size_t)rank);
    pl_graph_add_output(g, y);
    char what[96];
    int len = snprintf(what, sizeof what, "transpose [");
    for (int d = 0; d < rank && len < 80; d++)
        len += snprintf(what + len, sizeof what - (size_t)len, "%lld:%d ", (long long)xd[d], perm[d]);
    snprintf(what + len, sizeof what - (size_t)len, "]");
    expect_exact(g, 1, x, rank, xd, want, n, what);
    free(x);
    free(want);
}

TEST(transpose_random_permutations_match_naive)
{
    static const int64_t sizes[] = {1, 2, 3, 4, 5, 7, 17};
    for (int trial = 0; trial < 400; trial++) {
        int rank = 1 + rnd(6), perm[PL_MAX_RANK];
        int64_t xd[PL_MAX_RANK];
        for (int d = 0; d < rank; d++) {
            xd[d] = sizes[rnd(7)];
            perm[d] = d;
        }
        if (numel_of(rank, xd) > 30000) xd[0] = 1;
        for (int d = rank - 1; d > 0; d--) { /* Fisher-Yates */
            int j = rnd(d + 1), t = perm[d];
            perm[d] = perm[j];
            perm[j] = t;
        }
        transpose_case(rank, xd, perm, (unsigned)trial);
    }
}

/* The shapes the special loops exist for: NCHW -> NHWC images with 1 to 5
 * planes (2-4 are unrolled), batched; NHWC -> NCHW; 2-D matrices whose
 * sides are not multiples of the 16x16 tile; a transposition inside a
 * larger batch axis; the identity permutation. */
TEST(transpose_image_and_matrix_shapes)
{
    for (int64_t c = 1; c <= 5; c++)
        for (int64_t b = 1; b <= 2; b++) {
            int64_t d[4] = {b, c, 13, 31};
            transpose_case(4, d, (int[]){0, 2, 3, 1}, (unsigned)(c * 10 + b));
            transpose_case(4, d, (int[]){0, 3, 1, 2}, (unsigned)(c * 20 + b));
        }
    int64_t fr[4] = {1, 3, 240, 320};
    transpose_case(4, fr, (int[]){0, 2, 3, 1}, 5);
    int64_t m[2] = {37, 53}, v[2] = {1, 40}, t3[3] = {3, 19, 33}, t5[5] = {2, 3, 1, 17, 6};
    transpose_case(2, m, (int[]){1, 0}, 1);
    transpose_case(2, v, (int[]){1, 0}, 2);
    transpose_case(3, t3, (int[]){0, 2, 1}, 3);
    transpose_case(3, t3, (int[]){2, 1, 0}, 4);
    transpose_case(5, t5, (int[]){3, 0, 4, 2, 1}, 6);
    transpose_case(5, t5, (int[]){0, 1, 2, 3, 4}, 7);
}

/* ---- slice ------------------------------------------------------------------ */

TEST(slice_random_match_naive)
{
    static const int64_t sizes[] = {1, 2, 3, 4, 6, 9, 20};
    for (int trial = 0; trial < 400; trial++) {
        int rank = 1 + rnd(6), srank = rank - rnd(2);
        int64_t xd[PL_MAX_RANK], yd[PL_MAX_RANK], b[PL_MAX_RANK], st[PL_MAX_RANK], xs[PL_MAX_RANK];
        pl_graph *g = pl_graph_new("t");
        for (int d = 0; d < rank; d++) xd[d] = sizes[rnd(7)];
        if (numel_of(rank, xd) > 30000) xd[0] = 1;
        int xi = h_input(g, "x", rank, xd), y;
        pl_node *n = h_node(g, PL_OP_SLICE, 1, xi, 0, 0, 0, &y);
        n->params.slice.rank = srank;
        for (int d = 0; d < rank; d++) {
            int64_t bb = 0, e = xd[d], s = 1;
            if (d < srank) {
                switch (rnd(4)) {
                case 0: break; /* whole axis */
                case 1: bb = rnd((int)xd[d]); e = bb + 1 + rnd((int)(xd[d] - bb)); break;
                case 2: s = 1 + rnd(3); bb = rnd((int)xd[d]); e = INT64_MAX; break;
                default: s = -1 - rnd(2); bb = -1 - rnd((int)xd[d]); e = INT64_MIN; break;
                }
                n->params.slice.begin[d] = bb;
                n->params.slice.end[d] = e;
                n->params.slice.stride[d] = s;
                yd[d] = pl_slice_axis(xd[d], &bb, e, &s);
            } else {
                yd[d] = xd[d];
            }
            b[d] = bb;
            st[d] = s;
        }
        pl_graph_add_output(g, y);
        int64_t s = 1;
        for (int d = rank - 1; d >= 0; d--) {
            xs[d] = s;
            s *= xd[d];
        }
        int64_t nx = numel_of(rank, xd), ny = numel_of(rank, yd), idx[PL_MAX_RANK];
        float *x = malloc(sizeof(float) * (size_t)nx), *want = malloc(sizeof(float) * (size_t)ny);
        h_fill(x, nx, (unsigned)trial);
        for (int64_t e = 0; e < ny; e++) {
            unravel(e, rank, yd, idx);
            int64_t off = 0;
            for (int d = 0; d < rank; d++) off += (b[d] + idx[d] * st[d]) * xs[d];
            want[e] = x[off];
        }
        char what[48];
        snprintf(what, sizeof what, "slice trial %d rank %d", trial, rank);
        expect_exact(g, 1, x, rank, xd, want, ny, what);
        free(x);
        free(want);
    }
}

/* ---- concat ----------------------------------------------------------------- */

TEST(concat_random_match_naive)
{
    static const int64_t sizes[] = {1, 2, 3, 5, 8, 13};
    for (int trial = 0; trial < 300; trial++) {
        int rank = 1 + rnd(5), k_in = 1 + rnd(4), axis = rnd(rank);
        int64_t d[4][PL_MAX_RANK], yd[PL_MAX_RANK];
        for (int i = 0; i < rank; i++) d[0][i] = sizes[rnd(6)];
        if (numel_of(rank, d[0]) > 5000) d[0][0] = 1;
        memcpy(yd, d[0], sizeof yd);
        for (int k = 1; k < k_in; k++) {
            memcpy(d[k], d[0], sizeof d[k]);
            d[k][axis] = sizes[rnd(6)];
            yd[axis] += d[k][axis];
        }
        float *v[4];
        pl_graph *g = pl_graph_new("t");
        int t[4];
        for (int k = 0; k < k_in; k++) {
            int64_t nk = numel_of(rank, d[k]);
            v[k] = malloc(sizeof(float) * (size_t)nk);
            h_fill(v[k], nk, (unsigned)(trial * 4 + k));
            t[k] = k == 0 ? h_input(g, "x", rank, d[0]) : h_const(g, "c", rank, d[k], v[k]);
        }
        int y;
        pl_node *n = h_node(g, PL_OP_CONCAT, k_in, t[0], t[1 % k_in], t[2 % k_in], t[3 % k_in], &y);
        n->params.axis = rnd(2) ? axis : axis - rank;
        pl_graph_add_output(g, y);
        int64_t ny = numel_of(rank, yd), idx[PL_MAX_RANK];
        float *want = malloc(sizeof(float) * (size_t)ny);
        for (int64_t e = 0; e < ny; e++) {
            unravel(e, rank, yd, idx);
            int k = 0;
            while (idx[axis] >= d[k][axis]) idx[axis] -= d[k++][axis];
            int64_t off = 0;
            for (int i = 0; i < rank; i++) off = off * d[k][i] + idx[i];
            want[e] = v[k][off];
        }
        char what[48];
        snprintf(what, sizeof what, "concat trial %d rank %d axis %d", trial, rank, axis);
        expect_exact(g, 1, v[0], rank, d[0], want, ny, what);
        for (int k = 0; k < k_in; k++) free(v[k]);
        free(want);
    }
}

/* ---- softmax ---------------------------------------------------------------- */

TEST(softmax_any_axis_match_naive)
{
    static const int64_t sizes[] = {1, 2, 3, 7, 10};
    for (int trial = 0; trial < 200; trial++) {
        int rank = 1 + rnd(4), axis = rnd(rank);
        int64_t xd[PL_MAX_RANK];
        for (int i = 0; i < rank; i++) xd[i] = sizes[rnd(5)];
        if (trial == 0) { /* fr_detect's scores */
            rank = 3;
            axis = 2;
            xd[0] = 1, xd[1] = 4420, xd[2] = 2;
        }
        int64_t n = numel_of(rank, xd), inner = 1, len = xd[axis];
        for (int i = axis + 1; i < rank; i++) inner *= xd[i];
        float *x = malloc(sizeof(float) * (size_t)n), *want = malloc(sizeof(float) * (size_t)n);
        h_fill(x, n, (unsigned)trial);
        for (int64_t i = 0; i < n; i++) x[i] *= 8.0f;
        /* Each softmax row: the elements sharing all indices but the axis. */
        for (int64_t o = 0; o < n / (len * inner); o++)
            for (int64_t i = 0; i < inner; i++) {
                const float *xp = x + o * len * inner + i;
                float *wp = want + o * len * inner + i, m = -INFINITY, sum = 0.0f;
                for (int64_t k = 0; k < len; k++) m = xp[k * inner] > m ? xp[k * inner] : m;
                for (int64_t k = 0; k < len; k++) {
                    wp[k * inner] = expf(xp[k * inner] - m);
                    sum += wp[k * inner];
                }
                for (int64_t k = 0; k < len; k++) wp[k * inner] /= sum;
            }
        pl_graph *g = pl_graph_new("t");
        int xi = h_input(g, "x", rank, xd), y;
        pl_node *nd = h_node(g, PL_OP_SOFTMAX, 1, xi, 0, 0, 0, &y);
        nd->params.axis = rnd(2) ? axis : axis - rank;
        pl_graph_add_output(g, y);
        char what[48];
        snprintf(what, sizeof what, "softmax trial %d rank %d axis %d", trial, rank, axis);
        expect_exact(g, 1, x, rank, xd, want, n, what);
        free(x);
        free(want);
    }
}

/* ---- reductions ------------------------------------------------------------- */

/* Any set of reduced axes, keep_dims or not; blocks of adjacent reduced
 * axes (global pooling) take the fast loop, interleaved ones the general
 * walk. Each output adds its inputs in the order of x. */
TEST(reduce_random_axes_match_naive)
{
    static const pl_op ops[] = {PL_OP_REDUCE_SUM, PL_OP_REDUCE_MEAN, PL_OP_REDUCE_MAX};
    static const int64_t sizes[] = {1, 2, 3, 5, 7, 16};
    for (int trial = 0; trial < 300; trial++) {
        int rank = 1 + rnd(6), mask = rnd(1 << rank), keep = rnd(2);
        pl_op op = ops[rnd(3)];
        int64_t xd[PL_MAX_RANK], yd[PL_MAX_RANK], count = 1;
        for (int i = 0; i < rank; i++) xd[i] = sizes[rnd(6)];
        if (trial == 0) { /* faceres's global pooling */
            rank = 4, mask = 6, keep = 0, op = PL_OP_REDUCE_MEAN;
            xd[0] = 1, xd[1] = 7, xd[2] = 7, xd[3] = 1024;
        }
        if (numel_of(rank, xd) > 30000) xd[0] = 1;
        for (int i = 0; i < rank; i++) {
            if (mask >> i & 1) count *= xd[i];
            yd[i] = mask >> i & 1 ? 1 : xd[i]; /* the keep_dims shape, for indexing */
        }
        int64_t n = numel_of(rank, xd), ny = numel_of(rank, yd), idx[PL_MAX_RANK];
        float *x = malloc(sizeof(float) * (size_t)n), *want = malloc(sizeof(float) * (size_t)ny);
        h_fill(x, n, (unsigned)trial);
        for (int64_t i = 0; i < ny; i++) want[i] = op == PL_OP_REDUCE_MAX ? -INFINITY : 0.0f;
        for (int64_t e = 0; e < n; e++) {
            unravel(e, rank, xd, idx);
            int64_t o = 0;
            for (int i = 0; i < rank; i++) o = o * yd[i] + (mask >> i & 1 ? 0 : idx[i]);
            if (op == PL_OP_REDUCE_MAX) want[o] = x[e] > want[o] ? x[e] : want[o];
            else want[o] += x[e];
        }
        if (op == PL_OP_REDUCE_MEAN)
            for (int64_t i = 0; i < ny; i++) want[i] /= (float)count;
        pl_graph *g = pl_graph_new("t");
        int xi = h_input(g, "x", rank, xd), y;
        pl_node *nd = h_node(g, op, 1, xi, 0, 0, 0, &y);
        nd->params.reduce.axes_mask = mask;
        nd->params.reduce.keep_dims = keep;
        pl_graph_add_output(g, y);
        char what[64];
        snprintf(what, sizeof what, "%s trial %d rank %d mask %#x", pl_op_name(op), trial, rank, mask);
        expect_exact(g, 1, x, rank, xd, want, ny, what);
        free(x);
        free(want);
    }
}
