/* fs.h — small file helpers shared by every module. */
#ifndef PL_FS_H
#define PL_FS_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

/* Read a whole file into a malloc'd buffer (with a NUL after the last byte,
 * not counted in *len). Files larger than max_bytes are refused. */
pl_status pl_read_file(const char *path, size_t max_bytes, uint8_t **data,
                       size_t *len, pl_error *err);

/* Write data to path atomically: a temporary file in the same folder,
 * fsync, then rename. On any failure the old file is untouched. */
pl_status pl_write_file_atomic(const char *path, const void *data, size_t len,
                               pl_error *err);

/* The same without the fsync, for files that can be made again (pictures
 * of a result): a reader still sees the old file or the whole new one,
 * but a power cut may lose the new one. The flush cost `take` 2-10 ms of
 * waiting per picture. */
pl_status pl_write_file_replace(const char *path, const void *data, size_t len,
                                pl_error *err);

/* mkdir -p with the given mode. */
pl_status pl_mkdirs(const char *path, int mode, pl_error *err);

int pl_file_exists(const char *path);
int pl_is_dir(const char *path);
long long pl_file_size(const char *path); /* -1 if absent */

/* dst = a "/" b, truncated safely; returns 0 if it did not fit. */
int pl_path_join(char *dst, size_t size, const char *a, const char *b);

#endif
