/* test_engine_fusion.c — fused convolution -> pooling / 1x1 heads and
 * longer band chains (session.c, bands.c) give exactly the unfused results.
 *
 * keep_all gives every tensor its own memory and turns fusion off, so the
 * same session with and without it compares a fused run against an
 * unfused one on the same fast kernels: the values must be bit-identical.
 */
#include <math.h>
#include <stdio.h>

#include "engine_helpers.h"
#include "test.h"

static int conv(pl_graph *g, int x, int cin, int cout, int k, int stride, pl_padding pad,
                pl_act act, unsigned seed)
{
    int64_t wd[4] = {cout, k, k, cin}, bd[1] = {cout};
    int n = cout * k * k * cin;
    float *w = malloc(sizeof(float) * (size_t)n), *b = malloc(sizeof(float) * (size_t)cout);
    h_fill(w, n, seed);
    h_fill(b, cout, seed + 1);
    for (int i = 0; i < n; i++) w[i] *= 0.3f;
    int wt = pl_graph_add_const(g, "w", 4, wd, w), bt = pl_graph_add_const(g, "b", 1, bd, b);
    int slope = -1, y;
    if (act == PL_ACT_PRELU) {
        float *s = malloc(sizeof(float) * (size_t)cout);
        h_fill(s, cout, seed + 2);
        slope = pl_graph_add_const(g, "alpha", 1, bd, s);
    }
    pl_node *nd = h_node(g, PL_OP_CONV2D, slope >= 0 ? 4 : 3, x, wt, bt, slope, &y);
    nd->params.conv.stride_h = nd->params.conv.stride_w = stride;
    nd->params.conv.padding = pad;
    nd->params.act = act;
    return y;
}

/* A 3x3 depthwise convolution (SAME padding) of c channels. */
static int dwconv(pl_graph *g, int x, int c, int stride, pl_act act, unsigned seed)
{
    int y = conv(g, x, 1, c, 3, stride, PL_PAD_SAME, act, seed);
    pl_node *nd = &g->nodes[g->n_nodes - 1];
    nd->params.conv.groups = c;
    return y;
}

static int pool(pl_graph *g, int x, pl_op op, int k, int stride, pl_padding pad)
{
    int y;
    pl_node *nd = h_node(g, op, 1, x, 0, 0, 0, &y);
    nd->params.pool.kh = nd->params.pool.kw = k;
    nd->params.pool.stride_h = nd->params.pool.stride_w = stride;
    nd->params.pool.padding = pad;
    return y;
}

/* MTCNN's shapes and more: conv -> 3x3/2 max pool (overlapping windows),
 * conv -> 2x2/2 SAME max pool, conv -> 3x3/2 SAME average pool, a conv
 * with two 1x1 heads (graph outputs), and a chain of 1x1 convolutions. */
static pl_graph *mtcnn_like(void)
{
    pl_graph *g = pl_graph_new("fusion");
    int64_t xd[4] = {-1, -1, -1, 3};
    int x = h_input(g, "x", 4, xd);
    int a = conv(g, x, 3, 10, 3, 1, PL_PAD_VALID, PL_ACT_PRELU, 10);
    a = pool(g, a, PL_OP_MAX_POOL, 3, 2, PL_PAD_VALID);
    a = conv(g, a, 10, 20, 3, 1, PL_PAD_SAME, PL_ACT_RELU, 20);
    a = pool(g, a, PL_OP_MAX_POOL, 2, 2, PL_PAD_SAME);
    a = conv(g, a, 20, 24, 3, 1, PL_PAD_SAME, PL_ACT_NONE, 30);
    a = pool(g, a, PL_OP_AVG_POOL, 3, 2, PL_PAD_SAME);
    a = conv(g, a, 24, 32, 3, 1, PL_PAD_VALID, PL_ACT_PRELU, 40);
    int h1 = conv(g, a, 32, 2, 1, 1, PL_PAD_VALID, PL_ACT_NONE, 50);
    int h2 = conv(g, a, 32, 4, 1, 1, PL_PAD_VALID, PL_ACT_NONE, 60);
    int c = conv(g, h2, 4, 8, 1, 1, PL_PAD_VALID, PL_ACT_RELU, 70);
    c = conv(g, c, 8, 8, 1, 1, PL_PAD_VALID, PL_ACT_NONE, 80);
    c = conv(g, c, 8, 3, 1, 1, PL_PAD_VALID, PL_ACT_NONE, 90);
    pl_graph_add_output(g, h1);
    pl_graph_add_output(g, h2);
    pl_graph_add_output(g, c);
    return g;
}

/* PNet: a 3 -> 10 PReLU stem and a 2x2/2 SAME max pool (the pixel-lane
 * conv+pool kernel), conv2, conv3 with two merged 1x1 heads. Rows of any
 * width: whole 32-pixel blocks, tails, odd sizes (SAME keeps one-column
 * and one-row windows). */
static pl_graph *pnet_like(void)
{
    pl_graph *g = pl_graph_new("pnet-like");
    int64_t xd[4] = {-1, -1, -1, 3};
    int x = h_input(g, "x", 4, xd);
    int a = conv(g, x, 3, 10, 3, 1, PL_PAD_VALID, PL_ACT_PRELU, 11);
    int p1 = pool(g, a, PL_OP_MAX_POOL, 2, 2, PL_PAD_SAME);
    a = conv(g, p1, 10, 16, 3, 1, PL_PAD_VALID, PL_ACT_PRELU, 21);
    a = conv(g, a, 16, 32, 3, 1, PL_PAD_VALID, PL_ACT_PRELU, 31);
    int h1 = conv(g, a, 32, 2, 1, 1, PL_PAD_VALID, PL_ACT_NONE, 41);
    int h2 = conv(g, a, 32, 4, 1, 1, PL_PAD_VALID, PL_ACT_NONE, 51);
    pl_graph_add_output(g, h1);
    pl_graph_add_output(g, h2);
    pl_graph_add_output(g, p1); /* the stem's pooled map, compared too */
    return g;
}

/* RNet's trunk with conv2's output channels set by rnet_c2: 3 -> 28 and a
 * 3x3/2 max pool, 28 -> rnet_c2 (3x3 on 11x11) and a 3x3/2 max pool,
 * rnet_c2 -> 64 (2x2); conv1 and the 2x2 conv are the outputs too. */
static int rnet_c2 = 48;
static pl_graph *rnet_like(void)
{
    pl_graph *g = pl_graph_new("rnet-like");
    int64_t xd[4] = {-1, -1, -1, 3};
    int x = h_input(g, "x", 4, xd);
    int a = conv(g, x, 3, 28, 3, 1, PL_PAD_VALID, PL_ACT_PRELU, 12);
    int p1 = pool(g, a, PL_OP_MAX_POOL, 3, 2, PL_PAD_VALID);
    a = conv(g, p1, 28, rnet_c2, 3, 1, PL_PAD_VALID, PL_ACT_PRELU, 22);
    int p2 = pool(g, a, PL_OP_MAX_POOL, 3, 2, PL_PAD_VALID);
    int c3 = conv(g, p2, rnet_c2, 64, 2, 1, PL_PAD_VALID, PL_ACT_PRELU, 32);
    pl_graph_add_output(g, c3);
    pl_graph_add_output(g, p2);
    pl_graph_add_output(g, p1);
    return g;
}

/* fr_detect's trunk and more, every map feeding the next layer alone: a
 * 3 -> 16 stride-2 SAME stem, dw3x3 -> 1x1 pairs (stride 1 and 2), a
 * 3x3/2 SAME max pool, a VALID 3x3 conv, a 2x2/2 average pool, a conv
 * and two 1x1 heads; with band_min 0 all of it runs as one chain. */
static pl_graph *chain_like(void)
{
    pl_graph *g = pl_graph_new("chain-like");
    int64_t xd[4] = {-1, -1, -1, 3};
    int x = h_input(g, "x", 4, xd);
    int a = conv(g, x, 3, 16, 3, 2, PL_PAD_SAME, PL_ACT_RELU, 13);
    a = dwconv(g, a, 16, 1, PL_ACT_RELU, 23);
    a = conv(g, a, 16, 24, 1, 1, PL_PAD_VALID, PL_ACT_RELU, 33);
    a = dwconv(g, a, 24, 2, PL_ACT_RELU, 43);
    a = conv(g, a, 24, 20, 1, 1, PL_PAD_VALID, PL_ACT_PRELU, 53);
    a = pool(g, a, PL_OP_MAX_POOL, 3, 2, PL_PAD_SAME);
    a = conv(g, a, 20, 12, 3, 1, PL_PAD_VALID, PL_ACT_NONE, 63);
    a = pool(g, a, PL_OP_AVG_POOL, 2, 2, PL_PAD_SAME);
    a = conv(g, a, 12, 32, 3, 1, PL_PAD_SAME, PL_ACT_RELU, 73);
    int h1 = conv(g, a, 32, 2, 1, 1, PL_PAD_VALID, PL_ACT_NONE, 83);
    int h2 = conv(g, a, 32, 4, 1, 1, PL_PAD_VALID, PL_ACT_NONE, 93);
    int h3 = conv(g, a, 32, 10, 1, 1, PL_PAD_VALID, PL_ACT_NONE, 103);
    pl_graph_add_output(g, h1);
    pl_graph_add_output(g, h2);
    pl_graph_add_output(g, h3);
    return g;
}

/* PNet whole: the pixel-lane stem + pool, conv2, conv3 and its merged
 * heads as one chain (the pooled map is no output here). */
static pl_graph *pnet_chain(void)
{
    pl_graph *g = pl_graph_new("pnet-chain");
    int64_t xd[4] = {-1, -1, -1, 3};
    int x = h_input(g, "x", 4, xd);
    int a = conv(g, x, 3, 10, 3, 1, PL_PAD_VALID, PL_ACT_PRELU, 14);
    a = pool(g, a, PL_OP_MAX_POOL, 2, 2, PL_PAD_SAME);
    a = conv(g, a, 10, 16, 3, 1, PL_PAD_VALID, PL_ACT_PRELU, 24);
    a = conv(g, a, 16, 32, 3, 1, PL_PAD_VALID, PL_ACT_PRELU, 34);
    int h1 = conv(g, a, 32, 2, 1, 1, PL_PAD_VALID, PL_ACT_NONE, 44);
    int h2 = conv(g, a, 32, 4, 1, 1, PL_PAD_VALID, PL_ACT_NONE, 54);
    int c = conv(g, x, 3, 4, 1, 1, PL_PAD_VALID, PL_ACT_NONE, 64); /* a third output */
    pl_graph_add_output(g, h1);
    pl_graph_add_output(g, h2);
    pl_graph_add_output(g, c);
    return g;
}

/* fr_gender's second branch and more: convolutions with tanh whose max
 * pools (2x2/2 VALID, 2x2/2 SAME, 3x3/2 SAME: clipped windows on odd
 * sizes) apply the tanh after the max (session.c, defer_tanh); a 16 -> 8
 * conv (the AVX2 kernel under an AVX-512 pool); a tanh conv whose output
 * is also a graph output keeps its tanh. */
static pl_graph *tanh_pool_like(void)
{
    pl_graph *g = pl_graph_new("tanh-pool-like");
    int64_t xd[4] = {-1, -1, -1, 3};
    int x = h_input(g, "x", 4, xd);
    int a = conv(g, x, 3, 16, 3, 1, PL_PAD_SAME, PL_ACT_TANH, 15);
    a = pool(g, a, PL_OP_MAX_POOL, 2, 2, PL_PAD_VALID);
    a = conv(g, a, 16, 20, 3, 1, PL_PAD_SAME, PL_ACT_TANH, 25);
    a = pool(g, a, PL_OP_MAX_POOL, 3, 2, PL_PAD_SAME);
    a = conv(g, a, 20, 8, 1, 1, PL_PAD_VALID, PL_ACT_TANH, 35);
    a = pool(g, a, PL_OP_MAX_POOL, 2, 2, PL_PAD_SAME);
    int b = conv(g, a, 8, 16, 3, 1, PL_PAD_SAME, PL_ACT_TANH, 45);
    int c = pool(g, b, PL_OP_MAX_POOL, 2, 2, PL_PAD_SAME);
    pl_graph_add_output(g, a);
    pl_graph_add_output(g, b);
    pl_graph_add_output(g, c);
    return g;
}

/* Maps of at least this many bytes are chained (session.h); 0: all. */
static size_t band_min = 1024 * 1024;

static size_t out_floats(pl_session *s, int k)
{
    int r;
    int64_t d[PL_MAX_RANK];
    pl_session_output(s, k, &r, d);
    size_t n = 1;
    for (int i = 0; i < r; i++) n *= (size_t)d[i];
    return n;
}

static void fused_matches_unfused(pl_graph *(*make)(void), int threads, const int64_t *dims)
{
    pl_graph *g = make();
    pl_error err = {0};
    pl_session *s = pl_session_new(g, threads, &err);
    CHECK_MSG(s, "%s", err.msg);
    pl_session_set_band_min_bytes(s, band_min);
    size_t n = (size_t)(dims[0] * dims[1] * dims[2] * dims[3]);
    float *x = malloc(sizeof(float) * n);
    h_fill(x, (int64_t)n, 5);
    float *want[3] = {0};
    for (int pass = 0; pass < 2; pass++) {
        pl_session_keep_all(s, pass == 0); /* first unfused, then fused */
        CHECK_MSG(pl_session_set_input_shape(s, 0, 4, dims, &err) == PL_OK, "%s", err.msg);
        memcpy(pl_session_input(s, 0), x, sizeof(float) * n);
        CHECK_MSG(pl_session_run(s, &err) == PL_OK, "%s", err.msg);
        for (int k = 0; k < 3; k++) {
            const float *y = pl_session_output(s, k, NULL, NULL);
            size_t m = out_floats(s, k);
            if (pass == 0) {
                want[k] = malloc(sizeof(float) * m);
                memcpy(want[k], y, sizeof(float) * m);
                continue;
            }
            size_t bad = 0;
            for (size_t i = 0; i < m; i++) bad += memcmp(&y[i], &want[k][i], sizeof(float)) != 0;
            CHECK_MSG(bad == 0, "%s: threads %d, %lldx%lldx%lld: output %d: %zu of %zu values differ",
                      g->source, threads, (long long)dims[0], (long long)dims[1], (long long)dims[2], k,
                      bad, m);
        }
    }
    for (int k = 0; k < 3; k++) free(want[k]);
    free(x);
    pl_session_free(s);
    pl_graph_free(g);
}

TEST(fused_conv_pool_and_heads_are_bit_identical)
{
    /* A PNet-like strip (wide rows: several bands per image, the shared row
     * of 3x3/2 windows kept between bands), RNet-like batches, odd sizes. */
    static const int64_t shapes[][4] = {
        {1, 97, 301, 3}, {1, 300, 41, 3}, {5, 24, 24, 3}, {3, 48, 48, 3}, {2, 45, 37, 3}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int threads = 1; threads <= 3; threads++) fused_matches_unfused(mtcnn_like, threads, shapes[i]);
}

TEST(fused_pnet_stem_and_heads_are_bit_identical)
{
    static const int64_t shapes[][4] = {{1, 64, 98, 3}, {1, 37, 55, 3}, {1, 12, 12, 3},
                                        {2, 33, 67, 3}, {1, 181, 271, 3}, {1, 15, 34, 3}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int threads = 1; threads <= 2; threads++) fused_matches_unfused(pnet_like, threads, shapes[i]);
}

/* Channel counts whose register tiles hold 3 vectors (40, 48 on AVX-512)
 * or pairs (56): fused bands and batches split over threads give the
 * unfused values. (test_kernels checks each tile against one order of
 * sums, which the pairs' tiles follow too.) */
TEST(fused_rnet_three_vector_tiles_are_bit_identical)
{
    static const int chans[] = {40, 48, 56};
    static const int64_t shapes[][4] = {{1, 24, 24, 3}, {5, 24, 24, 3}, {37, 24, 24, 3}, {3, 29, 26, 3}};
    for (size_t c = 0; c < sizeof chans / sizeof chans[0]; c++) {
        rnet_c2 = chans[c];
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
            for (int threads = 1; threads <= 3; threads++) fused_matches_unfused(rnet_like, threads, shapes[i]);
    }
    rnet_c2 = 48;
}

/* Chains of every layer kind, odd sizes (SAME padding's one-row and
 * one-column windows, last maps of 1-3 rows), batches, 1-3 threads; with
 * band_min 0 everything chains, with the default only big maps (the
 * 241x321 image's 121x161x16 stem output, like fr_detect's). */
TEST(band_chains_are_bit_identical)
{
    static const int64_t shapes[][4] = {{1, 67, 45, 3},  {2, 40, 97, 3}, {3, 29, 33, 3},
                                        {1, 25, 400, 3}, {2, 26, 61, 3}, {1, 241, 321, 3}};
    static const size_t mins[] = {0, 1024 * 1024};
    for (size_t m = 0; m < 2; m++) {
        band_min = mins[m];
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
            for (int threads = 1; threads <= 3; threads++) {
                fused_matches_unfused(chain_like, threads, shapes[i]);
                fused_matches_unfused(pnet_chain, threads, shapes[i]);
            }
    }
    band_min = 1024 * 1024;
}

/* Tanh taken after the max pool: the same bits as tanh then pool, in
 * chains (band_min 0) and layer by layer, odd sizes, batches, 1-3 threads. */
TEST(tanh_after_max_pool_is_bit_identical)
{
    static const int64_t shapes[][4] = {{1, 64, 64, 3}, {2, 37, 29, 3}, {1, 9, 70, 3}, {3, 5, 6, 3}};
    static const size_t mins[] = {0, 1024 * 1024};
    for (size_t m = 0; m < 2; m++) {
        band_min = mins[m];
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
            for (int threads = 1; threads <= 3; threads++)
                fused_matches_unfused(tanh_pool_like, threads, shapes[i]);
    }
    band_min = 1024 * 1024;
}

/* A PNet strip big enough that its chain forms at the default threshold
 * (the pooled and conv2 maps are over 1 MB): the bands of 8 rows, the
 * 3x3 windows' rows kept between bands, two threads splitting the rows. */
TEST(band_chain_of_a_pnet_strip_is_bit_identical)
{
    static const int64_t shape[4] = {1, 260, 517, 3};
    for (int threads = 1; threads <= 2; threads++) fused_matches_unfused(pnet_chain, threads, shape);
}

/* The memory plan made for chains holds for the reference kernels too
 * (they write every map a chain keeps in its buffers): one session,
 * everything chained, run fast then reference. */
TEST(band_chain_plan_runs_the_reference)
{
    pl_graph *g = chain_like();
    int64_t d[4] = {2, 40, 97, 3};
    size_t n = 2 * 40 * 97 * 3;
    float *x = malloc(sizeof(float) * n);
    h_fill(x, (int64_t)n, 7);
    pl_error err = {0};
    pl_session *s = pl_session_new(g, 2, &err);
    CHECK_MSG(s, "%s", err.msg);
    pl_session_set_band_min_bytes(s, 0);
    CHECK_MSG(pl_session_set_input_shape(s, 0, 4, d, &err) == PL_OK, "%s", err.msg);
    float *fast[3];
    for (int pass = 0; pass < 2; pass++) {
        pl_session_set_kernels(s, pass ? PL_KERNELS_REFERENCE : PL_KERNELS_FAST);
        memcpy(pl_session_input(s, 0), x, sizeof(float) * n);
        CHECK_MSG(pl_session_run(s, &err) == PL_OK, "%s", err.msg);
        for (int k = 0; k < 3; k++) {
            const float *y = pl_session_output(s, k, NULL, NULL);
            size_t m = out_floats(s, k);
            if (!pass) {
                fast[k] = malloc(sizeof(float) * m);
                memcpy(fast[k], y, sizeof(float) * m);
                continue;
            }
            for (size_t i = 0; i < m; i++) CHECK_NEAR(fast[k][i], y[i], 1e-4 * (1 + fabsf(y[i])));
            free(fast[k]);
        }
    }
    free(x);
    pl_session_free(s);
    pl_graph_free(g);
}

TEST(fused_matches_reference)
{
    pl_graph *g = mtcnn_like();
    int64_t d[4] = {2, 60, 70, 3};
    size_t n = 2 * 60 * 70 * 3;
    float *x = malloc(sizeof(float) * n);
    h_fill(x, (int64_t)n, 9);
    pl_error err = {0};
    for (int k = 0; k < 3; k++) {
        int r;
        int64_t od[PL_MAX_RANK];
        float *fast = h_run(g, 2, PL_KERNELS_FAST, x, 4, d, k, &r, od, &err);
        float *ref = h_run(g, 1, PL_KERNELS_REFERENCE, x, 4, d, k, NULL, NULL, &err);
        CHECK_MSG(fast && ref, "%s", err.msg);
        int64_t m = 1;
        for (int i = 0; i < r; i++) m *= od[i];
        for (int64_t i = 0; i < m; i++) CHECK_NEAR(fast[i], ref[i], 1e-4 * (1 + fabsf(ref[i])));
        free(fast);
        free(ref);
    }
    free(x);
    pl_graph_free(g);
}

/* SOFTMAX over a last axis of 2 has its own loop in fast mode (one expf a
 * pair); it must equal the reference operator bit for bit. */
TEST(softmax_of_pairs_is_bit_identical)
{
    pl_graph *g = pl_graph_new("softmax2");
    int64_t xd[4] = {-1, -1, -1, 2};
    int x = h_input(g, "x", 4, xd), y;
    pl_node *nd = h_node(g, PL_OP_SOFTMAX, 1, x, 0, 0, 0, &y);
    nd->params.axis = -1;
    pl_graph_add_output(g, y);
    int64_t d[4] = {2, 70, 90, 2};
    size_t n = 2 * 70 * 90 * 2;
    float *in = malloc(sizeof(float) * n);
    h_fill(in, (int64_t)n, 4);
    for (size_t i = 0; i < n; i++) in[i] *= (float)(i % 7) * 9.0f; /* up to ~54: large gaps */
    in[0] = in[1] = 3.0f;                                              /* a tie */
    in[2] = -INFINITY;
    pl_error err = {0};
    float *fast = h_run(g, 2, PL_KERNELS_FAST, in, 4, d, 0, NULL, NULL, &err);
    float *ref = h_run(g, 1, PL_KERNELS_REFERENCE, in, 4, d, 0, NULL, NULL, &err);
    CHECK_MSG(fast && ref, "%s", err.msg);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) bad += memcmp(&fast[i], &ref[i], sizeof(float)) != 0;
    CHECK_MSG(bad == 0, "%zu of %zu values differ", bad, n);
    free(fast);
    free(ref);
    free(in);
    pl_graph_free(g);
}
