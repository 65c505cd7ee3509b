/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: a Paillier key as JSON in any form (the first line: ccz's, python-paillier's or
 * pheutil's JWK) and operands (the next lines: decimal ciphertexts or values, or encrypted
 * numbers as JSON objects or [ciphertext, exponent] pairs, as the CLI and peers send them). The key loads or is refused; with a
 * key, the operands go through range checks, addition, scalar multiplication and, for a
 * private key, decryption and decoding, which must round-trip what was encrypted. */
#include <stdlib.h>
#include <string.h>

#include "ccz/ccz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 20000)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *nl = strchr(text, '\n');
    size_t keylen = nl ? (size_t)(nl - text) : size;
    ccz_paillier_pub *pk = NULL;
    ccz_paillier_key *k = NULL;
    if (ccz_paillier_load_json(&pk, &k, text, keylen) == CCZ_OK) {
        mpz_t a, b, c, m;
        mpz_inits(a, b, c, m, NULL);
        char *line = nl ? nl + 1 : NULL, *next;
        for (int i = 0; line && i < 4; i++, line = next) {
            next = strchr(line, '\n');
            if (next)
                *next++ = '\0';
            if (line[0] == '{' || line[0] == '[') { /* an encrypted number as JSON */
                ccz_paillier_number x;
                ccz_paillier_number_init(&x);
                if (ccz_paillier_number_from_json(&x, pk, line, strlen(line)) == CCZ_OK && k) {
                    ccz_paillier_encoded e;
                    ccz_paillier_encoded_init(&e);
                    double d;
                    if (ccz_paillier_decrypt_encoded(&e, k, &x) == CCZ_OK)
                        (void)!ccz_paillier_decode_double(&d, pk, &e);
                    ccz_paillier_encoded_clear(&e);
                }
                ccz_paillier_number_clear(&x);
                continue;
            }
            if (mpz_set_str(a, line, 10) != 0)
                continue;
            (void)!ccz_paillier_add(c, pk, a, a);
            mpz_set_si(b, -3);
            (void)!ccz_paillier_mul_plain(c, pk, a, b);
            if (k && ccz_paillier_decrypt(m, k, a) == CCZ_OK) {
                ccz_paillier_encoded e;
                ccz_paillier_encoded_init(&e);
                mpz_set(e.mantissa, m);
                (void)!ccz_paillier_decode_mpz(b, pk, &e);
                ccz_paillier_encoded_clear(&e);
            }
            /* as a value: encode, and with a private key the round trip must hold */
            ccz_paillier_encoded e;
            ccz_paillier_encoded_init(&e);
            if (ccz_paillier_encode_mpz(&e, pk, a) == CCZ_OK && k &&
                ccz_paillier_encrypt(c, pk, e.mantissa) == CCZ_OK) {
                if (ccz_paillier_decrypt(m, k, c) != CCZ_OK || mpz_cmp(m, e.mantissa) != 0)
                    abort();
            }
            ccz_paillier_encoded_clear(&e);
        }
        mpz_clears(a, b, c, m, NULL);
        if (k)
            ccz_paillier_key_free(k);
        else
            ccz_paillier_pub_free(pk);
    }
    ccz_error_clear();
    free(text);
    return 0;
}
