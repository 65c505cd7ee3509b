/* SPDX-License-Identifier: Apache-2.0 */
/* JSON documents through jansson: size-capped parsing that rejects duplicate keys and reports
 * where the text went wrong. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/guard.h"
#include "ccz/core.h"

ccz_status ccz_json_parse(ccz_json **out, const char *text, size_t len, size_t max)
{
    *out = NULL;
    if (max && len > max)
        return ccz_fail(CCZ_ERR_TOO_LARGE, "JSON document of %zu bytes exceeds the %zu-byte limit",
                        len, max);
    json_error_t err;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
    if (!j)
        return ccz_fail(CCZ_ERR_JSON, "invalid JSON at line %d, column %d: %s", err.line,
                        err.column, err.text);
    *out = j;
    return CCZ_OK;
}

void ccz_json_free(ccz_json *j)
{
    json_decref(j);
}

ccz_status ccz_json_dump(ccz_buf *out, const ccz_json *j, bool indent)
{
    CCZ_ENSURE(out && j, CCZ_ERR_INVALID_ARGUMENT, "ccz_json_dump: no buffer or no value");
    size_t flags = JSON_ENCODE_ANY | JSON_PRESERVE_ORDER | (indent ? JSON_INDENT(2) : JSON_COMPACT);
    char *text = json_dumps(j, flags);
    CCZ_ENSURE(text, CCZ_ERR_NOMEM, "out of memory");
    ccz_status s = ccz_buf_append(out, text, strlen(text));
    free(text);
    return s;
}

/* ---- raw member extraction ---------------------------------------------------------------------
 * A scanner over untrusted text that finds where a value starts and ends, honouring strings and
 * escapes and nesting; it reads only through the cursor. */

#define JSON_MAX_DEPTH 256

static void skip_ws(ccz_cursor *c)
{
    ccz_span s;
    while (ccz_cursor_peek(c, &s, 1) == CCZ_OK &&
           (s.ptr[0] == ' ' || s.ptr[0] == '\t' || s.ptr[0] == '\n' || s.ptr[0] == '\r'))
        (void)!ccz_cursor_skip(c, 1); /* cannot fail: the peek saw the byte */
}

/* Skips a string whose opening quote has been read. */
static ccz_status skip_string(ccz_cursor *c)
{
    /* scanned over the rest as one span (a long base64 string is thousands of bytes), with
     * memchr: the closing quote, then any escape before it */
    ccz_cursor t = *c;
    ccz_span rest;
    if (ccz_cursor_take(&t, &rest, ccz_cursor_remaining(c)))
        return ccz_fail(CCZ_ERR_JSON, "JSON: unterminated string");
    size_t i = 0;
    while (i < rest.len) {
        const uint8_t *q = memchr(rest.ptr + i, '"', rest.len - i);
        if (!q)
            break;
        size_t end = (size_t)(q - rest.ptr);
        const uint8_t *esc = memchr(rest.ptr + i, '\\', end - i);
        if (!esc)
            return ccz_cursor_skip(c, end + 1);
        i = (size_t)(esc - rest.ptr) + 2; /* the escape and the byte it escapes */
    }
    bool dangling = false; /* no closing quote: does the input end inside an escape? */
    for (size_t k = i; k < rest.len; k++)
        if (rest.ptr[k] == '\\' && ++k == rest.len)
            dangling = true;
    return ccz_fail(CCZ_ERR_JSON,
                    dangling ? "JSON: unterminated escape" : "JSON: unterminated string");
}

static ccz_status skip_value(ccz_cursor *c)
{
    uint8_t ch;
    int depth = 0;
    skip_ws(c);
    do {
        if (ccz_cursor_u8(c, &ch))
            return ccz_fail(CCZ_ERR_JSON, "JSON: value ends early");
        if (ch == '"') {
            CCZ_GUARD(skip_string(c));
        } else if (ch == '{' || ch == '[') {
            if (++depth > JSON_MAX_DEPTH)
                return ccz_fail(CCZ_ERR_JSON, "JSON: nested deeper than %d", JSON_MAX_DEPTH);
        } else if (ch == '}' || ch == ']') {
            if (--depth < 0)
                return ccz_fail(CCZ_ERR_JSON, "JSON: unbalanced '%c'", ch);
        } else if (depth == 0) {
            /* a number or literal: runs until a delimiter */
            ccz_span s;
            while (ccz_cursor_peek(c, &s, 1) == CCZ_OK && !strchr(",}] \t\r\n", s.ptr[0]))
                (void)!ccz_cursor_skip(c, 1); /* cannot fail: the peek saw the byte */
        }
    } while (depth > 0);
    return CCZ_OK;
}

ccz_status ccz_json_raw_member(ccz_span *value, ccz_span doc, const char *key)
{
    ccz_cursor c;
    ccz_cursor_init(&c, doc);
    uint8_t ch;
    size_t klen = strlen(key);
    skip_ws(&c);
    if (ccz_cursor_u8(&c, &ch) || ch != '{')
        return ccz_fail(CCZ_ERR_JSON, "JSON: not an object");
    for (;;) {
        skip_ws(&c);
        if (ccz_cursor_u8(&c, &ch))
            return ccz_fail(CCZ_ERR_JSON, "JSON: object ends early");
        if (ch == '}')
            return ccz_fail(CCZ_ERR_NOT_FOUND, "JSON: no member \"%s\"", key);
        if (ch != '"')
            return ccz_fail(CCZ_ERR_JSON, "JSON: expected a member name");
        size_t start = c.pos;
        CCZ_GUARD(skip_string(&c));
        bool match = c.pos - start - 1 == klen && memcmp(c.base + start, key, klen) == 0;
        skip_ws(&c);
        if (ccz_cursor_u8(&c, &ch) || ch != ':')
            return ccz_fail(CCZ_ERR_JSON, "JSON: expected ':'");
        skip_ws(&c);
        size_t vstart = c.pos;
        CCZ_GUARD(skip_value(&c));
        if (match) {
            *value = (ccz_span){c.base + vstart, c.pos - vstart};
            return CCZ_OK;
        }
        skip_ws(&c);
        if (ccz_cursor_u8(&c, &ch) || (ch != ',' && ch != '}'))
            return ccz_fail(CCZ_ERR_JSON, "JSON: expected ',' or '}'");
        if (ch == '}')
            return ccz_fail(CCZ_ERR_NOT_FOUND, "JSON: no member \"%s\"", key);
    }
}
