/* names.c — text from spreadsheets made safe: names folded into folder
 * names that cannot escape the photos folder on any OS, headers folded for
 * matching, cell text cleaned, links picked out of a cell. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "roster/roster.h"

/* Next code point of UTF-8 text; invalid bytes come back as 0xFFFD, one
 * byte consumed. */
static unsigned next_cp(const unsigned char **ps)
{
    const unsigned char *s = *ps;
    unsigned c = s[0];
    int k = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : -1;
    if (k < 0 || (k == 1 && c < 0xC2)) {
        *ps = s + 1;
        return 0xFFFD;
    }
    unsigned cp = k == 0 ? c : k == 1 ? (c & 0x1F) : k == 2 ? (c & 0x0F) : (c & 0x07);
    for (int i = 1; i <= k; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *ps = s + 1;
            return 0xFFFD;
        }
        cp = cp << 6 | (s[i] & 0x3F);
    }
    *ps = s + k + 1;
    return cp;
}

/* ASCII spelling of a Latin letter: "" for combining marks (macOS writes
 * names decomposed), NULL for anything with no ASCII form. */
static const char *fold_cp(unsigned cp, char one[2])
{
    static const char *latin1[64] = {
        "A", "A", "A", "A", "A", "A", "AE", "C", "E", "E", "E", "E", "I", "I", "I", "I",
        "D", "N", "O", "O", "O", "O", "O", NULL, "O", "U", "U", "U", "U", "Y", "TH", "ss",
        "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
        "d", "n", "o", "o", "o", "o", "o", NULL, "o", "u", "u", "u", "u", "y", "th", "y"};
    static const char ext_a[] = "AaAaAaCcCcCcCcDd" "DdEeEeEeEeEeGgGg" "GgGgHhHhIiIiIiIi"
                                "IiIiJjKkkLlLlLlL" "lLlNnNnNnnNnOoOo" "OoOoRrRrRrSsSsSs"
                                "SsTtTtTtUuUuUuUu" "UuUuWwYyYZzZzZzs";
    if (cp < 0x80) {
        one[0] = (char)cp;
        one[1] = 0;
        return one;
    }
    if (cp >= 0x300 && cp <= 0x36F) return "";
    if (cp >= 0xC0 && cp <= 0xFF) return latin1[cp - 0xC0];
    if (cp == 0x132) return "IJ";
    if (cp == 0x133) return "ij";
    if (cp == 0x152) return "OE";
    if (cp == 0x153) return "oe";
    if (cp >= 0x100 && cp <= 0x17F) {
        one[0] = ext_a[cp - 0x100];
        one[1] = 0;
        return one;
    }
    if (cp == 0x2019 || cp == 0x2018) return "'";
    return NULL;
}

static int reserved_device(const char *s)
{
    static const char *dev[] = {"con", "prn", "aux", "nul", NULL};
    for (int i = 0; dev[i]; i++)
        if (!strcasecmp(s, dev[i])) return 1;
    return (!strncasecmp(s, "com", 3) || !strncasecmp(s, "lpt", 3)) && s[3] >= '0' &&
           s[3] <= '9' && !s[4];
}

int pl_name_fold(const char *utf8, char *out, size_t max)
{
    if (!max) return 0;
    out[0] = 0;
    if (max < 8 || !utf8) return 0;
    size_t n = 0, limit = max - 2; /* room for a device-name suffix */
    const unsigned char *s = (const unsigned char *)utf8;
    while (*s && n < limit) {
        char one[2];
        const char *f = fold_cp(next_cp(&s), one);
        for (; f && *f && n < limit; f++) {
            if (isalnum((unsigned char)*f) || *f == '-') out[n++] = *f;
            else if (*f == '\'') continue; /* O'Brien -> OBrien */
            else if (n && out[n - 1] != '_') out[n++] = '_';
        }
        if (!f && n && out[n - 1] != '_') out[n++] = '_';
    }
    while (n && (out[n - 1] == '_' || out[n - 1] == '-')) n--;
    out[n] = 0;
    size_t lead = strspn(out, "_-");
    memmove(out, out + lead, n - lead + 1);
    if (!out[0]) return 0;
    if (reserved_device(out)) strcat(out, "_");
    return 1;
}

void pl_header_fold(const char *utf8, char *out, size_t max)
{
    size_t n = 0;
    if (!max) return;
    const unsigned char *s = (const unsigned char *)(utf8 ? utf8 : "");
    while (*s && n + 1 < max) {
        char one[2];
        const char *f = fold_cp(next_cp(&s), one);
        for (; f && *f && n + 1 < max; f++) {
            if (isalnum((unsigned char)*f)) out[n++] = (char)tolower((unsigned char)*f);
            else if (n && out[n - 1] != ' ') out[n++] = ' ';
        }
        if (!f && n && out[n - 1] != ' ' && n + 1 < max) out[n++] = ' ';
    }
    while (n && out[n - 1] == ' ') n--;
    out[n] = 0;
}

char *pl_text_clean(const char *s)
{
    if (!s) return strdup("");
    size_t len = strlen(s);
    char *out = malloc(len + 1);
    if (!out) return NULL;
    size_t n = 0;
    int space = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        const unsigned char *start = p;
        unsigned cp = next_cp(&p);
        int ws = cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == 0xA0 ||
                 cp == 0x2007 || cp == 0x202F || cp == 0x3000 || (cp >= 0x2000 && cp <= 0x200A);
        if (ws) {
            space = 1;
            continue;
        }
        if (cp < 0x20 || cp == 0x7F || cp == 0xFFFD || cp == 0xFEFF || (cp >= 0x80 && cp < 0xA0))
            continue;
        if (space && n) out[n++] = ' ';
        space = 0;
        memcpy(out + n, start, (size_t)(p - start));
        n += (size_t)(p - start);
    }
    out[n] = 0;
    return out;
}

static int is_stop(char c)
{
    return c == 0 || isspace((unsigned char)c) || c == ',' || c == ';' || c == '"' ||
           c == '<' || c == '>' || c == '|';
}

pl_status pl_links_split(const char *text, char ***links, int *n, pl_error *err)
{
    const char *p = text ? text : "";
    while (*p) {
        if (strncasecmp(p, "http://", 7) != 0 && strncasecmp(p, "https://", 8) != 0) {
            p++;
            continue;
        }
        size_t len = 0;
        while (!is_stop(p[len])) len++;
        while (len && (p[len - 1] == ')' || p[len - 1] == '.')) len--;
        if (*n >= 64) return pl_fail(err, PL_ERR_FORMAT, "more than 64 links in one cell");
        char **v = realloc(*links, (size_t)(*n + 1) * sizeof *v);
        if (!v) return pl_fail(err, PL_ERR_NOMEM, "out of memory");
        *links = v;
        if (!(v[*n] = strndup(p, len))) return pl_fail(err, PL_ERR_NOMEM, "out of memory");
        (*n)++;
        p += len;
    }
    return PL_OK;
}
