/* xlsx.c — Office Open XML spreadsheets (.xlsx as Excel, LibreOffice and
 * Google Sheets write them): the workbook's sheet list and relationships,
 * shared strings (rich runs joined, phonetic runs skipped), inline strings,
 * formula results, HYPERLINK() formulas, hyperlink objects (through the
 * sheet's relationships) and merged ranges. XML is parsed with expat, one
 * zip member at a time, each capped by the caller's max_part. */
#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "roster/roster.h"

#define MAX_SHARED 2000000

/* ---- small helpers ------------------------------------------------------ */

typedef struct sbuf { char *p; size_t n, cap; int overflow; } sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
    if (b->n + n > PL_ROSTER_MAX_CELL) {
        b->overflow = 1;
        n = PL_ROSTER_MAX_CELL - b->n;
    }
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) { b->overflow = 1; return; }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}
static void sb_reset(sbuf *b) { b->n = 0; if (b->p) b->p[0] = 0; }
static char *sb_dup(const sbuf *b) { return b->n ? strndup(b->p, b->n) : NULL; }

/* Local part of an expat namespaced name "uri|local". */
static const char *local(const char *name)
{
    const char *bar = strrchr(name, '|');
    return bar ? bar + 1 : name;
}
/* Attribute by local name; want_ns: 1 = must be namespaced (r:id),
 * 0 = must be plain (r, t), -1 = either. */
static const char *attr(const char **atts, const char *name, int want_ns)
{
    for (int i = 0; atts[i]; i += 2) {
        int ns = strchr(atts[i], '|') != NULL;
        if ((want_ns < 0 || ns == want_ns) && !strcmp(local(atts[i]), name)) return atts[i + 1];
    }
    return NULL;
}

/* "AB12" -> col 28, row 12. Returns 0 on anything else. */
static int parse_ref(const char *s, int *row, int *col)
{
    int c = 0, r = 0, i = 0;
    while (s[i] == '$') i++;
    for (; s[i] >= 'A' && s[i] <= 'Z'; i++) {
        c = c * 26 + (s[i] - 'A' + 1);
        if (c > 16384) return 0;
    }
    if (s[i] == '$') i++;
    int digits = 0;
    for (; s[i] >= '0' && s[i] <= '9'; i++, digits++) {
        r = r * 10 + (s[i] - '0');
        if (r > 1048576) return 0;
    }
    if (!c || !digits || !r) return 0;
    *row = r;
    *col = c;
    return i;
}

static int parse_range(const char *s, pl_merge *m)
{
    int n = parse_ref(s, &m->r0, &m->c0);
    if (!n) return 0;
    if (s[n] == ':') {
        if (!parse_ref(s + n + 1, &m->r1, &m->c1)) return 0;
    } else {
        m->r1 = m->r0;
        m->c1 = m->c0;
    }
    if (m->r1 < m->r0 || m->c1 < m->c0) return 0;
    return 1;
}

/* The target of HYPERLINK("url", ...) (also ODS "of:=HYPERLINK(...;...)"),
 * malloc'd; NULL when the formula is not one or its target is not a
 * string literal. */
char *pl_formula_hyperlink(const char *f)
{
    if (!f) return NULL;
    const char *p = f;
    while (*p && strncasecmp(p, "HYPERLINK", 9) != 0) p++;
    if (!*p) return NULL;
    p += 9;
    while (*p == ' ') p++;
    if (*p++ != '(') return NULL;
    while (*p == ' ') p++;
    if (*p++ != '"') return NULL;
    sbuf b = {0};
    for (; *p; p++) {
        if (*p == '"') {
            if (p[1] != '"') break;
            p++;
        }
        sb_add(&b, p, 1);
    }
    if (*p != '"') {
        free(b.p);
        return NULL;
    }
    char *s = sb_dup(&b);
    free(b.p);
    return s;
}

/* Run expat over one whole buffer. */
static pl_status xml_parse(const char *zipname, const char *member, const char *xml, size_t len,
                           void *ud, XML_StartElementHandler start, XML_EndElementHandler end,
                           XML_CharacterDataHandler text, pl_error *err)
{
    XML_Parser p = XML_ParserCreateNS("UTF-8", '|');
    if (!p) return pl_fail(err, PL_ERR_NOMEM, "%s: out of memory", zipname);
    XML_SetUserData(p, ud);
    XML_SetElementHandler(p, start, end);
    if (text) XML_SetCharacterDataHandler(p, text);
    pl_status st = PL_OK;
    if (len > (size_t)INT32_MAX || XML_Parse(p, xml, (int)len, 1) == XML_STATUS_ERROR)
        st = pl_fail(err, PL_ERR_FORMAT, "%s: %s: line %lu: %s", zipname, member,
                     (unsigned long)XML_GetCurrentLineNumber(p),
                     XML_ErrorString(XML_GetErrorCode(p)));
    XML_ParserFree(p);
    return st;
}

/* ---- relationships (.rels) ----------------------------------------------- */

typedef struct rel { char *id, *target; } rel;
typedef struct rels { rel *v; int n; int oom; } rels;

static void rels_start(void *ud, const char *name, const char **atts)
{
    rels *r = ud;
    if (strcmp(local(name), "Relationship") != 0 || r->n >= 100000) return;
    const char *id = attr(atts, "Id", -1), *target = attr(atts, "Target", -1);
    if (!id || !target) return;
    rel *v = realloc(r->v, (size_t)(r->n + 1) * sizeof *v);
    if (!v) { r->oom = 1; return; }
    r->v = v;
    r->v[r->n].id = strdup(id);
    r->v[r->n].target = strdup(target);
    r->n++;
}
static void rels_end(void *ud, const char *name) { (void)ud; (void)name; }

static void rels_free(rels *r)
{
    for (int i = 0; i < r->n; i++) free(r->v[i].id), free(r->v[i].target);
    free(r->v);
    memset(r, 0, sizeof *r);
}
static const char *rels_get(const rels *r, const char *id)
{
    for (int i = 0; id && i < r->n; i++)
        if (r->v[i].id && !strcmp(r->v[i].id, id)) return r->v[i].target;
    return NULL;
}

/* Absent .rels is fine (no hyperlinks); broken .rels is an error. */
static pl_status read_rels(pl_zip *z, const char *zipname, const char *member, size_t max,
                           rels *out, pl_error *err)
{
    memset(out, 0, sizeof *out);
    if (!pl_zip_has(z, member)) return PL_OK;
    char *xml;
    size_t len;
    pl_status st = pl_zip_read(z, member, max, &xml, &len, err);
    if (st) return st;
    st = xml_parse(zipname, member, xml, len, out, rels_start, rels_end, NULL, err);
    free(xml);
    if (!st && out->oom) st = pl_fail(err, PL_ERR_NOMEM, "%s: out of memory", zipname);
    if (st) rels_free(out);
    return st;
}

/* ---- workbook: sheet names and their parts -------------------------------- */

typedef struct wb_sheet { char *name, *rid; } wb_sheet;
typedef struct workbook { wb_sheet *v; int n; int oom; } workbook;

static void wb_start(void *ud, const char *name, const char **atts)
{
    workbook *w = ud;
    if (strcmp(local(name), "sheet") != 0 || w->n >= PL_ROSTER_MAX_SHEETS) return;
    wb_sheet *v = realloc(w->v, (size_t)(w->n + 1) * sizeof *v);
    if (!v) { w->oom = 1; return; }
    w->v = v;
    const char *n = attr(atts, "name", 0), *rid = attr(atts, "id", 1);
    w->v[w->n].name = strdup(n ? n : "");
    w->v[w->n].rid = rid ? strdup(rid) : NULL;
    w->n++;
}

/* ---- shared strings --------------------------------------------------------- */

typedef struct sst {
    char **v;
    int n, cap;
    int in_si, in_t, skip; /* skip: depth inside <rPh> (phonetic guide) */
    sbuf cur;
    int oom;
} sst;

static void sst_start(void *ud, const char *name, const char **atts)
{
    (void)atts;
    sst *s = ud;
    const char *l = local(name);
    if (!strcmp(l, "si")) { s->in_si = 1; sb_reset(&s->cur); }
    else if (!strcmp(l, "rPh")) s->skip++;
    else if (!strcmp(l, "t") && s->in_si && !s->skip) s->in_t = 1;
}
static void sst_end(void *ud, const char *name)
{
    sst *s = ud;
    const char *l = local(name);
    if (!strcmp(l, "t")) s->in_t = 0;
    else if (!strcmp(l, "rPh")) s->skip--;
    else if (!strcmp(l, "si") && s->in_si) {
        s->in_si = 0;
        if (s->n >= MAX_SHARED) { s->oom = 1; return; }
        if (s->n == s->cap) {
            int cap = s->cap ? s->cap * 2 : 256;
            char **v = realloc(s->v, (size_t)cap * sizeof *v);
            if (!v) { s->oom = 1; return; }
            s->v = v;
            s->cap = cap;
        }
        s->v[s->n++] = strdup(s->cur.n ? s->cur.p : "");
    }
}
static void sst_text(void *ud, const char *t, int len)
{
    sst *s = ud;
    if (s->in_t) sb_add(&s->cur, t, (size_t)len);
}
static void sst_free(sst *s)
{
    for (int i = 0; i < s->n; i++) free(s->v[i]);
    free(s->v);
    free(s->cur.p);
}

/* ---- one worksheet ------------------------------------------------------------ */

typedef struct link_ref { pl_merge at; char *rid, *target; } link_ref;

typedef struct wsheet {
    pl_sheet *sh;
    const sst *strings;
    pl_error *err;
    pl_status st;
    int row, col;          /* current row, last column seen in it */
    int in_cell, in_v, in_f, in_is_t;
    char type[16];
    sbuf v, f, is;
    link_ref *links;
    int n_links;
} wsheet;

static void ws_fail(wsheet *w, pl_status st)
{
    if (!w->st) w->st = st;
}

static void ws_start(void *ud, const char *name, const char **atts)
{
    wsheet *w = ud;
    if (w->st) return;
    const char *l = local(name);
    if (!strcmp(l, "row")) {
        const char *r = attr(atts, "r", 0);
        int n = r ? atoi(r) : w->row + 1;
        w->row = n > w->row ? n : w->row + 1;
        w->col = 0;
    } else if (!strcmp(l, "c")) {
        const char *r = attr(atts, "r", 0), *t = attr(atts, "t", 0);
        int row = w->row ? w->row : 1, col = w->col + 1;
        if (r && !parse_ref(r, &row, &col)) {
            ws_fail(w, pl_fail(w->err, PL_ERR_FORMAT, "bad cell reference \"%.20s\"", r));
            return;
        }
        if (row != w->row) w->row = row; /* a cell may name its own row */
        w->col = col;
        w->in_cell = 1;
        snprintf(w->type, sizeof w->type, "%s", t ? t : "n");
        sb_reset(&w->v);
        sb_reset(&w->f);
        sb_reset(&w->is);
    } else if (w->in_cell && !strcmp(l, "v")) w->in_v = 1;
    else if (w->in_cell && !strcmp(l, "f")) w->in_f = 1;
    else if (w->in_cell && !strcmp(l, "t")) w->in_is_t = 1;
    else if (w->in_cell && !strcmp(l, "rPh")) w->in_is_t = -100; /* skip phonetic runs */
    else if (!strcmp(l, "hyperlink") && w->n_links < 100000) {
        const char *ref = attr(atts, "ref", 0), *rid = attr(atts, "id", 1);
        pl_merge m;
        if (!ref || !parse_range(ref, &m)) return;
        link_ref *v = realloc(w->links, (size_t)(w->n_links + 1) * sizeof *v);
        if (!v) { ws_fail(w, pl_fail(w->err, PL_ERR_NOMEM, "out of memory")); return; }
        w->links = v;
        w->links[w->n_links++] = (link_ref){m, rid ? strdup(rid) : NULL, NULL};
    } else if (!strcmp(l, "mergeCell") && w->sh->n_merges < 100000) {
        const char *ref = attr(atts, "ref", 0);
        pl_merge m;
        if (!ref || !parse_range(ref, &m)) return;
        pl_merge *v = realloc(w->sh->merges, (size_t)(w->sh->n_merges + 1) * sizeof *v);
        if (!v) { ws_fail(w, pl_fail(w->err, PL_ERR_NOMEM, "out of memory")); return; }
        w->sh->merges = v;
        w->sh->merges[w->sh->n_merges++] = m;
    }
}

static char *cell_text(wsheet *w)
{
    const char *t = w->type;
    if (!strcmp(t, "s")) {
        char *end;
        long i = w->v.n ? strtol(w->v.p, &end, 10) : -1;
        if (i < 0 || i >= w->strings->n) return NULL;
        return strdup(w->strings->v[i]);
    }
    if (!strcmp(t, "inlineStr")) return sb_dup(&w->is);
    if (!strcmp(t, "b")) return strdup(w->v.n && w->v.p[0] == '1' ? "TRUE" : "FALSE");
    return sb_dup(&w->v); /* n, str, e, d: the text as stored */
}

static void ws_end(void *ud, const char *name)
{
    wsheet *w = ud;
    if (w->st) return;
    const char *l = local(name);
    if (!strcmp(l, "v")) w->in_v = 0;
    else if (!strcmp(l, "f")) w->in_f = 0;
    else if (!strcmp(l, "t") && w->in_is_t > 0) w->in_is_t = 0;
    else if (!strcmp(l, "rPh")) w->in_is_t = 0;
    else if (!strcmp(l, "c") && w->in_cell) {
        w->in_cell = 0;
        char *text = cell_text(w);
        char *link = w->f.n ? pl_formula_hyperlink(w->f.p) : NULL;
        if (!text && !link) return;
        pl_status st = pl_sheet_set(w->sh, w->row, w->col, text, link, w->err);
        if (st) ws_fail(w, st);
    }
}

static void ws_text(void *ud, const char *t, int len)
{
    wsheet *w = ud;
    if (w->in_v) sb_add(&w->v, t, (size_t)len);
    else if (w->in_f) sb_add(&w->f, t, (size_t)len);
    else if (w->in_is_t > 0) sb_add(&w->is, t, (size_t)len);
}

/* Attach each hyperlink object to the cells of its range that exist. Rows
 * are sorted, so each range starts with a binary search; the total work is
 * capped so that a file with thousands of sheet-wide ranges stays cheap. */
static pl_status apply_links(wsheet *w, const rels *r)
{
    long budget = 4000000;
    for (int i = 0; i < w->n_links && budget > 0; i++) {
        const char *target = rels_get(r, w->links[i].rid);
        if (!target) continue; /* an internal link (location=), not a URL */
        pl_merge m = w->links[i].at;
        int lo = 0, hi = w->sh->n_rows;
        while (lo < hi) {
            int mid = lo + (hi - lo) / 2;
            if (w->sh->rows[mid].row < m.r0) lo = mid + 1;
            else hi = mid;
        }
        for (int ri = lo; ri < w->sh->n_rows && w->sh->rows[ri].row <= m.r1 && budget > 0; ri++) {
            pl_trow *row = &w->sh->rows[ri];
            for (int c = m.c0; c <= m.c1 && c <= row->n; c++, budget--) {
                pl_cell *cell = &row->cells[c - 1];
                if (!cell->text && !cell->link) continue;
                char *t = strdup(target);
                if (!t) return pl_fail(w->err, PL_ERR_NOMEM, "out of memory");
                free(cell->link);
                cell->link = t;
            }
        }
    }
    return PL_OK;
}

/* "worksheets/sheet1.xml" relative to xl/, or "/xl/worksheets/sheet1.xml". */
static void part_path(const char *base_dir, const char *target, char *out, size_t n)
{
    if (target[0] == '/') snprintf(out, n, "%s", target + 1);
    else snprintf(out, n, "%s%s", base_dir, target);
}

/* xl/worksheets/sheet1.xml -> xl/worksheets/_rels/sheet1.xml.rels */
static void rels_path(const char *part, char *out, size_t n)
{
    const char *slash = strrchr(part, '/');
    int dir = slash ? (int)(slash - part + 1) : 0;
    if (dir > 400) dir = 400;
    snprintf(out, n, "%.*s_rels/%.150s.rels", dir, part, part + dir);
}

static pl_status read_sheet(pl_zip *z, const char *zipname, const char *part, size_t max,
                            const sst *strings, pl_sheet *sh, pl_error *err)
{
    char *xml;
    size_t len;
    pl_status st = pl_zip_read(z, part, max, &xml, &len, err);
    if (st) return st;
    wsheet w = {.sh = sh, .strings = strings, .err = err};
    st = xml_parse(zipname, part, xml, len, &w, ws_start, ws_end, ws_text, err);
    free(xml);
    if (!st && w.st) st = pl_error_prefix(err, "%s: %s: ", zipname, part);
    if (!st && w.n_links) {
        char rp[600];
        rels r;
        rels_path(part, rp, sizeof rp);
        st = read_rels(z, zipname, rp, max, &r, err);
        if (!st) st = apply_links(&w, &r);
        rels_free(&r);
    }
    for (int i = 0; i < w.n_links; i++) free(w.links[i].rid);
    free(w.links);
    free(w.v.p);
    free(w.f.p);
    free(w.is.p);
    return st;
}

static pl_status read_strings(pl_zip *z, const char *zipname, size_t max, sst *s, pl_error *err)
{
    const char *member = "xl/sharedStrings.xml";
    if (!pl_zip_has(z, member)) return PL_OK;
    char *xml;
    size_t len;
    pl_status st = pl_zip_read(z, member, max, &xml, &len, err);
    if (st) return st;
    st = xml_parse(zipname, member, xml, len, s, sst_start, sst_end, sst_text, err);
    free(xml);
    if (!st && s->oom)
        st = pl_fail(err, PL_ERR_NOMEM, "%s: %s: too many strings", zipname, member);
    return st;
}

static pl_status read_workbook(pl_zip *z, const char *name, size_t max, workbook *wb,
                               rels *r, pl_error *err)
{
    char *xml;
    size_t len;
    pl_status st = pl_zip_read(z, "xl/workbook.xml", max, &xml, &len, err);
    if (st) return st;
    st = xml_parse(name, "xl/workbook.xml", xml, len, wb, wb_start, rels_end, NULL, err);
    free(xml);
    if (!st && wb->oom) st = pl_fail(err, PL_ERR_NOMEM, "%s: out of memory", name);
    if (!st) st = read_rels(z, name, "xl/_rels/workbook.xml.rels", max, r, err);
    if (!st && wb->n == 0) st = pl_fail(err, PL_ERR_FORMAT, "%s: the workbook lists no sheets", name);
    return st;
}

pl_status pl_xlsx_read_mem(const uint8_t *data, size_t len, const char *name,
                           size_t max_part, pl_book *out, pl_error *err)
{
    memset(out, 0, sizeof *out);
    if (!max_part) max_part = PL_ROSTER_DEFAULT_MAX_BYTES;
    pl_zip *z;
    pl_status st = pl_zip_open_mem(data, len, name, &z, err);
    if (st) return st;
    workbook wb = {0};
    rels r = {0};
    sst strings = {0};
    st = read_workbook(z, name, max_part, &wb, &r, err);
    if (!st) st = read_strings(z, name, max_part, &strings, err);
    if (!st && !(out->sheets = calloc((size_t)wb.n, sizeof *out->sheets)))
        st = pl_fail(err, PL_ERR_NOMEM, "%s: out of memory", name);
    for (int i = 0; !st && i < wb.n; i++) {
        char part[600], fallback[64];
        const char *target = rels_get(&r, wb.v[i].rid);
        snprintf(fallback, sizeof fallback, "worksheets/sheet%d.xml", i + 1);
        part_path("xl/", target ? target : fallback, part, sizeof part);
        pl_sheet *sh = &out->sheets[out->n_sheets++];
        sh->name = strdup(wb.v[i].name);
        if (!pl_zip_has(z, part)) continue; /* a chart sheet or a dangling entry */
        st = read_sheet(z, name, part, max_part, &strings, sh, err);
    }
    for (int i = 0; i < wb.n; i++) free(wb.v[i].name), free(wb.v[i].rid);
    free(wb.v);
    rels_free(&r);
    sst_free(&strings);
    pl_zip_close(z);
    if (st) pl_book_free(out);
    return st;
}
