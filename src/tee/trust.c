/* Trust anchors passed explicitly to verifiers. Certificates given here are trusted by
 * definition; they are parsed with OpenSSL's DER/PEM readers. */
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "internal.h"

ccz_status ccz_trust_new(ccz_trust **out)
{
    *out = NULL;
    ccz_trust *t = calloc(1, sizeof *t);
    CCZ_ENSURE(t, CCZ_ERR_NOMEM, "out of memory");
    t->sim_store = X509_STORE_new();
    t->sim_roots = sk_X509_new_null();
    if (!t->sim_store || !t->sim_roots) {
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
    free(t);
}

/* Reads one certificate, PEM or DER. */
static ccz_status read_cert(X509 **out, ccz_span in)
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
    CCZ_GUARD(read_cert(&x, cert));
    if (!X509_STORE_add_cert(t->sim_store, x) || !sk_X509_push(t->sim_roots, x)) {
        X509_free(x);
        return ccz_fail_ossl(CCZ_ERR_CRYPTO, "cannot add sim root");
    }
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
