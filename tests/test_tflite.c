/* test_tflite.c — the TFLite reader: the four expo models load with the
 * operator counts MODELS.md lists, run to the goldens made by wasm TFLite
 * (tools/golden/tflite/gen.js), and hostile files fail cleanly. */
#include "test.h"
#include "golden.h"

#include <stdint.h>

#include "engine/graph.h"
#include "engine/session.h"
#include "formats/formats.h"
#include "formats/tflite.h"
#include "util/fs.h"

/* ---- helpers ------------------------------------------------------------- */

static int model_path(char *buf, size_t size, const char *file)
{
    snprintf(buf, size, "%s/expo/%s", test_models_dir(), file);
    return pl_file_exists(buf);
}

static uint8_t *model_bytes(const char *file, size_t *len, char *path, size_t psize)
{
    if (!model_path(path, psize, file)) return NULL;
    uint8_t *data = NULL;
    if (pl_read_file(path, 1 << 28, &data, len, NULL) != PL_OK) return NULL;
    return data;
}

#define NEED_MODEL(file, path)                                                 \
    do {                                                                       \
        if (!model_path(path, sizeof path, file))                              \
            SKIP("%s missing: run 'make models'", path);                      \
    } while (0)

/* ---- loading ------------------------------------------------------------- */

TEST(tflite_pnet_ops)
{
    char path[512];
    pl_error err = {0};
    NEED_MODEL("pnet.tflite", path);
    pl_graph *g = pl_tflite_load(path, &err);
    CHECK_MSG(g, "%s", err.msg);
    CHECK_EQ_INT(graph_count_op(g, PL_OP_CONV2D), 5);
    CHECK_EQ_INT(graph_count_op(g, PL_OP_RELU), 6);
    CHECK_EQ_INT(graph_count_op(g, PL_OP_NEG), 6);
    CHECK_EQ_INT(graph_count_op(g, PL_OP_MUL), 3);
    CHECK_EQ_INT(graph_count_op(g, PL_OP_ADD), 3);
    CHECK_EQ_INT(graph_count_op(g, PL_OP_MAX_POOL), 1);
    CHECK_EQ_INT(graph_count_op(g, PL_OP_REDUCE_MAX), 1);
    CHECK_EQ_INT(graph_count_op(g, PL_OP_SUB), 1);
    CHECK_EQ_INT(graph_count_op(g, PL_OP_EXP), 1);
    CHECK_EQ_INT(graph_count_op(g, PL_OP_REDUCE_SUM), 1);
    CHECK_EQ_INT(graph_count_op(g, PL_OP_DIV), 1);
    CHECK_EQ_INT(g->n_inputs, 1);
    CHECK_EQ_INT(g->n_outputs, 2);
    const pl_tensor *in = &g->tensors[g->inputs[0]];
    CHECK_EQ_INT(in->rank, 4);
    CHECK_EQ_INT(in->dims[1], 1280);
    CHECK_EQ_INT(in->dims[2], 960);
    CHECK_EQ_INT(in->dims[3], 3);
    pl_graph_free(g);
}

TEST(tflite_rnet_onet_ops)
{
    char path[512];
    pl_error err = {0};
    NEED_MODEL("rnet.tflite", path);
    pl_graph *g = pl_tflite_load(path, &err);
    CHECK_MSG(g, "%s", err.msg);
    CHECK_EQ_INT(graph_count_op(g, PL_OP_CONV2D), 3);
    CHECK_EQ_INT(graph_count_op(g, PL_OP_MAX_POOL), 2);
    CHECK_EQ_INT(graph_count_op(g, PL_OP_FULLY_CONNECTED), 3);
    CHECK_EQ_INT(graph_count_op(g, PL_OP_RELU), 8);
    CHECK_EQ_INT(graph_count_op(g, PL_OP_NEG), 8);
    CHECK_EQ_INT(g->n_outputs, 2);
    pl_graph_free(g);

    NEED_MODEL("onet.tflite", path);
    g = pl_tflite_load(path, &err);
    CHECK_MSG(g, "%s", err.msg);
    CHECK_EQ_INT(graph_count_op(g, PL_OP_CONV2D), 4);
    CHECK_EQ_INT(graph_count_op(g, PL_OP_MAX_POOL), 3);
    CHECK_EQ_INT(graph_count_op(g, PL_OP_FULLY_CONNECTED), 4);
    CHECK_EQ_INT(graph_count_op(g, PL_OP_RELU), 10);
    CHECK_EQ_INT(graph_count_op(g, PL_OP_ADD), 5);
    CHECK_EQ_INT(g->n_outputs, 3);
    const pl_tensor *in = &g->tensors[g->inputs[0]];
    CHECK_EQ_INT(in->dims[1], 48);
    pl_graph_free(g);
}

TEST(tflite_mobilefacenet_ops)
{
    char path[512];
    pl_error err = {0};
    NEED_MODEL("MobileFaceNet.tflite", path);
    pl_graph *g = pl_tflite_load(path, &err);
    CHECK_MSG(g, "%s", err.msg);
    CHECK_EQ_INT(g->n_nodes, 230);
    CHECK_EQ_INT(graph_count_op(g, PL_OP_ADD), 45);
    CHECK_EQ_INT(graph_count_op(g, PL_OP_CONV2D), 35 + 17);
    CHECK_EQ_INT(graph_count_op(g, PL_OP_ABS), 33);
    CHECK_EQ_INT(graph_count_op(g, PL_OP_RESHAPE), 1);
    int dw = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const pl_node *n = &g->nodes[i];
        if (n->op != PL_OP_CONV2D || n->params.conv.groups == 1) continue;
        const pl_tensor *w = &g->tensors[n->inputs[1]];
        CHECK_EQ_INT(w->dims[3], 1);
        CHECK_EQ_INT(n->params.conv.groups, w->dims[0]);
        dw++;
    }
    CHECK_EQ_INT(dw, 17);
    const pl_tensor *in = &g->tensors[g->inputs[0]];
    CHECK_EQ_INT(in->dims[0], 2);
    CHECK_EQ_INT(in->dims[1], 112);
    pl_graph_free(g);
}

/* ---- goldens --------------------------------------------------------------- */

#define GOLDEN "tests/golden/tflite"

static int npy_load(const char *file, npy *a) { return golden_npy_load(GOLDEN, file, a); }

static pl_session *session_for(pl_graph *g, pl_kernel_mode mode, const int64_t *dims)
{
    pl_error err = {0};
    pl_session *s = golden_session(g, mode, 1, 4, dims, &err);
    CHECK_MSG(s, "%s", err.msg);
    return s;
}

static void run_session(pl_session *s, const float *x, int64_t n)
{
    pl_error err = {0};
    CHECK_MSG(golden_run(s, x, n, &err) == PL_OK, "%s", err.msg);
}

/* Graphs for the golden runs: as read, or after the engine's load-time
 * rewrites (PReLU/softmax fusion...), which pl_model_graph_load applies. */
static int optimize_graphs;

static pl_graph *load_graph(const char *path, pl_error *err)
{
    pl_graph *g = pl_tflite_load(path, err);
    if (!g || !optimize_graphs) return g;
    int before = g->n_nodes;
    if (pl_graph_optimize(g, err) != PL_OK) {
        pl_graph_free(g);
        return NULL;
    }
    printf("    %s: %d nodes, %d after pl_graph_optimize\n", path, before, g->n_nodes);
    return g;
}

/* rnet / onet: one input, every output compared whole. */
static void golden_small(const char *model, const char *stem, int n_out, pl_kernel_mode mode)
{
    char path[512], file[64];
    pl_error err = {0};
    npy in, want;
    NEED_MODEL(model, path);
    snprintf(file, sizeof file, "%s_in.npy", stem);
    CHECK_MSG(npy_load(file, &in), "tests/golden/tflite/%s unreadable", file);
    pl_graph *g = load_graph(path, &err);
    CHECK_MSG(g, "%s", err.msg);
    CHECK_EQ_INT(g->n_outputs, n_out);
    pl_session *s = session_for(g, mode, in.dims);
    run_session(s, in.data, in.n);
    for (int k = 0; k < n_out; k++) {
        int rank;
        int64_t dims[PL_MAX_RANK];
        const float *y = pl_session_output(s, k, &rank, dims);
        snprintf(file, sizeof file, "%s_out%d.npy", stem, k);
        CHECK(npy_load(file, &want));
        CHECK_EQ_INT(rank, want.rank);
        for (int d = 0; d < rank; d++) CHECK_EQ_INT(dims[d], want.dims[d]);
        char what[64];
        snprintf(what, sizeof what, "%s out%d %s%s", stem, k, mode ? "ref" : "fast", optimize_graphs ? " opt" : "");
        golden_check(what, y, want.data, want.n, want.data, want.n);
        free(want.data);
    }
    pl_session_free(s);
    pl_graph_free(g);
    free(in.data);
}

TEST(tflite_rnet_golden) { optimize_graphs = 0; golden_small("rnet.tflite", "rnet", 2, PL_KERNELS_FAST); }
TEST(tflite_rnet_golden_ref) { optimize_graphs = 0; golden_small("rnet.tflite", "rnet", 2, PL_KERNELS_REFERENCE); }
TEST(tflite_onet_golden) { optimize_graphs = 0; golden_small("onet.tflite", "onet", 3, PL_KERNELS_FAST); }
TEST(tflite_onet_golden_ref) { optimize_graphs = 0; golden_small("onet.tflite", "onet", 3, PL_KERNELS_REFERENCE); }

/* MobileFaceNet: the stored batch of 2, then each face alone at batch 1. */
static void golden_mfn(pl_kernel_mode mode)
{
    char path[512];
    pl_error err = {0};
    npy in, want;
    NEED_MODEL("MobileFaceNet.tflite", path);
    CHECK(npy_load("mfn_in.npy", &in));
    CHECK(npy_load("mfn_out0.npy", &want));
    pl_graph *g = load_graph(path, &err);
    CHECK_MSG(g, "%s", err.msg);
    int rank;
    int64_t dims[PL_MAX_RANK];
    pl_session *s = session_for(g, mode, in.dims);
    run_session(s, in.data, in.n);
    const float *y = pl_session_output(s, 0, &rank, dims);
    CHECK_EQ_INT(rank, 2);
    CHECK_EQ_INT(dims[0], 2);
    CHECK_EQ_INT(dims[1], 192);
    golden_check(mode ? "mfn batch2 ref" : "mfn batch2 fast", y, want.data, want.n, want.data, want.n);
    pl_session_free(s);

    int64_t one[4] = {1, 112, 112, 3};
    s = session_for(g, mode, one);
    for (int b = 0; b < 2; b++) {
        run_session(s, in.data + b * in.n / 2, in.n / 2);
        y = pl_session_output(s, 0, &rank, dims);
        CHECK_EQ_INT(rank, 2);
        CHECK_EQ_INT(dims[0], 1);
        CHECK_EQ_INT(dims[1], 192);
        golden_check(b ? "mfn batch1 face1" : "mfn batch1 face0", y, want.data + b * 192, 192, want.data + b * 192, 192);
    }
    pl_session_free(s);
    pl_graph_free(g);
    free(in.data);
    free(want.data);
}

TEST(tflite_mobilefacenet_golden) { optimize_graphs = 0; golden_mfn(PL_KERNELS_FAST); }
TEST(tflite_mobilefacenet_golden_ref) { optimize_graphs = 0; golden_mfn(PL_KERNELS_REFERENCE); }

/* pnet's golden input: the committed 160x120 image upscaled x8 (nearest)
 * and transposed, as gen.js builds it: pixel (i, j) = small[j/8][i/8]. */
static float *pnet_input(const npy *small, int y0, int x0, int h, int w)
{
    if (y0 < 0 || x0 < 0 || y0 + h > 1280 || x0 + w > 960) return NULL;
    float *x = malloc((size_t)h * w * 3 * sizeof(float));
    if (!x) return NULL;
    for (int i = 0; i < h; i++)
        for (int j = 0; j < w; j++)
            for (int c = 0; c < 3; c++) {
                int si = (y0 + i) >> 3, sj = (x0 + j) >> 3;
                x[((size_t)i * w + j) * 3 + c] =
                    (small->data[((size_t)sj * 160 + si) * 3 + c] - 127.5f) / 128.0f;
            }
    return x;
}

/* Run pnet on input rows/cols [y0, y0+h) x [x0, x0+w) of the golden input
 * and compare output cells [oy, oy+64) x [ox, ox+64) to the golden window. */
static void pnet_compare(pl_graph *g, pl_kernel_mode mode, const npy *small,
                         const npy *win, int y0, int x0, int h, int w, int oy, int ox,
                         const char *label)
{
    int64_t dims[4] = {1, h, w, 3};
    pl_session *s = session_for(g, mode, dims);
    float *x = pnet_input(small, y0, x0, h, w);
    CHECK(x);
    run_session(s, x, (int64_t)h * w * 3);
    free(x);
    for (int k = 0; k < 2; k++) {
        npy want;
        char file[32], what[64];
        snprintf(file, sizeof file, "pnet_out%d.npy", k);
        CHECK(npy_load(file, &want));
        int rank, c = (int)want.dims[3];
        int64_t od[PL_MAX_RANK];
        const float *y = pl_session_output(s, k, &rank, od);
        CHECK_EQ_INT(rank, 4);
        CHECK_EQ_INT(od[1], (h - 2 + 1) / 2 - 4);
        CHECK_EQ_INT(od[2], (w - 2 + 1) / 2 - 4);
        CHECK_EQ_INT(od[3], c);
        CHECK(oy + 64 <= od[1] && ox + 64 <= od[2]);
        float *got = malloc(sizeof(float) * 64 * 64 * (size_t)c);
        CHECK(got);
        for (int i = 0; i < 64; i++)
            memcpy(got + (size_t)i * 64 * c, y + ((size_t)(oy + i) * od[2] + ox) * c,
                   sizeof(float) * 64 * (size_t)c);
        snprintf(what, sizeof what, "pnet %s out%d", label, k);
        golden_check(what, got, want.data, want.n, want.data, want.n);
        free(got);
        free(want.data);
    }
    (void)win;
    pl_session_free(s);
}

static void golden_pnet(pl_kernel_mode mode, int full)
{
    char path[512];
    pl_error err = {0};
    npy small, win;
    NEED_MODEL("pnet.tflite", path);
    CHECK(npy_load("pnet_small.npy", &small));
    CHECK(npy_load("pnet_window.npy", &win));
    CHECK_EQ_INT(small.dims[0], 120);
    CHECK_EQ_INT(small.dims[1], 160);
    int wy = (int)win.data[0], wx = (int)win.data[1];
    pl_graph *g = load_graph(path, &err);
    CHECK_MSG(g, "%s", err.msg);
    if (full) /* the stored size, as wasm TFLite ran it */
        pnet_compare(g, mode, &small, &win, 0, 0, 1280, 960, wy, wx, "1280x960");
    /* Another size: pnet is fully convolutional with VALID convolutions and
     * an even-aligned 2x2/s2 pool, so a crop starting at an even pixel
     * gives exactly the matching cells. 138 = 2*64 + 10 rows give 64 cells;
     * a wider crop checks a non-square size too. */
    pnet_compare(g, mode, &small, &win, 2 * wy, 2 * wx, 138, 150, 0, 0, "crop 138x150");
    pnet_compare(g, mode, &small, &win, 2 * wy - 20, 2 * wx - 6, 171, 147, 10, 3, "crop 171x147");
    pl_graph_free(g);
    free(small.data);
    free(win.data);
}

TEST(tflite_pnet_golden) { optimize_graphs = 0; golden_pnet(PL_KERNELS_FAST, 1); }
TEST(tflite_pnet_golden_ref) { optimize_graphs = 0; golden_pnet(PL_KERNELS_REFERENCE, 0); }

/* ---- hostile files ----------------------------------------------------------- */

/* Load bytes that must be refused: NULL, and a message naming the file. */
static void expect_refused(const uint8_t *data, size_t len, const char *needle)
{
    pl_error err = {0};
    pl_graph *g = pl_tflite_load_memory(data, len, "hostile.tflite", &err);
    if (g) pl_graph_free(g);
    CHECK_MSG(!g, "a hostile file loaded (expected \"%s\")", needle ? needle : "an error");
    CHECK_CONTAINS(err.msg, "hostile.tflite");
    if (needle) CHECK_CONTAINS(err.msg, needle);
    CHECK(err.code != PL_OK);
}

/* Load bytes that may or may not be valid: no crash, and a named error
 * when refused. Returns 1 if it loaded. */
static int load_any(const uint8_t *data, size_t len)
{
    pl_error err = {0};
    pl_graph *g = pl_tflite_load_memory(data, len, "hostile.tflite", &err);
    if (!g) {
        CHECK_CONTAINS(err.msg, "hostile.tflite");
        return 0;
    }
    pl_graph_free(g);
    return 1;
}

/* Offset of the first occurrence of needle in hay, or -1. */
static long find_bytes(const uint8_t *hay, size_t n, const void *needle, size_t m)
{
    for (size_t i = 0; i + m <= n; i++)
        if (!memcmp(hay + i, needle, m)) return (long)i;
    return -1;
}

/* Position of field id of the table at pos (trusting a valid file). */
static size_t field_pos(const uint8_t *p, size_t table, int id)
{
    int32_t soff;
    uint16_t vlen, off;
    memcpy(&soff, p + table, 4);
    size_t vt = table - (size_t)(int64_t)soff;
    memcpy(&vlen, p + vt, 2);
    if (4 + 2 * (size_t)id + 2 > vlen) return 0;
    memcpy(&off, p + vt + 4 + 2 * id, 2);
    return off ? table + off : 0;
}

static size_t deref(const uint8_t *p, size_t at)
{
    uint32_t o;
    memcpy(&o, p + at, 4);
    return at + o;
}

/* pnet.tflite read whole, and a copy of it for the test to damage; the
 * test is skipped when the model is missing. */
static uint8_t *pnet_bytes(size_t *len, uint8_t **copy)
{
    char path[512];
    uint8_t *data = model_bytes("pnet.tflite", len, path, sizeof path);
    if (!data) SKIP("models/expo/pnet.tflite missing: run 'make models'");
    *copy = malloc(*len);
    if (!*copy) free(data);
    CHECK(*copy);
    memcpy(*copy, data, *len);
    return data;
}

TEST(tflite_hostile_headers)
{
    size_t len;
    uint8_t *copy, *data = pnet_bytes(&len, &copy);
    pl_error err = {0};
    CHECK(!pl_tflite_load_memory(NULL, 0, "empty.tflite", &err));
    CHECK_CONTAINS(err.msg, "empty.tflite");
    CHECK(!pl_tflite_load("/nonexistent/x.tflite", &err));
    CHECK_CONTAINS(err.msg, "/nonexistent/x.tflite");

    memcpy(copy + 4, "TFL2", 4);
    expect_refused(copy, len, "TFL3");

    memcpy(copy, data, len);
    uint32_t bad = 0xfffffff0u;
    memcpy(copy, &bad, 4); /* the root offset */
    expect_refused(copy, len, "past the end");

    memcpy(copy, data, len);
    size_t root = deref(copy, 0);
    int32_t soff = -0x7ffffff0; /* the model's vtable offset */
    memcpy(copy + root, &soff, 4);
    expect_refused(copy, len, "vtable");

    /* Every truncation is refused (all but the last few bytes are in use). */
    int loaded = 0;
    for (size_t n = 0; n < len; n += (n < 512 ? 1 : 61)) loaded += load_any(data, n);
    CHECK_EQ_INT(loaded, 0);
    free(copy);
    free(data);
}

TEST(tflite_hostile_shapes)
{
    size_t len;
    uint8_t *copy, *data = pnet_bytes(&len, &copy);

    /* The input's shape vector [1,1280,960,3]. */
    const int32_t in_shape[5] = {4, 1, 1280, 960, 3};
    long at = find_bytes(data, len, in_shape, sizeof in_shape);
    CHECK(at >= 0);
    int32_t v;
    memcpy(copy, data, len);
    v = 0x7fffffff;
    memcpy(copy + at + 8, &v, 4);
    memcpy(copy + at + 12, &v, 4);
    expect_refused(copy, len, "Tensor.shape");
    memcpy(copy, data, len);
    v = -5;
    memcpy(copy + at + 8, &v, 4);
    expect_refused(copy, len, "negative");
    memcpy(copy, data, len);
    v = 7; /* rank 7 */
    memcpy(copy + at, &v, 4);
    expect_refused(copy, len, NULL);
    memcpy(copy, data, len);
    v = 0x40000000; /* a vector length past the end */
    memcpy(copy + at, &v, 4);
    expect_refused(copy, len, "past the end");

    /* The first convolution's weights [10,3,3,3]: a shape that no longer
     * matches its buffer. */
    const int32_t w_shape[5] = {4, 10, 3, 3, 3};
    at = find_bytes(data, len, w_shape, sizeof w_shape);
    CHECK(at >= 0);
    memcpy(copy, data, len);
    v = 1000;
    memcpy(copy + at + 4, &v, 4);
    expect_refused(copy, len, "buffer");
    free(copy);
    free(data);
}

TEST(tflite_hostile_operator)
{
    size_t len;
    uint8_t *copy, *data = pnet_bytes(&len, &copy);
    /* Model.operator_codes[0].deprecated_builtin_code := 16 (LSTM). */
    size_t model = deref(copy, 0);
    size_t codes = deref(copy, field_pos(copy, model, 1));
    /* (a code equal to the default 0, ADD, is not stored: take another) */
    uint32_t n_codes;
    memcpy(&n_codes, copy + codes, 4);
    size_t code = 0, dep = 0;
    for (uint32_t i = 0; i < n_codes && !dep; i++) {
        code = deref(copy, codes + 4 + 4 * i);
        dep = field_pos(copy, code, 0);
    }
    CHECK(dep != 0);
    size_t builtin = field_pos(copy, code, 3);
    if (builtin) memset(copy + builtin, 0, 4);
    copy[dep] = 16;
    expect_refused(copy, len, "(LSTM) is not supported");
    copy[dep] = 32;
    expect_refused(copy, len, "(CUSTOM) is not supported");
    copy[dep] = 0x80; /* negative */
    expect_refused(copy, len, NULL);

    /* An operator reading a tensor index past the end. */
    memcpy(copy, data, len);
    size_t subgraphs = deref(copy, field_pos(copy, model, 2));
    size_t sg = deref(copy, subgraphs + 4);
    size_t ops = deref(copy, field_pos(copy, sg, 3));
    size_t op0 = deref(copy, ops + 4);
    size_t ins = deref(copy, field_pos(copy, op0, 1));
    int32_t v = 100000;
    memcpy(copy + ins + 4, &v, 4);
    expect_refused(copy, len, "out of range");
    free(copy);
    free(data);
}

/* Flip bytes all over a valid file: never a crash or a leak (run under
 * `make asan T=tflite`); a refusal always names the file. */
TEST(tflite_hostile_byte_flips)
{
    size_t len;
    uint8_t *copy, *data = pnet_bytes(&len, &copy);
    int refused = 0, tried = 0;
    static const uint8_t masks[] = {0xff, 0x80, 0x01, 0x40};
    for (size_t i = 0; i < len; i += (i < 2048 || i > len - 2048 ? 1 : 13)) {
        uint8_t m = masks[i % 4];
        copy[i] ^= m;
        refused += !load_any(copy, len);
        tried++;
        copy[i] ^= m;
    }
    printf("    %d of %d flipped files refused\n", refused, tried);
    free(copy);
    free(data);
}

/* The synthetic models (tools/golden/tflite/synth.js, also the fuzz seeds)
 * against wasm TFLite. synth: float16 DEQUANTIZE, depthwise x2, average
 * pool with SAME borders, PAD, MEAN, FC + RELU_N1_TO_1, SOFTMAX, CONCAT,
 * RESHAPE, MUL. synth2: dilated conv, LEAKY_RELU, PRELU, MAX_POOL + RELU6,
 * TRANSPOSE, PADV2, ABS, SQRT, LOGISTIC, SQUARED_DIFFERENCE, MAXIMUM,
 * MINIMUM, RSQRT, LOG, TANH, SUM, REDUCE_MAX, EXP, DIV, SUB, RELU6, RESHAPE
 * by options, L2_NORMALIZATION, POW. */
static void golden_synth(const char *stem, int n_nodes, pl_kernel_mode mode)
{
    pl_error err = {0};
    npy in, want;
    char file[64], path[128], what[64];
    snprintf(file, sizeof file, "%s_in.npy", stem);
    CHECK(npy_load(file, &in));
    snprintf(file, sizeof file, "%s_out0.npy", stem);
    CHECK(npy_load(file, &want));
    snprintf(path, sizeof path, "fuzz/seeds/tflite/%s.tflite", stem);
    pl_graph *g = load_graph(path, &err);
    CHECK_MSG(g, "%s", err.msg);
    if (!optimize_graphs) CHECK_EQ_INT(g->n_nodes, n_nodes);
    pl_session *s = session_for(g, mode, in.dims);
    run_session(s, in.data, in.n);
    int rank;
    int64_t dims[PL_MAX_RANK];
    const float *y = pl_session_output(s, 0, &rank, dims);
    CHECK_EQ_INT(rank, want.rank);
    for (int d = 0; d < rank; d++) CHECK_EQ_INT(dims[d], want.dims[d]);
    snprintf(what, sizeof what, "%s %s%s", stem, mode ? "ref" : "fast", optimize_graphs ? " opt" : "");
    golden_check(what, y, want.data, want.n, want.data, want.n);
    pl_session_free(s);
    pl_graph_free(g);
    free(in.data);
    free(want.data);
}

/* synth: DEQUANTIZE folded into a constant, the pool's RELU split off. */
TEST(tflite_synth_golden) { optimize_graphs = 0; golden_synth("synth", 11, PL_KERNELS_FAST); }
TEST(tflite_synth_golden_ref) { optimize_graphs = 0; golden_synth("synth", 11, PL_KERNELS_REFERENCE); }
/* synth2: 25 operators, the max pool's RELU6 split off. */
TEST(tflite_synth2_golden) { optimize_graphs = 0; golden_synth("synth2", 26, PL_KERNELS_FAST); }
TEST(tflite_synth2_golden_ref) { optimize_graphs = 0; golden_synth("synth2", 26, PL_KERNELS_REFERENCE); }

/* The same goldens after pl_graph_optimize (the product's path). */
TEST(tflite_rnet_golden_opt) { optimize_graphs = 1; golden_small("rnet.tflite", "rnet", 2, PL_KERNELS_FAST); optimize_graphs = 0; }
TEST(tflite_onet_golden_opt) { optimize_graphs = 1; golden_small("onet.tflite", "onet", 3, PL_KERNELS_FAST); optimize_graphs = 0; }
TEST(tflite_mobilefacenet_golden_opt) { optimize_graphs = 1; golden_mfn(PL_KERNELS_FAST); optimize_graphs = 0; }
TEST(tflite_pnet_golden_opt) { optimize_graphs = 1; golden_pnet(PL_KERNELS_FAST, 1); optimize_graphs = 0; }
TEST(tflite_synth_golden_opt) { optimize_graphs = 1; golden_synth("synth", 11, PL_KERNELS_FAST); optimize_graphs = 0; }
TEST(tflite_synth2_golden_opt) { optimize_graphs = 1; golden_synth("synth2", 26, PL_KERNELS_FAST); optimize_graphs = 0; }
TEST(tflite_mobilefacenet_golden_opt_ref) { optimize_graphs = 1; golden_mfn(PL_KERNELS_REFERENCE); optimize_graphs = 0; }
