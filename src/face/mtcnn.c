#include "face/mtcnn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "engine/kernels.h"
#include "engine/session.h"
#include "engine/threadpool.h"
#include "face/preprocess.h"
#include "image/px_sse.h"
#include "formats/formats.h"
#include "pasalista.h"

#define PNET_STRIDE 2
#define PNET_CELL 12
#define PNET_STRIP 512     /* network-input rows per strip (even)          */
#define PNET_OVERLAP 10    /* rows two strips share so no cell is lost      */
#define STAGE_BATCH 256    /* RNet/ONet candidates per run                  */

struct pl_mtcnn {
    pl_graph *net[3];
    pl_session *sess[3];
    pl_threadpool *pool;   /* pyramid levels and stage crops, item by item */
    int64_t planned[3][4]; /* the input shape each session is planned for   */
    int pnet_logits;       /* PNet's class output is logits (pnet_outputs_logits) */
};

void pl_mtcnn_default_options(pl_mtcnn_options *opt)
{
    opt->min_face = 20;
    opt->threshold[0] = 0.6f;
    opt->threshold[1] = 0.7f;
    opt->threshold[2] = 0.7f;
    opt->factor = 0.709f;
    opt->max_candidates = 4000;
}

static pl_graph *load_net(const char *file, pl_error *err)
{
    char path[4096];
    if (pl_model_file_path(file, path, sizeof path, err) != PL_OK) return NULL;
    return pl_model_graph_load(path, err);
}

/* PNet's probabilities are needed only where they pass the stage's
 * threshold, a few cells in a hundred: its graph ends at the logits
 * instead (the SOFTMAX node then has no reader and is removed), and
 * pnet_level computes the probability, with the op's own arithmetic
 * (pl_softmax_pair), for the cells that may pass. *found says whether
 * the graph ended in a softmax (if not, its output is used as it is). */
static pl_status pnet_outputs_logits(pl_graph *g, int *found, pl_error *err)
{
    *found = 0;
    for (int i = 0; i < g->n_outputs; i++) {
        int n = pl_graph_producer(g, g->outputs[i]);
        if (n >= 0 && g->nodes[n].op == PL_OP_SOFTMAX) {
            g->outputs[i] = g->nodes[n].inputs[0];
            *found = 1;
        }
    }
    return *found ? pl_graph_optimize(g, err) : PL_OK;
}

float pl_mtcnn_logit_floor(float threshold)
{
    /* p(face) = 1 / (1 + exp(l0 - l1)) > t  <=>  l1 - l0 > log(t / (1 - t)).
     * The margin covers the rounding of expf, the sum and the division
     * (a few parts in 10^7) many times over. */
    if (!(threshold > 0.0f && threshold < 1.0f)) return -INFINITY;
    return logf(threshold / (1.0f - threshold)) - 0.01f;
}

pl_mtcnn *pl_mtcnn_new(int n_threads, pl_error *err)
{
    static const char *files[3] = {"expo/pnet.tflite", "expo/rnet.tflite", "expo/onet.tflite"};
    pl_mtcnn *m = calloc(1, sizeof *m);
    if (!m) {
        pl_fail(err, PL_ERR_NOMEM, "mtcnn: out of memory");
        return NULL;
    }
    if (!(m->pool = pl_threadpool_new(n_threads))) {
        pl_mtcnn_free(m);
        pl_fail(err, PL_ERR_NOMEM, "mtcnn: out of memory");
        return NULL;
    }
    for (int i = 0; i < 3; i++) {
        m->net[i] = load_net(files[i], err);
        if (!m->net[i] || (i == 0 && pnet_outputs_logits(m->net[0], &m->pnet_logits, err) != PL_OK) ||
            !(m->sess[i] = pl_session_new(m->net[i], n_threads, err))) {
            pl_mtcnn_free(m);
            return NULL;
        }
    }
    return m;
}

void pl_mtcnn_free(pl_mtcnn *m)
{
    if (!m) return;
    for (int i = 0; i < 3; i++) {
        pl_session_free(m->sess[i]);
        pl_graph_free(m->net[i]);
    }
    pl_threadpool_free(m->pool);
    free(m);
}

int pl_mtcnn_scales(int w, int h, int min_face, float factor, float *scales, int max)
{
    int n = 0;
    float short_side = (float)(w < h ? w : h);
    for (float face = (float)min_face; face <= short_side && n < max; face /= factor)
        scales[n++] = 12.0f / face;
    return n;
}

/* ---- boxes ---------------------------------------------------------------- */

static float box_area(const pl_mtcnn_box *b)
{
    return (b->x2 - b->x1 + 1) * (b->y2 - b->y1 + 1);
}

static int by_score_desc(const void *a, const void *b)
{
    float sa = ((const pl_mtcnn_box *)a)->score, sb = ((const pl_mtcnn_box *)b)->score;
    return (sa < sb) - (sa > sb);
}

/* fmaxf/fminf for box coordinates, which are finite: the same value
 * (where they are equal, either zero gives the same differences), without
 * the NaN rules that make gcc call libm for each one. MAXPS and MINPS
 * compute exactly these, operand order included. */
static inline float max_coord(float a, float b) { return a > b ? a : b; }
static inline float min_coord(float a, float b) { return a < b ? a : b; }

/* The boxes NMS compares, one array per coordinate (and the area), so
 * that eight boxes load as one vector. */
typedef struct nms_boxes {
    float *x1, *y1, *x2, *y2, *area;
} nms_boxes;

/* Whether boxes i and j overlap by threshold or more. */
static inline int overlaps(const nms_boxes *b, int i, int j, float threshold, int use_min)
{
    float ix1 = max_coord(b->x1[i], b->x1[j]), iy1 = max_coord(b->y1[i], b->y1[j]);
    float ix2 = min_coord(b->x2[i], b->x2[j]), iy2 = min_coord(b->y2[i], b->y2[j]);
    if (ix2 < ix1 || iy2 < iy1) return 0;
    float inter = (ix2 - ix1 + 1) * (iy2 - iy1 + 1);
    float ai = b->area[i], aj = b->area[j];
    float overlap = use_min ? inter / min_coord(ai, aj) : inter / (ai + aj - inter);
    return overlap >= threshold;
}

/* Marks gone every box of [from, n) that box i suppresses. */
static void suppress_from(const nms_boxes *b, int i, int from, int n, float threshold, int use_min,
                          char *gone)
{
    for (int j = from; j < n; j++)
        if (!gone[j] && overlaps(b, i, j, threshold, use_min)) gone[j] = 1;
}

/* Marks gone every box after i that box i suppresses. */
static void suppress_after(const nms_boxes *b, int i, int n, float threshold, int use_min, char *gone)
{
    suppress_from(b, i, i + 1, n, threshold, use_min, gone);
}

#if defined(__x86_64__) && defined(__GNUC__)
/* suppress_after eight boxes at a time: per lane the same operations in
 * the same order as overlaps(), so the same decisions. Marking a box
 * twice changes nothing, so no box is skipped for being gone already. */
__attribute__((target("avx2"))) static void suppress_after_avx2(const nms_boxes *b, int i, int n,
                                                                 float threshold, int use_min,
                                                                 char *gone)
{
    __m256 x1 = _mm256_set1_ps(b->x1[i]), y1 = _mm256_set1_ps(b->y1[i]);
    __m256 x2 = _mm256_set1_ps(b->x2[i]), y2 = _mm256_set1_ps(b->y2[i]);
    __m256 ai = _mm256_set1_ps(b->area[i]), one = _mm256_set1_ps(1.0f), thr = _mm256_set1_ps(threshold);
    int j = i + 1;
    for (; j + 8 <= n; j += 8) {
        __m256 ix1 = _mm256_max_ps(x1, _mm256_loadu_ps(b->x1 + j));
        __m256 iy1 = _mm256_max_ps(y1, _mm256_loadu_ps(b->y1 + j));
        __m256 ix2 = _mm256_min_ps(x2, _mm256_loadu_ps(b->x2 + j));
        __m256 iy2 = _mm256_min_ps(y2, _mm256_loadu_ps(b->y2 + j));
        __m256 meet = _mm256_and_ps(_mm256_cmp_ps(ix2, ix1, _CMP_NLT_US), _mm256_cmp_ps(iy2, iy1, _CMP_NLT_US));
        __m256 inter = _mm256_mul_ps(_mm256_add_ps(_mm256_sub_ps(ix2, ix1), one),
                                     _mm256_add_ps(_mm256_sub_ps(iy2, iy1), one));
        __m256 aj = _mm256_loadu_ps(b->area + j);
        __m256 overlap = use_min ? _mm256_div_ps(inter, _mm256_min_ps(ai, aj))
                                 : _mm256_div_ps(inter, _mm256_sub_ps(_mm256_add_ps(ai, aj), inter));
        int hit = _mm256_movemask_ps(_mm256_and_ps(meet, _mm256_cmp_ps(overlap, thr, _CMP_GE_OQ)));
        for (; hit; hit &= hit - 1) gone[j + __builtin_ctz((unsigned)hit)] = 1;
    }
    suppress_from(b, i, j, n, threshold, use_min, gone);
}
#endif

int pl_mtcnn_nms(pl_mtcnn_box *boxes, int n, float threshold, int use_min)
{
    if (n <= 0) return 0; /* boxes may be NULL: qsort must not see it */
    qsort(boxes, (size_t)n, sizeof *boxes, by_score_desc);
    char *gone = calloc((size_t)n + 1, 1);
    float *v = malloc(5 * (size_t)n * sizeof *v);
    if (!gone || !v) { /* keeping every box is safe, only slower */
        free(gone);
        free(v);
        return n;
    }
    nms_boxes b = {v, v + n, v + 2 * (size_t)n, v + 3 * (size_t)n, v + 4 * (size_t)n};
    for (int i = 0; i < n; i++) {
        b.x1[i] = boxes[i].x1;
        b.y1[i] = boxes[i].y1;
        b.x2[i] = boxes[i].x2;
        b.y2[i] = boxes[i].y2;
        b.area[i] = box_area(&boxes[i]);
    }
    void (*suppress)(const nms_boxes *, int, int, float, int, char *) = suppress_after;
#if defined(__x86_64__) && defined(__GNUC__)
    if (pl_cpu_features()->avx2_fma) suppress = suppress_after_avx2;
#endif
    for (int i = 0; i < n; i++)
        if (!gone[i]) suppress(&b, i, n, threshold, use_min, gone);
    int kept = 0;
    for (int i = 0; i < n; i++)
        if (!gone[i]) boxes[kept++] = boxes[i];
    free(gone);
    free(v);
    return kept;
}

/* Bounding-box regression: the net predicts corner offsets as fractions of
 * the box size (Box.calibrate). */
static void regress(pl_mtcnn_box *b)
{
    float w = b->x2 - b->x1 + 1, h = b->y2 - b->y1 + 1;
    b->x1 += w * b->reg[0];
    b->y1 += h * b->reg[1];
    b->x2 += w * b->reg[2];
    b->y2 += h * b->reg[3];
}

static void make_square(pl_mtcnn_box *b)
{
    float w = b->x2 - b->x1 + 1, h = b->y2 - b->y1 + 1, side = fmaxf(w, h);
    b->x1 += (w - side) * 0.5f;
    b->y1 += (h - side) * 0.5f;
    b->x2 = b->x1 + side - 1;
    b->y2 = b->y1 + side - 1;
}

/* ---- network inputs -------------------------------------------------------- */

static float normalize(float v) { return (v - 127.5f) * (1.0f / 128.0f); }

/* What every MTCNN stage is fed: RGB, (v-127.5)/128, transposed; the
 * crop is area-filtered when it shrinks (better boxes and landmarks on
 * ../shared/faces than the plain bilinear of the Android code). */
static void crop_transposed(const pl_image *img, const pl_mtcnn_box *b, int size, float *out)
{
    pl_input_spec spec = {size, size, 0, {127.5f, 127.5f, 127.5f},
                          {1 / 128.0f, 1 / 128.0f, 1 / 128.0f}, PL_LAYOUT_NWHC, 1};
    float m[6];
    pl_box_to_affine(b->x1, b->y1, b->x2, b->y2, size, size, m);
    pl_sample_affine(img, m, &spec, out);
}

/* ---- growing box lists ---------------------------------------------------- */

typedef struct box_list {
    pl_mtcnn_box *v;
    int n, cap;
} box_list;

static int push_box(box_list *l, const pl_mtcnn_box *b)
{
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 256;
        pl_mtcnn_box *bigger = realloc(l->v, (size_t)cap * sizeof *bigger);
        if (!bigger) return 0;
        l->v = bigger;
        l->cap = cap;
    }
    l->v[l->n++] = *b;
    return 1;
}

/* Plan a network for an input shape, unless it is planned for it already
 * (planning repacks weights; PNet sees the same strip shape many times). */
static pl_status plan_for(pl_mtcnn *m, int net, int batch, int rows, int cols, pl_error *err)
{
    int64_t dims[4] = {batch, rows, cols, 3};
    if (!memcmp(m->planned[net], dims, sizeof dims)) return PL_OK;
    pl_status st = pl_session_set_input_shape(m->sess[net], 0, 4, dims, err);
    if (st == PL_OK) memcpy(m->planned[net], dims, sizeof dims);
    else memset(m->planned[net], 0, sizeof m->planned[net]);
    return st;
}

/* Which graph output carries what: PNet/RNet/ONet list probabilities first
 * in the file but we look them up by their last dimension to be safe. */
static const float *output_with_last_dim(pl_session *s, int n_outputs, int last, int *rank, int64_t *dims)
{
    for (int i = 0; i < n_outputs; i++) {
        const float *p = pl_session_output(s, i, rank, dims);
        if (p && dims[*rank - 1] == last) return p;
    }
    return NULL;
}

/* ---- stage 1: PNet over the pyramid ----------------------------------------- */

/* Columns [c0, c0 + rows) of a level, normalised and transposed: the
 * network's row x is image column c0 + x (transpose_in below). */

#ifdef __SSE2__
/* One pixel normalised as normalize() does, from one 4-byte load and with
 * one 4-float store: lane 3 (the next byte) lands on the next pixel's
 * first float, which is written after it. So the caller must know a byte
 * follows the pixel and that a pixel is stored after this one. */
static inline void normalize_px4(const uint8_t *src, float *dst)
{
    __m128 f = pl_px4_ps(src);
    _mm_storeu_ps(dst, _mm_mul_ps(_mm_sub_ps(f, _mm_set1_ps(127.5f)), _mm_set1_ps(1.0f / 128.0f)));
}
#endif

static void transpose_in(const pl_image *lvl, int c0, int rows, float *in)
{
    int lw = lvl->w, lh = lvl->h, ch = lvl->c;
    size_t src_stride = (size_t)lw * ch;
    /* One network row (an image column) at a time: its floats are written
     * in one run, and the image rows it reads stay in L2 for the next
     * columns. (Bands of 16 image rows across all columns wrote to 512
     * places 9 KB apart and cost ~25% more.) */
    for (int x = 0; x < rows; x++) {
        const uint8_t *src = lvl->px + (size_t)(c0 + x) * ch;
        float *dst = in + (size_t)x * lh * 3;
        int y = 0;
#ifdef __SSE2__
        /* Rows but the level's last: the next image row follows the pixel,
         * and pixel y + 1 of this network row is stored next. */
        for (; y + 1 < lh; y++, src += src_stride, dst += 3) normalize_px4(src, dst);
#endif
        for (; y < lh; y++, src += src_stride, dst += 3) {
            dst[0] = normalize(src[0]);
            dst[1] = normalize(src[1]);
            dst[2] = normalize(src[2]);
        }
    }
}

/* Run PNet over one level in strips of image columns (the network's rows,
 * since its input is transposed) and collect cells above threshold. */
static pl_status pnet_level(pl_mtcnn *m, const pl_image *lvl, float scale,
                            float threshold, box_list *out, pl_error *err)
{
    pl_session *s = m->sess[0];
    int n_out = m->net[0]->n_outputs, lw = lvl->w, lh = lvl->h;
    float floor = pl_mtcnn_logit_floor(threshold);
    for (int c0 = 0; c0 + PNET_CELL <= lw; c0 += PNET_STRIP - PNET_OVERLAP) {
        int rows = lw - c0 < PNET_STRIP ? lw - c0 : PNET_STRIP;
        if (plan_for(m, 0, 1, rows, lh, err) != PL_OK) return err ? err->code : PL_ERR_INTERNAL;
        transpose_in(lvl, c0, rows, pl_session_input(s, 0));
        if (pl_session_run(s, err) != PL_OK) return err ? err->code : PL_ERR_INTERNAL;
        int rank;
        int64_t pd[PL_MAX_RANK], rd[PL_MAX_RANK];
        const float *cls = output_with_last_dim(s, n_out, 2, &rank, pd);
        const float *reg = output_with_last_dim(s, n_out, 4, &rank, rd);
        if (!cls || !reg || rank != 4)
            return pl_fail(err, PL_ERR_FORMAT, "pnet: unexpected outputs");
        int ow = (int)pd[1], oh = (int)pd[2];
        int last = c0 + rows >= lw;
        int keep_rows = last ? ow : (rows - PNET_OVERLAP) / PNET_STRIDE;
        for (int a = 0; a < keep_rows && a < ow; a++) {
            for (int b = 0; b < oh; b++) {
                size_t k = (size_t)a * oh + b;
                float l0 = cls[k * 2], l1 = cls[k * 2 + 1], p0, score = l1;
                if (m->pnet_logits) {
                    if (l1 - l0 <= floor) continue; /* its probability is below threshold */
                    pl_softmax_pair(l0, l1, &p0, &score);
                }
                if (score <= threshold) continue;
                float x = (float)(c0 / PNET_STRIDE + a), y = (float)b;
                pl_mtcnn_box box = {0};
                box.x1 = roundf(x * PNET_STRIDE / scale);
                box.y1 = roundf(y * PNET_STRIDE / scale);
                box.x2 = roundf((x * PNET_STRIDE + PNET_CELL - 1) / scale);
                box.y2 = roundf((y * PNET_STRIDE + PNET_CELL - 1) / scale);
                box.score = score;
                memcpy(box.reg, reg + k * 4, sizeof box.reg);
                if (!push_box(out, &box)) return pl_fail(err, PL_ERR_NOMEM, "mtcnn: out of memory");
            }
        }
        if (last) break;
    }
    return PL_OK;
}

/* The pyramid: every level shrunk from the photo itself. Each thread makes
 * every n-th level in one pass over the photo's rows (pl_image_shrink_many). */
typedef struct pyramid {
    const pl_image *img;
    int n_levels, n_groups;
    const int *w, *h;
    pl_image *lvl;
    pl_status *st;
    pl_error *errs;
} pyramid;

static void pyramid_task(void *c, int t0, int t1)
{
    pyramid *p = c;
    for (int g = t0; g < t1; g++) {
        int w[64], h[64], idx[64], n = 0;
        pl_image made[64];
        for (int i = g; i < p->n_levels; i += p->n_groups, n++) {
            idx[n] = i;
            w[n] = p->w[i];
            h[n] = p->h[i];
        }
        p->st[g] = pl_image_shrink_many(p->img, n, w, h, made, &p->errs[g]);
        for (int k = 0; k < n; k++) p->lvl[idx[k]] = made[k];
    }
}

static pl_status stage_pnet(pl_mtcnn *m, const pl_image *img, const pl_mtcnn_options *opt,
                            box_list *all, pl_error *err)
{
    float scales[64];
    int n_scales = pl_mtcnn_scales(img->w, img->h, opt->min_face, opt->factor, scales, 64);
    /* Each level is shrunk from the photo itself with an area filter, so
     * small faces survive big reductions without aliasing. (Shrinking each
     * level from the previous one is cheaper, but measurably changed which
     * borderline faces were recognised on ../shared/faces.) */
    int lw[64], lh[64], n_levels = 0; /* the levels PNet's 12-pixel cell fits */
    for (; n_levels < n_scales; n_levels++) {
        lw[n_levels] = (int)ceilf(img->w * scales[n_levels]);
        lh[n_levels] = (int)ceilf(img->h * scales[n_levels]);
        if (lw[n_levels] < PNET_CELL || lh[n_levels] < PNET_CELL) break;
    }
    pl_image lvl[64];
    pl_status lst[64];
    memset(lvl, 0, sizeof lvl);
    int n_groups = pl_threadpool_size(m->pool);
    if (n_groups > n_levels) n_groups = n_levels;
    pl_error *lerr = calloc((size_t)n_groups + 1, sizeof *lerr); /* 1 KiB each: not on the stack */
    if (!lerr) return pl_fail(err, PL_ERR_NOMEM, "mtcnn: out of memory");
    pyramid py = {img, n_levels, n_groups, lw, lh, lvl, lst, lerr};
    pl_threadpool_run(m->pool, n_groups, pyramid_task, &py);
    pl_status st = PL_OK;
    for (int g = 0; g < n_groups && st == PL_OK; g++)
        if (lst[g] != PL_OK) {
            if (err) *err = lerr[g];
            st = lst[g];
        }
    free(lerr);
    for (int i = 0; i < n_levels && st == PL_OK; i++) {
        box_list level = {0};
        st = pnet_level(m, &lvl[i], scales[i], opt->threshold[0], &level, err);
        if (st == PL_OK) {
            level.n = pl_mtcnn_nms(level.v, level.n, 0.5f, 0);
            for (int k = 0; k < level.n && st == PL_OK; k++)
                if (!push_box(all, &level.v[k])) st = pl_fail(err, PL_ERR_NOMEM, "mtcnn: out of memory");
        }
        free(level.v);
    }
    for (int i = 0; i < n_levels; i++) pl_image_free(&lvl[i]);
    if (st != PL_OK) return st;
    all->n = pl_mtcnn_nms(all->v, all->n, 0.7f, 0);
    for (int k = 0; k < all->n; k++) {
        regress(&all->v[k]);
        make_square(&all->v[k]);
    }
    return PL_OK;
}

/* ---- stages 2 and 3: RNet and ONet on crops, in batches ------------------- */

typedef struct crop_batch {
    const pl_image *img;
    const pl_mtcnn_box *boxes;
    int size;
    float *in;
    const int *order; /* crops in this order: top to bottom in the photo */
} crop_batch;

static void crop_task(void *c, int t0, int t1)
{
    crop_batch *b = c;
    for (int k = t0; k < t1; k++) {
        int i = b->order[k];
        crop_transposed(b->img, &b->boxes[i], b->size, b->in + (size_t)i * b->size * b->size * 3);
    }
}

/* Candidates come sorted by score, scattered over the photo; cropping them
 * top to bottom lets neighbours (they overlap a lot) find the photo's rows
 * still in cache. Each crop still lands in its own slot. */
typedef struct crop_key {
    float y, x;
    int i;
} crop_key;

static int by_position(const void *a, const void *b)
{
    const crop_key *p = a, *q = b;
    if (p->y != q->y) return p->y < q->y ? -1 : 1;
    if (p->x != q->x) return p->x < q->x ? -1 : 1;
    return p->i - q->i;
}

static void crop_order(const pl_mtcnn_box *boxes, int n, int *order)
{
    crop_key keys[STAGE_BATCH];
    for (int i = 0; i < n; i++) keys[i] = (crop_key){boxes[i].y1, boxes[i].x1, i};
    qsort(keys, (size_t)n, sizeof *keys, by_position);
    for (int i = 0; i < n; i++) order[i] = keys[i].i;
}

static pl_status refine(pl_mtcnn *m, int net, const pl_image *img, box_list *boxes,
                        float threshold, pl_error *err)
{
    int size = net == 1 ? 24 : 48;
    pl_session *s = m->sess[net];
    int n_out = m->net[net]->n_outputs;
    int kept = 0;
    for (int start = 0; start < boxes->n; start += STAGE_BATCH) {
        int batch = boxes->n - start < STAGE_BATCH ? boxes->n - start : STAGE_BATCH;
        if (plan_for(m, net, batch, size, size, err) != PL_OK) return err ? err->code : PL_ERR_INTERNAL;
        int order[STAGE_BATCH];
        crop_order(boxes->v + start, batch, order);
        crop_batch cb = {img, boxes->v + start, size, pl_session_input(s, 0), order};
        pl_threadpool_run(m->pool, batch, crop_task, &cb);
        if (pl_session_run(s, err) != PL_OK) return err ? err->code : PL_ERR_INTERNAL;
        int rank;
        int64_t d[PL_MAX_RANK];
        const float *prob = output_with_last_dim(s, n_out, 2, &rank, d);
        const float *reg = output_with_last_dim(s, n_out, 4, &rank, d);
        const float *lm = net == 2 ? output_with_last_dim(s, n_out, 10, &rank, d) : NULL;
        if (!prob || !reg || (net == 2 && !lm))
            return pl_fail(err, PL_ERR_FORMAT, "%s: unexpected outputs", net == 1 ? "rnet" : "onet");
        for (int i = 0; i < batch; i++) {
            pl_mtcnn_box b = boxes->v[start + i];
            b.score = prob[i * 2 + 1];
            if (b.score < threshold) continue;
            memcpy(b.reg, reg + i * 4, sizeof b.reg);
            if (lm) {
                /* Landmarks are fractions of the box before regression. */
                float w = b.x2 - b.x1 + 1, h = b.y2 - b.y1 + 1;
                for (int j = 0; j < 5; j++) {
                    b.landmarks[2 * j] = b.x1 + lm[i * 10 + j] * w;
                    b.landmarks[2 * j + 1] = b.y1 + lm[i * 10 + j + 5] * h;
                }
            }
            boxes->v[kept++] = b; /* kept <= start + i: never overwrites unread boxes */
        }
    }
    boxes->n = kept;
    if (net == 1) {
        boxes->n = pl_mtcnn_nms(boxes->v, boxes->n, 0.7f, 0);
        for (int k = 0; k < boxes->n; k++) {
            regress(&boxes->v[k]);
            make_square(&boxes->v[k]);
        }
    } else {
        for (int k = 0; k < boxes->n; k++) regress(&boxes->v[k]);
        boxes->n = pl_mtcnn_nms(boxes->v, boxes->n, 0.7f, 1);
    }
    return PL_OK;
}

pl_status pl_mtcnn_detect(pl_mtcnn *m, const pl_image *img, const pl_mtcnn_options *opt,
                          pl_face **faces, int *n_faces, pl_error *err)
{
    pl_mtcnn_options defaults;
    if (!opt) {
        pl_mtcnn_default_options(&defaults);
        opt = &defaults;
    }
    *faces = NULL;
    *n_faces = 0;
    if (!img || !img->px || img->c < 3)
        return pl_fail(err, PL_ERR_ARG, "mtcnn: needs an RGB image");
    if (opt->min_face < 12)
        return pl_fail(err, PL_ERR_ARG, "mtcnn: minimum face size %d is below 12 pixels", opt->min_face);

    box_list boxes = {0};
    pl_status st = stage_pnet(m, img, opt, &boxes, err);
    if (st == PL_OK && boxes.n > opt->max_candidates) boxes.n = opt->max_candidates; /* sorted by score */
    if (getenv("PL_MTCNN_DEBUG")) fprintf(stderr, "mtcnn: %d candidates after pnet\n", boxes.n);
    if (st == PL_OK && boxes.n) st = refine(m, 1, img, &boxes, opt->threshold[1], err);
    if (getenv("PL_MTCNN_DEBUG")) fprintf(stderr, "mtcnn: %d after rnet\n", boxes.n);
    if (st == PL_OK && boxes.n) st = refine(m, 2, img, &boxes, opt->threshold[2], err);
    if (st == PL_OK && boxes.n) {
        *faces = malloc((size_t)boxes.n * sizeof **faces);
        if (!*faces) {
            st = pl_fail(err, PL_ERR_NOMEM, "mtcnn: out of memory");
        } else {
            for (int i = 0; i < boxes.n; i++) {
                pl_face *f = &(*faces)[i];
                f->x1 = boxes.v[i].x1;
                f->y1 = boxes.v[i].y1;
                f->x2 = boxes.v[i].x2;
                f->y2 = boxes.v[i].y2;
                f->score = boxes.v[i].score;
                memcpy(f->landmarks, boxes.v[i].landmarks, sizeof f->landmarks);
            }
            *n_faces = boxes.n;
        }
    }
    free(boxes.v);
    return st;
}
