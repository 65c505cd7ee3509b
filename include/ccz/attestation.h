/* SPDX-License-Identifier: Apache-2.0 */
/* ccz attestation: the attestation service's results, read by relying parties. The service
 * (started with ccz_svc_start, "attestation"; docs/services.md) verifies evidence and issues
 * EAR attestation results (draft-ietf-rats-ear) as JWTs signed ES256 or ES384, published in a
 * JWKS at /.well-known/jwks.json. */
#ifndef CCZ_ATTESTATION_H
#define CCZ_ATTESTATION_H

#include "ccz/core.h"
#include "ccz/tee.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The EAR profile the tokens carry in "eat_profile". */
#define CCZ_EAR_PROFILE "tag:github.com,2023:veraison/ear"

/* Verifies a token offline against a JWKS document (the service's /.well-known/jwks.json):
 * the signature with the key its kid names (ES256 or ES384 only), exp, nbf and iat at at_unix
 * (60 s of leeway), the EAR profile, and that no submodule's ear.status is "contraindicated".
 * *claims gets the token's claims (ccz_json_free) when it verifies. Statuses:
 * CCZ_ERR_BAD_SIGNATURE, CCZ_ERR_EXPIRED, CCZ_ERR_NOT_YET_VALID, CCZ_ERR_NOT_FOUND (no key for
 * its kid), CCZ_ERR_MALFORMED / CCZ_ERR_JSON / CCZ_ERR_UNSUPPORTED (not such a token),
 * CCZ_ERR_POLICY_REJECTED (a contraindicated submodule). */
CCZ_API CCZ_NODISCARD ccz_status ccz_attestation_token_verify(ccz_json **claims, const char *token,
                                                              const char *jwks, size_t jwks_len,
                                                              int64_t at_unix);

/* ---- the KBS client --------------------------------------------------------------------------
 * Trustee's KBS protocol 0.4.0 (as the service's /kbs/v0 endpoints speak it): auth, attest with
 * evidence from the attester binding a fresh P-256 key and the KBS's nonce (SHA-384 of the
 * canonical runtime data), then the resource, a JWE to that key, decrypted here. */
#define CCZ_KBS_CLIENT_OPTS_VERSION 1

typedef struct {
    unsigned version;   /* CCZ_KBS_CLIENT_OPTS_VERSION */
    const char *cacert; /* CA file (PEM) for the KBS's HTTPS certificate; NULL: the system's */
    bool tls_verify_insecure; /* do not verify the KBS's certificate (testing only) */
    long timeout_ms;          /* each request (0: 30 s) */
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
