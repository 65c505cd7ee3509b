/* SPDX-License-Identifier: Apache-2.0 */
/* Raw signature verifications through the same OpenSSL as ccz's verifiers, timed like the
 * evidence beside them: the unit the verification goals are stated in. */
#ifndef CCZ_BENCH_SIGRATE_H
#define CCZ_BENCH_SIGRATE_H

#include <openssl/evp.h>

#include "clock.h"

typedef struct {
    EVP_PKEY_CTX *ctx;
    unsigned char msg[64], sig[160];
    size_t msg_len, sig_len;
} bench_ec_sig;

static inline bool bench_ec_verify_once(void *arg)
{
    bench_ec_sig *e = arg;
    return EVP_PKEY_verify(e->ctx, e->sig, e->sig_len, e->msg, e->msg_len) == 1;
}

/* One signature over a digest of the curve's size ("P-256": 32 bytes, "P-384": 48), ready for
 * bench_ec_verify_once; freed with EVP_PKEY_CTX_free(e->ctx). */
static inline void bench_ec_sig_init(bench_ec_sig *e, const char *curve, size_t digest_len)
{
    *e = (bench_ec_sig){.msg = {1}, .msg_len = digest_len, .sig_len = sizeof e->sig};
    EVP_PKEY *k = EVP_EC_gen(curve);
    e->ctx = EVP_PKEY_CTX_new(k, NULL);
    EVP_PKEY_sign_init(e->ctx);
    EVP_PKEY_sign(e->ctx, e->sig, &e->sig_len, e->msg, e->msg_len);
    EVP_PKEY_verify_init(e->ctx);
    EVP_PKEY_free(k); /* the context holds its own reference */
}

/* ECDSA verifications of one signature over a digest of the curve's size with EVP_PKEY_verify,
 * as `openssl speed ecdsap256` does. */
static inline bench_run bench_ec_verify_run(const char *curve, size_t digest_len, double seconds)
{
    bench_ec_sig e;
    bench_ec_sig_init(&e, curve, digest_len);
    bench_run r = bench_repeat(bench_ec_verify_once, &e, 20, seconds);
    EVP_PKEY_CTX_free(e.ctx);
    return r;
}

#endif
