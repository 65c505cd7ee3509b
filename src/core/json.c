/* SPDX-License-Identifier: Apache-2.0 */
/* JSON documents through jansson: size-capped parsing that rejects duplicate keys and reports
 * where the text went wrong. */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/guard.h"
#include "ccz/core.h"

/* Every block jansson frees is wiped first: its parser keeps each token's raw text in a buffer
 * that it frees as it stands (the last string of a document, a secret perhaps, is still there
 * behind the closing brace), and strings and dumps grow by copying into a new block. Only
 * free changes, so a block allocated before this ran is freed the same way, and a program whose
 * own allocator jansson uses afterwards loses only the wipe. */
static void wiping_free(void *p)
{
    if (p) {
        ccz_wipe(p, malloc_usable_size(p));
        free(p);
    }
}

__attribute__((constructor)) static void json_wipe_on_free(void)
{
    json_malloc_t m; /* jansson's own malloc, kept */
    json_free_t f;
    json_get_alloc_funcs(&m, &f);
    json_set_alloc_funcs(m, wiping_free);
}

ccz_status ccz_json_parse(ccz_json **out, const char *text, size_t len, size_t max)
{
    *out = NULL;
    if (max && len > max)
        return ccz_fail(CCZ_ERR_TOO_LARGE, "JSON document of %zu bytes exceeds the %zu-byte limit",
                        len, max);
    json_error_t err;
    json_t *j = json_loadb(text ? text : "", len, JSON_REJECT_DUPLICATES, &err); /* "" for NULL */
    if (!j)
        return ccz_fail(CCZ_ERR_JSON, "invalid JSON at line %d, column %d: %s", err.line,
                        err.column, ccz_json_error_unquoted(err.text));
    *out = j;
    return CCZ_OK;
}

void ccz_json_free(ccz_json *j)
{
    json_decref(j);
}

static void wipe_strings(json_t *j)
{
    if (json_is_string(j)) {
        ccz_wipe((char *)json_string_value(j), json_string_length(j));
    } else if (json_is_array(j)) {
        for (size_t i = 0; i < json_array_size(j); i++)
            wipe_strings(json_array_get(j, i));
    } else if (json_is_object(j)) {
        const char *key;
        json_t *v;
        json_object_foreach (j, key, v)
            wipe_strings(v);
    }
}

void ccz_json_free_wiped(ccz_json *j)
{
    wipe_strings(j);
    json_decref(j);
}

typedef struct {
    ccz_buf *out;
    ccz_status s;
} dump_sink;

static int dump_piece(const char *piece, size_t n, void *arg)
{
    dump_sink *d = arg;
    d->s = ccz_buf_append(d->out, piece, n);
    return d->s == CCZ_OK ? 0 : -1;
}

/* jansson's text written straight into out (no intermediate string: out may be a wiped buffer) */
static ccz_status jansson_dump(ccz_buf *out, const json_t *j, size_t flags)
{
    dump_sink d = {out, CCZ_OK};
    size_t len = out->len;
    if (json_dump_callback(j, dump_piece, &d, flags | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER) == 0)
        return CCZ_OK;
    out->len = len;
    if (out->ptr)
        out->ptr[len] = 0;
    return d.s ? d.s : ccz_fail(CCZ_ERR_NOMEM, "out of memory");
}

/* ---- compact text ------------------------------------------------------------------------------
 * The bytes json_dumps(JSON_COMPACT) writes, without its intermediate string and per-character
 * UTF-8 walk: runs of bytes that need no escape are copied whole. jansson keeps strings valid
 * UTF-8, so bytes from 0x80 up are copied as they are; escapes are jansson's (\b \f \n \r \t,
 * else \u00XX in upper-case hex). Reals, and nesting deeper than COMPACT_MAX_DEPTH, are handed to
 * jansson itself, so every value comes out exactly as jansson writes it (fuzz/fuzz_jose holds
 * the two to that). */

enum {
    COMPACT_MAX_DEPTH = 64,
};

/* Appends within the room the buffer has (no call, no allocation), else through ccz_buf. */
static inline ccz_status put(ccz_buf *b, const void *p, size_t n)
{
    if (n < b->cap - b->len && (!b->max || n <= b->max - b->len)) {
        memcpy(b->ptr + b->len, p, n);
        b->len += n;
        b->ptr[b->len] = 0;
        return CCZ_OK;
    }
    return ccz_buf_append(b, p, n);
}

static inline ccz_status put_ch(ccz_buf *b, char ch)
{
    return put(b, &ch, 1);
}

static ccz_status compact_str(ccz_buf *out, const char *p, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    CCZ_GUARD(ccz_buf_reserve(out, n + 2));
    CCZ_GUARD(put_ch(out, '"'));
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch >= 0x20 && ch != '"' && ch != '\\')
            continue;
        CCZ_GUARD(put(out, p + run, i - run));
        run = i + 1;
        char esc[6] = {'\\', (char)ch, 0, 0, 0, 0};
        size_t len = 2;
        switch (ch) {
        case '"':
        case '\\':
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[ch >> 4];
            esc[5] = hex[ch & 15];
            len = 6;
        }
        CCZ_GUARD(put(out, esc, len));
    }
    CCZ_GUARD(put(out, p + run, n - run));
    return put_ch(out, '"');
}

static ccz_status compact_int(ccz_buf *out, json_int_t v)
{
    char digits[24], *e = digits + sizeof digits, *d = e;
    unsigned long long m = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    do {
        *--d = (char)('0' + m % 10);
        m /= 10;
    } while (m);
    if (v < 0)
        *--d = '-';
    return put(out, d, (size_t)(e - d));
}

static ccz_status compact_value(ccz_buf *out, const json_t *j, int depth)
{
    if (depth >= COMPACT_MAX_DEPTH)
        return jansson_dump(out, j, JSON_COMPACT);
    ccz_status s = CCZ_OK;
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        const char *key;
        size_t klen;
        json_t *v;
        char sep = '{';
        json_object_keylen_foreach((json_t *)j, key, klen, v)
        {
            if (!s)
                s = put_ch(out, sep);
            if (!s)
                s = compact_str(out, key, klen);
            if (!s)
                s = put_ch(out, ':');
            if (!s)
                s = compact_value(out, v, depth + 1);
            sep = ',';
        }
        return s ? s : put(out, sep == '{' ? "{}" : "}", sep == '{' ? 2 : 1);
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(j);
        s = put_ch(out, '[');
        for (size_t i = 0; !s && i < n; i++) {
            if (i)
                s = put_ch(out, ',');
            if (!s)
                s = compact_value(out, json_array_get(j, i), depth + 1);
        }
        return s ? s : put_ch(out, ']');
    }
    case JSON_STRING:
        return compact_str(out, json_string_value(j), json_string_length(j));
    case JSON_INTEGER:
        return compact_int(out, json_integer_value(j));
    case JSON_REAL:
        return jansson_dump(out, j, JSON_COMPACT);
    case JSON_TRUE:
        return put(out, "true", 4);
    case JSON_FALSE:
        return put(out, "false", 5);
    case JSON_NULL:
        return put(out, "null", 4);
    }
    return ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "JSON: not a JSON value");
}

ccz_status ccz_json_dump(ccz_buf *out, const ccz_json *j, bool indent)
{
    CCZ_ENSURE(out && j, CCZ_ERR_INVALID_ARGUMENT, "ccz_json_dump: no buffer or no value");
    if (indent)
        return jansson_dump(out, j, JSON_INDENT(2));
    size_t len = out->len;
    ccz_status s = compact_value(out, j, 0);
    if (s) {
        out->len = len; /* nothing half-written */
        if (out->ptr)
            out->ptr[len] = 0;
    }
    return s;
}

/* ---- Python's marshal format ------------------------------------------------------------------
 * The value as marshal.loads (format version 4, read by every Python 3 since 3.4) takes it, for
 * the Python binding: a dict built from length-prefixed items costs Python a third of parsing the
 * same document's JSON text. Only the types a JSON value needs; no references (FLAG_REF). */

enum {
    MARSHAL_MAX_DEPTH = 256,
};

static ccz_status marshal_len(ccz_buf *out, uint8_t type, size_t n)
{
    CCZ_ENSURE(n <= INT32_MAX, CCZ_ERR_TOO_LARGE, "marshal: an item of %zu elements", n);
    ccz_status s = ccz_buf_append_u8(out, type);
    return s ? s : ccz_buf_append_u32le(out, (uint32_t)n);
}

static ccz_status marshal_str(ccz_buf *out, const char *p, size_t n)
{
    /* ASCII (every byte below 0x80): eight bytes at a time, then the rest */
    uint64_t high = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        high |= w;
    }
    for (; i < n; i++)
        high |= (unsigned char)p[i];
    bool ascii = !(high & 0x8080808080808080ULL);
    ccz_status s;
    if (ascii && n < 256) { /* TYPE_SHORT_ASCII: one byte of length */
        uint8_t head[2] = {'z', (uint8_t)n};
        s = ccz_buf_append(out, head, sizeof head);
    } else { /* TYPE_ASCII, or TYPE_UNICODE (UTF-8, which jansson's strings are) */
        s = marshal_len(out, ascii ? 'a' : 'u', n);
    }
    return s ? s : ccz_buf_append(out, p, n);
}

/* TYPE_INT when it fits 32 bits, else TYPE_LONG: the magnitude in 15-bit digits, least
 * significant first, their count negated for a negative number. */
static ccz_status marshal_int(ccz_buf *out, json_int_t v)
{
    if (v >= INT32_MIN && v <= INT32_MAX) {
        ccz_status s = ccz_buf_append_u8(out, 'i');
        return s ? s : ccz_buf_append_u32le(out, (uint32_t)(int32_t)v);
    }
    unsigned long long mag = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    uint16_t digits[5]; /* 64 bits in 15-bit digits */
    int n = 0;
    for (; mag; mag >>= 15)
        digits[n++] = (uint16_t)(mag & 0x7fff);
    ccz_status s = ccz_buf_append_u8(out, 'l');
    if (!s)
        s = ccz_buf_append_u32le(out, (uint32_t)(v < 0 ? -n : n));
    for (int i = 0; !s && i < n; i++)
        s = ccz_buf_append_u16le(out, digits[i]);
    return s;
}

static ccz_status marshal_value(ccz_buf *out, const json_t *j, int depth)
{
    CCZ_ENSURE(depth < MARSHAL_MAX_DEPTH, CCZ_ERR_TOO_LARGE, "marshal: nested too deeply");
    ccz_status s = CCZ_OK;
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        const char *key;
        size_t klen;
        json_t *v;
        s = ccz_buf_append_u8(out, '{');
        json_object_keylen_foreach((json_t *)j, key, klen, v)
        {
            if (!s)
                s = marshal_str(out, key, klen);
            if (!s)
                s = marshal_value(out, v, depth + 1);
        }
        return s ? s : ccz_buf_append_u8(out, '0'); /* TYPE_NULL ends a dict */
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(j);
        s = marshal_len(out, '[', n);
        for (size_t i = 0; !s && i < n; i++)
            s = marshal_value(out, json_array_get(j, i), depth + 1);
        return s;
    }
    case JSON_STRING:
        return marshal_str(out, json_string_value(j), json_string_length(j));
    case JSON_INTEGER:
        return marshal_int(out, json_integer_value(j));
    case JSON_REAL: { /* TYPE_BINARY_FLOAT: the IEEE 754 double, little-endian */
        double d = json_real_value(j);
        uint64_t bits;
        memcpy(&bits, &d, sizeof bits);
        s = ccz_buf_append_u8(out, 'g');
        return s ? s : ccz_buf_append_u64le(out, bits);
    }
    case JSON_TRUE:
        return ccz_buf_append_u8(out, 'T');
    case JSON_FALSE:
        return ccz_buf_append_u8(out, 'F');
    case JSON_NULL:
        return ccz_buf_append_u8(out, 'N');
    }
    return ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "marshal: not a JSON value");
}

ccz_status ccz_json_dump_marshal(ccz_buf *out, const ccz_json *j)
{
    CCZ_ENSURE(out && j, CCZ_ERR_INVALID_ARGUMENT, "ccz_json_dump_marshal: no buffer or no value");
    size_t len = out->len;
    ccz_status s = marshal_value(out, j, 0);
    if (s)
        out->len = len; /* nothing half-written */
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
