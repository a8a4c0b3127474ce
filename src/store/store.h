/* store.h — owns the pasalista database: ONE local SQLite file holding the
 * face gallery, classes, attendance sessions, marks and their audit log.
 *
 * Schema (version PL_STORE_SCHEMA_VERSION; full SQL with a comment per table
 * in store/schema.c):
 *
 *   students        one row per person; the gallery is shared by all classes.
 *                   name UNIQUE (full name as written, accents kept), slug
 *                   UNIQUE (folder-safe ASCII handle), student_code, email,
 *                   gender, consent + consent_date, created.
 *   photos          enrollment photos of a student: path, sha256 (UNIQUE per
 *                   student, so re-enrolling the same bytes is a no-op),
 *                   width, height, status ('ok' | 'rejected') + reason, and
 *                   crop: the face thumbnail (JPEG) for contact sheets.
 *   embeddings      one float32 vector per (photo, model): dim, vector BLOB
 *                   (dim*4 bytes, little-endian), quality.
 *   classes, class_students   rosters; a student can be in several classes.
 *   sessions        one per (class, date); more photos the same day add to it.
 *   session_photos  class photos by content hash (sha256 UNIQUE per session).
 *   faces           every face found in a session photo: box, detector score,
 *                   model, matched student, score, decision, crop.
 *   marks           each student's mark in a session: present | absent |
 *                   review | excused, source auto | manual, score. Keeps a
 *                   copy of the name so that "forget --keep-attendance" can
 *                   keep marks after the student row is gone.
 *   audit_log       every manual change: who, when, session, student, old,
 *                   new, note.
 *   settings        key/value: calibrated thresholds per model
 *                   ("threshold.accept.<model>", "threshold.review.<model>").
 *
 * This header: opening, transactions, settings, the gallery. Classes,
 * sessions, faces, marks and the audit log: store/records.h.
 *
 * Versioning: PRAGMA user_version is the schema version; application_id marks
 * the file as ours. Migration N -> N+1 runs in its own transaction; a file
 * from a newer pasalista is refused before anything is written.
 *
 * The transaction rule: every command is ONE transaction. Call
 * pl_store_begin() first (BEGIN IMMEDIATE: takes the write lock up front,
 * waiting and retrying while another process holds it), then
 * pl_store_commit(), or pl_store_rollback() on any failure, so a failed
 * command leaves the database exactly as it was. Begin/commit nest: inner
 * levels are SAVEPOINTs, so the gallery functions below (which wrap their
 * own multi-statement work) join the caller's transaction when one is open.
 *
 * The file is created mode 0600 (SQLite gives its -wal/-shm the same mode),
 * in WAL mode, with foreign keys on, secure_delete on and a busy timeout.
 * All SQL is prepared with bound parameters; user data is never pasted into
 * SQL text. Opening an up-to-date file takes no write lock. A pl_store is
 * used by one thread at a time, and never across fork() (SQLite's POSIX
 * locks are per process): open a new one in the child or thread.
 */
#ifndef PL_STORE_H
#define PL_STORE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

#define PL_STORE_SCHEMA_VERSION 1
/* PRAGMA application_id: "PLst". A file with another id is not ours. */
#define PL_STORE_APP_ID 0x504C7374

typedef struct pl_store pl_store;

enum {
    PL_STORE_CREATE = 1,   /* create the file (0600) when it does not exist */
    PL_STORE_READONLY = 2  /* open read-only; never migrates or writes */
};

/* Open (or with PL_STORE_CREATE, create) the database at path and bring its
 * schema up to date. Errors (PL_ERR_NOTFOUND, PL_ERR_DB, PL_ERR_IO) name
 * the file, e.g. "x.db: created by a newer pasalista (schema 7; this
 * version knows up to 1)". Returns NULL on failure. */
pl_store *pl_store_open(const char *path, int flags, pl_error *err);
void pl_store_close(pl_store *s);

const char *pl_store_path(const pl_store *s);
/* The raw handle, for modules that add their own queries (sessions, marks,
 * reports). They must follow the transaction rule above. */
sqlite3 *pl_store_db(pl_store *s);

/* How long pl_store_begin keeps retrying a busy database (default 30000). */
void pl_store_set_busy_ms(pl_store *s, int ms);

/* Transactions (see the rule above). */
pl_status pl_store_begin(pl_store *s, pl_error *err);
pl_status pl_store_commit(pl_store *s, pl_error *err);
void pl_store_rollback(pl_store *s); /* never fails; safe at depth 0 */
int pl_store_in_transaction(const pl_store *s);

/* Run SQL text that has no user data in it (fixed statements only). */
pl_status pl_store_exec(pl_store *s, const char *sql, pl_error *err);
/* Fill err with "PATH: what: sqlite's message" and return PL_ERR_DB. */
pl_status pl_store_fail(pl_store *s, pl_error *err, const char *what);

/* ---- settings: small key/value facts (calibrated thresholds, ...) ------- */

/* value is written into buf (NUL-terminated); PL_ERR_NOTFOUND if unset. */
pl_status pl_store_setting_get(pl_store *s, const char *key, char *buf,
                               size_t size, pl_error *err);
pl_status pl_store_setting_set(pl_store *s, const char *key, const char *value,
                               pl_error *err);
/* Helpers for numbers; get returns fallback when the key is unset. */
double pl_store_setting_double(pl_store *s, const char *key, double fallback);
pl_status pl_store_setting_set_double(pl_store *s, const char *key, double v,
                                      pl_error *err);

/* The calibrated thresholds of a model, under the keys
 * "threshold.accept.<model>" and "threshold.review.<model>"; a value that
 * was never set comes back as the given default. */
void pl_store_thresholds_get(pl_store *s, const char *model, float *accept,
                             float *review, float default_accept,
                             float default_review);
pl_status pl_store_thresholds_set(pl_store *s, const char *model, float accept,
                                  float review, pl_error *err);

/* A consistent copy of the whole database into dest (created 0600, replaced
 * if present) with SQLite's online backup, while other processes keep
 * reading and writing. */
pl_status pl_store_backup(pl_store *s, const char *dest, pl_error *err);

/* ---- the gallery: students, photos, embeddings --------------------------- */

typedef struct pl_student {
    int64_t id;
    char name[256];       /* full name, UTF-8, accents kept */
    char slug[128];       /* ASCII folder-safe handle; derived from name if "" */
    char code[64];        /* student code / id card number; "" if none */
    char email[128];
    char gender[16];
    int consent;          /* 1 = consent to face processing given */
    char consent_date[32];/* YYYY-MM-DD or "" */
    char created[32];     /* set by the store (UTC, ISO 8601) */
} pl_student;

/* Lower-case ASCII handle for a name: "José Núñez" -> "jose-nunez".
 * Latin letters with accents lose them; anything else becomes '-'. */
void pl_store_slugify(const char *name, char *out, size_t size);

/* Add a student, or find the existing one with that exact name (then nothing
 * is changed and *created = 0). *id gets the row id. */
pl_status pl_store_student_add(pl_store *s, const pl_student *st, int64_t *id,
                               int *created, pl_error *err);
/* Find by exact name, else by slug. PL_ERR_NOTFOUND names it. */
pl_status pl_store_student_find(pl_store *s, const char *name_or_slug,
                                pl_student *out, pl_error *err);
pl_status pl_store_student_get(pl_store *s, int64_t id, pl_student *out,
                               pl_error *err);
/* All students ordered by name; *out is malloc'd (free()). */
pl_status pl_store_student_list(pl_store *s, pl_student **out, int *n,
                                pl_error *err);
pl_status pl_store_student_set_consent(pl_store *s, int64_t id, int consent,
                                       const char *date, pl_error *err);

/* Remove a student: their photos, crops and embeddings, their faces in
 * session photos and their class memberships. With keep_attendance their
 * marks stay (student_id set to NULL, the name copy kept); without it marks
 * and audit rows about them go too. Call pl_store_vacuum afterwards (outside
 * any transaction) so the bytes leave the file. */
pl_status pl_store_student_delete(pl_store *s, int64_t id, int keep_attendance,
                                  pl_error *err);
/* VACUUM, then checkpoint and truncate the WAL: afterwards deleted rows are
 * not recoverable from the .db or -wal files. */
pl_status pl_store_vacuum(pl_store *s, pl_error *err);

typedef struct pl_photo_rec {
    int64_t student_id;
    const char *path;     /* where it was enrolled from (informative) */
    const char *sha256;   /* 64 lower-case hex of the file bytes */
    int width, height;
    int rejected;         /* 0 = usable; 1 = checked and refused */
    const char *reason;   /* why refused ("no face", "2 faces", ...) or NULL */
    const void *crop;     /* face thumbnail JPEG, or NULL */
    size_t crop_len;
} pl_photo_rec;

/* Add a photo of a student. Idempotent by (student, sha256): adding the same
 * bytes again changes nothing and sets *created = 0. */
pl_status pl_store_photo_add(pl_store *s, const pl_photo_rec *p,
                             int64_t *photo_id, int *created, pl_error *err);
/* The photo id of (student, sha256), or PL_ERR_NOTFOUND. */
pl_status pl_store_photo_find(pl_store *s, int64_t student_id,
                              const char *sha256, int64_t *photo_id,
                              pl_error *err);

/* A student's enrollment photos (usable and refused), oldest first; *out is
 * malloc'd (free()). For "student show" and enrollment reports. */
typedef struct pl_photo_info {
    int64_t id;
    char path[512];
    char sha256[65];
    int width, height;
    int rejected;
    char reason[128];
    char added[32];
    int has_crop;
    int n_embeddings;      /* models this photo has a vector for */
} pl_photo_info;
pl_status pl_store_photo_list(pl_store *s, int64_t student_id,
                              pl_photo_info **out, int *n, pl_error *err);

/* Store the embedding of a photo under a model (replacing one already there
 * for the same photo and model). All vectors of one model must have the
 * same dim (PL_ERR_ARG otherwise). Stored exactly as given. */
pl_status pl_store_embedding_add(pl_store *s, int64_t photo_id,
                                 const char *model, const float *v, int dim,
                                 float quality, pl_error *err);

/* The gallery of one model, as matching wants it. Only usable photos
 * (status 'ok') with an embedding for the model are included. */
typedef struct pl_gallery {
    char model[64];
    int dim;
    int n_rows;            /* photos */
    float *rows;           /* n_rows x dim, bytes exactly as stored */
    int64_t *row_photo;    /* photo id per row */
    int *row_student;      /* index into the student arrays per row */
    int n_students;        /* students with at least one row, by name */
    int64_t *student_id;
    char **student_name;
    int *student_rows;     /* how many rows each student has */
    float *means;          /* n_students x dim: L2-normalised mean of the
                              student's L2-normalised rows; matching uses it */
} pl_gallery;

pl_status pl_store_gallery_load(pl_store *s, const char *model, pl_gallery *g,
                                pl_error *err);
void pl_gallery_free(pl_gallery *g);

typedef struct pl_store_counts {
    int students, photos, photos_rejected, embeddings; /* embeddings: of model */
} pl_store_counts;
/* model may be NULL (embeddings then counts every model). */
pl_status pl_store_count(pl_store *s, const char *model, pl_store_counts *c,
                         pl_error *err);

#endif
