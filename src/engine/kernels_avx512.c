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
#define SUFFIX(name) name##_avx512
/* 32 zmm registers: 12x2 or 24x1 accumulators + weights + a broadcast. */
#define P_NV2 12
#define P_NV1 24

#include "engine/kernels_simd.h"
