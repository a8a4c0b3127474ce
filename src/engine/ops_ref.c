/* ops_ref.c — the reference operators (see ops.h): plain loops, NHWC,
 * float32, one function per family of ops. The session calls them for task
 * ranges; each range is independent, so threads never share an output. */
#include "engine/ops.h"

#include <math.h>
#include <string.h>

/* Elements per task of an element-wise op: big enough that the thread
 * hand-off is negligible, small enough to spread a 112x112x64 map. */
#define EW_BLOCK 16384

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

static void bcast_init(bcast *b, const pl_tensor *a, const pl_tensor *bb, const pl_tensor *o)
{
    if (o->rank == 0) {
        b->rank = 1;
        b->dims[0] = 1;
        b->sa[0] = b->sb[0] = 0;
        return;
    }
    b->rank = o->rank;
    memcpy(b->dims, o->dims, sizeof b->dims);
    strides_into(a, o, b->sa);
    strides_into(bb, o, b->sb);
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

/* One contiguous run of the innermost axis. The switch sits outside the
 * loop so that each case compiles to a tight (vectorisable) loop. */
#define BIN_LOOP(expr)                                                         \
    for (int64_t i = 0; i < run; i++) {                                       \
        float a = pa[i * sa], b = pb[i * sb];                                  \
        y[i] = (expr);                                                         \
    }
/* Same-shape operands (residual ADDs in every embedder): unit strides
 * known at compile time, so gcc vectorises the loop (with a run-time
 * overlap check; element-wise IEEE ops, so the same bits as scalar). A
 * fused ReLU goes in the same loop. Returns 1 when it applied act. */
#define BIN_LOOP_CONTIGUOUS(expr)                                              \
    for (int64_t i = 0; i < run; i++) {                                       \
        float a = pa[i], b = pb[i];                                            \
        y[i] = (expr);                                                         \
    }
#if defined(__GNUC__) && !defined(__clang__)
#define PL_VECTORISE __attribute__((optimize("tree-vectorize", "vect-cost-model=dynamic")))
#else
#define PL_VECTORISE /* clang vectorises such loops at -O2 by itself */
#endif
static int PL_VECTORISE
binary_contiguous(pl_op op, pl_act act, float *y, const float *pa, const float *pb, int64_t run)
{
    if (op == PL_OP_ADD && act == PL_ACT_RELU) {
        BIN_LOOP_CONTIGUOUS(a + b > 0.0f ? a + b : 0.0f)
        return 1;
    }
    switch (op) {
    case PL_OP_ADD: BIN_LOOP_CONTIGUOUS(a + b) break;
    case PL_OP_SUB: BIN_LOOP_CONTIGUOUS(a - b) break;
    case PL_OP_MUL: BIN_LOOP_CONTIGUOUS(a * b) break;
    default: break;
    }
    return act == PL_ACT_NONE;
}
#undef BIN_LOOP_CONTIGUOUS

/* Returns 1 when the fused activation was applied too. */
static int binary_run(pl_op op, pl_act act, float *y, const float *pa, int64_t sa,
                      const float *pb, int64_t sb, int64_t run)
{
    if (sa == 1 && sb == 1 && (op == PL_OP_ADD || op == PL_OP_SUB || op == PL_OP_MUL))
        return binary_contiguous(op, act, y, pa, pb, run);
    switch (op) {
    case PL_OP_ADD: BIN_LOOP(a + b) break;
    case PL_OP_SUB: BIN_LOOP(a - b) break;
    case PL_OP_MUL: BIN_LOOP(a * b) break;
    case PL_OP_DIV: BIN_LOOP(a / b) break;
    default: BIN_LOOP(binary_value(op, a, b)) break;
    }
    return act == PL_ACT_NONE;
}
#undef BIN_LOOP

static void run_binary(const pl_graph *g, const pl_node *n, const float *const *in, float *y,
                       int64_t e0, int64_t e1)
{
    bcast b;
    bcast_init(&b, tin(g, n, 0), tin(g, n, 1), tout(g, n));
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

static void run_reduce(const pl_graph *g, const pl_node *n, const float *x, float *y)
{
    const pl_tensor *xt = tin(g, n, 0);
    int r = xt->rank, mask = n->params.reduce.axes_mask;
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

static void run_softmax(const pl_graph *g, const pl_node *n, const float *x, float *y)
{
    int64_t outer, len, inner;
    axis_split(tin(g, n, 0), n->params.axis, &outer, &len, &inner);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            const float *xp = x + o * len * inner + i;
            float *yp = y + o * len * inner + i;
            float m = -INFINITY, sum = 0.0f;
            for (int64_t k = 0; k < len; k++) m = xp[k * inner] > m ? xp[k * inner] : m;
            for (int64_t k = 0; k < len; k++) sum += yp[k * inner] = expf(xp[k * inner] - m);
            for (int64_t k = 0; k < len; k++) yp[k * inner] /= sum;
        }
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

/* Walks the output in order; the input offset follows per-axis strides. */
static void gather(const pl_tensor *yt, const int64_t *in_stride, int64_t base, const float *x,
                   float *y)
{
    int r = yt->rank;
    int64_t idx[PL_MAX_RANK] = {0}, o = base, numel = pl_tensor_numel(yt);
    for (int64_t e = 0; e < numel; e++) {
        y[e] = x[o];
        for (int d = r - 1; d >= 0; d--) {
            o += in_stride[d];
            if (++idx[d] < yt->dims[d]) break;
            o -= idx[d] * in_stride[d];
            idx[d] = 0;
        }
    }
}

static void run_transpose(const pl_graph *g, const pl_node *n, const float *x, float *y)
{
    const pl_tensor *xt = tin(g, n, 0);
    int64_t xs[PL_MAX_RANK], st[PL_MAX_RANK];
    contiguous_strides(xt, xs);
    for (int d = 0; d < xt->rank; d++) st[d] = xs[n->params.transpose.perm[d]];
    gather(tout(g, n), st, 0, x, y);
}

static void run_slice(const pl_graph *g, const pl_node *n, const float *x, float *y)
{
    const pl_tensor *xt = tin(g, n, 0);
    int64_t xs[PL_MAX_RANK], st[PL_MAX_RANK], base = 0;
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
    }
    gather(tout(g, n), st, base, x, y);
}

static void run_concat(const pl_graph *g, const pl_node *n, const float *const *in, float *y)
{
    const pl_tensor *yt = tout(g, n);
    int64_t outer, len, inner;
    axis_split(yt, n->params.axis, &outer, &len, &inner);
    int64_t off = 0;
    for (int k = 0; k < n->n_inputs; k++) {
        const pl_tensor *xt = tin(g, n, k);
        int64_t chunk = pl_tensor_numel(xt) / outer;
        for (int64_t o = 0; o < outer; o++)
            memcpy(y + o * len * inner + off, in[k] + o * chunk, sizeof(float) * (size_t)chunk);
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
