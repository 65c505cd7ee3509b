/* SPDX-License-Identifier: Apache-2.0 */
/* The replay window: every signed request's (appid, nonce, timestamp) is remembered until its
 * timestamp can no longer pass the ±10-minute check, so the same request sent twice is refused.
 * A hash table of SHA-256 digests of the triple, open addressing with linear probing, and a
 * min-heap of expiry times: entries leave when they expire, whatever order their timestamps
 * came in (a client's clock running ahead must not hold back the entries after it). Bounded:
 * a full table of live entries refuses new requests (CCZ_ERR_UNAVAILABLE) rather than forget
 * one that could be replayed. Not thread-safe: the service calls it from its loop thread. */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "core/guard.h"
#include "svc/kms/internal.h"

/* A slot: 64 bits of SHA-256 of the triple (a false "replayed" needs a 2^-64 collision) and
 * when it may leave, in seconds (0: empty). 12 bytes; the heap holds the same. */
typedef struct {
    uint64_t fp;
    uint32_t expires_s;
} __attribute__((packed)) slot;

struct kms_replay {
    slot *table;
    size_t cap; /* a power of two, at least twice max */
    size_t max, n;
    slot *heap; /* by expires_s, the earliest first: count of max entries */
    size_t count;
    EVP_MD *sha256; /* fetched once */
    EVP_MD_CTX *md;
};

ccz_status kms_replay_max_ok(size_t max)
{
    CCZ_ENSURE(max >= 1 && max <= (1u << 26), CCZ_ERR_INVALID_ARGUMENT,
               "the replay window holds 1 to 67108864 requests, not %zu", max);
    return CCZ_OK;
}

ccz_status kms_replay_new(kms_replay **out, size_t max)
{
    CCZ_GUARD(kms_replay_max_ok(max));
    kms_replay *r = calloc(1, sizeof *r);
    CCZ_ENSURE(r, CCZ_ERR_NOMEM, "out of memory");
    r->cap = 16;
    while (r->cap < 2 * max)
        r->cap <<= 1;
    r->max = max;
    r->table = calloc(r->cap, sizeof *r->table);
    r->heap = calloc(max, sizeof *r->heap);
    r->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    r->md = EVP_MD_CTX_new();
    if (!r->table || !r->heap || !r->sha256 || !r->md) {
        kms_replay_free(r);
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory for the replay window");
    }
    /* touch every page now, not one page fault per request while the table fills */
    memset(r->table, 0, r->cap * sizeof *r->table);
    memset(r->heap, 0, max * sizeof *r->heap);
    *out = r;
    return CCZ_OK;
}

void kms_replay_free(kms_replay *r)
{
    if (!r)
        return;
    free(r->table);
    free(r->heap);
    EVP_MD_CTX_free(r->md);
    EVP_MD_free(r->sha256);
    free(r);
}

size_t kms_replay_size(const kms_replay *r)
{
    return r->n;
}

/* Removes fp from the table, shifting back the entries of its probe run (no tombstones). */
static void remove_fp(kms_replay *r, uint64_t fp)
{
    size_t mask = r->cap - 1, i = (size_t)fp & mask;
    while (r->table[i].expires_s && r->table[i].fp != fp)
        i = (i + 1) & mask;
    if (!r->table[i].expires_s)
        return;
    r->table[i].expires_s = 0;
    r->n--;
    for (size_t j = (i + 1) & mask; r->table[j].expires_s; j = (j + 1) & mask) {
        size_t h = (size_t)r->table[j].fp & mask;
        /* j's entry may fill the hole at i unless its home lies cyclically in (i, j] */
        bool stays = i <= j ? (h > i && h <= j) : (h > i || h <= j);
        if (stays)
            continue;
        r->table[i] = r->table[j];
        r->table[j].expires_s = 0;
        i = j;
    }
}

static void heap_push(kms_replay *r, slot e)
{
    size_t i = r->count++;
    while (i > 0 && r->heap[(i - 1) / 2].expires_s > e.expires_s) {
        r->heap[i] = r->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    r->heap[i] = e;
}

/* Removes the earliest entry. */
static void heap_pop(kms_replay *r)
{
    slot e = r->heap[--r->count];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= r->count)
            break;
        if (c + 1 < r->count && r->heap[c + 1].expires_s < r->heap[c].expires_s)
            c++;
        if (r->heap[c].expires_s >= e.expires_s)
            break;
        r->heap[i] = r->heap[c];
        i = c;
    }
    r->heap[i] = e;
}

static void expire(kms_replay *r, uint32_t now_s)
{
    while (r->count && r->heap[0].expires_s <= now_s) {
        remove_fp(r, r->heap[0].fp);
        heap_pop(r);
    }
}

ccz_status kms_replay_check(kms_replay *r, const char *appid, const char *nonce,
                            const char *timestamp, int64_t now_ms)
{
    uint8_t full[32];
    EVP_MD_CTX *md = r->md;
    /* an empty nonce is an absent one: the signature leaves both out alike (canon.c), so they
     * are one request, and "nonce": "" must not replay a request sent without one */
    if (nonce && !*nonce)
        nonce = NULL;
    /* each field ends in a NUL */
    int ok = EVP_DigestInit_ex2(md, r->sha256, NULL) == 1 &&
             EVP_DigestUpdate(md, appid, strlen(appid) + 1) == 1 &&
             EVP_DigestUpdate(md, nonce ? "n" : "-", 1) == 1 &&
             EVP_DigestUpdate(md, nonce ? nonce : "", nonce ? strlen(nonce) + 1 : 0) == 1 &&
             EVP_DigestUpdate(md, timestamp, strlen(timestamp) + 1) == 1 &&
             EVP_DigestFinal_ex(md, full, NULL) == 1;
    CCZ_ENSURE(ok, CCZ_ERR_CRYPTO, "SHA-256 failed");
    uint64_t fp;
    memcpy(&fp, full, sizeof fp);
    fp |= 1; /* never 0, so a slot's fp alone never looks empty in a dump */
    uint32_t now_s = (uint32_t)(now_ms / 1000);
    expire(r, now_s);
    size_t mask = r->cap - 1, i = (size_t)fp & mask;
    for (; r->table[i].expires_s; i = (i + 1) & mask)
        if (r->table[i].fp == fp)
            return CCZ_ERR_EXISTS;
    CCZ_ENSURE(r->n < r->max, CCZ_ERR_UNAVAILABLE,
               "the replay window is full (%zu signed requests in the last 10 minutes)", r->n);
    /* the timestamp passed the window check: the same request could pass it again until
     * ts + window, and no later (a second of slack for the rounding) */
    int64_t ts = strtoll(timestamp, NULL, 10);
    uint32_t until = (uint32_t)((ts + KMS_WINDOW_MS) / 1000 + 2);
    r->table[i] = (slot){fp, until};
    r->n++;
    heap_push(r, (slot){fp, until});
    return CCZ_OK;
}
