/* clock.h — the one wall clock the stage timings (take, evaluate, the
 * embedder's align time, PL_PROFILE) and the benchmarks read. */
#ifndef PL_CLOCK_H
#define PL_CLOCK_H

#include <time.h>

/* Milliseconds on the monotonic clock (only differences mean anything). */
static inline double pl_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

#endif
