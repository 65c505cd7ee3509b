/* SPDX-License-Identifier: Apache-2.0 */
/* JSON parsing limits and errors; logging levels and sinks. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "test.h"

static void test_json(void)
{
    ccz_json *j;
    const char *ok = "{\"a\": [1, 2]}";
    CHECK_OK(ccz_json_parse(&j, ok, strlen(ok), 100));
    CHECK(json_is_array(json_object_get(j, "a")));
    ccz_json_free(j);
    const char *bad = "{\"a\": 1,\n \"b\": }";
    CHECK_STATUS(ccz_json_parse(&j, bad, strlen(bad), 0), CCZ_ERR_JSON);
    CHECK(j == NULL);
    CHECK_CONTAINS(ccz_error_detail(), "line 2");
    const char *dup = "{\"a\": 1, \"a\": 2}";
    CHECK_STATUS(ccz_json_parse(&j, dup, strlen(dup), 0), CCZ_ERR_JSON);
    CHECK_CONTAINS(ccz_error_detail(), "duplicate");
    CHECK_STATUS(ccz_json_parse(&j, ok, strlen(ok), 5), CCZ_ERR_TOO_LARGE);
    CHECK_STATUS(ccz_json_parse(&j, "{\"a\":\0}", 7, 0), CCZ_ERR_JSON);
    /* \u0000 would cut a string its reader takes as C text ("admin\u0000x" read as "admin"):
     * refused in values and in keys */
    const char *nul_value = "{\"role\": \"admin\\u0000x\"}";
    CHECK_STATUS(ccz_json_parse(&j, nul_value, strlen(nul_value), 0), CCZ_ERR_JSON);
    CHECK(j == NULL);
    CHECK_CONTAINS(ccz_error_detail(), "\\u0000 is not allowed");
    const char *nul_key = "{\"admin\\u0000x\": 1}";
    CHECK_STATUS(ccz_json_parse(&j, nul_key, strlen(nul_key), 0), CCZ_ERR_JSON);
    /* integers beyond 64 bits and reals beyond a double are errors, not rounded or clamped */
    const char *big = "{\"n\": 9223372036854775808}";
    CHECK_STATUS(ccz_json_parse(&j, big, strlen(big), 0), CCZ_ERR_JSON);
    CHECK_CONTAINS(ccz_error_detail(), "too big integer");
    const char *huge = "{\"r\": 1e400}";
    CHECK_STATUS(ccz_json_parse(&j, huge, strlen(huge), 0), CCZ_ERR_JSON);
    CHECK_CONTAINS(ccz_error_detail(), "real number overflow");

    /* raw members: exact bytes, strings with escapes (a quote, a backslash before the end) */
    static const char doc[] = "{\"x\": \"a\\\"b\\\\\", \"ev\": \"QUJD\", \"n\": [1, {\"ev\": 2}]}";
    ccz_span v;
    CHECK_OK(ccz_json_raw_member(&v, CCZ_SPAN(doc, sizeof doc - 1), "ev"));
    CHECK_INT((long)v.len, 6);
    CHECK(memcmp(v.ptr, "\"QUJD\"", 6) == 0);
    CHECK_OK(ccz_json_raw_member(&v, CCZ_SPAN(doc, sizeof doc - 1), "x"));
    CHECK_INT((long)v.len, 8);
    CHECK(memcmp(v.ptr, "\"a\\\"b\\\\\"", 8) == 0);
    CHECK_OK(ccz_json_raw_member(&v, CCZ_SPAN(doc, sizeof doc - 1), "n"));
    CHECK(memcmp(v.ptr, "[1, {\"ev\": 2}]", v.len) == 0);
    CHECK_STATUS(ccz_json_raw_member(&v, CCZ_SPAN(doc, sizeof doc - 1), "none"), CCZ_ERR_NOT_FOUND);
    static const char open_str[] = "{\"ev\": \"QUJD";
    CHECK_STATUS(ccz_json_raw_member(&v, CCZ_SPAN(open_str, sizeof open_str - 1), "ev"),
                 CCZ_ERR_JSON);
    CHECK_CONTAINS(ccz_error_detail(), "unterminated string");
    static const char open_esc[] = "{\"ev\": \"QU\\";
    CHECK_STATUS(ccz_json_raw_member(&v, CCZ_SPAN(open_esc, sizeof open_esc - 1), "ev"),
                 CCZ_ERR_JSON);
    CHECK_CONTAINS(ccz_error_detail(), "unterminated escape");
    /* escaped quotes and backslashes, then the closing quote, in a long string */
    static const char esc[] = "{\"a\": \"xxxxxxxxxxxxxxxx\\\"\\\\yy\\\"\", \"b\": 1}";
    CHECK_OK(ccz_json_raw_member(&v, CCZ_SPAN(esc, sizeof esc - 1), "b"));
    CHECK_INT((long)v.len, 1);
    /* the size limit: a document of exactly max bytes is read, one byte more is not */
    CHECK_OK(ccz_json_parse(&j, ok, strlen(ok), strlen(ok)));
    ccz_json_free(j);
    CHECK_STATUS(ccz_json_parse(&j, ok, strlen(ok), strlen(ok) - 1), CCZ_ERR_TOO_LARGE);
    CHECK(j == NULL);
    /* a member whose name is the key and more is another member */
    static const char prefix[] = "{\"evil\": 1, \"ev\": 2}";
    CHECK_OK(ccz_json_raw_member(&v, CCZ_SPAN(prefix, sizeof prefix - 1), "ev"));
    CHECK_INT((long)v.len, 1);
    CHECK(v.ptr[0] == '2');
    CHECK_STATUS(ccz_json_raw_member(&v, CCZ_SPAN(prefix, sizeof prefix - 1), "e"),
                 CCZ_ERR_NOT_FOUND);
    /* texts the scanner refuses before it reaches the member, with the reason */
    static const struct {
        const char *text, *why;
    } refused[] = {
        {"[\"b\", 1]", "JSON: not an object"},
        {"{\"a\": ], \"b\": 1}", "JSON: unbalanced ']'"},
        {"{\"a\": [1]], \"b\": 1}", "JSON: expected ',' or '}'"},
        {"{1: 2, \"b\": 1}", "JSON: expected a member name"},
        {"{\"a\" 1, \"b\": 1}", "JSON: expected ':'"},
        {"{\"a\": 1 \"b\": 1}", "JSON: expected ',' or '}'"},
        {"{\"a\": 1; \"b\": 1}", "JSON: expected ',' or '}'"},
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(refused); i++) {
        CHECK_STATUS(
            ccz_json_raw_member(&v, CCZ_SPAN(refused[i].text, strlen(refused[i].text)), "b"),
            CCZ_ERR_JSON);
        CHECK_STR(ccz_error_detail(), refused[i].why);
    }
    /* JSON's four whitespace characters, around names, colons, values and commas */
    static const char ws[] = "\r\n{\t\"a\"\r\n:\t1\r\n,\n\"b\"\t:\r\n2\r}\n";
    CHECK_OK(ccz_json_raw_member(&v, CCZ_SPAN(ws, sizeof ws - 1), "a"));
    CHECK(v.len == 1 && v.ptr[0] == '1');
    CHECK_OK(ccz_json_raw_member(&v, CCZ_SPAN(ws, sizeof ws - 1), "b"));
    CHECK(v.len == 1 && v.ptr[0] == '2');
    /* nesting: 256 levels are scanned, 257 are not */
    for (int depth = 256; depth <= 257; depth++) {
        ccz_buf d = CCZ_BUF_INIT;
        CHECK_OK(ccz_buf_append_str(&d, "{\"a\": "));
        for (int k = 0; k < depth; k++)
            CHECK_OK(ccz_buf_append_u8(&d, '['));
        for (int k = 0; k < depth; k++)
            CHECK_OK(ccz_buf_append_u8(&d, ']'));
        CHECK_OK(ccz_buf_append_str(&d, ", \"b\": 1}"));
        ccz_status s = ccz_json_raw_member(&v, ccz_buf_span(&d), "b");
        if (depth == 256) {
            CHECK_OK(s);
            CHECK(v.len == 1 && v.ptr[0] == '1');
        } else {
            CHECK_STATUS(s, CCZ_ERR_JSON);
            CHECK_STR(ccz_error_detail(), "JSON: nested deeper than 256");
        }
        ccz_buf_free(&d);
    }
}

/* Python's marshal format, byte for byte (marshal.loads of these bytes is the document) */
static void test_json_marshal(void)
{
    static const char text[] = "{\"a\": \"\xc3\xa9\", \"n\": [1, -2, 2147483648, -2147483649], "
                               "\"t\": true, \"f\": false, \"z\": null, \"r\": 0.5}";
    /* 'é' is not ASCII: UTF-8; 2^31 is three 15-bit digits 0, 0, 2; -(2^31 + 1) has -3 */
    static const uint8_t want[] = {
        '{', 'z', 1,   'a', 'u', 2,   0,   0,   0,   0xc3, 0xa9, 'z',  1,    'n', '[', 4,
        0,   0,   0,   'i', 1,   0,   0,   0,   'i', 0xfe, 0xff, 0xff, 0xff, 'l', 3,   0,
        0,   0,   0,   0,   0,   0,   2,   0,   'l', 0xfd, 0xff, 0xff, 0xff, 1,   0,   0,
        0,   2,   0,   'z', 1,   't', 'T', 'z', 1,   'f',  'F',  'z',  1,    'z', 'N', 'z',
        1,   'r', 'g', 0,   0,   0,   0,   0,   0,   0xe0, 0x3f, '0',
    };
    ccz_json *j;
    CHECK_OK(ccz_json_parse(&j, text, sizeof text - 1, 0));
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_OK(ccz_buf_append(&b, "x", 1)); /* appended after what is there */
    CHECK_OK(ccz_json_dump_marshal(&b, j));
    CHECK_INT((long)b.len, (long)sizeof want + 1);
    CHECK(memcmp(b.ptr + 1, want, sizeof want) == 0);
    ccz_json_free(j);
    /* a long ASCII string: TYPE_ASCII with a 32-bit length */
    char big[300 + 8];
    memset(big, 'k', sizeof big);
    memcpy(big, "[\"", 2);
    memcpy(big + 302, "\"]", 2);
    ccz_buf_reset(&b);
    CHECK_OK(ccz_json_parse(&j, big, 304, 0));
    CHECK_OK(ccz_json_dump_marshal(&b, j));
    CHECK_INT((long)b.len, 5 + 5 + 300);
    CHECK(memcmp(b.ptr + 5, "a\x2c\x01\0\0kkk", 8) == 0);
    ccz_json_free(j);
    /* 256 ASCII bytes: one too many for TYPE_SHORT_ASCII's length byte */
    memset(big + 2, 'k', 256);
    memcpy(big + 258, "\"]", 2);
    ccz_buf_reset(&b);
    CHECK_OK(ccz_json_parse(&j, big, 260, 0));
    CHECK_OK(ccz_json_dump_marshal(&b, j));
    CHECK_INT((long)b.len, 5 + 5 + 256);
    CHECK(memcmp(b.ptr + 5, "a\x00\x01\0\0kkk", 8) == 0);
    ccz_json_free(j);
    /* the ends of TYPE_INT: INT32_MAX and INT32_MIN are 'i', one beyond is 'l' */
    static const uint8_t ints[] = {
        '[', 4, 0, 0, 0, 'i', 0xff, 0xff, 0xff, 0x7f, 'i',  0,    0, 0, 0x80, 'l', 3, 0, 0,
        0,   0, 0, 0, 0, 2,   0,    'l',  0xfd, 0xff, 0xff, 0xff, 1, 0, 0,    0,   2, 0};
    static const char int_text[] = "[2147483647, -2147483648, 2147483648, -2147483649]";
    CHECK_OK(ccz_json_parse(&j, int_text, sizeof int_text - 1, 0));
    ccz_buf_reset(&b);
    CHECK_OK(ccz_json_dump_marshal(&b, j));
    CHECK_INT((long)b.len, (long)sizeof ints);
    CHECK(memcmp(b.ptr, ints, sizeof ints) == 0);
    ccz_json_free(j);
    /* TYPE_LONG digits are 15 bits: INT64_MAX is four of 0x7fff and a 7, 2^32 + 2^15 is 0, 1, 4
     * (a 16-bit mask would keep bit 15 in the lowest digit), INT64_MIN is 0, 0, 0, 0, 8 */
    static const uint8_t longs[] = {
        '[',  3,    0,    0,    0,   'l', 5, 0, 0, 0, 0xff, 0x7f, 0xff, 0x7f, 0xff, 0x7f,
        0xff, 0x7f, 7,    0,    'l', 3,   0, 0, 0, 0, 0,    1,    0,    4,    0,    'l',
        0xfb, 0xff, 0xff, 0xff, 0,   0,   0, 0, 0, 0, 0,    0,    8,    0};
    static const char long_text[] = "[9223372036854775807, 4295000064, -9223372036854775808]";
    CHECK_OK(ccz_json_parse(&j, long_text, sizeof long_text - 1, 0));
    ccz_buf_reset(&b);
    CHECK_OK(ccz_json_dump_marshal(&b, j));
    CHECK_INT((long)b.len, (long)sizeof longs);
    CHECK(memcmp(b.ptr, longs, sizeof longs) == 0);
    ccz_json_free(j);
    /* nesting: 256 arrays deep is written, 257 is refused */
    char deep[2 * 257];
    for (int depth = 256; depth <= 257; depth++) {
        memset(deep, '[', (size_t)depth);
        memset(deep + depth, ']', (size_t)depth);
        CHECK_OK(ccz_json_parse(&j, deep, 2 * (size_t)depth, 0));
        ccz_buf_reset(&b);
        CHECK_STATUS(ccz_json_dump_marshal(&b, j), depth == 256 ? CCZ_OK : CCZ_ERR_TOO_LARGE);
        CHECK_INT((long)b.len, depth == 256 ? 5 * 256 : 0);
        ccz_json_free(j);
    }
    CHECK_OK(ccz_json_parse(&j, big, 260, 0));
    /* the limit of the buffer: an error and nothing half-written */
    ccz_buf small;
    ccz_buf_init(&small, 16, false);
    CHECK_STATUS(ccz_json_dump_marshal(&small, j), CCZ_ERR_TOO_LARGE);
    CHECK_INT((long)small.len, 0);
    CHECK_STATUS(ccz_json_dump_marshal(&small, NULL), CCZ_ERR_INVALID_ARGUMENT);
    ccz_json_free(j);
    ccz_buf_free(&small);
    ccz_buf_free(&b);
}

/* An indented dump into a buffer too small for it: the buffer's error, nothing half-written
 * (jansson is told to stop at the first piece that does not fit) */
static void test_json_dump_limit(void)
{
    static const char text[] = "{\"a\": \"0123456789\", \"b\": [1, 2, 3], \"c\": \"x\"}";
    ccz_json *j;
    CHECK_OK(ccz_json_parse(&j, text, sizeof text - 1, 0));
    ccz_buf small;
    ccz_buf_init(&small, 24, false);
    CHECK_OK(ccz_buf_append_str(&small, "ok"));
    CHECK_STATUS(ccz_json_dump(&small, j, true), CCZ_ERR_TOO_LARGE);
    CHECK_INT((long)small.len, 2);
    CHECK_STR((const char *)small.ptr, "ok");
    ccz_buf_free(&small);
    ccz_json_free(j);
}

/* The compact writer writes what jansson's json_dumps(JSON_COMPACT) writes, byte for byte. */
static void same_as_jansson(const json_t *j, const char *want)
{
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_OK(ccz_json_dump(&b, j, false));
    char *ref = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    CHECK(ref != NULL);
    CHECK_INT(b.len, strlen(ref));
    CHECK_STR((const char *)b.ptr, ref);
    if (want)
        CHECK_STR((const char *)b.ptr, want);
    free(ref);
    ccz_buf_free(&b);
}

static void test_json_compact(void)
{
    static const char text[] =
        "{\"s\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u0001\\u001f\\u007f\u00e9\u20ac\",\"n\":"
        "-9223372036854775808,\"m\":9223372036854775807,\"z\":0,\"r\":0.1,\"e\":1e300,"
        "\"o\":{},\"a\":[],\"t\":[true,false,null,[{}],{\"\":\"\"}],\"k\\n\\\"\":-1}";
    ccz_json *j;
    CHECK_OK(ccz_json_parse(&j, text, sizeof text - 1, 0));
    same_as_jansson(j, NULL);
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_OK(ccz_json_dump(&b, json_object_get(j, "s"), false));
    CHECK_STR((const char *)b.ptr,
              "\"a\\\"b\\\\c/d\\b\\f\\n\\r\\t\\u0001\\u001F\x7f\u00e9\u20ac\"");
    ccz_json_free(j);
    /* an embedded NUL and every control byte */
    char ctl[40];
    for (int i = 0; i < 32; i++)
        ctl[i] = (char)i;
    memcpy(ctl + 32, "\"\\/xyz", 7);
    json_t *s = json_stringn(ctl, 39);
    same_as_jansson(s, NULL);
    json_decref(s);
    /* keys in insertion order, not sorted */
    json_t *o = json_pack("{s:i}", "zeta", 1);
    json_object_set_new(o, "alpha", json_integer(2));
    same_as_jansson(o, "{\"zeta\":1,\"alpha\":2}");
    /* nesting beyond the writer's own depth is handed to jansson */
    json_t *deep = o;
    for (int i = 0; i < 100; i++) {
        json_t *outer = json_array();
        json_array_append_new(outer, deep);
        deep = outer;
    }
    same_as_jansson(deep, NULL);
    json_decref(deep);
    /* indented output is jansson's own */
    ccz_buf_reset(&b);
    json_t *small = json_pack("{s:[i]}", "a", 1);
    CHECK_OK(ccz_json_dump(&b, small, true));
    CHECK_STR((const char *)b.ptr, "{\n  \"a\": [\n    1\n  ]\n}");
    json_decref(small);
    CHECK_STATUS(ccz_json_dump(&b, NULL, false), CCZ_ERR_INVALID_ARGUMENT);
    /* a buffer's limit holds, with room to spare in its allocation or not */
    ccz_buf capped;
    ccz_buf_init(&capped, 12, false);
    CHECK_OK(ccz_buf_reserve(&capped, 12));
    json_t *long_doc = json_pack("{s:s}", "key", "a value longer than twelve bytes");
    CHECK_STATUS(ccz_json_dump(&capped, long_doc, false), CCZ_ERR_TOO_LARGE);
    CHECK_INT(capped.len, 0);
    json_t *short_doc = json_pack("{s:i}", "k", 1);
    CHECK_OK(ccz_json_dump(&capped, short_doc, false));
    CHECK_STR((const char *)capped.ptr, "{\"k\":1}");
    CHECK_STATUS(ccz_json_dump(&capped, short_doc, false), CCZ_ERR_TOO_LARGE);
    CHECK_STR((const char *)capped.ptr, "{\"k\":1}");
    json_decref(long_doc);
    json_decref(short_doc);
    ccz_buf_free(&capped);
    ccz_buf_free(&b);
}

static char last[256];
static int calls;

static void sink(ccz_log_level level, const char *msg, void *payload)
{
    (void)payload;
    snprintf(last, sizeof last, "%d:%s", (int)level, msg);
    calls++;
}

static void test_log(void)
{
    ccz_log_set_sink(sink, NULL);
    ccz_log_set_level(CCZ_LOG_WARN);
    ccz_log(CCZ_LOG_INFO, "hidden %d", 1);
    CHECK_INT(calls, 0);
    ccz_log(CCZ_LOG_ERROR, "shown %d", 2);
    CHECK_INT(calls, 1);
    CHECK_STR(last, "3:shown 2");
    ccz_log(CCZ_LOG_WARN, "at the level"); /* the level itself is shown */
    CHECK_INT(calls, 2);
    CHECK_STR(last, "2:at the level");
    CHECK_INT(ccz_log_get_level(), CCZ_LOG_WARN);
    ccz_log_level l;
    CHECK_OK(ccz_log_level_parse(&l, "DEBUG"));
    CHECK_INT(l, CCZ_LOG_DEBUG);
    static const char *const names[] = {"debug", "info", "warn", "error", "off"};
    for (int i = 0; i < 5; i++) {
        CHECK_OK(ccz_log_level_parse(&l, names[i]));
        CHECK_INT(l, i);
    }
    CHECK_STATUS(ccz_log_level_parse(&l, "loud"), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "'loud' is not one of debug, info, warn, error, off");
    CHECK_STATUS(ccz_log_level_parse(&l, "warning"), CCZ_ERR_INVALID_ARGUMENT);
    ccz_log_set_level(CCZ_LOG_OFF);
    ccz_log(CCZ_LOG_ERROR, "off");
    CHECK_INT(calls, 2);
    ccz_log_set_sink(NULL, NULL);
    ccz_log_set_level(CCZ_LOG_WARN);
}

TEST_MAIN(T(test_json), T(test_json_marshal), T(test_json_dump_limit), T(test_json_compact),
          T(test_log))
