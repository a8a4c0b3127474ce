/* session.h — running a graph: memory planned once per input shape.
 *
 * A session borrows its graph (the graph must outlive it). Setting the input
 * shape runs shape inference and the memory planner: all activations live in
 * one arena, and tensors whose lifetimes do not overlap share bytes. Running
 * allocates nothing.
 *
 *     pl_session *s = pl_session_new(g, threads, &err);
 *     int64_t dims[4] = {1, 112, 112, 3};
 *     pl_session_set_input_shape(s, 0, 4, dims, &err);
 *     memcpy(pl_session_input(s, 0), pixels, ...);
 *     pl_session_run(s, &err);
 *     const float *emb = pl_session_output(s, 0, &rank, out_dims);
 */
#ifndef PL_SESSION_H
#define PL_SESSION_H

#include "engine/graph.h"

typedef struct pl_session pl_session;

typedef enum pl_kernel_mode {
    PL_KERNELS_FAST = 0, /* the fastest path available on this CPU         */
    PL_KERNELS_REFERENCE /* plain C for every operator (tests, debugging)  */
} pl_kernel_mode;

pl_session *pl_session_new(pl_graph *g, int n_threads, pl_error *err);
void pl_session_free(pl_session *s);
void pl_session_set_kernels(pl_session *s, pl_kernel_mode mode);

pl_status pl_session_set_input_shape(pl_session *s, int input, int rank,
                                     const int64_t *dims, pl_error *err);
float *pl_session_input(pl_session *s, int input);
pl_status pl_session_run(pl_session *s, pl_error *err);
const float *pl_session_output(pl_session *s, int output, int *rank,
                               int64_t *dims);
/* pl_session_run reading input `input` from data (its shape as set, the
 * same layout) instead of from the arena, so the caller's tensor need not
 * be copied in first (fr_detect's 0.9 MB image: a copy per run that the
 * first node, a TRANSPOSE, would read once). data is only read, and only
 * during the call. Where the input's bytes must be in the arena (the
 * input is also a graph output, or keep_all) it is copied there first.
 * Afterwards pl_session_input's buffer does not hold this input. */
pl_status pl_session_run_from(pl_session *s, int input, const float *data, pl_error *err);

/* Any tensor by index, valid after a run while its memory is not reused;
 * with pl_session_keep_all(s, 1) every tensor keeps its own memory, for
 * layer-by-layer comparison against a reference runtime. */
void pl_session_keep_all(pl_session *s, int keep);
const float *pl_session_tensor(pl_session *s, int tensor);

/* Band chains (session.c) form across maps of at least this many bytes
 * per item (default 1 MB); tests set 0 to chain small maps too. */
void pl_session_set_band_min_bytes(pl_session *s, size_t bytes);

/* Bytes of the activation arena for the current shape (for tests/benches). */
size_t pl_session_arena_bytes(const pl_session *s);

#endif
