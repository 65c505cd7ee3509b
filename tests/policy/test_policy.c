/* SPDX-License-Identifier: Apache-2.0 */
/* Policy: parsing of ccz policies and CCZoo dynamic_config.json, and the appraisal matrix
 * (each field on and off, several entries, empty lists, strings and numbers, bad documents). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ccz/ccz.h"
#include "test.h"

#define MRE "1e4f3efafac6038dadaa94fdd248b93c82ae9f0a16642ff4bb07afe442aac56e"
#define MRS "5add213ac35413033647621e2fab91edcc8b82f840426803feb8a603be2ce8d4"
#define ZERO64 "0000000000000000000000000000000000000000000000000000000000000000"

static ccz_policy *parse(const char *text)
{
    ccz_policy *p = NULL;
    ccz_status s = ccz_policy_parse(&p, text, strlen(text));
    if (s) {
        fprintf(stderr, "%s: policy did not parse: %s\n%s\n", test_name, ccz_error_detail(), text);
        test_failures++;
    }
    return p;
}

/* Parses a document that must fail, and checks the message names the problem. */
static void parse_fails(const char *text, const char *message_part)
{
    ccz_policy *p = (ccz_policy *)1;
    CHECK_STATUS(ccz_policy_parse(&p, text, strlen(text)), CCZ_ERR_POLICY);
    CHECK(p == NULL);
    CHECK_CONTAINS(ccz_error_detail(), message_part);
}

/* SGX claims: MRE/MRS, product 0, svn 0, release, UpToDate. */
static ccz_claims sgx_claims(void)
{
    ccz_claims c;
    memset(&c, 0, sizeof c);
    c.tee = CCZ_TEE_SGX;
    CHECK_OK(ccz_hex_decode_fixed(c.sgx.mr_enclave, 32, MRE, 64));
    CHECK_OK(ccz_hex_decode_fixed(c.sgx.mr_signer, 32, MRS, 64));
    strcpy(c.tcb_status, "UpToDate");
    return c;
}

static ccz_claims sim_claims(void)
{
    ccz_claims c = sgx_claims();
    c.tee = CCZ_TEE_SIM;
    c.simulated = true;
    c.tcb_status[0] = '\0';
    return c;
}

/* Appraises and checks the verdict and the reason codes, in order. */
static void expect(const ccz_policy *p, const ccz_claims *c, bool accepted, const char *codes)
{
    static ccz_appraisal a;
    if (!p)
        return;
    CHECK_OK(ccz_appraise(&a, p, c));
    char got[512] = "";
    for (size_t i = 0; i < a.n_reasons; i++) {
        strcat(got, i ? "," : "");
        strncat(got, a.reasons[i].code, sizeof got - strlen(got) - 1);
    }
    if (a.accepted != accepted || strcmp(got, codes) != 0) {
        fprintf(stderr, "%s: appraisal %s [%s], expected %s [%s]\n", test_name,
                a.accepted ? "accepted" : "rejected", got, accepted ? "accepted" : "rejected",
                codes);
        for (size_t i = 0; i < a.n_reasons; i++)
            fprintf(stderr, "  %s: %s\n", a.reasons[i].code, a.reasons[i].message);
        test_failures++;
    }
    CHECK(accepted == (a.n_reasons == 0));
}

static void test_default_policy(void)
{
    ccz_policy *p;
    CHECK_OK(ccz_policy_default(&p));
    ccz_claims c = sgx_claims();
    expect(p, &c, true, "");
    strcpy(c.tcb_status, "SWHardeningNeeded");
    expect(p, &c, false, "tcb_status_not_accepted");
    strcpy(c.tcb_status, "");
    expect(p, &c, false, "tcb_status_missing");
    c = sgx_claims();
    c.debug = true;
    expect(p, &c, false, "debug");
    c = sim_claims();
    expect(p, &c, false, "simulated_not_allowed");
    c.debug = true;
    expect(p, &c, false, "simulated_not_allowed,debug");
    memset(&c, 0, sizeof c);
    expect(p, &c, false, "tee_not_accepted");
    ccz_policy_free(p);
}

static void test_ccz_policy(void)
{
    ccz_policy *p =
        parse("{\"ccz_policy\": 1, \"allow_sim\": true, \"sgx\": [{\"mr_enclave\": \"" MRE
              "\", \"isv_svn_min\": 2}]}");
    ccz_claims c = sim_claims();
    expect(p, &c, false, "measurement_not_accepted");
    c.sgx.isv_svn = 2;
    expect(p, &c, true, "");
    c.sgx.isv_svn = 9;
    expect(p, &c, true, "");
    c.sgx.mr_enclave[31] ^= 1;
    expect(p, &c, false, "measurement_not_accepted");
    /* real SGX evidence is appraised against the same list */
    c = sgx_claims();
    c.sgx.isv_svn = 3;
    expect(p, &c, true, "");
    ccz_policy_free(p);

    p = parse("{\"tees\": [\"tdx\"], \"allow_outdated_tcb\": true}");
    c = sgx_claims();
    expect(p, &c, false, "tee_not_accepted");
    ccz_claims t;
    memset(&t, 0, sizeof t);
    t.tee = CCZ_TEE_TDX;
    t.tdx.td_attributes[3] = 0x10; /* SEPT_VE_DISABLE */
    strcpy(t.tcb_status, "OutOfDate");
    expect(p, &t, true, "");
    strcpy(t.tcb_status, "OutOfDateConfigurationNeeded");
    expect(p, &t, true, "");
    strcpy(t.tcb_status, "ConfigurationNeeded");
    expect(p, &t, false, "tcb_status_not_accepted");
    strcpy(t.tcb_status, "Revoked");
    expect(p, &t, false, "tcb_status_not_accepted");
    ccz_policy_free(p);

    p = parse("{\"accepted_tcb_statuses\": [\"UpToDate\", \"SWHardeningNeeded\"], \"allow_debug\": "
              "true}");
    c = sgx_claims();
    c.debug = true;
    strcpy(c.tcb_status, "SWHardeningNeeded");
    expect(p, &c, true, "");
    ccz_policy_free(p);
}

static void test_tdx_and_snp_lists(void)
{
    char doc[1024];
    char r0[97];
    memset(r0, 'a', 96);
    r0[96] = 0;
    snprintf(doc, sizeof doc,
             "{\"tdx\": [{\"mr_td\": \"%s\", \"rtmr0\": \"%s\"}], \"snp\": "
             "[{\"measurement\": \"%s\", \"guest_svn_min\": 3}]}",
             r0, r0, r0);
    ccz_policy *p = parse(doc);
    ccz_claims t;
    memset(&t, 0, sizeof t);
    t.tee = CCZ_TEE_TDX;
    t.tdx.td_attributes[3] = 0x10; /* SEPT_VE_DISABLE */
    strcpy(t.tcb_status, "UpToDate");
    memset(t.tdx.mr_td, 0xaa, 48);
    memset(t.tdx.rtmr[0], 0xaa, 48);
    expect(p, &t, true, "");
    t.tdx.rtmr[0][5] = 0;
    expect(p, &t, false, "measurement_not_accepted");
    ccz_claims s;
    memset(&s, 0, sizeof s);
    s.tee = CCZ_TEE_SNP;
    memset(s.snp.measurement, 0xaa, 48);
    s.snp.guest_svn = 3;
    expect(p, &s, true, "");
    s.snp.guest_svn = 2;
    expect(p, &s, false, "measurement_not_accepted");
    ccz_policy_free(p);
}

/* Azure's confidential VMs are appraised as the hardware they run on: az-tdx-vtpm claims
 * against the tdx list, the TD checks (SEPT_VE_DISABLE, MRSERVICETD) and the TCB statuses;
 * az-snp-vtpm claims against the snp list and the SNP checks (VMPL). Without that mapping the
 * lists would not constrain them at all. */
static void test_azure_as_hardware(void)
{
    char doc[1024], r0[97];
    memset(r0, 'a', 96);
    r0[96] = 0;
    snprintf(doc, sizeof doc,
             "{\"tdx\": [{\"mr_td\": \"%s\"}], \"snp\": [{\"measurement\": "
             "\"%s\"}]}",
             r0, r0);
    ccz_policy *p = parse(doc);
    ccz_claims t;
    memset(&t, 0, sizeof t);
    t.tee = CCZ_TEE_AZ_TDX_VTPM;
    t.tdx.td_attributes[3] = 0x10; /* SEPT_VE_DISABLE */
    strcpy(t.tcb_status, "UpToDate");
    memset(t.tdx.mr_td, 0xaa, 48);
    expect(p, &t, true, "");
    t.tdx.mr_td[0] = 0;
    expect(p, &t, false, "measurement_not_accepted");
    t.tdx.mr_td[0] = 0xaa;
    strcpy(t.tcb_status, "OutOfDate");
    expect(p, &t, false, "tcb_status_not_accepted");
    strcpy(t.tcb_status, "UpToDate");
    t.tdx.td_attributes[3] = 0;
    t.tdx.td_report_15 = true;
    t.tdx.mr_servicetd[0] = 1;
    expect(p, &t, false, "mrservicetd_nonzero,sept_ve_disable_clear");
    ccz_claims s;
    memset(&s, 0, sizeof s);
    s.tee = CCZ_TEE_AZ_SNP_VTPM;
    memset(s.snp.measurement, 0xaa, 48);
    expect(p, &s, true, "");
    s.snp.measurement[47] = 0;
    s.snp.vmpl = 1;
    expect(p, &s, false, "measurement_not_accepted,vmpl_too_high");
    ccz_policy_free(p);
}

/* One dynamic_config with each switch set as given and one entry. */
static ccz_policy *dc(const char *me, const char *ms, const char *pid, const char *svn,
                      const char *entry)
{
    static char doc[20000];
    snprintf(doc, sizeof doc,
             "{\"verify_mr_enclave\": \"%s\", \"verify_mr_signer\": \"%s\", "
             "\"verify_isv_prod_id\": \"%s\", \"verify_isv_svn\": \"%s\", "
             "\"ccz_allow_sim\": \"on\", \"sgx_mrs\": [%s]}",
             me, ms, pid, svn, entry);
    return parse(doc);
}

static void test_dynamic_config_matrix(void)
{
    static const char *const wrong[] = {
        "{\"mr_enclave\": \"" ZERO64 "\", \"mr_signer\": \"" MRS "\", \"isv_prod_id\": \"0\", "
        "\"isv_svn\": \"0\"}",
        "{\"mr_enclave\": \"" MRE "\", \"mr_signer\": \"" ZERO64 "\", \"isv_prod_id\": \"0\", "
        "\"isv_svn\": \"0\"}",
        "{\"mr_enclave\": \"" MRE "\", \"mr_signer\": \"" MRS "\", \"isv_prod_id\": \"4\", "
        "\"isv_svn\": \"0\"}",
        "{\"mr_enclave\": \"" MRE "\", \"mr_signer\": \"" MRS "\", \"isv_prod_id\": \"0\", "
        "\"isv_svn\": \"5\"}",
    };
    static const char *const field[] = {"mr_enclave", "mr_signer", "isv_prod_id", "isv_svn"};
    ccz_claims c = sim_claims();
    for (int f = 0; f < 4; f++) {
        for (int on = 0; on < 2; on++) {
            const char *sw[4] = {"off", "off", "off", "off"};
            sw[f] = on ? "on" : "off";
            ccz_policy *p = dc(sw[0], sw[1], sw[2], sw[3], wrong[f]);
            expect(p, &c, !on, on ? "measurement_not_accepted" : "");
            static ccz_appraisal a;
            if (on && p && ccz_appraise(&a, p, &c) == CCZ_OK && a.n_reasons)
                CHECK_CONTAINS(a.reasons[0].message, field[f]);
            ccz_policy_free(p);
        }
    }
    /* all on, right values: numbers and strings alike */
    ccz_policy *p = dc("on", "on", "on", "on",
                       "{\"mr_enclave\": \"" MRE "\", \"mr_signer\": \"" MRS
                       "\", \"isv_prod_id\": 0, \"isv_svn\": \"0\"}");
    expect(p, &c, true, "");
    ccz_policy_free(p);
    /* upper-case hex is the same value */
    char upper[65] = MRE;
    for (int i = 0; upper[i]; i++)
        upper[i] = (char)(upper[i] >= 'a' ? upper[i] - 32 : upper[i]);
    char entry[256];
    snprintf(entry, sizeof entry, "{\"mr_enclave\": \"%s\"}", upper);
    p = dc("on", "off", "off", "off", entry);
    expect(p, &c, true, "");
    ccz_policy_free(p);
}

static void test_dynamic_config_entries(void)
{
    ccz_claims c = sim_claims();
    /* several entries: any one matching is enough */
    ccz_policy *p = dc("on", "off", "off", "off",
                       "{\"mr_enclave\": \"" ZERO64 "\"}, {\"mr_enclave\": \"" MRE "\"}");
    expect(p, &c, true, "");
    ccz_policy_free(p);
    /* none matching: one reason per entry */
    p = dc("on", "off", "on", "off",
           "{\"mr_enclave\": \"" ZERO64 "\", \"isv_prod_id\": 0}, {\"mr_enclave\": \"" MRE
           "\", \"isv_prod_id\": 3}");
    expect(p, &c, false, "measurement_not_accepted,measurement_not_accepted");
    static ccz_appraisal a;
    CHECK_OK(ccz_appraise(&a, p, &c));
    CHECK_CONTAINS(a.reasons[0].message,
                   "sgx_mrs[0]: mr_enclave is 1e4f3efafac6..., not 000000000000...");
    CHECK_CONTAINS(a.reasons[1].message, "sgx_mrs[1]: isv_prod_id is 0, not 3");
    ccz_policy_free(p);
    /* an empty list accepts nobody */
    p = dc("on", "on", "on", "on", "");
    expect(p, &c, false, "no_accepted_measurements");
    ccz_policy_free(p);
    p = dc("off", "off", "off", "off", "");
    expect(p, &c, false, "no_accepted_measurements");
    ccz_policy_free(p);
    /* all switches off, one entry: any enclave passes the measurement check */
    p = dc("off", "off", "off", "off", "{}");
    expect(p, &c, true, "");
    ccz_policy_free(p);
    /* many non-matching entries: reasons are capped with a summary */
    char big[16384] = "";
    for (int i = 0; i < 100; i++)
        strcat(big, i ? ",{\"mr_enclave\": \"" ZERO64 "\"}" : "{\"mr_enclave\": \"" ZERO64 "\"}");
    p = dc("on", "off", "off", "off", big);
    CHECK_OK(ccz_appraise(&a, p, &c));
    CHECK(!a.accepted);
    CHECK_INT(a.n_reasons, CCZ_MAX_REASONS - 8 + 1);
    CHECK_CONTAINS(a.reasons[a.n_reasons - 1].message, "76 more sgx_mrs entries");
    ccz_policy_free(p);
}

static void test_dynamic_config_sim_and_debug(void)
{
    ccz_claims c = sim_claims();
    /* CCZoo's own file, unchanged, rejects sim evidence */
    ccz_policy *p =
        parse("{\n    \"verify_mr_enclave\" : \"on\",\n    \"verify_mr_signer\" : \"on\",\n"
              "    \"verify_isv_prod_id\" : \"on\",\n    \"verify_isv_svn\" : \"on\",\n"
              "    \"sgx_mrs\": [\n        {\n            \"mr_enclave\" : \"" MRE "\",\n"
              "            \"mr_signer\" : \"" MRS "\",\n"
              "            \"isv_prod_id\" : \"0\",\n            \"isv_svn\" : \"0\"\n"
              "        }\n    ]\n}\n");
    CHECK_INT(ccz_policy_get_format(p), CCZ_POLICY_FORMAT_DYNAMIC_CONFIG);
    expect(p, &c, false, "simulated_not_allowed");
    ccz_claims g = sgx_claims();
    expect(p, &g, true, "");
    g.debug = true;
    expect(p, &g, false, "debug");
    ccz_claims t;
    memset(&t, 0, sizeof t);
    t.tee = CCZ_TEE_TDX;
    t.tdx.td_attributes[3] = 0x10; /* SEPT_VE_DISABLE */
    strcpy(t.tcb_status, "UpToDate");
    expect(p, &t, false, "tee_not_accepted");
    ccz_policy_free(p);

    /* verify_enclave_debuggable with debuggable true admits that debug enclave */
    p = parse("{\"verify_mr_enclave\": \"on\", \"verify_enclave_debuggable\": \"on\", \"sgx_mrs\": "
              "[{\"mr_enclave\": \"" MRE "\", \"debuggable\": true}]}");
    expect(p, &g, true, "");
    g.debug = false;
    expect(p, &g, false, "measurement_not_accepted");
    ccz_policy_free(p);

    /* ccz_isv_svn_min turns the svn comparison into "at least" */
    p = parse("{\"verify_isv_svn\": \"on\", \"ccz_isv_svn_min\": \"on\", \"sgx_mrs\": "
              "[{\"isv_svn\": \"3\"}]}");
    g = sgx_claims();
    g.sgx.isv_svn = 4;
    expect(p, &g, true, "");
    g.sgx.isv_svn = 2;
    expect(p, &g, false, "measurement_not_accepted");
    ccz_policy_free(p);
    p = parse("{\"verify_isv_svn\": \"on\", \"sgx_mrs\": [{\"isv_svn\": \"3\"}]}");
    g.sgx.isv_svn = 4;
    expect(p, &g, false, "measurement_not_accepted");
    ccz_policy_free(p);
}

static void test_dynamic_config_tdx(void)
{
    char r[97], doc[2048];
    memset(r, 'b', 96);
    r[96] = 0;
    /* CCZoo's TDX form: switches for every TD measurement, one list */
    snprintf(doc, sizeof doc,
             "{\"verify_mr_seam\": \"off\", \"verify_mrsigner_seam\": \"off\", "
             "\"verify_mr_td\": \"on\", \"verify_mr_config_id\": \"off\", \"verify_mr_owner\": "
             "\"off\", \"verify_mr_owner_config\": \"off\", \"verify_rt_mr0\": \"on\", "
             "\"verify_rt_mr1\": \"off\", \"verify_rt_mr2\": \"off\", \"verify_rt_mr3\": \"off\", "
             "\"tdx_mrs\": [{\"mr_seam\": \"\", \"mrsigner_seam\": \"\", \"mr_td\": \"%s\", "
             "\"mr_config_id\": \"\", \"mr_owner\": \"\", \"mr_owner_config\": \"\", \"rt_mr0\": "
             "\"%s\", \"rt_mr1\": \"\", \"rt_mr2\": \"\", \"rt_mr3\": \"\"}]}",
             r, r);
    ccz_policy *p = parse(doc);
    ccz_claims t;
    memset(&t, 0, sizeof t);
    t.tee = CCZ_TEE_TDX;
    t.tdx.td_attributes[3] = 0x10; /* SEPT_VE_DISABLE */
    strcpy(t.tcb_status, "UpToDate");
    memset(t.tdx.mr_td, 0xbb, 48);
    memset(t.tdx.rtmr[0], 0xbb, 48);
    expect(p, &t, true, "");
    t.tdx.rtmr[0][0] = 0;
    expect(p, &t, false, "measurement_not_accepted");
    ccz_claims g = sgx_claims();
    expect(p, &g, false, "tee_not_accepted");
    /* the list is for the tdx TEE alone: a TD behind Azure's vTPM that matches it is refused */
    t.tdx.rtmr[0][0] = 0xbb;
    t.tee = CCZ_TEE_AZ_TDX_VTPM;
    expect(p, &t, false, "tee_not_accepted");
    t.tee = CCZ_TEE_TDX;
    ccz_policy_free(p);

    /* both lists in one document: each list's switches ask for its own fields only (an SGX
     * entry has no mr_td, a TD entry no mr_enclave) */
    snprintf(doc, sizeof doc,
             "{\"verify_mr_enclave\": \"on\", \"verify_mr_td\": \"on\", \"sgx_mrs\": "
             "[{\"mr_enclave\": \"" MRE "\"}], \"tdx_mrs\": [{\"mr_td\": \"%s\"}]}",
             r);
    p = parse(doc);
    memset(t.tdx.rtmr[0], 0, 48);
    expect(p, &t, true, "");
    expect(p, &g, true, "");
    t.tdx.mr_td[47] ^= 1;
    expect(p, &t, false, "measurement_not_accepted");
    ccz_policy_free(p);
}

static void test_production_checks(void)
{
    ccz_policy *p;
    CHECK_OK(ccz_policy_default(&p));
    ccz_claims t;
    memset(&t, 0, sizeof t);
    t.tee = CCZ_TEE_TDX;
    strcpy(t.tcb_status, "UpToDate");
    expect(p, &t, false, "sept_ve_disable_clear");
    t.tdx.td_attributes[3] = 0x10;
    expect(p, &t, true, "");
    t.tdx.td_report_15 = true;
    t.tdx.mr_servicetd[47] = 1;
    expect(p, &t, false, "mrservicetd_nonzero");
    t.tdx.td_attributes[0] = 0x01; /* TUD.DEBUG */
    t.debug = true;
    t.tdx.td_attributes[3] = 0;
    expect(p, &t, false, "debug,mrservicetd_nonzero,sept_ve_disable_clear");
    ccz_policy_free(p);
    p = parse("{\"allow_debug\": true, \"allow_mrservicetd_nonzero\": true, "
              "\"allow_sept_ve_disable_clear\": true}");
    expect(p, &t, true, "");
    ccz_policy_free(p);
    p = parse("{\"verify_mr_td\": \"off\", \"ccz_allow_mrservicetd_nonzero\": \"on\", "
              "\"ccz_allow_sept_ve_disable_clear\": \"on\", \"ccz_allow_debug\": \"on\", "
              "\"tdx_mrs\": [{}]}");
    expect(p, &t, true, "");
    ccz_policy_free(p);
    /* a TD report 1.0 has no MRSERVICETD to check */
    t.tdx.td_report_15 = false;
    CHECK_OK(ccz_policy_default(&p));
    t.debug = false;
    t.tdx.td_attributes[3] = 0x10;
    expect(p, &t, true, "");
    strcpy(t.tcb_status, "TDRelaunchAdvised");
    expect(p, &t, false, "tcb_status_not_accepted");
    ccz_policy_free(p);
    p = parse("{\"accepted_tcb_statuses\": [\"TDRelaunchAdvised\"]}");
    expect(p, &t, true, "");
    ccz_policy_free(p);
}

static void test_snp_checks(void)
{
    ccz_policy *p;
    CHECK_OK(ccz_policy_default(&p));
    ccz_claims c;
    memset(&c, 0, sizeof c);
    c.tee = CCZ_TEE_SNP;
    c.snp.policy = 0x30000;
    expect(p, &c, true, ""); /* SNP has no Intel TCB status */
    /* the default policy has a floor: VMPL 0 only, like DCAP's UpToDate */
    c.snp.vmpl = 1;
    expect(p, &c, false, "vmpl_too_high");
    static ccz_appraisal a;
    CHECK_OK(ccz_appraise(&a, p, &c));
    CHECK_CONTAINS(a.reasons[0].message, "VMPL 1, above the policy's bound 0");
    c.snp.vmpl = 2;
    c.snp.policy |= 1u << 18;
    expect(p, &c, false, "migration_agent_allowed,vmpl_too_high");
    c.snp.policy |= 1u << 19;
    c.debug = true;
    expect(p, &c, false, "debug,migration_agent_allowed,vmpl_too_high");
    ccz_policy_free(p);
    /* every bound the policy may give, 0..3 */
    for (unsigned bound = 0; bound <= 3; bound++) {
        char doc[64];
        snprintf(doc, sizeof doc, "{\"snp_max_vmpl\": %u}", bound);
        p = parse(doc);
        ccz_claims d;
        memset(&d, 0, sizeof d);
        d.tee = CCZ_TEE_SNP;
        for (d.snp.vmpl = 0; d.snp.vmpl <= 3; d.snp.vmpl++)
            expect(p, &d, d.snp.vmpl <= bound, d.snp.vmpl <= bound ? "" : "vmpl_too_high");
        ccz_policy_free(p);
    }
    p = parse("{\"allow_debug\": true, \"allow_migration_agent\": true, \"snp_max_vmpl\": 1, "
              "\"snp_min_tcb\": {\"bootloader\": 3, \"snp\": 8, \"microcode\": 115}}");
    c.snp.reported_tcb = (ccz_snp_tcb){.bootloader = 3, .tee = 0, .snp = 8, .microcode = 115};
    expect(p, &c, false, "vmpl_too_high");
    c.snp.vmpl = 1;
    expect(p, &c, true, "");
    c.snp.reported_tcb.microcode = 114;
    expect(p, &c, false, "tcb_below_minimum");
    ccz_policy_free(p);
    parse_fails("{\"snp_max_vmpl\": 4}", "4 is outside 0..3");
    parse_fails("{\"snp_min_tcb\": {\"ucode\": 1}}", "snp_min_tcb.ucode: unknown key");
    parse_fails("{\"snp_min_tcb\": {\"snp\": 256}}", "256 is outside 0..255");
}

/* ---- each field on its own: all match, then one at a time does not -------------------------*/

typedef struct {
    const char *name;   /* in the ccz format, and in its reasons */
    const char *dc_key; /* in CCZoo's dynamic_config, and in its reasons */
    const char *dc_switch;
    size_t off; /* in ccz_tdx_claims */
} tdx_field;

static const tdx_field tdx_fields[] = {
    {"mr_td", "mr_td", "verify_mr_td", offsetof(ccz_tdx_claims, mr_td)},
    {"mr_config_id", "mr_config_id", "verify_mr_config_id", offsetof(ccz_tdx_claims, mr_config_id)},
    {"mr_owner", "mr_owner", "verify_mr_owner", offsetof(ccz_tdx_claims, mr_owner)},
    {"mr_owner_config", "mr_owner_config", "verify_mr_owner_config",
     offsetof(ccz_tdx_claims, mr_owner_config)},
    {"rtmr0", "rt_mr0", "verify_rt_mr0", offsetof(ccz_tdx_claims, rtmr[0])},
    {"rtmr1", "rt_mr1", "verify_rt_mr1", offsetof(ccz_tdx_claims, rtmr[1])},
    {"rtmr2", "rt_mr2", "verify_rt_mr2", offsetof(ccz_tdx_claims, rtmr[2])},
    {"rtmr3", "rt_mr3", "verify_rt_mr3", offsetof(ccz_tdx_claims, rtmr[3])},
    {"mr_seam", "mr_seam", "verify_mr_seam", offsetof(ccz_tdx_claims, mr_seam)},
    {"mr_signer_seam", "mrsigner_seam", "verify_mrsigner_seam",
     offsetof(ccz_tdx_claims, mr_signer_seam)},
};
#define N_TDX_FIELDS (sizeof tdx_fields / sizeof tdx_fields[0])

/* TDX claims whose field k is 48 bytes of 0x11 (k + 1), release, SEPT_VE_DISABLE, UpToDate. */
static ccz_claims tdx_claims(void)
{
    ccz_claims t;
    memset(&t, 0, sizeof t);
    t.tee = CCZ_TEE_TDX;
    t.tdx.td_attributes[3] = 0x10;
    strcpy(t.tcb_status, "UpToDate");
    for (size_t k = 0; k < N_TDX_FIELDS; k++)
        memset((uint8_t *)&t.tdx + tdx_fields[k].off, (int)(0x11 * (k + 1)), 48);
    return t;
}

static void hex48(char out[97], size_t k)
{
    for (int i = 0; i < 96; i += 2)
        snprintf(out + i, 3, "%02x", (unsigned)(0x11 * (k + 1)) & 0xff);
}

/* Expects rejection for measurement_not_accepted with the field named in the reason. */
static void expect_field_rejected(const ccz_policy *p, const ccz_claims *c, const char *field)
{
    static ccz_appraisal a;
    expect(p, c, false, "measurement_not_accepted");
    if (p && ccz_appraise(&a, p, c) == CCZ_OK && a.n_reasons) {
        char want[40];
        snprintf(want, sizeof want, ": %s is ", field);
        CHECK_CONTAINS(a.reasons[0].message, want);
    }
}

static void test_tdx_each_field(void)
{
    char doc[8192], hex[97];
    /* the ccz format: one entry naming every field */
    int n = snprintf(doc, sizeof doc, "{\"tdx\": [{");
    for (size_t k = 0; k < N_TDX_FIELDS; k++) {
        hex48(hex, k);
        n += snprintf(doc + n, sizeof doc - (size_t)n, "%s\"%s\": \"%s\"", k ? ", " : "",
                      tdx_fields[k].name, hex);
    }
    snprintf(doc + n, sizeof doc - (size_t)n, "}]}");
    ccz_policy *p = parse(doc);
    ccz_claims t = tdx_claims();
    expect(p, &t, true, "");
    for (size_t k = 0; k < N_TDX_FIELDS; k++) {
        test_name = tdx_fields[k].name;
        ccz_claims c = tdx_claims();
        ((uint8_t *)&c.tdx + tdx_fields[k].off)[47] ^= 1; /* the last byte */
        expect_field_rejected(p, &c, tdx_fields[k].name);
        c = tdx_claims();
        ((uint8_t *)&c.tdx + tdx_fields[k].off)[0] ^= 0x80; /* the first */
        expect_field_rejected(p, &c, tdx_fields[k].name);
    }
    ccz_policy_free(p);

    /* CCZoo's dynamic_config: every switch on, then each switch off with its field wrong */
    for (int off = -1; off < (int)N_TDX_FIELDS; off++) {
        n = snprintf(doc, sizeof doc, "{");
        for (size_t k = 0; k < N_TDX_FIELDS; k++)
            n += snprintf(doc + n, sizeof doc - (size_t)n, "\"%s\": \"%s\", ",
                          tdx_fields[k].dc_switch, (int)k == off ? "off" : "on");
        n += snprintf(doc + n, sizeof doc - (size_t)n, "\"tdx_mrs\": [{");
        for (size_t k = 0; k < N_TDX_FIELDS; k++) {
            hex48(hex, k);
            n += snprintf(doc + n, sizeof doc - (size_t)n, "%s\"%s\": \"%s\"", k ? ", " : "",
                          tdx_fields[k].dc_key, hex);
        }
        snprintf(doc + n, sizeof doc - (size_t)n, "}]}");
        p = parse(doc);
        for (size_t k = 0; k < N_TDX_FIELDS; k++) {
            test_name = tdx_fields[k].dc_key;
            ccz_claims c = tdx_claims();
            if (off < 0)
                expect(p, &c, true, "");
            ((uint8_t *)&c.tdx + tdx_fields[k].off)[20] ^= 4;
            if ((int)k == off)
                expect(p, &c, true, ""); /* switched off: not compared */
            else
                expect_field_rejected(p, &c, tdx_fields[k].dc_key); /* as the config says */
        }
        ccz_policy_free(p);
    }
    test_name = "test_tdx_each_field";
}

/* SGX claims with every field set: product 3, svn 4, config svn 5. */
static ccz_claims sgx_full_claims(void)
{
    ccz_claims c = sgx_claims();
    c.sgx.isv_prod_id = 3;
    c.sgx.isv_svn = 4;
    c.sgx.config_svn = 5;
    return c;
}

static void test_sgx_each_field(void)
{
    static const char *const names[] = {"mr_enclave", "mr_signer", "isv_prod_id", "isv_svn",
                                        "config_svn"};
    const char *docs[] = {
        "{\"sgx\": [{\"mr_enclave\": \"" MRE "\", \"mr_signer\": \"" MRS "\", \"isv_prod_id\": "
        "3, \"isv_svn\": 4, \"config_svn\": 5}]}",
        "{\"verify_mr_enclave\": \"on\", \"verify_mr_signer\": \"on\", \"verify_isv_prod_id\": "
        "\"on\", \"verify_isv_svn\": \"on\", \"verify_config_svn\": \"on\", \"sgx_mrs\": [{"
        "\"mr_enclave\": \"" MRE "\", \"mr_signer\": \"" MRS "\", \"isv_prod_id\": \"3\", "
        "\"isv_svn\": \"4\", \"config_svn\": \"5\"}]}",
    };
    for (int d = 0; d < 2; d++) {
        ccz_policy *p = parse(docs[d]);
        ccz_claims c = sgx_full_claims();
        expect(p, &c, true, "");
        for (int k = 0; k < 5; k++) {
            test_name = names[k];
            c = sgx_full_claims();
            switch (k) {
            case 0:
                c.sgx.mr_enclave[31] ^= 1;
                break; /* the last byte */
            case 1:
                c.sgx.mr_signer[31] ^= 1;
                break; /* the last byte */
            case 2:
                c.sgx.isv_prod_id = 4;
                break;
            case 3:
                c.sgx.isv_svn = 5;
                break;
            default:
                c.sgx.config_svn = 4;
                break;
            }
            expect_field_rejected(p, &c, names[k]);
        }
        ccz_policy_free(p);
    }
    /* verify_config_svn alone: the config svn is compared, the isv svn is not */
    ccz_policy *p = parse("{\"verify_config_svn\": \"on\", \"sgx_mrs\": [{\"config_svn\": "
                          "\"5\", \"isv_svn\": \"9\"}]}");
    ccz_claims c = sgx_full_claims();
    expect(p, &c, true, "");
    c.sgx.config_svn = 6;
    expect_field_rejected(p, &c, "config_svn");
    c.sgx.config_svn = 5;
    c.sgx.isv_svn = 0;
    expect(p, &c, true, "");
    ccz_policy_free(p);
    test_name = "test_sgx_each_field";
}

/* snp_min_tcb: each component alone one below the minimum is refused; at or above, accepted.
 * The SNP entry's measurement, host data and guest svn bound, each alone. */
static void test_snp_each_field(void)
{
    ccz_policy *p = parse("{\"snp_min_tcb\": {\"bootloader\": 3, \"tee\": 2, \"snp\": 8, "
                          "\"microcode\": 115, \"fmc\": 4}}");
    static const char *const names[] = {"bootloader", "tee", "snp", "microcode", "fmc"};
    const ccz_snp_tcb min = {.bootloader = 3, .tee = 2, .snp = 8, .microcode = 115, .fmc = 4};
    ccz_claims c;
    memset(&c, 0, sizeof c);
    c.tee = CCZ_TEE_SNP;
    c.snp.policy = 0x30000;
    c.snp.reported_tcb = min;
    expect(p, &c, true, "");
    for (int k = 0; k < 5; k++) {
        test_name = names[k];
        c.snp.reported_tcb = min;
        uint8_t *f[] = {&c.snp.reported_tcb.bootloader, &c.snp.reported_tcb.tee,
                        &c.snp.reported_tcb.snp, &c.snp.reported_tcb.microcode,
                        &c.snp.reported_tcb.fmc};
        (*f[k])--;
        expect(p, &c, false, "tcb_below_minimum");
        (*f[k]) += 2;
        expect(p, &c, true, "");
    }
    ccz_policy_free(p);

    char r[97], h[65], doc[1024];
    memset(r, 'c', 96), r[96] = 0;
    memset(h, 'd', 64), h[64] = 0;
    snprintf(doc, sizeof doc,
             "{\"snp\": [{\"measurement\": \"%s\", \"host_data\": \"%s\", "
             "\"guest_svn_min\": 6}]}",
             r, h);
    p = parse(doc);
    memset(&c, 0, sizeof c);
    c.tee = CCZ_TEE_SNP;
    memset(c.snp.measurement, 0xcc, 48);
    memset(c.snp.host_data, 0xdd, 32);
    c.snp.guest_svn = 6;
    expect(p, &c, true, "");
    c.snp.measurement[47] = 0;
    test_name = "measurement";
    expect_field_rejected(p, &c, "measurement");
    memset(c.snp.measurement, 0xcc, 48);
    c.snp.host_data[31] = 0;
    test_name = "host_data";
    expect_field_rejected(p, &c, "host_data");
    memset(c.snp.host_data, 0xdd, 32);
    c.snp.guest_svn = 5;
    test_name = "guest_svn";
    expect(p, &c, false, "measurement_not_accepted");
    c.snp.guest_svn = 7;
    expect(p, &c, true, "");
    ccz_policy_free(p);
    test_name = "test_snp_each_field";
}

/* The csv list: each field constrains the CSV peer, alone and together; host_data needs a
 * version 3 report; other TEEs are not held to it; the list is written back as given. */
static void test_csv_each_field(void)
{
    static const struct {
        const char *name;
        size_t off, len;
    } f[] = {{"measurement", offsetof(ccz_csv_claims, measurement), 32},
             {"user_pubkey_digest", offsetof(ccz_csv_claims, user_pubkey_digest), 32},
             {"vm_id", offsetof(ccz_csv_claims, vm_id), 16},
             {"vm_version", offsetof(ccz_csv_claims, vm_version), 16},
             {"host_data", offsetof(ccz_csv_claims, host_data), 64}};
    char doc[2048], want[2048], hex[129];
    int n = snprintf(doc, sizeof doc, "{\"csv\": [{");
    int w = snprintf(want, sizeof want, "\"csv\":[{");
    ccz_claims c;
    memset(&c, 0, sizeof c);
    c.tee = CCZ_TEE_CSV;
    c.csv.version = 3;
    for (size_t k = 0; k < CCZ_ARRAY_LEN(f); k++) {
        memset((uint8_t *)&c.csv + f[k].off, 0x11 * (int)(k + 1), f[k].len);
        ccz_hex_to_str(hex, (uint8_t *)&c.csv + f[k].off, f[k].len);
        n += snprintf(doc + n, sizeof doc - (size_t)n, "%s\"%s\": \"%s\"", k ? ", " : "", f[k].name,
                      hex);
        w += snprintf(want + w, sizeof want - (size_t)w, "%s\"%s\":\"%s\"", k ? "," : "", f[k].name,
                      hex);
    }
    snprintf(doc + n, sizeof doc - (size_t)n, "}]}");
    snprintf(want + w, sizeof want - (size_t)w, "}]}");
    ccz_policy *p = parse(doc);
    expect(p, &c, true, "");
    for (size_t k = 0; k < CCZ_ARRAY_LEN(f); k++) {
        test_name = f[k].name;
        uint8_t *at = (uint8_t *)&c.csv + f[k].off + f[k].len - 1;
        *at ^= 1;
        expect_field_rejected(p, &c, f[k].name);
        *at ^= 1;
        expect(p, &c, true, "");
    }
    test_name = "test_csv_each_field";
    /* a version 2 report has no host_data to match */
    c.csv.version = 2;
    static ccz_appraisal a;
    expect(p, &c, false, "measurement_not_accepted");
    if (p && ccz_appraise(&a, p, &c) == CCZ_OK && a.n_reasons)
        CHECK_STR(a.reasons[0].message, "csv[0]: host_data: a version 2 report has none");
    /* written back as given */
    json_t *j = p ? ccz_policy_to_json(p) : NULL;
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    CHECK(s && strstr(s, want));
    free(s);
    json_decref(j);
    /* an SNP peer is not held to the csv list, nor a CSV peer to the snp list */
    ccz_claims snp;
    memset(&snp, 0, sizeof snp);
    snp.tee = CCZ_TEE_SNP;
    snp.snp.policy = 0x30000;
    expect(p, &snp, true, "");
    ccz_policy_free(p);
    p = parse("{\"snp\": [{\"guest_svn_min\": 1}], \"csv\": []}");
    expect(p, &snp, false, "measurement_not_accepted");
    expect(p, &c, false, "no_accepted_measurements");
    ccz_policy_free(p);
    parse_fails("{\"csv\": [{\"measurment\": \"00\"}]}",
                "csv[0].measurment: unknown key (known: measurement, user_pubkey_digest, vm_id, "
                "vm_version, host_data)");
    parse_fails("{\"csv\": [{\"vm_id\": \"0011\"}]}", "csv[0].vm_id");
}

static void test_bad_documents(void)
{
    parse_fails("", "invalid JSON");
    parse_fails("{\"allow_sim\": true,}", "invalid JSON at line 1");
    parse_fails("[1, 2]", "must be a JSON object");
    parse_fails("{\"allow_sim\": true, \"allow_sim\": false}", "duplicate");
    parse_fails("{\"allow_simm\": true}", "allow_simm: unknown key");
    parse_fails("{\"allow_sim\": \"yes\"}", "allow_sim: must be true or false");
    parse_fails("{\"ccz_policy\": 2}", "version 2 is not supported");
    parse_fails("{\"tees\": [\"sev\"]}", "unknown TEE sev");
    parse_fails("{\"tees\": []}", "tees: must be a non-empty list");
    parse_fails("{\"accepted_tcb_statuses\": [\"Revoked\"]}", "revoked TCB can never");
    parse_fails("{\"accepted_tcb_statuses\": [\"Fine\"]}",
                "unknown TCB status Fine (known: UpToDate, SWHardeningNeeded, ConfigurationNeeded, "
                "ConfigurationAndSWHardeningNeeded, OutOfDate, OutOfDateConfigurationNeeded, "
                "TDRelaunchAdvised, TDRelaunchAdvisedConfigurationNeeded)");
    parse_fails("{\"sgx\": {}}", "sgx: must be a list");
    parse_fails("{\"sgx\": [{}]}", "sgx[0]: constrains nothing");
    parse_fails("{\"sgx\": [3]}", "sgx[0]: must be an object");
    parse_fails("{\"sgx\": [{\"mr_enclave\": \"abc\"}]}", "sgx[0].mr_enclave: expected 64 hex "
                                                          "digits, got 3");
    parse_fails("{\"sgx\": [{\"mr_enclave\": \""
                "zz" ZERO64 "\"}]}",
                "expected 64");
    parse_fails("{\"sgx\": [{\"mr_signer\": \"x" ZERO64 "\"}]}", "expected 64");
    parse_fails("{\"sgx\": [{\"mr_signer\": \"xx"
                "00000000000000000000000000000000000000000000000"
                "000000000000000\"}]}",
                "is not hex");
    parse_fails("{\"sgx\": [{\"isv_svn\": 1, \"isv_svn_min\": 1}]}", "not both");
    parse_fails("{\"sgx\": [{\"isv_svn_min\": 1, \"isv_svn\": 1}]}", "not both");
    parse_fails("{\"sgx\": [{\"colour\": 1}]}", "sgx[0].colour: unknown key");
    parse_fails("{\"snp\": [{\"guest_svn_min\": -1}]}", "-1 is outside 0..4294967295");
    parse_fails("{\"tdx\": [{\"rtmr4\": \"\"}]}", "tdx[0].rtmr4: unknown key");

    /* dynamic_config: the message names the entry and the switch */
    parse_fails("{\"verify_mr_enclave\": \"on\"}", "sgx_mrs: missing");
    parse_fails("{\"verify_mr_enclave\": \"yes\", \"sgx_mrs\": []}",
                "verify_mr_enclave: must be \"on\" or \"off\"");
    parse_fails("{\"verify_mr_enclave\": \"on\", \"sgx_mrs\": [{\"mr_signer\": \"\"}]}",
                "sgx_mrs[0].mr_enclave is missing but verify_mr_enclave is \"on\"");
    parse_fails("{\"verify_mr_enclave\": \"on\", \"sgx_mrs\": [{\"mr_enclave\": \"\"}]}",
                "sgx_mrs[0].mr_enclave is empty but verify_mr_enclave is \"on\"");
    parse_fails("{\"verify_isv_prod_id\": \"on\", \"sgx_mrs\": [{\"isv_prod_id\": \"abc\"}]}",
                "sgx_mrs[0].isv_prod_id: \"abc\" is not a decimal number");
    parse_fails("{\"verify_isv_prod_id\": \"on\", \"sgx_mrs\": [{\"isv_prod_id\": \"-1\"}]}",
                "is not a decimal number");
    parse_fails("{\"verify_isv_prod_id\": \"on\", \"sgx_mrs\": [{\"isv_prod_id\": 70000}]}",
                "70000 is outside 0..65535");
    parse_fails("{\"verify_isv_svn\": \"on\", \"sgx_mrs\": [{\"isv_svn\": \"65536\"}]}",
                "65536 is larger than 65535");
    parse_fails("{\"verify_isv_svn\": \"on\", \"sgx_mrs\": [{\"isv_svn\": 1.5}]}",
                "must be a number or a string of decimal digits");
    parse_fails("{\"verify_isv_svn\": \"on\", \"sgx_mrs\": [{\"isv_svn\": null}]}",
                "must be a number");
    parse_fails("{\"verify_mr_enclave\": \"on\", \"sgx_mrs\": [{\"mr_enclave\": 5}]}",
                "must be a hex string");
    parse_fails("{\"verify_mr_enclave\": \"on\", \"sgx_mrs\": \"all\"}", "sgx_mrs: must be a list");
    parse_fails("{\"verify_mr_enclave\": \"on\", \"sgx_mrs\": [[]]}", "sgx_mrs[0]: must be an "
                                                                      "object");
    parse_fails("{\"verify_mr_enclve\": \"on\", \"sgx_mrs\": []}", "verify_mr_enclve: unknown key");
    parse_fails("{\"verify_mr_enclave\": \"off\", \"sgx_mrs\": [{\"mr_enclav\": \"\"}]}",
                "sgx_mrs[0].mr_enclav: unknown key");
    /* a field of the other list is no field of this one */
    parse_fails("{\"verify_mr_enclave\": \"on\", \"sgx_mrs\": [{\"mr_enclave\": \"" MRE
                "\", \"mr_td\": \"\"}]}",
                "sgx_mrs[0].mr_td: unknown key (known: mr_enclave, mr_signer, isv_prod_id, "
                "isv_svn, config_svn, debuggable)");
    parse_fails("{\"verify_mr_td\": \"off\", \"tdx_mrs\": [{\"mr_enclave\": \"\"}]}",
                "tdx_mrs[0].mr_enclave: unknown key (known: mr_seam,");
    parse_fails("{\"verify_mr_td\": \"on\", \"tdx_mrs\": [{\"mr_td\": \"00\"}]}",
                "tdx_mrs[0].mr_td: expected 96 hex digits, got 2");
    /* every ccz_ switch of a dynamic_config is "on" or "off", as CCZoo's own */
    static const char *const switches[] = {"verify_in_enclave",
                                           "ccz_allow_sim",
                                           "ccz_allow_debug",
                                           "ccz_allow_mrservicetd_nonzero",
                                           "ccz_allow_sept_ve_disable_clear",
                                           "ccz_allow_outdated_tcb",
                                           "ccz_isv_svn_min"};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(switches); i++) {
        char text[160], want[96];
        snprintf(text, sizeof text, "{\"%s\": \"yes\", \"sgx_mrs\": []}", switches[i]);
        snprintf(want, sizeof want, "%s: must be \"on\" or \"off\"", switches[i]);
        parse_fails(text, want);
    }

    /* too many entries */
    size_t cap = 16 + 3 * (CCZ_POLICY_MAX_ENTRIES + 1);
    char *doc = malloc(cap);
    strcpy(doc, "{\"sgx_mrs\": [");
    for (int i = 0; i <= CCZ_POLICY_MAX_ENTRIES; i++)
        strcat(doc, i ? ",{}" : "{}");
    strcat(doc, "]}");
    parse_fails(doc, "more than the limit of 1024");
    free(doc);
}

static void test_switch_spellings(void)
{
    /* CCZoo compares with "on"; ccz also takes any case and JSON booleans */
    ccz_policy *p = parse("{\"verify_mr_enclave\": \"ON\", \"verify_mr_signer\": false, "
                          "\"ccz_allow_sim\": true, \"sgx_mrs\": [{\"mr_enclave\": \"" MRE "\"}]}");
    ccz_claims c = sim_claims();
    expect(p, &c, true, "");
    ccz_policy_free(p);
    /* verify_in_enclave (where the verifier runs) is accepted and does not constrain peers */
    p = parse("{\"verify_in_enclave\": \"on\", \"ccz_allow_sim\": \"on\", \"sgx_mrs\": [{}]}");
    expect(p, &c, true, "");
    ccz_policy_free(p);
}

static void test_normalised_json(void)
{
    ccz_policy *p = parse("{\"verify_mr_enclave\": \"on\", \"verify_isv_svn\": \"on\", "
                          "\"ccz_allow_sim\": \"on\", \"ccz_isv_svn_min\": \"on\", \"sgx_mrs\": "
                          "[{\"mr_enclave\": \"" MRE "\", \"mr_signer\": \"\", \"isv_svn\": "
                          "\"2\"}]}");
    json_t *j = ccz_policy_to_json(p);
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    CHECK_STR(s, "{\"ccz_policy\":1,\"tees\":[\"sim\",\"sgx\"],\"allow_sim\":true,"
                 "\"allow_debug\":false,\"allow_mrservicetd_nonzero\":false,"
                 "\"allow_sept_ve_disable_clear\":false,\"allow_migration_agent\":false,"
                 "\"snp_max_vmpl\":0,\"accepted_tcb_statuses\":[\"UpToDate\"],\"sgx\":[{"
                 "\"mr_enclave\":\"" MRE "\",\"isv_svn_min\":2}]}");
    /* the normalised form parses back to the same policy */
    ccz_policy *q = parse(s);
    json_t *k = ccz_policy_to_json(q);
    char *s2 = json_dumps(k, JSON_COMPACT | JSON_PRESERVE_ORDER);
    CHECK_STR(s2, s);
    free(s);
    free(s2);
    json_decref(j);
    json_decref(k);
    ccz_policy_free(p);
    ccz_policy_free(q);
}

static void test_load_file(void)
{
    char path[600];
    snprintf(path, sizeof path, "%s/p.json", test_tmpdir());
    CHECK_OK(ccz_file_write(path, CCZ_SPAN("{\"allow_sim\": 1}", 16), 0644));
    ccz_policy *p;
    CHECK_STATUS(ccz_policy_load_file(&p, path), CCZ_ERR_POLICY);
    CHECK_CONTAINS(ccz_error_detail(), path);
    CHECK_CONTAINS(ccz_error_detail(), "allow_sim: must be true or false");
    CHECK_STATUS(ccz_policy_load_file(&p, "/nonexistent/policy.json"), CCZ_ERR_NOT_FOUND);
    /* a file is read up to CCZ_POLICY_MAX_BYTES and no further: one byte more is refused as
     * the file is read, not after all of it is in memory */
    size_t max = CCZ_POLICY_MAX_BYTES;
    char *doc = malloc(max + 1);
    CHECK(doc != NULL);
    memset(doc, ' ', max + 1);
    memcpy(doc, "{}", 2);
    CHECK_OK(ccz_file_write(path, CCZ_SPAN(doc, max), 0644));
    CHECK_OK(ccz_policy_load_file(&p, path));
    ccz_policy_free(p);
    CHECK_OK(ccz_file_write(path, CCZ_SPAN(doc, max + 1), 0644));
    CHECK_STATUS(ccz_policy_load_file(&p, path), CCZ_ERR_TOO_LARGE);
    CHECK(p == NULL);
    CHECK_CONTAINS(ccz_error_detail(), "is larger than the 1048576-byte limit");
    free(doc);
}

/* ---- values at and past their bounds -------------------------------------------------------*/

static void test_bad_values(void)
{
    parse_fails("{\"sgx\": [{\"isv_svn\": \"\"}]}", "sgx[0].isv_svn: \"\" is not a decimal number");
    parse_fails("{\"sgx\": [{\"isv_svn\": \"000000000000000000001\"}]}",
                "sgx[0].isv_svn: \"000000000000000000001\" is not a decimal number");
    parse_fails("{\"ccz_policy\": 0}", "ccz_policy: version 0 is not supported");
    parse_fails("{\"ccz_policy\": \"one\"}", "ccz_policy: \"one\" is not a decimal number");
    parse_fails("{\"ccz_policy\": 4294967297}", "ccz_policy: 4294967297 is outside 0..4294967295");
    parse_fails("{\"accepted_tcb_statuses\": \"UpToDate\"}",
                "accepted_tcb_statuses: must be a list of TCB status names");
    parse_fails("{\"accepted_tcb_statuses\": [1]}",
                "accepted_tcb_statuses: unknown TCB status (not a string)");
    parse_fails("{\"tees\": [1]}", "tees: unknown TEE (not a string)");
    parse_fails("{\"tees\": [\"none\"]}", "tees: unknown TEE none");
    parse_fails("{\"snp_min_tcb\": 3}",
                "snp_min_tcb: must be an object of bootloader, tee, snp, microcode, fmc");
    parse_fails("{\"snp\": [{\"guest_svn_min\": 1, \"colour\": 1}]}",
                "snp[0].colour: unknown key (known: measurement, host_data, guest_svn_min)");

    /* the largest values, as strings of digits (twenty at most) */
    ccz_policy *p = parse("{\"ccz_policy\": \"1\", \"sgx\": [{\"isv_prod_id\": \"65535\", "
                          "\"isv_svn\": \"00000000000000065535\", \"config_svn\": \"65535\"}]}");
    ccz_claims c = sgx_claims();
    c.sgx.isv_prod_id = c.sgx.isv_svn = c.sgx.config_svn = 65535;
    expect(p, &c, true, "");
    c.sgx.isv_svn = 65534;
    expect_field_rejected(p, &c, "isv_svn");
    ccz_policy_free(p);

    /* CCZ_POLICY_MAX_ENTRIES entries are within the limit */
    char *doc = malloc(16 + 3 * CCZ_POLICY_MAX_ENTRIES);
    strcpy(doc, "{\"sgx_mrs\": [");
    for (int i = 0; i < CCZ_POLICY_MAX_ENTRIES; i++)
        strcat(doc, i ? ",{}" : "{}");
    strcat(doc, "]}");
    p = parse(doc);
    c = sgx_claims();
    expect(p, &c, true, "");
    ccz_policy_free(p);
    free(doc);
}

/* ---- ccz's "debuggable", CCZoo's extensions, a TDX-only dynamic_config -----------------------*/

static void test_debuggable_and_extensions(void)
{
    /* an entry with "debuggable": true admits that debug enclave, and only a debug one */
    ccz_policy *p = parse("{\"sgx\": [{\"mr_enclave\": \"" MRE "\", \"debuggable\": true}]}");
    ccz_claims c = sgx_claims();
    c.debug = true;
    expect(p, &c, true, "");
    c.debug = false;
    expect_field_rejected(p, &c, "debug");
    ccz_policy_free(p);
    /* the same in a dynamic_config, the entry's value spelled as a switch */
    p = parse("{\"verify_enclave_debuggable\": \"on\", \"sgx_mrs\": [{\"debuggable\": \"On\"}]}");
    c.debug = true;
    expect(p, &c, true, "");
    ccz_policy_free(p);

    p = parse("{\"verify_mr_enclave\": \"on\", \"ccz_allow_outdated_tcb\": \"on\", \"sgx_mrs\": "
              "[{\"mr_enclave\": \"" MRE "\"}]}");
    c = sgx_claims();
    strcpy(c.tcb_status, "OutOfDate");
    expect(p, &c, true, "");
    strcpy(c.tcb_status, "OutOfDateConfigurationNeeded");
    expect(p, &c, true, "");
    strcpy(c.tcb_status, "SWHardeningNeeded");
    expect(p, &c, false, "tcb_status_not_accepted");
    ccz_policy_free(p);
    p = parse("{\"verify_mr_enclave\": \"on\", \"ccz_accepted_tcb_statuses\": "
              "[\"SWHardeningNeeded\"], \"sgx_mrs\": [{\"mr_enclave\": \"" MRE "\"}]}");
    expect(p, &c, true, "");
    strcpy(c.tcb_status, "UpToDate");
    expect(p, &c, false, "tcb_status_not_accepted");
    ccz_policy_free(p);

    /* "tdx_mrs" alone makes a dynamic_config, which accepts TDs only */
    p = parse("{\"tdx_mrs\": [{}]}");
    if (p)
        CHECK_INT(ccz_policy_get_format(p), CCZ_POLICY_FORMAT_DYNAMIC_CONFIG);
    ccz_claims t = tdx_claims();
    expect(p, &t, true, "");
    expect(p, &c, false, "tee_not_accepted");
    ccz_policy_free(p);

    /* SEPT_VE_DISABLE is the one bit: every other attribute bit set does not stand for it */
    CHECK_OK(ccz_policy_default(&p));
    t.tdx.td_attributes[3] = (uint8_t)~0x10;
    expect(p, &t, false, "sept_ve_disable_clear");
    ccz_policy_free(p);
}

/* ---- "eventlog" rules as read ----------------------------------------------------------------*/

static void test_event_rules(void)
{
    /* the digests of SHA-1, SHA-256 and SM3, SHA-384, SHA-512; kept in lower case */
    static const size_t sizes[] = {40, 64, 96, 128, 38, 66, 130};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(sizes); i++) {
        char doc[256], upper[131], lower[131];
        memset(upper, 'A', sizes[i]), upper[sizes[i]] = 0;
        memset(lower, 'a', sizes[i]), lower[sizes[i]] = 0;
        snprintf(doc, sizeof doc, "{\"eventlog\": [{\"digest\": \"%s\"}]}", upper);
        if (i >= 4) {
            parse_fails(doc, "eventlog[0].digest: must be the hex of a SHA-1, SHA-256, SM3, "
                             "SHA-384 or SHA-512 digest");
            continue;
        }
        ccz_policy *p = parse(doc);
        json_t *j = p ? ccz_policy_to_json(p) : NULL;
        CHECK_STR(json_string_value(
                      json_object_get(json_array_get(json_object_get(j, "eventlog"), 0), "digest")),
                  lower);
        json_decref(j);
        ccz_policy_free(p);
    }
    /* a digest of a right length with a character that is not hex, the last one too */
    for (size_t at = 0; at < 64; at += 63) {
        char doc[160], digest[65];
        memset(digest, 'a', 64), digest[64] = 0;
        digest[at] = 'g';
        snprintf(doc, sizeof doc, "{\"eventlog\": [{\"digest\": \"%s\"}]}", digest);
        parse_fails(doc, "eventlog[0].digest: must be hex");
    }
    /* an index is any 32-bit number */
    ccz_policy *q = parse("{\"eventlog\": [{\"index\": 4294967295}]}");
    json_t *k = q ? ccz_policy_to_json(q) : NULL;
    CHECK_INT(json_integer_value(
                  json_object_get(json_array_get(json_object_get(k, "eventlog"), 0), "index")),
              4294967295);
    json_decref(k);
    ccz_policy_free(q);
    parse_fails("{\"eventlog\": [{\"index\": 4294967296}]}",
                "eventlog[0].index: 4294967296 is outside 0..4294967295");
    /* at most CCZ_POLICY_MAX_ENTRIES rules */
    char *doc = malloc(32 + 13 * (CCZ_POLICY_MAX_ENTRIES + 1));
    strcpy(doc, "{\"eventlog\": [");
    for (int i = 0; i < CCZ_POLICY_MAX_ENTRIES; i++)
        strcat(doc, i ? ",{\"index\":1}" : "{\"index\":1}");
    strcat(doc, "]}");
    ccz_policy *p = parse(doc);
    ccz_policy_free(p);
    strcpy(doc + strlen(doc) - 2, ",{\"index\":1}]}");
    parse_fails(doc, "eventlog: too many entries");
    free(doc);
}

/* ---- Arm CCA reference values ----------------------------------------------------------------*/

/* n bytes, each spelled by the two hex digits of byte */
static const char *hexrep(char *out, const char *byte, size_t n)
{
    for (size_t i = 0; i < n; i++)
        memcpy(out + 2 * i, byte, 2);
    out[2 * n] = '\0';
    return out;
}

/* CCA claims: implementation id 32 x 0xab, a 4-byte configuration, components BL and RTK
 * (measurements 32 x 0x20 and 0x21, signer ids 0x30 and 0x31, versions 1.0 and 2.0), RIM 32 x
 * 0x66, REMs 0x70..0x73, personalization value 64 x 0x88, RAK hash sha-256. */
static ccz_claims cca_claims(void)
{
    ccz_claims c;
    memset(&c, 0, sizeof c);
    c.tee = CCZ_TEE_CCA;
    ccz_cca_claims *a = &c.cca;
    memset(a->implementation_id, 0xab, 32);
    memset(a->platform_config, 0xcf, 4);
    a->platform_config_len = 4;
    a->n_sw_components = 2;
    for (int i = 0; i < 2; i++) {
        ccz_cca_sw_component *s = &a->sw_components[i];
        strcpy(s->type, i ? "RTK" : "BL");
        memset(s->measurement, 0x20 + i, 32);
        s->measurement_len = 32;
        memset(s->signer_id, 0x30 + i, 32);
        s->signer_id_len = 32;
        strcpy(s->version, i ? "2.0" : "1.0");
        strcpy(s->hash_alg, "sha-256");
    }
    memset(a->rim, 0x66, 32);
    a->rim_len = 32;
    for (int i = 0; i < 4; i++)
        memset(a->rem[i], 0x70 + i, 32);
    memset(a->personalization_value, 0x88, 64);
    strcpy(a->rak_hash_alg, "sha-256");
    return c;
}

static void test_cca_reference_values(void)
{
    char doc[4096], h[12][129];
    snprintf(
        doc, sizeof doc,
        "{\"cca\": {\"platform\": [{\"implementation-id\": \"%s\", \"platform-configuration\": "
        "\"CFCFCFCF\", \"sw-components\": [{\"component-type\": \"BL\", \"measurement-value\": "
        "\"%s\", \"signer-id\": \"%s\", \"version\": \"1.0\", \"hash-algo-id\": \"sha-256\"}, "
        "{\"component-type\": \"RTK\", \"measurement-value\": \"%s\", \"signer-id\": \"%s\", "
        "\"version\": \"2.0\", \"hash-algo-id\": \"sha-256\"}]}], \"realm\": "
        "[{\"initial-measurement\": \"%s\", \"extensible-measurements\": [\"%s\", \"%s\", "
        "\"%s\", \"%s\"], \"personalization-value\": \"%s\", \"rak-hash-algorithm\": "
        "\"sha-256\"}]}}",
        hexrep(h[0], "AB", 32), hexrep(h[1], "20", 32), hexrep(h[2], "30", 32),
        hexrep(h[3], "21", 32), hexrep(h[4], "31", 32), hexrep(h[5], "66", 32),
        hexrep(h[6], "70", 32), hexrep(h[7], "71", 32), hexrep(h[8], "72", 32),
        hexrep(h[9], "73", 32), hexrep(h[10], "88", 64));
    ccz_policy *p = parse(doc);
    ccz_claims c = cca_claims();
    expect(p, &c, true, "");
    /* each platform field: its last byte, or its text */
    ccz_cca_claims *a = &c.cca;
    ccz_cca_sw_component *s = &a->sw_components[1];
    for (int k = 0; k < 10; k++) {
        c = cca_claims();
        switch (k) {
        case 0:
            a->implementation_id[31] ^= 1;
            break;
        case 1:
            a->platform_config[3] ^= 1;
            break;
        case 2:
            s->measurement[31] ^= 1;
            break;
        case 3:
            s->signer_id[31] ^= 1;
            break;
        case 4:
            strcpy(s->type, "RTK2");
            break;
        case 5:
            strcpy(s->version, "2.1");
            break;
        case 6:
            strcpy(s->hash_alg, "sha-384");
            break;
        case 7: /* a component no entry lists */
            a->sw_components[2] = a->sw_components[0];
            a->sw_components[2].measurement[0] ^= 1;
            a->n_sw_components = 3;
            break;
        case 8: /* a listed component the token lacks */
            a->n_sw_components = 1;
            break;
        default: /* the components in the other order */
            a->sw_components[2] = a->sw_components[0];
            a->sw_components[0] = a->sw_components[1];
            a->sw_components[1] = a->sw_components[2];
            break;
        }
        expect(p, &c, k == 9, k == 9 ? "" : "cca_platform_not_accepted");
    }
    /* each realm field */
    for (int k = 0; k < 6; k++) {
        c = cca_claims();
        switch (k) {
        case 0:
            a->rim[31] ^= 1;
            break;
        case 1:
            a->rem[0][31] ^= 1;
            break;
        case 2:
            a->rem[3][31] ^= 1;
            break;
        case 3:
            a->personalization_value[63] ^= 1;
            break;
        case 4:
            strcpy(a->rak_hash_alg, "sha-512");
            break;
        default:
            a->rim_len = 48;
            break;
        }
        expect(p, &c, false, "cca_realm_not_accepted");
    }
    c = cca_claims();
    a->implementation_id[0] = 0;
    a->rim[0] = 0;
    static ccz_appraisal r;
    CHECK_OK(ccz_appraise(&r, p, &c));
    CHECK_INT(r.n_reasons, 2);
    CHECK_CONTAINS(r.reasons[0].message, "no entry of cca.platform matches the platform "
                                         "(implementation id 00ababababababab..., 2 software "
                                         "components");
    CHECK_CONTAINS(r.reasons[1].message, "no entry of cca.realm matches the realm (initial "
                                         "measurement 0066666666666666...");
    /* other TEEs are not appraised against the reference values */
    c = sgx_claims();
    expect(p, &c, true, "");
    ccz_policy_free(p);

    /* a list left out constrains nothing; an empty list accepts nothing */
    p = parse("{\"cca\": {\"realm\": [{\"rak-hash-algorithm\": \"sha-256\"}]}}");
    c = cca_claims();
    a->implementation_id[0] = 0;
    expect(p, &c, true, "");
    strcpy(a->rak_hash_alg, "sha-384");
    expect(p, &c, false, "cca_realm_not_accepted");
    ccz_policy_free(p);
    p = parse("{\"cca\": {\"platform\": []}}");
    c = cca_claims();
    expect(p, &c, false, "cca_platform_not_accepted");
    ccz_policy_free(p);
}

static void test_cca_bad_reference_values(void)
{
    char doc[8192], h[131];
    parse_fails("{\"cca\": []}",
                "cca: must be an object of \"platform\" and \"realm\" reference values");
    parse_fails("{\"cca\": {\"platfrom\": []}}",
                "cca: unknown key (known: platform, realm): platfrom");
    parse_fails("{\"cca\": {\"platform\": {}}}",
                "cca.platform: must be a list of reference values");
    /* an entry that names nothing would accept every platform or realm: refused as the other
     * TEEs' lists refuse one */
    parse_fails("{\"cca\": {\"platform\": [{}]}}",
                "cca.platform[0]: constrains nothing (an empty entry would accept any platform");
    parse_fails("{\"cca\": {\"realm\": [{\"initial-measurement\": \"00\"}, {}]}}",
                "cca.realm[1]: constrains nothing (an empty entry would accept any realm");
    static const char *const hex[] = {"abc", "", "zz", NULL};
    for (int i = 0; i < 4; i++) {
        snprintf(doc, sizeof doc, "{\"cca\": {\"realm\": [{\"initial-measurement\": \"%s\"}]}}",
                 hex[i] ? hex[i] : hexrep(h, "00", 65));
        parse_fails(doc, i == 2 ? "cca.realm[0].initial-measurement: not hex"
                                : "cca.realm[0].initial-measurement: must be 1 to 64 bytes of hex");
    }
    snprintf(doc, sizeof doc, "{\"cca\": {\"realm\": [{\"initial-measurement\": \"%s\"}]}}",
             hexrep(h, "00", 64));
    ccz_policy_free(parse(doc));
    snprintf(doc, sizeof doc, "{\"cca\": {\"platform\": [{\"implementation-id\": \"%s\"}]}}",
             hexrep(h, "00", 33));
    parse_fails(doc, "cca.platform[0].implementation-id: must be 1 to 32 bytes of hex");
    parse_fails("{\"cca\": {\"realm\": [{\"rak-hash-algorithm\": 5}]}}",
                "cca.realm[0].rak-hash-algorithm: must be a string");
    parse_fails("{\"cca\": {\"realm\": [{\"initial-mesurement\": \"00\"}]}}",
                "cca.realm[0].initial-mesurement: unknown key (known: initial-measurement, "
                "extensible-measurements, personalization-value, rak-hash-algorithm)");
    parse_fails("{\"cca\": {\"realm\": [{\"extensible-measurements\": [\"00\", \"00\", \"00\", "
                "\"00\", \"00\"]}]}}",
                "cca.realm[0].extensible-measurements: must be a list of 4 measurements (hex)");
    /* each of the four is hex */
    parse_fails("{\"cca\": {\"realm\": [{\"extensible-measurements\": [\"00\", \"00\", \"0z\", "
                "\"00\"]}]}}",
                "cca.realm[0].extensible-measurements[2]: not hex");
    parse_fails("{\"cca\": {\"realm\": [{\"extensible-measurements\": [\"00\", \"00\", \"00\", "
                "\"0z\"]}]}}",
                "cca.realm[0].extensible-measurements[3]: not hex");
    /* a component's measurement and signer id: 1 to 64 bytes each */
    static const char *const sw_hex[] = {"measurement-value", "signer-id"};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(sw_hex); i++)
        for (size_t n = 64; n <= 65; n++) {
            snprintf(doc, sizeof doc,
                     "{\"cca\": {\"platform\": [{\"sw-components\": [{%s\"%s\": \"%s\"}]}]}}",
                     i ? "\"measurement-value\": \"00\", " : "", sw_hex[i], hexrep(h, "00", n));
            if (n == 64) {
                ccz_policy_free(parse(doc));
            } else {
                char want[96];
                snprintf(want, sizeof want,
                         "cca.platform[0].sw-components[0].%s: must be 1 to 64 bytes of hex",
                         sw_hex[i]);
                parse_fails(doc, want);
            }
        }
    parse_fails("{\"cca\": {\"platform\": [{\"sw-components\": [{\"component-type\": \"BL\"}]}]}}",
                "cca.platform[0].sw-components[0]: needs a measurement-value");
    /* at most 32 software components */
    for (int n = 32; n <= 33; n++) {
        int k = snprintf(doc, sizeof doc, "{\"cca\": {\"platform\": [{\"sw-components\": [");
        for (int i = 0; i < n; i++)
            k += snprintf(doc + k, sizeof doc - (size_t)k, "%s{\"measurement-value\": \"00\"}",
                          i ? ", " : "");
        snprintf(doc + k, sizeof doc - (size_t)k, "]}]}}");
        if (n == 32)
            ccz_policy_free(parse(doc));
        else
            parse_fails(doc, "cca.platform[0].sw-components: must be a list of at most 32 "
                             "software components");
    }
}

/* ---- the normalised form names every field, and parses back to itself ---------------------*/

static void test_normalised_every_field(void)
{
    char doc[8192], want[8192], hex[97], h[65];
    int n = snprintf(doc, sizeof doc,
                     "{\"ccz_policy\": 1, \"tees\": [\"sgx\", \"cca\"], \"allow_sim\": true, "
                     "\"allow_debug\": true, \"allow_mrservicetd_nonzero\": true, "
                     "\"allow_sept_ve_disable_clear\": true, \"allow_migration_agent\": true, "
                     "\"snp_max_vmpl\": 2, \"snp_min_tcb\": {\"bootloader\": 1, \"tee\": 2, "
                     "\"snp\": 3, \"microcode\": 4, \"fmc\": 5}, \"accepted_tcb_statuses\": "
                     "[\"SWHardeningNeeded\"], \"allow_outdated_tcb\": true, \"sgx\": "
                     "[{\"mr_enclave\": \"" MRE "\", \"mr_signer\": \"" MRS "\", \"isv_prod_id\": "
                     "1, \"isv_svn\": 2, \"config_svn\": 3, \"debuggable\": true}], \"tdx\": [{");
    int w = snprintf(want, sizeof want,
                     "{\"ccz_policy\":1,\"tees\":[\"sgx\",\"cca\"],\"allow_sim\":true,"
                     "\"allow_debug\":true,\"allow_mrservicetd_nonzero\":true,"
                     "\"allow_sept_ve_disable_clear\":true,\"allow_migration_agent\":true,"
                     "\"snp_max_vmpl\":2,\"snp_min_tcb\":{\"bootloader\":1,\"tee\":2,\"snp\":3,"
                     "\"microcode\":4,\"fmc\":5},\"accepted_tcb_statuses\":[\"SWHardeningNeeded\","
                     "\"OutOfDate\",\"OutOfDateConfigurationNeeded\"],\"sgx\":[{\"mr_enclave\":"
                     "\"" MRE "\",\"mr_signer\":\"" MRS "\",\"isv_prod_id\":1,\"isv_svn\":2,"
                     "\"config_svn\":3,\"debuggable\":true}],\"tdx\":[{");
    for (size_t k = 0; k < N_TDX_FIELDS; k++) {
        hex48(hex, k);
        n += snprintf(doc + n, sizeof doc - (size_t)n, "%s\"%s\": \"%s\"", k ? ", " : "",
                      tdx_fields[k].name, hex);
        w += snprintf(want + w, sizeof want - (size_t)w, "%s\"%s\":\"%s\"", k ? "," : "",
                      tdx_fields[k].name, hex);
    }
    hex48(hex, 10);
    hexrep(h, "dd", 32);
    snprintf(doc + n, sizeof doc - (size_t)n,
             "}], \"snp\": [{\"measurement\": \"%s\", \"host_data\": \"%s\", \"guest_svn_min\": "
             "7}], \"eventlog\": [{\"index\": \"4\", \"type\": \"EV_SEPARATOR\"}], \"cca\": "
             "{\"realm\": [{\"initial-measurement\": \"AB\"}]}}",
             hex, h);
    snprintf(want + w, sizeof want - (size_t)w,
             "}],\"snp\":[{\"measurement\":\"%s\",\"host_data\":\"%s\",\"guest_svn_min\":7}],"
             "\"eventlog\":[{\"index\":4,\"type\":\"EV_SEPARATOR\"}],\"cca\":{\"realm\":[{"
             "\"initial-measurement\":\"AB\"}]}}",
             hex, h);
    ccz_policy *p = parse(doc);
    json_t *j = p ? ccz_policy_to_json(p) : NULL;
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    CHECK_STR(s, want);
    ccz_policy *q = s ? parse(s) : NULL;
    json_t *k = q ? ccz_policy_to_json(q) : NULL;
    char *s2 = k ? json_dumps(k, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    CHECK_STR(s2, want);
    free(s);
    free(s2);
    json_decref(j);
    json_decref(k);
    ccz_policy_free(p);
    ccz_policy_free(q);

    /* a dynamic_config list whose entry constrains nothing is written as no list */
    p = parse("{\"verify_mr_enclave\": \"off\", \"sgx_mrs\": [{\"mr_enclave\": \"\"}]}");
    j = p ? ccz_policy_to_json(p) : NULL;
    s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    CHECK_STR(s, "{\"ccz_policy\":1,\"tees\":[\"sim\",\"sgx\"],\"allow_sim\":false,"
                 "\"allow_debug\":false,\"allow_mrservicetd_nonzero\":false,"
                 "\"allow_sept_ve_disable_clear\":false,\"allow_migration_agent\":false,"
                 "\"snp_max_vmpl\":0,\"accepted_tcb_statuses\":[\"UpToDate\"]}");
    q = s ? parse(s) : NULL;
    ccz_policy_free(q);
    free(s);
    json_decref(j);
    ccz_policy_free(p);
}

/* A bound below 9 as a string of one digit above it: "4" is not within snp_max_vmpl's 0..3 */
static void test_small_bound_as_string(void)
{
    parse_fails("{\"snp_max_vmpl\": \"4\"}", "snp_max_vmpl: 4 is larger than 3");
    parse_fails("{\"snp_max_vmpl\": \"9\"}", "snp_max_vmpl: 9 is larger than 3");
    ccz_policy *p = parse("{\"snp_max_vmpl\": \"3\"}");
    ccz_claims c;
    memset(&c, 0, sizeof c);
    c.tee = CCZ_TEE_SNP;
    c.snp.vmpl = 3;
    expect(p, &c, true, "");
    ccz_policy_free(p);
}

/* ---- reasons name the policy's own keys ----------------------------------------------------*/

/* The message of the first reason of an appraisal (empty when accepted). */
static const char *first_reason(const ccz_policy *p, const ccz_claims *c)
{
    static ccz_appraisal a;
    a.n_reasons = 0;
    if (!p || ccz_appraise(&a, p, c) != CCZ_OK || a.n_reasons == 0)
        return "";
    return a.reasons[0].message;
}

static void test_reasons_name_policy_keys(void)
{
    char b[97], doc[1024];
    memset(b, 'b', 96);
    b[96] = 0;
    /* a dynamic_config's TD fields are named as the dynamic_config spells them */
    snprintf(doc, sizeof doc,
             "{\"verify_rt_mr0\": \"on\", \"verify_rt_mr3\": \"on\", "
             "\"verify_mrsigner_seam\": \"on\", \"tdx_mrs\": [{\"rt_mr0\": \"%s\", "
             "\"rt_mr3\": \"%s\", \"mrsigner_seam\": \"%s\"}]}",
             b, b, b);
    ccz_policy *p = parse(doc);
    ccz_claims t;
    memset(&t, 0, sizeof t);
    t.tee = CCZ_TEE_TDX;
    t.tdx.td_attributes[3] = 0x10;
    strcpy(t.tcb_status, "UpToDate");
    memset(t.tdx.rtmr[0], 0xbb, 48);
    memset(t.tdx.rtmr[3], 0xbb, 48);
    memset(t.tdx.mr_signer_seam, 0xbb, 48);
    expect(p, &t, true, "");
    t.tdx.rtmr[0][0] = 0;
    CHECK_STR(first_reason(p, &t), "tdx_mrs[0]: rt_mr0 is 00bbbbbbbbbb..., not bbbbbbbbbbbb...");
    t.tdx.rtmr[0][0] = 0xbb;
    t.tdx.rtmr[3][0] = 0;
    CHECK_STR(first_reason(p, &t), "tdx_mrs[0]: rt_mr3 is 00bbbbbbbbbb..., not bbbbbbbbbbbb...");
    t.tdx.rtmr[3][0] = 0xbb;
    t.tdx.mr_signer_seam[0] = 0;
    CHECK_STR(first_reason(p, &t),
              "tdx_mrs[0]: mrsigner_seam is 00bbbbbbbbbb..., not bbbbbbbbbbbb...");
    ccz_policy_free(p);
    /* ccz's format names them as it spells them */
    snprintf(doc, sizeof doc, "{\"tdx\": [{\"rtmr0\": \"%s\", \"mr_signer_seam\": \"%s\"}]}", b, b);
    p = parse(doc);
    memset(t.tdx.mr_signer_seam, 0xbb, 48);
    t.tdx.rtmr[0][0] = 0;
    CHECK_STR(first_reason(p, &t), "tdx[0]: rtmr0 is 00bbbbbbbbbb..., not bbbbbbbbbbbb...");
    t.tdx.rtmr[0][0] = 0xbb;
    t.tdx.mr_signer_seam[0] = 0;
    CHECK_STR(first_reason(p, &t),
              "tdx[0]: mr_signer_seam is 00bbbbbbbbbb..., not bbbbbbbbbbbb...");
    ccz_policy_free(p);

    /* the switch a reason points to is the one the policy's format has */
    ccz_claims c = sgx_claims();
    c.debug = true;
    p = parse("{\"verify_mr_enclave\": \"on\", \"sgx_mrs\": [{\"mr_enclave\": \"" MRE "\"}]}");
    CHECK_CONTAINS(first_reason(p, &c), "the policy does not allow debug (ccz_allow_debug)");
    ccz_policy_free(p);
    p = parse("{\"sgx\": [{\"mr_enclave\": \"" MRE "\"}]}");
    CHECK_CONTAINS(first_reason(p, &c), "the policy does not allow debug (allow_debug)");
    ccz_policy_free(p);

    /* an empty "eventlog" list requires no event, so no event log either */
    p = parse("{\"eventlog\": []}");
    c = sgx_claims();
    expect(p, &c, true, "");
    ccz_policy_free(p);

    /* an entry whose every field differs: the reason is cut at the mismatch buffer's end (200
     * bytes), and nothing is written past it */
    char zeros[97], all[2048];
    memset(zeros, '0', 96);
    zeros[96] = 0;
    int n = snprintf(all, sizeof all, "{\"tdx\": [{");
    for (size_t k = 0; k < N_TDX_FIELDS; k++)
        n += snprintf(all + n, sizeof all - (size_t)n, "%s\"%s\": \"%s\"", k ? ", " : "",
                      tdx_fields[k].name, zeros);
    snprintf(all + n, sizeof all - (size_t)n, "}]}");
    p = parse(all);
    t = tdx_claims();
    CHECK_STR(first_reason(p, &t),
              "tdx[0]: mr_td is 111111111111..., not 000000000000...; mr_config_id is "
              "222222222222..., not 000000000000...; mr_owner is 333333333333..., not "
              "000000000000...; mr_owner_config is 444444444444..., not 00000000");
    ccz_policy_free(p);

    /* verify_in_enclave constrains nothing, but its value is still checked */
    parse_fails("{\"verify_in_enclave\": \"yes\", \"sgx_mrs\": []}",
                "verify_in_enclave: must be \"on\" or \"off\"");
}

TEST_MAIN(T(test_default_policy), T(test_ccz_policy), T(test_tdx_and_snp_lists),
          T(test_azure_as_hardware), T(test_dynamic_config_matrix), T(test_dynamic_config_entries),
          T(test_dynamic_config_sim_and_debug), T(test_dynamic_config_tdx),
          T(test_production_checks), T(test_snp_checks), T(test_bad_documents),
          T(test_switch_spellings), T(test_normalised_json), T(test_load_file),
          T(test_tdx_each_field), T(test_sgx_each_field), T(test_snp_each_field),
          T(test_csv_each_field), T(test_bad_values), T(test_debuggable_and_extensions),
          T(test_event_rules), T(test_cca_reference_values), T(test_cca_bad_reference_values),
          T(test_normalised_every_field), T(test_small_bound_as_string),
          T(test_reasons_name_policy_keys))
