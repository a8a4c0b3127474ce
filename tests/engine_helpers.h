/* engine_helpers.h — small builders for the engine tests: hand-made graphs
 * and a one-call "run this graph on this input". */
#ifndef PL_ENGINE_HELPERS_H
#define PL_ENGINE_HELPERS_H

#include <stdlib.h>
#include <string.h>

#include "engine/graph.h"
#include "engine/session.h"

/* A constant with a copy of vals (or zeros when vals is NULL). */
static inline int h_const(pl_graph *g, const char *name, int rank, const int64_t *dims,
                          const float *vals)
{
    int64_t n = 1;
    for (int i = 0; i < rank; i++) n *= dims[i];
    float *d = calloc((size_t)n + 1, sizeof(float));
    if (vals) memcpy(d, vals, sizeof(float) * (size_t)n);
    return pl_graph_add_const(g, name, rank, dims, d);
}

static inline int h_input(pl_graph *g, const char *name, int rank, const int64_t *dims)
{
    int t = pl_graph_add_tensor(g, name);
    pl_graph_add_input(g, t, rank, dims);
    return t;
}

/* Node with up to 4 inputs (n_in of them) and a fresh output tensor. */
static inline pl_node *h_node(pl_graph *g, pl_op op, int n_in, int a, int b, int c, int d,
                              int *out)
{
    char name[32];
    snprintf(name, sizeof name, "n%d", g->n_nodes);
    int o = pl_graph_add_tensor(g, name);
    int in[4] = {a, b, c, d};
    if (out) *out = o;
    return pl_graph_add_node(g, op, name, in, n_in, &o, 1);
}

/* Runs g on one input; returns a malloc'd copy of output k (NULL on error). */
static inline float *h_run(pl_graph *g, int threads, pl_kernel_mode mode, const float *in,
                           int rank, const int64_t *dims, int k, int *orank, int64_t *odims,
                           pl_error *err)
{
    pl_session *s = pl_session_new(g, threads, err);
    if (!s) return NULL;
    pl_session_set_kernels(s, mode);
    float *res = NULL;
    if (pl_session_set_input_shape(s, 0, rank, dims, err) == PL_OK) {
        int64_t n = 1;
        for (int i = 0; i < rank; i++) n *= dims[i];
        memcpy(pl_session_input(s, 0), in, sizeof(float) * (size_t)n);
        if (pl_session_run(s, err) == PL_OK) {
            int r;
            int64_t od[PL_MAX_RANK];
            const float *y = pl_session_output(s, k, &r, od);
            int64_t m = 1;
            for (int i = 0; i < r; i++) m *= od[i];
            res = malloc(sizeof(float) * (size_t)(m ? m : 1));
            memcpy(res, y, sizeof(float) * (size_t)m);
            if (orank) *orank = r;
            if (odims) memcpy(odims, od, sizeof(int64_t) * (size_t)r);
        }
    }
    pl_session_free(s);
    return res;
}

/* Deterministic pseudo-random floats in [-1, 1). */
static inline void h_fill(float *x, int64_t n, unsigned seed)
{
    unsigned s = seed * 2654435761u + 1;
    for (int64_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = (float)((s >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
}

#endif
