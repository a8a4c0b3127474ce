/* quality.h — is this face good enough to enroll?
 *
 * An enrollment photo is a promise that the face in it is the student's,
 * so a bad one is refused with a reason rather than stored: no face,
 * several faces, a face too small, too blurry or too dark. The measures
 * are taken on a 112×112 aligned grey crop so they do not depend on the
 * photo's resolution.
 */
#ifndef PL_QUALITY_H
#define PL_QUALITY_H

#include "face/mtcnn.h"

typedef enum pl_quality_verdict {
    PL_QUALITY_OK = 0,
    PL_QUALITY_NO_FACE,
    PL_QUALITY_SEVERAL_FACES,
    PL_QUALITY_TOO_SMALL,
    PL_QUALITY_TOO_BLURRY,
    PL_QUALITY_TOO_DARK
} pl_quality_verdict;

typedef struct pl_quality_limits {
    int min_face;          /* pixels, shorter box side (default 40)        */
    float min_sharpness;   /* variance of the Laplacian (default 12)        */
    float min_brightness;  /* mean grey level 0..255 (default 35)           */
    float second_face;     /* another face at least this fraction of the
                              main face's size counts (default 0.5)         */
} pl_quality_limits;

typedef struct pl_quality {
    pl_quality_verdict verdict;
    int face;              /* index of the chosen face, -1 if none          */
    int n_faces;           /* faces that count                               */
    float size, sharpness, brightness;
    char reason[160];      /* for the teacher: "too blurry (sharpness 4.1, need 12)" */
} pl_quality;

void pl_quality_default_limits(pl_quality_limits *l);

/* Judge the faces MTCNN found in one enrollment photo. */
void pl_quality_check(const pl_image *img, const pl_face *faces, int n,
                      const pl_quality_limits *limits, pl_quality *q);

const char *pl_quality_verdict_name(pl_quality_verdict v);

#endif
