/* SPDX-License-Identifier: Apache-2.0 */
/* Private to src/tee: the parsed form of a policy, shared by the parser and the appraiser. */
#ifndef CCZ_POLICY_INTERNAL_H
#define CCZ_POLICY_INTERNAL_H

#include <jansson.h>

#include "ccz/policy.h"

/* Fields an entry constrains (bit set = checked). Each entry struct starts with `fields`. */
enum {
    PF_MR_ENCLAVE = 1u << 0,
    PF_MR_SIGNER = 1u << 1,
    PF_ISV_PROD_ID = 1u << 2,
    PF_ISV_SVN = 1u << 3,     /* exact */
    PF_ISV_SVN_MIN = 1u << 4, /* at least */
    PF_CONFIG_SVN = 1u << 5,
    PF_DEBUGGABLE = 1u << 6,
};

typedef struct {
    unsigned fields;
    uint8_t mr_enclave[32];
    uint8_t mr_signer[32];
    uint16_t isv_prod_id;
    uint16_t isv_svn;
    uint16_t config_svn;
    bool debuggable;
} sgx_entry;

enum {
    TF_MR_TD = 1u << 0,
    TF_MR_CONFIG_ID = 1u << 1,
    TF_MR_OWNER = 1u << 2,
    TF_MR_OWNER_CONFIG = 1u << 3,
    TF_RTMR0 = 1u << 4, /* TF_RTMR0 << i for RTMR i */
    TF_MR_SEAM = 1u << 8,
    TF_MR_SIGNER_SEAM = 1u << 9,
};

typedef struct {
    unsigned fields;
    uint8_t mr_td[48];
    uint8_t mr_config_id[48];
    uint8_t mr_owner[48];
    uint8_t mr_owner_config[48];
    uint8_t rtmr[4][48];
    uint8_t mr_seam[48];
    uint8_t mr_signer_seam[48];
} tdx_entry;

enum {
    SF_MEASUREMENT = 1u << 0,
    SF_HOST_DATA = 1u << 1,
    SF_GUEST_SVN_MIN = 1u << 2,
};

typedef struct {
    unsigned fields;
    uint8_t measurement[48];
    uint8_t host_data[32];
    uint32_t guest_svn_min;
} snp_entry;

enum {
    CF_MEASUREMENT = 1u << 0,
    CF_USER_PUBKEY_DIGEST = 1u << 1,
    CF_VM_ID = 1u << 2,
    CF_VM_VERSION = 1u << 3,
    CF_HOST_DATA = 1u << 4,
};

typedef struct {
    unsigned fields;
    uint8_t measurement[32];
    uint8_t user_pubkey_digest[32];
    uint8_t vm_id[16];
    uint8_t vm_version[16];
    uint8_t host_data[64];
} csv_entry;

/* TCB statuses as Intel names them; a policy accepts a set of them (bit i = status i). */
#define TCB_STATUS_COUNT 9
extern const char *const policy_tcb_status_names[TCB_STATUS_COUNT];
#define TCB_UP_TO_DATE 0
#define TCB_OUT_OF_DATE 4
#define TCB_OUT_OF_DATE_CONFIG 5
#define TCB_REVOKED 6

struct ccz_policy {
    ccz_policy_format format;
    unsigned tees; /* accepted TEEs: bit (1 << ccz_tee) */
    bool allow_sim;
    bool allow_debug;
    bool allow_mrservicetd;     /* TD report 1.5 with a service TD bound */
    bool allow_sept_ve_clear;   /* TD without SEPT_VE_DISABLE */
    bool allow_migration_agent; /* SNP guest policy MIGRATE_MA */
    int snp_max_vmpl;           /* 0..3; 0 unless the policy says otherwise */
    bool has_snp_min_tcb;
    ccz_snp_tcb snp_min_tcb;
    unsigned tcb;                            /* accepted TCB statuses: bit (1 << index) */
    bool has_sgx, has_tdx, has_snp, has_csv; /* a list is present: measurements constrained */
    size_t n_sgx, n_tdx, n_snp, n_csv;
    sgx_entry *sgx;
    tdx_entry *tdx;
    snp_entry *snp;
    csv_entry *csv;
    /* "eventlog": events the verified event log must hold, as validated JSON (an array of
     * objects of index, type, digest (lower-case hex), string, string_contains, device_path,
     * unicode_name); NULL when the policy says nothing about event logs. */
    json_t *eventlog;
    /* "cca": Arm CCA reference values, {"platform": [...], "realm": [...]} in Veraison's shape
     * (rust-ccatoken testdata/rv.json), validated; NULL when the policy says nothing. */
    json_t *cca;
};

#endif
