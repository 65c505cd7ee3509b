/* SPDX-License-Identifier: Apache-2.0 */
/* Hex and base64. Input text is untrusted: every character is checked against the alphabet
 * before OpenSSL's block codec sees it, and base64 padding must be canonical. */
#include <string.h>

#include <openssl/evp.h>

#include "ccz/core.h"

/* A hex digit's value, or -1. Keys and tokens arrive as hex: no branch on c, masks of the two
 * ranges instead ('A'-'F' joined to 'a'-'f' by the 0x20 bit). */
static int hexval(unsigned char c)
{
    int d = (int)c - '0', l = (int)(c | 0x20) - 'a';
    int dm = -(int)((unsigned)d < 10u), lm = -(int)((unsigned)l < 6u);
    return (d & dm) | ((l + 10) & lm) | ~(dm | lm);
}

void ccz_hex_to_str(char *out, const uint8_t *in, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

ccz_status ccz_hex_encode(ccz_buf *out, ccz_span in)
{
    if (in.len > (SIZE_MAX - 1) / 2)
        return ccz_fail(CCZ_ERR_TOO_LARGE, "hex input too large");
    ccz_status s = ccz_buf_reserve(out, 2 * in.len);
    if (s)
        return s;
    ccz_hex_to_str((char *)out->ptr + out->len, in.ptr, in.len);
    out->len += 2 * in.len;
    return CCZ_OK;
}

static ccz_status hex_decode_into(uint8_t *dst, const char *hex, size_t len)
{
    for (size_t i = 0; i < len; i += 2) {
        int hi = hexval((unsigned char)hex[i]), lo = hexval((unsigned char)hex[i + 1]);
        if (hi < 0 || lo < 0)
            return ccz_fail(CCZ_ERR_ENCODING, "hex: character %zu is not a hex digit",
                            hi < 0 ? i : i + 1);
        dst[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return CCZ_OK;
}

ccz_status ccz_hex_decode(ccz_buf *out, const char *hex, size_t len)
{
    if (len % 2)
        return ccz_fail(CCZ_ERR_ENCODING, "hex: odd number of digits (%zu)", len);
    ccz_status s = ccz_buf_reserve(out, len / 2);
    if (s)
        return s;
    s = hex_decode_into(out->ptr + out->len, hex, len);
    if (s)
        return s;
    out->len += len / 2;
    out->ptr[out->len] = 0;
    return CCZ_OK;
}

ccz_status ccz_hex_decode_fixed(uint8_t *out, size_t n, const char *hex, size_t len)
{
    if (len != 2 * n)
        return ccz_fail(CCZ_ERR_ENCODING, "hex: expected %zu digits (%zu bytes), got %zu", 2 * n, n,
                        len);
    return hex_decode_into(out, hex, len);
}

ccz_status ccz_base64_encode(ccz_buf *out, ccz_span in)
{
    if (in.len > (size_t)INT32_MAX / 4 * 3 - 3)
        return ccz_fail(CCZ_ERR_TOO_LARGE, "base64 input too large");
    size_t n = 4 * ((in.len + 2) / 3);
    ccz_status s = ccz_buf_reserve(out, n);
    if (s)
        return s;
    EVP_EncodeBlock(out->ptr + out->len, in.ptr, (int)in.len);
    out->len += n;
    out->ptr[out->len] = 0;
    return CCZ_OK;
}

static bool b64_alpha(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

/* The first character before the padding that is not in the alphabet (for the message). */
static size_t b64_first_bad(const char *b64, size_t n)
{
    size_t i = 0;
    while (i < n && b64_alpha((unsigned char)b64[i]))
        i++;
    return i;
}

ccz_status ccz_base64_decode(ccz_buf *out, const char *b64, size_t len)
{
    if (len % 4)
        return ccz_fail(CCZ_ERR_ENCODING, "base64: length %zu is not a multiple of 4", len);
    if (len > (size_t)INT32_MAX)
        return ccz_fail(CCZ_ERR_TOO_LARGE, "base64 input too large");
    size_t pad = 0;
    if (len && b64[len - 1] == '=')
        pad = (len > 1 && b64[len - 2] == '=') ? 2 : 1;
    size_t n = len / 4 * 3, body = len >= 4 ? len - 4 : 0; /* the blocks before the last */
    /* the cap is on the bytes kept: the last block, whose padding OpenSSL writes as zero
     * bytes, is decoded aside */
    ccz_status s = ccz_buf_reserve(out, n - pad);
    if (s)
        return s;
    uint8_t last[3];
    /* OpenSSL refuses every character outside the alphabet but two kinds: '=', which it decodes
     * as zero bits wherever it stands (so none may come before the padding), and white space at
     * either end, which it trims (so the decoded length must be all of the input's). Evidence is
     * kilobytes of base64: this costs one memchr beside the decoding, not a test per byte. */
    if (memchr(b64, '=', len - pad) ||
        (body && EVP_DecodeBlock(out->ptr + out->len, (const unsigned char *)b64, (int)body) !=
                     (int)(n - 3)) ||
        (len && EVP_DecodeBlock(last, (const unsigned char *)b64 + body, 4) != 3)) {
        ccz_wipe(last, sizeof last);
        size_t bad = b64_first_bad(b64, len - pad);
        if (bad < len - pad)
            return ccz_fail(CCZ_ERR_ENCODING, "base64: character %zu is not in the alphabet", bad);
        return ccz_fail(CCZ_ERR_ENCODING, "base64: cannot decode");
    }
    if (len)
        memcpy(out->ptr + out->len + n - 3, last, 3 - pad);
    ccz_wipe(last, sizeof last); /* base64 of a key, often */
    out->len += n - pad;
    out->ptr[out->len] = 0;
    return CCZ_OK;
}
