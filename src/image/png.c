/* png.c — PNG decoding and encoding with libpng. Every PNG flavour
 * (palette, grey, 1..16-bit, tRNS, alpha, interlaced) becomes 8-bit RGB;
 * transparent pixels are composited over white, as a viewer shows them. */
#include "image/image_internal.h"
#include "util/fs.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

typedef struct png_io {
    const uint8_t *data;
    size_t len, pos;
    char msg[256];
    uint8_t *out;    /* encoding: growing output buffer */
    size_t cap;
    int oom;
} png_io;

static void on_error(png_structp png, png_const_charp msg)
{
    png_io *io = png_get_error_ptr(png);
    if (!io->msg[0]) snprintf(io->msg, sizeof io->msg, "corrupt PNG (%s)", msg);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg) { (void)png; (void)msg; }

static void read_fn(png_structp png, png_bytep dst, png_size_t n)
{
    png_io *io = png_get_io_ptr(png);
    if (n > io->len - io->pos) {
        snprintf(io->msg, sizeof io->msg, "truncated PNG (premature end of data)");
        png_error(png, "truncated");
    }
    memcpy(dst, io->data + io->pos, n);
    io->pos += n;
}

pl_status pl_png_decode(const uint8_t *data, size_t len, const char *name, pl_image *out,
                        pl_error *err)
{
    const char *nm = PL_IMG_NAME(name);
    memset(out, 0, sizeof *out);
    png_io io = {.data = data, .len = len};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &io, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return pl_fail(err, PL_ERR_NOMEM, "%s: cannot start the PNG decoder", nm);
    }
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        free(rows);
        pl_image_free(out);
        png_destroy_read_struct(&png, &info, NULL);
        return pl_fail(err, PL_ERR_FORMAT, "%s: %s", nm, io.msg);
    }
    png_set_read_fn(png, &io, read_fn);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    pl_status st = pl_img_check_size(w, h, name, err);
    if (st) {
        png_destroy_read_struct(&png, &info, NULL);
        return st;
    }
    png_set_expand(png);      /* palette → RGB, grey < 8 bit → 8 bit, tRNS → alpha */
    png_set_strip_16(png);
    png_set_gray_to_rgb(png);
    int passes = png_set_interlace_handling(png);
    png_read_update_info(png, info);
    int c = png_get_channels(png, info);
    if (c != 3 && c != 4) {
        snprintf(io.msg, sizeof io.msg, "unexpected PNG layout (%d channels)", c);
        png_longjmp(png, 1);
    }
    /* Decode into a buffer of c channels; the RGBA case shrinks in place. */
    size_t stride = (size_t)w * c;
    out->px = malloc(stride * h);
    rows = malloc(sizeof *rows * h);
    if (!out->px || !rows) {
        free(rows);
        free(out->px);
        out->px = NULL;
        png_destroy_read_struct(&png, &info, NULL);
        return pl_fail(err, PL_ERR_NOMEM, "%s: cannot allocate %ux%u pixels", nm, w, h);
    }
    for (png_uint_32 y = 0; y < h; y++) rows[y] = out->px + y * stride;
    (void)passes; /* png_read_image runs every interlace pass itself */
    png_read_image(png, rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    out->w = (int)w;
    out->h = (int)h;
    out->c = 3;
    if (c == 4) {
        pl_img_rgba_over_white(out->px, (size_t)w * h);
        uint8_t *p = realloc(out->px, (size_t)w * h * 3);
        if (p) out->px = p;
    }
    return PL_OK;
}

static void write_fn(png_structp png, png_bytep src, png_size_t n)
{
    png_io *io = png_get_io_ptr(png);
    if (n > io->cap - io->len) {
        size_t cap = io->cap ? io->cap * 2 : 65536;
        while (cap - io->len < n) cap *= 2;
        uint8_t *p = realloc(io->out, cap);
        if (!p) {
            io->oom = 1;
            snprintf(io->msg, sizeof io->msg, "out of memory");
            png_error(png, "out of memory");
        }
        io->out = p;
        io->cap = cap;
    }
    memcpy(io->out + io->len, src, n);
    io->len += n;
}

static void flush_fn(png_structp png) { (void)png; }

pl_status pl_image_encode_png(const pl_image *img, uint8_t **data, size_t *len, pl_error *err)
{
    *data = NULL;
    *len = 0;
    if (!img || !img->px || img->w <= 0 || img->h <= 0 || (img->c != 1 && img->c != 3 && img->c != 4))
        return pl_fail(err, PL_ERR_ARG, "PNG encode: empty or invalid image");
    png_io io;
    memset(&io, 0, sizeof io);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &io, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return pl_fail(err, PL_ERR_NOMEM, "PNG encode: cannot start the encoder");
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(io.out);
        return pl_fail(err, io.oom ? PL_ERR_NOMEM : PL_ERR_INTERNAL, "PNG encode: %s", io.msg);
    }
    png_set_write_fn(png, &io, write_fn, flush_fn);
    int type = img->c == 1 ? PNG_COLOR_TYPE_GRAY : img->c == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_RGBA;
    png_set_IHDR(png, info, (png_uint_32)img->w, (png_uint_32)img->h, 8, type, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(png, 6);
    png_write_info(png, info);
    size_t stride = (size_t)img->w * img->c;
    for (int y = 0; y < img->h; y++) png_write_row(png, img->px + (size_t)y * stride);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    *data = io.out;
    *len = io.len;
    return PL_OK;
}

pl_status pl_image_save_png(const char *path, const pl_image *img, pl_error *err)
{
    uint8_t *buf;
    size_t n;
    pl_status st = pl_image_encode_png(img, &buf, &n, err);
    if (st) return pl_error_prefix(err, "%s: ", path);
    st = pl_write_file_replace(path, buf, n, err);
    free(buf);
    return st;
}
