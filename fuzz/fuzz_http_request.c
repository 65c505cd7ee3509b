/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: HTTP/1.1 request heads, and the chunked body after one. A parsed head lies within
 * the input, its spans inside the head, and an incomplete one is never reported as anything but
 * TRUNCATED or TOO_LARGE. The chunked decoder, fed the rest of the input in pieces whose sizes
 * come from the input, consumes only bytes it is given, hands out no more data than the chunk
 * sizes announced, and fails only with a 4xx status. */
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(ccz_span s, const uint8_t *base, size_t n)
{
    if (s.len && (s.ptr < base || s.ptr + s.len > base + n))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    http_head h;
    int code;
    size_t max = size > 4 ? 16 + data[0] * 64u : 1024;
    ccz_status st = http_parse_head(&h, &code, CCZ_SPAN(data, size), max);
    if (st == CCZ_ERR_TRUNCATED) {
        if (code != 0)
            abort();
        return 0;
    }
    if (st != CCZ_OK) {
        if (code < 400 || code > 505)
            abort();
        return 0;
    }
    if (h.head_len > size || h.head_len > max || h.n_headers > HTTP_MAX_HEADERS)
        abort();
    inside(h.method, data, h.head_len);
    inside(h.target, data, h.head_len);
    inside(h.path, data, h.head_len);
    inside(h.query, data, h.head_len);
    for (size_t i = 0; i < h.n_headers; i++) {
        inside(h.headers[i].name, data, h.head_len);
        inside(h.headers[i].value, data, h.head_len);
    }
    if (h.path.len == 0 || h.path.ptr[0] != '/')
        abort();
    if (h.chunked && (h.has_length || h.minor != 1))
        abort();
    if (!h.chunked)
        return 0;
    /* the body: the pieces' sizes cycle through the head's first bytes */
    http_chunked ck = {0};
    const uint8_t *body = data + h.head_len;
    size_t n = size - h.head_len, at = 0, have = 0, piece = 0;
    uint64_t announced = 0, handed = 0;
    while (ck.state != HTTP_CHUNK_DONE) {
        size_t used;
        ccz_span d;
        http_chunk_state before = ck.state;
        st = http_chunked_step(&ck, &code, CCZ_SPAN(body + at, have - at), max, &used, &d);
        if (st == CCZ_ERR_TRUNCATED) {
            if (used || code)
                abort();
            if (have == n)
                return 0; /* the input ends inside the body */
            have += 1 + data[piece++ % h.head_len] % 37;
            if (have > n)
                have = n;
            continue;
        }
        if (st != CCZ_OK) {
            if (code < 400 || code > 431 || used)
                abort();
            return 0;
        }
        if (used == 0 || used > have - at)
            abort();
        if (d.len && (d.ptr != body + at || d.len != used || before != HTTP_CHUNK_DATA))
            abort();
        if (before == HTTP_CHUNK_SIZE && ck.state == HTTP_CHUNK_DATA)
            announced += ck.left > n ? n + 1 : ck.left; /* no more can come */
        handed += d.len;
        if (handed > announced)
            abort();
        at += used;
    }
    if (handed != announced)
        abort();
    return 0;
}
