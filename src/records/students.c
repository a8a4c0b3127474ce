/* students.c — `student list | consent | forget` and `backup`: the
 * privacy side of the records. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "records/records.h"

static pl_status count_of(pl_store *s, const char *sql, int64_t id, int *out, pl_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(pl_store_db(s), sql, -1, &st, NULL) != SQLITE_OK)
        return pl_store_fail(s, err, "counting");
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? PL_OK : pl_store_fail(s, err, "counting");
}

static pl_status summarize(pl_store *s, const pl_student *st, pl_student_summary *o, pl_error *err)
{
    memset(o, 0, sizeof *o);
    memcpy(o->name, st->name, sizeof o->name);
    o->consent = st->consent;
    memcpy(o->consent_date, st->consent_date, sizeof o->consent_date);
    pl_status ret = count_of(s, "SELECT count(*) FROM photos WHERE student_id = ?1 AND status = 'ok'",
                             st->id, &o->photos, err);
    if (!ret)
        ret = count_of(s, "SELECT count(*) FROM embeddings e JOIN photos p ON p.id = e.photo_id"
                          " WHERE p.student_id = ?1", st->id, &o->embeddings, err);
    if (!ret)
        ret = count_of(s, "SELECT count(*) FROM class_students WHERE student_id = ?1", st->id,
                       &o->classes, err);
    return ret;
}

pl_status pl_student_list(const char *db, pl_student_summary **out, int *n, pl_error *err)
{
    *out = NULL;
    *n = 0;
    pl_store *s = pl_rec_open(db, 0, err);
    if (!s) return err ? err->code : PL_ERR_DB;
    pl_student *all = NULL;
    int count = 0;
    pl_status st = pl_store_exec(s, "BEGIN", err);
    if (!st) st = pl_store_student_list(s, &all, &count, err);
    if (!st && !(*out = calloc((size_t)(count ? count : 1), sizeof **out)))
        st = pl_fail(err, PL_ERR_NOMEM, "listing students: out of memory");
    for (int i = 0; i < count && !st; i++) st = summarize(s, &all[i], &(*out)[i], err);
    pl_store_exec(s, "COMMIT", NULL);
    pl_store_close(s);
    free(all);
    if (st) {
        free(*out);
        *out = NULL;
        return st;
    }
    *n = count;
    return PL_OK;
}

pl_status pl_student_consent(const char *db, const char *name, int consent,
                             const char *date, pl_error *err)
{
    char today[11];
    if (date && pl_rec_check_date(date, "--date", err)) return PL_ERR_ARG;
    if (!date) {
        pl_rec_today(today);
        date = today;
    }
    pl_store *s = pl_rec_open(db, 0, err);
    if (!s) return err ? err->code : PL_ERR_DB;
    pl_student st;
    pl_status ret = pl_store_student_find(s, name, &st, err);
    if (!ret) ret = pl_store_student_set_consent(s, st.id, consent ? 1 : 0, date, err);
    pl_store_close(s);
    return ret;
}

pl_status pl_student_forget(const char *db, const char *name, int keep_attendance,
                            pl_error *err)
{
    pl_store *s = pl_rec_open(db, 0, err);
    if (!s) return err ? err->code : PL_ERR_DB;
    pl_student st;
    pl_status ret = pl_store_student_find(s, name, &st, err);
    if (!ret) ret = pl_store_student_delete(s, st.id, keep_attendance, err);
    /* The rows are gone; VACUUM rewrites the file so their bytes go too. */
    if (!ret) ret = pl_store_vacuum(s, err);
    pl_store_close(s);
    return ret;
}

pl_status pl_backup(const char *db, const char *dest, pl_error *err)
{
    if (!dest || !*dest) return pl_fail(err, PL_ERR_ARG, "backup: no destination file");
    pl_store *s = pl_rec_open(db, 0, err);
    if (!s) return err ? err->code : PL_ERR_DB;
    pl_status ret = pl_store_backup(s, dest, err);
    pl_store_close(s);
    return ret;
}
