/* kernels.h — the heavy kernels, and how the engine picks one.
 *
 * Every kernel has a plain C reference (kernels_ref.c) that defines what it
 * computes. Fast versions (AVX2+FMA, AVX-512: kernels_simd.h) give the same
 * results to float rounding (sigmoid/tanh: to ~2e-7 relative, vector
 * approximations of libm's) and are chosen at run time from the CPU's
 * features; a CPU without them uses the reference. (oneDNN was measured
 * and is not used: docs/BENCHMARKS.md, "Kernels".) Tensors are NHWC,
 * weights OHWI, as in graph.h. Kernels work on one batch item range and a
 * range of output rows so the thread pool can split them.
 */
#ifndef PL_KERNELS_H
#define PL_KERNELS_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/graph.h"

typedef struct pl_conv_shape {
    int n, in_h, in_w, in_c;
    int out_h, out_w, out_c;
    int kh, kw, stride_h, stride_w, dilation_h, dilation_w;
    int pad_top, pad_left;  /* bottom/right follow from the sizes          */
    int groups;
} pl_conv_shape;

/* Fused epilogue applied to each output value after the bias. */
typedef struct pl_epilogue {
    pl_act act;
    float alpha;            /* leaky                                        */
    float lo, hi;           /* clip                                         */
    const float *slope;     /* prelu, per output channel                    */
} pl_epilogue;

/* Reference convolution (any groups, stride, dilation, padding). Computes
 * output rows [row_begin, row_end) of every batch item. */
void pl_conv2d_ref(const pl_conv_shape *s, const float *x, const float *w,
                   const float *bias, const pl_epilogue *ep, float *y,
                   int row_begin, int row_end);

/* y[m, n] = sum_k x[m, k] * w[n, k] + b[n], rows [m_begin, m_end). */
void pl_fc_ref(int m, int n, int k, const float *x, const float *w,
               const float *bias, const pl_epilogue *ep, float *y,
               int m_begin, int m_end);

float pl_apply_act(float v, const pl_epilogue *ep, int channel);

/* A prepared fast convolution: weights repacked once at plan time. */
typedef struct pl_conv_plan pl_conv_plan;

/* Returns NULL when no fast path fits this shape (the caller uses the
 * reference). w/bias are OHWI/[Cout] as in the graph; the plan keeps its
 * own packed copies (and of ep->slope), so they may be freed after. */
pl_conv_plan *pl_conv_plan_new(const pl_conv_shape *s, const float *w,
                               const float *bias, const pl_epilogue *ep);
void pl_conv_plan_free(pl_conv_plan *p);
/* Output rows [row_begin, row_end) over all batch items; thread-safe.
 * Every output value is computed the same way whatever the split, so the
 * results do not depend on the number of threads. */
void pl_conv_plan_run(const pl_conv_plan *p, const float *x, float *y,
                      int row_begin, int row_end);
/* The kernel chosen, e.g. "avx512-direct3x3", "avx2-dw3x3", "avx512-1x1";
 * "reference" for NULL. Plans need no scratch memory: run() keeps its
 * working set in registers and on the stack. */
const char *pl_conv_plan_name(const pl_conv_plan *p);
/* Output rows [row_begin, row_end) of one batch item: x and y point at
 * that item's input and output images. Only the input rows those output
 * rows read are touched and only those output rows are written, so a
 * fused consumer (session.c) may pass bases whose other rows do not exist:
 * a few rows of the layer's output kept in a small buffer. */
void pl_conv_plan_run_item(const pl_conv_plan *p, const float *x, float *y,
                           int row_begin, int row_end);
/* The layer's shape as planned. */
const pl_conv_shape *pl_conv_plan_shape(const pl_conv_plan *p);
/* "Wide rows" for a fused consumer's buffer: a stride-1, undilated,
 * unpadded dense convolution may write output rows with a pitch of in_w
 * pixels instead of out_w; the kw - 1 extra pixels per row are garbage.
 * Then every output pixel's window is the previous one's moved by one
 * input pixel, even across row ends, so the rows of a small map (RNet's
 * 22- and 9-wide maps) run as one evenly spaced stretch in full register
 * tiles instead of per-pixel gathers. The values are computed as by
 * pl_conv_plan_run_item, bit for bit. run_wide returns 0 (and does
 * nothing) when the plan cannot: then use run_item. Rows
 * [row_begin, row_end) of one item; y points at row 0 of that layout. */
int pl_conv_plan_can_run_wide(const pl_conv_plan *p);
void pl_conv_plan_run_wide(const pl_conv_plan *p, const float *x, float *y,
                           int row_begin, int row_end);

/* Merged 1x1 heads: a flat (1x1, stride 1, unpadded) plan whose output
 * channels belong to several tensors, in order: the first c[0] channels
 * to y[0] (c[0] floats a pixel), the next c[1] to y[1], ... (PNet's 32->2
 * and 32->4 heads run as one 32->6 layer: one pass over their input, half
 * the FMAs). Each channel is summed as by a plan of its own tensor alone,
 * bit for bit. can_run_split: the plan's channels fit one register block.
 * Rows [row_begin, row_end) of one item; y[k] point at row 0 of it. */
#define PL_SPLIT_MAX 4
typedef struct pl_split {
    int n;
    float *y[PL_SPLIT_MAX];
    int c[PL_SPLIT_MAX];
} pl_split;
int pl_conv_plan_can_run_split(const pl_conv_plan *p);
void pl_conv_plan_run_split(const pl_conv_plan *p, const float *x, const pl_split *ys,
                            int row_begin, int row_end);

typedef struct pl_fc_plan pl_fc_plan;
pl_fc_plan *pl_fc_plan_new(int n, int k, const float *w, const float *bias,
                           const pl_epilogue *ep);
void pl_fc_plan_free(pl_fc_plan *p);
void pl_fc_plan_run(const pl_fc_plan *p, int m, const float *x, float *y,
                    int m_begin, int m_end);
const char *pl_fc_plan_name(const pl_fc_plan *p); /* "avx512-fc", ...  */

/* Max / average pooling, NHWC. Windows are clipped to the input (padding
 * never wins a max and is not counted in an average unless
 * count_include_pad); a window with no input pixel gives -inf (max) or 0
 * (avg) before the activation. Global pooling: kh = in_h, kw = in_w,
 * strides 1, no padding. Computes output rows [row_begin, row_end) of
 * every batch item, like the convolutions. */
typedef struct pl_pool_shape {
    int n, in_h, in_w, c;
    int out_h, out_w;
    int kh, kw, stride_h, stride_w;
    int pad_top, pad_left;
    int is_max;
    int count_include_pad;
} pl_pool_shape;
/* A convolution and the 2x2/2 max pool that alone reads it (PNet's stem,
 * 3 -> 10 channels), as one pass with output pixels in the vector lanes
 * instead of channels (kernels_simd.h): bit-identical to
 * pl_conv_plan_run_item then pl_pool_run. pool2_floats: the scratch it
 * needs (per caller thread), 0 when the pair does not fit (a stride-1
 * unpadded dense layer of at most 4 input and 16 output channels; an
 * unpadded 2x2/2 max pool without PReLU). run_pool2: pooled rows
 * [row_begin, row_end) of one item; x, y point at that item. */
size_t pl_conv_plan_pool2_floats(const struct pl_conv_plan *p, const pl_pool_shape *ps,
                                 const pl_epilogue *pool_ep);
void pl_conv_plan_run_pool2(const struct pl_conv_plan *p, const pl_pool_shape *ps,
                            const pl_epilogue *pool_ep, const float *x, float *y, int row_begin,
                            int row_end, float *scratch);
void pl_pool_ref(const pl_pool_shape *s, const float *x, const pl_epilogue *ep, float *y,
                 int row_begin, int row_end);
/* Input rows in_pitch (>= in_w) pixels apart, as pl_pool_run_pitch. */
void pl_pool_ref_pitch(const pl_pool_shape *s, int in_pitch, const float *x,
                       const pl_epilogue *ep, float *y, int row_begin, int row_end);
/* The same with AVX2/AVX-512 when the CPU has them (no plan needed:
 * nothing to repack); thread-safe. */
void pl_pool_run(const pl_pool_shape *s, const float *x, const pl_epilogue *ep, float *y,
                 int row_begin, int row_end);
/* The same over input rows in_pitch pixels apart (>= in_w: the rows of
 * pl_conv_plan_run_wide, whose extra pixels are never read). */
void pl_pool_run_pitch(const pl_pool_shape *s, int in_pitch, const float *x,
                       const pl_epilogue *ep, float *y, int row_begin, int row_end);

/* Softmax of one pair of logits exactly as the SOFTMAX op computes it
 * (ops_ref.c: the larger as the max, the exponentials summed from zero,
 * then the divisions): detector heads' two classes, here so that code
 * reading logits gets the op's bits. */
static inline void pl_softmax_pair(float a, float b, float *pa, float *pb)
{
    float m = -INFINITY;
    m = a > m ? a : m;
    m = b > m ? b : m;
    float da = a - m, db = b - m;
    float ea = da == 0.0f ? 1.0f : expf(da), eb = db == 0.0f ? 1.0f : expf(db); /* expf(0) is 1 */
    float sum = 0.0f;
    sum += ea;
    sum += eb;
    *pa = ea / sum;
    *pb = eb / sum;
}

/* CPU features, detected once. */
typedef struct pl_cpu {
    int avx2_fma;
    int avx512f;
} pl_cpu;
/* $PL_CPU=generic|avx2|avx512 caps what is reported, so every dispatch
 * level can be tested on one machine. */
const pl_cpu *pl_cpu_features(void);
/* Re-read the CPU and $PL_CPU now (tests and benchmarks switch levels with
 * setenv + this). Not thread-safe: call it while no plan is being made. */
const pl_cpu *pl_cpu_reload(void);

/* Set flush-to-zero and denormals-are-zero in the calling thread's MXCSR:
 * denormal weights otherwise make SIMD code 100x slower. Every thread that
 * runs kernels should call it once. */
void pl_cpu_set_ftz(void);

#endif
