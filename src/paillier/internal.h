/* SPDX-License-Identifier: Apache-2.0 */
/* Private to src/paillier: the Paillier key structures and the multi-buffer exponentiation
 * engine. */
#ifndef CCZ_PAILLIER_INTERNAL_H
#define CCZ_PAILLIER_INTERNAL_H

#include <pthread.h>

#include "ccz/paillier.h"

/* ---- 8-lane AVX-512 IFMA arithmetic in radix 2^52 (mbx.c) ------------------------------------*/

#define MBX_LANES 8

/* Whether the CPU has AVX-512 F and IFMA (core/cpu.h: none under CCZ_CPU=portable). */
bool mbx_available(void);
/* Whether the engine takes numbers modulo mod: the CPU has IFMA and mod has at most 8192 bits
 * (mbx_powm's and mbx_powm_public's max_bits; Paillier's n^2 for n of up to 4096 bits). Larger
 * moduli (keys of 4097 to 8192 bits) take GMP. */
bool mbx_fits(const mpz_t mod);

/* out[l] = base[l]^exp[l] mod mod[l] for the lanes l < n (n <= 8; the rest idle). Moduli are
 * odd and at most max_bits bits; exponents at most exp_bits bits. Constant-time in the
 * exponents (fixed window, every table entry read). */
ccz_status mbx_powm(mpz_t *out, const mpz_t *base, const mpz_t *exp, const mpz_t *mod, unsigned n,
                    unsigned max_bits, unsigned exp_bits);

/* out[l] = base[l]^exp[l] mod root[l]^2 for the lanes l < n (n <= 8): Paillier's c^(p-1) mod
 * p^2, in pairs of numbers modulo root[l] (cheaper than mbx_powm modulo the square). Roots odd,
 * above 1, at most max_bits bits; exponents at most exp_bits bits. Constant-time in the bases and
 * the exponents, as mbx_powm. */
ccz_status mbx_powm_p2(mpz_t *out, const mpz_t *base, const mpz_t *exp, const mpz_t *root,
                       unsigned n, unsigned max_bits, unsigned exp_bits);

/* out[l] = base[l]^exp mod mod[l] for the lanes l < n, with one exponent for every lane that is
 * PUBLIC (Paillier's r^n: the exponent is the modulus n): a sliding window whose squarings and
 * table reads follow the exponent's bits. Constant-time in the bases only; callers with secret
 * exponents use mbx_powm. */
ccz_status mbx_powm_public(mpz_t *out, const mpz_t *base, const mpz_t exp, const mpz_t *mod,
                           unsigned n, unsigned max_bits);

/* A fixed-base table: base^(j 2^(w i)) for j < 2^w, i < rows, in the engine's Montgomery form
 * modulo one modulus. */
typedef struct mbx_fixed mbx_fixed;
ccz_status mbx_fixed_new(mbx_fixed **out, const mpz_t base, const mpz_t mod, unsigned exp_bits);
void mbx_fixed_free(mbx_fixed *t);
/* out[l] = base^exp[l] mod mod for l < n (n <= 8). Not constant-time in the exponents. */
ccz_status mbx_fixed_powm(const mbx_fixed *t, mpz_t *out, const mpz_t *exp, unsigned n);

/* Products of powers of k shared bases modulo one modulus (Straus's method): tables of base[i]^d
 * and, where inv[i] is given (non-zero), inv[i]^d for d < entries, in the engine's Montgomery
 * form. inv may be NULL when no digit is negative. */
#define MBX_STRAUS_MAX_ENTRIES 257
typedef struct mbx_straus mbx_straus;
ccz_status mbx_straus_new(mbx_straus **out, const mpz_t *base, const mpz_t *inv, size_t k,
                          const mpz_t mod, unsigned entries);
void mbx_straus_free(mbx_straus *t);
/* out[l] = prod_j base[base_of[l] + j]^e[l][j] mod m for the lanes l < n of `groups` groups of
 * eight (n <= 8 groups), j < steps (bases past k count as exponent 0), the exponents given as
 * nwin digits from the top, sq bits apart (sq squarings between windows): digits[((w * steps +
 * j) * groups + l / 8) * 8 + l % 8] is 0 for a zero digit, d for a digit d and entries + d for a
 * digit -d (the inverse's entry). Lanes from n on must have zero digits. Not constant-time in
 * the exponents. */
ccz_status mbx_straus_run(const mbx_straus *t, mpz_t *out, const uint16_t *digits,
                          const size_t *base_of, size_t steps, unsigned groups, unsigned n,
                          unsigned nwin, unsigned sq);

/* inv[i] = x[i]^-1 mod m for i < k (0 < x[i] < m odd) with eight inversions, the rest Montgomery
 * products in the lanes; *ok false (inv unspecified) when some x[i] has no inverse. */
ccz_status mbx_straus_inverses(mpz_t *inv, const mpz_t *x, size_t k, const mpz_t mod, bool *ok);

/* ---- Paillier ----------------------------------------------------------------------------------*/

/* A fixed-base table with GMP: base^(j 2^(8 i)), for DJN randomizers without IFMA. */
typedef struct {
    unsigned rows;
    mpz_t *t; /* rows * 255 entries: t[i * 255 + j - 1] = base^(j 2^(8 i)) */
} gmp_fixed;

struct ccz_paillier_pub {
    mpz_t n, n2, max_int;
    unsigned bits;
    bool djn;
    mpz_t hs;
    unsigned rand_bits; /* DJN: bits of r */
    gmp_fixed *fixed;   /* DJN table (GMP), built on first use under table_mu */
    mbx_fixed *mfixed;  /* or the IFMA engine's */
    pthread_mutex_t table_mu;
    /* randomizers computed ahead */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    bool running, stop;
    mpz_t *pool;
    size_t cap, count;
};

struct ccz_paillier_key {
    ccz_paillier_pub *pub;
    mpz_t p, q, p2, q2, pm1, qm1, hp, hq, qinv; /* qinv = q^-1 mod p */
    mpz_t ep, eq, q2inv;                        /* n mod p(p-1), n mod q(q-1), (q^2)^-1 mod p^2 */
};

/* Arithmetic on secrets. Every exponentiation whose exponent or modulus derives from p or q goes
 * through paillier_sec_powm (GMP's mpz_powm_sec: time and memory accesses independent of the
 * exponent and base, for a given operand size), and so does every inversion of a secret value
 * (paillier_sec_invert, by Fermat/Euler: x^-1 = x^(phi(m) - 1) mod m). GMP's mpz_powm and
 * mpz_invert are never given a secret: tests/paillier/test_paillier.c interposes them and fails
 * on any call with a modulus other than n or n^2 during the private-key paths. */
void paillier_sec_powm(mpz_t out, const mpz_t base, const mpz_t exp, const mpz_t mod);
/* out = x mod m (x >= 0) in time that depends on the sizes of x and m only (mpn_sec_div_r). */
void paillier_sec_mod(mpz_t out, const mpz_t x, const mpz_t m);
/* out = floor(x / d) (x >= 0) in time that depends on the sizes of x and d only
 * (mpn_sec_div_qr): L_p(x) = (x - 1) / p of decryption and key set-up. */
void paillier_sec_div(mpz_t out, const mpz_t x, const mpz_t d);
/* out = (a - b) mod m for secret 0 <= a < m and b >= 0: a + m - (b mod m), reduced, so that
 * no negative value meets a reduction (paillier_sec_mod takes none). */
void paillier_sec_sub_mod(mpz_t out, const mpz_t a, const mpz_t b, const mpz_t m);
/* out = x^-1 mod m for x prime to m, given phi_m1 = phi(m) - 1 (m odd). */
void paillier_sec_invert(mpz_t out, const mpz_t x, const mpz_t phi_m1, const mpz_t mod);
/* Whether c is in [1, n^2) (index names it in a batch). */
ccz_status paillier_check_cipher(const ccz_paillier_pub *pk, const mpz_t c, size_t index,
                                 bool batch);
/* The larger of p's and q's bit lengths. */
unsigned paillier_root_bits(const ccz_paillier_key *k);
/* x[0] = base^ep mod p^2 and x[1] = base^eq mod q^2 for a base of any size (reduced in constant
 * time), exponents at most exp_bits bits: with IFMA as two lanes of mbx_powm_p2 (about 2.7 times
 * GMP's two exponentiations at 2048 bits), else paillier_sec_powm. */
ccz_status paillier_crt_powm(mpz_t x[2], const ccz_paillier_key *k, const mpz_t base,
                             const mpz_t ep, const mpz_t eq, unsigned exp_bits);
/* Decryption after the two exponentiations xp = c^(p-1) mod p^2, xq = c^(q-1) mod q^2; refuses
 * a c that shares a factor with n (xp or xq is 0). */
ccz_status paillier_decrypt_finish(const ccz_paillier_key *k, mpz_t m, const mpz_t xp,
                                   const mpz_t xq, size_t index, bool batch);
/* Whether h_s is a DJN base for the key: h_s = (-x^2)^n mod n^2 for some x, checked with p and q:
 * an n-th residue modulo p^2 and q^2 whose negation modulo n is a square, not 1. */
ccz_status paillier_check_hs(const ccz_paillier_key *k, const mpz_t hs);
/* Public checks on h_s (all that can be checked without p and q). */
ccz_status paillier_check_hs_public(const ccz_paillier_pub *pk, const mpz_t hs);

/* One randomizer (r^n or h_s^r mod n^2) computed now. */
ccz_status paillier_obfuscator(const ccz_paillier_pub *pk, mpz_t out);
/* Up to 8 randomizers at once (IFMA lanes when available). */
ccz_status paillier_obfuscators(const ccz_paillier_pub *pk, mpz_t *out, unsigned n);
/* c = (1 + m n) x mod n^2: g^m times x, without an exponentiation (g = n + 1) */
void paillier_times_gm(const ccz_paillier_pub *pk, mpz_t c, const mpz_t m, const mpz_t x);
/* Wipes an mpz's limbs and clears it. */
void paillier_mpz_wipe(mpz_t x);
/* A uniformly random integer of `bits` bits (top bit not forced), from OpenSSL's RNG. */
ccz_status paillier_rand_bits(mpz_t out, unsigned bits);

#endif
