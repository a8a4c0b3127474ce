/* preprocess.h — turning a region of a photo into a network's input tensor.
 *
 * Every face network wants a fixed-size crop, in some channel order, with
 * some normalisation, in some layout. One routine serves them all: sample
 * the photo through an affine map (bilinear; black outside the photo, as
 * the original MTCNN pads its crops), normalise per channel and write in
 * the layout the model declares. Keeping this in one place means a model
 * is data (an input spec), not a new code path.
 */
#ifndef PL_PREPROCESS_H
#define PL_PREPROCESS_H

#include "image/image.h"

typedef enum pl_layout {
    PL_LAYOUT_NHWC = 0,
    PL_LAYOUT_NCHW,          /* ONNX models                                  */
    PL_LAYOUT_NWHC           /* MTCNN: the crop transposed (W↔H)             */
} pl_layout;

typedef struct pl_input_spec {
    int w, h;                /* network input size                           */
    int bgr;                 /* feed channels as B,G,R                       */
    float mean[3];           /* per input channel, in the order fed          */
    float scale[3];          /* value = (pixel - mean) * scale               */
    pl_layout layout;
    int antialias;           /* average over each output pixel's footprint
                                when shrinking: measured on the shared
                                faces, it gives MTCNN better landmarks and
                                the embedders better scores than one
                                bilinear tap per pixel                     */
} pl_input_spec;

/* Fill out (w*h*3 floats) by sampling img at src = m·[x+0.5, y+0.5, 1] - 0.5
 * for every output pixel (x, y): m maps output pixel centres to image
 * coordinates. */
void pl_sample_affine(const pl_image *img, const float m[6],
                      const pl_input_spec *spec, float *out);

/* The map for an axis-aligned box (x1,y1)-(x2,y2) (inclusive pixels)
 * resized to the spec's w×h. */
void pl_box_to_affine(float x1, float y1, float x2, float y2, int w, int h,
                      float m[6]);

#endif
