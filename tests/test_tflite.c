/* test_tflite.c — the TFLite reader: the four expo models load with the
 * operator counts MODELS.md lists, run to the goldens made by wasm TFLite
 * (tools/golden/tflite/gen.js), and hostile files fail cleanly. */
#include "test.h"

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

static int count_op(const pl_graph *g, pl_op op)
{
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++) n += g->nodes[i].op == op;
    return n;
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
    CHECK_EQ_INT(count_op(g, PL_OP_CONV2D), 5);
    CHECK_EQ_INT(count_op(g, PL_OP_RELU), 6);
    CHECK_EQ_INT(count_op(g, PL_OP_NEG), 6);
    CHECK_EQ_INT(count_op(g, PL_OP_MUL), 3);
    CHECK_EQ_INT(count_op(g, PL_OP_ADD), 3);
    CHECK_EQ_INT(count_op(g, PL_OP_MAX_POOL), 1);
    CHECK_EQ_INT(count_op(g, PL_OP_REDUCE_MAX), 1);
    CHECK_EQ_INT(count_op(g, PL_OP_SUB), 1);
    CHECK_EQ_INT(count_op(g, PL_OP_EXP), 1);
    CHECK_EQ_INT(count_op(g, PL_OP_REDUCE_SUM), 1);
    CHECK_EQ_INT(count_op(g, PL_OP_DIV), 1);
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
    CHECK_EQ_INT(count_op(g, PL_OP_CONV2D), 3);
    CHECK_EQ_INT(count_op(g, PL_OP_MAX_POOL), 2);
    CHECK_EQ_INT(count_op(g, PL_OP_FULLY_CONNECTED), 3);
    CHECK_EQ_INT(count_op(g, PL_OP_RELU), 8);
    CHECK_EQ_INT(count_op(g, PL_OP_NEG), 8);
    CHECK_EQ_INT(g->n_outputs, 2);
    pl_graph_free(g);

    NEED_MODEL("onet.tflite", path);
    g = pl_tflite_load(path, &err);
    CHECK_MSG(g, "%s", err.msg);
    CHECK_EQ_INT(count_op(g, PL_OP_CONV2D), 4);
    CHECK_EQ_INT(count_op(g, PL_OP_MAX_POOL), 3);
    CHECK_EQ_INT(count_op(g, PL_OP_FULLY_CONNECTED), 4);
    CHECK_EQ_INT(count_op(g, PL_OP_RELU), 10);
    CHECK_EQ_INT(count_op(g, PL_OP_ADD), 5);
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
    CHECK_EQ_INT(count_op(g, PL_OP_ADD), 45);
    CHECK_EQ_INT(count_op(g, PL_OP_CONV2D), 35 + 17);
    CHECK_EQ_INT(count_op(g, PL_OP_ABS), 33);
    CHECK_EQ_INT(count_op(g, PL_OP_RESHAPE), 1);
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
