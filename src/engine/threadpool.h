/* threadpool.h — a fixed pool of worker threads for the engine's loops.
 *
 * Owns: N-1 worker threads (the caller is the N-th) and the hand-off of
 * one parallel loop at a time. Workers sleep on a condition variable
 * between loops (never spin: the target machines are small VMs where a
 * spinning worker steals the only other core). Every worker runs with
 * FTZ/DAZ set, because the models carry many denormal weights and x86 is
 * ~100x slower on denormals; pl_fpu_fast_begin/end do the same for the
 * calling thread and restore its mode afterwards.
 *
 * A loop's tasks are cut into fixed chunks (about 4 per thread; chunk c is
 * tasks [c*n/C, (c+1)*n/C)) that threads claim as they come free, so a
 * worker the OS is slow to schedule delays nothing. The chunk boundaries
 * depend only on n and the pool size, never on timing, and every task is
 * computed the same way whoever runs it.
 */
#ifndef PL_THREADPOOL_H
#define PL_THREADPOOL_H

typedef struct pl_threadpool pl_threadpool;

/* fn(ctx, t0, t1): run tasks [t0, t1). */
typedef void (*pl_task_fn)(void *ctx, int t0, int t1);

/* n_threads counts the caller; <= 1 means no workers (everything inline).
 * Returns NULL when out of memory; if some threads cannot be started the
 * pool simply has fewer. */
pl_threadpool *pl_threadpool_new(int n_threads);
void pl_threadpool_free(pl_threadpool *p);
int pl_threadpool_size(const pl_threadpool *p); /* threads incl. caller */

/* Run n_tasks tasks over the pool and the caller; returns when all are
 * done. Not reentrant: one loop at a time per pool. p may be NULL. */
void pl_threadpool_run(pl_threadpool *p, int n_tasks, pl_task_fn fn, void *ctx);

/* Set FTZ+DAZ on this thread; returns the old mode for pl_fpu_fast_end. */
unsigned pl_fpu_fast_begin(void);
void pl_fpu_fast_end(unsigned old_mode);

#endif
