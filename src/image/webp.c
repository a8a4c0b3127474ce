/* webp.c — WebP decoding with libwebp (still images; animations are
 * refused). Transparency is composited over white. */
#include "image/image_internal.h"

#include <stdlib.h>
#include <string.h>

#include <webp/decode.h>

pl_status pl_webp_decode(const uint8_t *data, size_t len, const char *name, pl_image *out,
                         pl_error *err)
{
    const char *nm = PL_IMG_NAME(name);
    memset(out, 0, sizeof *out);
    WebPBitstreamFeatures f;
    if (WebPGetFeatures(data, len, &f) != VP8_STATUS_OK)
        return pl_fail(err, PL_ERR_FORMAT, "%s: WebP header unreadable (truncated or corrupt)", nm);
    if (f.has_animation)
        return pl_fail(err, PL_ERR_UNSUPPORTED, "%s: animated WebP is not supported: save one frame as JPEG", nm);
    pl_status st = pl_img_check_size(f.width, f.height, name, err);
    if (st) return st;
    int c = f.has_alpha ? 4 : 3;
    size_t n = (size_t)f.width * f.height;
    uint8_t *px = malloc(n * c);
    if (!px) return pl_fail(err, PL_ERR_NOMEM, "%s: cannot allocate %dx%d pixels", nm, f.width, f.height);
    int stride = f.width * c;
    uint8_t *ok = c == 4 ? WebPDecodeRGBAInto(data, len, px, n * c, stride)
                         : WebPDecodeRGBInto(data, len, px, n * c, stride);
    if (!ok) {
        free(px);
        return pl_fail(err, PL_ERR_FORMAT, "%s: corrupt or truncated WebP", nm);
    }
    if (c == 4) {
        pl_img_rgba_over_white(px, n);
        uint8_t *p = realloc(px, n * 3);
        if (p) px = p;
    }
    out->w = f.width;
    out->h = f.height;
    out->c = 3;
    out->px = px;
    return PL_OK;
}
