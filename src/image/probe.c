/* probe.c — telling image formats apart by their bytes, reading sizes from
 * headers without decoding, and the JPEG EXIF orientation parser. Every
 * read here is bounds-checked: the input is whatever a user downloaded. */
#include "image/image_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <webp/decode.h>

pl_image_format pl_image_sniff(const uint8_t *d, size_t n)
{
    if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) return PL_IMAGE_JPEG;
    if (n >= 8 && !memcmp(d, "\x89PNG\r\n\x1a\n", 8)) return PL_IMAGE_PNG;
    if (n >= 12 && !memcmp(d, "RIFF", 4) && !memcmp(d + 8, "WEBP", 4)) return PL_IMAGE_WEBP;
    if (n >= 12 && !memcmp(d + 4, "ftyp", 4)) {
        /* ISO-BMFF: only the still-image brands; an .mp4 is not a photo. */
        static const char *brands[] = {"heic", "heix", "heim", "heis", "hevc", "hevx",
                                       "mif1", "msf1", "avif", "avis"};
        for (size_t i = 0; i < sizeof brands / sizeof *brands; i++)
            if (!memcmp(d + 8, brands[i], 4)) return PL_IMAGE_HEIF;
    }
    if (n >= 6 && (!memcmp(d, "GIF87a", 6) || !memcmp(d, "GIF89a", 6))) return PL_IMAGE_GIF;
    if (n >= 14 && d[0] == 'B' && d[1] == 'M') return PL_IMAGE_BMP;
    if (n >= 4 && (!memcmp(d, "II*\0", 4) || !memcmp(d, "MM\0*", 4))) return PL_IMAGE_TIFF;
    return PL_IMAGE_UNKNOWN;
}

const char *pl_image_format_name(pl_image_format f)
{
    switch (f) {
    case PL_IMAGE_JPEG: return "JPEG";
    case PL_IMAGE_PNG: return "PNG";
    case PL_IMAGE_WEBP: return "WebP";
    case PL_IMAGE_HEIF: return "HEIF";
    case PL_IMAGE_GIF: return "GIF";
    case PL_IMAGE_BMP: return "BMP";
    case PL_IMAGE_TIFF: return "TIFF";
    case PL_IMAGE_UNKNOWN: break;
    }
    return "unknown";
}

/* The first bytes, printable, for "not an image (starts with '<html')". */
static void printable_head(const uint8_t *d, size_t n, char *buf, size_t size)
{
    size_t j = 0;
    for (size_t i = 0; i < n && i < 12 && j + 5 < size; i++) {
        if (d[i] >= 0x20 && d[i] < 0x7f && d[i] != '\'' && d[i] != '\\')
            buf[j++] = (char)d[i];
        else
            j += (size_t)snprintf(buf + j, size - j, "\\x%02x", d[i]);
    }
    buf[j] = '\0';
}

/* The refusal for formats we recognise but do not decode, or for bytes that
 * are no image at all. Shared by decode and probe. */
pl_status pl_img_refuse(const uint8_t *d, size_t n, pl_image_format f, const char *name,
                        pl_error *err)
{
    const char *nm = PL_IMG_NAME(name);
    if (n == 0) return pl_fail(err, PL_ERR_FORMAT, "%s: empty file (0 bytes), not an image", nm);
    if (f == PL_IMAGE_GIF || f == PL_IMAGE_BMP || f == PL_IMAGE_TIFF)
        return pl_fail(err, PL_ERR_UNSUPPORTED,
                       "%s: %s is not supported: save the photo as JPEG", nm,
                       pl_image_format_name(f));
    char head[64];
    printable_head(d, n, head, sizeof head);
    if (n >= 2 && d[0] == 0xFF && d[1] == 0xD8)
        return pl_fail(err, PL_ERR_FORMAT, "%s: truncated JPEG (only %zu bytes)", nm, n);
    return pl_fail(err, PL_ERR_FORMAT, "%s: not an image (starts with '%s')", nm, head);
}

static unsigned rd16(const uint8_t *p, int le) { return le ? p[0] | p[1] << 8 : p[0] << 8 | p[1]; }
static uint32_t rd32(const uint8_t *p, int le)
{
    return le ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24
              : (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Orientation from an APP1 payload ("Exif\0\0" + TIFF). 0 if not found. */
static int exif_orientation(const uint8_t *p, size_t n)
{
    if (n < 14 || memcmp(p, "Exif\0\0", 6) != 0) return 0;
    const uint8_t *t = p + 6; /* TIFF header: byte order, 42, IFD0 offset */
    size_t tn = n - 6;
    int le;
    if (t[0] == 'I' && t[1] == 'I') le = 1;
    else if (t[0] == 'M' && t[1] == 'M') le = 0;
    else return 0;
    if (rd16(t + 2, le) != 42) return 0;
    uint32_t ifd = rd32(t + 4, le);
    if (ifd > tn || tn - ifd < 2) return 0;
    unsigned count = rd16(t + ifd, le);
    for (unsigned i = 0; i < count; i++) {
        size_t e = (size_t)ifd + 2 + (size_t)i * 12;
        if (e + 12 > tn) return 0;
        if (rd16(t + e, le) != 0x0112) continue;
        unsigned type = rd16(t + e + 2, le);
        unsigned v = type == 3 ? rd16(t + e + 8, le)          /* SHORT, value inline */
                   : type == 4 ? (unsigned)rd32(t + e + 8, le) /* LONG (seen in the wild) */
                   : 0;
        return v >= 1 && v <= 8 ? (int)v : 0;
    }
    return 0;
}

/* Walk the JPEG markers up to the first frame header (SOFn). Fills the
 * stored size (0 if no SOF before the scan) and the orientation. */
static void jpeg_walk(const uint8_t *d, size_t n, int *w, int *h, int *orient)
{
    *w = *h = 0;
    *orient = 1;
    size_t i = 2;
    int seen_exif = 0;
    while (i + 4 <= n) {
        if (d[i] != 0xFF) return;
        unsigned m = d[i + 1];
        if (m == 0xFF) { i++; continue; } /* fill byte */
        if (m == 0xD8 || (m >= 0xD0 && m <= 0xD7) || m == 0x01) { i += 2; continue; }
        if (m == 0xD9 || m == 0xDA) return; /* EOI or start of scan: headers are over */
        size_t seg = rd16(d + i + 2, 0);
        if (seg < 2 || i + 2 + seg > n) return;
        const uint8_t *p = d + i + 4;
        size_t pn = seg - 2;
        if (m == 0xE1 && !seen_exif) {
            int o = exif_orientation(p, pn);
            if (o) { *orient = o; seen_exif = 1; }
        }
        int sof = m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
        if (sof && pn >= 5) {
            *h = (int)rd16(p + 1, 0);
            *w = (int)rd16(p + 3, 0);
            return;
        }
        i += 2 + seg;
    }
}

int pl_jpeg_exif_orientation(const uint8_t *data, size_t len)
{
    int w, h, o;
    if (pl_image_sniff(data, len) != PL_IMAGE_JPEG) return 1;
    jpeg_walk(data, len, &w, &h, &o);
    return o;
}

pl_status pl_jpeg_probe(const uint8_t *data, size_t len, const char *name, int *w, int *h,
                        pl_error *err)
{
    int o;
    jpeg_walk(data, len, w, h, &o);
    if (*w <= 0 || *h <= 0)
        return pl_fail(err, PL_ERR_FORMAT, "%s: JPEG without a readable frame header (truncated or corrupt)",
                       PL_IMG_NAME(name));
    return PL_OK;
}

static pl_status png_probe(const uint8_t *d, size_t n, const char *name, int *w, int *h,
                           pl_error *err)
{
    if (n < 24 || memcmp(d + 12, "IHDR", 4) != 0)
        return pl_fail(err, PL_ERR_FORMAT, "%s: PNG without an IHDR header (truncated or corrupt)",
                       PL_IMG_NAME(name));
    uint32_t pw = rd32(d + 16, 0), ph = rd32(d + 20, 0);
    if (pw > 0x7fffffff || ph > 0x7fffffff)
        return pl_fail(err, PL_ERR_FORMAT, "%s: PNG with a bad size", PL_IMG_NAME(name));
    *w = (int)pw;
    *h = (int)ph;
    return PL_OK;
}

static pl_status webp_probe(const uint8_t *d, size_t n, const char *name, int *w, int *h,
                            pl_error *err)
{
    if (!WebPGetInfo(d, n, w, h))
        return pl_fail(err, PL_ERR_FORMAT, "%s: WebP header unreadable (truncated or corrupt)",
                       PL_IMG_NAME(name));
    return PL_OK;
}

pl_status pl_image_probe(const uint8_t *data, size_t len, const char *name,
                         pl_image_info *info, pl_error *err)
{
    memset(info, 0, sizeof *info);
    info->orientation = 1;
    pl_image_format f = pl_image_sniff(data, len);
    int w = 0, h = 0;
    pl_status st;
    switch (f) {
    case PL_IMAGE_JPEG:
        st = pl_jpeg_probe(data, len, name, &w, &h, err);
        info->orientation = pl_jpeg_exif_orientation(data, len);
        break;
    case PL_IMAGE_PNG: st = png_probe(data, len, name, &w, &h, err); break;
    case PL_IMAGE_WEBP: st = webp_probe(data, len, name, &w, &h, err); break;
    case PL_IMAGE_HEIF: st = pl_heif_probe(data, len, name, &w, &h, err); break;
    default: return pl_img_refuse(data, len, f, name, err);
    }
    if (st) return st;
    st = pl_img_check_size(w, h, name, err);
    if (st) return st;
    info->format = f;
    pl_orient_size(info->orientation, w, h, &info->w, &info->h);
    return PL_OK;
}
