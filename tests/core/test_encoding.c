/* SPDX-License-Identifier: Apache-2.0 */
/* Hex and base64: known answers (RFC 4648) and rejection of bad text. */
#include "test.h"

static void test_hex(void)
{
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_OK(ccz_hex_encode(&b, CCZ_SPAN("\x00\x01\xab\xff", 4)));
    CHECK_STR((const char *)b.ptr, "0001abff");
    ccz_buf_reset(&b);
    CHECK_OK(ccz_hex_decode(&b, "0001ABff", 8));
    CHECK_INT(b.len, 4);
    CHECK(memcmp(b.ptr, "\x00\x01\xab\xff", 4) == 0);
    CHECK_STATUS(ccz_hex_decode(&b, "abc", 3), CCZ_ERR_ENCODING);
    CHECK_CONTAINS(ccz_error_detail(), "odd number of digits");
    CHECK_STATUS(ccz_hex_decode(&b, "0g", 2), CCZ_ERR_ENCODING);
    CHECK_CONTAINS(ccz_error_detail(), "character 1");
    CHECK_INT(b.len, 4);
    uint8_t out[2];
    CHECK_OK(ccz_hex_decode_fixed(out, 2, "beef", 4));
    CHECK(out[0] == 0xbe && out[1] == 0xef);
    CHECK_STATUS(ccz_hex_decode_fixed(out, 2, "bee", 3), CCZ_ERR_ENCODING);
    CHECK_STATUS(ccz_hex_decode_fixed(out, 2, "be ef", 5), CCZ_ERR_ENCODING);
    ccz_buf_free(&b);
}

static void test_base64(void)
{
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const enc[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                      "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        ccz_buf b = CCZ_BUF_INIT;
        CHECK_OK(ccz_base64_encode(&b, CCZ_SPAN(plain[i], strlen(plain[i]))));
        CHECK_STR(b.ptr ? (const char *)b.ptr : "", enc[i]);
        ccz_buf_reset(&b);
        CHECK_OK(ccz_base64_decode(&b, enc[i], strlen(enc[i])));
        CHECK_INT(b.len, strlen(plain[i]));
        CHECK(b.len == 0 || memcmp(b.ptr, plain[i], b.len) == 0);
        ccz_buf_free(&b);
    }
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_STATUS(ccz_base64_decode(&b, "Zm9", 3), CCZ_ERR_ENCODING);
    CHECK_STATUS(ccz_base64_decode(&b, "Zm 9", 4), CCZ_ERR_ENCODING);
    CHECK_STATUS(ccz_base64_decode(&b, "Z===", 4), CCZ_ERR_ENCODING);
    CHECK_STATUS(ccz_base64_decode(&b, "Zg=a", 4), CCZ_ERR_ENCODING);
    CHECK_STATUS(ccz_base64_decode(&b, "Zm9v-_==", 8), CCZ_ERR_ENCODING);
    ccz_buf_free(&b);
}

TEST_MAIN(T(test_hex), T(test_base64))
