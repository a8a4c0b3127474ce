/* export.c — the gallery as a NumPy .npz, for people who want to look at
 * the embeddings with their own tools.
 *
 * An .npz is a zip of .npy files. For each model M in the database it holds
 * M.embeddings (N×D float32, one row per enrolled photo, as stored) and
 * M.names (N fixed-width unicode strings, '<U…', the row's student), so
 * numpy.load(path) reads it with allow_pickle=False.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zip.h>

#include "attend/attend.h"
#include "formats/npy.h"

/* Decode one UTF-8 code point; invalid bytes become U+FFFD. */
static uint32_t next_codepoint(const unsigned char **p)
{
    const unsigned char *s = *p;
    uint32_t c = s[0];
    int extra = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
    if (c >= 0x80 && c < 0xc0) extra = -1;
    if (extra < 0) {
        *p = s + 1;
        return 0xfffd;
    }
    c &= extra == 3 ? 0x07 : extra == 2 ? 0x0f : extra == 1 ? 0x1f : 0x7f;
    for (int i = 1; i <= extra; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            *p = s + i;
            return 0xfffd;
        }
        c = c << 6 | (s[i] & 0x3f);
    }
    *p = s + extra + 1;
    return c;
}

static int utf8_length(const char *s)
{
    int n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; n++) next_codepoint(&p);
    return n;
}

/* A 1-D '<U width' array of the names, as .npy bytes. */
static pl_status encode_names(char **names, int n, uint8_t **out, size_t *len, pl_error *err)
{
    int width = 1;
    for (int i = 0; i < n; i++)
        if (utf8_length(names[i]) > width) width = utf8_length(names[i]);
    char header[128];
    int hl = snprintf(header, sizeof header, "{'descr': '<U%d', 'fortran_order': False, 'shape': (%d,), }",
                      width, n);
    size_t total_header = 10 + (size_t)hl + 1;
    size_t pad = (64 - total_header % 64) % 64;
    size_t data_len = (size_t)n * width * 4;
    size_t size = total_header + pad + data_len;
    uint8_t *buf = calloc(1, size);
    if (!buf) return pl_fail(err, PL_ERR_NOMEM, "export: out of memory");
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    size_t header_len = (size_t)hl + pad + 1;
    buf[8] = (uint8_t)(header_len & 0xff);
    buf[9] = (uint8_t)(header_len >> 8);
    memcpy(buf + 10, header, (size_t)hl);
    memset(buf + 10 + hl, ' ', pad);
    buf[10 + hl + pad] = '\n';
    uint8_t *d = buf + total_header + pad;
    for (int i = 0; i < n; i++) {
        const unsigned char *p = (const unsigned char *)names[i];
        for (int k = 0; *p && k < width; k++) {
            uint32_t c = next_codepoint(&p);
            uint8_t *cell = d + ((size_t)i * width + k) * 4;
            cell[0] = (uint8_t)c;
            cell[1] = (uint8_t)(c >> 8);
            cell[2] = (uint8_t)(c >> 16);
            cell[3] = (uint8_t)(c >> 24);
        }
    }
    *out = buf;
    *len = size;
    return PL_OK;
}

/* Add a buffer to the archive; libzip frees it when the archive closes. */
static pl_status add_entry(zip_t *z, const char *name, uint8_t *data, size_t len, const char *path,
                           pl_error *err)
{
    zip_source_t *src = zip_source_buffer(z, data, len, 1);
    if (!src) {
        free(data);
        return pl_fail(err, PL_ERR_IO, "%s: %s", path, zip_strerror(z));
    }
    zip_int64_t idx = zip_file_add(z, name, src, ZIP_FL_OVERWRITE | ZIP_FL_ENC_UTF_8);
    if (idx < 0) {
        zip_source_free(src);
        return pl_fail(err, PL_ERR_IO, "%s: %s", path, zip_strerror(z));
    }
    zip_set_file_compression(z, (zip_uint64_t)idx, ZIP_CM_STORE, 0);
    return PL_OK;
}

static pl_status add_model(pl_app *app, zip_t *z, const char *model, const char *path, pl_error *err)
{
    pl_gallery g;
    memset(&g, 0, sizeof g);
    pl_status st = pl_store_gallery_load(app->store, model, &g, err);
    if (st != PL_OK) return st;
    char **names = calloc((size_t)(g.n_rows ? g.n_rows : 1), sizeof *names);
    uint8_t *emb = NULL, *nam = NULL;
    size_t emb_len = 0, nam_len = 0;
    if (!names) st = pl_fail(err, PL_ERR_NOMEM, "export: out of memory");
    for (int r = 0; r < g.n_rows && st == PL_OK; r++) names[r] = g.student_name[g.row_student[r]];
    int64_t dims[2] = {g.n_rows, g.dim};
    if (st == PL_OK) st = pl_npy_encode(2, dims, g.rows, &emb, &emb_len, err);
    if (st == PL_OK) st = encode_names(names, g.n_rows, &nam, &nam_len, err);
    char entry[256];
    snprintf(entry, sizeof entry, "%s.embeddings.npy", model);
    if (st == PL_OK) {
        st = add_entry(z, entry, emb, emb_len, path, err);
        emb = NULL;
    }
    snprintf(entry, sizeof entry, "%s.names.npy", model);
    if (st == PL_OK) {
        st = add_entry(z, entry, nam, nam_len, path, err);
        nam = NULL;
    }
    free(emb);
    free(nam);
    free(names);
    pl_gallery_free(&g);
    return st;
}

pl_status pl_export_npz(pl_app *app, const char *path, pl_error *err)
{
    /* Models present in the database. */
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(pl_store_db(app->store), "SELECT DISTINCT model FROM embeddings ORDER BY model",
                           -1, &q, NULL) != SQLITE_OK)
        return pl_store_fail(app->store, err, "listing models");
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    unlink(tmp);
    int zerr = 0;
    zip_t *z = zip_open(tmp, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    if (!z) {
        sqlite3_finalize(q);
        return pl_fail(err, PL_ERR_IO, "%s: cannot create (libzip error %d)", tmp, zerr);
    }
    pl_status st = PL_OK;
    int models = 0;
    while (st == PL_OK && sqlite3_step(q) == SQLITE_ROW) {
        st = add_model(app, z, (const char *)sqlite3_column_text(q, 0), path, err);
        models++;
    }
    sqlite3_finalize(q);
    if (st == PL_OK && models == 0) st = pl_fail(err, PL_ERR_NOTFOUND, "%s: nothing enrolled yet", pl_store_path(app->store));
    if (st != PL_OK) {
        zip_discard(z);
        unlink(tmp);
        return st;
    }
    if (zip_close(z) != 0) {
        st = pl_fail(err, PL_ERR_IO, "%s: %s", path, zip_strerror(z));
        zip_discard(z);
        unlink(tmp);
        return st;
    }
    if (rename(tmp, path) != 0) {
        unlink(tmp);
        return pl_fail(err, PL_ERR_IO, "%s: cannot rename into place", path);
    }
    return PL_OK;
}
