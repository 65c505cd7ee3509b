/* SPDX-License-Identifier: Apache-2.0 */
/* SEV-SNP against the recorded reports and VEKs of ../shared/vectors: every case of
 * snp_cases.json field for field; one flipped byte in each region of the report (each TCB
 * component on its own) and in the certificates gives its specific failure; a VCEK of another
 * TCB gives tcb_mismatch; a report naming another CPU than its VEK chain is refused. Needs the
 * vectors: every test calls vectors_require() first (tests without vectors: test_snp.c). Also the
 * VEK window inclusive at both ends, and the default policy's VMPL floor. */
#include <jansson.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ccz/ccz.h"
#include "test.h"
#include "vectors.h"

#define GOSEV_REPORT "google_go-sev-guest/verify/testdata/attestation.bin"
#define GOSEV_VCEK "google_go-sev-guest/verify/testdata/vcek.testcer"
#define VIRTEE_VCEK "virtee_sev/tests/certs_data/vcek_milan.der"
#define TRUSTEE_REPORT                                                                             \
    "confidential-containers_trustee/deps/verifier/test_data/snp/test-vlek-report.bin"
#define TRUSTEE_VLEK "confidential-containers_trustee/deps/verifier/test_data/snp/test-vlek.der"
#define MILAN_CHAIN "google_go-sev-guest/verify/trust/ask_ark_milan.pem"
#define AT 1767225600 /* 2026-01-01: the go-sev-guest and virtee VCEKs are valid */

static ccz_trust *trust;

static ccz_status verify(ccz_result *r, ccz_span report, const char *vek, const char *chain,
                         int64_t at)
{
    if (!trust) {
        CHECK_OK(ccz_trust_new(&trust));
        CHECK_OK(ccz_trust_add_builtin(trust));
    }
    ccz_buf v = CCZ_BUF_INIT, c = CCZ_BUF_INIT;
    CHECK_OK(vectors_read(&v, vek, false));
    if (chain)
        CHECK_OK(vectors_read(&c, chain, false));
    ccz_collateral *col = NULL;
    ccz_status s = ccz_snp_collateral_new(&col, ccz_buf_span(&v), ccz_buf_span(&c));
    if (s == CCZ_OK) {
        ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
        o.at_unix = at;
        o.trust = trust;
        o.collateral = col;
        s = ccz_verify(r, report, &o);
    }
    ccz_collateral_free(col);
    ccz_buf_free(&v);
    ccz_buf_free(&c);
    return s;
}

static void test_cases(void)
{
    vectors_require();
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_OK(vectors_read(&b, "snp_cases.json", false));
    json_t *cases = json_loadb((const char *)b.ptr, b.len, 0, NULL);
    size_t i;
    json_t *tc;
    int ran = 0;
    json_array_foreach (cases, i, tc) {
        const char *id = json_string_value(json_object_get(tc, "id"));
        const char *rep = json_string_value(json_object_get(tc, "report"));
        const json_t *want = json_object_get(tc, "verify");
        ccz_buf r = CCZ_BUF_INIT;
        size_t n = strlen(rep);
        CHECK_OK(vectors_read(&r, rep, n > 4 && strcmp(rep + n - 4, ".hex") == 0));
        static ccz_result res;
        test_name = id;
        CHECK_OK(verify(&res, ccz_buf_span(&r), json_string_value(json_object_get(tc, "vek")), NULL,
                        json_integer_value(json_object_get(tc, "now_unix"))));
        CHECK(json_is_true(json_object_get(want, "ok")));
        const ccz_snp_claims *s = &res.claims.snp;
        CHECK_INT(res.claims.tee, CCZ_TEE_SNP);
        CHECK_INT(s->version, json_integer_value(json_object_get(want, "version")));
        CHECK_INT(s->vmpl, json_integer_value(json_object_get(want, "vmpl")));
        char pol[24];
        snprintf(pol, sizeof pol, "0x%llx", (unsigned long long)s->policy);
        CHECK_STR(pol, json_string_value(json_object_get(want, "policy")));
        CHECK(res.claims.debug == json_is_true(json_object_get(want, "debug_allowed")));
        CHECK_STR(s->signing_key == CCZ_SNP_KEY_VLEK ? "vlek" : "vcek",
                  json_string_value(json_object_get(want, "signing_key")));
        /* the product the VEK names (its productName, "Milan-B0" -> "Milan") */
        ccz_buf vb = CCZ_BUF_INIT;
        ccz_snp_vek_info vi;
        CHECK_OK(vectors_read(&vb, json_string_value(json_object_get(tc, "vek")), false));
        CHECK_OK(ccz_snp_vek_info_parse(&vi, ccz_buf_span(&vb)));
        vi.product_name[strcspn(vi.product_name, "-")] = '\0';
        CHECK(vi.product_name[0] != '\0');
        CHECK_STR(s->product, vi.product_name);
        ccz_buf_free(&vb);
        printf("  %-24s v%u vmpl %u policy %s %s\n", id, s->version, s->vmpl, pol,
               s->signing_key == CCZ_SNP_KEY_VLEK ? "vlek" : "vcek");
        ccz_buf_free(&r);
        ran++;
    }
    test_name = "test_cases";
    CHECK_INT(ran, json_array_size(cases));
    json_decref(cases);
    ccz_buf_free(&b);
}

static void test_known_fields(void)
{
    vectors_require();
    ccz_buf r = CCZ_BUF_INIT;
    CHECK_OK(vectors_read(&r, GOSEV_REPORT, false));
    static ccz_result res;
    CHECK_OK(verify(&res, ccz_buf_span(&r), GOSEV_VCEK, MILAN_CHAIN, AT));
    const ccz_snp_tcb *t = &res.claims.snp.reported_tcb;
    CHECK(t->bootloader == 2 && t->tee == 0 && t->snp == 5 && t->microcode == 68);
    CHECK(res.claims.report_data[0] == 1 && res.claims.report_data[4] == 5 &&
          res.claims.report_data[5] == 0);
    ccz_snp_vek_info info;
    ccz_buf v = CCZ_BUF_INIT;
    CHECK_OK(vectors_read(&v, GOSEV_VCEK, false));
    CHECK_OK(ccz_snp_vek_info_parse(&info, ccz_buf_span(&v)));
    CHECK_STR(info.product_name, "Milan-B0");
    CHECK_INT(info.hwid_len, 64);
    CHECK(memcmp(info.hwid, res.claims.snp.chip_id, 64) == 0);
    ccz_buf_reset(&v);
    CHECK_OK(vectors_read(&v, VIRTEE_VCEK, false)); /* hwID wrapped in an OCTET STRING */
    CHECK_OK(ccz_snp_vek_info_parse(&info, ccz_buf_span(&v)));
    CHECK_INT(info.hwid_len, 64);
    CHECK(info.tcb.microcode == 115 && info.tcb.snp == 8);
    ccz_buf_reset(&v);
    CHECK_OK(vectors_read(&v, TRUSTEE_VLEK, false)); /* two-byte INTEGER microcode */
    CHECK_OK(ccz_snp_vek_info_parse(&info, ccz_buf_span(&v)));
    CHECK(info.vlek && info.tcb.microcode == 217 && info.hwid_len == 0);
    ccz_buf_free(&v);
    ccz_buf_free(&r);
}

static void flip(const char *what, size_t off, uint8_t mask, ccz_status want, const char *step)
{
    ccz_buf r = CCZ_BUF_INIT;
    CHECK_OK(vectors_read(&r, GOSEV_REPORT, false));
    r.ptr[off] ^= mask;
    static ccz_result res;
    ccz_status got = verify(&res, ccz_buf_span(&r), GOSEV_VCEK, NULL, AT);
    if (got != want || (step && (!res.step || strcmp(res.step, step) != 0))) {
        fprintf(stderr, "%s: %s: got %s at %s (%s), want %s at %s\n", test_name, what,
                ccz_status_name(got), res.step ? res.step : "-", res.message, ccz_status_name(want),
                step ? step : "-");
        test_failures++;
    }
    ccz_buf_free(&r);
}

static void test_tamper_report(void)
{
    vectors_require();
    flip("guest svn", 0x04, 1, CCZ_ERR_BAD_SIGNATURE, "signature");
    flip("policy", 0x08, 1, CCZ_ERR_BAD_SIGNATURE, "signature");
    flip("measurement", 0x90 + 7, 0x80, CCZ_ERR_BAD_SIGNATURE, "signature");
    flip("report data", 0x50, 1, CCZ_ERR_BAD_SIGNATURE, "signature");
    flip("host data", 0xc0, 1, CCZ_ERR_BAD_SIGNATURE, "signature");
    flip("reported TCB", 0x187, 1, CCZ_ERR_TCB_MISMATCH, "platform_certificate");
    flip("reported TCB, reserved byte", 0x183, 1, CCZ_ERR_BAD_SIGNATURE, "signature");
    flip("chip id", 0x1a0 + 9, 1, CCZ_ERR_CHIP_ID_MISMATCH, "platform_certificate");
    flip("signing key selector", 0x48, 0x04, CCZ_ERR_COLLATERAL_MISMATCH, "collateral");
    flip("launch TCB", 0x1f0, 1, CCZ_ERR_BAD_SIGNATURE, "signature");
    flip("signature r", 0x2a0 + 3, 1, CCZ_ERR_BAD_SIGNATURE, "signature");
    flip("signature s", 0x2a0 + 72 + 40, 1, CCZ_ERR_BAD_SIGNATURE, "signature");
    flip("signature r beyond 384 bits", 0x2a0 + 60, 1, CCZ_ERR_MALFORMED, "parse");
    flip("version", 0x00, 0x08, CCZ_ERR_UNKNOWN_FORMAT, "detect");
    flip("signature algorithm", 0x34, 2, CCZ_ERR_UNKNOWN_FORMAT, "detect");
}

/* Each component of the reported TCB (Milan layout: bootloader, tee, snp, microcode at bytes 0,
 * 1, 6, 7), changed alone, no longer matches the VCEK's; the message names the report's values. */
static void test_tcb_components(void)
{
    vectors_require();
    static const struct {
        const char *what;
        size_t byte;
        const char *message;
    } parts[] = {
        {"bootloader", 0, "(bootloader 3, tee 0, snp 5, microcode 68"},
        {"tee", 1, "(bootloader 2, tee 1, snp 5, microcode 68"},
        {"snp", 6, "(bootloader 2, tee 0, snp 4, microcode 68"},
        {"microcode", 7, "(bootloader 2, tee 0, snp 5, microcode 69"},
    };
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        test_name = parts[i].what;
        ccz_buf r = CCZ_BUF_INIT;
        CHECK_OK(vectors_read(&r, GOSEV_REPORT, false));
        r.ptr[0x180 + parts[i].byte] ^= 1;
        static ccz_result res;
        CHECK_STATUS(verify(&res, ccz_buf_span(&r), GOSEV_VCEK, NULL, AT), CCZ_ERR_TCB_MISMATCH);
        CHECK_STR(res.step, "platform_certificate");
        CHECK_CONTAINS(res.message, parts[i].message);
        ccz_buf_free(&r);
    }
    test_name = "test_tcb_components";
}

/* A v3 report names its CPU; a VEK chain of another product is refused before the signature
 * (trustee's Milan VLEK report, its CPUID model changed to a Genoa and a Turin one). */
static void test_cpu_against_chain(void)
{
    vectors_require();
    static const struct {
        uint8_t family, model;
        const char *message;
    } cpus[] = {
        {0x19, 0x11, "from a Genoa CPU, the VEK chain is Milan's"},
        {0x19, 0xa0, "from a Genoa CPU, the VEK chain is Milan's"},
        {0x1a, 0x02, "from a Turin CPU, the VEK chain is Milan's"},
    };
    for (size_t i = 0; i < sizeof cpus / sizeof cpus[0]; i++) {
        ccz_buf r = CCZ_BUF_INIT;
        CHECK_OK(vectors_read(&r, TRUSTEE_REPORT, false));
        CHECK_INT(r.ptr[0x188], 0x19); /* a Milan report as recorded */
        CHECK(r.ptr[0x189] <= 0x0f);
        r.ptr[0x188] = cpus[i].family;
        r.ptr[0x189] = cpus[i].model;
        static ccz_result res;
        CHECK_STATUS(verify(&res, ccz_buf_span(&r), TRUSTEE_VLEK, NULL, 1750000000),
                     CCZ_ERR_COLLATERAL_MISMATCH);
        CHECK_STR(res.step, "collateral");
        CHECK_CONTAINS(res.message, cpus[i].message);
        ccz_buf_free(&r);
    }
}

/* One flipped byte inside each certificate's signed part. */
static void test_tamper_certificates(void)
{
    vectors_require();
    ccz_buf r = CCZ_BUF_INIT, v = CCZ_BUF_INIT, chain = CCZ_BUF_INIT;
    CHECK_OK(vectors_read(&r, GOSEV_REPORT, false));
    CHECK_OK(vectors_read(&v, GOSEV_VCEK, false));
    CHECK_OK(vectors_read(&chain, MILAN_CHAIN, false));
    static ccz_result res;
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.at_unix = AT;
    o.trust = trust;
    /* the VCEK: a byte of its validity period */
    v.ptr[200] ^= 1;
    ccz_collateral *col = NULL;
    ccz_status s = ccz_snp_collateral_new(&col, ccz_buf_span(&v), CCZ_SPAN(NULL, 0));
    if (s == CCZ_OK) {
        o.collateral = col;
        s = ccz_verify(&res, ccz_buf_span(&r), &o);
    }
    CHECK(s == CCZ_ERR_CERT_CHAIN || s == CCZ_ERR_CERT_MALFORMED || s == CCZ_ERR_MALFORMED);
    if (s == CCZ_ERR_CERT_CHAIN)
        CHECK_STR(res.step, "platform_certificate");
    ccz_collateral_free(col);
    v.ptr[200] ^= 1;
    /* the ASK given with --cert-chain: the chain is then the caller's alone */
    char *pem = (char *)chain.ptr;
    char *body = strstr(pem, "MII") + 400;
    *body = *body == 'A' ? 'B' : 'A';
    CHECK_OK(ccz_snp_collateral_new(&col, ccz_buf_span(&v), ccz_buf_span(&chain)));
    o.collateral = col;
    CHECK_STATUS(ccz_verify(&res, ccz_buf_span(&r), &o), CCZ_ERR_CERT_CHAIN);
    CHECK_STR(res.step, "platform_certificate");
    ccz_collateral_free(col);
    ccz_buf_free(&r);
    ccz_buf_free(&v);
    ccz_buf_free(&chain);
}

static void test_wrong_vek(void)
{
    vectors_require();
    ccz_buf r = CCZ_BUF_INIT, t = CCZ_BUF_INIT;
    CHECK_OK(vectors_read(&r, GOSEV_REPORT, false));
    CHECK_OK(vectors_read(&t, TRUSTEE_REPORT, false));
    static ccz_result res;
    /* a VCEK of another TCB (and chip) */
    CHECK_STATUS(verify(&res, ccz_buf_span(&r), VIRTEE_VCEK, NULL, AT), CCZ_ERR_TCB_MISMATCH);
    CHECK_CONTAINS(res.message, "reported TCB (bootloader 2, tee 0, snp 5, microcode 68)");
    /* a VLEK report with a VCEK */
    CHECK_STATUS(verify(&res, ccz_buf_span(&t), GOSEV_VCEK, NULL, AT), CCZ_ERR_COLLATERAL_MISMATCH);
    CHECK_CONTAINS(res.message, "signed by a VLEK");
    /* the VLEK expired on 2025-12-10 */
    CHECK_STATUS(verify(&res, ccz_buf_span(&t), TRUSTEE_VLEK, NULL, AT), CCZ_ERR_EXPIRED);
    CHECK_OK(verify(&res, ccz_buf_span(&t), TRUSTEE_VLEK, NULL, 1750000000));
    /* before the VCEK was issued */
    CHECK_STATUS(verify(&res, ccz_buf_span(&r), GOSEV_VCEK, NULL, 1600000000),
                 CCZ_ERR_NOT_YET_VALID);
    /* an AMD chain for another product */
    CHECK_STATUS(verify(&res, ccz_buf_span(&r), GOSEV_VCEK,
                        "google_go-sev-guest/verify/trust/ask_ark_genoa.pem", AT),
                 CCZ_ERR_CERT_CHAIN);
    /* without collateral, or with DCAP collateral */
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.at_unix = AT;
    o.trust = trust;
    CHECK_STATUS(ccz_verify(&res, ccz_buf_span(&r), &o), CCZ_ERR_COLLATERAL_MISSING);
    CHECK_CONTAINS(res.message, "--vek");
    ccz_buf dj = CCZ_BUF_INIT;
    CHECK_OK(vectors_read(&dj, "Phala-Network_dcap-qvl/sample/sgx_quote_collateral.json", false));
    ccz_collateral *dcap;
    CHECK_OK(ccz_collateral_parse(&dcap, (const char *)dj.ptr, dj.len));
    o.collateral = dcap;
    CHECK_STATUS(ccz_verify(&res, ccz_buf_span(&r), &o), CCZ_ERR_COLLATERAL_MISMATCH);
    CHECK_STR(res.step, "collateral");
    CHECK_CONTAINS(res.message, "--vek");
    o.collateral = NULL;
    ccz_collateral_free(dcap);
    ccz_buf_free(&dj);
    /* a trust set without AMD roots */
    ccz_trust *none;
    CHECK_OK(ccz_trust_new(&none));
    ccz_buf v = CCZ_BUF_INIT;
    CHECK_OK(vectors_read(&v, GOSEV_VCEK, false));
    ccz_collateral *col;
    CHECK_OK(ccz_snp_collateral_new(&col, ccz_buf_span(&v), CCZ_SPAN(NULL, 0)));
    o.trust = none;
    o.collateral = col;
    CHECK_STATUS(ccz_verify(&res, ccz_buf_span(&r), &o), CCZ_ERR_CERT_CHAIN);
    /* the chain verified once is reused for the same roots, and re-checked for others */
    o.trust = trust;
    for (int i = 0; i < 3; i++)
        CHECK_OK(ccz_verify(&res, ccz_buf_span(&r), &o));
    o.trust = none;
    CHECK_STATUS(ccz_verify(&res, ccz_buf_span(&r), &o), CCZ_ERR_CERT_CHAIN);
    ccz_collateral_free(col);
    ccz_trust_free(none);
    ccz_buf_free(&v);
    ccz_buf_free(&r);
    ccz_buf_free(&t);
}

static void test_vek_window_edges(void)
{
    vectors_require();
    ccz_buf r = CCZ_BUF_INIT, v = CCZ_BUF_INIT;
    CHECK_OK(vectors_read(&r, TRUSTEE_REPORT, false));
    CHECK_OK(vectors_read(&v, TRUSTEE_VLEK, false));
    const unsigned char *p = v.ptr;
    X509 *x = d2i_X509(NULL, &p, (long)v.len);
    CHECK(x);
    struct tm tm;
    CHECK(ASN1_TIME_to_tm(X509_get0_notBefore(x), &tm));
    int64_t nb = (int64_t)timegm(&tm);
    CHECK(ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm));
    int64_t na = (int64_t)timegm(&tm);
    X509_free(x);
    static ccz_result res;
    CHECK_OK(verify(&res, ccz_buf_span(&r), TRUSTEE_VLEK, NULL, na));
    CHECK_STATUS(verify(&res, ccz_buf_span(&r), TRUSTEE_VLEK, NULL, na + 1), CCZ_ERR_EXPIRED);
    CHECK_STR(res.step, "platform_certificate");
    CHECK_OK(verify(&res, ccz_buf_span(&r), TRUSTEE_VLEK, NULL, nb));
    CHECK_STATUS(verify(&res, ccz_buf_span(&r), TRUSTEE_VLEK, NULL, nb - 1), CCZ_ERR_NOT_YET_VALID);
    CHECK_STR(res.step, "platform_certificate");
    ccz_buf_free(&r);
    ccz_buf_free(&v);
}

/* The default policy accepts SNP reports from VMPL 0 only: trustee's VLEK report (VMPL 1)
 * verifies and is then rejected by appraisal, accepted by a policy that allows VMPL 1. */
static void test_default_vmpl_floor(void)
{
    vectors_require();
    ccz_buf r = CCZ_BUF_INIT;
    CHECK_OK(vectors_read(&r, TRUSTEE_REPORT, false));
    static ccz_result res;
    CHECK_OK(verify(&res, ccz_buf_span(&r), TRUSTEE_VLEK, NULL, 1750000000));
    CHECK_INT(res.claims.snp.vmpl, 1);
    ccz_policy *p;
    static ccz_appraisal a;
    CHECK_OK(ccz_policy_default(&p));
    CHECK_OK(ccz_appraise(&a, p, &res.claims));
    CHECK(!a.accepted);
    CHECK_INT(a.n_reasons, 1);
    CHECK_STR(a.reasons[0].code, "vmpl_too_high");
    CHECK_CONTAINS(a.reasons[0].message, "VMPL 1, above the policy's bound 0");
    ccz_policy_free(p);
    static const char allow1[] = "{\"snp_max_vmpl\": 1}";
    CHECK_OK(ccz_policy_parse(&p, allow1, sizeof allow1 - 1));
    CHECK_OK(ccz_appraise(&a, p, &res.claims));
    CHECK(a.accepted);
    CHECK_INT(a.n_reasons, 0);
    ccz_policy_free(p);
    /* a VMPL 0 report passes the default floor (its other reason: debug allowed) */
    ccz_buf g = CCZ_BUF_INIT;
    CHECK_OK(vectors_read(&g, GOSEV_REPORT, false));
    CHECK_OK(verify(&res, ccz_buf_span(&g), GOSEV_VCEK, NULL, AT));
    CHECK_OK(ccz_policy_default(&p));
    CHECK_OK(ccz_appraise(&a, p, &res.claims));
    CHECK_INT(a.n_reasons, 1);
    CHECK_STR(a.reasons[0].code, "debug");
    ccz_policy_free(p);
    ccz_buf_free(&g);
    ccz_buf_free(&r);
}

static void cleanup(void)
{
    ccz_trust_free(trust);
}

TEST_MAIN(T(test_cases), T(test_known_fields), T(test_tamper_report), T(test_tcb_components),
          T(test_cpu_against_chain), T(test_tamper_certificates), T(test_wrong_vek),
          T(test_vek_window_edges), T(test_default_vmpl_floor), T(cleanup))
