/* fuzz_tfjs.c — libFuzzer target for the TF.js graph-model reader.
 *
 * Input layout: 4 bytes little-endian = length J of the model.json text,
 * then J bytes of json, then the weight bytes (all the rest). J larger
 * than what is there takes everything as json. A refusal must carry an
 * error naming the file; a graph that loads must survive shape inference
 * (inputs of unknown size set to 1) and be freed without leaks.
 *
 *     make fuzz && build-fuzz/fuzz/fuzz_tfjs fuzz/corpus-tfjs fuzz/seeds/tfjs
 * Seeds: tools/golden/tfjs/seeds.py.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/graph.h"
#include "formats/formats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4) return 0;
    size_t j = (size_t)data[0] | (size_t)data[1] << 8 | (size_t)data[2] << 16 | (size_t)data[3] << 24;
    size -= 4;
    data += 4;
    if (j > size) j = size;
    pl_error err;
    memset(&err, 0, sizeof err);
    pl_graph *g = pl_tfjs_load_memory((const char *)data, j, data + j, size - j, "fuzz.json", &err);
    if (!g) {
        if (err.code == PL_OK || !strstr(err.msg, "fuzz.json")) abort();
        return 0;
    }
    for (int i = 0; i < g->n_inputs; i++) {
        pl_tensor *t = &g->tensors[g->inputs[i]];
        for (int d = 0; d < t->rank; d++)
            if (t->dims[d] < 1) t->dims[d] = 1;
    }
    if (!getenv("PL_FUZZ_NO_SHAPES")) pl_graph_infer_shapes(g, &err);
    pl_graph_free(g);
    return 0;
}
