/* kernels_avx512.c — the SIMD micro-kernels (kernels_simd.h) for AVX-512F:
 * 16 floats a vector, 32 registers, masked loads/stores for channel tails.
 * Only called when pl_cpu_features() reports AVX-512 with OS support. */
#include <immintrin.h>
#include <stdint.h>

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
/* 32 zmm registers: 12x2, 24x1 or 9x3 accumulators + weights + a
 * broadcast. (9x3: 27 + 3 + 1; 9 is also a whole row of RNet's 9x9
 * conv2, so its tiles need no gathering.) */
#define P_NV2 12
#define P_NV1 24
#define P_NV3 9

/* pl_conv_plan_run_pool2's data movement (kernels_simd.h), with permutes:
 * scalar copies there cost more than half the FMAs of PNet's stem. */
#define POOL2_PERMUTES 1

/* 32 pixels of 3 interleaved channels (96 floats) -> for each channel its
 * even and odd pixels, 16 each: d[2*ci + parity]. */
static inline void pool2_split3_avx512(const float *src, float *const d[6])
{
    /* Pixel p's channel ci is float 3p + ci of 16 pixels' 48: the first
     * 32 come from two vectors (first permute: index & 31), the rest from
     * the third (second permute: lane p kept, or 16 + index - 32). */
    static const int32_t idx[3][2][16] = {
        {{0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 1, 4, 7, 10, 13},
         {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 17, 20, 23, 26, 29}},
        {{1, 4, 7, 10, 13, 16, 19, 22, 25, 28, 31, 2, 5, 8, 11, 14},
         {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 18, 21, 24, 27, 30}},
        {{2, 5, 8, 11, 14, 17, 20, 23, 26, 29, 0, 3, 6, 9, 12, 15},
         {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 19, 22, 25, 28, 31}}};
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    __m512 in[6];
#pragma GCC unroll 6
    for (int k = 0; k < 6; k++) in[k] = _mm512_loadu_ps(src + 16 * k);
    /* Unrolled: the permute indices stay in registers across calls. */
#pragma GCC unroll 3
    for (int ci = 0; ci < 3; ci++) {
        __m512i i1 = _mm512_loadu_si512(idx[ci][0]), i2 = _mm512_loadu_si512(idx[ci][1]);
        __m512 half[2];
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++)
            half[h] = _mm512_permutex2var_ps(_mm512_permutex2var_ps(in[3 * h], i1, in[3 * h + 1]), i2,
                                             in[3 * h + 2]);
        _mm512_storeu_ps(d[2 * ci], _mm512_permutex2var_ps(half[0], even, half[1]));
        _mm512_storeu_ps(d[2 * ci + 1], _mm512_permutex2var_ps(half[0], odd, half[1]));
    }
}

/* 16 pixels of C <= 16 channel planes (m + c*pitch) -> y, C floats a
 * pixel: a 16x16 transposition (missing channels read as zeros), then one
 * store a pixel, spilling onto the next pixels' floats, which their own
 * stores then overwrite; stores that would pass the 16 pixels are masked. */
static inline void pool2_transpose_avx512(const float *m, size_t pitch, int C, float *y)
{
    __m512 r[16], t[16];
    /* Unrolled whole, r and t stay in registers (as loops, gcc kept them
     * on the stack: a load and a store around every shuffle). */
#pragma GCC unroll 16
    for (int c = 0; c < 16; c++) r[c] = c < C ? _mm512_loadu_ps(m + (size_t)c * pitch) : _mm512_setzero_ps();
#pragma GCC unroll 8
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
#pragma GCC unroll 4
    for (int i = 0; i < 16; i += 4)
#pragma GCC unroll 2
        for (int k = 0; k < 2; k++) {
            __m512d a = _mm512_castps_pd(t[i + k]), b = _mm512_castps_pd(t[i + 2 + k]);
            r[i + 2 * k] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, b));
            r[i + 2 * k + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, b));
        }
    /* r[4g + k], 128-bit block b: pixel 4b + k, channels 4g .. 4g+3. */
#pragma GCC unroll 4
    for (int k = 0; k < 4; k++) {
        t[k] = _mm512_shuffle_f32x4(r[k], r[4 + k], 0x88);      /* blocks 0,2 of g0 | g1 */
        t[4 + k] = _mm512_shuffle_f32x4(r[k], r[4 + k], 0xdd);  /* blocks 1,3 */
        t[8 + k] = _mm512_shuffle_f32x4(r[8 + k], r[12 + k], 0x88);
        t[12 + k] = _mm512_shuffle_f32x4(r[8 + k], r[12 + k], 0xdd);
    }
    /* t[k]: pixels k (g0, g1), 8+k (g0, g1); t[4+k]: 4+k, 12+k; t[8..]: g2, g3. */
#pragma GCC unroll 4
    for (int k = 0; k < 4; k++) {
        r[k] = _mm512_shuffle_f32x4(t[k], t[8 + k], 0x88);          /* pixel k      */
        r[8 + k] = _mm512_shuffle_f32x4(t[k], t[8 + k], 0xdd);      /* pixel 8 + k  */
        r[4 + k] = _mm512_shuffle_f32x4(t[4 + k], t[12 + k], 0x88); /* pixel 4 + k  */
        r[12 + k] = _mm512_shuffle_f32x4(t[4 + k], t[12 + k], 0xdd);/* pixel 12 + k */
    }
#pragma GCC unroll 16
    for (int p = 0; p < 16; p++) {
        if (p * C + 16 <= 16 * C) _mm512_storeu_ps(y + p * C, r[p]);
        else _mm512_mask_storeu_ps(y + p * C, (__mmask16)((1u << C) - 1), r[p]);
    }
}

/* Vector registers, for tiles sized at compile time. */
#define V_REGS 32

#include "engine/kernels_simd.h"
