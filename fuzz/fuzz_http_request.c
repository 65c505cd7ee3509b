/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: HTTP/1.1 request heads. A parsed head lies within the input, its spans inside
 * the head, and an incomplete one is never reported as anything but TRUNCATED or TOO_LARGE. */
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
    return 0;
}
