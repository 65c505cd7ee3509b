/* SPDX-License-Identifier: Apache-2.0 */
/* The verified-chain cache on its own (src/tee/chain_cache.c): the key separates chains whose
 * certificates concatenate to the same bytes, a hit's window is inclusive at both ends, and a
 * chain remembered under one set of roots is not replaced by the same chain under another. */
#include <string.h>

#include <openssl/ec.h>
#include <openssl/evp.h>

#include "tee/chain_cache.h"
#include "test.h"

/* The key of a chain: the same bytes split another way are another chain. */
static void test_key_split(void)
{
    uint8_t a[32], b[32], c[32];
    const ccz_span ab_c[] = {CCZ_LIT("ab"), CCZ_LIT("c")};
    const ccz_span a_bc[] = {CCZ_LIT("a"), CCZ_LIT("bc")};
    const ccz_span abc[] = {CCZ_LIT("abc")};
    CHECK_OK(tee_chain_key(a, "ccz test chain", ab_c, 2));
    CHECK_OK(tee_chain_key(b, "ccz test chain", a_bc, 2));
    CHECK_OK(tee_chain_key(c, "ccz test chain", abc, 1));
    CHECK(memcmp(a, b, 32) != 0);
    CHECK(memcmp(a, c, 32) != 0);
    CHECK(memcmp(b, c, 32) != 0);
    /* the same chain under another domain is another key; the same again is the same key */
    CHECK_OK(tee_chain_key(c, "ccz other chain", ab_c, 2));
    CHECK(memcmp(a, c, 32) != 0);
    CHECK_OK(tee_chain_key(c, "ccz test chain", ab_c, 2));
    CHECK(memcmp(a, c, 32) == 0);
}

static bool lookup(tee_chain_cache *cc, const uint8_t key[32], uint64_t trust, int64_t at)
{
    tee_chain_hit hit = {0};
    bool found = tee_chain_lookup(cc, &hit, key, trust, at, 4);
    if (found) {
        CHECK_INT(hit.valid_from, 1000);
        CHECK_INT(hit.valid_until, 2000);
        CHECK(memcmp(hit.facts, "fact", 4) == 0);
    }
    EVP_PKEY_free(hit.leaf_key);
    return found;
}

/* A hit from valid_from to valid_until, both included, and nowhere else. */
static void test_window_ends(void)
{
    EVP_PKEY *leaf = EVP_EC_gen("P-256");
    CHECK(leaf != NULL);
    tee_chain_cache *cc = NULL;
    CHECK_OK(tee_chain_cache_new(&cc));
    uint8_t key[32];
    const ccz_span chain[] = {CCZ_LIT("leaf"), CCZ_LIT("root")};
    CHECK_OK(tee_chain_key(key, "ccz test chain", chain, 2));
    tee_chain_remember(cc, key, 7, 1000, 2000, leaf, "fact", 4);
    CHECK(lookup(cc, key, 7, 1000));
    CHECK(lookup(cc, key, 7, 2000));
    CHECK(lookup(cc, key, 7, 1500));
    CHECK(!lookup(cc, key, 7, 999));
    CHECK(!lookup(cc, key, 7, 2001));
    CHECK(!lookup(cc, key, 8, 1500));
    uint64_t hits = 0, misses = 0;
    tee_chain_cache_stats(cc, &hits, &misses);
    CHECK_INT(hits, 3);
    CHECK_INT(misses, 3);
    tee_chain_cache_free(cc);
    EVP_PKEY_free(leaf);
}

/* The same chain verified under two trust stores' roots: both entries stay, and so does it
 * when another chain is remembered. */
static void test_two_trusts(void)
{
    EVP_PKEY *leaf = EVP_EC_gen("P-256");
    CHECK(leaf != NULL);
    tee_chain_cache *cc = NULL;
    CHECK_OK(tee_chain_cache_new(&cc));
    uint8_t key[32];
    const ccz_span chain[] = {CCZ_LIT("leaf"), CCZ_LIT("root")};
    CHECK_OK(tee_chain_key(key, "ccz test chain", chain, 2));
    tee_chain_remember(cc, key, 7, 1000, 2000, leaf, "fact", 4);
    tee_chain_remember(cc, key, 9, 1000, 2000, leaf, "fact", 4);
    CHECK(lookup(cc, key, 7, 1500));
    CHECK(lookup(cc, key, 9, 1500));
    /* another chain goes to another slot: the first stays */
    uint8_t key2[32];
    const ccz_span chain2[] = {CCZ_LIT("leaf2"), CCZ_LIT("root")};
    CHECK_OK(tee_chain_key(key2, "ccz test chain", chain2, 2));
    tee_chain_remember(cc, key2, 7, 1000, 2000, leaf, "fact", 4);
    CHECK(lookup(cc, key2, 7, 1500));
    CHECK(lookup(cc, key, 7, 1500));
    CHECK(lookup(cc, key, 9, 1500));
    tee_chain_cache_free(cc);
    EVP_PKEY_free(leaf);
}

TEST_MAIN(T(test_key_split), T(test_window_ends), T(test_two_trusts))
