/* ECDSA P-256 with raw r||s signatures and raw x||y public keys, the encodings DCAP quotes and
 * sim evidence use. Inputs are fixed-size arrays; OpenSSL does the arithmetic. */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "internal.h"

bool ccz_is_p256(EVP_PKEY *key)
{
    char group[32] = "";
    size_t n = 0;
    return EVP_PKEY_get_base_id(key) == EVP_PKEY_EC &&
           EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                          &n) &&
           strcmp(group, "prime256v1") == 0;
}

ccz_status ccz_p256_key_from_raw(EVP_PKEY **out, const uint8_t xy[64])
{
    *out = NULL;
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
    return CCZ_OK;
}

ccz_status ccz_p256_verify(EVP_PKEY *key, ccz_span msg, const uint8_t sig[64])
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
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
    int ok = md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
             EVP_DigestVerify(md, der, (size_t)der_len, msg.ptr, msg.len) == 1;
    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    ERR_clear_error();
    return ok ? CCZ_OK : CCZ_ERR_BAD_SIGNATURE;
}

ccz_status ccz_p256_sign(uint8_t sig[64], EVP_PKEY *key, ccz_span msg)
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
