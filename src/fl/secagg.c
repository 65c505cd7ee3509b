/* SPDX-License-Identifier: Apache-2.0 */
/* Secure aggregation's primitives (Bonawitz et al., CCS 2017), without the protocol around them:
 * X25519 key agreement between clients, pairwise masks from AES-256-CTR streams keyed by the
 * agreed secrets, fixed-point encoding in Z_2^32 so that masks cancel in the sum, and t-of-n
 * Shamir sharing over GF(2^8) of a client's key so that the masks of a client that dropped out
 * can be removed; and what the aggregator's protocol around them needs (src/svc/fl/hfl_secagg.c):
 * self masks and AES-256-GCM for the shares clients send each other (include/ccz/secagg.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "ccz/secagg.h"
#include "core/guard.h"

ccz_status ccz_secagg_keygen(uint8_t sk[32], uint8_t pk[32])
{
    CCZ_ENSURE(RAND_bytes(sk, 32) == 1, CCZ_ERR_CRYPTO, "RAND_bytes failed");
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, sk, 32);
    size_t len = 32;
    int ok = k && EVP_PKEY_get_raw_public_key(k, pk, &len) == 1 && len == 32;
    EVP_PKEY_free(k);
    CCZ_ENSURE(ok, CCZ_ERR_CRYPTO, "X25519 key generation failed");
    return CCZ_OK;
}

ccz_status ccz_secagg_agree(uint8_t seed[32], const uint8_t sk[32], const uint8_t peer_pk[32])
{
    EVP_PKEY *a = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, sk, 32);
    EVP_PKEY *b = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer_pk, 32);
    EVP_PKEY_CTX *c = a ? EVP_PKEY_CTX_new(a, NULL) : NULL;
    uint8_t shared[32];
    size_t len = sizeof shared;
    int ok = a && b && c && EVP_PKEY_derive_init(c) == 1 && EVP_PKEY_derive_set_peer(c, b) == 1 &&
             EVP_PKEY_derive(c, shared, &len) == 1 && len == 32;
    EVP_PKEY_CTX_free(c);
    EVP_PKEY_free(a);
    EVP_PKEY_free(b);
    /* the seed is the hash of the shared secret: both ends get the same one */
    unsigned int n = 0;
    ok = ok && EVP_Digest(shared, 32, seed, &n, EVP_sha256(), NULL) == 1 && n == 32;
    OPENSSL_cleanse(shared, sizeof shared);
    CCZ_ENSURE(ok, CCZ_ERR_CRYPTO, "X25519 agreement failed (a low-order peer key?)");
    return CCZ_OK;
}

static inline uint32_t word_le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* out[i] += sign * (the i-th 32-bit word of AES-256-CTR(seed, zero IV)) */
static ccz_status add_stream(uint32_t *out, size_t dim, const uint8_t seed[32], int sign)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    static const uint8_t iv[16] = {0};
    uint8_t buf[4096];
    static const uint8_t zero[4096] = {0};
    ccz_status s = c && EVP_EncryptInit_ex(c, EVP_aes_256_ctr(), NULL, seed, iv) == 1
                       ? CCZ_OK
                       : ccz_fail(CCZ_ERR_CRYPTO, "AES-256-CTR failed");
    for (size_t at = 0; s == CCZ_OK && at < dim; at += sizeof buf / 4) {
        size_t n = dim - at < sizeof buf / 4 ? dim - at : sizeof buf / 4;
        int len = 0;
        if (EVP_EncryptUpdate(c, buf, &len, zero, (int)(n * 4)) != 1 || len != (int)(n * 4)) {
            s = ccz_fail(CCZ_ERR_CRYPTO, "AES-256-CTR failed");
            break;
        }
        uint32_t *o = out + at;
        if (sign > 0) /* two loops without a branch inside: both vectorise */
            for (size_t i = 0; i < n; i++)
                o[i] += word_le(buf + 4 * i);
        else
            for (size_t i = 0; i < n; i++)
                o[i] -= word_le(buf + 4 * i);
    }
    OPENSSL_cleanse(buf, sizeof buf);
    EVP_CIPHER_CTX_free(c);
    return s;
}

ccz_status ccz_secagg_mask(uint32_t *out, const float *x, size_t dim, float scale, unsigned me,
                           const uint8_t sk[32], const uint8_t (*pks)[32], const bool *present,
                           unsigned n)
{
    CCZ_ENSURE(me < n && scale > 0 && isfinite(scale), CCZ_ERR_INVALID_ARGUMENT,
               "client %u of %u, scale %g", me, n, scale);
    /* out holds the update unmasked, then partly masked, until the end: a failure wipes it, so
     * a caller that sends it anyway gives nothing away */
    ccz_status s = CCZ_OK;
    for (size_t i = 0; i < dim && s == CCZ_OK; i++) {
        if (!isfinite(x[i]) || !(fabs((double)x[i] * scale) < 2147483647.0))
            s = ccz_fail(CCZ_ERR_OVERFLOW, "value %zu (%g) does not fit the fixed-point encoding",
                         i, (double)x[i]);
        else
            out[i] = (uint32_t)(int32_t)lrint((double)x[i] * scale);
    }
    uint8_t seed[32];
    for (unsigned j = 0; j < n && s == CCZ_OK; j++) {
        if (j == me || (present && !present[j]))
            continue;
        s = ccz_secagg_agree(seed, sk, pks[j]);
        if (s == CCZ_OK)
            s = add_stream(out, dim, seed, j > me ? 1 : -1);
        OPENSSL_cleanse(seed, sizeof seed);
    }
    if (s)
        OPENSSL_cleanse(out, dim * sizeof *out);
    return s;
}

ccz_status ccz_secagg_unmask_dropped(uint32_t *sum, size_t dim, unsigned dropped,
                                     const uint8_t dropped_sk[32], const uint8_t (*pks)[32],
                                     const bool *survived, unsigned n)
{
    CCZ_ENSURE(dropped < n, CCZ_ERR_INVALID_ARGUMENT, "client %u of %u", dropped, n);
    uint8_t seed[32];
    for (unsigned j = 0; j < n; j++) {
        if (j == dropped || !survived[j])
            continue;
        /* survivor j added sign(dropped vs j) * PRG(s): take it away */
        CCZ_GUARD(ccz_secagg_agree(seed, dropped_sk, pks[j]));
        ccz_status s = add_stream(sum, dim, seed, dropped > j ? -1 : 1);
        OPENSSL_cleanse(seed, sizeof seed);
        CCZ_GUARD(s);
    }
    return CCZ_OK;
}

void ccz_secagg_decode(float *out, const uint32_t *sum, size_t dim, float scale)
{
    for (size_t i = 0; i < dim; i++)
        out[i] = (float)((double)(int32_t)sum[i] / scale);
}

/* ---- Shamir over GF(2^8) (the AES polynomial), byte by byte ---------------------------------*/

static uint8_t gf_mul(uint8_t a, uint8_t b)
{
    uint8_t p = 0;
    while (b) {
        if (b & 1)
            p ^= a;
        a = (uint8_t)((a << 1) ^ (a & 0x80 ? 0x1b : 0));
        b >>= 1;
    }
    return p;
}

static uint8_t gf_inv(uint8_t a)
{
    uint8_t r = 1; /* a^254 */
    for (int i = 0; i < 254; i++)
        r = gf_mul(r, a);
    return r;
}

ccz_status ccz_secagg_share_with(uint8_t (*shares)[32], const uint8_t secret[32], unsigned t,
                                 unsigned n, const uint8_t *coefs)
{
    CCZ_ENSURE(t >= 1 && t <= n && n <= 255, CCZ_ERR_INVALID_ARGUMENT,
               "a %u-of-%u sharing (1 <= t <= n <= 255)", t, n);
    for (size_t b = 0; b < 32; b++) {
        for (unsigned k = 0; k < n; k++) { /* share k is the polynomial at x = k + 1 (Horner) */
            uint8_t x = (uint8_t)(k + 1), y = 0;
            for (unsigned c = t; c-- > 1;)
                y = (uint8_t)(gf_mul(y, x) ^ coefs[32 * (size_t)(c - 1) + b]);
            shares[k][b] = (uint8_t)(gf_mul(y, x) ^ secret[b]);
        }
    }
    return CCZ_OK;
}

ccz_status ccz_secagg_share(uint8_t (*shares)[32], const uint8_t secret[32], unsigned t, unsigned n)
{
    CCZ_ENSURE(t >= 1 && t <= n && n <= 255, CCZ_ERR_INVALID_ARGUMENT,
               "a %u-of-%u sharing (1 <= t <= n <= 255)", t, n);
    uint8_t coefs[32 * 254];
    CCZ_ENSURE(t == 1 || RAND_bytes(coefs, (int)(32 * (t - 1))) == 1, CCZ_ERR_CRYPTO,
               "RAND_bytes failed");
    ccz_status s = ccz_secagg_share_with(shares, secret, t, n, coefs);
    OPENSSL_cleanse(coefs, 32 * (size_t)(t - 1));
    return s;
}

ccz_status ccz_secagg_combine(uint8_t secret[32], const uint8_t (*shares)[32], const uint8_t *xs,
                              unsigned t)
{
    CCZ_ENSURE(t >= 1 && t <= 255, CCZ_ERR_INVALID_ARGUMENT, "%u shares", t);
    for (unsigned i = 0; i < t; i++) {
        CCZ_ENSURE(xs[i] != 0, CCZ_ERR_INVALID_ARGUMENT, "share index 0");
        for (unsigned j = 0; j < i; j++)
            CCZ_ENSURE(xs[i] != xs[j], CCZ_ERR_INVALID_ARGUMENT, "share %u given twice", xs[i]);
    }
    for (size_t b = 0; b < 32; b++) {
        uint8_t acc = 0;
        for (unsigned i = 0; i < t; i++) { /* Lagrange at 0: prod x_j / (x_j - x_i) */
            uint8_t num = 1, den = 1;
            for (unsigned j = 0; j < t; j++)
                if (j != i) {
                    num = gf_mul(num, xs[j]);
                    den = gf_mul(den, (uint8_t)(xs[j] ^ xs[i]));
                }
            acc ^= gf_mul(shares[i][b], gf_mul(num, gf_inv(den)));
        }
        secret[b] = acc;
    }
    return CCZ_OK;
}

/* ---- the protocol's helpers ------------------------------------------------------------------*/

ccz_status ccz_secagg_public(uint8_t pk[32], const uint8_t sk[32])
{
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, sk, 32);
    size_t len = 32;
    int ok = k && EVP_PKEY_get_raw_public_key(k, pk, &len) == 1 && len == 32;
    EVP_PKEY_free(k);
    CCZ_ENSURE(ok, CCZ_ERR_CRYPTO, "X25519 public key failed");
    return CCZ_OK;
}

ccz_status ccz_secagg_self_mask(uint32_t *v, size_t dim, const uint8_t seed[32], int sign)
{
    return add_stream(v, dim, seed, sign);
}

ccz_status ccz_secagg_pair_key(uint8_t key[32], const uint8_t sk[32], const uint8_t peer_pk[32])
{
    uint8_t seed[32];
    CCZ_GUARD(ccz_secagg_agree(seed, sk, peer_pk));
    static const char info[] = "ccz secagg shares";
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
    size_t len = 32;
    int ok = c && EVP_PKEY_derive_init(c) == 1 && EVP_PKEY_CTX_set_hkdf_md(c, EVP_sha256()) == 1 &&
             EVP_PKEY_CTX_set1_hkdf_key(c, seed, sizeof seed) == 1 &&
             EVP_PKEY_CTX_add1_hkdf_info(c, (const unsigned char *)info, sizeof info - 1) == 1 &&
             EVP_PKEY_derive(c, key, &len) == 1 && len == 32;
    EVP_PKEY_CTX_free(c);
    OPENSSL_cleanse(seed, sizeof seed);
    CCZ_ENSURE(ok, CCZ_ERR_CRYPTO, "HKDF-SHA256 failed");
    return CCZ_OK;
}

static ccz_status gcm(uint8_t *out, const uint8_t *in, size_t len, const uint8_t key[32],
                      const uint8_t nonce[12], const uint8_t *aad, size_t aad_len, uint8_t *tag,
                      bool seal)
{
    CCZ_ENSURE(len <= INT32_MAX && aad_len <= INT32_MAX, CCZ_ERR_TOO_LARGE,
               "%zu bytes and %zu of associated data: 2^31 or more", len, aad_len);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0, fin = 0;
    int ok = c && EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce, seal ? 1 : 0) == 1 &&
             (aad_len == 0 || EVP_CipherUpdate(c, NULL, &n, aad, (int)aad_len) == 1) &&
             EVP_CipherUpdate(c, out, &n, in, (int)len) == 1;
    if (ok && !seal)
        ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, CCZ_SECAGG_TAG, tag) == 1;
    int verified = ok && EVP_CipherFinal_ex(c, out + n, &fin) == 1;
    if (verified && seal)
        ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, CCZ_SECAGG_TAG, tag) == 1;
    EVP_CIPHER_CTX_free(c);
    if (!ok) {
        OPENSSL_cleanse(out, len); /* what was written before the failure */
        return ccz_fail(CCZ_ERR_CRYPTO, "AES-256-GCM failed");
    }
    if (!verified) {
        OPENSSL_cleanse(out, len); /* no unauthenticated plaintext */
        return ccz_fail(CCZ_ERR_BAD_SIGNATURE, "the share's AES-GCM tag does not verify");
    }
    return CCZ_OK;
}

ccz_status ccz_secagg_seal(uint8_t *out, const uint8_t *in, size_t len, const uint8_t key[32],
                           const uint8_t nonce[12], const uint8_t *aad, size_t aad_len)
{
    return gcm(out, in, len, key, nonce, aad, aad_len, out + len, true);
}

ccz_status ccz_secagg_open(uint8_t *out, const uint8_t *in, size_t len, const uint8_t key[32],
                           const uint8_t nonce[12], const uint8_t *aad, size_t aad_len)
{
    CCZ_ENSURE(len >= CCZ_SECAGG_TAG, CCZ_ERR_MALFORMED, "%zu bytes: shorter than a GCM tag", len);
    uint8_t tag[CCZ_SECAGG_TAG];
    memcpy(tag, in + len - CCZ_SECAGG_TAG, sizeof tag);
    return gcm(out, in, len - CCZ_SECAGG_TAG, key, nonce, aad, aad_len, tag, false);
}
