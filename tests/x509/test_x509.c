/* SPDX-License-Identifier: Apache-2.0 */
/* The internal X.509 module: certificate time, the shared chain check at an instant (inclusive
 * validity ends, exact statuses, the narrowed window, the root), extensions by OID, hashes,
 * PEM round trips and raw r||s ECDSA on P-256 and P-384. */
#include <pthread.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "test.h"
#include "x509/x509.h"

#define T_ROOT_FROM 1700000000
#define T_ROOT_UNTIL 1900000000
#define T_LEAF_FROM 1750000000
#define T_LEAF_UNTIL 1800000000

static EVP_PKEY *root_key, *leaf_key;
static X509 *root, *leaf;
static X509_STORE *store;

static void setup(void)
{
    if (store)
        return;
    root_key = EVP_EC_gen("P-256");
    leaf_key = EVP_EC_gen("P-256");
    CHECK(root_key && leaf_key);
    x509_issue_opts o = {.org = "ccz test",
                         .cn = "test root",
                         .issuer_key = root_key,
                         .ca = true,
                         .not_before = T_ROOT_FROM,
                         .not_after = T_ROOT_UNTIL};
    CHECK_OK(x509_issue(&root, root_key, &o));
    o = (x509_issue_opts){.cn = "test leaf",
                          .issuer = root,
                          .issuer_key = root_key,
                          .not_before = T_LEAF_FROM,
                          .not_after = T_LEAF_UNTIL};
    CHECK_OK(x509_issue(&leaf, leaf_key, &o));
    store = X509_STORE_new();
    CHECK(store && X509_STORE_add_cert(store, root) == 1);
}

static void test_time(void)
{
    setup();
    CHECK_INT(x509_time_unix(X509_get0_notBefore(leaf), 0), T_LEAF_FROM);
    CHECK_INT(x509_time_unix(X509_get0_notAfter(leaf), 0), T_LEAF_UNTIL);
    CHECK_INT(x509_time_unix(NULL, -7), -7);
    x509_window w = X509_WINDOW_ALWAYS;
    x509_window_narrow_cert(&w, root);
    x509_window_narrow_cert(&w, leaf);
    CHECK_INT(w.from, T_LEAF_FROM);
    CHECK_INT(w.until, T_LEAF_UNTIL);
}

static ccz_status check_at(int64_t at, bool collateral, x509_window *w, X509 **r)
{
    const x509_chain_check k = {.what = "test chain",
                                .store = store,
                                .at = at,
                                .collateral = collateral,
                                .name_cert = true};
    return x509_verify_chain(&k, leaf, w, r, NULL);
}

static void test_chain_inclusive_and_mapped(void)
{
    setup();
    x509_window w = X509_WINDOW_ALWAYS;
    X509 *r = NULL;
    CHECK_OK(check_at(T_LEAF_UNTIL, false, &w, &r)); /* the notAfter second itself is valid */
    CHECK(r && X509_cmp(r, root) == 0);
    X509_free(r);
    CHECK_INT(w.from, T_LEAF_FROM);
    CHECK_INT(w.until, T_LEAF_UNTIL);
    CHECK_OK(check_at(T_LEAF_FROM, false, NULL, NULL));
    CHECK_STATUS(check_at(T_LEAF_UNTIL + 1, false, NULL, NULL), CCZ_ERR_EXPIRED);
    CHECK_CONTAINS(ccz_error_detail(), "test chain: certificate has expired");
    CHECK_CONTAINS(ccz_error_detail(), "(certificate 'test leaf')");
    CHECK_STATUS(check_at(T_LEAF_FROM - 1, false, NULL, NULL), CCZ_ERR_NOT_YET_VALID);
    CHECK_STATUS(check_at(T_LEAF_UNTIL + 1, true, NULL, NULL), CCZ_ERR_COLLATERAL_OUT_OF_DATE);
    CHECK_STATUS(check_at(T_LEAF_FROM - 1, true, NULL, NULL), CCZ_ERR_COLLATERAL_OUT_OF_DATE);

    /* a leaf whose issuer is not in the store */
    X509_STORE *empty = X509_STORE_new();
    const x509_chain_check k = {.what = "lonely", .store = empty, .at = T_LEAF_FROM};
    int err = 0;
    CHECK_STATUS(x509_verify_chain(&k, leaf, NULL, NULL, &err), CCZ_ERR_CERT_CHAIN);
    CHECK_INT(err, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
    CHECK_CONTAINS(ccz_error_detail(), "lonely: ");
    X509_STORE_free(empty);

    CHECK_INT(x509_status_of(X509_V_ERR_CERT_REVOKED, false), CCZ_ERR_REVOKED);
    CHECK_INT(x509_status_of(X509_V_ERR_CRL_HAS_EXPIRED, false), CCZ_ERR_COLLATERAL_OUT_OF_DATE);
    CHECK_INT(x509_status_of(X509_V_ERR_CRL_SIGNATURE_FAILURE, false), CCZ_ERR_BAD_SIGNATURE);
    CHECK_INT(x509_status_of(X509_V_ERR_UNABLE_TO_GET_CRL, false), CCZ_ERR_COLLATERAL_MISMATCH);
    CHECK_INT(x509_status_of(X509_V_ERR_CERT_SIGNATURE_FAILURE, true), CCZ_ERR_CERT_CHAIN);
}

static void *find_ext_thread(void *arg)
{
    (void)arg;
    for (int i = 0; i < 200; i++)
        if (!x509_find_ext(leaf, "2.5.29.35") || x509_find_ext(leaf, "1.2.840.113741.1.13.1"))
            return (void *)1;
    return NULL;
}

static void test_find_ext(void)
{
    setup();
    ASN1_OCTET_STRING *bc = x509_find_ext(leaf, "2.5.29.19"); /* basicConstraints */
    CHECK(bc != NULL);
    CHECK(x509_find_ext(leaf, "1.3.6.1.4.1.3704.1.2") == NULL);
    CHECK(x509_find_ext(leaf, "not an oid") == NULL);
    CHECK(x509_find_ext(root, "2.5.29.35") == NULL); /* self-signed: no authority key id */
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        test_thread(&th[i], find_ext_thread, NULL);
    for (int i = 0; i < 4; i++) {
        void *ret;
        pthread_join(th[i], &ret);
        CHECK(ret == NULL);
    }
}

/* Raw extensions in order, without key usage, signed with the digest asked for: what RA-TLS
 * certificates are. */
static void test_issue_raw_ext(void)
{
    setup();
    static const uint8_t v1[] = {0x01, 0x02, 0x03}, v2[] = {0xa0};
    const x509_raw_ext exts[] = {{"2.23.133.5.4.9", CCZ_SPAN(v1, sizeof v1)},
                                 {"1.2.840.113741.1337.6", CCZ_SPAN(v2, sizeof v2)}};
    x509_issue_opts o = {.org = "ccz",
                         .cn = "raw",
                         .issuer_key = leaf_key,
                         .not_before = T_LEAF_FROM,
                         .not_after = T_LEAF_UNTIL,
                         .no_key_usage = true,
                         .md = EVP_sha384(),
                         .exts = exts,
                         .n_exts = 2};
    X509 *x = NULL;
    CHECK_OK(x509_issue(&x, leaf_key, &o));
    CHECK(X509_get_ext_count(x) == 4);            /* basic constraints, subject key id, the two */
    CHECK(x509_find_ext(x, "2.5.29.15") == NULL); /* no key usage */
    ASN1_OCTET_STRING *e = x509_find_ext(x, "2.23.133.5.4.9");
    CHECK(e && ASN1_STRING_length(e) == 3 && memcmp(ASN1_STRING_get0_data(e), v1, 3) == 0);
    CHECK(OBJ_obj2nid(X509_EXTENSION_get_object(X509_get_ext(x, 3))) == NID_undef);
    CHECK(X509_get_signature_nid(x) == NID_ecdsa_with_SHA384);
    CHECK(X509_verify(x, leaf_key) == 1);
    X509_free(x);
    /* the default keeps key usage and SHA-256 */
    CHECK(x509_find_ext(leaf, "2.5.29.15") != NULL);
    CHECK(X509_get_signature_nid(leaf) == NID_ecdsa_with_SHA256);
}

/* The name of a subject as UTF-8 (x509_issue's names are UTF-8: from the bindings and the
 * command line): a non-ASCII name reads back exactly, not as its bytes taken for Latin-1. */
static const char *name_entry(X509 *x, int nid, char *out, size_t n)
{
    X509_NAME *name = X509_get_subject_name(x);
    ASN1_STRING *v = X509_NAME_ENTRY_get_data(
        X509_NAME_get_entry(name, X509_NAME_get_index_by_NID(name, nid, -1)));
    CHECK_INT(ASN1_STRING_type(v), V_ASN1_UTF8STRING);
    snprintf(out, n, "%.*s", ASN1_STRING_length(v), (const char *)ASN1_STRING_get0_data(v));
    return out;
}

static void test_issue_utf8_names(void)
{
    setup();
    x509_issue_opts o = {.org = "Soci\xc3\xa9t\xc3\xa9",
                         .cn = "Z\xc3\xbcrich \xe2\x98\x83 \xf0\x9f\x94\x92",
                         .issuer_key = leaf_key,
                         .not_before = T_LEAF_FROM,
                         .not_after = T_LEAF_UNTIL};
    X509 *x = NULL;
    char got[64], got2[2 * 64 + 1];
    CHECK_OK(x509_issue(&x, leaf_key, &o));
    CHECK_STR(name_entry(x, NID_commonName, got, sizeof got), o.cn);
    CHECK_STR(name_entry(x, NID_organizationName, got, sizeof got), o.org);
    X509_free(x);
    o.cn = "Z\xfcrich"; /* Latin-1, not UTF-8: refused, not stored as something else */
    CHECK_STATUS(x509_issue(&x, leaf_key, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(),
                   "the certificate's subject CN must be 1 to 64 characters of UTF-8 (");
    CHECK(x == NULL);
    /* 64 characters (of two bytes each) fit; 65 do not; nor does an empty name */
    char cn[2 * 65 + 1] = "";
    for (int i = 0; i < 64; i++)
        strcat(cn, "\xc3\xa9");
    o.cn = cn;
    CHECK_OK(x509_issue(&x, leaf_key, &o));
    CHECK_STR(name_entry(x, NID_commonName, got2, sizeof got2), cn);
    X509_free(x);
    x = NULL;
    strcat(cn, "\xc3\xa9");
    CHECK_STATUS(x509_issue(&x, leaf_key, &o), CCZ_ERR_INVALID_ARGUMENT);
    o.cn = "";
    CHECK_STATUS(x509_issue(&x, leaf_key, &o), CCZ_ERR_INVALID_ARGUMENT);
    o.cn = "ccz";
    o.org = "\xe9";
    CHECK_STATUS(x509_issue(&x, leaf_key, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "the certificate's subject O must be");
    CHECK(x == NULL);
}

static void test_hashes_and_pem(void)
{
    setup();
    uint8_t a[32], b[32];
    CHECK_OK(x509_spki_sha256(a, leaf_key));
    CHECK_OK(x509_spki_sha256(b, X509_get0_pubkey(leaf)));
    CHECK(memcmp(a, b, 32) == 0);
    CHECK_OK(x509_spki_sha256(b, root_key));
    CHECK(memcmp(a, b, 32) != 0);
    unsigned char *der = NULL;
    int n = i2d_X509(leaf, &der);
    CHECK(n > 0);
    CHECK(EVP_Digest(der, (size_t)n, b, NULL, EVP_sha256(), NULL) == 1);
    OPENSSL_free(der);
    CHECK_OK(x509_cert_sha256(a, leaf));
    CHECK(memcmp(a, b, 32) == 0);

    ccz_buf pem = CCZ_BUF_INIT;
    CHECK_OK(x509_cert_to_pem(&pem, leaf));
    CHECK_OK(x509_cert_to_pem(&pem, root));
    STACK_OF(X509) *chain = NULL;
    CHECK_OK(x509_read_pem_certs(&chain, ccz_buf_span(&pem), 4));
    CHECK_INT(sk_X509_num(chain), 2);
    CHECK(X509_cmp(sk_X509_value(chain, 1), root) == 0);
    sk_X509_pop_free(chain, X509_free);
    CHECK_STATUS(x509_read_pem_certs(&chain, ccz_buf_span(&pem), 1), CCZ_ERR_MALFORMED);
    sk_X509_pop_free(chain, X509_free);
    /* trailing NULs are a C string's end; a NUL inside the chain is refused, not the rest
     * dropped (the reader stopped at it and gave one certificate of two) */
    ccz_buf nul = CCZ_BUF_INIT;
    CHECK_OK(x509_cert_to_pem(&nul, leaf));
    CHECK_OK(ccz_buf_append_u8(&nul, 0));
    CHECK_OK(x509_read_pem_certs(&chain, ccz_buf_span(&nul), 4));
    CHECK_INT(sk_X509_num(chain), 1);
    sk_X509_pop_free(chain, X509_free);
    CHECK_OK(x509_cert_to_pem(&nul, root));
    CHECK_STATUS(x509_read_pem_certs(&chain, ccz_buf_span(&nul), 4), CCZ_ERR_CERT_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "a NUL byte inside the certificate chain");
    sk_X509_pop_free(chain, X509_free);
    chain = NULL;
    ccz_buf_free(&nul);
    X509 *x;
    CHECK_OK(x509_read_cert(&x, ccz_buf_span(&pem)));
    CHECK(X509_cmp(x, leaf) == 0);
    X509_free(x);
    ccz_buf_free(&pem);

    ccz_buf_init(&pem, 0, true);
    CHECK_OK(x509_key_to_pem(&pem, leaf_key));
    EVP_PKEY *k;
    CHECK_OK(x509_key_from_pem(&k, ccz_buf_span(&pem)));
    CHECK(EVP_PKEY_eq(k, leaf_key) == 1);
    EVP_PKEY_free(k);
    CHECK_STATUS(x509_key_from_pem(&k, CCZ_SPAN("nope", 4)), CCZ_ERR_KEY_MALFORMED);
    CHECK(k == NULL);
    ccz_buf_free(&pem);

    /* a PUBLIC KEY block is read too (the fallback after the private key reader) */
    BIO *bio = BIO_new(BIO_s_mem());
    CHECK(bio && PEM_write_bio_PUBKEY(bio, root_key) == 1);
    char *text = NULL;
    long text_len = BIO_get_mem_data(bio, &text);
    CHECK(text_len > 0);
    CHECK_OK(x509_key_from_pem(&k, CCZ_SPAN(text, (size_t)text_len)));
    CHECK(k && EVP_PKEY_eq(k, root_key) == 1);
    EVP_PKEY_free(k);
    BIO_free(bio);
}

static void test_ecdsa_raw(void)
{
    setup();
    static const char msg[] = "attested";
    uint8_t sig[64];
    CHECK(x509_is_p256(leaf_key));
    CHECK(!x509_is_p384(leaf_key));
    CHECK_OK(x509_p256_sign(sig, leaf_key, CCZ_SPAN(msg, sizeof msg - 1)));
    CHECK_OK(x509_p256_verify(leaf_key, CCZ_SPAN(msg, sizeof msg - 1), sig));
    sig[40] ^= 1;
    CHECK_STATUS(x509_p256_verify(leaf_key, CCZ_SPAN(msg, sizeof msg - 1), sig),
                 CCZ_ERR_BAD_SIGNATURE);
    CHECK_STATUS(x509_p256_verify(root_key, CCZ_SPAN(msg, sizeof msg - 1), sig),
                 CCZ_ERR_BAD_SIGNATURE);

    /* P-384: sign with OpenSSL (DER), verify through the raw r, s path */
    EVP_PKEY *k384 = EVP_EC_gen("P-384");
    CHECK(x509_is_p384(k384) && !x509_is_p256(k384));
    unsigned char der[128];
    size_t der_len = sizeof der;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    CHECK(EVP_DigestSignInit(md, NULL, EVP_sha384(), NULL, k384) == 1);
    CHECK(EVP_DigestSign(md, der, &der_len, (const unsigned char *)msg, sizeof msg - 1) == 1);
    EVP_MD_CTX_free(md);
    const unsigned char *p = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    uint8_t r[48], s[48];
    CHECK(BN_bn2binpad(ECDSA_SIG_get0_r(es), r, 48) == 48);
    CHECK(BN_bn2binpad(ECDSA_SIG_get0_s(es), s, 48) == 48);
    ECDSA_SIG_free(es);
    CHECK_OK(x509_ecdsa_verify_rs(k384, EVP_sha384(), CCZ_SPAN(msg, sizeof msg - 1), r, s, 48));
    s[0] ^= 0x40;
    CHECK_STATUS(x509_ecdsa_verify_rs(k384, EVP_sha384(), CCZ_SPAN(msg, sizeof msg - 1), r, s, 48),
                 CCZ_ERR_BAD_SIGNATURE);
    /* a key that cannot verify at all (X25519) makes no signature good: a bad one, not an
     * error of the verifier */
    EVP_PKEY *x25519 = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
    CHECK(x25519 != NULL && !x509_is_p384(x25519) && !x509_is_p256(x25519));
    CHECK_STATUS(
        x509_ecdsa_verify_rs(x25519, EVP_sha384(), CCZ_SPAN(msg, sizeof msg - 1), r, s, 48),
        CCZ_ERR_BAD_SIGNATURE);
    EVP_PKEY_free(x25519);
    EVP_PKEY_free(k384);

    EVP_PKEY *raw;
    uint8_t xy[64] = {0};
    CHECK_STATUS(x509_p256_key_from_raw(&raw, xy), CCZ_ERR_KEY_MALFORMED); /* not on the curve */
    CHECK(raw == NULL);
}

/* The parse cache (src/x509/cache.c): the same bytes give the same shared object; bytes that
 * differ anywhere, even in one bit of equal length, give their own; eviction loses nothing. */
static void test_parse_cache(void)
{
    setup();
    unsigned char *der = NULL;
    int n = i2d_X509(leaf, &der);
    CHECK(n > 0);
    X509 *a, *b, *c;
    CHECK_OK(x509_read_der(&a, CCZ_SPAN(der, (size_t)n)));
    CHECK_OK(x509_read_der(&b, CCZ_SPAN(der, (size_t)n)));
    CHECK(a == b && X509_cmp(a, leaf) == 0);
    der[n - 1] ^= 1; /* the signature's last byte: same length, other certificate */
    CHECK_OK(x509_read_der(&c, CCZ_SPAN(der, (size_t)n)));
    CHECK(c != a && X509_cmp(c, leaf) != 0);
    X509_free(c);
    CHECK_STATUS(x509_read_der(&c, CCZ_SPAN(der, (size_t)n - 1)), CCZ_ERR_CERT_MALFORMED);
    CHECK(c == NULL);
    der[n - 1] ^= 1;
    X509_free(a);
    X509_free(b);

    /* raw P-256 keys: two keys, then enough others to evict both */
    uint8_t xy[2][64];
    EVP_PKEY *k[2] = {leaf_key, root_key};
    for (int i = 0; i < 2; i++) {
        uint8_t pt[65];
        size_t len = 0;
        CHECK(EVP_PKEY_get_octet_string_param(k[i], "encoded-pub-key", pt, sizeof pt, &len) &&
              len == 65);
        memcpy(xy[i], pt + 1, 64);
    }
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 2; i++) {
            EVP_PKEY *raw;
            CHECK_OK(x509_p256_key_from_raw(&raw, xy[i]));
            CHECK(EVP_PKEY_eq(raw, k[i]) == 1 && EVP_PKEY_eq(raw, k[1 - i]) != 1);
            EVP_PKEY_free(raw);
        }
        for (int i = 0; i < 40; i++) { /* more than the cache holds */
            EVP_PKEY *other = EVP_EC_gen("P-256"), *raw;
            uint8_t pt[65];
            size_t len = 0;
            CHECK(EVP_PKEY_get_octet_string_param(other, "encoded-pub-key", pt, sizeof pt, &len));
            CHECK_OK(x509_p256_key_from_raw(&raw, pt + 1));
            CHECK(EVP_PKEY_eq(raw, other) == 1);
            EVP_PKEY_free(raw);
            EVP_PKEY_free(other);
        }
    }
    CHECK_OK(x509_read_der(&a, CCZ_SPAN(der, (size_t)n)));
    CHECK(X509_cmp(a, leaf) == 0);
    X509_free(a);
    OPENSSL_free(der);
}

/* The least recently used entry makes room: a key read again after each of 40 others (more than
 * the cache holds) is never the one evicted, so every read of it shares the first object. */
static void test_parse_cache_keeps_recent(void)
{
    setup();
    uint8_t pt[65];
    size_t len = 0;
    CHECK(EVP_PKEY_get_octet_string_param(leaf_key, "encoded-pub-key", pt, sizeof pt, &len) &&
          len == 65);
    EVP_PKEY *hot = NULL;
    CHECK_OK(x509_p256_key_from_raw(&hot, pt + 1));
    for (int i = 0; i < 40; i++) {
        EVP_PKEY *other = EVP_EC_gen("P-256"), *raw = NULL, *again = NULL;
        uint8_t o[65];
        size_t ol = 0;
        CHECK(EVP_PKEY_get_octet_string_param(other, "encoded-pub-key", o, sizeof o, &ol) &&
              ol == 65);
        CHECK_OK(x509_p256_key_from_raw(&raw, o + 1));
        CHECK_OK(x509_p256_key_from_raw(&again, pt + 1));
        CHECK(again == hot);
        EVP_PKEY_free(again);
        EVP_PKEY_free(raw);
        EVP_PKEY_free(other);
    }
    EVP_PKEY_free(hot);
}

/* The cache's bounds: an entry is found only under the kind it was stored as (bytes read as a
 * PEM chain are not a DER certificate), and inputs above 16 KiB are never kept (a peer's
 * oversized chain must not pin memory in a process-wide cache). */
static void test_parse_cache_bounds(void)
{
    setup();
    BIO *bio = BIO_new(BIO_s_mem());
    CHECK(bio && PEM_write_bio_X509(bio, leaf) == 1);
    char *pem_ptr = NULL;
    long pem_len = BIO_get_mem_data(bio, &pem_ptr);
    CHECK(pem_len > 0);
    ccz_span pem = CCZ_SPAN(pem_ptr, (size_t)pem_len);
    STACK_OF(X509) *sk = NULL;
    CHECK_OK(x509_read_pem_certs(&sk, pem, 4));
    CHECK_INT(sk_X509_num(sk), 1);
    X509 *x = NULL;
    CHECK_STATUS(x509_read_der(&x, pem), CCZ_ERR_CERT_MALFORMED); /* not under the chain's kind */
    CHECK(x == NULL);
    sk_X509_pop_free(sk, X509_free);
    /* one PEM chain of 30 certificates, more than 16 KiB: read twice, two parses */
    ccz_buf big = CCZ_BUF_INIT;
    while (big.len <= 16 * 1024)
        CHECK_OK(ccz_buf_append(&big, pem.ptr, pem.len));
    STACK_OF(X509) *a = NULL, *b = NULL;
    CHECK_OK(x509_read_pem_certs(&a, ccz_buf_span(&big), 64));
    CHECK_OK(x509_read_pem_certs(&b, ccz_buf_span(&big), 64));
    CHECK(sk_X509_num(a) > 1 && sk_X509_num(a) == sk_X509_num(b));
    CHECK(sk_X509_value(a, 0) != sk_X509_value(b, 0));
    CHECK(X509_cmp(sk_X509_value(a, 0), sk_X509_value(b, 0)) == 0);
    /* a chain that fits is shared, and oversized ones, however many, do not evict it */
    STACK_OF(X509) *c = NULL, *d = NULL;
    ccz_buf pair = CCZ_BUF_INIT; /* its own bytes: big grows below */
    CHECK_OK(ccz_buf_append(&pair, big.ptr, 2 * pem.len));
    ccz_span two = ccz_buf_span(&pair);
    CHECK_OK(x509_read_pem_certs(&c, two, 64));
    for (int i = 0; i < 40; i++) { /* more than the cache holds, each other bytes */
        STACK_OF(X509) *e = NULL;
        CHECK_OK(ccz_buf_append_u8(&big, '\n'));
        CHECK_OK(x509_read_pem_certs(&e, ccz_buf_span(&big), 64));
        sk_X509_pop_free(e, X509_free);
    }
    CHECK_OK(x509_read_pem_certs(&d, two, 64));
    CHECK(sk_X509_value(c, 0) == sk_X509_value(d, 0));
    sk_X509_pop_free(a, X509_free);
    sk_X509_pop_free(b, X509_free);
    sk_X509_pop_free(c, X509_free);
    sk_X509_pop_free(d, X509_free);
    ccz_buf_free(&pair);
    ccz_buf_free(&big);
    BIO_free(bio);
}

/* ---- revocation along a chain: leaf <- intermediate <- root ---------------------------------*/

#define T_AT 1770000000

static X509_CRL *make_crl(X509 *issuer, EVP_PKEY *key, int64_t last, int64_t next, X509 *revoke)
{
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *t = ASN1_TIME_new();
    CHECK(crl && t && X509_CRL_set_version(crl, 1) &&
          X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)) &&
          ASN1_TIME_set(t, (time_t)last) && X509_CRL_set1_lastUpdate(crl, t));
    if (next)
        CHECK(ASN1_TIME_set(t, (time_t)next) && X509_CRL_set1_nextUpdate(crl, t));
    if (revoke) {
        X509_REVOKED *r = X509_REVOKED_new();
        CHECK(r && X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(revoke)) &&
              X509_REVOKED_set_revocationDate(r, t) && X509_CRL_add0_revoked(crl, r));
    }
    CHECK(X509_CRL_sort(crl) && X509_CRL_sign(crl, key, EVP_sha256()) > 0);
    ASN1_TIME_free(t);
    return crl;
}

typedef struct {
    EVP_PKEY *root_key, *ca_key, *leaf_key;
    X509 *root, *ca, *leaf;
    X509_STORE *store;
    STACK_OF(X509) *untrusted;
} three;

/* A root (with the key usage given as raw DER, or x509_issue's own), a CA under it and a leaf
 * under that. */
static void three_make(three *c, const char *root_cn, ccz_span root_ku)
{
    c->root_key = EVP_EC_gen("P-256");
    c->ca_key = EVP_EC_gen("P-256");
    c->leaf_key = EVP_EC_gen("P-256");
    const x509_raw_ext ku = {"2.5.29.15", root_ku};
    x509_issue_opts o = {.cn = root_cn,
                         .issuer_key = c->root_key,
                         .ca = true,
                         .not_before = T_ROOT_FROM,
                         .not_after = T_ROOT_UNTIL,
                         .no_key_usage = root_ku.len > 0,
                         .exts = &ku,
                         .n_exts = root_ku.len > 0};
    CHECK_OK(x509_issue(&c->root, c->root_key, &o));
    o = (x509_issue_opts){.cn = "test ca",
                          .issuer = c->root,
                          .issuer_key = c->root_key,
                          .ca = true,
                          .not_before = T_ROOT_FROM + 1,
                          .not_after = T_ROOT_UNTIL - 1};
    CHECK_OK(x509_issue(&c->ca, c->ca_key, &o));
    o = (x509_issue_opts){.cn = "test leaf",
                          .issuer = c->ca,
                          .issuer_key = c->ca_key,
                          .not_before = T_LEAF_FROM,
                          .not_after = T_ROOT_UNTIL - 2};
    CHECK_OK(x509_issue(&c->leaf, c->leaf_key, &o));
    c->store = X509_STORE_new();
    c->untrusted = sk_X509_new_null();
    CHECK(c->store && X509_STORE_add_cert(c->store, c->root) == 1 && c->untrusted &&
          sk_X509_push(c->untrusted, c->ca));
}

static void three_free(three *c)
{
    sk_X509_free(c->untrusted);
    X509_STORE_free(c->store);
    X509_free(c->root);
    X509_free(c->ca);
    X509_free(c->leaf);
    EVP_PKEY_free(c->root_key);
    EVP_PKEY_free(c->ca_key);
    EVP_PKEY_free(c->leaf_key);
}

/* Verifies c's leaf at T_AT against the leaf's CRLs and (crl_leaf_only) the CA's. */
static ccz_status check_crls(const three *c, bool leaf_only, X509_CRL *const *crls, int n_crls,
                             X509_CRL *const *ca_crls, int n_ca_crls, X509 *signer, x509_window *w)
{
    const x509_chain_check k = {.what = "test chain",
                                .store = c->store,
                                .untrusted = c->untrusted,
                                .crls = crls,
                                .n_crls = n_crls,
                                .at = T_AT,
                                .name_cert = true,
                                .crl_leaf_only = leaf_only,
                                .ca_crls = ca_crls,
                                .n_ca_crls = n_ca_crls,
                                .ca_crls_signer = signer};
    return x509_verify_chain(&k, c->leaf, w, NULL, NULL);
}

/* crl_leaf_only: OpenSSL checks the leaf alone against crls; the CA is checked here against the
 * CRL its issuer issued, found by name among ca_crls, inside its dates (both ends inclusive, no
 * nextUpdate: no end), signed by an issuer allowed to sign CRLs; and both kinds of CRL narrow
 * the window. Without crl_leaf_only, OpenSSL wants a CRL for every certificate. */
static void test_ca_crls(void)
{
    three c;
    three_make(&c, "test root", CCZ_SPAN(NULL, 0));
    /* the CA's CRL decides the window's start, the root's its end */
    X509_CRL *ca_crl = make_crl(c.ca, c.ca_key, T_AT - 4000, T_AT + 20000, NULL);
    X509_CRL *root_crl = make_crl(c.root, c.root_key, T_AT - 8000, T_AT + 15000, NULL);
    X509_CRL *both[] = {ca_crl, root_crl};
    x509_window w = X509_WINDOW_ALWAYS;
    CHECK_OK(check_crls(&c, true, &ca_crl, 1, &root_crl, 1, NULL, &w));
    CHECK_INT(w.from, T_AT - 4000);
    CHECK_INT(w.until, T_AT + 15000);
    /* the root's CRL found by its issuer's name, wherever it is in the list */
    CHECK_OK(check_crls(&c, true, &ca_crl, 1, both, 2, NULL, NULL));
    CHECK_STATUS(check_crls(&c, true, &ca_crl, 1, &ca_crl, 1, NULL, NULL),
                 CCZ_ERR_COLLATERAL_MISMATCH);
    CHECK_STR(ccz_error_detail(),
              "test chain: unable to get certificate CRL (certificate 'test ca')");

    X509_CRL *crl = make_crl(c.root, c.root_key, T_AT + 1, T_AT + 15000, NULL);
    CHECK_STATUS(check_crls(&c, true, &ca_crl, 1, &crl, 1, NULL, NULL),
                 CCZ_ERR_COLLATERAL_OUT_OF_DATE);
    CHECK_STR(ccz_error_detail(), "test chain: CRL is not yet valid (certificate 'test ca')");
    X509_CRL_free(crl);
    crl = make_crl(c.root, c.root_key, T_AT - 8000, T_AT - 1, NULL);
    CHECK_STATUS(check_crls(&c, true, &ca_crl, 1, &crl, 1, NULL, NULL),
                 CCZ_ERR_COLLATERAL_OUT_OF_DATE);
    CHECK_STR(ccz_error_detail(), "test chain: CRL has expired (certificate 'test ca')");
    X509_CRL_free(crl);
    /* no nextUpdate: no end (checked late in the chain's life: OpenSSL would read a missing time
     * as the clock's) */
    crl = make_crl(c.root, c.root_key, T_AT, 0, NULL);
    const x509_chain_check late = {.what = "test chain",
                                   .store = c.store,
                                   .untrusted = c.untrusted,
                                   .at = T_ROOT_UNTIL - 10,
                                   .crl_leaf_only = true,
                                   .ca_crls = &crl,
                                   .n_ca_crls = 1};
    w = (x509_window)X509_WINDOW_ALWAYS;
    CHECK_OK(x509_verify_chain(&late, c.leaf, &w, NULL, NULL));
    CHECK_INT(w.from, T_AT);
    CHECK_INT(w.until, T_ROOT_UNTIL - 2); /* the leaf's end, not 1970 */
    X509_CRL_free(crl);
    crl = make_crl(c.root, c.root_key, T_AT - 8000, T_AT + 15000, c.ca);
    CHECK_STATUS(check_crls(&c, true, &ca_crl, 1, &crl, 1, NULL, NULL), CCZ_ERR_REVOKED);
    CHECK_STR(ccz_error_detail(), "test chain: certificate revoked (certificate 'test ca')");
    X509_CRL_free(crl);

    /* every certificate checked: the CA's CRL alone is not enough */
    CHECK_STATUS(check_crls(&c, false, &ca_crl, 1, NULL, 0, NULL, NULL),
                 CCZ_ERR_COLLATERAL_MISMATCH);
    CHECK_STR(ccz_error_detail(),
              "test chain: unable to get certificate CRL (certificate 'test ca')");
    CHECK_OK(check_crls(&c, false, both, 2, NULL, 0, NULL, NULL));

    CHECK_INT(x509_status_of(X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE, false),
              CCZ_ERR_BAD_SIGNATURE);
    CHECK_INT(x509_status_of(X509_V_ERR_CRL_NOT_YET_VALID, false), CCZ_ERR_COLLATERAL_OUT_OF_DATE);
    CHECK_INT(x509_status_of(X509_V_ERR_CERT_NOT_YET_VALID, false), CCZ_ERR_NOT_YET_VALID);
    X509_CRL_free(ca_crl);
    X509_CRL_free(root_crl);
    three_free(&c);

    /* a root whose key usage leaves out cRLSign: its CRL of the CA is refused, unless the caller
     * has verified that root's CRL itself (ca_crls_signer) */
    static const uint8_t cert_sign_only[] = {0x03, 0x02, 0x02, 0x04};
    three_make(&c, "test root without cRLSign", CCZ_SPAN(cert_sign_only, sizeof cert_sign_only));
    ca_crl = make_crl(c.ca, c.ca_key, T_AT - 4000, T_AT + 20000, NULL);
    root_crl = make_crl(c.root, c.root_key, T_AT - 8000, T_AT + 15000, NULL);
    int err = 0;
    const x509_chain_check k = {.what = "test chain",
                                .store = c.store,
                                .untrusted = c.untrusted,
                                .at = T_AT,
                                .crl_leaf_only = true,
                                .ca_crls = &root_crl,
                                .n_ca_crls = 1};
    CHECK_STATUS(x509_verify_chain(&k, c.leaf, NULL, NULL, &err), CCZ_ERR_CERT_CHAIN);
    CHECK_INT(err, X509_V_ERR_KEYUSAGE_NO_CRL_SIGN);
    CHECK_OK(check_crls(&c, true, &ca_crl, 1, &root_crl, 1, c.root, NULL));
    X509_CRL_free(ca_crl);
    X509_CRL_free(root_crl);
    three_free(&c);
}

/* DER is exactly one certificate: a byte more is refused by both readers. */
static void test_read_exact(void)
{
    setup();
    unsigned char *der = NULL;
    int n = i2d_X509(root, &der);
    CHECK(n > 0);
    uint8_t *more = malloc((size_t)n + 1);
    memcpy(more, der, (size_t)n);
    more[n] = 0;
    X509 *x = NULL;
    CHECK_STATUS(x509_read_der(&x, CCZ_SPAN(more, (size_t)n + 1)), CCZ_ERR_CERT_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "cannot parse certificate (DER)");
    CHECK(x == NULL);
    CHECK_STATUS(x509_read_cert(&x, CCZ_SPAN(more, (size_t)n + 1)), CCZ_ERR_CERT_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "cannot parse certificate");
    CHECK(x == NULL);
    CHECK_OK(x509_read_cert(&x, CCZ_SPAN(more, (size_t)n)));
    CHECK(x && X509_cmp(x, root) == 0);
    X509_free(x);
    free(more);
    OPENSSL_free(der);

    /* a DER certificate that carries a PEM chain (as an RA-TLS certificate's quote carries its
     * PCK chain), cut short or followed by a byte: refused, not read as the chain's second
     * certificate (the first PEM marker that opens a line) */
    ccz_buf inner = CCZ_BUF_INIT;
    CHECK_OK(x509_cert_to_pem(&inner, root));
    CHECK_OK(x509_cert_to_pem(&inner, leaf)); /* on a line of its own */
    const x509_raw_ext ext = {"1.2.840.113741.1337.6", ccz_buf_span(&inner)};
    x509_issue_opts o = {.cn = "outer",
                         .issuer_key = leaf_key,
                         .not_before = T_LEAF_FROM,
                         .not_after = T_LEAF_UNTIL,
                         .exts = &ext,
                         .n_exts = 1};
    X509 *outer = NULL;
    CHECK_OK(x509_issue(&outer, leaf_key, &o));
    der = NULL;
    n = i2d_X509(outer, &der);
    more = malloc((size_t)n + 1);
    memcpy(more, der, (size_t)n);
    more[n] = '\n';
    CHECK_STATUS(x509_read_cert(&x, CCZ_SPAN(more, (size_t)n + 1)), CCZ_ERR_CERT_MALFORMED);
    CHECK(x == NULL);
    X509_free(x);
    CHECK_STATUS(x509_read_cert(&x, CCZ_SPAN(more, (size_t)n - 1)), CCZ_ERR_CERT_MALFORMED);
    CHECK(x == NULL);
    X509_free(x);
    CHECK_OK(x509_read_cert(&x, CCZ_SPAN(more, (size_t)n)));
    CHECK(x && X509_cmp(x, outer) == 0);
    X509_free(x);
    X509_free(outer);
    free(more);
    OPENSSL_free(der);
    ccz_buf_free(&inner);

    /* a chain refused for its length is not remembered as a shorter one */
    ccz_buf pem = CCZ_BUF_INIT;
    CHECK_OK(x509_cert_to_pem(&pem, root));
    CHECK_OK(x509_cert_to_pem(&pem, leaf));
    STACK_OF(X509) *chain = NULL;
    CHECK_STATUS(x509_read_pem_certs(&chain, ccz_buf_span(&pem), 1), CCZ_ERR_MALFORMED);
    CHECK_STR(ccz_error_detail(), "more than 1 certificates in a chain");
    sk_X509_pop_free(chain, X509_free);
    CHECK_OK(x509_read_pem_certs(&chain, ccz_buf_span(&pem), 2));
    CHECK_INT(sk_X509_num(chain), 2);
    sk_X509_pop_free(chain, X509_free);
    ccz_buf_free(&pem);
}

/* What x509_issue puts in: a CA may sign certificates and CRLs, a leaf only signatures, and a
 * subjectAltName when asked. */
static void test_issue_profile(void)
{
    setup();
    CHECK_INT(X509_check_ca(root), 1);
    CHECK_INT(X509_get_extension_flags(root) & EXFLAG_CA, EXFLAG_CA);
    CHECK_INT(X509_get_extension_flags(leaf) & EXFLAG_CA, 0); /* CA:FALSE */
    CHECK_INT(X509_get_key_usage(root), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
    CHECK_INT(X509_get_key_usage(leaf), KU_DIGITAL_SIGNATURE);
    CHECK(x509_find_ext(leaf, "2.5.29.17") == NULL);
    x509_issue_opts o = {.cn = "named",
                         .issuer = root,
                         .issuer_key = root_key,
                         .not_before = T_LEAF_FROM,
                         .not_after = T_LEAF_UNTIL,
                         .san = "DNS:svc.example,IP:10.0.0.7"};
    X509 *x = NULL;
    CHECK_OK(x509_issue(&x, leaf_key, &o));
    CHECK_INT(X509_check_host(x, "svc.example", 0, 0, NULL), 1);
    CHECK_INT(X509_check_ip_asc(x, "10.0.0.7", 0), 1);
    CHECK_INT(X509_check_host(x, "other.example", 0, 0, NULL), 0);
    X509_free(x);
}

static void test_cleanup(void)
{
    X509_STORE_free(store);
    X509_free(root);
    X509_free(leaf);
    EVP_PKEY_free(root_key);
    EVP_PKEY_free(leaf_key);
    store = NULL;
}

/* The raw r||s path builds the DER itself: r or s with leading zero bytes (shortened) or a set
 * high bit (a zero byte prepended) verify, through a one-off context and a reusable verifier,
 * and a flipped byte fails with the verifier still usable after. */
static void test_ecdsa_der_edges(void)
{
    setup();
    EVP_PKEY_CTX *v;
    CHECK_OK(x509_p256_verifier_new(&v, leaf_key));
    bool seen_zero = false, seen_high = false, seen_low = false;
    for (uint32_t i = 0; i < 4000 && !(seen_zero && seen_high && seen_low); i++) {
        uint8_t msg[4] = {(uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
        uint8_t sig[64];
        CHECK_OK(x509_p256_sign(sig, leaf_key, CCZ_SPAN(msg, 4)));
        bool zero = sig[0] == 0 || sig[32] == 0, high = (sig[0] & 0x80) || (sig[32] & 0x80);
        bool low = !(sig[0] & 0x80) && !(sig[32] & 0x80);
        if ((zero && seen_zero) || (high && seen_high && !zero) || (low && seen_low && !zero))
            continue;
        seen_zero |= zero, seen_high |= high, seen_low |= low;
        CHECK_OK(x509_p256_verify(leaf_key, CCZ_SPAN(msg, 4), sig));
        CHECK_OK(x509_p256_verify_with(v, CCZ_SPAN(msg, 4), sig));
        sig[63] ^= 0x10;
        CHECK_STATUS(x509_p256_verify_with(v, CCZ_SPAN(msg, 4), sig), CCZ_ERR_BAD_SIGNATURE);
        sig[63] ^= 0x10;
        CHECK_OK(x509_p256_verify_with(v, CCZ_SPAN(msg, 4), sig));
    }
    CHECK(seen_zero && seen_high && seen_low);
    /* r = 0 and s = 0 are not signatures */
    uint8_t zeros[64] = {0};
    CHECK_STATUS(x509_p256_verify_with(v, CCZ_SPAN("x", 1), zeros), CCZ_ERR_BAD_SIGNATURE);
    EVP_PKEY_CTX_free(v);
    /* integers of no bytes, or of more than P-521's 66 (they would overrun the DER buffer), are
     * refused before they are encoded */
    uint8_t r1[1] = {0x80}, big[67];
    memset(big, 0x11, sizeof big);
    CHECK_STATUS(x509_ecdsa_verify_rs(leaf_key, EVP_sha256(), CCZ_SPAN("x", 1), r1, r1, 0),
                 CCZ_ERR_BAD_SIGNATURE);
    CHECK_STATUS(x509_ecdsa_verify_rs(leaf_key, EVP_sha256(), CCZ_SPAN("x", 1), big, big, 67),
                 CCZ_ERR_BAD_SIGNATURE);
    /* leading zeros are dropped: a genuine r and s, each left-padded to 66 bytes, verify; padded
     * to 67 they are refused by the bound, whatever they hold */
    uint8_t sig[64], r67[67] = {0}, s67[67] = {0};
    CHECK_OK(x509_p256_sign(sig, leaf_key, CCZ_SPAN("x", 1)));
    memcpy(r67 + 35, sig, 32);
    memcpy(s67 + 35, sig + 32, 32);
    CHECK_OK(x509_ecdsa_verify_rs(leaf_key, EVP_sha256(), CCZ_SPAN("x", 1), r67 + 1, s67 + 1, 66));
    CHECK_STATUS(x509_ecdsa_verify_rs(leaf_key, EVP_sha256(), CCZ_SPAN("x", 1), r67, s67, 67),
                 CCZ_ERR_BAD_SIGNATURE);
    /* P-521's r and s of 66 bytes make a SEQUENCE of 128 bytes or more: its length takes the
     * long form (0x81, then the length), which a genuine signature verifies through */
    EVP_PKEY *k521 = EVP_EC_gen("P-521");
    unsigned char der[160];
    size_t der_len = sizeof der;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    CHECK(EVP_DigestSignInit(md, NULL, EVP_sha512(), NULL, k521) == 1);
    CHECK(EVP_DigestSign(md, der, &der_len, (const unsigned char *)"x", 1) == 1);
    EVP_MD_CTX_free(md);
    CHECK(der_len > 2 && der[1] == 0x81);
    const unsigned char *p = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    uint8_t r66[66], s66[66];
    CHECK(es && BN_bn2binpad(ECDSA_SIG_get0_r(es), r66, 66) == 66 &&
          BN_bn2binpad(ECDSA_SIG_get0_s(es), s66, 66) == 66);
    ECDSA_SIG_free(es);
    CHECK_OK(x509_ecdsa_verify_rs(k521, EVP_sha512(), CCZ_SPAN("x", 1), r66, s66, 66));
    s66[65] ^= 1;
    CHECK_STATUS(x509_ecdsa_verify_rs(k521, EVP_sha512(), CCZ_SPAN("x", 1), r66, s66, 66),
                 CCZ_ERR_BAD_SIGNATURE);
    EVP_PKEY_free(k521);
}

/* A SEQUENCE of exactly 128 bytes, the first length that takes the long form (0x81 0x80; 0x80
 * alone is BER's indefinite length): a P-521 signature whose s is short enough, made by a private
 * key chosen for it, d = (s k - h) / r, so that (r, s) verifies as any other signature. */
static void test_ecdsa_sequence_of_128(void)
{
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_secp521r1);
    BN_CTX *bn = BN_CTX_new();
    BIGNUM *n = BN_new(), *k = BN_new(), *r = BN_new(), *s = BN_new(), *h = BN_new(), *d = BN_new(),
           *x = BN_new(), *t = BN_new();
    EC_POINT *pt = g ? EC_POINT_new(g) : NULL;
    CHECK(g && bn && n && k && r && s && h && d && x && t && pt);
    CHECK(EC_GROUP_get_order(g, n, bn) == 1);
    uint8_t digest[64], r66[66], s66[66], pub[133];
    unsigned dl = 0;
    CHECK(EVP_Digest("x", 1, digest, &dl, EVP_sha512(), NULL) == 1 && dl == 64);
    CHECK(BN_bin2bn(digest, 64, h) != NULL);
    /* r = x(k G) mod n, then its INTEGER's length: leading zeros dropped, a zero before a set
     * high bit */
    CHECK(BN_rand_range(k, n) == 1 && EC_POINT_mul(g, pt, k, NULL, NULL, bn) == 1);
    CHECK(EC_POINT_get_affine_coordinates(g, pt, x, NULL, bn) == 1 && BN_nnmod(r, x, n, bn) == 1);
    CHECK(BN_bn2binpad(r, r66, 66) == 66);
    size_t lead = 0;
    while (lead < 65 && r66[lead] == 0)
        lead++;
    size_t int_r = 2 + (66 - lead) + (r66[lead] & 0x80 ? 1 : 0);
    /* s: 126 - int_r bytes, its top byte 1, so that the two INTEGERs make 128 bytes */
    size_t ns = 126 - int_r;
    BN_zero(s);
    CHECK(BN_set_bit(s, (int)(8 * ns - 8)) == 1 && BN_add_word(s, 12345) == 1);
    CHECK(BN_mod_mul(t, s, k, n, bn) == 1 && BN_mod_sub(t, t, h, n, bn) == 1 &&
          BN_mod_inverse(x, r, n, bn) != NULL && BN_mod_mul(d, t, x, n, bn) == 1);
    CHECK(EC_POINT_mul(g, pt, d, NULL, NULL, bn) == 1);
    CHECK(EC_POINT_point2oct(g, pt, POINT_CONVERSION_UNCOMPRESSED, pub, sizeof pub, bn) ==
          sizeof pub);
    OSSL_PARAM params[] = {
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"secp521r1", 0),
        OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub),
        OSSL_PARAM_END,
    };
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *key = NULL;
    CHECK(pc && EVP_PKEY_fromdata_init(pc) == 1 &&
          EVP_PKEY_fromdata(pc, &key, EVP_PKEY_PUBLIC_KEY, params) == 1);
    CHECK(BN_bn2binpad(s, s66, 66) == 66);
    CHECK_INT((int)(int_r + 2 + ns), 128);
    CHECK_OK(x509_ecdsa_verify_rs(key, EVP_sha512(), CCZ_SPAN("x", 1), r66, s66, 66));
    s66[65] ^= 1;
    CHECK_STATUS(x509_ecdsa_verify_rs(key, EVP_sha512(), CCZ_SPAN("x", 1), r66, s66, 66),
                 CCZ_ERR_BAD_SIGNATURE);
    EVP_PKEY_free(key);
    EVP_PKEY_CTX_free(pc);
    EC_POINT_free(pt);
    BN_free(n);
    BN_free(k);
    BN_free(r);
    BN_free(s);
    BN_free(h);
    BN_free(d);
    BN_free(x);
    BN_free(t);
    BN_CTX_free(bn);
    EC_GROUP_free(g);
}

/* The two readers share the parse cache, and x509_read_der takes exactly one DER certificate:
 * PEM that x509_read_cert has read (and cached) is still not DER. */
static void test_read_der_after_pem(void)
{
    setup();
    ccz_buf pem = CCZ_BUF_INIT;
    CHECK_OK(x509_cert_to_pem(&pem, root));
    X509 *x = NULL;
    CHECK_OK(x509_read_cert(&x, ccz_buf_span(&pem)));
    CHECK(x && X509_cmp(x, root) == 0);
    X509_free(x);
    x = NULL;
    CHECK_STATUS(x509_read_der(&x, ccz_buf_span(&pem)), CCZ_ERR_CERT_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "cannot parse certificate (DER)");
    CHECK(x == NULL);
    /* and the DER of it, read by x509_read_cert, is shared with x509_read_der */
    unsigned char *der = NULL;
    int n = i2d_X509(root, &der);
    X509 *a = NULL, *b = NULL;
    CHECK_OK(x509_read_cert(&a, CCZ_SPAN(der, (size_t)n)));
    CHECK_OK(x509_read_der(&b, CCZ_SPAN(der, (size_t)n)));
    CHECK(a && a == b);
    X509_free(a);
    X509_free(b);
    OPENSSL_free(der);
    /* text without a certificate is not a chain */
    STACK_OF(X509) *sk = NULL;
    CHECK_STATUS(x509_read_pem_certs(&sk, CCZ_LIT("no certificate here\n"), 4),
                 CCZ_ERR_CERT_MALFORMED);
    CHECK_STR(ccz_error_detail(), "no PEM certificate found");
    sk_X509_pop_free(sk, X509_free);
    ccz_buf_free(&pem);
}

/* Revocation of the CA (crl_leaf_only) by a CRL that names its issuer: the CRL must verify with
 * that issuer's key, unless the issuer is the very signer the caller has verified; and its
 * dates are inclusive at both ends. */
static void test_ca_crl_signature_and_ends(void)
{
    three c;
    three_make(&c, "test root", CCZ_SPAN(NULL, 0));
    X509_CRL *ca_crl = make_crl(c.ca, c.ca_key, T_AT - 4000, T_AT + 20000, NULL);
    /* the root's name, the CA's key: forged */
    X509_CRL *forged = make_crl(c.root, c.ca_key, T_AT - 8000, T_AT + 15000, NULL);
    int err = 0;
    const x509_chain_check k = {.what = "test chain",
                                .store = c.store,
                                .untrusted = c.untrusted,
                                .crls = &ca_crl,
                                .n_crls = 1,
                                .at = T_AT,
                                .name_cert = true,
                                .crl_leaf_only = true,
                                .ca_crls = &forged,
                                .n_ca_crls = 1};
    CHECK_STATUS(x509_verify_chain(&k, c.leaf, NULL, NULL, &err), CCZ_ERR_BAD_SIGNATURE);
    CHECK_INT(err, X509_V_ERR_CRL_SIGNATURE_FAILURE);
    CHECK_STR(ccz_error_detail(), "test chain: CRL signature failure (certificate 'test ca')");
    /* a signer the caller verified, but not this CRL's issuer: the signature is still checked */
    CHECK_STATUS(check_crls(&c, true, &ca_crl, 1, &forged, 1, c.ca, NULL), CCZ_ERR_BAD_SIGNATURE);
    X509_CRL_free(forged);
    /* lastUpdate and nextUpdate both the instant itself: valid */
    X509_CRL *edge = make_crl(c.root, c.root_key, T_AT, T_AT, NULL);
    x509_window w = X509_WINDOW_ALWAYS;
    CHECK_OK(check_crls(&c, true, &ca_crl, 1, &edge, 1, NULL, &w));
    CHECK_INT(w.from, T_AT);
    CHECK_INT(w.until, T_AT);
    X509_CRL_free(edge);
    X509_CRL_free(ca_crl);
    three_free(&c);
}

/* An intermediate that is not a CA (CA:FALSE) cannot issue: the chain fails. */
static void test_intermediate_not_ca(void)
{
    EVP_PKEY *rk = EVP_EC_gen("P-256"), *ik = EVP_EC_gen("P-256"), *lk = EVP_EC_gen("P-256");
    X509 *r = NULL, *i = NULL, *l = NULL;
    x509_issue_opts o = {.cn = "nca root",
                         .issuer_key = rk,
                         .ca = true,
                         .not_before = T_ROOT_FROM,
                         .not_after = T_ROOT_UNTIL};
    CHECK_OK(x509_issue(&r, rk, &o));
    o = (x509_issue_opts){.cn = "not a ca",
                          .issuer = r,
                          .issuer_key = rk,
                          .not_before = T_ROOT_FROM,
                          .not_after = T_ROOT_UNTIL};
    CHECK_OK(x509_issue(&i, ik, &o));
    o = (x509_issue_opts){.cn = "nca leaf",
                          .issuer = i,
                          .issuer_key = ik,
                          .not_before = T_LEAF_FROM,
                          .not_after = T_LEAF_UNTIL};
    CHECK_OK(x509_issue(&l, lk, &o));
    X509_STORE *st = X509_STORE_new();
    STACK_OF(X509) *un = sk_X509_new_null();
    CHECK(st && un && X509_STORE_add_cert(st, r) == 1 && sk_X509_push(un, i));
    const x509_chain_check k = {
        .what = "nca", .store = st, .untrusted = un, .at = T_LEAF_FROM, .name_cert = true};
    int err = 0;
    CHECK_STATUS(x509_verify_chain(&k, l, NULL, NULL, &err), CCZ_ERR_CERT_CHAIN);
    CHECK_INT(err, X509_V_ERR_INVALID_CA);
    CHECK_CONTAINS(ccz_error_detail(), "(certificate 'not a ca')");
    sk_X509_free(un);
    X509_STORE_free(st);
    X509_free(r);
    X509_free(i);
    X509_free(l);
    EVP_PKEY_free(rk);
    EVP_PKEY_free(ik);
    EVP_PKEY_free(lk);
}

/* Raw public keys are points on their curve: a point off it (x = 1, y = 1 is on neither P-256
 * nor SM2's curve) is refused, and one on it is read. */
static void test_raw_keys_on_curve(void)
{
    uint8_t one[32] = {0}, pt[65];
    one[31] = 1;
    uint8_t xy[64];
    memcpy(xy, one, 32);
    memcpy(xy + 32, one, 32);
    EVP_PKEY *k = NULL;
    CHECK_STATUS(x509_p256_key_from_raw(&k, xy), CCZ_ERR_KEY_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "not a P-256 public key");
    CHECK(k == NULL);
    CHECK_STATUS(x509_sm2_key_from_raw(&k, one, one), CCZ_ERR_KEY_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "not an SM2 public key");
    CHECK(k == NULL);
    EVP_PKEY *sm2 = EVP_PKEY_Q_keygen(NULL, NULL, "SM2");
    size_t len = 0;
    CHECK(sm2 && EVP_PKEY_get_octet_string_param(sm2, "encoded-pub-key", pt, sizeof pt, &len) &&
          len == 65);
    CHECK_OK(x509_sm2_key_from_raw(&k, pt + 1, pt + 33));
    CHECK(EVP_PKEY_eq(k, sm2) == 1);
    EVP_PKEY_free(k);
    pt[64] ^= 1; /* y changed: off the curve */
    k = NULL;
    CHECK_STATUS(x509_sm2_key_from_raw(&k, pt + 1, pt + 33), CCZ_ERR_KEY_MALFORMED);
    CHECK(k == NULL);
    EVP_PKEY_free(sm2);
}

/* A PEM chain is its certificates, every one of them: one whose text is cut short or whose
 * bytes do not parse is refused, not dropped with the rest returned. Text outside the markers
 * (lines of openssl's output, a trailing NUL) is not a certificate and is passed over. */
static void test_pem_chain_damaged(void)
{
    setup();
    ccz_buf a = CCZ_BUF_INIT, b = CCZ_BUF_INIT;
    CHECK_OK(x509_cert_to_pem(&a, root));
    CHECK_OK(x509_cert_to_pem(&b, leaf));
    ccz_buf pem = CCZ_BUF_INIT;
    STACK_OF(X509) *sk = NULL;
    /* the second certificate cut in its base64, before its END line */
    CHECK_OK(ccz_buf_append(&pem, a.ptr, a.len));
    CHECK_OK(ccz_buf_append(&pem, b.ptr, b.len / 2));
    CHECK_STATUS(x509_read_pem_certs(&sk, ccz_buf_span(&pem), 4), CCZ_ERR_CERT_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "cannot parse certificate 2 of the chain");
    sk_X509_pop_free(sk, X509_free);
    sk = NULL;
    /* the first certificate's body changed (one base64 digit): the second is not returned alone */
    ccz_buf_reset(&pem);
    CHECK_OK(ccz_buf_append(&pem, a.ptr, a.len));
    pem.ptr[40] = pem.ptr[40] == 'A' ? 'B' : 'A';
    pem.ptr[41] = pem.ptr[41] == 'A' ? 'B' : 'A';
    CHECK_OK(ccz_buf_append(&pem, b.ptr, b.len));
    CHECK_STATUS(x509_read_pem_certs(&sk, ccz_buf_span(&pem), 4), CCZ_ERR_CERT_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "cannot parse certificate 1 of the chain");
    sk_X509_pop_free(sk, X509_free);
    sk = NULL;
    /* text around and between the certificates, and a trailing NUL: both read */
    ccz_buf_reset(&pem);
    CHECK_OK(ccz_buf_printf(&pem, "subject=CN = test root\n%.*ssubject=CN = test leaf\n%.*s",
                            (int)a.len, (const char *)a.ptr, (int)b.len, (const char *)b.ptr));
    CHECK_OK(ccz_buf_append(&pem, "trailer\n\0", 9));
    CHECK_OK(x509_read_pem_certs(&sk, ccz_buf_span(&pem), 4));
    CHECK_INT(sk_X509_num(sk), 2);
    sk_X509_pop_free(sk, X509_free);
    ccz_buf_free(&pem);
    ccz_buf_free(&a);
    ccz_buf_free(&b);
}

/* The leaf's CRL (checked by OpenSSL) is valid from its lastUpdate second to its nextUpdate
 * second, both included: OpenSSL holds it expired at nextUpdate itself, which the chain check
 * forgives for exactly that second. */
static void test_leaf_crl_ends(void)
{
    three c;
    three_make(&c, "test root", CCZ_SPAN(NULL, 0));
    X509_CRL *root_crl = make_crl(c.root, c.root_key, T_AT - 8000, T_AT + 15000, NULL);
    X509_CRL *crl = make_crl(c.ca, c.ca_key, T_AT - 4000, T_AT, NULL);
    x509_window w = X509_WINDOW_ALWAYS;
    CHECK_OK(check_crls(&c, true, &crl, 1, &root_crl, 1, NULL, &w));
    CHECK_INT(w.from, T_AT - 4000);
    CHECK_INT(w.until, T_AT);
    X509_CRL_free(crl);
    crl = make_crl(c.ca, c.ca_key, T_AT - 4000, T_AT - 1, NULL);
    CHECK_STATUS(check_crls(&c, true, &crl, 1, &root_crl, 1, NULL, NULL),
                 CCZ_ERR_COLLATERAL_OUT_OF_DATE);
    CHECK_STR(ccz_error_detail(), "test chain: CRL has expired (certificate 'test leaf')");
    X509_CRL_free(crl);
    crl = make_crl(c.ca, c.ca_key, T_AT, T_AT + 20000, NULL);
    CHECK_OK(check_crls(&c, true, &crl, 1, &root_crl, 1, NULL, NULL));
    X509_CRL_free(crl);
    crl = make_crl(c.ca, c.ca_key, T_AT + 1, T_AT + 20000, NULL);
    CHECK_STATUS(check_crls(&c, true, &crl, 1, &root_crl, 1, NULL, NULL),
                 CCZ_ERR_COLLATERAL_OUT_OF_DATE);
    CHECK_STR(ccz_error_detail(), "test chain: CRL is not yet valid (certificate 'test leaf')");
    X509_CRL_free(crl);
    X509_CRL_free(root_crl);
    three_free(&c);
}

TEST_MAIN(T(test_time), T(test_chain_inclusive_and_mapped), T(test_find_ext), T(test_issue_raw_ext),
          T(test_issue_utf8_names), T(test_hashes_and_pem), T(test_ecdsa_raw),
          T(test_ecdsa_der_edges), T(test_ecdsa_sequence_of_128), T(test_parse_cache),
          T(test_parse_cache_bounds), T(test_parse_cache_keeps_recent), T(test_ca_crls),
          T(test_read_exact), T(test_issue_profile), T(test_read_der_after_pem),
          T(test_ca_crl_signature_and_ends), T(test_intermediate_not_ca), T(test_raw_keys_on_curve),
          T(test_pem_chain_damaged), T(test_leaf_crl_ends), T(test_cleanup))
