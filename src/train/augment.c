#include "train/augment.h"

#include <math.h>

#include "face/preprocess.h"

void tr_augment_default(tr_augment *a)
{
    a->flip = 1;
    a->scale = 0.10f;
    a->shift = 0.06f;
    a->rotate_deg = 10.0f;
    a->brightness = 0.20f;
    a->contrast = 0.20f;
}

void tr_make_input(const pl_image *src, float region, int size, const tr_augment *aug,
                   tr_rng *rng, float *out)
{
    float k = region * (float)src->w / (float)size; /* source pixels per input pixel */
    float flip = 1, scale = 1, angle = 0, tx = 0, ty = 0;
    if (aug) {
        if (aug->flip && tr_rng_uniform(rng) < 0.5f) flip = -1;
        scale = tr_rng_range(rng, 1 - aug->scale, 1 + aug->scale);
        angle = tr_rng_range(rng, -aug->rotate_deg, aug->rotate_deg) * 3.14159265f / 180;
        tx = tr_rng_range(rng, -aug->shift, aug->shift) * region * (float)src->w;
        ty = tr_rng_range(rng, -aug->shift, aug->shift) * region * (float)src->h;
    }
    /* src + 0.5 = centre + A·(out + 0.5 - size/2), A = k/scale · R(angle) · diag(flip, 1) */
    float s = k / scale, c = cosf(angle) * s, sn = sinf(angle) * s;
    float a00 = c * flip, a01 = -sn, a10 = sn * flip, a11 = c;
    float cx = src->w * 0.5f + tx, cy = src->h * 0.5f + ty, half = size * 0.5f;
    float m[6] = {a00, a01, cx - (a00 + a01) * half, a10, a11, cy - (a10 + a11) * half};
    pl_input_spec spec = {size, size, 0, {127.5f, 127.5f, 127.5f},
                          {1 / 128.0f, 1 / 128.0f, 1 / 128.0f}, PL_LAYOUT_NCHW, 1};
    pl_sample_affine(src, m, &spec, out);
    if (!aug) return;
    float gain = tr_rng_range(rng, 1 - aug->contrast, 1 + aug->contrast);
    float bias = tr_rng_range(rng, -aug->brightness, aug->brightness);
    int n = 3 * size * size;
    double mean = 0;
    for (int i = 0; i < n; i++) mean += out[i];
    float mu = (float)(mean / n);
    for (int i = 0; i < n; i++) out[i] = (out[i] - mu) * gain + mu + bias;
}
