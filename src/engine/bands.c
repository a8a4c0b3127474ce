/* bands.c — running a chain of layers band by band (see bands.h). */
#include "engine/bands.h"

#include <stdint.h>
#include <string.h>

void pl_band_layer_geometry(pl_band_layer *l)
{
    const pl_conv_shape *cs = l->conv ? pl_conv_plan_shape(l->conv) : NULL;
    switch (l->kind) {
    case PL_BAND_CONV:
        l->in_h = cs->in_h;
        l->out_h = cs->out_h;
        l->stride = cs->stride_h;
        l->pad = cs->pad_top;
        l->span = (cs->kh - 1) * cs->dilation_h + 1;
        l->pitch = l->wide ? cs->in_w : cs->out_w;
        l->row_floats = (size_t)l->pitch * cs->out_c;
        break;
    case PL_BAND_POOL:
        l->in_h = l->pool.in_h;
        l->out_h = l->pool.out_h;
        l->stride = l->pool.stride_h;
        l->pad = l->pool.pad_top;
        l->span = l->pool.kh;
        l->pitch = l->pool.out_w;
        l->row_floats = (size_t)l->pitch * l->pool.c;
        break;
    case PL_BAND_POOL2:
        /* pooled row r: convolution rows 2r, 2r + 1 (unpadded, stride 1) */
        l->in_h = cs->in_h;
        l->out_h = l->pool.out_h;
        l->stride = 2;
        l->pad = 0;
        l->span = cs->kh + 1;
        l->pitch = l->pool.out_w;
        l->row_floats = (size_t)l->pitch * l->pool.c;
        break;
    case PL_BAND_HEADS: {
        const pl_conv_shape *hs = pl_conv_plan_shape(l->head[0]);
        l->in_h = l->out_h = hs->out_h;
        l->stride = l->span = 1;
        l->pad = 0;
        l->pitch = hs->out_w;
        l->row_floats = 0; /* never kept: the last layer */
        break;
    }
    }
}

/* Input rows [*i0, *i1) that output rows [o0, o1) of layer l read. */
static void rows_read(const pl_band_layer *l, int o0, int o1, int *i0, int *i1)
{
    int a = o0 * l->stride - l->pad, b = (o1 - 1) * l->stride - l->pad + l->span;
    *i0 = a < 0 ? 0 : a;
    *i1 = b > l->in_h ? l->in_h : b;
    if (*i1 < *i0) *i1 = *i0;
}

size_t pl_band_chain_size(pl_band_chain *c, size_t budget_bytes, int fixed_band)
{
    const pl_band_layer *last = &c->layer[c->n - 1];
    int rows[PL_BAND_MAX];
    size_t floats = 0;
    for (int band = last->out_h; band >= 1; band--) {
        /* The most rows of each layer a band of this many rows needs: a
         * band whose windows all lie inside the map (clipping only cuts). */
        rows[c->n - 1] = band;
        floats = 0;
        for (int j = c->n - 1; j > 0; j--) {
            const pl_band_layer *l = &c->layer[j];
            int r = (rows[j] - 1) * l->stride + l->span;
            rows[j - 1] = r > l->in_h ? l->in_h : r;
            floats += (size_t)rows[j - 1] * c->layer[j - 1].row_floats;
        }
        c->band = band;
        if (fixed_band > 0 ? band <= fixed_band : floats * sizeof(float) <= budget_bytes) break;
    }
    if (c->band < 1) c->band = 1;
    c->bands = (last->out_h + c->band - 1) / c->band;
    /* Buffers 16-float (64-byte) aligned, one after the other. */
    size_t off = 0;
    for (int j = 0; j < c->n - 1; j++) {
        c->buf_off[j] = off;
        off += ((size_t)rows[j] * c->layer[j].row_floats + 15) / 16 * 16;
    }
    c->pool2_off = off;
    if (c->layer[0].kind == PL_BAND_POOL2) off += pl_conv_plan_pool2_floats(c->layer[0].conv, &c->layer[0].pool, &c->layer[0].pool_ep);
    c->scratch_floats = off;
    return off;
}

/* The address row 0 would have in a buffer holding rows r0.. of an image
 * with rows of row_floats: the kernels index rows from it but only touch
 * the rows they are asked for. Formed as an integer: it may lie outside
 * the buffer. */
static float *rows_base(float *buf, int r0, size_t row_floats)
{
    return (float *)((uintptr_t)buf - (uintptr_t)r0 * row_floats * sizeof(float));
}

/* Rows [r0, r1) of layer l of item b, reading in (rows in_pitch pixels
 * apart) and writing y (l's rows as kept; the last layer: its tensor). */
static void run_layer(const pl_band_layer *l, int b, const float *in, int in_pitch, float *y,
                      int r0, int r1, float *pool2_scratch)
{
    switch (l->kind) {
    case PL_BAND_CONV:
        if (l->wide) pl_conv_plan_run_wide(l->conv, in, y, r0, r1);
        else pl_conv_plan_run_item(l->conv, in, y, r0, r1);
        break;
    case PL_BAND_POOL:
        pl_pool_run_pitch(&l->pool, in_pitch, in, &l->pool_ep, y, r0, r1);
        break;
    case PL_BAND_POOL2:
        pl_conv_plan_run_pool2(l->conv, &l->pool, &l->pool_ep, in, y, r0, r1, pool2_scratch);
        break;
    case PL_BAND_HEADS:
        if (l->conv) {
            pl_split ys = {.n = l->n_heads};
            for (int k = 0; k < l->n_heads; k++) {
                ys.c[k] = l->head_c[k];
                ys.y[k] = l->head_out[k] + (size_t)b * l->head_img[k];
            }
            pl_conv_plan_run_split(l->conv, in, &ys, r0, r1);
        } else {
            for (int k = 0; k < l->n_heads; k++)
                pl_conv_plan_run_item(l->head[k], in, l->head_out[k] + (size_t)b * l->head_img[k], r0, r1);
        }
        break;
    }
}

void pl_band_chain_run(const pl_band_chain *c, const float *in, int t0, int t1, float *scratch)
{
    int n = c->n;
    /* Layer j's buffer holds its rows [held0[j], held1[j]) of item cur. */
    int cur = -1, held0[PL_BAND_MAX] = {0}, held1[PL_BAND_MAX] = {0};
    /* This band: layer j keeps rows [keep0[j], from[j]) (moved to the
     * front of its buffer) and computes rows [from[j], to[j]). */
    int keep0[PL_BAND_MAX], from[PL_BAND_MAX], to[PL_BAND_MAX];
    for (int t = t0; t < t1; t++) {
        int b = t / c->bands;
        const pl_band_layer *last = &c->layer[n - 1];
        from[n - 1] = t % c->bands * c->band;
        to[n - 1] = from[n - 1] + c->band < last->out_h ? from[n - 1] + c->band : last->out_h;
        /* Backwards: each layer computes only the rows the next layer's new
         * rows read that it does not hold yet. Going down the image, what
         * it holds from the previous band is the windows' overlap (a 3x3
         * stride-1 window: 2 rows), so a band moves little. */
        for (int j = n - 1; j > 0; j--) {
            int a = 0, e = 0;
            if (from[j] < to[j]) rows_read(&c->layer[j], from[j], to[j], &a, &e);
            keep0[j - 1] = from[j - 1] = a;
            to[j - 1] = e;
            if (b == cur && a >= held0[j - 1] && a < held1[j - 1])
                from[j - 1] = held1[j - 1] < e ? held1[j - 1] : e;
        }
        const float *x = in + (size_t)b * c->in_img;
        int x_pitch = c->layer[0].kind == PL_BAND_POOL ? c->layer[0].pool.in_w : 0;
        for (int j = 0; j < n - 1; j++) {
            const pl_band_layer *l = &c->layer[j];
            float *buf = scratch + c->buf_off[j];
            if (keep0[j] < to[j]) {
                if (keep0[j] < from[j] && keep0[j] > held0[j])
                    memmove(buf, buf + (size_t)(keep0[j] - held0[j]) * l->row_floats,
                            (size_t)(from[j] - keep0[j]) * l->row_floats * sizeof(float));
                float *y = rows_base(buf, keep0[j], l->row_floats);
                if (from[j] < to[j]) run_layer(l, b, x, x_pitch, y, from[j], to[j], scratch + c->pool2_off);
                held0[j] = keep0[j];
                held1[j] = to[j];
            }
            /* else: the next layer computes nothing either; keep all */
            x = rows_base(buf, held0[j], l->row_floats);
            x_pitch = l->pitch;
        }
        cur = b;
        run_layer(last, b, x, x_pitch, last->kind == PL_BAND_HEADS ? NULL : last->out + (size_t)b * last->out_img,
                  from[n - 1], to[n - 1], scratch + c->pool2_off);
    }
}
