/* SPDX-License-Identifier: Apache-2.0 */
/* Paillier keys and raw operations on GMP. g = n + 1, so encryption is (1 + m n) * rho mod n^2
 * with rho = r^n (or h_s^r under DJN); decryption is by CRT: m_p = L_p(c^(p-1) mod p^2) h_p
 * mod p, recombined with q^-1 mod p. Every exponentiation and inversion that involves p, q or a
 * value derived from them is constant-time (paillier_sec_powm, paillier_sec_invert); GMP's
 * variable-time mpz_powm and mpz_invert see public values only. Keys and ciphertexts that come
 * from outside are checked before use: ciphertexts are elements of Z*_{n^2}, a DJN base is
 * verified against p and q or made afresh. */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "core/guard.h"
#include "internal.h"

/* ---- helpers ---------------------------------------------------------------------------------*/

void paillier_mpz_wipe(mpz_t x)
{
    if (x->_mp_alloc > 0 && x->_mp_d)
        OPENSSL_cleanse(x->_mp_d, (size_t)x->_mp_alloc * sizeof(mp_limb_t));
    mpz_clear(x);
}

ccz_status paillier_rand_bits(mpz_t out, unsigned bits)
{
    size_t nbytes = (bits + 7) / 8;
    unsigned char buf[1100];
    CCZ_ENSURE(nbytes <= sizeof buf, CCZ_ERR_INVALID_ARGUMENT, "%u random bits is too many", bits);
    CCZ_ENSURE(RAND_bytes(buf, (int)nbytes) == 1, CCZ_ERR_CRYPTO, "the RNG failed");
    if (bits % 8)
        buf[0] &= (unsigned char)(0xff >> (8 - bits % 8));
    mpz_import(out, nbytes, 1, 1, 1, 0, buf);
    OPENSSL_cleanse(buf, nbytes);
    return CCZ_OK;
}

/* Uniform in [1, n) and prime to n (the bias of reducing bits + 128 random bits is < 2^-128). */
static ccz_status rand_unit(mpz_t out, const mpz_t n)
{
    mpz_t g;
    mpz_init(g);
    ccz_status s;
    do {
        s = paillier_rand_bits(out, (unsigned)mpz_sizeinbase(n, 2) + 128);
        if (s)
            break;
        mpz_mod(out, out, n);
        mpz_gcd(g, out, n);
    } while (mpz_sgn(out) == 0 || mpz_cmp_ui(g, 1) != 0);
    mpz_clear(g);
    return s;
}

void paillier_sec_powm(mpz_t out, const mpz_t base, const mpz_t exp, const mpz_t mod)
{
    mpz_powm_sec(out, base, exp, mod);
}

void paillier_sec_mod(mpz_t out, const mpz_t x, const mpz_t m)
{
    size_t xn = mpz_size(x), mn = mpz_size(m);
    if (mpz_sgn(x) < 0) { /* no caller reduces a negative secret */
        mpz_mod(out, x, m);
        return;
    }
    if (xn < mn) {
        mpz_set(out, x);
        return;
    }
    size_t tn = xn + (size_t)mpn_sec_div_r_itch((mp_size_t)xn, (mp_size_t)mn);
    void *(*alloc)(size_t);
    void (*freefunc)(void *, size_t);
    mp_get_memory_functions(&alloc, NULL, &freefunc);
    mp_limb_t *t = alloc(tn * sizeof *t); /* GMP's allocator: aborts when out of memory, as mpz */
    memcpy(t, mpz_limbs_read(x), xn * sizeof *t);
    mpn_sec_div_r(t, (mp_size_t)xn, mpz_limbs_read(m), (mp_size_t)mn, t + xn);
    memcpy(mpz_limbs_write(out, (mp_size_t)mn), t, mn * sizeof *t);
    mpz_limbs_finish(out, (mp_size_t)mn);
    OPENSSL_cleanse(t, tn * sizeof *t);
    freefunc(t, tn * sizeof *t);
}

void paillier_sec_div(mpz_t out, const mpz_t x, const mpz_t d)
{
    size_t xn = mpz_size(x), dn = mpz_size(d);
    if (mpz_sgn(x) < 0) { /* no caller divides a negative secret */
        mpz_tdiv_q(out, x, d);
        return;
    }
    if (xn < dn) {
        mpz_set_ui(out, 0);
        return;
    }
    size_t qn = xn - dn + 1;
    size_t tn = xn + qn + (size_t)mpn_sec_div_qr_itch((mp_size_t)xn, (mp_size_t)dn);
    void *(*alloc)(size_t);
    void (*freefunc)(void *, size_t);
    mp_get_memory_functions(&alloc, NULL, &freefunc);
    mp_limb_t *t = alloc(tn * sizeof *t); /* GMP's allocator: aborts when out of memory, as mpz */
    mp_limb_t *q = t + xn, *scratch = q + qn;
    memcpy(t, mpz_limbs_read(x), xn * sizeof *t);
    q[qn - 1] = mpn_sec_div_qr(q, t, (mp_size_t)xn, mpz_limbs_read(d), (mp_size_t)dn, scratch);
    memcpy(mpz_limbs_write(out, (mp_size_t)qn), q, qn * sizeof *t);
    mpz_limbs_finish(out, (mp_size_t)qn);
    OPENSSL_cleanse(t, tn * sizeof *t);
    freefunc(t, tn * sizeof *t);
}

void paillier_sec_sub_mod(mpz_t out, const mpz_t a, const mpz_t b, const mpz_t m)
{
    mpz_t t;
    mpz_init(t);
    paillier_sec_mod(t, b, m);
    mpz_add(out, a, m);
    mpz_sub(out, out, t);
    paillier_sec_mod(out, out, m);
    paillier_mpz_wipe(t);
}

void paillier_sec_invert(mpz_t out, const mpz_t x, const mpz_t phi_m1, const mpz_t mod)
{
    paillier_sec_powm(out, x, phi_m1, mod);
}

/* Miller-Rabin on a secret odd p with random bases and constant-time exponentiation (GMP's
 * mpz_probab_prime_p uses mpz_powm, whose timing reveals the exponent, here (p-1)/2^s). The
 * squarings run to the end without an early exit; only s, the 2-adic valuation of p - 1,
 * shapes the control flow. 12 rounds: a composite passes with probability below 2^-24 however
 * it was chosen (far less for one not crafted to fool the test), and a key with a composite
 * factor harms only its holder, whose decryptions would be wrong. */
static ccz_status sec_probable_prime(const mpz_t p, bool *prime)
{
    *prime = false;
    if (mpz_cmp_ui(p, 5) < 0 || mpz_even_p(p))
        return CCZ_OK;
    mpz_t pm1, d, a, x, range;
    mpz_inits(pm1, d, a, range, NULL);
    /* room for x^2: grown by the first squaring, x would free a block holding, often, p - 1 */
    mpz_init2(x, 2 * mpz_sizeinbase(p, 2) + 64);
    mpz_sub_ui(pm1, p, 1);
    mp_bitcnt_t s2 = mpz_scan1(pm1, 0);
    mpz_tdiv_q_2exp(d, pm1, s2);
    mpz_sub_ui(range, p, 3);
    ccz_status s = CCZ_OK;
    bool all = true;
    for (int round = 0; round < 12 && s == CCZ_OK; round++) {
        /* a in [2, p - 2] */
        s = paillier_rand_bits(a, (unsigned)mpz_sizeinbase(p, 2) + 64);
        if (s)
            break;
        paillier_sec_mod(a, a, range);
        mpz_add_ui(a, a, 2);
        paillier_sec_powm(x, a, d, p);
        int ok = (mpz_cmp_ui(x, 1) == 0) | (mpz_cmp(x, pm1) == 0);
        for (mp_bitcnt_t i = 1; i < s2; i++) {
            mpz_mul(x, x, x);
            paillier_sec_mod(x, x, p);
            ok |= mpz_cmp(x, pm1) == 0;
        }
        all &= ok != 0;
    }
    *prime = s == CCZ_OK && all;
    paillier_mpz_wipe(pm1);
    paillier_mpz_wipe(d);
    paillier_mpz_wipe(x);
    paillier_mpz_wipe(range); /* p - 3 */
    mpz_clear(a);
    return s;
}

static ccz_status bn_to_mpz(mpz_t out, const BIGNUM *b)
{
    int len = BN_num_bytes(b);
    unsigned char *buf = OPENSSL_secure_malloc((size_t)len + 1);
    CCZ_ENSURE(buf, CCZ_ERR_NOMEM, "out of memory");
    BN_bn2bin(b, buf);
    mpz_import(out, (size_t)len, 1, 1, 1, 0, buf);
    OPENSSL_secure_clear_free(buf, (size_t)len + 1);
    return CCZ_OK;
}

/* ---- public keys -----------------------------------------------------------------------------*/

static void fixed_free(gmp_fixed *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < (size_t)f->rows * 255; i++)
        mpz_clear(f->t[i]);
    free(f->t);
    free(f);
}

static void pool_stop(ccz_paillier_pub *pk)
{
    if (!pk->running)
        return;
    pthread_mutex_lock(&pk->mu);
    pk->stop = true;
    pthread_cond_broadcast(&pk->cv);
    pthread_mutex_unlock(&pk->mu);
    pthread_join(pk->thread, NULL);
    pk->running = false;
    for (size_t i = 0; i < pk->cap; i++)
        paillier_mpz_wipe(pk->pool[i]);
    free(pk->pool);
    pk->pool = NULL;
    pk->cap = pk->count = 0;
}

ccz_status ccz_paillier_pub_new(ccz_paillier_pub **out, const mpz_t n)
{
    *out = NULL;
    size_t bits = mpz_sizeinbase(n, 2);
    CCZ_ENSURE(mpz_sgn(n) > 0 && mpz_odd_p(n) && bits >= 512 && bits <= 8192,
               CCZ_ERR_INVALID_ARGUMENT,
               "a Paillier modulus is odd and of 512 to 8192 bits (this one: %zu bits%s)", bits,
               mpz_even_p(n) ? ", even" : "");
    CCZ_ENSURE(mpz_perfect_square_p(n) == 0 && mpz_probab_prime_p(n, 5) == 0,
               CCZ_ERR_INVALID_ARGUMENT, "the modulus is prime or a square: not a Paillier key");
    ccz_paillier_pub *pk = calloc(1, sizeof *pk);
    CCZ_ENSURE(pk, CCZ_ERR_NOMEM, "out of memory");
    mpz_inits(pk->n, pk->n2, pk->max_int, pk->hs, NULL);
    mpz_set(pk->n, n);
    mpz_mul(pk->n2, n, n);
    mpz_fdiv_q_ui(pk->max_int, n, 3);
    mpz_sub_ui(pk->max_int, pk->max_int, 1);
    pk->bits = (unsigned)bits;
    pk->rand_bits = (pk->bits + 1) / 2;
    pthread_mutex_init(&pk->mu, NULL);
    pthread_mutex_init(&pk->table_mu, NULL);
    pthread_cond_init(&pk->cv, NULL);
    *out = pk;
    return CCZ_OK;
}

void ccz_paillier_pub_free(ccz_paillier_pub *pk)
{
    if (!pk)
        return;
    pool_stop(pk);
    fixed_free(pk->fixed);
    mbx_fixed_free(pk->mfixed);
    mpz_clears(pk->n, pk->n2, pk->max_int, pk->hs, NULL);
    pthread_mutex_destroy(&pk->mu);
    pthread_mutex_destroy(&pk->table_mu);
    pthread_cond_destroy(&pk->cv);
    free(pk);
}

unsigned ccz_paillier_bits(const ccz_paillier_pub *pk)
{
    return pk->bits;
}

void ccz_paillier_pub_n(mpz_t n, const ccz_paillier_pub *pk)
{
    mpz_set(n, pk->n);
}

bool ccz_paillier_pub_djn(const ccz_paillier_pub *pk)
{
    return pk->djn;
}

static ccz_status fixed_new(gmp_fixed **out, const mpz_t base, const mpz_t mod, unsigned bits)
{
    gmp_fixed *f = calloc(1, sizeof *f);
    CCZ_ENSURE(f, CCZ_ERR_NOMEM, "out of memory");
    f->rows = (bits + 7) / 8;
    f->t = malloc((size_t)f->rows * 255 * sizeof *f->t);
    if (!f->t) {
        free(f);
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory for the fixed-base table");
    }
    mpz_t row;
    mpz_init_set(row, base); /* base^(2^(8 i)) */
    for (unsigned i = 0; i < f->rows; i++) {
        mpz_t *t = &f->t[(size_t)i * 255];
        mpz_init_set(t[0], row);
        for (unsigned j = 1; j < 255; j++) {
            mpz_init(t[j]);
            mpz_mul(t[j], t[j - 1], row);
            mpz_mod(t[j], t[j], mod);
        }
        mpz_mul(row, t[254], row); /* base^(256 * 2^(8 i)) */
        mpz_mod(row, row, mod);
    }
    mpz_clear(row);
    *out = f;
    return CCZ_OK;
}

ccz_status ccz_paillier_pub_set_djn(ccz_paillier_pub *pk, const mpz_t hs)
{
    CCZ_ENSURE(!pk->running, CCZ_ERR_INVALID_ARGUMENT,
               "stop the randomizer pool before changing the randomizers");
    mpz_t h;
    mpz_init(h);
    ccz_status s = CCZ_OK;
    if (hs) {
        s = paillier_check_hs_public(pk, hs);
        if (s == CCZ_OK)
            mpz_set(h, hs);
    } else {
        /* h = -x^2 mod n, h_s = h^n mod n^2 */
        s = rand_unit(h, pk->n);
        if (s == CCZ_OK) {
            mpz_mul(h, h, h);
            mpz_neg(h, h);
            mpz_mod(h, h, pk->n);
            mpz_powm(h, h, pk->n, pk->n2);
        }
    }
    if (s == CCZ_OK) { /* the table is built on first use */
        fixed_free(pk->fixed);
        mbx_fixed_free(pk->mfixed);
        pk->fixed = NULL;
        pk->mfixed = NULL;
    }
    if (s == CCZ_OK) {
        mpz_set(pk->hs, h);
        pk->djn = true;
    }
    mpz_clear(h);
    return s;
}

ccz_status paillier_check_hs_public(const ccz_paillier_pub *pk, const mpz_t hs)
{
    CCZ_ENSURE(mpz_cmp_ui(hs, 1) > 0 && mpz_cmp(hs, pk->n2) < 0, CCZ_ERR_INVALID_ARGUMENT,
               "h_s is not in [2, n^2)");
    mpz_t t;
    mpz_init(t);
    mpz_gcd(t, hs, pk->n);
    ccz_status s = CCZ_OK;
    if (mpz_cmp_ui(t, 1) != 0)
        s = ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "h_s shares a factor with n");
    /* h_s = (-x^2)^n: h_s mod n is not +-1 (that needs x^2 = 1), and -h_s mod n = (x^n)^2 is
     * a square, so its Jacobi symbol is 1 */
    mpz_mod(t, hs, pk->n);
    bool one = mpz_cmp_ui(t, 1) == 0;
    mpz_sub(t, pk->n, t); /* -h_s mod n */
    bool minus_one = mpz_cmp_ui(t, 1) == 0;
    if (s == CCZ_OK && (one || minus_one))
        s = ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "h_s is 1 or -1 modulo n: not a DJN base");
    if (s == CCZ_OK && mpz_jacobi(t, pk->n) != 1)
        s = ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "-h_s is not a square modulo n: not a DJN base");
    mpz_clear(t);
    return s;
}

ccz_status paillier_check_hs(const ccz_paillier_key *k, const mpz_t hs)
{
    CCZ_GUARD(paillier_check_hs_public(k->pub, hs));
    /* an n-th residue modulo p^2: order dividing p - 1; -h_s a square modulo p (Euler's
     * criterion); the same for q. Exponents and moduli are secret: constant-time. */
    const mpz_t *pr[2][3] = {{&k->p, &k->p2, &k->pm1}, {&k->q, &k->q2, &k->qm1}};
    mpz_t x, e;
    mpz_inits(x, e, NULL);
    int ok = 1;
    for (int i = 0; i < 2; i++) {
        paillier_sec_powm(x, hs, *pr[i][2], *pr[i][1]);
        ok &= mpz_cmp_ui(x, 1) == 0;
        paillier_sec_mod(x, hs, *pr[i][0]);
        mpz_sub(x, *pr[i][0], x);
        mpz_tdiv_q_2exp(e, *pr[i][2], 1);
        paillier_sec_powm(x, x, e, *pr[i][0]);
        ok &= mpz_cmp_ui(x, 1) == 0;
    }
    paillier_mpz_wipe(x);
    paillier_mpz_wipe(e);
    CCZ_ENSURE(ok, CCZ_ERR_INVALID_ARGUMENT,
               "h_s is not (-x^2)^n mod n^2 for this key (not an n-th residue whose negation is "
               "a square): not a DJN base");
    return CCZ_OK;
}

/* ---- randomizers -----------------------------------------------------------------------------*/

static void fixed_powm(const gmp_fixed *f, mpz_t out, const mpz_t e, const mpz_t mod)
{
    mpz_set_ui(out, 1);
    size_t nbytes = (mpz_sizeinbase(e, 2) + 7) / 8;
    for (size_t i = 0; i < nbytes && i < f->rows; i++) {
        unsigned d = 0;
        for (unsigned b = 0; b < 8; b++)
            d |= (unsigned)mpz_tstbit(e, i * 8 + b) << b;
        if (d) {
            mpz_mul(out, out, f->t[i * 255 + d - 1]);
            mpz_mod(out, out, mod);
        }
    }
}

/* The DJN fixed-base table, built once on first use (encryptors only need it). */
static ccz_status ensure_table(const ccz_paillier_pub *cpk)
{
    ccz_paillier_pub *pk = (ccz_paillier_pub *)cpk;
    pthread_mutex_lock(&pk->table_mu);
    ccz_status s = CCZ_OK;
    if (!pk->fixed && !pk->mfixed) {
        if (mbx_fits(pk->n2)) /* GMP beyond the engine's 8192 bits */
            s = mbx_fixed_new(&pk->mfixed, pk->hs, pk->n2, pk->rand_bits);
        else
            s = fixed_new(&pk->fixed, pk->hs, pk->n2, pk->rand_bits);
    }
    pthread_mutex_unlock(&pk->table_mu);
    return s;
}

static ccz_status compute_obfuscators(const ccz_paillier_pub *pk, mpz_t *out, unsigned n)
{
    if (pk->djn)
        CCZ_GUARD(ensure_table(pk));
    mpz_t r[MBX_LANES];
    for (unsigned i = 0; i < n; i++)
        mpz_init(r[i]);
    ccz_status s = CCZ_OK;
    for (unsigned i = 0; i < n && !s; i++)
        s = pk->djn ? paillier_rand_bits(r[i], pk->rand_bits) : rand_unit(r[i], pk->n);
    if (s == CCZ_OK) {
        if (pk->djn && pk->mfixed) {
            s = mbx_fixed_powm(pk->mfixed, out, (const mpz_t *)r, n);
        } else if (pk->djn) {
            for (unsigned i = 0; i < n; i++)
                fixed_powm(pk->fixed, out[i], r[i], pk->n2);
        } else if (n > 1 && mbx_fits(pk->n2)) {
            mpz_t m[MBX_LANES];
            for (unsigned i = 0; i < n; i++) /* read-only views of n^2 */
                *m[i] = *pk->n2;
            /* r^n: the exponent n is public (the secret r is the base) */
            s = mbx_powm_public(out, (const mpz_t *)r, pk->n, (const mpz_t *)m, n,
                                (unsigned)mpz_sizeinbase(pk->n2, 2));
        } else {
            for (unsigned i = 0; i < n; i++)
                mpz_powm(out[i], r[i], pk->n, pk->n2);
        }
    }
    for (unsigned i = 0; i < n; i++)
        paillier_mpz_wipe(r[i]);
    return s;
}

ccz_status paillier_obfuscators(const ccz_paillier_pub *pk, mpz_t *out, unsigned n)
{
    ccz_paillier_pub *mpk = (ccz_paillier_pub *)pk;
    unsigned taken = 0;
    if (pk->running) {
        pthread_mutex_lock(&mpk->mu);
        while (taken < n && mpk->count > 0) {
            mpk->count--;
            mpz_swap(out[taken++], mpk->pool[mpk->count]);
        }
        pthread_cond_broadcast(&mpk->cv);
        pthread_mutex_unlock(&mpk->mu);
    }
    return taken < n ? compute_obfuscators(pk, out + taken, n - taken) : CCZ_OK;
}

ccz_status paillier_obfuscator(const ccz_paillier_pub *pk, mpz_t out)
{
    return paillier_obfuscators(pk, (mpz_t *)out, 1);
}

static void *pool_main(void *arg)
{
    ccz_paillier_pub *pk = arg;
    mpz_t fresh[MBX_LANES];
    for (unsigned i = 0; i < MBX_LANES; i++)
        mpz_init(fresh[i]);
    pthread_mutex_lock(&pk->mu);
    while (!pk->stop) {
        if (pk->count >= pk->cap) {
            pthread_cond_wait(&pk->cv, &pk->mu);
            continue;
        }
        size_t want = pk->cap - pk->count;
        unsigned n = want < MBX_LANES ? (unsigned)want : MBX_LANES;
        pthread_mutex_unlock(&pk->mu);
        ccz_status s = compute_obfuscators(pk, fresh, n);
        pthread_mutex_lock(&pk->mu);
        if (s)
            break;
        for (unsigned i = 0; i < n && pk->count < pk->cap; i++)
            mpz_swap(pk->pool[pk->count++], fresh[i]);
    }
    pthread_mutex_unlock(&pk->mu);
    for (unsigned i = 0; i < MBX_LANES; i++)
        paillier_mpz_wipe(fresh[i]);
    return NULL;
}

ccz_status ccz_paillier_pub_precompute(ccz_paillier_pub *pk, size_t capacity)
{
    pool_stop(pk);
    if (capacity == 0)
        return CCZ_OK;
    CCZ_ENSURE(capacity <= (1u << 20), CCZ_ERR_INVALID_ARGUMENT, "at most 2^20 randomizers ahead");
    pk->pool = calloc(capacity, sizeof *pk->pool);
    CCZ_ENSURE(pk->pool, CCZ_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < capacity; i++)
        mpz_init(pk->pool[i]);
    pk->cap = capacity;
    pk->count = 0;
    pk->stop = false;
    if (pthread_create(&pk->thread, NULL, pool_main, pk) != 0) {
        for (size_t i = 0; i < capacity; i++)
            mpz_clear(pk->pool[i]);
        free(pk->pool);
        pk->pool = NULL;
        pk->cap = 0;
        return ccz_fail(CCZ_ERR_NOMEM, "cannot start the randomizer thread");
    }
    pk->running = true;
    return CCZ_OK;
}

/* ---- private keys ----------------------------------------------------------------------------*/

ccz_paillier_pub *ccz_paillier_key_pub(const ccz_paillier_key *k)
{
    return k->pub;
}

void ccz_paillier_key_free(ccz_paillier_key *k)
{
    if (!k)
        return;
    ccz_paillier_pub_free(k->pub);
    mpz_t *all[] = {&k->p,  &k->q,  &k->p2,   &k->q2, &k->pm1, &k->qm1,
                    &k->hp, &k->hq, &k->qinv, &k->ep, &k->eq,  &k->q2inv};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        paillier_mpz_wipe(*all[i]);
    OPENSSL_cleanse(k, sizeof *k);
    free(k);
}

/* h_p = L_p(g^(p-1) mod p^2)^-1 mod p (p prime: the inverse is x^(p-2) mod p). 0 when the
 * inverse does not exist (p divides L_p: not a valid key). */
static int h_value(mpz_t h, const mpz_t g, const mpz_t p, const mpz_t p2, const mpz_t pm1)
{
    /* room for the subtraction's carry limb from the start: grown there, h would free a block
     * holding g^(p-1) mod p^2 unwiped, a number 1 modulo p (its gcd with n less 1 is p) */
    mpz_realloc2(h, mpz_sizeinbase(p2, 2) + 2 * GMP_NUMB_BITS);
    paillier_sec_powm(h, g, pm1, p2);
    mpz_sub_ui(h, h, 1);
    paillier_sec_div(h, h, p);
    paillier_sec_mod(h, h, p);
    if (mpz_sgn(h) == 0)
        return 0;
    mpz_t e;
    mpz_init(e);
    mpz_sub_ui(e, pm1, 1);
    paillier_sec_invert(h, h, e, p);
    paillier_mpz_wipe(e);
    return 1;
}

/* tested: p and q come from OpenSSL's prime generation, which has tested them already */
static ccz_status key_from_primes(ccz_paillier_key **out, const mpz_t p, const mpz_t q, bool tested)
{
    *out = NULL;
    size_t pb = mpz_sizeinbase(p, 2), qb = mpz_sizeinbase(q, 2);
    CCZ_ENSURE(mpz_sgn(p) > 0 && mpz_sgn(q) > 0 && pb == qb && pb >= 256, CCZ_ERR_INVALID_ARGUMENT,
               "p and q must be primes of the same size (%zu and %zu "
               "bits), at least 256 bits",
               pb, qb);
    bool pp = tested, qp = tested;
    if (!tested) {
        CCZ_GUARD(sec_probable_prime(p, &pp));
        CCZ_GUARD(sec_probable_prime(q, &qp));
    }
    CCZ_ENSURE(pp && qp, CCZ_ERR_INVALID_ARGUMENT, "p or q is not prime");
    mpz_t d, n, phi;
    /* room for p (p - 1) from the start: grown later, d and phi would free blocks holding
     * |p - q| and p - 2 unwiped */
    mpz_init2(d, 2 * pb + 64);
    mpz_init2(phi, 2 * pb + 64);
    mpz_init(n);
    mpz_sub(d, p, q);
    mpz_abs(d, d);
    bool far = mpz_sizeinbase(d, 2) > pb - 100 && mpz_sgn(d) != 0;
    mpz_mul(n, p, q);
    /* gcd(n, (p-1)(q-1)) = 1 holds for distinct odd primes of the same size: p | q - 1 would
     * need q - 1 = p (q - 1 < 2^pb <= 2p), an even q. No gcd on secret values is needed. */
    ccz_status s = CCZ_OK;
    if (!far)
        s = ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "p and q are too close (|p - q| must exceed "
                                               "2^(bits/2 - 100))");
    ccz_paillier_key *k = NULL;
    if (s == CCZ_OK && !(k = calloc(1, sizeof *k)))
        s = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    if (s == CCZ_OK)
        s = ccz_paillier_pub_new(&k->pub, n);
    if (s == CCZ_OK) {
        mpz_inits(k->p, k->q, k->p2, k->q2, k->pm1, k->qm1, k->hp, k->hq, k->qinv, k->ep, k->eq,
                  k->q2inv, NULL);
        /* p < q is not required; CRT works either way */
        mpz_set(k->p, p);
        mpz_set(k->q, q);
        mpz_mul(k->p2, p, p);
        mpz_mul(k->q2, q, q);
        mpz_sub_ui(k->pm1, p, 1);
        mpz_sub_ui(k->qm1, q, 1);
        mpz_t g;
        mpz_init(g);
        mpz_add_ui(g, n, 1);
        int ok = h_value(k->hp, g, p, k->p2, k->pm1) && h_value(k->hq, g, q, k->q2, k->qm1);
        mpz_clear(g);
        /* q^-1 mod p = q^(p-2); (q^2)^-1 mod p^2 = (q^2)^(p(p-1) - 1) */
        mpz_sub_ui(phi, k->pm1, 1);
        paillier_sec_invert(k->qinv, q, phi, p);
        mpz_mul(phi, p, k->pm1);
        mpz_sub_ui(phi, phi, 1);
        paillier_sec_invert(k->q2inv, k->q2, phi, k->p2);
        /* randomizer exponents for encryption by CRT: n mod phi(p^2) = n mod p(p-1) */
        mpz_mul(d, p, k->pm1);
        paillier_sec_mod(k->ep, n, d);
        mpz_mul(d, q, k->qm1);
        paillier_sec_mod(k->eq, n, d);
        if (!ok)
            s = ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "the key's CRT values do not exist");
    }
    paillier_mpz_wipe(d);
    paillier_mpz_wipe(phi);
    mpz_clear(n);
    if (s) {
        if (k && k->pub) {
            ccz_paillier_key_free(k);
        } else {
            free(k);
        }
        return s;
    }
    *out = k;
    return CCZ_OK;
}

ccz_status ccz_paillier_key_from_primes(ccz_paillier_key **out, const mpz_t p, const mpz_t q)
{
    return key_from_primes(out, p, q, false);
}

ccz_status ccz_paillier_keygen(ccz_paillier_key **out, unsigned bits)
{
    *out = NULL;
    CCZ_ENSURE(bits >= 512 && bits <= 8192 && bits % 16 == 0, CCZ_ERR_INVALID_ARGUMENT,
               "key size %u: use 2048, 3072 or 4096 bits (512 to 8192, a multiple of 16)", bits);
    BIGNUM *bp = BN_secure_new(), *bq = BN_secure_new();
    mpz_t p, q;
    mpz_inits(p, q, NULL);
    ccz_status s = bp && bq ? CCZ_OK : ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    for (int attempt = 0; s == CCZ_OK && attempt < 16; attempt++) {
        if (!BN_generate_prime_ex(bp, (int)bits / 2, 0, NULL, NULL, NULL) ||
            !BN_generate_prime_ex(bq, (int)bits / 2, 0, NULL, NULL, NULL)) {
            s = ccz_fail_ossl(CCZ_ERR_CRYPTO, "prime generation failed");
            break;
        }
        if ((s = bn_to_mpz(p, bp)) || (s = bn_to_mpz(q, bq)))
            break;
        s = key_from_primes(out, p, q, true);
        if (s == CCZ_OK && ccz_paillier_bits((*out)->pub) != bits) {
            ccz_paillier_key_free(*out); /* cannot happen with OpenSSL's top two bits set */
            *out = NULL;
            s = CCZ_ERR_INVALID_ARGUMENT;
        }
        if (s == CCZ_ERR_INVALID_ARGUMENT) { /* p, q too close: draw again */
            ccz_error_clear();
            s = CCZ_OK;
            continue;
        }
        break;
    }
    if (s == CCZ_OK && !*out)
        s = ccz_fail(CCZ_ERR_CRYPTO, "no suitable primes after 16 attempts");
    paillier_mpz_wipe(p);
    paillier_mpz_wipe(q);
    BN_clear_free(bp);
    BN_clear_free(bq);
    return s;
}

/* ---- operations ------------------------------------------------------------------------------*/

static ccz_status check_plain(const ccz_paillier_pub *pk, const mpz_t m)
{
    CCZ_ENSURE(mpz_sgn(m) >= 0 && mpz_cmp(m, pk->n) < 0, CCZ_ERR_INVALID_ARGUMENT,
               "the plaintext is not in [0, n) (encode signed values first)");
    return CCZ_OK;
}

static ccz_status check_cipher(const ccz_paillier_pub *pk, const mpz_t c)
{
    return paillier_check_cipher(pk, c, 0, false);
}

ccz_status paillier_check_cipher(const ccz_paillier_pub *pk, const mpz_t c, size_t index,
                                 bool batch)
{
    char what[40] = "the ciphertext";
    if (batch)
        snprintf(what, sizeof what, "ciphertext %zu", index);
    CCZ_ENSURE(mpz_sgn(c) > 0 && mpz_cmp(c, pk->n2) < 0, CCZ_ERR_INVALID_ARGUMENT,
               "%s is not in [1, n^2): not from this key", what);
    return CCZ_OK;
}

void paillier_times_gm(const ccz_paillier_pub *pk, mpz_t c, const mpz_t m, const mpz_t x)
{
    mpz_t t;
    mpz_init(t);
    mpz_mul(t, m, pk->n);
    mpz_add_ui(t, t, 1);
    mpz_mul(c, t, x);
    mpz_mod(c, c, pk->n2);
    mpz_clear(t);
}

ccz_status ccz_paillier_encrypt(mpz_t c, const ccz_paillier_pub *pk, const mpz_t m)
{
    CCZ_GUARD(check_plain(pk, m));
    mpz_t rho;
    mpz_init(rho);
    ccz_status s = paillier_obfuscator(pk, rho);
    if (s == CCZ_OK)
        paillier_times_gm(pk, c, m, rho);
    paillier_mpz_wipe(rho);
    return s;
}

/* The larger of p's and q's bit lengths (public: half of n's, give or take one). */
unsigned paillier_root_bits(const ccz_paillier_key *k)
{
    size_t bp = mpz_sizeinbase(k->p, 2), bq = mpz_sizeinbase(k->q, 2);
    return (unsigned)(bp > bq ? bp : bq);
}

ccz_status paillier_crt_powm(mpz_t x[2], const ccz_paillier_key *k, const mpz_t base,
                             const mpz_t ep, const mpz_t eq, unsigned exp_bits)
{
    if (!mbx_available()) {
        paillier_sec_powm(x[0], base, ep, k->p2);
        paillier_sec_powm(x[1], base, eq, k->q2);
        return CCZ_OK;
    }
    mpz_t b[2], exp[2], root[2]; /* read-only views */
    *b[0] = *base;
    *b[1] = *base;
    *exp[0] = *ep;
    *exp[1] = *eq;
    *root[0] = *k->p;
    *root[1] = *k->q;
    return mbx_powm_p2(x, (const mpz_t *)b, (const mpz_t *)exp, (const mpz_t *)root, 2,
                       paillier_root_bits(k), exp_bits);
}

ccz_status ccz_paillier_encrypt_priv(mpz_t c, const ccz_paillier_key *k, const mpz_t m)
{
    const ccz_paillier_pub *pk = k->pub;
    CCZ_GUARD(check_plain(pk, m));
    if (pk->djn) /* the fixed-base table is as fast */
        return ccz_paillier_encrypt(c, pk, m);
    mpz_t r, x[2]; /* r^n mod p^2 and mod q^2 */
    /* x with room for the join from the start: grown there, x[0] would free blocks holding
     * (a - b) mod p^2 and q^2 ((a - b) (q^2)^-1 mod p^2), whose gcd with n is q, unwiped */
    size_t room = mpz_sizeinbase(pk->n2, 2) + 2 * GMP_NUMB_BITS;
    mpz_init(r);
    mpz_init2(x[0], room);
    mpz_init2(x[1], room);
    ccz_status s = rand_unit(r, pk->n);
    /* the exponents are below p^2 and q^2: a public bound */
    if (s == CCZ_OK)
        s = paillier_crt_powm(x, k, r, k->ep, k->eq, 2 * paillier_root_bits(k));
    if (s == CCZ_OK) { /* joined: rho = b + q^2 ((a - b) (q^2)^-1 mod p^2) */
        paillier_sec_sub_mod(x[0], x[0], x[1], k->p2);
        mpz_mul(x[0], x[0], k->q2inv);
        paillier_sec_mod(x[0], x[0], k->p2);
        mpz_mul(x[0], x[0], k->q2);
        mpz_add(x[0], x[0], x[1]);
        paillier_times_gm(pk, c, m, x[0]);
    }
    paillier_mpz_wipe(r);
    paillier_mpz_wipe(x[0]);
    paillier_mpz_wipe(x[1]);
    return s;
}

/* m_p = L_p(c^(p-1) mod p^2) h_p mod p, from the exponentiation's result x */
static void crt_half(mpz_t out, const mpz_t x, const mpz_t p, const mpz_t h)
{
    mpz_sub_ui(out, x, 1);
    paillier_sec_div(out, out, p);
    mpz_mul(out, out, h);
    paillier_sec_mod(out, out, p);
}

/* m = m_q + q ((m_p - m_q) q^-1 mod p) */
static void crt_join(const ccz_paillier_key *k, mpz_t m, mpz_t mp, const mpz_t mq)
{
    paillier_sec_sub_mod(mp, mp, mq, k->p);
    mpz_mul(mp, mp, k->qinv);
    paillier_sec_mod(mp, mp, k->p);
    mpz_mul(mp, mp, k->q);
    mpz_add(m, mp, mq);
}

ccz_status paillier_decrypt_finish(const ccz_paillier_key *k, mpz_t m, const mpz_t xp,
                                   const mpz_t xq, size_t index, bool batch)
{
    /* c is an element of Z*_{n^2} exactly when neither p nor q divides it, and p | c exactly
     * when c^(p-1) = 0 mod p^2 (p - 1 >= 2): the unit check costs nothing beyond the
     * exponentiations. Whether c shares a factor with n is public (gcd(c, n)). */
    if (mpz_sgn(xp) == 0 || mpz_sgn(xq) == 0) {
        char what[40] = "the ciphertext";
        if (batch)
            snprintf(what, sizeof what, "ciphertext %zu", index);
        return ccz_fail(CCZ_ERR_INVALID_ARGUMENT,
                        "%s shares a factor with n (gcd(c, n) is not "
                        "1): not a Paillier ciphertext",
                        what);
    }
    mpz_t mp, mq;
    mpz_inits(mp, mq, NULL);
    crt_half(mp, xp, k->p, k->hp);
    crt_half(mq, xq, k->q, k->hq);
    crt_join(k, m, mp, mq);
    paillier_mpz_wipe(mp);
    paillier_mpz_wipe(mq);
    return CCZ_OK;
}

ccz_status ccz_paillier_decrypt(mpz_t m, const ccz_paillier_key *k, const mpz_t c)
{
    CCZ_GUARD(paillier_check_cipher(k->pub, c, 0, false));
    mpz_t x[2]; /* c^(p-1) mod p^2, c^(q-1) mod q^2 */
    mpz_inits(x[0], x[1], NULL);
    /* c itself, not c mod p^2: mpz_powm_sec (and mbx_powm_p2) reduce it in constant time,
     * whereas the size of a variable-time c mod p^2 tells how close a chosen c came to a
     * multiple of p^2. */
    ccz_status s = paillier_crt_powm(x, k, c, k->pm1, k->qm1, paillier_root_bits(k));
    if (s == CCZ_OK)
        s = paillier_decrypt_finish(k, m, x[0], x[1], 0, false);
    paillier_mpz_wipe(x[0]);
    paillier_mpz_wipe(x[1]);
    return s;
}

ccz_status ccz_paillier_add(mpz_t c, const ccz_paillier_pub *pk, const mpz_t a, const mpz_t b)
{
    CCZ_GUARD(check_cipher(pk, a));
    CCZ_GUARD(check_cipher(pk, b));
    mpz_mul(c, a, b);
    mpz_mod(c, c, pk->n2);
    return CCZ_OK;
}

ccz_status ccz_paillier_add_plain(mpz_t c, const ccz_paillier_pub *pk, const mpz_t a, const mpz_t m)
{
    CCZ_GUARD(check_cipher(pk, a)); /* the summand */
    CCZ_GUARD(check_plain(pk, m));  /* the plaintext added */
    paillier_times_gm(pk, c, m, a); /* no randomizer, as python-paillier */
    return CCZ_OK;
}

ccz_status ccz_paillier_mul_plain(mpz_t c, const ccz_paillier_pub *pk, const mpz_t a, const mpz_t k)
{
    CCZ_GUARD(check_cipher(pk, a));
    CCZ_ENSURE(mpz_cmpabs(k, pk->n) < 0, CCZ_ERR_INVALID_ARGUMENT,
               "the scalar's magnitude is not below n");
    if (mpz_sgn(k) >= 0) {
        if (mpz_fits_ulong_p(k)) /* small scalars (weights): no window table to build */
            mpz_powm_ui(c, a, mpz_get_ui(k), pk->n2);
        else
            mpz_powm(c, a, k, pk->n2);
        return CCZ_OK;
    }
    mpz_t inv, e;
    mpz_inits(inv, e, NULL);
    int ok = mpz_invert(inv, a, pk->n2);
    mpz_neg(e, k);
    if (ok && mpz_fits_ulong_p(e))
        mpz_powm_ui(c, inv, mpz_get_ui(e), pk->n2);
    else if (ok)
        mpz_powm(c, inv, e, pk->n2);
    mpz_clears(inv, e, NULL);
    CCZ_ENSURE(ok, CCZ_ERR_INVALID_ARGUMENT, "the ciphertext is not invertible modulo n^2");
    return CCZ_OK;
}

ccz_status ccz_paillier_rerandomize(mpz_t c, const ccz_paillier_pub *pk, const mpz_t a)
{
    CCZ_GUARD(check_cipher(pk, a)); /* the ciphertext re-randomized */
    mpz_t rho;
    mpz_init(rho);
    ccz_status s = paillier_obfuscator(pk, rho);
    if (s == CCZ_OK) {
        mpz_mul(c, a, rho);
        mpz_mod(c, c, pk->n2);
    }
    paillier_mpz_wipe(rho);
    return s;
}
