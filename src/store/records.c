/* records.c — classes, rosters, sessions, faces, marks and the audit log. */
#include "store/records.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "store/sql.h"

/* ---- classes ------------------------------------------------------------- */

static pl_status class_id_of(pl_store *s, const char *name, int64_t *id, int *found,
                             pl_error *err)
{
    sqlite3_stmt *st;
    if (pl_sql_prepare(s, "SELECT id FROM classes WHERE name = ?1", &st, err))
        return PL_ERR_DB;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    if (*found) *id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return pl_store_fail(s, err, "finding a class");
    return PL_OK;
}

pl_status pl_store_class_add(pl_store *s, const char *name, int64_t *id,
                             int *created, pl_error *err)
{
    int dummy, found;
    if (!created) created = &dummy;
    *created = 0;
    if (!name || !*name || strlen(name) >= sizeof ((pl_class_info *)0)->name)
        return pl_fail(err, PL_ERR_ARG, "%s: a class name must be 1 to %zu bytes",
                       pl_store_path(s), sizeof ((pl_class_info *)0)->name - 1);
    if (pl_store_begin(s, err)) return PL_ERR_DB;
    pl_status ret = class_id_of(s, name, id, &found, err);
    if (!ret && !found) {
        sqlite3_stmt *st;
        ret = pl_sql_prepare(s, "INSERT INTO classes(name) VALUES (?1)", &st, err);
        if (!ret) {
            sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
            ret = pl_sql_run(s, st, "adding a class", err);
        }
        if (!ret) {
            *id = sqlite3_last_insert_rowid(pl_store_db(s));
            *created = 1;
        }
    }
    if (!ret) return pl_store_commit(s, err);
    pl_store_rollback(s);
    return ret;
}

#define CLASS_QUERY                                                              \
    "SELECT c.id, c.name, c.created,"                                            \
    " (SELECT count(*) FROM class_students cs WHERE cs.class_id = c.id),"        \
    " (SELECT count(*) FROM sessions se WHERE se.class_id = c.id) FROM classes c"

static void read_class(sqlite3_stmt *st, pl_class_info *c)
{
    memset(c, 0, sizeof *c);
    c->id = sqlite3_column_int64(st, 0);
    pl_sql_copy_col(st, 1, c->name, sizeof c->name);
    pl_sql_copy_col(st, 2, c->created, sizeof c->created);
    c->n_students = sqlite3_column_int(st, 3);
    c->n_sessions = sqlite3_column_int(st, 4);
}

pl_status pl_store_class_find(pl_store *s, const char *name, pl_class_info *out,
                              pl_error *err)
{
    sqlite3_stmt *st;
    if (pl_sql_prepare(s, CLASS_QUERY " WHERE c.name = ?1", &st, err)) return PL_ERR_DB;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) read_class(st, out);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW) return PL_OK;
    if (rc == SQLITE_DONE)
        return pl_fail(err, PL_ERR_NOTFOUND, "%s: no class '%s'", pl_store_path(s), name);
    return pl_store_fail(s, err, "finding a class");
}

/* arr with room for one more item (n used of *cap): arr itself, a moved
 * copy, or NULL when out of memory (then arr is still valid). */
static void *grow(void *arr, int n, int *cap, size_t elem)
{
    if (n < *cap) return arr;
    int c = *cap ? *cap * 2 : 16;
    void *p = realloc(arr, (size_t)c * elem);
    if (p) *cap = c;
    return p;
}

pl_status pl_store_class_list(pl_store *s, pl_class_info **out, int *n,
                              pl_error *err)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st;
    if (pl_sql_prepare(s, CLASS_QUERY " ORDER BY c.name", &st, err)) return PL_ERR_DB;
    int cap = 0, rc;
    pl_status ret = PL_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        pl_class_info *more = grow(*out, *n, &cap, sizeof **out);
        if (!more) {
            ret = pl_fail(err, PL_ERR_NOMEM, "listing classes: out of memory");
            break;
        }
        *out = more;
        read_class(st, &(*out)[(*n)++]);
    }
    if (!ret && rc != SQLITE_DONE) ret = pl_store_fail(s, err, "listing classes");
    sqlite3_finalize(st);
    if (ret) { free(*out); *out = NULL; *n = 0; }
    return ret;
}

pl_status pl_store_class_add_student(pl_store *s, int64_t class_id,
                                     int64_t student_id, int *added, pl_error *err)
{
    sqlite3_stmt *st;
    if (pl_sql_prepare(s, "INSERT INTO class_students(class_id, student_id)"
                          " VALUES (?1, ?2) ON CONFLICT DO NOTHING", &st, err))
        return PL_ERR_DB;
    sqlite3_bind_int64(st, 1, class_id);
    sqlite3_bind_int64(st, 2, student_id);
    if (pl_sql_run(s, st, "adding a student to a class", err)) return PL_ERR_DB;
    if (added) *added = sqlite3_changes(pl_store_db(s)) == 1;
    return PL_OK;
}

pl_status pl_store_class_roster(pl_store *s, int64_t class_id, int64_t **ids,
                                int *n, pl_error *err)
{
    *ids = NULL;
    *n = 0;
    sqlite3_stmt *st;
    if (pl_sql_prepare(s, "SELECT st.id FROM class_students cs JOIN students st"
                          " ON st.id = cs.student_id WHERE cs.class_id = ?1"
                          " ORDER BY st.name, st.id", &st, err))
        return PL_ERR_DB;
    sqlite3_bind_int64(st, 1, class_id);
    int cap = 0, rc;
    pl_status ret = PL_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t *more = grow(*ids, *n, &cap, sizeof **ids);
        if (!more) {
            ret = pl_fail(err, PL_ERR_NOMEM, "reading a roster: out of memory");
            break;
        }
        *ids = more;
        (*ids)[(*n)++] = sqlite3_column_int64(st, 0);
    }
    if (!ret && rc != SQLITE_DONE) ret = pl_store_fail(s, err, "reading a roster");
    sqlite3_finalize(st);
    if (ret) { free(*ids); *ids = NULL; *n = 0; }
    return ret;
}

/* ---- sessions, photos, faces ----------------------------------------------- */

static int is_date(const char *d)
{
    if (!d || strlen(d) != 10 || d[4] != '-' || d[7] != '-') return 0;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (d[i] < '0' || d[i] > '9')) return 0;
    int month = (d[5] - '0') * 10 + (d[6] - '0'), day = (d[8] - '0') * 10 + (d[9] - '0');
    return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

/* INSERT ... ON CONFLICT DO NOTHING, then find the row: the get-or-create
 * shape shared by sessions and session photos. The caller binds both
 * statements the same way with bind(st, ctx). */
static pl_status get_or_create(pl_store *s, const char *insert, const char *select,
                               void (*bind)(sqlite3_stmt *, const void *),
                               const void *ctx, const char *what, int64_t *id,
                               int *created, pl_error *err)
{
    sqlite3_stmt *st;
    int dummy;
    if (!created) created = &dummy;
    if (pl_sql_prepare(s, insert, &st, err)) return PL_ERR_DB;
    bind(st, ctx);
    if (pl_sql_run(s, st, what, err)) return PL_ERR_DB;
    *created = sqlite3_changes(pl_store_db(s)) == 1;
    if (*created) {
        *id = sqlite3_last_insert_rowid(pl_store_db(s));
        return PL_OK;
    }
    if (pl_sql_prepare(s, select, &st, err)) return PL_ERR_DB;
    bind(st, ctx);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? PL_OK : pl_store_fail(s, err, what);
}

typedef struct { int64_t parent; const char *text; } key_pair;

static void bind_pair(sqlite3_stmt *st, const void *ctx)
{
    const key_pair *k = ctx;
    sqlite3_bind_int64(st, 1, k->parent);
    sqlite3_bind_text(st, 2, k->text, -1, SQLITE_STATIC);
}

pl_status pl_store_session_get(pl_store *s, int64_t class_id, const char *date,
                               int64_t *session_id, int *created, pl_error *err)
{
    if (!is_date(date))
        return pl_fail(err, PL_ERR_ARG, "%s: session date '%s' is not YYYY-MM-DD",
                       pl_store_path(s), date ? date : "");
    key_pair k = {class_id, date};
    return get_or_create(s,
        "INSERT INTO sessions(class_id, date) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        "SELECT id FROM sessions WHERE class_id = ?1 AND date = ?2",
        bind_pair, &k, "opening a session", session_id, created, err);
}

typedef struct {
    key_pair key;
    const char *path;
    int width, height;
} photo_ctx;

static void bind_photo(sqlite3_stmt *st, const void *ctx)
{
    const photo_ctx *p = ctx;
    bind_pair(st, &p->key);
    if (sqlite3_bind_parameter_count(st) < 5) return; /* the SELECT */
    sqlite3_bind_text(st, 3, p->path ? p->path : "", -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, p->width);
    sqlite3_bind_int(st, 5, p->height);
}

pl_status pl_store_session_photo_add(pl_store *s, int64_t session_id,
                                     const char *sha256, const char *path,
                                     int width, int height, int64_t *photo_id,
                                     int *created, pl_error *err)
{
    if (!sha256 || strlen(sha256) != 64 || strspn(sha256, "0123456789abcdef") != 64)
        return pl_fail(err, PL_ERR_ARG, "%s: class photo %s: sha256 must be 64 "
                       "lower-case hex digits", pl_store_path(s), path ? path : "?");
    photo_ctx p = {{session_id, sha256}, path, width, height};
    return get_or_create(s,
        "INSERT INTO session_photos(session_id, sha256, path, width, height)"
        " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
        "SELECT id FROM session_photos WHERE session_id = ?1 AND sha256 = ?2",
        bind_photo, &p, "adding a class photo", photo_id, created, err);
}

static int is_one_of(const char *v, const char *const *allowed)
{
    for (; v && *allowed; allowed++)
        if (strcmp(v, *allowed) == 0) return 1;
    return 0;
}

pl_status pl_store_face_add(pl_store *s, const pl_face_rec *f, int64_t *face_id,
                            pl_error *err)
{
    static const char *const statuses[] = {"present", "review", "unknown", NULL};
    if (!is_one_of(f->status, statuses) || !f->model || !*f->model)
        return pl_fail(err, PL_ERR_ARG, "%s: face: bad status '%s' or model",
                       pl_store_path(s), f->status ? f->status : "");
    sqlite3_stmt *st;
    if (pl_sql_prepare(s, "INSERT INTO faces(session_photo_id, x, y, w, h, det_score,"
                          " model, student_id, score, status, crop) VALUES"
                          " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)", &st, err))
        return PL_ERR_DB;
    sqlite3_bind_int64(st, 1, f->session_photo_id);
    sqlite3_bind_double(st, 2, f->x);
    sqlite3_bind_double(st, 3, f->y);
    sqlite3_bind_double(st, 4, f->w);
    sqlite3_bind_double(st, 5, f->h);
    sqlite3_bind_double(st, 6, f->det_score);
    sqlite3_bind_text(st, 7, f->model, -1, SQLITE_STATIC);
    if (f->student_id > 0) sqlite3_bind_int64(st, 8, f->student_id);
    else sqlite3_bind_null(st, 8);
    sqlite3_bind_double(st, 9, f->score);
    sqlite3_bind_text(st, 10, f->status, -1, SQLITE_STATIC);
    if (f->crop && f->crop_len) sqlite3_bind_blob64(st, 11, f->crop, f->crop_len, SQLITE_STATIC);
    else sqlite3_bind_null(st, 11);
    if (pl_sql_run(s, st, "adding a face", err)) return PL_ERR_DB;
    if (face_id) *face_id = sqlite3_last_insert_rowid(pl_store_db(s));
    return PL_OK;
}

/* ---- marks ------------------------------------------------------------------ */

static int auto_rank(const char *status)
{
    return strcmp(status, "present") == 0 ? 3 : strcmp(status, "review") == 0 ? 2
         : strcmp(status, "absent") == 0 ? 1 : 0;
}

typedef struct {
    int found;
    int64_t id;
    char status[16], source[8];
    double score; /* NAN when NULL */
} mark_row;

static pl_status mark_read(pl_store *s, int64_t session_id, int64_t student_id,
                           mark_row *m, pl_error *err)
{
    sqlite3_stmt *st;
    memset(m, 0, sizeof *m);
    if (pl_sql_prepare(s, "SELECT id, status, source, score FROM marks"
                          " WHERE session_id = ?1 AND student_id = ?2", &st, err))
        return PL_ERR_DB;
    sqlite3_bind_int64(st, 1, session_id);
    sqlite3_bind_int64(st, 2, student_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        m->found = 1;
        m->id = sqlite3_column_int64(st, 0);
        pl_sql_copy_col(st, 1, m->status, sizeof m->status);
        pl_sql_copy_col(st, 2, m->source, sizeof m->source);
        m->score = sqlite3_column_type(st, 3) == SQLITE_NULL ? NAN
                                                             : sqlite3_column_double(st, 3);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return pl_store_fail(s, err, "reading a mark");
    return PL_OK;
}

/* Insert or update (session, student)'s mark. The name is copied from the
 * students table so the mark stays readable if the student is forgotten
 * with --keep-attendance. */
static pl_status mark_write(pl_store *s, int64_t session_id, int64_t student_id,
                            const char *status, const char *source, float score,
                            int64_t face_id, pl_error *err)
{
    sqlite3_stmt *st;
    if (pl_sql_prepare(s,
            "INSERT INTO marks(session_id, student_id, student_name, status, source,"
            " score, face_id) SELECT ?1, id, name, ?3, ?4, ?5, ?6 FROM students"
            " WHERE id = ?2 ON CONFLICT(session_id, student_id) DO UPDATE SET"
            " status = excluded.status, source = excluded.source,"
            " score = excluded.score, face_id = excluded.face_id,"
            " updated = strftime('%Y-%m-%dT%H:%M:%SZ','now')", &st, err))
        return PL_ERR_DB;
    sqlite3_bind_int64(st, 1, session_id);
    sqlite3_bind_int64(st, 2, student_id);
    sqlite3_bind_text(st, 3, status, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, source, -1, SQLITE_STATIC);
    if (isnan(score)) sqlite3_bind_null(st, 5);
    else sqlite3_bind_double(st, 5, score);
    if (face_id > 0) sqlite3_bind_int64(st, 6, face_id);
    else sqlite3_bind_null(st, 6);
    if (pl_sql_run(s, st, "writing a mark", err)) return PL_ERR_DB;
    if (sqlite3_changes(pl_store_db(s)) == 0)
        return pl_fail(err, PL_ERR_NOTFOUND, "%s: no student with id %lld",
                       pl_store_path(s), (long long)student_id);
    return PL_OK;
}

pl_status pl_store_mark_auto(pl_store *s, int64_t session_id, int64_t student_id,
                             const char *status, float score, int64_t face_id,
                             int *changed, pl_error *err)
{
    int dummy;
    if (!changed) changed = &dummy;
    *changed = 0;
    if (!status || auto_rank(status) == 0)
        return pl_fail(err, PL_ERR_ARG, "%s: an automatic mark is present, review "
                       "or absent, not '%s'", pl_store_path(s), status ? status : "");
    if (pl_store_begin(s, err)) return PL_ERR_DB;
    mark_row old;
    pl_status ret = mark_read(s, session_id, student_id, &old, err);
    /* Up only; on the same level a better score (a clearer photo) wins. */
    int better = !old.found ||
                 (strcmp(old.source, "manual") != 0 &&
                  (auto_rank(status) > auto_rank(old.status) ||
                   (auto_rank(status) == auto_rank(old.status) && !isnan(score) &&
                    (isnan(old.score) || score > old.score))));
    if (!ret && better) {
        ret = mark_write(s, session_id, student_id, status, "auto", score, face_id, err);
        *changed = !ret;
    }
    if (!ret) return pl_store_commit(s, err);
    pl_store_rollback(s);
    *changed = 0;
    return ret;
}

static pl_status audit(pl_store *s, int64_t session_id, int64_t student_id,
                       const char *old_status, const char *new_status,
                       const char *who, const char *note, pl_error *err)
{
    sqlite3_stmt *st;
    if (pl_sql_prepare(s,
            "INSERT INTO audit_log(who, session_id, student_id, student_name,"
            " old_status, new_status, note) SELECT ?1, ?2, id, name, ?4, ?5, ?6"
            " FROM students WHERE id = ?3", &st, err))
        return PL_ERR_DB;
    sqlite3_bind_text(st, 1, who, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, session_id);
    sqlite3_bind_int64(st, 3, student_id);
    pl_sql_bind_opt(st, 4, old_status);
    sqlite3_bind_text(st, 5, new_status, -1, SQLITE_STATIC);
    pl_sql_bind_opt(st, 6, note);
    return pl_sql_run(s, st, "writing the audit log", err);
}

pl_status pl_store_mark_manual(pl_store *s, int64_t session_id, int64_t student_id,
                               const char *status, const char *who, const char *note,
                               pl_error *err)
{
    static const char *const statuses[] = {"present", "absent", "review", "excused", NULL};
    if (!is_one_of(status, statuses))
        return pl_fail(err, PL_ERR_ARG, "%s: a mark is present, absent, review or "
                       "excused, not '%s'", pl_store_path(s), status ? status : "");
    if (!who || !*who)
        return pl_fail(err, PL_ERR_ARG, "%s: a manual mark needs who made it",
                       pl_store_path(s));
    if (pl_store_begin(s, err)) return PL_ERR_DB;
    mark_row old;
    pl_status ret = mark_read(s, session_id, student_id, &old, err);
    if (!ret)
        ret = mark_write(s, session_id, student_id, status, "manual",
                         old.found ? (float)old.score : NAN, 0, err);
    if (!ret)
        ret = audit(s, session_id, student_id, old.found ? old.status : NULL, status,
                    who, note, err);
    if (!ret) return pl_store_commit(s, err);
    pl_store_rollback(s);
    return ret;
}

pl_status pl_store_marks_list(pl_store *s, int64_t session_id, pl_mark **out, int *n,
                              pl_error *err)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st;
    if (pl_sql_prepare(s, "SELECT student_id, student_name, status, source, score,"
                          " face_id, updated FROM marks WHERE session_id = ?1"
                          " ORDER BY student_name, id", &st, err))
        return PL_ERR_DB;
    sqlite3_bind_int64(st, 1, session_id);
    int cap = 0, rc;
    pl_status ret = PL_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        pl_mark *more = grow(*out, *n, &cap, sizeof **out);
        if (!more) {
            ret = pl_fail(err, PL_ERR_NOMEM, "listing marks: out of memory");
            break;
        }
        *out = more;
        pl_mark *m = &(*out)[(*n)++];
        memset(m, 0, sizeof *m);
        m->student_id = sqlite3_column_int64(st, 0);
        pl_sql_copy_col(st, 1, m->student_name, sizeof m->student_name);
        pl_sql_copy_col(st, 2, m->status, sizeof m->status);
        pl_sql_copy_col(st, 3, m->source, sizeof m->source);
        m->score = sqlite3_column_type(st, 4) == SQLITE_NULL
                       ? NAN : (float)sqlite3_column_double(st, 4);
        m->face_id = sqlite3_column_int64(st, 5);
        pl_sql_copy_col(st, 6, m->updated, sizeof m->updated);
    }
    if (!ret && rc != SQLITE_DONE) ret = pl_store_fail(s, err, "listing marks");
    sqlite3_finalize(st);
    if (ret) { free(*out); *out = NULL; *n = 0; }
    return ret;
}
