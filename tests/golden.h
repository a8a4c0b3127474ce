/* golden.h — for tests that compare the engine with another runtime's
 * stored outputs (the .npy files under tests/golden/<format>, made by tools/golden/).
 *
 *     npy want;
 *     CHECK(golden_npy_load("tests/golden/tflite", "rnet_out0.npy", &want));
 *     golden_check("rnet out0 fast", y, want.data, want.n, want.data, want.n);
 *     free(want.data);
 *
 * The acceptance rule, the same for every format: cosine >= 0.99999 and
 * max |error| <= 1e-4 x the range of the golden values the caller names
 * (max - min; their largest magnitude when that range is 0, so a one-value
 * output still has a scale). PL_TEST_VERBOSE=1 prints every comparison.
 * golden_session / golden_run run a graph on a stored input;
 * graph_count_op checks a reader's structure against MODELS.md. */
#ifndef PL_TEST_GOLDEN_H
#define PL_TEST_GOLDEN_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/session.h"
#include "test.h"
#include "util/fs.h"

/* A .npy array ('<f4', '<f2' or '|u1', C order), as floats. */
typedef struct npy {
    int rank;
    int64_t dims[8];
    int64_t n;
    float *data;
} npy;

static inline float golden_half_to_float(uint16_t h)
{
    int e = (h >> 10) & 0x1f, m = h & 0x3ff;
    float v = e == 0 ? ldexpf((float)m, -24) : e == 31 ? INFINITY : ldexpf((float)(m | 0x400), e - 25);
    return (h & 0x8000) ? -v : v;
}

/* Parses "'shape': (2, 3, )" into a; 0 when there is none. */
static inline int golden_npy_shape(const char *h, npy *a)
{
    const char *s = strstr(h, "'shape': (");
    if (!s) return 0;
    s += 10;
    a->n = 1;
    while (*s != ')' && a->rank < 8) {
        char *end;
        long long d = strtoll(s, &end, 10);
        if (end == s) break;
        a->dims[a->rank++] = d;
        a->n *= d;
        s = end;
        while (*s == ',' || *s == ' ') s++;
    }
    return 1;
}

/* Reads dir/file; 1 when it is a whole .npy of a type above. */
static inline int golden_npy_load(const char *dir, const char *file, npy *a)
{
    char path[512];
    uint8_t *buf;
    size_t len;
    memset(a, 0, sizeof *a);
    snprintf(path, sizeof path, "%s/%s", dir, file);
    if (pl_read_file(path, 1 << 26, &buf, &len, NULL) != PL_OK) return 0;
    int ok = 0;
    if (len < 10 || memcmp(buf, "\x93NUMPY", 6) != 0) goto out;
    size_t hlen = (size_t)buf[8] | (size_t)buf[9] << 8;
    if (10 + hlen > len) goto out;
    const char *h = (const char *)buf + 10;
    size_t es = strstr(h, "'|u1'") ? 1 : strstr(h, "'<f2'") ? 2 : strstr(h, "'<f4'") ? 4 : 0;
    if (!es || !golden_npy_shape(h, a)) goto out;
    if (10 + hlen + (size_t)a->n * es != len) goto out;
    a->data = malloc((size_t)a->n * sizeof(float) + 1);
    if (!a->data) goto out;
    const uint8_t *p = buf + 10 + hlen;
    for (int64_t i = 0; i < a->n; i++) {
        if (es == 1) a->data[i] = p[i];
        else if (es == 2) a->data[i] = golden_half_to_float((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
        else memcpy(&a->data[i], p + 4 * i, 4);
    }
    ok = 1;
out:
    free(buf);
    return ok;
}

/* The scale errors are measured against: max - min of v, or max |v| when
 * all n are equal. */
static inline double golden_range(const float *v, int64_t n)
{
    double lo = INFINITY, hi = -INFINITY, mag = 0;
    for (int64_t i = 0; i < n; i++) {
        if (v[i] < lo) lo = v[i];
        if (v[i] > hi) hi = v[i];
        if (fabs(v[i]) > mag) mag = fabs(v[i]);
    }
    return hi > lo ? hi - lo : mag;
}

/* The acceptance test on n values: got against want, the tolerance from
 * the golden values range[0, range_n) (the compared ones, or a whole
 * tensor when a slice of it has no range of its own). */
static inline void golden_check(const char *what, const float *got, const float *want, int64_t n,
                                const float *range, int64_t range_n)
{
    double dot = 0, ng = 0, nw = 0, maxerr = 0;
    for (int64_t i = 0; i < n; i++) {
        dot += (double)got[i] * want[i];
        ng += (double)got[i] * got[i];
        nw += (double)want[i] * want[i];
        double e = fabs((double)got[i] - want[i]);
        if (!(e <= maxerr)) maxerr = e; /* NaN sticks */
    }
    double cosine = (ng == 0 && nw == 0) ? 1 : dot / sqrt(ng * nw);
    double scale = golden_range(range, range_n), tol = 1e-4 * scale;
    if (getenv("PL_TEST_VERBOSE"))
        printf("    %-40s n=%-7lld cosine %.9f  max err %.3g (tol %.3g)\n", what, (long long)n, cosine,
               maxerr, tol);
    CHECK_MSG(cosine >= 0.99999, "%s: cosine %.9f < 0.99999", what, cosine);
    CHECK_MSG(maxerr <= tol, "%s: max abs error %.4g > %.4g (1e-4 x range %.4g)", what, maxerr, tol, scale);
}

/* A session on g with the given kernels, threads and input 0's shape;
 * NULL (and err) on failure. */
static inline pl_session *golden_session(pl_graph *g, pl_kernel_mode mode, int threads, int rank,
                                         const int64_t *dims, pl_error *err)
{
    pl_session *s = pl_session_new(g, threads, err);
    if (!s) return NULL;
    pl_session_set_kernels(s, mode);
    if (pl_session_set_input_shape(s, 0, rank, dims, err) != PL_OK) {
        pl_session_free(s);
        return NULL;
    }
    return s;
}

/* Copies the n floats of x into input 0 and runs s. */
static inline pl_status golden_run(pl_session *s, const float *x, int64_t n, pl_error *err)
{
    memcpy(pl_session_input(s, 0), x, (size_t)n * sizeof(float));
    return pl_session_run(s, err);
}

/* How many nodes of g run op. */
static inline int graph_count_op(const pl_graph *g, pl_op op)
{
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++) n += g->nodes[i].op == op;
    return n;
}

#endif
