/* schema.c — the SQL of every schema version and the migration runner. */
#include "store/schema.h"

#include <stdio.h>
#include <time.h>

#include "store/store.h"

#define NOW "(strftime('%Y-%m-%dT%H:%M:%SZ','now'))"

/* Schema 1. Times are UTC ISO 8601 text; dates are YYYY-MM-DD text. Every
 * child row names its parent with ON DELETE so that deleting a student or a
 * class never leaves orphans behind (foreign_keys is on for every
 * connection). */
static const char schema_v1[] =
    /* The people. The gallery is shared by every class, so a student exists
     * once however many classes they attend. name is the full name exactly
     * as written (accents kept); slug is its ASCII folder-safe form, used to
     * match enrollment folders and for file names. consent: whether the
     * student (or guardian) agreed to face processing, and when. */
    "CREATE TABLE students ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE CHECK (length(name) > 0),"
    " slug TEXT NOT NULL UNIQUE CHECK (length(slug) > 0),"
    " student_code TEXT UNIQUE,"
    " email TEXT,"
    " gender TEXT,"
    " consent INTEGER NOT NULL DEFAULT 0 CHECK (consent IN (0, 1)),"
    " consent_date TEXT,"
    " created TEXT NOT NULL DEFAULT " NOW ");"

    /* Enrollment photos. Every photo that was checked is kept, with the
     * reason when it was refused, so enroll can report per photo and a
     * re-run can skip bytes it has already seen (sha256 per student). The
     * crop is the aligned face thumbnail (JPEG) for contact sheets; it is
     * personal data and goes with the student. */
    "CREATE TABLE photos ("
    " id INTEGER PRIMARY KEY,"
    " student_id INTEGER NOT NULL REFERENCES students(id) ON DELETE CASCADE,"
    " path TEXT NOT NULL,"
    " sha256 TEXT NOT NULL CHECK (length(sha256) = 64),"
    " width INTEGER NOT NULL DEFAULT 0,"
    " height INTEGER NOT NULL DEFAULT 0,"
    " added TEXT NOT NULL DEFAULT " NOW ","
    " status TEXT NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'rejected')),"
    " reason TEXT,"
    " crop BLOB,"
    " UNIQUE (student_id, sha256));"

    /* One embedding per photo and model: models give vectors of different
     * sizes and meanings, so they are never mixed. vector is dim float32
     * values, little-endian. quality is the model's or detector's
     * confidence in the face, for choosing among photos. */
    "CREATE TABLE embeddings ("
    " photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,"
    " model TEXT NOT NULL,"
    " dim INTEGER NOT NULL CHECK (dim > 0),"
    " vector BLOB NOT NULL CHECK (length(vector) = 4 * dim),"
    " quality REAL,"
    " added TEXT NOT NULL DEFAULT " NOW ","
    " PRIMARY KEY (photo_id, model));" /* a rowid table: rows are kilobytes */
    "CREATE INDEX embeddings_model ON embeddings(model);"

    /* Classes and their rosters (many to many). */
    "CREATE TABLE classes ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE CHECK (length(name) > 0),"
    " created TEXT NOT NULL DEFAULT " NOW ");"
    "CREATE TABLE class_students ("
    " class_id INTEGER NOT NULL REFERENCES classes(id) ON DELETE CASCADE,"
    " student_id INTEGER NOT NULL REFERENCES students(id) ON DELETE CASCADE,"
    " added TEXT NOT NULL DEFAULT " NOW ","
    " PRIMARY KEY (class_id, student_id)) WITHOUT ROWID;"
    "CREATE INDEX class_students_student ON class_students(student_id);"

    /* One attendance session per class and date: taking more photos the
     * same day adds to it instead of making a second one. */
    "CREATE TABLE sessions ("
    " id INTEGER PRIMARY KEY,"
    " class_id INTEGER NOT NULL REFERENCES classes(id) ON DELETE CASCADE,"
    " date TEXT NOT NULL,"
    " created TEXT NOT NULL DEFAULT " NOW ","
    " UNIQUE (class_id, date));"

    /* The class photos of a session, by content hash (the file is kept
     * unmodified at path). The same bytes twice in one session are one
     * photo. */
    "CREATE TABLE session_photos ("
    " id INTEGER PRIMARY KEY,"
    " session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,"
    " sha256 TEXT NOT NULL CHECK (length(sha256) = 64),"
    " path TEXT NOT NULL,"
    " width INTEGER NOT NULL DEFAULT 0,"
    " height INTEGER NOT NULL DEFAULT 0,"
    " added TEXT NOT NULL DEFAULT " NOW ","
    " UNIQUE (session_id, sha256));"

    /* Every face found in a session photo, matched or not, so a teacher can
     * review the decision: the box (pixels of the original photo), the
     * detector's score, the model that embedded it, the student it was
     * assigned to (or the best guess when unknown), the cosine score and
     * the decision. A student's faces go when the student is forgotten. */
    "CREATE TABLE faces ("
    " id INTEGER PRIMARY KEY,"
    " session_photo_id INTEGER NOT NULL"
    "  REFERENCES session_photos(id) ON DELETE CASCADE,"
    " x REAL NOT NULL, y REAL NOT NULL, w REAL NOT NULL, h REAL NOT NULL,"
    " det_score REAL,"
    " model TEXT NOT NULL,"
    " student_id INTEGER REFERENCES students(id) ON DELETE SET NULL,"
    " score REAL,"
    " status TEXT NOT NULL CHECK (status IN ('present', 'review', 'unknown')),"
    " crop BLOB);"
    "CREATE INDEX faces_photo ON faces(session_photo_id);"
    "CREATE INDEX faces_student ON faces(student_id);"

    /* Each student's mark in a session. source says whether the matcher or a
     * person set it (a manual mark is never overwritten by a later automatic
     * run). student_name is a copy so that marks kept by
     * "forget --keep-attendance" stay readable after the student is gone. */
    "CREATE TABLE marks ("
    " id INTEGER PRIMARY KEY,"
    " session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,"
    " student_id INTEGER REFERENCES students(id) ON DELETE SET NULL,"
    " student_name TEXT NOT NULL,"
    " status TEXT NOT NULL"
    "  CHECK (status IN ('present', 'absent', 'review', 'excused')),"
    " source TEXT NOT NULL DEFAULT 'auto' CHECK (source IN ('auto', 'manual')),"
    " score REAL,"
    " face_id INTEGER REFERENCES faces(id) ON DELETE SET NULL,"
    " updated TEXT NOT NULL DEFAULT " NOW ","
    " UNIQUE (session_id, student_id));"
    "CREATE INDEX marks_student ON marks(student_id);"

    /* Every manual change of a mark: who (OS user or --by), when, the old
     * and new status and a free note. Append-only, except that forgetting a
     * student without --keep-attendance removes the rows about them. */
    "CREATE TABLE audit_log ("
    " id INTEGER PRIMARY KEY,"
    " at TEXT NOT NULL DEFAULT " NOW ","
    " who TEXT NOT NULL,"
    " session_id INTEGER REFERENCES sessions(id) ON DELETE SET NULL,"
    " student_id INTEGER REFERENCES students(id) ON DELETE SET NULL,"
    " student_name TEXT,"
    " old_status TEXT,"
    " new_status TEXT,"
    " note TEXT);"
    "CREATE INDEX audit_log_student ON audit_log(student_id);"

    /* Small facts that belong to this database rather than to the program:
     * calibrated thresholds per model ("threshold.accept.<model>",
     * "threshold.review.<model>"), the
     * default model, and so on. */
    "CREATE TABLE settings ("
    " key TEXT PRIMARY KEY,"
    " value TEXT NOT NULL) WITHOUT ROWID;";

const char *const pl_store_migrations[] = {schema_v1};
const int pl_store_n_migrations =
    (int)(sizeof pl_store_migrations / sizeof pl_store_migrations[0]);

_Static_assert(sizeof pl_store_migrations / sizeof pl_store_migrations[0] ==
                   PL_STORE_SCHEMA_VERSION,
               "one migration per schema version");

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* sqlite's own busy handler (busy_timeout) already waits inside each try;
 * the loop is for the cases it does not cover in WAL mode (e.g. a snapshot
 * that went stale), and a short random back-off keeps two waiting writers
 * from retrying in lockstep. */
int pl_store_begin_immediate_raw(sqlite3 *db, int busy_ms)
{
    long long deadline = now_ms() + busy_ms;
    for (unsigned tries = 0;; tries++) {
        int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED) return rc;
        if (now_ms() >= deadline) return rc;
        sleep_ms(5 + (int)((tries * 7919u) % 20u));
    }
}

int pl_store_user_version(sqlite3 *db, const char *path, pl_error *err)
{
    sqlite3_stmt *st = NULL;
    int v = -1;
    int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) v = sqlite3_column_int(st, 0);
    else
        pl_fail(err, PL_ERR_DB, "%s: cannot read the schema version: %s", path,
                sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return v;
}

/* One step: schema from..from+1 inside the caller's transaction. The
 * version number is ours, never user data, so formatting it is safe. */
static int run_step(sqlite3 *db, const char *sql, int to)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK) return rc;
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", to);
    rc = sqlite3_exec(db, pragma, NULL, NULL, NULL);
    if (rc != SQLITE_OK || to != 1) return rc;
    snprintf(pragma, sizeof pragma, "PRAGMA application_id = %d",
             (int)PL_STORE_APP_ID);
    return sqlite3_exec(db, pragma, NULL, NULL, NULL);
}

pl_status pl_store_migrate_steps(sqlite3 *db, const char *path,
                                 const char *const *steps, int n_steps,
                                 int busy_ms, pl_error *err)
{
    /* Up to date: no write lock needed, so opening never waits on (or
     * blocks) another process's command. */
    int now = pl_store_user_version(db, path, err);
    if (now < 0) return PL_ERR_DB;
    if (now == n_steps) return PL_OK;
    for (;;) {
        /* The version is read again inside the write transaction: two processes
         * opening a new file at once must not both run a step. */
        if (pl_store_begin_immediate_raw(db, busy_ms) != SQLITE_OK)
            return pl_fail(err, PL_ERR_DB, "%s: cannot start the schema upgrade: %s",
                           path, sqlite3_errmsg(db));
        int v = pl_store_user_version(db, path, err);
        if (v < 0 || v >= n_steps) {
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            if (v < 0) return PL_ERR_DB;
            if (v > n_steps)
                return pl_fail(err, PL_ERR_DB,
                               "%s: created by a newer pasalista (schema %d; this "
                               "version knows up to %d)", path, v, n_steps);
            return PL_OK;
        }
        int rc = run_step(db, steps[v], v + 1);
        if (rc == SQLITE_OK) rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
            pl_fail(err, PL_ERR_DB, "%s: upgrading the schema from %d to %d: %s",
                    path, v, v + 1, sqlite3_errmsg(db));
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return PL_ERR_DB;
        }
    }
}
