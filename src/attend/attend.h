/* attend.h — the two main flows: enroll students, take attendance.
 *
 * This module ties the rooms together: image (decode) -> face (detect,
 * check, align, embed) -> store (gallery) for enrollment, and
 * image -> face -> match (one-to-one assignment, thresholds) for taking
 * attendance. It owns no pixels or SQL of its own; it owns the decisions:
 * which photo is good enough, which face is which student, who is present.
 * Its public face is the "enrollment and attendance" section of
 * include/pasalista.h.
 */
#ifndef PL_ATTEND_H
#define PL_ATTEND_H

#include "face/embedder.h"
#include "face/mtcnn.h"
#include "face/quality.h"
#include "match/match.h"
#include "pasalista.h"
#include "store/store.h"

/* The loaded networks and the open database, shared by both flows. */
struct pl_app {
    pl_store *store;
    pl_mtcnn *detector;
    pl_embedder *embedder;
    char model[128];        /* embedder name as stored with embeddings      */
    int threads;
    pl_mtcnn_options detect;
    pl_quality_limits quality;
    /* The last photo take decoded (one image at most), so that writing the
     * outputs right after a take does not decode the file again. */
    pl_image kept_photo;
    char kept_path[4096];
    long long kept_size, kept_mtime_ns;
};

/* A photo of the source folder, and whose it is. */
typedef struct pl_source_photo {
    char student[256];      /* full name                                    */
    char path[4096];
    char code[64], email[128], gender[16]; /* from a roster, if any         */
    int in_student_folder;  /* 1: the folder named the student (truth)     */
} pl_source_photo;

/* List the photos of an enrollment source (a folder of student folders, a
 * flat folder of photos named after the students, or the output of
 * `roster import`). Non-photo files are listed with path but reason set. */
pl_status pl_source_scan(const char *source, pl_source_photo **photos, int *n,
                         pl_error *err);

/* Student name from a photo's file name in a flat folder:
 * "Ana_María_Pérez-2.jpg" -> "Ana María Pérez". */
void pl_name_from_filename(const char *file, char *out, size_t size);

/* pl_take against a gallery the caller loaded (and may have narrowed, e.g.
 * to the students of one class); the gallery stays the caller's. */
pl_status pl_take_gallery(pl_app *app, const pl_gallery *g, const char *const *photos,
                          int n_photos, pl_take_result *out, pl_error *err);

/* The decision thresholds in use: a value stored by `pasalista calibrate`
 * wins over the model's built-in default; review never exceeds accept. */
void pl_app_thresholds(pl_app *app, pl_match_thresholds *th);
/* Keep img (moved in: *img is emptied) as the decoded pixels of path,
 * replacing the photo kept before. */
void pl_app_keep_photo(pl_app *app, const char *path, pl_image *img);
/* The decoded photo at path: the kept one (moved out) if it is that file,
 * unchanged since, else decoded from the file. */
pl_status pl_app_load_photo(pl_app *app, const char *path, pl_image *out, pl_error *err);

#endif
