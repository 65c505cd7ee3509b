/* SPDX-License-Identifier: Apache-2.0 */
/* Every case of ../shared/vectors/dcap_cases.json: real SGX and TDX quotes with Intel
 * collateral, verified at the recorded instant. The verdict must match exactly: ok, TCB status,
 * advisories (as a set), error code; and the production checks' verdict and reason. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "ccz/ccz.h"
#include "dcap_forge.h"
#include "test.h"
#include "vectors.h"

/* Accepts every TCB status but Revoked, so only the production checks can reject. */
static const char production_policy[] =
    "{\"accepted_tcb_statuses\": [\"UpToDate\", \"SWHardeningNeeded\", \"ConfigurationNeeded\", "
    "\"ConfigurationAndSWHardeningNeeded\", \"OutOfDate\", \"OutOfDateConfigurationNeeded\", "
    "\"TDRelaunchAdvised\", \"TDRelaunchAdvisedConfigurationNeeded\"]}";

static void check_advisories(const char *id, const ccz_claims *c, const json_t *want)
{
    size_t n = json_array_size(want);
    bool same = n == c->n_advisories;
    for (size_t i = 0; same && i < n; i++) {
        bool found = false;
        for (size_t j = 0; j < c->n_advisories; j++)
            found |= strcmp(c->advisories[j], json_string_value(json_array_get(want, i))) == 0;
        same = found;
    }
    /* ccz reports them sorted */
    for (size_t j = 1; j < c->n_advisories; j++)
        same &= strcmp(c->advisories[j - 1], c->advisories[j]) < 0;
    if (!same) {
        fprintf(stderr, "%s: advisories differ (got %zu)\n", id, c->n_advisories);
        test_failures++;
    }
}

static void run_case(const json_t *tc, const ccz_policy *prod, int *ran)
{
    const char *id = json_string_value(json_object_get(tc, "id"));
    const char *quote = json_string_value(json_object_get(tc, "quote"));
    const char *fmt = json_string_value(json_object_get(tc, "quote_format"));
    const char *coll = json_string_value(json_object_get(tc, "collateral"));
    const char *root = json_string_value(json_object_get(tc, "root_ca"));
    int64_t at = json_integer_value(json_object_get(tc, "now_unix"));
    const json_t *want = json_object_get(tc, "verify");
    const json_t *prod_want = json_object_get(tc, "production_checks");

    ccz_buf q = CCZ_BUF_INIT, cb = CCZ_BUF_INIT, rb = CCZ_BUF_INIT;
    CHECK_OK(vectors_read(&q, quote, strcmp(fmt, "hex") == 0));
    CHECK_OK(vectors_read(&cb, coll, false));
    CHECK_OK(vectors_read(&rb, root, false));
    ccz_collateral *col = NULL;
    ccz_trust *trust = NULL;
    CHECK_OK(ccz_collateral_parse(&col, (const char *)cb.ptr, cb.len));
    CHECK_OK(ccz_trust_new(&trust));
    CHECK_OK(ccz_trust_add_intel_root(trust, ccz_buf_span(&rb)));

    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.at_unix = at;
    o.trust = trust;
    o.collateral = col;
    static ccz_result r;
    ccz_status s = ccz_verify(&r, ccz_buf_span(&q), &o);
    bool want_ok = json_is_true(json_object_get(want, "ok"));
    test_name = id;
    if (want_ok) {
        CHECK_OK(s);
        CHECK_STR(r.claims.tcb_status, json_string_value(json_object_get(want, "tcb_status")));
        check_advisories(id, &r.claims, json_object_get(want, "advisories"));
        CHECK(!r.claims.simulated);
    } else {
        CHECK_STR(ccz_status_name(s), json_string_value(json_object_get(want, "error")));
    }

    static ccz_appraisal ap;
    const char *reason = json_string_value(json_object_get(prod_want, "reason"));
    bool accept = json_is_true(json_object_get(prod_want, "accept"));
    if (s == CCZ_OK) {
        CHECK_OK(ccz_appraise(&ap, prod, &r.claims));
        CHECK(ap.accepted == accept);
        if (!accept)
            CHECK(ap.n_reasons == 1 && strcmp(ap.reasons[0].code, reason) == 0);
    } else {
        CHECK(!accept);
        CHECK_STR(ccz_status_name(s), reason);
    }
    printf("  %-28s %s %s\n", id, s == CCZ_OK ? r.claims.tcb_status : ccz_status_name(s),
           s == CCZ_OK ? "" : r.step);
    (*ran)++;
    ccz_collateral_free(col);
    ccz_trust_free(trust);
    ccz_buf_free(&q);
    ccz_buf_free(&cb);
    ccz_buf_free(&rb);
}

static void test_all_cases(void)
{
    vectors_require();
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_OK(vectors_read(&b, "dcap_cases.json", false));
    json_t *cases = json_loadb((const char *)b.ptr, b.len, 0, NULL);
    CHECK(json_is_array(cases));
    ccz_policy *prod;
    CHECK_OK(ccz_policy_parse(&prod, production_policy, sizeof production_policy - 1));
    int ran = 0;
    size_t i;
    json_t *tc;
    json_array_foreach (cases, i, tc)
        run_case(tc, prod, &ran);
    test_name = "test_all_cases";
    CHECK_INT(ran, json_array_size(cases));
    CHECK(ran >= 12);
    ccz_policy_free(prod);
    json_decref(cases);
    ccz_buf_free(&b);
}

/* Claims of one known quote, byte for byte where the vectors' sources state them. */
static void test_claims_of_known_quotes(void)
{
    vectors_require();
    ccz_buf q = CCZ_BUF_INIT, cb = CCZ_BUF_INIT;
    CHECK_OK(vectors_read(&q, "mobilecoinfoundation_attestation/verifier/data/tests/hw_quote.dat",
                          false));
    CHECK_OK(vectors_read(&cb, "derived/mobilecoin_collateral.json", false));
    ccz_dcap_quote dq;
    CHECK_OK(ccz_dcap_quote_parse(&dq, ccz_buf_span(&q)));
    ccz_sgx_claims g;
    uint8_t rd[64];
    CHECK_OK(ccz_dcap_sgx_report_decode(&g, rd, dq.body));
    char hex[65];
    ccz_hex_to_str(hex, g.mr_enclave, 32);
    CHECK_STR(hex, "840d61b0585dc8b4dc90f53af293c760fda06bee75978a6a86263ffb296423f4");
    CHECK_INT(g.isv_svn, 0);
    CHECK_INT(dq.version, 3);
    CHECK_INT(dq.cert_type, 5);
    ccz_collateral *col;
    CHECK_OK(ccz_collateral_parse(&col, (const char *)cb.ptr, cb.len));
    uint8_t fmspc[6];
    ccz_collateral_fmspc(fmspc, col);
    ccz_hex_to_str(hex, fmspc, 6);
    CHECK_STR(hex, "00906ed50000");
    CHECK_STR(ccz_collateral_tee(col), "SGX");
    ccz_collateral_free(col);
    ccz_buf_free(&q);
    ccz_buf_free(&cb);
}

/* SEV-SNP collateral (a VCEK) handed with a DCAP quote is refused at the collateral step. */
static void test_snp_collateral_for_a_dcap_quote(void)
{
    vectors_require();
    ccz_buf v = CCZ_BUF_INIT, q = CCZ_BUF_INIT;
    CHECK_OK(vectors_read(&v, "google_go-sev-guest/verify/testdata/vcek.testcer", false));
    ccz_collateral *col = NULL;
    CHECK_OK(ccz_snp_collateral_new(&col, ccz_buf_span(&v), CCZ_SPAN("", 0)));
    forge *f = forge_new();
    forge_quote_opts o;
    forge_quote_defaults(&o);
    CHECK_OK(forge_quote(f, &q, &o));
    ccz_trust *trust = forge_trust(f);
    ccz_verify_opts vo = CCZ_VERIFY_OPTS_INIT;
    vo.at_unix = 1767225600;
    vo.trust = trust;
    vo.collateral = col;
    static ccz_result r;
    CHECK_STATUS(ccz_verify(&r, ccz_buf_span(&q), &vo), CCZ_ERR_COLLATERAL_MISMATCH);
    CHECK_STR(r.step, "collateral");
    CHECK_CONTAINS(r.message, "the collateral is for SEV-SNP, not for SGX quotes");
    ccz_trust_free(trust);
    forge_free(f);
    ccz_collateral_free(col);
    ccz_buf_free(&q);
    ccz_buf_free(&v);
}

TEST_MAIN(T(test_all_cases), T(test_claims_of_known_quotes),
          T(test_snp_collateral_for_a_dcap_quote))
