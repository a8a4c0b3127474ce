/* fuzz_json.c — libFuzzer target for the JSON reader (src/util/json.c).
 *
 * Any bytes go to pl_json_parse. A refusal must carry a "name:line:col"
 * message; a document that parses is walked completely, and every string
 * in it must survive pl_json_escape -> pl_json_parse unchanged.
 *
 *     make fuzz && build-fuzz/fuzz/fuzz_json fuzz/corpus-json fuzz/seeds/json
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const pl_json *v)
{
    /* Embedded NULs are cut by the C-string writer: skip those. */
    if (strlen(v->str) != v->len) return;
    size_t need = pl_json_escape(NULL, 0, v->str);
    char *buf = malloc(need + 1);
    if (!buf) return;
    if (pl_json_escape(buf, need + 1, v->str) != need) abort();
    pl_error err;
    pl_json *back = pl_json_parse(buf, need, "rt", &err);
    if (!back || back->type != PL_JSON_STRING || back->len != v->len ||
        memcmp(back->str, v->str, v->len) != 0)
        abort();
    pl_json_free(back);
    free(buf);
}

static void walk(const pl_json *v)
{
    if (v->type == PL_JSON_STRING) round_trip(v);
    for (int i = 0; i < pl_json_len(v); i++) {
        const char *key = pl_json_key_at(v, i);
        if (key && !pl_json_get(v, key)) abort();
        long long x;
        (void)pl_json_as_int64(pl_json_at(v, i), &x);
        walk(pl_json_at(v, i));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pl_error err;
    memset(&err, 0, sizeof err);
    pl_json *v = pl_json_parse((const char *)data, size, "fuzz.json", &err);
    if (!v) {
        if (err.code == PL_OK || strncmp(err.msg, "fuzz.json:", 10) != 0) abort();
        return 0;
    }
    walk(v);
    pl_json_free(v);
    return 0;
}
