/* kernels_fast.h — internal to the fast kernels: the prepared plans and
 * the per-instruction-set entry points (kernels_avx2.c, kernels_avx512.c).
 *
 * A plan holds the weights repacked once for its micro-kernel:
 *   dense (any groups): per group, per block of NB output channels,
 *       [KH][KW][Cin/groups][NB], zero-padded past the group's channels;
 *   depthwise (groups == Cin == Cout): [KH][KW][Cpad], Cpad a multiple of
 *       the vector width;
 *   fully connected: per block of NB outputs, [K][NB].
 * Bias and PReLU slopes are padded the same way so the epilogue can load
 * whole vectors. Plans are read-only after creation: run() from many
 * threads at once needs no locks and no scratch memory.
 */
#ifndef PL_KERNELS_FAST_H
#define PL_KERNELS_FAST_H

#include "engine/kernels.h"

enum pl_conv_kind { PL_CONV_DENSE, PL_CONV_DEPTHWISE };

struct pl_conv_plan {
    pl_conv_shape s;
    pl_epilogue ep;          /* ep.slope unused: see slope below          */
    enum pl_conv_kind kind;
    int icg, ocg;            /* channels per group                        */
    int nv;                  /* vectors per output-channel block (dense)  */
    int nb;                  /* floats per block = nv * vector width      */
    int n_cb;                /* blocks per group                          */
    int ox_lo, ox_hi;        /* output columns whose taps are all inside  */
    int flat;                /* 1x1, stride 1, no padding: rows are one GEMM */
    float *w;                /* packed weights (64-byte aligned)          */
    float *bias;             /* padded bias, zeros when the layer has none */
    float *slope;            /* padded PReLU slopes, or NULL              */
    float *zeros;            /* icg zeros: what taps in the padding read  */
    void (*run)(const struct pl_conv_plan *p, const float *x, float *y,
                int row_begin, int row_end);
    /* pl_conv_plan_run_wide, or NULL when the shape does not allow it */
    void (*run_wide)(const struct pl_conv_plan *p, const float *x, float *y,
                     int row_begin, int row_end);
    /* pl_conv_plan_run_split, or NULL */
    void (*run_split)(const struct pl_conv_plan *p, const float *x, const pl_split *ys,
                      int row_begin, int row_end);
    /* pl_conv_plan_run_pool2 (its scratch floats, the kernel), or NULL */
    size_t (*pool2_floats)(const struct pl_conv_plan *p);
    void (*run_pool2)(const struct pl_conv_plan *p, const pl_pool_shape *ps,
                      const pl_epilogue *pep, const float *x, float *y, int r0, int r1,
                      float *scratch);
    char name[40];
};

struct pl_fc_plan {
    int n, k;
    pl_epilogue ep;
    int nv, nb, n_nb;
    float *w, *bias, *slope;
    void (*run)(const struct pl_fc_plan *p, int m, const float *x, float *y,
                int m_begin, int m_end);
    char name[40];
};

/* Per instruction set: the vector width and the run functions. */
#define PL_VL_AVX2 8
#define PL_VL_AVX512 16

void pl_conv_dense_avx2(const pl_conv_plan *p, const float *x, float *y, int r0, int r1);
void pl_conv_dense_wide_avx2(const pl_conv_plan *p, const float *x, float *y, int r0, int r1);
void pl_conv_dense_wide_avx512(const pl_conv_plan *p, const float *x, float *y, int r0, int r1);
void pl_conv_1x1_split_avx2(const pl_conv_plan *p, const float *x, const pl_split *ys, int r0, int r1);
void pl_conv_1x1_split_avx512(const pl_conv_plan *p, const float *x, const pl_split *ys, int r0, int r1);
size_t pl_conv_pool2_floats_avx2(const pl_conv_plan *p);
size_t pl_conv_pool2_floats_avx512(const pl_conv_plan *p);
void pl_conv_pool2_avx2(const pl_conv_plan *p, const pl_pool_shape *ps, const pl_epilogue *pep,
                        const float *x, float *y, int r0, int r1, float *scratch);
void pl_conv_pool2_avx512(const pl_conv_plan *p, const pl_pool_shape *ps, const pl_epilogue *pep,
                          const float *x, float *y, int r0, int r1, float *scratch);
void pl_conv_dw_avx2(const pl_conv_plan *p, const float *x, float *y, int r0, int r1);
void pl_fc_avx2(const pl_fc_plan *p, int m, const float *x, float *y, int m0, int m1);
void pl_conv_dense_avx512(const pl_conv_plan *p, const float *x, float *y, int r0, int r1);
void pl_conv_dw_avx512(const pl_conv_plan *p, const float *x, float *y, int r0, int r1);
void pl_fc_avx512(const pl_fc_plan *p, int m, const float *x, float *y, int m0, int m1);
/* in_pitch: pixels between input rows (pl_pool_run_pitch) */
/* v_tanh (kernels_simd.h) over n floats, for checking it. */
void pl_tanh_vec_avx2(const float *x, float *y, size_t n);
void pl_tanh_vec_avx512(const float *x, float *y, size_t n);
void pl_pool_avx2(const pl_pool_shape *s, int in_pitch, const float *x, const pl_epilogue *ep,
                  float *y, int r0, int r1);
void pl_pool_avx512(const pl_pool_shape *s, int in_pitch, const float *x, const pl_epilogue *ep,
                    float *y, int r0, int r1);

#endif
