/* SPDX-License-Identifier: Apache-2.0 */
/* DCAP collateral: dcap-qvl's QuoteCollateralV3 JSON, with Intel's TCB info (v2, v3; SGX and
 * TDX) and QE identity (v2; QE and TD_QE) inside it. All of it is untrusted until the verifier
 * has checked its signatures; here it is only parsed, strictly, with errors that name the
 * field. Certificates and CRLs are parsed by OpenSSL. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "core/guard.h"
#include "tee/dcap/dcap_internal.h"
#include "tee/internal.h"

#define COLLATERAL_MAX (1u << 20)
#define MAX_CHAIN 4
#define MAX_LEVELS 256

static ccz_status bad(const char *where, const char *what)
{
    return ccz_fail(CCZ_ERR_MALFORMED, "collateral: %s: %s", where, what);
}

ccz_status dcap_parse_time(const char *s, int64_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int consumed = 0;
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                     &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6)
        return ccz_fail(CCZ_ERR_MALFORMED, "'%.40s' is not an ISO 8601 UTC time", s ? s : "");
    const char *rest = s + consumed;
    if (*rest == '.') /* fractional seconds are truncated */
        for (rest++; *rest >= '0' && *rest <= '9'; rest++)
            ;
    if (strcmp(rest, "Z") != 0 && strcmp(rest, "+00:00") != 0)
        return ccz_fail(CCZ_ERR_MALFORMED, "'%.40s' is not in UTC", s);
    if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 60)
        return ccz_fail(CCZ_ERR_MALFORMED, "'%.40s' is not a valid time", s);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *out = (int64_t)timegm(&tm);
    return CCZ_OK;
}

/* ---- JSON field readers ----------------------------------------------------------------------*/

static const char *get_str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static ccz_status need_str(const json_t *o, const char *key, const char *where, const char **out)
{
    *out = get_str(o, key);
    if (!*out) {
        return ccz_fail(CCZ_ERR_MALFORMED, "collateral: %s.%s: missing or not a string", where,
                        key);
    }
    return CCZ_OK;
}

static ccz_status need_hex(const json_t *o, const char *key, const char *where, uint8_t *out,
                           size_t n)
{
    const char *s;
    CCZ_GUARD(need_str(o, key, where, &s));
    if (ccz_hex_decode_fixed(out, n, s, strlen(s))) {
        return ccz_fail(CCZ_ERR_MALFORMED, "collateral: %s.%s: expected %zu hex digits", where, key,
                        2 * n);
    }
    return CCZ_OK;
}

static ccz_status need_int(const json_t *o, const char *key, const char *where, long long max,
                           long long *out)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max) {
        return ccz_fail(CCZ_ERR_MALFORMED, "collateral: %s.%s: missing or not an integer in range",
                        where, key);
    }
    *out = json_integer_value(v);
    return CCZ_OK;
}

static ccz_status need_time(const json_t *o, const char *key, const char *where, int64_t *out)
{
    const char *s;
    CCZ_GUARD(need_str(o, key, where, &s));
    if (dcap_parse_time(s, out))
        return ccz_fail_context(CCZ_ERR_MALFORMED, "collateral: %s.%s", where, key);
    return CCZ_OK;
}

/* Intel's parsers accept these tcbStatus values and no others: TCB levels (TcbLevel), TDX module
 * TCB levels (as its verifier reads them) and QE identity levels (EnclaveIdentityV2). */
static const char *const TCB_STATUSES[] = {"UpToDate",
                                           "SWHardeningNeeded",
                                           "ConfigurationNeeded",
                                           "ConfigurationAndSWHardeningNeeded",
                                           "OutOfDate",
                                           "OutOfDateConfigurationNeeded",
                                           "Revoked",
                                           NULL};
static const char *const MODULE_STATUSES[] = {"UpToDate", "OutOfDate", "Revoked", NULL};
static const char *const QE_STATUSES[] = {"UpToDate",  "ConfigurationNeeded",
                                          "OutOfDate", "OutOfDateConfigurationNeeded",
                                          "Revoked",   NULL};

static ccz_status unsupported(const char *where, const char *what)
{
    return ccz_fail(CCZ_ERR_COLLATERAL_UNSUPPORTED, "collateral: %s: %s", where, what);
}

static ccz_status need_object(const json_t *o, const char *key, const char *where,
                              const json_t **out)
{
    *out = json_object_get(o, key);
    if (!json_is_object(*out)) {
        return ccz_fail(CCZ_ERR_MALFORMED, "collateral: %s.%s: missing or not an object", where,
                        key);
    }
    return CCZ_OK;
}

static ccz_status read_status(const json_t *lvl, const char *where, const char *const *valid,
                              dcap_status_info *st)
{
    const char *s;
    CCZ_GUARD(need_str(lvl, "tcbStatus", where, &s));
    size_t k = 0;
    while (valid[k] && strcmp(valid[k], s) != 0)
        k++;
    if (!valid[k])
        return ccz_fail(CCZ_ERR_MALFORMED,
                        "collateral: %s.tcbStatus '%.48s' is not a status "
                        "this structure may carry",
                        where, s);
    strcpy(st->status, valid[k]);
    CCZ_GUARD(need_time(lvl, "tcbDate", where, &st->tcb_date));
    const json_t *adv = json_object_get(lvl, "advisoryIDs");
    if (!adv)
        return CCZ_OK;
    if (!json_is_array(adv) || json_array_size(adv) > DCAP_MAX_ADVISORIES)
        return bad(where, "advisoryIDs is not a list of at most 64 IDs");
    st->n_advisories = json_array_size(adv);
    st->advisories = calloc(st->n_advisories ? st->n_advisories : 1, sizeof *st->advisories);
    CCZ_ENSURE(st->advisories, CCZ_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < st->n_advisories; i++) {
        const char *id = json_string_value(json_array_get(adv, i));
        if (!id || !id[0] || strlen(id) >= CCZ_ADVISORY_LEN)
            return bad(where, "advisory ID is not a short string");
        strcpy(st->advisories[i], id);
    }
    return CCZ_OK;
}

static int cmp_isv_desc(const void *pa, const void *pb)
{
    const dcap_isv_level *a = pa, *b = pb;
    return a->isvsvn == b->isvsvn ? 0 : a->isvsvn < b->isvsvn ? 1 : -1;
}

/* QE identity levels stay in document order (the QE takes the first it meets); TDX module
 * levels are a set ordered by ISVSVN, highest first, each ISVSVN once. */
static ccz_status read_isv_levels(const json_t *arr, const char *where, const char *const *valid,
                                  bool as_set, dcap_isv_level **out, size_t *n)
{
    if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > MAX_LEVELS)
        return bad(where, "tcbLevels is not a non-empty list of at most 256 levels");
    *n = json_array_size(arr);
    *out = calloc(*n, sizeof **out);
    CCZ_ENSURE(*out, CCZ_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < *n; i++) {
        const json_t *lvl = json_array_get(arr, i), *tcb;
        char w[96];
        snprintf(w, sizeof w, "%s.tcbLevels[%zu]", where, i);
        if (!json_is_object(lvl))
            return bad(w, "not an object");
        long long svn = 0;
        CCZ_GUARD(need_object(lvl, "tcb", w, &tcb));
        CCZ_GUARD(need_int(tcb, "isvsvn", w, 65535, &svn));
        (*out)[i].isvsvn = (uint16_t)svn;
        CCZ_GUARD(read_status(lvl, w, valid, &(*out)[i].st));
    }
    if (!as_set)
        return CCZ_OK;
    qsort(*out, *n, sizeof **out, cmp_isv_desc);
    for (size_t i = 1; i < *n; i++)
        if ((*out)[i].isvsvn == (*out)[i - 1].isvsvn)
            return ccz_fail(CCZ_ERR_MALFORMED, "collateral: %s: two TCB levels for ISVSVN %u",
                            where, (*out)[i].isvsvn);
    return CCZ_OK;
}

/* ---- TCB info --------------------------------------------------------------------------------*/

static ccz_status read_components(const json_t *tcb, const char *key, const char *where,
                                  uint8_t out[16])
{
    const json_t *arr = json_object_get(tcb, key);
    char w[96];
    snprintf(w, sizeof w, "%s.tcb.%s", where, key);
    if (!json_is_array(arr) || json_array_size(arr) != 16)
        return bad(w, "missing or not a list of 16 components");
    for (size_t i = 0; i < 16; i++) {
        const json_t *c = json_array_get(arr, i), *v;
        long long svn = 0;
        if (!json_is_object(c))
            return bad(w, "a component is not an object");
        CCZ_GUARD(need_int(c, "svn", w, 255, &svn));
        if (((v = json_object_get(c, "category")) && !json_is_string(v)) ||
            ((v = json_object_get(c, "type")) && !json_is_string(v)))
            return bad(w, "a component's category or type is not a string");
        out[i] = (uint8_t)svn;
    }
    return CCZ_OK;
}

static ccz_status read_tcb_level(const json_t *lvl, int version, bool tdx, const char *where,
                                 dcap_tcb_level *out)
{
    const json_t *tcb;
    if (!json_is_object(lvl))
        return bad(where, "not an object");
    CCZ_GUARD(need_object(lvl, "tcb", where, &tcb));
    long long v = 0;
    if (version == 2) { /* "sgxtcbcomp01svn" .. "sgxtcbcomp16svn" */
        for (int i = 0; i < 16; i++) {
            char key[24];
            snprintf(key, sizeof key, "sgxtcbcomp%02dsvn", i + 1);
            CCZ_GUARD(need_int(tcb, key, where, 255, &v));
            out->sgx[i] = (uint8_t)v;
        }
    } else {
        CCZ_GUARD(read_components(tcb, "sgxtcbcomponents", where, out->sgx));
        if (tdx) {
            CCZ_GUARD(read_components(tcb, "tdxtcbcomponents", where, out->tdx));
            out->has_tdx = true;
        }
    }
    CCZ_GUARD(need_int(tcb, "pcesvn", where, 65535, &v));
    out->pcesvn = (uint16_t)v;
    return read_status(lvl, where, TCB_STATUSES, &out->st);
}

static ccz_status read_module(const json_t *m, const char *where, uint8_t mrsigner[48],
                              uint8_t attributes[8], uint8_t mask[8])
{
    if (!json_is_object(m))
        return bad(where, "not an object");
    CCZ_GUARD(need_hex(m, "mrsigner", where, mrsigner, 48));
    CCZ_GUARD(need_hex(m, "attributes", where, attributes, 8));
    return need_hex(m, "attributesMask", where, mask, 8);
}

static ccz_status read_module_identities(const json_t *arr, dcap_tcb_info *t)
{
    if (!arr)
        return CCZ_OK;
    if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > 64)
        return bad("tcbInfo.tdxModuleIdentities", "not a non-empty list of at most 64 identities");
    t->n_modules = json_array_size(arr);
    t->modules = calloc(t->n_modules, sizeof *t->modules);
    CCZ_ENSURE(t->modules, CCZ_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < t->n_modules; i++) {
        const json_t *m = json_array_get(arr, i);
        dcap_module_identity *d = &t->modules[i];
        char w[64];
        snprintf(w, sizeof w, "tcbInfo.tdxModuleIdentities[%zu]", i);
        CCZ_GUARD(read_module(m, w, d->mrsigner, d->attributes, d->attributes_mask));
        const char *id;
        CCZ_GUARD(need_str(m, "id", w, &id));
        if (strlen(id) >= sizeof d->id)
            return bad(w, "id too long");
        strcpy(d->id, id);
        CCZ_GUARD(read_isv_levels(json_object_get(m, "tcbLevels"), w, MODULE_STATUSES, true,
                                  &d->levels, &d->n_levels));
    }
    return CCZ_OK;
}

static int cmp_level_desc(const void *pa, const void *pb)
{
    const dcap_tcb_level *a = pa, *b = pb;
    int c = memcmp(b->sgx, a->sgx, 16);
    if (c)
        return c;
    if (a->pcesvn != b->pcesvn)
        return a->pcesvn < b->pcesvn ? 1 : -1;
    return memcmp(b->tdx, a->tdx, 16);
}

/* What decides whether ccz reads this TCB info at all: version, id and TCB type. */
static ccz_status tcb_info_kind(dcap_tcb_info *t, const json_t *o)
{
    const char *w = "tcbInfo", *id = get_str(o, "id"), *fmspc = get_str(o, "fmspc");
    long long v = 0;
    /* best effort first, so that collateral ccz cannot use still names its TEE and FMSPC */
    t->tdx = id && strcmp(id, "TDX") == 0;
    if (fmspc && ccz_hex_decode_fixed(t->fmspc, 6, fmspc, strlen(fmspc)) != CCZ_OK)
        memset(t->fmspc, 0, 6);
    CCZ_GUARD(need_int(o, "version", w, INT32_MAX, &v));
    t->version = (int)v;
    if (t->version != 2 && t->version != 3)
        return ccz_fail(CCZ_ERR_COLLATERAL_UNSUPPORTED,
                        "collateral: tcbInfo version %d is not "
                        "supported (2 and 3 are)",
                        t->version);
    if (t->version == 2) {
        /* version 2 predates TDX: no id, no module, components as sgxtcbcompNNsvn */
        bool v3_fields = json_object_get(o, "id") || json_object_get(o, "tdxModule") ||
                         json_object_get(o, "tdxModuleIdentities");
        const json_t *levels = json_object_get(o, "tcbLevels");
        for (size_t i = 0; i < json_array_size(levels); i++) {
            const json_t *tcb = json_object_get(json_array_get(levels, i), "tcb");
            v3_fields |= json_object_get(tcb, "sgxtcbcomponents") != NULL ||
                         json_object_get(tcb, "tdxtcbcomponents") != NULL;
        }
        if (v3_fields)
            return unsupported(w, "labelled version 2 but has version 3 fields");
        t->tdx = false;
    } else {
        CCZ_GUARD(need_str(o, "id", w, &id));
        if (strcmp(id, "SGX") && strcmp(id, "TDX"))
            return ccz_fail(CCZ_ERR_COLLATERAL_UNSUPPORTED,
                            "collateral: tcbInfo.id '%.16s' is "
                            "not SGX or TDX",
                            id);
        t->tdx = strcmp(id, "TDX") == 0;
    }
    CCZ_GUARD(need_int(o, "tcbType", w, INT32_MAX, &v));
    t->tcb_type = (int)v;
    if (t->tcb_type != 0)
        return ccz_fail(CCZ_ERR_COLLATERAL_UNSUPPORTED,
                        "collateral: tcbInfo.tcbType %d is not "
                        "supported (0 is)",
                        t->tcb_type);
    return CCZ_OK;
}

static ccz_status parse_tcb_info(dcap_tcb_info *t, const json_t *o)
{
    const char *w = "tcbInfo";
    long long v = 0;
    CCZ_GUARD(tcb_info_kind(t, o));
    CCZ_GUARD(need_time(o, "issueDate", w, &t->issue_date));
    CCZ_GUARD(need_time(o, "nextUpdate", w, &t->next_update));
    CCZ_GUARD(need_hex(o, "fmspc", w, t->fmspc, 6));
    CCZ_GUARD(need_hex(o, "pceId", w, t->pce_id, 2));
    CCZ_GUARD(need_int(o, "tcbEvaluationDataNumber", w, INT32_MAX, &v));
    t->eval_number = (int)v;
    const json_t *mod = json_object_get(o, "tdxModule");
    const json_t *ids = json_object_get(o, "tdxModuleIdentities");
    if (!t->tdx && (mod || ids))
        return bad(w, "an SGX TCB info has tdxModule or tdxModuleIdentities");
    if (t->tdx) {
        if (!mod)
            return bad(w, "a TDX TCB info has no tdxModule");
        t->has_module = true;
        CCZ_GUARD(read_module(mod, "tcbInfo.tdxModule", t->module_mrsigner, t->module_attributes,
                              t->module_attributes_mask));
        CCZ_GUARD(read_module_identities(ids, t));
    }
    const json_t *levels = json_object_get(o, "tcbLevels");
    if (!json_is_array(levels) || json_array_size(levels) == 0 ||
        json_array_size(levels) > MAX_LEVELS)
        return bad(w, "tcbLevels is not a non-empty list of at most 256 levels");
    t->n_levels = json_array_size(levels);
    t->levels = calloc(t->n_levels, sizeof *t->levels);
    CCZ_ENSURE(t->levels, CCZ_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < t->n_levels; i++) {
        char lw[48];
        snprintf(lw, sizeof lw, "tcbInfo.tcbLevels[%zu]", i);
        CCZ_GUARD(read_tcb_level(json_array_get(levels, i), t->version, t->tdx, lw, &t->levels[i]));
    }
    /* Matching takes the first level the platform meets, highest first, as Intel's QVL orders
     * them: by SGX components, then PCE SVN, then TDX components, descending. Intel keeps the
     * levels in a set under that order, so two equal levels make the TCB info invalid. */
    qsort(t->levels, t->n_levels, sizeof *t->levels, cmp_level_desc);
    for (size_t i = 1; i < t->n_levels; i++)
        if (cmp_level_desc(&t->levels[i - 1], &t->levels[i]) == 0)
            return bad(w, "two TCB levels have the same SVNs and PCE SVN");
    return CCZ_OK;
}

/* ---- QE identity -----------------------------------------------------------------------------*/

static ccz_status parse_qe_identity(dcap_qe_identity *q, const json_t *o)
{
    const char *w = "qeIdentity", *id;
    long long v = 0;
    uint8_t b4[4];
    CCZ_GUARD(need_int(o, "version", w, INT32_MAX, &v));
    q->version = (int)v;
    if (q->version != 2)
        return ccz_fail(CCZ_ERR_COLLATERAL_UNSUPPORTED,
                        "collateral: qeIdentity version %d is not "
                        "supported (2 is)",
                        q->version);
    CCZ_GUARD(need_str(o, "id", w, &id));
    if (strcmp(id, "QE") && strcmp(id, "TD_QE"))
        return ccz_fail(CCZ_ERR_COLLATERAL_UNSUPPORTED,
                        "collateral: qeIdentity.id '%.16s' is "
                        "not QE or TD_QE",
                        id);
    q->td_qe = strcmp(id, "TD_QE") == 0;
    CCZ_GUARD(need_time(o, "issueDate", w, &q->issue_date));
    CCZ_GUARD(need_time(o, "nextUpdate", w, &q->next_update));
    CCZ_GUARD(need_int(o, "tcbEvaluationDataNumber", w, INT32_MAX, &v));
    q->eval_number = (int)v;
    CCZ_GUARD(need_hex(o, "miscselect", w, b4, 4));
    q->miscselect = (uint32_t)b4[0] << 24 | (uint32_t)b4[1] << 16 | (uint32_t)b4[2] << 8 | b4[3];
    CCZ_GUARD(need_hex(o, "miscselectMask", w, b4, 4));
    q->miscselect_mask =
        (uint32_t)b4[0] << 24 | (uint32_t)b4[1] << 16 | (uint32_t)b4[2] << 8 | b4[3];
    CCZ_GUARD(need_hex(o, "attributes", w, q->attributes, 16));
    CCZ_GUARD(need_hex(o, "attributesMask", w, q->attributes_mask, 16));
    CCZ_GUARD(need_hex(o, "mrsigner", w, q->mrsigner, 32));
    CCZ_GUARD(need_int(o, "isvprodid", w, 65535, &v));
    q->isvprodid = (uint16_t)v;
    return read_isv_levels(json_object_get(o, "tcbLevels"), w, QE_STATUSES, false, &q->levels,
                           &q->n_levels);
}

/* ---- certificates, CRLs, signatures ----------------------------------------------------------*/

static ccz_status read_chain(STACK_OF(X509) **out, const json_t *root, const char *key)
{
    const char *pem;
    CCZ_GUARD(need_str(root, key, "collateral", &pem));
    ccz_status s = x509_read_pem_certs(out, CCZ_SPAN(pem, strlen(pem)), MAX_CHAIN);
    if (s == CCZ_ERR_NOMEM)
        return s;
    if (s)
        return ccz_fail_context(CCZ_ERR_MALFORMED, "collateral: %s", key);
    return CCZ_OK;
}

static ccz_status read_crl(X509_CRL **out, const json_t *root, const char *key)
{
    const char *text;
    CCZ_GUARD(need_str(root, key, "collateral", &text));
    size_t n = strlen(text);
    if (CCZ_STARTS_WITH(text, "-----BEGIN")) {
        BIO *bio = BIO_new_mem_buf(text, (int)n);
        *out = bio ? PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL) : NULL;
        BIO_free(bio);
    } else {
        ccz_buf der = CCZ_BUF_INIT;
        ccz_status s = ccz_hex_decode(&der, text, n);
        if (s) {
            ccz_buf_free(&der);
            return s == CCZ_ERR_NOMEM ? s : bad(key, "neither PEM nor hex DER");
        }
        const unsigned char *p = der.ptr;
        *out = d2i_X509_CRL(NULL, &p, (long)der.len);
        if (*out && p != der.ptr + der.len) {
            X509_CRL_free(*out);
            *out = NULL;
        }
        ccz_buf_free(&der);
    }
    if (!*out)
        return ccz_fail_ossl(CCZ_ERR_MALFORMED, "collateral: %s is not a CRL", key);
    return CCZ_OK;
}

/* Copies a signed JSON body (kept byte for byte: the signature covers exactly these bytes),
 * its signature, and parses it. A body that is a JSON object but not one ccz reads (an id or
 * version it does not support, a malformed ladder) still makes a collateral object: the
 * verifier fails it at its collateral step with the reason kept here, as Intel's QVL does. */
static ccz_status read_signed(ccz_collateral *c, const json_t *root, bool tcb)
{
    const char *key = tcb ? "tcb_info" : "qe_identity";
    const char *sig_key = tcb ? "tcb_info_signature" : "qe_identity_signature";
    const char *text;
    CCZ_GUARD(need_str(root, key, "collateral", &text));
    size_t n = strlen(text);
    char *copy = malloc(n + 1);
    CCZ_ENSURE(copy, CCZ_ERR_NOMEM, "out of memory");
    memcpy(copy, text, n + 1);
    if (tcb)
        c->tcb_info_text = copy, c->tcb_info_len = n;
    else
        c->qe_identity_text = copy, c->qe_identity_len = n;
    CCZ_GUARD(
        need_hex(root, sig_key, "collateral", tcb ? c->tcb_info_sig : c->qe_identity_sig, 64));
    json_t *body;
    if (ccz_json_parse(&body, text, n, COLLATERAL_MAX))
        return ccz_fail_context(CCZ_ERR_MALFORMED, "collateral: %s", key);
    if (!json_is_object(body)) {
        json_decref(body);
        return bad(key, "not a JSON object");
    }
    ccz_status s = tcb ? parse_tcb_info(&c->tcb, body) : parse_qe_identity(&c->qe, body);
    json_decref(body);
    if (s == CCZ_ERR_NOMEM)
        return s;
    if (s && !c->unusable) {
        c->unusable = s;
        snprintf(c->unusable_detail, sizeof c->unusable_detail, "%s", ccz_error_detail());
    }
    ccz_error_clear();
    return CCZ_OK;
}

/* ---- the parse cache -------------------------------------------------------------------------
 * A verifier is handed the same collateral document again and again (one per platform, renewed
 * daily); parsing it (JSON, hex, DER) costs as much as verifying a quote. What a parse yields is
 * kept by the document's exact bytes and copied into each new object. Only the parse: a copy
 * has none of the verification state (checked_*, crl_signer, the PCK, QE report and
 * attestation key caches), so every check is made again for it. */

#define PARSE_CACHE 4

static struct {
    pthread_mutex_t lock;
    struct {
        char *text;
        size_t len;
        ccz_collateral *parsed; /* never verified: a template */
        uint64_t used;
    } e[PARSE_CACHE];
    uint64_t clock;
} parsed = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void *dup_mem(const void *src, size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p)
        memcpy(p, src, n);
    return p;
}

/* dst's advisories: a copy of src's (NULL when src has none). */
static bool dup_advisories(dcap_status_info *dst, const dcap_status_info *src)
{
    size_t n = (src->n_advisories ? src->n_advisories : 1) * sizeof *src->advisories;
    dst->advisories = NULL;
    return !src->advisories || (dst->advisories = dup_mem(src->advisories, n)) != NULL;
}

/* A copy of n levels (NULL when src is NULL); each level's advisories stay NULL until copied,
 * so that a partial copy frees only its own. */
static bool dup_isv_levels(dcap_isv_level **dst, const dcap_isv_level *src, size_t n)
{
    *dst = NULL;
    if (!src)
        return true;
    if ((*dst = dup_mem(src, n * sizeof *src)) == NULL)
        return false;
    for (size_t i = 0; i < n; i++)
        (*dst)[i].st.advisories = NULL;
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++)
        ok = dup_advisories(&(*dst)[i].st, &src[i].st);
    return ok;
}

/* A new object with a copy of what t parsed and nothing verified. */
static ccz_collateral *clone_parsed(const ccz_collateral *t)
{
    ccz_collateral *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->kind = t->kind;
    c->tcb_info_len = t->tcb_info_len;
    c->qe_identity_len = t->qe_identity_len;
    memcpy(c->tcb_info_sig, t->tcb_info_sig, 64);
    memcpy(c->qe_identity_sig, t->qe_identity_sig, 64);
    c->tcb = t->tcb;
    c->qe = t->qe;
    c->unusable = t->unusable;
    memcpy(c->unusable_detail, t->unusable_detail, sizeof c->unusable_detail);
    pthread_mutex_init(&c->lock, NULL);
    /* every pointer c holds is its own from here on: ccz_collateral_free undoes a partial copy */
    c->tcb.levels = NULL, c->tcb.modules = NULL, c->qe.levels = NULL;
    bool ok =
        (!t->tcb_info_text ||
         (c->tcb_info_text = dup_mem(t->tcb_info_text, t->tcb_info_len + 1)) != NULL) &&
        (!t->qe_identity_text ||
         (c->qe_identity_text = dup_mem(t->qe_identity_text, t->qe_identity_len + 1)) != NULL);
    ok = ok && (!t->tcb_chain || (c->tcb_chain = X509_chain_up_ref(t->tcb_chain)) != NULL);
    ok = ok && (!t->qe_chain || (c->qe_chain = X509_chain_up_ref(t->qe_chain)) != NULL);
    ok = ok &&
         (!t->pck_crl_chain || (c->pck_crl_chain = X509_chain_up_ref(t->pck_crl_chain)) != NULL);
    if (ok && t->root_crl && X509_CRL_up_ref(t->root_crl))
        c->root_crl = t->root_crl;
    if (ok && t->pck_crl && X509_CRL_up_ref(t->pck_crl))
        c->pck_crl = t->pck_crl;
    ok = ok && (c->root_crl != NULL) == (t->root_crl != NULL) &&
         (c->pck_crl != NULL) == (t->pck_crl != NULL);
    if (ok && t->tcb.levels) {
        ok = (c->tcb.levels = dup_mem(t->tcb.levels, t->tcb.n_levels * sizeof *t->tcb.levels)) !=
             NULL;
        for (size_t i = 0; ok && i < t->tcb.n_levels; i++)
            c->tcb.levels[i].st.advisories = NULL;
        for (size_t i = 0; ok && i < t->tcb.n_levels; i++)
            ok = dup_advisories(&c->tcb.levels[i].st, &t->tcb.levels[i].st);
    }
    if (ok && t->tcb.modules) {
        ok = (c->tcb.modules =
                  dup_mem(t->tcb.modules, t->tcb.n_modules * sizeof *t->tcb.modules)) != NULL;
        for (size_t i = 0; ok && i < t->tcb.n_modules; i++)
            c->tcb.modules[i].levels = NULL;
        for (size_t i = 0; ok && i < t->tcb.n_modules; i++)
            ok = dup_isv_levels(&c->tcb.modules[i].levels, t->tcb.modules[i].levels,
                                t->tcb.modules[i].n_levels);
    }
    if (ok && t->qe.levels)
        ok = dup_isv_levels(&c->qe.levels, t->qe.levels, t->qe.n_levels);
    if (!ok) {
        ccz_collateral_free(c);
        return NULL;
    }
    return c;
}

/* A copy of the parse of exactly these bytes, or NULL. */
static ccz_collateral *parsed_get(const char *text, size_t len)
{
    ccz_collateral *c = NULL;
    pthread_mutex_lock(&parsed.lock);
    for (int i = 0; i < PARSE_CACHE; i++) {
        if (parsed.e[i].parsed && parsed.e[i].len == len &&
            memcmp(parsed.e[i].text, text, len) == 0) {
            parsed.e[i].used = ++parsed.clock;
            c = clone_parsed(parsed.e[i].parsed);
            break;
        }
    }
    pthread_mutex_unlock(&parsed.lock);
    return c;
}

/* Remembers a copy of c (just parsed from text, not yet verified), least recently used out. */
static void parsed_put(const char *text, size_t len, const ccz_collateral *c)
{
    char *copy = NULL;
    ccz_collateral *t = clone_parsed(c);
    if (!t || (copy = dup_mem(text, len)) == NULL) {
        ccz_collateral_free(t);
        return;
    }
    pthread_mutex_lock(&parsed.lock);
    int k = 0;
    for (int i = 1; i < PARSE_CACHE; i++)
        if (parsed.e[i].used < parsed.e[k].used)
            k = i;
    char *old_text = parsed.e[k].text;
    ccz_collateral *old = parsed.e[k].parsed;
    parsed.e[k].text = copy;
    parsed.e[k].len = len;
    parsed.e[k].parsed = t;
    parsed.e[k].used = ++parsed.clock;
    pthread_mutex_unlock(&parsed.lock);
    free(old_text);
    ccz_collateral_free(old);
}

ccz_status ccz_collateral_parse(ccz_collateral **out, const char *text, size_t len)
{
    *out = NULL;
    if (len <= COLLATERAL_MAX && (*out = parsed_get(text, len)) != NULL)
        return CCZ_OK;
    json_t *root;
    if (ccz_json_parse(&root, text, len, COLLATERAL_MAX))
        return ccz_fail_context(CCZ_ERR_MALFORMED, "collateral");
    ccz_collateral *c = calloc(1, sizeof *c);
    if (!c) {
        json_decref(root);
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    }
    pthread_mutex_init(&c->lock, NULL);
    c->kind = COLLATERAL_DCAP;
    ccz_status s;
    if (!json_is_object(root)) {
        s = bad("document", "not a JSON object");
        goto out;
    }
    CCZ_GUARD_GOTO(read_chain(&c->pck_crl_chain, root, "pck_crl_issuer_chain"), s, out);
    CCZ_GUARD_GOTO(read_crl(&c->root_crl, root, "root_ca_crl"), s, out);
    CCZ_GUARD_GOTO(read_crl(&c->pck_crl, root, "pck_crl"), s, out);
    CCZ_GUARD_GOTO(read_chain(&c->tcb_chain, root, "tcb_info_issuer_chain"), s, out);
    CCZ_GUARD_GOTO(read_chain(&c->qe_chain, root, "qe_identity_issuer_chain"), s, out);
    CCZ_GUARD_GOTO(read_signed(c, root, true), s, out);
    CCZ_GUARD_GOTO(read_signed(c, root, false), s, out);
out:
    json_decref(root);
    if (s) {
        ccz_collateral_free(c);
        return s;
    }
    parsed_put(text, len, c);
    *out = c;
    return CCZ_OK;
}

ccz_status ccz_collateral_load_file(ccz_collateral **out, const char *path)
{
    *out = NULL;
    ccz_buf b = CCZ_BUF_INIT;
    ccz_status s = ccz_file_read(&b, path, COLLATERAL_MAX);
    if (s == CCZ_OK)
        s = ccz_collateral_parse(out, (const char *)b.ptr, b.len);
    ccz_buf_free(&b);
    if (s)
        return ccz_fail_context(s, "%s", path);
    return CCZ_OK;
}

static void free_status(dcap_status_info *st)
{
    free(st->advisories);
}

static void free_isv_levels(dcap_isv_level *l, size_t n)
{
    for (size_t i = 0; l && i < n; i++)
        free_status(&l[i].st);
    free(l);
}

void ccz_collateral_free(ccz_collateral *c)
{
    if (!c)
        return;
    free(c->tcb_info_text);
    free(c->qe_identity_text);
    sk_X509_pop_free(c->tcb_chain, X509_free);
    sk_X509_pop_free(c->qe_chain, X509_free);
    sk_X509_pop_free(c->pck_crl_chain, X509_free);
    X509_CRL_free(c->root_crl);
    X509_CRL_free(c->pck_crl);
    for (size_t i = 0; c->tcb.levels && i < c->tcb.n_levels; i++)
        free_status(&c->tcb.levels[i].st);
    free(c->tcb.levels);
    for (size_t i = 0; c->tcb.modules && i < c->tcb.n_modules; i++)
        free_isv_levels(c->tcb.modules[i].levels, c->tcb.modules[i].n_levels);
    free(c->tcb.modules);
    free_isv_levels(c->qe.levels, c->qe.n_levels);
    for (int i = 0; i < DCAP_PCK_CACHE; i++) {
        EVP_PKEY_free(c->pck[i].pck_key);
        free(c->pck[i].chain);
    }
    X509_free(c->crl_signer);
    for (int i = 0; i < DCAP_AK_CACHE; i++)
        EVP_PKEY_CTX_free(c->ak[i].verifier);
    X509_free(c->snp.vek);
    sk_X509_pop_free(c->snp.chain, X509_free);
    EVP_PKEY_free(c->snp.vek_key);
    for (int i = 0; c->csv && i < CSV_PEK_CACHE; i++)
        EVP_PKEY_free(c->csv->pek_key[i]);
    free(c->csv);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

void ccz_collateral_fmspc(uint8_t fmspc[6], const ccz_collateral *c)
{
    memcpy(fmspc, c->tcb.fmspc, 6);
}

const char *ccz_collateral_tee(const ccz_collateral *c)
{
    if (c->kind == COLLATERAL_SNP)
        return "SNP";
    if (c->kind == COLLATERAL_CSV)
        return "CSV";
    return c->tcb.tdx ? "TDX" : "SGX";
}

ccz_status ccz_collateral_problem(const ccz_collateral *c)
{
    if (c->kind == COLLATERAL_SNP || c->kind == COLLATERAL_CSV || !c->unusable)
        return CCZ_OK;
    return ccz_fail(c->unusable, "%s", c->unusable_detail);
}

int64_t ccz_collateral_expiry(const ccz_collateral *c)
{
    if (c->kind == COLLATERAL_SNP)
        return x509_time_unix(X509_get0_notAfter(c->snp.vek), 0);
    if (c->kind == COLLATERAL_CSV) /* Hygon's certificates carry no validity */
        return INT64_MAX;
    if (c->unusable) /* its dates may not even have been read: fetch it again */
        return 0;
    int64_t e = c->tcb.next_update < c->qe.next_update ? c->tcb.next_update : c->qe.next_update;
    X509_CRL *crls[2] = {c->root_crl, c->pck_crl};
    for (int i = 0; i < 2; i++) {
        int64_t next = x509_time_unix(X509_CRL_get0_nextUpdate(crls[i]), INT64_MAX);
        if (next < e)
            e = next;
    }
    return e;
}
