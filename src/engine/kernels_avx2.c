/* kernels_avx2.c — the SIMD micro-kernels (kernels_simd.h) for AVX2+FMA:
 * 8 floats a vector, 16 registers. Only called when pl_cpu_features()
 * reports AVX2 and FMA with OS support. */
#include <immintrin.h>

/* Lane masks for partial loads/stores: the first n lanes of row n. */
static const int avx2_masks[9][8] = {
    {0, 0, 0, 0, 0, 0, 0, 0},         {-1, 0, 0, 0, 0, 0, 0, 0},
    {-1, -1, 0, 0, 0, 0, 0, 0},       {-1, -1, -1, 0, 0, 0, 0, 0},
    {-1, -1, -1, -1, 0, 0, 0, 0},     {-1, -1, -1, -1, -1, 0, 0, 0},
    {-1, -1, -1, -1, -1, -1, 0, 0},   {-1, -1, -1, -1, -1, -1, -1, 0},
    {-1, -1, -1, -1, -1, -1, -1, -1}};
#define AVX2_MASK(n) _mm256_loadu_si256((const __m256i *)avx2_masks[n])

#define VL 8
#define vec __m256
#define V_ZERO() _mm256_setzero_ps()
#define V_LOAD(p) _mm256_loadu_ps(p)
#define V_LOAD_PART(p, n) _mm256_maskload_ps((p), AVX2_MASK(n))
#define V_BCAST(p) _mm256_broadcast_ss(p)
#define V_SET1(f) _mm256_set1_ps(f)
#define V_FMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define V_ADD(a, b) _mm256_add_ps((a), (b))
#define V_MUL(a, b) _mm256_mul_ps((a), (b))
#define V_MAX(a, b) _mm256_max_ps((a), (b))
#define V_MIN(a, b) _mm256_min_ps((a), (b))
/* blendv picks by the sign bit: negative lanes take v*s. */
#define V_NEGSEL(v, s) _mm256_blendv_ps((v), _mm256_mul_ps((v), (s)), (v))
#define V_STORE(p, v) _mm256_storeu_ps((p), (v))
#define V_STORE_PART(p, v, n) _mm256_maskstore_ps((p), AVX2_MASK(n), (v))
#define V_LANES_FROM(v, lo)                                                    \
    _mm256_permutevar8x32_ps((v), _mm256_add_epi32(_mm256_set1_epi32(lo),      \
                             _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)))
/* For exp/tanh/sigmoid (kernels_simd.h, v_exp). */
#define V_SUB(a, b) _mm256_sub_ps((a), (b))
#define V_DIV(a, b) _mm256_div_ps((a), (b))
#define V_ROUND(v) _mm256_round_ps((v), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
/* 2^n for a whole-number float n in [-126, 127]: n + 127 in the exponent. */
#define V_POW2I(n)                                                             \
    _mm256_castsi256_ps(_mm256_slli_epi32(                                      \
        _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23))
#define V_ABS(v) _mm256_andnot_ps(_mm256_set1_ps(-0.0f), (v))
/* |m| with the sign of s (m >= 0). */
#define V_COPYSIGN(m, s) _mm256_or_ps((m), _mm256_and_ps((s), _mm256_set1_ps(-0.0f)))
/* a < b ? t : f, per lane. */
#define V_SEL_LT(a, b, t, f) _mm256_blendv_ps((f), (t), _mm256_cmp_ps((a), (b), _CMP_LT_OQ))
#define SUFFIX(name) name##_avx2
/* 16 ymm registers: 6x2, 12x1 or 4x3 accumulators + weights + a
 * broadcast. */
#define P_NV2 6
#define P_NV1 12
#define P_NV3 4

/* Vector registers, for tiles sized at compile time. */
#define V_REGS 16

#include "engine/kernels_simd.h"
