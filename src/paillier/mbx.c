/* SPDX-License-Identifier: Apache-2.0 */
/* Multi-buffer modular exponentiation with AVX-512 IFMA: eight independent numbers, one per
 * 64-bit lane of a zmm register, in radix 2^52 (vpmadd52luq / vpmadd52huq multiply 52-bit
 * digits into 104-bit products). Multiplication is Montgomery's, "almost" reduced (results
 * below 2m, R = 2^(52 D) > 4m), by product scanning with a squaring of its own; no branch or
 * address depends on the numbers. Exponentiation with secret exponents (mbx_powm) uses a fixed
 * window (5 bits, fewer for short exponents: the size depends only on the public bound on their
 * length) and reads every table entry for each lookup, so its time does not depend on the
 * exponents; a public exponent shared by the lanes (mbx_powm_public, Paillier's r^n) takes a
 * sliding window over its bits instead; Paillier's decryption exponentiations modulo p^2 run on
 * pairs of numbers modulo p (mbx_powm_p2). The code is compiled for
 * AVX-512 with a function attribute and only called after a run-time CPU check; without IFMA
 * callers use GMP. */
#include <stdlib.h>
#include <string.h>

#include <immintrin.h>
#include <pthread.h>
#include <sys/mman.h>
#include <openssl/crypto.h>

#include "core/guard.h"
#include "core/cpu.h"
#include "internal.h"

#define MASK52 ((1ull << 52) - 1)
#define WIN 5 /* the largest fixed window */
#define TARGET __attribute__((target("avx512f,avx512ifma")))

bool mbx_available(void)
{
    return cpu_has(CPU_AVX512F | CPU_AVX512IFMA);
}

bool mbx_fits(const mpz_t mod)
{
    return mbx_available() && mpz_sizeinbase(mod, 2) <= 8192;
}

bool ccz_paillier_ifma(void)
{
    return mbx_available();
}

static unsigned digits_for(unsigned bits)
{
    return (bits + 2 + 51) / 52; /* 52 D >= bits + 2, so R > 4m */
}

/* ---- conversions (GMP <-> radix 2^52, one lane at a time) ------------------------------------*/

static void to_digits(uint64_t *d, unsigned D, const mpz_t x)
{
    for (unsigned i = 0; i < D; i++) {
        unsigned long bit = 52ul * i;
        mp_limb_t lo = mpz_getlimbn(x, (mp_size_t)(bit / 64));
        unsigned off = bit % 64;
        uint64_t v = lo >> off;
        if (off > 12)
            v |= (uint64_t)mpz_getlimbn(x, (mp_size_t)(bit / 64 + 1)) << (64 - off);
        d[i] = v & MASK52;
    }
}

static void from_digits(mpz_t x, const uint64_t *d, unsigned D)
{
    size_t L = (52ul * D + 63) / 64;
    mp_limb_t *l = mpz_limbs_write(x, (mp_size_t)L);
    memset(l, 0, L * sizeof *l);
    for (unsigned i = 0; i < D; i++) {
        unsigned long bit = 52ul * i;
        unsigned off = bit % 64;
        l[bit / 64] |= (mp_limb_t)d[i] << off;
        if (off > 12)
            l[bit / 64 + 1] |= (mp_limb_t)(d[i] >> (64 - off));
    }
    mpz_limbs_finish(x, (mp_size_t)L);
}

/* -m^-1 mod 2^52 */
static uint64_t mont_k0(const mpz_t m)
{
    uint64_t m0 = mpz_getlimbn(m, 0), inv = m0; /* correct to 3 bits for odd m0 */
    for (int i = 0; i < 5; i++)
        inv *= 2 - m0 * inv;
    return (0 - inv) & MASK52;
}

/* ---- the arithmetic ------------------------------------------------------------------------*/

/* sum over t < n of x[t] y[-t] into (lo, hi): the low 52 bits of each product added to *lo, the
 * high ones to *hi. Four accumulators of each so that the multiply-adds overlap. */
TARGET static inline void mac_pairs(__m512i *lo, __m512i *hi, const __m512i *x, const __m512i *y,
                                    int n)
{
    __m512i l0 = *lo, l1 = _mm512_setzero_si512(), l2 = l1, l3 = l1;
    __m512i h0 = *hi, h1 = l1, h2 = l1, h3 = l1;
    int t = 0;
    for (; t + 4 <= n; t += 4) {
        l0 = _mm512_madd52lo_epu64(l0, x[t], y[-t]);
        h0 = _mm512_madd52hi_epu64(h0, x[t], y[-t]);
        l1 = _mm512_madd52lo_epu64(l1, x[t + 1], y[-t - 1]);
        h1 = _mm512_madd52hi_epu64(h1, x[t + 1], y[-t - 1]);
        l2 = _mm512_madd52lo_epu64(l2, x[t + 2], y[-t - 2]);
        h2 = _mm512_madd52hi_epu64(h2, x[t + 2], y[-t - 2]);
        l3 = _mm512_madd52lo_epu64(l3, x[t + 3], y[-t - 3]);
        h3 = _mm512_madd52hi_epu64(h3, x[t + 3], y[-t - 3]);
    }
    for (; t < n; t++) {
        l0 = _mm512_madd52lo_epu64(l0, x[t], y[-t]);
        h0 = _mm512_madd52hi_epu64(h0, x[t], y[-t]);
    }
    *lo = _mm512_add_epi64(_mm512_add_epi64(l0, l1), _mm512_add_epi64(l2, l3));
    *hi = _mm512_add_epi64(_mm512_add_epi64(h0, h1), _mm512_add_epi64(h2, h3));
}

/* Two adjacent columns at once: sum over t < n of x[t] y[-t] into (lo0, hi0) and of x[t] y[1 - t]
 * into (lo1, hi1). y[-t] is y[1 - (t + 1)], so each step loads two vectors for four
 * multiply-adds; two steps at a time keep eight accumulators in flight. */
TARGET static inline void mac_cols2(__m512i *lo0, __m512i *hi0, __m512i *lo1, __m512i *hi1,
                                    const __m512i *x, const __m512i *y, int n)
{
    __m512i a0 = *lo0, b0 = *hi0, c0 = *lo1, d0 = *hi1;
    __m512i a1 = _mm512_setzero_si512(), b1 = a1, c1 = a1, d1 = a1;
    if (n <= 0)
        return;
    __m512i up = y[1];
    int t = 0;
    for (; t + 2 <= n; t += 2) {
        __m512i x0 = x[t], x1 = x[t + 1], y0 = y[-t], y1 = y[-t - 1];
        a0 = _mm512_madd52lo_epu64(a0, x0, y0);
        b0 = _mm512_madd52hi_epu64(b0, x0, y0);
        c0 = _mm512_madd52lo_epu64(c0, x0, up);
        d0 = _mm512_madd52hi_epu64(d0, x0, up);
        a1 = _mm512_madd52lo_epu64(a1, x1, y1);
        b1 = _mm512_madd52hi_epu64(b1, x1, y1);
        c1 = _mm512_madd52lo_epu64(c1, x1, y0);
        d1 = _mm512_madd52hi_epu64(d1, x1, y0);
        up = y1;
    }
    if (t < n) {
        __m512i x0 = x[t], y0 = y[-t];
        a0 = _mm512_madd52lo_epu64(a0, x0, y0);
        b0 = _mm512_madd52hi_epu64(b0, x0, y0);
        c0 = _mm512_madd52lo_epu64(c0, x0, up);
        d0 = _mm512_madd52hi_epu64(d0, x0, up);
    }
    *lo0 = _mm512_add_epi64(a0, a1);
    *hi0 = _mm512_add_epi64(b0, b1);
    *lo1 = _mm512_add_epi64(c0, c1);
    *hi1 = _mm512_add_epi64(d0, d1);
}

/* One product x y into (lo, hi). */
TARGET static inline void mac1(__m512i *lo, __m512i *hi, __m512i x, __m512i y)
{
    *lo = _mm512_madd52lo_epu64(*lo, x, y);
    *hi = _mm512_madd52hi_epu64(*hi, x, y);
}

/* Montgomery reduction of a product in columns: r = T R^-1 mod m (almost), T in 2D columns of up
 * to 62 bits (not normalised), y a scratch of D. Product scanning, two columns at a time: y_k
 * makes column k divisible by 2^52, so that on return y holds, in normalised digits, the y < R
 * with T + y m = r R exactly (the p-adic exponentiation uses it). With `top`, digit D of r
 * too. */
#define INLINE static inline __attribute__((always_inline))

/* One step of the low phase: columns k and k + 1 made divisible by 2^52 (y_k, y_k+1), carry c */
INLINE TARGET void redc_low2(const __m512i *T, __m512i *y, const __m512i *m, __m512i k0, int k,
                             __m512i *c)
{
    const __m512i zero = _mm512_setzero_si512(), mask = _mm512_set1_epi64((long long)MASK52);
    __m512i la = T[k], ha = zero, lb = T[k + 1], hb = zero;
    mac_cols2(&la, &ha, &lb, &hb, y, m + k, k);
    la = _mm512_add_epi64(la, *c); /* late: the sums above need not wait for c */
    __m512i ya = _mm512_and_si512(_mm512_madd52lo_epu64(zero, la, k0), mask);
    y[k] = ya;
    mac1(&la, &ha, ya, m[0]);
    lb = _mm512_add_epi64(lb, _mm512_add_epi64(ha, _mm512_srli_epi64(la, 52)));
    mac1(&lb, &hb, ya, m[1]);
    __m512i yb = _mm512_and_si512(_mm512_madd52lo_epu64(zero, lb, k0), mask);
    y[k + 1] = yb;
    mac1(&lb, &hb, yb, m[0]);
    *c = _mm512_add_epi64(hb, _mm512_srli_epi64(lb, 52));
}

/* D odd: the last low column alone */
INLINE TARGET void redc_low1(const __m512i *T, __m512i *y, const __m512i *m, __m512i k0, int k,
                             __m512i *c)
{
    const __m512i zero = _mm512_setzero_si512(), mask = _mm512_set1_epi64((long long)MASK52);
    __m512i lo = T[k], hi = zero;
    mac_pairs(&lo, &hi, y, m + k, k);
    lo = _mm512_add_epi64(lo, *c);
    __m512i yk = _mm512_and_si512(_mm512_madd52lo_epu64(zero, lo, k0), mask);
    y[k] = yk;
    mac1(&lo, &hi, yk, m[0]);
    *c = _mm512_add_epi64(hi, _mm512_srli_epi64(lo, 52));
}

/* One step of the high phase: digits k - D and k + 1 - D of the result (columns k, k + 1 >= D:
 * pairs (i, k - i) for i in [k - D + 1, D)) */
INLINE TARGET void redc_high2(__m512i *r, const __m512i *T, const __m512i *y, const __m512i *m,
                              int d, int k, __m512i *c)
{
    const __m512i zero = _mm512_setzero_si512(), mask = _mm512_set1_epi64((long long)MASK52);
    __m512i la = T[k], ha = zero, lb = T[k + 1], hb = zero;
    int i0 = k - d + 2;
    mac_cols2(&la, &ha, &lb, &hb, y + i0, m + (d - 2), d - i0);
    la = _mm512_add_epi64(la, *c);
    mac1(&la, &ha, y[i0 - 1], m[d - 1]);
    r[k - d] = _mm512_and_si512(la, mask);
    lb = _mm512_add_epi64(lb, _mm512_add_epi64(ha, _mm512_srli_epi64(la, 52)));
    r[k + 1 - d] = _mm512_and_si512(lb, mask);
    *c = _mm512_add_epi64(hb, _mm512_srli_epi64(lb, 52));
}

/* D odd: the top column, only the carry */
INLINE TARGET void redc_high1(__m512i *r, const __m512i *T, int d, int k, __m512i *c)
{
    __m512i v = _mm512_add_epi64(T[k], *c);
    r[k - d] = _mm512_and_si512(v, _mm512_set1_epi64((long long)MASK52));
    *c = _mm512_srli_epi64(v, 52);
}

INLINE TARGET void redc_top(__m512i *r, __m512i *top, const __m512i *T, const __m512i *m,
                            __m512i k0, unsigned D, __m512i *y)
{
    int d = (int)D, k = 0;
    __m512i c = _mm512_setzero_si512();
    for (; k + 1 < d; k += 2)
        redc_low2(T, y, m, k0, k, &c);
    if (k < d)
        redc_low1(T, y, m, k0, k++, &c);
    for (; k + 1 < 2 * d; k += 2)
        redc_high2(r, T, y, m, d, k, &c);
    if (k < 2 * d)
        redc_high1(r, T, d, k, &c);
    if (top) /* digit D of the result, for the callers whose results may reach R */
        *top = c;
}

/* Two reductions with their latency chains interleaved: r1 = T1 R^-1 (its quotient in y1), then
 * r2 and its digit D in top2 = (T2 + y1 R) R^-1 (quotient y2): the upper columns of T2 take y1
 * between the phases (their lower columns do not depend on it). */
INLINE TARGET void redc_pair(__m512i *r1, const __m512i *T1, __m512i *y1, __m512i *r2,
                             __m512i *top2, __m512i *T2, __m512i *y2, const __m512i *m, __m512i k0,
                             unsigned D)
{
    int d = (int)D, k = 0;
    __m512i c1 = _mm512_setzero_si512(), c2 = c1;
    for (; k + 1 < d; k += 2) {
        redc_low2(T1, y1, m, k0, k, &c1);
        redc_low2(T2, y2, m, k0, k, &c2);
    }
    if (k < d) {
        redc_low1(T1, y1, m, k0, k, &c1);
        redc_low1(T2, y2, m, k0, k++, &c2);
    }
    for (int i = 0; i < d; i++)
        T2[d + i] = _mm512_add_epi64(T2[d + i], y1[i]);
    for (; k + 1 < 2 * d; k += 2) {
        redc_high2(r1, T1, y1, m, d, k, &c1);
        redc_high2(r2, T2, y2, m, d, k, &c2);
    }
    if (k < 2 * d) {
        redc_high1(r1, T1, d, k, &c1);
        redc_high1(r2, T2, d, k, &c2);
    }
    *top2 = c2;
}

TARGET static void redc(__m512i *r, const __m512i *T, const __m512i *m, __m512i k0, unsigned D,
                        __m512i *y)
{
    redc_top(r, NULL, T, m, k0, D, y);
}

/* T = the columns of a b, or of a b + c d when c and d are given (2D columns, unnormalised),
 * column by column, two at a time (pairs (i, k - i) and (i, k + 1 - i)). */
static inline __attribute__((always_inline)) TARGET void product_cols(__m512i *T, const __m512i *a,
                                                                      const __m512i *b,
                                                                      const __m512i *c,
                                                                      const __m512i *e, unsigned D)
{
    const __m512i zero = _mm512_setzero_si512();
    int d = (int)D;
    __m512i carry_hi = zero;
    for (int k = 0; k < 2 * d; k += 2) {
        int i0a = k - d + 1 > 0 ? k - d + 1 : 0, i0b = k - d + 2 > 0 ? k - d + 2 : 0;
        int i1 = k < d - 1 ? k : d - 1; /* column k: i in [i0a, i1] */
        __m512i la = zero, ha = zero, lb = zero, hb = zero;
        mac_cols2(&la, &ha, &lb, &hb, a + i0b, b + (k - i0b), i1 - i0b + 1);
        if (c)
            mac_cols2(&la, &ha, &lb, &hb, c + i0b, e + (k - i0b), i1 - i0b + 1);
        la = _mm512_add_epi64(la, carry_hi);
        if (i0a < i0b && i0a <= i1) {
            mac1(&la, &ha, a[i0a], b[k - i0a]);
            if (c)
                mac1(&la, &ha, c[i0a], e[k - i0a]);
        }
        if (k + 1 < d) { /* column k + 1 also has (k + 1, 0) */
            mac1(&lb, &hb, a[k + 1], b[0]);
            if (c)
                mac1(&lb, &hb, c[k + 1], e[0]);
        }
        T[k] = la;
        T[k + 1] = _mm512_add_epi64(ha, lb);
        carry_hi = hb;
    }
}

/* r = a b R^-1 mod m (almost: r < 2m) in each lane; a, b < 2m normalised; tmp has 3D slots.
 * The product's columns, then the reduction; columns stay below 2^62 for D <= 158: 2D
 * products' halves and 2D from the reduction, each below 2^52. */
TARGET static void amm(__m512i *r, const __m512i *a, const __m512i *b, const __m512i *m, __m512i k0,
                       unsigned D, __m512i *tmp)
{
    product_cols(tmp, a, b, NULL, NULL, D);
    redc(r, tmp, m, k0, D, tmp + 2 * D);
}

/* r = a^2 R^-1 mod m (almost: r < 2m), a < 2m normalised; tmp has 3D slots. Each cross product
 * a_i a_j (i < j) is computed once and doubled, so the square costs D^2 multiply-adds instead
 * of 2 D^2, then a Montgomery reduction column by column (product scanning: the running sums
 * stay in registers), two columns at a time. Column sums stay below 2^62 for D <= 158 (8192
 * bits): each column has at most 2D + 2 products' halves from the square and 2D from the
 * reduction, each below 2^52. */
INLINE TARGET void square_cols(__m512i *T, const __m512i *a, unsigned D)
{
    const __m512i zero = _mm512_setzero_si512();
    int d = (int)D;
    /* T = a^2, columns k (even) and k + 1: pairs (i, k - i), i < k / 2, and (i, k + 1 - i),
     * i <= k / 2; each pair's low half in its column, its high half in the next */
    __m512i carry_hi = zero;
    for (int k = 0; k < 2 * d; k += 2) {
        int h = k / 2, i0a = k - d + 1 > 0 ? k - d + 1 : 0, i0b = k - d + 2 > 0 ? k - d + 2 : 0;
        __m512i la = zero, ha = zero, lb = zero, hb = zero;
        mac_cols2(&la, &ha, &lb, &hb, a + i0b, a + (k - i0b), h - i0b);
        la = _mm512_add_epi64(la, carry_hi);
        if (i0a < i0b && i0a < h)
            mac1(&la, &ha, a[i0a], a[k - i0a]);
        if (h >= i0b && h + 1 < d)
            mac1(&lb, &hb, a[h], a[h + 1]);
        __m512i ca = _mm512_slli_epi64(la, 1), cb = _mm512_slli_epi64(_mm512_add_epi64(ha, lb), 1);
        if (h < d) {
            ca = _mm512_madd52lo_epu64(ca, a[h], a[h]);
            cb = _mm512_madd52hi_epu64(cb, a[h], a[h]);
        }
        T[k] = ca;
        T[k + 1] = cb;
        carry_hi = hb;
    }
}

TARGET static void ams(__m512i *r, const __m512i *a, const __m512i *m, __m512i k0, unsigned D,
                       __m512i *tmp)
{
    square_cols(tmp, a, D);
    redc(r, tmp, m, k0, D, tmp + 2 * D);
}

/* Lane-interleaved numbers from up to eight mpz (missing lanes get `fill`). */
static void load_lanes(__m512i *v, unsigned D, const mpz_t *x, unsigned n, const mpz_t fill,
                       uint64_t *scratch)
{
    uint64_t *d = scratch; /* 8 * D */
    for (unsigned l = 0; l < MBX_LANES; l++)
        to_digits(d + (size_t)l * D, D, l < n ? x[l] : fill);
    for (unsigned i = 0; i < D; i++) {
        uint64_t lane[MBX_LANES];
        for (unsigned l = 0; l < MBX_LANES; l++)
            lane[l] = d[(size_t)l * D + i];
        memcpy(&v[i], lane, sizeof lane);
    }
}

static void store_lanes(mpz_t *x, unsigned n, const __m512i *v, unsigned D, uint64_t *scratch)
{
    for (unsigned l = 0; l < n; l++) {
        for (unsigned i = 0; i < D; i++) {
            uint64_t lane[MBX_LANES];
            memcpy(lane, &v[i], sizeof lane);
            scratch[i] = lane[l];
        }
        from_digits(x[l], scratch, D);
    }
}

typedef struct {
    unsigned D;
    __m512i *m, *rr, *one, *tmp, *t1;
    __m512i *ext; /* the caller's `extra` vectors of D */
    __m512i k0;
    uint64_t *scratch;
    void *mem;
    size_t mem_size;
} ctx;

static void ctx_free(ctx *c)
{
    if (c->mem) {
        OPENSSL_cleanse(c->mem, c->mem_size);
        free(c->mem);
    }
}

static ccz_status ctx_init(ctx *c, const mpz_t *mod, unsigned n, unsigned bits, size_t extra)
{
    memset(c, 0, sizeof *c);
    c->D = digits_for(bits);
    unsigned D = c->D;
    /* m, rr, one, t1: D each; tmp: 3D; extra (caller's) D-sized vectors; scratch 8 D words */
    c->mem_size = ((size_t)(7 + extra) * D) * sizeof(__m512i) + (size_t)MBX_LANES * D * 8 + 64;
    c->mem = aligned_alloc(64, (c->mem_size + 63) / 64 * 64);
    CCZ_ENSURE(c->mem, CCZ_ERR_NOMEM, "out of memory");
    __m512i *p = c->mem;
    c->m = p;
    c->rr = p + D;
    c->one = p + 2 * D;
    c->t1 = p + 3 * D;
    c->tmp = p + 4 * D;
    c->ext = p + 7 * D;
    c->scratch = (uint64_t *)(p + (size_t)(7 + extra) * D);
    uint64_t k0[MBX_LANES];
    mpz_t rr;
    mpz_init(rr);
    const mpz_t *fill = &mod[0];
    mpz_t rrs[MBX_LANES];
    for (unsigned l = 0; l < MBX_LANES; l++) {
        const mpz_t *ml = l < n ? &mod[l] : fill;
        k0[l] = mont_k0(*ml);
        mpz_init(rrs[l]);
        mpz_set_ui(rrs[l], 0);
        mpz_setbit(rrs[l], 104ul * D);
        paillier_sec_mod(rrs[l], rrs[l], *ml); /* ml may be p^2 or q^2 */
    }
    memcpy(&c->k0, k0, sizeof k0);
    load_lanes(c->m, D, mod, n, *fill, c->scratch);
    load_lanes(c->rr, D, (const mpz_t *)rrs, MBX_LANES, rrs[0], c->scratch);
    for (unsigned l = 0; l < MBX_LANES; l++) /* R^2 mod p^2 would give p: gcd(R^2 - rr, n) */
        paillier_mpz_wipe(rrs[l]);
    mpz_clear(rr);
    return CCZ_OK;
}

/* Montgomery form of lanes x: AMM(x, R^2). */
TARGET static void to_mont(ctx *c, __m512i *out, const __m512i *x)
{
    amm(out, x, c->rr, c->m, c->k0, c->D, c->tmp);
}

/* x - m where x >= m, else x, in every lane (x < 2m, normalised digits), t a scratch of D: the
 * last step of a Montgomery reduction, without a branch on the values (the moduli and results
 * of a decryption are secret): a subtraction with borrows in every lane, then a blend by the
 * final borrow. */
TARGET static void reduce_once(__m512i *x, const __m512i *m, unsigned D, __m512i *t)
{
    const __m512i zero = _mm512_setzero_si512(), mask = _mm512_set1_epi64((long long)MASK52);
    __m512i borrow = zero;
    for (unsigned i = 0; i < D; i++) {
        __m512i d = _mm512_sub_epi64(_mm512_sub_epi64(x[i], m[i]), borrow);
        borrow = _mm512_srli_epi64(d, 63); /* d in (-2^52 - 1, 2^52): its sign */
        t[i] = _mm512_and_si512(d, mask);
    }
    __mmask8 ge = _mm512_cmpeq_epi64_mask(borrow, zero);
    for (unsigned i = 0; i < D; i++)
        x[i] = _mm512_mask_blend_epi64(ge, x[i], t[i]);
}

/* Out of Montgomery form, fully reduced modulo each lane's modulus (c->m), into n numbers. */
TARGET static void from_mont(ctx *c, mpz_t *out, unsigned n, const __m512i *x)
{
    unsigned D = c->D;
    for (unsigned i = 0; i < D; i++)
        c->t1[i] = _mm512_setzero_si512();
    c->t1[0] = _mm512_set1_epi64(1);
    amm(c->t1, x, c->t1, c->m, c->k0, D, c->tmp);
    reduce_once(c->t1, c->m, D, c->tmp);
    store_lanes(out, n, c->t1, D, c->scratch);
}

/* ---- exponentiation with a window, per-lane bases and exponents ------------------------------*/

/* The fixed window for secret exponents of at most `bits` bits (a public length): the fewest
 * multiplications, the table's 2^w - 2 included, up to WIN (a 64-bit scalar takes 3 bits: 28
 * multiplications instead of 43 with 5). The squarings are the same for every window. */
static unsigned fixed_window(unsigned bits)
{
    unsigned best = 1, cost = bits;
    for (unsigned w = 2; w <= WIN; w++) {
        unsigned c = (1u << w) - 2 + (bits + w - 1) / w;
        if (c < cost) {
            cost = c;
            best = w;
        }
    }
    return best;
}

/* sel = table[idx] in each lane, reading every entry: eight digits at a time in registers (each
 * entry's digits are loaded once, the result stored once), the entries' masks made once. */
TARGET static void select_entry(__m512i *sel, const __m512i *table, __m512i idx, unsigned D,
                                unsigned entries)
{
    __mmask8 hit[1u << WIN];
    for (unsigned e = 0; e < entries; e++)
        hit[e] = _mm512_cmpeq_epi64_mask(idx, _mm512_set1_epi64(e));
    unsigned i = 0;
    for (; i + 8 <= D; i += 8) {
        __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0,
                s7 = s0;
        for (unsigned e = 0; e < entries; e++) {
            const __m512i *t = table + (size_t)e * D + i;
            __mmask8 h = hit[e];
            s0 = _mm512_mask_mov_epi64(s0, h, t[0]);
            s1 = _mm512_mask_mov_epi64(s1, h, t[1]);
            s2 = _mm512_mask_mov_epi64(s2, h, t[2]);
            s3 = _mm512_mask_mov_epi64(s3, h, t[3]);
            s4 = _mm512_mask_mov_epi64(s4, h, t[4]);
            s5 = _mm512_mask_mov_epi64(s5, h, t[5]);
            s6 = _mm512_mask_mov_epi64(s6, h, t[6]);
            s7 = _mm512_mask_mov_epi64(s7, h, t[7]);
        }
        sel[i] = s0;
        sel[i + 1] = s1;
        sel[i + 2] = s2;
        sel[i + 3] = s3;
        sel[i + 4] = s4;
        sel[i + 5] = s5;
        sel[i + 6] = s6;
        sel[i + 7] = s7;
    }
    for (; i < D; i++) {
        __m512i s0 = _mm512_setzero_si512();
        for (unsigned e = 0; e < entries; e++)
            s0 = _mm512_mask_mov_epi64(s0, hit[e], table[(size_t)e * D + i]);
        sel[i] = s0;
    }
}

/* windows[w * 8 + l] = window w (from the top) of exp[l], for l < n: read from the limbs (the
 * positions are public; limbs beyond an exponent's size read as 0) */
static void exp_windows(uint64_t *windows, const mpz_t *exp, unsigned n, unsigned nwin,
                        unsigned win)
{
    uint64_t mask = ((uint64_t)1 << win) - 1;
    for (unsigned w = 0; w < nwin; w++) {
        unsigned low = (nwin - 1 - w) * win, off = low % 64;
        mp_size_t limb = (mp_size_t)(low / 64);
        for (unsigned l = 0; l < n; l++) {
            uint64_t v = (uint64_t)mpz_getlimbn(exp[l], limb) >> off;
            if (off + win > 64)
                v |= (uint64_t)mpz_getlimbn(exp[l], limb + 1) << (64 - off);
            windows[(size_t)w * MBX_LANES + l] = v & mask;
        }
    }
}

TARGET static void powm_lanes(ctx *c, __m512i *acc, __m512i *table, const uint64_t *windows,
                              unsigned nwin, unsigned win)
{
    unsigned D = c->D;
    __m512i *sel = c->t1;
    /* windows[w * 8 + l]: window w (from the top) of lane l */
    for (unsigned w = 0; w < nwin; w++) {
        if (w > 0)
            for (unsigned k = 0; k < win; k++)
                ams(acc, acc, c->m, c->k0, D, c->tmp);
        __m512i idx;
        memcpy(&idx, windows + (size_t)w * MBX_LANES, sizeof idx);
        select_entry(sel, table, idx, D, 1u << win);
        if (w == 0) {
            memcpy(acc, sel, D * sizeof *acc);
        } else {
            amm(acc, acc, sel, c->m, c->k0, D, c->tmp);
        }
    }
}

TARGET static ccz_status mbx_powm_impl(mpz_t *out, const mpz_t *base, const mpz_t *exp,
                                       const mpz_t *mod, unsigned n, unsigned max_bits,
                                       unsigned exp_bits)
{
    ctx c;
    unsigned win = fixed_window(exp_bits);
    size_t entries = 1u << win;
    CCZ_GUARD(ctx_init(&c, mod, n, max_bits, 1 + entries));
    unsigned D = c.D;
    __m512i *acc = c.ext, *table = acc + D;
    /* table[e] = base^e in Montgomery form; table[0] = R mod m */
    for (unsigned i = 0; i < D; i++)
        table[i] = _mm512_setzero_si512();
    table[0] = _mm512_set1_epi64(1);
    to_mont(&c, table, table);
    mpz_t *reduced = malloc(MBX_LANES * sizeof *reduced);
    uint64_t *windows = NULL;
    ccz_status s = reduced ? CCZ_OK : ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    unsigned nwin = (exp_bits + win - 1) / win;
    if (s == CCZ_OK && !(windows = calloc((size_t)nwin * MBX_LANES, sizeof *windows)))
        s = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    if (s == CCZ_OK) {
        for (unsigned l = 0; l < MBX_LANES; l++) {
            mpz_init(reduced[l]);
            if (l < n) /* constant-time: the bases may be ciphertexts reduced modulo p^2 */
                paillier_sec_mod(reduced[l], base[l], mod[l]);
        }
        load_lanes(table + D, D, (const mpz_t *)reduced, n, reduced[0], c.scratch);
        to_mont(&c, table + D, table + D);
        for (unsigned e = 2; e < entries; e++) {
            __m512i *te = table + (size_t)e * D;
            if (e % 2 == 0)
                ams(te, table + (size_t)(e / 2) * D, c.m, c.k0, D, c.tmp);
            else
                amm(te, te - D, table + D, c.m, c.k0, D, c.tmp);
        }
        exp_windows(windows, exp, n, nwin, win);
        powm_lanes(&c, acc, table, windows, nwin, win);
        from_mont(&c, out, n, acc);
        for (unsigned l = 0; l < MBX_LANES; l++)
            paillier_mpz_wipe(reduced[l]);
    }
    if (windows) {
        OPENSSL_cleanse(windows, (size_t)nwin * MBX_LANES * sizeof *windows);
        free(windows);
    }
    free(reduced);
    ctx_free(&c);
    return s;
}

ccz_status mbx_powm(mpz_t *out, const mpz_t *base, const mpz_t *exp, const mpz_t *mod, unsigned n,
                    unsigned max_bits, unsigned exp_bits)
{
    CCZ_ENSURE(mbx_available(), CCZ_ERR_UNSUPPORTED, "this CPU has no AVX-512 IFMA");
    CCZ_ENSURE(n >= 1 && n <= MBX_LANES && max_bits <= 8192 && exp_bits >= 1,
               CCZ_ERR_INVALID_ARGUMENT, "bad multi-buffer request");
    for (unsigned l = 0; l < n; l++)
        CCZ_ENSURE(mpz_odd_p(mod[l]) && mpz_sizeinbase(mod[l], 2) <= max_bits &&
                       mpz_sgn(exp[l]) >= 0 && mpz_sizeinbase(exp[l], 2) <= exp_bits,
                   CCZ_ERR_INVALID_ARGUMENT, "lane %u: modulus or exponent out of range", l);
    return mbx_powm_impl(out, base, exp, mod, n, max_bits, exp_bits);
}

/* ---- modulo p^2 in pairs of numbers modulo p ---------------------------------------------------*/

/* Paillier's decryption raises c to p - 1 modulo p^2 (and to q - 1 modulo q^2). Montgomery
 * arithmetic on the 2D digits of p^2 costs 6 D^2 multiply-adds per square and 8 D^2 per product
 * (D the digits of p). Here a residue modulo p^2 is a pair (A, B) of numbers of D digits, standing
 * for V = R A - p B mod p^2 (R = 2^(52 D) for p; every residue has such a pair), and the
 * product of two is V W R^-2, for values in the Montgomery form x R^2:
 *   (R A - p B)(R C - p E) R^-2 = A C - p (A E + B C) R^-1                    (mod p^2);
 * the Montgomery reduction of A C gives A' and the y < R with A C + y p = R A' exactly, so
 *   = R A' - p B',   B' = REDC(A E + B C + y R)   (only B' mod p matters).
 * A square then costs 3.5 D^2 multiply-adds and a product 5 D^2. Bounds, for R >= 64 p (D is
 * chosen so): A < 2p always (A' < A C / R + p); B' < (A E + B C + y R) / R + p < R + 9p, so
 * B has a digit D that is 0 or 1, kept beside it: B = B_lo + b R, whose products enter the
 * upper columns as masked adds (b C R). A pair is 2D + 1 vectors: A, B_lo, b. A number
 * T < p^2 is the pair (REDC(T), y) exactly (T + y p = R REDC(T)). */

#define PAIR(D) (2 * (size_t)(D) + 1)

/* The pair of T in columns (T < R p: normalised digits) */
TARGET static void pair_of(__m512i *z, const __m512i *T, const __m512i *m, __m512i k0, unsigned D,
                           __m512i *y)
{
    redc_top(z, NULL, T, m, k0, D, y);
    memcpy(z + D, y, D * sizeof *z);
    z[2 * D] = _mm512_setzero_si512();
}

/* z = x y R^-2 (z may be x or y); tmp has 3D slots, U 3D */
TARGET static void pair_mul(__m512i *z, const __m512i *x, const __m512i *y, const __m512i *m,
                            __m512i k0, unsigned D, __m512i *tmp, __m512i *U)
{
    const __m512i zero = _mm512_setzero_si512();
    product_cols(U, x, y + D, x + D, y, D); /* A E_lo + B_lo C */
    __m512i ne = _mm512_sub_epi64(zero, y[2 * D]), nb = _mm512_sub_epi64(zero, x[2 * D]);
    for (unsigned i = 0; i < D; i++) /* + (e A + b C) R */
        U[D + i] = _mm512_add_epi64(
            U[D + i], _mm512_add_epi64(_mm512_and_si512(x[i], ne), _mm512_and_si512(y[i], nb)));
    product_cols(tmp, x, y, NULL, NULL, D); /* A C */
    redc_pair(z, tmp, tmp + 2 * D, z + D, z + 2 * D, U, U + 2 * D, m, k0, D);
}

/* z = x^2 R^-2 (z may be x) */
TARGET static void pair_sqr(__m512i *z, const __m512i *x, const __m512i *m, __m512i k0, unsigned D,
                            __m512i *tmp, __m512i *U)
{
    const __m512i zero = _mm512_setzero_si512();
    product_cols(U, x, x + D, NULL, NULL, D); /* A B_lo, doubled below */
    for (unsigned k = 0; k < D; k++)
        U[k] = _mm512_slli_epi64(U[k], 1);
    __m512i nb = _mm512_sub_epi64(zero, x[2 * D]);
    for (unsigned i = 0; i < D; i++) /* 2 (A B_lo + b A R) */
        U[D + i] = _mm512_slli_epi64(_mm512_add_epi64(U[D + i], _mm512_and_si512(x[i], nb)), 1);
    square_cols(tmp, x, D); /* A^2 */
    redc_pair(z, tmp, tmp + 2 * D, z + D, z + 2 * D, U, U + 2 * D, m, k0, D);
}

/* The first lane j <= l whose root equals lane l's, compared in constant time (which lanes share
 * a root is public: the lanes of one key) */
static unsigned same_root(const mpz_t *root, unsigned l)
{
    size_t len = mpz_size(root[l]);
    for (unsigned j = 0; j < l; j++)
        if (mpz_size(root[j]) == len &&
            CRYPTO_memcmp(mpz_limbs_read(root[j]), mpz_limbs_read(root[l]),
                          len * sizeof(mp_limb_t)) == 0)
            return j;
    return l;
}

TARGET static ccz_status powm_p2_impl(mpz_t *out, const mpz_t *base, const mpz_t *exp,
                                      const mpz_t *root, unsigned n, unsigned max_bits,
                                      unsigned exp_bits)
{
    /* R >= 64 p; a window of at most 4 bits: a table of 32 pairs (80 KiB at 1024 bits) is read
     * whole for every window from beyond L1, which cost more than the 20% more products */
    unsigned win = fixed_window(exp_bits), D = digits_for(max_bits + 4);
    win = win > 4 ? 4 : win;
    size_t entries = (size_t)1 << win, P = PAIR(D);
    /* pairs: acc, sel, the table, three for the set-up; U 3D, the columns 2D; scratch for
     * 2D-digit lanes: 2D vectors (16 D words) */
    size_t vecs = (entries + 5) * P + 7 * (size_t)D;
    ctx c;
    CCZ_GUARD(ctx_init(&c, root, n, max_bits + 4, (vecs + D - 1) / D));
    __m512i *acc = c.ext, *sel = acc + P, *table = sel + P, *cp = table + entries * P, *rp = cp + P,
            *one = rp + P, *U = one + P, *cols = U + 3 * D;
    uint64_t *scratch = (uint64_t *)(cols + 2 * D);
    mpz_t v[3][MBX_LANES], sq[MBX_LANES], w;
    mpz_init(w);
    for (unsigned l = 0; l < MBX_LANES; l++)
        mpz_inits(v[0][l], v[1][l], v[2][l], sq[l], NULL);
    unsigned nwin = (exp_bits + win - 1) / win;
    uint64_t *windows = calloc((size_t)nwin * MBX_LANES, sizeof *windows);
    ccz_status s = windows ? CCZ_OK : ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    if (s == CCZ_OK) {
        /* per lane: c mod p^2 (constant-time); per root (a decryption's lanes alternate p and q):
         * p^2, R^4 and R^2 mod p^2 */
        for (unsigned l = 0; l < n; l++) {
            unsigned j = same_root(root, l);
            if (j < l) {
                mpz_set(sq[l], sq[j]);
                mpz_set(v[1][l], v[1][j]);
                mpz_set(v[2][l], v[2][j]);
            } else {
                mpz_mul(sq[l], root[l], root[l]);
                mpz_set_ui(w, 0);
                mpz_setbit(w, 208ul * D);
                paillier_sec_mod(v[1][l], w, sq[l]);
                mpz_set_ui(w, 0);
                mpz_setbit(w, 104ul * D);
                paillier_sec_mod(v[2][l], w, sq[l]);
            }
            paillier_sec_mod(v[0][l], base[l], sq[l]);
        }
        load_lanes(cols, 2 * D, (const mpz_t *)v[0], n, v[0][0], scratch);
        pair_of(cp, cols, c.m, c.k0, D, c.tmp);
        load_lanes(cols, 2 * D, (const mpz_t *)v[1], n, v[1][0], scratch);
        pair_of(rp, cols, c.m, c.k0, D, c.tmp);
        load_lanes(cols, 2 * D, (const mpz_t *)v[2], n, v[2][0], scratch);
        pair_of(table, cols, c.m, c.k0, D, c.tmp);           /* R^2: 1 in Montgomery form */
        pair_mul(table + P, cp, rp, c.m, c.k0, D, c.tmp, U); /* c R^4 R^-2 */
        for (size_t e = 2; e < entries; e++) {
            __m512i *te = table + e * P;
            if (e % 2 == 0)
                pair_sqr(te, table + (e / 2) * P, c.m, c.k0, D, c.tmp, U);
            else
                pair_mul(te, te - P, table + P, c.m, c.k0, D, c.tmp, U);
        }
        exp_windows(windows, exp, n, nwin, win);
        for (unsigned wi = 0; wi < nwin; wi++) {
            if (wi > 0)
                for (unsigned k = 0; k < win; k++)
                    pair_sqr(acc, acc, c.m, c.k0, D, c.tmp, U);
            __m512i idx;
            memcpy(&idx, windows + (size_t)wi * MBX_LANES, sizeof idx);
            select_entry(wi == 0 ? acc : sel, table, idx, (unsigned)P, (unsigned)entries);
            if (wi > 0)
                pair_mul(acc, acc, sel, c.m, c.k0, D, c.tmp, U);
        }
        /* out of Montgomery form: times the pair of 1, then V = R A - p B mod p^2 */
        for (unsigned k = 0; k < 2 * D; k++)
            cols[k] = _mm512_setzero_si512();
        cols[0] = _mm512_set1_epi64(1);
        pair_of(one, cols, c.m, c.k0, D, c.tmp);
        pair_mul(acc, acc, one, c.m, c.k0, D, c.tmp, U);
        store_lanes(v[0], n, acc, D, scratch);
        store_lanes(v[1], n, acc + D, D + 1, scratch);
        for (unsigned l = 0; l < n; l++) {
            /* R A + p (2 R p - B): B < 2R */
            mpz_mul_2exp(w, root[l], 52ul * D + 1);
            mpz_sub(w, w, v[1][l]);
            mpz_mul(w, w, root[l]);
            mpz_mul_2exp(v[0][l], v[0][l], 52ul * D);
            mpz_add(w, w, v[0][l]);
            paillier_sec_mod(out[l], w, sq[l]);
        }
    }
    if (windows) {
        OPENSSL_cleanse(windows, (size_t)nwin * MBX_LANES * sizeof *windows);
        free(windows);
    }
    paillier_mpz_wipe(w);
    for (unsigned l = 0; l < MBX_LANES; l++) {
        paillier_mpz_wipe(v[0][l]);
        paillier_mpz_wipe(v[1][l]);
        paillier_mpz_wipe(v[2][l]);
        paillier_mpz_wipe(sq[l]);
    }
    ctx_free(&c);
    return s;
}

ccz_status mbx_powm_p2(mpz_t *out, const mpz_t *base, const mpz_t *exp, const mpz_t *root,
                       unsigned n, unsigned max_bits, unsigned exp_bits)
{
    CCZ_ENSURE(mbx_available(), CCZ_ERR_UNSUPPORTED, "this CPU has no AVX-512 IFMA");
    CCZ_ENSURE(n >= 1 && n <= MBX_LANES && max_bits >= 3 && max_bits <= 4096 && exp_bits >= 1,
               CCZ_ERR_INVALID_ARGUMENT, "bad multi-buffer request");
    for (unsigned l = 0; l < n; l++)
        CCZ_ENSURE(mpz_odd_p(root[l]) && mpz_cmp_ui(root[l], 1) > 0 &&
                       mpz_sizeinbase(root[l], 2) <= max_bits && mpz_sgn(exp[l]) >= 0 &&
                       mpz_sizeinbase(exp[l], 2) <= exp_bits,
                   CCZ_ERR_INVALID_ARGUMENT, "lane %u: modulus or exponent out of range", l);
    return powm_p2_impl(out, base, exp, root, n, max_bits, exp_bits);
}

/* ---- one public exponent for every lane ---------------------------------------------------------*/

/* The window for a sliding-window exponentiation with an e-bit exponent: the fewest
 * multiplications, table (2^(w-1) odd powers) included. */
static unsigned public_window(unsigned bits)
{
    unsigned best = 1;
    double cost = bits;
    for (unsigned w = 2; w <= 7; w++) {
        double c = (double)(1u << (w - 1)) + (double)bits / (w + 1);
        if (c < cost) {
            cost = c;
            best = w;
        }
    }
    return best;
}

/* Sliding window, left to right, over the bits of the shared exponent: which squarings and which
 * table entry are used depends on the exponent only (public), never on the bases, and every
 * operation is on all lanes, so the bases' values do not change the time or the addresses. */
TARGET static ccz_status public_impl(mpz_t *out, const mpz_t *base, const mpz_t exp,
                                     const mpz_t *mod, unsigned n, unsigned max_bits)
{
    unsigned ebits = mpz_sgn(exp) ? (unsigned)mpz_sizeinbase(exp, 2) : 0;
    unsigned w = public_window(ebits), odd = 1u << (w - 1);
    ctx c;
    CCZ_GUARD(ctx_init(&c, mod, n, max_bits, 2 + odd));
    unsigned D = c.D;
    __m512i *acc = c.ext, *sq = acc + D, *table = sq + D; /* table[j] = base^(2 j + 1) */
    mpz_t reduced[MBX_LANES];
    for (unsigned l = 0; l < MBX_LANES; l++) {
        mpz_init(reduced[l]);
        if (l < n) /* the bases (randomizers) are secret: reduced in constant time */
            paillier_sec_mod(reduced[l], base[l], mod[l]);
    }
    load_lanes(table, D, (const mpz_t *)reduced, n, reduced[0], c.scratch);
    for (unsigned l = 0; l < MBX_LANES; l++)
        paillier_mpz_wipe(reduced[l]);
    to_mont(&c, table, table);
    ams(sq, table, c.m, c.k0, D, c.tmp);
    for (unsigned j = 1; j < odd; j++)
        amm(table + (size_t)j * D, table + (size_t)(j - 1) * D, sq, c.m, c.k0, D, c.tmp);
    /* acc = R mod m: the Montgomery one, the result for a zero exponent */
    for (unsigned i = 0; i < D; i++)
        acc[i] = _mm512_setzero_si512();
    acc[0] = _mm512_set1_epi64(1);
    to_mont(&c, acc, acc);
    bool started = false;
    for (long i = (long)ebits - 1; i >= 0;) {
        if (!mpz_tstbit(exp, (mp_bitcnt_t)i)) {
            if (started)
                ams(acc, acc, c.m, c.k0, D, c.tmp);
            i--;
            continue;
        }
        long j = i - (long)w + 1 > 0 ? i - (long)w + 1 : 0;
        while (!mpz_tstbit(exp, (mp_bitcnt_t)j))
            j++;
        unsigned v = 0;
        for (long b = i; b >= j; b--)
            v = v << 1 | (unsigned)mpz_tstbit(exp, (mp_bitcnt_t)b);
        const __m512i *t = table + (size_t)(v >> 1) * D;
        if (started) {
            for (long b = i; b >= j; b--)
                ams(acc, acc, c.m, c.k0, D, c.tmp);
            amm(acc, acc, t, c.m, c.k0, D, c.tmp);
        } else {
            memcpy(acc, t, D * sizeof *acc);
            started = true;
        }
        i = j - 1;
    }
    from_mont(&c, out, n, acc);
    ctx_free(&c);
    return CCZ_OK;
}

ccz_status mbx_powm_public(mpz_t *out, const mpz_t *base, const mpz_t exp, const mpz_t *mod,
                           unsigned n, unsigned max_bits)
{
    CCZ_ENSURE(mbx_available(), CCZ_ERR_UNSUPPORTED, "this CPU has no AVX-512 IFMA");
    CCZ_ENSURE(n >= 1 && n <= MBX_LANES && max_bits <= 8192 && mpz_sgn(exp) >= 0,
               CCZ_ERR_INVALID_ARGUMENT, "bad multi-buffer request");
    for (unsigned l = 0; l < n; l++)
        CCZ_ENSURE(mpz_odd_p(mod[l]) && mpz_sizeinbase(mod[l], 2) <= max_bits,
                   CCZ_ERR_INVALID_ARGUMENT, "lane %u: modulus out of range", l);
    return public_impl(out, base, exp, mod, n, max_bits);
}

/* ---- fixed base, one modulus -----------------------------------------------------------------*/

struct mbx_fixed {
    unsigned D, rows, bits;
    mpz_t mod;
    uint64_t *table; /* (rows * 256) entries of D digits, Montgomery form */
    size_t table_words;
};

void mbx_fixed_free(mbx_fixed *t)
{
    if (!t)
        return;
    free(t->table);
    mpz_clear(t->mod);
    free(t);
}

ccz_status mbx_fixed_new(mbx_fixed **out, const mpz_t base, const mpz_t mod, unsigned exp_bits)
{
    *out = NULL;
    CCZ_ENSURE(mbx_available(), CCZ_ERR_UNSUPPORTED, "this CPU has no AVX-512 IFMA");
    CCZ_ENSURE(mpz_sizeinbase(mod, 2) <= 8192 && mpz_odd_p(mod), CCZ_ERR_INVALID_ARGUMENT,
               "bad multi-buffer request");
    mbx_fixed *t = calloc(1, sizeof *t);
    CCZ_ENSURE(t, CCZ_ERR_NOMEM, "out of memory");
    unsigned bits = (unsigned)mpz_sizeinbase(mod, 2);
    t->D = digits_for(bits);
    t->rows = (exp_bits + 7) / 8;
    t->bits = exp_bits;
    mpz_init_set(t->mod, mod);
    t->table_words = (size_t)t->rows * 256 * t->D;
    t->table = malloc(t->table_words * sizeof *t->table);
    if (!t->table) {
        mbx_fixed_free(t);
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory for the fixed-base table");
    }
    /* entry (i, j) = base^(j 256^i) R mod m, with GMP */
    mpz_t row, x, y;
    mpz_inits(row, x, y, NULL);
    mpz_mod(row, base, mod);
    for (unsigned i = 0; i < t->rows; i++) {
        mpz_set_ui(x, 1);
        for (unsigned j = 0; j < 256; j++) {
            mpz_mul_2exp(y, x, 52ul * t->D);
            mpz_mod(y, y, mod);
            to_digits(t->table + ((size_t)i * 256 + j) * t->D, t->D, y);
            mpz_mul(x, x, row);
            mpz_mod(x, x, mod);
        }
        mpz_set(row, x); /* base^(256^(i+1)) */
    }
    mpz_clears(row, x, y, NULL);
    *out = t;
    return CCZ_OK;
}

TARGET static ccz_status fixed_impl(const mbx_fixed *t, mpz_t *out, const mpz_t *exp, unsigned n)
{
    ctx c;
    mpz_t mods[MBX_LANES];
    for (unsigned l = 0; l < MBX_LANES; l++)
        *mods[l] = *t->mod; /* read-only views */
    CCZ_GUARD(ctx_init(&c, (const mpz_t *)mods, MBX_LANES, (unsigned)mpz_sizeinbase(t->mod, 2), 2));
    unsigned D = c.D;
    __m512i *acc = c.ext, *b = acc + D;
    /* acc = R mod m (Montgomery one) in every lane */
    for (unsigned i = 0; i < D; i++)
        acc[i] = _mm512_setzero_si512();
    acc[0] = _mm512_set1_epi64(1);
    to_mont(&c, acc, acc);
    for (unsigned r = 0; r < t->rows; r++) {
        uint64_t base_idx[MBX_LANES];
        bool any = false;
        for (unsigned l = 0; l < MBX_LANES; l++) {
            unsigned v = 0;
            if (l < n)
                for (unsigned k = 0; k < 8; k++)
                    v |= (unsigned)mpz_tstbit(exp[l], r * 8 + k) << k;
            any |= v != 0;
            base_idx[l] = ((uint64_t)r * 256 + v) * D;
        }
        if (!any)
            continue;
        __m512i vi;
        memcpy(&vi, base_idx, sizeof vi);
        for (unsigned i = 0; i < D; i++)
            b[i] = _mm512_i64gather_epi64(_mm512_add_epi64(vi, _mm512_set1_epi64(i)),
                                          (const void *)t->table, 8);
        amm(acc, acc, b, c.m, c.k0, D, c.tmp);
    }
    from_mont(&c, out, n, acc);
    ctx_free(&c);
    return CCZ_OK;
}

ccz_status mbx_fixed_powm(const mbx_fixed *t, mpz_t *out, const mpz_t *exp, unsigned n)
{
    CCZ_ENSURE(n >= 1 && n <= MBX_LANES, CCZ_ERR_INVALID_ARGUMENT, "bad multi-buffer request");
    for (unsigned l = 0; l < n; l++)
        CCZ_ENSURE(mpz_sgn(exp[l]) >= 0 && mpz_sizeinbase(exp[l], 2) <= t->bits,
                   CCZ_ERR_INVALID_ARGUMENT, "lane %u: exponent out of range", l);
    return fixed_impl(t, out, exp, n);
}

/* ---- products of powers of shared bases (Straus), one modulus --------------------------------*/

struct mbx_straus {
    unsigned D, entries;
    size_t k;
    mpz_t mod;
    /* k * 2 * entries entries of D digits: base^d at (2 i + s) entries + d, s = 1 for the
     * inverse */
    uint64_t *table;
    size_t table_size;
};

/* Tables of megabytes in huge pages where the kernel has them: the lanes' entries are far apart,
 * and with 4 KiB pages most loads would miss the TLB. The last table freed is kept for the next
 * (its pages already faulted in: fresh huge pages cost their zeroing on every call); a table
 * holds powers of ciphertexts, nothing secret. */
static struct {
    pthread_mutex_t mu;
    void *p;
    size_t size;
} straus_spare = {PTHREAD_MUTEX_INITIALIZER, NULL, 0};

static size_t straus_size(size_t bytes)
{
    size_t huge = (size_t)2 << 20;
    return bytes < huge ? bytes : (bytes + huge - 1) / huge * huge;
}

static uint64_t *straus_alloc(size_t bytes, size_t *size)
{
    *size = straus_size(bytes);
    void *p = NULL;
    pthread_mutex_lock(&straus_spare.mu);
    if (straus_spare.p && straus_spare.size >= *size && straus_spare.size <= 2 * *size) {
        p = straus_spare.p;
        *size = straus_spare.size;
        straus_spare.p = NULL;
    }
    pthread_mutex_unlock(&straus_spare.mu);
    if (p)
        return p;
    if (*size < ((size_t)2 << 20))
        return malloc(*size);
    p = aligned_alloc((size_t)2 << 20, *size);
#ifdef MADV_HUGEPAGE
    if (p)
        (void)madvise(p, *size, MADV_HUGEPAGE);
#endif
    return p;
}

static void straus_release(void *p, size_t size)
{
    if (!p)
        return;
    pthread_mutex_lock(&straus_spare.mu);
    if (!straus_spare.p || straus_spare.size < size) {
        void *old = straus_spare.p;
        straus_spare.p = p;
        straus_spare.size = size;
        p = old;
    }
    pthread_mutex_unlock(&straus_spare.mu);
    free(p);
}

void mbx_straus_free(mbx_straus *t)
{
    if (!t)
        return;
    straus_release(t->table, t->table_size);
    mpz_clear(t->mod);
    free(t);
}

/* Entries d < entries of up to eight bases (one per lane) into the single-lane table from the
 * lane's slot on. */
TARGET static void straus_fill(ctx *c, mbx_straus *t, const mpz_t *x, const size_t *slot,
                               unsigned n, __m512i *pw)
{
    unsigned D = c->D;
    __m512i *p0 = pw, *p1 = pw + D, *pd = pw + 2 * D;
    for (unsigned i = 0; i < D; i++)
        p0[i] = _mm512_setzero_si512();
    p0[0] = _mm512_set1_epi64(1);
    to_mont(c, p0, p0); /* R mod m: base^0 */
    load_lanes(p1, D, x, n, x[0], c->scratch);
    to_mont(c, p1, p1);
    memcpy(pd, p1, D * sizeof *pd);
    for (unsigned d = 0; d < t->entries; d++) {
        const __m512i *v = d == 0 ? p0 : pd;
        if (d >= 2)
            amm(pd, pd, p1, c->m, c->k0, D, c->tmp);
        const uint64_t *w = (const uint64_t *)v; /* digit i of lane l at w[i * 8 + l] */
        for (unsigned l = 0; l < n; l++) {
            uint64_t *dst = t->table + (slot[l] + d) * D;
            for (unsigned i = 0; i < D; i++)
                dst[i] = w[(size_t)i * MBX_LANES + l];
        }
    }
}

ccz_status mbx_straus_new(mbx_straus **out, const mpz_t *base, const mpz_t *inv, size_t k,
                          const mpz_t mod, unsigned entries)
{
    *out = NULL;
    CCZ_ENSURE(mbx_available(), CCZ_ERR_UNSUPPORTED, "this CPU has no AVX-512 IFMA");
    CCZ_ENSURE(k >= 1 && k <= ((size_t)1 << 24) && mpz_odd_p(mod) && entries >= 2 &&
                   entries <= MBX_STRAUS_MAX_ENTRIES,
               CCZ_ERR_INVALID_ARGUMENT, "bad multi-buffer request");
    CCZ_ENSURE(mpz_sizeinbase(mod, 2) <= 8192, CCZ_ERR_INVALID_ARGUMENT,
               "bad multi-buffer request");
    mbx_straus *t = calloc(1, sizeof *t);
    CCZ_ENSURE(t, CCZ_ERR_NOMEM, "out of memory");
    unsigned bits = (unsigned)mpz_sizeinbase(mod, 2);
    t->D = digits_for(bits);
    t->k = k;
    t->entries = entries;
    mpz_init_set(t->mod, mod);
    t->table = straus_alloc(k * 2 * entries * t->D * sizeof *t->table, &t->table_size);
    ctx c;
    ccz_status s = t->table ? ctx_init(&c, &t->mod, 1, bits, 3)
                            : ccz_fail(CCZ_ERR_NOMEM, "out of memory for the power tables");
    if (s) {
        mbx_straus_free(t);
        return s;
    }
    /* eight bases (or inverses) at a time in the lanes */
    mpz_t x[MBX_LANES];
    size_t slot[MBX_LANES];
    unsigned n = 0;
    for (size_t j = 0; j < 2 * k; j++) {
        size_t i = j % k;
        unsigned sign = j >= k;
        const mpz_t *src = sign ? (inv ? &inv[i] : NULL) : &base[i];
        if (src && mpz_sgn(*src) > 0) {
            *x[n] = **src; /* read-only view */
            slot[n++] = (2 * i + sign) * entries;
        } else {
            memset(t->table + (2 * i + sign) * entries * t->D, 0,
                   entries * t->D * sizeof *t->table);
        }
        if (n == MBX_LANES || (n && j == 2 * k - 1)) {
            straus_fill(&c, t, (const mpz_t *)x, slot, n, c.ext);
            n = 0;
        }
    }
    ctx_free(&c);
    *out = t;
    return CCZ_OK;
}

/* The table offsets (in words) of step q's entries, one per lane of its group; false when every
 * digit is zero. A lane with a zero digit (or past the table) points at entry 0 of base 0. */
TARGET static bool straus_index(const mbx_straus *t, __m512i *vi, const uint16_t *digits,
                                const size_t *base_of, size_t steps, unsigned groups, size_t q)
{
    const uint16_t *dg = digits + q * MBX_LANES;
    size_t j = (q / groups) % steps;
    const size_t *bo = base_of + (size_t)(q % groups) * MBX_LANES;
    uint64_t idx[MBX_LANES];
    bool any = false;
    for (unsigned l = 0; l < MBX_LANES; l++) {
        bool use = dg[l] && dg[l] < 2 * t->entries && bo[l] + j < t->k;
        any |= use;
        idx[l] = use ? ((bo[l] + j) * 2 * t->entries + dg[l]) * t->D : 0;
    }
    memcpy(vi, idx, sizeof idx);
    return any;
}

/* Brings a step's entries towards L1 while the previous product runs. */
TARGET static void straus_prefetch(const mbx_straus *t, __m512i vi)
{
    uint64_t idx[MBX_LANES];
    memcpy(idx, &vi, sizeof idx);
    size_t bytes = (size_t)t->D * 8;
    for (unsigned l = 0; l < MBX_LANES; l++) {
        const char *p = (const char *)(t->table + idx[l]);
        for (size_t o = 0; o < bytes; o += 64)
            _mm_prefetch(p + o, _MM_HINT_T0);
        _mm_prefetch(p + bytes - 1, _MM_HINT_T0);
    }
}

/* b[d] = digit d of each lane's entry: eight digits at a time as rows of an 8 x 8 matrix of
 * words, transposed (contiguous loads are far cheaper than gathers), the rest gathered. */
TARGET static void straus_load(const mbx_straus *t, __m512i *b, __m512i vi)
{
    uint64_t idx[MBX_LANES];
    memcpy(idx, &vi, sizeof idx);
    const uint64_t *p[MBX_LANES];
    for (unsigned l = 0; l < MBX_LANES; l++)
        p[l] = t->table + idx[l];
    const __m512i lo = _mm512_set_epi64(13, 12, 5, 4, 9, 8, 1, 0);
    const __m512i hi = _mm512_set_epi64(15, 14, 7, 6, 11, 10, 3, 2);
    unsigned d = 0;
    for (; d + 8 <= t->D; d += 8) {
        __m512i r[MBX_LANES], u[MBX_LANES], v[MBX_LANES];
        for (unsigned l = 0; l < MBX_LANES; l++)
            r[l] = _mm512_loadu_si512((const void *)(p[l] + d));
        for (unsigned l = 0; l < MBX_LANES; l += 2) { /* u: columns 0 2 4 6, v: 1 3 5 7 */
            u[l / 2] = _mm512_unpacklo_epi64(r[l], r[l + 1]);
            v[l / 2] = _mm512_unpackhi_epi64(r[l], r[l + 1]);
        }
        /* rows 0-3 then 4-7 of columns {0, 4} and {2, 6} (from u) and {1, 5}, {3, 7} (v) */
        __m512i a0 = _mm512_permutex2var_epi64(u[0], lo, u[1]);
        __m512i a1 = _mm512_permutex2var_epi64(u[2], lo, u[3]);
        __m512i a2 = _mm512_permutex2var_epi64(u[0], hi, u[1]);
        __m512i a3 = _mm512_permutex2var_epi64(u[2], hi, u[3]);
        __m512i b0 = _mm512_permutex2var_epi64(v[0], lo, v[1]);
        __m512i b1 = _mm512_permutex2var_epi64(v[2], lo, v[3]);
        __m512i b2 = _mm512_permutex2var_epi64(v[0], hi, v[1]);
        __m512i b3 = _mm512_permutex2var_epi64(v[2], hi, v[3]);
        b[d + 0] = _mm512_shuffle_i64x2(a0, a1, 0x44);
        b[d + 4] = _mm512_shuffle_i64x2(a0, a1, 0xee);
        b[d + 2] = _mm512_shuffle_i64x2(a2, a3, 0x44);
        b[d + 6] = _mm512_shuffle_i64x2(a2, a3, 0xee);
        b[d + 1] = _mm512_shuffle_i64x2(b0, b1, 0x44);
        b[d + 5] = _mm512_shuffle_i64x2(b0, b1, 0xee);
        b[d + 3] = _mm512_shuffle_i64x2(b2, b3, 0x44);
        b[d + 7] = _mm512_shuffle_i64x2(b2, b3, 0xee);
    }
    for (; d < t->D; d++)
        b[d] = _mm512_i64gather_epi64(_mm512_add_epi64(vi, _mm512_set1_epi64(d)),
                                      (const void *)t->table, 8);
}

/* The groups' accumulators side by side, so that one base's entries serve every group while
 * they are in cache. */
TARGET static ccz_status straus_impl(const mbx_straus *t, mpz_t *out, const uint16_t *digits,
                                     const size_t *base_of, size_t steps, unsigned groups,
                                     unsigned n, unsigned nwin, unsigned sq)
{
    ctx c;
    CCZ_GUARD(ctx_init(&c, &t->mod, 1, (unsigned)mpz_sizeinbase(t->mod, 2), 1 + (size_t)groups));
    unsigned D = c.D;
    __m512i *acc = c.ext, *b = acc + (size_t)groups * D;
    for (unsigned i = 0; i < D; i++)
        acc[i] = _mm512_setzero_si512();
    acc[0] = _mm512_set1_epi64(1);
    to_mont(&c, acc, acc);
    for (unsigned g = 1; g < groups; g++)
        memcpy(acc + (size_t)g * D, acc, D * sizeof *acc);
    size_t per_win = steps * groups, total = (size_t)nwin * per_win;
    __m512i vi, next = _mm512_setzero_si512();
    bool any = straus_index(t, &vi, digits, base_of, steps, groups, 0);
    for (size_t q = 0; q < total; q++) {
        if (q > 0 && q % per_win == 0)
            for (unsigned g = 0; g < groups; g++)
                for (unsigned r = 0; r < sq; r++)
                    ams(acc + (size_t)g * D, acc + (size_t)g * D, c.m, c.k0, D, c.tmp);
        bool any_next =
            q + 1 < total && straus_index(t, &next, digits, base_of, steps, groups, q + 1);
        if (any_next)
            straus_prefetch(t, next);
        if (any) {
            __m512i *a = acc + (q % groups) * D;
            straus_load(t, b, vi);
            amm(a, a, b, c.m, c.k0, D, c.tmp);
        }
        vi = next;
        any = any_next;
    }
    for (unsigned g = 0; g < groups && g * MBX_LANES < n; g++) {
        unsigned m = n - g * MBX_LANES < MBX_LANES ? n - g * MBX_LANES : MBX_LANES;
        from_mont(&c, out + (size_t)g * MBX_LANES, m, acc + (size_t)g * D);
    }
    ctx_free(&c);
    return CCZ_OK;
}

ccz_status mbx_straus_run(const mbx_straus *t, mpz_t *out, const uint16_t *digits,
                          const size_t *base_of, size_t steps, unsigned groups, unsigned n,
                          unsigned nwin, unsigned sq)
{
    CCZ_ENSURE(groups >= 1 && groups <= 4096 && n >= 1 && n <= groups * MBX_LANES && nwin >= 1 &&
                   steps >= 1 && sq >= 1 && sq <= 16,
               CCZ_ERR_INVALID_ARGUMENT, "bad multi-buffer request");
    return straus_impl(t, out, digits, base_of, steps, groups, n, nwin, sq);
}

/* ---- the bases' inverses for Straus's tables (Montgomery's trick, eight chains in the lanes) ---*/

TARGET static ccz_status straus_inverses_impl(mpz_t *inv, const mpz_t *x, size_t k, const mpz_t mod,
                                              bool *ok)
{
    size_t m = (k + MBX_LANES - 1) / MBX_LANES;
    mpz_t mods[1], one, pr[MBX_LANES];
    *mods[0] = *mod; /* read-only view */
    ctx c;
    CCZ_GUARD(ctx_init(&c, (const mpz_t *)mods, 1, (unsigned)mpz_sizeinbase(mod, 2), 2));
    unsigned D = c.D;
    __m512i *q = c.ext, *r = q + D;
    /* X[j]: numbers 8 j .. 8 j + 7 (lane l: number 8 j + l), P[j] = X[0] ... X[j] lane-wise */
    __m512i *X = aligned_alloc(64, 2 * m * D * sizeof *X), *P = X ? X + m * D : NULL;
    if (!X) {
        ctx_free(&c);
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    }
    mpz_init_set_ui(one, 1);
    for (unsigned l = 0; l < MBX_LANES; l++)
        mpz_init(pr[l]);
    for (size_t j = 0; j < m; j++) {
        unsigned n = k - j * MBX_LANES < MBX_LANES ? (unsigned)(k - j * MBX_LANES) : MBX_LANES;
        load_lanes(X + j * D, D, x + j * MBX_LANES, n, one, c.scratch);
        to_mont(&c, X + j * D, X + j * D);
        if (j == 0)
            memcpy(P, X, D * sizeof *P);
        else
            amm(P + j * D, P + (j - 1) * D, X + j * D, c.m, c.k0, D, c.tmp);
    }
    from_mont(&c, pr, MBX_LANES, P + (m - 1) * D);
    *ok = true;
    for (unsigned l = 0; l < MBX_LANES; l++)
        *ok &= mpz_invert(pr[l], pr[l], mod) != 0;
    if (*ok) {
        /* q = (X[0] ... X[j])^-1 walks down: X[j]^-1 = q P[j - 1], then q X[j] */
        load_lanes(q, D, (const mpz_t *)pr, MBX_LANES, one, c.scratch);
        to_mont(&c, q, q);
        for (size_t j = m - 1; j > 0; j--) {
            unsigned n = k - j * MBX_LANES < MBX_LANES ? (unsigned)(k - j * MBX_LANES) : MBX_LANES;
            amm(r, q, P + (j - 1) * D, c.m, c.k0, D, c.tmp);
            from_mont(&c, inv + j * MBX_LANES, n, r);
            amm(q, q, X + j * D, c.m, c.k0, D, c.tmp);
        }
        from_mont(&c, inv, k < MBX_LANES ? (unsigned)k : MBX_LANES, q);
    }
    for (unsigned l = 0; l < MBX_LANES; l++)
        mpz_clear(pr[l]);
    mpz_clear(one);
    free(X);
    ctx_free(&c);
    return CCZ_OK;
}

ccz_status mbx_straus_inverses(mpz_t *inv, const mpz_t *x, size_t k, const mpz_t mod, bool *ok)
{
    *ok = false;
    CCZ_ENSURE(mbx_available(), CCZ_ERR_UNSUPPORTED, "this CPU has no AVX-512 IFMA");
    CCZ_ENSURE(k >= 1 && k <= ((size_t)1 << 24) && mpz_odd_p(mod) && mpz_sizeinbase(mod, 2) <= 8192,
               CCZ_ERR_INVALID_ARGUMENT, "bad multi-buffer request");
    for (size_t i = 0; i < k; i++)
        CCZ_ENSURE(mpz_sgn(x[i]) > 0 && mpz_cmp(x[i], mod) < 0, CCZ_ERR_INVALID_ARGUMENT,
                   "number %zu is not in [1, m)", i);
    return straus_inverses_impl(inv, x, k, mod, ok);
}
