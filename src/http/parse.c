/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP/1.1 request head (RFC 9112 sections 3 and 5), read through the cursor. Strict where
 * leniency lets two parsers disagree about where a request ends (request smuggling): CRLF line
 * ends only, no obsolete line folding, no blank before a colon, one Content-Length value, no
 * Transfer-Encoding (bodies carry a length), exactly one Host in HTTP/1.1. */
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
    if (version.len != 8 || memcmp(version.ptr, "HTTP/1.", 7) != 0 ||
        (version.ptr[7] != '0' && version.ptr[7] != '1'))
        return fail(code, 505, CCZ_ERR_UNSUPPORTED_VERSION, "not HTTP/1.0 or HTTP/1.1");
    h->minor = version.ptr[7] - '0';
    const uint8_t *q = memchr(h->target.ptr, '?', h->target.len);
    size_t plen = q ? (size_t)(q - h->target.ptr) : h->target.len;
    h->path = CCZ_SPAN(h->target.ptr, plen);
    h->query = q ? CCZ_SPAN(q + 1, h->target.len - plen - 1) : CCZ_SPAN(NULL, 0);
    return CCZ_OK;
}

static ccz_status parse_header(http_head *h, int *code, ccz_span line)
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
    if (h->n_headers == HTTP_MAX_HEADERS)
        return fail(code, 431, CCZ_ERR_TOO_LARGE, "too many header lines");
    h->headers[h->n_headers++] =
        (http_header){CCZ_SPAN(line.ptr, n), CCZ_SPAN(line.ptr + v, e - v)};
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
    out->keep_alive = out->minor == 1;
    for (size_t i = 0; i < out->n_headers; i++) {
        const http_header *hd = &out->headers[i];
        if (span_eq_ci(hd->name, "content-length")) {
            CCZ_GUARD(parse_length(out, http_status, hd->value));
        } else if (span_eq_ci(hd->name, "transfer-encoding")) {
            return fail(http_status, 411, CCZ_ERR_UNSUPPORTED,
                        "Transfer-Encoding is not accepted: send the body with a Content-Length");
        } else if (span_eq_ci(hd->name, "host")) {
            hosts++;
        } else if (span_eq_ci(hd->name, "connection")) {
            if (has_token(hd->value, "close"))
                out->keep_alive = false;
            else if (has_token(hd->value, "keep-alive"))
                out->keep_alive = true;
        } else if (span_eq_ci(hd->name, "expect")) {
            if (!span_eq_ci(hd->value, "100-continue"))
                return fail(http_status, 417, CCZ_ERR_UNSUPPORTED, "an unknown expectation");
            out->expect_continue = out->minor == 1;
        }
    }
    if (out->minor == 1 && hosts != 1)
        return fail(http_status, 400, CCZ_ERR_MALFORMED,
                    hosts ? "several Host headers" : "no Host header");
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
