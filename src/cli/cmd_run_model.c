/* cmd_run_model.c — `pasalista run-model`: run any supported model file on
 * a tensor from a .npy file and write its outputs as .npy files. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"

static void help(void)
{
    printf("usage: pasalista run-model MODEL_FILE --input IN.npy --output OUT.npy\n"
           "                          [--output-index K] [--threads N] [--reference] [--time N]\n"
           "\n"
           "Run a model file (.tflite, .onnx, TF.js model.json, or a face-api\n"
           "*_model-weights_manifest.json) on the float32 tensor in IN.npy.\n"
           "The input is in the model's own layout: NCHW for ONNX, NHWC for\n"
           "TFLite, TF.js and face-api. A first axis larger than the model's batch\n"
           "runs every item.\n"
           "\n"
           "  -i, --input FILE        input tensor (.npy: <f4, or <f8/|u1, converted)\n"
           "  -o, --output FILE       where output 0 goes (float32 .npy); a model with\n"
           "                          several outputs also writes OUT.1.npy, OUT.2.npy, ...\n"
           "  -k, --output-index K    write only output K, to OUT\n"
           "  -t, --threads N         threads (default: every CPU)\n"
           "  -r, --reference         use the plain C reference kernels\n"
           "      --time N            run N more times and print the time per run\n"
           "  -h, --help              this text\n"
           "\n"
           "Prints the model's inputs/outputs and the shapes written. Exit status:\n"
           "0 ok, 2 bad command line, 3 the model or a file failed.\n");
}

/* "out.npy" + k -> "out.k.npy" (or "out.k.npy" appended when no .npy). */
static void indexed_path(char *dst, size_t size, const char *path, int k)
{
    size_t n = strlen(path);
    if (n > 4 && !strcmp(path + n - 4, ".npy"))
        snprintf(dst, size, "%.*s.%d.npy", (int)(n - 4), path, k);
    else
        snprintf(dst, size, "%s.%d.npy", path, k);
}

static void print_dims(FILE *f, int rank, const int64_t *dims)
{
    fputc('[', f);
    for (int i = 0; i < rank; i++) fprintf(f, "%s%lld", i ? "," : "", (long long)dims[i]);
    fputc(']', f);
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int write_output(pl_model *m, int k, const char *path)
{
    int rank;
    int64_t dims[8];
    const float *y = pl_model_output(m, k, &rank, dims);
    pl_error err = {0};
    if (!y) {
        cli_error("run-model: the model has no output %d", k);
        return EXIT_FAILED;
    }
    if (pl_npy_write(path, rank, dims, y, &err) != PL_OK) return cli_fail(&err);
    printf("%s: output %d '%s' ", path, k, pl_model_output_name(m, k));
    print_dims(stdout, rank, dims);
    printf("\n");
    return EXIT_OK;
}

static int timed_runs(pl_model *m, int n, const float *x, int rank, const int64_t *dims)
{
    pl_error err = {0};
    double best = 1e300, total = 0;
    for (int i = 0; i < n; i++) {
        double t0 = now_ms();
        if (pl_model_run(m, x, rank, dims, &err) != PL_OK) return cli_fail(&err);
        double t = now_ms() - t0;
        total += t;
        if (t < best) best = t;
    }
    printf("time: %d runs, mean %.3f ms, best %.3f ms\n", n, total / n, best);
    return EXIT_OK;
}

static int parse_int(const char *s, int lo, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > 1000000) return 0;
    *out = (int)v;
    return 1;
}

int cmd_run_model(int argc, char **argv)
{
    enum { OPT_TIME = 1000 };
    static const struct option opts[] = {
        {"input", required_argument, 0, 'i'}, {"output", required_argument, 0, 'o'},
        {"output-index", required_argument, 0, 'k'}, {"threads", required_argument, 0, 't'},
        {"reference", no_argument, 0, 'r'}, {"time", required_argument, 0, OPT_TIME},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *in_path = NULL, *out_path = NULL;
    int out_index = -1, threads = 0, reference = 0, time_n = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "i:o:k:t:rh", opts, NULL)) != -1) {
        switch (c) {
        case 'i': in_path = optarg; break;
        case 'o': out_path = optarg; break;
        case 'k':
            if (!parse_int(optarg, 0, &out_index))
                return cli_usage_error("run-model", "--output-index wants a number >= 0, not '%s'", optarg);
            break;
        case 't':
            if (!parse_int(optarg, 1, &threads))
                return cli_usage_error("run-model", "--threads wants a number >= 1, not '%s'", optarg);
            break;
        case 'r': reference = 1; break;
        case OPT_TIME:
            if (!parse_int(optarg, 1, &time_n))
                return cli_usage_error("run-model", "--time wants a number >= 1, not '%s'", optarg);
            break;
        case 'h': help(); return EXIT_OK;
        default: return cli_usage_error("run-model", "unknown option");
        }
    }
    if (optind >= argc) return cli_usage_error("run-model", "no MODEL_FILE given");
    if (optind + 1 < argc) return cli_usage_error("run-model", "unexpected argument '%s'", argv[optind + 1]);
    if (!in_path) return cli_usage_error("run-model", "--input IN.npy is required");
    if (!out_path) return cli_usage_error("run-model", "--output OUT.npy is required");
    const char *model_path = argv[optind];

    pl_error err = {0};
    pl_model *m = pl_model_load(model_path, threads, &err);
    if (!m) return cli_fail(&err);
    pl_model_set_reference(m, reference);
    int rank, rc = EXIT_OK;
    int64_t dims[8];
    float *x = NULL;
    if (pl_npy_read(in_path, &rank, dims, &x, &err) != PL_OK) {
        rc = cli_fail(&err);
        goto done;
    }
    printf("%s: input '%s' ", model_path, pl_model_input_name(m, 0));
    int64_t decl[8];
    int drank = pl_model_input_shape(m, 0, decl);
    print_dims(stdout, drank, decl);
    printf(" %s, given ", pl_model_input_layout(m, 0));
    print_dims(stdout, rank, dims);
    printf("\n");
    if (pl_model_run(m, x, rank, dims, &err) != PL_OK) {
        cli_error("run-model: %s: %s", in_path, err.msg);
        rc = EXIT_FAILED;
        goto done;
    }
    int n_out = pl_model_n_outputs(m);
    if (out_index >= n_out) {
        cli_error("run-model: %s has %d outputs; --output-index %d is out of range", model_path,
                  n_out, out_index);
        rc = EXIT_FAILED;
        goto done;
    }
    if (out_index >= 0) {
        rc = write_output(m, out_index, out_path);
    } else {
        for (int k = 0; k < n_out && rc == EXIT_OK; k++) {
            char path[4096];
            if (k) indexed_path(path, sizeof path, out_path, k);
            rc = write_output(m, k, k ? path : out_path);
        }
    }
    if (rc == EXIT_OK && time_n) rc = timed_runs(m, time_n, x, rank, dims);
done:
    free(x);
    pl_model_free(m);
    return rc;
}
