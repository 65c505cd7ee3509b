/* SPDX-License-Identifier: Apache-2.0 */
/* hetero-LR ciphertexts on the wire (fl_int.h): the bytes come from a peer, so the count, each
 * length and each value are checked against the key before use. */
#include "core/guard.h"
#include "fl/fl_int.h"

ccz_status vlr_ciphertexts(mpz_t *out, const mpz_t n, const mpz_t n2, const ProtobufCBinaryData *in,
                           size_t n_in, size_t count, const char *what)
{
    CCZ_ENSURE(n_in == count, CCZ_ERR_MALFORMED, "%zu %s; expected %zu", n_in, what, count);
    size_t max_len = (mpz_sizeinbase(n2, 2) + 7) / 8;
    mpz_t g;
    mpz_init(g);
    ccz_status s = CCZ_OK;
    for (size_t i = 0; i < count && s == CCZ_OK; i++) {
        bool ok = in[i].len >= 1 && in[i].len <= max_len;
        if (ok) {
            mpz_import(out[i], in[i].len, 1, 1, 1, 0, in[i].data);
            mpz_gcd(g, out[i], n);
            ok = mpz_sgn(out[i]) > 0 && mpz_cmp(out[i], n2) < 0 && mpz_cmp_ui(g, 1) == 0;
        }
        if (!ok)
            s = ccz_fail(CCZ_ERR_MALFORMED,
                         "%s %zu: not a ciphertext of this key (1 to %zu bytes, in [1, n^2), "
                         "prime to n)",
                         what, i, max_len);
    }
    mpz_clear(g);
    return s;
}
