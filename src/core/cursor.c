/* SPDX-License-Identifier: Apache-2.0 */
/* The bounds-checked cursor: the only code in ccz that steps through untrusted bytes.
 * Every read checks what remains before touching memory and moves only on success. */
#include <string.h>

#include "core/guard.h"
#include "ccz/core.h"

void ccz_cursor_init(ccz_cursor *c, ccz_span s)
{
    c->base = s.ptr;
    c->len = s.ptr ? s.len : 0;
    c->pos = 0;
}

size_t ccz_cursor_remaining(const ccz_cursor *c)
{
    return c->len - c->pos;
}

ccz_status ccz_cursor_peek(const ccz_cursor *c, ccz_span *out, size_t n)
{
    if (n > ccz_cursor_remaining(c))
        return ccz_fail(CCZ_ERR_TRUNCATED, "need %zu bytes at offset %zu, only %zu remain", n,
                        c->pos, ccz_cursor_remaining(c));
    /* no arithmetic on a NULL base (an empty span's cursor) */
    *out = (ccz_span){c->base ? c->base + c->pos : NULL, n};
    return CCZ_OK;
}

ccz_status ccz_cursor_take(ccz_cursor *c, ccz_span *out, size_t n)
{
    ccz_status s = ccz_cursor_peek(c, out, n);
    if (s == CCZ_OK)
        c->pos += n;
    return s;
}

ccz_status ccz_cursor_skip(ccz_cursor *c, size_t n)
{
    ccz_span ignored;
    return ccz_cursor_take(c, &ignored, n);
}

ccz_status ccz_cursor_copy(ccz_cursor *c, void *out, size_t n)
{
    ccz_span s;
    ccz_status st = ccz_cursor_take(c, &s, n);
    if (st == CCZ_OK && n)
        memcpy(out, s.ptr, n);
    return st;
}

static ccz_status read_le(ccz_cursor *c, size_t n, uint64_t *v)
{
    ccz_span s;
    ccz_status st = ccz_cursor_take(c, &s, n);
    if (st)
        return st;
    *v = 0;
    for (size_t i = 0; i < n; i++)
        *v |= (uint64_t)s.ptr[i] << (8 * i);
    return CCZ_OK;
}

static ccz_status read_be(ccz_cursor *c, size_t n, uint64_t *v)
{
    ccz_span s;
    ccz_status st = ccz_cursor_take(c, &s, n);
    if (st)
        return st;
    *v = 0;
    for (size_t i = 0; i < n; i++)
        *v = (*v << 8) | s.ptr[i];
    return CCZ_OK;
}

ccz_status ccz_cursor_u8(ccz_cursor *c, uint8_t *out)
{
    uint64_t v;
    ccz_status s = read_le(c, 1, &v);
    if (s == CCZ_OK)
        *out = (uint8_t)v;
    return s;
}

ccz_status ccz_cursor_u16le(ccz_cursor *c, uint16_t *out)
{
    uint64_t v;
    ccz_status s = read_le(c, 2, &v);
    if (s == CCZ_OK)
        *out = (uint16_t)v;
    return s;
}

ccz_status ccz_cursor_u32le(ccz_cursor *c, uint32_t *out)
{
    uint64_t v;
    ccz_status s = read_le(c, 4, &v);
    if (s == CCZ_OK)
        *out = (uint32_t)v;
    return s;
}

ccz_status ccz_cursor_u64le(ccz_cursor *c, uint64_t *out)
{
    return read_le(c, 8, out);
}

ccz_status ccz_cursor_u16be(ccz_cursor *c, uint16_t *out)
{
    uint64_t v;
    ccz_status s = read_be(c, 2, &v);
    if (s == CCZ_OK)
        *out = (uint16_t)v;
    return s;
}

ccz_status ccz_cursor_u32be(ccz_cursor *c, uint32_t *out)
{
    uint64_t v;
    ccz_status s = read_be(c, 4, &v);
    if (s == CCZ_OK)
        *out = (uint32_t)v;
    return s;
}

ccz_status ccz_cursor_expect_end(const ccz_cursor *c)
{
    if (ccz_cursor_remaining(c))
        return ccz_fail(CCZ_ERR_TRAILING_DATA, "%zu unexpected bytes after offset %zu",
                        ccz_cursor_remaining(c), c->pos);
    return CCZ_OK;
}

ccz_span ccz_cursor_consumed(const ccz_cursor *c)
{
    return (ccz_span){c->base, c->pos};
}

ccz_status ccz_cursor_der(ccz_cursor *c, uint8_t *tag, ccz_span *value)
{
    ccz_cursor t = *c; /* work on a copy so a failure leaves c untouched */
    uint8_t tg, first;
    CCZ_GUARD(ccz_cursor_u8(&t, &tg));
    if ((tg & 0x1f) == 0x1f)
        return ccz_fail(CCZ_ERR_MALFORMED, "DER: multi-byte tag at offset %zu", c->pos);
    CCZ_GUARD(ccz_cursor_u8(&t, &first));
    size_t len = first;
    if (first & 0x80) {
        unsigned n = first & 0x7f;
        if (n == 0 || n > 4)
            return ccz_fail(CCZ_ERR_MALFORMED, "DER: unsupported length form 0x%02x at offset %zu",
                            first, c->pos);
        len = 0;
        for (unsigned i = 0; i < n; i++) {
            uint8_t b;
            CCZ_GUARD(ccz_cursor_u8(&t, &b));
            if (i == 0 && b == 0)
                return ccz_fail(CCZ_ERR_MALFORMED, "DER: non-minimal length at offset %zu", c->pos);
            len = (len << 8) | b;
        }
        if (len < 0x80)
            return ccz_fail(CCZ_ERR_MALFORMED, "DER: non-minimal length at offset %zu", c->pos);
    }
    CCZ_GUARD(ccz_cursor_take(&t, value, len));
    *tag = tg;
    *c = t;
    return CCZ_OK;
}
