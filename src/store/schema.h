/* schema.h — owns the schema migrations of the pasalista database (internal
 * to src/store; other modules use store.h).
 *
 * Migrations are a table: step i (0-based) takes the schema from version i
 * to i+1. Each step runs in its own BEGIN IMMEDIATE transaction together
 * with the user_version bump, so a failed step changes nothing. */
#ifndef PL_STORE_SCHEMA_H
#define PL_STORE_SCHEMA_H

#include <sqlite3.h>

#include "util/error.h"

extern const char *const pl_store_migrations[];
extern const int pl_store_n_migrations; /* == PL_STORE_SCHEMA_VERSION */

/* Bring the open database db (file name path, for messages) up to version
 * n_steps by running steps[user_version .. n_steps-1]. Tests pass their own
 * steps to check that a failing step leaves the file as it was. */
pl_status pl_store_migrate_steps(sqlite3 *db, const char *path,
                                 const char *const *steps, int n_steps,
                                 int busy_ms, pl_error *err);

/* BEGIN IMMEDIATE, retried while the database is busy, for up to busy_ms.
 * Returns the last sqlite result code (SQLITE_OK on success). */
int pl_store_begin_immediate_raw(sqlite3 *db, int busy_ms);

/* PRAGMA user_version, or -1 (with err filled) if it cannot be read. */
int pl_store_user_version(sqlite3 *db, const char *path, pl_error *err);

#endif
