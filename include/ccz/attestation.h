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

#ifdef __cplusplus
}
#endif
#endif
