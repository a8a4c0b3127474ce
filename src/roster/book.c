/* book.c — the grid every reader fills: sheets of rows of cells, with the
 * caps that keep a hostile file from growing it without bound. */
#include <stdlib.h>
#include <string.h>

#include "roster/roster.h"

static void row_free(pl_trow *r)
{
    for (int i = 0; i < r->n; i++) {
        free(r->cells[i].text);
        free(r->cells[i].link);
    }
    free(r->cells);
}

void pl_book_free(pl_book *b)
{
    if (!b) return;
    for (int s = 0; s < b->n_sheets; s++) {
        pl_sheet *sh = &b->sheets[s];
        for (int i = 0; i < sh->n_rows; i++) row_free(&sh->rows[i]);
        free(sh->rows);
        free(sh->merges);
        free(sh->name);
    }
    free(b->sheets);
    b->sheets = NULL;
    b->n_sheets = 0;
}

/* The row numbered `row`, appended if it is past the last one. */
static pl_trow *row_for(pl_sheet *s, int row, pl_error *err)
{
    if (s->n_rows && s->rows[s->n_rows - 1].row == row) return &s->rows[s->n_rows - 1];
    if (s->n_rows && s->rows[s->n_rows - 1].row > row) {
        pl_fail(err, PL_ERR_FORMAT, "row %d comes after row %d", row,
                s->rows[s->n_rows - 1].row);
        return NULL;
    }
    if (s->n_rows >= PL_ROSTER_MAX_ROWS) {
        pl_fail(err, PL_ERR_NOMEM, "more than %d rows", PL_ROSTER_MAX_ROWS);
        return NULL;
    }
    if (s->n_rows == s->cap_rows) {
        int cap = s->cap_rows ? s->cap_rows * 2 : 64;
        pl_trow *r = realloc(s->rows, (size_t)cap * sizeof *r);
        if (!r) {
            pl_fail(err, PL_ERR_NOMEM, "out of memory for %d rows", cap);
            return NULL;
        }
        s->rows = r;
        s->cap_rows = cap;
    }
    pl_trow *r = &s->rows[s->n_rows++];
    memset(r, 0, sizeof *r);
    r->row = row;
    return r;
}

pl_status pl_sheet_set(pl_sheet *s, int row, int col, char *text, char *link,
                       pl_error *err)
{
    pl_status st = PL_OK;
    if (row < 1 || row > 1048576 || col < 1 || col > PL_ROSTER_MAX_COLS) {
        st = pl_fail(err, PL_ERR_FORMAT, "cell (row %d, column %d) is out of range", row, col);
        goto fail;
    }
    pl_trow *r = row_for(s, row, err);
    if (!r) {
        st = err ? err->code : PL_ERR_FORMAT;
        goto fail;
    }
    if (col > r->n) {
        pl_cell *c = realloc(r->cells, (size_t)col * sizeof *c);
        if (!c) {
            st = pl_fail(err, PL_ERR_NOMEM, "out of memory for %d columns", col);
            goto fail;
        }
        memset(c + r->n, 0, (size_t)(col - r->n) * sizeof *c);
        r->cells = c;
        r->n = col;
    }
    pl_cell *c = &r->cells[col - 1];
    free(c->text);
    free(c->link);
    c->text = text;
    c->link = link;
    return PL_OK;
fail:
    free(text);
    free(link);
    return st;
}

const pl_cell *pl_sheet_cell(const pl_sheet *s, int row_index, int col)
{
    if (row_index < 0 || row_index >= s->n_rows) return NULL;
    const pl_trow *r = &s->rows[row_index];
    if (col < 1 || col > r->n) return NULL;
    return &r->cells[col - 1];
}

static int is_zip(const uint8_t *d, size_t n)
{
    return n >= 4 && d[0] == 'P' && d[1] == 'K' && d[2] == 3 && d[3] == 4;
}

pl_status pl_book_read_mem(const uint8_t *data, size_t len, const char *name,
                           size_t max_part, pl_book *out, pl_error *err)
{
    memset(out, 0, sizeof *out);
    if (!is_zip(data, len)) {
        /* Old binary .xls (OLE2) is a common mistake: say so clearly. */
        if (len >= 8 && !memcmp(data, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8))
            return pl_fail(err, PL_ERR_UNSUPPORTED,
                           "%s: old Excel 97-2003 (.xls) file; save it as .xlsx or .csv", name);
        return pl_csv_read_mem(data, len, name, out, err);
    }
    pl_zip *z;
    pl_status st = pl_zip_open_mem(data, len, name, &z, err);
    if (st) return st;
    int xlsx = pl_zip_has(z, "xl/workbook.xml"), ods = pl_zip_has(z, "content.xml");
    pl_zip_close(z);
    if (xlsx) return pl_xlsx_read_mem(data, len, name, max_part, out, err);
    if (ods) return pl_ods_read_mem(data, len, name, max_part, out, err);
    return pl_fail(err, PL_ERR_FORMAT,
                   "%s: a zip file, but neither .xlsx (no xl/workbook.xml) nor .ods (no content.xml)",
                   name);
}
