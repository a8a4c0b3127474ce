/* common.c — what every records command needs: opening the file, dates,
 * the class and its roster, narrowing the gallery to a class. */
#include "records/records.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

pl_store *pl_rec_open(const char *db, int create, pl_error *err)
{
    if (!db || !*db) db = "pasalista.db";
    if (!create && access(db, F_OK) != 0) {
        pl_fail(err, PL_ERR_NOTFOUND, "%s: no such database (create a class or "
                "enroll students first)", db);
        return NULL;
    }
    return pl_store_open(db, create ? PL_STORE_CREATE : 0, err);
}

int pl_rec_is_date(const char *d)
{
    if (!d || strlen(d) != 10 || d[4] != '-' || d[7] != '-') return 0;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (d[i] < '0' || d[i] > '9')) return 0;
    int y = atoi(d), m = atoi(d + 5), day = atoi(d + 8);
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || m < 1 || m > 12 || day < 1 || day > days[m - 1]) return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return !(m == 2 && day == 29 && !leap);
}

pl_status pl_rec_check_date(const char *d, const char *what, pl_error *err)
{
    if (pl_rec_is_date(d)) return PL_OK;
    return pl_fail(err, PL_ERR_ARG, "%s '%s' is not a date written YYYY-MM-DD",
                   what, d ? d : "");
}

void pl_rec_today(char out[11])
{
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

static int has_id(const int64_t *ids, int n, int64_t id)
{
    for (int i = 0; i < n; i++)
        if (ids[i] == id) return 1;
    return 0;
}

void pl_rec_gallery_restrict(pl_gallery *g, const int64_t *ids, int n)
{
    int *new_index = malloc((size_t)(g->n_students ? g->n_students : 1) * sizeof *new_index);
    if (!new_index) { /* keep nobody rather than somebody from another class */
        for (int i = 0; i < g->n_students; i++) free(g->student_name[i]);
        g->n_students = g->n_rows = 0;
        return;
    }
    int kept = 0;
    for (int i = 0; i < g->n_students; i++) {
        if (!has_id(ids, n, g->student_id[i])) {
            free(g->student_name[i]);
            new_index[i] = -1;
            continue;
        }
        new_index[i] = kept;
        g->student_id[kept] = g->student_id[i];
        g->student_name[kept] = g->student_name[i];
        g->student_rows[kept] = g->student_rows[i];
        memmove(g->means + (size_t)kept * g->dim, g->means + (size_t)i * g->dim,
                (size_t)g->dim * sizeof *g->means);
        kept++;
    }
    g->n_students = kept;
    int rows = 0;
    for (int r = 0; r < g->n_rows; r++) {
        int who = new_index[g->row_student[r]];
        if (who < 0) continue;
        memmove(g->rows + (size_t)rows * g->dim, g->rows + (size_t)r * g->dim,
                (size_t)g->dim * sizeof *g->rows);
        g->row_photo[rows] = g->row_photo[r];
        g->row_student[rows] = who;
        rows++;
    }
    g->n_rows = rows;
    free(new_index);
}

pl_status pl_rec_class(pl_store *s, const char *cls, pl_class_info *c,
                       int64_t **roster, int *n, pl_error *err)
{
    if (!cls || !*cls) return pl_fail(err, PL_ERR_ARG, "no class named");
    pl_status st = pl_store_class_find(s, cls, c, err);
    if (st) return st;
    return pl_store_class_roster(s, c->id, roster, n, err);
}

pl_status pl_rec_fill_absent(pl_store *s, int64_t session_id,
                             const int64_t *roster, int n, pl_error *err)
{
    /* mark_auto only raises a mark, so "absent" fills a gap and never lowers
     * anything already there. */
    for (int i = 0; i < n; i++) {
        pl_status st = pl_store_mark_auto(s, session_id, roster[i], "absent",
                                          NAN, 0, NULL, err);
        if (st) return st;
    }
    return PL_OK;
}
