/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: lattice HE files (parameters, keys, plaintexts, ciphertexts) through every
 * loader of a small BFV context and a small CKKS one; what loads is used (decrypted, or
 * saved again and compared), so a loaded object must be sound. */
#include <stdlib.h>
#include <string.h>

#include "ccz/ccz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ccz_he_context *context(ccz_he_scheme s)
{
    ccz_he_params p;
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
    ccz_he_context *ctx = NULL;
    if (ccz_he_context_new(&ctx, &p))
        abort();
    return ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ccz_he_context *ctx[2];
    static ccz_he_secret_key *sk[2];
    if (!ctx[0]) {
        ccz_log_set_level(CCZ_LOG_OFF);
        for (int i = 0; i < 2; i++) {
            ctx[i] = context(i ? CCZ_HE_CKKS : CCZ_HE_BFV);
            if (ccz_he_keygen(ctx[i], &sk[i], NULL))
                abort();
        }
    }
    ccz_span in = {data, size};
    ccz_he_params p;
    if (ccz_he_params_load(&p, in) == CCZ_OK) {
        ccz_he_context *c = NULL;
        if (p.log_n <= 11 && ccz_he_context_new(&c, &p) == CCZ_OK)
            ccz_he_context_free(c);
    }
    for (int i = 0; i < 2; i++) {
        ccz_he_ciphertext *ct;
        ccz_he_plaintext *pt;
        if (ccz_he_ciphertext_new(ctx[i], &ct) || ccz_he_plaintext_new(ctx[i], &pt))
            abort();
        if (ccz_he_ciphertext_load(ctx[i], ct, in) == CCZ_OK) {
            if (ccz_he_decrypt(ctx[i], sk[i], ct, pt) != CCZ_OK)
                abort();
            ccz_buf b = CCZ_BUF_INIT;
            if (ccz_he_ciphertext_save(ct, &b) != CCZ_OK || b.len > size)
                abort();
            ccz_buf_free(&b);
        }
        (void)!ccz_he_plaintext_load(ctx[i], pt, in);
        ccz_he_secret_key *k = NULL;
        if (ccz_he_secret_key_load(ctx[i], &k, in) == CCZ_OK)
            ccz_he_secret_key_free(k);
        ccz_he_public_key *pk = NULL;
        if (ccz_he_public_key_load(ctx[i], &pk, in) == CCZ_OK)
            ccz_he_public_key_free(pk);
        ccz_he_relin_keys *rk = NULL;
        if (ccz_he_relin_keys_load(ctx[i], &rk, in) == CCZ_OK)
            ccz_he_relin_keys_free(rk);
        ccz_he_galois_keys *gk = NULL;
        if (ccz_he_galois_keys_load(ctx[i], &gk, in) == CCZ_OK)
            ccz_he_galois_keys_free(gk);
        ccz_he_ciphertext_free(ct);
        ccz_he_plaintext_free(pt);
    }
    ccz_error_clear();
    return 0;
}
