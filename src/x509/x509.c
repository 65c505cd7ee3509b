/* SPDX-License-Identifier: Apache-2.0 */
/* Certificates for all of libccz: time, the chain check at an instant, reading and writing
 * PEM, extensions, hashes and issuing. Certificates read here are untrusted until
 * x509_verify_chain says otherwise; the roots in the caller's X509_STORE are trusted. */
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "core/guard.h"
#include "x509/x509.h"

/* ---- time ----------------------------------------------------------------------------------*/

int64_t x509_time_unix(const ASN1_TIME *t, int64_t dflt)
{
    struct tm tm;
    if (!t || !ASN1_TIME_to_tm(t, &tm))
        return dflt;
    return (int64_t)timegm(&tm);
}

void x509_window_narrow(x509_window *w, int64_t from, int64_t until)
{
    if (from > w->from)
        w->from = from;
    if (until < w->until)
        w->until = until;
}

void x509_window_narrow_cert(x509_window *w, const X509 *x)
{
    x509_window_narrow(w, x509_time_unix(X509_get0_notBefore(x), INT64_MAX),
                       x509_time_unix(X509_get0_notAfter(x), 0));
}

void x509_window_narrow_crl(x509_window *w, const X509_CRL *crl)
{
    /* a CRL without nextUpdate has no end (as x509_verify_chain takes it) */
    const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl);
    x509_window_narrow(w, x509_time_unix(X509_CRL_get0_lastUpdate(crl), INT64_MAX),
                       next ? x509_time_unix(next, 0) : INT64_MAX);
}

/* ---- the chain check -----------------------------------------------------------------------*/

/* OpenSSL holds a certificate expired from its notAfter second on, and a CRL from its
 * nextUpdate second on (X509_cmp_time counts "equal" as "before"). RFC 5280 (4.1.2.5) makes
 * the validity period inclusive of both ends, Intel's QVL accepts a certificate at its notAfter
 * and a CRL at its nextUpdate, and ccz's own checks (TCB info, RA-TLS certificates) are
 * inclusive: this callback forgives exactly that one second and nothing else. notBefore and
 * lastUpdate are already inclusive in OpenSSL. */
static int inclusive_end(int ok, X509_STORE_CTX *ctx)
{
    if (ok)
        return ok;
    const ASN1_TIME *end = NULL;
    switch (X509_STORE_CTX_get_error(ctx)) {
    case X509_V_ERR_CERT_HAS_EXPIRED: {
        X509 *x = X509_STORE_CTX_get_current_cert(ctx);
        end = x ? X509_get0_notAfter(x) : NULL;
        break;
    }
    case X509_V_ERR_CRL_HAS_EXPIRED: {
        X509_CRL *crl = X509_STORE_CTX_get0_current_crl(ctx);
        end = crl ? X509_CRL_get0_nextUpdate(crl) : NULL;
        break;
    }
    default:
        return 0;
    }
    X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
    if (!end || !(X509_VERIFY_PARAM_get_flags(param) & X509_V_FLAG_USE_CHECK_TIME) ||
        ASN1_TIME_cmp_time_t(end, X509_VERIFY_PARAM_get_time(param)) != 0)
        return 0;
    X509_STORE_CTX_set_error(ctx, X509_V_OK);
    return 1;
}

int x509_verify_at(X509_STORE_CTX *ctx, int64_t at)
{
    X509_STORE_CTX_set_time(ctx, 0, (time_t)at);
    X509_STORE_CTX_set_verify_cb(ctx, inclusive_end);
    return X509_verify_cert(ctx);
}

ccz_status x509_status_of(int err, bool collateral)
{
    switch (err) {
    case X509_V_ERR_CERT_REVOKED:
        return CCZ_ERR_REVOKED;
    case X509_V_ERR_CRL_HAS_EXPIRED:
    case X509_V_ERR_CRL_NOT_YET_VALID:
        return CCZ_ERR_COLLATERAL_OUT_OF_DATE;
    case X509_V_ERR_CERT_HAS_EXPIRED:
        return collateral ? CCZ_ERR_COLLATERAL_OUT_OF_DATE : CCZ_ERR_EXPIRED;
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return collateral ? CCZ_ERR_COLLATERAL_OUT_OF_DATE : CCZ_ERR_NOT_YET_VALID;
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
        return CCZ_ERR_BAD_SIGNATURE;
    case X509_V_ERR_UNABLE_TO_GET_CRL:
        return CCZ_ERR_COLLATERAL_MISMATCH;
    default:
        return CCZ_ERR_CERT_CHAIN;
    }
}

static ccz_status cert_failed(const x509_chain_check *k, int err, X509 *bad, int *x509_err)
{
    if (x509_err)
        *x509_err = err;
    ccz_status s;
    if (k->name_cert) {
        char name[160] = "?";
        if (bad)
            X509_NAME_get_text_by_NID(X509_get_subject_name(bad), NID_commonName, name,
                                      sizeof name);
        s = ccz_fail(x509_status_of(err, k->collateral), "%s: %s (certificate '%s')", k->what,
                     X509_verify_cert_error_string(err), name);
    } else {
        s = ccz_fail(x509_status_of(err, k->collateral), "%s: %s", k->what,
                     X509_verify_cert_error_string(err));
    }
    ERR_clear_error();
    return s;
}

static ccz_status chain_failed(const x509_chain_check *k, X509_STORE_CTX *ctx, int *x509_err)
{
    return cert_failed(k, X509_STORE_CTX_get_error(ctx), X509_STORE_CTX_get_current_cert(ctx),
                       x509_err);
}

/* The X509_V_ERR_* of checking x, issued by issuer, against k->ca_crls (crl_leaf_only). */
static int ca_crl_error(const x509_chain_check *k, X509 *x, X509 *issuer)
{
    X509_CRL *crl = NULL;
    for (int i = 0; i < k->n_ca_crls && !crl; i++)
        if (X509_NAME_cmp(X509_CRL_get_issuer(k->ca_crls[i]), X509_get_issuer_name(x)) == 0)
            crl = k->ca_crls[i];
    if (!crl)
        return X509_V_ERR_UNABLE_TO_GET_CRL;
    const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl);
    if (ASN1_TIME_cmp_time_t(X509_CRL_get0_lastUpdate(crl), (time_t)k->at) > 0)
        return X509_V_ERR_CRL_NOT_YET_VALID;
    if (next && ASN1_TIME_cmp_time_t(next, (time_t)k->at) < 0)
        return X509_V_ERR_CRL_HAS_EXPIRED;
    if (!k->ca_crls_signer || X509_cmp(issuer, k->ca_crls_signer) != 0) {
        if (!(X509_get_key_usage(issuer) & KU_CRL_SIGN))
            return X509_V_ERR_KEYUSAGE_NO_CRL_SIGN;
        EVP_PKEY *key = X509_get0_pubkey(issuer);
        if (!key || X509_CRL_verify(crl, key) != 1)
            return X509_V_ERR_CRL_SIGNATURE_FAILURE;
    }
    X509_REVOKED *rev = NULL;
    return X509_CRL_get0_by_cert(crl, &rev, x) == 1 ? X509_V_ERR_CERT_REVOKED : X509_V_OK;
}

ccz_status x509_verify_chain(const x509_chain_check *k, X509 *leaf, x509_window *w, X509 **root,
                             int *x509_err)
{
    if (root)
        *root = NULL;
    if (x509_err)
        *x509_err = X509_V_OK;
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    STACK_OF(X509_CRL) *crls = k->n_crls > 0 ? sk_X509_CRL_new_null() : NULL;
    ccz_status s = CCZ_OK;
    if (!ctx || (k->n_crls > 0 && !crls) ||
        !X509_STORE_CTX_init(ctx, k->store, leaf, k->untrusted)) {
        s = ccz_fail_ossl(CCZ_ERR_NOMEM, "%s: cannot set up verification", k->what);
        goto out;
    }
    for (int i = 0; i < k->n_crls; i++)
        if (!sk_X509_CRL_push(crls, k->crls[i])) {
            s = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
            goto out;
        }
    if (k->n_crls > 0) {
        X509_STORE_CTX_set0_crls(ctx, crls);
        X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_CRL_CHECK |
                                          (k->crl_leaf_only ? 0 : X509_V_FLAG_CRL_CHECK_ALL));
    }
    if (x509_verify_at(ctx, k->at) != 1) {
        s = chain_failed(k, ctx, x509_err);
        goto out;
    }
    STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
    for (int i = 1; k->crl_leaf_only && i + 1 < sk_X509_num(chain); i++) {
        X509 *x = sk_X509_value(chain, i);
        int err = ca_crl_error(k, x, sk_X509_value(chain, i + 1));
        if (err != X509_V_OK) {
            s = cert_failed(k, err, x, x509_err);
            goto out;
        }
    }
    for (int i = 0; w && i < sk_X509_num(chain); i++)
        x509_window_narrow_cert(w, sk_X509_value(chain, i));
    for (int i = 0; w && i < k->n_crls; i++)
        x509_window_narrow_crl(w, k->crls[i]);
    for (int i = 0; w && k->crl_leaf_only && i < k->n_ca_crls; i++)
        x509_window_narrow_crl(w, k->ca_crls[i]);
    if (root) {
        *root = sk_X509_value(chain, sk_X509_num(chain) - 1);
        X509_up_ref(*root);
    }
out:
    X509_STORE_CTX_free(ctx);
    sk_X509_CRL_free(crls);
    return s;
}

/* ---- reading, writing, finding -------------------------------------------------------------*/

/* The one certificate of a cache hit, or NULL. */
static X509 *cached_cert(int kind, ccz_span in)
{
    STACK_OF(X509) *sk = NULL;
    if (!x509_cache_get(kind, in, &sk, NULL))
        return NULL;
    X509 *x = sk_X509_num(sk) == 1 ? sk_X509_shift(sk) : NULL;
    sk_X509_pop_free(sk, X509_free);
    return x;
}

static void cache_cert(int kind, ccz_span in, X509 *x)
{
    STACK_OF(X509) *sk = sk_X509_new_null();
    if (sk && sk_X509_push(sk, x))
        x509_cache_put(kind, in, sk, NULL);
    sk_X509_free(sk); /* the stack only: x is the caller's */
}

static ccz_status read_cert(X509 **out, ccz_span in)
{
    /* DER first, when the bytes are one SEQUENCE: a DER certificate may carry PEM inside (an
     * RA-TLS certificate's quote holds its PCK chain), which must not be read instead of it */
    if (in.ptr[0] == 0x30) {
        const unsigned char *p = in.ptr;
        *out = d2i_X509(NULL, &p, (long)in.len);
        if (*out && p == in.ptr + in.len)
            return CCZ_OK;
        X509_free(*out);
        *out = NULL;
        ERR_clear_error();
        /* not PEM either: PEM text does not start with a SEQUENCE, and the PEM a DER
         * certificate carries inside (cut short or followed by more bytes) is not it */
        return ccz_fail(CCZ_ERR_CERT_MALFORMED, "cannot parse certificate (DER)");
    }
    ccz_span pem_tag = CCZ_LIT("-----BEGIN");
    if (in.len > pem_tag.len + 1 && memmem(in.ptr, in.len, pem_tag.ptr, pem_tag.len)) {
        BIO *bio = BIO_new_mem_buf(in.ptr, (int)in.len);
        CCZ_ENSURE(bio, CCZ_ERR_NOMEM, "out of memory");
        *out = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        BIO_free(bio);
    }
    if (!*out)
        return ccz_fail_ossl(CCZ_ERR_CERT_MALFORMED, "cannot parse certificate");
    return CCZ_OK;
}

ccz_status x509_read_der(X509 **out, ccz_span in)
{
    *out = NULL;
    CCZ_ENSURE(in.len > 0 && in.len <= INT32_MAX, CCZ_ERR_CERT_MALFORMED, "empty certificate");
    if ((*out = cached_cert(X509_CACHE_CERT, in)) != NULL)
        return CCZ_OK;
    const unsigned char *p = in.ptr;
    *out = d2i_X509(NULL, &p, (long)in.len);
    if (!*out || p != in.ptr + in.len) {
        X509_free(*out);
        *out = NULL;
        return ccz_fail_ossl(CCZ_ERR_CERT_MALFORMED, "cannot parse certificate (DER)");
    }
    cache_cert(X509_CACHE_CERT, in, *out);
    return CCZ_OK;
}

ccz_status x509_read_cert(X509 **out, ccz_span in)
{
    *out = NULL;
    CCZ_ENSURE(in.len > 0 && in.len <= INT32_MAX, CCZ_ERR_CERT_MALFORMED, "empty certificate");
    /* what was read as PEM is kept apart: x509_read_der must not find it */
    int kind = in.ptr[0] == 0x30 ? X509_CACHE_CERT : X509_CACHE_PEM_CERT;
    if ((*out = cached_cert(kind, in)) != NULL)
        return CCZ_OK;
    CCZ_GUARD(read_cert(out, in));
    cache_cert(kind, in, *out);
    return CCZ_OK;
}

ccz_status x509_read_pem_certs(STACK_OF(X509) **out, ccz_span pem, int max)
{
    /* Chains in the wild come concatenated without newlines between certificates, without a
     * final newline, or with a trailing NUL; give OpenSSL's PEM reader one line per marker. */
    ccz_span end = CCZ_LIT("-----END CERTIFICATE-----");
    if (x509_cache_get(X509_CACHE_CHAIN, pem, out, NULL)) {
        if (sk_X509_num(*out) <= max)
            return CCZ_OK;
        sk_X509_pop_free(*out, X509_free);
    }
    *out = sk_X509_new_null();
    ccz_buf text = CCZ_BUF_INIT;
    CCZ_ENSURE(*out, CCZ_ERR_NOMEM, "out of memory");
    ccz_status s = CCZ_OK;
    size_t n = pem.len;
    while (n && pem.ptr[n - 1] == 0)
        n--;
    for (size_t i = 0; i < n && s == CCZ_OK; i++) {
        if (pem.ptr[i] == 0) { /* the PEM reader would stop there, dropping the rest */
            s = ccz_fail(CCZ_ERR_CERT_MALFORMED, "a NUL byte inside the certificate chain");
            break;
        }
        s = ccz_buf_append_u8(&text, pem.ptr[i]);
        if (s == CCZ_OK && i + 1 >= end.len &&
            memcmp(pem.ptr + i + 1 - end.len, end.ptr, end.len) == 0)
            s = ccz_buf_append_u8(&text, '\n');
    }
    if (s || text.len > INT32_MAX) {
        ccz_buf_free(&text);
        return s ? s : ccz_fail(CCZ_ERR_TOO_LARGE, "certificate chain too large");
    }
    BIO *bio = BIO_new_mem_buf(text.ptr ? text.ptr : (uint8_t *)"", (int)text.len);
    X509 *x;
    ERR_clear_error();
    while (bio && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        if (sk_X509_num(*out) == max || !sk_X509_push(*out, x)) {
            X509_free(x);
            s = ccz_fail(CCZ_ERR_MALFORMED, "more than %d certificates in a chain", max);
            break;
        }
    }
    /* the reader stops at the end of the text (no further BEGIN line) or at a certificate it
     * cannot read: that one is not skipped, nor the rest dropped */
    unsigned long e = ERR_peek_last_error();
    if (s == CCZ_OK && bio &&
        !(ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE))
        s = ccz_fail_ossl(CCZ_ERR_CERT_MALFORMED, "cannot parse certificate %d of the chain",
                          sk_X509_num(*out) + 1);
    BIO_free(bio);
    ccz_buf_free(&text);
    ERR_clear_error();
    if (s == CCZ_OK && sk_X509_num(*out) == 0)
        s = ccz_fail(CCZ_ERR_CERT_MALFORMED, "no PEM certificate found");
    if (s == CCZ_OK)
        x509_cache_put(X509_CACHE_CHAIN, pem, *out, NULL);
    return s;
}

ccz_status x509_key_from_pem(EVP_PKEY **out, ccz_span pem)
{
    *out = NULL;
    if (pem.len > INT32_MAX)
        return CCZ_ERR_KEY_MALFORMED;
    BIO *bio = BIO_new_mem_buf(pem.ptr ? pem.ptr : (const uint8_t *)"", (int)pem.len);
    *out = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    if (!*out && bio) {
        ERR_clear_error();
        (void)BIO_reset(bio);
        *out = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    }
    BIO_free(bio);
    return *out ? CCZ_OK : CCZ_ERR_KEY_MALFORMED;
}

/* Appends what a BIO holds, wiping the BIO's copy (it may hold a private key). */
static ccz_status append_bio(ccz_buf *out, BIO *bio)
{
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    ccz_status s = ccz_buf_append(out, data, n > 0 ? (size_t)n : 0);
    if (n > 0)
        ccz_wipe(data, (size_t)n);
    return s;
}

ccz_status x509_key_to_pem(ccz_buf *out, EVP_PKEY *key)
{
    BIO *bio = BIO_new(BIO_s_mem());
    CCZ_ENSURE(bio, CCZ_ERR_NOMEM, "out of memory");
    ccz_status s = PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL)
                       ? append_bio(out, bio)
                       : ccz_fail_ossl(CCZ_ERR_CRYPTO, "cannot encode key");
    BIO_free(bio);
    return s;
}

ccz_status x509_cert_to_pem(ccz_buf *out, X509 *x)
{
    BIO *bio = BIO_new(BIO_s_mem());
    CCZ_ENSURE(bio, CCZ_ERR_NOMEM, "out of memory");
    ccz_status s = PEM_write_bio_X509(bio, x) ? append_bio(out, bio)
                                              : ccz_fail_ossl(CCZ_ERR_CRYPTO, "cannot encode "
                                                                              "certificate");
    BIO_free(bio);
    return s;
}

/* The index of the first extension with this dotted OID (-1 when none, -2 when the OID cannot be
 * made), and in *next, if asked, the second's (-1 when none). */
static int ext_index(const X509 *x, const char *oid_text, int *next)
{
    /* made per call: a cached ASN1_OBJECT would need a lock (or pthread_once) for a few
     * hundred nanoseconds saved */
    ASN1_OBJECT *oid = OBJ_txt2obj(oid_text, 1);
    if (!oid)
        return -2;
    int idx = X509_get_ext_by_OBJ(x, oid, -1);
    if (next)
        *next = idx < 0 ? -1 : X509_get_ext_by_OBJ(x, oid, idx);
    ASN1_OBJECT_free(oid);
    return idx;
}

int x509_ext_count(const X509 *x, const char *oid_text, ASN1_OCTET_STRING **first)
{
    int again = -1;
    int idx = ext_index(x, oid_text, &again);
    *first = idx < 0 ? NULL : X509_EXTENSION_get_data(X509_get_ext(x, idx));
    return idx == -2 ? -1 : idx < 0 ? 0 : again < 0 ? 1 : 2;
}

ASN1_OCTET_STRING *x509_find_ext(const X509 *x, const char *oid_text)
{
    int idx = ext_index(x, oid_text, NULL);
    return idx < 0 ? NULL : X509_EXTENSION_get_data(X509_get_ext(x, idx));
}

static ccz_status sha256_der(uint8_t out[32], unsigned char *der, int n, const char *what)
{
    if (n <= 0)
        return ccz_fail_ossl(CCZ_ERR_CRYPTO, "cannot encode %s", what);
    int ok = EVP_Digest(der, (size_t)n, out, NULL, EVP_sha256(), NULL);
    OPENSSL_free(der);
    CCZ_GUARD_OSSL(ok, CCZ_ERR_CRYPTO, "SHA-256 failed");
    return CCZ_OK;
}

ccz_status x509_cert_sha256(uint8_t out[32], X509 *x)
{
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    return sha256_der(out, der, n, "certificate");
}

ccz_status x509_spki_sha256(uint8_t out[32], EVP_PKEY *key)
{
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(key, &der);
    return sha256_der(out, der, n, "public key");
}

ccz_status x509_spki_digest(uint8_t *out, unsigned *len, EVP_PKEY *key, const EVP_MD *md)
{
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(key, &der);
    if (n <= 0)
        return ccz_fail_ossl(CCZ_ERR_CRYPTO, "cannot encode the public key");
    int ok = EVP_Digest(der, (size_t)n, out, len, md, NULL);
    OPENSSL_free(der);
    return ok ? CCZ_OK : ccz_fail_ossl(CCZ_ERR_CRYPTO, "hash failed");
}

/* ---- issuing -------------------------------------------------------------------------------*/

static ccz_status add_ext(X509 *issuer, X509 *subject, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, issuer, subject, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    int ok = ext && X509_add_ext(subject, ext, -1);
    X509_EXTENSION_free(ext);
    if (!ok)
        return ccz_fail_ossl(CCZ_ERR_CRYPTO, "cannot add certificate extension %s", value);
    return CCZ_OK;
}

static ccz_status add_raw_ext(X509 *x, const x509_raw_ext *r)
{
    ASN1_OBJECT *oid = OBJ_txt2obj(r->oid, 1);
    ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();
    X509_EXTENSION *e = NULL;
    int ok = oid && v && r->value.len <= INT32_MAX &&
             ASN1_OCTET_STRING_set(v, r->value.ptr, (int)r->value.len) &&
             (e = X509_EXTENSION_create_by_OBJ(NULL, oid, 0, v)) && X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    ASN1_OCTET_STRING_free(v);
    ASN1_OBJECT_free(oid);
    return ok ? CCZ_OK : ccz_fail_ossl(CCZ_ERR_CRYPTO, "cannot add extension %s", r->oid);
}

/* value is UTF-8 (from the bindings and the command line), stored as a UTF8String */
static ccz_status add_name(X509_NAME *name, const char *field, const char *value)
{
    if (!value || X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                             (const unsigned char *)value, -1, -1, 0))
        return CCZ_OK;
    return ccz_fail_ossl(CCZ_ERR_INVALID_ARGUMENT,
                         "the certificate's subject %s must be 1 to 64 characters of UTF-8", field);
}

ccz_status x509_issue(X509 **out, EVP_PKEY *key, const x509_issue_opts *o)
{
    *out = NULL;
    X509 *x = X509_new();
    CCZ_ENSURE(x, CCZ_ERR_NOMEM, "out of memory");
    ccz_status s = CCZ_OK;
    unsigned char serial[16];
    BIGNUM *bn = NULL;
    X509_NAME *name = X509_get_subject_name(x);
    if (RAND_bytes(serial, sizeof serial) != 1)
        goto ossl;
    serial[0] &= 0x7f;
    bn = BN_bin2bn(serial, sizeof serial, NULL);
    if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) || !X509_set_version(x, 2) ||
        !ASN1_TIME_set(X509_getm_notBefore(x), (time_t)o->not_before) ||
        !ASN1_TIME_set(X509_getm_notAfter(x), (time_t)o->not_after))
        goto ossl;
    CCZ_GUARD_GOTO(add_name(name, "O", o->org), s, done);
    CCZ_GUARD_GOTO(add_name(name, "CN", o->cn), s, done);
    if (!X509_set_issuer_name(x, o->issuer ? X509_get_subject_name(o->issuer) : name) ||
        !X509_set_pubkey(x, key))
        goto ossl;
    X509 *iss = o->issuer ? o->issuer : x;
    CCZ_GUARD_GOTO(
        add_ext(iss, x, NID_basic_constraints, o->ca ? "critical,CA:TRUE" : "critical,CA:FALSE"), s,
        done);
    if (!o->no_key_usage)
        CCZ_GUARD_GOTO(
            add_ext(iss, x, NID_key_usage,
                    o->ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature"),
            s, done);
    CCZ_GUARD_GOTO(add_ext(iss, x, NID_subject_key_identifier, "hash"), s, done);
    if (o->issuer)
        CCZ_GUARD_GOTO(add_ext(iss, x, NID_authority_key_identifier, "keyid:always"), s, done);
    if (o->san)
        CCZ_GUARD_GOTO(add_ext(iss, x, NID_subject_alt_name, o->san), s, done);
    for (size_t i = 0; i < o->n_exts; i++)
        CCZ_GUARD_GOTO(add_raw_ext(x, &o->exts[i]), s, done);
    if (!X509_sign(x, o->issuer_key, o->md ? o->md : EVP_sha256()))
        goto ossl;
    *out = x;
    x = NULL;
    goto done;
ossl:
    s = ccz_fail_ossl(CCZ_ERR_CRYPTO, "cannot issue certificate '%s'", o->cn ? o->cn : "");
done:
    BN_free(bn);
    X509_free(x);
    return s;
}
