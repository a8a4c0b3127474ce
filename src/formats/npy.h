/* npy.h — NumPy .npy files: the tensors the CLI and the golden tests
 * exchange with Python and the peer runtimes.
 *
 * Owns: reading .npy v1/v2/v3 (C order; '<f4', and '<f2', '<f8', '|u1', '|i1',
 * '<i4', '<i8' converted to float32) and writing float32 v1 files. Every
 * header field and size is bounds-checked; a bad file fails with a message
 * naming it. Big-endian and Fortran-order files are refused.
 */
#ifndef PL_NPY_H
#define PL_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "engine/graph.h" /* PL_MAX_RANK */
#include "util/error.h"

/* dims must have room for PL_MAX_RANK values. *data is malloc'd (free()),
 * numel floats (at least one float is allocated, even for empty arrays). */
pl_status pl_npy_read(const char *path, int *rank, int64_t *dims, float **data,
                      pl_error *err);
pl_status pl_npy_read_memory(const uint8_t *buf, size_t len, const char *name, int *rank,
                             int64_t *dims, float **data, pl_error *err);

/* Writes '<f4', C order, atomically (temporary file + rename). */
pl_status pl_npy_write(const char *path, int rank, const int64_t *dims, const float *data,
                       pl_error *err);
/* The same bytes into a malloc'd buffer (free()). */
pl_status pl_npy_encode(int rank, const int64_t *dims, const float *data, uint8_t **out,
                        size_t *len, pl_error *err);

#endif
