/* json.h — a small, strict JSON reader (RFC 8259) and a string writer.
 *
 * Owns: parsing JSON text into a tree of plain structs, looking things up
 * in that tree, and escaping strings for JSON output.
 *
 * The parser treats its input as hostile: it never reads past `len`,
 * limits nesting depth and input size, accepts only the RFC grammar (no
 * comments, no trailing commas, no NaN, no leading zeros, valid UTF-8
 * only, no lone surrogates), and reports the first problem as
 *     "<name>:3:17: expected ',' or '}' in object"
 * Strings are UTF-8 and NUL-terminated; `\u0000` is kept (use `len`).
 *
 *     pl_json *doc = pl_json_parse(text, len, "model.json", &err);
 *     const pl_json *nodes = pl_json_get(pl_json_get(doc, "modelTopology"), "node");
 *     for (int i = 0; i < pl_json_len(nodes); i++)
 *         puts(pl_json_as_string(pl_json_get(pl_json_at(nodes, i), "op"), "?"));
 *     pl_json_free(doc);
 *
 * Every lookup accepts NULL and wrong types and answers "absent", so
 * chains like the one above need no checks in between.
 */
#ifndef PL_JSON_H
#define PL_JSON_H

#include <stddef.h>
#include <stdio.h>

#include "util/error.h"

typedef enum pl_json_type {
    PL_JSON_NULL = 0,
    PL_JSON_BOOL,
    PL_JSON_NUMBER,
    PL_JSON_STRING,
    PL_JSON_ARRAY,
    PL_JSON_OBJECT
} pl_json_type;

typedef struct pl_json pl_json;
struct pl_json {
    pl_json_type type;
    int boolean;     /* PL_JSON_BOOL                                       */
    double number;   /* PL_JSON_NUMBER                                     */
    char *str;       /* PL_JSON_STRING: UTF-8, NUL-terminated              */
    size_t len;      /* PL_JSON_STRING: bytes; ARRAY/OBJECT: item count    */
    pl_json *items;  /* ARRAY/OBJECT: the values, in file order            */
    char **keys;     /* OBJECT: keys[i] names items[i]                     */
};

typedef struct pl_json_limits {
    int max_depth;     /* nesting of arrays/objects; 0 = default (256)     */
    size_t max_bytes;  /* input size; 0 = default (256 MiB)                */
} pl_json_limits;

/* Parse text[0..len). `name` (file name) starts every error message.
 * Returns NULL with *err filled (PL_ERR_FORMAT, or PL_ERR_NOMEM). */
pl_json *pl_json_parse(const char *text, size_t len, const char *name,
                       pl_error *err);
pl_json *pl_json_parse_ex(const char *text, size_t len, const char *name,
                          const pl_json_limits *limits, pl_error *err);
/* Read and parse a file (at most limits' max_bytes). */
pl_json *pl_json_load_file(const char *path, pl_error *err);
void pl_json_free(pl_json *v);

/* ---- lookups: NULL-safe, type-safe --------------------------------------- */
/* obj[key] (the first one if a key repeats), or NULL. */
const pl_json *pl_json_get(const pl_json *obj, const char *key);
/* Items of an array or object; 0 for anything else. */
int pl_json_len(const pl_json *v);
const pl_json *pl_json_at(const pl_json *v, int i); /* NULL if out of range */
const char *pl_json_key_at(const pl_json *obj, int i);
int pl_json_is(const pl_json *v, pl_json_type t);

double pl_json_as_number(const pl_json *v, double dflt);
const char *pl_json_as_string(const pl_json *v, const char *dflt);
int pl_json_as_bool(const pl_json *v, int dflt);
/* An integer given as a JSON number or as a decimal string (protobuf's
 * JSON form writes int64 as "123"). Returns 1 and sets *out if v is an
 * integer within [-2^53, 2^53]; 0 otherwise. */
int pl_json_as_int64(const pl_json *v, long long *out);

/* ---- writing -------------------------------------------------------------- */
/* Write s (UTF-8, NUL-terminated) as a quoted JSON string: ", \, control
 * characters escaped; other bytes copied. */
void pl_json_fput_string(FILE *f, const char *s);
/* The same into dst[0..cap), always NUL-terminated when cap > 0; returns
 * the length the full result needs (like snprintf). */
size_t pl_json_escape(char *dst, size_t cap, const char *s);

#endif
