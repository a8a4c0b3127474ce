/* model_file.h — a trained gender classifier: its architecture by name,
 * how its input is made, and its weights; saved to and loaded from the
 * file format documented in docs/TRAINING.md.
 *
 * The layer list is not stored: it is rebuilt from the architecture name
 * and the input shape, and the file's tensors must then match it one by
 * one (count and kind). A file written for another architecture, or cut
 * short, or with a wrong checksum is refused with a message naming the
 * file and what differs.
 */
#ifndef PL_TRAIN_MODEL_FILE_H
#define PL_TRAIN_MODEL_FILE_H

#include "train/net.h"
#include "util/error.h"

#define TR_MODEL_MAGIC "PLGENDER"
#define TR_MODEL_VERSION 1

typedef struct tr_model {
    char arch[16];       /* "small-cnn" or "head"                          */
    char feature[32];    /* head: the frozen embedder it reads; else ""    */
    int in_c, in_h, in_w;
    float margin;        /* small-cnn: face box grown by this on each side */
    float region;        /* small-cnn: part of the stored crop fed         */
    tr_net net;          /* class 0 = female, 1 = male                     */
} tr_model;

/* Build the network of `arch` for inputs c×h×w (weights uninitialised). */
pl_status tr_model_build(tr_model *m, const char *arch, int c, int h, int w, int max_batch,
                         pl_error *err);
pl_status tr_model_save(const tr_model *m, const char *path, pl_error *err);
pl_status tr_model_load(const char *path, int max_batch, tr_model *m, pl_error *err);
pl_status tr_model_load_memory(const unsigned char *data, size_t len, const char *name,
                               int max_batch, tr_model *m, pl_error *err);
void tr_model_free(tr_model *m);

/* Copy every weight and statistic of src into dst (same architecture). */
void tr_model_copy_weights(tr_model *dst, const tr_model *src);

#endif
