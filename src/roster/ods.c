/* ods.c — OpenDocument spreadsheets (.ods, LibreOffice's own format):
 * content.xml's tables, rows and cells with their repeat counts, text
 * paragraphs (<text:s/> spaces, <text:line-break/>), <text:a> links and
 * HYPERLINK() formulas. Repeats are expanded only for cells that hold
 * something, so "1048576 empty rows" costs nothing. */
#include <expat.h>
#include <stdlib.h>
#include <string.h>

#include "roster/roster.h"

typedef struct ods {
    pl_book *b;
    pl_sheet *sh;
    pl_error *err;
    pl_status st;
    int row, col;            /* 1-based: next row / current column */
    int row_repeat, col_repeat;
    int in_cell, in_p, n_p;
    char *text, *link, *formula;
    size_t text_n;
} ods;

static const char *local(const char *name)
{
    const char *bar = strrchr(name, '|');
    return bar ? bar + 1 : name;
}
static const char *attr(const char **atts, const char *name)
{
    for (int i = 0; atts[i]; i += 2)
        if (!strcmp(local(atts[i]), name)) return atts[i + 1];
    return NULL;
}
static int repeat(const char **atts, const char *name)
{
    const char *v = attr(atts, name);
    long n = v ? strtol(v, NULL, 10) : 1;
    return n < 1 ? 1 : n > 1048576 ? 1048576 : (int)n;
}

static void add_text(ods *o, const char *s, size_t n)
{
    if (!o->in_p || o->text_n + n > PL_ROSTER_MAX_CELL) return;
    char *t = realloc(o->text, o->text_n + n + 1);
    if (!t) { o->st = pl_fail(o->err, PL_ERR_NOMEM, "out of memory"); return; }
    memcpy(t + o->text_n, s, n);
    o->text = t;
    o->text_n += n;
    t[o->text_n] = 0;
}

static void ods_start(void *ud, const char *name, const char **atts)
{
    ods *o = ud;
    if (o->st) return;
    const char *l = local(name);
    if (!strcmp(l, "table")) {
        if (o->b->n_sheets >= PL_ROSTER_MAX_SHEETS) { o->sh = NULL; return; }
        pl_sheet *v = realloc(o->b->sheets, (size_t)(o->b->n_sheets + 1) * sizeof *v);
        if (!v) { o->st = pl_fail(o->err, PL_ERR_NOMEM, "out of memory"); return; }
        o->b->sheets = v;
        o->sh = &v[o->b->n_sheets++];
        memset(o->sh, 0, sizeof *o->sh);
        const char *n = attr(atts, "name");
        o->sh->name = strdup(n ? n : "");
        o->row = 1;
    } else if (!strcmp(l, "table-row")) {
        o->row_repeat = repeat(atts, "number-rows-repeated");
        o->col = 1;
    } else if (!strcmp(l, "table-cell") || !strcmp(l, "covered-table-cell")) {
        o->in_cell = 1;
        o->n_p = 0;
        o->col_repeat = repeat(atts, "number-columns-repeated");
        const char *f = attr(atts, "formula");
        o->formula = f ? strdup(f) : NULL;
        /* Merged cells: the columns a cell spans are covered cells after it. */
    } else if (o->in_cell && !strcmp(l, "p")) {
        if (o->n_p++) { o->in_p = 1; add_text(o, "\n", 1); }
        o->in_p = 1;
    } else if (o->in_p && !strcmp(l, "s")) {
        int n = repeat(atts, "c");
        for (int i = 0; i < n && i < 64; i++) add_text(o, " ", 1);
    } else if (o->in_p && !strcmp(l, "line-break")) add_text(o, "\n", 1);
    else if (o->in_cell && !strcmp(l, "a")) {
        const char *href = attr(atts, "href");
        if (href && !o->link) o->link = strdup(href);
    }
}

static void end_cell(ods *o)
{
    char *link = o->link ? o->link : pl_formula_hyperlink(o->formula);
    o->link = NULL;
    free(o->formula);
    o->formula = NULL;
    char *text = o->text;
    o->text = NULL;
    o->text_n = 0;
    int n = o->col_repeat;
    if (o->sh && (text || link) && o->row <= 1048576) {
        /* A repeated non-empty cell is rare (a filled column); cap it. */
        for (int i = 0; i < n && o->col + i <= PL_ROSTER_MAX_COLS && !o->st; i++) {
            char *t = text ? strdup(text) : NULL, *k = link ? strdup(link) : NULL;
            o->st = pl_sheet_set(o->sh, o->row, o->col + i, t, k, o->err);
        }
    }
    free(text);
    free(link);
    o->col = o->col + n > PL_ROSTER_MAX_COLS + 1 ? PL_ROSTER_MAX_COLS + 1 : o->col + n;
}

static void ods_end(void *ud, const char *name)
{
    ods *o = ud;
    if (o->st) return;
    const char *l = local(name);
    if (!strcmp(l, "p")) o->in_p = 0;
    else if (!strcmp(l, "table-cell") || !strcmp(l, "covered-table-cell")) {
        o->in_cell = 0;
        end_cell(o);
    } else if (!strcmp(l, "table-row")) {
        /* Only empty rows repeat in practice; a repeated filled row is
         * stored once, which is all a class list needs. */
        o->row += o->row_repeat;
        if (o->row > 1048577) o->row = 1048577;
    }
}

static void ods_text(void *ud, const char *s, int len)
{
    ods *o = ud;
    if (!o->st) add_text(o, s, (size_t)len);
}

pl_status pl_ods_read_mem(const uint8_t *data, size_t len, const char *name,
                          size_t max_part, pl_book *out, pl_error *err)
{
    memset(out, 0, sizeof *out);
    if (!max_part) max_part = PL_ROSTER_DEFAULT_MAX_BYTES;
    pl_zip *z;
    pl_status st = pl_zip_open_mem(data, len, name, &z, err);
    if (st) return st;
    char *xml;
    size_t n;
    st = pl_zip_read(z, "content.xml", max_part, &xml, &n, err);
    pl_zip_close(z);
    if (st) return st;
    ods o = {.b = out, .err = err};
    XML_Parser p = XML_ParserCreateNS("UTF-8", '|');
    if (!p) {
        free(xml);
        return pl_fail(err, PL_ERR_NOMEM, "%s: out of memory", name);
    }
    XML_SetUserData(p, &o);
    XML_SetElementHandler(p, ods_start, ods_end);
    XML_SetCharacterDataHandler(p, ods_text);
    if (n > (size_t)INT32_MAX || XML_Parse(p, xml, (int)n, 1) == XML_STATUS_ERROR)
        st = pl_fail(err, PL_ERR_FORMAT, "%s: content.xml: line %lu: %s", name,
                     (unsigned long)XML_GetCurrentLineNumber(p),
                     XML_ErrorString(XML_GetErrorCode(p)));
    else if (o.st)
        st = pl_error_prefix(err, "%s: content.xml: ", name);
    XML_ParserFree(p);
    free(xml);
    free(o.text);
    free(o.link);
    free(o.formula);
    if (st) pl_book_free(out);
    return st;
}
