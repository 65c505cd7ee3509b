/* SPDX-License-Identifier: Apache-2.0 */
/* DCAP verification against the rules of Intel's Quote Verification Library, on the forged
 * platform (tests/support/dcap_forge): the forger's PKI is Intel-shaped; TCB info and QE
 * identity documents Intel's parsers refuse (duplicate levels, missing fields, wrong types,
 * unknown statuses, unsupported ids and versions) fail at the collateral step; quotes with
 * several faults report the failure QVL reports first; every CPU SVN component and TDX
 * component counts; a PCE-ID mismatch is caught. */
#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccz/ccz.h"
#include "dcap_forge.h"
#include "test.h"

#define AT 1893456000 /* 2030-01-01 */

static forge *F;

static void setup(void)
{
    if (!F)
        F = forge_new();
}

static json_t *sgx_level(int svn, unsigned pcesvn, const char *status)
{
    uint8_t s[16];
    memset(s, svn, 16);
    return forge_tcb_level(s, pcesvn, NULL, status, NULL);
}

/* A TDX level: SGX components all 5, PCE SVN 10, TDX components t0, t1, t2 then zeros. */
static json_t *tdx_level(int t0, int t1, int t2, const char *status)
{
    uint8_t s[16], t[16] = {(uint8_t)t0, (uint8_t)t1, (uint8_t)t2};
    memset(s, 5, 16);
    return forge_tcb_level(s, 10, t, status, NULL);
}

static json_t *qe_levels(void)
{
    return json_pack("[o]", forge_isv_level(8, "UpToDate", NULL));
}

static forge_outcome run_text(const forge_quote_opts *qo, const char *tcb, const char *qe,
                              void (*tamper)(ccz_buf *))
{
    setup();
    forge_collateral_opts co = {tcb, qe, 1735689600, 2051222400, false, false};
    forge_outcome o = forge_verify(F, AT, qo, &co, tamper);
    if (getenv("CCZ_TEST_VERBOSE"))
        fprintf(stderr, "  %s at %s: %s\n", o.tcb, o.step, o.message);
    return o;
}

/* Verifies with the TCB info and QE identity given as JSON (both released). */
static forge_outcome run(const forge_quote_opts *qo, json_t *tcb, json_t *qe,
                         void (*tamper)(ccz_buf *))
{
    char *t = forge_dump(tcb), *q = forge_dump(qe);
    forge_outcome o = run_text(qo, t, q, tamper);
    free(t);
    free(q);
    return o;
}

#define EXPECT_FAIL(o, code, at_step)                                                              \
    do {                                                                                           \
        forge_outcome o_ = (o);                                                                    \
        CHECK_STR(o_.tcb, code);                                                                   \
        CHECK_STR(o_.step, at_step);                                                               \
    } while (0)

static void sgx_quote(forge_quote_opts *qo)
{
    forge_quote_defaults(qo);
}

static void tdx_quote(forge_quote_opts *qo, int version, int s0, int s1, int s2)
{
    forge_quote_defaults(qo);
    qo->version = version;
    qo->tdx = true;
    qo->qe_isvprodid = 2;
    qo->tee_tcb_svn[0] = (uint8_t)s0;
    qo->tee_tcb_svn[1] = (uint8_t)s1;
    qo->tee_tcb_svn[2] = (uint8_t)s2;
}

/* ---- the forger's PKI ------------------------------------------------------------------------*/

static void check_intel_cert(X509 *x, const char *cn, int pathlen)
{
    char got[128];
    X509_NAME *n = X509_get_subject_name(x);
    static const struct {
        int nid;
        const char *want;
    } rdn[] = {{NID_organizationName, "Intel Corporation"},
               {NID_localityName, "Santa Clara"},
               {NID_stateOrProvinceName, "CA"},
               {NID_countryName, "US"}};
    CHECK(X509_NAME_get_text_by_NID(n, NID_commonName, got, sizeof got) > 0);
    CHECK_STR(got, cn);
    for (size_t i = 0; i < sizeof rdn / sizeof rdn[0]; i++) {
        CHECK(X509_NAME_get_text_by_NID(n, rdn[i].nid, got, sizeof got) > 0);
        CHECK_STR(got, rdn[i].want);
    }
    static const int required[] = {NID_authority_key_identifier, NID_crl_distribution_points,
                                   NID_subject_key_identifier, NID_key_usage,
                                   NID_basic_constraints};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        CHECK(X509_get_ext_by_NID(x, required[i], -1) >= 0);
    CHECK_INT((long)X509_get_pathlen(x), (long)pathlen);
}

static void check_intel_crl(const json_t *doc, const char *key, const char *issuer_cn)
{
    const char *hex = json_string_value(json_object_get(doc, key));
    CHECK(hex != NULL);
    if (!hex)
        return;
    ccz_buf der = CCZ_BUF_INIT;
    CHECK_OK(ccz_hex_decode(&der, hex, strlen(hex)));
    const unsigned char *p = der.ptr;
    X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)der.len);
    CHECK(crl != NULL);
    if (crl) {
        char got[128];
        CHECK(X509_CRL_get_ext_by_NID(crl, NID_crl_number, -1) >= 0);
        CHECK(X509_CRL_get_ext_by_NID(crl, NID_authority_key_identifier, -1) >= 0);
        CHECK(X509_NAME_get_text_by_NID(X509_CRL_get_issuer(crl), NID_commonName, got, sizeof got) >
              0);
        CHECK_STR(got, issuer_cn);
    }
    X509_CRL_free(crl);
    ccz_buf_free(&der);
}

static void check_pki(forge *f, bool platform)
{
    const char *ca_cn = platform ? "Intel SGX PCK Platform CA" : "Intel SGX PCK Processor CA";
    forge_quote_opts qo;
    sgx_quote(&qo);
    ccz_buf q = CCZ_BUF_INIT, c = CCZ_BUF_INIT;
    CHECK_OK(forge_quote(f, &q, &qo));
    ccz_dcap_quote dq;
    CHECK_OK(ccz_dcap_quote_parse(&dq, ccz_buf_span(&q)));
    /* the quote's chain: PCK certificate, PCK CA, root */
    BIO *b = BIO_new_mem_buf(dq.cert_data.ptr, (int)dq.cert_data.len);
    X509 *pck = PEM_read_bio_X509(b, NULL, NULL, NULL);
    X509 *ca = PEM_read_bio_X509(b, NULL, NULL, NULL);
    X509 *root = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    CHECK(pck && ca && root);
    if (pck && ca && root) {
        check_intel_cert(pck, "Intel SGX PCK Certificate", -1);
        check_intel_cert(ca, ca_cn, 0);
        check_intel_cert(root, "Intel SGX Root CA", 1);
        CHECK(X509_check_issued(root, root) == X509_V_OK);
    }
    X509_free(pck);
    X509_free(ca);
    X509_free(root);
    /* the collateral's TCB signing certificate and CRLs */
    char *t =
        forge_dump(forge_tcb_info(false, json_pack("[o]", sgx_level(5, 10, "UpToDate")), NULL));
    char *qe = forge_dump(forge_qe_identity(false, qe_levels()));
    forge_collateral_opts co = {t, qe, 1735689600, 2051222400, false, false};
    CHECK_OK(forge_collateral(f, &c, &co));
    json_t *doc = json_loadb((const char *)c.ptr, c.len, 0, NULL);
    CHECK(doc != NULL);
    const char *chain = json_string_value(json_object_get(doc, "tcb_info_issuer_chain"));
    b = BIO_new_mem_buf(chain, -1);
    X509 *tcb = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    CHECK(tcb != NULL);
    if (tcb)
        check_intel_cert(tcb, "Intel SGX TCB Signing", -1);
    X509_free(tcb);
    check_intel_crl(doc, "root_ca_crl", "Intel SGX Root CA");
    check_intel_crl(doc, "pck_crl", ca_cn);
    json_decref(doc);
    /* and ccz verifies what it forged */
    forge_outcome o = forge_verify(f, AT, &qo, &co, NULL);
    CHECK_STR(o.tcb, "UpToDate");
    free(t);
    free(qe);
    ccz_buf_free(&q);
    ccz_buf_free(&c);
}

static void test_forge_pki_is_intel_shaped(void)
{
    setup();
    check_pki(F, false);
    forge *platform = forge_new_platform();
    check_pki(platform, true);
    forge_free(platform);
}

/* ---- TCB info and QE identity documents Intel's parsers refuse --------------------------------*/

/* Edits a JSON document: sets (or with value NULL deletes) the member at a path of keys and
 * array indexes ("tcbLevels.0.tcb.pcesvn"); an index one past the end appends. */
static char *edit(json_t *doc, const char *path, json_t *value)
{
    char buf[128], *save = NULL;
    snprintf(buf, sizeof buf, "%s", path);
    json_t *node = doc;
    char *key = strtok_r(buf, ".", &save), *next;
    for (; (next = strtok_r(NULL, ".", &save)) != NULL; key = next)
        node = json_is_array(node) ? json_array_get(node, (size_t)atoi(key))
                                   : json_object_get(node, key);
    if (json_is_array(node)) {
        size_t at = (size_t)atoi(key);
        if (value && at == json_array_size(node))
            json_array_append_new(node, value);
        else if (value)
            json_array_set_new(node, at, value);
        else
            json_array_remove(node, at);
    } else if (value) {
        json_object_set_new(node, key, value);
    } else {
        json_object_del(node, key);
    }
    return forge_dump(doc);
}

static json_t *sgx_tcb_info(void)
{
    return forge_tcb_info(
        false, json_pack("[o,o]", sgx_level(5, 10, "UpToDate"), sgx_level(4, 10, "OutOfDate")),
        NULL);
}

static json_t *tdx_tcb_info(void)
{
    return forge_tcb_info(
        true, json_pack("[o,o]", tdx_level(4, 0, 2, "UpToDate"), tdx_level(3, 0, 2, "OutOfDate")),
        json_pack("[o]", forge_module_identity(
                             "TDX_01", json_pack("[o,o]", forge_isv_level(4, "UpToDate", NULL),
                                                 forge_isv_level(2, "OutOfDate", NULL)))));
}

typedef struct {
    const char *what;
    bool tdx, qe;      /* a TDX document; an edit of the QE identity (else of the TCB info) */
    const char *path;  /* member to change */
    const char *value; /* its new JSON value, or NULL to delete it */
} doc_edit;

static void expect_collateral_failure(const doc_edit *e, const char *code, const char *detail)
{
    forge_quote_opts qo;
    if (e->tdx)
        tdx_quote(&qo, 4, 4, 0, 2);
    else
        sgx_quote(&qo);
    json_t *value = e->value ? json_loads(e->value, JSON_DECODE_ANY, NULL) : NULL;
    CHECK(!e->value || value);
    char *tcb, *qe;
    if (e->qe) {
        tcb = forge_dump(e->tdx ? tdx_tcb_info() : sgx_tcb_info());
        qe = edit(forge_qe_identity(e->tdx, qe_levels()), e->path, value);
    } else {
        tcb = edit(e->tdx ? tdx_tcb_info() : sgx_tcb_info(), e->path, value);
        qe = forge_dump(forge_qe_identity(e->tdx, qe_levels()));
    }
    forge_outcome o = run_text(&qo, tcb, qe, NULL);
    if (strcmp(o.tcb, code) != 0 || strcmp(o.step, "collateral") != 0 ||
        (detail && !strstr(o.message, detail))) {
        fprintf(stderr, "%s: %s: got %s at %s (%s), want %s at collateral%s%s\n", test_name,
                e->what, o.tcb, o.step, o.message, code, detail ? " saying " : "",
                detail ? detail : "");
        test_failures++;
    }
    free(tcb);
    free(qe);
}

static void test_documents_intel_refuses(void)
{
    static const doc_edit malformed[] = {
        {"a repeated SGX level", false, false, "tcbLevels.1.tcb.sgxtcbcomponents",
         "[{\"svn\":5},{\"svn\":5},{\"svn\":5},{\"svn\":5},{\"svn\":5},{\"svn\":5},{\"svn\":5},"
         "{\"svn\":5},{\"svn\":5},{\"svn\":5},{\"svn\":5},{\"svn\":5},{\"svn\":5},{\"svn\":5},"
         "{\"svn\":5},{\"svn\":5}]"},
        {"a repeated TDX level (same TDX SVNs)", true, false, "tcbLevels.1.tcb.tdxtcbcomponents",
         "[{\"svn\":4},{\"svn\":0},{\"svn\":2},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},"
         "{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},"
         "{\"svn\":0},{\"svn\":0}]"},
        {"a repeated TDX module level", true, false, "tdxModuleIdentities.0.tcbLevels.1.tcb.isvsvn",
         "4"},
        {"an unknown tcbStatus", false, false, "tcbLevels.0.tcbStatus", "\"Fine\""},
        {"a TD relaunch status in a TCB level", false, false, "tcbLevels.0.tcbStatus",
         "\"TDRelaunchAdvised\""},
        {"a tcbStatus that is not a string", false, false, "tcbLevels.0.tcbStatus", "1"},
        {"a TDX module level status QVL cannot judge", true, false,
         "tdxModuleIdentities.0.tcbLevels.0.tcbStatus", "\"SWHardeningNeeded\""},
        {"a QE level status QVL cannot judge", false, true, "tcbLevels.0.tcbStatus",
         "\"SWHardeningNeeded\""},
        {"a TCB level without tcbDate", false, false, "tcbLevels.0.tcbDate", NULL},
        {"a TCB level with a tcbDate that is no date", false, false, "tcbLevels.0.tcbDate",
         "\"yesterday\""},
        {"a QE level without tcbDate", false, true, "tcbLevels.0.tcbDate", NULL},
        {"a TDX module level without tcbDate", true, false,
         "tdxModuleIdentities.0.tcbLevels.0.tcbDate", NULL},
        {"15 SGX components", false, false, "tcbLevels.0.tcb.sgxtcbcomponents.15", NULL},
        {"no TDX components in a TDX level", true, false, "tcbLevels.0.tcb.tdxtcbcomponents", NULL},
        {"17 TDX components", true, false, "tcbLevels.0.tcb.tdxtcbcomponents.16", "{\"svn\":0}"},
        {"an SVN as a string", false, false, "tcbLevels.0.tcb.sgxtcbcomponents.3.svn", "\"5\""},
        {"a component that is not an object", false, false, "tcbLevels.0.tcb.sgxtcbcomponents.3",
         "5"},
        {"a component category that is not a string", false, false,
         "tcbLevels.0.tcb.sgxtcbcomponents.3.category", "7"},
        {"a negative PCE SVN", false, false, "tcbLevels.0.tcb.pcesvn", "-1"},
        {"no PCE SVN", false, false, "tcbLevels.0.tcb.pcesvn", NULL},
        {"tcb that is not an object", false, false, "tcbLevels.0.tcb", "[]"},
        {"a level that is not an object", false, false, "tcbLevels.0", "\"UpToDate\""},
        {"advisoryIDs that is not a list", false, false, "tcbLevels.0.advisoryIDs",
         "\"INTEL-SA-00001\""},
        {"an advisory ID that is not a string", false, false, "tcbLevels.0.advisoryIDs", "[1]"},
        {"no tcbLevels", false, false, "tcbLevels", NULL},
        {"empty tcbLevels", false, false, "tcbLevels", "[]"},
        {"an SGX TCB info with tdxModule", false, false, "tdxModule",
         "{\"mrsigner\":\"00\",\"attributes\":\"00\",\"attributesMask\":\"00\"}"},
        {"a TDX TCB info without tdxModule", true, false, "tdxModule", NULL},
        {"a tdxModule MRSIGNER of 47 bytes", true, false, "tdxModule.mrsigner",
         "\"0000000000000000000000000000000000000000000000000000000000000000000000000000000000"
         "000000000000\""},
        {"empty tdxModuleIdentities", true, false, "tdxModuleIdentities", "[]"},
        {"a module identity without levels", true, false, "tdxModuleIdentities.0.tcbLevels", NULL},
        {"an FMSPC of 5 bytes", false, false, "fmspc", "\"00906ED500\""},
        {"no nextUpdate", false, false, "nextUpdate", NULL},
        {"a tcbEvaluationDataNumber as a string", false, false, "tcbEvaluationDataNumber",
         "\"17\""},
        {"a QE identity without MRSIGNER", false, true, "mrsigner", NULL},
        {"a QE identity with empty tcbLevels", false, true, "tcbLevels", "[]"},
        {"a QE level ISVSVN as a string", false, true, "tcbLevels.0.tcb.isvsvn", "\"8\""},
    };
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++)
        expect_collateral_failure(&malformed[i], "malformed", NULL);

    static const doc_edit unsupported[] = {
        {"TCB info version 4", false, false, "version", "4"},
        {"TCB info version 1", false, false, "version", "1"},
        {"TCB info id SEAM", false, false, "id", "\"SEAM\""},
        {"TCB type 1", false, false, "tcbType", "1"},
        {"version 2 with an id", false, false, "version", "2"},
        {"QE identity version 1", false, true, "version", "1"},
        {"QE identity version 3", false, true, "version", "3"},
        {"QE identity of the QVE", false, true, "id", "\"QVE\""},
        {"TD_QE identity version 3", true, true, "version", "3"},
    };
    for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++)
        expect_collateral_failure(&unsupported[i], "collateral_unsupported", NULL);
    /* version 2 with version 3 fields only: levels with sgxtcbcomponents, no id */
    json_t *v2 = sgx_tcb_info();
    json_object_del(v2, "id");
    json_object_set_new(v2, "version", json_integer(2));
    char *qe = forge_dump(forge_qe_identity(false, qe_levels())), *t = forge_dump(v2);
    forge_quote_opts qo;
    sgx_quote(&qo);
    forge_outcome o = run_text(&qo, t, qe, NULL);
    EXPECT_FAIL(o, "collateral_unsupported", "collateral");
    CHECK_CONTAINS(o.message, "version 2 but has version 3 fields");
    free(t);
    /* the reason names what is unsupported */
    t = edit(sgx_tcb_info(), "version", json_integer(4));
    o = run_text(&qo, t, qe, NULL);
    CHECK_CONTAINS(o.message, "tcbInfo version 4 is not supported");
    free(t);
    /* collateral ccz cannot use still names its TEE and FMSPC */
    t = edit(tdx_tcb_info(), "version", json_integer(4));
    char *tqe = forge_dump(forge_qe_identity(true, qe_levels()));
    forge_collateral_opts co = {t, tqe, 1735689600, 2051222400, false, false};
    ccz_buf doc = CCZ_BUF_INIT;
    CHECK_OK(forge_collateral(F, &doc, &co));
    ccz_collateral *col = NULL;
    CHECK_OK(ccz_collateral_parse(&col, (const char *)doc.ptr, doc.len));
    if (col) {
        uint8_t fmspc[6], want[6] = {0x00, 0x90, 0x6e, 0xd5, 0x00, 0x00};
        ccz_collateral_fmspc(fmspc, col);
        CHECK(memcmp(fmspc, want, 6) == 0);
        CHECK_STR(ccz_collateral_tee(col), "TDX");
    }
    ccz_collateral_free(col);
    ccz_buf_free(&doc);
    free(t);
    free(tqe);
    /* bytes that are not collateral at all stay a parse error */
    o = run_text(&qo, "{\"id\": ", qe, NULL);
    EXPECT_FAIL(o, "malformed", "collateral_parse");
    o = run_text(&qo, "[1, 2]", qe, NULL);
    EXPECT_FAIL(o, "malformed", "collateral_parse");
    free(qe);
}

/* Levels that differ only in their TDX components, or only in their status, are a ladder. */
static void test_distinct_levels_are_kept(void)
{
    forge_quote_opts qo;
    tdx_quote(&qo, 4, 4, 0, 2);
    json_t *levels =
        json_pack("[o,o,o]", tdx_level(4, 0, 3, "UpToDate"),
                  tdx_level(4, 0, 2, "SWHardeningNeeded"), tdx_level(3, 0, 2, "OutOfDate"));
    forge_outcome o =
        run(&qo, forge_tcb_info(true, levels, NULL), forge_qe_identity(true, qe_levels()), NULL);
    CHECK_STR(o.tcb, "SWHardeningNeeded");
    /* a QE identity may repeat an ISVSVN (Intel keeps its levels in a list): first one wins */
    sgx_quote(&qo);
    json_t *qe = json_pack("[o,o]", forge_isv_level(8, "OutOfDate", NULL),
                           forge_isv_level(8, "UpToDate", NULL));
    o = run(&qo, sgx_tcb_info(), forge_qe_identity(false, qe), NULL);
    CHECK_STR(o.tcb, "OutOfDate");
}

/* ---- quotes with several faults: the first failure is QVL's -----------------------------------*/

static void flip_at(ccz_buf *q, size_t off)
{
    if (off < q->len)
        q->ptr[off] ^= 0x01;
}

static ccz_dcap_quote parsed(ccz_buf *q)
{
    ccz_dcap_quote dq;
    memset(&dq, 0, sizeof dq);
    if (ccz_dcap_quote_parse(&dq, ccz_buf_span(q)) != CCZ_OK)
        abort();
    return dq;
}

static void flip_quote_signature(ccz_buf *q)
{
    ccz_dcap_quote dq = parsed(q);
    flip_at(q, dq.signed_part.len + 4 + 5); /* after the signature-data length */
}

static void flip_qe_report(ccz_buf *q)
{
    ccz_dcap_quote dq = parsed(q);
    flip_at(q, (size_t)(dq.qe_report.ptr - q->ptr) + 200);
}

static void set_seam_attributes(ccz_buf *q)
{
    ccz_dcap_quote dq = parsed(q);
    flip_at(q, (size_t)(dq.body.ptr - q->ptr) + 112);
}

static json_t *qe_levels_from(int svn)
{
    return json_pack("[o]", forge_isv_level((unsigned)svn, "UpToDate", NULL));
}

static void test_first_failure_is_qvls(void)
{
    forge_quote_opts qo;
    /* TDX module identity before the QE identity, the QE report and the TCB level */
    tdx_quote(&qo, 4, 4, 0, 2);
    qo.mr_signer_seam[5] = 1;
    qo.qe_mrsigner[0] ^= 1;
    EXPECT_FAIL(run(&qo, tdx_tcb_info(), forge_qe_identity(true, qe_levels()), NULL),
                "tdx_module_mismatch", "tdx_module");
    EXPECT_FAIL(run(&qo, tdx_tcb_info(), forge_qe_identity(true, qe_levels()), flip_qe_report),
                "tdx_module_mismatch", "tdx_module");
    tdx_quote(&qo, 4, 1, 0, 1); /* no TDX level either */
    qo.mr_signer_seam[5] = 1;
    EXPECT_FAIL(run(&qo, tdx_tcb_info(), forge_qe_identity(true, qe_levels()), NULL),
                "tdx_module_mismatch", "tdx_module");
    tdx_quote(&qo, 4, 4, 2, 2); /* TDX_02 is not described; and a bad quote signature */
    EXPECT_FAIL(
        run(&qo, tdx_tcb_info(), forge_qe_identity(true, qe_levels()), flip_quote_signature),
        "tdx_module_mismatch", "tdx_module");
    tdx_quote(&qo, 4, 4, 0, 2); /* SEAMATTRIBUTES not zero (which also breaks the signature) */
    EXPECT_FAIL(run(&qo, tdx_tcb_info(), forge_qe_identity(true, qe_levels()), set_seam_attributes),
                "tdx_module_mismatch", "tdx_module");
    /* an SGX QE identity for a TDX quote is judged after the module and the QE report */
    qo.mr_signer_seam[0] = 9;
    EXPECT_FAIL(run(&qo, tdx_tcb_info(), forge_qe_identity(false, qe_levels()), NULL),
                "tdx_module_mismatch", "tdx_module");
    tdx_quote(&qo, 4, 4, 0, 2);
    EXPECT_FAIL(run(&qo, tdx_tcb_info(), forge_qe_identity(false, qe_levels()), flip_qe_report),
                "signature_invalid", "qe_report_signature");
    EXPECT_FAIL(run(&qo, tdx_tcb_info(), forge_qe_identity(false, qe_levels()), NULL),
                "collateral_mismatch", "qe_identity");
    /* an SGX TCB info for a TDX quote: before the module and the QE */
    qo.mr_signer_seam[0] = 9;
    EXPECT_FAIL(run(&qo, sgx_tcb_info(), forge_qe_identity(false, qe_levels()), NULL),
                "collateral_mismatch", "tcb_info");

    /* QE identity checks in QVL's order: MISCSELECT, ATTRIBUTES, MRSIGNER, ISVPRODID */
    sgx_quote(&qo);
    qo.qe_attributes0 = 0x13; /* DEBUG */
    qo.qe_mrsigner[0] ^= 1;
    qo.qe_isvprodid = 9;
    forge_outcome o = run(&qo, sgx_tcb_info(), forge_qe_identity(false, qe_levels()), NULL);
    EXPECT_FAIL(o, "qe_identity_mismatch", "qe_identity");
    CHECK_CONTAINS(o.message, "ATTRIBUTES");
    qo.qe_attributes0 = 0x11;
    o = run(&qo, sgx_tcb_info(), forge_qe_identity(false, qe_levels()), NULL);
    CHECK_CONTAINS(o.message, "MRSIGNER");

    /* no QE level for the QE's ISVSVN: judged last, after the quote signature and TCB level */
    sgx_quote(&qo);
    EXPECT_FAIL(
        run(&qo, sgx_tcb_info(), forge_qe_identity(false, qe_levels_from(9)), flip_quote_signature),
        "signature_invalid", "quote_signature");
    qo.ext.pcesvn = 9;
    EXPECT_FAIL(run(&qo, sgx_tcb_info(), forge_qe_identity(false, qe_levels_from(9)), NULL),
                "tcb_level_not_found", "tcb_level");
    qo.ext.pcesvn = 10;
    EXPECT_FAIL(run(&qo, sgx_tcb_info(), forge_qe_identity(false, qe_levels_from(9)), NULL),
                "tcb_level_not_found", "qe_identity");
    /* SGX: a Revoked platform still needs a QE level (QVL: TCB not supported) */
    json_t *revoked = forge_tcb_info(false, json_pack("[o]", sgx_level(5, 10, "Revoked")), NULL);
    EXPECT_FAIL(run(&qo, revoked, forge_qe_identity(false, qe_levels_from(9)), NULL),
                "tcb_level_not_found", "qe_identity");
    /* TDX: a Revoked TDX level, or one revoked by its module, is returned before the QE merge */
    tdx_quote(&qo, 4, 4, 0, 2);
    json_t *tdx_revoked =
        forge_tcb_info(true, json_pack("[o]", tdx_level(4, 0, 2, "Revoked")), NULL);
    o = run(&qo, tdx_revoked, forge_qe_identity(true, qe_levels_from(9)), NULL);
    CHECK_INT(o.status, CCZ_OK);
    CHECK_STR(o.tcb, "Revoked");
    tdx_quote(&qo, 4, 2, 1, 2); /* TDX_01 level ISVSVN 2, revoked */
    json_t *module_revoked = forge_tcb_info(
        true, json_pack("[o]", tdx_level(0, 0, 2, "UpToDate")),
        json_pack("[o]", forge_module_identity(
                             "TDX_01", json_pack("[o,o]", forge_isv_level(4, "UpToDate", NULL),
                                                 forge_isv_level(2, "Revoked", NULL)))));
    o = run(&qo, module_revoked, forge_qe_identity(true, qe_levels_from(9)), NULL);
    CHECK_INT(o.status, CCZ_OK);
    CHECK_STR(o.tcb, "Revoked");
    /* but a TDX level that is only out of date still needs the QE level */
    tdx_quote(&qo, 4, 3, 0, 2);
    EXPECT_FAIL(run(&qo, tdx_tcb_info(), forge_qe_identity(true, qe_levels_from(9)), NULL),
                "tcb_level_not_found", "qe_identity");
    /* TDX module level not found comes before the QE */
    tdx_quote(&qo, 4, 1, 1, 2);
    EXPECT_FAIL(run(&qo, tdx_tcb_info(), forge_qe_identity(true, qe_levels_from(9)), NULL),
                "tcb_level_not_found", "tdx_module");
}

/* TD relaunch (TD report 1.5) judges the TDX level's status with the module's folded in, and a
 * TEE_TCB_SVN2 naming an undescribed module version fails (QVL checkForRelaunch). */
static void test_td_relaunch_as_qvl(void)
{
    static const char *const tdx_status[] = {"UpToDate", "ConfigurationNeeded"};
    static const char *const want[] = {"TDRelaunchAdvised", "TDRelaunchAdvisedConfigurationNeeded"};
    for (int i = 0; i < 2; i++) {
        forge_quote_opts qo;
        tdx_quote(&qo, 5, 2, 1, 3); /* module TDX_01 at SVN 2: OutOfDate */
        qo.td15 = true;
        qo.tee_tcb_svn2[0] = 4;
        qo.tee_tcb_svn2[1] = 1;
        qo.tee_tcb_svn2[2] = 3;
        json_t *ti = forge_tcb_info(
            true, json_pack("[o]", tdx_level(0, 0, 3, tdx_status[i])),
            json_pack("[o]", forge_module_identity(
                                 "TDX_01", json_pack("[o,o]", forge_isv_level(4, "UpToDate", NULL),
                                                     forge_isv_level(2, "OutOfDate", NULL)))));
        char *t = forge_dump(ti), *qe = forge_dump(forge_qe_identity(true, qe_levels()));
        forge_outcome o = run_text(&qo, t, qe, NULL);
        CHECK_STR(o.tcb, want[i]);
        qo.tee_tcb_svn2[1] = 5; /* TDX_05 is not described */
        EXPECT_FAIL(run_text(&qo, t, qe, NULL), "tdx_module_mismatch", "tdx_module");
        qo.tee_tcb_svn2[1] = 1;
        qo.tee_tcb_svn2[0] = 3; /* the TD would come back with an old module */
        CHECK_STR(run_text(&qo, t, qe, NULL).tcb, i ? "OutOfDateConfigurationNeeded" : "OutOfDate");
        free(t);
        free(qe);
    }
}

/* ccz is stricter than QVL on dates: collateral before its issueDate fails. */
static void test_collateral_before_issue_date(void)
{
    forge_quote_opts qo;
    sgx_quote(&qo);
    json_t *ti = sgx_tcb_info();
    json_object_set_new(ti, "issueDate", json_string("2031-01-01T00:00:00Z"));
    EXPECT_FAIL(run(&qo, ti, forge_qe_identity(false, qe_levels()), NULL), "collateral_out_of_date",
                "tcb_info");
    json_t *qe = forge_qe_identity(false, qe_levels());
    json_object_set_new(qe, "issueDate", json_string("2031-01-01T00:00:00Z"));
    EXPECT_FAIL(run(&qo, sgx_tcb_info(), qe, NULL), "collateral_out_of_date", "qe_identity");
}

/* ---- every SVN component counts; PCE-ID and FMSPC must match ----------------------------------*/

static void test_each_cpu_svn_component(void)
{
    for (int i = 0; i < 16; i++) {
        forge_quote_opts qo;
        sgx_quote(&qo);
        qo.ext.cpusvn_components[i] = 4; /* one below the UpToDate level in component i only */
        forge_outcome o = run(&qo, sgx_tcb_info(), forge_qe_identity(false, qe_levels()), NULL);
        if (strcmp(o.tcb, "OutOfDate") != 0) {
            fprintf(stderr, "%s: CPU SVN component %d below the level: got %s\n", test_name, i + 1,
                    o.tcb);
            test_failures++;
        }
        json_t *one = forge_tcb_info(false, json_pack("[o]", sgx_level(5, 10, "UpToDate")), NULL);
        EXPECT_FAIL(run(&qo, one, forge_qe_identity(false, qe_levels()), NULL),
                    "tcb_level_not_found", "tcb_level");
    }
}

static void test_each_tdx_component(void)
{
    uint8_t s5[16], t3[16], t0[16] = {0};
    memset(s5, 5, 16);
    memset(t3, 3, 16);
    t3[1] = 0; /* module major version 0: bytes 0 and 1 are compared as components */
    for (int i = 0; i < 16; i++) {
        if (i == 1)
            continue;
        forge_quote_opts qo;
        tdx_quote(&qo, 4, 3, 0, 3);
        memset(qo.tee_tcb_svn + 3, 3, 13);
        qo.tee_tcb_svn[i] = 2;
        json_t *levels = json_pack("[o,o]", forge_tcb_level(s5, 10, t3, "UpToDate", NULL),
                                   forge_tcb_level(s5, 10, t0, "OutOfDate", NULL));
        forge_outcome o = run(&qo, forge_tcb_info(true, levels, NULL),
                              forge_qe_identity(true, qe_levels()), NULL);
        if (strcmp(o.tcb, "OutOfDate") != 0) {
            fprintf(stderr, "%s: TDX component %d below the level: got %s\n", test_name, i, o.tcb);
            test_failures++;
        }
    }
}

static void test_pce_id_and_fmspc(void)
{
    forge_quote_opts qo;
    sgx_quote(&qo);
    qo.ext.pce_id[1] = 1;
    forge_outcome o = run(&qo, sgx_tcb_info(), forge_qe_identity(false, qe_levels()), NULL);
    EXPECT_FAIL(o, "collateral_mismatch", "tcb_info");
    CHECK_CONTAINS(o.message, "PCE-ID 0001");
    sgx_quote(&qo);
    qo.ext.fmspc[5] = 1;
    EXPECT_FAIL(run(&qo, sgx_tcb_info(), forge_qe_identity(false, qe_levels()), NULL),
                "collateral_mismatch", "tcb_info");
}

/* A PCK certificate whose key is not P-256 is refused at the PCK chain, as malformed, before
 * any signature is tried with it */
static void test_pck_key_not_p256(void)
{
    forge *f = forge_new();
    forge_new_pck_key_p384(f);
    forge_quote_opts qo;
    sgx_quote(&qo);
    char *t = forge_dump(sgx_tcb_info()), *q = forge_dump(forge_qe_identity(false, qe_levels()));
    forge_collateral_opts co = {t, q, 1735689600, 2051222400, false, false};
    forge_outcome o = forge_verify(f, AT, &qo, &co, NULL);
    EXPECT_FAIL(o, "key_malformed", "pck_chain");
    CHECK_CONTAINS(o.message, "the PCK certificate's key is not P-256");
    free(t);
    free(q);
    forge_free(f);
}

static void cleanup(void)
{
    forge_free(F);
    F = NULL;
}

TEST_MAIN(T(test_forge_pki_is_intel_shaped), T(test_documents_intel_refuses),
          T(test_distinct_levels_are_kept), T(test_first_failure_is_qvls),
          T(test_td_relaunch_as_qvl), T(test_collateral_before_issue_date),
          T(test_each_cpu_svn_component), T(test_each_tdx_component), T(test_pce_id_and_fmspc),
          T(test_pck_key_not_p256), T(cleanup))
