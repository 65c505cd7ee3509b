/* SPDX-License-Identifier: Apache-2.0 */
/* Lattice arithmetic: moduli, NTT-friendly primes, and the portable negacyclic NTT.
 * Forward: Cooley-Tukey with psi powers in bit-reversed order, values kept in [0, 4q) between
 * stages (Harvey); inverse: Gentleman-Sande in [0, 2q), n^-1 applied at the end. Both end fully
 * reduced, so every implementation gives the same words. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gmp.h>
#include <time.h>

#include "core/guard.h"
#include "ccz/lattice.h"

#include "lat.h"

void lat_mod_init(lat_mod *m, uint64_t q)
{
    m->q = q;
    /* floor(2^128 / q) = floor((2^128 - 1) / q) for q not a power of two */
    u128 hi = ~(u128)0 / q;
    m->r0 = (uint64_t)hi;
    m->r1 = (uint64_t)(hi >> 64);
    m->bits = 64 - (unsigned)__builtin_clzll(q);
}

uint64_t lat_pow_mod(uint64_t b, uint64_t e, const lat_mod *m)
{
    uint64_t r = 1 % m->q;
    b %= m->q;
    while (e) {
        if (e & 1)
            r = lat_mul_mod(r, b, m);
        b = lat_mul_mod(b, b, m);
        e >>= 1;
    }
    return r;
}

uint64_t lat_inv_mod(uint64_t b, const lat_mod *m)
{
    return lat_pow_mod(b, m->q - 2, m);
}

bool lat_is_prime(uint64_t x)
{
    mpz_t z;
    mpz_init(z);
    mpz_import(z, 1, 1, sizeof x, 0, 0, &x);
    bool p = mpz_probab_prime_p(z, 30) != 0; /* BPSW and more: exact below 2^64 */
    mpz_clear(z);
    return p;
}

ccz_status lat_primes(uint64_t *out, size_t count, unsigned bits, size_t n, const uint64_t *avoid,
                      size_t n_avoid)
{
    CCZ_ENSURE(bits >= 2 && bits <= LAT_MAX_PRIME_BITS, CCZ_ERR_INVALID_ARGUMENT,
               "primes of %u bits: between 2 and %d", bits, LAT_MAX_PRIME_BITS);
    uint64_t step = 2 * (uint64_t)n;
    /* the largest candidate below 2^bits that is 1 mod 2n */
    uint64_t top = (1ull << bits) - 1;
    uint64_t c = top - (top - 1) % step;
    size_t found = 0;
    while (found < count && c > (1ull << (bits - 1))) {
        bool skip = false;
        for (size_t i = 0; i < n_avoid && !skip; i++)
            skip = avoid[i] == c;
        for (size_t i = 0; i < found && !skip; i++)
            skip = out[i] == c;
        if (!skip && lat_is_prime(c))
            out[found++] = c;
        c -= step;
    }
    CCZ_ENSURE(found == count, CCZ_ERR_INVALID_ARGUMENT,
               "there are not %zu primes of %u bits that are 1 mod %llu", count, bits,
               (unsigned long long)step);
    return CCZ_OK;
}

/* ---- NTT tables --------------------------------------------------------------------------------*/

static unsigned bitrev(unsigned x, unsigned bits)
{
    unsigned r = 0;
    for (unsigned i = 0; i < bits; i++, x >>= 1)
        r = (r << 1) | (x & 1);
    return r;
}

/* The smallest primitive 2n-th root of unity modulo q (deterministic tables). */
static ccz_status minimal_root(uint64_t *out, const lat_mod *m, size_t n)
{
    uint64_t q = m->q, order = 2 * (uint64_t)n;
    CCZ_ENSURE((q - 1) % order == 0, CCZ_ERR_INVALID_ARGUMENT,
               "q = %llu is not 1 mod 2n = %llu: no negacyclic NTT", (unsigned long long)q,
               (unsigned long long)order);
    uint64_t root = 0;
    for (uint64_t g = 2; g < q && !root; g++) {
        uint64_t c = lat_pow_mod(g, (q - 1) / order, m);
        if (lat_pow_mod(c, order / 2, m) == q - 1) /* order exactly 2n */
            root = c;
    }
    CCZ_ENSURE(root, CCZ_ERR_INVALID_ARGUMENT, "no primitive 2n-th root modulo %llu",
               (unsigned long long)q);
    /* all primitive 2n-th roots are root^k for odd k; take the smallest */
    uint64_t sq = lat_mul_mod(root, root, m), cur = root, best = root;
    for (uint64_t k = 1; k < order; k += 2) {
        if (cur < best)
            best = cur;
        cur = lat_mul_mod(cur, sq, m);
    }
    *out = best;
    return CCZ_OK;
}

/* The inverse transform without its corrections (lat_avx512.c, inverse_fused with `grow`): the
 * Gentleman-Sande stage s = 0 .. L - 1 (n = 2^L, butterflies 2^s apart) maps x, y to x + y and
 * (x - y + K_s) w, the product by Shoup's method with 52-bit constants (IFMA), which gives a value
 * in [0, 2q) for any multiplicand below 2^52. The inputs may be below 2q, as the other paths
 * allow. With K_s = 2^(s + 1) q, every value entering stage s is below B_s = 2^(s + 1) q:
 * B_0 = 2q; the sums are below 2 B_s = B_(s + 1), the products below 2q <= B_(s + 1); and
 * x - y + K_s lies in [K_s - B_s + 1, B_s + K_s), that is in [1, 2^(s + 2) q). The largest
 * multiplicands are the last stage's (s = L - 1): x + y, taken times n^-1, and x - y + K_(L - 1),
 * times n^-1 psi^-1, both below 2^(L + 1) q; their products, in [0, 2q), are reduced once. So
 * the rule is 2^(L + 1) q <= 2^52, and no looser one holds: with every input 2q - 1, the words
 * at 0 and n/2 after L - 1 stages are the sums of their halves, (n/2)(2q - 1) each, and the last
 * sum is n (2q - 1). (Equality cannot happen for q odd.) The batching NTT modulo a 20-bit t
 * qualifies up to N = 2^31; a 30-bit prime up to 2^21. */
static bool inverse_may_grow(uint64_t q, unsigned log_n)
{
    return q < LAT_SHOUP52_LIMIT && q <= (1ull << 51) >> log_n;
}

static ccz_status check_degree(unsigned log_n)
{
    CCZ_ENSURE(log_n >= LAT_MIN_LOG_N && log_n <= LAT_MAX_LOG_N, CCZ_ERR_INVALID_ARGUMENT,
               "degree 2^%u is out of range (2^%d to 2^%d)", log_n, LAT_MIN_LOG_N, LAT_MAX_LOG_N);
    return CCZ_OK;
}

ccz_status lat_ntt_init(lat_ntt *t, uint64_t q, unsigned log_n)
{
    memset(t, 0, sizeof *t);
    CCZ_GUARD(check_degree(log_n));
    CCZ_ENSURE(q > 2 && q < (1ull << LAT_MAX_PRIME_BITS) && lat_is_prime(q),
               CCZ_ERR_INVALID_ARGUMENT, "%llu is not an odd prime below 2^61",
               (unsigned long long)q);
    lat_mod_init(&t->mod, q);
    t->n = (size_t)1 << log_n;
    t->log_n = log_n;
    CCZ_GUARD(minimal_root(&t->psi, &t->mod, t->n));
    size_t n = t->n;
    uint64_t *mem = aligned_alloc(64, 12 * n * sizeof *mem);
    CCZ_ENSURE(mem, CCZ_ERR_NOMEM, "out of memory");
    t->root = mem;
    t->root_s = mem + n;
    t->iroot = mem + 2 * n;
    t->iroot_s = mem + 3 * n;
    uint64_t ipsi = lat_inv_mod(t->psi, &t->mod);
    uint64_t p = 1, ip = 1;
    for (size_t i = 0; i < n; i++) { /* psi^i at position bitrev(i) */
        unsigned r = bitrev((unsigned)i, log_n);
        t->root[r] = p;
        t->iroot[r] = ip;
        p = lat_mul_mod(p, t->psi, &t->mod);
        ip = lat_mul_mod(ip, ipsi, &t->mod);
    }
    for (size_t i = 0; i < n; i++) {
        t->root_s[i] = lat_shoup(t->root[i], q);
        t->iroot_s[i] = lat_shoup(t->iroot[i], q);
    }
    t->n_inv = lat_inv_mod(n % q, &t->mod);
    t->n_inv_s = lat_shoup(t->n_inv, q);
    t->last_w = lat_mul_mod(t->iroot[1], t->n_inv, &t->mod);
    t->last_w_s = lat_shoup(t->last_w, q);
    t->last_w_s52 = (uint64_t)(((u128)t->last_w << 52) / q);
    t->inv_grow = inverse_may_grow(q, log_n);
    if (q < (1ull << 50)) {
        t->root_s52 = mem + 4 * n;
        t->iroot_s52 = mem + 5 * n;
        for (size_t i = 0; i < n; i++) {
            t->root_s52[i] = (uint64_t)(((u128)t->root[i] << 52) / q);
            t->iroot_s52[i] = (uint64_t)(((u128)t->iroot[i] << 52) / q);
        }
        t->n_inv_s52 = (uint64_t)(((u128)t->n_inv << 52) / q);
    }
    for (int d = 0; d < 2; d++) {
        const uint64_t *r = d ? t->iroot : t->root;
        t->sp[d] = mem + (6 + 3 * d) * n;
        t->sp_s[d] = mem + (7 + 3 * d) * n;
        t->sp_s52[d] = q < (1ull << 50) ? mem + (8 + 3 * d) * n : NULL;
        for (size_t k = 0; k < n / 16; k++)
            for (size_t l = 0; l < 8; l++) {
                t->sp[d][8 * k + l] = r[n / 8 + 2 * k + l / 4];
                t->sp[d][n / 2 + 8 * k + l] = r[n / 4 + 4 * k + l / 2];
            }
        for (size_t i = 0; i < (n >= 16 ? n : 0); i++) {
            t->sp_s[d][i] = lat_shoup(t->sp[d][i], q);
            if (t->sp_s52[d])
                t->sp_s52[d][i] = (uint64_t)(((u128)t->sp[d][i] << 52) / q);
        }
    }
    return CCZ_OK;
}

void lat_ntt_free(lat_ntt *t)
{
    free(t->root);
    memset(t, 0, sizeof *t);
}

/* ---- portable transforms -----------------------------------------------------------------------*/

void lat_ntt_forward_portable(const lat_ntt *t, uint64_t *a)
{
    const uint64_t q = t->mod.q, q2 = 2 * q;
    size_t n = t->n, gap = n;
    for (size_t m = 1; m < n; m <<= 1) {
        gap >>= 1;
        for (size_t i = 0; i < m; i++) {
            uint64_t w = t->root[m + i], ws = t->root_s[m + i];
            uint64_t *x = a + 2 * i * gap, *y = x + gap;
            for (size_t j = 0; j < gap; j++) {
                uint64_t u = x[j];
                u -= u >= q2 ? q2 : 0;
                uint64_t v = lat_mul_shoup_lazy(y[j], w, ws, q);
                x[j] = u + v;
                y[j] = u - v + q2;
            }
        }
    }
    for (size_t j = 0; j < n; j++) {
        uint64_t u = a[j];
        u -= u >= q2 ? q2 : 0;
        a[j] = u >= q ? u - q : u;
    }
}

void lat_ntt_inverse_portable(const lat_ntt *t, uint64_t *a)
{
    const uint64_t q = t->mod.q, q2 = 2 * q;
    size_t n = t->n, gap = 1;
    for (size_t m = n >> 1; m > 1; m >>= 1) {
        for (size_t i = 0; i < m; i++) {
            uint64_t w = t->iroot[m + i], ws = t->iroot_s[m + i];
            uint64_t *x = a + 2 * i * gap, *y = x + gap;
            for (size_t j = 0; j < gap; j++) {
                uint64_t u = x[j], v = y[j];
                uint64_t s = u + v;
                x[j] = s >= q2 ? s - q2 : s;
                y[j] = lat_mul_shoup_lazy(u - v + q2, w, ws, q);
            }
        }
        gap <<= 1;
    }
    /* the last stage with n^-1 folded into both outputs */
    uint64_t *x = a, *y = a + gap;
    for (size_t j = 0; j < gap; j++) {
        uint64_t u = x[j], v = y[j];
        x[j] = lat_mul_shoup(u + v, t->n_inv, t->n_inv_s, q);
        y[j] = lat_mul_shoup(u - v + q2, t->last_w, t->last_w_s, q);
    }
}

void lat_ntt_forward(const lat_ntt *t, uint64_t *a)
{
    if (t->n >= 16 && lat_avx512())
        lat_ntt_forward_avx512(t, a);
    else
        lat_ntt_forward_portable(t, a);
}

void lat_ntt_inverse(const lat_ntt *t, uint64_t *a)
{
    if (t->n >= 16 && lat_avx512())
        lat_ntt_inverse_avx512(t, a);
    else
        lat_ntt_inverse_portable(t, a);
}

const char *ccz_lattice_simd(void)
{
    return lat_ifma() ? "avx512-ifma" : lat_avx512() ? "avx512" : "portable";
}

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

ccz_status ccz_lattice_ntt_bench(double *fwd_us, double *inv_us, unsigned log_n,
                                 unsigned prime_bits, double seconds)
{
    uint64_t q;
    lat_ntt t;
    CCZ_GUARD(check_degree(log_n)); /* before 1 << log_n: at 63 the primes' step 2N wraps to 0 */
    CCZ_GUARD(lat_primes(&q, 1, prime_bits, (size_t)1 << log_n, NULL, 0));
    CCZ_GUARD(lat_ntt_init(&t, q, log_n));
    uint64_t *a = aligned_alloc(64, t.n * 8);
    if (!a) {
        lat_ntt_free(&t);
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < t.n; i++)
        a[i] = (i * 7919) % q;
    for (int dir = 0; dir < 2; dir++) {
        double t0 = seconds_now(), now;
        long k = 0;
        do {
            for (int r = 0; r < 16; r++)
                dir ? lat_ntt_inverse(&t, a) : lat_ntt_forward(&t, a);
            k += 16;
            now = seconds_now();
        } while (now - t0 < seconds);
        *(dir ? inv_us : fwd_us) = 1e6 * (now - t0) / (double)k;
    }
    free(a);
    lat_ntt_free(&t);
    return CCZ_OK;
}

/* ---- vector kernels ---------------------------------------------------------------------------*/

void lat_vec_add(uint64_t *out, const uint64_t *a, const uint64_t *b, size_t n, uint64_t q)
{
    if (n >= 8 && lat_avx512()) {
        lat_vec_add_avx512(out, a, b, n, q);
        return;
    }
    for (size_t x = 0; x < n; x++)
        out[x] = lat_add_mod(a[x], b[x], q);
}

void lat_vec_sub(uint64_t *out, const uint64_t *a, const uint64_t *b, size_t n, uint64_t q)
{
    if (n >= 8 && lat_avx512()) {
        lat_vec_sub_avx512(out, a, b, n, q);
        return;
    }
    for (size_t x = 0; x < n; x++)
        out[x] = lat_sub_mod(a[x], b[x], q);
}

void lat_vec_mul_w(uint64_t *out, const uint64_t *a, const uint64_t *w, const uint64_t *ws,
                   size_t n, uint64_t q)
{
    if (n >= 8 && lat_avx512()) {
        lat_vec_mul_w_avx512(out, NULL, a, w, ws, n, q);
        return;
    }
    for (size_t x = 0; x < n; x++)
        out[x] = lat_mul_shoup_w(a[x], w[x], ws[x], q);
}

void lat_vec_mul_w_add(uint64_t *acc, const uint64_t *a, const uint64_t *w, const uint64_t *ws,
                       size_t n, uint64_t q)
{
    if (n >= 8 && lat_avx512()) {
        lat_vec_mul_w_avx512(acc, acc, a, w, ws, n, q);
        return;
    }
    for (size_t x = 0; x < n; x++)
        acc[x] = lat_add_mod(acc[x], lat_mul_shoup_w(a[x], w[x], ws[x], q), q);
}

bool lat_vec_scatter_lines(uint64_t *out, const uint64_t *v, const uint32_t *line,
                           const uint8_t *lane, size_t n, uint64_t bound)
{
    if (lat_avx512())
        return lat_vec_scatter_lines_avx512(out, v, line, lane, n, bound);
    size_t m = n / 16;
    uint64_t above = 0;
    for (size_t g = 0; g < n / 8; g++)
        for (size_t l = 0; l < 8; l++) {
            uint64_t x = v[g / m * (n / 2) + g % m + lane[8 * g + l] * m];
            above |= x >= bound;
            out[line[g] + l] = x;
        }
    return !above;
}

void lat_vec_shoup(uint64_t *ws, const uint64_t *w, size_t n, uint64_t q)
{
    for (size_t x = 0; x < n; x++)
        ws[x] = lat_shoup_w(w[x], q);
}

void lat_vec_mulmod(uint64_t *out, const uint64_t *a, const uint64_t *b, size_t n, const lat_mod *m)
{
    if (n >= 8 && m->q < LAT_SHOUP52_LIMIT && lat_ifma()) {
        lat_vec_mulmod_avx512(out, a, b, n, m);
        return;
    }
    for (size_t x = 0; x < n; x++)
        out[x] = lat_mul_mod(a[x], b[x], m);
}

void lat_vec_dot_c(uint64_t *out, const uint64_t *const *a, const uint64_t *c, const uint64_t *cs,
                   unsigned k, uint64_t k0, size_t n, uint64_t q)
{
    if (n >= 8 && lat_avx512()) {
        lat_vec_dot_c_avx512(out, a, c, cs, k, k0, n, q);
        return;
    }
    for (size_t x = 0; x < n; x++) {
        uint64_t s = k0;
        for (unsigned i = 0; i < k; i++)
            s = lat_add_mod(s, lat_mul_shoup_w(a[i][x], c[i], cs[i], q), q);
        out[x] = s;
    }
}

void lat_vec_round_sum(uint64_t *v, const uint64_t *const *y, const double *inv, unsigned k,
                       size_t n)
{
    if (n >= 8 && lat_avx512()) {
        lat_vec_round_sum_avx512(v, y, inv, k, n);
        return;
    }
    for (size_t x = 0; x < n; x++) {
        double s = 0.5;
        for (unsigned i = 0; i < k; i++)
            s = fma((double)y[i][x], inv[i], s);
        v[x] = (uint64_t)floor(s);
    }
}

void lat_vec_centred_mod(uint64_t *out, const uint64_t *a, uint64_t p, uint64_t cp, size_t n,
                         uint64_t q)
{
    if (n >= 8 && lat_avx512()) {
        lat_vec_centred_mod_avx512(out, a, p, cp, n, q);
        return;
    }
    lat_mod m;
    lat_mod_init(&m, q);
    uint64_t half = p >> 1;
    for (size_t x = 0; x < n; x++) {
        uint64_t r = lat_reduce64(a[x], &m);
        out[x] = a[x] > half ? lat_sub_mod(r, cp, q) : r;
    }
}

void lat_vec_sub_mul_c(uint64_t *out, const uint64_t *a, const uint64_t *b, uint64_t c, uint64_t cs,
                       size_t n, uint64_t q)
{
    if (n >= 8 && lat_avx512()) {
        lat_vec_sub_mul_c_avx512(out, a, b, c, cs, n, q);
        return;
    }
    for (size_t x = 0; x < n; x++)
        out[x] = lat_mul_shoup_w(lat_sub_mod(a[x], b[x], q), c, cs, q);
}

void lat_vec_mul_c_add(uint64_t *acc, const uint64_t *a, uint64_t c, size_t n, uint64_t q)
{
    uint64_t cs = lat_shoup_w(c, q);
    if (n >= 8 && lat_avx512()) {
        lat_vec_mul_c_add_avx512(acc, a, c, cs, n, q);
        return;
    }
    for (size_t x = 0; x < n; x++)
        acc[x] = lat_add_mod(acc[x], lat_mul_shoup_w(a[x], c, cs, q), q);
}
