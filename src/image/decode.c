/* decode.c — from bytes (or a file) to an upright RGB pl_image: picks the
 * codec by the bytes, never the file name, and optionally decodes smaller
 * (pl_image_decode_max) so that big phone photos stay cheap. */
#include "image/image_internal.h"
#include "util/fs.h"

#include <stdlib.h>
#include <string.h>

/* Full-size decode by format. */
static pl_status decode_any(const uint8_t *data, size_t len, const char *name, int max_side,
                            pl_image *out, int *full_w, int *full_h, pl_error *err)
{
    memset(out, 0, sizeof *out);
    pl_image_format f = pl_image_sniff(data, len);
    pl_status st;
    switch (f) {
    case PL_IMAGE_JPEG: return pl_jpeg_decode(data, len, name, max_side, out, full_w, full_h, err);
    case PL_IMAGE_PNG: st = pl_png_decode(data, len, name, out, err); break;
    case PL_IMAGE_WEBP: st = pl_webp_decode(data, len, name, out, err); break;
    case PL_IMAGE_HEIF: st = pl_heif_decode(data, len, name, out, err); break;
    default: return pl_img_refuse(data, len, f, name, err);
    }
    *full_w = out->w;
    *full_h = out->h;
    return st;
}

pl_status pl_image_decode(const uint8_t *data, size_t len, const char *name, pl_image *out,
                          pl_error *err)
{
    return pl_image_decode_max(data, len, name, 0, out, NULL, err);
}

/* The size fitting inside max_side×max_side with w:h kept (never larger). */
static void fit_size(int w, int h, int max_side, int *fw, int *fh)
{
    *fw = w;
    *fh = h;
    if (max_side <= 0 || (w <= max_side && h <= max_side)) return;
    if (w >= h) {
        *fw = max_side;
        *fh = (int)((double)h * max_side / w + 0.5);
    } else {
        *fh = max_side;
        *fw = (int)((double)w * max_side / h + 0.5);
    }
    if (*fw < 1) *fw = 1;
    if (*fh < 1) *fh = 1;
}

pl_status pl_image_decode_max(const uint8_t *data, size_t len, const char *name, int max_side,
                              pl_image *out, double *scale, pl_error *err)
{
    if (scale) *scale = 1.0;
    memset(out, 0, sizeof *out);
    if (!data && len) return pl_fail(err, PL_ERR_ARG, "%s: no data", PL_IMG_NAME(name));
    int fw = 0, fh = 0;
    pl_status st = decode_any(data ? data : (const uint8_t *)"", len, name, max_side, out, &fw, &fh, err);
    if (st) return st;
    int tw, th;
    fit_size(fw, fh, max_side, &tw, &th);
    if (tw != out->w || th != out->h) {
        pl_image small;
        st = pl_image_resize(out, tw, th, PL_RESIZE_AREA, &small, err);
        pl_image_free(out);
        if (st) return pl_error_prefix(err, "%s: ", PL_IMG_NAME(name));
        *out = small;
    }
    if (scale) *scale = (double)out->w / fw;
    return PL_OK;
}

pl_status pl_image_load(const char *path, pl_image *out, pl_error *err)
{
    return pl_image_load_max(path, 0, out, NULL, err);
}

pl_status pl_image_load_max(const char *path, int max_side, pl_image *out, double *scale,
                            pl_error *err)
{
    memset(out, 0, sizeof *out);
    if (scale) *scale = 1.0;
    uint8_t *data;
    size_t len;
    pl_status st = pl_read_file(path, PL_IMAGE_MAX_FILE, &data, &len, err);
    if (st) return st;
    st = pl_image_decode_max(data, len, path, max_side, out, scale, err);
    free(data);
    return st;
}
