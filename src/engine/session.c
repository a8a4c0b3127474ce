/* session.c — running a graph (see session.h).
 *
 * Owns: the memory plan (one arena per input shape), the per-node prepared
 * state (resolved data pointers, fast-kernel plans, expanded PReLU slopes)
 * and the run loop. Invariants, once planned:
 *   1. every tensor a node reads or writes has tdata[t] != NULL;
 *   2. two tensors share arena bytes only if their lifetimes
 *      [first_use, last_use] (node indices) do not overlap, or one is a
 *      RESHAPE/IDENTITY view of the other (then they are the same bytes);
 *   3. pl_session_run allocates nothing.
 *
 * Fusion (fast kernels only): consecutive spatial layers (convolutions,
 * poolings) where each feeds nothing but the next run as one step, a band
 * chain (bands.c): each task computes a band of the last layer's rows and,
 * into small per-thread buffers (L2 resident), the rows of every earlier
 * layer that band needs, so the maps between them never go to memory.
 * Chains form at a convolution whose output feeds only a pooling (MTCNN's
 * conv -> max-pool pairs) or 1x1 convolutions (dw3x3 -> 1x1 pairs, PNet's
 * two heads: they end a chain), and across any map of BAND_MIN_MAP_BYTES
 * or more (PNet's 6 MB conv2 output, fr_detect's 120x160 maps). Every
 * value is computed by the same kernel in the same order as unfused, so
 * the results are bit-identical. The intermediate tensors keep their
 * arena slots (the reference path and keep_all use them) but are not
 * written in a fused run.
 */
#include "engine/session.h"

#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/bands.h"
#include "engine/kernels.h"
#include "engine/ops.h"
#include "engine/threadpool.h"
#include "util/clock.h"

#define ARENA_ALIGN 64
/* Bytes of a band chain's per-thread buffers (see fusion): a chain of two
 * layers (a convolution and its pool or 1x1 consumers) keeps 64 KB of
 * convolution rows, small enough to stay in L1/L2 next to the input rows
 * they are computed from; a longer chain keeps a few rows of each of its
 * maps, BAND_SCRATCH_BYTES in all, well inside a core's L2. */
#define FUSE_SCRATCH_BYTES (64 * 1024)
#define BAND_SCRATCH_BYTES (512 * 1024)
/* A map of at least this many bytes per item (past what L2 keeps next to
 * the layers' other data) is worth keeping out of memory: the layers on
 * both sides of it run in one band chain. */
#define BAND_MIN_MAP_BYTES (1024 * 1024)
/* Rows of the last layer per task of a chain that starts with a
 * pl_conv_plan_run_pool2 layer. */
#define POOL2_BAND 8

typedef struct node_state {
    const float **in;        /* data of each input (NULL = absent)          */
    float *out;
    int n_tasks;
    int skip;                /* a view of its input: nothing to compute     */
    pl_conv_plan *conv_plan; /* fast path, or NULL                          */
    pl_fc_plan *fc_plan;
    int pool_fast;           /* pooling through pl_pool_run (SIMD)           */
    pl_pool_shape pool;
    pl_epilogue ep;
    float *slope;            /* owned: a shared PReLU alpha, one per channel */
    pl_band_chain *chain;    /* owned: runs nodes i+1 .. i+n_chain too (fast) */
    int n_chain;
    pl_conv_plan *heads;     /* owned: the chain's 1x1 heads as one layer    */
    int softmax2;            /* SOFTMAX over a last axis of 2: pairs (fast)  */
    int fused;               /* computed by an earlier node's chain (fast)   */
} node_state;

/* PL_PROFILE=1 in the environment: time spent per node, printed to stderr
 * when the session is freed (kept across re-plans: a node keeps its index). */
typedef struct node_profile {
    double ms;
    long runs;
    char kernel[64];
    int64_t dims[4];
} node_profile;

struct pl_session {
    pl_graph *g;
    pl_threadpool *pool;
    pl_kernel_mode mode;
    int keep_all;
    int planned;
    float *arena;
    size_t arena_bytes;      /* what the current plan uses                  */
    size_t arena_cap;        /* what is allocated (>= arena_bytes)          */
    float **tdata;           /* per tensor: its data for this plan          */
    node_state *ns;          /* per node                                    */
    node_profile *prof;      /* per node, or NULL when not profiling        */
    int *fusable;            /* per node: nodes after it its chain may run  */
    size_t band_min_bytes;   /* BAND_MIN_MAP_BYTES unless a test sets it    */
    /* Fused tasks' buffers: one slot per thread of the pool (no more tasks
     * run at once), claimed through slot_busy. */
    float *scratch;
    size_t slot_floats, scratch_cap;
    int n_slots;
    _Atomic int *slot_busy;
};

/* ---- lifetime and placement ------------------------------------------------ */

typedef struct slot {
    int tensor;
    int first, last; /* node indices; -1 = before the first node */
    size_t size, offset;
} slot;

static int by_size_desc(const void *a, const void *b)
{
    const slot *x = a, *y = b;
    if (x->size != y->size) return x->size < y->size ? 1 : -1;
    return x->first - y->first;
}

static size_t round_up(size_t v, size_t a) { return (v + a - 1) / a * a; }

/* root[t]: the tensor whose bytes t uses (t itself unless t is a view). */
static void find_views(const pl_graph *g, int *root)
{
    for (int t = 0; t < g->n_tensors; t++) root[t] = t;
    for (int i = 0; i < g->n_nodes; i++) {
        const pl_node *n = &g->nodes[i];
        if (n->op == PL_OP_RESHAPE || n->op == PL_OP_IDENTITY)
            root[n->outputs[0]] = root[n->inputs[0]];
    }
}

/* Greedy: biggest first, each at the lowest offset that does not collide
 * with an already placed slot alive at the same time. */
static size_t place_slots(slot *sl, int n)
{
    qsort(sl, (size_t)n, sizeof *sl, by_size_desc);
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        size_t off = 0;
        for (int moved = 1; moved;) {
            moved = 0;
            for (int j = 0; j < i; j++) {
                if (sl[j].first > sl[i].last || sl[i].first > sl[j].last) continue;
                if (off < sl[j].offset + sl[j].size && sl[j].offset < off + sl[i].size) {
                    off = sl[j].offset + sl[j].size;
                    moved = 1;
                }
            }
        }
        sl[i].offset = off;
        if (off + sl[i].size > total) total = off + sl[i].size;
    }
    return total;
}

static pl_status plan_memory(pl_session *s, pl_error *err)
{
    pl_graph *g = s->g;
    int nt = g->n_tensors;
    int *root = malloc(sizeof(int) * (size_t)(nt + 1));
    slot *sl = calloc((size_t)nt + 1, sizeof *sl);
    int *slot_of = malloc(sizeof(int) * (size_t)(nt + 1));
    if (!root || !sl || !slot_of) {
        free(root);
        free(sl);
        free(slot_of);
        return pl_fail(err, PL_ERR_NOMEM, "%s: out of memory planning", g->source);
    }
    find_views(g, root);
    int n = 0;
    for (int t = 0; t < nt; t++) slot_of[t] = -1;
    /* A slot per root activation that something defines. */
    for (int i = 0; i < g->n_inputs; i++) {
        int t = g->inputs[i];
        if (slot_of[t] < 0) {
            sl[n] = (slot){t, -1, -1, 0, 0};
            slot_of[t] = n++;
        }
    }
    for (int i = 0; i < g->n_nodes; i++) {
        int t = g->nodes[i].outputs[0];
        if (root[t] != t || slot_of[t] >= 0) continue;
        sl[n] = (slot){t, i, i, 0, 0};
        slot_of[t] = n++;
    }
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_inputs; k++) {
            int t = g->nodes[i].inputs[k];
            if (t >= 0 && slot_of[root[t]] >= 0 && sl[slot_of[root[t]]].last < i)
                sl[slot_of[root[t]]].last = i;
        }
    for (int i = 0; i < g->n_outputs; i++) {
        int r = root[g->outputs[i]];
        if (slot_of[r] >= 0) sl[slot_of[r]].last = g->n_nodes;
    }
    /* A chain (fusion, below) writes its last nodes' outputs at its first
     * node's step, while reading that node's input: the input stays alive
     * through the chain's last node, so no output of the chain shares its
     * bytes. (Extending the outputs back to the first step instead would
     * keep them apart from every map inside the chain too, which a fused
     * run never writes: MobileFaceNet's arena 3.4 -> 4.8 MB.) */
    for (int i = 0; i < g->n_nodes; i++) {
        int t = g->nodes[i].inputs[0];
        if (!s->fusable[i] || t < 0) continue;
        int r = root[t];
        if (slot_of[r] >= 0 && sl[slot_of[r]].last < i + s->fusable[i]) sl[slot_of[r]].last = i + s->fusable[i];
    }
    for (int i = 0; i < g->n_inputs; i++) sl[slot_of[g->inputs[i]]].last = g->n_nodes;
    for (int i = 0; i < n; i++) {
        sl[i].size = round_up(sizeof(float) * (size_t)pl_tensor_numel(&g->tensors[sl[i].tensor]),
                              ARENA_ALIGN);
        if (s->keep_all) {
            sl[i].first = -1;
            sl[i].last = g->n_nodes;
        }
    }
    size_t total = place_slots(sl, n);
    /* Grow only: callers replan often (MTCNN per strip and batch shape), and
     * a fresh arena each time costs a page fault per 4 KiB on first touch. */
    if (!s->arena || total > s->arena_cap) {
        free(s->arena);
        s->arena_cap = round_up(total ? total : ARENA_ALIGN, ARENA_ALIGN);
        s->arena = aligned_alloc(ARENA_ALIGN, s->arena_cap);
        if (!s->arena) s->arena_cap = 0;
    }
    s->arena_bytes = total;
    pl_status st = PL_OK;
    if (!s->arena) {
        st = pl_fail(err, PL_ERR_NOMEM, "%s: cannot allocate a %zu-byte activation arena",
                     g->source, total);
    } else {
        for (int t = 0; t < nt; t++) {
            pl_tensor *tt = &g->tensors[t];
            tt->first_use = tt->last_use = -1;
            s->tdata[t] = tt->is_const ? tt->data : NULL;
        }
        for (int i = 0; i < n; i++) {
            pl_tensor *tt = &g->tensors[sl[i].tensor];
            tt->arena_offset = sl[i].offset;
            tt->first_use = sl[i].first;
            tt->last_use = sl[i].last;
            s->tdata[sl[i].tensor] = (float *)((char *)s->arena + sl[i].offset);
        }
        for (int t = 0; t < nt; t++)
            if (root[t] != t) s->tdata[t] = s->tdata[root[t]];
    }
    free(root);
    free(sl);
    free(slot_of);
    return st;
}

/* ---- fusion ----------------------------------------------------------------- */

static int is_graph_output(const pl_graph *g, int t)
{
    for (int i = 0; i < g->n_outputs; i++)
        if (g->outputs[i] == t) return 1;
    return 0;
}

/* How many node inputs read tensor t (views of t count: they read it). */
static int n_uses(const pl_graph *g, int t)
{
    int uses = 0;
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_inputs; k++) uses += g->nodes[i].inputs[k] == t;
    return uses;
}

/* A 1x1, stride-1, unpadded convolution of t with constant weights: its
 * output row r needs row r of t and nothing else. */
static int is_row_local_1x1(const pl_graph *g, const pl_node *n, int t)
{
    if (n->op != PL_OP_CONV2D || n->inputs[0] != t) return 0;
    pl_conv_shape cs;
    pl_op_conv_shape(g, n, &cs);
    if (cs.kh != 1 || cs.kw != 1 || cs.stride_h != 1 || cs.stride_w != 1 || cs.pad_top ||
        cs.pad_left || cs.in_h != cs.out_h || cs.in_w != cs.out_w)
        return 0;
    for (int k = 1; k < n->n_inputs; k++)
        if (n->inputs[k] >= 0 && (n->inputs[k] == t || !g->tensors[n->inputs[k]].is_const))
            return 0;
    return 1;
}

static int is_pool_op(pl_op op) { return op == PL_OP_MAX_POOL || op == PL_OP_AVG_POOL; }

/* A layer a band chain can run: a convolution of t (its other inputs
 * constant) or a windowed pooling of t (fast pools have no PReLU). */
static int is_band_layer(const pl_graph *g, const pl_node *n, int t)
{
    if (n->inputs[0] != t) return 0;
    if (is_pool_op(n->op))
        return !n->params.pool.global && n->params.act != PL_ACT_PRELU;
    if (n->op != PL_OP_CONV2D) return 0;
    for (int k = 1; k < n->n_inputs; k++)
        if (n->inputs[k] >= 0 && (n->inputs[k] == t || !g->tensors[n->inputs[k]].is_const))
            return 0;
    return 1;
}

/* The nodes right after node i that may run in its band chain (0: none).
 * Each link keeps a map out of memory: the map must feed the next node
 * alone and be no graph output; a convolution's map feeding only 1x1
 * convolutions (two or more: heads) ends the chain with them. A link is
 * taken where the existing two-layer fusions paid (a convolution into a
 * pooling or a 1x1) or where the map is big enough to spill from L2.
 * Decided from the graph and shapes; prepare_chains then needs fast plans
 * for all. */
static int chain_length(const pl_session *s, int i)
{
    const pl_graph *g = s->g;
    if (s->keep_all || i + 1 >= g->n_nodes || !is_band_layer(g, &g->nodes[i], g->nodes[i].inputs[0]))
        return 0;
    int j = i;
    while (j + 1 < g->n_nodes && j - i + 1 < PL_BAND_MAX) {
        const pl_node *n = &g->nodes[j], *c = &g->nodes[j + 1];
        int t = n->outputs[0];
        if (is_graph_output(g, t)) break;
        int uses = n_uses(g, t), heads = 0;
        while (j + 1 + heads < g->n_nodes && is_row_local_1x1(g, &g->nodes[j + 1 + heads], t)) heads++;
        if (n->op == PL_OP_CONV2D && heads >= 2 && heads == uses) return j + heads - i;
        if (uses != 1 || !is_band_layer(g, c, t)) break;
        const pl_tensor *m = &g->tensors[t];
        size_t item_bytes = sizeof(float) * (size_t)(pl_tensor_numel(m) / m->dims[0]);
        int pair = n->op == PL_OP_CONV2D && (is_pool_op(c->op) || heads == 1);
        if (!pair && item_bytes < s->band_min_bytes) break;
        j++;
    }
    return j - i;
}

/* ---- per-node state ------------------------------------------------------- */

static void free_node_state(pl_session *s)
{
    if (!s->ns) return;
    for (int i = 0; i < s->g->n_nodes; i++) {
        node_state *ns = &s->ns[i];
        pl_conv_plan_free(ns->conv_plan);
        pl_conv_plan_free(ns->heads);
        free(ns->chain);
        pl_fc_plan_free(ns->fc_plan);
        free(ns->slope);
        free(ns->in);
    }
    free(s->ns);
    s->ns = NULL;
}

/* A fused PReLU with one shared alpha becomes one alpha per channel, since
 * the kernels index the slope by output channel. */
static int expand_slope(pl_session *s, const pl_node *n, node_state *ns)
{
    if (n->params.act != PL_ACT_PRELU) return 1;
    int last = n->n_inputs - 1;
    const pl_tensor *y = &s->g->tensors[n->outputs[0]];
    int64_t ch = y->rank ? y->dims[y->rank - 1] : 1;
    if (pl_tensor_numel(&s->g->tensors[n->inputs[last]]) == ch) return 1;
    ns->slope = malloc(sizeof(float) * (size_t)ch);
    if (!ns->slope) return 0;
    for (int64_t c = 0; c < ch; c++) ns->slope[c] = ns->in[last][0];
    ns->in[last] = ns->slope;
    return 1;
}

static void prepare_fast(pl_session *s, const pl_node *n, node_state *ns)
{
    pl_epilogue ep;
    const float *slope = n->params.act == PL_ACT_PRELU ? ns->in[n->n_inputs - 1] : NULL;
    const float *bias = n->n_inputs > 2 ? ns->in[2] : NULL;
    pl_op_epilogue(n, slope, &ep);
    if (n->op == PL_OP_CONV2D) {
        pl_conv_shape cs;
        pl_op_conv_shape(s->g, n, &cs);
        ns->conv_plan = pl_conv_plan_new(&cs, ns->in[1], bias, &ep);
    } else if (n->op == PL_OP_FULLY_CONNECTED) {
        const pl_tensor *w = &s->g->tensors[n->inputs[1]];
        ns->fc_plan = pl_fc_plan_new((int)w->dims[0], (int)w->dims[1], ns->in[1], bias, &ep);
    } else if (is_pool_op(n->op) && n->params.act != PL_ACT_PRELU) {
        const pl_tensor *x = &s->g->tensors[n->inputs[0]], *y = &s->g->tensors[n->outputs[0]];
        const pl_pool_params *p = &n->params.pool;
        pl_pool_shape *ps = &ns->pool;
        ps->n = (int)x->dims[0];
        ps->in_h = (int)x->dims[1];
        ps->in_w = (int)x->dims[2];
        ps->c = (int)x->dims[3];
        ps->out_h = (int)y->dims[1];
        ps->out_w = (int)y->dims[2];
        ps->kh = p->global ? ps->in_h : p->kh;
        ps->kw = p->global ? ps->in_w : p->kw;
        ps->stride_h = p->global ? 1 : p->stride_h;
        ps->stride_w = p->global ? 1 : p->stride_w;
        ps->pad_top = p->global ? 0 : p->pad_top;
        ps->pad_left = p->global ? 0 : p->pad_left;
        ps->is_max = n->op == PL_OP_MAX_POOL;
        ps->count_include_pad = p->count_include_pad && !p->global;
        ns->ep = ep;
        ns->pool_fast = 1;
    }
}

/* A convolution's tanh moves to the 2x2 (or any) max pool that alone
 * reads its output: max(tanh(a), tanh(b)) == tanh(max(a, b)) bit for bit
 * because the kernels' tanh (v_tanh) is monotonic non-decreasing over
 * every float (bench/bench_tanh_check walks all 2^32; AVX2 and AVX-512 give
 * the same bits), and tanh then runs on a quarter of the values
 * (fr_gender's second branch). Both layers must run the SIMD tanh: a fast
 * convolution plan (none on PL_CPU=generic, whose libm tanhf is not
 * checked) and a SIMD pool. Every pool window must hold an input, or the
 * max would turn -inf into tanh(-inf) = -1. NaN inputs may come out as a
 * different NaN or a different window value (max passes its second NaN
 * operand): no model feeds NaN to these layers. */
static void defer_tanh(pl_session *s, int pool_node)
{
    const pl_graph *g = s->g;
    const pl_node *pn = &g->nodes[pool_node];
    node_state *ps = &s->ns[pool_node];
    /* keep_all runs every layer as written (tests compare the two). */
    if (s->keep_all || pn->op != PL_OP_MAX_POOL || !ps->pool_fast || ps->ep.act != PL_ACT_NONE ||
        ps->pool.pad_top >= ps->pool.kh || ps->pool.pad_left >= ps->pool.kw ||
        (ps->pool.out_h - 1) * ps->pool.stride_h - ps->pool.pad_top >= ps->pool.in_h ||
        (ps->pool.out_w - 1) * ps->pool.stride_w - ps->pool.pad_left >= ps->pool.in_w)
        return;
    int t = pn->inputs[0], conv = -1;
    for (int j = 0; j < pool_node; j++)
        if (g->nodes[j].outputs[0] == t) conv = j;
    if (conv < 0 || g->nodes[conv].op != PL_OP_CONV2D || g->nodes[conv].params.act != PL_ACT_TANH ||
        !s->ns[conv].conv_plan || n_uses(g, t) != 1 || is_graph_output(g, t))
        return;
    const pl_node *cn = &g->nodes[conv];
    node_state *cs = &s->ns[conv];
    pl_epilogue ep;
    pl_op_epilogue(cn, NULL, &ep);
    ep.act = PL_ACT_NONE;
    pl_conv_shape shape;
    pl_op_conv_shape(g, cn, &shape);
    pl_conv_plan *p = pl_conv_plan_new(&shape, cs->in[1], cn->n_inputs > 2 ? cs->in[2] : NULL, &ep);
    if (!p) return;
    pl_conv_plan_free(cs->conv_plan);
    cs->conv_plan = p;
    ps->ep.act = PL_ACT_TANH;
}

/* Detector heads' SOFTMAX over two classes (PNet: one pair per output
 * pixel, ~100k a strip) runs as its own loop, split over threads. */
static int is_softmax2(const pl_graph *g, const pl_node *n)
{
    if (n->op != PL_OP_SOFTMAX) return 0;
    const pl_tensor *x = &g->tensors[n->inputs[0]];
    int axis = n->params.axis < 0 ? n->params.axis + x->rank : n->params.axis;
    return x->rank > 0 && axis == x->rank - 1 && x->dims[x->rank - 1] == 2;
}

/* PAIRS_PER_TASK pairs of a softmax2 node per task. */
#define PAIRS_PER_TASK 4096

static pl_status prepare_nodes(pl_session *s, pl_error *err)
{
    pl_graph *g = s->g;
    s->ns = calloc((size_t)g->n_nodes + 1, sizeof *s->ns);
    if (!s->ns) return pl_fail(err, PL_ERR_NOMEM, "%s: out of memory", g->source);
    for (int i = 0; i < g->n_nodes; i++) {
        const pl_node *n = &g->nodes[i];
        node_state *ns = &s->ns[i];
        ns->in = calloc((size_t)n->n_inputs + 1, sizeof *ns->in);
        if (!ns->in) return pl_fail(err, PL_ERR_NOMEM, "%s: out of memory", g->source);
        for (int k = 0; k < n->n_inputs; k++)
            ns->in[k] = n->inputs[k] >= 0 ? s->tdata[n->inputs[k]] : NULL;
        ns->out = s->tdata[n->outputs[0]];
        ns->skip = (n->op == PL_OP_RESHAPE || n->op == PL_OP_IDENTITY) && ns->out == ns->in[0];
        ns->n_tasks = pl_op_n_tasks(g, n);
        if (!expand_slope(s, n, ns))
            return pl_fail(err, PL_ERR_NOMEM, "%s: out of memory", g->source);
        prepare_fast(s, n, ns);
        ns->softmax2 = is_softmax2(g, n);
    }
    for (int i = 0; i < g->n_nodes; i++) defer_tanh(s, i);
    return PL_OK;
}

/* Several 1x1 consumers of one convolution (PNet's 32->2 and 32->4 heads)
 * as one layer (32->6): a single pass over their input, and the FMAs of
 * 8-lane vectors filled 6/8 instead of 2/8 and 4/8. Their channels are
 * stacked in node order, so each output channel has its own weights, bias
 * and order of sums as before: bit-identical. NULL when they differ in
 * activation or do not fit one register block. */
static pl_conv_plan *merge_heads(const pl_session *s, int first, int k)
{
    const pl_graph *g = s->g;
    pl_conv_shape cs = *pl_conv_plan_shape(s->ns[first].conv_plan);
    pl_epilogue ep0;
    int cin = cs.in_c, cout = 0;
    for (int j = first; j < first + k; j++) {
        const pl_node *n = &g->nodes[j];
        pl_epilogue ep;
        pl_op_epilogue(n, NULL, &ep);
        if (j == first) ep0 = ep;
        if (ep.act != ep0.act || ep.alpha != ep0.alpha || ep.lo != ep0.lo || ep.hi != ep0.hi)
            return NULL;
        cout += pl_conv_plan_shape(s->ns[j].conv_plan)->out_c;
    }
    if (k < 2 || k > PL_SPLIT_MAX) return NULL;
    float *w = malloc(sizeof(float) * (size_t)cout * cin);
    float *bias = calloc((size_t)cout, sizeof(float)), *slope = calloc((size_t)cout, sizeof(float));
    pl_conv_plan *p = NULL;
    if (w && bias && slope) {
        for (int j = first, c0 = 0; j < first + k; j++) {
            const node_state *ns = &s->ns[j];
            const pl_node *n = &g->nodes[j];
            int c = pl_conv_plan_shape(ns->conv_plan)->out_c;
            memcpy(w + (size_t)c0 * cin, ns->in[1], sizeof(float) * (size_t)c * cin);
            if (n->n_inputs > 2 && ns->in[2]) memcpy(bias + c0, ns->in[2], sizeof(float) * (size_t)c);
            if (ep0.act == PL_ACT_PRELU)
                memcpy(slope + c0, ns->in[n->n_inputs - 1], sizeof(float) * (size_t)c);
            c0 += c;
        }
        ep0.slope = ep0.act == PL_ACT_PRELU ? slope : NULL;
        cs.out_c = cout;
        p = pl_conv_plan_new(&cs, w, bias, &ep0);
        if (p && !pl_conv_plan_can_run_split(p)) {
            pl_conv_plan_free(p);
            p = NULL;
        }
    }
    free(w);
    free(bias);
    free(slope);
    return p;
}

/* Layer j of a chain as node `node` runs it: a convolution or a pooling
 * (false when it has no fast path). */
static int band_layer_of(const pl_session *s, int node, pl_band_layer *l)
{
    const node_state *ns = &s->ns[node];
    memset(l, 0, sizeof *l);
    if (ns->conv_plan) {
        l->kind = PL_BAND_CONV;
        l->conv = ns->conv_plan;
        l->out = ns->out;
        const pl_conv_shape *cs = pl_conv_plan_shape(ns->conv_plan);
        l->out_img = (size_t)cs->out_h * cs->out_w * cs->out_c;
    } else if (ns->pool_fast) {
        l->kind = PL_BAND_POOL;
        l->pool = ns->pool;
        l->pool.n = 1;
        l->pool_ep = ns->ep;
        l->out = ns->out;
        l->out_img = (size_t)l->pool.out_h * l->pool.out_w * l->pool.c;
    } else {
        return 0;
    }
    return 1;
}

/* Builds the band chains whose nodes got fast plans (a chain stops before
 * a node without one), sizes their bands and allocates the per-thread
 * buffers (grow only, like the arena). */
static pl_status prepare_chains(pl_session *s, pl_error *err)
{
    const pl_graph *g = s->g;
    size_t need = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        int k = s->fusable[i];
        if (!k) continue;
        pl_band_chain *c = calloc(1, sizeof *c);
        if (!c) return pl_fail(err, PL_ERR_NOMEM, "%s: out of memory", g->source);
        int j = i; /* the next node to place */
        const pl_tensor *x = &g->tensors[g->nodes[i].inputs[0]];
        c->in_img = (size_t)(pl_tensor_numel(x) / x->dims[0]);
        while (j <= i + k) {
            pl_band_layer *l = &c->layer[c->n];
            if (!band_layer_of(s, j, l)) break;
            /* Heads: the 1x1 consumers of this convolution, all of the
             * chain's remaining nodes, as one layer (merged when they fit
             * one register block). */
            int heads = j < i + k && n_uses(g, g->nodes[j].outputs[0]) > 1 ? i + k - j : 0;
            if (heads) {
                pl_band_layer_geometry(l);
                int ok = 1;
                for (int h = j + 1; h <= i + k; h++) ok &= !!s->ns[h].conv_plan;
                if (!ok) { /* the convolution ends the chain */
                    j++, c->n++;
                    break;
                }
                pl_conv_plan_free(s->ns[i].heads);
                s->ns[i].heads = merge_heads(s, j + 1, heads);
                c->n++;
                l = &c->layer[c->n];
                memset(l, 0, sizeof *l);
                l->kind = PL_BAND_HEADS;
                l->conv = s->ns[i].heads;
                l->n_heads = heads;
                for (int h = 0; h < heads; h++) {
                    const node_state *hn = &s->ns[j + 1 + h];
                    const pl_conv_shape *hs = pl_conv_plan_shape(hn->conv_plan);
                    l->head[h] = hn->conv_plan;
                    l->head_out[h] = hn->out;
                    l->head_c[h] = hs->out_c;
                    l->head_img[h] = (size_t)hs->out_h * hs->out_w * hs->out_c;
                }
                pl_band_layer_geometry(l);
                c->n++;
                j = i + k + 1;
                break;
            }
            /* A convolution and the 2x2/2 max pool after it as one layer
             * (PNet's stem): the pixel-lane kernel, first in a chain only. */
            if (c->n == 0 && l->kind == PL_BAND_CONV && j < i + k && g->nodes[j + 1].op == PL_OP_MAX_POOL &&
                s->ns[j + 1].pool_fast &&
                pl_conv_plan_pool2_floats(l->conv, &s->ns[j + 1].pool, &s->ns[j + 1].ep)) {
                pl_band_layer pl;
                band_layer_of(s, j + 1, &pl);
                l->kind = PL_BAND_POOL2;
                l->pool = pl.pool;
                l->pool_ep = pl.pool_ep;
                l->out = pl.out;
                l->out_img = pl.out_img;
                j++;
            }
            pl_band_layer_geometry(l);
            c->n++;
            j++;
        }
        if (c->n < 2 && !(c->n == 1 && c->layer[0].kind == PL_BAND_POOL2)) {
            free(c);
            continue;
        }
        /* A pool reads its input with any row pitch: the wide rows let a
         * small map's convolution run in full tiles (kernels.h). */
        for (int m = 0; m + 1 < c->n; m++) {
            pl_band_layer *l = &c->layer[m];
            if (l->kind == PL_BAND_CONV && c->layer[m + 1].kind == PL_BAND_POOL &&
                pl_conv_plan_can_run_wide(l->conv)) {
                l->wide = 1;
                pl_band_layer_geometry(l);
            }
        }
        /* The pool2 kernel keeps its own input rows (kh + 1 of them) and
         * reloads kh - 1 rows per call: bands of POOL2_BAND rows, whatever
         * the buffers after it take (PNet's ~1 MB on a 1280-wide image;
         * fewer rows measured slower). */
        int fixed = c->layer[0].kind == PL_BAND_POOL2 ? POOL2_BAND : 0;
        size_t floats = pl_band_chain_size(c, c->n == 2 ? FUSE_SCRATCH_BYTES : BAND_SCRATCH_BYTES, fixed);
        if (floats > need) need = floats;
        s->ns[i].chain = c;
        s->ns[i].n_chain = j - 1 - i;
        for (int m = i + 1; m < j; m++) s->ns[m].fused = 1;
    }
    s->slot_floats = round_up(need, ARENA_ALIGN / sizeof(float));
    size_t total = s->slot_floats * (size_t)s->n_slots;
    if (total > s->scratch_cap) {
        free(s->scratch);
        s->scratch = aligned_alloc(ARENA_ALIGN, total * sizeof(float));
        s->scratch_cap = s->scratch ? total : 0;
        if (!s->scratch)
            return pl_fail(err, PL_ERR_NOMEM, "%s: out of memory for fused layers", g->source);
    }
    return PL_OK;
}

static pl_status plan(pl_session *s, pl_error *err)
{
    s->planned = 0;
    free_node_state(s);
    pl_status st = pl_graph_infer_shapes(s->g, err);
    /* Chains from the first node on; a node inside one starts none. */
    for (int i = 0; st == PL_OK && i < s->g->n_nodes; i++) {
        s->fusable[i] = chain_length(s, i);
        for (int j = i + 1; j <= i + s->fusable[i]; j++) s->fusable[j] = 0;
        i += s->fusable[i];
    }
    if (st == PL_OK) st = plan_memory(s, err);
    if (st == PL_OK) st = prepare_nodes(s, err);
    if (st == PL_OK) st = prepare_chains(s, err);
    if (st != PL_OK) {
        free_node_state(s);
        return st;
    }
    s->planned = 1;
    return PL_OK;
}

/* ---- public --------------------------------------------------------------- */

pl_session *pl_session_new(pl_graph *g, int n_threads, pl_error *err)
{
    if (!g) {
        pl_fail(err, PL_ERR_ARG, "pl_session_new: no graph");
        return NULL;
    }
    if (pl_graph_validate(g, err) != PL_OK) return NULL;
    pl_session *s = calloc(1, sizeof *s);
    if (!s) {
        pl_fail(err, PL_ERR_NOMEM, "%s: out of memory", g->source);
        return NULL;
    }
    s->g = g;
    s->band_min_bytes = BAND_MIN_MAP_BYTES;
    if (n_threads <= 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        n_threads = cpus > 0 ? (int)cpus : 1;
    }
    s->tdata = calloc((size_t)g->n_tensors + 1, sizeof *s->tdata);
    s->fusable = calloc((size_t)g->n_nodes + 1, sizeof *s->fusable);
    s->pool = pl_threadpool_new(n_threads);
    s->n_slots = pl_threadpool_size(s->pool);
    s->slot_busy = calloc((size_t)s->n_slots, sizeof *s->slot_busy);
    const char *prof = getenv("PL_PROFILE");
    if (prof && *prof && strcmp(prof, "0")) s->prof = calloc((size_t)g->n_nodes + 1, sizeof *s->prof);
    if (!s->tdata || !s->fusable || !s->pool || !s->slot_busy) {
        pl_session_free(s);
        pl_fail(err, PL_ERR_NOMEM, "%s: out of memory", g->source);
        return NULL;
    }
    return s;
}

static void print_profile(const pl_session *s)
{
    double total = 0;
    for (int i = 0; i < s->g->n_nodes; i++) total += s->prof[i].ms;
    fprintf(stderr, "profile of %s (PL_PROFILE): node, op, kernel, last output shape, runs, ms in all, share\n",
            s->g->source);
    for (int i = 0; i < s->g->n_nodes; i++) {
        const node_profile *p = &s->prof[i];
        if (!p->runs) continue;
        fprintf(stderr, "%4d %-18s %-24s %5lld %5lld %5lld %5lld %7ld %9.2f %5.1f%%\n", i,
                pl_op_name(s->g->nodes[i].op), p->kernel, (long long)p->dims[0], (long long)p->dims[1],
                (long long)p->dims[2], (long long)p->dims[3], p->runs, p->ms,
                total > 0 ? 100 * p->ms / total : 0);
    }
    fprintf(stderr, "     total %.2f ms\n", total);
}

void pl_session_free(pl_session *s)
{
    if (!s) return;
    if (s->prof) print_profile(s);
    free(s->prof);
    free_node_state(s);
    pl_threadpool_free(s->pool);
    free(s->arena);
    free(s->tdata);
    free(s->fusable);
    free(s->scratch);
    free(s->slot_busy);
    free(s);
}

void pl_session_set_kernels(pl_session *s, pl_kernel_mode mode) { s->mode = mode; }

void pl_session_set_band_min_bytes(pl_session *s, size_t bytes)
{
    s->band_min_bytes = bytes;
    s->planned = 0;
}

void pl_session_keep_all(pl_session *s, int keep)
{
    if (!!keep != s->keep_all) s->planned = 0;
    s->keep_all = !!keep;
}

pl_status pl_session_set_input_shape(pl_session *s, int input, int rank, const int64_t *dims,
                                     pl_error *err)
{
    pl_graph *g = s->g;
    if (input < 0 || input >= g->n_inputs)
        return pl_fail(err, PL_ERR_ARG, "%s: no input %d (the model has %d)", g->source, input,
                       g->n_inputs);
    if (rank < 0 || rank > PL_MAX_RANK || (g->input_rank[input] && rank != g->input_rank[input]))
        return pl_fail(err, PL_ERR_ARG, "%s: input %d has rank %d, the model declares rank %d",
                       g->source, input, rank, g->input_rank[input]);
    pl_tensor *t = &g->tensors[g->inputs[input]];
    for (int d = 0; d < rank; d++)
        if (dims[d] <= 0)
            return pl_fail(err, PL_ERR_ARG, "%s: input '%s': axis %d has size %lld", g->source,
                           t->name, d, (long long)dims[d]);
    t->rank = rank;
    memcpy(t->dims, dims, sizeof(int64_t) * (size_t)rank);
    s->planned = 0;
    /* Plan now when every input has a concrete shape; a model with several
     * inputs plans after the last one is set. */
    for (int i = 0; i < g->n_inputs; i++) {
        const pl_tensor *x = &g->tensors[g->inputs[i]];
        for (int d = 0; d < x->rank; d++)
            if (x->dims[d] <= 0) return PL_OK;
    }
    return plan(s, err);
}

float *pl_session_input(pl_session *s, int input)
{
    if (input < 0 || input >= s->g->n_inputs) return NULL;
    if (!s->planned && plan(s, NULL) != PL_OK) return NULL;
    return s->tdata[s->g->inputs[input]];
}

typedef struct task_ctx {
    pl_session *s;
    const pl_node *n;
    node_state *ns;
} task_ctx;

static void task_ref(void *c, int t0, int t1)
{
    task_ctx *x = c;
    pl_op_run_ref(x->s->g, x->n, x->ns->in, x->ns->out, t0, t1);
}
static void task_conv_plan(void *c, int t0, int t1)
{
    task_ctx *x = c;
    pl_conv_plan_run(x->ns->conv_plan, x->ns->in[0], x->ns->out, t0, t1);
}
static void task_pool(void *c, int t0, int t1)
{
    task_ctx *x = c;
    pl_pool_run(&x->ns->pool, x->ns->in[0], &x->ns->ep, x->ns->out, t0, t1);
}
static void task_fc_plan(void *c, int t0, int t1)
{
    task_ctx *x = c;
    pl_fc_plan_run(x->ns->fc_plan, x->ns->n_tasks, x->ns->in[0], x->ns->out, t0, t1);
}

/* A fused task's buffer (see struct pl_session): at most n_slots tasks run
 * at once, so a free slot is always found. */
static int claim_slot(pl_session *s)
{
    for (;;)
        for (int k = 0; k < s->n_slots; k++) {
            int idle = 0;
            if (atomic_compare_exchange_strong(&s->slot_busy[k], &idle, 1)) return k;
        }
}

/* Tasks of a node that runs a band chain (bands.h). */
static void task_chain(void *c, int t0, int t1)
{
    task_ctx *x = c;
    pl_session *s = x->s;
    int k = claim_slot(s);
    pl_band_chain_run(x->ns->chain, x->ns->in[0], t0, t1, s->scratch + (size_t)k * s->slot_floats);
    atomic_store(&s->slot_busy[k], 0);
}

/* The reference softmax's arithmetic for pairs, step for step (max, the
 * exponentials, their sum from 0, the divisions), so the results are
 * bit-identical; but the pair's larger value gives expf(0), exactly 1,
 * which is not computed again: half the expf calls. */
static void task_softmax2(void *c, int t0, int t1)
{
    task_ctx *x = c;
    const pl_tensor *in = &x->s->g->tensors[x->n->inputs[0]];
    int64_t pairs = pl_tensor_numel(in) / 2;
    int64_t p0 = (int64_t)t0 * PAIRS_PER_TASK, p1 = (int64_t)t1 * PAIRS_PER_TASK;
    if (p1 > pairs) p1 = pairs;
    const float *xp = x->ns->in[0];
    float *yp = x->ns->out;
    for (int64_t p = p0; p < p1; p++) pl_softmax_pair(xp[2 * p], xp[2 * p + 1], &yp[2 * p], &yp[2 * p + 1]);
}

static void note_profile(pl_session *s, int i, double ms)
{
    node_profile *p = &s->prof[i];
    const node_state *ns = &s->ns[i];
    const pl_tensor *out = &s->g->tensors[s->g->nodes[i].outputs[0]];
    p->ms += ms;
    p->runs++;
    snprintf(p->kernel, sizeof p->kernel, "%s",
             ns->conv_plan ? pl_conv_plan_name(ns->conv_plan)
             : ns->fc_plan ? pl_fc_plan_name(ns->fc_plan)
             : ns->pool_fast ? "simd-pool"
             : ns->softmax2 && s->mode == PL_KERNELS_FAST ? "softmax2" : "reference");
    if (ns->chain && s->mode == PL_KERNELS_FAST) {
        /* what the chain runs after this node: "+pool2px", "+pool",
         * "+2x1x1(m)" (heads, merged), "+dw3x3+1x1+...", ... */
        size_t len = strlen(p->kernel);
        const pl_band_chain *c = ns->chain;
        for (int m = 0; m < c->n && len < sizeof p->kernel; m++) {
            const pl_band_layer *l = &c->layer[m];
            const char *what = "";
            char heads[16];
            if (l->kind == PL_BAND_POOL2) what = "+pool2px";
            else if (l->kind == PL_BAND_POOL) what = "+pool";
            else if (l->kind == PL_BAND_HEADS) {
                snprintf(heads, sizeof heads, "+%dx1x1%s", l->n_heads, l->conv ? "(m)" : "");
                what = heads;
            } else if (m > 0) {
                const pl_conv_shape *cs = pl_conv_plan_shape(l->conv);
                what = cs->kh == 1 && cs->kw == 1 ? "+1x1" : cs->groups > 1 ? "+dw" : "+conv";
            }
            snprintf(p->kernel + len, sizeof p->kernel - len, "%s", what);
            len = strlen(p->kernel);
        }
    }
    for (int d = 0; d < 4; d++) p->dims[d] = d < out->rank ? out->dims[d] : 0;
}

pl_status pl_session_run(pl_session *s, pl_error *err)
{
    if (!s->planned) {
        pl_status st = plan(s, err);
        if (st != PL_OK) return st;
    }
    unsigned fpu = pl_fpu_fast_begin();
    int fast = s->mode == PL_KERNELS_FAST;
    for (int i = 0; i < s->g->n_nodes; i++) {
        node_state *ns = &s->ns[i];
        if (ns->skip || (fast && ns->fused)) continue;
        task_ctx c = {s, &s->g->nodes[i], ns};
        pl_task_fn fn = task_ref;
        int tasks = ns->n_tasks;
        if (fast && ns->chain) {
            const pl_tensor *x = &s->g->tensors[s->g->nodes[i].inputs[0]];
            fn = task_chain, tasks = (int)x->dims[0] * ns->chain->bands;
        }
        else if (fast && ns->conv_plan) fn = task_conv_plan;
        else if (fast && ns->fc_plan) fn = task_fc_plan;
        else if (fast && ns->pool_fast) fn = task_pool, tasks = ns->pool.out_h; /* rows of all items */
        else if (fast && ns->softmax2) {
            int64_t pairs = pl_tensor_numel(&s->g->tensors[s->g->nodes[i].inputs[0]]) / 2;
            fn = task_softmax2, tasks = (int)((pairs + PAIRS_PER_TASK - 1) / PAIRS_PER_TASK);
        }
        double t0 = s->prof ? pl_now_ms() : 0;
        pl_threadpool_run(s->pool, tasks, fn, &c);
        if (s->prof) note_profile(s, i, pl_now_ms() - t0);
    }
    pl_fpu_fast_end(fpu);
    return PL_OK;
}

/* Every node input that reads `from` (the input's arena slot, or a view
 * of it: no other tensor shares the slot, which lives for the whole run)
 * reads `to` instead. */
static void repoint_reads(pl_session *s, const float *from, const float *to)
{
    for (int i = 0; i < s->g->n_nodes; i++)
        for (int k = 0; k < s->g->nodes[i].n_inputs; k++)
            if (s->ns[i].in[k] == from) s->ns[i].in[k] = to;
}

pl_status pl_session_run_from(pl_session *s, int input, const float *data, pl_error *err)
{
    if (input < 0 || input >= s->g->n_inputs)
        return pl_fail(err, PL_ERR_ARG, "%s: no input %d", s->g->source, input);
    if (!s->planned) {
        pl_status st = plan(s, err);
        if (st != PL_OK) return st;
    }
    int t = s->g->inputs[input];
    float *mine = s->tdata[t];
    int in_arena = s->keep_all;
    for (int i = 0; i < s->g->n_outputs; i++) in_arena |= s->tdata[s->g->outputs[i]] == mine;
    if (in_arena) {
        memcpy(mine, data, sizeof(float) * (size_t)pl_tensor_numel(&s->g->tensors[t]));
        return pl_session_run(s, err);
    }
    repoint_reads(s, mine, data);
    pl_status st = pl_session_run(s, err);
    repoint_reads(s, data, mine);
    return st;
}

const float *pl_session_output(pl_session *s, int output, int *rank, int64_t *dims)
{
    if (!s->planned || output < 0 || output >= s->g->n_outputs) return NULL;
    const pl_tensor *t = &s->g->tensors[s->g->outputs[output]];
    if (rank) *rank = t->rank;
    if (dims) memcpy(dims, t->dims, sizeof(int64_t) * (size_t)t->rank);
    return s->tdata[s->g->outputs[output]];
}

const float *pl_session_tensor(pl_session *s, int tensor)
{
    if (!s->planned || tensor < 0 || tensor >= s->g->n_tensors) return NULL;
    return s->tdata[tensor];
}

size_t pl_session_arena_bytes(const pl_session *s) { return s->arena_bytes; }
