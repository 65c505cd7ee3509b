/* SPDX-License-Identifier: Apache-2.0 */
/* DCAP verification logic on a forged test platform (tests/support/dcap_forge): TCB level
 * matching and ordering, QE identity checks, Intel QVL's status convergence, TDX module
 * identities (major version 0 and above), TD relaunch, revocation, CRL windows, SGX quotes of
 * every version, TCB info v2, the verification cache, and an event log replayed into a TD's
 * RTMRs. */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "ccz/ccz.h"
#include "dcap_forge.h"
#include "test.h"

#define AT 1893456000 /* 2030-01-01, inside every validity window below */
#define DATES "\"issueDate\":\"2025-01-01T00:00:00Z\",\"nextUpdate\":\"2035-01-01T00:00:00Z\""
#define ZERO48                                                                                     \
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"

static forge *F;
static ccz_trust *trust;

static void swap_text(char *doc, const char *from, const char *to);

static void setup(void)
{
    if (F)
        return;
    F = forge_new();
    trust = forge_trust(F);
}

/* One TCB level: 16 SGX components all `sgx` except comp[2] = sgx3 when nonzero; optional
 * TDX components t0,t1,t2 (rest 0). */
static void level(char *out, size_t cap, int sgx, int pcesvn, const int *tdx, const char *status,
                  const char *adv)
{
    char comps[512] = "", tdxs[512] = "";
    for (int i = 0; i < 16; i++)
        snprintf(comps + strlen(comps), sizeof comps - strlen(comps), "%s{\"svn\":%d}",
                 i ? "," : "", sgx);
    if (tdx)
        for (int i = 0; i < 16; i++)
            snprintf(tdxs + strlen(tdxs), sizeof tdxs - strlen(tdxs), "%s{\"svn\":%d}",
                     i ? "," : "", i < 3 ? tdx[i] : 0);
    snprintf(out + strlen(out), cap - strlen(out),
             "%s{\"tcb\":{\"sgxtcbcomponents\":[%s],\"pcesvn\":%d%s%s%s},\"tcbDate\":"
             "\"2024-01-01T00:00:00Z\",\"tcbStatus\":\"%s\"%s%s%s}",
             out[strlen(out) - 1] == '[' ? "" : ",", comps, pcesvn,
             tdx ? ",\"tdxtcbcomponents\":[" : "", tdx ? tdxs : "", tdx ? "]" : "", status,
             adv ? ",\"advisoryIDs\":[" : "", adv ? adv : "", adv ? "]" : "");
}

static const char *qe_identity(bool td, const char *levels)
{
    static char buf[2048];
    snprintf(
        buf, sizeof buf,
        "{\"id\":\"%s\",\"version\":2," DATES ",\"tcbEvaluationDataNumber\":17,\"miscselect\":"
        "\"00000000\",\"miscselectMask\":\"FFFFFFFF\",\"attributes\":"
        "\"11000000000000000000000000000000\",\"attributesMask\":"
        "\"FBFFFFFFFFFFFFFF0000000000000000\",\"mrsigner\":"
        "\"8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C8C\",\"isvprodid\":%d,"
        "\"tcbLevels\":[%s]}",
        td ? "TD_QE" : "QE", td ? 2 : 1,
        levels ? levels
               : "{\"tcb\":{\"isvsvn\":8},\"tcbDate\":\"2024-01-01T00:00:00Z\",\"tcbStatus\":"
                 "\"UpToDate\"}");
    return buf;
}

/* A TDX module identity block; modules is the tdxModuleIdentities list or NULL. */
static void tcb_info(char *out, size_t cap, bool tdx, const char *levels, const char *modules)
{
    snprintf(out, cap,
             "{\"id\":\"%s\",\"version\":3," DATES ",\"fmspc\":\"00906ED50000\",\"pceId\":\"0000\","
             "\"tcbType\":0,\"tcbEvaluationDataNumber\":17%s%s%s%s,\"tcbLevels\":[%s]}",
             tdx ? "TDX" : "SGX",
             tdx ? ",\"tdxModule\":{\"mrsigner\":\"" ZERO48
                   "\",\"attributes\":\"0000000000000000\","
                   "\"attributesMask\":\"FFFFFFFFFFFFFFFF\"}"
                 : "",
             modules ? ",\"tdxModuleIdentities\":[" : "", modules ? modules : "",
             modules ? "]" : "", levels);
}

typedef struct {
    ccz_status status;
    const char *step;
    char tcb[64];
    char adv[256];
    char platform[64], qe[64]; /* the claims' platform and QE TCB statuses */
    bool debug;
} outcome;

static outcome run(const forge_quote_opts *qo, const forge_collateral_opts *co)
{
    setup();
    outcome o = {0};
    ccz_buf q = CCZ_BUF_INIT, c = CCZ_BUF_INIT;
    CHECK_OK(forge_quote(F, &q, qo));
    CHECK_OK(forge_collateral(F, &c, co));
    ccz_collateral *col;
    CHECK_OK(ccz_collateral_parse(&col, (const char *)c.ptr, c.len));
    ccz_verify_opts vo = CCZ_VERIFY_OPTS_INIT;
    vo.at_unix = AT;
    vo.trust = trust;
    vo.collateral = col;
    static ccz_result r;
    o.status = ccz_verify(&r, ccz_buf_span(&q), &vo);
    o.step = r.step;
    if (o.status) {
        snprintf(o.tcb, sizeof o.tcb, "%s", ccz_status_name(o.status));
        if (test_failures < 50 && getenv("CCZ_TEST_VERBOSE"))
            fprintf(stderr, "  (%s at %s: %s)\n", o.tcb, r.step, r.message);
    } else {
        snprintf(o.tcb, sizeof o.tcb, "%s", r.claims.tcb_status);
        snprintf(o.platform, sizeof o.platform, "%s", r.claims.dcap.platform_status);
        snprintf(o.qe, sizeof o.qe, "%s", r.claims.dcap.qe_status);
        o.debug = r.claims.debug;
    }
    for (size_t i = 0; o.status == CCZ_OK && i < r.claims.n_advisories; i++)
        snprintf(o.adv + strlen(o.adv), sizeof o.adv - strlen(o.adv), "%s%s", i ? "," : "",
                 r.claims.advisories[i]);
    ccz_collateral_free(col);
    ccz_buf_free(&q);
    ccz_buf_free(&c);
    return o;
}

static forge_collateral_opts coll(const char *tcb, const char *qe)
{
    forge_collateral_opts co = {tcb,   qe,   1735689600 /* 2025 */, 2051222400 /* 2035 */,
                                false, false};
    return co;
}

#define EXPECT(o, want_tcb, want_adv)                                                              \
    do {                                                                                           \
        outcome o_ = (o);                                                                          \
        CHECK_STR(o_.tcb, want_tcb);                                                               \
        CHECK_STR(o_.adv, want_adv);                                                               \
    } while (0)

static void test_sgx_every_version(void)
{
    char levels[4096] = "[", ti[8192];
    level(levels, sizeof levels, 5, 10, NULL, "UpToDate", NULL);
    tcb_info(ti, sizeof ti, false, levels + 1, NULL);
    forge_quote_opts qo;
    forge_quote_defaults(&qo);
    for (int v = 3; v <= 5; v++) {
        qo.version = v;
        EXPECT(run(&qo, &(forge_collateral_opts){ti, qe_identity(false, NULL), 1735689600,
                                                 2051222400, false, false}),
               "UpToDate", "");
    }
    qo.version = 3;
    qo.cert_type = 4;
    outcome o = run(&qo, &(forge_collateral_opts){ti, qe_identity(false, NULL), 1735689600,
                                                  2051222400, false, false});
    CHECK_INT(o.status, CCZ_ERR_UNSUPPORTED);
}

static void test_sgx_level_matching(void)
{
    char levels[8192] = "[", ti[16384];
    /* deliberately out of order: matching uses Intel's order, highest first */
    level(levels, sizeof levels, 4, 10, NULL, "OutOfDate", "\"INTEL-SA-00003\"");
    level(levels, sizeof levels, 6, 10, NULL, "UpToDate", NULL);
    level(levels, sizeof levels, 5, 10, NULL, "SWHardeningNeeded",
          "\"INTEL-SA-00002\",\"INTEL-SA-00001\"");
    tcb_info(ti, sizeof ti, false, levels + 1, NULL);
    forge_collateral_opts co = coll(ti, qe_identity(false, NULL));
    forge_quote_opts qo;
    forge_quote_defaults(&qo);
    EXPECT(run(&qo, &co), "SWHardeningNeeded", "INTEL-SA-00001,INTEL-SA-00002");
    memset(qo.ext.cpusvn_components, 6, 16);
    EXPECT(run(&qo, &co), "UpToDate", "");
    qo.ext.cpusvn_components[2] = 4; /* one component behind: only the lowest level fits */
    EXPECT(run(&qo, &co), "OutOfDate", "INTEL-SA-00003");
    qo.ext.pcesvn = 9; /* below every level */
    outcome o = run(&qo, &co);
    CHECK_STR(o.tcb, "tcb_level_not_found");
    CHECK_STR(o.step, "tcb_level");
}

/* Intel QVL's convergence of platform and QE statuses (QE out of date, revoked). */
static void test_qe_convergence(void)
{
    static const char *const platform[] = {"UpToDate",
                                           "SWHardeningNeeded",
                                           "ConfigurationNeeded",
                                           "ConfigurationAndSWHardeningNeeded",
                                           "OutOfDate",
                                           "OutOfDateConfigurationNeeded"};
    static const char *const with_ood[] = {"OutOfDate",
                                           "OutOfDate",
                                           "OutOfDateConfigurationNeeded",
                                           "OutOfDateConfigurationNeeded",
                                           "OutOfDate",
                                           "OutOfDateConfigurationNeeded"};
    const char *qe_ood =
        "{\"tcb\":{\"isvsvn\":9},\"tcbDate\":\"2024-01-01T00:00:00Z\",\"tcbStatus\":\"UpToDate\"},"
        "{\"tcb\":{\"isvsvn\":8},\"tcbDate\":\"2023-01-01T00:00:00Z\",\"tcbStatus\":\"OutOfDate\","
        "\"advisoryIDs\":[\"INTEL-SA-00100\"]}";
    const char *qe_rev =
        "{\"tcb\":{\"isvsvn\":9},\"tcbDate\":\"2024-01-01T00:00:00Z\",\"tcbStatus\":\"UpToDate\"},"
        "{\"tcb\":{\"isvsvn\":8},\"tcbDate\":\"2023-01-01T00:00:00Z\",\"tcbStatus\":\"Revoked\"}";
    forge_quote_opts qo;
    forge_quote_defaults(&qo);
    char qe_ood_doc[2048], qe_rev_doc[2048];
    snprintf(qe_ood_doc, sizeof qe_ood_doc, "%s", qe_identity(false, qe_ood));
    snprintf(qe_rev_doc, sizeof qe_rev_doc, "%s", qe_identity(false, qe_rev));
    for (int i = 0; i < 6; i++) {
        char levels[4096] = "[", ti[8192];
        level(levels, sizeof levels, 5, 10, NULL, platform[i], "\"INTEL-SA-00200\"");
        tcb_info(ti, sizeof ti, false, levels + 1, NULL);
        EXPECT(run(&qo, &(forge_collateral_opts){ti, qe_identity(false, NULL), 1735689600,
                                                 2051222400, false, false}),
               platform[i], "INTEL-SA-00200");
        EXPECT(run(&qo,
                   &(forge_collateral_opts){ti, qe_ood_doc, 1735689600, 2051222400, false, false}),
               with_ood[i], "INTEL-SA-00100,INTEL-SA-00200");
        EXPECT(run(&qo,
                   &(forge_collateral_opts){ti, qe_rev_doc, 1735689600, 2051222400, false, false}),
               "Revoked", "INTEL-SA-00200");
    }
    /* a QE older than every QE level */
    char levels[4096] = "[", ti[8192];
    level(levels, sizeof levels, 5, 10, NULL, "UpToDate", NULL);
    tcb_info(ti, sizeof ti, false, levels + 1, NULL);
    qo.qe_isvsvn = 7;
    outcome o =
        run(&qo, &(forge_collateral_opts){ti, qe_ood_doc, 1735689600, 2051222400, false, false});
    CHECK_STR(o.tcb, "tcb_level_not_found");
    CHECK_STR(o.step, "qe_identity");
}

static void test_qe_identity_mismatch(void)
{
    char levels[4096] = "[", ti[8192];
    level(levels, sizeof levels, 5, 10, NULL, "UpToDate", NULL);
    tcb_info(ti, sizeof ti, false, levels + 1, NULL);
    forge_collateral_opts co = coll(ti, qe_identity(false, NULL));
    forge_quote_opts qo;
    for (int k = 0; k < 3; k++) {
        forge_quote_defaults(&qo);
        if (k == 0)
            qo.qe_mrsigner[31] ^= 1;
        else if (k == 1)
            qo.qe_isvprodid = 2;
        else
            qo.qe_attributes0 = 0x13; /* a debug QE */
        outcome o = run(&qo, &co);
        CHECK_STR(o.tcb, "qe_identity_mismatch");
        CHECK_STR(o.step, "qe_identity");
    }
    /* MISCSELECT is compared under the mask, each byte in its place: a mask of 00FFFFFF lets
     * the QE's top byte differ, and only that byte */
    char qe[2048];
    snprintf(qe, sizeof qe, "%s", qe_identity(false, NULL));
    swap_text(qe, "\"miscselectMask\":\"FFFFFFFF\"", "\"miscselectMask\":\"00FFFFFF\"");
    co = coll(ti, qe);
    forge_quote_defaults(&qo);
    qo.qe_miscselect = 0x01000000;
    EXPECT(run(&qo, &co), "UpToDate", "");
    qo.qe_miscselect = 0x00010000;
    outcome m = run(&qo, &co);
    CHECK_STR(m.tcb, "qe_identity_mismatch");
    CHECK_STR(m.step, "qe_identity");
    co = coll(ti, qe_identity(false, NULL));
    /* a TDX quote needs the TD_QE identity */
    forge_quote_defaults(&qo);
    qo.version = 4;
    qo.tdx = true;
    outcome o = run(&qo, &co);
    CHECK_STR(o.tcb, "collateral_mismatch");
}

static const char *modules_tdx01 =
    "{\"id\":\"TDX_01\",\"mrsigner\":\"" ZERO48 "\",\"attributes\":\"0000000000000000\","
    "\"attributesMask\":\"FFFFFFFFFFFFFFFF\",\"tcbLevels\":["
    "{\"tcb\":{\"isvsvn\":2},\"tcbDate\":\"2023-01-01T00:00:00Z\",\"tcbStatus\":\"OutOfDate\","
    "\"advisoryIDs\":[\"INTEL-SA-00300\"]},"
    "{\"tcb\":{\"isvsvn\":4},\"tcbDate\":\"2024-01-01T00:00:00Z\",\"tcbStatus\":\"UpToDate\"}]}";

static void tdx_opts(forge_quote_opts *qo, int v, uint8_t s0, uint8_t s1, uint8_t s2)
{
    forge_quote_defaults(qo);
    qo->version = v;
    qo->tdx = true;
    qo->qe_isvprodid = 2;
    qo->tee_tcb_svn[0] = s0;
    qo->tee_tcb_svn[1] = s1;
    qo->tee_tcb_svn[2] = s2;
}

static void test_tdx_module_version_zero(void)
{
    char levels[8192] = "[", ti[16384];
    level(levels, sizeof levels, 5, 10, (int[]){4, 0, 2}, "UpToDate", NULL);
    level(levels, sizeof levels, 5, 10, (int[]){3, 0, 2}, "OutOfDate", "\"INTEL-SA-00400\"");
    tcb_info(ti, sizeof ti, true, levels + 1, modules_tdx01);
    forge_collateral_opts co = coll(ti, qe_identity(true, NULL));
    forge_quote_opts qo;
    tdx_opts(&qo, 4, 4, 0, 2);
    EXPECT(run(&qo, &co), "UpToDate", "");
    tdx_opts(&qo, 4, 3, 0, 2); /* module SVN behind: compared as a TDX component */
    EXPECT(run(&qo, &co), "OutOfDate", "INTEL-SA-00400");
    tdx_opts(&qo, 4, 2, 0, 2);
    CHECK_STR(run(&qo, &co).tcb, "tcb_level_not_found");
    tdx_opts(&qo, 4, 4, 0, 2);
    qo.mr_signer_seam[0] = 1;
    outcome o = run(&qo, &co);
    CHECK_STR(o.tcb, "tdx_module_mismatch");
    CHECK_STR(o.step, "tdx_module");
}

/* TDX module of major version > 0: TDX components 0 and 1 are judged by the module identity
 * (Intel QVL), not by the TCB level (where dcap-qvl would compare them). */
static void test_tdx_module_version_above_zero(void)
{
    char levels[8192] = "[", ti[16384];
    level(levels, sizeof levels, 5, 10, (int[]){5, 0, 2}, "UpToDate", NULL);
    tcb_info(ti, sizeof ti, true, levels + 1, modules_tdx01);
    forge_collateral_opts co = coll(ti, qe_identity(true, NULL));
    forge_quote_opts qo;
    tdx_opts(&qo, 4, 4, 1, 2); /* SVN 4 < level's 5 in byte 0, ignored; module level 4 */
    EXPECT(run(&qo, &co), "UpToDate", "");
    tdx_opts(&qo, 4, 3, 1, 2); /* module level 2: OutOfDate folds into the platform status */
    EXPECT(run(&qo, &co), "OutOfDate", "INTEL-SA-00300");
    tdx_opts(&qo, 4, 1, 1, 2); /* below every module level */
    outcome o = run(&qo, &co);
    CHECK_STR(o.tcb, "tcb_level_not_found");
    CHECK_STR(o.step, "tdx_module");
    tdx_opts(&qo, 4, 4, 2, 2); /* TDX_02 is not described */
    o = run(&qo, &co);
    CHECK_STR(o.tcb, "tdx_module_mismatch");
    tdx_opts(&qo, 4, 4, 1, 1); /* byte 2 still counts */
    CHECK_STR(run(&qo, &co).tcb, "tcb_level_not_found");
    /* byte 1, the major version, is the module identity's to judge as well: a level asking for
     * 2 there still matches a module of major version 1 */
    char levels2[8192] = "[";
    level(levels2, sizeof levels2, 5, 10, (int[]){5, 2, 2}, "UpToDate", NULL);
    tcb_info(ti, sizeof ti, true, levels2 + 1, modules_tdx01);
    co = coll(ti, qe_identity(true, NULL));
    tdx_opts(&qo, 4, 4, 1, 2);
    EXPECT(run(&qo, &co), "UpToDate", "");
}

static void test_td_relaunch(void)
{
    char levels[8192] = "[", ti[16384];
    level(levels, sizeof levels, 5, 10, (int[]){0, 0, 3}, "UpToDate", NULL);
    level(levels, sizeof levels, 5, 10, (int[]){0, 0, 2}, "OutOfDate", NULL);
    tcb_info(ti, sizeof ti, true, levels + 1, modules_tdx01);
    forge_collateral_opts co = coll(ti, qe_identity(true, NULL));
    forge_quote_opts qo;
    tdx_opts(&qo, 5, 2, 1, 2);
    qo.td15 = true;
    qo.tee_tcb_svn2[0] = 4;
    qo.tee_tcb_svn2[1] = 1;
    qo.tee_tcb_svn2[2] = 3;
    EXPECT(run(&qo, &co), "TDRelaunchAdvised", "INTEL-SA-00300");
    qo.tee_tcb_svn2[2] = 2; /* the TD would come back just as out of date */
    EXPECT(run(&qo, &co), "OutOfDate", "INTEL-SA-00300");
    qo.td15 = false; /* TD report 1.0 has no TEE_TCB_SVN2 */
    EXPECT(run(&qo, &co), "OutOfDate", "INTEL-SA-00300");
    /* a QE that is not up to date: no relaunch advice (QVL), the QE's status folds in */
    qo.td15 = true;
    qo.tee_tcb_svn2[2] = 3;
    co = coll(ti, qe_identity(true, "{\"tcb\":{\"isvsvn\":8},\"tcbDate\":\"2024-01-01T00:00:00Z\","
                                    "\"tcbStatus\":\"OutOfDate\"}"));
    outcome o = run(&qo, &co);
    CHECK_STR(o.tcb, "OutOfDate");
    CHECK_STR(o.platform, "OutOfDate");
    CHECK_STR(o.qe, "OutOfDate");
}

/* A TD whose TDX level is OutOfDateConfigurationNeeded is advised to relaunch with the
 * configuration still needed. */
static void test_td_relaunch_configuration_needed(void)
{
    char levels[8192] = "[", ti[16384];
    level(levels, sizeof levels, 5, 10, (int[]){0, 0, 3}, "UpToDate", NULL);
    level(levels, sizeof levels, 5, 10, (int[]){0, 0, 2}, "OutOfDateConfigurationNeeded", NULL);
    tcb_info(ti, sizeof ti, true, levels + 1, modules_tdx01);
    forge_collateral_opts co = coll(ti, qe_identity(true, NULL));
    forge_quote_opts qo;
    tdx_opts(&qo, 5, 2, 1, 2);
    qo.td15 = true;
    qo.tee_tcb_svn2[0] = 4;
    qo.tee_tcb_svn2[1] = 1;
    qo.tee_tcb_svn2[2] = 3;
    outcome o = run(&qo, &co);
    EXPECT(o, "TDRelaunchAdvisedConfigurationNeeded", "INTEL-SA-00300");
    CHECK_STR(o.platform, "TDRelaunchAdvisedConfigurationNeeded");
    qo.tee_tcb_svn2[2] = 2; /* no relaunch would help */
    EXPECT(run(&qo, &co), "OutOfDateConfigurationNeeded", "INTEL-SA-00300");
    /* the SGX level's status counts too: ConfigurationNeeded there, the TDX level (a lower one)
     * plain OutOfDate */
    char levels2[8192] = "[";
    level(levels2, sizeof levels2, 5, 10, (int[]){0, 0, 3}, "ConfigurationNeeded", NULL);
    level(levels2, sizeof levels2, 5, 10, (int[]){0, 0, 2}, "OutOfDate", NULL);
    tcb_info(ti, sizeof ti, true, levels2 + 1, modules_tdx01);
    co = coll(ti, qe_identity(true, NULL));
    qo.tee_tcb_svn2[2] = 3;
    o = run(&qo, &co);
    EXPECT(o, "TDRelaunchAdvisedConfigurationNeeded", "INTEL-SA-00300");
    CHECK_STR(o.platform, "TDRelaunchAdvisedConfigurationNeeded");
    qo.td15 = false; /* without TEE_TCB_SVN2: the module's OutOfDate folds in as it stands */
    EXPECT(run(&qo, &co), "OutOfDate", "INTEL-SA-00300");
}

/* The TDX module identity's id is TDX_ and the major version in two upper-case hex digits. */
static void test_tdx_module_id_hex(void)
{
    char levels[8192] = "[", ti[16384], mods[1024];
    level(levels, sizeof levels, 5, 10, (int[]){5, 0, 2}, "UpToDate", NULL);
    snprintf(mods, sizeof mods, "%s", modules_tdx01);
    memcpy(strstr(mods, "TDX_01"), "TDX_0A", 6);
    tcb_info(ti, sizeof ti, true, levels + 1, mods);
    forge_collateral_opts co = coll(ti, qe_identity(true, NULL));
    forge_quote_opts qo;
    tdx_opts(&qo, 4, 4, 0x0a, 2);
    outcome o = run(&qo, &co);
    EXPECT(o, "UpToDate", "");
    CHECK_STR(o.platform, "UpToDate");
    CHECK_STR(o.qe, "UpToDate");
    CHECK(!o.debug);
    tdx_opts(&qo, 4, 4, 0x10, 2); /* "TDX_10": not described */
    o = run(&qo, &co);
    CHECK_STR(o.tcb, "tdx_module_mismatch");
    CHECK_STR(o.step, "tdx_module");
    tdx_opts(&qo, 4, 4, 0x0a, 2);
    qo.td_debug = true; /* a debug TD: verified, and claimed as one */
    o = run(&qo, &co);
    CHECK_STR(o.tcb, "UpToDate");
    CHECK(o.debug);
}

/* Advisories: the union of the TDX level's, the module level's and the QE level's, at most
 * CCZ_MAX_ADVISORIES (128) of them; 64 + 64 + 1 is one too many. */
static void test_advisory_cap(void)
{
    static char levels[8192], adv[4096], mods[8192], ti[32768], qe_levels[256];
    for (int qe_advisories = 0; qe_advisories < 2; qe_advisories++) {
        snprintf(levels, sizeof levels, "[");
        adv[0] = 0;
        for (int i = 0; i < 64; i++)
            snprintf(adv + strlen(adv), sizeof adv - strlen(adv), "%s\"INTEL-SA-%05d\"",
                     i ? "," : "", i);
        level(levels, sizeof levels, 5, 10, (int[]){5, 1, 2}, "UpToDate", adv);
        adv[0] = 0;
        for (int i = 0; i < 64; i++)
            snprintf(adv + strlen(adv), sizeof adv - strlen(adv), "%s\"INTEL-SA-%05d\"",
                     i ? "," : "", 100 + i);
        snprintf(mods, sizeof mods,
                 "{\"id\":\"TDX_01\",\"mrsigner\":\"" ZERO48 "\",\"attributes\":"
                 "\"0000000000000000\",\"attributesMask\":\"FFFFFFFFFFFFFFFF\",\"tcbLevels\":["
                 "{\"tcb\":{\"isvsvn\":4},\"tcbDate\":\"2024-01-01T00:00:00Z\",\"tcbStatus\":"
                 "\"UpToDate\",\"advisoryIDs\":[%s]}]}",
                 adv);
        tcb_info(ti, sizeof ti, true, levels + 1, mods);
        snprintf(qe_levels, sizeof qe_levels,
                 "{\"tcb\":{\"isvsvn\":8},\"tcbDate\":\"2024-01-01T00:00:00Z\",\"tcbStatus\":"
                 "\"UpToDate\",\"advisoryIDs\":[%s]}",
                 qe_advisories ? "\"INTEL-SA-00999\"" : "");
        forge_collateral_opts co = coll(ti, qe_identity(true, qe_levels));
        forge_quote_opts qo;
        tdx_opts(&qo, 4, 4, 1, 2);
        outcome o = run(&qo, &co);
        if (qe_advisories) {
            CHECK_STR(o.tcb, ccz_status_name(CCZ_ERR_TOO_LARGE));
            CHECK_STR(o.step, "tcb_level");
        } else {
            CHECK_STR(o.tcb, "UpToDate"); /* exactly 128 */
            CHECK(strncmp(o.adv, "INTEL-SA-00000,INTEL-SA-00001,", 30) == 0);
        }
    }
}

static void test_revocation_and_windows(void)
{
    char levels[4096] = "[", ti[8192];
    level(levels, sizeof levels, 5, 10, NULL, "UpToDate", NULL);
    tcb_info(ti, sizeof ti, false, levels + 1, NULL);
    forge_quote_opts qo;
    forge_quote_defaults(&qo);
    forge_collateral_opts co = coll(ti, qe_identity(false, NULL));
    co.revoke_pck = true;
    outcome o = run(&qo, &co);
    CHECK_STR(o.tcb, "revoked");
    CHECK_STR(o.step, "pck_chain");
    co.revoke_pck = false;
    co.revoke_pck_ca = true;
    o = run(&qo, &co);
    CHECK_STR(o.tcb, "revoked");
    CHECK_STR(o.step, "pck_chain");
    co.revoke_pck_ca = false;
    static ccz_result r;
    for (int k = 0; k < 2; k++) { /* the TCB signing certificate, on the root CRL */
        setup();
        ccz_buf q = CCZ_BUF_INIT, c = CCZ_BUF_INIT;
        CHECK_OK(forge_quote(F, &q, &qo));
        forge_revoke_tcb_signer(F, k == 1);
        CHECK_OK(forge_collateral(F, &c, &co));
        ccz_collateral *col;
        CHECK_OK(ccz_collateral_parse(&col, (const char *)c.ptr, c.len));
        ccz_verify_opts vo = CCZ_VERIFY_OPTS_INIT;
        vo.at_unix = AT;
        vo.trust = trust;
        vo.collateral = col;
        CHECK_STATUS(ccz_verify(&r, ccz_buf_span(&q), &vo), k ? CCZ_ERR_REVOKED : CCZ_OK);
        if (k) {
            CHECK_STR(r.step, "tcb_info");
            CHECK_CONTAINS(r.message, "TCB info: certificate revoked (certificate 'Intel SGX TCB "
                                      "Signing')");
        }
        ccz_collateral_free(col);
        ccz_buf_free(&q);
        ccz_buf_free(&c);
    }
    forge_revoke_tcb_signer(F, false);
    co.crl_until = AT - 1; /* CRLs expired */
    o = run(&qo, &co);
    CHECK_STR(o.tcb, "collateral_out_of_date");
    co.crl_from = AT + 1; /* CRLs not yet valid */
    co.crl_until = AT + 86400;
    CHECK_STR(run(&qo, &co).tcb, "collateral_out_of_date");
}

static void test_tcb_info_v2(void)
{
    char ti[4096], comps[1024] = "";
    for (int i = 1; i <= 16; i++)
        snprintf(comps + strlen(comps), sizeof comps - strlen(comps), "\"sgxtcbcomp%02dsvn\":5,",
                 i);
    snprintf(ti, sizeof ti,
             "{\"version\":2," DATES ",\"fmspc\":\"00906ED50000\",\"pceId\":\"0000\",\"tcbType\":0,"
             "\"tcbEvaluationDataNumber\":12,\"tcbLevels\":[{\"tcb\":{%s\"pcesvn\":10},"
             "\"tcbDate\":\"2021-01-01T00:00:00Z\",\"tcbStatus\":\"ConfigurationNeeded\"}]}",
             comps);
    /* v2 has no "id": the parser needs one; SGX is the only v2 kind */
    forge_quote_opts qo;
    forge_quote_defaults(&qo);
    outcome o = run(&qo, &(forge_collateral_opts){ti, qe_identity(false, NULL), 1735689600,
                                                  2051222400, false, false});
    CHECK_STR(o.tcb, "ConfigurationNeeded");
}

/* What a collateral object has verified is reused only with the same roots. */
static void test_cache_is_per_trust(void)
{
    setup();
    char levels[4096] = "[", ti[8192];
    level(levels, sizeof levels, 5, 10, NULL, "UpToDate", NULL);
    tcb_info(ti, sizeof ti, false, levels + 1, NULL);
    forge_quote_opts qo;
    forge_quote_defaults(&qo);
    ccz_buf q = CCZ_BUF_INIT, c = CCZ_BUF_INIT;
    CHECK_OK(forge_quote(F, &q, &qo));
    forge_collateral_opts co = coll(ti, qe_identity(false, NULL));
    CHECK_OK(forge_collateral(F, &c, &co));
    ccz_collateral *col;
    CHECK_OK(ccz_collateral_parse(&col, (const char *)c.ptr, c.len));
    ccz_verify_opts vo = CCZ_VERIFY_OPTS_INIT;
    vo.at_unix = AT;
    vo.trust = trust;
    vo.collateral = col;
    static ccz_result r;
    for (int i = 0; i < 3; i++)
        CHECK_OK(ccz_verify(&r, ccz_buf_span(&q), &vo));
    ccz_trust *intel;
    CHECK_OK(ccz_trust_new(&intel));
    CHECK_OK(ccz_trust_add_builtin(intel));
    vo.trust = intel;
    CHECK_STATUS(ccz_verify(&r, ccz_buf_span(&q), &vo), CCZ_ERR_CERT_CHAIN);
    CHECK_STR(r.step, "tcb_info"); /* the collateral's own chain, checked again for these roots */
    vo.trust = trust;
    CHECK_OK(ccz_verify(&r, ccz_buf_span(&q), &vo));
    vo.at_unix = 2051222400 + 10; /* past every window: checked again, and out of date */
    CHECK_STATUS(ccz_verify(&r, ccz_buf_span(&q), &vo), CCZ_ERR_COLLATERAL_OUT_OF_DATE);
    ccz_trust_free(intel);
    ccz_collateral_free(col);
    ccz_buf_free(&q);
    ccz_buf_free(&c);
}

/* Replaces, in place, the first occurrence of from in doc with to (same length). */
static void swap_text(char *doc, const char *from, const char *to)
{
    char *p = strstr(doc, from);
    CHECK(p != NULL && strlen(from) == strlen(to));
    if (p)
        memcpy(p, to, strlen(to));
}

/* A collateral object verified once is judged again at every instant: its TCB info's and QE
 * identity's issueDate..nextUpdate hold however the object was used before, even while the
 * CRLs and certificates (2025-2035) are still valid. */
static void test_collateral_window_on_reuse(void)
{
    setup();
    char levels[4096] = "[", ti[8192], qe[2048];
    level(levels, sizeof levels, 5, 10, NULL, "UpToDate", NULL);
    static const int64_t y2026 = 1767225600, y2031 = 1924992000;
    for (int which = 0; which < 2; which++) { /* the TCB info's dates, then the QE identity's */
        tcb_info(ti, sizeof ti, false, levels + 1, NULL);
        snprintf(qe, sizeof qe, "%s", qe_identity(false, NULL));
        char *doc = which == 0 ? ti : qe;
        swap_text(doc, "\"issueDate\":\"2025", "\"issueDate\":\"2026");
        swap_text(doc, "\"nextUpdate\":\"2035", "\"nextUpdate\":\"2031");
        forge_quote_opts qo;
        forge_quote_defaults(&qo);
        ccz_buf q = CCZ_BUF_INIT, c = CCZ_BUF_INIT;
        CHECK_OK(forge_quote(F, &q, &qo));
        forge_collateral_opts co = coll(ti, qe);
        CHECK_OK(forge_collateral(F, &c, &co));
        ccz_collateral *col;
        CHECK_OK(ccz_collateral_parse(&col, (const char *)c.ptr, c.len));
        ccz_verify_opts vo = CCZ_VERIFY_OPTS_INIT;
        vo.trust = trust;
        vo.collateral = col;
        static ccz_result r;
        const char *step = which == 0 ? "tcb_info" : "qe_identity";
        const int64_t at[] = {AT, y2031, y2031 + 1, AT, y2026, y2026 - 1, AT};
        const ccz_status want[] = {CCZ_OK, CCZ_OK, CCZ_ERR_COLLATERAL_OUT_OF_DATE,
                                   CCZ_OK, CCZ_OK, CCZ_ERR_COLLATERAL_OUT_OF_DATE,
                                   CCZ_OK};
        for (size_t i = 0; i < sizeof at / sizeof *at; i++) {
            vo.at_unix = at[i];
            ccz_status s = ccz_verify(&r, ccz_buf_span(&q), &vo);
            CHECK_STATUS(s, want[i]);
            if (want[i]) {
                CHECK_STR(r.step, step);
                CHECK_CONTAINS(r.message, "not at");
            }
        }
        /* issueDate and nextUpdate themselves are inside the window, on a first check too */
        for (int k = 0; k < 2; k++) {
            ccz_collateral_free(col);
            CHECK_OK(ccz_collateral_parse(&col, (const char *)c.ptr, c.len));
            vo.collateral = col;
            vo.at_unix = k ? y2031 : y2026;
            CHECK_OK(ccz_verify(&r, ccz_buf_span(&q), &vo));
        }
        ccz_collateral_free(col);
        ccz_buf_free(&q);
        ccz_buf_free(&c);
    }
}

/* Appends copies of the last certificate of a v3 quote's PCK chain (the certification data,
 * last in the quote, outside what the quote signature covers) until it has total_certs. */
static int total_certs;
static void add_certs(ccz_buf *q)
{
    static ccz_dcap_quote d;
    CHECK_OK(ccz_dcap_quote_parse(&d, ccz_buf_span(q)));
    size_t off = (size_t)(d.cert_data.ptr - q->ptr), len = d.cert_data.len;
    CHECK(d.version == 3 && off + len == q->len);
    static const char begin[] = "-----BEGIN CERTIFICATE-----";
    size_t last = 0;
    int have = 0;
    for (size_t i = off; i + sizeof begin - 1 <= q->len; i++)
        if (memcmp(q->ptr + i, begin, sizeof begin - 1) == 0)
            last = i, have++;
    CHECK(last > off);
    if (d.version != 3 || off + len != q->len || last <= off)
        return;
    CHECK(have <= total_certs);
    int extra = total_certs - have;
    size_t z = 0; /* the chain's trailing NULs stay at its end */
    while (q->len - z > last && q->ptr[q->len - z - 1] == 0)
        z++;
    size_t n = q->len - z - last, added = n * (size_t)extra;
    ccz_buf out = CCZ_BUF_INIT;
    CHECK_OK(ccz_buf_append(&out, q->ptr, q->len - z));
    for (int k = 0; k < extra; k++)
        CHECK_OK(ccz_buf_append(&out, q->ptr + last, n));
    CHECK_OK(ccz_buf_append(&out, q->ptr + q->len - z, z));
    q->len = 0;
    CHECK_OK(ccz_buf_append(q, out.ptr, out.len));
    ccz_buf_free(&out);
    put_le32(q->ptr + off - 4, (uint32_t)(len + added));
    put_le32(q->ptr + d.signed_part.len, get_le32(q->ptr + d.signed_part.len) + (uint32_t)added);
}

/* The quote's PCK chain is read up to 4 certificates. */
static void test_pck_chain_length(void)
{
    setup();
    char levels[4096] = "[", ti[8192];
    level(levels, sizeof levels, 5, 10, NULL, "UpToDate", NULL);
    tcb_info(ti, sizeof ti, false, levels + 1, NULL);
    forge_collateral_opts co = coll(ti, qe_identity(false, NULL));
    forge_quote_opts qo;
    forge_quote_defaults(&qo);
    total_certs = 4; /* the chain, then its last certificate again */
    forge_outcome o = forge_verify(F, AT, &qo, &co, add_certs);
    CHECK_OK(o.status);
    CHECK_STR(o.tcb, "UpToDate");
    total_certs = 5;
    o = forge_verify(F, AT, &qo, &co, add_certs);
    CHECK_STATUS(o.status, CCZ_ERR_MALFORMED);
    CHECK_STR(o.step, "pck_chain");
    CHECK_CONTAINS(o.message, "more than 4 certificates in a chain");
}

static void cleanup(void)
{
    forge_free(F);
    ccz_trust_free(trust);
    F = NULL;
}

/* An SHA-384 event log: the Spec ID event, then events of MR indices 1, 2, 2, 3, 4 (type
 * EV_IPL), each digest the SHA-384 of its data; rtmr: what each register replays to,
 * computed here. alg: the records' (and the Spec ID event's) one algorithm. */
static void tdx_log(ccz_buf *log, uint8_t rtmr[4][48], uint16_t alg)
{
    uint8_t spec[33] = "Spec ID Event03";
    size_t size = ccz_eventlog_alg_size(alg);
    spec[24] = 1; /* numberOfAlgorithms */
    spec[28] = (uint8_t)alg, spec[30] = (uint8_t)size;
    ccz_buf_reset(log);
    CHECK_OK(ccz_buf_append_u32le(log, 0));
    CHECK_OK(ccz_buf_append_u32le(log, 3)); /* EV_NO_ACTION */
    CHECK_OK(ccz_buf_append(log, (uint8_t[20]){0}, 20));
    CHECK_OK(ccz_buf_append_u32le(log, sizeof spec));
    CHECK_OK(ccz_buf_append(log, spec, sizeof spec));
    memset(rtmr, 0, 4 * 48);
    static const uint32_t index[] = {1, 2, 2, 3, 4};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(index); i++) {
        uint8_t digest[48] = {0}, cat[96];
        char ev[16];
        snprintf(ev, sizeof ev, "event %zu", i);
        CHECK(EVP_Digest(ev, strlen(ev), digest, NULL,
                         alg == CCZ_EVLOG_SHA384 ? EVP_sha384() : EVP_sha256(), NULL) == 1);
        CHECK_OK(ccz_buf_append_u32le(log, index[i]));
        CHECK_OK(ccz_buf_append_u32le(log, 0x0d)); /* EV_IPL */
        CHECK_OK(ccz_buf_append_u32le(log, 1));
        CHECK_OK(ccz_buf_append_u16le(log, alg));
        CHECK_OK(ccz_buf_append(log, digest, size));
        CHECK_OK(ccz_buf_append_u32le(log, (uint32_t)strlen(ev)));
        CHECK_OK(ccz_buf_append(log, ev, strlen(ev)));
        uint8_t *r = rtmr[index[i] - 1];
        memcpy(cat, r, 48);
        memcpy(cat + 48, digest, 48);
        CHECK(EVP_Digest(cat, 96, r, NULL, EVP_sha384(), NULL) == 1);
    }
}

/* A TD quote and an event log: MR index i replays into RTMR[i-1], each register compared with
 * its own RTMR to the last byte, a mismatch naming both values; a log without SHA-384 digests
 * is refused before any replay. */
static void test_tdx_eventlog_rtmrs(void)
{
    char levels[8192] = "[", ti[16384];
    level(levels, sizeof levels, 5, 10, (int[]){4, 0, 2}, "UpToDate", NULL);
    tcb_info(ti, sizeof ti, true, levels + 1, modules_tdx01);
    forge_collateral_opts co = coll(ti, qe_identity(true, NULL));
    setup();
    ccz_buf q = CCZ_BUF_INIT, c = CCZ_BUF_INIT, log = CCZ_BUF_INIT;
    CHECK_OK(forge_collateral(F, &c, &co));
    ccz_collateral *col = NULL;
    CHECK_OK(ccz_collateral_parse(&col, (const char *)c.ptr, c.len));
    uint8_t rtmr[4][48];
    tdx_log(&log, rtmr, CCZ_EVLOG_SHA384);
    ccz_eventlog *l = NULL;
    CHECK_OK(ccz_eventlog_parse(&l, ccz_buf_span(&log)));
    ccz_verify_opts vo = CCZ_VERIFY_OPTS_INIT;
    vo.at_unix = AT;
    vo.trust = trust;
    vo.collateral = col;
    vo.eventlog = l;
    static ccz_result r;
    forge_quote_opts qo;
    tdx_opts(&qo, 4, 4, 0, 2);
    memcpy(qo.rtmr, rtmr, sizeof rtmr);
    CHECK_OK(forge_quote(F, &q, &qo));
    CHECK_OK(ccz_verify(&r, ccz_buf_span(&q), &vo));
    CHECK(r.claims.eventlog == l);
    for (int k = 0; k < 4; k++) { /* the last byte of each RTMR in turn */
        tdx_opts(&qo, 4, 4, 0, 2);
        memcpy(qo.rtmr, rtmr, sizeof rtmr);
        qo.rtmr[k][47] ^= 1;
        ccz_buf_reset(&q);
        CHECK_OK(forge_quote(F, &q, &qo));
        CHECK_STATUS(ccz_verify(&r, ccz_buf_span(&q), &vo), CCZ_ERR_REPLAY_MISMATCH);
        CHECK_STR(r.step, "eventlog");
        char g[97], h[97], want[300];
        ccz_hex_to_str(g, rtmr[k], 48);
        ccz_hex_to_str(h, qo.rtmr[k], 48);
        snprintf(want, sizeof want,
                 "the event log's register %d replays to %s, RTMR%d in the quote is %s", k + 1, g,
                 k, h);
        CHECK_STR(r.message, want);
        CHECK(r.claims.eventlog == NULL);
    }
    ccz_eventlog_free(l);
    tdx_log(&log, rtmr, CCZ_EVLOG_SHA256); /* SHA-256 digests only */
    CHECK_OK(ccz_eventlog_parse(&l, ccz_buf_span(&log)));
    vo.eventlog = l;
    tdx_opts(&qo, 4, 4, 0, 2);
    ccz_buf_reset(&q);
    CHECK_OK(forge_quote(F, &q, &qo));
    CHECK_STATUS(ccz_verify(&r, ccz_buf_span(&q), &vo), CCZ_ERR_UNSUPPORTED);
    CHECK_STR(r.step, "eventlog");
    CHECK_STR(r.message, "the event log has no SHA-384 digests, which TDX RTMRs extend");
    ccz_eventlog_free(l);
    ccz_collateral_free(col);
    ccz_buf_free(&q);
    ccz_buf_free(&c);
    ccz_buf_free(&log);
}

TEST_MAIN(T(test_sgx_every_version), T(test_sgx_level_matching), T(test_qe_convergence),
          T(test_qe_identity_mismatch), T(test_tdx_module_version_zero),
          T(test_tdx_module_version_above_zero), T(test_td_relaunch),
          T(test_td_relaunch_configuration_needed), T(test_tdx_module_id_hex), T(test_advisory_cap),
          T(test_tdx_eventlog_rtmrs), T(test_revocation_and_windows), T(test_tcb_info_v2),
          T(test_cache_is_per_trust), T(test_collateral_window_on_reuse), T(test_pck_chain_length),
          T(cleanup))
