/* SPDX-License-Identifier: Apache-2.0 */
/* The cursor: reads in both byte orders, and failures that leave the position untouched. */
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
    ccz_cursor_init(&c, CCZ_SPAN(NULL, 5)); /* no bytes at all */
    CHECK_INT(ccz_cursor_remaining(&c), 0);
}

TEST_MAIN(T(test_reads), T(test_huge_lengths))
