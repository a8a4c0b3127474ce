/* Tests for the TF.js readers: src/formats/tfjs.c (graph models),
 * faceapi.c (face-api weights + architectures built in C) and the weight
 * decoding they share (tfjs_weights.c).
 *
 * Goldens (tests/golden/tfjs/, from tools/golden/tfjs/gen.js): TF.js 4.22
 * wasm and face-api 1.7.15 outputs on two face crops of face-api's demo
 * photos. Every model must match with cosine >= 0.99999 and max abs error
 * <= 1e-4 x the output's range, with fast and reference kernels, at batch
 * 1 and 2. Models are read from models/ (make models); tests skip when
 * they are absent.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "test.h"
#include "golden.h"
#include "engine/graph.h"
#include "engine/session.h"
#include "formats/formats.h"
#include "formats/tfjs_internal.h"
#include "util/fs.h"
#include "util/json.h"

#define GOLDEN "tests/golden/tfjs"

static int npy_load(const char *file, npy *a) { return golden_npy_load(GOLDEN, file, a); }

/* ---- running and comparing ------------------------------------------------------- */
/* The float input each model sees, from the uint8 RGB crop (as gen.js). */
typedef enum prep { PREP_HSE, PREP_BGR, PREP_PM1, PREP_RGB, PREP_GREY } prep;

static float *prepare(const npy *crop, prep kind)
{
    float *x = malloc((size_t)crop->n * sizeof *x);
    if (kind == PREP_GREY) { /* one channel: (grey / 255 - 0.5) * 2 */
        for (int64_t i = 0; i < crop->n / 3; i++) {
            double y = 0.2989 * crop->data[3 * i] + 0.587 * crop->data[3 * i + 1] + 0.114 * crop->data[3 * i + 2];
            x[i] = (float)((y / 255 - 0.5) * 2);
        }
        return x;
    }
    static const double bgr_mean[3] = {103.939, 116.779, 123.68};
    for (int64_t i = 0; i < crop->n; i += 3)
        for (int c = 0; c < 3; c++) {
            double v = crop->data[i + c], bgr = crop->data[i + 2 - c];
            switch (kind) {
            case PREP_HSE: x[i + c] = (float)(bgr - bgr_mean[c]); break;
            case PREP_BGR: x[i + c] = (float)bgr; break;
            case PREP_PM1: x[i + c] = (float)(v / 127.5 - 1); break;
            default: x[i + c] = (float)v; break;
            }
        }
    return x;
}

typedef struct golden_case {
    const char *tag;    /* file stem in tests/golden/tfjs */
    int n_out;
    prep kind;
} golden_case;

/* Compare output k of a run at `batch` with the golden's first batch rows. */
static void compare(const golden_case *gc, int k, const float *y, int rank, const int64_t *dims,
                    int batch, const char *label)
{
    char file[128];
    snprintf(file, sizeof file, "%s_out%d.npy", gc->tag, k);
    npy want;
    CHECK_MSG(npy_load(file, &want), "%s unreadable", file);
    CHECK_MSG(rank == want.rank, "%s %s: rank %d, golden %d", gc->tag, label, rank, want.rank);
    CHECK_MSG(dims[0] == batch, "%s %s: batch %lld", gc->tag, label, (long long)dims[0]);
    for (int i = 1; i < rank; i++)
        CHECK_MSG(dims[i] == want.dims[i], "%s %s: output %d axis %d is %lld, golden %lld", gc->tag, label,
                  k, i, (long long)dims[i], (long long)want.dims[i]);
    int64_t n = want.n / want.dims[0] * batch;
    char what[160];
    snprintf(what, sizeof what, "%s output %d %s", gc->tag, k, label);
    /* golden_check may longjmp: keep the golden where the next call frees it */
    static float *keep;
    free(keep);
    keep = want.data;
    golden_check(what, y, want.data, n, want.data, n);
    free(keep);
    keep = NULL;
}

/* Runs g on the golden input (first `batch` crops) and compares outputs. */
static void run_golden(pl_graph *g, const golden_case *gc, pl_kernel_mode mode, int batch)
{
    char file[128], label[64];
    snprintf(file, sizeof file, "%s_in.npy", gc->tag);
    snprintf(label, sizeof label, "%s batch %d", mode == PL_KERNELS_FAST ? "fast" : "reference", batch);
    npy crop;
    CHECK_MSG(npy_load(file, &crop), "%s unreadable", file);
    float *x = prepare(&crop, gc->kind);
    int64_t ch = gc->kind == PREP_GREY ? 1 : crop.dims[3];
    int64_t dims[4] = {batch, crop.dims[1], crop.dims[2], ch};
    int64_t per = crop.dims[1] * crop.dims[2] * ch;
    free(crop.data);
    pl_error err = {0};
    pl_session *s = golden_session(g, mode, 2, 4, dims, &err);
    pl_status st = s ? golden_run(s, x, per * batch, &err) : err.code != PL_OK ? err.code : PL_ERR_NOMEM;
    free(x);
    if (st != PL_OK) pl_session_free(s);
    CHECK_MSG(st == PL_OK, "%s %s: %s", gc->tag, label, err.msg);
    CHECK_EQ_INT(g->n_outputs, gc->n_out);
    for (int k = 0; k < gc->n_out; k++) {
        int rank;
        int64_t od[PL_MAX_RANK];
        const float *y = pl_session_output(s, k, &rank, od);
        /* compare() may longjmp: copy what it needs and free the session first */
        int64_t n = 1;
        for (int i = 0; i < rank; i++) n *= od[i];
        float *copy = malloc((size_t)n * sizeof *copy + 1);
        memcpy(copy, y, (size_t)n * sizeof *copy);
        if (k == gc->n_out - 1) pl_session_free(s);
        static float *keep; /* freed on the next call if compare fails */
        free(keep);
        keep = copy;
        compare(gc, k, copy, rank, od, batch, label);
        free(copy);
        keep = NULL;
    }
}

static void golden_all(pl_graph *g, const golden_case *gc)
{
    for (int mode = 0; mode < 2; mode++)
        for (int batch = 1; batch <= 2; batch++)
            run_golden(g, gc, mode ? PL_KERNELS_REFERENCE : PL_KERNELS_FAST, batch);
}

static char model_path_buf[1024];
static const char *model_path(const char *rel)
{
    snprintf(model_path_buf, sizeof model_path_buf, "%s/%s", test_models_dir(), rel);
    return model_path_buf;
}

/* Loads a TF.js graph model and optimises it, as pl_model_graph_load does. */
static pl_graph *load_graph_model(const char *rel, int optimize)
{
    const char *p = model_path(rel);
    if (!pl_file_exists(p)) return NULL;
    pl_error err = {0};
    pl_graph *g = pl_tfjs_load(p, &err);
    if (!g) fprintf(stderr, "    %s\n", err.msg);
    if (g && optimize && pl_graph_optimize(g, &err) != PL_OK) {
        fprintf(stderr, "    optimize: %s\n", err.msg);
        pl_graph_free(g);
        return NULL;
    }
    return g;
}

static pl_graph *g_keep; /* freed by the next test if a CHECK jumped out */
static void keep_graph(pl_graph *g)
{
    pl_graph_free(g_keep);
    g_keep = g;
}

static void golden_graph_model(const char *rel, const golden_case *gc)
{
    keep_graph(NULL);
    if (!pl_file_exists(model_path(rel))) SKIP("%s not present (make models)", rel);
    pl_graph *g = load_graph_model(rel, 1);
    CHECK(g);
    keep_graph(g);
    golden_all(g, gc);
    /* the unoptimised graph too: the reader's own output, op by op */
    pl_graph *raw = load_graph_model(rel, 0);
    CHECK(raw);
    keep_graph(raw);
    run_golden(raw, gc, PL_KERNELS_REFERENCE, 2);
    keep_graph(NULL);
}

TEST(tfjs_golden_faceres)
{
    golden_case gc = {"faceres", 3, PREP_HSE};
    golden_graph_model("human/faceres.json", &gc);
}

TEST(tfjs_golden_gender_ssrnet)
{
    golden_case gc = {"ssrnet", 1, PREP_BGR};
    golden_graph_model("human/gender-ssrnet-imdb.json", &gc);
}

TEST(tfjs_golden_blazeface)
{
    golden_case gc = {"blazeface", 4, PREP_PM1};
    golden_graph_model("human/blazeface.json", &gc);
}

TEST(tfjs_golden_faceres_deep)
{
    golden_case gc = {"faceresdeep", 3, PREP_HSE};
    golden_graph_model("human/faceres-deep.json", &gc);
}

TEST(tfjs_golden_gender_oarriaga)
{
    golden_case gc = {"gender", 1, PREP_GREY};
    golden_graph_model("human/gender.json", &gc);
}

static void golden_faceapi(const char *rel, const char *arch, const golden_case *gc)
{
    keep_graph(NULL);
    const char *p = model_path(rel);
    if (!pl_file_exists(p)) SKIP("%s not present (make models)", rel);
    pl_error err = {0};
    pl_graph *g = pl_faceapi_load(p, arch, &err);
    CHECK_MSG(g, "%s", err.msg);
    keep_graph(g);
    run_golden(g, gc, PL_KERNELS_REFERENCE, 1);
    CHECK_MSG(pl_graph_optimize(g, &err) == PL_OK, "%s", err.msg);
    golden_all(g, gc);
    keep_graph(NULL);
}

TEST(faceapi_golden_face_recognition)
{
    golden_case gc = {"facerec", 1, PREP_RGB};
    golden_faceapi("face-api/face_recognition_model-weights_manifest.json", "face_recognition", &gc);
}

TEST(faceapi_golden_age_gender)
{
    golden_case gc = {"agegender", 2, PREP_RGB};
    golden_faceapi("face-api/age_gender_model-weights_manifest.json", "age_gender", &gc);
}

/* ---- structure: op counts against MODELS.md ---------------------------------------- */
TEST(tfjs_structure_matches_models_md)
{
    keep_graph(NULL);
    if (!pl_file_exists(model_path("human/faceres.json"))) SKIP("models not present");
    pl_graph *g = load_graph_model("human/faceres.json", 0);
    CHECK(g);
    keep_graph(g);
    /* §3: Conv2D 14 + DepthwiseConv2dNative 13, 3 _FusedMatMul, 1 Mean */
    CHECK_EQ_INT(graph_count_op(g, PL_OP_CONV2D), 27);
    CHECK_EQ_INT(graph_count_op(g, PL_OP_FULLY_CONNECTED), 3);
    CHECK_EQ_INT(graph_count_op(g, PL_OP_REDUCE_MEAN), 1);
    CHECK_EQ_INT(g->n_outputs, 3);
    CHECK_STR(g->tensors[g->outputs[1]].name, "global_pooling/Mean");
    g = load_graph_model("human/blazeface.json", 0);
    CHECK(g);
    keep_graph(g);
    /* §1.3: 37 _FusedConv2D + 32 depthwise, 3 MaxPool, 2 channel Pads */
    CHECK_EQ_INT(graph_count_op(g, PL_OP_CONV2D), 69);
    CHECK_EQ_INT(graph_count_op(g, PL_OP_MAX_POOL), 3);
    CHECK_EQ_INT(graph_count_op(g, PL_OP_PAD), 2);
    CHECK_EQ_INT(g->n_outputs, 4);
    g = load_graph_model("human/gender-ssrnet-imdb.json", 0);
    CHECK(g);
    keep_graph(g);
    /* §4: 14 convs, 18 _FusedMatMul, 21 StridedSlice */
    CHECK_EQ_INT(graph_count_op(g, PL_OP_CONV2D), 14);
    CHECK_EQ_INT(graph_count_op(g, PL_OP_FULLY_CONNECTED), 18);
    CHECK_EQ_INT(graph_count_op(g, PL_OP_SLICE), 21);
    CHECK_EQ_INT(graph_count_op(g, PL_OP_TANH), 10);
    keep_graph(NULL);
}

TEST(faceapi_structure_matches_models_md)
{
    keep_graph(NULL);
    const char *p = model_path("face-api/face_recognition_model-weights_manifest.json");
    if (!pl_file_exists(p)) SKIP("models not present");
    pl_error err = {0};
    pl_graph *g = pl_faceapi_load(p, "face_recognition", &err);
    CHECK_MSG(g, "%s", err.msg);
    keep_graph(g);
    /* §3: Conv2D 29, scale 29, ReLU 29, AvgPool 4 (shortcuts), MaxPool 1, Mean 1 */
    CHECK_EQ_INT(graph_count_op(g, PL_OP_CONV2D), 29);
    CHECK_EQ_INT(graph_count_op(g, PL_OP_AFFINE), 29);
    CHECK_EQ_INT(graph_count_op(g, PL_OP_RELU), 29);
    CHECK_EQ_INT(graph_count_op(g, PL_OP_AVG_POOL), 4);
    CHECK_EQ_INT(graph_count_op(g, PL_OP_MAX_POOL), 1);
    CHECK_EQ_INT(graph_count_op(g, PL_OP_REDUCE_MEAN), 1);
    /* 3 channel zero-pads + 2 odd-size row/column pads */
    CHECK_EQ_INT(graph_count_op(g, PL_OP_PAD), 5);
    p = model_path("face-api/age_gender_model-weights_manifest.json");
    g = pl_faceapi_load(p, "age_gender", &err);
    CHECK_MSG(g, "%s", err.msg);
    keep_graph(g);
    /* 1 conv_in + 3 expansion + 13 separable (x2) = 30 convs; 2 FC heads */
    CHECK_EQ_INT(graph_count_op(g, PL_OP_CONV2D), 30);
    CHECK_EQ_INT(graph_count_op(g, PL_OP_FULLY_CONNECTED), 2);
    CHECK_EQ_INT(g->n_outputs, 2);
    keep_graph(NULL);
}

/* Weights decoded from a model's files: count, float parameters, quantised. */
static void weight_counts(const char *rel, int graph_model, int n_want, int64_t params_want, int quant_want)
{
    const char *p = model_path(rel);
    if (!pl_file_exists(p)) SKIP("%s not present", rel);
    pl_error err = {0};
    pl_json *doc = pl_json_load_file(p, &err);
    CHECK_MSG(doc, "%s", err.msg);
    const pl_json *m = graph_model ? pl_json_get(doc, "weightsManifest") : doc;
    int quant = 0;
    for (int g = 0; g < pl_json_len(m); g++) {
        const pl_json *ws = pl_json_get(pl_json_at(m, g), "weights");
        for (int i = 0; i < pl_json_len(ws); i++) quant += pl_json_get(pl_json_at(ws, i), "quantization") != NULL;
    }
    uint8_t *bin = NULL;
    size_t len = 0;
    pl_tfjs_weights ws = {0};
    pl_status st = pl_tfjs_read_shards(m, p, &bin, &len, &err);
    if (st == PL_OK) st = pl_tfjs_weights_decode(m, bin, len, p, &ws, &err);
    free(bin);
    pl_json_free(doc);
    CHECK_MSG(st == PL_OK, "%s", err.msg);
    int64_t params = 0;
    for (int i = 0; i < ws.n; i++) params += ws.w[i].is_int ? 0 : ws.w[i].numel;
    int n = ws.n;
    pl_tfjs_weights_free(&ws);
    CHECK_EQ_INT(n, n_want);
    CHECK_EQ_INT(params, params_want);
    CHECK_EQ_INT(quant, quant_want);
}

TEST(tfjs_weight_counts_match_models_md)
{
    /* MODELS.md §3/§4/§1.3: tensors, float parameters, quantised tensors */
    weight_counts("face-api/face_recognition_model-weights_manifest.json", 0, 117, 5614592, 109);
    weight_counts("face-api/age_gender_model-weights_manifest.json", 0, 51, 421731, 32);
    weight_counts("human/faceres.json", 1, 128, 3489403, 127); /* float16 */
    weight_counts("human/blazeface.json", 1, 112, 134704, 0);
    weight_counts("human/gender-ssrnet-imdb.json", 1, 157, 40168, 0);
}

/* ---- dequantisation on hand values ----------------------------------------------------- */
TEST(tfjs_float16_decoding)
{
    CHECK(pl_f16_to_f32(0x0000) == 0.0f && !signbit(pl_f16_to_f32(0x0000)));
    CHECK(pl_f16_to_f32(0x8000) == 0.0f && signbit(pl_f16_to_f32(0x8000)));
    CHECK(pl_f16_to_f32(0x3C00) == 1.0f);
    CHECK(pl_f16_to_f32(0xC000) == -2.0f);
    CHECK(pl_f16_to_f32(0x3555) == 0.333251953125f);
    CHECK(pl_f16_to_f32(0x7BFF) == 65504.0f);      /* largest normal */
    CHECK(pl_f16_to_f32(0x0400) == 0x1p-14f);      /* smallest normal */
    CHECK(pl_f16_to_f32(0x0001) == 0x1p-24f);      /* smallest subnormal */
    CHECK(pl_f16_to_f32(0x03FF) == 1023 * 0x1p-24f); /* largest subnormal */
    CHECK(pl_f16_to_f32(0x8001) == -0x1p-24f);
    CHECK(isinf(pl_f16_to_f32(0x7C00)) && pl_f16_to_f32(0x7C00) > 0);
    CHECK(isinf(pl_f16_to_f32(0xFC00)) && pl_f16_to_f32(0xFC00) < 0);
    CHECK(isnan(pl_f16_to_f32(0x7E00)));
    CHECK(isnan(pl_f16_to_f32(0xFC01)));
}

static pl_status decode(const char *manifest, const uint8_t *bin, size_t len, pl_tfjs_weights *ws,
                        pl_error *err)
{
    pl_json *m = pl_json_parse(manifest, strlen(manifest), "m.json", err);
    if (!m) return err->code;
    pl_status s = pl_tfjs_weights_decode(m, bin, len, "m.json", ws, err);
    pl_json_free(m);
    return s;
}

TEST(tfjs_weight_dtypes_and_quantisation)
{
    const char *manifest =
        "[{\"paths\": [\"x.bin\"], \"weights\": ["
        "{\"name\": \"u8\", \"shape\": [2, 2], \"dtype\": \"float32\","
        " \"quantization\": {\"dtype\": \"uint8\", \"scale\": 0.5, \"min\": -1}},"
        "{\"name\": \"u16\", \"shape\": [2], \"dtype\": \"float32\","
        " \"quantization\": {\"dtype\": \"uint16\", \"scale\": 0.25, \"min\": 10}},"
        "{\"name\": \"f16\", \"shape\": [3], \"dtype\": \"float32\", \"quantization\": {\"dtype\": \"float16\"}},"
        "{\"name\": \"f32\", \"shape\": [], \"dtype\": \"float32\"},"
        "{\"name\": \"i32\", \"shape\": [2], \"dtype\": \"int32\"}]}]";
    uint8_t bin[4 + 4 + 6 + 4 + 8];
    uint8_t *p = bin;
    memcpy(p, "\x00\x01\x02\xff", 4); p += 4;              /* u8 */
    memcpy(p, "\x00\x00\x04\x01", 4); p += 4;              /* u16: 0, 260 */
    memcpy(p, "\x00\x3c\x01\x00\x00\x7c", 6); p += 6;      /* f16: 1, 2^-24, inf */
    float f = -3.25f;
    memcpy(p, &f, 4); p += 4;
    memcpy(p, "\xff\xff\xff\xff\x07\x00\x00\x00", 8);      /* i32: -1, 7 */
    pl_tfjs_weights ws;
    pl_error err = {0};
    CHECK_MSG(decode(manifest, bin, sizeof bin, &ws, &err) == PL_OK, "%s", err.msg);
    pl_tfjs_weight *w = pl_tfjs_weights_find(&ws, "u8");
    CHECK(w && w->numel == 4 && w->rank == 2);
    CHECK(w->data[0] == -1.0f && w->data[1] == -0.5f && w->data[2] == 0.0f && w->data[3] == 126.5f);
    w = pl_tfjs_weights_find(&ws, "u16");
    CHECK(w && w->data[0] == 10.0f && w->data[1] == 75.0f);
    w = pl_tfjs_weights_find(&ws, "f16");
    CHECK(w && w->data[0] == 1.0f && w->data[1] == 0x1p-24f && isinf(w->data[2]));
    w = pl_tfjs_weights_find(&ws, "f32");
    CHECK(w && w->rank == 0 && w->numel == 1 && w->data[0] == -3.25f);
    w = pl_tfjs_weights_find(&ws, "i32");
    CHECK(w && w->is_int && w->ival[0] == -1 && w->ival[1] == 7);
    CHECK(pl_tfjs_weights_find(&ws, "nope") == NULL);
    pl_tfjs_weights_free(&ws);
    /* uint8 dequantisation is TF.js's: q*scale+min in double, one rounding */
    const char *m2 = "[{\"paths\": [], \"weights\": [{\"name\": \"a\", \"shape\": [1], \"dtype\": \"float32\","
                     " \"quantization\": {\"dtype\": \"uint8\", \"scale\": 0.005431825039433498, \"min\": -0.7441600304023892}}]}]";
    uint8_t q = 200;
    CHECK(decode(m2, &q, 1, &ws, &err) == PL_OK);
    CHECK(ws.w[0].data[0] == (float)(200 * 0.005431825039433498 + -0.7441600304023892));
    pl_tfjs_weights_free(&ws);
}

TEST(tfjs_weight_manifest_errors)
{
    static const struct { const char *manifest; size_t len; const char *msg; } cases[] = {
        {"[{\"paths\":[],\"weights\":[{\"name\":\"a\",\"shape\":[4],\"dtype\":\"float32\"}]}]", 15, "truncated"},
        {"[{\"paths\":[],\"weights\":[{\"name\":\"a\",\"shape\":[2],\"dtype\":\"float32\"}]}]", 16, "describes 8 bytes"},
        {"[{\"paths\":[],\"weights\":[{\"name\":\"a\",\"shape\":[100000,100000],\"dtype\":\"float32\"}]}]", 16, "too large"},
        {"[{\"paths\":[],\"weights\":[{\"name\":\"a\",\"shape\":[-1],\"dtype\":\"float32\"}]}]", 0, "bad size"},
        {"[{\"paths\":[],\"weights\":[{\"name\":\"a\",\"shape\":[1,1,1,1,1,1,1],\"dtype\":\"float32\"}]}]", 4, "rank 7"},
        {"[{\"paths\":[],\"weights\":[{\"name\":\"a\",\"shape\":[1],\"dtype\":\"string\"}]}]", 4, "dtype 'string'"},
        {"[{\"paths\":[],\"weights\":[{\"name\":\"a\",\"shape\":[1],\"dtype\":\"float32\","
         "\"quantization\":{\"dtype\":\"uint8\"}}]}]", 1, "needs scale and min"},
        {"[{\"paths\":[],\"weights\":[{\"name\":\"a\",\"shape\":[1],\"dtype\":\"float32\"},"
         "{\"name\":\"a\",\"shape\":[1],\"dtype\":\"float32\"}]}]", 8, "twice"},
        {"[{\"paths\":[],\"weights\":[{\"shape\":[1],\"dtype\":\"float32\"}]}]", 4, "no name"},
        {"{}", 0, "not an array"},
    };
    uint8_t zeros[64] = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pl_tfjs_weights ws;
        pl_error err = {0};
        CHECK_MSG(decode(cases[i].manifest, zeros, cases[i].len, &ws, &err) != PL_OK, "case %zu decoded", i);
        CHECK_MSG(strstr(err.msg, cases[i].msg), "case %zu: \"%s\" lacks \"%s\"", i, err.msg, cases[i].msg);
    }
}

/* ---- a small synthetic graph model, checked against plain loops --------------------------- */
/* input [N,4,4,2] -> _FusedConv2D 3x3 SAME (2->3) + bias + Relu
 *   -> DepthwiseConv2dNative 2x2 VALID, multiplier 2 (3->6)
 *   -> Mean over [1, 2] -> StridedSlice [:, 1:6:2] -> ExpandDims -1  => [N,3,1] */
static const char *synth_json =
    "{\"format\": \"graph-model\", \"modelTopology\": {\"node\": ["
    "{\"name\": \"cw\", \"op\": \"Const\"}, {\"name\": \"cb\", \"op\": \"Const\"},"
    "{\"name\": \"dw\", \"op\": \"Const\"}, {\"name\": \"axes\", \"op\": \"Const\"},"
    "{\"name\": \"b\", \"op\": \"Const\"}, {\"name\": \"e\", \"op\": \"Const\"}, {\"name\": \"s\", \"op\": \"Const\"},"
    "{\"name\": \"dim\", \"op\": \"Const\"},"
    "{\"name\": \"x\", \"op\": \"Placeholder\", \"attr\": {\"shape\": {\"shape\": {\"dim\": ["
    "  {\"size\": \"-1\"}, {\"size\": \"4\"}, {\"size\": \"4\"}, {\"size\": \"2\"}]}}}},"
    "{\"name\": \"conv\", \"op\": \"_FusedConv2D\", \"input\": [\"x\", \"cw\", \"cb\", \"^x\"], \"attr\": {"
    "  \"strides\": {\"list\": {\"i\": [\"1\", \"1\", \"1\", \"1\"]}}, \"padding\": {\"s\": \"U0FNRQ==\"},"
    "  \"data_format\": {\"s\": \"TkhXQw==\"}, \"num_args\": {\"i\": \"1\"},"
    "  \"fused_ops\": {\"list\": {\"s\": [\"Qmlhc0FkZA==\", \"UmVsdQ==\"]}}}},"
    "{\"name\": \"dwc\", \"op\": \"DepthwiseConv2dNative\", \"input\": [\"conv:0\", \"dw\"], \"attr\": {"
    "  \"strides\": {\"list\": {\"i\": [\"1\", \"1\", \"1\", \"1\"]}}, \"padding\": {\"s\": \"VkFMSUQ=\"}}},"
    "{\"name\": \"mean\", \"op\": \"Mean\", \"input\": [\"dwc\", \"axes\"], \"attr\": {\"keep_dims\": {\"b\": false}}},"
    "{\"name\": \"sl\", \"op\": \"StridedSlice\", \"input\": [\"mean\", \"b\", \"e\", \"s\"], \"attr\": {"
    "  \"begin_mask\": {\"i\": \"1\"}, \"end_mask\": {\"i\": \"1\"}}},"
    "{\"name\": \"out\", \"op\": \"ExpandDims\", \"input\": [\"sl\", \"dim\"]},"
    "{\"name\": \"unused\", \"op\": \"NoOp\", \"input\": [\"^out\"]}"
    "]}, \"weightsManifest\": [{\"paths\": [\"synth.bin\"], \"weights\": ["
    "{\"name\": \"cw\", \"shape\": [3, 3, 2, 3], \"dtype\": \"float32\"},"
    "{\"name\": \"cb\", \"shape\": [3], \"dtype\": \"float32\", \"quantization\": {\"dtype\": \"float16\"}},"
    "{\"name\": \"dw\", \"shape\": [2, 2, 3, 2], \"dtype\": \"float32\","
    "  \"quantization\": {\"dtype\": \"uint8\", \"scale\": 0.01, \"min\": -1.2}},"
    "{\"name\": \"axes\", \"shape\": [2], \"dtype\": \"int32\"},"
    "{\"name\": \"b\", \"shape\": [2], \"dtype\": \"int32\"}, {\"name\": \"e\", \"shape\": [2], \"dtype\": \"int32\"},"
    "{\"name\": \"s\", \"shape\": [2], \"dtype\": \"int32\"}, {\"name\": \"dim\", \"shape\": [], \"dtype\": \"int32\"}"
    "]}]}";

typedef struct synth {
    uint8_t bin[54 * 4 + 3 * 2 + 24 + 9 * 4];
    float cw[54], cb[3], dw[24];
} synth;

static uint16_t f16_bits_of_small_int(int v) /* exact halves for -8..8 */
{
    for (uint32_t h = 0; h < 0x10000; h++)
        if (pl_f16_to_f32((uint16_t)h) == (float)v) return (uint16_t)h;
    return 0;
}

static void synth_make(synth *s)
{
    uint8_t *p = s->bin;
    for (int i = 0; i < 54; i++) {
        s->cw[i] = (float)((i * 7 % 11) - 5) / 8.0f;
        memcpy(p, &s->cw[i], 4);
        p += 4;
    }
    for (int i = 0; i < 3; i++) {
        s->cb[i] = (float)(i - 1);
        uint16_t h = f16_bits_of_small_int(i - 1);
        *p++ = h & 0xFF;
        *p++ = h >> 8;
    }
    for (int i = 0; i < 24; i++) {
        uint8_t q = (uint8_t)(i * 37 % 251);
        *p++ = q;
        s->dw[i] = (float)(q * 0.01 + -1.2);
    }
    int32_t axes[2] = {1, 2}, dims_last[1] = {-1};
    memcpy(p, axes, 8); p += 8;
    int32_t b[2] = {0, 1}, e[2] = {0, 6}, st[2] = {1, 2};
    memcpy(p, b, 8); p += 8;
    memcpy(p, e, 8); p += 8;
    memcpy(p, st, 8); p += 8;
    memcpy(p, dims_last, 4);
}

/* The same network in plain loops, TF semantics. */
static void synth_expect(const synth *s, const float *x, int n, float *y)
{
    for (int b = 0; b < n; b++) {
        float c1[4][4][3], mean[6] = {0};
        for (int oy = 0; oy < 4; oy++)
            for (int ox = 0; ox < 4; ox++)
                for (int o = 0; o < 3; o++) {
                    float acc = s->cb[o];
                    for (int ky = 0; ky < 3; ky++)
                        for (int kx = 0; kx < 3; kx++)
                            for (int i = 0; i < 2; i++) {
                                int iy = oy + ky - 1, ix = ox + kx - 1;
                                if (iy < 0 || iy > 3 || ix < 0 || ix > 3) continue;
                                acc += x[((b * 4 + iy) * 4 + ix) * 2 + i] * s->cw[((ky * 3 + kx) * 2 + i) * 3 + o];
                            }
                    c1[oy][ox][o] = acc > 0 ? acc : 0;
                }
        for (int oy = 0; oy < 3; oy++)
            for (int ox = 0; ox < 3; ox++)
                for (int c = 0; c < 3; c++)
                    for (int m = 0; m < 2; m++) {
                        float acc = 0;
                        for (int ky = 0; ky < 2; ky++)
                            for (int kx = 0; kx < 2; kx++)
                                acc += c1[oy + ky][ox + kx][c] * s->dw[((ky * 2 + kx) * 3 + c) * 2 + m];
                        mean[c * 2 + m] += acc / 9.0f;
                    }
        for (int j = 0; j < 3; j++) y[b * 3 + j] = mean[1 + 2 * j];
    }
}

TEST(tfjs_synthetic_model_matches_plain_loops)
{
    synth s;
    synth_make(&s);
    pl_error err = {0};
    pl_graph *g = pl_tfjs_load_memory(synth_json, strlen(synth_json), s.bin, sizeof s.bin, "synth.json", &err);
    CHECK_MSG(g, "%s", err.msg);
    keep_graph(g);
    CHECK_EQ_INT(g->n_outputs, 1);
    CHECK_STR(g->tensors[g->outputs[0]].name, "out");
    float x[2 * 32], want[6];
    for (int i = 0; i < 64; i++) x[i] = (float)((i * 13 % 17) - 8) / 4.0f;
    synth_expect(&s, x, 2, want);
    for (int mode = 0; mode < 2; mode++) {
        pl_session *ss = pl_session_new(g, 1, &err);
        CHECK_MSG(ss, "%s", err.msg);
        pl_session_set_kernels(ss, mode ? PL_KERNELS_REFERENCE : PL_KERNELS_FAST);
        int64_t dims[4] = {2, 4, 4, 2};
        pl_status st = pl_session_set_input_shape(ss, 0, 4, dims, &err);
        if (st == PL_OK) {
            memcpy(pl_session_input(ss, 0), x, sizeof x);
            st = pl_session_run(ss, &err);
        }
        int rank = 0;
        int64_t od[PL_MAX_RANK] = {0};
        float got[6] = {0};
        if (st == PL_OK) memcpy(got, pl_session_output(ss, 0, &rank, od), sizeof got);
        pl_session_free(ss);
        CHECK_MSG(st == PL_OK, "%s", err.msg);
        CHECK(rank == 3 && od[0] == 2 && od[1] == 3 && od[2] == 1);
        for (int i = 0; i < 6; i++) CHECK_NEAR(got[i], want[i], 1e-5);
    }
    keep_graph(NULL);
}

/* ---- StridedSlice: masks against hand-worked numpy results ----------------------------- */
/* x = arange(120).reshape(2,3,4,5); one StridedSlice; returns the output
 * (malloc'd) and its shape. */
static float *run_slice(const int32_t *b, const int32_t *e, const int32_t *st, int n, int bm, int em,
                        int elm, int nm, int sm, int *rank, int64_t *dims, pl_error *err)
{
    char json[4096];
    snprintf(json, sizeof json,
             "{\"modelTopology\": {\"node\": [{\"name\": \"b\", \"op\": \"Const\"}, {\"name\": \"e\", \"op\": \"Const\"},"
             "{\"name\": \"s\", \"op\": \"Const\"}, {\"name\": \"x\", \"op\": \"Placeholder\", \"attr\": {\"shape\":"
             "{\"shape\": {\"dim\": [{\"size\": \"2\"}, {\"size\": \"3\"}, {\"size\": \"4\"}, {\"size\": \"5\"}]}}}},"
             "{\"name\": \"y\", \"op\": \"StridedSlice\", \"input\": [\"x\", \"b\", \"e\", \"s\"], \"attr\": {"
             "\"begin_mask\": {\"i\": \"%d\"}, \"end_mask\": {\"i\": \"%d\"}, \"ellipsis_mask\": {\"i\": \"%d\"},"
             "\"new_axis_mask\": {\"i\": \"%d\"}, \"shrink_axis_mask\": {\"i\": \"%d\"}}}]},"
             "\"weightsManifest\": [{\"paths\": [], \"weights\": [{\"name\": \"b\", \"shape\": [%d], \"dtype\": \"int32\"},"
             "{\"name\": \"e\", \"shape\": [%d], \"dtype\": \"int32\"}, {\"name\": \"s\", \"shape\": [%d], \"dtype\": \"int32\"}]}]}",
             bm, em, elm, nm, sm, n, n, n);
    uint8_t bin[3 * 8 * 4];
    memcpy(bin, b, (size_t)n * 4);
    memcpy(bin + n * 4, e, (size_t)n * 4);
    memcpy(bin + 2 * n * 4, st, (size_t)n * 4);
    pl_graph *g = pl_tfjs_load_memory(json, strlen(json), bin, (size_t)n * 12, "slice.json", err);
    if (!g) return NULL;
    float x[120];
    for (int i = 0; i < 120; i++) x[i] = (float)i;
    float *res = NULL;
    pl_session *s = pl_session_new(g, 1, err);
    int64_t xd[4] = {2, 3, 4, 5};
    if (s && pl_session_set_input_shape(s, 0, 4, xd, err) == PL_OK) {
        memcpy(pl_session_input(s, 0), x, sizeof x);
        if (pl_session_run(s, err) == PL_OK) {
            const float *y = pl_session_output(s, 0, rank, dims);
            int64_t m = 1;
            for (int i = 0; i < *rank; i++) m *= dims[i];
            res = malloc((size_t)m * sizeof *res);
            memcpy(res, y, (size_t)m * sizeof *res);
        }
    }
    pl_session_free(s);
    pl_graph_free(g);
    return res;
}

#define X(a, b, c, d) ((float)((((a) * 3 + (b)) * 4 + (c)) * 5 + (d)))

TEST(tfjs_strided_slice_masks)
{
    pl_error err = {0};
    int r;
    int64_t d[PL_MAX_RANK];
    /* x[..., 1] -> [2,3,4] */
    float *y = run_slice((int32_t[]){0, 1}, (int32_t[]){0, 2}, (int32_t[]){1, 1}, 2, 0, 0, 1, 0, 2, &r, d, &err);
    CHECK_MSG(y, "%s", err.msg);
    int ok = r == 3 && d[0] == 2 && d[1] == 3 && d[2] == 4 && y[0] == X(0, 0, 0, 1) && y[23] == X(1, 2, 3, 1);
    free(y);
    CHECK(ok);
    /* x[1, ..., ::-2] -> [3,4,3], last axis 4, 2, 0 */
    y = run_slice((int32_t[]){1, 0, 0}, (int32_t[]){2, 0, 0}, (int32_t[]){1, 1, -2}, 3, 4, 4, 2, 0, 1, &r, d, &err);
    CHECK_MSG(y, "%s", err.msg);
    ok = r == 3 && d[0] == 3 && d[1] == 4 && d[2] == 3 && y[0] == X(1, 0, 0, 4) && y[1] == X(1, 0, 0, 2) &&
         y[2] == X(1, 0, 0, 0) && y[35] == X(1, 2, 3, 0);
    free(y);
    CHECK(ok);
    /* x[:, newaxis, 1:3] -> [2,1,2,4,5] */
    y = run_slice((int32_t[]){0, 0, 1}, (int32_t[]){0, 0, 3}, (int32_t[]){1, 1, 1}, 3, 1, 1, 0, 2, 0, &r, d, &err);
    CHECK_MSG(y, "%s", err.msg);
    ok = r == 5 && d[0] == 2 && d[1] == 1 && d[2] == 2 && d[3] == 4 && d[4] == 5 && y[0] == X(0, 1, 0, 0) &&
         y[79] == X(1, 2, 3, 4);
    free(y);
    CHECK(ok);
    /* x[-1] -> [3,4,5] = x[1] */
    y = run_slice((int32_t[]){-1}, (int32_t[]){0}, (int32_t[]){1}, 1, 0, 0, 0, 0, 1, &r, d, &err);
    CHECK_MSG(y, "%s", err.msg);
    ok = r == 3 && d[0] == 3 && y[0] == X(1, 0, 0, 0) && y[59] == X(1, 2, 3, 4);
    free(y);
    CHECK(ok);
    /* x[0, -2:, ..., 1:4:2] -> [2,4,2] */
    y = run_slice((int32_t[]){0, -2, 0, 1}, (int32_t[]){1, 0, 0, 4}, (int32_t[]){1, 1, 1, 2}, 4, 0, 2, 4, 0, 1, &r, d,
                  &err);
    CHECK_MSG(y, "%s", err.msg);
    ok = r == 3 && d[0] == 2 && d[1] == 4 && d[2] == 2 && y[0] == X(0, 1, 0, 1) && y[1] == X(0, 1, 0, 3) &&
         y[15] == X(0, 2, 3, 3);
    free(y);
    CHECK(ok);
}

TEST(tfjs_nodes_in_any_order)
{
    /* The same model with the consumers listed before their producers. */
    const char *conv = strstr(synth_json, "{\"name\": \"conv\"");
    const char *tail = strstr(synth_json, "{\"name\": \"unused\"");
    CHECK(conv && tail);
    char json[8192];
    const char *mean = strstr(synth_json, "{\"name\": \"mean\"");
    /* [head][mean, sl, out,][conv, dwc,][unused ...] */
    snprintf(json, sizeof json, "%.*s%.*s%.*s%s", (int)(conv - synth_json), synth_json, (int)(tail - mean), mean,
             (int)(mean - conv), conv, tail);
    synth s;
    synth_make(&s);
    pl_error err = {0};
    pl_graph *g = pl_tfjs_load_memory(json, strlen(json), s.bin, sizeof s.bin, "synth.json", &err);
    CHECK_MSG(g, "%s", err.msg);
    keep_graph(g);
    CHECK_STR(g->tensors[g->outputs[0]].name, "out");
    CHECK_STR(g->nodes[0].name, "conv");
    float x[32], want[3], got[3];
    for (int i = 0; i < 32; i++) x[i] = (float)((i * 5 % 13) - 6) / 4.0f;
    synth_expect(&s, x, 1, want);
    int64_t dims[4] = {1, 4, 4, 2};
    pl_session *ss = pl_session_new(g, 1, &err);
    CHECK(ss);
    pl_status st = pl_session_set_input_shape(ss, 0, 4, dims, &err);
    if (st == PL_OK) {
        memcpy(pl_session_input(ss, 0), x, sizeof x);
        st = pl_session_run(ss, &err);
    }
    if (st == PL_OK) memcpy(got, pl_session_output(ss, 0, NULL, NULL), sizeof got);
    pl_session_free(ss);
    CHECK_MSG(st == PL_OK, "%s", err.msg);
    for (int i = 0; i < 3; i++) CHECK_NEAR(got[i], want[i], 1e-5);
    keep_graph(NULL);
}

/* ---- hostile model.json ---------------------------------------------------------------- */
/* Replace the first `from` in the synthetic json with `to`; load; expect
 * failure with `msg` in the error. */
static void expect_fail(const char *from, const char *to, size_t bin_len, const char *msg)
{
    static char json[8192];
    synth s;
    synth_make(&s);
    const char *at = strstr(synth_json, from);
    CHECK_MSG(at, "pattern %s", from);
    snprintf(json, sizeof json, "%.*s%s%s", (int)(at - synth_json), synth_json, to, at + strlen(from));
    pl_error err = {0};
    pl_graph *g = pl_tfjs_load_memory(json, strlen(json), s.bin, bin_len ? bin_len : sizeof s.bin, "synth.json", &err);
    if (g) pl_graph_free(g);
    CHECK_MSG(!g, "loaded with %s -> %s", from, to);
    CHECK_MSG(strstr(err.msg, msg), "\"%s\" lacks \"%s\"", err.msg, msg);
    CHECK_MSG(strstr(err.msg, "synth.json"), "\"%s\" does not name the file", err.msg);
}

TEST(tfjs_hostile_models_fail_cleanly)
{
    synth s;
    expect_fail("\"_FusedConv2D\"", "\"FancyConv\"", 0, "operator 'FancyConv' is not supported");
    expect_fail("\"Mean\"", "\"Shape\"", 0, "'Shape'");
    expect_fail("{\"format\"", "{,\"format\"", 0, "synth.json:1:2");
    expect_fail("[3, 3, 2, 3]", "[3, 3, 2, 4]", 0, "truncated");
    expect_fail("[3, 3, 2, 3]", "[3, 3, 2, 2]", 0, "describes");
    expect_fail("[3, 3, 2, 3]", "[300000, 300000, 2, 3]", 0, "too large");
    expect_fail("[3, 3, 2, 3]", "[3, 3, 0, 3]", 0, "bad size");
    expect_fail("\"conv:0\"", "\"nothere\"", 0, "not defined");
    expect_fail("\"conv:0\"", "\"conv:1\"", 0, "not defined");
    expect_fail("[\"dwc\", \"axes\"]", "[\"dwc\", \"cb\"]", 0, "int32 constant");
    expect_fail("[\"x\", \"cw\"", "[\"x\", \"axes\"", 0, "float constant");
    expect_fail("[\"x\", \"cw\"", "[\"x\", \"x\"", 0, "float constant");
    expect_fail("{\"name\": \"cw\", \"op\": \"Const\"}", "{\"name\": \"zz\", \"op\": \"Const\"}", 0, "no entry");
    expect_fail("U0FNRQ==", "U0FNRQ=!", 0, "padding");
    expect_fail("U0FNRQ==", "TUlSUk9S", 0, "padding 'MIRROR'");
    expect_fail("TkhXQw==", "TkNIVw==", 0, "NCHW");
    expect_fail("\"1\", \"1\", \"1\", \"1\"", "\"1\", \"0\", \"1\", \"1\"", 0, "strides");
    expect_fail("\"1\", \"1\", \"1\", \"1\"", "\"1\", \"99999999999\", \"1\", \"1\"", 0, "strides");
    expect_fail("\"Qmlhc0FkZA==\", \"UmVsdQ==\"", "\"Qmlhc0FkZA==\", \"RWx1\"", 0, "'Elu'");
    expect_fail("{\"size\": \"-1\"}, {\"size\": \"4\"}", "{\"size\": \"-7\"}, {\"size\": \"4\"}", 0, "bad input size");
    expect_fail("\"modelTopology\"", "\"modelTopologyX\"", 0, "not a TF.js graph model");
    expect_fail("\"weightsManifest\"", "\"weightsManifestX\"", 0, "weightsManifest");
    expect_fail("\"begin_mask\"", "\"ellipsis_mask\": {\"i\": \"3\"}, \"x\"", 0, "two ellipses");
    expect_fail("{\"name\": \"x\", \"op\": \"Placeholder\"", "{\"name\": \"x\", \"op\": \"Const\"", 0, "no entry");
    expect_fail("[\"x\", \"cw\", \"cb\", \"^x\"]", "[\"x\", \"cw\", \"cb\", \"^out\"]", 0, "cycle");
    expect_fail("[\"x\", \"cw\", \"cb\", \"^x\"]", "[\"conv\", \"cw\", \"cb\"]", 0, "'conv' depends on itself");
    synth_make(&s);
    expect_fail("\"x\"", "\"x\"", sizeof s.bin - 1, "truncated");
}

TEST(tfjs_every_truncated_weight_file_fails_cleanly)
{
    synth s;
    synth_make(&s);
    for (size_t n = 0; n < sizeof s.bin; n += 3) {
        pl_error err = {0};
        pl_graph *g = pl_tfjs_load_memory(synth_json, strlen(synth_json), s.bin, n, "synth.json", &err);
        if (g) pl_graph_free(g);
        CHECK_MSG(!g, "loaded with %zu weight bytes", n);
        CHECK_CONTAINS(err.msg, "truncated");
    }
}

/* ---- files on disk: shards, paths, face-api manifests -------------------------------------- */
static void write_file(const char *path, const void *d, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(d, 1, n, f);
        fclose(f);
    }
}

TEST(tfjs_files_on_disk)
{
    char dir[] = "/tmp/pl_tfjs_XXXXXX", path[256], bin[256];
    CHECK(mkdtemp(dir));
    synth s;
    synth_make(&s);
    snprintf(path, sizeof path, "%s/model.json", dir);
    snprintf(bin, sizeof bin, "%s/synth.bin", dir);
    write_file(path, synth_json, strlen(synth_json));
    pl_error err = {0};
    pl_graph *g = pl_tfjs_load(path, &err); /* no .bin yet */
    CHECK(!g);
    CHECK_CONTAINS(err.msg, "synth.bin");
    write_file(bin, s.bin, sizeof s.bin);
    g = pl_tfjs_load(path, &err);
    CHECK_MSG(g, "%s", err.msg);
    pl_graph_free(g);
    write_file(bin, s.bin, sizeof s.bin / 2);
    g = pl_tfjs_load(path, &err);
    CHECK(!g);
    CHECK_CONTAINS(err.msg, "truncated");
    /* a shard path that leaves the folder is refused */
    char *evil = strdup(synth_json);
    char *at = strstr(evil, "\"synth.bin\"");
    memcpy(at, "\"../x.bin\"", 10);
    at[10] = ' ';
    write_file(path, evil, strlen(evil));
    free(evil);
    g = pl_tfjs_load(path, &err);
    CHECK(!g);
    CHECK_CONTAINS(err.msg, "paths[0]");
    unlink(path);
    unlink(bin);
    rmdir(dir);
}

TEST(faceapi_hostile_inputs)
{
    pl_error err = {0};
    CHECK(!pl_faceapi_load("x.json", "mobilenet", &err));
    CHECK_CONTAINS(err.msg, "unknown face-api architecture 'mobilenet'");
    CHECK(!pl_faceapi_load("/nonexistent/m.json", "age_gender", &err));
    CHECK_CONTAINS(err.msg, "/nonexistent/m.json");
    const char *ag = model_path("face-api/age_gender_model-weights_manifest.json");
    if (!pl_file_exists(ag)) SKIP("models not present");
    /* the wrong architecture for these weights */
    CHECK(!pl_faceapi_load(ag, "face_recognition", &err));
    CHECK_CONTAINS(err.msg, "weight 'conv32_down/conv/filters' is missing");
    /* a copy with a truncated .bin */
    char dir[] = "/tmp/pl_faceapi_XXXXXX", m[256], b[256], src[1024];
    CHECK(mkdtemp(dir));
    uint8_t *d;
    size_t n;
    CHECK(pl_read_file(ag, 1 << 20, &d, &n, &err) == PL_OK);
    snprintf(m, sizeof m, "%s/age_gender_model-weights_manifest.json", dir);
    write_file(m, d, n);
    free(d);
    snprintf(src, sizeof src, "%s", ag);
    strcpy(strrchr(src, '/'), "/age_gender_model.bin");
    CHECK(pl_read_file(src, 1 << 22, &d, &n, &err) == PL_OK);
    snprintf(b, sizeof b, "%s/age_gender_model.bin", dir);
    write_file(b, d, n - 100);
    free(d);
    pl_graph *g = pl_faceapi_load(m, "age_gender", &err);
    CHECK(!g);
    CHECK_CONTAINS(err.msg, "truncated");
    unlink(m);
    unlink(b);
    rmdir(dir);
}

TEST(tfjs_cleanup)
{
    keep_graph(NULL);
}
