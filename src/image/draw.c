/* draw.c — rectangles (outlined, filled, blended) clipped to the image:
 * what annotated class photos and contact sheets are made of. */
#include "image/image_internal.h"

#include <string.h>

/* The rectangle clipped to the image; 0 if nothing is left. */
static int clip(const pl_image *img, int *x, int *y, int *w, int *h)
{
    if (!img || !img->px || *w <= 0 || *h <= 0) return 0;
    long long x0 = *x, y0 = *y, x1 = (long long)*x + *w, y1 = (long long)*y + *h;
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > img->w) x1 = img->w;
    if (y1 > img->h) y1 = img->h;
    if (x1 <= x0 || y1 <= y0) return 0;
    *x = (int)x0;
    *y = (int)y0;
    *w = (int)(x1 - x0);
    *h = (int)(y1 - y0);
    return 1;
}

void pl_image_blend_rect(pl_image *img, int x, int y, int w, int h, uint32_t rgb, int alpha)
{
    if (!clip(img, &x, &y, &w, &h)) return;
    if (alpha <= 0) return;
    if (alpha > 255) alpha = 255;
    uint8_t col[4];
    pl_img_colour(rgb, img->c, col);
    int c = img->c, a = alpha;
    for (int r = y; r < y + h; r++) {
        uint8_t *p = img->px + ((size_t)r * img->w + x) * c;
        if (a == 255) {
            pl_img_fill_pixels(p, (size_t)w, c, col);
            continue;
        }
        for (int q = 0; q < w; q++, p += c) {
            int nc = c == 4 ? 3 : c; /* alpha channel stays */
            for (int k = 0; k < nc; k++) p[k] = (uint8_t)((col[k] * a + p[k] * (255 - a) + 127) / 255);
        }
    }
}

void pl_image_fill_rect(pl_image *img, int x, int y, int w, int h, uint32_t rgb)
{
    pl_image_blend_rect(img, x, y, w, h, rgb, 255);
}

/* The outline grows inward from (x, y, w, h), so a box drawn on a face
 * never covers pixels outside the detection. */
void pl_image_draw_rect(pl_image *img, int x, int y, int w, int h, int thickness, uint32_t rgb)
{
    if (w <= 0 || h <= 0) return;
    int t = thickness < 1 ? 1 : thickness;
    if (2 * t >= w || 2 * t >= h) {
        pl_image_fill_rect(img, x, y, w, h, rgb);
        return;
    }
    pl_image_fill_rect(img, x, y, w, t, rgb);             /* top */
    pl_image_fill_rect(img, x, y + h - t, w, t, rgb);     /* bottom */
    pl_image_fill_rect(img, x, y + t, t, h - 2 * t, rgb); /* left */
    pl_image_fill_rect(img, x + w - t, y + t, t, h - 2 * t, rgb); /* right */
}
