/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP/1.1 request head (RFC 9112 sections 3 and 5), read through the cursor. Strict where
 * leniency lets two parsers disagree about where a request ends (request smuggling): CRLF line
 * ends only, no obsolete line folding, no blank before a colon, one Content-Length value, the
 * chunked transfer coding alone and never beside a Content-Length or in HTTP/1.0, exactly one
 * Host in HTTP/1.1 and never two in any request. The chunked body's framing (RFC 9112 section
 * 7.1) is decoded here too. */
#include <string.h>
#include <strings.h>

#include "core/guard.h"
#include "http/http.h"

/* tchar of RFC 9110 5.6.2 */
static bool is_tchar(uint8_t c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* field-vchar, SP and HTAB (obs-text included) */
static bool is_value_char(uint8_t c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static bool span_eq_ci(ccz_span s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && strncasecmp((const char *)s.ptr, lit, n) == 0;
}

static ccz_status fail(int *http_status, int code, ccz_status st, const char *what)
{
    *http_status = code;
    return ccz_fail(st, "HTTP request: %s", what);
}

/* One line up to CRLF, borrowed without its CRLF; TRUNCATED when no CRLF yet, MALFORMED on a
 * bare CR or LF. */
static ccz_status read_line(ccz_cursor *c, ccz_span *line)
{
    size_t start = c->pos;
    for (size_t i = start; i < c->len; i++) {
        uint8_t b = c->base[i];
        if (b == '\n')
            return CCZ_ERR_MALFORMED; /* a bare LF */
        if (b == '\r') {
            if (i + 1 >= c->len)
                return CCZ_ERR_TRUNCATED;
            if (c->base[i + 1] != '\n')
                return CCZ_ERR_MALFORMED;
            ccz_status st = ccz_cursor_take(c, line, i - start);
            if (st == CCZ_OK)
                st = ccz_cursor_skip(c, 2);
            return st;
        }
    }
    return CCZ_ERR_TRUNCATED;
}

static ccz_status parse_request_line(http_head *h, int *code, ccz_span line)
{
    ccz_cursor c;
    ccz_cursor_init(&c, line);
    size_t n = 0;
    while (n < line.len && is_tchar(line.ptr[n]))
        n++;
    if (n == 0 || n > 16 || n >= line.len || line.ptr[n] != ' ')
        return fail(code, 400, CCZ_ERR_MALFORMED, "a malformed request line");
    CCZ_GUARD(ccz_cursor_take(&c, &h->method, n));
    CCZ_GUARD(ccz_cursor_skip(&c, 1));
    size_t t = 0;
    ccz_span rest;
    CCZ_GUARD(ccz_cursor_peek(&c, &rest, ccz_cursor_remaining(&c)));
    while (t < rest.len && rest.ptr[t] > 0x20 && rest.ptr[t] < 0x7f)
        t++;
    if (t == 0 || t >= rest.len || rest.ptr[t] != ' ')
        return fail(code, 400, CCZ_ERR_MALFORMED, "a malformed request target");
    CCZ_GUARD(ccz_cursor_take(&c, &h->target, t));
    CCZ_GUARD(ccz_cursor_skip(&c, 1));
    /* origin-form only ("/path?query"); "*" and absolute forms are not for this server */
    if (h->target.ptr[0] != '/')
        return fail(code, 400, CCZ_ERR_MALFORMED, "the request target is not a path");
    ccz_span version;
    CCZ_GUARD(ccz_cursor_take(&c, &version, ccz_cursor_remaining(&c)));
    /* RFC 9112 2.3: "HTTP/" DIGIT "." DIGIT; anything else (a space in the target leaves
     * part of it here) is a malformed request line, not a version this server lacks */
    if (version.len != 8 || memcmp(version.ptr, "HTTP/", 5) != 0 || !is_digit(version.ptr[5]) ||
        version.ptr[6] != '.' || !is_digit(version.ptr[7]))
        return fail(code, 400, CCZ_ERR_MALFORMED, "a malformed HTTP version");
    if (version.ptr[5] != '1' || (version.ptr[7] != '0' && version.ptr[7] != '1'))
        return fail(code, 505, CCZ_ERR_UNSUPPORTED_VERSION, "not HTTP/1.0 or HTTP/1.1");
    h->minor = version.ptr[7] - '0';
    const uint8_t *q = memchr(h->target.ptr, '?', h->target.len);
    size_t plen = q ? (size_t)(q - h->target.ptr) : h->target.len;
    h->path = CCZ_SPAN(h->target.ptr, plen);
    h->query = q ? CCZ_SPAN(q + 1, h->target.len - plen - 1) : CCZ_SPAN(NULL, 0);
    return CCZ_OK;
}

/* A field line (a header, or a trailer of a chunked body): name and value, the value without
 * the blanks around it. */
static ccz_status parse_field(int *code, ccz_span line, ccz_span *name, ccz_span *value)
{
    if (line.ptr[0] == ' ' || line.ptr[0] == '\t')
        return fail(code, 400, CCZ_ERR_MALFORMED, "obsolete line folding");
    size_t n = 0;
    while (n < line.len && is_tchar(line.ptr[n]))
        n++;
    if (n == 0 || n >= line.len || line.ptr[n] != ':')
        return fail(code, 400, CCZ_ERR_MALFORMED, "a malformed header line");
    size_t v = n + 1, e = line.len;
    for (size_t i = v; i < e; i++)
        if (!is_value_char(line.ptr[i]))
            return fail(code, 400, CCZ_ERR_MALFORMED, "a control byte in a header value");
    while (v < e && (line.ptr[v] == ' ' || line.ptr[v] == '\t'))
        v++;
    while (e > v && (line.ptr[e - 1] == ' ' || line.ptr[e - 1] == '\t'))
        e--;
    *name = CCZ_SPAN(line.ptr, n);
    *value = CCZ_SPAN(line.ptr + v, e - v);
    return CCZ_OK;
}

static ccz_status parse_header(http_head *h, int *code, ccz_span line)
{
    ccz_span name, value;
    CCZ_GUARD(parse_field(code, line, &name, &value));
    if (h->n_headers == HTTP_MAX_HEADERS)
        return fail(code, 431, CCZ_ERR_TOO_LARGE, "too many header lines");
    h->headers[h->n_headers++] = (http_header){name, value};
    return CCZ_OK;
}

static ccz_status parse_length(http_head *h, int *code, ccz_span v)
{
    /* a list of equal values ("5, 5") is allowed by RFC 9112 6.3; one value is all we take */
    if (v.len == 0 || v.len > 18)
        return fail(code, 400, CCZ_ERR_MALFORMED, "a malformed Content-Length");
    uint64_t n = 0;
    for (size_t i = 0; i < v.len; i++) {
        if (v.ptr[i] < '0' || v.ptr[i] > '9')
            return fail(code, 400, CCZ_ERR_MALFORMED, "a malformed Content-Length");
        n = n * 10 + (uint64_t)(v.ptr[i] - '0');
    }
    if (h->has_length && h->content_length != n)
        return fail(code, 400, CCZ_ERR_MALFORMED, "conflicting Content-Length headers");
    h->has_length = true;
    h->content_length = n;
    return CCZ_OK;
}

static bool has_token(ccz_span v, const char *token)
{
    size_t n = strlen(token), i = 0;
    while (i < v.len) {
        while (i < v.len && (v.ptr[i] == ' ' || v.ptr[i] == '\t' || v.ptr[i] == ','))
            i++;
        size_t s = i;
        while (i < v.len && v.ptr[i] != ',')
            i++;
        size_t e = i;
        while (e > s && (v.ptr[e - 1] == ' ' || v.ptr[e - 1] == '\t'))
            e--;
        if (e - s == n && strncasecmp((const char *)v.ptr + s, token, n) == 0)
            return true;
    }
    return false;
}

/* uri-host [ ":" port ] (RFC 3986 3.2.2): the characters of a registered name, of an IP literal
 * in brackets, and of a port; RFC 9112 3.2 refuses a Host with an invalid value */
static bool host_ok(ccz_span v)
{
    for (size_t i = 0; i < v.len; i++) {
        uint8_t c = v.ptr[i];
        if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') &&
            !(c && strchr("-._~%!$&'()*+,;=:[]", c)))
            return false;
    }
    return true;
}

static const char *const known_methods[] = {"GET",    "HEAD",  "POST",   "PUT",
                                            "DELETE", "PATCH", "OPTIONS"};

ccz_status http_parse_head(http_head *out, int *http_status, ccz_span in, size_t max_head)
{
    memset(out, 0, sizeof *out);
    *http_status = 400;
    ccz_cursor c;
    ccz_cursor_init(&c, in.len > max_head ? CCZ_SPAN(in.ptr, max_head) : in);
    ccz_span line;
    ccz_status st;
    /* RFC 9112 2.2: at least one empty line before the request line may be ignored */
    for (int skipped = 0;; skipped++) {
        st = read_line(&c, &line);
        if (st != CCZ_OK || line.len || skipped == 4)
            break;
    }
    for (bool first = true;; first = false) {
        if (!first)
            st = read_line(&c, &line);
        if (st == CCZ_ERR_TRUNCATED) {
            if (in.len >= max_head)
                return fail(http_status, 431, CCZ_ERR_TOO_LARGE, "the head exceeds its limit");
            *http_status = 0;
            return CCZ_ERR_TRUNCATED; /* not a failure: read on (no detail set) */
        }
        if (st != CCZ_OK)
            return fail(http_status, 400, CCZ_ERR_MALFORMED, "a line not ended by CRLF");
        if (first) {
            if (line.len == 0)
                return fail(http_status, 400, CCZ_ERR_MALFORMED, "no request line");
            CCZ_GUARD(parse_request_line(out, http_status, line));
            continue;
        }
        if (line.len == 0)
            break;
        CCZ_GUARD(parse_header(out, http_status, line));
    }
    out->head_len = c.pos;

    bool known = false;
    for (size_t i = 0; i < CCZ_ARRAY_LEN(known_methods); i++)
        known |= span_eq_ci(out->method, known_methods[i]) &&
                 memcmp(out->method.ptr, known_methods[i], out->method.len) == 0;
    if (!known)
        return fail(http_status, 501, CCZ_ERR_UNSUPPORTED, "an unknown method");

    size_t hosts = 0;
    bool closing = false; /* "close" wins over "keep-alive", whichever header comes last */
    out->keep_alive = out->minor == 1;
    for (size_t i = 0; i < out->n_headers; i++) {
        const http_header *hd = &out->headers[i];
        if (span_eq_ci(hd->name, "content-length")) {
            CCZ_GUARD(parse_length(out, http_status, hd->value));
        } else if (span_eq_ci(hd->name, "transfer-encoding")) {
            /* RFC 9112 6.1: chunked is the only coding every recipient must know, and it must
             * come last; gzip or a repeated chunked under it is not decoded here */
            if (out->chunked || !span_eq_ci(hd->value, "chunked"))
                return fail(http_status, 501, CCZ_ERR_UNSUPPORTED,
                            "a transfer coding other than chunked alone");
            out->chunked = true;
        } else if (span_eq_ci(hd->name, "host")) {
            if (!host_ok(hd->value))
                return fail(http_status, 400, CCZ_ERR_MALFORMED, "a Host that is not host[:port]");
            hosts++;
        } else if (span_eq_ci(hd->name, "connection")) {
            if (has_token(hd->value, "close"))
                closing = true;
            else if (has_token(hd->value, "keep-alive"))
                out->keep_alive = true;
        } else if (span_eq_ci(hd->name, "content-encoding")) {
            /* RFC 9110 15.5.16: a content coding the server does not decode is 415 (a gzip body
             * would otherwise be refused as "not JSON") */
            if (hd->value.len && !span_eq_ci(hd->value, "identity"))
                return fail(http_status, 415, CCZ_ERR_UNSUPPORTED,
                            "a Content-Encoding other than identity: send the body uncompressed");
        } else if (span_eq_ci(hd->name, "expect")) {
            if (!span_eq_ci(hd->value, "100-continue"))
                return fail(http_status, 417, CCZ_ERR_UNSUPPORTED, "an unknown expectation");
            out->expect_continue = out->minor == 1;
        }
    }
    /* a message with both could be framed either way by two parsers (RFC 9112 6.3, item 3);
     * HTTP/1.0 has no Transfer-Encoding, and an old proxy on the way would not know it */
    if (out->chunked && out->has_length)
        return fail(http_status, 400, CCZ_ERR_MALFORMED,
                    "both Transfer-Encoding and Content-Length");
    if (out->chunked && out->minor == 0)
        return fail(http_status, 400, CCZ_ERR_MALFORMED, "Transfer-Encoding in HTTP/1.0");
    /* RFC 9112 3.2: no Host is refused in HTTP/1.1, several in any request (1.0's too) */
    if (hosts > 1 || (out->minor == 1 && hosts == 0))
        return fail(http_status, 400, CCZ_ERR_MALFORMED,
                    hosts ? "several Host headers" : "no Host header");
    if (closing)
        out->keep_alive = false;
    *http_status = 0;
    return CCZ_OK;
}

bool http_head_get(const http_head *h, const char *name, ccz_span *value)
{
    for (size_t i = 0; i < h->n_headers; i++)
        if (span_eq_ci(h->headers[i].name, name)) {
            *value = h->headers[i].value;
            return true;
        }
    return false;
}

/* ---- the chunked body (RFC 9112 7.1) ---------------------------------------------------------*/

static int hex_value(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
        return (c | 0x20) - 'a' + 10;
    return -1;
}

/* chunk-size [ chunk-ext ]: up to 16 hex digits (a size that fits in 64 bits), then nothing, or
 * extensions after optional blanks and a ';' (their names and values are not used) */
static ccz_status parse_chunk_size(int *code, ccz_span line, uint64_t *size)
{
    size_t i = 0;
    uint64_t n = 0;
    for (; i < line.len && hex_value(line.ptr[i]) >= 0; i++) {
        if (i == 16)
            return fail(code, 413, CCZ_ERR_TOO_LARGE, "a chunk size of more than 16 hex digits");
        n = n << 4 | (uint64_t)hex_value(line.ptr[i]);
    }
    if (i == 0)
        return fail(code, 400, CCZ_ERR_MALFORMED, "a chunk without a hexadecimal size");
    size_t j = i;
    while (j < line.len && (line.ptr[j] == ' ' || line.ptr[j] == '\t'))
        j++;
    if (j < line.len && line.ptr[j] != ';')
        return fail(code, 400, CCZ_ERR_MALFORMED, "a malformed chunk size");
    if (j == line.len && j != i)
        return fail(code, 400, CCZ_ERR_MALFORMED, "blanks after a chunk size");
    for (; j < line.len; j++)
        if (!is_value_char(line.ptr[j]))
            return fail(code, 400, CCZ_ERR_MALFORMED, "a control byte in a chunk extension");
    *size = n;
    return CCZ_OK;
}

ccz_status http_chunked_step(http_chunked *ck, int *http_status, ccz_span in, size_t max_line,
                             size_t *used, ccz_span *data)
{
    *used = 0;
    *data = CCZ_SPAN(NULL, 0);
    *http_status = 0;
    ccz_cursor c;
    ccz_span line;
    switch (ck->state) {
    case HTTP_CHUNK_DATA: {
        size_t n = in.len < ck->left ? in.len : (size_t)ck->left;
        if (n == 0)
            return CCZ_ERR_TRUNCATED;
        *data = CCZ_SPAN(in.ptr, n);
        *used = n;
        ck->left -= n;
        if (ck->left == 0)
            ck->state = HTTP_CHUNK_DATA_END;
        return CCZ_OK;
    }
    case HTTP_CHUNK_DATA_END:
        if (in.len < 2)
            return in.len && in.ptr[0] != '\r' ? fail(http_status, 400, CCZ_ERR_MALFORMED,
                                                      "chunk data longer than its size")
                                               : CCZ_ERR_TRUNCATED;
        if (in.ptr[0] != '\r' || in.ptr[1] != '\n')
            return fail(http_status, 400, CCZ_ERR_MALFORMED, "chunk data longer than its size");
        *used = 2;
        ck->state = HTTP_CHUNK_SIZE;
        return CCZ_OK;
    case HTTP_CHUNK_SIZE:
    case HTTP_CHUNK_TRAILER: {
        bool trailer = ck->state == HTTP_CHUNK_TRAILER;
        size_t limit =
            trailer ? (max_line > ck->trailer_len ? max_line - ck->trailer_len : 0) : max_line;
        size_t n = in.len > limit ? limit : in.len;
        /* a line fed a piece at a time is scanned once, not again from its start for every
         * piece (a slow sender would make that quadratic): without a CR or LF in what is new
         * (or a CR just before it), the line is still under way */
        size_t from = ck->line_seen && ck->line_seen <= n ? ck->line_seen - 1 : 0;
        if (n < limit && !memchr(in.ptr + from, '\n', n - from) &&
            !memchr(in.ptr + from, '\r', n - from)) {
            ck->line_seen = n;
            return CCZ_ERR_TRUNCATED;
        }
        ccz_cursor_init(&c, CCZ_SPAN(in.ptr, n));
        ccz_status st = read_line(&c, &line);
        if (st == CCZ_ERR_TRUNCATED) {
            if (in.len < limit)
                return CCZ_ERR_TRUNCATED; /* read on */
            return trailer
                       ? fail(http_status, 431, CCZ_ERR_TOO_LARGE,
                              "the trailer section exceeds its limit")
                       : fail(http_status, 400, CCZ_ERR_MALFORMED, "an over-long chunk size line");
        }
        if (st != CCZ_OK)
            return fail(http_status, 400, CCZ_ERR_MALFORMED, "a chunk line not ended by CRLF");
        if (trailer) {
            if (line.len) { /* trailer fields are checked and dropped (RFC 9110 6.5.1) */
                ccz_span name, value;
                CCZ_GUARD(parse_field(http_status, line, &name, &value));
            }
            ck->trailer_len += c.pos;
            ck->state = line.len ? HTTP_CHUNK_TRAILER : HTTP_CHUNK_DONE;
        } else {
            uint64_t size = 0;
            CCZ_GUARD(parse_chunk_size(http_status, line, &size));
            ck->left = size;
            ck->state = size ? HTTP_CHUNK_DATA : HTTP_CHUNK_TRAILER;
        }
        ck->line_seen = 0;
        *used = c.pos; /* only now: a failure consumes nothing */
        return CCZ_OK;
    }
    case HTTP_CHUNK_DONE:
        break;
    }
    return CCZ_OK;
}
