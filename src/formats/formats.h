/* formats.h — model readers: bytes of a model file -> an engine graph.
 *
 * Every reader treats its input as hostile: all offsets, counts and shapes
 * are bounds-checked, and a failure returns NULL with an error naming the
 * file and the field, operator or tensor at fault. The *_memory variants
 * take the bytes directly (fuzz targets use them); `name` is used in
 * messages. The returned graph is validated (pl_graph_validate) but not
 * optimised; pl_model_graph_load does both.
 *
 * Layout contract (see engine/graph.h): NHWC inside; each graph keeps the
 * file's own declared input/output layout (NCHW for ONNX) at its boundary.
 */
#ifndef PL_FORMATS_H
#define PL_FORMATS_H

#include <stddef.h>
#include <stdint.h>

#include "engine/graph.h"

/* TFLite flatbuffer (.tflite), float32 models. */
pl_graph *pl_tflite_load(const char *path, pl_error *err);
pl_graph *pl_tflite_load_memory(const uint8_t *data, size_t len,
                                const char *name, pl_error *err);

/* ONNX protobuf (.onnx), float32 models. */
pl_graph *pl_onnx_load(const char *path, pl_error *err);
pl_graph *pl_onnx_load_memory(const uint8_t *data, size_t len,
                              const char *name, pl_error *err);

/* TF.js graph model: model.json plus the .bin files it names (resolved
 * next to the json). */
pl_graph *pl_tfjs_load(const char *json_path, pl_error *err);
/* In memory: the json text and the concatenated weight bytes. */
pl_graph *pl_tfjs_load_memory(const char *json, size_t json_len,
                              const uint8_t *weights, size_t weights_len,
                              const char *name, pl_error *err);

/* face-api weights-only manifests (*-weights_manifest.json + .bin): the
 * architecture is built in C. arch: "face_recognition", "age_gender". */
pl_graph *pl_faceapi_load(const char *manifest_path, const char *arch,
                          pl_error *err);

/* Any supported file, chosen by its magic bytes / extension, then
 * optimised (pl_graph_optimize). A face-api manifest is recognised by its
 * file name (face_recognition_model-..., age_gender_model-...). */
pl_graph *pl_model_graph_load(const char *path, pl_error *err);

#endif
