/* kernels_simd.h — the SIMD convolution, fully-connected and pooling
 * kernels, written once and compiled per instruction set: kernels_avx2.c
 * and kernels_avx512.c define the vector macros below and include this
 * file, which then defines pl_conv_dense_*, pl_conv_dw_*, pl_fc_* and
 * pl_pool_* for that instruction set (declared in kernels_fast.h).
 *
 * Required macros: VL (floats per vector), vec, V_ZERO(), V_LOAD(p),
 * V_LOAD_PART(p, n), V_BCAST(p), V_SET1(f), V_FMA(a, b, c) = a*b + c,
 * V_ADD, V_MUL, V_MAX, V_MIN, V_NEGSEL(v, s) = v < 0 ? v*s : v,
 * V_STORE(p, v), V_STORE_PART(p, v, n), V_LANES_FROM(v, lo) (lane i takes
 * lane lo + i; the top lo lanes are undefined), SUFFIX(name); for exp/tanh/
 * sigmoid V_SUB, V_DIV, V_ROUND (to nearest), V_POW2I(n) = 2^n for a
 * whole-number n, V_ABS, V_COPYSIGN(m, s), V_SEL_LT(a, b, t, f); and the register
 * tile sizes P_NV1 / P_NV2 / P_NV3 (output pixels per tile for 1, 2 or 3
 * vectors of output channels: as many accumulators as the register file
 * holds).
 *
 * The dense kernel is a direct convolution: a tile of P output pixels
 * times NB = NV*VL output channels lives in registers; for each filter tap
 * and input channel it broadcasts one input value per pixel and multiplies
 * it by NV weight vectors. Tiles inside a row's interior address their
 * pixels with a stride; tiles at a border or across row ends ("gather")
 * compute a pointer per pixel and tap and read zeros for the padding. So
 * there are no padding copies and no scratch memory, and every output
 * value is summed in the same order whichever tile computes it.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/kernels_fast.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))
#define PMAX 24
/* Vectors of output channels per tile: 3 for layers whose channels fill
 * three vectors better than whole pairs (48 channels on AVX-512: 48 lanes
 * instead of 64; kernels_fast.c, plan_dense). */
#define NVMAX 3
/* Pixels a chunk holds, in tiles: a chunk meets every output-channel block
 * while its input is still in L1. */
#define FLAT_CHUNK_TILES 4
/* Input channels ahead that gather tiles prefetch the weights of. */
#define W_PREFETCH_AHEAD 64

typedef struct tile_args {
    const float *x;
    ptrdiff_t x0;            /* offset of pixel 0's window origin in x    */
    ptrdiff_t xpix;          /* between consecutive pixels' origins       */
    ptrdiff_t xdy, xdx;      /* per filter row / column step              */
    int ky0, ky1, kx0, kx1;  /* taps inside the input                     */
    int kw, icg;
    const float *w;          /* packed block: [KH][KW][icg][NB]           */
    const float *bias, *slope; /* this block's NB values                   */
    const pl_epilogue *ep;
    float *y;
    ptrdiff_t ypix;          /* floats between output pixels              */
    int nvalid;              /* output channels of this block that exist  */
    int kx_merge;            /* one dot product per filter row (see tile_body) */
    int prefetch;            /* 1x1 layers streaming from memory: fetch ahead */
    const pl_split *split;   /* pl_conv_plan_run_split: the outputs, or NULL */
    ptrdiff_t q;             /* split: the tile's first pixel              */
} tile_args;

/* A tile's fields that depend only on its channel block (group g, output
 * channel block cb) of item b: input and output at the block's first
 * channel of pixel 0, its packed weights (wblk floats a block), bias,
 * slopes and epilogue, and how many of its lanes are real channels. The
 * caller adds the geometry. */
ALWAYS_INLINE tile_args block_tile_args(const pl_conv_plan *p, const float *x, float *y, int b, int g,
                                        int cb, size_t wblk)
{
    const pl_conv_shape *s = &p->s;
    size_t blk = (size_t)g * p->n_cb + cb, img_in = (size_t)s->in_h * s->in_w * s->in_c;
    size_t img_out = (size_t)s->out_h * s->out_w * s->out_c;
    int ch = cb * p->nb;
    return (tile_args){.x = x + b * img_in + (size_t)g * p->icg,
                       .icg = p->icg,
                       .w = p->w + blk * wblk,
                       .bias = p->bias + blk * p->nb,
                       .slope = p->slope ? p->slope + blk * p->nb : NULL,
                       .ep = &p->ep,
                       .y = y + b * img_out + (size_t)g * p->ocg + ch,
                       .nvalid = p->ocg - ch < p->nb ? p->ocg - ch : p->nb};
}

/* e^x, relative error ~2e-7 (a few float roundings): x = n*ln2 + r with
 * |r| <= ln2/2, e^r by its Taylor series to r^7 (truncation < 6e-9), times
 * 2^n built in the exponent bits. x is clamped to [-87, 88] so 2^n stays a
 * normal float; the operand order of the clamps lets NaN through. */
ALWAYS_INLINE vec v_exp(vec x)
{
    x = V_MIN(V_SET1(88.0f), V_MAX(V_SET1(-87.0f), x));
    vec n = V_ROUND(V_MUL(x, V_SET1(1.44269504f)));
    /* ln2 in two parts: n * 0.693145751953125 is exact for |n| < 2^11. */
    vec r = V_FMA(n, V_SET1(-0.693145751953125f), x);
    r = V_FMA(n, V_SET1(-1.428606820309417e-6f), r);
    vec p = V_SET1(1.0f / 5040.0f);
    p = V_FMA(p, r, V_SET1(1.0f / 720.0f));
    p = V_FMA(p, r, V_SET1(1.0f / 120.0f));
    p = V_FMA(p, r, V_SET1(1.0f / 24.0f));
    p = V_FMA(p, r, V_SET1(1.0f / 6.0f));
    p = V_FMA(p, r, V_SET1(0.5f));
    p = V_FMA(p, r, V_SET1(1.0f));
    p = V_FMA(p, r, V_SET1(1.0f));
    return V_MUL(p, V_POW2I(n));
}

/* tanh, relative error ~3e-7: an odd polynomial below |x| = 0.625 (where
 * 1 - 2/(e^2x + 1) would lose digits to cancellation; Cephes' tanhf
 * coefficients), the exp form above; |x| >= 9 gives +-(1 - 2^-24), where
 * 1 - 2/(e^18 + 1) rounds. Monotonic non-decreasing over every float
 * (bench/bench_tanh_check): session.c pools before this tanh on that. */
ALWAYS_INLINE vec v_tanh(vec x)
{
    vec a = V_MIN(V_SET1(9.0f), V_ABS(x));
    vec big = V_SUB(V_SET1(1.0f), V_DIV(V_SET1(2.0f), V_ADD(v_exp(V_ADD(a, a)), V_SET1(1.0f))));
    vec z = V_MUL(a, a);
    vec p = V_SET1(-5.70498872745e-3f);
    p = V_FMA(p, z, V_SET1(2.06390887954e-2f));
    p = V_FMA(p, z, V_SET1(-5.37397155531e-2f));
    p = V_FMA(p, z, V_SET1(1.33314422036e-1f));
    p = V_FMA(p, z, V_SET1(-3.33332819422e-1f));
    vec small = V_FMA(V_MUL(p, z), a, a);
    return V_COPYSIGN(V_SEL_LT(a, V_SET1(0.625f), small, big), x);
}

/* 1 / (1 + e^-x): the relative error of v_exp and one division. */
ALWAYS_INLINE vec v_sigmoid(vec x)
{
    vec one = V_SET1(1.0f);
    return V_DIV(one, V_ADD(one, v_exp(V_SUB(V_ZERO(), x))));
}

/* Every activation, in registers. The reference (pl_apply_act) uses libm
 * for sigmoid/tanh; these differ from it by the approximations above
 * (tests allow 1e-5 of the pre-activation scale). */
ALWAYS_INLINE vec act_vec(vec v, const pl_epilogue *ep, const float *slope)
{
    switch (ep->act) {
    case PL_ACT_SIGMOID: return v_sigmoid(v);
    case PL_ACT_TANH: return v_tanh(v);
    case PL_ACT_RELU: return V_MAX(v, V_ZERO());
    case PL_ACT_RELU6: return V_MIN(V_MAX(v, V_ZERO()), V_SET1(6.0f));
    case PL_ACT_CLIP: return V_MIN(V_MAX(v, V_SET1(ep->lo)), V_SET1(ep->hi));
    case PL_ACT_LEAKY: return V_NEGSEL(v, V_SET1(ep->alpha));
    case PL_ACT_PRELU: return V_NEGSEL(v, V_LOAD(slope));
    default: return v;
    }
}

/* Store NB channels (n of them valid) of one pixel; the activation is
 * already applied. */
ALWAYS_INLINE void store_pixel(float *y, const vec *v, int nv, int n,
                               const pl_epilogue *ep, int ch0)
{
    (void)ep, (void)ch0;
    for (int j = 0; j < nv; j++) {
        int left = n - j * VL;
        if (left >= VL) V_STORE(y + j * VL, v[j]);
        else if (left > 0) V_STORE_PART(y + j * VL, v[j], left);
    }
}

ALWAYS_INLINE void tile_init(vec acc[PMAX][NVMAX], const tile_args *a, const int P, const int NV)
{
#pragma GCC unroll 24
    for (int p = 0; p < P; p++)
#pragma GCC unroll 3
        for (int j = 0; j < NV; j++) acc[p][j] = V_LOAD(a->bias + j * VL);
}

/* tile_tap_strided's channel loop: n channels from base[] / wc on, with
 * (PF) or without prefetching the weights W_PREFETCH_AHEAD channels ahead. */
ALWAYS_INLINE void tile_tap_loop(vec acc[PMAX][NVMAX], const float **base, ptrdiff_t xpix,
                                 const float *wc, int n, const int P, const int NV, const int PF)
{
    const int NB = NV * VL;
#pragma GCC unroll 2
    for (int ci = 0; ci < n; ci++) {
        vec wv[NVMAX];
#pragma GCC unroll 3
        for (int j = 0; j < NV; j++) wv[j] = V_LOAD(wc + j * VL);
        if (PF)
#pragma GCC unroll 3
            for (int j = 0; j < NV * VL * 4; j += 64)
                __builtin_prefetch((const void *)((uintptr_t)wc + (uintptr_t)W_PREFETCH_AHEAD * NB * sizeof(float) + j));
#pragma GCC unroll 24
        for (int p = 0; p < P; p++) {
            vec b = V_BCAST(base[p / 3] + (p % 3) * xpix);
#pragma GCC unroll 3
            for (int j = 0; j < NV; j++) acc[p][j] = V_FMA(b, wv[j], acc[p][j]);
        }
#pragma GCC unroll 8
        for (int k = 0; k < (P + 2) / 3; k++) base[k]++;
        wc += NB;
    }
}

/* The same for evenly spaced pixels: pixel p's input is x0 + p*xpix.
 * Written with one base and loop-invariant offsets so the compiler keeps
 * the base, the offsets and all accumulators in registers. */
ALWAYS_INLINE void tile_tap_strided(vec acc[PMAX][NVMAX], const float *x0, ptrdiff_t xpix,
                                    const float *wp, int n, const int P, const int NV,
                                    const int SPLIT)
{
    const int NB = NV * VL;
    int ci = 0;
    if (P == 1 && SPLIT) {
        /* A lone fully connected row: four partial sums over the channels,
         * or the FMA latency would idle the units. (Only where the split
         * of rows cannot change which tile a row is in: results must not
         * depend on how the caller splits the work.) */
        vec part[3][NVMAX];
#pragma GCC unroll 3
        for (int u = 0; u < 3; u++)
#pragma GCC unroll 3
            for (int j = 0; j < NV; j++) part[u][j] = V_ZERO();
        for (; ci + 4 <= n; ci += 4) {
#pragma GCC unroll 3
            for (int j = 0; j < NV; j++) {
                const float *w0 = wp + (size_t)ci * NB + j * VL;
                acc[0][j] = V_FMA(V_BCAST(x0 + ci), V_LOAD(w0), acc[0][j]);
                part[0][j] = V_FMA(V_BCAST(x0 + ci + 1), V_LOAD(w0 + NB), part[0][j]);
                part[1][j] = V_FMA(V_BCAST(x0 + ci + 2), V_LOAD(w0 + 2 * NB), part[1][j]);
                part[2][j] = V_FMA(V_BCAST(x0 + ci + 3), V_LOAD(w0 + 3 * NB), part[2][j]);
            }
        }
#pragma GCC unroll 3
        for (int j = 0; j < NV; j++)
            acc[0][j] = V_ADD(V_ADD(acc[0][j], part[0][j]), V_ADD(part[1][j], part[2][j]));
    }
    /* Pixel 3k+m reads base[k] + m*xpix: x86 addresses base + index*4 and
     * base + index*8 directly, so 12 pixels need 4 bases and one index
     * register instead of 12 (which would spill). */
    const float *base[(PMAX + 2) / 3];
#pragma GCC unroll 8
    for (int k = 0; k < (P + 2) / 3; k++) base[k] = x0 + 3 * k * xpix + ci;
    const float *wc = wp + (size_t)ci * NB;
    /* The weights are prefetched ahead only for runs of many channels
     * (deep layers streaming their weights from L2 or memory); a run of
     * fewer reads a few KB that stay in L1, and the prefetches would only
     * take load slots (fr_detect's 16- to 64-channel 1x1 layers). Not in
     * the 1-2 pixel row tails either: one prefetch per FMA there. */
    if (P >= 4 && n - ci >= 2 * W_PREFETCH_AHEAD)
        tile_tap_loop(acc, base, xpix, wc, n - ci, P, NV, 1);
    else
        tile_tap_loop(acc, base, xpix, wc, n - ci, P, NV, 0);
}

/* One filter tap over all input channels: xs[p] points at pixel p's input
 * for this tap (channel 0 of the group). */
ALWAYS_INLINE void tile_tap(vec acc[PMAX][NVMAX], const float *const *xs, const float *wp,
                            int icg, const int P, const int NV)
{
    const int NB = NV * VL;
    /* Gather tiles run the small maps of deep layers, whose weights are
     * read once per image from memory (the 256-channel 3x3 layers of the
     * dlib ResNet: 2.4 MB each, for 9-16 pixels): without a prefetch ahead
     * of the stream the loads of the weights stall the tile. Addresses
     * past the end are harmless to prefetch; computed as integers. */
    uintptr_t ahead = (uintptr_t)wp + (uintptr_t)W_PREFETCH_AHEAD * NB * sizeof(float);
    for (int ci = 0; ci < icg; ci++) {
        vec wv[NVMAX];
#pragma GCC unroll 3
        for (int j = 0; j < NV; j++) wv[j] = V_LOAD(wp + (size_t)ci * NB + j * VL);
#pragma GCC unroll 3
        for (int j = 0; j < NV * VL * 4; j += 64)
            __builtin_prefetch((const void *)(ahead + (uintptr_t)ci * NB * sizeof(float) + j));
#pragma GCC unroll 24
        for (int p = 0; p < P; p++) {
            vec b = V_BCAST(xs[p] + ci);
#pragma GCC unroll 3
            for (int j = 0; j < NV; j++) acc[p][j] = V_FMA(b, wv[j], acc[p][j]);
        }
    }
}

/* Activation, then stores. The branches on the activation and on whether
 * the block is full are taken once per tile, not once per pixel: with few
 * input channels (a 3-channel stem) the epilogue is a large part of a tile. */
ALWAYS_INLINE void tile_finish(vec acc[PMAX][NVMAX], const tile_args *a, const int P, const int NV,
                               const int SPLIT_OUT)
{
    const pl_epilogue *ep = a->ep;
    const pl_act act = ep->act;
    if (act == PL_ACT_RELU) {
#pragma GCC unroll 24
        for (int p = 0; p < P; p++)
#pragma GCC unroll 3
            for (int j = 0; j < NV; j++) acc[p][j] = V_MAX(acc[p][j], V_ZERO());
    } else if (act != PL_ACT_NONE) {
#pragma GCC unroll 24
        for (int p = 0; p < P; p++)
#pragma GCC unroll 3
            for (int j = 0; j < NV; j++)
                acc[p][j] = act_vec(acc[p][j], ep, a->slope ? a->slope + j * VL : NULL);
    }
    /* Locals: a masked store may alias anything as far as the compiler
     * knows, so a->y / a->nvalid would be reloaded after every store. */
    float *y = a->y;
    const ptrdiff_t ypix = a->ypix;
    const int nvalid = a->nvalid;
    if (SPLIT_OUT) {
        /* Merged heads: output k takes the next split->c[k] lanes of
         * every pixel, moved down to lane 0 (NV == 1: one block). */
        const pl_split *sp = a->split;
        for (int k = 0, lo = 0; k < sp->n; lo += sp->c[k], k++) {
            float *yk = sp->y[k] + a->q * sp->c[k];
            const int ck = sp->c[k];
#pragma GCC unroll 24
            for (int p = 0; p < P; p++) V_STORE_PART(yk + p * ck, V_LANES_FROM(acc[p][0], lo), ck);
        }
    } else if (nvalid == NV * VL) {
#pragma GCC unroll 24
        for (int p = 0; p < P; p++)
#pragma GCC unroll 3
            for (int j = 0; j < NV; j++) V_STORE(y + p * ypix + j * VL, acc[p][j]);
    } else if (NV == 1 && ypix == nvalid) {
        /* Thin layers (3->10, 32->2 heads): the tile's outputs are one
         * contiguous run. Whole-vector stores in pixel order: the lanes
         * past a pixel's channels land on the next pixels, which their
         * own stores then overwrite; only stores that would run past the
         * tile's last output are masked. */
#pragma GCC unroll 24
        for (int p = 0; p < P; p++) {
            if (p * ypix + VL <= P * ypix) V_STORE(y + p * ypix, acc[p][0]);
            else V_STORE_PART(y + p * ypix, acc[p][0], nvalid);
        }
    } else {
#pragma GCC unroll 24
        for (int p = 0; p < P; p++)
#pragma GCC unroll 3
            for (int j = 0; j < NV; j++) {
                int left = nvalid - j * VL;
                if (left >= VL) V_STORE(y + p * ypix + j * VL, acc[p][j]);
                else if (left > 0) V_STORE_PART(y + p * ypix + j * VL, acc[p][j], left);
            }
    }
}

/* P pixels whose windows are evenly spaced (a->xpix apart): one row of the
 * interior, or a run of a 1x1 layer. */
ALWAYS_INLINE void tile_body(const tile_args *a, const int P, const int NV, const int SPLIT,
                             const int SPLIT_OUT)
{
    vec acc[PMAX][NVMAX];
    if (a->prefetch) {
        /* A 1x1 layer with few outputs does little work per input byte
         * (a detector head reading 32 channels for 2 outputs): ask for the
         * pixels four tiles ahead now, or the loads wait on DRAM. Addresses
         * past the end are harmless to prefetch; computed as integers. */
        uintptr_t ahead = (uintptr_t)(a->x + a->x0) + (uintptr_t)(4 * P * a->xpix) * sizeof(float);
        size_t bytes = (size_t)P * a->xpix * sizeof(float);
        for (size_t off = 0; off < bytes; off += 64) __builtin_prefetch((const void *)(ahead + off));
    }
    tile_init(acc, a, P, NV);
    /* With a->kx_merge (groups 1, dilation 1) a filter row's taps inside
     * the input, columns [kx0, kx1), read (kx1 - kx0)*Cin consecutive input
     * floats against consecutive packed weights: one dot product per
     * filter row. One loop nest for both cases keeps the register
     * allocation of the hot loop clean. */
    int kx0 = a->kx0, kx1 = a->kx_merge ? a->kx0 + 1 : a->kx1;
    int n = a->kx_merge ? (a->kx1 - a->kx0) * a->icg : a->icg;
    for (int ky = a->ky0; ky < a->ky1; ky++) {
        for (int kx = kx0; kx < kx1; kx++) {
            const float *x0 = a->x + (a->x0 + ky * a->xdy + kx * a->xdx);
            const float *wp = a->w + (size_t)(ky * a->kw + kx) * a->icg * NV * VL;
            tile_tap_strided(acc, x0, a->xpix, wp, n, P, NV, SPLIT);
        }
    }
    tile_finish(acc, a, P, NV, SPLIT_OUT);
}

/* A stem's tile (3 input channels, 3 taps a filter row, pixels one input
 * pixel apart: RNet's and ONet's first layers): tile_body with the filter
 * rows, the floats of a row and the pixel spacing made constants (KH rows
 * of N = 3 taps * 3 channels, pixels XPIX floats apart). Every input read
 * is then one base register plus a constant, and a step is 2 weight
 * loads, P broadcasts and 2P FMAs: the generic body spent as long on its
 * per-row set-up (bases, index registers, prefetch test, the odd 9th
 * channel's tail) as on the FMAs of so short a row. The same FMAs in the
 * same order (bias, then ky, then kx and channel as kx_merge reads them):
 * the same bits. */
ALWAYS_INLINE void tile_body_stem(const tile_args *a, const int P, const int NV, const int KH,
                                  const int N, const int XPIX)
{
    const int NB = NV * VL;
    vec acc[PMAX][NVMAX];
    tile_init(acc, a, P, NV);
    const float *x0 = a->x + (a->x0 + a->kx0 * a->xdx);
    const float *w0 = a->w + (size_t)a->kx0 * a->icg * NB;
    const size_t wrow = (size_t)a->kw * a->icg * NB;
#pragma GCC unroll 1
    for (int ky = 0; ky < KH; ky++) {
        const float *xr = x0 + ky * a->xdy, *wr = w0 + ky * wrow;
#pragma GCC unroll 1
        for (int k = 0; k < N; k++) {
            /* Opaque to the compiler: pixel p + 1 reads at k what pixel p
             * reads at k + XPIX, and GCC would carry those floats from
             * step to step in scalar registers and on the stack instead of
             * broadcasting them from memory. */
            const float *xk = xr + k;
            __asm__("" : "+r"(xk));
            vec wv[NVMAX];
#pragma GCC unroll 3
            for (int j = 0; j < NV; j++) wv[j] = V_LOAD(wr + k * NB + j * VL);
#pragma GCC unroll 24
            for (int p = 0; p < P; p++) {
                vec b = V_BCAST(xk + p * XPIX);
#pragma GCC unroll 3
                for (int j = 0; j < NV; j++) acc[p][j] = V_FMA(b, wv[j], acc[p][j]);
            }
        }
    }
    tile_finish(acc, a, P, NV, 0);
}

/* Where a gather tile's pixels are: P consecutive output pixels of one
 * image in row-major order, possibly across row ends and borders. */
typedef struct gather_geom {
    int q0;                  /* first pixel: oy * out_w + ox              */
    const pl_conv_shape *s;
    const float *zeros;      /* icg zeros, read for taps in the padding   */
} gather_geom;

/* Any P consecutive pixels: each tap's input pointer is computed per
 * pixel, and taps in the padding read zeros. Used at the borders and
 * across row ends, so small feature maps still get full tiles. */
ALWAYS_INLINE void gather_body(const tile_args *a, const gather_geom *gg, const int P, const int NV)
{
    const pl_conv_shape *s = gg->s;
    int iy0[PMAX], ix0[PMAX];
#pragma GCC unroll 24
    for (int p = 0; p < P; p++) {
        int q = gg->q0 + p, oy = q / s->out_w, ox = q - oy * s->out_w;
        iy0[p] = oy * s->stride_h - s->pad_top;
        ix0[p] = ox * s->stride_w - s->pad_left;
    }
    vec acc[PMAX][NVMAX];
    tile_init(acc, a, P, NV);
    for (int ky = 0; ky < s->kh; ky++) {
        const float *rowp[PMAX]; /* pixel p's input row for this ky, or NULL */
        int any_row = 0;
#pragma GCC unroll 24
        for (int p = 0; p < P; p++) {
            int iy = iy0[p] + ky * s->dilation_h;
            int in = (unsigned)iy < (unsigned)s->in_h;
            rowp[p] = in ? a->x + (ptrdiff_t)iy * s->in_w * s->in_c : NULL;
            any_row |= in;
        }
        if (!any_row) continue;
        for (int kx = 0; kx < s->kw; kx++) {
            const float *xs[PMAX];
            int any = 0;
#pragma GCC unroll 24
            for (int p = 0; p < P; p++) {
                int ix = ix0[p] + kx * s->dilation_w;
                int in = rowp[p] && (unsigned)ix < (unsigned)s->in_w;
                xs[p] = in ? rowp[p] + (ptrdiff_t)ix * s->in_c : gg->zeros;
                any |= in;
            }
            if (!any) continue;
            const float *wp = a->w + (size_t)(ky * s->kw + kx) * a->icg * NV * VL;
            tile_tap(acc, xs, wp, a->icg, P, NV);
        }
    }
    tile_finish(acc, a, P, NV, 0);
}

/* One function per (pixels, vectors) tile: the compiler keeps the
 * accumulators in registers only when both are constants. */
#define TILE_FN(P, NV)                                                         \
    static void SUFFIX(tile_##P##_##NV)(const tile_args *a) { tile_body(a, P, NV, 0, 0); }
#define SPLIT_FN(P)                                                            \
    static void SUFFIX(split_##P)(const tile_args *a) { tile_body(a, P, 1, 0, 1); }
TILE_FN(1, 1)
TILE_FN(2, 1)
TILE_FN(4, 1)
TILE_FN(8, 1)
TILE_FN(1, 2)
TILE_FN(2, 2)
TILE_FN(4, 2)
TILE_FN(8, 2)
TILE_FN(1, 3)
TILE_FN(2, 3)
TILE_FN(4, 3)
TILE_FN(8, 3)
/* The sizes between, for tiles of any width up to the largest (tile_of):
 * a run of pixels is cut into near-equal tiles, not a largest ones and a
 * tail of 8, 4, 2, 1 (each of those latency-bound: too few accumulator
 * chains for the FMA units). */
TILE_FN(3, 1)
TILE_FN(5, 1)
TILE_FN(6, 1)
TILE_FN(7, 1)
TILE_FN(9, 1)
TILE_FN(10, 1)
TILE_FN(11, 1)
#if P_NV1 > 12
TILE_FN(12, 1)
TILE_FN(13, 1)
TILE_FN(14, 1)
TILE_FN(15, 1)
TILE_FN(16, 1)
TILE_FN(17, 1)
TILE_FN(18, 1)
TILE_FN(19, 1)
TILE_FN(20, 1)
TILE_FN(21, 1)
TILE_FN(22, 1)
TILE_FN(23, 1)
#endif
TILE_FN(3, 2)
TILE_FN(5, 2)
#if P_NV2 > 6
TILE_FN(6, 2)
TILE_FN(7, 2)
TILE_FN(9, 2)
TILE_FN(10, 2)
TILE_FN(11, 2)
#endif
TILE_FN(3, 3)
#if P_NV3 > 4
TILE_FN(5, 3)
TILE_FN(6, 3)
TILE_FN(7, 3)
#endif
static void SUFFIX(tile_max_1)(const tile_args *a) { tile_body(a, P_NV1, 1, 0, 0); }
static void SUFFIX(tile_max_2)(const tile_args *a) { tile_body(a, P_NV2, 2, 0, 0); }
static void SUFFIX(tile_max_3)(const tile_args *a) { tile_body(a, P_NV3, 3, 0, 0); }
static void SUFFIX(gemv_1)(const tile_args *a) { tile_body(a, 1, 1, 1, 0); }
static void SUFFIX(gemv_2)(const tile_args *a) { tile_body(a, 1, 2, 1, 0); }
SPLIT_FN(1)
SPLIT_FN(2)
SPLIT_FN(4)
SPLIT_FN(8)
static void SUFFIX(split_max)(const tile_args *a) { tile_body(a, P_NV1, 1, 0, 1); }

#define GATHER_FN(P, NV)                                                       \
    static void SUFFIX(gather_##P##_##NV)(const tile_args *a, const gather_geom *g) \
    {                                                                          \
        gather_body(a, g, P, NV);                                              \
    }
GATHER_FN(1, 1)
GATHER_FN(2, 1)
GATHER_FN(4, 1)
GATHER_FN(8, 1)
GATHER_FN(1, 2)
GATHER_FN(2, 2)
GATHER_FN(4, 2)
GATHER_FN(8, 2)
GATHER_FN(1, 3)
GATHER_FN(2, 3)
GATHER_FN(4, 3)
GATHER_FN(8, 3)
static void SUFFIX(gather_max_1)(const tile_args *a, const gather_geom *g) { gather_body(a, g, P_NV1, 1); }
static void SUFFIX(gather_max_2)(const tile_args *a, const gather_geom *g) { gather_body(a, g, P_NV2, 2); }
static void SUFFIX(gather_max_3)(const tile_args *a, const gather_geom *g) { gather_body(a, g, P_NV3, 3); }

/* Stem tiles (tile_body_stem) for the widths tile_width gives MTCNN's
 * stems (rows of 46 and wide runs of 48: whole tiles and one less). */
static void SUFFIX(stem_max_2)(const tile_args *a) { tile_body_stem(a, P_NV2, 2, 3, 9, 3); }
static void SUFFIX(stem_less_2)(const tile_args *a) { tile_body_stem(a, P_NV2 - 1, 2, 3, 9, 3); }

typedef void (*tile_fn)(const tile_args *);
typedef void (*gather_fn)(const tile_args *, const gather_geom *);

/* Pixels of the largest tile for nv vectors of output channels. */
static int tile_pmax(int nv) { return nv == 3 ? P_NV3 : nv == 2 ? P_NV2 : P_NV1; }

/* Tiles of every width 1 .. tile_pmax(nv), per nv - 1. */
static const tile_fn SUFFIX(tile_of)[NVMAX][PMAX + 1] = {
    {[1] = SUFFIX(tile_1_1), [2] = SUFFIX(tile_2_1), [3] = SUFFIX(tile_3_1), [4] = SUFFIX(tile_4_1),
     [5] = SUFFIX(tile_5_1), [6] = SUFFIX(tile_6_1), [7] = SUFFIX(tile_7_1), [8] = SUFFIX(tile_8_1),
     [9] = SUFFIX(tile_9_1), [10] = SUFFIX(tile_10_1), [11] = SUFFIX(tile_11_1),
#if P_NV1 > 12
     [12] = SUFFIX(tile_12_1), [13] = SUFFIX(tile_13_1), [14] = SUFFIX(tile_14_1),
     [15] = SUFFIX(tile_15_1), [16] = SUFFIX(tile_16_1), [17] = SUFFIX(tile_17_1),
     [18] = SUFFIX(tile_18_1), [19] = SUFFIX(tile_19_1), [20] = SUFFIX(tile_20_1),
     [21] = SUFFIX(tile_21_1), [22] = SUFFIX(tile_22_1), [23] = SUFFIX(tile_23_1),
#endif
     [P_NV1] = SUFFIX(tile_max_1)},
    {[1] = SUFFIX(tile_1_2), [2] = SUFFIX(tile_2_2), [3] = SUFFIX(tile_3_2), [4] = SUFFIX(tile_4_2),
     [5] = SUFFIX(tile_5_2),
#if P_NV2 > 6
     [6] = SUFFIX(tile_6_2), [7] = SUFFIX(tile_7_2), [8] = SUFFIX(tile_8_2), [9] = SUFFIX(tile_9_2),
     [10] = SUFFIX(tile_10_2), [11] = SUFFIX(tile_11_2),
#endif
     [P_NV2] = SUFFIX(tile_max_2)},
    {[1] = SUFFIX(tile_1_3), [2] = SUFFIX(tile_2_3), [3] = SUFFIX(tile_3_3),
#if P_NV3 > 4
     [4] = SUFFIX(tile_4_3), [5] = SUFFIX(tile_5_3), [6] = SUFFIX(tile_6_3), [7] = SUFFIX(tile_7_3),
     [8] = SUFFIX(tile_8_3),
#endif
     [P_NV3] = SUFFIX(tile_max_3)}};

/* Whether a's layer can run stem tiles (tile_body_stem): 2 channel
 * vectors, 3 input channels a pixel apart, 3 taps a filter row merged
 * (kx_merge). Checked once per run of tiles. */
static int SUFFIX(stem_fits)(const tile_args *a, int nv)
{
    return nv == 2 && a->kx_merge && a->icg == 3 && a->kx1 - a->kx0 == 3 && a->xpix == 3 &&
           !a->prefetch;
}

/* The tile for P pixels of a: a stem tile where the layer fits (stem),
 * the tile reads all three filter rows and one is instantiated for P;
 * else tile_of. */
ALWAYS_INLINE tile_fn SUFFIX(tile_for)(const tile_args *a, int nv, int P, int stem)
{
    if (stem && a->ky0 == 0 && a->ky1 == 3) {
        if (P == P_NV2) return SUFFIX(stem_max_2);
        if (P == P_NV2 - 1) return SUFFIX(stem_less_2);
    }
    return SUFFIX(tile_of)[nv - 1][P];
}

/* The width of the next tile of a run of `left` evenly spaced pixels: the
 * run in as few tiles as the largest allows, of near-equal widths (62
 * pixels, 24 at most: 21 + 21 + 20, not 24 + 24 + 8 + 4 + 2). Which tile
 * computes a pixel never changes its sums. */
static int tile_width(int left, int nv)
{
    int pmax = tile_pmax(nv), k = (left + pmax - 1) / pmax;
    return (left + k - 1) / k;
}

/* The tile sizes, largest first, and their functions, per nv - 1. (Where
 * P_NV3 < 8, AVX2, the 8-pixel tiles of 3 vectors are never picked.) */
static const int tile_sizes[NVMAX][5] = {{P_NV1, 8, 4, 2, 1}, {P_NV2, 8, 4, 2, 1}, {P_NV3, 8, 4, 2, 1}};

/* The largest tile size that fits `left` pixels: index into the tables. */
static int tile_index(int left, int nv)
{
    if (left >= tile_pmax(nv)) return 0;
    return left >= 8 ? 1 : left >= 4 ? 2 : left >= 2 ? 3 : 4;
}

static int div_floor(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
static int div_ceil(int a, int b) { return -div_floor(-a, b); }

/* Taps k in [lo, hi) with 0 <= origin + k*d < size. */
static void tap_range(int origin, int d, int k, int size, int *lo, int *hi)
{
    int l = origin < 0 ? div_ceil(-origin, d) : 0;
    int h = div_floor(size - 1 - origin, d) + 1;
    if (h > k) h = k;
    if (h < l) h = l;
    *lo = l;
    *hi = h;
}

/* Runs tiles over `count` consecutive evenly spaced pixels starting at
 * a->x0 / a->y, largest tiles first. */
static void SUFFIX(tile_run)(tile_args *a, int count, int nv)
{
    const int stem = SUFFIX(stem_fits)(a, nv);
    while (count > 0) {
        int sz = tile_width(count, nv);
        SUFFIX(tile_for)(a, nv, sz, stem)(a);
        a->x0 += sz * a->xpix;
        a->y += sz * a->ypix;
        a->q += sz;
        count -= sz;
    }
}

/* pl_conv_plan_run_split: a 1x1 layer of one block (n_cb == 1) whose
 * channels belong to several outputs (merged detector heads), rows
 * [r0, r1) of one item. Same tiles and sums as dense_flat; only the
 * stores differ. */
void SUFFIX(pl_conv_1x1_split)(const pl_conv_plan *p, const float *x, const pl_split *sp, int r0,
                               int r1)
{
    static const int sizes[5] = {P_NV1, 8, 4, 2, 1};
    static const tile_fn fns[5] = {SUFFIX(split_max), SUFFIX(split_8), SUFFIX(split_4),
                                   SUFFIX(split_2), SUFFIX(split_1)};
    const pl_conv_shape *s = &p->s;
    int q0 = r0 * s->out_w, q1 = r1 * s->out_w;
    tile_args a = {
        .x = x, .x0 = (ptrdiff_t)q0 * s->in_c, .xpix = s->in_c, .xdy = 0, .xdx = 0,
        .ky0 = 0, .ky1 = 1, .kx0 = 0, .kx1 = 1, .kw = 1, .icg = p->icg,
        .w = p->w, .bias = p->bias, .slope = p->slope, .ep = &p->ep,
        .prefetch = 1, .split = sp, .q = q0};
    for (int count = q1 - q0; count > 0;) {
        int ti = tile_index(count, 1), sz = sizes[ti];
        fns[ti](&a);
        a.x0 += sz * a.xpix;
        a.q += sz;
        count -= sz;
    }
}

/* 1x1, stride 1, no padding: the rows [r0, r1) are one [pixels, Cin] x
 * [Cin, Cout] product, tiled across row ends. A chunk of pixels is run
 * against every output-channel block before moving on, so it stays in L1
 * while the weights stream from L1/L2. */
static void SUFFIX(dense_flat)(const pl_conv_plan *p, const float *x, float *y, int r0, int r1)
{
    const pl_conv_shape *s = &p->s;
    int pix0 = r0 * s->out_w, pix1 = r1 * s->out_w;
    int chunk = FLAT_CHUNK_TILES * tile_pmax(p->nv);
    for (int b = 0; b < s->n; b++) {
        for (int c0 = pix0; c0 < pix1; c0 += chunk) {
            int count = pix1 - c0 < chunk ? pix1 - c0 : chunk;
            for (int g = 0; g < s->groups; g++) {
                for (int cb = 0; cb < p->n_cb; cb++) {
                    tile_args a = block_tile_args(p, x, y, b, g, cb, (size_t)p->icg * p->nb);
                    a.x0 = (ptrdiff_t)c0 * s->in_c, a.xpix = s->in_c;
                    a.ky1 = 1, a.kx1 = 1, a.kw = 1;
                    a.y += (size_t)c0 * s->out_c, a.ypix = s->out_c;
                    a.prefetch = cb == 0;
                    SUFFIX(tile_run)(&a, count, p->nv);
                }
            }
        }
    }
}

/* Stride 1, no padding, one item, output rows with a pitch of in_w pixels
 * (kernels.h, pl_conv_plan_run_wide): output pixel q = oy*in_w + ox reads
 * its window from input pixel q on, so [r0*in_w, (r1-1)*in_w + out_w) is
 * one evenly spaced run, tiled like a 1x1 layer but with every tap. The
 * garbage pixels past a row's out_w read the next row's first columns;
 * the run stops at the last row's out_w, so nothing past the input is
 * read. Same tiles, same order of sums as the row-by-row kernel. */
void SUFFIX(pl_conv_dense_wide)(const pl_conv_plan *p, const float *x, float *y, int r0, int r1)
{
    const pl_conv_shape *s = &p->s;
    int q0 = r0 * s->in_w, q1 = (r1 - 1) * s->in_w + s->out_w;
    int chunk = FLAT_CHUNK_TILES * tile_pmax(p->nv);
    for (int c0 = q0; c0 < q1; c0 += chunk) {
        int count = q1 - c0 < chunk ? q1 - c0 : chunk;
        for (int g = 0; g < s->groups; g++) {
            for (int cb = 0; cb < p->n_cb; cb++) {
                tile_args a = block_tile_args(p, x, y, 0, g, cb, (size_t)s->kh * s->kw * p->icg * p->nb);
                a.x0 = (ptrdiff_t)c0 * s->in_c, a.xpix = s->in_c;
                a.xdy = (ptrdiff_t)s->in_w * s->in_c, a.xdx = s->in_c;
                a.ky1 = s->kh, a.kx1 = s->kw, a.kw = s->kw;
                a.kx_merge = s->groups == 1 && s->kw > 1;
                a.y += (size_t)c0 * s->out_c, a.ypix = s->out_c;
                SUFFIX(tile_run)(&a, count, p->nv);
            }
        }
    }
}

/* The border columns (taps in the padding) of rows [r0, r1) of item b,
 * for rows of at least one full tile: each column runs down the rows as
 * ordinary tiles (pixel p one input row stride further), the rows with the
 * same taps inside the input together, instead of a 1-pixel tile per row
 * and border (latency-bound: one FMA chain per channel vector). The taps
 * and their order are those of the row's own border tile: same bits. */
static void SUFFIX(dense_border_columns)(const pl_conv_plan *p, const float *x, float *y, int b,
                                         int r0, int r1)
{
    const pl_conv_shape *s = &p->s;
    const int nvi = p->nv - 1;
    size_t wblk = (size_t)s->kh * s->kw * p->icg * p->nb;
    for (int ox = 0; ox < s->out_w; ox++) {
        if (ox == p->ox_lo) ox = p->ox_hi;
        if (ox >= s->out_w) break;
        int ix0 = ox * s->stride_w - s->pad_left, kx0, kx1;
        tap_range(ix0, s->dilation_w, s->kw, s->in_w, &kx0, &kx1);
        for (int g = 0; g < s->groups; g++) {
            for (int cb = 0; cb < p->n_cb; cb++) {
                tile_args a = block_tile_args(p, x, y, b, g, cb, wblk);
                float *ybase = a.y;
                a.xpix = (ptrdiff_t)s->stride_h * s->in_w * s->in_c;
                a.xdy = (ptrdiff_t)s->dilation_h * s->in_w * s->in_c;
                a.xdx = (ptrdiff_t)s->dilation_w * s->in_c;
                a.kx0 = kx0, a.kx1 = kx1, a.kw = s->kw;
                a.kx_merge = s->groups == 1 && s->dilation_w == 1 && s->kw > 1;
                a.ypix = (ptrdiff_t)s->out_w * s->out_c;
                for (int oy = r0; oy < r1;) {
                    int iy0 = oy * s->stride_h - s->pad_top, ky0, ky1, m = 1, lo, hi;
                    tap_range(iy0, s->dilation_h, s->kh, s->in_h, &ky0, &ky1);
                    for (; oy + m < r1; m++) {
                        tap_range(iy0 + m * s->stride_h, s->dilation_h, s->kh, s->in_h, &lo, &hi);
                        if (lo != ky0 || hi != ky1) break;
                    }
                    int n = tile_width(m, p->nv);
                    a.ky0 = ky0, a.ky1 = ky1;
                    a.x0 = ((ptrdiff_t)iy0 * s->in_w + ix0) * s->in_c;
                    a.y = ybase + ((size_t)oy * s->out_w + ox) * s->out_c;
                    SUFFIX(tile_of)[nvi][n](&a);
                    oy += n;
                }
            }
        }
    }
}

/* Any KxK / stride / dilation / padding: the output pixels [r0*out_w,
 * r1*out_w) of each image, in chunks of a few tiles; a chunk runs against
 * every output-channel block while its input is in L1. Tiles inside one
 * row's interior use evenly spaced windows; the others gather. */
void SUFFIX(pl_conv_dense)(const pl_conv_plan *p, const float *x, float *y, int r0, int r1)
{
    if (p->flat) {
        SUFFIX(dense_flat)(p, x, y, r0, r1);
        return;
    }
    static const tile_fn tiles[NVMAX][5] = {
        {SUFFIX(tile_max_1), SUFFIX(tile_8_1), SUFFIX(tile_4_1), SUFFIX(tile_2_1), SUFFIX(tile_1_1)},
        {SUFFIX(tile_max_2), SUFFIX(tile_8_2), SUFFIX(tile_4_2), SUFFIX(tile_2_2), SUFFIX(tile_1_2)},
        {SUFFIX(tile_max_3), SUFFIX(tile_8_3), SUFFIX(tile_4_3), SUFFIX(tile_2_3), SUFFIX(tile_1_3)}};
    static const gather_fn gathers[NVMAX][5] = {
        {SUFFIX(gather_max_1), SUFFIX(gather_8_1), SUFFIX(gather_4_1), SUFFIX(gather_2_1), SUFFIX(gather_1_1)},
        {SUFFIX(gather_max_2), SUFFIX(gather_8_2), SUFFIX(gather_4_2), SUFFIX(gather_2_2), SUFFIX(gather_1_2)},
        {SUFFIX(gather_max_3), SUFFIX(gather_8_3), SUFFIX(gather_4_3), SUFFIX(gather_2_3), SUFFIX(gather_1_3)}};
    const int (*sizes)[5] = tile_sizes;
    const pl_conv_shape *s = &p->s;
    const int nvi = p->nv - 1;
    size_t wblk = (size_t)s->kh * s->kw * p->icg * p->nb;
    int q_begin = r0 * s->out_w, q_end = r1 * s->out_w;
    int chunk = FLAT_CHUNK_TILES * sizes[nvi][0];
    /* Rows of at least one full tile: chunks stop at row ends and no tile
     * gathers (border pixels clip their taps instead, as tiles down their
     * columns: dense_border_columns). Narrow rows (7,
     * 14, ...): tiles run across row ends to stay full, gathering. (From
     * two full tiles down to one: fr_detect's 40-wide RFB convolutions,
     * 16 outputs, 31 -> 24 us.) */
    int rowwise = s->out_w >= sizes[nvi][0];
    for (int b = 0; b < s->n; b++) {
        if (rowwise) SUFFIX(dense_border_columns)(p, x, y, b, r0, r1);
        for (int c0 = q_begin, c1; c0 < q_end; c0 = c1) {
            c1 = q_end - c0 < chunk ? q_end : c0 + chunk;
            /* A row's first chunk also spans its left border pixels (run
             * by dense_border_columns, skipped here), so its interior
             * tiles stay whole. */
            if (rowwise && c0 % s->out_w == 0) c1 = c1 + p->ox_lo < q_end ? c1 + p->ox_lo : q_end;
            if (rowwise && c1 > (c0 / s->out_w + 1) * s->out_w) c1 = (c0 / s->out_w + 1) * s->out_w;
            for (int g = 0; g < s->groups; g++) {
                for (int cb = 0; cb < p->n_cb; cb++) {
                    tile_args a = block_tile_args(p, x, y, b, g, cb, wblk);
                    float *ybase = a.y;
                    a.xpix = (ptrdiff_t)s->stride_w * s->in_c;
                    a.xdy = (ptrdiff_t)s->dilation_h * s->in_w * s->in_c;
                    a.xdx = (ptrdiff_t)s->dilation_w * s->in_c;
                    a.kx1 = s->kw, a.kw = s->kw;
                    a.kx_merge = s->groups == 1 && s->dilation_w == 1 && s->kw > 1;
                    a.ypix = s->out_c;
                    const int stem = SUFFIX(stem_fits)(&a, p->nv);
                    for (int q = c0; q < c1;) {
                        int oy = q / s->out_w, ox = q - oy * s->out_w, left = c1 - q;
                        /* Border columns: done above, down the rows. */
                        if (rowwise && ox < p->ox_lo) {
                            q += p->ox_lo - ox;
                            continue;
                        }
                        if (rowwise && ox >= p->ox_hi) {
                            q += s->out_w - ox;
                            continue;
                        }
                        /* Rows: the interior pixels up to the right border. */
                        if (rowwise) left = left < p->ox_hi - ox ? left : p->ox_hi - ox;
                        /* Rows run only ordinary tiles, of near-equal
                         * widths (tile_width); narrow rows the largest
                         * tiles that fit, gathering across row ends. */
                        int ti = tile_index(left, p->nv);
                        int n = rowwise ? tile_width(left, p->nv) : sizes[nvi][ti];
                        a.y = ybase + (size_t)q * s->out_c;
                        if (ox >= p->ox_lo && ox + n <= p->ox_hi) {
                            int iy0 = oy * s->stride_h - s->pad_top;
                            tap_range(iy0, s->dilation_h, s->kh, s->in_h, &a.ky0, &a.ky1);
                            a.x0 = ((ptrdiff_t)iy0 * s->in_w + ox * s->stride_w - s->pad_left) * s->in_c;
                            if (rowwise) SUFFIX(tile_for)(&a, p->nv, n, stem)(&a);
                            else tiles[nvi][ti](&a);
                        } else {
                            gather_geom gg = {.q0 = q, .s = s, .zeros = p->zeros};
                            gathers[nvi][ti](&a, &gg);
                        }
                        q += n;
                    }
                }
            }
        }
    }
}

/* ---- few channels + 2x2/2 max pool: output pixels in the lanes ---------- */

/* PNet's stem (3x3, 3 -> 10 channels, then a 2x2/2 max pool) has too few
 * channels for channel vectors: 10 of 16 lanes used, 3 input channels per
 * tap. Here a vector holds POOL2_NPV*VL output pixels of one channel
 * instead, and every lane is used. The input rows are first split into
 * one plane per channel and column parity, so the even output columns
 * (2j) and the odd ones (2j+1) are each a plain unaligned load per tap:
 * the pool's two columns land in the same lane of two vectors. Each
 * output value still starts from its bias and adds tap (ky, kx, ci) in
 * the order of tile_body (kx_merge: kx, then ci), with the same FMAs, and
 * the pool takes the same maxima in the same order as pl_pool (row 0
 * even, row 0 odd, row 1 even, row 1 odd; V_MAX(running, new)), so the
 * results are bit-identical to the conv -> pool pair. */

/* Floats of one input row split into planes: per channel and parity,
 * hw floats (pl_conv_pool2_layout). */
typedef struct pool2_layout {
    int jpad;      /* pooled columns, rounded up to whole tiles           */
    int hw;        /* floats per plane (tiles read kw/2 past jpad)        */
    int rows;      /* input rows kept: kh + 1 (two convolution rows)      */
    size_t ring;   /* floats of the kept rows                             */
} pool2_layout;

/* Input rows the ring may keep (kh + 1): filters of up to 15 rows. */
#define POOL2_ROWS_MAX 16

/* Pixel vectors per tile: as many accumulators as the registers hold,
 * with one for the input vectors and one for a weight; at most 3. */
ALWAYS_INLINE int pool2_npv(int oct)
{
    int n = (V_REGS - 2) / (oct + 1);
    return n > 3 ? 3 : n;
}

static pool2_layout SUFFIX(pool2_layout_of)(const pl_conv_plan *p, int oct)
{
    const pl_conv_shape *s = &p->s;
    int tile = pool2_npv(oct) * VL;
    pool2_layout L;
    L.jpad = ((s->out_w + 1) / 2 + tile - 1) / tile * tile;
    L.hw = (L.jpad + s->kw / 2 + 1 + 15) / 16 * 16;
    L.rows = s->kh + 1;
    L.ring = (size_t)L.rows * s->in_c * 2 * L.hw;
    return L;
}

/* Input row iy into its ring slot: plane (ci, parity) holds columns
 * 2j + parity of channel ci; the rest of each plane is zeroed (tiles read
 * it for lanes that are not stored). */
static void SUFFIX(pool2_split_row)(const pl_conv_plan *p, const pool2_layout *L, const float *x,
                                    int iy, float *ring)
{
    const pl_conv_shape *s = &p->s;
    const int C = s->in_c;
    float *dst = ring + (size_t)(iy % L->rows) * C * 2 * L->hw;
    const float *src = x + (size_t)iy * s->in_w * C;
    int half[2] = {(s->in_w + 1) / 2, s->in_w / 2}, j0 = 0;
#ifdef POOL2_PERMUTES
    if (C == 3) {
        /* 32 pixels at a time with permutes; the rest below. */
        for (; 2 * j0 + 32 <= s->in_w; j0 += 16) {
            float *d[6];
            for (int k = 0; k < 6; k++) d[k] = dst + (size_t)k * L->hw + j0;
            pool2_split3_avx512(src + (size_t)2 * j0 * C, d);
        }
    }
#endif
    for (int ci = 0; ci < C; ci++)
        for (int par = 0; par < 2; par++) {
            float *d = dst + (size_t)(ci * 2 + par) * L->hw;
            const float *sp = src + (size_t)par * C + ci;
            for (int j = j0; j < half[par]; j++) d[j] = sp[(size_t)j * 2 * C];
            for (int j = half[par]; j < L->hw; j++) d[j] = 0.0f;
        }
}

/* One tile of one pass: the convolution of row r at columns 2j + e for
 * the tile's pixels j in [j0, j0 + NPV*VL) (rows: the ring rows r, r+1,
 * ...), its activation, then into the tile's running maxima mt (OCT
 * channel rows of NPV*VL floats; first: mt is set). Only the lanes below
 * cnt, the pass's columns, are stored. OCT channels (>= the layer's; the
 * packed weights are zero past them), NPV vectors of pixels per tile;
 * KH, KW, CI: the filter and input channels when known at compile time
 * (PNet's 3x3x3 stem: the tap loop unrolls whole), else 0. */
ALWAYS_INLINE void pool2_tile(const pl_conv_plan *p, const pool2_layout *L, const float *const *rows,
                              int e, int j0, int cnt, int first, float *mt, const int OCT, const int NPV,
                              const int KH, const int KW, const int CI)
{
    const pl_conv_shape *s = &p->s;
    const int kh = KH ? KH : s->kh, kw = KW ? KW : s->kw, C = CI ? CI : s->in_c, nb = p->nb;
    const size_t hw = (size_t)L->hw;
    vec acc[16][3];
#pragma GCC unroll 16
    for (int c = 0; c < OCT; c++)
#pragma GCC unroll 3
        for (int v = 0; v < NPV; v++) acc[c][v] = V_BCAST(p->bias + c);
#pragma GCC unroll 3
    for (int ky = 0; ky < kh; ky++) {
        const float *wk = p->w + (size_t)ky * kw * C * nb;
#pragma GCC unroll 3
        for (int kx = 0; kx < kw; kx++) {
            const float *pl = rows[ky] + (size_t)((e + kx) & 1) * hw + j0 + ((e + kx) >> 1);
#pragma GCC unroll 4
            for (int ci = 0; ci < C; ci++, wk += nb, pl += 2 * hw) {
                vec xv[3];
#pragma GCC unroll 3
                for (int v = 0; v < NPV; v++) xv[v] = V_LOAD(pl + v * VL);
#pragma GCC unroll 16
                for (int c = 0; c < OCT; c++) {
                    vec w = V_BCAST(wk + c);
#pragma GCC unroll 3
                    for (int v = 0; v < NPV; v++) acc[c][v] = V_FMA(xv[v], w, acc[c][v]);
                }
            }
        }
    }
    /* Read once: the vector stores below may alias anything, so gcc
     * reloaded p's fields and chose the activation again per vector. */
    const pl_epilogue *ep = &p->ep;
    const pl_act act = ep->act;
    const float *slope = p->slope;
    const int whole = cnt - j0 >= NPV * VL;
#pragma GCC unroll 16
    for (int c = 0; c < OCT; c++)
#pragma GCC unroll 3
        for (int v = 0; v < NPV; v++) {
            vec a = acc[c][v];
            /* tile_finish's activations, one channel per vector. */
            if (act == PL_ACT_PRELU) a = V_NEGSEL(a, V_BCAST(slope + c));
            else if (act == PL_ACT_RELU) a = V_MAX(a, V_ZERO());
            else if (act != PL_ACT_NONE) a = act_vec(a, ep, NULL);
            float *mp = mt + (size_t)(c * NPV + v) * VL;
            if (whole) {
                if (!first) a = V_MAX(V_LOAD(mp), a);
                V_STORE(mp, a);
                continue;
            }
            int n = cnt - (j0 + v * VL);
            if (n <= 0) continue;
            if (!first) a = V_MAX(n >= VL ? V_LOAD(mp) : V_LOAD_PART(mp, n), a);
            if (n >= VL) V_STORE(mp, a);
            else V_STORE_PART(mp, a, n);
        }
}

typedef void (*pool2_tile_fn)(const pl_conv_plan *, const pool2_layout *, const float *const *, int,
                              int, int, int, float *);

/* One pooled row, a tile at a time: the tile's passes (conv row 0 even,
 * row 0 odd, row 1 even, row 1 odd: pl_pool's order) into its maxima,
 * which stay in L1, then the pool's activation and the tile's pixels
 * into yr (NHWC). Tile by tile, the ring rows under a tile are read by
 * all its passes while in L1 (pass by pass, rows and maxima were more
 * than L1 holds). rows: ring rows 2*oy .. 2*oy + kh; nr: conv rows. */

ALWAYS_INLINE void pool2_pooled_row(const pl_conv_plan *p, const pool2_layout *L,
                                    const float *const *rows, int nr, int ce, int co,
                                    const pl_epilogue *pep, float *yr, int pw, const char *ahead,
                                    size_t ahead_bytes, pool2_tile_fn run_tile, const int tile,
                                    const int OC)
{
    const int C = OC ? OC : p->ocg, NPV = tile / VL;
    float mt[16 * 3 * VL] __attribute__((aligned(64)));
    /* The lines of ahead fetched before each pass: all by the row's end. */
    size_t step = (ahead_bytes / ((pw + tile - 1) / tile * 2 * nr) + 63) / 64 * 64;
    for (int j0 = 0; j0 < pw; j0 += tile) {
        for (int k = 0; k < 2 * nr; k++) {
            for (size_t b = 0; b < step && ahead_bytes; b += 64, ahead += 64, ahead_bytes -= 64)
                __builtin_prefetch(ahead, 0, 2);
            run_tile(p, L, rows + k / 2, k & 1, j0, k & 1 ? co : ce, k == 0, mt);
        }
        if (pep && pep->act != PL_ACT_NONE)
            for (int c = 0; c < C; c++)
                for (int v = 0; v < NPV; v++) {
                    float *mp = mt + (size_t)(c * NPV + v) * VL;
                    V_STORE(mp, act_vec(V_LOAD(mp), pep, NULL));
                }
        /* Channel rows back to pixels. */
        int n = pw - j0 < tile ? pw - j0 : tile, j = 0;
        float *yt = yr + (size_t)j0 * C;
#ifdef POOL2_PERMUTES
        for (; j + 16 <= n; j += 16) pool2_transpose_avx512(mt + j, tile, C, yt + (size_t)j * C);
#endif
        for (; j < n; j++)
            for (int c = 0; c < C; c++) yt[(size_t)j * C + c] = mt[(size_t)c * tile + j];
    }
}

/* The tile, out of line: one copy of its unrolled taps (inlined into
 * the pass loop, gcc copied it per pass; 27 KB of code). */
#define POOL2_FN(NAME, OCT, KH, KW, CI, OC)                                                     \
    static __attribute__((noinline)) void SUFFIX(pool2_tile_##NAME)(                           \
        const pl_conv_plan *p, const pool2_layout *L, const float *const *rows, int e, int j0,  \
        int cnt, int first, float *mt)                                                          \
    {                                                                                           \
        pool2_tile(p, L, rows, e, j0, cnt, first, mt, OCT, pool2_npv(OCT), KH, KW, CI);         \
    }                                                                                           \
    static void SUFFIX(pool2_##NAME)(const pl_conv_plan *p, const pool2_layout *L,             \
                                     const float *const *rows, int nr, int ce, int co,         \
                                     const pl_epilogue *pep, float *yr, int pw,                 \
                                     const char *ahead, size_t ahead_bytes)                     \
    {                                                                                           \
        pool2_pooled_row(p, L, rows, nr, ce, co, pep, yr, pw, ahead, ahead_bytes,               \
                         SUFFIX(pool2_tile_##NAME), pool2_npv(OCT) * VL, OC);                   \
    }
POOL2_FN(4, 4, 0, 0, 0, 0)
POOL2_FN(8, 8, 0, 0, 0, 0)
POOL2_FN(10, 10, 0, 0, 0, 0)
POOL2_FN(12, 12, 0, 0, 0, 0)
#if V_REGS > 16
POOL2_FN(16, 16, 0, 0, 0, 0)
#endif
/* PNet's stem: 3x3 taps of 3 channels, 10 output channels (the transpose
 * to pixels then drops its empty channel rows and branches). */
POOL2_FN(10_k3c3, 10, 3, 3, 3, 10)

typedef void (*pool2_fn)(const pl_conv_plan *, const pool2_layout *, const float *const *, int, int,
                         int, const pl_epilogue *, float *, int, const char *, size_t);

/* The register tile for ocg channels: the smallest instantiated count
 * that holds them (0: none). */
static int SUFFIX(pool2_oct)(int ocg, pool2_fn *fn)
{
    static const int octs[] = {4, 8, 10, 12, 16};
    static const pool2_fn fns[] = {SUFFIX(pool2_4), SUFFIX(pool2_8), SUFFIX(pool2_10), SUFFIX(pool2_12),
#if V_REGS > 16
                                   SUFFIX(pool2_16)
#else
                                   NULL
#endif
    };
    for (int i = 0; i < 5; i++)
        if (ocg <= octs[i] && fns[i]) {
            if (fn) *fn = fns[i];
            return octs[i];
        }
    return 0;
}

size_t SUFFIX(pl_conv_pool2_floats)(const pl_conv_plan *p)
{
    int oct = SUFFIX(pool2_oct)(p->ocg, NULL);
    if (!oct || oct > p->nb || p->s.kh + 1 > POOL2_ROWS_MAX) return 0;
    return SUFFIX(pool2_layout_of)(p, oct).ring;
}

/* Pooled rows [o0, o1) of one item (kernels.h, pl_conv_plan_run_pool2). */
void SUFFIX(pl_conv_pool2)(const pl_conv_plan *p, const pl_pool_shape *ps, const pl_epilogue *pep,
                           const float *x, float *y, int o0, int o1, float *scratch)
{
    const pl_conv_shape *s = &p->s;
    pool2_fn fn = NULL;
    int oct = SUFFIX(pool2_oct)(p->ocg, &fn);
    if (p->ocg == 10 && s->kh == 3 && s->kw == 3 && s->in_c == 3) fn = SUFFIX(pool2_10_k3c3);
    pool2_layout L = SUFFIX(pool2_layout_of)(p, oct);
    float *ring = scratch;
    const int pw = ps->out_w, C = p->ocg;
    const size_t slot = (size_t)s->in_c * 2 * L.hw;
    /* Columns of each parity under a pooled column (VALID drops a last
     * odd convolution column; SAME keeps a last window of one column). */
    int ce = (s->out_w + 1) / 2 < pw ? (s->out_w + 1) / 2 : pw;
    int co = s->out_w / 2 < pw ? s->out_w / 2 : pw;
    int next = -1; /* input rows [.., next) are in the ring */
    for (int oy = o0; oy < o1; oy++) {
        int r0 = 2 * oy, nr = r0 + 1 < s->out_h ? 2 : 1;
        int need = r0 + nr + s->kh - 1;
        for (int iy = next > r0 ? next : r0; iy < need; iy++) SUFFIX(pool2_split_row)(p, &L, x, iy, ring);
        next = need;
        const float *rows[POOL2_ROWS_MAX];
        for (int i = 0; i < L.rows; i++) rows[i] = ring + (size_t)((r0 + i) % L.rows) * slot;
        /* The input rows the next pooled row splits, fetched into L2
         * while this one computes (from memory, the split waited on them:
         * a 1280x960 image is more than L2 holds). */
        int ahead_end = need + 2 < s->in_h ? need + 2 : s->in_h;
        const float *ahead = x + (size_t)need * s->in_w * s->in_c;
        size_t ahead_bytes = need < ahead_end ? (size_t)(ahead_end - need) * s->in_w * s->in_c * sizeof(float) : 0;
        fn(p, &L, rows, nr, ce, co, pep, y + (size_t)oy * pw * C, pw, (const char *)ahead, ahead_bytes);
    }
}

/* ---- depthwise, channel multiplier 1 ------------------------------------ */

#define DW_NV 4

/* One output pixel, all channels: DW_NV vectors at a time for
 * independent accumulations, then a vector at a time for the tail. */
ALWAYS_INLINE void dw_pixel(const pl_conv_plan *p, const float *xb, ptrdiff_t x0,
                            int ky0, int ky1, int kx0, int kx1, float *yp, int c)
{
    const pl_conv_shape *s = &p->s;
    const int C = s->in_c;
    const ptrdiff_t xdy = (ptrdiff_t)s->dilation_h * s->in_w * C, xdx = (ptrdiff_t)s->dilation_w * C;
    int cpad = (C + VL - 1) / VL * VL;
    for (; c + DW_NV * VL <= C; c += DW_NV * VL) {
        vec acc[DW_NV];
#pragma GCC unroll 4
        for (int j = 0; j < DW_NV; j++) acc[j] = V_LOAD(p->bias + c + j * VL);
        for (int ky = ky0; ky < ky1; ky++) {
            for (int kx = kx0; kx < kx1; kx++) {
                const float *xp = xb + (x0 + ky * xdy + kx * xdx + c);
                const float *wp = p->w + (size_t)(ky * s->kw + kx) * cpad + c;
#pragma GCC unroll 4
                for (int j = 0; j < DW_NV; j++)
                    acc[j] = V_FMA(V_LOAD(xp + j * VL), V_LOAD(wp + j * VL), acc[j]);
            }
        }
#pragma GCC unroll 4
        for (int j = 0; j < DW_NV; j++)
            if (p->ep.act != PL_ACT_NONE)
                acc[j] = act_vec(acc[j], &p->ep, p->slope ? p->slope + c + j * VL : NULL);
        store_pixel(yp + c, acc, DW_NV, DW_NV * VL, &p->ep, c);
    }
    for (; c < C; c += VL) {
        int n = C - c < VL ? C - c : VL;
        vec acc = V_LOAD(p->bias + c);
        for (int ky = ky0; ky < ky1; ky++) {
            for (int kx = kx0; kx < kx1; kx++) {
                const float *xp = xb + (x0 + ky * xdy + kx * xdx + c);
                const float *wp = p->w + (size_t)(ky * s->kw + kx) * cpad + c;
                vec xv = n == VL ? V_LOAD(xp) : V_LOAD_PART(xp, n);
                acc = V_FMA(xv, V_LOAD(wp), acc);
            }
        }
        if (p->ep.act != PL_ACT_NONE)
            acc = act_vec(acc, &p->ep, p->slope ? p->slope + c : NULL);
        store_pixel(yp + c, &acc, 1, n, &p->ep, c);
    }
}

/* Pixels per depthwise tile: DWT_P * V accumulators must cover the FMA
 * latency (4 cycles, 2 units: 8 chains) when V = 1 (C = 16 on AVX-512:
 * fr_detect's 120x160 layer), and fit the registers with V = 2. */
#if V_REGS > 16
#define DWT_P 8
#else
#define DWT_P 4
#endif

/* DWT_P interior pixels of one row x V channel vectors: each weight vector
 * is loaded once for DWT_P pixels, and the DWT_P * V accumulators hide the
 * FMA latency. V = 2 for the bulk of the channels; V = 1 for a last full
 * vector (C = 16 on AVX-512, 48, ...), which would otherwise go one pixel
 * at a time through dw_pixel, one dependent FMA chain. */
ALWAYS_INLINE void dw_tile(const pl_conv_plan *p, const float *xb, ptrdiff_t x0,
                           int ky0, int ky1, float *yp, int c, const int V)
{
    const pl_conv_shape *s = &p->s;
    const int C = s->in_c;
    const ptrdiff_t xdy = (ptrdiff_t)s->dilation_h * s->in_w * C, xdx = (ptrdiff_t)s->dilation_w * C;
    const ptrdiff_t xpix = (ptrdiff_t)s->stride_w * C;
    int cpad = (C + VL - 1) / VL * VL;
    vec acc[DWT_P][2];
#pragma GCC unroll 8
    for (int i = 0; i < DWT_P; i++)
#pragma GCC unroll 2
        for (int j = 0; j < V; j++) acc[i][j] = V_LOAD(p->bias + c + j * VL);
    for (int ky = ky0; ky < ky1; ky++) {
        const float *wp = p->w + (size_t)ky * s->kw * cpad + c;
        const float *xp = xb + (x0 + ky * xdy + c);
        for (int kx = 0; kx < s->kw; kx++, wp += cpad, xp += xdx) {
            vec wv[2];
#pragma GCC unroll 2
            for (int j = 0; j < V; j++) wv[j] = V_LOAD(wp + j * VL);
            /* Pixel 3k+m at base[k] + m*xpix, as in tile_tap_strided: x86
             * addresses base + index*4 and base + index*8 directly, so
             * the 8 pixels need 3 bases and one index register; with a
             * register per pixel offset gcc runs out and keeps them in
             * vector registers, one move per FMA (C = 16: half the speed). */
            const float *base[(DWT_P + 2) / 3];
#pragma GCC unroll 3
            for (int k = 0; k < (DWT_P + 2) / 3; k++) base[k] = xp + 3 * k * xpix;
#pragma GCC unroll 8
            for (int i = 0; i < DWT_P; i++)
#pragma GCC unroll 2
                for (int j = 0; j < V; j++)
                    acc[i][j] = V_FMA(V_LOAD(base[i / 3] + (i % 3) * xpix + j * VL), wv[j], acc[i][j]);
        }
    }
#pragma GCC unroll 8
    for (int i = 0; i < DWT_P; i++) {
        if (p->ep.act != PL_ACT_NONE)
#pragma GCC unroll 2
            for (int j = 0; j < V; j++)
                acc[i][j] = act_vec(acc[i][j], &p->ep, p->slope ? p->slope + c + j * VL : NULL);
        store_pixel(yp + (size_t)i * C + c, acc[i], V, V * VL, &p->ep, c);
    }
}

static void SUFFIX(dw_tile_2)(const pl_conv_plan *p, const float *xb, ptrdiff_t x0, int ky0,
                              int ky1, float *yp, int c)
{
    dw_tile(p, xb, x0, ky0, ky1, yp, c, 2);
}

static void SUFFIX(dw_tile_1)(const pl_conv_plan *p, const float *xb, ptrdiff_t x0, int ky0,
                              int ky1, float *yp, int c)
{
    dw_tile(p, xb, x0, ky0, ky1, yp, c, 1);
}

/* 3x3 depthwise, dilation 1: a row's interior pixels for one block of V
 * channel vectors at a time, with the block's 9*V weight vectors loaded
 * into registers once per row instead of once per tile (with 16 channels
 * a tile of dw_tile reloads them, recomputes its tap addresses and runs
 * its epilogue for every 4 pixels: more instructions than FMAs). Tiles of
 * P pixels, then 4, 2, 1 for the rest. The taps and the order of the sums
 * (bias, then ky, then kx) are dw_tile's: bit-identical. */
#if V_REGS > 16
#define DW3_P1 8  /* pixels per tile with V = 1: 8 accumulator chains   */
#define DW3_V 2   /* 18 weight + 8 accumulator registers fit 32         */
#else
#define DW3_P1 4  /* 9 weights + 4 accumulators of 16 registers         */
#define DW3_V 1
#endif

/* S: the stride when it is 1 or 2, a constant: then each input pixel of
 * a filter row is loaded once and used for the up to 3 output pixels
 * whose windows hold it (input column c feeds pixel (c - kx) / S with
 * weight kx), instead of once per tap: (P-1)*S + 3 loads a row instead of
 * 3*P, the FMAs no longer waiting on one load each. Pixel i still gets
 * its taps in the order kx = 0, 1, 2 (c ascending), the same FMAs: the
 * same bits. S = 0: any stride, a load per FMA. */
ALWAYS_INLINE void dw3_tile(const float *xr, ptrdiff_t xdy, ptrdiff_t xpix, ptrdiff_t C,
                            int ky0, int ky1, const vec wv[3][3][2], const vec *bias,
                            const pl_epilogue *ep, const float *slope, float *yp, const int V,
                            const int P, const int S)
{
    vec acc[DW3_P1][2];
#pragma GCC unroll 8
    for (int i = 0; i < P; i++)
#pragma GCC unroll 2
        for (int j = 0; j < V; j++) acc[i][j] = bias[j];
#pragma GCC unroll 3
    for (int ky = 0; ky < 3; ky++) {
        if (ky < ky0 || ky >= ky1) continue;
        if (S) {
            const float *xrow = xr + ky * xdy;
#pragma GCC unroll 24
            for (int c = 0; c < (P - 1) * S + 3; c++) {
                vec xv[2];
#pragma GCC unroll 2
                for (int j = 0; j < V; j++) xv[j] = V_LOAD(xrow + c * C + j * VL);
#pragma GCC unroll 3
                for (int kx = 0; kx < 3; kx++) {
                    int d = c - kx, i = d / S;
                    if (d < 0 || d % S != 0 || i >= P) continue;
#pragma GCC unroll 2
                    for (int j = 0; j < V; j++) acc[i][j] = V_FMA(xv[j], wv[ky][kx][j], acc[i][j]);
                }
            }
            continue;
        }
#pragma GCC unroll 3
        for (int kx = 0; kx < 3; kx++) {
            /* Pixel 3k+m at base[k] + m*xpix (see tile_tap_strided): a
             * register per pixel offset would spill. */
            const float *base[(DW3_P1 + 2) / 3];
#pragma GCC unroll 3
            for (int k = 0; k < (P + 2) / 3; k++) base[k] = xr + ky * xdy + kx * C + 3 * k * xpix;
#pragma GCC unroll 8
            for (int i = 0; i < P; i++)
#pragma GCC unroll 2
                for (int j = 0; j < V; j++)
                    acc[i][j] = V_FMA(V_LOAD(base[i / 3] + (i % 3) * xpix + j * VL), wv[ky][kx][j],
                                      acc[i][j]);
        }
    }
#pragma GCC unroll 8
    for (int i = 0; i < P; i++)
#pragma GCC unroll 2
        for (int j = 0; j < V; j++) {
            vec a = acc[i][j];
            if (ep->act == PL_ACT_RELU) a = V_MAX(a, V_ZERO());
            else if (ep->act != PL_ACT_NONE) a = act_vec(a, ep, slope ? slope + j * VL : NULL);
            V_STORE(yp + i * C + j * VL, a);
        }
}

/* n interior pixels from window origin x0 (its offset in xb), output at
 * yp, channels [c, c + V*VL). */
ALWAYS_INLINE void dw3_span(const pl_conv_plan *p, const float *xb, ptrdiff_t x0, int ky0, int ky1,
                            float *yp, int n, int c, const int V, const int S)
{
    const pl_conv_shape *s = &p->s;
    const ptrdiff_t C = s->in_c, xdy = (ptrdiff_t)s->in_w * C, xpix = (ptrdiff_t)s->stride_w * C;
    const int cpad = (s->in_c + VL - 1) / VL * VL;
    const float *slope = p->slope ? p->slope + c : NULL;
    vec wv[3][3][2], bias[2];
#pragma GCC unroll 2
    for (int j = 0; j < V; j++) {
        bias[j] = V_LOAD(p->bias + c + j * VL);
#pragma GCC unroll 3
        for (int ky = 0; ky < 3; ky++)
#pragma GCC unroll 3
            for (int kx = 0; kx < 3; kx++)
                wv[ky][kx][j] = V_LOAD(p->w + (size_t)(ky * 3 + kx) * cpad + c + j * VL);
    }
    const float *xr = xb + x0 + c;
    float *yc = yp + c;
    const int PM = V == 1 ? DW3_P1 : 4;
    int i = 0;
    for (; i + PM <= n; i += PM)
        dw3_tile(xr + i * xpix, xdy, xpix, C, ky0, ky1, wv, bias, &p->ep, slope, yc + i * C, V, PM, S);
    if (PM > 4 && i + 4 <= n) {
        dw3_tile(xr + i * xpix, xdy, xpix, C, ky0, ky1, wv, bias, &p->ep, slope, yc + i * C, V, 4, S);
        i += 4;
    }
    if (i + 2 <= n) {
        dw3_tile(xr + i * xpix, xdy, xpix, C, ky0, ky1, wv, bias, &p->ep, slope, yc + i * C, V, 2, S);
        i += 2;
    }
    if (i < n) dw3_tile(xr + i * xpix, xdy, xpix, C, ky0, ky1, wv, bias, &p->ep, slope, yc + i * C, V, 1, S);
}

/* dw3_span_V: dw3_span for V channel vectors, its stride made a constant
 * (1, 2, or 0 for any other). */
#define DW3_SPAN_V(V)                                                                              \
    static void SUFFIX(dw3_span_##V)(const pl_conv_plan *p, const float *xb, ptrdiff_t x0, int ky0, \
                                     int ky1, float *yp, int n, int c)                            \
    {                                                                                              \
        switch (p->s.stride_w) {                                                                   \
        case 1: dw3_span(p, xb, x0, ky0, ky1, yp, n, c, V, 1); break;                              \
        case 2: dw3_span(p, xb, x0, ky0, ky1, yp, n, c, V, 2); break;                              \
        default: dw3_span(p, xb, x0, ky0, ky1, yp, n, c, V, 0); break;                             \
        }                                                                                          \
    }
DW3_SPAN_V(1)
#if DW3_V == 2
DW3_SPAN_V(2)
#endif
#undef DW3_SPAN_V

/* One output row of a 3x3 depthwise layer (dilation 1) through dw3_span:
 * the border pixels (taps in the padding) one at a time by dw_pixel. */
static void SUFFIX(dw3_row)(const pl_conv_plan *p, const float *xb, int oy, float *yrow)
{
    const pl_conv_shape *s = &p->s;
    const int C = s->in_c, cvec = C / VL * VL, cv2 = DW3_V == 2 ? C / (2 * VL) * (2 * VL) : 0;
    int iy0 = oy * s->stride_h - s->pad_top, ky0, ky1;
    tap_range(iy0, 1, 3, s->in_h, &ky0, &ky1);
    for (int ox = 0; ox < s->out_w; ox++) {
        if (ox == p->ox_lo && p->ox_hi > p->ox_lo) {
            int n = p->ox_hi - p->ox_lo;
            ptrdiff_t x0 = ((ptrdiff_t)iy0 * s->in_w + ox * s->stride_w - s->pad_left) * C;
            float *yp = yrow + (size_t)ox * C;
#if DW3_V == 2
            for (int c = 0; c < cv2; c += 2 * VL) SUFFIX(dw3_span_2)(p, xb, x0, ky0, ky1, yp, n, c);
#endif
            for (int c = cv2; c < cvec; c += VL) SUFFIX(dw3_span_1)(p, xb, x0, ky0, ky1, yp, n, c);
            if (cvec < C)
                for (int i = 0; i < n; i++)
                    dw_pixel(p, xb, x0 + i * (ptrdiff_t)s->stride_w * C, ky0, ky1, 0, 3,
                             yp + (size_t)i * C, cvec);
            ox = p->ox_hi - 1;
            continue;
        }
        int ix0 = ox * s->stride_w - s->pad_left, kx0, kx1;
        tap_range(ix0, 1, 3, s->in_w, &kx0, &kx1);
        dw_pixel(p, xb, ((ptrdiff_t)iy0 * s->in_w + ix0) * C, ky0, ky1, kx0, kx1,
                 yrow + (size_t)ox * C, 0);
    }
}

void SUFFIX(pl_conv_dw)(const pl_conv_plan *p, const float *x, float *y, int r0, int r1)
{
    const pl_conv_shape *s = &p->s;
    const int C = s->in_c, cfull = C / (2 * VL) * (2 * VL), cvec = C / VL * VL;
    size_t img_in = (size_t)s->in_h * s->in_w * s->in_c;
    size_t img_out = (size_t)s->out_h * s->out_w * s->out_c;
    const int dw3 = s->kh == 3 && s->kw == 3 && s->dilation_h == 1 && s->dilation_w == 1;
    for (int b = 0; b < s->n; b++) {
        const float *xb = x + b * img_in;
        for (int oy = r0; oy < r1; oy++) {
            int iy0 = oy * s->stride_h - s->pad_top, ky0, ky1;
            tap_range(iy0, s->dilation_h, s->kh, s->in_h, &ky0, &ky1);
            float *yrow = y + b * img_out + (size_t)oy * s->out_w * s->out_c;
            if (dw3) {
                SUFFIX(dw3_row)(p, xb, oy, yrow);
                continue;
            }
            for (int ox = 0; ox < s->out_w;) {
                int ix0 = ox * s->stride_w - s->pad_left;
                ptrdiff_t x0 = ((ptrdiff_t)iy0 * s->in_w + ix0) * s->in_c;
                float *yp = yrow + (size_t)ox * s->out_c;
                if (ox >= p->ox_lo && ox + DWT_P <= p->ox_hi && cvec > 0) {
                    for (int c = 0; c < cfull; c += 2 * VL) SUFFIX(dw_tile_2)(p, xb, x0, ky0, ky1, yp, c);
                    if (cfull < cvec) SUFFIX(dw_tile_1)(p, xb, x0, ky0, ky1, yp, cfull);
                    if (cvec < C)
                        for (int i = 0; i < DWT_P; i++)
                            dw_pixel(p, xb, x0 + i * (ptrdiff_t)s->stride_w * C, ky0, ky1, 0,
                                     s->kw, yp + (size_t)i * C, cvec);
                    ox += DWT_P;
                    continue;
                }
                int kx0, kx1;
                tap_range(ix0, s->dilation_w, s->kw, s->in_w, &kx0, &kx1);
                dw_pixel(p, xb, x0, ky0, ky1, kx0, kx1, yp, 0);
                ox++;
            }
        }
    }
}

/* ---- fully connected: a 1x1 convolution over m "pixels" ------------------ */

void SUFFIX(pl_fc)(const pl_fc_plan *p, int m, const float *x, float *y, int m0, int m1)
{
    for (int cb = 0; cb < p->n_nb; cb++) {
        int ch = cb * p->nb;
        tile_args a = {
            .x = x, .x0 = (ptrdiff_t)m0 * p->k, .xpix = p->k, .xdy = 0, .xdx = 0,
            .ky0 = 0, .ky1 = 1, .kx0 = 0, .kx1 = 1, .kw = 1, .icg = p->k,
            .w = p->w + (size_t)cb * p->k * p->nb,
            .bias = p->bias + (size_t)cb * p->nb,
            .slope = p->slope ? p->slope + (size_t)cb * p->nb : NULL,
            .ep = &p->ep,
            .y = y + (size_t)m0 * p->n + ch, .ypix = p->n,
            .nvalid = p->n - ch < p->nb ? p->n - ch : p->nb};
        if (m == 1) (p->nv == 2 ? SUFFIX(gemv_2) : SUFFIX(gemv_1))(&a);
        else SUFFIX(tile_run)(&a, m1 - m0, p->nv);
    }
}

/* ---- v_tanh over an array ------------------------------------------------ */

/* y[i] = v_tanh(x[i]): the activation the kernels' epilogues apply, for
 * bench/bench_tanh_check (its monotonicity over all floats is what lets a
 * max pool take tanh after the max: session.c, defer_tanh). */
void SUFFIX(pl_tanh_vec)(const float *x, float *y, size_t n)
{
    size_t i = 0;
    for (; i + VL <= n; i += VL) V_STORE(y + i, v_tanh(V_LOAD(x + i)));
    if (i < n) V_STORE_PART(y + i, v_tanh(V_LOAD_PART(x + i, (int)(n - i))), (int)(n - i));
}

/* ---- max / average pooling: channel vectors, windows clipped ------------- */

ALWAYS_INLINE vec pool_load(const float *p, int n) { return n == VL ? V_LOAD(p) : V_LOAD_PART(p, n); }

/* Max pooling of G output pixels with NB channel vectors each (MTCNN's
 * 28 to 64 channels), their windows starting at input column tx[g] and
 * kx columns wide, rows [y0, y1): the G * NB vectors go through the window
 * together, so their chains of maxima overlap instead of running one after
 * another (one pixel's 3x3 window alone is a chain of 9 dependent maxima
 * per vector). Each channel sees the same values in the same order as in
 * the generic loop (pl_pool), so the bits are the same. */
ALWAYS_INLINE void max_pool_group(const pl_pool_shape *s, size_t pitch, const float *xb,
                                  const pl_epilogue *ep, float *yp, const int *tx, int kx,
                                  int y0, int y1, const int NB, const int G)
{
    const int C = s->c, tail = C - (NB - 1) * VL;
    vec acc[8][4];
#pragma GCC unroll 8
    for (int g = 0; g < G; g++)
#pragma GCC unroll 4
        for (int j = 0; j < NB; j++) acc[g][j] = V_SET1(-INFINITY);
    for (int iy = y0; iy < y1; iy++) {
        const float *xr = xb + (size_t)iy * pitch;
        for (int ix = 0; ix < kx; ix++) {
#pragma GCC unroll 8
            for (int g = 0; g < G; g++) {
                const float *p = xr + (size_t)(tx[g] + ix) * C;
#pragma GCC unroll 4
                for (int j = 0; j < NB; j++)
                    acc[g][j] = V_MAX(acc[g][j], j < NB - 1 ? V_LOAD(p + j * VL) : pool_load(p + j * VL, tail));
            }
        }
    }
#pragma GCC unroll 8
    for (int g = 0; g < G; g++)
#pragma GCC unroll 4
        for (int j = 0; j < NB; j++) {
            if (ep->act != PL_ACT_NONE) acc[g][j] = act_vec(acc[g][j], ep, NULL);
            int n = j < NB - 1 ? VL : tail;
            float *y = yp + (size_t)g * C + j * VL;
            if (n == VL) V_STORE(y, acc[g][j]);
            else V_STORE_PART(y, acc[g][j], n);
        }
}

/* One output row of max pooling, NB channel vectors a pixel: runs of G
 * pixels whose windows lie inside the input's columns together, the
 * others (clipped windows) one at a time. G * NB = 6 to 8 chains of
 * maxima cover the latency of V_MAX on two ports. */
ALWAYS_INLINE void max_pool_pixels(const pl_pool_shape *s, size_t pitch, const float *xb,
                                   const pl_epilogue *ep, float *yrow, int y0, int y1, const int NB)
{
    const int G = NB == 1 ? 8 : NB == 2 ? 4 : 2;
    const int C = s->c, sw = s->stride_w;
    for (int ox = 0; ox < s->out_w;) {
        int tx = ox * sw - s->pad_left, txs[8];
        float *yp = yrow + (size_t)ox * C;
        if (ox + G <= s->out_w && tx >= 0 && tx + (G - 1) * sw + s->kw <= s->in_w) {
#pragma GCC unroll 8
            for (int g = 0; g < G; g++) txs[g] = tx + g * sw;
            max_pool_group(s, pitch, xb, ep, yp, txs, s->kw, y0, y1, NB, G);
            ox += G;
            continue;
        }
        int x0 = tx < 0 ? 0 : tx, x1 = tx + s->kw > s->in_w ? s->in_w : tx + s->kw;
        max_pool_group(s, pitch, xb, ep, yp, &x0, x1 > x0 ? x1 - x0 : 0, y0, y1, NB, 1);
        ox++;
    }
}

/* 2x2/2 max or average pooling, `count` output pixels whose windows lie
 * inside the input: rows x0 and x1, window origins 2*C floats apart. The
 * values are taken in the generic loop's order and way (max: from -inf,
 * V_MAX(running, new), so NaNs and signed zeros come out the same;
 * average: 0 + each value in turn, times 1/4), so the results are the
 * same bits; the activation is a constant here instead of a switch per
 * vector (fr_gender's ReLU'd 2x2 averages and tanh'd maxima went through
 * the generic loop at ~35 cycles a vector). */
ALWAYS_INLINE void pool2_span(const float *x0, const float *x1, int C, float *y, int count,
                              const pl_epilogue *ep, const int IS_MAX, const pl_act ACT)
{
    for (int i = 0; i < count; i++, x0 += 2 * C, x1 += 2 * C, y += C) {
        for (int c = 0; c < C; c += VL) {
            int n = C - c < VL ? C - c : VL;
            vec acc;
            if (IS_MAX) {
                acc = V_MAX(V_SET1(-INFINITY), pool_load(x0 + c, n));
                acc = V_MAX(acc, pool_load(x0 + C + c, n));
                acc = V_MAX(acc, pool_load(x1 + c, n));
                acc = V_MAX(acc, pool_load(x1 + C + c, n));
            } else {
                acc = V_ADD(V_ZERO(), pool_load(x0 + c, n));
                acc = V_ADD(acc, pool_load(x0 + C + c, n));
                acc = V_ADD(acc, pool_load(x1 + c, n));
                acc = V_ADD(acc, pool_load(x1 + C + c, n));
                acc = V_MUL(acc, V_SET1(0.25f));
            }
            if (ACT == PL_ACT_TANH) acc = v_tanh(acc);
            else if (ACT == PL_ACT_RELU) acc = V_MAX(acc, V_ZERO());
            else if (ACT != PL_ACT_NONE) acc = act_vec(acc, ep, NULL);
            if (n == VL) V_STORE(y + c, acc);
            else V_STORE_PART(y + c, acc, n);
        }
    }
}

static void SUFFIX(pool2_span_any)(const float *x0, const float *x1, int C, float *y, int count,
                                   const pl_epilogue *ep, int is_max)
{
#define POOL2_ACTS(M)                                                          \
    switch (ep->act) {                                                         \
    case PL_ACT_NONE: pool2_span(x0, x1, C, y, count, ep, M, PL_ACT_NONE); break; \
    case PL_ACT_TANH: pool2_span(x0, x1, C, y, count, ep, M, PL_ACT_TANH); break; \
    case PL_ACT_RELU: pool2_span(x0, x1, C, y, count, ep, M, PL_ACT_RELU); break; \
    default: pool2_span(x0, x1, C, y, count, ep, M, PL_ACT_PRELU); break; /* act_vec */ \
    }
    if (is_max) POOL2_ACTS(1)
    else POOL2_ACTS(0)
#undef POOL2_ACTS
}

void SUFFIX(pl_pool)(const pl_pool_shape *s, int in_pitch, const float *x,
                     const pl_epilogue *ep_in, float *y, int r0, int r1)
{
    static const pl_epilogue none = {PL_ACT_NONE, 0, 0, 0, NULL};
    const pl_epilogue *ep = ep_in ? ep_in : &none;
    const int C = s->c;
    const size_t pitch = (size_t)in_pitch * C;
    /* 2x2/2: the output columns whose windows lie inside the input run
     * through pool2_span (PReLU, which needs per-channel slopes that
     * act_vec gets NULL for here, excepted: the generic loop). */
    const int pool2 = s->kh == 2 && s->kw == 2 && s->stride_h == 2 && s->stride_w == 2 &&
                     ep->act != PL_ACT_PRELU;
    int m2_lo = 0, m2_hi = 0;
    if (pool2) {
        m2_lo = (s->pad_left + 1) / 2;
        m2_hi = (s->in_w - 2 + s->pad_left) / 2 + 1; /* 2*ox - pad + 2 <= in_w */
        if (m2_hi > s->out_w) m2_hi = s->out_w;
        if (m2_hi < m2_lo) m2_hi = m2_lo;
    }
    for (int b = 0; b < s->n; b++) {
        const float *xb = x + (size_t)b * s->in_h * pitch;
        for (int oy = r0; oy < r1; oy++) {
            int ty = oy * s->stride_h - s->pad_top;
            int y0 = ty < 0 ? 0 : ty, y1 = ty + s->kh > s->in_h ? s->in_h : ty + s->kh;
            float *yrow = y + ((size_t)b * s->out_h + oy) * s->out_w * C;
            /* A 2x2/2 row inside the input: pool2_span for its inside
             * windows, the generic loop for its borders, below (the same
             * maxima in the same order as max_pool_pixels). */
            int row2 = pool2 && m2_hi > m2_lo && ty >= 0 && ty + 2 <= s->in_h;
            if (s->is_max && C <= 4 * VL && !row2) {
                switch ((C + VL - 1) / VL) {
                case 1: max_pool_pixels(s, pitch, xb, ep, yrow, y0, y1, 1); break;
                case 2: max_pool_pixels(s, pitch, xb, ep, yrow, y0, y1, 2); break;
                case 3: max_pool_pixels(s, pitch, xb, ep, yrow, y0, y1, 3); break;
                default: max_pool_pixels(s, pitch, xb, ep, yrow, y0, y1, 4); break;
                }
                continue;
            }
            for (int ox = 0; ox < s->out_w; ox++) {
                if (row2 && ox == m2_lo) {
                    int tx = ox * 2 - s->pad_left;
                    SUFFIX(pool2_span_any)(xb + (size_t)ty * pitch + (size_t)tx * C,
                                           xb + (size_t)(ty + 1) * pitch + (size_t)tx * C, C,
                                           yrow + (size_t)ox * C, m2_hi - m2_lo, ep, s->is_max);
                    ox = m2_hi - 1;
                    continue;
                }
                int tx = ox * s->stride_w - s->pad_left;
                int x0 = tx < 0 ? 0 : tx, x1 = tx + s->kw > s->in_w ? s->in_w : tx + s->kw;
                int count = (y1 > y0 && x1 > x0) ? (y1 - y0) * (x1 - x0) : 0;
                if (s->count_include_pad) count = s->kh * s->kw;
                vec scale = V_SET1(count > 0 ? 1.0f / (float)count : 0.0f);
                float *yp = yrow + (size_t)ox * C;
                for (int c = 0; c < C; c += VL) {
                    int n = C - c < VL ? C - c : VL;
                    vec acc = s->is_max ? V_SET1(-INFINITY) : V_ZERO();
                    for (int iy = y0; iy < y1; iy++) {
                        const float *xr = xb + (size_t)iy * pitch + c;
                        for (int ix = x0; ix < x1; ix++) {
                            vec v = pool_load(xr + (size_t)ix * C, n);
                            acc = s->is_max ? V_MAX(acc, v) : V_ADD(acc, v);
                        }
                    }
                    if (!s->is_max) acc = V_MUL(acc, scale);
                    if (ep->act != PL_ACT_NONE) acc = act_vec(acc, ep, NULL);
                    store_pixel(yp + c, &acc, 1, n, ep, c);
                }
            }
        }
    }
}
