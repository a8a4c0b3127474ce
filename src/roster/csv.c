/* csv.c — RFC 4180 CSV as spreadsheets export it: UTF-8 with or without a
 * BOM (or Windows-1252, as Spanish-locale Excel saves "CSV"), `,` `;` or tab
 * separators found from the header line, quoted fields with "" escapes and
 * line breaks inside, CRLF / LF / CR line ends. */
#include <stdlib.h>
#include <string.h>

#include "roster/roster.h"

typedef struct buf { char *p; size_t n, cap; } buf;

static int buf_put(buf *b, char c)
{
    if (b->n + 2 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        char *p = realloc(b->p, cap);
        if (!p) return 0;
        b->p = p;
        b->cap = cap;
    }
    b->p[b->n++] = c;
    b->p[b->n] = 0;
    return 1;
}

static int utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k = (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : 0;
        if (!k || c < 0xC2 || c > 0xF4 || i + k >= n) return 0;
        for (size_t j = 1; j <= k; j++)
            if ((s[i + j] & 0xC0) != 0x80) return 0;
        i += k + 1;
    }
    return 1;
}

/* Windows-1252 to UTF-8 (0x80..0x9F have their own table). */
static char *cp1252_to_utf8(const uint8_t *s, size_t n)
{
    static const unsigned short hi[32] = {
        0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
        0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD, 0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
        0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178};
    char *out = malloc(n * 3 + 1), *o = out;
    if (!out) return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned cp = s[i] >= 0x80 && s[i] < 0xA0 ? hi[s[i] - 0x80] : s[i];
        if (cp < 0x80) *o++ = (char)cp;
        else if (cp < 0x800) { *o++ = (char)(0xC0 | cp >> 6); *o++ = (char)(0x80 | (cp & 63)); }
        else {
            *o++ = (char)(0xE0 | cp >> 12);
            *o++ = (char)(0x80 | ((cp >> 6) & 63));
            *o++ = (char)(0x80 | (cp & 63));
        }
    }
    *o = 0;
    return out;
}

/* The separator: whichever of , ; TAB occurs most outside quotes in the
 * first record. Ties go to ',' (the RFC's). */
static char detect_sep(const char *s, size_t n)
{
    size_t count[3] = {0, 0, 0};
    int q = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '"') q = !q;
        else if (!q && (c == '\n' || c == '\r')) break;
        else if (!q) count[0] += c == ',', count[1] += c == ';', count[2] += c == '\t';
    }
    if (count[1] > count[0] && count[1] >= count[2]) return ';';
    if (count[2] > count[0] && count[2] > count[1]) return '\t';
    return ',';
}

typedef struct csv_state {
    const char *name;
    pl_sheet *sh;
    int record, col, line;
    buf field;
    int any;  /* the current field or record has content */
} csv_state;

static pl_status end_field(csv_state *st, pl_error *err)
{
    st->col++;
    char *text = st->field.p;
    st->field.p = NULL;
    st->field.n = st->field.cap = 0;
    if (!text || !*text) {
        free(text);
        return PL_OK;
    }
    pl_status s = pl_sheet_set(st->sh, st->record, st->col, text, NULL, err);
    if (s) pl_error_prefix(err, "%s: line %d: ", st->name, st->line);
    return s;
}

static pl_status parse(csv_state *st, const char *s, size_t n, char sep, pl_error *err)
{
    size_t i = 0;
    st->record = 1;
    st->line = 1;
    while (i < n) {
        /* one field */
        if (s[i] == '"') {
            int start = st->line;
            i++;
            for (;;) {
                if (i >= n)
                    return pl_fail(err, PL_ERR_FORMAT,
                                   "%s: line %d: a quoted field opens here and is never closed",
                                   st->name, start);
                if (s[i] == '"') {
                    if (i + 1 < n && s[i + 1] == '"') i++;
                    else { i++; break; }
                }
                if (s[i] == '\n') st->line++;
                if (st->field.n >= PL_ROSTER_MAX_CELL)
                    return pl_fail(err, PL_ERR_FORMAT, "%s: line %d: field longer than %d bytes",
                                   st->name, st->line, PL_ROSTER_MAX_CELL);
                if (!buf_put(&st->field, s[i])) goto nomem;
                i++;
            }
        }
        /* unquoted part (or junk after a closing quote: kept, as Excel does) */
        while (i < n && s[i] != sep && s[i] != '\n' && s[i] != '\r') {
            if (st->field.n >= PL_ROSTER_MAX_CELL)
                return pl_fail(err, PL_ERR_FORMAT, "%s: line %d: field longer than %d bytes",
                               st->name, st->line, PL_ROSTER_MAX_CELL);
            if (!buf_put(&st->field, s[i])) goto nomem;
            i++;
        }
        pl_status e = end_field(st, err);
        if (e) return e;
        if (i < n && s[i] == sep) { i++; continue; }
        /* end of record */
        if (i < n && s[i] == '\r') i++;
        if (i < n && s[i] == '\n') i++;
        st->line++;
        st->record++;
        st->col = 0;
        if (st->record > PL_ROSTER_MAX_ROWS)
            return pl_fail(err, PL_ERR_NOMEM, "%s: more than %d rows", st->name, PL_ROSTER_MAX_ROWS);
    }
    return PL_OK;
nomem:
    return pl_fail(err, PL_ERR_NOMEM, "%s: out of memory", st->name);
}

pl_status pl_csv_read_mem(const uint8_t *data, size_t len, const char *name,
                          pl_book *out, pl_error *err)
{
    memset(out, 0, sizeof *out);
    if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3)) data += 3, len -= 3;
    if (len >= 2 && ((data[0] == 0xFF && data[1] == 0xFE) || (data[0] == 0xFE && data[1] == 0xFF)))
        return pl_fail(err, PL_ERR_UNSUPPORTED,
                       "%s: UTF-16 text; save the CSV as UTF-8", name);
    if (memchr(data, 0, len))
        return pl_fail(err, PL_ERR_FORMAT, "%s: binary data (NUL bytes), not a CSV or .xlsx file",
                       name);
    char *conv = NULL;
    const char *s = (const char *)data;
    if (!utf8_valid(data, len)) {
        conv = cp1252_to_utf8(data, len);
        if (!conv) return pl_fail(err, PL_ERR_NOMEM, "%s: out of memory", name);
        s = conv;
        len = strlen(conv);
    }
    out->sheets = calloc(1, sizeof *out->sheets);
    if (!out->sheets) {
        free(conv);
        return pl_fail(err, PL_ERR_NOMEM, "%s: out of memory", name);
    }
    out->n_sheets = 1;
    csv_state st = {.name = name, .sh = &out->sheets[0]};
    pl_status e = parse(&st, s, len, detect_sep(s, len), err);
    free(st.field.p);
    free(conv);
    if (e) pl_book_free(out);
    return e;
}
