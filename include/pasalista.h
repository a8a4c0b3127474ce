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

/* Write s (UTF-8) to f as a JSON string literal, quoted and escaped: the
 * one escaping rule every --json output uses. */
void pl_json_write_string(FILE *f, const char *s);

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
    int threads;          /* compute threads (0: pl_default_threads())       */
    int min_face;         /* smallest face to detect, pixels (default 20)    */
    int create_db;        /* create the database file when missing           */
} pl_app_options;

const char *pl_default_model(void);
/* The threads a 0 in pl_app_options.threads means: every core, at most 8. */
int pl_default_threads(void);
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

/* ---- evaluation and calibration (src/eval/, src/attend/evaluate.c,
 *      src/attend/calibrate.c) ----------------------------------------------- */

/* One point of a ROC curve: pairs scoring >= thr are accepted. */
typedef struct pl_roc_point {
    float thr;
    double far, tar;
} pl_roc_point;

#define PL_EVAL_N_FAR 2            /* TAR is reported at FAR 1e-2 and 1e-3  */
#define PL_EVAL_N_SIZES 4          /* face-size bins of the detection table */

/* Verification: every pair of identity photos. */
typedef struct pl_eval_verification {
    int n_genuine, n_impostor;
    float *genuine, *impostor;     /* every pair's cosine, for histograms   */
    pl_roc_point *roc;
    int n_roc;
    double auc, eer;
    float eer_thr;
    double far[PL_EVAL_N_FAR], tar[PL_EVAL_N_FAR];
    float thr[PL_EVAL_N_FAR];
} pl_eval_verification;

/* Two people the model mixes up in leave-one-out identification. */
typedef struct pl_eval_confusion {
    int truth, predicted;          /* identity indices                      */
    int count;                     /* queries of truth ranked predicted 1st */
    float score;                   /* highest such score                    */
} pl_eval_confusion;

typedef struct pl_eval_identification {
    int queries;                   /* photos whose person has another photo */
    double rank1, rank5;
    pl_eval_confusion *confused;   /* most confused first                   */
    int n_confused;
    /* The most similar pairs of different people (best cross-photo
     * cosine in score; count unused), whether or not they were confused. */
    pl_eval_confusion *closest;
    int n_closest;
} pl_eval_identification;

/* Attendance on one group photo at one pair of thresholds. */
typedef struct pl_eval_group_att {
    int truth, tp, fp, fn, unknown, faces;
    char false_present[1024];      /* "name (0.53), ..."                    */
    char missed[1024];
} pl_eval_group_att;

typedef struct pl_eval_attendance {
    float accept, review;
    pl_eval_group_att *groups;     /* one per group photo                   */
    int tp, fp, fn, unknown;
    int absent_slots;              /* sum over photos of enrolled people
                                      not in it: what false presents are
                                      a rate of                            */
    double precision, recall, false_present_rate;
} pl_eval_attendance;

typedef struct pl_eval_model {
    char name[128];
    char error[1024];              /* the model could not be loaded/run     */
    int dim, faces_embedded;
    double ms_per_face;
    float default_accept, default_review;
    pl_eval_verification ver;
    pl_eval_identification ident;
    pl_eval_attendance att;        /* at the model's built-in thresholds    */
    /* Roster calibration (pl_calibrate's rule) on the identity photos at
     * options.target_far, and attendance at that threshold. */
    float cal_accept, cal_review;
    int cal_lookalikes;
    pl_eval_attendance att_cal;
} pl_eval_model;

typedef struct pl_eval_box {
    char group[128];
    char identity[128];            /* annotated identity, "" for detections */
    float box[4];                  /* x, y, w, h                            */
    float score;                   /* detector score (detections)           */
} pl_eval_box;

typedef struct pl_eval_group {
    char name[128];
    char path[4096];
    char error[1024];              /* unreadable / bad ground truth         */
    int annotated, detected, found40, found50;
} pl_eval_group;

typedef struct pl_eval_detection {
    int annotated, detections, matched40, matched50;
    double recall40, precision40, recall50, precision50;
    char size_label[PL_EVAL_N_SIZES][32];
    int size_annotated[PL_EVAL_N_SIZES], size_found40[PL_EVAL_N_SIZES],
        size_found50[PL_EVAL_N_SIZES];
    pl_eval_box *missed, *false_faces;   /* at IoU 0.4                      */
    int n_missed, n_false;
} pl_eval_detection;

typedef struct pl_eval_photo_issue {
    char path[4096];
    char reason[256];
} pl_eval_photo_issue;

typedef struct pl_eval_result {
    char data[4096];
    int n_identities;
    char (*identity)[128];         /* folder names (slugs), sorted          */
    unsigned char **thumb;         /* a face JPEG per identity, or NULL     */
    size_t *thumb_len;
    int identity_photos, photos_used;
    pl_eval_photo_issue *skipped;  /* unreadable or not one usable face     */
    int n_skipped;
    pl_eval_group *groups;
    int n_groups;
    pl_eval_detection det;
    pl_eval_model *models;
    int n_models;
    double target_far;
    double ms_detect_per_photo, seconds;
} pl_eval_result;

typedef struct pl_eval_options {
    const char *data;              /* folder: identities/<person>/, groups/  */
    const char *models;            /* "a,b,c"; NULL = pl_default_model()   */
    int threads;                   /* default 1                             */
    int max_identities;            /* 0 = all; else the first N people      */
    int max_photos_per_identity;   /* 0 = all (a subset for slow builds)    */
    int max_groups;                /* 0 = all                               */
    double target_far;             /* calibration target (default 1e-3)     */
    pl_progress_fn progress;
    void *ctx;
} pl_eval_options;

/* Measure detection, verification, identification and attendance on a
 * labelled folder, for every model asked for. Each photo is decoded and
 * detected once; every model embeds the same faces. A model that fails to
 * load is reported in its error field and the others still run. */
pl_status pl_evaluate(const pl_eval_options *opt, pl_eval_result *out, pl_error *err);
void pl_eval_result_free(pl_eval_result *r);

/* The result as one JSON object. */
pl_status pl_eval_write_json(const pl_eval_result *r, FILE *f);
/* dir/report.html (self-contained: SVG plots and JPEG thumbnails inline)
 * and dir/report.json; dir is created if needed. */
pl_status pl_eval_write_report(const pl_eval_result *r, const char *dir, pl_error *err);

/* Two enrolled students whose photos score like one person's. */
typedef struct pl_lookalike {
    char a[256], b[256];
    float score;                   /* highest cosine between their photos   */
} pl_lookalike;

typedef struct pl_calibration {
    char model[128];
    double target_far;
    int students, photos, n_genuine, n_impostor;
    float accept, review;          /* proposed thresholds                   */
    double far, tar;               /* on the roster's pairs at accept       */
    float old_accept, old_review;  /* in force before                       */
    pl_lookalike *lookalikes;
    int n_lookalikes;
    int applied;                   /* stored in the database                */
} pl_calibration;

/* Propose the accept threshold for a target false-match rate from the
 * enrolled photos alone (genuine pairs: two photos of one student;
 * impostor pairs: photos of two students) and the review threshold at 10x
 * that rate; list look-alike students. With apply, store them as the
 * model's thresholds (settings), which take then uses. */
pl_status pl_calibrate(pl_app *app, double target_far, int apply, pl_calibration *out,
                       pl_error *err);
void pl_calibration_free(pl_calibration *c);

/* ---- gender ESTIMATE (src/face/gender.c, src/train/) ----------------------
 * An estimate of each face's gender, "M" or "F", with P(male), from a
 * pretrained network or a model trained by pl_gender_train. It is shown as
 * an estimate, is off unless asked for, and is never used to decide
 * attendance. */
typedef struct pl_gender pl_gender;

/* "faceres": best of the shipped networks (README, "Gender"). */
const char *pl_gender_default_model(void);
/* Built-in model i (0, 1, ...), NULL past the end; *summary (may be NULL)
 * gets one line about it. */
const char *pl_gender_model_at(int i, const char **summary);

/* model: a built-in name or the path of a model file written by
 * pl_gender_train (its architecture and input are read from the file). */
pl_gender *pl_gender_open(const char *model, int threads, pl_error *err);
void pl_gender_close(pl_gender *g);
const char *pl_gender_model_name(const pl_gender *g);

/* "M" when p_male >= 0.5, else "F". */
const char *pl_gender_label(float p_male);

typedef struct pl_gender_face {
    float x1, y1, x2, y2;   /* face box, pixels of the upright photo        */
    float det_score;
    float p_male;           /* the estimate: probability of "M"             */
} pl_gender_face;

/* Detect the faces of a photo and estimate each one's gender. *faces is
 * malloc'd (free()), largest face first. */
pl_status pl_gender_predict_photo(pl_gender *g, const char *path, pl_gender_face **faces,
                                  int *n_faces, pl_error *err);

/* Two-class metrics; class 0 = F, 1 = M. */
typedef struct pl_gender_metrics {
    int n;
    int confusion[2][2];    /* [true class][predicted class]                */
    double accuracy;
    double precision[2], recall[2], f1[2];
    double macro_f1;
} pl_gender_metrics;
/* Fill counts-derived fields from m->confusion. */
void pl_gender_metrics_finish(pl_gender_metrics *m);

typedef void (*pl_log_fn)(void *ctx, const char *line);

typedef struct pl_gender_train_options {
    const char *arch;       /* "small-cnn" (default) or "head"              */
    const char *feature;    /* head: frozen embedder (default "faceres")    */
    const char *optimizer;  /* "adam" (default) or "sgd" (momentum 0.9)     */
    int epochs;             /* 20                                           */
    int batch;              /* 32                                           */
    float lr;               /* 0 = 2e-3 for Adam, 0.05 for SGD              */
    float weight_decay;     /* 5e-4                                         */
    int folds;              /* k-fold over identities for the reported
                               metrics (5); < 2 = no cross-validation       */
    int patience;           /* early stopping: epochs without a better
                               validation loss (5)                          */
    int augment;            /* small-cnn: flip/crop/scale/rotate/light (1)  */
    unsigned long long seed;/* same seed, same model, bit for bit (1)       */
    int threads;            /* for the pretrained networks (features, faces) */
    const char *cache;      /* head: features file reused across runs, keyed
                               by photo path, size and mtime; NULL = none  */
    pl_log_fn log;          /* one line per epoch and per fold              */
    void *log_ctx;
} pl_gender_train_options;
void pl_gender_train_options_default(pl_gender_train_options *o);

typedef struct pl_gender_train_report {
    pl_gender_metrics cv;       /* held-out predictions over all k folds     */
    pl_gender_metrics majority; /* each fold's training majority class      */
    int photos, used, skipped;  /* labelled / with a face / without         */
    int identities;
    double seconds_features;    /* detection, crops, features               */
    double seconds_train;       /* all training (folds and final model)     */
    int final_epochs;           /* epochs the saved model ran (early stop)  */
} pl_gender_train_report;

/* Train on the photos named in labels_csv (`path,gender` rows; paths
 * relative to data_dir; gender M/F, male/female, hombre/mujer; the
 * identity is the photo's folder, so folds never split a person), report
 * k-fold metrics, then train on everything and write the model to
 * out_path (format: docs/TRAINING.md). */
pl_status pl_gender_train(const char *data_dir, const char *labels_csv, const char *out_path,
                          const pl_gender_train_options *opt, pl_gender_train_report *report,
                          pl_error *err);

/* Evaluate n models (built-in names or model files) on the labelled
 * photos, faces detected once for all: out[i] for models[i]. */
pl_status pl_gender_eval(const char *data_dir, const char *labels_csv,
                         const char *const *models, int n_models, int threads,
                         pl_gender_metrics *out, int *photos, int *skipped, pl_error *err);

/* Attendance with a gender ESTIMATE (`take --gender`; src/attend/gender_take.c):
 * for every present or to-review student, the estimate from the face that
 * placed them, and the class's counts. Off unless asked for; it changes
 * no decision. */
typedef struct pl_take_gender {
    char model[128];
    float *p_male;          /* per r->students[i]; -1 when absent          */
    int male, female;       /* present students estimated M / F            */
    int review_male, review_female; /* the same among NEEDS REVIEW         */
} pl_take_gender;
pl_status pl_take_gender_estimate(const pl_take_result *r, const char *model, int threads,
                                  pl_take_gender *out, pl_error *err);
void pl_take_gender_free(pl_take_gender *g);

#ifdef __cplusplus
}
#endif
#endif
