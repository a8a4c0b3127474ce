/* store.c — opening the database, its connection settings, transactions and
 * settings. The gallery lives in gallery.c, the schema in schema.c. */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/schema.h"
#include "store/sql.h"

struct pl_store {
    sqlite3 *db;
    int depth;    /* open transaction levels: 1 = BEGIN, >1 = savepoints */
    int busy_ms;
    int readonly;
    char path[4096];
};

/* How long one sqlite call waits on a lock before giving SQLITE_BUSY back to
 * us; pl_store_begin retries around it up to busy_ms in total. */
#define PL_STORE_LOCK_WAIT_MS 2000

pl_status pl_store_fail(pl_store *s, pl_error *err, const char *what)
{
    return pl_fail(err, PL_ERR_DB, "%s: %s: %s", s->path, what,
                   sqlite3_errmsg(s->db));
}

const char *pl_store_path(const pl_store *s) { return s->path; }
sqlite3 *pl_store_db(pl_store *s) { return s->db; }
void pl_store_set_busy_ms(pl_store *s, int ms)
{
    s->busy_ms = ms > 0 ? ms : 0;
    sqlite3_busy_timeout(s->db, s->busy_ms < PL_STORE_LOCK_WAIT_MS ? s->busy_ms
                                                                  : PL_STORE_LOCK_WAIT_MS);
}
int pl_store_in_transaction(const pl_store *s) { return s->depth > 0; }

pl_status pl_store_exec(pl_store *s, const char *sql, pl_error *err)
{
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return pl_store_fail(s, err, "running SQL");
    return PL_OK;
}

/* Create the file ourselves so it is born 0600: sqlite would use 0644 (less
 * the umask), and the -wal/-shm files copy the main file's mode. */
static pl_status create_private(const char *path, pl_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST) return PL_OK; /* another process was quicker */
        return pl_fail(err, PL_ERR_IO, "%s: cannot create the database: %s",
                       path, strerror(errno));
    }
    close(fd);
    return PL_OK;
}

/* Is this a file we may use? Decided by reading only, so that a file from a
 * newer pasalista (or somebody else's database) is left untouched. One
 * statement, so all three facts come from the same snapshot even while
 * another process is creating the schema. */
static pl_status check_identity(pl_store *s, int *version, pl_error *err)
{
    sqlite3_stmt *st = NULL;
    int app_id = 0, tables = 0;
    int rc = sqlite3_prepare_v2(s->db,
        "SELECT (SELECT application_id FROM pragma_application_id),"
        " (SELECT user_version FROM pragma_user_version),"
        " (SELECT count(*) FROM sqlite_master)", -1, &st, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        app_id = sqlite3_column_int(st, 0);
        *version = sqlite3_column_int(st, 1);
        tables = sqlite3_column_int(st, 2);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return pl_fail(err, PL_ERR_DB, "%s: not a pasalista database: %s",
                       s->path, sqlite3_errmsg(s->db));
    if (app_id != PL_STORE_APP_ID && (app_id != 0 || *version != 0 || tables != 0))
        return pl_fail(err, PL_ERR_DB,
                       "%s: not a pasalista database (application_id 0x%08x, "
                       "%d tables)", s->path, (unsigned)app_id, tables);
    if (*version > pl_store_n_migrations)
        return pl_fail(err, PL_ERR_DB,
                       "%s: created by a newer pasalista (schema %d; this "
                       "version knows up to %d)", s->path, *version,
                       pl_store_n_migrations);
    return PL_OK;
}

/* Switching to WAL needs a moment with nobody else in the file; retry like
 * any other busy lock. */
static pl_status set_wal(pl_store *s, pl_error *err)
{
    for (int waited = 0;; waited += 20) {
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
        if (rc == SQLITE_OK) rc = sqlite3_step(st);
        int ok = rc == SQLITE_ROW &&
                 strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
        sqlite3_finalize(st);
        if (ok) return PL_OK;
        if ((rc & 0xff) != SQLITE_BUSY || waited >= s->busy_ms)
            return pl_fail(err, PL_ERR_DB, "%s: cannot switch to WAL mode: %s",
                           s->path, rc == SQLITE_ROW ? "the file system refused"
                                                     : sqlite3_errmsg(s->db));
        usleep(20000);
    }
}

static pl_status configure(pl_store *s, pl_error *err)
{
    sqlite3_busy_timeout(s->db, PL_STORE_LOCK_WAIT_MS);
    sqlite3_extended_result_codes(s->db, 1);
    /* foreign_keys: the ON DELETE rules of the schema depend on it.
     * secure_delete: deleted rows are overwritten with zeros, not left in
     * free pages (privacy: "forget" must really forget). */
    if (pl_store_exec(s, "PRAGMA foreign_keys = ON", err)) return PL_ERR_DB;
    if (pl_store_exec(s, "PRAGMA secure_delete = ON", err)) return PL_ERR_DB;
    return PL_OK;
}

/* Settings, identity, WAL, migrations: the open connection made usable. */
static pl_status ready(pl_store *s, pl_error *err)
{
    int version = 0;
    pl_status st = configure(s, err);
    if (!st) st = check_identity(s, &version, err);
    if (!st && s->readonly && version < pl_store_n_migrations)
        st = pl_fail(err, PL_ERR_DB,
                     "%s: schema %d is older than this pasalista's %d; open it "
                     "once for writing to upgrade it", s->path, version,
                     pl_store_n_migrations);
    if (!st && !s->readonly) st = set_wal(s, err);
    if (!st && !s->readonly)
        st = pl_store_migrate_steps(s->db, s->path, pl_store_migrations,
                                    pl_store_n_migrations, s->busy_ms, err);
    return st;
}

pl_store *pl_store_open(const char *path, int flags, pl_error *err)
{
    if (!path || !*path) {
        pl_fail(err, PL_ERR_ARG, "database path is empty");
        return NULL;
    }
    int readonly = (flags & PL_STORE_READONLY) != 0;
    if (access(path, F_OK) != 0) {
        if (!(flags & PL_STORE_CREATE) || readonly) {
            pl_fail(err, PL_ERR_NOTFOUND, "%s: no such database", path);
            return NULL;
        }
        if (create_private(path, err)) return NULL;
    }
    pl_store *s = calloc(1, sizeof *s);
    if (!s) {
        pl_fail(err, PL_ERR_NOMEM, "%s: out of memory", path);
        return NULL;
    }
    snprintf(s->path, sizeof s->path, "%s", path);
    s->busy_ms = 30000;
    s->readonly = readonly;
    int oflags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
    if (sqlite3_open_v2(path, &s->db, oflags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        pl_fail(err, PL_ERR_DB, "%s: cannot open: %s", path,
                s->db ? sqlite3_errmsg(s->db) : "out of memory");
        pl_store_close(s);
        return NULL;
    }
    if (ready(s, err)) {
        pl_store_close(s);
        return NULL;
    }
    return s;
}

void pl_store_close(pl_store *s)
{
    if (!s) return;
    while (s->depth > 0) pl_store_rollback(s);
    sqlite3_close_v2(s->db);
    free(s);
}

/* ---- transactions -------------------------------------------------------- */

static int savepoint(pl_store *s, const char *verb, int level)
{
    char sql[64]; /* the level is our counter, never user data */
    snprintf(sql, sizeof sql, "%s pl_sp%d", verb, level);
    return sqlite3_exec(s->db, sql, NULL, NULL, NULL);
}

pl_status pl_store_begin(pl_store *s, pl_error *err)
{
    int rc = s->depth == 0 ? pl_store_begin_immediate_raw(s->db, s->busy_ms)
                           : savepoint(s, "SAVEPOINT", s->depth);
    if (rc != SQLITE_OK)
        return pl_store_fail(s, err, (rc & 0xff) == SQLITE_BUSY
                                         ? "the database stayed busy (another "
                                           "pasalista is writing)"
                                         : "cannot start a transaction");
    s->depth++;
    return PL_OK;
}

pl_status pl_store_commit(pl_store *s, pl_error *err)
{
    if (s->depth == 0)
        return pl_fail(err, PL_ERR_INTERNAL, "%s: commit without a transaction",
                       s->path);
    if (s->depth > 1) {
        if (savepoint(s, "RELEASE", s->depth - 1) != SQLITE_OK) {
            pl_store_fail(s, err, "releasing a savepoint");
            pl_store_rollback(s);
            return PL_ERR_DB;
        }
        s->depth--;
        return PL_OK;
    }
    if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        pl_store_fail(s, err, "commit");
        pl_store_rollback(s);
        return PL_ERR_DB;
    }
    s->depth = 0;
    return PL_OK;
}

void pl_store_rollback(pl_store *s)
{
    if (!s || s->depth == 0) return;
    if (s->depth > 1) {
        /* ROLLBACK TO undoes the work but keeps the savepoint open. */
        savepoint(s, "ROLLBACK TO", s->depth - 1);
        savepoint(s, "RELEASE", s->depth - 1);
    } else if (!sqlite3_get_autocommit(s->db)) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    }
    s->depth--;
}

/* ---- settings -------------------------------------------------------------- */

pl_status pl_store_setting_get(pl_store *s, const char *key, char *buf,
                               size_t size, pl_error *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM settings WHERE key = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return pl_store_fail(s, err, "reading settings");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    pl_status ret = PL_OK;
    if (rc == SQLITE_ROW)
        snprintf(buf, size, "%s", (const char *)sqlite3_column_text(st, 0));
    else if (rc == SQLITE_DONE)
        ret = pl_fail(err, PL_ERR_NOTFOUND, "%s: no setting '%s'", s->path, key);
    else
        ret = pl_store_fail(s, err, "reading settings");
    sqlite3_finalize(st);
    return ret;
}

pl_status pl_store_setting_set(pl_store *s, const char *key, const char *value,
                               pl_error *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO settings(key, value) VALUES (?1, ?2) "
                           "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                           -1, &st, NULL) != SQLITE_OK)
        return pl_store_fail(s, err, "writing settings");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return pl_store_fail(s, err, "writing settings");
    return PL_OK;
}

double pl_store_setting_double(pl_store *s, const char *key, double fallback)
{
    char buf[64], *end;
    if (pl_store_setting_get(s, key, buf, sizeof buf, NULL)) return fallback;
    double v = strtod(buf, &end);
    return end != buf && *end == '\0' ? v : fallback;
}

pl_status pl_store_setting_set_double(pl_store *s, const char *key, double v,
                                      pl_error *err)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.9g", v); /* round-trips a float exactly */
    return pl_store_setting_set(s, key, buf, err);
}

static void threshold_key(char *key, size_t size, const char *which,
                          const char *model)
{
    snprintf(key, size, "threshold.%s.%s", which, model);
}

void pl_store_thresholds_get(pl_store *s, const char *model, float *accept,
                             float *review, float default_accept,
                             float default_review)
{
    char key[192];
    threshold_key(key, sizeof key, "accept", model);
    *accept = (float)pl_store_setting_double(s, key, default_accept);
    threshold_key(key, sizeof key, "review", model);
    *review = (float)pl_store_setting_double(s, key, default_review);
}

pl_status pl_store_thresholds_set(pl_store *s, const char *model, float accept,
                                  float review, pl_error *err)
{
    if (!(review <= accept))
        return pl_fail(err, PL_ERR_ARG, "%s: thresholds of %s: review %g is above "
                       "accept %g", s->path, model, (double)review, (double)accept);
    char key[192];
    if (pl_store_begin(s, err)) return PL_ERR_DB;
    threshold_key(key, sizeof key, "accept", model);
    pl_status st = pl_store_setting_set_double(s, key, accept, err);
    threshold_key(key, sizeof key, "review", model);
    if (!st) st = pl_store_setting_set_double(s, key, review, err);
    if (!st) return pl_store_commit(s, err);
    pl_store_rollback(s);
    return st;
}

/* ---- backup ----------------------------------------------------------------- */

/* Copy in steps of 256 pages; a writer in between makes SQLite restart the
 * copy, so the result is always one consistent snapshot. Written to a
 * temporary name first: a failed backup never leaves a half file at dest. */
pl_status pl_store_backup(pl_store *s, const char *dest, pl_error *err)
{
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp-backup", dest) >= (int)sizeof tmp)
        return pl_fail(err, PL_ERR_ARG, "%s: backup path too long", dest);
    unlink(tmp);
    if (create_private(tmp, err)) return PL_ERR_IO;
    sqlite3 *out = NULL;
    pl_status ret = PL_OK;
    if (sqlite3_open_v2(tmp, &out, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        ret = pl_fail(err, PL_ERR_DB, "%s: cannot open: %s", dest,
                      out ? sqlite3_errmsg(out) : "out of memory");
    } else {
        sqlite3_backup *b = sqlite3_backup_init(out, "main", s->db, "main");
        if (!b) {
            ret = pl_fail(err, PL_ERR_DB, "%s: cannot start the backup: %s", dest,
                          sqlite3_errmsg(out));
        } else {
            int rc;
            long long waited = 0;
            while ((rc = sqlite3_backup_step(b, 256)) == SQLITE_OK ||
                   rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
                if (rc != SQLITE_OK) {
                    if ((waited += 20) > s->busy_ms) break;
                    usleep(20000);
                }
            }
            if (sqlite3_backup_finish(b) != SQLITE_OK || rc != SQLITE_DONE)
                ret = pl_fail(err, PL_ERR_DB, "%s: backup of %s failed: %s", dest,
                              s->path, rc == SQLITE_DONE ? sqlite3_errmsg(out)
                                                         : sqlite3_errstr(rc));
        }
    }
    sqlite3_close(out);
    if (!ret && rename(tmp, dest) != 0)
        ret = pl_fail(err, PL_ERR_IO, "%s: cannot rename the backup into place: %s",
                      dest, strerror(errno));
    if (ret) unlink(tmp);
    return ret;
}

/* ---- statement helpers (sql.h) --------------------------------------------- */

pl_status pl_sql_prepare(pl_store *s, const char *sql, sqlite3_stmt **st,
                         pl_error *err)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
        return pl_store_fail(s, err, "preparing a query");
    return PL_OK;
}

void pl_sql_bind_opt(sqlite3_stmt *st, int i, const char *v)
{
    if (v && *v) sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else sqlite3_bind_null(st, i);
}

void pl_sql_copy_col(sqlite3_stmt *st, int i, char *dst, size_t size)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(dst, size, "%s", t ? (const char *)t : "");
}

pl_status pl_sql_run(pl_store *s, sqlite3_stmt *st, const char *what,
                     pl_error *err)
{
    int rc = sqlite3_step(st);
    pl_status ret = rc == SQLITE_DONE ? PL_OK : pl_store_fail(s, err, what);
    sqlite3_finalize(st);
    return ret;
}
