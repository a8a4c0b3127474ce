/* hungarian.c — the assignment problem (Kuhn-Munkres with potentials).
 *
 * The shortest-augmenting-path form: rows are added one at a time; for each
 * a Dijkstra-like sweep over the columns, with dual potentials u (rows) and
 * v (columns) keeping reduced costs non-negative, finds the cheapest way to
 * fit it in. O(rows^2 * cols), rows <= cols; a taller matrix is transposed.
 */
#include <float.h>
#include <stdlib.h>

#include "match/match.h"

/* Minimise the cost of a[r][c] (r < rows <= cols) over matchings that cover
 * every row. Arrays are 1-based inside, as in the textbook: index 0 is the
 * virtual "not yet placed" column. col_of_row gets rows entries. */
static pl_status solve_min(const double *a, int rows, int cols, int *col_of_row,
                           pl_error *err)
{
    size_t nc = (size_t)cols + 1;
    double *u = calloc((size_t)rows + 1, sizeof *u);
    double *v = calloc(nc, sizeof *v), *minv = malloc(nc * sizeof *minv);
    int *p = calloc(nc, sizeof *p), *way = calloc(nc, sizeof *way);
    char *used = malloc(nc);
    if (!u || !v || !minv || !p || !way || !used) {
        free(u); free(v); free(minv); free(p); free(way); free(used);
        return pl_fail(err, PL_ERR_NOMEM, "assignment %dx%d: out of memory", rows, cols);
    }
    for (int i = 1; i <= rows; i++) {
        p[0] = i;
        int j0 = 0;
        for (int j = 0; j <= cols; j++) { minv[j] = DBL_MAX; used[j] = 0; }
        do { /* grow the alternating tree until it reaches a free column */
            used[j0] = 1;
            int i0 = p[j0], j1 = 0;
            double delta = DBL_MAX;
            for (int j = 1; j <= cols; j++) {
                if (used[j]) continue;
                double cur = a[(size_t)(i0 - 1) * (size_t)cols + (size_t)(j - 1)] - u[i0] - v[j];
                if (cur < minv[j]) { minv[j] = cur; way[j] = j0; }
                if (minv[j] < delta) { delta = minv[j]; j1 = j; } /* strict: lowest j wins ties */
            }
            for (int j = 0; j <= cols; j++) {
                if (used[j]) { u[p[j]] += delta; v[j] -= delta; }
                else minv[j] -= delta;
            }
            j0 = j1;
        } while (p[j0] != 0);
        do { /* flip the path */
            int j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
        } while (j0);
    }
    for (int r = 0; r < rows; r++) col_of_row[r] = -1;
    for (int j = 1; j <= cols; j++)
        if (p[j]) col_of_row[p[j] - 1] = j - 1;
    free(u); free(v); free(minv); free(p); free(way); free(used);
    return PL_OK;
}

pl_status pl_hungarian_max(const double *w, int m, int n, int *row_to_col,
                           pl_error *err)
{
    if (m < 0 || n < 0 || (m && n && (size_t)m * (size_t)n > (size_t)1 << 24))
        return pl_fail(err, PL_ERR_ARG, "assignment %dx%d: bad size", m, n);
    for (int i = 0; i < m; i++) row_to_col[i] = -1;
    if (m == 0 || n == 0) return PL_OK;
    int tall = m > n, rows = tall ? n : m, cols = tall ? m : n;
    double *cost = malloc((size_t)rows * (size_t)cols * sizeof *cost);
    int *col_of_row = malloc((size_t)rows * sizeof *col_of_row);
    if (!cost || !col_of_row) {
        free(cost); free(col_of_row);
        return pl_fail(err, PL_ERR_NOMEM, "assignment %dx%d: out of memory", m, n);
    }
    /* Maximising w is minimising -w; a tall matrix is solved transposed. */
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++)
            cost[(size_t)r * cols + c] = -(tall ? w[(size_t)c * n + r] : w[(size_t)r * n + c]);
    pl_status st = solve_min(cost, rows, cols, col_of_row, err);
    if (!st)
        for (int r = 0; r < rows; r++) {
            if (col_of_row[r] < 0) continue;
            if (tall) row_to_col[col_of_row[r]] = r;
            else row_to_col[r] = col_of_row[r];
        }
    free(cost);
    free(col_of_row);
    return st;
}
