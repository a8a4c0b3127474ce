/* bench_kernels.c — GFLOPS of the convolution kernels, one thread:
 * reference C vs our AVX2 and AVX-512 kernels vs oneDNN (Debian libdnnl),
 * on the layers of docs/PEERS.md and MobileFaceNet-like layers, with the
 * machine's measured single-core FMA peak for scale.
 *
 *     make build/bench/bench_kernels && build/bench/bench_kernels [--quick]
 *     build/bench/bench_kernels --model models/expo/MobileFaceNet.tflite 2 112 112 3
 *
 * The --model form times every convolution of a model (its real weights,
 * the input shape given) through the kernel plans, one thread, and sums.
 *
 * oneDNN is threaded with OpenMP; this program pins it to one thread so
 * every column is one core. Times are the best of several batches.
 */
#include <dlfcn.h>
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <oneapi/dnnl/dnnl.h>

#include "engine/kernels.h"
#include "engine/ops.h"
#include "engine/session.h"
#include "formats/formats.h"

/* CPU time of this thread, not wall time: the two vCPUs of the machine
 * this runs on are shared with builds and tests, and time spent waiting
 * for a CPU is not the kernel's. (Every column runs on this thread;
 * oneDNN's OpenMP pool is held to one thread, its caller.) */
static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int quick;

/* Seconds per call of fn(arg): the fastest of several batches of ~20 ms.
 * The fastest, not the median: other work on the machine only ever adds
 * time (cache misses, interrupts). */
static double time_it(void (*fn)(void *), void *arg)
{
    fn(arg); /* warm caches */
    double t0 = now();
    fn(arg);
    double one = now() - t0;
    int reps = one > 0.02 ? 1 : (int)(0.02 / (one + 1e-9)) + 1;
    int batches = quick ? 3 : 9;
    double best[16];
    for (int b = 0; b < batches; b++) {
        t0 = now();
        for (int r = 0; r < reps; r++) fn(arg);
        best[b] = (now() - t0) / reps;
    }
    for (int i = 0; i < batches; i++) /* sort for the median */
        for (int j = i + 1; j < batches; j++)
            if (best[j] < best[i]) {
                double t = best[i];
                best[i] = best[j];
                best[j] = t;
            }
    return best[0];
}

/* ---- FMA peak: 12 independent chains hide the 4-cycle latency ---------- */

#define FMA12(F, m, c)                                                         \
    a0 = F(a0, m, c), a1 = F(a1, m, c), a2 = F(a2, m, c), a3 = F(a3, m, c),    \
    a4 = F(a4, m, c), a5 = F(a5, m, c), a6 = F(a6, m, c), a7 = F(a7, m, c),    \
    a8 = F(a8, m, c), a9 = F(a9, m, c), a10 = F(a10, m, c), a11 = F(a11, m, c)

__attribute__((target("avx2,fma"))) static void peak_avx2(void *arg)
{
    __m256 m = _mm256_set1_ps(0.9999f), c = _mm256_set1_ps(1e-6f);
    /* distinct starts, or the compiler merges the chains into one */
    __m256 a0 = _mm256_set1_ps(0.1f), a1 = _mm256_set1_ps(0.2f), a2 = _mm256_set1_ps(0.3f),
           a3 = _mm256_set1_ps(0.4f), a4 = _mm256_set1_ps(0.5f), a5 = _mm256_set1_ps(0.6f),
           a6 = _mm256_set1_ps(0.7f), a7 = _mm256_set1_ps(0.8f), a8 = _mm256_set1_ps(0.9f),
           a9 = _mm256_set1_ps(1.1f), a10 = _mm256_set1_ps(1.2f), a11 = _mm256_set1_ps(1.3f);
    for (long it = 0; it < 1000000; it++) FMA12(_mm256_fmadd_ps, m, c);
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                             _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
    s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
    *(volatile float *)arg = _mm256_cvtss_f32(s);
}
__attribute__((target("avx512f"))) static void peak_avx512(void *arg)
{
    __m512 m = _mm512_set1_ps(0.9999f), c = _mm512_set1_ps(1e-6f);
    /* distinct starts, or the compiler merges the chains into one */
    __m512 a0 = _mm512_set1_ps(0.1f), a1 = _mm512_set1_ps(0.2f), a2 = _mm512_set1_ps(0.3f),
           a3 = _mm512_set1_ps(0.4f), a4 = _mm512_set1_ps(0.5f), a5 = _mm512_set1_ps(0.6f),
           a6 = _mm512_set1_ps(0.7f), a7 = _mm512_set1_ps(0.8f), a8 = _mm512_set1_ps(0.9f),
           a9 = _mm512_set1_ps(1.1f), a10 = _mm512_set1_ps(1.2f), a11 = _mm512_set1_ps(1.3f);
    for (long it = 0; it < 1000000; it++) FMA12(_mm512_fmadd_ps, m, c);
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                             _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
    s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)));
    *(volatile float *)arg = _mm512_cvtss_f32(s);
}

/* ---- oneDNN: one convolution primitive, weights reordered once --------- */

typedef struct dnnl_conv {
    dnnl_engine_t eng;
    dnnl_stream_t stream;
    dnnl_primitive_t prim;
    dnnl_memory_t src, wei, bias, dst;
} dnnl_conv;

#define DN(call)                                                               \
    do {                                                                       \
        if ((call) != dnnl_success) {                                          \
            fprintf(stderr, "oneDNN: %s failed\n", #call);                     \
            return -1;                                                         \
        }                                                                      \
    } while (0)

static int dnnl_conv_new(dnnl_conv *d, const pl_conv_shape *s, const float *w,
                         const float *bias, const pl_epilogue *ep, float *x, float *y)
{
    memset(d, 0, sizeof *d);
    DN(dnnl_engine_create(&d->eng, dnnl_cpu, 0));
    DN(dnnl_stream_create(&d->stream, d->eng, dnnl_stream_default_flags));
    int g = s->groups, icg = s->in_c / g, ocg = s->out_c / g;
    dnnl_dims_t src_dims = {s->n, s->in_c, s->in_h, s->in_w};
    dnnl_dims_t dst_dims = {s->n, s->out_c, s->out_h, s->out_w};
    dnnl_dims_t bias_dims = {s->out_c};
    dnnl_memory_desc_t src_md, dst_md, bias_md, wany_md, wuser_md;
    DN(dnnl_memory_desc_init_by_tag(&src_md, 4, src_dims, dnnl_f32, dnnl_nhwc));
    DN(dnnl_memory_desc_init_by_tag(&dst_md, 4, dst_dims, dnnl_f32, dnnl_nhwc));
    DN(dnnl_memory_desc_init_by_tag(&bias_md, 1, bias_dims, dnnl_f32, dnnl_x));
    if (g == 1) {
        dnnl_dims_t wd = {s->out_c, s->in_c, s->kh, s->kw};
        DN(dnnl_memory_desc_init_by_tag(&wuser_md, 4, wd, dnnl_f32, dnnl_ohwi));
        DN(dnnl_memory_desc_init_by_tag(&wany_md, 4, wd, dnnl_f32, dnnl_format_tag_any));
    } else if (icg == 1 && ocg == 1) { /* [C][KH][KW][1] is goihw here */
        dnnl_dims_t wd = {g, 1, 1, s->kh, s->kw};
        DN(dnnl_memory_desc_init_by_tag(&wuser_md, 5, wd, dnnl_f32, dnnl_goihw));
        DN(dnnl_memory_desc_init_by_tag(&wany_md, 5, wd, dnnl_f32, dnnl_format_tag_any));
    } else {
        return -1;
    }
    dnnl_dims_t strides = {s->stride_h, s->stride_w};
    dnnl_dims_t dil = {s->dilation_h - 1, s->dilation_w - 1};
    dnnl_dims_t pl = {s->pad_top, s->pad_left};
    dnnl_dims_t pr = {(s->out_h - 1) * s->stride_h + (s->kh - 1) * s->dilation_h + 1 - s->in_h - s->pad_top,
                      (s->out_w - 1) * s->stride_w + (s->kw - 1) * s->dilation_w + 1 - s->in_w - s->pad_left};
    dnnl_convolution_desc_t cd;
    DN(dnnl_dilated_convolution_forward_desc_init(&cd, dnnl_forward_inference,
                                                  dnnl_convolution_direct, &src_md, &wany_md,
                                                  &bias_md, &dst_md, strides, dil, pl, pr));
    dnnl_primitive_attr_t attr;
    dnnl_post_ops_t po;
    DN(dnnl_primitive_attr_create(&attr));
    DN(dnnl_post_ops_create(&po));
    if (ep && ep->act == PL_ACT_RELU)
        DN(dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f));
    DN(dnnl_primitive_attr_set_post_ops(attr, po));
    dnnl_primitive_desc_t pd;
    DN(dnnl_primitive_desc_create(&pd, &cd, attr, d->eng, NULL));
    DN(dnnl_primitive_create(&d->prim, pd));
    const dnnl_memory_desc_t *wmd = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    DN(dnnl_memory_create(&d->src, &src_md, d->eng, x));
    DN(dnnl_memory_create(&d->dst, &dst_md, d->eng, y));
    DN(dnnl_memory_create(&d->bias, &bias_md, d->eng, (void *)bias));
    DN(dnnl_memory_create(&d->wei, wmd, d->eng, DNNL_MEMORY_ALLOCATE));
    dnnl_memory_t wuser;
    DN(dnnl_memory_create(&wuser, &wuser_md, d->eng, (void *)w));
    dnnl_primitive_desc_t rpd;
    dnnl_primitive_t reorder;
    DN(dnnl_reorder_primitive_desc_create(&rpd, &wuser_md, d->eng, wmd, d->eng, NULL));
    DN(dnnl_primitive_create(&reorder, rpd));
    dnnl_exec_arg_t rargs[2] = {{DNNL_ARG_FROM, wuser}, {DNNL_ARG_TO, d->wei}};
    DN(dnnl_primitive_execute(reorder, d->stream, 2, rargs));
    DN(dnnl_stream_wait(d->stream));
    dnnl_primitive_destroy(reorder);
    dnnl_primitive_desc_destroy(rpd);
    dnnl_memory_destroy(wuser);
    dnnl_primitive_desc_destroy(pd);
    dnnl_post_ops_destroy(po);
    dnnl_primitive_attr_destroy(attr);
    return 0;
}

static void dnnl_conv_run(void *arg)
{
    dnnl_conv *d = arg;
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, d->src}, {DNNL_ARG_WEIGHTS, d->wei},
                               {DNNL_ARG_BIAS, d->bias}, {DNNL_ARG_DST, d->dst}};
    dnnl_primitive_execute(d->prim, d->stream, 4, args);
    dnnl_stream_wait(d->stream);
}

static void dnnl_conv_free(dnnl_conv *d)
{
    if (d->prim) dnnl_primitive_destroy(d->prim);
    if (d->src) dnnl_memory_destroy(d->src);
    if (d->wei) dnnl_memory_destroy(d->wei);
    if (d->bias) dnnl_memory_destroy(d->bias);
    if (d->dst) dnnl_memory_destroy(d->dst);
    if (d->stream) dnnl_stream_destroy(d->stream);
    if (d->eng) dnnl_engine_destroy(d->eng);
}

/* ---- layers -------------------------------------------------------------- */

typedef struct layer {
    const char *name;
    pl_conv_shape s;
    float *x, *w, *b, *y;
    pl_epilogue ep;
    pl_conv_plan *plan;
    dnnl_conv dn;
} layer;

static pl_conv_shape conv(int h, int w, int ic, int oc, int k, int stride, int groups)
{
    int pad = k == 1 || k == h ? 0 : k / 2;
    pl_conv_shape s = {.n = 1, .in_h = h, .in_w = w, .in_c = ic, .out_c = oc, .kh = k, .kw = k,
                       .stride_h = stride, .stride_w = stride, .dilation_h = 1, .dilation_w = 1,
                       .pad_top = pad, .pad_left = pad, .groups = groups};
    s.out_h = (h + 2 * pad - k) / stride + 1;
    s.out_w = (w + 2 * pad - k) / stride + 1;
    return s;
}

static double layer_flops(const pl_conv_shape *s)
{
    return 2.0 * s->n * s->out_h * s->out_w * s->out_c * s->kh * s->kw * (s->in_c / s->groups);
}

/* 64-byte aligned, like the session's activation arena: a full-vector
 * load that straddles two cache lines costs two. */
static float *falloc(size_t n)
{
    return aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
}

static float *rnd(size_t n)
{
    float *p = falloc(n);
    for (size_t i = 0; i < n; i++) p[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
    return p;
}

static void layer_init(layer *l, const char *name, pl_conv_shape s, float *x)
{
    memset(l, 0, sizeof *l);
    l->name = name;
    l->s = s;
    l->x = x ? x : rnd((size_t)s.in_h * s.in_w * s.in_c);
    l->w = rnd((size_t)s.out_c * s.kh * s.kw * (s.in_c / s.groups));
    l->b = rnd(s.out_c);
    l->y = falloc((size_t)s.out_h * s.out_w * s.out_c);
    l->ep.act = PL_ACT_RELU;
}

static void run_ref(void *arg)
{
    layer *l = arg;
    pl_conv2d_ref(&l->s, l->x, l->w, l->b, &l->ep, l->y, 0, l->s.out_h);
}
static void run_plan(void *arg)
{
    layer *l = arg;
    pl_conv_plan_run(l->plan, l->x, l->y, 0, l->s.out_h);
}

/* A benchmark row: one layer or a chain of two (dw + pw). */
typedef struct row {
    const char *name;
    layer *l[2];
    int n;
} row;

static void row_ref(void *arg)
{
    row *r = arg;
    for (int i = 0; i < r->n; i++) run_ref(r->l[i]);
}
static void row_plan(void *arg)
{
    row *r = arg;
    for (int i = 0; i < r->n; i++) run_plan(r->l[i]);
}
static void row_dnnl(void *arg)
{
    row *r = arg;
    for (int i = 0; i < r->n; i++) dnnl_conv_run(&r->l[i]->dn);
}

static double time_level(row *r, const char *level, char *kname, size_t kn)
{
    setenv("PL_CPU", level, 1);
    pl_cpu_reload();
    kname[0] = 0;
    for (int i = 0; i < r->n; i++) {
        r->l[i]->plan = pl_conv_plan_new(&r->l[i]->s, r->l[i]->w, r->l[i]->b, &r->l[i]->ep);
        if (!r->l[i]->plan) return 0;
        snprintf(kname + strlen(kname), kn - strlen(kname), "%s%s", i ? "+" : "",
                 pl_conv_plan_name(r->l[i]->plan));
    }
    double t = time_it(row_plan, r);
    for (int i = 0; i < r->n; i++) {
        pl_conv_plan_free(r->l[i]->plan);
        r->l[i]->plan = NULL;
    }
    return t;
}

/* ---- pooling: reference vs pl_pool_run at each level ---------------------- */

typedef struct pool_job {
    pl_pool_shape s;
    float *x, *y;
    int fast;
} pool_job;

static void run_pool(void *arg)
{
    pool_job *j = arg;
    pl_epilogue ep = {.act = PL_ACT_NONE};
    if (j->fast) pl_pool_run(&j->s, j->x, &ep, j->y, 0, j->s.out_h);
    else pl_pool_ref(&j->s, j->x, &ep, j->y, 0, j->s.out_h);
}

static void bench_pools(const pl_cpu *c)
{
    static const struct { const char *name; pl_pool_shape s; } pools[] = {
        {"max 2x2 s2 640x480x10 (pnet)", {1, 640, 480, 10, 320, 240, 2, 2, 2, 2, 0, 0, 1, 0}},
        {"max 3x3 s2 75x75x32 (dlib)", {1, 75, 75, 32, 37, 37, 3, 3, 2, 2, 0, 0, 1, 0}},
        {"avg global 7x7x512", {1, 7, 7, 512, 1, 1, 7, 7, 1, 1, 0, 0, 0, 0}},
    };
    printf("\n%-30s | %10s | %10s | %10s\n", "pooling", "ref", "avx2", "avx512");
    for (size_t i = 0; i < sizeof pools / sizeof pools[0]; i++) {
        pool_job j = {.s = pools[i].s};
        j.x = rnd((size_t)j.s.in_h * j.s.in_w * j.s.c);
        j.y = falloc((size_t)j.s.out_h * j.s.out_w * j.s.c);
        double t[3] = {0, 0, 0};
        t[0] = time_it(run_pool, &j);
        j.fast = 1;
        const char *lv[2] = {"avx2", "avx512"};
        int have[2] = {c->avx2_fma, c->avx512f};
        for (int l = 0; l < 2; l++) {
            if (!have[l]) continue;
            setenv("PL_CPU", lv[l], 1);
            pl_cpu_reload();
            t[l + 1] = time_it(run_pool, &j);
        }
        printf("%-30s | %7.3f ms | %7.3f ms | %7.3f ms\n", pools[i].name, t[0] * 1e3, t[1] * 1e3,
               t[2] * 1e3);
        free(j.x), free(j.y);
    }
}

static void cpu_model(char *buf, size_t n)
{
    snprintf(buf, n, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[256];
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "model name", 10) == 0) {
            char *c = strchr(line, ':');
            if (c) snprintf(buf, n, "%s", c + 2);
            buf[strcspn(buf, "\n")] = 0;
            break;
        }
    fclose(f);
}

/* Every CONV2D of a model through pl_conv_plan_run, one at a time. */
static int bench_model(int argc, char **argv)
{
    pl_error err = {0};
    int rank = argc - 1; /* argv: FILE DIMS... */
    int64_t dims[PL_MAX_RANK];
    if (rank < 1 || rank > PL_MAX_RANK) return fprintf(stderr, "usage: --model FILE DIMS...\n"), 2;
    for (int i = 0; i < rank; i++) dims[i] = atoll(argv[1 + i]);
    pl_graph *g = pl_model_graph_load(argv[0], &err);
    pl_session *s = g ? pl_session_new(g, 1, &err) : NULL;
    if (!s || pl_session_set_input_shape(s, 0, rank, dims, &err) != PL_OK) {
        fprintf(stderr, "%s\n", err.msg);
        pl_session_free(s);
        pl_graph_free(g);
        return 1;
    }
    double total = 0, total_fl = 0;
    static float slope[1 << 14];
    for (size_t i = 0; i < sizeof slope / sizeof slope[0]; i++) slope[i] = 0.25f;
    for (int i = 0; i < g->n_nodes; i++) {
        const pl_node *n = &g->nodes[i];
        if (n->op != PL_OP_CONV2D) continue;
        pl_conv_shape cs;
        pl_epilogue ep;
        pl_op_conv_shape(g, n, &cs);
        pl_op_epilogue(n, slope, &ep);
        if (cs.out_c > (int)(sizeof slope / sizeof slope[0])) ep.act = PL_ACT_RELU;
        layer l;
        memset(&l, 0, sizeof l);
        l.s = cs;
        l.ep = ep;
        l.x = rnd((size_t)cs.n * cs.in_h * cs.in_w * cs.in_c);
        l.y = falloc((size_t)cs.n * cs.out_h * cs.out_w * cs.out_c);
        const float *bias = n->n_inputs > 2 && n->inputs[2] >= 0 ? g->tensors[n->inputs[2]].data : NULL;
        l.plan = pl_conv_plan_new(&cs, g->tensors[n->inputs[1]].data, bias, &ep);
        double fl = layer_flops(&cs), t = l.plan ? time_it(run_plan, &l) : 0;
        total += t;
        total_fl += fl;
        printf("%-20s %4dx%-4d %4d->%-4d k%dx%d s%d g%-4d %9.1f us %6.1f GF\n",
               pl_conv_plan_name(l.plan), cs.out_h, cs.out_w, cs.in_c, cs.out_c, cs.kh, cs.kw,
               cs.stride_h, cs.groups, t * 1e6, t > 0 ? fl / t / 1e9 : 0.0);
        pl_conv_plan_free(l.plan);
        free(l.x);
        free(l.y);
    }
    printf("all convolutions: %.3f ms, %.1f MFLOP, %.1f GFLOPS\n", total * 1e3, total_fl / 1e6,
           total > 0 ? total_fl / total / 1e9 : 0.0);
    pl_session_free(s);
    pl_graph_free(g);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 2 && strcmp(argv[1], "--model") == 0) {
        pl_cpu_set_ftz();
        return bench_model(argc - 2, argv + 2);
    }
    quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    /* oneDNN's OpenMP pool: one thread, so every column is one core. */
    void (*omp_set)(int) = (void (*)(int))dlsym(RTLD_DEFAULT, "omp_set_num_threads");
    if (omp_set) omp_set(1);
    pl_cpu_set_ftz();

    char model[128];
    cpu_model(model, sizeof model);
    pl_cpu cpu = *pl_cpu_reload(), *c = &cpu; /* a copy: levels change below */
    printf("CPU: %s (avx2+fma %d, avx512 %d), 1 thread\n", model, c->avx2_fma, c->avx512f);
    float sink;
    double fl = 12.0 * 1e6 * 2;
    double p2 = c->avx2_fma ? fl * 8 / time_it(peak_avx2, &sink) / 1e9 : 0;
    double p5 = c->avx512f ? fl * 16 / time_it(peak_avx512, &sink) / 1e9 : 0;
    printf("measured FMA peak: AVX2 %.1f GFLOPS, AVX-512 %.1f GFLOPS\n\n", p2, p5);

    static layer L[10];
    layer_init(&L[0], "3x3 56x56 64->64", conv(56, 56, 64, 64, 3, 1, 1), NULL);
    layer_init(&L[1], "dw3x3 56x56 64", conv(56, 56, 64, 64, 3, 1, 64), NULL);
    layer_init(&L[2], "pw1x1 56x56 64->64", conv(56, 56, 64, 64, 1, 1, 1), L[1].y);
    layer_init(&L[3], "1x1 56x56 64->128", conv(56, 56, 64, 128, 1, 1, 1), NULL);
    layer_init(&L[4], "dw3x3 s2 56x56 128", conv(56, 56, 128, 128, 3, 2, 128), NULL);
    layer_init(&L[5], "GDC 7x7 512", conv(7, 7, 512, 512, 7, 1, 512), NULL);
    layer_init(&L[6], "3x3 s2 112x112 3->64", conv(112, 112, 3, 64, 3, 2, 1), NULL);
    layer_init(&L[7], "1x1 7x7 128->512", conv(7, 7, 128, 512, 1, 1, 1), NULL);
    /* MTCNN pnet on a 640x480 level of the pyramid: unpadded 3x3 conv1,
     * and a 1x1 head reading conv3's 32 channels for 2 outputs. */
    pl_conv_shape pnet1 = conv(480, 640, 3, 10, 3, 1, 1), head = conv(238, 318, 32, 2, 1, 1, 1);
    pnet1.pad_top = pnet1.pad_left = 0;
    pnet1.out_h = 478;
    pnet1.out_w = 638;
    layer_init(&L[8], "pnet conv1", pnet1, NULL);
    layer_init(&L[9], "pnet head", head, NULL);
    L[5].ep.act = PL_ACT_NONE;
    row rows[] = {{"conv 3x3 56x56 64->64", {&L[0]}, 1},
                  {"dw3x3+pw1x1 56x56 64", {&L[1], &L[2]}, 2},
                  {"1x1 56x56 64->128", {&L[3]}, 1},
                  {"dw 3x3 s2 56x56 128", {&L[4]}, 1},
                  {"GDC 7x7 512", {&L[5]}, 1},
                  {"stem 3x3 s2 112 3->64", {&L[6]}, 1},
                  {"1x1 7x7 128->512", {&L[7]}, 1},
                  {"pnet 3x3 480x640 3->10", {&L[8]}, 1},
                  {"pnet 1x1 238x318 32->2", {&L[9]}, 1}};
    int nrows = sizeof rows / sizeof rows[0];

    printf("%-24s %7s | %-9s | %-18s | %-18s | %-18s | %s\n", "layer", "MFLOP", "ref",
           "avx2", "avx512", "oneDNN", "kernel");
    for (int i = 0; i < nrows; i++) {
        row *r = &rows[i];
        double flops = 0;
        int dn_ok = 1;
        for (int j = 0; j < r->n; j++) {
            layer *l = r->l[j];
            flops += layer_flops(&l->s);
            if (dnnl_conv_new(&l->dn, &l->s, l->w, l->b, &l->ep, l->x, l->y) != 0) dn_ok = 0;
        }
        double t_ref = quick ? 0 : time_it(row_ref, r);
        char k2[96], k5[96];
        double t2 = c->avx2_fma ? time_level(r, "avx2", k2, sizeof k2) : 0;
        double t5 = c->avx512f ? time_level(r, "avx512", k5, sizeof k5) : 0;
        double td = dn_ok ? time_it(row_dnnl, r) : 0;
#define GF(t) ((t) > 0 ? flops / (t) / 1e9 : 0.0)
        printf("%-24s %7.1f | %5.1f GF  | %6.3f ms %5.1f GF | %6.3f ms %5.1f GF | %6.3f ms %5.1f GF | %s\n",
               r->name, flops / 1e6, GF(t_ref), t2 * 1e3, GF(t2), t5 * 1e3, GF(t5), td * 1e3,
               GF(td), c->avx512f ? k5 : k2);
        printf("%-24s %7s | %9s | %15.0f%%   | %15.0f%%   | %15.0f%%   | (of AVX2 / AVX-512 peak)\n",
               "", "", "", p2 > 0 ? 100 * GF(t2) / p2 : 0, p5 > 0 ? 100 * GF(t5) / p5 : 0,
               p5 > 0 ? 100 * GF(td) / p5 : 0);
        fflush(stdout);
    }
    bench_pools(&cpu);
    for (int i = 0; i < 10; i++) {
        dnnl_conv_free(&L[i].dn);
        if (i != 2) free(L[i].x);
        free(L[i].w), free(L[i].b), free(L[i].y);
    }
    return 0;
}
