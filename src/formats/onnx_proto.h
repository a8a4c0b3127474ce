/* onnx_proto.h — decoding the ONNX protobuf into plain structs (internal to
 * the ONNX reader; onnx.c turns these into an engine graph).
 *
 * Owns: the protobuf wire format (varint, fixed32/64, length-delimited) and
 * the few ONNX messages a float inference graph needs — ModelProto,
 * GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto — with
 * field numbers from onnx/onnx.proto. Unknown fields are skipped, as
 * protobuf requires. Does not own: what an operator means.
 *
 * Strings (ox_str) point into the caller's buffer, which must outlive the
 * ox_model. Repeated numbers are copied into malloc'd arrays owned by the
 * model. Every length, count and offset is checked against the buffer;
 * a failure names the file, the message path ("graph.node[12] 'Conv_12'")
 * and the byte offset.
 */
#ifndef PL_ONNX_PROTO_H
#define PL_ONNX_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

#define OX_MAX_DIMS 8

/* A string or byte run inside the file (not NUL-terminated). */
typedef struct ox_str {
    const char *p;
    size_t n;
} ox_str;

/* onnx.TensorProto.DataType values this reader knows. */
enum {
    OX_FLOAT = 1, OX_UINT8 = 2, OX_INT8 = 3, OX_INT32 = 6, OX_INT64 = 7,
    OX_BOOL = 9, OX_FLOAT16 = 10, OX_DOUBLE = 11
};

typedef struct ox_tensor {
    ox_str name;
    int data_type;
    int rank;
    int64_t dims[OX_MAX_DIMS];
    ox_str raw;             /* raw_data: little-endian, data_type sized */
    float *f;   size_t nf;  /* float_data                                 */
    int64_t *i64; size_t ni64; /* int64_data                              */
    int32_t *i32; size_t ni32; /* int32_data (also bool, int8, fp16 bits) */
    double *d;  size_t nd;  /* double_data                                */
    int external;           /* data_location == EXTERNAL (unsupported)    */
} ox_tensor;

/* onnx.AttributeProto.AttributeType values. */
enum {
    OX_ATTR_FLOAT = 1, OX_ATTR_INT = 2, OX_ATTR_STRING = 3, OX_ATTR_TENSOR = 4,
    OX_ATTR_GRAPH = 5, OX_ATTR_FLOATS = 6, OX_ATTR_INTS = 7, OX_ATTR_STRINGS = 8
};

typedef struct ox_attr {
    ox_str name;
    int type;               /* OX_ATTR_*, 0 if the file did not say     */
    float f;
    int64_t i;
    ox_str s;
    ox_tensor *t;           /* TENSOR (owned)                            */
    float *floats; size_t n_floats;
    int64_t *ints; size_t n_ints;
    int has_f, has_i, has_s;
} ox_attr;

typedef struct ox_node {
    ox_str name, op_type, domain;
    ox_str *inputs;  size_t n_inputs;  /* "" = optional input absent   */
    ox_str *outputs; size_t n_outputs;
    ox_attr *attrs;  size_t n_attrs;
} ox_node;

/* ValueInfoProto reduced to what a graph boundary needs. */
typedef struct ox_value_info {
    ox_str name;
    int elem_type;          /* 0 when absent                              */
    int rank;               /* -1 when the shape is absent                */
    int64_t dims[OX_MAX_DIMS]; /* -1 = symbolic / unknown                 */
} ox_value_info;

typedef struct ox_graph {
    ox_str name;
    ox_node *nodes;        size_t n_nodes;
    ox_tensor *inits;      size_t n_inits;
    ox_value_info *inputs; size_t n_inputs;
    ox_value_info *outputs; size_t n_outputs;
} ox_graph;

typedef struct ox_model {
    int64_t ir_version;
    int64_t opset;          /* version of the default ("" / ai.onnx) domain; 0 if absent */
    int has_graph;
    ox_graph graph;
} ox_model;

/* Decode data[0..len) into *m (zeroed first). `name` is used in messages.
 * On failure *m may be partly filled: always call ox_model_free. */
pl_status ox_decode_model(const uint8_t *data, size_t len, const char *name,
                          ox_model *m, pl_error *err);
void ox_model_free(ox_model *m);

/* Helpers for the converter. */
int ox_str_eq(ox_str s, const char *lit);
const ox_attr *ox_node_attr(const ox_node *n, const char *name);

#endif
