/* SPDX-License-Identifier: Apache-2.0 */
/* Tampering with real DCAP evidence: one flipped byte in each signed region of an SGX v3 and a
 * TDX v4 quote and of their collateral gives the specific failure, at the step that owns it. */
#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#include "ccz/ccz.h"
#include "dcap_forge.h"
#include "tee/dcap/dcap_internal.h"
#include "test.h"
#include "vectors.h"

typedef struct {
    const char *quote, *collateral;
    int64_t at;
} sample;

static const sample SGX = {"Phala-Network_dcap-qvl/sample/sgx_quote",
                           "Phala-Network_dcap-qvl/sample/sgx_quote_collateral.json", 1752919277};
static const sample TDX = {"Phala-Network_dcap-qvl/sample/tdx_quote",
                           "Phala-Network_dcap-qvl/sample/tdx_quote_collateral.json", 1752919234};

static ccz_trust *trust;

static void load(const sample *s, ccz_buf *q, ccz_buf *col)
{
    vectors_require();
    if (!trust) {
        CHECK_OK(ccz_trust_new(&trust));
        CHECK_OK(ccz_trust_add_builtin(trust));
    }
    CHECK_OK(vectors_read(q, s->quote, false));
    CHECK_OK(vectors_read(col, s->collateral, false));
}

/* Verifies quote bytes against collateral text (parsed afresh, so no cache carries over). */
static ccz_status verify(ccz_result *r, ccz_span quote, ccz_span coll, int64_t at)
{
    ccz_collateral *c;
    ccz_status s = ccz_collateral_parse(&c, (const char *)coll.ptr, coll.len);
    if (s) {
        r->status = s;
        r->step = "collateral_parse";
        return s;
    }
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.at_unix = at;
    o.trust = trust;
    o.collateral = c;
    s = ccz_verify(r, quote, &o);
    ccz_collateral_free(c);
    return s;
}

static void expect(const char *what, ccz_span q, ccz_span col, int64_t at, ccz_status want,
                   const char *step)
{
    static ccz_result r;
    ccz_status got = verify(&r, q, col, at);
    if (got != want || (step && (!r.step || strcmp(r.step, step) != 0))) {
        fprintf(stderr, "%s: %s: got %s at %s (%s), want %s at %s\n", test_name, what,
                ccz_status_name(got), r.step ? r.step : "-", r.message, ccz_status_name(want),
                step ? step : "-");
        test_failures++;
    }
}

static void flip_quote(const sample *smp, const char *what, size_t off, ccz_status want,
                       const char *step)
{
    ccz_buf q = CCZ_BUF_INIT, c = CCZ_BUF_INIT;
    load(smp, &q, &c);
    CHECK(off < q.len);
    q.ptr[off] ^= 0x01;
    expect(what, ccz_buf_span(&q), ccz_buf_span(&c), smp->at, want, step);
    ccz_buf_free(&q);
    ccz_buf_free(&c);
}

static void test_quote_regions(void)
{
    const sample *samples[] = {&SGX, &TDX};
    for (int i = 0; i < 2; i++) {
        const sample *s = samples[i];
        ccz_buf q = CCZ_BUF_INIT, c = CCZ_BUF_INIT;
        load(s, &q, &c);
        ccz_dcap_quote dq;
        CHECK_OK(ccz_dcap_quote_parse(&dq, ccz_buf_span(&q)));
        expect("untouched", ccz_buf_span(&q), ccz_buf_span(&c), s->at, CCZ_OK, NULL);
        size_t body = (size_t)(dq.body.ptr - q.ptr);
        size_t qe = (size_t)(dq.qe_report.ptr - q.ptr);
        size_t auth = (size_t)(dq.qe_auth_data.ptr - q.ptr);
        size_t sig = (size_t)(dq.signed_part.len + 4); /* after the signature-data length */
        ccz_buf_free(&q);
        ccz_buf_free(&c);
        flip_quote(s, "header pce_svn", 10, CCZ_ERR_BAD_SIGNATURE, "quote_signature");
        flip_quote(s, "header user data", 40, CCZ_ERR_BAD_SIGNATURE, "quote_signature");
        /* TD report byte 100 is in MRSIGNERSEAM, which QVL checks before any signature */
        if (s == &TDX)
            flip_quote(s, "body MRSIGNERSEAM", body + 100, CCZ_ERR_TDX_MODULE_MISMATCH,
                       "tdx_module");
        else
            flip_quote(s, "body", body + 100, CCZ_ERR_BAD_SIGNATURE, "quote_signature");
        flip_quote(s, "body", body + 200, CCZ_ERR_BAD_SIGNATURE, "quote_signature");
        flip_quote(s, "body report data", body + dq.body.len - 1, CCZ_ERR_BAD_SIGNATURE,
                   "quote_signature");
        flip_quote(s, "quote signature", sig + 5, CCZ_ERR_BAD_SIGNATURE, "quote_signature");
        flip_quote(s, "attestation key", sig + 64 + 7, CCZ_ERR_BAD_SIGNATURE, "qe_report_data");
        flip_quote(s, "QE report", qe + 70, CCZ_ERR_BAD_SIGNATURE, "qe_report_signature");
        flip_quote(s, "QE report signature", qe + 384 + 3, CCZ_ERR_BAD_SIGNATURE,
                   "qe_report_signature");
        flip_quote(s, "QE auth data", auth + 4, CCZ_ERR_BAD_SIGNATURE, "qe_report_data");
        flip_quote(s, "version", 0, CCZ_ERR_UNSUPPORTED, "parse");
        flip_quote(s, "QE vendor", 12, CCZ_ERR_UNSUPPORTED, "parse");
    }
}

/* Re-encodes the quote with one byte of the PCK certificate's DER flipped (same lengths). */
static void test_pck_certificate(void)
{
    ccz_buf q = CCZ_BUF_INIT, c = CCZ_BUF_INIT;
    load(&SGX, &q, &c);
    ccz_dcap_quote dq;
    CHECK_OK(ccz_dcap_quote_parse(&dq, ccz_buf_span(&q)));
    size_t off = (size_t)(dq.cert_data.ptr - q.ptr);
    BIO *in = BIO_new_mem_buf(dq.cert_data.ptr, (int)dq.cert_data.len);
    X509 *pck = PEM_read_bio_X509(in, NULL, NULL, NULL);
    BIO_free(in);
    CHECK(pck != NULL);
    unsigned char *der = NULL;
    int n = i2d_X509(pck, &der);
    X509_free(pck);
    der[20] ^= 0x01; /* in the serial number: the issuer's signature no longer covers it */
    const unsigned char *p = der;
    X509 *bad = d2i_X509(NULL, &p, n);
    CHECK(bad != NULL);
    BIO *out = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(out, bad);
    char *pem;
    long pem_len = BIO_get_mem_data(out, &pem);
    CHECK(pem_len > 0 && (size_t)pem_len <= dq.cert_data.len);
    /* a collateral object that has verified the untouched chain: its PCK cache holds that
     * chain's exact bytes, and the tampered chain (of the same length) is not among them */
    ccz_collateral *warm;
    CHECK_OK(ccz_collateral_parse(&warm, (const char *)c.ptr, c.len));
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.at_unix = SGX.at;
    o.trust = trust;
    o.collateral = warm;
    static ccz_result r;
    CHECK_OK(ccz_verify(&r, ccz_buf_span(&q), &o));
    memcpy(q.ptr + off, pem, (size_t)pem_len);
    expect("PCK certificate", ccz_buf_span(&q), ccz_buf_span(&c), SGX.at, CCZ_ERR_CERT_CHAIN,
           "pck_chain");
    CHECK_STATUS(ccz_verify(&r, ccz_buf_span(&q), &o), CCZ_ERR_CERT_CHAIN);
    CHECK_STR(r.step, "pck_chain");
    ccz_collateral_free(warm);
    /* a chain that is not PEM at all */
    memset(q.ptr + off, 'A', dq.cert_data.len);
    expect("PCK chain garbage", ccz_buf_span(&q), ccz_buf_span(&c), SGX.at, CCZ_ERR_CERT_MALFORMED,
           "pck_chain");
    BIO_free(out);
    X509_free(bad);
    OPENSSL_free(der);
    ccz_buf_free(&q);
    ccz_buf_free(&c);
}

/* Rewrites one field of the collateral JSON with edit() and expects the failure. */
static void collateral_case(const sample *s, const char *field, void (*edit)(char *, size_t),
                            ccz_status want, const char *step)
{
    ccz_buf q = CCZ_BUF_INIT, c = CCZ_BUF_INIT;
    load(s, &q, &c);
    json_t *root = json_loadb((const char *)c.ptr, c.len, 0, NULL);
    char *v = strdup(json_string_value(json_object_get(root, field)));
    edit(v, strlen(v));
    json_object_set_new(root, field, json_string(v));
    char *text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    char what[96];
    snprintf(what, sizeof what, "collateral %s", field);
    expect(what, ccz_buf_span(&q), CCZ_SPAN(text, strlen(text)), s->at, want, step);
    free(text);
    free(v);
    json_decref(root);
    ccz_buf_free(&q);
    ccz_buf_free(&c);
}

/* "tcbEvaluationDataNumber":17 -> 18: still valid JSON, no longer what Intel signed. */
static void bump_eval_number(char *v, size_t n)
{
    char *p = strstr(v, "\"tcbEvaluationDataNumber\":");
    (void)n;
    if (p)
        p[strlen("\"tcbEvaluationDataNumber\":") + 1]++;
}

static void flip_hex_early(char *v, size_t n)
{
    (void)n;
    v[5] = v[5] == '0' ? '1' : '0';
}

/* A hex DER CRL: change the seconds of thisUpdate (UTCTime, tag 17 0d), inside the signed
 * part, to another valid digit. */
static void flip_crl_time(char *v, size_t n)
{
    char *p = strstr(v, "170d");
    (void)n;
    if (p) {
        char *units = p + 4 + 2 * 11 + 1; /* low hex digit of the 12th time character */
        *units = *units == '0' ? '1' : '0';
    }
}

static void test_collateral_regions(void)
{
    collateral_case(&SGX, "tcb_info", bump_eval_number, CCZ_ERR_BAD_SIGNATURE, "tcb_info");
    collateral_case(&SGX, "qe_identity", bump_eval_number, CCZ_ERR_BAD_SIGNATURE, "qe_identity");
    collateral_case(&SGX, "tcb_info_signature", flip_hex_early, CCZ_ERR_BAD_SIGNATURE, "tcb_info");
    collateral_case(&SGX, "qe_identity_signature", flip_hex_early, CCZ_ERR_BAD_SIGNATURE,
                    "qe_identity");
    collateral_case(&TDX, "tcb_info", bump_eval_number, CCZ_ERR_BAD_SIGNATURE, "tcb_info");
    collateral_case(&SGX, "pck_crl", flip_crl_time, CCZ_ERR_BAD_SIGNATURE, "pck_chain");
    collateral_case(&SGX, "root_ca_crl", flip_crl_time, CCZ_ERR_BAD_SIGNATURE, "tcb_info");
}

static void test_instants_and_mismatches(void)
{
    ccz_buf q = CCZ_BUF_INIT, c = CCZ_BUF_INIT, t = CCZ_BUF_INIT, tc = CCZ_BUF_INIT;
    load(&SGX, &q, &c);
    load(&TDX, &t, &tc);
    /* the collateral's nextUpdate is at + 1 (the instant is derived from it) */
    expect("after nextUpdate", ccz_buf_span(&q), ccz_buf_span(&c), SGX.at + 86400 * 40,
           CCZ_ERR_COLLATERAL_OUT_OF_DATE, "tcb_info");
    expect("before issueDate", ccz_buf_span(&q), ccz_buf_span(&c), SGX.at - 86400 * 40,
           CCZ_ERR_COLLATERAL_OUT_OF_DATE, "tcb_info");
    /* QVL judges the TEE of the collateral after the PCK chain, whose CRL here is the other
     * PCK CA's */
    expect("TDX collateral for an SGX quote", ccz_buf_span(&q), ccz_buf_span(&tc), SGX.at,
           CCZ_ERR_COLLATERAL_MISMATCH, "pck_chain");
    expect("SGX collateral for a TDX quote", ccz_buf_span(&t), ccz_buf_span(&c), TDX.at,
           CCZ_ERR_COLLATERAL_MISMATCH, "pck_chain");
    /* collateral of another SGX platform, whose PCK CRL is from the other PCK CA */
    ccz_buf other = CCZ_BUF_INIT, q5 = CCZ_BUF_INIT;
    CHECK_OK(vectors_read(&other, "derived/automata_sgx_0825_collateral.json", false));
    expect("another platform's collateral", ccz_buf_span(&q), ccz_buf_span(&other), 1755236700,
           CCZ_ERR_COLLATERAL_MISMATCH, "pck_chain");
    /* a TDX platform's TCB info (FMSPC 00806F050000) valid, with CRLs that fit, at the instant
     * a quote of FMSPC 90C06F000000 is checked */
    ccz_buf_reset(&other);
    CHECK_OK(vectors_read(&other, "derived/automata_tdx_0625_00806f050000_collateral.json", false));
    CHECK_OK(vectors_read(&q5,
                          "automata-network_automata-dcap-attestation/evm/forge-test/"
                          "assets/quotes/alibaba_quote_5.dat",
                          false));
    expect("another FMSPC's TCB info", ccz_buf_span(&q5), ccz_buf_span(&other), 1749945600,
           CCZ_ERR_COLLATERAL_MISMATCH, "tcb_info");
    ccz_buf_free(&q5);
    /* without collateral */
    static ccz_result r;
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.at_unix = SGX.at;
    o.trust = trust;
    CHECK_STATUS(ccz_verify(&r, ccz_buf_span(&q), &o), CCZ_ERR_COLLATERAL_MISSING);
    CHECK_CONTAINS(r.message, "--collateral");
    /* another root: nothing chains to it */
    ccz_trust *sim_only;
    CHECK_OK(ccz_trust_new(&sim_only));
    o.trust = sim_only;
    ccz_collateral *col;
    CHECK_OK(ccz_collateral_parse(&col, (const char *)c.ptr, c.len));
    o.collateral = col;
    CHECK_STATUS(ccz_verify(&r, ccz_buf_span(&q), &o), CCZ_ERR_CERT_CHAIN);
    CHECK_STR(r.step, "tcb_info");
    /* report data */
    o.trust = trust;
    uint8_t rd[64] = {1};
    o.expected_report_data = rd;
    CHECK_STATUS(ccz_verify(&r, ccz_buf_span(&q), &o), CCZ_ERR_REPORT_DATA_MISMATCH);
    CHECK_STR(r.step, "report_data");
    o.expected_report_data = NULL;
    CHECK_OK(ccz_verify(&r, ccz_buf_span(&q), &o));
    memcpy(rd, r.claims.report_data, 64);
    o.expected_report_data = rd;
    CHECK_OK(ccz_verify(&r, ccz_buf_span(&q), &o)); /* and again, from the cache */
    char hex[13];
    ccz_hex_to_str(hex, r.claims.dcap.fmspc, 6);
    CHECK_STR(hex, "00a067110000");
    ccz_collateral_free(col);
    ccz_trust_free(sim_only);
    ccz_buf_free(&other);
    ccz_buf_free(&q);
    ccz_buf_free(&c);
    ccz_buf_free(&t);
    ccz_buf_free(&tc);
}

static void test_truncation(void)
{
    ccz_buf q = CCZ_BUF_INIT, c = CCZ_BUF_INIT;
    load(&TDX, &q, &c);
    ccz_collateral *col;
    CHECK_OK(ccz_collateral_parse(&col, (const char *)c.ptr, c.len));
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.at_unix = TDX.at;
    o.trust = trust;
    o.collateral = col;
    static ccz_result r;
    ccz_dcap_quote dq;
    CHECK_OK(ccz_dcap_quote_parse(&dq, ccz_buf_span(&q)));
    size_t end = (size_t)(dq.cert_data.ptr + dq.cert_data.len - q.ptr);
    /* every length from the header to the end of the signature data */
    for (size_t n = 8; n < end; n += 7) {
        ccz_status s = ccz_verify(&r, CCZ_SPAN(q.ptr, n), &o);
        if (n < CCZ_DCAP_HEADER_SIZE ? s != CCZ_ERR_UNKNOWN_FORMAT : s != CCZ_ERR_TRUNCATED) {
            fprintf(stderr, "length %zu: %s (%s)\n", n, ccz_status_name(s), r.message);
            test_failures++;
        }
    }
    /* padding after the signature data is ignored (the sample has 70 bytes of it) */
    CHECK(q.len > end);
    CHECK_OK(ccz_verify(&r, CCZ_SPAN(q.ptr, end), &o));
    ccz_collateral_free(col);
    ccz_buf_free(&q);
    ccz_buf_free(&c);
}

static void test_bad_collateral(void)
{
    static const struct {
        const char *doc, *detail;
    } cases[] = {
        {"[]", "not a JSON object"},
        {"{}", "pck_crl_issuer_chain: missing"},
        {"{\"pck_crl_issuer_chain\": \"x\"}", "pck_crl_issuer_chain"},
        {"{,", "invalid JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ccz_collateral *c = (ccz_collateral *)1;
        CHECK_STATUS(ccz_collateral_parse(&c, cases[i].doc, strlen(cases[i].doc)),
                     CCZ_ERR_MALFORMED);
        CHECK(c == NULL);
        CHECK_CONTAINS(ccz_error_detail(), cases[i].detail);
    }
    ccz_collateral *c;
    CHECK_STATUS(ccz_collateral_load_file(&c, "/nonexistent.json"), CCZ_ERR_NOT_FOUND);
}

/* One region of a quote flipped bit by bit, each flip judged by one collateral object that a
 * good quote has warmed (its PCK chain, QE report signature and attestation key cached). */
typedef struct {
    const char *what;
    size_t off, len;
    ccz_step step;           /* where every flip fails; CCZ_AT_NONE: anywhere but verified */
    ccz_status status;       /* with step */
    size_t lax_from, lax_to; /* within the region: fields checked before the signatures */
} region;

static void flip_region(const sample *smp, ccz_buf *q, const ccz_verify_opts *o, const region *g)
{
    static ccz_result r;
    for (size_t i = 0; i < g->len; i++) {
        size_t at = g->off + i;
        uint8_t bit = (uint8_t)(1u << (i % 8));
        q->ptr[at] ^= bit;
        ccz_status got = ccz_verify(&r, ccz_buf_span(q), o);
        q->ptr[at] ^= bit;
        bool lax = g->step == CCZ_AT_NONE || (i >= g->lax_from && i < g->lax_to);
        if (got == CCZ_OK || (!lax && (got != g->status || r.step_id != g->step))) {
            fprintf(stderr, "%s: %s %s byte %zu bit %02x: got %s at %s (%s), want %s at %s\n",
                    test_name, smp == &TDX ? "TDX" : "SGX", g->what, i, bit, ccz_status_name(got),
                    r.step ? r.step : "-", r.message,
                    lax ? "a failure" : ccz_status_name(g->status),
                    lax ? "any step" : ccz_step_name(g->step));
            test_failures++;
            return;
        }
    }
}

/* Issue 22.3: the warm path remembers verified QE report signatures by their exact bytes; a
 * quote whose signed bytes differ anywhere is still rejected, at the step that owns the byte,
 * and nothing a rejected quote carried is remembered. */
static void test_warm_bitflips(void)
{
    const sample *samples[] = {&SGX, &TDX};
    for (int k = 0; k < 2; k++) {
        const sample *smp = samples[k];
        ccz_buf q = CCZ_BUF_INIT, c = CCZ_BUF_INIT;
        load(smp, &q, &c);
        ccz_collateral *col;
        CHECK_OK(ccz_collateral_parse(&col, (const char *)c.ptr, c.len));
        ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
        o.at_unix = smp->at;
        o.trust = trust;
        o.collateral = col;
        static ccz_result r;
        CHECK_OK(ccz_verify(&r, ccz_buf_span(&q), &o));
        CHECK_OK(ccz_verify(&r, ccz_buf_span(&q), &o));
        CHECK(col->qe_sig_n == 1);
        ccz_dcap_quote dq;
        CHECK_OK(ccz_dcap_quote_parse(&dq, ccz_buf_span(&q)));
        size_t body = (size_t)(dq.body.ptr - q.ptr);
        size_t sig = dq.signed_part.len + 4; /* after the signature-data length */
        size_t qe = (size_t)(dq.qe_report.ptr - q.ptr);
        CHECK(dq.qe_auth_data.len > 0);
        /* the header's version, key type and TEE type decide how the quote is read, and its QE
         * vendor is checked when parsed; a TD report's TEE_TCB_SVN, MRSEAM, MRSIGNERSEAM and
         * SEAMATTRIBUTES meet the TCB info's module identity first (QVL's order) */
        const region header_ids = {
            "header (version, key and TEE type)", 0, 8, CCZ_AT_NONE, 0, 0, 0};
        const region header = {
            "header", 8, body - 8, CCZ_AT_QUOTE_SIGNATURE, CCZ_ERR_BAD_SIGNATURE, 12 - 8, 28 - 8};
        region report = {"body", body, dq.body.len, CCZ_AT_QUOTE_SIGNATURE, CCZ_ERR_BAD_SIGNATURE,
                         0,      0};
        if (smp == &TDX)
            report.lax_to = 16 + 48 + 48 + 8;
        const region rest[] = {
            {"QE report", qe, 384, CCZ_AT_QE_REPORT_SIGNATURE, CCZ_ERR_BAD_SIGNATURE, 0, 0},
            {"QE report signature", qe + 384, 64, CCZ_AT_QE_REPORT_SIGNATURE, CCZ_ERR_BAD_SIGNATURE,
             0, 0},
            {"quote signature", sig, 64, CCZ_AT_QUOTE_SIGNATURE, CCZ_ERR_BAD_SIGNATURE, 0, 0},
            {"attestation key", sig + 64, 64, CCZ_AT_QE_REPORT_DATA, CCZ_ERR_BAD_SIGNATURE, 0, 0},
            {"QE auth data", (size_t)(dq.qe_auth_data.ptr - q.ptr), dq.qe_auth_data.len,
             CCZ_AT_QE_REPORT_DATA, CCZ_ERR_BAD_SIGNATURE, 0, 0},
        };
        CHECK(memcmp(q.ptr + qe + 384, dq.qe_report_signature, 64) == 0);
        CHECK(memcmp(q.ptr + sig + 64, dq.attestation_key, 64) == 0);
        flip_region(smp, &q, &o, &header_ids);
        flip_region(smp, &q, &o, &header);
        flip_region(smp, &q, &o, &report);
        for (size_t i = 0; i < sizeof rest / sizeof rest[0]; i++)
            flip_region(smp, &q, &o, &rest[i]);
        /* the good quote still verifies, from the cache, which holds its signature alone */
        CHECK_OK(ccz_verify(&r, ccz_buf_span(&q), &o));
        CHECK(col->qe_sig_n == 1);
        /* the same document parsed again: a copy of its parse, with nothing verified */
        ccz_collateral *again;
        CHECK_OK(ccz_collateral_parse(&again, (const char *)c.ptr, c.len));
        CHECK(again != col && again->checked_trust_id == 0 && again->crl_signer == NULL);
        CHECK(again->qe_sig_n == 0 && again->pck[0].pck_key == NULL &&
              again->ak[0].verifier == NULL);
        CHECK(again->tcb.n_levels == col->tcb.n_levels && again->tcb.levels != col->tcb.levels);
        CHECK(again->tcb_info_len == col->tcb_info_len &&
              memcmp(again->tcb_info_text, col->tcb_info_text, col->tcb_info_len) == 0);
        ccz_collateral_free(again);
        ccz_collateral_free(col);
        ccz_buf_free(&q);
        ccz_buf_free(&c);
    }
}

/* ---- forged platforms: collateral from one, pieces of another -------------------------------*/

/* Collateral from f for forge_quote_defaults' SGX platform: one UpToDate TCB level, the default
 * QE at ISVSVN 8, CRLs valid 2025..2035. */
static void sgx_collateral(forge *f, ccz_buf *out)
{
    uint8_t sgx[16];
    memset(sgx, 5, sizeof sgx);
    char *ti = forge_dump(forge_tcb_info(
        false, json_pack("[o]", forge_tcb_level(sgx, 10, NULL, "UpToDate", NULL)), NULL));
    char *qi = forge_dump(
        forge_qe_identity(false, json_pack("[o]", forge_isv_level(8, "UpToDate", NULL))));
    forge_collateral_opts co = {ti, qi, 1735689600 /* 2025 */, 2051222400 /* 2035 */, false, false};
    CHECK_OK(forge_collateral(f, out, &co));
    free(ti);
    free(qi);
}

/* The collateral document `into` with the members keys[0..n) taken from `from`: compact JSON
 * text, the caller's. */
static char *splice_collateral(const ccz_buf *into, const ccz_buf *from, const char *const *keys,
                               size_t n)
{
    json_t *ji = json_loadb((const char *)into->ptr, into->len, 0, NULL),
           *jf = json_loadb((const char *)from->ptr, from->len, 0, NULL);
    CHECK(ji && jf);
    for (size_t i = 0; i < n; i++)
        CHECK(json_object_set(ji, keys[i], json_object_get(jf, keys[i])) == 0);
    char *text = json_dumps(ji, JSON_COMPACT);
    CHECK(text != NULL);
    json_decref(ji);
    json_decref(jf);
    return text;
}

/* Verifies quote at 2030 under t against a collateral object parsed afresh from text. */
static ccz_status verify_forged(ccz_result *r, ccz_trust *t, const ccz_buf *quote, const char *text,
                                size_t len)
{
    ccz_collateral *col;
    CHECK_OK(ccz_collateral_parse(&col, text, len));
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.at_unix = 1893456000; /* 2030 */
    o.trust = t;
    o.collateral = col;
    ccz_status s = ccz_verify(r, ccz_buf_span(quote), &o);
    ccz_collateral_free(col);
    return s;
}

/* The QE report signature cache is keyed by the PCK chain too: a QE report and signature that
 * one platform's PCK key made, remembered when its quote verified, carried in a quote whose PCK
 * chain names another key is checked against that key and rejected. */
static void test_qe_signature_cache_per_pck(void)
{
    forge *f = forge_new();
    forge_quote_opts qo;
    forge_quote_defaults(&qo);
    ccz_buf a = CCZ_BUF_INIT, b = CCZ_BUF_INIT, spliced = CCZ_BUF_INIT, cb = CCZ_BUF_INIT;
    CHECK_OK(forge_quote(f, &a, &qo));
    forge_new_pck_key(f);
    CHECK_OK(forge_quote(f, &b, &qo));
    sgx_collateral(f, &cb);
    /* quote a (v3) with b's certification data: a's QE report, its signature by the first PCK
     * key, a's attestation key and quote signature; b's PCK chain */
    ccz_dcap_quote da, db;
    CHECK_OK(ccz_dcap_quote_parse(&da, ccz_buf_span(&a)));
    CHECK_OK(ccz_dcap_quote_parse(&db, ccz_buf_span(&b)));
    size_t head = (size_t)(da.cert_data.ptr - a.ptr) - 4; /* up to the certification data size */
    CHECK_OK(ccz_buf_append(&spliced, a.ptr, head));
    CHECK_OK(ccz_buf_append_u32le(&spliced, (uint32_t)db.cert_data.len));
    CHECK_OK(ccz_buf_append(&spliced, db.cert_data.ptr, db.cert_data.len));
    size_t sig_len = spliced.len - da.signed_part.len - 4;
    for (int i = 0; i < 4; i++)
        spliced.ptr[da.signed_part.len + i] = (uint8_t)(sig_len >> (8 * i));

    ccz_trust *t = forge_trust(f);
    ccz_collateral *col;
    CHECK_OK(ccz_collateral_parse(&col, (const char *)cb.ptr, cb.len));
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.at_unix = 1893456000; /* 2030 */
    o.trust = t;
    o.collateral = col;
    static ccz_result r;
    CHECK_OK(ccz_verify(&r, ccz_buf_span(&a), &o));
    CHECK_OK(ccz_verify(&r, ccz_buf_span(&b), &o));
    CHECK(col->qe_sig_n == 2);
    CHECK_STATUS(ccz_verify(&r, ccz_buf_span(&spliced), &o), CCZ_ERR_BAD_SIGNATURE);
    CHECK_STR(r.step, "qe_report_signature");
    CHECK_OK(ccz_verify(&r, ccz_buf_span(&a), &o));
    ccz_collateral_free(col);
    ccz_trust_free(t);
    ccz_buf_free(&a);
    ccz_buf_free(&b);
    ccz_buf_free(&spliced);
    ccz_buf_free(&cb);
    forge_free(f);
}

/* The QE identity's chain is verified on its own unless it is the TCB info's very chain: a QE
 * identity signed under another root, carried in collateral whose TCB info is genuine, is
 * refused at the QE identity even though its signature verifies with the chain it brings. */
static void test_qe_identity_chain_of_its_own(void)
{
    forge *f = forge_new(), *other = forge_new();
    forge_quote_opts qo;
    forge_quote_defaults(&qo);
    ccz_buf q = CCZ_BUF_INIT, c1 = CCZ_BUF_INIT, c2 = CCZ_BUF_INIT;
    CHECK_OK(forge_quote(f, &q, &qo));
    sgx_collateral(f, &c1);
    sgx_collateral(other, &c2);
    static const char *const qe_keys[] = {"qe_identity_issuer_chain", "qe_identity",
                                          "qe_identity_signature"};
    char *spliced = splice_collateral(&c1, &c2, qe_keys, 3);

    ccz_trust *t = forge_trust(f);
    static ccz_result r;
    CHECK_OK(verify_forged(&r, t, &q, (const char *)c1.ptr, c1.len));
    CHECK_STATUS(verify_forged(&r, t, &q, spliced, strlen(spliced)), CCZ_ERR_CERT_CHAIN);
    CHECK_STR(r.step, "qe_identity");
    ccz_trust_free(t);
    free(spliced);
    ccz_buf_free(&q);
    ccz_buf_free(&c1);
    ccz_buf_free(&c2);
    forge_free(f);
    forge_free(other);
}

/* Two trusted roots with the same name (as a rotated Intel root would be): collateral whose TCB
 * info, QE identity and root CRL come from the first, a quote and PCK CRL from the second. The
 * PCK CA under the second root is looked up in the first root's CRL, which its issuer did not
 * sign: refused, not taken as "not revoked". */
static void test_root_crl_of_another_root(void)
{
    forge *a = forge_new(), *b = forge_new();
    forge_quote_opts qo;
    forge_quote_defaults(&qo);
    ccz_buf q = CCZ_BUF_INIT, ca = CCZ_BUF_INIT, cb = CCZ_BUF_INIT;
    CHECK_OK(forge_quote(b, &q, &qo));
    sgx_collateral(a, &ca);
    sgx_collateral(b, &cb);
    static const char *const pck_keys[] = {"pck_crl", "pck_crl_issuer_chain"};
    char *mixed = splice_collateral(&ca, &cb, pck_keys, 2);

    ccz_trust *t;
    CHECK_OK(ccz_trust_new(&t));
    CHECK_OK(ccz_trust_add_intel_root(t, forge_root_pem(a)));
    CHECK_OK(ccz_trust_add_intel_root(t, forge_root_pem(b)));
    static ccz_result r;
    CHECK_OK(verify_forged(&r, t, &q, (const char *)cb.ptr, cb.len)); /* b's own collateral */
    CHECK(verify_forged(&r, t, &q, mixed, strlen(mixed)) != CCZ_OK);
    CHECK_STR(r.step, "pck_chain");
    CHECK_CONTAINS(r.message, "CRL");
    ccz_trust_free(t);
    free(mixed);
    ccz_buf_free(&q);
    ccz_buf_free(&ca);
    ccz_buf_free(&cb);
    forge_free(a);
    forge_free(b);
}

static void cleanup(void)
{
    ccz_trust_free(trust);
    trust = NULL;
}

TEST_MAIN(T(test_quote_regions), T(test_pck_certificate), T(test_collateral_regions),
          T(test_instants_and_mismatches), T(test_truncation), T(test_bad_collateral),
          T(test_warm_bitflips), T(test_qe_signature_cache_per_pck),
          T(test_qe_identity_chain_of_its_own), T(test_root_crl_of_another_root), T(cleanup))
