/* SPDX-License-Identifier: Apache-2.0 */
/* The test DCAP platform: keys, certificates, CRLs and quotes built with OpenSSL. */
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dcap_forge.h"
#include "test.h"

/* Test set-up failures are bugs in the test: stop at once. */
static void must(ccz_status s)
{
    if (s)
        abort();
}

struct forge {
    EVP_PKEY *root_key, *ca_key, *pck_key, *tcb_key;
    X509 *root, *ca, *tcb;
    ccz_buf root_pem;
    bool platform; /* PCK CA is the Platform CA (PCK certificates of a multi-package platform) */
    long crl_number;
    bool revoke_tcb; /* root CRLs revoke the TCB signing certificate */
};

static EVP_PKEY *gen(void)
{
    return EVP_EC_gen("P-256");
}

static void add_ext(X509 *issuer, X509 *x, int nid, const char *v)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, v);
    if (!e)
        abort();
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
}

/* Intel's distribution points: the root CA's CRL, and the PCK CRL of each PCK CA. */
#define ROOT_CRL_URL "URI:https://certificates.trustedservices.intel.com/IntelSGXRootCA.der"
#define PCK_CRL_URL "URI:https://api.trustedservices.intel.com/sgx/certification/v4/pckcrl?ca="

/* Intel's subject names: CN=<cn>, O=Intel Corporation, L=Santa Clara, ST=CA, C=US. */
static void intel_name(X509_NAME *n, const char *cn)
{
    static const char *const rdn[][2] = {
        {"CN", NULL}, {"O", "Intel Corporation"}, {"L", "Santa Clara"}, {"ST", "CA"}, {"C", "US"}};
    for (size_t i = 0; i < sizeof rdn / sizeof rdn[0]; i++)
        X509_NAME_add_entry_by_txt(n, rdn[i][0], MBSTRING_ASC,
                                   (const unsigned char *)(rdn[i][1] ? rdn[i][1] : cn), -1, -1, 0);
}

typedef enum { ROOT, CA, LEAF } cert_kind;

/* A certificate as Intel's parsers want it: authority and subject key identifiers, key usage,
 * basic constraints (the root with pathlen 1, a CA with pathlen 0) and a CRL distribution
 * point on every one. */
static X509 *cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, cert_kind kind,
                  long serial, const char *crl_dp, const ccz_buf *sgx_ext)
{
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    ASN1_TIME_set(X509_getm_notBefore(x), 1577836800); /* 2020-01-01 */
    ASN1_TIME_set(X509_getm_notAfter(x), 2208988800);  /* 2040-01-01 */
    X509_NAME *n = X509_get_subject_name(x);
    intel_name(n, cn);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
    X509_set_pubkey(x, key);
    X509 *iss = issuer ? issuer : x;
    add_ext(iss, x, NID_basic_constraints,
            kind == ROOT ? "critical,CA:TRUE,pathlen:1"
            : kind == CA ? "critical,CA:TRUE,pathlen:0"
                         : "critical,CA:FALSE");
    add_ext(iss, x, NID_key_usage,
            kind != LEAF ? "critical,keyCertSign,cRLSign"
                         : "critical,digitalSignature,nonRepudiation");
    add_ext(iss, x, NID_subject_key_identifier, "hash");
    add_ext(iss, x, NID_authority_key_identifier, "keyid:always");
    add_ext(iss, x, NID_crl_distribution_points, crl_dp);
    if (sgx_ext) {
        ASN1_OBJECT *oid = OBJ_txt2obj("1.2.840.113741.1.13.1", 1);
        ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();
        ASN1_OCTET_STRING_set(v, sgx_ext->ptr, (int)sgx_ext->len);
        X509_EXTENSION *e = X509_EXTENSION_create_by_OBJ(NULL, oid, 0, v);
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
        ASN1_OCTET_STRING_free(v);
        ASN1_OBJECT_free(oid);
    }
    X509_sign(x, issuer_key, EVP_sha256());
    return x;
}

static void pem_append(ccz_buf *out, X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, x);
    char *p;
    long n = BIO_get_mem_data(b, &p);
    must(ccz_buf_append(out, p, (size_t)n));
    BIO_free(b);
}

static forge *forge_make(bool platform)
{
    forge *f = calloc(1, sizeof *f);
    f->platform = platform;
    f->root_key = gen();
    f->ca_key = gen();
    f->pck_key = gen();
    f->tcb_key = gen();
    f->root =
        cert(f->root_key, "Intel SGX Root CA", NULL, f->root_key, ROOT, 1, ROOT_CRL_URL, NULL);
    f->ca = cert(f->ca_key, platform ? "Intel SGX PCK Platform CA" : "Intel SGX PCK Processor CA",
                 f->root, f->root_key, CA, 2, ROOT_CRL_URL, NULL);
    f->tcb = cert(f->tcb_key, "Intel SGX TCB Signing", f->root, f->root_key, LEAF, 3, ROOT_CRL_URL,
                  NULL);
    pem_append(&f->root_pem, f->root);
    return f;
}

void forge_new_pck_key(forge *f)
{
    EVP_PKEY_free(f->pck_key);
    f->pck_key = gen();
}

void forge_new_pck_key_p384(forge *f)
{
    EVP_PKEY_free(f->pck_key);
    f->pck_key = EVP_EC_gen("P-384");
}

forge *forge_new(void)
{
    return forge_make(false);
}

forge *forge_new_platform(void)
{
    return forge_make(true);
}

void forge_free(forge *f)
{
    if (!f)
        return;
    EVP_PKEY_free(f->root_key);
    EVP_PKEY_free(f->ca_key);
    EVP_PKEY_free(f->pck_key);
    EVP_PKEY_free(f->tcb_key);
    X509_free(f->root);
    X509_free(f->ca);
    X509_free(f->tcb);
    ccz_buf_free(&f->root_pem);
    free(f);
}

ccz_span forge_root_pem(const forge *f)
{
    return ccz_buf_span(&f->root_pem);
}

ccz_trust *forge_trust(const forge *f)
{
    ccz_trust *t = NULL;
    must(ccz_trust_new(&t));
    must(ccz_trust_add_intel_root(t, forge_root_pem(f)));
    return t;
}

/* ---- DER for the SGX extension ---------------------------------------------------------------*/

static void tlv(ccz_buf *out, uint8_t tag, const uint8_t *p, size_t n)
{
    must(ccz_buf_append_u8(out, tag));
    if (n < 0x80) {
        must(ccz_buf_append_u8(out, (uint8_t)n));
    } else {
        must(ccz_buf_append_u8(out, 0x82));
        must(ccz_buf_append_u8(out, (uint8_t)(n >> 8)));
        must(ccz_buf_append_u8(out, (uint8_t)n));
    }
    must(ccz_buf_append(out, p, n));
}

static void oid_pair(ccz_buf *out, const unsigned *arcs, size_t n_arcs, uint8_t vtag,
                     const uint8_t *v, size_t vn)
{
    static const uint8_t base[] = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01};
    uint8_t oid[16];
    memcpy(oid, base, sizeof base);
    for (size_t i = 0; i < n_arcs; i++)
        oid[sizeof base + i] = (uint8_t)arcs[i];
    ccz_buf seq = CCZ_BUF_INIT;
    tlv(&seq, 0x06, oid, sizeof base + n_arcs);
    tlv(&seq, vtag, v, vn);
    tlv(out, 0x30, seq.ptr, seq.len);
    ccz_buf_free(&seq);
}

static void int_pair(ccz_buf *out, const unsigned *arcs, size_t n_arcs, unsigned v)
{
    uint8_t b[3];
    size_t n;
    if (v >= 0x8000)
        b[0] = 0, b[1] = (uint8_t)(v >> 8), b[2] = (uint8_t)v, n = 3;
    else if (v >= 0x100)
        b[0] = (uint8_t)(v >> 8), b[1] = (uint8_t)v, n = 2;
    else if (v >= 0x80)
        b[0] = 0, b[1] = (uint8_t)v, n = 2;
    else
        b[0] = (uint8_t)v, n = 1;
    oid_pair(out, arcs, n_arcs, 0x02, b, n);
}

static void sgx_ext_der(ccz_buf *out, const ccz_pck_ext *x, bool platform)
{
    ccz_buf items = CCZ_BUF_INIT, tcb = CCZ_BUF_INIT, tcb_seq = CCZ_BUF_INIT;
    oid_pair(&items, (unsigned[]){1}, 1, 0x04, x->ppid, 16);
    for (unsigned i = 1; i <= 16; i++)
        int_pair(&tcb, (unsigned[]){2, i}, 2, x->cpusvn_components[i - 1]);
    int_pair(&tcb, (unsigned[]){2, 17}, 2, x->pcesvn);
    oid_pair(&tcb, (unsigned[]){2, 18}, 2, 0x04, x->cpusvn, 16);
    tlv(&tcb_seq, 0x30, tcb.ptr, tcb.len);
    oid_pair(&items, (unsigned[]){2}, 1, 0x30, tcb.ptr, tcb.len);
    oid_pair(&items, (unsigned[]){3}, 1, 0x04, x->pce_id, 2);
    oid_pair(&items, (unsigned[]){4}, 1, 0x04, x->fmspc, 6);
    uint8_t type = platform ? 1 : 0; /* Standard, or Scalable */
    oid_pair(&items, (unsigned[]){5}, 1, 0x0a, &type, 1);
    if (platform) { /* PlatformInstanceID and Configuration, as Intel's parser wants them */
        uint8_t instance[16];
        memset(instance, 0x1d, sizeof instance);
        oid_pair(&items, (unsigned[]){6}, 1, 0x04, instance, 16);
        ccz_buf conf = CCZ_BUF_INIT;
        uint8_t no = 0;
        for (unsigned i = 1; i <= 3; i++)
            oid_pair(&conf, (unsigned[]){7, i}, 2, 0x01, &no, 1);
        oid_pair(&items, (unsigned[]){7}, 1, 0x30, conf.ptr, conf.len);
        ccz_buf_free(&conf);
    }
    tlv(out, 0x30, items.ptr, items.len);
    ccz_buf_free(&items);
    ccz_buf_free(&tcb);
    ccz_buf_free(&tcb_seq);
}

/* ---- signing ---------------------------------------------------------------------------------*/

static void sign_raw(uint8_t sig[64], EVP_PKEY *key, const uint8_t *msg, size_t n)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char der[128]; /* room for a P-384 key's (forge_new_pck_key_p384) */
    size_t len = sizeof der;
    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key);
    EVP_DigestSign(md, der, &len, msg, n);
    EVP_MD_CTX_free(md);
    const unsigned char *p = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)len);
    memset(sig, 0, 64);
    /* a P-384 signature does not fit: its halves are cut to their last 32 bytes */
    uint8_t half[48];
    int k = EVP_PKEY_get_bits(key) > 256 ? 48 : 32;
    BN_bn2binpad(ECDSA_SIG_get0_r(es), half, k);
    memcpy(sig, half + k - 32, 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(es), half, k);
    memcpy(sig + 32, half + k - 32, 32);
    ECDSA_SIG_free(es);
}

static void raw_pub(uint8_t xy[64], EVP_PKEY *key)
{
    uint8_t pt[65];
    size_t n = sizeof pt;
    EVP_PKEY_get_octet_string_param(key, "pub", pt, sizeof pt, &n);
    memcpy(xy, pt + 1, 64);
}

/* ---- quotes ----------------------------------------------------------------------------------*/

void forge_quote_defaults(forge_quote_opts *o)
{
    memset(o, 0, sizeof *o);
    o->version = 3;
    static const uint8_t fmspc[6] = {0x00, 0x90, 0x6e, 0xd5, 0x00, 0x00};
    memcpy(o->ext.fmspc, fmspc, 6);
    memset(o->ext.cpusvn_components, 5, 16);
    o->ext.pcesvn = 10;
    memset(o->qe_mrsigner, 0x8c, 32);
    o->qe_isvprodid = 1;
    o->qe_isvsvn = 8;
    o->qe_attributes0 = 0x11;
    o->cert_type = 5;
}

ccz_status forge_quote(forge *f, ccz_buf *out, const forge_quote_opts *o)
{
    static const uint8_t vendor[16] = {0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
                                       0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};
    /* PCK certificate for these extensions */
    ccz_buf ext = CCZ_BUF_INIT, chain = CCZ_BUF_INIT;
    sgx_ext_der(&ext, &o->ext, f->platform);
    X509 *pck = cert(f->pck_key, "Intel SGX PCK Certificate", f->ca, f->ca_key, LEAF, 100,
                     f->platform ? PCK_CRL_URL "platform&encoding=der"
                                 : PCK_CRL_URL "processor&encoding=der",
                     &ext);
    if (o->pck_not_before || o->pck_not_after) {
        if (o->pck_not_before)
            ASN1_TIME_set(X509_getm_notBefore(pck), (time_t)o->pck_not_before);
        if (o->pck_not_after)
            ASN1_TIME_set(X509_getm_notAfter(pck), (time_t)o->pck_not_after);
        X509_sign(pck, f->ca_key, EVP_sha256());
    }
    pem_append(&chain, pck);
    pem_append(&chain, f->ca);
    pem_append(&chain, f->root);
    must(ccz_buf_append_u8(&chain, 0)); /* as some quotes do */
    X509_free(pck);

    size_t start = out->len;
    uint8_t hdr[48] = {0};
    put_le16(hdr, (uint16_t)o->version);
    put_le16(hdr + 2, 2);
    put_le32(hdr + 4, o->tdx ? 0x81 : 0);
    put_le16(hdr + 10, o->ext.pcesvn);
    memcpy(hdr + 12, vendor, 16);
    must(ccz_buf_append(out, hdr, 48));
    size_t body_len = !o->tdx ? 384 : o->td15 ? 648 : 584;
    if (o->version == 5) {
        uint8_t d[6];
        put_le16(d, !o->tdx ? 1 : o->td15 ? 3 : 2);
        put_le32(d + 2, (uint32_t)body_len);
        must(ccz_buf_append(out, d, 6));
    }
    uint8_t body[648] = {0};
    if (o->tdx) {
        memcpy(body, o->tee_tcb_svn, 16);
        memcpy(body + 64, o->mr_signer_seam, 48);
        memcpy(body + 112, o->seam_attributes, 8);
        body[120 + 3] = 0x10;                  /* SEPT_VE_DISABLE */
        body[120] = o->td_debug ? 0x01 : 0x00; /* DEBUG */
        memcpy(body + 328, o->rtmr, sizeof o->rtmr);
        memcpy(body + 520, o->report_data, 64);
        if (o->td15)
            memcpy(body + 584, o->tee_tcb_svn2, 16);
    } else {
        memset(body + 64, 0xe1, 32); /* MRENCLAVE */
        memcpy(body + 320, o->report_data, 64);
    }
    must(ccz_buf_append(out, body, body_len));
    size_t signed_len = out->len - start;

    EVP_PKEY *ak = gen();
    uint8_t ak_xy[64], auth[32];
    raw_pub(ak_xy, ak);
    memset(auth, 0x5a, sizeof auth);
    uint8_t qe[384] = {0};
    put_le32(qe + 16, o->qe_miscselect);
    qe[48] = o->qe_attributes0;
    memset(qe + 64, 0x4e, 32);
    memcpy(qe + 128, o->qe_mrsigner, 32);
    put_le16(qe + 256, o->qe_isvprodid);
    put_le16(qe + 258, o->qe_isvsvn);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    EVP_DigestUpdate(md, ak_xy, 64);
    EVP_DigestUpdate(md, auth, sizeof auth);
    EVP_DigestFinal_ex(md, qe + 320, NULL);
    EVP_MD_CTX_free(md);
    memcpy(qe + 352, o->qe_report_data_hi, 32);
    uint8_t qe_sig[64], quote_sig[64];
    sign_raw(qe_sig, f->pck_key, qe, sizeof qe);

    ccz_buf qe_part = CCZ_BUF_INIT;
    must(ccz_buf_append(&qe_part, qe, sizeof qe));
    must(ccz_buf_append(&qe_part, qe_sig, 64));
    must(ccz_buf_append_u16le(&qe_part, sizeof auth));
    must(ccz_buf_append(&qe_part, auth, sizeof auth));
    must(ccz_buf_append_u16le(&qe_part, o->cert_type));
    must(ccz_buf_append_u32le(&qe_part, (uint32_t)chain.len));
    must(ccz_buf_append(&qe_part, chain.ptr, chain.len));

    sign_raw(quote_sig, ak, out->ptr + start, signed_len);
    ccz_buf sig = CCZ_BUF_INIT;
    must(ccz_buf_append(&sig, quote_sig, 64));
    must(ccz_buf_append(&sig, ak_xy, 64));
    if (o->version == 3) {
        must(ccz_buf_append(&sig, qe_part.ptr, qe_part.len));
    } else {
        must(ccz_buf_append_u16le(&sig, 6));
        must(ccz_buf_append_u32le(&sig, (uint32_t)qe_part.len));
        must(ccz_buf_append(&sig, qe_part.ptr, qe_part.len));
    }
    must(ccz_buf_append_u32le(out, (uint32_t)sig.len));
    ccz_status s = ccz_buf_append(out, sig.ptr, sig.len);
    EVP_PKEY_free(ak);
    ccz_buf_free(&sig);
    ccz_buf_free(&qe_part);
    ccz_buf_free(&ext);
    ccz_buf_free(&chain);
    return s;
}

/* ---- collateral ------------------------------------------------------------------------------*/

/* A CRL with a CRL number and the issuer's authority key identifier, as Intel's are. */
static char *crl_hex(X509 *issuer, EVP_PKEY *key, long number, int64_t from, int64_t until,
                     long revoked)
{
    X509_CRL *crl = X509_CRL_new();
    X509_CRL_set_version(crl, 1);
    X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer));
    ASN1_INTEGER *num = ASN1_INTEGER_new();
    ASN1_INTEGER_set(num, number);
    X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0);
    ASN1_INTEGER_free(num);
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, NULL, NULL, crl, 0);
    X509_EXTENSION *aki =
        X509V3_EXT_conf_nid(NULL, &ctx, NID_authority_key_identifier, "keyid:always");
    if (!aki)
        abort();
    X509_CRL_add_ext(crl, aki, -1);
    X509_EXTENSION_free(aki);
    ASN1_TIME *t = ASN1_TIME_set(NULL, (time_t)from);
    X509_CRL_set1_lastUpdate(crl, t);
    ASN1_TIME_set(t, (time_t)until);
    X509_CRL_set1_nextUpdate(crl, t);
    if (revoked) {
        X509_REVOKED *r = X509_REVOKED_new();
        ASN1_INTEGER *serial = ASN1_INTEGER_new();
        ASN1_INTEGER_set(serial, revoked);
        X509_REVOKED_set_serialNumber(r, serial);
        ASN1_TIME_set(t, (time_t)from);
        X509_REVOKED_set_revocationDate(r, t);
        X509_CRL_add0_revoked(crl, r);
        ASN1_INTEGER_free(serial);
    }
    ASN1_TIME_free(t);
    X509_CRL_sort(crl);
    X509_CRL_sign(crl, key, EVP_sha256());
    unsigned char *der = NULL;
    int n = i2d_X509_CRL(crl, &der);
    ccz_buf hex = CCZ_BUF_INIT;
    must(ccz_hex_encode(&hex, CCZ_SPAN(der, (size_t)n)));
    OPENSSL_free(der);
    X509_CRL_free(crl);
    return (char *)hex.ptr;
}

static char *sig_hex(EVP_PKEY *key, const char *text)
{
    uint8_t sig[64];
    sign_raw(sig, key, (const uint8_t *)text, strlen(text));
    char *hex = malloc(129);
    ccz_hex_to_str(hex, sig, 64);
    return hex;
}

void forge_revoke_tcb_signer(forge *f, bool revoke)
{
    f->revoke_tcb = revoke;
}

ccz_status forge_collateral(forge *f, ccz_buf *out, const forge_collateral_opts *o)
{
    ccz_buf ca_chain = CCZ_BUF_INIT, tcb_chain = CCZ_BUF_INIT;
    pem_append(&ca_chain, f->ca);
    pem_append(&ca_chain, f->root);
    pem_append(&tcb_chain, f->tcb);
    pem_append(&tcb_chain, f->root);
    long number = ++f->crl_number;
    long root_revoked = o->revoke_pck_ca ? 2 : f->revoke_tcb ? 3 : 0;
    char *root_crl = crl_hex(f->root, f->root_key, number, o->crl_from, o->crl_until, root_revoked);
    char *pck_crl =
        crl_hex(f->ca, f->ca_key, number, o->crl_from, o->crl_until, o->revoke_pck ? 100 : 0);
    char *tsig = sig_hex(f->tcb_key, o->tcb_info), *qsig = sig_hex(f->tcb_key, o->qe_identity);
    json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "pck_crl_issuer_chain",
                          (const char *)ca_chain.ptr, "root_ca_crl", root_crl, "pck_crl", pck_crl,
                          "tcb_info_issuer_chain", (const char *)tcb_chain.ptr, "tcb_info",
                          o->tcb_info, "tcb_info_signature", tsig, "qe_identity_issuer_chain",
                          (const char *)tcb_chain.ptr, "qe_identity", o->qe_identity,
                          "qe_identity_signature", qsig);
    char *text = json_dumps(j, JSON_INDENT(1));
    ccz_status s = ccz_buf_append_str(out, text);
    free(text);
    json_decref(j);
    free(root_crl);
    free(pck_crl);
    free(tsig);
    free(qsig);
    ccz_buf_free(&ca_chain);
    ccz_buf_free(&tcb_chain);
    return s;
}

/* ---- collateral bodies -----------------------------------------------------------------------*/

#define FORGE_ISSUE "2025-01-01T00:00:00Z"
#define FORGE_NEXT "2035-01-01T00:00:00Z"
#define FORGE_ZERO48                                                                               \
    "000000000000000000000000000000000000000000000000"                                             \
    "000000000000000000000000000000000000000000000000"

static json_t *components(const uint8_t svn[16])
{
    json_t *a = json_array();
    for (int i = 0; i < 16; i++)
        json_array_append_new(a, json_pack("{s:i}", "svn", svn[i]));
    return a;
}

static void set_status(json_t *lvl, const char *status, const char *const *advisories)
{
    json_object_set_new(lvl, "tcbDate", json_string("2024-01-01T00:00:00Z"));
    json_object_set_new(lvl, "tcbStatus", json_string(status));
    if (advisories) {
        json_t *a = json_array();
        for (size_t i = 0; advisories[i]; i++)
            json_array_append_new(a, json_string(advisories[i]));
        json_object_set_new(lvl, "advisoryIDs", a);
    }
}

json_t *forge_tcb_level(const uint8_t sgx[16], unsigned pcesvn, const uint8_t *tdx,
                        const char *status, const char *const *advisories)
{
    json_t *tcb =
        json_pack("{s:o,s:i}", "sgxtcbcomponents", components(sgx), "pcesvn", (int)pcesvn);
    if (tdx)
        json_object_set_new(tcb, "tdxtcbcomponents", components(tdx));
    json_t *lvl = json_pack("{s:o}", "tcb", tcb);
    set_status(lvl, status, advisories);
    return lvl;
}

json_t *forge_isv_level(unsigned isvsvn, const char *status, const char *const *advisories)
{
    json_t *lvl = json_pack("{s:{s:i}}", "tcb", "isvsvn", (int)isvsvn);
    set_status(lvl, status, advisories);
    return lvl;
}

json_t *forge_module_identity(const char *id, json_t *levels)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:o}", "id", id, "mrsigner", FORGE_ZERO48, "attributes",
                     "0000000000000000", "attributesMask", "FFFFFFFFFFFFFFFF", "tcbLevels", levels);
}

json_t *forge_tcb_info(bool tdx, json_t *levels, json_t *modules)
{
    json_t *o =
        json_pack("{s:s,s:i,s:s,s:s,s:s,s:s,s:i,s:i}", "id", tdx ? "TDX" : "SGX", "version", 3,
                  "issueDate", FORGE_ISSUE, "nextUpdate", FORGE_NEXT, "fmspc", "00906ED50000",
                  "pceId", "0000", "tcbType", 0, "tcbEvaluationDataNumber", 17);
    if (tdx)
        json_object_set_new(o, "tdxModule",
                            json_pack("{s:s,s:s,s:s}", "mrsigner", FORGE_ZERO48, "attributes",
                                      "0000000000000000", "attributesMask", "FFFFFFFFFFFFFFFF"));
    if (modules)
        json_object_set_new(o, "tdxModuleIdentities", modules);
    json_object_set_new(o, "tcbLevels", levels);
    return o;
}

json_t *forge_qe_identity(bool td, json_t *levels)
{
    return json_pack("{s:s,s:i,s:s,s:s,s:i,s:s,s:s,s:s,s:s,s:s,s:i,s:o}", "id", td ? "TD_QE" : "QE",
                     "version", 2, "issueDate", FORGE_ISSUE, "nextUpdate", FORGE_NEXT,
                     "tcbEvaluationDataNumber", 17, "miscselect", "00000000", "miscselectMask",
                     "FFFFFFFF", "attributes", "11000000000000000000000000000000", "attributesMask",
                     "FBFFFFFFFFFFFFFF0000000000000000", "mrsigner",
                     "8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C",
                     "isvprodid", td ? 2 : 1, "tcbLevels", levels);
}

char *forge_dump(json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!s)
        abort();
    return s;
}

/* ---- one verification ------------------------------------------------------------------------*/

forge_outcome forge_verify(forge *f, int64_t at, const forge_quote_opts *qo,
                           const forge_collateral_opts *co, void (*tamper)(ccz_buf *quote))
{
    forge_outcome o;
    memset(&o, 0, sizeof o);
    ccz_buf q = CCZ_BUF_INIT, c = CCZ_BUF_INIT;
    ccz_trust *trust = NULL;
    ccz_collateral *col = NULL;
    must(forge_quote(f, &q, qo));
    must(forge_collateral(f, &c, co));
    if (tamper)
        tamper(&q);
    trust = forge_trust(f);
    o.status = ccz_collateral_parse(&col, (const char *)c.ptr, c.len);
    if (o.status) {
        snprintf(o.step, sizeof o.step, "collateral_parse");
        snprintf(o.tcb, sizeof o.tcb, "%s", ccz_status_name(o.status));
        snprintf(o.message, sizeof o.message, "%s", ccz_error_detail());
        goto out;
    }
    ccz_verify_opts vo = CCZ_VERIFY_OPTS_INIT;
    vo.at_unix = at;
    vo.trust = trust;
    vo.collateral = col;
    static _Thread_local ccz_result r;
    o.status = ccz_verify(&r, ccz_buf_span(&q), &vo);
    snprintf(o.step, sizeof o.step, "%s", r.step ? r.step : "");
    snprintf(o.message, sizeof o.message, "%s", r.message);
    if (o.status) {
        snprintf(o.tcb, sizeof o.tcb, "%s", ccz_status_name(o.status));
        goto out;
    }
    snprintf(o.tcb, sizeof o.tcb, "%s", r.claims.tcb_status);
    for (size_t i = 0; i < r.claims.n_advisories; i++)
        snprintf(o.adv + strlen(o.adv), sizeof o.adv - strlen(o.adv), "%s%s", i ? "," : "",
                 r.claims.advisories[i]);
out:
    ccz_collateral_free(col);
    ccz_trust_free(trust);
    ccz_buf_free(&q);
    ccz_buf_free(&c);
    return o;
}
