/* SPDX-License-Identifier: Apache-2.0 */
/* Private to src/tee: parsed DCAP collateral (TCB info, QE identity, chains, CRLs) and the
 * cache of what has been verified, shared by the collateral parser and the verifier. */
#ifndef CCZ_DCAP_INTERNAL_H
#define CCZ_DCAP_INTERNAL_H

#include <pthread.h>

#include <openssl/x509.h>

#include "ccz/dcap.h"
#include "ccz/csv.h"
#include "ccz/snp.h"

#define DCAP_MAX_ADVISORIES 64

typedef struct {
    char status[48];
    int64_t tcb_date;
    size_t n_advisories;
    char (*advisories)[CCZ_ADVISORY_LEN];
} dcap_status_info;

typedef struct {
    uint8_t sgx[16];
    uint16_t pcesvn;
    bool has_tdx;
    uint8_t tdx[16];
    dcap_status_info st;
} dcap_tcb_level;

typedef struct {
    uint16_t isvsvn;
    dcap_status_info st;
} dcap_isv_level;

typedef struct {
    char id[16]; /* "TDX_01" */
    uint8_t mrsigner[48];
    uint8_t attributes[8];
    uint8_t attributes_mask[8];
    size_t n_levels;
    dcap_isv_level *levels;
} dcap_module_identity;

typedef struct {
    bool tdx; /* id "TDX" (else "SGX") */
    int version;
    int64_t issue_date, next_update;
    uint8_t fmspc[6];
    uint8_t pce_id[2];
    int tcb_type;
    int eval_number;
    size_t n_levels;
    dcap_tcb_level *levels;
    bool has_module;
    uint8_t module_mrsigner[48];
    uint8_t module_attributes[8];
    uint8_t module_attributes_mask[8];
    size_t n_modules;
    dcap_module_identity *modules;
} dcap_tcb_info;

typedef struct {
    bool td_qe; /* id "TD_QE" (else "QE") */
    int version;
    int64_t issue_date, next_update;
    int eval_number;
    uint32_t miscselect, miscselect_mask;
    uint8_t attributes[16], attributes_mask[16];
    uint8_t mrsigner[32];
    uint16_t isvprodid;
    size_t n_levels;
    dcap_isv_level *levels;
} dcap_qe_identity;

/* A PCK chain already verified against this collateral, kept so the next quote from the same
 * platform costs no certificate work. */
typedef struct {
    uint8_t *chain; /* the certification data, compared byte for byte */
    size_t chain_len;
    uint8_t chain_hash[32]; /* its SHA-256: the chain's key in the QE report signature cache */
    uint64_t trust_id;      /* the roots it was verified against */
    EVP_PKEY *pck_key;
    ccz_pck_ext ext;
    int64_t valid_from, valid_until; /* where chain, certificates and CRLs are all valid */
} dcap_pck_cache;

#define DCAP_PCK_CACHE 8

/* QE report signatures already verified against this collateral's PCK chains, by the SHA-256
 * of a domain string, the PCK chain's cache key (chain_hash), the QE report and its signature:
 * one platform's quoting enclave signs the same report for every quote its attestation key
 * signs. Only that ECDSA verification is remembered; nothing of a quote's own verdict. */
#define DCAP_QE_SIG_CACHE 8

/* Attestation keys seen in quotes, each with a context set up to verify with it (used under
 * the collateral's lock). A key is parsed, not trusted: the QE report vouches for it on every
 * quote. */
typedef struct {
    uint8_t xy[64];
    EVP_PKEY_CTX *verifier; /* NULL: unused */
} dcap_ak_cache;

#define DCAP_AK_CACHE 8

typedef enum { COLLATERAL_DCAP = 1, COLLATERAL_SNP = 2, COLLATERAL_CSV = 3 } collateral_kind;

/* SNP collateral: the VEK and its chain, and what has been verified of them. */
typedef struct {
    X509 *vek;
    STACK_OF(X509) *chain; /* ASK/ASVK and ARK the caller gave; may be empty */
    uint64_t checked_trust_id;
    int64_t checked_from, checked_until;
    EVP_PKEY *vek_key; /* set once the chain verified */
    int product;       /* ccz_snp_product named by the chain */
    bool vlek;
    ccz_snp_vek_info info;
} snp_collateral;

#define CSV_PEK_CACHE 8

/* CSV collateral: the HSK/CEK bundle of one chip, and what has been verified of it (under the
 * trust store's HRK) and with it (the PEKs the CEK signed, by SHA-256 of their bytes). */
typedef struct {
    uint8_t hsk[CCZ_CSV_CA_CERT_SIZE], cek[CCZ_CSV_CERT_SIZE];
    uint64_t checked_trust_id; /* 0: HRK -> HSK -> CEK not verified yet */
    uint8_t pek_hash[CSV_PEK_CACHE][32];
    EVP_PKEY *pek_key[CSV_PEK_CACHE];
    unsigned pek_next;
} csv_collateral;

struct ccz_collateral {
    collateral_kind kind;
    snp_collateral snp;
    csv_collateral *csv; /* COLLATERAL_CSV */
    char *tcb_info_text;
    size_t tcb_info_len;
    uint8_t tcb_info_sig[64];
    char *qe_identity_text;
    size_t qe_identity_len;
    uint8_t qe_identity_sig[64];
    STACK_OF(X509) *tcb_chain; /* TCB signing cert .. root */
    STACK_OF(X509) *qe_chain;
    STACK_OF(X509) *pck_crl_chain; /* PCK CRL issuer (Platform/Processor CA) .. root */
    X509_CRL *root_crl;
    X509_CRL *pck_crl;
    dcap_tcb_info tcb;
    dcap_qe_identity qe;
    /* Set when the TCB info or QE identity is JSON but not one ccz reads (collateral_unsupported,
     * malformed): tcb and qe are then incomplete, and verification fails at its collateral step. */
    ccz_status unusable;
    char unusable_detail[256];

    pthread_mutex_t lock;      /* guards what follows */
    uint64_t checked_trust_id; /* the roots the signatures were checked against (0: none) */
    int64_t checked_from, checked_until; /* window in which the collateral's own checks hold */
    X509 *crl_signer; /* the root that verified root_crl in those checks (NULL: none) */
    dcap_pck_cache pck[DCAP_PCK_CACHE];
    unsigned pck_next;
    uint8_t qe_sig[DCAP_QE_SIG_CACHE][32]; /* the first qe_sig_n hold keys (oldest replaced) */
    unsigned qe_sig_n, qe_sig_next;
    dcap_ak_cache ak[DCAP_AK_CACHE];
    unsigned ak_next;
};

/* "2025-06-19T10:56:11Z" (or with fractional seconds / "+00:00") to unix seconds. */
ccz_status dcap_parse_time(const char *s, int64_t *out);

#endif
