/* tfjs_internal.h — TF.js weight manifests, shared by the graph-model reader
 * (tfjs.c) and the face-api reader (faceapi.c). Internal to src/formats.
 *
 * Owns: decoding a `weightsManifest` ([{paths, weights:[{name, shape,
 * dtype, quantization}]}]) against the concatenated bytes of its .bin
 * shards into float32 (or int32) arrays, and reading those shards.
 *
 * Byte layout, per TF.js: the weights lie back to back in manifest order,
 * little-endian, each taking numel * (bytes of its stored dtype): float32
 * and int32 4, float16 and uint16 2, uint8 1. Quantised values decode as
 * `q * scale + min` (uint8/uint16) or as IEEE half (float16).
 */
#ifndef PL_TFJS_INTERNAL_H
#define PL_TFJS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "engine/graph.h"
#include "util/json.h"

typedef struct pl_tfjs_weight {
    char *name;
    int rank;
    int64_t dims[PL_MAX_RANK];
    int64_t numel;
    int is_int;      /* declared dtype int32: values in ival, data NULL   */
    float *data;     /* float32 values (dequantised)                      */
    int64_t *ival;
} pl_tfjs_weight;

typedef struct pl_tfjs_weights {
    pl_tfjs_weight *w;
    int n;
    int *hash;       /* open addressing over names: index+1, 0 = empty    */
    int hash_cap;
} pl_tfjs_weights;

/* Limits that keep hostile manifests from asking for absurd memory. */
#define PL_TFJS_MAX_WEIGHT_BYTES ((size_t)1 << 30)
#define PL_TFJS_MAX_ENTRIES 100000

/* Decode every weight of `manifest` (the weightsManifest array) from
 * bin[0..len). The bytes must be exactly what the manifest describes. */
pl_status pl_tfjs_weights_decode(const pl_json *manifest, const uint8_t *bin,
                                 size_t len, const char *name,
                                 pl_tfjs_weights *out, pl_error *err);
pl_tfjs_weight *pl_tfjs_weights_find(const pl_tfjs_weights *ws, const char *name);
void pl_tfjs_weights_free(pl_tfjs_weights *ws);

/* Read and concatenate every shard the manifest names, resolved in the
 * folder of json_path. Paths that leave that folder are refused. */
pl_status pl_tfjs_read_shards(const pl_json *manifest, const char *json_path,
                              uint8_t **bin, size_t *len, pl_error *err);

/* IEEE 754 binary16 -> binary32, exact (subnormals, inf, NaN kept). */
float pl_f16_to_f32(uint16_t h);

#endif
