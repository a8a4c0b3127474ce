#include "face/preprocess.h"
#include "engine/kernels.h"
#include "image/px_sse.h"

#include <math.h>
#include <stddef.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#include <immintrin.h>
#endif

/* Bilinear sample of all channels at (x, y) added into acc[0..2]; outside
 * the image is black. Weights are computed once for the three channels. */
/* floorf without a library call (the x86-64 baseline has no SSE4.1 round). */
static int floor_int(float v)
{
    int i = (int)v;
    return i - (v < (float)i);
}

static void sample_add(const pl_image *img, float x, float y, int bgr, float acc[3])
{
    int x0 = floor_int(x), y0 = floor_int(y);
    float fx = x - (float)x0, fy = y - (float)y0;
    float w[4] = {(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy};
    int grey = img->c < 3;
    for (int k = 0; k < 4; k++) {
        int xx = x0 + (k & 1), yy = y0 + (k >> 1);
        if (xx < 0 || yy < 0 || xx >= img->w || yy >= img->h || w[k] == 0) continue;
        const uint8_t *p = img->px + ((size_t)yy * img->w + xx) * img->c;
        if (grey) {
            acc[0] += w[k] * p[0];
            acc[1] += w[k] * p[0];
            acc[2] += w[k] * p[0];
        } else {
            acc[0] += w[k] * p[bgr ? 2 : 0];
            acc[1] += w[k] * p[1];
            acc[2] += w[k] * p[bgr ? 0 : 2];
        }
    }
}

/* Where output pixel (x, y) channel c goes: x * step_x + c * step_c from
 * row y's start. One place knows the layouts; the loops just step. */
typedef struct out_steps {
    size_t row, x, c;
} out_steps;

static out_steps out_layout(const pl_input_spec *s)
{
    switch (s->layout) {
    case PL_LAYOUT_NCHW: return (out_steps){(size_t)s->w, 1, (size_t)s->w * s->h};
    case PL_LAYOUT_NWHC: return (out_steps){3, (size_t)s->h * 3, 1};
    case PL_LAYOUT_NHWC: break;
    }
    return (out_steps){(size_t)s->w * 3, 3, 1};
}

/* Normalises n pixels' sums (x, y onwards) into the network input. */
static void store_pixels(const pl_input_spec *s, out_steps st, float inv_k2, int x, int y, int n,
                         const float (*acc)[3], float *out)
{
    float *o = out + (size_t)y * st.row + (size_t)x * st.x;
    for (int i = 0; i < n; i++)
        for (int c = 0; c < 3; c++)
            o[(size_t)i * st.x + (size_t)c * st.c] = (acc[i][c] * inv_k2 - s->mean[c]) * s->scale[c];
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

/* One axis of an axis-aligned map: for each output coordinate and
 * sub-sample, the first source tap and the fraction towards the second,
 * computed with the very expression the general loop uses (the cross term
 * of the matrix is an exact zero), so both paths give the same bits. */
typedef struct axis_tap {
    int i0;
    float f, v; /* v: the source coordinate itself, for border samples */
} axis_tap;

static void axis_taps(int n, int k, float scale, float cross, float shift, axis_tap *t)
{
    for (int o = 0; o < n; o++)
        for (int s = 0; s < k; s++) {
            float c = (float)o + ((float)s + 0.5f) / (float)k;
            float v = scale * c + cross + shift - 0.5f;
            int i0 = floor_int(v);
            t[o * k + s] = (axis_tap){i0, v - (float)i0, v};
        }
}

#ifdef __SSE2__
/* Pixel p's channels c0, 1, c2 as floats in lanes 0..2 (lane 3 zero);
 * reads exactly three bytes, so the image's last pixel is safe. */
static inline __m128 px_vec(const uint8_t *p, int c0, int c2)
{
    int v = p[c0] | p[1] << 8 | p[c2] << 16;
    __m128i z = _mm_setzero_si128();
    __m128i b = _mm_unpacklo_epi16(_mm_unpacklo_epi8(_mm_cvtsi32_si128(v), z), z);
    return _mm_cvtepi32_ps(b);
}

/* The same from one 4-byte load, so the caller must know a byte follows
 * the pixel; lane 3 then holds that byte (or alpha) and is never stored.
 * Four times fewer instructions than assembling three bytes. */
static inline __m128 px_vec4(const uint8_t *p, int bgr)
{
    __m128 f = pl_px4_ps(p);
    return bgr ? _mm_shuffle_ps(f, f, _MM_SHUFFLE(3, 0, 1, 2)) : f;
}

#endif

/* The axis-aligned case (every MTCNN crop, most aligned faces): taps come
 * from two small tables and an interior sample reads its four pixels with
 * no bounds checks. The sums run in the same order as sample_add, so the
 * result is identical to the general loop's. */
#define AXIS_MAX 512

typedef struct axis_job {
    const pl_image *img;
    const axis_tap *tx, *ty;
    int k, c0, c2, bgr;
    int wide; /* 4-byte pixel loads are safe (see px_vec4) */
    /* For four_pixel_sums_avx2, per output column and sample column:
     * (1 - fx) x4 then fx x4, and the tap's byte offset in a row. */
    const float (*wx8)[8];
    const size_t *xoff;
} axis_job;

static int tap_inside(const axis_tap *t, int size) { return t->i0 >= 0 && t->i0 + 1 < size; }

/* The k×k samples of output pixel (x, y) summed into acc (per channel). */
static void pixel_sum(const axis_job *j, int x, int y, float acc[3])
{
    const pl_image *img = j->img;
    int W = img->w, H = img->h, C = img->c, k = j->k, c0 = j->c0, c2 = j->c2;
    size_t stride = (size_t)W * C;
#ifdef __SSE2__
    __m128 vacc = _mm_setzero_ps();
#endif
    for (int sy = 0; sy < k; sy++) {
        const axis_tap *ay = &j->ty[y * k + sy];
        float fy = ay->f;
        for (int sx = 0; sx < k; sx++) {
            const axis_tap *ax = &j->tx[x * k + sx];
            float fx = ax->f;
            if (!tap_inside(ax, W) || !tap_inside(ay, H)) {
#ifdef __SSE2__
                pl_store3_ps(acc, vacc);
                sample_add(img, ax->v, ay->v, j->bgr, acc);
                vacc = _mm_setr_ps(acc[0], acc[1], acc[2], 0.0f);
#else
                sample_add(img, ax->v, ay->v, j->bgr, acc);
#endif
                continue;
            }
            float w0 = (1 - fx) * (1 - fy), w1 = fx * (1 - fy), w2 = (1 - fx) * fy, w3 = fx * fy;
            const uint8_t *p = img->px + (size_t)ay->i0 * stride + (size_t)ax->i0 * C;
            const uint8_t *q = p + C, *r = p + stride, *t = r + C;
#ifdef __SSE2__
            /* The three channels in one vector: per lane the same
             * multiply then add as the scalar code, so the same bits. */
            __m128 vp, vq, vr, vt;
            if (j->wide) {
                vp = px_vec4(p, j->bgr), vq = px_vec4(q, j->bgr);
                vr = px_vec4(r, j->bgr), vt = px_vec4(t, j->bgr);
            } else {
                vp = px_vec(p, c0, c2), vq = px_vec(q, c0, c2);
                vr = px_vec(r, c0, c2), vt = px_vec(t, c0, c2);
            }
            vacc = _mm_add_ps(vacc, _mm_mul_ps(_mm_set1_ps(w0), vp));
            vacc = _mm_add_ps(vacc, _mm_mul_ps(_mm_set1_ps(w1), vq));
            vacc = _mm_add_ps(vacc, _mm_mul_ps(_mm_set1_ps(w2), vr));
            vacc = _mm_add_ps(vacc, _mm_mul_ps(_mm_set1_ps(w3), vt));
#else
            acc[0] += w0 * p[c0];
            acc[1] += w0 * p[1];
            acc[2] += w0 * p[c2];
            acc[0] += w1 * q[c0];
            acc[1] += w1 * q[1];
            acc[2] += w1 * q[c2];
            acc[0] += w2 * r[c0];
            acc[1] += w2 * r[1];
            acc[2] += w2 * r[c2];
            acc[0] += w3 * t[c0];
            acc[1] += w3 * t[1];
            acc[2] += w3 * t[c2];
#endif
        }
    }
#ifdef __SSE2__
    pl_store3_ps(acc, vacc);
#endif
}

#ifdef __SSE2__
/* pixel_sum for four neighbouring output pixels whose samples all lie
 * inside the image, with 4-byte loads: their sums are independent, so the
 * four advance together and no add waits on the one before it (a single
 * sum is a chain of 4k² dependent adds). Each sum's terms and their order
 * are pixel_sum's. */
static void four_pixel_sums(const axis_job *j, int x, int y, float acc[4][3])
{
    const pl_image *img = j->img;
    int C = img->c, k = j->k, bgr = j->bgr;
    size_t stride = (size_t)img->w * C;
    __m128 a[4] = {_mm_setzero_ps(), _mm_setzero_ps(), _mm_setzero_ps(), _mm_setzero_ps()};
    for (int sy = 0; sy < k; sy++) {
        const axis_tap *ay = &j->ty[y * k + sy];
        float fy = ay->f;
        const uint8_t *row = img->px + (size_t)ay->i0 * stride;
        for (int sx = 0; sx < k; sx++) {
#define SAMPLE(i)                                                                          \
    do {                                                                                   \
        const axis_tap *ax = &j->tx[(x + i) * k + sx];                                     \
        float fx = ax->f;                                                                  \
        const uint8_t *p = row + (size_t)ax->i0 * C;                                       \
        a[i] = _mm_add_ps(a[i], _mm_mul_ps(_mm_set1_ps((1 - fx) * (1 - fy)), px_vec4(p, bgr)));          \
        a[i] = _mm_add_ps(a[i], _mm_mul_ps(_mm_set1_ps(fx * (1 - fy)), px_vec4(p + C, bgr)));            \
        a[i] = _mm_add_ps(a[i], _mm_mul_ps(_mm_set1_ps((1 - fx) * fy), px_vec4(p + stride, bgr)));       \
        a[i] = _mm_add_ps(a[i], _mm_mul_ps(_mm_set1_ps(fx * fy), px_vec4(p + stride + C, bgr)));         \
    } while (0)
            SAMPLE(0);
            SAMPLE(1);
            SAMPLE(2);
            SAMPLE(3);
#undef SAMPLE
        }
    }
    for (int i = 0; i < 4; i++) pl_store3_ps(acc[i], a[i]);
}
#endif

#if defined(__x86_64__) && defined(__GNUC__)
#define CROP_AVX2 1
/* The byte shuffles four_pixel_sums_avx2 uses, by [RGBA][bgr]: byte 4L
 * of the result is the byte lane L takes (pixel L / 4, which starts at
 * byte (L / 4) * C; lane 3 of a pixel takes a byte never stored), the
 * other three bytes of each lane zero (0x80). */
#define Z (char)0x80
#define LANE(b) (char)(b), Z, Z, Z
static const char crop_pick[2][2][32] = {
    {{LANE(0), LANE(1), LANE(2), LANE(3), LANE(3), LANE(4), LANE(5), LANE(6)},
     {LANE(2), LANE(1), LANE(0), LANE(3), LANE(5), LANE(4), LANE(3), LANE(6)}},
    {{LANE(0), LANE(1), LANE(2), LANE(3), LANE(4), LANE(5), LANE(6), LANE(7)},
     {LANE(2), LANE(1), LANE(0), LANE(3), LANE(6), LANE(5), LANE(4), LANE(7)}},
};
#undef LANE
#undef Z

/* One inside sample added to a pixel's sum a, AVX2: the sample's two taps
 * in one row (its pixel and the next) come from one 8-byte load as one
 * 8-lane vector (pick: crop_pick's shuffle) and are multiplied by their
 * two weights at once (wx: 1 - fx four times, then fx; wy0, wy1: 1 - fy
 * and fy in every lane); the adds then take the products one at a time,
 * so the sum gets the same terms in the same order as the SSE2 code. */
__attribute__((target("avx2"), always_inline)) static inline __m128 add_sample_avx2(
    __m128 a, const uint8_t *p, size_t stride, __m256i pick, __m256 wx, __m256 wy0, __m256 wy1)
{
    long long t8, b8;
    memcpy(&t8, p, 8);
    memcpy(&b8, p + stride, 8);
    __m256 top = _mm256_cvtepi32_ps(_mm256_shuffle_epi8(_mm256_set1_epi64x(t8), pick));
    __m256 bottom = _mm256_cvtepi32_ps(_mm256_shuffle_epi8(_mm256_set1_epi64x(b8), pick));
    __m256 t = _mm256_mul_ps(_mm256_mul_ps(wx, wy0), top);
    __m256 b = _mm256_mul_ps(_mm256_mul_ps(wx, wy1), bottom);
    a = _mm_add_ps(a, _mm256_castps256_ps128(t));
    a = _mm_add_ps(a, _mm256_extractf128_ps(t, 1));
    a = _mm_add_ps(a, _mm256_castps256_ps128(b));
    return _mm_add_ps(a, _mm256_extractf128_ps(b, 1));
}

/* four_pixel_sums with AVX2 (add_sample_avx2 per sample): each sum gets
 * the same terms in the same order as four_pixel_sums (each weight is the
 * same product of the same two factors), in about half the instructions.
 * Needs the same "wide" guarantee: an 8-byte load at a tap pixel stays
 * inside the image. */
__attribute__((target("avx2"))) static void four_pixel_sums_avx2(const axis_job *j, int x, int y,
                                                                 float acc[4][3])
{
    const pl_image *img = j->img;
    int C = img->c, k = j->k;
    size_t stride = (size_t)img->w * C;
    /* Lanes 0..3 from the first pixel's bytes, 4..7 from the second's
     * (which start at byte C), channels in the order the input wants: the
     * 8 bytes go to both halves (a broadcast load) and one in-half byte
     * shuffle zero-extends and orders them. */
    __m256i order = _mm256_loadu_si256((const __m256i *)crop_pick[C == 4][j->bgr]);
    const float(*wx)[8] = j->wx8 + (size_t)x * k;
    const size_t *off = j->xoff + (size_t)x * k;
    /* Four named sums, not an array: the compiler kept an indexed one in
     * memory, putting a store and a reload in every chain of adds. */
    __m128 a0 = _mm_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int sy = 0; sy < k; sy++) {
        const axis_tap *ay = &j->ty[y * k + sy];
        __m256 wy0 = _mm256_set1_ps(1 - ay->f), wy1 = _mm256_set1_ps(ay->f);
        const uint8_t *row = img->px + (size_t)ay->i0 * stride;
        for (int sx = 0; sx < k; sx++) {
#define SAMPLE(i, a) \
    a = add_sample_avx2(a, row + off[(i) * k + sx], stride, order, _mm256_loadu_ps(wx[(i) * k + sx]), wy0, wy1)
            SAMPLE(0, a0);
            SAMPLE(1, a1);
            SAMPLE(2, a2);
            SAMPLE(3, a3);
#undef SAMPLE
        }
    }
    pl_store3_ps(acc[0], a0);
    pl_store3_ps(acc[1], a1);
    pl_store3_ps(acc[2], a2);
    pl_store3_ps(acc[3], a3);
}
#endif

static int sample_axis_aligned(const pl_image *img, const float m[6], const pl_input_spec *spec,
                               int k, float *out)
{
    if (m[1] != 0.0f || m[3] != 0.0f || spec->w * k > AXIS_MAX || spec->h * k > AXIS_MAX ||
        img->c < 3)
        return 0;
    axis_tap tx[AXIS_MAX], ty[AXIS_MAX];
    /* cross terms: m[1]*cy and m[3]*cx are +0 for every (finite, positive)
     * sample coordinate; 0.5f stands for any of them. */
    axis_taps(spec->w, k, m[0], m[1] * 0.5f, m[2], tx);
    axis_taps(spec->h, k, m[4], m[3] * 0.5f, m[5], ty);
    int W = img->w, H = img->h;
    /* 4-byte pixel loads are safe unless a tap may read the image's last
     * pixel with 3 channels (nothing follows it). */
    axis_job job = {img, tx, ty, k, spec->bgr ? 2 : 0, spec->bgr ? 0 : 2, spec->bgr,
                    img->c >= 4 || ty[spec->h * k - 1].i0 + 1 < H - 1, NULL, NULL};
    /* Output columns whose samples are all inside horizontally. */
    unsigned char x_inside[AXIS_MAX];
    for (int x = 0; x < spec->w; x++) {
        x_inside[x] = 1;
        for (int sx = 0; sx < k; sx++) x_inside[x] &= (unsigned char)tap_inside(&tx[x * k + sx], W);
    }
    float inv_k2 = 1.0f / (float)(k * k);
    out_steps steps = out_layout(spec);
#ifdef CROP_AVX2
    int avx2 = pl_cpu_features()->avx2_fma;
    float wx8[AXIS_MAX][8];
    size_t xoff[AXIS_MAX];
    if (avx2) {
        for (int i = 0; i < spec->w * k; i++) {
            for (int l = 0; l < 4; l++) wx8[i][l] = 1 - tx[i].f, wx8[i][4 + l] = tx[i].f;
            xoff[i] = (size_t)tx[i].i0 * img->c;
        }
        job.wx8 = (const float(*)[8])wx8;
        job.xoff = xoff;
    }
#endif
    for (int y = 0; y < spec->h; y++) {
        int y_inside = 1;
        for (int sy = 0; sy < k; sy++) y_inside &= tap_inside(&ty[y * k + sy], H);
        for (int x = 0; x < spec->w;) {
            float acc[4][3] = {{0}};
            int n = 1;
#ifdef __SSE2__
            if (job.wide && y_inside && x + 4 <= spec->w && x_inside[x] && x_inside[x + 1] &&
                x_inside[x + 2] && x_inside[x + 3]) {
#ifdef CROP_AVX2
                if (avx2) four_pixel_sums_avx2(&job, x, y, acc);
                else
#endif
                    four_pixel_sums(&job, x, y, acc);
                n = 4;
            } else
#endif
                pixel_sum(&job, x, y, acc[0]);
            store_pixels(spec, steps, inv_k2, x, y, n, (const float(*)[3])acc, out);
            x += n;
        }
    }
    return 1;
}

/* Source coordinates of sample (sx, sy) of output pixel (x, y): one
 * expression for every path, so every path samples the same points. */
static inline void sample_point(const float m[6], int k, int x, int y, int sx, int sy, float *ix,
                                float *iy)
{
    float cx = (float)x + ((float)sx + 0.5f) / (float)k;
    float cy = (float)y + ((float)sy + 0.5f) / (float)k;
    *ix = m[0] * cx + m[1] * cy + m[2] - 0.5f;
    *iy = m[3] * cx + m[4] * cy + m[5] - 0.5f;
}

#ifdef __SSE2__
/* How an inside sample adds its four taps (fractions fx, fy, top-left tap
 * p) to a pixel's sum: the same terms in the same order either way. */
typedef __m128 (*inside_sum_fn)(__m128 a, const uint8_t *p, size_t stride, int C, int bgr, float fx,
                                float fy, const void *order);

static inline __attribute__((always_inline)) __m128 inside_sum_sse(__m128 a, const uint8_t *p, size_t stride,
                                                                    int C, int bgr, float fx, float fy,
                                                                    const void *order)
{
    (void)order;
    a = _mm_add_ps(a, _mm_mul_ps(_mm_set1_ps((1 - fx) * (1 - fy)), px_vec4(p, bgr)));
    a = _mm_add_ps(a, _mm_mul_ps(_mm_set1_ps(fx * (1 - fy)), px_vec4(p + C, bgr)));
    a = _mm_add_ps(a, _mm_mul_ps(_mm_set1_ps((1 - fx) * fy), px_vec4(p + stride, bgr)));
    return _mm_add_ps(a, _mm_mul_ps(_mm_set1_ps(fx * fy), px_vec4(p + stride + C, bgr)));
}

/* The general map (rotated faces) for n <= 4 neighbouring output pixels
 * of row y, side by side as in four_pixel_sums: a sample whose four taps
 * are inside, with a byte after the last one, is summed by inside_sum from
 * 4-byte loads; any other goes through sample_add. Each sum's terms and
 * order are the plain loop's (sample_add skips zero weights, which add +0:
 * the same). */
static inline __attribute__((always_inline)) void affine_sums_body(const pl_image *img, const float m[6],
                                                                    int k, int bgr, int x, int y, int n,
                                                                    float acc[4][3], inside_sum_fn inside_sum,
                                                                    const void *order)
{
    int W = img->w, H = img->h, C = img->c;
    size_t stride = (size_t)W * C;
    __m128 a[4] = {_mm_setzero_ps(), _mm_setzero_ps(), _mm_setzero_ps(), _mm_setzero_ps()};
    for (int sy = 0; sy < k; sy++)
        for (int sx = 0; sx < k; sx++)
            for (int i = 0; i < n; i++) {
                float ix, iy;
                sample_point(m, k, x + i, y, sx, sy, &ix, &iy);
                int x0 = floor_int(ix), y0 = floor_int(iy);
                int inside = x0 >= 0 && y0 >= 0 && x0 + 1 < W && y0 + 1 < H &&
                             (C >= 4 || x0 + 2 < W || y0 + 2 < H);
                if (!inside) {
                    pl_store3_ps(acc[i], a[i]);
                    sample_add(img, ix, iy, bgr, acc[i]);
                    a[i] = _mm_setr_ps(acc[i][0], acc[i][1], acc[i][2], 0.0f);
                    continue;
                }
                float fx = ix - (float)x0, fy = iy - (float)y0;
                const uint8_t *p = img->px + (size_t)y0 * stride + (size_t)x0 * C;
                a[i] = inside_sum(a[i], p, stride, C, bgr, fx, fy, order);
            }
    for (int i = 0; i < n; i++) pl_store3_ps(acc[i], a[i]);
}

static void affine_sums(const pl_image *img, const float m[6], int k, int bgr, int x, int y, int n,
                        float acc[4][3])
{
    affine_sums_body(img, m, k, bgr, x, y, n, acc, inside_sum_sse, NULL);
}
#endif

#ifdef CROP_AVX2
/* inside_sum as four_pixel_sums_avx2 does it (add_sample_avx2). */
__attribute__((target("avx2"), always_inline)) static inline __m128 inside_sum_avx2(
    __m128 a, const uint8_t *p, size_t stride, int C, int bgr, float fx, float fy, const void *order)
{
    (void)C, (void)bgr;
    __m256 wx = _mm256_setr_m128(_mm_set1_ps(1 - fx), _mm_set1_ps(fx));
    return add_sample_avx2(a, p, stride, *(const __m256i *)order, wx, _mm256_set1_ps(1 - fy),
                           _mm256_set1_ps(fy));
}

__attribute__((target("avx2"))) static void affine_sums_avx2(const pl_image *img, const float m[6], int k,
                                                             int bgr, int x, int y, int n, float acc[4][3])
{
    __m256i order = _mm256_loadu_si256((const __m256i *)crop_pick[img->c == 4][bgr]);
    affine_sums_body(img, m, k, bgr, x, y, n, acc, inside_sum_avx2, &order);
}
#endif

void pl_sample_affine(const pl_image *img, const float m[6], const pl_input_spec *spec,
                      float *out)
{
    int k = spec->antialias ? supersampling(m) : 1;
    if (sample_axis_aligned(img, m, spec, k, out)) return;
    float inv_k2 = 1.0f / (float)(k * k);
    out_steps steps = out_layout(spec);
#ifdef CROP_AVX2
    int avx2 = pl_cpu_features()->avx2_fma;
#endif
    for (int y = 0; y < spec->h; y++) {
        for (int x = 0; x < spec->w;) {
            float acc[4][3] = {{0}};
            int n = 1;
#ifdef __SSE2__
            if (img->c >= 3) {
                n = spec->w - x < 4 ? spec->w - x : 4;
#ifdef CROP_AVX2
                if (avx2) affine_sums_avx2(img, m, k, spec->bgr, x, y, n, acc);
                else
#endif
                    affine_sums(img, m, k, spec->bgr, x, y, n, acc);
            } else
#endif
                for (int sy = 0; sy < k; sy++)
                    for (int sx = 0; sx < k; sx++) {
                        float ix, iy;
                        sample_point(m, k, x, y, sx, sy, &ix, &iy);
                        sample_add(img, ix, iy, spec->bgr, acc[0]);
                    }
            store_pixels(spec, steps, inv_k2, x, y, n, (const float(*)[3])acc, out);
            x += n;
        }
    }
}

void pl_box_to_affine(float x1, float y1, float x2, float y2, int w, int h, float m[6])
{
    float sx = (x2 - x1 + 1) / (float)w, sy = (y2 - y1 + 1) / (float)h;
    m[0] = sx; m[1] = 0;  m[2] = x1;
    m[3] = 0;  m[4] = sy; m[5] = y1;
}
