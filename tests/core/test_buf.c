/* SPDX-License-Identifier: Apache-2.0 */
/* Buffers: growth, caps, formatting, wiping. */
#include <stdint.h>
#include <wchar.h>

#include "test.h"

static void test_append_and_cap(void)
{
    ccz_buf b;
    ccz_buf_init(&b, 10, false);
    CHECK_OK(ccz_buf_append(&b, "hello", 5));
    CHECK_OK(ccz_buf_append_u16le(&b, 0x0201));
    CHECK_OK(ccz_buf_append_u8(&b, 3));
    CHECK_INT(b.len, 8);
    CHECK(b.ptr[5] == 1 && b.ptr[6] == 2 && b.ptr[7] == 3);
    CHECK_STATUS(ccz_buf_append(&b, "xyz", 3), CCZ_ERR_TOO_LARGE);
    CHECK_CONTAINS(ccz_error_detail(), "buffer would exceed its 10-byte limit");
    CHECK_INT(b.len, 8); /* nothing lost, nothing half-written */
    CHECK_OK(ccz_buf_append(&b, "xy", 2));
    CHECK_INT(b.len, 10);
    ccz_buf_free(&b);
    CHECK(b.ptr == NULL && b.len == 0);
    /* without a cap, a size that would wrap around is refused, not wrapped */
    ccz_buf_init(&b, 0, false);
    CHECK_OK(ccz_buf_append(&b, "abc", 3));
    CHECK_STATUS(ccz_buf_reserve(&b, SIZE_MAX - 3), CCZ_ERR_TOO_LARGE);
    CHECK_CONTAINS(ccz_error_detail(), "buffer size overflows");
    CHECK_STATUS(ccz_buf_append(&b, "x", SIZE_MAX), CCZ_ERR_TOO_LARGE);
    /* the largest size that does not wrap (the NUL byte included) is asked of the allocator,
     * which refuses it: no capacity arithmetic wraps to a small block (AddressSanitizer's
     * allocator aborts on such a size instead of refusing it: the optimized build checks) */
    if (!UNDER_ASAN) {
        CHECK_STATUS(ccz_buf_reserve(&b, SIZE_MAX - 4), CCZ_ERR_NOMEM);
        CHECK_CONTAINS(ccz_error_detail(), "cannot allocate");
    }
    CHECK_INT(b.len, 3);
    CHECK(b.ptr != NULL && memcmp(b.ptr, "abc", 4) == 0);
    ccz_buf_free(&b);
}

static void test_integers_and_printf(void)
{
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_OK(ccz_buf_append_u32le(&b, 0x04030201));
    CHECK_OK(ccz_buf_append_u64le(&b, 0x0c0b0a0908070605ULL));
    for (int i = 0; i < 12; i++)
        CHECK_INT(b.ptr[i], i + 1);
    ccz_buf_reset(&b);
    CHECK_OK(ccz_buf_printf(&b, "%s-%d", "abc", 42));
    CHECK_OK(ccz_buf_append_str(&b, "!"));
    CHECK_STR((const char *)b.ptr, "abc-42!");
    for (int i = 0; i < 1000; i++)
        CHECK_OK(ccz_buf_printf(&b, "%04d", i));
    CHECK_INT(b.len, 7 + 4000);
    CHECK(b.ptr[b.len] == 0);
    ccz_buf_free(&b);
}

/* A buffer's text ends with a NUL after every change: also after a reserve alone (empty, or
 * moved to a larger block), which callers read as a string */
static void test_reserve_keeps_text(void)
{
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_OK(ccz_buf_reserve(&b, 10));
    CHECK(b.ptr != NULL && b.ptr[0] == 0);
    CHECK_INT(b.len, 0);
    CHECK_OK(ccz_buf_append(&b, "abc", 3));
    CHECK_OK(ccz_buf_reserve(&b, 4096)); /* a new block */
    CHECK_INT(b.len, 3);
    CHECK_STR((const char *)b.ptr, "abc");
    ccz_buf_free(&b);
}

/* Every block keeps a byte past the data for the NUL: filling the first block (64 bytes) to
 * its last byte grows it rather than writing the NUL past its end */
static void test_room_for_nul(void)
{
    ccz_buf b = CCZ_BUF_INIT;
    for (int i = 0; i < 200; i++) {
        CHECK_OK(ccz_buf_append_u8(&b, (uint8_t)'a'));
        CHECK(b.cap > b.len);
        CHECK(b.ptr[b.len] == 0);
    }
    ccz_buf_free(&b);
}

/* A reset buffer that is not secret (so not wiped) reads as empty text, keeping its block */
static void test_reset_empties_text(void)
{
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_OK(ccz_buf_append_str(&b, "abc"));
    uint8_t *p = b.ptr;
    ccz_buf_reset(&b);
    CHECK(b.ptr == p);
    CHECK_INT(b.len, 0);
    CHECK_STR((const char *)b.ptr, "");
    ccz_buf_free(&b);
}

/* Empty text is text: formatting nothing succeeds and appends nothing */
static void test_printf_empty(void)
{
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_OK(ccz_buf_append_str(&b, "x"));
    CHECK_OK(ccz_buf_printf(&b, "%s", ""));
    CHECK_INT(b.len, 1);
    CHECK_STR((const char *)b.ptr, "x");
    ccz_buf_free(&b);
}

/* A format vsnprintf cannot render (a wide character the C locale has no byte for) is an
 * error, and nothing is appended */
static void test_printf_unrenderable(void)
{
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_OK(ccz_buf_append_str(&b, "x"));
    CHECK_STATUS(ccz_buf_printf(&b, "%ls", L"\x100"), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "bad format string");
    CHECK_INT(b.len, 1);
    CHECK_STR((const char *)b.ptr, "x");
    ccz_buf_free(&b);
}

static void test_secret_reset_wipes(void)
{
    ccz_buf b;
    ccz_buf_init(&b, 0, true);
    CHECK_OK(ccz_buf_append(&b, "secret key material", 19));
    uint8_t *p = b.ptr;
    ccz_buf_reset(&b);
    CHECK(b.ptr == p);
    for (size_t i = 0; i < 19; i++)
        CHECK(p[i] == 0);
    ccz_buf_free(&b);
}

static void test_ct_equal(void)
{
    CHECK(ccz_ct_equal("abcd", "abcd", 4));
    CHECK(!ccz_ct_equal("abcd", "abce", 4));
    CHECK(ccz_ct_equal("", "", 0));
}

TEST_MAIN(T(test_append_and_cap), T(test_integers_and_printf), T(test_reserve_keeps_text),
          T(test_room_for_nul), T(test_reset_empties_text), T(test_printf_empty),
          T(test_printf_unrenderable), T(test_secret_reset_wipes), T(test_ct_equal))
