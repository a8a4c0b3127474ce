/* Tests for src/util/json: the RFC 8259 grammar, escapes, limits, lookups,
 * malformed input and the string writer. */
#include <stdio.h>
#include <string.h>

#include "test.h"
#include "util/json.h"

static pl_json *parse(const char *s, pl_error *err)
{
    return pl_json_parse(s, strlen(s), "t.json", err);
}

/* Parses s expecting failure; returns the message (static buffer). */
static const char *parse_err(const char *s)
{
    static pl_error err;
    pl_error_clear(&err);
    pl_json *v = parse(s, &err);
    if (v) {
        pl_json_free(v);
        return NULL;
    }
    return err.msg;
}

TEST(json_scalars)
{
    pl_error err = {0};
    pl_json *v = parse(" 42 ", &err);
    CHECK(v && v->type == PL_JSON_NUMBER);
    CHECK_NEAR(pl_json_as_number(v, 0), 42, 0);
    pl_json_free(v);
    v = parse("-0.5e-3", &err);
    CHECK_NEAR(pl_json_as_number(v, 0), -0.0005, 1e-18);
    pl_json_free(v);
    v = parse("true", &err);
    CHECK(pl_json_as_bool(v, 0) == 1);
    pl_json_free(v);
    v = parse("null", &err);
    CHECK(pl_json_is(v, PL_JSON_NULL));
    CHECK(pl_json_as_bool(v, 7) == 7);
    pl_json_free(v);
    v = parse("\"hi\"", &err);
    CHECK_STR(pl_json_as_string(v, NULL), "hi");
    pl_json_free(v);
}

TEST(json_numbers_round_correctly)
{
    pl_error err = {0};
    pl_json *v = parse("[0.1, 1e308, 1.7976931348623157e308, 5e-324, 0, -0, 123456789012345678]", &err);
    CHECK(v);
    CHECK(pl_json_at(v, 0)->number == 0.1);
    CHECK(pl_json_at(v, 1)->number == 1e308);
    CHECK(pl_json_at(v, 3)->number == 5e-324);
    CHECK(pl_json_at(v, 6)->number == 123456789012345678.0);
    pl_json_free(v);
}

TEST(json_objects_and_arrays)
{
    pl_error err = {0};
    pl_json *v = parse("{\"a\": [1, 2, {\"b\": \"c\"}], \"d\": {}, \"e\": [], \"a\": 9}", &err);
    CHECK_MSG(v, "%s", err.msg);
    CHECK_EQ_INT(pl_json_len(v), 4);
    const pl_json *a = pl_json_get(v, "a");
    CHECK_EQ_INT(pl_json_len(a), 3); /* the first "a" wins */
    CHECK_NEAR(pl_json_as_number(pl_json_at(a, 1), 0), 2, 0);
    CHECK_STR(pl_json_as_string(pl_json_get(pl_json_at(a, 2), "b"), NULL), "c");
    CHECK(pl_json_at(a, 3) == NULL);
    CHECK(pl_json_at(a, -1) == NULL);
    CHECK_EQ_INT(pl_json_len(pl_json_get(v, "d")), 0);
    CHECK(pl_json_is(pl_json_get(v, "e"), PL_JSON_ARRAY));
    CHECK_STR(pl_json_key_at(v, 1), "d");
    /* NULL-safe chains */
    CHECK(pl_json_get(pl_json_get(v, "missing"), "x") == NULL);
    CHECK(pl_json_get(a, "x") == NULL);
    CHECK_STR(pl_json_as_string(pl_json_get(v, "nope"), "dflt"), "dflt");
    pl_json_free(v);
}

TEST(json_string_escapes)
{
    pl_error err = {0};
    pl_json *v = parse("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20ac\\ud83d\\ude00\"", &err);
    CHECK_MSG(v, "%s", err.msg);
    CHECK_STR(v->str, "a\"b\\c/d\b\f\n\r\tA\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
    pl_json_free(v);
    v = parse("\"x\\u0000y\"", &err);
    CHECK(v && v->len == 3 && v->str[1] == '\0' && v->str[2] == 'y');
    pl_json_free(v);
    /* raw UTF-8 passes through */
    v = parse("\"\xC3\xB1" "and\xC3\xBA\"", &err);
    CHECK_STR(v->str, "\xC3\xB1" "and\xC3\xBA");
    pl_json_free(v);
}

TEST(json_int64_from_number_or_string)
{
    pl_error err = {0};
    pl_json *v = parse("[\"123\", -7, \"-9\", 1.5, \"1x\", \"\", \"99999999999999999999\", 3e0]", &err);
    long long x = 0;
    CHECK(pl_json_as_int64(pl_json_at(v, 0), &x) && x == 123);
    CHECK(pl_json_as_int64(pl_json_at(v, 1), &x) && x == -7);
    CHECK(pl_json_as_int64(pl_json_at(v, 2), &x) && x == -9);
    CHECK(!pl_json_as_int64(pl_json_at(v, 3), &x));
    CHECK(!pl_json_as_int64(pl_json_at(v, 4), &x));
    CHECK(!pl_json_as_int64(pl_json_at(v, 5), &x));
    CHECK(!pl_json_as_int64(pl_json_at(v, 6), &x));
    CHECK(pl_json_as_int64(pl_json_at(v, 7), &x) && x == 3);
    pl_json_free(v);
}

TEST(json_malformed_inputs_fail_with_position)
{
    static const struct { const char *text, *msg; } cases[] = {
        {"", "t.json:1:1: unexpected end of input"},
        {"   ", "unexpected end of input"},
        {"[1, 2", "t.json:1:6: expected ',' or ']' in array"},
        {"[1, 2,]", "t.json:1:7: unexpected character"},
        {"{\"a\" 1}", "expected ':'"},
        {"{\"a\": 1,}", "expected a string key"},
        {"{1: 2}", "expected a string key"},
        {"[1]\n  x", "t.json:2:3: trailing characters"},
        {"01", "leading zero"},
        {"-", "invalid number"},
        {"1.", "expected digits after '.'"},
        {"1e", "expected digits in exponent"},
        {".5", "unexpected character"},
        {"+1", "unexpected character"},
        {"NaN", "unexpected character"},
        {"Infinity", "unexpected character"},
        {"1e400", "out of range"},
        {"tru", "unexpected character"},
        {"nul", "unexpected character"},
        {"\"abc", "unterminated string"},
        {"\"abc\\", "unterminated string"},
        {"\"a\tb\"", "control character"},
        {"\"\\x\"", "unknown escape"},
        {"\"\\u12\"", "\\u escape"},
        {"\"\\u12G4\"", "bad hex digit"},
        {"\"\\ud800\"", "high surrogate"},
        {"\"\\ud800\\u0041\"", "low surrogate"},
        {"\"\\udc00\"", "lone low surrogate"},
        {"\"\xC0\xAF\"", "invalid UTF-8"},     /* overlong '/' */
        {"\"\xED\xA0\x80\"", "invalid UTF-8"}, /* encoded surrogate */
        {"\"\xF4\x90\x80\x80\"", "invalid UTF-8"}, /* > U+10FFFF */
        {"\"\xE2\x82\"", "invalid UTF-8"},     /* truncated sequence */
        {"\"\xFF\"", "invalid UTF-8"},
        {"// c\n1", "unexpected character"},
        {"[1 2]", "expected ',' or ']'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *m = parse_err(cases[i].text);
        CHECK_MSG(m, "case %zu (%s) parsed but should fail", i, cases[i].text);
        CHECK_MSG(strstr(m, cases[i].msg), "case %zu: \"%s\" lacks \"%s\"", i, m, cases[i].msg);
    }
}

TEST(json_not_nul_terminated_input_is_bounded)
{
    /* The parser must stop at len even with valid-looking bytes after it. */
    const char text[] = "[1, 2]   [3]";
    pl_error err = {0};
    pl_json *v = pl_json_parse(text, 6, "t", &err);
    CHECK(v && pl_json_len(v) == 2);
    pl_json_free(v);
    v = pl_json_parse("\"abc\"", 3, "t", &err);
    CHECK(!v);
    CHECK_CONTAINS(err.msg, "unterminated string");
    v = pl_json_parse("123", 2, "t", &err);
    CHECK(v && v->number == 12);
    pl_json_free(v);
}

TEST(json_depth_and_size_limits)
{
    char deep[2100];
    memset(deep, '[', 1000);
    memset(deep + 1000, ']', 1000);
    deep[2000] = '\0';
    pl_error err = {0};
    pl_json *v = parse(deep, &err);
    CHECK(!v);
    CHECK_CONTAINS(err.msg, "nesting too deep");
    pl_json_limits lim = {.max_depth = 1000};
    v = pl_json_parse_ex(deep, 2000, "t", &lim, &err);
    CHECK_MSG(v, "%s", err.msg);
    pl_json_free(v);
    lim = (pl_json_limits){.max_bytes = 10};
    v = pl_json_parse_ex("[1,2,3,4,5,6]", 13, "t", &lim, &err);
    CHECK(!v);
    CHECK(err.code == PL_ERR_NOMEM);
    CHECK_CONTAINS(err.msg, "limit");
}

TEST(json_every_truncation_of_a_document_fails_cleanly)
{
    const char *doc = "{\"format\": \"graph-model\", \"w\": [{\"name\": \"a\\u00e9\", \"shape\": [3, 3],"
                      " \"q\": {\"scale\": 0.5, \"min\": -1e-2}}], \"ok\": true, \"n\": null}";
    size_t n = strlen(doc);
    pl_error err;
    for (size_t i = 0; i < n; i++) {
        pl_json *v = pl_json_parse(doc, i, "t", &err);
        CHECK_MSG(!v, "prefix of %zu bytes parsed", i);
    }
    pl_json *v = pl_json_parse(doc, n, "t", &err);
    CHECK(v);
    CHECK_STR(pl_json_as_string(pl_json_get(pl_json_at(pl_json_get(v, "w"), 0), "name"), ""), "a\xC3\xA9");
    pl_json_free(v);
}

TEST(json_escape_writer)
{
    char buf[64];
    size_t n = pl_json_escape(buf, sizeof buf, "a\"b\\c\nd\x01\xC3\xA9");
    CHECK_STR(buf, "\"a\\\"b\\\\c\\nd\\u0001\xC3\xA9\"");
    CHECK_EQ_INT(n, strlen(buf));
    /* truncation still terminates and reports the full length */
    char small[5];
    n = pl_json_escape(small, sizeof small, "abcdef");
    CHECK_STR(small, "\"abc");
    CHECK_EQ_INT(n, 8);
    /* round trip through the parser */
    const char *orig = "tab\there \"quoted\" \\ \x7f end\x1f";
    pl_json_escape(buf, sizeof buf, orig);
    pl_error err;
    pl_json *v = parse(buf, &err);
    CHECK_MSG(v, "%s", err.msg);
    CHECK_STR(v->str, orig);
    pl_json_free(v);
    FILE *f = tmpfile();
    CHECK(f);
    pl_json_fput_string(f, "x\"y");
    rewind(f);
    char got[16] = {0};
    CHECK(fread(got, 1, sizeof got - 1, f) == 6);
    CHECK_STR(got, "\"x\\\"y\"");
    fclose(f);
}

TEST(json_load_file_names_the_file)
{
    pl_error err = {0};
    pl_json *v = pl_json_load_file("/nonexistent/x.json", &err);
    CHECK(!v);
    CHECK_CONTAINS(err.msg, "/nonexistent/x.json");
}
