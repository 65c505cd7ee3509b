/* SPDX-License-Identifier: Apache-2.0 */
/* Claims rendering and TEE names: every TEE's part appears under its own keys, as hex. */
#include <jansson.h>

#include "ccz/ccz.h"
#include "test.h"

static const char *str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static void test_names(void)
{
    ccz_tee t;
    static const char *const names[] = {"sim", "sgx", "tdx", "snp"};
    for (int i = 0; i < 4; i++) {
        CHECK_OK(ccz_tee_parse(&t, names[i]));
        CHECK_INT(t, i + 1);
        CHECK_STR(ccz_tee_name(t), names[i]);
    }
    CHECK_STATUS(ccz_tee_parse(&t, "sev"), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ccz_tee_parse(&t, "none"), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_tee_name((ccz_tee)42), "unknown");
}

static void test_sgx_and_sim(void)
{
    static ccz_claims c;
    c.tee = CCZ_TEE_SGX;
    memset(c.sgx.mr_enclave, 0xab, 32);
    c.sgx.isv_svn = 7;
    c.report_data[63] = 1;
    json_t *o = ccz_claims_to_json(&c);
    CHECK_STR(str(o, "tee"), "sgx");
    CHECK_STR(str(o, "mr_enclave"),
              "abababababababababababababababababababababababababababababababab");
    CHECK_INT(json_integer_value(json_object_get(o, "isv_svn")), 7);
    CHECK_INT(strlen(str(o, "report_data")), 128);
    CHECK_STR(str(o, "report_data") + 126, "01");
    CHECK(json_object_get(o, "attributes") != NULL);
    CHECK(json_object_get(o, "platform_id") == NULL);
    CHECK(json_is_false(json_object_get(o, "simulated")));
    json_decref(o);
    c.tee = CCZ_TEE_SIM;
    c.simulated = true;
    c.sim.timestamp = 1234;
    o = ccz_claims_to_json(&c);
    CHECK(json_is_true(json_object_get(o, "simulated")));
    CHECK_INT(json_integer_value(json_object_get(o, "timestamp")), 1234);
    CHECK(json_object_get(o, "platform_id") != NULL);
    CHECK(json_object_get(o, "attributes") == NULL);
    json_decref(o);
}

static void test_tdx(void)
{
    static ccz_claims c;
    c.tee = CCZ_TEE_TDX;
    memset(c.tdx.rtmr[3], 0x01, 48);
    json_t *o = ccz_claims_to_json(&c);
    CHECK_INT(strlen(str(o, "mr_td")), 96);
    CHECK_STR(str(o, "rtmr3"), "0101010101010101010101010101010101010101010101010101010101010101"
                               "01010101010101010101010101010101");
    CHECK(json_object_get(o, "mr_servicetd") == NULL);
    json_decref(o);
    c.tdx.td_report_15 = true;
    o = ccz_claims_to_json(&c);
    CHECK(json_object_get(o, "mr_servicetd") != NULL);
    CHECK(json_object_get(o, "tee_tcb_svn2") != NULL);
    json_decref(o);
}

static void test_snp(void)
{
    static ccz_claims c;
    c.tee = CCZ_TEE_SNP;
    c.snp.policy = 0xb0000;
    c.snp.vmpl = 1;
    c.snp.signing_key = CCZ_SNP_KEY_VLEK;
    c.snp.reported_tcb.microcode = 0xd1;
    strcpy(c.snp.product, "Milan");
    json_t *o = ccz_claims_to_json(&c);
    CHECK_STR(str(o, "policy"), "0xb0000");
    CHECK_STR(str(o, "signing_key"), "vlek");
    CHECK_STR(str(o, "product"), "Milan");
    json_t *tcb = json_object_get(o, "reported_tcb");
    CHECK_INT(json_integer_value(json_object_get(tcb, "microcode")), 0xd1);
    CHECK(json_object_get(tcb, "fmc") == NULL);
    json_decref(o);
    strcpy(c.snp.product, "Turin");
    o = ccz_claims_to_json(&c);
    CHECK(json_object_get(json_object_get(o, "reported_tcb"), "fmc") != NULL);
    json_decref(o);
}

TEST_MAIN(T(test_names), T(test_sgx_and_sim), T(test_tdx), T(test_snp))
