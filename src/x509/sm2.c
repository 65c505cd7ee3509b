/* SPDX-License-Identifier: Apache-2.0 */
/* SM2 signatures with SM3 and raw encodings (x, y and r, s as 32-byte big-endian numbers), as
 * Hygon's CSV certificates and reports carry them. The inputs are fixed-size arrays; OpenSSL 3
 * (its SM2 key type and SM3) does the arithmetic and the Z-value with the distinguishing id. */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "x509/x509.h"

ccz_status x509_sm2_key_from_raw(EVP_PKEY **out, const uint8_t x[32], const uint8_t y[32])
{
    *out = NULL;
    uint8_t point[65];
    point[0] = 0x04;
    memcpy(point + 1, x, 32);
    memcpy(point + 33, y, 32);
    if (x509_cache_get(X509_CACHE_SM2, CCZ_SPAN(point, sizeof point), NULL, out))
        return CCZ_OK;
    OSSL_PARAM params[] = {
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"SM2", 0),
        OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point),
        OSSL_PARAM_END,
    };
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL);
    int ok = ctx && EVP_PKEY_fromdata_init(ctx) == 1 &&
             EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) == 1;
    EVP_PKEY_CTX_free(ctx);
    /* whether fromdata checks that the point is on the curve is OpenSSL's choice (3.0.19 does):
     * the public check makes it ours */
    EVP_PKEY_CTX *chk = ok ? EVP_PKEY_CTX_new_from_pkey(NULL, *out, NULL) : NULL;
    ok = ok && chk && EVP_PKEY_public_check(chk) == 1;
    EVP_PKEY_CTX_free(chk);
    if (!ok) {
        EVP_PKEY_free(*out);
        *out = NULL;
        return ccz_fail_ossl(CCZ_ERR_KEY_MALFORMED, "not an SM2 public key");
    }
    x509_cache_put(X509_CACHE_SM2, CCZ_SPAN(point, sizeof point), NULL, *out);
    return CCZ_OK;
}

ccz_status x509_sm2_verify_rs(EVP_PKEY *key, ccz_span id, ccz_span msg, const uint8_t r_raw[32],
                              const uint8_t s_raw[32])
{
    ECDSA_SIG *es = ECDSA_SIG_new(); /* the same DER SEQUENCE of two INTEGERs */
    BIGNUM *r = BN_bin2bn(r_raw, 32, NULL), *s = BN_bin2bn(s_raw, 32, NULL);
    unsigned char *der = NULL;
    int der_len = -1;
    if (es && r && s && ECDSA_SIG_set0(es, r, s)) {
        r = s = NULL;
        der_len = i2d_ECDSA_SIG(es, &der);
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    if (der_len <= 0)
        return ccz_fail_ossl(CCZ_ERR_NOMEM, "cannot encode signature");
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    int ok = md && pctx && EVP_PKEY_CTX_set1_id(pctx, id.ptr, id.len) == 1;
    if (ok) {
        EVP_MD_CTX_set_pkey_ctx(md, pctx); /* md uses pctx; freed below, after md */
        ok = EVP_DigestVerifyInit(md, NULL, EVP_sm3(), NULL, key) == 1 &&
             EVP_DigestVerify(md, der, (size_t)der_len, msg.ptr, msg.len) == 1;
    }
    EVP_MD_CTX_free(md);
    EVP_PKEY_CTX_free(pctx);
    OPENSSL_free(der);
    ERR_clear_error();
    return ok ? CCZ_OK : CCZ_ERR_BAD_SIGNATURE;
}
