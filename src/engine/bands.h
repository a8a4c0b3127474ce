/* bands.h — running a chain of layers band by band (bands.c).
 *
 * Owns: the row bookkeeping of a chain of spatial layers where each layer
 * reads only the one before it: which rows of every layer a band of the
 * last layer's output rows needs (with the halo rows a window reads), the
 * layout of the per-thread buffer those rows live in, and the loop that
 * computes them. The maps between the layers never go to memory: only a
 * band's rows (plus halo) of each are kept, small enough to stay in L2.
 * The session (session.c) decides which nodes form a chain and owns the
 * plans; a chain only borrows them.
 *
 * Every value is computed by the same kernel as in an unbanded run, each
 * row independently of which other rows are computed with it, so the
 * results are bit-identical. Rows that two consecutive bands both need
 * (the halo of a 3x3 window) are kept and moved up, not recomputed, as
 * long as one task runs the bands in order; a task starting mid-image
 * computes its halo afresh.
 */
#ifndef PL_BANDS_H
#define PL_BANDS_H

#include <stddef.h>

#include "engine/kernels.h"

#define PL_BAND_MAX 16 /* layers per chain */

typedef enum pl_band_kind {
    PL_BAND_CONV,  /* pl_conv_plan_run_item (run_wide when wide)            */
    PL_BAND_POOL,  /* pl_pool_run_pitch                                     */
    PL_BAND_POOL2, /* a convolution and its 2x2/2 max pool as one layer
                      (pl_conv_plan_run_pool2); first layer only            */
    PL_BAND_HEADS  /* 1x1 convolutions that all read the previous layer,
                      each to its own tensor; last layer only               */
} pl_band_kind;

typedef struct pl_band_layer {
    pl_band_kind kind;
    const pl_conv_plan *conv;  /* CONV, POOL2; HEADS: the heads merged into
                                  one plan (pl_conv_plan_run_split), or NULL */
    pl_pool_shape pool;        /* POOL, POOL2, with n = 1                    */
    pl_epilogue pool_ep;
    int n_heads;               /* HEADS: plans, outputs, channels of each    */
    const pl_conv_plan *head[PL_SPLIT_MAX];
    float *head_out[PL_SPLIT_MAX];
    int head_c[PL_SPLIT_MAX];
    size_t head_img[PL_SPLIT_MAX]; /* floats of one item of each output     */
    /* Rows: output row r reads input rows [r*stride - pad, r*stride - pad +
     * span), clipped to [0, in_h). */
    int in_h, out_h, stride, pad, span;
    int wide;                  /* CONV writing pl_conv_plan_run_wide rows
                                  (pitch in_w); the next layer is a POOL    */
    int pitch;                 /* pixels between output rows as kept        */
    size_t row_floats;         /* floats of one output row as kept          */
    float *out;                /* last layer but HEADS: its tensor          */
    size_t out_img;            /* floats of one item of it                  */
} pl_band_layer;

typedef struct pl_band_chain {
    int n;                     /* layers                                    */
    pl_band_layer layer[PL_BAND_MAX];
    size_t in_img;             /* floats of one item of the first input     */
    int band;                  /* rows of the last layer per band (a task)   */
    int bands;                 /* per item                                  */
    /* per-thread scratch: layer j's rows (j < n - 1) at buf_off[j], the
     * POOL2 kernel's own rows at pool2_off; floats in all */
    size_t buf_off[PL_BAND_MAX], pool2_off, scratch_floats;
} pl_band_chain;

/* Fill a layer's row geometry from its kind and plan/pool shape (after
 * kind, conv, pool, wide are set). */
void pl_band_layer_geometry(pl_band_layer *l);

/* Choose the band: fixed_band rows of the last layer when > 0, else the
 * most rows whose buffers together fit budget_bytes (at least one), and
 * lay out the scratch. Returns its floats per thread. */
size_t pl_band_chain_size(pl_band_chain *c, size_t budget_bytes, int fixed_band);

/* Tasks [t0, t1): band t % bands of item t / bands; in: the first layer's
 * input tensor (all items); scratch: this thread's scratch_floats. */
void pl_band_chain_run(const pl_band_chain *c, const float *in, int t0, int t1, float *scratch);

#endif
