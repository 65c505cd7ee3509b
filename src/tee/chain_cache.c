/* SPDX-License-Identifier: Apache-2.0 */
/* Verified certificate chains remembered in a trust store, so evidence that carries the same
 * leaf certificate every time (Azure's VCEK, a VEK given per report) costs no chain work after
 * the first. Entries hold only what a full verification established; the key is a hash of the
 * chain's exact bytes, and a hit also needs the same roots (the store's id) and an instant within
 * every certificate's validity, so a hit accepts exactly what a cold verification would. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/guard.h"
#include "tee/chain_cache.h"

typedef struct {
    bool used;
    uint8_t key[32];
    uint64_t trust_id;
    int64_t valid_from, valid_until;
    EVP_PKEY *leaf_key;
    uint8_t facts[TEE_CHAIN_FACTS_MAX];
} chain_entry;

struct tee_chain_cache {
    pthread_mutex_t lock; /* guards what follows */
    chain_entry slot[TEE_CHAIN_CACHE_SLOTS];
    unsigned next;
    uint64_t hits, misses;
};

ccz_status tee_chain_cache_new(tee_chain_cache **out)
{
    tee_chain_cache *c = calloc(1, sizeof *c);
    CCZ_ENSURE(c, CCZ_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&c->lock, NULL);
    *out = c;
    return CCZ_OK;
}

void tee_chain_cache_free(tee_chain_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < TEE_CHAIN_CACHE_SLOTS; i++)
        EVP_PKEY_free(c->slot[i].leaf_key);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

ccz_status tee_chain_key(uint8_t key[32], const char *domain, const ccz_span *certs, size_t n)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    CCZ_ENSURE(ctx, CCZ_ERR_NOMEM, "out of memory");
    int ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
             EVP_DigestUpdate(ctx, domain, strlen(domain) + 1);
    for (size_t i = 0; ok && i < n; i++) {
        uint8_t len[8];
        for (int b = 0; b < 8; b++)
            len[b] = (uint8_t)((uint64_t)certs[i].len >> (8 * b));
        ok = EVP_DigestUpdate(ctx, len, sizeof len) &&
             EVP_DigestUpdate(ctx, certs[i].ptr, certs[i].len);
    }
    ok = ok && EVP_DigestFinal_ex(ctx, key, NULL);
    EVP_MD_CTX_free(ctx);
    CCZ_ENSURE(ok, CCZ_ERR_CRYPTO, "hashing a certificate chain");
    return CCZ_OK;
}

bool tee_chain_lookup(tee_chain_cache *c, tee_chain_hit *hit, const uint8_t key[32],
                      uint64_t trust_id, int64_t at, size_t facts_len)
{
    if (!c || facts_len > TEE_CHAIN_FACTS_MAX)
        return false;
    bool found = false;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < TEE_CHAIN_CACHE_SLOTS && !found; i++) {
        const chain_entry *e = &c->slot[i];
        if (!e->used || e->trust_id != trust_id || at < e->valid_from || at > e->valid_until ||
            memcmp(e->key, key, 32) != 0)
            continue;
        EVP_PKEY_up_ref(e->leaf_key);
        hit->leaf_key = e->leaf_key;
        hit->valid_from = e->valid_from;
        hit->valid_until = e->valid_until;
        memcpy(hit->facts, e->facts, facts_len);
        found = true;
    }
    if (found)
        c->hits++;
    else
        c->misses++;
    pthread_mutex_unlock(&c->lock);
    return found;
}

void tee_chain_remember(tee_chain_cache *c, const uint8_t key[32], uint64_t trust_id,
                        int64_t valid_from, int64_t valid_until, EVP_PKEY *leaf_key,
                        const void *facts, size_t facts_len)
{
    if (!c || !leaf_key || facts_len > TEE_CHAIN_FACTS_MAX)
        return;
    pthread_mutex_lock(&c->lock);
    chain_entry *e = NULL;
    /* the same chain again (verified for a wider window, or by two threads at once): replace */
    for (size_t i = 0; i < TEE_CHAIN_CACHE_SLOTS && !e; i++)
        if (c->slot[i].used && c->slot[i].trust_id == trust_id &&
            memcmp(c->slot[i].key, key, 32) == 0)
            e = &c->slot[i];
    if (!e)
        e = &c->slot[c->next++ % TEE_CHAIN_CACHE_SLOTS];
    EVP_PKEY_free(e->leaf_key);
    EVP_PKEY_up_ref(leaf_key);
    *e = (chain_entry){.used = true,
                       .trust_id = trust_id,
                       .valid_from = valid_from,
                       .valid_until = valid_until,
                       .leaf_key = leaf_key};
    memcpy(e->key, key, 32);
    memcpy(e->facts, facts, facts_len);
    pthread_mutex_unlock(&c->lock);
}

void tee_chain_cache_stats(tee_chain_cache *c, uint64_t *hits, uint64_t *misses)
{
    pthread_mutex_lock(&c->lock);
    *hits = c->hits;
    *misses = c->misses;
    pthread_mutex_unlock(&c->lock);
}
