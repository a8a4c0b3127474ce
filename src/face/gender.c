#include "face/gender.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/session.h"
#include "face/embedder.h"
#include "formats/formats.h"
#include "train/augment.h"
#include "train/model_file.h"
#include "util/fs.h"

#define MAX_BATCH 16

/* Preprocessing from ../shared/docs/MODELS.md §4, measured there and again
 * in README "Gender". */
static const pl_gender_spec specs[] = {
    /* HSE upstream: MTCNN box + 10 px, BGR minus the VGG mean (Human's raw
     * RGB costs ~3 points). */
    {"faceres", "Human faceres (HSE MobileNet-v1, VGGFace2 + gender head), 224, BGR - VGG mean",
     "human/faceres.json",
     {224, 224, 1, {103.939f, 116.779f, 123.68f}, {1, 1, 1}, PL_LAYOUT_NHWC, 1},
     0.0f, 10, 0, "gender_pred/Sigmoid", PL_GENDER_PROB},
    /* Human feeds (v/255-0.5)*2, which saturates it; raw BGR 0..255 works. */
    {"ssrnet", "Human gender-ssrnet-imdb (SSR-Net), 64, raw BGR 0..255",
     "human/gender-ssrnet-imdb.json",
     {64, 64, 1, {0, 0, 0}, {1, 1, 1}, PL_LAYOUT_NHWC, 1},
     0.1f, 0, 1, NULL, PL_GENDER_PROB},
    /* AgeGenderNet.ts: box +20 %, centred square, (v - mean RGB)/255 --
     * which pl_faceapi_load builds into the graph, so it is fed raw RGB
     * 0..255; softmax [0] = male. */
    {"face-api", "face-api age_gender (TinyXception), 112, RGB (graph normalises)",
     "face-api/age_gender_model-weights_manifest.json",
     {112, 112, 0, {0, 0, 0}, {1, 1, 1}, PL_LAYOUT_NHWC, 1},
     0.1f, 0, 1, "gender", PL_GENDER_SOFTMAX0},
    /* faceplugin: box ×1.4, ImageNet normalisation; fed BGR (the JS feeds
     * RGB; BGR is clearly better, MODELS.md). */
    {"fr-gender", "faceplugin fr_gender (SSR-Net, ONNX), 64, box x1.4, BGR ImageNet-normalised",
     "faceplugin/fr_gender.onnx",
     {64, 64, 1, {0.485f * 255, 0.456f * 255, 0.406f * 255},
      {1 / (0.229f * 255), 1 / (0.224f * 255), 1 / (0.225f * 255)}, PL_LAYOUT_NCHW, 1},
     0.2f, 0, 0, NULL, PL_GENDER_SSR},
};
static const int n_specs = (int)(sizeof specs / sizeof specs[0]);

struct pl_gender {
    char name[4096];
    const pl_gender_spec *spec;  /* pretrained, or NULL for a trained file  */
    pl_graph *graph;
    pl_session *session;
    int output;                  /* resolved output index                   */
    int planned_batch;
    tr_model trained;            /* a trained file                          */
    pl_embedder *features;       /* its frozen network (head)               */
    float *buf;                  /* inputs for the trained model            */
    pl_mtcnn *detector;          /* opened on first pl_gender_predict_photo */
    int threads;
};

const pl_gender_spec *pl_gender_specs(int *n)
{
    *n = n_specs;
    return specs;
}

const char *pl_gender_default_model(void) { return "faceres"; }

const char *pl_gender_model_at(int i, const char **summary)
{
    if (i < 0 || i >= n_specs) return NULL;
    if (summary) *summary = specs[i].summary;
    return specs[i].name;
}

const char *pl_gender_label(float p_male) { return p_male >= 0.5f ? "M" : "F"; }

const char *pl_gender_model_name(const pl_gender *g) { return g->name; }

static pl_status open_pretrained(pl_gender *g, const pl_gender_spec *s, pl_error *err)
{
    char path[4096];
    g->spec = s;
    if (pl_model_file_path(s->file, path, sizeof path, err) != PL_OK) return err ? err->code : PL_ERR_NOTFOUND;
    if (!(g->graph = pl_model_graph_load(path, err))) return err ? err->code : PL_ERR_FORMAT;
    if (!(g->session = pl_session_new(g->graph, g->threads, err))) return err ? err->code : PL_ERR_INTERNAL;
    g->output = 0;
    if (s->output) {
        g->output = -1;
        for (int i = 0; i < g->graph->n_outputs; i++)
            if (!strcmp(g->graph->tensors[g->graph->outputs[i]].name, s->output)) g->output = i;
        if (g->output < 0)
            return pl_fail(err, PL_ERR_FORMAT, "%s: no output named '%s'", path, s->output);
    }
    if (s->decode == PL_GENDER_SSR && g->graph->n_outputs != 9)
        return pl_fail(err, PL_ERR_FORMAT, "%s: %d outputs; SSR-Net's merge needs 9", path,
                       g->graph->n_outputs);
    return PL_OK;
}

static pl_status open_trained(pl_gender *g, const char *path, pl_error *err)
{
    if (tr_model_load(path, MAX_BATCH, &g->trained, err) != PL_OK) return err->code;
    tr_model *m = &g->trained;
    if (!strcmp(m->arch, "head")) {
        if (!(g->features = pl_embedder_new(m->feature, g->threads, err)))
            return pl_error_prefix(err, "%s: its feature network: ", path);
        if (pl_embedder_dim(g->features) != m->in_c)
            return pl_fail(err, PL_ERR_FORMAT, "%s: head reads %d features; %s gives %d", path,
                           m->in_c, m->feature, pl_embedder_dim(g->features));
    }
    g->buf = malloc((size_t)MAX_BATCH * m->in_c * m->in_h * m->in_w * sizeof(float));
    if (!g->buf) return pl_fail(err, PL_ERR_NOMEM, "%s: out of memory", path);
    return PL_OK;
}

pl_gender *pl_gender_open(const char *model, int threads, pl_error *err)
{
    pl_error local;
    if (!err) err = &local;
    if (!model || !*model) model = pl_gender_default_model();
    pl_gender *g = calloc(1, sizeof *g);
    if (!g) {
        pl_fail(err, PL_ERR_NOMEM, "gender: out of memory");
        return NULL;
    }
    snprintf(g->name, sizeof g->name, "%s", model);
    g->threads = threads > 0 ? threads : 1;
    g->planned_batch = -1;
    const pl_gender_spec *s = NULL;
    for (int i = 0; i < n_specs; i++)
        if (!strcmp(specs[i].name, model)) s = &specs[i];
    pl_status st;
    if (s) {
        st = open_pretrained(g, s, err);
    } else if (pl_file_exists(model) || strchr(model, '/') || strchr(model, '.')) {
        st = open_trained(g, model, err);
    } else {
        char known[256] = "";
        for (int i = 0; i < n_specs; i++) {
            strncat(known, specs[i].name, sizeof known - strlen(known) - 1);
            strncat(known, ", ", sizeof known - strlen(known) - 1);
        }
        st = pl_fail(err, PL_ERR_NOTFOUND,
                     "unknown gender model '%s' (known: %sor a trained model file)", model, known);
    }
    if (st != PL_OK) {
        pl_gender_close(g);
        return NULL;
    }
    return g;
}

void pl_gender_close(pl_gender *g)
{
    if (!g) return;
    pl_session_free(g->session);
    pl_graph_free(g->graph);
    tr_model_free(&g->trained);
    pl_embedder_free(g->features);
    pl_mtcnn_free(g->detector);
    free(g->buf);
    free(g);
}

void pl_gender_box_map(const pl_face *f, float margin, int margin_px, int square, int out_w,
                       int out_h, float m[6])
{
    float bw = f->x2 - f->x1, bh = f->y2 - f->y1;
    if (square) bw = bh = fmaxf(bw, bh);
    float cx = (f->x1 + f->x2) * 0.5f, cy = (f->y1 + f->y2) * 0.5f;
    float hw = bw * (0.5f + margin) + margin_px, hh = bh * (0.5f + margin) + margin_px;
    pl_box_to_affine(cx - hw, cy - hh, cx + hw - 1, cy + hh - 1, out_w, out_h, m);
}

pl_status pl_gender_face_crop(const pl_image *img, const pl_face *f, int side, float margin,
                              pl_image *out, pl_error *err)
{
    float m[6];
    pl_gender_box_map(f, margin, 0, 1, side, side, m);
    pl_input_spec spec = {side, side, 0, {0, 0, 0}, {1, 1, 1}, PL_LAYOUT_NHWC, 1};
    float *tmp = malloc((size_t)side * side * 3 * sizeof *tmp);
    if (!tmp || pl_image_new(side, side, 3, out, err) != PL_OK) {
        free(tmp);
        return tmp ? (err ? err->code : PL_ERR_NOMEM) : pl_fail(err, PL_ERR_NOMEM, "crop: out of memory");
    }
    pl_sample_affine(img, m, &spec, tmp);
    for (int i = 0; i < side * side * 3; i++) {
        float v = roundf(tmp[i]);
        out->px[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
    free(tmp);
    return PL_OK;
}

pl_face pl_face_mirror(const pl_face *f, int w)
{
    pl_face r = *f;
    r.x1 = (float)(w - 1) - f->x2; /* pixel centres: x -> w-1-x */
    r.x2 = (float)(w - 1) - f->x1;
    static const int swap[5] = {1, 0, 2, 4, 3}; /* eyes and mouth corners trade places */
    for (int i = 0; i < 5; i++) {
        int j = swap[i];
        r.landmarks[2 * i] = f->landmarks[2 * j] == 0 && f->landmarks[2 * j + 1] == 0
                                 ? 0
                                 : (float)(w - 1) - f->landmarks[2 * j];
        r.landmarks[2 * i + 1] = f->landmarks[2 * j + 1];
    }
    return r;
}

/* faceplugin's mergeGender(x, 3, 3, 3, 1, 1): SSR-Net's soft stagewise
 * regression; x = the nine outputs in order (3 probs ×3, 3 deltas, 3 index
 * offsets ×3). */
static float ssr_merge(const float *x)
{
    double a = 0, b = 0, c = 0;
    for (int i = 0; i < 3; i++) {
        a += (i + x[12 + i]) * x[i];
        b += (i + x[15 + i]) * x[3 + i];
        c += (i + x[18 + i]) * x[6 + i];
    }
    double d1 = 3 * (1 + x[9]), d2 = 3 * (1 + x[10]), d3 = 3 * (1 + x[11]);
    return (float)(a / d1 + b / d1 / d2 + c / d1 / d2 / d3);
}

static pl_status plan(pl_gender *g, int batch, pl_error *err)
{
    if (g->planned_batch == batch) return PL_OK;
    const pl_input_spec *in = &g->spec->input;
    int64_t dims[4] = {batch, in->h, in->w, 3};
    if (in->layout == PL_LAYOUT_NCHW) dims[1] = 3, dims[2] = in->h, dims[3] = in->w;
    pl_status st = pl_session_set_input_shape(g->session, 0, 4, dims, err);
    g->planned_batch = st == PL_OK ? batch : -1;
    return st;
}

static pl_status run_pretrained(pl_gender *g, const pl_image *img, const pl_face *faces, int n,
                                float *p, pl_error *err)
{
    const pl_gender_spec *s = g->spec;
    size_t per = (size_t)s->input.w * s->input.h * 3;
    for (int start = 0; start < n; start += MAX_BATCH) {
        int batch = n - start < MAX_BATCH ? n - start : MAX_BATCH;
        if (plan(g, batch, err) != PL_OK) return err ? err->code : PL_ERR_INTERNAL;
        float *x = pl_session_input(g->session, 0);
        for (int i = 0; i < batch; i++) {
            float m[6];
            pl_gender_box_map(&faces[start + i], s->margin, s->margin_px, s->square, s->input.w,
                              s->input.h, m);
            pl_sample_affine(img, m, &s->input, x + (size_t)i * per);
        }
        if (pl_session_run(g->session, err) != PL_OK) return err ? err->code : PL_ERR_INTERNAL;
        for (int i = 0; i < batch; i++) {
            int rank;
            int64_t dims[8];
            if (s->decode == PL_GENDER_SSR) {
                float v[21];
                int k = 0;
                for (int o = 0; o < 9; o++) {
                    const float *y = pl_session_output(g->session, o, &rank, dims);
                    int per_o = o < 3 || o >= 6 ? 3 : 1;
                    for (int j = 0; j < per_o; j++) v[k++] = y[(size_t)i * per_o + j];
                }
                p[start + i] = ssr_merge(v);
            } else {
                const float *y = pl_session_output(g->session, g->output, &rank, dims);
                int per_o = s->decode == PL_GENDER_SOFTMAX0 ? 2 : 1;
                p[start + i] = y[(size_t)i * per_o];
            }
            p[start + i] = fminf(1.0f, fmaxf(0.0f, p[start + i]));
        }
    }
    return PL_OK;
}

static void softmax_male(const float *z, int n, float *p)
{
    for (int i = 0; i < n; i++) {
        float d = z[2 * i] - z[2 * i + 1];   /* class 1 = M */
        p[i] = 1.0f / (1.0f + expf(d));
    }
}

static pl_status run_trained(pl_gender *g, const pl_image *img, const pl_face *faces, int n,
                             float *p, pl_error *err)
{
    tr_model *m = &g->trained;
    size_t per = (size_t)m->in_c * m->in_h * m->in_w;
    for (int start = 0; start < n; start += MAX_BATCH) {
        int batch = n - start < MAX_BATCH ? n - start : MAX_BATCH;
        if (g->features) {
            if (pl_embedder_run(g->features, img, faces + start, batch, g->buf, err) != PL_OK)
                return err ? err->code : PL_ERR_INTERNAL;
        } else {
            for (int i = 0; i < batch; i++) {
                pl_image crop = {0};
                if (pl_gender_face_crop(img, &faces[start + i], PL_GENDER_CROP_SIDE, m->margin,
                                        &crop, err) != PL_OK)
                    return err ? err->code : PL_ERR_NOMEM;
                tr_make_input(&crop, m->region, m->in_h, NULL, NULL, g->buf + (size_t)i * per);
                pl_image_free(&crop);
            }
        }
        softmax_male(tr_forward(&m->net, g->buf, batch, 0, NULL), batch, p + start);
    }
    return PL_OK;
}

pl_status pl_gender_run(pl_gender *g, const pl_image *img, const pl_face *faces, int n,
                        float *p_male, pl_error *err)
{
    if (n <= 0) return PL_OK;
    return g->spec ? run_pretrained(g, img, faces, n, p_male, err)
                   : run_trained(g, img, faces, n, p_male, err);
}

static int by_area_desc(const void *a, const void *b)
{
    const pl_face *fa = a, *fb = b;
    float sa = (fa->x2 - fa->x1) * (fa->y2 - fa->y1), sb = (fb->x2 - fb->x1) * (fb->y2 - fb->y1);
    return (sa < sb) - (sa > sb);
}

pl_status pl_gender_predict_photo(pl_gender *g, const char *path, pl_gender_face **out,
                                  int *n_out, pl_error *err)
{
    *out = NULL;
    *n_out = 0;
    if (!g->detector && !(g->detector = pl_mtcnn_new(g->threads, err))) return err ? err->code : PL_ERR_NOTFOUND;
    pl_image img = {0};
    double scale = 1;
    if (pl_image_load_max(path, 2048, &img, &scale, err) != PL_OK) return err ? err->code : PL_ERR_IO;
    pl_mtcnn_options opt;
    pl_mtcnn_default_options(&opt);
    pl_face *faces = NULL;
    int n = 0;
    pl_status st = pl_mtcnn_detect(g->detector, &img, &opt, &faces, &n, err);
    float *p = st == PL_OK && n ? malloc((size_t)n * sizeof *p) : NULL;
    pl_gender_face *res = n ? calloc((size_t)n, sizeof *res) : NULL;
    if (st == PL_OK && n && (!p || !res)) st = pl_fail(err, PL_ERR_NOMEM, "%s: out of memory", path);
    if (st == PL_OK && n) {
        qsort(faces, (size_t)n, sizeof *faces, by_area_desc);
        st = pl_gender_run(g, &img, faces, n, p, err);
    }
    if (st == PL_OK) {
        for (int i = 0; i < n; i++) {
            float inv = (float)(1.0 / scale);
            res[i] = (pl_gender_face){faces[i].x1 * inv, faces[i].y1 * inv, faces[i].x2 * inv,
                                      faces[i].y2 * inv, faces[i].score, p[i]};
        }
        *out = res;
        *n_out = n;
        res = NULL;
    } else {
        pl_error_prefix(err, "%s: ", path);
    }
    free(res);
    free(p);
    free(faces);
    pl_image_free(&img);
    return st;
}
