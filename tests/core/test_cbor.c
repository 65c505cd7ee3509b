/* SPDX-License-Identifier: Apache-2.0 */
/* The core CBOR reader (include/ccz/core.h, src/core/cbor.c) on items written here byte by byte
 * from RFC 8949: heads with every argument width, big-endian; a truncated argument, reserved
 * additional information and indefinite lengths refused; byte and text strings told apart,
 * strings longer than the input refused; skipping nested arrays, maps and tags, to a depth of 32
 * and not 33; element counts beyond the input refused. A failed read leaves the cursor where it
 * was. */
#include <string.h>

#include "ccz/core.h"
#include "test.h"

#define SPAN(...) CCZ_SPAN(((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__}))

static void heads(void)
{
    static const struct {
        uint8_t bytes[9];
        size_t len;
        uint8_t major;
        uint64_t arg;
    } ok[] = {
        {{0x00}, 1, 0, 0},
        {{0x17}, 1, 0, 23},
        {{0x18, 0x18}, 2, 0, 24},
        {{0x19, 0x01, 0x02}, 3, 0, 0x0102},
        {{0x3a, 0x01, 0x02, 0x03, 0x04}, 5, 1, 0x01020304},
        {{0x1b, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08}, 9, 0, 0x0102030405060708ull},
        {{0x45}, 1, 2, 5},
        {{0x98, 0xff}, 2, 4, 255},
        {{0xd9, 0x01, 0x8f}, 3, 6, 399},
        {{0xf5}, 1, 7, 21},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        ccz_cursor c;
        ccz_cursor_init(&c, CCZ_SPAN(ok[i].bytes, ok[i].len));
        ccz_cbor_head h;
        CHECK_OK(ccz_cbor_head_read(&c, &h));
        CHECK_INT(h.major, ok[i].major);
        CHECK(h.arg == ok[i].arg);
        CHECK_INT(c.pos, ok[i].len);
    }
    static const struct {
        uint8_t bytes[4];
        size_t len;
        ccz_status status;
        const char *detail;
    } bad[] = {
        {{0}, 0, CCZ_ERR_TRUNCATED, "CBOR: item expected at offset 0"},
        {{0x19, 0x01}, 2, CCZ_ERR_TRUNCATED, "CBOR: argument truncated at offset 0"},
        {{0x1c}, 1, CCZ_ERR_MALFORMED, "CBOR: reserved additional information at offset 0"},
        {{0x1e}, 1, CCZ_ERR_MALFORMED, "CBOR: reserved additional information at offset 0"},
        {{0x5f}, 1, CCZ_ERR_MALFORMED, "CBOR: indefinite length is not supported at offset 0"},
        {{0x9f}, 1, CCZ_ERR_MALFORMED, "CBOR: indefinite length is not supported"},
        {{0xff}, 1, CCZ_ERR_MALFORMED, "CBOR: indefinite length is not supported"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ccz_cursor c;
        ccz_cursor_init(&c, CCZ_SPAN(bad[i].bytes, bad[i].len));
        ccz_cbor_head h;
        CHECK_STATUS(ccz_cbor_head_read(&c, &h), bad[i].status);
        CHECK_CONTAINS(ccz_error_detail(), bad[i].detail);
        CHECK_INT(c.pos, 0);
    }
}

static void strings(void)
{
    ccz_cursor c;
    ccz_span s;
    ccz_cursor_init(&c, SPAN(0x43, 'a', 'b', 'c', 0x62, 'h', 'i', 0x40));
    CHECK_OK(ccz_cbor_bstr(&c, &s));
    CHECK(s.len == 3 && !memcmp(s.ptr, "abc", 3));
    CHECK_STATUS(ccz_cbor_bstr(&c, &s), CCZ_ERR_MALFORMED); /* a text string */
    CHECK_CONTAINS(ccz_error_detail(),
                   "CBOR: byte string expected at offset 4, found major type 3");
    CHECK_INT(c.pos, 4);
    CHECK_OK(ccz_cbor_tstr(&c, &s));
    CHECK(s.len == 2 && !memcmp(s.ptr, "hi", 2));
    CHECK_STATUS(ccz_cbor_tstr(&c, &s), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(),
                   "CBOR: text string expected at offset 7, found major type 2");
    CHECK_OK(ccz_cbor_bstr(&c, &s)); /* the empty byte string */
    CHECK_INT(s.len, 0);
    CHECK_INT(c.pos, 8);

    ccz_cursor_init(&c, SPAN(0x44, 'a', 'b', 'c'));
    CHECK_STATUS(ccz_cbor_bstr(&c, &s), CCZ_ERR_TRUNCATED);
    CHECK_CONTAINS(ccz_error_detail(), "CBOR: string of 4 bytes at offset 0 exceeds the input");
    CHECK_INT(c.pos, 0);
    /* a length of 2^64 - 1 */
    ccz_cursor_init(&c, SPAN(0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 'a'));
    CHECK_STATUS(ccz_cbor_bstr(&c, &s), CCZ_ERR_TRUNCATED);
    CHECK_CONTAINS(ccz_error_detail(), "CBOR: string of 18446744073709551615 bytes at offset 0");
}

/* [n] nested arrays of one element around 0. */
static size_t nested(uint8_t *out, int n)
{
    for (int i = 0; i < n; i++)
        out[i] = 0x81;
    out[n] = 0x00;
    return (size_t)n + 1;
}

static void skipping(void)
{
    /* a map {1: [h'00', "x", tag 1(-1)], "k": {}} then 0x07 */
    ccz_cursor c;
    ccz_cursor_init(
        &c, SPAN(0xa2, 0x01, 0x83, 0x41, 0x00, 0x61, 'x', 0xc1, 0x20, 0x61, 'k', 0xa0, 0x07));
    CHECK_OK(ccz_cbor_skip(&c));
    CHECK_INT(c.pos, 12);
    ccz_cbor_head h;
    CHECK_OK(ccz_cbor_head_read(&c, &h));
    CHECK_INT(h.arg, 7);

    uint8_t deep[40];
    size_t n = nested(deep, 32);
    ccz_cursor_init(&c, CCZ_SPAN(deep, n));
    CHECK_OK(ccz_cbor_skip(&c));
    CHECK_INT(c.pos, n);
    n = nested(deep, 33);
    ccz_cursor_init(&c, CCZ_SPAN(deep, n));
    CHECK_STATUS(ccz_cbor_skip(&c), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "CBOR: nested deeper than 32");
    CHECK_INT(c.pos, 0);
    /* tags count as nesting too */
    memset(deep, 0xc1, 33);
    deep[33] = 0x00;
    ccz_cursor_init(&c, CCZ_SPAN(deep, 34));
    CHECK_STATUS(ccz_cbor_skip(&c), CCZ_ERR_MALFORMED);

    /* counts the input cannot hold: refused before any element is read */
    ccz_cursor_init(&c, SPAN(0x9b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00));
    CHECK_STATUS(ccz_cbor_skip(&c), CCZ_ERR_TRUNCATED);
    CHECK_CONTAINS(ccz_error_detail(), "CBOR: 9223372036854775807 elements exceed the input");
    /* 2^63 pairs: twice the count wraps to no element at all, so the count itself is checked */
    ccz_cursor_init(&c, SPAN(0xbb, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00));
    CHECK_STATUS(ccz_cbor_skip(&c), CCZ_ERR_TRUNCATED);
    CHECK_CONTAINS(ccz_error_detail(), "CBOR: 9223372036854775808 elements exceed the input");
    CHECK_INT(c.pos, 0);
    ccz_cursor_init(&c, SPAN(0xa2, 0x01, 0x02, 0x03)); /* two pairs, four bytes: one short */
    CHECK_STATUS(ccz_cbor_skip(&c), CCZ_ERR_TRUNCATED);
    CHECK_CONTAINS(ccz_error_detail(), "CBOR: 2 elements exceed the input");
    ccz_cursor_init(&c, SPAN(0x82, 0x01)); /* an array one element short */
    CHECK_STATUS(ccz_cbor_skip(&c), CCZ_ERR_TRUNCATED);
    CHECK_INT(c.pos, 0);
    ccz_cursor_init(&c, SPAN(0x62, 'a')); /* a string one byte short */
    CHECK_STATUS(ccz_cbor_skip(&c), CCZ_ERR_TRUNCATED);
    CHECK_CONTAINS(ccz_error_detail(), "CBOR: string exceeds the input");
    ccz_cursor_init(&c, SPAN(0x9f, 0xff));
    CHECK_STATUS(ccz_cbor_skip(&c), CCZ_ERR_MALFORMED);
}

TEST_MAIN(T(heads), T(strings), T(skipping))
