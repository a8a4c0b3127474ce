/* svg.c — the report's plots, drawn as inline SVG text: lines (ROC),
 * overlaid histograms with threshold markers, grouped bars. SVG needs no
 * image library, scales in the browser, and keeps report.html one file. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/eval.h"

/* ---- the text buffer ------------------------------------------------------ */

static int reserve(pl_sbuf *b, size_t more)
{
    if (b->oom) return 0;
    if (b->len + more + 1 <= b->cap) return 1;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + more + 1) cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s) {
        b->oom = 1;
        return 0;
    }
    b->s = s;
    b->cap = cap;
    return 1;
}

void pl_sbuf_printf(pl_sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void pl_sbuf_puts(pl_sbuf *b, const char *s)
{
    size_t n = strlen(s);
    if (!reserve(b, n)) return;
    memcpy(b->s + b->len, s, n + 1);
    b->len += n;
}

void pl_sbuf_html(pl_sbuf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': pl_sbuf_puts(b, "&lt;"); break;
        case '>': pl_sbuf_puts(b, "&gt;"); break;
        case '&': pl_sbuf_puts(b, "&amp;"); break;
        case '"': pl_sbuf_puts(b, "&quot;"); break;
        default:
            if (reserve(b, 1)) {
                b->s[b->len++] = *s;
                b->s[b->len] = 0;
            }
        }
    }
}

void pl_sbuf_base64(pl_sbuf *b, const unsigned char *d, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (!reserve(b, (n + 2) / 3 * 4)) return;
    char *o = b->s + b->len;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)d[i] << 16 | (i + 1 < n ? (unsigned)d[i + 1] << 8 : 0) | (i + 2 < n ? d[i + 2] : 0);
        *o++ = tab[v >> 18 & 63];
        *o++ = tab[v >> 12 & 63];
        *o++ = i + 1 < n ? tab[v >> 6 & 63] : '=';
        *o++ = i + 2 < n ? tab[v & 63] : '=';
    }
    *o = 0;
    b->len = (size_t)(o - b->s);
}

void pl_sbuf_free(pl_sbuf *b)
{
    free(b->s);
    memset(b, 0, sizeof *b);
}

/* ---- plot frame -------------------------------------------------------------- */

enum { W = 560, H = 360, L = 60, R = 150, T = 36, B = 50 };

typedef struct frame {
    double x0, x1, y0, y1;
    int log_x;
} frame;

static double px(const frame *f, double x)
{
    if (f->log_x) x = log10(x < f->x0 ? f->x0 : x), x = (x - log10(f->x0)) / (log10(f->x1) - log10(f->x0));
    else x = (x - f->x0) / (f->x1 - f->x0);
    return L + x * (W - L - R);
}

static double py(const frame *f, double y) { return H - B - (y - f->y0) / (f->y1 - f->y0) * (H - T - B); }

static void open_plot(pl_sbuf *b, const char *title, const char *xl, const char *yl)
{
    pl_sbuf_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" width=\"%d\" height=\"%d\" "
                      "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n", W, H, W, H);
    pl_sbuf_printf(b, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", W, H);
    pl_sbuf_printf(b, "<text x=\"%d\" y=\"20\" font-size=\"14\" font-weight=\"bold\">", L);
    pl_sbuf_html(b, title);
    pl_sbuf_printf(b, "</text>\n<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">", (L + W - R) / 2, H - 10);
    pl_sbuf_html(b, xl);
    pl_sbuf_printf(b, "</text>\n<text transform=\"translate(16 %d) rotate(-90)\" text-anchor=\"middle\">", (T + H - B) / 2);
    pl_sbuf_html(b, yl);
    pl_sbuf_puts(b, "</text>\n");
}

static void axes(pl_sbuf *b, const frame *f, int y_ticks)
{
    pl_sbuf_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#333\"/>\n", L, T,
                   W - L - R, H - T - B);
    for (int i = 0; i <= y_ticks; i++) {
        double v = f->y0 + (f->y1 - f->y0) * i / y_ticks;
        pl_sbuf_printf(b, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                          "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.3g</text>\n",
                       L, W - R, py(f, v), py(f, v), L - 4, py(f, v) + 4, v);
    }
    if (f->log_x) {
        for (double x = f->x0; x <= f->x1 * 1.0001; x *= 10)
            pl_sbuf_printf(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#ddd\"/>"
                              "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>\n",
                           px(f, x), px(f, x), T, H - B, px(f, x), H - B + 16, x);
    } else {
        for (int i = 0; i <= 6; i++) {
            double x = f->x0 + (f->x1 - f->x0) * i / 6;
            pl_sbuf_printf(b, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.2f</text>\n", px(f, x), H - B + 16, x);
        }
    }
}

static void legend(pl_sbuf *b, int i, const char *name, const char *color)
{
    int y = T + 10 + i * 18;
    pl_sbuf_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"10\" fill=\"%s\"/><text x=\"%d\" y=\"%d\">",
                   W - R + 10, y - 9, color, W - R + 28, y);
    pl_sbuf_html(b, name);
    pl_sbuf_puts(b, "</text>\n");
}

void pl_svg_lines(pl_sbuf *b, const char *title, const char *x_label, const char *y_label,
                  const pl_svg_series *s, int n_series, int log_x, double x_min, double x_max,
                  double y_min, double y_max)
{
    frame f = {x_min, x_max, y_min, y_max, log_x};
    open_plot(b, title, x_label, y_label);
    axes(b, &f, 5);
    for (int k = 0; k < n_series; k++) {
        pl_sbuf_printf(b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", s[k].color);
        for (int i = 0; i < s[k].n; i++) {
            double x = s[k].x[i];
            if (x > x_max) x = x_max;
            pl_sbuf_printf(b, "%.1f,%.1f ", px(&f, x), py(&f, s[k].y[i]));
        }
        pl_sbuf_puts(b, "\"/>\n");
        legend(b, k, s[k].name, s[k].color);
    }
    pl_sbuf_puts(b, "</svg>\n");
}

static void bin_counts(const float *v, int n, double lo, double hi, int n_bins, double *out)
{
    for (int i = 0; i < n_bins; i++) out[i] = 0;
    for (int i = 0; i < n; i++) {
        int k = (int)floor((v[i] - lo) / (hi - lo) * n_bins);
        out[k < 0 ? 0 : k >= n_bins ? n_bins - 1 : k] += 1.0 / n;
    }
}

void pl_svg_histograms(pl_sbuf *b, const char *title, const float *a, int na, const char *a_name,
                       const float *bv, int nb, const char *b_name, double lo, double hi,
                       int n_bins, const pl_svg_marker *m, int n_markers)
{
    double *ha = calloc((size_t)n_bins, sizeof *ha), *hb = calloc((size_t)n_bins, sizeof *hb);
    if (!ha || !hb) {
        free(ha);
        free(hb);
        b->oom = 1;
        return;
    }
    bin_counts(a, na, lo, hi, n_bins, ha);
    bin_counts(bv, nb, lo, hi, n_bins, hb);
    double top = 0;
    for (int i = 0; i < n_bins; i++) top = fmax(top, fmax(ha[i], hb[i]));
    frame f = {lo, hi, 0, top > 0 ? top * 1.1 : 1, 0};
    open_plot(b, title, "cosine similarity", "fraction of pairs");
    axes(b, &f, 4);
    const double *h[2] = {hb, ha};
    const char *col[2] = {"#d62728", "#1f77b4"};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < n_bins; i++) {
            if (h[k][i] <= 0) continue;
            double x0 = px(&f, lo + (hi - lo) * i / n_bins), x1 = px(&f, lo + (hi - lo) * (i + 1) / n_bins);
            pl_sbuf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" fill-opacity=\"0.55\"/>\n",
                           x0, py(&f, h[k][i]), x1 - x0, py(&f, 0) - py(&f, h[k][i]), col[k]);
        }
    legend(b, 0, a_name, col[1]);
    legend(b, 1, b_name, col[0]);
    for (int i = 0; i < n_markers; i++) {
        double x = px(&f, m[i].x);
        pl_sbuf_printf(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\" stroke-dasharray=\"5,3\"/>\n",
                       x, x, T, H - B, m[i].color);
        legend(b, 2 + i, m[i].label, m[i].color);
    }
    pl_sbuf_puts(b, "</svg>\n");
    free(ha);
    free(hb);
}

void pl_svg_bars(pl_sbuf *b, const char *title, const char *const *groups, int n_groups,
                 const char *const *series, const char *const *colors, int n_series,
                 const double *values, double y_max)
{
    frame f = {0, 1, 0, y_max, 0};
    open_plot(b, title, "", "");
    pl_sbuf_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#333\"/>\n", L, T,
                   W - L - R, H - T - B);
    for (int i = 0; i <= 5; i++) {
        double v = y_max * i / 5;
        pl_sbuf_printf(b, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                          "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.2g</text>\n",
                       L, W - R, py(&f, v), py(&f, v), L - 4, py(&f, v) + 4, v);
    }
    double gw = (double)(W - L - R) / (n_groups ? n_groups : 1), bw = gw * 0.8 / (n_series ? n_series : 1);
    for (int g = 0; g < n_groups; g++) {
        for (int s = 0; s < n_series; s++) {
            double v = values[g * n_series + s];
            if (!(v >= 0)) v = 0;
            if (v > y_max) v = y_max;
            pl_sbuf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>%.3f</title></rect>\n",
                           L + g * gw + gw * 0.1 + s * bw, py(&f, v), bw, py(&f, 0) - py(&f, v), colors[s], v);
        }
        pl_sbuf_printf(b, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", L + g * gw + gw / 2, H - B + 16);
        pl_sbuf_html(b, groups[g]);
        pl_sbuf_puts(b, "</text>\n");
    }
    for (int s = 0; s < n_series; s++) legend(b, s, series[s], colors[s]);
    pl_sbuf_puts(b, "</svg>\n");
}
