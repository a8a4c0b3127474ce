/* test_engine_graph.c — graph building, validation and shape inference. */
#include <stdio.h>

#include "engine_helpers.h"
#include "test.h"

static pl_graph *conv_graph(int64_t h, int64_t w, int k, int stride, pl_padding pad, int dil)
{
    pl_graph *g = pl_graph_new("shapes.test");
    int64_t xd[4] = {1, h, w, 3}, wd[4] = {8, k, k, 3};
    int x = h_input(g, "x", 4, xd), wt = h_const(g, "w", 4, wd, NULL), y;
    pl_node *n = h_node(g, PL_OP_CONV2D, 2, x, wt, 0, 0, &y);
    n->params.conv.stride_h = n->params.conv.stride_w = stride;
    n->params.conv.dilation_h = n->params.conv.dilation_w = dil;
    n->params.conv.padding = pad;
    pl_graph_add_output(g, y);
    return g;
}

TEST(shape_conv_same_valid_dilation)
{
    struct { int64_t h; int k, s; pl_padding p; int d; int64_t out; int top, bottom; } c[] = {
        {112, 3, 2, PL_PAD_SAME, 1, 56, 0, 1},  /* even input, stride 2: pad bottom only */
        {113, 3, 2, PL_PAD_SAME, 1, 57, 1, 1},
        {12, 3, 1, PL_PAD_VALID, 1, 10, 0, 0},
        {12, 3, 1, PL_PAD_SAME, 2, 12, 2, 2},   /* effective kernel 5 */
        {12, 3, 2, PL_PAD_VALID, 3, 3, 0, 0},   /* eff 7: (12-7)/2+1 */
    };
    for (unsigned i = 0; i < sizeof c / sizeof c[0]; i++) {
        pl_graph *g = conv_graph(c[i].h, c[i].h, c[i].k, c[i].s, c[i].p, c[i].d);
        pl_error err = {0};
        CHECK_MSG(pl_graph_validate(g, &err) == PL_OK, "%s", err.msg);
        CHECK_MSG(pl_graph_infer_shapes(g, &err) == PL_OK, "%s", err.msg);
        pl_tensor *y = &g->tensors[g->outputs[0]];
        CHECK_EQ_INT(y->rank, 4);
        CHECK_EQ_INT(y->dims[1], c[i].out);
        CHECK_EQ_INT(y->dims[2], c[i].out);
        CHECK_EQ_INT(y->dims[3], 8);
        CHECK_EQ_INT(g->nodes[0].params.conv.pad_top, c[i].top);
        CHECK_EQ_INT(g->nodes[0].params.conv.pad_bottom, c[i].bottom);
        pl_graph_free(g);
    }
}

TEST(shape_error_names_node_and_shapes)
{
    pl_graph *g = conv_graph(2, 2, 5, 1, PL_PAD_VALID, 1);
    pl_error err = {0};
    CHECK(pl_graph_infer_shapes(g, &err) != PL_OK);
    CHECK_CONTAINS(err.msg, "shapes.test");
    CHECK_CONTAINS(err.msg, "'n0' (CONV2D)");
    CHECK_CONTAINS(err.msg, "[1,2,2,3]");
    pl_graph_free(g);

    g = pl_graph_new("b.test");
    int64_t ad[2] = {2, 3}, bd[1] = {4};
    int x = h_input(g, "x", 2, ad), c = h_const(g, "c", 1, bd, NULL), y;
    h_node(g, PL_OP_ADD, 2, x, c, 0, 0, &y);
    pl_graph_add_output(g, y);
    CHECK(pl_graph_infer_shapes(g, &err) != PL_OK);
    CHECK_CONTAINS(err.msg, "broadcast");
    CHECK_CONTAINS(err.msg, "[2,3] and [4]");
    pl_graph_free(g);
}

TEST(shape_broadcast_reduce_fc_concat_slice)
{
    pl_graph *g = pl_graph_new("t");
    int64_t xd[4] = {1, 3, 3, 4}, cd[3] = {3, 1, 4}, wd[2] = {5, 36};
    int x = h_input(g, "x", 4, xd), c = h_const(g, "c", 3, cd, NULL), w = h_const(g, "w", 2, wd, NULL);
    int a, r, f, cc, s;
    h_node(g, PL_OP_MUL, 2, x, c, 0, 0, &a); /* [1,3,3,4] */
    pl_node *n = h_node(g, PL_OP_REDUCE_MEAN, 1, a, 0, 0, 0, &r);
    n->params.reduce.axes_mask = 0x6;
    n->params.reduce.keep_dims = 1;                     /* [1,1,1,4] */
    h_node(g, PL_OP_FULLY_CONNECTED, 2, a, w, 0, 0, &f); /* [1,5] */
    n = h_node(g, PL_OP_CONCAT, 2, a, a, 0, 0, &cc);
    n->params.axis = -1;                                /* [1,3,3,8] */
    n = h_node(g, PL_OP_SLICE, 1, cc, 0, 0, 0, &s);
    n->params.slice.rank = 4;
    int64_t b[4] = {0, 1, -2, 1}, e[4] = {INT64_MAX, 3, INT64_MAX, 8}, st[4] = {1, 1, 1, 3};
    memcpy(n->params.slice.begin, b, sizeof b);
    memcpy(n->params.slice.end, e, sizeof e);
    memcpy(n->params.slice.stride, st, sizeof st); /* [1,2,2,3] */
    pl_graph_add_output(g, s);
    pl_error err = {0};
    CHECK_MSG(pl_graph_validate(g, &err) == PL_OK, "%s", err.msg);
    CHECK_MSG(pl_graph_infer_shapes(g, &err) == PL_OK, "%s", err.msg);
    CHECK_EQ_INT(g->tensors[a].dims[3], 4);
    CHECK_EQ_INT(g->tensors[r].rank, 4);
    CHECK_EQ_INT(g->tensors[r].dims[1], 1);
    CHECK_EQ_INT(g->tensors[f].rank, 2);
    CHECK_EQ_INT(g->tensors[f].dims[1], 5);
    CHECK_EQ_INT(g->tensors[cc].dims[3], 8);
    int64_t want[4] = {1, 2, 2, 3};
    for (int i = 0; i < 4; i++) CHECK_EQ_INT(g->tensors[s].dims[i], want[i]);
    pl_graph_free(g);
}

TEST(shape_reshape_batch_rule)
{
    /* MobileFaceNet ends with RESHAPE [2,192] though it runs at batch 1. */
    pl_graph *g = pl_graph_new("t");
    int64_t xd[4] = {1, 1, 1, 192};
    int x = h_input(g, "x", 4, xd), y;
    pl_node *n = h_node(g, PL_OP_RESHAPE, 1, x, 0, 0, 0, &y);
    n->params.reshape.rank = 2;
    n->params.reshape.dims[0] = 2;
    n->params.reshape.dims[1] = 192;
    pl_graph_add_output(g, y);
    pl_error err = {0};
    CHECK_MSG(pl_graph_infer_shapes(g, &err) == PL_OK, "%s", err.msg);
    CHECK_EQ_INT(g->tensors[y].dims[0], 1);
    CHECK_EQ_INT(g->tensors[y].dims[1], 192);
    /* batch 3 through a graph converted at batch 1 */
    g->tensors[x].dims[0] = 3;
    n->params.reshape.dims[0] = 1;
    CHECK_MSG(pl_graph_infer_shapes(g, &err) == PL_OK, "%s", err.msg);
    CHECK_EQ_INT(g->tensors[y].dims[0], 3);
    /* a count that cannot fit still fails */
    n->params.reshape.dims[1] = 100;
    CHECK(pl_graph_infer_shapes(g, &err) != PL_OK);
    CHECK_CONTAINS(err.msg, "RESHAPE");
    pl_graph_free(g);
}

TEST(validate_rejects_bad_index_arity_and_weights)
{
    pl_error err = {0};
    /* bad tensor index */
    pl_graph *g = pl_graph_new("bad.test");
    int64_t xd[2] = {1, 4};
    int x = h_input(g, "x", 2, xd), y;
    h_node(g, PL_OP_RELU, 1, 99, 0, 0, 0, &y);
    pl_graph_add_output(g, y);
    CHECK(pl_graph_validate(g, &err) == PL_ERR_FORMAT);
    CHECK_CONTAINS(err.msg, "bad.test");
    CHECK_CONTAINS(err.msg, "'n0' (RELU)");
    CHECK_CONTAINS(err.msg, "out of range");
    pl_graph_free(g);

    /* wrong arity */
    g = pl_graph_new("bad.test");
    x = h_input(g, "x", 2, xd);
    h_node(g, PL_OP_ADD, 1, x, 0, 0, 0, &y);
    pl_graph_add_output(g, y);
    CHECK(pl_graph_validate(g, &err) == PL_ERR_FORMAT);
    CHECK_CONTAINS(err.msg, "has 1 inputs, expects 2");
    pl_graph_free(g);

    /* conv weights that are not a constant */
    g = pl_graph_new("bad.test");
    x = h_input(g, "x", 2, xd);
    int w = pl_graph_add_tensor(g, "w_act");
    h_node(g, PL_OP_RELU, 1, x, 0, 0, 0, &w);
    h_node(g, PL_OP_CONV2D, 2, x, w, 0, 0, &y);
    pl_graph_add_output(g, y);
    CHECK(pl_graph_validate(g, &err) == PL_ERR_FORMAT);
    CHECK_CONTAINS(err.msg, "must be a constant");
    pl_graph_free(g);

    /* use before definition, and an output never computed */
    g = pl_graph_new("bad.test");
    x = h_input(g, "x", 2, xd);
    int later = pl_graph_add_tensor(g, "later");
    h_node(g, PL_OP_RELU, 1, later, 0, 0, 0, &y);
    pl_graph_add_output(g, y);
    CHECK(pl_graph_validate(g, &err) == PL_ERR_FORMAT);
    CHECK_CONTAINS(err.msg, "not computed before");
    pl_graph_free(g);

    /* a transpose whose perm is not a permutation */
    g = pl_graph_new("bad.test");
    x = h_input(g, "x", 2, xd);
    pl_node *n = h_node(g, PL_OP_TRANSPOSE, 1, x, 0, 0, 0, &y);
    n->params.transpose.rank = 2;
    n->params.transpose.perm[0] = n->params.transpose.perm[1] = 1;
    pl_graph_add_output(g, y);
    CHECK(pl_graph_validate(g, &err) == PL_ERR_FORMAT);
    CHECK_CONTAINS(err.msg, "permutation");
    pl_graph_free(g);
}

TEST(builder_defaults_and_lookup)
{
    pl_graph *g = pl_graph_new("t");
    int64_t xd[2] = {-1, 4};
    int x = h_input(g, "input", 2, xd), y;
    pl_node *n = h_node(g, PL_OP_CONV2D, 1, x, 0, 0, 0, &y);
    CHECK_EQ_INT(n->params.conv.stride_h, 1);
    CHECK_EQ_INT(n->params.conv.groups, 1);
    CHECK_EQ_INT(n->params.conv.dilation_w, 1);
    CHECK_EQ_INT(pl_graph_find_tensor(g, "input"), x);
    CHECK_EQ_INT(pl_graph_find_tensor(g, "nope"), -1);
    CHECK_EQ_INT(g->input_dims[0][0], -1);
    CHECK_STR(pl_op_name(PL_OP_L2_NORMALIZE), "L2_NORMALIZE");
    CHECK_STR(pl_op_name(PL_OP_IDENTITY), "IDENTITY");
    pl_error err = {0};
    CHECK(pl_graph_infer_shapes(g, &err) == PL_ERR_ARG); /* -1 batch not set */
    CHECK_CONTAINS(err.msg, "input");
    pl_graph_free(g);
}
