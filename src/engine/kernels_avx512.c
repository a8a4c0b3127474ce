/* kernels_avx512.c — the SIMD micro-kernels (kernels_simd.h) for AVX-512F:
 * 16 floats a vector, 32 registers, masked loads/stores for channel tails.
 * Only called when pl_cpu_features() reports AVX-512 with OS support. */
#include <immintrin.h>

#define VL 16
#define vec __m512
#define V_ZERO() _mm512_setzero_ps()
#define V_LOAD(p) _mm512_loadu_ps(p)
#define V_LOAD_PART(p, n) _mm512_maskz_loadu_ps((__mmask16)((1u << (n)) - 1), (p))
#define V_BCAST(p) _mm512_set1_ps(*(p))
#define V_SET1(f) _mm512_set1_ps(f)
#define V_FMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define V_ADD(a, b) _mm512_add_ps((a), (b))
#define V_MUL(a, b) _mm512_mul_ps((a), (b))
#define V_MAX(a, b) _mm512_max_ps((a), (b))
#define V_MIN(a, b) _mm512_min_ps((a), (b))
#define V_NEGSEL(v, s)                                                         \
    _mm512_mask_mul_ps((v), _mm512_cmp_ps_mask((v), _mm512_setzero_ps(), _CMP_LT_OQ), (v), (s))
#define V_STORE(p, v) _mm512_storeu_ps((p), (v))
#define V_STORE_PART(p, v, n) _mm512_mask_storeu_ps((p), (__mmask16)((1u << (n)) - 1), (v))
#define V_LANES_FROM(v, lo)                                                    \
    _mm512_permutexvar_ps(_mm512_add_epi32(_mm512_set1_epi32(lo),              \
                          _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)), (v))
/* For exp/tanh/sigmoid (kernels_simd.h, v_exp). */
#define V_SUB(a, b) _mm512_sub_ps((a), (b))
#define V_DIV(a, b) _mm512_div_ps((a), (b))
#define V_ROUND(v) _mm512_roundscale_ps((v), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
/* 2^n for a whole-number float n in [-126, 127]: n + 127 in the exponent. */
#define V_POW2I(n)                                                             \
    _mm512_castsi512_ps(_mm512_slli_epi32(                                      \
        _mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23))
#define V_ABS(v) _mm512_abs_ps(v)
/* |m| with the sign of s (m >= 0). */
#define V_COPYSIGN(m, s) _mm512_or_ps((m), _mm512_and_ps((s), _mm512_set1_ps(-0.0f)))
/* a < b ? t : f, per lane. */
#define V_SEL_LT(a, b, t, f) _mm512_mask_blend_ps(_mm512_cmp_ps_mask((a), (b), _CMP_LT_OQ), (f), (t))
#define SUFFIX(name) name##_avx512
/* 32 zmm registers: 12x2 or 24x1 accumulators + weights + a broadcast. */
#define P_NV2 12
#define P_NV1 24

#include "engine/kernels_simd.h"
