/* SPDX-License-Identifier: Apache-2.0 */
/* Secrets in freed memory: ccz_lattice_encrypt_sk_save computes a s (the uniform polynomial
 * times the secret key) prime by prime in a scratch buffer. a is public (the seed is in the
 * output) and s is ternary, so a s modulo any one prime gives the key away: the buffer is wiped
 * before it is freed. The blocks freed while the call runs are searched for a s (freed.h; skipped
 * under AddressSanitizer). Likewise key generation: the public key's a s and error, the
 * key-switching keys' errors (each gives s with the public b and a), the relinearization and
 * Galois targets (s^2, s(x^g)), and the secret key's own words (and their Shoup words) when it
 * is freed; each at the start and at the end of its buffer, so a wipe cut short is seen too. BFV
 * decryption and the noise budget: their c0 + c1 s. */
#include <stdlib.h>
#include <string.h>

#include "ccz/ccz.h"
#include "freed.h"
#include "lattice/lattice_internal.h"
#include "test.h"

static void test_seeded_scratch_wiped(void)
{
#if !FREED_SUPPORTED
    test_skip(true, "AddressSanitizer owns free");
#else
    ccz_lattice_params p;
    CHECK_OK(ccz_lattice_preset(&p, CCZ_LATTICE_CKKS, 12));
    ccz_lattice_context *ctx;
    ccz_lattice_secret_key *sk;
    ccz_lattice_plaintext *pt;
    ccz_lattice_ciphertext *ct;
    CHECK_OK(ccz_lattice_context_new(&ctx, &p));
    CHECK_OK(ccz_lattice_keygen(&sk, NULL, ctx));
    CHECK_OK(ccz_lattice_plaintext_new(&pt, ctx));
    CHECK_OK(ccz_lattice_ciphertext_new(&ct, ctx));
    size_t slots = ccz_lattice_slots(ctx), n = ctx->n;
    double *x = calloc(slots, sizeof *x);
    for (size_t i = 0; i < slots; i++)
        x[i] = (double)(i % 7) - 3;
    CHECK_OK(ccz_lattice_ckks_encode_real(pt, ctx, x, slots, p.scale, 0));
    ccz_buf out = CCZ_BUF_INIT;
    freed_start();
    ccz_status s = ccz_lattice_encrypt_sk_save(&out, ctx, sk, pt);
    size_t blocks = freed_stop();
    CHECK_OK(s);
    CHECK(blocks > 0 && blocks < FREED_MAX);
    /* a, regenerated from the seed by the loader, and a s for the last prime */
    CHECK_OK(ccz_lattice_ciphertext_load(ct, ctx, ccz_buf_span(&out)));
    unsigned l = ct->level;
    uint64_t q = ctx->primes[l - 1], want[64];
    const uint64_t *a = ct->d + (size_t)(l + l - 1) * n, *sl = sk->s + (size_t)(l - 1) * n;
    for (size_t i = 0; i < 64; i++)
        want[i] = (uint64_t)((unsigned __int128)a[i] * sl[i] % q);
    CHECK_INT(freed_find(want, sizeof want), 0);
    ccz_buf_free(&out);
    free(x);
    ccz_lattice_ciphertext_free(ct);
    ccz_lattice_plaintext_free(pt);
    ccz_lattice_secret_key_free(sk);
    ccz_lattice_context_free(ctx);
#endif
}

#if FREED_SUPPORTED
/* want[x] = (b[x] + a[x] s[x]) mod q, x < 64: the error of (b, a) in NTT form, prime 0 */
static void ntt_error(uint64_t *want, const uint64_t *b, const uint64_t *a, const uint64_t *s,
                      uint64_t q)
{
    for (size_t x = 0; x < 64; x++)
        want[x] = (uint64_t)(((unsigned __int128)a[x] * s[x] + b[x]) % q);
}
#endif

static void test_keygen_scratch_wiped(void)
{
#if !FREED_SUPPORTED
    test_skip(true, "AddressSanitizer owns free");
#else
    ccz_lattice_params p;
    CHECK_OK(ccz_lattice_preset(&p, CCZ_LATTICE_CKKS, 12));
    ccz_lattice_context *ctx;
    ccz_lattice_secret_key *sk;
    ccz_lattice_public_key *pk;
    ccz_lattice_relin_keys *rk;
    ccz_lattice_galois_keys *gk;
    CHECK_OK(ccz_lattice_context_new(&ctx, &p));
    size_t n = ctx->n;
    uint64_t q = ctx->primes[0], want[64];
    freed_start();
    ccz_status s = ccz_lattice_keygen(&sk, &pk, ctx);
    size_t blocks = freed_stop();
    CHECK_OK(s);
    CHECK(blocks > 0 && blocks < FREED_MAX);
    /* a s modulo the special prime (the last one computed), NTT form */
    size_t lp = (size_t)ctx->L * n;
    for (size_t x = 0; x < 64; x++)
        want[x] =
            (uint64_t)((unsigned __int128)pk->a[lp + x] * sk->s[lp + x] % ctx->primes[ctx->L]);
    CHECK_INT(freed_find(want, sizeof want), 0);
    /* and its last 64 words: a wipe cut short leaves the end of the buffer */
    for (size_t x = 0; x < 64; x++)
        want[x] = (uint64_t)((unsigned __int128)pk->a[lp + n - 64 + x] * sk->s[lp + n - 64 + x] %
                             ctx->primes[ctx->L]);
    CHECK_INT(freed_find(want, sizeof want), 0);
    /* the error e = b + a s, as the signed coefficients it was sampled as */
    uint64_t *e = malloc(n * 8);
    for (size_t x = 0; x < n; x++)
        e[x] = (uint64_t)(((unsigned __int128)pk->a[x] * sk->s[x] + pk->b[x]) % q);
    lat_ntt_inverse(&ctx->ntt[0], e);
    int8_t e8[64];
    for (size_t x = 0; x < 64; x++)
        e8[x] = (int8_t)(e[x] > q / 2 ? -(int64_t)(q - e[x]) : (int64_t)e[x]);
    free(e);
    CHECK_INT(freed_find(e8, sizeof e8), 0);
    /* the key-switching keys: the errors of the last digit's pair, modulo prime 0 */
    size_t last = (size_t)(ctx->L - 1) * ctx->k * n;
    freed_start();
    s = ccz_lattice_relin_keygen(&rk, ctx, sk);
    blocks = freed_stop();
    CHECK_OK(s);
    CHECK(blocks > 0 && blocks < FREED_MAX);
    ntt_error(want, rk->k.b + last, rk->k.a + last, sk->s, q);
    CHECK_INT(freed_find(want, sizeof want), 0);
    /* and the last digit's error as sampled, signed coefficients: the whole NTT-form error back
     * to coefficients modulo prime 0 */
    {
        uint64_t *ek = malloc(n * 8);
        for (size_t x = 0; x < n; x++)
            ek[x] =
                (uint64_t)(((unsigned __int128)rk->k.a[last + x] * sk->s[x] + rk->k.b[last + x]) %
                           q);
        lat_ntt_inverse(&ctx->ntt[0], ek);
        int8_t ek8[64];
        for (size_t x = 0; x < 64; x++)
            ek8[x] = (int8_t)(ek[x] > q / 2 ? -(int64_t)(q - ek[x]) : (int64_t)ek[x]);
        free(ek);
        CHECK_INT(freed_find(ek8, sizeof ek8), 0);
    }
    /* the same errors modulo the special prime, the end of the scratch buffer */
    ntt_error(want, rk->k.b + last + lp + n - 64, rk->k.a + last + lp + n - 64, sk->s + lp + n - 64,
              ctx->primes[ctx->L]);
    CHECK_INT(freed_find(want, sizeof want), 0);
    /* s^2, the relinearization target, at its start and its end */
    for (size_t x = 0; x < 64; x++)
        want[x] = (uint64_t)((unsigned __int128)sk->s[x] * sk->s[x] % q);
    CHECK_INT(freed_find(want, sizeof want), 0);
    for (size_t x = 0; x < 64; x++)
        want[x] = (uint64_t)((unsigned __int128)sk->s[lp + n - 64 + x] * sk->s[lp + n - 64 + x] %
                             ctx->primes[ctx->L]);
    CHECK_INT(freed_find(want, sizeof want), 0);
    static const int steps[] = {1};
    freed_start();
    s = ccz_lattice_galois_keygen(&gk, ctx, sk, steps, 1, false);
    blocks = freed_stop();
    CHECK_OK(s);
    CHECK(blocks > 0 && blocks < FREED_MAX);
    ntt_error(want, gk->keys[0].b + last, gk->keys[0].a + last, sk->s, q);
    CHECK_INT(freed_find(want, sizeof want), 0);
    /* the Galois target s(x^g), NTT form: prime 0's start and the special prime's end */
    uint32_t *idx = malloc(n * sizeof *idx);
    uint64_t *target = malloc(n * 8);
    lat_automorph_ntt_index(idx, ctx->log_n, gk->elts[0]);
    lat_automorph_ntt_apply(sk->s, target, idx, n);
    CHECK_INT(freed_find(target, 64 * 8), 0);
    lat_automorph_ntt_apply(sk->s + lp, target, idx, n);
    CHECK_INT(freed_find(target + n - 64, 64 * 8), 0);
    free(target);
    free(idx);
    /* the secret key itself, freed */
    uint64_t s64[64];
    int8_t c8[64];
    uint64_t s_end[64], sw64[64];
    memcpy(sw64, sk->s_w + n, sizeof sw64); /* Shoup's words of s: they give s */
    memcpy(s64, sk->s + n, sizeof s64);
    memcpy(s_end, sk->s + lp + n - 64, sizeof s_end);
    memcpy(c8, sk->coeffs, sizeof c8);
    freed_start();
    ccz_lattice_secret_key_free(sk);
    blocks = freed_stop();
    CHECK(blocks > 0 && blocks < FREED_MAX);
    CHECK_INT(freed_find(s64, sizeof s64), 0);
    CHECK_INT(freed_find(s_end, sizeof s_end), 0);
    CHECK_INT(freed_find(sw64, sizeof sw64), 0);
    CHECK_INT(freed_find(c8, sizeof c8), 0);
    ccz_lattice_galois_keys_free(gk);
    ccz_lattice_relin_keys_free(rk);
    ccz_lattice_public_key_free(pk);
    ccz_lattice_context_free(ctx);
#endif
}

/* BFV decryption and the noise budget compute c0 + c1 s (that is Delta m + e, and with c0 and c1
 * it gives s) in a scratch buffer: wiped before it is freed. Searched for at prime 0 and at the
 * last prime, the end of the buffer: a wipe cut short is seen too. */
static void test_decrypt_scratch_wiped(void)
{
#if !FREED_SUPPORTED
    test_skip(true, "AddressSanitizer owns free");
#else
    ccz_lattice_params p;
    CHECK_OK(ccz_lattice_preset(&p, CCZ_LATTICE_BFV, 12));
    ccz_lattice_context *ctx;
    ccz_lattice_secret_key *sk;
    ccz_lattice_plaintext *pt;
    ccz_lattice_ciphertext *ct;
    CHECK_OK(ccz_lattice_context_new(&ctx, &p));
    CHECK_OK(ccz_lattice_keygen(&sk, NULL, ctx));
    CHECK_OK(ccz_lattice_plaintext_new(&pt, ctx));
    CHECK_OK(ccz_lattice_ciphertext_new(&ct, ctx));
    size_t n = ctx->n;
    uint64_t m[4] = {1, 2, 3, 4};
    CHECK_OK(ccz_lattice_bfv_encode_coeffs(pt, ctx, m, 4));
    CHECK_OK(ccz_lattice_encrypt_sk(ct, ctx, sk, pt));
    CHECK(!ct->ntt && ct->size == 2);
    /* x = c0 + c1 s modulo prime 0, and modulo the last prime: coefficient form */
    unsigned l = ct->level;
    CHECK(l >= 2);
    uint64_t *x = malloc(n * 8), *xl = malloc(n * 8);
    for (unsigned i = 0; i < 2; i++) {
        unsigned j = i ? l - 1 : 0;
        uint64_t q = ctx->primes[j], *y = i ? xl : x;
        memcpy(y, ct->d + (size_t)(l + j) * n, n * 8);
        lat_ntt_forward(&ctx->ntt[j], y);
        for (size_t c = 0; c < n; c++)
            y[c] = (uint64_t)((unsigned __int128)y[c] * sk->s[(size_t)j * n + c] % q);
        lat_ntt_inverse(&ctx->ntt[j], y);
        for (size_t c = 0; c < n; c++)
            y[c] = (y[c] + ct->d[(size_t)j * n + c]) % q;
    }
    freed_start();
    ccz_status s = ccz_lattice_decrypt(pt, ctx, sk, ct);
    size_t blocks = freed_stop();
    CHECK_OK(s);
    CHECK(blocks > 0 && blocks < FREED_MAX);
    CHECK_INT(freed_find(x, 64 * 8), 0);
    CHECK_INT(freed_find(xl + n - 64, 64 * 8), 0);
    int bits;
    freed_start();
    s = ccz_lattice_bfv_noise_budget(&bits, ctx, sk, ct);
    blocks = freed_stop();
    CHECK_OK(s);
    CHECK(bits > 0);
    CHECK(blocks > 0 && blocks < FREED_MAX);
    CHECK_INT(freed_find(x, 64 * 8), 0);
    CHECK_INT(freed_find(xl + n - 64, 64 * 8), 0);
    free(x);
    free(xl);
    ccz_lattice_ciphertext_free(ct);
    ccz_lattice_plaintext_free(pt);
    ccz_lattice_secret_key_free(sk);
    ccz_lattice_context_free(ctx);
#endif
}

TEST_MAIN(T(test_seeded_scratch_wiped), T(test_keygen_scratch_wiped), T(test_decrypt_scratch_wiped))
