/* fuzz_tflite.c — libFuzzer target for the TFLite reader.
 *
 * Any bytes go to pl_tflite_load_memory. A refusal must carry an error that
 * names the file; a graph that loads must also survive shape inference at
 * the shapes its file declares, and be freed without leaks.
 *
 *     make fuzz && build-fuzz/fuzz/fuzz_tflite fuzz/corpus-tflite fuzz/seeds/tflite
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
    pl_graph *g = pl_tflite_load_memory(data, size, "fuzz.tflite", &err);
    if (!g) {
        /* The contract: a failure says which file, and why. */
        if (err.code == PL_OK || !strstr(err.msg, "fuzz.tflite")) abort();
        return 0;
    }
    if (!getenv("PL_FUZZ_NO_SHAPES")) pl_graph_infer_shapes(g, &err);
    pl_graph_free(g);
    return 0;
}
