/* loader.c — any model file -> an optimised graph, and the public pl_model
 * (graph + session) of pasalista.h.
 *
 * Owns: recognising a model file by content (TFLite "TFL3" at byte 4, an
 * ONNX protobuf starting with field 1 = ir_version, a TF.js model.json with
 * "modelTopology") or by name (face-api "<arch>_model-weights_manifest.json"),
 * handing it to its reader, and the load-time rewrites; then running a
 * model on a caller's tensor, including batches larger than the file's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/session.h"
#include "formats/formats.h"
#include "pasalista.h"
#include "util/error.h"

typedef enum { FMT_UNKNOWN, FMT_TFLITE, FMT_ONNX, FMT_TFJS, FMT_FACEAPI } model_format;

#define FACEAPI_SUFFIX "_model-weights_manifest.json"
#define SNIFF_BYTES 65536

static const char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

/* The face-api architecture a manifest's name implies ("age_gender"), or 0. */
static int faceapi_arch(const char *path, char *arch, size_t size)
{
    const char *b = base_name(path);
    size_t n = strlen(b), s = strlen(FACEAPI_SUFFIX);
    if (n <= s || strcmp(b + n - s, FACEAPI_SUFFIX) != 0 || n - s >= size) return 0;
    memcpy(arch, b, n - s);
    arch[n - s] = '\0';
    return 1;
}

static pl_status sniff(const char *path, model_format *fmt, char *arch, size_t arch_size,
                       pl_error *err)
{
    *fmt = FMT_UNKNOWN;
    if (faceapi_arch(path, arch, arch_size)) {
        *fmt = FMT_FACEAPI;
        return PL_OK;
    }
    FILE *f = fopen(path, "rb");
    if (!f) return pl_fail(err, PL_ERR_IO, "%s: cannot open model file", path);
    char *buf = malloc(SNIFF_BYTES + 1);
    if (!buf) {
        fclose(f);
        return pl_fail(err, PL_ERR_NOMEM, "%s: out of memory", path);
    }
    size_t n = fread(buf, 1, SNIFF_BYTES, f);
    fclose(f);
    buf[n] = '\0';
    size_t i = 0;
    while (i < n && (buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\r' || buf[i] == '\t')) i++;
    if (n >= 8 && memcmp(buf + 4, "TFL3", 4) == 0) *fmt = FMT_TFLITE;
    else if (i < n && buf[i] == '{' && strstr(buf + i, "\"modelTopology\"")) *fmt = FMT_TFJS;
    else if (n >= 2 && (unsigned char)buf[0] == 0x08) *fmt = FMT_ONNX; /* field 1, varint */
    free(buf);
    if (*fmt == FMT_UNKNOWN)
        return pl_fail(err, PL_ERR_FORMAT,
                       "%s: not a model file this engine reads (expected .tflite, .onnx, a TF.js "
                       "model.json or a face-api *%s)",
                       path, FACEAPI_SUFFIX);
    return PL_OK;
}

static pl_graph *load_graph(const char *path, model_format *fmt_out, pl_error *err)
{
    model_format fmt;
    char arch[128];
    if (sniff(path, &fmt, arch, sizeof arch, err) != PL_OK) return NULL;
    if (fmt_out) *fmt_out = fmt;
    pl_graph *g = NULL;
    switch (fmt) {
    case FMT_TFLITE: g = pl_tflite_load(path, err); break;
    case FMT_ONNX: g = pl_onnx_load(path, err); break;
    case FMT_TFJS: g = pl_tfjs_load(path, err); break;
    case FMT_FACEAPI: g = pl_faceapi_load(path, arch, err); break;
    default: break;
    }
    if (!g) return NULL;
    if (pl_graph_validate(g, err) != PL_OK || pl_graph_optimize(g, err) != PL_OK) {
        pl_graph_free(g);
        return NULL;
    }
    return g;
}

pl_graph *pl_model_graph_load(const char *path, pl_error *err)
{
    return load_graph(path, NULL, err);
}

/* ---- pl_model ---------------------------------------------------------------- */

#define MAX_OUT 16

struct pl_model {
    pl_graph *g;
    pl_session *s;
    model_format fmt;
    int shaped;                       /* the session is planned for cur_dims */
    int cur_rank;
    int64_t cur_dims[PL_MAX_RANK];
    /* item-by-item runs: stacked outputs, owned here */
    int stacked;
    float *out[MAX_OUT];
    size_t out_cap[MAX_OUT];
    int out_rank[MAX_OUT];
    int64_t out_dims[MAX_OUT][PL_MAX_RANK];
};

pl_model *pl_model_load(const char *path, int n_threads, pl_error *err)
{
    pl_model *m = calloc(1, sizeof *m);
    if (!m) {
        pl_fail(err, PL_ERR_NOMEM, "%s: out of memory", path);
        return NULL;
    }
    m->g = load_graph(path, &m->fmt, err);
    if (m->g) m->s = pl_session_new(m->g, n_threads, err);
    if (!m->s) {
        pl_model_free(m);
        return NULL;
    }
    return m;
}

void pl_model_free(pl_model *m)
{
    if (!m) return;
    pl_session_free(m->s);
    pl_graph_free(m->g);
    for (int i = 0; i < MAX_OUT; i++) free(m->out[i]);
    free(m);
}

int pl_model_n_inputs(const pl_model *m) { return m->g->n_inputs; }
int pl_model_n_outputs(const pl_model *m) { return m->g->n_outputs; }

int pl_model_input_shape(const pl_model *m, int input, int64_t *dims)
{
    if (input < 0 || input >= m->g->n_inputs) return -1;
    int r = m->g->input_rank[input];
    if (dims) memcpy(dims, m->g->input_dims[input], sizeof(int64_t) * (size_t)r);
    return r;
}

const char *pl_model_input_layout(const pl_model *m, int input)
{
    if (input < 0 || input >= m->g->n_inputs || m->g->input_rank[input] != 4) return "";
    return m->fmt == FMT_ONNX ? "NCHW" : "NHWC";
}

const char *pl_model_input_name(const pl_model *m, int input)
{
    if (input < 0 || input >= m->g->n_inputs) return NULL;
    return m->g->tensors[m->g->inputs[input]].name;
}

const char *pl_model_output_name(const pl_model *m, int output)
{
    if (output < 0 || output >= m->g->n_outputs) return NULL;
    return m->g->tensors[m->g->outputs[output]].name;
}

void pl_model_set_reference(pl_model *m, int reference)
{
    pl_session_set_kernels(m->s, reference ? PL_KERNELS_REFERENCE : PL_KERNELS_FAST);
}

static int64_t count(int rank, const int64_t *dims)
{
    int64_t n = 1;
    for (int i = 0; i < rank; i++) n *= dims[i];
    return n;
}

static pl_status shape_for(pl_model *m, int rank, const int64_t *dims, pl_error *err)
{
    if (m->shaped && rank == m->cur_rank &&
        !memcmp(dims, m->cur_dims, sizeof(int64_t) * (size_t)rank))
        return PL_OK;
    m->shaped = 0;
    pl_status st = pl_session_set_input_shape(m->s, 0, rank, dims, err);
    if (st != PL_OK) return st;
    m->shaped = 1;
    m->cur_rank = rank;
    memcpy(m->cur_dims, dims, sizeof(int64_t) * (size_t)rank);
    return PL_OK;
}

/* One run on in, of the session's input shape: read in place, not copied
 * into the session first. */
static pl_status run_once(pl_model *m, const float *in, pl_error *err)
{
    return pl_session_run_from(m->s, 0, in, err);
}

/* Items of `per` along the first axis, one run each; outputs stacked. */
static pl_status run_items(pl_model *m, const float *in, int rank, const int64_t *dims,
                           int64_t per, pl_error *err)
{
    int64_t d[PL_MAX_RANK];
    memcpy(d, dims, sizeof(int64_t) * (size_t)rank);
    d[0] = per;
    pl_status st = shape_for(m, rank, d, err);
    if (st != PL_OK) return st;
    int64_t runs = dims[0] / per, item = count(rank, d);
    int n_out = m->g->n_outputs < MAX_OUT ? m->g->n_outputs : MAX_OUT;
    for (int64_t r = 0; r < runs; r++) {
        if ((st = run_once(m, in + r * item, err)) != PL_OK) return st;
        for (int k = 0; k < n_out; k++) {
            int orank;
            int64_t od[PL_MAX_RANK];
            const float *y = pl_session_output(m->s, k, &orank, od);
            int64_t on = count(orank, od);
            if (r == 0) {
                size_t need = sizeof(float) * (size_t)(on * runs);
                if (need > m->out_cap[k]) {
                    float *p = realloc(m->out[k], need);
                    if (!p) return pl_fail(err, PL_ERR_NOMEM, "%s: out of memory", m->g->source);
                    m->out[k] = p;
                    m->out_cap[k] = need;
                }
                m->out_rank[k] = orank ? orank : 1;
                memcpy(m->out_dims[k], od, sizeof(int64_t) * (size_t)orank);
                if (!orank) m->out_dims[k][0] = 1;
                m->out_dims[k][0] *= runs;
            }
            memcpy(m->out[k] + r * on, y, sizeof(float) * (size_t)on);
        }
    }
    m->stacked = 1;
    return PL_OK;
}

pl_status pl_model_run(pl_model *m, const float *in, int rank, const int64_t *dims,
                       pl_error *err)
{
    const pl_graph *g = m->g;
    if (g->n_inputs != 1)
        return pl_fail(err, PL_ERR_UNSUPPORTED, "%s: the model has %d inputs; pl_model_run feeds one",
                       g->source, g->n_inputs);
    if (rank != g->input_rank[0]) {
        char want[96] = "";
        size_t off = 0;
        for (int i = 0; i < g->input_rank[0] && off < sizeof want; i++)
            off += (size_t)snprintf(want + off, sizeof want - off, "%s%lld", i ? "," : "",
                                    (long long)g->input_dims[0][i]);
        return pl_fail(err, PL_ERR_ARG, "%s: input has rank %d, the model expects [%s] (%s)",
                       g->source, rank, want, pl_model_input_layout(m, 0));
    }
    m->stacked = 0;
    pl_error first = {0};
    pl_status st = shape_for(m, rank, dims, &first);
    if (st == PL_OK) return run_once(m, in, err);
    /* The graph does not take this batch whole: run it in pieces of the
     * declared batch (or of 1). */
    int64_t declared = g->input_dims[0][0];
    int64_t per = declared > 0 && rank > 0 && dims[0] > declared && dims[0] % declared == 0 ? declared : 1;
    if (rank == 0 || dims[0] <= per || run_items(m, in, rank, dims, per, NULL) != PL_OK) {
        if (err) *err = first;
        return first.code ? first.code : PL_ERR_INTERNAL;
    }
    return PL_OK;
}

const float *pl_model_output(const pl_model *m, int output, int *rank, int64_t *dims)
{
    if (output < 0 || output >= m->g->n_outputs) return NULL;
    if (m->stacked) {
        if (output >= MAX_OUT) return NULL;
        if (rank) *rank = m->out_rank[output];
        if (dims) memcpy(dims, m->out_dims[output], sizeof(int64_t) * (size_t)m->out_rank[output]);
        return m->out[output];
    }
    return pl_session_output(m->s, output, rank, dims);
}
