/* tflite.c — the TFLite flatbuffer reader: a .tflite file -> a pl_graph.
 *
 * A hand-written flatbuffer walker (no generated code): the few tables the
 * schema (tensorflow/lite/schema/schema.fbs, version 3) defines for a model
 * are read by field id. The file is hostile input, so every offset, vtable,
 * vector and buffer is checked against the file size before it is touched;
 * the first problem stops the load with a message naming the file, the
 * operator or tensor, and the field.
 *
 * Mapping to the engine (engine/graph.h):
 *   - float32 constants are copied into the graph; DEQUANTIZE of a float16
 *     constant becomes a float32 constant (no node);
 *   - int constants (axes, shapes, paddings) become node parameters and
 *     never enter the graph;
 *   - DEPTHWISE_CONV_2D weights [1,KH,KW,C*m] are transposed to the
 *     graph's [C*m,KH,KW,1] with groups = C;
 *   - a fused activation goes into params.act where the engine fuses it
 *     (conv, fc, binary ops), otherwise it becomes a separate node;
 *   - a RESHAPE that keeps the leading (batch) dimension gets -1 there, so
 *     that models stored with a fixed batch (MobileFaceNet: 2) run at any.
 */
#include "formats/tflite.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "util/fs.h"

/* The reader assumes a little-endian host, like the format. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "tflite.c reads little-endian flatbuffers directly"
#endif

#define TFLITE_MAX_FILE ((size_t)1 << 31)
#define TFLITE_MAX_NUMEL ((int64_t)1 << 31) /* elements in one tensor */

/* ---- field ids (schema.fbs) ---------------------------------------------- */
enum { MODEL_VERSION = 0, MODEL_OPCODES = 1, MODEL_SUBGRAPHS = 2, MODEL_BUFFERS = 4 };
enum { OPCODE_DEPRECATED = 0, OPCODE_CUSTOM = 1, OPCODE_BUILTIN = 3 };
enum { SUBGRAPH_TENSORS = 0, SUBGRAPH_INPUTS = 1, SUBGRAPH_OUTPUTS = 2,
       SUBGRAPH_OPERATORS = 3 };
enum { TENSOR_SHAPE = 0, TENSOR_TYPE = 1, TENSOR_BUFFER = 2, TENSOR_NAME = 3,
       TENSOR_SPARSITY = 6 };
enum { OP_OPCODE = 0, OP_INPUTS = 1, OP_OUTPUTS = 2, OP_OPTIONS_TYPE = 3,
       OP_OPTIONS = 4 };
enum { BUFFER_DATA = 0, BUFFER_OFFSET = 1, BUFFER_SIZE = 2 };

enum { TT_FLOAT32 = 0, TT_FLOAT16 = 1, TT_INT32 = 2, TT_INT64 = 4 };
enum { ACT_NONE = 0, ACT_RELU = 1, ACT_RELU_N1_TO_1 = 2, ACT_RELU6 = 3,
       ACT_TANH = 4 };

/* BuiltinOperator codes this reader maps. */
enum {
    B_ADD = 0, B_AVERAGE_POOL_2D = 1, B_CONCATENATION = 2, B_CONV_2D = 3,
    B_DEPTHWISE_CONV_2D = 4, B_DEQUANTIZE = 6, B_FULLY_CONNECTED = 9,
    B_L2_NORMALIZATION = 11, B_LOGISTIC = 14, B_MAX_POOL_2D = 17, B_MUL = 18,
    B_RELU = 19, B_RELU_N1_TO_1 = 20, B_RELU6 = 21, B_RESHAPE = 22,
    B_SOFTMAX = 25, B_TANH = 28, B_CUSTOM = 32, B_PAD = 34, B_TRANSPOSE = 39,
    B_MEAN = 40, B_SUB = 41, B_DIV = 42, B_EXP = 47, B_PRELU = 54,
    B_MAXIMUM = 55, B_MINIMUM = 57, B_NEG = 59, B_PADV2 = 60, B_LOG = 73,
    B_SUM = 74, B_SQRT = 75, B_RSQRT = 76, B_POW = 78, B_REDUCE_MAX = 82,
    B_LEAKY_RELU = 98, B_SQUARED_DIFFERENCE = 99, B_ABS = 101
};

static const char *const builtin_names[] = {
    "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D",
    "DEPTH_TO_SPACE", "DEQUANTIZE", "EMBEDDING_LOOKUP", "FLOOR",
    "FULLY_CONNECTED", "HASHTABLE_LOOKUP", "L2_NORMALIZATION", "L2_POOL_2D",
    "LOCAL_RESPONSE_NORMALIZATION", "LOGISTIC", "LSH_PROJECTION", "LSTM",
    "MAX_POOL_2D", "MUL", "RELU", "RELU_N1_TO_1", "RELU6", "RESHAPE",
    "RESIZE_BILINEAR", "RNN", "SOFTMAX", "SPACE_TO_DEPTH", "SVDF", "TANH",
    "CONCAT_EMBEDDINGS", "SKIP_GRAM", "CALL", "CUSTOM",
    "EMBEDDING_LOOKUP_SPARSE", "PAD", "UNIDIRECTIONAL_SEQUENCE_RNN", "GATHER",
    "BATCH_TO_SPACE_ND", "SPACE_TO_BATCH_ND", "TRANSPOSE", "MEAN", "SUB",
    "DIV", "SQUEEZE", "UNIDIRECTIONAL_SEQUENCE_LSTM", "STRIDED_SLICE",
    "BIDIRECTIONAL_SEQUENCE_RNN", "EXP", "TOPK_V2", "SPLIT", "LOG_SOFTMAX",
    "DELEGATE", "BIDIRECTIONAL_SEQUENCE_LSTM", "CAST", "PRELU", "MAXIMUM",
    "ARG_MAX", "MINIMUM", "LESS", "NEG", "PADV2", "GREATER", "GREATER_EQUAL",
    "LESS_EQUAL", "SELECT", "SLICE", "SIN", "TRANSPOSE_CONV",
    "SPARSE_TO_DENSE", "TILE", "EXPAND_DIMS", "EQUAL", "NOT_EQUAL", "LOG",
    "SUM", "SQRT", "RSQRT", "SHAPE", "POW", "ARG_MIN", "FAKE_QUANT",
    "REDUCE_PROD", "REDUCE_MAX", "PACK", "LOGICAL_OR", "ONE_HOT",
    "LOGICAL_AND", "LOGICAL_NOT", "UNPACK", "REDUCE_MIN", "FLOOR_DIV",
    "REDUCE_ANY", "SQUARE", "ZEROS_LIKE", "FILL", "FLOOR_MOD", "RANGE",
    "RESIZE_NEAREST_NEIGHBOR", "LEAKY_RELU", "SQUARED_DIFFERENCE",
    "MIRROR_PAD", "ABS", "SPLIT_V", "UNIQUE", "CEIL", "REVERSE_V2", "ADD_N",
    "GATHER_ND", "COS", "WHERE", "RANK", "ELU", "REVERSE_SEQUENCE",
    "MATRIX_DIAG", "QUANTIZE", "MATRIX_SET_DIAG", "ROUND", "HARD_SWISH", "IF",
    "WHILE", "NON_MAX_SUPPRESSION_V4", "NON_MAX_SUPPRESSION_V5", "SCATTER_ND",
    "SELECT_V2", "DENSIFY", "SEGMENT_SUM", "BATCH_MATMUL",
    "PLACEHOLDER_FOR_GREATER_OP_CODES", "CUMSUM", "CALL_ONCE", "BROADCAST_TO",
    "RFFT2D", "CONV_3D", "IMAG", "REAL", "COMPLEX_ABS", "HASHTABLE",
    "HASHTABLE_FIND", "HASHTABLE_IMPORT", "HASHTABLE_SIZE", "REDUCE_ALL",
    "CONV_3D_TRANSPOSE", "VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE",
    "BROADCAST_ARGS", "RANDOM_STANDARD_NORMAL", "BUCKETIZE", "RANDOM_UNIFORM",
    "MULTINOMIAL", "GELU", "DYNAMIC_UPDATE_SLICE", "RELU_0_TO_1",
    "UNSORTED_SEGMENT_PROD", "UNSORTED_SEGMENT_MAX", "UNSORTED_SEGMENT_SUM",
    "ATAN2", "UNSORTED_SEGMENT_MIN", "SIGN"
};

const char *pl_tflite_builtin_name(int code)
{
    int n = (int)(sizeof builtin_names / sizeof builtin_names[0]);
    return code >= 0 && code < n ? builtin_names[code] : "?";
}

static const char *type_name(int t)
{
    static const char *const names[] = {
        "FLOAT32", "FLOAT16", "INT32", "UINT8", "INT64", "STRING", "BOOL",
        "INT16", "COMPLEX64", "INT8", "FLOAT64", "COMPLEX128", "UINT64",
        "RESOURCE", "VARIANT", "UINT32", "UINT16", "INT4"};
    return t >= 0 && t < (int)(sizeof names / sizeof names[0]) ? names[t] : "?";
}

/* ==== the flatbuffer walker ================================================
 * Every access goes through these helpers, which check ranges against the
 * file size. The first failure fills the error; callers stop on -1. */

typedef struct fb {
    const uint8_t *p;
    size_t n;
    const char *name; /* file name, for messages */
    char ctx[160];    /* "operator 7 (CONV_2D)", for messages */
    pl_error *err;
} fb;

typedef struct fbt { size_t pos; size_t tbl_len; size_t vt; size_t vt_len; } fbt;
typedef struct fbv { size_t pos; uint32_t len; } fbv; /* first element, count */

static uint32_t rd_u32(const fb *r, size_t pos)
{
    uint32_t v;
    memcpy(&v, r->p + pos, 4);
    return v;
}

static uint16_t rd_u16(const fb *r, size_t pos)
{
    uint16_t v;
    memcpy(&v, r->p + pos, 2);
    return v;
}

static int fb_bad(fb *r, pl_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fail with "file: context: message". */
static int fb_bad(fb *r, pl_status code, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pl_fail(r->err, code, "%s: %s%s%s", r->name, r->ctx, r->ctx[0] ? ": " : "",
            msg);
    return -1;
}

/* Bytes [pos, pos+size) lie inside the file. */
static int in_file(const fb *r, size_t pos, size_t size)
{
    return pos <= r->n && size <= r->n - pos;
}

/* Open the table at pos: check its vtable and its inline size. */
static int fb_table(fb *r, size_t pos, fbt *t, const char *what)
{
    if (!in_file(r, pos, 4))
        return fb_bad(r, PL_ERR_FORMAT, "%s: table at byte %zu is past the end of the file (%zu bytes)",
                      what, pos, r->n);
    int32_t soff;
    memcpy(&soff, r->p + pos, 4);
    int64_t vt = (int64_t)pos - (int64_t)soff;
    if (vt < 0 || !in_file(r, (size_t)vt, 4))
        return fb_bad(r, PL_ERR_FORMAT, "%s: vtable offset %d at byte %zu points outside the file",
                      what, (int)soff, pos);
    t->pos = pos;
    t->vt = (size_t)vt;
    t->vt_len = rd_u16(r, t->vt);
    t->tbl_len = rd_u16(r, t->vt + 2);
    if (t->vt_len < 4 || (t->vt_len & 1) || !in_file(r, t->vt, t->vt_len))
        return fb_bad(r, PL_ERR_FORMAT, "%s: bad vtable at byte %zu (size %zu)", what,
                      t->vt, t->vt_len);
    if (t->tbl_len < 4 || !in_file(r, pos, t->tbl_len))
        return fb_bad(r, PL_ERR_FORMAT, "%s: table at byte %zu (size %zu) runs past the end of the file",
                      what, pos, t->tbl_len);
    return 0;
}

/* Absolute position of field id (size bytes), 0 if absent, (size_t)-1 on
 * error. A field must lie inside its table's inline part. */
static size_t fb_field(fb *r, const fbt *t, int id, size_t size, const char *what)
{
    size_t slot = 4 + 2 * (size_t)id;
    if (slot + 2 > t->vt_len) return 0;
    size_t off = rd_u16(r, t->vt + slot);
    if (off == 0) return 0;
    if (off < 4 || off + size > t->tbl_len) {
        fb_bad(r, PL_ERR_FORMAT, "%s: field at table offset %zu lies outside its table (size %zu)",
               what, off, t->tbl_len);
        return (size_t)-1;
    }
    return t->pos + off;
}

#define FB_SCALAR(fname, type)                                                 \
    static int fname(fb *r, const fbt *t, int id, type def, type *out,         \
                     const char *what)                                         \
    {                                                                          \
        size_t at = fb_field(r, t, id, sizeof(type), what);                    \
        if (at == (size_t)-1) return -1;                                       \
        *out = def;                                                            \
        if (at) memcpy(out, r->p + at, sizeof(type));                          \
        return 0;                                                              \
    }
FB_SCALAR(fb_i8, int8_t)
FB_SCALAR(fb_i32, int32_t)
FB_SCALAR(fb_u32, uint32_t)
FB_SCALAR(fb_f32, float)
FB_SCALAR(fb_u64, uint64_t)

/* Follow the offset stored in field id. 1 present (*target set), 0 absent,
 * -1 error. */
static int fb_ref(fb *r, const fbt *t, int id, size_t *target, const char *what)
{
    size_t at = fb_field(r, t, id, 4, what);
    if (at == (size_t)-1) return -1;
    if (!at) return 0;
    uint64_t to = (uint64_t)at + rd_u32(r, at);
    if (to >= r->n)
        return fb_bad(r, PL_ERR_FORMAT, "%s: offset at byte %zu points past the end of the file (%llu >= %zu)",
                      what, at, (unsigned long long)to, r->n);
    *target = (size_t)to;
    return 1;
}

/* Vector in field id with elements of elem bytes; absent -> len 0. */
static int fb_vec(fb *r, const fbt *t, int id, size_t elem, fbv *v, const char *what)
{
    size_t at;
    v->pos = 0;
    v->len = 0;
    int rc = fb_ref(r, t, id, &at, what);
    if (rc <= 0) return rc;
    if (!in_file(r, at, 4))
        return fb_bad(r, PL_ERR_FORMAT, "%s: vector length at byte %zu is past the end of the file",
                      what, at);
    uint32_t len = rd_u32(r, at);
    if ((uint64_t)len * elem > r->n - at - 4)
        return fb_bad(r, PL_ERR_FORMAT, "%s: vector of %u elements at byte %zu runs past the end of the file (%zu bytes)",
                      what, len, at, r->n);
    v->pos = at + 4;
    v->len = len;
    return 0;
}

/* Element i of a vector of tables. */
static int fb_vec_table(fb *r, const fbv *v, uint32_t i, fbt *t, const char *what)
{
    size_t at = v->pos + 4 * (size_t)i;
    uint64_t to = (uint64_t)at + rd_u32(r, at);
    if (to >= r->n)
        return fb_bad(r, PL_ERR_FORMAT, "%s[%u]: offset points past the end of the file", what, i);
    return fb_table(r, (size_t)to, t, what);
}

static int32_t vec_i32(const fb *r, const fbv *v, uint32_t i)
{
    return (int32_t)rd_u32(r, v->pos + 4 * (size_t)i);
}

/* A string field copied into buf (NUL-terminated, truncated to cap-1,
 * control bytes replaced so messages stay on one line). Absent -> "". */
static int fb_string(fb *r, const fbt *t, int id, char *buf, size_t cap,
                     const char *what)
{
    fbv v;
    buf[0] = '\0';
    if (fb_vec(r, t, id, 1, &v, what) < 0) return -1;
    size_t n = v.len < cap - 1 ? v.len : cap - 1;
    for (size_t i = 0; i < n; i++) {
        char c = (char)r->p[v.pos + i];
        if (c == '\0') { n = i; break; }
        buf[i] = (c < 32 || c == 127) ? '?' : c;
    }
    buf[n] = '\0';
    return 0;
}

/* ==== the model ============================================================ */

typedef struct tinfo {
    int type;
    int rank;
    int64_t dims[PL_MAX_RANK];
    uint32_t buffer;
    const uint8_t *data; /* constant bytes in the file, NULL if none */
    size_t bytes;
    char name[128];
} tinfo;

typedef struct loader {
    fb r;
    pl_graph *g;
    fbv tensors, buffers, ops;
    int32_t *codes;  /* builtin code per operator code */
    uint32_t n_codes;
    int *gidx;       /* tflite tensor -> graph tensor; -1 until a graph
                        input, an operator's output or a used constant */
    int *dwidx;      /* tflite tensor -> its depthwise-transposed copy, so a
                        weight shared by many operators is copied once */
} loader;

static int buffer_bytes(loader *L, uint32_t b, const uint8_t **data, size_t *len)
{
    fb *r = &L->r;
    fbt t;
    fbv v;
    *data = NULL;
    *len = 0;
    if (b == 0) return 0; /* buffer 0 is the empty sentinel */
    if (b >= L->buffers.len)
        return fb_bad(r, PL_ERR_FORMAT, "Tensor.buffer: index %u is out of range (%u buffers)",
                      b, L->buffers.len);
    if (fb_vec_table(r, &L->buffers, b, &t, "Model.buffers") < 0) return -1;
    if (fb_vec(r, &t, BUFFER_DATA, 1, &v, "Buffer.data") < 0) return -1;
    if (v.len) {
        *data = r->p + v.pos;
        *len = v.len;
        return 0;
    }
    /* Models over 2 GB keep the data after the flatbuffer: offset/size. */
    uint64_t off, size;
    if (fb_u64(r, &t, BUFFER_OFFSET, 0, &off, "Buffer.offset") < 0 ||
        fb_u64(r, &t, BUFFER_SIZE, 0, &size, "Buffer.size") < 0)
        return -1;
    if (off > 1 && size > 0) {
        if (off > r->n || size > r->n - off)
            return fb_bad(r, PL_ERR_FORMAT, "Buffer %u: bytes %llu..%llu lie past the end of the file (%zu bytes)",
                          b, (unsigned long long)off,
                          (unsigned long long)(off + size), r->n);
        *data = r->p + off;
        *len = (size_t)size;
    }
    return 0;
}

/* Product of dims with overflow and size checks. */
static int64_t dims_numel(const int64_t *dims, int rank)
{
    int64_t n = 1;
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0) return -1;
        if (dims[i] && n > TFLITE_MAX_NUMEL / dims[i]) return -1;
        n *= dims[i];
    }
    return n;
}

static int read_tensor(loader *L, int index, tinfo *ti)
{
    fb *r = &L->r;
    fbt t;
    fbv shape;
    int8_t type;
    memset(ti, 0, sizeof *ti);
    if (index < 0 || (uint32_t)index >= L->tensors.len)
        return fb_bad(r, PL_ERR_FORMAT, "tensor index %d is out of range (%u tensors)",
                      index, L->tensors.len);
    if (fb_vec_table(r, &L->tensors, (uint32_t)index, &t, "SubGraph.tensors") < 0 ||
        fb_vec(r, &t, TENSOR_SHAPE, 4, &shape, "Tensor.shape") < 0 ||
        fb_i8(r, &t, TENSOR_TYPE, 0, &type, "Tensor.type") < 0 ||
        fb_u32(r, &t, TENSOR_BUFFER, 0, &ti->buffer, "Tensor.buffer") < 0 ||
        fb_string(r, &t, TENSOR_NAME, ti->name, sizeof ti->name, "Tensor.name") < 0)
        return -1;
    if (!ti->name[0]) snprintf(ti->name, sizeof ti->name, "tensor%d", index);
    ti->type = type;
    if (shape.len > PL_MAX_RANK)
        return fb_bad(r, PL_ERR_UNSUPPORTED, "tensor %d (%s): rank %u is more than %d",
                      index, ti->name, shape.len, PL_MAX_RANK);
    ti->rank = (int)shape.len;
    for (int i = 0; i < ti->rank; i++) {
        ti->dims[i] = vec_i32(r, &shape, (uint32_t)i);
        if (ti->dims[i] < 0)
            return fb_bad(r, PL_ERR_FORMAT, "tensor %d (%s): Tensor.shape[%d] is negative (%lld)",
                          index, ti->name, i, (long long)ti->dims[i]);
    }
    if (dims_numel(ti->dims, ti->rank) < 0)
        return fb_bad(r, PL_ERR_FORMAT, "tensor %d (%s): Tensor.shape has more than %lld elements",
                      index, ti->name, (long long)TFLITE_MAX_NUMEL);
    size_t sp;
    int rc = fb_ref(r, &t, TENSOR_SPARSITY, &sp, "Tensor.sparsity");
    if (rc < 0) return -1;
    if (rc > 0)
        return fb_bad(r, PL_ERR_UNSUPPORTED, "tensor %d (%s): sparse tensors are not supported",
                      index, ti->name);
    return buffer_bytes(L, ti->buffer, &ti->data, &ti->bytes);
}

static size_t type_size(int type)
{
    switch (type) {
    case TT_FLOAT32: case TT_INT32: return 4;
    case TT_FLOAT16: return 2;
    case TT_INT64: return 8;
    default: return 0;
    }
}

/* A constant's bytes must be exactly its shape's worth. */
static int check_const_size(loader *L, int index, const tinfo *ti)
{
    size_t es = type_size(ti->type);
    if (!es)
        return fb_bad(&L->r, PL_ERR_UNSUPPORTED, "tensor %d (%s): constants of type %s are not supported",
                      index, ti->name, type_name(ti->type));
    int64_t n = dims_numel(ti->dims, ti->rank);
    if ((uint64_t)n * es != ti->bytes)
        return fb_bad(&L->r, PL_ERR_FORMAT, "tensor %d (%s): buffer %u holds %zu bytes but shape needs %lld",
                      index, ti->name, ti->buffer, ti->bytes, (long long)((uint64_t)n * es));
    return 0;
}

static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 31, man = h & 1023u;
    uint32_t bits;
    if (exp == 31) {
        bits = sign | 0x7f800000u | (man << 13);
    } else if (exp) {
        bits = sign | ((exp + 112) << 23) | (man << 13);
    } else if (man) { /* subnormal: normalise */
        int e = -1;
        do { man <<= 1; e++; } while (!(man & 1024u));
        bits = sign | ((uint32_t)(112 - e) << 23) | ((man & 1023u) << 13);
    } else {
        bits = sign;
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* Add a float32 (or float16, converted) constant to the graph. */
static int add_const(loader *L, int index, const tinfo *ti)
{
    if (check_const_size(L, index, ti) < 0) return -1;
    if (ti->type != TT_FLOAT32 && ti->type != TT_FLOAT16)
        return fb_bad(&L->r, PL_ERR_UNSUPPORTED, "tensor %d (%s): a %s constant is used where float data is needed",
                      index, ti->name, type_name(ti->type));
    int64_t n = dims_numel(ti->dims, ti->rank);
    float *data = malloc((size_t)(n ? n : 1) * sizeof(float));
    if (!data) return fb_bad(&L->r, PL_ERR_NOMEM, "tensor %d (%s): out of memory", index, ti->name);
    if (ti->type == TT_FLOAT32) {
        memcpy(data, ti->data, (size_t)n * 4);
    } else {
        for (int64_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, ti->data + 2 * i, 2);
            data[i] = half_to_float(h);
        }
    }
    int gi = pl_graph_add_const(L->g, ti->name, ti->rank, ti->dims, data);
    if (gi < 0) return fb_bad(&L->r, PL_ERR_NOMEM, "tensor %d (%s): out of memory", index, ti->name);
    L->gidx[index] = gi;
    return gi;
}

/* Graph tensor for a float tensor an operator reads: a constant, a graph
 * input or an earlier operator's output. -1 on error. */
static int use_tensor(loader *L, int index)
{
    tinfo ti;
    if (read_tensor(L, index, &ti) < 0) return -1;
    if (L->gidx[index] >= 0) return L->gidx[index];
    if (ti.data) return add_const(L, index, &ti);
    return fb_bad(&L->r, PL_ERR_FORMAT, "tensor %d (%s) is read before any operator writes it",
                  index, ti.name);
}

/* Graph tensor for an operator's output: a new activation. */
static int def_tensor(loader *L, int index)
{
    tinfo ti;
    if (read_tensor(L, index, &ti) < 0) return -1;
    if (ti.data || L->gidx[index] >= 0)
        return fb_bad(&L->r, PL_ERR_FORMAT, "tensor %d (%s) is written twice or is a constant",
                      index, ti.name);
    if (ti.type != TT_FLOAT32)
        return fb_bad(&L->r, PL_ERR_UNSUPPORTED, "tensor %d (%s) has type %s; only float32 models are supported",
                      index, ti.name, type_name(ti.type));
    int gi = pl_graph_add_tensor(L->g, ti.name);
    if (gi < 0) return fb_bad(&L->r, PL_ERR_NOMEM, "tensor %d (%s): out of memory", index, ti.name);
    L->gidx[index] = gi;
    return gi;
}

/* An integer constant (axes, shape, paddings) read into vals. */
static int int_const(loader *L, int index, int64_t *vals, int cap, int *count,
                     const char *what)
{
    tinfo ti;
    if (read_tensor(L, index, &ti) < 0) return -1;
    if (!ti.data || (ti.type != TT_INT32 && ti.type != TT_INT64))
        return fb_bad(&L->r, PL_ERR_UNSUPPORTED, "%s: tensor %d (%s) must be a constant int32/int64 tensor",
                      what, index, ti.name);
    if (check_const_size(L, index, &ti) < 0) return -1;
    int64_t n = dims_numel(ti.dims, ti.rank);
    if (n > cap)
        return fb_bad(&L->r, PL_ERR_FORMAT, "%s: tensor %d (%s) has %lld values, at most %d allowed",
                      what, index, ti.name, (long long)n, cap);
    for (int64_t i = 0; i < n; i++) {
        if (ti.type == TT_INT32) {
            int32_t v;
            memcpy(&v, ti.data + 4 * i, 4);
            vals[i] = v;
        } else {
            memcpy(&vals[i], ti.data + 8 * i, 8);
        }
    }
    *count = (int)n;
    return 0;
}

/* ==== operators ============================================================ */

typedef struct opctx {
    int index, code;
    fbv in, out;
    fbt opts;
    int has_opts;
} opctx;

static int op_in(const loader *L, const opctx *o, int i)
{
    return i < (int)o->in.len ? vec_i32(&L->r, &o->in, (uint32_t)i) : -1;
}

static int need_io(loader *L, const opctx *o, int min_in, int max_in, int n_out)
{
    if ((int)o->in.len < min_in || (int)o->in.len > max_in || (int)o->out.len != n_out)
        return fb_bad(&L->r, PL_ERR_FORMAT, "has %u inputs and %u outputs, expected %d..%d and %d",
                      o->in.len, o->out.len, min_in, max_in, n_out);
    for (int i = 0; i < min_in; i++)
        if (op_in(L, o, i) < 0)
            return fb_bad(&L->r, PL_ERR_FORMAT, "input %d is missing", i);
    return 0;
}

/* Option helpers: absent options read as defaults. */
static int opt_i8(loader *L, const opctx *o, int id, int8_t def, int8_t *v, const char *w)
{
    *v = def;
    return o->has_opts ? fb_i8(&L->r, &o->opts, id, def, v, w) : 0;
}
static int opt_i32(loader *L, const opctx *o, int id, int32_t def, int32_t *v, const char *w)
{
    *v = def;
    return o->has_opts ? fb_i32(&L->r, &o->opts, id, def, v, w) : 0;
}
static int opt_f32(loader *L, const opctx *o, int id, float def, float *v, const char *w)
{
    *v = def;
    return o->has_opts ? fb_f32(&L->r, &o->opts, id, def, v, w) : 0;
}

static int map_act(loader *L, int8_t act, pl_node_params *p)
{
    switch (act) {
    case ACT_NONE: p->act = PL_ACT_NONE; return 0;
    case ACT_RELU: p->act = PL_ACT_RELU; return 0;
    case ACT_RELU6: p->act = PL_ACT_RELU6; return 0;
    case ACT_TANH: p->act = PL_ACT_TANH; return 0;
    case ACT_RELU_N1_TO_1:
        p->act = PL_ACT_CLIP;
        p->clip.lo = -1.0f;
        p->clip.hi = 1.0f;
        return 0;
    default:
        return fb_bad(&L->r, PL_ERR_UNSUPPORTED, "fused activation %d is not supported", act);
    }
}

static int map_padding(loader *L, int8_t pad, pl_padding *out)
{
    if (pad == 0) { *out = PL_PAD_SAME; return 0; }
    if (pad == 1) { *out = PL_PAD_VALID; return 0; }
    return fb_bad(&L->r, PL_ERR_FORMAT, "padding %d is neither SAME nor VALID", pad);
}

/* Strides, kernel sizes and dilations: positive and not absurd. */
static int check_window(loader *L, const char *what, int64_t v)
{
    if (v < 1 || v > 65536)
        return fb_bad(&L->r, PL_ERR_FORMAT, "%s is %lld, expected 1..65536", what, (long long)v);
    return 0;
}

/* Emit one node whose output is tflite tensor out_t. When the op cannot
 * fuse its activation (act set but fuse == 0), the op writes a temporary
 * and a separate activation node writes out_t. */
static pl_node *emit(loader *L, pl_op op, const int *in, int n_in,
                     int out_t, const pl_node_params *p, int fuse)
{
    tinfo ti;
    if (read_tensor(L, out_t, &ti) < 0) return NULL;
    int y = def_tensor(L, out_t);
    if (y < 0) return NULL;
    pl_node_params params = *p;
    int split = !fuse && params.act != PL_ACT_NONE;
    int mid = y;
    if (split) {
        char name[160];
        snprintf(name, sizeof name, "%s/before_act", ti.name);
        mid = pl_graph_add_tensor(L->g, name);
        if (mid < 0) { fb_bad(&L->r, PL_ERR_NOMEM, "out of memory"); return NULL; }
        params.act = PL_ACT_NONE;
    }
    pl_node *n = pl_graph_add_node(L->g, op, ti.name, in, n_in, &mid, 1);
    if (!n) { fb_bad(&L->r, PL_ERR_NOMEM, "out of memory"); return NULL; }
    n->params = params;
    if (split) {
        static const pl_op act_op[] = {
            [PL_ACT_RELU] = PL_OP_RELU, [PL_ACT_RELU6] = PL_OP_RELU6,
            [PL_ACT_TANH] = PL_OP_TANH, [PL_ACT_CLIP] = PL_OP_CLIP};
        pl_node *a = pl_graph_add_node(L->g, act_op[p->act], ti.name, &mid, 1, &y, 1);
        if (!a) { fb_bad(&L->r, PL_ERR_NOMEM, "out of memory"); return NULL; }
        if (p->act == PL_ACT_CLIP) a->params.clip = p->clip;
        return a;
    }
    return n;
}

/* Inputs [0, n) as graph tensors; absent optional inputs stay -1. */
static int use_inputs(loader *L, const opctx *o, int n, int *gin)
{
    for (int i = 0; i < n; i++) {
        int t = op_in(L, o, i);
        gin[i] = t < 0 ? -1 : use_tensor(L, t);
        if (t >= 0 && gin[i] < 0) return -1;
    }
    return 0;
}

static int out0(const loader *L, const opctx *o)
{
    return vec_i32(&L->r, &o->out, 0);
}

/* Declared rank of tensor t (from the file), -1 if it cannot be read. */
static int declared(loader *L, int t, tinfo *ti)
{
    return read_tensor(L, t, ti) < 0 ? -1 : ti->rank;
}

/* A float weight tensor that must be a constant of the given rank. */
static int weights(loader *L, int t, int rank, tinfo *ti, const char *what)
{
    if (read_tensor(L, t, ti) < 0) return -1;
    if (!ti->data || ti->rank != rank)
        return fb_bad(&L->r, PL_ERR_UNSUPPORTED, "%s tensor %d (%s) must be a constant of rank %d (rank %d%s)",
                      what, t, ti->name, rank, ti->rank, ti->data ? "" : ", not constant");
    for (int i = 0; i < rank; i++)
        if (ti->dims[i] < 1)
            return fb_bad(&L->r, PL_ERR_FORMAT, "%s tensor %d (%s) has an empty dimension",
                          what, t, ti->name);
    return 0;
}

/* The options Conv2D and DepthwiseConv2D share: activation, padding,
 * strides, dilations and the [.,KH,KW,.] weights' window, checked. */
static int conv_params(loader *L, int8_t act, int8_t pad, int32_t sw, int32_t sh, int32_t dw, int32_t dh,
                       const tinfo *w, pl_node_params *p)
{
    pl_node_params_default(p);
    if (map_act(L, act, p) < 0 || map_padding(L, pad, &p->conv.padding) < 0 ||
        check_window(L, "stride", sw) < 0 || check_window(L, "stride", sh) < 0 ||
        check_window(L, "dilation", dw) < 0 || check_window(L, "dilation", dh) < 0 ||
        check_window(L, "kernel size", w->dims[1]) < 0 ||
        check_window(L, "kernel size", w->dims[2]) < 0)
        return -1;
    p->conv.kh = (int)w->dims[1];
    p->conv.kw = (int)w->dims[2];
    p->conv.stride_h = sh;
    p->conv.stride_w = sw;
    p->conv.dilation_h = dh;
    p->conv.dilation_w = dw;
    return 0;
}

static int op_conv(loader *L, const opctx *o)
{
    int8_t pad, act;
    int32_t sw, sh, dw, dh;
    tinfo w, x;
    if (need_io(L, o, 2, 3, 1) < 0 ||
        opt_i8(L, o, 0, 0, &pad, "Conv2DOptions.padding") < 0 ||
        opt_i32(L, o, 1, 1, &sw, "Conv2DOptions.stride_w") < 0 ||
        opt_i32(L, o, 2, 1, &sh, "Conv2DOptions.stride_h") < 0 ||
        opt_i8(L, o, 3, 0, &act, "Conv2DOptions.fused_activation_function") < 0 ||
        opt_i32(L, o, 4, 1, &dw, "Conv2DOptions.dilation_w_factor") < 0 ||
        opt_i32(L, o, 5, 1, &dh, "Conv2DOptions.dilation_h_factor") < 0 ||
        weights(L, op_in(L, o, 1), 4, &w, "weights") < 0 ||
        declared(L, op_in(L, o, 0), &x) < 0)
        return -1;
    pl_node_params p;
    if (conv_params(L, act, pad, sw, sh, dw, dh, &w, &p) < 0) return -1;
    /* Grouped convolution when the input has a multiple of the weights'
     * channels (TFLite allows it); ordinary otherwise. */
    p.conv.groups = 1;
    if (x.rank == 4 && x.dims[3] > w.dims[3] && x.dims[3] % w.dims[3] == 0 &&
        w.dims[0] % (x.dims[3] / w.dims[3]) == 0)
        p.conv.groups = (int)(x.dims[3] / w.dims[3]);
    int in[3];
    if (use_inputs(L, o, 3, in) < 0) return -1;
    return emit(L, PL_OP_CONV2D, in, 3, out0(L, o), &p, 1) ? 0 : -1;
}

/* TFLite depthwise weights [1,KH,KW,C*m] -> graph [C*m,KH,KW,1]. */
static int depthwise_weights(loader *L, int t, const tinfo *w)
{
    int64_t kh = w->dims[1], kw = w->dims[2], cm = w->dims[3];
    if (L->dwidx[t] >= 0) return L->dwidx[t];
    if (w->type != TT_FLOAT32)
        return fb_bad(&L->r, PL_ERR_UNSUPPORTED, "weights tensor %d (%s) has type %s",
                      t, w->name, type_name(w->type));
    if (check_const_size(L, t, w) < 0) return -1;
    float *data = malloc((size_t)(kh * kw * cm) * sizeof(float));
    if (!data) return fb_bad(&L->r, PL_ERR_NOMEM, "out of memory");
    for (int64_t k = 0; k < kh * kw; k++)
        for (int64_t c = 0; c < cm; c++)
            memcpy(&data[c * kh * kw + k], w->data + 4 * (k * cm + c), 4);
    int64_t dims[4] = {cm, kh, kw, 1};
    char name[160];
    snprintf(name, sizeof name, "%s/ohwi", w->name);
    int gi = pl_graph_add_const(L->g, name, 4, dims, data);
    if (gi < 0) return fb_bad(&L->r, PL_ERR_NOMEM, "out of memory");
    L->dwidx[t] = gi;
    return gi;
}

static int op_depthwise(loader *L, const opctx *o)
{
    int8_t pad, act;
    int32_t sw, sh, mult, dw, dh;
    tinfo w, x;
    if (need_io(L, o, 2, 3, 1) < 0 ||
        opt_i8(L, o, 0, 0, &pad, "DepthwiseConv2DOptions.padding") < 0 ||
        opt_i32(L, o, 1, 1, &sw, "DepthwiseConv2DOptions.stride_w") < 0 ||
        opt_i32(L, o, 2, 1, &sh, "DepthwiseConv2DOptions.stride_h") < 0 ||
        opt_i32(L, o, 3, 1, &mult, "DepthwiseConv2DOptions.depth_multiplier") < 0 ||
        opt_i8(L, o, 4, 0, &act, "DepthwiseConv2DOptions.fused_activation_function") < 0 ||
        opt_i32(L, o, 5, 1, &dw, "DepthwiseConv2DOptions.dilation_w_factor") < 0 ||
        opt_i32(L, o, 6, 1, &dh, "DepthwiseConv2DOptions.dilation_h_factor") < 0 ||
        weights(L, op_in(L, o, 1), 4, &w, "weights") < 0 ||
        declared(L, op_in(L, o, 0), &x) < 0)
        return -1;
    pl_node_params p;
    if (conv_params(L, act, pad, sw, sh, dw, dh, &w, &p) < 0) return -1;
    if (w.dims[0] != 1)
        return fb_bad(&L->r, PL_ERR_FORMAT, "depthwise weights tensor %s has shape[0] %lld, expected 1",
                      w.name, (long long)w.dims[0]);
    /* The input's channel count: its declared shape, else from the
     * multiplier (some converters leave it 0). */
    int64_t cm = w.dims[3], cin = 0;
    if (x.rank == 4 && x.dims[3] > 0 && cm % x.dims[3] == 0) cin = x.dims[3];
    else if (mult > 0 && cm % mult == 0) cin = cm / mult;
    if (cin < 1 || cin > INT_MAX)
        return fb_bad(&L->r, PL_ERR_FORMAT, "cannot tell the input channels (weights %lld, multiplier %d)",
                      (long long)cm, (int)mult);
    p.conv.groups = (int)cin;
    int in[3];
    in[0] = use_tensor(L, op_in(L, o, 0));
    if (in[0] < 0) return -1;
    in[1] = depthwise_weights(L, op_in(L, o, 1), &w);
    if (in[1] < 0) return -1;
    in[2] = op_in(L, o, 2) < 0 ? -1 : use_tensor(L, op_in(L, o, 2));
    if (op_in(L, o, 2) >= 0 && in[2] < 0) return -1;
    return emit(L, PL_OP_CONV2D, in, 3, out0(L, o), &p, 1) ? 0 : -1;
}

static int op_fc(loader *L, const opctx *o)
{
    int8_t act, fmt, keep;
    tinfo w;
    if (need_io(L, o, 2, 3, 1) < 0 ||
        opt_i8(L, o, 0, 0, &act, "FullyConnectedOptions.fused_activation_function") < 0 ||
        opt_i8(L, o, 1, 0, &fmt, "FullyConnectedOptions.weights_format") < 0 ||
        opt_i8(L, o, 2, 0, &keep, "FullyConnectedOptions.keep_num_dims") < 0 ||
        weights(L, op_in(L, o, 1), 2, &w, "weights") < 0)
        return -1;
    if (fmt != 0)
        return fb_bad(&L->r, PL_ERR_UNSUPPORTED, "shuffled weights format %d is not supported", fmt);
    if (keep)
        return fb_bad(&L->r, PL_ERR_UNSUPPORTED, "keep_num_dims is not supported");
    pl_node_params p;
    pl_node_params_default(&p);
    if (map_act(L, act, &p) < 0) return -1;
    int in[3];
    if (use_inputs(L, o, 3, in) < 0) return -1;
    return emit(L, PL_OP_FULLY_CONNECTED, in, 3, out0(L, o), &p, 1) ? 0 : -1;
}

static int op_pool(loader *L, const opctx *o, pl_op op)
{
    int8_t pad, act;
    int32_t sw, sh, fw, fh;
    if (need_io(L, o, 1, 1, 1) < 0 ||
        opt_i8(L, o, 0, 0, &pad, "Pool2DOptions.padding") < 0 ||
        opt_i32(L, o, 1, 1, &sw, "Pool2DOptions.stride_w") < 0 ||
        opt_i32(L, o, 2, 1, &sh, "Pool2DOptions.stride_h") < 0 ||
        opt_i32(L, o, 3, 0, &fw, "Pool2DOptions.filter_width") < 0 ||
        opt_i32(L, o, 4, 0, &fh, "Pool2DOptions.filter_height") < 0 ||
        opt_i8(L, o, 5, 0, &act, "Pool2DOptions.fused_activation_function") < 0)
        return -1;
    pl_node_params p;
    pl_node_params_default(&p);
    if (map_act(L, act, &p) < 0 || map_padding(L, pad, &p.pool.padding) < 0 ||
        check_window(L, "stride", sw) < 0 || check_window(L, "stride", sh) < 0 ||
        check_window(L, "filter size", fw) < 0 || check_window(L, "filter size", fh) < 0)
        return -1;
    p.pool.kh = fh;
    p.pool.kw = fw;
    p.pool.stride_h = sh;
    p.pool.stride_w = sw;
    p.pool.count_include_pad = 0; /* TF averages over the valid pixels only */
    int in[1];
    if (use_inputs(L, o, 1, in) < 0) return -1;
    return emit(L, op, in, 1, out0(L, o), &p, 0) ? 0 : -1;
}

static int op_binary(loader *L, const opctx *o, pl_op op, int has_act)
{
    int8_t act = 0;
    if (need_io(L, o, 2, 2, 1) < 0) return -1;
    if (has_act && opt_i8(L, o, 0, 0, &act, "Options.fused_activation_function") < 0)
        return -1;
    pl_node_params p;
    pl_node_params_default(&p);
    if (map_act(L, act, &p) < 0) return -1;
    int in[2];
    if (use_inputs(L, o, 2, in) < 0) return -1;
    return emit(L, op, in, 2, out0(L, o), &p, 1) ? 0 : -1;
}

static int op_unary(loader *L, const opctx *o, pl_op op)
{
    if (need_io(L, o, 1, 1, 1) < 0) return -1;
    pl_node_params p;
    pl_node_params_default(&p);
    if (op == PL_OP_LEAKY_RELU &&
        opt_f32(L, o, 0, 0.0f, &p.alpha, "LeakyReluOptions.alpha") < 0)
        return -1;
    if (op == PL_OP_CLIP) { /* RELU_N1_TO_1 */
        p.clip.lo = -1.0f;
        p.clip.hi = 1.0f;
    }
    int in[1];
    if (use_inputs(L, o, 1, in) < 0) return -1;
    return emit(L, op, in, 1, out0(L, o), &p, 0) ? 0 : -1;
}

/* MEAN, SUM, REDUCE_MAX: axes from a constant; negative axes count from
 * the input's declared rank. */
static int op_reduce(loader *L, const opctx *o, pl_op op)
{
    int8_t keep;
    tinfo x;
    int64_t axes[PL_MAX_RANK * 2];
    int n_axes;
    if (need_io(L, o, 2, 2, 1) < 0 ||
        opt_i8(L, o, 0, 0, &keep, "ReducerOptions.keep_dims") < 0 ||
        declared(L, op_in(L, o, 0), &x) < 0 ||
        int_const(L, op_in(L, o, 1), axes, PL_MAX_RANK * 2, &n_axes, "reduction axes") < 0)
        return -1;
    pl_node_params p;
    pl_node_params_default(&p);
    p.reduce.keep_dims = keep != 0;
    for (int i = 0; i < n_axes; i++) {
        int64_t a = axes[i] < 0 ? axes[i] + x.rank : axes[i];
        if (a < 0 || a >= x.rank)
            return fb_bad(&L->r, PL_ERR_FORMAT, "reduction axis %lld is out of range for rank %d",
                          (long long)axes[i], x.rank);
        p.reduce.axes_mask |= 1 << a;
    }
    int in[1];
    if (use_inputs(L, o, 1, in) < 0) return -1;
    return emit(L, op, in, 1, out0(L, o), &p, 0) ? 0 : -1;
}

static int op_softmax(loader *L, const opctx *o)
{
    float beta;
    if (need_io(L, o, 1, 1, 1) < 0 ||
        opt_f32(L, o, 0, 1.0f, &beta, "SoftmaxOptions.beta") < 0)
        return -1;
    if (beta != 1.0f)
        return fb_bad(&L->r, PL_ERR_UNSUPPORTED, "softmax beta %g is not supported (only 1)", beta);
    pl_node_params p;
    pl_node_params_default(&p);
    p.axis = -1;
    int in[1];
    if (use_inputs(L, o, 1, in) < 0) return -1;
    return emit(L, PL_OP_SOFTMAX, in, 1, out0(L, o), &p, 0) ? 0 : -1;
}

static int op_l2norm(loader *L, const opctx *o)
{
    int8_t act;
    if (need_io(L, o, 1, 1, 1) < 0 ||
        opt_i8(L, o, 0, 0, &act, "L2NormOptions.fused_activation_function") < 0)
        return -1;
    pl_node_params p;
    pl_node_params_default(&p);
    if (map_act(L, act, &p) < 0) return -1;
    p.axis = -1;
    p.eps = 1e-6f; /* TFLite's kernel floors the norm's square at 1e-6 */
    int in[1];
    if (use_inputs(L, o, 1, in) < 0) return -1;
    return emit(L, PL_OP_L2_NORMALIZE, in, 1, out0(L, o), &p, 0) ? 0 : -1;
}

/* New shape from the shape input, else the options, else the output's
 * declared shape. A kept leading dimension becomes -1 (see top). */
static int op_reshape(loader *L, const opctx *o)
{
    int64_t shape[PL_MAX_RANK];
    int rank = -1;
    tinfo x, y;
    if (need_io(L, o, 1, 2, 1) < 0 || declared(L, op_in(L, o, 0), &x) < 0 ||
        declared(L, out0(L, o), &y) < 0)
        return -1;
    if (op_in(L, o, 1) >= 0) {
        if (int_const(L, op_in(L, o, 1), shape, PL_MAX_RANK, &rank, "new shape") < 0)
            return -1;
    } else if (o->has_opts) {
        fbv v;
        if (fb_vec(&L->r, &o->opts, 0, 4, &v, "ReshapeOptions.new_shape") < 0) return -1;
        if (v.len > PL_MAX_RANK)
            return fb_bad(&L->r, PL_ERR_UNSUPPORTED, "new shape has rank %u", v.len);
        if (v.len) {
            rank = (int)v.len;
            for (int i = 0; i < rank; i++) shape[i] = vec_i32(&L->r, &v, (uint32_t)i);
        }
    }
    if (rank < 0) {
        rank = y.rank;
        memcpy(shape, y.dims, sizeof shape);
    }
    int unknown = 0;
    for (int i = 0; i < rank; i++) {
        if (shape[i] < -1 || shape[i] > TFLITE_MAX_NUMEL)
            return fb_bad(&L->r, PL_ERR_FORMAT, "new shape[%d] is %lld", i, (long long)shape[i]);
        unknown += shape[i] == -1;
    }
    if (unknown > 1)
        return fb_bad(&L->r, PL_ERR_FORMAT, "new shape has %d dimensions of -1", unknown);
    if (!unknown && rank >= 1 && x.rank >= 1 && shape[0] == x.dims[0]) shape[0] = -1;
    pl_node_params p;
    pl_node_params_default(&p);
    p.reshape.rank = rank;
    memcpy(p.reshape.dims, shape, sizeof shape);
    int in[1];
    if (use_inputs(L, o, 1, in) < 0) return -1;
    return emit(L, PL_OP_RESHAPE, in, 1, out0(L, o), &p, 0) ? 0 : -1;
}

static int op_concat(loader *L, const opctx *o)
{
    int32_t axis;
    int8_t act;
    if (o->in.len < 1 || o->in.len > 64 || o->out.len != 1)
        return fb_bad(&L->r, PL_ERR_FORMAT, "has %u inputs and %u outputs", o->in.len, o->out.len);
    if (opt_i32(L, o, 0, 0, &axis, "ConcatenationOptions.axis") < 0 ||
        opt_i8(L, o, 1, 0, &act, "ConcatenationOptions.fused_activation_function") < 0)
        return -1;
    if (axis < -PL_MAX_RANK || axis >= PL_MAX_RANK)
        return fb_bad(&L->r, PL_ERR_FORMAT, "axis %d is out of range", (int)axis);
    pl_node_params p;
    pl_node_params_default(&p);
    if (map_act(L, act, &p) < 0) return -1;
    p.axis = axis;
    int in[64];
    for (uint32_t i = 0; i < o->in.len; i++) {
        int t = op_in(L, o, (int)i);
        if (t < 0) return fb_bad(&L->r, PL_ERR_FORMAT, "input %u is missing", i);
        if ((in[i] = use_tensor(L, t)) < 0) return -1;
    }
    return emit(L, PL_OP_CONCAT, in, (int)o->in.len, out0(L, o), &p, 0) ? 0 : -1;
}

static int op_pad(loader *L, const opctx *o, int v2)
{
    int64_t pads[PL_MAX_RANK * 2];
    int n;
    if (need_io(L, o, 2, v2 ? 3 : 2, 1) < 0 ||
        int_const(L, op_in(L, o, 1), pads, PL_MAX_RANK * 2, &n, "paddings") < 0)
        return -1;
    if (n % 2)
        return fb_bad(&L->r, PL_ERR_FORMAT, "paddings has %d values, expected rank x 2", n);
    pl_node_params p;
    pl_node_params_default(&p);
    p.pad.rank = n / 2;
    for (int i = 0; i < n; i++)
        if (pads[i] < 0 || pads[i] > 65536)
            return fb_bad(&L->r, PL_ERR_FORMAT, "padding %lld is out of range", (long long)pads[i]);
    for (int i = 0; i < n / 2; i++) {
        p.pad.before[i] = (int)pads[2 * i];
        p.pad.after[i] = (int)pads[2 * i + 1];
    }
    if (v2 && op_in(L, o, 2) >= 0) {
        tinfo c;
        if (read_tensor(L, op_in(L, o, 2), &c) < 0) return -1;
        if (!c.data || c.type != TT_FLOAT32 || c.bytes != 4)
            return fb_bad(&L->r, PL_ERR_UNSUPPORTED, "the pad value must be one float32 constant");
        memcpy(&p.pad.value, c.data, 4);
    }
    int in[1];
    if (use_inputs(L, o, 1, in) < 0) return -1;
    return emit(L, PL_OP_PAD, in, 1, out0(L, o), &p, 0) ? 0 : -1;
}

static int op_transpose(loader *L, const opctx *o)
{
    int64_t perm[PL_MAX_RANK];
    int n;
    if (need_io(L, o, 2, 2, 1) < 0 ||
        int_const(L, op_in(L, o, 1), perm, PL_MAX_RANK, &n, "permutation") < 0)
        return -1;
    pl_node_params p;
    pl_node_params_default(&p);
    p.transpose.rank = n;
    int seen = 0;
    for (int i = 0; i < n; i++) {
        if (perm[i] < 0 || perm[i] >= n || (seen & (1 << perm[i])))
            return fb_bad(&L->r, PL_ERR_FORMAT, "permutation is not a permutation of 0..%d", n - 1);
        seen |= 1 << perm[i];
        p.transpose.perm[i] = (int)perm[i];
    }
    int in[1];
    if (use_inputs(L, o, 1, in) < 0) return -1;
    return emit(L, PL_OP_TRANSPOSE, in, 1, out0(L, o), &p, 0) ? 0 : -1;
}

/* DEQUANTIZE of a float16 constant: the output is a float32 constant. */
static int op_dequantize(loader *L, const opctx *o)
{
    tinfo x, y;
    int xi = op_in(L, o, 0), yi;
    if (need_io(L, o, 1, 1, 1) < 0 || read_tensor(L, xi, &x) < 0) return -1;
    yi = out0(L, o);
    if (read_tensor(L, yi, &y) < 0) return -1;
    if (!x.data || x.type != TT_FLOAT16)
        return fb_bad(&L->r, PL_ERR_UNSUPPORTED, "only float16 constants can be dequantized (tensor %d is %s%s)",
                      xi, type_name(x.type), x.data ? "" : ", not constant");
    if (y.data || L->gidx[yi] >= 0)
        return fb_bad(&L->r, PL_ERR_FORMAT, "tensor %d (%s) is written twice or is a constant", yi, y.name);
    snprintf(x.name, sizeof x.name, "%s", y.name);
    return add_const(L, yi, &x) < 0 ? -1 : 0;
}

static int map_op(loader *L, const opctx *o)
{
    switch (o->code) {
    case B_CONV_2D: return op_conv(L, o);
    case B_DEPTHWISE_CONV_2D: return op_depthwise(L, o);
    case B_FULLY_CONNECTED: return op_fc(L, o);
    case B_MAX_POOL_2D: return op_pool(L, o, PL_OP_MAX_POOL);
    case B_AVERAGE_POOL_2D: return op_pool(L, o, PL_OP_AVG_POOL);
    case B_ADD: return op_binary(L, o, PL_OP_ADD, 1);
    case B_SUB: return op_binary(L, o, PL_OP_SUB, 1);
    case B_MUL: return op_binary(L, o, PL_OP_MUL, 1);
    case B_DIV: return op_binary(L, o, PL_OP_DIV, 1);
    case B_MAXIMUM: return op_binary(L, o, PL_OP_MAXIMUM, 0);
    case B_MINIMUM: return op_binary(L, o, PL_OP_MINIMUM, 0);
    case B_POW: return op_binary(L, o, PL_OP_POW, 0);
    case B_SQUARED_DIFFERENCE: return op_binary(L, o, PL_OP_SQUARED_DIFF, 0);
    case B_PRELU: return op_binary(L, o, PL_OP_PRELU, 0);
    case B_NEG: return op_unary(L, o, PL_OP_NEG);
    case B_ABS: return op_unary(L, o, PL_OP_ABS);
    case B_EXP: return op_unary(L, o, PL_OP_EXP);
    case B_LOG: return op_unary(L, o, PL_OP_LOG);
    case B_SQRT: return op_unary(L, o, PL_OP_SQRT);
    case B_RSQRT: return op_unary(L, o, PL_OP_RSQRT);
    case B_RELU: return op_unary(L, o, PL_OP_RELU);
    case B_RELU6: return op_unary(L, o, PL_OP_RELU6);
    case B_RELU_N1_TO_1: return op_unary(L, o, PL_OP_CLIP);
    case B_LEAKY_RELU: return op_unary(L, o, PL_OP_LEAKY_RELU);
    case B_LOGISTIC: return op_unary(L, o, PL_OP_SIGMOID);
    case B_TANH: return op_unary(L, o, PL_OP_TANH);
    case B_REDUCE_MAX: return op_reduce(L, o, PL_OP_REDUCE_MAX);
    case B_SUM: return op_reduce(L, o, PL_OP_REDUCE_SUM);
    case B_MEAN: return op_reduce(L, o, PL_OP_REDUCE_MEAN);
    case B_SOFTMAX: return op_softmax(L, o);
    case B_L2_NORMALIZATION: return op_l2norm(L, o);
    case B_RESHAPE: return op_reshape(L, o);
    case B_CONCATENATION: return op_concat(L, o);
    case B_PAD: return op_pad(L, o, 0);
    case B_PADV2: return op_pad(L, o, 1);
    case B_TRANSPOSE: return op_transpose(L, o);
    case B_DEQUANTIZE: return op_dequantize(L, o);
    default:
        L->r.ctx[0] = '\0';
        return fb_bad(&L->r, PL_ERR_UNSUPPORTED, "operator %d (%s) is not supported",
                      o->index, pl_tflite_builtin_name(o->code));
    }
}

/* Read operator i's table, then map it. */
static int load_op(loader *L, uint32_t i)
{
    fb *r = &L->r;
    fbt t;
    opctx o;
    uint32_t oc;
    int8_t opt_type;
    memset(&o, 0, sizeof o);
    o.index = (int)i;
    snprintf(r->ctx, sizeof r->ctx, "operator %u", i);
    if (fb_vec_table(r, &L->ops, i, &t, "SubGraph.operators") < 0 ||
        fb_u32(r, &t, OP_OPCODE, 0, &oc, "Operator.opcode_index") < 0)
        return -1;
    if (oc >= L->n_codes)
        return fb_bad(r, PL_ERR_FORMAT, "Operator.opcode_index %u is out of range (%u codes)",
                      oc, L->n_codes);
    o.code = L->codes[oc];
    snprintf(r->ctx, sizeof r->ctx, "operator %u (%s)", i, pl_tflite_builtin_name(o.code));
    if (fb_vec(r, &t, OP_INPUTS, 4, &o.in, "Operator.inputs") < 0 ||
        fb_vec(r, &t, OP_OUTPUTS, 4, &o.out, "Operator.outputs") < 0 ||
        fb_i8(r, &t, OP_OPTIONS_TYPE, 0, &opt_type, "Operator.builtin_options_type") < 0)
        return -1;
    size_t at;
    int rc = fb_ref(r, &t, OP_OPTIONS, &at, "Operator.builtin_options");
    if (rc < 0) return -1;
    if (rc > 0) {
        if (fb_table(r, at, &o.opts, "Operator.builtin_options") < 0) return -1;
        o.has_opts = 1;
    }
    if (o.out.len < 1)
        return fb_bad(r, PL_ERR_FORMAT, "has no outputs");
    for (uint32_t k = 0; k < o.out.len; k++) {
        int32_t ti = vec_i32(r, &o.out, k);
        if (ti < 0 || (uint32_t)ti >= L->tensors.len)
            return fb_bad(r, PL_ERR_FORMAT, "Operator.outputs[%u] = %d is out of range (%u tensors)",
                          k, (int)ti, L->tensors.len);
    }
    for (uint32_t k = 0; k < o.in.len; k++) {
        int32_t ti = vec_i32(r, &o.in, k);
        if (ti < -1 || ti >= (int32_t)L->tensors.len)
            return fb_bad(r, PL_ERR_FORMAT, "Operator.inputs[%u] = %d is out of range (%u tensors)",
                          k, (int)ti, L->tensors.len);
    }
    return map_op(L, &o);
}

/* Builtin code per operator code: max(deprecated_builtin_code,
 * builtin_code), because newer files keep 127 in the deprecated byte and
 * older files leave the int field at 0. */
static int load_opcodes(loader *L, const fbt *model)
{
    fb *r = &L->r;
    fbv v;
    if (fb_vec(r, model, MODEL_OPCODES, 4, &v, "Model.operator_codes") < 0) return -1;
    L->n_codes = v.len;
    L->codes = calloc(v.len ? v.len : 1, sizeof *L->codes);
    if (!L->codes) return fb_bad(r, PL_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < v.len; i++) {
        fbt t;
        int8_t dep;
        int32_t code;
        snprintf(r->ctx, sizeof r->ctx, "operator code %u", i);
        if (fb_vec_table(r, &v, i, &t, "Model.operator_codes") < 0 ||
            fb_i8(r, &t, OPCODE_DEPRECATED, 0, &dep, "OperatorCode.deprecated_builtin_code") < 0 ||
            fb_i32(r, &t, OPCODE_BUILTIN, 0, &code, "OperatorCode.builtin_code") < 0)
            return -1;
        L->codes[i] = code > dep ? code : dep;
        if (L->codes[i] < 0)
            return fb_bad(r, PL_ERR_FORMAT, "builtin code %d is negative", (int)L->codes[i]);
    }
    r->ctx[0] = '\0';
    return 0;
}

/* The subgraph's inputs become graph inputs with their declared shapes. */
static int load_io(loader *L, const fbt *sg, int outputs)
{
    fb *r = &L->r;
    fbv v;
    const char *what = outputs ? "SubGraph.outputs" : "SubGraph.inputs";
    if (fb_vec(r, sg, outputs ? SUBGRAPH_OUTPUTS : SUBGRAPH_INPUTS, 4, &v, what) < 0)
        return -1;
    uint32_t cap = outputs ? 16 : 8;
    if (v.len < 1 || v.len > cap)
        return fb_bad(r, PL_ERR_UNSUPPORTED, "%s: %u entries, expected 1..%u", what, v.len, cap);
    for (uint32_t i = 0; i < v.len; i++) {
        int t = vec_i32(r, &v, i);
        tinfo ti;
        if (read_tensor(L, t, &ti) < 0) return -1;
        if (outputs) {
            if (L->gidx[t] < 0)
                return fb_bad(r, PL_ERR_FORMAT, "output tensor %d (%s) is never written", t, ti.name);
            if (pl_graph_add_output(L->g, L->gidx[t]) < 0)
                return fb_bad(r, PL_ERR_FORMAT, "output tensor %d (%s) cannot be an output", t, ti.name);
            continue;
        }
        if (ti.data)
            return fb_bad(r, PL_ERR_FORMAT, "input tensor %d (%s) is a constant", t, ti.name);
        int gi = L->gidx[t] >= 0 ? L->gidx[t] : def_tensor(L, t);
        if (gi < 0) return -1;
        if (pl_graph_add_input(L->g, gi, ti.rank, ti.dims) < 0)
            return fb_bad(r, PL_ERR_FORMAT, "input tensor %d (%s) cannot be an input", t, ti.name);
    }
    return 0;
}

static int load_model(loader *L)
{
    fb *r = &L->r;
    fbt model, sg;
    fbv subgraphs;
    uint32_t version;
    if (r->n < 8)
        return fb_bad(r, PL_ERR_FORMAT, "file is %zu bytes, too short for a TFLite model", r->n);
    if (memcmp(r->p + 4, "TFL3", 4) != 0)
        return fb_bad(r, PL_ERR_FORMAT, "not a TFLite model (file identifier is not \"TFL3\")");
    if (fb_table(r, rd_u32(r, 0), &model, "Model") < 0 ||
        fb_u32(r, &model, MODEL_VERSION, 0, &version, "Model.version") < 0)
        return -1;
    if (version != 3)
        return fb_bad(r, PL_ERR_UNSUPPORTED, "schema version %u is not supported (only 3)", version);
    if (fb_vec(r, &model, MODEL_BUFFERS, 4, &L->buffers, "Model.buffers") < 0 ||
        fb_vec(r, &model, MODEL_SUBGRAPHS, 4, &subgraphs, "Model.subgraphs") < 0 ||
        load_opcodes(L, &model) < 0)
        return -1;
    if (subgraphs.len < 1) return fb_bad(r, PL_ERR_FORMAT, "Model.subgraphs is empty");
    if (fb_vec_table(r, &subgraphs, 0, &sg, "Model.subgraphs") < 0 ||
        fb_vec(r, &sg, SUBGRAPH_TENSORS, 4, &L->tensors, "SubGraph.tensors") < 0 ||
        fb_vec(r, &sg, SUBGRAPH_OPERATORS, 4, &L->ops, "SubGraph.operators") < 0)
        return -1;
    L->gidx = malloc((L->tensors.len ? L->tensors.len : 1) * sizeof *L->gidx);
    L->dwidx = malloc((L->tensors.len ? L->tensors.len : 1) * sizeof *L->dwidx);
    if (!L->gidx || !L->dwidx) return fb_bad(r, PL_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < L->tensors.len; i++) L->gidx[i] = L->dwidx[i] = -1;
    if (load_io(L, &sg, 0) < 0) return -1;
    for (uint32_t i = 0; i < L->ops.len; i++)
        if (load_op(L, i) < 0) return -1;
    r->ctx[0] = '\0';
    return load_io(L, &sg, 1);
}

pl_graph *pl_tflite_load_memory(const uint8_t *data, size_t len,
                                const char *name, pl_error *err)
{
    loader L;
    memset(&L, 0, sizeof L);
    L.r.p = data;
    L.r.n = data ? len : 0;
    L.r.name = name ? name : "(tflite)";
    L.r.err = err;
    L.g = pl_graph_new(L.r.name);
    if (!L.g) {
        pl_fail(err, PL_ERR_NOMEM, "%s: out of memory", L.r.name);
        return NULL;
    }
    int rc = load_model(&L);
    free(L.codes);
    free(L.gidx);
    free(L.dwidx);
    if (rc == 0 && pl_graph_validate(L.g, err) != PL_OK) rc = -1;
    if (rc < 0) {
        pl_graph_free(L.g);
        return NULL;
    }
    return L.g;
}

pl_graph *pl_tflite_load(const char *path, pl_error *err)
{
    uint8_t *data;
    size_t len;
    if (pl_read_file(path, TFLITE_MAX_FILE, &data, &len, err) != PL_OK) return NULL;
    pl_graph *g = pl_tflite_load_memory(data, len, path, err);
    free(data);
    return g;
}
