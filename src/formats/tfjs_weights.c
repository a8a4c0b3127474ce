/* tfjs_weights.c — TF.js weight manifests: shards, dtypes, dequantisation
 * (see tfjs_internal.h). */
#include "formats/tfjs_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/fs.h"

float pl_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31;
    uint32_t exp = (h >> 10) & 0x1F, man = h & 0x3FF, bits;
    if (exp == 0x1F) {
        bits = sign | 0x7F800000u | (man << 13); /* inf, NaN (payload kept) */
    } else if (exp != 0) {
        bits = sign | ((exp + 112) << 23) | (man << 13);
    } else if (man == 0) {
        bits = sign; /* +-0 */
    } else {
        /* Subnormal: man * 2^-24, exact in float32. */
        float v = (float)man * 0x1p-24f;
        memcpy(&bits, &v, 4);
        bits |= sign;
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* ---- names -> index --------------------------------------------------------- */
static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    while (*s) h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

static pl_status build_hash(pl_tfjs_weights *ws, const char *name, pl_error *err)
{
    int cap = 16;
    while (cap < 2 * ws->n) cap *= 2;
    ws->hash = calloc((size_t)cap, sizeof *ws->hash);
    if (!ws->hash) return pl_fail(err, PL_ERR_NOMEM, "%s: out of memory", name);
    ws->hash_cap = cap;
    for (int i = 0; i < ws->n; i++) {
        uint32_t h = hash_str(ws->w[i].name) & (uint32_t)(cap - 1);
        while (ws->hash[h]) {
            if (strcmp(ws->w[ws->hash[h] - 1].name, ws->w[i].name) == 0)
                return pl_fail(err, PL_ERR_FORMAT, "%s: weight '%s' appears twice in the manifest",
                               name, ws->w[i].name);
            h = (h + 1) & (uint32_t)(cap - 1);
        }
        ws->hash[h] = i + 1;
    }
    return PL_OK;
}

pl_tfjs_weight *pl_tfjs_weights_find(const pl_tfjs_weights *ws, const char *name)
{
    if (!ws->hash_cap || !name) return NULL;
    uint32_t h = hash_str(name) & (uint32_t)(ws->hash_cap - 1);
    while (ws->hash[h]) {
        pl_tfjs_weight *w = &ws->w[ws->hash[h] - 1];
        if (strcmp(w->name, name) == 0) return w;
        h = (h + 1) & (uint32_t)(ws->hash_cap - 1);
    }
    return NULL;
}

void pl_tfjs_weights_free(pl_tfjs_weights *ws)
{
    if (!ws) return;
    for (int i = 0; i < ws->n; i++) {
        free(ws->w[i].name);
        free(ws->w[i].data);
        free(ws->w[i].ival);
    }
    free(ws->w);
    free(ws->hash);
    memset(ws, 0, sizeof *ws);
}

/* ---- one manifest entry -------------------------------------------------------- */
typedef enum stored { ST_F32, ST_I32, ST_F16, ST_U8, ST_U16 } stored;
static const int stored_bytes[] = {4, 4, 2, 1, 2};

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Shape [d0, d1, ...]: each a positive integer, the product bounded. */
static pl_status read_shape(const pl_json *shape, pl_tfjs_weight *w, const char *name, pl_error *err)
{
    if (!pl_json_is(shape, PL_JSON_ARRAY))
        return pl_fail(err, PL_ERR_FORMAT, "%s: weight '%s': no shape array", name, w->name);
    int rank = pl_json_len(shape);
    if (rank > PL_MAX_RANK)
        return pl_fail(err, PL_ERR_UNSUPPORTED, "%s: weight '%s': rank %d (at most %d)", name,
                       w->name, rank, PL_MAX_RANK);
    w->rank = rank;
    w->numel = 1;
    for (int i = 0; i < rank; i++) {
        long long d;
        if (!pl_json_as_int64(pl_json_at(shape, i), &d) || d < 1 || d > (1LL << 31))
            return pl_fail(err, PL_ERR_FORMAT, "%s: weight '%s': bad size on axis %d", name,
                           w->name, i);
        w->dims[i] = d;
        w->numel *= d;
        if (w->numel > (int64_t)(PL_TFJS_MAX_WEIGHT_BYTES / 4))
            return pl_fail(err, PL_ERR_FORMAT, "%s: weight '%s': shape too large", name, w->name);
    }
    return PL_OK;
}

static pl_status read_dtype(const pl_json *e, pl_tfjs_weight *w, stored *st, double *scale,
                            double *min, const char *name, pl_error *err)
{
    const char *dtype = pl_json_as_string(pl_json_get(e, "dtype"), NULL);
    if (!dtype) return pl_fail(err, PL_ERR_FORMAT, "%s: weight '%s': no dtype", name, w->name);
    if (strcmp(dtype, "float32") == 0) *st = ST_F32;
    else if (strcmp(dtype, "int32") == 0) { *st = ST_I32; w->is_int = 1; }
    else return pl_fail(err, PL_ERR_UNSUPPORTED, "%s: weight '%s': dtype '%.40s' (float32 and int32 only)",
                        name, w->name, dtype);
    const pl_json *q = pl_json_get(e, "quantization");
    if (!q) return PL_OK;
    const char *qd = pl_json_as_string(pl_json_get(q, "dtype"), NULL);
    if (!qd) return pl_fail(err, PL_ERR_FORMAT, "%s: weight '%s': quantization without dtype", name, w->name);
    if (strcmp(qd, "float16") == 0) {
        if (w->is_int)
            return pl_fail(err, PL_ERR_UNSUPPORTED, "%s: weight '%s': float16 int32", name, w->name);
        *st = ST_F16;
        return PL_OK;
    }
    if (strcmp(qd, "uint8") == 0) *st = ST_U8;
    else if (strcmp(qd, "uint16") == 0) *st = ST_U16;
    else return pl_fail(err, PL_ERR_UNSUPPORTED, "%s: weight '%s': quantization dtype '%.40s'",
                        name, w->name, qd);
    const pl_json *js = pl_json_get(q, "scale"), *jm = pl_json_get(q, "min");
    if (!pl_json_is(js, PL_JSON_NUMBER) || !pl_json_is(jm, PL_JSON_NUMBER))
        return pl_fail(err, PL_ERR_FORMAT, "%s: weight '%s': %s quantization needs scale and min",
                       name, w->name, qd);
    *scale = js->number;
    *min = jm->number;
    return PL_OK;
}

/* Decode numel values of stored type st from p into w. */
static pl_status decode_values(pl_tfjs_weight *w, stored st, double scale, double min,
                               const uint8_t *p, const char *name, pl_error *err)
{
    size_t n = (size_t)w->numel;
    if (w->is_int) {
        w->ival = malloc(n * sizeof *w->ival);
        if (!w->ival) return pl_fail(err, PL_ERR_NOMEM, "%s: weight '%s': out of memory", name, w->name);
    } else {
        w->data = malloc(n * sizeof *w->data);
        if (!w->data) return pl_fail(err, PL_ERR_NOMEM, "%s: weight '%s': out of memory", name, w->name);
    }
    for (size_t i = 0; i < n; i++) {
        double v;
        switch (st) {
        case ST_F32: { uint32_t b = rd32(p + 4 * i); float f; memcpy(&f, &b, 4); v = f; break; }
        case ST_I32: v = (double)(int32_t)rd32(p + 4 * i); break;
        case ST_F16: v = pl_f16_to_f32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8)); break;
        case ST_U8: v = p[i] * scale + min; break;
        default: v = (uint16_t)(p[2 * i] | p[2 * i + 1] << 8) * scale + min; break;
        }
        if (w->is_int) {
            /* A quantised int32 tensor rounds back to integers, as TF.js does. */
            if (!(fabs(v) < 2147483648.0))
                return pl_fail(err, PL_ERR_FORMAT, "%s: weight '%s': int32 value out of range", name, w->name);
            w->ival[i] = (int64_t)llround(v);
        } else {
            /* As TF.js: q*scale+min in double, rounded once to float32. */
            w->data[i] = (float)v;
        }
    }
    return PL_OK;
}

static pl_status decode_entry(const pl_json *e, const uint8_t *bin, size_t len, size_t *off,
                              pl_tfjs_weight *w, const char *name, pl_error *err)
{
    const char *wname = pl_json_as_string(pl_json_get(e, "name"), NULL);
    if (!wname) return pl_fail(err, PL_ERR_FORMAT, "%s: a weight has no name", name);
    w->name = strdup(wname);
    if (!w->name) return pl_fail(err, PL_ERR_NOMEM, "%s: out of memory", name);
    stored st = ST_F32;
    double scale = 0, min = 0;
    pl_status s = read_shape(pl_json_get(e, "shape"), w, name, err);
    if (s == PL_OK) s = read_dtype(e, w, &st, &scale, &min, name, err);
    if (s != PL_OK) return s;
    size_t bytes = (size_t)w->numel * (size_t)stored_bytes[st];
    if (*off > len || bytes > len - *off)
        return pl_fail(err, PL_ERR_FORMAT,
                       "%s: truncated weights: '%s' needs bytes %zu..%zu but there are %zu",
                       name, w->name, *off, *off + bytes, len);
    s = decode_values(w, st, scale, min, bin + *off, name, err);
    *off += bytes;
    return s;
}

pl_status pl_tfjs_weights_decode(const pl_json *manifest, const uint8_t *bin, size_t len,
                                 const char *name, pl_tfjs_weights *out, pl_error *err)
{
    memset(out, 0, sizeof *out);
    if (!pl_json_is(manifest, PL_JSON_ARRAY))
        return pl_fail(err, PL_ERR_FORMAT, "%s: weightsManifest is not an array", name);
    int total = 0;
    for (int g = 0; g < pl_json_len(manifest); g++) {
        const pl_json *ws = pl_json_get(pl_json_at(manifest, g), "weights");
        if (!pl_json_is(ws, PL_JSON_ARRAY))
            return pl_fail(err, PL_ERR_FORMAT, "%s: weightsManifest[%d] has no weights array", name, g);
        total += pl_json_len(ws);
        if (total > PL_TFJS_MAX_ENTRIES)
            return pl_fail(err, PL_ERR_FORMAT, "%s: more than %d weights", name, PL_TFJS_MAX_ENTRIES);
    }
    out->w = calloc((size_t)total + 1, sizeof *out->w);
    if (!out->w) return pl_fail(err, PL_ERR_NOMEM, "%s: out of memory", name);
    size_t off = 0;
    pl_status s = PL_OK;
    for (int g = 0; g < pl_json_len(manifest) && s == PL_OK; g++) {
        const pl_json *ws = pl_json_get(pl_json_at(manifest, g), "weights");
        for (int i = 0; i < pl_json_len(ws) && s == PL_OK; i++) {
            s = decode_entry(pl_json_at(ws, i), bin, len, &off, &out->w[out->n], name, err);
            out->n++; /* counted even on failure, so that free sees it */
        }
    }
    if (s == PL_OK && off != len)
        s = pl_fail(err, PL_ERR_FORMAT, "%s: the manifest describes %zu bytes of weights but there are %zu",
                    name, off, len);
    if (s == PL_OK) s = build_hash(out, name, err);
    if (s != PL_OK) pl_tfjs_weights_free(out);
    return s;
}

/* ---- shards ---------------------------------------------------------------------- */
static int safe_relative_path(const char *p)
{
    if (!*p || p[0] == '/' || strstr(p, "..") || strchr(p, '\\')) return 0;
    return 1;
}

pl_status pl_tfjs_read_shards(const pl_json *manifest, const char *json_path, uint8_t **bin,
                              size_t *len, pl_error *err)
{
    *bin = NULL;
    *len = 0;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", json_path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    else snprintf(dir, sizeof dir, ".");
    if (!pl_json_is(manifest, PL_JSON_ARRAY))
        return pl_fail(err, PL_ERR_FORMAT, "%s: weightsManifest is not an array", json_path);
    uint8_t *all = NULL;
    size_t n = 0;
    for (int g = 0; g < pl_json_len(manifest); g++) {
        const pl_json *paths = pl_json_get(pl_json_at(manifest, g), "paths");
        if (!pl_json_is(paths, PL_JSON_ARRAY)) {
            free(all);
            return pl_fail(err, PL_ERR_FORMAT, "%s: weightsManifest[%d] has no paths array", json_path, g);
        }
        for (int i = 0; i < pl_json_len(paths); i++) {
            const char *p = pl_json_as_string(pl_json_at(paths, i), NULL);
            char full[4096];
            if (!p || !safe_relative_path(p) || !pl_path_join(full, sizeof full, dir, p)) {
                free(all);
                return pl_fail(err, PL_ERR_FORMAT, "%s: weightsManifest[%d].paths[%d] is not a file name next to the json",
                               json_path, g, i);
            }
            uint8_t *data;
            size_t dlen;
            if (pl_read_file(full, PL_TFJS_MAX_WEIGHT_BYTES, &data, &dlen, err) != PL_OK) {
                free(all);
                return err ? err->code : PL_ERR_IO;
            }
            if (dlen > PL_TFJS_MAX_WEIGHT_BYTES - n) {
                free(data);
                free(all);
                return pl_fail(err, PL_ERR_NOMEM, "%s: weight shards exceed %zu bytes", json_path,
                               PL_TFJS_MAX_WEIGHT_BYTES);
            }
            uint8_t *grown = realloc(all, n + dlen + 1);
            if (!grown) {
                free(data);
                free(all);
                return pl_fail(err, PL_ERR_NOMEM, "%s: out of memory", json_path);
            }
            all = grown;
            memcpy(all + n, data, dlen);
            n += dlen;
            free(data);
        }
    }
    *bin = all;
    *len = n;
    return PL_OK;
}
