/* sniff.c — what a download really is, from its bytes (servers lie in
 * Content-Type), and the two HTML pages Drive sends instead of a file: the
 * "can't scan this file for viruses" confirmation and the sign-in page of a
 * file that is not shared. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "roster/roster.h"

static int starts_ci(const uint8_t *d, size_t n, const char *s)
{
    size_t l = strlen(s);
    return n >= l && !strncasecmp((const char *)d, s, l);
}

static int heif_brand(const uint8_t *b)
{
    static const char *brands[] = {"heic", "heix", "hevc", "hevx", "heim", "heis",
                                   "mif1", "msf1", "avif", "avis", NULL};
    for (int i = 0; brands[i]; i++)
        if (!memcmp(b, brands[i], 4)) return 1;
    return 0;
}

pl_content pl_content_sniff(const uint8_t *d, size_t n)
{
    if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) return PL_CONTENT_JPEG;
    if (n >= 8 && !memcmp(d, "\x89PNG\r\n\x1a\n", 8)) return PL_CONTENT_PNG;
    if (n >= 12 && !memcmp(d, "RIFF", 4) && !memcmp(d + 8, "WEBP", 4)) return PL_CONTENT_WEBP;
    if (n >= 12 && !memcmp(d + 4, "ftyp", 4)) {
        if (heif_brand(d + 8)) return PL_CONTENT_HEIF;
        /* compatible brands follow the minor version */
        size_t box = (size_t)d[0] << 24 | (size_t)d[1] << 16 | (size_t)d[2] << 8 | d[3];
        for (size_t o = 16; o + 4 <= box && o + 4 <= n && o < 64; o += 4)
            if (heif_brand(d + o)) return PL_CONTENT_HEIF;
    }
    if (n >= 6 && (!memcmp(d, "GIF87a", 6) || !memcmp(d, "GIF89a", 6))) return PL_CONTENT_GIF;
    if (n >= 2 && d[0] == 'B' && d[1] == 'M') return PL_CONTENT_BMP;
    if (n >= 4 && (!memcmp(d, "II*\0", 4) || !memcmp(d, "MM\0*", 4))) return PL_CONTENT_TIFF;
    size_t i = 0;
    if (n >= 3 && !memcmp(d, "\xEF\xBB\xBF", 3)) i = 3;
    while (i < n && isspace(d[i])) i++;
    if (starts_ci(d + i, n - i, "<!doctype html") || starts_ci(d + i, n - i, "<html") ||
        starts_ci(d + i, n - i, "<head") || starts_ci(d + i, n - i, "<!--") ||
        starts_ci(d + i, n - i, "<body") || starts_ci(d + i, n - i, "<?xml"))
        return PL_CONTENT_HTML;
    size_t printable = 0, look = n < 512 ? n : 512;
    for (size_t k = 0; k < look; k++) printable += d[k] >= 0x20 || d[k] == '\n' || d[k] == '\r' || d[k] == '\t';
    if (look && printable == look) return PL_CONTENT_TEXT;
    return PL_CONTENT_UNKNOWN;
}

const char *pl_content_ext(pl_content c)
{
    switch (c) {
    case PL_CONTENT_JPEG: return "jpg";
    case PL_CONTENT_PNG: return "png";
    case PL_CONTENT_WEBP: return "webp";
    case PL_CONTENT_HEIF: return "heic";
    default: return NULL;
    }
}

/* Bounded case-insensitive search in html[0..len). */
static const char *find(const char *h, const char *end, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = h; p + n <= end; p++)
        if (!strncasecmp(p, needle, n)) return p;
    return NULL;
}

/* The value of attribute `name="..."` inside the tag starting at tag. */
static int tag_attr(const char *tag, const char *end, const char *name, char *out, size_t n)
{
    const char *close = memchr(tag, '>', (size_t)(end - tag));
    if (!close) return 0;
    char pat[32];
    snprintf(pat, sizeof pat, " %s=\"", name);
    const char *a = find(tag, close, pat);
    if (!a) return 0;
    a += strlen(pat);
    const char *q = memchr(a, '"', (size_t)(close - a));
    if (!q) return 0;
    /* undo the HTML escaping Drive puts in attribute values */
    size_t o = 0;
    for (const char *p = a; p < q && o + 1 < n; p++) {
        if (!strncmp(p, "&amp;", 5) && p + 5 <= q) { out[o++] = '&'; p += 4; }
        else out[o++] = *p;
    }
    out[o] = 0;
    return 1;
}

static void url_append_escaped(char *out, size_t size, const char *v)
{
    size_t o = strlen(out);
    for (; *v && o + 4 < size; v++) {
        unsigned char c = (unsigned char)*v;
        if (isalnum(c) || strchr("-_.~", c)) out[o++] = (char)c;
        else o += (size_t)snprintf(out + o, size - o, "%%%02X", c);
    }
    out[o] = 0;
}

/* Resolve href against base_url: absolute, or host-relative "/uc?...". */
static int resolve(const char *href, const char *base_url, char *out, size_t n)
{
    if (!strncasecmp(href, "http://", 7) || !strncasecmp(href, "https://", 8))
        return snprintf(out, n, "%s", href) < (int)n;
    if (href[0] != '/') return 0;
    const char *p = strstr(base_url, "://");
    if (!p) return 0;
    size_t origin = (size_t)(p + 3 - base_url) + strcspn(p + 3, "/?#");
    return snprintf(out, n, "%.*s%s", (int)origin, base_url, href) < (int)n;
}

int pl_drive_confirm_url(const char *html, size_t len, const char *base_url, char *out,
                         size_t out_size)
{
    const char *end = html + len;
    const char *form = find(html, end, "id=\"download-form\"");
    if (form) {
        while (form > html && *form != '<') form--;
        char action[1024];
        if (!tag_attr(form, end, "action", action, sizeof action)) return 0;
        const char *fend = find(form, end, "</form");
        if (!fend) fend = end;
        char url[2048];
        if (!resolve(action, base_url, url, sizeof url)) return 0;
        int first = !strchr(url, '?');
        for (const char *in = find(form, fend, "<input"); in; in = find(in + 6, fend, "<input")) {
            char type[32], name[128], value[512];
            if (!tag_attr(in, fend, "type", type, sizeof type) || strcasecmp(type, "hidden")) continue;
            if (!tag_attr(in, fend, "name", name, sizeof name)) continue;
            if (!tag_attr(in, fend, "value", value, sizeof value)) value[0] = 0;
            size_t l = strlen(url);
            snprintf(url + l, sizeof url - l, "%s", first ? "?" : "&");
            first = 0;
            url_append_escaped(url, sizeof url, name);
            l = strlen(url);
            snprintf(url + l, sizeof url - l, "=");
            url_append_escaped(url, sizeof url, value);
        }
        return snprintf(out, out_size, "%s", url) < (int)out_size;
    }
    /* older page: <a id="uc-download-link" href="/uc?export=download&amp;confirm=XYZ&amp;id=..."> */
    for (const char *a = find(html, end, "href=\""); a; a = find(a + 6, end, "href=\"")) {
        const char *tag = a;
        while (tag > html && *tag != '<') tag--;
        char href[1024];
        if (!tag_attr(tag, end, "href", href, sizeof href)) continue;
        if (!strstr(href, "confirm=")) continue;
        return resolve(href, base_url, out, out_size);
    }
    return 0;
}

int pl_html_is_signin(const char *html, size_t len)
{
    const char *end = html + len;
    static const char *marks[] = {"accounts.google.com", "ServiceLogin", "Sign in", "Sign-in",
                                  "Iniciar sesi", "Request access", "You need access",
                                  "Necesitas acceso", "Solicitar acceso", NULL};
    for (int i = 0; marks[i]; i++)
        if (find(html, end, marks[i])) return 1;
    return 0;
}
