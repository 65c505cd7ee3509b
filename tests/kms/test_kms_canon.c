/* SPDX-License-Identifier: Apache-2.0 */
/* The KMS's request authentication pieces (src/svc/kms/canon.c, replay.c): eHSM's canonical
 * string against the worked examples of eHSM's own params_sort_str run under node, the
 * request signature against the two known HMACs, JavaScript's number formatting, and the replay
 * window: a triple once, then refused until it leaves the window; a full table refuses rather
 * than forgets; and a long random run of inserts and expiries never loses a live entry (the
 * backward-shift deletion of the open-addressing table). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc/kms/internal.h"
#include "test.h"

static const char apikey[] = "44RPFy3SEqLbAahaP9PXSGQ6ABB6gctr";

/* The canonical string of a JSON text, NUL-terminated, in a static buffer. */
static const char *canon_of(const char *text)
{
    static char out[4096];
    json_error_t err;
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &err);
    if (!j) {
        fprintf(stderr, "bad JSON in the test: %s: %s\n", text, err.text);
        CHECK(j != NULL);
        return "";
    }
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_OK(kms_canonical(&b, j));
    snprintf(out, sizeof out, "%.*s", (int)b.len, b.ptr ? (const char *)b.ptr : "");
    CHECK_INT(strlen(out), b.len);
    ccz_buf_free(&b);
    json_decref(j);
    return out;
}

/* ---- the canonical string ------------------------------------------------------------------*/

#define EX1_PAYLOAD                                                                                \
    "{\"keyspec\":\"EH_RSA_3072\",\"origin\":\"EH_INTERNAL_KEY\","                                 \
    "\"keyusage\":\"EH_KEYUSAGE_ENCRYPT_DECRYPT\"}"
#define EX1_CANON                                                                                  \
    "appid=3309ecfa-d02f-49b3-a107-b47d6c7d3854&payload=keyspec=EH_RSA_3072&keyusage=EH_"          \
    "KEYUSAGE_ENCRYPT_DECRYPT&origin=EH_INTERNAL_KEY&timestamp=1643050812444"

/* Example 2 as eHSM's spec writes it has h = 100000000000000000000, a JSON integer that does
 * not fit in 64 bits: jansson refuses the whole document (so the KMS answers Invalid JSON).
 * The same number written 1e20 is a double, which JavaScript prints as the same digits. */
#define EX2_PAYLOAD(h)                                                                             \
    "{\"z\":0,\"y\":false,\"x\":true,\"w\":\"\",\"v\":null,\"u\":[],\"t\":[\"a\",\"b\"],"          \
    "\"s\":{},\"r\":{\"b\":2,\"a\":\"1\"},\"q\":1.5,\"p\":\"0\",\"o\":-1,"                         \
    "\"n\":[0,1,2,3,4,5,6,7,8,9,10,11],\"m\":1e21,\"l\":\"a=b&c\",\"k\":[\"\"],"                   \
    "\"j\":[{\"x\":1}],\"i\":[\"\",\"q\"],\"h\":" h ",\"g\":0.1}"
#define EX2_CANON                                                                                  \
    "appid=a&nonce=n&payload=g=0.1&h=100000000000000000000&i=1=q&j=0=x=1&l=a=b&c&m=1e+21&n=1=1&"   \
    "10=10&11=11&2=2&3=3&4=4&5=5&6=6&7=7&8=8&9=9&o=-1&p=0&q=1.5&r=a=1&b=2&s=&t=0=a&1=b&x=true&"    \
    "timestamp=t"

static void test_worked_examples(void)
{
    CHECK_STR(canon_of("{\"appid\":\"3309ecfa-d02f-49b3-a107-b47d6c7d3854\","
                       "\"timestamp\":\"1643050812444\",\"payload\":" EX1_PAYLOAD "}"),
              EX1_CANON);
    /* the keys' order in the document does not matter */
    CHECK_STR(canon_of("{\"timestamp\":\"1643050812444\",\"payload\":" EX1_PAYLOAD
                       ",\"appid\":\"3309ecfa-d02f-49b3-a107-b47d6c7d3854\"}"),
              EX1_CANON);
    CHECK_STR(
        canon_of("{\"appid\":\"a\",\"nonce\":\"n\",\"timestamp\":\"t\",\"payload\":" EX2_PAYLOAD(
            "1e20") "}"),
        EX2_CANON);
    CHECK_STR(
        canon_of("{\"appid\":\"a\",\"nonce\":\"n\",\"timestamp\":\"t\",\"payload\":" EX2_PAYLOAD(
            "100000000000000000000.0") "}"),
        EX2_CANON);
    /* the literal integer is beyond jansson: the document does not parse (no silent change) */
    json_error_t err;
    json_t *j = json_loads("{\"payload\":" EX2_PAYLOAD("100000000000000000000") "}",
                           JSON_REJECT_DUPLICATES, &err);
    CHECK(j == NULL);
    json_decref(j);
    /* example 3 */
    CHECK_STR(canon_of("{\"appid\":\"a\",\"timestamp\":\"t\",\"payload\":{}}"),
              "appid=a&payload=&timestamp=t");
    CHECK_STR(canon_of("{\"appid\":\"a\",\"timestamp\":\"t\"}"), "appid=a&timestamp=t");
    /* docs/kms.md's example: an empty aad is left out */
    CHECK_STR(canon_of("{\"appid\":\"a\",\"timestamp\":\"t\",\"payload\":{\"keyid\":\"k\",\"aad\":"
                       "\"\"}}"),
              "appid=a&payload=keyid=k&timestamp=t");
    CHECK_STR(canon_of("{}"), "");
}

static void test_loose_equality_and_nesting(void)
{
    /* String() of these arrays is "": left out; [false] and [0] are "false" and "0", kept,
     * and written as their elements' canonical strings, where false and 0 are left out */
    CHECK_STR(canon_of("{\"a\":[null],\"b\":[[]],\"c\":[[\"\"]],\"d\":[false],\"e\":[0],\"f\":-0,"
                       "\"g\":0.0,\"h\":\"x\"}"),
              "d=&e=&h=x");
    /* nested objects and arrays: no brackets, indices as keys sorted as strings */
    CHECK_STR(canon_of("{\"a\":{\"c\":{\"e\":1,\"d\":[true,\"+/ =\"]},\"b\":null}}"),
              "a=c=d=0=true&1=+/ =&e=1");
    /* byte order of the keys (upper case before lower case, shorter prefix first) */
    CHECK_STR(canon_of("{\"b\":1,\"B\":2,\"ab\":3,\"a\":4,\"a0\":5}"), "B=2&a=4&a0=5&ab=3&b=1");
    /* not an object at the top */
    json_t *arr = json_loads("[1,2]", 0, NULL);
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_STATUS(kms_canonical(&b, arr), CCZ_ERR_INVALID_ARGUMENT);
    ccz_buf_free(&b);
    json_decref(arr);
    /* nesting deeper than the limit is refused, not recursed into without end */
    char deep[400] = "{\"a\":";
    for (int i = 0; i < 60; i++)
        strcat(deep, "[");
    for (int i = 0; i < 60; i++)
        strcat(deep, "]");
    strcat(deep, ",\"b\":[[[[[[1]]]]]]}");
    json_t *d = json_loads(deep, 0, NULL);
    CHECK(d != NULL);
    ccz_buf_init(&b, 0, false);
    ccz_status s = kms_canonical(&b, d);
    CHECK(s == CCZ_OK || s == CCZ_ERR_TOO_LARGE);
    ccz_buf_free(&b);
    json_decref(d);
    char deeper[400] = "{\"a\":";
    for (int i = 0; i < 60; i++)
        strcat(deeper, "{\"k\":");
    strcat(deeper, "1");
    for (int i = 0; i < 60; i++)
        strcat(deeper, "}");
    strcat(deeper, "}");
    d = json_loads(deeper, 0, NULL);
    CHECK(d != NULL);
    ccz_buf_init(&b, 0, false);
    CHECK_STATUS(kms_canonical(&b, d), CCZ_ERR_TOO_LARGE);
    ccz_buf_free(&b);
    json_decref(d);
}

/* JavaScript's String(number) for the doubles jansson reads */
/* levels of objects nested in one another, "x" innermost, as JSON */
static json_t *nested(int levels)
{
    json_t *j = json_string("x");
    for (int i = 0; i < levels; i++)
        j = json_pack("{s:o}", "a", j);
    return j;
}

/* The canonical string recurses into nested objects and arrays to 32 levels (the object itself
 * the first), no deeper: a deeper one is refused, not written (a request's payload is the
 * second level, so it holds 31). */
static void test_nesting_depth(void)
{
    ccz_buf b = CCZ_BUF_INIT;
    json_t *ok = nested(32), *deep = nested(33);
    CHECK_OK(kms_canonical(&b, ok));
    CHECK_INT(b.len, 32 * 2 + 1); /* a=a=…=x */
    ccz_buf_reset(&b);
    CHECK_STATUS(kms_canonical(&b, deep), CCZ_ERR_TOO_LARGE);
    CHECK_CONTAINS(ccz_error_detail(), "the JSON is nested too deep");
    ccz_buf_reset(&b);
    json_t *pl_ok = nested(31);
    CHECK_OK(kms_request_canonical(&b, "a", NULL, "t", pl_ok));
    ccz_buf_reset(&b);
    CHECK_STATUS(kms_request_canonical(&b, "a", NULL, "t", ok), CCZ_ERR_TOO_LARGE);
    /* arrays count as levels too */
    json_t *arr = json_pack("{s:o}", "a", json_pack("[o]", nested(31)));
    ccz_buf_reset(&b);
    CHECK_STATUS(kms_canonical(&b, arr), CCZ_ERR_TOO_LARGE);
    json_decref(arr);
    json_decref(pl_ok);
    json_decref(ok);
    json_decref(deep);
    ccz_buf_free(&b);
}

static void test_js_numbers(void)
{
    static const struct {
        const char *json, *js;
    } cases[] = {
        {"0.1", "0.1"},
        {"1.5", "1.5"},
        {"-1.5", "-1.5"},
        {"1e21", "1e+21"},
        {"1.5e21", "1.5e+21"},
        {"-1e21", "-1e+21"},
        {"1e20", "100000000000000000000"},
        {"123456789012345680000.0", "123456789012345680000"},
        {"1e-7", "1e-7"},
        {"1.25e-7", "1.25e-7"},
        {"1e-6", "0.000001"},
        {"0.000123", "0.000123"},
        {"2.0", "2"},
        {"100.0", "100"},
        {"0.30000000000000004", "0.30000000000000004"},
        {"1.7976931348623157e308", "1.7976931348623157e+308"},
        {"5e-324", "5e-324"},
        {"16", "16"},
        {"-1", "-1"},
        {"9007199254740991", "9007199254740991"},
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(cases); i++) {
        char text[128], want[128];
        snprintf(text, sizeof text, "{\"v\":%s}", cases[i].json);
        snprintf(want, sizeof want, "v=%s", cases[i].js);
        CHECK_STR(canon_of(text), want);
    }
}

/* ---- the request signature -----------------------------------------------------------------*/

static void test_request_sign(void)
{
    char sign[KMS_SIGN_LEN + 1];
    json_t *p1 = json_loads(EX1_PAYLOAD, 0, NULL);
    CHECK_OK(kms_request_sign(sign, CCZ_SPAN(apikey, 32), "3309ecfa-d02f-49b3-a107-b47d6c7d3854",
                              NULL, "1643050812444", p1));
    CHECK_STR(sign, "NfZ5JFzLxoXZdjPiUDiBQoTZUTElZGYTrFbPMldnxiw=");
    /* a different apikey, appid, nonce, timestamp or payload: another signature */
    char other[KMS_SIGN_LEN + 1];
    CHECK_OK(kms_request_sign(other, CCZ_SPAN("44RPFy3SEqLbAahaP9PXSGQ6ABB6gcts", 32),
                              "3309ecfa-d02f-49b3-a107-b47d6c7d3854", NULL, "1643050812444", p1));
    CHECK(strcmp(other, sign) != 0);
    CHECK_OK(kms_request_sign(other, CCZ_SPAN(apikey, 32), "3309ecfa-d02f-49b3-a107-b47d6c7d3854",
                              "x", "1643050812444", p1));
    CHECK(strcmp(other, sign) != 0);
    CHECK_OK(kms_request_sign(other, CCZ_SPAN(apikey, 32), "3309ecfa-d02f-49b3-a107-b47d6c7d3854",
                              NULL, "1643050812445", p1));
    CHECK(strcmp(other, sign) != 0);
    CHECK_OK(kms_request_sign(other, CCZ_SPAN(apikey, 32), "3309ecfa-d02f-49b3-a107-b47d6c7d3855",
                              NULL, "1643050812444", p1));
    CHECK(strcmp(other, sign) != 0);
    CHECK_OK(kms_request_sign(other, CCZ_SPAN(apikey, 32), "3309ecfa-d02f-49b3-a107-b47d6c7d3854",
                              NULL, "1643050812444", NULL));
    CHECK(strcmp(other, sign) != 0);
    /* an empty nonce is left out like an absent one (loosely equal to "") */
    CHECK_OK(kms_request_sign(other, CCZ_SPAN(apikey, 32), "3309ecfa-d02f-49b3-a107-b47d6c7d3854",
                              "", "1643050812444", p1));
    CHECK_STR(other, sign);
    json_decref(p1);
    /* a payload loosely equal to "" is left out like an absent one: no "payload=" */
    const char *const empty_payloads[] = {"null", "\"\"", "0", "false", "[]", "[null]"};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(empty_payloads); i++) {
        json_t *pe = json_loads(empty_payloads[i], JSON_DECODE_ANY, NULL);
        ccz_buf b = CCZ_BUF_INIT;
        CHECK_OK(kms_request_canonical(&b, "a", "n", "t", pe));
        CHECK_OK(ccz_buf_append_u8(&b, 0));
        CHECK_STR((const char *)b.ptr, "appid=a&nonce=n&timestamp=t");
        ccz_buf_free(&b);
        json_decref(pe);
    }

    json_t *p2 = json_loads(EX2_PAYLOAD("1e20"), 0, NULL);
    CHECK(p2 != NULL);
    CHECK_OK(kms_request_sign(sign, CCZ_SPAN(apikey, 32), "a", "n", "t", p2));
    CHECK_STR(sign, "dax2ZEXSfhlmh6LyqYgWo2fSPEEREymQuABWKFlshwI=");
    json_decref(p2);

    /* the HMAC itself: RFC 4231 test case 2 */
    uint8_t mac[32];
    static const uint8_t want[32] = {0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e,
                                     0x6a, 0x04, 0x24, 0x26, 0x08, 0x95, 0x75, 0xc7,
                                     0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27, 0x39, 0x83,
                                     0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43};
    CHECK_OK(kms_hmac_sha256(mac, CCZ_LIT("Jefe"), CCZ_LIT("what do ya want for nothing?")));
    CHECK(memcmp(mac, want, 32) == 0);
}

/* kms_b64_fixed writes the base64 and its NUL: 32 bytes take 44 characters and 45 bytes of room,
 * and 44 is refused before anything is written past it. */
static void test_b64_fixed(void)
{
    uint8_t in[32];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)(0xf0 + i);
    char out[48];
    memset(out, 'Z', sizeof out);
    CHECK_STATUS(kms_b64_fixed(out, 44, CCZ_SPAN(in, sizeof in)), CCZ_ERR_TOO_LARGE);
    CHECK(out[43] == 'Z' && out[44] == 'Z');
    CHECK_OK(kms_b64_fixed(out, 45, CCZ_SPAN(in, sizeof in)));
    CHECK_STR(out, "8PHy8/T19vf4+fr7/P3+/wABAgMEBQYHCAkKCwwNDg8=");
    CHECK(out[45] == 'Z');
    /* 1 byte: 4 characters and the NUL */
    CHECK_STATUS(kms_b64_fixed(out, 4, CCZ_SPAN(in, 1)), CCZ_ERR_TOO_LARGE);
    CHECK_OK(kms_b64_fixed(out, 5, CCZ_SPAN(in, 1)));
    CHECK_STR(out, "8A==");
}

/* ---- the replay window ---------------------------------------------------------------------*/

#define T0 1735689600000LL /* a whole second */
#define WINDOW 600000LL

static const char *ts_of(int64_t ms)
{
    static char bufs[4][24];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof bufs[0], "%" PRId64, ms);
    return b;
}

static void test_replay_basic(void)
{
    kms_replay *r;
    CHECK_STATUS(kms_replay_new(&r, 0), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(kms_replay_new(&r, (1u << 26) + 1), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "1 to 67108864 requests, not 67108865");
    CHECK_OK(kms_replay_max_ok(1u << 26)); /* the most (1.5 GiB of table and heap) */
    CHECK_OK(kms_replay_new(&r, 100));
    const char *ts = ts_of(T0);
    CHECK_OK(kms_replay_check(r, "app", "n1", ts, T0));
    CHECK_INT(kms_replay_size(r), 1);
    CHECK_STATUS(kms_replay_check(r, "app", "n1", ts, T0), CCZ_ERR_EXISTS);
    CHECK_STATUS(kms_replay_check(r, "app", "n1", ts, T0 + 5000), CCZ_ERR_EXISTS);
    CHECK_INT(kms_replay_size(r), 1);
    /* any field different: a new triple */
    CHECK_OK(kms_replay_check(r, "app2", "n1", ts, T0));
    CHECK_OK(kms_replay_check(r, "app", "n2", ts, T0));
    CHECK_OK(kms_replay_check(r, "app", "n1", ts_of(T0 + 1), T0));
    /* no nonce, and an empty nonce: one triple, as they are one signed request (the canonical
     * string leaves an empty nonce out, so both carry the same sign: test_request_sign); the
     * one with "nonce": "" is the other's replay, either way round */
    CHECK_OK(kms_replay_check(r, "app", NULL, ts, T0));
    CHECK_STATUS(kms_replay_check(r, "app", NULL, ts, T0), CCZ_ERR_EXISTS);
    CHECK_STATUS(kms_replay_check(r, "app", "", ts, T0), CCZ_ERR_EXISTS);
    CHECK_OK(kms_replay_check(r, "app", "", ts_of(T0 + 2), T0));
    CHECK_STATUS(kms_replay_check(r, "app", NULL, ts_of(T0 + 2), T0), CCZ_ERR_EXISTS);
    /* field boundaries count: ("ab","c") is not ("a","bc") */
    CHECK_OK(kms_replay_check(r, "ab", "c", ts, T0));
    CHECK_OK(kms_replay_check(r, "a", "bc", ts, T0));
    CHECK_INT(kms_replay_size(r), 8);
    /* nor is ("a","nb") ("an","b"): the appid's end is not taken for the nonce's marker */
    CHECK_OK(kms_replay_check(r, "a", "nb", ts, T0));
    CHECK_OK(kms_replay_check(r, "an", "b", ts, T0));
    CHECK_INT(kms_replay_size(r), 10);
    /* remembered as long as the timestamp could pass the ±10-minute check, and a little more */
    CHECK_STATUS(kms_replay_check(r, "app", "n1", ts, T0 + WINDOW - 1), CCZ_ERR_EXISTS);
    CHECK_STATUS(kms_replay_check(r, "app", "n1", ts, T0 + WINDOW + 1000), CCZ_ERR_EXISTS);
    /* then forgotten: the same triple passes again (and is remembered again) */
    CHECK_OK(kms_replay_check(r, "app", "n1", ts, T0 + WINDOW + 2000));
    CHECK_INT(kms_replay_size(r), 1);
    CHECK_OK(kms_replay_check(r, "app", NULL, ts, T0 + WINDOW + 2000));
    /* (the service's timestamp check refuses those before they get here; a request of now is
     * remembered again) */
    const char *now_ts = ts_of(T0 + WINDOW + 2000);
    CHECK_OK(kms_replay_check(r, "app", "n1", now_ts, T0 + WINDOW + 2000));
    CHECK_STATUS(kms_replay_check(r, "app", "n1", now_ts, T0 + WINDOW + 2500), CCZ_ERR_EXISTS);
    /* a timestamp in the future is remembered until it is ten minutes in the past */
    const char *later = ts_of(T0 + 2 * WINDOW - 1000);
    CHECK_OK(kms_replay_check(r, "app", "f", later, T0 + WINDOW + 3000));
    CHECK_STATUS(kms_replay_check(r, "app", "f", later, T0 + 3 * WINDOW - 1001), CCZ_ERR_EXISTS);
    kms_replay_free(r);
    kms_replay_free(NULL);
    /* nor is ("x1", ts) ("x", "1" ts): the nonce's end is not taken for the timestamp's start */
    CHECK_OK(kms_replay_new(&r, 4));
    char t0[24], one_ts[32];
    snprintf(t0, sizeof t0, "%s", ts_of(T0));
    snprintf(one_ts, sizeof one_ts, "1%s", t0);
    CHECK_OK(kms_replay_check(r, "app", "x1", t0, T0));
    CHECK_OK(kms_replay_check(r, "app", "x", one_ts, T0));
    CHECK_INT(kms_replay_size(r), 2);
    kms_replay_free(r);
}

static void test_replay_full(void)
{
    kms_replay *r;
    CHECK_OK(kms_replay_new(&r, 4));
    for (int i = 0; i < 4; i++) {
        char nonce[8];
        snprintf(nonce, sizeof nonce, "n%d", i);
        CHECK_OK(kms_replay_check(r, "app", nonce, ts_of(T0 + i * 1000), T0 + i * 1000));
    }
    CHECK_INT(kms_replay_size(r), 4);
    /* full of live entries: refused, none forgotten */
    CHECK_STATUS(kms_replay_check(r, "app", "n4", ts_of(T0 + 4000), T0 + 4000),
                 CCZ_ERR_UNAVAILABLE);
    CHECK_STATUS(kms_replay_check(r, "app", "n4", ts_of(T0 + 4000), T0 + 4000),
                 CCZ_ERR_UNAVAILABLE);
    CHECK_INT(kms_replay_size(r), 4);
    for (int i = 0; i < 4; i++) {
        char nonce[8];
        snprintf(nonce, sizeof nonce, "n%d", i);
        CHECK_STATUS(kms_replay_check(r, "app", nonce, ts_of(T0 + i * 1000), T0 + 4000),
                     CCZ_ERR_EXISTS);
    }
    /* the first two expire: two places again, then full again */
    int64_t now = T0 + 1000 + WINDOW + 2000;
    CHECK_OK(kms_replay_check(r, "app", "n4", ts_of(now), now));
    CHECK_INT(kms_replay_size(r), 3);
    CHECK_OK(kms_replay_check(r, "app", "n5", ts_of(now), now));
    CHECK_STATUS(kms_replay_check(r, "app", "n6", ts_of(now), now), CCZ_ERR_UNAVAILABLE);
    CHECK_STATUS(kms_replay_check(r, "app", "n2", ts_of(T0 + 2000), now), CCZ_ERR_EXISTS);
    CHECK_STATUS(kms_replay_check(r, "app", "n3", ts_of(T0 + 3000), now), CCZ_ERR_EXISTS);
    CHECK_STATUS(kms_replay_check(r, "app", "n4", ts_of(now), now), CCZ_ERR_EXISTS);
    /* everything expires */
    now += 2 * WINDOW;
    CHECK_OK(kms_replay_check(r, "app", "n2", ts_of(now), now));
    CHECK_INT(kms_replay_size(r), 1);
    kms_replay_free(r);
}

/* Entries leave when they expire, not in the order they came: a request stamped nine minutes
 * ahead (a client's clock running fast) does not hold back the ones after it, which would keep
 * the window full of expired entries and refuse everyone (503) for ten minutes more. */
static void test_replay_skewed_clock(void)
{
    kms_replay *r;
    CHECK_OK(kms_replay_new(&r, 2));
    const char *ahead = ts_of(T0 + WINDOW - 60000);
    CHECK_OK(kms_replay_check(r, "fast", "a", ahead, T0));
    CHECK_OK(kms_replay_check(r, "app", "b", ts_of(T0), T0));
    CHECK_STATUS(kms_replay_check(r, "app", "c", ts_of(T0), T0), CCZ_ERR_UNAVAILABLE);
    CHECK_CONTAINS(ccz_error_detail(), "the replay window is full (2 signed requests");
    /* "b" can no longer pass the timestamp check: its place is free; "a" still holds its own */
    int64_t now = T0 + WINDOW + 2000;
    CHECK_OK(kms_replay_check(r, "app", "c", ts_of(now), now));
    CHECK_INT(kms_replay_size(r), 2);
    CHECK_STATUS(kms_replay_check(r, "fast", "a", ahead, now), CCZ_ERR_EXISTS);
    CHECK_STATUS(kms_replay_check(r, "app", "d", ts_of(now), now), CCZ_ERR_UNAVAILABLE);
    /* then "a" goes too, "c" stays */
    now = T0 + 2 * WINDOW - 60000 + 2000;
    CHECK_OK(kms_replay_check(r, "app", "d", ts_of(now), now));
    CHECK_STATUS(kms_replay_check(r, "app", "c", ts_of(T0 + WINDOW + 2000), now), CCZ_ERR_EXISTS);
    CHECK_INT(kms_replay_size(r), 2);
    kms_replay_free(r);
}

/* The heap of expiry times keeps its order through a pop: stamped 1, 4, 2, 5, 6, 3 seconds
 * after T0, the entry of 1 s leaves first and the one of 3 s moves up from the end; the sift-down
 * must swap it with the smaller child (2 s, on the right), or the entry of 2 s stays under a
 * root that has not expired and outlives its window, holding a place in a full table. */
static void test_replay_heap_order(void)
{
    kms_replay *r;
    CHECK_OK(kms_replay_new(&r, 8));
    static const int secs[] = {1, 4, 2, 5, 6, 3};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(secs); i++) {
        char nonce[8];
        snprintf(nonce, sizeof nonce, "h%d", secs[i]);
        CHECK_OK(kms_replay_check(r, "app", nonce, ts_of(T0 + secs[i] * 1000), T0));
    }
    CHECK_INT(kms_replay_size(r), 6);
    /* an entry stamped k seconds after T0 leaves at T0 + k s + the window + 2 s */
    int64_t now = T0 + 1000 + WINDOW + 2000;
    CHECK_OK(kms_replay_check(r, "app", "x1", ts_of(now), now));
    CHECK_INT(kms_replay_size(r), 6); /* 1 s left, x1 came */
    now = T0 + 2000 + WINDOW + 2000;
    CHECK_OK(kms_replay_check(r, "app", "x2", ts_of(now), now));
    CHECK_INT(kms_replay_size(r), 6); /* 2 s left, x2 came */
    now = T0 + 3000 + WINDOW + 2000;
    CHECK_OK(kms_replay_check(r, "app", "x3", ts_of(now), now));
    CHECK_INT(kms_replay_size(r), 6); /* 3 s left, x3 came */
    CHECK_STATUS(kms_replay_check(r, "app", "h4", ts_of(T0 + 4000), now), CCZ_ERR_EXISTS);
    CHECK_STATUS(kms_replay_check(r, "app", "x1", ts_of(T0 + 1000 + WINDOW + 2000), now),
                 CCZ_ERR_EXISTS);
    kms_replay_free(r);
}

/* A model of the window: every triple accepted, with its timestamp. */
typedef struct {
    unsigned id;
    int64_t ts;
    bool has_nonce;
} entry;

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static ccz_status check_entry(kms_replay *r, const entry *e, int64_t now)
{
    char appid[16], nonce[16];
    if (e->has_nonce) /* a few apps; the nonce tells the requests apart */
        snprintf(appid, sizeof appid, "app%u", e->id % 7);
    else /* no nonce: an app of its own */
        snprintf(appid, sizeof appid, "solo%u", e->id);
    snprintf(nonce, sizeof nonce, "%u", e->id);
    return kms_replay_check(r, appid, e->has_nonce ? nonce : NULL, ts_of(e->ts), now);
}

/* Random inserts with random timestamps in the window and time moving on: every entry whose
 * timestamp could still pass the window check is still refused, whatever was deleted around it.
 * A quarter of them have no nonce. */
static void churn(size_t max, unsigned ops, int64_t step_max)
{
    kms_replay *r;
    CHECK_OK(kms_replay_new(&r, max));
    entry *live = calloc(4 * max + 16, sizeof *live);
    size_t n_live = 0;
    int64_t now = T0;
    unsigned refused = 0, lost = 0, accepted = 0;
    for (unsigned op = 0; op < ops && lost == 0; op++) {
        now += (int64_t)(next_rand() % (uint64_t)step_max);
        /* drop from the model what can no longer be replayed (it may or may not be there) */
        size_t w = 0;
        for (size_t i = 0; i < n_live; i++)
            if (live[i].ts + WINDOW > now)
                live[w++] = live[i];
        n_live = w;
        entry e = {op, now - WINDOW + 1 + (int64_t)(next_rand() % (2 * WINDOW - 1)),
                   next_rand() % 4 != 0};
        ccz_status s = check_entry(r, &e, now);
        if (s == CCZ_OK) {
            accepted++;
            CHECK(n_live < 4 * max + 16);
            if (n_live < 4 * max + 16)
                live[n_live++] = e;
        } else if (s == CCZ_ERR_UNAVAILABLE) {
            refused++;
            CHECK(kms_replay_size(r) == max);
        } else {
            CHECK_STATUS(s, CCZ_OK);
        }
        CHECK(kms_replay_size(r) <= max);
        CHECK(kms_replay_size(r) >= n_live);
        /* a few live ones each time, all of them now and then */
        size_t probes = op % 97 == 0 ? n_live : (n_live ? 3 : 0);
        for (size_t k = 0; k < probes; k++) {
            const entry *x = op % 97 == 0 ? &live[k] : &live[next_rand() % n_live];
            ccz_status t = check_entry(r, x, now);
            if (t != CCZ_ERR_EXISTS) {
                fprintf(stderr, "op %u: live entry %u (ts %" PRId64 ", now %" PRId64 ") gave %s\n",
                        op, x->id, x->ts, now, ccz_status_name(t));
                lost++;
                break;
            }
        }
    }
    CHECK_INT(lost, 0);
    /* the run went through full tables and through many expiries */
    CHECK(accepted > 10 * max);
    CHECK(refused > 0);
    kms_replay_free(r);
    free(live);
}

static void test_replay_churn(void)
{
    churn(1000, 100000, 1000);
    churn(7, 20000, 200000); /* a 16-slot table: probe runs wrap around its end */
    churn(64, 50000, 15000);
}

TEST_MAIN(T(test_worked_examples), T(test_loose_equality_and_nesting), T(test_nesting_depth),
          T(test_js_numbers), T(test_request_sign), T(test_b64_fixed), T(test_replay_basic),
          T(test_replay_full), T(test_replay_skewed_clock), T(test_replay_heap_order),
          T(test_replay_churn))
