/* table.c — from a grid of cells to students: find the header row and the
 * name / photo / id / email / gender columns (Spanish and English headers,
 * or what --name-col / --photo-col say), join first and last names, pick
 * the links out of the photo cells, skip empty rows. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "roster/roster.h"
#include "util/fs.h"

typedef enum kind { K_NONE, K_FULL, K_FIRST, K_LAST, K_PHOTO, K_ID, K_EMAIL, K_GENDER } kind;

/* Is `word` a whole word of the folded header h? */
static int has_word(const char *h, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = h; (p = strstr(p, word)); p++)
        if ((p == h || p[-1] == ' ') && (p[n] == 0 || p[n] == ' ')) return 1;
    return 0;
}
static int any_word(const char *h, const char *const *words)
{
    for (int i = 0; words[i]; i++)
        if (has_word(h, words[i])) return 1;
    return 0;
}
static int any_equal(const char *h, const char *const *words)
{
    for (int i = 0; words[i]; i++)
        if (!strcmp(h, words[i])) return 1;
    return 0;
}

/* Order matters: "Correo" before names, photo words before name phrases
 * ("Nombre para la foto" is a photo column). */
static kind classify(const char *raw)
{
    static const char *const email[] = {"correo", "email", "e mail", "mail", NULL};
    static const char *const photo[] = {"foto", "fotos", "fotografia", "fotografias", "photo",
                                        "photos", "picture", "imagen", "image", "enlace",
                                        "link", "url", "selfie", "retrato", NULL};
    static const char *const full[] = {"nombre completo", "nombres completos", "nombres y apellidos",
                                       "nombre y apellidos", "nombre y apellido",
                                       "apellidos y nombres", "apellido y nombre", "full name",
                                       "student name", "nombre del estudiante",
                                       "nombre del alumno", "nombre de la alumna",
                                       "nombre estudiante", "nombre alumno", NULL};
    static const char *const full_eq[] = {"alumno", "alumna", "estudiante", "student", "name",
                                          "nombre", "names", "nombre s", NULL};
    static const char *const first_eq[] = {"nombres", "first name", "given name", "given names",
                                           "primer nombre", "first", NULL};
    static const char *const last[] = {"apellido", "apellidos", "surname", "last name",
                                       "family name", "surnames", NULL};
    static const char *const id[] = {"codigo", "matricula", "carne", "carnet", "dni", "legajo",
                                     "rut", "cedula", "documento", "student id", "id",
                                     "id estudiante", "numero de estudiante", "student number",
                                     NULL};
    static const char *const gender[] = {"genero", "sexo", "gender", "sex", NULL};
    char h[256];
    pl_header_fold(raw, h, sizeof h);
    if (!h[0]) return K_NONE;
    if (any_word(h, email)) return K_EMAIL;
    if (any_word(h, photo)) return K_PHOTO;
    for (int i = 0; full[i]; i++)
        if (strstr(h, full[i])) return K_FULL;
    if (any_word(h, last)) return K_LAST;
    if (any_equal(h, first_eq)) return K_FIRST;
    if (any_equal(h, full_eq)) return K_FULL; /* may become FIRST if a last-name column exists */
    if (any_word(h, id)) return K_ID;
    if (any_word(h, gender)) return K_GENDER;
    return K_NONE;
}

typedef struct colmap {
    int full, first, last[4], n_last, photo[8], n_photo, id, email, gender;
} colmap;

/* Header text of (row_index, col) with horizontal merges spread over the
 * columns they cover (a "Fotos" title over two link columns). */
static const char *header_text(const pl_sheet *s, int ri, int col)
{
    const pl_cell *c = pl_sheet_cell(s, ri, col);
    if (c && c->text) return c->text;
    int row = s->rows[ri].row;
    for (int m = 0; m < s->n_merges; m++) {
        const pl_merge *g = &s->merges[m];
        if (g->r0 == row && g->c0 < col && col <= g->c1) {
            const pl_cell *tl = pl_sheet_cell(s, ri, g->c0);
            return tl ? tl->text : NULL;
        }
    }
    return NULL;
}

static int row_width(const pl_sheet *s, int ri)
{
    int n = s->rows[ri].n, row = s->rows[ri].row;
    for (int m = 0; m < s->n_merges; m++)
        if (s->merges[m].r0 == row && s->merges[m].c1 > n) n = s->merges[m].c1;
    return n > PL_ROSTER_MAX_COLS ? PL_ROSTER_MAX_COLS : n;
}

/* "B" -> 2, "AA" -> 27, "3" -> 3; 0 if it is neither. */
static int col_spec(const char *s)
{
    if (!s || !*s) return 0;
    int n = 0;
    if (isdigit((unsigned char)s[0])) {
        for (; isdigit((unsigned char)*s); s++) n = n * 10 + (*s - '0');
        return *s || n > PL_ROSTER_MAX_COLS ? 0 : n;
    }
    if (strlen(s) > 3) return 0;
    for (; *s; s++) {
        if (!isalpha((unsigned char)*s)) return 0;
        n = n * 26 + (toupper((unsigned char)*s) - 'A' + 1);
    }
    return n <= PL_ROSTER_MAX_COLS ? n : 0;
}

/* Column of the header equal to (or else containing) spec, folded. */
static int find_header(const pl_sheet *s, int ri, const char *spec)
{
    char want[256], h[256];
    pl_header_fold(spec, want, sizeof want);
    int w = row_width(s, ri), contains = 0;
    for (int c = 1; c <= w; c++) {
        pl_header_fold(header_text(s, ri, c), h, sizeof h);
        if (want[0] && !strcmp(h, want)) return c;
        if (want[0] && !contains && strstr(h, want)) contains = c;
    }
    return contains;
}

static void map_row(const pl_sheet *s, int ri, colmap *m)
{
    memset(m, 0, sizeof *m);
    int w = row_width(s, ri);
    for (int c = 1; c <= w; c++) {
        switch (classify(header_text(s, ri, c))) {
        case K_FULL: if (!m->full) m->full = c; break;
        case K_FIRST: if (!m->first) m->first = c; break;
        case K_LAST: if (m->n_last < 4) m->last[m->n_last++] = c; break;
        case K_PHOTO: if (m->n_photo < 8) m->photo[m->n_photo++] = c; break;
        case K_ID: if (!m->id) m->id = c; break;
        case K_EMAIL: if (!m->email) m->email = c; break;
        case K_GENDER: if (!m->gender) m->gender = c; break;
        case K_NONE: break;
        }
    }
    /* "Nombre" next to "Apellidos" is a first-name column. */
    if (m->full && !m->first && m->n_last) {
        char h[256];
        pl_header_fold(header_text(s, ri, m->full), h, sizeof h);
        if (!strcmp(h, "nombre") || !strcmp(h, "name") || !strcmp(h, "nombre s")) {
            m->first = m->full;
            m->full = 0;
        }
    }
    if (m->full) m->first = m->n_last = 0;
}

static int has_name(const colmap *m) { return m->full || m->first || m->n_last; }

/* Apply --name-col / --photo-col to the header row ri. */
static pl_status apply_options(const pl_sheet *s, int ri, const pl_roster_options *o, colmap *m,
                               const char *name, pl_error *err)
{
    if (o && o->name_col) {
        int c = col_spec(o->name_col);
        if (!c) c = find_header(s, ri, o->name_col);
        if (!c) return pl_fail(err, PL_ERR_NOTFOUND, "%s: no column \"%s\" for the names", name, o->name_col);
        m->full = c;
        m->first = m->n_last = 0;
    }
    if (o && o->photo_col) {
        int c = col_spec(o->photo_col);
        if (!c) c = find_header(s, ri, o->photo_col);
        if (!c) return pl_fail(err, PL_ERR_NOTFOUND, "%s: no column \"%s\" for the photos", name, o->photo_col);
        m->photo[0] = c;
        m->n_photo = 1;
    }
    return PL_OK;
}

/* Header row: among the first 20 rows, the first holding the header named
 * by --name-col / --photo-col, else the first with a name column; when the
 * columns are given as letters, the first row. -1 if none. */
static int find_header_row(const pl_sheet *s, const pl_roster_options *o, colmap *m)
{
    const char *nc = o ? o->name_col : NULL, *pc = o ? o->photo_col : NULL;
    int name_letter = col_spec(nc) > 0, photo_letter = col_spec(pc) > 0;
    for (int ri = 0; ri < s->n_rows && ri < 20; ri++) {
        map_row(s, ri, m);
        if (nc && !name_letter) {
            if (find_header(s, ri, nc)) return ri;
        } else if (pc && !photo_letter) {
            if (find_header(s, ri, pc)) return ri;
        } else if (name_letter || has_name(m))
            return ri;
    }
    return -1;
}

static char *cell_clean(const pl_sheet *s, int ri, int col)
{
    const pl_cell *c = col ? pl_sheet_cell(s, ri, col) : NULL;
    return pl_text_clean(c ? c->text : NULL);
}

static pl_status add_link(pl_roster_row *r, char *link, pl_error *err)
{
    for (int i = 0; i < r->n_links; i++)
        if (!strcmp(r->links[i], link)) {
            free(link);
            return PL_OK;
        }
    char **v = realloc(r->links, (size_t)(r->n_links + 1) * sizeof *v);
    if (!v) {
        free(link);
        return pl_fail(err, PL_ERR_NOMEM, "out of memory");
    }
    r->links = v;
    r->links[r->n_links++] = link;
    return PL_OK;
}

/* Links of one photo cell: the hyperlink target, the URLs in its text, or
 * (when there is no URL at all) the text itself, to be refused with a
 * reason later. */
static pl_status cell_links(const pl_cell *c, pl_roster_row *r, pl_error *err)
{
    if (!c) return PL_OK;
    pl_status st = PL_OK;
    if (c->link && *c->link) {
        char *l = pl_text_clean(c->link);
        if (!l) return pl_fail(err, PL_ERR_NOMEM, "out of memory");
        if (*l) st = add_link(r, l, err);
        else free(l);
    }
    char **found = NULL;
    int n = 0;
    if (!st) st = pl_links_split(c->text, &found, &n, err);
    for (int i = 0; i < n; i++) {
        if (!st) st = add_link(r, found[i], err);
        else free(found[i]);
    }
    free(found);
    if (!st && !n && !(c->link && *c->link)) {
        char *t = pl_text_clean(c->text);
        if (!t) return pl_fail(err, PL_ERR_NOMEM, "out of memory");
        if (*t) st = add_link(r, t, err);
        else free(t);
    }
    return st;
}

static char *join_name(const pl_sheet *s, int ri, const colmap *m)
{
    if (m->full) return cell_clean(s, ri, m->full);
    char buf[4096] = "";
    int cols[5], n = 0;
    if (m->first) cols[n++] = m->first;
    for (int i = 0; i < m->n_last; i++) cols[n++] = m->last[i];
    for (int i = 0; i < n; i++) {
        char *t = cell_clean(s, ri, cols[i]);
        if (!t) return NULL;
        if (*t) {
            size_t l = strlen(buf);
            snprintf(buf + l, sizeof buf - l, "%s%s", l ? " " : "", t);
        }
        free(t);
    }
    return pl_text_clean(buf);
}

static void row_free(pl_roster_row *r)
{
    free(r->name);
    for (int i = 0; i < r->n_links; i++) free(r->links[i]);
    free(r->links);
    free(r->student_id);
    free(r->email);
    free(r->gender);
}

void pl_roster_free(pl_roster *r)
{
    if (!r) return;
    for (int i = 0; i < r->n_rows; i++) row_free(&r->rows[i]);
    free(r->rows);
    memset(r, 0, sizeof *r);
}

static pl_status build_row(const pl_sheet *s, int ri, const colmap *m, pl_roster_row *r,
                           pl_error *err)
{
    memset(r, 0, sizeof *r);
    r->row = s->rows[ri].row;
    r->name = join_name(s, ri, m);
    r->student_id = cell_clean(s, ri, m->id);
    r->email = cell_clean(s, ri, m->email);
    r->gender = cell_clean(s, ri, m->gender);
    if (!r->name || !r->student_id || !r->email || !r->gender)
        return pl_fail(err, PL_ERR_NOMEM, "out of memory");
    pl_status st = PL_OK;
    for (int i = 0; !st && i < m->n_photo; i++) st = cell_links(pl_sheet_cell(s, ri, m->photo[i]), r, err);
    return st;
}

/* The rows below the header (and below header cells merged downwards). */
static int data_start(const pl_sheet *s, int hri)
{
    int hrow = s->rows[hri].row, last = hrow;
    for (int m = 0; m < s->n_merges; m++)
        if (s->merges[m].r0 == hrow && s->merges[m].r1 > last && s->merges[m].r1 - hrow < 10)
            last = s->merges[m].r1;
    int ri = hri + 1;
    while (ri < s->n_rows && s->rows[ri].row <= last) ri++;
    return ri;
}

static void describe(const pl_sheet *s, int ri, const colmap *m, pl_roster *out)
{
    char *h;
    if (m->full) snprintf(out->name_header, sizeof out->name_header, "%s", (h = (char *)header_text(s, ri, m->full)) ? h : "?");
    else {
        const char *a = m->first ? header_text(s, ri, m->first) : NULL;
        const char *b = m->n_last ? header_text(s, ri, m->last[0]) : NULL;
        snprintf(out->name_header, sizeof out->name_header, "%s%s%s", a ? a : "", a && b ? " + " : "", b ? b : "");
    }
    const char *p = m->n_photo ? header_text(s, ri, m->photo[0]) : NULL;
    snprintf(out->photo_header, sizeof out->photo_header, "%s", p ? p : "?");
    snprintf(out->sheet, sizeof out->sheet, "%s", s->name ? s->name : "");
    out->header_row = s->rows[ri].row;
}

static pl_status sheet_roster(const pl_sheet *s, int hri, colmap *m, const char *name,
                              pl_roster *out, pl_error *err)
{
    describe(s, hri, m, out);
    int first = data_start(s, hri);
    out->rows = calloc((size_t)(s->n_rows - first + 1), sizeof *out->rows);
    if (!out->rows) return pl_fail(err, PL_ERR_NOMEM, "%s: out of memory", name);
    for (int ri = first; ri < s->n_rows; ri++) {
        pl_roster_row *r = &out->rows[out->n_rows];
        pl_status st = build_row(s, ri, m, r, err);
        if (st) {
            row_free(r);
            return pl_error_prefix(err, "%s: row %d: ", name, s->rows[ri].row);
        }
        if (!r->name[0] && !r->n_links) { /* an empty row (or only an id): skip */
            row_free(r);
            continue;
        }
        out->n_rows++;
    }
    return PL_OK;
}

static void headers_seen(const pl_sheet *s, char *buf, size_t n)
{
    buf[0] = 0;
    if (!s->n_rows) return;
    size_t used = 0;
    for (int c = 1; c <= row_width(s, 0) && used + 4 < n; c++) {
        const char *t = header_text(s, 0, c);
        if (!t) continue;
        int w = snprintf(buf + used, n - used, "%s\"%.40s\"", used ? ", " : "", t);
        if (w < 0 || (size_t)w >= n - used) break;
        used += (size_t)w;
    }
}

pl_status pl_roster_from_book(const pl_book *b, const pl_roster_options *opt,
                              const char *name, pl_roster *out, pl_error *err)
{
    memset(out, 0, sizeof *out);
    int any_rows = 0;
    for (int i = 0; i < b->n_sheets; i++) {
        const pl_sheet *s = &b->sheets[i];
        if (opt && opt->sheet && strcasecmp(opt->sheet, s->name ? s->name : "") != 0) continue;
        any_rows |= s->n_rows > 0;
        colmap m;
        int hri = find_header_row(s, opt, &m);
        if (hri < 0) continue;
        pl_status st = apply_options(s, hri, opt, &m, name, err);
        if (st) return st;
        if (!m.n_photo) {
            char seen[512];
            headers_seen(s, seen, sizeof seen);
            return pl_fail(err, PL_ERR_NOTFOUND,
                           "%s: no photo column (a header such as \"Foto\", \"Fotografía\", "
                           "\"Enlace\", \"Photo\" or \"Link\"); headers in row %d: %s; "
                           "use --photo-col", name, s->rows[hri].row, seen);
        }
        st = sheet_roster(s, hri, &m, name, out, err);
        if (st) pl_roster_free(out);
        return st;
    }
    if (opt && opt->sheet) {
        for (int i = 0; i < b->n_sheets; i++)
            if (!strcasecmp(opt->sheet, b->sheets[i].name ? b->sheets[i].name : "")) goto found;
        return pl_fail(err, PL_ERR_NOTFOUND, "%s: no sheet named \"%s\"", name, opt->sheet);
    }
found:
    if (!any_rows) return pl_fail(err, PL_ERR_FORMAT, "%s: the sheet is empty", name);
    char seen[512] = "";
    for (int i = 0; i < b->n_sheets && !seen[0]; i++) headers_seen(&b->sheets[i], seen, sizeof seen);
    return pl_fail(err, PL_ERR_NOTFOUND,
                   "%s: no name column (a header such as \"Nombre\", \"Nombre completo\", "
                   "\"Apellidos\" or \"Name\"); first row: %s; use --name-col", name,
                   seen[0] ? seen : "(empty)");
}

pl_status pl_roster_read(const char *path, const pl_roster_options *opt, pl_roster *out,
                         pl_error *err)
{
    memset(out, 0, sizeof *out);
    size_t max = opt && opt->max_file_bytes ? opt->max_file_bytes : PL_ROSTER_DEFAULT_MAX_BYTES;
    uint8_t *data;
    size_t len;
    pl_status st = pl_read_file(path, max, &data, &len, err);
    if (st) return st;
    pl_book b;
    st = pl_book_read_mem(data, len, path, max, &b, err);
    free(data);
    if (st) return st;
    st = pl_roster_from_book(&b, opt, path, out, err);
    pl_book_free(&b);
    if (!st && out->n_rows == 0)
        st = pl_fail(err, PL_ERR_FORMAT, "%s: headers found (row %d) but no students below them",
                     path, out->header_row);
    if (st) pl_roster_free(out);
    return st;
}
