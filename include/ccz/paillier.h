/* SPDX-License-Identifier: Apache-2.0 */
/* ccz paillier: Paillier's additively homomorphic encryption (the IPCL / python-paillier part of
 * the zoo) on GMP. g = n + 1; decryption by CRT with constant-time exponentiation
 * (mpz_powm_sec); optional Damgard-Jurik-Nielsen randomizers h_s^r with a short r and a
 * fixed-base table; python-paillier's encoding of signed integers and reals; batches on every
 * core, with AVX-512 IFMA multi-buffer exponentiation where the CPU has it. Keys and
 * ciphertexts from files or peers are untrusted and checked. */
#ifndef CCZ_PAILLIER_H
#define CCZ_PAILLIER_H

#include <gmp.h>

#include "ccz/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ccz_paillier_pub ccz_paillier_pub; /* n, n^2, precomputations */
typedef struct ccz_paillier_key ccz_paillier_key; /* p, q, CRT values, and its public key */

/* ---- keys ------------------------------------------------------------------------------------*/

/* Generates p and q of bits/2 bits each (OpenSSL's prime generation, top two bits set, so n has
 * exactly `bits` bits; |p - q| > 2^(bits/2 - 100); gcd(n, (p-1)(q-1)) = 1). bits is 2048, 3072
 * or 4096 (or, for tests, any multiple of 16 from 512). */
CCZ_API CCZ_NODISCARD ccz_status ccz_paillier_keygen(ccz_paillier_key **out, unsigned bits);
/* A private key from given primes (known-answer tests, imported keys); the same checks. */
CCZ_API CCZ_NODISCARD ccz_status ccz_paillier_key_from_primes(ccz_paillier_key **out, const mpz_t p,
                                                              const mpz_t q);
CCZ_API void ccz_paillier_key_free(ccz_paillier_key *k); /* wipes p, q and the CRT values */
/* The key's public key (owned by the key). */
CCZ_API ccz_paillier_pub *ccz_paillier_key_pub(const ccz_paillier_key *k);

/* A public key from n (odd, 512..8192 bits, not a square of a small prime...). */
CCZ_API CCZ_NODISCARD ccz_status ccz_paillier_pub_new(ccz_paillier_pub **out, const mpz_t n);
CCZ_API void ccz_paillier_pub_free(ccz_paillier_pub *pk);
CCZ_API unsigned ccz_paillier_bits(const ccz_paillier_pub *pk);
CCZ_API void ccz_paillier_pub_n(mpz_t n, const ccz_paillier_pub *pk);

/* Damgard-Jurik-Nielsen randomizers: h_s = h^n mod n^2 for h = -x^2 mod n (x random), and
 * encryption uses h_s^r for r of ceil(bits/2) bits instead of r^n for r in Z_n*. Its security
 * rests on the decisional composite residuosity assumption and on h_s^r with a short r being
 * indistinguishable from a random n-th residue (DJN 2010, section 4.2). With hs NULL a fresh
 * h_s is made; a given hs gets the checks that need no factorisation (2 <= h_s < n^2, prime to
 * n, not +-1 mod n, -h_s of Jacobi symbol 1; CCZ_ERR_INVALID_ARGUMENT otherwise) and is
 * otherwise trusted: whether it is an n-th residue needs p and q (ccz_paillier_load_json checks
 * a private key's). A table of h_s^(j 2^(8i)) (about 16 MiB at 2048 bits) makes each randomizer
 * about 128 multiplications. Encryption with the table is not constant-time in r. */
CCZ_API CCZ_NODISCARD ccz_status ccz_paillier_pub_set_djn(ccz_paillier_pub *pk, const mpz_t hs);
CCZ_API bool ccz_paillier_pub_djn(const ccz_paillier_pub *pk);

/* Randomizers computed ahead by a background thread (a pool of up to `capacity` values of r^n
 * or h_s^r, refilled as encryption takes them); 0 stops it. */
CCZ_API CCZ_NODISCARD ccz_status ccz_paillier_pub_precompute(ccz_paillier_pub *pk, size_t capacity);

/* Keys and encrypted numbers as JSON, in three forms:
 *  CCZ_PAILLIER_JSON_CCZ  {"n": "<decimal>"} for a public key, plus "p" and "q" for a private key
 *                         (plus "hs" for DJN); numbers {"ciphertext": "<decimal>", "exponent": e}
 *  CCZ_PAILLIER_JSON_JWK  pheutil's JWK (python-paillier's command-line tool): {"kty": "DAJ",
 *                         "alg": "PAI-GN1", "key_ops": ["encrypt"], "kid", "n": <base64url>};
 *                         a private key {"kty": "DAJ", "key_ops": ["decrypt"], "kid", "pub":
 *                         <public JWK>, "p", "q", "lambda", "mu"} (lambda = (p-1)(q-1), mu =
 *                         lambda^-1 mod n, as older pheutil versions wrote them); numbers
 *                         {"v": "<decimal>", "e": e}
 *  CCZ_PAILLIER_JSON_PHE  python-paillier's basic serialisation: {"g": n + 1, "n": n} with JSON
 *                         numbers (a private key adds "p" and "q"); numbers ["<decimal>", e] */
typedef enum {
    CCZ_PAILLIER_JSON_CCZ = 0,
    CCZ_PAILLIER_JSON_JWK = 1,
    CCZ_PAILLIER_JSON_PHE = 2,
} ccz_paillier_json_format;

/* Loads a key in any of the three forms (told apart by "kty"; integers as decimal strings or
 * JSON numbers of any size; python-paillier's {"public_key": {...}, "values": [...]} document
 * gives its public key). Gives the public key, and the private key when the document has one
 * (p and q, or lambda and mu) and key is not NULL (*key NULL otherwise); *pub is then the private
 * key's own public key (ccz_paillier_key_pub: free the private key only). A private key must agree
 * with itself (n = p q, mu lambda = 1 mod n). DJN: a private key's "hs" is verified against p
 * and q (CCZ_ERR_INVALID_ARGUMENT when it is not (-x^2)^n mod n^2); a public key's "hs" cannot
 * be verified without the factorisation, so it is not used: the key gets a fresh h_s of its own
 * (see docs/paillier.md). */
CCZ_API CCZ_NODISCARD ccz_status ccz_paillier_load_json(ccz_paillier_pub **pub,
                                                        ccz_paillier_key **key, const char *text,
                                                        size_t len);
/* Appends the key in the given form. For private keys out should be a secret buffer
 * (ccz_buf_init(out, 0, true)): it holds p and q. */
CCZ_API CCZ_NODISCARD ccz_status ccz_paillier_pub_write_json(ccz_buf *out,
                                                             const ccz_paillier_pub *pk,
                                                             ccz_paillier_json_format fmt);
CCZ_API CCZ_NODISCARD ccz_status ccz_paillier_key_write_json(ccz_buf *out,
                                                             const ccz_paillier_key *k,
                                                             ccz_paillier_json_format fmt);
/* The same in ccz's form. */
CCZ_API CCZ_NODISCARD ccz_status ccz_paillier_pub_to_json(ccz_buf *out, const ccz_paillier_pub *pk);
CCZ_API CCZ_NODISCARD ccz_status ccz_paillier_key_to_json(ccz_buf *out, const ccz_paillier_key *k);

/* ---- raw operations (plaintexts in [0, n), ciphertexts in [1, n^2)) -------------------------*/

CCZ_API CCZ_NODISCARD ccz_status ccz_paillier_encrypt(mpz_t c, const ccz_paillier_pub *pk,
                                                      const mpz_t m);
/* Encryption by the key's holder: the randomizer by CRT modulo p^2 and q^2. */
CCZ_API CCZ_NODISCARD ccz_status ccz_paillier_encrypt_priv(mpz_t c, const ccz_paillier_key *k,
                                                           const mpz_t m);
/* Decryption by CRT, constant-time in the key. A ciphertext outside [1, n^2) or sharing a factor
 * with n (no encryption makes one) is CCZ_ERR_INVALID_ARGUMENT; batches name its index. */
CCZ_API CCZ_NODISCARD ccz_status ccz_paillier_decrypt(mpz_t m, const ccz_paillier_key *k,
                                                      const mpz_t c);
/* c = a + b */
CCZ_API CCZ_NODISCARD ccz_status ccz_paillier_add(mpz_t c, const ccz_paillier_pub *pk,
                                                  const mpz_t a, const mpz_t b);
/* c = a + m (m a plaintext in [0, n)) */
CCZ_API CCZ_NODISCARD ccz_status ccz_paillier_add_plain(mpz_t c, const ccz_paillier_pub *pk,
                                                        const mpz_t a, const mpz_t m);
/* c = k * a for any integer k with |k| < n (a negative k inverts a first). Not constant-time in k
 * (GMP's mpz_powm; the batch's IFMA windows follow the longest k of eight): a party whose scalars
 * are its secret data should not let the key holder time it. */
CCZ_API CCZ_NODISCARD ccz_status ccz_paillier_mul_plain(mpz_t c, const ccz_paillier_pub *pk,
                                                        const mpz_t a, const mpz_t k);
/* c = a with a fresh randomizer. */
CCZ_API CCZ_NODISCARD ccz_status ccz_paillier_rerandomize(mpz_t c, const ccz_paillier_pub *pk,
                                                          const mpz_t a);

/* ---- encoding (python-paillier's EncodedNumber: value = mantissa * 16^exponent) -----------*/

#define CCZ_PAILLIER_BASE 16

typedef struct {
    mpz_t mantissa; /* in [0, n): negatives as n - |v| */
    int exponent;
} ccz_paillier_encoded;

/* An encrypted number: a ciphertext and the exponent of what it encrypts. */
typedef struct {
    mpz_t c;
    int exponent;
} ccz_paillier_number;

CCZ_API void ccz_paillier_encoded_init(ccz_paillier_encoded *e);
CCZ_API void ccz_paillier_encoded_clear(ccz_paillier_encoded *e);
CCZ_API void ccz_paillier_number_init(ccz_paillier_number *x);
CCZ_API void ccz_paillier_number_clear(ccz_paillier_number *x);

/* The largest magnitude encodable: n / 3 - 1 (python-paillier's max_int). */
CCZ_API void ccz_paillier_max_int(mpz_t out, const ccz_paillier_pub *pk);
/* Integers, exponent 0; |v| > max_int is CCZ_ERR_OVERFLOW. */
CCZ_API CCZ_NODISCARD ccz_status ccz_paillier_encode_mpz(ccz_paillier_encoded *e,
                                                         const ccz_paillier_pub *pk, const mpz_t v);
CCZ_API CCZ_NODISCARD ccz_status ccz_paillier_encode_int(ccz_paillier_encoded *e,
                                                         const ccz_paillier_pub *pk, int64_t v);
/* Reals: with precision 0, as exactly as a double allows (python-paillier's default: the
 * exponent of the double's least significant bit, in base 16); otherwise the exponent of
 * floor(log16(precision)). Rounding is to nearest, ties to even, as Python's round(). */
CCZ_API CCZ_NODISCARD ccz_status ccz_paillier_encode_double(ccz_paillier_encoded *e,
                                                            const ccz_paillier_pub *pk, double v,
                                                            double precision);
/* Mantissas in (max_int, n - max_int) are CCZ_ERR_OVERFLOW (the result of an overflowing
 * computation), and so are exponents past +-65536. */
CCZ_API CCZ_NODISCARD ccz_status ccz_paillier_decode_mpz(mpz_t v, const ccz_paillier_pub *pk,
                                                         const ccz_paillier_encoded *e);
CCZ_API CCZ_NODISCARD ccz_status ccz_paillier_decode_double(double *v, const ccz_paillier_pub *pk,
                                                            const ccz_paillier_encoded *e);
/* Lowers the exponent (mantissa times 16^(old - new)); a higher exponent is invalid. */
CCZ_API CCZ_NODISCARD ccz_status ccz_paillier_encoded_lower(ccz_paillier_encoded *e,
                                                            const ccz_paillier_pub *pk,
                                                            int exponent);

CCZ_API CCZ_NODISCARD ccz_status ccz_paillier_encrypt_encoded(ccz_paillier_number *x,
                                                              const ccz_paillier_pub *pk,
                                                              const ccz_paillier_encoded *e);
CCZ_API CCZ_NODISCARD ccz_status ccz_paillier_decrypt_encoded(ccz_paillier_encoded *e,
                                                              const ccz_paillier_key *k,
                                                              const ccz_paillier_number *x);
/* Arithmetic on encrypted numbers; exponents are aligned to the lower one first. */
CCZ_API CCZ_NODISCARD ccz_status ccz_paillier_number_add(ccz_paillier_number *out,
                                                         const ccz_paillier_pub *pk,
                                                         const ccz_paillier_number *a,
                                                         const ccz_paillier_number *b);
CCZ_API CCZ_NODISCARD ccz_status ccz_paillier_number_add_encoded(ccz_paillier_number *out,
                                                                 const ccz_paillier_pub *pk,
                                                                 const ccz_paillier_number *a,
                                                                 const ccz_paillier_encoded *b);
/* out = a * b; a negative b (mantissa above n - max_int) multiplies by the inverse. Exponents
 * whose sum is past an int are CCZ_ERR_OVERFLOW. */
CCZ_API CCZ_NODISCARD ccz_status ccz_paillier_number_mul_encoded(ccz_paillier_number *out,
                                                                 const ccz_paillier_pub *pk,
                                                                 const ccz_paillier_number *a,
                                                                 const ccz_paillier_encoded *b);

/* Encrypted numbers as JSON. Writing appends one number in the given form. Reading accepts any
 * of the three forms, the ciphertext a decimal string or a JSON number; it checks the ciphertext
 * against the key (in [1, n^2)) and the exponent (|e| <= 10000). */
CCZ_API CCZ_NODISCARD ccz_status ccz_paillier_number_write_json(ccz_buf *out,
                                                                const ccz_paillier_number *x,
                                                                ccz_paillier_json_format fmt);
CCZ_API CCZ_NODISCARD ccz_status ccz_paillier_number_to_json(ccz_buf *out,
                                                             const ccz_paillier_number *x);
CCZ_API CCZ_NODISCARD ccz_status ccz_paillier_number_from_json(ccz_paillier_number *x,
                                                               const ccz_paillier_pub *pk,
                                                               const char *text, size_t len);
/* One number, or python-paillier's {"public_key": {"n": ...}, "values": [[c, e], ...]} (whose
 * key must be pk; at most 100000 values). *out is an array of *count numbers that the caller
 * releases with ccz_paillier_numbers_free. */
CCZ_API CCZ_NODISCARD ccz_status ccz_paillier_numbers_from_json(ccz_paillier_number **out,
                                                                size_t *count,
                                                                const ccz_paillier_pub *pk,
                                                                const char *text, size_t len);
CCZ_API void ccz_paillier_numbers_free(ccz_paillier_number *x, size_t count);

/* ---- batches ---------------------------------------------------------------------------------*/

/* Element-wise over arrays of count values, on `threads` threads (0: every core). Decryption
 * of batches uses 8-lane AVX-512 IFMA exponentiation when the CPU has it (see
 * ccz_paillier_ifma). */
CCZ_API CCZ_NODISCARD ccz_status ccz_paillier_encrypt_batch(mpz_t *c, const ccz_paillier_pub *pk,
                                                            const mpz_t *m, size_t count,
                                                            unsigned threads);
CCZ_API CCZ_NODISCARD ccz_status ccz_paillier_decrypt_batch(mpz_t *m, const ccz_paillier_key *k,
                                                            const mpz_t *c, size_t count,
                                                            unsigned threads);
CCZ_API CCZ_NODISCARD ccz_status ccz_paillier_add_batch(mpz_t *c, const ccz_paillier_pub *pk,
                                                        const mpz_t *a, const mpz_t *b,
                                                        size_t count, unsigned threads);
CCZ_API CCZ_NODISCARD ccz_status ccz_paillier_mul_plain_batch(mpz_t *c, const ccz_paillier_pub *pk,
                                                              const mpz_t *a, const mpz_t *k,
                                                              size_t count, unsigned threads);

/* Encrypted dot products: out[r] = prod_i c[i]^e[r k + i] mod n^2 for r < rows, that is
 * Enc(sum_i e[r k + i] m_i) for c[i] = Enc(m_i) and a rows x k matrix of integers e (row-major,
 * |e| < n, either sign: a negative one raises the inverse of c[i]). With IFMA, Straus's
 * simultaneous exponentiation with signed digits (tables of the powers of every base and of its
 * inverse, built once for every row; the inverses by Montgomery's trick): eight rows at a time in
 * the lanes sharing their squarings, or, for fewer rows than that, each row's bases split over
 * several lanes; the window and the split chosen for the fewest products. Else one GMP
 * exponentiation per term. Not constant-time in e. */
CCZ_API CCZ_NODISCARD ccz_status ccz_paillier_dot_batch(mpz_t *out, const ccz_paillier_pub *pk,
                                                        const mpz_t *c, size_t k, const mpz_t *e,
                                                        size_t rows, unsigned threads);

/* Whether multi-buffer IFMA exponentiation is in use (the CPU has AVX-512 IFMA and CCZ_CPU is
 * not "portable"). */
CCZ_API bool ccz_paillier_ifma(void);

#ifdef __cplusplus
}
#endif
#endif
