/* SPDX-License-Identifier: Apache-2.0 */
/* Secrets in freed memory: ccz_lattice_encrypt_sk_save computes a s (the uniform polynomial
 * times the secret key) prime by prime in a scratch buffer. a is public (the seed is in the
 * output) and s is ternary, so a s modulo any one prime gives the key away: the buffer is wiped
 * before it is freed. This program defines free itself (glibc's __libc_free underneath) to keep
 * a copy of every block freed while the call runs, then looks for a s in them. Under
 * AddressSanitizer, whose runtime owns free, it skips. */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "ccz/ccz.h"
#include "lattice/lattice_internal.h"
#include "test.h"

#if defined(__SANITIZE_ADDRESS__)
#define WIPE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WIPE_ASAN 1
#endif
#endif

#ifndef WIPE_ASAN
extern void *__libc_malloc(size_t n);
extern void __libc_free(void *p);

enum { MAX_FREED = 256 };
static bool armed;
static struct {
    uint8_t *copy;
    size_t len;
} freed[MAX_FREED];
static size_t n_freed;

void free(void *p)
{
    if (p && armed && n_freed < MAX_FREED) {
        size_t len = malloc_usable_size(p);
        uint8_t *copy = __libc_malloc(len ? len : 1);
        if (copy) {
            memcpy(copy, p, len);
            freed[n_freed].copy = copy;
            freed[n_freed++].len = len;
        }
    }
    __libc_free(p);
}
#endif

static void test_seeded_scratch_wiped(void)
{
#ifdef WIPE_ASAN
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
    armed = true;
    ccz_status s = ccz_lattice_encrypt_sk_save(&out, ctx, sk, pt);
    armed = false;
    CHECK_OK(s);
    CHECK(n_freed > 0 && n_freed < MAX_FREED);
    /* a, regenerated from the seed by the loader, and a s for the last prime */
    CHECK_OK(ccz_lattice_ciphertext_load(ct, ctx, ccz_buf_span(&out)));
    unsigned l = ct->level;
    uint64_t q = ctx->primes[l - 1], want[64];
    const uint64_t *a = ct->d + (size_t)(l + l - 1) * n, *sl = sk->s + (size_t)(l - 1) * n;
    for (size_t i = 0; i < 64; i++)
        want[i] = (uint64_t)((unsigned __int128)a[i] * sl[i] % q);
    size_t found = 0;
    for (size_t b = 0; b < n_freed; b++) {
        if (freed[b].len >= sizeof want && memmem(freed[b].copy, freed[b].len, want, sizeof want))
            found++;
        __libc_free(freed[b].copy);
    }
    CHECK_INT(found, 0);
    ccz_buf_free(&out);
    free(x);
    ccz_lattice_ciphertext_free(ct);
    ccz_lattice_plaintext_free(pt);
    ccz_lattice_secret_key_free(sk);
    ccz_lattice_context_free(ctx);
#endif
}

TEST_MAIN(T(test_seeded_scratch_wiped))
