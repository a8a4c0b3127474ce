/* gallery.c — students, their enrollment photos and embeddings, and the
 * gallery matrix that matching reads. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sql.h"

/* Vectors are stored as little-endian float32 and read back with memcpy. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "store/gallery.c assumes a little-endian host"
#endif

#define STUDENT_COLS \
    "id, name, slug, student_code, email, gender, consent, consent_date, created"

static void read_student(sqlite3_stmt *st, pl_student *o)
{
    memset(o, 0, sizeof *o);
    o->id = sqlite3_column_int64(st, 0);
    pl_sql_copy_col(st, 1, o->name, sizeof o->name);
    pl_sql_copy_col(st, 2, o->slug, sizeof o->slug);
    pl_sql_copy_col(st, 3, o->code, sizeof o->code);
    pl_sql_copy_col(st, 4, o->email, sizeof o->email);
    pl_sql_copy_col(st, 5, o->gender, sizeof o->gender);
    o->consent = sqlite3_column_int(st, 6);
    pl_sql_copy_col(st, 7, o->consent_date, sizeof o->consent_date);
    pl_sql_copy_col(st, 8, o->created, sizeof o->created);
}

/* ---- slugs ----------------------------------------------------------------- */

/* ASCII letter for a Latin-1 Supplement / Latin Extended-A code point, or 0.
 * Enough for Spanish, Portuguese, French, German, Catalan and the like. */
static char latin_base(unsigned cp)
{
    static const char l1[] = /* U+00C0 .. U+00FF */
        "aaaaaaaceeeeiiiidnooooo0ouuuuyts"
        "aaaaaaaceeeeiiiidnooooo0ouuuuyty";
    if (cp >= 0xC0 && cp <= 0xFF) return l1[cp - 0xC0] == '0' ? 0 : l1[cp - 0xC0];
    if (cp >= 0x100 && cp <= 0x17F) {
        static const char ea[] = /* U+0100 .. U+017F */
            "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiiiiijjkkklllllll"
            "lllnnnnnnnnnoooooooorrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs";
        return ea[cp - 0x100];
    }
    return 0;
}

/* Decode one UTF-8 sequence; returns its length (1 for a stray byte). */
static int utf8_next(const unsigned char *p, unsigned *cp)
{
    if (p[0] < 0x80) { *cp = p[0]; return 1; }
    int n = (p[0] & 0xE0) == 0xC0 ? 2 : (p[0] & 0xF0) == 0xE0 ? 3
          : (p[0] & 0xF8) == 0xF0 ? 4 : 1;
    unsigned v = n == 2 ? p[0] & 0x1F : n == 3 ? p[0] & 0x0F : p[0] & 0x07;
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) { *cp = 0xFFFD; return 1; }
        v = (v << 6) | (p[i] & 0x3F);
    }
    *cp = n == 1 ? 0xFFFD : v;
    return n;
}

void pl_store_slugify(const char *name, char *out, size_t size)
{
    size_t o = 0;
    int dash = 0; /* a separator is pending */
    const unsigned char *p = (const unsigned char *)name;
    while (*p && size > 0) {
        unsigned cp;
        p += utf8_next(p, &cp);
        char c = 0;
        if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9')) c = (char)cp;
        else if (cp >= 'A' && cp <= 'Z') c = (char)(cp - 'A' + 'a');
        else c = latin_base(cp);
        if (!c) { dash = o > 0; continue; }
        if (dash && o + 2 < size) out[o++] = '-';
        dash = 0;
        if (o + 1 < size) out[o++] = c;
    }
    if (size > 0) out[o < size ? o : size - 1] = '\0';
}

/* ---- students -------------------------------------------------------------- */

static pl_status find_by(pl_store *s, const char *sql, const char *text,
                         int64_t id, pl_student *out, int *found, pl_error *err)
{
    sqlite3_stmt *st;
    if (pl_sql_prepare(s, sql, &st, err)) return PL_ERR_DB;
    if (text) sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
    else sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    if (*found) read_student(st, out);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return pl_store_fail(s, err, "looking up a student");
    return PL_OK;
}

pl_status pl_store_student_find(pl_store *s, const char *name_or_slug,
                                pl_student *out, pl_error *err)
{
    int found;
    pl_status st = find_by(s,
        "SELECT " STUDENT_COLS " FROM students WHERE name = ?1 OR slug = ?1 "
        "ORDER BY name = ?1 DESC LIMIT 1", name_or_slug, 0, out, &found, err);
    if (!st && !found)
        return pl_fail(err, PL_ERR_NOTFOUND, "%s: no student '%s'",
                       pl_store_path(s), name_or_slug);
    return st;
}

pl_status pl_store_student_get(pl_store *s, int64_t id, pl_student *out,
                               pl_error *err)
{
    int found;
    pl_status st = find_by(s, "SELECT " STUDENT_COLS " FROM students WHERE id = ?1",
                           NULL, id, out, &found, err);
    if (!st && !found)
        return pl_fail(err, PL_ERR_NOTFOUND, "%s: no student with id %lld",
                       pl_store_path(s), (long long)id);
    return st;
}

/* A slug nobody has yet: base, base-2, base-3, ... ("José" and "Jose" are two
 * people who would otherwise share a folder name). */
static pl_status free_slug(pl_store *s, const char *base, char *out, size_t size,
                           pl_error *err)
{
    sqlite3_stmt *st;
    if (pl_sql_prepare(s, "SELECT 1 FROM students WHERE slug = ?1", &st, err)) return PL_ERR_DB;
    pl_status ret = PL_ERR_DB;
    for (int k = 1; k < 10000; k++) {
        if (k == 1) snprintf(out, size, "%s", base);
        else snprintf(out, size, "%.100s-%d", base, k);
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, out, -1, SQLITE_TRANSIENT);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE) { ret = PL_OK; break; }
        if (rc != SQLITE_ROW) { ret = pl_store_fail(s, err, "choosing a slug"); break; }
    }
    sqlite3_finalize(st);
    return ret;
}

static pl_status insert_student(pl_store *s, const pl_student *in, int64_t *id,
                                pl_error *err)
{
    char base[128], slug[128];
    if (in->slug[0]) snprintf(base, sizeof base, "%s", in->slug);
    else pl_store_slugify(in->name, base, sizeof base);
    if (!base[0]) snprintf(base, sizeof base, "student");
    if (free_slug(s, base, slug, sizeof slug, err)) return PL_ERR_DB;

    sqlite3_stmt *st;
    if (pl_sql_prepare(s, "INSERT INTO students(name, slug, student_code, email, gender,"
                   " consent, consent_date) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                &st, err))
        return PL_ERR_DB;
    sqlite3_bind_text(st, 1, in->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, slug, -1, SQLITE_STATIC);
    pl_sql_bind_opt(st, 3, in->code);
    pl_sql_bind_opt(st, 4, in->email);
    pl_sql_bind_opt(st, 5, in->gender);
    sqlite3_bind_int(st, 6, in->consent ? 1 : 0);
    pl_sql_bind_opt(st, 7, in->consent_date);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        pl_store_fail(s, err, "adding a student");
        return pl_error_prefix(err, "student '%s': ", in->name);
    }
    *id = sqlite3_last_insert_rowid(pl_store_db(s));
    return PL_OK;
}

pl_status pl_store_student_add(pl_store *s, const pl_student *in, int64_t *id,
                               int *created, pl_error *err)
{
    int dummy;
    if (!created) created = &dummy;
    *created = 0;
    size_t len = strnlen(in->name, sizeof in->name);
    if (len == 0 || len >= sizeof in->name)
        return pl_fail(err, PL_ERR_ARG, "%s: a student name must be 1 to %zu bytes",
                       pl_store_path(s), sizeof in->name - 1);
    if (pl_store_begin(s, err)) return PL_ERR_DB;
    pl_student old;
    int found;
    pl_status st = find_by(s, "SELECT " STUDENT_COLS " FROM students WHERE name = ?1",
                           in->name, 0, &old, &found, err);
    if (!st && found) *id = old.id;
    if (!st && !found) {
        st = insert_student(s, in, id, err);
        *created = !st;
    }
    if (!st) st = pl_store_commit(s, err);
    else pl_store_rollback(s);
    return st;
}

pl_status pl_store_student_list(pl_store *s, pl_student **out, int *n,
                                pl_error *err)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st;
    if (pl_sql_prepare(s, "SELECT " STUDENT_COLS " FROM students ORDER BY name, id",
                &st, err))
        return PL_ERR_DB;
    int cap = 0, rc;
    pl_status ret = PL_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            pl_student *grown = realloc(*out, (size_t)cap * sizeof **out);
            if (!grown) { ret = pl_fail(err, PL_ERR_NOMEM, "listing students"); break; }
            *out = grown;
        }
        read_student(st, &(*out)[(*n)++]);
    }
    if (!ret && rc != SQLITE_DONE) ret = pl_store_fail(s, err, "listing students");
    sqlite3_finalize(st);
    if (ret) { free(*out); *out = NULL; *n = 0; }
    return ret;
}

/* Run one statement that takes (?1 = id) and maybe more text binds. */
static pl_status run_id(pl_store *s, const char *sql, int64_t id, const char *what,
                        pl_error *err)
{
    sqlite3_stmt *st;
    if (pl_sql_prepare(s, sql, &st, err)) return PL_ERR_DB;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? PL_OK : pl_store_fail(s, err, what);
}

pl_status pl_store_student_set_consent(pl_store *s, int64_t id, int consent,
                                       const char *date, pl_error *err)
{
    sqlite3_stmt *st;
    if (pl_sql_prepare(s, "UPDATE students SET consent = ?2, consent_date = ?3 WHERE id = ?1",
                &st, err))
        return PL_ERR_DB;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, consent ? 1 : 0);
    pl_sql_bind_opt(st, 3, date);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return pl_store_fail(s, err, "setting consent");
    if (sqlite3_changes(pl_store_db(s)) == 0)
        return pl_fail(err, PL_ERR_NOTFOUND, "%s: no student with id %lld",
                       pl_store_path(s), (long long)id);
    return PL_OK;
}

pl_status pl_store_student_delete(pl_store *s, int64_t id, int keep_attendance,
                                  pl_error *err)
{
    pl_student who;
    pl_status st = pl_store_student_get(s, id, &who, err);
    if (st) return st;
    if (pl_store_begin(s, err)) return PL_ERR_DB;
    /* Faces in class photos hold crops of this person: they go. The ON
     * DELETE rules take photos, crops, embeddings and class memberships. */
    st = run_id(s, "DELETE FROM faces WHERE student_id = ?1", id,
                          "deleting the student's faces", err);
    if (!st && !keep_attendance)
        st = run_id(s, "DELETE FROM marks WHERE student_id = ?1", id,
                    "deleting the student's marks", err);
    if (!st && !keep_attendance)
        st = run_id(s, "DELETE FROM audit_log WHERE student_id = ?1", id,
                    "deleting the student's audit rows", err);
    if (!st)
        st = run_id(s, "DELETE FROM students WHERE id = ?1", id,
                    "deleting the student", err);
    if (!st) return pl_store_commit(s, err);
    pl_store_rollback(s);
    return st;
}

pl_status pl_store_vacuum(pl_store *s, pl_error *err)
{
    if (pl_store_in_transaction(s))
        return pl_fail(err, PL_ERR_INTERNAL, "%s: VACUUM inside a transaction",
                       pl_store_path(s));
    if (pl_store_exec(s, "VACUUM", err)) return PL_ERR_DB;
    /* VACUUM in WAL mode writes the new pages to the -wal file; fold them
     * into the main file and cut the log to zero bytes, so the old bytes
     * survive in neither. */
    int log = -1, done = -1;
    sqlite3_stmt *st;
    if (pl_sql_prepare(s, "PRAGMA wal_checkpoint(TRUNCATE)", &st, err)) return PL_ERR_DB;
    int rc = sqlite3_step(st);
    int busy = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 1;
    if (rc == SQLITE_ROW) {
        log = sqlite3_column_int(st, 1);
        done = sqlite3_column_int(st, 2);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW) return pl_store_fail(s, err, "checkpointing after VACUUM");
    if (busy)
        return pl_fail(err, PL_ERR_DB,
                       "%s: VACUUM done but another process kept the WAL open "
                       "(%d of %d frames copied); run it again when it is idle",
                       pl_store_path(s), done, log);
    return PL_OK;
}

/* ---- photos and embeddings ------------------------------------------------ */

static int is_sha256_hex(const char *h)
{
    if (!h || strlen(h) != 64) return 0;
    for (int i = 0; i < 64; i++)
        if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f'))) return 0;
    return 1;
}

pl_status pl_store_photo_find(pl_store *s, int64_t student_id, const char *sha256,
                              int64_t *photo_id, pl_error *err)
{
    sqlite3_stmt *st;
    if (pl_sql_prepare(s, "SELECT id FROM photos WHERE student_id = ?1 AND sha256 = ?2",
                &st, err))
        return PL_ERR_DB;
    sqlite3_bind_int64(st, 1, student_id);
    sqlite3_bind_text(st, 2, sha256, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *photo_id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW) return PL_OK;
    if (rc == SQLITE_DONE)
        return pl_fail(err, PL_ERR_NOTFOUND, "%s: no photo %.12s of student %lld",
                       pl_store_path(s), sha256, (long long)student_id);
    return pl_store_fail(s, err, "looking up a photo");
}

pl_status pl_store_photo_add(pl_store *s, const pl_photo_rec *p, int64_t *photo_id,
                             int *created, pl_error *err)
{
    int dummy;
    if (!created) created = &dummy;
    *created = 0;
    if (!is_sha256_hex(p->sha256))
        return pl_fail(err, PL_ERR_ARG, "%s: photo %s: sha256 must be 64 lower-case "
                       "hex digits", pl_store_path(s), p->path ? p->path : "?");
    sqlite3_stmt *st;
    if (pl_sql_prepare(s, "INSERT INTO photos(student_id, path, sha256, width, height,"
                   " status, reason, crop) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                   " ON CONFLICT(student_id, sha256) DO NOTHING", &st, err))
        return PL_ERR_DB;
    sqlite3_bind_int64(st, 1, p->student_id);
    sqlite3_bind_text(st, 2, p->path ? p->path : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, p->sha256, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, p->width);
    sqlite3_bind_int(st, 5, p->height);
    sqlite3_bind_text(st, 6, p->rejected ? "rejected" : "ok", -1, SQLITE_STATIC);
    pl_sql_bind_opt(st, 7, p->reason);
    if (p->crop && p->crop_len)
        sqlite3_bind_blob64(st, 8, p->crop, p->crop_len, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 8);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        pl_store_fail(s, err, "adding a photo");
        return pl_error_prefix(err, "%s: ", p->path ? p->path : "photo");
    }
    if (sqlite3_changes(pl_store_db(s)) == 1) {
        *created = 1;
        *photo_id = sqlite3_last_insert_rowid(pl_store_db(s));
        return PL_OK;
    }
    return pl_store_photo_find(s, p->student_id, p->sha256, photo_id, err);
}

pl_status pl_store_photo_list(pl_store *s, int64_t student_id,
                              pl_photo_info **out, int *n, pl_error *err)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st;
    if (pl_sql_prepare(s, "SELECT p.id, p.path, p.sha256, p.width, p.height,"
                          " p.status = 'rejected', p.reason, p.added,"
                          " p.crop IS NOT NULL,"
                          " (SELECT count(*) FROM embeddings e WHERE e.photo_id = p.id)"
                          " FROM photos p WHERE p.student_id = ?1 ORDER BY p.id",
                       &st, err))
        return PL_ERR_DB;
    sqlite3_bind_int64(st, 1, student_id);
    int cap = 0, rc;
    pl_status ret = PL_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            int c = cap ? cap * 2 : 16;
            pl_photo_info *more = realloc(*out, (size_t)c * sizeof *more);
            if (!more) { ret = pl_fail(err, PL_ERR_NOMEM, "listing photos"); break; }
            *out = more;
            cap = c;
        }
        pl_photo_info *p = &(*out)[(*n)++];
        memset(p, 0, sizeof *p);
        p->id = sqlite3_column_int64(st, 0);
        pl_sql_copy_col(st, 1, p->path, sizeof p->path);
        pl_sql_copy_col(st, 2, p->sha256, sizeof p->sha256);
        p->width = sqlite3_column_int(st, 3);
        p->height = sqlite3_column_int(st, 4);
        p->rejected = sqlite3_column_int(st, 5);
        pl_sql_copy_col(st, 6, p->reason, sizeof p->reason);
        pl_sql_copy_col(st, 7, p->added, sizeof p->added);
        p->has_crop = sqlite3_column_int(st, 8);
        p->n_embeddings = sqlite3_column_int(st, 9);
    }
    if (!ret && rc != SQLITE_DONE) ret = pl_store_fail(s, err, "listing photos");
    sqlite3_finalize(st);
    if (ret) { free(*out); *out = NULL; *n = 0; }
    return ret;
}

/* The dim already used by a model, or 0 if it has no vectors yet. */
static pl_status model_dim(pl_store *s, const char *model, int *dim, pl_error *err)
{
    sqlite3_stmt *st;
    if (pl_sql_prepare(s, "SELECT dim FROM embeddings WHERE model = ?1 LIMIT 1", &st, err))
        return PL_ERR_DB;
    sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *dim = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return pl_store_fail(s, err, "reading embeddings");
    return PL_OK;
}

static pl_status write_embedding(pl_store *s, int64_t photo_id, const char *model,
                                 const float *v, int dim, float quality, pl_error *err)
{
    int have;
    if (model_dim(s, model, &have, err)) return PL_ERR_DB;
    if (have && have != dim)
        return pl_fail(err, PL_ERR_ARG, "%s: model %s has %d-value embeddings, "
                       "got %d", pl_store_path(s), model, have, dim);
    sqlite3_stmt *st;
    if (pl_sql_prepare(s, "INSERT INTO embeddings(photo_id, model, dim, vector, quality)"
                   " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(photo_id, model) DO"
                   " UPDATE SET dim = excluded.dim, vector = excluded.vector,"
                   " quality = excluded.quality", &st, err))
        return PL_ERR_DB;
    sqlite3_bind_int64(st, 1, photo_id);
    sqlite3_bind_text(st, 2, model, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, dim);
    sqlite3_bind_blob(st, 4, v, dim * (int)sizeof(float), SQLITE_STATIC);
    sqlite3_bind_double(st, 5, quality);
    return pl_sql_run(s, st, "adding an embedding", err);
}

pl_status pl_store_embedding_add(pl_store *s, int64_t photo_id, const char *model,
                                 const float *v, int dim, float quality,
                                 pl_error *err)
{
    if (!model || !*model || strlen(model) >= sizeof ((pl_gallery *)0)->model)
        return pl_fail(err, PL_ERR_ARG, "%s: bad model name", pl_store_path(s));
    if (dim <= 0 || dim > 65536)
        return pl_fail(err, PL_ERR_ARG, "%s: embedding of %s has dim %d",
                       pl_store_path(s), model, dim);
    for (int i = 0; i < dim; i++)
        if (!isfinite(v[i]))
            return pl_fail(err, PL_ERR_ARG, "%s: embedding of %s for photo %lld "
                           "has a non-finite value at %d", pl_store_path(s), model,
                           (long long)photo_id, i);
    /* The dim check and the write in one transaction: no other process can
     * slip a vector of another size in between. */
    if (pl_store_begin(s, err)) return PL_ERR_DB;
    pl_status ret = write_embedding(s, photo_id, model, v, dim, quality, err);
    if (!ret) return pl_store_commit(s, err);
    pl_store_rollback(s);
    return ret;
}

/* ---- the gallery matrix ------------------------------------------------------ */

void pl_gallery_free(pl_gallery *g)
{
    if (!g) return;
    for (int i = 0; i < g->n_students; i++) free(g->student_name[i]);
    free(g->rows);
    free(g->row_photo);
    free(g->row_student);
    free(g->student_id);
    free(g->student_name);
    free(g->student_rows);
    free(g->means);
    memset(g, 0, sizeof *g);
}

/* Grow the per-row and per-student arrays to hold one more of each. */
static int gallery_reserve(pl_gallery *g, int *cap_rows, int *cap_students)
{
    if (g->n_rows == *cap_rows) {
        int c = *cap_rows ? *cap_rows * 2 : 64;
        float *r = realloc(g->rows, (size_t)c * (size_t)g->dim * sizeof *r);
        if (r) g->rows = r;
        int64_t *p = realloc(g->row_photo, (size_t)c * sizeof *p);
        if (p) g->row_photo = p;
        int *s = realloc(g->row_student, (size_t)c * sizeof *s);
        if (s) g->row_student = s;
        if (!r || !p || !s) return 0;
        *cap_rows = c;
    }
    if (g->n_students == *cap_students) {
        int c = *cap_students ? *cap_students * 2 : 32;
        int64_t *id = realloc(g->student_id, (size_t)c * sizeof *id);
        if (id) g->student_id = id;
        char **nm = realloc(g->student_name, (size_t)c * sizeof *nm);
        if (nm) g->student_name = nm;
        int *nr = realloc(g->student_rows, (size_t)c * sizeof *nr);
        if (nr) g->student_rows = nr;
        if (!id || !nm || !nr) return 0;
        *cap_students = c;
    }
    return 1;
}

/* means[i] = normalise(sum of normalise(row) over student i's rows): each
 * photo counts the same whatever its vector's length. */
static pl_status gallery_means(pl_gallery *g, pl_error *err)
{
    size_t d = (size_t)g->dim;
    g->means = calloc((size_t)g->n_students * d + 1, sizeof *g->means);
    double *acc = calloc(d, sizeof *acc);
    if (!g->means || !acc) {
        free(acc);
        return pl_fail(err, PL_ERR_NOMEM, "gallery %s: out of memory", g->model);
    }
    int r = 0;
    for (int i = 0; i < g->n_students; i++) {
        memset(acc, 0, d * sizeof *acc);
        for (; r < g->n_rows && g->row_student[r] == i; r++) {
            const float *row = g->rows + (size_t)r * d;
            double n2 = 0;
            for (size_t k = 0; k < d; k++) n2 += (double)row[k] * row[k];
            double inv = n2 > 0 ? 1.0 / sqrt(n2) : 0;
            for (size_t k = 0; k < d; k++) acc[k] += row[k] * inv;
        }
        double n2 = 0;
        for (size_t k = 0; k < d; k++) n2 += acc[k] * acc[k];
        double inv = n2 > 0 ? 1.0 / sqrt(n2) : 0;
        for (size_t k = 0; k < d; k++) g->means[(size_t)i * d + k] = (float)(acc[k] * inv);
    }
    free(acc);
    return PL_OK;
}

/* Append one row (student sid, name, photo, vector blob) to the gallery. */
static pl_status gallery_add_row(pl_gallery *g, sqlite3_stmt *st, int *cap_rows,
                                 int *cap_students, pl_error *err)
{
    int64_t sid = sqlite3_column_int64(st, 0);
    int dim = sqlite3_column_int(st, 3);
    const void *blob = sqlite3_column_blob(st, 4);
    int bytes = sqlite3_column_bytes(st, 4);
    if (g->dim == 0) g->dim = dim;
    /* The CHECKs of the schema say all this, but the file may not have
     * been written by us. */
    if (dim <= 0 || dim > 65536 || dim != g->dim ||
        bytes != dim * (int)sizeof(float) || !blob)
        return pl_fail(err, PL_ERR_FORMAT, "gallery %s: photo %lld has a %d-byte "
                       "vector of dim %d, expected dim %d", g->model,
                       (long long)sqlite3_column_int64(st, 2), bytes, dim, g->dim);
    if (!gallery_reserve(g, cap_rows, cap_students))
        return pl_fail(err, PL_ERR_NOMEM, "gallery %s: out of memory", g->model);
    int new_student = g->n_students == 0 || g->student_id[g->n_students - 1] != sid;
    if (new_student) {
        const char *name = (const char *)sqlite3_column_text(st, 1);
        char *copy = strdup(name ? name : "");
        if (!copy) return pl_fail(err, PL_ERR_NOMEM, "gallery %s: out of memory", g->model);
        g->student_id[g->n_students] = sid;
        g->student_name[g->n_students] = copy;
        g->student_rows[g->n_students] = 0;
        g->n_students++;
    }
    int r = g->n_rows++;
    memcpy(g->rows + (size_t)r * (size_t)g->dim, blob, (size_t)bytes);
    g->row_photo[r] = sqlite3_column_int64(st, 2);
    g->row_student[r] = g->n_students - 1;
    g->student_rows[g->n_students - 1]++;
    return PL_OK;
}

pl_status pl_store_gallery_load(pl_store *s, const char *model, pl_gallery *g,
                                pl_error *err)
{
    memset(g, 0, sizeof *g);
    if (!model || strlen(model) >= sizeof g->model)
        return pl_fail(err, PL_ERR_ARG, "%s: bad model name", pl_store_path(s));
    snprintf(g->model, sizeof g->model, "%s", model);
    /* One statement, so the rows come from one consistent snapshot even
     * while another process is enrolling. Sorted by student so that each
     * student's rows are contiguous. */
    sqlite3_stmt *st;
    if (pl_sql_prepare(s, "SELECT s.id, s.name, p.id, e.dim, e.vector FROM embeddings e"
                   " JOIN photos p ON p.id = e.photo_id"
                   " JOIN students s ON s.id = p.student_id"
                   " WHERE e.model = ?1 AND p.status = 'ok'"
                   " ORDER BY s.name, s.id, p.id", &st, err))
        return PL_ERR_DB;
    sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
    int cap_rows = 0, cap_students = 0, rc;
    pl_status ret = PL_OK;
    while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW)
        ret = gallery_add_row(g, st, &cap_rows, &cap_students, err);
    if (!ret && rc != SQLITE_DONE) ret = pl_store_fail(s, err, "reading the gallery");
    sqlite3_finalize(st);
    if (!ret && g->n_rows > 0) ret = gallery_means(g, err);
    if (ret) pl_gallery_free(g);
    return ret;
}

static pl_status count_one(pl_store *s, const char *sql, const char *model,
                           int *out, pl_error *err)
{
    sqlite3_stmt *st;
    if (pl_sql_prepare(s, sql, &st, err)) return PL_ERR_DB;
    if (model) sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? PL_OK : pl_store_fail(s, err, "counting");
}

pl_status pl_store_count(pl_store *s, const char *model, pl_store_counts *c,
                         pl_error *err)
{
    memset(c, 0, sizeof *c);
    if (count_one(s, "SELECT count(*) FROM students", NULL, &c->students, err) ||
        count_one(s, "SELECT count(*) FROM photos WHERE status = 'ok'", NULL,
                  &c->photos, err) ||
        count_one(s, "SELECT count(*) FROM photos WHERE status = 'rejected'", NULL,
                  &c->photos_rejected, err))
        return PL_ERR_DB;
    if (model)
        return count_one(s, "SELECT count(*) FROM embeddings WHERE model = ?1",
                         model, &c->embeddings, err);
    return count_one(s, "SELECT count(*) FROM embeddings", NULL, &c->embeddings, err);
}
