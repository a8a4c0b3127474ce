/* rewrite.c — load-time graph rewrites (pl_graph_optimize, graph.h).
 *
 * Owns: recognising the decompositions converters leave in model files and
 * replacing them with single ops the kernels run in one pass:
 *   a. PReLU:   RELU(x) + alpha*NEG(RELU(NEG x))   (MTCNN, TFLite)
 *               RELU(x) + c*(x - ABS x)            (MobileFaceNet; alpha = 2c)
 *      ReLU6 / clip: MIN(RELU x, k), RELU(MIN(x, k)), MIN(MAX(x, a), b), ...
 *   b. softmax: REDUCE_MAX, SUB, EXP, REDUCE_SUM, DIV  -> SOFTMAX
 *   c. AFFINE, or MUL / ADD by a per-channel constant, right after a
 *      CONV2D / FULLY_CONNECTED -> folded into (copies of) its weights/bias
 *   d. CONV2D / FC / ADD followed by an activation -> params.act
 *   e. dead nodes (outputs nobody reads) removed.
 * Every rewrite keeps the results equal to float rounding; it only fires
 * when the intermediate tensors have no other reader and are not graph
 * outputs. Shapes are not known here, so constants are checked by their
 * own shapes (per-channel = one value, or [.., 1, C]).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/graph.h"

typedef struct rw {
    pl_graph *g;
    int *prod;           /* per tensor: producing node, or -1     */
    int *ncons;          /* per tensor: readers (+1 if an output) */
    unsigned char *dead; /* per node                               */
} rw;

static void rw_index(rw *r)
{
    pl_graph *g = r->g;
    for (int t = 0; t < g->n_tensors; t++) r->prod[t] = -1, r->ncons[t] = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        if (r->dead[i]) continue;
        const pl_node *n = &g->nodes[i];
        r->prod[n->outputs[0]] = i;
        for (int k = 0; k < n->n_inputs; k++)
            if (n->inputs[k] >= 0) r->ncons[n->inputs[k]]++;
    }
    for (int i = 0; i < g->n_outputs; i++) r->ncons[g->outputs[i]]++;
}

/* The live node producing t with op `op` (and no fused act) when t has
 * exactly one reader, else NULL. */
static pl_node *sole(rw *r, int t, pl_op op)
{
    if (t < 0 || r->ncons[t] != 1 || r->prod[t] < 0) return NULL;
    pl_node *n = &r->g->nodes[r->prod[t]];
    return n->op == op && n->params.act == PL_ACT_NONE ? n : NULL;
}

static pl_node *producer(rw *r, int t, pl_op op)
{
    if (t < 0 || r->prod[t] < 0) return NULL;
    pl_node *n = &r->g->nodes[r->prod[t]];
    return n->op == op && n->params.act == PL_ACT_NONE ? n : NULL;
}

static const pl_tensor *konst(rw *r, int t)
{
    return t >= 0 && r->g->tensors[t].is_const ? &r->g->tensors[t] : NULL;
}

/* One value, or C values along the last axis with every other axis 1. */
static int per_channel(const pl_tensor *c, int64_t channels)
{
    int64_t n = pl_tensor_numel(c);
    if (n == 1) return 1;
    if (n != channels || c->rank < 1 || c->dims[c->rank - 1] != n) return 0;
    return 1;
}

static int scalar_value(rw *r, int t, float *v)
{
    const pl_tensor *c = konst(r, t);
    if (!c || pl_tensor_numel(c) != 1) return 0;
    *v = c->data[0];
    return 1;
}

static int set_inputs(pl_node *n, const int *in, int count)
{
    int *p = realloc(n->inputs, sizeof(int) * (size_t)(count ? count : 1));
    if (!p) return 0;
    memcpy(p, in, sizeof(int) * (size_t)count);
    n->inputs = p;
    n->n_inputs = count;
    return 1;
}

/* Turn node n into `op` on in[0..count) with fresh parameters. */
static int become(pl_node *n, pl_op op, const int *in, int count)
{
    if (!set_inputs(n, in, count)) return 0;
    pl_node_params keep = n->params;
    memset(&n->params, 0, sizeof n->params);
    n->params.clip = keep.clip;
    n->params.eps = keep.eps;
    n->op = op;
    return 1;
}

static int is_tiny_slope(const pl_tensor *c)
{
    for (int d = 0; d + 1 < c->rank; d++)
        if (c->dims[d] != 1) return 0;
    return 1;
}

/* ---- a. PReLU, ReLU6, clip ------------------------------------------------- */

/* RELU(x) + alpha * NEG(RELU(NEG x)), the ADD being n. */
static int prelu_mtcnn(rw *r, pl_node *n, int relu_t, int mul_t)
{
    pl_node *relu = sole(r, relu_t, PL_OP_RELU), *mul = sole(r, mul_t, PL_OP_MUL);
    if (!relu || !mul) return 0;
    int x = relu->inputs[0];
    for (int k = 0; k < 2; k++) {
        const pl_tensor *alpha = konst(r, mul->inputs[k]);
        pl_node *neg2 = sole(r, mul->inputs[1 - k], PL_OP_NEG);
        pl_node *relu2 = neg2 ? sole(r, neg2->inputs[0], PL_OP_RELU) : NULL;
        pl_node *neg1 = relu2 ? sole(r, relu2->inputs[0], PL_OP_NEG) : NULL;
        if (!alpha || !neg1 || neg1->inputs[0] != x || !is_tiny_slope(alpha)) continue;
        int in[2] = {x, mul->inputs[k]};
        return become(n, PL_OP_PRELU, in, 2);
    }
    return 0;
}

/* RELU(x) + c * (x - ABS x): alpha = 2c, a new constant. */
static int prelu_mobilefacenet(rw *r, pl_node *n, int relu_t, int mul_t)
{
    pl_node *relu = sole(r, relu_t, PL_OP_RELU), *mul = sole(r, mul_t, PL_OP_MUL);
    if (!relu || !mul) return 0;
    int x = relu->inputs[0];
    for (int k = 0; k < 2; k++) {
        const pl_tensor *c = konst(r, mul->inputs[k]);
        pl_node *sub = sole(r, mul->inputs[1 - k], PL_OP_SUB);
        pl_node *abs = sub ? sole(r, sub->inputs[1], PL_OP_ABS) : NULL;
        if (!c || !abs || sub->inputs[0] != x || abs->inputs[0] != x || !is_tiny_slope(c)) continue;
        int64_t cnt = pl_tensor_numel(c);
        float *alpha = malloc(sizeof(float) * (size_t)cnt);
        if (!alpha) return 0;
        for (int64_t i = 0; i < cnt; i++) alpha[i] = 2.0f * c->data[i];
        char name[300];
        snprintf(name, sizeof name, "%.280s/alpha", n->name);
        int64_t dims[PL_MAX_RANK];
        memcpy(dims, c->dims, sizeof dims);
        int a = pl_graph_add_const(r->g, name, c->rank, dims, alpha);
        if (a < 0) return 0;
        int in[2] = {x, a};
        return become(n, PL_OP_PRELU, in, 2);
    }
    return 0;
}

static int rewrite_prelu(rw *r, pl_node *n)
{
    if (n->op != PL_OP_ADD || n->params.act != PL_ACT_NONE || n->n_inputs != 2) return 0;
    for (int k = 0; k < 2; k++) {
        if (prelu_mtcnn(r, n, n->inputs[k], n->inputs[1 - k])) return 1;
        if (prelu_mobilefacenet(r, n, n->inputs[k], n->inputs[1 - k])) return 1;
    }
    return 0;
}

static int make_clip(pl_node *n, int x, float lo, float hi)
{
    if (!(lo <= hi)) return 0;
    if (!become(n, lo == 0.0f && hi == 6.0f ? PL_OP_RELU6 : PL_OP_CLIP, &x, 1)) return 0;
    if (lo == 0.0f && isinf(hi) && hi > 0) n->op = PL_OP_RELU;
    n->params.clip.lo = lo;
    n->params.clip.hi = hi;
    return 1;
}

/* MIN(u, k) / MAX(u, k) with a scalar constant k: returns u, or -1. */
static int bound_arg(rw *r, const pl_node *n, float *k)
{
    if (n->n_inputs != 2 || n->params.act != PL_ACT_NONE) return -1;
    if (scalar_value(r, n->inputs[1], k)) return n->inputs[0];
    if (scalar_value(r, n->inputs[0], k)) return n->inputs[1];
    return -1;
}

/* The interval a clamp-like node n limits its input x to; returns x or -1. */
static int clamp_of(rw *r, const pl_node *n, float *lo, float *hi)
{
    float k;
    int x;
    *lo = -INFINITY;
    *hi = INFINITY;
    switch (n->op) {
    case PL_OP_RELU: *lo = 0.0f; return n->inputs[0];
    case PL_OP_RELU6: *lo = 0.0f; *hi = 6.0f; return n->inputs[0];
    case PL_OP_CLIP: *lo = n->params.clip.lo; *hi = n->params.clip.hi; return n->inputs[0];
    case PL_OP_MAXIMUM:
        if ((x = bound_arg(r, n, &k)) >= 0) *lo = k;
        return x;
    case PL_OP_MINIMUM:
        if ((x = bound_arg(r, n, &k)) >= 0) *hi = k;
        return x;
    default: return -1;
    }
}

static int act_interval(const pl_node *p, float *lo, float *hi)
{
    switch (p->params.act) {
    case PL_ACT_RELU: *lo = 0.0f; *hi = INFINITY; return 1;
    case PL_ACT_RELU6: *lo = 0.0f; *hi = 6.0f; return 1;
    case PL_ACT_CLIP: *lo = p->params.clip.lo; *hi = p->params.clip.hi; return 1;
    default: return 0;
    }
}

static float clampf(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }

static void set_clamp_act(pl_node *p, float lo, float hi)
{
    p->params.act = PL_ACT_CLIP;
    if (lo == 0.0f && hi == 6.0f) p->params.act = PL_ACT_RELU6;
    if (lo == 0.0f && isinf(hi) && hi > 0) p->params.act = PL_ACT_RELU;
    p->params.clip.lo = lo;
    p->params.clip.hi = hi;
}

/* A clamp after a conv/fc/add that already clamps (faceres: conv+Relu,
 * Minimum 6, Maximum 0): compose both into the producer's activation.
 * A lone MAXIMUM/MINIMUM by a scalar becomes a CLIP the fusion pass takes. */
static int rewrite_clamp_chain(rw *r, pl_node *n, int ni)
{
    float a, b, lo, hi;
    int x = clamp_of(r, n, &a, &b);
    if (x < 0 || n->params.act != PL_ACT_NONE || !(a <= b)) return 0;
    if (r->ncons[x] == 1 && r->prod[x] >= 0) {
        pl_node *p = &r->g->nodes[r->prod[x]];
        if ((p->op == PL_OP_CONV2D || p->op == PL_OP_FULLY_CONNECTED || p->op == PL_OP_ADD) &&
            act_interval(p, &lo, &hi)) {
            set_clamp_act(p, clampf(lo, a, b), clampf(hi, a, b));
            p->outputs[0] = n->outputs[0];
            r->dead[ni] = 1;
            return 1;
        }
    }
    if (n->op == PL_OP_MAXIMUM || n->op == PL_OP_MINIMUM) return make_clip(n, x, a, b);
    return 0;
}

static int rewrite_clip(rw *r, pl_node *n)
{
    float k, k2;
    pl_node *inner;
    if (n->op == PL_OP_MINIMUM) {
        int u = bound_arg(r, n, &k);
        if (u < 0) return 0;
        if ((inner = sole(r, u, PL_OP_RELU))) return make_clip(n, inner->inputs[0], 0.0f, k);
        if ((inner = sole(r, u, PL_OP_MAXIMUM))) {
            int x = bound_arg(r, inner, &k2);
            if (x >= 0) return make_clip(n, x, k2, k);
        }
    } else if (n->op == PL_OP_MAXIMUM) {
        int u = bound_arg(r, n, &k);
        if (u < 0) return 0;
        if ((inner = sole(r, u, PL_OP_MINIMUM))) {
            int x = bound_arg(r, inner, &k2);
            if (x >= 0) return make_clip(n, x, k, k2);
        }
    } else if (n->op == PL_OP_RELU) {
        if ((inner = sole(r, n->inputs[0], PL_OP_MINIMUM))) {
            int x = bound_arg(r, inner, &k);
            if (x >= 0 && k >= 0.0f) return make_clip(n, x, 0.0f, k);
        }
    }
    return 0;
}

/* ---- b. softmax ---------------------------------------------------------- */

static int single_axis(int mask)
{
    if (mask <= 0 || (mask & (mask - 1))) return -1;
    int a = 0;
    while (!(mask & (1 << a))) a++;
    return a;
}

static int rewrite_softmax(rw *r, pl_node *n)
{
    if (n->op != PL_OP_DIV || n->params.act != PL_ACT_NONE) return 0;
    int e_t = n->inputs[0];
    pl_node *exp = producer(r, e_t, PL_OP_EXP);
    pl_node *sum = sole(r, n->inputs[1], PL_OP_REDUCE_SUM);
    if (!exp || !sum || sum->inputs[0] != e_t || r->ncons[e_t] != 2) return 0;
    pl_node *sub = sole(r, exp->inputs[0], PL_OP_SUB);
    if (!sub) return 0;
    int x = sub->inputs[0];
    pl_node *max = sole(r, sub->inputs[1], PL_OP_REDUCE_MAX);
    if (!max || max->inputs[0] != x) return 0;
    int axis = single_axis(sum->params.reduce.axes_mask);
    if (axis < 0 || max->params.reduce.axes_mask != sum->params.reduce.axes_mask ||
        !sum->params.reduce.keep_dims || !max->params.reduce.keep_dims)
        return 0;
    if (!become(n, PL_OP_SOFTMAX, &x, 1)) return 0;
    n->params.axis = axis;
    return 1;
}

/* ---- c. folding a per-channel scale/shift into conv / fc ------------------- */

static float *copy_floats(const float *src, int64_t n)
{
    float *d = malloc(sizeof(float) * (size_t)(n ? n : 1));
    if (d && src) memcpy(d, src, sizeof(float) * (size_t)n);
    return d;
}

/* Replace the conv/fc's weights and bias by scaled copies:
 * w'[o] = w[o]*s[o], b'[o] = b[o]*s[o] + t[o] (s, t may be NULL). */
static int fold_into(rw *r, pl_node *conv, const pl_tensor *s, const pl_tensor *t)
{
    pl_graph *g = r->g;
    const pl_tensor *w = &g->tensors[conv->inputs[1]];
    int64_t cout = w->dims[0], per = pl_tensor_numel(w) / cout;
    int has_b = conv->n_inputs > 2 && conv->inputs[2] >= 0;
    float *nw = s ? copy_floats(w->data, pl_tensor_numel(w)) : NULL;
    float *nb = copy_floats(has_b ? g->tensors[conv->inputs[2]].data : NULL, cout);
    if ((s && !nw) || !nb) {
        free(nw);
        free(nb);
        return 0;
    }
    if (!has_b) memset(nb, 0, sizeof(float) * (size_t)cout);
    int64_t ns = s ? pl_tensor_numel(s) : 0, nt = t ? pl_tensor_numel(t) : 0;
    for (int64_t o = 0; o < cout; o++) {
        if (s) {
            float sc = s->data[ns == 1 ? 0 : o];
            for (int64_t i = 0; i < per; i++) nw[o * per + i] *= sc;
            nb[o] *= sc;
        }
        if (t) nb[o] += t->data[nt == 1 ? 0 : o];
    }
    char name[300];
    int64_t wd[PL_MAX_RANK], bd[1] = {cout};
    memcpy(wd, w->dims, sizeof wd);
    int wrank = w->rank, wi = conv->inputs[1];
    if (nw) {
        snprintf(name, sizeof name, "%.280s/folded_w", conv->name);
        wi = pl_graph_add_const(g, name, wrank, wd, nw);
        if (wi < 0) {
            free(nb);
            return 0;
        }
    }
    snprintf(name, sizeof name, "%.280s/folded_b", conv->name);
    int bi = pl_graph_add_const(g, name, 1, bd, nb);
    if (bi < 0) return 0;
    int in[4] = {conv->inputs[0], wi, bi, -1};
    int count = 3;
    if (conv->n_inputs > 3) in[count++] = conv->inputs[3];
    return set_inputs(conv, in, count);
}

static int rewrite_fold(rw *r, pl_node *n, int ni)
{
    if (n->op != PL_OP_AFFINE && n->op != PL_OP_MUL && n->op != PL_OP_ADD) return 0;
    if (n->params.act != PL_ACT_NONE) return 0;
    for (int k = 0; k < (n->op == PL_OP_AFFINE ? 1 : 2); k++) {
        int y = n->inputs[k];
        if (y < 0 || r->ncons[y] != 1 || r->prod[y] < 0) continue;
        pl_node *conv = &r->g->nodes[r->prod[y]];
        if ((conv->op != PL_OP_CONV2D && conv->op != PL_OP_FULLY_CONNECTED) ||
            conv->params.act != PL_ACT_NONE)
            continue;
        int64_t cout = r->g->tensors[conv->inputs[1]].dims[0];
        const pl_tensor *s = NULL, *t = NULL;
        if (n->op == PL_OP_AFFINE) {
            s = konst(r, n->inputs[1]);
            t = konst(r, n->inputs[2]);
            if (!s || !t) return 0;
        } else {
            const pl_tensor *c = konst(r, n->inputs[1 - k]);
            if (!c) continue;
            if (n->op == PL_OP_MUL) s = c;
            else t = c;
        }
        if ((s && !per_channel(s, cout)) || (t && !per_channel(t, cout))) continue;
        if (!fold_into(r, conv, s, t)) return 0;
        conv->outputs[0] = n->outputs[0];
        r->dead[ni] = 1;
        return 1;
    }
    return 0;
}

/* ---- d. activation fusion --------------------------------------------------- */

static int act_of(const pl_node *a, pl_act *act)
{
    switch (a->op) {
    case PL_OP_RELU: *act = PL_ACT_RELU; return 1;
    case PL_OP_RELU6: *act = PL_ACT_RELU6; return 1;
    case PL_OP_CLIP: *act = PL_ACT_CLIP; return 1;
    case PL_OP_SIGMOID: *act = PL_ACT_SIGMOID; return 1;
    case PL_OP_TANH: *act = PL_ACT_TANH; return 1;
    case PL_OP_LEAKY_RELU: *act = PL_ACT_LEAKY; return 1;
    case PL_OP_PRELU: *act = PL_ACT_PRELU; return 1;
    default: return 0;
    }
}

static int rewrite_fuse_act(rw *r, pl_node *n, int ni)
{
    pl_act act = PL_ACT_NONE;
    if (!act_of(n, &act)) return 0;
    int y = n->inputs[0];
    if (y < 0 || r->ncons[y] != 1 || r->prod[y] < 0) return 0;
    pl_node *p = &r->g->nodes[r->prod[y]];
    if ((p->op != PL_OP_CONV2D && p->op != PL_OP_FULLY_CONNECTED && p->op != PL_OP_ADD) ||
        p->params.act != PL_ACT_NONE)
        return 0;
    if (act == PL_ACT_PRELU) {
        const pl_tensor *slope = konst(r, n->inputs[1]);
        if (!slope || !is_tiny_slope(slope)) return 0;
        if (p->op != PL_OP_ADD) {
            int64_t cout = r->g->tensors[p->inputs[1]].dims[0];
            if (!per_channel(slope, cout)) return 0;
        }
        int in[4] = {p->inputs[0], p->inputs[1], -1, n->inputs[1]};
        int count;
        if (p->op == PL_OP_ADD) {
            in[2] = n->inputs[1];
            count = 3;
        } else {
            if (p->n_inputs > 2) in[2] = p->inputs[2];
            count = 4;
        }
        if (!set_inputs(p, in, count)) return 0;
    }
    p->params.act = act;
    p->params.alpha = n->params.alpha;
    p->params.clip = n->params.clip;
    if (act == PL_ACT_RELU6) p->params.clip.lo = 0, p->params.clip.hi = 6;
    p->outputs[0] = n->outputs[0];
    r->dead[ni] = 1;
    return 1;
}

/* ---- e. dead nodes, and compaction ------------------------------------------- */

static int mark_dead(rw *r)
{
    int changed = 0;
    for (int i = r->g->n_nodes - 1; i >= 0; i--) {
        if (r->dead[i]) continue;
        pl_node *n = &r->g->nodes[i];
        if (r->ncons[n->outputs[0]] == 0) {
            r->dead[i] = 1;
            for (int k = 0; k < n->n_inputs; k++)
                if (n->inputs[k] >= 0) r->ncons[n->inputs[k]]--;
            changed = 1;
        }
    }
    return changed;
}

static void compact(rw *r)
{
    pl_graph *g = r->g;
    int w = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        if (r->dead[i]) {
            free(g->nodes[i].name);
            free(g->nodes[i].inputs);
            free(g->nodes[i].outputs);
            continue;
        }
        g->nodes[w++] = g->nodes[i];
    }
    g->n_nodes = w;
}

/* Constants nothing reads any more (weights replaced by folded copies)
 * give their memory back; the tensor stays, as an unused activation, so
 * that indices do not move. */
static void release_orphans(rw *r)
{
    pl_graph *g = r->g;
    for (int t = 0; t < g->n_tensors; t++) {
        pl_tensor *tt = &g->tensors[t];
        if (!tt->is_const || r->ncons[t] > 0) continue;
        free(tt->data);
        tt->data = NULL;
        tt->is_const = 0;
        tt->rank = 0;
    }
}

typedef int (*rule_fn)(rw *r, pl_node *n, int ni);
static int rule_prelu(rw *r, pl_node *n, int ni) { (void)ni; return rewrite_prelu(r, n); }
static int rule_clip(rw *r, pl_node *n, int ni) { (void)ni; return rewrite_clip(r, n); }
static int rule_softmax(rw *r, pl_node *n, int ni) { (void)ni; return rewrite_softmax(r, n); }
/* After fusion: clamps left behind a producer that already clamps. */
static int rule_clamp_chain(rw *r, pl_node *n, int ni) { return rewrite_clamp_chain(r, n, ni); }

pl_status pl_graph_optimize(pl_graph *g, pl_error *err)
{
    /* the passes in order: patterns first (they need unfused ops), then
     * folding, then fusion; each pass runs to a fixed point */
    static const rule_fn rules[] = {rule_prelu, rule_clip, rule_softmax, rewrite_fold,
                                    rewrite_fuse_act, rule_clamp_chain, rewrite_fuse_act};
    rw r = {g, NULL, NULL, NULL};
    size_t cap = (size_t)g->n_tensors + (size_t)g->n_nodes * 4 + 16;
    r.dead = calloc((size_t)g->n_nodes + 1, 1);
    r.prod = malloc(sizeof(int) * cap);
    r.ncons = malloc(sizeof(int) * cap);
    pl_status st = PL_OK;
    if (!r.dead || !r.prod || !r.ncons) {
        st = pl_fail(err, PL_ERR_NOMEM, "%s: out of memory optimising", g->source);
        goto done;
    }
    for (size_t k = 0; k < sizeof rules / sizeof rules[0]; k++) {
        for (int changed = 1; changed;) {
            changed = 0;
            rw_index(&r);
            mark_dead(&r);
            for (int i = 0; i < g->n_nodes; i++) {
                if (r.dead[i]) continue;
                if ((size_t)g->n_tensors + 8 > cap) break; /* new constants: re-index */
                if (rules[k](&r, &g->nodes[i], i)) {
                    changed = 1;
                    break; /* indices are stale: re-index and go again */
                }
            }
            if ((size_t)g->n_tensors + 8 > cap) {
                cap = (size_t)g->n_tensors * 2 + 16;
                int *p1 = realloc(r.prod, sizeof(int) * cap), *p2 = NULL;
                if (p1) r.prod = p1;
                if (p1) p2 = realloc(r.ncons, sizeof(int) * cap);
                if (p2) r.ncons = p2;
                if (!p1 || !p2) {
                    st = pl_fail(err, PL_ERR_NOMEM, "%s: out of memory optimising", g->source);
                    goto done;
                }
                changed = 1;
            }
        }
    }
    rw_index(&r);
    while (mark_dead(&r)) {}
    compact(&r);
    memset(r.dead, 0, (size_t)g->n_nodes + 1);
    rw_index(&r);
    release_orphans(&r);
    st = pl_graph_validate(g, err);
    if (st != PL_OK) pl_error_prefix(err, "after optimising: ");
done:
    free(r.dead);
    free(r.prod);
    free(r.ncons);
    return st;
}
