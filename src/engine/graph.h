/* graph.h — the engine's model of a neural network: tensors and nodes.
 *
 * A model reader (src/formats/) turns a file into a pl_graph with the
 * builder calls below; a pl_session (session.h) then plans memory for one
 * input shape and runs it. The graph owns every tensor name and every
 * constant's data; nodes are kept in topological order (readers add them
 * in the order the file lists them, which all three formats guarantee).
 *
 * Conventions, which every reader must honour:
 *   - float32 only. Integer constants in a file (shapes, axes, indices)
 *     are resolved by the reader into node parameters at load time.
 *   - 4-D activations are NHWC. Readers of NCHW formats (ONNX) convert
 *     weights and insert TRANSPOSE nodes at the graph boundary so that the
 *     graph's declared inputs and outputs keep the file's own layout.
 *   - Convolution weights are OHWI: [Cout, KH, KW, Cin/groups]; a depthwise
 *     convolution is groups == Cin (weights [Cin*mult, KH, KW, 1]).
 *   - FULLY_CONNECTED weights are [Nout, K]; the input is flattened to
 *     [batch, K] where batch is the first dimension (when the first
 *     dimension does not fit, TFLite's rule: batch = element count / K).
 *   - Activation shapes need not be known when building: shape inference
 *     (pl_graph_infer_shapes) derives them from the input shape. A dim of
 *     -1 in a graph input means "any".
 */
#ifndef PL_GRAPH_H
#define PL_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

#define PL_MAX_RANK 6

typedef enum pl_op {
    /* compute-heavy */
    PL_OP_CONV2D,          /* in: x, w, [b], [prelu slope]  params: conv   */
    PL_OP_FULLY_CONNECTED, /* in: x, w[N,K], [b], [slope]   params: fc     */
    PL_OP_MAX_POOL,        /* in: x                         params: pool   */
    PL_OP_AVG_POOL,        /* in: x                         params: pool   */
    /* element-wise binary, numpy broadcasting          params: act (fused)  */
    PL_OP_ADD,
    PL_OP_SUB,
    PL_OP_MUL,
    PL_OP_DIV,
    PL_OP_MAXIMUM,
    PL_OP_MINIMUM,
    PL_OP_POW,
    PL_OP_SQUARED_DIFF,
    /* element-wise unary                                                    */
    PL_OP_NEG,
    PL_OP_ABS,
    PL_OP_EXP,
    PL_OP_LOG,
    PL_OP_SQRT,
    PL_OP_RSQRT,
    PL_OP_RELU,
    PL_OP_RELU6,
    PL_OP_CLIP,            /* params: clip.lo, clip.hi                      */
    PL_OP_LEAKY_RELU,      /* params: alpha                                 */
    PL_OP_SIGMOID,
    PL_OP_TANH,
    PL_OP_PRELU,           /* in: x, slope (broadcast like a binary op)     */
    PL_OP_AFFINE,          /* in: x, scale[C], shift[C]: y = x*s+b on the last axis
                              (batch norm after folding its statistics)     */
    /* reductions and normalisation                                          */
    PL_OP_REDUCE_MEAN,     /* params: reduce                                */
    PL_OP_REDUCE_MAX,
    PL_OP_REDUCE_SUM,
    PL_OP_SOFTMAX,         /* params: axis (softmax over that axis)         */
    PL_OP_L2_NORMALIZE,    /* params: axis, eps                             */
    /* data movement                                                         */
    PL_OP_RESHAPE,         /* params: reshape.dims (-1 allowed once, 0 = copy
                              the input's dim). Batch rule: when the count
                              does not fit, rank >= 2 and dims[0] is a fixed
                              number, dims[0] becomes the input's first dim
                              (graphs converted at a fixed batch, e.g.
                              MobileFaceNet's RESHAPE [2,192] run at batch 1) */
    PL_OP_TRANSPOSE,       /* params: transpose.perm                        */
    PL_OP_CONCAT,          /* in: n tensors  params: axis                    */
    PL_OP_PAD,             /* params: pad.before/after per axis, value      */
    PL_OP_SLICE,           /* params: slice.begin/end/stride per axis, TF
                              StridedSlice rules: negative = from the end,
                              then clamped to the axis (INT64_MAX / INT64_MIN
                              = "to the end" / "to the start"); axes past
                              slice.rank are taken whole; stride 0 = 1      */
    PL_OP_IDENTITY,
    PL_OP_COUNT
} pl_op;

typedef enum pl_act {
    PL_ACT_NONE = 0,
    PL_ACT_RELU,
    PL_ACT_RELU6,
    PL_ACT_LEAKY,   /* uses node->params.alpha                             */
    PL_ACT_PRELU,   /* slope is the op's last input, one value per channel */
    PL_ACT_SIGMOID,
    PL_ACT_TANH,
    PL_ACT_CLIP     /* uses node->params.clip                              */
} pl_act;

typedef enum pl_padding {
    PL_PAD_EXPLICIT = 0, /* pads[] as given (ONNX)                               */
    PL_PAD_VALID,        /* no padding                                           */
    PL_PAD_SAME          /* TF SAME: total = max((ceil(in/s)-1)*s + (k-1)*d + 1 - in, 0),
                            top/left = total/2, the odd pixel at bottom/right    */
} pl_padding;

typedef struct pl_conv_params {
    int kh, kw;
    int stride_h, stride_w;
    int dilation_h, dilation_w;
    int groups;
    pl_padding padding;
    int pad_top, pad_left, pad_bottom, pad_right; /* PL_PAD_EXPLICIT only;
                                                      resolved for the others
                                                      by shape inference  */
} pl_conv_params;

typedef struct pl_pool_params {
    int kh, kw;
    int stride_h, stride_w;
    pl_padding padding;
    int pad_top, pad_left, pad_bottom, pad_right;
    int count_include_pad; /* AVG_POOL: divide by kh*kw even at borders   */
    int global;            /* pool over the whole H×W                      */
} pl_pool_params;

typedef struct pl_node_params {
    pl_act act;             /* fused activation (conv, fc, binary ops)      */
    float alpha;            /* LEAKY_RELU / PL_ACT_LEAKY slope              */
    struct { float lo, hi; } clip;
    int axis;               /* SOFTMAX, CONCAT, L2_NORMALIZE; negative counts from the end */
    float eps;              /* L2_NORMALIZE                                 */
    pl_conv_params conv;
    pl_pool_params pool;
    struct { int axes_mask; int keep_dims; } reduce; /* bit i: reduce axis i */
    struct { int rank; int64_t dims[PL_MAX_RANK]; } reshape;
    struct { int rank; int perm[PL_MAX_RANK]; } transpose;
    struct { int rank; int before[PL_MAX_RANK], after[PL_MAX_RANK]; float value; } pad;
    struct { int rank; int64_t begin[PL_MAX_RANK], end[PL_MAX_RANK], stride[PL_MAX_RANK]; } slice;
} pl_node_params;

typedef struct pl_tensor {
    char *name;
    int rank;
    int64_t dims[PL_MAX_RANK]; /* for activations: filled by shape inference */
    float *data;               /* constants: owned by the graph; else NULL   */
    int is_const;
    /* set by the memory planner (session.c), not by readers */
    size_t arena_offset;
    int first_use, last_use;
} pl_tensor;

typedef struct pl_node {
    pl_op op;
    char *name;           /* for error messages and layer-by-layer dumps  */
    int n_inputs, n_outputs;
    int *inputs;          /* tensor indices; -1 = absent optional input   */
    int *outputs;
    pl_node_params params;
} pl_node;

typedef struct pl_graph {
    pl_tensor *tensors;
    int n_tensors, cap_tensors;
    pl_node *nodes;
    int n_nodes, cap_nodes;
    int inputs[8], n_inputs;
    int outputs[16], n_outputs;
    /* The inputs' shapes as declared by the file (-1 = any); tensors[].dims
     * of an input holds the shape of the current run instead. */
    int input_rank[8];
    int64_t input_dims[8][PL_MAX_RANK];
    char *source;         /* file it came from, for messages              */
} pl_graph;

/* ---- building (readers) -------------------------------------------------- */
pl_graph *pl_graph_new(const char *source);
void pl_graph_free(pl_graph *g);

/* An activation tensor; shape filled later. Returns its index, or -1 when
 * out of memory. */
int pl_graph_add_tensor(pl_graph *g, const char *name);
/* A constant. The graph takes ownership of data (malloc'd, dims product
 * floats). Returns its index, or -1 (data is freed). */
int pl_graph_add_const(pl_graph *g, const char *name, int rank,
                       const int64_t *dims, float *data);
/* Append a node; inputs/outputs are copied. Returns the node (owned by the
 * graph; valid until the next add), or NULL when out of memory. */
pl_node *pl_graph_add_node(pl_graph *g, pl_op op, const char *name,
                           const int *inputs, int n_inputs,
                           const int *outputs, int n_outputs);
/* Declare a graph input with its declared shape (-1 = any) or an output. */
int pl_graph_add_input(pl_graph *g, int tensor, int rank, const int64_t *dims);
int pl_graph_add_output(pl_graph *g, int tensor);

int pl_graph_find_tensor(const pl_graph *g, const char *name);
/* Index of the node whose output is tensor t, or -1 (input or constant). */
int pl_graph_producer(const pl_graph *g, int t);
/* How many node inputs read tensor t (graph outputs count as one more). */
int pl_graph_n_consumers(const pl_graph *g, int t);
int64_t pl_tensor_numel(const pl_tensor *t);
const char *pl_op_name(pl_op op);

/* Defaults set by pl_graph_add_node, so readers set only what the file
 * says: conv/pool strides, dilations and groups 1; clip (-inf, inf);
 * l2 eps 1e-12; everything else 0 (act NONE, padding EXPLICIT 0). */
void pl_node_params_default(pl_node_params *p);

/* ---- analysis and rewrites (engine) --------------------------------------- */
/* Given the graph inputs' concrete shapes (already in tensors[in].dims),
 * compute every activation's shape and resolve SAME padding. Fails with
 * a message naming the node when shapes do not fit. */
pl_status pl_graph_infer_shapes(pl_graph *g, pl_error *err);

/* Load-time rewrites: decomposed PReLU and softmax patterns become single
 * ops, AFFINE/batch-norm after a convolution is folded into it, activations
 * are fused into the producing conv/fc/add, dead nodes removed. */
pl_status pl_graph_optimize(pl_graph *g, pl_error *err);

/* Check structure: indices in range, arity per op, constants where
 * required. Readers call it before returning, so hostile files are caught
 * here even when the reader missed something. */
pl_status pl_graph_validate(const pl_graph *g, pl_error *err);

#endif
