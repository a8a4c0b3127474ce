/* tfjs.c — TF.js graph models (model.json + .bin shards) -> pl_graph.
 *
 * model.json holds `modelTopology.node`, a TensorFlow GraphDef written as
 * JSON (op, name, input refs "x" / "x:1" / "^ctrl", attr values as
 * {i|f|b|s(base64)|list|shape|type}), and `weightsManifest`, whose entries
 * carry the values of the graph's Const nodes (tfjs_weights.c).
 *
 * Each TF op becomes one or two engine nodes. TF's layouts differ from the
 * engine's, so constants are converted here: conv filters HWIO -> OHWI,
 * depthwise H x W x C x M -> [C*M, KH, KW, 1], MatMul's [K, N] -> [N, K].
 * int32 constants (shapes, axes, paddings, slice bounds) never enter the
 * graph: they are read into node parameters. Some of those parameters
 * depend on shapes (squeeze, expand_dims, strided_slice masks), so the
 * reader tracks each tensor's static shape (-1 = not known, e.g. batch).
 */
#include "formats/formats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/ops.h"
#include "formats/tfjs_internal.h"
#include "util/fs.h"
#include "util/json.h"

#define MAX_JSON_BYTES ((size_t)64 << 20)
#define MAX_NODES 100000

/* ---- a string -> int map (tensor names) ------------------------------------ */
typedef struct strmap {
    char **keys;
    int *vals;
    int cap, n;
} strmap;

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;
    while (*s) h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

static int map_get(const strmap *m, const char *key)
{
    if (!m->cap) return -1;
    uint32_t h = hash_str(key) & (uint32_t)(m->cap - 1);
    while (m->keys[h]) {
        if (strcmp(m->keys[h], key) == 0) return m->vals[h];
        h = (h + 1) & (uint32_t)(m->cap - 1);
    }
    return -1;
}

static int map_grow(strmap *m)
{
    int cap = m->cap ? m->cap * 2 : 64;
    strmap n = {calloc((size_t)cap, sizeof(char *)), calloc((size_t)cap, sizeof(int)), cap, 0};
    if (!n.keys || !n.vals) {
        free(n.keys);
        free(n.vals);
        return 0;
    }
    for (int i = 0; i < m->cap; i++) {
        if (!m->keys[i]) continue;
        uint32_t h = hash_str(m->keys[i]) & (uint32_t)(cap - 1);
        while (n.keys[h]) h = (h + 1) & (uint32_t)(cap - 1);
        n.keys[h] = m->keys[i];
        n.vals[h] = m->vals[i];
        n.n++;
    }
    free(m->keys);
    free(m->vals);
    *m = n;
    return 1;
}

/* Insert or overwrite; 0 when out of memory. */
static int map_put(strmap *m, const char *key, int val)
{
    if ((m->n + 1) * 2 > m->cap && !map_grow(m)) return 0;
    uint32_t h = hash_str(key) & (uint32_t)(m->cap - 1);
    while (m->keys[h]) {
        if (strcmp(m->keys[h], key) == 0) {
            m->vals[h] = val;
            return 1;
        }
        h = (h + 1) & (uint32_t)(m->cap - 1);
    }
    if (!(m->keys[h] = strdup(key))) return 0;
    m->vals[h] = val;
    m->n++;
    return 1;
}

static void map_free(strmap *m)
{
    for (int i = 0; i < m->cap; i++) free(m->keys[i]);
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* ---- the loader's state ---------------------------------------------------------- */
typedef struct sshape {
    int rank;                  /* -1: unknown                              */
    int64_t d[PL_MAX_RANK];    /* -1: unknown size                         */
} sshape;

typedef struct loader {
    const char *name;
    pl_error *err;
    pl_graph *g;
    pl_tfjs_weights ws;
    strmap tensors;            /* tensor name (or "weight#layout") -> index */
    sshape *shp;               /* static shape by tensor index             */
    int shp_cap;
    const pl_json *node;       /* the node being converted, for messages   */
    const char *op, *nname;
} loader;

static pl_status nomem(loader *L)
{
    return pl_fail(L->err, PL_ERR_NOMEM, "%s: out of memory", L->name);
}

/* "<file>: node 'x' (Op): <what>" */
static pl_status bad(loader *L, pl_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static pl_status bad(loader *L, pl_status code, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return pl_fail(L->err, code, "%s: node '%.200s' (%.60s): %s", L->name, L->nname ? L->nname : "?",
                   L->op ? L->op : "?", what);
}

static sshape *shape_of(loader *L, int t) { return &L->shp[t]; }

static int ensure_shp(loader *L, int t)
{
    if (t < L->shp_cap) return 1;
    int cap = L->shp_cap ? L->shp_cap * 2 : 256;
    while (cap <= t) cap *= 2;
    sshape *n = realloc(L->shp, (size_t)cap * sizeof *n);
    if (!n) return 0;
    for (int i = L->shp_cap; i < cap; i++) n[i].rank = -1;
    L->shp = n;
    L->shp_cap = cap;
    return 1;
}

/* A new activation tensor named `name`, registered for later lookups. */
static int new_tensor(loader *L, const char *name, const sshape *s)
{
    if (map_get(&L->tensors, name) >= 0) {
        bad(L, PL_ERR_FORMAT, "tensor '%.200s' is defined twice", name);
        return -1;
    }
    int t = pl_graph_add_tensor(L->g, name);
    if (t < 0 || !ensure_shp(L, t) || !map_put(&L->tensors, name, t)) {
        nomem(L);
        return -1;
    }
    if (s) L->shp[t] = *s;
    return t;
}

/* A constant (takes data). `key` caches it under a name plus layout tag. */
static int new_const(loader *L, const char *key, int rank, const int64_t *dims, float *data)
{
    int t = pl_graph_add_const(L->g, key, rank, dims, data);
    if (t < 0 || !ensure_shp(L, t) || !map_put(&L->tensors, key, t)) {
        nomem(L);
        return -1;
    }
    L->shp[t].rank = rank;
    memcpy(L->shp[t].d, dims, (size_t)rank * sizeof *dims);
    return t;
}

/* ---- attributes ---------------------------------------------------------------------- */
static const pl_json *attr(loader *L, const char *key)
{
    return pl_json_get(pl_json_get(L->node, "attr"), key);
}

static int b64val(int c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

/* Base64 (standard or URL alphabet, padding optional) into out[0..cap-1],
 * NUL-terminated. 0 if malformed or too long. */
static int b64_decode(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    unsigned acc = 0;
    int bits = 0;
    for (; *in && *in != '='; in++) {
        int v = b64val((unsigned char)*in);
        if (v < 0) return 0;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n + 1 >= cap) return 0;
            out[n++] = (char)((acc >> bits) & 0xFF);
        }
    }
    while (*in == '=') in++;
    out[n] = '\0';
    return *in == '\0';
}

/* A string attribute ("s", base64) decoded; dflt if absent; NULL if bad. */
static const char *attr_str(loader *L, const char *key, char *buf, size_t cap, const char *dflt)
{
    const pl_json *a = attr(L, key);
    if (!a) return dflt;
    const char *s = pl_json_as_string(pl_json_get(a, "s"), NULL);
    if (!s) return dflt;
    if (!b64_decode(s, buf, cap)) return NULL;
    return buf;
}

static long long attr_int(loader *L, const char *key, long long dflt)
{
    long long v;
    const pl_json *a = attr(L, key);
    if (a && pl_json_as_int64(pl_json_get(a, "i"), &v)) return v;
    return dflt;
}

static int attr_bool(loader *L, const char *key, int dflt)
{
    return pl_json_as_bool(pl_json_get(attr(L, key), "b"), dflt);
}

static double attr_float(loader *L, const char *key, double dflt)
{
    return pl_json_as_number(pl_json_get(attr(L, key), "f"), dflt);
}

/* attr.list.i as integers; returns the count (<= max), -1 if malformed. */
static int attr_ints(loader *L, const char *key, long long *out, int max)
{
    const pl_json *l = pl_json_get(pl_json_get(attr(L, key), "list"), "i");
    int n = pl_json_len(l);
    if (n > max) return -1;
    for (int i = 0; i < n; i++)
        if (!pl_json_as_int64(pl_json_at(l, i), &out[i])) return -1;
    return n;
}

/* ---- inputs ------------------------------------------------------------------------ */
/* A node's data inputs (control inputs "^x" dropped), at most 64. */
typedef struct inputs {
    const char *ref[64];
    int n;
} inputs;

/* Ref "x", "x:0" -> key "x"; "x:k" -> key "x:k". */
static const char *ref_key(const char *ref, char *buf, size_t cap)
{
    const char *colon = strrchr(ref, ':');
    if (colon && strcmp(colon, ":0") == 0) {
        size_t n = (size_t)(colon - ref);
        if (n >= cap) n = cap - 1;
        memcpy(buf, ref, n);
        buf[n] = '\0';
        return buf;
    }
    return ref;
}

static pl_tfjs_weight *ref_weight(loader *L, const char *ref)
{
    char buf[1024];
    return pl_tfjs_weights_find(&L->ws, ref_key(ref, buf, sizeof buf));
}

/* A float tensor for data input k: an activation, or a Const used as is. */
static int in_data(loader *L, const inputs *in, int k)
{
    if (k >= in->n) {
        bad(L, PL_ERR_FORMAT, "missing input %d", k);
        return -1;
    }
    char buf[1024];
    const char *key = ref_key(in->ref[k], buf, sizeof buf);
    int t = map_get(&L->tensors, key);
    if (t >= 0) return t;
    pl_tfjs_weight *w = pl_tfjs_weights_find(&L->ws, key);
    if (!w) {
        bad(L, PL_ERR_FORMAT, "input '%.200s' is not defined before this node", in->ref[k]);
        return -1;
    }
    if (w->is_int) {
        bad(L, PL_ERR_UNSUPPORTED, "int32 constant '%.200s' used as float data", w->name);
        return -1;
    }
    float *copy = malloc((size_t)w->numel * sizeof *copy);
    if (!copy) {
        nomem(L);
        return -1;
    }
    memcpy(copy, w->data, (size_t)w->numel * sizeof *copy);
    return new_const(L, w->name, w->rank, w->dims, copy);
}

/* The int32 constant at input k, with at most max_rank dims. */
static const pl_tfjs_weight *in_ints(loader *L, const inputs *in, int k, int max_rank)
{
    if (k >= in->n) {
        bad(L, PL_ERR_FORMAT, "missing input %d", k);
        return NULL;
    }
    const pl_tfjs_weight *w = ref_weight(L, in->ref[k]);
    if (!w || !w->is_int) {
        bad(L, PL_ERR_UNSUPPORTED, "input %d ('%.200s') must be an int32 constant", k, in->ref[k]);
        return NULL;
    }
    if (w->rank > max_rank) {
        bad(L, PL_ERR_FORMAT, "int32 constant '%.200s' has rank %d", w->name, w->rank);
        return NULL;
    }
    return w;
}

/* The float constant at input k with the given rank (for filters). */
static const pl_tfjs_weight *in_floats(loader *L, const inputs *in, int k, int rank)
{
    if (k >= in->n) {
        bad(L, PL_ERR_FORMAT, "missing input %d", k);
        return NULL;
    }
    const pl_tfjs_weight *w = ref_weight(L, in->ref[k]);
    if (!w || w->is_int) {
        bad(L, PL_ERR_UNSUPPORTED, "input %d ('%.200s') must be a float constant", k, in->ref[k]);
        return NULL;
    }
    if (w->rank != rank) {
        bad(L, PL_ERR_FORMAT, "constant '%.200s' has rank %d, expected %d", w->name, w->rank, rank);
        return NULL;
    }
    return w;
}

/* The output tensor of the node being converted (named after it). */
static int out_tensor(loader *L, const sshape *s)
{
    return new_tensor(L, L->nname, s);
}

static pl_node *add_node(loader *L, pl_op op, const char *name, const int *in, int n_in, int out)
{
    pl_node *n = pl_graph_add_node(L->g, op, name, in, n_in, &out, 1);
    if (!n) nomem(L);
    return n;
}

/* The usual end of a converter: node op (named after the TF.js node) from
 * inputs in to a new tensor of shape o, with params p (NULL: none). */
static pl_status emit_node(loader *L, pl_op op, const int *in, int n_in, const sshape *o,
                           const pl_node_params *p)
{
    int out = out_tensor(L, o);
    if (out < 0) return L->err ? L->err->code : PL_ERR_NOMEM;
    pl_node *n = add_node(L, op, L->nname, in, n_in, out);
    if (!n) return PL_ERR_NOMEM;
    if (p) n->params = *p;
    return PL_OK;
}

/* ---- static shapes ----------------------------------------------------------------- */
static sshape unknown_shape(void)
{
    sshape s;
    s.rank = -1;
    return s;
}

static int64_t window_out(int64_t in, int k, int s, int d, pl_padding p, int before, int after)
{
    if (in < 0) return -1;
    int64_t eff = (int64_t)(k - 1) * d + 1;
    if (p == PL_PAD_SAME) return (in + s - 1) / s;
    int64_t span = in + before + after - eff;
    return span < 0 ? -1 : span / s + 1;
}

static sshape broadcast_shape(const sshape *a, const sshape *b)
{
    if (a->rank < 0 || b->rank < 0) return unknown_shape();
    sshape o;
    o.rank = a->rank > b->rank ? a->rank : b->rank;
    for (int i = 0; i < o.rank; i++) {
        int ia = i - (o.rank - a->rank), ib = i - (o.rank - b->rank);
        int64_t x = ia >= 0 ? a->d[ia] : 1, y = ib >= 0 ? b->d[ib] : 1;
        if (x == 1) o.d[i] = y;
        else if (y == 1) o.d[i] = x;
        else if (x < 0 || y < 0) o.d[i] = x < 0 ? y : x;
        else o.d[i] = x; /* a mismatch is the engine's to report */
    }
    return o;
}

/* Reshape target dims for a tensor of known rank whose out axis j holds
 * src[j] (input axis, -1 = a new axis of 1) with size sz[j]. Unknown sizes
 * use 0 ("copy the input's axis j") when j maps to itself, or one -1. */
static pl_status reshape_dims(loader *L, const sshape *out, const int *src, int64_t *dims)
{
    int minus = 0;
    for (int j = 0; j < out->rank; j++) {
        if (out->d[j] >= 0) dims[j] = out->d[j];
        else if (src[j] == j) dims[j] = 0;
        else if (!minus++) dims[j] = -1;
        else return bad(L, PL_ERR_UNSUPPORTED, "result shape has several unknown sizes");
    }
    return PL_OK;
}

/* ---- converters --------------------------------------------------------------------- */
typedef pl_status (*convert_fn)(loader *L, const inputs *in);

static pl_status need_nhwc(loader *L)
{
    char buf[16];
    const char *df = attr_str(L, "data_format", buf, sizeof buf, "NHWC");
    if (!df || strcmp(df, "NHWC") != 0)
        return bad(L, PL_ERR_UNSUPPORTED, "data_format '%s' (NHWC only)", df ? df : "?");
    return PL_OK;
}

/* strides/dilations/ksize lists [1, h, w, 1]. */
static pl_status hw_list(loader *L, const char *key, int dflt, int *h, int *w)
{
    long long v[8];
    int n = attr_ints(L, key, v, 8);
    if (n == 0) {
        *h = *w = dflt;
        return PL_OK;
    }
    if (n != 4 || v[0] != 1 || v[3] != 1 || v[1] < 1 || v[2] < 1 || v[1] > 4096 || v[2] > 4096)
        return bad(L, PL_ERR_UNSUPPORTED, "%s must be [1, h, w, 1] with 1 <= h, w <= 4096", key);
    *h = (int)v[1];
    *w = (int)v[2];
    return PL_OK;
}

static pl_status read_padding(loader *L, pl_padding *p, int pads[4])
{
    char buf[32];
    const char *s = attr_str(L, "padding", buf, sizeof buf, NULL);
    memset(pads, 0, 4 * sizeof *pads);
    if (!s) return bad(L, PL_ERR_FORMAT, "no padding attribute");
    if (strcmp(s, "SAME") == 0) *p = PL_PAD_SAME;
    else if (strcmp(s, "VALID") == 0) *p = PL_PAD_VALID;
    else if (strcmp(s, "EXPLICIT") == 0) {
        long long v[8];
        if (attr_ints(L, "explicit_paddings", v, 8) != 8 || v[0] || v[1] || v[6] || v[7])
            return bad(L, PL_ERR_UNSUPPORTED, "explicit_paddings must pad only H and W");
        for (int i = 0; i < 4; i++) {
            if (v[2 + i] < 0 || v[2 + i] > 4096) return bad(L, PL_ERR_FORMAT, "bad explicit padding");
            pads[i] = (int)v[2 + i]; /* top, bottom, left, right */
        }
        *p = PL_PAD_EXPLICIT;
    } else {
        return bad(L, PL_ERR_UNSUPPORTED, "padding '%.20s'", s);
    }
    return PL_OK;
}

/* fused_ops of _Fused*: BiasAdd then at most one activation. Sets *has_bias
 * and params act/alpha; *slope_arg = 1 when a PReLU slope follows. */
static pl_status read_fused(loader *L, pl_node_params *p, int *has_bias, int *slope)
{
    const pl_json *l = pl_json_get(pl_json_get(attr(L, "fused_ops"), "list"), "s");
    *has_bias = *slope = 0;
    p->act = PL_ACT_NONE;
    for (int i = 0; i < pl_json_len(l); i++) {
        char op[32];
        const char *s = pl_json_as_string(pl_json_at(l, i), NULL);
        if (!s || !b64_decode(s, op, sizeof op)) return bad(L, PL_ERR_FORMAT, "bad fused_ops entry");
        if (i == 0 && strcmp(op, "BiasAdd") == 0) { *has_bias = 1; continue; }
        if (i == 0 || p->act != PL_ACT_NONE || *slope)
            return bad(L, PL_ERR_UNSUPPORTED, "fused_ops: '%s' (BiasAdd then one activation only)", op);
        if (strcmp(op, "Relu") == 0) p->act = PL_ACT_RELU;
        else if (strcmp(op, "Relu6") == 0) p->act = PL_ACT_RELU6;
        else if (strcmp(op, "Sigmoid") == 0) p->act = PL_ACT_SIGMOID;
        else if (strcmp(op, "Tanh") == 0) p->act = PL_ACT_TANH;
        else if (strcmp(op, "Prelu") == 0) { p->act = PL_ACT_PRELU; *slope = 1; }
        else if (strcmp(op, "LeakyRelu") == 0) {
            p->act = PL_ACT_LEAKY;
            p->alpha = (float)attr_float(L, "leakyrelu_alpha", 0.2);
        } else return bad(L, PL_ERR_UNSUPPORTED, "fused_ops: '%s'", op);
    }
    return PL_OK;
}

/* Add the optional bias and PReLU slope of a fused op to ins[]. */
static pl_status fused_inputs(loader *L, const inputs *in, int first, int has_bias, int slope,
                              int *ins, int *n_ins)
{
    if (has_bias) {
        if ((ins[(*n_ins)++] = in_data(L, in, first)) < 0) return L->err ? L->err->code : PL_ERR_FORMAT;
    } else if (slope) {
        ins[(*n_ins)++] = -1;
    }
    if (slope && (ins[(*n_ins)++] = in_data(L, in, first + has_bias)) < 0)
        return L->err ? L->err->code : PL_ERR_FORMAT;
    return PL_OK;
}

/* HWIO [KH,KW,I,O] -> OHWI; depthwise [KH,KW,C,M] -> [C*M,KH,KW,1]. */
static int conv_filter(loader *L, const pl_tfjs_weight *w, int depthwise)
{
    char key[1100];
    snprintf(key, sizeof key, "%s#%s", w->name, depthwise ? "dw" : "ohwi");
    int t = map_get(&L->tensors, key);
    if (t >= 0) return t;
    int64_t kh = w->dims[0], kw = w->dims[1], ci = w->dims[2], co = w->dims[3];
    float *d = malloc((size_t)w->numel * sizeof *d);
    if (!d) {
        nomem(L);
        return -1;
    }
    for (int64_t y = 0; y < kh; y++)
        for (int64_t x = 0; x < kw; x++)
            for (int64_t i = 0; i < ci; i++)
                for (int64_t o = 0; o < co; o++) {
                    float v = w->data[((y * kw + x) * ci + i) * co + o];
                    if (depthwise) d[((i * co + o) * kh + y) * kw + x] = v; /* channel i*M+o */
                    else d[((o * kh + y) * kw + x) * ci + i] = v;
                }
    int64_t dims[4] = {depthwise ? ci * co : co, kh, kw, depthwise ? 1 : ci};
    return new_const(L, key, 4, dims, d);
}

static pl_status conv_common(loader *L, const inputs *in, int depthwise, int fused)
{
    pl_status s = need_nhwc(L);
    if (s != PL_OK) return s;
    pl_node_params p = {0};
    pl_conv_params *c = &p.conv;
    int pads[4], has_bias = 0, slope = 0;
    if ((s = hw_list(L, "strides", 1, &c->stride_h, &c->stride_w)) != PL_OK ||
        (s = hw_list(L, "dilations", 1, &c->dilation_h, &c->dilation_w)) != PL_OK ||
        (s = read_padding(L, &c->padding, pads)) != PL_OK)
        return s;
    c->pad_top = pads[0]; c->pad_bottom = pads[1]; c->pad_left = pads[2]; c->pad_right = pads[3];
    if (fused && (s = read_fused(L, &p, &has_bias, &slope)) != PL_OK) return s;
    int x = in_data(L, in, 0);
    const pl_tfjs_weight *w = x < 0 ? NULL : in_floats(L, in, 1, 4);
    if (!w) return L->err ? L->err->code : PL_ERR_FORMAT;
    c->kh = (int)w->dims[0];
    c->kw = (int)w->dims[1];
    int64_t cout = depthwise ? w->dims[2] * w->dims[3] : w->dims[3];
    const sshape *xs = shape_of(L, x);
    int64_t cin = xs->rank == 4 ? xs->d[3] : -1;
    if (depthwise) {
        c->groups = (int)w->dims[2];
        if (cin >= 0 && cin != w->dims[2])
            return bad(L, PL_ERR_FORMAT, "depthwise filter has %lld channels, input %lld",
                       (long long)w->dims[2], (long long)cin);
    } else {
        c->groups = 1;
        if (cin >= 0 && cin != w->dims[2]) {
            if (cin % w->dims[2]) return bad(L, PL_ERR_FORMAT, "filter expects %lld input channels, input has %lld",
                                             (long long)w->dims[2], (long long)cin);
            c->groups = (int)(cin / w->dims[2]); /* grouped convolution */
        }
    }
    int ins[4] = {x, conv_filter(L, w, depthwise)}, n_ins = 2;
    if (ins[1] < 0) return L->err ? L->err->code : PL_ERR_NOMEM;
    if ((s = fused_inputs(L, in, 2, has_bias, slope, ins, &n_ins)) != PL_OK) return s;
    sshape o = {4, {xs->rank == 4 ? xs->d[0] : -1,
                    window_out(xs->rank == 4 ? xs->d[1] : -1, c->kh, c->stride_h, c->dilation_h, c->padding, pads[0], pads[1]),
                    window_out(xs->rank == 4 ? xs->d[2] : -1, c->kw, c->stride_w, c->dilation_w, c->padding, pads[2], pads[3]),
                    cout}};
    return emit_node(L, PL_OP_CONV2D, ins, n_ins, &o, &p);
}

static pl_status cv_conv(loader *L, const inputs *in) { return conv_common(L, in, 0, 0); }
static pl_status cv_fused_conv(loader *L, const inputs *in) { return conv_common(L, in, 0, 1); }
static pl_status cv_dwconv(loader *L, const inputs *in) { return conv_common(L, in, 1, 0); }
static pl_status cv_fused_dwconv(loader *L, const inputs *in) { return conv_common(L, in, 1, 1); }

static pl_status pool_common(loader *L, const inputs *in, pl_op op)
{
    pl_status s = need_nhwc(L);
    if (s != PL_OK) return s;
    pl_node_params p = {0};
    pl_pool_params *q = &p.pool;
    int pads[4];
    if ((s = hw_list(L, "ksize", 0, &q->kh, &q->kw)) != PL_OK ||
        (s = hw_list(L, "strides", 1, &q->stride_h, &q->stride_w)) != PL_OK ||
        (s = read_padding(L, &q->padding, pads)) != PL_OK)
        return s;
    if (q->kh < 1) return bad(L, PL_ERR_FORMAT, "no ksize");
    if (q->padding == PL_PAD_EXPLICIT) return bad(L, PL_ERR_UNSUPPORTED, "explicit pool padding");
    q->count_include_pad = 0; /* TF's average ignores SAME padding */
    int x = in_data(L, in, 0);
    if (x < 0) return L->err ? L->err->code : PL_ERR_FORMAT;
    const sshape *xs = shape_of(L, x);
    int r4 = xs->rank == 4;
    sshape o = {4, {r4 ? xs->d[0] : -1,
                    window_out(r4 ? xs->d[1] : -1, q->kh, q->stride_h, 1, q->padding, 0, 0),
                    window_out(r4 ? xs->d[2] : -1, q->kw, q->stride_w, 1, q->padding, 0, 0),
                    r4 ? xs->d[3] : -1}};
    return emit_node(L, op, &x, 1, &o, &p);
}

static pl_status cv_maxpool(loader *L, const inputs *in) { return pool_common(L, in, PL_OP_MAX_POOL); }
static pl_status cv_avgpool(loader *L, const inputs *in) { return pool_common(L, in, PL_OP_AVG_POOL); }

/* MatMul / _FusedMatMul with a constant right-hand side -> FULLY_CONNECTED. */
static pl_status matmul_common(loader *L, const inputs *in, int fused)
{
    pl_node_params p = {0};
    int has_bias = 0, slope = 0;
    pl_status s;
    if (attr_bool(L, "transpose_a", 0) || attr_bool(L, "adj_x", 0))
        return bad(L, PL_ERR_UNSUPPORTED, "transpose_a");
    int tb = attr_bool(L, "transpose_b", 0) || attr_bool(L, "adj_y", 0);
    if (fused && (s = read_fused(L, &p, &has_bias, &slope)) != PL_OK) return s;
    int x = in_data(L, in, 0);
    const pl_tfjs_weight *w = x < 0 ? NULL : in_floats(L, in, 1, 2);
    if (!w) return L->err ? L->err->code : PL_ERR_FORMAT;
    int64_t k = tb ? w->dims[1] : w->dims[0], nout = tb ? w->dims[0] : w->dims[1];
    const sshape *xs = shape_of(L, x);
    if (xs->rank >= 0 && xs->rank != 2) return bad(L, PL_ERR_UNSUPPORTED, "MatMul of a rank-%d input", xs->rank);
    if (xs->rank == 2 && xs->d[1] >= 0 && xs->d[1] != k)
        return bad(L, PL_ERR_FORMAT, "input has %lld columns, weights %lld rows", (long long)xs->d[1], (long long)k);
    char key[1100];
    snprintf(key, sizeof key, "%s#%s", w->name, tb ? "nk" : "kn");
    int wt = map_get(&L->tensors, key);
    if (wt < 0) {
        float *d = malloc((size_t)w->numel * sizeof *d);
        if (!d) return nomem(L);
        for (int64_t i = 0; i < k; i++)
            for (int64_t j = 0; j < nout; j++)
                d[j * k + i] = tb ? w->data[j * k + i] : w->data[i * nout + j];
        int64_t dims[2] = {nout, k};
        if ((wt = new_const(L, key, 2, dims, d)) < 0) return L->err ? L->err->code : PL_ERR_NOMEM;
    }
    int ins[4] = {x, wt}, n_ins = 2;
    if ((s = fused_inputs(L, in, 2, has_bias, slope, ins, &n_ins)) != PL_OK) return s;
    sshape o = {2, {xs->rank == 2 ? xs->d[0] : -1, nout}};
    return emit_node(L, PL_OP_FULLY_CONNECTED, ins, n_ins, &o, &p);
}

static pl_status cv_matmul(loader *L, const inputs *in) { return matmul_common(L, in, 0); }
static pl_status cv_fused_matmul(loader *L, const inputs *in) { return matmul_common(L, in, 1); }

static pl_status binary(loader *L, const inputs *in, pl_op op)
{
    if (in->n != 2) return bad(L, PL_ERR_FORMAT, "expects 2 inputs, has %d", in->n);
    int a = in_data(L, in, 0);
    int b = a < 0 ? -1 : in_data(L, in, 1);
    if (b < 0) return L->err ? L->err->code : PL_ERR_FORMAT;
    sshape o = broadcast_shape(shape_of(L, a), shape_of(L, b));
    int ins[2] = {a, b};
    return emit_node(L, op, ins, 2, &o, NULL);
}

static pl_status cv_add(loader *L, const inputs *in) { return binary(L, in, PL_OP_ADD); }
static pl_status cv_bias_add(loader *L, const inputs *in)
{
    pl_status s = need_nhwc(L); /* NCHW would add along axis 1 */
    return s != PL_OK ? s : binary(L, in, PL_OP_ADD);
}
static pl_status cv_sub(loader *L, const inputs *in) { return binary(L, in, PL_OP_SUB); }
static pl_status cv_mul(loader *L, const inputs *in) { return binary(L, in, PL_OP_MUL); }
static pl_status cv_div(loader *L, const inputs *in) { return binary(L, in, PL_OP_DIV); }
static pl_status cv_max(loader *L, const inputs *in) { return binary(L, in, PL_OP_MAXIMUM); }
static pl_status cv_min(loader *L, const inputs *in) { return binary(L, in, PL_OP_MINIMUM); }
static pl_status cv_pow(loader *L, const inputs *in) { return binary(L, in, PL_OP_POW); }
static pl_status cv_sqdiff(loader *L, const inputs *in) { return binary(L, in, PL_OP_SQUARED_DIFF); }
static pl_status cv_prelu(loader *L, const inputs *in) { return binary(L, in, PL_OP_PRELU); }

/* One-input ops whose output has the input's shape. */
static pl_status unary_p(loader *L, const inputs *in, pl_op op, const pl_node_params *p)
{
    int x = in_data(L, in, 0);
    if (x < 0) return L->err ? L->err->code : PL_ERR_FORMAT;
    sshape o = *shape_of(L, x);
    return emit_node(L, op, &x, 1, &o, p);
}

static pl_status unary(loader *L, const inputs *in, pl_op op) { return unary_p(L, in, op, NULL); }
static pl_status cv_relu(loader *L, const inputs *in) { return unary(L, in, PL_OP_RELU); }
static pl_status cv_relu6(loader *L, const inputs *in) { return unary(L, in, PL_OP_RELU6); }
static pl_status cv_sigmoid(loader *L, const inputs *in) { return unary(L, in, PL_OP_SIGMOID); }
static pl_status cv_tanh(loader *L, const inputs *in) { return unary(L, in, PL_OP_TANH); }
static pl_status cv_neg(loader *L, const inputs *in) { return unary(L, in, PL_OP_NEG); }
static pl_status cv_abs(loader *L, const inputs *in) { return unary(L, in, PL_OP_ABS); }
static pl_status cv_exp(loader *L, const inputs *in) { return unary(L, in, PL_OP_EXP); }
static pl_status cv_log(loader *L, const inputs *in) { return unary(L, in, PL_OP_LOG); }
static pl_status cv_sqrt(loader *L, const inputs *in) { return unary(L, in, PL_OP_SQRT); }
static pl_status cv_rsqrt(loader *L, const inputs *in) { return unary(L, in, PL_OP_RSQRT); }
static pl_status cv_identity(loader *L, const inputs *in) { return unary(L, in, PL_OP_IDENTITY); }

static pl_status cv_leaky(loader *L, const inputs *in)
{
    pl_node_params p = {0};
    p.alpha = (float)attr_float(L, "alpha", 0.2);
    return unary_p(L, in, PL_OP_LEAKY_RELU, &p);
}

static pl_status cv_softmax(loader *L, const inputs *in)
{
    pl_node_params p = {0};
    p.axis = -1;
    return unary_p(L, in, PL_OP_SOFTMAX, &p);
}

/* Normalise axis a of a rank-r tensor; -1 if out of range. */
static int norm_axis(long long a, int r)
{
    if (a < 0) a += r;
    return a >= 0 && a < r ? (int)a : -1;
}

static pl_status reduce_common(loader *L, const inputs *in, pl_op op)
{
    int x = in_data(L, in, 0);
    if (x < 0) return L->err ? L->err->code : PL_ERR_FORMAT;
    const pl_tfjs_weight *ax = in_ints(L, in, 1, 1);
    if (!ax) return L->err ? L->err->code : PL_ERR_FORMAT;
    const sshape *xs = shape_of(L, x);
    if (xs->rank < 0) return bad(L, PL_ERR_UNSUPPORTED, "input rank unknown");
    pl_node_params p = {0};
    p.reduce.keep_dims = attr_bool(L, "keep_dims", 0);
    for (int64_t i = 0; i < ax->numel; i++) {
        int a = norm_axis(ax->ival[i], xs->rank);
        if (a < 0) return bad(L, PL_ERR_FORMAT, "axis %lld out of range", (long long)ax->ival[i]);
        p.reduce.axes_mask |= 1 << a;
    }
    sshape o = {0, {0}};
    for (int i = 0; i < xs->rank; i++) {
        if (!(p.reduce.axes_mask & (1 << i))) o.d[o.rank++] = xs->d[i];
        else if (p.reduce.keep_dims) o.d[o.rank++] = 1;
    }
    return emit_node(L, op, &x, 1, &o, &p);
}

static pl_status cv_mean(loader *L, const inputs *in) { return reduce_common(L, in, PL_OP_REDUCE_MEAN); }
static pl_status cv_rmax(loader *L, const inputs *in) { return reduce_common(L, in, PL_OP_REDUCE_MAX); }
static pl_status cv_rsum(loader *L, const inputs *in) { return reduce_common(L, in, PL_OP_REDUCE_SUM); }

/* A RESHAPE of tensor x to `dims` (rank r) producing tensor out. */
static pl_status add_reshape(loader *L, const char *name, int x, int out, int r, const int64_t *dims)
{
    pl_node *n = add_node(L, PL_OP_RESHAPE, name, &x, 1, out);
    if (!n) return PL_ERR_NOMEM;
    n->params.reshape.rank = r;
    memcpy(n->params.reshape.dims, dims, (size_t)r * sizeof *dims);
    return PL_OK;
}

/* A RESHAPE of tensor x to the static shape o, whose axis j is input
 * axis src[j] (see reshape_dims), into a new tensor. */
static pl_status reshape_to(loader *L, int x, const sshape *o, const int *src)
{
    int64_t dims[PL_MAX_RANK];
    pl_status s = reshape_dims(L, o, src, dims);
    if (s != PL_OK) return s;
    int out = out_tensor(L, o);
    if (out < 0) return L->err ? L->err->code : PL_ERR_NOMEM;
    return add_reshape(L, L->nname, x, out, o->rank, dims);
}

static pl_status cv_reshape(loader *L, const inputs *in)
{
    int x = in_data(L, in, 0);
    if (x < 0) return L->err ? L->err->code : PL_ERR_FORMAT;
    const pl_tfjs_weight *sh = in_ints(L, in, 1, 1);
    if (!sh) return L->err ? L->err->code : PL_ERR_FORMAT;
    if (sh->numel > PL_MAX_RANK) return bad(L, PL_ERR_UNSUPPORTED, "reshape to rank %lld", (long long)sh->numel);
    sshape o = {(int)sh->numel, {0}};
    int minus = 0;
    for (int i = 0; i < o.rank; i++) {
        o.d[i] = sh->ival[i];
        if (o.d[i] < -1 || o.d[i] == 0 || (o.d[i] == -1 && minus++))
            return bad(L, PL_ERR_FORMAT, "bad target shape (size %lld on axis %d)", (long long)o.d[i], i);
    }
    int out = out_tensor(L, &o);
    if (out < 0) return L->err ? L->err->code : PL_ERR_NOMEM;
    return add_reshape(L, L->nname, x, out, o.rank, o.d);
}

static pl_status cv_squeeze(loader *L, const inputs *in)
{
    int x = in_data(L, in, 0);
    if (x < 0) return L->err ? L->err->code : PL_ERR_FORMAT;
    const sshape *xs = shape_of(L, x);
    if (xs->rank < 0) return bad(L, PL_ERR_UNSUPPORTED, "input rank unknown");
    long long axes[PL_MAX_RANK];
    int na = attr_ints(L, "squeeze_dims", axes, PL_MAX_RANK);
    if (na == 0) na = attr_ints(L, "axis", axes, PL_MAX_RANK);
    if (na < 0) return bad(L, PL_ERR_FORMAT, "bad squeeze_dims");
    int drop = 0;
    for (int i = 0; i < na; i++) {
        int a = norm_axis(axes[i], xs->rank);
        if (a < 0) return bad(L, PL_ERR_FORMAT, "axis %lld out of range", axes[i]);
        drop |= 1 << a;
    }
    sshape o = {0, {0}};
    int src[PL_MAX_RANK];
    for (int i = 0; i < xs->rank; i++) {
        int squeeze = na ? (drop >> i) & 1 : xs->d[i] == 1;
        if (!na && xs->d[i] < 0) return bad(L, PL_ERR_UNSUPPORTED, "squeeze of an axis of unknown size");
        if (squeeze) {
            if (xs->d[i] > 1) return bad(L, PL_ERR_FORMAT, "cannot squeeze axis %d of size %lld", i, (long long)xs->d[i]);
            continue;
        }
        src[o.rank] = i;
        o.d[o.rank++] = xs->d[i];
    }
    return reshape_to(L, x, &o, src);
}

static pl_status cv_expand_dims(loader *L, const inputs *in)
{
    int x = in_data(L, in, 0);
    if (x < 0) return L->err ? L->err->code : PL_ERR_FORMAT;
    const pl_tfjs_weight *ax = in_ints(L, in, 1, 1);
    if (!ax) return L->err ? L->err->code : PL_ERR_FORMAT;
    const sshape *xs = shape_of(L, x);
    if (xs->rank < 0 || xs->rank >= PL_MAX_RANK) return bad(L, PL_ERR_UNSUPPORTED, "input rank unknown or too large");
    if (ax->numel != 1) return bad(L, PL_ERR_FORMAT, "dim must be one value");
    int a = norm_axis(ax->ival[0], xs->rank + 1);
    if (a < 0) return bad(L, PL_ERR_FORMAT, "dim %lld out of range", (long long)ax->ival[0]);
    sshape o = {xs->rank + 1, {0}};
    int src[PL_MAX_RANK];
    for (int j = 0, i = 0; j < o.rank; j++) {
        if (j == a) { src[j] = -1; o.d[j] = 1; }
        else { src[j] = i; o.d[j] = xs->d[i++]; }
    }
    return reshape_to(L, x, &o, src);
}

static pl_status cv_pad(loader *L, const inputs *in)
{
    int x = in_data(L, in, 0);
    if (x < 0) return L->err ? L->err->code : PL_ERR_FORMAT;
    const pl_tfjs_weight *pw = in_ints(L, in, 1, 2);
    if (!pw) return L->err ? L->err->code : PL_ERR_FORMAT;
    if (pw->rank != 2 || pw->dims[1] != 2 || pw->dims[0] > PL_MAX_RANK)
        return bad(L, PL_ERR_FORMAT, "paddings must be [rank, 2]");
    pl_node_params p = {0};
    p.pad.rank = (int)pw->dims[0];
    const sshape *xs = shape_of(L, x);
    if (xs->rank >= 0 && xs->rank != p.pad.rank) return bad(L, PL_ERR_FORMAT, "paddings rank != input rank");
    if (in->n > 2) { /* PadV2: a scalar fill value */
        const pl_tfjs_weight *v = ref_weight(L, in->ref[2]);
        if (!v || v->is_int || v->numel != 1) return bad(L, PL_ERR_UNSUPPORTED, "constant_values must be a float scalar");
        p.pad.value = v->data[0];
    }
    sshape o = {p.pad.rank, {0}};
    for (int i = 0; i < p.pad.rank; i++) {
        int64_t b = pw->ival[2 * i], a = pw->ival[2 * i + 1];
        if (b < 0 || a < 0 || b > 65536 || a > 65536) return bad(L, PL_ERR_FORMAT, "bad padding on axis %d", i);
        p.pad.before[i] = (int)b;
        p.pad.after[i] = (int)a;
        o.d[i] = xs->rank >= 0 && xs->d[i] >= 0 ? xs->d[i] + a + b : -1;
    }
    return emit_node(L, PL_OP_PAD, &x, 1, &o, &p);
}

static pl_status cv_concat(loader *L, const inputs *in)
{
    if (in->n < 2) return bad(L, PL_ERR_FORMAT, "needs inputs and an axis");
    const pl_tfjs_weight *ax = in_ints(L, in, in->n - 1, 1);
    if (!ax) return L->err ? L->err->code : PL_ERR_FORMAT;
    if (ax->numel != 1) return bad(L, PL_ERR_FORMAT, "axis must be one value");
    int ins[64], n = in->n - 1;
    sshape o = unknown_shape();
    for (int k = 0; k < n; k++) {
        if ((ins[k] = in_data(L, in, k)) < 0) return L->err ? L->err->code : PL_ERR_FORMAT;
        const sshape *s = shape_of(L, ins[k]);
        if (k == 0) { o = *s; continue; }
        if (o.rank < 0 || s->rank != o.rank) { o = unknown_shape(); continue; }
        int a = norm_axis(ax->ival[0], o.rank);
        if (a < 0) return bad(L, PL_ERR_FORMAT, "axis out of range");
        o.d[a] = o.d[a] >= 0 && s->d[a] >= 0 ? o.d[a] + s->d[a] : -1;
    }
    if (o.rank >= 0 && norm_axis(ax->ival[0], o.rank) < 0) return bad(L, PL_ERR_FORMAT, "axis out of range");
    int out = out_tensor(L, &o);
    if (out < 0) return L->err ? L->err->code : PL_ERR_NOMEM;
    pl_node *nd = add_node(L, PL_OP_CONCAT, L->nname, ins, n, out);
    if (!nd) return PL_ERR_NOMEM;
    nd->params.axis = (int)ax->ival[0];
    return PL_OK;
}

/* TF StridedSlice: the sparse spec (with ellipsis, new-axis and shrink
 * masks) becomes a dense SLICE over the input's axes, then a RESHAPE that
 * drops shrunk axes and inserts new ones. */
static pl_status cv_strided_slice(loader *L, const inputs *in)
{
    int x = in_data(L, in, 0);
    if (x < 0) return L->err ? L->err->code : PL_ERR_FORMAT;
    const pl_tfjs_weight *wb = in_ints(L, in, 1, 1), *we = wb ? in_ints(L, in, 2, 1) : NULL,
                         *ws = we ? in_ints(L, in, 3, 1) : NULL;
    if (!ws) return L->err ? L->err->code : PL_ERR_FORMAT;
    int n = (int)wb->numel;
    if (we->numel != n || ws->numel != n || n > 31)
        return bad(L, PL_ERR_FORMAT, "begin, end and strides differ in length");
    const sshape *xs = shape_of(L, x);
    int R = xs->rank;
    if (R < 0) return bad(L, PL_ERR_UNSUPPORTED, "input rank unknown");
    long long bm = attr_int(L, "begin_mask", 0), em = attr_int(L, "end_mask", 0),
              elm = attr_int(L, "ellipsis_mask", 0), nm = attr_int(L, "new_axis_mask", 0),
              sm = attr_int(L, "shrink_axis_mask", 0);
    pl_node_params p = {0};
    p.slice.rank = R;
    for (int i = 0; i < R; i++) {
        p.slice.begin[i] = 0;
        p.slice.end[i] = INT64_MAX;
        p.slice.stride[i] = 1;
    }
    int real = 0, axis = 0, seen_ellipsis = 0;
    for (int i = 0; i < n; i++) real += !((nm | elm) >> i & 1);
    sshape o = {0, {0}};
    int src[PL_MAX_RANK], changed = 0;
    for (int i = 0; i < n; i++) {
        if (elm >> i & 1) {
            if (seen_ellipsis++) return bad(L, PL_ERR_FORMAT, "two ellipses");
            for (int k = R - real; k > 0 && axis < R; k--) {
                if (o.rank >= PL_MAX_RANK) return bad(L, PL_ERR_UNSUPPORTED, "result rank too large");
                src[o.rank] = axis;
                o.d[o.rank++] = xs->d[axis++];
            }
            continue;
        }
        if (nm >> i & 1) {
            if (o.rank >= PL_MAX_RANK) return bad(L, PL_ERR_UNSUPPORTED, "result rank too large");
            src[o.rank] = -1;
            o.d[o.rank++] = 1;
            changed = 1;
            continue;
        }
        if (axis >= R) return bad(L, PL_ERR_FORMAT, "more slice entries than input axes");
        int64_t b = wb->ival[i], e = we->ival[i], s = ws->ival[i], dim = xs->d[axis];
        if (s == 0) return bad(L, PL_ERR_FORMAT, "stride 0");
        if (sm >> i & 1) {
            if (b < 0) {
                if (dim < 0) return bad(L, PL_ERR_UNSUPPORTED, "negative index on an axis of unknown size");
                b += dim;
            }
            if (b < 0 || (dim >= 0 && b >= dim)) return bad(L, PL_ERR_FORMAT, "index %lld out of range", (long long)b);
            p.slice.begin[axis] = b;
            p.slice.end[axis] = b + 1;
            p.slice.stride[axis] = 1;
            axis++;
            changed = 1;
            continue;
        }
        p.slice.begin[axis] = (bm >> i & 1) ? (s > 0 ? 0 : INT64_MAX) : b;
        p.slice.end[axis] = (em >> i & 1) ? (s > 0 ? INT64_MAX : INT64_MIN) : e;
        p.slice.stride[axis] = s;
        int64_t size = -1;
        if (dim >= 0) {
            int64_t bb = p.slice.begin[axis], ss = s;
            size = pl_slice_axis(dim, &bb, p.slice.end[axis], &ss);
        }
        if (o.rank >= PL_MAX_RANK) return bad(L, PL_ERR_UNSUPPORTED, "result rank too large");
        src[o.rank] = axis;
        o.d[o.rank++] = size;
        axis++;
    }
    for (; axis < R; axis++) {
        if (o.rank >= PL_MAX_RANK) return bad(L, PL_ERR_UNSUPPORTED, "result rank too large");
        src[o.rank] = axis;
        o.d[o.rank++] = xs->d[axis];
    }
    /* The SLICE's own output keeps the input's rank. */
    sshape sl = {R, {0}};
    for (int i = 0; i < R; i++) {
        int64_t bb = p.slice.begin[i], ss = p.slice.stride[i];
        sl.d[i] = xs->d[i] >= 0 ? pl_slice_axis(xs->d[i], &bb, p.slice.end[i], &ss) : -1;
    }
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s/slice", L->nname);
    int t = changed ? new_tensor(L, tmp, &sl) : out_tensor(L, &sl);
    if (t < 0) return L->err ? L->err->code : PL_ERR_NOMEM;
    pl_node *nd = add_node(L, PL_OP_SLICE, changed ? tmp : L->nname, &x, 1, t);
    if (!nd) return PL_ERR_NOMEM;
    nd->params = p;
    if (!changed) return PL_OK;
    return reshape_to(L, t, &o, src);
}

static const struct {
    const char *op;
    convert_fn fn;
} converters[] = {
    {"Conv2D", cv_conv}, {"_FusedConv2D", cv_fused_conv},
    {"DepthwiseConv2dNative", cv_dwconv}, {"FusedDepthwiseConv2dNative", cv_fused_dwconv},
    {"_FusedDepthwiseConv2dNative", cv_fused_dwconv},
    {"MaxPool", cv_maxpool}, {"AvgPool", cv_avgpool},
    {"MatMul", cv_matmul}, {"_FusedMatMul", cv_fused_matmul},
    {"Add", cv_add}, {"AddV2", cv_add}, {"BiasAdd", cv_bias_add}, {"Sub", cv_sub}, {"Mul", cv_mul},
    {"RealDiv", cv_div}, {"Div", cv_div}, {"Maximum", cv_max}, {"Minimum", cv_min},
    {"Pow", cv_pow}, {"SquaredDifference", cv_sqdiff}, {"Prelu", cv_prelu},
    {"Relu", cv_relu}, {"Relu6", cv_relu6}, {"Sigmoid", cv_sigmoid}, {"Tanh", cv_tanh},
    {"Neg", cv_neg}, {"Abs", cv_abs}, {"Exp", cv_exp}, {"Log", cv_log}, {"Sqrt", cv_sqrt},
    {"Rsqrt", cv_rsqrt}, {"LeakyRelu", cv_leaky}, {"Softmax", cv_softmax},
    {"Identity", cv_identity}, {"StopGradient", cv_identity}, {"Snapshot", cv_identity},
    {"Mean", cv_mean}, {"Max", cv_rmax}, {"Sum", cv_rsum},
    {"Reshape", cv_reshape}, {"Squeeze", cv_squeeze}, {"ExpandDims", cv_expand_dims},
    {"Pad", cv_pad}, {"PadV2", cv_pad}, {"ConcatV2", cv_concat},
    {"StridedSlice", cv_strided_slice},
};

/* ---- the whole model ------------------------------------------------------------------ */
static pl_status read_inputs(loader *L, inputs *in)
{
    const pl_json *arr = pl_json_get(L->node, "input");
    in->n = 0;
    if (arr && !pl_json_is(arr, PL_JSON_ARRAY)) return bad(L, PL_ERR_FORMAT, "'input' is not an array");
    for (int i = 0; i < pl_json_len(arr); i++) {
        const char *r = pl_json_as_string(pl_json_at(arr, i), NULL);
        if (!r || !*r) return bad(L, PL_ERR_FORMAT, "input %d is not a name", i);
        if (r[0] == '^') continue; /* control dependency: order only */
        if (in->n >= 64) return bad(L, PL_ERR_UNSUPPORTED, "more than 64 inputs");
        in->ref[in->n++] = r;
    }
    return PL_OK;
}

static pl_status add_placeholder(loader *L)
{
    const pl_json *shape = pl_json_get(pl_json_get(attr(L, "shape"), "shape"), "dim");
    sshape s = {pl_json_len(shape), {0}};
    if (!pl_json_is(shape, PL_JSON_ARRAY) || s.rank < 1 || s.rank > PL_MAX_RANK)
        return bad(L, PL_ERR_UNSUPPORTED, "input needs a known shape of rank 1..%d", PL_MAX_RANK);
    for (int i = 0; i < s.rank; i++) {
        long long v;
        if (!pl_json_as_int64(pl_json_get(pl_json_at(shape, i), "size"), &v) || v < -1 || v == 0 ||
            v > (1 << 24))
            return bad(L, PL_ERR_FORMAT, "bad input size on axis %d", i);
        s.d[i] = v;
    }
    if (L->g->n_inputs >= 8) return bad(L, PL_ERR_UNSUPPORTED, "more than 8 inputs");
    int t = out_tensor(L, &s);
    if (t < 0) return L->err ? L->err->code : PL_ERR_NOMEM;
    if (pl_graph_add_input(L->g, t, s.rank, s.d) < 0) return nomem(L);
    return PL_OK;
}

static pl_status convert_node(loader *L)
{
    if (!pl_json_is(L->node, PL_JSON_OBJECT)) return pl_fail(L->err, PL_ERR_FORMAT, "%s: a node is not an object", L->name);
    L->op = pl_json_as_string(pl_json_get(L->node, "op"), NULL);
    L->nname = pl_json_as_string(pl_json_get(L->node, "name"), NULL);
    if (!L->op || !L->nname || !*L->nname)
        return pl_fail(L->err, PL_ERR_FORMAT, "%s: a node has no op or name", L->name);
    if (strcmp(L->op, "Const") == 0) {
        if (!pl_tfjs_weights_find(&L->ws, L->nname))
            return bad(L, PL_ERR_FORMAT, "constant has no entry in weightsManifest");
        return PL_OK;
    }
    if (strcmp(L->op, "NoOp") == 0) return PL_OK;
    if (strcmp(L->op, "Placeholder") == 0) return add_placeholder(L);
    inputs in;
    pl_status s = read_inputs(L, &in);
    if (s != PL_OK) return s;
    for (size_t i = 0; i < sizeof converters / sizeof converters[0]; i++)
        if (strcmp(converters[i].op, L->op) == 0) return converters[i].fn(L, &in);
    return bad(L, PL_ERR_UNSUPPORTED, "operator '%.60s' is not supported", L->op);
}

static pl_status add_output(loader *L, const char *ref)
{
    char buf[1024];
    const char *key = ref_key(ref, buf, sizeof buf);
    int t = map_get(&L->tensors, key);
    if (t < 0) return pl_fail(L->err, PL_ERR_FORMAT, "%s: output '%.200s' is not computed by any node", L->name, ref);
    if (L->g->tensors[t].is_const)
        return pl_fail(L->err, PL_ERR_UNSUPPORTED, "%s: output '%.200s' is a constant", L->name, ref);
    if (pl_graph_add_output(L->g, t) < 0)
        return pl_fail(L->err, PL_ERR_UNSUPPORTED, "%s: too many outputs", L->name);
    return PL_OK;
}

/* Outputs: the signature's, in its order; else every node nothing reads. */
static pl_status add_outputs(loader *L, const pl_json *doc, const pl_json *nodes)
{
    const pl_json *sig = pl_json_get(pl_json_get(doc, "signature"), "outputs");
    if (pl_json_len(sig) > 0) {
        for (int i = 0; i < pl_json_len(sig); i++) {
            const char *ref = pl_json_as_string(pl_json_get(pl_json_at(sig, i), "name"), pl_json_key_at(sig, i));
            pl_status s = add_output(L, ref);
            if (s != PL_OK) return s;
        }
        return PL_OK;
    }
    strmap used = {0};
    for (int i = 0; i < pl_json_len(nodes); i++) {
        const pl_json *ins = pl_json_get(pl_json_at(nodes, i), "input");
        for (int k = 0; k < pl_json_len(ins); k++) {
            const char *r = pl_json_as_string(pl_json_at(ins, k), "");
            char buf[1024];
            if (r[0] == '^') continue; /* an ordering, not a use */
            if (!map_put(&used, ref_key(r, buf, sizeof buf), 1)) {
                map_free(&used);
                return nomem(L);
            }
        }
    }
    pl_status s = PL_OK;
    for (int i = 0; i < pl_json_len(nodes) && s == PL_OK; i++) {
        const pl_json *n = pl_json_at(nodes, i);
        const char *op = pl_json_as_string(pl_json_get(n, "op"), "");
        const char *name = pl_json_as_string(pl_json_get(n, "name"), "");
        if (strcmp(op, "Const") == 0 || strcmp(op, "NoOp") == 0 || strcmp(op, "Placeholder") == 0) continue;
        if (map_get(&used, name) < 0) s = add_output(L, name);
    }
    map_free(&used);
    return s;
}

/* The node a ref names (index in `nodes`), or -1. */
static int ref_node(const strmap *idx, const pl_json *ref)
{
    const char *r = pl_json_as_string(ref, NULL);
    if (!r) return -1;
    if (r[0] == '^') r++;
    char buf[1024];
    size_t n = strcspn(r, ":");
    if (n >= sizeof buf) return -1;
    memcpy(buf, r, n);
    buf[n] = '\0';
    return map_get(idx, buf);
}

/* A GraphDef need not list producers before consumers: order[] gets the
 * nodes depth-first in file order (so an ordered file keeps its order),
 * with a clear error on a cycle. Iterative, for deep graphs. */
static pl_status order_nodes(loader *L, const pl_json *nodes, int *order)
{
    int n = pl_json_len(nodes), n_out = 0, top = 0, cap = 2 * n + 16;
    strmap idx = {0};
    unsigned char *state = calloc((size_t)n + 1, 1); /* 0 new, 1 open, 2 done */
    int *stack = malloc((size_t)cap * sizeof *stack);
    pl_status s = state && stack ? PL_OK : nomem(L);
    for (int i = 0; i < n && s == PL_OK; i++) {
        const char *name = pl_json_as_string(pl_json_get(pl_json_at(nodes, i), "name"), NULL);
        if (name && !map_put(&idx, name, i)) s = nomem(L);
    }
    for (int i = 0; i < n && s == PL_OK; i++) {
        if (state[i]) continue;
        stack[top++] = i;
        while (top > 0 && s == PL_OK) {
            int t = stack[top - 1];
            if (state[t] == 2) { top--; continue; }
            if (state[t] == 1) { state[t] = 2; order[n_out++] = t; top--; continue; }
            state[t] = 1;
            const pl_json *ins = pl_json_get(pl_json_at(nodes, t), "input");
            for (int k = pl_json_len(ins) - 1; k >= 0; k--) {
                int d = ref_node(&idx, pl_json_at(ins, k));
                if (d < 0 || state[d] == 2) continue;
                if (state[d] == 1) {
                    s = pl_fail(L->err, PL_ERR_FORMAT, "%s: node '%.200s' depends on itself (a cycle)", L->name,
                                pl_json_as_string(pl_json_get(pl_json_at(nodes, d), "name"), "?"));
                    break;
                }
                if (top >= cap) {
                    int *grown = realloc(stack, (size_t)(cap *= 2) * sizeof *stack);
                    if (!grown) { s = nomem(L); break; }
                    stack = grown;
                }
                stack[top++] = d;
            }
        }
    }
    map_free(&idx);
    free(state);
    free(stack);
    return s;
}

static pl_status load_doc(loader *L, const pl_json *doc, const uint8_t *weights, size_t wlen)
{
    const pl_json *topo = pl_json_get(doc, "modelTopology");
    const pl_json *nodes = pl_json_get(topo, "node");
    if (!pl_json_is(doc, PL_JSON_OBJECT) || !pl_json_is(nodes, PL_JSON_ARRAY))
        return pl_fail(L->err, PL_ERR_FORMAT, "%s: not a TF.js graph model (no modelTopology.node)", L->name);
    if (pl_json_len(nodes) > MAX_NODES)
        return pl_fail(L->err, PL_ERR_FORMAT, "%s: more than %d nodes", L->name, MAX_NODES);
    pl_status s = pl_tfjs_weights_decode(pl_json_get(doc, "weightsManifest"), weights, wlen, L->name,
                                         &L->ws, L->err);
    if (s != PL_OK) return s;
    int *order = malloc(((size_t)pl_json_len(nodes) + 1) * sizeof *order);
    s = order ? order_nodes(L, nodes, order) : nomem(L);
    for (int i = 0; i < pl_json_len(nodes) && s == PL_OK; i++) {
        L->node = pl_json_at(nodes, order[i]);
        L->op = L->nname = NULL;
        s = convert_node(L);
    }
    free(order);
    if (s == PL_OK && L->g->n_inputs == 0)
        s = pl_fail(L->err, PL_ERR_FORMAT, "%s: no Placeholder (graph input)", L->name);
    if (s == PL_OK) s = add_outputs(L, doc, nodes);
    if (s == PL_OK) s = pl_graph_validate(L->g, L->err);
    return s;
}

static pl_graph *load_parsed(const pl_json *doc, const uint8_t *weights, size_t weights_len,
                             const char *name, pl_error *err)
{
    loader L = {.name = name, .err = err, .g = pl_graph_new(name)};
    pl_status s = L.g ? load_doc(&L, doc, weights, weights_len)
                      : pl_fail(err, PL_ERR_NOMEM, "%s: out of memory", name);
    pl_tfjs_weights_free(&L.ws);
    map_free(&L.tensors);
    free(L.shp);
    if (s != PL_OK) {
        pl_graph_free(L.g);
        return NULL;
    }
    return L.g;
}

static const pl_json_limits json_limits = {.max_depth = 64, .max_bytes = MAX_JSON_BYTES};

pl_graph *pl_tfjs_load_memory(const char *json, size_t json_len, const uint8_t *weights,
                              size_t weights_len, const char *name, pl_error *err)
{
    if (!name) name = "model.json";
    if (!weights && weights_len) {
        pl_fail(err, PL_ERR_ARG, "%s: no weight bytes", name);
        return NULL;
    }
    pl_json *doc = pl_json_parse_ex(json, json_len, name, &json_limits, err);
    if (!doc) return NULL;
    pl_graph *g = load_parsed(doc, weights ? weights : (const uint8_t *)"", weights_len, name, err);
    pl_json_free(doc);
    return g;
}

pl_graph *pl_tfjs_load(const char *json_path, pl_error *err)
{
    uint8_t *text, *bin = NULL;
    size_t len, blen = 0;
    if (pl_read_file(json_path, MAX_JSON_BYTES, &text, &len, err) != PL_OK) return NULL;
    pl_json *doc = pl_json_parse_ex((const char *)text, len, json_path, &json_limits, err);
    free(text);
    if (!doc) return NULL;
    pl_graph *g = NULL;
    if (pl_tfjs_read_shards(pl_json_get(doc, "weightsManifest"), json_path, &bin, &blen, err) == PL_OK)
        g = load_parsed(doc, bin ? bin : (const uint8_t *)"", blen, json_path, err);
    pl_json_free(doc);
    free(bin);
    return g;
}
