/* SPDX-License-Identifier: Apache-2.0 */
/* SEV-SNP without the recorded vectors: report parsing, and the verifier run over chains made
 * here (an ARK trusted for the test, its ASK, a VCEK with AMD's extensions) for Milan, Genoa and
 * Turin, with reports signed by that VCEK. Each check of the report against its VEK is changed
 * on its own in a correctly signed report, so a verifier that skips it would accept: every TCB
 * component (and Turin's FMC), the CPU named by CPUID against the chain's product, the chip id
 * (64 bytes, Turin's 8, masked), the report data. */
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <jansson.h>

#include "ccz/ccz.h"
#include "jose/jose.h"
#include "test.h"

#define AT 1767225600 /* 2026-01-01, inside every certificate made here */

/* ---- a product's chain --------------------------------------------------------------------*/

typedef struct {
    ccz_snp_product product;
    EVP_PKEY *ark_key, *ask_key, *vek_key;
    X509 *ark, *ask;
    ccz_trust *trust;
} amd_chain;

typedef struct {
    ccz_snp_tcb tcb;
    bool fmc; /* carries fmcSPL (Turin) */
    uint8_t hwid[64];
    size_t hwid_len; /* 64, or 8 on Turin */
} vek_spec;

static EVP_PKEY *p384(void)
{
    EVP_PKEY *k = EVP_EC_gen("P-384");
    CHECK(k != NULL);
    return k;
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    CHECK(e && X509_add_ext(x, e, -1));
    X509_EXTENSION_free(e);
}

/* An AMD extension: DER bytes under 1.3.6.1.4.1.3704.1.<arc>. */
static void add_amd_ext(X509 *x, const char *arc, const uint8_t *der, size_t len)
{
    char oid_text[64];
    snprintf(oid_text, sizeof oid_text, "1.3.6.1.4.1.3704.1.%s", arc);
    ASN1_OBJECT *oid = OBJ_txt2obj(oid_text, 1);
    ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();
    X509_EXTENSION *e = NULL;
    CHECK(oid && v && ASN1_OCTET_STRING_set(v, der, (int)len) &&
          (e = X509_EXTENSION_create_by_OBJ(NULL, oid, 0, v)) && X509_add_ext(x, e, -1));
    X509_EXTENSION_free(e);
    ASN1_OCTET_STRING_free(v);
    ASN1_OBJECT_free(oid);
}

static void add_spl(X509 *x, const char *arc, uint8_t value)
{
    uint8_t der[4] = {0x02, 1, value};
    if (value & 0x80) { /* a leading zero keeps it positive */
        der[1] = 2, der[2] = 0, der[3] = value;
        add_amd_ext(x, arc, der, 4);
    } else {
        add_amd_ext(x, arc, der, 3);
    }
}

static X509 *cert(const char *cn, EVP_PKEY *key, X509 *issuer, bool ca)
{
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), ca ? 1 : 2);
    ASN1_TIME_set(X509_getm_notBefore(x), AT - 86400L * 365);
    ASN1_TIME_set(X509_getm_notAfter(x), AT + 86400L * 365);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"ccz test AMD", -1,
                               -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    X509_set_pubkey(x, key);
    add_ext(x, issuer ? issuer : x, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
    if (ca)
        add_ext(x, issuer ? issuer : x, NID_key_usage, "critical,keyCertSign,cRLSign");
    return x;
}

static void sign(X509 *x, EVP_PKEY *key)
{
    CHECK(X509_sign(x, key, EVP_sha384()) > 0);
}

static char *pem_of(X509 *x, size_t *len)
{
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, x);
    char *p;
    long n = BIO_get_mem_data(b, &p);
    char *out = malloc((size_t)n + 1);
    memcpy(out, p, (size_t)n);
    out[n] = 0;
    *len = (size_t)n;
    BIO_free(b);
    return out;
}

/* A chain for product p whose root is named ark_cn (NULL: ARK-<product>, as AMD names it). */
static void chain_new_ark(amd_chain *c, ccz_snp_product p, const char *ark_cn)
{
    memset(c, 0, sizeof *c);
    c->product = p;
    char cn[32];
    c->ark_key = p384();
    c->ask_key = p384();
    c->vek_key = p384();
    snprintf(cn, sizeof cn, "ARK-%s", ccz_snp_product_name(p));
    c->ark = cert(ark_cn ? ark_cn : cn, c->ark_key, NULL, true);
    sign(c->ark, c->ark_key);
    snprintf(cn, sizeof cn, "SEV-%s", ccz_snp_product_name(p));
    c->ask = cert(cn, c->ask_key, c->ark, true);
    sign(c->ask, c->ark_key);
    size_t n;
    char *pem = pem_of(c->ark, &n);
    CHECK_OK(ccz_trust_new(&c->trust));
    CHECK_OK(ccz_trust_add_amd_ark(c->trust, CCZ_SPAN(pem, n)));
    free(pem);
}

static void chain_new(amd_chain *c, ccz_snp_product p)
{
    chain_new_ark(c, p, NULL);
}

static void chain_free(amd_chain *c)
{
    EVP_PKEY_free(c->ark_key);
    EVP_PKEY_free(c->ask_key);
    EVP_PKEY_free(c->vek_key);
    X509_free(c->ark);
    X509_free(c->ask);
    ccz_trust_free(c->trust);
}

/* A VEK certificate for the chain, signed by its ASK: subject cn, key (the chain's VEK key when
 * NULL), the TCB and hwID of v; omit names an AMD extension arc left out, and spl_arc with
 * spl_der replaces the DER of that extension's value. */
typedef struct {
    const char *cn;
    EVP_PKEY *key;
    const char *omit;
    const char *spl_arc;
    const uint8_t *spl_der;
    size_t spl_len;
    bool wrap_hwid;          /* hwID wrapped in an OCTET STRING */
    const uint8_t *hwid_der; /* the hwID extension's value as given (hwid_len bytes) */
    size_t hwid_der_len;
} vek_variant;

static X509 *vek_cert(const amd_chain *c, const vek_spec *v, const vek_variant *w)
{
    X509 *x =
        cert(w && w->cn ? w->cn : "SEV-VCEK", w && w->key ? w->key : c->vek_key, c->ask, false);
    char name[32];
    snprintf(name, sizeof name, "%s", ccz_snp_product_name(c->product));
    uint8_t ia5[40] = {0x16, (uint8_t)strlen(name)};
    memcpy(ia5 + 2, name, strlen(name));
    add_amd_ext(x, "2", ia5, 2 + strlen(name));
    static const char *const arcs[] = {"3.1", "3.2", "3.3", "3.8", "3.9"};
    const uint8_t vals[] = {v->tcb.bootloader, v->tcb.tee, v->tcb.snp, v->tcb.microcode,
                            v->tcb.fmc};
    for (size_t i = 0; i < 5; i++) {
        if ((i == 4 && !v->fmc) || (w && w->omit && strcmp(w->omit, arcs[i]) == 0))
            continue;
        if (w && w->spl_arc && strcmp(w->spl_arc, arcs[i]) == 0)
            add_amd_ext(x, arcs[i], w->spl_der, w->spl_len);
        else
            add_spl(x, arcs[i], vals[i]);
    }
    if (w && w->hwid_der) {
        add_amd_ext(x, "4", w->hwid_der, w->hwid_der_len);
    } else if (w && w->wrap_hwid) {
        uint8_t wrapped[2 + 64] = {0x04, (uint8_t)v->hwid_len};
        memcpy(wrapped + 2, v->hwid, v->hwid_len);
        add_amd_ext(x, "4", wrapped, 2 + v->hwid_len);
    } else if (!w || !w->omit || strcmp(w->omit, "4") != 0) {
        add_amd_ext(x, "4", v->hwid, v->hwid_len);
    }
    sign(x, c->ask_key);
    return x;
}

/* Collateral for the chain: a VEK (see vek_cert), then ASK + ARK; the status of making it. */
static ccz_status try_collateral(ccz_collateral **col, const amd_chain *c, const vek_spec *v,
                                 const vek_variant *w)
{
    X509 *x = vek_cert(c, v, w);
    unsigned char *der = NULL;
    int dn = i2d_X509(x, &der);
    size_t an, kn;
    char *ask = pem_of(c->ask, &kn), *ark = pem_of(c->ark, &an);
    char *both = malloc(an + kn + 1);
    memcpy(both, ask, kn);
    memcpy(both + kn, ark, an + 1);
    *col = NULL;
    ccz_status s = ccz_snp_collateral_new(col, CCZ_SPAN(der, (size_t)dn), CCZ_SPAN(both, an + kn));
    OPENSSL_free(der);
    free(ask);
    free(ark);
    free(both);
    X509_free(x);
    return s;
}

/* Collateral for the chain: a VCEK (key vek_key) with the given TCB and hwID, then ASK + ARK. */
static ccz_collateral *collateral(const amd_chain *c, const vek_spec *v)
{
    ccz_collateral *col = NULL;
    CHECK_OK(try_collateral(&col, c, v, NULL));
    return col;
}

/* ---- reports --------------------------------------------------------------------------------*/

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* The TCB_VERSION bytes of t in the product's layout. */
static uint64_t tcb_raw(const ccz_snp_tcb *t, ccz_snp_product p)
{
    uint8_t b[8] = {0};
    if (p == CCZ_SNP_TURIN)
        b[0] = t->fmc, b[1] = t->bootloader, b[2] = t->tee, b[3] = t->snp;
    else
        b[0] = t->bootloader, b[1] = t->tee, b[6] = t->snp;
    b[7] = t->microcode;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

typedef struct {
    uint32_t version;
    uint8_t family, model; /* CPUID (v3 and later) */
    ccz_snp_tcb tcb;
    ccz_snp_product layout; /* the TCB layout written */
    uint8_t chip_id[64];
    bool mask_chip_key;
    uint8_t key_sel;            /* signing key selector: 0 VCEK, 1 VLEK, 7 none */
    bool cpuid_anyway;          /* CPUID bytes written in a v2 report too (reserved there) */
    const uint8_t *report_data; /* 64 bytes, or NULL: 0xd0, 0xd1, ... */
} report_spec;

/* A report as the firmware makes it, signed with key. */
static void make_report(uint8_t rep[CCZ_SNP_REPORT_SIZE], const report_spec *s, EVP_PKEY *key)
{
    memset(rep, 0, CCZ_SNP_REPORT_SIZE);
    put_le(rep + 0x00, s->version, 4);
    put_le(rep + 0x04, 7, 4);       /* guest svn */
    put_le(rep + 0x08, 0x30000, 8); /* policy: SMT allowed, reserved bit 17 */
    put_le(rep + 0x34, 1, 4);       /* ECDSA P-384 with SHA-384 */
    uint64_t tcb = tcb_raw(&s->tcb, s->layout);
    put_le(rep + 0x38, tcb, 8); /* current */
    put_le(rep + 0x48, (s->mask_chip_key ? 2u : 0u) | (uint32_t)s->key_sel << 2, 4);
    for (int i = 0; i < 64; i++) /* report data */
        rep[0x50 + i] = s->report_data ? s->report_data[i] : (uint8_t)(0xd0 + i);
    memset(rep + 0x90, 0x4d, 48); /* measurement */
    put_le(rep + 0x180, tcb, 8);  /* reported */
    if (s->version >= 3 || s->cpuid_anyway) {
        rep[0x188] = s->family;
        rep[0x189] = s->model;
        rep[0x18a] = 1;
    }
    memcpy(rep + 0x1a0, s->chip_id, 64);
    put_le(rep + 0x1e0, tcb, 8); /* committed */
    put_le(rep + 0x1f0, tcb, 8); /* launch */
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char der[128];
    size_t dl = sizeof der;
    CHECK(EVP_DigestSignInit(md, NULL, EVP_sha384(), NULL, key) == 1 &&
          EVP_DigestSign(md, der, &dl, rep, CCZ_SNP_SIGNED_SIZE) == 1);
    EVP_MD_CTX_free(md);
    const unsigned char *p = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)dl);
    CHECK(es != NULL);
    uint8_t r[48], sv[48];
    BN_bn2binpad(ECDSA_SIG_get0_r(es), r, 48);
    BN_bn2binpad(ECDSA_SIG_get0_s(es), sv, 48);
    ECDSA_SIG_free(es);
    for (int i = 0; i < 48; i++) { /* little-endian, in 72-byte fields */
        rep[0x2a0 + i] = r[47 - i];
        rep[0x2a0 + 72 + i] = sv[47 - i];
    }
}

static ccz_status verify(ccz_result *r, const amd_chain *c, const vek_spec *v, const uint8_t *rep,
                         const uint8_t *expected_report_data)
{
    ccz_collateral *col = collateral(c, v);
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.at_unix = AT;
    o.trust = c->trust;
    o.collateral = col;
    o.expected_report_data = expected_report_data;
    ccz_status s = ccz_verify(r, CCZ_SPAN(rep, CCZ_SNP_REPORT_SIZE), &o);
    ccz_collateral_free(col);
    return s;
}

/* Expects a failure with its status, step and a part of its message. */
static void expect_fail(const char *what, ccz_status got, const ccz_result *r, ccz_status want,
                        const char *step, const char *message)
{
    if (got != want || !r->step || strcmp(r->step, step) != 0 || !strstr(r->message, message)) {
        fprintf(stderr, "%s: %s: got %s at %s (%s), want %s at %s (%s)\n", test_name, what,
                ccz_status_name(got), r->step ? r->step : "-", r->message, ccz_status_name(want),
                step, message);
        test_failures++;
    }
    test_checks++;
}

/* The three products: CPUID and a platform TCB for each. */
static const struct {
    ccz_snp_product product;
    uint8_t family, model;
    ccz_snp_tcb tcb;
    size_t hwid_len;
} products[] = {
    {CCZ_SNP_MILAN, 0x19, 0x01, {.bootloader = 4, .tee = 0, .snp = 24, .microcode = 217}, 64},
    {CCZ_SNP_GENOA, 0x19, 0x11, {.bootloader = 9, .tee = 1, .snp = 23, .microcode = 72}, 64},
    {CCZ_SNP_TURIN,
     0x1a,
     0x02,
     {.bootloader = 1, .tee = 2, .snp = 3, .microcode = 77, .fmc = 5},
     8},
};

static void specs(size_t i, vek_spec *v, report_spec *r)
{
    memset(v, 0, sizeof *v);
    memset(r, 0, sizeof *r);
    v->tcb = products[i].tcb;
    v->fmc = products[i].product == CCZ_SNP_TURIN;
    v->hwid_len = products[i].hwid_len;
    for (size_t k = 0; k < v->hwid_len; k++)
        v->hwid[k] = (uint8_t)(0x11 * (k + 1) + i);
    r->version = 3;
    r->family = products[i].family;
    r->model = products[i].model;
    r->tcb = products[i].tcb;
    r->layout = products[i].product;
    memcpy(r->chip_id, v->hwid, v->hwid_len); /* Turin: the rest stays zero */
}

/* ---- tests ----------------------------------------------------------------------------------*/

/* A report of each product verifies, with the product, TCB and chip id decoded for it. */
static void test_each_product(void)
{
    for (size_t i = 0; i < sizeof products / sizeof products[0]; i++) {
        test_name = ccz_snp_product_name(products[i].product);
        amd_chain c;
        chain_new(&c, products[i].product);
        vek_spec v;
        report_spec rs;
        specs(i, &v, &rs);
        uint8_t rep[CCZ_SNP_REPORT_SIZE];
        make_report(rep, &rs, c.vek_key);
        static ccz_result res;
        uint8_t want_rd[64];
        memcpy(want_rd, rep + 0x50, 64);
        CHECK_OK(verify(&res, &c, &v, rep, want_rd));
        const ccz_snp_claims *s = &res.claims.snp;
        CHECK_INT(res.claims.tee, CCZ_TEE_SNP);
        CHECK_STR(s->product, ccz_snp_product_name(products[i].product));
        CHECK_INT(s->reported_tcb.bootloader, products[i].tcb.bootloader);
        CHECK_INT(s->reported_tcb.tee, products[i].tcb.tee);
        CHECK_INT(s->reported_tcb.snp, products[i].tcb.snp);
        CHECK_INT(s->reported_tcb.microcode, products[i].tcb.microcode);
        CHECK_INT(s->reported_tcb.fmc, products[i].tcb.fmc);
        CHECK_INT(s->launch_tcb.snp, products[i].tcb.snp);
        CHECK_INT(s->guest_svn, 7);
        CHECK(memcmp(s->chip_id, v.hwid, 64) == 0);
        CHECK(!res.claims.debug);
        CHECK(memcmp(res.claims.report_data, want_rd, 64) == 0);
        /* another report data than expected */
        want_rd[63] ^= 1;
        ccz_status st = verify(&res, &c, &v, rep, want_rd);
        expect_fail("report data", st, &res, CCZ_ERR_REPORT_DATA_MISMATCH, "report_data",
                    "report data");
        chain_free(&c);
    }
    test_name = "test_each_product";
}

/* Each TCB component of the report, one at a time one above the VCEK's, in a report signed by
 * that VCEK: refused as a TCB mismatch before the signature is looked at. */
static void test_each_tcb_component(void)
{
    static const char *const names[] = {"bootloader", "tee", "snp", "microcode", "fmc"};
    for (size_t i = 0; i < sizeof products / sizeof products[0]; i++) {
        amd_chain c;
        chain_new(&c, products[i].product);
        bool turin = products[i].product == CCZ_SNP_TURIN;
        for (int k = 0; k < (turin ? 5 : 4); k++) {
            char label[64];
            snprintf(label, sizeof label, "%s %s", ccz_snp_product_name(products[i].product),
                     names[k]);
            test_name = label;
            vek_spec v;
            report_spec rs;
            specs(i, &v, &rs);
            uint8_t *field[] = {&rs.tcb.bootloader, &rs.tcb.tee, &rs.tcb.snp, &rs.tcb.microcode,
                                &rs.tcb.fmc};
            (*field[k])++;
            uint8_t rep[CCZ_SNP_REPORT_SIZE];
            make_report(rep, &rs, c.vek_key);
            static ccz_result res;
            ccz_status st = verify(&res, &c, &v, rep, NULL);
            expect_fail(names[k], st, &res, CCZ_ERR_TCB_MISMATCH, "platform_certificate",
                        "is not the VEK's");
            /* the same with the VCEK's component the higher one: still a mismatch */
            (*field[k])--;
            uint8_t *vf[] = {&v.tcb.bootloader, &v.tcb.tee, &v.tcb.snp, &v.tcb.microcode,
                             &v.tcb.fmc};
            (*vf[k])++;
            make_report(rep, &rs, c.vek_key);
            st = verify(&res, &c, &v, rep, NULL);
            expect_fail(names[k], st, &res, CCZ_ERR_TCB_MISMATCH, "platform_certificate",
                        "is not the VEK's");
        }
        chain_free(&c);
    }
    test_name = "test_each_tcb_component";
}

/* The CPU a v3 report names must be the VEK chain's product, even when the report is signed by
 * that chain's VCEK with a TCB that matches in the chain's layout. */
static void test_cpu_against_chain(void)
{
    amd_chain milan, turin;
    chain_new(&milan, CCZ_SNP_MILAN);
    chain_new(&turin, CCZ_SNP_TURIN);
    vek_spec v;
    report_spec rs;
    static ccz_result res;
    uint8_t rep[CCZ_SNP_REPORT_SIZE];
    /* a Genoa CPU, Turin chain and layout */
    specs(2, &v, &rs);
    rs.family = 0x19, rs.model = 0xa1;
    make_report(rep, &rs, turin.vek_key);
    ccz_status st = verify(&res, &turin, &v, rep, NULL);
    expect_fail("Genoa CPU, Turin chain", st, &res, CCZ_ERR_COLLATERAL_MISMATCH, "collateral",
                "from a Genoa CPU, the VEK chain is Turin's");
    /* a Turin CPU, Milan chain and layout */
    specs(0, &v, &rs);
    rs.family = 0x1a, rs.model = 0x11;
    make_report(rep, &rs, milan.vek_key);
    st = verify(&res, &milan, &v, rep, NULL);
    expect_fail("Turin CPU, Milan chain", st, &res, CCZ_ERR_COLLATERAL_MISMATCH, "collateral",
                "from a Turin CPU, the VEK chain is Milan's");
    /* an unknown CPU (family 17h) is decoded for the chain's product, as a v2 report is */
    rs.family = 0x17, rs.model = 0x31;
    make_report(rep, &rs, milan.vek_key);
    CHECK_OK(verify(&res, &milan, &v, rep, NULL));
    CHECK_STR(res.claims.snp.product, "Milan");
    /* a v2 report names no CPU: its TCB is read in the chain's layout (Turin: FMC first) */
    specs(2, &v, &rs);
    rs.version = 2;
    make_report(rep, &rs, turin.vek_key);
    CHECK_OK(verify(&res, &turin, &v, rep, NULL));
    CHECK_STR(res.claims.snp.product, "Turin");
    CHECK_INT(res.claims.snp.reported_tcb.fmc, 5);
    CHECK_INT(res.claims.snp.reported_tcb.bootloader, 1);
    chain_free(&milan);
    chain_free(&turin);
}

/* The chip id: all 64 bytes compared (Turin: the 8 of its hwID, the rest zero); a masked chip
 * id (MASK_CHIP_KEY set, zeros in the report) is not compared. */
static void test_chip_id(void)
{
    for (size_t i = 0; i < sizeof products / sizeof products[0]; i++) {
        test_name = ccz_snp_product_name(products[i].product);
        amd_chain c;
        chain_new(&c, products[i].product);
        vek_spec v;
        report_spec rs;
        uint8_t rep[CCZ_SNP_REPORT_SIZE];
        static ccz_result res;
        size_t n = products[i].hwid_len;
        /* the first, the last meaningful and (Turin) the first unused byte */
        size_t at[] = {0, n - 1, n < 64 ? n : 63, n < 64 ? 63 : 31};
        for (size_t k = 0; k < sizeof at / sizeof at[0]; k++) {
            specs(i, &v, &rs);
            rs.chip_id[at[k]] ^= 0x01;
            make_report(rep, &rs, c.vek_key);
            ccz_status st = verify(&res, &c, &v, rep, NULL);
            expect_fail("chip id byte", st, &res, CCZ_ERR_CHIP_ID_MISMATCH, "platform_certificate",
                        "chip id");
        }
        /* masked: zeros, MASK_CHIP_KEY set, accepted */
        specs(i, &v, &rs);
        memset(rs.chip_id, 0, 64);
        rs.mask_chip_key = true;
        make_report(rep, &rs, c.vek_key);
        CHECK_OK(verify(&res, &c, &v, rep, NULL));
        CHECK(res.claims.snp.mask_chip_key);
        /* zeros without MASK_CHIP_KEY: a mismatch */
        rs.mask_chip_key = false;
        make_report(rep, &rs, c.vek_key);
        ccz_status st = verify(&res, &c, &v, rep, NULL);
        expect_fail("zero chip id, not masked", st, &res, CCZ_ERR_CHIP_ID_MISMATCH,
                    "platform_certificate", "chip id");
        /* a VCEK whose hwID has the other products' size (8 bytes on Milan and Genoa, 64 on
         * Turin), the report's chip id that hwID: refused, masked or not */
        for (int masked = 0; masked < 2; masked++) {
            specs(i, &v, &rs);
            v.hwid_len = n == 64 ? 8 : 64;
            for (size_t k = 0; k < 64; k++)
                v.hwid[k] = (uint8_t)(0x21 + k);
            memset(rs.chip_id, 0, 64);
            if (!masked)
                memcpy(rs.chip_id, v.hwid, v.hwid_len);
            rs.mask_chip_key = masked;
            make_report(rep, &rs, c.vek_key);
            st = verify(&res, &c, &v, rep, NULL);
            char want[96];
            snprintf(want, sizeof want, "the VCEK's hwID is %zu bytes, a %s VCEK's %zu", v.hwid_len,
                     ccz_snp_product_name(products[i].product), n);
            expect_fail("hwID of another product's size", st, &res, CCZ_ERR_CHIP_ID_MISMATCH,
                        "platform_certificate", want);
        }
        chain_free(&c);
    }
    test_name = "test_chip_id";
}

/* The VEK description read from a Turin VCEK: FMC and an 8-byte hwID. */
static void test_turin_vek_info(void)
{
    amd_chain c;
    chain_new(&c, CCZ_SNP_TURIN);
    vek_spec v;
    report_spec rs;
    specs(2, &v, &rs);
    X509 *x = cert("SEV-VCEK", c.vek_key, c.ask, false);
    uint8_t ia5[] = {0x16, 5, 'T', 'u', 'r', 'i', 'n'};
    add_amd_ext(x, "2", ia5, sizeof ia5);
    add_spl(x, "3.1", 1);
    add_spl(x, "3.2", 2);
    add_spl(x, "3.3", 3);
    add_spl(x, "3.8", 200); /* two-byte INTEGER */
    add_spl(x, "3.9", 5);
    add_amd_ext(x, "4", v.hwid, 8);
    sign(x, c.ask_key);
    unsigned char *der = NULL;
    int dn = i2d_X509(x, &der);
    ccz_snp_vek_info info;
    CHECK_OK(ccz_snp_vek_info_parse(&info, CCZ_SPAN(der, (size_t)dn)));
    CHECK_STR(info.product_name, "Turin");
    CHECK(info.has_fmc && !info.vlek);
    CHECK_INT(info.tcb.fmc, 5);
    CHECK_INT(info.tcb.bootloader, 1);
    CHECK_INT(info.tcb.tee, 2);
    CHECK_INT(info.tcb.snp, 3);
    CHECK_INT(info.tcb.microcode, 200);
    CHECK_INT(info.hwid_len, 8);
    CHECK(memcmp(info.hwid, v.hwid, 8) == 0);
    OPENSSL_free(der);
    X509_free(x);
    chain_free(&c);
}

/* The verified chain is remembered with its validity window: the same collateral used again
 * before the window opens or after it closes is refused, not answered from the cache. */
static void test_chain_window(void)
{
    amd_chain c;
    chain_new(&c, CCZ_SNP_GENOA);
    vek_spec v;
    report_spec rs;
    specs(1, &v, &rs);
    uint8_t rep[CCZ_SNP_REPORT_SIZE];
    make_report(rep, &rs, c.vek_key);
    ccz_collateral *col = collateral(&c, &v);
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.trust = c.trust;
    o.collateral = col;
    static ccz_result res;
    ccz_span r = CCZ_SPAN(rep, sizeof rep);
    o.at_unix = AT;
    CHECK_OK(ccz_verify(&res, r, &o)); /* verifies the chain, remembers it */
    o.at_unix = AT - 86400L * 366;
    CHECK_STATUS(ccz_verify(&res, r, &o), CCZ_ERR_NOT_YET_VALID);
    CHECK_STR(res.step, "platform_certificate");
    o.at_unix = AT;
    CHECK_OK(ccz_verify(&res, r, &o));
    o.at_unix = AT + 86400L * 366;
    CHECK_STATUS(ccz_verify(&res, r, &o), CCZ_ERR_EXPIRED);
    CHECK_STR(res.step, "platform_certificate");
    o.at_unix = AT + 86400L * 364;
    CHECK_OK(ccz_verify(&res, r, &o));
    ccz_collateral_free(col);
    chain_free(&c);
}

static void test_parse_errors(void)
{
    uint8_t rep[CCZ_SNP_REPORT_SIZE] = {2, 0, 0, 0};
    rep[0x34] = 1;
    ccz_snp_report r;
    CHECK_OK(ccz_snp_report_parse(&r, CCZ_SPAN(rep, sizeof rep), CCZ_SNP_UNKNOWN));
    CHECK_STATUS(ccz_snp_report_parse(&r, CCZ_SPAN(rep, sizeof rep - 1), CCZ_SNP_UNKNOWN),
                 CCZ_ERR_TRUNCATED);
    /* a byte more than a report (Azure's HCL report hands the parser a span of its own) */
    static uint8_t longer[CCZ_SNP_REPORT_SIZE + 1];
    memcpy(longer, rep, sizeof rep);
    CHECK_STATUS(ccz_snp_report_parse(&r, CCZ_SPAN(longer, sizeof longer), CCZ_SNP_UNKNOWN),
                 CCZ_ERR_TRAILING_DATA);
    CHECK_CONTAINS(ccz_error_detail(), "an SNP report is 1184 bytes, not 1185");
    rep[0] = 1;
    CHECK_STATUS(ccz_snp_report_parse(&r, CCZ_SPAN(rep, sizeof rep), CCZ_SNP_UNKNOWN),
                 CCZ_ERR_UNSUPPORTED);
    rep[0] = 3;
    rep[0x188] = 0x1a; /* Turin: family 1Ah */
    rep[0x180] = 7;    /* fmc */
    rep[0x181] = 3;    /* bootloader */
    CHECK_OK(ccz_snp_report_parse(&r, CCZ_SPAN(rep, sizeof rep), CCZ_SNP_UNKNOWN));
    CHECK_INT(r.product, CCZ_SNP_TURIN);
    CHECK(r.claims.reported_tcb.fmc == 7 && r.claims.reported_tcb.bootloader == 3);
    rep[0x48] = 3 << 2; /* reserved signing key selector */
    CHECK_STATUS(ccz_snp_report_parse(&r, CCZ_SPAN(rep, sizeof rep), CCZ_SNP_UNKNOWN),
                 CCZ_ERR_MALFORMED);
    ccz_snp_product p;
    CHECK_OK(ccz_snp_product_parse(&p, "genoa"));
    CHECK_INT(p, CCZ_SNP_GENOA);
    CHECK_STATUS(ccz_snp_product_parse(&p, "Rome"), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_OK(ccz_snp_product_parse(&p, "Milan-B0")); /* a stepping after the name */
    CHECK_INT(p, CCZ_SNP_MILAN);
    CHECK_STATUS(ccz_snp_product_parse(&p, "Turing"), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "unknown SEV-SNP product 'Turing' (Milan, Genoa or Turin)");
    CHECK_STATUS(ccz_snp_product_parse(&p, "Genoa2"), CCZ_ERR_INVALID_ARGUMENT);
    ccz_snp_tcb t;
    ccz_snp_tcb_decode(&t, 0x4405000000000002ull, CCZ_SNP_MILAN);
    CHECK(t.bootloader == 2 && t.tee == 0 && t.snp == 5 && t.microcode == 0x44);
    ccz_snp_tcb_decode(&t, 0x4d00000003020105ull, CCZ_SNP_TURIN);
    CHECK(t.fmc == 5 && t.bootloader == 1 && t.tee == 2 && t.snp == 3 && t.microcode == 0x4d);
}

/* An ARK is a root: a certificate another key signed (an ASK) is refused as one, by name. */
static void test_ark_must_be_root(void)
{
    amd_chain c;
    chain_new(&c, CCZ_SNP_GENOA);
    size_t n;
    char *ask = pem_of(c.ask, &n);
    CHECK_STATUS(ccz_trust_add_amd_ark(c.trust, CCZ_SPAN(ask, n)), CCZ_ERR_CERT_CHAIN);
    CHECK_CONTAINS(ccz_error_detail(), "an AMD root (ARK) must be self-signed");
    free(ask);
    chain_free(&c);
}

/* The report's fields the parser refuses: a version past 5, a signature algorithm other than
 * ECDSA P-384 with SHA-384 (the detector is not on every path: Azure's HCL report holds the SNP
 * report), and bits above 384 in either signature component. */
static void test_parse_refusals(void)
{
    uint8_t rep[CCZ_SNP_REPORT_SIZE] = {5, 0, 0, 0};
    rep[0x34] = 1;
    ccz_snp_report r;
    CHECK_OK(ccz_snp_report_parse(&r, CCZ_SPAN(rep, sizeof rep), CCZ_SNP_UNKNOWN));
    rep[0] = 6;
    CHECK_STATUS(ccz_snp_report_parse(&r, CCZ_SPAN(rep, sizeof rep), CCZ_SNP_UNKNOWN),
                 CCZ_ERR_UNSUPPORTED);
    CHECK_CONTAINS(ccz_error_detail(), "SNP report version 6 is not supported");
    rep[0] = 2;
    rep[0x34] = 2;
    CHECK_STATUS(ccz_snp_report_parse(&r, CCZ_SPAN(rep, sizeof rep), CCZ_SNP_UNKNOWN),
                 CCZ_ERR_UNSUPPORTED);
    CHECK_CONTAINS(ccz_error_detail(), "signature algorithm 2 is not ECDSA");
    rep[0x34] = 1;
    for (size_t i = 0; i < 2; i++) { /* r's byte 48, then s's byte 71 */
        size_t at = i ? 0x2a0 + 72 + 71 : 0x2a0 + 48;
        rep[at] = 1;
        CHECK_STATUS(ccz_snp_report_parse(&r, CCZ_SPAN(rep, sizeof rep), CCZ_SNP_UNKNOWN),
                     CCZ_ERR_MALFORMED);
        CHECK_CONTAINS(ccz_error_detail(), "signature component exceeds 384 bits");
        rep[at] = 0;
    }
}

/* A correctly signed report whose signature's s carries a nonzero byte beyond its 48
 * significant ones (the same r and s to a verifier that reads 48 bytes): refused, not a second
 * encoding of one signature. */
static void test_signature_padding(void)
{
    amd_chain c;
    chain_new(&c, CCZ_SNP_GENOA);
    vek_spec v;
    report_spec rs;
    specs(1, &v, &rs);
    uint8_t rep[CCZ_SNP_REPORT_SIZE];
    make_report(rep, &rs, c.vek_key);
    static ccz_result res;
    CHECK_OK(verify(&res, &c, &v, rep, NULL));
    rep[0x2a0 + 72 + 50] = 0x01;
    ccz_status st = verify(&res, &c, &v, rep, NULL);
    expect_fail("s beyond 384 bits", st, &res, CCZ_ERR_MALFORMED, "parse", "exceeds 384 bits");
    rep[0x2a0 + 72 + 50] = 0;
    /* r or s outside 1..n-1 (zero, or the group order itself): a signature that does not
     * verify, not an error of another kind */
    uint8_t n_le[48];
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_secp384r1);
    CHECK(g && BN_bn2lebinpad(EC_GROUP_get0_order(g), n_le, 48) == 48);
    EC_GROUP_free(g);
    for (int k = 0; k < 4; k++) {
        uint8_t bad[CCZ_SNP_REPORT_SIZE];
        memcpy(bad, rep, sizeof bad);
        uint8_t *at = bad + 0x2a0 + (k & 1 ? 72 : 0);
        if (k < 2)
            memset(at, 0, 48);
        else
            memcpy(at, n_le, 48);
        st = verify(&res, &c, &v, bad, NULL);
        expect_fail(k & 1 ? "s out of range" : "r out of range", st, &res, CCZ_ERR_BAD_SIGNATURE,
                    "signature", "the report signature does not verify with the VCEK");
    }
    chain_free(&c);
}

/* A report whose signing key selector says "no key" is refused even when a VCEK's signature
 * over it verifies. */
static void test_unsigned_report(void)
{
    amd_chain c;
    chain_new(&c, CCZ_SNP_MILAN);
    vek_spec v;
    report_spec rs;
    specs(0, &v, &rs);
    rs.key_sel = 7;
    uint8_t rep[CCZ_SNP_REPORT_SIZE];
    make_report(rep, &rs, c.vek_key);
    static ccz_result res;
    ccz_status st = verify(&res, &c, &v, rep, NULL);
    expect_fail("no signing key", st, &res, CCZ_ERR_UNSUPPORTED, "parse",
                "not signed (signing key selector 7)");
    chain_free(&c);
}

/* VEK certificates the verifier refuses: not named SEV-VCEK or SEV-VLEK, a TCB extension
 * missing, an SPL that is not an INTEGER 0..255 (negative, or above 255 where only the low byte
 * would be read), a hwID of another length; and one it reads: a hwID wrapped in an OCTET
 * STRING. */
static void test_vek_certificates(void)
{
    amd_chain c;
    chain_new(&c, CCZ_SNP_MILAN);
    vek_spec v;
    report_spec rs;
    specs(0, &v, &rs);
    ccz_collateral *col = NULL;
    CHECK_STATUS(try_collateral(&col, &c, &v, &(vek_variant){.cn = "SEV-Milan"}),
                 CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "certificate 'SEV-Milan' is not a VCEK or VLEK");
    CHECK(col == NULL);
    CHECK_STATUS(try_collateral(&col, &c, &v, &(vek_variant){.omit = "3.8"}), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "VEK certificate lacks ucodeSPL");
    CHECK_STATUS(try_collateral(&col, &c, &v, &(vek_variant){.omit = "4"}), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "VCEK certificate lacks hwID");
    static const struct {
        uint8_t der[5];
        size_t len;
    } bad[] = {
        {{0x02, 0x01, 0x84}, 3},             /* -124 */
        {{0x02, 0x02, 0x01, 0x04}, 4},       /* 260: its low byte is the VCEK's 4 */
        {{0x02, 0x00}, 2},                   /* empty */
        {{0x04, 0x01, 0x04}, 3},             /* an OCTET STRING */
        {{0x02, 0x03, 0x00, 0x00, 0x04}, 5}, /* 4 in three bytes */
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(bad); i++) {
        vek_variant w = {.spl_arc = "3.1", .spl_der = bad[i].der, .spl_len = bad[i].len};
        CHECK_STATUS(try_collateral(&col, &c, &v, &w), CCZ_ERR_MALFORMED);
        CHECK_CONTAINS(ccz_error_detail(), "blSPL is not an INTEGER 0..255");
    }
    /* the VCEK's INTEGER 4, then a byte more: refused, naming the extension */
    static const uint8_t tail[] = {0x02, 0x01, 0x04, 0x00};
    vek_variant tw = {.spl_arc = "3.1", .spl_der = tail, .spl_len = sizeof tail};
    CHECK_STATUS(try_collateral(&col, &c, &v, &tw), CCZ_ERR_TRAILING_DATA);
    CHECK_CONTAINS(ccz_error_detail(), "VEK certificate: blSPL: 1 unexpected bytes");
    /* an INTEGER whose length runs past the extension: refused, naming the extension too */
    static const uint8_t cut[] = {0x02, 0x05, 0x04};
    tw = (vek_variant){.spl_arc = "3.1", .spl_der = cut, .spl_len = sizeof cut};
    CHECK(try_collateral(&col, &c, &v, &tw) != CCZ_OK);
    CHECK_CONTAINS(ccz_error_detail(), "VEK certificate: blSPL: ");
    vek_spec v32 = v;
    v32.hwid_len = 32;
    CHECK_STATUS(try_collateral(&col, &c, &v32, NULL), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "VCEK hwID is 32 bytes");
    /* the hwID wrapped: read as the same 64 bytes, so the report verifies */
    CHECK_OK(try_collateral(&col, &c, &v, &(vek_variant){.wrap_hwid = true}));
    uint8_t rep[CCZ_SNP_REPORT_SIZE];
    make_report(rep, &rs, c.vek_key);
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.at_unix = AT;
    o.trust = c.trust;
    o.collateral = col;
    static ccz_result res;
    CHECK_OK(ccz_verify(&res, CCZ_SPAN(rep, sizeof rep), &o));
    ccz_collateral_free(col);
    chain_free(&c);
}

/* A VEK with a P-256 key, in a chain that verifies: refused for its key, by name. */
static void test_vek_key_type(void)
{
    amd_chain c;
    chain_new(&c, CCZ_SNP_GENOA);
    vek_spec v;
    report_spec rs;
    specs(1, &v, &rs);
    EVP_PKEY *p256 = EVP_EC_gen("P-256");
    CHECK(p256 != NULL);
    ccz_collateral *col = NULL;
    CHECK_OK(try_collateral(&col, &c, &v, &(vek_variant){.key = p256}));
    uint8_t rep[CCZ_SNP_REPORT_SIZE];
    make_report(rep, &rs, c.vek_key);
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.at_unix = AT;
    o.trust = c.trust;
    o.collateral = col;
    static ccz_result res;
    ccz_status st = ccz_verify(&res, CCZ_SPAN(rep, sizeof rep), &o);
    expect_fail("P-256 VEK", st, &res, CCZ_ERR_KEY_MALFORMED, "platform_certificate",
                "not an EC P-384 key");
    ccz_collateral_free(col);
    EVP_PKEY_free(p256);
    chain_free(&c);
}

/* A trust store without AMD roots: the failure names what is missing. */
static void test_no_amd_root(void)
{
    amd_chain c;
    chain_new(&c, CCZ_SNP_MILAN);
    vek_spec v;
    report_spec rs;
    specs(0, &v, &rs);
    uint8_t rep[CCZ_SNP_REPORT_SIZE];
    make_report(rep, &rs, c.vek_key);
    ccz_trust *none;
    CHECK_OK(ccz_trust_new(&none));
    ccz_collateral *col = collateral(&c, &v);
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.at_unix = AT;
    o.trust = none;
    o.collateral = col;
    static ccz_result res;
    ccz_status st = ccz_verify(&res, CCZ_SPAN(rep, sizeof rep), &o);
    expect_fail("no ARK", st, &res, CCZ_ERR_CERT_CHAIN, "platform_certificate",
                "no AMD root is trusted");
    ccz_collateral_free(col);
    ccz_trust_free(none);
    chain_free(&c);
}

/* A v2 report's bytes at 0x188 are reserved, not CPUID: a Turin family there in a v2 report
 * from a Milan chain is not read as a CPU. */
static void test_v2_cpuid_reserved(void)
{
    amd_chain c;
    chain_new(&c, CCZ_SNP_MILAN);
    vek_spec v;
    report_spec rs;
    specs(0, &v, &rs);
    rs.version = 2;
    rs.family = 0x1a, rs.model = 0x02;
    rs.cpuid_anyway = true;
    uint8_t rep[CCZ_SNP_REPORT_SIZE];
    make_report(rep, &rs, c.vek_key);
    static ccz_result res;
    CHECK_OK(verify(&res, &c, &v, rep, NULL));
    CHECK_STR(res.claims.snp.product, "Milan");
    chain_free(&c);
}

/* The CPU a v3 report names, at each end of each product's model range and just past it (AMD
 * family 19h models 00-0Fh Milan, 10-1Fh and A0-AFh Genoa; family 1Ah models 00-11h Turin):
 * anything else is no product, and the hint decides. */
static void test_cpuid_ranges(void)
{
    static const struct {
        uint8_t family, model;
        ccz_snp_product want;
    } cpus[] = {
        {0x19, 0x00, CCZ_SNP_MILAN},   {0x19, 0x0f, CCZ_SNP_MILAN},   {0x19, 0x10, CCZ_SNP_GENOA},
        {0x19, 0x1f, CCZ_SNP_GENOA},   {0x19, 0x20, CCZ_SNP_UNKNOWN}, {0x19, 0x9f, CCZ_SNP_UNKNOWN},
        {0x19, 0xa0, CCZ_SNP_GENOA},   {0x19, 0xaf, CCZ_SNP_GENOA},   {0x19, 0xb0, CCZ_SNP_UNKNOWN},
        {0x1a, 0x00, CCZ_SNP_TURIN},   {0x1a, 0x11, CCZ_SNP_TURIN},   {0x1a, 0x12, CCZ_SNP_UNKNOWN},
        {0x1b, 0x00, CCZ_SNP_UNKNOWN}, {0x18, 0x00, CCZ_SNP_UNKNOWN},
    };
    static uint8_t rep[CCZ_SNP_REPORT_SIZE];
    rep[0] = 3;
    rep[0x34] = 1;
    static ccz_snp_report r;
    for (size_t i = 0; i < CCZ_ARRAY_LEN(cpus); i++) {
        char label[32];
        snprintf(label, sizeof label, "family %02xh model %02xh", cpus[i].family, cpus[i].model);
        test_name = label;
        rep[0x188] = cpus[i].family;
        rep[0x189] = cpus[i].model;
        CHECK_OK(ccz_snp_report_parse(&r, CCZ_SPAN(rep, sizeof rep), CCZ_SNP_UNKNOWN));
        CHECK_INT(r.product, cpus[i].want);
        CHECK_INT(r.cpuid_family, cpus[i].family);
        CHECK_INT(r.cpuid_model, cpus[i].model);
        CHECK_OK(ccz_snp_report_parse(&r, CCZ_SPAN(rep, sizeof rep), CCZ_SNP_GENOA));
        CHECK_INT(r.product, cpus[i].want == CCZ_SNP_UNKNOWN ? CCZ_SNP_GENOA : cpus[i].want);
    }
    test_name = "test_cpuid_ranges";
}

/* A VLEK: no hwID, so the report's chip id (set here) is not compared with one; a report signed
 * by a VCEK is refused with it; one signed byte changed is refused naming the VLEK. */
static void test_vlek(void)
{
    amd_chain c;
    chain_new(&c, CCZ_SNP_GENOA);
    vek_spec v;
    report_spec rs;
    specs(1, &v, &rs);
    rs.key_sel = 1;
    uint8_t rep[CCZ_SNP_REPORT_SIZE];
    make_report(rep, &rs, c.vek_key);
    ccz_collateral *col = NULL;
    CHECK_OK(try_collateral(&col, &c, &v, &(vek_variant){.cn = "SEV-VLEK", .omit = "4"}));
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.at_unix = AT;
    o.trust = c.trust;
    o.collateral = col;
    static ccz_result res;
    CHECK_OK(ccz_verify(&res, CCZ_SPAN(rep, sizeof rep), &o));
    CHECK_INT(res.claims.snp.signing_key, CCZ_SNP_KEY_VLEK);
    CHECK(memcmp(res.claims.snp.chip_id, v.hwid, 64) == 0);
    rep[0x90] ^= 1; /* the measurement */
    ccz_status st = ccz_verify(&res, CCZ_SPAN(rep, sizeof rep), &o);
    expect_fail("VLEK, measurement changed", st, &res, CCZ_ERR_BAD_SIGNATURE, "signature",
                "the report signature does not verify with the VLEK");
    rs.key_sel = 0;
    make_report(rep, &rs, c.vek_key);
    st = ccz_verify(&res, CCZ_SPAN(rep, sizeof rep), &o);
    expect_fail("VCEK report, VLEK given", st, &res, CCZ_ERR_COLLATERAL_MISMATCH, "collateral",
                "the report is signed by a VCEK, the certificate given is a VLEK");
    ccz_collateral_free(col);
    chain_free(&c);
}

/* A trusted root that is not named ARK-<product> names no product: the VEK chain it ends is
 * refused, though every signature in it verifies. */
static void test_ark_name(void)
{
    static const char *const names[] = {"AMD-Milan", "ARK-Rome", "ARKMilan"};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(names); i++) {
        test_name = names[i];
        amd_chain c;
        chain_new_ark(&c, CCZ_SNP_MILAN, names[i]);
        vek_spec v;
        report_spec rs;
        specs(0, &v, &rs);
        uint8_t rep[CCZ_SNP_REPORT_SIZE];
        make_report(rep, &rs, c.vek_key);
        static ccz_result res;
        char want[96];
        snprintf(want, sizeof want, "the VEK chain ends in '%s', not an AMD ARK", names[i]);
        expect_fail("root name", verify(&res, &c, &v, rep, NULL), &res, CCZ_ERR_CERT_CHAIN,
                    "platform_certificate", want);
        chain_free(&c);
    }
    test_name = "test_ark_name";
}

/* The VEK's productName: an IA5String shorter than the field is read; one that fills it, or
 * another string type, is left out (it only describes). */
static void test_vek_product_name(void)
{
    amd_chain c;
    chain_new(&c, CCZ_SNP_MILAN);
    static const struct {
        uint8_t der[40];
        size_t len;
        const char *want;
    } names[] = {
        {{0x16, 8, 'M', 'i', 'l', 'a', 'n', '-', 'B', '0'}, 10, "Milan-B0"},
        {{0x16, 31,  'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A',
          'A',  'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A'},
         33,
         "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
        {{0x16, 32,  'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A',
          'A',  'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A'},
         34,
         ""},
        {{0x0c, 5, 'M', 'i', 'l', 'a', 'n'}, 7, ""}, /* a UTF8String */
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(names); i++) {
        X509 *x = cert("SEV-VCEK", c.vek_key, c.ask, false);
        add_amd_ext(x, "2", names[i].der, names[i].len);
        add_spl(x, "3.1", 1);
        add_spl(x, "3.2", 2);
        add_spl(x, "3.3", 3);
        add_spl(x, "3.8", 4);
        uint8_t hwid[64] = {0x11};
        add_amd_ext(x, "4", hwid, 64);
        sign(x, c.ask_key);
        unsigned char *der = NULL;
        int dn = i2d_X509(x, &der);
        static ccz_snp_vek_info info;
        memset(&info, 0x5a, sizeof info);
        CHECK_OK(ccz_snp_vek_info_parse(&info, CCZ_SPAN(der, (size_t)dn)));
        CHECK_STR(info.product_name, names[i].want);
        CHECK_INT(info.tcb.bootloader, 1);
        OPENSSL_free(der);
        X509_free(x);
    }
    chain_free(&c);
}

/* The hwID as AMD writes it, raw (64 bytes; Turin's 8) or in an OCTET STRING: raw bytes that
 * happen to read as an OCTET STRING stay raw; another wrapper, or an OCTET STRING with a byte
 * after it, is a hwID of the wrong length. */
static void test_hwid_encodings(void)
{
    for (size_t i = 0; i < sizeof products / sizeof products[0]; i += 2) { /* Milan, Turin */
        test_name = ccz_snp_product_name(products[i].product);
        amd_chain c;
        chain_new(&c, products[i].product);
        vek_spec v;
        report_spec rs;
        specs(i, &v, &rs);
        v.hwid[0] = 0x04; /* an OCTET STRING of the remaining bytes */
        v.hwid[1] = (uint8_t)(v.hwid_len - 2);
        memcpy(rs.chip_id, v.hwid, v.hwid_len);
        uint8_t rep[CCZ_SNP_REPORT_SIZE];
        make_report(rep, &rs, c.vek_key);
        static ccz_result res;
        CHECK_OK(verify(&res, &c, &v, rep, NULL));
        CHECK(memcmp(res.claims.snp.chip_id, v.hwid, v.hwid_len) == 0);
        chain_free(&c);
    }
    test_name = "test_hwid_encodings";
    amd_chain c;
    chain_new(&c, CCZ_SNP_MILAN);
    vek_spec v;
    report_spec rs;
    specs(0, &v, &rs);
    uint8_t der[2 + 64 + 1] = {0x30, 64};
    memcpy(der + 2, v.hwid, 64);
    ccz_collateral *col = NULL;
    CHECK_STATUS(try_collateral(&col, &c, &v, &(vek_variant){.hwid_der = der, .hwid_der_len = 66}),
                 CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "VCEK hwID is 66 bytes (64, or 8 on Turin, expected)");
    der[0] = 0x04;
    CHECK_STATUS(try_collateral(&col, &c, &v, &(vek_variant){.hwid_der = der, .hwid_der_len = 67}),
                 CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "VCEK hwID is 67 bytes (64, or 8 on Turin, expected)");
    CHECK(col == NULL);
    CHECK_OK(try_collateral(&col, &c, &v, &(vek_variant){.hwid_der = der, .hwid_der_len = 66}));
    ccz_collateral_free(col);
    chain_free(&c);
}

/* Detection by the version (2 to 5) and the signature algorithm (1) alone. */
static void test_detect(void)
{
    static uint8_t rep[CCZ_SNP_REPORT_SIZE];
    static const struct {
        uint8_t version, algo;
        ccz_tee want;
    } cases[] = {
        {2, 1, CCZ_TEE_SNP},  {5, 1, CCZ_TEE_SNP},  {1, 1, CCZ_TEE_NONE},
        {6, 1, CCZ_TEE_NONE}, {3, 0, CCZ_TEE_NONE}, {3, 2, CCZ_TEE_NONE},
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(cases); i++) {
        rep[0] = cases[i].version;
        rep[0x34] = cases[i].algo;
        CHECK_INT(ccz_evidence_detect(CCZ_SPAN(rep, sizeof rep)), cases[i].want);
    }
}

/* Writes the DER of a VEK for chain c (see vek_cert) where the VCEK cache keeps the report's. */
static void cache_put(const char *dir, const amd_chain *c, const vek_spec *v, const vek_variant *w,
                      const report_spec *rs)
{
    bool turin = c->product == CCZ_SNP_TURIN;
    char hwid[129], path[1024];
    for (size_t i = 0; i < (turin ? 8u : 64u); i++)
        snprintf(hwid + 2 * i, 3, "%02x", rs->chip_id[i]);
    snprintf(path, sizeof path, "%s/%s-%s-%u-%u-%u-%u-%u.der", dir,
             ccz_snp_product_name(c->product), hwid, rs->tcb.bootloader, rs->tcb.tee, rs->tcb.snp,
             rs->tcb.microcode, turin ? rs->tcb.fmc : 0);
    X509 *x = vek_cert(c, v, w);
    unsigned char *der = NULL;
    int dn = i2d_X509(x, &der);
    CHECK_OK(ccz_file_write(path, CCZ_SPAN(der, (size_t)dn), 0600));
    OPENSSL_free(der);
    X509_free(x);
}

/* The VCEK cache is no more trusted than KDS: an entry under the report's name that is a VLEK,
 * or a Turin VCEK whose 8-byte hwID is the chip id's start while the rest of the chip id is not
 * zero, is not used, and KDS (nothing listens here) is asked instead; the matching entry is. */
static void test_vcek_cache(void)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/vcek-cache", test_tmpdir());
    CHECK_OK(ccz_mkdir_p(dir, 0700));
    ccz_snp_vcek_fetch_opts o = CCZ_SNP_VCEK_FETCH_OPTS_INIT;
    o.kds_url = "https://127.0.0.1:1";
    o.cache_dir = dir;
    o.timeout_seconds = 5;
    ccz_buf out = CCZ_BUF_INIT;
    bool cached = true;
    uint8_t rep[CCZ_SNP_REPORT_SIZE];
    vek_spec v;
    report_spec rs;
    /* a VLEK cached for a Milan report with a zero chip id */
    amd_chain c;
    chain_new(&c, CCZ_SNP_MILAN);
    specs(0, &v, &rs);
    memset(rs.chip_id, 0, 64);
    make_report(rep, &rs, c.vek_key);
    cache_put(dir, &c, &v, &(vek_variant){.cn = "SEV-VLEK"}, &rs);
    CHECK_STATUS(ccz_snp_vcek_fetch(&out, &cached, CCZ_SPAN(rep, sizeof rep), &o), CCZ_ERR_NETWORK);
    CHECK(!cached && out.len == 0);
    chain_free(&c);
    /* a Turin VCEK, the report's chip id its hwID and then a nonzero byte */
    chain_new(&c, CCZ_SNP_TURIN);
    specs(2, &v, &rs);
    rs.chip_id[8] = 1;
    make_report(rep, &rs, c.vek_key);
    cache_put(dir, &c, &v, NULL, &rs);
    CHECK_STATUS(ccz_snp_vcek_fetch(&out, &cached, CCZ_SPAN(rep, sizeof rep), &o), CCZ_ERR_NETWORK);
    CHECK(!cached && out.len == 0);
    /* the same with the rest zero: the cached VCEK */
    rs.chip_id[8] = 0;
    make_report(rep, &rs, c.vek_key);
    CHECK_OK(ccz_snp_vcek_fetch(&out, &cached, CCZ_SPAN(rep, sizeof rep), &o));
    CHECK(cached && out.len > 0);
    static ccz_snp_vek_info info;
    CHECK_OK(ccz_snp_vek_info_parse(&info, ccz_buf_span(&out)));
    CHECK_INT(info.hwid_len, 8);
    CHECK(memcmp(info.hwid, v.hwid, 8) == 0);
    chain_free(&c);
    ccz_buf_free(&out);
}

/* ---- Azure SEV-SNP vTPM evidence over a chain made here -------------------------------------
 * The whole of it forged with this file's AMD chain (passed as collateral): an HCL report whose
 * SNP report binds the variable data, that variable data's vTPM attestation key, and a TPM
 * quote that key signs. Each check is then broken on its own in otherwise valid evidence. */

typedef struct {
    bool ek_first;            /* another RSA key (kid HCLEkPub) before the AK */
    bool kidless_first;       /* an RSA key with no "kid" before the AK */
    bool empty_nonce;         /* the quote's extraData empty */
    const uint8_t *init_hash; /* PCR 8 as this init data hash needs it; NULL: 0x18 bytes */
    bool ec_ak;               /* the AK an EC P-256 key */
    const char *ud_json;      /* "user-data" as JSON text; NULL: the 64-byte nonce in hex */
    uint8_t pcr_select2;      /* the third PCR selection byte (0xff: all 24) */
    bool break_binding;       /* report data bytes 16..31 not SHA-256(var data)'s */
    bool junk_vcek;           /* the evidence's own "vcek" unusable (the collateral has the VCEK) */
    const char *cfg_json;     /* "vm-configuration" as JSON text; NULL: all three flags true */
} az_spec;

static void b64url_member(json_t *o, const char *name, const uint8_t *p, size_t n)
{
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_OK(jose_b64url_encode(&b, CCZ_SPAN(p, n)));
    json_object_set_new(o, name, json_stringn((const char *)b.ptr, b.len));
    ccz_buf_free(&b);
}

static json_t *rsa_jwk(EVP_PKEY *k, const char *kid)
{
    json_t *j = json_pack("{s:s, s:s}", "kty", "RSA", "kid", kid);
    const char *names[] = {"n", "e"};
    for (int i = 0; i < 2; i++) {
        BIGNUM *bn = NULL;
        CHECK(EVP_PKEY_get_bn_param(k, names[i], &bn) == 1);
        uint8_t buf[512];
        int n = BN_bn2bin(bn, buf);
        b64url_member(j, names[i], buf, (size_t)n);
        BN_free(bn);
    }
    return j;
}

static void put_be(ccz_buf *b, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--)
        CHECK_OK(ccz_buf_append_u8(b, (uint8_t)(v >> (8 * i))));
}

static void hex_of(char *out, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", p[i]);
}

/* Evidence (version 2 JSON) per the spec, its nonce and user-data being nonce[64]. */
static void az_evidence(ccz_buf *out, const amd_chain *c, const az_spec *a, EVP_PKEY *rsa_ak,
                        EVP_PKEY *rsa_ek, const uint8_t nonce[64])
{
    EVP_PKEY *ak = rsa_ak;
    if (a->ec_ak)
        CHECK((ak = EVP_EC_gen("P-256")) != NULL);
    /* the variable data */
    json_t *keys = json_array();
    if (a->ek_first)
        json_array_append_new(keys, rsa_jwk(rsa_ek, "HCLEkPub"));
    if (a->kidless_first) {
        json_t *k = rsa_jwk(rsa_ek, "-");
        json_object_del(k, "kid");
        json_array_append_new(keys, k);
    }
    json_t *akj = NULL;
    if (a->ec_ak) {
        CHECK_OK(jose_jwk_from_key(&akj, ak, NULL, NULL));
        json_object_set_new(akj, "kid", json_string("HCLAkPub"));
    } else {
        akj = rsa_jwk(ak, "HCLAkPub");
    }
    json_array_append_new(keys, akj);
    char ud[129];
    hex_of(ud, nonce, 64);
    json_t *var =
        json_pack("{s:o, s:{s:b, s:b, s:b, s:s}}", "keys", keys, "vm-configuration", "secure-boot",
                  1, "tpm-enabled", 1, "console-enabled", 1, "vmUniqueId", "5EC0A1B2-ccz-test");
    if (a->cfg_json)
        json_object_set_new(var, "vm-configuration", json_loads(a->cfg_json, 0, NULL));
    if (a->ud_json)
        json_object_set_new(var, "user-data", json_loads(a->ud_json, JSON_DECODE_ANY, NULL));
    else
        json_object_set_new(var, "user-data", json_string(ud));
    char *var_text = json_dumps(var, JSON_COMPACT);
    json_decref(var);
    size_t var_len = strlen(var_text);
    /* the SNP report binding it */
    uint8_t rd[64] = {0};
    CHECK(EVP_Digest(var_text, var_len, rd, NULL, EVP_sha256(), NULL) == 1);
    if (a->break_binding)
        rd[20] ^= 0x01;
    vek_spec v;
    report_spec rs;
    specs(0, &v, &rs);
    rs.report_data = rd;
    uint8_t rep[CCZ_SNP_REPORT_SIZE];
    make_report(rep, &rs, c->vek_key);
    /* the HCL report */
    ccz_buf hcl = CCZ_BUF_INIT;
    uint8_t hdr[32] = {'H', 'C', 'L', 'A', 1};
    CHECK_OK(ccz_buf_append(&hcl, hdr, sizeof hdr));
    CHECK_OK(ccz_buf_append(&hcl, rep, sizeof rep));
    uint32_t tail[] = {(uint32_t)var_len + 20, 1, 2, 1, (uint32_t)var_len};
    for (size_t i = 0; i < 5; i++)
        CHECK_OK(ccz_buf_append_u32le(&hcl, tail[i]));
    CHECK_OK(ccz_buf_append(&hcl, var_text, var_len));
    free(var_text);
    /* the PCRs and the quote (TPMS_ATTEST) */
    uint8_t pcrs[24][32];
    for (int i = 0; i < 24; i++)
        memset(pcrs[i], 0x10 + i, 32);
    if (a->init_hash)
        CHECK_OK(ccz_az_init_data_pcr(pcrs[8], a->init_hash));
    uint8_t digest[32];
    CHECK(EVP_Digest(pcrs, sizeof pcrs, digest, NULL, EVP_sha256(), NULL) == 1);
    ccz_buf m = CCZ_BUF_INIT;
    put_be(&m, 0xff544347, 4);
    put_be(&m, 0x8018, 2);
    put_be(&m, 0, 2); /* qualifiedSigner */
    put_be(&m, a->empty_nonce ? 0 : 64, 2);
    if (!a->empty_nonce)
        CHECK_OK(ccz_buf_append(&m, nonce, 64));
    put_be(&m, 123456, 8); /* clock */
    put_be(&m, 1, 4);
    put_be(&m, 2, 4);
    put_be(&m, 1, 1);
    put_be(&m, 0x2020, 8); /* firmware */
    put_be(&m, 1, 4);      /* one bank: SHA-256, 3 selection bytes */
    put_be(&m, 0x000b, 2);
    put_be(&m, 3, 1);
    put_be(&m, 0xffff00 | a->pcr_select2, 3);
    put_be(&m, 32, 2);
    CHECK_OK(ccz_buf_append(&m, digest, 32));
    uint8_t sig[512];
    size_t sl = sizeof sig;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    CHECK(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, ak) == 1 &&
          EVP_DigestSign(md, sig, &sl, m.ptr, m.len) == 1);
    EVP_MD_CTX_free(md);
    /* the document */
    json_t *pl = json_array();
    for (int i = 0; i < 24; i++) {
        char h[65];
        hex_of(h, pcrs[i], 32);
        json_array_append_new(pl, json_string(h));
    }
    char *mh = malloc(2 * m.len + 1), sh[1025];
    hex_of(mh, m.ptr, m.len);
    hex_of(sh, sig, sl);
    json_t *doc = json_pack("{s:i, s:{s:s, s:s, s:o}}", "version", 2, "tpm_quote", "signature", sh,
                            "message", mh, "pcrs", pl);
    free(mh);
    b64url_member(doc, "hcl_report", hcl.ptr, hcl.len);
    if (a->junk_vcek) {
        b64url_member(doc, "vcek", (const uint8_t *)"junk", 4);
    } else {
        unsigned char *der = NULL;
        X509 *x = vek_cert(c, &v, NULL);
        int dn = i2d_X509(x, &der);
        b64url_member(doc, "vcek", der, (size_t)dn);
        OPENSSL_free(der);
        X509_free(x);
    }
    char *text = json_dumps(doc, JSON_COMPACT);
    ccz_buf_reset(out);
    CHECK_OK(ccz_buf_append_str(out, text));
    free(text);
    json_decref(doc);
    ccz_buf_free(&hcl);
    ccz_buf_free(&m);
    if (ak != rsa_ak)
        EVP_PKEY_free(ak);
}

static void test_azure_forged(void)
{
    amd_chain c;
    chain_new(&c, CCZ_SNP_MILAN);
    vek_spec v;
    report_spec rs;
    specs(0, &v, &rs);
    ccz_collateral *col = collateral(&c, &v);
    EVP_PKEY *ak = EVP_RSA_gen(2048), *ek = EVP_RSA_gen(2048);
    CHECK(ak && ek);
    uint8_t nonce[64];
    for (int i = 0; i < 64; i++)
        nonce[i] = (uint8_t)(0x40 + i);
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.at_unix = AT;
    o.trust = c.trust;
    o.collateral = col;
    o.expected_report_data = nonce;
    ccz_buf ev = CCZ_BUF_INIT;
    static ccz_result res;
    /* valid; the evidence's own "vcek" is not used when collateral is given */
    const az_spec ok = {.pcr_select2 = 0xff, .junk_vcek = true};
    az_evidence(&ev, &c, &ok, ak, ek, nonce);
    CHECK_INT(ccz_evidence_detect(ccz_buf_span(&ev)), CCZ_TEE_AZ_SNP_VTPM);
    CHECK_OK(ccz_verify(&res, ccz_buf_span(&ev), &o));
    CHECK_INT(res.claims.tee, CCZ_TEE_AZ_SNP_VTPM);
    CHECK_INT(res.claims.vtpm.secure_boot, 1);
    CHECK_INT(res.claims.vtpm.tpm_enabled, 1);
    CHECK_INT(res.claims.vtpm.console_enabled, 1);
    CHECK_STR(res.claims.vtpm.vm_unique_id, "5EC0A1B2-ccz-test");
    CHECK(memcmp(res.claims.vtpm.user_data, nonce, 64) == 0);
    CHECK_STR(res.claims.snp.product, "Milan");
    /* the AK found by its kid, after another key */
    az_spec a = ok;
    a.ek_first = true;
    az_evidence(&ev, &c, &a, ak, ek, nonce);
    CHECK_OK(ccz_verify(&res, ccz_buf_span(&ev), &o));
    ccz_status st;
    /* a key with no "kid" before the AK: passed over */
    a = ok;
    a.kidless_first = true;
    az_evidence(&ev, &c, &a, ak, ek, nonce);
    CHECK_OK(ccz_verify(&res, ccz_buf_span(&ev), &o));
    /* an empty nonce: the claims show 64 zero bytes; with a report data expected, refused */
    a = ok;
    a.empty_nonce = true;
    az_evidence(&ev, &c, &a, ak, ek, nonce);
    ccz_verify_opts any = o;
    any.expected_report_data = NULL;
    CHECK_OK(ccz_verify(&res, ccz_buf_span(&ev), &any));
    static const uint8_t zero64[64];
    CHECK_INT(res.claims.report_data_len, 64);
    CHECK(memcmp(res.claims.report_data, zero64, 64) == 0);
    st = ccz_verify(&res, ccz_buf_span(&ev), &o);
    expect_fail("empty nonce", st, &res, CCZ_ERR_REPORT_DATA_MISMATCH, "report_data",
                "the vTPM quote's nonce (extraData) is not the expected report data");
    /* the expected report data differing from the nonce in its last byte only, the user-data
     * being that report data; then the user-data differing in its last byte only */
    uint8_t other[64];
    memcpy(other, nonce, 64);
    other[63] ^= 0x01;
    char ud[2 + 128 + 1];
    ud[0] = '"';
    hex_of(ud + 1, other, 64);
    strcpy(ud + 129, "\"");
    a = ok;
    a.ud_json = ud;
    az_evidence(&ev, &c, &a, ak, ek, nonce);
    ccz_verify_opts oo = o;
    oo.expected_report_data = other;
    st = ccz_verify(&res, ccz_buf_span(&ev), &oo);
    expect_fail("nonce's last byte", st, &res, CCZ_ERR_REPORT_DATA_MISMATCH, "report_data",
                "the vTPM quote's nonce (extraData) is not the expected report data");
    st = ccz_verify(&res, ccz_buf_span(&ev), &o);
    expect_fail("user-data's last byte", st, &res, CCZ_ERR_REPORT_DATA_MISMATCH, "report_data",
                "the HCL variable data's user-data is not the expected report data");
    /* PCR 8 holding an init data hash: that hash verifies, one differing in its last byte not */
    uint8_t ih[32];
    memset(ih, 0x5c, 32);
    a = ok;
    a.init_hash = ih;
    az_evidence(&ev, &c, &a, ak, ek, nonce);
    ccz_verify_opts oi = o;
    oi.expected_init_data_hash = ih;
    CHECK_OK(ccz_verify(&res, ccz_buf_span(&ev), &oi));
    ih[31] ^= 0x01;
    st = ccz_verify(&res, ccz_buf_span(&ev), &oi);
    expect_fail("init data", st, &res, CCZ_ERR_INIT_DATA_MISMATCH, "init_data",
                "the init data hash given needs");
    /* an EC attestation key, though the quote verifies with it */
    a = ok;
    a.ec_ak = true;
    az_evidence(&ev, &c, &a, ak, ek, nonce);
    st = ccz_verify(&res, ccz_buf_span(&ev), &o);
    expect_fail("EC AK", st, &res, CCZ_ERR_KEY_MALFORMED, "parse", "HCLAkPub");
    /* user-data of 65 bytes, and not a string */
    static const char *const bad_ud[] = {
        "\"404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a"
        "6b6c6d6e6f707172737475767778797a7b7c7d7e7f80\"",
        "64"};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(bad_ud); i++) {
        a = ok;
        a.ud_json = bad_ud[i];
        az_evidence(&ev, &c, &a, ak, ek, nonce);
        st = ccz_verify(&res, ccz_buf_span(&ev), &o);
        expect_fail("user-data", st, &res, CCZ_ERR_MALFORMED, "parse", "\"user-data\"");
    }
    /* user-data that is not hex */
    a = ok;
    a.ud_json = "\"zz\"";
    az_evidence(&ev, &c, &a, ak, ek, nonce);
    st = ccz_verify(&res, ccz_buf_span(&ev), &o);
    expect_fail("user-data hex", st, &res, CCZ_ERR_ENCODING, "parse", "\"user-data\"");
    /* the configuration's flags: a JSON boolean each, anything else (a string, a number, no
     * member) unknown (-1), never read as true */
    a = ok;
    a.cfg_json = "{\"secure-boot\": \"true\", \"tpm-enabled\": false, \"console-enabled\": 1}";
    az_evidence(&ev, &c, &a, ak, ek, nonce);
    CHECK_OK(ccz_verify(&res, ccz_buf_span(&ev), &o));
    CHECK_INT(res.claims.vtpm.secure_boot, -1);
    CHECK_INT(res.claims.vtpm.tpm_enabled, 0);
    CHECK_INT(res.claims.vtpm.console_enabled, -1);
    CHECK_STR(res.claims.vtpm.vm_unique_id, "");
    a.cfg_json = "{\"secure-boot\": false, \"tpm-enabled\": null}";
    az_evidence(&ev, &c, &a, ak, ek, nonce);
    CHECK_OK(ccz_verify(&res, ccz_buf_span(&ev), &o));
    CHECK_INT(res.claims.vtpm.secure_boot, 0);
    CHECK_INT(res.claims.vtpm.tpm_enabled, -1);
    CHECK_INT(res.claims.vtpm.console_enabled, -1);
    /* a quote of PCRs 0-22 only */
    a = ok;
    a.pcr_select2 = 0x7f;
    az_evidence(&ev, &c, &a, ak, ek, nonce);
    st = ccz_verify(&res, ccz_buf_span(&ev), &o);
    expect_fail("PCR selection", st, &res, CCZ_ERR_UNSUPPORTED, "tpm_quote",
                "selects PCRs 0x007fffff");
    /* the variable data's hash in the report data, but for one byte of its second half */
    a = ok;
    a.break_binding = true;
    az_evidence(&ev, &c, &a, ak, ek, nonce);
    st = ccz_verify(&res, ccz_buf_span(&ev), &o);
    expect_fail("binding", st, &res, CCZ_ERR_BINDING, "hcl_report", "variable data's SHA-256");
    ccz_buf_free(&ev);
    EVP_PKEY_free(ak);
    EVP_PKEY_free(ek);
    ccz_collateral_free(col);
    chain_free(&c);
}

TEST_MAIN(T(test_parse_errors), T(test_each_product), T(test_each_tcb_component),
          T(test_cpu_against_chain), T(test_chip_id), T(test_turin_vek_info), T(test_chain_window),
          T(test_ark_must_be_root), T(test_parse_refusals), T(test_signature_padding),
          T(test_unsigned_report), T(test_vek_certificates), T(test_vek_key_type),
          T(test_no_amd_root), T(test_v2_cpuid_reserved), T(test_cpuid_ranges), T(test_vlek),
          T(test_ark_name), T(test_vek_product_name), T(test_hwid_encodings), T(test_detect),
          T(test_vcek_cache), T(test_azure_forged))
