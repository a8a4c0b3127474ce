/* onnx_proto.c — protobuf wire format and the ONNX messages (see
 * onnx_proto.h). Field numbers follow onnx/onnx.proto:
 *   ModelProto:  1 ir_version, 7 graph, 8 opset_import
 *   OperatorSetIdProto: 1 domain, 2 version
 *   GraphProto:  1 node, 2 name, 5 initializer, 11 input, 12 output
 *   NodeProto:   1 input, 2 output, 3 name, 4 op_type, 5 attribute, 7 domain
 *   AttributeProto: 1 name, 2 f, 3 i, 4 s, 5 t, 6 g, 7 floats, 8 ints,
 *                   9 strings, 20 type
 *   TensorProto: 1 dims, 2 data_type, 4 float_data, 5 int32_data,
 *                7 int64_data, 8 name, 9 raw_data, 10 double_data,
 *                14 data_location
 *   ValueInfoProto: 1 name, 2 type; TypeProto: 1 tensor_type;
 *   TypeProto.Tensor: 1 elem_type, 2 shape; TensorShapeProto: 1 dim;
 *   Dimension: 1 dim_value, 2 dim_param
 * The message nesting is fixed (model > graph > node > attribute > tensor),
 * so decoding recursion is bounded; subgraph attributes (If/Loop bodies)
 * are not descended into.
 */
#include "formats/onnx_proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_SGROUP = 3, WT_EGROUP = 4, WT_I32 = 5 };

/* A cursor over one message's bytes, plus what messages need. */
typedef struct pb {
    const uint8_t *p, *end;
} pb;

typedef struct ctx {
    const uint8_t *base;
    const char *name;   /* file name for messages */
    pl_error *err;
    char where[160];    /* message path being decoded, for messages */
} ctx;

static pl_status bad(ctx *c, const pb *r, const char *what)
{
    return pl_fail(c->err, PL_ERR_FORMAT, "%s: %s: %s at byte %zu", c->name,
                   c->where, what, (size_t)(r->p - c->base));
}

static pl_status nomem(ctx *c)
{
    return pl_fail(c->err, PL_ERR_NOMEM, "%s: %s: out of memory", c->name, c->where);
}

/* ---- wire format -------------------------------------------------------- */

static int pb_varint(pb *r, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end) return 0;
        uint8_t b = *r->p++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) { *v = x; return 1; }
    }
    return 0; /* more than 10 bytes */
}

static int pb_key(pb *r, uint32_t *field, int *wt)
{
    uint64_t k;
    if (!pb_varint(r, &k) || (k >> 3) == 0 || (k >> 3) > 0x1fffffff) return 0;
    *field = (uint32_t)(k >> 3);
    *wt = (int)(k & 7);
    return 1;
}

/* A length-delimited payload as a sub-cursor; the length is checked
 * against what is left of the enclosing message. */
static int pb_len(pb *r, pb *sub)
{
    uint64_t n;
    if (!pb_varint(r, &n) || n > (uint64_t)(r->end - r->p)) return 0;
    sub->p = r->p;
    sub->end = r->p + n;
    r->p += n;
    return 1;
}

static int pb_fixed32(pb *r, uint32_t *v)
{
    if (r->end - r->p < 4) return 0;
    *v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 |
         (uint32_t)r->p[3] << 24;
    r->p += 4;
    return 1;
}

static int pb_fixed64(pb *r, uint64_t *v)
{
    uint32_t lo = 0, hi = 0;
    if (r->end - r->p < 8) return 0;
    pb_fixed32(r, &lo);
    pb_fixed32(r, &hi);
    *v = (uint64_t)hi << 32 | lo;
    return 1;
}

static int pb_skip(pb *r, int wt)
{
    uint64_t v;
    pb sub;
    switch (wt) {
    case WT_VARINT: return pb_varint(r, &v);
    case WT_I64: return pb_fixed64(r, &v);
    case WT_LEN: return pb_len(r, &sub);
    case WT_I32: { uint32_t u; return pb_fixed32(r, &u); }
    default: return 0; /* groups are deprecated and never used by ONNX */
    }
}

static float f32_from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* ---- growing arrays ------------------------------------------------------ */

/* Make room for one more element in *arr (count *n, element size sz).
 * Sizes are bounded by the file length, so doubling cannot overflow. */
static int grow(void **arr, size_t n, size_t sz)
{
    if (n & (n - 1)) return 1; /* capacity is the next power of two */
    size_t cap = n ? n * 2 : 1;
    void *p = realloc(*arr, cap * sz);
    if (!p) return 0;
    *arr = p;
    return 1;
}

#define PUSH(c, arr, n, val)                                                  \
    do {                                                                      \
        if (!grow((void **)&(arr), (n), sizeof *(arr))) return nomem(c);      \
        (arr)[(n)++] = (val);                                                 \
    } while (0)

/* Repeated numbers arrive packed (one WT_LEN run) or one per key. */
static pl_status rep_varint(ctx *c, pb *r, int wt, int64_t **arr, size_t *n)
{
    uint64_t v;
    if (wt == WT_VARINT) {
        if (!pb_varint(r, &v)) return bad(c, r, "bad varint");
        PUSH(c, *arr, *n, (int64_t)v);
        return PL_OK;
    }
    pb sub;
    if (wt != WT_LEN) return bad(c, r, "wrong wire type for an integer list");
    if (!pb_len(r, &sub)) return bad(c, r, "packed integers run past the end");
    while (sub.p < sub.end) {
        if (!pb_varint(&sub, &v)) return bad(c, &sub, "bad varint in packed list");
        PUSH(c, *arr, *n, (int64_t)v);
    }
    return PL_OK;
}

static pl_status rep_float(ctx *c, pb *r, int wt, float **arr, size_t *n)
{
    uint32_t u = 0;
    if (wt == WT_I32) {
        if (!pb_fixed32(r, &u)) return bad(c, r, "truncated float");
        PUSH(c, *arr, *n, f32_from_bits(u));
        return PL_OK;
    }
    pb sub;
    if (wt != WT_LEN) return bad(c, r, "wrong wire type for a float list");
    if (!pb_len(r, &sub)) return bad(c, r, "packed floats run past the end");
    if ((sub.end - sub.p) % 4) return bad(c, r, "packed floats: length not a multiple of 4");
    while (sub.p < sub.end) {
        pb_fixed32(&sub, &u);
        PUSH(c, *arr, *n, f32_from_bits(u));
    }
    return PL_OK;
}

static pl_status rep_double(ctx *c, pb *r, int wt, double **arr, size_t *n)
{
    uint64_t u = 0;
    double d;
    if (wt == WT_I64) {
        if (!pb_fixed64(r, &u)) return bad(c, r, "truncated double");
        memcpy(&d, &u, 8);
        PUSH(c, *arr, *n, d);
        return PL_OK;
    }
    pb sub;
    if (wt != WT_LEN) return bad(c, r, "wrong wire type for a double list");
    if (!pb_len(r, &sub)) return bad(c, r, "packed doubles run past the end");
    if ((sub.end - sub.p) % 8) return bad(c, r, "packed doubles: length not a multiple of 8");
    while (sub.p < sub.end) {
        pb_fixed64(&sub, &u);
        memcpy(&d, &u, 8);
        PUSH(c, *arr, *n, d);
    }
    return PL_OK;
}

/* Scalar field readers that check the wire type. */
static pl_status get_int(ctx *c, pb *r, int wt, int64_t *v)
{
    uint64_t u;
    if (wt != WT_VARINT) return bad(c, r, "wrong wire type for an integer");
    if (!pb_varint(r, &u)) return bad(c, r, "bad varint");
    *v = (int64_t)u;
    return PL_OK;
}

static pl_status get_str(ctx *c, pb *r, int wt, ox_str *s)
{
    pb sub;
    if (wt != WT_LEN) return bad(c, r, "wrong wire type for a string");
    if (!pb_len(r, &sub)) return bad(c, r, "string runs past the end");
    s->p = (const char *)sub.p;
    s->n = (size_t)(sub.end - sub.p);
    return PL_OK;
}

static pl_status get_msg(ctx *c, pb *r, int wt, pb *sub)
{
    if (wt != WT_LEN) return bad(c, r, "wrong wire type for a message");
    if (!pb_len(r, sub)) return bad(c, r, "message runs past the end");
    return PL_OK;
}

static pl_status skip(ctx *c, pb *r, int wt)
{
    return pb_skip(r, wt) ? PL_OK : bad(c, r, "bad or truncated field");
}

#define TRY(x) do { pl_status st_ = (x); if (st_) return st_; } while (0)

/* ---- messages ------------------------------------------------------------ */

static pl_status dec_tensor(ctx *c, pb r, ox_tensor *t)
{
    uint32_t f;
    int wt;
    int64_t v;
    int64_t *dims = NULL;
    size_t ndims = 0;
    pl_status st = PL_OK;
    while (r.p < r.end && !st) {
        if (!pb_key(&r, &f, &wt)) { st = bad(c, &r, "bad field key"); break; }
        switch (f) {
        case 1: st = rep_varint(c, &r, wt, &dims, &ndims); break;
        case 2: st = get_int(c, &r, wt, &v); t->data_type = (int)v; break;
        case 4: st = rep_float(c, &r, wt, &t->f, &t->nf); break;
        case 5: {
            int64_t *tmp = NULL;
            size_t nt = 0;
            st = rep_varint(c, &r, wt, &tmp, &nt);
            for (size_t i = 0; !st && i < nt; i++) {
                if (!grow((void **)&t->i32, t->ni32, sizeof *t->i32)) { st = nomem(c); break; }
                t->i32[t->ni32++] = (int32_t)tmp[i];
            }
            free(tmp);
            break;
        }
        case 7: st = rep_varint(c, &r, wt, &t->i64, &t->ni64); break;
        case 8: st = get_str(c, &r, wt, &t->name); break;
        case 9: st = get_str(c, &r, wt, &t->raw); break;
        case 10: st = rep_double(c, &r, wt, &t->d, &t->nd); break;
        case 14: st = get_int(c, &r, wt, &v); t->external = (v == 1); break;
        default: st = skip(c, &r, wt); break;
        }
    }
    if (!st && ndims > OX_MAX_DIMS)
        st = pl_fail(c->err, PL_ERR_UNSUPPORTED, "%s: %s: tensor '%.*s' has %zu dims (at most %d)",
                     c->name, c->where, (int)t->name.n, t->name.p, ndims, OX_MAX_DIMS);
    if (!st) {
        t->rank = (int)ndims;
        for (size_t i = 0; i < ndims; i++) t->dims[i] = dims[i];
    }
    free(dims);
    return st;
}

static void tensor_free(ox_tensor *t)
{
    if (!t) return;
    free(t->f);
    free(t->i64);
    free(t->i32);
    free(t->d);
}

static pl_status dec_attr(ctx *c, pb r, ox_attr *a)
{
    uint32_t f;
    int wt;
    int64_t v;
    uint32_t u;
    pb sub;
    while (r.p < r.end) {
        if (!pb_key(&r, &f, &wt)) return bad(c, &r, "bad field key");
        switch (f) {
        case 1: TRY(get_str(c, &r, wt, &a->name)); break;
        case 2:
            if (wt != WT_I32 || !pb_fixed32(&r, &u)) return bad(c, &r, "attribute f: wrong type or truncated");
            a->f = f32_from_bits(u);
            a->has_f = 1;
            break;
        case 3: TRY(get_int(c, &r, wt, &a->i)); a->has_i = 1; break;
        case 4: TRY(get_str(c, &r, wt, &a->s)); a->has_s = 1; break;
        case 5:
            TRY(get_msg(c, &r, wt, &sub));
            if (a->t) { tensor_free(a->t); memset(a->t, 0, sizeof *a->t); }
            else if (!(a->t = calloc(1, sizeof *a->t))) return nomem(c);
            TRY(dec_tensor(c, sub, a->t));
            break;
        case 7: TRY(rep_float(c, &r, wt, &a->floats, &a->n_floats)); break;
        case 8: TRY(rep_varint(c, &r, wt, &a->ints, &a->n_ints)); break;
        case 20: TRY(get_int(c, &r, wt, &v)); a->type = (int)v; break;
        default: TRY(skip(c, &r, wt)); break; /* g, strings, docs: unused */
        }
    }
    return PL_OK;
}

static void attr_free(ox_attr *a)
{
    tensor_free(a->t);
    free(a->t);
    free(a->floats);
    free(a->ints);
}

static pl_status dec_node(ctx *c, pb r, ox_node *n)
{
    uint32_t f;
    int wt;
    ox_str s;
    pb sub;
    while (r.p < r.end) {
        if (!pb_key(&r, &f, &wt)) return bad(c, &r, "bad field key");
        switch (f) {
        case 1: TRY(get_str(c, &r, wt, &s)); PUSH(c, n->inputs, n->n_inputs, s); break;
        case 2: TRY(get_str(c, &r, wt, &s)); PUSH(c, n->outputs, n->n_outputs, s); break;
        case 3: TRY(get_str(c, &r, wt, &n->name)); break;
        case 4: TRY(get_str(c, &r, wt, &n->op_type)); break;
        case 7: TRY(get_str(c, &r, wt, &n->domain)); break;
        case 5: {
            TRY(get_msg(c, &r, wt, &sub));
            ox_attr a;
            memset(&a, 0, sizeof a);
            if (!grow((void **)&n->attrs, n->n_attrs, sizeof *n->attrs)) return nomem(c);
            n->attrs[n->n_attrs++] = a;
            TRY(dec_attr(c, sub, &n->attrs[n->n_attrs - 1]));
            break;
        }
        default: TRY(skip(c, &r, wt)); break;
        }
    }
    return PL_OK;
}

static void node_free(ox_node *n)
{
    free(n->inputs);
    free(n->outputs);
    for (size_t i = 0; i < n->n_attrs; i++) attr_free(&n->attrs[i]);
    free(n->attrs);
}

/* TensorShapeProto.Dimension -> one dim (-1 when symbolic). */
static pl_status dec_dim(ctx *c, pb r, int64_t *d)
{
    uint32_t f;
    int wt;
    *d = -1;
    while (r.p < r.end) {
        if (!pb_key(&r, &f, &wt)) return bad(c, &r, "bad field key");
        if (f == 1) TRY(get_int(c, &r, wt, d));
        else TRY(skip(c, &r, wt));
    }
    return PL_OK;
}

static pl_status dec_shape(ctx *c, pb r, ox_value_info *vi)
{
    uint32_t f;
    int wt;
    pb sub;
    vi->rank = 0;
    while (r.p < r.end) {
        if (!pb_key(&r, &f, &wt)) return bad(c, &r, "bad field key");
        if (f != 1) { TRY(skip(c, &r, wt)); continue; }
        TRY(get_msg(c, &r, wt, &sub));
        if (vi->rank >= OX_MAX_DIMS)
            return pl_fail(c->err, PL_ERR_UNSUPPORTED, "%s: %s: value '%.*s' has more than %d dims",
                           c->name, c->where, (int)vi->name.n, vi->name.p, OX_MAX_DIMS);
        TRY(dec_dim(c, sub, &vi->dims[vi->rank++]));
    }
    return PL_OK;
}

static pl_status dec_tensor_type(ctx *c, pb r, ox_value_info *vi)
{
    uint32_t f;
    int wt;
    int64_t v;
    pb sub;
    while (r.p < r.end) {
        if (!pb_key(&r, &f, &wt)) return bad(c, &r, "bad field key");
        if (f == 1) { TRY(get_int(c, &r, wt, &v)); vi->elem_type = (int)v; }
        else if (f == 2) { TRY(get_msg(c, &r, wt, &sub)); TRY(dec_shape(c, sub, vi)); }
        else TRY(skip(c, &r, wt));
    }
    return PL_OK;
}

static pl_status dec_value_info(ctx *c, pb r, ox_value_info *vi)
{
    uint32_t f;
    int wt;
    pb sub, sub2;
    vi->rank = -1;
    while (r.p < r.end) {
        if (!pb_key(&r, &f, &wt)) return bad(c, &r, "bad field key");
        if (f == 1) TRY(get_str(c, &r, wt, &vi->name));
        else if (f == 2) {
            TRY(get_msg(c, &r, wt, &sub));
            uint32_t f2;
            int wt2;
            while (sub.p < sub.end) { /* TypeProto: only tensor_type (1) matters */
                if (!pb_key(&sub, &f2, &wt2)) return bad(c, &sub, "bad field key");
                if (f2 == 1) { TRY(get_msg(c, &sub, wt2, &sub2)); TRY(dec_tensor_type(c, sub2, vi)); }
                else TRY(skip(c, &sub, wt2));
            }
        } else TRY(skip(c, &r, wt));
    }
    return PL_OK;
}

static void set_where(ctx *c, const char *what, size_t i)
{
    snprintf(c->where, sizeof c->where, "graph.%s[%zu]", what, i);
}

static pl_status dec_graph(ctx *c, pb r, ox_graph *g)
{
    uint32_t f;
    int wt;
    pb sub;
    while (r.p < r.end) {
        snprintf(c->where, sizeof c->where, "graph");
        if (!pb_key(&r, &f, &wt)) return bad(c, &r, "bad field key");
        switch (f) {
        case 1: {
            TRY(get_msg(c, &r, wt, &sub));
            ox_node z;
            memset(&z, 0, sizeof z);
            set_where(c, "node", g->n_nodes);
            PUSH(c, g->nodes, g->n_nodes, z);
            TRY(dec_node(c, sub, &g->nodes[g->n_nodes - 1]));
            break;
        }
        case 2: TRY(get_str(c, &r, wt, &g->name)); break;
        case 5: {
            TRY(get_msg(c, &r, wt, &sub));
            ox_tensor z;
            memset(&z, 0, sizeof z);
            set_where(c, "initializer", g->n_inits);
            PUSH(c, g->inits, g->n_inits, z);
            TRY(dec_tensor(c, sub, &g->inits[g->n_inits - 1]));
            break;
        }
        case 11:
        case 12: {
            TRY(get_msg(c, &r, wt, &sub));
            ox_value_info z;
            memset(&z, 0, sizeof z);
            if (f == 11) {
                set_where(c, "input", g->n_inputs);
                PUSH(c, g->inputs, g->n_inputs, z);
                TRY(dec_value_info(c, sub, &g->inputs[g->n_inputs - 1]));
            } else {
                set_where(c, "output", g->n_outputs);
                PUSH(c, g->outputs, g->n_outputs, z);
                TRY(dec_value_info(c, sub, &g->outputs[g->n_outputs - 1]));
            }
            break;
        }
        default: TRY(skip(c, &r, wt)); break;
        }
    }
    return PL_OK;
}

static pl_status dec_opset(ctx *c, pb r, ox_model *m)
{
    uint32_t f;
    int wt;
    ox_str domain = {"", 0};
    int64_t version = 0;
    while (r.p < r.end) {
        if (!pb_key(&r, &f, &wt)) return bad(c, &r, "bad field key");
        if (f == 1) TRY(get_str(c, &r, wt, &domain));
        else if (f == 2) TRY(get_int(c, &r, wt, &version));
        else TRY(skip(c, &r, wt));
    }
    if (domain.n == 0 || ox_str_eq(domain, "ai.onnx")) m->opset = version;
    return PL_OK;
}

pl_status ox_decode_model(const uint8_t *data, size_t len, const char *name,
                          ox_model *m, pl_error *err)
{
    ctx c = {data, name ? name : "(memory)", err, "model"};
    pb r = {data, data + len};
    uint32_t f;
    int wt;
    pb sub;
    memset(m, 0, sizeof *m);
    if (!data || len == 0) return pl_fail(err, PL_ERR_FORMAT, "%s: empty file", c.name);
    while (r.p < r.end) {
        snprintf(c.where, sizeof c.where, "model");
        if (!pb_key(&r, &f, &wt)) return bad(&c, &r, "bad field key (not an ONNX file?)");
        switch (f) {
        case 1: TRY(get_int(&c, &r, wt, &m->ir_version)); break;
        case 7:
            TRY(get_msg(&c, &r, wt, &sub));
            if (m->has_graph) return bad(&c, &r, "more than one graph");
            m->has_graph = 1;
            TRY(dec_graph(&c, sub, &m->graph));
            break;
        case 8:
            TRY(get_msg(&c, &r, wt, &sub));
            snprintf(c.where, sizeof c.where, "model.opset_import");
            TRY(dec_opset(&c, sub, m));
            break;
        default: TRY(skip(&c, &r, wt)); break;
        }
    }
    if (!m->has_graph) return pl_fail(err, PL_ERR_FORMAT, "%s: no graph in the model (not an ONNX file?)", c.name);
    return PL_OK;
}

void ox_model_free(ox_model *m)
{
    if (!m) return;
    ox_graph *g = &m->graph;
    for (size_t i = 0; i < g->n_nodes; i++) node_free(&g->nodes[i]);
    for (size_t i = 0; i < g->n_inits; i++) tensor_free(&g->inits[i]);
    free(g->nodes);
    free(g->inits);
    free(g->inputs);
    free(g->outputs);
    memset(m, 0, sizeof *m);
}

int ox_str_eq(ox_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n == n && memcmp(s.p, lit, n) == 0;
}

const ox_attr *ox_node_attr(const ox_node *n, const char *name)
{
    for (size_t i = n->n_attrs; i-- > 0;) /* last one wins, as in protobuf */
        if (ox_str_eq(n->attrs[i].name, name)) return &n->attrs[i];
    return NULL;
}
