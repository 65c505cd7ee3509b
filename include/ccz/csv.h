/* SPDX-License-Identifier: Apache-2.0 */
/* ccz csv: Hygon CSV attestation reports (versions 1 to 3), Hygon's certificates (the CA
 * certificates HRK and HSK, the CSV certificates CEK and PEK), the chain HRK -> HSK -> CEK ->
 * PEK -> report in SM2 with SM3, and the HSK/CEK bundle of Hygon's KDS. Layouts after the
 * csv-rs crate trustee uses (docs/csv.md). Part of the tee module: ccz_verify uses it for CSV
 * evidence; these declarations expose the parsers for tools and tests. Reports, certificates
 * and evidence documents are untrusted input; the HRK is a trust anchor. */
#ifndef CCZ_CSV_H
#define CCZ_CSV_H

#include "ccz/core.h"
#include "ccz/tee.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CCZ_CSV_CA_CERT_SIZE 832 /* HRK, HSK */
#define CCZ_CSV_CERT_SIZE 2084   /* CEK, PEK (and OCA, PDH) */
#define CCZ_CSV_HSK_CEK_SIZE (CCZ_CSV_CA_CERT_SIZE + CCZ_CSV_CERT_SIZE)
#define CCZ_CSV_REPORT_V1_SIZE 2548 /* TEE info (0x150) and signer (PEK, serial, MAC) */
#define CCZ_CSV_REPORT_V2_SIZE 3380 /* TEE info (0x490) and signer */
#define CCZ_CSV_REPORT_DATA_SIZE 4096
#define CCZ_CSV_WRAPPED_SIZE (16 + 4 + CCZ_CSV_REPORT_DATA_SIZE) /* magic, flags, data */

/* Key usages (the certificates' usage fields). */
#define CCZ_CSV_USAGE_HRK 0x0000u
#define CCZ_CSV_USAGE_HSK 0x0013u
#define CCZ_CSV_USAGE_OCA 0x1001u
#define CCZ_CSV_USAGE_PEK 0x1002u
#define CCZ_CSV_USAGE_PDH 0x1003u
#define CCZ_CSV_USAGE_CEK 0x1004u

/* A signature slot: SM2 r and s, big-endian (stored little-endian in 72-byte fields). */
typedef struct {
    uint32_t usage; /* the signer's usage */
    uint32_t algo;  /* 4 SM2_SA, 5 SM2_DH; other values: an empty slot */
    uint8_t r[32], s[32];
} ccz_csv_sig;

typedef enum { CCZ_CSV_CERT_CA = 1, CCZ_CSV_CERT_CSV = 2 } ccz_csv_cert_kind;

/* A parsed certificate (spans borrow from the input). */
typedef struct {
    ccz_csv_cert_kind kind;
    uint32_t version;
    uint32_t usage;
    uint32_t algo;              /* CSV certificates: 4 SM2_SA, 5 SM2_DH */
    uint8_t fw_major, fw_minor; /* CSV certificates: the firmware that made it */
    uint8_t kid[16];            /* CA certificates: the key's id */
    uint8_t sid[16];            /* the signer's key id */
    uint8_t x[32], y[32];       /* the SM2 public key, big-endian */
    char user_id[255];          /* the SM2 distinguishing id ("HYGON-SSD-PEK"), NUL-terminated */
    size_t user_id_len;
    size_t n_sigs; /* 1 for CA certificates, 2 slots for CSV certificates */
    ccz_csv_sig sigs[2];
    ccz_span signed_part;
} ccz_csv_cert;

/* Parses a CA certificate (832 bytes) or a CSV certificate (2084 bytes); the size decides. */
CCZ_API CCZ_NODISCARD ccz_status ccz_csv_cert_parse(ccz_csv_cert *out, ccz_span in);
/* Whether signer's key signed target: a CA certificate by an HRK whose kid is the target's sid,
 * a CSV certificate by any slot whose usage is the signer's. CCZ_ERR_BAD_SIGNATURE when not. */
CCZ_API CCZ_NODISCARD ccz_status ccz_csv_cert_verify(const ccz_csv_cert *signer,
                                                     const ccz_csv_cert *target);

/* A parsed report: what it says (unmasked) and what verification needs. */
typedef struct {
    uint32_t version; /* 1, 2 or 3 */
    uint8_t user_pubkey_digest[32];
    uint8_t vm_id[16];
    uint8_t vm_version[16];
    uint8_t report_data[64];
    uint8_t mnonce[16];
    uint8_t measure[32];
    uint32_t policy;
    uint32_t sig_usage, sig_algo;
    uint32_t anonce; /* version 1: the mask of every field; 0 later */
    uint32_t build;  /* versions 2 and 3 */
    uint16_t rtmr_version;
    uint8_t rtmr[5][32];   /* versions 2 and 3 */
    uint8_t host_data[64]; /* version 3 */
    uint8_t sig_r[32], sig_s[32];
    ccz_span signed_part;           /* borrows the input */
    uint8_t pek[CCZ_CSV_CERT_SIZE]; /* the signer area's PEK, unmasked */
    char serial[65];                /* the signer area's chip serial, unmasked */
    uint8_t mac[32];
    /* version 1: whether the firmware masked the signer area with the anonce, as csv-rs
     * documents it; only then is the MAC's scheme known (some firmware leaves the area
     * unmasked, with a MAC of another scheme) */
    bool signer_masked;
    ccz_span mac_part; /* the stored signer area the MAC covers (pek, serial, reserved) */
} ccz_csv_report;

/* Parses a report's data (the TEE info and the signer; trailing padding up to 4096 bytes is
 * allowed) as the version given (1, 2 or 3). */
CCZ_API CCZ_NODISCARD ccz_status ccz_csv_report_parse(ccz_csv_report *out, ccz_span data,
                                                      uint32_t version);
/* Version 1's MAC: HMAC-SM3 keyed with the unmasked mnonce over the stored signer area.
 * CCZ_ERR_BAD_SIGNATURE when it differs. */
CCZ_API CCZ_NODISCARD ccz_status ccz_csv_report_check_mac(const ccz_csv_report *r);

/* Evidence in any form ccz reads: trustee's JSON ({"attestation_report": {"magic", "flags",
 * "data"}, "cert_chain": {"hsk_cek"?, "pek"}, "serial_number", "cc_eventlog"?}), the report
 * with its wrapper (magic, flags, 4096 bytes) or a bare version 1 report (2548 bytes). */
typedef struct {
    ccz_csv_report report;
    uint8_t pek[CCZ_CSV_CERT_SIZE]; /* the PEK to verify with: cert_chain.pek, else the report's */
    bool has_hsk_cek;
    uint8_t hsk[CCZ_CSV_CA_CERT_SIZE], cek[CCZ_CSV_CERT_SIZE];
    char serial[65]; /* the chip's serial number: "serial_number", else the report's */
    bool json;
    ccz_buf eventlog;    /* "cc_eventlog", decoded (empty when absent) */
    ccz_buf json_report; /* JSON evidence: the report's bytes, which report's spans borrow */
} ccz_csv_evidence;

CCZ_API CCZ_NODISCARD ccz_status ccz_csv_evidence_parse(ccz_csv_evidence *out, ccz_span in);
CCZ_API void ccz_csv_evidence_free(ccz_csv_evidence *e);

/* The built-in HRK (Hygon Root Key, 832 bytes). */
CCZ_API ccz_span ccz_csv_builtin_hrk(void);
/* Adds a trusted HRK (832 bytes; it must sign itself). A trust store holds one HRK: this one
 * replaces the built-in. */
CCZ_API CCZ_NODISCARD ccz_status ccz_trust_add_hygon_hrk(ccz_trust *t, ccz_span cert);

/* Collateral for CSV evidence that lacks it: the HSK/CEK bundle (HSK 832 bytes, then CEK 2084
 * bytes), as Hygon's KDS serves it. The collateral remembers what it verified. */
CCZ_API CCZ_NODISCARD ccz_status ccz_csv_collateral_new(ccz_collateral **out, ccz_span hsk_cek);

/* Checks certificates given in chain order (HRK, HSK, CEK, PEK; any prefix, or any run
 * starting at the HSK) against the trusted HRK, each link in turn. Writes one line per link
 * checked ("HRK -> HSK: ok") to lines, NUL-terminated. */
CCZ_API CCZ_NODISCARD ccz_status ccz_csv_chain_check(char *lines, size_t cap, ccz_span certs,
                                                     const ccz_trust *t);

/* Fetches the HSK/CEK bundle for evidence's chip from Hygon's KDS ({kds}/hsk_cek?snumber=
 * {serial}) and appends it. With a cache directory the bundle is kept as hsk_cek-{serial}.cert
 * and reused. The bundle must parse, and the HSK must verify under the built-in HRK. */
#define CCZ_CSV_FETCH_OPTS_VERSION 1
typedef struct {
    unsigned version;      /* CCZ_CSV_FETCH_OPTS_VERSION */
    const char *kds_url;   /* https://cert.hygon.cn */
    const char *cache_dir; /* NULL: none */
    const char *ca_file;
    bool tls_verify_insecure;
    long timeout_seconds;
} ccz_csv_fetch_opts;
#define CCZ_CSV_FETCH_OPTS_INIT                                                                    \
    {                                                                                              \
        CCZ_CSV_FETCH_OPTS_VERSION, NULL, NULL, NULL, false, 0                                     \
    }

CCZ_API CCZ_NODISCARD ccz_status ccz_csv_hsk_cek_fetch(ccz_buf *out, bool *from_cache,
                                                       ccz_span evidence,
                                                       const ccz_csv_fetch_opts *o);

#ifdef __cplusplus
}
#endif
#endif
