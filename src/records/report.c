/* report.c — the students x dates matrix of a class, with totals and the
 * sessions that still have review items open. Read in one read transaction
 * so a report never mixes two states of the file. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "records/records.h"

typedef struct builder {
    pl_store *s;
    pl_report *r;
    int cap_students, cap_sessions;
    int64_t *session_ids;
    const char *from, *to;  /* NULL = open */
} builder;

static pl_status prepare(builder *b, const char *sql, sqlite3_stmt **st, pl_error *err)
{
    if (sqlite3_prepare_v2(pl_store_db(b->s), sql, -1, st, NULL) != SQLITE_OK)
        return pl_store_fail(b->s, err, "preparing the report");
    return PL_OK;
}

static int find_student(const pl_report *r, const char *name)
{
    for (int i = 0; i < r->n_students; i++)
        if (strcmp(r->students[i].name, name) == 0) return i;
    return -1;
}

static pl_status add_student(builder *b, const char *name, int on_roster, pl_error *err)
{
    pl_report *r = b->r;
    int i = find_student(r, name);
    if (i >= 0) {
        r->students[i].on_roster |= on_roster;
        return PL_OK;
    }
    if (r->n_students == b->cap_students) {
        int cap = b->cap_students ? b->cap_students * 2 : 32;
        pl_report_student *more = realloc(r->students, (size_t)cap * sizeof *more);
        if (!more) return pl_fail(err, PL_ERR_NOMEM, "report: out of memory");
        r->students = more;
        b->cap_students = cap;
    }
    pl_report_student *st = &r->students[r->n_students++];
    memset(st, 0, sizeof *st);
    snprintf(st->name, sizeof st->name, "%s", name);
    st->on_roster = on_roster;
    return PL_OK;
}

static void bind_range(builder *b, sqlite3_stmt *st, int at)
{
    if (b->from) sqlite3_bind_text(st, at, b->from, -1, SQLITE_STATIC);
    if (b->to) sqlite3_bind_text(st, at + 1, b->to, -1, SQLITE_STATIC);
}

#define RANGE " (?2 IS NULL OR se.date >= ?2) AND (?3 IS NULL OR se.date <= ?3)"

static pl_status load_sessions(builder *b, int64_t class_id, pl_error *err)
{
    sqlite3_stmt *st;
    pl_status ret = prepare(b,
        "SELECT se.id, se.date,"
        " (SELECT count(*) FROM session_photos sp WHERE sp.session_id = se.id),"
        " (SELECT count(*) FROM faces f JOIN session_photos sp ON sp.id = f.session_photo_id"
        "   WHERE sp.session_id = se.id),"
        " (SELECT count(*) FROM faces f JOIN session_photos sp ON sp.id = f.session_photo_id"
        "   WHERE sp.session_id = se.id AND f.status = 'unknown')"
        " FROM sessions se WHERE se.class_id = ?1 AND" RANGE " ORDER BY se.date", &st, err);
    if (ret) return ret;
    sqlite3_bind_int64(st, 1, class_id);
    bind_range(b, st, 2);
    pl_report *r = b->r;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (r->n_sessions == b->cap_sessions) {
            int cap = b->cap_sessions ? b->cap_sessions * 2 : 32;
            pl_report_session *more = realloc(r->sessions, (size_t)cap * sizeof *more);
            int64_t *ids = realloc(b->session_ids, (size_t)cap * sizeof *ids);
            if (more) r->sessions = more;
            if (ids) b->session_ids = ids;
            if (!more || !ids) { ret = pl_fail(err, PL_ERR_NOMEM, "report: out of memory"); break; }
            b->cap_sessions = cap;
        }
        pl_report_session *se = &r->sessions[r->n_sessions];
        memset(se, 0, sizeof *se);
        b->session_ids[r->n_sessions++] = sqlite3_column_int64(st, 0);
        snprintf(se->date, sizeof se->date, "%s", (const char *)sqlite3_column_text(st, 1));
        se->photos = sqlite3_column_int(st, 2);
        se->faces = sqlite3_column_int(st, 3);
        se->unknown_faces = sqlite3_column_int(st, 4);
    }
    if (!ret && rc != SQLITE_DONE) ret = pl_store_fail(b->s, err, "reading sessions");
    sqlite3_finalize(st);
    return ret;
}

static pl_status load_roster(builder *b, int64_t class_id, pl_error *err)
{
    sqlite3_stmt *st;
    pl_status ret = prepare(b, "SELECT st.name FROM class_students cs JOIN students st"
                               " ON st.id = cs.student_id WHERE cs.class_id = ?1", &st, err);
    if (ret) return ret;
    sqlite3_bind_int64(st, 1, class_id);
    int rc = SQLITE_DONE;
    while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW)
        ret = add_student(b, (const char *)sqlite3_column_text(st, 0), 1, err);
    if (!ret && rc != SQLITE_DONE) ret = pl_store_fail(b->s, err, "reading the roster");
    sqlite3_finalize(st);
    return ret;
}

/* Every mark of the class in range; auto is what the photos said (2 present,
 * 1 review, 0 or NULL absent). */
#define MARKS_SQL                                                                  \
    "SELECT m.session_id, coalesce(st.name, m.student_name), m.status, m.source,"  \
    " m.score, (SELECT max(CASE f.status WHEN 'present' THEN 2 WHEN 'review'"      \
    "   THEN 1 ELSE 0 END) FROM faces f JOIN session_photos sp"                    \
    "   ON sp.id = f.session_photo_id WHERE sp.session_id = m.session_id"          \
    "   AND f.student_id = m.student_id)"                                          \
    " FROM marks m JOIN sessions se ON se.id = m.session_id"                       \
    " LEFT JOIN students st ON st.id = m.student_id"                               \
    " WHERE se.class_id = ?1 AND" RANGE

static int session_index(const builder *b, int64_t id)
{
    for (int i = 0; i < b->r->n_sessions; i++)
        if (b->session_ids[i] == id) return i;
    return -1;
}

static void fill_cell(builder *b, sqlite3_stmt *st)
{
    pl_report *r = b->r;
    int se = session_index(b, sqlite3_column_int64(st, 0));
    int who = find_student(r, (const char *)sqlite3_column_text(st, 1));
    if (se < 0 || who < 0) return;
    pl_report_cell *c = &r->cells[(size_t)who * r->n_sessions + se];
    snprintf(c->status, sizeof c->status, "%s", (const char *)sqlite3_column_text(st, 2));
    snprintf(c->source, sizeof c->source, "%s", (const char *)sqlite3_column_text(st, 3));
    c->score = sqlite3_column_type(st, 4) == SQLITE_NULL ? NAN : (float)sqlite3_column_double(st, 4);
    int a = sqlite3_column_int(st, 5);
    const char *autos = a == 2 ? "present" : a == 1 ? "review" : "absent";
    snprintf(c->auto_status, sizeof c->auto_status, "%s",
             r->sessions[se].photos > 0 ? autos : "");
}

static pl_status load_marks(builder *b, int64_t class_id, int fill, pl_error *err)
{
    sqlite3_stmt *st;
    pl_status ret = prepare(b, MARKS_SQL, &st, err);
    if (ret) return ret;
    sqlite3_bind_int64(st, 1, class_id);
    bind_range(b, st, 2);
    int rc = SQLITE_DONE;
    while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (fill) fill_cell(b, st);
        else ret = add_student(b, (const char *)sqlite3_column_text(st, 1), 0, err);
    }
    if (!ret && rc != SQLITE_DONE) ret = pl_store_fail(b->s, err, "reading marks");
    sqlite3_finalize(st);
    return ret;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const pl_report_student *)a)->name, ((const pl_report_student *)b)->name);
}

static void totals(pl_report *r)
{
    for (int i = 0; i < r->n_students; i++) {
        pl_report_student *st = &r->students[i];
        for (int j = 0; j < r->n_sessions; j++) {
            const char *m = r->cells[(size_t)i * r->n_sessions + j].status;
            pl_report_session *se = &r->sessions[j];
            if (!strcmp(m, "present")) st->present++, se->present++;
            else if (!strcmp(m, "absent")) st->absent++, se->absent++;
            else if (!strcmp(m, "review")) st->review++, se->review++;
            else if (!strcmp(m, "excused")) st->excused++, se->excused++;
        }
        int counted = st->present + st->absent + st->review;
        st->percent = counted ? 100.0 * st->present / counted : NAN;
    }
    for (int j = 0; j < r->n_sessions; j++) {
        r->sessions[j].open_review = r->sessions[j].review;
        r->open_review_sessions += r->sessions[j].review > 0;
    }
}

static pl_status build(builder *b, const char *cls, pl_error *err)
{
    pl_class_info c;
    pl_status st = pl_store_class_find(b->s, cls, &c, err);
    if (st) return st;
    snprintf(b->r->cls, sizeof b->r->cls, "%s", c.name);
    if ((st = load_sessions(b, c.id, err)) || (st = load_roster(b, c.id, err)) ||
        (st = load_marks(b, c.id, 0, err)))
        return st;
    pl_report *r = b->r;
    if (r->n_students > 1) qsort(r->students, (size_t)r->n_students, sizeof *r->students, by_name);
    r->cells = calloc((size_t)(r->n_students ? r->n_students : 1) * (r->n_sessions ? r->n_sessions : 1),
                      sizeof *r->cells);
    if (!r->cells) return pl_fail(err, PL_ERR_NOMEM, "report: out of memory");
    for (size_t i = 0; i < (size_t)r->n_students * r->n_sessions; i++) r->cells[i].score = NAN;
    if ((st = load_marks(b, c.id, 1, err))) return st;
    totals(r);
    return PL_OK;
}

pl_status pl_report_build(const char *db, const char *cls, const char *from,
                          const char *to, pl_report *out, pl_error *err)
{
    memset(out, 0, sizeof *out);
    if (from && *from && pl_rec_check_date(from, "--from", err)) return PL_ERR_ARG;
    if (to && *to && pl_rec_check_date(to, "--to", err)) return PL_ERR_ARG;
    builder b = {.r = out, .from = from && *from ? from : NULL, .to = to && *to ? to : NULL};
    snprintf(out->from, sizeof out->from, "%s", b.from ? b.from : "");
    snprintf(out->to, sizeof out->to, "%s", b.to ? b.to : "");
    b.s = pl_rec_open(db, 0, err);
    if (!b.s) return err ? err->code : PL_ERR_DB;
    pl_status st = pl_store_exec(b.s, "BEGIN", err);
    if (!st) st = build(&b, cls, err);
    pl_store_exec(b.s, "COMMIT", NULL);
    pl_store_close(b.s);
    free(b.session_ids);
    if (st) pl_report_free(out);
    return st;
}

void pl_report_free(pl_report *r)
{
    if (!r) return;
    free(r->sessions);
    free(r->students);
    free(r->cells);
    memset(r, 0, sizeof *r);
}
