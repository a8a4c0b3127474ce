/* marks.c — `mark`: a teacher's correction of one student's mark, with the
 * audit row, as one transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "records/records.h"

static int on_roster(const int64_t *roster, int n, int64_t id)
{
    for (int i = 0; i < n; i++)
        if (roster[i] == id) return 1;
    return 0;
}

static pl_status old_mark(pl_store *s, int64_t session_id, int64_t student_id,
                          char out[16], pl_error *err)
{
    pl_mark *m = NULL;
    int n = 0;
    out[0] = '\0';
    pl_status st = pl_store_marks_list(s, session_id, &m, &n, err);
    for (int i = 0; i < n && !st; i++)
        if (m[i].student_id == student_id) snprintf(out, 16, "%s", m[i].status);
    free(m);
    return st;
}

pl_status pl_mark_set(const char *db, const char *cls, const char *date,
                      const char *student, const char *status, const char *who,
                      const char *note, char old_status[16], pl_error *err)
{
    static const char *const ok[] = {"present", "absent", "excused", "review"};
    int valid = 0;
    for (int i = 0; i < 4; i++) valid |= status && strcmp(status, ok[i]) == 0;
    if (!valid)
        return pl_fail(err, PL_ERR_ARG, "mark '%s': use present, absent, excused "
                       "or review", status ? status : "");
    pl_status st = pl_rec_check_date(date, "--date", err);
    if (st) return st;
    if (!student || !*student) return pl_fail(err, PL_ERR_ARG, "no student named");
    pl_store *s = pl_rec_open(db, 0, err);
    if (!s) return err ? err->code : PL_ERR_DB;
    pl_class_info c;
    pl_student person;
    int64_t *roster = NULL, session = 0;
    int n = 0;
    st = pl_store_begin(s, err);
    if (!st) st = pl_rec_class(s, cls, &c, &roster, &n, err);
    if (!st) st = pl_store_student_find(s, student, &person, err);
    if (!st && !on_roster(roster, n, person.id))
        st = pl_fail(err, PL_ERR_NOTFOUND, "%s: '%s' is not in class '%s'",
                     pl_store_path(s), person.name, c.name);
    /* A day without photos is a session too: everyone else starts absent. */
    if (!st) st = pl_store_session_get(s, c.id, date, &session, NULL, err);
    if (!st) st = pl_rec_fill_absent(s, session, roster, n, err);
    if (!st && old_status) st = old_mark(s, session, person.id, old_status, err);
    if (!st) st = pl_store_mark_manual(s, session, person.id, status, who, note, err);
    if (!st) st = pl_store_commit(s, err);
    else pl_store_rollback(s);
    free(roster);
    pl_store_close(s);
    return st;
}
