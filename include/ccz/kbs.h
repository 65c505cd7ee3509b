/* SPDX-License-Identifier: Apache-2.0 */
/* ccz kbs: a client of Trustee's Key Broker Service protocol (kbs/docs/kbs_attestation_protocol.md
 * in confidential-containers/trustee), as Confidential Containers' guests and the attestation
 * service's /kbs/v0 endpoints speak it (docs/services.md). Everything a KBS answers is
 * untrusted. */
#ifndef CCZ_KBS_H
#define CCZ_KBS_H

#include "ccz/core.h"
#include "ccz/tee.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Trustee's KBS protocol 0.4.0 (as the service's /kbs/v0 endpoints speak it): auth, attest with
 * evidence from the attester binding a fresh P-256 key and the KBS's nonce (SHA-384 of the
 * canonical runtime data), then the resource, a JWE to that key, decrypted here. */
#define CCZ_KBS_CLIENT_OPTS_VERSION 1

typedef struct {
    unsigned version;   /* CCZ_KBS_CLIENT_OPTS_VERSION */
    const char *cacert; /* CA file (PEM) for the KBS's HTTPS certificate; NULL: the system's */
    bool tls_verify_insecure; /* do not verify the KBS's certificate (testing only) */
    long timeout_ms;          /* the whole exchange, its three requests (0: 30 s) */
    ccz_buf *token;           /* when not NULL, receives the attestation token */
} ccz_kbs_client_opts;

#define CCZ_KBS_CLIENT_OPTS_INIT                                                                   \
    {                                                                                              \
        CCZ_KBS_CLIENT_OPTS_VERSION, NULL, false, 0, NULL                                          \
    }

/* Fetches the resource at path ("REPOSITORY/TYPE/TAG") from the KBS at url ("https://host:port")
 * for evidence of a (sim, sgx or tdx), appending its bytes to *out (pass a secret buffer).
 * Statuses: CCZ_ERR_NETWORK (no answer), CCZ_ERR_POLICY_REJECTED (401/403 with the KBS's
 * detail), CCZ_ERR_NOT_FOUND (404), CCZ_ERR_PROTOCOL (an answer that is not the protocol's). */
CCZ_API CCZ_NODISCARD ccz_status ccz_kbs_get_resource(ccz_buf *out, const ccz_attester *a,
                                                      const char *url, const char *path,
                                                      const ccz_kbs_client_opts *o);

#ifdef __cplusplus
}
#endif
#endif
