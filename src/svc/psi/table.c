/* SPDX-License-Identifier: Apache-2.0 */
/* The TEE PSI service's set table (internal.h): every distinct item once, with the parties
 * that have it; the intersection is the items every party has. */
#include <stdlib.h>
#include <string.h>

#include "core/guard.h"
#include "internal.h"

#define ENTRY_HEAD 10 /* mask (8) and length (2) */
#define MIN_SLOTS 64u
#define MAX_ARENA 0xfffffff0u /* offsets are 32 bits */

ccz_status psi_table_init(psi_table *t)
{
    memset(t, 0, sizeof *t);
    CCZ_ENSURE(sodium_init() >= 0, CCZ_ERR_CRYPTO, "libsodium cannot start");
    crypto_shorthash_keygen(t->key);
    return CCZ_OK;
}

void psi_table_free(psi_table *t)
{
    for (unsigned i = 0; i < PSI_BUCKETS; i++)
        free(t->b[i].slots);
    free(t->arena);
    sodium_memzero(t->key, sizeof t->key);
    memset(t, 0, sizeof *t);
}

size_t psi_table_bytes(const psi_table *t)
{
    return t->cap + t->slot_bytes;
}

static uint16_t entry_len(const psi_table *t, uint32_t off)
{
    return (uint16_t)(t->arena[off + 8] | t->arena[off + 9] << 8);
}

/* Places a slot in a bucket known to have room. */
static void place(psi_bucket *b, uint64_t slot)
{
    uint32_t i = (uint32_t)(slot >> 32) & b->mask;
    while (b->slots[i])
        i = (i + 1) & b->mask;
    b->slots[i] = slot;
}

/* Whether reserving `more` bytes keeps the table within its limit: checked before each
 * allocation, so that the bound holds for what is reserved, not only after the fact. */
static ccz_status within_limit(psi_table *t, size_t more)
{
    if (t->limit && psi_table_bytes(t) + more > t->limit) {
        t->over = true;
        return ccz_fail(CCZ_ERR_TOO_LARGE, "the PSI table would hold more than %zu bytes",
                        t->limit);
    }
    return CCZ_OK;
}

static ccz_status grow(psi_table *t, psi_bucket *b)
{
    uint32_t cap = b->slots ? (b->mask + 1) * 2 : MIN_SLOTS;
    CCZ_ENSURE(cap != 0 && cap <= (1u << 30), CCZ_ERR_TOO_LARGE, "a PSI bucket is full");
    uint64_t *old = b->slots;
    uint32_t old_cap = old ? b->mask + 1 : 0;
    CCZ_GUARD(within_limit(t, (size_t)(cap - old_cap) * sizeof *b->slots));
    b->slots = calloc(cap, sizeof *b->slots);
    if (!b->slots) {
        b->slots = old;
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory for the PSI table");
    }
    b->mask = cap - 1;
    t->slot_bytes += (size_t)(cap - old_cap) * sizeof *b->slots;
    for (uint32_t i = 0; i < old_cap; i++)
        if (old[i])
            place(b, old[i]);
    free(old);
    return CCZ_OK;
}

static ccz_status arena_room(psi_table *t, size_t need)
{
    if (t->len + need <= t->cap)
        return CCZ_OK;
    CCZ_ENSURE(t->len + need <= MAX_ARENA, CCZ_ERR_TOO_LARGE,
               "the PSI session holds 4 GiB of distinct items, its most");
    size_t cap = t->cap ? t->cap : 1u << 16; /* small: --max-memory counts what is reserved */
    while (cap < t->len + need)
        cap *= 2;
    if (cap > MAX_ARENA)
        cap = MAX_ARENA;
    CCZ_GUARD(within_limit(t, cap - t->cap));
    uint8_t *p = realloc(t->arena, cap); /* large blocks move by remapping, not copying */
    CCZ_ENSURE(p, CCZ_ERR_NOMEM, "out of memory for the PSI table");
    t->arena = p;
    t->cap = cap;
    return CCZ_OK;
}

uint64_t psi_table_hash(const psi_table *t, const uint8_t *item, size_t len)
{
    uint64_t h;
    crypto_shorthash((unsigned char *)&h, item, len, t->key);
    return h;
}

void psi_table_prefetch(const psi_table *t, uint64_t h)
{
    const psi_bucket *b = &t->b[h >> 56];
    if (b->slots)
        __builtin_prefetch(&b->slots[(uint32_t)h & b->mask]);
}

ccz_status psi_table_add(psi_table *t, unsigned party, const uint8_t *item, size_t len)
{
    return psi_table_add_hashed(t, party, psi_table_hash(t, item, len), item, len);
}

ccz_status psi_table_add_hashed(psi_table *t, unsigned party, uint64_t h, const uint8_t *item,
                                size_t len)
{
    CCZ_ENSURE(party < PSI_MAX_PARTIES && len <= PSI_MAX_ITEM, CCZ_ERR_INVALID_ARGUMENT,
               "a PSI item is at most %d bytes", PSI_MAX_ITEM);
    psi_bucket *b = &t->b[h >> 56];
    uint32_t tag = (uint32_t)h;
    if (!b->slots || (uint64_t)(b->used + 1) * 4 > (uint64_t)(b->mask + 1) * 3)
        CCZ_GUARD(grow(t, b));
    uint64_t bit = (uint64_t)1 << party;
    uint32_t i = tag & b->mask;
    for (uint64_t s; (s = b->slots[i]) != 0; i = (i + 1) & b->mask) {
        if ((uint32_t)(s >> 32) != tag)
            continue;
        uint32_t off = (uint32_t)s - 1;
        if (entry_len(t, off) == len && (!len || !memcmp(t->arena + off + ENTRY_HEAD, item, len))) {
            uint64_t m;
            memcpy(&m, t->arena + off, 8);
            m |= bit;
            memcpy(t->arena + off, &m, 8);
            return CCZ_OK;
        }
    }
    CCZ_GUARD(arena_room(t, ENTRY_HEAD + len));
    uint32_t off = (uint32_t)t->len;
    uint8_t *e = t->arena + off;
    memcpy(e, &bit, 8);
    e[8] = (uint8_t)len;
    e[9] = (uint8_t)(len >> 8);
    if (len)
        memcpy(e + ENTRY_HEAD, item, len);
    t->len += ENTRY_HEAD + len;
    b->slots[i] = (uint64_t)tag << 32 | (off + 1);
    b->used++;
    t->entries++;
    return CCZ_OK;
}

static int by_bytes(const void *x, const void *y, void *arg)
{
    const psi_table *t = arg;
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    size_t la = entry_len(t, a), lb = entry_len(t, b);
    int c = memcmp(t->arena + a + ENTRY_HEAD, t->arena + b + ENTRY_HEAD, la < lb ? la : lb);
    return c ? c : (la > lb) - (la < lb);
}

ccz_status psi_table_intersect(psi_result *out, const psi_table *t, uint64_t all)
{
    memset(out, 0, sizeof *out);
    size_t n = 0, cap = 0;
    uint32_t *offs = NULL;
    for (unsigned i = 0; i < PSI_BUCKETS; i++) {
        const psi_bucket *b = &t->b[i];
        for (uint32_t j = 0; b->slots && j <= b->mask; j++) {
            if (!b->slots[j])
                continue;
            uint32_t off = (uint32_t)b->slots[j] - 1;
            uint64_t m;
            memcpy(&m, t->arena + off, 8);
            if (m != all)
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 1024;
                uint32_t *p = realloc(offs, cap * sizeof *offs);
                if (!p) {
                    free(offs);
                    return ccz_fail(CCZ_ERR_NOMEM, "out of memory for the intersection");
                }
                offs = p;
            }
            offs[n++] = off;
        }
    }
    if (n)
        qsort_r(offs, n, sizeof *offs, by_bytes, (void *)t);
    ccz_status s = CCZ_OK;
    for (size_t i = 0; i < n && s == CCZ_OK; i++) {
        uint16_t len = entry_len(t, offs[i]);
        uint8_t head[2] = {(uint8_t)(len >> 8), (uint8_t)len};
        s = ccz_buf_append(&out->data, head, 2);
        if (s == CCZ_OK)
            s = ccz_buf_append(&out->data, t->arena + offs[i] + ENTRY_HEAD, len);
    }
    free(offs);
    if (s) {
        ccz_buf_free(&out->data);
        return s;
    }
    out->n = n;
    return CCZ_OK;
}

bool psi_result_next(const psi_result *r, size_t *off, ccz_span *item)
{
    if (*off + 2 > r->data.len)
        return false;
    size_t len = (size_t)r->data.ptr[*off] << 8 | r->data.ptr[*off + 1];
    *item = CCZ_SPAN(r->data.ptr + *off + 2, len);
    *off += 2 + len;
    return true;
}

/* UTF-8 as RFC 3629 has it: shortest forms, no surrogates, nothing past U+10FFFF. */
bool psi_utf8_ok(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint8_t c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k = c >= 0xc2 && c <= 0xdf   ? 1
                   : c >= 0xe0 && c <= 0xef ? 2
                   : c >= 0xf0 && c <= 0xf4 ? 3
                                            : 0;
        if (!k || k >= n - i)
            return false;
        uint32_t cp = c & (0x3fu >> k);
        for (size_t j = 1; j <= k; j++) {
            if ((p[i + j] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (p[i + j] & 0x3fu);
        }
        if ((k == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (k == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return false;
        i += k + 1;
    }
    return true;
}
