/* px_sse.h — a pixel's bytes as an SSE2 vector of floats and back: the
 * step the fast resize, crop and network-input paths share. x86-64 always
 * has SSE2; elsewhere nothing here is defined and callers use their plain
 * loops. */
#ifndef PL_PX_SSE_H
#define PL_PX_SSE_H

#ifdef __SSE2__
#include <emmintrin.h>
#include <stdint.h>
#include <string.h>

/* Bytes p[0..3] as floats in lanes 0..3, from one 4-byte load: the caller
 * must know four bytes are readable (for RGB, that another byte follows
 * the pixel); lane 3 is then the next byte, or alpha. */
static inline __m128 pl_px4_ps(const uint8_t *p)
{
    int v;
    memcpy(&v, p, sizeof v);
    __m128i z = _mm_setzero_si128();
    return _mm_cvtepi32_ps(_mm_unpacklo_epi16(_mm_unpacklo_epi8(_mm_cvtsi32_si128(v), z), z));
}

/* Lanes 0..2 of v into d[0..2]. */
static inline void pl_store3_ps(float *d, __m128 v)
{
    float t[4];
    _mm_storeu_ps(t, v);
    d[0] = t[0];
    d[1] = t[1];
    d[2] = t[2];
}
#endif

#endif
