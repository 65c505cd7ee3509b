/* SPDX-License-Identifier: Apache-2.0 */
/* base64url without padding (RFC 7515 §2, RFC 4648 §5). Decoded text is untrusted: each
 * character is checked against the alphabet and the unused bits of the last one must be zero,
 * so a byte string has exactly one accepted encoding (no malleable tokens). */
#include <string.h>

#include "core/guard.h"
#include "jose/jose.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

ccz_status jose_b64url_encode(ccz_buf *out, ccz_span in)
{
    if (in.len > (SIZE_MAX - 4) / 4 * 3)
        return ccz_fail(CCZ_ERR_TOO_LARGE, "base64url input too large");
    size_t n = in.len / 3 * 4 + (in.len % 3 ? in.len % 3 + 1 : 0);
    CCZ_GUARD(ccz_buf_reserve(out, n));
    char *o = (char *)out->ptr + out->len;
    size_t i = 0;
    for (; i + 3 <= in.len; i += 3) {
        uint32_t v = (uint32_t)in.ptr[i] << 16 | (uint32_t)in.ptr[i + 1] << 8 | in.ptr[i + 2];
        *o++ = alphabet[v >> 18];
        *o++ = alphabet[(v >> 12) & 63];
        *o++ = alphabet[(v >> 6) & 63];
        *o++ = alphabet[v & 63];
    }
    if (in.len - i == 1) {
        uint32_t v = (uint32_t)in.ptr[i] << 16;
        *o++ = alphabet[v >> 18];
        *o++ = alphabet[(v >> 12) & 63];
    } else if (in.len - i == 2) {
        uint32_t v = (uint32_t)in.ptr[i] << 16 | (uint32_t)in.ptr[i + 1] << 8;
        *o++ = alphabet[v >> 18];
        *o++ = alphabet[(v >> 12) & 63];
        *o++ = alphabet[(v >> 6) & 63];
    }
    out->len += n;
    out->ptr[out->len] = 0;
    return CCZ_OK;
}

static int b64url_val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

ccz_status jose_b64url_decode(ccz_buf *out, const char *text, size_t len)
{
    if (len % 4 == 1)
        return ccz_fail(CCZ_ERR_ENCODING, "base64url: length %zu is impossible", len);
    size_t n = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
    CCZ_GUARD(ccz_buf_reserve(out, n));
    uint8_t *o = out->ptr + out->len;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64url_val((unsigned char)text[i]);
        if (v < 0) {
            ccz_wipe(out->ptr + out->len, n + 1); /* nothing decoded is left past len */
            return ccz_fail(CCZ_ERR_ENCODING, "base64url: character %zu is not in the alphabet", i);
        }
        acc = (acc << 6 | (uint32_t)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            *o++ = (uint8_t)(acc >> bits);
        }
    }
    /* the bits left over are padding: canonical text has them zero */
    if (acc & ((1u << bits) - 1)) {
        ccz_wipe(out->ptr + out->len, n + 1); /* as above */
        return ccz_fail(CCZ_ERR_ENCODING, "base64url: non-zero trailing bits");
    }
    out->len += n;
    out->ptr[out->len] = 0;
    return CCZ_OK;
}
