/* classes.c — `class create | list | add-students`: rosters. */
#include <stdlib.h>
#include <string.h>

#include "attend/attend.h"
#include "records/records.h"

pl_status pl_class_create(const char *db, const char *name, int *created,
                          pl_error *err)
{
    pl_store *s = pl_rec_open(db, 1, err);
    if (!s) return err ? err->code : PL_ERR_DB;
    int64_t id;
    pl_status st = pl_store_class_add(s, name, &id, created, err);
    pl_store_close(s);
    return st;
}

pl_status pl_class_list(const char *db, pl_class_summary **out, int *n,
                        pl_error *err)
{
    *out = NULL;
    *n = 0;
    pl_store *s = pl_rec_open(db, 0, err);
    if (!s) return err ? err->code : PL_ERR_DB;
    pl_class_info *c = NULL;
    pl_status st = pl_store_class_list(s, &c, n, err);
    pl_store_close(s);
    if (st) return st;
    *out = calloc((size_t)(*n ? *n : 1), sizeof **out);
    if (!*out) {
        free(c);
        *n = 0;
        return pl_fail(err, PL_ERR_NOMEM, "listing classes: out of memory");
    }
    for (int i = 0; i < *n; i++) {
        memcpy((*out)[i].name, c[i].name, sizeof c[i].name);
        memcpy((*out)[i].created, c[i].created, sizeof c[i].created);
        (*out)[i].n_students = c[i].n_students;
        (*out)[i].n_sessions = c[i].n_sessions;
    }
    free(c);
    return PL_OK;
}

/* The student of a source entry: found by name (or slug), or added without
 * any face, with what the roster says about them. */
static pl_status student_of(pl_store *s, const pl_source_photo *p, int64_t *id,
                            int *created, pl_error *err)
{
    pl_student st;
    pl_error local = {0};
    *created = 0;
    if (pl_store_student_find(s, p->student, &st, &local) == PL_OK) {
        *id = st.id;
        return PL_OK;
    }
    if (local.code != PL_ERR_NOTFOUND) {
        if (err) *err = local;
        return local.code;
    }
    memset(&st, 0, sizeof st);
    snprintf(st.name, sizeof st.name, "%s", p->student);
    snprintf(st.code, sizeof st.code, "%s", p->code);
    snprintf(st.email, sizeof st.email, "%s", p->email);
    snprintf(st.gender, sizeof st.gender, "%s", p->gender);
    return pl_store_student_add(s, &st, id, created, err);
}

static int seen_before(const pl_source_photo *photos, int i)
{
    for (int j = 0; j < i; j++)
        if (strcmp(photos[j].student, photos[i].student) == 0) return 1;
    return 0;
}

pl_status pl_class_add_students(const char *db, const char *cls,
                                const char *source, pl_class_add_result *r,
                                pl_error *err)
{
    memset(r, 0, sizeof *r);
    pl_source_photo *photos = NULL;
    int n = 0;
    pl_status st = pl_source_scan(source, &photos, &n, err);
    if (st) return st;
    pl_store *s = pl_rec_open(db, 0, err);
    if (!s) {
        free(photos);
        return err ? err->code : PL_ERR_DB;
    }
    pl_class_info c;
    st = pl_store_class_find(s, cls, &c, err);
    if (!st) st = pl_store_begin(s, err);
    if (st) goto done;
    for (int i = 0; i < n && !st; i++) {
        if (!photos[i].student[0] || seen_before(photos, i)) continue;
        int64_t id;
        int created = 0, added = 0;
        r->listed++;
        st = student_of(s, &photos[i], &id, &created, err);
        if (!st) st = pl_store_class_add_student(s, c.id, id, &added, err);
        r->added += added;
        r->already += !added;
        r->new_students += created;
    }
    if (!st && r->listed == 0)
        st = pl_fail(err, PL_ERR_ARG, "%s: names no student", source);
    if (!st) st = pl_store_commit(s, err);
    else pl_store_rollback(s);
done:
    if (st) memset(r, 0, sizeof *r);
    pl_store_close(s);
    free(photos);
    return st;
}
