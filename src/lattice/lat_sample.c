/* SPDX-License-Identifier: Apache-2.0 */
/* Sampling from an AES-256-CTR generator seeded by OpenSSL's RNG (or, for the uniform component
 * of a seeded ciphertext, by a public seed): uniform residues, ternary secrets, centred binomial
 * errors. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "core/guard.h"
#include "lattice_internal.h"

/* ---- randomness --------------------------------------------------------------------------------*/

ccz_status lat_prng_init(lat_prng *g)
{
    memset(g, 0, sizeof *g);
    unsigned char key[32], iv[16];
    if (RAND_bytes(key, sizeof key) != 1 || RAND_bytes(iv, sizeof iv) != 1) {
        OPENSSL_cleanse(key, sizeof key); /* drawn already when the IV's draw failed */
        return ccz_fail(CCZ_ERR_CRYPTO, "the RNG failed");
    }
    g->c = EVP_CIPHER_CTX_new();
    int ok = g->c && EVP_EncryptInit_ex(g->c, EVP_aes_256_ctr(), NULL, key, iv) == 1;
    OPENSSL_cleanse(key, sizeof key);
    if (!ok) {
        EVP_CIPHER_CTX_free(g->c);
        g->c = NULL;
        return ccz_fail_ossl(CCZ_ERR_CRYPTO, "cannot start AES-256-CTR");
    }
    return CCZ_OK;
}

ccz_status lat_prng_init_seed(lat_prng *g, const uint8_t seed[32])
{
    memset(g, 0, sizeof *g);
    static const unsigned char iv[16] = "ccz seeded a v1";
    g->c = EVP_CIPHER_CTX_new();
    if (!g->c || EVP_EncryptInit_ex(g->c, EVP_aes_256_ctr(), NULL, seed, iv) != 1) {
        EVP_CIPHER_CTX_free(g->c);
        g->c = NULL;
        return ccz_fail_ossl(CCZ_ERR_CRYPTO, "cannot start AES-256-CTR");
    }
    return CCZ_OK;
}

void lat_prng_free(lat_prng *g)
{
    EVP_CIPHER_CTX_free(g->c);
    OPENSSL_cleanse(g->buf, sizeof g->buf);
    g->c = NULL;
}

static ccz_status refill(lat_prng *g)
{
    static const uint8_t zero[8192];
    int len = 0;
    CCZ_ENSURE(EVP_EncryptUpdate(g->c, g->buf, &len, zero, sizeof zero) == 1 &&
                   len == (int)sizeof g->buf,
               CCZ_ERR_CRYPTO, "AES-256-CTR failed");
    g->pos = 0;
    g->len = (size_t)len;
    return CCZ_OK;
}

ccz_status lat_prng_bytes(lat_prng *g, void *out, size_t n)
{
    uint8_t *o = out;
    while (n) {
        if (g->pos == g->len)
            CCZ_GUARD(refill(g));
        size_t take = g->len - g->pos < n ? g->len - g->pos : n;
        memcpy(o, g->buf + g->pos, take);
        g->pos += take;
        o += take;
        n -= take;
    }
    return CCZ_OK;
}

static inline ccz_status next64(lat_prng *g, uint64_t *v)
{
    if (g->len - g->pos < 8)
        CCZ_GUARD(refill(g));
    memcpy(v, g->buf + g->pos, 8);
    g->pos += 8;
    return CCZ_OK;
}

ccz_status lat_sample_uniform(lat_prng *g, const ccz_lattice_context *ctx, const uint64_t *primes,
                              unsigned np, uint64_t *out)
{
    size_t n = ctx->n;
    for (unsigned i = 0; i < np; i++) {
        uint64_t q = primes[i], mask = (q & (q - 1)) ? (~0ull >> __builtin_clzll(q)) : q - 1;
        for (size_t x = 0; x < n;) {
            uint64_t v;
            CCZ_GUARD(next64(g, &v));
            v &= mask;
            if (v < q) /* rejection: exactly uniform */
                out[i * n + x++] = v;
        }
    }
    return CCZ_OK;
}

ccz_status lat_sample_ternary(lat_prng *g, size_t n, int8_t *out)
{
    for (size_t x = 0; x < n;) {
        uint64_t v;
        CCZ_GUARD(next64(g, &v));
        for (int k = 0; k < 32 && x < n; k++, v >>= 2) {
            unsigned r = v & 3;
            if (r < 3) /* uniform in {0, 1, 2} by rejection */
                out[x++] = (int8_t)((int)r - 1);
        }
    }
    return CCZ_OK;
}

ccz_status lat_sample_cbd(lat_prng *g, size_t n, int8_t *out)
{
    /* centred binomial with 21 + 21 bits: variance 10.5, sigma 3.24 (SEAL's) */
    for (size_t x = 0; x < n; x++) {
        uint64_t v;
        CCZ_GUARD(next64(g, &v));
        out[x] = (int8_t)(__builtin_popcountll(v & 0x1fffff) -
                          __builtin_popcountll((v >> 21) & 0x1fffff));
    }
    return CCZ_OK;
}

/* c is secret (the ternary key, an error, an encryption's u): its sign selects no branch. The
 * sign-extended c plus q when negative, by a mask of its sign bit. */
void lat_small_to_rns(const int8_t *c, size_t n, const uint64_t *primes, unsigned np, uint64_t *out)
{
    for (unsigned i = 0; i < np; i++)
        for (size_t x = 0; x < n; x++) {
            uint64_t v = (uint64_t)(int64_t)c[x];
            out[i * n + x] = v + (primes[i] & (0 - (v >> 63)));
        }
}
