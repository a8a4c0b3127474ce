/* onnx.c — ONNX model (.onnx) -> engine graph.
 *
 * Owns: the meaning of ONNX operators (float32 inference; written and
 * tested for opsets 9..17, files declaring 1..22 are read, and the
 * operators whose inputs/attributes moved between opsets — Reshape, Slice,
 * Pad, Clip, Squeeze/Unsqueeze, Softmax, Reduce* — follow the file's
 * opset) and the NCHW -> NHWC layout conversion. The bytes are decoded by
 * onnx_proto.c; this file walks the nodes in file order and emits engine
 * nodes (graph.h).
 *
 * Layout. Every ONNX value keeps its *logical* ONNX shape (NCHW for 4-D)
 * and records how the engine tensor stores it:
 *   LAY_PLAIN  stored in logical order;
 *   LAY_NHWC   a 4-D logical [N,C,H,W] stored as [N,H,W,C];
 *   LAY_FLAT   a 2-D logical [N, C*H*W] (an NCHW flatten) stored in NHWC
 *              order [N, H*W*C]: a Flatten/Reshape of an NHWC tensor costs
 *              nothing, and a following Gemm/MatMul gets its weight columns
 *              permuted at load time instead.
 * Anything that needs the logical order gets a TRANSPOSE inserted on demand
 * (plain_tensor). The graph's inputs and outputs keep the file's layout.
 *
 * Shapes are propagated here from the declared input shape (batch taken as
 * 1) so that Shape/Gather/Unsqueeze/Concat chains fold into constants and
 * pads/flatten orders can be decided at load time. Reshapes that keep the
 * first dim emit 0 ("copy") there, so the graph still runs at any batch.
 */
#include "formats/formats.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/onnx_proto.h"
#include "util/fs.h"

#define ONNX_MAX_FILE   ((size_t)2 << 30)  /* 2 GiB: protobuf's own limit */
#define ONNX_MAX_DIM    ((int64_t)1 << 24)
#define ONNX_MAX_NUMEL  ((int64_t)1 << 30)

enum { LAY_PLAIN = 0, LAY_NHWC, LAY_FLAT };

/* One ONNX value (a name in the graph). */
typedef struct val {
    char *name;
    int rank;
    int64_t dims[PL_MAX_RANK]; /* logical ONNX shape                       */
    int is_const;
    int is_int;                /* const: data in i (else in f)              */
    float *f;                  /* const data, logical order (owned)         */
    int64_t *i;
    int tensor;                /* activation: engine tensor (storage order) */
    int layout;                /* LAY_*                                     */
    int64_t chw[3];            /* LAY_FLAT: the C, H, W that were flattened */
    int plain;                 /* cached logical-order tensor, or -1        */
    int uses;                  /* initializers: node inputs still to read it */
} val;

typedef struct loader {
    pl_graph *g;
    const char *file;
    pl_error *err;
    const ox_model *m;
    int opset;
    val *vals;
    int n_vals, cap_vals;
    int *hash;                 /* open addressing: val index + 1, 0 = empty */
    int hcap;
    const ox_node *node;       /* node being converted, for messages        */
    char node_label[200];
    int seq;                   /* for unique helper-tensor names            */
    int64_t const_limit;       /* largest constant alloc_const makes         */
} loader;

#define ONNX_MAX_FOLD ((int64_t)1 << 24)

/* ---- messages -------------------------------------------------------------- */

static pl_status fail(loader *L, pl_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static pl_status fail(loader *L, pl_status code, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (L->node)
        return pl_fail(L->err, code, "%s: node %s: %s", L->file, L->node_label, msg);
    return pl_fail(L->err, code, "%s: %s", L->file, msg);
}

static pl_status nomem(loader *L) { return fail(L, PL_ERR_NOMEM, "out of memory"); }

#define TRY(x) do { pl_status st_ = (x); if (st_) return st_; } while (0)

static char *str_dup(ox_str s)
{
    char *p = malloc(s.n + 1);
    if (!p) return NULL;
    memcpy(p, s.p, s.n);
    p[s.n] = '\0';
    return p;
}

/* ---- shapes ------------------------------------------------------------------ */

static int64_t numel(int rank, const int64_t *d)
{
    int64_t n = 1;
    for (int k = 0; k < rank; k++) n *= d[k];
    return n;
}

static pl_status check_shape(loader *L, const char *what, int rank, const int64_t *d)
{
    int64_t n = 1;
    if (rank > PL_MAX_RANK) return fail(L, PL_ERR_UNSUPPORTED, "%s has rank %d (at most %d)", what, rank, PL_MAX_RANK);
    for (int k = 0; k < rank; k++) {
        if (d[k] < 0 || d[k] > ONNX_MAX_DIM)
            return fail(L, PL_ERR_FORMAT, "%s: dim %d is %lld", what, k, (long long)d[k]);
        n *= d[k];
        if (n > ONNX_MAX_NUMEL)
            return fail(L, PL_ERR_FORMAT, "%s: more than %lld elements", what, (long long)ONNX_MAX_NUMEL);
    }
    return PL_OK;
}

/* Logical axis a of a 4-D NCHW tensor -> its axis in NHWC storage. */
static const int nchw_to_nhwc_axis[4] = {0, 3, 1, 2};

static int storage_axis(const val *v, int a)
{
    return v->layout == LAY_NHWC ? nchw_to_nhwc_axis[a] : a;
}

static int norm_axis(loader *L, int64_t a, int rank, int *out)
{
    if (a < 0) a += rank;
    if (a < 0 || a >= rank) {
        fail(L, PL_ERR_FORMAT, "axis %lld out of range for rank %d", (long long)a, rank);
        return 0;
    }
    *out = (int)a;
    return 1;
}

/* numpy broadcasting of two logical shapes. */
static int broadcast(const val *a, const val *b, int *rank, int64_t *d)
{
    int r = a->rank > b->rank ? a->rank : b->rank;
    for (int k = 0; k < r; k++) {
        int ia = k - (r - a->rank), ib = k - (r - b->rank);
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        if (da != db && da != 1 && db != 1) return 0;
        d[k] = da == 1 ? db : da;
    }
    *rank = r;
    return 1;
}

/* ---- values ------------------------------------------------------------------- */

static uint32_t hash_str(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t k = 0; k < n; k++) h = (h ^ (uint8_t)s[k]) * 16777619u;
    return h;
}

static int rehash(loader *L, int cap)
{
    int *h = calloc((size_t)cap, sizeof *h);
    if (!h) return 0;
    for (int k = 0; k < L->n_vals; k++) {
        uint32_t j = hash_str(L->vals[k].name, strlen(L->vals[k].name)) & (uint32_t)(cap - 1);
        while (h[j]) j = (j + 1) & (uint32_t)(cap - 1);
        h[j] = k + 1;
    }
    free(L->hash);
    L->hash = h;
    L->hcap = cap;
    return 1;
}

static val *find_val(loader *L, ox_str name)
{
    if (!L->hcap) return NULL;
    uint32_t j = hash_str(name.p, name.n) & (uint32_t)(L->hcap - 1);
    while (L->hash[j]) {
        val *v = &L->vals[L->hash[j] - 1];
        if (ox_str_eq(name, v->name)) return v;
        j = (j + 1) & (uint32_t)(L->hcap - 1);
    }
    return NULL;
}

/* A new value named `name`; NULL (error set) on a duplicate or no memory. */
static val *new_val(loader *L, ox_str name)
{
    if (name.n == 0 || memchr(name.p, '\0', name.n)) {
        fail(L, PL_ERR_FORMAT, "a value has an empty or invalid name");
        return NULL;
    }
    if (find_val(L, name)) {
        fail(L, PL_ERR_FORMAT, "value '%.*s' is defined twice", (int)name.n, name.p);
        return NULL;
    }
    if (L->n_vals + 1 > L->cap_vals) {
        int cap = L->cap_vals ? L->cap_vals * 2 : 256;
        val *p = realloc(L->vals, (size_t)cap * sizeof *p);
        if (!p) { nomem(L); return NULL; }
        L->vals = p;
        L->cap_vals = cap;
    }
    if ((L->n_vals + 1) * 2 > L->hcap && !rehash(L, L->hcap ? L->hcap * 2 : 512)) {
        nomem(L);
        return NULL;
    }
    val *v = &L->vals[L->n_vals];
    memset(v, 0, sizeof *v);
    v->tensor = v->plain = -1;
    if (!(v->name = str_dup(name))) { nomem(L); return NULL; }
    uint32_t j = hash_str(name.p, name.n) & (uint32_t)(L->hcap - 1);
    while (L->hash[j]) j = (j + 1) & (uint32_t)(L->hcap - 1);
    L->hash[j] = ++L->n_vals;
    return v;
}

static void free_vals(loader *L)
{
    for (int k = 0; k < L->n_vals; k++) {
        free(L->vals[k].name);
        free(L->vals[k].f);
        free(L->vals[k].i);
    }
    free(L->vals);
    free(L->hash);
}

/* Input k of the current node: NULL when absent (optional) — with an error
 * set when it was required or names nothing. */
static val *in_val(loader *L, size_t k, int required)
{
    const ox_node *n = L->node;
    if (k >= n->n_inputs || n->inputs[k].n == 0) {
        if (required) fail(L, PL_ERR_FORMAT, "input %zu is missing", k);
        return NULL;
    }
    val *v = find_val(L, n->inputs[k]);
    if (!v)
        fail(L, PL_ERR_FORMAT, "input '%.*s' is not a graph input, initializer or earlier output",
             (int)n->inputs[k].n, n->inputs[k].p);
    return v;
}

/* Output k of the current node as a new value with the given logical shape. */
static val *out_val(loader *L, size_t k, int rank, const int64_t *dims)
{
    if (k >= L->node->n_outputs) {
        fail(L, PL_ERR_FORMAT, "output %zu is missing", k);
        return NULL;
    }
    if (check_shape(L, "output", rank, dims)) return NULL;
    val *v = new_val(L, L->node->outputs[k]);
    if (!v) return NULL;
    v->rank = rank;
    memcpy(v->dims, dims, sizeof(int64_t) * (size_t)rank);
    return v;
}

/* ---- constants ------------------------------------------------------------------ */

static double cval(const val *v, int64_t k) { return v->is_int ? (double)v->i[k] : v->f[k]; }

/* Make v a constant of the given shape with fresh (uninitialised) data. */
static pl_status alloc_const(loader *L, val *v, int is_int, int rank, const int64_t *dims)
{
    int64_t n = numel(rank, dims);
    /* folded constants are not backed by bytes in the file: cap them so a
     * tiny hostile file cannot ask for gigabytes (ConstantOfShape, Expand) */
    if (n > L->const_limit)
        return fail(L, PL_ERR_UNSUPPORTED, "a computed constant of %lld elements (at most %lld)",
                    (long long)n, (long long)L->const_limit);
    v->is_const = 1;
    v->is_int = is_int;
    v->rank = rank;
    memcpy(v->dims, dims, sizeof(int64_t) * (size_t)rank);
    size_t bytes = (size_t)(n ? n : 1) * (is_int ? sizeof(int64_t) : sizeof(float));
    if (is_int) v->i = malloc(bytes);
    else v->f = malloc(bytes);
    if (is_int ? !v->i : !v->f) return nomem(L);
    return PL_OK;
}

static uint32_t le32(const char *p)
{
    const uint8_t *b = (const uint8_t *)p;
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static float half_to_float(uint16_t h)
{
    uint32_t s = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 0x1f, m = h & 0x3ff, u;
    if (e == 0) {
        float f = ldexpf((float)m, -24);
        return s ? -f : f;
    }
    if (e == 31) u = s | 0x7f800000u | m << 13;
    else u = s | (e + 112) << 23 | m << 13;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* TensorProto -> constant value (float or int64 data, logical order). */
static pl_status tensor_to_val(loader *L, const ox_tensor *t, val *v)
{
    char what[200];
    snprintf(what, sizeof what, "tensor '%.*s'", (int)(t->name.n > 120 ? 120 : t->name.n), t->name.p);
    if (t->external) return fail(L, PL_ERR_UNSUPPORTED, "%s: external data files are not supported", what);
    TRY(check_shape(L, what, t->rank, t->dims));
    int64_t n = numel(t->rank, t->dims);
    int dt = t->data_type, is_int;
    size_t esize;
    switch (dt) {
    case OX_FLOAT: is_int = 0; esize = 4; break;
    case OX_DOUBLE: is_int = 0; esize = 8; break;
    case OX_FLOAT16: is_int = 0; esize = 2; break;
    case OX_INT64: is_int = 1; esize = 8; break;
    case OX_INT32: is_int = 1; esize = 4; break;
    case OX_INT8: case OX_UINT8: case OX_BOOL: is_int = 1; esize = 1; break;
    default: return fail(L, PL_ERR_UNSUPPORTED, "%s: data type %d is not supported", what, dt);
    }
    size_t have = dt == OX_FLOAT ? t->nf : dt == OX_DOUBLE ? t->nd : dt == OX_INT64 ? t->ni64 : t->ni32;
    if (t->raw.n && t->raw.n != (size_t)n * esize)
        return fail(L, PL_ERR_FORMAT, "%s: raw_data has %zu bytes, expected %lld", what,
                    t->raw.n, (long long)n * (long long)esize);
    if (!t->raw.n && have != (size_t)n)
        return fail(L, PL_ERR_FORMAT, "%s: has %zu values, expected %lld", what, have, (long long)n);
    /* the data is in the file, so any size the file holds is fine */
    int64_t limit = L->const_limit;
    L->const_limit = ONNX_MAX_NUMEL;
    pl_status st = alloc_const(L, v, is_int, t->rank, t->dims);
    L->const_limit = limit;
    TRY(st);
    if (t->raw.n) {
        for (int64_t k = 0; k < n; k++) {
            const char *p = t->raw.p + (size_t)k * esize;
            uint32_t u;
            switch (dt) {
            case OX_FLOAT: u = le32(p); memcpy(&v->f[k], &u, 4); break;
            case OX_DOUBLE: {
                uint64_t w = (uint64_t)le32(p + 4) << 32 | le32(p);
                double d;
                memcpy(&d, &w, 8);
                v->f[k] = (float)d;
                break;
            }
            case OX_FLOAT16: v->f[k] = half_to_float((uint16_t)((uint8_t)p[0] | (uint8_t)p[1] << 8)); break;
            case OX_INT64: v->i[k] = (int64_t)((uint64_t)le32(p + 4) << 32 | le32(p)); break;
            case OX_INT32: v->i[k] = (int32_t)le32(p); break;
            case OX_INT8: v->i[k] = (int8_t)p[0]; break;
            default: v->i[k] = (uint8_t)p[0]; break;
            }
        }
        return PL_OK;
    }
    for (int64_t k = 0; k < n; k++) {
        switch (dt) {
        case OX_FLOAT: v->f[k] = t->f[k]; break;
        case OX_DOUBLE: v->f[k] = (float)t->d[k]; break;
        case OX_FLOAT16: v->f[k] = half_to_float((uint16_t)t->i32[k]); break;
        case OX_INT64: v->i[k] = t->i64[k]; break;
        default: v->i[k] = t->i32[k]; break;
        }
    }
    return PL_OK;
}

/* The constant's data as floats (converted from ints if needed), copied. */
static float *const_floats(loader *L, const val *v)
{
    int64_t n = numel(v->rank, v->dims);
    float *p = malloc((size_t)(n ? n : 1) * sizeof *p);
    if (!p) { nomem(L); return NULL; }
    for (int64_t k = 0; k < n; k++) p[k] = (float)cval(v, k);
    return p;
}

/* Integer list from a constant value (shape, axes, pads, ...). */
static pl_status const_ints(loader *L, const val *v, const char *what, int64_t *out, int max, int *count)
{
    if (!v->is_const) return fail(L, PL_ERR_UNSUPPORTED, "%s ('%s') must be a constant", what, v->name);
    int64_t n = numel(v->rank, v->dims);
    if (v->rank > 1 || n > max)
        return fail(L, PL_ERR_FORMAT, "%s ('%s') has %lld values (at most %d)", what, v->name, (long long)n, max);
    for (int64_t k = 0; k < n; k++) out[k] = v->is_int ? v->i[k] : (int64_t)v->f[k];
    *count = (int)n;
    return PL_OK;
}

/* ---- attributes ----------------------------------------------------------------- */

static const ox_attr *attr(loader *L, const char *name, int type, int *bad)
{
    const ox_attr *a = ox_node_attr(L->node, name);
    if (a && a->type && a->type != type) {
        fail(L, PL_ERR_FORMAT, "attribute '%s' has type %d, expected %d", name, a->type, type);
        *bad = 1;
        return NULL;
    }
    return a;
}

static pl_status attr_int(loader *L, const char *name, int64_t def, int64_t *out)
{
    int bad = 0;
    const ox_attr *a = attr(L, name, OX_ATTR_INT, &bad);
    if (bad) return L->err ? L->err->code : PL_ERR_FORMAT;
    *out = a ? a->i : def;
    return PL_OK;
}

static pl_status attr_float(loader *L, const char *name, float def, float *out)
{
    int bad = 0;
    const ox_attr *a = attr(L, name, OX_ATTR_FLOAT, &bad);
    if (bad) return L->err ? L->err->code : PL_ERR_FORMAT;
    *out = a ? a->f : def;
    return PL_OK;
}

/* An INTS attribute with exactly `want` values (want < 0: up to -want);
 * *count = 0 when absent. */
static pl_status attr_ints(loader *L, const char *name, int want, int64_t *out, int *count)
{
    int bad = 0;
    const ox_attr *a = attr(L, name, OX_ATTR_INTS, &bad);
    if (bad) return L->err ? L->err->code : PL_ERR_FORMAT;
    *count = 0;
    if (!a) return PL_OK;
    int max = want < 0 ? -want : want;
    if ((want >= 0 && a->n_ints != (size_t)want) || a->n_ints > (size_t)max)
        return fail(L, PL_ERR_FORMAT, "attribute '%s' has %zu values, expected %s%d", name,
                    a->n_ints, want < 0 ? "at most " : "", max);
    memcpy(out, a->ints, a->n_ints * sizeof *out);
    *count = (int)a->n_ints;
    return PL_OK;
}

static int attr_str_is(loader *L, const char *name, const char *lit, const char *def)
{
    const ox_attr *a = ox_node_attr(L->node, name);
    if (!a || !a->has_s) return strcmp(def, lit) == 0;
    return ox_str_eq(a->s, lit);
}

/* ---- emitting engine nodes --------------------------------------------------------- */

/* An activation tensor named after value v, with a suffix for helpers. */
static int new_tensor(loader *L, const char *base, const char *suffix)
{
    char name[300];
    if (suffix) snprintf(name, sizeof name, "%.200s/%s%d", base, suffix, ++L->seq);
    else snprintf(name, sizeof name, "%.280s", base);
    int t = pl_graph_add_tensor(L->g, name);
    if (t < 0) nomem(L);
    return t;
}

static pl_node *emit(loader *L, pl_op op, const int *in, int n_in, int out)
{
    char name[260];
    snprintf(name, sizeof name, "%s", L->node_label);
    pl_node *n = pl_graph_add_node(L->g, op, name, in, n_in, &out, 1);
    if (!n) nomem(L);
    return n;
}

static int add_const(loader *L, const char *name, int rank, const int64_t *dims, float *data)
{
    int t = pl_graph_add_const(L->g, name, rank, dims, data);
    if (t < 0) nomem(L);
    return t;
}

static pl_node *emit_transpose(loader *L, int in, int out, int rank, const int *perm)
{
    pl_node *n = emit(L, PL_OP_TRANSPOSE, &in, 1, out);
    if (!n) return NULL;
    n->params.transpose.rank = rank;
    for (int k = 0; k < rank; k++) n->params.transpose.perm[k] = perm[k];
    return n;
}

static pl_node *emit_reshape(loader *L, int in, int out, int rank, const int64_t *dims)
{
    pl_node *n = emit(L, PL_OP_RESHAPE, &in, 1, out);
    if (!n) return NULL;
    n->params.reshape.rank = rank;
    for (int k = 0; k < rank; k++) n->params.reshape.dims[k] = dims[k];
    return n;
}

static const int perm_to_nhwc[4] = {0, 2, 3, 1};
static const int perm_to_nchw[4] = {0, 3, 1, 2};

/* A constant as an engine tensor, permuted to NHWC when nhwc (rank 4). */
static int const_tensor(loader *L, const val *v, int nhwc)
{
    float *data = const_floats(L, v);
    if (!data) return -1;
    int64_t dims[PL_MAX_RANK];
    memcpy(dims, v->dims, sizeof dims);
    if (nhwc && v->rank == 4) {
        int64_t N = v->dims[0], C = v->dims[1], H = v->dims[2], W = v->dims[3];
        float *p = malloc((size_t)(numel(4, v->dims) ? numel(4, v->dims) : 1) * sizeof *p);
        if (!p) { free(data); nomem(L); return -1; }
        for (int64_t n = 0; n < N; n++)
            for (int64_t c = 0; c < C; c++)
                for (int64_t h = 0; h < H; h++)
                    for (int64_t w = 0; w < W; w++)
                        p[((n * H + h) * W + w) * C + c] = data[((n * C + c) * H + h) * W + w];
        free(data);
        data = p;
        dims[1] = H; dims[2] = W; dims[3] = C;
    }
    return add_const(L, v->name, v->rank, dims, data);
}

/* The engine tensor holding v in its storage layout (constants become
 * constant tensors in logical order). */
static int act_tensor(loader *L, val *v)
{
    if (v->is_const) {
        if (v->tensor < 0) v->tensor = const_tensor(L, v, 0);
        return v->tensor;
    }
    if (v->tensor < 0) fail(L, PL_ERR_FORMAT, "value '%s' has no data", v->name);
    return v->tensor;
}

/* v in logical (ONNX) order, inserting a transpose once if needed. */
static int plain_tensor(loader *L, val *v)
{
    if (v->is_const || v->layout == LAY_PLAIN) return act_tensor(L, v);
    if (v->plain >= 0) return v->plain;
    if (v->layout == LAY_NHWC) {
        int t = new_tensor(L, v->name, "nchw");
        if (t < 0 || !emit_transpose(L, v->tensor, t, 4, perm_to_nchw)) return -1;
        return v->plain = t;
    }
    /* LAY_FLAT: [N, H*W*C] -> [N,H,W,C] -> [N,C,H,W] -> [N, C*H*W] */
    int64_t d4[4] = {0, v->chw[1], v->chw[2], v->chw[0]}, d2[2] = {0, -1};
    int a = new_tensor(L, v->name, "hwc"), b = new_tensor(L, v->name, "chw"),
        c = new_tensor(L, v->name, "flat");
    if (a < 0 || b < 0 || c < 0) return -1;
    if (!emit_reshape(L, v->tensor, a, 4, d4) || !emit_transpose(L, a, b, 4, perm_to_nchw) ||
        !emit_reshape(L, b, c, 2, d2))
        return -1;
    return v->plain = c;
}

/* v as an NHWC tensor (4-D only). */
static int nhwc_tensor(loader *L, val *v)
{
    if (v->rank != 4) {
        fail(L, PL_ERR_UNSUPPORTED, "input '%s' has rank %d, expected 4 (NCHW)", v->name, v->rank);
        return -1;
    }
    if (v->is_const) return const_tensor(L, v, 1);
    if (v->layout == LAY_NHWC) return v->tensor;
    int p = plain_tensor(L, v);
    if (p < 0) return -1;
    int t = new_tensor(L, v->name, "nhwc");
    if (t < 0 || !emit_transpose(L, p, t, 4, perm_to_nhwc)) return -1;
    return t;
}

/* A new activation value for output k, stored in `layout`. */
static val *out_act(loader *L, size_t k, int rank, const int64_t *dims, int layout)
{
    for (int d = 0; d < rank; d++)
        if (dims[d] < 1) {
            fail(L, PL_ERR_UNSUPPORTED, "output %zu would be empty (dim %d is %lld)", k, d, (long long)dims[d]);
            return NULL;
        }
    val *v = out_val(L, k, rank, dims);
    if (!v) return NULL;
    v->layout = layout;
    v->tensor = new_tensor(L, v->name, layout == LAY_PLAIN ? NULL : "s");
    return v->tensor < 0 ? NULL : v;
}

/* The output aliases the input's engine tensor (a no-op in NHWC). */
static pl_status alias(loader *L, const val *in, size_t k)
{
    val copy = *in;
    val *v = out_val(L, k, in->rank, in->dims);
    if (!v) return L->err ? L->err->code : PL_ERR_FORMAT;
    in = &copy; /* new_val may have moved the array */
    char *name = v->name;
    *v = *in;
    v->name = name;
    v->f = NULL;
    v->i = NULL;
    if (in->is_const) {
        int64_t limit = L->const_limit; /* a copy is no bigger than its source */
        L->const_limit = ONNX_MAX_NUMEL;
        pl_status st = alloc_const(L, v, in->is_int, in->rank, in->dims);
        L->const_limit = limit;
        TRY(st);
        size_t n = (size_t)numel(in->rank, in->dims);
        if (in->is_int) memcpy(v->i, in->i, n * sizeof *v->i);
        else memcpy(v->f, in->f, n * sizeof *v->f);
        v->tensor = -1;
    }
    return PL_OK;
}

/* ---- operators: convolution family --------------------------------------------------- */

/* OIHW -> OHWI. */
static float *weights_ohwi(loader *L, const val *w)
{
    int64_t O = w->dims[0], I = w->dims[1], H = w->dims[2], W = w->dims[3];
    float *p = malloc((size_t)(numel(4, w->dims) ? numel(4, w->dims) : 1) * sizeof *p);
    if (!p) { nomem(L); return NULL; }
    for (int64_t o = 0; o < O; o++)
        for (int64_t i = 0; i < I; i++)
            for (int64_t h = 0; h < H; h++)
                for (int64_t x = 0; x < W; x++)
                    p[((o * H + h) * W + x) * I + i] = (float)cval(w, ((o * I + i) * H + h) * W + x);
    return p;
}

/* Explicit pads from auto_pad (SAME_UPPER/LOWER, VALID) or 'pads'. */
static pl_status window_pads(loader *L, const int64_t *in, const int64_t *k, const int64_t *s,
                             const int64_t *d, int64_t *pads)
{
    int64_t p[4];
    int np;
    TRY(attr_ints(L, "pads", 4, p, &np));
    for (int a = 0; a < 4; a++) {
        pads[a] = np ? p[a] : 0;
        if (pads[a] < 0 || pads[a] > ONNX_MAX_DIM) return fail(L, PL_ERR_FORMAT, "attribute 'pads' has a bad value %lld", (long long)pads[a]);
    }
    int upper = attr_str_is(L, "auto_pad", "SAME_UPPER", "NOTSET"),
        lower = attr_str_is(L, "auto_pad", "SAME_LOWER", "NOTSET");
    if (attr_str_is(L, "auto_pad", "VALID", "NOTSET")) memset(pads, 0, 4 * sizeof *pads);
    else if (upper || lower) {
        for (int a = 0; a < 2; a++) {
            int64_t out = (in[a] + s[a] - 1) / s[a];
            int64_t total = (out - 1) * s[a] + (k[a] - 1) * d[a] + 1 - in[a];
            if (total < 0) total = 0;
            pads[a] = upper ? total / 2 : total - total / 2;
            pads[a + 2] = total - pads[a];
        }
    } else if (!attr_str_is(L, "auto_pad", "NOTSET", "NOTSET"))
        return fail(L, PL_ERR_UNSUPPORTED, "attribute 'auto_pad' has an unknown value");
    return PL_OK;
}

/* strides/dilations: 2 values, each 1..1024. */
static pl_status attr_pair(loader *L, const char *name, int64_t *out)
{
    int n;
    TRY(attr_ints(L, name, 2, out, &n));
    if (!n) out[0] = out[1] = 1;
    for (int a = 0; a < 2; a++)
        if (out[a] < 1 || out[a] > 1024) return fail(L, PL_ERR_FORMAT, "attribute '%s' has a bad value %lld", name, (long long)out[a]);
    return PL_OK;
}

static pl_status op_conv(loader *L)
{
    val *x = in_val(L, 0, 1), *w = x ? in_val(L, 1, 1) : NULL, *b = NULL;
    if (!w) return L->err->code;
    if (L->node->n_inputs > 2 && L->node->inputs[2].n && !(b = in_val(L, 2, 1))) return L->err->code;
    if (x->rank != 4) return fail(L, PL_ERR_UNSUPPORTED, "only 2-D convolution (4-D input) is supported, input '%s' has rank %d", x->name, x->rank);
    if (!w->is_const || w->rank != 4) return fail(L, PL_ERR_UNSUPPORTED, "weights '%s' must be a 4-D constant", w->name);
    int64_t O = w->dims[0], I = w->dims[1], k[2] = {w->dims[2], w->dims[3]}, s[2], d[2], pads[4], group, ks[2];
    int nks;
    TRY(attr_int(L, "group", 1, &group));
    TRY(attr_pair(L, "strides", s));
    TRY(attr_pair(L, "dilations", d));
    TRY(attr_ints(L, "kernel_shape", 2, ks, &nks));
    if (nks && (ks[0] != k[0] || ks[1] != k[1]))
        return fail(L, PL_ERR_FORMAT, "attribute 'kernel_shape' [%lld,%lld] differs from weights '%s'",
                    (long long)ks[0], (long long)ks[1], w->name);
    int64_t C = x->dims[1];
    if (group < 1 || group > C || O % group || I * group != C || k[0] < 1 || k[1] < 1)
        return fail(L, PL_ERR_FORMAT, "weights '%s' [%lld,%lld,%lld,%lld] with group %lld do not fit %lld input channels",
                    w->name, (long long)O, (long long)I, (long long)k[0], (long long)k[1], (long long)group, (long long)C);
    if (b && (!b->is_const || numel(b->rank, b->dims) != O))
        return fail(L, PL_ERR_FORMAT, "bias '%s' must be a constant of %lld values", b->name, (long long)O);
    TRY(window_pads(L, x->dims + 2, k, s, d, pads));
    int64_t od[4] = {x->dims[0], O, 0, 0};
    for (int a = 0; a < 2; a++) {
        int64_t span = x->dims[2 + a] + pads[a] + pads[a + 2] - ((k[a] - 1) * d[a] + 1);
        if (span < 0) return fail(L, PL_ERR_FORMAT, "kernel larger than the padded input");
        od[2 + a] = span / s[a] + 1;
    }
    int xt = nhwc_tensor(L, x);
    if (xt < 0) return L->err->code;
    float *wd = weights_ohwi(L, w);
    if (!wd) return L->err->code;
    int64_t wdims[4] = {O, k[0], k[1], I};
    int in[3] = {xt, add_const(L, w->name, 4, wdims, wd), -1};
    if (in[1] < 0) return L->err->code;
    if (b) {
        float *bd = const_floats(L, b);
        int64_t bdims[1] = {O};
        if (!bd || (in[2] = add_const(L, b->name, 1, bdims, bd)) < 0) return L->err->code;
    }
    val *y = out_act(L, 0, 4, od, LAY_NHWC);
    if (!y) return L->err->code;
    pl_node *n = emit(L, PL_OP_CONV2D, in, b ? 3 : 2, y->tensor);
    if (!n) return L->err->code;
    pl_conv_params *c = &n->params.conv;
    c->kh = (int)k[0]; c->kw = (int)k[1];
    c->stride_h = (int)s[0]; c->stride_w = (int)s[1];
    c->dilation_h = (int)d[0]; c->dilation_w = (int)d[1];
    c->groups = (int)group;
    c->padding = PL_PAD_EXPLICIT;
    c->pad_top = (int)pads[0]; c->pad_left = (int)pads[1];
    c->pad_bottom = (int)pads[2]; c->pad_right = (int)pads[3];
    return PL_OK;
}

static pl_status op_pool(loader *L, pl_op op, int global)
{
    val *x = in_val(L, 0, 1);
    if (!x) return L->err->code;
    if (x->rank != 4) return fail(L, PL_ERR_UNSUPPORTED, "only 2-D pooling (4-D input) is supported");
    int64_t k[2], s[2], d[2] = {1, 1}, pads[4] = {0, 0, 0, 0}, ceil_mode = 0, cip = 0;
    int nk;
    if (global) {
        k[0] = x->dims[2]; k[1] = x->dims[3]; s[0] = s[1] = 1;
    } else {
        TRY(attr_ints(L, "kernel_shape", 2, k, &nk));
        if (!nk) return fail(L, PL_ERR_FORMAT, "attribute 'kernel_shape' is missing");
        if (k[0] < 1 || k[1] < 1 || k[0] > 4096 || k[1] > 4096)
            return fail(L, PL_ERR_FORMAT, "attribute 'kernel_shape' has a bad value");
        TRY(attr_pair(L, "strides", s));
        TRY(attr_pair(L, "dilations", d));
        if (d[0] != 1 || d[1] != 1) return fail(L, PL_ERR_UNSUPPORTED, "dilated pooling is not supported");
        TRY(attr_int(L, "ceil_mode", 0, &ceil_mode));
        TRY(attr_int(L, "count_include_pad", 0, &cip));
        TRY(window_pads(L, x->dims + 2, k, s, d, pads));
    }
    int64_t od[4] = {x->dims[0], x->dims[1], 1, 1};
    for (int a = 0; a < 2 && !global; a++) {
        int64_t in = x->dims[2 + a] + pads[a] + pads[a + 2], span = in - k[a];
        if (span < 0) return fail(L, PL_ERR_FORMAT, "pool window larger than the padded input");
        od[2 + a] = (ceil_mode ? (span + s[a] - 1) / s[a] : span / s[a]) + 1;
        /* ceil mode: the last window must start inside the input or its
         * top/left padding; the extra cells go to bottom/right padding */
        if (ceil_mode && (od[2 + a] - 1) * s[a] >= x->dims[2 + a] + pads[a]) od[2 + a]--;
        int64_t extra = (od[2 + a] - 1) * s[a] + k[a] - in;
        if (extra > 0) {
            if (op == PL_OP_AVG_POOL && cip)
                return fail(L, PL_ERR_UNSUPPORTED, "ceil_mode with count_include_pad is not supported");
            pads[a + 2] += extra;
        }
    }
    int xt = nhwc_tensor(L, x);
    if (xt < 0) return L->err->code;
    val *y = out_act(L, 0, 4, od, LAY_NHWC);
    if (!y) return L->err->code;
    pl_node *n = emit(L, op, &xt, 1, y->tensor);
    if (!n) return L->err->code;
    pl_pool_params *p = &n->params.pool;
    p->kh = (int)k[0]; p->kw = (int)k[1];
    p->stride_h = (int)s[0]; p->stride_w = (int)s[1];
    p->padding = PL_PAD_EXPLICIT;
    p->pad_top = (int)pads[0]; p->pad_left = (int)pads[1];
    p->pad_bottom = (int)pads[2]; p->pad_right = (int)pads[3];
    p->count_include_pad = (int)cip;
    p->global = global;
    return PL_OK;
}

static pl_status op_maxpool(loader *L) { return op_pool(L, PL_OP_MAX_POOL, 0); }
static pl_status op_avgpool(loader *L) { return op_pool(L, PL_OP_AVG_POOL, 0); }
static pl_status op_gmaxpool(loader *L) { return op_pool(L, PL_OP_MAX_POOL, 1); }
static pl_status op_gavgpool(loader *L) { return op_pool(L, PL_OP_AVG_POOL, 1); }

/* ---- fully connected ------------------------------------------------------------------- */

/* FC from x [M,K] (plain or LAY_FLAT) with W[N,K] (owned, logical column
 * order) and an optional bias [N] (owned). */
static pl_status emit_fc(loader *L, val *x, int64_t N, int64_t K, float *w, float *bias,
                         const char *wname, const char *bname)
{
    int xt;
    if (x->layout == LAY_FLAT) {
        /* columns c*H*W + h*W + w of the logical flatten sit at
         * (h*W + w)*C + c in storage: permute W's columns to match */
        int64_t C = x->chw[0], H = x->chw[1], W = x->chw[2];
        float *p = malloc((size_t)(N * K > 0 ? N * K : 1) * sizeof *p);
        if (!p) { free(w); free(bias); return nomem(L); }
        for (int64_t n = 0; n < N; n++)
            for (int64_t c = 0; c < C; c++)
                for (int64_t h = 0; h < H; h++)
                    for (int64_t q = 0; q < W; q++)
                        p[n * K + (h * W + q) * C + c] = w[n * K + (c * H + h) * W + q];
        free(w);
        w = p;
        xt = x->tensor;
    } else {
        xt = plain_tensor(L, x);
    }
    int64_t wd[2] = {N, K}, bd[1] = {N};
    int in[3] = {xt, -1, -1};
    if (xt < 0 || (in[1] = add_const(L, wname, 2, wd, w)) < 0) { free(bias); return L->err->code; }
    if (bias && (in[2] = add_const(L, bname, 1, bd, bias)) < 0) return L->err->code;
    int64_t od[2] = {x->dims[0], N};
    val *y = out_act(L, 0, 2, od, LAY_PLAIN);
    if (!y || !emit(L, PL_OP_FULLY_CONNECTED, in, bias ? 3 : 2, y->tensor)) return L->err->code;
    return PL_OK;
}

static pl_status op_gemm(loader *L)
{
    val *a = in_val(L, 0, 1), *b = a ? in_val(L, 1, 1) : NULL, *c = NULL;
    if (!b) return L->err->code;
    if (L->node->n_inputs > 2 && L->node->inputs[2].n && !(c = in_val(L, 2, 1))) return L->err->code;
    int64_t ta, tb;
    float alpha, beta;
    TRY(attr_int(L, "transA", 0, &ta));
    TRY(attr_int(L, "transB", 0, &tb));
    TRY(attr_float(L, "alpha", 1.0f, &alpha));
    TRY(attr_float(L, "beta", 1.0f, &beta));
    if (ta || a->is_const || a->rank != 2)
        return fail(L, PL_ERR_UNSUPPORTED, "only Gemm of a 2-D activation (transA=0) is supported");
    if (!b->is_const || b->rank != 2) return fail(L, PL_ERR_UNSUPPORTED, "B ('%s') must be a 2-D constant", b->name);
    int64_t K = a->dims[1], N = tb ? b->dims[0] : b->dims[1];
    if ((tb ? b->dims[1] : b->dims[0]) != K)
        return fail(L, PL_ERR_FORMAT, "B ('%s') [%lld,%lld] does not fit K=%lld", b->name,
                    (long long)b->dims[0], (long long)b->dims[1], (long long)K);
    float *w = malloc((size_t)(N * K > 0 ? N * K : 1) * sizeof *w), *bias = NULL;
    if (!w) return nomem(L);
    for (int64_t n = 0; n < N; n++)
        for (int64_t k = 0; k < K; k++)
            w[n * K + k] = alpha * (float)cval(b, tb ? n * K + k : k * N + n);
    if (c) {
        int64_t nc = numel(c->rank, c->dims);
        if (!c->is_const || (nc != N && nc != 1) || (c->rank == 2 && c->dims[0] != 1)) {
            free(w);
            return fail(L, PL_ERR_UNSUPPORTED, "C ('%s') must be a constant of 1 or %lld values", c->name, (long long)N);
        }
        if (!(bias = malloc((size_t)(N ? N : 1) * sizeof *bias))) { free(w); return nomem(L); }
        for (int64_t n = 0; n < N; n++) bias[n] = beta * (float)cval(c, nc == 1 ? 0 : n);
    }
    return emit_fc(L, a, N, K, w, bias, b->name, c ? c->name : "");
}

static pl_status op_matmul(loader *L)
{
    val *a = in_val(L, 0, 1), *b = a ? in_val(L, 1, 1) : NULL;
    if (!b) return L->err->code;
    if (a->is_const || a->rank != 2 || !b->is_const || b->rank != 2)
        return fail(L, PL_ERR_UNSUPPORTED, "only MatMul of a 2-D activation by a 2-D constant is supported");
    int64_t K = a->dims[1], N = b->dims[1];
    if (b->dims[0] != K) return fail(L, PL_ERR_FORMAT, "B ('%s') has %lld rows, expected %lld", b->name, (long long)b->dims[0], (long long)K);
    float *w = malloc((size_t)(N * K > 0 ? N * K : 1) * sizeof *w);
    if (!w) return nomem(L);
    for (int64_t n = 0; n < N; n++)
        for (int64_t k = 0; k < K; k++) w[n * K + k] = (float)cval(b, k * N + n);
    return emit_fc(L, a, N, K, w, NULL, b->name, "");
}

/* ---- element-wise ----------------------------------------------------------------------- */

/* A constant broadcast against an activation stored in `layout` (rank r):
 * shaped to r, permuted to NHWC if needed, leading 1s dropped. */
static int bcast_const(loader *L, const val *c, int r, int layout)
{
    int64_t d[PL_MAX_RANK];
    for (int k = 0; k < r; k++) {
        int ic = k - (r - c->rank);
        d[k] = ic >= 0 ? c->dims[ic] : 1;
    }
    val tmp = *c;
    tmp.rank = r;
    memcpy(tmp.dims, d, sizeof d);
    float *data = const_floats(L, &tmp);
    if (!data) return -1;
    if (layout == LAY_NHWC) {
        int64_t C = d[1], H = d[2], W = d[3], N = d[0];
        float *p = malloc((size_t)(numel(4, d) ? numel(4, d) : 1) * sizeof *p);
        if (!p) { free(data); nomem(L); return -1; }
        for (int64_t n = 0; n < N; n++)
            for (int64_t c2 = 0; c2 < C; c2++)
                for (int64_t h = 0; h < H; h++)
                    for (int64_t w = 0; w < W; w++)
                        p[((n * H + h) * W + w) * C + c2] = data[((n * C + c2) * H + h) * W + w];
        free(data);
        data = p;
        d[1] = H; d[2] = W; d[3] = C;
    }
    int skip = 0;
    while (skip < r - 1 && d[skip] == 1) skip++;
    if (r == 0) { d[0] = 1; r = 1; }
    return add_const(L, c->name, r - skip, d + skip, data);
}

typedef double (*binfn)(double, double);
static double f_add(double a, double b) { return a + b; }
static double f_sub(double a, double b) { return a - b; }
static double f_mul(double a, double b) { return a * b; }
static double f_div(double a, double b) { return a / b; }
static double f_pow(double a, double b) { return pow(a, b); }
static double f_max(double a, double b) { return a > b ? a : b; }
static double f_min(double a, double b) { return a < b ? a : b; }

/* Index of the broadcast source element for flat output index k. */
static int64_t bcast_index(const val *s, int r, const int64_t *od, int64_t k)
{
    int64_t idx = 0, stride = 1;
    for (int a = r - 1; a >= 0; a--) {
        int64_t coord = k % od[a];
        k /= od[a];
        int is = a - (r - s->rank);
        if (is >= 0) {
            if (s->dims[is] != 1) idx += coord * stride;
            stride *= s->dims[is];
        }
    }
    return idx;
}

static pl_status fold_binary(loader *L, val *a, val *b, binfn f, int r, const int64_t *od)
{
    int is_int = a->is_int && b->is_int;
    val A = *a, B = *b; /* out_val may move the array */
    val *y = out_val(L, 0, r, od);
    if (!y) return L->err->code;
    TRY(alloc_const(L, y, is_int, r, od));
    int64_t n = numel(r, od);
    for (int64_t k = 0; k < n; k++) {
        double va = cval(&A, bcast_index(&A, r, od, k)), vb = cval(&B, bcast_index(&B, r, od, k));
        if (is_int) {
            if (f == f_div && vb == 0) return fail(L, PL_ERR_FORMAT, "integer division by zero");
            double v = f(va, vb);
            y->i[k] = f == f_div ? (int64_t)va / (int64_t)vb : (int64_t)v;
        } else {
            y->f[k] = (float)f(va, vb);
        }
    }
    return PL_OK;
}

static pl_status op_binary_impl(loader *L, pl_op op, binfn f)
{
    val *a = in_val(L, 0, 1), *b = a ? in_val(L, 1, 1) : NULL;
    if (!b) return L->err->code;
    if (L->node->n_inputs > 2) return fail(L, PL_ERR_UNSUPPORTED, "only two inputs are supported");
    int r;
    int64_t od[PL_MAX_RANK];
    if (!broadcast(a, b, &r, od))
        return fail(L, PL_ERR_FORMAT, "inputs '%s' and '%s' do not broadcast", a->name, b->name);
    if (r > PL_MAX_RANK) return fail(L, PL_ERR_UNSUPPORTED, "rank %d", r);
    if (a->is_const && b->is_const) return fold_binary(L, a, b, f, r, od);
    int ta, tb, layout = LAY_PLAIN;
    if (!a->is_const && !b->is_const) {
        if (a->layout == b->layout && a->rank == b->rank &&
            (a->layout == LAY_NHWC || (a->layout == LAY_FLAT && !memcmp(a->chw, b->chw, sizeof a->chw) &&
                                       !memcmp(a->dims, b->dims, sizeof a->dims)))) {
            layout = a->layout; /* same storage order: broadcast still lines up */
            ta = a->tensor;
            tb = b->tensor;
        } else {
            ta = plain_tensor(L, a);
            tb = plain_tensor(L, b);
        }
    } else {
        val *act = a->is_const ? b : a, *cst = a->is_const ? a : b;
        int tact;
        if (act->layout == LAY_NHWC && r == 4) {
            layout = LAY_NHWC;
            tact = act->tensor;
        } else {
            tact = plain_tensor(L, act);
        }
        int tc = tact < 0 ? -1 : bcast_const(L, cst, r, layout);
        ta = a->is_const ? tc : tact;
        tb = a->is_const ? tact : tc;
    }
    if (ta < 0 || tb < 0) return L->err->code;
    int64_t chw[3] = {a->chw[0], a->chw[1], a->chw[2]};
    val *y = out_act(L, 0, r, od, layout);
    if (!y) return L->err->code;
    memcpy(y->chw, chw, sizeof chw);
    int in[2] = {ta, tb};
    return emit(L, op, in, 2, y->tensor) ? PL_OK : L->err->code;
}

static pl_status op_add(loader *L) { return op_binary_impl(L, PL_OP_ADD, f_add); }
static pl_status op_sub(loader *L) { return op_binary_impl(L, PL_OP_SUB, f_sub); }
static pl_status op_mul(loader *L) { return op_binary_impl(L, PL_OP_MUL, f_mul); }
static pl_status op_div(loader *L) { return op_binary_impl(L, PL_OP_DIV, f_div); }
static pl_status op_pow(loader *L) { return op_binary_impl(L, PL_OP_POW, f_pow); }
static pl_status op_max(loader *L) { return op_binary_impl(L, PL_OP_MAXIMUM, f_max); }
static pl_status op_min(loader *L) { return op_binary_impl(L, PL_OP_MINIMUM, f_min); }

/* A unary op that keeps shape and layout. */
static pl_status unary(loader *L, pl_op op, pl_node **node)
{
    val *x = in_val(L, 0, 1);
    if (!x) return L->err->code;
    int xt = act_tensor(L, x);
    if (xt < 0) return L->err->code;
    val X = *x;
    val *y = out_act(L, 0, X.rank, X.dims, X.is_const ? LAY_PLAIN : X.layout);
    if (!y) return L->err->code;
    memcpy(y->chw, X.chw, sizeof y->chw);
    pl_node *n = emit(L, op, &xt, 1, y->tensor);
    if (node) *node = n;
    return n ? PL_OK : L->err->code;
}

static pl_status op_relu(loader *L) { return unary(L, PL_OP_RELU, NULL); }
static pl_status op_sigmoid(loader *L) { return unary(L, PL_OP_SIGMOID, NULL); }
static pl_status op_tanh(loader *L) { return unary(L, PL_OP_TANH, NULL); }
static pl_status op_exp(loader *L) { return unary(L, PL_OP_EXP, NULL); }
static pl_status op_log(loader *L) { return unary(L, PL_OP_LOG, NULL); }
static pl_status op_neg(loader *L) { return unary(L, PL_OP_NEG, NULL); }
static pl_status op_abs(loader *L) { return unary(L, PL_OP_ABS, NULL); }
static pl_status op_sqrt(loader *L) { return unary(L, PL_OP_SQRT, NULL); }

static pl_status op_leaky(loader *L)
{
    float alpha = 0.01f;
    pl_node *n;
    TRY(attr_float(L, "alpha", 0.01f, &alpha));
    TRY(unary(L, PL_OP_LEAKY_RELU, &n));
    n->params.alpha = alpha;
    return PL_OK;
}

static pl_status op_clip(loader *L)
{
    float lo = -INFINITY, hi = INFINITY;
    pl_node *n;
    if (L->opset < 11) {
        TRY(attr_float(L, "min", -INFINITY, &lo));
        TRY(attr_float(L, "max", INFINITY, &hi));
    } else {
        for (int k = 1; k <= 2; k++) {
            if (L->node->n_inputs <= (size_t)k || !L->node->inputs[k].n) continue;
            val *c = in_val(L, (size_t)k, 1);
            if (!c) return L->err->code;
            if (!c->is_const || numel(c->rank, c->dims) != 1)
                return fail(L, PL_ERR_UNSUPPORTED, "Clip bound '%s' must be a scalar constant", c->name);
            *(k == 1 ? &lo : &hi) = (float)cval(c, 0);
        }
    }
    TRY(unary(L, PL_OP_CLIP, &n));
    n->params.clip.lo = lo;
    n->params.clip.hi = hi;
    return PL_OK;
}

static pl_status op_prelu(loader *L)
{
    val *x = in_val(L, 0, 1), *s = x ? in_val(L, 1, 1) : NULL;
    if (!s) return L->err->code;
    if (x->is_const || !s->is_const) return fail(L, PL_ERR_UNSUPPORTED, "slope '%s' must be a constant", s->name);
    int r;
    int64_t od[PL_MAX_RANK];
    if (!broadcast(x, s, &r, od) || r != x->rank || memcmp(od, x->dims, sizeof(int64_t) * (size_t)r))
        return fail(L, PL_ERR_FORMAT, "slope '%s' does not broadcast to the input", s->name);
    int layout = x->layout == LAY_NHWC ? LAY_NHWC : LAY_PLAIN;
    int xt = layout == LAY_NHWC ? x->tensor : plain_tensor(L, x);
    /* PyTorch's PRelu slope [C] is [C,1,1] in the file (per channel) */
    int st = xt < 0 ? -1 : bcast_const(L, s, r, layout);
    if (st < 0) return L->err->code;
    val X = *x;
    val *y = out_act(L, 0, X.rank, X.dims, layout);
    int in[2] = {xt, st};
    return y && emit(L, PL_OP_PRELU, in, 2, y->tensor) ? PL_OK : L->err->code;
}

static pl_status op_batchnorm(loader *L)
{
    val *x = in_val(L, 0, 1), *p[4];
    if (!x) return L->err->code;
    for (int k = 0; k < 4; k++)
        if (!(p[k] = in_val(L, (size_t)k + 1, 1))) return L->err->code;
    float eps;
    TRY(attr_float(L, "epsilon", 1e-5f, &eps));
    if (x->rank != 2 && x->rank != 4)
        return fail(L, PL_ERR_UNSUPPORTED, "input '%s' has rank %d (2 or 4 supported)", x->name, x->rank);
    int64_t C = x->dims[1];
    for (int k = 0; k < 4; k++)
        if (!p[k]->is_const || numel(p[k]->rank, p[k]->dims) != C)
            return fail(L, PL_ERR_FORMAT, "'%s' must be a constant of %lld values", p[k]->name, (long long)C);
    float *scale = malloc((size_t)(C ? C : 1) * sizeof *scale), *shift = malloc((size_t)(C ? C : 1) * sizeof *shift);
    if (!scale || !shift) { free(scale); free(shift); return nomem(L); }
    for (int64_t c = 0; c < C; c++) {
        /* y = (x - mean) / sqrt(var + eps) * gamma + beta = x * scale + shift */
        double sc = cval(p[0], c) / sqrt(cval(p[3], c) + (double)eps);
        scale[c] = (float)sc;
        shift[c] = (float)(cval(p[1], c) - cval(p[2], c) * sc);
    }
    int64_t cd[1] = {C};
    int xt = x->rank == 4 ? nhwc_tensor(L, x) : plain_tensor(L, x);
    int in[3] = {xt, -1, -1};
    if (xt < 0) { free(scale); free(shift); return L->err->code; }
    if ((in[1] = add_const(L, p[0]->name, 1, cd, scale)) < 0) { free(shift); return L->err->code; }
    if ((in[2] = add_const(L, p[1]->name, 1, cd, shift)) < 0) return L->err->code;
    val X = *x;
    val *y = out_act(L, 0, X.rank, X.dims, X.rank == 4 ? LAY_NHWC : LAY_PLAIN);
    return y && emit(L, PL_OP_AFFINE, in, 3, y->tensor) ? PL_OK : L->err->code;
}

/* ---- shape ops ---------------------------------------------------------------------------- */

/* Reshape x to the logical shape d (rank r) for output k. */
static pl_status reshape_to(loader *L, val *x, int r, const int64_t *d)
{
    if (numel(r, d) != numel(x->rank, x->dims))
        return fail(L, PL_ERR_FORMAT, "cannot reshape %lld elements of '%s' into %lld",
                    (long long)numel(x->rank, x->dims), x->name, (long long)numel(r, d));
    if (x->is_const) {
        TRY(alias(L, x, 0));
        val *y = &L->vals[L->n_vals - 1];
        y->rank = r;
        memcpy(y->dims, d, sizeof(int64_t) * (size_t)r);
        return PL_OK;
    }
    if (x->rank == r && !memcmp(x->dims, d, sizeof(int64_t) * (size_t)r)) return alias(L, x, 0);
    /* the engine's dims: keep the batch by copying dim 0 */
    int64_t ed[PL_MAX_RANK];
    memcpy(ed, d, sizeof(int64_t) * (size_t)r);
    if (r >= 1 && x->rank >= 1 && d[0] == x->dims[0]) ed[0] = 0;
    int layout = LAY_PLAIN, xt;
    val X = *x;
    if (X.layout == LAY_NHWC && r == 2 && d[0] == X.dims[0] && X.dims[2] * X.dims[3] > 1) {
        layout = LAY_FLAT; /* an NCHW flatten: keep NHWC order, remember C,H,W */
        xt = X.tensor;
    } else if (X.layout == LAY_NHWC && X.dims[2] * X.dims[3] == 1 && r >= 1 && d[0] == X.dims[0] &&
               numel(r - 1, d + 1) == X.dims[1] && (r < 2 || d[1] == X.dims[1])) {
        xt = X.tensor; /* [N,C,1,1] is the same bytes in both orders */
    } else {
        xt = plain_tensor(L, x);
    }
    if (xt < 0) return L->err->code;
    val *y = out_act(L, 0, r, d, layout);
    if (!y) return L->err->code;
    if (layout == LAY_FLAT) { y->chw[0] = X.dims[1]; y->chw[1] = X.dims[2]; y->chw[2] = X.dims[3]; }
    return emit_reshape(L, xt, y->tensor, r, ed) ? PL_OK : L->err->code;
}

static pl_status op_reshape(loader *L)
{
    val *x = in_val(L, 0, 1);
    if (!x) return L->err->code;
    int64_t d[PL_MAX_RANK];
    int r;
    if (L->opset < 5) {
        TRY(attr_ints(L, "shape", -PL_MAX_RANK, d, &r));
    } else {
        val *s = in_val(L, 1, 1);
        if (!s) return L->err->code;
        TRY(const_ints(L, s, "shape", d, PL_MAX_RANK, &r));
    }
    int64_t allowzero = 0, known = 1;
    TRY(attr_int(L, "allowzero", 0, &allowzero));
    int minus = -1;
    for (int k = 0; k < r; k++) {
        if (d[k] == 0 && !allowzero) {
            if (k >= x->rank) return fail(L, PL_ERR_FORMAT, "shape copies dim %d of a rank-%d input", k, x->rank);
            d[k] = x->dims[k];
        }
        if (d[k] == -1) {
            if (minus >= 0) return fail(L, PL_ERR_FORMAT, "shape has more than one -1");
            minus = k;
        } else if (d[k] < 0 || d[k] > ONNX_MAX_DIM) {
            return fail(L, PL_ERR_FORMAT, "shape has a bad dim %lld", (long long)d[k]);
        } else {
            known *= d[k];
        }
    }
    if (minus >= 0) {
        int64_t n = numel(x->rank, x->dims);
        if (known == 0 || n % known) return fail(L, PL_ERR_FORMAT, "shape does not fit %lld elements", (long long)n);
        d[minus] = n / known;
    }
    return reshape_to(L, x, r, d);
}

static pl_status op_flatten(loader *L)
{
    val *x = in_val(L, 0, 1);
    if (!x) return L->err->code;
    int64_t ax;
    int a;
    TRY(attr_int(L, "axis", 1, &ax));
    if (ax < 0) ax += x->rank;
    if (ax < 0 || ax > x->rank) return fail(L, PL_ERR_FORMAT, "axis %lld out of range", (long long)ax);
    a = (int)ax;
    int64_t d[2] = {numel(a, x->dims), numel(x->rank - a, x->dims + a)};
    return reshape_to(L, x, 2, d);
}

/* axes from the attribute (old opsets) or input 1 (new ones). */
static pl_status axes_arg(loader *L, int input_from, int64_t *axes, int *n)
{
    *n = 0;
    if (L->opset < input_from) return attr_ints(L, "axes", -PL_MAX_RANK, axes, n);
    if (L->node->n_inputs < 2 || !L->node->inputs[1].n) return PL_OK;
    val *a = in_val(L, 1, 1);
    if (!a) return L->err->code;
    return const_ints(L, a, "axes", axes, PL_MAX_RANK, n);
}

static pl_status op_unsqueeze(loader *L)
{
    val *x = in_val(L, 0, 1);
    if (!x) return L->err->code;
    int64_t axes[PL_MAX_RANK], d[PL_MAX_RANK];
    int n, mask = 0;
    TRY(axes_arg(L, 13, axes, &n));
    int r = x->rank + n;
    if (r > PL_MAX_RANK) return fail(L, PL_ERR_UNSUPPORTED, "result rank %d", r);
    for (int k = 0; k < n; k++) {
        int a;
        if (!norm_axis(L, axes[k], r, &a)) return L->err->code;
        mask |= 1 << a;
    }
    for (int k = 0, j = 0; k < r; k++) d[k] = (mask & (1 << k)) ? 1 : x->dims[j++];
    return reshape_to(L, x, r, d);
}

static pl_status op_squeeze(loader *L)
{
    val *x = in_val(L, 0, 1);
    if (!x) return L->err->code;
    int64_t axes[PL_MAX_RANK], d[PL_MAX_RANK];
    int n, mask = 0, r = 0;
    TRY(axes_arg(L, 13, axes, &n));
    for (int k = 0; k < n; k++) {
        int a;
        if (!norm_axis(L, axes[k], x->rank, &a)) return L->err->code;
        if (x->dims[a] != 1) return fail(L, PL_ERR_FORMAT, "cannot squeeze axis %d of size %lld", a, (long long)x->dims[a]);
        mask |= 1 << a;
    }
    for (int k = 0; k < x->rank; k++)
        if (n ? !(mask & (1 << k)) : x->dims[k] != 1) d[r++] = x->dims[k];
    return reshape_to(L, x, r, d);
}

static pl_status op_identity(loader *L)
{
    val *x = in_val(L, 0, 1);
    return x ? alias(L, x, 0) : L->err->code;
}

static pl_status op_cast(loader *L)
{
    val *x = in_val(L, 0, 1);
    if (!x) return L->err->code;
    int64_t to;
    TRY(attr_int(L, "to", OX_FLOAT, &to));
    if (!x->is_const) {
        if (to != OX_FLOAT) return fail(L, PL_ERR_UNSUPPORTED, "Cast of an activation to type %lld", (long long)to);
        return alias(L, x, 0);
    }
    val X = *x;
    val *y = out_val(L, 0, X.rank, X.dims);
    if (!y) return L->err->code;
    int to_int = to != OX_FLOAT && to != OX_DOUBLE && to != OX_FLOAT16;
    TRY(alloc_const(L, y, to_int, X.rank, X.dims));
    for (int64_t k = 0; k < numel(X.rank, X.dims); k++) {
        if (to_int) y->i[k] = (int64_t)cval(&X, k);
        else y->f[k] = (float)cval(&X, k);
    }
    return PL_OK;
}

static pl_status op_shape(loader *L)
{
    val *x = in_val(L, 0, 1);
    if (!x) return L->err->code;
    int64_t start, end;
    TRY(attr_int(L, "start", 0, &start));
    TRY(attr_int(L, "end", x->rank, &end));
    if (start < 0) start += x->rank;
    if (end < 0) end += x->rank;
    start = start < 0 ? 0 : start > x->rank ? x->rank : start;
    end = end < start ? start : end > x->rank ? x->rank : end;
    int64_t n = end - start, dims[1] = {n};
    val X = *x;
    val *y = out_val(L, 0, 1, dims);
    if (!y) return L->err->code;
    TRY(alloc_const(L, y, 1, 1, dims));
    for (int64_t k = 0; k < n; k++) y->i[k] = X.dims[start + k];
    return PL_OK;
}

static pl_status op_constant(loader *L)
{
    const ox_node *n = L->node;
    val *y = NULL;
    int64_t one[1] = {1};
    for (size_t k = 0; k < n->n_attrs; k++) {
        const ox_attr *a = &n->attrs[k];
        if (ox_str_eq(a->name, "value") && a->t) {
            if (!(y = out_val(L, 0, 0, one))) return L->err->code;
            return tensor_to_val(L, a->t, y);
        }
        int isf = ox_str_eq(a->name, "value_float"), isi = ox_str_eq(a->name, "value_int");
        int isfs = ox_str_eq(a->name, "value_floats"), isis = ox_str_eq(a->name, "value_ints");
        if (!(isf || isi || isfs || isis)) continue;
        int64_t cnt = isfs ? (int64_t)a->n_floats : isis ? (int64_t)a->n_ints : 1, d[1] = {cnt};
        int rank = (isfs || isis) ? 1 : 0;
        if (!(y = out_val(L, 0, rank, d))) return L->err->code;
        TRY(alloc_const(L, y, isi || isis, rank, d));
        for (int64_t j = 0; j < cnt; j++) {
            if (isf) y->f[j] = a->f;
            else if (isi) y->i[j] = a->i;
            else if (isfs) y->f[j] = a->floats[j];
            else y->i[j] = a->ints[j];
        }
        return PL_OK;
    }
    return fail(L, PL_ERR_UNSUPPORTED, "Constant without a tensor or number value");
}

static pl_status op_constant_of_shape(loader *L)
{
    val *s = in_val(L, 0, 1);
    if (!s) return L->err->code;
    int64_t d[PL_MAX_RANK];
    int r;
    TRY(const_ints(L, s, "shape", d, PL_MAX_RANK, &r));
    val *y = out_val(L, 0, r, d);
    if (!y) return L->err->code;
    const ox_attr *a = ox_node_attr(L->node, "value");
    int is_int = 0;
    double v = 0;
    if (a && a->t) {
        val tmp;
        memset(&tmp, 0, sizeof tmp);
        pl_status st = tensor_to_val(L, a->t, &tmp);
        if (!st && numel(tmp.rank, tmp.dims) != 1) st = fail(L, PL_ERR_FORMAT, "'value' must hold one number");
        if (!st) { is_int = tmp.is_int; v = cval(&tmp, 0); }
        free(tmp.f);
        free(tmp.i);
        TRY(st);
    }
    TRY(alloc_const(L, y, is_int, r, d));
    for (int64_t k = 0; k < numel(r, d); k++) {
        if (is_int) y->i[k] = (int64_t)v;
        else y->f[k] = (float)v;
    }
    return PL_OK;
}

static pl_status op_gather(loader *L)
{
    val *x = in_val(L, 0, 1), *ix = x ? in_val(L, 1, 1) : NULL;
    if (!ix) return L->err->code;
    if (!x->is_const || !ix->is_const)
        return fail(L, PL_ERR_UNSUPPORTED, "Gather is only supported on constants (shape arithmetic)");
    int64_t ax;
    int a;
    TRY(attr_int(L, "axis", 0, &ax));
    if (!norm_axis(L, ax, x->rank, &a)) return L->err->code;
    int r = x->rank - 1 + ix->rank;
    if (r > PL_MAX_RANK) return fail(L, PL_ERR_UNSUPPORTED, "result rank %d", r);
    int64_t d[PL_MAX_RANK], outer = numel(a, x->dims), inner = numel(x->rank - a - 1, x->dims + a + 1);
    int64_t ni = numel(ix->rank, ix->dims), dim = x->dims[a];
    memcpy(d, x->dims, sizeof(int64_t) * (size_t)a);
    memcpy(d + a, ix->dims, sizeof(int64_t) * (size_t)ix->rank);
    memcpy(d + a + ix->rank, x->dims + a + 1, sizeof(int64_t) * (size_t)(x->rank - a - 1));
    val X = *x, I = *ix;
    val *y = out_val(L, 0, r, d);
    if (!y) return L->err->code;
    TRY(alloc_const(L, y, X.is_int, r, d));
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < ni; j++) {
            int64_t q = (int64_t)cval(&I, j);
            if (q < 0) q += dim;
            if (q < 0 || q >= dim) return fail(L, PL_ERR_FORMAT, "index %lld out of range", (long long)q);
            for (int64_t k = 0; k < inner; k++) {
                int64_t src = (o * dim + q) * inner + k, dst = (o * ni + j) * inner + k;
                if (X.is_int) y->i[dst] = X.i[src];
                else y->f[dst] = X.f[src];
            }
        }
    return PL_OK;
}

static pl_status op_concat(loader *L)
{
    const ox_node *n = L->node;
    if (n->n_inputs < 1 || n->n_inputs > 64) return fail(L, PL_ERR_UNSUPPORTED, "%zu inputs", n->n_inputs);
    val *in[64];
    int all_const = 1, all_nhwc = 1;
    for (size_t k = 0; k < n->n_inputs; k++) {
        if (!(in[k] = in_val(L, k, 1))) return L->err->code;
        all_const &= in[k]->is_const;
        if (!in[k]->is_const) all_nhwc &= in[k]->layout == LAY_NHWC;
    }
    int64_t ax;
    int a, r = in[0]->rank;
    TRY(attr_int(L, "axis", 0, &ax)); /* required since opset 4; 1 before */
    if (!norm_axis(L, ax, r, &a)) return L->err->code;
    int64_t d[PL_MAX_RANK];
    memcpy(d, in[0]->dims, sizeof d);
    d[a] = 0;
    for (size_t k = 0; k < n->n_inputs; k++) {
        if (in[k]->rank != r) return fail(L, PL_ERR_FORMAT, "inputs differ in rank");
        for (int j = 0; j < r; j++)
            if (j != a && in[k]->dims[j] != d[j]) return fail(L, PL_ERR_FORMAT, "input '%s' differs outside the concat axis", in[k]->name);
        d[a] += in[k]->dims[a];
    }
    if (all_const) {
        int is_int = 1;
        val copies[64];
        for (size_t k = 0; k < n->n_inputs; k++) { is_int &= in[k]->is_int; copies[k] = *in[k]; }
        val *y = out_val(L, 0, r, d);
        if (!y) return L->err->code;
        TRY(alloc_const(L, y, is_int, r, d));
        int64_t outer = numel(a, d), inner = numel(r - a - 1, d + a + 1), pos = 0;
        for (int64_t o = 0; o < outer; o++)
            for (size_t k = 0; k < n->n_inputs; k++) {
                int64_t len = copies[k].dims[a] * inner;
                for (int64_t j = 0; j < len; j++) {
                    double v = cval(&copies[k], o * len + j);
                    if (is_int) y->i[pos++] = (int64_t)v;
                    else y->f[pos++] = (float)v;
                }
            }
        return PL_OK;
    }
    int nhwc = r == 4 && all_nhwc, ts[64];
    for (size_t k = 0; k < n->n_inputs; k++) {
        ts[k] = nhwc ? nhwc_tensor(L, in[k]) : plain_tensor(L, in[k]);
        if (ts[k] < 0) return L->err->code;
    }
    val *y = out_act(L, 0, r, d, nhwc ? LAY_NHWC : LAY_PLAIN);
    pl_node *nd = y ? emit(L, PL_OP_CONCAT, ts, (int)n->n_inputs, y->tensor) : NULL;
    if (!nd) return L->err->code;
    nd->params.axis = nhwc ? nchw_to_nhwc_axis[a] : a;
    return PL_OK;
}

static pl_status op_transpose(loader *L)
{
    val *x = in_val(L, 0, 1);
    if (!x) return L->err->code;
    int64_t p[PL_MAX_RANK];
    int np, perm[PL_MAX_RANK], seen = 0, r = x->rank;
    TRY(attr_ints(L, "perm", -PL_MAX_RANK, p, &np));
    if (!np) for (int k = 0; k < r; k++) p[k] = r - 1 - k;
    else if (np != r) return fail(L, PL_ERR_FORMAT, "attribute 'perm' has %d values, expected %d", np, r);
    for (int k = 0; k < r; k++) {
        if (p[k] < 0 || p[k] >= r || (seen & (1 << p[k]))) return fail(L, PL_ERR_FORMAT, "attribute 'perm' is not a permutation");
        seen |= 1 << p[k];
        perm[k] = (int)p[k];
    }
    int64_t d[PL_MAX_RANK];
    for (int k = 0; k < r; k++) d[k] = x->dims[perm[k]];
    val X = *x;
    if (X.is_const) {
        val *y = out_val(L, 0, r, d);
        if (!y) return L->err->code;
        TRY(alloc_const(L, y, X.is_int, r, d));
        int64_t n = numel(r, d), idx[PL_MAX_RANK] = {0}, stride[PL_MAX_RANK], s = 1;
        for (int j = r - 1; j >= 0; j--) { stride[j] = s; s *= X.dims[j]; }
        for (int64_t k = 0; k < n; k++) {
            int64_t src = 0; /* source offset of output index idx */
            for (int j = 0; j < r; j++) src += idx[j] * stride[perm[j]];
            if (X.is_int) y->i[k] = X.i[src];
            else y->f[k] = X.f[src];
            for (int j = r - 1; j >= 0; j--) { if (++idx[j] < d[j]) break; idx[j] = 0; }
        }
        return PL_OK;
    }
    int q[PL_MAX_RANK], xt, ident = 1;
    if (X.layout == LAY_NHWC) {
        /* storage axis of logical axis perm[k] */
        for (int k = 0; k < 4; k++) q[k] = nchw_to_nhwc_axis[perm[k]];
        xt = X.tensor;
    } else {
        memcpy(q, perm, sizeof q);
        xt = plain_tensor(L, x);
    }
    if (xt < 0) return L->err->code;
    for (int k = 0; k < r; k++) ident &= q[k] == k;
    val *y = out_val(L, 0, r, d);
    if (!y) return L->err->code;
    y->layout = LAY_PLAIN;
    if (ident) { y->tensor = xt; return PL_OK; } /* e.g. NCHW->NHWC of an NHWC tensor */
    if ((y->tensor = new_tensor(L, y->name, NULL)) < 0) return L->err->code;
    return emit_transpose(L, xt, y->tensor, r, q) ? PL_OK : L->err->code;
}

static pl_status op_slice(loader *L)
{
    val *x = in_val(L, 0, 1);
    if (!x) return L->err->code;
    int64_t st[PL_MAX_RANK], en[PL_MAX_RANK], ax[PL_MAX_RANK], sp[PL_MAX_RANK];
    int ns, ne, na = 0, np = 0, r = x->rank;
    if (L->opset < 10) {
        TRY(attr_ints(L, "starts", -PL_MAX_RANK, st, &ns));
        TRY(attr_ints(L, "ends", -PL_MAX_RANK, en, &ne));
        TRY(attr_ints(L, "axes", -PL_MAX_RANK, ax, &na));
    } else {
        val *v;
        if (!(v = in_val(L, 1, 1))) return L->err->code;
        TRY(const_ints(L, v, "starts", st, PL_MAX_RANK, &ns));
        if (!(v = in_val(L, 2, 1))) return L->err->code;
        TRY(const_ints(L, v, "ends", en, PL_MAX_RANK, &ne));
        if (L->node->n_inputs > 3 && L->node->inputs[3].n) {
            if (!(v = in_val(L, 3, 1))) return L->err->code;
            TRY(const_ints(L, v, "axes", ax, PL_MAX_RANK, &na));
        }
        if (L->node->n_inputs > 4 && L->node->inputs[4].n) {
            if (!(v = in_val(L, 4, 1))) return L->err->code;
            TRY(const_ints(L, v, "steps", sp, PL_MAX_RANK, &np));
        }
    }
    if (ns != ne || (na && na != ns) || (np && np != ns))
        return fail(L, PL_ERR_FORMAT, "starts/ends/axes/steps differ in length");
    int64_t b[PL_MAX_RANK], e[PL_MAX_RANK], s[PL_MAX_RANK], d[PL_MAX_RANK];
    for (int k = 0; k < r; k++) { b[k] = 0; e[k] = x->dims[k]; s[k] = 1; d[k] = x->dims[k]; }
    for (int k = 0; k < ns; k++) {
        int a;
        if (!norm_axis(L, na ? ax[k] : k, r, &a)) return L->err->code;
        int64_t step = np ? sp[k] : 1, dim = x->dims[a], lo = st[k], hi = en[k];
        if (step <= 0) return fail(L, PL_ERR_UNSUPPORTED, "Slice step %lld", (long long)step);
        if (lo < 0) lo += dim;
        if (hi < 0) hi += dim;
        lo = lo < 0 ? 0 : lo > dim ? dim : lo;
        hi = hi < 0 ? 0 : hi > dim ? dim : hi;
        b[a] = lo; e[a] = hi; s[a] = step;
        d[a] = hi > lo ? (hi - lo + step - 1) / step : 0;
        if (d[a] == 0) return fail(L, PL_ERR_UNSUPPORTED, "empty Slice on axis %d", a);
    }
    val X = *x;
    if (X.is_const) {
        val *y = out_val(L, 0, r, d);
        if (!y) return L->err->code;
        TRY(alloc_const(L, y, X.is_int, r, d));
        int64_t n = numel(r, d), idx[PL_MAX_RANK] = {0};
        for (int64_t k = 0; k < n; k++) {
            int64_t src = 0;
            for (int j = 0; j < r; j++) src = src * X.dims[j] + b[j] + idx[j] * s[j];
            if (X.is_int) y->i[k] = X.i[src];
            else y->f[k] = X.f[src];
            for (int j = r - 1; j >= 0; j--) { if (++idx[j] < d[j]) break; idx[j] = 0; }
        }
        return PL_OK;
    }
    int nhwc = X.layout == LAY_NHWC;
    int xt = nhwc ? X.tensor : plain_tensor(L, x);
    if (xt < 0) return L->err->code;
    val *y = out_act(L, 0, r, d, nhwc ? LAY_NHWC : LAY_PLAIN);
    pl_node *n = y ? emit(L, PL_OP_SLICE, &xt, 1, y->tensor) : NULL;
    if (!n) return L->err->code;
    n->params.slice.rank = r;
    for (int k = 0; k < r; k++) {
        int sa = nhwc ? nchw_to_nhwc_axis[k] : k;
        int full = b[k] == 0 && e[k] == X.dims[k] && s[k] == 1;
        n->params.slice.begin[sa] = b[k];
        /* untouched axes run to the end, so the batch stays free */
        n->params.slice.end[sa] = full ? INT64_MAX : e[k];
        n->params.slice.stride[sa] = s[k];
    }
    return PL_OK;
}

static pl_status op_pad(loader *L)
{
    val *x = in_val(L, 0, 1);
    if (!x) return L->err->code;
    int64_t p[2 * PL_MAX_RANK];
    int np, r = x->rank;
    float value = 0;
    if (!attr_str_is(L, "mode", "constant", "constant"))
        return fail(L, PL_ERR_UNSUPPORTED, "only constant padding is supported");
    if (L->opset < 11) {
        TRY(attr_ints(L, "pads", -2 * PL_MAX_RANK, p, &np));
        TRY(attr_float(L, "value", 0.0f, &value));
    } else {
        val *pv = in_val(L, 1, 1);
        if (!pv) return L->err->code;
        TRY(const_ints(L, pv, "pads", p, 2 * PL_MAX_RANK, &np));
        if (L->node->n_inputs > 2 && L->node->inputs[2].n) {
            val *cv = in_val(L, 2, 1);
            if (!cv) return L->err->code;
            if (!cv->is_const || numel(cv->rank, cv->dims) != 1)
                return fail(L, PL_ERR_UNSUPPORTED, "constant_value must be a scalar constant");
            value = (float)cval(cv, 0);
        }
    }
    if (np != 2 * r) return fail(L, PL_ERR_FORMAT, "'pads' has %d values, expected %d", np, 2 * r);
    int64_t d[PL_MAX_RANK];
    int zero = 1;
    for (int k = 0; k < r; k++) {
        if (p[k] < 0 || p[k + r] < 0 || p[k] > ONNX_MAX_DIM || p[k + r] > ONNX_MAX_DIM)
            return fail(L, PL_ERR_UNSUPPORTED, "negative or huge pads");
        d[k] = x->dims[k] + p[k] + p[k + r];
        zero &= p[k] == 0 && p[k + r] == 0;
    }
    if (zero) return alias(L, x, 0);
    val X = *x;
    int nhwc = !X.is_const && X.layout == LAY_NHWC;
    int xt = nhwc ? X.tensor : plain_tensor(L, x);
    if (xt < 0) return L->err->code;
    val *y = out_act(L, 0, r, d, nhwc ? LAY_NHWC : LAY_PLAIN);
    pl_node *n = y ? emit(L, PL_OP_PAD, &xt, 1, y->tensor) : NULL;
    if (!n) return L->err->code;
    n->params.pad.rank = r;
    n->params.pad.value = value;
    for (int k = 0; k < r; k++) {
        int sa = nhwc ? nchw_to_nhwc_axis[k] : k;
        n->params.pad.before[sa] = (int)p[k];
        n->params.pad.after[sa] = (int)p[k + r];
    }
    return PL_OK;
}

static pl_status op_softmax(loader *L)
{
    val *x = in_val(L, 0, 1);
    if (!x) return L->err->code;
    int64_t ax;
    int a;
    TRY(attr_int(L, "axis", L->opset < 13 ? 1 : -1, &ax));
    if (!norm_axis(L, ax, x->rank, &a)) return L->err->code;
    /* before opset 13, softmax runs over all axes from `axis` on */
    if (L->opset < 13 && numel(x->rank - a - 1, x->dims + a + 1) != 1)
        return fail(L, PL_ERR_UNSUPPORTED, "Softmax over several axes (axis %d of rank %d)", a, x->rank);
    pl_node *n;
    val X = *x;
    if (X.layout == LAY_FLAT && a != 1) { /* softmax over C*H*W is order-free */
        int t = plain_tensor(L, x);
        if (t < 0) return L->err->code;
        val *y = out_act(L, 0, X.rank, X.dims, LAY_PLAIN);
        if (!y || !(n = emit(L, PL_OP_SOFTMAX, &t, 1, y->tensor))) return L->err->code;
    } else {
        TRY(unary(L, PL_OP_SOFTMAX, &n));
    }
    n->params.axis = storage_axis(&X, a);
    return PL_OK;
}

static pl_status op_lpnorm(loader *L)
{
    val *x = in_val(L, 0, 1);
    if (!x) return L->err->code;
    int64_t ax, p;
    int a;
    TRY(attr_int(L, "axis", -1, &ax));
    TRY(attr_int(L, "p", 2, &p));
    if (p != 2) return fail(L, PL_ERR_UNSUPPORTED, "LpNormalization with p=%lld", (long long)p);
    if (!norm_axis(L, ax, x->rank, &a)) return L->err->code;
    pl_node *n;
    val X = *x;
    /* over the flattened axis of LAY_FLAT the order does not matter */
    if (X.layout == LAY_FLAT && a != 1) return fail(L, PL_ERR_UNSUPPORTED, "LpNormalization over the batch axis");
    TRY(unary(L, PL_OP_L2_NORMALIZE, &n));
    n->params.axis = storage_axis(&X, a);
    n->params.eps = 0; /* ONNX divides by the plain norm */
    return PL_OK;
}

/* ReduceMean/Max/Sum/L2: the reduced axes as a storage-axis mask. */
static pl_status op_reduce_impl(loader *L, pl_op op, int l2, int axes_input_from)
{
    val *x = in_val(L, 0, 1);
    if (!x) return L->err->code;
    int64_t axes[PL_MAX_RANK], keep, noop_empty;
    int n, lmask = 0, r = x->rank;
    TRY(axes_arg(L, axes_input_from, axes, &n));
    TRY(attr_int(L, "keepdims", 1, &keep));
    TRY(attr_int(L, "noop_with_empty_axes", 0, &noop_empty));
    if (!n && noop_empty) return alias(L, x, 0);
    for (int k = 0; k < n; k++) {
        int a;
        if (!norm_axis(L, axes[k], r, &a)) return L->err->code;
        lmask |= 1 << a;
    }
    if (!n) lmask = (1 << r) - 1;
    int64_t d[PL_MAX_RANK];
    int od = 0;
    for (int k = 0; k < r; k++) {
        if (!(lmask & (1 << k))) d[od++] = x->dims[k];
        else if (keep) d[od++] = 1;
    }
    val X = *x;
    /* NHWC input: fine if kept dims keep their order (keepdims, or C
     * reduced, or H and W both reduced) */
    int nhwc = X.layout == LAY_NHWC &&
               (keep || (lmask & 2) || ((lmask & 12) == 12));
    int xt = nhwc ? X.tensor : plain_tensor(L, x);
    if (xt < 0) return L->err->code;
    int smask = 0;
    for (int k = 0; k < r; k++)
        if (lmask & (1 << k)) smask |= 1 << (nhwc ? nchw_to_nhwc_axis[k] : k);
    if (l2) { /* sqrt(sum(x*x)) */
        int sq = new_tensor(L, X.name, "sq");
        int in2[2] = {xt, xt};
        if (sq < 0 || !emit(L, PL_OP_MUL, in2, 2, sq)) return L->err->code;
        xt = sq;
    }
    val *y = out_act(L, 0, od, d, nhwc && keep ? LAY_NHWC : LAY_PLAIN);
    if (!y) return L->err->code;
    int rt = l2 ? new_tensor(L, y->name, "sum") : y->tensor;
    pl_node *nd = rt < 0 ? NULL : emit(L, op, &xt, 1, rt);
    if (!nd) return L->err->code;
    nd->params.reduce.axes_mask = smask;
    nd->params.reduce.keep_dims = (int)keep;
    if (l2 && !emit(L, PL_OP_SQRT, &rt, 1, y->tensor)) return L->err->code;
    return PL_OK;
}

static pl_status op_rmean(loader *L) { return op_reduce_impl(L, PL_OP_REDUCE_MEAN, 0, 18); }
static pl_status op_rmax(loader *L) { return op_reduce_impl(L, PL_OP_REDUCE_MAX, 0, 18); }
static pl_status op_rsum(loader *L) { return op_reduce_impl(L, PL_OP_REDUCE_SUM, 0, 13); }
static pl_status op_rl2(loader *L) { return op_reduce_impl(L, PL_OP_REDUCE_SUM, 1, 18); }

static pl_status op_expand(loader *L)
{
    val *x = in_val(L, 0, 1), *s = x ? in_val(L, 1, 1) : NULL;
    if (!s) return L->err->code;
    int64_t d[PL_MAX_RANK];
    int r;
    TRY(const_ints(L, s, "shape", d, PL_MAX_RANK, &r));
    val shp;
    memset(&shp, 0, sizeof shp);
    shp.rank = r;
    memcpy(shp.dims, d, sizeof d);
    int orank;
    int64_t od[PL_MAX_RANK];
    if (!broadcast(x, &shp, &orank, od)) return fail(L, PL_ERR_FORMAT, "shape does not broadcast");
    if (orank == x->rank && !memcmp(od, x->dims, sizeof(int64_t) * (size_t)orank)) return alias(L, x, 0);
    if (!x->is_const) {
        /* x * ones(shape): the multiply broadcasts exactly as Expand does;
         * the ones keep a batch of 1 so the batch stays free */
        val ones;
        memset(&ones, 0, sizeof ones);
        ones.name = "expand.ones";
        ones.rank = r;
        memcpy(ones.dims, d, sizeof d);
        if (r > 0 && orank == x->rank) ones.dims[0] = 1;
        TRY(check_shape(L, "Expand shape", r, ones.dims));
        TRY(alloc_const(L, &ones, 0, r, ones.dims));
        for (int64_t k = 0; k < numel(r, ones.dims); k++) ones.f[k] = 1.0f;
        int xt = plain_tensor(L, x), ot = xt < 0 ? -1 : bcast_const(L, &ones, orank, LAY_PLAIN);
        free(ones.f);
        if (ot < 0) return L->err->code;
        val *y = out_act(L, 0, orank, od, LAY_PLAIN);
        int in[2] = {xt, ot};
        return y && emit(L, PL_OP_MUL, in, 2, y->tensor) ? PL_OK : L->err->code;
    }
    val X = *x;
    val *y = out_val(L, 0, orank, od);
    if (!y) return L->err->code;
    TRY(check_shape(L, "Expand output", orank, od));
    TRY(alloc_const(L, y, X.is_int, orank, od));
    for (int64_t k = 0; k < numel(orank, od); k++) {
        int64_t src = bcast_index(&X, orank, od, k);
        if (X.is_int) y->i[k] = X.i[src];
        else y->f[k] = X.f[src];
    }
    return PL_OK;
}

/* ---- dispatch ----------------------------------------------------------------------------- */

typedef struct op_entry {
    const char *name;
    pl_status (*fn)(loader *);
} op_entry;

static const op_entry ops[] = {
    {"Conv", op_conv}, {"MaxPool", op_maxpool}, {"AveragePool", op_avgpool},
    {"GlobalMaxPool", op_gmaxpool}, {"GlobalAveragePool", op_gavgpool},
    {"Gemm", op_gemm}, {"MatMul", op_matmul},
    {"Add", op_add}, {"Sub", op_sub}, {"Mul", op_mul}, {"Div", op_div}, {"Pow", op_pow},
    {"Max", op_max}, {"Min", op_min},
    {"Relu", op_relu}, {"Sigmoid", op_sigmoid}, {"Tanh", op_tanh}, {"Exp", op_exp},
    {"Log", op_log}, {"Neg", op_neg}, {"Abs", op_abs}, {"Sqrt", op_sqrt},
    {"LeakyRelu", op_leaky}, {"Clip", op_clip}, {"PRelu", op_prelu},
    {"BatchNormalization", op_batchnorm},
    {"Reshape", op_reshape}, {"Flatten", op_flatten}, {"Unsqueeze", op_unsqueeze},
    {"Squeeze", op_squeeze}, {"Identity", op_identity}, {"Dropout", op_identity},
    {"Cast", op_cast}, {"Shape", op_shape}, {"Constant", op_constant},
    {"ConstantOfShape", op_constant_of_shape}, {"Gather", op_gather}, {"Concat", op_concat},
    {"Transpose", op_transpose}, {"Slice", op_slice}, {"Pad", op_pad},
    {"Softmax", op_softmax}, {"LpNormalization", op_lpnorm},
    {"ReduceMean", op_rmean}, {"ReduceMax", op_rmax}, {"ReduceSum", op_rsum}, {"ReduceL2", op_rl2},
    {"Expand", op_expand},
};

static pl_status convert_node(loader *L, const ox_node *n, size_t idx)
{
    L->node = n;
    snprintf(L->node_label, sizeof L->node_label, "'%.*s' (%.*s)",
             (int)(n->name.n > 100 ? 100 : n->name.n), n->name.p,
             (int)(n->op_type.n > 60 ? 60 : n->op_type.n), n->op_type.p);
    if (!n->name.n)
        snprintf(L->node_label, sizeof L->node_label, "#%zu (%.*s)", idx,
                 (int)(n->op_type.n > 60 ? 60 : n->op_type.n), n->op_type.p);
    if (n->domain.n && !ox_str_eq(n->domain, "ai.onnx"))
        return fail(L, PL_ERR_UNSUPPORTED, "operator domain '%.*s' is not supported",
                    (int)(n->domain.n > 60 ? 60 : n->domain.n), n->domain.p);
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++)
        if (ox_str_eq(n->op_type, ops[k].name)) return ops[k].fn(L);
    return fail(L, PL_ERR_UNSUPPORTED, "operator '%.*s' is not supported",
                (int)(n->op_type.n > 60 ? 60 : n->op_type.n), n->op_type.p);
}

/* ---- graph boundary ------------------------------------------------------------------------ */

static int is_initializer(const ox_graph *g, ox_str name)
{
    for (size_t k = 0; k < g->n_inits; k++)
        if (g->inits[k].name.n == name.n && !memcmp(g->inits[k].name.p, name.p, name.n)) return 1;
    return 0;
}

static pl_status add_inputs(loader *L, const ox_graph *og)
{
    for (size_t k = 0; k < og->n_inputs; k++) {
        const ox_value_info *vi = &og->inputs[k];
        if (is_initializer(og, vi->name)) continue; /* IR < 4 lists weights as inputs */
        char what[160];
        snprintf(what, sizeof what, "input '%.*s'", (int)(vi->name.n > 100 ? 100 : vi->name.n), vi->name.p);
        if (vi->elem_type && vi->elem_type != OX_FLOAT)
            return fail(L, PL_ERR_UNSUPPORTED, "%s has element type %d, only float is supported", what, vi->elem_type);
        if (vi->rank < 1 || vi->rank > PL_MAX_RANK)
            return fail(L, PL_ERR_UNSUPPORTED, "%s has no shape or rank %d", what, vi->rank);
        val *v = new_val(L, vi->name);
        if (!v) return L->err->code;
        int64_t decl[PL_MAX_RANK];
        v->rank = vi->rank;
        for (int d = 0; d < vi->rank; d++) {
            v->dims[d] = vi->dims[d];
            /* the batch may be symbolic; the other dims fix the layout */
            if (d == 0 && v->dims[d] <= 0) v->dims[d] = 1;
            if (v->dims[d] <= 0)
                return fail(L, PL_ERR_UNSUPPORTED, "%s: dim %d is not fixed; export the model with a fixed input size", what, d);
            decl[d] = d == 0 ? -1 : v->dims[d];
        }
        TRY(check_shape(L, what, v->rank, v->dims));
        int t = pl_graph_add_tensor(L->g, v->name);
        if (t < 0 || pl_graph_add_input(L->g, t, v->rank, decl) < 0)
            return fail(L, PL_ERR_UNSUPPORTED, "%s: too many inputs", what);
        v->tensor = t;
        if (v->rank == 4) { /* the graph keeps NCHW at its edge */
            int s = new_tensor(L, v->name, "nhwc");
            L->node = NULL;
            snprintf(L->node_label, sizeof L->node_label, "%s/nhwc", v->name);
            if (s < 0 || !emit_transpose(L, t, s, 4, perm_to_nhwc)) return L->err->code;
            v->tensor = s;
            v->layout = LAY_NHWC;
        }
    }
    return PL_OK;
}

static int is_graph_io(const pl_graph *g, int t)
{
    for (int k = 0; k < g->n_inputs; k++) if (g->inputs[k] == t) return 1;
    for (int k = 0; k < g->n_outputs; k++) if (g->outputs[k] == t) return 1;
    return 0;
}

static pl_status add_outputs(loader *L, const ox_graph *og)
{
    L->node = NULL;
    for (size_t k = 0; k < og->n_outputs; k++) {
        ox_str name = og->outputs[k].name;
        val *v = find_val(L, name);
        if (!v) return fail(L, PL_ERR_FORMAT, "output '%.*s' is not produced by any node", (int)(name.n > 100 ? 100 : name.n), name.p);
        if (v->is_const) return fail(L, PL_ERR_UNSUPPORTED, "output '%s' is a constant", v->name);
        snprintf(L->node_label, sizeof L->node_label, "%s/out", v->name);
        int t;
        if (v->layout == LAY_NHWC) {
            t = new_tensor(L, v->name, NULL);
            if (t < 0 || !emit_transpose(L, v->tensor, t, 4, perm_to_nchw)) return L->err->code;
        } else {
            t = plain_tensor(L, v);
            if (t < 0) return L->err->code;
            if (strcmp(L->g->tensors[t].name, v->name) || is_graph_io(L->g, t)) {
                int c = new_tensor(L, v->name, NULL);
                if (c < 0 || !emit(L, PL_OP_IDENTITY, &t, 1, c)) return L->err->code;
                t = c;
            }
        }
        if (pl_graph_add_output(L->g, t) < 0) return fail(L, PL_ERR_UNSUPPORTED, "too many outputs");
    }
    return PL_OK;
}

static pl_status add_initializers(loader *L, const ox_graph *og)
{
    for (size_t k = 0; k < og->n_inits; k++) {
        val *v = new_val(L, og->inits[k].name);
        if (!v) return L->err->code;
        TRY(tensor_to_val(L, &og->inits[k], v));
    }
    return PL_OK;
}

/* Weights are converted into new arrays (OIHW -> OHWI, ...), so an
 * initializer's own copy can go once its last reader is converted: this
 * keeps the peak near two copies of the weights (file + graph), not three. */
static void count_uses(loader *L, const ox_graph *og)
{
    for (size_t k = 0; k < og->n_nodes; k++)
        for (size_t j = 0; j < og->nodes[k].n_inputs; j++) {
            val *v = og->nodes[k].inputs[j].n ? find_val(L, og->nodes[k].inputs[j]) : NULL;
            if (v && v->is_const) v->uses++;
        }
    for (size_t k = 0; k < og->n_outputs; k++) { /* never release an output */
        val *v = find_val(L, og->outputs[k].name);
        if (v) v->uses = -1;
    }
}

static void release_inputs(loader *L, const ox_node *n)
{
    for (size_t j = 0; j < n->n_inputs; j++) {
        val *v = n->inputs[j].n ? find_val(L, n->inputs[j]) : NULL;
        if (v && v->is_const && v->uses > 0 && --v->uses == 0 && numel(v->rank, v->dims) > 4096) {
            free(v->f);
            free(v->i);
            v->f = NULL;
            v->i = NULL;
            v->is_const = 0; /* a stray later reader now fails cleanly */
            v->tensor = -1;
        }
    }
}

/* ---- entry points --------------------------------------------------------------------------- */

pl_graph *pl_onnx_load_memory(const uint8_t *data, size_t len, const char *name, pl_error *err)
{
    const char *file = name ? name : "(memory)";
    ox_model m;
    pl_status st = ox_decode_model(data, len, file, &m, err);
    loader L;
    memset(&L, 0, sizeof L);
    L.file = file;
    L.err = err;
    L.const_limit = ONNX_MAX_FOLD;
    L.m = &m;
    L.opset = (int)(m.opset > 0 && m.opset < 1000 ? m.opset : 0);
    if (!st && (m.opset < 1 || m.opset > 22))
        st = fail(&L, PL_ERR_UNSUPPORTED, "opset %lld is not supported (1..22)", (long long)m.opset);
    if (!st && !(L.g = pl_graph_new(file))) st = nomem(&L);
    pl_error local;
    if (!err) L.err = &local; /* handlers read the code back */
    if (!st) st = add_initializers(&L, &m.graph);
    if (!st) st = add_inputs(&L, &m.graph);
    if (!st && L.g->n_inputs == 0) st = fail(&L, PL_ERR_FORMAT, "the graph has no float input");
    if (!st) count_uses(&L, &m.graph);
    for (size_t k = 0; !st && k < m.graph.n_nodes; k++) {
        st = convert_node(&L, &m.graph.nodes[k], k);
        if (!st) release_inputs(&L, &m.graph.nodes[k]);
    }
    if (!st) st = add_outputs(&L, &m.graph);
    if (!st && m.graph.n_outputs == 0) st = fail(&L, PL_ERR_FORMAT, "the graph has no output");
    if (!st) st = pl_graph_validate(L.g, L.err);
    free_vals(&L);
    ox_model_free(&m);
    if (st) {
        pl_graph_free(L.g);
        return NULL;
    }
    return L.g;
}

pl_graph *pl_onnx_load(const char *path, pl_error *err)
{
    uint8_t *data;
    size_t len;
    if (pl_read_file(path, ONNX_MAX_FILE, &data, &len, err)) return NULL;
    pl_graph *g = pl_onnx_load_memory(data, len, path, err);
    free(data);
    return g;
}
