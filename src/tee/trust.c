/* SPDX-License-Identifier: Apache-2.0 */
/* Trust anchors passed explicitly to verifiers. Certificates given here are trusted by
 * definition; they are parsed with OpenSSL's DER/PEM readers. */
#include <stdlib.h>
#include <string.h>

#include <stdatomic.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

static atomic_uint_fast64_t next_trust_id = 1;

#include "core/guard.h"
#include "ccz/csv.h"
#include "ccz/dcap.h"
#include "ccz/snp.h"
#include "internal.h"

uint64_t tee_trust_next_id(void)
{
    return atomic_fetch_add(&next_trust_id, 1);
}

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
        !t->amd_roots || !t->amd_intermediates || tee_chain_cache_new(&t->chains) != CCZ_OK) {
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
    tee_cca_anchors_free(t->cca, t->n_cca);
    tee_chain_cache_free(t->chains);
    free(t);
}

ccz_status ccz_trust_add_sim_root(ccz_trust *t, ccz_span cert)
{
    X509 *x;
    CCZ_GUARD(x509_read_cert(&x, cert));
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
    CCZ_GUARD(x509_read_cert(&x, cert));
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
    CCZ_GUARD(x509_read_cert(&x, cert));
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
    ccz_status s = x509_read_pem_certs(&all, ccz_snp_builtin_certs(), 16);
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
    CCZ_GUARD(ccz_trust_add_intel_root(t, ccz_dcap_intel_root_ca()));
    CCZ_GUARD(ccz_trust_add_hygon_hrk(t, ccz_csv_builtin_hrk()));
    return add_amd_builtin(t);
}

ccz_status ccz_trust_load(ccz_trust **out, const ccz_trust_sources *src)
{
    *out = NULL;
    CCZ_ENSURE(src && src->version == CCZ_TRUST_SOURCES_VERSION, CCZ_ERR_INVALID_ARGUMENT,
               "trust sources missing or of the wrong version");
    ccz_trust *t = NULL;
    ccz_buf b = CCZ_BUF_INIT, path = CCZ_BUF_INIT;
    CCZ_GUARD(ccz_trust_new(&t));
    ccz_status s;
    if (src->root_ca) {
        s = ccz_file_read(&b, src->root_ca, 1 << 20);
        if (s == CCZ_OK)
            s = ccz_trust_add_intel_root(t, ccz_buf_span(&b));
        if (s)
            s = ccz_fail_context(s, "--root-ca %s", src->root_ca);
    } else {
        s = ccz_trust_add_builtin(t);
    }
    for (size_t i = 0; s == CCZ_OK && i < src->n_sim_roots; i++)
        if ((s = ccz_trust_add_sim_root_file(t, src->sim_roots[i])) != CCZ_OK)
            s = ccz_fail_context(s, "--sim-root %s", src->sim_roots[i]);
    /* Without sim roots, the root of the named (or default) sim platform, when there is one:
     * without it, sim evidence fails at platform_certificate with a message that says how to
     * trust a root. */
    if (s == CCZ_OK && !src->n_sim_roots) {
        ccz_status ps =
            src->sim_dir ? ccz_buf_append_str(&path, src->sim_dir) : ccz_sim_default_dir(&path);
        if (ps == CCZ_OK)
            ps = ccz_buf_append_str(&path, "/root.crt");
        if (ps == CCZ_OK &&
            ((src->sim_dir_required && src->sim_dir) || ccz_file_exists((const char *)path.ptr)))
            ps = ccz_trust_add_sim_root_file(t, (const char *)path.ptr);
        else if (!src->sim_dir) {
            ps = CCZ_OK;       /* no default platform */
            ccz_error_clear(); /* nor, without HOME, a default directory: no failure */
        }
        if (src->sim_dir_required)
            s = ps;
        else if (ps)
            ccz_error_clear();
    }
    ccz_buf_free(&b);
    ccz_buf_free(&path);
    if (s == CCZ_OK)
        *out = t;
    else
        ccz_trust_free(t);
    return s;
}
