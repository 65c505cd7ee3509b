/* SPDX-License-Identifier: Apache-2.0 */
/* Writes the seed corpus of fuzz_lattice: parameters, keys, a plaintext and ciphertexts of the
 * fuzz target's two small contexts (the same parameters, fresh keys: a file made here carries
 * the fingerprint the target checks). Run by hand: gen_lattice_seeds fuzz/corpus/lattice */
#include <stdio.h>
#include <string.h>

#include "ccz/ccz.h"

static void put(const char *dir, const char *name, const ccz_buf *b)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (ccz_file_write(path, ccz_buf_span(b), 0644) != CCZ_OK)
        fprintf(stderr, "%s\n", ccz_error_detail());
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_lattice_seeds DIR\n");
        return 2;
    }
    for (int i = 0; i < 2; i++) {
        ccz_lattice_params p;
        memset(&p, 0, sizeof p);
        p.scheme = i ? CCZ_LATTICE_CKKS : CCZ_LATTICE_BFV;
        p.log_n = 10;
        p.n_primes = 3;
        p.coeff_bits[0] = 30;
        p.coeff_bits[1] = 30;
        p.coeff_bits[2] = 31;
        p.plain_modulus = 12289;
        p.scale = 0x1p20;
        p.no_security_check = true; /* small, for speed: not secure */
        ccz_lattice_context *ctx;
        ccz_lattice_secret_key *sk;
        ccz_lattice_public_key *pk;
        ccz_lattice_relin_keys *rk;
        ccz_lattice_galois_keys *gk;
        ccz_lattice_plaintext *pt;
        ccz_lattice_ciphertext *ct;
        int steps[] = {1};
        if (ccz_lattice_context_new(&ctx, &p) || ccz_lattice_keygen(&sk, &pk, ctx) ||
            ccz_lattice_relin_keygen(&rk, ctx, sk) ||
            ccz_lattice_galois_keygen(&gk, ctx, sk, steps, 1, true) ||
            ccz_lattice_plaintext_new(&pt, ctx) || ccz_lattice_ciphertext_new(&ct, ctx)) {
            fprintf(stderr, "%s\n", ccz_error_detail());
            return 1;
        }
        const char *pre = i ? "ckks" : "bfv";
        char name[64];
        ccz_buf b = CCZ_BUF_INIT;
#define SAVE(fn, obj, what)                                                                        \
    do {                                                                                           \
        b.len = 0;                                                                                 \
        if (fn(&b, obj) == CCZ_OK) {                                                               \
            snprintf(name, sizeof name, "%s-%s", pre, what);                                       \
            put(argv[1], name, &b);                                                                \
        }                                                                                          \
    } while (0)
        SAVE(ccz_lattice_params_save, ctx, "params");
        SAVE(ccz_lattice_secret_key_save, sk, "secret-key");
        SAVE(ccz_lattice_public_key_save, pk, "public-key");
        if (i) {
            double v[4] = {1.5, -2, 0.25, 3};
            (void)!ccz_lattice_ckks_encode_real(pt, ctx, v, 4, p.scale, 0);
        } else {
            uint64_t v[4] = {1, 2, 3, 12288};
            (void)!ccz_lattice_bfv_encode(pt, ctx, v, 4);
        }
        SAVE(ccz_lattice_plaintext_save, pt, "plaintext");
        b.len = 0;
        if (i && ccz_lattice_encrypt_sk_save(&b, ctx, sk, pt) == CCZ_OK) /* CKKS's only */
            put(argv[1], "ckks-seeded", &b);
        (void)!ccz_lattice_encrypt(ct, ctx, pk, pt);
        SAVE(ccz_lattice_ciphertext_save, ct, "ciphertext");
        (void)!ccz_lattice_mul(ct, ctx, ct, ct, NULL); /* three components */
        SAVE(ccz_lattice_ciphertext_save, ct, "ciphertext3");
        if (i == 0) { /* the key-switching keys are large: one context is enough */
            SAVE(ccz_lattice_relin_keys_save, rk, "relin-keys");
            SAVE(ccz_lattice_galois_keys_save, gk, "galois-keys");
        }
        ccz_buf_free(&b);
    }
    return 0;
}
