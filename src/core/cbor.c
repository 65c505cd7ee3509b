/* SPDX-License-Identifier: Apache-2.0 */
/* A CBOR reader for untrusted input on the core cursor: item heads, strings and skipping. It
 * covers what evidence formats use (tags, arrays, maps, byte and text strings, integers, simple
 * values); indefinite lengths are rejected, as deterministic encodings never use them. */
#include "core/guard.h"
#include "ccz/core.h"

#define CBOR_MAX_DEPTH 32

ccz_status ccz_cbor_head_read(ccz_cursor *c, ccz_cbor_head *h)
{
    ccz_cursor t = *c;
    uint8_t ib;
    if (ccz_cursor_u8(&t, &ib))
        return ccz_fail(CCZ_ERR_TRUNCATED, "CBOR: item expected at offset %zu", c->pos);
    uint8_t ai = ib & 0x1f;
    uint64_t arg = ai;
    if (ai >= 24 && ai <= 27) {
        size_t n = (size_t)1 << (ai - 24);
        ccz_span b;
        if (ccz_cursor_take(&t, &b, n))
            return ccz_fail(CCZ_ERR_TRUNCATED, "CBOR: argument truncated at offset %zu", c->pos);
        arg = 0;
        for (size_t i = 0; i < n; i++)
            arg = arg << 8 | b.ptr[i];
    } else if (ai > 27) {
        return ccz_fail(CCZ_ERR_MALFORMED, "CBOR: %s at offset %zu",
                        ai == 31 ? "indefinite length is not supported"
                                 : "reserved additional information",
                        c->pos);
    }
    h->major = ib >> 5;
    h->arg = arg;
    *c = t;
    return CCZ_OK;
}

static ccz_status string(ccz_cursor *c, uint8_t major, ccz_span *out)
{
    ccz_cursor t = *c;
    ccz_cbor_head h;
    CCZ_GUARD(ccz_cbor_head_read(&t, &h));
    if (h.major != major)
        return ccz_fail(CCZ_ERR_MALFORMED,
                        "CBOR: %s string expected at offset %zu, found major "
                        "type %u",
                        major == 2 ? "byte" : "text", c->pos, h.major);
    if (h.arg > ccz_cursor_remaining(&t))
        return ccz_fail(CCZ_ERR_TRUNCATED,
                        "CBOR: string of %llu bytes at offset %zu exceeds the "
                        "input",
                        (unsigned long long)h.arg, c->pos);
    CCZ_GUARD(ccz_cursor_take(&t, out, (size_t)h.arg));
    *c = t;
    return CCZ_OK;
}

ccz_status ccz_cbor_bstr(ccz_cursor *c, ccz_span *out)
{
    return string(c, 2, out);
}

ccz_status ccz_cbor_tstr(ccz_cursor *c, ccz_span *out)
{
    return string(c, 3, out);
}

static ccz_status skip(ccz_cursor *c, int depth)
{
    if (depth > CBOR_MAX_DEPTH)
        return ccz_fail(CCZ_ERR_MALFORMED, "CBOR: nested deeper than %d", CBOR_MAX_DEPTH);
    ccz_cbor_head h;
    CCZ_GUARD(ccz_cbor_head_read(c, &h));
    switch (h.major) {
    case 2:
    case 3:
        if (h.arg > ccz_cursor_remaining(c))
            return ccz_fail(CCZ_ERR_TRUNCATED, "CBOR: string exceeds the input");
        return ccz_cursor_skip(c, (size_t)h.arg);
    case 4:
    case 5: {
        /* each element needs at least one byte: a count beyond the input is a lie */
        uint64_t items = h.major == 5 ? h.arg * 2 : h.arg;
        if (h.arg > ccz_cursor_remaining(c) || items > ccz_cursor_remaining(c))
            return ccz_fail(CCZ_ERR_TRUNCATED, "CBOR: %llu elements exceed the input",
                            (unsigned long long)h.arg);
        for (uint64_t i = 0; i < items; i++)
            CCZ_GUARD(skip(c, depth + 1));
        return CCZ_OK;
    }
    case 6:
        return skip(c, depth + 1);
    default: /* integers, simple values, floats: the head was all */
        return CCZ_OK;
    }
}

ccz_status ccz_cbor_skip(ccz_cursor *c)
{
    ccz_cursor t = *c;
    CCZ_GUARD(skip(&t, 0));
    *c = t;
    return CCZ_OK;
}
