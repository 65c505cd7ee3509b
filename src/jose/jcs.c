/* SPDX-License-Identifier: Apache-2.0 */
/* JSON canonicalization (RFC 8785, JCS) of a jansson document, for hashes that another
 * implementation must reproduce (KBS runtime data). The document is trusted to be what jansson
 * holds (valid UTF-8); its size and depth are not. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/guard.h"
#include "jose/jose.h"

#define JCS_MAX_DEPTH 64
#define JCS_MAX_SAFE_INT 9007199254740992LL /* 2^53: beyond it a double is not exact */

ccz_status jose_json_parse(json_t **out, const char *text, size_t len)
{
    *out = NULL;
    if (len > JOSE_MAX_INPUT)
        return ccz_fail(CCZ_ERR_TOO_LARGE, "JSON of %zu bytes exceeds the %u-byte limit", len,
                        JOSE_MAX_INPUT);
    json_error_t err;
    *out = json_loadb(text ? text : "", len, JSON_REJECT_DUPLICATES, &err); /* "" for NULL */
    if (!*out)
        return ccz_fail(CCZ_ERR_JSON, "invalid JSON at column %d: %s", err.column,
                        ccz_json_error_unquoted(err.text));
    return CCZ_OK;
}

/* Reads one code point of valid UTF-8 (jansson guarantees it) and advances. */
static uint32_t utf8_next(const unsigned char **p)
{
    const unsigned char *s = *p;
    uint32_t c = s[0];
    int n = c < 0x80 ? 0 : c < 0xe0 ? 1 : c < 0xf0 ? 2 : 3, i = 1;
    if (n)
        c &= 0x3fu >> n;
    for (; i <= n && s[i]; i++) /* never past the NUL, even for a string built unchecked */
        c = c << 6 | (s[i] & 0x3fu);
    *p = s + i;
    return c;
}

/* The first UTF-16 code unit of a code point: JCS sorts names by code units, which orders
 * characters above U+FFFF (surrogates D800..DBFF) before U+E000..U+FFFF. */
static uint32_t utf16_first(uint32_t c)
{
    return c < 0x10000 ? c : 0xd800 + ((c - 0x10000) >> 10);
}

static int utf16_cmp(const void *a, const void *b)
{
    const unsigned char *p = *(const unsigned char *const *)a;
    const unsigned char *q = *(const unsigned char *const *)b;
    while (*p && *q) {
        uint32_t x = utf8_next(&p), y = utf8_next(&q);
        uint32_t ux = utf16_first(x), uy = utf16_first(y);
        if (ux != uy)
            return ux < uy ? -1 : 1;
        if (x != y) /* same high surrogate: the low surrogates order as the code points do */
            return x < y ? -1 : 1;
    }
    return (*p != 0) - (*q != 0);
}

static ccz_status jcs_string(ccz_buf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    CCZ_GUARD(ccz_buf_append_u8(out, '"'));
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc = 0;
        switch (c) {
        case '"':
            esc = '"';
            break;
        case '\\':
            esc = '\\';
            break;
        case '\b':
            esc = 'b';
            break;
        case '\f':
            esc = 'f';
            break;
        case '\n':
            esc = 'n';
            break;
        case '\r':
            esc = 'r';
            break;
        case '\t':
            esc = 't';
            break;
        default:
            break;
        }
        if (esc) {
            char e[2] = {'\\', esc};
            CCZ_GUARD(ccz_buf_append(out, e, 2));
        } else if (c < 0x20) {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            CCZ_GUARD(ccz_buf_append(out, e, 6));
        } else {
            CCZ_GUARD(ccz_buf_append_u8(out, c));
        }
    }
    return ccz_buf_append_u8(out, '"');
}

static ccz_status jcs_integer(ccz_buf *out, long long v)
{
    if (v > JCS_MAX_SAFE_INT || v < -JCS_MAX_SAFE_INT)
        return ccz_fail(CCZ_ERR_UNSUPPORTED,
                        "JCS: integer %lld is beyond 2^53 (ECMAScript formatting not supported)",
                        v);
    return ccz_buf_printf(out, "%lld", v);
}

static ccz_status jcs_value(ccz_buf *out, const json_t *v, int depth);

static ccz_status jcs_object(ccz_buf *out, const json_t *v, int depth)
{
    size_t n = json_object_size(v);
    const char **keys = n ? calloc(n, sizeof *keys) : NULL;
    if (n && !keys)
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    size_t i = 0;
    const char *k;
    json_t *m;
    json_object_foreach ((json_t *)v, k, m)
        keys[i++] = k;
    if (n)
        qsort(keys, n, sizeof *keys, utf16_cmp);
    ccz_status s = ccz_buf_append_u8(out, '{');
    for (i = 0; i < n && s == CCZ_OK; i++) {
        if (i)
            s = ccz_buf_append_u8(out, ',');
        if (s == CCZ_OK)
            s = jcs_string(out, keys[i], strlen(keys[i]));
        if (s == CCZ_OK)
            s = ccz_buf_append_u8(out, ':');
        if (s == CCZ_OK)
            s = jcs_value(out, json_object_get(v, keys[i]), depth + 1);
    }
    free(keys);
    return s ? s : ccz_buf_append_u8(out, '}');
}

static ccz_status jcs_value(ccz_buf *out, const json_t *v, int depth)
{
    if (depth > JCS_MAX_DEPTH)
        return ccz_fail(CCZ_ERR_TOO_LARGE, "JCS: nesting deeper than %d", JCS_MAX_DEPTH);
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return jcs_object(out, v, depth);
    case JSON_ARRAY:
        CCZ_GUARD(ccz_buf_append_u8(out, '['));
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                CCZ_GUARD(ccz_buf_append_u8(out, ','));
            CCZ_GUARD(jcs_value(out, json_array_get(v, i), depth + 1));
        }
        return ccz_buf_append_u8(out, ']');
    case JSON_STRING:
        return jcs_string(out, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        return jcs_integer(out, (long long)json_integer_value(v));
    case JSON_REAL: {
        double d = json_real_value(v);
        if (!isfinite(d) || d != floor(d) || fabs(d) > (double)JCS_MAX_SAFE_INT)
            return ccz_fail(CCZ_ERR_UNSUPPORTED,
                            "JCS: %g is not an integer (ECMAScript formatting not supported)", d);
        return jcs_integer(out, (long long)d); /* -0.0 gives "0", as ECMAScript does */
    }
    case JSON_TRUE:
        return ccz_buf_append_str(out, "true");
    case JSON_FALSE:
        return ccz_buf_append_str(out, "false");
    case JSON_NULL:
        return ccz_buf_append_str(out, "null");
    }
    return ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "JCS: unknown JSON type");
}

ccz_status jose_jcs(ccz_buf *out, const json_t *v)
{
    if (!v)
        return ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "JCS: no document");
    return jcs_value(out, v, 0); /* every append leaves the buffer NUL-terminated */
}
