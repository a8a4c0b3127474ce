/* test_engine_model.c — the public pl_model API and `pasalista run-model`:
 * loading by content, golden outputs, batches, errors. Goldens come from
 * tests/golden (made from npm-shipped images); models from models/. */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/session.h"
#include "formats/formats.h"
#include "pasalista.h"
#include "test.h"

static char model_path_[512];
static const char *model(const char *file)
{
    snprintf(model_path_, sizeof model_path_, "%s/%s", test_models_dir(), file);
    return model_path_;
}

static int64_t numel(int rank, const int64_t *d)
{
    int64_t n = 1;
    for (int i = 0; i < rank; i++) n *= d[i];
    return n;
}

static double max_rel_diff(const float *a, const float *b, int64_t n)
{
    double scale = 0, diff = 0;
    for (int64_t i = 0; i < n; i++) {
        if (fabs(b[i]) > scale) scale = fabs(b[i]);
        if (fabs(a[i] - b[i]) > diff) diff = fabs(a[i] - b[i]);
    }
    return diff / (scale > 0 ? scale : 1);
}

TEST(model_mobilefacenet_matches_golden_any_batch)
{
    if (access(model("expo/MobileFaceNet.tflite"), R_OK)) SKIP("models not fetched (make models)");
    pl_error err = {0};
    int rank, orank;
    int64_t d[8], gd[8], od[8];
    float *x, *gold;
    CHECK_MSG(pl_npy_read("tests/golden/tflite/mfn_in.npy", &rank, d, &x, &err) == PL_OK, "%s", err.msg);
    CHECK(pl_npy_read("tests/golden/tflite/mfn_out0.npy", &orank, gd, &gold, &err) == PL_OK);
    pl_model *m = pl_model_load(model("expo/MobileFaceNet.tflite"), 2, &err);
    CHECK_MSG(m, "%s", err.msg);
    CHECK_EQ_INT(pl_model_n_inputs(m), 1);
    CHECK_EQ_INT(pl_model_n_outputs(m), 1);
    CHECK_STR(pl_model_input_layout(m, 0), "NHWC");
    int64_t decl[8];
    CHECK_EQ_INT(pl_model_input_shape(m, 0, decl), 4);
    CHECK_EQ_INT(decl[0], 2); /* the file's fixed batch */
    for (int ref = 0; ref < 2; ref++) {
        pl_model_set_reference(m, ref);
        CHECK_MSG(pl_model_run(m, x, rank, d, &err) == PL_OK, "%s", err.msg);
        const float *y = pl_model_output(m, 0, &orank, od);
        CHECK(y);
        CHECK_EQ_INT(orank, 2);
        CHECK_EQ_INT(od[0], 2);
        CHECK_EQ_INT(od[1], 192);
        double e = max_rel_diff(y, gold, 384);
        CHECK_MSG(e < 1e-5, "reference %d: max diff %.3g of the largest value", ref, e);
    }
    /* batch 1 (the file says 2) and batch 3 (item 0 repeated) */
    int64_t d1[4] = {1, 112, 112, 3};
    CHECK_MSG(pl_model_run(m, x, 4, d1, &err) == PL_OK, "%s", err.msg);
    const float *y = pl_model_output(m, 0, &orank, od);
    CHECK_EQ_INT(od[0], 1);
    CHECK(max_rel_diff(y, gold, 192) < 1e-5);
    int64_t item = numel(4, d1);
    float *x3 = malloc(sizeof(float) * (size_t)item * 3);
    for (int i = 0; i < 3; i++) memcpy(x3 + i * item, x + (i == 1 ? item : 0), sizeof(float) * (size_t)item);
    int64_t d3[4] = {3, 112, 112, 3};
    CHECK_MSG(pl_model_run(m, x3, 4, d3, &err) == PL_OK, "%s", err.msg);
    y = pl_model_output(m, 0, &orank, od);
    CHECK_EQ_INT(od[0], 3);
    CHECK(max_rel_diff(y, gold, 384) < 1e-5);
    CHECK(max_rel_diff(y + 384, gold, 192) < 1e-5);
    free(x3);
    /* wrong rank */
    CHECK(pl_model_run(m, x, 3, d1 + 1, &err) == PL_ERR_ARG);
    CHECK_CONTAINS(err.msg, "rank 3");
    pl_model_free(m);
    free(x);
    free(gold);
}

TEST(model_onnx_layout_and_outputs)
{
    if (access(model("faceplugin/fr_feature.onnx"), R_OK)) SKIP("models not fetched (make models)");
    pl_error err = {0};
    pl_model *m = pl_model_load(model("faceplugin/fr_feature.onnx"), 1, &err);
    CHECK_MSG(m, "%s", err.msg);
    CHECK_STR(pl_model_input_layout(m, 0), "NCHW");
    int rank, orank;
    int64_t d[8], gd[8], od[8];
    float *x, *gold;
    CHECK(pl_npy_read("tests/golden/onnx/fr_feature_in.npy", &rank, d, &x, &err) == PL_OK);
    CHECK(pl_npy_read("tests/golden/onnx/fr_feature_out0.npy", &orank, gd, &gold, &err) == PL_OK);
    CHECK_MSG(pl_model_run(m, x, rank, d, &err) == PL_OK, "%s", err.msg);
    const float *y = pl_model_output(m, 0, &orank, od);
    CHECK(y && orank == 2 && od[1] == 512);
    CHECK(max_rel_diff(y, gold, numel(orank, od)) < 1e-5);
    CHECK(pl_model_output(m, 1, NULL, NULL) == NULL);
    pl_model_free(m);
    free(x);
    free(gold);
}

/* A hand-written TF.js model whose Reshape to a fixed rank-1 shape only
 * takes one item: a larger batch must run item by item. */
static const char *tiny_json =
    "{\"format\": \"graph-model\", \"modelTopology\": {\"node\": ["
    "{\"name\": \"shape\", \"op\": \"Const\"},"
    "{\"name\": \"x\", \"op\": \"Placeholder\", \"attr\": {\"shape\": {\"shape\": {\"dim\": ["
    "  {\"size\": \"-1\"}, {\"size\": \"4\"}]}}}},"
    "{\"name\": \"neg\", \"op\": \"Neg\", \"input\": [\"x\"]},"
    "{\"name\": \"out\", \"op\": \"Reshape\", \"input\": [\"neg\", \"shape\"]}"
    "]}, \"weightsManifest\": [{\"paths\": [\"tiny.bin\"], \"weights\": ["
    "{\"name\": \"shape\", \"shape\": [1], \"dtype\": \"int32\"}]}]}";

static int write_text(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    size_t w = fwrite(data, 1, n, f);
    fclose(f);
    return w == n;
}

TEST(model_batch_item_by_item_and_errors)
{
    char dir[] = "/tmp/pl_model_XXXXXX";
    CHECK(mkdtemp(dir));
    char json[600], bin[600], junk[600];
    snprintf(json, sizeof json, "%s/model.json", dir);
    snprintf(bin, sizeof bin, "%s/tiny.bin", dir);
    snprintf(junk, sizeof junk, "%s/junk.onnx", dir);
    int32_t four = 4;
    CHECK(write_text(json, tiny_json, strlen(tiny_json)));
    CHECK(write_text(bin, &four, 4));
    CHECK(write_text(junk, "hello, not a model", 18));
    pl_error err = {0};
    pl_model *m = pl_model_load(json, 1, &err);
    CHECK_MSG(m, "%s", err.msg);
    float x[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    int64_t d[2] = {3, 4};
    CHECK_MSG(pl_model_run(m, x, 2, d, &err) == PL_OK, "%s", err.msg);
    int rank;
    int64_t od[8];
    const float *y = pl_model_output(m, 0, &rank, od);
    CHECK(y);
    CHECK_EQ_INT(rank, 1);
    CHECK_EQ_INT(od[0], 12);
    for (int i = 0; i < 12; i++) CHECK(y[i] == -x[i]);
    int64_t d1[2] = {1, 4};
    CHECK(pl_model_run(m, x + 4, 2, d1, &err) == PL_OK);
    y = pl_model_output(m, 0, &rank, od);
    CHECK_EQ_INT(od[0], 4);
    CHECK(y[0] == -5);
    pl_model_free(m);

    CHECK(pl_model_load(junk, 1, &err) == NULL);
    CHECK_CONTAINS(err.msg, junk);
    CHECK_CONTAINS(err.msg, "not a model file");
    CHECK(pl_model_load("/nonexistent/m.tflite", 1, &err) == NULL);
    CHECK_CONTAINS(err.msg, "/nonexistent/m.tflite");
    unlink(json);
    unlink(bin);
    unlink(junk);
    rmdir(dir);
}

TEST(cli_run_model)
{
    const char *cli = getenv("PASALISTA_CLI");
    if (!cli) SKIP("PASALISTA_CLI not set (run through make test)");
    if (access(model("expo/onet.tflite"), R_OK)) SKIP("models not fetched (make models)");
    char cmd[2048], out[] = "/tmp/pl_cli_XXXXXX";
    int fd = mkstemp(out);
    CHECK(fd >= 0);
    close(fd);
    snprintf(cmd, sizeof cmd, "%s run-model --help >/dev/null", cli);
    CHECK_EQ_INT(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s run-model %s >/dev/null 2>&1", cli, model("expo/onet.tflite"));
    CHECK_EQ_INT(WEXITSTATUS(system(cmd)), 2);
    snprintf(cmd, sizeof cmd, "%s run-model %s -i tests/golden/tflite/onet_in.npy -o %s.npy -t 2 >/dev/null",
             cli, model("expo/onet.tflite"), out);
    CHECK_EQ_INT(system(cmd), 0);
    /* three outputs: out.npy, out.1.npy, out.2.npy */
    for (int k = 0; k < 3; k++) {
        char mine[600], gold[600];
        if (k) snprintf(mine, sizeof mine, "%s.%d.npy", out, k);
        else snprintf(mine, sizeof mine, "%s.npy", out);
        snprintf(gold, sizeof gold, "tests/golden/tflite/onet_out%d.npy", k);
        int r1, r2;
        int64_t d1[8], d2[8];
        float *a, *b;
        pl_error err = {0};
        CHECK_MSG(pl_npy_read(mine, &r1, d1, &a, &err) == PL_OK, "%s", err.msg);
        CHECK(pl_npy_read(gold, &r2, d2, &b, &err) == PL_OK);
        CHECK_EQ_INT(numel(r1, d1), numel(r2, d2));
        CHECK(max_rel_diff(a, b, numel(r1, d1)) < 1e-5);
        free(a);
        free(b);
        unlink(mine);
    }
    snprintf(cmd, sizeof cmd, "%s run-model %s -i /nonexistent.npy -o %s.npy 2>&1 | grep -q nonexistent.npy",
             cli, model("expo/onet.tflite"), out);
    CHECK_EQ_INT(system(cmd), 0);
    unlink(out);
}

TEST(model_arena_is_a_fraction_of_the_activations)
{
    if (access(model("expo/MobileFaceNet.tflite"), R_OK)) SKIP("models not fetched (make models)");
    pl_error err = {0};
    pl_graph *g = pl_model_graph_load(model("expo/MobileFaceNet.tflite"), &err);
    CHECK_MSG(g, "%s", err.msg);
    pl_session *s = pl_session_new(g, 1, &err);
    int64_t d[4] = {1, 112, 112, 3};
    CHECK(pl_session_set_input_shape(s, 0, 4, d, &err) == PL_OK);
    double all = 0;
    for (int i = 0; i < g->n_nodes; i++) all += 4.0 * (double)pl_tensor_numel(&g->tensors[g->nodes[i].outputs[0]]);
    double arena = (double)pl_session_arena_bytes(s);
    printf("    MobileFaceNet batch 1: arena %.2f MB for %.2f MB of activations\n", arena / 1e6, all / 1e6);
    CHECK(arena < 0.25 * all);
    pl_session_free(s);
    pl_graph_free(g);
}
