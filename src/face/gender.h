/* gender.h — gender ESTIMATE networks, described as data, and the models
 * pasalista trains itself (src/train).
 *
 * A pretrained gender network is a registry entry, like an embedder: which
 * file, which crop (the detector's box grown by a margin, squared or not),
 * what input (size, channel order, normalisation, layout), which output
 * and how to read it. The preprocessing of each entry is the one the
 * network really needs (../shared/docs/MODELS.md §4), not always the one
 * its package ships. A trained model file (docs/TRAINING.md) is the other
 * kind of model: a small CNN on a face crop, or a head on a frozen
 * embedder's features.
 *
 * The result is always P(male), an estimate; class 0 = F, 1 = M.
 */
#ifndef PL_GENDER_H
#define PL_GENDER_H

#include "face/mtcnn.h"
#include "face/preprocess.h"
#include "pasalista.h"

typedef enum pl_gender_decode {
    PL_GENDER_PROB = 0,   /* output[0] is P(male) already                  */
    PL_GENDER_SOFTMAX0,   /* two probabilities, [0] = P(male)              */
    PL_GENDER_SSR         /* SSR-Net's nine stage tensors, merged in C     */
} pl_gender_decode;

typedef struct pl_gender_spec {
    const char *name, *summary;
    const char *file;          /* under the models folder                   */
    pl_input_spec input;
    float margin;              /* box grown by this fraction on each side  */
    int margin_px;             /* ... plus this many pixels                */
    int square;                /* make the crop square (longer side)       */
    const char *output;        /* output name                              */
    pl_gender_decode decode;
} pl_gender_spec;

const pl_gender_spec *pl_gender_specs(int *n);

/* P(male) for n faces of one RGB image. */
pl_status pl_gender_run(pl_gender *g, const pl_image *img, const pl_face *faces, int n,
                        float *p_male, pl_error *err);

/* The affine map (output pixel -> image) of a crop of out_w×out_h from the
 * face box grown by margin (fraction) and margin_px, squared if asked. */
void pl_gender_box_map(const pl_face *f, float margin, int margin_px, int square, int out_w,
                       int out_h, float m[6]);

/* A square side×side RGB crop of the face box grown by margin (what the
 * small CNN is trained on and reads). */
pl_status pl_gender_face_crop(const pl_image *img, const pl_face *f, int side, float margin,
                              pl_image *out, pl_error *err);

/* The face seen in the mirror of an image w pixels wide: box and
 * landmarks mirrored, left and right points swapped. */
pl_face pl_face_mirror(const pl_face *f, int w);

/* The small CNN's crop and input (shared by training and prediction). */
#define PL_GENDER_CROP_SIDE 64
#define PL_GENDER_CROP_MARGIN 0.25f
#define PL_GENDER_REGION 0.8f
#define PL_GENDER_INPUT 48

#endif
