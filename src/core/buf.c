/* SPDX-License-Identifier: Apache-2.0 */
/* Owned byte buffers with a caller-chosen cap, and wiping for secrets.
 * A secret buffer never hands memory back to the allocator without wiping it first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ccz/core.h"

void ccz_wipe(void *p, size_t n)
{
    if (p && n)
        OPENSSL_cleanse(p, n);
}

bool ccz_ct_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

void ccz_buf_init(ccz_buf *b, size_t max, bool secret)
{
    *b = (ccz_buf){NULL, 0, 0, max, secret};
}

ccz_status ccz_buf_reserve(ccz_buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len - 1)
        return ccz_fail(CCZ_ERR_TOO_LARGE, "buffer size overflows");
    size_t need = b->len + extra;
    if (b->max && need > b->max)
        return ccz_fail(CCZ_ERR_TOO_LARGE, "buffer would exceed its %zu-byte limit", b->max);
    if (need + 1 <= b->cap)
        return CCZ_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need + 1)
        cap = cap > SIZE_MAX / 2 ? need + 1 : cap * 2;
    /* One spare byte keeps text NUL-terminated; realloc is avoided so secrets are wiped. */
    uint8_t *p = malloc(cap);
    if (!p)
        return ccz_fail(CCZ_ERR_NOMEM, "cannot allocate %zu bytes", cap);
    if (b->ptr) {
        memcpy(p, b->ptr, b->len);
        if (b->secret)
            ccz_wipe(b->ptr, b->cap);
        free(b->ptr);
    }
    p[b->len] = 0;
    b->ptr = p;
    b->cap = cap;
    return CCZ_OK;
}

ccz_status ccz_buf_append(ccz_buf *b, const void *p, size_t n)
{
    ccz_status s = ccz_buf_reserve(b, n);
    if (s)
        return s;
    if (n)
        memcpy(b->ptr + b->len, p, n);
    b->len += n;
    b->ptr[b->len] = 0;
    return CCZ_OK;
}

ccz_status ccz_buf_append_u8(ccz_buf *b, uint8_t v)
{
    return ccz_buf_append(b, &v, 1);
}

ccz_status ccz_buf_append_u16le(ccz_buf *b, uint16_t v)
{
    uint8_t t[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    return ccz_buf_append(b, t, sizeof t);
}

ccz_status ccz_buf_append_u32le(ccz_buf *b, uint32_t v)
{
    uint8_t t[4];
    for (int i = 0; i < 4; i++)
        t[i] = (uint8_t)(v >> (8 * i));
    return ccz_buf_append(b, t, sizeof t);
}

ccz_status ccz_buf_append_u64le(ccz_buf *b, uint64_t v)
{
    uint8_t t[8];
    for (int i = 0; i < 8; i++)
        t[i] = (uint8_t)(v >> (8 * i));
    return ccz_buf_append(b, t, sizeof t);
}

ccz_status ccz_buf_append_str(ccz_buf *b, const char *s)
{
    return ccz_buf_append(b, s, strlen(s));
}

ccz_status ccz_buf_printf(ccz_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "bad format string");
    ccz_status s = ccz_buf_reserve(b, (size_t)n);
    if (s)
        return s;
    va_start(ap, fmt);
    vsnprintf((char *)b->ptr + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return CCZ_OK;
}

void ccz_buf_reset(ccz_buf *b)
{
    if (b->ptr && b->secret)
        ccz_wipe(b->ptr, b->cap);
    b->len = 0;
    if (b->ptr)
        b->ptr[0] = 0;
}

void ccz_buf_free(ccz_buf *b)
{
    if (b->ptr && b->secret)
        ccz_wipe(b->ptr, b->cap);
    free(b->ptr);
    b->ptr = NULL;
    b->len = b->cap = 0;
}

ccz_span ccz_buf_span(const ccz_buf *b)
{
    return (ccz_span){b->ptr, b->len};
}
