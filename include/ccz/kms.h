/* SPDX-License-Identifier: Apache-2.0 */
/* ccz kms: a client of ccz's KMS and of Intel's eHSM-KMS (the same wire protocol: POST
 * /ehsm?Action=NAME with a signed JSON envelope; docs/kms.md). Everything the KMS answers is
 * untrusted: answers are bounded and parsed as JSON with duplicate keys refused. */
#ifndef CCZ_KMS_H
#define CCZ_KMS_H

#include "ccz/core.h"
#include "ccz/policy.h"
#include "ccz/tee.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CCZ_KMS_OPTS_VERSION 1

typedef struct {
    unsigned version; /* CCZ_KMS_OPTS_VERSION */
    /* the KMS: "HOST:PORT" or "https://HOST:PORT[/ehsm]" */
    const char *url;
    /* How the KMS is authenticated, one of:
     *   - its RA-TLS certificate, verified with trust (and collateral) and appraised with policy
     *     (NULL: the default policy) — ccz's KMS inside a TEE;
     *   - an ordinary TLS certificate checked against the CA file ca_file (and the host name). */
    const ccz_trust *trust;
    const ccz_policy *policy;
    const ccz_collateral *collateral;
    const char *ca_file;
    /* Enroll: present an RA-TLS client certificate with this attester's evidence, or send the
     * admin token; ccz's KMS refuses enrollment without one of them. */
    const ccz_attester *attester;
    const char *admin_token;
    long timeout_ms; /* connect, handshake and the answer (0: 30 s) */
} ccz_kms_opts;

#define CCZ_KMS_OPTS_INIT                                                                          \
    {                                                                                              \
        CCZ_KMS_OPTS_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0                          \
    }

/* GET /ehsm?Action=Enroll: a new app. appid is a UUID; apikey (32 characters) is secret: wipe it
 * after use. CCZ_ERR_POLICY_REJECTED when the KMS refuses (its message in the detail). */
CCZ_API CCZ_NODISCARD ccz_status ccz_kms_enroll(char appid[37], char apikey[33],
                                                const ccz_kms_opts *o);

/* One signed action: the envelope (a fresh 13-digit timestamp and a random nonce) signed with
 * HMAC-SHA256 under apikey over eHSM's canonical string, POSTed; *response is the whole answer
 * {code, message, result} (free with ccz_json_free), whatever its code. payload may be NULL.
 * Errors only for no answer (CCZ_ERR_NETWORK, CCZ_ERR_TLS) or one that is not the protocol's
 * (CCZ_ERR_PROTOCOL). */
CCZ_API CCZ_NODISCARD ccz_status ccz_kms_call(ccz_json **response, const ccz_kms_opts *o,
                                              const char *appid, const char *apikey,
                                              const char *action, const ccz_json *payload);

#ifdef __cplusplus
}
#endif
#endif
