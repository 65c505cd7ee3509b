/* SPDX-License-Identifier: Apache-2.0 */
/* The cursor: reads in both byte orders, DER's tag-length-value, and failures that leave the
 * position untouched. */
#include "test.h"

static void test_reads(void)
{
    static const uint8_t in[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17};
    ccz_cursor c;
    ccz_cursor_init(&c, CCZ_SPAN(in, sizeof in));
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    CHECK_OK(ccz_cursor_u8(&c, &u8));
    CHECK_INT(u8, 1);
    CHECK_OK(ccz_cursor_u16le(&c, &u16));
    CHECK_INT(u16, 0x0302);
    CHECK_OK(ccz_cursor_u16be(&c, &u16));
    CHECK_INT(u16, 0x0405);
    CHECK_OK(ccz_cursor_u32le(&c, &u32));
    CHECK_INT(u32, 0x09080706);
    CHECK_OK(ccz_cursor_u32be(&c, &u32));
    CHECK_INT(u32, 0x0a0b0c0d);
    CHECK_INT(ccz_cursor_remaining(&c), 4);
    /* what was read so far: the bytes before the position, not the whole input */
    ccz_span done = ccz_cursor_consumed(&c);
    CHECK(done.ptr == in && done.len == 13);
    CHECK_STATUS(ccz_cursor_u64le(&c, &u64), CCZ_ERR_TRUNCATED);
    CHECK_INT(c.pos, 13); /* unchanged */
    CHECK_CONTAINS(ccz_error_detail(), "need 8 bytes at offset 13, only 4 remain");
    ccz_span s;
    CHECK_OK(ccz_cursor_peek(&c, &s, 2));
    CHECK_INT(s.ptr[0], 14);
    CHECK_INT(c.pos, 13);
    CHECK_STATUS(ccz_cursor_expect_end(&c), CCZ_ERR_TRAILING_DATA);
    CHECK_OK(ccz_cursor_take(&c, &s, 4));
    CHECK_INT(s.len, 4);
    CHECK_OK(ccz_cursor_expect_end(&c));
    CHECK_INT(ccz_cursor_consumed(&c).len, sizeof in);
    CHECK_STATUS(ccz_cursor_u8(&c, &u8), CCZ_ERR_TRUNCATED);
    CHECK_STATUS(ccz_cursor_skip(&c, 1), CCZ_ERR_TRUNCATED);
}

static void test_huge_lengths(void)
{
    static const uint8_t in[4] = {0};
    ccz_cursor c;
    ccz_cursor_init(&c, CCZ_SPAN(in, sizeof in));
    ccz_span s;
    CHECK_OK(ccz_cursor_skip(&c, 1));
    CHECK_STATUS(ccz_cursor_take(&c, &s, SIZE_MAX), CCZ_ERR_TRUNCATED);
    CHECK_STATUS(ccz_cursor_take(&c, &s, SIZE_MAX - 1), CCZ_ERR_TRUNCATED);
    CHECK_INT(c.pos, 1);
    uint8_t out[8];
    CHECK_STATUS(ccz_cursor_copy(&c, out, 4), CCZ_ERR_TRUNCATED);
    CHECK_OK(ccz_cursor_copy(&c, out, 3));
    CHECK_INT(c.pos, 4);                    /* the bytes copied are read */
    ccz_cursor_init(&c, CCZ_SPAN(NULL, 5)); /* no bytes at all */
    CHECK_INT(ccz_cursor_remaining(&c), 0);
}

/* One DER element of in: its status, and on success its tag and value length. */
static ccz_status der(const uint8_t *in, size_t n, uint8_t *tag, size_t *len)
{
    ccz_cursor c;
    ccz_cursor_init(&c, CCZ_SPAN(in, n));
    ccz_span v = {NULL, 0};
    ccz_status s = ccz_cursor_der(&c, tag, &v);
    *len = v.len;
    CHECK_INT(c.pos, s == CCZ_OK ? n : 0); /* all of it, or nothing */
    return s;
}

static void test_der(void)
{
    static uint8_t in[300];
    uint8_t tag = 0;
    size_t len = 0;
    memcpy(in,
           "\x04\x03"
           "abc",
           5); /* short form */
    CHECK_OK(der(in, 5, &tag, &len));
    CHECK_INT(tag, 0x04);
    CHECK_INT(len, 3);
    CHECK_STATUS(der(in, 4, &tag, &len), CCZ_ERR_TRUNCATED);
    memcpy(in, "\x30\x81\x80", 3); /* long form, one byte */
    CHECK_OK(der(in, 3 + 128, &tag, &len));
    CHECK_INT(tag, 0x30);
    CHECK_INT(len, 128);
    memcpy(in, "\x30\x82\x01\x00", 4); /* two bytes */
    CHECK_OK(der(in, 4 + 256, &tag, &len));
    CHECK_INT(len, 256);
    memcpy(in, "\x04\x81\x05", 3); /* a short length in the long form */
    CHECK_STATUS(der(in, 3 + 5, &tag, &len), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "non-minimal length");
    memcpy(in, "\x04\x81\x7f", 3); /* 127 in the long form: the largest short length */
    CHECK_STATUS(der(in, 3 + 127, &tag, &len), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "non-minimal length");
    memcpy(in, "\x04\x82\x00\x80", 4); /* a leading zero byte */
    CHECK_STATUS(der(in, 4 + 128, &tag, &len), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "non-minimal length");
    memcpy(in, "\x04\x80", 2); /* BER's indefinite length */
    CHECK_STATUS(der(in, 2 + 10, &tag, &len), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "unsupported length form 0x80");
    memcpy(in, "\x04\x85\x01\x00\x00\x00\x00", 7); /* five length bytes */
    CHECK_STATUS(der(in, sizeof in, &tag, &len), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "unsupported length form 0x85");
    memcpy(in, "\x04\xc1\x80", 3); /* 65 length bytes (bit 6 of the count set) */
    CHECK_STATUS(der(in, sizeof in, &tag, &len), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "unsupported length form 0xc1");
    memcpy(in, "\x1f\x81\x01\x01\x00", 5); /* a tag number in more bytes */
    CHECK_STATUS(der(in, 5, &tag, &len), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "multi-byte tag");
    /* four length bytes are the most taken: a 16 MiB value is announced, and missing */
    memcpy(in, "\x04\x84\x01\x00\x00\x00", 6);
    CHECK_STATUS(der(in, sizeof in, &tag, &len), CCZ_ERR_TRUNCATED);
    CHECK_CONTAINS(ccz_error_detail(), "need 16777216 bytes at offset 6");
}

/* An element cut in its tag, its length byte or its long-form length: truncated, and the
 * length read so far is never taken for the value's */
static void test_der_cut_lengths(void)
{
    uint8_t tag = 0;
    size_t len = 0;
    CHECK_STATUS(der((const uint8_t *)"", 0, &tag, &len), CCZ_ERR_TRUNCATED);
    CHECK_CONTAINS(ccz_error_detail(), "need 1 bytes at offset 0, only 0 remain");
    CHECK_STATUS(der((const uint8_t *)"\x04", 1, &tag, &len), CCZ_ERR_TRUNCATED);
    CHECK_CONTAINS(ccz_error_detail(), "need 1 bytes at offset 1, only 0 remain");
    /* two length bytes announced, one there */
    CHECK_STATUS(der((const uint8_t *)"\x30\x82\x01", 3, &tag, &len), CCZ_ERR_TRUNCATED);
    CHECK_CONTAINS(ccz_error_detail(), "need 1 bytes at offset 3, only 0 remain");
}

TEST_MAIN(T(test_reads), T(test_huge_lengths), T(test_der), T(test_der_cut_lengths))
