/* records.h — owns the attendance records in the database: classes and
 * their rosters, sessions (one per class and date), the class photos of a
 * session, the faces found in them, each student's mark, and the audit log
 * of manual changes. Tables are described in store.h / schema.c.
 *
 * Rules kept here so that every caller gets them right:
 *   - Adding is idempotent: the same class name, roster entry, session
 *     (class, date) or session photo (sha256) twice is one row.
 *   - Automatic marks only go up: present > review > absent, so a student
 *     found in any photo of the session stays present when more photos are
 *     taken. An automatic mark never overwrites a manual one.
 *   - A manual mark writes an audit row (who, when, old, new, note) in the
 *     same transaction as the change.
 */
#ifndef PL_STORE_RECORDS_H
#define PL_STORE_RECORDS_H

#include "store/store.h"

/* ---- classes ------------------------------------------------------------- */

typedef struct pl_class_info {
    int64_t id;
    char name[128];
    int n_students;
    int n_sessions;
    char created[32];
} pl_class_info;

pl_status pl_store_class_add(pl_store *s, const char *name, int64_t *id,
                             int *created, pl_error *err);
/* PL_ERR_NOTFOUND names the class. */
pl_status pl_store_class_find(pl_store *s, const char *name, pl_class_info *out,
                              pl_error *err);
/* All classes by name; *out is malloc'd (free()). */
pl_status pl_store_class_list(pl_store *s, pl_class_info **out, int *n,
                              pl_error *err);
/* Idempotent; *added = 0 when the student was already on the roster. */
pl_status pl_store_class_add_student(pl_store *s, int64_t class_id,
                                     int64_t student_id, int *added,
                                     pl_error *err);
/* The roster, ordered by student name; *ids is malloc'd (free()). */
pl_status pl_store_class_roster(pl_store *s, int64_t class_id, int64_t **ids,
                                int *n, pl_error *err);

/* ---- sessions, photos, faces --------------------------------------------- */

/* The session of a class on a date (YYYY-MM-DD), created if needed. */
pl_status pl_store_session_get(pl_store *s, int64_t class_id, const char *date,
                               int64_t *session_id, int *created,
                               pl_error *err);

/* A class photo of a session, by content hash; *created = 0 if the same
 * bytes were already part of the session. */
pl_status pl_store_session_photo_add(pl_store *s, int64_t session_id,
                                     const char *sha256, const char *path,
                                     int width, int height, int64_t *photo_id,
                                     int *created, pl_error *err);

typedef struct pl_face_rec {
    int64_t session_photo_id;
    float x, y, w, h;        /* box, pixels of the original photo */
    float det_score;
    const char *model;
    int64_t student_id;      /* assigned or best-guess student; 0 = none */
    float score;
    const char *status;      /* "present" | "review" | "unknown" */
    const void *crop;        /* face thumbnail JPEG or NULL */
    size_t crop_len;
} pl_face_rec;

pl_status pl_store_face_add(pl_store *s, const pl_face_rec *f, int64_t *face_id,
                            pl_error *err);

/* ---- marks ------------------------------------------------------------------ */

typedef struct pl_mark {
    int64_t student_id;   /* 0 for a mark kept after the student was forgotten */
    char student_name[256];
    char status[16];      /* present | absent | review | excused */
    char source[8];       /* auto | manual */
    float score;          /* NAN when none */
    int64_t face_id;      /* 0 when none */
    char updated[32];
} pl_mark;

/* The matcher's mark ("present", "review" or "absent"): kept only if it
 * raises the student's automatic mark, never over a manual one. face_id 0
 * and score NAN mean none. *changed says whether the row changed. */
pl_status pl_store_mark_auto(pl_store *s, int64_t session_id, int64_t student_id,
                             const char *status, float score, int64_t face_id,
                             int *changed, pl_error *err);
/* A person's mark (any of the four), with an audit row naming who and why. */
pl_status pl_store_mark_manual(pl_store *s, int64_t session_id,
                               int64_t student_id, const char *status,
                               const char *who, const char *note,
                               pl_error *err);
/* The marks of a session by name; *out is malloc'd (free()). */
pl_status pl_store_marks_list(pl_store *s, int64_t session_id, pl_mark **out,
                              int *n, pl_error *err);

#endif
