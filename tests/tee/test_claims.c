/* SPDX-License-Identifier: Apache-2.0 */
/* Claims rendering and TEE names: every TEE's part appears under its own keys, as hex; SNP's
 * policy bits by name, DCAP's findings, the Azure vTPM's and CSV's versions of their parts. */
#include <string.h>

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
    t = CCZ_TEE_SNP;
    CHECK_STATUS(ccz_tee_parse(&t, "sev"), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "unknown TEE 'sev' (expected sim, sgx, tdx, snp, az-snp-vtpm, "
                                  "az-tdx-vtpm, csv or cca)");
    CHECK_INT(t, CCZ_TEE_SNP); /* untouched */
    CHECK_STATUS(ccz_tee_parse(&t, "none"), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "unknown TEE 'none' (expected sim, sgx, tdx, snp, az-snp-vtpm, "
                                  "az-tdx-vtpm, csv or cca)");
    /* every name the message lists parses, and names itself */
    static const char *const all[] = {"sim",         "sgx",         "tdx", "snp",
                                      "az-snp-vtpm", "az-tdx-vtpm", "csv", "cca"};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(all); i++) {
        CHECK_OK(ccz_tee_parse(&t, all[i]));
        CHECK_STR(ccz_tee_name(t), all[i]);
    }
    CHECK_STATUS(ccz_tee_parse(&t, "SIM"), CCZ_ERR_INVALID_ARGUMENT);
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
    c.snp.current_tcb.snp = 0x17;
    c.snp.committed_tcb.tee = 0x02;
    c.snp.launch_tcb.bootloader = 0x03;
    c.snp.platform_info = 0x25;
    strcpy(c.snp.product, "Milan");
    c.snp.measurement[47] = 0x5a;
    json_t *o = ccz_claims_to_json(&c);
    CHECK_STR(str(o, "policy"), "0xb0000");
    CHECK_INT(strlen(str(o, "measurement")), 96); /* 48 bytes, the last one too */
    CHECK_STR(str(o, "measurement") + 94, "5a");
    CHECK_STR(str(o, "signing_key"), "vlek");
    CHECK_STR(str(o, "product"), "Milan");
    json_t *tcb = json_object_get(o, "reported_tcb");
    CHECK_INT(json_integer_value(json_object_get(tcb, "microcode")), 0xd1);
    CHECK(json_object_get(tcb, "fmc") == NULL);
    /* the TCBs a policy bounds besides the reported one (rollback: committed, launch) */
    CHECK_INT(json_integer_value(json_object_get(json_object_get(o, "current_tcb"), "snp")), 0x17);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(o, "committed_tcb"), "tee")), 2);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(o, "launch_tcb"), "bootloader")),
              3);
    CHECK_STR(str(o, "platform_info"), "0x25");
    json_decref(o);
    strcpy(c.snp.product, "Turin");
    o = ccz_claims_to_json(&c);
    CHECK(json_object_get(json_object_get(o, "reported_tcb"), "fmc") != NULL);
    json_decref(o);
}

/* SNP's policy bits by name: DEBUG is bit 19, MIGRATE_MA bit 18. */
static void test_snp_policy_bits(void)
{
    static ccz_claims c;
    c.tee = CCZ_TEE_SNP;
    strcpy(c.snp.product, "Genoa");
    c.snp.policy = 1ull << 19;
    json_t *o = ccz_claims_to_json(&c);
    CHECK(json_is_true(json_object_get(o, "debug_allowed")));
    CHECK(json_is_false(json_object_get(o, "migration_agent_allowed")));
    json_decref(o);
    c.snp.policy = 1ull << 18;
    o = ccz_claims_to_json(&c);
    CHECK(json_is_false(json_object_get(o, "debug_allowed")));
    CHECK(json_is_true(json_object_get(o, "migration_agent_allowed")));
    json_decref(o);
}

/* DCAP's findings (FMSPC, the TCB statuses, advisories) for SGX and TDX, not for SNP. */
static void test_dcap_fields(void)
{
    static ccz_claims c;
    c.tee = CCZ_TEE_TDX;
    c.dcap.fmspc[0] = 0x90;
    c.dcap.fmspc[5] = 0x01;
    strcpy(c.tcb_status, "OutOfDate");
    strcpy(c.dcap.platform_status, "OutOfDate");
    strcpy(c.dcap.qe_status, "UpToDate");
    c.n_advisories = 2;
    strcpy(c.advisories[0], "INTEL-SA-00828");
    strcpy(c.advisories[1], "INTEL-SA-00837");
    json_t *o = ccz_claims_to_json(&c);
    CHECK_STR(str(o, "fmspc"), "900000000001");
    CHECK_STR(str(o, "tcb_status"), "OutOfDate");
    CHECK_STR(str(o, "qe_tcb_status"), "UpToDate");
    json_t *adv = json_object_get(o, "advisories");
    CHECK_INT(json_array_size(adv), 2);
    CHECK_STR(json_string_value(json_array_get(adv, 1)), "INTEL-SA-00837");
    json_decref(o);
    c.tee = CCZ_TEE_SNP;
    o = ccz_claims_to_json(&c);
    CHECK(json_object_get(o, "fmspc") == NULL && json_object_get(o, "advisories") == NULL);
    json_decref(o);
}

/* An Azure vTPM's report data is the TPM quote's nonce, as long as it was; the VM configuration
 * the HCL report left out is null, not false. */
static void test_vtpm(void)
{
    static ccz_claims c;
    c.tee = CCZ_TEE_AZ_SNP_VTPM;
    strcpy(c.snp.product, "Milan");
    c.report_data_len = 3;
    c.report_data[0] = 0xaa;
    c.vtpm.secure_boot = 1;
    c.vtpm.tpm_enabled = 0;
    c.vtpm.console_enabled = -1;
    memset(c.vtpm.pcrs[7], 0x07, 32);
    memset(c.vtpm.pcrs[23], 0x23, 32);
    json_t *o = ccz_claims_to_json(&c);
    CHECK_STR(str(o, "report_data"), "aa0000");
    json_t *vm = json_object_get(o, "vm_configuration");
    CHECK(json_is_true(json_object_get(vm, "secure_boot")));
    CHECK(json_is_false(json_object_get(vm, "tpm_enabled")));
    CHECK(json_is_null(json_object_get(vm, "console_enabled")));
    CHECK_STR(str(json_object_get(o, "tpm"), "pcr07"),
              "0707070707070707070707070707070707070707070707070707070707070707");
    /* all 24 PCRs, the last one too */
    CHECK_INT(json_object_size(json_object_get(o, "tpm")), 24);
    CHECK_STR(str(json_object_get(o, "tpm"), "pcr23"),
              "2323232323232323232323232323232323232323232323232323232323232323");
    json_decref(o);
}

/* CSV: version 1 carries the anonce, versions 2 and 3 the build and RTMRs, version 3 the host
 * data too. */
static void test_csv(void)
{
    static ccz_claims c;
    c.tee = CCZ_TEE_CSV;
    c.csv.version = 1;
    c.csv.anonce = 0x1234;
    c.csv.policy = 0x10000 | 1; /* api_major 1, nodbg */
    json_t *o = ccz_claims_to_json(&c);
    CHECK_INT(json_integer_value(json_object_get(o, "anonce")), 0x1234);
    CHECK(json_object_get(o, "rtmr0") == NULL && json_object_get(o, "build") == NULL);
    json_t *bits = json_object_get(o, "policy_bits");
    CHECK(json_is_true(json_object_get(bits, "nodbg")));
    CHECK_INT(json_integer_value(json_object_get(bits, "api_major")), 1);
    json_decref(o);
    /* each policy field at its own bits: csv (5), hsk_version (8-11), cek_version (12-15),
     * api_major (16-23), api_minor (24-31) */
    c.csv.policy = 0xab12c920u;
    o = ccz_claims_to_json(&c);
    CHECK_STR(str(o, "policy"), "0xab12c920");
    bits = json_object_get(o, "policy_bits");
    CHECK(json_is_false(json_object_get(bits, "nodbg")));
    CHECK(json_is_true(json_object_get(bits, "csv")));
    CHECK(json_is_false(json_object_get(bits, "csv3")));
    CHECK(json_is_false(json_object_get(bits, "domain")));
    CHECK_INT(json_integer_value(json_object_get(bits, "hsk_version")), 9);
    CHECK_INT(json_integer_value(json_object_get(bits, "cek_version")), 0xc);
    CHECK_INT(json_integer_value(json_object_get(bits, "api_major")), 0x12);
    CHECK_INT(json_integer_value(json_object_get(bits, "api_minor")), 0xab);
    json_decref(o);
    c.csv.version = 2;
    o = ccz_claims_to_json(&c);
    CHECK(json_object_get(o, "anonce") == NULL);
    CHECK(json_object_get(o, "rtmr4") != NULL && json_object_get(o, "host_data") == NULL);
    json_decref(o);
    c.csv.version = 3;
    o = ccz_claims_to_json(&c);
    CHECK(json_object_get(o, "rtmr4") != NULL && json_object_get(o, "host_data") != NULL);
    json_decref(o);
}

/* CCA: every software component, the 33-byte instance ID, all four REMs. */
static void test_cca(void)
{
    static ccz_claims c;
    c.tee = CCZ_TEE_CCA;
    c.cca.n_sw_components = 2;
    strcpy(c.cca.sw_components[0].type, "BL");
    strcpy(c.cca.sw_components[1].type, "RSE_BL1_2");
    c.cca.sw_components[1].measurement_len = 2;
    c.cca.sw_components[1].measurement[1] = 0x5c;
    c.cca.instance_id[0] = 0x01;
    c.cca.instance_id[32] = 0x33;
    c.cca.rim_len = 32;
    c.cca.rem[3][31] = 0x7e;
    json_t *o = ccz_claims_to_json(&c);
    CHECK(o != NULL);
    json_t *sw = json_object_get(o, "sw_components");
    CHECK_INT(json_array_size(sw), 2);
    CHECK_STR(str(json_array_get(sw, 0), "type"), "BL");
    CHECK_STR(str(json_array_get(sw, 1), "type"), "RSE_BL1_2");
    CHECK_STR(str(json_array_get(sw, 1), "measurement"), "005c");
    CHECK_INT(strlen(str(o, "instance_id")), 66);
    CHECK_STR(str(o, "instance_id") + 64, "33");
    json_t *rem = json_object_get(o, "rem");
    CHECK_INT(json_array_size(rem), 4);
    CHECK_STR(json_string_value(json_array_get(rem, 3)) + 62, "7e");
    json_decref(o);
}

TEST_MAIN(T(test_names), T(test_sgx_and_sim), T(test_tdx), T(test_snp), T(test_snp_policy_bits),
          T(test_dcap_fields), T(test_vtpm), T(test_csv), T(test_cca))
