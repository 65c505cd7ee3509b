/* SPDX-License-Identifier: Apache-2.0 */
/* The domain key between replicas. A replica that has it answers POST /kms/v1/domain-key, over
 * mutual RA-TLS only, to a peer whose verified evidence its --peer-policy accepts; a new
 * replica started with --peer HOST:PORT asks for it the same way, accepting only a peer whose
 * evidence its own --peer-policy accepts, then seals what it got. Without --peer-policy a
 * replica neither gives nor takes a domain key. The key travels inside the TLS session, whose
 * keys both RA-TLS certificates bind to their evidence. */
#include <stdio.h>
#include <string.h>

#include <openssl/ssl.h>

#include "core/guard.h"
#include "svc/kms/kms.h"

#define PEER_ANSWER_MAX 8192

void kms_domain_serve(http_request *r, void *payload)
{
    kms *k = payload;
    if (!k->peer_policy) {
        kms_refuse(k, r, 403,
                   "this replica gives its domain key to no one (start it with --peer-policy)");
        return;
    }
    const ccz_ratls_verdict *v = http_request_tls_verdict(r);
    if (!v || v->status != CCZ_OK || v->result.status != CCZ_OK) {
        kms_refuse(k, r, 403,
                   "the domain key goes only to a replica that presents verified RA-TLS "
                   "evidence");
        return;
    }
    ccz_appraisal ap;
    if (ccz_appraise(&ap, k->peer_policy, &v->result.claims) != CCZ_OK || !ap.accepted) {
        ccz_log(CCZ_LOG_WARN, "kms: a peer asked for the domain key; its evidence is not on the "
                              "--peer-policy allow-list");
        kms_refuse(k, r, 403, "the peer's evidence does not satisfy this replica's --peer-policy");
        return;
    }
    char b64[64];
    if (kms_b64_fixed(b64, sizeof b64, CCZ_SPAN(k->domain_key, 32)) != CCZ_OK) {
        kms_refuse(k, r, 500, "Server exception.");
        return;
    }
    char body[160];
    int n = snprintf(body, sizeof body,
                     "{\"code\":200,\"message\":\"success!\",\"result\":{\"domain_key\":\"%s\"}}\n",
                     b64);
    ccz_wipe(b64, sizeof b64);
    ccz_log(CCZ_LOG_INFO, "kms: gave the domain key to a %s replica accepted by --peer-policy",
            ccz_tee_name(v->result.claims.tee));
    http_reply_secret(r, 200, "application/json", CCZ_SPAN(body, (size_t)n));
    ccz_wipe(body, sizeof body);
}

ccz_status kms_domain_fetch(kms *k, const char *peer)
{
    CCZ_ENSURE(k->peer_policy, CCZ_ERR_INVALID_ARGUMENT,
               "--peer needs --peer-policy: the allow-list the peer's evidence must satisfy");
    ccz_ratls_opts o = CCZ_RATLS_OPTS_INIT;
    o.server = false;
    o.mode = CCZ_RATLS_TWO_WAY;
    o.attester = k->sc->attester;
    o.policy = k->peer_policy;
    o.trust = k->sc->trust;
    o.collateral = k->sc->collateral;
    SSL_CTX *ctx = NULL;
    CCZ_GUARD(ccz_ratls_ctx_new(&ctx, &o));
    int status = 0;
    ccz_buf answer;
    ccz_buf_init(&answer, PEER_ANSWER_MAX, true);
    ccz_status st =
        kms_https(&status, &answer, ctx, peer, 0, "POST", "/kms/v1/domain-key", NULL, NULL, 0);
    SSL_CTX_free(ctx);
    if (st == CCZ_ERR_TOO_LARGE) /* the answer's body over what this buffer takes */
        st = ccz_fail(CCZ_ERR_TOO_LARGE, "the peer %s sent an answer over %u bytes", peer,
                      PEER_ANSWER_MAX);
    json_t *j = NULL;
    json_error_t je;
    if (st == CCZ_OK)
        j = json_loadb((const char *)answer.ptr, answer.len, JSON_REJECT_DUPLICATES, &je);
    /* the error's place, not its text: jansson quotes the bytes near it, perhaps of the key */
    if (st == CCZ_OK && !j && status == 200)
        st = ccz_fail(CCZ_ERR_MALFORMED,
                      "the peer %s answered HTTP 200 with a body that is not JSON (line %d, "
                      "column %d)",
                      peer, je.line, je.column);
    const char *key =
        json_string_value(json_object_get(json_object_get(j, "result"), "domain_key"));
    if (st == CCZ_OK && (status != 200 || !key)) {
        const char *msg = json_string_value(json_object_get(j, "message"));
        st = ccz_fail(CCZ_ERR_POLICY_REJECTED, "the peer %s gave no domain key (HTTP %d: %s)", peer,
                      status, msg ? msg : "no message");
    }
    ccz_buf raw;
    ccz_buf_init(&raw, 0, true);
    if (st == CCZ_OK && (ccz_base64_decode(&raw, key, strlen(key)) != CCZ_OK || raw.len != 32))
        st = ccz_fail(CCZ_ERR_MALFORMED,
                      "the peer %s sent a malformed domain key (not the base64 of 32 bytes)", peer);
    if (st == CCZ_OK)
        memcpy(k->domain_key, raw.ptr, 32);
    if (j) {
        json_t *res = json_object_get(j, "result");
        json_object_del(res, "domain_key"); /* jansson frees the string without wiping */
    }
    json_decref(j);
    ccz_buf_free(&raw);
    ccz_buf_free(&answer);
    return st;
}
