/* SPDX-License-Identifier: Apache-2.0 */
/* The DCAP quote verifier (SGX and TDX), after Intel's Quote Verification Library: collateral
 * signatures and chains, the PCK chain with CRLs, the QE report and its binding to the
 * attestation key, the QE identity, the quote signature, TCB level matching (platform, TDX
 * module, QE) and status convergence. Quotes and collateral are untrusted; trust anchors and
 * the instant come from the caller. What has been verified against a collateral object is
 * cached in it until its validity window ends: its own signatures and chains, PCK chains and QE
 * report signatures (each by exact bytes), so a repeat quote from a known platform costs one
 * signature check, the quote's own, plus hashing; every other check runs on every quote, and
 * no quote's verdict is cached. */
#include <ctype.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "core/guard.h"
#include "tee/dcap/dcap_internal.h"
#include "tee/internal.h"

static const uint8_t INTEL_QE_VENDOR[16] = {0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
                                            0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};

/* ---- certificate chains ----------------------------------------------------------------------*/

/* Verifies leaf to a trusted Intel root at `at` and narrows w to where the chain and the CRLs
 * are valid. The leaf is checked against the CRLs by OpenSSL, the CAs between it and the root
 * against ca_crl, whose signature is not verified again when its issuer is ca_crl_signer (the
 * root that verified it in the collateral's own checks); the root, trusted, against none. Sets
 * *root (when not NULL) to a new reference to the root. */
static ccz_status verify_chain(X509 *leaf, STACK_OF(X509) *untrusted, X509_CRL *const *crls,
                               int n_crls, X509_CRL *ca_crl, X509 *ca_crl_signer,
                               const ccz_trust *t, int64_t at, bool collateral, const char *what,
                               x509_window *w, X509 **root)
{
    CCZ_ENSURE(sk_X509_num(t->intel_roots) > 0, CCZ_ERR_CERT_CHAIN, "%s: no Intel root is trusted",
               what);
    const x509_chain_check check = {
        .what = what,
        .store = t->intel_store,
        .untrusted = untrusted,
        .crls = crls,
        .n_crls = n_crls,
        .at = at,
        .collateral = collateral,
        .name_cert = true,
        .crl_leaf_only = true,
        .ca_crls = &ca_crl,
        .n_ca_crls = 1,
        .ca_crls_signer = ca_crl_signer,
    };
    return x509_verify_chain(&check, leaf, w, root, NULL);
}

static bool same_chain(STACK_OF(X509) *a, STACK_OF(X509) *b)
{
    if (sk_X509_num(a) != sk_X509_num(b))
        return false;
    for (int i = 0; i < sk_X509_num(a); i++)
        if (X509_cmp(sk_X509_value(a, i), sk_X509_value(b, i)) != 0)
            return false;
    return true;
}

/* ---- collateral: TCB info and QE identity ----------------------------------------------------*/

/* One signed JSON document: its chain with the root CRL (unless it is the chain just verified
 * for the other document: the same certificates, CRL and instant), its signature and dates.
 * Sets *root (when not NULL) to the root that verified the chain and the root CRL. */
static ccz_status check_signed_json(ccz_result *r, ccz_collateral *c, const ccz_trust *t,
                                    int64_t at, bool tcb, x509_window *w, X509 **root)
{
    ccz_step step = tcb ? CCZ_AT_TCB_INFO : CCZ_AT_QE_IDENTITY;
    const char *what = tcb ? "TCB info" : "QE identity";
    STACK_OF(X509) *chain = tcb ? c->tcb_chain : c->qe_chain;
    X509 *signer = sk_X509_value(chain, 0);
    if (tcb || !same_chain(c->tcb_chain, c->qe_chain)) {
        ccz_status s = verify_chain(signer, chain, &c->root_crl, 1, c->root_crl, NULL, t, at, true,
                                    what, w, root);
        if (s)
            return ccz_result_fail(r, step, s);
    }
    EVP_PKEY *key = X509_get0_pubkey(signer);
    ccz_span body = tcb ? CCZ_SPAN(c->tcb_info_text, c->tcb_info_len)
                        : CCZ_SPAN(c->qe_identity_text, c->qe_identity_len);
    if (!key || !x509_is_p256(key) ||
        x509_p256_verify(key, body, tcb ? c->tcb_info_sig : c->qe_identity_sig) != CCZ_OK) {
        return ccz_result_failf(r, step, CCZ_ERR_BAD_SIGNATURE,
                                "%s signature does not verify with its signing certificate", what);
    }
    int64_t issue = tcb ? c->tcb.issue_date : c->qe.issue_date;
    int64_t next = tcb ? c->tcb.next_update : c->qe.next_update;
    if (at < issue || at > next) {
        return ccz_result_failf(r, step, CCZ_ERR_COLLATERAL_OUT_OF_DATE,
                                "%s is valid from %lld to %lld, not at %lld", what,
                                (long long)issue, (long long)next, (long long)at);
    }
    x509_window_narrow(w, issue, next);
    return CCZ_OK;
}

/* Checks the collateral's own signatures and dates, unless a check with the same roots already
 * covers this instant. Called with c->lock held. */
static ccz_status check_collateral(ccz_result *r, ccz_collateral *c, const ccz_trust *t, int64_t at)
{
    if (c->checked_trust_id == t->id && at >= c->checked_from && at <= c->checked_until)
        return CCZ_OK;
    x509_window w = X509_WINDOW_ALWAYS;
    X509 *root = NULL;
    ccz_status s = check_signed_json(r, c, t, at, true, &w, &root);
    if (s == CCZ_OK)
        s = check_signed_json(r, c, t, at, false, &w, NULL);
    if (s) {
        X509_free(root);
        return s;
    }
    /* the TCB signing certificate's CRL, the root CRL, was verified with its issuer's key: the
     * root's when the root issued it */
    X509_free(c->crl_signer);
    c->crl_signer = NULL;
    if (X509_check_issued(root, sk_X509_value(c->tcb_chain, 0)) == X509_V_OK)
        c->crl_signer = root;
    else
        X509_free(root);
    c->checked_trust_id = t->id;
    c->checked_from = w.from;
    c->checked_until = w.until;
    return CCZ_OK;
}

/* ---- the PCK chain ---------------------------------------------------------------------------*/

static ccz_status pck_ext_of(ccz_pck_ext *ext, X509 *pck)
{
    ASN1_OCTET_STRING *v = x509_find_ext(pck, "1.2.840.113741.1.13.1");
    CCZ_ENSURE(v, CCZ_ERR_MALFORMED, "the PCK certificate has no SGX extension");
    return ccz_dcap_pck_ext_parse(
        ext, CCZ_SPAN(ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v)));
}

/* Verifies the quote's PCK chain (or finds it verified in the cache) and returns the PCK key
 * (a new reference), SGX extensions and the chain's cache key h (SHA-256 of its bytes). Called
 * with c->lock held. */
static ccz_status check_pck(ccz_result *r, ccz_collateral *c, const ccz_trust *t, int64_t at,
                            ccz_span chain_pem, EVP_PKEY **key, ccz_pck_ext *ext, uint8_t h[32])
{
    for (int i = 0; i < DCAP_PCK_CACHE; i++) {
        dcap_pck_cache *e = &c->pck[i];
        if (e->pck_key && e->trust_id == t->id && e->chain_len == chain_pem.len &&
            memcmp(e->chain, chain_pem.ptr, chain_pem.len) == 0 && at >= e->valid_from &&
            at <= e->valid_until) {
            EVP_PKEY_up_ref(e->pck_key);
            *key = e->pck_key;
            *ext = e->ext;
            memcpy(h, e->chain_hash, 32);
            return CCZ_OK;
        }
    }
    STACK_OF(X509) *chain = NULL;
    x509_window w = X509_WINDOW_ALWAYS;
    X509_CRL *crls[2] = {c->root_crl, c->pck_crl};
    uint8_t *copy = NULL;
    ccz_status s = tee_sha256(h, chain_pem);
    if (s)
        goto fail;
    if ((s = x509_read_pem_certs(&chain, chain_pem, 4)) != CCZ_OK) {
        ccz_fail_context(s, "the quote's PCK certificate chain");
        goto fail;
    }
    X509 *pck = sk_X509_value(chain, 0);
    CCZ_GUARD_GOTO(verify_chain(pck, chain, crls, 2, c->root_crl, c->crl_signer, t, at, false,
                                "PCK chain", &w, NULL),
                   s, fail);
    CCZ_GUARD_GOTO(pck_ext_of(ext, pck), s, fail);
    EVP_PKEY *k = X509_get0_pubkey(pck);
    if (!k || !x509_is_p256(k)) {
        s = ccz_fail(CCZ_ERR_KEY_MALFORMED, "the PCK certificate's key is not P-256");
        goto fail;
    }
    /* remembered when there is memory for it; verified either way */
    if ((copy = malloc(chain_pem.len ? chain_pem.len : 1)) != NULL) {
        memcpy(copy, chain_pem.ptr, chain_pem.len);
        dcap_pck_cache *e = &c->pck[c->pck_next++ % DCAP_PCK_CACHE];
        EVP_PKEY_free(e->pck_key);
        free(e->chain);
        EVP_PKEY_up_ref(k);
        e->pck_key = k;
        e->chain = copy;
        e->chain_len = chain_pem.len;
        memcpy(e->chain_hash, h, 32);
        e->ext = *ext;
        e->trust_id = t->id;
        e->valid_from = w.from;
        e->valid_until = w.until;
    }
    EVP_PKEY_up_ref(k);
    *key = k;
    sk_X509_pop_free(chain, X509_free);
    return CCZ_OK;
fail:
    sk_X509_pop_free(chain, X509_free);
    return ccz_result_fail(r, CCZ_AT_PCK_CHAIN, s);
}

/* ---- TCB levels and status convergence -------------------------------------------------------*/

static bool sgx_level_ok(const dcap_tcb_level *l, const ccz_pck_ext *x)
{
    for (int i = 0; i < 16; i++)
        if (x->cpusvn_components[i] < l->sgx[i])
            return false;
    return x->pcesvn >= l->pcesvn;
}

static bool tdx_level_ok(const dcap_tcb_level *l, const uint8_t svn[16])
{
    /* With a TDX module of major version > 0, bytes 0 and 1 (module SVN and version) are
     * judged by the module identity instead (Intel QVL). */
    for (int i = svn[1] > 0 ? 2 : 0; i < 16; i++)
        if (svn[i] < l->tdx[i])
            return false;
    return true;
}

static bool is(const char *status, const char *name)
{
    return strcmp(status, name) == 0;
}

/* Folds an out-of-date or revoked component (QE, TDX module) into the platform status. */
static const char *converge(const char *platform, const char *other)
{
    if (is(other, "Revoked"))
        return "Revoked";
    if (is(other, "UpToDate"))
        return platform;
    /* QVL treats every other component status as out of date */
    if (is(platform, "UpToDate") || is(platform, "SWHardeningNeeded"))
        return "OutOfDate";
    if (is(platform, "ConfigurationNeeded") || is(platform, "ConfigurationAndSWHardeningNeeded"))
        return "OutOfDateConfigurationNeeded";
    return platform;
}

static bool config_needed(const char *s)
{
    return is(s, "ConfigurationNeeded") || is(s, "ConfigurationAndSWHardeningNeeded") ||
           is(s, "OutOfDateConfigurationNeeded");
}

static const dcap_module_identity *find_module(const dcap_tcb_info *ti, uint8_t version)
{
    char id[16];
    snprintf(id, sizeof id, "TDX_%02X", version);
    for (size_t i = 0; i < ti->n_modules; i++)
        if (strcasecmp(ti->modules[i].id, id) == 0)
            return &ti->modules[i];
    return NULL;
}

/* The highest level (by isvsvn) at or below svn. */
static const dcap_isv_level *match_isv(const dcap_isv_level *l, size_t n, unsigned svn,
                                       bool sorted_by_svn)
{
    const dcap_isv_level *best = NULL;
    for (size_t i = 0; i < n; i++) {
        if (l[i].isvsvn > svn)
            continue;
        if (!sorted_by_svn)
            return &l[i]; /* QE identity: the first in document order */
        if (!best || l[i].isvsvn > best->isvsvn)
            best = &l[i];
    }
    return best;
}

static ccz_status add_advisories(ccz_claims *c, const dcap_status_info *st)
{
    for (size_t i = 0; st && i < st->n_advisories; i++) {
        bool dup = false;
        for (size_t j = 0; j < c->n_advisories; j++)
            dup |= strcmp(c->advisories[j], st->advisories[i]) == 0;
        if (dup)
            continue;
        CCZ_ENSURE(c->n_advisories < CCZ_MAX_ADVISORIES, CCZ_ERR_TOO_LARGE,
                   "more than %d advisories", CCZ_MAX_ADVISORIES);
        strcpy(c->advisories[c->n_advisories++], st->advisories[i]);
    }
    return CCZ_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* TDX: the module identity (QVL 4.1.2.4.11), checked before the QE and the TCB level as Intel
 * does: for a module of major version > 0 (quote v4 and later) the tdxModuleIdentities entry
 * TDX_<major>, else tdxModule; MRSIGNERSEAM equal, SEAMATTRIBUTES zero and equal. *m is the
 * identity whose TCB levels judge the module, NULL when the platform TCB level covers it. */
static ccz_status tdx_module_identity(ccz_result *r, const dcap_tcb_info *ti,
                                      const ccz_dcap_quote *q, const ccz_tdx_claims *td,
                                      const dcap_module_identity **m)
{
    const uint8_t *svn = td->tee_tcb_svn;
    const uint8_t *mrsigner = ti->module_mrsigner, *attrs = ti->module_attributes;
    *m = NULL;
    if (q->version > 3 && svn[1] > 0) {
        *m = find_module(ti, svn[1]);
        if (!*m) {
            return ccz_result_failf(r, CCZ_AT_TDX_MODULE, CCZ_ERR_TDX_MODULE_MISMATCH,
                                    "the TCB info has no identity TDX_%02X for the TDX module of "
                                    "major version %u",
                                    svn[1], svn[1]);
        }
        mrsigner = (*m)->mrsigner;
        attrs = (*m)->attributes;
    }
    static const uint8_t zero[8];
    if (memcmp(td->mr_signer_seam, mrsigner, 48) != 0 || memcmp(td->seam_attributes, zero, 8) ||
        memcmp(td->seam_attributes, attrs, 8) != 0) {
        return ccz_result_failf(r, CCZ_AT_TDX_MODULE, CCZ_ERR_TDX_MODULE_MISMATCH,
                                "MRSIGNERSEAM or SEAMATTRIBUTES differ from the TCB info's TDX "
                                "module identity");
    }
    return CCZ_OK;
}

/* QVL's TD relaunch check (TD report 1.5): an out-of-date TD whose platform has been updated
 * can be relaunched to pick the update up. tdx is the TDX level's status with the module's
 * folded in; *status becomes the relaunch status when it applies. A TEE_TCB_SVN2 naming a
 * module major version the TCB info does not describe fails, as in Intel's QVL. */
static ccz_status td_relaunch(ccz_result *r, const dcap_tcb_info *ti, const ccz_tdx_claims *td,
                              const char *sgx, const dcap_status_info *module,
                              const dcap_status_info *qe, const char **status)
{
    const char *tdx = *status;
    if (!td->td_report_15 || !qe || !is(qe->status, "UpToDate") || !module ||
        !is(module->status, "OutOfDate"))
        return CCZ_OK;
    if (!(is(sgx, "UpToDate") || is(sgx, "SWHardeningNeeded") || config_needed(sgx)) ||
        is(sgx, "OutOfDateConfigurationNeeded"))
        return CCZ_OK;
    if (!is(tdx, "OutOfDate") && !is(tdx, "OutOfDateConfigurationNeeded"))
        return CCZ_OK;
    const dcap_tcb_level *latest = &ti->levels[0];
    const uint8_t *svn2 = td->tee_tcb_svn2;
    unsigned need0 = latest->tdx[0];
    if (svn2[1] > 0) {
        const dcap_module_identity *m = find_module(ti, svn2[1]);
        if (!m) {
            return ccz_result_failf(r, CCZ_AT_TDX_MODULE, CCZ_ERR_TDX_MODULE_MISMATCH,
                                    "the TCB info has no identity TDX_%02X for TEE_TCB_SVN2's TDX "
                                    "module of major version %u",
                                    svn2[1], svn2[1]);
        }
        need0 = m->levels[0].isvsvn; /* levels are highest first */
    }
    if (svn2[0] < need0 || svn2[2] < latest->tdx[2])
        return CCZ_OK;
    *status = config_needed(sgx) || config_needed(tdx) ? "TDRelaunchAdvisedConfigurationNeeded"
                                                       : "TDRelaunchAdvised";
    return CCZ_OK;
}

/* The TCB level and the statuses it converges with, in QVL's order (checkTcbLevel): the SGX
 * level; for TDX the TDX level, the module's level, a Revoked result returned as it stands,
 * the relaunch check; then the QE's status. qe is NULL when no QE identity level matched: QVL
 * reports that (TCB not supported) only here, after everything before it has passed. */
static ccz_status tcb_status(ccz_result *r, const ccz_collateral *col, const ccz_pck_ext *x,
                             const dcap_module_identity *m, const dcap_status_info *qe,
                             unsigned qe_svn)
{
    const dcap_tcb_info *ti = &col->tcb;
    ccz_claims *c = &r->claims;
    const dcap_tcb_level *sgx = NULL, *tdx = NULL;
    for (size_t i = 0; i < ti->n_levels && !tdx; i++) {
        if (!sgx_level_ok(&ti->levels[i], x))
            continue;
        if (!sgx)
            sgx = &ti->levels[i];
        if (!ti->tdx || tdx_level_ok(&ti->levels[i], c->tdx.tee_tcb_svn))
            tdx = &ti->levels[i];
    }
    if (!sgx || !tdx) {
        return ccz_result_failf(r, CCZ_AT_TCB_LEVEL, CCZ_ERR_TCB_LEVEL_NOT_FOUND,
                                "no TCB level of FMSPC %02X%02X%02X%02X%02X%02X matches the "
                                "platform's %s",
                                x->fmspc[0], x->fmspc[1], x->fmspc[2], x->fmspc[3], x->fmspc[4],
                                x->fmspc[5],
                                sgx ? "TEE TCB SVN" : "CPU SVN components and PCE SVN");
    }
    const char *status = tdx->st.status;
    const dcap_status_info *module = NULL;
    if (m) {
        const dcap_isv_level *l = match_isv(m->levels, m->n_levels, c->tdx.tee_tcb_svn[0], true);
        if (!l) {
            return ccz_result_failf(r, CCZ_AT_TDX_MODULE, CCZ_ERR_TCB_LEVEL_NOT_FOUND,
                                    "no TCB level of %s matches TDX module SVN %u", m->id,
                                    c->tdx.tee_tcb_svn[0]);
        }
        module = &l->st;
        status = converge(status, module->status);
    }
    bool revoked_tdx = ti->tdx && is(status, "Revoked");
    if (ti->tdx && !revoked_tdx)
        CCZ_GUARD(td_relaunch(r, ti, &c->tdx, sgx->st.status, module, qe, &status));
    snprintf(c->dcap.platform_status, sizeof c->dcap.platform_status, "%s", status);
    if (!revoked_tdx) {
        if (!qe) {
            return ccz_result_failf(r, CCZ_AT_QE_IDENTITY, CCZ_ERR_TCB_LEVEL_NOT_FOUND,
                                    "no QE identity TCB level matches QE ISVSVN %u", qe_svn);
        }
        status = converge(status, qe->status);
    }
    if (qe)
        snprintf(c->dcap.qe_status, sizeof c->dcap.qe_status, "%s", qe->status);
    snprintf(c->tcb_status, sizeof c->tcb_status, "%s", status);
    ccz_status s;
    if ((s = add_advisories(c, &tdx->st)) || (s = add_advisories(c, module)) ||
        (s = add_advisories(c, qe)))
        return ccz_result_fail(r, CCZ_AT_TCB_LEVEL, s);
    qsort(c->advisories, c->n_advisories, sizeof c->advisories[0], cmp_str);
    return CCZ_OK;
}

/* ---- QE --------------------------------------------------------------------------------------*/

/* The key under which a verified QE report signature is remembered: the PCK chain (by its
 * cache key), the exact report and the exact signature. */
static ccz_status qe_sig_key(uint8_t key[32], const uint8_t pck_id[32], const ccz_dcap_quote *q)
{
    static const char domain[] = "ccz dcap QE report signature v1";
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && EVP_DigestInit_ex(md, x509_sha256(), NULL) &&
             EVP_DigestUpdate(md, domain, sizeof domain) && EVP_DigestUpdate(md, pck_id, 32) &&
             EVP_DigestUpdate(md, q->qe_report.ptr, q->qe_report.len) &&
             EVP_DigestUpdate(md, q->qe_report_signature, 64) && EVP_DigestFinal_ex(md, key, NULL);
    EVP_MD_CTX_free(md);
    return ok ? CCZ_OK : ccz_fail_ossl(CCZ_ERR_CRYPTO, "SHA-256 failed");
}

/* The QE report signature by the PCK key, or its key found among those already verified
 * against this collateral. Called with col->lock held. */
static ccz_status check_qe_signature(ccz_result *r, ccz_collateral *col, const ccz_dcap_quote *q,
                                     EVP_PKEY *pck, const uint8_t pck_id[32])
{
    uint8_t key[32];
    ccz_status s = qe_sig_key(key, pck_id, q);
    if (s)
        return ccz_result_fail(r, CCZ_AT_QE_REPORT_SIGNATURE, s);
    for (unsigned i = 0; i < col->qe_sig_n; i++)
        if (memcmp(col->qe_sig[i], key, 32) == 0)
            return CCZ_OK;
    if (x509_p256_verify(pck, q->qe_report, q->qe_report_signature) != CCZ_OK) {
        return ccz_result_failf(r, CCZ_AT_QE_REPORT_SIGNATURE, CCZ_ERR_BAD_SIGNATURE,
                                "the QE report signature does not verify with the PCK "
                                "certificate's key");
    }
    memcpy(col->qe_sig[col->qe_sig_next], key, 32);
    col->qe_sig_next = (col->qe_sig_next + 1) % DCAP_QE_SIG_CACHE;
    if (col->qe_sig_n < DCAP_QE_SIG_CACHE)
        col->qe_sig_n++;
    return CCZ_OK;
}

/* The QE report (signature, report data), then the QE identity: for this TEE, then MISCSELECT,
 * ATTRIBUTES, MRSIGNER and ISVPRODID in QVL's order. *qe_status is the QE's TCB level, NULL when
 * none matches its ISVSVN (judged later, as QVL does). Called with col->lock held. */
static ccz_status check_qe(ccz_result *r, ccz_collateral *col, const ccz_dcap_quote *q,
                           EVP_PKEY *pck, const uint8_t pck_id[32], uint16_t *isv_svn,
                           const dcap_status_info **qe_status)
{
    const dcap_qe_identity *id = &col->qe;
    CCZ_GUARD(check_qe_signature(r, col, q, pck, pck_id));
    ccz_sgx_claims qe;
    uint8_t qe_rd[64], want[64] = {0};
    ccz_status s = ccz_dcap_sgx_report_decode(&qe, qe_rd, q->qe_report);
    if (s)
        return ccz_result_fail(r, CCZ_AT_PARSE, s);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && EVP_DigestInit_ex(md, x509_sha256(), NULL) &&
             EVP_DigestUpdate(md, q->attestation_key, 64) &&
             EVP_DigestUpdate(md, q->qe_auth_data.ptr, q->qe_auth_data.len) &&
             EVP_DigestFinal_ex(md, want, NULL);
    EVP_MD_CTX_free(md);
    if (!ok)
        return ccz_result_fail(r, CCZ_AT_QE_REPORT_DATA,
                               ccz_fail_ossl(CCZ_ERR_CRYPTO, "SHA-256 failed"));
    /* all 64 bytes as Intel's quote format defines them: the hash, then 32 zero bytes */
    if (memcmp(want, qe_rd, 64) != 0) {
        return ccz_result_failf(r, CCZ_AT_QE_REPORT_DATA, CCZ_ERR_BAD_SIGNATURE,
                                "the QE report does not vouch for the attestation key (report "
                                "data is not SHA-256 of the key and QE authentication data "
                                "followed by 32 zero bytes)");
    }
    bool tdx = q->tee_type == CCZ_DCAP_TEE_TDX;
    if (id->td_qe != tdx) {
        return ccz_result_failf(r, CCZ_AT_QE_IDENTITY, CCZ_ERR_COLLATERAL_MISMATCH,
                                "the QE identity is for %s, not for %s quotes",
                                id->td_qe ? "TD_QE" : "QE", tdx ? "TDX" : "SGX");
    }
    const char *why = NULL;
    bool attrs_ok = true;
    for (int i = 0; i < 16; i++)
        attrs_ok &= (qe.attributes[i] & id->attributes_mask[i]) == id->attributes[i];
    if ((qe.misc_select & id->miscselect_mask) != id->miscselect)
        why = "MISCSELECT";
    else if (!attrs_ok)
        why = "ATTRIBUTES";
    else if (memcmp(qe.mr_signer, id->mrsigner, 32) != 0)
        why = "MRSIGNER";
    else if (qe.isv_prod_id != id->isvprodid)
        why = "ISVPRODID";
    if (why) {
        return ccz_result_failf(r, CCZ_AT_QE_IDENTITY, CCZ_ERR_QE_IDENTITY_MISMATCH,
                                "the quoting enclave's %s does not match Intel's %s identity", why,
                                id->td_qe ? "TD_QE" : "QE");
    }
    const dcap_isv_level *l = match_isv(id->levels, id->n_levels, qe.isv_svn, false);
    *isv_svn = qe.isv_svn;
    *qe_status = l ? &l->st : NULL;
    return CCZ_OK;
}

/* ---- the verifier ----------------------------------------------------------------------------*/

static ccz_status decode_claims(ccz_result *r, const ccz_dcap_quote *q)
{
    ccz_claims *c = &r->claims;
    ccz_status s;
    if (q->body_type == CCZ_DCAP_BODY_SGX) {
        c->tee = CCZ_TEE_SGX;
        s = ccz_dcap_sgx_report_decode(&c->sgx, c->report_data, q->body);
        c->debug = (c->sgx.attributes[0] & 0x02) != 0;
    } else {
        c->tee = CCZ_TEE_TDX;
        s = ccz_dcap_td_report_decode(&c->tdx, c->report_data, q->body);
        c->debug = (c->tdx.td_attributes[0] & 0x01) != 0;
    }
    return s ? ccz_result_fail(r, CCZ_AT_PARSE, s) : CCZ_OK;
}

/* The collateral step: given, for DCAP, and readable. Which TEE it is for is judged later, in
 * QVL's order (the TCB info after the PCK chain, the QE identity after the QE report). */
static ccz_status check_collateral_usable(ccz_result *r, const ccz_collateral *col,
                                          const ccz_dcap_quote *q)
{
    bool tdx = q->tee_type == CCZ_DCAP_TEE_TDX;
    if (col->kind != COLLATERAL_DCAP) {
        return ccz_result_failf(r, CCZ_AT_COLLATERAL, CCZ_ERR_COLLATERAL_MISMATCH,
                                "the collateral is for SEV-SNP, not for %s quotes",
                                tdx ? "TDX" : "SGX");
    }
    if (col->unusable) {
        return ccz_result_failf(r, CCZ_AT_COLLATERAL, col->unusable, "%s", col->unusable_detail);
    }
    return CCZ_OK;
}

/* QVL 4.1.2.4.9-10: the TCB info is for this TEE, FMSPC and PCE-ID. */
static ccz_status check_tcb_info_fits(ccz_result *r, const dcap_tcb_info *ti,
                                      const ccz_dcap_quote *q, const ccz_pck_ext *ext)
{
    bool tdx = q->tee_type == CCZ_DCAP_TEE_TDX;
    if (ti->tdx != tdx) {
        return ccz_result_failf(r, CCZ_AT_TCB_INFO, CCZ_ERR_COLLATERAL_MISMATCH,
                                "the TCB info is for %s, not for %s quotes",
                                ti->tdx ? "TDX" : "SGX", tdx ? "TDX" : "SGX");
    }
    if (memcmp(ext->fmspc, ti->fmspc, 6) != 0 || memcmp(ext->pce_id, ti->pce_id, 2) != 0) {
        return ccz_result_failf(r, CCZ_AT_TCB_INFO, CCZ_ERR_COLLATERAL_MISMATCH,
                                "the TCB info is for FMSPC %02X%02X%02X%02X%02X%02X PCE-ID "
                                "%02X%02X, the PCK certificate for %02X%02X%02X%02X%02X%02X "
                                "PCE-ID %02X%02X",
                                ti->fmspc[0], ti->fmspc[1], ti->fmspc[2], ti->fmspc[3],
                                ti->fmspc[4], ti->fmspc[5], ti->pce_id[0], ti->pce_id[1],
                                ext->fmspc[0], ext->fmspc[1], ext->fmspc[2], ext->fmspc[3],
                                ext->fmspc[4], ext->fmspc[5], ext->pce_id[0], ext->pce_id[1]);
    }
    return CCZ_OK;
}

/* A context to verify with the attestation key xy: the collateral's for that key, or a new
 * one it keeps (oldest replaced). Called with col->lock held. */
static ccz_status attestation_verifier(ccz_collateral *col, const uint8_t xy[64],
                                       EVP_PKEY_CTX **out)
{
    for (int i = 0; i < DCAP_AK_CACHE; i++) {
        if (col->ak[i].verifier && memcmp(col->ak[i].xy, xy, 64) == 0) {
            *out = col->ak[i].verifier;
            return CCZ_OK;
        }
    }
    EVP_PKEY *key;
    EVP_PKEY_CTX *v;
    CCZ_GUARD(x509_p256_key_from_raw(&key, xy));
    ccz_status s = x509_p256_verifier_new(&v, key);
    EVP_PKEY_free(key);
    if (s)
        return s;
    dcap_ak_cache *e = &col->ak[col->ak_next++ % DCAP_AK_CACHE];
    EVP_PKEY_CTX_free(e->verifier);
    memcpy(e->xy, xy, 64);
    e->verifier = v;
    *out = v;
    return CCZ_OK;
}

/* The checks in the order of Intel's QVL (QvE's sgx_qve_verify_quote, then
 * QuoteVerifier::verify), so that a quote with several faults reports the one Intel reports,
 * but for one deliberate difference: the TCB info and QE identity (signatures, dates) come
 * before the PCK chain, where QvE checks the PCK chain first (docs/model.md). */
static ccz_status verify_locked(ccz_result *r, const ccz_dcap_quote *q, ccz_collateral *col,
                                const ccz_verify_opts *o)
{
    ccz_claims *c = &r->claims;
    EVP_PKEY *pck = NULL;
    EVP_PKEY_CTX *ak = NULL; /* the collateral's */
    ccz_pck_ext ext;
    uint8_t pck_id[32];
    const dcap_status_info *qe = NULL;
    const dcap_module_identity *module = NULL;
    uint16_t qe_svn = 0;
    ccz_status s;
    CCZ_GUARD_GOTO(check_collateral(r, col, o->trust, o->at_unix), s, out);
    CCZ_GUARD_GOTO(check_pck(r, col, o->trust, o->at_unix, q->cert_data, &pck, &ext, pck_id), s,
                   out);
    memcpy(c->dcap.fmspc, ext.fmspc, 6);
    memcpy(c->dcap.pce_id, ext.pce_id, 2);
    CCZ_GUARD_GOTO(check_tcb_info_fits(r, &col->tcb, q, &ext), s, out);
    if (col->tcb.tdx)
        CCZ_GUARD_GOTO(tdx_module_identity(r, &col->tcb, q, &c->tdx, &module), s, out);
    CCZ_GUARD_GOTO(check_qe(r, col, q, pck, pck_id, &qe_svn, &qe), s, out);
    if ((s = attestation_verifier(col, q->attestation_key, &ak)) != CCZ_OK ||
        (s = x509_p256_verify_with(ak, q->signed_part, q->signature)) != CCZ_OK) {
        s = ccz_result_failf(r, CCZ_AT_QUOTE_SIGNATURE, CCZ_ERR_BAD_SIGNATURE,
                             "the quote signature does not verify with the attestation key");
        goto out;
    }
    CCZ_GUARD_GOTO(tcb_status(r, col, &ext, module, qe, qe_svn), s, out);
out:
    EVP_PKEY_free(pck);
    return s;
}

static ccz_status dcap_verify(ccz_result *r, ccz_span ev, const ccz_verify_opts *o)
{
    ccz_dcap_quote q;
    ccz_status s = ccz_dcap_quote_parse(&q, ev);
    if (s)
        return ccz_result_fail(r, CCZ_AT_PARSE, s);
    if (memcmp(q.qe_vendor_id, INTEL_QE_VENDOR, 16) != 0) {
        return ccz_result_failf(r, CCZ_AT_PARSE, CCZ_ERR_UNSUPPORTED,
                                "the quote's QE vendor ID is not Intel's");
    }
    CCZ_GUARD(decode_claims(r, &q));
    ccz_collateral *col = (ccz_collateral *)o->collateral;
    if (!col) {
        return ccz_result_failf(r, CCZ_AT_COLLATERAL, CCZ_ERR_COLLATERAL_MISSING,
                                "%s quotes are verified against Intel collateral (TCB info, QE "
                                "identity, CRLs): pass --collateral FILE or fetch it with 'ccz "
                                "collateral fetch'",
                                q.tee_type == CCZ_DCAP_TEE_TDX ? "TDX" : "SGX");
    }
    CCZ_GUARD(check_collateral_usable(r, col, &q));
    pthread_mutex_lock(&col->lock);
    s = verify_locked(r, &q, col, o);
    pthread_mutex_unlock(&col->lock);
    if (s)
        return s;
    if (o->expected_report_data &&
        !ccz_ct_equal(o->expected_report_data, r->claims.report_data, 64)) {
        return ccz_result_failf(r, CCZ_AT_REPORT_DATA, CCZ_ERR_REPORT_DATA_MISMATCH,
                                "report data in the quote is not the expected value");
    }
    return CCZ_OK;
}

static bool detect(ccz_span ev, uint32_t tee)
{
    ccz_cursor c;
    ccz_cursor_init(&c, ev);
    uint16_t version, key_type;
    uint32_t tee_type;
    return ccz_cursor_u16le(&c, &version) == CCZ_OK && ccz_cursor_u16le(&c, &key_type) == CCZ_OK &&
           ccz_cursor_u32le(&c, &tee_type) == CCZ_OK && version >= 1 && version <= 5 &&
           (key_type == 2 || key_type == 3) && tee_type == tee && ev.len >= CCZ_DCAP_HEADER_SIZE;
}

static bool detect_sgx(ccz_span ev)
{
    return detect(ev, CCZ_DCAP_TEE_SGX);
}

static bool detect_tdx(ccz_span ev)
{
    return detect(ev, CCZ_DCAP_TEE_TDX);
}

const tee_backend tee_backend_sgx = {
    .tee = CCZ_TEE_SGX,
    .detect = detect_sgx,
    .verify = dcap_verify,
    .attester = &tee_attester_sgx,
};

const tee_backend tee_backend_tdx = {
    .tee = CCZ_TEE_TDX,
    .detect = detect_tdx,
    .verify = dcap_verify,
    .attester = &tee_attester_tdx,
};
