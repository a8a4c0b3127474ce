/* threadpool.c — see threadpool.h. One mutex, two condition variables:
 * `wake` starts a loop (a new generation), `done` reports its end. */
#include "engine/threadpool.h"

#include <pthread.h>
#include <stdlib.h>

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
    int index; /* 1..n_workers; the caller is 0 */
    pthread_t thread;
} worker;

struct pl_threadpool {
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    worker *workers;
    int n_workers;
    unsigned long generation; /* bumped once per loop                 */
    int pending;              /* workers still running this loop      */
    int quit;
    /* the current loop */
    pl_task_fn fn;
    void *ctx;
    int n_tasks, n_threads;
};

static void run_share(pl_threadpool *p, int index)
{
    if (index >= p->n_threads) return; /* fewer tasks than threads */
    int t0 = (int)((long long)p->n_tasks * index / p->n_threads);
    int t1 = (int)((long long)p->n_tasks * (index + 1) / p->n_threads);
    if (t0 < t1) p->fn(p->ctx, t0, t1);
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
        pthread_mutex_unlock(&p->mu);
        run_share(p, w->index);
        pthread_mutex_lock(&p->mu);
        if (--p->pending == 0) pthread_cond_signal(&p->done);
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
    int want = n_threads > 1 ? n_threads - 1 : 0;
    if (want > 255) want = 255;
    if (want) {
        p->workers = calloc((size_t)want, sizeof *p->workers);
        if (!p->workers) want = 0;
    }
    for (int i = 0; i < want; i++) {
        p->workers[i].pool = p;
        p->workers[i].index = i + 1;
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
    int threads = p->n_workers + 1;
    if (threads > n_tasks) threads = n_tasks;
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->n_tasks = n_tasks;
    p->n_threads = threads;
    /* Every worker wakes and acknowledges, even those with no share, so
     * that `pending` has one meaning. */
    p->pending = p->n_workers;
    p->generation++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    run_share(p, 0);
    pthread_mutex_lock(&p->mu);
    while (p->pending > 0) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}
