/* SPDX-License-Identifier: Apache-2.0 */
/* Azure confidential VMs' evidence, parsed: trustee's evidence JSON (deps/verifier/src/
 * az_{snp,tdx}_vtpm/compat.rs), the HCL report (kinvolk/azure-cvm-tooling az-cvm-vtpm/src/hcl)
 * and the vTPM's TPMS_ATTEST (TPM 2.0 Part 2). All of it is untrusted: binary parts are read
 * through the core cursor, the JSON through jansson with a size cap. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "ccz/azure.h"
#include "core/guard.h"
#include "jose/jose.h"

#define HCL_SIGNATURE 0x414c4348u /* "HCLA" */
#define HCL_HASH_SHA256 1
#define TDREPORT_SIZE 1024
#define TPM_GENERATED_VALUE 0xff544347u
#define TPM_ST_ATTEST_QUOTE 0x8018
#define TPM_ALG_SHA256 0x000b

/* ---- the HCL report --------------------------------------------------------------------------*/

ccz_status ccz_hcl_report_parse(ccz_hcl_report *r, ccz_span in)
{
    memset(r, 0, sizeof *r);
    ccz_cursor c;
    ccz_cursor_init(&c, in);
    uint32_t sig, data_size, req_version, var_size;
    ccz_span hw;
    ccz_status s;
    CCZ_GUARD_GOTO(ccz_cursor_u32le(&c, &sig), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_u32le(&c, &r->version), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_u32le(&c, &r->report_size), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_u32le(&c, &r->request_type), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_u32le(&c, &r->status), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_skip(&c, 12), s, bad); /* reserved */
    CCZ_GUARD_GOTO(ccz_cursor_take(&c, &hw, CCZ_HCL_HW_REPORT_SIZE), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_u32le(&c, &data_size), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_u32le(&c, &req_version), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_u32le(&c, &r->report_type), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_u32le(&c, &r->hash_type), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_u32le(&c, &var_size), s, bad);
    CCZ_GUARD_GOTO(ccz_cursor_take(&c, &r->var_data, var_size), s, bad);
    CCZ_ENSURE(sig == HCL_SIGNATURE, CCZ_ERR_MALFORMED,
               "HCL report: the header's signature is 0x%08x, not \"HCLA\"", sig);
    if (r->report_type == CCZ_HCL_REPORT_TYPE_SNP)
        r->hw_report = hw;
    else if (r->report_type == CCZ_HCL_REPORT_TYPE_TDX)
        r->hw_report = CCZ_SPAN(hw.ptr, TDREPORT_SIZE);
    else
        return ccz_fail(CCZ_ERR_UNSUPPORTED,
                        "HCL report: report type %u is neither SNP (2) nor TDX (4)",
                        r->report_type);
    CCZ_ENSURE(r->hash_type == HCL_HASH_SHA256, CCZ_ERR_UNSUPPORTED,
               "HCL report: the variable data is bound with hash type %u, not SHA-256 (1)",
               r->hash_type);
    return CCZ_OK;
bad:
    return ccz_fail_context(s, "HCL report");
}

/* ---- the TPM quote ---------------------------------------------------------------------------*/

static ccz_status u64be(ccz_cursor *c, uint64_t *out)
{
    uint32_t hi, lo;
    CCZ_GUARD(ccz_cursor_u32be(c, &hi));
    CCZ_GUARD(ccz_cursor_u32be(c, &lo));
    *out = (uint64_t)hi << 32 | lo;
    return CCZ_OK;
}

/* A TPM2B: a big-endian u16 size and that many bytes, at most max. */
static ccz_status tpm2b(ccz_cursor *c, ccz_span *out, size_t max, const char *what)
{
    uint16_t n;
    CCZ_GUARD(ccz_cursor_u16be(c, &n));
    CCZ_ENSURE(n <= max, CCZ_ERR_MALFORMED, "%s of %u bytes (at most %zu)", what, n, max);
    return ccz_cursor_take(c, out, n);
}

static ccz_status quote_body(ccz_tpm_quote_info *q, ccz_cursor *c)
{
    uint32_t magic, banks;
    uint16_t type;
    uint8_t nsel;
    ccz_span extra, sel, digest;
    CCZ_GUARD(ccz_cursor_u32be(c, &magic));
    CCZ_ENSURE(magic == TPM_GENERATED_VALUE, CCZ_ERR_MALFORMED,
               "the magic is 0x%08x, not TPM_GENERATED_VALUE", magic);
    CCZ_GUARD(ccz_cursor_u16be(c, &type));
    CCZ_ENSURE(type == TPM_ST_ATTEST_QUOTE, CCZ_ERR_UNSUPPORTED,
               "attestation of type 0x%04x, not a quote (0x8018)", type);
    CCZ_GUARD(tpm2b(c, &q->qualified_signer, 2 + 64, "qualifiedSigner"));
    CCZ_GUARD(tpm2b(c, &extra, sizeof q->extra_data, "extraData"));
    memcpy(q->extra_data, extra.ptr, extra.len);
    q->extra_data_len = extra.len;
    CCZ_GUARD(u64be(c, &q->clock));
    CCZ_GUARD(ccz_cursor_u32be(c, &q->reset_count));
    CCZ_GUARD(ccz_cursor_u32be(c, &q->restart_count));
    CCZ_GUARD(ccz_cursor_u8(c, &q->safe));
    CCZ_GUARD(u64be(c, &q->firmware_version));
    CCZ_GUARD(ccz_cursor_u32be(c, &banks));
    CCZ_ENSURE(banks == 1, CCZ_ERR_UNSUPPORTED, "the quote covers %u PCR banks (ccz reads 1)",
               banks);
    CCZ_GUARD(ccz_cursor_u16be(c, &q->pcr_bank));
    CCZ_ENSURE(q->pcr_bank == TPM_ALG_SHA256, CCZ_ERR_UNSUPPORTED,
               "the quoted PCR bank is 0x%04x, not SHA-256", q->pcr_bank);
    CCZ_GUARD(ccz_cursor_u8(c, &nsel));
    CCZ_ENSURE(nsel >= 3 && nsel <= 4, CCZ_ERR_MALFORMED, "a PCR selection of %u bytes", nsel);
    CCZ_GUARD(ccz_cursor_take(c, &sel, nsel));
    for (size_t i = 0; i < nsel; i++)
        q->pcr_select |= (uint32_t)sel.ptr[i] << (8 * i);
    CCZ_GUARD(tpm2b(c, &digest, 32, "pcrDigest"));
    CCZ_ENSURE(digest.len == 32, CCZ_ERR_MALFORMED, "a SHA-256 pcrDigest of %zu bytes", digest.len);
    memcpy(q->pcr_digest, digest.ptr, 32);
    return ccz_cursor_expect_end(c);
}

ccz_status ccz_tpm_quote_parse(ccz_tpm_quote_info *q, ccz_span in)
{
    memset(q, 0, sizeof *q);
    ccz_cursor c;
    ccz_cursor_init(&c, in);
    ccz_status s = quote_body(q, &c);
    return s ? ccz_fail_context(s, "TPM quote") : CCZ_OK;
}

/* ---- the evidence document -------------------------------------------------------------------*/

typedef enum { ENC_ARRAY, ENC_HEX, ENC_B64URL } encoding;

/* Base64url with or without its '=' padding (trustee's serde_with writes it padded). */
static ccz_status b64url(ccz_buf *out, const char *s, size_t n)
{
    size_t pad = 0;
    while (pad < 2 && pad < n && s[n - 1 - pad] == '=')
        pad++;
    CCZ_ENSURE(!pad || n % 4 == 0, CCZ_ERR_ENCODING, "base64url: misplaced '=' padding");
    return jose_b64url_decode(out, s, n - pad);
}

/* The bytes of a JSON value named `what`, in the encoding of the evidence's version. */
static ccz_status value_bytes(ccz_buf *out, const json_t *v, const char *what, encoding enc,
                              size_t max)
{
    ccz_status s = CCZ_OK;
    if (enc == ENC_ARRAY) {
        CCZ_ENSURE(json_is_array(v), CCZ_ERR_MALFORMED, "%s is missing or not an array", what);
        CCZ_ENSURE(json_array_size(v) <= max, CCZ_ERR_TOO_LARGE, "%s is too long", what);
        for (size_t i = 0; i < json_array_size(v) && s == CCZ_OK; i++) {
            const json_t *b = json_array_get(v, i);
            json_int_t x = json_integer_value(b);
            CCZ_ENSURE(json_is_integer(b) && x >= 0 && x <= 255, CCZ_ERR_MALFORMED,
                       "%s[%zu] is not a byte", what, i);
            s = ccz_buf_append_u8(out, (uint8_t)x);
        }
        return s;
    }
    CCZ_ENSURE(json_is_string(v), CCZ_ERR_MALFORMED, "%s is missing or not a string", what);
    size_t n = json_string_length(v);
    CCZ_ENSURE(n <= 2 * max, CCZ_ERR_TOO_LARGE, "%s is too long", what);
    s = enc == ENC_HEX ? ccz_hex_decode(out, json_string_value(v), n)
                       : b64url(out, json_string_value(v), n);
    return s ? ccz_fail_context(s, "%s", what) : CCZ_OK;
}

static ccz_status member_bytes(ccz_buf *out, const json_t *o, const char *key, encoding enc,
                               size_t max)
{
    char what[32];
    snprintf(what, sizeof what, "\"%s\"", key);
    return value_bytes(out, json_object_get(o, key), what, enc, max);
}

static ccz_status read_quote(ccz_az_evidence *e, const json_t *q, encoding enc)
{
    CCZ_ENSURE(json_is_object(q), CCZ_ERR_MALFORMED, "the TPM quote is missing or not an object");
    CCZ_GUARD(member_bytes(&e->tpm_signature, q, "signature", enc, 4096));
    CCZ_GUARD(member_bytes(&e->tpm_message, q, "message", enc, 4096));
    const json_t *pcrs = json_object_get(q, "pcrs");
    CCZ_ENSURE(json_is_array(pcrs) && json_array_size(pcrs) == 24, CCZ_ERR_MALFORMED,
               "the TPM quote's \"pcrs\" is not a list of 24 PCRs");
    for (size_t i = 0; i < 24; i++) {
        ccz_buf b = CCZ_BUF_INIT;
        char what[16];
        snprintf(what, sizeof what, "pcrs[%zu]", i);
        ccz_status s = value_bytes(&b, json_array_get(pcrs, i), what, enc, 32);
        if (s == CCZ_OK && b.len != 32)
            s = ccz_fail(CCZ_ERR_MALFORMED, "%s is %zu bytes, not 32", what, b.len);
        if (s == CCZ_OK)
            memcpy(e->pcrs[i], b.ptr, 32);
        ccz_buf_free(&b);
        CCZ_GUARD(s);
    }
    return CCZ_OK;
}

static ccz_status read_evidence(ccz_az_evidence *e, const json_t *o)
{
    CCZ_ENSURE(json_is_object(o), CCZ_ERR_MALFORMED, "not a JSON object");
    const json_t *ver = json_object_get(o, "version");
    bool tdx = json_object_get(o, "td_quote") != NULL;
    e->tee = tdx ? CCZ_TEE_AZ_TDX_VTPM : CCZ_TEE_AZ_SNP_VTPM;
    if (!ver) { /* v0: byte arrays; SNP names its parts "quote" and "report" */
        CCZ_GUARD(read_quote(e, json_object_get(o, tdx ? "tpm_quote" : "quote"), ENC_ARRAY));
        CCZ_GUARD(member_bytes(&e->hcl_report, o, tdx ? "hcl_report" : "report", ENC_ARRAY,
                               CCZ_AZ_MAX_BYTES));
        if (tdx)
            return member_bytes(&e->td_quote, o, "td_quote", ENC_ARRAY, CCZ_AZ_MAX_BYTES);
        const json_t *pem = json_object_get(o, "vcek");
        CCZ_ENSURE(json_is_string(pem), CCZ_ERR_MALFORMED, "\"vcek\" is missing or not PEM text");
        return ccz_buf_append(&e->vcek, json_string_value(pem), json_string_length(pem));
    }
    json_int_t v = json_integer_value(ver);
    CCZ_ENSURE(json_is_integer(ver) && (v == 1 || v == 2), CCZ_ERR_UNSUPPORTED,
               "evidence version %s is not supported (0, 1 or 2 are)",
               json_is_integer(ver) ? "other than 1 or 2" : "not a number,");
    e->version = (uint32_t)v;
    CCZ_GUARD(read_quote(e, json_object_get(o, "tpm_quote"), ENC_HEX));
    CCZ_GUARD(member_bytes(&e->hcl_report, o, "hcl_report", ENC_B64URL, CCZ_AZ_MAX_BYTES));
    return tdx ? member_bytes(&e->td_quote, o, "td_quote", ENC_B64URL, CCZ_AZ_MAX_BYTES)
               : member_bytes(&e->vcek, o, "vcek", ENC_B64URL, 64 * 1024);
}

ccz_status ccz_az_evidence_parse(ccz_az_evidence *e, ccz_span json)
{
    memset(e, 0, sizeof *e);
    ccz_json *doc = NULL;
    ccz_status s = ccz_json_parse(&doc, (const char *)json.ptr, json.len, 4 * CCZ_AZ_MAX_BYTES);
    if (s == CCZ_OK)
        s = read_evidence(e, (const json_t *)doc);
    ccz_json_free(doc);
    if (s) {
        ccz_az_evidence_free(e);
        return ccz_fail_context(s, "Azure vTPM evidence");
    }
    return CCZ_OK;
}

void ccz_az_evidence_free(ccz_az_evidence *e)
{
    ccz_buf_free(&e->hcl_report);
    ccz_buf_free(&e->tpm_message);
    ccz_buf_free(&e->tpm_signature);
    ccz_buf_free(&e->vcek);
    ccz_buf_free(&e->td_quote);
    memset(e, 0, sizeof *e);
}

ccz_status ccz_az_init_data_pcr(uint8_t pcr8[32], const uint8_t init_data_hash[32])
{
    uint8_t in[64] = {0};
    memcpy(in + 32, init_data_hash, 32);
    CCZ_GUARD_OSSL(EVP_Digest(in, sizeof in, pcr8, NULL, EVP_sha256(), NULL), CCZ_ERR_CRYPTO,
                   "SHA-256 failed");
    return CCZ_OK;
}
