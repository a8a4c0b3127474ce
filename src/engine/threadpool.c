/* threadpool.c — see threadpool.h. One mutex, two condition variables:
 * `wake` starts a loop (a new generation), `done` reports its end; the
 * work itself is handed out through an atomic counter. */
#include "engine/threadpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#define PL_CHUNKS_PER_THREAD 4

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
/* MXCSR bit 15 = flush-to-zero, bit 6 = denormals-are-zero. */
#define PL_MXCSR_FTZ_DAZ 0x8040u
unsigned pl_fpu_fast_begin(void)
{
    unsigned old = _mm_getcsr();
    _mm_setcsr(old | PL_MXCSR_FTZ_DAZ);
    return old;
}
void pl_fpu_fast_end(unsigned old_mode) { _mm_setcsr(old_mode); }
#else
unsigned pl_fpu_fast_begin(void) { return 0; }
void pl_fpu_fast_end(unsigned old_mode) { (void)old_mode; }
#endif

typedef struct worker {
    pl_threadpool *pool;
    pthread_t thread;
} worker;

/* A loop is cut into chunks that threads claim one at a time from an
 * atomic counter tagged with the loop's generation, so that a worker the
 * OS has not scheduled yet delays nothing: the others take its share, and
 * a late worker finds the counter moved on and goes back to sleep. */
struct pl_threadpool {
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    worker *workers;
    int n_workers;
    int quit;
    /* the current loop, written under mu before the generation changes */
    unsigned long generation;
    pl_task_fn fn;
    void *ctx;
    int n_tasks, n_chunks;
    _Atomic uint64_t next;   /* generation << 32 | next chunk to claim */
    _Atomic int chunks_done;
};

typedef struct loop {
    uint32_t gen;
    pl_task_fn fn;
    void *ctx;
    int n_tasks, n_chunks;
} loop;

static loop current(const pl_threadpool *p)
{
    loop l = {(uint32_t)p->generation, p->fn, p->ctx, p->n_tasks, p->n_chunks};
    return l;
}

/* Claim and run chunks of loop l until none is left. */
static void run_chunks(pl_threadpool *p, const loop *l)
{
    for (;;) {
        uint64_t cur = atomic_load(&p->next);
        if ((uint32_t)(cur >> 32) != l->gen || (int)(uint32_t)cur >= l->n_chunks) return;
        if (!atomic_compare_exchange_weak(&p->next, &cur, cur + 1)) continue;
        int c = (int)(uint32_t)cur;
        int t0 = (int)((long long)l->n_tasks * c / l->n_chunks);
        int t1 = (int)((long long)l->n_tasks * (c + 1) / l->n_chunks);
        if (t0 < t1) l->fn(l->ctx, t0, t1);
        if (atomic_fetch_add(&p->chunks_done, 1) + 1 == l->n_chunks) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->mu);
        }
    }
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    pl_threadpool *p = w->pool;
    pl_fpu_fast_begin();
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->quit && p->generation == seen) pthread_cond_wait(&p->wake, &p->mu);
        if (p->quit) break;
        seen = p->generation;
        loop l = current(p);
        pthread_mutex_unlock(&p->mu);
        run_chunks(p, &l);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

pl_threadpool *pl_threadpool_new(int n_threads)
{
    pl_threadpool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    atomic_init(&p->next, 0);
    atomic_init(&p->chunks_done, 0);
    int want = n_threads > 1 ? n_threads - 1 : 0;
    if (want > 255) want = 255;
    if (want) {
        p->workers = calloc((size_t)want, sizeof *p->workers);
        if (!p->workers) want = 0;
    }
    for (int i = 0; i < want; i++) {
        p->workers[i].pool = p;
        if (pthread_create(&p->workers[i].thread, NULL, worker_main, &p->workers[i]) != 0)
            break;
        p->n_workers++;
    }
    return p;
}

void pl_threadpool_free(pl_threadpool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->n_workers; i++) pthread_join(p->workers[i].thread, NULL);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->mu);
    free(p->workers);
    free(p);
}

int pl_threadpool_size(const pl_threadpool *p) { return p ? p->n_workers + 1 : 1; }

void pl_threadpool_run(pl_threadpool *p, int n_tasks, pl_task_fn fn, void *ctx)
{
    if (n_tasks <= 0) return;
    if (!p || p->n_workers == 0 || n_tasks == 1) {
        fn(ctx, 0, n_tasks);
        return;
    }
    /* A few chunks per thread: enough to rebalance, few enough that each
     * chunk is a sizeable piece of work. */
    int chunks = (p->n_workers + 1) * PL_CHUNKS_PER_THREAD;
    if (chunks > n_tasks) chunks = n_tasks;
    pthread_mutex_lock(&p->mu);
    p->generation++;
    p->fn = fn;
    p->ctx = ctx;
    p->n_tasks = n_tasks;
    p->n_chunks = chunks;
    atomic_store(&p->chunks_done, 0);
    atomic_store(&p->next, (uint64_t)(uint32_t)p->generation << 32);
    loop l = current(p);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    run_chunks(p, &l);
    pthread_mutex_lock(&p->mu);
    while (atomic_load(&p->chunks_done) < chunks) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}
