/* align.h — from five facial landmarks to the crop an embedding network
 * expects.
 *
 * Landmarks are MTCNN's five points in image pixels, in the order left eye,
 * right eye, nose, left mouth corner, right mouth corner (left/right as
 * seen in the image). Alignment is a least-squares similarity transform
 * (rotation, uniform scale, translation; Umeyama 1991) onto a template.
 * The standard template is InsightFace's ArcFace 112×112 one, on which
 * MobileFaceNet and fr_feature were trained; other crop sizes scale it.
 */
#ifndef PL_ALIGN_H
#define PL_ALIGN_H

#include "image/image.h" /* pl_affine_invert */

/* The ArcFace template for a 112×112 crop, x0,y0,...,x4,y4. */
extern const float pl_arcface_template_112[10];

/* Least-squares similarity mapping src points onto dst points (n >= 2).
 * Writes the 2×3 matrix m so that dst ≈ [m0 m1 m2; m3 m4 m5]·[x y 1].
 * Returns 0 when the points are degenerate (all equal). */
int pl_similarity_fit(const float *src, const float *dst, int n, float m[6]);

/* The template for a square crop of `size` pixels whose face occupies the
 * same fraction as in the 112 template, optionally with extra margin
 * (0.0 = as ArcFace; 0.25 = 25% more context on every side). */
void pl_face_template(int size, float margin, float out[10]);

#endif
