/* faceapi.c — face-api's weights-only models: the weights come from a
 * *-weights_manifest.json + .bin (tfjs_weights.c); the architecture is
 * written here with the graph builder, following face-api's TypeScript
 * (src/faceRecognitionNet, src/xception + src/ageGenderNet, v1.7.15).
 *
 * Both graphs take RGB pixel values 0..255 (float, NHWC, batch any) at the
 * net's own size and do face-api's normalisation inside:
 * (x - [122.782, 117.001, 104.298]) / 255.
 *   "face_recognition": [N,150,150,3] -> [N,128] descriptor (not normalised)
 *   "age_gender":       [N,112,112,3] -> age [N], gender [N,2] = softmax,
 *                       [0] = P(male)
 */
#include "formats/formats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/tfjs_internal.h"
#include "util/fs.h"
#include "util/json.h"

/* Builder state. Every helper returns a tensor index or -1 once anything
 * failed (the first error is kept), so architectures read top to bottom
 * without a check per line. */
typedef struct fb {
    pl_graph *g;
    pl_tfjs_weights ws;
    const char *name;
    pl_error *err;
    int failed;
    int uniq;
} fb;

static int fail(fb *b, pl_status code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(fb *b, pl_status code, const char *fmt, ...)
{
    if (b->failed) return -1;
    b->failed = 1;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pl_fail(b->err, code, "%s: %s", b->name, msg);
    return -1;
}

/* A fresh activation tensor "<prefix>/<what>#k". */
static int act(fb *b, const char *prefix, const char *what)
{
    if (b->failed) return -1;
    char nm[512];
    snprintf(nm, sizeof nm, "%s/%s#%d", prefix, what, b->uniq++);
    int t = pl_graph_add_tensor(b->g, nm);
    return t < 0 ? fail(b, PL_ERR_NOMEM, "out of memory") : t;
}

static pl_node *node(fb *b, pl_op op, const char *prefix, const int *in, int n, int out)
{
    if (b->failed) return NULL;
    for (int i = 0; i < n; i++)
        if (in[i] < 0) return NULL;
    pl_node *nd = pl_graph_add_node(b->g, op, prefix, in, n, &out, 1);
    if (!nd) fail(b, PL_ERR_NOMEM, "out of memory");
    return nd;
}

/* ---- weights ------------------------------------------------------------------ */
typedef enum layout { AS_IS, CONV_OHWI, DEPTHWISE, FC_NK } layout;

/* Weight `wname` with `rank` dims (and, when not -1, dims[last] == last),
 * added as a constant in the engine's layout. */
static int weight(fb *b, const char *wname, int rank, layout lay)
{
    if (b->failed) return -1;
    const pl_tfjs_weight *w = pl_tfjs_weights_find(&b->ws, wname);
    if (!w) return fail(b, PL_ERR_FORMAT, "weight '%s' is missing", wname);
    if (w->is_int || w->rank != rank)
        return fail(b, PL_ERR_FORMAT, "weight '%s' has rank %d, expected a float tensor of rank %d",
                    wname, w->rank, rank);
    float *d = malloc((size_t)w->numel * sizeof *d);
    if (!d) return fail(b, PL_ERR_NOMEM, "out of memory");
    int64_t dims[PL_MAX_RANK];
    memcpy(dims, w->dims, sizeof dims);
    if (lay == AS_IS) {
        memcpy(d, w->data, (size_t)w->numel * sizeof *d);
    } else if (lay == FC_NK) { /* [K, N] -> [N, K] */
        int64_t k = w->dims[0], n = w->dims[1];
        for (int64_t i = 0; i < k; i++)
            for (int64_t j = 0; j < n; j++) d[j * k + i] = w->data[i * n + j];
        dims[0] = n;
        dims[1] = k;
    } else { /* HWIO -> OHWI, or depthwise HWCM -> [C*M, H, W, 1] */
        int64_t kh = w->dims[0], kw = w->dims[1], ci = w->dims[2], co = w->dims[3];
        for (int64_t y = 0; y < kh; y++)
            for (int64_t x = 0; x < kw; x++)
                for (int64_t i = 0; i < ci; i++)
                    for (int64_t o = 0; o < co; o++) {
                        float v = w->data[((y * kw + x) * ci + i) * co + o];
                        if (lay == DEPTHWISE) d[((i * co + o) * kh + y) * kw + x] = v;
                        else d[((o * kh + y) * kw + x) * ci + i] = v;
                    }
        int64_t od[4] = {lay == DEPTHWISE ? ci * co : co, kh, kw, lay == DEPTHWISE ? 1 : ci};
        memcpy(dims, od, sizeof od);
    }
    int t = pl_graph_add_const(b->g, wname, rank, dims, d);
    return t < 0 ? fail(b, PL_ERR_NOMEM, "out of memory") : t;
}

static int constant(fb *b, const char *cname, int n, const float *v)
{
    if (b->failed) return -1;
    float *d = malloc((size_t)n * sizeof *d);
    if (!d) return fail(b, PL_ERR_NOMEM, "out of memory");
    memcpy(d, v, (size_t)n * sizeof *d);
    int64_t dims[1] = {n};
    int t = pl_graph_add_const(b->g, cname, 1, dims, d);
    return t < 0 ? fail(b, PL_ERR_NOMEM, "out of memory") : t;
}

/* Output channels of a conv weight as stored in the manifest (HWIO). */
static int64_t filters_out(fb *b, const char *wname, int depthwise)
{
    const pl_tfjs_weight *w = pl_tfjs_weights_find(&b->ws, wname);
    if (!w || w->rank != 4) return -1;
    return depthwise ? w->dims[2] * w->dims[3] : w->dims[3];
}

/* ---- layers ------------------------------------------------------------------- */
static int conv(fb *b, int x, const char *prefix, const char *filters, const char *bias,
                int stride, pl_padding pad, int depthwise)
{
    char wn[512], bn[512];
    snprintf(wn, sizeof wn, "%s/%s", prefix, filters);
    int in[3] = {x, weight(b, wn, 4, depthwise ? DEPTHWISE : CONV_OHWI), -1}, n = 2;
    if (bias) {
        snprintf(bn, sizeof bn, "%s/%s", prefix, bias);
        in[n++] = weight(b, bn, 1, AS_IS);
    }
    int out = act(b, prefix, depthwise ? "depthwise" : "conv");
    pl_node *nd = node(b, PL_OP_CONV2D, prefix, in, n, out);
    if (!nd) return -1;
    const pl_tensor *w = &b->g->tensors[in[1]];
    pl_conv_params *c = &nd->params.conv;
    c->kh = (int)w->dims[1];
    c->kw = (int)w->dims[2];
    c->stride_h = c->stride_w = stride;
    c->dilation_h = c->dilation_w = 1;
    c->groups = depthwise ? (int)w->dims[0] : 1;
    c->padding = pad;
    return out;
}

static int unary(fb *b, pl_op op, int x, const char *prefix, const char *what)
{
    int out = act(b, prefix, what);
    return node(b, op, prefix, &x, 1, out) ? out : -1;
}

static int relu(fb *b, int x, const char *prefix) { return unary(b, PL_OP_RELU, x, prefix, "relu"); }

static int binary(fb *b, pl_op op, int x, int y, const char *prefix, const char *what)
{
    int in[2] = {x, y}, out = act(b, prefix, what);
    return node(b, op, prefix, in, 2, out) ? out : -1;
}

static int pool(fb *b, pl_op op, int x, const char *prefix, int k, int stride, pl_padding pad)
{
    int out = act(b, prefix, op == PL_OP_MAX_POOL ? "maxpool" : "avgpool");
    pl_node *nd = node(b, op, prefix, &x, 1, out);
    if (!nd) return -1;
    pl_pool_params *p = &nd->params.pool;
    p->kh = p->kw = k;
    p->stride_h = p->stride_w = stride;
    p->padding = pad;
    p->count_include_pad = 0;
    return out;
}

/* Zeros appended after the data on each axis of a 4-D tensor (TF concat
 * with zeros, as face-api's residualDown does). */
static int pad_after(fb *b, int x, const char *prefix, int h, int w, int c)
{
    int out = act(b, prefix, "pad");
    pl_node *nd = node(b, PL_OP_PAD, prefix, &x, 1, out);
    if (!nd) return -1;
    nd->params.pad.rank = 4;
    nd->params.pad.after[1] = h;
    nd->params.pad.after[2] = w;
    nd->params.pad.after[3] = c;
    return out;
}

static int fc(fb *b, int x, const char *wname, const char *bname, const char *prefix)
{
    int in[3] = {x, weight(b, wname, 2, FC_NK), bname ? weight(b, bname, 1, AS_IS) : -1};
    int out = act(b, prefix, "fc");
    return node(b, PL_OP_FULLY_CONNECTED, prefix, in, bname ? 3 : 2, out) ? out : -1;
}

static int reshape(fb *b, int x, const char *prefix, int rank, const int64_t *dims)
{
    int out = act(b, prefix, "reshape");
    pl_node *nd = node(b, PL_OP_RESHAPE, prefix, &x, 1, out);
    if (!nd) return -1;
    nd->params.reshape.rank = rank;
    memcpy(nd->params.reshape.dims, dims, (size_t)rank * sizeof *dims);
    return out;
}

/* face-api's normalize(x, meanRgb).div(255). */
static int normalize(fb *b, int x)
{
    static const float mean[3] = {122.782f, 117.001f, 104.298f}, k255[1] = {255.0f};
    int centred = binary(b, PL_OP_SUB, x, constant(b, "mean_rgb", 3, mean), "normalize", "sub");
    return binary(b, PL_OP_DIV, centred, constant(b, "255", 1, k255), "normalize", "div");
}

static int input(fb *b, int size)
{
    int t = pl_graph_add_tensor(b->g, "input");
    if (t < 0) return fail(b, PL_ERR_NOMEM, "out of memory");
    int64_t dims[4] = {-1, size, size, 3};
    if (pl_graph_add_input(b->g, t, 4, dims) < 0) return fail(b, PL_ERR_NOMEM, "out of memory");
    return t;
}

static void output(fb *b, int t, const char *name)
{
    if (b->failed) return;
    free(b->g->tensors[t].name);
    b->g->tensors[t].name = strdup(name);
    if (!b->g->tensors[t].name || pl_graph_add_output(b->g, t) < 0) fail(b, PL_ERR_NOMEM, "out of memory");
}

/* ---- face_recognition: dlib's ResNet-34-like 128-d embedder ---------------------- */
/* conv + bias, then the "scale" layer (x * weights + biases), then ReLU. */
static int conv_scale(fb *b, int x, const char *prefix, int stride, pl_padding pad, int with_relu)
{
    char cp[512], wn[512], bn[512];
    snprintf(cp, sizeof cp, "%s/conv", prefix);
    int y = conv(b, x, cp, "filters", "bias", stride, pad, 0);
    snprintf(wn, sizeof wn, "%s/scale/weights", prefix);
    snprintf(bn, sizeof bn, "%s/scale/biases", prefix);
    int in[3] = {y, weight(b, wn, 1, AS_IS), weight(b, bn, 1, AS_IS)};
    int out = act(b, prefix, "scale");
    if (!node(b, PL_OP_AFFINE, prefix, in, 3, out)) return -1;
    return with_relu ? relu(b, out, prefix) : out;
}

static int residual(fb *b, int x, const char *prefix)
{
    char c1[256], c2[256];
    snprintf(c1, sizeof c1, "%s/conv1", prefix);
    snprintf(c2, sizeof c2, "%s/conv2", prefix);
    int out = conv_scale(b, x, c1, 1, PL_PAD_SAME, 1);
    out = conv_scale(b, out, c2, 1, PL_PAD_SAME, 0);
    return relu(b, binary(b, PL_OP_ADD, out, x, prefix, "add"), prefix);
}

/* The main path halves the size with a 3x3/s2 VALID conv; the shortcut is
 * a 2x2/s2 average with zero channels appended. When the sizes differ
 * (odd inputs), face-api appends a zero row and column to the main path.
 * *hw and *c track the spatial size and channels. */
static int residual_down(fb *b, int x, const char *prefix, int *hw, int *c)
{
    char c1[256], c2[256], fn[300];
    snprintf(c1, sizeof c1, "%s/conv1", prefix);
    snprintf(c2, sizeof c2, "%s/conv2", prefix);
    snprintf(fn, sizeof fn, "%s/conv/filters", c2);
    int64_t cout = filters_out(b, fn, 0);
    if (cout < *c || cout > 2 * *c)
        return fail(b, PL_ERR_FORMAT, "'%s' has %lld filters; expected %d..%d", fn, (long long)cout, *c, 2 * *c);
    int conv_hw = (*hw - 3) / 2 + 1, pool_hw = (*hw - 2) / 2 + 1;
    int out = conv_scale(b, x, c1, 2, PL_PAD_VALID, 1);
    out = conv_scale(b, out, c2, 1, PL_PAD_SAME, 0);
    int pooled = pool(b, PL_OP_AVG_POOL, x, prefix, 2, 2, PL_PAD_VALID);
    if (conv_hw != pool_hw) {
        if (pool_hw != conv_hw + 1) return fail(b, PL_ERR_INTERNAL, "%s: sizes %d and %d", prefix, conv_hw, pool_hw);
        out = pad_after(b, out, prefix, 1, 1, 0);
    }
    if (cout != *c) {
        if (cout != 2 * *c) return fail(b, PL_ERR_FORMAT, "%s: %lld channels from %d", prefix, (long long)cout, *c);
        pooled = pad_after(b, pooled, prefix, 0, 0, *c);
    }
    *hw = pool_hw;
    *c = (int)cout;
    return relu(b, binary(b, PL_OP_ADD, pooled, out, prefix, "add"), prefix);
}

static void build_face_recognition(fb *b)
{
    int hw = 150;
    int x = normalize(b, input(b, hw));
    x = conv_scale(b, x, "conv32_down", 2, PL_PAD_VALID, 1);
    hw = (hw - 7) / 2 + 1;
    x = pool(b, PL_OP_MAX_POOL, x, "maxpool", 3, 2, PL_PAD_VALID);
    hw = (hw - 3) / 2 + 1;
    int c = (int)filters_out(b, "conv32_down/conv/filters", 0);
    static const struct { const char *name; int down; } blocks[] = {
        {"conv32_1", 0}, {"conv32_2", 0}, {"conv32_3", 0},
        {"conv64_down", 1}, {"conv64_1", 0}, {"conv64_2", 0}, {"conv64_3", 0},
        {"conv128_down", 1}, {"conv128_1", 0}, {"conv128_2", 0},
        {"conv256_down", 1}, {"conv256_1", 0}, {"conv256_2", 0}, {"conv256_down_out", 1},
    };
    for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++)
        x = blocks[i].down ? residual_down(b, x, blocks[i].name, &hw, &c) : residual(b, x, blocks[i].name);
    int mean = act(b, "global_mean", "mean");
    pl_node *nd = node(b, PL_OP_REDUCE_MEAN, "global_mean", &x, 1, mean);
    if (nd) nd->params.reduce.axes_mask = (1 << 1) | (1 << 2);
    output(b, fc(b, mean, "fc", NULL, "fc"), "descriptor");
}

/* ---- age_gender: TinyXception(2) + two FC heads --------------------------------------- */
/* tf.separableConv2d(x, depthwise, pointwise, stride, 'same') + bias. */
static int separable(fb *b, int x, const char *prefix, int stride)
{
    int dw = conv(b, x, prefix, "depthwise_filter", NULL, stride, PL_PAD_SAME, 1);
    return conv(b, dw, prefix, "pointwise_filter", "bias", 1, PL_PAD_VALID, 0);
}

static int reduction_block(fb *b, int x, const char *prefix, int activate_input)
{
    char s0[256], s1[256], ex[256];
    snprintf(s0, sizeof s0, "%s/separable_conv0", prefix);
    snprintf(s1, sizeof s1, "%s/separable_conv1", prefix);
    snprintf(ex, sizeof ex, "%s/expansion_conv", prefix);
    int out = activate_input ? relu(b, x, prefix) : x;
    out = separable(b, out, s0, 1);
    out = separable(b, relu(b, out, prefix), s1, 1);
    out = pool(b, PL_OP_MAX_POOL, out, prefix, 3, 2, PL_PAD_SAME);
    int shortcut = conv(b, x, ex, "filters", "bias", 2, PL_PAD_SAME, 0);
    return binary(b, PL_OP_ADD, out, shortcut, prefix, "add");
}

static int main_block(fb *b, int x, const char *prefix)
{
    char sc[256];
    int out = x;
    for (int i = 0; i < 3; i++) {
        snprintf(sc, sizeof sc, "%s/separable_conv%d", prefix, i);
        out = separable(b, relu(b, out, prefix), sc, 1);
    }
    return binary(b, PL_OP_ADD, out, x, prefix, "add");
}

static void build_age_gender(fb *b)
{
    int x = normalize(b, input(b, 112));
    x = relu(b, conv(b, x, "entry_flow/conv_in", "filters", "bias", 2, PL_PAD_SAME, 0), "entry_flow/conv_in");
    x = reduction_block(b, x, "entry_flow/reduction_block_0", 0);
    x = reduction_block(b, x, "entry_flow/reduction_block_1", 1);
    x = main_block(b, x, "middle_flow/main_block_0");
    x = main_block(b, x, "middle_flow/main_block_1");
    x = reduction_block(b, x, "exit_flow/reduction_block", 1);
    x = relu(b, separable(b, x, "exit_flow/separable_conv", 1), "exit_flow/separable_conv");
    int pooled = pool(b, PL_OP_AVG_POOL, x, "avgpool", 7, 2, PL_PAD_VALID);
    static const int64_t flat[2] = {0, -1}, vec[1] = {-1};
    pooled = reshape(b, pooled, "flatten", 2, flat);
    int age = reshape(b, fc(b, pooled, "fc/age/weights", "fc/age/bias", "fc/age"), "age", 1, vec);
    int logits = fc(b, pooled, "fc/gender/weights", "fc/gender/bias", "fc/gender");
    int prob = act(b, "gender", "softmax");
    pl_node *nd = node(b, PL_OP_SOFTMAX, "gender", &logits, 1, prob);
    if (nd) nd->params.axis = -1;
    output(b, age, "age");
    output(b, prob, "gender");
}

/* ---- loading ------------------------------------------------------------------------ */
pl_graph *pl_faceapi_load(const char *manifest_path, const char *arch, pl_error *err)
{
    void (*build)(fb *) = NULL;
    if (arch && strcmp(arch, "face_recognition") == 0) build = build_face_recognition;
    else if (arch && strcmp(arch, "age_gender") == 0) build = build_age_gender;
    else {
        pl_fail(err, PL_ERR_ARG, "%s: unknown face-api architecture '%s' (face_recognition, age_gender)",
                manifest_path, arch ? arch : "(null)");
        return NULL;
    }
    pl_json *doc = pl_json_load_file(manifest_path, err);
    if (!doc) return NULL;
    uint8_t *bin = NULL;
    size_t len = 0;
    fb b = {.name = manifest_path, .err = err};
    pl_status s = pl_tfjs_read_shards(doc, manifest_path, &bin, &len, err);
    if (s == PL_OK) s = pl_tfjs_weights_decode(doc, bin ? bin : (const uint8_t *)"", len, manifest_path, &b.ws, err);
    free(bin);
    pl_json_free(doc);
    if (s != PL_OK) return NULL;
    b.g = pl_graph_new(manifest_path);
    if (!b.g) fail(&b, PL_ERR_NOMEM, "out of memory");
    else build(&b);
    pl_tfjs_weights_free(&b.ws);
    if (!b.failed && pl_graph_validate(b.g, err) != PL_OK) b.failed = 1;
    if (b.failed) {
        pl_graph_free(b.g);
        return NULL;
    }
    return b.g;
}
