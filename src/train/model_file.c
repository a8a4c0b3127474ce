#include "train/model_file.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEADER_BYTES 88

static int build_small_cnn(tr_net *n)
{
    /* Four conv blocks (16-32-64-64 channels), global average, dropout,
     * two logits: about 61 k weights, ~8 M multiply-adds at 48×48. */
    static const int widths[] = {16, 32, 64, 64};
    for (int i = 0; i < 4; i++) {
        if (!tr_add_conv(n, widths[i], 3) || !tr_add_batchnorm(n) || !tr_add_relu(n)) return 0;
        if (!(i < 3 ? tr_add_maxpool(n) : tr_add_avgpool(n))) return 0;
    }
    return tr_add_dropout(n, 0.3f) && tr_add_dense(n, 2);
}

static int build_head(tr_net *n)
{
    return tr_add_dense(n, 64) && tr_add_batchnorm(n) && tr_add_relu(n) &&
           tr_add_dropout(n, 0.3f) && tr_add_dense(n, 2);
}

pl_status tr_model_build(tr_model *m, const char *arch, int c, int h, int w, int max_batch,
                         pl_error *err)
{
    memset(m, 0, sizeof *m);
    snprintf(m->arch, sizeof m->arch, "%s", arch);
    m->in_c = c, m->in_h = h, m->in_w = w;
    if (c < 1 || h < 1 || w < 1 || (long)c * h * w > (1L << 22))
        return pl_fail(err, PL_ERR_FORMAT, "%s: bad input shape %dx%dx%d", arch, c, h, w);
    tr_net_init(&m->net, c, h, w, max_batch);
    int ok;
    if (!strcmp(arch, "small-cnn"))
        ok = c == 3 && h >= 16 && w >= 16 && build_small_cnn(&m->net);
    else if (!strcmp(arch, "head"))
        ok = h == 1 && w == 1 && build_head(&m->net);
    else
        return pl_fail(err, PL_ERR_UNSUPPORTED, "unknown architecture '%s' (known: small-cnn, head)",
                       arch);
    if (!ok) {
        tr_net_free(&m->net);
        return pl_fail(err, PL_ERR_ARG, "%s: cannot build for input %dx%dx%d (or out of memory)",
                       arch, c, h, w);
    }
    return PL_OK;
}

void tr_model_free(tr_model *m) { tr_net_free(&m->net); }

/* The tensors a file holds, in order: weights and biases, and for
 * batch-norm also its running mean and variance. */
typedef struct tensor_ref {
    float *v;
    int n;
    int layer, kind;
} tensor_ref;

static int list_tensors(tr_net *net, tensor_ref *t, int max)
{
    int k = 0;
    for (int i = 0; i < net->n_layers; i++) {
        tr_layer *L = &net->layers[i];
        if (L->kind != TR_CONV && L->kind != TR_DENSE && L->kind != TR_BATCHNORM) continue;
        float *vs[4] = {L->wt.v, L->bs.v, L->run_mean, L->run_var};
        int ns[4] = {L->wt.n, L->bs.n, L->c, L->c};
        int count = L->kind == TR_BATCHNORM ? 4 : 2;
        for (int j = 0; j < count && k < max; j++) t[k++] = (tensor_ref){vs[j], ns[j], i, L->kind};
    }
    return k;
}

#define MAX_TENSORS (4 * TR_MAX_LAYERS)

void tr_model_copy_weights(tr_model *dst, const tr_model *src)
{
    tensor_ref a[MAX_TENSORS], b[MAX_TENSORS];
    int na = list_tensors(&dst->net, a, MAX_TENSORS);
    int nb = list_tensors((tr_net *)&src->net, b, MAX_TENSORS);
    for (int i = 0; i < na && i < nb; i++)
        if (a[i].n == b[i].n) memcpy(a[i].v, b[i].v, (size_t)a[i].n * sizeof(float));
}

/* FNV-1a: enough to catch a damaged or half-written file. */
static uint32_t fnv1a(const unsigned char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_f32(unsigned char *p, float f)
{
    uint32_t v;
    memcpy(&v, &f, 4);
    put_u32(p, v);
}

static float get_f32(const unsigned char *p)
{
    uint32_t v = get_u32(p);
    float f;
    memcpy(&f, &v, 4);
    return f;
}

pl_status tr_model_save(const tr_model *m, const char *path, pl_error *err)
{
    tensor_ref t[MAX_TENSORS];
    int nt = list_tensors((tr_net *)&m->net, t, MAX_TENSORS);
    size_t size = HEADER_BYTES + 4;
    for (int i = 0; i < nt; i++) size += 12 + 4 * (size_t)t[i].n;
    unsigned char *buf = calloc(1, size);
    if (!buf) return pl_fail(err, PL_ERR_NOMEM, "%s: out of memory", path);
    memcpy(buf, TR_MODEL_MAGIC, 8);
    put_u32(buf + 8, TR_MODEL_VERSION);
    memcpy(buf + 12, m->arch, strnlen(m->arch, 15));
    memcpy(buf + 28, m->feature, strnlen(m->feature, 31));
    put_u32(buf + 60, (uint32_t)m->in_c);
    put_u32(buf + 64, (uint32_t)m->in_h);
    put_u32(buf + 68, (uint32_t)m->in_w);
    put_f32(buf + 72, m->margin);
    put_f32(buf + 76, m->region);
    put_u32(buf + 80, 2);
    put_u32(buf + 84, (uint32_t)nt);
    size_t off = HEADER_BYTES;
    for (int i = 0; i < nt; i++) {
        put_u32(buf + off, (uint32_t)t[i].layer);
        put_u32(buf + off + 4, (uint32_t)t[i].kind);
        put_u32(buf + off + 8, (uint32_t)t[i].n);
        off += 12;
        for (int j = 0; j < t[i].n; j++, off += 4) put_f32(buf + off, t[i].v[j]);
    }
    put_u32(buf + off, fnv1a(buf, off));
    FILE *f = fopen(path, "wb");
    if (!f) {
        free(buf);
        return pl_fail(err, PL_ERR_IO, "%s: cannot create", path);
    }
    size_t wrote = fwrite(buf, 1, size, f);
    int closed = fclose(f);
    free(buf);
    if (wrote != size || closed != 0) return pl_fail(err, PL_ERR_IO, "%s: write failed", path);
    return PL_OK;
}

static pl_status parse(const unsigned char *d, size_t len, const char *name, int max_batch,
                       tr_model *m, pl_error *err)
{
    if (len < 8 || memcmp(d, TR_MODEL_MAGIC, 8) != 0)
        return pl_fail(err, PL_ERR_FORMAT, "%s: not a pasalista gender model (no PLGENDER magic)",
                       name);
    if (len < HEADER_BYTES + 4)
        return pl_fail(err, PL_ERR_FORMAT, "%s: truncated: %zu bytes, header needs %d", name, len,
                       HEADER_BYTES + 4);
    if (get_u32(d + 8) != TR_MODEL_VERSION)
        return pl_fail(err, PL_ERR_UNSUPPORTED, "%s: format version %u (this build reads %d)",
                       name, get_u32(d + 8), TR_MODEL_VERSION);
    if (get_u32(d + len - 4) != fnv1a(d, len - 4))
        return pl_fail(err, PL_ERR_FORMAT, "%s: checksum mismatch (truncated or damaged file)",
                       name);
    char arch[16], feature[32];
    memcpy(arch, d + 12, 15);
    arch[15] = 0;
    memcpy(feature, d + 28, 31);
    feature[31] = 0;
    if (get_u32(d + 80) != 2)
        return pl_fail(err, PL_ERR_FORMAT, "%s: %u classes; a gender model has 2", name,
                       get_u32(d + 80));
    pl_status st = tr_model_build(m, arch, (int)get_u32(d + 60), (int)get_u32(d + 64),
                                  (int)get_u32(d + 68), max_batch, err);
    if (st != PL_OK) return pl_error_prefix(err, "%s: ", name);
    snprintf(m->feature, sizeof m->feature, "%s", feature);
    m->margin = get_f32(d + 72);
    m->region = get_f32(d + 76);
    tensor_ref t[MAX_TENSORS];
    int nt = list_tensors(&m->net, t, MAX_TENSORS);
    if ((int)get_u32(d + 84) != nt)
        return pl_fail(err, PL_ERR_FORMAT, "%s: %u tensors, architecture %s needs %d", name,
                       get_u32(d + 84), arch, nt);
    size_t off = HEADER_BYTES, end = len - 4;
    for (int i = 0; i < nt; i++) {
        if (off + 12 > end)
            return pl_fail(err, PL_ERR_FORMAT, "%s: truncated at tensor %d", name, i);
        uint32_t layer = get_u32(d + off), kind = get_u32(d + off + 4), n = get_u32(d + off + 8);
        if ((int)layer != t[i].layer || (int)kind != t[i].kind || (int)n != t[i].n)
            return pl_fail(err, PL_ERR_FORMAT,
                           "%s: tensor %d is layer %u %s with %u values; %s expects layer %d %s "
                           "with %d (another architecture?)",
                           name, i, layer, tr_kind_name((tr_kind)kind), n, arch, t[i].layer,
                           tr_kind_name((tr_kind)t[i].kind), t[i].n);
        off += 12;
        if ((size_t)n * 4 > end - off)
            return pl_fail(err, PL_ERR_FORMAT, "%s: truncated in tensor %d", name, i);
        for (uint32_t j = 0; j < n; j++, off += 4) t[i].v[j] = get_f32(d + off);
    }
    if (off != end)
        return pl_fail(err, PL_ERR_FORMAT, "%s: %zu unexpected bytes after the last tensor", name,
                       end - off);
    return PL_OK;
}

pl_status tr_model_load_memory(const unsigned char *data, size_t len, const char *name,
                               int max_batch, tr_model *m, pl_error *err)
{
    memset(m, 0, sizeof *m);
    pl_status st = parse(data, len, name, max_batch, m, err);
    if (st != PL_OK) tr_model_free(m);
    return st;
}

pl_status tr_model_load(const char *path, int max_batch, tr_model *m, pl_error *err)
{
    memset(m, 0, sizeof *m);
    FILE *f = fopen(path, "rb");
    if (!f) return pl_fail(err, PL_ERR_IO, "%s: cannot open", path);
    unsigned char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 1 << 16;
            unsigned char *nb = cap <= (64u << 20) ? realloc(buf, cap) : NULL;
            if (!nb) {
                free(buf);
                fclose(f);
                return pl_fail(err, PL_ERR_NOMEM, "%s: too large for a gender model", path);
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    fclose(f);
    pl_status st = tr_model_load_memory(buf, len, path, max_batch, m, err);
    free(buf);
    return st;
}
