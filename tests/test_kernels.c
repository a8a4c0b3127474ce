/* test_kernels.c — the reference kernels on hand-computed cases, and every
 * fast kernel against the reference on random data at each dispatch level. */
#include "test.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "engine/kernels.h"
#include "engine/kernels_fast.h"
#include "engine/threadpool.h"

/* 3x3 input, 1 channel, 2x2 kernel of ones, pad 1 on top/left, stride 2. */
TEST(ref_conv_small_known)
{
    float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    float w[4] = {1, 1, 1, 1};
    float b[1] = {0.5f};
    pl_conv_shape s = {.n = 1, .in_h = 3, .in_w = 3, .in_c = 1, .out_h = 2, .out_w = 2,
                       .out_c = 1, .kh = 2, .kw = 2, .stride_h = 2, .stride_w = 2,
                       .dilation_h = 1, .dilation_w = 1, .pad_top = 1, .pad_left = 1,
                       .groups = 1};
    float y[4];
    pl_conv2d_ref(&s, x, w, b, NULL, y, 0, 2);
    CHECK_NEAR(y[0], 1 + 0.5, 1e-6);
    CHECK_NEAR(y[1], 2 + 3 + 0.5, 1e-6);
    CHECK_NEAR(y[2], 4 + 7 + 0.5, 1e-6);
    CHECK_NEAR(y[3], 5 + 6 + 8 + 9 + 0.5, 1e-6);
}

/* Depthwise, 2 channels, multiplier 1, with PReLU per channel. */
TEST(ref_conv_depthwise_prelu)
{
    float x[2 * 2 * 2] = {1, -1, 2, -2, 3, -3, 4, -4}; /* HWC 2x2x2 */
    float w[2 * 1 * 1 * 1] = {1, 2};
    float slope[2] = {0.1f, 0.5f};
    pl_epilogue ep = {.act = PL_ACT_PRELU, .slope = slope};
    pl_conv_shape s = {.n = 1, .in_h = 2, .in_w = 2, .in_c = 2, .out_h = 2, .out_w = 2,
                       .out_c = 2, .kh = 1, .kw = 1, .stride_h = 1, .stride_w = 1,
                       .dilation_h = 1, .dilation_w = 1, .groups = 2};
    float y[8];
    pl_conv2d_ref(&s, x, w, NULL, &ep, y, 0, 2);
    CHECK_NEAR(y[0], 1, 1e-6);
    CHECK_NEAR(y[1], -2 * 0.5, 1e-6);
    CHECK_NEAR(y[6], 4, 1e-6);
    CHECK_NEAR(y[7], -8 * 0.5, 1e-6);
}

TEST(ref_fc_and_acts)
{
    float x[2 * 3] = {1, 2, 3, -1, -2, -3};
    float w[2 * 3] = {1, 0, 1, 0, 1, 0};
    float b[2] = {0, 1};
    pl_epilogue ep = {.act = PL_ACT_RELU};
    float y[4];
    pl_fc_ref(2, 2, 3, x, w, b, &ep, y, 0, 2);
    CHECK_NEAR(y[0], 4, 1e-6);
    CHECK_NEAR(y[1], 3, 1e-6);
    CHECK_NEAR(y[2], 0, 1e-6);
    CHECK_NEAR(y[3], 0, 1e-6);
    pl_epilogue c = {.act = PL_ACT_CLIP, .lo = -1, .hi = 2};
    CHECK_NEAR(pl_apply_act(5, &c, 0), 2, 0);
    CHECK_NEAR(pl_apply_act(-5, &c, 0), -1, 0);
    pl_epilogue r6 = {.act = PL_ACT_RELU6};
    CHECK_NEAR(pl_apply_act(7, &r6, 0), 6, 0);
    pl_epilogue lk = {.act = PL_ACT_LEAKY, .alpha = 0.2f};
    CHECK_NEAR(pl_apply_act(-5, &lk, 0), -1, 1e-6);
    pl_epilogue sg = {.act = PL_ACT_SIGMOID};
    CHECK_NEAR(pl_apply_act(0, &sg, 0), 0.5, 1e-7);
    pl_epilogue th = {.act = PL_ACT_TANH};
    CHECK_NEAR(pl_apply_act(1, &th, 0), tanh(1.0), 1e-6);
    CHECK_NEAR(pl_apply_act(-3, NULL, 0), -3, 0);
}

TEST(cpu_features_respect_cap)
{
    const pl_cpu *c = pl_cpu_features();
    CHECK(c != NULL);
    const char *cap = getenv("PL_CPU");
    if (cap && strcmp(cap, "generic") == 0) CHECK(!c->avx2_fma && !c->avx512f);
    if (cap && strcmp(cap, "avx2") == 0) CHECK(!c->avx512f);
    if (c->avx512f) CHECK(c->avx2_fma);
}

/* ---- fast kernels vs the reference ------------------------------------- */

#include <pthread.h>

static unsigned rng_state = 12345;
static float frand(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return (float)((rng_state >> 8) & 0xffffff) / 16777216.0f * 2.0f - 1.0f;
}
static float *rand_buf(size_t n)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    for (size_t i = 0; i < n; i++) p[i] = frand();
    return p;
}

/* A pooling input of n floats, random with a NaN, signed zeros or an
 * infinity every `every` values: where max pools may differ by order. */
static float *pool_input(size_t n, size_t every)
{
    static const float odd[] = {NAN, -0.0f, 0.0f, INFINITY, -INFINITY, -0.0f, 0.0f};
    float *x = rand_buf(n);
    for (size_t k = 0; k < n; k += every) x[k] = odd[k % 7];
    return x;
}

/* max |a - r| / max |scale|: the sums differ only in rounding order, so the
 * error is measured against the size of the sums before the activation
 * (a saturating tanh would otherwise shrink the scale but not the error). */
static double rel_err(const float *a, const float *r, const float *scale, size_t n)
{
    double num = 0, den = 1e-30;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - r[i]);
        if (d > num || d != d) num = d != d ? INFINITY : d;
        if (fabs(scale[i]) > den) den = fabs(scale[i]);
        if (fabs(r[i]) > den) den = fabs(r[i]);
    }
    return num / den;
}

typedef struct conv_case {
    int n, ih, iw, ic, oc, k_h, k_w, sh, sw, dh, dw, pt, pl, pb, pr, groups;
} conv_case;

static pl_conv_shape make_shape(const conv_case *c)
{
    pl_conv_shape s = {.n = c->n, .in_h = c->ih, .in_w = c->iw, .in_c = c->ic, .out_c = c->oc,
                       .kh = c->k_h, .kw = c->k_w, .stride_h = c->sh, .stride_w = c->sw,
                       .dilation_h = c->dh, .dilation_w = c->dw, .pad_top = c->pt,
                       .pad_left = c->pl, .groups = c->groups};
    s.out_h = (c->ih + c->pt + c->pb - c->dh * (c->k_h - 1) - 1) / c->sh + 1;
    s.out_w = (c->iw + c->pl + c->pr - c->dw * (c->k_w - 1) - 1) / c->sw + 1;
    return s;
}

static const conv_case conv_cases[] = {
    /* n  ih  iw  ic  oc kh kw sh sw dh dw pt pl pb pr groups */
    {1, 9, 7, 19, 37, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1},     /* 1x1 flat, odd channels */
    {1, 14, 14, 64, 128, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1},  /* MobileFaceNet pointwise */
    {2, 5, 6, 16, 16, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1},     /* batch 2 */
    {1, 11, 10, 24, 20, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, 1},   /* 1x1 stride 2 */
    {1, 13, 11, 5, 33, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},    /* 3x3 same */
    {1, 16, 15, 32, 64, 3, 3, 2, 2, 1, 1, 0, 1, 1, 0, 1},   /* 3x3 s2 asymmetric pads */
    {1, 12, 12, 3, 10, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1},    /* MTCNN pnet conv1 */
    {1, 31, 29, 3, 32, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, 1},    /* dlib 7x7 s2 stem */
    {1, 9, 10, 8, 17, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0, 1},     /* 2x2 valid */
    {1, 10, 9, 7, 40, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 1},     /* 5x5 same */
    {1, 15, 14, 6, 18, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1},    /* dilation 2 */
    {1, 17, 16, 5, 9, 3, 3, 1, 1, 3, 3, 3, 3, 3, 3, 1},     /* dilation 3 */
    {1, 20, 19, 4, 16, 3, 3, 1, 1, 5, 5, 5, 5, 5, 5, 1},    /* dilation 5 */
    {1, 3, 3, 4, 8, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 1},       /* kernel wider than input */
    {1, 9, 8, 8, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2},      /* groups 2 */
    {1, 7, 7, 32, 64, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 4},     /* groups 4, 1x1 */
    {1, 13, 12, 37, 37, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 37},  /* depthwise, odd C */
    {1, 28, 27, 64, 64, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 64},  /* depthwise s2 */
    {2, 7, 7, 40, 40, 7, 7, 1, 1, 1, 1, 0, 0, 0, 0, 40},    /* GDC 7x7 */
    {1, 7, 7, 512, 512, 7, 7, 1, 1, 1, 1, 0, 0, 0, 0, 512}, /* GDC 512 */
    {1, 11, 12, 16, 16, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 16},  /* depthwise dilated */
    {1, 10, 9, 19, 19, 3, 3, 2, 1, 1, 1, 0, 1, 1, 1, 19},   /* depthwise mixed strides */
    {1, 8, 8, 6, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 6},      /* channel multiplier 2 */
    /* 3x3 depthwise rows (dw3_span): tiles of 8, 4, 2 and 1 pixels */
    {1, 9, 21, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 16},   /* 16 channels, 19 interior */
    {1, 8, 19, 48, 48, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 48},   /* 2 + 1 vectors, stride 2 */
    {1, 7, 13, 21, 21, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 21},   /* unpadded, channel tail */
    {1, 2, 3, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 8},       /* one interior pixel, < 1 vector */
    {1, 30, 26, 64, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   /* 3x3 64->64 */
    {1, 13, 11, 32, 2, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1},    /* pnet head, thin */
    {2, 7, 9, 32, 4, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1},      /* pnet head, batch 2 */
    {1, 5, 6, 19, 3, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1},      /* thin, channel tail */
};

static const pl_act acts[] = {PL_ACT_NONE, PL_ACT_RELU, PL_ACT_PRELU, PL_ACT_RELU6,
                              PL_ACT_LEAKY, PL_ACT_CLIP, PL_ACT_SIGMOID, PL_ACT_TANH};

/* Caps the dispatch at `level`; returns 0 when this CPU lacks it. */
static int use_level(const char *level)
{
    setenv("PL_CPU", level, 1);
    const pl_cpu *c = pl_cpu_reload();
    if (strcmp(level, "avx512") == 0) return c->avx512f;
    if (strcmp(level, "avx2") == 0) return c->avx2_fma;
    return 1;
}

static void check_conv_case(const conv_case *c, pl_act act, const char *level)
{
    pl_conv_shape s = make_shape(c);
    size_t nx = (size_t)s.n * s.in_h * s.in_w * s.in_c;
    size_t ny = (size_t)s.n * s.out_h * s.out_w * s.out_c;
    size_t nw = (size_t)s.out_c * s.kh * s.kw * (s.in_c / s.groups);
    float *x = rand_buf(nx), *w = rand_buf(nw), *b = rand_buf(s.out_c);
    float *slope = rand_buf(s.out_c);
    float *yr = malloc(ny * sizeof *yr), *yf = malloc(ny * sizeof *yf), *ys = malloc(ny * sizeof *ys);
    pl_epilogue ep = {.act = act, .alpha = 0.1f, .lo = -0.5f, .hi = 0.7f, .slope = slope};
    pl_conv2d_ref(&s, x, w, b, NULL, ys, 0, s.out_h); /* the scale */
    pl_conv2d_ref(&s, x, w, b, &ep, yr, 0, s.out_h);
    pl_conv_plan *p = pl_conv_plan_new(&s, w, b, &ep);
    CHECK_MSG(p != NULL, "no plan for case ic %d oc %d k %dx%d", c->ic, c->oc, c->k_h, c->k_w);
    /* At the AVX-512 level, dense layers with <= 8 output channels a group
     * use the 8-wide kernels on purpose. */
    int narrow = strcmp(level, "avx512") == 0 && c->oc / c->groups <= 8 &&
                 strncmp(pl_conv_plan_name(p), "avx2-", 5) == 0;
    CHECK_MSG(narrow || strncmp(pl_conv_plan_name(p), level, strlen(level)) == 0,
              "%s plan at level %s", pl_conv_plan_name(p), level);
    pl_conv_plan_run(p, x, yf, 0, s.out_h);
    double e = rel_err(yf, yr, ys, ny);
    CHECK_MSG(e <= 1e-5, "%s (%dx%d %d->%d s%d d%d g%d act %d): rel err %g", pl_conv_plan_name(p),
              c->k_h, c->k_w, c->ic, c->oc, c->sh, c->dh, c->groups, (int)act, e);
    /* Row ranges give the same bits as one call, and touch only their rows. */
    for (size_t i = 0; i < ny; i++) ys[i] = NAN;
    int mid = s.out_h / 3, mid2 = s.out_h - s.out_h / 4;
    pl_conv_plan_run(p, x, ys, mid, mid2);
    size_t row = (size_t)s.out_w * s.out_c, img = (size_t)s.out_h * row;
    for (int bi = 0; bi < s.n; bi++)
        for (int r = 0; r < s.out_h; r++)
            for (size_t i = 0; i < row; i++) {
                float v = ys[bi * img + r * row + i];
                if (r >= mid && r < mid2) CHECK(v == yf[bi * img + r * row + i]);
                else CHECK(isnan(v));
            }
    pl_conv_plan_run(p, x, ys, 0, mid);
    pl_conv_plan_run(p, x, ys, mid2, s.out_h);
    CHECK_MSG(memcmp(ys, yf, ny * sizeof *ys) == 0, "%s (%dx%d %d->%d s%d g%d act %d): split rows differ",
              pl_conv_plan_name(p), c->k_h, c->k_w, c->ic, c->oc, c->sh, c->groups, (int)act);
    pl_conv_plan_free(p);
    free(x), free(w), free(b), free(slope), free(yr), free(yf), free(ys);
}

static void check_all_convs(const char *level)
{
    if (!use_level(level)) {
        use_level("avx512");
        SKIP("this CPU has no %s", level);
    }
    int i = 0;
    for (size_t c = 0; c < sizeof conv_cases / sizeof conv_cases[0]; c++)
        for (size_t a = 0; a < sizeof acts / sizeof acts[0]; a++, i++)
            if (a == 0 || (i % 3) == 0 || c < 2) check_conv_case(&conv_cases[c], acts[a], level);
    unsetenv("PL_CPU");
    pl_cpu_reload();
}

/* Random shapes: sizes, kernels, strides, dilations, pads (also wider than
 * the kernel), groups, and activations drawn at random. */
static void check_random_convs(const char *level, int count)
{
    if (!use_level(level)) {
        use_level("avx512");
        SKIP("this CPU has no %s", level);
    }
    unsigned seed = 777;
    for (int i = 0; i < count; i++) {
        seed = seed * 1103515245u + 12345u;
        unsigned r = seed >> 4;
        conv_case c = {0};
        c.n = 1 + (r & 1);
        c.k_h = 1 + (r >> 1) % 5;
        c.k_w = (r >> 4) & 1 ? c.k_h : 1 + (int)((r >> 5) % 4);
        c.sh = 1 + (r >> 8) % 2;
        c.sw = 1 + (r >> 9) % 3;
        c.dh = (r >> 11) % 4 == 0 ? 2 : 1;
        c.dw = (r >> 13) % 5 == 0 ? 3 : 1;
        seed = seed * 1103515245u + 12345u;
        unsigned q = seed >> 4;
        c.pt = q % (c.k_h + 1);
        c.pb = (q >> 3) % (c.k_h + 1);
        c.pl = (q >> 6) % (c.k_w + 1);
        c.pr = (q >> 9) % (c.k_w + 1);
        c.ih = (c.k_h - 1) * c.dh + 1 + (q >> 12) % 9;
        c.iw = (c.k_w - 1) * c.dw + 1 + (q >> 16) % 11;
        int kind = (q >> 20) % 4; /* dense, depthwise, grouped, wide */
        int ch = 1 + (q >> 22) % 40;
        c.groups = kind == 1 ? ch : kind == 2 ? 1 + (int)((q >> 27) % 3) : 1;
        c.ic = kind == 1 ? ch : c.groups * (1 + ch % 13);
        c.oc = kind == 1 ? ch : c.groups * (1 + (ch * 7) % 37);
        if (kind == 3) c.oc = 33 + ch;
        check_conv_case(&c, acts[i % 8], level);
    }
    unsetenv("PL_CPU");
    pl_cpu_reload();
}

TEST(conv_random_avx512_matches_ref) { check_random_convs("avx512", 300); }
TEST(conv_random_avx2_matches_ref) { check_random_convs("avx2", 300); }

TEST(conv_fast_avx512_matches_ref) { check_all_convs("avx512"); }
TEST(conv_fast_avx2_matches_ref) { check_all_convs("avx2"); }

TEST(conv_generic_cpu_has_no_plan)
{
    use_level("generic");
    pl_conv_shape s = make_shape(&conv_cases[0]);
    float w[19 * 37] = {0};
    CHECK(pl_conv_plan_new(&s, w, NULL, NULL) == NULL);
    CHECK(pl_fc_plan_new(4, 4, w, NULL, NULL) == NULL);
    CHECK_STR(pl_conv_plan_name(NULL), "reference");
    unsetenv("PL_CPU");
    pl_cpu_reload();
}

static void check_fc(int m, int n, int k, pl_act act, const char *level)
{
    float *x = rand_buf((size_t)m * k), *w = rand_buf((size_t)n * k), *b = rand_buf(n);
    float *slope = rand_buf(n);
    float *yr = malloc((size_t)m * n * sizeof *yr), *yf = malloc((size_t)m * n * sizeof *yf);
    float *ys = malloc((size_t)m * n * sizeof *ys);
    pl_epilogue ep = {.act = act, .alpha = 0.2f, .lo = -0.3f, .hi = 0.3f, .slope = slope};
    pl_fc_ref(m, n, k, x, w, b, NULL, ys, 0, m);
    pl_fc_ref(m, n, k, x, w, b, &ep, yr, 0, m);
    pl_fc_plan *p = pl_fc_plan_new(n, k, w, b, &ep);
    CHECK(p != NULL);
    CHECK(strncmp(pl_fc_plan_name(p), level, strlen(level)) == 0);
    int half = m / 2;
    pl_fc_plan_run(p, m, x, yf, 0, half);
    pl_fc_plan_run(p, m, x, yf, half, m);
    double e = rel_err(yf, yr, ys, (size_t)m * n);
    CHECK_MSG(e <= 1e-5, "fc m%d n%d k%d act %d: rel err %g", m, n, k, (int)act, e);
    pl_fc_plan_free(p);
    free(x), free(w), free(b), free(slope), free(yr), free(yf), free(ys);
}

static void check_all_fc(const char *level)
{
    if (!use_level(level)) SKIP("this CPU has no %s", level);
    static const int ms[] = {1, 3, 17, 64}, ns[] = {1, 4, 10, 33, 128}, ks[] = {1, 7, 512};
    int i = 0;
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 5; b++)
            for (int c = 0; c < 3; c++, i++)
                check_fc(ms[a], ns[b], ks[c], acts[i % 8], level);
    unsetenv("PL_CPU");
    pl_cpu_reload();
}

TEST(fc_fast_avx512_matches_ref) { check_all_fc("avx512"); }
TEST(fc_fast_avx2_matches_ref) { check_all_fc("avx2"); }

/* The vector tanh / sigmoid of the fast epilogues against libm in double
 * over their whole range, each value relative to itself: a 1x1 "layer"
 * with weight 1 passes x through to the activation. Also the depthwise and
 * pooling epilogues, and NaN / infinities. */
static void check_act_range(const char *level, pl_act act)
{
    enum { M = 4001 };
    float *x = malloc(M * sizeof *x), *y = malloc(M * sizeof *y), w = 1.0f;
    for (int i = 0; i < M; i++) {
        float t = (float)(i - M / 2) / (M / 2); /* [-1, 1] */
        x[i] = i % 3 == 0 ? t * 25.0f : i % 3 == 1 ? t * 1.5f : t * 1e-3f;
    }
    x[0] = NAN, x[1] = INFINITY, x[2] = -INFINITY, x[3] = 0.0f, x[4] = 1e-30f;
    pl_epilogue ep = {.act = act};
    pl_fc_plan *p = pl_fc_plan_new(1, 1, &w, NULL, &ep);
    CHECK(p != NULL);
    pl_fc_plan_run(p, M, x, y, 0, M);
    double worst = 0;
    for (int i = 0; i < M; i++) {
        double r = act == PL_ACT_TANH ? tanh((double)x[i]) : 1.0 / (1.0 + exp(-(double)x[i]));
        if (isnan(x[i])) {
            CHECK_MSG(isnan(y[i]), "act %d of NaN gave %g", (int)act, y[i]);
            continue;
        }
        /* Below FLT_MIN the kernels may flush to zero (FTZ). */
        double e = fabs(y[i] - r) / (fabs(r) > 1e-37 ? fabs(r) : 1.0);
        if (fabs(r) < 1.2e-38) e = fabs(y[i]) < 1.2e-38 ? 0 : 1;
        if (e > worst) worst = e;
    }
    CHECK_MSG(worst <= 1e-6, "%s act %d: worst relative error %g", level, (int)act, worst);
    pl_fc_plan_free(p);
    /* Depthwise (per-channel vector path) and pooling epilogues. */
    pl_conv_shape s = {.n = 1, .in_h = 1, .in_w = M, .in_c = 1, .out_h = 1, .out_w = M,
                       .out_c = 1, .kh = 1, .kw = 1, .stride_h = 1, .stride_w = 1,
                       .dilation_h = 1, .dilation_w = 1, .groups = 1};
    float *yr = malloc(M * sizeof *yr);
    pl_pool_shape ps = {.n = 1, .in_h = 1, .in_w = M, .c = 1, .out_h = 1, .out_w = M,
                        .kh = 1, .kw = 1, .stride_h = 1, .stride_w = 1, .is_max = 1};
    pl_pool_run(&ps, x, &ep, y, 0, 1);
    pl_conv2d_ref(&s, x, &w, NULL, &ep, yr, 0, 1);
    worst = 0;
    for (int i = 5; i < M; i++) {
        double e = fabs((double)y[i] - yr[i]) / (fabs(yr[i]) > 1e-30 ? fabs(yr[i]) : 1.0);
        if (e > worst) worst = e;
    }
    CHECK_MSG(worst <= 1e-6, "%s pool act %d: worst relative error %g", level, (int)act, worst);
    free(x), free(y), free(yr);
}

static void check_acts(const char *level)
{
    if (!use_level(level)) SKIP("this CPU has no %s", level);
    check_act_range(level, PL_ACT_TANH);
    check_act_range(level, PL_ACT_SIGMOID);
    unsetenv("PL_CPU");
    pl_cpu_reload();
}

TEST(act_vector_tanh_sigmoid_avx512) { check_acts("avx512"); }
TEST(act_vector_tanh_sigmoid_avx2) { check_acts("avx2"); }

/* Two threads run halves of one plan at once: the plan is read-only. */
typedef struct half_job {
    const pl_conv_plan *p;
    const float *x;
    float *y;
    int r0, r1;
} half_job;
static void *run_half(void *arg)
{
    half_job *j = arg;
    pl_cpu_set_ftz();
    for (int it = 0; it < 20; it++) pl_conv_plan_run(j->p, j->x, j->y, j->r0, j->r1);
    return NULL;
}

TEST(conv_plan_threads_share_one_plan)
{
    unsetenv("PL_CPU");
    pl_cpu_reload();
    pl_conv_shape s = make_shape(&conv_cases[5]);
    size_t nx = (size_t)s.in_h * s.in_w * s.in_c, ny = (size_t)s.out_h * s.out_w * s.out_c;
    float *x = rand_buf(nx), *w = rand_buf((size_t)s.out_c * 9 * s.in_c);
    float *y1 = calloc(ny, sizeof *y1), *y2 = calloc(ny, sizeof *y2);
    pl_conv_plan *p = pl_conv_plan_new(&s, w, NULL, NULL);
    if (!p) {
        free(x), free(w), free(y1), free(y2);
        SKIP("no fast path on this CPU");
    }
    pl_conv_plan_run(p, x, y1, 0, s.out_h);
    half_job a = {p, x, y2, 0, s.out_h / 2}, b = {p, x, y2, s.out_h / 2, s.out_h};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, run_half, &a);
    pthread_create(&tb, NULL, run_half, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    CHECK(memcmp(y1, y2, ny * sizeof *y1) == 0);
    pl_conv_plan_free(p);
    free(x), free(w), free(y1), free(y2);
}

/* ---- pooling --------------------------------------------------------------- */

static void check_pool(const pl_pool_shape *s, pl_act act, const char *level)
{
    size_t nx = (size_t)s->n * s->in_h * s->in_w * s->c;
    size_t ny = (size_t)s->n * s->out_h * s->out_w * s->c;
    float *x = rand_buf(nx), *yr = malloc(ny * sizeof *yr), *yf = malloc(ny * sizeof *yf);
    pl_epilogue ep = {.act = act, .alpha = 0.1f, .lo = -0.2f, .hi = 0.3f};
    pl_pool_ref(s, x, &ep, yr, 0, s->out_h);
    int mid = s->out_h / 2;
    pl_pool_run(s, x, &ep, yf, 0, mid);
    pl_pool_run(s, x, &ep, yf, mid, s->out_h);
    for (size_t i = 0; i < ny; i++)
        CHECK_MSG(fabsf(yf[i] - yr[i]) <= 1e-6f * (1 + fabsf(yr[i])),
                  "%s pool %s %dx%d s%d c%d: [%zu] %g vs %g", level, s->is_max ? "max" : "avg",
                  s->kh, s->kw, s->stride_h, s->c, i, yf[i], yr[i]);
    free(x), free(yr), free(yf);
}

static void check_all_pools(const char *level)
{
    if (!use_level(level)) {
        use_level("avx512");
        SKIP("this CPU has no %s", level);
    }
    /* n ih iw c oh ow kh kw sh sw pt pl max incl */
    static const pl_pool_shape shapes[] = {
        {1, 12, 11, 10, 6, 6, 2, 2, 2, 2, 0, 0, 1, 0},   /* MTCNN 2x2 s2, odd width (ceil) */
        {1, 23, 23, 28, 11, 11, 3, 3, 2, 2, 0, 0, 1, 0}, /* 3x3 s2 */
        {2, 9, 8, 37, 5, 4, 3, 3, 2, 2, 1, 1, 1, 0},     /* padded max, odd C */
        {1, 9, 8, 37, 5, 4, 3, 3, 2, 2, 1, 1, 0, 0},     /* padded avg, count valid */
        {1, 9, 8, 37, 5, 4, 3, 3, 2, 2, 1, 1, 0, 1},     /* padded avg, count pad */
        {1, 7, 7, 512, 1, 1, 7, 7, 1, 1, 0, 0, 0, 0},    /* global average */
        {1, 3, 3, 5, 3, 3, 5, 5, 1, 1, 2, 2, 1, 0},      /* window wider than input */
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int a = 0; a < 8; a++) check_pool(&shapes[i], acts[a], level);
    unsetenv("PL_CPU");
    pl_cpu_reload();
}

/* 2x2/2 max and average pools (kernels_simd.h, pool2_span): the windows
 * inside the input, padded or not, odd widths, channel counts with a
 * partial vector, input rows further apart than the width
 * (pl_pool_run_pitch), every activation against the reference; and
 * without activation bit for bit against the generic loop's order: max
 * from -inf as the SIMD max does it (a > b ? a : b: a NaN or a tie keeps
 * the new value), average 0 + each value in turn, times 1/4 (count_
 * include_pad or not: 4 inside), over inputs with NaNs, infinities and
 * signed zeros. */
static void check_pool2(const char *level)
{
    if (!use_level(level)) {
        use_level("avx512");
        SKIP("this CPU has no %s", level);
    }
    /* n ih iw c oh ow kh kw sh sw pt pl max incl */
    static const pl_pool_shape shapes[] = {
        {1, 64, 64, 32, 32, 32, 2, 2, 2, 2, 0, 0, 1, 0},
        {2, 13, 17, 16, 7, 9, 2, 2, 2, 2, 1, 1, 1, 0},
        {1, 12, 11, 10, 6, 6, 2, 2, 2, 2, 0, 0, 1, 0},
        {1, 9, 30, 37, 5, 16, 2, 2, 2, 2, 1, 1, 1, 0},
        {1, 8, 8, 8, 4, 4, 2, 2, 2, 2, 0, 0, 1, 0},
        {1, 64, 64, 32, 32, 32, 2, 2, 2, 2, 0, 0, 0, 0},
        {2, 13, 17, 16, 7, 9, 2, 2, 2, 2, 1, 1, 0, 0},
        {1, 13, 17, 16, 7, 9, 2, 2, 2, 2, 1, 1, 0, 1},
        {1, 9, 30, 37, 5, 16, 2, 2, 2, 2, 1, 1, 0, 0},
        {1, 12, 11, 10, 6, 6, 2, 2, 2, 2, 0, 0, 0, 1},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const pl_pool_shape *s = &shapes[i];
        for (int a = 0; a < 8; a++) check_pool(s, acts[a], level);
        int pitch = s->in_w + 3;
        size_t nx = (size_t)s->n * s->in_h * pitch * s->c;
        size_t ny = (size_t)s->n * s->out_h * s->out_w * s->c;
        float *x = pool_input(nx, 5), *y = malloc(ny * sizeof *y), *want = malloc(ny * sizeof *want);
        for (int b = 0; b < s->n; b++)
            for (int oy = 0; oy < s->out_h; oy++)
                for (int ox = 0; ox < s->out_w; ox++)
                    for (int c = 0; c < s->c; c++) {
                        float acc = s->is_max ? -INFINITY : 0.0f;
                        int count = 0;
                        for (int iy = oy * 2 - s->pad_top; iy < oy * 2 - s->pad_top + 2; iy++)
                            for (int ix = ox * 2 - s->pad_left; ix < ox * 2 - s->pad_left + 2; ix++) {
                                if (iy < 0 || iy >= s->in_h || ix < 0 || ix >= s->in_w) continue;
                                float v = x[(((size_t)b * s->in_h + iy) * pitch + ix) * s->c + c];
                                acc = s->is_max ? (acc > v ? acc : v) : acc + v;
                                count++;
                            }
                        if (!s->is_max) acc *= 1.0f / (float)(s->count_include_pad ? 4 : count);
                        want[(((size_t)b * s->out_h + oy) * s->out_w + ox) * s->c + c] = acc;
                    }
        pl_epilogue none = {.act = PL_ACT_NONE};
        pl_pool_run_pitch(s, pitch, x, &none, y, 0, s->out_h / 2);
        pl_pool_run_pitch(s, pitch, x, &none, y, s->out_h / 2, s->out_h);
        CHECK_MSG(memcmp(y, want, ny * sizeof *y) == 0, "%s pool2 %s %dx%dx%d p%d: not bit-identical",
                  level, s->is_max ? "max" : "avg", s->in_h, s->in_w, s->c, s->pad_top);
        free(x), free(y), free(want);
    }
    unsetenv("PL_CPU");
    pl_cpu_reload();
}

/* Max pools of any window (kernels_simd.h, max_pool_pixels: runs of
 * pixels whose windows lie inside the input go through their windows
 * together) bit for bit against the generic loop's order: from -inf, rows
 * then columns, acc > v ? acc : v (a NaN or a tie keeps the new value),
 * over inputs with NaNs, infinities and signed zeros; RNet's and ONet's
 * 3x3/2 pools, 1 to 4 channel vectors with and without a partial one,
 * padding, input rows further apart than the width. */
static void check_max_pool_in_order(const char *level)
{
    if (!use_level(level)) {
        use_level("avx512");
        SKIP("this CPU has no %s", level);
    }
    /* n ih iw c oh ow kh kw sh sw pt pl max incl */
    static const pl_pool_shape shapes[] = {
        {2, 22, 22, 28, 11, 11, 3, 3, 2, 2, 0, 0, 1, 0}, /* RNet pool1 (SAME) */
        {3, 9, 9, 48, 4, 4, 3, 3, 2, 2, 0, 0, 1, 0},     /* RNet pool2 (VALID) */
        {1, 46, 46, 32, 23, 23, 3, 3, 2, 2, 0, 0, 1, 0}, /* ONet pool1 */
        {1, 21, 21, 64, 10, 10, 3, 3, 2, 2, 0, 0, 1, 0}, /* ONet pool2 */
        {1, 19, 37, 16, 9, 18, 3, 3, 2, 2, 0, 0, 1, 0},
        {2, 9, 8, 37, 5, 4, 3, 3, 2, 2, 1, 1, 1, 0},
        {1, 11, 29, 7, 9, 27, 3, 3, 1, 1, 0, 0, 1, 0},
        {1, 12, 40, 20, 4, 13, 3, 3, 3, 3, 0, 0, 1, 0},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const pl_pool_shape *s = &shapes[i];
        int pitch = s->in_w + 2 * (int)(i & 1);
        size_t nx = (size_t)s->n * s->in_h * pitch * s->c;
        size_t ny = (size_t)s->n * s->out_h * s->out_w * s->c;
        float *x = pool_input(nx, 3), *y = malloc(ny * sizeof *y), *want = malloc(ny * sizeof *want);
        for (int b = 0; b < s->n; b++)
            for (int oy = 0; oy < s->out_h; oy++)
                for (int ox = 0; ox < s->out_w; ox++)
                    for (int c = 0; c < s->c; c++) {
                        float acc = -INFINITY;
                        int ty = oy * s->stride_h - s->pad_top, tx = ox * s->stride_w - s->pad_left;
                        for (int iy = ty; iy < ty + s->kh; iy++)
                            for (int ix = tx; ix < tx + s->kw; ix++) {
                                if (iy < 0 || iy >= s->in_h || ix < 0 || ix >= s->in_w) continue;
                                float v = x[(((size_t)b * s->in_h + iy) * pitch + ix) * s->c + c];
                                acc = acc > v ? acc : v;
                            }
                        want[(((size_t)b * s->out_h + oy) * s->out_w + ox) * s->c + c] = acc;
                    }
        pl_epilogue none = {.act = PL_ACT_NONE};
        pl_pool_run_pitch(s, pitch, x, &none, y, 0, s->out_h / 2);
        pl_pool_run_pitch(s, pitch, x, &none, y, s->out_h / 2, s->out_h);
        CHECK_MSG(memcmp(y, want, ny * sizeof *y) == 0, "%s max pool %dx%d/%d %dx%dx%d p%d: not bit-identical",
                  level, s->kh, s->kw, s->stride_w, s->in_h, s->in_w, s->c, s->pad_top);
        free(x), free(y), free(want);
    }
    unsetenv("PL_CPU");
    pl_cpu_reload();
}

TEST(pool_max_in_order_avx512) { check_max_pool_in_order("avx512"); }
TEST(pool_max_in_order_avx2) { check_max_pool_in_order("avx2"); }

TEST(pool_pool2_avx512) { check_pool2("avx512"); }
TEST(pool_pool2_avx2) { check_pool2("avx2"); }

/* A convolution and its 2x2/2 max pool in one pass, output pixels in the
 * lanes (pl_conv_plan_run_pool2, kernels_simd.h) bit for bit against the
 * convolution then the pool: PNet's stem (3x3, 3 -> 10: the tile with
 * taps fixed at compile time) and other filters, channel counts and
 * register tiles; widths of whole tiles, tails and odd sizes; SAME (a
 * last one-column window) and VALID pools; activations on the
 * convolution and on the pool; rows in two calls (the second refills
 * the ring mid-image). */
static void check_conv_pool2(const char *level)
{
    if (!use_level(level)) {
        use_level("avx512");
        SKIP("this CPU has no %s", level);
    }
    /* in_c, out_c, k, in_h, in_w */
    static const int shapes[][5] = {
        {3, 10, 3, 12, 12}, {3, 10, 3, 37, 71}, {3, 10, 3, 20, 100}, {3, 10, 3, 9, 34},
        {3, 8, 3, 15, 45},  {2, 12, 2, 11, 40}, {4, 16, 5, 14, 70},  {1, 4, 1, 9, 33},
    };
    static const pl_act conv_acts[] = {PL_ACT_PRELU, PL_ACT_RELU, PL_ACT_NONE, PL_ACT_TANH};
    int ran = 0;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int a = 0; a < 4; a++)
            for (int same = 0; same < 2; same++) {
                const int *d = shapes[i];
                pl_conv_shape s = {.n = 1, .in_h = d[3], .in_w = d[4], .in_c = d[0],
                                   .out_h = d[3] - d[2] + 1, .out_w = d[4] - d[2] + 1, .out_c = d[1],
                                   .kh = d[2], .kw = d[2], .stride_h = 1, .stride_w = 1,
                                   .dilation_h = 1, .dilation_w = 1, .groups = 1};
                pl_pool_shape ps = {.n = 1, .in_h = s.out_h, .in_w = s.out_w, .c = s.out_c,
                                    .out_h = same ? (s.out_h + 1) / 2 : s.out_h / 2,
                                    .out_w = same ? (s.out_w + 1) / 2 : s.out_w / 2,
                                    .kh = 2, .kw = 2, .stride_h = 2, .stride_w = 2, .is_max = 1};
                size_t nx = (size_t)s.in_h * s.in_w * s.in_c, nc = (size_t)s.out_h * s.out_w * s.out_c;
                size_t ny = (size_t)ps.out_h * ps.out_w * ps.c;
                float *x = rand_buf(nx), *w = rand_buf((size_t)s.out_c * s.kh * s.kw * s.in_c);
                float *b = rand_buf(s.out_c), *slope = rand_buf(s.out_c), *conv_out = malloc(nc * sizeof(float));
                float *want = malloc(ny * sizeof(float)), *y = malloc(ny * sizeof(float));
                pl_epilogue ep = {.act = conv_acts[a], .slope = slope};
                pl_epilogue pool_ep = {.act = a == 3 ? PL_ACT_RELU : PL_ACT_NONE};
                pl_conv_plan *p = pl_conv_plan_new(&s, w, b, &ep);
                size_t floats = pl_conv_plan_pool2_floats(p, &ps, &pool_ep);
                if (floats) {
                    float *scratch = malloc(floats * sizeof(float));
                    pl_conv_plan_run_item(p, x, conv_out, 0, s.out_h);
                    pl_pool_run(&ps, conv_out, &pool_ep, want, 0, ps.out_h);
                    memset(y, 0xff, ny * sizeof(float));
                    pl_conv_plan_run_pool2(p, &ps, &pool_ep, x, y, 0, ps.out_h / 3, scratch);
                    pl_conv_plan_run_pool2(p, &ps, &pool_ep, x, y, ps.out_h / 3, ps.out_h, scratch);
                    CHECK_MSG(memcmp(y, want, ny * sizeof(float)) == 0,
                              "%s conv+pool2 %dx%d %d->%d %dx%d act %d %s: not bit-identical", level,
                              s.kh, s.kw, s.in_c, s.out_c, s.in_h, s.in_w, (int)ep.act, same ? "SAME" : "VALID");
                    free(scratch);
                    ran++;
                }
                pl_conv_plan_free(p);
                free(x), free(w), free(b), free(slope), free(conv_out), free(want), free(y);
            }
    /* All but the 16-channel layer on AVX2 (16 accumulators do not fit). */
    CHECK_MSG(ran >= 7 * 4 * 2, "%s: only %d conv+pool2 cases ran", level, ran);
    unsetenv("PL_CPU");
    pl_cpu_reload();
}

TEST(conv_pool2_pixel_lanes_avx512) { check_conv_pool2("avx512"); }
TEST(conv_pool2_pixel_lanes_avx2) { check_conv_pool2("avx2"); }

TEST(pool_avx512_matches_ref) { check_all_pools("avx512"); }
TEST(pool_avx2_matches_ref) { check_all_pools("avx2"); }
TEST(pool_generic_is_ref) { check_all_pools("generic"); }

TEST(pool_ref_known)
{
    float x[2 * 2 * 2] = {1, -1, 2, -2, 3, -3, 4, -4}; /* 2x2, C=2 */
    pl_pool_shape mx = {1, 2, 2, 2, 1, 1, 2, 2, 2, 2, 0, 0, 1, 0};
    float y[2];
    pl_pool_ref(&mx, x, NULL, y, 0, 1);
    CHECK_NEAR(y[0], 4, 0);
    CHECK_NEAR(y[1], -1, 0);
    pl_pool_shape av = {1, 2, 2, 2, 1, 1, 3, 3, 1, 1, 1, 1, 0, 1}; /* pad counted: /9 */
    pl_pool_ref(&av, x, NULL, y, 0, 1);
    CHECK_NEAR(y[0], 10.0 / 9, 1e-6);
    av.count_include_pad = 0;
    pl_pool_ref(&av, x, NULL, y, 0, 1);
    CHECK_NEAR(y[1], -10.0 / 4, 1e-6);
}

/* Denormal weights are flushed when packed: same results, full speed even
 * in a thread without FTZ/DAZ. */
TEST(conv_denormal_weights)
{
    unsetenv("PL_CPU");
    pl_cpu_reload();
    pl_conv_shape s = make_shape(&conv_cases[4]);
    size_t nx = (size_t)s.in_h * s.in_w * s.in_c, ny = (size_t)s.out_h * s.out_w * s.out_c;
    size_t nw = (size_t)s.out_c * 9 * s.in_c;
    float *x = rand_buf(nx), *w = rand_buf(nw), *yr = malloc(ny * 4), *yf = malloc(ny * 4);
    for (size_t i = 0; i < nw; i += 3) w[i] = 1e-40f;
    pl_conv_plan *p = pl_conv_plan_new(&s, w, NULL, NULL);
    if (!p) {
        free(x), free(w), free(yr), free(yf);
        SKIP("no fast path on this CPU");
    }
    pl_conv2d_ref(&s, x, w, NULL, NULL, yr, 0, s.out_h);
    pl_conv_plan_run(p, x, yf, 0, s.out_h);
    CHECK(rel_err(yf, yr, yr, ny) <= 1e-5);
    pl_conv_plan_free(p);
    free(x), free(w), free(yr), free(yf);
}

/* ---- tiles of three channel vectors: the same sums, in the same order ---- */

/* What every dense tile computes for one output value: the bias, then one
 * fmaf per tap in the order (ky, kx, ci), taps in the padding skipped,
 * then the activation (only exact ones here). Tiles of 1, 2 or 3 channel
 * vectors, strided or gathering, must all give exactly this, so a layer's
 * values cannot depend on which tile shape its channel count picks. */
static void conv_in_order(const pl_conv_shape *s, const float *x, const float *w, const float *b,
                          pl_act act, const float *slope, float *y)
{
    for (int n = 0; n < s->n; n++)
        for (int oy = 0; oy < s->out_h; oy++)
            for (int ox = 0; ox < s->out_w; ox++)
                for (int oc = 0; oc < s->out_c; oc++) {
                    int icg = s->in_c / s->groups, g = oc / (s->out_c / s->groups);
                    float acc = b[oc];
                    for (int ky = 0; ky < s->kh; ky++) {
                        int iy = oy * s->stride_h - s->pad_top + ky * s->dilation_h;
                        if (iy < 0 || iy >= s->in_h) continue;
                        for (int kx = 0; kx < s->kw; kx++) {
                            int ix = ox * s->stride_w - s->pad_left + kx * s->dilation_w;
                            if (ix < 0 || ix >= s->in_w) continue;
                            const float *xp = x + (((size_t)n * s->in_h + iy) * s->in_w + ix) * s->in_c + g * icg;
                            const float *wp = w + (((size_t)oc * s->kh + ky) * s->kw + kx) * icg;
                            for (int ci = 0; ci < icg; ci++) acc = fmaf(xp[ci], wp[ci], acc);
                        }
                    }
                    if (act == PL_ACT_RELU) acc = acc > 0 ? acc : 0;
                    if (act == PL_ACT_PRELU && acc < 0) acc *= slope[oc];
                    y[(((size_t)n * s->out_h + oy) * s->out_w + ox) * s->out_c + oc] = acc;
                }
}

/* Compares with == (not memcmp): a gather tile adds 0 * w for a tap in the
 * padding where the sum above skips it, which can only turn -0 into +0. */
static size_t count_unequal(const float *a, const float *b, size_t n)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) bad += !(a[i] == b[i]);
    return bad;
}

static void check_in_order(const conv_case *c, pl_act act, const char *level)
{
    pl_conv_shape s = make_shape(c);
    size_t nx = (size_t)s.n * s.in_h * s.in_w * s.in_c;
    size_t ny = (size_t)s.n * s.out_h * s.out_w * s.out_c;
    float *x = rand_buf(nx), *w = rand_buf((size_t)s.out_c * s.kh * s.kw * (s.in_c / s.groups));
    float *b = rand_buf(s.out_c), *slope = rand_buf(s.out_c);
    float *want = malloc(ny * sizeof *want), *y = malloc(ny * sizeof *y);
    conv_in_order(&s, x, w, b, act, slope, want);
    pl_epilogue ep = {.act = act, .slope = slope};
    pl_conv_plan *p = pl_conv_plan_new(&s, w, b, &ep);
    CHECK_MSG(p != NULL, "no plan at %s", level);
    /* Whole, in uneven row ranges, and in two threads at once. */
    pl_conv_plan_run(p, x, y, 0, s.out_h);
    size_t bad = count_unequal(y, want, ny);
    for (size_t i = 0; i < ny; i++) y[i] = NAN;
    for (int r = 0; r < s.out_h; r += 2) pl_conv_plan_run(p, x, y, r, r + 2 + (r & 2));
    bad += count_unequal(y, want, ny);
    for (size_t i = 0; i < ny; i++) y[i] = NAN;
    half_job h0 = {p, x, y, 0, s.out_h / 2}, h1 = {p, x, y, s.out_h / 2, s.out_h};
    pthread_t t0, t1;
    pthread_create(&t0, NULL, run_half, &h0);
    pthread_create(&t1, NULL, run_half, &h1);
    pthread_join(t0, NULL);
    pthread_join(t1, NULL);
    bad += count_unequal(y, want, ny);
    /* Wide rows (the fused conv -> pool path of small maps), item by item. */
    if (pl_conv_plan_can_run_wide(p)) {
        size_t row = (size_t)s.out_w * s.out_c, img = (size_t)s.out_h * row;
        float *wide = malloc((size_t)s.out_h * s.in_w * s.out_c * sizeof *wide);
        for (int n = 0; n < s.n; n++) {
            pl_conv_plan_run_wide(p, x + (size_t)n * s.in_h * s.in_w * s.in_c, wide, 0, s.out_h);
            for (int r = 0; r < s.out_h; r++)
                bad += count_unequal(wide + (size_t)r * s.in_w * s.out_c, want + n * img + r * row, row);
        }
        free(wide);
    }
    CHECK_MSG(bad == 0, "%s %s (n%d %dx%d %dx%d %d->%d s%d p%d act %d): %zu values differ", level,
              pl_conv_plan_name(p), s.n, s.in_h, s.in_w, s.kh, s.kw, s.in_c, s.out_c, s.stride_h,
              s.pad_top, (int)act, bad);
    pl_conv_plan_free(p);
    free(x), free(w), free(b), free(slope), free(want), free(y);
}

static void check_all_in_order(const char *level)
{
    if (!use_level(level)) {
        use_level("avx512");
        SKIP("this CPU has no %s", level);
    }
    /* RNet's conv2 (9x9 rows, one 9-pixel tile each) and its neighbours in
     * channel count: 40 and 48 take three vectors on AVX-512, 56 pairs;
     * 20 and 24 take three 8-lane vectors on AVX2. Batches, padding,
     * strides, 1x1 (flat) and 3-channel inputs (wide rows). */
    static const conv_case cases[] = {
        /* n  ih  iw  ic  oc kh kw sh sw dh dw pt pl pb pr groups */
        {3, 11, 11, 28, 48, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1},  /* RNet conv2 */
        {2, 11, 11, 28, 40, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1},
        {2, 11, 11, 28, 56, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1},
        {1, 13, 29, 13, 48, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},  /* SAME: gathers at the borders */
        {2, 17, 15, 7, 40, 3, 3, 2, 2, 1, 1, 1, 0, 1, 0, 1},   /* stride 2 */
        {1, 7, 23, 19, 48, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1},   /* 1x1 flat */
        {2, 12, 12, 3, 48, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1},   /* wide rows */
        {3, 24, 24, 3, 28, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1},   /* RNet stem: stem tiles */
        {1, 48, 48, 3, 32, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1},   /* ONet stem: rows of them */
        {1, 7, 30, 3, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},    /* padded: stem rows inside */
        {1, 10, 9, 9, 144, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0, 1},   /* three blocks of 3 */
        {2, 9, 10, 11, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
        {1, 9, 30, 5, 20, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1},
        /* Rows of one to two full tiles, border pixels as tiles whose taps
         * skip the padding: fr_detect's dilated RFB convolutions at odd
         * sizes (2, 3 and 5 border pixels sharing their taps), a 5x5 with
         * stride 2 and uneven padding, rows of exactly one tile. */
        {1, 13, 29, 8, 16, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1},
        {2, 9, 25, 12, 16, 3, 3, 1, 1, 3, 3, 3, 3, 3, 3, 1},
        {1, 11, 26, 16, 16, 3, 3, 1, 1, 5, 5, 5, 5, 5, 5, 1},
        {1, 15, 51, 5, 32, 5, 5, 2, 2, 1, 1, 2, 1, 2, 1, 1},
        {2, 7, 24, 6, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
        {1, 7, 12, 6, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
        {1, 6, 9, 7, 48, 3, 3, 1, 1, 1, 2, 1, 2, 1, 2, 1},
    };
    static const pl_act in_order_acts[] = {PL_ACT_NONE, PL_ACT_PRELU, PL_ACT_RELU};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_in_order(&cases[i], in_order_acts[i % 3], level);
    /* Rows cut into near-equal tiles of every width up to the largest
     * (kernels_simd.h, tile_width): padded 3x3 rows of 22 to 53 pixels for
     * 1, 2 and 3 channel vectors, and fr_gender's and fr_detect's stems
     * (62 interior pixels: 21 + 21 + 20; stride 2, 159: 7 tiles). */
    for (int iw = 22; iw <= 53; iw++)
        for (int k = 0; k < 3; k++) {
            static const int ocs[] = {16, 32, 48};
            conv_case c = {1, 3 + k, iw, 5, ocs[k], 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};
            check_in_order(&c, in_order_acts[(iw + k) % 3], level);
        }
    /* ... and tall maps, whose border columns run down the rows as tiles
     * (dense_border_columns: up to a full tile of rows, the top and
     * bottom rows' clipped taps apart), dilated, strided, 5x5. */
    static const conv_case stems[] = {
        {1, 4, 64, 3, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
        {1, 5, 320, 3, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},
        {1, 53, 30, 6, 16, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1},
        {1, 61, 26, 4, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},
        {2, 40, 40, 3, 48, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 1},
        {1, 31, 27, 9, 16, 3, 3, 1, 1, 3, 3, 3, 3, 3, 3, 1},
    };
    for (size_t i = 0; i < sizeof stems / sizeof stems[0]; i++)
        check_in_order(&stems[i], PL_ACT_RELU, level);
    /* 3x3 depthwise (dw3_tile: with stride 1 or 2 each input pixel loaded
     * once per filter row for the pixels whose windows hold it): 1 and 2
     * channel vectors and a tail, rows of every tile size, strides 1, 2,
     * 3, and the padding's clipped rows and columns. */
    static const conv_case dws[] = {
        {1, 9, 29, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 16},
        {1, 9, 30, 16, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 16},
        {2, 7, 26, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 32},
        {1, 11, 23, 32, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 32},
        {1, 6, 21, 64, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 64},
        {1, 8, 19, 48, 48, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 48},
        {1, 7, 17, 40, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 40},
        {1, 9, 31, 24, 24, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 24},
        {1, 10, 13, 8, 8, 3, 3, 1, 2, 1, 1, 0, 1, 1, 1, 8},
    };
    for (size_t i = 0; i < sizeof dws / sizeof dws[0]; i++)
        for (int a = 0; a < 3; a++) check_in_order(&dws[i], in_order_acts[a], level);
    unsetenv("PL_CPU");
    pl_cpu_reload();
}

TEST(conv_tiles_sum_in_order_avx512) { check_all_in_order("avx512"); }
TEST(conv_tiles_sum_in_order_avx2) { check_all_in_order("avx2"); }

/* The kernels' vector tanh is monotonic non-decreasing (a max pool takes
 * it after the max: session.c, defer_tanh), |tanh| <= 1, keeps the sign
 * of zeros, maps NaN to NaN, and gives the same bits on AVX2 and AVX-512.
 * bench/bench_tanh_check walks all 2^32 floats; here, for each sign, every
 * 509th bit pattern from 0 to infinity, and every pattern near the
 * formula's switch (0.625), its clamp (9) and zero. Counts violations in
 * *bad, AVX2/AVX-512 differences in *differ. */
typedef void (*tanh_vec_fn)(const float *, float *, size_t);

static void walk_tanh(tanh_vec_fn fn, tanh_vec_fn other, uint32_t sign, uint64_t from,
                      uint64_t step, uint64_t count, size_t *bad, size_t *differ)
{
    enum { N = 4096 };
    const uint64_t inf = 0x7f800000u;
    float x[N], y[N], y2[N], prev = 0.0f;
    int first = 1;
    uint64_t u = from, k = 0;
    while (k < count && u <= inf) {
        size_t n = 0;
        for (; n < N && k < count && u <= inf; n++, k++) {
            uint32_t b = sign | (uint32_t)u;
            memcpy(&x[n], &b, sizeof b);
            /* the last step lands on infinity itself */
            u = u < inf && u + step > inf ? inf : u + step;
        }
        fn(x, y, n);
        if (other) other(x, y2, n);
        for (size_t i = 0; i < n; i++) {
            *bad += isnan(y[i]) || fabsf(y[i]) > 1.0f ||
                    (!first && (sign ? y[i] > prev : y[i] < prev));
            prev = y[i], first = 0;
            if (other) *differ += memcmp(&y[i], &y2[i], sizeof(float)) != 0;
        }
    }
}

static void check_tanh_sample(tanh_vec_fn fn, tanh_vec_fn other)
{
    static const uint32_t dense[] = {0x00000000u, 0x3f200000u - 2048, 0x41100000u - 2048};
    size_t bad = 0, differ = 0;
    unsigned fpu = pl_fpu_fast_begin();
    for (uint32_t sign = 0; sign <= 1; sign++) {
        walk_tanh(fn, other, sign << 31, 0, 509, UINT64_MAX, &bad, &differ);
        for (size_t d = 0; d < sizeof dense / sizeof dense[0]; d++)
            walk_tanh(fn, other, sign << 31, dense[d], 1, 4096, &bad, &differ);
    }
    float sp[4] = {0.0f, -0.0f, NAN, -INFINITY}, t[4];
    fn(sp, t, 4);
    pl_fpu_fast_end(fpu);
    CHECK_MSG(bad == 0, "%zu sampled values out of order or range", bad);
    CHECK_MSG(differ == 0, "%zu sampled values differ between AVX2 and AVX-512", differ);
    CHECK(t[0] == 0.0f && !signbit(t[0]) && t[1] == 0.0f && signbit(t[1]));
    CHECK(isnan(t[2]) && t[3] < -0.9999999f);
}

TEST(vector_tanh_is_monotonic)
{
    const pl_cpu *c = pl_cpu_features();
    if (c->avx2_fma) check_tanh_sample(pl_tanh_vec_avx2, NULL);
    if (c->avx512f) check_tanh_sample(pl_tanh_vec_avx512, c->avx2_fma ? pl_tanh_vec_avx2 : NULL);
}
