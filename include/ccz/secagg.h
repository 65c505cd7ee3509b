/* SPDX-License-Identifier: Apache-2.0 */
/* ccz secagg: the primitives of secure aggregation (Bonawitz et al., "Practical Secure
 * Aggregation for Privacy-Preserving Machine Learning", CCS 2017) so that an aggregator sees only
 * the sum of the clients' updates: X25519 agreement between every pair of clients, pairwise
 * masks that cancel in the sum, and t-of-n Shamir shares of each client's key for removing the
 * masks of clients that drop out. The aggregator's protocol (include/ccz/hfl.h, secure_agg) runs
 * on them (docs/fl.md).
 * Keys and seeds are secrets: callers wipe them. */
#ifndef CCZ_SECAGG_H
#define CCZ_SECAGG_H

#include <stdbool.h>

#include "ccz/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A fresh X25519 key pair. */
CCZ_API CCZ_NODISCARD ccz_status ccz_secagg_keygen(uint8_t sk[32], uint8_t pk[32]);
/* The pair's seed: SHA-256 of the X25519 secret of sk and peer_pk (the same from both ends). */
CCZ_API CCZ_NODISCARD ccz_status ccz_secagg_agree(uint8_t seed[32], const uint8_t sk[32],
                                                  const uint8_t peer_pk[32]);
/* Client me's masked update: x (dim floats) times scale, rounded into Z_2^32, plus the stream of
 * its seed with every higher-numbered client j (present[j], or every one when present is NULL)
 * and minus that with every lower-numbered one; pks holds the n clients' public keys. Values
 * whose scaled magnitude reaches 2^31 are CCZ_ERR_OVERFLOW. */
CCZ_API CCZ_NODISCARD ccz_status ccz_secagg_mask(uint32_t *out, const float *x, size_t dim,
                                                 float scale, unsigned me, const uint8_t sk[32],
                                                 const uint8_t (*pks)[32], const bool *present,
                                                 unsigned n);
/* Removes from sum (the survivors' masked updates added in Z_2^32) the masks the survivors
 * shared with the client `dropped`, whose key was recovered from shares. */
CCZ_API CCZ_NODISCARD ccz_status ccz_secagg_unmask_dropped(uint32_t *sum, size_t dim,
                                                           unsigned dropped,
                                                           const uint8_t dropped_sk[32],
                                                           const uint8_t (*pks)[32],
                                                           const bool *survived, unsigned n);
/* The sum's floats: each word as a signed 32-bit integer over scale. */
CCZ_API void ccz_secagg_decode(float *out, const uint32_t *sum, size_t dim, float scale);

/* t-of-n Shamir shares of a 32-byte secret over GF(2^8): share k is for x = k + 1. */
CCZ_API CCZ_NODISCARD ccz_status ccz_secagg_share(uint8_t (*shares)[32], const uint8_t secret[32],
                                                  unsigned t, unsigned n);
/* The same with the polynomials' coefficients given (ccz_secagg_share draws them): byte b of
 * share k is secret[b] + c_1 x + ... + c_(t-1) x^(t-1) at x = k + 1 (the AES polynomial), with
 * c_i of byte b at coefs[32 (i - 1) + b]; (t - 1) 32 bytes. For known-answer tests. */
CCZ_API CCZ_NODISCARD ccz_status ccz_secagg_share_with(uint8_t (*shares)[32],
                                                       const uint8_t secret[32], unsigned t,
                                                       unsigned n, const uint8_t *coefs);
/* The secret from t shares with their x (distinct, non-zero). */
CCZ_API CCZ_NODISCARD ccz_status ccz_secagg_combine(uint8_t secret[32], const uint8_t (*shares)[32],
                                                    const uint8_t *xs, unsigned t);

/* ---- for the protocol around them (src/svc/fl) ------------------------------------------------*/

/* The public key of sk (a key recovered from shares is checked against the one advertised). */
CCZ_API CCZ_NODISCARD ccz_status ccz_secagg_public(uint8_t pk[32], const uint8_t sk[32]);
/* Adds (sign > 0) or subtracts the stream of seed (AES-256-CTR, as the pairwise masks) to dim
 * words of v: a client's self mask, and the aggregator's removal of it. */
CCZ_API CCZ_NODISCARD ccz_status ccz_secagg_self_mask(uint32_t *v, size_t dim,
                                                      const uint8_t seed[32], int sign);
/* The AES-256-GCM key of the pair (sk, peer_pk) for the shares they send each other:
 * HKDF-SHA256 of their agreement, info "ccz secagg shares". */
CCZ_API CCZ_NODISCARD ccz_status ccz_secagg_pair_key(uint8_t key[32], const uint8_t sk[32],
                                                     const uint8_t peer_pk[32]);
#define CCZ_SECAGG_TAG 16
/* AES-256-GCM of len bytes into out (len + CCZ_SECAGG_TAG bytes) with a nonce used once under
 * key, binding aad. */
CCZ_API CCZ_NODISCARD ccz_status ccz_secagg_seal(uint8_t *out, const uint8_t *in, size_t len,
                                                 const uint8_t key[32], const uint8_t nonce[12],
                                                 const uint8_t *aad, size_t aad_len);
/* The inverse: len bytes of in (len >= CCZ_SECAGG_TAG) into out (len - CCZ_SECAGG_TAG);
 * CCZ_ERR_BAD_SIGNATURE when the tag does not verify (out is then wiped). */
CCZ_API CCZ_NODISCARD ccz_status ccz_secagg_open(uint8_t *out, const uint8_t *in, size_t len,
                                                 const uint8_t key[32], const uint8_t nonce[12],
                                                 const uint8_t *aad, size_t aad_len);

#ifdef __cplusplus
}
#endif
#endif
