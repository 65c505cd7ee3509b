/* SPDX-License-Identifier: Apache-2.0 */
/* Batches: arrays split over threads in chunks of whole lane groups (ccz_parallel_grain); inside
 * a thread, randomizers are made eight at a time and decryptions four at a time (two CRT halves
 * each, c^(p-1) mod p^2 and c^(q-1) mod q^2 in pairs of numbers modulo p and q: mbx_powm_p2), so
 * the IFMA engine's eight lanes are full. */
#include <stdlib.h>
#include <string.h>

#include "core/guard.h"
#include "internal.h"

typedef struct {
    const ccz_paillier_pub *pk;
    const ccz_paillier_key *k;
    mpz_t *out;
    const mpz_t *a, *b;
} job;

static ccz_status encrypt_range(size_t begin, size_t end, void *arg)
{
    job *j = arg;
    mpz_t rho[MBX_LANES];
    for (unsigned i = 0; i < MBX_LANES; i++)
        mpz_init(rho[i]);
    ccz_status s = CCZ_OK;
    for (size_t at = begin; at < end && !s; at += MBX_LANES) {
        unsigned n = end - at < MBX_LANES ? (unsigned)(end - at) : MBX_LANES;
        for (unsigned i = 0; i < n && !s; i++)
            if (mpz_sgn(j->a[at + i]) < 0 || mpz_cmp(j->a[at + i], j->pk->n) >= 0)
                s = ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "plaintext %zu is not in [0, n)", at + i);
        if (s == CCZ_OK)
            s = paillier_obfuscators(j->pk, rho, n);
        for (unsigned i = 0; i < n && !s; i++)
            paillier_times_gm(j->pk, j->out[at + i], j->a[at + i], rho[i]);
    }
    for (unsigned i = 0; i < MBX_LANES; i++)
        paillier_mpz_wipe(rho[i]);
    return s;
}

ccz_status ccz_paillier_encrypt_batch(mpz_t *c, const ccz_paillier_pub *pk, const mpz_t *m,
                                      size_t count, unsigned threads)
{
    job j = {pk, NULL, c, m, NULL};
    return ccz_parallel_grain(count, threads, MBX_LANES, encrypt_range, &j);
}

static ccz_status decrypt_range(size_t begin, size_t end, void *arg)
{
    job *j = arg;
    const ccz_paillier_key *k = j->k;
    bool ifma = mbx_available();
    mpz_t base[MBX_LANES], x[MBX_LANES], exp[MBX_LANES], mod[MBX_LANES], root[MBX_LANES];
    for (unsigned i = 0; i < MBX_LANES; i++)
        mpz_inits(base[i], x[i], NULL);
    for (unsigned i = 0; i < MBX_LANES; i += 2) { /* read-only views */
        *exp[i] = *k->pm1;
        *exp[i + 1] = *k->qm1;
        *mod[i] = *k->p2;
        *mod[i + 1] = *k->q2;
        *root[i] = *k->p;
        *root[i + 1] = *k->q;
    }
    unsigned ebits = paillier_root_bits(k);
    ccz_status s = CCZ_OK;
    for (size_t at = begin; at < end && !s; at += MBX_LANES / 2) {
        unsigned n = end - at < MBX_LANES / 2 ? (unsigned)(end - at) : MBX_LANES / 2;
        for (unsigned i = 0; i < n && !s; i++) {
            const mpz_t *c = &j->a[at + i];
            if ((s = paillier_check_cipher(k->pub, *c, at + i, true)))
                break;
            /* reduced modulo p^2 and q^2 in constant time by the exponentiation (GMP) or by
             * paillier_sec_mod (the IFMA engine) */
            mpz_set(base[2 * i], *c);
            mpz_set(base[2 * i + 1], *c);
        }
        if (s)
            break;
        if (ifma) {
            s = mbx_powm_p2(x, (const mpz_t *)base, (const mpz_t *)exp, (const mpz_t *)root, 2 * n,
                            ebits, ebits);
        } else {
            for (unsigned i = 0; i < 2 * n; i++)
                paillier_sec_powm(x[i], base[i], exp[i], mod[i]);
        }
        for (unsigned i = 0; i < n && !s; i++)
            s = paillier_decrypt_finish(k, j->out[at + i], x[2 * i], x[2 * i + 1], at + i, true);
    }
    for (unsigned i = 0; i < MBX_LANES; i++) {
        paillier_mpz_wipe(base[i]);
        paillier_mpz_wipe(x[i]);
    }
    return s;
}

ccz_status ccz_paillier_decrypt_batch(mpz_t *m, const ccz_paillier_key *k, const mpz_t *c,
                                      size_t count, unsigned threads)
{
    job j = {k->pub, k, m, c, NULL};
    return ccz_parallel_grain(count, threads, MBX_LANES / 2, decrypt_range, &j);
}

static ccz_status add_range(size_t begin, size_t end, void *arg)
{
    job *j = arg;
    for (size_t i = begin; i < end; i++)
        CCZ_GUARD(ccz_paillier_add(j->out[i], j->pk, j->a[i], j->b[i]));
    return CCZ_OK;
}

ccz_status ccz_paillier_add_batch(mpz_t *c, const ccz_paillier_pub *pk, const mpz_t *a,
                                  const mpz_t *b, size_t count, unsigned threads)
{
    job j = {pk, NULL, c, a, b};
    return ccz_parallel(count, threads, add_range, &j);
}

/* Item `at` of a batch of c^k: checked, as base^e with c inverted first for a negative k. */
static ccz_status mul_operands(mpz_t base, mpz_t e, const ccz_paillier_pub *pk, const mpz_t c,
                               const mpz_t k, size_t at)
{
    CCZ_GUARD(paillier_check_cipher(pk, c, at, true));
    if (mpz_cmpabs(k, pk->n) >= 0)
        return ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "scalar %zu: magnitude not below n", at);
    if (mpz_sgn(k) < 0 && !mpz_invert(base, c, pk->n2))
        return ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "ciphertext %zu is not invertible", at);
    if (mpz_sgn(k) >= 0)
        mpz_set(base, c);
    mpz_abs(e, k);
    return CCZ_OK;
}

static ccz_status mul_range(size_t begin, size_t end, void *arg)
{
    job *j = arg;
    const ccz_paillier_pub *pk = j->pk;
    bool ifma = mbx_fits(pk->n2); /* GMP beyond the engine's 8192 bits */
    /* eight at a time on the IFMA engine, one at a time with GMP */
    mpz_t base[MBX_LANES], e[MBX_LANES], mod[MBX_LANES];
    for (unsigned i = 0; i < MBX_LANES; i++) {
        mpz_inits(base[i], e[i], NULL);
        *mod[i] = *pk->n2; /* read-only view */
    }
    ccz_status s = CCZ_OK;
    for (size_t at = begin; at < end && !s; at += MBX_LANES) {
        unsigned n = end - at < MBX_LANES ? (unsigned)(end - at) : MBX_LANES;
        unsigned ebits = 1;
        for (unsigned i = 0; i < n && !s; i++) {
            s = mul_operands(base[i], e[i], pk, j->a[at + i], j->b[at + i], at + i);
            unsigned b = (unsigned)mpz_sizeinbase(e[i], 2);
            ebits = b > ebits ? b : ebits;
            if (s == CCZ_OK && !ifma && mpz_fits_ulong_p(e[i])) /* small scalars: no table */
                mpz_powm_ui(j->out[at + i], base[i], mpz_get_ui(e[i]), pk->n2);
            else if (s == CCZ_OK && !ifma)
                mpz_powm(j->out[at + i], base[i], e[i], pk->n2);
        }
        if (s == CCZ_OK && ifma)
            s = mbx_powm(j->out + at, (const mpz_t *)base, (const mpz_t *)e, (const mpz_t *)mod, n,
                         (unsigned)mpz_sizeinbase(pk->n2, 2), ebits);
    }
    for (unsigned i = 0; i < MBX_LANES; i++)
        mpz_clears(base[i], e[i], NULL);
    return s;
}

ccz_status ccz_paillier_mul_plain_batch(mpz_t *c, const ccz_paillier_pub *pk, const mpz_t *a,
                                        const mpz_t *k, size_t count, unsigned threads)
{
    job j = {pk, NULL, c, a, k};
    return ccz_parallel_grain(count, threads, MBX_LANES, mul_range, &j);
}

/* ---- encrypted dot products --------------------------------------------------------------------*/

/* Straus's tables above this size cost more in cache misses than their wider window saves. */
#define DOT_TABLE_MAX ((size_t)8 << 20)

typedef struct {
    const ccz_paillier_pub *pk;
    mpz_t *out;
    const mpz_t *c, *inv, *e;
    size_t k, rows;
    mbx_straus *straus; /* NULL: GMP */
    unsigned win;       /* IFMA: signed digits of win bits, |d| <= 2^(win - 1) */
    unsigned split;     /* IFMA: each row's bases in split parts of `part` bases, a lane each */
    size_t part;
    mpz_t *partial; /* rows * split products when split > 1 */
} dot_job;

/* Rows one at a time with GMP: a product of exponentiations. */
static ccz_status dot_rows_gmp(const dot_job *j, size_t begin, size_t end)
{
    mpz_t t, a;
    mpz_inits(t, a, NULL);
    for (size_t r = begin; r < end; r++) {
        mpz_set_ui(a, 1);
        for (size_t i = 0; i < j->k; i++) {
            const mpz_t *e = &j->e[r * j->k + i];
            if (mpz_sgn(*e) == 0)
                continue;
            mpz_abs(t, *e);
            mpz_powm(t, mpz_sgn(*e) < 0 ? j->inv[i] : j->c[i], t, j->pk->n2);
            mpz_mul(a, a, t);
            mpz_mod(a, a, j->pk->n2);
        }
        mpz_set(j->out[r], a);
    }
    mpz_clears(t, a, NULL);
    return CCZ_OK;
}

/* Bits [pos, pos + c) of |e|, c < 32. */
static unsigned bits_at(const mpz_t e, size_t pos, unsigned c)
{
    size_t limbs = mpz_size(e), li = pos / GMP_NUMB_BITS;
    unsigned off = (unsigned)(pos % GMP_NUMB_BITS);
    if (li >= limbs)
        return 0;
    mp_limb_t v = mpz_getlimbn(e, (mp_size_t)li) >> off;
    if (off + c > GMP_NUMB_BITS && li + 1 < limbs)
        v |= mpz_getlimbn(e, (mp_size_t)li + 1) << (GMP_NUMB_BITS - off);
    return (unsigned)(v & ((1u << c) - 1));
}

/* e as nwin signed digits of c bits from the top, into one lane's column of the digits
 * (mbx_straus_run's encoding: d, or entries + |d| for an inverse's power). A digit's sign is
 * flipped for a negative e. nwin c > bits(e), so the last carry is zero. */
static void recode(uint16_t *col, size_t stride, const mpz_t e, unsigned c, unsigned nwin)
{
    unsigned half = 1u << (c - 1), entries = half + 1;
    unsigned flip = mpz_sgn(e) < 0 ? entries : 0, carry = 0;
    for (unsigned w = 0; w < nwin; w++) {
        unsigned v = bits_at(e, (size_t)w * c, c) + carry, d;
        if (v > half) {
            d = (1u << c) - v;
            d = d ? d + (entries - flip) : 0;
            carry = 1;
        } else {
            d = v ? v + flip : 0;
            carry = 0;
        }
        col[(size_t)(nwin - 1 - w) * stride] = (uint16_t)d;
    }
}

/* Items (row, part) eight to a group of IFMA lanes, up to DOT_GROUPS groups at a time; each item's
 * lane runs over its part's bases. */
#define DOT_GROUPS 32
static ccz_status dot_items_mbx(const dot_job *j, size_t first, size_t last)
{
    size_t k = j->k, steps = j->part, per = (size_t)DOT_GROUPS * MBX_LANES;
    unsigned c = j->win;
    ccz_status s = CCZ_OK;
    uint16_t *digits = NULL;
    size_t cap = 0, base_of[DOT_GROUPS * MBX_LANES];
    for (size_t at = first; at < last && s == CCZ_OK; at += per) {
        unsigned n = last - at < per ? (unsigned)(last - at) : (unsigned)per;
        unsigned groups = (n + MBX_LANES - 1) / MBX_LANES;
        size_t bits = 1;
        memset(base_of, 0, sizeof base_of);
        for (unsigned l = 0; l < n; l++) {
            size_t q = at + l, len;
            base_of[l] = (q % j->split) * steps;
            len = k - base_of[l] < steps ? k - base_of[l] : steps;
            const mpz_t *row = &j->e[(q / j->split) * k + base_of[l]];
            for (size_t i = 0; i < len; i++) {
                size_t b = mpz_sizeinbase(row[i], 2);
                bits = b > bits ? b : bits;
            }
        }
        unsigned nwin = (unsigned)((bits + c) / c);
        size_t stride = steps * groups * MBX_LANES, need = (size_t)nwin * stride;
        if (need > cap) {
            uint16_t *p = realloc(digits, need * sizeof *digits);
            if (!p) {
                s = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
                break;
            }
            digits = p;
            cap = need;
        }
        memset(digits, 0, need * sizeof *digits);
        for (unsigned l = 0; l < n; l++) {
            size_t q = at + l;
            size_t len = k - base_of[l] < steps ? k - base_of[l] : steps;
            const mpz_t *row = &j->e[(q / j->split) * k + base_of[l]];
            for (size_t i = 0; i < len; i++)
                if (mpz_sgn(row[i]) != 0)
                    recode(digits + (i * groups + l / MBX_LANES) * MBX_LANES + l % MBX_LANES,
                           stride, row[i], c, nwin);
        }
        s = mbx_straus_run(j->straus, (j->split > 1 ? j->partial : j->out) + at, digits, base_of,
                           steps, groups, n, nwin, c);
    }
    free(digits);
    return s;
}

/* [begin, end) counts groups of eight items (rows, or parts of rows with the IFMA engine), so
 * each thread fills whole lane groups. */
static ccz_status dot_range(size_t begin, size_t end, void *arg)
{
    const dot_job *j = arg;
    size_t items = j->straus ? j->rows * j->split : j->rows;
    size_t first = begin * MBX_LANES, last = end * MBX_LANES;
    if (last > items)
        last = items;
    return j->straus ? dot_items_mbx(j, first, last) : dot_rows_gmp(j, first, last);
}

/* The window and the split of rows into parts with the fewest products (Montgomery
 * multiplications of eight lanes): the tables' k (2^(c-1) - 1) / 8 for both signs, and per lane
 * group nwin (part (1 - 2^-c) + c), the rows' parts multiplied together after. */
static void dot_plan(dot_job *j, size_t bits)
{
    size_t k = j->k, rows = j->rows;
    size_t words = (mpz_sizeinbase(j->pk->n2, 2) + 2 + 51) / 52;
    double best = -1;
    for (unsigned c = 2; c <= 8; c++) {
        size_t entries = ((size_t)1 << (c - 1)) + 1;
        if (c > 2 && k * 2 * entries * words * 8 > DOT_TABLE_MAX)
            break;
        double table = (double)k * 2 * (double)(entries - 2) / MBX_LANES;
        double nwin = (double)((bits + c) / c), nz = 1 - 1.0 / (double)(1u << c);
        for (size_t split = 1; split <= MBX_LANES && split <= k; split++) {
            size_t part = (k + split - 1) / split, parts = (k + part - 1) / part;
            double groups = (double)((rows * parts + MBX_LANES - 1) / MBX_LANES);
            double cost = table + groups * nwin * ((double)part * nz + c) +
                          (double)(rows * (parts - 1)) * 0.5;
            if (best < 0 || cost < best) {
                best = cost;
                j->win = c;
                j->split = (unsigned)parts;
                j->part = part;
            }
        }
    }
}

/* The inverses of the bases: every one for the IFMA engine's signed digits (*all false when one
 * has none, which only a base sharing a factor with n can lack), those some negative scalar needs
 * for GMP (zero elsewhere). */
static ccz_status dot_inverses(mpz_t *inv, const ccz_paillier_pub *pk, const mpz_t *c,
                               const bool *neg, size_t k, bool *all)
{
    bool ok = false; /* *all only with the engine (mbx_fits) */
    if (*all)
        CCZ_GUARD(mbx_straus_inverses(inv, c, k, pk->n2, &ok));
    if (ok)
        return CCZ_OK;
    for (size_t i = 0; i < k; i++) {
        if (!*all && !neg[i])
            continue;
        if (mpz_invert(inv[i], c[i], pk->n2))
            continue;
        CCZ_ENSURE(!neg[i], CCZ_ERR_INVALID_ARGUMENT, "ciphertext %zu is not invertible", i);
        *all = false;
        mpz_set_ui(inv[i], 0);
    }
    return CCZ_OK;
}

/* The parts of each row multiplied together. */
static void dot_join(const dot_job *j)
{
    for (size_t r = 0; r < j->rows; r++) {
        mpz_set(j->out[r], j->partial[r * j->split]);
        for (unsigned p = 1; p < j->split; p++) {
            mpz_mul(j->out[r], j->out[r], j->partial[r * j->split + p]);
            mpz_mod(j->out[r], j->out[r], j->pk->n2);
        }
    }
}

ccz_status ccz_paillier_dot_batch(mpz_t *out, const ccz_paillier_pub *pk, const mpz_t *c, size_t k,
                                  const mpz_t *e, size_t rows, unsigned threads)
{
    CCZ_ENSURE(k >= 1 && k <= ((size_t)1 << 24) && rows <= ((size_t)1 << 40) / k,
               CCZ_ERR_INVALID_ARGUMENT, "a dot product of %zu terms for %zu rows", k, rows);
    if (rows == 0)
        return CCZ_OK;
    for (size_t i = 0; i < k; i++)
        CCZ_GUARD(paillier_check_cipher(pk, c[i], i, true));
    bool *neg = calloc(k, sizeof *neg);
    CCZ_ENSURE(neg, CCZ_ERR_NOMEM, "out of memory");
    size_t n_neg = 0, bits = 1;
    ccz_status s = CCZ_OK;
    for (size_t q = 0; q < rows * k && s == CCZ_OK; q++) {
        size_t b = mpz_sizeinbase(e[q], 2);
        bits = b > bits ? b : bits;
        if (mpz_cmpabs(e[q], pk->n) >= 0)
            s = ccz_fail(CCZ_ERR_INVALID_ARGUMENT,
                         "scalar %zu of row %zu: its magnitude is not below n", q % k, q / k);
        else if (mpz_sgn(e[q]) < 0 && !neg[q % k]) {
            neg[q % k] = true;
            n_neg++;
        }
    }
    bool ifma = mbx_fits(pk->n2); /* Straus's tables on the engine, or GMP */
    mpz_t *inv = s == CCZ_OK && (n_neg || ifma) ? malloc(k * sizeof *inv) : NULL;
    if (s == CCZ_OK && (n_neg || ifma) && !inv)
        s = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    for (size_t i = 0; inv && i < k; i++)
        mpz_init(inv[i]);
    if (inv && s == CCZ_OK)
        s = dot_inverses(inv, pk, c, neg, k, &ifma);
    dot_job j = {pk, out, c, (const mpz_t *)inv, e, k, rows, NULL, 0, 1, k, NULL};
    if (s == CCZ_OK && ifma) {
        dot_plan(&j, bits);
        s = mbx_straus_new(&j.straus, c, (const mpz_t *)inv, k, pk->n2, (1u << (j.win - 1)) + 1);
    }
    size_t items = j.straus ? rows * j.split : rows;
    if (s == CCZ_OK && j.split > 1) {
        j.partial = malloc(items * sizeof *j.partial);
        if (!j.partial)
            s = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
        for (size_t q = 0; j.partial && q < items; q++)
            mpz_init(j.partial[q]);
    }
    if (s == CCZ_OK)
        s = ccz_parallel((items + MBX_LANES - 1) / MBX_LANES, threads, dot_range, &j);
    if (s == CCZ_OK && j.partial)
        dot_join(&j);
    for (size_t q = 0; j.partial && q < items; q++)
        mpz_clear(j.partial[q]);
    free(j.partial);
    mbx_straus_free(j.straus);
    for (size_t i = 0; inv && i < k; i++)
        mpz_clear(inv[i]);
    free(inv);
    free(neg);
    return s;
}
