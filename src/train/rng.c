#include "train/rng.h"

#include <math.h>

void tr_rng_seed(tr_rng *r, uint64_t seed) { r->s = seed ^ 0x9E3779B97F4A7C15ull; }

uint64_t tr_rng_next(tr_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* 24 random bits: exactly representable in a float. */
float tr_rng_uniform(tr_rng *r) { return (float)(tr_rng_next(r) >> 40) * (1.0f / 16777216.0f); }

float tr_rng_range(tr_rng *r, float lo, float hi) { return lo + (hi - lo) * tr_rng_uniform(r); }

int tr_rng_int(tr_rng *r, int n) { return n > 0 ? (int)(tr_rng_next(r) % (uint64_t)n) : 0; }

float tr_rng_normal(tr_rng *r)
{
    float u1 = tr_rng_uniform(r), u2 = tr_rng_uniform(r);
    if (u1 < 1e-7f) u1 = 1e-7f;
    return sqrtf(-2.0f * logf(u1)) * cosf(6.28318530718f * u2);
}

void tr_rng_shuffle(tr_rng *r, int *a, int n)
{
    for (int i = n - 1; i > 0; i--) {
        int j = tr_rng_int(r, i + 1), t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}
