/* Tests of src/train: every layer's backward pass against finite
 * differences, the optimisers, reproducibility and the model file. */
#include "test.h"

#include <stdint.h>

#include "train/augment.h"
#include "train/model_file.h"
#include "train/net.h"
#include "train/optim.h"
#include "train/rng.h"

/* Finite-difference step. Float32 forward passes round at ~1e-7 of each
 * output, so a tiny step drowns in rounding; conv and dense are linear in
 * every single weight and input, so for them a large step is exact. */
static float g_eps = 1e-2f;

/* L = Σ out·R, in double, so the finite difference sees little rounding. */
static double probe_loss(tr_net *net, const float *x, int n, const float *r)
{
    tr_rng rng;
    tr_rng_seed(&rng, 7); /* same dropout mask on every call */
    const float *y = tr_forward(net, x, n, 1, &rng);
    int k = tr_net_out_size(net) * n;
    double l = 0;
    for (int i = 0; i < k; i++) l += (double)y[i] * r[i];
    return l;
}

static double rel_err(double a, double b)
{
    double d = fabs(a - b), m = fmax(fabs(a), fabs(b));
    return m < 1e-3 ? d / 1e-3 : d / m; /* tiny gradients: absolute */
}

/* Check up to `samples` entries of v (the analytic gradient in g). */
static double check_tensor(tr_net *net, float *x, int n, const float *r, float *v, const float *g,
                           int count, int samples, tr_rng *pick)
{
    const float eps = g_eps;
    double worst = 0;
    for (int s = 0; s < samples && s < count; s++) {
        int j = count <= samples ? s : tr_rng_int(pick, count);
        float keep = v[j];
        v[j] = keep + eps;
        double lp = probe_loss(net, x, n, r);
        v[j] = keep - eps;
        double lm = probe_loss(net, x, n, r);
        v[j] = keep;
        double e = rel_err(g[j], (lp - lm) / (2.0 * eps));
        if (e > worst) worst = e;
    }
    return worst;
}

/* Gradient check of a whole net: every parameter tensor and the input. */
static double grad_check(tr_net *net, float *x, int n)
{
    tr_rng rng, pick;
    tr_rng_seed(&rng, 3);
    tr_rng_seed(&pick, 5);
    int ko = tr_net_out_size(net) * n, ki = net->in_c * net->in_h * net->in_w * n;
    float *r = malloc((size_t)ko * sizeof *r);
    for (int i = 0; i < ko; i++) r[i] = tr_rng_normal(&rng);
    tr_net_init_weights(net, &rng);
    /* non-trivial batch-norm parameters */
    for (int i = 0; i < net->n_layers; i++)
        if (net->layers[i].kind == TR_BATCHNORM)
            for (int c = 0; c < net->layers[i].c; c++) {
                net->layers[i].wt.v[c] = tr_rng_range(&rng, 0.5f, 1.5f);
                net->layers[i].bs.v[c] = tr_rng_range(&rng, -0.5f, 0.5f);
            }
    tr_zero_grad(net);
    probe_loss(net, x, n, r);
    tr_backward(net, x, r, n);
    float *din = malloc((size_t)ki * sizeof *din);
    memcpy(din, net->din, (size_t)ki * sizeof *din);
    double worst = check_tensor(net, x, n, r, x, din, ki, 60, &pick);
    tr_param *ps[2 * TR_MAX_LAYERS];
    int np = tr_net_params(net, ps, 2 * TR_MAX_LAYERS);
    for (int p = 0; p < np; p++) {
        float *g = malloc((size_t)ps[p]->n * sizeof *g);
        memcpy(g, ps[p]->g, (size_t)ps[p]->n * sizeof *g);
        double e = check_tensor(net, x, n, r, ps[p]->v, g, ps[p]->n, 60, &pick);
        if (e > worst) worst = e;
        free(g);
    }
    free(din);
    free(r);
    return worst;
}

/* Inputs well away from ReLU's kink and without max-pool ties: a shuffled
 * ramp with steps much larger than the finite-difference step. */
static float *ramp_input(int count, uint64_t seed)
{
    tr_rng rng;
    tr_rng_seed(&rng, seed);
    int *idx = malloc((size_t)count * sizeof *idx);
    float *x = malloc((size_t)count * sizeof *x);
    for (int i = 0; i < count; i++) idx[i] = i;
    tr_rng_shuffle(&rng, idx, count);
    for (int i = 0; i < count; i++) x[i] = ((float)idx[i] - count / 2 + 0.5f) * (2.0f / count);
    free(idx);
    return x;
}

#define LAYER_CHECK(name, c, h, w, n, eps, add)                                    \
    TEST(grad_##name)                                                         \
    {                                                                         \
        tr_net net;                                                           \
        g_eps = eps;                                                          \
        tr_net_init(&net, c, h, w, n);                                        \
        CHECK(add);                                                           \
        float *x = ramp_input((c) * (h) * (w) * (n), 11);                      \
        double e = grad_check(&net, x, n);                                    \
        fprintf(stderr, "    %s: worst relative error %.2e\n", #name, e);      \
        free(x);                                                              \
        tr_net_free(&net);                                                    \
        CHECK_MSG(e <= 1e-3, "%s relative error %.3g > 1e-3", #name, e);     \
    }

LAYER_CHECK(conv3x3, 3, 7, 6, 2, 0.1f, tr_add_conv(&net, 4, 3))
LAYER_CHECK(conv5x5, 2, 6, 6, 2, 0.1f, tr_add_conv(&net, 3, 5))
LAYER_CHECK(conv1x1, 4, 5, 5, 2, 0.1f, tr_add_conv(&net, 3, 1))
LAYER_CHECK(dense, 3, 2, 2, 3, 0.1f, tr_add_dense(&net, 5))
LAYER_CHECK(batchnorm_spatial, 3, 4, 4, 3, 1e-2f, tr_add_batchnorm(&net))
LAYER_CHECK(batchnorm_vector, 6, 1, 1, 5, 1e-2f, tr_add_batchnorm(&net))
LAYER_CHECK(relu, 2, 4, 4, 2, 1e-2f, tr_add_relu(&net))
LAYER_CHECK(maxpool, 2, 5, 6, 2, 1e-2f, tr_add_maxpool(&net))
LAYER_CHECK(avgpool, 3, 4, 3, 2, 0.1f, tr_add_avgpool(&net))
LAYER_CHECK(dropout, 3, 4, 4, 2, 0.1f, tr_add_dropout(&net, 0.4f))
/* batch-norm first: after a convolution its bias has a zero gradient by
 * construction, which a finite difference can only see as noise */
LAYER_CHECK(conv_bn_stack, 2, 6, 6, 3, 3e-2f,
            tr_add_batchnorm(&net) && tr_add_conv(&net, 3, 3) &&
                tr_add_dense(&net, 2))

TEST(grad_softmax_ce)
{
    float z[6] = {0.3f, -1.2f, 2.0f, 0.1f, 0.5f, 0.4f}, d[6];
    int labels[3] = {1, 0, 1};
    tr_softmax_ce(z, labels, 3, 2, d, NULL);
    for (int i = 0; i < 6; i++) {
        float keep = z[i];
        z[i] = keep + 1e-3f;
        double lp = tr_softmax_ce(z, labels, 3, 2, NULL, NULL);
        z[i] = keep - 1e-3f;
        double lm = tr_softmax_ce(z, labels, 3, 2, NULL, NULL);
        z[i] = keep;
        CHECK(rel_err(d[i], (lp - lm) / 2e-3) <= 1e-3);
    }
}

/* A linearly separable toy problem: both optimisers must fit it. */
static double fit_toy(tr_optimizer kind, float lr, uint64_t seed, float *first_weight)
{
    tr_net net;
    tr_net_init(&net, 4, 1, 1, 16);
    tr_add_dense(&net, 8);
    tr_add_batchnorm(&net);
    tr_add_relu(&net);
    tr_add_dense(&net, 2);
    tr_rng rng;
    tr_rng_seed(&rng, seed);
    tr_net_init_weights(&net, &rng);
    tr_optim o;
    tr_optim_init(&o, kind, lr, 1e-4f);
    float x[16 * 4], d[32];
    int y[16];
    double loss = 0;
    for (int step = 0; step < 300; step++) {
        for (int i = 0; i < 16; i++) {
            for (int j = 0; j < 4; j++) x[i * 4 + j] = tr_rng_normal(&rng);
            y[i] = x[i * 4] + 0.5f * x[i * 4 + 1] > 0;
        }
        tr_zero_grad(&net);
        const float *z = tr_forward(&net, x, 16, 1, &rng);
        loss = tr_softmax_ce(z, y, 16, 2, d, NULL);
        tr_backward(&net, x, d, 16);
        tr_optim_step(&o, &net, tr_lr_at(&o, step / 30, 10));
    }
    *first_weight = net.layers[0].wt.v[0];
    tr_net_free(&net);
    return loss;
}

TEST(optimizers_fit_toy_problem)
{
    float w1, w2, w3;
    double sgd = fit_toy(TR_SGD, 0.1f, 1, &w1);
    double adam = fit_toy(TR_ADAM, 0.01f, 1, &w2);
    fprintf(stderr, "    final loss: sgd %.3f adam %.3f\n", sgd, adam);
    CHECK(sgd < 0.25);
    CHECK(adam < 0.25);
    /* same seed, same weights, to the bit */
    fit_toy(TR_ADAM, 0.01f, 1, &w3);
    CHECK(memcmp(&w2, &w3, sizeof w2) == 0);
}

TEST(lr_schedule_warms_up_then_decays)
{
    tr_optim o;
    tr_optim_init(&o, TR_ADAM, 1e-2f, 0);
    CHECK(tr_lr_at(&o, 0, 20) < tr_lr_at(&o, 2, 20));
    CHECK_NEAR(tr_lr_at(&o, 2, 20), 1e-2, 1e-6);
    CHECK(tr_lr_at(&o, 19, 20) < 2e-4f);
}

TEST(rng_is_fixed)
{
    tr_rng r;
    tr_rng_seed(&r, 42);
    uint64_t a = tr_rng_next(&r);
    tr_rng_seed(&r, 42);
    CHECK(a == tr_rng_next(&r));
    for (int i = 0; i < 1000; i++) {
        float u = tr_rng_uniform(&r);
        CHECK(u >= 0 && u < 1);
        int k = tr_rng_int(&r, 7);
        CHECK(k >= 0 && k < 7);
    }
}

TEST(augment_without_changes_is_centre_crop)
{
    pl_image img;
    CHECK(pl_image_new(32, 32, 3, &img, NULL) == PL_OK);
    for (int i = 0; i < 32 * 32 * 3; i++) img.px[i] = (uint8_t)(i % 251);
    float plain[3 * 16 * 16], aug[3 * 16 * 16];
    tr_rng rng;
    tr_rng_seed(&rng, 1);
    tr_make_input(&img, 0.5f, 16, NULL, &rng, plain);
    /* centre half of a 32 crop at 16: pixel (0,0) is image pixel (8,8) */
    CHECK_NEAR(plain[0], (img.px[(8 * 32 + 8) * 3] - 127.5f) / 128.0f, 1e-4);
    tr_augment a;
    tr_augment_default(&a);
    tr_make_input(&img, 0.5f, 16, &a, &rng, aug);
    CHECK(memcmp(plain, aug, sizeof plain) != 0);
    pl_image_free(&img);
}

static void random_model(tr_model *m, const char *arch, int c, int h, int w)
{
    CHECK(tr_model_build(m, arch, c, h, w, 4, NULL) == PL_OK);
    tr_rng rng;
    tr_rng_seed(&rng, 9);
    tr_net_init_weights(&m->net, &rng);
    m->margin = 0.3f;
    m->region = 0.8f;
}

TEST(model_file_round_trip)
{
    tr_model a, b;
    random_model(&a, "small-cnn", 3, 48, 48);
    const char *path = "build/tests/tmp_gender_model.bin";
    pl_error err = {0};
    CHECK(tr_model_save(&a, path, &err) == PL_OK);
    CHECK(tr_model_load(path, 4, &b, &err) == PL_OK);
    CHECK_STR(b.arch, "small-cnn");
    CHECK_NEAR(b.region, 0.8, 1e-7);
    float x[3 * 48 * 48];
    for (int i = 0; i < 3 * 48 * 48; i++) x[i] = (float)(i % 17) / 17.0f;
    const float *ya = tr_forward(&a.net, x, 1, 0, NULL);
    float y0 = ya[0], y1 = ya[1];
    const float *yb = tr_forward(&b.net, x, 1, 0, NULL);
    CHECK(y0 == yb[0] && y1 == yb[1]);
    tr_model_free(&a);
    tr_model_free(&b);
    remove(path);
}

TEST(model_file_refuses_truncated_and_foreign)
{
    tr_model a, b;
    random_model(&a, "head", 512, 1, 1);
    const char *path = "build/tests/tmp_gender_head.bin";
    pl_error err = {0};
    CHECK(tr_model_save(&a, path, &err) == PL_OK);
    FILE *f = fopen(path, "rb");
    unsigned char *buf = malloc(1 << 20);
    size_t len = fread(buf, 1, 1 << 20, f);
    fclose(f);
    /* every prefix is refused, none crashes */
    for (size_t cut = 0; cut < len; cut += cut < 200 ? 1 : 997) {
        CHECK(tr_model_load_memory(buf, cut, "cut.bin", 4, &b, &err) != PL_OK);
        CHECK_CONTAINS(err.msg, "cut.bin");
    }
    CHECK(tr_model_load_memory(buf, 40, "short.bin", 4, &b, &err) == PL_ERR_FORMAT);
    CHECK_CONTAINS(err.msg, "truncated");
    /* a flipped weight byte: checksum */
    buf[200] ^= 1;
    CHECK(tr_model_load_memory(buf, len, "bad.bin", 4, &b, &err) == PL_ERR_FORMAT);
    CHECK_CONTAINS(err.msg, "checksum");
    buf[200] ^= 1;
    CHECK(tr_model_load_memory(buf, len, "ok.bin", 4, &b, &err) == PL_OK);
    tr_model_free(&b);
    /* another architecture: tensors of a different shape behind a
     * header that names this one */
    tr_model c;
    random_model(&c, "small-cnn", 3, 48, 48);
    CHECK(tr_model_save(&c, path, &err) == PL_OK);
    f = fopen(path, "rb");
    size_t len2 = fread(buf, 1, 1 << 20, f);
    fclose(f);
    memset(buf + 12, 0, 16);
    memcpy(buf + 12, "head", 4);
    /* fix the checksum so the architecture check is what refuses it */
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len2 - 4; i++) h = (h ^ buf[i]) * 16777619u;
    for (int i = 0; i < 4; i++) buf[len2 - 4 + i] = (unsigned char)(h >> (8 * i));
    CHECK(tr_model_load_memory(buf, len2, "foreign.bin", 4, &b, &err) != PL_OK);
    CHECK_CONTAINS(err.msg, "foreign.bin");
    fprintf(stderr, "    %s\n", err.msg);
    CHECK(tr_model_load_memory((const unsigned char *)"not a model at all", 18, "x.bin", 4, &b,
                               &err) == PL_ERR_FORMAT);
    CHECK_CONTAINS(err.msg, "PLGENDER");
    free(buf);
    tr_model_free(&a);
    tr_model_free(&c);
    remove(path);
}
