/* SPDX-License-Identifier: Apache-2.0 */
/* Azure confidential VMs' evidence, verified, in trustee's terms (deps/verifier/src/
 * az_snp_vtpm, az_tdx_vtpm): the HCL variable data bound into the hardware report's report data
 * (SHA-256), the vTPM quote signed by the attestation key that variable data carries, its nonce
 * (the verifier's challenge) and PCR digest, the hardware evidence through ccz's own SNP and
 * DCAP verifiers, and PCR 8 against the init data. The evidence is untrusted; the AMD and Intel
 * roots come from the trust store the caller passes. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "ccz/azure.h"
#include "ccz/dcap.h"
#include "ccz/snp.h"
#include "core/guard.h"
#include "jose/jose.h"
#include "tee/dcap/dcap_internal.h"
#include "tee/internal.h"

#define AK_KID "HCLAkPub"
#define ALL_24_PCRS 0x00ffffffu
#define INIT_DATA_PCR 8

typedef struct {
    ccz_az_evidence ev;
    ccz_hcl_report hcl;
    ccz_tpm_quote_info quote;
    EVP_PKEY *ak;
    uint8_t hw_report_data[64];
    ccz_vtpm_claims vtpm;
} az_parsed;

static void az_parsed_free(az_parsed *p)
{
    EVP_PKEY_free(p->ak);
    ccz_az_evidence_free(&p->ev);
}

/* "vm-configuration" booleans: 1, 0, or -1 when absent or not a boolean. */
static int8_t flag(const json_t *cfg, const char *key)
{
    const json_t *v = json_object_get(cfg, key);
    return json_is_boolean(v) ? (int8_t)json_is_true(v) : -1;
}

/* The variable data: the vTPM's attestation key (the JWK whose kid is "HCLAkPub"), the
 * user-data and the VM's configuration. A missing or unusable key is CCZ_ERR_KEY_MALFORMED. */
static ccz_status read_var_data(az_parsed *p)
{
    ccz_json *doc = NULL;
    ccz_status s = ccz_json_parse(&doc, (const char *)p->hcl.var_data.ptr, p->hcl.var_data.len,
                                  CCZ_AZ_MAX_BYTES);
    const json_t *keys = s == CCZ_OK ? json_object_get((json_t *)doc, "keys") : NULL;
    const json_t *ak = NULL;
    for (size_t i = 0; i < json_array_size(keys) && !ak; i++) {
        const char *kid = json_string_value(json_object_get(json_array_get(keys, i), "kid"));
        if (kid && strcmp(kid, AK_KID) == 0)
            ak = json_array_get(keys, i);
    }
    if (s == CCZ_OK && !ak)
        s = ccz_fail(CCZ_ERR_NOT_FOUND, "no key with kid \"" AK_KID "\"");
    if (s == CCZ_OK)
        s = jose_jwk_to_key(&p->ak, ak);
    if (s == CCZ_OK && EVP_PKEY_get_base_id(p->ak) != EVP_PKEY_RSA)
        s = ccz_fail(CCZ_ERR_UNSUPPORTED, "the key is not an RSA key");
    if (s) {
        ccz_json_free(doc);
        return s == CCZ_ERR_NOMEM
                   ? s
                   : ccz_fail_context(CCZ_ERR_KEY_MALFORMED,
                                      "HCL variable data: no usable vTPM attestation key (" AK_KID
                                      ")");
    }
    const json_t *ud = json_object_get((json_t *)doc, "user-data");
    ccz_buf b = CCZ_BUF_INIT;
    if (json_is_string(ud) &&
        (s = ccz_hex_decode(&b, json_string_value(ud), json_string_length(ud))) == CCZ_OK &&
        b.len > sizeof p->vtpm.user_data)
        s = ccz_fail(CCZ_ERR_MALFORMED, "%zu bytes, more than 64", b.len);
    if (s == CCZ_OK && b.len)
        memcpy(p->vtpm.user_data, b.ptr, b.len);
    ccz_buf_free(&b);
    if (s == CCZ_OK && ud && !json_is_string(ud))
        s = ccz_fail(CCZ_ERR_MALFORMED, "not a string");
    if (s)
        ccz_fail_context(s, "HCL variable data: \"user-data\"");
    const json_t *cfg = json_object_get((json_t *)doc, "vm-configuration");
    const char *id = json_string_value(json_object_get(cfg, "vmUniqueId"));
    snprintf(p->vtpm.vm_unique_id, sizeof p->vtpm.vm_unique_id, "%s", id ? id : "");
    p->vtpm.secure_boot = flag(cfg, "secure-boot");
    p->vtpm.tpm_enabled = flag(cfg, "tpm-enabled");
    p->vtpm.console_enabled = flag(cfg, "console-enabled");
    ccz_json_free(doc);
    return s;
}

/* The report data of the hardware evidence: the SNP report inside the HCL report, or the TD
 * quote (the TDREPORT in the HCL report is not what Intel's quote signs). */
static ccz_status hw_report_data(az_parsed *p)
{
    if (p->ev.tee == CCZ_TEE_AZ_SNP_VTPM) {
        static __thread ccz_snp_report rep;
        CCZ_GUARD(ccz_snp_report_parse(&rep, p->hcl.hw_report, CCZ_SNP_UNKNOWN));
        memcpy(p->hw_report_data, rep.report_data, 64);
        return CCZ_OK;
    }
    ccz_dcap_quote q;
    static __thread ccz_tdx_claims td;
    CCZ_GUARD(ccz_dcap_quote_parse(&q, ccz_buf_span(&p->ev.td_quote)));
    CCZ_ENSURE(q.tee_type == CCZ_DCAP_TEE_TDX, CCZ_ERR_MALFORMED,
               "the \"td_quote\" is not a TDX quote");
    return ccz_dcap_td_report_decode(&td, p->hw_report_data, q.body);
}

static ccz_status parse(az_parsed *p, ccz_span evidence)
{
    memset(p, 0, sizeof *p);
    CCZ_GUARD(ccz_az_evidence_parse(&p->ev, evidence));
    CCZ_GUARD(ccz_hcl_report_parse(&p->hcl, ccz_buf_span(&p->ev.hcl_report)));
    unsigned want =
        p->ev.tee == CCZ_TEE_AZ_SNP_VTPM ? CCZ_HCL_REPORT_TYPE_SNP : CCZ_HCL_REPORT_TYPE_TDX;
    CCZ_ENSURE(p->hcl.report_type == want, CCZ_ERR_MALFORMED,
               "%s evidence whose HCL report holds a report of type %u", ccz_tee_name(p->ev.tee),
               p->hcl.report_type);
    CCZ_GUARD(read_var_data(p));
    CCZ_GUARD(ccz_tpm_quote_parse(&p->quote, ccz_buf_span(&p->ev.tpm_message)));
    CCZ_GUARD(hw_report_data(p));
    memcpy(p->vtpm.pcrs, p->ev.pcrs, sizeof p->vtpm.pcrs);
    memcpy(p->vtpm.hw_report_data, p->hw_report_data, 64);
    p->vtpm.evidence_version = p->ev.version;
    return CCZ_OK;
}

static ccz_status check_tpm_signature(const az_parsed *p)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    CCZ_ENSURE(ctx, CCZ_ERR_NOMEM, "out of memory");
    const ccz_buf *m = &p->ev.tpm_message, *sig = &p->ev.tpm_signature;
    int ok = EVP_DigestVerifyInit_ex(ctx, NULL, "SHA256", NULL, NULL, p->ak, NULL) == 1 &&
             EVP_DigestVerify(ctx, sig->ptr, sig->len, m->ptr, m->len) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return ccz_fail_ossl(CCZ_ERR_BAD_SIGNATURE,
                             "the vTPM quote is not signed by the attestation key of the HCL "
                             "report (RSASSA-PKCS1-v1_5, SHA-256)");
    return CCZ_OK;
}

static ccz_status check_pcrs(const az_parsed *p)
{
    CCZ_ENSURE(p->quote.pcr_select == ALL_24_PCRS, CCZ_ERR_UNSUPPORTED,
               "the vTPM quote selects PCRs 0x%08x: ccz verifies quotes of all 24 SHA-256 PCRs",
               p->quote.pcr_select);
    uint8_t d[32];
    CCZ_GUARD(tee_sha256(d, CCZ_SPAN(p->ev.pcrs, sizeof p->ev.pcrs)));
    if (!ccz_ct_equal(d, p->quote.pcr_digest, 32))
        return ccz_fail(CCZ_ERR_PCR_MISMATCH,
                        "the PCR values given are not the ones the vTPM quoted (their SHA-256 "
                        "differs from the quote's pcrDigest)");
    return CCZ_OK;
}

/* The HCL report's variable data is what the hardware report's report data vouches for. */
static ccz_status check_binding(ccz_result *r, const az_parsed *p)
{
    uint8_t h[32];
    CCZ_GUARD(tee_sha256(h, p->hcl.var_data));
    if (!ccz_ct_equal(h, p->hw_report_data, 32))
        return ccz_result_failf(r, CCZ_AT_HCL_REPORT, CCZ_ERR_BINDING,
                                "the HCL variable data's SHA-256 is not the %s's report data",
                                p->ev.tee == CCZ_TEE_AZ_SNP_VTPM ? "SNP report" : "TD quote");
    return CCZ_OK;
}

/* The hardware evidence, through ccz's own verifiers, with the report data check left to the
 * binding above. */
static ccz_status verify_hardware(ccz_result *r, const az_parsed *p, const ccz_verify_opts *o)
{
    ccz_verify_opts ho = *o;
    ho.expected_report_data = NULL;
    ho.eventlog = NULL;
    if (p->ev.tee == CCZ_TEE_AZ_TDX_VTPM) {
        ccz_status s = tee_backend_tdx.verify(r, ccz_buf_span(&p->ev.td_quote), &ho);
        if (s == CCZ_ERR_COLLATERAL_MISSING)
            return ccz_result_failf(r, CCZ_AT_COLLATERAL, s,
                                    "the TD quote in Azure TDX evidence is verified against "
                                    "Intel's collateral for its FMSPC (TCB info, QE identity, "
                                    "CRLs): this step needs the network once: 'ccz collateral "
                                    "fetch EVIDENCE --pccs URL -o FILE', then --collateral FILE");
        return s;
    }
    if (o->collateral && ((const ccz_collateral *)o->collateral)->kind != COLLATERAL_SNP)
        return ccz_result_failf(r, CCZ_AT_COLLATERAL, CCZ_ERR_COLLATERAL_MISMATCH,
                                "Azure SEV-SNP evidence carries its VCEK: Intel collateral does "
                                "not apply");
    if (o->collateral)
        return tee_backend_snp.verify(r, p->hcl.hw_report, &ho);
    /* the evidence's own VCEK: its chain is remembered in the trust store between evidences */
    return tee_snp_verify_with_vek(r, p->hcl.hw_report, ccz_buf_span(&p->ev.vcek), &ho);
}

static ccz_status check_init_data(ccz_result *r, const az_parsed *p, const uint8_t hash[32])
{
    uint8_t want[32];
    CCZ_GUARD(ccz_az_init_data_pcr(want, hash));
    if (!ccz_ct_equal(want, p->ev.pcrs[INIT_DATA_PCR], 32)) {
        char w[65], g[65];
        ccz_hex_to_str(w, want, 32);
        ccz_hex_to_str(g, p->ev.pcrs[INIT_DATA_PCR], 32);
        return ccz_result_failf(r, CCZ_AT_INIT_DATA, CCZ_ERR_INIT_DATA_MISMATCH,
                                "PCR 8 is %s; the init data hash given needs %s (SHA-256 of 32 "
                                "zero bytes and the hash)",
                                g, w);
    }
    return CCZ_OK;
}

static ccz_status verify_parsed(ccz_result *r, const az_parsed *p, const ccz_verify_opts *o)
{
    ccz_status s;
    CCZ_GUARD(check_binding(r, p));
    if (p->ev.version >= 2 && o->expected_report_data &&
        !ccz_ct_equal(o->expected_report_data, p->vtpm.user_data, 64))
        return ccz_result_failf(r, CCZ_AT_REPORT_DATA, CCZ_ERR_REPORT_DATA_MISMATCH,
                                "the HCL variable data's user-data is not the expected report "
                                "data");
    if ((s = check_tpm_signature(p)) != CCZ_OK || (s = check_pcrs(p)) != CCZ_OK)
        return ccz_result_fail(r, CCZ_AT_TPM_QUOTE, s);
    uint8_t nonce[64] = {0};
    memcpy(nonce, p->quote.extra_data, p->quote.extra_data_len);
    if (o->expected_report_data && !ccz_ct_equal(o->expected_report_data, nonce, 64))
        return ccz_result_failf(r, CCZ_AT_REPORT_DATA, CCZ_ERR_REPORT_DATA_MISMATCH,
                                "the vTPM quote's nonce (extraData) is not the expected report "
                                "data");
    CCZ_GUARD(verify_hardware(r, p, o));
    if (o->expected_init_data_hash)
        CCZ_GUARD(check_init_data(r, p, o->expected_init_data_hash));
    ccz_claims *c = &r->claims; /* the hardware verifier filled its part */
    c->tee = p->ev.tee;
    c->vtpm = p->vtpm;
    memcpy(c->report_data, nonce, 64);
    c->report_data_len = (uint8_t)p->quote.extra_data_len;
    if (!c->report_data_len) /* an empty nonce: show all 64 (zero) bytes rather than none */
        c->report_data_len = 64;
    return CCZ_OK;
}

static ccz_status az_verify(ccz_result *r, ccz_span evidence, const ccz_verify_opts *o)
{
    static __thread az_parsed p;
    ccz_status s = parse(&p, evidence);
    if (s == CCZ_OK)
        s = verify_parsed(r, &p, o);
    else
        ccz_result_fail(r, CCZ_AT_PARSE, s);
    az_parsed_free(&p);
    return s;
}

/* JSON whose top-level members name the parts: an HCL report ("hcl_report", v0 SNP "report"),
 * a TPM quote ("tpm_quote", v0 SNP "quote"), and a VCEK or a TD quote. */
static bool az_detect(ccz_span ev, bool tdx)
{
    size_t i = 0;
    while (i < ev.len &&
           (ev.ptr[i] == ' ' || ev.ptr[i] == '\n' || ev.ptr[i] == '\r' || ev.ptr[i] == '\t'))
        i++;
    if (i == ev.len || ev.ptr[i] != '{')
        return false;
    ccz_span v;
#define HAS(k) (ccz_json_raw_member(&v, ev, (k)) == CCZ_OK)
    bool ok = (HAS("hcl_report") || HAS("report")) && (HAS("tpm_quote") || HAS("quote")) &&
              (tdx ? HAS("td_quote") : HAS("vcek") && !HAS("td_quote"));
#undef HAS
    ccz_error_clear();
    return ok;
}

static bool detect_snp(ccz_span ev)
{
    return az_detect(ev, false);
}

static bool detect_tdx(ccz_span ev)
{
    return az_detect(ev, true);
}

const tee_backend tee_backend_az_snp = {
    .tee = CCZ_TEE_AZ_SNP_VTPM,
    .detect = detect_snp,
    .verify = az_verify,
    .attester = NULL,
};

const tee_backend tee_backend_az_tdx = {
    .tee = CCZ_TEE_AZ_TDX_VTPM,
    .detect = detect_tdx,
    .verify = az_verify,
    .attester = NULL,
};

ccz_status tee_az_peek(ccz_claims *c, ccz_span evidence)
{
    static __thread az_parsed p;
    ccz_status s = parse(&p, evidence);
    if (s == CCZ_OK) {
        c->tee = p.ev.tee;
        c->vtpm = p.vtpm;
        memcpy(c->report_data, p.quote.extra_data, p.quote.extra_data_len);
        c->report_data_len = p.quote.extra_data_len ? (uint8_t)p.quote.extra_data_len : 64;
    }
    if (s == CCZ_OK && p.ev.tee == CCZ_TEE_AZ_SNP_VTPM) {
        static __thread ccz_snp_report rep;
        if ((s = ccz_snp_report_parse(&rep, p.hcl.hw_report, CCZ_SNP_UNKNOWN)) == CCZ_OK) {
            c->snp = rep.claims;
            c->debug = (rep.claims.policy >> 19) & 1;
        }
    } else if (s == CCZ_OK) {
        ccz_dcap_quote q;
        uint8_t rd[64];
        if ((s = ccz_dcap_quote_parse(&q, ccz_buf_span(&p.ev.td_quote))) == CCZ_OK &&
            (s = ccz_dcap_td_report_decode(&c->tdx, rd, q.body)) == CCZ_OK)
            c->debug = (c->tdx.td_attributes[0] & 0x01) != 0;
    }
    az_parsed_free(&p);
    return s;
}
