/* bench_engine.c — whole-model latency of our engine against the peer
 * runtimes a user would run instead, on the same input in the same run:
 * onnxruntime-node for the ONNX models, TF.js wasm for the TF.js / face-api
 * models, Google's wasm TFLite (XNNPACK) for the TFLite ones. Prints the
 * ratios, the GFLOPS achieved and the machine's single-core FMA peak.
 *
 *     make build/bench/bench_engine && build/bench/bench_engine
 *     build/bench/bench_engine --only fr_feature --no-peers
 *     build/bench/bench_engine --profile MobileFaceNet 5   (for perf: see bench/engine.sh)
 *
 * Each model's input is synthetic (a fixed pseudo-random tensor in the
 * model's input range), written as .npy into a temporary folder; the peer
 * scripts (bench/peers/engine_*.js) read the same file, time the same way
 * and write their first output back so the two results can be compared.
 *
 * Timing: 3 warm-up runs, then runs until at least 5 and about a second
 * (at most 50); medians. The VMs this is developed on are shared and
 * noisy, so one-thread figures are CPU time (ours: this thread, which is
 * the only one computing at 1 thread; the peers': their process), and
 * two-thread figures are wall time, which load from other work inflates.
 * Not part of `make test`.
 */
#include <immintrin.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pasalista.h"
#include "engine/kernels.h"
#include "engine/session.h"
#include "formats/formats.h"

typedef enum peer_kind { PEER_ORT, PEER_TFJS, PEER_TFLITE } peer_kind;

typedef struct bench_model {
    const char *name;
    const char *file;      /* under models/ */
    int rank;
    int64_t dims[4];       /* in the file's layout */
    float lo, hi;          /* input range (the model's preprocessing) */
    peer_kind peer;
    int embedding;         /* held to the 50%-of-peak target */
    int per_item;          /* report per item too (MobileFaceNet: 2 faces) */
} bench_model;

static const bench_model MODELS[] = {
    {"MobileFaceNet", "expo/MobileFaceNet.tflite", 4, {2, 112, 112, 3}, -1, 1, PEER_TFLITE, 1, 2},
    {"fr_feature", "faceplugin/fr_feature.onnx", 4, {1, 3, 112, 112}, -1, 1, PEER_ORT, 1, 0},
    {"face_recognition", "face-api/face_recognition_model-weights_manifest.json", 4,
     {1, 150, 150, 3}, 0, 255, PEER_TFJS, 1, 0},
    {"faceres", "human/faceres.json", 4, {1, 224, 224, 3}, -124, 152, PEER_TFJS, 1, 0},
    {"pnet", "expo/pnet.tflite", 4, {1, 1280, 960, 3}, -1, 1, PEER_TFLITE, 0, 0},
    {"rnet", "expo/rnet.tflite", 4, {1, 24, 24, 3}, -1, 1, PEER_TFLITE, 0, 0},
    {"onet", "expo/onet.tflite", 4, {1, 48, 48, 3}, -1, 1, PEER_TFLITE, 0, 0},
    /* the other ONNX models: the ORT target holds for every ONNX model */
    {"fr_detect", "faceplugin/fr_detect.onnx", 4, {1, 3, 240, 320}, -1, 1, PEER_ORT, 0, 0},
    {"fr_liveness", "faceplugin/fr_liveness.onnx", 4, {1, 3, 128, 128}, -1, 1, PEER_ORT, 0, 0},
    {"fr_landmark", "faceplugin/fr_landmark.onnx", 4, {1, 1, 64, 64}, -1, 1, PEER_ORT, 0, 0},
    {"fr_gender", "faceplugin/fr_gender.onnx", 4, {1, 3, 64, 64}, -1, 1, PEER_ORT, 0, 0},
    {"fr_age", "faceplugin/fr_age.onnx", 4, {1, 3, 64, 64}, -1, 1, PEER_ORT, 0, 0},
};
#define N_MODELS ((int)(sizeof MODELS / sizeof MODELS[0]))

static const char *PEER_NAME[] = {"onnxruntime-node", "tfjs-wasm", "tfjs-tflite"};
static const char *PEER_SCRIPT[] = {"engine_ort.js", "engine_tfjs.js", "engine_tflite.js"};
/* A file whose presence says the peer is installed, and how to install it. */
static const char *PEER_PROBE[] = {
    "bench/peers/node_modules/onnxruntime-node/package.json",
    "bench/peers/node_modules/@tensorflow/tfjs-backend-wasm/package.json",
    "bench/peers/tflite/node_modules/@tensorflow/tfjs-tflite/package.json"};
static const char *PEER_INSTALL[] = {
    "cd bench/peers && ONNXRUNTIME_NODE_INSTALL=skip npm install",
    "cd bench/peers && npm install", "cd bench/peers/tflite && npm install"};

/* ---- clocks ------------------------------------------------------------- */

static double clock_s(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}
static double wall_s(void) { return clock_s(CLOCK_MONOTONIC); }
static double cpu_s(void) { return clock_s(CLOCK_THREAD_CPUTIME_ID); }

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
static double median(double *v, int n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- FMA peak: 12 independent chains hide the 4-cycle FMA latency ------- */
/* Measured like bench_kernels.c: CPU time of this thread, best of batches. */

#define FMA12(F, m, c)                                                         \
    a0 = F(a0, m, c), a1 = F(a1, m, c), a2 = F(a2, m, c), a3 = F(a3, m, c),    \
    a4 = F(a4, m, c), a5 = F(a5, m, c), a6 = F(a6, m, c), a7 = F(a7, m, c),    \
    a8 = F(a8, m, c), a9 = F(a9, m, c), a10 = F(a10, m, c), a11 = F(a11, m, c)
#define PEAK_ITERS 1000000L

__attribute__((target("avx512f"))) static float peak_avx512(void)
{
    __m512 m = _mm512_set1_ps(0.9999f), c = _mm512_set1_ps(1e-6f);
    /* distinct starts, or the compiler merges the chains into one */
    __m512 a0 = _mm512_set1_ps(0.1f), a1 = _mm512_set1_ps(0.2f), a2 = _mm512_set1_ps(0.3f),
           a3 = _mm512_set1_ps(0.4f), a4 = _mm512_set1_ps(0.5f), a5 = _mm512_set1_ps(0.6f),
           a6 = _mm512_set1_ps(0.7f), a7 = _mm512_set1_ps(0.8f), a8 = _mm512_set1_ps(0.9f),
           a9 = _mm512_set1_ps(1.1f), a10 = _mm512_set1_ps(1.2f), a11 = _mm512_set1_ps(1.3f);
    for (long it = 0; it < PEAK_ITERS; it++) FMA12(_mm512_fmadd_ps, m, c);
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                             _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
    s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)));
    return _mm512_cvtss_f32(s);
}
__attribute__((target("avx2,fma"))) static float peak_avx2(void)
{
    __m256 m = _mm256_set1_ps(0.9999f), c = _mm256_set1_ps(1e-6f);
    __m256 a0 = _mm256_set1_ps(0.1f), a1 = _mm256_set1_ps(0.2f), a2 = _mm256_set1_ps(0.3f),
           a3 = _mm256_set1_ps(0.4f), a4 = _mm256_set1_ps(0.5f), a5 = _mm256_set1_ps(0.6f),
           a6 = _mm256_set1_ps(0.7f), a7 = _mm256_set1_ps(0.8f), a8 = _mm256_set1_ps(0.9f),
           a9 = _mm256_set1_ps(1.1f), a10 = _mm256_set1_ps(1.2f), a11 = _mm256_set1_ps(1.3f);
    for (long it = 0; it < PEAK_ITERS; it++) FMA12(_mm256_fmadd_ps, m, c);
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                             _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
    s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
    return _mm256_cvtss_f32(s);
}

/* Single-core FP32 peak in GFLOPS for the widest FMA this CPU has (what
 * our kernels dispatch to); *isa names it. */
static double fma_peak(const char **isa)
{
    const pl_cpu *c = pl_cpu_features();
    int wide = c->avx512f;
    if (!wide && !c->avx2_fma) {
        *isa = "none";
        return 0;
    }
    *isa = wide ? "AVX-512" : "AVX2";
    volatile float sink = 0;
    double best = 1e9;
    for (int b = 0; b < 7; b++) {
        double t0 = cpu_s();
        sink += wide ? peak_avx512() : peak_avx2();
        double t = cpu_s() - t0;
        if (t < best) best = t;
    }
    (void)sink;
    double flop = 12.0 * 2 * (wide ? 16 : 8) * PEAK_ITERS;
    return flop / best / 1e9;
}

/* ---- the model: input, FLOPs, our timings -------------------------------- */

/* Deterministic uniform values in [lo, hi] (xorshift), so every run and
 * every runtime sees the same tensor. */
static float *make_input(const bench_model *bm, size_t *n)
{
    size_t count = 1;
    for (int i = 0; i < bm->rank; i++) count *= (size_t)bm->dims[i];
    float *x = malloc(count * sizeof *x);
    if (!x) return NULL;
    uint32_t s = 0x9e3779b9u;
    for (size_t i = 0; i < count; i++) {
        s ^= s << 13, s ^= s >> 17, s ^= s << 5;
        x[i] = bm->lo + (bm->hi - bm->lo) * (float)(s >> 8) / 16777216.0f;
    }
    *n = count;
    return x;
}

/* Multiply-adds x 2 of every convolution and fully connected layer at this
 * input shape (after the load-time rewrites; element-wise work not counted). */
static double model_gflop(const char *path, const bench_model *bm, pl_error *err)
{
    pl_graph *g = pl_model_graph_load(path, err);
    if (!g) return -1;
    pl_session *s = pl_session_new(g, 1, err);
    double flop = -1;
    if (s && pl_session_set_input_shape(s, 0, bm->rank, bm->dims, err) == PL_OK) {
        flop = 0;
        for (int i = 0; i < g->n_nodes; i++) {
            const pl_node *nd = &g->nodes[i];
            if (nd->op != PL_OP_CONV2D && nd->op != PL_OP_FULLY_CONNECTED) continue;
            const pl_tensor *w = &g->tensors[nd->inputs[1]];
            double out = (double)pl_tensor_numel(&g->tensors[nd->outputs[0]]);
            /* conv OHWI: per output value KH*KW*Cin/groups; fc [N,K]: K */
            flop += 2 * out * (double)pl_tensor_numel(w) / (double)w->dims[0];
        }
    }
    pl_session_free(s);
    pl_graph_free(g);
    return flop < 0 ? -1 : flop / 1e9;
}

typedef struct timing {
    double wall_ms, cpu_ms; /* medians */
    double cpu_min_ms;      /* the fastest run: the least disturbed by other work */
    int runs;
} timing;

static int time_ours(pl_model *m, const float *x, const bench_model *bm, int max_runs,
                     timing *t, pl_error *err)
{
    for (int i = 0; i < 3; i++)
        if (pl_model_run(m, x, bm->rank, bm->dims, err) != PL_OK) return -1;
    double wall[64], cpu[64], spent = 0;
    int n = 0;
    while (n < max_runs && (n < 5 || spent < 1.0)) {
        double w0 = wall_s(), c0 = cpu_s();
        if (pl_model_run(m, x, bm->rank, bm->dims, err) != PL_OK) return -1;
        cpu[n] = (cpu_s() - c0) * 1e3;
        wall[n] = (wall_s() - w0) * 1e3;
        spent += wall[n] / 1e3;
        n++;
    }
    t->wall_ms = median(wall, n);
    t->cpu_ms = median(cpu, n);
    t->cpu_min_ms = cpu[0]; /* median() sorted it */
    t->runs = n;
    return 0;
}

/* ---- the peer: a node script on the same .npy ---------------------------- */

static double json_num(const char *line, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(line, pat);
    return p ? atof(p + strlen(pat)) : -1;
}

/* Runs the peer; fills t[0] (1 thread) and t[1] (2 threads, ORT only;
 * runs = 0 when absent). Returns 0, or -1 with the reason in why. */
static int run_peer(const bench_model *bm, const char *model_path, const char *in,
                    const char *out, int max_runs, timing t[2], char *why, size_t why_size)
{
    memset(t, 0, 2 * sizeof *t);
    if (access(PEER_PROBE[bm->peer], R_OK) != 0) {
        snprintf(why, why_size, "peer not installed: %s", PEER_INSTALL[bm->peer]);
        return -1;
    }
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "node bench/peers/%s --model '%s' --input '%s' --out '%s' --max-runs %d%s 2>&1",
             PEER_SCRIPT[bm->peer], model_path, in, out, max_runs,
             bm->peer == PEER_ORT ? " --threads 1,2" : "");
    FILE *f = popen(cmd, "r");
    if (!f) {
        snprintf(why, why_size, "cannot start node");
        return -1;
    }
    char line[4096], last[400] = "";
    while (fgets(line, sizeof line, f)) {
        if (strstr(line, "\"peer\"")) {
            int th = (int)json_num(line, "threads");
            if (th == 1 || th == 2) {
                t[th - 1].wall_ms = json_num(line, "wall_ms");
                t[th - 1].cpu_ms = json_num(line, "cpu_ms");
                t[th - 1].cpu_min_ms = json_num(line, "cpu_min_ms");
                t[th - 1].runs = (int)json_num(line, "runs");
            }
        } else if (line[0] != '\n') {
            size_t l = strlen(line); /* keep the last message line for the report */
            if (l >= sizeof last) l = sizeof last - 1;
            memcpy(last, line, l);
            last[l] = 0;
        }
    }
    int rc = pclose(f);
    if (rc != 0 || t[0].runs == 0) {
        last[strcspn(last, "\n")] = 0;
        snprintf(why, why_size, "peer failed (exit %d): %s", rc, last);
        return -1;
    }
    return 0;
}

/* Largest |ours - peer| over the output of ours with the same element
 * count as the peer's output 0, relative to the largest |peer| value. */
static double compare_output(const pl_model *m, const char *peer_out)
{
    int rank;
    int64_t dims[6];
    float *ref;
    if (pl_npy_read(peer_out, &rank, dims, &ref, NULL) != PL_OK) return -1;
    int64_t n = 1;
    for (int i = 0; i < rank; i++) n *= dims[i];
    double worst = -1;
    for (int k = 0; k < pl_model_n_outputs(m) && worst < 0; k++) {
        int r;
        int64_t d[6], c = 1;
        const float *y = pl_model_output(m, k, &r, d);
        for (int i = 0; y && i < r; i++) c *= d[i];
        if (!y || c != n) continue;
        double dmax = 0, vmax = 1e-30;
        for (int64_t i = 0; i < n; i++) {
            dmax = fmax(dmax, fabs((double)y[i] - ref[i]));
            vmax = fmax(vmax, fabs((double)ref[i]));
        }
        worst = dmax / vmax;
    }
    free(ref);
    return worst;
}

/* ---- one model, one row --------------------------------------------------- */

typedef struct row {
    double gflop;
    timing ours[2], peer[2];
    int peer_ok;
    char peer_why[512];
    double diff;
} row;

static int bench_one(const bench_model *bm, const char *tmp, int use_peers, int max_runs,
                     row *r, pl_error *err)
{
    memset(r, 0, sizeof *r);
    char path[1024], in[1200], out[1200];
    if (pl_model_file_path(bm->file, path, sizeof path, err) != PL_OK) return -1;
    r->gflop = model_gflop(path, bm, err);
    if (r->gflop < 0) return -1;
    size_t n;
    float *x = make_input(bm, &n);
    if (!x) return -1;
    snprintf(in, sizeof in, "%s/%s_in.npy", tmp, bm->name);
    snprintf(out, sizeof out, "%s/%s_peer.npy", tmp, bm->name);
    int rc = pl_npy_write(in, bm->rank, bm->dims, x, err) == PL_OK ? 0 : -1;
    pl_model *m = NULL;
    for (int th = 1; th <= 2 && rc == 0; th++) {
        pl_model_free(m);
        m = pl_model_load(path, th, err);
        rc = m ? time_ours(m, x, bm, max_runs, &r->ours[th - 1], err) : -1;
    }
    if (rc == 0 && use_peers) {
        r->peer_ok = run_peer(bm, path, in, out, max_runs, r->peer, r->peer_why,
                              sizeof r->peer_why) == 0;
        r->diff = r->peer_ok ? compare_output(m, out) : -1;
    } else if (rc == 0) {
        snprintf(r->peer_why, sizeof r->peer_why, "peers off (--no-peers)");
    }
    pl_model_free(m);
    free(x);
    unlink(in);
    unlink(out);
    return rc;
}

static void dims_str(const bench_model *bm, char *buf, size_t size)
{
    int at = 0;
    for (int i = 0; i < bm->rank; i++)
        at += snprintf(buf + at, size - at, i ? "x%lld" : "%lld", (long long)bm->dims[i]);
}

/* Milliseconds in 8 columns, with 3 decimals below 1 ms. */
static const char *ms(char buf[16], double v)
{
    snprintf(buf, 16, v < 1 ? "%8.3f" : "%8.2f", v);
    return buf;
}

static void print_row(const bench_model *bm, const row *r, double peak)
{
    char d[64];
    dims_str(bm, d, sizeof d);
    double gf = r->gflop / (r->ours[0].cpu_ms / 1e3);
    char a[16], b[16], c[16];
    printf("%-16s %-12s %6.4f | %s %s %s | ", bm->name, d, r->gflop, ms(a, r->ours[0].cpu_ms),
           ms(b, r->ours[0].wall_ms), ms(c, r->ours[1].wall_ms));
    if (r->peer_ok) {
        printf("%-16s %s %s ", PEER_NAME[bm->peer], ms(a, r->peer[0].cpu_ms),
               ms(b, r->peer[0].wall_ms));
        if (r->peer[1].runs) printf("%s", ms(c, r->peer[1].wall_ms));
        else printf("%8s", "1T only");
        double r1 = r->ours[0].cpu_ms / r->peer[0].cpu_ms;
        /* wasm peers have no second thread in Node: our 2T against their 1T */
        double r2 = r->ours[1].wall_ms / (r->peer[1].runs ? r->peer[1].wall_ms : r->peer[0].wall_ms);
        printf(" | %5.2fx %5.2fx", r1, r2);
    } else {
        printf("%-43s | %13s", "-", "-");
    }
    printf(" | %6.1f %5.1f%%", gf, 100 * gf / peak);
    if (r->peer_ok && r->diff >= 0) printf(" | %.1e", r->diff);
    printf("\n");
    if (bm->per_item)
        printf("%-16s (per face: ours %.2f ms CPU, peer %.2f ms CPU)\n", "",
               r->ours[0].cpu_ms / bm->per_item,
               r->peer_ok ? r->peer[0].cpu_ms / bm->per_item : NAN);
    if (!r->peer_ok) printf("%-16s %s\n", "", r->peer_why);
}

/* Verdicts against the targets, one line each: on the medians
 * (MET/MISS), with the fastest runs beside them, since load from other
 * work on a shared VM only ever adds time. */
static void print_targets(const row *rows, const int *done, double peak)
{
    printf("\nTargets (1 thread, CPU time): ORT <= 0.80x, wasm runtimes <= 0.25x, "
           "embedding nets >= 50%% of the %.0f GFLOPS peak\n"
           "verdict on medians; [fastest run of each side in brackets]\n", peak);
    for (int i = 0; i < N_MODELS; i++) {
        if (!done[i]) continue;
        const bench_model *bm = &MODELS[i];
        const row *r = &rows[i];
        printf("  %-16s", bm->name);
        if (r->peer_ok) {
            double lim = bm->peer == PEER_ORT ? 0.80 : 0.25;
            double v = r->ours[0].cpu_ms / r->peer[0].cpu_ms;
            double b = r->ours[0].cpu_min_ms / r->peer[0].cpu_min_ms;
            printf(" ratio %.2fx [%.2fx] (target %.2fx) %-4s", v, b, lim, v <= lim ? "MET" : "MISS");
        } else {
            printf(" ratio n/a %28s", "");
        }
        if (bm->embedding) {
            double gf = r->gflop / (r->ours[0].cpu_ms / 1e3);
            double gb = r->gflop / (r->ours[0].cpu_min_ms / 1e3);
            printf("  %.0f GFLOPS = %.0f%% of peak [%.0f GFLOPS = %.0f%%] (target 50%%) %s", gf,
                   100 * gf / peak, gb, 100 * gb / peak, gf >= peak / 2 ? "MET" : "MISS");
        }
        printf("\n");
    }
}

/* ---- --profile: our 1-thread run in a loop, for perf record -------------- */

static int profile(const char *name, double seconds)
{
    for (int i = 0; i < N_MODELS; i++) {
        const bench_model *bm = &MODELS[i];
        if (strcmp(bm->name, name) != 0) continue;
        pl_error err = {0};
        char path[1024];
        size_t n;
        float *x = make_input(bm, &n);
        pl_model *m = NULL;
        if (x && pl_model_file_path(bm->file, path, sizeof path, &err) == PL_OK)
            m = pl_model_load(path, 1, &err);
        int runs = 0, rc = m ? 0 : 1;
        double t0 = cpu_s();
        while (!rc && cpu_s() - t0 < seconds) {
            rc = pl_model_run(m, x, bm->rank, bm->dims, &err) != PL_OK;
            runs++;
        }
        if (rc) fprintf(stderr, "%s: %s\n", name, err.msg);
        else fprintf(stderr, "%s: %d runs, %.2f ms CPU each\n", name, runs,
                     (cpu_s() - t0) * 1e3 / runs);
        pl_model_free(m);
        free(x);
        return rc;
    }
    fprintf(stderr, "unknown model '%s'\n", name);
    return 2;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_engine [--only NAME[,NAME]] [--no-peers] [--max-runs N]\n"
                    "       bench_engine --profile NAME [SECONDS]\n"
                    "models:");
    for (int i = 0; i < N_MODELS; i++) fprintf(stderr, " %s", MODELS[i].name);
    fprintf(stderr, "\n");
}

static double loadavg(void)
{
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1) l = -1;
        fclose(f);
    }
    return l;
}

static void print_cpu(void)
{
    char line[512], name[256] = "unknown";
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
            snprintf(name, sizeof name, "%s", strchr(line, ':') + 2);
            name[strcspn(name, "\n")] = 0;
            break;
        }
    if (f) fclose(f);
    printf("CPU: %s, %ld online CPUs, load average %.1f\n", name,
           sysconf(_SC_NPROCESSORS_ONLN), loadavg());
}

int main(int argc, char **argv)
{
    const char *only = NULL;
    int use_peers = 1, max_runs = 50;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--profile") && i + 1 < argc)
            return profile(argv[i + 1], i + 2 < argc ? atof(argv[i + 2]) : 5);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
        else if (!strcmp(argv[i], "--no-peers")) use_peers = 0;
        else if (!strcmp(argv[i], "--max-runs") && i + 1 < argc) max_runs = atoi(argv[++i]);
        else {
            usage();
            return 2;
        }
    }
    if (max_runs < 5) max_runs = 5;
    if (max_runs > 64) max_runs = 64;

    char tmp[] = "/tmp/bench_engine.XXXXXX";
    if (!mkdtemp(tmp)) {
        perror("mkdtemp");
        return 1;
    }
    print_cpu();
    const char *isa;
    double peak = fma_peak(&isa);
    printf("single-core FP32 peak (FMA loop, %s): %.1f GFLOPS\n", isa, peak);
    printf("ours: pasalista %s; 1T = CPU time of the calling thread (the only one computing), "
           "2T = wall time\npeers: 1T = process CPU time; 2T = wall time (ORT only: the wasm "
           "runtimes are single-threaded in Node, so their 2T ratio is ours 2T vs their 1T wall)\n\n",
           pl_version());
    printf("%-16s %-12s %6s | %8s %8s %8s | %-16s %8s %8s %8s | %6s %6s | %6s %6s | %s\n",
           "model", "input", "GFLOP", "ours 1T", "1T wall", "2T wall", "peer", "peer 1T",
           "1T wall", "2T wall", "1T", "2T", "GFLOPS", "peak", "max |diff|/max");
    printf("%-16s %-12s %6s | %8s %8s %8s | %-16s %8s %8s %8s | %6s %6s | %6s %6s |\n", "", "",
           "", "CPU ms", "ms", "ms", "", "CPU ms", "ms", "ms", "ratio", "ratio", "1T", "");

    row rows[N_MODELS];
    int done[N_MODELS] = {0}, failed = 0;
    for (int i = 0; i < N_MODELS; i++) {
        const bench_model *bm = &MODELS[i];
        if (only) {
            const char *p = strstr(only, bm->name);
            size_t l = strlen(bm->name);
            if (!p || (p != only && p[-1] != ',') || (p[l] && p[l] != ',')) continue;
        }
        pl_error err = {0};
        if (bench_one(bm, tmp, use_peers, max_runs, &rows[i], &err) != 0) {
            printf("%-16s error: %s\n", bm->name, err.msg[0] ? err.msg : "out of memory");
            failed++;
            continue;
        }
        done[i] = 1;
        print_row(bm, &rows[i], peak);
        fflush(stdout);
    }
    print_targets(rows, done, peak);
    printf("load average at the end: %.1f\n", loadavg());
    rmdir(tmp);
    return failed ? 1 : 0;
}
