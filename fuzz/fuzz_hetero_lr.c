/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the hetero-LR arbiter's requests as it receives them (proto/hetero_lr.proto):
 * the first byte picks the method (Join, Forward, Residuals, Gradient, Scores), protobuf-c
 * unpacks the rest, and every ciphertext field goes through vlr_ciphertexts (src/fl/fl_int.h)
 * under a fixed 1024-bit key, for as many values as the message has. Accepted ciphertexts must
 * be in [1, n^2) and prime to n: anything else aborts. */
#include <stdlib.h>

#include "ccz/ccz.h"
#include "fl/fl_int.h"
#include "hetero_lr.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char N[] =
    "138289265474257771543695460471685083499132537593063164282155086929414625699070408457868247783648474305806711289843153022983025322476970685254239456723322141285768096402410296131054915820500924415843824361890768555593001410259370076149733608464780575523215706237950228273376747793031207178370825755656232198007";

static mpz_t n, n2;

static void check(const ProtobufCBinaryData *in, size_t count)
{
    if (count > 4096)
        return;
    mpz_t *c = calloc(count ? count : 1, sizeof *c), g;
    if (!c)
        abort();
    mpz_init(g);
    for (size_t i = 0; i < count; i++)
        mpz_init(c[i]);
    if (vlr_ciphertexts(c, n, n2, in, count, count, "value") == CCZ_OK)
        for (size_t i = 0; i < count; i++) {
            mpz_gcd(g, c[i], n);
            if (mpz_sgn(c[i]) <= 0 || mpz_cmp(c[i], n2) >= 0 || mpz_cmp_ui(g, 1))
                abort();
        }
    if (count && vlr_ciphertexts(c, n, n2, in, count, count - 1, "value") == CCZ_OK)
        abort(); /* a wrong count is refused */
    ccz_error_clear();
    for (size_t i = 0; i < count; i++)
        mpz_clear(c[i]);
    mpz_clear(g);
    free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!mpz_sgn(n)) {
        mpz_init_set_str(n, N, 10);
        mpz_init(n2);
        mpz_mul(n2, n, n);
    }
    if (size < 1)
        return 0;
    const uint8_t *m = data + 1;
    size_t len = size - 1;
    switch (data[0] % 5) {
    case 0: {
        Heterolr__JoinRequest *r = heterolr__join_request__unpack(NULL, len, m);
        if (r && r->n_ids && !r->ids)
            abort();
        if (r)
            heterolr__join_request__free_unpacked(r, NULL);
        break;
    }
    case 1: {
        Heterolr__ForwardRequest *r = heterolr__forward_request__unpack(NULL, len, m);
        if (r) {
            check(r->forward, r->n_forward);
            check(&r->square, 1);
            heterolr__forward_request__free_unpacked(r, NULL);
        }
        break;
    }
    case 2: {
        Heterolr__ResidualsRequest *r = heterolr__residuals_request__unpack(NULL, len, m);
        if (r) {
            check(r->residuals, r->n_residuals);
            check(&r->loss, 1);
            heterolr__residuals_request__free_unpacked(r, NULL);
        }
        break;
    }
    case 3: {
        Heterolr__GradientRequest *r = heterolr__gradient_request__unpack(NULL, len, m);
        if (r) {
            check(r->masked, r->n_masked);
            heterolr__gradient_request__free_unpacked(r, NULL);
        }
        break;
    }
    default: {
        Heterolr__ScoresRequest *r = heterolr__scores_request__unpack(NULL, len, m);
        if (r)
            heterolr__scores_request__free_unpacked(r, NULL);
        break;
    }
    }
    return 0;
}
