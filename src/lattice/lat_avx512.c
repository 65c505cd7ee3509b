/* SPDX-License-Identifier: Apache-2.0 */
/* The negacyclic NTT with AVX-512: eight coefficients per register. Stages whose butterflies are
 * at least eight apart work on whole registers; the last three forward stages (and the first
 * three inverse ones) regroup two registers with permutations so that every lane still does a
 * butterfly. Multiplication by a twiddle is Shoup's: with IFMA for q < 2^50 (52-bit products,
 * values kept below 4q < 2^52), otherwise with 64-bit products assembled from 32-bit ones.
 * Below n = 128 the butterflies are the portable ones, lane for lane, one stage per pass; from
 * 128 on, the fused transforms (below) do several stages per pass with their own lazy bounds.
 * Every path ends fully reduced, so all give the portable transforms' words. */
#include <stdatomic.h>
#include <stdlib.h>

#include <immintrin.h>

#include "core/cpu.h"
#include "lat.h"

#define TARGET __attribute__((target("avx512f,avx512dq,avx512ifma")))
#define INLINE static inline __attribute__((always_inline))

/* Tests turn the vector paths off and on again (lat_set_avx512) while other threads may read */
static atomic_bool forced_portable;

void lat_set_avx512(bool on)
{
    atomic_store_explicit(&forced_portable, !on, memory_order_relaxed);
}

bool lat_avx512(void)
{
    return cpu_has(CPU_AVX512F | CPU_AVX512DQ) &&
           !atomic_load_explicit(&forced_portable, memory_order_relaxed);
}

bool lat_ifma(void)
{
    return lat_avx512() && cpu_has(CPU_AVX512IFMA);
}

/* hi64(a b) for 64-bit lanes */
TARGET INLINE __m512i mulhi64(__m512i a, __m512i b)
{
    const __m512i lo32 = _mm512_set1_epi64(0xffffffff);
    __m512i ah = _mm512_srli_epi64(a, 32), bh = _mm512_srli_epi64(b, 32);
    __m512i ll = _mm512_mul_epu32(a, b), lh = _mm512_mul_epu32(a, bh);
    __m512i hl = _mm512_mul_epu32(ah, b), hh = _mm512_mul_epu32(ah, bh);
    __m512i t = _mm512_add_epi64(_mm512_srli_epi64(ll, 32), _mm512_and_si512(lh, lo32));
    t = _mm512_add_epi64(t, _mm512_and_si512(hl, lo32));
    __m512i r = _mm512_add_epi64(hh, _mm512_srli_epi64(lh, 32));
    r = _mm512_add_epi64(r, _mm512_srli_epi64(hl, 32));
    return _mm512_add_epi64(r, _mm512_srli_epi64(t, 32));
}

/* y w mod q in [0, 2q) (Shoup); ws is floor(w 2^52 / q) with IFMA, floor(w 2^64 / q) without */
TARGET INLINE __m512i mul_lazy(__m512i y, __m512i w, __m512i ws, __m512i q, const int ifma)
{
    if (ifma) {
        const __m512i zero = _mm512_setzero_si512(), m52 = _mm512_set1_epi64((1ll << 52) - 1);
        __m512i qh = _mm512_madd52hi_epu64(zero, y, ws);
        __m512i lo = _mm512_madd52lo_epu64(zero, y, w);
        __m512i t = _mm512_madd52lo_epu64(zero, qh, q);
        return _mm512_and_si512(_mm512_sub_epi64(lo, t), m52);
    }
    __m512i qh = mulhi64(y, ws);
    return _mm512_sub_epi64(_mm512_mullo_epi64(y, w), _mm512_mullo_epi64(qh, q));
}

/* x - m if x >= m */
TARGET INLINE __m512i reduce_once(__m512i x, __m512i m)
{
    return _mm512_min_epu64(x, _mm512_sub_epi64(x, m));
}

/* forward butterfly on registers: x in [0, 4q) -> x', y' in [0, 4q) */
TARGET INLINE void fwd_bfly(__m512i *x, __m512i *y, __m512i w, __m512i ws, __m512i q, __m512i q2,
                            const int ifma)
{
    __m512i u = reduce_once(*x, q2);
    __m512i v = mul_lazy(*y, w, ws, q, ifma);
    *x = _mm512_add_epi64(u, v);
    *y = _mm512_add_epi64(_mm512_sub_epi64(u, v), q2);
}

/* inverse butterfly: x, y in [0, 2q) -> x' = x + y, y' = (x - y) w, both in [0, 2q) */
TARGET INLINE void inv_bfly(__m512i *x, __m512i *y, __m512i w, __m512i ws, __m512i q, __m512i q2,
                            const int ifma)
{
    __m512i u = *x, v = *y;
    *x = reduce_once(_mm512_add_epi64(u, v), q2);
    *y = mul_lazy(_mm512_add_epi64(_mm512_sub_epi64(u, v), q2), w, ws, q, ifma);
}

/* Twiddles for butterflies g apart (g = 4, 2, 1) inside 16 coefficients: each twiddle repeated
 * g times, from the table entries at k, k+1, ... */
TARGET INLINE __m512i spread(const uint64_t *tab, size_t k, unsigned g)
{
    __m512i v = _mm512_loadu_si512(tab + k);
    if (g == 4)
        return _mm512_permutexvar_epi64(_mm512_set_epi64(1, 1, 1, 1, 0, 0, 0, 0), v);
    if (g == 2)
        return _mm512_permutexvar_epi64(_mm512_set_epi64(3, 3, 2, 2, 1, 1, 0, 0), v);
    return v;
}

/* Lanes of x and y in the two registers holding 16 coefficients, for butterflies g apart. */
TARGET INLINE void split(__m512i a, __m512i b, __m512i *x, __m512i *y, unsigned g)
{
    __m512i ix, iy;
    if (g == 4) {
        ix = _mm512_set_epi64(11, 10, 9, 8, 3, 2, 1, 0);
        iy = _mm512_set_epi64(15, 14, 13, 12, 7, 6, 5, 4);
    } else if (g == 2) {
        ix = _mm512_set_epi64(13, 12, 9, 8, 5, 4, 1, 0);
        iy = _mm512_set_epi64(15, 14, 11, 10, 7, 6, 3, 2);
    } else {
        ix = _mm512_set_epi64(14, 12, 10, 8, 6, 4, 2, 0);
        iy = _mm512_set_epi64(15, 13, 11, 9, 7, 5, 3, 1);
    }
    *x = _mm512_permutex2var_epi64(a, ix, b);
    *y = _mm512_permutex2var_epi64(a, iy, b);
}

TARGET INLINE void join(__m512i x, __m512i y, __m512i *a, __m512i *b, unsigned g)
{
    __m512i ia, ib;
    if (g == 4) {
        ia = _mm512_set_epi64(11, 10, 9, 8, 3, 2, 1, 0);
        ib = _mm512_set_epi64(15, 14, 13, 12, 7, 6, 5, 4);
    } else if (g == 2) {
        ia = _mm512_set_epi64(11, 10, 3, 2, 9, 8, 1, 0);
        ib = _mm512_set_epi64(15, 14, 7, 6, 13, 12, 5, 4);
    } else {
        ia = _mm512_set_epi64(11, 3, 10, 2, 9, 1, 8, 0);
        ib = _mm512_set_epi64(15, 7, 14, 6, 13, 5, 12, 4);
    }
    *a = _mm512_permutex2var_epi64(x, ia, y);
    *b = _mm512_permutex2var_epi64(x, ib, y);
}

TARGET INLINE void forward_small(const lat_ntt *t, uint64_t *a, const int ifma)
{
    const uint64_t *rs = ifma ? t->root_s52 : t->root_s;
    const __m512i q = _mm512_set1_epi64((long long)t->mod.q),
                  q2 = _mm512_set1_epi64((long long)(2 * t->mod.q));
    size_t n = t->n, gap = n;
    size_t m = 1;
    for (; m < n && gap > 8; m <<= 1) {
        gap >>= 1;
        for (size_t i = 0; i < m; i++) {
            __m512i w = _mm512_set1_epi64((long long)t->root[m + i]),
                    ws = _mm512_set1_epi64((long long)rs[m + i]);
            uint64_t *x = a + 2 * i * gap, *y = x + gap;
            for (size_t j = 0; j < gap; j += 8) {
                __m512i vx = _mm512_loadu_si512(x + j), vy = _mm512_loadu_si512(y + j);
                fwd_bfly(&vx, &vy, w, ws, q, q2, ifma);
                _mm512_storeu_si512(x + j, vx);
                _mm512_storeu_si512(y + j, vy);
            }
        }
    }
    /* gaps 4, 2, 1: two registers (16 coefficients) at a time */
    for (unsigned g = 4; g >= 1; g >>= 1, m <<= 1) {
        unsigned per = 16 / (2 * g); /* butterfly groups in 16 coefficients */
        for (size_t j = 0, i = 0; j < n; j += 16, i += per) {
            __m512i va = _mm512_loadu_si512(a + j), vb = _mm512_loadu_si512(a + j + 8), x, y;
            split(va, vb, &x, &y, g);
            fwd_bfly(&x, &y, spread(t->root, m + i, g), spread(rs, m + i, g), q, q2, ifma);
            join(x, y, &va, &vb, g);
            _mm512_storeu_si512(a + j, va);
            _mm512_storeu_si512(a + j + 8, vb);
        }
    }
    for (size_t j = 0; j < n; j += 8) {
        __m512i v = _mm512_loadu_si512(a + j);
        v = reduce_once(reduce_once(v, q2), q);
        _mm512_storeu_si512(a + j, v);
    }
}

TARGET INLINE void inverse_small(const lat_ntt *t, uint64_t *a, const int ifma)
{
    const uint64_t *rs = ifma ? t->iroot_s52 : t->iroot_s;
    const __m512i q = _mm512_set1_epi64((long long)t->mod.q),
                  q2 = _mm512_set1_epi64((long long)(2 * t->mod.q));
    size_t n = t->n, m = n >> 1;
    for (unsigned g = 1; g <= 4; g <<= 1, m >>= 1) {
        unsigned per = 16 / (2 * g);
        for (size_t j = 0, i = 0; j < n; j += 16, i += per) {
            __m512i va = _mm512_loadu_si512(a + j), vb = _mm512_loadu_si512(a + j + 8), x, y;
            split(va, vb, &x, &y, g);
            inv_bfly(&x, &y, spread(t->iroot, m + i, g), spread(rs, m + i, g), q, q2, ifma);
            join(x, y, &va, &vb, g);
            _mm512_storeu_si512(a + j, va);
            _mm512_storeu_si512(a + j + 8, vb);
        }
    }
    size_t gap = 8;
    for (; m > 1; m >>= 1, gap <<= 1) {
        for (size_t i = 0; i < m; i++) {
            __m512i w = _mm512_set1_epi64((long long)t->iroot[m + i]),
                    ws = _mm512_set1_epi64((long long)rs[m + i]);
            uint64_t *x = a + 2 * i * gap, *y = x + gap;
            for (size_t j = 0; j < gap; j += 8) {
                __m512i vx = _mm512_loadu_si512(x + j), vy = _mm512_loadu_si512(y + j);
                inv_bfly(&vx, &vy, w, ws, q, q2, ifma);
                _mm512_storeu_si512(x + j, vx);
                _mm512_storeu_si512(y + j, vy);
            }
        }
    }
    /* the last stage (gap n/2) with n^-1 folded in, fully reduced */
    const __m512i ni = _mm512_set1_epi64((long long)t->n_inv),
                  nis = _mm512_set1_epi64((long long)(ifma ? t->n_inv_s52 : t->n_inv_s)),
                  lw = _mm512_set1_epi64((long long)t->last_w),
                  lws = _mm512_set1_epi64((long long)(ifma ? t->last_w_s52 : t->last_w_s));
    uint64_t *x = a, *y = a + gap;
    for (size_t j = 0; j < gap; j += 8) {
        __m512i u = _mm512_loadu_si512(x + j), v = _mm512_loadu_si512(y + j);
        __m512i s = mul_lazy(_mm512_add_epi64(u, v), ni, nis, q, ifma);
        __m512i d = mul_lazy(_mm512_add_epi64(_mm512_sub_epi64(u, v), q2), lw, lws, q, ifma);
        _mm512_storeu_si512(x + j, reduce_once(s, q));
        _mm512_storeu_si512(y + j, reduce_once(d, q));
    }
}

/* ---- fused transforms, n >= 128 ---------------------------------------------------------------
 * The stages go in passes over memory, each doing up to three of them on eight registers (radix 8)
 * before storing them: with n = 2^L, the forward transform's first L - 3 stages (butterflies 8 or
 * more apart, whole registers) in passes of 3 or 2 stages, then its last three on 128 coefficients
 * at a time, in eight pairs of registers whose layout goes from one stage to the next by one
 * permutation per register, the twiddles of each stage loaded as vectors (lat_ntt's sp tables),
 * the final reduction fused in; the inverse transform the other way round, n^-1 folded into its
 * last stage. Values stay below r between stages (forward: below 2r before a butterfly reduces
 * x): r = 2q with IFMA, whose products are in [0, 2q); r = 4q on the 64-bit path, whose products
 * are only in [0, 4q) (mulw). For small primes (q <= 2^51 / n: lat_ntt's inv_grow) the IFMA
 * inverse makes no correction at all: the sums grow a bit per stage (ibf_g). */

typedef struct {
    __m512i q, r;
} kconst;

/* a twiddle w with its Shoup constant s (52-bit with IFMA); sh = s >> 32 on the 64-bit path */
typedef struct {
    __m512i w, s, sh;
} twid;

TARGET INLINE twid tw_bcast(uint64_t w, uint64_t s, const int ifma)
{
    twid t = {_mm512_set1_epi64((long long)w), _mm512_set1_epi64((long long)s),
              _mm512_set1_epi64(ifma ? 0 : (long long)(s >> 32))};
    return t;
}

TARGET INLINE twid tw_load(const uint64_t *w, const uint64_t *s, const int ifma)
{
    twid t = {_mm512_loadu_si512(w), _mm512_loadu_si512(s), _mm512_setzero_si512()};
    if (!ifma)
        t.sh = _mm512_srli_epi64(t.s, 32);
    return t;
}

/* y w mod q, as y w - Q q with 64-bit products, Q a quotient at most a few below y w / q.
 * IFMA: Q = hi52(y s), Shoup's with 52-bit constants, for y < 2^52: the result is in [0, 2q).
 * 64-bit: Q = hi64(y s) without the product of the low halves and without the carries out of the
 * middle ones, so at most 2 below Shoup's, for any y: in [0, 4q). The empty asm keeps the
 * compiler from distributing the difference into the butterfly's sums (one more operation). */
TARGET INLINE __m512i mulw(__m512i y, twid w, const kconst *k, const int ifma)
{
    __m512i qh;
    if (ifma) {
        qh = _mm512_madd52hi_epu64(_mm512_setzero_si512(), y, w.s);
    } else {
        __m512i yh = _mm512_srli_epi64(y, 32);
        __m512i mid = _mm512_add_epi64(_mm512_srli_epi64(_mm512_mul_epu32(yh, w.s), 32),
                                       _mm512_srli_epi64(_mm512_mul_epu32(y, w.sh), 32));
        qh = _mm512_add_epi64(_mm512_mul_epu32(yh, w.sh), mid);
    }
    __m512i r = _mm512_sub_epi64(_mm512_mullo_epi64(y, w.w), _mm512_mullo_epi64(qh, k->q));
    __asm__("" : "+v"(r));
    return r;
}

/* forward: x, y < 2r -> x + y w, x - y w + r, both below 2r */
TARGET INLINE void fbf(__m512i *x, __m512i *y, twid w, const kconst *k, const int ifma)
{
    __m512i u = _mm512_min_epu64(*x, _mm512_sub_epi64(*x, k->r));
    __m512i v = mulw(*y, w, k, ifma);
    *x = _mm512_add_epi64(u, v);
    *y = _mm512_sub_epi64(_mm512_add_epi64(u, k->r), v);
}

/* inverse: x, y < r -> x + y, (x - y + r) w, both below r */
TARGET INLINE void ibf(__m512i *x, __m512i *y, twid w, const kconst *k, const int ifma)
{
    __m512i s = _mm512_add_epi64(*x, *y);
    __m512i d = _mm512_sub_epi64(_mm512_add_epi64(*x, k->r), *y);
    *x = _mm512_min_epu64(s, _mm512_sub_epi64(s, k->r));
    *y = mulw(d, w, k, ifma);
}

/* inverse with IFMA, growing (lat.c, inverse_may_grow): x, y < K = 2^(s + 1) q at stage s ->
 * x + y < 2K, (x - y + K) w < 2q; without growth (grow = 0), ibf */
TARGET INLINE void ibf_g(__m512i *x, __m512i *y, twid w, __m512i kc, const kconst *k,
                         const int ifma, const int grow)
{
    if (!grow) {
        ibf(x, y, w, k, ifma);
        return;
    }
    __m512i d = _mm512_sub_epi64(_mm512_add_epi64(*x, kc), *y);
    *x = _mm512_add_epi64(*x, *y);
    *y = mulw(d, w, k, 1);
}

/* A fused pass's block: `rows` rows g words apart of `cols` groups of eight columns from p, into
 * v[c][r], and back. */
TARGET INLINE void block_load(__m512i v[2][8], const uint64_t *p, size_t g, size_t rows,
                              size_t cols)
{
#pragma GCC unroll 2
    for (size_t c = 0; c < cols; c++)
#pragma GCC unroll 8
        for (size_t r = 0; r < rows; r++)
            v[c][r] = _mm512_loadu_si512(p + 8 * c + r * g);
}

TARGET INLINE void block_store(__m512i v[2][8], uint64_t *p, size_t g, size_t rows, size_t cols)
{
#pragma GCC unroll 2
    for (size_t c = 0; c < cols; c++)
#pragma GCC unroll 8
        for (size_t r = 0; r < rows; r++)
            _mm512_storeu_si512(p + 8 * c + r * g, v[c][r]);
}

/* Forward stages s .. s + nk - 1 (nk <= 3): rows 1 << nk, g = n >> (s + nk) >= 8 apart, eight
 * columns at a time, the twiddles of each block of rows broadcast once */
TARGET INLINE void fwd_pass(const lat_ntt *t, uint64_t *a, const uint64_t *rs, unsigned s,
                            const unsigned nk, const kconst *k, const int ifma)
{
    const size_t n = t->n, g = n >> (s + nk), rows = (size_t)1 << nk;
    for (size_t i0 = 0; i0 < ((size_t)1 << s); i0++) {
        twid w[7]; /* stage st's twiddles at (1 << st) - 1 */
#pragma GCC unroll 3
        for (unsigned st = 0; st < nk; st++) {
            const size_t nb = (size_t)1 << st; /* outside the loop's test (UBSan's shift check) */
#pragma GCC unroll 4
            for (size_t b = 0; b < nb; b++) {
                size_t i = ((size_t)1 << (s + st)) + (i0 << st) + b;
                w[nb - 1 + b] = tw_bcast(t->root[i], rs[i], ifma);
            }
        }
        uint64_t *p = a + i0 * (n >> s);
        /* two groups of columns side by side when there are (independent chains for the
         * out-of-order core: a butterfly's latency is about 11 cycles) */
        const size_t cols = g >= 16 ? 2 : 1;
        for (size_t j = 0; j < g; j += 8 * cols) {
            __m512i v[2][8];
            block_load(v, p + j, g, rows, cols);
#pragma GCC unroll 3
            for (unsigned st = 0; st < nk; st++) {
                const size_t h = rows >> (st + 1), nb = (size_t)1 << st;
#pragma GCC unroll 4
                for (size_t b = 0; b < nb; b++)
#pragma GCC unroll 4
                    for (size_t r = 0; r < h; r++)
#pragma GCC unroll 2
                        for (size_t c = 0; c < cols; c++)
                            fbf(&v[c][2 * h * b + r], &v[c][2 * h * b + r + h], w[nb - 1 + b], k,
                                ifma);
            }
            block_store(v, p + j, g, rows, cols);
        }
    }
}

/* The forward transform's last three stages (butterflies 4, 2, 1 apart) on a[128 b, 128 b + 128),
 * fully reduced at the end: eight pairs of registers, each stage done on the eight before the next
 * (independent work side by side) */
TARGET INLINE void fwd_last3(const lat_ntt *t, uint64_t *a, const uint64_t *rs, const uint64_t *sps,
                             size_t b, const kconst *k, const int ifma)
{
    const size_t n = t->n, o = 64 * b; /* twiddle vectors: 8 per 16 coefficients */
    const __m512i p2a = _mm512_set_epi64(13, 12, 5, 4, 9, 8, 1, 0),
                  p2b = _mm512_set_epi64(15, 14, 7, 6, 11, 10, 3, 2),
                  pja = _mm512_set_epi64(11, 3, 10, 2, 9, 1, 8, 0),
                  pjb = _mm512_set_epi64(15, 7, 14, 6, 13, 5, 12, 4),
                  q2 = _mm512_add_epi64(k->q, k->q);
    uint64_t *p = a + 128 * b;
    __m512i x[8], y[8];
#pragma GCC unroll 8
    for (int c = 0; c < 8; c++) { /* gap 4: halves of the two registers */
        __m512i lo = _mm512_loadu_si512(p + 16 * c), hi = _mm512_loadu_si512(p + 16 * c + 8);
        x[c] = _mm512_shuffle_i64x2(lo, hi, 0x44);
        y[c] = _mm512_shuffle_i64x2(lo, hi, 0xee);
        fbf(&x[c], &y[c], tw_load(t->sp[0] + o + 8 * c, sps + o + 8 * c, ifma), k, ifma);
    }
#pragma GCC unroll 8
    for (int c = 0; c < 8; c++) { /* gap 2 */
        __m512i x2 = _mm512_permutex2var_epi64(x[c], p2a, y[c]),
                y2 = _mm512_permutex2var_epi64(x[c], p2b, y[c]);
        fbf(&x2, &y2, tw_load(t->sp[0] + n / 2 + o + 8 * c, sps + n / 2 + o + 8 * c, ifma), k,
            ifma);
        x[c] = _mm512_unpacklo_epi64(x2, y2);
        y[c] = _mm512_unpackhi_epi64(x2, y2);
    }
#pragma GCC unroll 8
    for (int c = 0; c < 8; c++) { /* gap 1: even and odd coefficients */
        fbf(&x[c], &y[c], tw_load(t->root + n / 2 + o + 8 * c, rs + n / 2 + o + 8 * c, ifma), k,
            ifma);
        __m512i lo = _mm512_permutex2var_epi64(x[c], pja, y[c]),
                hi = _mm512_permutex2var_epi64(x[c], pjb, y[c]);
        if (!ifma) { /* below 2r = 8q */
            lo = reduce_once(lo, k->r);
            hi = reduce_once(hi, k->r);
        }
        _mm512_storeu_si512(p + 16 * c, reduce_once(reduce_once(lo, q2), k->q));
        _mm512_storeu_si512(p + 16 * c + 8, reduce_once(reduce_once(hi, q2), k->q));
    }
}

/* how many stages a pass takes when `left` remain: threes, and twos rather than a one */
static unsigned pass_stages(unsigned left)
{
    return left >= 5 || left == 3 ? 3 : left >= 2 ? 2 : 1;
}

TARGET INLINE void forward_fused(const lat_ntt *t, uint64_t *a, const int ifma)
{
    const uint64_t *rs = ifma ? t->root_s52 : t->root_s, *sps = ifma ? t->sp_s52[0] : t->sp_s[0];
    const kconst k = {_mm512_set1_epi64((long long)t->mod.q),
                      _mm512_set1_epi64((long long)((ifma ? 2 : 4) * t->mod.q))};
    for (unsigned s = 0, nk; s < t->log_n - 3; s += nk) {
        nk = pass_stages(t->log_n - 3 - s);
        if (nk == 3)
            fwd_pass(t, a, rs, s, 3, &k, ifma);
        else if (nk == 2)
            fwd_pass(t, a, rs, s, 2, &k, ifma);
        else
            fwd_pass(t, a, rs, s, 1, &k, ifma);
    }
    for (size_t b = 0; b < t->n / 128; b++)
        fwd_last3(t, a, rs, sps, b, &k, ifma);
}

/* The inverse transform's first three stages (butterflies 1, 2, 4 apart) on a[128 b, 128 b + 128),
 * as fwd_last3 */
TARGET INLINE void inv_first3(const lat_ntt *t, uint64_t *a, const uint64_t *rs,
                              const uint64_t *sps, size_t b, const kconst *k, const int ifma,
                              const int grow)
{
    const size_t n = t->n, o = 64 * b;
    const __m512i pev = _mm512_set_epi64(14, 12, 10, 8, 6, 4, 2, 0),
                  pod = _mm512_set_epi64(15, 13, 11, 9, 7, 5, 3, 1),
                  p4a = _mm512_set_epi64(13, 12, 5, 4, 9, 8, 1, 0),
                  p4b = _mm512_set_epi64(15, 14, 7, 6, 11, 10, 3, 2);
    uint64_t *p = a + 128 * b;
    const __m512i k1 = _mm512_add_epi64(k->q, k->q), k2 = _mm512_add_epi64(k1, k1),
                  k4 = _mm512_add_epi64(k2, k2); /* growing: K of stages 0, 1, 2 */
    __m512i x[8], y[8];
#pragma GCC unroll 8
    for (int c = 0; c < 8; c++) { /* gap 1 */
        __m512i lo = _mm512_loadu_si512(p + 16 * c), hi = _mm512_loadu_si512(p + 16 * c + 8);
        x[c] = _mm512_permutex2var_epi64(lo, pev, hi);
        y[c] = _mm512_permutex2var_epi64(lo, pod, hi);
        ibf_g(&x[c], &y[c], tw_load(t->iroot + n / 2 + o + 8 * c, rs + n / 2 + o + 8 * c, ifma), k1,
              k, ifma, grow);
    }
#pragma GCC unroll 8
    for (int c = 0; c < 8; c++) { /* gap 2 */
        __m512i x2 = _mm512_unpacklo_epi64(x[c], y[c]), y2 = _mm512_unpackhi_epi64(x[c], y[c]);
        ibf_g(&x2, &y2, tw_load(t->sp[1] + n / 2 + o + 8 * c, sps + n / 2 + o + 8 * c, ifma), k2, k,
              ifma, grow);
        x[c] = _mm512_permutex2var_epi64(x2, p4a, y2);
        y[c] = _mm512_permutex2var_epi64(x2, p4b, y2);
    }
#pragma GCC unroll 8
    for (int c = 0; c < 8; c++) { /* gap 4 */
        ibf_g(&x[c], &y[c], tw_load(t->sp[1] + o + 8 * c, sps + o + 8 * c, ifma), k4, k, ifma,
              grow);
        _mm512_storeu_si512(p + 16 * c, _mm512_shuffle_i64x2(x[c], y[c], 0x44));
        _mm512_storeu_si512(p + 16 * c + 8, _mm512_shuffle_i64x2(x[c], y[c], 0xee));
    }
}

/* Inverse stages with butterflies g, 2g, ... (nk <= 3 of them, g >= 8) apart; the transform's
 * last one (n / 2 apart) takes n^-1 and reduces fully. */
TARGET INLINE void inv_pass(const lat_ntt *t, uint64_t *a, const uint64_t *rs, size_t g,
                            const unsigned nk, const kconst *k, const int ifma, const int grow)
{
    const size_t n = t->n, rows = (size_t)1 << nk, span = g << nk;
    const bool last = span == n;
    const __m512i q2 = _mm512_add_epi64(k->q, k->q);
    __m512i kc[3]; /* growing: stage st's K = 2 g q 2^st (stage log2(g) + st, see ibf_g) */
    kc[0] = _mm512_set1_epi64((long long)(2 * g * t->mod.q));
    kc[1] = _mm512_add_epi64(kc[0], kc[0]);
    kc[2] = _mm512_add_epi64(kc[1], kc[1]);
    for (size_t i0 = 0; i0 < n / span; i0++) {
        twid w[7]; /* stage st's twiddles at rows - (rows >> st) */
#pragma GCC unroll 3
        for (unsigned st = 0; st < nk; st++) {
            size_t cnt = rows >> (st + 1), m = n / (2 * (g << st));
#pragma GCC unroll 4
            for (size_t b = 0; b < cnt; b++) {
                size_t i = m + i0 * cnt + b;
                w[(rows - 2 * cnt) + b] = tw_bcast(t->iroot[i], rs[i], ifma);
            }
        }
        twid ni = w[0], lw = w[0];
        if (last) {
            ni = tw_bcast(t->n_inv, ifma ? t->n_inv_s52 : t->n_inv_s, ifma);
            lw = tw_bcast(t->last_w, ifma ? t->last_w_s52 : t->last_w_s, ifma);
        }
        uint64_t *p = a + i0 * span;
        const size_t cols = g >= 16 ? 2 : 1; /* as in fwd_pass */
        for (size_t j = 0; j < g; j += 8 * cols) {
            __m512i v[2][8];
            block_load(v, p + j, g, rows, cols);
#pragma GCC unroll 3
            for (unsigned st = 0; st < nk; st++) {
                const size_t h = (size_t)1 << st, cnt = rows >> (st + 1);
                if (last && st == nk - 1) { /* x, y < r: x + y < 2r fits IFMA's 52 bits */
#pragma GCC unroll 4
                    for (size_t r = 0; r < h; r++)
#pragma GCC unroll 2
                        for (size_t c = 0; c < cols; c++) {
                            __m512i x = v[c][r], y = v[c][r + h];
                            __m512i sx = mulw(_mm512_add_epi64(x, y), ni, k, ifma),
                                    dy = mulw(_mm512_sub_epi64(
                                                  _mm512_add_epi64(x, grow ? kc[st] : k->r), y),
                                              lw, k, ifma);
                            if (!ifma) {
                                sx = reduce_once(sx, q2);
                                dy = reduce_once(dy, q2);
                            }
                            v[c][r] = reduce_once(sx, k->q);
                            v[c][r + h] = reduce_once(dy, k->q);
                        }
                    break;
                }
#pragma GCC unroll 4
                for (size_t b = 0; b < cnt; b++)
#pragma GCC unroll 4
                    for (size_t r = 0; r < h; r++)
#pragma GCC unroll 2
                        for (size_t c = 0; c < cols; c++)
                            ibf_g(&v[c][2 * h * b + r], &v[c][2 * h * b + r + h],
                                  w[(rows - 2 * cnt) + b], kc[st], k, ifma, grow);
            }
            block_store(v, p + j, g, rows, cols);
        }
    }
}

TARGET INLINE void inverse_fused(const lat_ntt *t, uint64_t *a, const int ifma, const int grow)
{
    const uint64_t *rs = ifma ? t->iroot_s52 : t->iroot_s, *sps = ifma ? t->sp_s52[1] : t->sp_s[1];
    const kconst k = {_mm512_set1_epi64((long long)t->mod.q),
                      _mm512_set1_epi64((long long)((ifma ? 2 : 4) * t->mod.q))};
    for (size_t b = 0; b < t->n / 128; b++)
        inv_first3(t, a, rs, sps, b, &k, ifma, grow);
    size_t g = 8;
    for (unsigned s = 0, nk; s < t->log_n - 3; s += nk, g <<= nk) {
        nk = pass_stages(t->log_n - 3 - s);
        if (nk == 3)
            inv_pass(t, a, rs, g, 3, &k, ifma, grow);
        else if (nk == 2)
            inv_pass(t, a, rs, g, 2, &k, ifma, grow);
        else
            inv_pass(t, a, rs, g, 1, &k, ifma, grow);
    }
}

TARGET void lat_ntt_forward_avx512(const lat_ntt *t, uint64_t *a)
{
    bool ifma = t->root_s52 && lat_ifma();
    if (t->n < 128)
        ifma ? forward_small(t, a, 1) : forward_small(t, a, 0);
    else if (ifma)
        forward_fused(t, a, 1);
    else
        forward_fused(t, a, 0);
}

TARGET void lat_ntt_inverse_avx512(const lat_ntt *t, uint64_t *a)
{
    bool ifma = t->iroot_s52 && lat_ifma();
    if (t->n < 128)
        ifma ? inverse_small(t, a, 1) : inverse_small(t, a, 0);
    else if (ifma && t->inv_grow)
        inverse_fused(t, a, 1, 1);
    else if (ifma)
        inverse_fused(t, a, 1, 0);
    else
        inverse_fused(t, a, 0, 0);
}

/* ---- vector kernels ---------------------------------------------------------------------------*/

/* Eight groups at a time: eight registers of eight consecutive slots each, N/16 apart, transposed
 * so that each holds one group, permuted into its line's order and stored whole */
TARGET bool lat_vec_scatter_lines_avx512(uint64_t *out, const uint64_t *v, const uint32_t *line,
                                         const uint8_t *lane, size_t n, uint64_t bound)
{
    const size_t m = n / 16;
    const __m512i ia = _mm512_set_epi64(13, 12, 5, 4, 9, 8, 1, 0),
                  ib = _mm512_set_epi64(15, 14, 7, 6, 11, 10, 3, 2);
    __m512i top = _mm512_setzero_si512();
    for (size_t h = 0; h < 2; h++)
        for (size_t j = 0; j < m; j += 8) {
            const uint64_t *src = v + h * (n / 2) + j;
            __m512i r[8], t[8], u[8];
#pragma GCC unroll 8
            for (int i = 0; i < 8; i++) {
                r[i] = _mm512_loadu_si512(src + i * m);
                top = _mm512_max_epu64(top, r[i]);
            }
#pragma GCC unroll 4
            for (int i = 0; i < 8; i += 2) { /* t[i]: rows i, i + 1 at even columns, t[i + 1] odd */
                t[i] = _mm512_unpacklo_epi64(r[i], r[i + 1]);
                t[i + 1] = _mm512_unpackhi_epi64(r[i], r[i + 1]);
            }
#pragma GCC unroll 2
            for (int i = 0; i < 8; i += 4) { /* u[i + c]: rows i .. i + 3 of columns c, c + 4 */
                u[i] = _mm512_permutex2var_epi64(t[i], ia, t[i + 2]);
                u[i + 1] = _mm512_permutex2var_epi64(t[i + 1], ia, t[i + 3]);
                u[i + 2] = _mm512_permutex2var_epi64(t[i], ib, t[i + 2]);
                u[i + 3] = _mm512_permutex2var_epi64(t[i + 1], ib, t[i + 3]);
            }
#pragma GCC unroll 4
            for (int c = 0; c < 4; c++) { /* columns c and c + 4: groups j + c, j + c + 4 */
                r[c] = _mm512_shuffle_i64x2(u[c], u[c + 4], 0x44);
                r[c + 4] = _mm512_shuffle_i64x2(u[c], u[c + 4], 0xee);
            }
#pragma GCC unroll 8
            for (int c = 0; c < 8; c++) {
                size_t g = h * m + j + c;
                __m512i idx =
                    _mm512_cvtepu8_epi64(_mm_loadl_epi64((const __m128i *)(lane + 8 * g)));
                _mm512_storeu_si512(out + line[g], _mm512_permutexvar_epi64(idx, r[c]));
            }
        }
    return _mm512_reduce_max_epu64(top) < bound;
}

TARGET void lat_vec_add_avx512(uint64_t *out, const uint64_t *a, const uint64_t *b, size_t n,
                               uint64_t q)
{
    const __m512i vq = _mm512_set1_epi64((long long)q);
    size_t x = 0;
    for (; x + 8 <= n; x += 8) {
        __m512i s = _mm512_add_epi64(_mm512_loadu_si512(a + x), _mm512_loadu_si512(b + x));
        _mm512_storeu_si512(out + x, reduce_once(s, vq));
    }
    for (; x < n; x++)
        out[x] = lat_add_mod(a[x], b[x], q);
}

TARGET void lat_vec_sub_avx512(uint64_t *out, const uint64_t *a, const uint64_t *b, size_t n,
                               uint64_t q)
{
    const __m512i vq = _mm512_set1_epi64((long long)q);
    size_t x = 0;
    for (; x + 8 <= n; x += 8) {
        __m512i d = _mm512_add_epi64(
            _mm512_sub_epi64(_mm512_loadu_si512(a + x), _mm512_loadu_si512(b + x)), vq);
        _mm512_storeu_si512(out + x, reduce_once(d, vq));
    }
    for (; x < n; x++)
        out[x] = lat_sub_mod(a[x], b[x], q);
}

/* out = (acc +) a w mod q with Shoup constants ws (52-bit ones below 2^50) */
TARGET void lat_vec_mul_w_avx512(uint64_t *out, const uint64_t *acc, const uint64_t *a,
                                 const uint64_t *w, const uint64_t *ws, size_t n, uint64_t q)
{
    const __m512i vq = _mm512_set1_epi64((long long)q);
    const bool small = q < LAT_SHOUP52_LIMIT, ifma = small && lat_ifma();
    size_t x = 0;
    for (; x + 8 <= n; x += 8) {
        __m512i va = _mm512_loadu_si512(a + x), vw = _mm512_loadu_si512(w + x),
                vs = _mm512_loadu_si512(ws + x), r;
        if (ifma) {
            r = mul_lazy(va, vw, vs, vq, 1);
        } else {
            /* qe = hi64(a' ws) with a' = a << 12 for the 52-bit constants */
            __m512i qe = mulhi64(small ? _mm512_slli_epi64(va, 12) : va, vs);
            r = _mm512_sub_epi64(_mm512_mullo_epi64(va, vw), _mm512_mullo_epi64(qe, vq));
        }
        r = reduce_once(r, vq);
        if (acc)
            r = reduce_once(_mm512_add_epi64(r, _mm512_loadu_si512(acc + x)), vq);
        _mm512_storeu_si512(out + x, r);
    }
    for (; x < n; x++) {
        uint64_t r = lat_mul_shoup_w(a[x], w[x], ws[x], q);
        out[x] = acc ? lat_add_mod(acc[x], r, q) : r;
    }
}

/* a b mod q for q < 2^50: the 104-bit product from IFMA, the quotient from doubles (off by at
 * most one: |error| < q 2^-52 + 2^-50), the remainder modulo 2^52 then corrected */
TARGET void lat_vec_mulmod_avx512(uint64_t *out, const uint64_t *a, const uint64_t *b, size_t n,
                                  const lat_mod *m)
{
    const __m512i vq = _mm512_set1_epi64((long long)m->q), zero = _mm512_setzero_si512(),
                  m52 = _mm512_set1_epi64((1ll << 52) - 1), half52 = _mm512_set1_epi64(1ll << 51);
    const __m512d inv = _mm512_set1_pd(1.0 / (double)m->q);
    size_t x = 0;
    for (; x + 8 <= n; x += 8) {
        __m512i va = _mm512_loadu_si512(a + x), vb = _mm512_loadu_si512(b + x);
        __m512i lo = _mm512_madd52lo_epu64(zero, va, vb);
        __m512d p = _mm512_mul_pd(_mm512_cvtepu64_pd(va), _mm512_cvtepu64_pd(vb));
        __m512d qd =
            _mm512_roundscale_pd(_mm512_mul_pd(p, inv), _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
        __m512i qe = _mm512_cvttpd_epu64(qd);
        __m512i r =
            _mm512_and_si512(_mm512_sub_epi64(lo, _mm512_madd52lo_epu64(zero, qe, vq)), m52);
        /* r in (-q, 2q) modulo 2^52: negative ones are above 2^51 */
        __mmask8 neg = _mm512_cmpge_epu64_mask(r, half52);
        r = _mm512_mask_sub_epi64(r, neg, r, _mm512_sub_epi64(_mm512_set1_epi64(1ll << 52), vq));
        r = _mm512_and_si512(r, m52);
        _mm512_storeu_si512(out + x, reduce_once(r, vq));
    }
    for (; x < n; x++)
        out[x] = lat_mul_mod(a[x], b[x], m);
}

TARGET void lat_vec_mul_c_add_avx512(uint64_t *acc, const uint64_t *a, uint64_t c, uint64_t cs,
                                     size_t n, uint64_t q)
{
    const __m512i vq = _mm512_set1_epi64((long long)q), vc = _mm512_set1_epi64((long long)c),
                  vs = _mm512_set1_epi64((long long)cs);
    const bool small = q < LAT_SHOUP52_LIMIT, ifma = small && lat_ifma();
    size_t x = 0;
    for (; x + 8 <= n; x += 8) {
        __m512i va = _mm512_loadu_si512(a + x), r;
        if (ifma) {
            r = mul_lazy(va, vc, vs, vq, 1);
        } else {
            __m512i qe = mulhi64(small ? _mm512_slli_epi64(va, 12) : va, vs);
            r = _mm512_sub_epi64(_mm512_mullo_epi64(va, vc), _mm512_mullo_epi64(qe, vq));
        }
        r = reduce_once(r, vq);
        r = reduce_once(_mm512_add_epi64(r, _mm512_loadu_si512(acc + x)), vq);
        _mm512_storeu_si512(acc + x, r);
    }
    for (; x < n; x++)
        acc[x] = lat_add_mod(acc[x], lat_mul_shoup_w(a[x], c, cs, q), q);
}

TARGET void lat_vec_dot_c_avx512(uint64_t *out, const uint64_t *const *a, const uint64_t *c,
                                 const uint64_t *cs, unsigned k, uint64_t k0, size_t n, uint64_t q)
{
    const __m512i vq = _mm512_set1_epi64((long long)q), vq2 = _mm512_set1_epi64((long long)(2 * q)),
                  vk0 = _mm512_set1_epi64((long long)k0);
    const bool small = q < LAT_SHOUP52_LIMIT, ifma = small && lat_ifma();
    size_t x = 0;
    for (; x + 8 <= n; x += 8) {
        __m512i acc = vk0; /* below 2q after every term */
        for (unsigned i = 0; i < k; i++) {
            __m512i va = _mm512_loadu_si512(a[i] + x), vc = _mm512_set1_epi64((long long)c[i]),
                    vs = _mm512_set1_epi64((long long)cs[i]), r;
            if (ifma) {
                r = mul_lazy(va, vc, vs, vq, 1);
            } else {
                __m512i qe = mulhi64(small ? _mm512_slli_epi64(va, 12) : va, vs);
                r = _mm512_sub_epi64(_mm512_mullo_epi64(va, vc), _mm512_mullo_epi64(qe, vq));
            }
            acc = reduce_once(_mm512_add_epi64(acc, r), vq2);
        }
        _mm512_storeu_si512(out + x, reduce_once(acc, vq));
    }
    for (; x < n; x++) {
        uint64_t s = k0;
        for (unsigned i = 0; i < k; i++)
            s = lat_add_mod(s, lat_mul_shoup_w(a[i][x], c[i], cs[i], q), q);
        out[x] = s;
    }
}

TARGET void lat_vec_round_sum_avx512(uint64_t *v, const uint64_t *const *y, const double *inv,
                                     unsigned k, size_t n)
{
    size_t x = 0;
    for (; x + 8 <= n; x += 8) {
        __m512d s = _mm512_set1_pd(0.5);
        for (unsigned i = 0; i < k; i++)
            s = _mm512_fmadd_pd(_mm512_cvtepu64_pd(_mm512_loadu_si512(y[i] + x)),
                                _mm512_set1_pd(inv[i]), s);
        s = _mm512_roundscale_pd(s, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
        _mm512_storeu_si512(v + x, _mm512_cvttpd_epu64(s));
    }
    for (; x < n; x++) {
        double s = 0.5;
        for (unsigned i = 0; i < k; i++)
            s = __builtin_fma((double)y[i][x], inv[i], s);
        v[x] = (uint64_t)__builtin_floor(s);
    }
}

/* a mod q, a - p mod q above p / 2 (a < p < 2^62): the quotient from doubles is off by at most
 * one (a / q < 2^48, relative error below 2^-51), so a - qe q is in [-q, 2q) */
TARGET void lat_vec_centred_mod_avx512(uint64_t *out, const uint64_t *a, uint64_t p, uint64_t cp,
                                       size_t n, uint64_t q)
{
    const __m512i vq = _mm512_set1_epi64((long long)q), vcp = _mm512_set1_epi64((long long)cp),
                  half = _mm512_set1_epi64((long long)(p >> 1)), zero = _mm512_setzero_si512();
    const __m512d inv = _mm512_set1_pd(1.0 / (double)q);
    size_t x = 0;
    for (; x + 8 <= n; x += 8) {
        __m512i va = _mm512_loadu_si512(a + x);
        __m512d qd = _mm512_roundscale_pd(_mm512_mul_pd(_mm512_cvtepu64_pd(va), inv),
                                          _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
        __m512i r = _mm512_sub_epi64(va, _mm512_mullo_epi64(_mm512_cvttpd_epu64(qd), vq));
        r = _mm512_mask_add_epi64(r, _mm512_cmplt_epi64_mask(r, zero), r, vq);
        r = reduce_once(r, vq); /* in [q, 2q) where the quotient was one below */
        /* above p / 2: - (p mod q), in [0, q) again */
        r = _mm512_mask_sub_epi64(r, _mm512_cmpgt_epu64_mask(va, half), r, vcp);
        r = _mm512_mask_add_epi64(r, _mm512_cmplt_epi64_mask(r, zero), r, vq);
        _mm512_storeu_si512(out + x, r);
    }
    if (x < n) {
        lat_mod m;
        lat_mod_init(&m, q);
        for (; x < n; x++) {
            uint64_t r = lat_reduce64(a[x], &m);
            out[x] = a[x] > (p >> 1) ? lat_sub_mod(r, cp, q) : r;
        }
    }
}

TARGET void lat_vec_sub_mul_c_avx512(uint64_t *out, const uint64_t *a, const uint64_t *b,
                                     uint64_t c, uint64_t cs, size_t n, uint64_t q)
{
    const __m512i vq = _mm512_set1_epi64((long long)q), vc = _mm512_set1_epi64((long long)c),
                  vs = _mm512_set1_epi64((long long)cs);
    const bool small = q < LAT_SHOUP52_LIMIT, ifma = small && lat_ifma();
    size_t x = 0;
    for (; x + 8 <= n; x += 8) {
        /* a - b + q in [1, 2q): below 2^51 for the 52-bit path */
        __m512i d = _mm512_add_epi64(
                    _mm512_sub_epi64(_mm512_loadu_si512(a + x), _mm512_loadu_si512(b + x)), vq),
                r;
        if (ifma) {
            r = mul_lazy(d, vc, vs, vq, 1);
        } else {
            __m512i qe = mulhi64(small ? _mm512_slli_epi64(d, 12) : d, vs);
            r = _mm512_sub_epi64(_mm512_mullo_epi64(d, vc), _mm512_mullo_epi64(qe, vq));
        }
        _mm512_storeu_si512(out + x, reduce_once(r, vq));
    }
    for (; x < n; x++)
        out[x] = lat_mul_shoup_w(lat_sub_mod(a[x], b[x], q), c, cs, q);
}
