/* SPDX-License-Identifier: Apache-2.0 */
/* ccz snp: AMD SEV-SNP attestation reports (versions 2 to 5; Milan, Genoa, Turin), the VEK
 * certificates (VCEK, VLEK) that sign them, and AMD's built-in roots. Part of the tee module:
 * ccz_verify uses it for SNP evidence; these declarations expose the parsers for tools and
 * tests. Reports and certificates are untrusted input. */
#ifndef CCZ_SNP_H
#define CCZ_SNP_H

#include "ccz/core.h"
#include "ccz/tee.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CCZ_SNP_REPORT_SIZE 1184
#define CCZ_SNP_SIGNED_SIZE 0x2a0 /* the signature covers bytes 0 .. 0x29f */

typedef enum { CCZ_SNP_UNKNOWN = 0, CCZ_SNP_MILAN, CCZ_SNP_GENOA, CCZ_SNP_TURIN } ccz_snp_product;

/* "Milan", "Genoa", "Turin" ("" for unknown). */
CCZ_API const char *ccz_snp_product_name(ccz_snp_product p);
/* Reads a product name, in any case, alone or before a stepping ("Milan-B0"). */
CCZ_API CCZ_NODISCARD ccz_status ccz_snp_product_parse(ccz_snp_product *out, const char *name);

/* A parsed report: the claims' SNP part plus what verification needs. */
typedef struct {
    ccz_snp_claims claims; /* TCB fields decoded for `product` */
    uint8_t report_data[64];
    uint64_t current_tcb_raw, reported_tcb_raw, committed_tcb_raw, launch_tcb_raw;
    uint8_t cpuid_family, cpuid_model, cpuid_stepping; /* version 3 and later */
    ccz_snp_product product;                  /* from CPUID (v3+); CCZ_SNP_UNKNOWN for v2 */
    uint8_t signature_r[48], signature_s[48]; /* big-endian */
    ccz_span signed_part;
} ccz_snp_report;

/* Parses a report. product_hint decodes the TCB of a v2 report (which names no CPU); pass
 * CCZ_SNP_UNKNOWN to take it from the report. */
CCZ_API CCZ_NODISCARD ccz_status ccz_snp_report_parse(ccz_snp_report *out, ccz_span in,
                                                      ccz_snp_product product_hint);
/* Decodes a TCB_VERSION for a product (the layout differs on Turin). */
CCZ_API void ccz_snp_tcb_decode(ccz_snp_tcb *out, uint64_t raw, ccz_snp_product p);

/* What a VEK certificate says about the platform (AMD OIDs 1.3.6.1.4.1.3704.1.*). */
typedef struct {
    char product_name[32]; /* "Milan-B0", "Milan", ... */
    ccz_snp_tcb tcb;
    bool has_fmc;
    uint8_t hwid[64];
    size_t hwid_len; /* 64; 8 on Turin; 0 for VLEK */
    bool vlek;       /* subject CN SEV-VLEK */
} ccz_snp_vek_info;

/* Reads the SNP extensions of a VEK certificate (DER or PEM). */
CCZ_API CCZ_NODISCARD ccz_status ccz_snp_vek_info_parse(ccz_snp_vek_info *out, ccz_span cert);

/* Collateral for an SNP report: the VEK certificate (DER or PEM) and optionally its chain
 * (ASK or ASVK, then ARK; PEM). Without a chain the built-in AMD intermediates are used; the
 * ARK must be a trusted root either way. */
CCZ_API CCZ_NODISCARD ccz_status ccz_snp_collateral_new(ccz_collateral **out, ccz_span vek,
                                                        ccz_span chain);

/* Adds a trusted AMD root key (ARK, PEM or DER). */
CCZ_API CCZ_NODISCARD ccz_status ccz_trust_add_amd_ark(ccz_trust *t, ccz_span cert);
/* The built-in AMD ARK and ASK/ASVK certificates of Milan, Genoa and Turin, as one PEM text. */
CCZ_API ccz_span ccz_snp_builtin_certs(void);

/* Fetches the VCEK for a report from AMD KDS ({kds}/vcek/v1/{product}/{hwid}?blSPL=..&teeSPL=..
 * &snpSPL=..&ucodeSPL=..[&fmcSPL=..]) and appends it (DER). With a cache directory the VCEK is
 * kept as {product}-{hwid}-{tcb}.der and reused. */
#define CCZ_SNP_VCEK_FETCH_OPTS_VERSION 1
typedef struct {
    unsigned version;        /* CCZ_SNP_VCEK_FETCH_OPTS_VERSION */
    const char *kds_url;     /* https://kdsintf.amd.com */
    const char *cache_dir;   /* NULL: none */
    ccz_snp_product product; /* needed for v2 reports */
    const char *ca_file;
    bool tls_verify_insecure;
    long timeout_seconds;
} ccz_snp_vcek_fetch_opts;
#define CCZ_SNP_VCEK_FETCH_OPTS_INIT                                                               \
    {                                                                                              \
        CCZ_SNP_VCEK_FETCH_OPTS_VERSION, NULL, NULL, CCZ_SNP_UNKNOWN, NULL, false, 0               \
    }

CCZ_API CCZ_NODISCARD ccz_status ccz_snp_vcek_fetch(ccz_buf *out, bool *from_cache, ccz_span report,
                                                    const ccz_snp_vcek_fetch_opts *o);

/* Reads the certificate table an SNP host gives the guest (configfs-tsm auxblob, extended
 * report): appends the VCEK or VLEK to vek_pem and the ASK and ARK to chain_pem, as PEM. */
CCZ_API CCZ_NODISCARD ccz_status ccz_snp_cert_table(ccz_buf *vek_pem, ccz_buf *chain_pem,
                                                    ccz_span table);

#ifdef __cplusplus
}
#endif
#endif
