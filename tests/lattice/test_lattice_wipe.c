/* SPDX-License-Identifier: Apache-2.0 */
/* Secrets in freed memory: ccz_lattice_encrypt_sk_save computes a s (the uniform polynomial
 * times the secret key) prime by prime in a scratch buffer. a is public (the seed is in the
 * output) and s is ternary, so a s modulo any one prime gives the key away: the buffer is wiped
 * before it is freed. The blocks freed while the call runs are searched for a s (freed.h; skipped
 * under AddressSanitizer). */
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

TEST_MAIN(T(test_seeded_scratch_wiped))
