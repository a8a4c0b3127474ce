/* json.c — strict recursive-descent JSON parser and string escaper. */
#include "util/json.h"

#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/fs.h"

#define JSON_DEFAULT_DEPTH 256
#define JSON_DEFAULT_BYTES ((size_t)256 << 20)

typedef struct parser {
    const char *s;
    size_t len, pos;
    int depth, max_depth;
    const char *name;
    pl_error *err;
    int failed;
} parser;

/* The error names name:line:column of the byte where parsing stopped. */
static void fail_at(parser *p, size_t at, pl_status code, const char *what)
{
    if (p->failed) return;
    p->failed = 1;
    int line = 1, col = 1;
    for (size_t i = 0; i < at && i < p->len; i++) {
        if (p->s[i] == '\n') { line++; col = 1; }
        else col++;
    }
    pl_fail(p->err, code, "%s:%d:%d: %s", p->name, line, col, what);
}
static void fail(parser *p, const char *what)
{
    fail_at(p, p->pos, PL_ERR_FORMAT, what);
}

static void skip_ws(parser *p)
{
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        p->pos++;
    }
}

static int peek(const parser *p) { return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1; }

static void free_value(pl_json *v)
{
    if (v->type == PL_JSON_STRING) {
        free(v->str);
    } else if (v->type == PL_JSON_ARRAY || v->type == PL_JSON_OBJECT) {
        for (size_t i = 0; i < v->len; i++) {
            free_value(&v->items[i]);
            if (v->keys) free(v->keys[i]);
        }
        free(v->items);
        free(v->keys);
    }
    memset(v, 0, sizeof *v);
}

static int parse_value(parser *p, pl_json *out);

/* ---- strings --------------------------------------------------------------- */
static int hex4(parser *p, unsigned *out)
{
    if (p->len - p->pos < 4) { fail(p, "truncated \\u escape"); return 0; }
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p->s[p->pos + i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else { fail_at(p, p->pos + i, PL_ERR_FORMAT, "bad hex digit in \\u escape"); return 0; }
    }
    p->pos += 4;
    *out = v;
    return 1;
}

static size_t put_utf8(char *d, unsigned cp)
{
    if (cp < 0x80) { d[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        d[0] = (char)(0xC0 | (cp >> 6));
        d[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (char)(0xE0 | (cp >> 12));
        d[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        d[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    d[0] = (char)(0xF0 | (cp >> 18));
    d[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    d[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    d[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Length of a valid UTF-8 sequence starting at s[0] (s has n bytes), or 0.
 * Rejects overlong forms, surrogates and code points above U+10FFFF. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t k;
    unsigned cp, min;
    if (c < 0x80) return 1;
    if ((c & 0xE0) == 0xC0) { k = 2; cp = c & 0x1F; min = 0x80; }
    else if ((c & 0xF0) == 0xE0) { k = 3; cp = c & 0x0F; min = 0x800; }
    else if ((c & 0xF8) == 0xF0) { k = 4; cp = c & 0x07; min = 0x10000; }
    else return 0;
    if (n < k) return 0;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return k;
}

/* One escape after the backslash; writes its UTF-8 to d, returns bytes. */
static size_t parse_escape(parser *p, char *d)
{
    size_t at = p->pos - 1;
    if (p->pos >= p->len) { fail(p, "unterminated string"); return 0; }
    char c = p->s[p->pos++];
    switch (c) {
    case '"': *d = '"'; return 1;
    case '\\': *d = '\\'; return 1;
    case '/': *d = '/'; return 1;
    case 'b': *d = '\b'; return 1;
    case 'f': *d = '\f'; return 1;
    case 'n': *d = '\n'; return 1;
    case 'r': *d = '\r'; return 1;
    case 't': *d = '\t'; return 1;
    case 'u': break;
    default: fail_at(p, at, PL_ERR_FORMAT, "unknown escape in string"); return 0;
    }
    unsigned cp;
    if (!hex4(p, &cp)) return 0;
    if (cp >= 0xDC00 && cp <= 0xDFFF) {
        fail_at(p, at, PL_ERR_FORMAT, "lone low surrogate in \\u escape");
        return 0;
    }
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        unsigned lo;
        if (p->len - p->pos < 2 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u') {
            fail_at(p, at, PL_ERR_FORMAT, "high surrogate not followed by \\u low surrogate");
            return 0;
        }
        p->pos += 2;
        if (!hex4(p, &lo)) return 0;
        if (lo < 0xDC00 || lo > 0xDFFF) {
            fail_at(p, at, PL_ERR_FORMAT, "high surrogate not followed by a low surrogate");
            return 0;
        }
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    return put_utf8(d, cp);
}

/* At the opening quote. The decoded string is never longer than its
 * source (an escape of n bytes yields at most n bytes), so one buffer of
 * the source length suffices. */
static char *parse_string(parser *p, size_t *out_len)
{
    size_t start = ++p->pos, end = start;
    while (end < p->len && p->s[end] != '"') end += (p->s[end] == '\\') ? 2 : 1;
    if (end >= p->len) { fail_at(p, start - 1, PL_ERR_FORMAT, "unterminated string"); return NULL; }
    char *buf = malloc(end - start + 1);
    if (!buf) { fail_at(p, start, PL_ERR_NOMEM, "out of memory"); return NULL; }
    size_t n = 0;
    while (p->pos < end) {
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c == '\\') {
            p->pos++;
            size_t k = parse_escape(p, buf + n);
            if (!k) { free(buf); return NULL; }
            n += k;
        } else if (c < 0x20) {
            fail(p, "control character in string (must be escaped)");
            free(buf);
            return NULL;
        } else {
            size_t k = utf8_seq((const unsigned char *)p->s + p->pos, end - p->pos);
            if (!k) { fail(p, "invalid UTF-8 in string"); free(buf); return NULL; }
            memcpy(buf + n, p->s + p->pos, k);
            n += k;
            p->pos += k;
        }
    }
    p->pos = end + 1;
    buf[n] = '\0';
    *out_len = n;
    return buf;
}

/* ---- numbers --------------------------------------------------------------- */
static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static void make_c_locale(void) { c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0); }

static int digits(parser *p)
{
    size_t start = p->pos;
    while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') p->pos++;
    return p->pos > start;
}

/* The RFC grammar is checked by hand; strtod (in the C locale, whatever
 * the program's locale) then converts with correct rounding. */
static int parse_number(parser *p, pl_json *out)
{
    size_t start = p->pos;
    if (peek(p) == '-') p->pos++;
    if (peek(p) == '0') {
        p->pos++;
        if (peek(p) >= '0' && peek(p) <= '9') { fail(p, "leading zero in number"); return 0; }
    } else if (!digits(p)) {
        fail_at(p, start, PL_ERR_FORMAT, "invalid number");
        return 0;
    }
    if (peek(p) == '.') {
        p->pos++;
        if (!digits(p)) { fail(p, "expected digits after '.' in number"); return 0; }
    }
    if (peek(p) == 'e' || peek(p) == 'E') {
        p->pos++;
        if (peek(p) == '+' || peek(p) == '-') p->pos++;
        if (!digits(p)) { fail(p, "expected digits in exponent"); return 0; }
    }
    size_t n = p->pos - start;
    char small[64], *buf = n < sizeof small ? small : malloc(n + 1);
    if (!buf) { fail_at(p, start, PL_ERR_NOMEM, "out of memory"); return 0; }
    memcpy(buf, p->s + start, n);
    buf[n] = '\0';
    pthread_once(&c_locale_once, make_c_locale);
    double v = c_locale ? strtod_l(buf, NULL, c_locale) : strtod(buf, NULL);
    if (buf != small) free(buf);
    /* Overflow gives inf; JSON has no inf, so refuse rather than guess. */
    if (isinf(v)) { fail_at(p, start, PL_ERR_FORMAT, "number out of range"); return 0; }
    out->type = PL_JSON_NUMBER;
    out->number = v;
    return 1;
}

/* ---- containers ------------------------------------------------------------ */
static int grow(parser *p, pl_json **items, char ***keys, size_t n, size_t *cap)
{
    if (n < *cap) return 1;
    size_t nc = *cap ? *cap * 2 : 4;
    pl_json *ni = realloc(*items, nc * sizeof *ni);
    if (!ni) { fail_at(p, p->pos, PL_ERR_NOMEM, "out of memory"); return 0; }
    *items = ni;
    if (keys) {
        char **nk = realloc(*keys, nc * sizeof *nk);
        if (!nk) { fail_at(p, p->pos, PL_ERR_NOMEM, "out of memory"); return 0; }
        *keys = nk;
    }
    *cap = nc;
    return 1;
}

/* Shared by arrays and objects: with_keys says which. At the '[' or '{'. */
static int parse_container(parser *p, pl_json *out, int with_keys)
{
    char close = with_keys ? '}' : ']';
    if (++p->depth > p->max_depth) { fail(p, "nesting too deep"); return 0; }
    p->pos++;
    out->type = with_keys ? PL_JSON_OBJECT : PL_JSON_ARRAY;
    size_t cap = 0;
    skip_ws(p);
    if (peek(p) == close) { p->pos++; p->depth--; return 1; }
    for (;;) {
        if (!grow(p, &out->items, with_keys ? &out->keys : NULL, out->len, &cap)) return 0;
        pl_json *item = &out->items[out->len];
        memset(item, 0, sizeof *item);
        if (with_keys) {
            skip_ws(p);
            if (peek(p) != '"') { fail(p, "expected a string key in object"); return 0; }
            size_t klen;
            char *key = parse_string(p, &klen);
            if (!key) return 0;
            out->keys[out->len] = key;
            skip_ws(p);
            if (peek(p) != ':') {
                fail(p, "expected ':' after key in object");
                free(key);
                return 0;
            }
            p->pos++;
        }
        /* Count the item before parsing it so that a failure frees it. */
        out->len++;
        if (!parse_value(p, item)) return 0;
        skip_ws(p);
        int c = peek(p);
        if (c == ',') { p->pos++; continue; }
        if (c == close) { p->pos++; break; }
        fail(p, with_keys ? "expected ',' or '}' in object" : "expected ',' or ']' in array");
        return 0;
    }
    p->depth--;
    return 1;
}

static int parse_literal(parser *p, const char *word, pl_json *out, pl_json_type t, int b)
{
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0) {
        fail(p, "unexpected character");
        return 0;
    }
    p->pos += n;
    out->type = t;
    out->boolean = b;
    return 1;
}

static int parse_value(parser *p, pl_json *out)
{
    skip_ws(p);
    int c = peek(p);
    switch (c) {
    case -1: fail(p, "unexpected end of input"); return 0;
    case '{': return parse_container(p, out, 1);
    case '[': return parse_container(p, out, 0);
    case '"': {
        char *s = parse_string(p, &out->len);
        if (!s) return 0;
        out->type = PL_JSON_STRING;
        out->str = s;
        return 1;
    }
    case 't': return parse_literal(p, "true", out, PL_JSON_BOOL, 1);
    case 'f': return parse_literal(p, "false", out, PL_JSON_BOOL, 0);
    case 'n': return parse_literal(p, "null", out, PL_JSON_NULL, 0);
    default:
        if (c == '-' || (c >= '0' && c <= '9')) return parse_number(p, out);
        fail(p, "unexpected character");
        return 0;
    }
}

pl_json *pl_json_parse_ex(const char *text, size_t len, const char *name,
                          const pl_json_limits *limits, pl_error *err)
{
    if (!name) name = "json";
    size_t max_bytes = limits && limits->max_bytes ? limits->max_bytes : JSON_DEFAULT_BYTES;
    if (!text) {
        pl_fail(err, PL_ERR_ARG, "%s: no text", name);
        return NULL;
    }
    if (len > max_bytes) {
        pl_fail(err, PL_ERR_NOMEM, "%s: %zu bytes, more than the limit of %zu", name, len, max_bytes);
        return NULL;
    }
    parser p = {.s = text, .len = len, .name = name, .err = err,
                .max_depth = limits && limits->max_depth > 0 ? limits->max_depth : JSON_DEFAULT_DEPTH};
    pl_json *root = calloc(1, sizeof *root);
    if (!root) {
        pl_fail(err, PL_ERR_NOMEM, "%s: out of memory", name);
        return NULL;
    }
    /* A UTF-8 byte order mark is not JSON (RFC 8259 §8.1) but harmless. */
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) p.pos = 3;
    int ok = parse_value(&p, root);
    if (ok) {
        skip_ws(&p);
        if (p.pos != p.len) { fail(&p, "trailing characters after the JSON value"); ok = 0; }
    }
    if (!ok) {
        pl_json_free(root);
        return NULL;
    }
    return root;
}

pl_json *pl_json_parse(const char *text, size_t len, const char *name, pl_error *err)
{
    return pl_json_parse_ex(text, len, name, NULL, err);
}

pl_json *pl_json_load_file(const char *path, pl_error *err)
{
    uint8_t *data;
    size_t len;
    if (pl_read_file(path, JSON_DEFAULT_BYTES, &data, &len, err) != PL_OK) return NULL;
    pl_json *v = pl_json_parse((const char *)data, len, path, err);
    free(data);
    return v;
}

void pl_json_free(pl_json *v)
{
    if (!v) return;
    free_value(v);
    free(v);
}

/* ---- lookups ---------------------------------------------------------------- */
const pl_json *pl_json_get(const pl_json *obj, const char *key)
{
    if (!obj || obj->type != PL_JSON_OBJECT || !key) return NULL;
    for (size_t i = 0; i < obj->len; i++)
        if (strcmp(obj->keys[i], key) == 0) return &obj->items[i];
    return NULL;
}

int pl_json_len(const pl_json *v)
{
    if (!v || (v->type != PL_JSON_ARRAY && v->type != PL_JSON_OBJECT)) return 0;
    return v->len > INT32_MAX ? INT32_MAX : (int)v->len;
}

const pl_json *pl_json_at(const pl_json *v, int i)
{
    if (i < 0 || i >= pl_json_len(v)) return NULL;
    return &v->items[i];
}

const char *pl_json_key_at(const pl_json *obj, int i)
{
    if (!obj || obj->type != PL_JSON_OBJECT || i < 0 || (size_t)i >= obj->len) return NULL;
    return obj->keys[i];
}

int pl_json_is(const pl_json *v, pl_json_type t) { return v && v->type == t; }

double pl_json_as_number(const pl_json *v, double dflt)
{
    return pl_json_is(v, PL_JSON_NUMBER) ? v->number : dflt;
}

const char *pl_json_as_string(const pl_json *v, const char *dflt)
{
    return pl_json_is(v, PL_JSON_STRING) ? v->str : dflt;
}

int pl_json_as_bool(const pl_json *v, int dflt)
{
    return pl_json_is(v, PL_JSON_BOOL) ? v->boolean : dflt;
}

#define JSON_MAX_SAFE_INT 9007199254740992.0 /* 2^53 */

int pl_json_as_int64(const pl_json *v, long long *out)
{
    if (pl_json_is(v, PL_JSON_NUMBER)) {
        double d = v->number;
        if (!(d >= -JSON_MAX_SAFE_INT && d <= JSON_MAX_SAFE_INT) || d != floor(d)) return 0;
        *out = (long long)d;
        return 1;
    }
    if (pl_json_is(v, PL_JSON_STRING)) {
        const char *s = v->str;
        int neg = 0;
        if (*s == '-') { neg = 1; s++; }
        if (!*s || strlen(s) != v->len - (size_t)neg) return 0;
        long long r = 0;
        for (; *s; s++) {
            if (*s < '0' || *s > '9') return 0;
            r = r * 10 + (*s - '0');
            if (r > (long long)JSON_MAX_SAFE_INT) return 0;
        }
        *out = neg ? -r : r;
        return 1;
    }
    return 0;
}

/* ---- writing ---------------------------------------------------------------- */
/* Calls emit(ctx, bytes, n) for the escaped form of s, quotes included. */
static void escape_to(const char *s, void (*emit)(void *, const char *, size_t), void *ctx)
{
    static const char hex[] = "0123456789abcdef";
    emit(ctx, "\"", 1);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        char e[7];
        switch (*c) {
        case '"': emit(ctx, "\\\"", 2); break;
        case '\\': emit(ctx, "\\\\", 2); break;
        case '\n': emit(ctx, "\\n", 2); break;
        case '\r': emit(ctx, "\\r", 2); break;
        case '\t': emit(ctx, "\\t", 2); break;
        case '\b': emit(ctx, "\\b", 2); break;
        case '\f': emit(ctx, "\\f", 2); break;
        default:
            if (*c < 0x20) {
                memcpy(e, "\\u00", 4);
                e[4] = hex[*c >> 4];
                e[5] = hex[*c & 15];
                emit(ctx, e, 6);
            } else {
                emit(ctx, (const char *)c, 1);
            }
        }
    }
    emit(ctx, "\"", 1);
}

static void emit_file(void *ctx, const char *b, size_t n) { fwrite(b, 1, n, (FILE *)ctx); }

void pl_json_fput_string(FILE *f, const char *s)
{
    escape_to(s ? s : "", emit_file, f);
}

typedef struct sbuf { char *d; size_t cap, n; } sbuf;
static void emit_buf(void *ctx, const char *b, size_t n)
{
    sbuf *sb = ctx;
    for (size_t i = 0; i < n; i++, sb->n++)
        if (sb->n + 1 < sb->cap) sb->d[sb->n] = b[i];
}

size_t pl_json_escape(char *dst, size_t cap, const char *s)
{
    sbuf sb = {dst, cap, 0};
    escape_to(s ? s : "", emit_buf, &sb);
    if (cap) dst[sb.n < cap ? sb.n : cap - 1] = '\0';
    return sb.n;
}

void pl_json_write_string(FILE *f, const char *s) { pl_json_fput_string(f, s); }
