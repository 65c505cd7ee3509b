/* Trust anchors passed explicitly to verifiers. Certificates given here are trusted by
 * definition; they are parsed with OpenSSL's DER/PEM readers. */
#include <stdlib.h>
#include <string.h>

#include <stdatomic.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

static atomic_uint_fast64_t next_trust_id = 1;

#include "ccz/dcap.h"
#include "ccz/snp.h"
#include "internal.h"

ccz_status ccz_trust_new(ccz_trust **out)
{
    *out = NULL;
    ccz_trust *t = calloc(1, sizeof *t);
    CCZ_ENSURE(t, CCZ_ERR_NOMEM, "out of memory");
    t->sim_store = X509_STORE_new();
    t->sim_roots = sk_X509_new_null();
    t->intel_roots = sk_X509_new_null();
    t->intel_store = X509_STORE_new();
    t->amd_store = X509_STORE_new();
    t->amd_roots = sk_X509_new_null();
    t->amd_intermediates = sk_X509_new_null();
    t->id = atomic_fetch_add(&next_trust_id, 1);
    if (!t->sim_store || !t->sim_roots || !t->intel_roots || !t->intel_store || !t->amd_store ||
        !t->amd_roots || !t->amd_intermediates) {
        ccz_trust_free(t);
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    }
    *out = t;
    return CCZ_OK;
}

void ccz_trust_free(ccz_trust *t)
{
    if (!t)
        return;
    X509_STORE_free(t->sim_store);
    sk_X509_pop_free(t->sim_roots, X509_free);
    sk_X509_pop_free(t->intel_roots, X509_free);
    X509_STORE_free(t->intel_store);
    X509_STORE_free(t->amd_store);
    sk_X509_pop_free(t->amd_roots, X509_free);
    sk_X509_pop_free(t->amd_intermediates, X509_free);
    free(t);
}

ccz_status ccz_read_cert(X509 **out, ccz_span in)
{
    *out = NULL;
    CCZ_ENSURE(in.len > 0 && in.len <= INT32_MAX, CCZ_ERR_CERT_MALFORMED, "empty certificate");
    static const char pem_tag[] = "-----BEGIN";
    if (in.len > sizeof pem_tag && memmem(in.ptr, in.len, pem_tag, sizeof pem_tag - 1)) {
        BIO *bio = BIO_new_mem_buf(in.ptr, (int)in.len);
        CCZ_ENSURE(bio, CCZ_ERR_NOMEM, "out of memory");
        *out = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        BIO_free(bio);
    } else {
        const unsigned char *p = in.ptr;
        *out = d2i_X509(NULL, &p, (long)in.len);
        if (*out && p != in.ptr + in.len) {
            X509_free(*out);
            *out = NULL;
        }
    }
    if (!*out)
        return ccz_fail_ossl(CCZ_ERR_CERT_MALFORMED, "cannot parse certificate");
    return CCZ_OK;
}

ccz_status ccz_trust_add_sim_root(ccz_trust *t, ccz_span cert)
{
    X509 *x;
    CCZ_GUARD(ccz_read_cert(&x, cert));
    if (!X509_STORE_add_cert(t->sim_store, x) || !sk_X509_push(t->sim_roots, x)) {
        X509_free(x);
        return ccz_fail_ossl(CCZ_ERR_CRYPTO, "cannot add sim root");
    }
    t->id = atomic_fetch_add(&next_trust_id, 1);
    return CCZ_OK;
}

ccz_status ccz_trust_add_sim_root_file(ccz_trust *t, const char *path)
{
    ccz_buf b = CCZ_BUF_INIT;
    ccz_status s = ccz_file_read(&b, path, 1 << 20);
    if (s == CCZ_OK)
        s = ccz_trust_add_sim_root(t, ccz_buf_span(&b));
    if (s)
        ccz_fail_context(s, "sim root %s", path);
    ccz_buf_free(&b);
    return s;
}

size_t ccz_trust_sim_root_count(const ccz_trust *t)
{
    return (size_t)sk_X509_num(t->sim_roots);
}

ccz_status ccz_trust_add_intel_root(ccz_trust *t, ccz_span cert)
{
    X509 *x;
    CCZ_GUARD(ccz_read_cert(&x, cert));
    if (!X509_STORE_add_cert(t->intel_store, x) || !sk_X509_push(t->intel_roots, x)) {
        X509_free(x);
        return ccz_fail_ossl(CCZ_ERR_CRYPTO, "cannot add Intel root");
    }
    t->id = atomic_fetch_add(&next_trust_id, 1);
    return CCZ_OK;
}

ccz_status ccz_trust_add_amd_ark(ccz_trust *t, ccz_span cert)
{
    X509 *x;
    CCZ_GUARD(ccz_read_cert(&x, cert));
    if (X509_check_issued(x, x) != X509_V_OK) {
        X509_free(x);
        return ccz_fail(CCZ_ERR_CERT_CHAIN, "an AMD root (ARK) must be self-signed");
    }
    if (!X509_STORE_add_cert(t->amd_store, x) || !sk_X509_push(t->amd_roots, x)) {
        X509_free(x);
        return ccz_fail_ossl(CCZ_ERR_CRYPTO, "cannot add AMD root");
    }
    t->id = atomic_fetch_add(&next_trust_id, 1);
    return CCZ_OK;
}

/* The built-in AMD certificates: self-signed ARKs become roots, ASKs and ASVKs intermediates. */
static ccz_status add_amd_builtin(ccz_trust *t)
{
    STACK_OF(X509) *all = NULL;
    ccz_status s = ccz_read_pem_certs(&all, ccz_amd_builtin_certs(), 16);
    for (int i = 0; s == CCZ_OK && i < sk_X509_num(all); i++) {
        X509 *x = sk_X509_value(all, i);
        X509_up_ref(x);
        bool root = X509_check_issued(x, x) == X509_V_OK;
        if (root ? !X509_STORE_add_cert(t->amd_store, x) || !sk_X509_push(t->amd_roots, x)
                 : !sk_X509_push(t->amd_intermediates, x)) {
            X509_free(x);
            s = ccz_fail_ossl(CCZ_ERR_CRYPTO, "cannot add the built-in AMD certificates");
        }
    }
    sk_X509_pop_free(all, X509_free);
    t->id = atomic_fetch_add(&next_trust_id, 1);
    return s;
}

ccz_status ccz_trust_add_builtin(ccz_trust *t)
{
    CCZ_GUARD(ccz_trust_add_intel_root(t, ccz_intel_root_ca()));
    return add_amd_builtin(t);
}

ccz_status ccz_read_pem_certs(STACK_OF(X509) **out, ccz_span pem, int max)
{
    /* Chains in the wild come concatenated without newlines between certificates, without a
     * final newline, or with a trailing NUL; give OpenSSL's PEM reader one line per marker. */
    static const char end[] = "-----END CERTIFICATE-----";
    *out = sk_X509_new_null();
    ccz_buf text = CCZ_BUF_INIT;
    CCZ_ENSURE(*out, CCZ_ERR_NOMEM, "out of memory");
    ccz_status s = CCZ_OK;
    size_t n = pem.len;
    while (n && pem.ptr[n - 1] == 0)
        n--;
    for (size_t i = 0; i < n && s == CCZ_OK; i++) {
        s = ccz_buf_append_u8(&text, pem.ptr[i]);
        if (s == CCZ_OK && i + 1 >= sizeof end - 1 &&
            memcmp(pem.ptr + i + 1 - (sizeof end - 1), end, sizeof end - 1) == 0)
            s = ccz_buf_append_u8(&text, '\n');
    }
    if (s || text.len > INT32_MAX) {
        ccz_buf_free(&text);
        return s ? s : ccz_fail(CCZ_ERR_TOO_LARGE, "certificate chain too large");
    }
    BIO *bio = BIO_new_mem_buf(text.ptr ? text.ptr : (uint8_t *)"", (int)text.len);
    X509 *x;
    while (bio && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        if (sk_X509_num(*out) == max || !sk_X509_push(*out, x)) {
            X509_free(x);
            s = ccz_fail(CCZ_ERR_MALFORMED, "more than %d certificates in a chain", max);
            break;
        }
    }
    BIO_free(bio);
    ccz_buf_free(&text);
    ERR_clear_error();
    if (s == CCZ_OK && sk_X509_num(*out) == 0)
        s = ccz_fail(CCZ_ERR_CERT_MALFORMED, "no PEM certificate found");
    return s;
}

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

int ccz_x509_verify_at(X509_STORE_CTX *ctx, int64_t at)
{
    X509_STORE_CTX_set_time(ctx, 0, (time_t)at);
    X509_STORE_CTX_set_verify_cb(ctx, inclusive_end);
    return X509_verify_cert(ctx);
}
