/* SPDX-License-Identifier: Apache-2.0 */
/* ccz azure: the evidence of Azure confidential VMs, as trustee's az-snp-vtpm and az-tdx-vtpm
 * verifiers take it (JSON, versions 0 to 2): Microsoft's HCL report, whose variable data (the
 * vTPM's attestation key, the VM's configuration, user data) is bound into the hardware
 * report's report data by SHA-256; the vTPM's quote (TPMS_ATTEST) of its 24 SHA-256 PCRs,
 * signed by that key; and the hardware evidence: the SEV-SNP report inside the HCL report with
 * its VCEK, or a TD quote. Part of the tee module: ccz_verify uses it for this evidence; these
 * declarations expose the parsers for tools and tests. Everything here is untrusted input. */
#ifndef CCZ_AZURE_H
#define CCZ_AZURE_H

#include "ccz/core.h"
#include "ccz/tee.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The HCL report: an attestation header (8 x u32), the hardware report area (1184 bytes: an
 * SNP report, or a 1024-byte TDREPORT and padding), the IGVM request data (5 x u32), then the
 * variable data. */
#define CCZ_HCL_HW_REPORT_OFFSET 0x20
#define CCZ_HCL_HW_REPORT_SIZE 1184
#define CCZ_HCL_VAR_DATA_OFFSET 0x4d4
#define CCZ_HCL_REPORT_TYPE_SNP 2
#define CCZ_HCL_REPORT_TYPE_TDX 4
#define CCZ_AZ_MAX_BYTES (1u << 20) /* the largest evidence document or part read */

typedef struct {
    uint32_t version, report_size, request_type, status; /* the header */
    uint32_t report_type;                                /* CCZ_HCL_REPORT_TYPE_SNP or _TDX */
    uint32_t hash_type;                                  /* 1: SHA-256, the only one accepted */
    ccz_span hw_report; /* the SNP report (1184 bytes) or the TDREPORT (1024 bytes) */
    ccz_span var_data;  /* JSON: {"keys": [JWK...], "vm-configuration": {...}, "user-data"} */
} ccz_hcl_report;

/* Parses an HCL report (spans borrow from in). The header must say "HCLA"; the report type
 * SNP or TDX; the variable data within the input. */
CCZ_API CCZ_NODISCARD ccz_status ccz_hcl_report_parse(ccz_hcl_report *out, ccz_span in);

/* A vTPM quote's TPMS_ATTEST (TPM 2.0 Part 2 §10.12.12), big-endian on the wire. */
typedef struct {
    ccz_span qualified_signer;
    uint8_t extra_data[64]; /* the nonce: the verifier's challenge */
    size_t extra_data_len;
    uint64_t clock;
    uint32_t reset_count, restart_count;
    uint8_t safe;
    uint64_t firmware_version;
    uint16_t pcr_bank;      /* the one bank quoted (TPM_ALG_SHA256) */
    uint32_t pcr_select;    /* PCRs 0..31 selected, bit i = PCR i */
    uint8_t pcr_digest[32]; /* SHA-256 of the selected PCRs' values in order */
} ccz_tpm_quote_info;

/* Parses a TPMS_ATTEST of type TPM_ST_ATTEST_QUOTE (spans borrow from in). Quotes of one
 * SHA-256 bank only (CCZ_ERR_UNSUPPORTED otherwise). */
CCZ_API CCZ_NODISCARD ccz_status ccz_tpm_quote_parse(ccz_tpm_quote_info *out, ccz_span in);

/* The parts of an evidence document, decoded (owned; ccz_az_evidence_free). */
typedef struct {
    ccz_tee tee;      /* CCZ_TEE_AZ_SNP_VTPM or CCZ_TEE_AZ_TDX_VTPM */
    uint32_t version; /* 0 (no "version"), 1 or 2 */
    ccz_buf hcl_report;
    ccz_buf tpm_message;   /* TPMS_ATTEST */
    ccz_buf tpm_signature; /* RSASSA-PKCS1-v1_5 with SHA-256, by the AK */
    uint8_t pcrs[24][32];
    ccz_buf vcek;     /* SNP: DER (v1, v2) or PEM (v0) */
    ccz_buf td_quote; /* TDX */
} ccz_az_evidence;

/* Decodes an evidence document: v0 {"quote"|"tpm_quote": {"signature", "message", "pcrs"} as
 * byte arrays, "report"|"hcl_report": [bytes], "vcek": PEM | "td_quote": [bytes]}; v1 and v2
 * {"version", "tpm_quote": {hex strings}, "hcl_report": base64url, "vcek"|"td_quote":
 * base64url}. The parts are not parsed further. */
CCZ_API CCZ_NODISCARD ccz_status ccz_az_evidence_parse(ccz_az_evidence *out, ccz_span json);
CCZ_API void ccz_az_evidence_free(ccz_az_evidence *e);

/* PCR 8 as trustee's init-data rule wants it: SHA-256(32 zero bytes || init_data_hash). */
CCZ_API CCZ_NODISCARD ccz_status ccz_az_init_data_pcr(uint8_t pcr8[32],
                                                      const uint8_t init_data_hash[32]);

#ifdef __cplusplus
}
#endif
#endif
