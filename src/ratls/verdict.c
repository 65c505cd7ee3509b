/* SPDX-License-Identifier: Apache-2.0 */
/* Verdicts: what `ccz verify` decides about evidence or an RA-TLS certificate, and the JSON
 * document it prints, as library functions so the command and the bindings share one code path.
 * The evidence is untrusted; the verifiers read it. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/err.h>

#include "core/guard.h"
#include "ccz/ratls.h"
#include "x509/x509.h"

/* A PEM or DER certificate, or NULL: the PEM marker must open the input (quotes carry PEM
 * certificates inside), and DER must start as a SEQUENCE does. */
static X509 *evidence_as_cert(ccz_span ev)
{
    X509 *x = NULL;
    size_t lead = 0;
    while (lead < ev.len && isspace(ev.ptr[lead]))
        lead++;
    ccz_span rest = CCZ_SPAN(ev.ptr + lead, ev.len - lead);
    if ((CCZ_SPAN_STARTS_WITH(rest, "-----BEGIN CERTIFICATE-----") ||
         (ev.len > 2 && ev.ptr[0] == 0x30)) &&
        x509_read_cert(&x, rest) != CCZ_OK)
        ccz_error_clear(); /* not a certificate: evidence */
    ERR_clear_error();
    return x;
}

/* A certificate's verdict in the shape of evidence's: a certificate that verified and was
 * rejected by the policy reports the policy, not an error. */
static ccz_status run_cert(ccz_verdict *out, X509 *cert, const ccz_verify_opts *o,
                           const ccz_policy *policy)
{
    ccz_ratls_verdict *v = calloc(1, sizeof *v);
    CCZ_ENSURE(v, CCZ_ERR_NOMEM, "out of memory");
    /* the certificate's binding decides the report data, whatever o expects */
    ccz_status s = ccz_ratls_verify_cert(v, cert, policy, o);
    out->ok = s == CCZ_OK;
    out->certificate = true;
    out->format = v->format;
    out->result = v->result;
    out->appraisal = v->appraisal;
    if (s == CCZ_ERR_POLICY_REJECTED) {
        out->result.status = CCZ_OK;
    } else if (s) {
        out->result.status = s;
        out->result.step = v->step;
        snprintf(out->result.message, sizeof out->result.message, "%s", v->message);
        ccz_ratls_info info; /* which evidence the certificate carries, for hints */
        if (ccz_ratls_inspect(&info, cert) == CCZ_OK)
            out->result.claims.tee = info.tee;
        ccz_ratls_info_free(&info);
        ccz_error_clear();
    }
    free(v);
    return CCZ_OK;
}

ccz_status ccz_verdict_run(ccz_verdict *out, ccz_span evidence, const ccz_verify_opts *o,
                           const ccz_policy *policy)
{
    CCZ_ENSURE(out && o && o->trust && (evidence.ptr || !evidence.len), CCZ_ERR_INVALID_ARGUMENT,
               "ccz_verdict_run: no verdict, options or trust anchors");
    memset(out, 0, sizeof *out);
    X509 *cert = evidence_as_cert(evidence);
    if (cert) {
        ccz_status s = run_cert(out, cert, o, policy);
        X509_free(cert);
        return s;
    }
    ccz_policy *dflt = NULL;
    if (!policy)
        CCZ_GUARD(ccz_policy_default(&dflt));
    if (ccz_verify(&out->result, evidence, o) == CCZ_OK) {
        ccz_status s = ccz_appraise(&out->appraisal, policy ? policy : dflt, &out->result.claims);
        ccz_policy_free(dflt);
        CCZ_GUARD(s);
        out->ok = out->appraisal.accepted;
    } else {
        ccz_policy_free(dflt);
        out->result.claims.tee = ccz_evidence_detect(evidence); /* for hints */
    }
    return CCZ_OK;
}

static json_t *reasons_json(const ccz_appraisal *ap)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < ap->n_reasons; i++)
        json_array_append_new(arr, json_pack("{s:s,s:s}", "code", ap->reasons[i].code, "message",
                                             ap->reasons[i].message));
    return arr;
}

/* Builds the document; jansson's setters ignore NULL values, so a failed allocation anywhere
 * shows as a missing key, which the caller checks for at the end. */
ccz_json *ccz_verdict_to_json(const ccz_verdict *v)
{
    const ccz_result *r = &v->result;
    const ccz_claims *c = &r->claims;
    bool verified = r->status == CCZ_OK;
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "ok", json_boolean(v->ok));
    json_object_set_new(o, "verified", json_boolean(verified));
    json_object_set_new(o, "tee", verified ? json_string(ccz_tee_name(c->tee)) : json_null());
    json_object_set_new(o, "simulated", json_boolean(verified && c->simulated));
    if (verified && c->simulated)
        json_object_set_new(o, "warning",
                            json_string("SIMULATED TEE evidence: not backed by TEE hardware"));
    json_object_set_new(o, "tcb_status",
                        verified && c->tcb_status[0] ? json_string(c->tcb_status) : json_null());
    json_t *adv = json_array();
    for (size_t i = 0; adv && verified && i < c->n_advisories; i++)
        json_array_append_new(adv, json_string(c->advisories[i]));
    json_object_set_new(o, "advisories", adv);
    json_object_set_new(o, "claims", verified ? ccz_claims_to_json(c) : json_null());
    json_object_set_new(o, "policy",
                        verified ? json_pack("{s:b,s:o}", "accepted", v->appraisal.accepted,
                                             "reasons", reasons_json(&v->appraisal))
                                 : json_null());
    if (v->certificate)
        json_object_set_new(o, "ratls",
                            json_pack("{s:s}", "format", ccz_ratls_format_name(v->format)));
    if (!verified)
        json_object_set_new(o, "error",
                            json_pack("{s:s,s:s,s:s}", "code", ccz_status_name(r->status), "step",
                                      r->step ? r->step : "", "message", r->message));
    bool complete = json_object_get(o, "advisories") && json_object_get(o, "claims") &&
                    json_object_get(o, "policy") &&
                    (!v->certificate || json_object_get(o, "ratls")) &&
                    (verified || json_object_get(o, "error"));
    if (!complete) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The verdict written to out as JSON text or in marshal format; *need (when given) is the size
 * the marshal document needed when out was too small for it. */
static ccz_status verdict_doc(ccz_buf *out, bool *ok, ccz_span evidence, const ccz_verify_opts *o,
                              const ccz_policy *policy, bool marshal, size_t *need)
{
    CCZ_ENSURE(out, CCZ_ERR_INVALID_ARGUMENT, "ccz_verdict: no output buffer");
    ccz_verdict *v = malloc(sizeof *v); /* ccz_verdict_run zeroes it */
    CCZ_ENSURE(v, CCZ_ERR_NOMEM, "out of memory");
    ccz_status s = ccz_verdict_run(v, evidence, o, policy);
    json_t *doc = s == CCZ_OK ? ccz_verdict_to_json(v) : NULL;
    if (s == CCZ_OK && !doc)
        s = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    if (s == CCZ_OK)
        s = marshal ? ccz_json_dump_marshal(out, doc) : ccz_json_dump(out, doc, false);
    if (s == CCZ_ERR_TOO_LARGE && need) { /* how much it takes, for the caller's next try */
        ccz_buf all = CCZ_BUF_INIT;
        if (ccz_json_dump_marshal(&all, doc) == CCZ_OK) {
            *need = all.len;
            s = ccz_fail(CCZ_ERR_TOO_LARGE, "the verdict takes %zu bytes, the buffer has %zu",
                         all.len, out->max);
        }
        ccz_buf_free(&all);
    }
    if (s == CCZ_OK && ok)
        *ok = v->ok;
    json_decref(doc);
    free(v);
    return s;
}

ccz_status ccz_verdict_json(ccz_buf *out, bool *ok, ccz_span evidence, const ccz_verify_opts *o,
                            const ccz_policy *policy)
{
    return verdict_doc(out, ok, evidence, o, policy, false, NULL);
}

ccz_status ccz_verdict_marshal(ccz_buf *out, bool *ok, ccz_span evidence, const ccz_verify_opts *o,
                               const ccz_policy *policy)
{
    return verdict_doc(out, ok, evidence, o, policy, true, NULL);
}

ccz_status ccz_verdict_marshal_to(void *dst, size_t cap, size_t *len, const void *evidence,
                                  size_t evidence_len, const ccz_verify_opts *o,
                                  const ccz_policy *policy)
{
    CCZ_ENSURE(dst && cap > 1 && len, CCZ_ERR_INVALID_ARGUMENT,
               "ccz_verdict_marshal_to: no output memory or length");
    *len = 0;
    /* a buffer over the caller's memory: its limit (one byte short, for the NUL ccz_buf keeps
     * after its bytes) stops it before it would ever reallocate */
    ccz_buf b = {dst, 0, cap, cap - 1, false};
    size_t need = 0;
    ccz_status s = verdict_doc(&b, NULL, CCZ_SPAN(evidence, evidence_len), o, policy, true, &need);
    *len = s == CCZ_OK ? b.len : need;
    return s;
}
