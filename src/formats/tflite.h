/* tflite.h — internals of the TFLite reader (tflite.c) shared with its tests.
 *
 * The public entry points are in formats.h (pl_tflite_load,
 * pl_tflite_load_memory). This header only names TFLite builtin operator
 * codes, so tests and tools can print "CONV_2D" for code 3.
 */
#ifndef PL_FORMATS_TFLITE_H
#define PL_FORMATS_TFLITE_H

/* Name of a TFLite BuiltinOperator code ("CONV_2D"), or "?" if unknown. */
const char *pl_tflite_builtin_name(int code);

#endif
