#include "face/quality.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "face/align.h"
#include "face/preprocess.h"

#define CROP 112

void pl_quality_default_limits(pl_quality_limits *l)
{
    l->min_face = 40;
    l->min_sharpness = 12.0f;
    l->min_brightness = 35.0f;
    l->second_face = 0.5f;
}

const char *pl_quality_verdict_name(pl_quality_verdict v)
{
    switch (v) {
    case PL_QUALITY_OK: return "ok";
    case PL_QUALITY_NO_FACE: return "no face";
    case PL_QUALITY_SEVERAL_FACES: return "several faces";
    case PL_QUALITY_TOO_SMALL: return "face too small";
    case PL_QUALITY_TOO_BLURRY: return "too blurry";
    case PL_QUALITY_TOO_DARK: return "too dark";
    }
    return "?";
}

static float face_side(const pl_face *f) { return fminf(f->x2 - f->x1, f->y2 - f->y1) + 1; }

/* Mean grey level and variance of the 4-neighbour Laplacian over the
 * aligned crop's central part (the face, not the background). */
static void measure(const pl_image *img, const pl_face *f, float *brightness, float *sharpness)
{
    float *grey = malloc(sizeof(float) * CROP * CROP * 3);
    if (!grey) {
        *brightness = *sharpness = 0;
        return;
    }
    pl_input_spec spec = {CROP, CROP, 0, {0, 0, 0}, {1, 1, 1}, PL_LAYOUT_NHWC, 1};
    float m[6], fwd[6];
    if (!pl_similarity_fit(f->landmarks, pl_arcface_template_112, 5, fwd) || !pl_affine_invert(fwd, m))
        pl_box_to_affine(f->x1, f->y1, f->x2, f->y2, CROP, CROP, m);
    pl_sample_affine(img, m, &spec, grey);
    double sum = 0, lap_sum = 0, lap_sq = 0;
    int n = 0, nl = 0;
    for (int y = 16; y < CROP - 8; y++) {
        for (int x = 16; x < CROP - 16; x++) {
            const float *p = grey + (y * CROP + x) * 3;
            float g = 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2];
            sum += g;
            n++;
            float l = 0;
            static const int dx[4] = {1, -1, 0, 0}, dy[4] = {0, 0, 1, -1};
            for (int k = 0; k < 4; k++) {
                const float *q = grey + ((y + dy[k]) * CROP + x + dx[k]) * 3;
                l += 0.299f * q[0] + 0.587f * q[1] + 0.114f * q[2];
            }
            l -= 4 * g;
            lap_sum += l;
            lap_sq += (double)l * l;
            nl++;
        }
    }
    *brightness = (float)(sum / n);
    double mean = lap_sum / nl;
    *sharpness = (float)(lap_sq / nl - mean * mean);
    free(grey);
}

void pl_quality_check(const pl_image *img, const pl_face *faces, int n,
                      const pl_quality_limits *limits, pl_quality *q)
{
    pl_quality_limits defaults;
    if (!limits) {
        pl_quality_default_limits(&defaults);
        limits = &defaults;
    }
    memset(q, 0, sizeof *q);
    q->face = -1;
    if (n == 0) {
        q->verdict = PL_QUALITY_NO_FACE;
        snprintf(q->reason, sizeof q->reason, "no face found");
        return;
    }
    /* The main face is the biggest; others count when comparable in size
     * (a small face far behind is background, not a second student). */
    int main_face = 0;
    for (int i = 1; i < n; i++)
        if (face_side(&faces[i]) > face_side(&faces[main_face])) main_face = i;
    float side = face_side(&faces[main_face]);
    for (int i = 0; i < n; i++)
        if (face_side(&faces[i]) >= limits->second_face * side) q->n_faces++;
    q->face = main_face;
    q->size = side;
    measure(img, &faces[main_face], &q->brightness, &q->sharpness);
    if (q->n_faces > 1) {
        q->verdict = PL_QUALITY_SEVERAL_FACES;
        snprintf(q->reason, sizeof q->reason, "several faces (%d): use a photo of the student alone", q->n_faces);
    } else if (side < (float)limits->min_face) {
        q->verdict = PL_QUALITY_TOO_SMALL;
        snprintf(q->reason, sizeof q->reason, "face too small (%.0f px, need %d)", side, limits->min_face);
    } else if (q->brightness < limits->min_brightness) {
        q->verdict = PL_QUALITY_TOO_DARK;
        snprintf(q->reason, sizeof q->reason, "too dark (brightness %.0f, need %.0f)", q->brightness,
                 limits->min_brightness);
    } else if (q->sharpness < limits->min_sharpness) {
        q->verdict = PL_QUALITY_TOO_BLURRY;
        snprintf(q->reason, sizeof q->reason, "too blurry (sharpness %.1f, need %.1f)", q->sharpness,
                 limits->min_sharpness);
    } else {
        q->verdict = PL_QUALITY_OK;
        snprintf(q->reason, sizeof q->reason, "ok");
    }
}
