/* SPDX-License-Identifier: Apache-2.0 */
/* A test-only DCAP "platform": its own root CA, PCK CA, PCK certificate (with SGX extensions),
 * TCB signing certificate, CRLs, and quotes signed the way a real quoting enclave signs them.
 * With its root trusted, ccz's verifier runs end to end on inputs the tests choose: TCB levels,
 * TDX module identities, QE identities, revocations, validity windows. Nothing here is Intel's;
 * it exists to exercise branches the recorded vectors do not reach. */
#ifndef CCZ_TEST_DCAP_FORGE_H
#define CCZ_TEST_DCAP_FORGE_H

#include "ccz/ccz.h"

typedef struct forge forge;

/* Certificates valid 2020-01-01 .. 2040-01-01; CRLs valid crl_from .. crl_until. The PKI is
 * shaped as Intel's, so that Intel's QVL parsers would also take it: Intel's subject names
 * ("Intel SGX Root CA", "Intel SGX PCK Processor CA" or "... Platform CA", "Intel SGX PCK
 * Certificate", "Intel SGX TCB Signing"; O=Intel Corporation, L=Santa Clara, ST=CA, C=US),
 * authority key identifier and CRL distribution point on every certificate, pathlen 1 on the
 * root, CRL number and authority key identifier on every CRL. forge_new_platform's PCK CA is
 * the Platform CA, and its PCK certificates carry PlatformInstanceID and Configuration. */
forge *forge_new(void);
forge *forge_new_platform(void);
void forge_free(forge *f);
/* The root certificate (PEM), to trust with ccz_trust_add_intel_root. */
ccz_span forge_root_pem(const forge *f);
/* A new trust store whose one Intel root is f's (the caller frees it). */
ccz_trust *forge_trust(const forge *f);
/* A new PCK key: the quotes forged from now on carry a PCK certificate for it (another
 * platform under the same PCK CA). */
void forge_new_pck_key(forge *f);
/* A new PCK key on P-384, which DCAP does not use (the QE report signature it makes is not a
 * P-256 one). */
void forge_new_pck_key_p384(forge *f);

typedef struct {
    int version; /* 3, 4, 5 */
    bool tdx;
    bool td15;       /* v5 TD report 1.5 */
    ccz_pck_ext ext; /* the PCK certificate's SGX extensions */
    uint8_t tee_tcb_svn[16];
    uint8_t tee_tcb_svn2[16];
    uint8_t mr_signer_seam[48];
    uint8_t qe_mrsigner[32];
    uint16_t qe_isvprodid;
    uint16_t qe_isvsvn;
    uint8_t qe_attributes0;     /* first attribute byte of the QE report (0x11 normally) */
    uint32_t qe_miscselect;     /* the QE report's MISCSELECT (0 normally) */
    uint8_t seam_attributes[8]; /* TDX: the TD report's SEAMATTRIBUTES (zero normally) */
    bool td_debug;              /* TDX: TDATTRIBUTES' DEBUG bit */
    uint8_t rtmr[4][48];        /* TDX: RTMR0..3 (zero normally) */
    uint8_t report_data[64];
    uint16_t cert_type;                    /* 5 normally */
    uint8_t qe_report_data_hi[32];         /* the QE report data's upper half (zero normally) */
    int64_t pck_not_before, pck_not_after; /* the PCK certificate's validity; 0: the default */
} forge_quote_opts;

/* Defaults: SGX v3, FMSPC 00906ED50000, PCE-ID 0000, all TCB components 5, PCESVN 10,
 * QE MRSIGNER 0x8c..., ISVPRODID 1 (2 for TDX), ISVSVN 8. */
void forge_quote_defaults(forge_quote_opts *o);
ccz_status forge_quote(forge *f, ccz_buf *out, const forge_quote_opts *o);

typedef struct {
    const char *tcb_info;    /* the tcbInfo object, compact JSON */
    const char *qe_identity; /* the enclaveIdentity object */
    int64_t crl_from, crl_until;
    bool revoke_pck;    /* put the PCK certificate on the PCK CRL */
    bool revoke_pck_ca; /* put the PCK CA on the root CRL */
} forge_collateral_opts;

/* Whether the root CRLs forged from now on revoke the TCB signing certificate. */
void forge_revoke_tcb_signer(forge *f, bool revoke);
/* A QuoteCollateralV3 JSON document for the options (signatures made by the forge). */
ccz_status forge_collateral(forge *f, ccz_buf *out, const forge_collateral_opts *o);

/* ---- collateral bodies as JSON (jansson; functions taking a json_t * steal the reference) --*/

typedef struct json_t json_t;

/* A TCB info level: 16 SGX components, PCE SVN, 16 TDX components (NULL: an SGX level), status,
 * advisory IDs (NULL-terminated list, or NULL for none). */
json_t *forge_tcb_level(const uint8_t sgx[16], unsigned pcesvn, const uint8_t *tdx,
                        const char *status, const char *const *advisories);
/* A TDX module or QE identity level. */
json_t *forge_isv_level(unsigned isvsvn, const char *status, const char *const *advisories);
/* A tdxModuleIdentities entry whose MRSIGNER and attributes are zero. */
json_t *forge_module_identity(const char *id, json_t *levels);
/* TCB info v3 (FMSPC 00906ED50000, PCE-ID 0000, valid 2025-2035); a TDX one has a zero-MRSIGNER
 * tdxModule and, when modules is not NULL, tdxModuleIdentities. */
json_t *forge_tcb_info(bool tdx, json_t *levels, json_t *modules);
/* QE identity v2 (QE or TD_QE) matching forge_quote_defaults' QE, valid 2025-2035. */
json_t *forge_qe_identity(bool td, json_t *levels);
/* Compact JSON text of o, which is released; the caller frees the text. */
char *forge_dump(json_t *o);

/* ---- one verification -----------------------------------------------------------------------*/

typedef struct {
    ccz_status status;
    char step[32]; /* failing step, "" when verified */
    char tcb[64];  /* tcb_status when verified, else the status name */
    char adv[512]; /* advisories, comma-separated */
    char message[512];
} forge_outcome;

/* Forges the quote and collateral, optionally lets tamper change the quote bytes, parses the
 * collateral afresh and verifies at `at` against the forge's root. */
forge_outcome forge_verify(forge *f, int64_t at, const forge_quote_opts *qo,
                           const forge_collateral_opts *co, void (*tamper)(ccz_buf *quote));

#endif
