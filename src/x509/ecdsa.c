/* SPDX-License-Identifier: Apache-2.0 */
/* ECDSA with raw encodings: r||s signatures and x||y public keys, as DCAP quotes (P-256),
 * sim evidence (P-256) and SNP reports (P-384) carry them. Inputs are fixed-size arrays;
 * OpenSSL does the arithmetic. */
#include <pthread.h>
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

static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_md;

static void fetch_sha256(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

const EVP_MD *x509_sha256(void)
{
    pthread_once(&sha256_once, fetch_sha256);
    return sha256_md ? sha256_md : EVP_sha256();
}

/* DER INTEGER of the big-endian unsigned n bytes at v: leading zeros dropped (one kept for
 * zero), a zero byte added before a set high bit. Returns the bytes written. */
static size_t der_uint(uint8_t *out, const uint8_t *v, size_t n)
{
    while (n > 1 && v[0] == 0) {
        v++;
        n--;
    }
    size_t pad = v[0] & 0x80 ? 1 : 0;
    out[0] = 0x02;
    out[1] = (uint8_t)(n + pad);
    out[2] = 0;
    memcpy(out + 2 + pad, v, n);
    return 2 + pad + n;
}

/* The DER ECDSA-Sig-Value of r and s (n <= X509_ECDSA_MAX bytes each) into der, which holds
 * X509_ECDSA_DER_MAX bytes. Returns its length. */
enum { X509_ECDSA_MAX = 66, X509_ECDSA_DER_MAX = 3 + 2 * (3 + X509_ECDSA_MAX) };

static size_t der_sig(uint8_t der[X509_ECDSA_DER_MAX], const uint8_t *r, const uint8_t *s, size_t n)
{
    uint8_t ints[2 * (3 + X509_ECDSA_MAX)];
    size_t len = der_uint(ints, r, n);
    len += der_uint(ints + len, s, n);
    size_t hdr = len < 0x80 ? 2 : 3;
    der[0] = 0x30;
    if (hdr == 2) {
        der[1] = (uint8_t)len;
    } else {
        der[1] = 0x81;
        der[2] = (uint8_t)len;
    }
    memcpy(der + hdr, ints, len);
    return hdr + len;
}

/* The digest of msg, then the signature checked against it with ctx (initialised to verify). */
static ccz_status verify_digest(EVP_PKEY_CTX *ctx, const EVP_MD *md, ccz_span msg, const uint8_t *r,
                                const uint8_t *s, size_t n)
{
    uint8_t der[X509_ECDSA_DER_MAX], digest[EVP_MAX_MD_SIZE];
    unsigned digest_len = 0;
    if (n == 0 || n > X509_ECDSA_MAX)
        return CCZ_ERR_BAD_SIGNATURE;
    if (md == EVP_sha256())
        md = x509_sha256(); /* the legacy handle is fetched again on every use */
    size_t der_len = der_sig(der, r, s, n);
    int ok = EVP_Digest(msg.ptr, msg.len, digest, &digest_len, md, NULL) == 1 &&
             EVP_PKEY_verify(ctx, der, der_len, digest, digest_len) == 1;
    ERR_clear_error();
    return ok ? CCZ_OK : CCZ_ERR_BAD_SIGNATURE;
}

ccz_status x509_ecdsa_verify_rs(EVP_PKEY *key, const EVP_MD *md_type, ccz_span msg,
                                const uint8_t *r_raw, const uint8_t *s_raw, size_t n)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    if (!ctx)
        return ccz_fail_ossl(CCZ_ERR_NOMEM, "cannot set up an ECDSA verification");
    if (EVP_PKEY_verify_init(ctx) != 1) { /* not an EC key */
        EVP_PKEY_CTX_free(ctx);
        ERR_clear_error();
        return CCZ_ERR_BAD_SIGNATURE;
    }
    ccz_status s = verify_digest(ctx, md_type, msg, r_raw, s_raw, n);
    EVP_PKEY_CTX_free(ctx);
    return s;
}

ccz_status x509_p256_verify(EVP_PKEY *key, ccz_span msg, const uint8_t sig[64])
{
    return x509_ecdsa_verify_rs(key, x509_sha256(), msg, sig, sig + 32, 32);
}

ccz_status x509_p256_verifier_new(EVP_PKEY_CTX **out, EVP_PKEY *key)
{
    *out = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    if (!*out || EVP_PKEY_verify_init(*out) != 1) {
        EVP_PKEY_CTX_free(*out);
        *out = NULL;
        return ccz_fail_ossl(CCZ_ERR_CRYPTO, "cannot set up an ECDSA verification");
    }
    return CCZ_OK;
}

ccz_status x509_p256_verify_with(EVP_PKEY_CTX *verifier, ccz_span msg, const uint8_t sig[64])
{
    return verify_digest(verifier, x509_sha256(), msg, sig, sig + 32, 32);
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
