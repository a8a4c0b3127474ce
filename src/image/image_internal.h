/* image_internal.h — what the image module's files share and nobody else
 * uses: size limits, allocation, EXIF-orientation placement of decoded rows,
 * and the per-codec decoders that decode.c dispatches to. */
#ifndef PL_IMAGE_INTERNAL_H
#define PL_IMAGE_INTERNAL_H

#include "image/image.h"

/* The name to put in messages. */
#define PL_IMG_NAME(name) ((name) ? (name) : "image")

/* PL_OK when w×h is a sane size under the limits, else "image too large". */
pl_status pl_img_check_size(long long w, long long h, const char *name, pl_error *err);

/* Allocate out as w×h×c (uninitialised pixels), after pl_img_check_size. */
pl_status pl_img_alloc(pl_image *out, int w, int h, int c, const char *name,
                       pl_error *err);

/* EXIF orientation o (1..8) turns a stored w×h image into an upright one of
 * size *uw×*uh (w and h swap for 5..8). */
void pl_orient_size(int o, int w, int h, int *uw, int *uh);
/* Store decoded row y (w pixels of c bytes, stored orientation) at its
 * upright place in dst (already sized by pl_orient_size). Writing each row
 * straight to its final place is what keeps decoding at one pixel buffer. */
void pl_orient_put_row(pl_image *dst, int o, int w, int h, int y, const uint8_t *row);
/* The same for n consecutive stored rows y0..y0+n-1 (packed, w*c bytes
 * each): much faster for the transposing orientations 5..8. */
void pl_orient_put_rows(pl_image *dst, int o, int w, int h, int y0, int n, const uint8_t *rows);
#define PL_ORIENT_BAND 64 /* rows per band for pl_orient_put_rows */

/* Codec decoders. Each fills out (c = 3, upright) and *full_w, *full_h with
 * the upright size at full resolution. max_side > 0 lets a codec decode
 * smaller when it can do so cheaply (JPEG DCT scaling); the result may still
 * be larger than max_side: decode.c finishes the reduction. */
pl_status pl_jpeg_decode(const uint8_t *data, size_t len, const char *name, int max_side,
                         pl_image *out, int *full_w, int *full_h, pl_error *err);
pl_status pl_png_decode(const uint8_t *data, size_t len, const char *name,
                        pl_image *out, pl_error *err);
pl_status pl_webp_decode(const uint8_t *data, size_t len, const char *name,
                         pl_image *out, pl_error *err);
pl_status pl_heif_decode(const uint8_t *data, size_t len, const char *name,
                         pl_image *out, pl_error *err);

/* Header-only size readers for pl_image_probe (stored size, before EXIF). */
pl_status pl_jpeg_probe(const uint8_t *data, size_t len, const char *name, int *w,
                        int *h, pl_error *err);
pl_status pl_heif_probe(const uint8_t *data, size_t len, const char *name, int *w,
                        int *h, pl_error *err);

/* The error for bytes that are no image we decode (empty, text, HTML,
 * GIF/BMP/TIFF, a lone JPEG SOI): PL_ERR_FORMAT or PL_ERR_UNSUPPORTED. */
pl_status pl_img_refuse(const uint8_t *data, size_t len, pl_image_format f,
                        const char *name, pl_error *err);

/* n RGBA pixels to RGB composited over white, in place (the write index
 * never passes the read index); photos with transparency look as a viewer
 * shows them. */
void pl_img_rgba_over_white(uint8_t *px, size_t n);

/* 0xRRGGBB as the bytes of one pixel with c channels: R,G,B,255; for
 * grey (c = 1) the low byte, so callers pass 0x808080-style greys. */
void pl_img_colour(uint32_t rgb, int c, uint8_t px[4]);
/* n pixels of c bytes at p, each set to px (a fill that copies doubling
 * runs: one memcpy per pixel was the slow part of drawing the outputs). */
void pl_img_fill_pixels(uint8_t *p, size_t n, int c, const uint8_t px[4]);

#endif
