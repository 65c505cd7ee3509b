/* SPDX-License-Identifier: Apache-2.0 */
/* Azure confidential VMs' recorded evidence (more/cases.json, types az-snp-vtpm and
 * az-tdx-vtpm), read in place: trustee's evidence files verify with the claims its tests
 * assert, and the parts that come as separate files (HCL report, TPM quote, VCEK, TD quote) are
 * assembled here into evidence, then mutated as the cases say: each mutation fails at its own
 * step with its own status. */
#include <jansson.h>
#include <pthread.h>

#include "ccz/ccz.h"
#include "ccz/snp.h"
#include "jose/jose.h"
#include "tee/internal.h"
#include "test.h"
#include "vectors.h"

#define TD "more/confidential-containers_trustee/deps/verifier/test_data/"
#define SNP_DIR TD "az-snp-vtpm/"
#define TDX_DIR TD "az-tdx-vtpm/"
#define NOW 1767225600               /* cases.json's now_unix: 2026-01-01 */
#define IN_TDX_COLLATERAL 1749095100 /* within the derived FMSPC 00806F050000 collateral */
#define TDX_COLLATERAL "derived/automata_tdx_0625_00806f050000_collateral.json"

static ccz_trust *trust;

static ccz_trust *get_trust(void)
{
    if (!trust) {
        CHECK_OK(ccz_trust_new(&trust));
        CHECK_OK(ccz_trust_add_builtin(trust));
    }
    return trust;
}

static ccz_status verify_at(ccz_result *r, ccz_span ev, int64_t at, const char *rd_hex,
                            const ccz_collateral *col)
{
    static uint8_t rd[64];
    memset(rd, 0, sizeof rd);
    if (rd_hex) {
        ccz_buf b = CCZ_BUF_INIT;
        CHECK_OK(ccz_hex_decode(&b, rd_hex, strlen(rd_hex)));
        memcpy(rd, b.ptr, b.len);
        ccz_buf_free(&b);
    }
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.at_unix = at;
    o.trust = get_trust();
    o.collateral = col;
    o.expected_report_data = rd_hex ? rd : NULL;
    return ccz_verify(r, ev, &o);
}

static void hex_claim(const ccz_result *r, const char *key, const char *want)
{
    json_t *j = ccz_claims_to_json(&r->claims);
    json_t *v = json_object_get(j, key);
    if (!strchr(key, '.')) {
        CHECK_STR(json_string_value(v), want);
    } else { /* "tpm.pcr00" */
        char outer[16];
        snprintf(outer, sizeof outer, "%.*s", (int)(strchr(key, '.') - key), key);
        v = json_object_get(json_object_get(j, outer), strchr(key, '.') + 1);
        CHECK_STR(json_string_value(v), want);
    }
    json_decref(j);
}

/* trustee's evidence files: test_evaluate (v0, v1) and test_evaluate_v2 */
static void test_snp_evidence_files(void)
{
    vectors_require();
    static const struct {
        const char *file, *rd, *pcr0;
    } c[] = {
        {"evidence-v0.json", "6368616c6c656e6765",
         "e15c44796beabf46abcec7c57e590942041e47497e4ec27571c8b7664f48dced"},
        {"evidence-v1.json", "6368616c6c656e6765",
         "e15c44796beabf46abcec7c57e590942041e47497e4ec27571c8b7664f48dced"},
        {"evidence-v2.json",
         "982f5c6e45df0ed3f10b6f60b02f0c8390e281300f3805e2279c16168cd6ae9aa398f647caa2338748cd0fd9"
         "f5f819ef",
         "84275b2f4312cd4fc6cbe6b152ad3c3683e513d9f1e23c34fca160c8cca7a6a7"},
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(c); i++) {
        char rel[256];
        snprintf(rel, sizeof rel, SNP_DIR "%s", c[i].file);
        ccz_buf ev = CCZ_BUF_INIT;
        CHECK_OK(vectors_read(&ev, rel, false));
        CHECK_INT(ccz_evidence_detect(ccz_buf_span(&ev)), CCZ_TEE_AZ_SNP_VTPM);
        static ccz_result r;
        CHECK_OK(verify_at(&r, ccz_buf_span(&ev), NOW, c[i].rd, NULL));
        CHECK_INT(r.claims.tee, CCZ_TEE_AZ_SNP_VTPM);
        hex_claim(&r, "report_data", c[i].rd);
        hex_claim(&r, "tpm.pcr00", c[i].pcr0);
        CHECK_INT(r.claims.vtpm.evidence_version, i);
        CHECK_STR(r.claims.snp.product, "Milan");
        CHECK_INT(r.claims.snp.vmpl, 0);
        /* the hardware report's own report data: SHA-256 of the variable data, then zeros */
        static const uint8_t zero[32];
        CHECK(memcmp(r.claims.vtpm.hw_report_data + 32, zero, 32) == 0);
        CHECK(memcmp(r.claims.vtpm.hw_report_data, zero, 32) != 0);
        /* claims.report_data is the quote's nonce, not the hardware report's */
        CHECK(memcmp(r.claims.report_data, r.claims.vtpm.hw_report_data, 32) != 0);
        /* without the expected report data it verifies too; with other data it does not */
        CHECK_OK(verify_at(&r, ccz_buf_span(&ev), NOW, NULL, NULL));
        CHECK_STATUS(verify_at(&r, ccz_buf_span(&ev), NOW, "65676e656c6c616863", NULL),
                     CCZ_ERR_REPORT_DATA_MISMATCH);
        CHECK_STR(r.step, "report_data");
        /* the default policy accepts it (VMPL 0, no debug, no migration agent) */
        ccz_policy *p;
        ccz_appraisal a;
        CHECK_OK(verify_at(&r, ccz_buf_span(&ev), NOW, c[i].rd, NULL));
        CHECK_OK(ccz_policy_default(&p));
        CHECK_OK(ccz_appraise(&a, p, &r.claims));
        CHECK(a.accepted);
        ccz_policy_free(p);
        ccz_buf_free(&ev);
    }
}

/* test_verify_user_data: v2 binds the user-data of the HCL variable data to the report data */
static void test_snp_v2_user_data(void)
{
    vectors_require();
    ccz_buf ev = CCZ_BUF_INIT;
    CHECK_OK(vectors_read(&ev, SNP_DIR "evidence-v2.json", false));
    static ccz_result r;
    CHECK_STATUS(verify_at(&r, ccz_buf_span(&ev), NOW, "123abc", NULL),
                 CCZ_ERR_REPORT_DATA_MISMATCH);
    CHECK_STR(r.step, "report_data");
    CHECK_CONTAINS(r.message, "user-data");
    ccz_buf_free(&ev);
}

/* Assembles v1 evidence from its parts; flip: "signature", "pcr0" or NULL. */
static void compose(ccz_buf *out, const ccz_buf *hcl, const char *quote_rel, const char *flip,
                    const ccz_buf *vcek_der, const ccz_buf *td_quote)
{
    ccz_buf q = CCZ_BUF_INIT, h = CCZ_BUF_INIT, x = CCZ_BUF_INIT;
    CHECK_OK(vectors_read(&q, quote_rel, false));
    json_t *tq = json_loadb((const char *)q.ptr, q.len, 0, NULL);
    if (flip) {
        json_t *pcrs = json_object_get(tq, "pcrs");
        json_t *s = strcmp(flip, "pcr0") == 0 ? json_array_get(pcrs, 0) : json_object_get(tq, flip);
        char *t = strdup(json_string_value(s));
        static const char hex[] = "0123456789abcdef";
        const char *d = strchr(hex, t[1]); /* byte 0 XOR 1: its low digit */
        t[1] = hex[(d - hex) ^ 1];
        json_string_set(s, t);
        free(t);
    }
    CHECK_OK(jose_b64url_encode(&h, ccz_buf_span(hcl)));
    CHECK_OK(jose_b64url_encode(&x, ccz_buf_span(vcek_der ? vcek_der : td_quote)));
    json_t *ev =
        json_pack("{s:i,s:O,s:s,s:s}", "version", 1, "tpm_quote", tq, "hcl_report",
                  (const char *)h.ptr, vcek_der ? "vcek" : "td_quote", (const char *)x.ptr);
    char *text = json_dumps(ev, JSON_COMPACT);
    ccz_buf_reset(out);
    CHECK_OK(ccz_buf_append_str(out, text));
    free(text);
    json_decref(ev);
    json_decref(tq);
    ccz_buf_free(&q);
    ccz_buf_free(&h);
    ccz_buf_free(&x);
}

static void read_vcek_der(ccz_buf *out)
{
    ccz_buf pem = CCZ_BUF_INIT;
    CHECK_OK(vectors_read(&pem, SNP_DIR "vcek.pem", false));
    const char *b = strstr((const char *)pem.ptr, "-----BEGIN CERTIFICATE-----");
    const char *e = b ? strstr(b, "-----END CERTIFICATE-----") : NULL;
    ccz_buf t = CCZ_BUF_INIT;
    for (const char *p = b ? b + 27 : NULL; p && p < e; p++)
        if (*p != '\n' && *p != '\r')
            CHECK_OK(ccz_buf_append_u8(&t, (uint8_t)*p));
    CHECK_OK(ccz_base64_decode(out, (const char *)t.ptr, t.len));
    ccz_buf_free(&t);
    ccz_buf_free(&pem);
}

/* hcl-report.bin + tpm-quote-v1.json + vcek.pem: test_verify_snp_report, test_verify_report_data,
 * test_verify_signature, test_verify_quote_nonce, test_verify_pcrs and their failures */
static void test_snp_parts(void)
{
    vectors_require();
    ccz_buf hcl = CCZ_BUF_INIT, vcek = CCZ_BUF_INIT, ev = CCZ_BUF_INIT;
    CHECK_OK(vectors_read(&hcl, SNP_DIR "hcl-report.bin", false));
    read_vcek_der(&vcek);
    static ccz_result r;
    compose(&ev, &hcl, SNP_DIR "tpm-quote-v1.json", NULL, &vcek, NULL);
    CHECK_OK(verify_at(&r, ccz_buf_span(&ev), NOW, "6368616c6c656e6765", NULL));
    CHECK_INT(r.claims.snp.version, 2); /* a v2 report: the chain names the CPU */
    CHECK_STR(r.claims.snp.product, "Milan");
    CHECK_STATUS(verify_at(&r, ccz_buf_span(&ev), NOW, "65676e656c6c616863", NULL),
                 CCZ_ERR_REPORT_DATA_MISMATCH);
    /* the report's reported TCB (SNP SPL) zeroed: no longer the VCEK's */
    static const struct {
        size_t off;
        int set, add;
        ccz_status want;
        const char *step;
    } m[] = {
        {422, 0, -1, CCZ_ERR_TCB_MISMATCH, "platform_certificate"},
        {1760, -1, 1, CCZ_ERR_BINDING, "hcl_report"},
        {1344, 0, -1, CCZ_ERR_KEY_MALFORMED, "parse"},
        {0x20 + 0x2a0, -1, 1, CCZ_ERR_BAD_SIGNATURE, "signature"}, /* the SNP report's r */
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(m); i++) {
        ccz_buf bad = CCZ_BUF_INIT;
        CHECK_OK(ccz_buf_append(&bad, hcl.ptr, hcl.len));
        bad.ptr[m[i].off] = m[i].set >= 0 ? (uint8_t)m[i].set : (uint8_t)(bad.ptr[m[i].off] + 1);
        compose(&ev, &bad, SNP_DIR "tpm-quote-v1.json", NULL, &vcek, NULL);
        CHECK_STATUS(verify_at(&r, ccz_buf_span(&ev), NOW, NULL, NULL), m[i].want);
        CHECK_STR(r.step, m[i].step);
        ccz_buf_free(&bad);
    }
    compose(&ev, &hcl, SNP_DIR "tpm-quote-v1.json", "signature", &vcek, NULL);
    CHECK_STATUS(verify_at(&r, ccz_buf_span(&ev), NOW, NULL, NULL), CCZ_ERR_BAD_SIGNATURE);
    CHECK_STR(r.step, "tpm_quote");
    compose(&ev, &hcl, SNP_DIR "tpm-quote-v1.json", "message", &vcek, NULL);
    CHECK_STATUS(verify_at(&r, ccz_buf_span(&ev), NOW, NULL, NULL), CCZ_ERR_MALFORMED);
    compose(&ev, &hcl, SNP_DIR "tpm-quote-v1.json", "pcr0", &vcek, NULL);
    CHECK_STATUS(verify_at(&r, ccz_buf_span(&ev), NOW, NULL, NULL), CCZ_ERR_PCR_MISMATCH);
    CHECK_STR(r.step, "tpm_quote");
    /* the VCEK is valid 2023-05-02..2030-05-02 */
    compose(&ev, &hcl, SNP_DIR "tpm-quote-v1.json", NULL, &vcek, NULL);
    CHECK_STATUS(verify_at(&r, ccz_buf_span(&ev), 1950000000, NULL, NULL), CCZ_ERR_EXPIRED);
    CHECK_STR(r.step, "platform_certificate");
    ccz_buf_free(&hcl);
    ccz_buf_free(&vcek);
    ccz_buf_free(&ev);
}

/* ---- the trust store's cache of verified VEK chains ------------------------------------------
 * A hit must accept nothing a cold verification would reject: other bytes, other roots or an
 * instant outside the certificates' validity are misses, verified (and refused) in full. */

static ccz_status verify_with(ccz_result *r, const ccz_buf *ev, ccz_trust *t, int64_t at)
{
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.at_unix = at;
    o.trust = t;
    return ccz_verify(r, ccz_buf_span(ev), &o);
}

static void stats(ccz_trust *t, uint64_t hits, uint64_t misses)
{
    uint64_t h, m;
    tee_chain_cache_stats(t->chains, &h, &m);
    CHECK_INT(h, hits);
    CHECK_INT(m, misses);
}

/* A store with the built-in roots plus one built-in ARK added again (a new trust id, the same
 * anchors' bytes) */
static void add_an_ark_again(ccz_trust *t)
{
    const char *pem = (const char *)ccz_snp_builtin_certs().ptr;
    bool added = false;
    for (const char *b = strstr(pem, "-----BEGIN"); b && !added; b = strstr(b + 1, "-----BEGIN")) {
        const char *e = strstr(b, "-----END CERTIFICATE-----");
        CHECK(e != NULL);
        added = ccz_trust_add_amd_ark(t, CCZ_SPAN(b, (size_t)(e - b) + 25)) == CCZ_OK;
        ccz_error_clear();
    }
    CHECK(added);
}

typedef struct {
    const ccz_buf *ev;
    ccz_trust *t;
    int ok;
} thread_arg;

static void *verify_many(void *p)
{
    thread_arg *a = p;
    static __thread ccz_result r;
    for (int i = 0; i < 25; i++)
        a->ok += verify_with(&r, a->ev, a->t, NOW) == CCZ_OK;
    return NULL;
}

static void test_snp_chain_cache(void)
{
    vectors_require();
    ccz_buf hcl = CCZ_BUF_INIT, vcek = CCZ_BUF_INIT, ev = CCZ_BUF_INIT;
    CHECK_OK(vectors_read(&hcl, SNP_DIR "hcl-report.bin", false));
    read_vcek_der(&vcek);
    compose(&ev, &hcl, SNP_DIR "tpm-quote-v1.json", NULL, &vcek, NULL);
    ccz_trust *a = NULL, *b = NULL, *none = NULL;
    CHECK_OK(ccz_trust_new(&a));
    CHECK_OK(ccz_trust_add_builtin(a));
    static ccz_result r;
    CHECK_OK(verify_with(&r, &ev, a, NOW));
    stats(a, 0, 1);
    CHECK_OK(verify_with(&r, &ev, a, NOW));
    stats(a, 1, 1);
    CHECK_STR(r.claims.snp.product, "Milan"); /* the product the chain named, remembered */

    /* (1) the VCEK with one bit flipped, once in its signature and once in what it signs (the
     * serial number): other bytes, a miss, and the chain no longer verifies */
    static const size_t flips[] = {0, 15};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(flips); i++) {
        ccz_buf bad = CCZ_BUF_INIT;
        CHECK_OK(ccz_buf_append(&bad, vcek.ptr, vcek.len));
        size_t off = flips[i] ? flips[i] : bad.len - 1;
        bad.ptr[off] ^= 0x01;
        compose(&ev, &hcl, SNP_DIR "tpm-quote-v1.json", NULL, &bad, NULL);
        CHECK_STATUS(verify_with(&r, &ev, a, NOW), CCZ_ERR_CERT_CHAIN);
        CHECK_STR(r.step, "platform_certificate");
        ccz_buf_free(&bad);
    }
    stats(a, 1, 3);

    /* (2) trusted under store a: not a hit under another store, nor under a once its roots
     * change, nor accepted by a store without AMD roots */
    compose(&ev, &hcl, SNP_DIR "tpm-quote-v1.json", NULL, &vcek, NULL);
    CHECK_OK(ccz_trust_new(&b));
    CHECK_OK(ccz_trust_add_builtin(b));
    CHECK_OK(verify_with(&r, &ev, b, NOW));
    stats(b, 0, 1);
    CHECK_OK(ccz_trust_new(&none));
    CHECK_STATUS(verify_with(&r, &ev, none, NOW), CCZ_ERR_CERT_CHAIN);
    CHECK_STR(r.step, "platform_certificate");
    add_an_ark_again(a);
    CHECK_OK(verify_with(&r, &ev, a, NOW));
    stats(a, 1, 4);
    CHECK_OK(verify_with(&r, &ev, a, NOW));
    stats(a, 2, 4);

    /* (3) the VCEK is valid 2023-05-02T21:22:19Z..2030-05-02T21:22:19Z: cached, it is still
     * refused after its notAfter and before its notBefore, and accepted on both ends */
    CHECK_STATUS(verify_with(&r, &ev, a, 1903987340), CCZ_ERR_EXPIRED);
    CHECK_STR(r.step, "platform_certificate");
    CHECK_STATUS(verify_with(&r, &ev, a, 1683062538), CCZ_ERR_NOT_YET_VALID);
    CHECK_OK(verify_with(&r, &ev, a, 1903987339));
    CHECK_OK(verify_with(&r, &ev, a, 1683062539));

    /* one store from four threads at once */
    pthread_t th[4];
    thread_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (thread_arg){.ev = &ev, .t = a};
        test_thread(&th[i], verify_many, &args[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK_INT(args[i].ok, 25);
    }
    ccz_trust_free(a);
    ccz_trust_free(b);
    ccz_trust_free(none);
    ccz_buf_free(&hcl);
    ccz_buf_free(&vcek);
    ccz_buf_free(&ev);
}

/* test_verify_init_data(_failure): PCR 8 = SHA-256(32 zero bytes || init data hash) */
static void test_init_data(void)
{
    vectors_require();
    uint8_t h[32], pcr[32];
    char s[65];
    CHECK_OK(ccz_hex_decode_fixed(
        h, 32, "8505e4e25e50a27c5dc8147af88efbece627fbea55291911eff832d9ee127781", 64));
    CHECK_OK(ccz_az_init_data_pcr(pcr, h));
    ccz_hex_to_str(s, pcr, 32);
    CHECK_STR(s, "bddaccb9c52249e97a31baea61b7d91be8221a16e703d92148d04fb8e9c1dfdd");
    /* the quote's PCR 8 is zero: the hash above and one with byte 0 flipped both fail */
    ccz_buf ev = CCZ_BUF_INIT;
    CHECK_OK(vectors_read(&ev, SNP_DIR "evidence-v1.json", false));
    static ccz_result r;
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.at_unix = NOW;
    o.trust = get_trust();
    o.expected_init_data_hash = h;
    CHECK_STATUS(ccz_verify(&r, ccz_buf_span(&ev), &o), CCZ_ERR_INIT_DATA_MISMATCH);
    CHECK_STR(r.step, "init_data");
    CHECK_CONTAINS(r.message, "needs bddaccb9c52249e9");
    memset(h, 0, 32);
    h[0] = 1;
    CHECK_STATUS(ccz_verify(&r, ccz_buf_span(&ev), &o), CCZ_ERR_INIT_DATA_MISMATCH);
    ccz_buf_free(&ev);
}

/* az-tdx-vtpm: the binding and the vTPM checks offline; the TD quote with the derived Intel
 * collateral of its FMSPC (00806F050000) at an instant it covers, else collateral missing or
 * out of date */
static void test_tdx(void)
{
    vectors_require();
    ccz_buf hcl = CCZ_BUF_INIT, tdq = CCZ_BUF_INIT, ev = CCZ_BUF_INIT, cj = CCZ_BUF_INIT;
    ccz_collateral *col = NULL;
    CHECK_OK(vectors_read(&hcl, TDX_DIR "hcl-report.bin", false));
    CHECK_OK(vectors_read(&tdq, TDX_DIR "td-quote.bin", false));
    CHECK_OK(vectors_read(&cj, TDX_COLLATERAL, false));
    CHECK_OK(ccz_collateral_parse(&col, (const char *)cj.ptr, cj.len));
    static ccz_result r;
    compose(&ev, &hcl, TDX_DIR "tpm-quote-v1.json", NULL, NULL, &tdq);
    CHECK_INT(ccz_evidence_detect(ccz_buf_span(&ev)), CCZ_TEE_AZ_TDX_VTPM);
    CHECK_STATUS(verify_at(&r, ccz_buf_span(&ev), NOW, "6368616c6c656e6765", NULL),
                 CCZ_ERR_COLLATERAL_MISSING);
    CHECK_STR(r.step, "collateral"); /* every offline step passed */
    CHECK_CONTAINS(r.message, "needs the network");
    CHECK_STATUS(verify_at(&r, ccz_buf_span(&ev), NOW, NULL, col), CCZ_ERR_COLLATERAL_OUT_OF_DATE);
    CHECK_OK(verify_at(&r, ccz_buf_span(&ev), IN_TDX_COLLATERAL, "6368616c6c656e6765", col));
    CHECK_INT(r.claims.tee, CCZ_TEE_AZ_TDX_VTPM);
    CHECK_STR(r.claims.tcb_status, "OutOfDate");
    hex_claim(&r, "report_data", "6368616c6c656e6765");
    hex_claim(&r, "tpm.pcr00", "782b20b10f55cc46e2142cc2145d548698073e5beb82752c8d7f9279f0d8a273");
    hex_claim(&r, "fmspc", "00806f050000");
    /* an event log is replayed into the TD quote's RTMRs as for a plain TD quote: trustee's
     * CCEL_data is not this TD's, so register 1 does not match RTMR0 */
    ccz_buf lb = CCZ_BUF_INIT;
    CHECK_OK(vectors_read(
        &lb, "more/confidential-containers_trustee/deps/eventlog/test_data/CCEL_data", false));
    ccz_eventlog *log = NULL;
    CHECK_OK(ccz_eventlog_parse(&log, ccz_buf_span(&lb)));
    ccz_verify_opts lo = CCZ_VERIFY_OPTS_INIT;
    lo.at_unix = IN_TDX_COLLATERAL;
    lo.trust = get_trust();
    lo.collateral = col;
    lo.eventlog = log;
    CHECK_STATUS(ccz_verify(&r, ccz_buf_span(&ev), &lo), CCZ_ERR_REPLAY_MISMATCH);
    CHECK_STR(r.step, "eventlog");
    CHECK_CONTAINS(r.message, "register 1 replays to 2dc712306a963ead");
    ccz_eventlog_free(log);
    ccz_buf_free(&lb);
    CHECK_STATUS(verify_at(&r, ccz_buf_span(&ev), NOW, "65676e656c6c616863", NULL),
                 CCZ_ERR_REPORT_DATA_MISMATCH);
    ccz_buf bad = CCZ_BUF_INIT;
    CHECK_OK(ccz_buf_append(&bad, hcl.ptr, hcl.len));
    bad.ptr[2176]++;
    compose(&ev, &bad, TDX_DIR "tpm-quote-v1.json", NULL, NULL, &tdq);
    CHECK_STATUS(verify_at(&r, ccz_buf_span(&ev), NOW, NULL, col), CCZ_ERR_BINDING);
    CHECK_STR(r.step, "hcl_report");
    CHECK_CONTAINS(r.message, "TD quote");
    compose(&ev, &hcl, TDX_DIR "tpm-quote-v1.json", "signature", NULL, &tdq);
    CHECK_STATUS(verify_at(&r, ccz_buf_span(&ev), NOW, NULL, col), CCZ_ERR_BAD_SIGNATURE);
    compose(&ev, &hcl, TDX_DIR "tpm-quote-v1.json", "pcr0", NULL, &tdq);
    CHECK_STATUS(verify_at(&r, ccz_buf_span(&ev), NOW, NULL, col), CCZ_ERR_PCR_MISMATCH);
    /* the SNP parts in a TDX document: the HCL report holds an SNP report */
    ccz_buf snp = CCZ_BUF_INIT;
    CHECK_OK(vectors_read(&snp, SNP_DIR "hcl-report.bin", false));
    compose(&ev, &snp, TDX_DIR "tpm-quote-v1.json", NULL, NULL, &tdq);
    CHECK_STATUS(verify_at(&r, ccz_buf_span(&ev), NOW, NULL, col), CCZ_ERR_MALFORMED);
    CHECK_STR(r.step, "parse");
    /* an SGX quote where the TD quote goes: refused by name, its body not read as a TD's */
    ccz_buf sgx = CCZ_BUF_INIT;
    CHECK_OK(vectors_read(&sgx, "Phala-Network_dcap-qvl/sample/sgx_quote", false));
    compose(&ev, &hcl, TDX_DIR "tpm-quote-v1.json", NULL, NULL, &sgx);
    CHECK_STATUS(verify_at(&r, ccz_buf_span(&ev), NOW, NULL, col), CCZ_ERR_MALFORMED);
    CHECK_STR(r.step, "parse");
    CHECK_CONTAINS(r.message, "the \"td_quote\" is not a TDX quote");
    /* Azure SEV-SNP evidence with Intel collateral: refused at the collateral step, by name */
    ccz_buf vcek = CCZ_BUF_INIT;
    read_vcek_der(&vcek);
    compose(&ev, &snp, SNP_DIR "tpm-quote-v1.json", NULL, &vcek, NULL);
    CHECK_OK(verify_at(&r, ccz_buf_span(&ev), NOW, NULL, NULL));
    CHECK_STATUS(verify_at(&r, ccz_buf_span(&ev), NOW, NULL, col), CCZ_ERR_COLLATERAL_MISMATCH);
    CHECK_STR(r.step, "collateral");
    CHECK_CONTAINS(r.message, "Azure SEV-SNP evidence carries its VCEK: Intel collateral does not "
                              "apply");
    ccz_buf_free(&vcek);
    ccz_buf_free(&sgx);
    /* the init data hash is PCR 8's, which only Azure vTPM evidence has: with the plain TD
     * quote, which verifies, refused rather than left unchecked */
    static const uint8_t init_hash[32] = {1};
    ccz_verify_opts io = CCZ_VERIFY_OPTS_INIT;
    io.at_unix = IN_TDX_COLLATERAL;
    io.trust = get_trust();
    io.collateral = col;
    CHECK_OK(ccz_verify(&r, ccz_buf_span(&tdq), &io));
    io.expected_init_data_hash = init_hash;
    CHECK_STATUS(ccz_verify(&r, ccz_buf_span(&tdq), &io), CCZ_ERR_UNSUPPORTED);
    CHECK_STR(r.step, "init_data");
    CHECK_CONTAINS(r.message, "an init data hash is checked against PCR 8 of Azure vTPM "
                              "evidence; tdx evidence has no PCR 8");
    /* trustee's own files */
    static const char *const files[] = {TDX_DIR "evidence-v0.json", TDX_DIR "evidence-v1.json"};
    for (size_t i = 0; i < 2; i++) {
        ccz_buf_reset(&ev);
        CHECK_OK(vectors_read(&ev, files[i], false));
        CHECK_OK(verify_at(&r, ccz_buf_span(&ev), IN_TDX_COLLATERAL, "6368616c6c656e6765", col));
        hex_claim(&r, "tpm.pcr00",
                  "782b20b10f55cc46e2142cc2145d548698073e5beb82752c8d7f9279f0d8a273");
    }
    ccz_collateral_free(col);
    ccz_buf_free(&snp);
    ccz_buf_free(&bad);
    ccz_buf_free(&hcl);
    ccz_buf_free(&tdq);
    ccz_buf_free(&ev);
    ccz_buf_free(&cj);
}

/* ccz_evidence_peek (what `ccz ratls` shows of a peer, unverified): the quote's nonce as the
 * report data, the hardware report's claims, and the debug bit of the SNP report's policy
 * (bit 19) or of the TD's attributes (bit 0) */
static void test_peek(void)
{
    vectors_require();
    ccz_buf hcl = CCZ_BUF_INIT, vcek = CCZ_BUF_INIT, tdq = CCZ_BUF_INIT, ev = CCZ_BUF_INIT;
    CHECK_OK(vectors_read(&hcl, SNP_DIR "hcl-report.bin", false));
    read_vcek_der(&vcek);
    static ccz_claims c;
    for (int debug = 0; debug < 2; debug++) {
        if (debug)
            hcl.ptr[CCZ_HCL_HW_REPORT_OFFSET + 0x0a] |= 0x08;
        compose(&ev, &hcl, SNP_DIR "tpm-quote-v1.json", NULL, &vcek, NULL);
        CHECK_OK(ccz_evidence_peek(&c, ccz_buf_span(&ev)));
        CHECK_INT(c.tee, CCZ_TEE_AZ_SNP_VTPM);
        CHECK_INT(c.debug, debug);
        CHECK_INT(c.report_data_len, 9);
        CHECK(memcmp(c.report_data, "challenge", 9) == 0);
        CHECK_INT(c.snp.version, 2);
    }
    ccz_buf_free(&hcl);
    CHECK_OK(vectors_read(&hcl, TDX_DIR "hcl-report.bin", false));
    CHECK_OK(vectors_read(&tdq, TDX_DIR "td-quote.bin", false));
    for (int debug = 0; debug < 2; debug++) {
        if (debug)
            tdq.ptr[48 + 120] |= 0x01; /* the TD report body's td_attributes: DEBUG */
        compose(&ev, &hcl, TDX_DIR "tpm-quote-v1.json", NULL, NULL, &tdq);
        CHECK_OK(ccz_evidence_peek(&c, ccz_buf_span(&ev)));
        CHECK_INT(c.tee, CCZ_TEE_AZ_TDX_VTPM);
        CHECK_INT(c.debug, debug);
        CHECK_INT(c.report_data_len, 9);
        CHECK(memcmp(c.report_data, "challenge", 9) == 0);
        CHECK_INT(c.tdx.td_attributes[0] & 0x01, debug);
    }
    ccz_buf_free(&hcl);
    ccz_buf_free(&vcek);
    ccz_buf_free(&tdq);
    ccz_buf_free(&ev);
}

static void cleanup(void)
{
    ccz_trust_free(trust);
}

TEST_MAIN(T(test_snp_evidence_files), T(test_snp_v2_user_data), T(test_snp_parts),
          T(test_snp_chain_cache), T(test_init_data), T(test_tdx), T(test_peek), T(cleanup))
