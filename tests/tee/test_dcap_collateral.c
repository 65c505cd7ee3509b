/* SPDX-License-Identifier: Apache-2.0 */
/* DCAP collateral as ccz reads it (src/tee/dcap/dcap_collateral.c), on documents made by the
 * test platform (tests/support/dcap_forge): times that are not UTC or not times, integers out of
 * range, statuses a structure may not carry, too many advisories, duplicate levels, versions,
 * ids and TCB types ccz does not read, module blocks where they do not belong, a CRL with bytes
 * after it. Each makes the collateral unusable (or unparsable) with an error naming the field.
 * The parse cache: an unusable document stays unusable when parsed again, and a document that
 * differs from a cached one only near its end is not taken for it. The expiry is the earliest
 * of the dates and CRLs, and 0 for collateral that cannot be used. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ccz/ccz.h"
#include "dcap_forge.h"
#include "test.h"

#define Y2025 1735689600
#define Y2033 1988150400
#define Y2034 2019686400
#define Y2035 2051222400

static forge *F;
static ccz_trust *trust;

static void setup(void)
{
    if (F)
        return;
    F = forge_new();
    trust = forge_trust(F);
}

static json_t *sgx_level(unsigned pcesvn, const char *status)
{
    static const uint8_t five[16] = {5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5};
    return forge_tcb_level(five, pcesvn, NULL, status, NULL);
}

static json_t *sgx_tcb(void)
{
    json_t *levels = json_array();
    json_array_append_new(levels, sgx_level(10, "UpToDate"));
    json_array_append_new(levels, sgx_level(5, "OutOfDate"));
    return forge_tcb_info(false, levels, NULL);
}

static json_t *qe(void)
{
    json_t *levels = json_array();
    json_array_append_new(levels, forge_isv_level(8, "UpToDate", NULL));
    return forge_qe_identity(false, levels);
}

static json_t *td_qe(void)
{
    json_t *levels = json_array();
    json_array_append_new(levels, forge_isv_level(8, "UpToDate", NULL));
    return forge_qe_identity(true, levels);
}

/* The collateral document for these bodies (both released), CRLs valid crl_from..crl_until. */
static void document(ccz_buf *out, json_t *tcb, json_t *qe_id, int64_t crl_until)
{
    setup();
    char *t = forge_dump(tcb), *q = forge_dump(qe_id);
    forge_collateral_opts co = {t, q, Y2025, crl_until, false, false};
    CHECK_OK(forge_collateral(F, out, &co));
    free(t);
    free(q);
}

/* The status ccz_collateral_problem gives for these bodies, its detail in detail[512]. */
static ccz_status problem(json_t *tcb, json_t *qe_id, char *detail)
{
    ccz_buf b = CCZ_BUF_INIT;
    document(&b, tcb, qe_id, Y2035);
    ccz_collateral *c = NULL;
    ccz_status s = ccz_collateral_parse(&c, (const char *)b.ptr, b.len);
    CHECK_OK(s);
    if (s == CCZ_OK)
        s = ccz_collateral_problem(c);
    snprintf(detail, 512, "%s", s ? ccz_error_detail() : "");
    ccz_error_clear();
    ccz_collateral_free(c);
    ccz_buf_free(&b);
    return s;
}

static json_t *level0(json_t *tcb)
{
    return json_array_get(json_object_get(tcb, "tcbLevels"), 0);
}

#define REFUSED(tcb, qe_id, want_status, want_detail)                                              \
    do {                                                                                           \
        char d_[512];                                                                              \
        CHECK_STATUS(problem(tcb, qe_id, d_), want_status);                                        \
        CHECK_CONTAINS(d_, want_detail);                                                           \
    } while (0)

static void times(void)
{
    char d[512];
    json_t *t = sgx_tcb();
    json_object_set_new(t, "issueDate", json_string("2025-01-01T00:00:00+01:00"));
    REFUSED(t, qe(), CCZ_ERR_MALFORMED,
            "tcbInfo.issueDate: '2025-01-01T00:00:00+01:00' is not in UTC");
    t = sgx_tcb();
    json_object_set_new(t, "issueDate", json_string("2025-01-01T00:00:00"));
    REFUSED(t, qe(), CCZ_ERR_MALFORMED, "is not in UTC");
    t = sgx_tcb();
    json_object_set_new(t, "issueDate", json_string("2025-01-01T00:00:00+00:00"));
    CHECK_OK(problem(t, qe(), d));
    t = sgx_tcb();
    json_object_set_new(t, "issueDate", json_string("2025-01-01T00:00:00.125Z"));
    CHECK_OK(problem(t, qe(), d));
    static const char *const invalid[] = {"2035-13-01T00:00:00Z", "2035-00-01T00:00:00Z",
                                          "2035-01-32T00:00:00Z", "2035-01-01T24:00:00Z",
                                          "2035-01-01T00:60:00Z", "2035-01-00T00:00:00Z",
                                          "2035-01-01T00:00:61Z"};
    for (size_t i = 0; i < sizeof invalid / sizeof *invalid; i++) {
        t = sgx_tcb();
        json_object_set_new(t, "nextUpdate", json_string(invalid[i]));
        REFUSED(t, qe(), CCZ_ERR_MALFORMED, "is not a valid time");
    }
    t = sgx_tcb(); /* a leap second is a valid time */
    json_object_set_new(t, "nextUpdate", json_string("2035-01-01T23:59:60Z"));
    CHECK_OK(problem(t, qe(), d));
    t = sgx_tcb();
    json_object_set_new(t, "nextUpdate", json_string("tomorrow"));
    REFUSED(t, qe(), CCZ_ERR_MALFORMED,
            "tcbInfo.nextUpdate: 'tomorrow' is not an ISO 8601 UTC time");
}

static void integers(void)
{
    json_t *t = sgx_tcb();
    json_object_set_new(t, "tcbEvaluationDataNumber", json_integer(-1));
    REFUSED(t, qe(), CCZ_ERR_MALFORMED,
            "tcbInfo.tcbEvaluationDataNumber: missing or not an integer in range");
    t = sgx_tcb();
    json_object_set_new(json_object_get(level0(t), "tcb"), "pcesvn", json_integer(65536));
    REFUSED(t, qe(), CCZ_ERR_MALFORMED,
            "tcbInfo.tcbLevels[0].pcesvn: missing or not an integer in range");
    t = sgx_tcb();
    json_t *comp =
        json_array_get(json_object_get(json_object_get(level0(t), "tcb"), "sgxtcbcomponents"), 3);
    json_object_set_new(comp, "svn", json_integer(256));
    REFUSED(t, qe(), CCZ_ERR_MALFORMED,
            "tcbInfo.tcbLevels[0].tcb.sgxtcbcomponents.svn: missing or not an integer in range");
    json_t *q = qe();
    json_object_set_new(q, "isvprodid", json_integer(65536));
    REFUSED(sgx_tcb(), q, CCZ_ERR_MALFORMED,
            "qeIdentity.isvprodid: missing or not an integer in range");
    json_t *levels = json_array();
    json_array_append_new(levels, forge_isv_level(65536, "UpToDate", NULL));
    REFUSED(sgx_tcb(), forge_qe_identity(false, levels), CCZ_ERR_MALFORMED,
            "qeIdentity.tcbLevels[0].isvsvn: missing or not an integer in range");
}

/* sgx_tcb() as a version 2 TCB info (components as sgxtcbcompNNsvn), level 0's component 1
 * set to comp1. */
static json_t *sgx_tcb_v2(long long comp1)
{
    json_t *t = sgx_tcb();
    json_object_set_new(t, "version", json_integer(2));
    json_object_del(t, "id");
    json_t *levels = json_object_get(t, "tcbLevels");
    for (size_t i = 0; i < json_array_size(levels); i++) {
        json_t *tcb = json_object_get(json_array_get(levels, i), "tcb");
        json_object_del(tcb, "sgxtcbcomponents");
        for (int k = 1; k <= 16; k++) {
            char key[24];
            snprintf(key, sizeof key, "sgxtcbcomp%02dsvn", k);
            json_object_set_new(tcb, key, json_integer(i == 0 && k == 1 ? comp1 : 5));
        }
    }
    return t;
}

static void tcb_info_v2_components(void)
{
    char d[512];
    CHECK_OK(problem(sgx_tcb_v2(255), qe(), d));
    REFUSED(sgx_tcb_v2(256), qe(), CCZ_ERR_MALFORMED,
            "tcbInfo.tcbLevels[0].sgxtcbcomp01svn: missing or not an integer in range");
}

static void statuses_and_advisories(void)
{
    json_t *levels = json_array();
    json_array_append_new(levels, forge_isv_level(8, "SWHardeningNeeded", NULL));
    REFUSED(sgx_tcb(), forge_qe_identity(false, levels), CCZ_ERR_MALFORMED,
            "qeIdentity.tcbLevels[0].tcbStatus 'SWHardeningNeeded' is not a status this "
            "structure may carry");
    json_t *t = sgx_tcb();
    json_object_set_new(level0(t), "tcbStatus", json_string("Unknown"));
    REFUSED(t, qe(), CCZ_ERR_MALFORMED, "tcbInfo.tcbLevels[0].tcbStatus 'Unknown' is not a status");
    /* TDX module levels: UpToDate, OutOfDate, Revoked only */
    json_t *ml = json_array(), *mods = json_array(), *tl = json_array();
    json_array_append_new(ml, forge_isv_level(2, "ConfigurationNeeded", NULL));
    json_array_append_new(mods, forge_module_identity("TDX_01", ml));
    static const uint8_t five[16] = {5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5};
    json_array_append_new(tl, forge_tcb_level(five, 10, five, "UpToDate", NULL));
    REFUSED(forge_tcb_info(true, tl, mods), td_qe(), CCZ_ERR_MALFORMED,
            "tcbInfo.tdxModuleIdentities[0].tcbLevels[0].tcbStatus 'ConfigurationNeeded' is not");
    /* two module levels for one ISVSVN */
    ml = json_array(), mods = json_array(), tl = json_array();
    json_array_append_new(ml, forge_isv_level(2, "UpToDate", NULL));
    json_array_append_new(ml, forge_isv_level(2, "OutOfDate", NULL));
    json_array_append_new(mods, forge_module_identity("TDX_01", ml));
    json_array_append_new(tl, forge_tcb_level(five, 10, five, "UpToDate", NULL));
    REFUSED(forge_tcb_info(true, tl, mods), td_qe(), CCZ_ERR_MALFORMED,
            "tcbInfo.tdxModuleIdentities[0]: two TCB levels for ISVSVN 2");
    /* 64 advisories are read, 65 are not */
    for (int n = 64; n <= 65; n++) {
        json_t *adv = json_array();
        for (int i = 0; i < n; i++) {
            char id[24];
            snprintf(id, sizeof id, "INTEL-SA-%05d", i);
            json_array_append_new(adv, json_string(id));
        }
        t = sgx_tcb();
        json_object_set_new(level0(t), "advisoryIDs", adv);
        char d[512];
        ccz_status s = problem(t, qe(), d);
        if (n == 64)
            CHECK_OK(s);
        else {
            CHECK_STATUS(s, CCZ_ERR_MALFORMED);
            CHECK_CONTAINS(d, "advisoryIDs is not a list of at most 64 IDs");
        }
    }
    /* an advisory ID fits CCZ_ADVISORY_LEN with its terminator: 31 characters, not 32 */
    for (int n = 31; n <= 32; n++) {
        char id[40];
        snprintf(id, sizeof id, "INTEL-SA-%0*d", n - 9, 7);
        json_t *adv = json_array();
        json_array_append_new(adv, json_string(id));
        t = sgx_tcb();
        json_object_set_new(level0(t), "advisoryIDs", adv);
        char d[512];
        ccz_status s = problem(t, qe(), d);
        if (n == 31)
            CHECK_OK(s);
        else {
            CHECK_STATUS(s, CCZ_ERR_MALFORMED);
            CHECK_CONTAINS(d, "tcbInfo.tcbLevels[0]: advisory ID is not a short string");
        }
    }
    /* two levels with the same SVNs and PCE SVN */
    levels = json_array();
    json_array_append_new(levels, sgx_level(10, "UpToDate"));
    json_array_append_new(levels, sgx_level(10, "OutOfDate"));
    REFUSED(forge_tcb_info(false, levels, NULL), qe(), CCZ_ERR_MALFORMED,
            "two TCB levels have the same SVNs and PCE SVN");
}

static void kinds(void)
{
    json_t *t = sgx_tcb();
    json_object_set_new(t, "version", json_integer(2));
    REFUSED(t, qe(), CCZ_ERR_COLLATERAL_UNSUPPORTED,
            "tcbInfo: labelled version 2 but has version 3 fields");
    t = sgx_tcb();
    json_object_set_new(t, "version", json_integer(4));
    REFUSED(t, qe(), CCZ_ERR_COLLATERAL_UNSUPPORTED, "tcbInfo version 4 is not supported");
    t = sgx_tcb();
    json_object_set_new(t, "id", json_string("SEV"));
    REFUSED(t, qe(), CCZ_ERR_COLLATERAL_UNSUPPORTED, "tcbInfo.id 'SEV' is not SGX or TDX");
    t = sgx_tcb();
    json_object_set_new(t, "tcbType", json_integer(1));
    REFUSED(t, qe(), CCZ_ERR_COLLATERAL_UNSUPPORTED, "tcbInfo.tcbType 1 is not supported (0 is)");
    json_t *q = qe();
    json_object_set_new(q, "version", json_integer(3));
    REFUSED(sgx_tcb(), q, CCZ_ERR_COLLATERAL_UNSUPPORTED,
            "qeIdentity version 3 is not supported (2 is)");
    q = qe();
    json_object_set_new(q, "id", json_string("XE"));
    REFUSED(sgx_tcb(), q, CCZ_ERR_COLLATERAL_UNSUPPORTED, "qeIdentity.id 'XE' is not QE or TD_QE");

    /* module blocks: only in a TDX TCB info, and a TDX one has its tdxModule */
    json_t *mods = json_array(), *ml = json_array();
    json_array_append_new(ml, forge_isv_level(2, "UpToDate", NULL));
    json_array_append_new(mods, forge_module_identity("TDX_01", ml));
    t = sgx_tcb();
    json_object_set_new(t, "tdxModuleIdentities", mods);
    REFUSED(t, qe(), CCZ_ERR_MALFORMED, "an SGX TCB info has tdxModule or tdxModuleIdentities");
    json_t *tdx = forge_tcb_info(true, json_array(), NULL);
    t = sgx_tcb();
    json_object_set(t, "tdxModule", json_object_get(tdx, "tdxModule"));
    REFUSED(t, qe(), CCZ_ERR_MALFORMED, "an SGX TCB info has tdxModule or tdxModuleIdentities");
    json_object_del(tdx, "tdxModule");
    static const uint8_t five[16] = {5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5};
    json_array_append_new(json_object_get(tdx, "tcbLevels"),
                          forge_tcb_level(five, 10, five, "UpToDate", NULL));
    REFUSED(tdx, td_qe(), CCZ_ERR_MALFORMED, "a TDX TCB info has no tdxModule");

    /* both bodies unusable: the TCB info's reason is the one kept */
    t = sgx_tcb();
    json_object_set_new(t, "tcbType", json_integer(1));
    q = qe();
    json_object_set_new(q, "version", json_integer(3));
    REFUSED(t, q, CCZ_ERR_COLLATERAL_UNSUPPORTED, "tcbInfo.tcbType 1");
}

/* A CRL given as hex DER must be exactly one CRL. */
static void crl_trailing_bytes(void)
{
    ccz_buf b = CCZ_BUF_INIT;
    document(&b, sgx_tcb(), qe(), Y2035);
    json_t *doc = json_loadb((const char *)b.ptr, b.len, 0, NULL);
    CHECK(doc != NULL);
    char crl[8192];
    snprintf(crl, sizeof crl, "%s00", json_string_value(json_object_get(doc, "pck_crl")));
    json_object_set_new(doc, "pck_crl", json_string(crl));
    char *text = json_dumps(doc, 0);
    ccz_collateral *c = NULL;
    CHECK_STATUS(ccz_collateral_parse(&c, text, strlen(text)), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "collateral: pck_crl is not a CRL");
    free(text);
    json_decref(doc);
    ccz_buf_free(&b);
}

static ccz_status verify_with(const ccz_buf *doc)
{
    ccz_buf q = CCZ_BUF_INIT;
    forge_quote_opts qo;
    forge_quote_defaults(&qo);
    CHECK_OK(forge_quote(F, &q, &qo));
    ccz_collateral *c = NULL;
    CHECK_OK(ccz_collateral_parse(&c, (const char *)doc->ptr, doc->len));
    ccz_verify_opts vo = CCZ_VERIFY_OPTS_INIT;
    vo.at_unix = Y2033;
    vo.trust = trust;
    vo.collateral = c;
    static ccz_result r;
    ccz_status s = ccz_verify(&r, ccz_buf_span(&q), &vo);
    ccz_collateral_free(c);
    ccz_buf_free(&q);
    return s;
}

/* The parse cache keeps a parse by the document's exact bytes. */
static void parse_cache(void)
{
    /* an unusable document, parsed twice: the second parse (a copy of the first) is unusable */
    for (int i = 0; i < 2; i++) {
        json_t *t = sgx_tcb();
        json_object_set_new(t, "tcbType", json_integer(1));
        ccz_buf b = CCZ_BUF_INIT;
        document(&b, t, qe(), Y2035);
        ccz_collateral *c = NULL;
        CHECK_OK(ccz_collateral_parse(&c, (const char *)b.ptr, b.len));
        CHECK_STATUS(ccz_collateral_problem(c), CCZ_ERR_COLLATERAL_UNSUPPORTED);
        CHECK_INT(ccz_collateral_expiry(c), 0);
        ccz_collateral_free(c);
        ccz_collateral *again = NULL;
        CHECK_OK(ccz_collateral_parse(&again, (const char *)b.ptr, b.len));
        CHECK_STATUS(ccz_collateral_problem(again), CCZ_ERR_COLLATERAL_UNSUPPORTED);
        CHECK_CONTAINS(ccz_error_detail(), "tcbInfo.tcbType 1 is not supported");
        CHECK_INT(ccz_collateral_expiry(again), 0);
        ccz_collateral_free(again);
        ccz_buf_free(&b);
    }
    /* a good document verifies; the same with one hex digit of its last signature changed (the
     * same length, the same first half) does not */
    ccz_buf good = CCZ_BUF_INIT;
    document(&good, sgx_tcb(), qe(), Y2035);
    CHECK_OK(verify_with(&good));
    ccz_buf bad = CCZ_BUF_INIT;
    CHECK_OK(ccz_buf_append(&bad, good.ptr, good.len));
    char *text = (char *)bad.ptr;
    const char *key = "\"qe_identity_signature\":";
    char *at = NULL;
    for (char *p = strstr(text, key); p; p = strstr(p + 1, key))
        at = p;
    CHECK(at != NULL);
    if (at) {
        char *hex = strchr(at + strlen(key), '"') + 1;
        CHECK((size_t)(hex - text) > bad.len / 2);
        hex[10] = hex[10] == '0' ? '1' : '0';
        CHECK_STATUS(verify_with(&bad), CCZ_ERR_BAD_SIGNATURE);
    }
    CHECK_OK(verify_with(&good)); /* and the good one still does */
    /* nor is a prefix of a remembered document that document */
    size_t n = good.len;
    while (n && good.ptr[n - 1] != '}')
        n--;
    ccz_collateral *cut = NULL;
    CHECK(n > 1);
    CHECK_STATUS(ccz_collateral_parse(&cut, (const char *)good.ptr, n - 1), CCZ_ERR_MALFORMED);
    CHECK(cut == NULL);
    ccz_buf_free(&good);
    ccz_buf_free(&bad);
}

/* An issuer chain of the collateral holds at most 4 certificates. */
static void chain_length(void)
{
    ccz_buf b = CCZ_BUF_INIT;
    document(&b, sgx_tcb(), qe(), Y2035);
    json_t *doc = json_loadb((const char *)b.ptr, b.len, 0, NULL);
    CHECK(doc != NULL);
    const char *chain = json_string_value(json_object_get(doc, "tcb_info_issuer_chain"));
    CHECK(chain != NULL);
    const char *end = chain ? strstr(chain, "-----END CERTIFICATE-----") : NULL;
    CHECK(end != NULL && strstr(end + 1, "-----END CERTIFICATE-----") != NULL &&
          strstr(strstr(end + 1, "-----END CERTIFICATE-----") + 1, "-----BEGIN") == NULL);
    if (!doc || !chain || !end) {
        json_decref(doc);
        ccz_buf_free(&b);
        return;
    }
    int first = (int)(end - chain) + (int)strlen("-----END CERTIFICATE-----\n");
    for (int n = 4; n <= 5; n++) { /* the chain twice, then once more its first certificate */
        size_t cap = 2 * strlen(chain) + (size_t)first + 1;
        char *text = malloc(cap);
        CHECK(text != NULL);
        if (!text)
            break;
        snprintf(text, cap, "%s%s%.*s", chain, chain, n == 5 ? first : 0, chain);
        json_t *d = json_deep_copy(doc);
        json_object_set_new(d, "tcb_info_issuer_chain", json_string(text));
        char *dump = json_dumps(d, JSON_COMPACT);
        ccz_collateral *c = NULL;
        ccz_status s = ccz_collateral_parse(&c, dump, strlen(dump));
        if (n == 4) {
            CHECK_OK(s);
        } else {
            CHECK_STATUS(s, CCZ_ERR_MALFORMED);
            CHECK_CONTAINS(ccz_error_detail(), "collateral: tcb_info_issuer_chain");
        }
        ccz_collateral_free(c);
        free(dump);
        json_decref(d);
        free(text);
    }
    json_decref(doc);
    ccz_buf_free(&b);
}

/* The earliest of the bodies' nextUpdate and the CRLs' nextUpdate. */
static void expiry(void)
{
    ccz_buf b = CCZ_BUF_INIT;
    ccz_collateral *c = NULL;
    document(&b, sgx_tcb(), qe(), Y2035 + 86400);
    CHECK_OK(ccz_collateral_parse(&c, (const char *)b.ptr, b.len));
    CHECK_INT(ccz_collateral_expiry(c), Y2035); /* the bodies' 2035-01-01 */
    ccz_collateral_free(c);
    ccz_buf_free(&b);
    json_t *q = qe();
    json_object_set_new(q, "nextUpdate", json_string("2034-01-01T00:00:00Z"));
    document(&b, sgx_tcb(), q, Y2035 + 86400);
    CHECK_OK(ccz_collateral_parse(&c, (const char *)b.ptr, b.len));
    CHECK_INT(ccz_collateral_expiry(c), Y2034); /* the QE identity's */
    ccz_collateral_free(c);
    ccz_buf_free(&b);
    document(&b, sgx_tcb(), qe(), Y2033);
    CHECK_OK(ccz_collateral_parse(&c, (const char *)b.ptr, b.len));
    CHECK_INT(ccz_collateral_expiry(c), Y2033); /* the CRLs' */
    ccz_collateral_free(c);
    ccz_buf_free(&b);
}

/* Limits on what a document may hold, each with the error that names it; and a document ccz
 * cannot use expires at once (fetch it again). */
static void limits(void)
{
    static const uint8_t five[16] = {5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5};
    static const char *const empty_id[] = {"", NULL};
    json_t *levels = json_array();
    json_array_append_new(levels, forge_tcb_level(five, 10, NULL, "UpToDate", empty_id));
    REFUSED(forge_tcb_info(false, levels, NULL), qe(), CCZ_ERR_MALFORMED,
            "tcbInfo.tcbLevels[0]: advisory ID is not a short string");
    /* 257 distinct levels: one more than ccz reads */
    levels = json_array();
    for (unsigned i = 0; i <= 256; i++)
        json_array_append_new(levels, sgx_level(i, "UpToDate"));
    REFUSED(forge_tcb_info(false, levels, NULL), qe(), CCZ_ERR_MALFORMED,
            "tcbInfo: tcbLevels is not a non-empty list of at most 256 levels");
    levels = json_array();
    for (unsigned i = 0; i < 256; i++)
        json_array_append_new(levels, sgx_level(i, "UpToDate"));
    char d[512];
    CHECK_OK(problem(forge_tcb_info(false, levels, NULL), qe(), d));
    levels = json_array(); /* QE identity levels: the same cap */
    for (unsigned i = 0; i <= 256; i++)
        json_array_append_new(levels, forge_isv_level(i, "UpToDate", NULL));
    REFUSED(sgx_tcb(), forge_qe_identity(false, levels), CCZ_ERR_MALFORMED,
            "qeIdentity: tcbLevels is not a non-empty list of at most 256 levels");
    /* a TDX module identity id longer than ccz keeps */
    json_t *tdx_levels = json_array(), *mod_levels = json_array(), *mods = json_array();
    json_array_append_new(tdx_levels, forge_tcb_level(five, 10, five, "UpToDate", NULL));
    json_array_append_new(mod_levels, forge_isv_level(2, "UpToDate", NULL));
    json_array_append_new(mods, forge_module_identity("TDX_0123456789AB", mod_levels));
    REFUSED(forge_tcb_info(true, tdx_levels, mods), td_qe(), CCZ_ERR_MALFORMED,
            "tcbInfo.tdxModuleIdentities[0]: id too long");
    /* 65 module identities: one more than ccz reads */
    tdx_levels = json_array();
    mods = json_array();
    json_array_append_new(tdx_levels, forge_tcb_level(five, 10, five, "UpToDate", NULL));
    for (int i = 0; i <= 64; i++) {
        char id[16];
        snprintf(id, sizeof id, "TDX_%02X", i + 1);
        mod_levels = json_array();
        json_array_append_new(mod_levels, forge_isv_level(2, "UpToDate", NULL));
        json_array_append_new(mods, forge_module_identity(id, mod_levels));
    }
    REFUSED(forge_tcb_info(true, tdx_levels, mods), td_qe(), CCZ_ERR_MALFORMED,
            "tcbInfo.tdxModuleIdentities: not a non-empty list of at most 64 identities");
    json_t *t = sgx_tcb();
    json_object_del(t, "pceId");
    REFUSED(t, qe(), CCZ_ERR_MALFORMED, "tcbInfo.pceId: missing or not a string");
    /* unusable (here after its dates were read): its expiry is now */
    ccz_buf b = CCZ_BUF_INIT;
    ccz_collateral *c = NULL;
    t = sgx_tcb();
    json_object_del(t, "pceId");
    document(&b, t, qe(), Y2035);
    CHECK_OK(ccz_collateral_parse(&c, (const char *)b.ptr, b.len));
    CHECK_STATUS(ccz_collateral_problem(c), CCZ_ERR_MALFORMED);
    CHECK_INT(ccz_collateral_expiry(c), 0);
    ccz_collateral_free(c);
    ccz_buf_free(&b);
}

/* A TCB component must be an object whose category and type, when present, are strings; a QE
 * identity needs its attributesMask. */
static void components_and_masks(void)
{
    json_t *t = sgx_tcb();
    json_t *comps = json_object_get(json_object_get(level0(t), "tcb"), "sgxtcbcomponents");
    json_array_set_new(comps, 7, json_integer(5));
    REFUSED(t, qe(), CCZ_ERR_MALFORMED,
            "tcbInfo.tcbLevels[0].tcb.sgxtcbcomponents: a component is not an object");
    static const char *const keys[] = {"category", "type"};
    for (int k = 0; k < 2; k++) {
        t = sgx_tcb();
        comps = json_object_get(json_object_get(level0(t), "tcb"), "sgxtcbcomponents");
        json_object_set_new(json_array_get(comps, 2), keys[k], json_integer(1));
        REFUSED(t, qe(), CCZ_ERR_MALFORMED,
                "tcbInfo.tcbLevels[0].tcb.sgxtcbcomponents: a component's category or type is "
                "not a string");
        t = sgx_tcb();
        comps = json_object_get(json_object_get(level0(t), "tcb"), "sgxtcbcomponents");
        json_object_set_new(json_array_get(comps, 2), keys[k], json_string("BIOS"));
        char d[512];
        CHECK_OK(problem(t, qe(), d));
    }
    json_t *q = qe();
    json_object_del(q, "attributesMask");
    REFUSED(sgx_tcb(), q, CCZ_ERR_MALFORMED, "qeIdentity.attributesMask: missing or not a string");
    q = qe();
    json_object_del(q, "miscselectMask");
    REFUSED(sgx_tcb(), q, CCZ_ERR_MALFORMED, "qeIdentity.miscselectMask: missing or not a string");
}

static void cleanup(void)
{
    forge_free(F);
    ccz_trust_free(trust);
}

TEST_MAIN(T(times), T(integers), T(tcb_info_v2_components), T(statuses_and_advisories), T(kinds),
          T(crl_trailing_bytes), T(parse_cache), T(chain_length), T(expiry), T(limits),
          T(components_and_masks), T(cleanup))
