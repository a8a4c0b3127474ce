/* graph.c — building, checking and shaping a pl_graph (see graph.h).
 *
 * Owns: the builder calls, pl_graph_validate (structure only: indices,
 * arity, constants where an op needs them) and pl_graph_infer_shapes (every
 * activation's dims from the inputs' dims). Nothing here computes values.
 */
#include "engine/graph.h"
#include "engine/ops.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest tensor we accept (elements): guards size arithmetic everywhere. */
#define PL_MAX_NUMEL ((int64_t)1 << 31)

static const char *const op_names[] = {
    "CONV2D", "FULLY_CONNECTED", "MAX_POOL", "AVG_POOL",
    "ADD", "SUB", "MUL", "DIV", "MAXIMUM", "MINIMUM", "POW", "SQUARED_DIFF",
    "NEG", "ABS", "EXP", "LOG", "SQRT", "RSQRT", "RELU", "RELU6", "CLIP",
    "LEAKY_RELU", "SIGMOID", "TANH", "PRELU", "AFFINE",
    "REDUCE_MEAN", "REDUCE_MAX", "REDUCE_SUM", "SOFTMAX", "L2_NORMALIZE",
    "RESHAPE", "TRANSPOSE", "CONCAT", "PAD", "SLICE", "IDENTITY",
};
_Static_assert(sizeof op_names / sizeof op_names[0] == PL_OP_COUNT,
               "op_names must list every pl_op");

const char *pl_op_name(pl_op op)
{
    return (unsigned)op < PL_OP_COUNT ? op_names[op] : "?";
}

/* ---- building ------------------------------------------------------------ */

static char *dup_str(const char *s)
{
    if (!s) s = "";
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

pl_graph *pl_graph_new(const char *source)
{
    pl_graph *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->source = dup_str(source ? source : "(graph)");
    if (!g->source) {
        free(g);
        return NULL;
    }
    return g;
}

void pl_graph_free(pl_graph *g)
{
    if (!g) return;
    for (int i = 0; i < g->n_tensors; i++) {
        free(g->tensors[i].name);
        free(g->tensors[i].data);
    }
    for (int i = 0; i < g->n_nodes; i++) {
        free(g->nodes[i].name);
        free(g->nodes[i].inputs);
        free(g->nodes[i].outputs);
    }
    free(g->tensors);
    free(g->nodes);
    free(g->source);
    free(g);
}

static int grow(void **arr, int *cap, int need, size_t elem)
{
    if (need <= *cap) return 1;
    int ncap = *cap ? *cap * 2 : 16;
    while (ncap < need) ncap *= 2;
    void *p = realloc(*arr, (size_t)ncap * elem);
    if (!p) return 0;
    *arr = p;
    *cap = ncap;
    return 1;
}

int pl_graph_add_tensor(pl_graph *g, const char *name)
{
    if (!grow((void **)&g->tensors, &g->cap_tensors, g->n_tensors + 1, sizeof(pl_tensor)))
        return -1;
    pl_tensor *t = &g->tensors[g->n_tensors];
    memset(t, 0, sizeof *t);
    t->name = dup_str(name);
    if (!t->name) return -1;
    t->first_use = t->last_use = -1;
    return g->n_tensors++;
}

int pl_graph_add_const(pl_graph *g, const char *name, int rank,
                       const int64_t *dims, float *data)
{
    if (rank < 0 || rank > PL_MAX_RANK || !data) {
        free(data);
        return -1;
    }
    int idx = pl_graph_add_tensor(g, name);
    if (idx < 0) {
        free(data);
        return -1;
    }
    pl_tensor *t = &g->tensors[idx];
    t->rank = rank;
    for (int i = 0; i < rank; i++) t->dims[i] = dims[i];
    t->data = data;
    t->is_const = 1;
    return idx;
}

void pl_node_params_default(pl_node_params *p)
{
    memset(p, 0, sizeof *p);
    p->conv.stride_h = p->conv.stride_w = 1;
    p->conv.dilation_h = p->conv.dilation_w = 1;
    p->conv.groups = 1;
    p->pool.stride_h = p->pool.stride_w = 1;
    p->clip.lo = -INFINITY;
    p->clip.hi = INFINITY;
    p->eps = 1e-12f;
}

pl_node *pl_graph_add_node(pl_graph *g, pl_op op, const char *name,
                           const int *inputs, int n_inputs,
                           const int *outputs, int n_outputs)
{
    if (n_inputs < 0 || n_outputs < 0) return NULL;
    if (!grow((void **)&g->nodes, &g->cap_nodes, g->n_nodes + 1, sizeof(pl_node)))
        return NULL;
    pl_node *n = &g->nodes[g->n_nodes];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->name = dup_str(name);
    n->inputs = malloc(sizeof(int) * (size_t)(n_inputs ? n_inputs : 1));
    n->outputs = malloc(sizeof(int) * (size_t)(n_outputs ? n_outputs : 1));
    if (!n->name || !n->inputs || !n->outputs) {
        free(n->name);
        free(n->inputs);
        free(n->outputs);
        return NULL;
    }
    if (n_inputs) memcpy(n->inputs, inputs, sizeof(int) * (size_t)n_inputs);
    if (n_outputs) memcpy(n->outputs, outputs, sizeof(int) * (size_t)n_outputs);
    n->n_inputs = n_inputs;
    n->n_outputs = n_outputs;
    pl_node_params_default(&n->params);
    g->n_nodes++;
    return n;
}

int pl_graph_add_input(pl_graph *g, int tensor, int rank, const int64_t *dims)
{
    if (g->n_inputs >= 8 || tensor < 0 || tensor >= g->n_tensors || rank < 0 ||
        rank > PL_MAX_RANK)
        return -1;
    int i = g->n_inputs++;
    g->inputs[i] = tensor;
    g->input_rank[i] = rank;
    pl_tensor *t = &g->tensors[tensor];
    t->rank = rank;
    for (int d = 0; d < rank; d++) t->dims[d] = g->input_dims[i][d] = dims[d];
    return i;
}

int pl_graph_add_output(pl_graph *g, int tensor)
{
    if (g->n_outputs >= 16 || tensor < 0 || tensor >= g->n_tensors) return -1;
    g->outputs[g->n_outputs] = tensor;
    return g->n_outputs++;
}

int pl_graph_find_tensor(const pl_graph *g, const char *name)
{
    for (int i = 0; i < g->n_tensors; i++)
        if (g->tensors[i].name && !strcmp(g->tensors[i].name, name)) return i;
    return -1;
}

int pl_graph_producer(const pl_graph *g, int t)
{
    for (int i = 0; i < g->n_nodes; i++)
        for (int o = 0; o < g->nodes[i].n_outputs; o++)
            if (g->nodes[i].outputs[o] == t) return i;
    return -1;
}

int pl_graph_n_consumers(const pl_graph *g, int t)
{
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_inputs; k++)
            if (g->nodes[i].inputs[k] == t) n++;
    for (int i = 0; i < g->n_outputs; i++)
        if (g->outputs[i] == t) n++;
    return n;
}

int64_t pl_tensor_numel(const pl_tensor *t)
{
    int64_t n = 1;
    for (int i = 0; i < t->rank; i++) n *= t->dims[i];
    return n;
}

/* ---- validation ---------------------------------------------------------- */

/* Inputs an op takes: [min, max]; max -1 = any number. */
static void op_arity(const pl_node *n, int *lo, int *hi)
{
    int prelu = n->params.act == PL_ACT_PRELU;
    switch (n->op) {
    case PL_OP_CONV2D:
    case PL_OP_FULLY_CONNECTED: *lo = 2; *hi = 4; break;
    case PL_OP_ADD: case PL_OP_SUB: case PL_OP_MUL: case PL_OP_DIV:
    case PL_OP_MAXIMUM: case PL_OP_MINIMUM: case PL_OP_POW: case PL_OP_SQUARED_DIFF:
        *lo = 2; *hi = prelu ? 3 : 2; break;
    case PL_OP_PRELU: *lo = *hi = 2; break;
    case PL_OP_AFFINE: *lo = *hi = 3; break;
    case PL_OP_RESHAPE: *lo = 1; *hi = 2; break; /* a 2nd (shape) input is ignored */
    case PL_OP_CONCAT: *lo = 1; *hi = -1; break;
    default: *lo = *hi = 1; break;
    }
}

static const char *node_label(const pl_node *n, char *buf, size_t size)
{
    snprintf(buf, size, "node '%.200s' (%s)", n->name ? n->name : "", pl_op_name(n->op));
    return buf;
}

static int is_optional_input(const pl_node *n, int k)
{
    if (n->op == PL_OP_CONV2D || n->op == PL_OP_FULLY_CONNECTED) return k == 2;
    return 0;
}

static pl_status validate_params(const pl_graph *g, const pl_node *n, const char *who,
                                 pl_error *err)
{
    const pl_node_params *p = &n->params;
    const char *src = g->source;
    if ((unsigned)p->act > PL_ACT_CLIP)
        return pl_fail(err, PL_ERR_FORMAT, "%s: %s: bad fused activation %d", src, who, (int)p->act);
    if (p->act == PL_ACT_PRELU) {
        int last = n->inputs[n->n_inputs - 1];
        if (n->n_inputs < (n->op == PL_OP_CONV2D || n->op == PL_OP_FULLY_CONNECTED ? 4 : 3) ||
            last < 0)
            return pl_fail(err, PL_ERR_FORMAT, "%s: %s: fused PReLU needs its slope as the last input",
                           src, who);
    }
    switch (n->op) {
    case PL_OP_CONV2D: {
        const pl_conv_params *c = &p->conv;
        if (c->stride_h < 1 || c->stride_w < 1 || c->dilation_h < 1 || c->dilation_w < 1 ||
            c->groups < 1 || (unsigned)c->padding > PL_PAD_SAME || c->pad_top < 0 ||
            c->pad_left < 0 || c->pad_bottom < 0 || c->pad_right < 0)
            return pl_fail(err, PL_ERR_FORMAT,
                           "%s: %s: bad stride/dilation/groups/padding (stride %dx%d dilation %dx%d groups %d)",
                           src, who, c->stride_h, c->stride_w, c->dilation_h, c->dilation_w, c->groups);
        const pl_tensor *w = &g->tensors[n->inputs[1]];
        if (!w->is_const || w->rank != 4)
            return pl_fail(err, PL_ERR_FORMAT, "%s: %s: weights '%s' must be a constant [O,KH,KW,I]",
                           src, who, w->name);
        if (w->dims[0] % c->groups)
            return pl_fail(err, PL_ERR_FORMAT, "%s: %s: %lld filters do not split into %d groups",
                           src, who, (long long)w->dims[0], c->groups);
        break;
    }
    case PL_OP_FULLY_CONNECTED: {
        const pl_tensor *w = &g->tensors[n->inputs[1]];
        if (!w->is_const || w->rank != 2)
            return pl_fail(err, PL_ERR_FORMAT, "%s: %s: weights '%s' must be a constant [N,K]",
                           src, who, w->name);
        break;
    }
    case PL_OP_MAX_POOL:
    case PL_OP_AVG_POOL: {
        const pl_pool_params *q = &p->pool;
        if (!q->global && (q->kh < 1 || q->kw < 1 || q->stride_h < 1 || q->stride_w < 1 ||
                           (unsigned)q->padding > PL_PAD_SAME || q->pad_top < 0 ||
                           q->pad_left < 0 || q->pad_bottom < 0 || q->pad_right < 0))
            return pl_fail(err, PL_ERR_FORMAT, "%s: %s: bad pool window %dx%d stride %dx%d",
                           src, who, q->kh, q->kw, q->stride_h, q->stride_w);
        break;
    }
    case PL_OP_RESHAPE:
        if (p->reshape.rank < 0 || p->reshape.rank > PL_MAX_RANK)
            return pl_fail(err, PL_ERR_FORMAT, "%s: %s: reshape rank %d", src, who, p->reshape.rank);
        break;
    case PL_OP_TRANSPOSE: {
        int r = p->transpose.rank, seen = 0;
        if (r < 0 || r > PL_MAX_RANK)
            return pl_fail(err, PL_ERR_FORMAT, "%s: %s: transpose rank %d", src, who, r);
        for (int i = 0; i < r; i++) {
            int a = p->transpose.perm[i];
            if (a < 0 || a >= r || (seen & (1 << a)))
                return pl_fail(err, PL_ERR_FORMAT, "%s: %s: perm is not a permutation of 0..%d",
                               src, who, r - 1);
            seen |= 1 << a;
        }
        break;
    }
    case PL_OP_PAD:
        if (p->pad.rank < 0 || p->pad.rank > PL_MAX_RANK)
            return pl_fail(err, PL_ERR_FORMAT, "%s: %s: pad rank %d", src, who, p->pad.rank);
        for (int i = 0; i < p->pad.rank; i++)
            if (p->pad.before[i] < 0 || p->pad.after[i] < 0)
                return pl_fail(err, PL_ERR_FORMAT, "%s: %s: negative padding on axis %d", src, who, i);
        break;
    case PL_OP_SLICE:
        if (p->slice.rank < 0 || p->slice.rank > PL_MAX_RANK)
            return pl_fail(err, PL_ERR_FORMAT, "%s: %s: slice rank %d", src, who, p->slice.rank);
        break;
    case PL_OP_AFFINE:
        break;
    default:
        break;
    }
    return PL_OK;
}

pl_status pl_graph_validate(const pl_graph *g, pl_error *err)
{
    const char *src = g->source ? g->source : "(graph)";
    char who[300];
    if (g->n_inputs < 1) return pl_fail(err, PL_ERR_FORMAT, "%s: graph has no input", src);
    if (g->n_outputs < 1) return pl_fail(err, PL_ERR_FORMAT, "%s: graph has no output", src);
    /* produced[t]: 1 once some node (or the graph input list) defines t */
    unsigned char *defined = calloc((size_t)g->n_tensors + 1, 1);
    if (!defined) return pl_fail(err, PL_ERR_NOMEM, "%s: out of memory validating", src);
    pl_status st = PL_OK;
    for (int t = 0; t < g->n_tensors; t++) {
        const pl_tensor *tt = &g->tensors[t];
        if (tt->rank < 0 || tt->rank > PL_MAX_RANK) {
            st = pl_fail(err, PL_ERR_FORMAT, "%s: tensor '%s' has rank %d", src, tt->name, tt->rank);
            goto done;
        }
        if (tt->is_const) {
            if (!tt->data) {
                st = pl_fail(err, PL_ERR_FORMAT, "%s: constant '%s' has no data", src, tt->name);
                goto done;
            }
            defined[t] = 1;
        }
    }
    for (int i = 0; i < g->n_inputs; i++) {
        int t = g->inputs[i];
        if (t < 0 || t >= g->n_tensors || g->tensors[t].is_const) {
            st = pl_fail(err, PL_ERR_FORMAT, "%s: graph input %d is tensor %d, not an activation (%d tensors)",
                         src, i, t, g->n_tensors);
            goto done;
        }
        defined[t] = 1;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const pl_node *n = &g->nodes[i];
        if ((unsigned)n->op >= PL_OP_COUNT) {
            st = pl_fail(err, PL_ERR_FORMAT, "%s: node %d '%s': unknown op %d", src, i,
                         n->name ? n->name : "", (int)n->op);
            goto done;
        }
        node_label(n, who, sizeof who);
        int lo, hi;
        op_arity(n, &lo, &hi);
        if (n->n_inputs < lo || (hi >= 0 && n->n_inputs > hi)) {
            char want[32];
            if (hi == lo) snprintf(want, sizeof want, "%d", lo);
            else if (hi < 0) snprintf(want, sizeof want, "at least %d", lo);
            else snprintf(want, sizeof want, "%d to %d", lo, hi);
            st = pl_fail(err, PL_ERR_FORMAT, "%s: %s: has %d inputs, expects %s", src, who,
                         n->n_inputs, want);
            goto done;
        }
        for (int k = 0; k < n->n_inputs; k++) {
            int t = n->inputs[k];
            if (t == -1 && is_optional_input(n, k)) continue;
            if (t < 0 || t >= g->n_tensors) {
                st = pl_fail(err, PL_ERR_FORMAT, "%s: %s: input %d is tensor index %d, out of range (%d tensors)",
                             src, who, k, t, g->n_tensors);
                goto done;
            }
            if (!defined[t]) {
                st = pl_fail(err, PL_ERR_FORMAT,
                             "%s: %s: input %d '%s' is not computed before it (not an input, constant or earlier output)",
                             src, who, k, g->tensors[t].name);
                goto done;
            }
        }
        if (n->n_outputs != 1) {
            st = pl_fail(err, PL_ERR_FORMAT, "%s: %s: has %d outputs, expects 1", src, who, n->n_outputs);
            goto done;
        }
        int o = n->outputs[0];
        if (o < 0 || o >= g->n_tensors) {
            st = pl_fail(err, PL_ERR_FORMAT, "%s: %s: output is tensor index %d, out of range (%d tensors)",
                         src, who, o, g->n_tensors);
            goto done;
        }
        if (defined[o]) {
            st = pl_fail(err, PL_ERR_FORMAT, "%s: %s: output '%s' is already defined (constant, input or another node's output)",
                         src, who, g->tensors[o].name);
            goto done;
        }
        defined[o] = 1;
        if ((st = validate_params(g, n, who, err)) != PL_OK) goto done;
    }
    for (int i = 0; i < g->n_outputs; i++) {
        int t = g->outputs[i];
        if (t < 0 || t >= g->n_tensors || !defined[t]) {
            st = pl_fail(err, PL_ERR_FORMAT, "%s: graph output %d (tensor %d) is never computed",
                         src, i, t);
            goto done;
        }
    }
done:
    free(defined);
    return st;
}

/* ---- shape inference ----------------------------------------------------- */

static const char *dims_str(const pl_tensor *t, char *buf, size_t size)
{
    size_t off = 0;
    off += (size_t)snprintf(buf + off, size - off, "[");
    for (int i = 0; i < t->rank && off < size; i++)
        off += (size_t)snprintf(buf + off, size - off, "%s%lld", i ? "," : "", (long long)t->dims[i]);
    if (off < size) snprintf(buf + off, size - off, "]");
    return buf;
}

typedef struct shape_ctx {
    pl_graph *g;
    pl_node *n;
    pl_error *err;
    char who[300];
} shape_ctx;

static pl_status shape_fail(shape_ctx *c, const char *what)
{
    char a[96] = "", b[96] = "";
    const pl_tensor *x = &c->g->tensors[c->n->inputs[0]];
    dims_str(x, a, sizeof a);
    if (c->n->n_inputs > 1 && c->n->inputs[1] >= 0)
        dims_str(&c->g->tensors[c->n->inputs[1]], b, sizeof b);
    return pl_fail(c->err, PL_ERR_FORMAT, "%s: %s: %s (input shapes %s%s%s)", c->g->source,
                   c->who, what, a, b[0] ? " and " : "", b);
}

static pl_tensor *in_t(shape_ctx *c, int k) { return &c->g->tensors[c->n->inputs[k]]; }

static void set_out(shape_ctx *c, int rank, const int64_t *dims)
{
    pl_tensor *o = &c->g->tensors[c->n->outputs[0]];
    o->rank = rank;
    for (int i = 0; i < rank; i++) o->dims[i] = dims[i];
}

/* Output size and leading pad of one spatial axis. */
static int window_axis(int64_t in, int k, int stride, int dil, pl_padding mode,
                       int *pad_lo, int *pad_hi, int64_t *out)
{
    int64_t eff = (int64_t)(k - 1) * dil + 1;
    if (mode == PL_PAD_SAME) {
        *out = (in + stride - 1) / stride;
        int64_t total = (*out - 1) * stride + eff - in;
        if (total < 0) total = 0;
        *pad_lo = (int)(total / 2);
        *pad_hi = (int)(total - total / 2);
    } else {
        if (mode == PL_PAD_VALID) *pad_lo = *pad_hi = 0;
        int64_t span = in + *pad_lo + *pad_hi - eff;
        if (span < 0) return 0;
        *out = span / stride + 1;
    }
    return *out >= 1;
}

static pl_status shape_conv(shape_ctx *c)
{
    pl_tensor *x = in_t(c, 0), *w = in_t(c, 1);
    pl_conv_params *p = &c->n->params.conv;
    if (x->rank != 4) return shape_fail(c, "input must be 4-D NHWC");
    p->kh = (int)w->dims[1];
    p->kw = (int)w->dims[2];
    if (x->dims[3] != w->dims[3] * p->groups)
        return shape_fail(c, "input channels != weight channels x groups");
    if (c->n->n_inputs > 2 && c->n->inputs[2] >= 0 && pl_tensor_numel(in_t(c, 2)) != w->dims[0])
        return shape_fail(c, "bias size != number of filters");
    int64_t d[4] = {x->dims[0], 0, 0, w->dims[0]};
    if (!window_axis(x->dims[1], p->kh, p->stride_h, p->dilation_h, p->padding, &p->pad_top,
                     &p->pad_bottom, &d[1]) ||
        !window_axis(x->dims[2], p->kw, p->stride_w, p->dilation_w, p->padding, &p->pad_left,
                     &p->pad_right, &d[2]))
        return shape_fail(c, "window larger than the padded input");
    set_out(c, 4, d);
    return PL_OK;
}

static pl_status shape_fc(shape_ctx *c)
{
    pl_tensor *x = in_t(c, 0), *w = in_t(c, 1);
    int64_t k = w->dims[1], numel = pl_tensor_numel(x), batch;
    if (k <= 0 || x->rank < 1) return shape_fail(c, "bad weights or input");
    if (x->dims[0] * k == numel) batch = x->dims[0];
    else if (numel % k == 0) batch = numel / k; /* TFLite flattens to [numel/K, K] */
    else return shape_fail(c, "input does not flatten to [batch, K]");
    if (c->n->n_inputs > 2 && c->n->inputs[2] >= 0 && pl_tensor_numel(in_t(c, 2)) != w->dims[0])
        return shape_fail(c, "bias size != number of outputs");
    int64_t d[2] = {batch, w->dims[0]};
    set_out(c, 2, d);
    return PL_OK;
}

static pl_status shape_pool(shape_ctx *c)
{
    pl_tensor *x = in_t(c, 0);
    pl_pool_params *p = &c->n->params.pool;
    if (x->rank != 4) return shape_fail(c, "input must be 4-D NHWC");
    int64_t d[4] = {x->dims[0], 1, 1, x->dims[3]};
    if (!p->global &&
        (!window_axis(x->dims[1], p->kh, p->stride_h, 1, p->padding, &p->pad_top, &p->pad_bottom, &d[1]) ||
         !window_axis(x->dims[2], p->kw, p->stride_w, 1, p->padding, &p->pad_left, &p->pad_right, &d[2])))
        return shape_fail(c, "window larger than the padded input");
    set_out(c, 4, d);
    return PL_OK;
}

/* numpy broadcasting of a and b into out; 0 when they do not broadcast. */
static int broadcast(const pl_tensor *a, const pl_tensor *b, int *rank, int64_t *out)
{
    int r = a->rank > b->rank ? a->rank : b->rank;
    for (int i = 0; i < r; i++) {
        int ia = i - (r - a->rank), ib = i - (r - b->rank);
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        if (da != db && da != 1 && db != 1) return 0;
        out[i] = da == 1 ? db : da;
    }
    *rank = r;
    return 1;
}

static pl_status shape_binary(shape_ctx *c)
{
    int r;
    int64_t d[PL_MAX_RANK];
    if (!broadcast(in_t(c, 0), in_t(c, 1), &r, d)) return shape_fail(c, "shapes do not broadcast");
    set_out(c, r, d);
    return PL_OK;
}

static pl_status shape_same(shape_ctx *c)
{
    pl_tensor *x = in_t(c, 0);
    set_out(c, x->rank, x->dims);
    return PL_OK;
}

static pl_status shape_prelu(shape_ctx *c)
{
    int r;
    int64_t d[PL_MAX_RANK];
    pl_tensor *x = in_t(c, 0);
    if (!broadcast(x, in_t(c, 1), &r, d) || r != x->rank)
        return shape_fail(c, "slope does not broadcast to the input");
    for (int i = 0; i < r; i++)
        if (d[i] != x->dims[i]) return shape_fail(c, "slope does not broadcast to the input");
    return shape_same(c);
}

static pl_status shape_affine(shape_ctx *c)
{
    pl_tensor *x = in_t(c, 0);
    int64_t ch = x->rank ? x->dims[x->rank - 1] : 1;
    int64_t ns = pl_tensor_numel(in_t(c, 1)), nb = pl_tensor_numel(&c->g->tensors[c->n->inputs[2]]);
    if ((ns != ch && ns != 1) || (nb != ch && nb != 1))
        return shape_fail(c, "scale/shift size is neither 1 nor the last axis");
    return shape_same(c);
}

static int norm_axis(int axis, int rank) { return axis < 0 ? axis + rank : axis; }

static pl_status shape_axis_op(shape_ctx *c)
{
    pl_tensor *x = in_t(c, 0);
    int a = norm_axis(c->n->params.axis, x->rank);
    if (a < 0 || a >= x->rank) return shape_fail(c, "axis out of range");
    return shape_same(c);
}

static pl_status shape_reduce(shape_ctx *c)
{
    pl_tensor *x = in_t(c, 0);
    int mask = c->n->params.reduce.axes_mask, r = 0;
    if (mask & ~((1 << x->rank) - 1)) return shape_fail(c, "reduce axis out of range");
    int64_t d[PL_MAX_RANK];
    for (int i = 0; i < x->rank; i++) {
        if (!(mask & (1 << i))) d[r++] = x->dims[i];
        else if (c->n->params.reduce.keep_dims) d[r++] = 1;
    }
    set_out(c, r, d);
    return PL_OK;
}

/* Resolve -1 and 0 against the input's element count; 0 if impossible. */
static int resolve_reshape(const pl_tensor *x, int rank, int64_t *d)
{
    int64_t numel = pl_tensor_numel(x), known = 1;
    int minus = -1;
    for (int i = 0; i < rank; i++) {
        if (d[i] == 0 && i < x->rank) d[i] = x->dims[i];
        if (d[i] == -1) {
            if (minus >= 0) return 0;
            minus = i;
        } else if (d[i] <= 0) {
            return 0;
        } else {
            known *= d[i];
            if (known > PL_MAX_NUMEL) return 0;
        }
    }
    if (minus >= 0) {
        if (known == 0 || numel % known) return 0;
        d[minus] = numel / known;
        return 1;
    }
    return known == numel;
}

static pl_status shape_reshape(shape_ctx *c)
{
    pl_tensor *x = in_t(c, 0);
    int r = c->n->params.reshape.rank;
    int64_t d[PL_MAX_RANK];
    memcpy(d, c->n->params.reshape.dims, sizeof d);
    if (!resolve_reshape(x, r, d)) {
        /* The batch rule (graph.h): a graph converted at a fixed batch. */
        memcpy(d, c->n->params.reshape.dims, sizeof d);
        if (r < 2 || x->rank < 1 || d[0] <= 0 || d[0] == x->dims[0])
            return shape_fail(c, "element count does not fit the new shape");
        d[0] = x->dims[0];
        if (!resolve_reshape(x, r, d))
            return shape_fail(c, "element count does not fit the new shape");
    }
    set_out(c, r, d);
    return PL_OK;
}

static pl_status shape_transpose(shape_ctx *c)
{
    pl_tensor *x = in_t(c, 0);
    const int *perm = c->n->params.transpose.perm;
    if (c->n->params.transpose.rank != x->rank) return shape_fail(c, "perm rank != input rank");
    int64_t d[PL_MAX_RANK];
    for (int i = 0; i < x->rank; i++) d[i] = x->dims[perm[i]];
    set_out(c, x->rank, d);
    return PL_OK;
}

static pl_status shape_concat(shape_ctx *c)
{
    pl_tensor *x = in_t(c, 0);
    int a = norm_axis(c->n->params.axis, x->rank);
    if (a < 0 || a >= x->rank) return shape_fail(c, "axis out of range");
    int64_t d[PL_MAX_RANK];
    memcpy(d, x->dims, sizeof d);
    for (int k = 1; k < c->n->n_inputs; k++) {
        pl_tensor *y = in_t(c, k);
        if (y->rank != x->rank) return shape_fail(c, "inputs differ in rank");
        for (int i = 0; i < x->rank; i++)
            if (i != a && y->dims[i] != x->dims[i])
                return shape_fail(c, "inputs differ outside the concat axis");
        d[a] += y->dims[a];
    }
    set_out(c, x->rank, d);
    return PL_OK;
}

static pl_status shape_pad(shape_ctx *c)
{
    pl_tensor *x = in_t(c, 0);
    if (c->n->params.pad.rank != x->rank) return shape_fail(c, "pad rank != input rank");
    int64_t d[PL_MAX_RANK];
    for (int i = 0; i < x->rank; i++)
        d[i] = x->dims[i] + c->n->params.pad.before[i] + c->n->params.pad.after[i];
    set_out(c, x->rank, d);
    return PL_OK;
}

/* TF StridedSlice on one axis (ops.h). */
int64_t pl_slice_axis(int64_t dim, int64_t *begin, int64_t end, int64_t *stride)
{
    int64_t s = *stride ? *stride : 1, b = *begin, e = end;
    if (b < 0 && b > INT64_MIN + dim) b += dim;
    else if (b < 0) b = -1;
    if (e < 0 && e > INT64_MIN + dim) e += dim;
    else if (e < 0) e = -1;
    if (s > 0) {
        b = b < 0 ? 0 : (b > dim ? dim : b);
        e = e < 0 ? 0 : (e > dim ? dim : e);
    } else {
        b = b < -1 ? -1 : (b > dim - 1 ? dim - 1 : b);
        e = e < -1 ? -1 : (e > dim - 1 ? dim - 1 : e);
    }
    *begin = b;
    *stride = s;
    int64_t n = s > 0 ? (e - b + s - 1) / s : (b - e + (-s) - 1) / (-s);
    return n > 0 ? n : 0;
}

static pl_status shape_slice(shape_ctx *c)
{
    pl_tensor *x = in_t(c, 0);
    const pl_node_params *p = &c->n->params;
    if (p->slice.rank > x->rank) return shape_fail(c, "slice rank > input rank");
    int64_t d[PL_MAX_RANK];
    for (int i = 0; i < x->rank; i++) {
        d[i] = x->dims[i];
        if (i < p->slice.rank) {
            int64_t b = p->slice.begin[i], s = p->slice.stride[i];
            d[i] = pl_slice_axis(x->dims[i], &b, p->slice.end[i], &s);
        }
        if (d[i] <= 0) return shape_fail(c, "slice is empty");
    }
    set_out(c, x->rank, d);
    return PL_OK;
}

static pl_status infer_node(shape_ctx *c)
{
    switch (c->n->op) {
    case PL_OP_CONV2D: return shape_conv(c);
    case PL_OP_FULLY_CONNECTED: return shape_fc(c);
    case PL_OP_MAX_POOL:
    case PL_OP_AVG_POOL: return shape_pool(c);
    case PL_OP_ADD: case PL_OP_SUB: case PL_OP_MUL: case PL_OP_DIV: case PL_OP_MAXIMUM:
    case PL_OP_MINIMUM: case PL_OP_POW: case PL_OP_SQUARED_DIFF: return shape_binary(c);
    case PL_OP_PRELU: return shape_prelu(c);
    case PL_OP_AFFINE: return shape_affine(c);
    case PL_OP_REDUCE_MEAN: case PL_OP_REDUCE_MAX: case PL_OP_REDUCE_SUM: return shape_reduce(c);
    case PL_OP_SOFTMAX: case PL_OP_L2_NORMALIZE: return shape_axis_op(c);
    case PL_OP_RESHAPE: return shape_reshape(c);
    case PL_OP_TRANSPOSE: return shape_transpose(c);
    case PL_OP_CONCAT: return shape_concat(c);
    case PL_OP_PAD: return shape_pad(c);
    case PL_OP_SLICE: return shape_slice(c);
    default: return shape_same(c); /* unary element-wise, IDENTITY */
    }
}

/* A fused PReLU slope must give one value per output channel (or one). */
static pl_status check_fused_slope(shape_ctx *c)
{
    if (c->n->params.act != PL_ACT_PRELU) return PL_OK;
    const pl_tensor *o = &c->g->tensors[c->n->outputs[0]];
    int64_t ch = o->rank ? o->dims[o->rank - 1] : 1;
    int64_t ns = pl_tensor_numel(&c->g->tensors[c->n->inputs[c->n->n_inputs - 1]]);
    if (ns != ch && ns != 1) return shape_fail(c, "fused PReLU slope size != output channels");
    return PL_OK;
}

pl_status pl_graph_infer_shapes(pl_graph *g, pl_error *err)
{
    for (int i = 0; i < g->n_inputs; i++) {
        const pl_tensor *t = &g->tensors[g->inputs[i]];
        for (int d = 0; d < t->rank; d++)
            if (t->dims[d] <= 0)
                return pl_fail(err, PL_ERR_ARG, "%s: input '%s' has no concrete size on axis %d",
                               g->source, t->name, d);
    }
    for (int i = 0; i < g->n_nodes; i++) {
        shape_ctx c = {g, &g->nodes[i], err, ""};
        node_label(c.n, c.who, sizeof c.who);
        pl_status st = infer_node(&c);
        if (st == PL_OK) st = check_fused_slope(&c);
        if (st != PL_OK) return st;
        pl_tensor *o = &g->tensors[c.n->outputs[0]];
        int64_t numel = 1;
        for (int d = 0; d < o->rank; d++) {
            if (o->dims[d] <= 0) return shape_fail(&c, "output has an empty axis");
            numel *= o->dims[d];
            if (numel > PL_MAX_NUMEL) return shape_fail(&c, "output is too large");
        }
    }
    return PL_OK;
}
