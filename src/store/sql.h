/* sql.h — small statement helpers shared by the store's own files
 * (internal to src/store). Every error names the database file. */
#ifndef PL_STORE_SQL_H
#define PL_STORE_SQL_H

#include "store/store.h"

/* Prepare sql on the store's connection. */
pl_status pl_sql_prepare(pl_store *s, const char *sql, sqlite3_stmt **st,
                         pl_error *err);
/* Bind text; NULL or "" binds SQL NULL (optional fields). */
void pl_sql_bind_opt(sqlite3_stmt *st, int i, const char *v);
/* Copy a text column into dst ("" for NULL). */
void pl_sql_copy_col(sqlite3_stmt *st, int i, char *dst, size_t size);
/* Step a statement that returns no rows, finalize it; what names the
 * action in the error ("adding a class"). */
pl_status pl_sql_run(pl_store *s, sqlite3_stmt *st, const char *what,
                     pl_error *err);

#endif
