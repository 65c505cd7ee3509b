/* SPDX-License-Identifier: Apache-2.0 */
/* Validity windows are inclusive at both ends, the same in every verifier: a certificate is
 * valid from its notBefore through its notAfter second, a CRL from its lastUpdate through its
 * nextUpdate, a TCB info and QE identity from issueDate through nextUpdate (RFC 5280, Intel's
 * QVL). Each end is tried at the exact second (accepted) and one second outside (rejected with
 * its specific code and step): DCAP on the forged platform (PCK and whole chain, CRLs, TCB
 * info, the collateral cache), sim platform certificates, RA-TLS certificates, and the
 * collateral fetcher's on-disk cache. SNP's VEK is in test_snp.c. Also: the QE report data is
 * compared in all 64 bytes. */
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ccz/ccz.h"
#include "dcap_forge.h"
#include "test.h"

#define AT 1893456000        /* 2030-01-01T00:00:00Z */
#define FORGE_END 2208988800 /* 2040-01-01T00:00:00Z: every forged certificate's notAfter */

static forge *F;
static ccz_trust *trust;

static void setup(void)
{
    if (F)
        return;
    F = forge_new();
    trust = forge_trust(F);
}

static void iso(char out[32], int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A one-level SGX TCB info and a QE identity, both valid from..until. */
static void signed_json(char *ti, char *qe, size_t cap, int64_t from, int64_t until)
{
    char a[32], b[32], comps[512] = "";
    iso(a, from);
    iso(b, until);
    for (int i = 0; i < 16; i++)
        snprintf(comps + strlen(comps), sizeof comps - strlen(comps), "%s{\"svn\":5}",
                 i ? "," : "");
    snprintf(ti, cap,
             "{\"id\":\"SGX\",\"version\":3,\"issueDate\":\"%s\",\"nextUpdate\":\"%s\",\"fmspc\":"
             "\"00906ED50000\",\"pceId\":\"0000\",\"tcbType\":0,\"tcbEvaluationDataNumber\":17,"
             "\"tcbLevels\":[{\"tcb\":{\"sgxtcbcomponents\":[%s],\"pcesvn\":10},\"tcbDate\":"
             "\"2024-01-01T00:00:00Z\",\"tcbStatus\":\"UpToDate\"}]}",
             a, b, comps);
    snprintf(qe, cap,
             "{\"id\":\"QE\",\"version\":2,\"issueDate\":\"%s\",\"nextUpdate\":\"%s\","
             "\"tcbEvaluationDataNumber\":17,\"miscselect\":\"00000000\",\"miscselectMask\":"
             "\"FFFFFFFF\",\"attributes\":\"11000000000000000000000000000000\",\"attributesMask\":"
             "\"FBFFFFFFFFFFFFFF0000000000000000\",\"mrsigner\":"
             "\"8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C\",\"isvprodid\":1,"
             "\"tcbLevels\":[{\"tcb\":{\"isvsvn\":8},\"tcbDate\":\"2024-01-01T00:00:00Z\","
             "\"tcbStatus\":\"UpToDate\"}]}",
             a, b);
}

typedef struct {
    int64_t json_from, json_until; /* TCB info and QE identity */
    int64_t crl_from, crl_until;
    int64_t pck_from, pck_until; /* 0: the forge's 2020..2040 */
    bool qe_rd_hi;               /* a non-zero byte in the QE report data's upper half */
} dcap_case;

#define WIDE                                                                                       \
    {                                                                                              \
        AT - 86400 * 365, AT + 86400 * 365, AT - 86400 * 365, AT + 86400 * 365, 0, 0, false        \
    }

typedef struct {
    ccz_buf quote;
    ccz_collateral *col;
} dcap_input;

static dcap_input dcap_make(const dcap_case *c)
{
    setup();
    static char ti[4096], qe[4096];
    signed_json(ti, qe, sizeof ti, c->json_from, c->json_until);
    forge_quote_opts qo;
    forge_quote_defaults(&qo);
    qo.pck_not_before = c->pck_from;
    qo.pck_not_after = c->pck_until;
    if (c->qe_rd_hi)
        qo.qe_report_data_hi[31] = 1;
    dcap_input in = {CCZ_BUF_INIT, NULL};
    ccz_buf text = CCZ_BUF_INIT;
    CHECK_OK(forge_quote(F, &in.quote, &qo));
    forge_collateral_opts co = {ti, qe, c->crl_from, c->crl_until, false, false};
    CHECK_OK(forge_collateral(F, &text, &co));
    CHECK_OK(ccz_collateral_parse(&in.col, (const char *)text.ptr, text.len));
    ccz_buf_free(&text);
    return in;
}

static void dcap_free(dcap_input *in)
{
    ccz_buf_free(&in->quote);
    ccz_collateral_free(in->col);
}

static ccz_status dcap_at(ccz_result *r, const dcap_input *in, int64_t at)
{
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.at_unix = at;
    o.trust = trust;
    o.collateral = in->col;
    return ccz_verify(r, ccz_buf_span(&in->quote), &o);
}

/* Accepted at `edge`, rejected one second outside it (step +1 or -1) with want at step. */
static void edge_case(const char *what, const dcap_case *c, int64_t edge, int outside,
                      ccz_status want, const char *step)
{
    static ccz_result r;
    dcap_input in = dcap_make(c);
    test_name = what;
    CHECK_OK(dcap_at(&r, &in, edge));
    CHECK_STATUS(dcap_at(&r, &in, edge + outside), want);
    CHECK_STR(r.step, step);
    /* the verified windows cached in the collateral end at the same second */
    CHECK_OK(dcap_at(&r, &in, edge));
    dcap_free(&in);
    /* and a fresh collateral object rejects the outside second first */
    in = dcap_make(c);
    CHECK_STATUS(dcap_at(&r, &in, edge + outside), want);
    dcap_free(&in);
}

static void test_dcap_pck_certificate(void)
{
    dcap_case c = WIDE;
    c.pck_until = AT;
    edge_case("PCK notAfter", &c, AT, +1, CCZ_ERR_EXPIRED, "pck_chain");
    c.pck_until = 0;
    c.pck_from = AT;
    edge_case("PCK notBefore", &c, AT, -1, CCZ_ERR_NOT_YET_VALID, "pck_chain");
}

static void test_dcap_crls(void)
{
    dcap_case c = WIDE;
    c.crl_until = AT;
    /* the root CA CRL is checked first, with the TCB signing chain */
    edge_case("CRL nextUpdate", &c, AT, +1, CCZ_ERR_COLLATERAL_OUT_OF_DATE, "tcb_info");
    c = (dcap_case)WIDE;
    c.crl_from = AT;
    edge_case("CRL lastUpdate", &c, AT, -1, CCZ_ERR_COLLATERAL_OUT_OF_DATE, "tcb_info");
}

static void test_dcap_signed_json(void)
{
    dcap_case c = WIDE;
    c.json_until = AT;
    edge_case("TCB info nextUpdate", &c, AT, +1, CCZ_ERR_COLLATERAL_OUT_OF_DATE, "tcb_info");
    c = (dcap_case)WIDE;
    c.json_from = AT;
    edge_case("TCB info issueDate", &c, AT, -1, CCZ_ERR_COLLATERAL_OUT_OF_DATE, "tcb_info");
}

/* Root, PCK CA, PCK and TCB signing certificates, CRLs and signed JSON all end at the same
 * second: still valid then. */
static void test_dcap_everything_ends_together(void)
{
    dcap_case c = {AT, FORGE_END, AT, FORGE_END, 0, 0, false};
    edge_case("whole chain notAfter", &c, FORGE_END, +1, CCZ_ERR_COLLATERAL_OUT_OF_DATE,
              "tcb_info");
}

/* The collateral fetcher keeps cached collateral through its expiry second. */
static void test_fetch_cache_expiry(void)
{
    dcap_case c = WIDE;
    c.crl_until = AT + 100;
    dcap_input in = dcap_make(&c);
    int64_t expiry = ccz_collateral_expiry(in.col);
    CHECK_INT(expiry, AT + 100);
    static char ti[4096], qe[4096];
    signed_json(ti, qe, sizeof ti, c.json_from, c.json_until);
    ccz_buf text = CCZ_BUF_INIT;
    forge_collateral_opts co = {ti, qe, c.crl_from, c.crl_until, false, false};
    CHECK_OK(forge_collateral(F, &text, &co));
    char dir[600], path[700];
    snprintf(dir, sizeof dir, "%s/cache", test_tmpdir());
    snprintf(path, sizeof path, "%s/sgx-00906ED50000-processor.json", dir);
    CHECK_OK(ccz_mkdir_p(dir, 0700));
    CHECK_OK(ccz_file_write(path, ccz_buf_span(&text), 0600));
    ccz_collateral_fetch_opts o = CCZ_COLLATERAL_FETCH_OPTS_INIT;
    o.base_url = "http://127.0.0.1:1"; /* nothing listens: only the cache can answer */
    o.cache_dir = dir;
    o.timeout_seconds = 5;
    ccz_buf out = CCZ_BUF_INIT;
    bool cached = false;
    o.now = expiry;
    CHECK_OK(ccz_collateral_fetch(&out, &cached, ccz_buf_span(&in.quote), &o));
    CHECK(cached);
    CHECK_INT(out.len, text.len);
    o.now = expiry + 1;
    CHECK_STATUS(ccz_collateral_fetch(&out, &cached, ccz_buf_span(&in.quote), &o), CCZ_ERR_NETWORK);
    CHECK(!cached);
    o.now = 0; /* the current time, before the forged collateral's expiry (2030): the cache */
    CHECK_OK(ccz_collateral_fetch(&out, &cached, ccz_buf_span(&in.quote), &o));
    CHECK(cached);
    /* collateral that expired in 2001: at the current time (now 0) it is not taken */
    signed_json(ti, qe, sizeof ti, 946684800, 1000000000);
    co = (forge_collateral_opts){ti, qe, 946684800, 1000000000, false, false};
    ccz_buf_reset(&text);
    CHECK_OK(forge_collateral(F, &text, &co));
    CHECK_OK(ccz_file_write(path, ccz_buf_span(&text), 0600));
    CHECK_STATUS(ccz_collateral_fetch(&out, &cached, ccz_buf_span(&in.quote), &o), CCZ_ERR_NETWORK);
    CHECK(!cached);
    ccz_buf_free(&out);
    ccz_buf_free(&text);
    dcap_free(&in);
}

/* QE report data = SHA-256(attestation key || QE auth data) || 32 zero bytes: a QE report,
 * correctly signed by the PCK key, whose upper half is not zero does not vouch for the key. */
static void test_dcap_qe_report_data_upper_half(void)
{
    dcap_case c = WIDE;
    static ccz_result r;
    dcap_input in = dcap_make(&c);
    CHECK_OK(dcap_at(&r, &in, AT));
    dcap_free(&in);
    c.qe_rd_hi = true;
    in = dcap_make(&c);
    CHECK_STATUS(dcap_at(&r, &in, AT), CCZ_ERR_BAD_SIGNATURE);
    CHECK_STR(r.step, "qe_report_data");
    CHECK_CONTAINS(r.message, "32 zero bytes");
    dcap_free(&in);
}

/* ---- sim and RA-TLS --------------------------------------------------------------------------*/

static int64_t asn1_unix(const ASN1_TIME *t)
{
    struct tm tm;
    CHECK(ASN1_TIME_to_tm(t, &tm));
    return (int64_t)timegm(&tm);
}

static X509 *read_pem(const char *dir, const char *name)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    CHECK(f);
    X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    CHECK(x);
    return x;
}

static char plat[512];

static ccz_attester *sim_attester(void)
{
    if (!plat[0]) {
        snprintf(plat, sizeof plat, "%s/plat", test_tmpdir());
        CHECK_OK(ccz_sim_platform_init(plat, false));
    }
    ccz_attester_opts o = CCZ_ATTESTER_OPTS_INIT;
    o.tee = CCZ_TEE_SIM;
    o.sim.dir = plat;
    ccz_attester *a;
    CHECK_OK(ccz_attester_new(&a, &o));
    return a;
}

static ccz_trust *sim_trust(void)
{
    char path[700];
    snprintf(path, sizeof path, "%s/root.crt", plat);
    ccz_trust *t;
    CHECK_OK(ccz_trust_new(&t));
    CHECK_OK(ccz_trust_add_sim_root_file(t, path));
    return t;
}

static ccz_status sim_at(ccz_result *r, ccz_span ev, const ccz_trust *t, int64_t at)
{
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.at_unix = at;
    o.trust = t;
    return ccz_verify(r, ev, &o);
}

static void test_sim_platform_certificates(void)
{
    ccz_attester *a = sim_attester();
    ccz_trust *t = sim_trust();
    static const uint8_t rd[64];
    ccz_buf ev = CCZ_BUF_INIT;
    CHECK_OK(ccz_attest(&ev, a, rd));
    X509 *root = read_pem(plat, "root.crt"), *ak = read_pem(plat, "ak.crt");
    /* the chain's window: the later notBefore, the earlier notAfter */
    int64_t nb = asn1_unix(X509_get0_notBefore(root)), na = asn1_unix(X509_get0_notAfter(root));
    int64_t nb2 = asn1_unix(X509_get0_notBefore(ak)), na2 = asn1_unix(X509_get0_notAfter(ak));
    nb = nb2 > nb ? nb2 : nb;
    na = na2 < na ? na2 : na;
    static ccz_result r;
    CHECK_OK(sim_at(&r, ccz_buf_span(&ev), t, na));
    CHECK_STATUS(sim_at(&r, ccz_buf_span(&ev), t, na + 1), CCZ_ERR_EXPIRED);
    CHECK_STR(r.step, "platform_certificate");
    CHECK_OK(sim_at(&r, ccz_buf_span(&ev), t, nb));
    CHECK_STATUS(sim_at(&r, ccz_buf_span(&ev), t, nb - 1), CCZ_ERR_NOT_YET_VALID);
    CHECK_STR(r.step, "platform_certificate");
    X509_free(root);
    X509_free(ak);
    ccz_buf_free(&ev);
    ccz_trust_free(t);
    ccz_attester_free(a);
}

static void test_ratls_certificate(void)
{
    ccz_attester *a = sim_attester();
    ccz_trust *t = sim_trust();
    ccz_policy *p;
    static const char doc[] = "{\"allow_sim\": true}";
    CHECK_OK(ccz_policy_parse(&p, doc, sizeof doc - 1));
    int64_t now = (int64_t)time(NULL);
    ccz_ratls_cert_opts co = CCZ_RATLS_CERT_OPTS_INIT;
    co.not_before = now + 10;
    co.not_after = now + 1000;
    X509 *x;
    EVP_PKEY *key;
    CHECK_OK(ccz_ratls_cert_create(&x, &key, a, &co));
    static ccz_ratls_verdict v;
    ccz_verify_opts vo = CCZ_VERIFY_OPTS_INIT;
    vo.trust = t;
    vo.at_unix = co.not_before;
    CHECK_OK(ccz_ratls_verify_cert(&v, x, p, &vo));
    vo.at_unix = co.not_after;
    CHECK_OK(ccz_ratls_verify_cert(&v, x, p, &vo));
    vo.at_unix = co.not_before - 1;
    CHECK_STATUS(ccz_ratls_verify_cert(&v, x, p, &vo), CCZ_ERR_NOT_YET_VALID);
    CHECK_STR(v.step, "certificate");
    vo.at_unix = co.not_after + 1;
    CHECK_STATUS(ccz_ratls_verify_cert(&v, x, p, &vo), CCZ_ERR_EXPIRED);
    CHECK_STR(v.step, "certificate");
    X509_free(x);
    EVP_PKEY_free(key);
    ccz_policy_free(p);
    ccz_trust_free(t);
    ccz_attester_free(a);
}

static void cleanup(void)
{
    forge_free(F);
    ccz_trust_free(trust);
    F = NULL;
}

TEST_MAIN(T(test_dcap_pck_certificate), T(test_dcap_crls), T(test_dcap_signed_json),
          T(test_dcap_everything_ends_together), T(test_fetch_cache_expiry),
          T(test_dcap_qe_report_data_upper_half), T(test_sim_platform_certificates),
          T(test_ratls_certificate), T(cleanup))
