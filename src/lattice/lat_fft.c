/* SPDX-License-Identifier: Apache-2.0 */
/* The CKKS encoder's kernels: the inverse canonical embedding as a complex FFT of size N/2, and
 * the rounding of the scaled coefficients into residues. The slots' evaluation points
 * zeta^(1 + 4t) (t < N/2; zeta = e^(i pi / N)) are zeta w^t with w = zeta^4 an N/2-th root of
 * unity, and zeta^((1 + 4t) N/2) = i for each of them, so m(X) = sum m_k X^k with real m_k is
 * p(X) = sum_{k < N/2} (m_k + i m_{k + N/2}) X^k on those points: p_k zeta^k is the inverse DFT
 * of the values. Portable and AVX-512 (eight lanes of separate real and imaginary parts) do the
 * same floating-point operations in the same order lane for lane (this file is compiled without
 * contraction into fused multiply-adds), so they give the same doubles; the rounding (half away
 * from zero, as round()) and the residues are exact on both. */
#include <math.h>
#include <string.h>

#include <immintrin.h>

#include "core/guard.h"
#include "lattice_internal.h"

#define TARGET __attribute__((target("avx512f,avx512dq")))
#define INLINE static inline __attribute__((always_inline))

/* zeta^e = e^(i pi e / N), each part rounded once from long double */
static double root_re(size_t e, size_t n)
{
    return (double)cosl(3.141592653589793238462643383279502884L * (long double)e / (long double)n);
}

static double root_im(size_t e, size_t n)
{
    return (double)sinl(3.141592653589793238462643383279502884L * (long double)e / (long double)n);
}

ccz_status lat_ckks_fft_init(ccz_lattice_context *ctx)
{
    size_t n = ctx->n, h = n / 2, two_n = 2 * n;
    ctx->ckks_fft = malloc(4 * (h ? h : 1) * sizeof *ctx->ckks_fft);
    ctx->ckks_pos = malloc((h ? h : 1) * sizeof *ctx->ckks_pos);
    CCZ_ENSURE(ctx->ckks_fft && ctx->ckks_pos, CCZ_ERR_NOMEM, "out of memory");
    double *twr = ctx->ckks_fft, *twi = twr + h, *xr = twi + h, *xi = xr + h;
    /* stage of butterflies m apart (m = 1, 2, 4 ... h/2): w_2m^-j = zeta^(-j N / m) at m + j */
    for (size_t m = 1; m < h; m <<= 1)
        for (size_t j = 0; j < m; j++) {
            size_t e = j * (n / m);
            twr[m + j] = root_re(two_n - e, n);
            twi[m + j] = root_im(two_n - e, n);
        }
    if (h) {
        twr[0] = 1;
        twi[0] = 0;
    }
    for (size_t k = 0; k < h; k++) { /* the twist zeta^-k */
        xr[k] = root_re(two_n - k, n);
        xi[k] = root_im(two_n - k, n);
    }
    unsigned log_h = ctx->log_n - 1;
    uint64_t g = 1;
    for (size_t j = 0; j < h; j++) { /* slot j: exponent 3^j, or its conjugate's, 1 mod 4 */
        uint64_t e = g % 4 == 1 ? g : two_n - g;
        size_t t = (size_t)(e - 1) / 4;
        ctx->ckks_pos[j] = (uint32_t)(lat_bitrev(t, log_h) << 1 | (e != g));
        g = g * 3 % two_n;
    }
    return CCZ_OK;
}

/* ---- portable ---------------------------------------------------------------------------------*/

void lat_ckks_embed_portable(const ccz_lattice_context *ctx, double *re, double *im, double c)
{
    size_t h = ctx->n / 2;
    const double *twr = ctx->ckks_fft, *twi = twr + h, *xr = twi + h, *xi = xr + h;
    for (size_t m = 1; m < h; m <<= 1)
        for (size_t i = 0; i < h; i += 2 * m)
            for (size_t j = 0; j < m; j++) {
                size_t x = i + j, y = x + m;
                double wr = twr[m + j], wi = twi[m + j];
                double vr = re[y] * wr - im[y] * wi, vi = re[y] * wi + im[y] * wr;
                double ur = re[x], ui = im[x];
                re[x] = ur + vr;
                im[x] = ui + vi;
                re[y] = ur - vr;
                im[y] = ui - vi;
            }
    for (size_t k = 0; k < h; k++) {
        double pr = re[k] * xr[k] - im[k] * xi[k], pi = re[k] * xi[k] + im[k] * xr[k];
        re[k] = pr * c;
        im[k] = pi * c;
    }
}

static const char overflow_msg[] = "the values times the scale exceed 2^62: lower the scale";

ccz_status lat_ckks_round_rns_portable(const ccz_lattice_context *ctx, const double *d,
                                       unsigned level, uint64_t *out)
{
    size_t n = ctx->n;
    for (size_t k = 0; k < n; k++) {
        double v = round(d[k]);
        CCZ_ENSURE(fabs(v) < 0x1p62, CCZ_ERR_OVERFLOW, "%s", overflow_msg);
        int64_t iv = (int64_t)v;
        uint64_t a = iv < 0 ? 0 - (uint64_t)iv : (uint64_t)iv;
        for (unsigned i = 0; i < level; i++) {
            const lat_mod *m = &ctx->ntt[i].mod;
            uint64_t r = lat_reduce64(a, m);
            out[(size_t)i * n + k] = iv < 0 && r ? m->q - r : r;
        }
    }
    return CCZ_OK;
}

/* ---- AVX-512 ----------------------------------------------------------------------------------*/

/* v = y w, then x, y = x + v, x - v (complex, separate parts), as the portable butterfly */
TARGET INLINE void bfly(__m512d *xr, __m512d *xi, __m512d *yr, __m512d *yi, __m512d wr, __m512d wi)
{
    __m512d vr = _mm512_sub_pd(_mm512_mul_pd(*yr, wr), _mm512_mul_pd(*yi, wi));
    __m512d vi = _mm512_add_pd(_mm512_mul_pd(*yr, wi), _mm512_mul_pd(*yi, wr));
    __m512d ur = *xr, ui = *xi;
    *xr = _mm512_add_pd(ur, vr);
    *xi = _mm512_add_pd(ui, vi);
    *yr = _mm512_sub_pd(ur, vr);
    *yi = _mm512_sub_pd(ui, vi);
}

/* The lanes of the x and y halves of butterflies m apart (m = 4, 2, 1) in 16 values, a then b */
TARGET INLINE __m512i split_idx(unsigned m, int y)
{
    if (m == 4)
        return y ? _mm512_set_epi64(15, 14, 13, 12, 7, 6, 5, 4)
                 : _mm512_set_epi64(11, 10, 9, 8, 3, 2, 1, 0);
    if (m == 2)
        return y ? _mm512_set_epi64(15, 14, 11, 10, 7, 6, 3, 2)
                 : _mm512_set_epi64(13, 12, 9, 8, 5, 4, 1, 0);
    return y ? _mm512_set_epi64(15, 13, 11, 9, 7, 5, 3, 1)
             : _mm512_set_epi64(14, 12, 10, 8, 6, 4, 2, 0);
}

TARGET INLINE __m512i join_idx(unsigned m, int b)
{
    if (m == 4)
        return b ? _mm512_set_epi64(15, 14, 13, 12, 7, 6, 5, 4)
                 : _mm512_set_epi64(11, 10, 9, 8, 3, 2, 1, 0);
    if (m == 2)
        return b ? _mm512_set_epi64(15, 14, 7, 6, 13, 12, 5, 4)
                 : _mm512_set_epi64(11, 10, 3, 2, 9, 8, 1, 0);
    return b ? _mm512_set_epi64(15, 7, 14, 6, 13, 5, 12, 4)
             : _mm512_set_epi64(11, 3, 10, 2, 9, 1, 8, 0);
}

/* stage m (1, 2 or 4) on 16 values held in (ar, ai) and (br, bi) */
TARGET INLINE void small_stage(__m512d *ar, __m512d *ai, __m512d *br, __m512d *bi, unsigned m,
                               __m512d wr, __m512d wi)
{
    __m512i ix = split_idx(m, 0), iy = split_idx(m, 1), ja = join_idx(m, 0), jb = join_idx(m, 1);
    __m512d xr = _mm512_permutex2var_pd(*ar, ix, *br), xi = _mm512_permutex2var_pd(*ai, ix, *bi);
    __m512d yr = _mm512_permutex2var_pd(*ar, iy, *br), yi = _mm512_permutex2var_pd(*ai, iy, *bi);
    bfly(&xr, &xi, &yr, &yi, wr, wi);
    *ar = _mm512_permutex2var_pd(xr, ja, yr);
    *br = _mm512_permutex2var_pd(xr, jb, yr);
    *ai = _mm512_permutex2var_pd(xi, ja, yi);
    *bi = _mm512_permutex2var_pd(xi, jb, yi);
}

/* the twiddles of stage m (1, 2 or 4) for the x lanes of split_idx */
TARGET INLINE __m512d small_tw(const double *tw, unsigned m)
{
    __m512d v = _mm512_loadu_pd(tw + m);
    if (m == 4)
        return _mm512_permutexvar_pd(_mm512_set_epi64(3, 2, 1, 0, 3, 2, 1, 0), v);
    if (m == 2)
        return _mm512_permutexvar_pd(_mm512_set_epi64(1, 0, 1, 0, 1, 0, 1, 0), v);
    return _mm512_set1_pd(tw[1]);
}

/* h >= 16 */
TARGET void lat_ckks_embed_avx512(const ccz_lattice_context *ctx, double *re, double *im, double c)
{
    size_t h = ctx->n / 2;
    const double *twr = ctx->ckks_fft, *twi = twr + h, *xr = twi + h, *xi = xr + h;
    /* stages 1, 2 and 4 in one pass over blocks of 16 (twr[1..8) are all loaded: h >= 16) */
    const __m512d w1r = small_tw(twr, 1), w1i = small_tw(twi, 1), w2r = small_tw(twr, 2),
                  w2i = small_tw(twi, 2), w4r = small_tw(twr, 4), w4i = small_tw(twi, 4);
    for (size_t j = 0; j < h; j += 16) {
        __m512d ar = _mm512_loadu_pd(re + j), br = _mm512_loadu_pd(re + j + 8),
                ai = _mm512_loadu_pd(im + j), bi = _mm512_loadu_pd(im + j + 8);
        small_stage(&ar, &ai, &br, &bi, 1, w1r, w1i);
        small_stage(&ar, &ai, &br, &bi, 2, w2r, w2i);
        small_stage(&ar, &ai, &br, &bi, 4, w4r, w4i);
        _mm512_storeu_pd(re + j, ar);
        _mm512_storeu_pd(re + j + 8, br);
        _mm512_storeu_pd(im + j, ai);
        _mm512_storeu_pd(im + j + 8, bi);
    }
    for (size_t m = 8; m < h; m <<= 1)
        for (size_t i = 0; i < h; i += 2 * m)
            for (size_t j = 0; j < m; j += 8) {
                size_t x = i + j, y = x + m;
                __m512d vxr = _mm512_loadu_pd(re + x), vxi = _mm512_loadu_pd(im + x),
                        vyr = _mm512_loadu_pd(re + y), vyi = _mm512_loadu_pd(im + y);
                bfly(&vxr, &vxi, &vyr, &vyi, _mm512_loadu_pd(twr + m + j),
                     _mm512_loadu_pd(twi + m + j));
                _mm512_storeu_pd(re + x, vxr);
                _mm512_storeu_pd(im + x, vxi);
                _mm512_storeu_pd(re + y, vyr);
                _mm512_storeu_pd(im + y, vyi);
            }
    const __m512d vc = _mm512_set1_pd(c);
    for (size_t k = 0; k < h; k += 8) {
        __m512d r = _mm512_loadu_pd(re + k), i = _mm512_loadu_pd(im + k),
                tr = _mm512_loadu_pd(xr + k), ti = _mm512_loadu_pd(xi + k);
        __m512d pr = _mm512_sub_pd(_mm512_mul_pd(r, tr), _mm512_mul_pd(i, ti));
        __m512d pi = _mm512_add_pd(_mm512_mul_pd(r, ti), _mm512_mul_pd(i, tr));
        _mm512_storeu_pd(re + k, _mm512_mul_pd(pr, vc));
        _mm512_storeu_pd(im + k, _mm512_mul_pd(pi, vc));
    }
}

/* n a multiple of 8 */
TARGET ccz_status lat_ckks_round_rns_avx512(const ccz_lattice_context *ctx, const double *d,
                                            unsigned level, uint64_t *out)
{
    size_t n = ctx->n;
    const __m512d half = _mm512_set1_pd(0.5), one = _mm512_set1_pd(1.0),
                  lim = _mm512_set1_pd(0x1p62);
    const __m512i sign = _mm512_set1_epi64((long long)0x8000000000000000ull),
                  zero = _mm512_setzero_si512();
    double qinv[MAXP];
    for (unsigned i = 0; i < level; i++)
        qinv[i] = 1.0 / (double)ctx->primes[i];
    __mmask8 ok = 0xff;
    for (size_t k = 0; k < n; k += 8) {
        __m512d v = _mm512_loadu_pd(d + k);
        /* round half away from zero: truncate, then one more away from zero if the part cut
         * off (exact) is at least a half */
        __m512d t = _mm512_roundscale_pd(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        __mmask8 up = _mm512_cmp_pd_mask(_mm512_abs_pd(_mm512_sub_pd(v, t)), half, _CMP_GE_OQ);
        __m512d s =
            _mm512_castsi512_pd(_mm512_or_si512(_mm512_and_si512(_mm512_castpd_si512(v), sign),
                                                _mm512_castpd_si512(one))); /* +-1 with v's sign */
        t = _mm512_mask_add_pd(t, up, t, s);
        ok &= _mm512_cmp_pd_mask(_mm512_abs_pd(t), lim, _CMP_LT_OQ);
        __m512i iv = _mm512_cvttpd_epi64(t);
        for (unsigned i = 0; i < level; i++) {
            uint64_t q = ctx->primes[i];
            const __m512i vq = _mm512_set1_epi64((long long)q);
            /* the quotient from doubles is off by at most one (|t / q| < 2^48): r in [-q, 2q) */
            __m512d qd = _mm512_roundscale_pd(_mm512_mul_pd(t, _mm512_set1_pd(qinv[i])),
                                              _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
            __m512i r = _mm512_sub_epi64(iv, _mm512_mullo_epi64(_mm512_cvttpd_epi64(qd), vq));
            r = _mm512_mask_add_epi64(r, _mm512_cmplt_epi64_mask(r, zero), r, vq);
            r = _mm512_min_epu64(r, _mm512_sub_epi64(r, vq));
            _mm512_storeu_si512(out + (size_t)i * n + k, r);
        }
    }
    CCZ_ENSURE(ok == 0xff, CCZ_ERR_OVERFLOW, "%s", overflow_msg);
    return CCZ_OK;
}

/* ---- dispatch ---------------------------------------------------------------------------------*/

void lat_ckks_embed(const ccz_lattice_context *ctx, double *re, double *im, double c)
{
    if (ctx->n >= 32 && lat_avx512())
        lat_ckks_embed_avx512(ctx, re, im, c);
    else
        lat_ckks_embed_portable(ctx, re, im, c);
}

ccz_status lat_ckks_round_rns(const ccz_lattice_context *ctx, const double *d, unsigned level,
                              uint64_t *out)
{
    if (ctx->n >= 8 && lat_avx512())
        return lat_ckks_round_rns_avx512(ctx, d, level, out);
    return lat_ckks_round_rns_portable(ctx, d, level, out);
}
