/* embedder.h — face embedding networks, described as data.
 *
 * An embedder is a registry entry: which model file, what crop (aligned
 * to the five landmarks, with how much margin), what input size, channel
 * order and normalisation, which output. Adding a network means adding an
 * entry in embedder.c, not a code path. `onnx:PATH` names a user's own
 * FaceNet (160×160 input) or ArcFace (112×112) ONNX file; its spec is
 * chosen from the input size the file declares.
 *
 * Embeddings are L2-normalised; similarity is the cosine (a dot product).
 */
#ifndef PL_EMBEDDER_H
#define PL_EMBEDDER_H

#include "face/mtcnn.h"
#include "face/preprocess.h"

/* How the crop is cut from the five landmarks. */
typedef enum pl_crop_kind {
    PL_CROP_ALIGNED = 0,     /* similarity transform onto the ArcFace template
                                (rotation removed), grown by `margin`        */
    PL_CROP_EYES_MOUTH_BOX   /* face-api's "dlib" box: axis-aligned square of
                                side mean(eye->mouth)/0.45 around the eyes and
                                mouth centre, no rotation                    */
} pl_crop_kind;

typedef struct pl_embedder_spec {
    const char *name;        /* --model NAME                                 */
    const char *summary;
    const char *file;        /* under the models folder                      */
    const char *arch;        /* face-api architecture, or NULL               */
    pl_input_spec input;
    float margin;            /* extra context around the aligned template     */
    int output;              /* which graph output is the embedding          */
    /* Default decision thresholds on cosine similarity, measured on
     * ../shared/faces (README); calibration may replace them. */
    float accept, review;
    pl_crop_kind crop;
} pl_embedder_spec;

typedef struct pl_embedder pl_embedder;

/* The built-in specs, for listings. */
const pl_embedder_spec *pl_embedder_specs(int *n);
const char *pl_embedder_default_name(void);

/* name: a registry name or "onnx:PATH". */
pl_embedder *pl_embedder_new(const char *name, int n_threads, pl_error *err);
void pl_embedder_free(pl_embedder *e);
const pl_embedder_spec *pl_embedder_spec_of(const pl_embedder *e);
int pl_embedder_dim(const pl_embedder *e);

/* Embed n faces of one image in one batch; out is n × dim floats, each
 * row L2-normalised. A face without landmarks (all zero) is cropped from
 * its box instead. */
pl_status pl_embedder_run(pl_embedder *e, const pl_image *img,
                          const pl_face *faces, int n, float *out,
                          pl_error *err);

/* Milliseconds the last pl_embedder_run spent aligning and cropping (the
 * rest was the network). */
double pl_embedder_last_align_ms(const pl_embedder *e);

/* The affine map (output pixel -> image) this embedder uses for a face;
 * also used to cut the face thumbnails shown to teachers. */
void pl_embedder_crop_map(const pl_embedder_spec *s, const pl_face *f,
                          float m[6]);

#endif
