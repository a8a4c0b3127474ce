/* rng.h — the training module's own random numbers.
 *
 * Training must be bit-identical for a given --seed on every machine, so
 * it never calls rand() (whose sequence differs between C libraries) and
 * keeps one explicit generator state: xoshiro128-style quality is not
 * needed, splitmix64 is small, fast and well distributed.
 */
#ifndef PL_TRAIN_RNG_H
#define PL_TRAIN_RNG_H

#include <stdint.h>

typedef struct tr_rng {
    uint64_t s;
} tr_rng;

void tr_rng_seed(tr_rng *r, uint64_t seed);
uint64_t tr_rng_next(tr_rng *r);
/* Uniform in [0, 1). */
float tr_rng_uniform(tr_rng *r);
/* Uniform in [lo, hi). */
float tr_rng_range(tr_rng *r, float lo, float hi);
/* Uniform integer in [0, n). */
int tr_rng_int(tr_rng *r, int n);
/* Standard normal (Box–Muller). */
float tr_rng_normal(tr_rng *r);
/* Shuffle n ints in place (Fisher–Yates). */
void tr_rng_shuffle(tr_rng *r, int *a, int n);

#endif
