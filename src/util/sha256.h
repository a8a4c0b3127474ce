/* sha256.h — SHA-256 (FIPS 180-4), for model checksums and photo hashes. */
#ifndef PL_SHA256_H
#define PL_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

typedef struct pl_sha256 {
    uint32_t state[8];
    uint64_t length;     /* bytes hashed so far */
    uint8_t block[64];
    size_t used;         /* bytes waiting in block */
} pl_sha256;

void pl_sha256_init(pl_sha256 *h);
void pl_sha256_update(pl_sha256 *h, const void *data, size_t n);
void pl_sha256_final(pl_sha256 *h, uint8_t digest[32]);
/* Lower-case hex of the digest of data, into hex[65]. */
void pl_sha256_hex(const void *data, size_t n, char hex[65]);
/* Hex digest of a whole file, streamed. */
pl_status pl_sha256_file(const char *path, char hex[65], pl_error *err);

#endif
