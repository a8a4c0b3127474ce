/* ops_ref.c — the reference operators (see ops.h): plain loops, NHWC,
 * float32, one function per family of ops. The session calls them for task
 * ranges; each range is independent, so threads never share an output. */
#include "engine/ops.h"

#include <math.h>
#include <string.h>

/* Elements per task of an element-wise op: big enough that the thread
 * hand-off is negligible, small enough to spread a 112x112x64 map. */
#define EW_BLOCK 16384

/* gcc's -O2 vectorises only loops it can prove need no run-time checks;
 * the loops marked with this (unit-stride, one IEEE operation per element,
 * so the same bits either way) are worth the checks. */
#if defined(__GNUC__) && !defined(__clang__)
#define PL_VECTORISE __attribute__((optimize("tree-vectorize", "vect-cost-model=dynamic")))
#else
#define PL_VECTORISE /* clang vectorises such loops at -O2 by itself */
#endif

static const pl_tensor *tin(const pl_graph *g, const pl_node *n, int k)
{
    return &g->tensors[n->inputs[k]];
}
static const pl_tensor *tout(const pl_graph *g, const pl_node *n)
{
    return &g->tensors[n->outputs[0]];
}
static int64_t last_dim(const pl_tensor *t) { return t->rank ? t->dims[t->rank - 1] : 1; }
static const float *fused_slope(const pl_node *n, const float *const *in)
{
    return n->params.act == PL_ACT_PRELU ? in[n->n_inputs - 1] : NULL;
}

/* ---- conv, fc ------------------------------------------------------------ */

void pl_op_conv_shape(const pl_graph *g, const pl_node *n, pl_conv_shape *s)
{
    const pl_tensor *x = tin(g, n, 0), *y = tout(g, n);
    const pl_conv_params *p = &n->params.conv;
    memset(s, 0, sizeof *s);
    s->n = (int)x->dims[0];
    s->in_h = (int)x->dims[1];
    s->in_w = (int)x->dims[2];
    s->in_c = (int)x->dims[3];
    s->out_h = (int)y->dims[1];
    s->out_w = (int)y->dims[2];
    s->out_c = (int)y->dims[3];
    s->kh = p->kh;
    s->kw = p->kw;
    s->stride_h = p->stride_h;
    s->stride_w = p->stride_w;
    s->dilation_h = p->dilation_h;
    s->dilation_w = p->dilation_w;
    s->pad_top = p->pad_top;
    s->pad_left = p->pad_left;
    s->groups = p->groups;
}

void pl_op_epilogue(const pl_node *n, const float *slope, pl_epilogue *ep)
{
    memset(ep, 0, sizeof *ep);
    ep->act = n->params.act;
    ep->alpha = n->params.alpha;
    ep->lo = n->params.clip.lo;
    ep->hi = n->params.clip.hi;
    ep->slope = slope;
}

static void run_conv(const pl_graph *g, const pl_node *n, const float *const *in, float *out,
                     int t0, int t1)
{
    pl_conv_shape s;
    pl_epilogue ep;
    pl_op_conv_shape(g, n, &s);
    pl_op_epilogue(n, fused_slope(n, in), &ep);
    pl_conv2d_ref(&s, in[0], in[1], n->n_inputs > 2 ? in[2] : NULL, &ep, out, t0, t1);
}

static void run_fc(const pl_graph *g, const pl_node *n, const float *const *in, float *out,
                   int t0, int t1)
{
    const pl_tensor *y = tout(g, n), *w = tin(g, n, 1);
    pl_epilogue ep;
    pl_op_epilogue(n, fused_slope(n, in), &ep);
    pl_fc_ref((int)y->dims[0], (int)y->dims[1], (int)w->dims[1], in[0], in[1],
              n->n_inputs > 2 ? in[2] : NULL, &ep, out, t0, t1);
}

/* ---- pools: task = one output row of one batch item ----------------------- */

static void run_pool(const pl_graph *g, const pl_node *n, const float *x, float *y, int t0,
                     int t1)
{
    const pl_tensor *xt = tin(g, n, 0), *yt = tout(g, n);
    const pl_pool_params *p = &n->params.pool;
    int H = (int)xt->dims[1], W = (int)xt->dims[2], C = (int)xt->dims[3];
    int OH = (int)yt->dims[1], OW = (int)yt->dims[2];
    int kh = p->global ? H : p->kh, kw = p->global ? W : p->kw;
    int sh = p->global ? 1 : p->stride_h, sw = p->global ? 1 : p->stride_w;
    int pt = p->global ? 0 : p->pad_top, pleft = p->global ? 0 : p->pad_left;
    int is_max = n->op == PL_OP_MAX_POOL;
    for (int t = t0; t < t1; t++) {
        int b = t / OH, oy = t % OH;
        const float *xb = x + (size_t)b * H * W * C;
        for (int ox = 0; ox < OW; ox++) {
            float *yp = y + (((size_t)b * OH + oy) * OW + ox) * C;
            int y0 = oy * sh - pt, x0 = ox * sw - pleft;
            int ya = y0 < 0 ? 0 : y0, yb = y0 + kh > H ? H : y0 + kh;
            int xa = x0 < 0 ? 0 : x0, xb2 = x0 + kw > W ? W : x0 + kw;
            for (int c = 0; c < C; c++) yp[c] = is_max ? -INFINITY : 0.0f;
            for (int iy = ya; iy < yb; iy++)
                for (int ix = xa; ix < xb2; ix++) {
                    const float *xp = xb + ((size_t)iy * W + ix) * C;
                    if (is_max)
                        for (int c = 0; c < C; c++) yp[c] = xp[c] > yp[c] ? xp[c] : yp[c];
                    else
                        for (int c = 0; c < C; c++) yp[c] += xp[c];
                }
            if (!is_max) {
                int count = (yb - ya) * (xb2 - xa);
                if (p->count_include_pad && !p->global) count = kh * kw;
                float inv = count > 0 ? 1.0f / (float)count : 0.0f;
                for (int c = 0; c < C; c++) yp[c] *= inv;
            }
            for (int c = 0; c < C; c++) yp[c] = pl_act_value(yp[c], &n->params, NULL, c);
        }
    }
}

/* ---- strided walks ----------------------------------------------------------- */

/* Merges neighbouring axes that every operand walks as one (the outer
 * axis's stride is the inner stride times the inner size; a broadcast
 * axis, stride 0, merges with another broadcast axis) and drops axes of
 * size 1. The elements and their order stay the same; what changes is that
 * the innermost run grows, so the loops below pay their per-run bookkeeping
 * rarely: fr_detect's [1,4420,2] x [4420,2] MUL becomes one run of 8840
 * instead of 4420 runs of 2, and its NCHW->NHWC input transposition
 * becomes a [76800,3] <- [3,76800] matrix transposition. s1 may be NULL
 * (one operand). keep_last leaves the last axis as it is (a fused PReLU
 * indexes its slope by that axis). Returns the new rank, >= 1. */
static int coalesce(int rank, int64_t *dims, int64_t *s0, int64_t *s1, int keep_last)
{
    int r = 0;
    for (int d = 0; d < rank; d++) {
        int last = keep_last && d == rank - 1;
        if (dims[d] == 1 && !last) continue;
        if (r > 0 && !last && s0[r - 1] == s0[d] * dims[d] &&
            (!s1 || s1[r - 1] == s1[d] * dims[d])) {
            dims[r - 1] *= dims[d];
            s0[r - 1] = s0[d];
            if (s1) s1[r - 1] = s1[d];
            continue;
        }
        dims[r] = dims[d];
        s0[r] = s0[d];
        if (s1) s1[r] = s1[d];
        r++;
    }
    if (r == 0) { /* every axis had size 1: one element */
        dims[0] = 1;
        s0[0] = 0;
        if (s1) s1[0] = 0;
        r = 1;
    }
    return r;
}

/* ---- element-wise binary with numpy broadcasting ----------------------------- */

typedef struct bcast {
    int rank;
    int64_t dims[PL_MAX_RANK];
    int64_t sa[PL_MAX_RANK], sb[PL_MAX_RANK]; /* element strides, 0 = broadcast */
} bcast;

static void strides_into(const pl_tensor *t, const pl_tensor *o, int64_t *st)
{
    int64_t s = 1;
    for (int i = o->rank - 1; i >= 0; i--) {
        int it = i - (o->rank - t->rank);
        int64_t d = it >= 0 ? t->dims[it] : 1;
        st[i] = d == 1 ? 0 : s;
        s *= d;
    }
}

static void bcast_init(bcast *b, const pl_tensor *a, const pl_tensor *bb, const pl_tensor *o,
                       int keep_last)
{
    if (o->rank == 0) {
        b->rank = 1;
        b->dims[0] = 1;
        b->sa[0] = b->sb[0] = 0;
        return;
    }
    memcpy(b->dims, o->dims, sizeof b->dims);
    strides_into(a, o, b->sa);
    strides_into(bb, o, b->sb);
    b->rank = coalesce(o->rank, b->dims, b->sa, b->sb, keep_last);
}

static inline float binary_value(pl_op op, float a, float b)
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

/* One run of the innermost axis, in one of four loop shapes: both operands
 * strided (general), both contiguous (residual ADDs in every embedder), or
 * one of them a single value over the run (a scalar or a broadcast axis:
 * fr_detect's box decoding multiplies and divides by constants). The
 * contiguous and single-value shapes have unit strides known at compile
 * time, so gcc vectorises them (with a run-time overlap check). Each
 * element still gets the same single IEEE operation, so vectorised or not
 * the bits are the same. The switch on the op sits outside the loop so
 * that each case compiles to a tight loop. */
#define BIN_LOOP_STRIDED(expr)                                                 \
    for (int64_t i = 0; i < run; i++) {                                       \
        float a = pa[i * sa], b = pb[i * sb];                                  \
        y[i] = (expr);                                                         \
    }
#define BIN_LOOP_CONTIGUOUS(expr)                                              \
    for (int64_t i = 0; i < run; i++) {                                       \
        float a = pa[i], b = pb[i];                                            \
        y[i] = (expr);                                                         \
    }
#define BIN_LOOP_B_FIXED(expr)                                                 \
    for (int64_t i = 0; i < run; i++) {                                       \
        float a = pa[i];                                                       \
        y[i] = (expr);                                                         \
    }
#define BIN_LOOP_A_FIXED(expr)                                                 \
    for (int64_t i = 0; i < run; i++) {                                       \
        float b = pb[i];                                                       \
        y[i] = (expr);                                                         \
    }
#define BIN_SWITCH(LOOP)                                                       \
    switch (op) {                                                              \
    case PL_OP_ADD: LOOP(a + b) break;                                         \
    case PL_OP_SUB: LOOP(a - b) break;                                         \
    case PL_OP_MUL: LOOP(a * b) break;                                         \
    case PL_OP_DIV: LOOP(a / b) break;                                         \
    default: LOOP(binary_value(op, a, b)) break;                               \
    }

/* Returns 1 when the fused activation was applied too (a ReLU after a
 * contiguous ADD goes in the same loop; any act when there is none). */
static int PL_VECTORISE binary_run(pl_op op, pl_act act, float *y, const float *pa, int64_t sa,
                                   const float *pb, int64_t sb, int64_t run)
{
    if (sa == 1 && sb == 1) {
        if (op == PL_OP_ADD && act == PL_ACT_RELU) {
            BIN_LOOP_CONTIGUOUS(a + b > 0.0f ? a + b : 0.0f)
            return 1;
        }
        BIN_SWITCH(BIN_LOOP_CONTIGUOUS)
    } else if (sa == 1 && sb == 0) {
        const float b = pb[0];
        BIN_SWITCH(BIN_LOOP_B_FIXED)
    } else if (sa == 0 && sb == 1) {
        const float a = pa[0];
        BIN_SWITCH(BIN_LOOP_A_FIXED)
    } else {
        BIN_SWITCH(BIN_LOOP_STRIDED)
    }
    return act == PL_ACT_NONE;
}
#undef BIN_LOOP_STRIDED
#undef BIN_LOOP_CONTIGUOUS
#undef BIN_LOOP_B_FIXED
#undef BIN_LOOP_A_FIXED
#undef BIN_SWITCH

/* Short rows with one operand's row repeated over all of them (x - mean[3]
 * on an NHWC image: after coalescing, [P, 3] with strides [3, 1] and [0, 1]).
 * A loop call per 3-element row costs more than the row, so the repeated
 * row is laid out end to end in `rep` and blocks of whole rows go through
 * binary_run as one contiguous run; element by element it is the same
 * operation on the same two values. Returns 0 when the shape is not this
 * one (or a fused PReLU, which indexes its slope by channel, is there). */
static int binary_row_broadcast(const bcast *b, const pl_node *n, const float *const *in,
                                float *y, int64_t e0, int64_t e1)
{
    enum { REP = 256 };
    int64_t Q = b->dims[1];
    if (b->rank != 2 || Q > REP / 4 || n->params.act == PL_ACT_PRELU) return 0;
    int a_rows = b->sa[0] == Q && b->sa[1] == 1 && b->sb[0] == 0 && b->sb[1] == 1;
    int b_rows = b->sb[0] == Q && b->sb[1] == 1 && b->sa[0] == 0 && b->sa[1] == 1;
    if (!a_rows && !b_rows) return 0;
    float rep[REP];
    int64_t L = REP / Q * Q; /* whole rows */
    const float *row = a_rows ? in[1] : in[0], *full = a_rows ? in[0] : in[1];
    for (int64_t i = 0; i < L; i++) rep[i] = row[i % Q];
    for (int64_t e = e0; e < e1;) {
        int64_t q = e % Q, run = L - q < e1 - e ? L - q : e1 - e;
        int done = a_rows ? binary_run(n->op, n->params.act, y + e, full + e, 1, rep + q, 1, run)
                          : binary_run(n->op, n->params.act, y + e, rep + q, 1, full + e, 1, run);
        if (!done)
            for (int64_t i = 0; i < run; i++)
                y[e + i] = pl_act_value(y[e + i], &n->params, NULL, 0); /* not PReLU */
        e += run;
    }
    return 1;
}

/* Elements [e0, e1) of the output, walked run by run over the coalesced
 * axes (see coalesce). */
static void run_binary(const pl_graph *g, const pl_node *n, const float *const *in, float *y,
                       int64_t e0, int64_t e1)
{
    if (e0 >= e1) return;
    bcast b;
    bcast_init(&b, tin(g, n, 0), tin(g, n, 1), tout(g, n), n->params.act == PL_ACT_PRELU);
    if (binary_row_broadcast(&b, n, in, y, e0, e1)) return;
    const float *slope = fused_slope(n, in);
    int r = b.rank;
    int64_t idx[PL_MAX_RANK], oa = 0, ob = 0, rem = e0;
    for (int d = r - 1; d >= 0; d--) {
        idx[d] = rem % b.dims[d];
        rem /= b.dims[d];
        oa += idx[d] * b.sa[d];
        ob += idx[d] * b.sb[d];
    }
    int64_t inner = b.dims[r - 1];
    for (int64_t e = e0; e < e1;) {
        int64_t run = inner - idx[r - 1];
        if (run > e1 - e) run = e1 - e;
        int done = binary_run(n->op, n->params.act, y + e, in[0] + oa, b.sa[r - 1], in[1] + ob,
                              b.sb[r - 1], run);
        if (!done)
            for (int64_t i = 0; i < run; i++)
                y[e + i] = pl_act_value(y[e + i], &n->params, slope, idx[r - 1] + i);
        e += run;
        idx[r - 1] += run;
        oa += run * b.sa[r - 1];
        ob += run * b.sb[r - 1];
        for (int d = r - 1; d > 0 && idx[d] == b.dims[d]; d--) {
            oa += b.sa[d - 1] - idx[d] * b.sa[d];
            ob += b.sb[d - 1] - idx[d] * b.sb[d];
            idx[d] = 0;
            idx[d - 1]++;
        }
    }
}

/* ---- element-wise unary ------------------------------------------------------ */

static void run_unary(const pl_node *n, const float *x, float *y, int64_t e0, int64_t e1)
{
    const pl_node_params *p = &n->params;
    switch (n->op) {
    case PL_OP_NEG: for (int64_t i = e0; i < e1; i++) y[i] = -x[i]; break;
    case PL_OP_ABS: for (int64_t i = e0; i < e1; i++) y[i] = fabsf(x[i]); break;
    case PL_OP_EXP: for (int64_t i = e0; i < e1; i++) y[i] = expf(x[i]); break;
    case PL_OP_LOG: for (int64_t i = e0; i < e1; i++) y[i] = logf(x[i]); break;
    case PL_OP_SQRT: for (int64_t i = e0; i < e1; i++) y[i] = sqrtf(x[i]); break;
    case PL_OP_RSQRT: for (int64_t i = e0; i < e1; i++) y[i] = 1.0f / sqrtf(x[i]); break;
    case PL_OP_RELU: for (int64_t i = e0; i < e1; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f; break;
    case PL_OP_RELU6:
        for (int64_t i = e0; i < e1; i++) y[i] = x[i] < 0.0f ? 0.0f : (x[i] > 6.0f ? 6.0f : x[i]);
        break;
    case PL_OP_CLIP:
        for (int64_t i = e0; i < e1; i++)
            y[i] = x[i] < p->clip.lo ? p->clip.lo : (x[i] > p->clip.hi ? p->clip.hi : x[i]);
        break;
    case PL_OP_LEAKY_RELU:
        for (int64_t i = e0; i < e1; i++) y[i] = x[i] >= 0.0f ? x[i] : x[i] * p->alpha;
        break;
    case PL_OP_SIGMOID: for (int64_t i = e0; i < e1; i++) y[i] = 1.0f / (1.0f + expf(-x[i])); break;
    case PL_OP_TANH: for (int64_t i = e0; i < e1; i++) y[i] = tanhf(x[i]); break;
    default: break;
    }
}

/* y = x * scale[c] + shift[c] on the last axis (either may be one value). */
static void run_affine(const pl_graph *g, const pl_node *n, const float *const *in, float *y,
                       int64_t e0, int64_t e1)
{
    const pl_tensor *x = tin(g, n, 0);
    int64_t C = last_dim(x);
    int64_t ns = pl_tensor_numel(tin(g, n, 1)), nb = pl_tensor_numel(tin(g, n, 2));
    for (int64_t i = e0; i < e1; i++) {
        int64_t c = i % C;
        y[i] = in[0][i] * in[1][ns == 1 ? 0 : c] + in[2][nb == 1 ? 0 : c];
    }
}

/* ---- reductions, softmax, l2 ----------------------------------------------- */

/* y[o, i] = reduction over r of x[o, r, i]: every reduction whose reduced
 * axes are adjacent once axes of size 1 are ignored (NHWC global pooling:
 * [1, H*W, C]; a last-axis sum: [rows, n, 1]). The inner loop runs over
 * i, contiguous in x and y (vectorised); each output still takes its
 * inputs in the order of x, as the per-element walk does. */
static void PL_VECTORISE reduce_3d(int is_max, const float *x, float *y, int64_t outer,
                                   int64_t len, int64_t inner)
{
    for (int64_t o = 0; o < outer; o++) {
        float *yo = y + o * inner;
        for (int64_t i = 0; i < inner; i++) yo[i] = is_max ? -INFINITY : 0.0f;
        for (int64_t r = 0; r < len; r++) {
            const float *xp = x + (o * len + r) * inner;
            if (is_max)
                for (int64_t i = 0; i < inner; i++) yo[i] = xp[i] > yo[i] ? xp[i] : yo[i];
            else
                for (int64_t i = 0; i < inner; i++) yo[i] += xp[i];
        }
    }
}

/* Whether the reduced axes (mask) of x are one block once size-1 axes are
 * left out; then x is [outer, len, inner] with len the reduced part. */
static int reduce_block(const pl_tensor *xt, int mask, int64_t *outer, int64_t *len,
                        int64_t *inner)
{
    int seen = 0; /* 0: before the reduced block, 1: in it, 2: after it */
    *outer = *len = *inner = 1;
    for (int d = 0; d < xt->rank; d++) {
        if (xt->dims[d] == 1) continue;
        int red = (mask >> d) & 1;
        if (red && seen == 2) return 0;
        if (red) seen = 1;
        else if (seen == 1) seen = 2;
        *(red ? len : seen ? inner : outer) *= xt->dims[d];
    }
    return 1;
}

static void run_reduce(const pl_graph *g, const pl_node *n, const float *x, float *y)
{
    const pl_tensor *xt = tin(g, n, 0);
    int r = xt->rank, mask = n->params.reduce.axes_mask;
    int64_t outer, len, inner;
    if (reduce_block(xt, mask, &outer, &len, &inner)) {
        reduce_3d(n->op == PL_OP_REDUCE_MAX, x, y, outer, len, inner);
        if (n->op == PL_OP_REDUCE_MEAN)
            for (int64_t i = 0; i < outer * inner; i++) y[i] /= (float)len;
        return;
    }
    int64_t ostride[PL_MAX_RANK], s = 1, count = 1, numel_out = 1;
    for (int d = r - 1; d >= 0; d--) {
        if (mask & (1 << d)) {
            ostride[d] = 0;
            count *= xt->dims[d];
        } else {
            ostride[d] = s;
            s *= xt->dims[d];
            numel_out *= xt->dims[d];
        }
    }
    int is_max = n->op == PL_OP_REDUCE_MAX;
    for (int64_t i = 0; i < numel_out; i++) y[i] = is_max ? -INFINITY : 0.0f;
    int64_t idx[PL_MAX_RANK] = {0}, o = 0, numel = pl_tensor_numel(xt);
    for (int64_t e = 0; e < numel; e++) {
        if (is_max) y[o] = x[e] > y[o] ? x[e] : y[o];
        else y[o] += x[e];
        for (int d = r - 1; d >= 0; d--) {
            o += ostride[d];
            if (++idx[d] < xt->dims[d]) break;
            o -= idx[d] * ostride[d];
            idx[d] = 0;
        }
    }
    if (n->op == PL_OP_REDUCE_MEAN)
        for (int64_t i = 0; i < numel_out; i++) y[i] /= (float)count;
}

static void axis_split(const pl_tensor *t, int axis, int64_t *outer, int64_t *len, int64_t *inner)
{
    if (axis < 0) axis += t->rank;
    *outer = *inner = 1;
    for (int d = 0; d < axis; d++) *outer *= t->dims[d];
    for (int d = axis + 1; d < t->rank; d++) *inner *= t->dims[d];
    *len = t->dims[axis];
}

/* Softmax of len values: max, exponentials (their sum on the way), then
 * divisions. */
static void softmax_strided(const float *x, float *y, int64_t len, int64_t stride)
{
    float m = -INFINITY, sum = 0.0f;
    for (int64_t k = 0; k < len; k++) m = x[k * stride] > m ? x[k * stride] : m;
    for (int64_t k = 0; k < len; k++) sum += y[k * stride] = expf(x[k * stride] - m);
    for (int64_t k = 0; k < len; k++) y[k * stride] /= sum;
}

static void run_softmax(const pl_graph *g, const pl_node *n, const float *x, float *y)
{
    int64_t outer, len, inner;
    axis_split(tin(g, n, 0), n->params.axis, &outer, &len, &inner);
    if (inner == 1) {
        /* The usual case, softmax over the last axis (fr_detect's 4420 pairs
         * of class scores): the same loops with stride 1 known. */
        for (int64_t o = 0; o < outer; o++) softmax_strided(x + o * len, y + o * len, len, 1);
        return;
    }
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++)
            softmax_strided(x + o * len * inner + i, y + o * len * inner + i, len, inner);
}

/* TF l2_normalize: x / sqrt(max(sum(x^2), eps)). */
static void run_l2(const pl_graph *g, const pl_node *n, const float *x, float *y)
{
    int64_t outer, len, inner;
    axis_split(tin(g, n, 0), n->params.axis, &outer, &len, &inner);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            const float *xp = x + o * len * inner + i;
            float *yp = y + o * len * inner + i;
            double sum = 0.0;
            for (int64_t k = 0; k < len; k++) sum += (double)xp[k * inner] * xp[k * inner];
            if (sum < n->params.eps) sum = n->params.eps;
            float inv = (float)(1.0 / sqrt(sum));
            for (int64_t k = 0; k < len; k++) yp[k * inner] = xp[k * inner] * inv;
        }
}

/* ---- data movement ---------------------------------------------------------- */

static void contiguous_strides(const pl_tensor *t, int64_t *st)
{
    int64_t s = 1;
    for (int d = t->rank - 1; d >= 0; d--) {
        st[d] = s;
        s *= t->dims[d];
    }
}

/* Copies `rows` rows of len elements, row r from x + r*xs to y + r*ys.
 * The common short rows (fr_detect's box tail moves pairs of floats, its
 * CONCAT of branches 16-channel pixels) get a memcpy of a size known at
 * compile time, which gcc turns into one or two moves instead of a call
 * per row (half the time on 8-byte rows). */
#define COPY_ROWS_OF(n)                                                        \
    for (int64_t r = 0; r < rows; r++) memcpy(y + r * ys, x + r * xs, sizeof(float) * (size_t)(n)); \
    break;
static void copy_rows(float *y, int64_t ys, const float *x, int64_t xs, int64_t rows, int64_t len)
{
    switch (len) {
    case 1: COPY_ROWS_OF(1)
    case 2: COPY_ROWS_OF(2)
    case 3: COPY_ROWS_OF(3)
    case 4: COPY_ROWS_OF(4)
    case 8: COPY_ROWS_OF(8)
    case 16: COPY_ROWS_OF(16)
    default: COPY_ROWS_OF(len)
    }
}
#undef COPY_ROWS_OF

/* y[p*ys + q] = x[p + q*xs] for p < P, q < Q: a matrix transposition (the
 * input is contiguous along p, the output along q). */
static void PL_VECTORISE transpose_2d(float *y, int64_t ys, const float *x, int64_t xs, int64_t P,
                                      int64_t Q)
{
    /* A few planes interleaved into contiguous pixels (an NCHW image into
     * NHWC: Q = 3 colours): one pass with the planes unrolled, which gcc
     * vectorises with shuffles (fr_detect's 240x320x3 input: 194 -> ~40 us). */
    if (ys == Q && Q >= 2 && Q <= 4) {
        const float *x0 = x, *x1 = x + xs;
        if (Q == 2) {
            for (int64_t p = 0; p < P; p++) {
                y[2 * p] = x0[p];
                y[2 * p + 1] = x1[p];
            }
        } else if (Q == 3) {
            const float *x2 = x + 2 * xs;
            for (int64_t p = 0; p < P; p++) {
                y[3 * p] = x0[p];
                y[3 * p + 1] = x1[p];
                y[3 * p + 2] = x2[p];
            }
        } else {
            const float *x2 = x + 2 * xs, *x3 = x + 3 * xs;
            for (int64_t p = 0; p < P; p++) {
                y[4 * p] = x0[p];
                y[4 * p + 1] = x1[p];
                y[4 * p + 2] = x2[p];
                y[4 * p + 3] = x3[p];
            }
        }
        return;
    }
    /* Otherwise in 16x16 tiles, so that the lines a tile reads and the
     * lines it writes both stay in L1 while it is done. */
    enum { T = 16 };
    for (int64_t p0 = 0; p0 < P; p0 += T) {
        int64_t p1 = p0 + T < P ? p0 + T : P;
        for (int64_t q0 = 0; q0 < Q; q0 += T) {
            int64_t q1 = q0 + T < Q ? q0 + T : Q;
            for (int64_t q = q0; q < q1; q++)
                for (int64_t p = p0; p < p1; p++) y[p * ys + q] = x[p + q * xs];
        }
    }
}

/* y[p*ys + q] = x[p*xps + q*xqs] for p < P, q < Q, by the loop that suits
 * the strides. */
static void copy_2d(float *y, int64_t ys, const float *x, int64_t xps, int64_t xqs, int64_t P,
                    int64_t Q)
{
    if (xqs == 1) {
        copy_rows(y, ys, x, xps, P, Q);
    } else if (xps == 1) {
        transpose_2d(y, ys, x, xqs, P, Q);
    } else {
        for (int64_t p = 0; p < P; p++)
            for (int64_t q = 0; q < Q; q++) y[p * ys + q] = x[p * xps + q * xqs];
    }
}

/* Fills the contiguous y (shape dims) from x, whose element at index idx is
 * x[sum idx[d] * st[d]] (transposition: permuted strides; slice: scaled
 * strides, x already offset to the first element). The axes are coalesced
 * first; then the innermost axis and one other one (the one x is contiguous
 * along, when the innermost is not: a transposition) form 2-D blocks done
 * by copy_2d, and the remaining axes are walked block by block. dims and
 * st are clobbered. */
static void gather(int rank, int64_t *dims, int64_t *st, const float *x, float *y)
{
    int r = coalesce(rank, dims, st, NULL, 0);
    int64_t ys[PL_MAX_RANK], s = 1;
    for (int d = r - 1; d >= 0; d--) {
        ys[d] = s;
        s *= dims[d];
    }
    int q = r - 1, p = r - 2;
    if (st[q] != 1)
        for (int d = 0; d < q; d++)
            if (st[d] == 1) p = d;
    /* An axis of size 1 stands in for p when there is only one axis. */
    int64_t P = p >= 0 ? dims[p] : 1, ysp = p >= 0 ? ys[p] : 0, xsp = p >= 0 ? st[p] : 0;
    int rest[PL_MAX_RANK], n_rest = 0;
    int64_t n_blocks = 1;
    for (int d = 0; d < q; d++)
        if (d != p) {
            rest[n_rest++] = d;
            n_blocks *= dims[d];
        }
    int64_t idx[PL_MAX_RANK] = {0}, xo = 0, yo = 0;
    for (int64_t b = 0; b < n_blocks; b++) {
        copy_2d(y + yo, ysp, x + xo, xsp, st[q], P, dims[q]);
        for (int i = n_rest - 1; i >= 0; i--) {
            int d = rest[i];
            xo += st[d];
            yo += ys[d];
            if (++idx[d] < dims[d]) break;
            xo -= idx[d] * st[d];
            yo -= idx[d] * ys[d];
            idx[d] = 0;
        }
    }
}

static void run_transpose(const pl_graph *g, const pl_node *n, const float *x, float *y)
{
    const pl_tensor *xt = tin(g, n, 0), *yt = tout(g, n);
    if (pl_tensor_numel(yt) == 0) return;
    int64_t xs[PL_MAX_RANK], st[PL_MAX_RANK], dims[PL_MAX_RANK];
    contiguous_strides(xt, xs);
    for (int d = 0; d < xt->rank; d++) {
        st[d] = xs[n->params.transpose.perm[d]];
        dims[d] = yt->dims[d];
    }
    gather(yt->rank, dims, st, x, y);
}

static void run_slice(const pl_graph *g, const pl_node *n, const float *x, float *y)
{
    const pl_tensor *xt = tin(g, n, 0), *yt = tout(g, n);
    if (pl_tensor_numel(yt) == 0) return;
    int64_t xs[PL_MAX_RANK], st[PL_MAX_RANK], dims[PL_MAX_RANK], base = 0;
    contiguous_strides(xt, xs);
    for (int d = 0; d < xt->rank; d++) {
        int64_t b = 0, s = 1;
        if (d < n->params.slice.rank) {
            b = n->params.slice.begin[d];
            s = n->params.slice.stride[d];
            pl_slice_axis(xt->dims[d], &b, n->params.slice.end[d], &s);
        }
        base += b * xs[d];
        st[d] = s * xs[d];
        dims[d] = yt->dims[d];
    }
    gather(yt->rank, dims, st, x + base, y);
}

static void run_concat(const pl_graph *g, const pl_node *n, const float *const *in, float *y)
{
    const pl_tensor *yt = tout(g, n);
    int64_t outer, len, inner;
    axis_split(yt, n->params.axis, &outer, &len, &inner);
    int64_t off = 0;
    for (int k = 0; k < n->n_inputs; k++) {
        const pl_tensor *xt = tin(g, n, k);
        int64_t chunk = outer ? pl_tensor_numel(xt) / outer : 0;
        copy_rows(y + off, len * inner, in[k], chunk, outer, chunk);
        off += chunk;
    }
}

static void run_pad(const pl_graph *g, const pl_node *n, const float *x, float *y)
{
    const pl_tensor *xt = tin(g, n, 0), *yt = tout(g, n);
    int r = xt->rank;
    int64_t ys[PL_MAX_RANK], numel_y = pl_tensor_numel(yt);
    contiguous_strides(yt, ys);
    for (int64_t i = 0; i < numel_y; i++) y[i] = n->params.pad.value;
    if (r == 0) {
        y[0] = x[0];
        return;
    }
    /* Copy the input row by row (innermost axis is contiguous in both). */
    int64_t base = 0, inner = xt->dims[r - 1], rows = pl_tensor_numel(xt) / inner;
    for (int d = 0; d < r; d++) base += n->params.pad.before[d] * ys[d];
    int64_t idx[PL_MAX_RANK] = {0};
    for (int64_t row = 0; row < rows; row++) {
        int64_t o = base;
        for (int d = 0; d < r - 1; d++) o += idx[d] * ys[d];
        memcpy(y + o, x + row * inner, sizeof(float) * (size_t)inner);
        for (int d = r - 2; d >= 0; d--) {
            if (++idx[d] < xt->dims[d]) break;
            idx[d] = 0;
        }
    }
}

/* ---- dispatch ------------------------------------------------------------- */

static int is_elementwise(pl_op op)
{
    return (op >= PL_OP_ADD && op <= PL_OP_AFFINE);
}

int pl_op_n_tasks(const pl_graph *g, const pl_node *n)
{
    const pl_tensor *y = tout(g, n);
    switch (n->op) {
    case PL_OP_CONV2D: return (int)y->dims[1];
    case PL_OP_FULLY_CONNECTED: return (int)y->dims[0];
    case PL_OP_MAX_POOL:
    case PL_OP_AVG_POOL: return (int)(y->dims[0] * y->dims[1]);
    default: break;
    }
    if (is_elementwise(n->op)) {
        int64_t blocks = (pl_tensor_numel(y) + EW_BLOCK - 1) / EW_BLOCK;
        return blocks > 0 ? (int)blocks : 1;
    }
    return 1;
}

void pl_op_run_ref(const pl_graph *g, const pl_node *n, const float *const *in, float *out,
                   int t0, int t1)
{
    int64_t numel = pl_tensor_numel(tout(g, n));
    int64_t e0 = (int64_t)t0 * EW_BLOCK, e1 = (int64_t)t1 * EW_BLOCK;
    if (e1 > numel) e1 = numel;
    switch (n->op) {
    case PL_OP_CONV2D: run_conv(g, n, in, out, t0, t1); break;
    case PL_OP_FULLY_CONNECTED: run_fc(g, n, in, out, t0, t1); break;
    case PL_OP_MAX_POOL:
    case PL_OP_AVG_POOL: run_pool(g, n, in[0], out, t0, t1); break;
    case PL_OP_ADD: case PL_OP_SUB: case PL_OP_MUL: case PL_OP_DIV: case PL_OP_MAXIMUM:
    case PL_OP_MINIMUM: case PL_OP_POW: case PL_OP_SQUARED_DIFF: case PL_OP_PRELU:
        run_binary(g, n, in, out, e0, e1);
        break;
    case PL_OP_AFFINE: run_affine(g, n, in, out, e0, e1); break;
    case PL_OP_REDUCE_MEAN: case PL_OP_REDUCE_MAX: case PL_OP_REDUCE_SUM:
        run_reduce(g, n, in[0], out);
        break;
    case PL_OP_SOFTMAX: run_softmax(g, n, in[0], out); break;
    case PL_OP_L2_NORMALIZE: run_l2(g, n, in[0], out); break;
    case PL_OP_TRANSPOSE: run_transpose(g, n, in[0], out); break;
    case PL_OP_CONCAT: run_concat(g, n, in, out); break;
    case PL_OP_PAD: run_pad(g, n, in[0], out); break;
    case PL_OP_SLICE: run_slice(g, n, in[0], out); break;
    case PL_OP_RESHAPE:
    case PL_OP_IDENTITY:
        if (out != in[0]) memmove(out, in[0], sizeof(float) * (size_t)numel);
        break;
    default:
        run_unary(n, in[0], out, e0, e1);
        break;
    }
}
