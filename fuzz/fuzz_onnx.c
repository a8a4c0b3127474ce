/* fuzz_onnx.c — libFuzzer target for the ONNX reader.
 *
 * Any bytes go to pl_onnx_load_memory. A refusal must carry an error that
 * names the file; a graph that loads must survive shape inference at its
 * declared input shapes (batch 1) and be freed without leaks.
 *
 *     make fuzz && build-fuzz/fuzz/fuzz_onnx fuzz/corpus-onnx fuzz/seeds/onnx
 * Seeds: tools/golden/onnx/make_fuzz_seeds.py.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/graph.h"
#include "formats/formats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pl_error err;
    memset(&err, 0, sizeof err);
    pl_graph *g = pl_onnx_load_memory(data, size, "fuzz.onnx", &err);
    if (!g) {
        /* The contract: a failure says which file, and why. */
        if (err.code == PL_OK || !strstr(err.msg, "fuzz.onnx")) abort();
        return 0;
    }
    /* the declared batch is "any" (-1): run shape inference at batch 1 */
    for (int i = 0; i < g->n_inputs; i++) {
        pl_tensor *t = &g->tensors[g->inputs[i]];
        for (int d = 0; d < t->rank; d++)
            if (t->dims[d] < 0) t->dims[d] = 1;
    }
    if (!getenv("PL_FUZZ_NO_SHAPES")) pl_graph_infer_shapes(g, &err);
    pl_graph_free(g);
    return 0;
}
