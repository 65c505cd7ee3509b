/* SPDX-License-Identifier: Apache-2.0 */
/* Private to src/he: the lattice context, RNS bases and conversions, polynomials, keys. */
#ifndef CCZ_LATTICE_INTERNAL_H
#define CCZ_LATTICE_INTERNAL_H

#include <gmp.h>
#include <openssl/evp.h>

#include "ccz/lattice.h"
#include "lat.h"

#define MAXP CCZ_LATTICE_MAX_PRIMES

/* An RNS base and what exact conversion out of it needs. */
typedef struct {
    unsigned k;
    uint64_t q[MAXP];
    lat_mod mod[MAXP];
    uint64_t qhat_inv[MAXP], qhat_inv_s[MAXP]; /* [(Q/q_i)^-1]_{q_i} and its Shoup constant */
    double qinv[MAXP];                         /* 1 / q_i */
} lat_base;

/* Conversion from base A to base B with exact rounding (HPS): x in (-A/2, A/2] */
typedef struct {
    const lat_base *a, *b;
    uint64_t ahat[MAXP][MAXP]; /* (A / a_i) mod b_j */
    uint64_t amod[MAXP];       /* A mod b_j */
    /* for lat_vec_dot_c: row j = (A / a_i) mod b_j for i < ka, then -A mod b_j, and their
     * Shoup constants (lat_shoup_w); [(A/a_i)^-1]_{a_i} with lat_shoup_w constants */
    uint64_t row[MAXP][MAXP + 1], row_s[MAXP][MAXP + 1];
    uint64_t qhat_inv_w[MAXP];
    bool narrow; /* every prime of A and B below 2^50: the one-pass path */
} lat_conv;

/* BFV multiplication at one level (HPS): base Q (the level's primes), base R (auxiliary), and
 * round(t x / Q) from Q u R into R. */
typedef struct {
    lat_base q, r;
    lat_conv q_to_r, r_to_q;
    lat_ntt *rntt;                  /* NTT tables of R's primes */
    uint64_t theta_int[MAXP][MAXP]; /* [i][j]: floor(t R c_i / q_i) mod r_j */
    uint64_t theta_frac[MAXP];      /* frac(t R c_i / q_i) 2^64 */
    uint64_t rterm[MAXP];           /* t [(QR/r_j)^-1]_{r_j} (R / r_j) mod r_j */
    /* decryption: round(t x / Q) mod t = sum x_i A_i + round(sum x_i f_i) */
    uint64_t dec_int[MAXP];  /* floor(t c'_i / q_i) mod t, c'_i = [(Q/q_i)^-1]_{q_i} */
    uint64_t dec_frac[MAXP]; /* frac(t c'_i / q_i) 2^64 */
    uint64_t delta[MAXP];    /* floor(Q / t) mod q_i */
} lat_bfv_level;

typedef struct {
    uint64_t inv_last[MAXP]; /* q_{l-1}^-1 mod q_i, i < l-1 (CKKS rescale, BFV mod switch) */
    uint64_t inv_last_s[MAXP];
    uint64_t inv_last_w[MAXP]; /* lat_shoup_w constants of inv_last */
} lat_level;

struct ccz_lattice_context {
    ccz_lattice_params params;
    size_t n;
    unsigned log_n, k, L; /* k primes in all, L = k - 1 data primes */
    uint64_t primes[MAXP];
    lat_ntt ntt[MAXP];
    lat_mod pmod;                                       /* the special prime */
    uint64_t p_mod_q[MAXP], p_inv[MAXP], p_inv_s[MAXP]; /* P mod q_i, P^-1 mod q_i */
    lat_level level[MAXP + 1];                          /* by number of data primes */
    /* BFV */
    lat_mod tmod;
    lat_ntt tntt;         /* the batching NTT modulo t */
    uint32_t *slot_index; /* slot j -> NTT position */
    /* slot_index by whole lines (lat_vec_scatter_lines): group g's eight positions begin at
     * slot_line[g], position slot_line[g] + l takes group slot slot_lane[8 g + l] (NULL below
     * N = 128) */
    uint32_t *slot_line;
    uint8_t *slot_lane;
    lat_bfv_level *bfv[MAXP + 1]; /* by number of data primes */
    /* CKKS */
    double complex *roots; /* e^(i pi k / N), k < 2N */
    size_t *ckks_index;    /* slot j -> position of zeta^(3^j) in the bit-reversed FFT */
    /* the encoder's FFT of size h = N/2 (lat_fft.c): its twiddles (h real parts, h imaginary
     * parts; stage m at [m, 2m)), then the twist zeta^-k (likewise); slot j -> 2 bitrev(t) + 1
     * when the conjugate goes to point t, 2 bitrev(t) when the value does */
    double *ckks_fft;
    uint32_t *ckks_pos;
};

/* ---- polynomials in RNS: np primes x N words, prime-major ---------------------------------*/

typedef struct {
    unsigned np; /* primes in use */
    bool ntt;    /* in evaluation form */
    uint64_t *d; /* np * N */
} lat_poly;

struct ccz_lattice_plaintext {
    const ccz_lattice_context *ctx;
    /* BFV: N coefficients modulo t. CKKS: an RNS polynomial in NTT form at a level. */
    uint64_t *coeffs;
    lat_poly poly;
    double scale;
};

struct ccz_lattice_ciphertext {
    const ccz_lattice_context *ctx;
    unsigned size;  /* 2 (or 3 before relinearization) */
    unsigned level; /* data primes */
    bool ntt;       /* BFV: coefficient form; CKKS: NTT form */
    double scale;
    uint64_t *d; /* size * level * N words used, cap words allocated (lat_ct_reserve) */
    size_t cap;
};

/* Room for size x level x N words in c, its present words kept when keep is set (c->d may
 * move: call it after the inputs of an operation whose output may alias them have been read). */
ccz_status lat_ct_reserve(ccz_lattice_ciphertext *c, unsigned size, unsigned level, bool keep);

struct ccz_lattice_secret_key {
    const ccz_lattice_context *ctx;
    uint64_t *s, *s_w; /* NTT form over all k primes, and its Shoup constants (lat_shoup_w) */
    int8_t *coeffs;    /* ternary coefficients */
};

/* (b, a) = (-a s + e, a). Keys made by this ccz hold the special prime P too (np = k: the data
 * primes, then P), so that encryption computes u (b, a) + (e0, e1) modulo Q P and divides by P
 * with rounding, which divides the noise u e by P; keys saved by an older ccz have the data
 * primes only (np = L) and encrypt at the data level. */
struct ccz_lattice_public_key {
    const ccz_lattice_context *ctx;
    unsigned np;         /* L or k */
    uint64_t *b, *a;     /* NTT form over np primes */
    uint64_t *b_w, *a_w; /* Shoup constants */
};

/* A key-switching key: for each data prime i, (b_i, a_i) in NTT form over all k primes, with
 * Shoup constants. */
typedef struct {
    uint64_t *b, *a; /* L * k * N each */
    uint64_t *b_w, *a_w;
} lat_kswitch;

/* Shoup constants of a key's polynomials (np primes of the chain from prime 0, N each) */
ccz_status lat_shoup_poly(const ccz_lattice_context *ctx, const uint64_t *p, unsigned np,
                          uint64_t **out);
ccz_status lat_kswitch_finish(const ccz_lattice_context *ctx, lat_kswitch *k);

struct ccz_lattice_relin_keys {
    const ccz_lattice_context *ctx;
    lat_kswitch k;
};

struct ccz_lattice_galois_keys {
    const ccz_lattice_context *ctx;
    size_t n;
    uint64_t *elts; /* Galois elements */
    lat_kswitch *keys;
};

/* ---- randomness ------------------------------------------------------------------------------*/

typedef struct {
    EVP_CIPHER_CTX *c;
    uint8_t buf[8192];
    size_t pos, len;
} lat_prng;

ccz_status lat_prng_init(lat_prng *g);
/* A generator whose output is a function of a public 32-byte seed (the uniform component of a
 * seeded ciphertext), for both the encryption and the loader. */
ccz_status lat_prng_init_seed(lat_prng *g, const uint8_t seed[32]);
void lat_prng_free(lat_prng *g);
ccz_status lat_prng_bytes(lat_prng *g, void *out, size_t n);
/* uniform residues modulo each of the primes: np x N */
ccz_status lat_sample_uniform(lat_prng *g, const ccz_lattice_context *ctx, const uint64_t *primes,
                              unsigned np, uint64_t *out);
/* small polynomials as signed coefficients: ternary, or centred binomial (sigma ~3.24) */
ccz_status lat_sample_ternary(lat_prng *g, size_t n, int8_t *out);
ccz_status lat_sample_cbd(lat_prng *g, size_t n, int8_t *out);
/* signed small coefficients to residues modulo primes[0..np) (coefficient form) */
void lat_small_to_rns(const int8_t *c, size_t n, const uint64_t *primes, unsigned np,
                      uint64_t *out);

/* ---- context helpers (lat_rns.c, lat_galois.c) ----------------------------------------------------------------------*/

void lat_rns_ntt(const ccz_lattice_context *ctx, uint64_t *d, unsigned np, const unsigned *idx);
void lat_rns_intt(const ccz_lattice_context *ctx, uint64_t *d, unsigned np, const unsigned *idx);

ccz_status lat_base_init(lat_base *b, const uint64_t *q, unsigned k);
void lat_conv_init(lat_conv *c, const lat_base *a, const lat_base *b);
/* out[j][..] (base b) from in[i][..] (base a), N coefficients, exact with centred rounding */
void lat_conv_apply(const lat_conv *c, const uint64_t *in, uint64_t *out, size_t n);

/* Key switching: adds to (c0, c1) (NTT form over `level` data primes, or coefficient form when
 * coeff) the switch of d (coefficient form over `level` primes) with key ks. d_ntt, when not
 * NULL, is d in NTT form (its NTTs modulo its own primes are then not recomputed). */
ccz_status lat_kswitch_gen(const ccz_lattice_context *ctx, const ccz_lattice_secret_key *sk,
                           const uint64_t *target_ntt, lat_kswitch *out);
void lat_kswitch_free(lat_kswitch *k);
ccz_status lat_kswitch_apply(const ccz_lattice_context *ctx, const lat_kswitch *ks,
                             const uint64_t *d, const uint64_t *d_ntt, unsigned level, bool coeff,
                             uint64_t *c0, uint64_t *c1);
/* lat_kswitch_apply in its parts, so that one decomposition serves several keys (hoisted
 * rotations). lat_kswitch_digit: d_i (from [0, q_i)) modulo the jj-th prime of the level (jj ==
 * level: P), NTT form, into out (N words). lat_kswitch_acc: the thread's accumulators for a level
 * (2 (level + 1) N words, NTT form) and a temporary (N words) after them. lat_kswitch_term: adds
 * that digit times the i-th pair of ks to the accumulators (i == 0 sets them).
 * lat_kswitch_mod_down: divides the accumulators by P with rounding and adds the result to (c0,
 * c1), NTT form or coefficient form when coeff. */
void lat_kswitch_digit(const ccz_lattice_context *ctx, const uint64_t *d, const uint64_t *d_ntt,
                       unsigned i, unsigned jj, unsigned level, uint64_t *out);
uint64_t *lat_kswitch_acc(const ccz_lattice_context *ctx, unsigned level);
void lat_kswitch_term(const ccz_lattice_context *ctx, const lat_kswitch *ks, const uint64_t *digit,
                      unsigned i, unsigned jj, unsigned level, uint64_t *acc0, uint64_t *acc1);
void lat_kswitch_mod_down(const ccz_lattice_context *ctx, uint64_t *acc0, unsigned level,
                          bool coeff, uint64_t *c0, uint64_t *c1);

/* The CKKS encoder's kernels (lat_fft.c). lat_ckks_fft_init fills ctx->ckks_fft and ckks_pos
 * from ctx->roots. lat_ckks_embed: re and im (h = N/2 each) hold the values at their positions
 * (ckks_pos); on return re[k] = m_k c h and im[k] = m_(k+h) c h, the coefficients of the real
 * polynomial with those values (c = scale / h gives them times the scale). lat_ckks_round_rns:
 * the N doubles d rounded half away from zero (as round()), as residues modulo the first `level`
 * primes (level x N words); CCZ_ERR_OVERFLOW when one is not below 2^62 in magnitude. The
 * portable and AVX-512 paths give the same doubles and words. */
ccz_status lat_ckks_fft_init(ccz_lattice_context *ctx);
void lat_ckks_embed(const ccz_lattice_context *ctx, double *re, double *im, double c);
void lat_ckks_embed_portable(const ccz_lattice_context *ctx, double *re, double *im, double c);
void lat_ckks_embed_avx512(const ccz_lattice_context *ctx, double *re, double *im, double c);
ccz_status lat_ckks_round_rns(const ccz_lattice_context *ctx, const double *d, unsigned level,
                              uint64_t *out);
ccz_status lat_ckks_round_rns_portable(const ccz_lattice_context *ctx, const double *d,
                                       unsigned level, uint64_t *out);
ccz_status lat_ckks_round_rns_avx512(const ccz_lattice_context *ctx, const double *d,
                                     unsigned level, uint64_t *out);

/* Galois automorphism x -> x^g on N coefficients modulo q (coefficient form) */
void lat_automorph_coeff(const uint64_t *in, uint64_t *out, size_t n, uint64_t g, uint64_t q);
/* on an NTT-form polynomial (bit-reversed evaluations), a permutation: its index (out[i] =
 * in[idx[i]], N entries), made once and applied to several polynomials */
void lat_automorph_ntt_index(uint32_t *idx, unsigned log_n, uint64_t g);
void lat_automorph_ntt_apply(const uint64_t *in, uint64_t *out, const uint32_t *idx, size_t n);
uint64_t lat_galois_elt(const ccz_lattice_context *ctx, int steps);

/* Whether the product of the first l primes of the chain exceeds t (BFV's Delta = floor(Q / t)
 * is 0 otherwise: every plaintext encrypts to 0) */
static inline bool lat_modulus_above(const ccz_lattice_context *ctx, unsigned l, uint64_t t)
{
    u128 q = 1;
    for (unsigned i = 0; i < l; i++) {
        q *= ctx->primes[i]; /* below 2^64 before, a prime below 2^61: no overflow */
        if (q >> 64)
            return true;
    }
    return q > t;
}

/* x with its low `bits` bits reversed */
static inline size_t lat_bitrev(size_t x, unsigned bits)
{
    size_t r = 0;
    for (unsigned i = 0; i < bits; i++, x >>= 1)
        r = (r << 1) | (x & 1);
    return r;
}

/* Thread-local scratch memory: one buffer per slot, grown as needed, kept while the thread
 * lives and freed when it ends. Products and key switches take their temporaries here instead
 * of allocating (and, being megabytes, mapping and unmapping) them at every call. A slot is
 * used by one function at a time; functions that call each other use different slots. Not for
 * secret-key material. NULL when out of memory. */
enum {
    LAT_SCRATCH_MUL,     /* lat_bfv_mul, lat_ckks_mul */
    LAT_SCRATCH_RELIN,   /* lat_relinearize */
    LAT_SCRATCH_KSWITCH, /* lat_kswitch_apply: accumulators and a temporary */
    LAT_SCRATCH_CONV,    /* lat_conv_apply */
    LAT_SCRATCH_ENCODE,  /* ccz_lattice_ckks_encode: N doubles */
    LAT_SCRATCH_RESCALE, /* lat_drop_last */
    LAT_SCRATCH_GALOIS,  /* apply_galois (lat_ops.c): the automorphism's two components */
    LAT_SCRATCH_HOIST,   /* ccz_lattice_rotate_hoisted: the decomposition, c0, c1 */
    LAT_SCRATCH_SLOTS
};
uint64_t *lat_scratch(unsigned slot, size_t words);

/* 64-byte aligned words (free with free) */
static inline uint64_t *lat_words(size_t n)
{
    return aligned_alloc(64, ((n * 8 + 63) / 64) * 64);
}

/* Shared by the schemes (lat_ops.c, bfv.c, ckks.c, eval.c) */
ccz_status lat_encrypt_zero(const ccz_lattice_context *ctx, const ccz_lattice_public_key *pk,
                            const ccz_lattice_secret_key *sk, unsigned level, bool ntt,
                            uint64_t *c0, uint64_t *c1);
ccz_status lat_decrypt_poly(const ccz_lattice_context *ctx, const ccz_lattice_secret_key *sk,
                            const ccz_lattice_ciphertext *ct, uint64_t *x);
/* The same in coefficient form; a ciphertext in coefficient form has its c0 added after the
 * inverse transform instead of transformed (one NTT per prime fewer) */
ccz_status lat_decrypt_coeffs(const ccz_lattice_context *ctx, const ccz_lattice_secret_key *sk,
                              const ccz_lattice_ciphertext *ct, uint64_t *x);
ccz_status lat_relinearize(const ccz_lattice_context *ctx, ccz_lattice_ciphertext *c,
                           const ccz_lattice_relin_keys *rk);
ccz_status lat_drop_last(const ccz_lattice_context *ctx, ccz_lattice_ciphertext *c);
ccz_status lat_drop_last_to(const ccz_lattice_context *ctx, ccz_lattice_ciphertext *out,
                            const ccz_lattice_ciphertext *c);
ccz_status lat_switch_into(const ccz_lattice_context *ctx, const lat_kswitch *ks, const uint64_t *d,
                           const uint64_t *d_ntt, ccz_lattice_ciphertext *c);
ccz_status lat_bfv_encrypt(const ccz_lattice_context *ctx, const ccz_lattice_public_key *pk,
                           const ccz_lattice_secret_key *sk, const ccz_lattice_plaintext *pt,
                           ccz_lattice_ciphertext *out);
ccz_status lat_bfv_decrypt(const ccz_lattice_context *ctx, const ccz_lattice_secret_key *sk,
                           const ccz_lattice_ciphertext *ct, ccz_lattice_plaintext *out);
ccz_status lat_bfv_add_plain(const ccz_lattice_context *ctx, ccz_lattice_ciphertext *out,
                             const ccz_lattice_ciphertext *a, const ccz_lattice_plaintext *p);
ccz_status lat_bfv_mul_plain(const ccz_lattice_context *ctx, ccz_lattice_ciphertext *out,
                             const ccz_lattice_ciphertext *a, const ccz_lattice_plaintext *p);
ccz_status lat_bfv_mul(const ccz_lattice_context *ctx, ccz_lattice_ciphertext *out,
                       const ccz_lattice_ciphertext *a, const ccz_lattice_ciphertext *b2,
                       const ccz_lattice_relin_keys *rk);
/* The CKKS halves of the entry points (arguments already checked by eval.c) */
ccz_status lat_ckks_encrypt(const ccz_lattice_context *ctx, const ccz_lattice_public_key *pk,
                            const ccz_lattice_secret_key *sk, const ccz_lattice_plaintext *pt,
                            ccz_lattice_ciphertext *out);
ccz_status lat_ckks_decrypt(const ccz_lattice_context *ctx, const ccz_lattice_secret_key *sk,
                            const ccz_lattice_ciphertext *ct, ccz_lattice_plaintext *out);
ccz_status lat_ckks_add_plain(const ccz_lattice_context *ctx, ccz_lattice_ciphertext *out,
                              const ccz_lattice_ciphertext *a, const ccz_lattice_plaintext *p);
ccz_status lat_ckks_mul_plain(const ccz_lattice_context *ctx, ccz_lattice_ciphertext *out,
                              const ccz_lattice_ciphertext *a, const ccz_lattice_plaintext *p);
ccz_status lat_ckks_mul(const ccz_lattice_context *ctx, ccz_lattice_ciphertext *out,
                        const ccz_lattice_ciphertext *a, const ccz_lattice_ciphertext *b,
                        const ccz_lattice_relin_keys *rk);
/* CCZ_ERR_INVALID_ARGUMENT unless c is a ciphertext of ctx */
ccz_status lat_check_ct(const ccz_lattice_context *ctx, const ccz_lattice_ciphertext *c);
/* CCZ_ERR_INVALID_ARGUMENT unless p is a plaintext of ctx */
ccz_status lat_check_pt(const ccz_lattice_context *ctx, const ccz_lattice_plaintext *p);

/* CRT with GMP over the first l primes: Q, and coef[i] = (Q/q_i) [(Q/q_i)^-1]_{q_i}, so that
 * x = sum x_i coef[i] mod Q (initialises the mpz; clear with lat_crt_clear).
 * CCZ_ERR_INVALID_ARGUMENT for l outside 1..MAXP, and then nothing is initialised. */
ccz_status lat_crt_init(const ccz_lattice_context *ctx, unsigned l, mpz_t Q, mpz_t *coef);
void lat_crt_clear(unsigned l, mpz_t Q, mpz_t *coef);

#endif
