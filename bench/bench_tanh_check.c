/* bench_tanh_check — exhaustive check of the kernels' vector tanh (v_tanh,
 * kernels_simd.h) over all 2^32 float bit patterns, under the FTZ/DAZ mode
 * the engine runs in:
 *   - monotonic non-decreasing over the ordered floats -inf .. -0, +0 .. +inf
 *     (so max(tanh(a), tanh(b)) == tanh(max(a, b)) bit for bit, which lets
 *     a max pool apply a convolution's tanh after the max: session.c);
 *   - |tanh(x)| <= 1, tanh(+-inf) = the largest magnitude (1 - 2^-24: the
 *     exp form rounds 1 - 2/(e^18 + 1) below 1), tanh(+-0) = +-0, NaN -> NaN;
 *   - the AVX2 and AVX-512 builds give the same bits (a conv with <= 8
 *     output channels runs the AVX2 kernel next to an AVX-512 pool).
 * Too slow for the unit tests (a few seconds per instruction set);
 * tests/test_kernels.c checks the same properties on a dense sample.
 * Usage: build/bench/bench_tanh_check. Exit status 0 when all hold. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/kernels.h"
#include "engine/kernels_fast.h"
#include "engine/threadpool.h"

#define BLOCK 65536

typedef void (*tanh_fn)(const float *x, float *y, size_t n);

static float from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static uint32_t to_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* Walks one sign's bit patterns upward from 0 (+0 / -0) to the infinity;
 * values grow in magnitude, so tanh must not decrease (positive) or not
 * increase (negative). Returns the number of violations; *end gets
 * tanh(inf) of that sign. Also compares with `other` when non-NULL. */
static uint64_t walk(tanh_fn fn, tanh_fn other, uint32_t sign, float *end, uint64_t *mismatch)
{
    static float x[BLOCK], y[BLOCK], y2[BLOCK];
    uint64_t bad = 0;
    float prev = sign ? 0.0f : -0.0f; /* tanh(-+0) compares equal to the first value */
    for (uint64_t base = 0; base <= 0x7f800000u; base += BLOCK) {
        size_t n = 0x7f800000u - base + 1 < BLOCK ? (size_t)(0x7f800000u - base + 1) : BLOCK;
        for (size_t i = 0; i < n; i++) x[i] = from_bits(sign | (uint32_t)(base + i));
        fn(x, y, n);
        if (other) {
            other(x, y2, n);
            for (size_t i = 0; i < n; i++) *mismatch += to_bits(y[i]) != to_bits(y2[i]);
        }
        for (size_t i = 0; i < n; i++) {
            float v = y[i];
            int ok = !isnan(v) && fabsf(v) <= 1.0f && (sign ? v <= prev : v >= prev);
            if (!ok) {
                if (bad < 5)
                    fprintf(stderr, "  x = %a (0x%08" PRIx32 "): tanh %a after %a\n", x[i],
                            to_bits(x[i]), v, prev);
                bad++;
            }
            prev = v;
        }
    }
    *end = prev;
    return bad;
}

static int check(const char *name, tanh_fn fn, tanh_fn other)
{
    uint64_t mismatch = 0;
    float pinf, ninf;
    uint64_t bad = walk(fn, other, 0, &pinf, &mismatch) + walk(fn, other, 0x80000000u, &ninf, &mismatch);
    float special[6] = {0.0f, -0.0f, NAN, -NAN, INFINITY, -INFINITY}, t[6];
    fn(special, t, 6);
    int ok = bad == 0 && mismatch == 0 && pinf == -ninf && pinf > 0.9999999f &&
             to_bits(t[0]) == 0 && to_bits(t[1]) == 0x80000000u && isnan(t[2]) && isnan(t[3]) &&
             t[4] == pinf && t[5] == ninf;
    printf("%s: %" PRIu64 " order violations, tanh(+-inf) = %a %a (the walks' last %a %a), "
           "tanh(+-0) = %a %a, tanh(NaN) = %g %g, %s%s\n",
           name, bad, t[4], t[5], pinf, ninf, t[0], t[1], t[2], t[3],
           other ? "mismatches vs avx2: " : "", other ? (mismatch ? "SOME" : "0") : "");
    if (mismatch) printf("  %" PRIu64 " outputs differ from avx2\n", mismatch);
    return ok;
}

int main(void)
{
    const pl_cpu *c = pl_cpu_features();
    unsigned fpu = pl_fpu_fast_begin();
    int ok = 1, ran = 0;
    if (c->avx2_fma) ok &= check("avx2", pl_tanh_vec_avx2, NULL), ran++;
    if (c->avx512f) ok &= check("avx512", pl_tanh_vec_avx512, c->avx2_fma ? pl_tanh_vec_avx2 : NULL), ran++;
    pl_fpu_fast_end(fpu);
    if (!ran) printf("no AVX2/AVX-512 on this CPU: nothing to check\n");
    printf("%s\n", ok ? "OK" : "FAILED");
    return ok ? 0 : 1;
}
