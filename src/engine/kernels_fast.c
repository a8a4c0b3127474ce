/* kernels_fast.c — choosing a fast convolution / fully-connected kernel
 * for a layer, repacking its weights once, and running it.
 *
 * The choice is made at plan time from the CPU (pl_cpu_features, capped by
 * PL_CPU) and the layer's shape:
 *   depthwise (groups == Cin == Cout)  -> per-channel vector kernel
 *   anything else with Cin, Cout divisible by groups -> direct-convolution
 *       register tiles (1x1 stride-1 unpadded layers run as one GEMM)
 * A CPU with neither AVX2+FMA nor AVX-512 gets NULL: the caller uses the
 * reference kernels.
 */
#include "engine/kernels_fast.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Denormal weights make every multiply by them ~100x slower on x86 unless
 * the thread runs with denormals-are-zero; the packed copies hold zero
 * instead, which is what DAZ would read anyway (docs/PEERS.md: these
 * models carry up to 30% denormal weights). */
static float flush(float v) { return fabsf(v) < FLT_MIN ? 0.0f : v; }

static void *alloc_floats(size_t n)
{
    void *p = NULL;
    if (posix_memalign(&p, 64, (n ? n : 1) * sizeof(float)) != 0) return NULL;
    memset(p, 0, (n ? n : 1) * sizeof(float));
    return p;
}

/* The widest vector this CPU may use, 0 when only the reference fits. */
static int vector_width(void)
{
    const pl_cpu *c = pl_cpu_features();
    if (c->avx512f) return PL_VL_AVX512;
    if (c->avx2_fma) return PL_VL_AVX2;
    return 0;
}

static const char *isa_name(int vl) { return vl == PL_VL_AVX512 ? "avx512" : "avx2"; }

static int shape_ok(const pl_conv_shape *s)
{
    int g = s->groups;
    return s->n > 0 && s->in_h > 0 && s->in_w > 0 && s->in_c > 0 && s->out_h > 0 &&
           s->out_w > 0 && s->out_c > 0 && s->kh > 0 && s->kw > 0 && s->stride_h > 0 &&
           s->stride_w > 0 && s->dilation_h > 0 && s->dilation_w > 0 && g > 0 &&
           s->in_c % g == 0 && s->out_c % g == 0;
}

/* Copy `n` per-channel values into a block-padded array: value c of group
 * g goes to block (g, c / nb), lane c % nb. */
static float *pack_per_channel(const float *v, int groups, int ocg, int n_cb, int nb)
{
    float *out = alloc_floats((size_t)groups * n_cb * nb);
    if (!out || !v) return out;
    for (int g = 0; g < groups; g++)
        for (int c = 0; c < ocg; c++)
            out[((size_t)g * n_cb + c / nb) * nb + c % nb] = flush(v[g * ocg + c]);
    return out;
}

/* OHWI [Cout][KH][KW][icg] -> per (group, block): [KH][KW][icg][NB]. */
static void pack_dense(pl_conv_plan *p, const float *w)
{
    const pl_conv_shape *s = &p->s;
    int taps = s->kh * s->kw, icg = p->icg, nb = p->nb;
    size_t blk_size = (size_t)taps * icg * nb;
    for (int oc = 0; oc < s->out_c; oc++) {
        int g = oc / p->ocg, c = oc % p->ocg;
        float *blk = p->w + ((size_t)g * p->n_cb + c / nb) * blk_size;
        for (int t = 0; t < taps; t++)
            for (int ci = 0; ci < icg; ci++)
                blk[((size_t)t * icg + ci) * nb + c % nb] = flush(w[((size_t)oc * taps + t) * icg + ci]);
    }
}

/* Output columns whose every tap lies inside the input. */
static void interior_cols(pl_conv_plan *p)
{
    const pl_conv_shape *s = &p->s;
    int span = (s->kw - 1) * s->dilation_w;
    int lo = (s->pad_left + s->stride_w - 1) / s->stride_w;
    int last = s->in_w - 1 - span + s->pad_left; /* need ox*sw <= last */
    int hi = last < 0 ? 0 : last / s->stride_w + 1;
    if (lo > s->out_w) lo = s->out_w;
    if (hi > s->out_w) hi = s->out_w;
    p->ox_lo = lo;
    p->ox_hi = hi > lo ? hi : lo;
}

static int is_flat(const pl_conv_shape *s)
{
    return s->kh == 1 && s->kw == 1 && s->stride_h == 1 && s->stride_w == 1 &&
           s->pad_top == 0 && s->pad_left == 0 && s->in_h == s->out_h && s->in_w == s->out_w;
}

static int plan_dense(pl_conv_plan *p, const float *w, const float *bias, int vl)
{
    /* Eight or fewer output channels (detector heads): 8-wide vectors
     * waste fewer lanes than 16-wide ones and run twice the pixels. */
    if (vl == PL_VL_AVX512 && p->ocg <= PL_VL_AVX2) vl = PL_VL_AVX2;
    p->kind = PL_CONV_DENSE;
    p->nv = p->ocg > vl ? 2 : 1;
    /* Blocks of three vectors where they leave fewer lanes empty than
     * pairs (33-48 channels on AVX-512: RNet's 48 in 48 lanes, not 64).
     * Ties keep pairs, whose tiles hold more pixels. */
    int lanes2 = (p->ocg + 2 * vl - 1) / (2 * vl) * 2 * vl, lanes3 = (p->ocg + 3 * vl - 1) / (3 * vl) * 3 * vl;
    if (p->nv == 2 && lanes3 < lanes2) p->nv = 3;
    p->nb = p->nv * vl;
    p->n_cb = (p->ocg + p->nb - 1) / p->nb;
    const pl_conv_shape *s = &p->s;
    size_t wn = (size_t)s->groups * p->n_cb * s->kh * s->kw * p->icg * p->nb;
    p->w = alloc_floats(wn);
    p->bias = pack_per_channel(bias, s->groups, p->ocg, p->n_cb, p->nb);
    p->zeros = alloc_floats(p->icg);
    if (!p->w || !p->bias || !p->zeros) return 0;
    pack_dense(p, w);
    if (p->ep.act == PL_ACT_PRELU) {
        p->slope = pack_per_channel(p->ep.slope, s->groups, p->ocg, p->n_cb, p->nb);
        if (!p->slope) return 0;
    }
    interior_cols(p);
    p->flat = is_flat(s);
    p->run = vl == PL_VL_AVX512 ? pl_conv_dense_avx512 : pl_conv_dense_avx2;
    /* Wide rows (pl_conv_plan_run_wide) pay kw - 1 garbage pixels a row to
     * avoid gather tiles, which cost a pointer per pixel and tap: worth it
     * only where the row-by-row kernel would gather (rows narrower than
     * two tiles cross row ends) and a tap is little work (RNet's 3-channel
     * stem: ~15% faster; its 28-channel conv2 and ONet's: ~5% slower). */
    int nv = p->nv; /* the tiles' pixels: P_NV1..3 of kernels_avx512.c / kernels_avx2.c */
    int tile_px = vl == PL_VL_AVX512 ? (nv == 3 ? 9 : nv == 2 ? 12 : 24) : (nv == 3 ? 4 : nv == 2 ? 6 : 12);
    if (s->stride_h == 1 && s->stride_w == 1 && s->dilation_h == 1 && s->dilation_w == 1 &&
        s->pad_top == 0 && s->pad_left == 0 && s->out_h == s->in_h - s->kh + 1 &&
        s->out_w == s->in_w - s->kw + 1 && s->out_w < 2 * tile_px && p->icg <= 4)
        p->run_wide = vl == PL_VL_AVX512 ? pl_conv_dense_wide_avx512 : pl_conv_dense_wide_avx2;
    /* Output pixels in the lanes (pl_conv_plan_run_pool2): for the few
     * channels that leave channel vectors part empty. */
    if (s->groups == 1 && s->stride_h == 1 && s->stride_w == 1 && s->dilation_h == 1 &&
        s->dilation_w == 1 && s->pad_top == 0 && s->pad_left == 0 &&
        s->out_h == s->in_h - s->kh + 1 && s->out_w == s->in_w - s->kw + 1 && p->icg <= 4 &&
        p->ocg <= 16) {
        p->pool2_floats = vl == PL_VL_AVX512 ? pl_conv_pool2_floats_avx512 : pl_conv_pool2_floats_avx2;
        p->run_pool2 = vl == PL_VL_AVX512 ? pl_conv_pool2_avx512 : pl_conv_pool2_avx2;
        if (!p->pool2_floats(p)) p->pool2_floats = NULL, p->run_pool2 = NULL;
    }
    /* Merged heads store each lane range to its own tensor: one block. */
    if (p->flat && s->groups == 1 && p->nv == 1 && p->n_cb == 1)
        p->run_split = vl == PL_VL_AVX512 ? pl_conv_1x1_split_avx512 : pl_conv_1x1_split_avx2;
    const char *what = p->flat ? "1x1" : (s->groups > 1 ? "grouped" : "direct");
    snprintf(p->name, sizeof p->name, "%s-%s%dx%d", isa_name(vl), what, s->kh, s->kw);
    if (p->flat) snprintf(p->name, sizeof p->name, "%s-1x1", isa_name(vl));
    return 1;
}

/* OHWI with I = 1: [C][KH][KW] -> [KH][KW][Cpad]. */
static int plan_depthwise(pl_conv_plan *p, const float *w, const float *bias, int vl)
{
    const pl_conv_shape *s = &p->s;
    int C = s->out_c, taps = s->kh * s->kw;
    int cpad = (C + vl - 1) / vl * vl;
    p->kind = PL_CONV_DEPTHWISE;
    p->w = alloc_floats((size_t)taps * cpad);
    p->bias = alloc_floats(cpad);
    if (!p->w || !p->bias) return 0;
    for (int c = 0; c < C; c++)
        for (int t = 0; t < taps; t++) p->w[(size_t)t * cpad + c] = flush(w[(size_t)c * taps + t]);
    for (int c = 0; bias && c < C; c++) p->bias[c] = flush(bias[c]);
    if (p->ep.act == PL_ACT_PRELU) {
        p->slope = alloc_floats(cpad);
        if (!p->slope) return 0;
        if (p->ep.slope) memcpy(p->slope, p->ep.slope, (size_t)C * sizeof(float));
    }
    interior_cols(p);
    p->run = vl == PL_VL_AVX512 ? pl_conv_dw_avx512 : pl_conv_dw_avx2;
    snprintf(p->name, sizeof p->name, "%s-dw%dx%d", isa_name(vl), s->kh, s->kw);
    return 1;
}

pl_conv_plan *pl_conv_plan_new(const pl_conv_shape *s, const float *w,
                               const float *bias, const pl_epilogue *ep)
{
    int vl = vector_width();
    if (!vl || !s || !w || !shape_ok(s)) return NULL;
    pl_conv_plan *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->s = *s;
    if (ep) p->ep = *ep;
    p->icg = s->in_c / s->groups;
    p->ocg = s->out_c / s->groups;
    int ok = (s->groups == s->in_c && s->groups == s->out_c && s->groups > 1)
                 ? plan_depthwise(p, w, bias, vl)
                 : plan_dense(p, w, bias, vl);
    p->ep.slope = NULL; /* the plan keeps its own padded copy */
    if (!ok) {
        pl_conv_plan_free(p);
        return NULL;
    }
    return p;
}

void pl_conv_plan_free(pl_conv_plan *p)
{
    if (!p) return;
    free(p->w);
    free(p->bias);
    free(p->slope);
    free(p->zeros);
    free(p);
}

void pl_conv_plan_run(const pl_conv_plan *p, const float *x, float *y,
                      int row_begin, int row_end)
{
    if (row_begin < 0) row_begin = 0;
    if (row_end > p->s.out_h) row_end = p->s.out_h;
    if (row_begin >= row_end) return;
    p->run(p, x, y, row_begin, row_end);
}

void pl_conv_plan_run_item(const pl_conv_plan *p, const float *x, float *y,
                           int row_begin, int row_end)
{
    if (row_begin < 0) row_begin = 0;
    if (row_end > p->s.out_h) row_end = p->s.out_h;
    if (row_begin >= row_end) return;
    /* The kernels loop over s.n items: a copy of the plan that sees one.
     * (A shallow copy: the packed weights are shared, read-only.) */
    pl_conv_plan one = *p;
    one.s.n = 1;
    p->run(&one, x, y, row_begin, row_end);
}

const pl_conv_shape *pl_conv_plan_shape(const pl_conv_plan *p) { return &p->s; }

int pl_conv_plan_can_run_wide(const pl_conv_plan *p) { return p && p->run_wide; }

void pl_conv_plan_run_wide(const pl_conv_plan *p, const float *x, float *y,
                           int row_begin, int row_end)
{
    if (row_begin < 0) row_begin = 0;
    if (row_end > p->s.out_h) row_end = p->s.out_h;
    if (!p->run_wide || row_begin >= row_end) return;
    p->run_wide(p, x, y, row_begin, row_end);
}

size_t pl_conv_plan_pool2_floats(const pl_conv_plan *p, const pl_pool_shape *ps,
                                 const pl_epilogue *pool_ep)
{
    if (!p || !p->pool2_floats || !ps->is_max || ps->kh != 2 || ps->kw != 2 ||
        ps->stride_h != 2 || ps->stride_w != 2 || ps->pad_top || ps->pad_left ||
        ps->in_h != p->s.out_h || ps->in_w != p->s.out_w || ps->out_h > (ps->in_h + 1) / 2 ||
        ps->out_w > (ps->in_w + 1) / 2 || (pool_ep && pool_ep->act == PL_ACT_PRELU))
        return 0;
    return p->pool2_floats(p);
}

void pl_conv_plan_run_pool2(const pl_conv_plan *p, const pl_pool_shape *ps,
                            const pl_epilogue *pool_ep, const float *x, float *y, int row_begin,
                            int row_end, float *scratch)
{
    if (row_begin < 0) row_begin = 0;
    if (row_end > ps->out_h) row_end = ps->out_h;
    if (row_begin >= row_end) return;
    p->run_pool2(p, ps, pool_ep, x, y, row_begin, row_end, scratch);
}

int pl_conv_plan_can_run_split(const pl_conv_plan *p) { return p && p->run_split; }

void pl_conv_plan_run_split(const pl_conv_plan *p, const float *x, const pl_split *ys,
                            int row_begin, int row_end)
{
    if (row_begin < 0) row_begin = 0;
    if (row_end > p->s.out_h) row_end = p->s.out_h;
    if (!p->run_split || row_begin >= row_end) return;
    p->run_split(p, x, ys, row_begin, row_end);
}

const char *pl_conv_plan_name(const pl_conv_plan *p) { return p ? p->name : "reference"; }

/* ---- fully connected ----------------------------------------------------- */

pl_fc_plan *pl_fc_plan_new(int n, int k, const float *w, const float *bias,
                           const pl_epilogue *ep)
{
    int vl = vector_width();
    if (!vl || n <= 0 || k <= 0 || !w) return NULL;
    pl_fc_plan *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->n = n;
    p->k = k;
    if (ep) p->ep = *ep;
    p->nv = n > vl ? 2 : 1;
    p->nb = p->nv * vl;
    p->n_nb = (n + p->nb - 1) / p->nb;
    p->w = alloc_floats((size_t)p->n_nb * k * p->nb);
    p->bias = pack_per_channel(bias, 1, n, p->n_nb, p->nb);
    if (p->ep.act == PL_ACT_PRELU) p->slope = pack_per_channel(p->ep.slope, 1, n, p->n_nb, p->nb);
    p->ep.slope = NULL;
    if (!p->w || !p->bias || (p->ep.act == PL_ACT_PRELU && !p->slope)) {
        pl_fc_plan_free(p);
        return NULL;
    }
    /* [N][K] -> per block of NB outputs: [K][NB]. */
    for (int j = 0; j < n; j++)
        for (int c = 0; c < k; c++)
            p->w[((size_t)(j / p->nb) * k + c) * p->nb + j % p->nb] = flush(w[(size_t)j * k + c]);
    p->run = vl == PL_VL_AVX512 ? pl_fc_avx512 : pl_fc_avx2;
    snprintf(p->name, sizeof p->name, "%s-fc", isa_name(vl));
    return p;
}

const char *pl_fc_plan_name(const pl_fc_plan *p) { return p ? p->name : "reference"; }

void pl_fc_plan_free(pl_fc_plan *p)
{
    if (!p) return;
    free(p->w);
    free(p->bias);
    free(p->slope);
    free(p);
}

void pl_fc_plan_run(const pl_fc_plan *p, int m, const float *x, float *y,
                    int m_begin, int m_end)
{
    if (m_begin < 0) m_begin = 0;
    if (m_end > m) m_end = m;
    if (m_begin >= m_end) return;
    p->run(p, m, x, y, m_begin, m_end);
}

/* ---- pooling --------------------------------------------------------------- */

void pl_pool_run(const pl_pool_shape *s, const float *x, const pl_epilogue *ep, float *y,
                 int row_begin, int row_end)
{
    pl_pool_run_pitch(s, s->in_w, x, ep, y, row_begin, row_end);
}

void pl_pool_run_pitch(const pl_pool_shape *s, int in_pitch, const float *x,
                       const pl_epilogue *ep, float *y, int row_begin, int row_end)
{
    if (row_begin < 0) row_begin = 0;
    if (row_end > s->out_h) row_end = s->out_h;
    if (row_begin >= row_end) return;
    int vl = vector_width();
    /* The SIMD epilogue reads PReLU slopes a whole vector at a time, past
     * the caller's C floats: leave that rare case to the reference. */
    if (in_pitch < s->in_w) in_pitch = s->in_w;
    if (!vl || (ep && ep->act == PL_ACT_PRELU))
        pl_pool_ref_pitch(s, in_pitch, x, ep, y, row_begin, row_end);
    else if (vl == PL_VL_AVX512) pl_pool_avx512(s, in_pitch, x, ep, y, row_begin, row_end);
    else pl_pool_avx2(s, in_pitch, x, ep, y, row_begin, row_end);
}
