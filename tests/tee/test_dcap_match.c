/* SPDX-License-Identifier: Apache-2.0 */
/* DCAP: what the PCK certificate and the quote must match in the collateral, one byte or one
 * component at a time, on the forged test platform (tests/support/dcap_forge): the FMSPC (each
 * of its 6 bytes) and PCE ID (each of 2) against the TCB info, each of the 16 SGX CPU SVN
 * components and the PCE SVN, and each of the 16 TDX TEE TCB SVN components against a TCB level
 * (module major version 0, so all count); the TDX module's signer in its first and last
 * bytes. */
#include <stdio.h>
#include <string.h>

#include "ccz/ccz.h"
#include "dcap_forge.h"
#include "test.h"

#define AT 1893456000 /* 2030-01-01 */
#define DATES "\"issueDate\":\"2025-01-01T00:00:00Z\",\"nextUpdate\":\"2035-01-01T00:00:00Z\""
#define ZERO48                                                                                     \
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"

static forge *F;
static ccz_trust *trust;

static const char *qe_identity(bool td)
{
    static char buf[2048];
    snprintf(
        buf, sizeof buf,
        "{\"id\":\"%s\",\"version\":2," DATES ",\"tcbEvaluationDataNumber\":17,\"miscselect\":"
        "\"00000000\",\"miscselectMask\":\"FFFFFFFF\",\"attributes\":"
        "\"11000000000000000000000000000000\",\"attributesMask\":"
        "\"FBFFFFFFFFFFFFFF0000000000000000\",\"mrsigner\":"
        "\"8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C\",\"isvprodid\":%d,"
        "\"tcbLevels\":[{\"tcb\":{\"isvsvn\":8},\"tcbDate\":\"2024-01-01T00:00:00Z\","
        "\"tcbStatus\":\"UpToDate\"}]}",
        td ? "TD_QE" : "QE", td ? 2 : 1);
    return buf;
}

/* A TCB info with one level: SGX components all 5, PCE SVN 10, TDX components tdx[16]. */
static void tcb_info(char *out, size_t cap, bool tdx, const int *tdxc)
{
    char comps[512] = "", tdxs[512] = "";
    for (int i = 0; i < 16; i++) {
        snprintf(comps + strlen(comps), sizeof comps - strlen(comps), "%s{\"svn\":5}",
                 i ? "," : "");
        if (tdx)
            snprintf(tdxs + strlen(tdxs), sizeof tdxs - strlen(tdxs), "%s{\"svn\":%d}",
                     i ? "," : "", tdxc[i]);
    }
    snprintf(out, cap,
             "{\"id\":\"%s\",\"version\":3," DATES ",\"fmspc\":\"00906ED50000\",\"pceId\":\"0000\","
             "\"tcbType\":0,\"tcbEvaluationDataNumber\":17%s,\"tcbLevels\":[{\"tcb\":{"
             "\"sgxtcbcomponents\":[%s],\"pcesvn\":10%s%s%s},\"tcbDate\":\"2024-01-01T00:00:00Z\","
             "\"tcbStatus\":\"UpToDate\"}]}",
             tdx ? "TDX" : "SGX",
             tdx ? ",\"tdxModule\":{\"mrsigner\":\"" ZERO48
                   "\",\"attributes\":\"0000000000000000\","
                   "\"attributesMask\":\"FFFFFFFFFFFFFFFF\"}"
                 : "",
             comps, tdx ? ",\"tdxtcbcomponents\":[" : "", tdx ? tdxs : "", tdx ? "]" : "");
}

static ccz_status run(const forge_quote_opts *qo, const char *ti, const char *qe, ccz_result *r)
{
    if (!F) {
        F = forge_new();
        trust = forge_trust(F);
    }
    forge_collateral_opts co = {ti, qe, 1735689600, 2051222400, false, false};
    ccz_buf q = CCZ_BUF_INIT, c = CCZ_BUF_INIT;
    CHECK_OK(forge_quote(F, &q, qo));
    CHECK_OK(forge_collateral(F, &c, &co));
    ccz_collateral *col = NULL;
    CHECK_OK(ccz_collateral_parse(&col, (const char *)c.ptr, c.len));
    ccz_verify_opts vo = CCZ_VERIFY_OPTS_INIT;
    vo.at_unix = AT;
    vo.trust = trust;
    vo.collateral = col;
    ccz_status s = ccz_verify(r, ccz_buf_span(&q), &vo);
    ccz_collateral_free(col);
    ccz_buf_free(&q);
    ccz_buf_free(&c);
    return s;
}

static void expect(const char *what, ccz_status got, const ccz_result *r, ccz_status want,
                   const char *step)
{
    if (got != want || (step && (!r->step || strcmp(r->step, step) != 0))) {
        fprintf(stderr, "%s: %s: got %s at %s (%s), want %s at %s\n", test_name, what,
                ccz_status_name(got), r->step ? r->step : "-", r->message, ccz_status_name(want),
                step ? step : "-");
        test_failures++;
    }
    test_checks++;
}

static void test_fmspc_and_pce_id(void)
{
    char ti[8192];
    tcb_info(ti, sizeof ti, false, NULL);
    static ccz_result r;
    forge_quote_opts qo;
    forge_quote_defaults(&qo);
    CHECK_OK(run(&qo, ti, qe_identity(false), &r));
    CHECK_STR(r.claims.tcb_status, "UpToDate");
    char what[64];
    for (int b = 0; b < 6; b++) {
        forge_quote_defaults(&qo);
        qo.ext.fmspc[b] ^= 0x01;
        snprintf(what, sizeof what, "FMSPC byte %d", b);
        expect(what, run(&qo, ti, qe_identity(false), &r), &r, CCZ_ERR_COLLATERAL_MISMATCH,
               "tcb_info");
    }
    for (int b = 0; b < 2; b++) {
        forge_quote_defaults(&qo);
        qo.ext.pce_id[b] ^= 0x01;
        snprintf(what, sizeof what, "PCE ID byte %d", b);
        expect(what, run(&qo, ti, qe_identity(false), &r), &r, CCZ_ERR_COLLATERAL_MISMATCH,
               "tcb_info");
    }
}

/* Each TDX component, one below the only level's: no level matches. Module major version 0
 * (byte 1 is 0), so bytes 0 and 1 count too. */
static void test_tdx_components(void)
{
    int level[16];
    for (int i = 0; i < 16; i++)
        level[i] = i == 1 ? 0 : 3 + i % 4;
    char ti[8192];
    tcb_info(ti, sizeof ti, true, level);
    static ccz_result r;
    forge_quote_opts qo;
    forge_quote_defaults(&qo);
    qo.version = 4;
    qo.tdx = true;
    qo.qe_isvprodid = 2;
    for (int i = 0; i < 16; i++)
        qo.tee_tcb_svn[i] = (uint8_t)level[i];
    CHECK_OK(run(&qo, ti, qe_identity(true), &r));
    CHECK_STR(r.claims.tcb_status, "UpToDate");
    /* the TDX module's signer, in its first and last bytes */
    for (int b = 0; b < 48; b += 47) {
        forge_quote_opts q2 = qo;
        q2.mr_signer_seam[b] ^= 0x01;
        expect("MRSIGNERSEAM", run(&q2, ti, qe_identity(true), &r), &r, CCZ_ERR_TDX_MODULE_MISMATCH,
               "tdx_module");
    }
    for (int i = 0; i < 16; i++) {
        if (i == 1)
            continue; /* the module's major version: 0 here */
        forge_quote_opts q2 = qo;
        q2.tee_tcb_svn[i]--;
        char what[64];
        snprintf(what, sizeof what, "TDX component %d", i);
        expect(what, run(&q2, ti, qe_identity(true), &r), &r, CCZ_ERR_TCB_LEVEL_NOT_FOUND, NULL);
    }
}

/* Each of the 16 SGX CPU SVN components, and the PCE SVN, one below the only level's. */
static void test_sgx_components(void)
{
    char ti[8192];
    tcb_info(ti, sizeof ti, false, NULL);
    static ccz_result r;
    for (int i = 0; i <= 16; i++) {
        forge_quote_opts qo;
        forge_quote_defaults(&qo); /* every component 5, PCE SVN 10: the level exactly */
        if (i < 16)
            qo.ext.cpusvn_components[i] = 4;
        else
            qo.ext.pcesvn = 9;
        char what[64];
        snprintf(what, sizeof what, i < 16 ? "CPU SVN component %d" : "PCE SVN", i);
        expect(what, run(&qo, ti, qe_identity(false), &r), &r, CCZ_ERR_TCB_LEVEL_NOT_FOUND, NULL);
    }
}

/* Overwrites, in place, the value after the first `"key":"` in doc with val (same length). */
static void set_hex(char *doc, const char *key, const char *val)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":\"", key);
    char *p = strstr(doc, pat);
    CHECK(p != NULL);
    if (p)
        memcpy(p + strlen(pat), val, strlen(val));
}

/* The QE report's MISCSELECT under the QE identity's mask: bits the mask clears do not count,
 * bits it keeps must equal the identity's (QVL: (MISCSELECT & mask) == miscselect). */
static void test_qe_miscselect(void)
{
    char ti[8192], qe[2048];
    tcb_info(ti, sizeof ti, false, NULL);
    static ccz_result r;
    forge_quote_opts qo;
    forge_quote_defaults(&qo);
    static const struct {
        uint32_t report;
        const char *miscselect, *mask;
        bool ok;
    } cases[] = {
        {0x00000000, "00000001", "FFFFFFFF", false}, /* a bit the identity wants */
        {0x00000100, "00000000", "FFFFFFFF", false}, /* a bit the identity does not allow */
        {0x00000100, "00000000", "FFFFFEFF", true},  /* ... that the mask clears */
        {0x00000000, "00000001", "FFFFFFFE", false}, /* an identity bit the mask clears */
        {0x80000001, "80000001", "FFFFFFFF", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        snprintf(qe, sizeof qe, "%s", qe_identity(false));
        set_hex(qe, "miscselect", cases[i].miscselect);
        set_hex(qe, "miscselectMask", cases[i].mask);
        qo.qe_miscselect = cases[i].report;
        ccz_status s = run(&qo, ti, qe, &r);
        char what[64];
        snprintf(what, sizeof what, "MISCSELECT case %zu", i);
        expect(what, s, &r, cases[i].ok ? CCZ_OK : CCZ_ERR_QE_IDENTITY_MISMATCH,
               cases[i].ok ? NULL : "qe_identity");
        if (!cases[i].ok)
            CHECK_CONTAINS(r.message, "the quoting enclave's MISCSELECT does not match");
    }
}

/* SEAMATTRIBUTES: zero, and equal to the TCB info's tdxModule attributes. */
static void test_seam_attributes(void)
{
    int level[16] = {0};
    char ti[8192];
    static ccz_result r;
    forge_quote_opts qo;
    forge_quote_defaults(&qo);
    qo.version = 4;
    qo.tdx = true;
    qo.qe_isvprodid = 2;
    static const struct {
        uint8_t report0;
        const char *attributes;
        ccz_status want;
    } cases[] = {
        {0x00, "0000000000000000", CCZ_OK},
        {0x01, "0000000000000000", CCZ_ERR_TDX_MODULE_MISMATCH}, /* not zero, not equal */
        {0x01, "0100000000000000", CCZ_ERR_TDX_MODULE_MISMATCH}, /* equal, but not zero */
        {0x00, "0100000000000000", CCZ_ERR_TDX_MODULE_MISMATCH}, /* zero, but not equal */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        tcb_info(ti, sizeof ti, true, level);
        set_hex(ti, "attributes", cases[i].attributes);
        qo.seam_attributes[0] = cases[i].report0;
        ccz_status s = run(&qo, ti, qe_identity(true), &r);
        char what[64];
        snprintf(what, sizeof what, "SEAMATTRIBUTES case %zu", i);
        expect(what, s, &r, cases[i].want, cases[i].want ? "tdx_module" : NULL);
        if (cases[i].want)
            CHECK_CONTAINS(r.message, "MRSIGNERSEAM or SEAMATTRIBUTES differ");
    }
}

static void cleanup(void)
{
    forge_free(F);
    ccz_trust_free(trust);
}

TEST_MAIN(T(test_fmspc_and_pce_id), T(test_sgx_components), T(test_tdx_components),
          T(test_qe_miscselect), T(test_seam_attributes), T(cleanup))
