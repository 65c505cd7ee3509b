/* SPDX-License-Identifier: Apache-2.0 */
/* ccz dcap: Intel DCAP ECDSA quotes (SGX v3/v4/v5, TDX v4/v5), the PCK certificate's SGX
 * extensions and the collateral that verifies them. Part of the tee module: ccz_verify uses it
 * for SGX and TDX evidence; these declarations expose the parsers for tools and tests.
 * Quotes and collateral are untrusted input; the parsers read them through the core cursor. */
#ifndef CCZ_DCAP_H
#define CCZ_DCAP_H

#include "ccz/core.h"
#include "ccz/tee.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CCZ_DCAP_HEADER_SIZE 48
#define CCZ_DCAP_SGX_REPORT_SIZE 384
#define CCZ_DCAP_TD10_REPORT_SIZE 584
#define CCZ_DCAP_TD15_REPORT_SIZE 648
#define CCZ_DCAP_TEE_SGX 0x00000000u
#define CCZ_DCAP_TEE_TDX 0x00000081u

typedef enum {
    CCZ_DCAP_BODY_SGX = 1,  /* SGX enclave report */
    CCZ_DCAP_BODY_TD10 = 2, /* TD report 1.0 */
    CCZ_DCAP_BODY_TD15 = 3  /* TD report 1.5 */
} ccz_dcap_body_type;

/* A parsed quote. Spans point into the caller's buffer, which must outlive the struct. */
typedef struct {
    uint16_t version;      /* 3, 4 or 5 */
    uint16_t att_key_type; /* 2: ECDSA P-256 */
    uint32_t tee_type;     /* CCZ_DCAP_TEE_SGX or CCZ_DCAP_TEE_TDX */
    uint16_t qe_svn;
    uint16_t pce_svn;
    uint8_t qe_vendor_id[16];
    uint8_t user_data[20];
    ccz_dcap_body_type body_type;
    ccz_span body;               /* the enclave or TD report */
    ccz_span signed_part;        /* what the attestation key signs: header .. end of body */
    uint8_t signature[64];       /* r || s over signed_part */
    uint8_t attestation_key[64]; /* x || y of the P-256 attestation key */
    ccz_span qe_report;          /* 384-byte SGX report of the quoting enclave */
    uint8_t qe_report_signature[64];
    ccz_span qe_auth_data;
    uint16_t cert_type; /* certification data type: 5 = PCK chain in PEM */
    ccz_span cert_data;
} ccz_dcap_quote;

/* Parses a quote. Trailing bytes after the signature data are allowed (buffers are often
 * padded); the length fields decide. Unsupported attestation key types or certification data
 * types give CCZ_ERR_UNSUPPORTED. */
CCZ_API CCZ_NODISCARD ccz_status ccz_dcap_quote_parse(ccz_dcap_quote *out, ccz_span in);

/* Decodes an SGX report (enclave or QE) into claims' SGX fields and report data. */
CCZ_API CCZ_NODISCARD ccz_status ccz_dcap_sgx_report_decode(ccz_sgx_claims *out,
                                                            uint8_t report_data[64], ccz_span in);
/* Decodes a TD report 1.0 or 1.5 (by length). */
CCZ_API CCZ_NODISCARD ccz_status ccz_dcap_td_report_decode(ccz_tdx_claims *out,
                                                           uint8_t report_data[64], ccz_span in);

/* The SGX extensions of a PCK certificate (OID 1.2.840.113741.1.13.1). */
typedef struct {
    uint8_t ppid[16];
    uint8_t cpusvn_components[16]; /* TCB comp 1..16 */
    uint16_t pcesvn;
    uint8_t cpusvn[16];
    uint8_t pce_id[2];
    uint8_t fmspc[6];
    int sgx_type; /* 0 Standard, 1 Scalable, 2 Scalable with integrity */
} ccz_pck_ext;

/* Parses the DER value of the SGX extension. */
CCZ_API CCZ_NODISCARD ccz_status ccz_dcap_pck_ext_parse(ccz_pck_ext *out, ccz_span der);

/* ---- collateral ------------------------------------------------------------------------------*/

/* Parses dcap-qvl's QuoteCollateralV3 JSON (pck_crl_issuer_chain, root_ca_crl, pck_crl,
 * tcb_info_issuer_chain, tcb_info, tcb_info_signature, qe_identity_issuer_chain, qe_identity,
 * qe_identity_signature). Checks structure only; signatures are checked when a quote is
 * verified, once per validity window (the collateral caches what it has verified). */
CCZ_API CCZ_NODISCARD ccz_status ccz_collateral_parse(ccz_collateral **out, const char *json,
                                                      size_t len);
CCZ_API CCZ_NODISCARD ccz_status ccz_collateral_load_file(ccz_collateral **out, const char *path);
CCZ_API void ccz_collateral_free(ccz_collateral *c);
/* The FMSPC the collateral's TCB info is for, and its TEE ("SGX" or "TDX"). */
CCZ_API void ccz_collateral_fmspc(uint8_t fmspc[6], const ccz_collateral *c);
CCZ_API const char *ccz_collateral_tee(const ccz_collateral *c);

/* The earliest nextUpdate among the collateral's TCB info, QE identity and CRLs: when it must
 * be fetched again (0 when the collateral is not usable: see ccz_collateral_problem). */
CCZ_API int64_t ccz_collateral_expiry(const ccz_collateral *c);
/* CCZ_OK when ccz can verify quotes with this collateral; otherwise the status verification
 * will fail with at the collateral step (collateral_unsupported, malformed), with the reason in
 * ccz_error_detail(). Signatures and dates are not checked here: that is verification. */
CCZ_API CCZ_NODISCARD ccz_status ccz_collateral_problem(const ccz_collateral *c);

#define CCZ_COLLATERAL_FETCH_OPTS_VERSION 1

typedef struct {
    unsigned version;         /* CCZ_COLLATERAL_FETCH_OPTS_VERSION */
    const char *base_url;     /* a PCCS (https://pccs:8081) or Intel PCS
                                (https://api.trustedservices.intel.com); v4 API */
    const char *cache_dir;    /* where fetched collateral is kept until it expires; NULL: none */
    int64_t now;              /* the instant that decides whether the cache is still good
                                 (unix seconds; 0: the current time) */
    const char *ca_file;      /* PEM roots for the server's TLS certificate; NULL: the system's */
    bool tls_verify_insecure; /* skip TLS server verification (collateral is signed anyway) */
    long timeout_seconds;     /* for the whole fetch, all its requests; 0: 60 */
} ccz_collateral_fetch_opts;

#define CCZ_COLLATERAL_FETCH_OPTS_INIT                                                             \
    {                                                                                              \
        CCZ_COLLATERAL_FETCH_OPTS_VERSION, NULL, NULL, 0, NULL, false, 0                           \
    }

/* Fetches the collateral a quote needs (PCK CRL for its PCK CA, root CA CRL, TCB info for its
 * FMSPC, QE identity) and appends it to out as QuoteCollateralV3 JSON. With a cache directory,
 * collateral cached for the same TEE, FMSPC and PCK CA is used until its expiry;
 * *from_cache says which happened. */
CCZ_API CCZ_NODISCARD ccz_status ccz_collateral_fetch(ccz_buf *out, bool *from_cache,
                                                      ccz_span quote,
                                                      const ccz_collateral_fetch_opts *o);

/* The Intel SGX Root CA, built in (DER). */
CCZ_API ccz_span ccz_dcap_intel_root_ca(void);
/* Adds an Intel root (PEM or DER) that DCAP chains must end in. */
CCZ_API CCZ_NODISCARD ccz_status ccz_trust_add_intel_root(ccz_trust *t, ccz_span cert);
/* Adds the built-in roots: the Intel SGX Root CA, and AMD's ARKs with their ASKs and ASVKs
 * for Milan, Genoa and Turin. */
CCZ_API CCZ_NODISCARD ccz_status ccz_trust_add_builtin(ccz_trust *t);

#ifdef __cplusplus
}
#endif
#endif
