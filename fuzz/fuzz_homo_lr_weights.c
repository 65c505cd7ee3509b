/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: a homo-LR WeightsRequest as the parameter server receives it (protobuf-c
 * unpacking, then ccz_fl_hlr_weights_parse of its weights under a fixed 1024-bit key, for a
 * model of as many weights as the message has, at most 64, and of 31). Accepted weights must
 * be in range and survive ccz_fl_hlr_weights_write and a second parse unchanged: anything
 * else aborts. */
#include <stdlib.h>
#include <string.h>

#include "ccz/ccz.h"
#include "ccz/fl.h"
#include "homo_lr.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char N[] =
    "138289265474257771543695460471685083499132537593063164282155086929414625699070408457868247783648474305806711289843153022983025322476970685254239456723322141285768096402410296131054915820500924415843824361890768555593001410259370076149733608464780575523215706237950228273376747793031207178370825755656232198007";

static void check(const ccz_paillier_pub *pk, const uint8_t *msg, size_t len, size_t dim)
{
    ccz_paillier_number *a = calloc(dim, sizeof *a), *b = calloc(dim, sizeof *b);
    if (!a || !b)
        abort();
    for (size_t i = 0; i < dim; i++) {
        ccz_paillier_number_init(&a[i]);
        ccz_paillier_number_init(&b[i]);
    }
    if (ccz_fl_hlr_weights_parse(a, dim, pk, msg, len) == CCZ_OK) {
        mpz_t n, n2;
        mpz_inits(n, n2, NULL);
        ccz_paillier_pub_n(n, pk);
        mpz_mul(n2, n, n);
        ccz_buf out = CCZ_BUF_INIT;
        if (ccz_fl_hlr_weights_write(&out, a, dim) != CCZ_OK ||
            ccz_fl_hlr_weights_parse(b, dim, pk, out.ptr, out.len) != CCZ_OK)
            abort();
        for (size_t i = 0; i < dim; i++)
            if (mpz_sgn(a[i].c) <= 0 || mpz_cmp(a[i].c, n2) >= 0 || mpz_cmp(a[i].c, b[i].c) ||
                a[i].exponent != b[i].exponent || a[i].exponent > CCZ_FL_HLR_MAX_EXPONENT ||
                a[i].exponent < -CCZ_FL_HLR_MAX_EXPONENT)
                abort();
        ccz_buf_free(&out);
        mpz_clears(n, n2, NULL);
    }
    for (size_t i = 0; i < dim; i++) {
        ccz_paillier_number_clear(&a[i]);
        ccz_paillier_number_clear(&b[i]);
    }
    free(a);
    free(b);
    ccz_error_clear();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ccz_paillier_pub *pk;
    if (!pk) {
        mpz_t n;
        mpz_init_set_str(n, N, 10);
        if (ccz_paillier_pub_new(&pk, n) != CCZ_OK)
            abort();
        mpz_clear(n);
    }
    Homolr__WeightsRequest *r = homolr__weights_request__unpack(NULL, size, data);
    if (!r)
        return 0;
    Homolr__EncryptedVector *v =
        homolr__encrypted_vector__unpack(NULL, r->weights.len, r->weights.data);
    size_t dim = v && v->n_values >= 1 && v->n_values <= 64 ? v->n_values : 31;
    if (v)
        homolr__encrypted_vector__free_unpacked(v, NULL);
    check(pk, r->weights.data, r->weights.len, dim);
    if (dim != 31)
        check(pk, r->weights.data, r->weights.len, 31);
    homolr__weights_request__free_unpacked(r, NULL);
    ccz_error_clear();
    return 0;
}
