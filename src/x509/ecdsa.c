/* SPDX-License-Identifier: Apache-2.0 */
/* ECDSA with raw encodings: r||s signatures and x||y public keys, as DCAP quotes (P-256),
 * sim evidence (P-256) and SNP reports (P-384) carry them. Inputs are fixed-size arrays;
 * OpenSSL does the arithmetic. */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "x509/x509.h"

static bool is_group(EVP_PKEY *key, const char *want)
{
    char group[32] = "";
    size_t n = 0;
    return key && EVP_PKEY_get_base_id(key) == EVP_PKEY_EC &&
           EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                          &n) &&
           strcmp(group, want) == 0;
}

bool x509_is_p256(EVP_PKEY *key)
{
    return is_group(key, "prime256v1");
}

bool x509_is_p384(EVP_PKEY *key)
{
    return is_group(key, "secp384r1");
}

ccz_status x509_p256_key_from_raw(EVP_PKEY **out, const uint8_t xy[64])
{
    *out = NULL;
    if (x509_cache_get(X509_CACHE_P256, CCZ_SPAN(xy, 64), NULL, out))
        return CCZ_OK;
    uint8_t point[65];
    point[0] = 0x04;
    memcpy(point + 1, xy, 64);
    OSSL_PARAM params[] = {
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"prime256v1", 0),
        OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point),
        OSSL_PARAM_END,
    };
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    int ok = ctx && EVP_PKEY_fromdata_init(ctx) == 1 &&
             EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) == 1;
    EVP_PKEY_CTX_free(ctx);
    if (!ok) {
        EVP_PKEY_free(*out);
        *out = NULL;
        return ccz_fail_ossl(CCZ_ERR_KEY_MALFORMED, "not a P-256 public key");
    }
    x509_cache_put(X509_CACHE_P256, CCZ_SPAN(xy, 64), NULL, *out);
    return CCZ_OK;
}

ccz_status x509_ecdsa_verify_rs(EVP_PKEY *key, const EVP_MD *md_type, ccz_span msg,
                                const uint8_t *r_raw, const uint8_t *s_raw, size_t n)
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(r_raw, (int)n, NULL), *s = BN_bin2bn(s_raw, (int)n, NULL);
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
    int ok = md && EVP_DigestVerifyInit(md, NULL, md_type, NULL, key) == 1 &&
             EVP_DigestVerify(md, der, (size_t)der_len, msg.ptr, msg.len) == 1;
    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    ERR_clear_error();
    return ok ? CCZ_OK : CCZ_ERR_BAD_SIGNATURE;
}

ccz_status x509_p256_verify(EVP_PKEY *key, ccz_span msg, const uint8_t sig[64])
{
    return x509_ecdsa_verify_rs(key, EVP_sha256(), msg, sig, sig + 32, 32);
}

ccz_status x509_p256_sign(uint8_t sig[64], EVP_PKEY *key, ccz_span msg)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char der[80];
    size_t der_len = sizeof der;
    ECDSA_SIG *es = NULL;
    ccz_status s = CCZ_OK;
    if (!md || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
        EVP_DigestSign(md, der, &der_len, msg.ptr, msg.len) != 1) {
        s = ccz_fail_ossl(CCZ_ERR_CRYPTO, "cannot sign");
        goto out;
    }
    const unsigned char *p = der;
    es = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    if (!es || BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, 32) != 32 ||
        BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + 32, 32) != 32)
        s = ccz_fail_ossl(CCZ_ERR_CRYPTO, "cannot encode signature");
out:
    ECDSA_SIG_free(es);
    EVP_MD_CTX_free(md);
    return s;
}
