#include "face/embedder.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/session.h"
#include "face/align.h"
#include "formats/formats.h"
#include "match/match.h"
#include "pasalista.h"
#include "util/clock.h"

#define MAX_BATCH 32

/* Preprocessing per network comes from ../shared/docs/MODELS.md and the
 * shipping code of each package. */
static const pl_embedder_spec specs[] = {
    {"mobilefacenet", "expo MobileFaceNet (TFLite), ArcFace-trained, 192-d",
     "expo/MobileFaceNet.tflite", NULL,
     {112, 112, 0, {127.5f, 127.5f, 127.5f}, {1 / 128.0f, 1 / 128.0f, 1 / 128.0f}, PL_LAYOUT_NHWC, 1},
     0.0f, 0, 0.48f, 0.38f, PL_CROP_ALIGNED},
    {"fr-feature", "faceplugin fr_feature (ONNX), InsightFace MobileFaceNet, 512-d",
     "faceplugin/fr_feature.onnx", NULL,
     {112, 112, 1, {127.0f, 127.0f, 127.0f}, {1 / 128.0f, 1 / 128.0f, 1 / 128.0f}, PL_LAYOUT_NCHW, 1},
     0.0f, 0, 0.40f, 0.30f, PL_CROP_ALIGNED},
    {"dlib-resnet", "face-api face_recognition (dlib ResNet-34, FaceNet-style metric learning), 128-d",
     "face-api/face_recognition_model-weights_manifest.json", "face_recognition",
     /* the graph applies face-api's (v - mean) / 255 itself: feed 0..255 */
     {150, 150, 0, {0, 0, 0}, {1, 1, 1}, PL_LAYOUT_NHWC, 1},
     0.0f, 0, 0.93f, 0.90f, PL_CROP_EYES_MOUTH_BOX},
    {"faceres", "Human faceres (HSE MobileNet, VGGFace2), 1024-d",
     "human/faceres.json", NULL,
     {224, 224, 1, {103.939f, 116.779f, 123.68f}, {1, 1, 1}, PL_LAYOUT_NHWC, 1},
     0.25f, -1, 0.75f, 0.65f, PL_CROP_ALIGNED},
};
static const int n_specs = (int)(sizeof specs / sizeof specs[0]);

struct pl_embedder {
    pl_embedder_spec spec;
    char onnx_path[4096];
    pl_graph *graph;
    pl_session *session;
    int output;              /* resolved output index                        */
    int dim;
    int planned_batch;
    int max_batch;           /* faces per run (see pl_embedder_new)          */
    double align_ms;         /* time spent cropping in the last run          */
};

const pl_embedder_spec *pl_embedder_specs(int *n)
{
    *n = n_specs;
    return specs;
}

/* Chosen by measurement on ../shared/faces (README, "Choosing the model"):
 * fr-feature separates genuine from impostor pairs best of the shipped
 * networks at about the same cost as MobileFaceNet. */
const char *pl_embedder_default_name(void) { return "fr-feature"; }

const pl_embedder_spec *pl_embedder_spec_of(const pl_embedder *e) { return &e->spec; }
int pl_embedder_dim(const pl_embedder *e) { return e->dim; }

/* A user's ONNX file: FaceNet (facenet-pytorch, 160, fixed standardisation
 * (v-127.5)/128) or ArcFace (InsightFace, 112, (v-127.5)/127.5), both RGB,
 * told apart by the declared input size. */
static pl_status user_onnx_spec(pl_embedder *e, pl_error *err)
{
    const pl_graph *g = e->graph;
    const pl_tensor *in = &g->tensors[g->inputs[0]];
    int side = in->rank == 4 ? (int)in->dims[2] : 0;
    pl_embedder_spec s = {"onnx", "user ONNX model", NULL, NULL,
                          {side, side, 0, {127.5f, 127.5f, 127.5f}, {0, 0, 0}, PL_LAYOUT_NCHW, 1},
                          0.0f, 0, 0.45f, 0.35f, PL_CROP_ALIGNED};
    if (side == 160) {
        s.summary = "user ONNX model (FaceNet-style, 160x160)";
        s.input.scale[0] = s.input.scale[1] = s.input.scale[2] = 1 / 128.0f;
        s.margin = 0.15f; /* facenet-pytorch crops the MTCNN box with a margin */
    } else if (side == 112) {
        s.summary = "user ONNX model (ArcFace-style, 112x112)";
        s.input.scale[0] = s.input.scale[1] = s.input.scale[2] = 1 / 127.5f;
    } else {
        return pl_fail(err, PL_ERR_UNSUPPORTED,
                       "%s: input is %dx%d; expected a FaceNet (160x160) or ArcFace (112x112) model",
                       e->onnx_path, side, side);
    }
    s.name = e->onnx_path;
    e->spec = s;
    return PL_OK;
}

static pl_status load_graph(pl_embedder *e, const char *name, pl_error *err)
{
    if (!strncmp(name, "onnx:", 5)) {
        snprintf(e->onnx_path, sizeof e->onnx_path, "%s", name + 5);
        e->graph = pl_model_graph_load(e->onnx_path, err);
        if (!e->graph) return err ? err->code : PL_ERR_FORMAT;
        return user_onnx_spec(e, err);
    }
    for (int i = 0; i < n_specs; i++) {
        if (strcmp(specs[i].name, name) != 0) continue;
        e->spec = specs[i];
        char path[4096];
        if (pl_model_file_path(specs[i].file, path, sizeof path, err) != PL_OK)
            return err ? err->code : PL_ERR_NOTFOUND;
        /* The loader recognises face-api manifests by name and builds
         * their architecture (spec.arch says which, for the reader). */
        e->graph = pl_model_graph_load(path, err);
        return e->graph ? PL_OK : (err ? err->code : PL_ERR_FORMAT);
    }
    char known[256] = "";
    for (int i = 0; i < n_specs; i++) {
        strncat(known, specs[i].name, sizeof known - strlen(known) - 1);
        strncat(known, ", ", sizeof known - strlen(known) - 1);
    }
    return pl_fail(err, PL_ERR_NOTFOUND, "unknown model '%s' (known: %sonnx:PATH)", name, known);
}

static pl_status plan(pl_embedder *e, int batch, pl_error *err)
{
    if (e->planned_batch == batch) return PL_OK;
    const pl_input_spec *in = &e->spec.input;
    int64_t dims[4] = {batch, in->h, in->w, 3};
    if (in->layout == PL_LAYOUT_NCHW) {
        dims[1] = 3;
        dims[2] = in->h;
        dims[3] = in->w;
    }
    pl_status st = pl_session_set_input_shape(e->session, 0, 4, dims, err);
    e->planned_batch = st == PL_OK ? batch : -1;
    return st;
}

/* The embedding is the output whose last dimension is largest when the
 * spec does not say (faceres has gender and age heads besides it). */
static pl_status resolve_output(pl_embedder *e, pl_error *err)
{
    if (plan(e, 1, err) != PL_OK) return err ? err->code : PL_ERR_INTERNAL;
    int best = -1, best_dim = 0;
    for (int i = 0; i < e->graph->n_outputs; i++) {
        const pl_tensor *t = &e->graph->tensors[e->graph->outputs[i]];
        int d = (int)t->dims[t->rank - 1];
        if (e->spec.output == i || (e->spec.output < 0 && d > best_dim)) {
            best = i;
            best_dim = d;
            if (e->spec.output == i) break;
        }
    }
    if (best < 0 || best_dim < 16)
        return pl_fail(err, PL_ERR_FORMAT, "%s: no embedding output", e->spec.name);
    e->output = best;
    e->dim = best_dim;
    return PL_OK;
}

pl_embedder *pl_embedder_new(const char *name, int n_threads, pl_error *err)
{
    pl_embedder *e = calloc(1, sizeof *e);
    if (!e) {
        pl_fail(err, PL_ERR_NOMEM, "embedder: out of memory");
        return NULL;
    }
    e->planned_batch = -1;
    /* Threads split a run by face, so with several a batch keeps them all
     * busy. With one, a batch only makes each layer's activations several
     * faces big, past the L2 cache: six fr-feature faces took 20.8-22.5 ms
     * in one run, 18.8-20.0 ms one by one (same embeddings). */
    e->max_batch = n_threads == 1 ? 1 : MAX_BATCH; /* n_threads <= 0: every core */
    if (load_graph(e, name, err) != PL_OK ||
        !(e->session = pl_session_new(e->graph, n_threads, err)) ||
        resolve_output(e, err) != PL_OK) {
        pl_embedder_free(e);
        return NULL;
    }
    return e;
}

void pl_embedder_free(pl_embedder *e)
{
    if (!e) return;
    pl_session_free(e->session);
    pl_graph_free(e->graph);
    free(e);
}

static int has_landmarks(const pl_face *f)
{
    for (int i = 0; i < 10; i++)
        if (f->landmarks[i] != 0) return 1;
    return 0;
}

/* face-api's FaceLandmarks.alignDlib: from the eye centres and the mouth
 * centre, a square of side mean(eye->mouth)/0.45 whose reference point
 * (the three points' centroid) sits at 50% across and 43% down. */
static void eyes_mouth_box(const pl_face *f, float box[4])
{
    const float *l = f->landmarks;
    float mx = (l[6] + l[8]) / 2, my = (l[7] + l[9]) / 2;
    float d = (hypotf(mx - l[0], my - l[1]) + hypotf(mx - l[2], my - l[3])) / 2;
    float size = d / 0.45f;
    float cx = (l[0] + l[2] + mx) / 3, cy = (l[1] + l[3] + my) / 3;
    box[0] = cx - 0.5f * size;
    box[1] = cy - 0.43f * size;
    box[2] = box[0] + size - 1;
    box[3] = box[1] + size - 1;
}

void pl_embedder_crop_map(const pl_embedder_spec *s, const pl_face *f, float m[6])
{
    int size = s->input.w;
    if (has_landmarks(f) && s->crop == PL_CROP_EYES_MOUTH_BOX) {
        float b[4];
        eyes_mouth_box(f, b);
        pl_box_to_affine(b[0], b[1], b[2], b[3], size, s->input.h, m);
        return;
    }
    if (has_landmarks(f)) {
        float tmpl[10], fwd[6];
        pl_face_template(size, s->margin, tmpl);
        if (pl_similarity_fit(f->landmarks, tmpl, 5, fwd) && pl_affine_invert(fwd, m)) return;
    }
    /* No landmarks: the square box, grown by the margin. */
    float cx = (f->x1 + f->x2) * 0.5f, cy = (f->y1 + f->y2) * 0.5f;
    float side = fmaxf(f->x2 - f->x1, f->y2 - f->y1) * (1 + 2 * s->margin);
    pl_box_to_affine(cx - side / 2, cy - side / 2, cx + side / 2 - 1, cy + side / 2 - 1, size,
                     s->input.h, m);
}

double pl_embedder_last_align_ms(const pl_embedder *e) { return e->align_ms; }

pl_status pl_embedder_run(pl_embedder *e, const pl_image *img, const pl_face *faces, int n,
                          float *out, pl_error *err)
{
    const pl_input_spec *in = &e->spec.input;
    size_t per_face = (size_t)in->w * in->h * 3;
    e->align_ms = 0;
    for (int start = 0; start < n; start += e->max_batch) {
        int batch = n - start < e->max_batch ? n - start : e->max_batch;
        if (plan(e, batch, err) != PL_OK) return err ? err->code : PL_ERR_INTERNAL;
        float *x = pl_session_input(e->session, 0);
        double t0 = pl_now_ms();
        for (int i = 0; i < batch; i++) {
            float m[6];
            pl_embedder_crop_map(&e->spec, &faces[start + i], m);
            pl_sample_affine(img, m, in, x + (size_t)i * per_face);
        }
        e->align_ms += pl_now_ms() - t0;
        if (pl_session_run(e->session, err) != PL_OK) return err ? err->code : PL_ERR_INTERNAL;
        int rank;
        int64_t dims[PL_MAX_RANK];
        const float *y = pl_session_output(e->session, e->output, &rank, dims);
        if (!y) return pl_fail(err, PL_ERR_INTERNAL, "%s: no output", e->spec.name);
        for (int i = 0; i < batch; i++) {
            float *row = out + (size_t)(start + i) * e->dim;
            memcpy(row, y + (size_t)i * e->dim, (size_t)e->dim * sizeof *row);
            pl_l2_normalize(row, e->dim);
        }
    }
    return PL_OK;
}
