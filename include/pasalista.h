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

#ifdef __cplusplus
}
#endif
#endif
