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

/* Every byte as a digit beside '0': exactly 0-9, a-f and A-F decode, to their values (the digit
 * values are computed without branches, so each range's edge is checked here). */
static void test_hex_every_byte(void)
{
    int good = 0;
    for (int c = 0; c < 256; c++) {
        char hex[2] = {'0', (char)c};
        uint8_t v = 0xee;
        ccz_status s = ccz_hex_decode_fixed(&v, 1, hex, 2);
        int want = c >= '0' && c <= '9'   ? c - '0'
                   : c >= 'a' && c <= 'f' ? c - 'a' + 10
                   : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                          : -1;
        if (want < 0) {
            CHECK_STATUS(s, CCZ_ERR_ENCODING);
            CHECK_CONTAINS(ccz_error_detail(), "character 1 is not a hex digit");
        } else {
            CHECK_OK(s);
            CHECK_INT(v, want);
            good++;
        }
        hex[0] = (char)c; /* and as the high digit */
        hex[1] = '1';
        v = 0xee;
        s = ccz_hex_decode_fixed(&v, 1, hex, 2);
        CHECK(want < 0 ? s == CCZ_ERR_ENCODING : s == CCZ_OK && v == (uint8_t)(want << 4 | 1));
    }
    CHECK_INT(good, 22);
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
    CHECK_CONTAINS(ccz_error_detail(), "base64: length 3 is not a multiple of 4");
    CHECK_STATUS(ccz_base64_decode(&b, "Zm 9", 4), CCZ_ERR_ENCODING);
    CHECK_STATUS(ccz_base64_decode(&b, "Z===", 4), CCZ_ERR_ENCODING);
    CHECK_STATUS(ccz_base64_decode(&b, "Zg=a", 4), CCZ_ERR_ENCODING);
    CHECK_STATUS(ccz_base64_decode(&b, "Zm9v-_==", 8), CCZ_ERR_ENCODING);
    CHECK_STATUS(ccz_base64_decode(&b, "Zm9v\n\n\n\n", 8), CCZ_ERR_ENCODING); /* trimmed whole */
    CHECK_STATUS(ccz_base64_decode(&b, "    Zm9v", 8), CCZ_ERR_ENCODING);
    CHECK_STATUS(ccz_base64_decode(&b, "Zm9v    ", 8), CCZ_ERR_ENCODING); /* a blank last block */
    CHECK_STATUS(ccz_base64_decode(&b, "    ", 4), CCZ_ERR_ENCODING);
    CHECK_INT(b.len, 0);
    /* every byte value at the start, in the middle and at the end (before padding or not) is
     * taken exactly when it is in the alphabet: OpenSSL trims white space at the ends and
     * reads '=' anywhere as zero bits, which the decoder must not let through */
    static const char *const shapes[] = {"?m9vYmFy", "Zm?vYmFy", "Zm9vYmF?",
                                         "Zm9vYm?=", "Zm9vY?=="};
    for (size_t k = 0; k < CCZ_ARRAY_LEN(shapes); k++) {
        for (int c = 0; c < 256; c++) {
            char text[9];
            memcpy(text, shapes[k], 9);
            *strchr(text, '?') = (char)c;
            bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                         (c >= '0' && c <= '9') || c == '+' || c == '/';
            bool padding = c == '=' && (k == 2 || k == 3); /* "Zm9vYmF=", "Zm9vYm==" */
            ccz_buf_reset(&b);
            ccz_status st = ccz_base64_decode(&b, text, 8);
            CHECK_STATUS(st, alpha || padding ? CCZ_OK : CCZ_ERR_ENCODING);
            if (alpha)
                CHECK_INT(b.len, 6 - (strchr(shapes[k], '=') ? strlen(strchr(shapes[k], '=')) : 0));
            else if (!padding)
                CHECK(strstr(ccz_error_detail(), "not in the alphabet") != NULL);
        }
    }
    ccz_buf_free(&b);
}

/* Sizes OpenSSL's int-sized codec cannot take are refused before any byte is read or any
 * memory reserved (the text pointers below are never read: the length alone decides). */
static void test_too_large(void)
{
    ccz_buf b;
    ccz_buf_init(&b, 1024, false);
    static const char four[] = "AAAA";
    CHECK_STATUS(ccz_base64_decode(&b, four, (size_t)INT32_MAX + 1), CCZ_ERR_TOO_LARGE);
    CHECK_CONTAINS(ccz_error_detail(), "base64 input too large");
    CHECK_STATUS(ccz_base64_encode(&b, CCZ_SPAN(four, (size_t)INT32_MAX / 4 * 3 - 2)),
                 CCZ_ERR_TOO_LARGE);
    CHECK_CONTAINS(ccz_error_detail(), "base64 input too large");
    CHECK_STATUS(ccz_hex_encode(&b, CCZ_SPAN(four, SIZE_MAX / 2 + 1)), CCZ_ERR_TOO_LARGE);
    CHECK_CONTAINS(ccz_error_detail(), "hex input too large");
    CHECK_INT(b.len, 0);
    uint8_t out[2];
    CHECK_STATUS(ccz_hex_decode_fixed(out, 2, "beefef", 6), CCZ_ERR_ENCODING);
    CHECK_CONTAINS(ccz_error_detail(), "hex: expected 4 digits (2 bytes), got 6");
    ccz_buf_free(&b);
}

/* A buffer's cap is on the bytes decoded, not on the padding: 32 bytes of base64 (44 characters,
 * one '=') go into a 32-byte buffer, and one byte more than the cap is still refused. */
static void test_base64_cap(void)
{
    ccz_buf b;
    ccz_buf_init(&b, 1, true);
    CHECK_OK(ccz_base64_decode(&b, "Zg==", 4));
    CHECK(b.len == 1 && b.ptr[0] == 'f' && b.ptr[1] == 0);
    ccz_buf_free(&b);
    ccz_buf_init(&b, 32, true);
    static const char key[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    CHECK_OK(ccz_base64_decode(&b, key, strlen(key)));
    CHECK_INT(b.len, 32);
    for (size_t i = 0; i < b.len; i++)
        CHECK_INT(b.ptr[i], i);
    ccz_buf_free(&b);
    ccz_buf_init(&b, 4, false); /* appended after what is there */
    CHECK_OK(ccz_buf_append(&b, "abc", 3));
    CHECK_OK(ccz_base64_decode(&b, "Zg==", 4));
    CHECK_STR((const char *)b.ptr, "abcf");
    CHECK_STATUS(ccz_base64_decode(&b, "Zg==", 4), CCZ_ERR_TOO_LARGE);
    CHECK_CONTAINS(ccz_error_detail(), "buffer would exceed its 4-byte limit");
    CHECK_INT(b.len, 4);
    ccz_buf_free(&b);
    ccz_buf_init(&b, 1, false);
    CHECK_STATUS(ccz_base64_decode(&b, "Zm8=", 4), CCZ_ERR_TOO_LARGE);
    CHECK_INT(b.len, 0);
    ccz_buf_free(&b);
}

TEST_MAIN(T(test_hex), T(test_hex_every_byte), T(test_base64), T(test_too_large),
          T(test_base64_cap))
