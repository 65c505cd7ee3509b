/* SPDX-License-Identifier: Apache-2.0 */
/* JSON parsing limits and errors; logging levels and sinks. */
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
    ccz_log_level l;
    CHECK_OK(ccz_log_level_parse(&l, "DEBUG"));
    CHECK_INT(l, CCZ_LOG_DEBUG);
    CHECK_STATUS(ccz_log_level_parse(&l, "loud"), CCZ_ERR_INVALID_ARGUMENT);
    ccz_log_set_level(CCZ_LOG_OFF);
    ccz_log(CCZ_LOG_ERROR, "off");
    CHECK_INT(calls, 1);
    ccz_log_set_sink(NULL, NULL);
    ccz_log_set_level(CCZ_LOG_WARN);
}

TEST_MAIN(T(test_json), T(test_log))
