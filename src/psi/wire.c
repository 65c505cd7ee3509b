/* SPDX-License-Identifier: Apache-2.0 */
/* The wire format of two-party ECDH PSI (src/psi/ecdh.h): frames and their bodies. Bodies come
 * from the peer and are read only through the core cursor. */
#include <string.h>

#include "core/guard.h"
#include "psi/ecdh.h"

ccz_status psi_ecdh_parse_header(uint8_t *type, uint32_t *len,
                                 const uint8_t h[PSI_ECDH_FRAME_HEADER])
{
    ccz_cursor c;
    ccz_cursor_init(&c, CCZ_SPAN(h, PSI_ECDH_FRAME_HEADER));
    CCZ_GUARD(ccz_cursor_u8(&c, type));
    CCZ_GUARD(ccz_cursor_u32le(&c, len));
    CCZ_ENSURE(*type >= PSI_ECDH_HELLO && *type <= PSI_ECDH_ABORT, CCZ_ERR_PROTOCOL,
               "psi ecdh: unknown message type %u", *type);
    CCZ_ENSURE(*len <= PSI_ECDH_BODY_MAX, CCZ_ERR_TOO_LARGE,
               "psi ecdh: a message of %u bytes (at most %u)", *len, PSI_ECDH_BODY_MAX);
    return CCZ_OK;
}

ccz_status psi_ecdh_parse_hello(psi_ecdh_hello *out, ccz_span body, uint64_t max_items)
{
    ccz_cursor c;
    ccz_span magic;
    uint8_t flags;
    ccz_cursor_init(&c, body);
    memset(out, 0, sizeof *out);
    ccz_status s = ccz_cursor_take(&c, &magic, 4);
    CCZ_ENSURE(s == CCZ_OK && memcmp(magic.ptr, PSI_ECDH_MAGIC, 4) == 0, CCZ_ERR_PROTOCOL,
               "psi ecdh: the peer does not speak ECDH PSI (no magic)");
    CCZ_ENSURE(ccz_cursor_u16le(&c, &out->version) == CCZ_OK, CCZ_ERR_TRUNCATED,
               "psi ecdh: hello ends before its version");
    CCZ_ENSURE(out->version == CCZ_PSI_ECDH_VERSION, CCZ_ERR_UNSUPPORTED_VERSION,
               "psi ecdh: the peer speaks version %u (this side: %u)", out->version,
               CCZ_PSI_ECDH_VERSION);
    CCZ_ENSURE(ccz_cursor_u8(&c, &flags) == CCZ_OK && ccz_cursor_u64le(&c, &out->items) == CCZ_OK,
               CCZ_ERR_TRUNCATED, "psi ecdh: hello ends before its item count");
    CCZ_ENSURE(ccz_cursor_expect_end(&c) == CCZ_OK, CCZ_ERR_TRAILING_DATA,
               "psi ecdh: bytes after the hello");
    CCZ_ENSURE((flags & ~PSI_ECDH_FLAG_SIZE_ONLY) == 0, CCZ_ERR_PROTOCOL,
               "psi ecdh: unknown flags 0x%02x in the hello", flags);
    out->size_only = flags & PSI_ECDH_FLAG_SIZE_ONLY;
    CCZ_ENSURE(out->items <= max_items, CCZ_ERR_TOO_LARGE,
               "psi ecdh: the peer announces %llu items (at most %llu accepted)",
               (unsigned long long)out->items, (unsigned long long)max_items);
    return CCZ_OK;
}

ccz_status psi_ecdh_parse_batch(uint32_t *count, ccz_span *elems, ccz_span body, size_t elem,
                                uint64_t left)
{
    ccz_cursor c;
    ccz_cursor_init(&c, body);
    CCZ_ENSURE(ccz_cursor_u32le(&c, count) == CCZ_OK, CCZ_ERR_TRUNCATED,
               "psi ecdh: a batch without its count");
    CCZ_ENSURE(*count >= 1 && *count <= CCZ_PSI_ECDH_BATCH_MAX, CCZ_ERR_TOO_LARGE,
               "psi ecdh: a batch of %u (1 to %u)", *count, CCZ_PSI_ECDH_BATCH_MAX);
    CCZ_ENSURE(*count <= left, CCZ_ERR_PROTOCOL,
               "psi ecdh: a batch of %u where only %llu are still due", *count,
               (unsigned long long)left);
    CCZ_ENSURE(ccz_cursor_take(&c, elems, (size_t)*count * elem) == CCZ_OK, CCZ_ERR_TRUNCATED,
               "psi ecdh: a batch of %u ends early", *count);
    CCZ_ENSURE(ccz_cursor_expect_end(&c) == CCZ_OK, CCZ_ERR_TRAILING_DATA,
               "psi ecdh: bytes after a batch of %u", *count);
    return CCZ_OK;
}

void psi_ecdh_parse_abort(char *out, size_t cap, ccz_span body)
{
    ccz_cursor c;
    uint8_t b;
    size_t n = 0;
    ccz_cursor_init(&c, body);
    while (n + 1 < cap && ccz_cursor_u8(&c, &b) == CCZ_OK)
        out[n++] = b >= 0x20 && b < 0x7f ? (char)b : '?';
    if (cap)
        out[n] = '\0';
}

ccz_status psi_ecdh_put_header(ccz_buf *out, uint8_t type, uint32_t len)
{
    CCZ_GUARD(ccz_buf_append_u8(out, type));
    return ccz_buf_append_u32le(out, len);
}

ccz_status psi_ecdh_put_hello(ccz_buf *out, const psi_ecdh_hello *h)
{
    CCZ_GUARD(psi_ecdh_put_header(out, PSI_ECDH_HELLO, 15));
    CCZ_GUARD(ccz_buf_append(out, PSI_ECDH_MAGIC, 4));
    CCZ_GUARD(ccz_buf_append_u16le(out, h->version));
    CCZ_GUARD(ccz_buf_append_u8(out, h->size_only ? PSI_ECDH_FLAG_SIZE_ONLY : 0));
    return ccz_buf_append_u64le(out, h->items);
}
