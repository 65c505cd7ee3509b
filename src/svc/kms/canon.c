/* SPDX-License-Identifier: Apache-2.0 */
/* eHSM-KMS's canonical string, the text a request's HMAC covers (eHSM's params_sort_str in
 * ehsm_kms_service/function.js, a JavaScript function, so its rules are JavaScript's):
 *   - an object's keys in sorted order (UTF-16 code units, which for the keys eHSM uses is
 *     byte order), pieces "k=v" joined by '&';
 *   - a value is left out when it is loosely equal to "": null, "", 0, false, and an array
 *     whose String() is empty ([], [""], [null], [[]]);
 *   - a nested object or array is written as its own canonical string (an array's keys are its
 *     indices), with no brackets and no escaping; an empty object is "k=";
 *   - numbers as JavaScript's String() writes them, true as "true", strings as they are. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/guard.h"
#include "svc/kms/internal.h"

#define CANON_MAX_DEPTH 32

/* JavaScript's String(number) for a finite double: the shortest digits that read back as the
 * same double, in plain notation for exponents -7 < e < 21, else d.ddde+x. */
static ccz_status js_number(ccz_buf *out, double v)
{
    char buf[40];
    if (v == 0)
        return ccz_buf_append(out, "0", 1);
    if (!isfinite(v))
        return ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "a number that is not finite");
    int prec = 1;
    for (; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    /* buf: [-]d[.ddd]e[+-]xx; collect the digits and the exponent */
    const char *p = buf;
    bool neg = *p == '-';
    if (neg)
        p++;
    char digits[20];
    size_t nd = 0;
    for (; *p && *p != 'e'; p++)
        if (*p != '.')
            digits[nd++] = *p;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    int e = atoi(p + 1); /* the value is d.ddd × 10^e */
    char text[64];
    size_t n = 0;
    if (neg)
        text[n++] = '-';
    if (e >= 21 || e <= -7) {
        text[n++] = digits[0];
        if (nd > 1) {
            text[n++] = '.';
            memcpy(text + n, digits + 1, nd - 1);
            n += nd - 1;
        }
        n += (size_t)snprintf(text + n, sizeof text - n, "e%c%d", e < 0 ? '-' : '+', abs(e));
    } else if (e >= 0) {
        for (int i = 0; i <= e || (size_t)i < nd; i++) {
            if (i == e + 1)
                text[n++] = '.';
            text[n++] = (size_t)i < nd ? digits[i] : '0';
        }
    } else {
        text[n++] = '0';
        text[n++] = '.';
        for (int i = -1; i > e; i--)
            text[n++] = '0';
        memcpy(text + n, digits, nd);
        n += nd;
    }
    return ccz_buf_append(out, text, n);
}

/* Whether v == "" in JavaScript's loose equality (the value is then left out). */
static bool js_loosely_empty(const json_t *v, int depth)
{
    switch (json_typeof(v)) {
    case JSON_NULL:
    case JSON_FALSE:
        return true;
    case JSON_STRING:
        return json_string_length(v) == 0;
    case JSON_INTEGER:
        return json_integer_value(v) == 0;
    case JSON_REAL:
        return json_real_value(v) == 0;
    case JSON_ARRAY: /* String(array) is its elements' String()s joined by ',' */
        if (json_array_size(v) == 0)
            return true;
        if (json_array_size(v) > 1 || depth >= CANON_MAX_DEPTH)
            return false;
        {
            const json_t *e = json_array_get(v, 0);
            /* String([x]) is "" for x null (not false: String([false]) is "false"), "", [] … */
            return json_is_null(e) || (json_is_string(e) && json_string_length(e) == 0) ||
                   (json_is_array(e) && js_loosely_empty(e, depth + 1) && !json_is_false(e));
        }
    default:
        return false; /* true, non-zero numbers, objects ("[object Object]") */
    }
}

typedef struct {
    const char *key;
    size_t len;
    const json_t *value;
} canon_item;

static int item_cmp(const void *a, const void *b)
{
    const canon_item *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->key, y->key, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

static ccz_status canon(ccz_buf *out, const json_t *obj, int depth);

static ccz_status scalar(ccz_buf *out, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        return ccz_buf_append(out, json_string_value(v), json_string_length(v));
    case JSON_INTEGER: {
        char t[32];
        int n = snprintf(t, sizeof t, "%lld", (long long)json_integer_value(v));
        return ccz_buf_append(out, t, (size_t)n);
    }
    case JSON_REAL:
        return js_number(out, json_real_value(v));
    case JSON_TRUE:
        return ccz_buf_append(out, "true", 4);
    default:
        return CCZ_OK;
    }
}

static ccz_status canon(ccz_buf *out, const json_t *obj, int depth)
{
    CCZ_ENSURE(depth < CANON_MAX_DEPTH, CCZ_ERR_TOO_LARGE, "the JSON is nested too deep");
    size_t n = json_is_array(obj) ? json_array_size(obj) : json_object_size(obj);
    if (n == 0)
        return CCZ_OK;
    canon_item *items = calloc(n, sizeof *items);
    char(*index)[24] = json_is_array(obj) ? calloc(n, sizeof *index) : NULL;
    if (!items || (!index && json_is_array(obj))) {
        free(items);
        free(index);
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    }
    size_t k = 0;
    if (json_is_array(obj)) {
        for (size_t i = 0; i < n; i++) {
            int len = snprintf(index[i], sizeof index[i], "%zu", i);
            items[k++] = (canon_item){index[i], (size_t)len, json_array_get(obj, i)};
        }
    } else {
        const char *key;
        size_t key_len;
        json_t *v;
        void *tmp;
        json_object_keylen_foreach_safe((json_t *)obj, tmp, key, key_len, v)
        {
            items[k++] = (canon_item){key, key_len, v};
        }
    }
    qsort(items, k, sizeof *items, item_cmp);
    ccz_status s = CCZ_OK;
    bool first = true;
    for (size_t i = 0; i < k && s == CCZ_OK; i++) {
        const json_t *v = items[i].value;
        if (js_loosely_empty(v, 0))
            continue;
        if (!first)
            s = ccz_buf_append_u8(out, '&');
        first = false;
        if (s == CCZ_OK)
            s = ccz_buf_append(out, items[i].key, items[i].len);
        if (s == CCZ_OK)
            s = ccz_buf_append_u8(out, '=');
        if (s == CCZ_OK)
            s = json_is_object(v) || json_is_array(v) ? canon(out, v, depth + 1) : scalar(out, v);
    }
    free(items);
    free(index);
    return s;
}

ccz_status kms_canonical(ccz_buf *out, const json_t *obj)
{
    CCZ_ENSURE(json_is_object(obj), CCZ_ERR_INVALID_ARGUMENT, "not a JSON object");
    return canon(out, obj, 0);
}

ccz_status kms_request_canonical(ccz_buf *out, const char *appid, const char *nonce,
                                 const char *timestamp, const json_t *payload)
{
    /* canonical({appid, nonce, payload, timestamp}) written directly: those keys in sorted
     * order, each left out as the general rule leaves out an absent or empty value */
    ccz_status s = CCZ_OK;
    bool first = true;
    const char *texts[] = {appid, nonce, NULL, timestamp};
    static const char *const names[] = {"appid=", "nonce=", "payload=", "timestamp="};
    for (size_t i = 0; i < 4 && s == CCZ_OK; i++) {
        bool is_payload = i == 2;
        if (is_payload ? !payload || js_loosely_empty(payload, 0) : !texts[i] || !*texts[i])
            continue;
        if (!first)
            s = ccz_buf_append_u8(out, '&');
        first = false;
        if (s == CCZ_OK)
            s = ccz_buf_append_str(out, names[i]);
        if (s == CCZ_OK && is_payload)
            s = json_is_object(payload) || json_is_array(payload) ? canon(out, payload, 1)
                                                                  : scalar(out, payload);
        else if (s == CCZ_OK)
            s = ccz_buf_append_str(out, texts[i]);
    }
    return s;
}

ccz_status kms_request_sign(char out[KMS_SIGN_LEN + 1], ccz_span apikey, const char *appid,
                            const char *nonce, const char *timestamp, const json_t *payload)
{
    ccz_buf text;
    ccz_buf_init(&text, 0, true); /* holds the payload: a plaintext, a data key */
    ccz_status s = kms_request_canonical(&text, appid, nonce, timestamp, payload);
    uint8_t mac[32];
    if (s == CCZ_OK)
        s = kms_hmac_sha256(mac, apikey, ccz_buf_span(&text));
    ccz_buf_free(&text);
    if (s == CCZ_OK)
        s = kms_b64_fixed(out, KMS_SIGN_LEN + 1, CCZ_SPAN(mac, sizeof mac));
    ccz_wipe(mac, sizeof mac);
    return s;
}
