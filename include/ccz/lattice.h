/* SPDX-License-Identifier: Apache-2.0 */
/* ccz lattice: leveled lattice homomorphic encryption in RNS form, BFV (exact integer arithmetic
 * modulo t, batched into 2 x N/2 slots) and CKKS (approximate arithmetic on N/2 complex slots),
 * as in Microsoft SEAL: ring Z[x]/(x^N + 1), ciphertext modulus a product of NTT-friendly
 * primes plus one special prime for key switching, ternary secrets, centred binomial errors
 * (sigma 3.2). NTTs and vector arithmetic use AVX-512 (IFMA for primes below 2^50) when the CPU
 * has it and give the same results without. */
#ifndef CCZ_LATTICE_H
#define CCZ_LATTICE_H

#include <complex.h>

#include "ccz/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { CCZ_LATTICE_BFV = 1, CCZ_LATTICE_CKKS = 2 } ccz_lattice_scheme;

#define CCZ_LATTICE_MAX_PRIMES 32

/* Parameters. coeff_bits (or coeff_primes) is the modulus chain: data primes first, the last one
 * the special prime used only for key switching (as SEAL's coeff_modulus). */
typedef struct {
    ccz_lattice_scheme scheme;
    unsigned log_n;                                /* N = 2^log_n: 12 to 15 for 4096..32768 */
    unsigned n_primes;                             /* length of the chain, special prime included */
    unsigned coeff_bits[CCZ_LATTICE_MAX_PRIMES];   /* bit sizes, primes found = 1 mod 2N, or */
    uint64_t coeff_primes[CCZ_LATTICE_MAX_PRIMES]; /* explicit primes (used when [0] is non-zero) */
    uint64_t plain_modulus;                        /* BFV: t; batching needs a prime = 1 mod
                                                    * 2N, any other t encodes coefficients */
    double scale;                                  /* CKKS: the default scale (e.g. 2^40) */
    bool no_security_check;                        /* allow moduli beyond the 128-bit table */
} ccz_lattice_params;

/* Presets within the HomomorphicEncryption.org 128-bit classical security table (SEAL's
 * defaults): BFV with t = a 20-bit batching prime; CKKS with 60-bit outer primes and 40-bit (N
 * 8192) or 50-bit (N 16384, 32768) inner primes. */
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_preset(ccz_lattice_params *p,
                                                    ccz_lattice_scheme scheme, unsigned log_n);
/* The largest total coefficient-modulus size (bits) for 128-bit security at 2^log_n (0 if none:
 * 4096: 109, 8192: 218, 16384: 438, 32768: 881). */
CCZ_API unsigned ccz_lattice_max_bits_128(unsigned log_n);

typedef struct ccz_lattice_context ccz_lattice_context;

/* Validates the parameters (a clear error names what is wrong), finds the primes and builds the
 * tables. */
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_context_new(ccz_lattice_context **out,
                                                         const ccz_lattice_params *p);
CCZ_API void ccz_lattice_context_free(ccz_lattice_context *ctx);
CCZ_API const ccz_lattice_params *ccz_lattice_context_params(const ccz_lattice_context *ctx);
/* The primes in use (data primes then the special prime); *count gets their number. */
CCZ_API const uint64_t *ccz_lattice_context_primes(unsigned *count, const ccz_lattice_context *ctx);
CCZ_API size_t ccz_lattice_slots(const ccz_lattice_context *ctx); /* BFV: N, CKKS: N/2 */
/* Data primes: the top level of fresh ciphertexts. */
CCZ_API unsigned ccz_lattice_max_level(const ccz_lattice_context *ctx);

/* ---- keys --------------------------------------------------------------------------------*/

typedef struct ccz_lattice_secret_key ccz_lattice_secret_key;
typedef struct ccz_lattice_public_key ccz_lattice_public_key;
typedef struct ccz_lattice_relin_keys ccz_lattice_relin_keys;
typedef struct ccz_lattice_galois_keys ccz_lattice_galois_keys;

CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_keygen(ccz_lattice_secret_key **sk,
                                                    ccz_lattice_public_key **pk,
                                                    const ccz_lattice_context *ctx);
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_relin_keygen(ccz_lattice_relin_keys **out,
                                                          const ccz_lattice_context *ctx,
                                                          const ccz_lattice_secret_key *sk);
/* Keys for rotations by the given steps (row rotations for BFV, slot rotations for CKKS;
 * negative steps rotate right) and, with conjugate, for the row swap / complex conjugation. */
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_galois_keygen(ccz_lattice_galois_keys **out,
                                                           const ccz_lattice_context *ctx,
                                                           const ccz_lattice_secret_key *sk,
                                                           const int *steps, size_t n_steps,
                                                           bool conjugate);
CCZ_API void ccz_lattice_secret_key_free(ccz_lattice_secret_key *k); /* wiped */
CCZ_API void ccz_lattice_public_key_free(ccz_lattice_public_key *k);
CCZ_API void ccz_lattice_relin_keys_free(ccz_lattice_relin_keys *k);
CCZ_API void ccz_lattice_galois_keys_free(ccz_lattice_galois_keys *k);

/* ---- plaintexts and ciphertexts -----------------------------------------------------------*/

typedef struct ccz_lattice_plaintext ccz_lattice_plaintext;
typedef struct ccz_lattice_ciphertext ccz_lattice_ciphertext;

CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_plaintext_new(ccz_lattice_plaintext **out,
                                                           const ccz_lattice_context *ctx);
CCZ_API void ccz_lattice_plaintext_free(ccz_lattice_plaintext *p);
/* A new ciphertext is the trivial encryption of 0 at the top level (CKKS: at the context's
 * scale), ready to be written or added to. */
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_ciphertext_new(ccz_lattice_ciphertext **out,
                                                            const ccz_lattice_context *ctx);
CCZ_API void ccz_lattice_ciphertext_free(ccz_lattice_ciphertext *c);
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_ciphertext_copy(ccz_lattice_ciphertext *dst,
                                                             const ccz_lattice_ciphertext *src);
/* Frees the memory c does not use now (after a modulus switch or a relinearization: a
 * ciphertext keeps its largest size otherwise); operations grow it again as they need. */
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_ciphertext_shrink(ccz_lattice_ciphertext *c);
/* Data primes the ciphertext still has (drops by one per rescale / modulus switch). */
CCZ_API unsigned ccz_lattice_ciphertext_level(const ccz_lattice_ciphertext *c);
CCZ_API double ccz_lattice_ciphertext_scale(const ccz_lattice_ciphertext *c); /* CKKS */
/* Components: 2, or 3 after a product without relinearization. */
CCZ_API unsigned ccz_lattice_ciphertext_size(const ccz_lattice_ciphertext *c);

/* BFV batch encoding: values (each < t) into the 2 x N/2 slot matrix (row-major); fewer values
 * leave the rest 0. Decoding gives N values. */
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_bfv_encode(ccz_lattice_plaintext *pt,
                                                        const ccz_lattice_context *ctx,
                                                        const uint64_t *values, size_t count);
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_bfv_decode(uint64_t *values,
                                                        const ccz_lattice_context *ctx,
                                                        const ccz_lattice_plaintext *pt);

/* BFV coefficient encoding, for any t (batching or not): values (each < t) are the plaintext
 * polynomial's coefficients, constant term first; fewer values leave the rest 0. Decoding gives
 * N coefficients. A constant polynomial c is c in every slot when t batches. */
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_bfv_encode_coeffs(ccz_lattice_plaintext *pt,
                                                               const ccz_lattice_context *ctx,
                                                               const uint64_t *values,
                                                               size_t count);
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_bfv_decode_coeffs(uint64_t *values,
                                                               const ccz_lattice_context *ctx,
                                                               const ccz_lattice_plaintext *pt);

/* CKKS encoding of up to N/2 complex (or real) values at a scale, at a level (0: the top). The
 * scale is at least 1, below 2^62 and below the level's modulus (as SEAL's). */
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_ckks_encode(ccz_lattice_plaintext *pt,
                                                         const ccz_lattice_context *ctx,
                                                         const double complex *values, size_t count,
                                                         double scale, unsigned level);
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_ckks_encode_real(ccz_lattice_plaintext *pt,
                                                              const ccz_lattice_context *ctx,
                                                              const double *values, size_t count,
                                                              double scale, unsigned level);
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_ckks_decode(double complex *values,
                                                         const ccz_lattice_context *ctx,
                                                         const ccz_lattice_plaintext *pt);

/* Bits of precision of got against want: -log2 of the largest absolute error (99 when exact). */
CCZ_API double ccz_lattice_ckks_precision_bits(const double complex *want,
                                               const double complex *got, size_t n);

CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_encrypt(ccz_lattice_ciphertext *out,
                                                     const ccz_lattice_context *ctx,
                                                     const ccz_lattice_public_key *pk,
                                                     const ccz_lattice_plaintext *pt);
/* Symmetric encryption with the secret key (less noise). */
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_encrypt_sk(ccz_lattice_ciphertext *out,
                                                        const ccz_lattice_context *ctx,
                                                        const ccz_lattice_secret_key *sk,
                                                        const ccz_lattice_plaintext *pt);
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_decrypt(ccz_lattice_plaintext *out,
                                                     const ccz_lattice_context *ctx,
                                                     const ccz_lattice_secret_key *sk,
                                                     const ccz_lattice_ciphertext *ct);
/* BFV: bits of noise budget left (0: decryption is no longer guaranteed). */
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_bfv_noise_budget(int *bits,
                                                              const ccz_lattice_context *ctx,
                                                              const ccz_lattice_secret_key *sk,
                                                              const ccz_lattice_ciphertext *ct);

/* ---- evaluation (out may alias an input) ---------------------------------------------------*/

CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_add(ccz_lattice_ciphertext *out,
                                                 const ccz_lattice_context *ctx,
                                                 const ccz_lattice_ciphertext *a,
                                                 const ccz_lattice_ciphertext *b);
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_sub(ccz_lattice_ciphertext *out,
                                                 const ccz_lattice_context *ctx,
                                                 const ccz_lattice_ciphertext *a,
                                                 const ccz_lattice_ciphertext *b);
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_add_plain(ccz_lattice_ciphertext *out,
                                                       const ccz_lattice_context *ctx,
                                                       const ccz_lattice_ciphertext *a,
                                                       const ccz_lattice_plaintext *p);
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_mul_plain(ccz_lattice_ciphertext *out,
                                                       const ccz_lattice_context *ctx,
                                                       const ccz_lattice_ciphertext *a,
                                                       const ccz_lattice_plaintext *p);
/* Product of two ciphertexts, relinearized back to two components (rk NULL: left with three,
 * for ccz_lattice_relinearize later). a == b squares, which costs less. */
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_mul(ccz_lattice_ciphertext *out,
                                                 const ccz_lattice_context *ctx,
                                                 const ccz_lattice_ciphertext *a,
                                                 const ccz_lattice_ciphertext *b,
                                                 const ccz_lattice_relin_keys *rk);
/* The product of a and b left with three components (ccz_lattice_mul without keys) is
 * relinearized here, in place: products summed before one relinearization cost one key switch
 * instead of one each. Two-component ciphertexts are left as they are. */
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_relinearize(ccz_lattice_ciphertext *c,
                                                         const ccz_lattice_context *ctx,
                                                         const ccz_lattice_relin_keys *rk);
/* BFV: out = k a for an integer 0 <= k < t (k - t when k > t/2: the noise grows by at most
 * t/2; k = t - 1 negates). */
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_bfv_mul_scalar(ccz_lattice_ciphertext *out,
                                                            const ccz_lattice_context *ctx,
                                                            const ccz_lattice_ciphertext *a,
                                                            uint64_t k);
/* Drops the last data prime, keeping the value: BFV scales by Q'/Q with rounding (later
 * operations are cheaper); CKKS just drops it (the scale is unchanged), to bring a ciphertext to
 * another's level. */
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_mod_switch(ccz_lattice_ciphertext *c,
                                                        const ccz_lattice_context *ctx);
/* CKKS: divides by the last data prime (the scale drops by it). */
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_ckks_rescale(ccz_lattice_ciphertext *c,
                                                          const ccz_lattice_context *ctx);
/* The same into out, a left as it is (out may be a): no copy of a first. */
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_ckks_rescale_to(ccz_lattice_ciphertext *out,
                                                             const ccz_lattice_context *ctx,
                                                             const ccz_lattice_ciphertext *a);
/* CKKS: out = k a, ccz_lattice_ckks_mul_const_at at the context's scale. */
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_ckks_mul_const(ccz_lattice_ciphertext *out,
                                                            const ccz_lattice_context *ctx,
                                                            const ccz_lattice_ciphertext *a,
                                                            double k);
/* CKKS: out = k a and acc = acc + k a with k rounded to an integer at `scale`, as a constant
 * plaintext encoded at that scale would be (no FFT, no NTT: one product per residue): the
 * product's scale is a's times `scale`, refused (as a product's) when it reaches the modulus of
 * a's level. acc must be at a's level with that scale and may not be a. Choosing `scale` equal
 * to the last prime of a's level makes the rescale that follows give back a's scale exactly. */
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_ckks_mul_const_at(ccz_lattice_ciphertext *out,
                                                               const ccz_lattice_context *ctx,
                                                               const ccz_lattice_ciphertext *a,
                                                               double k, double scale);
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_ckks_mul_const_add(ccz_lattice_ciphertext *acc,
                                                                const ccz_lattice_context *ctx,
                                                                const ccz_lattice_ciphertext *a,
                                                                double k, double scale);
/* Rotations by steps (keys for them needed); conjugate: BFV row swap, CKKS conjugation. */
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_rotate(ccz_lattice_ciphertext *out,
                                                    const ccz_lattice_context *ctx,
                                                    const ccz_lattice_ciphertext *a, int steps,
                                                    const ccz_lattice_galois_keys *gk);
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_conjugate(ccz_lattice_ciphertext *out,
                                                       const ccz_lattice_context *ctx,
                                                       const ccz_lattice_ciphertext *a,
                                                       const ccz_lattice_galois_keys *gk);

/* Several rotations of one ciphertext: out[r] = a rotated by steps[r] (keys for every step
 * needed; checked before any work). Hoisted: a's decomposition for key switching is made once
 * and permuted for each step, so each rotation after the first costs the inner products and the
 * division by the special prime, not a decomposition and its NTTs. The results decrypt to the
 * single rotations' values with the same noise, not to the same words. An output may be a. */
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_rotate_hoisted(ccz_lattice_ciphertext *const *out,
                                                            const ccz_lattice_context *ctx,
                                                            const ccz_lattice_ciphertext *a,
                                                            const int *steps, size_t count,
                                                            const ccz_lattice_galois_keys *gk);

/* ---- batches ---------------------------------------------------------------------------------
 * count independent operations of one kind over arrays, split into contiguous runs over
 * `threads` threads (0: one per CPU; the calling thread takes a run): element i's result is
 * exactly what the single call gives for it (ccz_lattice_encrypt_many: a fresh encryption of
 * pt[i]). Refused before any work: a NULL array or element, two elements writing one object, an
 * element reading what another writes (an output may be its own element's input where the
 * single call allows that). The first failure names its element ("element 3: ..."); the outputs
 * are then unspecified. What the HE solutions do many times at once: their entries' encryptions,
 * products and rotations on both cores. */
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_encrypt_many(ccz_lattice_ciphertext *const *out,
                                                          const ccz_lattice_context *ctx,
                                                          const ccz_lattice_public_key *pk,
                                                          const ccz_lattice_plaintext *const *pt,
                                                          size_t count, unsigned threads);
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_decrypt_many(ccz_lattice_plaintext *const *out,
                                                          const ccz_lattice_context *ctx,
                                                          const ccz_lattice_secret_key *sk,
                                                          const ccz_lattice_ciphertext *const *ct,
                                                          size_t count, unsigned threads);
/* out[i] = a[i] b[i], relinearized when rk is given */
CCZ_API CCZ_NODISCARD ccz_status
ccz_lattice_mul_many(ccz_lattice_ciphertext *const *out, const ccz_lattice_context *ctx,
                     const ccz_lattice_ciphertext *const *a, const ccz_lattice_ciphertext *const *b,
                     size_t count, const ccz_lattice_relin_keys *rk, unsigned threads);
/* out[i] = a[i] rotated by steps */
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_rotate_many(ccz_lattice_ciphertext *const *out,
                                                         const ccz_lattice_context *ctx,
                                                         const ccz_lattice_ciphertext *const *a,
                                                         size_t count, int steps,
                                                         const ccz_lattice_galois_keys *gk,
                                                         unsigned threads);

/* The arithmetic in use: "avx512-ifma", "avx512" or "portable" (CCZ_CPU=portable forces it). */
CCZ_API const char *ccz_lattice_simd(void);
/* Times the NTT of one prime of prime_bits bits (2 to 61) at degree 2^log_n (log_n 1 to 17):
 * microseconds per forward and inverse transform over about `seconds` each (for ccz he bench). */
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_ntt_bench(double *fwd_us, double *inv_us,
                                                       unsigned log_n, unsigned prime_bits,
                                                       double seconds);

/* ---- serialization ---------------------------------------------------------------------------
 * Compact and versioned: "CCZH", format version, object type, the parameters' fingerprint (so a
 * key or ciphertext cannot be loaded into another context), then residues bit-packed at each
 * prime's width. Loading checks every field and every residue (below its prime); a bad or
 * truncated file is an error that names what is wrong. */
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_params_save(ccz_buf *out,
                                                         const ccz_lattice_context *ctx);
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_params_load(ccz_lattice_params *out, ccz_span in);
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_ciphertext_save(ccz_buf *out,
                                                             const ccz_lattice_ciphertext *c);
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_ciphertext_load(ccz_lattice_ciphertext *c,
                                                             const ccz_lattice_context *ctx,
                                                             ccz_span in);
/* CKKS symmetric encryption straight into its serialization, the uniform component given as the
 * 32-byte seed it is drawn from (AES-256-CTR), as SEAL's seeded ciphertexts: about half the
 * bytes of a saved ciphertext. ccz_lattice_ciphertext_load reads it, drawing the component
 * again. Only the secret key's holder can make one (the public key's randomness is not a seed). */
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_encrypt_sk_save(ccz_buf *out,
                                                             const ccz_lattice_context *ctx,
                                                             const ccz_lattice_secret_key *sk,
                                                             const ccz_lattice_plaintext *pt);
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_plaintext_save(ccz_buf *out,
                                                            const ccz_lattice_plaintext *p);
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_plaintext_load(ccz_lattice_plaintext *p,
                                                            const ccz_lattice_context *ctx,
                                                            ccz_span in);
/* out should be a secret buffer */
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_secret_key_save(ccz_buf *out,
                                                             const ccz_lattice_secret_key *k);
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_secret_key_load(ccz_lattice_secret_key **k,
                                                             const ccz_lattice_context *ctx,
                                                             ccz_span in);
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_public_key_save(ccz_buf *out,
                                                             const ccz_lattice_public_key *k);
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_public_key_load(ccz_lattice_public_key **k,
                                                             const ccz_lattice_context *ctx,
                                                             ccz_span in);
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_relin_keys_save(ccz_buf *out,
                                                             const ccz_lattice_relin_keys *k);
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_relin_keys_load(ccz_lattice_relin_keys **k,
                                                             const ccz_lattice_context *ctx,
                                                             ccz_span in);
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_galois_keys_save(ccz_buf *out,
                                                              const ccz_lattice_galois_keys *k);
CCZ_API CCZ_NODISCARD ccz_status ccz_lattice_galois_keys_load(ccz_lattice_galois_keys **k,
                                                              const ccz_lattice_context *ctx,
                                                              ccz_span in);

#ifdef __cplusplus
}
#endif
#endif
