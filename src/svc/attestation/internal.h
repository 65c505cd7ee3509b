/* SPDX-License-Identifier: Apache-2.0 */
/* The attestation service's parts (internal): the attestation API (attestation.c) and the KBS
 * endpoints (kbs.c) share the service's state, token issuing and refusals. */
#ifndef CCZ_SRC_SVC_ATTESTATION_H
#define CCZ_SRC_SVC_ATTESTATION_H

#include <event2/event.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "jose/jose.h"
#include "store/store.h"
#include "svc/svc.h"

typedef struct {
    svc_common *sc;
    store *db;
    EVP_PKEY *signing_key;
    char kid[JOSE_THUMBPRINT_LEN + 1];
    jose_signer *signer; /* signing_key made ready for tokens */
    json_t *jwks;
    uint8_t admin_hash[32]; /* SHA-256 of the admin token: compared in constant time */
    unsigned token_ttl, nonce_ttl;
    const char *issuer;
    struct event *purge;
    uint64_t tokens, refused;
    struct secret_service *secret; /* secret provisioning on the same listener (--secret) */
    unsigned kbs_session_ttl;
    unsigned peer_quota;                    /* --peer-quota */
    svc_quota *nonce_quota, *session_quota; /* per client address, per --nonce-ttl and session */
    int64_t verify_at;                      /* 0: now */
    uint64_t kbs_attested, kbs_resources;
} attestation;

int64_t att_now(void);
/* Answers {"error": {"code", "status", "reason", "message"}}. */
void att_refuse(attestation *a, http_request *r, int status, const char *code, const char *fmt, ...)
    CCZ_PRINTF(5, 6);
/* Why the request does not carry the admin token (its Authorization header, checked in
 * constant time), or NULL when it does. */
const char *att_admin_refusal(const attestation *a, http_request *r);
/* Whether the request carries the admin token (else it has been answered 401). */
bool att_admin_ok(attestation *a, http_request *r);
/* The addresses a quota counts at a time (the oldest window's is forgotten past it). */
#define ATT_QUOTA_PEERS 4096
/* Takes one of the client address's quota q: NULL, or why not into msg (Retry-After is added;
 * the caller's refusal, att_refuse or the KBS's problem, counts it). what and ttl name the
 * quota's things and window for the message. */
const char *att_quota_refusal(char *msg, size_t cap, attestation *a, http_request *r, svc_quota *q,
                              const char *what, const char *ttl);
/* att_quota_refusal answered as the attestation API answers: 429 too_many_requests. */
bool att_quota_ok(attestation *a, http_request *r, svc_quota *q, const char *what, const char *ttl);
/* Whether p is a KBS resource path REPOSITORY/TYPE/TAG: three non-empty segments of letters,
 * digits, '.', '_' and '-', none "." or "..", at most 255 bytes in all. */
bool att_kbs_resource_path_ok(const char *p);
/* base64 or base64url: CCZ_OK, CCZ_ERR_NOMEM, or the encoding's error */
CCZ_NODISCARD ccz_status att_decode_b64(ccz_buf *out, const char *text);
/* An EAR token for accepted claims; extra members are merged into the claims. *exp (when not
 * NULL) is the token's exp, for a caller that keeps the token no longer than it is valid. */
CCZ_NODISCARD ccz_status att_issue_token(ccz_buf *out, int64_t *exp, attestation *a,
                                         const ccz_claims *c, const char *policy_id,
                                         const char *nonce, const ccz_span *runtime_data,
                                         json_t *extra);
/* A policy id (in a path or a body): 1 to 64 of A-Z a-z 0-9 . _ - */
bool att_policy_id_ok(const char *id);
/* The ids tokens give the service's own policies (post_attest, kbs.c): a stored policy under one
 * would make a token's ear.appraisal-policy-id ambiguous. */
bool att_policy_id_reserved(const char *id);

/* A POST /v1/attest body as read: the strings point into the body. */
typedef struct {
    ccz_buf evidence, runtime_data, collateral_text;
    ccz_buf vek, chain; /* SEV-SNP collateral */
    const char *nonce, *policy_id;
    bool has_runtime_data, snp;
} att_attest_req;

#define ATT_ATTEST_REQ_INIT                                                                        \
    {                                                                                              \
        CCZ_BUF_INIT, CCZ_BUF_INIT, CCZ_BUF_INIT, CCZ_BUF_INIT, CCZ_BUF_INIT, NULL, NULL, false,   \
            false                                                                                  \
    }

/* Reads a POST /v1/attest body into q (its "evidence", when lifted out before parsing, in
 * lifted): NULL, or why it is refused (400 bad_request), which may be written into msg, or
 * att_out_of_memory (500 internal). */
extern const char att_out_of_memory[];
const char *att_attest_read(att_attest_req *q, const json_t *body, const ccz_buf *lifted, char *msg,
                            size_t cap);
void att_attest_req_free(att_attest_req *q);
/* A PUT /v1/policies/ID body as it is kept: *text (the caller frees it, also on failure), which
 * must parse as a policy. */
CCZ_NODISCARD ccz_status att_policy_text(char **text, const json_t *body);

/* A POST /kbs/v0/attest body as read (kbs.c): the evidence's bytes and the report data its
 * runtime data binds; nonce and pubkey point into the body. */
typedef struct {
    ccz_buf evidence;
    uint8_t report_data[64];
    const char *nonce;
    json_t *pubkey;
} att_kbs_attest_req;

/* Reads a KBS Attestation body for a session of tee (sim, sgx or tdx) whose nonce is
 * session_nonce: NULL, or why it is refused (*status 400, a SerdeError, or 401, an
 * AttestationError), which may be written into msg, or att_out_of_memory (500). The caller frees
 * q->evidence, also on failure. */
const char *att_kbs_attest_read(att_kbs_attest_req *q, const json_t *body, const char *tee,
                                const char *session_nonce, int *status, char *msg, size_t cap);

/* Registers the KBS endpoints (kbs.c). */
CCZ_NODISCARD ccz_status kbs_start(attestation *a);
void kbs_stop(attestation *a);

#endif
