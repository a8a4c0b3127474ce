/* geometry.c — crop, resize (bilinear as TF/Android, half-pixel bilinear,
 * area), affine warp, transpose, flips, quarter-turn rotations and paste.
 * These build the face networks' inputs, so the sampling conventions are
 * spelled out and tested against hand-computed values. */
#include "image/image_internal.h"
#include "image/px_sse.h"
#include "engine/kernels.h" /* pl_cpu_features */

#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

static int valid(const pl_image *img)
{
    return img && img->px && img->w > 0 && img->h > 0 &&
           (img->c == 1 || img->c == 3 || img->c == 4);
}

#define NEED_VALID(img, what)                                                  \
    do {                                                                       \
        if (!valid(img)) return pl_fail(err, PL_ERR_ARG, "%s: empty or invalid image", what); \
    } while (0)

static uint8_t clamp_u8(float v)
{
    return v <= 0.f ? 0 : v >= 255.f ? 255 : (uint8_t)(v + 0.5f);
}

/* ---- crop ------------------------------------------------------------------ */

pl_status pl_image_crop(const pl_image *src, int x, int y, int w, int h, pl_image *out,
                        pl_error *err)
{
    memset(out, 0, sizeof *out);
    NEED_VALID(src, "crop");
    long long x0 = x, y0 = y, x1 = (long long)x + w, y1 = (long long)y + h;
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > src->w) x1 = src->w;
    if (y1 > src->h) y1 = src->h;
    if (w <= 0 || h <= 0 || x1 <= x0 || y1 <= y0)
        return pl_fail(err, PL_ERR_ARG, "crop: rectangle (%d,%d %dx%d) is outside the %dx%d image",
                       x, y, w, h, src->w, src->h);
    pl_status st = pl_img_alloc(out, (int)(x1 - x0), (int)(y1 - y0), src->c, "crop", err);
    if (st) return st;
    size_t row = (size_t)out->w * src->c;
    for (int r = 0; r < out->h; r++)
        memcpy(out->px + r * row, src->px + (((size_t)y0 + r) * src->w + (size_t)x0) * src->c, row);
    return PL_OK;
}

pl_status pl_image_crop_pad(const pl_image *src, int x, int y, int w, int h, uint32_t fill,
                            pl_image *out, pl_error *err)
{
    memset(out, 0, sizeof *out);
    NEED_VALID(src, "crop_pad");
    pl_status st = pl_img_alloc(out, w, h, src->c, "crop_pad", err);
    if (st) return st;
    uint8_t col[4];
    pl_img_colour(fill, src->c, col);
    pl_img_fill_pixels(out->px, (size_t)w * h, src->c, col);
    /* Intersection of the asked rectangle with the source, in both frames. */
    long long sx0 = x > 0 ? x : 0, sy0 = y > 0 ? y : 0;
    long long sx1 = (long long)x + w < src->w ? (long long)x + w : src->w;
    long long sy1 = (long long)y + h < src->h ? (long long)y + h : src->h;
    if (sx1 <= sx0 || sy1 <= sy0) return PL_OK;
    size_t row = (size_t)(sx1 - sx0) * src->c;
    for (long long sy = sy0; sy < sy1; sy++)
        memcpy(out->px + ((size_t)(sy - y) * w + (size_t)(sx0 - x)) * src->c,
               src->px + ((size_t)sy * src->w + (size_t)sx0) * src->c, row);
    return PL_OK;
}

/* ---- bilinear -------------------------------------------------------------- */

/* Per output coordinate: the two source taps and the weight of the second,
 * computed exactly as TF's compute_interpolation_weights (in float). */
typedef struct tap { int lo, hi; float t; } tap;

static void bilinear_taps(int in, int out, int half, tap *taps)
{
    float scale = (float)in / (float)out;
    for (int i = 0; i < out; i++) {
        float s = half ? ((float)i + 0.5f) * scale - 0.5f : (float)i * scale;
        float f = floorf(s);
        int lo = (int)f, hi = (int)ceilf(s);
        taps[i].t = s - f;
        taps[i].lo = lo < 0 ? 0 : lo > in - 1 ? in - 1 : lo;
        taps[i].hi = hi < 0 ? 0 : hi > in - 1 ? in - 1 : hi;
    }
}

static pl_status resize_bilinear(const pl_image *src, int w, int h, int half, pl_image *out,
                                 pl_error *err)
{
    tap *tx = malloc(sizeof *tx * w), *ty = malloc(sizeof *ty * h);
    if (!tx || !ty) {
        free(tx);
        free(ty);
        return pl_fail(err, PL_ERR_NOMEM, "resize: out of memory");
    }
    bilinear_taps(src->w, w, half, tx);
    bilinear_taps(src->h, h, half, ty);
    int c = src->c;
    size_t stride = (size_t)src->w * c;
    for (int y = 0; y < h; y++) {
        const uint8_t *r0 = src->px + ty[y].lo * stride, *r1 = src->px + ty[y].hi * stride;
        float fy = ty[y].t;
        uint8_t *d = out->px + (size_t)y * w * c;
        for (int x = 0; x < w; x++) {
            const uint8_t *a = r0 + tx[x].lo * c, *b = r0 + tx[x].hi * c;
            const uint8_t *e = r1 + tx[x].lo * c, *g = r1 + tx[x].hi * c;
            float fx = tx[x].t;
            for (int k = 0; k < c; k++) {
                float top = a[k] + (b[k] - a[k]) * fx;
                float bot = e[k] + (g[k] - e[k]) * fx;
                *d++ = clamp_u8(top + (bot - top) * fy);
            }
        }
    }
    free(tx);
    free(ty);
    return PL_OK;
}

/* ---- area (box filter) ----------------------------------------------------- */

/* Output i covers source [i*s, (i+1)*s); each covered source pixel j gets
 * the length of its overlap, normalised so a row of weights sums to 1. */
typedef struct span { int first, n; } span;

static int area_weights(int in, int out, span *sp, float **wts)
{
    double s = (double)in / out;
    size_t cap = (size_t)in + 2 * (size_t)out, used = 0;
    float *w = malloc(sizeof *w * cap);
    if (!w) return 0;
    for (int i = 0; i < out; i++) {
        double a = i * s, b = (i + 1) * s;
        int j0 = (int)floor(a), j1 = (int)ceil(b);
        if (j1 > in) j1 = in;
        if (j1 <= j0) j1 = j0 + 1;
        double sum = 0;
        sp[i].first = j0;
        sp[i].n = j1 - j0;
        for (int j = j0; j < j1; j++) {
            double lo = a > j ? a : j, hi = b < j + 1 ? b : j + 1;
            double v = hi > lo ? hi - lo : 0;
            w[used + (j - j0)] = (float)v;
            sum += v;
        }
        for (int j = 0; j < sp[i].n; j++) w[used + j] = sum > 0 ? (float)(w[used + j] / sum) : 1.f / sp[i].n;
        used += (size_t)sp[i].n;
    }
    *wts = w;
    return 1;
}

/* One source row reduced horizontally: h[x*c + k] = sum_j wx[j] * row[j][k]. */
static void area_row(const uint8_t *row, int c, int ow, const span *sx, const float *wx, float *h)
{
    const float *w = wx;
#ifdef __SSE2__
    if (c == 3) { /* RGB in one vector: per lane the scalar loop's sums */
        __m128i z = _mm_setzero_si128();
        for (int x = 0; x < ow; x++) {
            __m128 acc = _mm_setzero_ps();
            const uint8_t *p = row + (size_t)sx[x].first * 3;
            for (int j = 0; j < sx[x].n; j++, p += 3) {
                /* exactly three bytes: the row's last pixel is safe */
                int v = p[0] | p[1] << 8 | p[2] << 16;
                __m128i b = _mm_unpacklo_epi16(_mm_unpacklo_epi8(_mm_cvtsi32_si128(v), z), z);
                acc = _mm_add_ps(acc, _mm_mul_ps(_mm_set1_ps(w[j]), _mm_cvtepi32_ps(b)));
            }
            w += sx[x].n;
            float t[4];
            _mm_storeu_ps(t, acc);
            h[x * 3] = t[0];
            h[x * 3 + 1] = t[1];
            h[x * 3 + 2] = t[2];
        }
        return;
    }
#endif
    if (c == 3) { /* the common case, unrolled: photos are RGB */
        for (int x = 0; x < ow; x++) {
            float r = 0, g = 0, b = 0;
            const uint8_t *p = row + (size_t)sx[x].first * 3;
            for (int j = 0; j < sx[x].n; j++, p += 3) {
                r += w[j] * p[0];
                g += w[j] * p[1];
                b += w[j] * p[2];
            }
            w += sx[x].n;
            h[x * 3] = r;
            h[x * 3 + 1] = g;
            h[x * 3 + 2] = b;
        }
        return;
    }
    for (int x = 0; x < ow; x++) {
        float v[4] = {0, 0, 0, 0};
        const uint8_t *p = row + (size_t)sx[x].first * c;
        for (int j = 0; j < sx[x].n; j++, p += c)
            for (int k = 0; k < c; k++) v[k] += w[j] * p[k];
        w += sx[x].n;
        for (int k = 0; k < c; k++) h[x * c + k] = v[k];
    }
}

/* Streams: one float accumulator row, so a 12 MP source needs no copy.
 * The source row two output rows share is reduced horizontally once and
 * kept (same values, so the same result as reducing it twice). */
static pl_status resize_area(const pl_image *src, int w, int h, pl_image *out, pl_error *err)
{
    span *sx = malloc(sizeof *sx * w), *sy = malloc(sizeof *sy * h);
    float *wx = NULL, *wy = NULL, *acc = malloc(sizeof *acc * w * src->c);
    float *hs = malloc(sizeof *hs * w * src->c);
    int ok = sx && sy && acc && hs && area_weights(src->w, w, sx, &wx) && area_weights(src->h, h, sy, &wy);
    if (ok) {
        int c = src->c, cached = -1;
        size_t stride = (size_t)src->w * c, n = (size_t)w * c;
        const float *wyp = wy;
        for (int y = 0; y < h; y++) {
            memset(acc, 0, sizeof *acc * n);
            for (int j = 0; j < sy[y].n; j++) {
                int r = sy[y].first + j;
                if (r != cached) area_row(src->px + (size_t)r * stride, c, w, sx, wx, hs);
                cached = r;
                float wj = wyp[j];
                for (size_t i = 0; i < n; i++) acc[i] += wj * hs[i];
            }
            wyp += sy[y].n;
            uint8_t *d = out->px + (size_t)y * w * c;
            for (size_t i = 0; i < n; i++) d[i] = clamp_u8(acc[i]);
        }
    }
    free(sx);
    free(sy);
    free(wx);
    free(wy);
    free(acc);
    free(hs);
    return ok ? PL_OK : pl_fail(err, PL_ERR_NOMEM, "resize: out of memory");
}

/* ---- several area reductions in one pass ----------------------------------- */

/* Two source rows reduced horizontally for a level (area_rows_rgbx_body). */
typedef void (*area_rows_fn)(const float *row_a, const float *row_b, int ow, const span *sx, int nmax,
                             const float *wpad, float *ha, float *hb);

/* One level of pl_image_shrink_many: the weights of resize_area and two
 * accumulator rows, because a source row on the boundary between two
 * output rows contributes to both. */
typedef struct shrink_level {
    int w, h;
    span *sx, *sy;
    float *wx, *wy;    /* wx only until wpad is made                    */
    int nmax;          /* widest horizontal span: taps per output pixel */
    float *wpad;       /* wx as w rows of nmax, zero-padded             */
    area_rows_fn area_rows; /* area_rows_rgbx_sse or _avx2              */
    float *hs[2];      /* two source rows, reduced horizontally         */
    float *acc[2];     /* output rows y and y + 1                       */
    int y;             /* the next output row to finish                 */
    size_t wy_at;      /* where row y's weights start in wy             */
    pl_image *out;
} shrink_level;

/* area_row on two rows already converted to floats, four per pixel (RGB
 * and a zero): per lane the same multiply then add, in the same order, on
 * the same values, so the same bits as area_row on the bytes. Every
 * output pixel takes the level's widest span, nmax taps, the extra ones
 * with weight zero: they add +0 to a sum that is never -0, so the bits do
 * not change, and the loop has no ragged ends to mispredict. Four output
 * pixels of both rows at a time: eight independent sums, enough to hide
 * an add's latency (four were not), sharing each weight's broadcast and
 * each pixel's offset (eight pixels of one row ran out of registers for
 * their pointers). The rows must hold nmax readable pixels past their end
 * (rgbx's zero padding); row_b may be row_a when there is only one row. */
static inline __attribute__((always_inline)) void area_rows_rgbx_body(const float *row_a,
                                                                       const float *row_b, int ow,
                                                                       const span *sx, int nmax,
                                                                       const float *wpad, float *ha,
                                                                       float *hb)
{
    int x = 0;
#ifdef __SSE2__
/* One tap of pixel i in both rows: a_i += w_i[j] * pa_i[j], b_i likewise
 * (written out, so the eight sums stay in registers). */
#define TAP(i, j)                                                                 \
    do {                                                                          \
        __m128 wt = _mm_set1_ps(w##i[j]);                                         \
        a##i = _mm_add_ps(a##i, _mm_mul_ps(wt, _mm_load_ps(p##i + 4 * (j))));     \
        b##i = _mm_add_ps(b##i, _mm_mul_ps(wt, _mm_load_ps(p##i + d + 4 * (j)))); \
    } while (0)
    ptrdiff_t d = row_b - row_a;
    for (; x + 4 <= ow; x += 4) {
        const span *s = sx + x;
        const float *p0 = row_a + (size_t)s[0].first * 4, *p1 = row_a + (size_t)s[1].first * 4;
        const float *p2 = row_a + (size_t)s[2].first * 4, *p3 = row_a + (size_t)s[3].first * 4;
        const float *w0 = wpad + (size_t)x * nmax, *w1 = w0 + nmax, *w2 = w1 + nmax, *w3 = w2 + nmax;
        __m128 a0 = _mm_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        for (int j = 0; j < nmax; j++) {
            TAP(0, j);
            TAP(1, j);
            TAP(2, j);
            TAP(3, j);
        }
        /* Four floats each: lane 3 lands on the next pixel's first value,
         * stored after it (h has one float to spare for the last). */
        _mm_storeu_ps(ha + (size_t)x * 3, a0);
        _mm_storeu_ps(ha + (size_t)x * 3 + 3, a1);
        _mm_storeu_ps(ha + (size_t)x * 3 + 6, a2);
        _mm_storeu_ps(ha + (size_t)x * 3 + 9, a3);
        _mm_storeu_ps(hb + (size_t)x * 3, b0);
        _mm_storeu_ps(hb + (size_t)x * 3 + 3, b1);
        _mm_storeu_ps(hb + (size_t)x * 3 + 6, b2);
        _mm_storeu_ps(hb + (size_t)x * 3 + 9, b3);
    }
#undef TAP
#endif
    for (; x < ow; x++) {
        const float *w = wpad + (size_t)x * nmax;
        for (int k = 0; k < 2; k++) {
            const float *p = (k ? row_b : row_a) + (size_t)sx[x].first * 4;
            float *h = k ? hb : ha;
            float r = 0, g = 0, b = 0;
            for (int j = 0; j < nmax; j++, p += 4) {
                r += w[j] * p[0];
                g += w[j] * p[1];
                b += w[j] * p[2];
            }
            h[x * 3] = r;
            h[x * 3 + 1] = g;
            h[x * 3 + 2] = b;
        }
    }
}

static void area_rows_rgbx_sse(const float *row_a, const float *row_b, int ow, const span *sx, int nmax,
                               const float *wpad, float *ha, float *hb)
{
    area_rows_rgbx_body(row_a, row_b, ow, sx, nmax, wpad, ha, hb);
}

#if defined(__x86_64__) && defined(__GNUC__)
/* The same code with VEX encoding: a weight's broadcast becomes one load
 * instead of a load and a shuffle, the loop's busiest instruction. */
__attribute__((target("avx2"))) static void area_rows_rgbx_avx2(const float *row_a, const float *row_b,
                                                                 int ow, const span *sx, int nmax,
                                                                 const float *wpad, float *ha, float *hb)
{
    area_rows_rgbx_body(row_a, row_b, ow, sx, nmax, wpad, ha, hb);
}
#endif

/* The variant this CPU runs (chosen once per level, not per row). */
static area_rows_fn area_rows_rgbx_for_cpu(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (pl_cpu_features()->avx2_fma) return area_rows_rgbx_avx2;
#endif
    return area_rows_rgbx_sse;
}

/* acc += wj * hs, element by element (the same multiply then add with or
 * without SSE2: -O2 does not vectorise this loop by itself). */
static void add_scaled(float *acc, float wj, const float *hs, size_t n)
{
    size_t i = 0;
#ifdef __SSE2__
    __m128 w = _mm_set1_ps(wj);
    for (; i + 4 <= n; i += 4)
        _mm_storeu_ps(acc + i, _mm_add_ps(_mm_loadu_ps(acc + i), _mm_mul_ps(w, _mm_loadu_ps(hs + i))));
#endif
    for (; i < n; i++) acc[i] += wj * hs[i];
}

/* clamp_u8 of each value. */
static void floats_to_bytes(const float *v, uint8_t *d, size_t n)
{
    size_t i = 0;
#ifdef __SSE2__
    /* max(v, 0), min(v, 255), + 0.5, truncated: clamp_u8's answer for
     * every finite v. */
    __m128 lo = _mm_setzero_ps(), hi = _mm_set1_ps(255.f), half = _mm_set1_ps(0.5f);
    for (; i + 8 <= n; i += 8) {
        __m128i a = _mm_cvttps_epi32(_mm_add_ps(_mm_min_ps(_mm_max_ps(_mm_loadu_ps(v + i), lo), hi), half));
        __m128i b = _mm_cvttps_epi32(_mm_add_ps(_mm_min_ps(_mm_max_ps(_mm_loadu_ps(v + i + 4), lo), hi), half));
        __m128i bytes = _mm_packus_epi16(_mm_packs_epi32(a, b), _mm_setzero_si128());
        _mm_storel_epi64((__m128i *)(d + i), bytes);
    }
#endif
    for (; i < n; i++) d[i] = clamp_u8(v[i]);
}

/* A row of RGB bytes as floats, four per pixel (the fourth is zero). */
static void rgb_to_floats(const uint8_t *p, int w, float *out)
{
    int x = 0;
#ifdef __SSE2__
    /* Four bytes per load: every pixel but the row's last has a byte after it. */
    __m128 keep_rgb = _mm_castsi128_ps(_mm_setr_epi32(-1, -1, -1, 0));
    for (; x + 1 < w; x++)
        _mm_store_ps(out + (size_t)x * 4, _mm_and_ps(pl_px4_ps(p + (size_t)x * 3), keep_rgb));
#endif
    for (; x < w; x++) {
        out[x * 4] = p[x * 3];
        out[x * 4 + 1] = p[x * 3 + 1];
        out[x * 4 + 2] = p[x * 3 + 2];
        out[x * 4 + 3] = 0;
    }
}

static void shrink_level_free(shrink_level *l)
{
    free(l->sx);
    free(l->sy);
    free(l->wx);
    free(l->wpad);
    free(l->wy);
    free(l->hs[0]);
    free(l->hs[1]);
    free(l->acc[0]);
    free(l->acc[1]);
}

static int shrink_level_init(shrink_level *l, const pl_image *src, int w, int h, pl_image *out)
{
    memset(l, 0, sizeof *l);
    l->w = w;
    l->h = h;
    l->out = out;
    size_t n = (size_t)w * 3;
    l->sx = malloc(sizeof *l->sx * w);
    l->sy = malloc(sizeof *l->sy * h);
    l->hs[0] = malloc(sizeof(float) * (n + 1)); /* + 1: area_rows_rgbx_body's 4-float stores */
    l->hs[1] = malloc(sizeof(float) * (n + 1));
    l->acc[0] = calloc(n, sizeof(float));
    l->acc[1] = calloc(n, sizeof(float));
    if (!(l->sx && l->sy && l->hs[0] && l->hs[1] && l->acc[0] && l->acc[1] &&
          area_weights(src->w, w, l->sx, &l->wx) && area_weights(src->h, h, l->sy, &l->wy)))
        return 0;
    for (int x = 0; x < w; x++)
        if (l->sx[x].n > l->nmax) l->nmax = l->sx[x].n;
    l->wpad = calloc((size_t)w * l->nmax, sizeof(float));
    if (!l->wpad) return 0;
    const float *wj = l->wx;
    for (int x = 0; x < w; x++) {
        memcpy(l->wpad + (size_t)x * l->nmax, wj, sizeof(float) * (size_t)l->sx[x].n);
        wj += l->sx[x].n;
    }
    free(l->wx); /* wpad has them all */
    l->wx = NULL;
    l->area_rows = area_rows_rgbx_for_cpu();
    return 1;
}

/* Source row r, reduced horizontally (hs), into every output row of the
 * level it covers (the spans of a shrink overlap by at most one row, so at
 * most two). Each output row sums its source rows in increasing order
 * starting from zero, as resize_area does; it is finished after its last
 * one. */
static void shrink_level_add_row(shrink_level *l, const float *hs, int r)
{
    size_t n = (size_t)l->w * 3;
    for (int k = 0; k < 2 && l->y + k < l->h; k++) {
        const span *sp = &l->sy[l->y + k];
        if (r < sp->first || r >= sp->first + sp->n) continue;
        size_t at = l->wy_at + (k ? (size_t)l->sy[l->y].n : 0);
        float wj = l->wy[at + (size_t)(r - sp->first)];
        add_scaled(l->acc[k], wj, hs, n);
    }
    if (l->y < l->h && r == l->sy[l->y].first + l->sy[l->y].n - 1) {
        floats_to_bytes(l->acc[0], l->out->px + (size_t)l->y * n, n);
        float *done = l->acc[0];
        l->acc[0] = l->acc[1];
        l->acc[1] = done;
        memset(done, 0, sizeof(float) * n);
        l->wy_at += (size_t)l->sy[l->y].n;
        l->y++;
    }
}

/* Source rows r and r + 1 (or r alone when two is 0), converted, into the
 * level. Every source row of a shrink lies in some output row's span, so
 * both are always needed. */
static void shrink_level_add_rows(shrink_level *l, const float *rgbx_a, const float *rgbx_b, int r,
                                  int two)
{
    l->area_rows(rgbx_a, two ? rgbx_b : rgbx_a, l->w, l->sx, l->nmax, l->wpad, l->hs[0], l->hs[1]);
    shrink_level_add_row(l, l->hs[0], r);
    if (two) shrink_level_add_row(l, l->hs[1], r + 1);
}

pl_status pl_image_shrink_many(const pl_image *src, int n, const int *w, const int *h,
                               pl_image *out, pl_error *err)
{
    for (int i = 0; i < n; i++) memset(&out[i], 0, sizeof out[i]);
    NEED_VALID(src, "shrink");
    shrink_level *lv = calloc((size_t)n + 1, sizeof *lv);
    float *rgbx = NULL;
    /* Two rows, each with room for the up to src->w zero-weight pixels a
     * span may read past the row's end (area_rows_rgbx_body): zero, so
     * every product is +0. */
    size_t rgbx_floats = 4 * (2 * (size_t)src->w + 1);
    if (!lv || posix_memalign((void **)&rgbx, 16, 2 * sizeof(float) * rgbx_floats) != 0) {
        free(lv);
        return pl_fail(err, PL_ERR_NOMEM, "shrink: out of memory");
    }
    memset(rgbx, 0, 2 * sizeof(float) * rgbx_floats);
    float *rgbx_b = rgbx + rgbx_floats;
    pl_status st = PL_OK;
    int n_stream = 0; /* levels made here, in lv[0..n_stream) */
    for (int i = 0; i < n && st == PL_OK; i++) {
        if (src->c != 3 || w[i] <= 0 || h[i] <= 0 || w[i] > src->w || h[i] > src->h) {
            st = pl_image_resize(src, w[i], h[i], PL_RESIZE_AREA, &out[i], err);
            continue;
        }
        st = pl_img_alloc(&out[i], w[i], h[i], 3, "shrink", err);
        if (st == PL_OK && !shrink_level_init(&lv[n_stream++], src, w[i], h[i], &out[i]))
            st = pl_fail(err, PL_ERR_NOMEM, "shrink: out of memory");
    }
    size_t stride = (size_t)src->w * 3;
    for (int r = 0; st == PL_OK && n_stream && r < src->h; r += 2) {
        int two = r + 1 < src->h;
        rgb_to_floats(src->px + (size_t)r * stride, src->w, rgbx);
        if (two) rgb_to_floats(src->px + (size_t)(r + 1) * stride, src->w, rgbx_b);
        for (int i = 0; i < n_stream; i++) shrink_level_add_rows(&lv[i], rgbx, rgbx_b, r, two);
    }
    for (int i = 0; i < n_stream; i++) shrink_level_free(&lv[i]);
    free(lv);
    free(rgbx);
    if (st != PL_OK)
        for (int i = 0; i < n; i++) pl_image_free(&out[i]);
    return st;
}

pl_status pl_image_resize(const pl_image *src, int w, int h, pl_resize_mode mode, pl_image *out,
                          pl_error *err)
{
    memset(out, 0, sizeof *out);
    NEED_VALID(src, "resize");
    if (w <= 0 || h <= 0) return pl_fail(err, PL_ERR_ARG, "resize: bad target size %dx%d", w, h);
    int shrinks = w < src->w || h < src->h;
    if (mode == PL_RESIZE_AUTO || mode == PL_RESIZE_AREA)
        mode = shrinks ? PL_RESIZE_AREA : PL_RESIZE_BILINEAR_HALF;
    /* RGB shrunk on both axes (photos to their working size): the
     * streaming path, the same bytes as resize_area, faster. */
    if (mode == PL_RESIZE_AREA && src->c == 3 && w <= src->w && h <= src->h)
        return pl_image_shrink_many(src, 1, &w, &h, out, err);
    pl_status st = pl_img_alloc(out, w, h, src->c, "resize", err);
    if (st) return st;
    st = mode == PL_RESIZE_AREA ? resize_area(src, w, h, out, err)
                                : resize_bilinear(src, w, h, mode == PL_RESIZE_BILINEAR_HALF, out, err);
    if (st) pl_image_free(out);
    return st;
}

/* ---- affine warp ----------------------------------------------------------- */

int pl_affine_invert(const float m[6], float inv[6])
{
    double a = m[0], b = m[1], c = m[2], d = m[3], e = m[4], f = m[5];
    double det = a * e - b * d;
    if (fabs(det) < 1e-12) return 0;
    double ia = e / det, ib = -b / det, id = -d / det, ie = a / det;
    inv[0] = (float)ia;
    inv[1] = (float)ib;
    inv[2] = (float)(-(ia * c + ib * f));
    inv[3] = (float)id;
    inv[4] = (float)ie;
    inv[5] = (float)(-(id * c + ie * f));
    return 1;
}

pl_status pl_image_warp_affine(const pl_image *src, const float m[6], int w, int h, int border,
                               pl_image *out, pl_error *err)
{
    memset(out, 0, sizeof *out);
    NEED_VALID(src, "warp");
    if (!m || w <= 0 || h <= 0) return pl_fail(err, PL_ERR_ARG, "warp: bad matrix or size %dx%d", w, h);
    pl_status st = pl_img_alloc(out, w, h, src->c, "warp", err);
    if (st) return st;
    int c = src->c, sw = src->w, sh = src->h;
    uint8_t bv = (uint8_t)(border < 0 ? 0 : border > 255 ? 255 : border);
    uint8_t *d = out->px;
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++, d += c) {
            double fxs = (double)m[0] * x + (double)m[1] * y + m[2];
            double fys = (double)m[3] * x + (double)m[4] * y + m[5];
            if (!(fxs > -1.0 && fxs < sw && fys > -1.0 && fys < sh)) { /* also NaN */
                memset(d, bv, (size_t)c);
                continue;
            }
            int x0 = (int)floor(fxs), y0 = (int)floor(fys);
            float ax = (float)(fxs - x0), ay = (float)(fys - y0);
            int in_x0 = x0 >= 0, in_x1 = x0 + 1 < sw, in_y0 = y0 >= 0, in_y1 = y0 + 1 < sh;
            const uint8_t *p = src->px + ((ptrdiff_t)y0 * sw + x0) * c;
            for (int k = 0; k < c; k++) {
                float v00 = in_y0 && in_x0 ? p[k] : bv;
                float v01 = in_y0 && in_x1 ? p[c + k] : bv;
                float v10 = in_y1 && in_x0 ? p[(ptrdiff_t)sw * c + k] : bv;
                float v11 = in_y1 && in_x1 ? p[(ptrdiff_t)sw * c + c + k] : bv;
                float top = v00 + (v01 - v00) * ax, bot = v10 + (v11 - v10) * ax;
                d[k] = clamp_u8(top + (bot - top) * ay);
            }
        }
    }
    return PL_OK;
}

/* ---- transpose, flips, rotations ------------------------------------------ */

pl_status pl_image_transpose(const pl_image *src, pl_image *out, pl_error *err)
{
    memset(out, 0, sizeof *out);
    NEED_VALID(src, "transpose");
    pl_status st = pl_img_alloc(out, src->h, src->w, src->c, "transpose", err);
    if (st) return st;
    /* EXIF orientation 5 is exactly the transpose. */
    for (int y = 0; y < src->h; y += PL_ORIENT_BAND) {
        int n = src->h - y < PL_ORIENT_BAND ? src->h - y : PL_ORIENT_BAND;
        pl_orient_put_rows(out, 5, src->w, src->h, y, n, src->px + (size_t)y * src->w * src->c);
    }
    return PL_OK;
}

void pl_image_flip_h(pl_image *img)
{
    if (!valid(img)) return;
    int c = img->c;
    for (int y = 0; y < img->h; y++) {
        uint8_t *a = img->px + (size_t)y * img->w * c, *b = a + (size_t)(img->w - 1) * c;
        for (; a < b; a += c, b -= c)
            for (int k = 0; k < c; k++) {
                uint8_t t = a[k];
                a[k] = b[k];
                b[k] = t;
            }
    }
}

void pl_image_flip_v(pl_image *img)
{
    if (!valid(img)) return;
    size_t row = (size_t)img->w * img->c;
    uint8_t *tmp = malloc(row);
    if (!tmp) { /* rare; swap byte by byte */
        for (int y = 0; y < img->h / 2; y++) {
            uint8_t *a = img->px + y * row, *b = img->px + (img->h - 1 - y) * row;
            for (size_t i = 0; i < row; i++) { uint8_t t = a[i]; a[i] = b[i]; b[i] = t; }
        }
        return;
    }
    for (int y = 0; y < img->h / 2; y++) {
        uint8_t *a = img->px + y * row, *b = img->px + (img->h - 1 - y) * row;
        memcpy(tmp, a, row);
        memcpy(a, b, row);
        memcpy(b, tmp, row);
    }
    free(tmp);
}

pl_status pl_image_rotate90(const pl_image *src, int quarter_turns, pl_image *out, pl_error *err)
{
    memset(out, 0, sizeof *out);
    NEED_VALID(src, "rotate");
    int q = ((quarter_turns % 4) + 4) % 4;
    static const int orient[4] = {1, 6, 3, 8}; /* clockwise turns as EXIF orientations */
    int o = orient[q], uw, uh;
    pl_orient_size(o, src->w, src->h, &uw, &uh);
    pl_status st = pl_img_alloc(out, uw, uh, src->c, "rotate", err);
    if (st) return st;
    for (int y = 0; y < src->h; y += PL_ORIENT_BAND) {
        int n = src->h - y < PL_ORIENT_BAND ? src->h - y : PL_ORIENT_BAND;
        pl_orient_put_rows(out, o, src->w, src->h, y, n, src->px + (size_t)y * src->w * src->c);
    }
    return PL_OK;
}

/* ---- paste ----------------------------------------------------------------- */

static void convert_px(const uint8_t *s, int sc, uint8_t *d, int dc)
{
    if (sc == dc) { memcpy(d, s, (size_t)dc); return; }
    uint8_t r = s[0], g = sc >= 3 ? s[1] : s[0], b = sc >= 3 ? s[2] : s[0];
    if (dc == 1) {
        d[0] = (uint8_t)((r * 4899 + g * 9617 + b * 1868 + (1 << 13)) >> 14);
        return;
    }
    d[0] = r; d[1] = g; d[2] = b;
    if (dc == 4) d[3] = sc == 4 ? s[3] : 255;
}

pl_status pl_image_paste(pl_image *dst, const pl_image *src, int x, int y, int w, int h,
                         pl_error *err)
{
    NEED_VALID(dst, "paste");
    NEED_VALID(src, "paste");
    if (w <= 0) w = src->w;
    if (h <= 0) h = src->h;
    pl_image scaled = {0, 0, 0, NULL};
    const pl_image *s = src;
    if (w != src->w || h != src->h) {
        pl_status st = pl_image_resize(src, w, h, PL_RESIZE_AUTO, &scaled, err);
        if (st) return st;
        s = &scaled;
    }
    /* The columns [q0, q1) of the pasted image that land inside dst. */
    long long q0 = x < 0 ? -(long long)x : 0, q1 = (long long)dst->w - x < w ? (long long)dst->w - x : w;
    for (int r = 0; r < h && q0 < q1; r++) {
        long long dy = (long long)y + r;
        if (dy < 0 || dy >= dst->h) continue;
        const uint8_t *sp = s->px + ((size_t)r * w + (size_t)q0) * s->c;
        uint8_t *dp = dst->px + ((size_t)dy * dst->w + (size_t)(x + q0)) * dst->c;
        if (s->c == dst->c) { /* one copy per row, not a call per pixel */
            memcpy(dp, sp, (size_t)(q1 - q0) * s->c);
            continue;
        }
        for (long long q = q0; q < q1; q++, sp += s->c, dp += dst->c) convert_px(sp, s->c, dp, dst->c);
    }
    pl_image_free(&scaled);
    return PL_OK;
}
