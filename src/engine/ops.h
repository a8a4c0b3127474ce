/* ops.h — the operators' reference implementations (engine-internal).
 *
 * Owns: what each pl_op computes, in plain C on NHWC float32, and how an
 * op's work splits into independent tasks for the thread pool. The session
 * (session.c) resolves every input to a data pointer, then calls
 * pl_op_run_ref for task ranges; conv and fc go through kernels.h so that
 * fast kernels and this reference agree by construction.
 *
 * Input pointers: in[k] is the data of node->inputs[k] (NULL for an absent
 * optional input). A fused PReLU slope (the last input) must hold one value
 * per output channel: the session expands a single shared alpha first.
 */
#ifndef PL_OPS_H
#define PL_OPS_H

#include <math.h>

#include "engine/graph.h"
#include "engine/kernels.h"

/* How many independent pieces of work the node splits into (>= 1):
 * output rows for conv/pool, batch rows for fc, blocks of elements for
 * element-wise ops, 1 for the rest. */
int pl_op_n_tasks(const pl_graph *g, const pl_node *n);

/* Run tasks [t0, t1) of node n; out is the output's data. Shapes come from
 * the graph's tensors (after pl_graph_infer_shapes). */
void pl_op_run_ref(const pl_graph *g, const pl_node *n, const float *const *in,
                   float *out, int t0, int t1);

/* The kernel-level description of a CONV2D node, and the fused epilogue
 * of a node (slope = its PReLU slope data, or NULL). */
void pl_op_conv_shape(const pl_graph *g, const pl_node *n, pl_conv_shape *s);
void pl_op_epilogue(const pl_node *n, const float *slope, pl_epilogue *ep);

/* TF StridedSlice on one axis of size dim: clamps *begin, normalises
 * *stride (0 -> 1) and returns how many elements the slice takes. */
int64_t pl_slice_axis(int64_t dim, int64_t *begin, int64_t end, int64_t *stride);

/* The op's element-wise activation, as kernels' pl_apply_act. */
static inline float pl_act_value(float v, const pl_node_params *p, const float *slope,
                                 int64_t channel)
{
    switch (p->act) {
    case PL_ACT_NONE: return v;
    case PL_ACT_RELU: return v > 0.0f ? v : 0.0f;
    case PL_ACT_RELU6: return v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v);
    case PL_ACT_LEAKY: return v >= 0.0f ? v : v * p->alpha;
    case PL_ACT_PRELU: return v >= 0.0f ? v : v * slope[channel];
    case PL_ACT_SIGMOID: return 1.0f / (1.0f + expf(-v));
    case PL_ACT_TANH: return tanhf(v);
    case PL_ACT_CLIP: return v < p->clip.lo ? p->clip.lo : (v > p->clip.hi ? p->clip.hi : v);
    }
    return v;
}

#endif
