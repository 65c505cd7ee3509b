/* SPDX-License-Identifier: Apache-2.0 */
/* Private to src/tee: certificate chains a verifier has already verified, remembered in the
 * trust store that verified them (chain_cache.c). Only verified facts go in; a hit needs the
 * same chain bytes, the same roots and an instant inside every certificate's validity. */
#ifndef CCZ_TEE_CHAIN_CACHE_H
#define CCZ_TEE_CHAIN_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "ccz/core.h"

#define TEE_CHAIN_CACHE_SLOTS 32 /* chains remembered per trust store (oldest replaced) */
#define TEE_CHAIN_FACTS_MAX 192  /* bytes of facts a backend keeps beside the leaf's key */

typedef struct tee_chain_cache tee_chain_cache;

/* A remembered chain: its leaf's public key and the facts the backend derived from the chain
 * (e.g. the VEK's TCB and the product its root names), valid from..until. */
typedef struct {
    EVP_PKEY *leaf_key; /* a new reference on a hit; the caller frees it */
    int64_t valid_from, valid_until;
    uint8_t facts[TEE_CHAIN_FACTS_MAX];
} tee_chain_hit;

ccz_status tee_chain_cache_new(tee_chain_cache **out);
void tee_chain_cache_free(tee_chain_cache *c);

/* The key of a chain: SHA-256 over a domain string (one per chain kind) and the exact bytes of
 * every certificate the caller supplies, each preceded by its length. */
ccz_status tee_chain_key(uint8_t key[32], const char *domain, const ccz_span *certs, size_t n);

/* A hit when a chain with this key was verified under the roots trust_id names, and at lies
 * within the validity of all its certificates: fills hit (facts_len bytes of facts) and returns
 * true. Safe from any thread. */
bool tee_chain_lookup(tee_chain_cache *c, tee_chain_hit *hit, const uint8_t key[32],
                      uint64_t trust_id, int64_t at, size_t facts_len);

/* Remembers a chain just verified under trust_id: the leaf's key (the cache takes its own
 * reference), the window where every certificate of it is valid, and facts_len bytes of facts.
 * Safe from any thread. */
void tee_chain_remember(tee_chain_cache *c, const uint8_t key[32], uint64_t trust_id,
                        int64_t valid_from, int64_t valid_until, EVP_PKEY *leaf_key,
                        const void *facts, size_t facts_len);

/* Lookups answered from the cache and not (for tests and benchmarks). */
void tee_chain_cache_stats(tee_chain_cache *c, uint64_t *hits, uint64_t *misses);

#endif
