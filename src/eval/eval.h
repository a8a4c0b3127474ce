/* eval.h — internals shared by the evaluation pieces: the roster
 * calibration rule (src/attend/calibrate.c) that `evaluate` also applies to
 * the identity photos, a growable text buffer, and the SVG plots
 * (src/eval/svg.c) that the HTML report (src/eval/report.c) inlines. The
 * public face is the "evaluation and calibration" section of
 * include/pasalista.h; the metric arithmetic is eval/metrics.h.
 */
#ifndef PL_EVAL_EVAL_H
#define PL_EVAL_EVAL_H

#include <stddef.h>

#include "pasalista.h"

/* The calibration rule on plain rows: n L2-normalised embeddings of dim
 * floats, label[i] in 0..n_labels-1 naming row i's student (names[label]).
 *   - genuine pairs: two rows of one student; impostor pairs: two students.
 *   - look-alikes: two students whose best cross score reaches the median
 *     genuine score, i.e. they resemble each other as much as a typical
 *     student resembles themself. No threshold separates them, so their
 *     pairs are listed, not used to set the threshold.
 *   - accept: the loosest threshold letting at most floor(target_far * n)
 *     of the remaining n impostor pairs through; review: the same at
 *     10 x target_far (never above accept).
 * Fills every field of out except model, old_* and applied. */
pl_status pl_calibrate_rows(const float *rows, const int *label, int n, int dim, int n_labels,
                            const char *const *names, double target_far, pl_calibration *out,
                            pl_error *err);

/* A growable string; a failed allocation sets oom and drops later text. */
typedef struct pl_sbuf {
    char *s;
    size_t len, cap;
    int oom;
} pl_sbuf;
void pl_sbuf_printf(pl_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pl_sbuf_puts(pl_sbuf *b, const char *s);
void pl_sbuf_html(pl_sbuf *b, const char *s);    /* escaped for HTML text */
void pl_sbuf_base64(pl_sbuf *b, const unsigned char *data, size_t len);
void pl_sbuf_free(pl_sbuf *b);

/* ---- SVG plots, written as inline <svg> elements ------------------------- */

typedef struct pl_svg_series {
    const char *name;
    const char *color;             /* CSS colour                             */
    const double *x, *y;
    int n;
} pl_svg_series;

/* Lines in a box; log_x plots x on a log10 axis from x_min. */
void pl_svg_lines(pl_sbuf *b, const char *title, const char *x_label, const char *y_label,
                  const pl_svg_series *s, int n_series, int log_x, double x_min, double x_max,
                  double y_min, double y_max);

typedef struct pl_svg_marker {
    double x;
    const char *label;
    const char *color;
} pl_svg_marker;

/* Two overlaid histograms (each normalised to its own total) of a and b
 * over [lo, hi) with n_bins bins, and vertical markers. */
void pl_svg_histograms(pl_sbuf *b, const char *title, const float *a, int na, const char *a_name,
                       const float *bv, int nb, const char *b_name, double lo, double hi,
                       int n_bins, const pl_svg_marker *m, int n_markers);

/* Grouped bars: values[g * n_series + s] in [0, y_max]. */
void pl_svg_bars(pl_sbuf *b, const char *title, const char *const *groups, int n_groups,
                 const char *const *series, const char *const *colors, int n_series,
                 const double *values, double y_max);

#endif
