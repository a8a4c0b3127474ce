/* records.h — owns the attendance-records commands of the public API
 * (include/pasalista.h, "attendance records" and "students"): classes and
 * rosters, recording a session from class photos, manual marks, reports,
 * forgetting a student and backups. The SQL lives in store/records.c and
 * store/gallery.c; this module decides what a command does and keeps each
 * command ONE transaction. Internal helpers shared by its files: */
#ifndef PL_RECORDS_H
#define PL_RECORDS_H

#include "pasalista.h"
#include "store/records.h"
#include "store/store.h"

/* Open the database of a records command; PL_ERR_NOTFOUND names a missing
 * file ("x.db: no such database; create a class first"). */
pl_store *pl_rec_open(const char *db, int create, pl_error *err);

/* 1 when d is a real calendar date written YYYY-MM-DD. */
int pl_rec_is_date(const char *d);
/* PL_ERR_ARG naming the bad date and the expected form, else PL_OK. */
pl_status pl_rec_check_date(const char *d, const char *what, pl_error *err);
/* Today's local date, YYYY-MM-DD. */
void pl_rec_today(char out[11]);

/* Keep only the students in ids[0..n) in g (rows, names, means). */
void pl_rec_gallery_restrict(pl_gallery *g, const int64_t *ids, int n);

/* A class and its roster ids (malloc'd; free()). */
pl_status pl_rec_class(pl_store *s, const char *cls, pl_class_info *c,
                       int64_t **roster, int *n, pl_error *err);

/* Fill any missing mark of the class roster in a session with an automatic
 * "absent", so that a session always holds one mark per roster student. */
pl_status pl_rec_fill_absent(pl_store *s, int64_t session_id,
                             const int64_t *roster, int n, pl_error *err);

/* A report cell as a person reads it: "present", "excused (manual; photos:
 * absent)"; "" when there is no mark. */
void pl_rec_cell_text(const pl_report_cell *c, char *buf, size_t size);
/* The report writers (report_write.c, report_xlsx.c). */
pl_status pl_rec_write_xlsx(const pl_report *reports, int n, const char *path,
                            pl_error *err);

#endif
