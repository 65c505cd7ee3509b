/* SPDX-License-Identifier: Apache-2.0 */
/* Encrypted weights on the wire (homolr.EncryptedVector in proto/homo_lr.proto): the bytes come
 * from a peer, so every count, ciphertext and exponent is checked against the key before use. */
#include <stdlib.h>

#include "ccz/fl.h"
#include "core/guard.h"
#include "homo_lr.pb-c.h"
#include "core/pb.h"

static ccz_status check_values(ccz_paillier_number *out, size_t dim, const ccz_paillier_pub *pk,
                               const Homolr__EncryptedVector *v)
{
    CCZ_ENSURE(v->n_values == dim, CCZ_ERR_MALFORMED,
               "%zu encrypted weights; the model has %zu (the bias and one per feature)",
               v->n_values, dim);
    mpz_t n, n2, g;
    mpz_inits(n, n2, g, NULL);
    ccz_paillier_pub_n(n, pk);
    mpz_mul(n2, n, n);
    size_t max_len = (mpz_sizeinbase(n2, 2) + 7) / 8;
    ccz_status s = CCZ_OK;
    for (size_t i = 0; i < dim && s == CCZ_OK; i++) {
        const Homolr__EncryptedNumber *x = v->values[i];
        if (x->exponent < -CCZ_FL_HLR_MAX_EXPONENT || x->exponent > CCZ_FL_HLR_MAX_EXPONENT) {
            s = ccz_fail(CCZ_ERR_MALFORMED, "weight %zu: exponent %d is outside [-%d, %d]", i,
                         (int)x->exponent, CCZ_FL_HLR_MAX_EXPONENT, CCZ_FL_HLR_MAX_EXPONENT);
            break;
        }
        if (x->ciphertext.len == 0 || x->ciphertext.len > max_len) {
            s = ccz_fail(CCZ_ERR_MALFORMED, "weight %zu: a ciphertext of %zu bytes (1 to %zu)", i,
                         x->ciphertext.len, max_len);
            break;
        }
        mpz_import(out[i].c, x->ciphertext.len, 1, 1, 1, 0, x->ciphertext.data);
        out[i].exponent = (int)x->exponent;
        mpz_gcd(g, out[i].c, n);
        if (mpz_sgn(out[i].c) == 0 || mpz_cmp(out[i].c, n2) >= 0 || mpz_cmp_ui(g, 1) != 0)
            s = ccz_fail(CCZ_ERR_MALFORMED,
                         "weight %zu: not a ciphertext of this key (not in [1, n^2) or not "
                         "prime to n)",
                         i);
    }
    mpz_clears(n, n2, g, NULL);
    return s;
}

ccz_status ccz_fl_hlr_weights_parse(ccz_paillier_number *out, size_t dim,
                                    const ccz_paillier_pub *pk, const uint8_t *msg, size_t len)
{
    ccz_status s;
    Homolr__EncryptedVector *v = (Homolr__EncryptedVector *)ccz_pb_unpack(
        &s, &homolr__encrypted_vector__descriptor, CCZ_SPAN(msg, len),
        "the weights are not an EncryptedVector message");
    if (!v)
        return s;
    s = check_values(out, dim, pk, v);
    homolr__encrypted_vector__free_unpacked(v, NULL);
    return s;
}

ccz_status ccz_fl_hlr_weights_write(ccz_buf *out, const ccz_paillier_number *w, size_t dim)
{
    Homolr__EncryptedNumber *nums = calloc(dim ? dim : 1, sizeof *nums);
    Homolr__EncryptedNumber **ptrs = calloc(dim ? dim : 1, sizeof *ptrs);
    uint8_t **bytes = calloc(dim ? dim : 1, sizeof *bytes);
    ccz_status s = nums && ptrs && bytes ? CCZ_OK : ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < dim && s == CCZ_OK; i++) {
        homolr__encrypted_number__init(&nums[i]);
        size_t len = 0;
        bytes[i] = mpz_export(NULL, &len, 1, 1, 1, 0, w[i].c);
        if (!bytes[i] && mpz_sgn(w[i].c) != 0)
            s = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
        nums[i].ciphertext = (ProtobufCBinaryData){len, bytes[i]};
        nums[i].exponent = w[i].exponent;
        ptrs[i] = &nums[i];
    }
    Homolr__EncryptedVector v = HOMOLR__ENCRYPTED_VECTOR__INIT;
    v.n_values = dim;
    v.values = ptrs;
    if (s == CCZ_OK) {
        size_t len = homolr__encrypted_vector__get_packed_size(&v);
        s = ccz_buf_reserve(out, len);
        if (s == CCZ_OK)
            out->len += homolr__encrypted_vector__pack(&v, out->ptr + out->len);
    }
    for (size_t i = 0; bytes && i < dim; i++)
        free(bytes[i]);
    free(bytes);
    free(ptrs);
    free(nums);
    return s;
}
