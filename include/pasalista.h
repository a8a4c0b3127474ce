/* pasalista.h — the public API of libpasalista.
 *
 * pasalista takes class attendance from photos: it runs face models on the
 * CPU with its own inference engine, enrolls students, and matches faces in
 * class photos against them. This header is everything a program linking
 * the library (or the pasalista CLI) needs; nothing here prints or exits.
 *
 * Conventions: functions that can fail take a pl_error * (may be NULL) and
 * return pl_status (PL_OK == 0) or NULL; the message names the file or
 * object and says what is wrong. Objects returned by *_new / *_load / *_open
 * are owned by the caller and released with the matching *_free / *_close.
 */
#ifndef PASALISTA_H
#define PASALISTA_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum pl_status {
    PL_OK = 0,
    PL_ERR_IO,          /* cannot open, read or write a file */
    PL_ERR_FORMAT,      /* the bytes are not what they claim to be */
    PL_ERR_UNSUPPORTED, /* a valid file uses something we do not implement */
    PL_ERR_ARG,         /* the caller passed something invalid */
    PL_ERR_NOMEM,       /* allocation failed or a size limit was hit */
    PL_ERR_NOTFOUND,    /* a named thing (model, student, class) does not exist */
    PL_ERR_DB,          /* the database refused */
    PL_ERR_NET,         /* a download failed */
    PL_ERR_INTERNAL
} pl_status;

typedef struct pl_error {
    pl_status code;
    char msg[1024];
} pl_error;
const char *pl_version(void);
const char *pl_status_name(pl_status code);

/* ---- pretrained model files ---------------------------------------------- */

/* The folder holding the model files: $PASALISTA_MODELS, else ./models when
 * it has a manifest.tsv, else the installed share/pasalista/models. */
const char *pl_models_dir(void);

typedef enum pl_model_status {
    PL_MODEL_OK = 0,
    PL_MODEL_MISSING,
    PL_MODEL_CORRUPT  /* size or sha256 differs from models/manifest.tsv */
} pl_model_status;

typedef struct pl_model_file {
    char file[128];      /* path under the models folder, e.g. expo/pnet.tflite */
    char package[96];    /* npm package@version it comes from */
    long long bytes;     /* expected size */
    char sha256[65];
    pl_model_status status;
} pl_model_file;

/* Read the manifest and check every file (with verify_hash, by sha256;
 * otherwise by size). *files is malloc'd; free() it. */
pl_status pl_model_files_list(int verify_hash, pl_model_file **files, int *n,
                              pl_error *err);

/* Full path of a model file, after checking that it is present and has
 * the right size; the error names the file and says to run 'make models'.
 * Writes into buf (size bufsize). */
pl_status pl_model_file_path(const char *file, char *buf, size_t bufsize,
                             pl_error *err);

/* ---- running any model file (the engine; src/formats/loader.c) ----------- */

/* A loaded network plus everything needed to run it: its graph (after the
 * load-time rewrites) and a session whose memory is planned once per input
 * shape. Not thread-safe: one pl_model per thread. */
typedef struct pl_model pl_model;

/* Load .tflite, .onnx, a TF.js graph model.json, or a face-api weights
 * manifest (*-weights_manifest.json), chosen by content / file name.
 * n_threads <= 0 uses every CPU. */
pl_model *pl_model_load(const char *path, int n_threads, pl_error *err);
void pl_model_free(pl_model *m);

int pl_model_n_inputs(const pl_model *m);
int pl_model_n_outputs(const pl_model *m);
/* The input's shape as the file declares it (-1 = any size); returns its
 * rank, writes up to 6 dims. The layout is the file's own: "NCHW" for a
 * 4-D ONNX input, "NHWC" for TFLite / TF.js / face-api, "" otherwise. */
int pl_model_input_shape(const pl_model *m, int input, int64_t *dims);
const char *pl_model_input_layout(const pl_model *m, int input);
const char *pl_model_input_name(const pl_model *m, int input);
const char *pl_model_output_name(const pl_model *m, int output);

/* Use the plain C reference kernels (1) or the fastest available (0). */
void pl_model_set_reference(pl_model *m, int reference);

/* Run the (single-input) model on in, a C-order float32 tensor of shape
 * dims in the model's layout. A first axis larger than the declared batch
 * runs all items: as one batch when the graph allows it, else item by
 * item (outputs are then stacked on their first axis). */
pl_status pl_model_run(pl_model *m, const float *in, int rank, const int64_t *dims,
                       pl_error *err);
/* Output k of the last run, valid until the next run or free; rank and
 * dims (room for 6) may be NULL. NULL when there is no such output. */
const float *pl_model_output(const pl_model *m, int output, int *rank, int64_t *dims);

/* NumPy .npy tensors (src/formats/npy.c): read '<f4' (also '<f2', '<f8', '|u1',
 * '|i1', '<i4', '<i8', converted) in C order; dims has room for 6; *data is
 * malloc'd, free() it. Write float32 atomically. */
pl_status pl_npy_read(const char *path, int *rank, int64_t *dims, float **data,
                      pl_error *err);
pl_status pl_npy_write(const char *path, int rank, const int64_t *dims, const float *data,
                       pl_error *err);


/* ---- roster import: spreadsheet -> photo folder (src/roster/) ------------ */

/* One student as the class spreadsheet lists them. Strings are UTF-8 and
 * never NULL ("" when the column is absent). */
typedef struct pl_roster_row {
    int row;             /* 1-based row in the sheet (CSV: record number)  */
    char *name;          /* full name as written: trimmed, accents intact  */
    char **links;        /* every link found in the photo column(s)        */
    int n_links;
    char *student_id, *email, *gender;
} pl_roster_row;

typedef struct pl_roster {
    pl_roster_row *rows;
    int n_rows;
    char sheet[128];         /* sheet read ("" for CSV)                     */
    int header_row;          /* 1-based row holding the headers             */
    char name_header[128];   /* header(s) used for the name, for messages   */
    char photo_header[128];
} pl_roster;

typedef struct pl_roster_options {
    const char *name_col;   /* header text, column letter ("B") or number
                               ("2"); NULL = find it by the usual headers   */
    const char *photo_col;  /* same, for the photo links                    */
    const char *sheet;      /* sheet name; NULL = first sheet that has one  */
    size_t max_file_bytes;  /* 0 = 64 MiB (also caps each unzipped part)    */
} pl_roster_options;

/* Read .xlsx, .csv (`,` `;` or tab, UTF-8 with or without BOM) or .ods,
 * chosen by content. Fails (PL_ERR_FORMAT) naming the file when there is
 * no name column, no rows, a corrupt or oversized zip, a broken CSV. */
pl_status pl_roster_read(const char *path, const pl_roster_options *opt,
                         pl_roster *out, pl_error *err);
void pl_roster_free(pl_roster *r);

/* Turn a link from the sheet into a URL that downloads the bytes: every
 * Google Drive form (/file/d/ID/view, open?id=, uc?id=, usercontent,
 * docs.google.com) becomes drive_base + "/uc?export=download&id=ID"
 * (drive_base NULL = "https://drive.google.com"); other http(s) URLs are
 * kept. Anything else fails (PL_ERR_ARG) with the reason in err.
 * *is_drive (may be NULL) says which kind it was. */
pl_status pl_drive_link_parse(const char *link, const char *drive_base,
                              char *url, size_t url_size, int *is_drive,
                              pl_error *err);

/* Why a photo is missing; pl_import_reason_name() gives the word written
 * in import-report.csv. */
typedef enum pl_import_reason {
    PL_REASON_NONE = 0,
    PL_REASON_NO_LINK,      /* the student's photo cell is empty           */
    PL_REASON_BAD_LINK,     /* not a Drive link nor an http(s) URL         */
    PL_REASON_NOT_PUBLIC,   /* Drive answered with a sign-in page / 401/403 */
    PL_REASON_NOT_FOUND,    /* HTTP 404 / 410                              */
    PL_REASON_HTTP,         /* another HTTP error, after the retries       */
    PL_REASON_TIMEOUT,      /* connect or total timeout, after the retries */
    PL_REASON_NETWORK,      /* DNS, refused, reset..., after the retries   */
    PL_REASON_TOO_LARGE,    /* over the size limit                         */
    PL_REASON_NOT_IMAGE,    /* HTML or unknown bytes                       */
    PL_REASON_UNSUPPORTED,  /* an image type we refuse (GIF, BMP, ...)     */
    PL_REASON_UNDECODABLE,  /* looks like an image but does not decode     */
    PL_REASON_TOO_SMALL,    /* decodes, but smaller than min_side pixels   */
    PL_REASON_IO,           /* cannot write in the photos folder           */
    PL_REASON_DUPLICATE,    /* same bytes as another student's photo
                               (a warning: the file is kept)               */
    PL_REASON_COUNT
} pl_import_reason;
const char *pl_import_reason_name(pl_import_reason r);

typedef enum pl_import_status {
    PL_IMPORT_DOWNLOADED = 0,  /* fetched and checked in this run          */
    PL_IMPORT_SKIPPED,         /* already there from an earlier run        */
    PL_IMPORT_FAILED           /* no photo from this link (see reason)     */
} pl_import_status;
const char *pl_import_status_name(pl_import_status s);

/* One (student, link) pair; a student with no link gets one item. */
typedef struct pl_import_item {
    int student;              /* index in roster->rows                      */
    int index;                /* photo number: file is <index>.<ext>        */
    const char *link;         /* as written in the sheet (borrowed)         */
    char url[2048];           /* direct URL ("" if the link was rejected)   */
    pl_import_status status;
    pl_import_reason reason;  /* NONE, or why it failed, or DUPLICATE       */
    char detail[256];         /* one human line: "HTTP 404", ...            */
    char file[512];           /* path under the photos folder, "" if none   */
    char format[8];           /* jpeg, png, webp, heic                      */
    char sha256[65];
    long long bytes;
    int http_code, attempts;
} pl_import_item;

typedef struct pl_import_result {
    pl_import_item *items;
    int n_items;
    char (*folders)[96];      /* per roster row: its folder under photos    */
    int n_students;
    int downloaded, skipped, failed, duplicates;
    int students_without_photo;
    int by_reason[PL_REASON_COUNT];
    char report_path[1024];   /* where import-report.csv was written        */
} pl_import_result;

typedef struct pl_import_progress {
    int done, total;          /* items finished / all items                 */
    long long bytes;          /* downloaded so far                          */
    const pl_import_item *item; /* the item that just finished, or NULL     */
    const char *student;      /* its student's name                         */
} pl_import_progress;
typedef void (*pl_import_progress_fn)(void *user, const pl_import_progress *p);

typedef struct pl_import_options {
    int jobs;                   /* parallel downloads (8)                   */
    const char *drive_base_url; /* NULL = https://drive.google.com          */
    long connect_timeout_ms;    /* 10000                                    */
    long timeout_ms;            /* per request, 60000                       */
    int retries;                /* on 429, 5xx, timeouts, drops (4)         */
    long backoff_ms;            /* first wait, doubled each retry (500)     */
    long long max_bytes;        /* per photo (25 MiB)                       */
    int max_redirects;          /* 10                                       */
    int min_side;               /* smallest acceptable width/height (64)    */
    int refresh;                /* download again even what is present      */
    const char *report_path;    /* NULL = <photos>/import-report.csv        */
    pl_import_progress_fn progress; /* called from the importing thread     */
    void *progress_user;
} pl_import_options;
void pl_import_options_default(pl_import_options *o);

/* Download every student's photos into photos_dir:
 *     photos_dir/<Name_Folded_To_ASCII>/1.jpg, 2.png, ...
 *     photos_dir/roster.csv          folder,name,student_id,email,gender,photos
 *     photos_dir/import-report.csv   student,link,status,reason,file
 * (roster.csv maps each folder back to the full name; `pasalista enroll`
 * reads it.) Idempotent: a photo already present from the same link is
 * skipped, failures are retried, and a good photo is never removed because
 * a later download failed. Per-student problems go into *out, not *err;
 * *err is for the run itself (photos_dir unwritable, out of memory). */
pl_status pl_roster_import(const pl_roster *roster, const char *photos_dir,
                           const pl_import_options *opt,
                           pl_import_result *out, pl_error *err);
void pl_import_result_free(pl_import_result *r);

/* ---- enrollment and attendance (src/attend/) ------------------------------ */

/* The networks and the database, opened once and shared by enroll/take. */
typedef struct pl_app pl_app;

typedef struct pl_app_options {
    const char *db_path;  /* default "pasalista.db"                          */
    const char *model;    /* embedder name or "onnx:PATH"; default below     */
    int threads;          /* compute threads (default 1)                     */
    int min_face;         /* smallest face to detect, pixels (default 20)    */
    int create_db;        /* create the database file when missing           */
} pl_app_options;

const char *pl_default_model(void);
pl_app *pl_app_open(const pl_app_options *opt, pl_error *err);
void pl_app_close(pl_app *app);

/* Called as work advances (done of total); `what` names the current item.
 * The library never draws: the CLI turns this into a progress bar. */
typedef void (*pl_progress_fn)(void *ctx, int done, int total, const char *what);

typedef enum pl_enroll_status {
    PL_ENROLL_ADDED = 0,  /* embedded and stored                             */
    PL_ENROLL_ALREADY,    /* same bytes already enrolled for this model      */
    PL_ENROLL_REJECTED,   /* readable, but not a usable face (see reason)    */
    PL_ENROLL_ERROR       /* unreadable: missing, empty, not an image, ...   */
} pl_enroll_status;

typedef struct pl_enroll_item {
    char student[256];
    char path[4096];
    pl_enroll_status status;
    char reason[1024];
} pl_enroll_item;

typedef struct pl_enroll_result {
    pl_enroll_item *items;
    int n_items;
    int added, already, rejected, errors;   /* photos                        */
    int students;                           /* named in the source           */
    int students_ok;                        /* with a usable photo now       */
    int students_failed;                    /* with none: nothing stored     */
} pl_enroll_result;

/* Enroll every student of SOURCE: a folder with one subfolder per student,
 * a flat folder of photos named after the students, or the folder written
 * by `roster import`. Each student is one transaction: a student with no
 * usable photo leaves the database as it was. Returns PL_OK when the run
 * finished, even if some photos were refused (see the result). */
pl_status pl_enroll(pl_app *app, const char *source, pl_progress_fn progress,
                    void *ctx, pl_enroll_result *out, pl_error *err);
void pl_enroll_result_free(pl_enroll_result *r);

typedef enum pl_decision {
    PL_PRESENT = 0,
    PL_REVIEW,            /* a match, but not sure enough: a person decides  */
    PL_UNKNOWN,           /* a face that matches nobody enrolled             */
    PL_ABSENT
} pl_decision;
const char *pl_decision_name(pl_decision d);

typedef struct pl_take_face {
    int photo;                      /* index in photos[]                     */
    float x1, y1, x2, y2;           /* box, pixels of the upright photo      */
    float det_score;
    float landmarks[10];
    int student;                    /* assigned student, -1 if unknown       */
    int best_guess;                 /* most similar student, even if unknown */
    float score;                    /* similarity to assigned / best guess   */
    pl_decision decision;           /* PRESENT, REVIEW or UNKNOWN            */
} pl_take_face;

typedef struct pl_take_student {
    int64_t id;
    char name[256];
    pl_decision status;             /* PRESENT, REVIEW or ABSENT             */
    float score;                    /* best evidence                         */
    int photo, face;                /* where (-1 when absent)                */
} pl_take_student;

typedef struct pl_take_photo {
    char path[4096];
    int w, h;
    int ok;                         /* 0: could not be read (see error)      */
    char error[1024];
    int n_faces;
    double ms_decode, ms_detect, ms_align, ms_embed, ms_match; /* ms_embed excludes ms_align */
} pl_take_photo;

typedef struct pl_take_result {
    char model[128];
    float accept_threshold, review_threshold; /* cosine similarity             */
    pl_take_photo *photos;
    int n_photos, photos_failed;
    pl_take_face *faces;
    int n_faces;
    pl_take_student *students;      /* every enrolled student, by name       */
    int n_students;
    int present, review, absent, unknown;
} pl_take_result;

/* Find every face in every photo, match them one-to-one per photo against
 * the enrolled students, and decide who is present. Unreadable photos are
 * reported in photos[] and the others still processed. */
pl_status pl_take(pl_app *app, const char *const *photos, int n_photos,
                  pl_take_result *out, pl_error *err);
void pl_take_result_free(pl_take_result *r);

/* The result as one JSON object (present, review, absent, unknown, photos,
 * counts) written to f. */
pl_status pl_take_write_json(const pl_take_result *r, FILE *f);
/* Into dir (created if needed): NNN-<photo>.annotated.jpg for each photo
 * (box, name, score, colour by status), contact-sheet.jpg (each face beside
 * the matched student's enrollment photo) and attendance.csv. The photos
 * themselves are only read. */
pl_status pl_take_write_outputs(pl_app *app, const pl_take_result *r,
                                const char *dir, pl_error *err);

/* ---- attendance records: classes, sessions, marks, reports (src/records/) -- */

/* Every function below opens the database file itself and does its work as
 * ONE transaction: on any error the file is left exactly as it was. */

typedef struct pl_class_summary {
    char name[128];
    int n_students, n_sessions;
    char created[32];
} pl_class_summary;

/* Create a class (creating the database file, mode 0600, when missing).
 * *created = 0 when it already existed. */
pl_status pl_class_create(const char *db, const char *name, int *created,
                          pl_error *err);
/* All classes by name; *out is malloc'd (free()). */
pl_status pl_class_list(const char *db, pl_class_summary **out, int *n,
                        pl_error *err);

typedef struct pl_class_add_result {
    int listed;        /* students named by the source                     */
    int added;         /* newly put on the class roster                    */
    int already;       /* already on it                                    */
    int new_students;  /* of the added, not in the database before (no face
                          enrolled yet: they stay absent until enrolled)   */
} pl_class_add_result;
/* Put every student of SOURCE (an enrollment folder, a flat folder of
 * photos named after students, or the output of `roster import`) on the
 * class roster. Students are shared by all classes. */
pl_status pl_class_add_students(const char *db, const char *cls,
                                const char *source, pl_class_add_result *r,
                                pl_error *err);

/* Record attendance for a class: like pl_take, but only the class's
 * students are matched, and the session of (class, date) gets the photos
 * (by SHA-256), every face (box, match, score) and each student's mark, in
 * one transaction at the end. date is YYYY-MM-DD or NULL for today. More
 * photos on the same class and date add to the same session; an automatic
 * mark only goes up and never replaces a manual one. If any photo cannot be
 * read nothing is recorded (PL_ERR_ARG naming it). */
typedef struct pl_take_session {
    char cls[128];
    char date[11];
    int64_t session_id;
    int session_created;     /* 1: the first photos of this class and date */
    int photos_added;        /* new to the session                         */
    int photos_already;      /* same bytes were already part of it         */
    int faces_added;
    int marks_changed;
} pl_take_session;
pl_status pl_take_class(pl_app *app, const char *cls, const char *date,
                        const char *const *photos, int n_photos,
                        pl_take_result *out, pl_take_session *rec,
                        pl_error *err);

/* A person's mark for a student of the class on a date: present, absent,
 * excused (or review). who names the person (audit log); note may be NULL.
 * The session is created (everyone else absent) when there is none yet.
 * old_status gets the mark before ("" when none). */
pl_status pl_mark_set(const char *db, const char *cls, const char *date,
                      const char *student, const char *status, const char *who,
                      const char *note, char old_status[16], pl_error *err);

/* The students x dates matrix of a class. */
typedef struct pl_report_cell {
    char status[16];       /* present|absent|review|excused; "" = no mark   */
    char source[8];        /* auto | manual                                  */
    char auto_status[16];  /* what the photos said (present|review|absent);
                              "" when the session has no photos             */
    float score;           /* best match score, NAN when none               */
} pl_report_cell;

typedef struct pl_report_session {
    char date[11];
    int photos, faces, unknown_faces;
    int present, absent, review, excused;
    int open_review;       /* marks still "review": a person must decide    */
} pl_report_session;

typedef struct pl_report_student {
    char name[256];
    int on_roster;         /* 0: only kept marks (forgotten or removed)     */
    int present, absent, review, excused;
    double percent;        /* present / (present+absent+review), excused not
                              counted; NAN when there is nothing to count   */
} pl_report_student;

typedef struct pl_report {
    char cls[128];
    char from[11], to[11];             /* "" = open                          */
    pl_report_session *sessions;       /* by date                            */
    int n_sessions;
    pl_report_student *students;       /* by name                            */
    int n_students;
    pl_report_cell *cells;             /* n_students x n_sessions, row major */
    int open_review_sessions;          /* sessions with open review items    */
} pl_report;

/* Build the report of a class, sessions from..to inclusive (either NULL). */
pl_status pl_report_build(const char *db, const char *cls, const char *from,
                          const char *to, pl_report *out, pl_error *err);
void pl_report_free(pl_report *r);
/* Write reports in format "csv" | "xlsx" | "html" | "json" to path ("-" is
 * stdout; xlsx needs a file). XLSX: one sheet per class, frozen header
 * row, percentages; CSV takes exactly one report. */
pl_status pl_report_write(const pl_report *reports, int n, const char *format,
                          const char *path, pl_error *err);

/* ---- students: consent and forgetting (src/records/) ---------------------- */

typedef struct pl_student_summary {
    char name[256];
    int photos, embeddings, classes;
    int consent;
    char consent_date[32];
} pl_student_summary;
pl_status pl_student_list(const char *db, pl_student_summary **out, int *n,
                          pl_error *err);
/* Record consent (1) or its withdrawal (0); date YYYY-MM-DD or NULL=today. */
pl_status pl_student_consent(const char *db, const char *name, int consent,
                             const char *date, pl_error *err);
/* Delete the student's photos, crops, embeddings and faces, take them off
 * every class, keep their attendance marks only with keep_attendance, then
 * compact the file so the deleted bytes cannot be recovered from it. */
pl_status pl_student_forget(const char *db, const char *name,
                            int keep_attendance, pl_error *err);

/* A consistent copy of the database into dest (0600) while other
 * processes keep working. */
pl_status pl_backup(const char *db, const char *dest, pl_error *err);

/* ---- identify a folder of photos (src/attend/identify.c) ------------------ */

typedef struct pl_identify_item {
    char path[4096];
    char truth[256];          /* the subfolder's name, "" when not known     */
    int ok;                   /* 0: unreadable or no face (see error)        */
    char error[1024];
    char predicted[256];      /* best student, "" when nobody enrolled       */
    float score;
    pl_decision decision;     /* PRESENT (sure), REVIEW or UNKNOWN           */
    int correct;              /* truth known and predicted == truth, sure    */
} pl_identify_item;

typedef struct pl_identify_result {
    pl_identify_item *items;
    int n_items;
    int with_truth, correct, wrong, unreadable;
} pl_identify_result;

/* Label every photo of dir (one subfolder per person gives the truth, as
 * for enroll) with the most similar enrolled student and the score. */
pl_status pl_identify(pl_app *app, const char *dir, pl_progress_fn progress,
                      void *ctx, pl_identify_result *out, pl_error *err);
void pl_identify_result_free(pl_identify_result *r);
/* A grid image: each photo's face, truth, prediction, score, right/wrong. */
pl_status pl_identify_write_grid(const pl_identify_result *r, const char *path,
                                 pl_error *err);

/* ---- export ---------------------------------------------------------------- */

/* The gallery as a NumPy .npz (names and an N×D float32 matrix per model),
 * readable by numpy.load without pickle. */
pl_status pl_export_npz(pl_app *app, const char *path, pl_error *err);

#ifdef __cplusplus
}
#endif
#endif
