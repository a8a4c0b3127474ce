/* text.c — UTF-8 text with FreeType: antialiased glyphs blended onto an
 * image, extents for placing labels, and a coverage check so that names
 * like "María José Núñez" never come out as missing-glyph boxes. */
#include "image/image_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ft2build.h>
#include FT_FREETYPE_H

/* A glyph as rendered once: labels repeat the same letters, and loading
 * a glyph (hinting it, then rendering) costs far more than blending it. */
typedef struct cached_glyph {
    FT_UInt index;      /* 0: an empty slot (glyph 0, .notdef, is never kept) */
    int left, top;      /* bitmap_left, bitmap_top                        */
    long advance;       /* advance.x, 26.6 fixed point                    */
    long extent;        /* horiBearingX + width, 26.6                     */
    FT_Bitmap bitmap;   /* buffer owned here; NULL when nothing to draw   */
} cached_glyph;

#define GLYPH_CACHE 256 /* slots; glyphs past that are loaded every time */

struct pl_font {
    FT_Library lib;
    FT_Face face;
    int ascent, descent; /* pixels above / below the baseline */
    cached_glyph cache[GLYPH_CACHE];
};

pl_status pl_font_open(const char *path, int pixel_size, pl_font **out, pl_error *err)
{
    *out = NULL;
    if (!path) path = PL_FONT_DEFAULT;
    if (pixel_size < 4 || pixel_size > 1000)
        return pl_fail(err, PL_ERR_ARG, "%s: bad font size %d px", path, pixel_size);
    FILE *f = fopen(path, "rb");
    if (!f)
        return pl_fail(err, PL_ERR_NOTFOUND, "%s: font not found (%s; install fonts-dejavu-core)",
                       path, strerror(errno));
    fclose(f);
    pl_font *font = calloc(1, sizeof *font);
    if (!font) return pl_fail(err, PL_ERR_NOMEM, "%s: out of memory", path);
    if (FT_Init_FreeType(&font->lib)) {
        free(font);
        return pl_fail(err, PL_ERR_INTERNAL, "%s: cannot start FreeType", path);
    }
    if (FT_New_Face(font->lib, path, 0, &font->face) ||
        FT_Set_Pixel_Sizes(font->face, 0, (FT_UInt)pixel_size)) {
        pl_font_close(font);
        return pl_fail(err, PL_ERR_FORMAT, "%s: not a usable font file", path);
    }
    FT_Size_Metrics *m = &font->face->size->metrics;
    font->ascent = (int)((m->ascender + 63) >> 6);
    font->descent = (int)((-m->descender + 63) >> 6);
    *out = font;
    return PL_OK;
}

void pl_font_close(pl_font *font)
{
    if (!font) return;
    for (int i = 0; i < GLYPH_CACHE; i++) free(font->cache[i].bitmap.buffer);
    if (font->face) FT_Done_Face(font->face);
    if (font->lib) FT_Done_FreeType(font->lib);
    free(font);
}

/* Next code point of s (advancing *s); invalid or overlong sequences give
 * U+FFFD and skip one byte. 0 at the end. */
static uint32_t utf8_next(const char **s)
{
    const unsigned char *p = (const unsigned char *)*s;
    uint32_t c = p[0];
    if (!c) return 0;
    int n = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : -1;
    static const uint32_t min[4] = {0, 0x80, 0x800, 0x10000};
    if (n < 0) goto bad;
    c &= n == 0 ? 0x7F : n == 1 ? 0x1F : n == 2 ? 0x0F : 0x07;
    for (int i = 1; i <= n; i++) {
        if ((p[i] & 0xC0) != 0x80) goto bad;
        c = c << 6 | (p[i] & 0x3F);
    }
    if (c < min[n] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) goto bad;
    *s += n + 1;
    return c;
bad:
    *s += 1;
    return 0xFFFD;
}

int pl_font_covers(pl_font *font, const char *utf8, uint32_t *missing)
{
    if (!font || !utf8) return 0;
    const char *s = utf8;
    uint32_t cp;
    for (const char *at = s; (cp = utf8_next(&s)) != 0; at = s) {
        /* U+FFFD that was not written as such is a decoding error. */
        int bad = cp == 0xFFFD && memcmp(at, "\xEF\xBF\xBD", 3) != 0;
        if (bad || FT_Get_Char_Index(font->face, cp) == 0) {
            if (missing) *missing = cp;
            return 0;
        }
    }
    return 1;
}

/* Lay the text out: calls draw (if img) for each glyph. Returns the width
 * in pixels or -1 on a FreeType error. */
static int layout(pl_font *font, const char *utf8, pl_image *img, int x, int y, uint32_t rgb);

pl_status pl_font_measure(pl_font *font, const char *utf8, pl_text_size *size, pl_error *err)
{
    memset(size, 0, sizeof *size);
    if (!font || !utf8) return pl_fail(err, PL_ERR_ARG, "measure: no font or text");
    int w = layout(font, utf8, NULL, 0, 0, 0);
    if (w < 0) return pl_fail(err, PL_ERR_INTERNAL, "measure: FreeType cannot load a glyph of \"%.200s\"", utf8);
    size->w = w;
    size->h = font->ascent + font->descent;
    size->baseline = font->ascent;
    return PL_OK;
}

/* Blend one rendered glyph (8-bit coverage) at (gx, gy) = its top-left. */
static void blit(pl_image *img, const FT_Bitmap *bm, int gx, int gy, const uint8_t col[4])
{
    int c = img->c, nc = c == 4 ? 3 : c;
    for (unsigned r = 0; r < bm->rows; r++) {
        int yy = gy + (int)r;
        if (yy < 0 || yy >= img->h) continue;
        const uint8_t *cov = bm->buffer + (ptrdiff_t)r * bm->pitch;
        int mono = bm->pixel_mode == FT_PIXEL_MODE_MONO; /* bitmap-only fonts */
        for (unsigned q = 0; q < bm->width; q++) {
            int xx = gx + (int)q;
            int a = mono ? ((cov[q >> 3] >> (7 - (q & 7))) & 1) * 255 : cov[q];
            if (xx < 0 || xx >= img->w || a == 0) continue;
            uint8_t *p = img->px + ((size_t)yy * img->w + xx) * c;
            for (int k = 0; k < nc; k++) p[k] = (uint8_t)((col[k] * a + p[k] * (255 - a) + 127) / 255);
        }
    }
}

/* Glyph gi rendered, from the cache or loaded into it (into *scratch when
 * the cache is full or gi is .notdef). NULL on a FreeType error. */
static const cached_glyph *load_glyph(pl_font *font, FT_UInt gi, cached_glyph *scratch)
{
    cached_glyph *slot = NULL;
    for (int probe = 0; gi && probe < GLYPH_CACHE; probe++) {
        cached_glyph *c = &font->cache[(gi + (FT_UInt)probe) % GLYPH_CACHE];
        if (c->index == gi) return c;
        if (c->index == 0) {
            slot = c;
            break;
        }
    }
    if (FT_Load_Glyph(font->face, gi, FT_LOAD_RENDER)) return NULL;
    FT_GlyphSlot g = font->face->glyph;
    cached_glyph *out = slot ? slot : scratch;
    if (out == scratch) free(scratch->bitmap.buffer);
    memset(out, 0, sizeof *out);
    out->left = g->bitmap_left;
    out->top = g->bitmap_top;
    out->advance = g->advance.x;
    out->extent = g->metrics.horiBearingX + g->metrics.width;
    int drawable = g->bitmap.pixel_mode == FT_PIXEL_MODE_GRAY || g->bitmap.pixel_mode == FT_PIXEL_MODE_MONO;
    if (g->bitmap.buffer && drawable && g->bitmap.pitch > 0) {
        size_t bytes = (size_t)g->bitmap.rows * (size_t)g->bitmap.pitch;
        out->bitmap = g->bitmap;
        out->bitmap.buffer = malloc(bytes ? bytes : 1);
        if (!out->bitmap.buffer) return NULL;
        memcpy(out->bitmap.buffer, g->bitmap.buffer, bytes);
    }
    out->index = out == scratch ? 0 : gi;
    return out;
}

static int layout(pl_font *font, const char *utf8, pl_image *img, int x, int y, uint32_t rgb)
{
    FT_Face face = font->face;
    int kern = FT_HAS_KERNING(face);
    uint8_t col[4];
    if (img) pl_img_colour(rgb, img->c, col);
    long pen = 0; /* 26.6 fixed point */
    int right = 0;
    FT_UInt prev = 0;
    cached_glyph scratch = {0};
    const char *s = utf8;
    uint32_t cp;
    while ((cp = utf8_next(&s)) != 0) {
        FT_UInt gi = FT_Get_Char_Index(face, cp);
        if (kern && prev && gi) {
            FT_Vector k;
            if (!FT_Get_Kerning(face, prev, gi, FT_KERNING_DEFAULT, &k)) pen += k.x;
        }
        const cached_glyph *g = load_glyph(font, gi, &scratch);
        if (!g) {
            right = -1;
            break;
        }
        int gx = (int)((pen + 32) >> 6);
        if (img && g->bitmap.buffer) blit(img, &g->bitmap, x + gx + g->left, y + font->ascent - g->top, col);
        int edge = gx + (int)((g->extent + 63) >> 6);
        pen += g->advance;
        if (edge > right) right = edge;
        prev = gi;
    }
    free(scratch.bitmap.buffer);
    if (right < 0) return -1;
    int adv = (int)((pen + 63) >> 6);
    return adv > right ? adv : right;
}

pl_status pl_image_draw_text(pl_image *img, pl_font *font, int x, int y, const char *utf8,
                             uint32_t rgb, pl_error *err)
{
    if (!img || !img->px || !font || !utf8) return pl_fail(err, PL_ERR_ARG, "draw_text: no image, font or text");
    if (layout(font, utf8, img, x, y, rgb) < 0)
        return pl_fail(err, PL_ERR_INTERNAL, "draw_text: FreeType cannot render a glyph of \"%.200s\"", utf8);
    return PL_OK;
}

pl_status pl_image_draw_label(pl_image *img, pl_font *font, int bx, int by, int bw, int bh,
                              const char *utf8, uint32_t fg, uint32_t bg, pl_error *err)
{
    (void)bh;
    if (!img || !img->px) return pl_fail(err, PL_ERR_ARG, "draw_label: no image");
    pl_text_size ts;
    pl_status st = pl_font_measure(font, utf8, &ts, err);
    if (st) return st;
    int m = ts.h / 6 + 2; /* margin around the text */
    int lw = ts.w + 2 * m, lh = ts.h + 2 * m;
    int lx = bx, ly = by - lh;
    if (ly < 0) ly = by; /* no room above: inside the box's top edge */
    if (lx + lw > img->w) lx = img->w - lw;
    if (lx < 0) lx = 0;
    if (ly + lh > img->h) ly = img->h - lh;
    if (ly < 0) ly = 0;
    (void)bw;
    pl_image_fill_rect(img, lx, ly, lw, lh, bg);
    return pl_image_draw_text(img, font, lx + m, ly + m, utf8, fg, err);
}
