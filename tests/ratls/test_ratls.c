/* SPDX-License-Identifier: Apache-2.0 */
/* RA-TLS: certificates made and read back, binding failures in each format (DICE, Gramine
 * legacy, SGX SDK: genuine sim evidence over other report data than the certificate's), the
 * validity window at both ends, and TLS 1.3 handshakes between two contexts
 * in one process (mutual, one-way both ways) accepted and rejected with the reason on both
 * sides, the verified-peer cache, a copied certificate without its key (never reported
 * accepted), resumption offers (a full handshake), and connect/accept deadlines. Hostile
 * certificates and peers: an evidence extension twice, a server not yet valid or without
 * evidence (each with its alert), TLS 1.2 either way. */
#define OPENSSL_SUPPRESS_DEPRECATED /* EC_KEY: a key whose private half no longer fits */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "ccz/ccz.h"
#include "test.h"

static char plat[512], root_path[600];
static uint8_t measurement[32] = {0x42, 0x43};

static void platform(void)
{
    if (plat[0])
        return;
    snprintf(plat, sizeof plat, "%s/plat", test_tmpdir());
    snprintf(root_path, sizeof root_path, "%s/root.crt", plat);
    CHECK_OK(ccz_sim_platform_init(plat, false));
}

static ccz_attester *sim_attester(bool debug)
{
    platform();
    ccz_attester_opts o = CCZ_ATTESTER_OPTS_INIT;
    o.tee = CCZ_TEE_SIM;
    o.sim.dir = plat;
    o.sim.measurement = measurement;
    o.sim.svn = 3;
    o.sim.debug = debug;
    ccz_attester *a;
    CHECK_OK(ccz_attester_new(&a, &o));
    return a;
}

static ccz_trust *sim_trust(void)
{
    platform();
    ccz_trust *t;
    CHECK_OK(ccz_trust_new(&t));
    CHECK_OK(ccz_trust_add_sim_root_file(t, root_path));
    return t;
}

static ccz_policy *policy(const char *doc)
{
    ccz_policy *p;
    CHECK_OK(ccz_policy_parse(&p, doc, strlen(doc)));
    return p;
}

#define ACCEPT_ME                                                                                  \
    "{\"allow_sim\": true, \"sgx\": [{\"mr_enclave\": "                                            \
    "\"4243000000000000000000000000000000000000000000000000000000000000\", \"isv_svn_min\": 3}]}"

static void test_cert_round_trip(void)
{
    ccz_attester *a = sim_attester(false);
    ccz_trust *t = sim_trust();
    ccz_policy *p = policy(ACCEPT_ME);
    for (int k = 0; k < 2; k++) {
        ccz_ratls_cert_opts co = CCZ_RATLS_CERT_OPTS_INIT;
        co.key = k ? CCZ_RATLS_KEY_P384 : CCZ_RATLS_KEY_P256;
        co.nonce = CCZ_SPAN("nonce-1", 7);
        co.gramine_legacy = k == 1; /* SGX quotes only: no legacy extension for sim evidence */
        X509 *x;
        EVP_PKEY *key;
        CHECK_OK(ccz_ratls_cert_create(&x, &key, a, &co));
        CHECK_INT(EVP_PKEY_get_bits(key), k ? 384 : 256);
        /* signed with SHA-256, SHA-384 for a P-384 key */
        CHECK_INT(X509_get_signature_nid(x), k ? NID_ecdsa_with_SHA384 : NID_ecdsa_with_SHA256);
        ccz_ratls_info info;
        CHECK_OK(ccz_ratls_inspect(&info, x));
        CHECK_INT(info.format, CCZ_RATLS_FORMAT_DICE);
        CHECK(!info.has_legacy);
        CHECK_INT(info.cbor_tag, CCZ_RATLS_TAG_CCZ_SIM);
        CHECK_INT(info.tee, CCZ_TEE_SIM);
        CHECK(info.binding_ok);
        CHECK_INT(info.hash_alg, 1);
        CHECK(info.has_nonce && info.nonce.len == 7 && !memcmp(info.nonce.ptr, "nonce-1", 7));
        ccz_ratls_info_free(&info);
        static ccz_ratls_verdict v;
        ccz_verify_opts vo = CCZ_VERIFY_OPTS_INIT;
        vo.at_unix = time(NULL);
        vo.trust = t;
        CHECK_OK(ccz_ratls_verify_cert(&v, x, p, &vo));
        CHECK(v.result.claims.simulated);
        CHECK_INT(v.result.claims.sgx.isv_svn, 3);
        /* the default policy: verified, rejected for being simulated */
        CHECK_STATUS(ccz_ratls_verify_cert(&v, x, NULL, &vo), CCZ_ERR_POLICY_REJECTED);
        CHECK_STR(v.step, "policy");
        CHECK_CONTAINS(v.message, "simulated_not_allowed");
        /* outside the certificate's validity */
        vo.at_unix = time(NULL) + 400L * 86400;
        CHECK_STATUS(ccz_ratls_verify_cert(&v, x, p, &vo), CCZ_ERR_EXPIRED);
        CHECK_STR(v.step, "certificate");
        X509_free(x);
        EVP_PKEY_free(key);
    }
    ccz_policy_free(p);
    ccz_trust_free(t);
    ccz_attester_free(a);
}

/* A certificate with another certificate's evidence extension, signed by its own key. */
static X509 *swap_key(X509 *orig, EVP_PKEY **new_key)
{
    *new_key = EVP_EC_gen("P-256");
    X509 *x = X509_dup(orig);
    X509_set_pubkey(x, *new_key);
    X509_sign(x, *new_key, EVP_sha256());
    return x;
}

static void test_binding_and_tampering(void)
{
    ccz_attester *a = sim_attester(false);
    ccz_trust *t = sim_trust();
    ccz_policy *p = policy(ACCEPT_ME);
    ccz_ratls_cert_opts co = CCZ_RATLS_CERT_OPTS_INIT;
    X509 *x;
    EVP_PKEY *key, *other;
    CHECK_OK(ccz_ratls_cert_create(&x, &key, a, &co));
    static ccz_ratls_verdict v;
    ccz_verify_opts vo = CCZ_VERIFY_OPTS_INIT;
    vo.at_unix = time(NULL);
    vo.trust = t;
    X509 *swapped = swap_key(x, &other);
    CHECK_STATUS(ccz_ratls_verify_cert(&v, swapped, p, &vo), CCZ_ERR_BINDING);
    CHECK_STR(v.step, "binding");
    ccz_ratls_info info;
    CHECK_OK(ccz_ratls_inspect(&info, swapped));
    CHECK(!info.binding_ok);
    ccz_ratls_info_free(&info);
    /* one flipped byte in the certificate (inside the evidence): its signature fails */
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    der[n / 2] ^= 1;
    const unsigned char *pp = der;
    X509 *flipped = d2i_X509(NULL, &pp, n);
    CHECK(flipped != NULL); /* the flip lands in the evidence bytes, so the DER still parses */
    CHECK_STATUS(flipped ? ccz_ratls_verify_cert(&v, flipped, p, &vo) : CCZ_ERR_MALFORMED,
                 CCZ_ERR_BAD_SIGNATURE);
    CHECK_STR(v.step, "certificate");
    /* a plain certificate carries no evidence */
    X509 *plain = X509_dup(x);
    ASN1_OBJECT *dice = OBJ_txt2obj(CCZ_RATLS_OID_DICE, 1);
    int idx = X509_get_ext_by_OBJ(plain, dice, -1);
    ASN1_OBJECT_free(dice);
    X509_EXTENSION_free(X509_delete_ext(plain, idx));
    X509_sign(plain, key, EVP_sha256());
    CHECK_STATUS(ccz_ratls_verify_cert(&v, plain, p, &vo), CCZ_ERR_NOT_FOUND);
    CHECK_STR(v.step, "extension");
    X509_free(plain);
    X509_free(flipped);
    OPENSSL_free(der);
    X509_free(swapped);
    EVP_PKEY_free(other);
    X509_free(x);
    EVP_PKEY_free(key);
    ccz_policy_free(p);
    ccz_trust_free(t);
    ccz_attester_free(a);
}

/* ---- certificates built here, one extension at a time --------------------------------------*/

static void add_ext(X509 *x, const char *oid_text, const uint8_t *v, size_t len)
{
    ASN1_OBJECT *oid = OBJ_txt2obj(oid_text, 1);
    ASN1_OCTET_STRING *s = ASN1_OCTET_STRING_new();
    X509_EXTENSION *e = NULL;
    CHECK(oid && s && ASN1_OCTET_STRING_set(s, v, (int)len) &&
          (e = X509_EXTENSION_create_by_OBJ(NULL, oid, 0, s)) && X509_add_ext(x, e, -1));
    X509_EXTENSION_free(e);
    ASN1_OCTET_STRING_free(s);
    ASN1_OBJECT_free(oid);
}

/* A self-signed certificate for key carrying one evidence extension. */
static X509 *self_signed(EVP_PKEY *key, const char *oid, const uint8_t *v, size_t len)
{
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)"unbound", -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    X509_set_pubkey(x, key);
    add_ext(x, oid, v, len);
    CHECK(X509_sign(x, key, EVP_sha256()) > 0);
    return x;
}

/* Hash of the key's DER SubjectPublicKeyInfo. */
static unsigned spki_hash(uint8_t *out, EVP_PKEY *key, const EVP_MD *md)
{
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(key, &der);
    unsigned len = 0;
    CHECK(n > 0 && EVP_Digest(der, (size_t)n, out, &len, md, NULL));
    OPENSSL_free(der);
    return len;
}

/* CBOR: a head of major type m with argument n (n < 2^32). */
static size_t cbor_head(uint8_t *p, int m, uint64_t n)
{
    if (n < 24) {
        p[0] = (uint8_t)(m << 5 | n);
        return 1;
    }
    if (n < 256) {
        p[0] = (uint8_t)(m << 5 | 24), p[1] = (uint8_t)n;
        return 2;
    }
    if (n < 65536) {
        p[0] = (uint8_t)(m << 5 | 25), p[1] = (uint8_t)(n >> 8), p[2] = (uint8_t)n;
        return 3;
    }
    p[0] = (uint8_t)(m << 5 | 26);
    for (int i = 0; i < 4; i++)
        p[1 + i] = (uint8_t)(n >> (24 - 8 * i));
    return 5;
}

/* A one-entry claims map's head and its key: {"pubkey-hash": ... */
static size_t pubkey_hash_head(uint8_t *out)
{
    size_t o = cbor_head(out, 5, 1);
    o += cbor_head(out + o, 3, 11);
    memcpy(out + o, "pubkey-hash", 11);
    return o + 11;
}

/* claims = {"pubkey-hash": bstr(cbor([alg, hash(spki)]))} written by hand, as another RA-TLS
 * implementation would; flip >= 0 changes that byte of the hash. */
static size_t dice_claims_flipped(uint8_t *out, EVP_PKEY *key, int alg, const EVP_MD *md, int flip)
{
    uint8_t h[64], inner[80];
    unsigned hl = spki_hash(h, key, md);
    if (flip >= 0)
        h[flip] ^= 0x01;
    size_t n = cbor_head(inner, 4, 2);
    n += cbor_head(inner + n, 0, (uint64_t)alg);
    n += cbor_head(inner + n, 2, hl);
    if (hl > sizeof h || n + hl > sizeof inner) /* never: a digest of at most 64 bytes */
        return 0;
    memcpy(inner + n, h, hl);
    n += hl;
    size_t o = pubkey_hash_head(out);
    o += cbor_head(out + o, 2, n);
    memcpy(out + o, inner, n);
    return o + n;
}

static size_t dice_claims(uint8_t *out, EVP_PKEY *key, int alg, const EVP_MD *md)
{
    return dice_claims_flipped(out, key, alg, md, -1);
}

/* The DICE extension: tag(t)[bstr evidence, bstr claims]. */
static void dice_ext(ccz_buf *out, uint64_t tag, ccz_span ev, const uint8_t *claims, size_t cl)
{
    uint8_t h[16];
    size_t n = cbor_head(h, 6, tag);
    n += cbor_head(h + n, 4, 2);
    n += cbor_head(h + n, 2, ev.len);
    CHECK_OK(ccz_buf_append(out, h, n));
    CHECK_OK(ccz_buf_append(out, ev.ptr, ev.len));
    n = cbor_head(h, 2, cl);
    CHECK_OK(ccz_buf_append(out, h, n));
    CHECK_OK(ccz_buf_append(out, claims, cl));
}

/* Each format, built here with genuine sim evidence and the certificate's own key: bound (the
 * evidence's report data is the format's hash) it verifies; with any other report data it is a
 * binding failure, even though every other step passes. */
static void test_unbound_evidence(void)
{
    ccz_attester *a = sim_attester(false);
    ccz_trust *t = sim_trust();
    ccz_policy *p = policy(ACCEPT_ME);
    ccz_verify_opts vo = CCZ_VERIFY_OPTS_INIT;
    vo.at_unix = time(NULL);
    vo.trust = t;
    static ccz_ratls_verdict v;
    static const struct {
        const char *name;
        const char *oid; /* NULL: DICE */
        int alg;
        ccz_ratls_format format;
    } forms[] = {
        {"dice sha256", NULL, 1, CCZ_RATLS_FORMAT_DICE},
        {"dice sha384", NULL, 7, CCZ_RATLS_FORMAT_DICE},
        {"dice sha512", NULL, 8, CCZ_RATLS_FORMAT_DICE},
        {"gramine legacy", CCZ_RATLS_OID_GRAMINE, 1, CCZ_RATLS_FORMAT_GRAMINE_LEGACY},
        {"gramine legacy (misencoded oid)", CCZ_RATLS_OID_GRAMINE_MISENCODED, 1,
         CCZ_RATLS_FORMAT_GRAMINE_LEGACY},
        {"intel sgx sdk", CCZ_RATLS_OID_SGX_SDK, 1, CCZ_RATLS_FORMAT_SGX_SDK},
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        test_name = forms[i].name;
        const EVP_MD *md = forms[i].alg == 1   ? EVP_sha256()
                           : forms[i].alg == 7 ? EVP_sha384()
                                               : EVP_sha512();
        EVP_PKEY *key = EVP_EC_gen("P-256");
        uint8_t claims[256];
        size_t cl = forms[i].oid ? 0 : dice_claims(claims, key, forms[i].alg, md);
        uint8_t bound[64] = {0};
        if (forms[i].oid)
            spki_hash(bound, key, EVP_sha256()); /* SHA-256 of the key, zero-padded */
        else
            CHECK(EVP_Digest(claims, cl, bound, NULL, md, NULL)); /* hash of the claims */
        /* 0: bound; 1: zeros; 2: one bit off; 3: the other format's binding */
        for (int variant = 0; variant < 4; variant++) {
            uint8_t rd[64];
            memcpy(rd, bound, 64);
            if (variant == 1)
                memset(rd, 0, 64);
            else if (variant == 2)
                rd[variant * 20] ^= 0x10;
            else if (variant == 3 && forms[i].oid) {
                memset(rd, 0, 64);
                cl = dice_claims(claims, key, 1, EVP_sha256());
                CHECK(EVP_Digest(claims, cl, rd, NULL, EVP_sha256(), NULL));
            } else if (variant == 3) {
                memset(rd, 0, 64);
                spki_hash(rd, key, EVP_sha256());
            }
            ccz_buf ev = CCZ_BUF_INIT, ext = CCZ_BUF_INIT;
            CHECK_OK(ccz_attest(&ev, a, rd));
            if (forms[i].oid)
                CHECK_OK(ccz_buf_append(&ext, ev.ptr, ev.len));
            else
                dice_ext(&ext, CCZ_RATLS_TAG_CCZ_SIM, ccz_buf_span(&ev), claims, cl);
            X509 *x = self_signed(key, forms[i].oid ? forms[i].oid : CCZ_RATLS_OID_DICE, ext.ptr,
                                  ext.len);
            ccz_ratls_info info;
            CHECK_OK(ccz_ratls_inspect(&info, x));
            CHECK_INT(info.format, forms[i].format);
            CHECK_INT(info.hash_alg, forms[i].alg);
            CHECK(info.binding_ok); /* the claims name the key; only the evidence can tell */
            ccz_ratls_info_free(&info);
            if (variant == 0) {
                CHECK_OK(ccz_ratls_verify_cert(&v, x, p, &vo));
                CHECK_INT(v.format, forms[i].format);
                CHECK(memcmp(v.result.claims.report_data, bound, 64) == 0);
            } else {
                CHECK_STATUS(ccz_ratls_verify_cert(&v, x, p, &vo), CCZ_ERR_BINDING);
                CHECK_STR(v.step, "binding");
                CHECK_INT(v.format, forms[i].format);
            }
            X509_free(x);
            ccz_buf_free(&ev);
            ccz_buf_free(&ext);
        }
        EVP_PKEY_free(key);
    }
    test_name = "test_unbound_evidence";
    ccz_policy_free(p);
    ccz_trust_free(t);
    ccz_attester_free(a);
}

/* A copy of x with the extension oid (empty value) added, critical or not, signed again. */
static X509 *with_ext(X509 *x, EVP_PKEY *key, const char *oid_text, bool critical)
{
    X509 *y = X509_dup(x);
    ASN1_OBJECT *oid = OBJ_txt2obj(oid_text, 1);
    ASN1_OCTET_STRING *s = ASN1_OCTET_STRING_new();
    X509_EXTENSION *e = NULL;
    CHECK(y && oid && s && ASN1_OCTET_STRING_set(s, (const uint8_t *)"\x05\x00", 2) &&
          (e = X509_EXTENSION_create_by_OBJ(NULL, oid, critical, s)) && X509_add_ext(y, e, -1));
    CHECK(X509_sign(y, key, EVP_sha256()) > 0);
    X509_EXTENSION_free(e);
    ASN1_OCTET_STRING_free(s);
    ASN1_OBJECT_free(oid);
    return y;
}

/* A self-signed certificate of key with a genuine sim DICE extension bound to it; *ev and *ext
 * (the caller's to free) get the evidence and the extension's value. */
static X509 *sim_dice_cert(ccz_attester *a, EVP_PKEY *key, ccz_buf *ev, ccz_buf *ext)
{
    uint8_t claims[256], rd[64] = {0};
    size_t cl = dice_claims(claims, key, 1, EVP_sha256());
    CHECK(EVP_Digest(claims, cl, rd, NULL, EVP_sha256(), NULL));
    CHECK_OK(ccz_attest(ev, a, rd));
    dice_ext(ext, CCZ_RATLS_TAG_CCZ_SIM, ccz_buf_span(ev), claims, cl);
    return self_signed(key, CCZ_RATLS_OID_DICE, ext->ptr, ext->len);
}

/* A critical extension the verifier does not understand fails the certificate step (RFC 5280:
 * the TLS callback stands in for OpenSSL's chain check, which would refuse it); the evidence
 * extensions themselves may be critical, and a non-critical unknown one is ignored. */
static void test_critical_extensions(void)
{
    ccz_attester *a = sim_attester(false);
    ccz_trust *t = sim_trust();
    ccz_policy *p = policy(ACCEPT_ME);
    ccz_verify_opts vo = CCZ_VERIFY_OPTS_INIT;
    vo.at_unix = time(NULL);
    vo.trust = t;
    static ccz_ratls_verdict v;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    ccz_buf ev = CCZ_BUF_INIT, ext = CCZ_BUF_INIT;
    X509 *x = sim_dice_cert(a, key, &ev, &ext);
    CHECK_OK(ccz_ratls_verify_cert(&v, x, p, &vo));
    X509 *y = with_ext(x, key, "1.2.3.4.5", false);
    CHECK_OK(ccz_ratls_verify_cert(&v, y, p, &vo));
    X509_free(y);
    y = with_ext(x, key, "1.2.3.4.5", true);
    CHECK_STATUS(ccz_ratls_verify_cert(&v, y, p, &vo), CCZ_ERR_UNSUPPORTED);
    CHECK_STR(v.step, "certificate");
    CHECK_CONTAINS(v.message, "critical extension 1.2.3.4.5");
    X509_free(y);
    /* the DICE extension marked critical, as the TCG DICE profile suggests */
    X509 *z = X509_new();
    CHECK(X509_set_version(z, 2) && X509_set_pubkey(z, key));
    ASN1_INTEGER_set(X509_get_serialNumber(z), 8);
    X509_set_subject_name(z, X509_get_subject_name(x));
    X509_set_issuer_name(z, X509_get_subject_name(x));
    X509_set1_notBefore(z, X509_get0_notBefore(x));
    X509_set1_notAfter(z, X509_get0_notAfter(x));
    ASN1_OBJECT *oid = OBJ_txt2obj(CCZ_RATLS_OID_DICE, 1);
    ASN1_OCTET_STRING *s = ASN1_OCTET_STRING_new();
    X509_EXTENSION *e = NULL;
    CHECK(oid && s && ASN1_OCTET_STRING_set(s, ext.ptr, (int)ext.len) &&
          (e = X509_EXTENSION_create_by_OBJ(NULL, oid, 1, s)) && X509_add_ext(z, e, -1));
    CHECK(X509_sign(z, key, EVP_sha256()) > 0);
    CHECK_OK(ccz_ratls_verify_cert(&v, z, p, &vo));
    X509_EXTENSION_free(e);
    ASN1_OCTET_STRING_free(s);
    ASN1_OBJECT_free(oid);
    X509_free(z);
    X509_free(x);
    ccz_buf_free(&ev);
    ccz_buf_free(&ext);
    EVP_PKEY_free(key);
    ccz_policy_free(p);
    ccz_trust_free(t);
    ccz_attester_free(a);
}

/* Each way the DICE extension's CBOR can be wrong, with its exact status and message; and a
 * certificate with no evidence extension at all. */
static void test_malformed_dice(void)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    uint8_t h[32];
    spki_hash(h, key, EVP_sha256());
    static const uint8_t ev[] = {1, 2, 3};
    /* claims: {"pubkey-hash": [alg, bstr(h)]} with alg 2^32 + 1 (which truncates to 1) */
    uint8_t big[64];
    size_t n = pubkey_hash_head(big);
    n += cbor_head(big + n, 4, 2);
    static const uint8_t alg_big[] = {0x1b, 0, 0, 0, 1, 0, 0, 0, 1};
    memcpy(big + n, alg_big, sizeof alg_big);
    n += sizeof alg_big;
    n += cbor_head(big + n, 2, 32);
    memcpy(big + n, h, 32);
    n += 32;
    static const uint8_t array[] = {0x82, 0x40, 0x40}; /* not a map */
    static const uint8_t other[] = {0xa1, 0x65, 'n', 'o', 'n', 'c', 'e', 0x41, 7};
    static const uint8_t short_arr[] = {0xa1, 0x6b, 'p', 'u', 'b', 'k',  'e', 'y',
                                        '-',  'h',  'a', 's', 'h', 0x81, 0x01};
    /* {"pubkey-hashes": [1, h'00']}: a longer key is not pubkey-hash */
    static const uint8_t longer_key[] = {0xa1, 0x6d, 'p', 'u', 'b', 'k',  'e',  'y',  '-', 'h',
                                         'a',  's',  'h', 'e', 's', 0x82, 0x01, 0x41, 0};
    /* {"pubkey-hash": [-8, h'00']}: a negative integer, not SHA-384 (7) */
    static const uint8_t negative_alg[] = {0xa1, 0x6b, 'p', 'u', 'b',  'k',  'e',  'y', '-',
                                           'h',  'a',  's', 'h', 0x82, 0x27, 0x41, 0};
    /* {"nonce": h'07'} and a byte after the map */
    static const uint8_t other_then_byte[] = {0xa1, 0x65, 'n', 'o', 'n', 'c', 'e', 0x41, 7, 0};
    static const struct {
        const char *name;
        int form; /* 0: claims below in tag[ev, claims]; 1: untagged; 2: tag[ev]; 3: as 0, and a
                   * byte after it */
        const uint8_t *claims;
        size_t len;
        ccz_status want;
        const char *msg;
    } cases[] = {
        {"untagged", 1, other, sizeof other, CCZ_ERR_MALFORMED, "not a tagged CBOR item"},
        {"one element", 2, other, sizeof other, CCZ_ERR_MALFORMED, "not [evidence, claims]"},
        {"claims not a map", 0, array, sizeof array, CCZ_ERR_MALFORMED, "not a CBOR map"},
        {"no pubkey-hash", 0, other, sizeof other, CCZ_ERR_MALFORMED, "carry no pubkey-hash"},
        {"pubkey-hash of one", 0, short_arr, sizeof short_arr, CCZ_ERR_MALFORMED,
         "pubkey-hash is not [algorithm, hash]"},
        {"algorithm 2^32+1", 0, NULL, 0, CCZ_ERR_UNSUPPORTED,
         "pubkey-hash algorithm 4294967297 is not SHA-256"},
        {"pubkey-hashes", 0, longer_key, sizeof longer_key, CCZ_ERR_MALFORMED,
         "carry no pubkey-hash"},
        {"algorithm -8", 0, negative_alg, sizeof negative_alg, CCZ_ERR_UNSUPPORTED,
         "the pubkey-hash algorithm is not an unsigned integer (CBOR major type 1)"},
        {"a byte after the claims", 0, other_then_byte, sizeof other_then_byte,
         CCZ_ERR_TRAILING_DATA, "RA-TLS claims: 1 unexpected bytes after the map"},
        {"a byte after [evidence, claims]", 3, other, sizeof other, CCZ_ERR_TRAILING_DATA,
         "the DICE evidence extension has 1 unexpected bytes after [evidence, claims]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        test_name = cases[i].name;
        const uint8_t *c = cases[i].claims ? cases[i].claims : big;
        size_t cl = cases[i].claims ? cases[i].len : n;
        ccz_buf ext = CCZ_BUF_INIT;
        if (cases[i].form == 0 || cases[i].form == 3) {
            dice_ext(&ext, CCZ_RATLS_TAG_CCZ_SIM, CCZ_SPAN(ev, sizeof ev), c, cl);
            if (cases[i].form == 3)
                CHECK_OK(ccz_buf_append_u8(&ext, 0));
        } else {
            uint8_t hd[16];
            size_t k = cases[i].form == 2 ? cbor_head(hd, 6, CCZ_RATLS_TAG_CCZ_SIM) : 0;
            k += cbor_head(hd + k, 4, cases[i].form == 2 ? 1 : 2);
            k += cbor_head(hd + k, 2, sizeof ev);
            CHECK_OK(ccz_buf_append(&ext, hd, k));
            CHECK_OK(ccz_buf_append(&ext, ev, sizeof ev));
            if (cases[i].form == 1) {
                k = cbor_head(hd, 2, cl);
                CHECK_OK(ccz_buf_append(&ext, hd, k));
                CHECK_OK(ccz_buf_append(&ext, c, cl));
            }
        }
        X509 *x = self_signed(key, CCZ_RATLS_OID_DICE, ext.ptr, ext.len);
        ccz_ratls_info info;
        CHECK_STATUS(ccz_ratls_inspect(&info, x), cases[i].want);
        CHECK_CONTAINS(ccz_error_detail(), cases[i].msg);
        ccz_ratls_info_free(&info);
        X509_free(x);
        ccz_buf_free(&ext);
    }
    test_name = "test_malformed_dice";
    /* {"pubkey-hash": [1, h], "noncf": h'07'}: a key that only starts like "nonce" is no nonce */
    uint8_t near[96];
    size_t m = cbor_head(near, 5, 2);
    m += cbor_head(near + m, 3, 11);
    memcpy(near + m, "pubkey-hash", 11);
    m += 11;
    m += cbor_head(near + m, 4, 2);
    m += cbor_head(near + m, 0, 1);
    m += cbor_head(near + m, 2, 32);
    memcpy(near + m, h, 32);
    m += 32;
    static const uint8_t noncf[] = {0x65, 'n', 'o', 'n', 'c', 'f', 0x41, 7};
    memcpy(near + m, noncf, sizeof noncf);
    m += sizeof noncf;
    ccz_buf near_ext = CCZ_BUF_INIT;
    dice_ext(&near_ext, CCZ_RATLS_TAG_CCZ_SIM, CCZ_SPAN(ev, sizeof ev), near, m);
    X509 *nx = self_signed(key, CCZ_RATLS_OID_DICE, near_ext.ptr, near_ext.len);
    ccz_ratls_info ni;
    CHECK_OK(ccz_ratls_inspect(&ni, nx));
    CHECK(ni.binding_ok);
    CHECK(!ni.has_nonce);
    CHECK_INT(ni.nonce.len, 0);
    ccz_ratls_info_free(&ni);
    X509_free(nx);
    ccz_buf_free(&near_ext);
    /* no evidence extension: an unrelated one only */
    X509 *x = self_signed(key, "1.2.3.4.5", (const uint8_t *)"\x05\x00", 2);
    ccz_ratls_info info;
    CHECK_STATUS(ccz_ratls_inspect(&info, x), CCZ_ERR_NOT_FOUND);
    CHECK_CONTAINS(ccz_error_detail(), "carries no RA-TLS evidence extension");
    ccz_ratls_info_free(&info);
    X509_free(x);
    EVP_PKEY_free(key);
}

/* DICE claims that name another key (one byte of the pubkey-hash differs: the first, the last)
 * with evidence bound to those claims: the certificate's key is not the attested one. */
static void test_claims_name_other_key(void)
{
    ccz_attester *a = sim_attester(false);
    ccz_trust *t = sim_trust();
    ccz_policy *p = policy(ACCEPT_ME);
    ccz_verify_opts vo = CCZ_VERIFY_OPTS_INIT;
    vo.at_unix = time(NULL);
    vo.trust = t;
    static ccz_ratls_verdict v;
    static const struct {
        int alg;
        int last;
    } algs[] = {{1, 31}, {7, 47}, {8, 63}};
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++) {
        const EVP_MD *md = algs[i].alg == 1   ? EVP_sha256()
                           : algs[i].alg == 7 ? EVP_sha384()
                                              : EVP_sha512();
        EVP_PKEY *key = EVP_EC_gen("P-384");
        int flips[] = {0, algs[i].last / 2, algs[i].last};
        for (size_t f = 0; f < 3; f++) {
            uint8_t claims[256], rd[64] = {0};
            size_t cl = dice_claims_flipped(claims, key, algs[i].alg, md, flips[f]);
            CHECK(EVP_Digest(claims, cl, rd, NULL, md, NULL));
            ccz_buf ev = CCZ_BUF_INIT, ext = CCZ_BUF_INIT;
            CHECK_OK(ccz_attest(&ev, a, rd));
            dice_ext(&ext, CCZ_RATLS_TAG_CCZ_SIM, ccz_buf_span(&ev), claims, cl);
            X509 *x = self_signed(key, CCZ_RATLS_OID_DICE, ext.ptr, ext.len);
            ccz_ratls_info info;
            CHECK_OK(ccz_ratls_inspect(&info, x));
            CHECK(!info.binding_ok);
            ccz_ratls_info_free(&info);
            CHECK_STATUS(ccz_ratls_verify_cert(&v, x, p, &vo), CCZ_ERR_BINDING);
            CHECK_STR(v.step, "binding");
            X509_free(x);
            ccz_buf_free(&ev);
            ccz_buf_free(&ext);
        }
        EVP_PKEY_free(key);
    }
    /* a pubkey-hash one byte longer than SHA-256: the key's hash and a zero byte after it */
    EVP_PKEY *key = EVP_EC_gen("P-256");
    uint8_t h[33] = {0}, inner[64], claims[128], rd[64] = {0};
    spki_hash(h, key, EVP_sha256());
    size_t n = cbor_head(inner, 4, 2);
    n += cbor_head(inner + n, 0, 1);
    n += cbor_head(inner + n, 2, sizeof h);
    memcpy(inner + n, h, sizeof h);
    n += sizeof h;
    size_t cl = cbor_head(claims, 5, 1);
    cl += cbor_head(claims + cl, 3, 11);
    memcpy(claims + cl, "pubkey-hash", 11);
    cl += 11;
    cl += cbor_head(claims + cl, 2, n);
    memcpy(claims + cl, inner, n);
    cl += n;
    CHECK(EVP_Digest(claims, cl, rd, NULL, EVP_sha256(), NULL));
    ccz_buf ev = CCZ_BUF_INIT, ext = CCZ_BUF_INIT;
    CHECK_OK(ccz_attest(&ev, a, rd));
    dice_ext(&ext, CCZ_RATLS_TAG_CCZ_SIM, ccz_buf_span(&ev), claims, cl);
    X509 *x = self_signed(key, CCZ_RATLS_OID_DICE, ext.ptr, ext.len);
    ccz_ratls_info info;
    CHECK_OK(ccz_ratls_inspect(&info, x));
    CHECK(!info.binding_ok);
    ccz_ratls_info_free(&info);
    CHECK_STATUS(ccz_ratls_verify_cert(&v, x, p, &vo), CCZ_ERR_BINDING);
    CHECK_STR(v.step, "binding");
    X509_free(x);
    ccz_buf_free(&ev);
    ccz_buf_free(&ext);
    EVP_PKEY_free(key);
    ccz_policy_free(p);
    ccz_trust_free(t);
    ccz_attester_free(a);
}

/* The certificate is valid from notBefore to notAfter inclusive, and at no other instant; a
 * certificate's or a context's options of another version are refused. */
static void test_validity_window(void)
{
    ccz_attester *a = sim_attester(false);
    ccz_trust *t = sim_trust();
    ccz_policy *p = policy(ACCEPT_ME);
    int64_t now = time(NULL);
    ccz_ratls_cert_opts co = CCZ_RATLS_CERT_OPTS_INIT;
    co.not_before = now + 86400; /* not yet valid: made for tomorrow */
    co.not_after = now + 2 * 86400;
    X509 *x;
    EVP_PKEY *key;
    CHECK_OK(ccz_ratls_cert_create(&x, &key, a, &co));
    static ccz_ratls_verdict v;
    ccz_verify_opts vo = CCZ_VERIFY_OPTS_INIT;
    vo.trust = t;
    vo.at_unix = now;
    CHECK_STATUS(ccz_ratls_verify_cert(&v, x, p, &vo), CCZ_ERR_NOT_YET_VALID);
    CHECK_STR(v.step, "certificate");
    CHECK_CONTAINS(v.message, "not at");
    vo.at_unix = co.not_before - 1;
    CHECK_STATUS(ccz_ratls_verify_cert(&v, x, p, &vo), CCZ_ERR_NOT_YET_VALID);
    vo.at_unix = co.not_before;
    CHECK_OK(ccz_ratls_verify_cert(&v, x, p, &vo));
    vo.at_unix = co.not_after;
    CHECK_OK(ccz_ratls_verify_cert(&v, x, p, &vo));
    vo.at_unix = co.not_after + 1;
    CHECK_STATUS(ccz_ratls_verify_cert(&v, x, p, &vo), CCZ_ERR_EXPIRED);
    CHECK_STR(v.step, "certificate");
    /* a validity of no instant at all (from and to the same second) is refused */
    X509 *never = NULL;
    EVP_PKEY *never_key = NULL;
    ccz_ratls_cert_opts same = co;
    same.not_after = same.not_before;
    CHECK_STATUS(ccz_ratls_cert_create(&never, &never_key, a, &same), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "would never be valid");
    CHECK(!never && !never_key);
    /* options of another version than this header's: a certificate's and a context's */
    for (unsigned ver = 0; ver <= CCZ_RATLS_CERT_OPTS_VERSION + 1; ver += 2) {
        ccz_ratls_cert_opts other = CCZ_RATLS_CERT_OPTS_INIT;
        other.version = ver;
        CHECK_STATUS(ccz_ratls_cert_create(&never, &never_key, a, &other),
                     CCZ_ERR_INVALID_ARGUMENT);
        CHECK_STR(ccz_error_detail(), "certificate options missing or of the wrong version");
        CHECK(!never && !never_key);
        ccz_ratls_opts ro = CCZ_RATLS_OPTS_INIT;
        ro.attester = a;
        ro.policy = p;
        ro.trust = t;
        ro.version = ver;
        SSL_CTX *ctx = NULL;
        CHECK_STATUS(ccz_ratls_ctx_new(&ctx, &ro), CCZ_ERR_INVALID_ARGUMENT);
        CHECK_STR(ccz_error_detail(), "RA-TLS options missing or of the wrong version");
        CHECK(ctx == NULL);
        ro.version = CCZ_RATLS_OPTS_VERSION; /* the same options at this version: a context */
        CHECK_OK(ccz_ratls_ctx_new(&ctx, &ro));
        SSL_CTX_free(ctx);
    }
    /* the default validity: from an hour ago for a year */
    X509 *d;
    EVP_PKEY *dk;
    ccz_ratls_cert_opts dflt = CCZ_RATLS_CERT_OPTS_INIT;
    CHECK_OK(ccz_ratls_cert_create(&d, &dk, a, &dflt));
    vo.at_unix = now - 7200;
    CHECK_STATUS(ccz_ratls_verify_cert(&v, d, p, &vo), CCZ_ERR_NOT_YET_VALID);
    int days = 0, secs = 0; /* from an hour before it was made to a year after */
    CHECK(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(d), X509_get0_notAfter(d)) == 1);
    CHECK_INT(days, 365);
    CHECK_INT(secs, 3600);
    vo.at_unix = now;
    CHECK_OK(ccz_ratls_verify_cert(&v, d, p, &vo));
    /* a notBefore that is no time (re-signed by the certificate's own key): not valid from any
     * instant, not valid since 1970 */
    CHECK(ASN1_STRING_set(X509_getm_notBefore(d), "2x0101000000Z", 13) == 1);
    CHECK(X509_sign(d, dk, EVP_sha256()) > 0);
    CHECK_STATUS(ccz_ratls_verify_cert(&v, d, p, &vo), CCZ_ERR_NOT_YET_VALID);
    CHECK_STR(v.step, "certificate");
    /* a notAfter that is no time: not valid until the end of time, expired */
    X509 *e;
    EVP_PKEY *ek;
    CHECK_OK(ccz_ratls_cert_create(&e, &ek, a, &dflt));
    CHECK(ASN1_STRING_set(X509_getm_notAfter(e), "2x0101000000Z", 13) == 1);
    CHECK(X509_sign(e, ek, EVP_sha256()) > 0);
    CHECK_STATUS(ccz_ratls_verify_cert(&v, e, p, &vo), CCZ_ERR_EXPIRED);
    CHECK_STR(v.step, "certificate");
    X509_free(e);
    EVP_PKEY_free(ek);
    X509_free(d);
    EVP_PKEY_free(dk);
    X509_free(x);
    EVP_PKEY_free(key);
    ccz_policy_free(p);
    ccz_trust_free(t);
    ccz_attester_free(a);
}

/* A copy of x carrying the extension oid (value v) once more, signed again by key. */
static X509 *with_value(X509 *x, EVP_PKEY *key, const char *oid, const uint8_t *v, size_t len)
{
    X509 *y = X509_dup(x);
    CHECK(y != NULL);
    add_ext(y, oid, v, len);
    CHECK(X509_sign(y, key, EVP_sha256()) > 0);
    return y;
}

/* A certificate carrying an evidence extension twice (RFC 5280 4.2 allows each extension once)
 * is refused before either is read: which one counts would be up to the reader, and another
 * verifier may read the other one. Here the first copy is genuine and bound, the second another
 * key's or garbage; each of the four evidence OIDs, next to a genuine DICE extension. */
static void test_duplicate_evidence(void)
{
    ccz_attester *a = sim_attester(false);
    ccz_trust *t = sim_trust();
    ccz_policy *p = policy(ACCEPT_ME);
    ccz_verify_opts vo = CCZ_VERIFY_OPTS_INIT;
    vo.at_unix = time(NULL);
    vo.trust = t;
    static ccz_ratls_verdict v;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    ccz_buf ev = CCZ_BUF_INIT, ext = CCZ_BUF_INIT;
    X509 *x = sim_dice_cert(a, key, &ev, &ext);
    CHECK_OK(ccz_ratls_verify_cert(&v, x, p, &vo));
    static const char *const oids[] = {CCZ_RATLS_OID_DICE, CCZ_RATLS_OID_GRAMINE,
                                       CCZ_RATLS_OID_GRAMINE_MISENCODED, CCZ_RATLS_OID_SGX_SDK};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(oids); i++) {
        test_name = oids[i];
        X509 *y = with_value(x, key, oids[i], ev.ptr, ev.len);
        X509 *z = i == 0 ? NULL : with_value(y, key, oids[i], ev.ptr, ev.len);
        X509 *twice = z ? z : y; /* DICE: the genuine one and a raw quote under its OID */
        char want[160];
        snprintf(want, sizeof want,
                 "the certificate carries the RA-TLS evidence extension %s twice", oids[i]);
        ccz_ratls_info info;
        if (z) /* once is fine: DICE comes first, the legacy quote is not read */
            CHECK_OK(ccz_ratls_verify_cert(&v, y, p, &vo));
        CHECK_STATUS(ccz_ratls_inspect(&info, twice), CCZ_ERR_MALFORMED);
        CHECK_CONTAINS(ccz_error_detail(), want);
        ccz_ratls_info_free(&info);
        CHECK_STATUS(ccz_ratls_verify_cert(&v, twice, p, &vo), CCZ_ERR_MALFORMED);
        CHECK_STR(v.step, "extension");
        CHECK_CONTAINS(v.message, want);
        X509_free(y);
        X509_free(z);
    }
    test_name = "test_duplicate_evidence";
    X509_free(x);
    ccz_buf_free(&ev);
    ccz_buf_free(&ext);
    EVP_PKEY_free(key);
    ccz_policy_free(p);
    ccz_trust_free(t);
    ccz_attester_free(a);
}

/* A policy's rejection names its first reason and says when there are more; evidence that fails
 * its own verification (a platform the verifier does not trust) fails at the evidence
 * verifier's step, not at an RA-TLS one; a format out of range is named "none". */
static void test_verdict_details(void)
{
    ccz_attester *dbg = sim_attester(true);
    ccz_trust *t = sim_trust(), *none;
    CHECK_OK(ccz_trust_new(&none));
    ccz_policy *p = policy(ACCEPT_ME);
    ccz_ratls_cert_opts co = CCZ_RATLS_CERT_OPTS_INIT;
    X509 *x;
    EVP_PKEY *key;
    CHECK_OK(ccz_ratls_cert_create(&x, &key, dbg, &co));
    static ccz_ratls_verdict v;
    ccz_verify_opts vo = CCZ_VERIFY_OPTS_INIT;
    vo.at_unix = time(NULL);
    vo.trust = t;
    /* the default policy: simulated, and debug */
    CHECK_STATUS(ccz_ratls_verify_cert(&v, x, NULL, &vo), CCZ_ERR_POLICY_REJECTED);
    CHECK_INT(v.appraisal.n_reasons, 2);
    CHECK_CONTAINS(v.message, "simulated_not_allowed: ");
    CHECK_CONTAINS(v.message, " (and more reasons)");
    /* a policy that allows simulation: debug alone */
    CHECK_STATUS(ccz_ratls_verify_cert(&v, x, p, &vo), CCZ_ERR_POLICY_REJECTED);
    CHECK_INT(v.appraisal.n_reasons, 1);
    CHECK_CONTAINS(v.message, "debug");
    CHECK(strstr(v.message, "more reasons") == NULL);
    /* no trusted sim platform */
    vo.trust = none;
    CHECK_STATUS(ccz_ratls_verify_cert(&v, x, p, &vo), CCZ_ERR_CERT_CHAIN);
    CHECK_STR(v.step, "platform_certificate");
    CHECK_INT(v.format, CCZ_RATLS_FORMAT_DICE);
    CHECK_STR(ccz_ratls_format_name(CCZ_RATLS_FORMAT_NONE), "none");
    CHECK_STR(ccz_ratls_format_name(CCZ_RATLS_FORMAT_GRAMINE_LEGACY), "gramine-legacy");
    CHECK_STR(ccz_ratls_format_name(CCZ_RATLS_FORMAT_SGX_SDK), "intel-sgx-sdk");
    CHECK_STR(ccz_ratls_format_name((ccz_ratls_format)4), "none");
    CHECK_STR(ccz_ratls_format_name((ccz_ratls_format)-1), "none");
    X509_free(x);
    EVP_PKEY_free(key);
    ccz_policy_free(p);
    ccz_trust_free(t);
    ccz_trust_free(none);
    ccz_attester_free(dbg);
}

/* ---- handshakes ------------------------------------------------------------------------------*/

typedef struct {
    SSL_CTX *ctx;
    int fd;
    ccz_status status;
    char detail[512];
    bool peer_cached;
    bool has_verdict;
    ccz_status verdict;
    bool verdict_step;       /* the verdict names a failing step or carries a message */
    ccz_ratls_format format; /* the verdict's evidence format (the client's side) */
} side;

static void *server_thread(void *arg)
{
    side *s = arg;
    SSL *ssl;
    s->status = ccz_ratls_accept(&ssl, s->ctx, s->fd);
    snprintf(s->detail, sizeof s->detail, "%s", ccz_error_detail());
    if (s->status == CCZ_OK) {
        const ccz_ratls_verdict *v = ccz_ratls_peer_verdict(ssl);
        s->has_verdict = v != NULL;
        s->verdict = v ? v->status : CCZ_OK;
        s->peer_cached = v && v->cached;
        char b[8];
        SSL_read(ssl, b, sizeof b); /* wait for the client's close */
        SSL_free(ssl);
    }
    close(s->fd);
    return NULL;
}

/* Runs one handshake; returns the client's status, fills both sides. */
static ccz_status handshake(SSL_CTX *server, SSL_CTX *client, side *srv, side *cli)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    *srv = (side){server, sv[1], 0, "", false, false, 0, false, CCZ_RATLS_FORMAT_NONE};
    *cli = (side){client, sv[0], 0, "", false, false, 0, false, CCZ_RATLS_FORMAT_NONE};
    pthread_t th;
    test_thread(&th, server_thread, srv);
    SSL *ssl = SSL_new(client);
    SSL_set_fd(ssl, sv[0]);
    int rc = SSL_connect(ssl);
    const ccz_ratls_verdict *v = ccz_ratls_peer_verdict(ssl);
    cli->has_verdict = v != NULL;
    cli->verdict = v ? v->status : CCZ_OK;
    cli->peer_cached = v && v->cached;
    cli->verdict_step = v && (v->step || v->message[0]);
    cli->format = v ? v->format : CCZ_RATLS_FORMAT_NONE;
    if (rc == 1) {
        /* TLS 1.3: a client-certificate rejection arrives after the client's handshake */
        char b[8];
        SSL_write(ssl, "x", 1);
        if (SSL_read(ssl, b, sizeof b) <= 0 && SSL_get_error(ssl, -1) != SSL_ERROR_ZERO_RETURN) {
            unsigned long e = ERR_peek_last_error();
            if (e && ERR_GET_REASON(e) >= SSL_AD_REASON_OFFSET) {
                cli->status = CCZ_ERR_TLS;
                snprintf(
                    cli->detail, sizeof cli->detail, "alert %s",
                    SSL_alert_desc_string_long((int)(ERR_GET_REASON(e) - SSL_AD_REASON_OFFSET)));
            }
        }
        SSL_shutdown(ssl);
    } else {
        cli->status = v && v->status ? v->status : CCZ_ERR_TLS;
        unsigned long e = ERR_peek_last_error();
        if (v && v->status)
            snprintf(cli->detail, sizeof cli->detail, "%s: %.400s", v->step, v->message);
        else if (e && ERR_GET_REASON(e) >= SSL_AD_REASON_OFFSET)
            snprintf(cli->detail, sizeof cli->detail, "alert %s",
                     SSL_alert_desc_string_long((int)(ERR_GET_REASON(e) - SSL_AD_REASON_OFFSET)));
    }
    ERR_clear_error();
    SSL_free(ssl);
    close(sv[0]);
    pthread_join(th, NULL);
    return cli->status;
}

static SSL_CTX *context(bool server, ccz_ratls_mode mode, ccz_attester *a, const ccz_policy *p,
                        const ccz_trust *t, X509 *cert, EVP_PKEY *key)
{
    ccz_ratls_opts o = CCZ_RATLS_OPTS_INIT;
    o.server = server;
    o.mode = mode;
    o.attester = a;
    o.cert = cert;
    o.key = key;
    o.policy = p;
    o.trust = t;
    SSL_CTX *ctx = NULL;
    CHECK_OK(ccz_ratls_ctx_new(&ctx, &o));
    return ctx;
}

static void test_mutual_handshakes(void)
{
    signal(SIGPIPE, SIG_IGN); /* a rejected peer's socket closes under our writes */
    ccz_attester *good = sim_attester(false), *debug = sim_attester(true);
    ccz_trust *t = sim_trust();
    ccz_policy *accept = policy(ACCEPT_ME);
    ccz_policy *wrong = policy("{\"allow_sim\": true, \"sgx\": [{\"mr_enclave\": "
                               "\"0000000000000000000000000000000000000000000000000000000000000000"
                               "\"}]}");
    side s, c;
    SSL_CTX *srv = context(true, CCZ_RATLS_TWO_WAY, good, accept, t, NULL, NULL);
    SSL_CTX *cli = context(false, CCZ_RATLS_TWO_WAY, good, accept, t, NULL, NULL);
    CHECK_OK(handshake(srv, cli, &s, &c));
    CHECK_OK(s.status);
    CHECK(s.has_verdict && c.has_verdict && s.verdict == CCZ_OK && c.verdict == CCZ_OK);
    CHECK(!c.peer_cached);
    CHECK(!c.verdict_step);
    CHECK_INT(c.format, CCZ_RATLS_FORMAT_DICE);
    /* the same server certificate again: the client's cache answers, and its acceptance names
     * no failing step and the format the certificate was verified in */
    CHECK_OK(handshake(srv, cli, &s, &c));
    CHECK(c.peer_cached && s.peer_cached);
    CHECK(c.has_verdict && c.verdict == CCZ_OK);
    CHECK(!c.verdict_step);
    CHECK_INT(c.format, CCZ_RATLS_FORMAT_DICE);

    /* the client's policy wants another measurement: the client rejects, the server sees why
     * in the alert */
    SSL_CTX *picky = context(false, CCZ_RATLS_TWO_WAY, good, wrong, t, NULL, NULL);
    CHECK_STATUS(handshake(srv, picky, &s, &c), CCZ_ERR_POLICY_REJECTED);
    CHECK_CONTAINS(c.detail, "policy: measurement_not_accepted");
    CHECK(s.status != CCZ_OK);
    CHECK_CONTAINS(s.detail, "bad certificate");
    /* again: the certificate's verification comes from the cache, its appraisal is made anew
     * and rejects it again */
    CHECK_STATUS(handshake(srv, picky, &s, &c), CCZ_ERR_POLICY_REJECTED);
    CHECK(c.peer_cached);
    CHECK_CONTAINS(c.detail, "policy: measurement_not_accepted"); /* the step named again */
    CHECK_INT(c.format, CCZ_RATLS_FORMAT_DICE);

    /* a debug server */
    SSL_CTX *dbg = context(true, CCZ_RATLS_TWO_WAY, debug, accept, t, NULL, NULL);
    CHECK_STATUS(handshake(dbg, cli, &s, &c), CCZ_ERR_POLICY_REJECTED);
    CHECK_CONTAINS(c.detail, "debug");

    /* a server whose certificate key was swapped */
    ccz_ratls_cert_opts co = CCZ_RATLS_CERT_OPTS_INIT;
    X509 *x, *sw;
    EVP_PKEY *k, *k2;
    CHECK_OK(ccz_ratls_cert_create(&x, &k, good, &co));
    sw = swap_key(x, &k2);
    SSL_CTX *swapped = context(true, CCZ_RATLS_TWO_WAY, NULL, accept, t, sw, k2);
    CHECK_STATUS(handshake(swapped, cli, &s, &c), CCZ_ERR_BINDING);
    CHECK_CONTAINS(c.detail, "binding");
    CHECK_CONTAINS(s.detail, "TLS alert: bad certificate"); /* not decrypt_error: its key is fine */

    /* an expired server certificate */
    co.not_before = time(NULL) - 7200;
    co.not_after = time(NULL) - 3600;
    X509 *old;
    EVP_PKEY *ko;
    CHECK_OK(ccz_ratls_cert_create(&old, &ko, good, &co));
    SSL_CTX *expired = context(true, CCZ_RATLS_TWO_WAY, NULL, accept, t, old, ko);
    CHECK_STATUS(handshake(expired, cli, &s, &c), CCZ_ERR_EXPIRED);
    CHECK_CONTAINS(s.detail, "certificate expired");
    /* a certificate that expires while its verdict is cached: the cache keeps it no longer */
    ccz_ratls_cert_opts bo = CCZ_RATLS_CERT_OPTS_INIT;
    bo.not_before = time(NULL) - 60;
    bo.not_after = time(NULL) + 4; /* 3 s at least for the first handshake, on a busy machine */
    X509 *brief;
    EVP_PKEY *kb;
    CHECK_OK(ccz_ratls_cert_create(&brief, &kb, good, &bo));
    SSL_CTX *short_lived = context(true, CCZ_RATLS_TWO_WAY, NULL, accept, t, brief, kb);
    CHECK_OK(handshake(short_lived, cli, &s, &c));
    sleep(5);
    CHECK_STATUS(handshake(short_lived, cli, &s, &c), CCZ_ERR_EXPIRED);
    CHECK(!c.peer_cached);

    /* the server rejects a debug client; the client learns it from the alert */
    SSL_CTX *dbg_cli = context(false, CCZ_RATLS_TWO_WAY, debug, accept, t, NULL, NULL);
    handshake(srv, dbg_cli, &s, &c);
    CHECK_STATUS(s.status, CCZ_ERR_POLICY_REJECTED);
    CHECK_CONTAINS(s.detail, "debug");
    CHECK_STATUS(c.status, CCZ_ERR_TLS);
    CHECK_CONTAINS(c.detail, "bad certificate");

    SSL_CTX *all[] = {srv, cli, picky, dbg, swapped, expired, short_lived, dbg_cli};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        SSL_CTX_free(all[i]);
    X509_free(x);
    X509_free(sw);
    X509_free(old);
    X509_free(brief);
    EVP_PKEY_free(k);
    EVP_PKEY_free(k2);
    EVP_PKEY_free(ko);
    EVP_PKEY_free(kb);
    ccz_policy_free(accept);
    ccz_policy_free(wrong);
    ccz_trust_free(t);
    ccz_attester_free(good);
    ccz_attester_free(debug);
}

/* The cache holds more than one certificate: a client that meets two servers in turn finds
 * each one's verdict cached when it meets it again, with the default size and with two slots;
 * one slot holds only the last. */
static void test_cache_holds_several(void)
{
    signal(SIGPIPE, SIG_IGN);
    ccz_attester *good = sim_attester(false);
    ccz_trust *t = sim_trust();
    ccz_policy *accept = policy(ACCEPT_ME);
    side s, c;
    SSL_CTX *a = context(true, CCZ_RATLS_SERVER, good, accept, t, NULL, NULL);
    SSL_CTX *b = context(true, CCZ_RATLS_SERVER, good, accept, t, NULL, NULL);
    for (unsigned size = 0; size <= 2; size++) {
        ccz_ratls_opts o = CCZ_RATLS_OPTS_INIT;
        o.mode = CCZ_RATLS_SERVER;
        o.policy = accept;
        o.trust = t;
        o.cache_size = size;
        SSL_CTX *cli = NULL;
        CHECK_OK(ccz_ratls_ctx_new(&cli, &o));
        CHECK_OK(handshake(a, cli, &s, &c));
        CHECK(!c.peer_cached);
        CHECK_OK(handshake(b, cli, &s, &c));
        CHECK(!c.peer_cached);
        CHECK_OK(handshake(a, cli, &s, &c));
        CHECK(c.peer_cached == (size != 1));
        CHECK_OK(handshake(b, cli, &s, &c));
        CHECK(c.peer_cached == (size != 1));
        SSL_CTX_free(cli);
    }
    SSL_CTX_free(a);
    SSL_CTX_free(b);
    ccz_policy_free(accept);
    ccz_trust_free(t);
    ccz_attester_free(good);
}

/* Only verified certificates enter the cache (accepted or rejected by the policy): a certificate
 * whose evidence or binding failed is verified in full again on the next handshake, and fails
 * again for the same reason, not on the claims it did not prove. */
static void test_cache_keeps_no_failures(void)
{
    signal(SIGPIPE, SIG_IGN);
    ccz_attester *good = sim_attester(false);
    ccz_trust *t = sim_trust(), *none;
    CHECK_OK(ccz_trust_new(&none));
    ccz_policy *accept = policy(ACCEPT_ME);
    side s, c;
    /* a client that trusts no sim platform: the evidence's chain fails, each time */
    SSL_CTX *srv = context(true, CCZ_RATLS_SERVER, good, accept, t, NULL, NULL);
    SSL_CTX *stranger = context(false, CCZ_RATLS_SERVER, NULL, accept, none, NULL, NULL);
    ccz_status first = handshake(srv, stranger, &s, &c);
    CHECK(first != CCZ_OK && first != CCZ_ERR_POLICY_REJECTED);
    CHECK(!c.peer_cached);
    for (int i = 0; i < 2; i++) {
        CHECK_STATUS(handshake(srv, stranger, &s, &c), first);
        CHECK(!c.peer_cached);
    }
    /* a server whose certificate key was swapped: a binding failure, each time */
    ccz_ratls_cert_opts co = CCZ_RATLS_CERT_OPTS_INIT;
    X509 *x, *sw;
    EVP_PKEY *k, *k2;
    CHECK_OK(ccz_ratls_cert_create(&x, &k, good, &co));
    sw = swap_key(x, &k2);
    SSL_CTX *swapped = context(true, CCZ_RATLS_SERVER, NULL, accept, t, sw, k2);
    SSL_CTX *cli = context(false, CCZ_RATLS_SERVER, NULL, accept, t, NULL, NULL);
    for (int i = 0; i < 2; i++) {
        CHECK_STATUS(handshake(swapped, cli, &s, &c), CCZ_ERR_BINDING);
        CHECK(!c.peer_cached);
        CHECK_CONTAINS(c.detail, "binding");
    }
    SSL_CTX *all[] = {srv, stranger, swapped, cli};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        SSL_CTX_free(all[i]);
    X509_free(x);
    X509_free(sw);
    EVP_PKEY_free(k);
    EVP_PKEY_free(k2);
    ccz_policy_free(accept);
    ccz_trust_free(t);
    ccz_trust_free(none);
    ccz_attester_free(good);
}

static void test_one_way_modes(void)
{
    ccz_attester *a = sim_attester(false);
    ccz_trust *t = sim_trust();
    ccz_policy *p = policy(ACCEPT_ME);
    side s, c;
    /* server mode: only the server is attested; the client presents nothing */
    SSL_CTX *srv = context(true, CCZ_RATLS_SERVER, a, p, t, NULL, NULL);
    SSL_CTX *cli = context(false, CCZ_RATLS_SERVER, NULL, p, t, NULL, NULL);
    CHECK_OK(handshake(srv, cli, &s, &c));
    CHECK(c.has_verdict && !s.has_verdict);
    SSL_CTX_free(srv);
    SSL_CTX_free(cli);
    /* client mode: the server verifies the client and is not verified */
    srv = context(true, CCZ_RATLS_CLIENT, a, p, t, NULL, NULL);
    cli = context(false, CCZ_RATLS_CLIENT, a, NULL, NULL, NULL, NULL);
    CHECK_OK(handshake(srv, cli, &s, &c));
    CHECK_OK(s.status);
    CHECK(s.has_verdict && !c.has_verdict);
    SSL_CTX_free(srv);
    SSL_CTX_free(cli);
    /* two-way server, one-way client without a certificate: refused */
    srv = context(true, CCZ_RATLS_TWO_WAY, a, p, t, NULL, NULL);
    cli = context(false, CCZ_RATLS_SERVER, NULL, p, t, NULL, NULL);
    handshake(srv, cli, &s, &c);
    CHECK(s.status != CCZ_OK);
    SSL_CTX_free(srv);
    SSL_CTX_free(cli);
    ccz_ratls_mode m;
    CHECK_OK(ccz_ratls_mode_parse(&m, "two-way"));
    CHECK_INT(m, CCZ_RATLS_TWO_WAY);
    m = CCZ_RATLS_CLIENT;
    CHECK_OK(ccz_ratls_mode_parse(&m, "mutual")); /* two-way's other name */
    CHECK_INT(m, CCZ_RATLS_TWO_WAY);
    CHECK_OK(ccz_ratls_mode_parse(&m, "server"));
    CHECK_INT(m, CCZ_RATLS_SERVER);
    CHECK_OK(ccz_ratls_mode_parse(&m, "client"));
    CHECK_INT(m, CCZ_RATLS_CLIENT);
    CHECK_STATUS(ccz_ratls_mode_parse(&m, "both"), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "verification mode 'both' is not two-way, server or client");
    ccz_policy_free(p);
    ccz_trust_free(t);
    ccz_attester_free(a);
}

/* Servers a client must refuse, with the alert each is sent: a certificate not yet valid
 * (bad_certificate: certificate_expired would say the opposite), one with no evidence
 * (unsupported_certificate), one with its evidence extension twice (bad_certificate). And
 * RA-TLS is TLS 1.3 only, both ways: a client or a server that offers no more than TLS 1.2 gets
 * a protocol_version alert, not a handshake. */
static void test_hostile_peers(void)
{
    signal(SIGPIPE, SIG_IGN);
    ccz_attester *a = sim_attester(false);
    ccz_trust *t = sim_trust();
    ccz_policy *p = policy(ACCEPT_ME);
    side s, c;
    SSL_CTX *cli = context(false, CCZ_RATLS_SERVER, NULL, p, t, NULL, NULL);
    ccz_ratls_cert_opts co = CCZ_RATLS_CERT_OPTS_INIT;
    co.not_before = time(NULL) + 86400;
    co.not_after = time(NULL) + 2 * 86400;
    X509 *x;
    EVP_PKEY *k;
    CHECK_OK(ccz_ratls_cert_create(&x, &k, a, &co));
    SSL_CTX *early = context(true, CCZ_RATLS_SERVER, NULL, p, t, x, k);
    CHECK_STATUS(handshake(early, cli, &s, &c), CCZ_ERR_NOT_YET_VALID);
    CHECK_CONTAINS(c.detail, "certificate: the certificate is valid from");
    CHECK_CONTAINS(s.detail, "the peer refused the handshake (TLS alert: bad certificate)");

    EVP_PKEY *pk = EVP_EC_gen("P-256");
    X509 *plain = self_signed(pk, "1.2.3.4.5", (const uint8_t *)"\x05\x00", 2);
    SSL_CTX *bare = context(true, CCZ_RATLS_SERVER, NULL, p, t, plain, pk);
    CHECK_STATUS(handshake(bare, cli, &s, &c), CCZ_ERR_NOT_FOUND);
    CHECK_CONTAINS(c.detail, "extension: the certificate carries no RA-TLS evidence extension");
    CHECK_CONTAINS(s.detail, "(TLS alert: unsupported certificate)");

    ccz_ratls_cert_opts now = CCZ_RATLS_CERT_OPTS_INIT;
    X509 *g, *twice;
    EVP_PKEY *gk;
    CHECK_OK(ccz_ratls_cert_create(&g, &gk, a, &now));
    ASN1_OBJECT *oid = OBJ_txt2obj(CCZ_RATLS_OID_DICE, 1);
    X509_EXTENSION *de = X509_get_ext(g, X509_get_ext_by_OBJ(g, oid, -1));
    ASN1_OBJECT_free(oid);
    CHECK(de != NULL);
    ASN1_OCTET_STRING *dice = X509_EXTENSION_get_data(de);
    twice = with_value(g, gk, CCZ_RATLS_OID_DICE, ASN1_STRING_get0_data(dice),
                       (size_t)ASN1_STRING_length(dice));
    SSL_CTX *dup = context(true, CCZ_RATLS_SERVER, NULL, p, t, twice, gk);
    CHECK_STATUS(handshake(dup, cli, &s, &c), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(c.detail, "extension: the certificate carries the RA-TLS evidence extension");
    CHECK_CONTAINS(s.detail, "(TLS alert: bad certificate)");

    /* a TLS 1.2 client of an RA-TLS server */
    SSL_CTX *srv = context(true, CCZ_RATLS_SERVER, a, p, t, NULL, NULL);
    SSL_CTX *tls12 = SSL_CTX_new(TLS_client_method());
    CHECK(tls12 && SSL_CTX_set_max_proto_version(tls12, TLS1_2_VERSION) == 1);
    SSL_CTX_set_verify(tls12, SSL_VERIFY_NONE, NULL);
    CHECK_STATUS(handshake(srv, tls12, &s, &c), CCZ_ERR_TLS);
    CHECK_STR(c.detail, "alert protocol version");
    CHECK_STATUS(s.status, CCZ_ERR_TLS);
    CHECK_CONTAINS(s.detail, "unsupported protocol");
    /* an RA-TLS client of a TLS 1.2 server */
    SSL_CTX *srv12 = SSL_CTX_new(TLS_server_method());
    CHECK(srv12 && SSL_CTX_set_max_proto_version(srv12, TLS1_2_VERSION) == 1);
    CHECK(SSL_CTX_use_certificate(srv12, g) == 1 && SSL_CTX_use_PrivateKey(srv12, gk) == 1);
    CHECK_STATUS(handshake(srv12, cli, &s, &c), CCZ_ERR_TLS);
    CHECK_STR(c.detail, "alert protocol version");
    CHECK_CONTAINS(s.detail, "unsupported protocol");

    SSL_CTX *all[] = {cli, early, bare, dup, srv, tls12, srv12};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(all); i++)
        SSL_CTX_free(all[i]);
    X509 *certs[] = {x, plain, g, twice};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(certs); i++)
        X509_free(certs[i]);
    EVP_PKEY_free(k);
    EVP_PKEY_free(pk);
    EVP_PKEY_free(gk);
    ccz_policy_free(p);
    ccz_trust_free(t);
    ccz_attester_free(a);
}

/* ---- possession of the key ------------------------------------------------------------------*/

typedef struct {
    int accepted, rejected;
} verdict_count;

static void count_verdict(const ccz_ratls_verdict *v, void *payload)
{
    verdict_count *n = payload;
    (v->status ? &n->rejected : &n->accepted)[0]++;
}

static int log_accepted;
static char accepted_msg[256]; /* the last acceptance logged */

static void log_sink(ccz_log_level level, const char *msg, void *payload)
{
    (void)level, (void)payload;
    if (strstr(msg, "accepted")) {
        snprintf(accepted_msg, sizeof accepted_msg, "%s", msg);
        __atomic_add_fetch(&log_accepted, 1, __ATOMIC_SEQ_CST);
    }
}

static ccz_log_level rejected_level;
static int rejected_logs;

static void rejection_sink(ccz_log_level level, const char *msg, void *payload)
{
    (void)payload;
    if (strstr(msg, "RA-TLS: server rejected at")) {
        rejected_level = level;
        rejected_logs++;
    }
}

/* A rejection is logged once: as a warning when no verdict callback reports it, at info level
 * when one does. */
static void test_rejection_logged(void)
{
    signal(SIGPIPE, SIG_IGN);
    ccz_attester *debug = sim_attester(true);
    ccz_trust *t = sim_trust();
    ccz_policy *p = policy(ACCEPT_ME);
    SSL_CTX *srv = context(true, CCZ_RATLS_SERVER, debug, p, t, NULL, NULL);
    ccz_log_level was = ccz_log_get_level();
    ccz_log_set_level(CCZ_LOG_INFO);
    ccz_log_set_sink(rejection_sink, NULL);
    side s, c;
    for (int with_cb = 0; with_cb <= 1; with_cb++) {
        verdict_count n = {0, 0};
        ccz_ratls_opts o = CCZ_RATLS_OPTS_INIT;
        o.mode = CCZ_RATLS_SERVER;
        o.policy = p;
        o.trust = t;
        o.on_verdict = with_cb ? count_verdict : NULL;
        o.payload = &n;
        SSL_CTX *cli = NULL;
        CHECK_OK(ccz_ratls_ctx_new(&cli, &o));
        rejected_logs = 0;
        CHECK_STATUS(handshake(srv, cli, &s, &c), CCZ_ERR_POLICY_REJECTED);
        CHECK_INT(rejected_logs, 1);
        CHECK_INT(rejected_level, with_cb ? CCZ_LOG_INFO : CCZ_LOG_WARN);
        CHECK_INT(n.rejected, with_cb ? 1 : 0);
        SSL_CTX_free(cli);
    }
    ccz_log_set_sink(NULL, NULL);
    ccz_log_set_level(was);
    SSL_CTX_free(srv);
    ccz_policy_free(p);
    ccz_trust_free(t);
    ccz_attester_free(debug);
}

/* A plain OpenSSL context presenting a genuine RA-TLS certificate with a key whose private half
 * was replaced after loading: its public half still matches the certificate, its signatures
 * (CertificateVerify) do not. An attacker who copied the certificate holds exactly this. */
static SSL_CTX *copied_cert_ctx(bool server, X509 *cert, EVP_PKEY *genuine)
{
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    EC_KEY *ec = EC_KEY_dup(EVP_PKEY_get0_EC_KEY(genuine));
    EVP_PKEY *fake = EVP_PKEY_new();
    CHECK(ctx && ec && fake && EVP_PKEY_assign_EC_KEY(fake, ec) == 1);
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    CHECK(SSL_CTX_use_certificate(ctx, cert) == 1 && SSL_CTX_use_PrivateKey(ctx, fake) == 1);
    EVP_PKEY *other = EVP_EC_gen("P-256");
    BIGNUM *d = NULL;
    CHECK(other && EVP_PKEY_get_bn_param(other, "priv", &d) == 1);
    CHECK(EC_KEY_set_private_key(ec, d) == 1);
    BN_clear_free(d);
    EVP_PKEY_free(other);
    EVP_PKEY_free(fake); /* the context keeps its reference */
    return ctx;
}

static void test_possession(void)
{
    signal(SIGPIPE, SIG_IGN);
    ccz_attester *a = sim_attester(false);
    ccz_trust *t = sim_trust();
    ccz_policy *p = policy(ACCEPT_ME);
    ccz_ratls_cert_opts co = CCZ_RATLS_CERT_OPTS_INIT;
    X509 *x;
    EVP_PKEY *k;
    CHECK_OK(ccz_ratls_cert_create(&x, &k, a, &co));
    ccz_log_level was = ccz_log_get_level();
    ccz_log_set_level(CCZ_LOG_INFO);
    ccz_log_set_sink(log_sink, NULL);

    /* a server that verifies clients; a client with a copied certificate */
    verdict_count n = {0, 0};
    ccz_ratls_opts o = CCZ_RATLS_OPTS_INIT;
    o.server = true;
    o.mode = CCZ_RATLS_CLIENT;
    o.attester = a;
    o.policy = p;
    o.trust = t;
    o.on_verdict = count_verdict;
    o.payload = &n;
    SSL_CTX *srv;
    CHECK_OK(ccz_ratls_ctx_new(&srv, &o));
    SSL_CTX *thief = copied_cert_ctx(false, x, k);
    side s, c;
    handshake(srv, thief, &s, &c);
    CHECK_STATUS(s.status, CCZ_ERR_TLS);
    CHECK_CONTAINS(s.detail, "bad signature"); /* its CertificateVerify */
    CHECK_INT(n.accepted, 0);
    CHECK_INT(log_accepted, 0);
    /* the same certificate with its own key: accepted, and reported once */
    SSL_CTX *owner = context(false, CCZ_RATLS_CLIENT, NULL, NULL, NULL, x, k);
    CHECK_OK(handshake(srv, owner, &s, &c));
    CHECK_OK(s.status);
    CHECK(s.has_verdict && s.verdict == CCZ_OK);
    CHECK_INT(n.accepted, 1);
    CHECK_INT(n.rejected, 0);
    CHECK_INT(log_accepted, 1);
    /* the log names the side accepted and that its evidence is simulated */
    CHECK_STR(accepted_msg, "RA-TLS: client accepted (sim evidence, SIMULATED)");
    /* an application that replaced the info callback: ccz_ratls_accept still reports */
    SSL_CTX_set_info_callback(srv, NULL);
    CHECK_OK(handshake(srv, owner, &s, &c));
    CHECK_OK(s.status);
    CHECK_INT(n.accepted, 2);
    CHECK_INT(log_accepted, 2);

    /* the other way: a server with a copied certificate, a client that verifies it */
    log_accepted = 0;
    verdict_count m = {0, 0};
    o = (ccz_ratls_opts)CCZ_RATLS_OPTS_INIT;
    o.mode = CCZ_RATLS_SERVER;
    o.policy = p;
    o.trust = t;
    o.on_verdict = count_verdict;
    o.payload = &m;
    SSL_CTX *cli;
    CHECK_OK(ccz_ratls_ctx_new(&cli, &o));
    SSL_CTX *fake_srv = copied_cert_ctx(true, x, k);
    CHECK_STATUS(handshake(fake_srv, cli, &s, &c), CCZ_ERR_TLS);
    CHECK_INT(m.accepted, 0);
    CHECK_INT(log_accepted, 0);
    SSL_CTX *real_srv = context(true, CCZ_RATLS_SERVER, NULL, NULL, NULL, x, k);
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    s = (side){real_srv, sv[1], 0, "", false, false, 0, false, CCZ_RATLS_FORMAT_NONE};
    pthread_t th;
    test_thread(&th, server_thread, &s);
    SSL *cs = SSL_new(cli);
    SSL_set_fd(cs, sv[0]);
    CHECK(SSL_connect(cs) == 1);
    CHECK_INT(m.accepted, 1);
    CHECK_STR(accepted_msg, "RA-TLS: server accepted (sim evidence, SIMULATED)");
    SSL_shutdown(cs);
    SSL_free(cs);
    close(sv[0]);
    pthread_join(th, NULL);

    ccz_log_set_sink(NULL, NULL);
    ccz_log_set_level(was);
    SSL_CTX *all[] = {srv, thief, owner, cli, fake_srv, real_srv};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        SSL_CTX_free(all[i]);
    X509_free(x);
    EVP_PKEY_free(k);
    ccz_policy_free(p);
    ccz_trust_free(t);
    ccz_attester_free(a);
}

/* ---- resumption ------------------------------------------------------------------------------*/

/* One connection from a plain OpenSSL client offering *sess (when set); keeps the session it
 * got in *sess. Returns 1 for a full handshake, 2 for a resumed one, 0 for a failure. */
static int plain_connect(SSL_CTX *server, SSL_CTX *client, SSL_SESSION **sess)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    side s = {server, sv[1], 0, "", false, false, 0, false, CCZ_RATLS_FORMAT_NONE};
    pthread_t th;
    test_thread(&th, server_thread, &s);
    SSL *ssl = SSL_new(client);
    SSL_set_fd(ssl, sv[0]);
    if (*sess)
        SSL_set_session(ssl, *sess);
    int r = 0;
    char b[8];
    if (SSL_connect(ssl) == 1 && SSL_write(ssl, "x", 1) == 1) {
        SSL_shutdown(ssl);                     /* the server reads to the end, then closes */
        while (SSL_read(ssl, b, sizeof b) > 0) /* any ticket arrives here */
            ;
        r = SSL_session_reused(ssl) ? 2 : 1;
    }
    SSL_SESSION_free(*sess);
    *sess = SSL_get1_session(ssl);
    ERR_clear_error();
    SSL_free(ssl);
    close(sv[0]);
    pthread_join(th, NULL);
    if (s.status)
        fprintf(stderr, "  server: %s\n", s.detail);
    return s.status ? 0 : r;
}

static void test_resumption(void)
{
    ccz_attester *a = sim_attester(false);
    ccz_trust *t = sim_trust();
    ccz_policy *p = policy(ACCEPT_ME);
    ccz_ratls_cert_opts co = CCZ_RATLS_CERT_OPTS_INIT;
    X509 *x;
    EVP_PKEY *k;
    CHECK_OK(ccz_ratls_cert_create(&x, &k, a, &co));
    /* a stock client: session cache and tickets on, as curl, s_client and grpcio have them */
    SSL_CTX *plain = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_session_cache_mode(plain, SSL_SESS_CACHE_CLIENT);
    CHECK(SSL_CTX_use_certificate(plain, x) == 1 && SSL_CTX_use_PrivateKey(plain, k) == 1);
    for (int mode = CCZ_RATLS_TWO_WAY; mode <= CCZ_RATLS_CLIENT; mode++) {
        SSL_CTX *srv = context(true, (ccz_ratls_mode)mode, a, p, t, NULL, NULL);
        SSL_SESSION *sess = NULL;
        CHECK_INT(plain_connect(srv, plain, &sess), 1);
        CHECK_INT(plain_connect(srv, plain, &sess), 1); /* offered again: full, not an error */
        SSL_SESSION_free(sess);
        /* a session from another server (another ticket key) is not found either */
        SSL_CTX *other = SSL_CTX_new(TLS_server_method());
        CHECK(SSL_CTX_use_certificate(other, x) == 1 && SSL_CTX_use_PrivateKey(other, k) == 1);
        sess = NULL;
        CHECK_INT(plain_connect(other, plain, &sess), 1);
        CHECK(sess && SSL_SESSION_is_resumable(sess));
        CHECK_INT(plain_connect(srv, plain, &sess), 1);
        SSL_SESSION_free(sess);
        SSL_CTX_free(other);
        SSL_CTX_free(srv);
    }
    /* a ccz client keeps no session to offer */
    SSL_CTX *srv = context(true, CCZ_RATLS_TWO_WAY, a, p, t, NULL, NULL);
    SSL_CTX *cli = context(false, CCZ_RATLS_TWO_WAY, a, p, t, NULL, NULL);
    CHECK_INT(SSL_CTX_get_session_cache_mode(cli), SSL_SESS_CACHE_OFF);
    CHECK(SSL_CTX_get_options(cli) & SSL_OP_NO_TICKET);
    SSL_SESSION *sess = NULL;
    CHECK_INT(plain_connect(srv, cli, &sess), 1);
    CHECK(!sess || !SSL_SESSION_is_resumable(sess));
    SSL_SESSION_free(sess);
    SSL_CTX_free(cli);
    SSL_CTX_free(srv);
    SSL_CTX_free(plain);
    X509_free(x);
    EVP_PKEY_free(k);
    ccz_policy_free(p);
    ccz_trust_free(t);
    ccz_attester_free(a);
}

/* ---- a verdict is its handshake's ------------------------------------------------------------*/

typedef struct {
    SSL_CTX *ctx;
    int fd;
    bool ok;
} peer_conn;

/* Connects with pc->ctx, writes a byte, reads to the end. */
static void *connect_thread(void *arg)
{
    peer_conn *pc = arg;
    SSL *ssl = SSL_new(pc->ctx);
    SSL_set_fd(ssl, pc->fd);
    char b[8];
    pc->ok = SSL_connect(ssl) == 1 && SSL_write(ssl, "x", 1) == 1;
    while (SSL_read(ssl, b, sizeof b) > 0)
        ;
    ERR_clear_error();
    SSL_free(ssl);
    close(pc->fd);
    return NULL;
}

/* One connection accepted on ssl (reused: the caller clears it between) from client. */
static bool accept_on(SSL *ssl, SSL_CTX *client)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    peer_conn pc = {client, sv[0], false};
    pthread_t th;
    test_thread(&th, connect_thread, &pc);
    SSL_set_fd(ssl, sv[1]);
    char b[8];
    bool ok = SSL_accept(ssl) == 1 && SSL_read(ssl, b, 1) == 1;
    SSL_shutdown(ssl);
    pthread_join(th, NULL);
    close(sv[1]);
    ERR_clear_error();
    return ok && pc.ok;
}

/* One connection made on ssl (offering sess when set) to server; returns SSL_connect's success
 * and keeps the session in *sess. */
static bool connect_on(SSL *ssl, SSL_CTX *server, SSL_SESSION **sess)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    side s = {server, sv[1], 0, "", false, false, 0, false, CCZ_RATLS_FORMAT_NONE};
    pthread_t th;
    test_thread(&th, server_thread, &s);
    SSL_set_fd(ssl, sv[0]);
    if (*sess)
        SSL_set_session(ssl, *sess);
    char b[8];
    bool ok = SSL_connect(ssl) == 1 && SSL_write(ssl, "x", 1) == 1;
    SSL_shutdown(ssl);
    while (ok && SSL_read(ssl, b, sizeof b) > 0) /* any ticket arrives here */
        ;
    SSL_SESSION_free(*sess);
    *sess = SSL_get1_session(ssl);
    pthread_join(th, NULL);
    close(sv[0]);
    ERR_clear_error();
    return ok;
}

/* A verdict belongs to the handshake that made it: an SSL cleared and used again for a peer
 * without a certificate, or a session resumed on it (it carries no evidence), has none; an
 * unknown mode verifies nothing, so it is refused. */
static void test_verdict_per_handshake(void)
{
    ccz_attester *a = sim_attester(false);
    ccz_trust *t = sim_trust();
    ccz_policy *p = policy(ACCEPT_ME);
    /* a server that requests a client certificate and does not require one, as the services */
    SSL_CTX *srv = context(true, CCZ_RATLS_CLIENT, a, p, t, NULL, NULL);
    SSL_CTX_set_verify(srv, SSL_VERIFY_PEER, NULL);
    SSL_CTX *attested = context(false, CCZ_RATLS_CLIENT, a, p, t, NULL, NULL);
    SSL_CTX *anonymous = SSL_CTX_new(TLS_client_method());
    SSL *ssl = SSL_new(srv);
    CHECK(accept_on(ssl, attested));
    const ccz_ratls_verdict *v = ccz_ratls_peer_verdict(ssl);
    CHECK(v && v->status == CCZ_OK);
    CHECK(SSL_clear(ssl) == 1);
    CHECK(accept_on(ssl, anonymous));
    CHECK(SSL_get0_peer_certificate(ssl) == NULL);
    CHECK(ccz_ratls_peer_verdict(ssl) == NULL);
    SSL_free(ssl);

    /* a ccz client resuming, on the same SSL, a session a stock server (tickets on) gave it */
    ccz_ratls_cert_opts co = CCZ_RATLS_CERT_OPTS_INIT;
    X509 *x;
    EVP_PKEY *k;
    CHECK_OK(ccz_ratls_cert_create(&x, &k, a, &co));
    SSL_CTX *stock = SSL_CTX_new(TLS_server_method());
    CHECK(SSL_CTX_use_certificate(stock, x) == 1 && SSL_CTX_use_PrivateKey(stock, k) == 1);
    SSL_CTX *cli = context(false, CCZ_RATLS_SERVER, NULL, p, t, NULL, NULL);
    SSL_SESSION *sess = NULL;
    ssl = SSL_new(cli);
    CHECK(connect_on(ssl, stock, &sess));
    v = ccz_ratls_peer_verdict(ssl);
    CHECK(v && v->status == CCZ_OK && !SSL_session_reused(ssl));
    CHECK(sess && SSL_SESSION_is_resumable(sess));
    CHECK(SSL_clear(ssl) == 1);
    CHECK(connect_on(ssl, stock, &sess));
    CHECK(SSL_session_reused(ssl));
    CHECK(ccz_ratls_peer_verdict(ssl) == NULL);
    SSL_free(ssl);
    SSL_SESSION_free(sess);

    /* a mode past the three */
    ccz_ratls_opts o = CCZ_RATLS_OPTS_INIT;
    o.mode = (ccz_ratls_mode)3;
    o.attester = a;
    o.policy = p;
    o.trust = t;
    SSL_CTX *bad = (SSL_CTX *)1;
    CHECK_STATUS(ccz_ratls_ctx_new(&bad, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK(bad == NULL);
    CHECK_CONTAINS(ccz_error_detail(),
                   "RA-TLS mode 3 is not two-way (0), server (1) or client (2)");
    /* a side that presents a certificate with neither one nor an attester */
    o.mode = CCZ_RATLS_SERVER;
    o.server = true;
    o.attester = NULL;
    CHECK_STATUS(ccz_ratls_ctx_new(&bad, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "give one or an attester");
    /* a side that verifies its peer has trust anchors: the two-way server, the server-mode
     * client, the client-mode server; a server-mode server verifies no one and needs none */
    static const struct {
        bool server;
        ccz_ratls_mode mode;
        bool verifies;
    } sides[] = {{true, CCZ_RATLS_TWO_WAY, true},
                 {false, CCZ_RATLS_TWO_WAY, true},
                 {false, CCZ_RATLS_SERVER, true},
                 {true, CCZ_RATLS_CLIENT, true},
                 {true, CCZ_RATLS_SERVER, false}};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(sides); i++) {
        o.server = sides[i].server;
        o.mode = sides[i].mode;
        o.attester = a;
        o.trust = NULL;
        bad = (SSL_CTX *)1;
        if (sides[i].verifies) {
            CHECK_STATUS(ccz_ratls_ctx_new(&bad, &o), CCZ_ERR_INVALID_ARGUMENT);
            CHECK(bad == NULL);
            CHECK_CONTAINS(ccz_error_detail(), "verifying the peer needs trust anchors");
        } else {
            CHECK_OK(ccz_ratls_ctx_new(&bad, &o));
            SSL_CTX_free(bad);
        }
    }
    /* a certificate with a key that is not its own */
    EVP_PKEY *stranger = EVP_EC_gen("P-256");
    CHECK(stranger != NULL);
    o.server = true;
    o.mode = CCZ_RATLS_SERVER;
    o.trust = t;
    o.cert = x;
    o.key = stranger;
    bad = (SSL_CTX *)1;
    CHECK_STATUS(ccz_ratls_ctx_new(&bad, &o), CCZ_ERR_KEY_MALFORMED);
    CHECK(bad == NULL);
    CHECK_CONTAINS(ccz_error_detail(), "the certificate and key do not fit");
    EVP_PKEY_free(stranger);
    /* a certificate without its key, or a key without its certificate: the attester makes both */
    o.key = NULL;
    CHECK_OK(ccz_ratls_ctx_new(&bad, &o));
    SSL_CTX_free(bad);
    o.cert = NULL;
    o.key = k;
    CHECK_OK(ccz_ratls_ctx_new(&bad, &o));
    SSL_CTX_free(bad);

    SSL_CTX_free(cli);
    SSL_CTX_free(stock);
    SSL_CTX_free(anonymous);
    SSL_CTX_free(attested);
    SSL_CTX_free(srv);
    X509_free(x);
    EVP_PKEY_free(k);
    ccz_policy_free(p);
    ccz_trust_free(t);
    ccz_attester_free(a);
}

/* ---- deadlines -------------------------------------------------------------------------------*/

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A server that accepts, reads the ClientHello and closes the connection, or resets it (SO_LINGER
 * 0) when reset is set. */
typedef struct {
    int listener;
    bool reset;
} hello_closer;

static void *close_after_hello(void *arg)
{
    const hello_closer *h = arg;
    int fd = accept(h->listener, NULL, NULL);
    char b[4096];
    if (fd >= 0) {
        ssize_t n = read(fd, b, sizeof b); /* all of it: an unread byte would make a reset */
        (void)n;
        struct linger lg = {1, 0};
        if (h->reset)
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(fd);
    }
    return NULL;
}

/* A TCP listener on a loopback port with the backlog given: its "127.0.0.1:PORT" in target, its
 * address in *addr when not NULL. */
static int loopback_listener(int backlog, char target[64], struct sockaddr_in *addr)
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    CHECK(bind(l, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(l, backlog) == 0 &&
          getsockname(l, (struct sockaddr *)&sa, &sl) == 0);
    snprintf(target, 64, "127.0.0.1:%u", ntohs(sa.sin_port));
    if (addr)
        *addr = sa;
    return l;
}

/* A sim RA-TLS server's context and a client's that verifies it (server mode), with what they
 * rest on. */
typedef struct {
    ccz_attester *a;
    ccz_trust *t;
    ccz_policy *p;
    SSL_CTX *srv, *cli;
} sim_pair;

static void sim_pair_new(sim_pair *k)
{
    k->a = sim_attester(false);
    k->t = sim_trust();
    k->p = policy(ACCEPT_ME);
    k->srv = context(true, CCZ_RATLS_SERVER, k->a, k->p, k->t, NULL, NULL);
    k->cli = context(false, CCZ_RATLS_SERVER, NULL, k->p, k->t, NULL, NULL);
}

static void sim_pair_free(sim_pair *k)
{
    SSL_CTX_free(k->srv);
    SSL_CTX_free(k->cli);
    ccz_policy_free(k->p);
    ccz_trust_free(k->t);
    ccz_attester_free(k->a);
}

/* A peer that closes in the handshake is said to, on either side: OpenSSL 3 reports the EOF
 * as 'unexpected eof while reading', not as the system's error of OpenSSL 1.1. */
static void test_closed_in_handshake(void)
{
    sim_pair pair;
    sim_pair_new(&pair);
    SSL_CTX *srv = pair.srv, *cli = pair.cli;
    SSL *ssl = (SSL *)1;
    /* a client gone before its first byte, then one gone inside its ClientHello */
    static const uint8_t half[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03};
    for (int k = 0; k < 2; k++) {
        int sv[2];
        CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
        if (k)
            CHECK(write(sv[0], half, sizeof half) == (ssize_t)sizeof half);
        close(sv[0]);
        CHECK_STATUS(ccz_ratls_accept_timeout(&ssl, srv, sv[1], 2000), CCZ_ERR_TLS);
        CHECK(ssl == NULL);
        CHECK_STR(ccz_error_detail(), "accept: the peer closed the connection in the handshake");
        close(sv[1]);
    }
    /* a server that takes the ClientHello and closes, or resets, the connection */
    char target[64];
    pthread_t th;
    for (int reset = 0; reset < 2; reset++) {
        hello_closer h = {loopback_listener(1, target, NULL), reset};
        test_thread(&th, close_after_hello, &h);
        CHECK_STATUS(ccz_ratls_connect_timeout(&ssl, cli, target, 2000), CCZ_ERR_TLS);
        CHECK(ssl == NULL);
        CHECK_STR(ccz_error_detail(), "connect: the peer closed the connection in the handshake");
        pthread_join(th, NULL);
        close(h.listener);
    }
    /* nothing listening: the TCP connection is refused, and said so */
    int l = loopback_listener(1, target, NULL);
    close(l);
    char want[128];
    snprintf(want, sizeof want, "cannot connect to %s: %s", target, strerror(ECONNREFUSED));
    CHECK_STATUS(ccz_ratls_connect_timeout(&ssl, cli, target, 2000), CCZ_ERR_NETWORK);
    CHECK(ssl == NULL);
    CHECK_STR(ccz_error_detail(), want);
    sim_pair_free(&pair);
}

/* Takes one connection on the listener in s->fd and its RA-TLS handshake, then waits for the
 * client's close. */
static void *accept_one(void *arg)
{
    side *s = arg;
    int fd = accept(s->fd, NULL, NULL);
    SSL *ssl = NULL;
    s->status = fd >= 0 ? ccz_ratls_accept(&ssl, s->ctx, fd) : CCZ_ERR_NETWORK;
    if (ssl) {
        char b[8];
        SSL_read(ssl, b, sizeof b);
        SSL_free(ssl);
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

/* A connection made with a deadline is handed over blocking, as a plain socket would be: the
 * non-blocking mode the deadline needed is undone. */
static void test_connected_socket_blocks(void)
{
    signal(SIGPIPE, SIG_IGN);
    sim_pair pair;
    sim_pair_new(&pair);
    SSL_CTX *srv = pair.srv, *cli = pair.cli;
    char target[64];
    int l = loopback_listener(1, target, NULL);
    side s = {srv, l, CCZ_ERR_IO, "", false, false, 0, false, CCZ_RATLS_FORMAT_NONE};
    pthread_t th;
    test_thread(&th, accept_one, &s);
    SSL *ssl = NULL;
    CHECK_OK(ccz_ratls_connect_timeout(&ssl, cli, target, 5000));
    int flags = ssl ? fcntl(SSL_get_fd(ssl), F_GETFL) : -1;
    CHECK(flags >= 0 && !(flags & O_NONBLOCK));
    if (ssl) {
        SSL_shutdown(ssl);
        SSL_free(ssl);
    }
    pthread_join(th, NULL);
    CHECK_OK(s.status);
    close(l);
    sim_pair_free(&pair);
}

static void test_deadlines(void)
{
    sim_pair pair;
    sim_pair_new(&pair);
    SSL_CTX *srv = pair.srv, *cli = pair.cli;
    SSL *ssl = (SSL *)1;

    /* a listener that takes connections (the kernel completes them) and never speaks */
    char target[64];
    int l = loopback_listener(8, target, NULL);
    double t0 = now_s();
    CHECK_STATUS(ccz_ratls_connect_timeout(&ssl, cli, target, 300), CCZ_ERR_NETWORK);
    double dt = now_s() - t0;
    CHECK(ssl == NULL);
    CHECK_CONTAINS(ccz_error_detail(), "timed out after 300 ms");
    CHECK(dt >= 0.29 && dt < 2.0);
    close(l);

    /* a listener whose accept queue is full: the kernel drops the SYN, and the TCP connection
     * itself times out (the deadline covers it, and the error says so) */
    struct sockaddr_in sa;
    l = loopback_listener(0, target, &sa);
    int queued = socket(AF_INET, SOCK_STREAM, 0); /* fills the queue of one */
    CHECK(connect(queued, (struct sockaddr *)&sa, sizeof sa) == 0);
    char want[128];
    snprintf(want, sizeof want, "connecting to %s timed out after 300 ms", target);
    t0 = now_s();
    CHECK_STATUS(ccz_ratls_connect_timeout(&ssl, cli, target, 300), CCZ_ERR_NETWORK);
    dt = now_s() - t0;
    CHECK(ssl == NULL);
    CHECK_CONTAINS(ccz_error_detail(), want);
    CHECK(dt >= 0.29 && dt < 2.0);
    snprintf(want, sizeof want, "connecting to %s timed out after 1 ms", target);
    CHECK_STATUS(ccz_ratls_connect_timeout(&ssl, cli, target, 1), CCZ_ERR_NETWORK);
    CHECK_CONTAINS(ccz_error_detail(), want);
    close(queued);
    close(l);

    /* a server facing a client that sends nothing, then one that sends half a record */
    static const uint8_t half[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03};
    for (int k = 0; k < 2; k++) {
        int sv[2];
        CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
        if (k)
            CHECK(write(sv[0], half, sizeof half) == (ssize_t)sizeof half);
        t0 = now_s();
        CHECK_STATUS(ccz_ratls_accept_timeout(&ssl, srv, sv[1], 300), CCZ_ERR_NETWORK);
        dt = now_s() - t0;
        CHECK_CONTAINS(ccz_error_detail(), "timed out after 300 ms (the peer sent nothing more)");
        CHECK(dt >= 0.29 && dt < 2.0);
        close(sv[0]);
        close(sv[1]);
    }
    /* a client that speaks plaintext (HTTP, an h2c preface): said so, not a TLS error number */
    static const char *const plain[] = {"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
                                        "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"};
    for (size_t k = 0; k < CCZ_ARRAY_LEN(plain); k++) {
        int sv[2];
        CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
        CHECK(write(sv[0], plain[k], strlen(plain[k])) == (ssize_t)strlen(plain[k]));
        CHECK_STATUS(ccz_ratls_accept_timeout(&ssl, srv, sv[1], 2000), CCZ_ERR_TLS);
        CHECK(ssl == NULL);
        CHECK_CONTAINS(ccz_error_detail(), "accept: the peer does not speak TLS");
        close(sv[0]);
        close(sv[1]);
    }
    /* a deadline of 1 ms is that, not the default of CCZ_RATLS_TIMEOUT_MS */
    int sp[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0);
    t0 = now_s();
    CHECK_STATUS(ccz_ratls_accept_timeout(&ssl, srv, sp[1], 1), CCZ_ERR_NETWORK);
    dt = now_s() - t0;
    CHECK_CONTAINS(ccz_error_detail(), "timed out after 1 ms");
    CHECK(dt < 2.0);
    close(sp[0]);
    close(sp[1]);

    /* with an answer in time, the socket is handed back in blocking mode */
    side s, c;
    CHECK_OK(handshake(srv, cli, &s, &c));
    sim_pair_free(&pair);
}

TEST_MAIN(T(test_cert_round_trip), T(test_binding_and_tampering), T(test_unbound_evidence),
          T(test_critical_extensions), T(test_malformed_dice), T(test_claims_name_other_key),
          T(test_validity_window), T(test_duplicate_evidence), T(test_verdict_details),
          T(test_mutual_handshakes), T(test_cache_holds_several), T(test_cache_keeps_no_failures),
          T(test_one_way_modes), T(test_hostile_peers), T(test_possession),
          T(test_rejection_logged), T(test_resumption), T(test_verdict_per_handshake),
          T(test_connected_socket_blocks), T(test_deadlines), T(test_closed_in_handshake))
