/* npy.c — see npy.h. The header is a Python dict literal, e.g.
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (1, 112, 112, 3), }
 * padded with spaces to a multiple of 64 bytes and ended by '\n'. */
#include "formats/npy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/fs.h"

#define NPY_MAX_FILE ((size_t)1 << 33)       /* 8 GiB */
#define NPY_MAX_NUMEL ((int64_t)1 << 31)

typedef enum { T_F4, T_F8, T_F2, T_U1, T_I1, T_I4, T_I8 } npy_type;
static const struct { const char *descr; npy_type type; int size; } npy_types[] = {
    {"<f4", T_F4, 4}, {"<f8", T_F8, 8}, {"<f2", T_F2, 2}, {"|u1", T_U1, 1}, {"<u1", T_U1, 1},
    {"|i1", T_I1, 1}, {"<i1", T_I1, 1}, {"<i4", T_I4, 4}, {"<i8", T_I8, 8},
};

/* The value after 'key': in the header text (NULL if absent). */
static const char *dict_value(const char *h, const char *key)
{
    char pat[32];
    snprintf(pat, sizeof pat, "'%s'", key);
    const char *p = strstr(h, pat);
    if (!p) return NULL;
    p += strlen(pat);
    while (*p == ' ') p++;
    if (*p != ':') return NULL;
    p++;
    while (*p == ' ') p++;
    return p;
}

static pl_status parse_shape(const char *p, const char *name, int *rank, int64_t *dims,
                             pl_error *err)
{
    if (*p != '(') return pl_fail(err, PL_ERR_FORMAT, "%s: npy header: shape is not a tuple", name);
    p++;
    int r = 0;
    for (;;) {
        while (*p == ' ') p++;
        if (*p == ')') break;
        if (*p < '0' || *p > '9')
            return pl_fail(err, PL_ERR_FORMAT, "%s: npy header: bad shape entry", name);
        if (r >= PL_MAX_RANK)
            return pl_fail(err, PL_ERR_UNSUPPORTED, "%s: npy: more than %d dimensions", name,
                           PL_MAX_RANK);
        int64_t v = 0;
        while (*p >= '0' && *p <= '9') {
            v = v * 10 + (*p++ - '0');
            if (v > NPY_MAX_NUMEL)
                return pl_fail(err, PL_ERR_FORMAT, "%s: npy: dimension too large", name);
        }
        dims[r++] = v;
        while (*p == ' ') p++;
        if (*p == ',') p++;
        else if (*p != ')') return pl_fail(err, PL_ERR_FORMAT, "%s: npy header: bad shape", name);
    }
    *rank = r;
    return PL_OK;
}

/* IEEE half -> float, subnormals and inf/nan included. */
static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ff, bits;
    if (e == 0x1f) {
        bits = sign | 0x7f800000u | (m << 13);
    } else if (e) {
        bits = sign | ((e + 112) << 23) | (m << 13);
    } else if (m) { /* subnormal: normalise */
        e = 113;
        while (!(m & 0x400)) m <<= 1, e--;
        bits = sign | (e << 23) | ((m & 0x3ff) << 13);
    } else {
        bits = sign;
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static float convert(const uint8_t *p, npy_type t)
{
    switch (t) {
    case T_F4: { float v; memcpy(&v, p, 4); return v; }
    case T_F8: { double v; memcpy(&v, p, 8); return (float)v; }
    case T_F2: return half_to_float((uint16_t)(p[0] | p[1] << 8));
    case T_U1: return (float)p[0];
    case T_I1: return (float)(int8_t)p[0];
    case T_I4: { int32_t v; memcpy(&v, p, 4); return (float)v; }
    case T_I8: { int64_t v; memcpy(&v, p, 8); return (float)v; }
    }
    return 0.0f;
}

pl_status pl_npy_read_memory(const uint8_t *buf, size_t len, const char *name, int *rank,
                             int64_t *dims, float **data, pl_error *err)
{
    *data = NULL;
    if (len < 10 || memcmp(buf, "\x93NUMPY", 6) != 0)
        return pl_fail(err, PL_ERR_FORMAT, "%s: not a .npy file (bad magic)", name);
    int major = buf[6];
    size_t hlen, hoff;
    if (major == 1) {
        hlen = (size_t)buf[8] | (size_t)buf[9] << 8;
        hoff = 10;
    } else if (major == 2 || major == 3) {
        if (len < 12) return pl_fail(err, PL_ERR_FORMAT, "%s: npy: truncated header", name);
        hlen = (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
        hoff = 12;
    } else {
        return pl_fail(err, PL_ERR_UNSUPPORTED, "%s: npy version %d is not supported", name, major);
    }
    if (hlen > len - hoff)
        return pl_fail(err, PL_ERR_FORMAT, "%s: npy: header of %zu bytes runs past the end (%zu bytes)",
                       name, hlen, len);
    char *h = malloc(hlen + 1);
    if (!h) return pl_fail(err, PL_ERR_NOMEM, "%s: out of memory", name);
    memcpy(h, buf + hoff, hlen);
    h[hlen] = '\0';
    pl_status st = PL_OK;
    const char *descr = dict_value(h, "descr"), *fortran = dict_value(h, "fortran_order"),
               *shape = dict_value(h, "shape");
    int ti = -1;
    if (!descr || !fortran || !shape) {
        st = pl_fail(err, PL_ERR_FORMAT, "%s: npy header lacks descr, fortran_order or shape", name);
        goto done;
    }
    for (size_t i = 0; i < sizeof npy_types / sizeof npy_types[0]; i++)
        if (descr[0] == '\'' && !strncmp(descr + 1, npy_types[i].descr, 3) && descr[4] == '\'')
            ti = (int)i;
    if (ti < 0) {
        st = pl_fail(err, PL_ERR_UNSUPPORTED, "%s: npy dtype %.8s is not supported (use '<f4')", name, descr);
        goto done;
    }
    if (strncmp(fortran, "False", 5) != 0) {
        st = pl_fail(err, PL_ERR_UNSUPPORTED, "%s: npy: Fortran-order arrays are not supported", name);
        goto done;
    }
    if ((st = parse_shape(shape, name, rank, dims, err)) != PL_OK) goto done;
    int64_t numel = 1;
    for (int i = 0; i < *rank; i++) {
        numel *= dims[i];
        if (numel > NPY_MAX_NUMEL) {
            st = pl_fail(err, PL_ERR_NOMEM, "%s: npy: array too large", name);
            goto done;
        }
    }
    size_t item = (size_t)npy_types[ti].size, need = (size_t)numel * item;
    size_t have = len - hoff - hlen;
    if (have < need) {
        st = pl_fail(err, PL_ERR_FORMAT, "%s: npy: truncated: data has %zu bytes, shape needs %zu",
                     name, have, need);
        goto done;
    }
    *data = malloc(sizeof(float) * (size_t)(numel ? numel : 1));
    if (!*data) {
        st = pl_fail(err, PL_ERR_NOMEM, "%s: out of memory", name);
        goto done;
    }
    const uint8_t *p = buf + hoff + hlen;
    for (int64_t i = 0; i < numel; i++) (*data)[i] = convert(p + (size_t)i * item, npy_types[ti].type);
done:
    free(h);
    return st;
}

pl_status pl_npy_read(const char *path, int *rank, int64_t *dims, float **data, pl_error *err)
{
    uint8_t *buf;
    size_t len;
    *data = NULL;
    pl_status st = pl_read_file(path, NPY_MAX_FILE, &buf, &len, err);
    if (st != PL_OK) return st;
    st = pl_npy_read_memory(buf, len, path, rank, dims, data, err);
    free(buf);
    return st;
}

pl_status pl_npy_encode(int rank, const int64_t *dims, const float *data, uint8_t **out,
                        size_t *len, pl_error *err)
{
    char h[512];
    int n = snprintf(h, sizeof h, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    int64_t numel = 1;
    for (int i = 0; i < rank; i++) {
        n += snprintf(h + n, sizeof h - (size_t)n, "%s%lld", i ? ", " : "", (long long)dims[i]);
        numel *= dims[i];
    }
    if (rank == 1) n += snprintf(h + n, sizeof h - (size_t)n, ","); /* (5,) is a tuple */
    n += snprintf(h + n, sizeof h - (size_t)n, "), }");
    /* pad with spaces so that the data starts on a 64-byte boundary */
    size_t total = 10 + (size_t)n + 1;
    size_t padded = (total + 63) / 64 * 64;
    size_t hlen = padded - 10;
    *len = padded + sizeof(float) * (size_t)numel;
    *out = malloc(*len);
    if (!*out) return pl_fail(err, PL_ERR_NOMEM, "npy: out of memory");
    memcpy(*out, "\x93NUMPY\x01\x00", 8);
    (*out)[8] = (uint8_t)(hlen & 0xff);
    (*out)[9] = (uint8_t)(hlen >> 8);
    memcpy(*out + 10, h, (size_t)n);
    memset(*out + 10 + n, ' ', hlen - (size_t)n - 1);
    (*out)[padded - 1] = '\n';
    if (numel) memcpy(*out + padded, data, sizeof(float) * (size_t)numel);
    return PL_OK;
}

pl_status pl_npy_write(const char *path, int rank, const int64_t *dims, const float *data,
                       pl_error *err)
{
    if (rank < 0 || rank > PL_MAX_RANK)
        return pl_fail(err, PL_ERR_ARG, "%s: npy: rank %d", path, rank);
    uint8_t *buf;
    size_t len;
    pl_status st = pl_npy_encode(rank, dims, data, &buf, &len, err);
    if (st != PL_OK) return st;
    st = pl_write_file_atomic(path, buf, len, err);
    free(buf);
    return st;
}
