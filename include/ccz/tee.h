/* SPDX-License-Identifier: Apache-2.0 */
/* ccz tee: the TEE-neutral evidence model. An attester turns 64 bytes of report data into
 * evidence; a verifier turns evidence, trust anchors, collateral and an instant into claims or a
 * precise failure (step and code). Backends (sim now; sgx, tdx, snp later) sit in one table.
 * Evidence is untrusted input; trust anchors and options are trusted caller objects. */
#ifndef CCZ_TEE_H
#define CCZ_TEE_H

#include "ccz/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    CCZ_TEE_NONE = 0,
    CCZ_TEE_SIM = 1,
    CCZ_TEE_SGX = 2,
    CCZ_TEE_TDX = 3,
    CCZ_TEE_SNP = 4,
    CCZ_TEE_AZ_SNP_VTPM = 5, /* an Azure SEV-SNP confidential VM: HCL report + vTPM quote */
    CCZ_TEE_AZ_TDX_VTPM = 6, /* an Azure TDX confidential VM: HCL report + vTPM quote + TD quote */
    CCZ_TEE_CSV = 7,         /* a Hygon CSV guest: an attestation report signed by its PEK */
    CCZ_TEE_CCA = 8          /* an Arm CCA realm: platform token + realm delegated token */
} ccz_tee;

/* "sim", "sgx", "tdx", "snp", "az-snp-vtpm", "az-tdx-vtpm", "csv", "cca" ("none" for CCZ_TEE_NONE). */
CCZ_API const char *ccz_tee_name(ccz_tee t);
CCZ_API CCZ_NODISCARD ccz_status ccz_tee_parse(ccz_tee *out, const char *name);

/* ---- claims ----------------------------------------------------------------------------------
 * What verified evidence says. Only the part for the evidence's TEE is filled; the rest stays
 * zero. Sim evidence has the SGX shape (fields in .sgx) and sets .simulated. */
typedef struct {
    uint8_t mr_enclave[32];
    uint8_t mr_signer[32];
    uint16_t isv_prod_id;
    uint16_t isv_svn;
    uint16_t config_svn;
    uint32_t misc_select;
    uint8_t attributes[16];
    uint8_t cpu_svn[16];
    uint8_t config_id[64];
    uint8_t isv_ext_prod_id[16];
    uint8_t isv_family_id[16];
} ccz_sgx_claims;

typedef struct {
    uint8_t tee_tcb_svn[16];
    uint8_t mr_seam[48];
    uint8_t mr_signer_seam[48];
    uint8_t seam_attributes[8];
    uint8_t td_attributes[8];
    uint8_t xfam[8];
    uint8_t mr_td[48];
    uint8_t mr_config_id[48];
    uint8_t mr_owner[48];
    uint8_t mr_owner_config[48];
    uint8_t rtmr[4][48];
    bool td_report_15; /* TD report 1.5: the two fields below are present */
    uint8_t tee_tcb_svn2[16];
    uint8_t mr_servicetd[48];
} ccz_tdx_claims;

typedef struct {
    uint8_t bootloader;
    uint8_t tee;
    uint8_t snp;
    uint8_t microcode;
    uint8_t fmc; /* Turin only */
} ccz_snp_tcb;

typedef enum { CCZ_SNP_KEY_VCEK = 0, CCZ_SNP_KEY_VLEK = 1, CCZ_SNP_KEY_NONE = 7 } ccz_snp_key;

typedef struct {
    uint32_t version;
    uint32_t guest_svn;
    uint64_t policy;
    uint8_t family_id[16];
    uint8_t image_id[16];
    uint32_t vmpl;
    uint32_t signature_algo;
    ccz_snp_tcb current_tcb;
    ccz_snp_tcb reported_tcb;
    ccz_snp_tcb committed_tcb;
    ccz_snp_tcb launch_tcb;
    uint64_t platform_info;
    ccz_snp_key signing_key;
    bool mask_chip_key;
    bool author_key_en;
    uint8_t measurement[48];
    uint8_t host_data[32];
    uint8_t id_key_digest[48];
    uint8_t author_key_digest[48];
    uint8_t report_id[32];
    uint8_t report_id_ma[32];
    uint8_t chip_id[64];
    char product[16]; /* "Milan", "Genoa", "Turin" */
} ccz_snp_claims;

/* What a DCAP (SGX/TDX quote) verification found beyond the measurements. */
typedef struct {
    uint8_t fmspc[6];
    uint8_t pce_id[2];
    char platform_status[48]; /* the matched platform TCB level (TDX: with the module folded in) */
    char qe_status[48];       /* the quoting enclave's TCB level */
} ccz_dcap_claims;

/* What an Azure confidential VM's evidence adds to its hardware report: the vTPM's PCRs (the
 * SHA-256 bank, all 24, covered by the TPM quote) and what the HCL report says. */
typedef struct {
    uint8_t pcrs[24][32];
    uint8_t hw_report_data[64]; /* the hardware report's own report data: SHA-256 of the HCL
                                   variable data, then zeros */
    uint8_t user_data[64];      /* the variable data's "user-data" (zeros when absent) */
    uint32_t evidence_version;  /* trustee's evidence format: 0, 1 or 2 */
    char vm_unique_id[48];      /* vm-configuration: vmUniqueId ("" when absent) */
    int8_t secure_boot, tpm_enabled, console_enabled; /* vm-configuration: 1, 0, -1 absent */
} ccz_vtpm_claims;

/* What a Hygon CSV report says (unmasked), and the chip it comes from. */
typedef struct {
    uint32_t version; /* the report's: 1, 2 or 3 */
    uint8_t measurement[32];
    uint8_t user_pubkey_digest[32]; /* the guest owner's data bound at launch */
    uint8_t vm_id[16];
    uint8_t vm_version[16];
    uint8_t mnonce[16];
    uint32_t policy; /* nodbg bit 0, noks 1, es 2, nosend 3, domain 4, csv 5, csv3 6, asid_reuse
                        7, hsk_version 8-11, cek_version 12-15, api_major 16-23, api_minor 24-31 */
    uint32_t anonce; /* version 1 */
    uint32_t build;  /* versions 2 and 3 */
    uint16_t rtmr_version;
    uint8_t rtmr[5][32];   /* versions 2 and 3 */
    uint8_t host_data[64]; /* version 3 */
    char chip_serial[65];  /* the chip's serial number ("NZA9T14052605") */
    bool mac_checked; /* version 1: the signer area's MAC checked (the PEK came from the report,
                         masked with the anonce) */
} ccz_csv_claims;
/* What an Arm CCA attestation token says: the platform token (signed by the CPAK) and the
 * realm token (signed by the RAK it carries). Byte strings longer than their field are refused
 * by the parser, so every *_len is at most the field's size. */
#define CCZ_CCA_MAX_SW_COMPONENTS 32

typedef struct {
    char type[32]; /* measurement type ("BL", "RSE_BL1_2", ...); "" when absent */
    uint8_t measurement[64];
    uint8_t measurement_len;
    char version[32]; /* "" when absent */
    uint8_t signer_id[64];
    uint8_t signer_id_len;
    char hash_alg[16]; /* "sha-256" ...; "" when absent */
} ccz_cca_sw_component;

typedef struct {
    char platform_profile
        [64]; /* "http://arm.com/CCA-SSD/1.0.0", "tag:arm.com,2023:cca_platform#1.0.0" */
    uint8_t platform_challenge[64]; /* the hash of the RAK */
    uint8_t platform_challenge_len;
    uint8_t implementation_id[32];
    uint8_t instance_id[33];
    uint8_t platform_config[64];
    uint8_t platform_config_len;
    uint16_t lifecycle; /* PSA security lifecycle: 0x3000..0x30ff secured */
    char platform_hash_alg[16];
    char verification_service[128];
    size_t n_sw_components;
    ccz_cca_sw_component sw_components[CCZ_CCA_MAX_SW_COMPONENTS];
    char realm_profile[64]; /* "" for the legacy profile, "tag:arm.com,2023:realm#1.0.0", ... */
    uint8_t personalization_value[64];
    char realm_hash_alg[16];
    char rak_hash_alg[16];
    uint8_t rim[64]; /* realm initial measurement */
    uint8_t rim_len;
    uint8_t rem[4][64]; /* realm extensible measurements, each rim_len bytes */
} ccz_cca_claims;

typedef struct ccz_eventlog ccz_eventlog; /* ccz/eventlog.h */

typedef struct {
    int64_t timestamp;       /* when the sim attester produced the evidence (unix seconds) */
    uint8_t platform_id[32]; /* SHA-256 of the DER of the sim platform root that vouched */
} ccz_sim_claims;

#define CCZ_MAX_ADVISORIES 128
#define CCZ_ADVISORY_LEN 32

typedef struct {
    ccz_tee tee;
    bool simulated; /* true for sim evidence: never backed by TEE hardware */
    bool debug;     /* SGX debug attribute, TD debug, SNP policy DEBUG, sim debug flag */
    uint8_t report_data[64];
    /* TCB status as Intel names it ("UpToDate", "OutOfDate", ...); "" where it does not apply
     * (sim). */
    char tcb_status[48];
    size_t n_advisories;
    char advisories[CCZ_MAX_ADVISORIES][CCZ_ADVISORY_LEN];
    ccz_sgx_claims sgx; /* SGX and sim */
    ccz_tdx_claims tdx;
    ccz_snp_claims snp;
    ccz_sim_claims sim;
    ccz_dcap_claims dcap; /* SGX and TDX */
    ccz_vtpm_claims vtpm; /* az-snp-vtpm, az-tdx-vtpm (the hardware report's part in .snp/.tdx) */
    ccz_cca_claims cca;   /* cca (report_data is the realm challenge) */
    /* How many bytes of report_data the evidence carries: 0 means all 64 (every TEE but the
     * Azure vTPM, whose report data is the TPM quote's nonce, of up to 64 bytes). */
    uint8_t report_data_len;
    /* The event log replayed into the registers (ccz_verify_opts.eventlog, borrowed: valid as
     * long as the caller keeps it), or NULL. */
    const ccz_eventlog *eventlog;
    ccz_csv_claims csv; /* csv */
} ccz_claims;

/* Renders claims as a JSON object (measurements as lower-case hex). Returns a new jansson
 * object the caller releases with ccz_json_free, or NULL when out of memory. */
CCZ_API ccz_json *ccz_claims_to_json(const ccz_claims *c);

/* ---- trust anchors ---------------------------------------------------------------------------
 * The roots a verifier accepts, passed in explicitly: verification never looks anything up in
 * the environment. */
typedef struct ccz_trust ccz_trust;

CCZ_API CCZ_NODISCARD ccz_status ccz_trust_new(ccz_trust **out);
CCZ_API void ccz_trust_free(ccz_trust *t);
/* Adds a sim platform root certificate (PEM or DER). */
CCZ_API CCZ_NODISCARD ccz_status ccz_trust_add_sim_root(ccz_trust *t, ccz_span cert);
CCZ_API CCZ_NODISCARD ccz_status ccz_trust_add_sim_root_file(ccz_trust *t, const char *path);
CCZ_API size_t ccz_trust_sim_root_count(const ccz_trust *t);
/* Adds Arm CCA platform attestation keys (CPAKs): a Veraison-style store (a JSON array of
 * {"instance-id": hex, "implementation-id": hex, "pkey": JWK}), one JWK, or a PEM key (public,
 * or private: its public half). A key given without an instance id vouches for any platform.
 * A store entry whose key is unusable is kept, so a token from that instance fails its
 * signature rather than passing as unknown. Errors name the entry. */
CCZ_API CCZ_NODISCARD ccz_status ccz_trust_add_cca_anchors(ccz_trust *t, ccz_span doc);
CCZ_API CCZ_NODISCARD ccz_status ccz_trust_add_cca_anchors_file(ccz_trust *t, const char *path);
CCZ_API size_t ccz_trust_cca_anchor_count(const ccz_trust *t);

/* Where a program's trust anchors come from, as ccz's commands and services take them (the
 * fields are named after their options: --root-ca, --sim-root, --sim-dir). */
#define CCZ_TRUST_SOURCES_VERSION 1

typedef struct {
    unsigned version;             /* CCZ_TRUST_SOURCES_VERSION */
    const char *root_ca;          /* an Intel root CA file (PEM or DER) instead of the built-in
                                      roots; NULL: the built-in Intel and AMD roots */
    const char *const *sim_roots; /* sim platform roots to trust */
    size_t n_sim_roots;
    const char *sim_dir;   /* without sim_roots: the root of this sim platform (NULL: the
                                      default one, ccz_sim_default_dir), when it has one */
    bool sim_dir_required; /* a given sim_dir must have a root (else an error) */
} ccz_trust_sources;

#define CCZ_TRUST_SOURCES_INIT                                                                     \
    {                                                                                              \
        CCZ_TRUST_SOURCES_VERSION, NULL, NULL, 0, NULL, false                                      \
    }

/* A new trust store from those sources; errors name the source ("--root-ca FILE: ..."). */
CCZ_API CCZ_NODISCARD ccz_status ccz_trust_load(ccz_trust **out, const ccz_trust_sources *s);

/* Collateral: Intel's TCB info, QE identity and CRLs for DCAP quotes (see ccz/dcap.h); sim
 * evidence needs none: pass NULL. */
typedef struct ccz_collateral ccz_collateral;

/* ---- verification ----------------------------------------------------------------------------*/
#define CCZ_VERIFY_OPTS_VERSION 1

typedef struct {
    unsigned version;                    /* CCZ_VERIFY_OPTS_VERSION */
    int64_t at_unix;                     /* the instant of verification (unix seconds) */
    const ccz_trust *trust;              /* trust anchors; required */
    const ccz_collateral *collateral;    /* NULL when the evidence needs none */
    const uint8_t *expected_report_data; /* 64 bytes to compare with, or NULL */
    /* A measured-boot event log to replay into the evidence's runtime registers (TDX: CC MR
     * index i into RTMR[i-1], SHA-384), or NULL; verified claims then carry it. */
    const ccz_eventlog *eventlog;
    /* Azure vTPM: the init data's 32-byte hash PCR 8 must hold (as SHA-256(32 zero bytes ||
     * hash)), or NULL. Other evidence has no PCR 8: given with it, CCZ_ERR_UNSUPPORTED. */
    const uint8_t *expected_init_data_hash;
} ccz_verify_opts;

#define CCZ_VERIFY_OPTS_INIT                                                                       \
    {                                                                                              \
        CCZ_VERIFY_OPTS_VERSION, 0, NULL, NULL, NULL, NULL, NULL                                   \
    }

/* Steps of verification: the stable names reported in ccz_result.step (docs/model.md; JSON
 * output and scripts compare them, so they never change). */
#define CCZ_STEP_DETECT "detect"
#define CCZ_STEP_PARSE "parse"
#define CCZ_STEP_PLATFORM_CERT "platform_certificate"
#define CCZ_STEP_SIGNATURE "signature"
#define CCZ_STEP_TIMESTAMP "timestamp"
#define CCZ_STEP_REPORT_DATA "report_data"
#define CCZ_STEP_COLLATERAL "collateral"
#define CCZ_STEP_TCB_INFO "tcb_info"
#define CCZ_STEP_QE_IDENTITY "qe_identity"
#define CCZ_STEP_PCK_CHAIN "pck_chain"
#define CCZ_STEP_QE_REPORT_SIGNATURE "qe_report_signature"
#define CCZ_STEP_QE_REPORT_DATA "qe_report_data"
#define CCZ_STEP_QUOTE_SIGNATURE "quote_signature"
#define CCZ_STEP_TCB_LEVEL "tcb_level"
#define CCZ_STEP_TDX_MODULE "tdx_module"
#define CCZ_STEP_EVENTLOG "eventlog"
#define CCZ_STEP_HCL_REPORT "hcl_report"
#define CCZ_STEP_TPM_QUOTE "tpm_quote"
#define CCZ_STEP_INIT_DATA "init_data"
#define CCZ_STEP_PLATFORM_TOKEN "platform_token"
#define CCZ_STEP_REALM_TOKEN "realm_token"
#define CCZ_STEP_REALM_BINDING "realm_binding"

/* The same steps as data: one list gives the enum (ccz_result.step_id) and the name
 * (ccz_step_name), as CCZ_STATUS_LIST does for statuses. Steps are only ever appended. */
#define CCZ_STEP_LIST(X)                                                                           \
    X(CCZ_AT_DETECT, 1, CCZ_STEP_DETECT)                                                           \
    X(CCZ_AT_PARSE, 2, CCZ_STEP_PARSE)                                                             \
    X(CCZ_AT_PLATFORM_CERT, 3, CCZ_STEP_PLATFORM_CERT)                                             \
    X(CCZ_AT_SIGNATURE, 4, CCZ_STEP_SIGNATURE)                                                     \
    X(CCZ_AT_TIMESTAMP, 5, CCZ_STEP_TIMESTAMP)                                                     \
    X(CCZ_AT_REPORT_DATA, 6, CCZ_STEP_REPORT_DATA)                                                 \
    X(CCZ_AT_COLLATERAL, 7, CCZ_STEP_COLLATERAL)                                                   \
    X(CCZ_AT_TCB_INFO, 8, CCZ_STEP_TCB_INFO)                                                       \
    X(CCZ_AT_QE_IDENTITY, 9, CCZ_STEP_QE_IDENTITY)                                                 \
    X(CCZ_AT_PCK_CHAIN, 10, CCZ_STEP_PCK_CHAIN)                                                    \
    X(CCZ_AT_QE_REPORT_SIGNATURE, 11, CCZ_STEP_QE_REPORT_SIGNATURE)                                \
    X(CCZ_AT_QE_REPORT_DATA, 12, CCZ_STEP_QE_REPORT_DATA)                                          \
    X(CCZ_AT_QUOTE_SIGNATURE, 13, CCZ_STEP_QUOTE_SIGNATURE)                                        \
    X(CCZ_AT_TCB_LEVEL, 14, CCZ_STEP_TCB_LEVEL)                                                    \
    X(CCZ_AT_TDX_MODULE, 15, CCZ_STEP_TDX_MODULE)                                                  \
    X(CCZ_AT_EVENTLOG, 16, CCZ_STEP_EVENTLOG)                                                      \
    X(CCZ_AT_HCL_REPORT, 17, CCZ_STEP_HCL_REPORT)                                                  \
    X(CCZ_AT_TPM_QUOTE, 18, CCZ_STEP_TPM_QUOTE)                                                    \
    X(CCZ_AT_INIT_DATA, 19, CCZ_STEP_INIT_DATA)                                                    \
    X(CCZ_AT_PLATFORM_TOKEN, 20, CCZ_STEP_PLATFORM_TOKEN)                                          \
    X(CCZ_AT_REALM_TOKEN, 21, CCZ_STEP_REALM_TOKEN)                                                \
    X(CCZ_AT_REALM_BINDING, 22, CCZ_STEP_REALM_BINDING)

typedef enum {
    CCZ_AT_NONE = 0, /* nothing failed */
#define CCZ_X_STEP_ENUM(sym, val, name) sym = val,
    CCZ_STEP_LIST(CCZ_X_STEP_ENUM)
#undef CCZ_X_STEP_ENUM
} ccz_step;

/* The stable name of a step ("pck_chain"); NULL for CCZ_AT_NONE and unknown values. */
CCZ_API const char *ccz_step_name(ccz_step step);

typedef struct {
    ccz_status status; /* CCZ_OK when the evidence verified */
    const char *step;  /* failing step (a CCZ_STEP_* string), NULL when verified */
    ccz_step step_id;  /* the same step as an enum, CCZ_AT_NONE when verified */
    char message[512]; /* what failed, for people */
    ccz_claims claims; /* valid when status is CCZ_OK */
} ccz_result;

/* For verifiers (the backends, and layered ones such as RA-TLS): record that verification
 * failed at `step` with status s, and return s. ccz_result_fail takes the message from the
 * current ccz_error_detail() (or the status's text); ccz_result_failf formats it, setting the
 * detail too, so a failing path is one statement. */
CCZ_API ccz_status ccz_result_fail(ccz_result *r, ccz_step step, ccz_status s);
CCZ_API ccz_status ccz_result_failf(ccz_result *r, ccz_step step, ccz_status s, const char *fmt,
                                    ...) CCZ_PRINTF(4, 5);

/* Detects the evidence type, verifies it at opts->at_unix against opts->trust and fills *out.
 * Returns out->status. */
CCZ_API CCZ_NODISCARD ccz_status ccz_verify(ccz_result *out, ccz_span evidence,
                                            const ccz_verify_opts *opts);
/* Decodes the claims evidence states WITHOUT verifying anything (for inspection tools): the
 * measurements and report data as written. Never base a trust decision on them. */
CCZ_API CCZ_NODISCARD ccz_status ccz_evidence_peek(ccz_claims *out, ccz_span evidence);
/* The TEE whose format the evidence has, or CCZ_TEE_NONE; looks only at the framing. */
CCZ_API ccz_tee ccz_evidence_detect(ccz_span evidence);

/* ---- attesters -------------------------------------------------------------------------------*/
#define CCZ_ATTESTER_OPTS_VERSION 1

typedef struct {
    unsigned version; /* CCZ_ATTESTER_OPTS_VERSION */
    ccz_tee tee;
    struct {
        const char *dir;            /* platform directory (see ccz_sim_platform_init) */
        const char *signer_key;     /* PEM key whose public key is the signer; NULL = the
                                          platform's default signer.key */
        const uint8_t *measurement; /* 32 bytes replacing SHA-256(/proc/self/exe), or NULL */
        uint16_t product_id;
        uint16_t svn;
        bool debug;
        int64_t timestamp; /* 0 = now */
    } sim;
    /* sgx, tdx, snp: the root under which device paths are looked up (/dev/attestation for
     * Gramine, /sys/kernel/config/tsm/report for configfs-tsm, /dev/tdx_guest); NULL or "" is
     * "/". Tests point it at a directory that replays recorded evidence. */
    const char *device_root;
    /* configfs-tsm: the report entry to use; NULL creates a fresh one per attestation and
     * removes it after. */
    const char *tsm_entry;
} ccz_attester_opts;

#define CCZ_ATTESTER_OPTS_INIT                                                                     \
    {                                                                                              \
        CCZ_ATTESTER_OPTS_VERSION, CCZ_TEE_NONE, {0}, NULL, NULL                                   \
    }

typedef struct ccz_attester ccz_attester;

/* Creates an attester; loads the keys it needs now so attesting cannot fail on them later. */
CCZ_API CCZ_NODISCARD ccz_status ccz_attester_new(ccz_attester **out, const ccz_attester_opts *o);
CCZ_API void ccz_attester_free(ccz_attester *a);
/* The TEE an attester produces evidence of. */
CCZ_API ccz_tee ccz_attester_tee(const ccz_attester *a);
/* What a sealing key is bound to: the enclave's own measurement (only the same code can
 * derive it), or its signer (any enclave of that signer and product, so an upgrade can
 * unseal). */
typedef enum { CCZ_SEAL_MRENCLAVE = 0, CCZ_SEAL_MRSIGNER = 1 } ccz_seal_policy;

/* Derives the TEE's 32-byte sealing key for policy into key: SGX under Gramine reads
 * /dev/attestation/keys/_sgx_mrenclave or _sgx_mrsigner (under the attester's device root) and
 * stretches it with HKDF-SHA256; sim derives it from the sim platform's secret attestation key
 * and the measurement or signer (SIMULATED: anyone with the platform directory can derive it).
 * TDX and SEV-SNP guests have no sealing key here: CCZ_ERR_UNSUPPORTED. The key is secret:
 * wipe it after use. */
CCZ_API CCZ_NODISCARD ccz_status ccz_attester_seal_key(const ccz_attester *a,
                                                       ccz_seal_policy policy, uint8_t key[32]);
/* Appends evidence binding report_data to *evidence. */
CCZ_API CCZ_NODISCARD ccz_status ccz_attest(ccz_buf *evidence, const ccz_attester *a,
                                            const uint8_t report_data[64]);
/* Like ccz_attest, and appends to certs (PEM) the certificates the TEE handed out with the
 * evidence, if any: for SEV-SNP the VCEK or VLEK, then the ASK and ARK the host provides. */
CCZ_API CCZ_NODISCARD ccz_status ccz_attest_with_certs(ccz_buf *evidence, ccz_buf *certs,
                                                       const ccz_attester *a,
                                                       const uint8_t report_data[64]);

#ifdef __cplusplus
}
#endif

/* The simulated TEE (ccz_sim_*), the backend without hardware, has its own header. */
#include "ccz/sim.h"

#endif
