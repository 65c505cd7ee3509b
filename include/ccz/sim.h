/* SPDX-License-Identifier: Apache-2.0 */
/* ccz sim: the simulated TEE, a software platform for machines without TEE hardware. Part of
 * the tee module (ccz/tee.h includes it): ccz_attest and ccz_verify use it for sim evidence;
 * these declarations set a platform up and expose the evidence parser for tools and tests. */
#ifndef CCZ_SIM_H
#define CCZ_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "ccz/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Its evidence is signed by a local attestation key; verifiers accept it only when the policy
 * says allow_sim. */
#define CCZ_SIM_MAGIC "CCZS"
#define CCZ_SIM_VERSION 1
#define CCZ_SIM_HEADER_SIZE 150 /* bytes before the platform certificate */
#define CCZ_SIM_SIG_SIZE 64     /* ECDSA P-256 r||s, big-endian */
#define CCZ_SIM_FLAG_DEBUG 0x0001
#define CCZ_SIM_MAX_CERT 4096

/* Creates a platform in dir: root.crt/root.key (self-signed root), ak.crt/ak.key (attestation
 * key certified by the root) and signer.key (default enclave signing key), all EC P-256. Fails
 * with CCZ_ERR_EXISTS when a platform is there already, unless force. */
CCZ_API CCZ_NODISCARD ccz_status ccz_sim_platform_init(const char *dir, bool force);
/* The default platform directory: $CCZ_SIM_DIR, else $XDG_DATA_HOME/ccz/sim, else
 * ~/.local/share/ccz/sim. For tools; the library's verifiers never call it. */
CCZ_API CCZ_NODISCARD ccz_status ccz_sim_default_dir(ccz_buf *out);
/* The measurement a program has under sim: SHA-256 of the file's bytes. */
CCZ_API CCZ_NODISCARD ccz_status ccz_sim_measure_file(uint8_t out[32], const char *path);
/* The signer value of a PEM key (private or public): SHA-256 of its DER SubjectPublicKeyInfo. */
CCZ_API CCZ_NODISCARD ccz_status ccz_sim_signer_of_key_file(uint8_t out[32], const char *path);

/* Parsed sim evidence, before any check; spans point into the input. */
typedef struct {
    uint16_t version;
    uint16_t flags;
    uint8_t measurement[32];
    uint8_t signer[32];
    uint16_t product_id;
    uint16_t svn;
    int64_t timestamp;
    uint8_t report_data[64];
    ccz_span platform_cert;
    ccz_span signed_part;
    uint8_t signature[CCZ_SIM_SIG_SIZE];
} ccz_sim_evidence;

/* Parses sim evidence framing (no cryptography). */
CCZ_API CCZ_NODISCARD ccz_status ccz_sim_evidence_parse(ccz_sim_evidence *out, ccz_span in);

#ifdef __cplusplus
}
#endif
#endif
