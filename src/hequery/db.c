/* SPDX-License-Identifier: Apache-2.0 */
/* The encrypted query's database: "key,value" lines as the HE toolkit's secure-query sample reads
 * them, checked so that the encrypted lookup can answer right (keys unique after the cut to 8
 * bytes, no NUL bytes, bounded values). The file is the operator's, yet every byte is checked as
 * if it were hostile (fuzz target hequery_db). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/guard.h"
#include "internal.h"

double heq_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* One line (without its newline and trailing CR) into an entry. */
static ccz_status parse_line(heq_entry *e, const uint8_t *base, size_t off, size_t len, size_t line)
{
    const uint8_t *p = base + off;
    const uint8_t *comma = memchr(p, ',', len);
    CCZ_ENSURE(comma, CCZ_ERR_MALFORMED, "line %zu: no comma between key and value", line);
    size_t klen = (size_t)(comma - p), vlen = len - klen - 1;
    CCZ_ENSURE(klen > 0, CCZ_ERR_MALFORMED, "line %zu: the key is empty", line);
    CCZ_ENSURE(!memchr(p, 0, len), CCZ_ERR_MALFORMED, "line %zu: a NUL byte", line);
    CCZ_ENSURE(vlen <= CCZ_HEQ_MAX_VALUE, CCZ_ERR_TOO_LARGE,
               "line %zu: a value of %zu bytes (at most %d)", line, vlen, CCZ_HEQ_MAX_VALUE);
    memset(e->key, 0, sizeof e->key);
    e->key_len = klen < CCZ_HEQ_KEY_BYTES ? klen : CCZ_HEQ_KEY_BYTES;
    memcpy(e->key, p, e->key_len);
    e->value_off = off + klen + 1;
    e->value_len = vlen;
    return CCZ_OK;
}

static int by_key(const void *a, const void *b)
{
    return memcmp(((const heq_entry *)a)->key, ((const heq_entry *)b)->key, CCZ_HEQ_KEY_BYTES);
}

/* Keys must differ in their first 8 bytes: two equal ones would add their values up. */
static ccz_status check_unique(const ccz_heq_db *db)
{
    if (db->n < 2)
        return CCZ_OK;
    heq_entry *sorted = malloc(db->n * sizeof *sorted);
    CCZ_ENSURE(sorted, CCZ_ERR_NOMEM, "out of memory");
    memcpy(sorted, db->e, db->n * sizeof *sorted);
    qsort(sorted, db->n, sizeof *sorted, by_key);
    ccz_status s = CCZ_OK;
    for (size_t i = 1; i < db->n && !s; i++)
        if (by_key(&sorted[i - 1], &sorted[i]) == 0)
            s = ccz_fail(CCZ_ERR_EXISTS,
                         "the key \"%.8s\" is there twice (keys are compared on "
                         "their first %d bytes)",
                         (const char *)sorted[i].key, CCZ_HEQ_KEY_BYTES);
    free(sorted);
    return s;
}

static ccz_status parse(ccz_heq_db *db)
{
    const uint8_t *base = db->text.ptr;
    size_t len = db->text.len, cap = 0, line = 0;
    for (size_t i = 0; i < len;) {
        const uint8_t *nl = memchr(base + i, '\n', len - i);
        size_t off = i, l = nl ? (size_t)(nl - (base + i)) : len - i;
        i += l + 1;
        line++;
        if (l && base[off + l - 1] == '\r')
            l--;
        if (!l)
            continue;
        CCZ_ENSURE(db->n < CCZ_HEQ_MAX_ENTRIES, CCZ_ERR_TOO_LARGE, "line %zu: more than %d entries",
                   line, CCZ_HEQ_MAX_ENTRIES);
        if (db->n == cap) {
            cap = cap ? 2 * cap : 64;
            heq_entry *e = realloc(db->e, cap * sizeof *e);
            CCZ_ENSURE(e, CCZ_ERR_NOMEM, "out of memory");
            db->e = e;
        }
        CCZ_GUARD(parse_line(&db->e[db->n], base, off, l, line));
        if (db->e[db->n].value_len > db->max_value)
            db->max_value = db->e[db->n].value_len;
        db->n++;
    }
    CCZ_ENSURE(db->n > 0, CCZ_ERR_MALFORMED, "no entries");
    return check_unique(db);
}

ccz_status ccz_heq_db_parse(ccz_heq_db **out, ccz_span csv)
{
    *out = NULL;
    ccz_heq_db *db = calloc(1, sizeof *db);
    CCZ_ENSURE(db, CCZ_ERR_NOMEM, "out of memory");
    ccz_status s = ccz_buf_append(&db->text, csv.ptr, csv.len);
    if (s == CCZ_OK)
        s = parse(db);
    if (s) {
        ccz_heq_db_free(db);
        return s;
    }
    *out = db;
    return CCZ_OK;
}

ccz_status ccz_heq_db_load(ccz_heq_db **out, const char *path)
{
    *out = NULL;
    ccz_buf b = CCZ_BUF_INIT;
    /* at most CCZ_HEQ_MAX_ENTRIES lines of 8 KiB: a bound, not a format */
    ccz_status s = ccz_file_read(&b, path, (size_t)CCZ_HEQ_MAX_ENTRIES << 13);
    if (s == CCZ_OK)
        s = ccz_heq_db_parse(out, ccz_buf_span(&b));
    ccz_buf_free(&b);
    return s ? ccz_fail_context(s, "%s", path) : CCZ_OK;
}

void ccz_heq_db_free(ccz_heq_db *db)
{
    if (!db)
        return;
    ccz_buf_free(&db->text);
    free(db->e);
    free(db);
}

size_t ccz_heq_db_size(const ccz_heq_db *db)
{
    return db->n;
}

void ccz_heq_db_entry(ccz_span *key, ccz_span *value, const ccz_heq_db *db, size_t i)
{
    const heq_entry *e = &db->e[i];
    *key = CCZ_SPAN(e->key, e->key_len);
    *value = CCZ_SPAN(db->text.ptr + e->value_off, e->value_len);
}

bool ccz_heq_db_find(ccz_span *value, const ccz_heq_db *db, ccz_span key)
{
    uint8_t k[CCZ_HEQ_KEY_BYTES] = {0};
    memcpy(k, key.ptr, key.len < sizeof k ? key.len : sizeof k);
    for (size_t i = 0; i < db->n; i++)
        if (memcmp(db->e[i].key, k, sizeof k) == 0) {
            *value = CCZ_SPAN(db->text.ptr + db->e[i].value_off, db->e[i].value_len);
            return true;
        }
    *value = CCZ_SPAN(NULL, 0);
    return false;
}
