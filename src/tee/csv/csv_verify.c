/* SPDX-License-Identifier: Apache-2.0 */
/* Hygon CSV evidence, verified as trustee's csv verifier does it (deps/verifier/src/csv): the
 * report's SM2 signature by the PEK, the version 1 MAC where the PEK came from the report, and
 * the chain HRK -> HSK -> CEK -> PEK, the HRK from the trust store. Evidence is untrusted; the
 * HSK/CEK bundle comes with the evidence or as collateral, which remembers what it verified so
 * that a report from a known PEK costs one SM2 verification. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "ccz/csv.h"
#include "ccz/eventlog.h"
#include "core/guard.h"
#include "tee/dcap/dcap_internal.h"
#include "tee/internal.h"
#include "x509/x509.h"

#define POLICY_NODBG 1u

/* ---- trust and collateral --------------------------------------------------------------------*/

ccz_status ccz_trust_add_hygon_hrk(ccz_trust *t, ccz_span cert)
{
    ccz_csv_cert hrk;
    CCZ_GUARD(ccz_csv_cert_parse(&hrk, cert));
    CCZ_ENSURE(hrk.kind == CCZ_CSV_CERT_CA && hrk.usage == CCZ_CSV_USAGE_HRK, CCZ_ERR_MALFORMED,
               "not an HRK (a CA certificate of usage 0, this one's is 0x%x)", hrk.usage);
    ccz_status s = ccz_csv_cert_verify(&hrk, &hrk);
    if (s)
        return ccz_fail_context(s, "the HRK does not sign itself");
    memcpy(t->hygon_hrk, cert.ptr, CCZ_CSV_CA_CERT_SIZE);
    t->has_hygon_hrk = true;
    t->id = tee_trust_next_id(); /* verified chains are cached by trust id */
    return CCZ_OK;
}

static ccz_status bundle_parse(ccz_csv_cert *hsk, ccz_csv_cert *cek, ccz_span b)
{
    CCZ_ENSURE(b.len == CCZ_CSV_HSK_CEK_SIZE, CCZ_ERR_MALFORMED,
               "an HSK/CEK bundle is %d bytes (HSK %d, then CEK %d), not %zu", CCZ_CSV_HSK_CEK_SIZE,
               CCZ_CSV_CA_CERT_SIZE, CCZ_CSV_CERT_SIZE, b.len);
    CCZ_GUARD(ccz_csv_cert_parse(hsk, CCZ_SPAN(b.ptr, CCZ_CSV_CA_CERT_SIZE)));
    CCZ_GUARD(ccz_csv_cert_parse(cek, CCZ_SPAN(b.ptr + CCZ_CSV_CA_CERT_SIZE, CCZ_CSV_CERT_SIZE)));
    CCZ_ENSURE(hsk->kind == CCZ_CSV_CERT_CA && hsk->usage == CCZ_CSV_USAGE_HSK, CCZ_ERR_MALFORMED,
               "the bundle's first certificate is not an HSK (usage 0x%x)", hsk->usage);
    CCZ_ENSURE(cek->usage == CCZ_CSV_USAGE_CEK, CCZ_ERR_MALFORMED,
               "the bundle's second certificate is not a CEK (usage 0x%x)", cek->usage);
    return CCZ_OK;
}

ccz_status ccz_csv_collateral_new(ccz_collateral **out, ccz_span hsk_cek)
{
    *out = NULL;
    ccz_csv_cert hsk, cek;
    ccz_status s = bundle_parse(&hsk, &cek, hsk_cek);
    if (s)
        return ccz_fail_context(s, "HSK/CEK bundle");
    ccz_collateral *c = calloc(1, sizeof *c);
    csv_collateral *k = calloc(1, sizeof *k);
    if (!c || !k) {
        free(c);
        free(k);
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    }
    pthread_mutex_init(&c->lock, NULL);
    c->kind = COLLATERAL_CSV;
    c->csv = k;
    memcpy(k->hsk, hsk_cek.ptr, CCZ_CSV_CA_CERT_SIZE);
    memcpy(k->cek, hsk_cek.ptr + CCZ_CSV_CA_CERT_SIZE, CCZ_CSV_CERT_SIZE);
    *out = c;
    return CCZ_OK;
}

/* ---- the chain -------------------------------------------------------------------------------*/

static ccz_status trusted_hrk(ccz_csv_cert *hrk, const ccz_trust *t)
{
    CCZ_ENSURE(t->has_hygon_hrk, CCZ_ERR_CERT_CHAIN, "no Hygon root key (HRK) is trusted");
    return ccz_csv_cert_parse(hrk, CCZ_SPAN(t->hygon_hrk, CCZ_CSV_CA_CERT_SIZE));
}

/* One link: signer signs target, or CCZ_ERR_CERT_CHAIN naming the link. */
static ccz_status link(const ccz_csv_cert *signer, const ccz_csv_cert *target, const char *name)
{
    ccz_status s = ccz_csv_cert_verify(signer, target);
    if (s == CCZ_ERR_BAD_SIGNATURE)
        return ccz_fail_context(CCZ_ERR_CERT_CHAIN, "%s", name);
    return s ? ccz_fail_context(s, "%s", name) : CCZ_OK;
}

/* HRK -> HSK -> CEK, unless already verified under this trust store. Called locked. */
static ccz_status check_hsk_cek(csv_collateral *k, const ccz_trust *t)
{
    if (k->checked_trust_id == t->id)
        return CCZ_OK;
    ccz_csv_cert hrk, hsk, cek;
    CCZ_GUARD(trusted_hrk(&hrk, t));
    CCZ_GUARD(bundle_parse(&hsk, &cek, CCZ_SPAN(k->hsk, CCZ_CSV_HSK_CEK_SIZE)));
    CCZ_GUARD(link(&hrk, &hsk, "HRK -> HSK"));
    CCZ_GUARD(link(&hsk, &cek, "HSK -> CEK"));
    k->checked_trust_id = t->id;
    return CCZ_OK;
}

/* The PEK's key once CEK -> PEK verified: from the cache, or verified now and cached. Called
 * locked, after check_hsk_cek. *key is a new reference. */
static ccz_status check_pek(EVP_PKEY **key, csv_collateral *k, const uint8_t pek[CCZ_CSV_CERT_SIZE])
{
    uint8_t h[32];
    CCZ_GUARD(tee_sha256(h, CCZ_SPAN(pek, CCZ_CSV_CERT_SIZE)));
    for (int i = 0; i < CSV_PEK_CACHE; i++)
        if (k->pek_key[i] && memcmp(k->pek_hash[i], h, 32) == 0) {
            EVP_PKEY_up_ref(k->pek_key[i]);
            *key = k->pek_key[i];
            return CCZ_OK;
        }
    ccz_csv_cert cek, p;
    CCZ_GUARD(ccz_csv_cert_parse(&cek, CCZ_SPAN(k->cek, sizeof k->cek)));
    CCZ_GUARD(ccz_csv_cert_parse(&p, CCZ_SPAN(pek, CCZ_CSV_CERT_SIZE)));
    CCZ_GUARD(link(&cek, &p, "CEK -> PEK"));
    CCZ_GUARD(x509_sm2_key_from_raw(key, p.x, p.y));
    unsigned slot = k->pek_next++ % CSV_PEK_CACHE;
    EVP_PKEY_free(k->pek_key[slot]);
    EVP_PKEY_up_ref(*key);
    k->pek_key[slot] = *key;
    memcpy(k->pek_hash[slot], h, 32);
    return CCZ_OK;
}

/* ---- verification ----------------------------------------------------------------------------*/

typedef struct {
    ccz_csv_evidence ev;
    ccz_csv_cert pek;
} csv_parsed;

static ccz_status parse(csv_parsed *p, ccz_span evidence)
{
    CCZ_GUARD(ccz_csv_evidence_parse(&p->ev, evidence));
    ccz_status s = ccz_csv_cert_parse(&p->pek, CCZ_SPAN(p->ev.pek, sizeof p->ev.pek));
    if (s == CCZ_OK && (p->pek.kind != CCZ_CSV_CERT_CSV || p->pek.usage != CCZ_CSV_USAGE_PEK))
        s = ccz_fail(CCZ_ERR_MALFORMED, "its usage is 0x%x, not the PEK's (0x1002)", p->pek.usage);
    return s ? ccz_fail_context(s, "the evidence's PEK") : CCZ_OK;
}

static void fill_claims(ccz_claims *c, const csv_parsed *p)
{
    const ccz_csv_report *r = &p->ev.report;
    ccz_csv_claims *v = &c->csv;
    c->tee = CCZ_TEE_CSV;
    c->debug = !(r->policy & POLICY_NODBG);
    memcpy(c->report_data, r->report_data, 64);
    v->version = r->version;
    memcpy(v->measurement, r->measure, 32);
    memcpy(v->user_pubkey_digest, r->user_pubkey_digest, 32);
    memcpy(v->vm_id, r->vm_id, 16);
    memcpy(v->vm_version, r->vm_version, 16);
    memcpy(v->mnonce, r->mnonce, 16);
    v->policy = r->policy;
    v->anonce = r->anonce;
    v->build = r->build;
    v->rtmr_version = r->rtmr_version;
    memcpy(v->rtmr, r->rtmr, sizeof v->rtmr);
    memcpy(v->host_data, r->host_data, 64);
    snprintf(v->chip_serial, sizeof v->chip_serial, "%s", p->ev.serial);
}

/* The report's signature by the PEK, and (version 1, the PEK the report's own) its MAC. The
 * anonce is not signed: only the MAC, keyed with the mnonce it unmasks, binds it, so a report
 * read as bytes has its MAC checked whether its signer area was masked or not (trustee's JSON,
 * whose PEK is the cert_chain's, keeps to a masked signer area). */
static ccz_status check_report(ccz_result *r, const csv_parsed *p, ccz_csv_claims *v)
{
    const ccz_csv_report *rep = &p->ev.report;
    EVP_PKEY *key = NULL;
    ccz_status s = x509_sm2_key_from_raw(&key, p->pek.x, p->pek.y);
    if (s)
        return ccz_result_fail(r, CCZ_AT_PARSE, ccz_fail_context(s, "the PEK"));
    s = x509_sm2_verify_rs(key, CCZ_SPAN(p->pek.user_id, p->pek.user_id_len), rep->signed_part,
                           rep->sig_r, rep->sig_s);
    EVP_PKEY_free(key);
    if (s)
        return ccz_result_failf(r, CCZ_AT_SIGNATURE, CCZ_ERR_BAD_SIGNATURE,
                                "the report's SM2 signature does not verify with the PEK");
    if (rep->version == 1 && (rep->signer_masked || !p->ev.json) &&
        memcmp(rep->pek, p->ev.pek, CCZ_CSV_CERT_SIZE) == 0) {
        if ((s = ccz_csv_report_check_mac(rep)) != CCZ_OK)
            return ccz_result_fail(r, CCZ_AT_SIGNATURE, s);
        v->mac_checked = true;
    }
    return CCZ_OK;
}

static ccz_status check_chain(ccz_result *r, const csv_parsed *p, const ccz_verify_opts *o)
{
    ccz_collateral *own = NULL, *col = (ccz_collateral *)o->collateral;
    ccz_status s;
    if (col && col->kind != COLLATERAL_CSV)
        return ccz_result_failf(r, CCZ_AT_COLLATERAL, CCZ_ERR_COLLATERAL_MISMATCH,
                                "CSV evidence is verified with Hygon's HSK/CEK bundle "
                                "(--hsk-cek FILE), not %s collateral",
                                ccz_collateral_tee(col));
    if (!col && p->ev.has_hsk_cek) {
        uint8_t b[CCZ_CSV_HSK_CEK_SIZE];
        memcpy(b, p->ev.hsk, CCZ_CSV_CA_CERT_SIZE);
        memcpy(b + CCZ_CSV_CA_CERT_SIZE, p->ev.cek, CCZ_CSV_CERT_SIZE);
        if ((s = ccz_csv_collateral_new(&own, CCZ_SPAN(b, sizeof b))) != CCZ_OK)
            return ccz_result_fail(r, CCZ_AT_PARSE,
                                   ccz_fail_context(s, "the evidence's \"hsk_cek\""));
        col = own;
    }
    if (!col)
        return ccz_result_failf(
            r, CCZ_AT_COLLATERAL, CCZ_ERR_COLLATERAL_MISSING,
            "the report's signature verifies with the evidence's PEK, whose chain to the HRK "
            "needs the HSK and CEK of chip %s, which the evidence lacks: this step needs the "
            "network once: 'ccz collateral fetch EVIDENCE --hygon-kds https://cert.hygon.cn -o "
            "FILE', then --hsk-cek FILE",
            p->ev.serial[0] ? p->ev.serial : "(unknown)");
    EVP_PKEY *key = NULL;
    pthread_mutex_lock(&col->lock);
    s = check_hsk_cek(col->csv, o->trust);
    if (s == CCZ_OK)
        s = check_pek(&key, col->csv, p->ev.pek);
    pthread_mutex_unlock(&col->lock);
    EVP_PKEY_free(key);
    ccz_collateral_free(own);
    return s ? ccz_result_fail(r, CCZ_AT_PLATFORM_CERT, s) : CCZ_OK;
}

/* Versions 2 and 3 with trustee's "cc_eventlog" (and no log given by the caller): CC MR index i
 * replays with SM3 to rtmr[i], i = 1..4, as trustee checks it. */
static ccz_status check_own_eventlog(ccz_result *r, const csv_parsed *p, const ccz_verify_opts *o)
{
    const ccz_csv_report *rep = &p->ev.report;
    if (rep->version < 2 || !p->ev.eventlog.len || o->eventlog)
        return CCZ_OK;
    ccz_eventlog *l = NULL;
    ccz_status s = ccz_eventlog_parse(&l, ccz_buf_span(&p->ev.eventlog));
    if (s == CCZ_OK && !ccz_eventlog_has_alg(l, CCZ_EVLOG_SM3))
        s = ccz_fail(CCZ_ERR_UNSUPPORTED, "the evidence's event log has no SM3 digests");
    for (uint32_t i = 1; s == CCZ_OK && i <= 4; i++) {
        uint8_t got[32];
        if ((s = ccz_eventlog_replay(got, sizeof got, l, i, CCZ_EVLOG_SM3)) == CCZ_OK &&
            memcmp(got, rep->rtmr[i], 32) != 0)
            s = ccz_fail(CCZ_ERR_REPLAY_MISMATCH,
                         "the evidence's event log (\"cc_eventlog\") does not replay to rtmr%u of "
                         "the report",
                         i);
    }
    ccz_eventlog_free(l);
    return s ? ccz_result_fail(r, CCZ_AT_EVENTLOG, s) : CCZ_OK;
}

static ccz_status csv_verify(ccz_result *r, ccz_span evidence, const ccz_verify_opts *o)
{
    static __thread csv_parsed p;
    memset(&p.pek, 0, sizeof p.pek);
    ccz_status s = parse(&p, evidence);
    if (s) {
        ccz_csv_evidence_free(&p.ev);
        return ccz_result_fail(r, CCZ_AT_PARSE, s);
    }
    ccz_csv_claims v = {0};
    s = check_report(r, &p, &v);
    if (s == CCZ_OK)
        s = check_chain(r, &p, o);
    if (s == CCZ_OK && o->expected_report_data &&
        !ccz_ct_equal(o->expected_report_data, p.ev.report.report_data, 64))
        s = ccz_result_failf(r, CCZ_AT_REPORT_DATA, CCZ_ERR_REPORT_DATA_MISMATCH,
                             "report data in the CSV report is not the expected value");
    if (s == CCZ_OK)
        s = check_own_eventlog(r, &p, o);
    if (s == CCZ_OK) {
        fill_claims(&r->claims, &p);
        r->claims.csv.mac_checked = v.mac_checked;
    }
    ccz_csv_evidence_free(&p.ev);
    return s;
}

/* JSON with an "attestation_report" and a "cert_chain"; a wrapped report (its size and magic);
 * a bare version 1 report (its size, and the PEK as signer with SM2 once unmasked). */
static bool csv_detect(ccz_span ev)
{
    size_t i = 0;
    while (i < ev.len &&
           (ev.ptr[i] == ' ' || ev.ptr[i] == '\n' || ev.ptr[i] == '\r' || ev.ptr[i] == '\t'))
        i++;
    if (i < ev.len && ev.ptr[i] == '{') {
        ccz_span v;
        bool ok = ccz_json_raw_member(&v, ev, "attestation_report") == CCZ_OK &&
                  ccz_json_raw_member(&v, ev, "cert_chain") == CCZ_OK;
        ccz_error_clear();
        return ok;
    }
    static const uint8_t zero[16];
    if (ev.len == CCZ_CSV_WRAPPED_SIZE)
        return memcmp(ev.ptr, zero, 16) == 0 || memcmp(ev.ptr, "ATTESTATION_EXT", 16) == 0;
    if (ev.len != CCZ_CSV_REPORT_V1_SIZE)
        return false;
    ccz_cursor c;
    uint32_t usage, algo, anonce;
    ccz_cursor_init(&c, ev);
    return ccz_cursor_skip(&c, 0xb4) == CCZ_OK && ccz_cursor_u32le(&c, &usage) == CCZ_OK &&
           ccz_cursor_u32le(&c, &algo) == CCZ_OK && ccz_cursor_u32le(&c, &anonce) == CCZ_OK &&
           (usage ^ anonce) == CCZ_CSV_USAGE_PEK && (algo ^ anonce) == 4;
}

const tee_backend tee_backend_csv = {
    .tee = CCZ_TEE_CSV,
    .detect = csv_detect,
    .verify = csv_verify,
    .attester = NULL,
};

ccz_status tee_csv_peek(ccz_claims *c, ccz_span evidence)
{
    static __thread csv_parsed p;
    ccz_status s = parse(&p, evidence);
    if (s == CCZ_OK)
        fill_claims(c, &p);
    ccz_csv_evidence_free(&p.ev);
    return s;
}

/* ---- chains given as files -------------------------------------------------------------------*/

static const char *usage_name(uint32_t u)
{
    switch (u) {
    case CCZ_CSV_USAGE_HRK:
        return "HRK";
    case CCZ_CSV_USAGE_HSK:
        return "HSK";
    case CCZ_CSV_USAGE_OCA:
        return "OCA";
    case CCZ_CSV_USAGE_PEK:
        return "PEK";
    case CCZ_CSV_USAGE_PDH:
        return "PDH";
    case CCZ_CSV_USAGE_CEK:
        return "CEK";
    }
    return "?";
}

/* The size of the next certificate: a CSV certificate names a usage of 0x1001..0x1004 at 8
 * and algorithm 4 or 5 at 12; anything else is read as a CA certificate. */
static size_t next_cert_size(const ccz_cursor *c)
{
    ccz_span head;
    if (ccz_cursor_peek(c, &head, 16) != CCZ_OK)
        return 0;
    uint32_t usage = (uint32_t)head.ptr[8] | (uint32_t)head.ptr[9] << 8;
    uint32_t algo = head.ptr[12];
    bool csv = usage >= CCZ_CSV_USAGE_OCA && usage <= CCZ_CSV_USAGE_CEK && !head.ptr[10] &&
               !head.ptr[11] && (algo == 4 || algo == 5) && !head.ptr[13] && !head.ptr[14] &&
               !head.ptr[15] && ccz_cursor_remaining(c) >= CCZ_CSV_CERT_SIZE;
    return csv ? CCZ_CSV_CERT_SIZE : CCZ_CSV_CA_CERT_SIZE;
}

ccz_status ccz_csv_chain_check(char *lines, size_t cap, ccz_span certs, const ccz_trust *t)
{
    CCZ_ENSURE(lines && cap && t, CCZ_ERR_INVALID_ARGUMENT, "missing argument");
    lines[0] = '\0';
    size_t used = 0;
    ccz_csv_cert hrk, prev, cur;
    CCZ_GUARD(trusted_hrk(&hrk, t));
    prev = hrk;
    ccz_cursor c;
    ccz_cursor_init(&c, certs);
    CCZ_ENSURE(certs.len, CCZ_ERR_TRUNCATED, "no certificate given");
    for (int n = 0; ccz_cursor_remaining(&c); n++) {
        ccz_span b;
        char name[48];
        CCZ_GUARD(ccz_cursor_take(&c, &b, next_cert_size(&c)));
        CCZ_GUARD(ccz_csv_cert_parse(&cur, b));
        if (cur.kind == CCZ_CSV_CERT_CA && cur.usage == CCZ_CSV_USAGE_HRK) {
            CCZ_ENSURE(n == 0, CCZ_ERR_CERT_CHAIN, "an HRK can only come first");
            CCZ_GUARD(link(&cur, &cur, "HRK self-signature"));
            CCZ_ENSURE(memcmp(b.ptr, t->hygon_hrk, CCZ_CSV_CA_CERT_SIZE) == 0, CCZ_ERR_CERT_CHAIN,
                       "the HRK signs itself but is not the trusted HRK");
            snprintf(name, sizeof name, "HRK self-signature");
        } else {
            snprintf(name, sizeof name, "%s -> %s", usage_name(prev.usage), usage_name(cur.usage));
            CCZ_GUARD(link(&prev, &cur, name));
        }
        int k = snprintf(lines + used, cap - used, "%s: ok\n", name);
        if (k > 0 && (size_t)k < cap - used)
            used += (size_t)k;
        prev = cur;
    }
    return CCZ_OK;
}
