/* image.h — decoded images and the operations pasalista needs on them.
 *
 * The image module owns: reading photos (JPEG, PNG, WebP, HEIC/HEIF, told
 * apart by their bytes, never by their name), EXIF orientation, writing
 * JPEG and PNG, the geometry the face pipeline needs (crop, resize, warp,
 * transpose, flip, rotate), conversion to float network inputs, and drawing
 * (boxes, text labels with FreeType). It knows nothing about faces.
 *
 * A pl_image owns its pixels: 8-bit, interleaved, c = 1 (grey), 3 (RGB) or
 * 4 (RGBA), rows tightly packed (stride = w * c). Decoders apply the EXIF
 * orientation, so px is always upright as a person would see it, and always
 * return c = 3 (RGB). Every function that fills a pl_image *out expects it
 * to hold nothing (it is overwritten, not freed); on failure *out is
 * {0, 0, 0, NULL}. Release with pl_image_free (accepts zeroed images).
 *
 * Coordinates: pixel (x, y) is column x, row y, (0, 0) top-left; pixel
 * centres are at integer coordinates unless a function says otherwise.
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

/* Limits applied before any pixel buffer is allocated ("image too large"). */
#define PL_IMAGE_MAX_SIDE   30000
#define PL_IMAGE_MAX_PIXELS 100000000LL   /* 100 megapixels */
#define PL_IMAGE_MAX_FILE   (512u << 20)  /* bytes read by pl_image_load */

/* ---- decoding ------------------------------------------------------------- */

/* Decode JPEG, PNG, WebP or HEIC/HEIF (by content, not by name) to RGB.
 * Errors name the file and say what is wrong ("not an image", "truncated
 * JPEG", ...). name is only used in messages (may be NULL). */
pl_status pl_image_load(const char *path, pl_image *out, pl_error *err);
pl_status pl_image_decode(const uint8_t *data, size_t len, const char *name,
                          pl_image *out, pl_error *err);
void pl_image_free(pl_image *img);

/* Decode so that the longer side is at most max_side (max_side <= 0: full
 * size). Large JPEGs are decoded directly at 1/2, 1/4 or 1/8 by libjpeg's
 * DCT scaling (so a 12 MP photo never exists at full size in memory), then
 * area-filtered to the exact size; other formats are decoded, then reduced.
 * Never enlarges. *scale (may be NULL) = out->w / upright full width, so a
 * box found in *out maps back to the photo by dividing by *scale. */
pl_status pl_image_load_max(const char *path, int max_side, pl_image *out,
                            double *scale, pl_error *err);
pl_status pl_image_decode_max(const uint8_t *data, size_t len, const char *name,
                              int max_side, pl_image *out, double *scale,
                              pl_error *err);

typedef enum pl_image_format {
    PL_IMAGE_UNKNOWN = 0,
    PL_IMAGE_JPEG,
    PL_IMAGE_PNG,
    PL_IMAGE_WEBP,
    PL_IMAGE_HEIF,  /* HEIC, HEIF and AVIF (all ISO-BMFF 'ftyp' containers) */
    PL_IMAGE_GIF,   /* recognised, refused */
    PL_IMAGE_BMP,   /* recognised, refused */
    PL_IMAGE_TIFF   /* recognised, refused */
} pl_image_format;

typedef struct pl_image_info {
    pl_image_format format;
    int w, h;         /* upright size (after EXIF orientation), as decoded */
    int orientation;  /* EXIF orientation 1..8 (1 = as stored; JPEG only) */
} pl_image_info;

/* Format and size from the header bytes, without decoding pixels (cheap:
 * the roster importer checks downloads with it). Fails like pl_image_decode
 * on things that are not images, on refused formats and on sizes over the
 * limits; name is only used in messages. */
pl_status pl_image_probe(const uint8_t *data, size_t len, const char *name,
                         pl_image_info *info, pl_error *err);
/* The format alone, by magic bytes; PL_IMAGE_UNKNOWN if none matches. */
pl_image_format pl_image_sniff(const uint8_t *data, size_t len);
const char *pl_image_format_name(pl_image_format f); /* "JPEG", "PNG", ... */

/* EXIF orientation (1..8) of a JPEG held in memory: the APP1 "Exif" TIFF
 * IFD0 tag 0x0112, either byte order. 1 when absent or unreadable. */
int pl_jpeg_exif_orientation(const uint8_t *data, size_t len);

/* ---- encoding ---------------------------------------------------------------
 * Files are replaced atomically (temp file + rename) but not fsync'd: a
 * picture can be made again, and waiting for the disk cost more than
 * encoding it (pl_write_file_replace). */

/* quality 1..100. Grey stays grey; RGBA loses its alpha. */
pl_status pl_image_save_jpeg(const char *path, const pl_image *img, int quality,
                             pl_error *err);
pl_status pl_image_save_png(const char *path, const pl_image *img, pl_error *err);
/* In-memory variants; *data is malloc'd, free() it. */
pl_status pl_image_encode_jpeg(const pl_image *img, int quality, uint8_t **data,
                               size_t *len, pl_error *err);
pl_status pl_image_encode_png(const pl_image *img, uint8_t **data, size_t *len,
                              pl_error *err);

/* ---- construction and channel conversion --------------------------------- */

/* A zeroed w×h×c image. */
pl_status pl_image_new(int w, int h, int c, pl_image *out, pl_error *err);
pl_status pl_image_clone(const pl_image *src, pl_image *out, pl_error *err);
/* Any c (1, 3, 4) to c = 3 RGB (grey replicated, alpha dropped). */
pl_status pl_image_to_rgb(const pl_image *src, pl_image *out, pl_error *err);
/* Any c to c = 1 grey, ITU-R BT.601 luma (0.299 R + 0.587 G + 0.114 B,
 * rounded, as OpenCV's COLOR_RGB2GRAY). */
pl_status pl_image_to_grey(const pl_image *src, pl_image *out, pl_error *err);

/* Network input: out[i] = (v - mean[ch]) * scale[ch] for each channel.
 * Source c must be 1 or 3 (grey gives one channel; bgr ignored). Writes
 * w*h*c floats into the caller's buffer; out_len (in floats) is checked. */
typedef struct pl_float_spec {
    int bgr;         /* 1: channels in B, G, R order (mean/scale follow it) */
    int nchw;        /* 1: planar C×H×W; 0: interleaved H×W×C (NHWC) */
    float mean[3];
    float scale[3];
} pl_float_spec;
pl_status pl_image_to_float(const pl_image *img, const pl_float_spec *spec,
                            float *out, size_t out_len, pl_error *err);

/* ---- geometry ------------------------------------------------------------- */

/* Copy of the rectangle (x, y, w, h) clamped to the image; the result is
 * the intersection (smaller than asked near the edges); an empty
 * intersection is an error. */
pl_status pl_image_crop(const pl_image *src, int x, int y, int w, int h,
                        pl_image *out, pl_error *err);
/* Exactly w×h: the rectangle may lie partly outside, filled with fill
 * (0xRRGGBB; grey uses the low byte, RGBA gets alpha 255). Used to pad a
 * face box to a square. */
pl_status pl_image_crop_pad(const pl_image *src, int x, int y, int w, int h,
                            uint32_t fill, pl_image *out, pl_error *err);

typedef enum pl_resize_mode {
    /* TF ResizeBilinear align_corners=false, half_pixel_centers=false:
     * src = dst * (in/out); Android createScaledBitmap(filter=true) as the
     * MTCNN pyramid uses (MODELS.md §1.1). */
    PL_RESIZE_BILINEAR = 0,
    /* half_pixel_centers=true: src = (dst + 0.5) * (in/out) - 0.5, as
     * OpenCV INTER_LINEAR and TF2 tf.image.resize. */
    PL_RESIZE_BILINEAR_HALF,
    /* Box filter: each output pixel is the exact area-weighted mean of the
     * input pixels it covers (OpenCV INTER_AREA); no aliasing when
     * shrinking by large factors. Enlarging falls back to BILINEAR_HALF. */
    PL_RESIZE_AREA,
    /* AREA when shrinking an axis, BILINEAR_HALF otherwise. */
    PL_RESIZE_AUTO
} pl_resize_mode;
pl_status pl_image_resize(const pl_image *src, int w, int h, pl_resize_mode mode,
                          pl_image *out, pl_error *err);
/* n area-filtered reductions of one image (an image pyramid): out[i] is
 * w[i]×h[i] and has exactly the pixels pl_image_resize(..., PL_RESIZE_AREA)
 * would give it, but every source row is read and converted once for all
 * of them. A size that does not shrink both axes is made by
 * pl_image_resize. On error every out[i] is freed. */
pl_status pl_image_shrink_many(const pl_image *src, int n, const int *w, const int *h,
                               pl_image *out, pl_error *err);

/* Affine warp with bilinear sampling. m maps DESTINATION to SOURCE:
 *     src_x = m[0]*x + m[1]*y + m[2],  src_y = m[3]*x + m[4]*y + m[5]
 * for each output pixel (x, y) (OpenCV warpAffine with WARP_INVERSE_MAP).
 * Taps outside the source read border (0..255, every channel), so edges
 * blend into the border as OpenCV's BORDER_CONSTANT does. */
pl_status pl_image_warp_affine(const pl_image *src, const float m[6], int w, int h,
                               int border, pl_image *out, pl_error *err);
/* Inverse of a 2×3 affine (e.g. to turn a source→destination similarity
 * into the destination→source m above). Returns 0 if singular. */
int pl_affine_invert(const float m[6], float inv[6]);

/* out(x, y) = src(y, x): W and H swap (MTCNN's column-major inputs). */
pl_status pl_image_transpose(const pl_image *src, pl_image *out, pl_error *err);
/* Mirror in place: horizontal (left↔right) or vertical (top↔bottom). */
void pl_image_flip_h(pl_image *img);
void pl_image_flip_v(pl_image *img);
/* Rotate by quarter_turns × 90° clockwise (any integer, negative = ccw). */
pl_status pl_image_rotate90(const pl_image *src, int quarter_turns, pl_image *out,
                            pl_error *err);

/* Paste src into dst at (x, y), scaled to w×h (AUTO filter), clipped to
 * dst; channels are converted to dst's. For contact sheets. */
pl_status pl_image_paste(pl_image *dst, const pl_image *src, int x, int y, int w,
                         int h, pl_error *err);

/* ---- drawing (clipped to the image; colours are 0xRRGGBB) ---------------- */

void pl_image_draw_rect(pl_image *img, int x, int y, int w, int h, int thickness,
                        uint32_t rgb);
void pl_image_fill_rect(pl_image *img, int x, int y, int w, int h, uint32_t rgb);
/* Blend rgb over the rectangle with opacity alpha (0..255). */
void pl_image_blend_rect(pl_image *img, int x, int y, int w, int h, uint32_t rgb,
                         int alpha);

/* ---- text (FreeType, antialiased, UTF-8) --------------------------------- */

#define PL_FONT_DEFAULT      "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
#define PL_FONT_DEFAULT_BOLD "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

typedef struct pl_font pl_font;  /* opaque; one per thread */

/* Open a TrueType/OpenType font at pixel_size (height in pixels of the
 * em square). path NULL = PL_FONT_DEFAULT. Missing font → PL_ERR_NOTFOUND
 * naming the file and the Debian package (fonts-dejavu-core). */
pl_status pl_font_open(const char *path, int pixel_size, pl_font **out, pl_error *err);
void pl_font_close(pl_font *font);

/* Text extent: w = advance width, h = ascent + descent of the font (one
 * line), baseline = ascent (the baseline's distance below the top). */
typedef struct pl_text_size { int w, h, baseline; } pl_text_size;
pl_status pl_font_measure(pl_font *font, const char *utf8, pl_text_size *size,
                          pl_error *err);
/* 1 if the font has a glyph for every code point of utf8; otherwise 0 and
 * *missing (may be NULL) = the first code point without one. Invalid UTF-8
 * counts as missing U+FFFD. */
int pl_font_covers(pl_font *font, const char *utf8, uint32_t *missing);

/* Draw utf8 with its top-left at (x, y) (the box pl_font_measure gives),
 * antialiased, clipped to the image. */
pl_status pl_image_draw_text(pl_image *img, pl_font *font, int x, int y,
                             const char *utf8, uint32_t rgb, pl_error *err);
/* A readable label for a box: text in fg on a filled bg rectangle with a
 * small margin, placed just above (bx, by, bw, bh), or inside its top edge
 * when there is no room above; kept inside the image. */
pl_status pl_image_draw_label(pl_image *img, pl_font *font, int bx, int by, int bw,
                              int bh, const char *utf8, uint32_t fg, uint32_t bg,
                              pl_error *err);

#endif
