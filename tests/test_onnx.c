/* test_onnx.c — the ONNX reader: parsing, exactness against ONNX Runtime,
 * and hostile files.
 *
 * Goldens (tests/golden/onnx/, made by tools/golden/onnx/gen.js with
 * onnxruntime-node 1.30.0): <model>_in.npy holds two preprocessed faces
 * (float16, NCHW) and <model>_out<k>.npy the runtime's output k for each
 * face, stacked. Each model must match with cosine >= 0.99999 and max abs
 * error <= 1e-4 x (max - min of the golden), with the fast kernels, with
 * the reference kernels, and at batch 2.
 */
#include "test.h"
#include "golden.h"

#include <stdint.h>
#include <sys/stat.h>

#include "engine/session.h"
#include "formats/formats.h"
#include "formats/onnx_proto.h"
#include "util/fs.h"

#define GOLDEN "tests/golden/onnx"
#define USER_DIR "build/onnx_user"

/* ---- running and comparing --------------------------------------------------- */

typedef struct model_case {
    const char *name;   /* golden prefix */
    const char *path;   /* model file */
    int n_outputs;
} model_case;

/* Run the model at the given batch (faces [first, first+batch) of the
 * golden input) and compare every output. */
static void run_case(const model_case *mc, pl_graph *g, int first, int batch, pl_kernel_mode mode)
{
    char path[512], what[256];
    npy in, out[16];
    snprintf(path, sizeof path, "%s_in.npy", mc->name);
    CHECK_MSG(golden_npy_load(GOLDEN, path, &in), "cannot read " GOLDEN "/%s", path);
    int64_t per_in = in.n / in.dims[0];
    pl_error err = {0};
    int64_t dims[8];
    memcpy(dims, in.dims, sizeof dims);
    dims[0] = batch;
    pl_session *s = golden_session(g, mode, 1, in.rank, dims, &err);
    CHECK_MSG(s, "%s", err.msg);
    CHECK_MSG(golden_run(s, in.data + first * per_in, batch * per_in, &err) == PL_OK, "%s: %s", mc->name, err.msg);
    for (int k = 0; k < mc->n_outputs; k++) {
        snprintf(path, sizeof path, "%s_out%d.npy", mc->name, k);
        CHECK_MSG(golden_npy_load(GOLDEN, path, &out[k]), "cannot read " GOLDEN "/%s", path);
        int rank;
        int64_t od[PL_MAX_RANK];
        const float *y = pl_session_output(s, k, &rank, od);
        CHECK(y);
        int64_t per = out[k].n / out[k].dims[0], n = 1;
        for (int d = 0; d < rank; d++) n *= od[d];
        CHECK_MSG(rank == out[k].rank && od[0] == batch && n == batch * per,
                  "%s output %d: got rank %d dims [%lld,%lld,...], golden rank %d", mc->name, k, rank,
                  (long long)od[0], rank > 1 ? (long long)od[1] : 0LL, out[k].rank);
        for (int b = 0; b < batch; b++) {
            snprintf(what, sizeof what, "%s output %d face %d (batch %d, %s)", mc->name, k, first + b, batch,
                     mode == PL_KERNELS_REFERENCE ? "reference" : "fast");
            /* the tolerance from the whole golden tensor (all faces):
             * a [1,1] output has no range of its own */
            golden_check(what, y + b * per, out[k].data + (first + b) * per, per, out[k].data, out[k].n);
        }
        free(out[k].data);
    }
    pl_session_free(s);
    free(in.data);
}

static pl_graph *load_or_skip(const char *path)
{
    if (!pl_file_exists(path)) SKIP("%s is missing (run 'make models')", path);
    pl_error err = {0};
    pl_graph *g = pl_onnx_load(path, &err);
    CHECK_MSG(g, "%s", err.msg);
    CHECK_MSG(pl_graph_optimize(g, &err) == PL_OK, "%s", err.msg);
    return g;
}

/* Every check on one model: fast kernels per face, batch 2, reference. */
static void golden_model(const model_case *mc, int reference)
{
    pl_graph *g = load_or_skip(mc->path);
    run_case(mc, g, 0, 1, PL_KERNELS_FAST);
    run_case(mc, g, 1, 1, PL_KERNELS_FAST);
    run_case(mc, g, 0, 2, PL_KERNELS_FAST);
    if (reference) run_case(mc, g, 0, 1, PL_KERNELS_REFERENCE);
    pl_graph_free(g);
}

static int asan(void) { return getenv("PASALISTA_ASAN") != NULL; }

TEST(onnx_golden_fr_feature)
{
    model_case mc = {"fr_feature", "models/faceplugin/fr_feature.onnx", 1};
    golden_model(&mc, 1);
}

TEST(onnx_golden_fr_detect)
{
    model_case mc = {"fr_detect", "models/faceplugin/fr_detect.onnx", 2};
    golden_model(&mc, 1);
}

TEST(onnx_golden_fr_landmark)
{
    model_case mc = {"fr_landmark", "models/faceplugin/fr_landmark.onnx", 1};
    golden_model(&mc, 1);
}

TEST(onnx_golden_fr_gender)
{
    model_case mc = {"fr_gender", "models/faceplugin/fr_gender.onnx", 9};
    golden_model(&mc, 1);
}

TEST(onnx_golden_fr_age)
{
    model_case mc = {"fr_age", "models/faceplugin/fr_age.onnx", 9};
    golden_model(&mc, 1);
}

TEST(onnx_golden_fr_liveness)
{
    model_case mc = {"fr_liveness", "models/faceplugin/fr_liveness.onnx", 1};
    golden_model(&mc, 1);
}

/* The user architectures are regenerated from a fixed seed (the files are
 * 94 and 175 MB, so they are not committed). */
static void user_model(const char *name)
{
    char path[256], cmd[512];
    snprintf(path, sizeof path, USER_DIR "/%s.onnx", name);
    if (!pl_file_exists(path)) {
        if (system("/usr/bin/python3 -c 'import onnx, numpy' 2>/dev/null") != 0)
            SKIP("/usr/bin/python3 lacks onnx/numpy (apt install python3-onnx python3-numpy)");
        snprintf(cmd, sizeof cmd, "/usr/bin/python3 tools/make_user_onnx.py " USER_DIR " %s >/dev/null", name);
        CHECK_MSG(system(cmd) == 0, "%s failed", cmd);
    }
    model_case mc = {name, path, 1};
    /* the NCHW flatten before the FC costs nothing: its weight columns are
     * permuted at load time, so the only transpose is the input's */
    pl_graph *g = load_or_skip(path);
    int transposes = 0;
    for (int i = 0; i < g->n_nodes; i++) transposes += g->nodes[i].op == PL_OP_TRANSPOSE;
    CHECK_EQ_INT(transposes, 1);
    pl_graph_free(g);
    /* the reference kernels take seconds per face here; ASan makes that minutes */
    golden_model(&mc, !asan());
}

TEST(onnx_golden_user_facenet) { user_model("facenet"); }
TEST(onnx_golden_user_iresnet50) { user_model("iresnet50"); }

/* The fuzz seeds: tiny synthetic graphs covering the ops the faceplugin
 * models do not (Gemm after an NCHW flatten, Shape->Reshape folding at
 * batch 2, Expand, ReduceL2, LpNormalization, dilated and grouped Conv, Pad,
 * Clip, SE-style broadcasting, opsets 9/11/13). */
TEST(onnx_golden_seeds)
{
    static const char *seeds[] = {"conv_bn_pool", "flatten_gemm", "shape_chain", "elementwise",
                                  "concat_lpnorm"};
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        char name[64], path[128];
        snprintf(name, sizeof name, "seed_%s", seeds[i]);
        snprintf(path, sizeof path, "fuzz/seeds/onnx/%s.onnx", seeds[i]);
        model_case mc = {name, path, 1};
        golden_model(&mc, 1);
    }
}

/* ---- parsing: op counts as listed in docs/MODELS.md --------------------------- */

static int count_op(const ox_model *m, const char *op)
{
    int n = 0;
    for (size_t i = 0; i < m->graph.n_nodes; i++) n += ox_str_eq(m->graph.nodes[i].op_type, op);
    return n;
}

static void decode_file(const char *path, ox_model *m, uint8_t **buf)
{
    size_t len;
    pl_error err = {0};
    if (!pl_file_exists(path)) SKIP("%s is missing (run 'make models')", path);
    CHECK(pl_read_file(path, 64u << 20, buf, &len, &err) == PL_OK);
    CHECK_MSG(ox_decode_model(*buf, len, path, m, &err) == PL_OK, "%s", err.msg);
}

TEST(onnx_parse_op_counts)
{
    static const struct { const char *file, *op; int count; } want[] = {
        {"fr_detect", "Conv", 52}, {"fr_detect", "Relu", 37}, {"fr_detect", "Constant", 14},
        {"fr_detect", "Concat", 13}, {"fr_detect", "Transpose", 8}, {"fr_detect", "Shape", 8},
        {"fr_detect", "Gather", 8}, {"fr_detect", "Unsqueeze", 8}, {"fr_detect", "Reshape", 8},
        {"fr_detect", "Slice", 6}, {"fr_detect", "Mul", 5}, {"fr_detect", "Add", 3},
        {"fr_detect", "Div", 2}, {"fr_detect", "Softmax", 1}, {"fr_detect", "Exp", 1},
        {"fr_detect", "Sub", 1},
        {"fr_feature", "Conv", 50}, {"fr_feature", "PRelu", 33}, {"fr_feature", "Add", 12},
        {"fr_feature", "Reshape", 1},
        {"fr_landmark", "Conv", 40}, {"fr_landmark", "Relu", 27}, {"fr_landmark", "Add", 9},
        {"fr_landmark", "Flatten", 1}, {"fr_landmark", "Gemm", 1}, {"fr_landmark", "BatchNormalization", 1},
        {"fr_gender", "Conv", 14}, {"fr_gender", "Relu", 22}, {"fr_gender", "Gemm", 18},
        {"fr_gender", "Tanh", 10}, {"fr_gender", "Pad", 5}, {"fr_gender", "AveragePool", 5},
        {"fr_gender", "MaxPool", 5}, {"fr_gender", "Reshape", 6}, {"fr_gender", "Mul", 6},
        {"fr_age", "BatchNormalization", 8},
        {"fr_liveness", "Conv", 55}, {"fr_liveness", "PRelu", 33}, {"fr_liveness", "Add", 12},
        {"fr_liveness", "GlobalAveragePool", 3}, {"fr_liveness", "Sigmoid", 3},
        {"fr_liveness", "MatMul", 2}, {"fr_liveness", "BatchNormalization", 1},
    };
    const char *cur = NULL;
    ox_model m;
    uint8_t *buf = NULL;
    memset(&m, 0, sizeof m);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        if (!cur || strcmp(cur, want[i].file)) {
            ox_model_free(&m);
            free(buf);
            char path[256];
            snprintf(path, sizeof path, "models/faceplugin/%s.onnx", want[i].file);
            decode_file(path, &m, &buf);
            CHECK_EQ_INT(m.opset, 9);
            cur = want[i].file;
        }
        CHECK_MSG(count_op(&m, want[i].op) == want[i].count, "%s: %d x %s, MODELS.md says %d",
                  want[i].file, count_op(&m, want[i].op), want[i].op, want[i].count);
    }
    /* fr_detect's parameters: 300,413 floats in initializers + Constant nodes */
    ox_model_free(&m);
    free(buf);
    decode_file("models/faceplugin/fr_detect.onnx", &m, &buf);
    CHECK_EQ_INT(m.graph.n_inputs, 1);
    CHECK_EQ_INT(m.graph.inputs[0].rank, 4);
    CHECK_EQ_INT(m.graph.inputs[0].dims[3], 320);
    CHECK_EQ_INT(m.graph.n_outputs, 2);
    ox_model_free(&m);
    free(buf);
}

/* The converted graph: NCHW at the edge, NHWC weights inside. */
TEST(onnx_graph_layout)
{
    pl_error err = {0};
    if (!pl_file_exists("models/faceplugin/fr_feature.onnx")) SKIP("models missing");
    pl_graph *g = pl_onnx_load("models/faceplugin/fr_feature.onnx", &err);
    CHECK_MSG(g, "%s", err.msg);
    CHECK_EQ_INT(g->n_inputs, 1);
    CHECK_EQ_INT(g->input_dims[0][1], 3);
    CHECK_EQ_INT(g->input_dims[0][3], 112);
    int convs = 0, prelus = 0, depthwise = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const pl_node *n = &g->nodes[i];
        if (n->op == PL_OP_CONV2D) {
            convs++;
            const pl_tensor *w = &g->tensors[n->inputs[1]];
            CHECK_EQ_INT(w->dims[1], n->params.conv.kh); /* OHWI */
            if (n->params.conv.groups > 1) {
                depthwise++;
                CHECK_EQ_INT(w->dims[3], 1);
                CHECK_EQ_INT(w->dims[0], n->params.conv.groups);
            }
        }
        if (n->op == PL_OP_PRELU) {
            prelus++;
            CHECK_EQ_INT(g->tensors[n->inputs[1]].rank, 1); /* [C,1,1] -> [C] */
        }
    }
    CHECK_EQ_INT(convs, 50);
    CHECK_EQ_INT(prelus, 33);
    CHECK(depthwise >= 17);
    CHECK_EQ_INT(g->nodes[0].op, PL_OP_TRANSPOSE); /* NCHW -> NHWC at the input */
    pl_graph_free(g);
}

/* ---- hostile files ------------------------------------------------------------- */

/* A tiny protobuf writer for building files by hand. */
typedef struct pbw {
    uint8_t b[4096];
    size_t n;
} pbw;

static void w_varint(pbw *w, uint64_t v)
{
    do {
        uint8_t c = v & 0x7f;
        v >>= 7;
        w->b[w->n++] = c | (v ? 0x80 : 0);
    } while (v);
}
static void w_key(pbw *w, int field, int wt) { w_varint(w, (uint64_t)field << 3 | (uint64_t)wt); }
static void w_int(pbw *w, int field, int64_t v) { w_key(w, field, 0); w_varint(w, (uint64_t)v); }
static void w_bytes(pbw *w, int field, const void *p, size_t n)
{
    w_key(w, field, 2);
    w_varint(w, n);
    memcpy(w->b + w->n, p, n);
    w->n += n;
}
static void w_str(pbw *w, int field, const char *s) { w_bytes(w, field, s, strlen(s)); }
static void w_msg(pbw *w, int field, const pbw *m) { w_bytes(w, field, m->b, m->n); }

static void w_tensor(pbw *w, const char *name, int rank, const int64_t *dims, const float *data, int64_t n)
{
    pbw t = {{0}, 0};
    for (int i = 0; i < rank; i++) w_int(&t, 1, dims[i]);
    w_int(&t, 2, 1); /* FLOAT */
    w_str(&t, 8, name);
    if (data) w_bytes(&t, 9, data, (size_t)n * 4);
    w_msg(w, 5, &t); /* GraphProto.initializer */
}

static void w_value_info(pbw *w, int field, const char *name, int rank, const int64_t *dims)
{
    pbw shape = {{0}, 0}, tt = {{0}, 0}, type = {{0}, 0}, vi = {{0}, 0};
    for (int i = 0; i < rank; i++) {
        pbw d = {{0}, 0};
        w_int(&d, 1, dims[i]);
        w_msg(&shape, 1, &d);
    }
    w_int(&tt, 1, 1);
    w_msg(&tt, 2, &shape);
    w_msg(&type, 1, &tt);
    w_str(&vi, 1, name);
    w_msg(&vi, 2, &type);
    w_msg(w, field, &vi);
}

/* A one-Conv model; the knobs break it in one place each. */
typedef struct conv_knobs {
    const char *op;          /* "Conv" */
    const char *weight_ref;  /* name the node reads as weights */
    int n_pads;              /* values in 'pads' */
    int64_t weight_dim0;     /* first dim of the initializer */
    int pads_as_float;       /* give 'pads' the wrong attribute type */
} conv_knobs;

static size_t make_conv_model(uint8_t *out, const conv_knobs *k)
{
    pbw graph = {{0}, 0}, node = {{0}, 0}, attr = {{0}, 0}, model = {{0}, 0}, opset = {{0}, 0};
    float w[4 * 3 * 3 * 3];
    for (int i = 0; i < 108; i++) w[i] = (float)((i * 7) % 11 - 5) / 10.0f;
    int64_t wd[4] = {k->weight_dim0, 3, 3, 3}, xd[4] = {1, 3, 8, 8}, yd[4] = {1, 4, 8, 8};
    w_str(&node, 1, "x");
    w_str(&node, 1, k->weight_ref);
    w_str(&node, 2, "y");
    w_str(&node, 3, "Conv_12");
    w_str(&node, 4, k->op);
    w_str(&attr, 1, "pads");
    if (k->pads_as_float) {
        w_int(&attr, 20, 1);
        w_key(&attr, 2, 5);
        float f = 1;
        memcpy(attr.b + attr.n, &f, 4);
        attr.n += 4;
    } else {
        w_int(&attr, 20, 7); /* INTS */
        for (int i = 0; i < k->n_pads; i++) w_int(&attr, 8, 1);
    }
    w_msg(&node, 5, &attr);
    w_msg(&graph, 1, &node);
    w_str(&graph, 2, "g");
    int64_t n = wd[0] * 27;
    w_tensor(&graph, "w", 4, wd, n <= 108 ? w : NULL, n <= 108 ? n : 0);
    w_value_info(&graph, 11, "x", 4, xd);
    w_value_info(&graph, 12, "y", 4, yd);
    w_int(&model, 1, 7);
    w_int(&opset, 2, 11);
    w_msg(&model, 8, &opset);
    w_msg(&model, 7, &graph);
    memcpy(out, model.b, model.n);
    return model.n;
}

static const conv_knobs good_knobs = {"Conv", "w", 4, 4, 0};

static void expect_error(const uint8_t *data, size_t len, const char *needle)
{
    pl_error err = {0};
    pl_graph *g = pl_onnx_load_memory(data, len, "x.onnx", &err);
    if (g) pl_graph_free(g);
    CHECK_MSG(!g, "loaded, expected an error containing \"%s\"", needle);
    CHECK_CONTAINS(err.msg, "x.onnx");
    CHECK_CONTAINS(err.msg, needle);
}

TEST(onnx_handmade_model_runs)
{
    uint8_t buf[4096];
    size_t n = make_conv_model(buf, &good_knobs);
    pl_error err = {0};
    pl_graph *g = pl_onnx_load_memory(buf, n, "x.onnx", &err);
    CHECK_MSG(g, "%s", err.msg);
    pl_session *s = pl_session_new(g, 1, &err);
    CHECK_MSG(s, "%s", err.msg);
    int64_t d[4] = {1, 3, 8, 8};
    CHECK(pl_session_set_input_shape(s, 0, 4, d, &err) == PL_OK);
    float *x = pl_session_input(s, 0);
    for (int i = 0; i < 192; i++) x[i] = (float)(i % 13) / 13.0f;
    CHECK_MSG(pl_session_run(s, &err) == PL_OK, "%s", err.msg);
    int rank;
    int64_t od[8];
    const float *y = pl_session_output(s, 0, &rank, od);
    CHECK_EQ_INT(rank, 4);
    CHECK_EQ_INT(od[1], 4);
    CHECK_EQ_INT(od[3], 8);
    /* y[0, o=1, 3, 4] by hand: NCHW input, OIHW weights, pads 1 */
    double want = 0;
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) {
                int wi = ((1 * 3 + c) * 3 + i) * 3 + j;
                want += (double)((wi * 7) % 11 - 5) / 10.0 * x[(c * 8 + 3 + i - 1) * 8 + 4 + j - 1];
            }
    CHECK_NEAR(y[(1 * 8 + 3) * 8 + 4], want, 1e-5);
    pl_session_free(s);
    pl_graph_free(g);
}

TEST(onnx_hostile_named_errors)
{
    uint8_t buf[4096];
    conv_knobs k;
    k = good_knobs; k.op = "FooBar";
    expect_error(buf, make_conv_model(buf, &k), "operator 'FooBar' is not supported");
    k = good_knobs; k.weight_ref = "missing_w";
    expect_error(buf, make_conv_model(buf, &k), "'missing_w'");
    k = good_knobs; k.n_pads = 3;
    expect_error(buf, make_conv_model(buf, &k), "node 'Conv_12' (Conv): attribute 'pads' has 3 values, expected 4");
    k = good_knobs; k.pads_as_float = 1;
    expect_error(buf, make_conv_model(buf, &k), "attribute 'pads'");
    k = good_knobs; k.weight_dim0 = (int64_t)1 << 40;
    expect_error(buf, make_conv_model(buf, &k), "tensor 'w'");
    k = good_knobs; k.weight_dim0 = 5; /* 5*27 floats claimed, none stored */
    expect_error(buf, make_conv_model(buf, &k), "tensor 'w'");
}

TEST(onnx_hostile_wire_format)
{
    /* graph (field 7) sent as a varint */
    static const uint8_t wrong_type[] = {0x08, 0x07, 0x38, 0x01};
    expect_error(wrong_type, sizeof wrong_type, "wrong wire type");
    /* graph length 16 with one byte left */
    static const uint8_t past_end[] = {0x08, 0x07, 0x3a, 0x10, 0x0a};
    expect_error(past_end, sizeof past_end, "runs past the end");
    /* a varint that never ends */
    static const uint8_t endless[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    expect_error(endless, sizeof endless, "x.onnx");
    /* deprecated group wire type */
    static const uint8_t group[] = {0x08, 0x07, 0x3b};
    expect_error(group, sizeof group, "x.onnx");
    static const uint8_t text[] = "not a model at all";
    expect_error(text, sizeof text - 1, "x.onnx");
    expect_error(text, 0, "empty");
}

/* Every prefix of a small model fails cleanly (or, if it happens to be a
 * complete message, loads). */
TEST(onnx_hostile_truncated)
{
    uint8_t buf[4096];
    size_t n = make_conv_model(buf, &good_knobs);
    for (size_t len = 0; len < n; len++) {
        pl_error err = {0};
        pl_graph *g = pl_onnx_load_memory(buf, len, "x.onnx", &err);
        if (g) pl_graph_free(g);
        else CHECK_CONTAINS(err.msg, "x.onnx");
    }
    /* and a real model cut at 200 places */
    uint8_t *data;
    size_t len;
    const char *path = "models/faceplugin/fr_gender.onnx";
    if (!pl_file_exists(path)) SKIP("%s missing", path);
    CHECK(pl_read_file(path, 64u << 20, &data, &len, NULL) == PL_OK);
    int step = asan() ? 50 : 200;
    for (int i = 1; i < step; i++) {
        size_t cut = len * (size_t)i / (size_t)step;
        pl_error err = {0};
        pl_graph *g = pl_onnx_load_memory(data, cut, path, &err);
        CHECK_MSG(!g, "loaded a model cut at byte %zu", cut);
        CHECK_CONTAINS(err.msg, path);
    }
    /* flipped bytes: must never crash */
    uint8_t *copy = malloc(len);
    for (int i = 0; i < (asan() ? 40 : 200); i++) {
        memcpy(copy, data, len);
        size_t at = (size_t)((uint64_t)i * 2654435761u % len);
        copy[at] ^= (uint8_t)(0x5a + i);
        pl_error err = {0};
        pl_graph *g = pl_onnx_load_memory(copy, len, path, &err);
        if (g) pl_graph_free(g);
    }
    free(copy);
    free(data);
}

/* Every fuzz seed, including inputs that once crashed the reader
 * (regress_*.onnx), loads or fails with a message naming the file. */
TEST(onnx_fuzz_seeds_and_regressions)
{
    FILE *p = popen("ls fuzz/seeds/onnx/*.onnx 2>/dev/null", "r");
    char path[512];
    int n = 0;
    CHECK(p);
    while (fgets(path, sizeof path, p)) {
        path[strcspn(path, "\n")] = 0;
        uint8_t *data;
        size_t len;
        CHECK(pl_read_file(path, 1u << 20, &data, &len, NULL) == PL_OK);
        pl_error err = {0};
        pl_graph *g = pl_onnx_load_memory(data, len, "seed.onnx", &err);
        if (g) pl_graph_free(g);
        else CHECK_CONTAINS(err.msg, "seed.onnx");
        free(data);
        n++;
    }
    pclose(p);
    CHECK(n >= 6);
}

TEST(onnx_missing_file)
{
    pl_error err = {0};
    CHECK(!pl_onnx_load("no/such/model.onnx", &err));
    CHECK_CONTAINS(err.msg, "no/such/model.onnx");
}
