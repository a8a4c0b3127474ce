/* image.h — decoded images and the operations pasalista needs on them.
 * (Contract only; the image module fills it in.)
 *
 * A pl_image owns its pixels: 8-bit, interleaved, c = 1 (grey), 3 (RGB) or
 * 4 (RGBA), rows tightly packed (stride = w * c). Decoders apply the EXIF
 * orientation, so px is always upright as a person would see it.
 */
#ifndef PL_IMAGE_H
#define PL_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

typedef struct pl_image {
    int w, h, c;
    uint8_t *px;
} pl_image;

/* Decode JPEG, PNG, WebP or HEIC/HEIF (by content, not by name) to RGB.
 * Errors name the file and say what is wrong ("not an image", "truncated
 * JPEG", ...). */
pl_status pl_image_load(const char *path, pl_image *out, pl_error *err);
pl_status pl_image_decode(const uint8_t *data, size_t len, const char *name,
                          pl_image *out, pl_error *err);
void pl_image_free(pl_image *img);

#endif
