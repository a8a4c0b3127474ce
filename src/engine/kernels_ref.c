/* kernels_ref.c — the plain C reference kernels: what every fast kernel
 * must compute. Written for clarity, not speed: one output value at a
 * time, accumulated in float in the order (ky, kx, ci) so that the fast
 * kernels' results differ only by float rounding. */
#include "engine/kernels.h"

#include <math.h>

float pl_apply_act(float v, const pl_epilogue *ep, int channel)
{
    if (!ep) return v;
    switch (ep->act) {
    case PL_ACT_NONE: return v;
    case PL_ACT_RELU: return v > 0.0f ? v : 0.0f;
    case PL_ACT_RELU6: return v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v);
    case PL_ACT_LEAKY: return v >= 0.0f ? v : v * ep->alpha;
    case PL_ACT_PRELU: return v >= 0.0f ? v : v * (ep->slope ? ep->slope[channel] : 0.0f);
    case PL_ACT_SIGMOID: return 1.0f / (1.0f + expf(-v));
    case PL_ACT_TANH: return tanhf(v);
    case PL_ACT_CLIP: return v < ep->lo ? ep->lo : (v > ep->hi ? ep->hi : v);
    }
    return v;
}

/* One output value: the dot product of one filter with the input window
 * at (oy, ox) of group g; taps that fall into the padding contribute 0. */
static float conv_point(const pl_conv_shape *s, const float *xb, const float *wo,
                        int oy, int ox, int ci0, int icg)
{
    float acc = 0.0f;
    for (int ky = 0; ky < s->kh; ky++) {
        int iy = oy * s->stride_h - s->pad_top + ky * s->dilation_h;
        if (iy < 0 || iy >= s->in_h) continue;
        for (int kx = 0; kx < s->kw; kx++) {
            int ix = ox * s->stride_w - s->pad_left + kx * s->dilation_w;
            if (ix < 0 || ix >= s->in_w) continue;
            const float *xp = xb + ((size_t)iy * s->in_w + ix) * s->in_c + ci0;
            const float *wp = wo + ((size_t)ky * s->kw + kx) * icg;
            for (int c = 0; c < icg; c++) acc += xp[c] * wp[c];
        }
    }
    return acc;
}

void pl_conv2d_ref(const pl_conv_shape *s, const float *x, const float *w,
                   const float *bias, const pl_epilogue *ep, float *y,
                   int row_begin, int row_end)
{
    int groups = s->groups > 0 ? s->groups : 1;
    int icg = s->in_c / groups, ocg = s->out_c / groups;
    size_t wsize = (size_t)s->kh * s->kw * icg; /* floats per filter */
    for (int b = 0; b < s->n; b++) {
        const float *xb = x + (size_t)b * s->in_h * s->in_w * s->in_c;
        float *yb = y + (size_t)b * s->out_h * s->out_w * s->out_c;
        for (int oy = row_begin; oy < row_end; oy++) {
            for (int ox = 0; ox < s->out_w; ox++) {
                float *yp = yb + ((size_t)oy * s->out_w + ox) * s->out_c;
                for (int oc = 0; oc < s->out_c; oc++) {
                    int g = oc / ocg;
                    float v = conv_point(s, xb, w + oc * wsize, oy, ox, g * icg, icg);
                    if (bias) v += bias[oc];
                    yp[oc] = pl_apply_act(v, ep, oc);
                }
            }
        }
    }
}

void pl_fc_ref(int m, int n, int k, const float *x, const float *w,
               const float *bias, const pl_epilogue *ep, float *y,
               int m_begin, int m_end)
{
    (void)m;
    for (int i = m_begin; i < m_end; i++) {
        const float *xr = x + (size_t)i * k;
        for (int j = 0; j < n; j++) {
            const float *wr = w + (size_t)j * k;
            float acc = 0.0f;
            for (int c = 0; c < k; c++) acc += xr[c] * wr[c];
            if (bias) acc += bias[j];
            y[(size_t)i * n + j] = pl_apply_act(acc, ep, j);
        }
    }
}

/* The window of output (oy, ox) clipped to the input: [*y0, *y1) x [*x0, *x1). */
static void pool_window(const pl_pool_shape *s, int oy, int ox, int *y0, int *y1, int *x0,
                        int *x1)
{
    int ty = oy * s->stride_h - s->pad_top, tx = ox * s->stride_w - s->pad_left;
    *y0 = ty < 0 ? 0 : ty;
    *y1 = ty + s->kh > s->in_h ? s->in_h : ty + s->kh;
    *x0 = tx < 0 ? 0 : tx;
    *x1 = tx + s->kw > s->in_w ? s->in_w : tx + s->kw;
}

void pl_pool_ref(const pl_pool_shape *s, const float *x, const pl_epilogue *ep, float *y,
                 int row_begin, int row_end)
{
    pl_pool_ref_pitch(s, s->in_w, x, ep, y, row_begin, row_end);
}

/* Input rows in_pitch pixels apart (pl_pool_run_pitch). */
void pl_pool_ref_pitch(const pl_pool_shape *s, int in_pitch, const float *x,
                       const pl_epilogue *ep, float *y, int row_begin, int row_end)
{
    int C = s->c;
    const size_t pitch = (size_t)(in_pitch > s->in_w ? in_pitch : s->in_w);
    for (int b = 0; b < s->n; b++) {
        const float *xb = x + (size_t)b * s->in_h * pitch * C;
        for (int oy = row_begin; oy < row_end; oy++) {
            for (int ox = 0; ox < s->out_w; ox++) {
                float *yp = y + (((size_t)b * s->out_h + oy) * s->out_w + ox) * C;
                int y0, y1, x0, x1;
                pool_window(s, oy, ox, &y0, &y1, &x0, &x1);
                int count = (y1 > y0 && x1 > x0) ? (y1 - y0) * (x1 - x0) : 0;
                if (s->count_include_pad) count = s->kh * s->kw;
                for (int c = 0; c < C; c++) {
                    float v = s->is_max ? -INFINITY : 0.0f;
                    for (int iy = y0; iy < y1; iy++)
                        for (int ix = x0; ix < x1; ix++) {
                            float e = xb[((size_t)iy * pitch + ix) * C + c];
                            if (s->is_max) v = e > v ? e : v;
                            else v += e;
                        }
                    if (!s->is_max) v *= count > 0 ? 1.0f / (float)count : 0.0f;
                    yp[c] = pl_apply_act(v, ep, c);
                }
            }
        }
    }
}
