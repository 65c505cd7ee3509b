/* SPDX-License-Identifier: Apache-2.0 */
/* The TEE-neutral front: names, the backend table, detection and dispatch of verification and
 * attestation. Evidence is untrusted; backends parse it through the core cursor. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "ccz/eventlog.h"
#include "core/guard.h"
#include "internal.h"

static const tee_backend *const backends[] = {
    &tee_backend_sim,    &tee_backend_snp,    &tee_backend_sgx, &tee_backend_tdx,
    &tee_backend_az_snp, &tee_backend_az_tdx, &tee_backend_csv, &tee_backend_cca,
};

#define N_BACKENDS CCZ_ARRAY_LEN(backends)

static const char *const tee_names[] = {[CCZ_TEE_NONE] = "none",
                                        [CCZ_TEE_SIM] = "sim",
                                        [CCZ_TEE_SGX] = "sgx",
                                        [CCZ_TEE_TDX] = "tdx",
                                        [CCZ_TEE_SNP] = "snp",
                                        [CCZ_TEE_AZ_SNP_VTPM] = "az-snp-vtpm",
                                        [CCZ_TEE_AZ_TDX_VTPM] = "az-tdx-vtpm",
                                        [CCZ_TEE_CSV] = "csv",
                                        [CCZ_TEE_CCA] = "cca"};

const char *ccz_tee_name(ccz_tee t)
{
    return (unsigned)t < CCZ_ARRAY_LEN(tee_names) && tee_names[t] ? tee_names[t] : "unknown";
}

ccz_status ccz_tee_parse(ccz_tee *out, const char *name)
{
    for (unsigned i = 1; i < CCZ_ARRAY_LEN(tee_names); i++)
        if (tee_names[i] && strcmp(name, tee_names[i]) == 0) {
            *out = (ccz_tee)i;
            return CCZ_OK;
        }
    return ccz_fail(
        CCZ_ERR_INVALID_ARGUMENT,
        "unknown TEE '%s' (expected sim, sgx, tdx, snp, az-snp-vtpm, az-tdx-vtpm, csv or cca)",
        name);
}

static const tee_backend *backend_for(ccz_tee t)
{
    for (size_t i = 0; i < N_BACKENDS; i++)
        if (backends[i]->tee == t)
            return backends[i];
    return NULL;
}

const char *ccz_step_name(ccz_step step)
{
    switch (step) {
    case CCZ_AT_NONE:
        return NULL;
#define CCZ_X_STEP_NAME(sym, val, name)                                                            \
    case sym:                                                                                      \
        return name;
        CCZ_STEP_LIST(CCZ_X_STEP_NAME)
#undef CCZ_X_STEP_NAME
    }
    return NULL;
}

ccz_status ccz_result_fail(ccz_result *r, ccz_step step, ccz_status s)
{
    const char *d = ccz_error_detail();
    r->status = s;
    r->step = ccz_step_name(step);
    r->step_id = step;
    snprintf(r->message, sizeof r->message, "%s", d[0] ? d : ccz_strerror(s));
    return s;
}

ccz_status ccz_result_failf(ccz_result *r, ccz_step step, ccz_status s, const char *fmt, ...)
{
    char detail[1024]; /* as much as ccz_error_detail holds */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    ccz_fail(s, "%s", detail);
    return ccz_result_fail(r, step, s);
}

ccz_status tee_sha256(uint8_t out[32], ccz_span in)
{
    CCZ_GUARD_OSSL(EVP_Digest(in.ptr, in.len, out, NULL, x509_sha256(), NULL), CCZ_ERR_CRYPTO,
                   "SHA-256 failed");
    return CCZ_OK;
}

ccz_tee ccz_evidence_detect(ccz_span evidence)
{
    for (size_t i = 0; i < N_BACKENDS; i++)
        if (backends[i]->detect(evidence))
            return backends[i]->tee;
    return CCZ_TEE_NONE;
}

/* A CSV guest's log (report version 2 and later): CC MR index i is the report's rtmr[i],
 * extended with SM3 (trustee's deps/verifier/src/csv). */
static ccz_status check_csv_eventlog(ccz_result *r, const ccz_eventlog *l)
{
    ccz_claims *c = &r->claims;
    if (c->csv.version < 2)
        return ccz_result_failf(r, CCZ_AT_EVENTLOG, CCZ_ERR_UNSUPPORTED,
                                "a version %u CSV report has no RTMRs to replay an event log "
                                "into (version 2 and later have)",
                                c->csv.version);
    if (!ccz_eventlog_has_alg(l, CCZ_EVLOG_SM3))
        return ccz_result_failf(r, CCZ_AT_EVENTLOG, CCZ_ERR_UNSUPPORTED,
                                "the event log has no SM3 digests, which CSV RTMRs extend");
    static const uint32_t mr[] = {1, 2, 3, 4};
    uint8_t regs[4][32];
    ccz_status s = ccz_eventlog_replay_many(regs[0], sizeof regs, l, mr, 4, CCZ_EVLOG_SM3);
    if (s)
        return ccz_result_fail(r, CCZ_AT_EVENTLOG, s);
    for (uint32_t i = 1; i <= 4; i++) {
        const uint8_t *got = regs[i - 1];
        if (memcmp(got, c->csv.rtmr[i], 32) != 0) {
            char g[65], q[65];
            ccz_hex_to_str(g, got, 32);
            ccz_hex_to_str(q, c->csv.rtmr[i], 32);
            return ccz_result_failf(r, CCZ_AT_EVENTLOG, CCZ_ERR_REPLAY_MISMATCH,
                                    "the event log's register %u replays to %s, rtmr%u in the "
                                    "report is %s",
                                    i, g, i, q);
        }
    }
    c->eventlog = l;
    return CCZ_OK;
}

/* Replays the event log into the verified evidence's runtime registers: TDX CC MR index i is
 * RTMR[i-1], extended with SHA-384 (trustee's deps/verifier/src/tdx). */
static ccz_status check_eventlog(ccz_result *r, const ccz_eventlog *l)
{
    ccz_claims *c = &r->claims;
    if (c->tee == CCZ_TEE_CSV)
        return check_csv_eventlog(r, l);
    if (c->tee != CCZ_TEE_TDX && c->tee != CCZ_TEE_AZ_TDX_VTPM)
        return ccz_result_failf(r, CCZ_AT_EVENTLOG, CCZ_ERR_UNSUPPORTED,
                                "an event log is replayed into TDX RTMRs; %s evidence has no "
                                "registers it extends",
                                ccz_tee_name(c->tee));
    if (!ccz_eventlog_has_alg(l, CCZ_EVLOG_SHA384))
        return ccz_result_failf(r, CCZ_AT_EVENTLOG, CCZ_ERR_UNSUPPORTED,
                                "the event log has no SHA-384 digests, which TDX RTMRs extend");
    static const uint32_t mr[] = {1, 2, 3, 4};
    uint8_t regs[4][48];
    ccz_status s = ccz_eventlog_replay_many(regs[0], sizeof regs, l, mr, 4, CCZ_EVLOG_SHA384);
    if (s)
        return ccz_result_fail(r, CCZ_AT_EVENTLOG, s);
    for (uint32_t i = 1; i <= 4; i++) {
        const uint8_t *got = regs[i - 1];
        if (memcmp(got, c->tdx.rtmr[i - 1], 48) != 0) {
            char g[97], q[97];
            ccz_hex_to_str(g, got, 48);
            ccz_hex_to_str(q, c->tdx.rtmr[i - 1], 48);
            return ccz_result_failf(r, CCZ_AT_EVENTLOG, CCZ_ERR_REPLAY_MISMATCH,
                                    "the event log's register %u replays to %s, RTMR%u in the "
                                    "quote is %s",
                                    i, g, i - 1, q);
        }
    }
    c->eventlog = l;
    return CCZ_OK;
}

ccz_status ccz_verify(ccz_result *out, ccz_span evidence, const ccz_verify_opts *o)
{
    memset(out, 0, sizeof *out);
    ccz_error_clear();
    if (!o || o->version != CCZ_VERIFY_OPTS_VERSION || !o->trust) {
        return ccz_result_failf(out, CCZ_AT_DETECT, CCZ_ERR_INVALID_ARGUMENT,
                                "verify options missing, of the wrong version or without trust "
                                "anchors");
    }
    ccz_tee t = ccz_evidence_detect(evidence);
    const tee_backend *b = backend_for(t);
    if (!b) {
        return ccz_result_failf(out, CCZ_AT_DETECT, CCZ_ERR_UNKNOWN_FORMAT,
                                "evidence (%zu bytes) is not in any format this build verifies "
                                "(sim, SGX and TDX DCAP quotes, SEV-SNP reports, Azure vTPM "
                                "evidence, Hygon CSV reports, Arm CCA tokens)",
                                evidence.len);
    }
    ccz_status s = b->verify(out, evidence, o);
    if (s == CCZ_OK && o->eventlog)
        s = check_eventlog(out, o->eventlog);
    if (s == CCZ_OK && o->expected_init_data_hash && t != CCZ_TEE_AZ_SNP_VTPM &&
        t != CCZ_TEE_AZ_TDX_VTPM)
        s = ccz_result_failf(out, CCZ_AT_INIT_DATA, CCZ_ERR_UNSUPPORTED,
                             "an init data hash is checked against PCR 8 of Azure vTPM evidence; "
                             "%s evidence has no PCR 8",
                             ccz_tee_name(t));
    if (s == CCZ_OK) {
        out->status = CCZ_OK;
        out->step = NULL;
        out->step_id = CCZ_AT_NONE;
        out->message[0] = '\0';
    }
    return s;
}

struct ccz_attester {
    const tee_backend *backend;
    void *state;
};

ccz_tee ccz_attester_tee(const ccz_attester *a)
{
    return a->backend->tee;
}

ccz_status ccz_attester_new(ccz_attester **out, const ccz_attester_opts *o)
{
    *out = NULL;
    CCZ_ENSURE(o && o->version == CCZ_ATTESTER_OPTS_VERSION, CCZ_ERR_INVALID_ARGUMENT,
               "attester options missing or of the wrong version");
    const tee_backend *b = backend_for(o->tee);
    CCZ_ENSURE(b && b->attester, CCZ_ERR_NO_BACKEND, "this build has no attester for TEE '%s'",
               ccz_tee_name(o->tee));
    ccz_attester *a = calloc(1, sizeof *a);
    CCZ_ENSURE(a, CCZ_ERR_NOMEM, "out of memory");
    a->backend = b;
    ccz_status s = b->attester->create(&a->state, o);
    if (s) {
        free(a);
        return s;
    }
    *out = a;
    return CCZ_OK;
}

void ccz_attester_free(ccz_attester *a)
{
    if (!a)
        return;
    a->backend->attester->destroy(a->state);
    free(a);
}

ccz_status tee_hkdf_sha256(uint8_t out[32], ccz_span ikm, ccz_span info)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm.ptr, ikm.len),
        OSSL_PARAM_octet_string(OSSL_KDF_PARAM_INFO, (void *)info.ptr, info.len),
        OSSL_PARAM_END,
    };
    int ok = ctx && EVP_KDF_derive(ctx, out, 32, params) == 1;
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return ok ? CCZ_OK : ccz_fail_ossl(CCZ_ERR_CRYPTO, "HKDF-SHA256 failed");
}

ccz_status ccz_attester_seal_key(const ccz_attester *a, ccz_seal_policy policy, uint8_t key[32])
{
    CCZ_ENSURE(a && key, CCZ_ERR_INVALID_ARGUMENT, "missing argument");
    CCZ_ENSURE(policy == CCZ_SEAL_MRENCLAVE || policy == CCZ_SEAL_MRSIGNER,
               CCZ_ERR_INVALID_ARGUMENT, "unknown sealing policy %d", (int)policy);
    CCZ_ENSURE(a->backend->attester->seal_key, CCZ_ERR_UNSUPPORTED,
               "a %s guest has no sealing key: obtain secrets from a peer or a key broker instead",
               ccz_tee_name(a->backend->tee));
    return a->backend->attester->seal_key(a->state, policy, key);
}

ccz_status ccz_attest(ccz_buf *evidence, const ccz_attester *a, const uint8_t report_data[64])
{
    return ccz_attest_with_certs(evidence, NULL, a, report_data);
}

ccz_status ccz_attest_with_certs(ccz_buf *evidence, ccz_buf *certs, const ccz_attester *a,
                                 const uint8_t report_data[64])
{
    CCZ_ENSURE(a && report_data && evidence, CCZ_ERR_INVALID_ARGUMENT, "missing argument");
    return a->backend->attester->attest(a->state, report_data, evidence, certs);
}
