/* links.c — links from the sheet to URLs that download bytes. Google Drive
 * shows a viewer page for a file; the bytes come from /uc?export=download.
 * Every way people paste a Drive file link is recognised and rewritten;
 * folders, Docs and non-http links are refused with a reason. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "pasalista.h"
#include "util/error.h"

#define DEFAULT_DRIVE "https://drive.google.com"

static int id_char(char c) { return isalnum((unsigned char)c) || c == '-' || c == '_'; }

/* Copy a Drive file id starting at p; 0 if it is not one. */
static int take_id(const char *p, char *id, size_t n)
{
    size_t len = 0;
    while (id_char(p[len])) len++;
    if (len < 10 || len >= n) return 0;
    memcpy(id, p, len);
    id[len] = 0;
    return 1;
}

/* The value of query parameter `key` in the URL's query string. */
static int query_id(const char *url, const char *key, char *id, size_t n)
{
    const char *q = strchr(url, '?');
    size_t kl = strlen(key);
    for (const char *p = q; p && *p; p = strpbrk(p + 1, "&?")) {
        if (!strncmp(p + 1, key, kl) && p[1 + kl] == '=') return take_id(p + 2 + kl, id, n);
    }
    return 0;
}

/* Host of an http(s) URL into host[]; returns the path start or NULL. */
static const char *split_host(const char *url, char *host, size_t n)
{
    const char *p;
    if (!strncasecmp(url, "https://", 8)) p = url + 8;
    else if (!strncasecmp(url, "http://", 7)) p = url + 7;
    else return NULL;
    size_t len = strcspn(p, "/?#");
    const char *at = memchr(p, '@', len); /* user@host: keep the host */
    if (at) {
        len -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    size_t hl = strcspn(p, ":/?#");
    if (hl > len) hl = len;
    if (!hl || hl >= n) return NULL;
    for (size_t i = 0; i < hl; i++) host[i] = (char)tolower((unsigned char)p[i]);
    host[hl] = 0;
    return p + len;
}

static int is_drive_host(const char *h)
{
    return !strcmp(h, "drive.google.com") || !strcmp(h, "docs.google.com") ||
           !strcmp(h, "drive.usercontent.google.com");
}

pl_status pl_drive_link_parse(const char *link, const char *drive_base, char *url,
                              size_t url_size, int *is_drive, pl_error *err)
{
    char host[256], id[256];
    if (is_drive) *is_drive = 0;
    if (url_size) url[0] = 0;
    if (!link || !*link) return pl_fail(err, PL_ERR_ARG, "empty link");
    for (const char *c = link; *c; c++)
        if ((unsigned char)*c <= ' ' || *c == '"' || *c == '<' || *c == '>' || *c == '\\')
            return pl_fail(err, PL_ERR_ARG, "not a link (contains spaces or quotes): %.80s", link);
    const char *path = split_host(link, host, sizeof host);
    if (!path) return pl_fail(err, PL_ERR_ARG, "not an http(s) link: %.80s", link);
    if (!is_drive_host(host)) {
        if (strlen(link) >= url_size) return pl_fail(err, PL_ERR_ARG, "link too long");
        snprintf(url, url_size, "%s", link);
        return PL_OK;
    }
    /* /drive/folders/ID, /document/d/ID, /spreadsheets/d/ID, /forms/... */
    if (strstr(path, "/folders/") || strstr(path, "/drive/u/") || strstr(path, "/drive/my-drive"))
        return pl_fail(err, PL_ERR_ARG, "a Drive folder link, not a file: %.80s", link);
    if (strstr(path, "/document/") || strstr(path, "/spreadsheets/") ||
        strstr(path, "/presentation/") || strstr(path, "/forms/"))
        return pl_fail(err, PL_ERR_ARG, "a Google Docs/Sheets/Slides/Forms link, not a photo: %.80s",
                       link);
    const char *d = strstr(path, "/file/d/");
    int ok = d ? take_id(d + 8, id, sizeof id)
               : query_id(path, "id", id, sizeof id);
    if (!ok) return pl_fail(err, PL_ERR_ARG, "a Drive link without a file id: %.80s", link);
    const char *base = drive_base && *drive_base ? drive_base : DEFAULT_DRIVE;
    size_t bl = strlen(base);
    while (bl && base[bl - 1] == '/') bl--;
    int w = snprintf(url, url_size, "%.*s/uc?export=download&id=%s", (int)bl, base, id);
    if (w < 0 || (size_t)w >= url_size) return pl_fail(err, PL_ERR_ARG, "link too long");
    if (is_drive) *is_drive = 1;
    return PL_OK;
}
