/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: lattice HE files (parameters, keys, plaintexts, ciphertexts) through every
 * loader of a small BFV context and a small CKKS one; what loads is used (decrypted, or
 * saved again and compared), so a loaded object must be sound. */
#include <stdlib.h>
#include <string.h>

#include "ccz/ccz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ccz_lattice_context *context(ccz_lattice_scheme s)
{
    ccz_lattice_params p;
    memset(&p, 0, sizeof p);
    p.scheme = s;
    p.log_n = 10;
    p.n_primes = 3;
    p.coeff_bits[0] = 30;
    p.coeff_bits[1] = 30;
    p.coeff_bits[2] = 31;
    p.plain_modulus = 12289; /* 1 mod 2048 */
    p.scale = 0x1p20;
    p.no_security_check = true; /* small, for speed: not secure */
    ccz_lattice_context *ctx = NULL;
    if (ccz_lattice_context_new(&ctx, &p))
        abort();
    return ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ccz_lattice_context *ctx[2];
    static ccz_lattice_secret_key *sk[2];
    if (!ctx[0]) {
        ccz_log_set_level(CCZ_LOG_OFF);
        for (int i = 0; i < 2; i++) {
            ctx[i] = context(i ? CCZ_LATTICE_CKKS : CCZ_LATTICE_BFV);
            if (ccz_lattice_keygen(&sk[i], NULL, ctx[i]))
                abort();
        }
    }
    ccz_span in = {data, size};
    ccz_lattice_params p;
    if (ccz_lattice_params_load(&p, in) == CCZ_OK) {
        ccz_lattice_context *c = NULL;
        if (p.log_n <= 11 && ccz_lattice_context_new(&c, &p) == CCZ_OK)
            ccz_lattice_context_free(c);
    }
    for (int i = 0; i < 2; i++) {
        ccz_lattice_ciphertext *ct;
        ccz_lattice_plaintext *pt;
        if (ccz_lattice_ciphertext_new(&ct, ctx[i]) || ccz_lattice_plaintext_new(&pt, ctx[i]))
            abort();
        if (ccz_lattice_ciphertext_load(ct, ctx[i], in) == CCZ_OK) {
            if (ccz_lattice_decrypt(pt, ctx[i], sk[i], ct) != CCZ_OK)
                abort();
            ccz_buf b = CCZ_BUF_INIT;
            /* saved whole, a seeded ciphertext takes its second component's bytes too */
            bool seeded = size > 5 && data[5] == 8;
            if (ccz_lattice_ciphertext_save(&b, ct) != CCZ_OK || b.len > (seeded ? 2 * size : size))
                abort();
            ccz_buf_free(&b);
        }
        (void)!ccz_lattice_plaintext_load(pt, ctx[i], in);
        ccz_lattice_secret_key *k = NULL;
        if (ccz_lattice_secret_key_load(&k, ctx[i], in) == CCZ_OK)
            ccz_lattice_secret_key_free(k);
        ccz_lattice_public_key *pk = NULL;
        if (ccz_lattice_public_key_load(&pk, ctx[i], in) == CCZ_OK)
            ccz_lattice_public_key_free(pk);
        ccz_lattice_relin_keys *rk = NULL;
        if (ccz_lattice_relin_keys_load(&rk, ctx[i], in) == CCZ_OK)
            ccz_lattice_relin_keys_free(rk);
        ccz_lattice_galois_keys *gk = NULL;
        if (ccz_lattice_galois_keys_load(&gk, ctx[i], in) == CCZ_OK)
            ccz_lattice_galois_keys_free(gk);
        ccz_lattice_ciphertext_free(ct);
        ccz_lattice_plaintext_free(pt);
    }
    ccz_error_clear();
    return 0;
}
