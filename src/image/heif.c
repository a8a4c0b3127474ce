/* heif.c — HEIC/HEIF/AVIF decoding with libheif: the primary image, with
 * libheif applying the container's rotation/mirror/crop (irot, imir,
 * clap) so the result is upright. Phones (iPhone) save HEIC by default. */
#include "image/image_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libheif/heif.h>

static pl_status heif_err(const char *name, const char *what, struct heif_error e, pl_error *err)
{
    pl_status code = e.code == heif_error_Unsupported_feature ||
                             e.code == heif_error_Unsupported_filetype
                         ? PL_ERR_UNSUPPORTED
                     : e.code == heif_error_Memory_allocation_error ? PL_ERR_NOMEM
                                                                     : PL_ERR_FORMAT;
    return pl_fail(err, code, "%s: %s HEIF (%s)", PL_IMG_NAME(name), what,
                   e.message ? e.message : "unknown error");
}

/* Open the container and its primary image; on success the caller frees
 * both. The size is checked before anything is decoded. */
static pl_status open_primary(const uint8_t *data, size_t len, const char *name,
                              struct heif_context **ctx, struct heif_image_handle **h,
                              pl_error *err)
{
    *h = NULL;
    *ctx = heif_context_alloc();
    if (!*ctx) return pl_fail(err, PL_ERR_NOMEM, "%s: cannot start the HEIF decoder", PL_IMG_NAME(name));
    heif_context_set_maximum_image_size_limit(*ctx, PL_IMAGE_MAX_SIDE);
    struct heif_error e = heif_context_read_from_memory_without_copy(*ctx, data, len, NULL);
    if (e.code == heif_error_Ok) e = heif_context_get_primary_image_handle(*ctx, h);
    if (e.code != heif_error_Ok) {
        pl_status st = heif_err(name, "unreadable", e, err); /* e.message lives in ctx */
        heif_context_free(*ctx);
        *ctx = NULL;
        return st;
    }
    pl_status st = pl_img_check_size(heif_image_handle_get_width(*h),
                                     heif_image_handle_get_height(*h), name, err);
    if (st) {
        heif_image_handle_release(*h);
        heif_context_free(*ctx);
        *h = NULL;
        *ctx = NULL;
    }
    return st;
}

pl_status pl_heif_probe(const uint8_t *data, size_t len, const char *name, int *w, int *h,
                        pl_error *err)
{
    struct heif_context *ctx;
    struct heif_image_handle *hd;
    pl_status st = open_primary(data, len, name, &ctx, &hd, err);
    if (st) return st;
    *w = heif_image_handle_get_width(hd);
    *h = heif_image_handle_get_height(hd);
    heif_image_handle_release(hd);
    heif_context_free(ctx);
    return PL_OK;
}

pl_status pl_heif_decode(const uint8_t *data, size_t len, const char *name, pl_image *out,
                         pl_error *err)
{
    memset(out, 0, sizeof *out);
    struct heif_context *ctx;
    struct heif_image_handle *hd;
    pl_status st = open_primary(data, len, name, &ctx, &hd, err);
    if (st) return st;
    int alpha = heif_image_handle_has_alpha_channel(hd);
    struct heif_image *img = NULL;
    struct heif_error e = heif_decode_image(hd, &img, heif_colorspace_RGB,
                                            alpha ? heif_chroma_interleaved_RGBA
                                                  : heif_chroma_interleaved_RGB, NULL);
    if (e.code != heif_error_Ok) {
        st = heif_err(name, "cannot decode", e, err);
        heif_image_handle_release(hd);
        heif_context_free(ctx);
        return st;
    }
    int w = heif_image_get_width(img, heif_channel_interleaved);
    int h = heif_image_get_height(img, heif_channel_interleaved);
    int stride = 0;
    const uint8_t *p = heif_image_get_plane_readonly(img, heif_channel_interleaved, &stride);
    int c = alpha ? 4 : 3;
    int hw = heif_image_handle_get_width(hd), hh = heif_image_handle_get_height(hd);
    /* A damaged file can declare one size (what pl_image_probe reports)
     * and decode to another; trust neither. */
    if (!p)
        st = pl_fail(err, PL_ERR_FORMAT, "%s: HEIF decoded without pixels", PL_IMG_NAME(name));
    else if (w != hw || h != hh)
        st = pl_fail(err, PL_ERR_FORMAT, "%s: corrupt HEIF (declares %dx%d, decodes to %dx%d)",
                     PL_IMG_NAME(name), hw, hh, w, h);
    else
        st = pl_img_alloc(out, w, h, 3, name, err);
    if (!st && stride < w * c)
        st = pl_fail(err, PL_ERR_FORMAT, "%s: HEIF plane stride %d too small", PL_IMG_NAME(name), stride);
    for (int y = 0; !st && y < h; y++) {
        const uint8_t *s = p + (size_t)y * stride;
        uint8_t *d = out->px + (size_t)y * w * 3;
        if (c == 3) {
            memcpy(d, s, (size_t)w * 3);
        } else {
            for (int x = 0; x < w; x++) {
                unsigned a = s[x * 4 + 3];
                for (int k = 0; k < 3; k++)
                    d[x * 3 + k] = (uint8_t)((s[x * 4 + k] * a + 255 * (255 - a) + 127) / 255);
            }
        }
    }
    if (st) pl_image_free(out);
    heif_image_release(img);
    heif_image_handle_release(hd);
    heif_context_free(ctx);
    return st;
}
