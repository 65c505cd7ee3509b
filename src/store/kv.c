/* SPDX-License-Identifier: Apache-2.0 */
/* The store's key-value table: namespaced values with an optional expiry, on top of store_exec
 * (so every backend gets it from the same portable SQL). Values may be secrets: they are copied
 * only into the caller's buffer, and a failed read leaves that buffer as it was, wiped past its
 * old end. Keys and namespaces are not secret but are not logged either. */
#include <string.h>

#include "core/guard.h"
#include "store/internal.h"

static bool utf8_valid(const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        size_t len = c < 0x80             ? 1
                     : (c & 0xe0) == 0xc0 ? 2
                     : (c & 0xf0) == 0xe0 ? 3
                     : (c & 0xf8) == 0xf0 ? 4
                                          : 0;
        if (len == 0 || n - i < len || (len == 2 && c < 0xc2) || (len == 4 && c > 0xf4))
            return false;
        for (size_t k = 1; k < len; k++)
            if ((p[i + k] & 0xc0) != 0x80)
                return false;
        if (len == 3) { /* no overlong forms, no surrogates */
            unsigned c1 = p[i + 1];
            if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 >= 0xa0))
                return false;
        }
        if (len == 4) {
            unsigned c1 = p[i + 1];
            if ((c == 0xf0 && c1 < 0x90) || (c == 0xf4 && c1 >= 0x90))
                return false;
        }
        i += len;
    }
    return true;
}

static ccz_status check_name(const char *what, const char *v, size_t max)
{
    CCZ_ENSURE(v, CCZ_ERR_INVALID_ARGUMENT, "store: no %s", what);
    size_t n = strlen(v);
    CCZ_ENSURE(n >= 1 && n <= max, CCZ_ERR_INVALID_ARGUMENT,
               "store: a %s is 1 to %zu bytes (this one %zu)", what, max, n);
    CCZ_ENSURE(utf8_valid((const unsigned char *)v, n), CCZ_ERR_INVALID_ARGUMENT,
               "store: a %s must be UTF-8", what);
    return CCZ_OK;
}

static ccz_status check_args(store *s, const char *ns, const char *key)
{
    CCZ_ENSURE(s, CCZ_ERR_INVALID_ARGUMENT, "store: no handle");
    CCZ_GUARD(check_name("namespace", ns, STORE_NS_MAX));
    return key ? check_name("key", key, STORE_KEY_MAX) : CCZ_OK;
}

static bool live(int64_t expires, int64_t now)
{
    return expires == 0 || now < expires;
}

/* What a read found, and where its value goes. */
typedef struct {
    ccz_buf *out; /* NULL: the value is not wanted */
    size_t len0;  /* out->len before the call */
    int64_t now;
    bool found;
} kv_read;

static void undo(kv_read *r)
{
    ccz_buf *b = r->out;
    if (!b || !b->ptr || b->len <= r->len0)
        return;
    ccz_wipe(b->ptr + r->len0, b->len - r->len0);
    b->len = r->len0;
    b->ptr[b->len] = 0;
}

/* Columns: value, expires. */
static ccz_status on_value(const store_row *row, void *payload)
{
    kv_read *r = payload;
    if (!live(store_row_int(row, 1), r->now))
        return CCZ_OK;
    r->found = true;
    if (!r->out)
        return CCZ_OK;
    ccz_span v = store_row_blob(row, 0);
    return ccz_buf_append(r->out, v.ptr, v.len);
}

static ccz_status read_value(store *s, ccz_buf *out, const char *sql, const char *ns,
                             const char *key)
{
    kv_read r = {out, out ? out->len : 0, store_now(s), false};
    ccz_status st =
        store_exec(s, NULL, sql, STORE_PARAMS(STORE_TEXT(ns), STORE_TEXT(key)), on_value, &r);
    if (st == CCZ_OK && !r.found)
        st = ccz_fail(CCZ_ERR_NOT_FOUND, "store: no live value for that key in namespace %s", ns);
    if (st != CCZ_OK)
        undo(&r);
    return st;
}

ccz_status store_kv_put(store *s, const char *ns, const char *key, const void *value, size_t len,
                        int64_t expires_unix)
{
    CCZ_GUARD(check_args(s, ns, key));
    CCZ_ENSURE(value || len == 0, CCZ_ERR_INVALID_ARGUMENT, "store_kv_put: NULL value");
    CCZ_ENSURE(expires_unix >= 0, CCZ_ERR_INVALID_ARGUMENT,
               "store_kv_put: expiry %lld is before 1970 (0 is never)", (long long)expires_unix);
    return store_exec(s, NULL,
                      "INSERT INTO store_kv (ns, key, value, expires) VALUES (?, ?, ?, ?) "
                      "ON CONFLICT (ns, key) DO UPDATE "
                      "SET value = excluded.value, expires = excluded.expires",
                      STORE_PARAMS(STORE_TEXT(ns), STORE_TEXT(key), STORE_BLOB(value, len),
                                   STORE_INT(expires_unix)),
                      NULL, NULL);
}

/* One statement: the insert, or the replacement of an expired row, happens or not under the
 * backend's own row lock, so concurrent adds cannot both succeed. */
ccz_status store_kv_add(store *s, const char *ns, const char *key, const void *value, size_t len,
                        int64_t expires_unix)
{
    CCZ_GUARD(check_args(s, ns, key));
    CCZ_ENSURE(value || len == 0, CCZ_ERR_INVALID_ARGUMENT, "store_kv_add: NULL value");
    CCZ_ENSURE(expires_unix >= 0, CCZ_ERR_INVALID_ARGUMENT,
               "store_kv_add: expiry %lld is before 1970 (0 is never)", (long long)expires_unix);
    int64_t changes = 0;
    CCZ_GUARD(store_exec(s, &changes,
                         "INSERT INTO store_kv (ns, key, value, expires) VALUES (?, ?, ?, ?) "
                         "ON CONFLICT (ns, key) DO UPDATE "
                         "SET value = excluded.value, expires = excluded.expires "
                         "WHERE store_kv.expires <> 0 AND store_kv.expires <= ?",
                         STORE_PARAMS(STORE_TEXT(ns), STORE_TEXT(key), STORE_BLOB(value, len),
                                      STORE_INT(expires_unix), STORE_INT(store_now(s))),
                         NULL, NULL));
    CCZ_ENSURE(changes == 1, CCZ_ERR_EXISTS, "store: namespace %s already has a live value there",
               ns);
    return CCZ_OK;
}

ccz_status store_kv_get(store *s, ccz_buf *out, const char *ns, const char *key)
{
    CCZ_GUARD(check_args(s, ns, key));
    CCZ_ENSURE(out, CCZ_ERR_INVALID_ARGUMENT, "store_kv_get: no output buffer");
    return read_value(s, out, "SELECT value, expires FROM store_kv WHERE ns = ? AND key = ?", ns,
                      key);
}

/* One statement that deletes and returns the row: atomic however many threads or processes
 * take the same key, and an expired row goes as well. */
ccz_status store_kv_take(store *s, ccz_buf *out, const char *ns, const char *key)
{
    CCZ_GUARD(check_args(s, ns, key));
    return read_value(
        s, out, "DELETE FROM store_kv WHERE ns = ? AND key = ? RETURNING value, expires", ns, key);
}

ccz_status store_kv_delete(store *s, const char *ns, const char *key)
{
    CCZ_GUARD(check_args(s, ns, key));
    return read_value(
        s, NULL, "DELETE FROM store_kv WHERE ns = ? AND key = ? RETURNING NULL, expires", ns, key);
}

typedef struct {
    store_kv_fn fn;
    void *payload;
    int64_t now;
} kv_lister;

static ccz_status on_entry(const store_row *row, void *payload)
{
    kv_lister *l = payload;
    int64_t expires = store_row_int(row, 2);
    if (!live(expires, l->now))
        return CCZ_OK;
    const char *key = store_row_text(row, 0);
    if (!key) /* only when SQLite ran out of memory converting it */
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    return l->fn(key, store_row_blob(row, 1), expires, l->payload);
}

ccz_status store_kv_list(store *s, const char *ns, store_kv_fn fn, void *payload)
{
    CCZ_GUARD(check_args(s, ns, NULL));
    CCZ_ENSURE(fn, CCZ_ERR_INVALID_ARGUMENT, "store_kv_list: no callback");
    kv_lister l = {fn, payload, store_now(s)};
    return store_exec(s, NULL, "SELECT key, value, expires FROM store_kv WHERE ns = ? ORDER BY key",
                      STORE_PARAMS(STORE_TEXT(ns)), on_entry, &l);
}

ccz_status store_kv_purge_expired(store *s, int64_t now)
{
    CCZ_ENSURE(s, CCZ_ERR_INVALID_ARGUMENT, "store: no handle");
    int64_t n = 0;
    CCZ_GUARD(store_exec(s, &n, "DELETE FROM store_kv WHERE expires <> 0 AND expires <= ?",
                         STORE_PARAMS(STORE_INT(now)), NULL, NULL));
    if (n)
        ccz_log(CCZ_LOG_DEBUG, "store: %lld expired values purged", (long long)n);
    return CCZ_OK;
}
