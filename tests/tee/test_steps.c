/* SPDX-License-Identifier: Apache-2.0 */
/* Failing steps as data: CCZ_STEP_LIST gives each step an enum value and the stable name that
 * ccz_result.step has always carried; ccz_result_failf records step, code and message in one
 * statement. */
#include <string.h>

#include "ccz/ccz.h"
#include "test.h"

static void test_names_are_the_stable_strings(void)
{
    static const struct {
        ccz_step id;
        const char *name;
    } all[] = {
#define X(sym, val, name) {sym, name},
        CCZ_STEP_LIST(X)
#undef X
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(all); i++) {
        CHECK_INT(all[i].id, (long long)i + 1); /* appended in order, never renumbered */
        CHECK_STR(ccz_step_name(all[i].id), all[i].name);
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(all[i].name, all[j].name) != 0);
    }
    /* the strings docs/model.md and the CLI's JSON promise */
    CHECK_STR(ccz_step_name(CCZ_AT_DETECT), "detect");
    CHECK_STR(ccz_step_name(CCZ_AT_PLATFORM_CERT), "platform_certificate");
    CHECK_STR(ccz_step_name(CCZ_AT_PCK_CHAIN), "pck_chain");
    CHECK_STR(ccz_step_name(CCZ_AT_QE_REPORT_SIGNATURE), "qe_report_signature");
    CHECK_STR(ccz_step_name(CCZ_AT_TDX_MODULE), "tdx_module");
    CHECK(ccz_step_name(CCZ_AT_NONE) == NULL);
    CHECK(ccz_step_name((ccz_step)999) == NULL);
}

static void test_failf_records_everything(void)
{
    ccz_result r;
    memset(&r, 0, sizeof r);
    ccz_error_clear();
    CHECK_STATUS(ccz_result_failf(&r, CCZ_AT_TCB_LEVEL, CCZ_ERR_TCB_LEVEL_NOT_FOUND,
                                  "no level for %s %d", "FMSPC", 7),
                 CCZ_ERR_TCB_LEVEL_NOT_FOUND);
    CHECK_INT(r.status, CCZ_ERR_TCB_LEVEL_NOT_FOUND);
    CHECK_INT(r.step_id, CCZ_AT_TCB_LEVEL);
    CHECK_STR(r.step, CCZ_STEP_TCB_LEVEL);
    CHECK_STR(r.message, "no level for FMSPC 7");
    CHECK_STR(ccz_error_detail(), "no level for FMSPC 7");
    /* without a detail the message is the status's text */
    ccz_error_clear();
    CHECK_STATUS(ccz_result_fail(&r, CCZ_AT_SIGNATURE, CCZ_ERR_BAD_SIGNATURE),
                 CCZ_ERR_BAD_SIGNATURE);
    CHECK_STR(r.step, "signature");
    CHECK_STR(r.message, ccz_strerror(CCZ_ERR_BAD_SIGNATURE));
}

static void test_verify_reports_step_id(void)
{
    ccz_trust *t;
    CHECK_OK(ccz_trust_new(&t));
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.trust = t;
    ccz_result r;
    CHECK_STATUS(ccz_verify(&r, CCZ_LIT("not evidence"), &o), CCZ_ERR_UNKNOWN_FORMAT);
    CHECK_INT(r.step_id, CCZ_AT_DETECT);
    CHECK_STR(r.step, "detect");
    /* sim evidence of an unsupported version fails at parse */
    static const uint8_t sim[] = {'C', 'C', 'Z', 'S', 9, 0};
    CHECK_STATUS(ccz_verify(&r, CCZ_SPAN(sim, sizeof sim), &o), CCZ_ERR_UNSUPPORTED_VERSION);
    CHECK_INT(r.step_id, CCZ_AT_PARSE);
    CHECK_STR(r.step, "parse");
    ccz_trust_free(t);
}

TEST_MAIN(T(test_names_are_the_stable_strings), T(test_failf_records_everything),
          T(test_verify_reports_step_id))
