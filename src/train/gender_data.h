/* gender_data.h — the labelled photos a gender model learns from and is
 * measured on: reading the labels file, finding each photo's face once,
 * and splitting by identity.
 *
 * A labels file is CSV, `path,gender` per row (a first row naming the
 * columns is skipped); paths are relative to the data folder; gender is
 * M/F, male/female, man/woman or hombre/mujer (any case). The identity of
 * a photo is its folder, so a person's photos always land in the same
 * fold. Every problem is reported with the file and line: a photo that is
 * missing, an unknown label, no rows, only one class, an empty folder.
 */
#ifndef PL_TRAIN_GENDER_DATA_H
#define PL_TRAIN_GENDER_DATA_H

#include "face/mtcnn.h"
#include "image/image.h"
#include "util/error.h"

typedef struct tr_sample {
    char path[4096];        /* data folder + the row's path               */
    int label;              /* 0 = F, 1 = M                               */
    int identity;           /* index into tr_dataset.identities           */
    int has_face;           /* a face was found                           */
    int cached;             /* face (and features) came from a cache: not
                               detected again                             */
    pl_face face;           /* the largest face, in pixels of the loaded image */
} tr_sample;

typedef struct tr_dataset {
    tr_sample *s;
    int n;
    char (*identities)[256];
    int n_identities;
    int skipped;            /* photos without a face                      */
} tr_dataset;

pl_status tr_labels_read(const char *data_dir, const char *csv, tr_dataset *d, pl_error *err);
void tr_dataset_free(tr_dataset *d);

/* Load each photo, detect its faces and keep the largest; then call
 * visit(ctx, sample index, image) for each photo with a face. Samples
 * marked cached are left as they are. */
typedef pl_status (*tr_visit_fn)(void *ctx, int i, const pl_image *img, pl_error *err);
pl_status tr_dataset_detect(tr_dataset *d, int threads, tr_visit_fn visit, void *ctx,
                            pl_error *err);

/* Assign identities to k folds, stratified by label (an identity's label
 * is its first photo's), shuffled by rng seed: fold[identity]. */
void tr_identity_folds(const tr_dataset *d, int k, unsigned long long seed, int *fold);

#endif
