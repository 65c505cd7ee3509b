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

#include "ccz/ccz.h"
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

static void chain_new(amd_chain *c, ccz_snp_product p)
{
    memset(c, 0, sizeof *c);
    c->product = p;
    char cn[32];
    c->ark_key = p384();
    c->ask_key = p384();
    c->vek_key = p384();
    snprintf(cn, sizeof cn, "ARK-%s", ccz_snp_product_name(p));
    c->ark = cert(cn, c->ark_key, NULL, true);
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

static void chain_free(amd_chain *c)
{
    EVP_PKEY_free(c->ark_key);
    EVP_PKEY_free(c->ask_key);
    EVP_PKEY_free(c->vek_key);
    X509_free(c->ark);
    X509_free(c->ask);
    ccz_trust_free(c->trust);
}

/* Collateral for the chain: a VCEK (key vek_key) with the given TCB and hwID, then ASK + ARK. */
static ccz_collateral *collateral(const amd_chain *c, const vek_spec *v)
{
    X509 *x = cert("SEV-VCEK", c->vek_key, c->ask, false);
    char name[32];
    snprintf(name, sizeof name, "%s", ccz_snp_product_name(c->product));
    uint8_t ia5[40] = {0x16, (uint8_t)strlen(name)};
    memcpy(ia5 + 2, name, strlen(name));
    add_amd_ext(x, "2", ia5, 2 + strlen(name));
    add_spl(x, "3.1", v->tcb.bootloader);
    add_spl(x, "3.2", v->tcb.tee);
    add_spl(x, "3.3", v->tcb.snp);
    add_spl(x, "3.8", v->tcb.microcode);
    if (v->fmc)
        add_spl(x, "3.9", v->tcb.fmc);
    add_amd_ext(x, "4", v->hwid, v->hwid_len);
    sign(x, c->ask_key);
    unsigned char *der = NULL;
    int dn = i2d_X509(x, &der);
    size_t an, kn;
    char *ask = pem_of(c->ask, &kn), *ark = pem_of(c->ark, &an);
    char *both = malloc(an + kn + 1);
    memcpy(both, ask, kn);
    memcpy(both + kn, ark, an + 1);
    ccz_collateral *col = NULL;
    CHECK_OK(ccz_snp_collateral_new(&col, CCZ_SPAN(der, (size_t)dn), CCZ_SPAN(both, an + kn)));
    OPENSSL_free(der);
    free(ask);
    free(ark);
    free(both);
    X509_free(x);
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
    put_le(rep + 0x48, s->mask_chip_key ? 2 : 0, 4);
    for (int i = 0; i < 64; i++)
        rep[0x50 + i] = (uint8_t)(0xd0 + i); /* report data */
    memset(rep + 0x90, 0x4d, 48);            /* measurement */
    put_le(rep + 0x180, tcb, 8);             /* reported */
    if (s->version >= 3) {
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

TEST_MAIN(T(test_parse_errors), T(test_each_product), T(test_each_tcb_component),
          T(test_cpu_against_chain), T(test_chip_id), T(test_turin_vek_info), T(test_chain_window),
          T(test_ark_must_be_root))
