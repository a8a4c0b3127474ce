#include "face/preprocess.h"

#include <math.h>
#include <stddef.h>

/* Bilinear sample of channel c at (x, y); outside the image is black. */
static float sample(const pl_image *img, float x, float y, int c)
{
    int x0 = (int)floorf(x), y0 = (int)floorf(y);
    float fx = x - (float)x0, fy = y - (float)y0;
    float v = 0;
    for (int dy = 0; dy < 2; dy++) {
        int yy = y0 + dy;
        if (yy < 0 || yy >= img->h) continue;
        float wy = dy ? fy : 1 - fy;
        for (int dx = 0; dx < 2; dx++) {
            int xx = x0 + dx;
            if (xx < 0 || xx >= img->w) continue;
            float wx = dx ? fx : 1 - fx;
            v += wx * wy * img->px[((size_t)yy * img->w + xx) * img->c + c];
        }
    }
    return v;
}

static size_t out_index(const pl_input_spec *s, int x, int y, int c)
{
    switch (s->layout) {
    case PL_LAYOUT_NCHW: return ((size_t)c * s->h + y) * s->w + x;
    case PL_LAYOUT_NWHC: return ((size_t)x * s->h + y) * 3 + c;
    case PL_LAYOUT_NHWC: break;
    }
    return ((size_t)y * s->w + x) * 3 + c;
}

/* When the map shrinks the photo (a 300-pixel face into 112 pixels), one
 * bilinear sample per output pixel aliases; averaging k×k samples spread
 * over the output pixel's footprint acts as the area filter a resize
 * would apply. k follows the shrink factor, capped to bound the cost. */
static int supersampling(const float m[6])
{
    float scale = sqrtf(fabsf(m[0] * m[4] - m[1] * m[3]));
    int k = (int)ceilf(scale - 0.25f);
    return k < 1 ? 1 : k > 6 ? 6 : k;
}

void pl_sample_affine(const pl_image *img, const float m[6], const pl_input_spec *spec,
                      float *out)
{
    int grey = img->c < 3;
    int k = supersampling(m);
    float inv_k2 = 1.0f / (float)(k * k);
    for (int y = 0; y < spec->h; y++) {
        for (int x = 0; x < spec->w; x++) {
            float acc[3] = {0, 0, 0};
            for (int sy = 0; sy < k; sy++) {
                for (int sx = 0; sx < k; sx++) {
                    float cx = (float)x + ((float)sx + 0.5f) / (float)k;
                    float cy = (float)y + ((float)sy + 0.5f) / (float)k;
                    float ix = m[0] * cx + m[1] * cy + m[2] - 0.5f;
                    float iy = m[3] * cx + m[4] * cy + m[5] - 0.5f;
                    for (int c = 0; c < 3; c++)
                        acc[c] += sample(img, ix, iy, grey ? 0 : spec->bgr ? 2 - c : c);
                }
            }
            for (int c = 0; c < 3; c++)
                out[out_index(spec, x, y, c)] = (acc[c] * inv_k2 - spec->mean[c]) * spec->scale[c];
        }
    }
}

void pl_box_to_affine(float x1, float y1, float x2, float y2, int w, int h, float m[6])
{
    float sx = (x2 - x1 + 1) / (float)w, sy = (y2 - y1 + 1) / (float)h;
    m[0] = sx; m[1] = 0;  m[2] = x1;
    m[3] = 0;  m[4] = sy; m[5] = y1;
}
