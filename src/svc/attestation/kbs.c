/* SPDX-License-Identifier: Apache-2.0 */
/* The key broker: Trustee's KBS protocol, version 0.4.0 (kbs/docs/kbs_attestation_protocol.md),
 * on the attestation service's listener.
 *   POST /kbs/v0/auth       {"version","tee","extra-params"} -> {"nonce","extra-params"} and the
 *                           cookie kbs-session-id
 *   POST /kbs/v0/attest     {"runtime-data": {"nonce","tee-pubkey"}, "tee-evidence":
 *                           {"primary_evidence","additional_evidence"}} -> {"token"}; the
 *                           evidence's report data is SHA-384 of the JCS form of
 *                           {"additional-evidence","nonce","tee-pubkey"}, zero-padded to 64
 *   GET  /kbs/v0/resource/REPO/TYPE/TAG   with the cookie or "Authorization: Bearer TOKEN":
 *                           the resource as a JWE (flattened JSON, A256GCM) to the tee-pubkey
 * Administration (the admin token): POST/DELETE /kbs/v0/resource/REPO/TYPE/TAG (the body is the
 * resource), PUT/DELETE /kbs/v0/resource-policy/REPO/TYPE/TAG (a policy of that resource's own,
 * checked against the session's evidence on top of the service's policy). Errors are RFC 7807
 * problems typed as Trustee types them; 401 unauthenticated, 403 not allowed, 404 absent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "core/guard.h"
#include "svc/attestation/internal.h"

#define KBS_VERSION "0.4.0"
#define SESSION_NS "kbs-session"
#define COOKIE "kbs-session-id"
#define PROBLEM "https://github.com/confidential-containers/kbs/errors/"
/* A resource's largest size: its JWE (base64url, 4/3 of it, and the headers) stays within the
 * 1 MiB a client reads (JOSE_MAX_INPUT, ccz's KBS client). */
#define RESOURCE_MAX (512u << 10)

static void problem(attestation *a, http_request *r, int status, const char *type, const char *fmt,
                    ...) CCZ_PRINTF(5, 6);

static void problem(attestation *a, http_request *r, int status, const char *type, const char *fmt,
                    ...)
{
    char msg[600], t[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(t, sizeof t, PROBLEM "%s", type);
    a->refused++;
    json_t *j = json_pack("{s:s,s:s}", "type", t, "detail", msg);
    if (j)
        http_reply_json(r, status, j);
    else
        http_reply_error(r, 500, "out of memory");
    json_decref(j);
}

/* Whether the request carries the admin token; else it is refused as Trustee refuses it (a
 * problem typed AdminAuth), as every other answer of the KBS. */
static bool kbs_admin_ok(attestation *a, http_request *r)
{
    const char *why = att_admin_refusal(a, r);
    if (!why)
        return true;
    if (http_add_header(r, "WWW-Authenticate", "Bearer realm=\"ccz admin\"") != CCZ_OK)
        ccz_log(CCZ_LOG_DEBUG, "kbs: a 401 without WWW-Authenticate");
    problem(a, r, 401, "AdminAuth", "%s", why);
    return false;
}

/* The request's JSON object, or NULL once it is answered as the KBS answers (a SerdeError
 * problem, not the HTTP layer's error body): 415 for another content type, 400 for text that is
 * not JSON. */
static json_t *kbs_json(attestation *a, http_request *r)
{
    int status;
    char why[256];
    json_t *j = http_request_json_parse(r, NULL, NULL, &status, why, sizeof why);
    if (!j)
        problem(a, r, status, "SerdeError", "%s", why);
    return j;
}

/* ---- sessions --------------------------------------------------------------------------------*/

static bool valid_session_id(const char *id)
{
    if (strlen(id) != 43)
        return false;
    for (const char *p = id; *p; p++)
        if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9') &&
            *p != '-' && *p != '_')
            return false;
    return true;
}

/* The kbs-session-id of the Cookie header, when well formed. */
static bool session_cookie(http_request *r, char id[44])
{
    const char *h = http_request_header(r, "cookie");
    size_t n = strlen(COOKIE);
    while (h && *h) {
        while (*h == ' ' || *h == ';')
            h++;
        size_t len = strcspn(h, ";");
        if (len > n && strncmp(h, COOKIE, n) == 0 && h[n] == '=' && len - n - 1 == 43) {
            memcpy(id, h + n + 1, 43);
            id[43] = 0;
            return valid_session_id(id);
        }
        h += len;
    }
    return false;
}

/* A session's store key: the SHA-256 of its id, in hex. The id is a bearer credential (the
 * cookie alone speaks for an attested TEE), so the store, its backups and a replica's copy hold
 * only what cannot be presented. */
static void session_key(char key[65], const char *id)
{
    uint8_t h[32];
    SHA256((const uint8_t *)id, strlen(id), h);
    ccz_hex_to_str(key, h, sizeof h);
}

static ccz_status session_put(attestation *a, const char *id, json_t *s, int64_t expires)
{
    char key[65];
    session_key(key, id);
    char *text = json_dumps(s, JSON_COMPACT);
    CCZ_ENSURE(text, CCZ_ERR_NOMEM, "out of memory");
    ccz_status st = store_kv_put(a->db, SESSION_NS, key, text, strlen(text), expires);
    free(text);
    return st;
}

static ccz_status session_get(attestation *a, const char *id, json_t **out)
{
    char key[65];
    session_key(key, id);
    ccz_buf b = CCZ_BUF_INIT;
    CCZ_GUARD(store_kv_get(a->db, &b, SESSION_NS, key));
    *out = json_loadb((const char *)b.ptr, b.len, 0, NULL);
    ccz_buf_free(&b);
    CCZ_ENSURE(*out, CCZ_ERR_JSON, "a session record does not parse");
    return CCZ_OK;
}

static bool set_cookie(http_request *r, const char *id, int64_t expires)
{
    char date[64], v[256];
    time_t t = (time_t)expires;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    snprintf(v, sizeof v, COOKIE "=%s; Expires=%s; Path=/kbs; Secure; HttpOnly", id, date);
    bool ok = http_add_header(r, "Set-Cookie", v) == CCZ_OK;
    OPENSSL_cleanse(v, sizeof v); /* the session id is a bearer credential */
    return ok;
}

/* ---- POST /kbs/v0/auth -----------------------------------------------------------------------*/

static const char *const tees[] = {"sim", "sgx", "tdx"};

static void auth(http_request *r, void *payload)
{
    attestation *a = payload;
    json_t *body = kbs_json(a, r);
    if (!body)
        return;
    const char *version = json_string_value(json_object_get(body, "version"));
    const char *tee = json_string_value(json_object_get(body, "tee"));
    json_t *extra = json_object_get(body, "extra-params");
    if (!version || !tee) {
        problem(a, r, 400, "SerdeError", "a KBS Request has \"version\" and \"tee\" strings");
        goto out;
    }
    if (strcmp(version, KBS_VERSION) != 0) {
        problem(a, r, 401, "AttestationError",
                "KBS Client Protocol Version Mismatch: expect =" KBS_VERSION
                " while the request is %s",
                version);
        goto out;
    }
    bool known = false;
    for (size_t i = 0; i < CCZ_ARRAY_LEN(tees); i++)
        known |= strcmp(tee, tees[i]) == 0;
    if (!known) {
        problem(a, r, 401, "AttestationError",
                "this KBS verifies evidence of sim, sgx and tdx, not of '%s'", tee);
        goto out;
    }
    (void)extra; /* no TEE this KBS verifies uses extra parameters */
    char msg[200];
    const char *why =
        att_quota_refusal(msg, sizeof msg, a, r, a->session_quota, "sessions", "--kbs-session-ttl");
    if (why) {
        problem(a, r, 429, "TooManyRequests", "%s", why);
        goto out;
    }
    uint8_t raw[32], sid[32];
    ccz_buf nonce = CCZ_BUF_INIT, id = CCZ_BUF_INIT;
    ccz_buf_init(&id, 0, true); /* the session id: a bearer credential, wiped */
    int64_t exp = att_now() + a->kbs_session_ttl;
    json_t *s = NULL;
    bool ok = RAND_bytes(raw, sizeof raw) == 1 && RAND_bytes(sid, sizeof sid) == 1 &&
              jose_b64url_encode(&nonce, CCZ_SPAN(raw, sizeof raw)) == CCZ_OK &&
              jose_b64url_encode(&id, CCZ_SPAN(sid, sizeof sid)) == CCZ_OK &&
              (s = json_pack("{s:s,s:s,s:s}", "tee", tee, "nonce", (const char *)nonce.ptr, "state",
                             "authed")) != NULL &&
              session_put(a, (const char *)id.ptr, s, exp) == CCZ_OK &&
              set_cookie(r, (const char *)id.ptr, exp);
    if (!ok) {
        http_reply_error(r, 500, "cannot start a session: %s", ccz_error_detail());
    } else {
        json_t *j = json_pack("{s:s,s:{}}", "nonce", (const char *)nonce.ptr, "extra-params");
        http_reply_json(r, 200, j);
        json_decref(j);
    }
    json_decref(s);
    ccz_buf_free(&nonce);
    ccz_buf_free(&id);
    OPENSSL_cleanse(sid, sizeof sid);
out:
    json_decref(body);
}

/* ---- POST /kbs/v0/attest ---------------------------------------------------------------------*/

/* The evidence bytes of a primary_evidence object (or a string holding one): sim
 * {"evidence": base64}, sgx {"quote": base64}, tdx {"quote": base64, "cc_eventlog"?}.
 * CCZ_ERR_INVALID_ARGUMENT when they are missing, CCZ_ERR_NOMEM when they cannot be read. */
static ccz_status primary_evidence(ccz_buf *out, const char *tee, const json_t *pe)
{
    json_t *parsed = NULL; /* (jansson's load never says that memory ran out: missing too) */
    if (json_is_string(pe))
        pe = parsed = json_loads(json_string_value(pe), JSON_REJECT_DUPLICATES, NULL);
    const char *field = strcmp(tee, "sim") == 0 ? "evidence" : "quote";
    const char *b64 = json_string_value(json_object_get(pe, field));
    ccz_status st = b64 ? att_decode_b64(out, b64) : CCZ_ERR_INVALID_ARGUMENT;
    if (st == CCZ_OK && out->len == 0)
        st = CCZ_ERR_INVALID_ARGUMENT;
    json_decref(parsed);
    return st == CCZ_ERR_NOMEM ? st : st != CCZ_OK ? CCZ_ERR_INVALID_ARGUMENT : CCZ_OK;
}

/* SHA-384 of the JCS form of the runtime data, zero-padded to 64 bytes. */
static ccz_status runtime_digest(uint8_t out[64], json_t *pubkey, const char *nonce,
                                 const char *additional)
{
    json_t *rd = json_pack("{s:O,s:s,s:s}", "tee-pubkey", pubkey, "nonce", nonce,
                           "additional-evidence", additional);
    CCZ_ENSURE(rd, CCZ_ERR_NOMEM, "out of memory");
    ccz_buf c = CCZ_BUF_INIT;
    ccz_status st = jose_jcs(&c, rd);
    json_decref(rd);
    if (st == CCZ_OK) {
        memset(out, 0, 64);
        SHA384(c.ptr, c.len, out);
    }
    ccz_buf_free(&c);
    return st;
}

/* A body's refusal: out of memory as such (500), else the reason, written into msg. */
static const char *read_refusal(ccz_status st, char *msg, size_t cap, const char *fmt, ...)
    CCZ_PRINTF(4, 5);

static const char *read_refusal(ccz_status st, char *msg, size_t cap, const char *fmt, ...)
{
    if (st == CCZ_ERR_NOMEM)
        return att_out_of_memory;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, cap, fmt, ap);
    va_end(ap);
    return msg;
}

const char *att_kbs_attest_read(att_kbs_attest_req *q, const json_t *body, const char *tee,
                                const char *session_nonce, int *status, char *msg, size_t cap)
{
    json_t *rd = json_object_get(body, "runtime-data"), *te = json_object_get(body, "tee-evidence");
    json_t *addl = json_object_get(te, "additional_evidence");
    q->nonce = json_string_value(json_object_get(rd, "nonce"));
    q->pubkey = json_object_get(rd, "tee-pubkey");
    *status = 401;
    if (!tee || !session_nonce)
        return "the session record is incomplete: POST /kbs/v0/auth again";
    *status = 400;
    if (!q->nonce || !json_is_object(q->pubkey) || !json_is_object(te) ||
        (addl && !json_is_string(addl)))
        return "an Attestation has runtime-data {nonce, tee-pubkey} "
               "and tee-evidence {primary_evidence, additional_evidence}";
    *status = 401;
    if (addl && json_string_length(addl) && strcmp(json_string_value(addl), "{}") != 0)
        return "additional evidence is not verified by this KBS";
    if (strcmp(q->nonce, session_nonce) != 0)
        return "the nonce in the handshake session is different from the client side in KBS "
               "protocol's Attestation message";
    *status = 400;
    /* the key the resources will be encrypted to must be one a JWE can be made for */
    json_t *probe = NULL;
    ccz_status st = jose_jwe_encrypt_jwk(&probe, q->pubkey, CCZ_LIT("probe"));
    json_decref(probe);
    if (st != CCZ_OK)
        return read_refusal(st, msg, cap, "tee-pubkey: %s", ccz_error_detail());
    st = primary_evidence(&q->evidence, tee, json_object_get(te, "primary_evidence"));
    if (st != CCZ_OK)
        return read_refusal(st, msg, cap, "primary_evidence of %s: %s (base64) is missing", tee,
                            strcmp(tee, "sim") == 0 ? "evidence" : "quote");
    st = runtime_digest(q->report_data, q->pubkey, q->nonce, addl ? json_string_value(addl) : "");
    if (st != CCZ_OK)
        return read_refusal(st, msg, cap, "runtime-data: %s", ccz_error_detail());
    return NULL;
}

static void attest(http_request *r, void *payload)
{
    attestation *a = payload;
    svc_common *sc = a->sc;
    char id[44];
    json_t *body = NULL, *s = NULL;
    att_kbs_attest_req q = {CCZ_BUF_INIT, {0}, NULL, NULL};
    ccz_buf token = CCZ_BUF_INIT;
    if (!session_cookie(r, id)) {
        problem(a, r, 401, "AttestationError", "no kbs-session-id cookie: POST /kbs/v0/auth first");
        goto out;
    }
    ccz_status st = session_get(a, id, &s);
    if (st == CCZ_ERR_NOT_FOUND) {
        problem(a, r, 401, "AttestationError",
                "the session is unknown or expired: POST /kbs/v0/auth again");
        goto out;
    }
    if (st != CCZ_OK) { /* the store's failure or memory's, not the client's */
        http_reply_error(r, 500, "cannot read the session: %s", ccz_error_detail());
        goto out;
    }
    if (!(body = kbs_json(a, r)))
        goto out;
    const char *state = json_string_value(json_object_get(s, "state"));
    /* as Trustee: the session's token again, while it is valid; past its exp the evidence is
     * verified afresh and a new token issued (an expired one would be refused as a bearer) */
    if (state && strcmp(state, "attested") == 0 &&
        att_now() < json_integer_value(json_object_get(s, "token-exp"))) {
        json_t *j = json_pack("{s:O}", "token", json_object_get(s, "token"));
        http_reply_json(r, 200, j);
        json_decref(j);
        goto out;
    }
    const char *tee = json_string_value(json_object_get(s, "tee"));
    int status;
    char msg[400];
    const char *bad = att_kbs_attest_read(
        &q, body, tee, json_string_value(json_object_get(s, "nonce")), &status, msg, sizeof msg);
    if (bad == att_out_of_memory) {
        http_reply_error(r, 500, "cannot read the attestation: %s", bad);
        goto out;
    }
    if (bad) {
        problem(a, r, status, status == 401 ? "AttestationError" : "SerdeError", "%s", bad);
        goto out;
    }
    ccz_verify_opts vo = CCZ_VERIFY_OPTS_INIT;
    vo.at_unix = a->verify_at ? a->verify_at : att_now();
    vo.trust = sc->trust;
    vo.collateral = sc->collateral;
    vo.expected_report_data = q.report_data;
    ccz_result res;
    st = ccz_verify(&res, ccz_buf_span(&q.evidence), &vo);
    if (st == CCZ_OK && strcmp(ccz_tee_name(res.claims.tee), tee) != 0)
        st = ccz_result_failf(&res, CCZ_AT_DETECT, CCZ_ERR_UNKNOWN_FORMAT,
                              "the session is for %s evidence, this is %s", tee,
                              ccz_tee_name(res.claims.tee));
    if (ccz_status_class(st) == CCZ_CLASS_INTERNAL) {
        http_reply_error(r, 500, "cannot verify the evidence: %s", res.message);
        goto out;
    }
    if (st != CCZ_OK) {
        problem(a, r, 401, "AttestationError", "verify TEE evidence failed: %s at %s: %s",
                ccz_status_name(st), res.step ? res.step : "?", res.message);
        goto out;
    }
    ccz_appraisal ap;
    if ((st = ccz_appraise(&ap, sc->policy, &res.claims)) != CCZ_OK) {
        http_reply_error(r, 500, "cannot appraise the evidence: %s", ccz_error_detail());
        goto out;
    }
    if (!ap.accepted) {
        problem(a, r, 401, "PolicyDeny", "the attestation policy rejected the evidence: %s: %s",
                ap.n_reasons ? ap.reasons[0].code : "?", ap.n_reasons ? ap.reasons[0].message : "");
        goto out;
    }
    json_t *extra = json_pack("{s:O}", "tee-pubkey", q.pubkey);
    int64_t token_exp = 0; /* the token's own: kept as long as it is valid, not a second longer */
    st = extra ? att_issue_token(&token, &token_exp, a, &res.claims, "kbs", q.nonce, NULL, extra)
               : CCZ_ERR_NOMEM;
    json_decref(extra);
    ccz_buf b64 = CCZ_BUF_INIT;
    if (st == CCZ_OK)
        st = ccz_base64_encode(&b64, ccz_buf_span(&q.evidence));
    if (st == CCZ_OK) {
        json_object_set_new(s, "state", json_string("attested"));
        json_object_set_new(s, "token", json_string((const char *)token.ptr));
        json_object_set_new(s, "token-exp", json_integer(token_exp));
        json_object_set(s, "tee-pubkey", q.pubkey);
        json_object_set_new(s, "evidence", json_string((const char *)b64.ptr));
        char hex[129];
        ccz_hex_to_str(hex, q.report_data, 64);
        json_object_set_new(s, "report-data", json_string(hex));
        int64_t exp = att_now() + a->kbs_session_ttl;
        st = session_put(a, id, s, exp);
        if (st == CCZ_OK && !set_cookie(r, id, exp))
            st = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    }
    ccz_buf_free(&b64);
    if (st != CCZ_OK) {
        http_reply_error(r, 500, "cannot issue the token: %s", ccz_error_detail());
        goto out;
    }
    a->kbs_attested++;
    a->tokens++;
    json_t *j = json_pack("{s:s}", "token", (const char *)token.ptr);
    http_reply_json(r, 200, j);
    json_decref(j);
out:
    OPENSSL_cleanse(id, sizeof id);
    ccz_buf_free(&q.evidence);
    ccz_buf_free(&token);
    json_decref(s);
    json_decref(body);
}

/* ---- resources -------------------------------------------------------------------------------*/

/* REPO/TYPE/TAG, each of A-Z a-z 0-9 . _ - (not "." or ".."), at most 255 bytes in all. */
bool att_kbs_resource_path_ok(const char *p)
{
    size_t n = strlen(p), seg = 0, parts = 1;
    if (n == 0 || n > 255)
        return false;
    for (size_t i = 0; i <= n; i++) {
        char ch = p[i];
        if (ch == '/' || ch == 0) {
            if (seg == 0 || (seg == 1 && p[i - 1] == '.') ||
                (seg == 2 && p[i - 1] == '.' && p[i - 2] == '.'))
                return false;
            seg = 0;
            parts += ch == '/';
            continue;
        }
        if (!(ch >= 'a' && ch <= 'z') && !(ch >= 'A' && ch <= 'Z') && !(ch >= '0' && ch <= '9') &&
            !strchr("._-", ch))
            return false;
        seg++;
    }
    return parts == 3;
}

typedef struct {
    ccz_buf data;
    char *policy;
    bool found;
} resource_row;

static ccz_status read_resource(const store_row *row, void *payload)
{
    resource_row *rr = payload;
    rr->found = true;
    ccz_span d = store_row_blob(row, 0);
    CCZ_GUARD(ccz_buf_append(&rr->data, d.ptr, d.len));
    const char *p = store_row_text(row, 1);
    if (p && !(rr->policy = strdup(p)))
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    return CCZ_OK;
}

/* Whether the session's evidence, verified again now, satisfies the resource's policy. */
static bool resource_policy_ok(attestation *a, http_request *r, json_t *s, const char *policy)
{
    ccz_policy *p = NULL;
    ccz_buf ev = CCZ_BUF_INIT;
    uint8_t expected[64];
    const char *hex = json_string_value(json_object_get(s, "report-data"));
    const char *ev64 = json_string_value(json_object_get(s, "evidence"));
    bool ok = false;
    if (ccz_policy_parse(&p, policy, strlen(policy)) != CCZ_OK || !hex || !ev64 ||
        ccz_hex_decode_fixed(expected, 64, hex, strlen(hex)) != CCZ_OK ||
        att_decode_b64(&ev, ev64) != CCZ_OK) {
        http_reply_error(r, 500, "the resource's policy or the session is unreadable");
        goto out;
    }
    ccz_verify_opts vo = CCZ_VERIFY_OPTS_INIT;
    vo.at_unix = a->verify_at ? a->verify_at : att_now();
    vo.trust = a->sc->trust;
    vo.collateral = a->sc->collateral;
    vo.expected_report_data = expected;
    ccz_result res;
    ccz_appraisal ap;
    ccz_status st = ccz_verify(&res, ccz_buf_span(&ev), &vo);
    if (ccz_status_class(st) == CCZ_CLASS_INTERNAL) {
        http_reply_error(r, 500, "cannot verify the session's evidence: %s", res.message);
        goto out;
    }
    if (st != CCZ_OK) {
        problem(a, r, 401, "AttestationError", "the session's evidence no longer verifies: %s",
                res.message);
        goto out;
    }
    if (ccz_appraise(&ap, p, &res.claims) != CCZ_OK || !ap.accepted) {
        problem(a, r, 403, "PolicyDeny", "the resource's policy denies it: %s: %s",
                ap.n_reasons ? ap.reasons[0].code : "?", ap.n_reasons ? ap.reasons[0].message : "");
        goto out;
    }
    ok = true;
out:
    ccz_policy_free(p);
    ccz_buf_free(&ev);
    return ok;
}

static void get_resource(http_request *r, attestation *a, const char *path)
{
    char id[44];
    json_t *s = NULL, *claims = NULL, *jwe = NULL;
    const json_t *pubkey = NULL;
    ccz_status st = CCZ_OK;
    resource_row rr = {CCZ_BUF_INIT, NULL, false};
    ccz_buf_init(&rr.data, 0, true);
    const char *authz = http_request_header(r, "authorization");
    if (authz && strncasecmp(authz, "Bearer ", 7) == 0) {
        /* an attestation token of this service that carries the TEE's key */
        const char *t = authz + 7;
        jose_claims_check chk = {.now = att_now(), .leeway = 0};
        st = jose_jwt_verify(&claims, a->signing_key, t, strlen(t), JOSE_ALGS_DEFAULT);
        if (st == CCZ_ERR_NOMEM) {
            http_reply_error(r, 500, "cannot verify the token: %s", ccz_error_detail());
            goto out;
        }
        if (st != CCZ_OK || jose_jwt_check_claims(claims, &chk) != CCZ_OK ||
            !json_is_object(pubkey = json_object_get(claims, "tee-pubkey"))) {
            problem(a, r, 401, "TokenVerifierError", "the attestation token does not verify: %s",
                    ccz_error_detail());
            goto out;
        }
    } else if (session_cookie(r, id) && (st = session_get(a, id, &s)) != CCZ_ERR_NOT_FOUND &&
               st != CCZ_OK) {
        http_reply_error(r, 500, "cannot read the session: %s", ccz_error_detail());
        goto out;
    } else if (s && strcmp(json_string_value(json_object_get(s, "state")) ?: "", "attested") == 0) {
        pubkey = json_object_get(s, "tee-pubkey");
    } else {
        problem(a, r, 401, "TokenNotFound",
                "no attested session (kbs-session-id cookie) and no attestation token");
        goto out;
    }
    if (!att_kbs_resource_path_ok(path)) {
        problem(a, r, 404, "InvalidRequestPath", "a resource is REPOSITORY/TYPE/TAG");
        goto out;
    }
    st = store_exec(a->db, NULL, "SELECT data, policy FROM kbs_resources WHERE path = ?",
                    STORE_PARAMS(STORE_TEXT(path)), read_resource, &rr);
    if (st != CCZ_OK) {
        http_reply_error(r, 500, "%s", ccz_error_detail());
        goto out;
    }
    if (!rr.found) {
        problem(a, r, 404, "InvalidRequestPath", "no resource %s", path);
        goto out;
    }
    if (rr.policy) {
        if (!s) {
            problem(a, r, 403, "PolicyDeny",
                    "resource %s has a policy of its own: it needs a session (the cookie)", path);
            goto out;
        }
        if (!resource_policy_ok(a, r, s, rr.policy))
            goto out;
    }
    if ((st = jose_jwe_encrypt_jwk(&jwe, pubkey, ccz_buf_span(&rr.data))) != CCZ_OK) {
        if (st == CCZ_ERR_NOMEM)
            http_reply_error(r, 500, "cannot encrypt the resource: %s", ccz_error_detail());
        else
            problem(a, r, 401, "JweError", "cannot encrypt to the tee-pubkey: %s",
                    ccz_error_detail());
        goto out;
    }
    a->kbs_resources++;
    http_reply_json(r, 200, jwe);
out:
    OPENSSL_cleanse(id, sizeof id);
    json_decref(jwe);
    json_decref(claims);
    json_decref(s);
    ccz_buf_free(&rr.data);
    free(rr.policy);
}

static void resource(http_request *r, void *payload)
{
    attestation *a = payload;
    const char *path = http_request_rest(r), *m = http_request_method(r);
    if (strcmp(m, "GET") == 0) {
        get_resource(r, a, path);
        return;
    }
    if (!kbs_admin_ok(a, r))
        return;
    if (!att_kbs_resource_path_ok(path)) {
        problem(a, r, 404, "InvalidRequestPath", "a resource is REPOSITORY/TYPE/TAG");
        return;
    }
    int64_t changes = 0;
    ccz_status st;
    if (strcmp(m, "DELETE") == 0) {
        st = store_exec(a->db, &changes, "DELETE FROM kbs_resources WHERE path = ?",
                        STORE_PARAMS(STORE_TEXT(path)), NULL, NULL);
        if (st != CCZ_OK)
            http_reply_error(r, 500, "%s", ccz_error_detail());
        else if (!changes)
            problem(a, r, 404, "InvalidRequestPath", "no resource %s", path);
        else
            http_reply(r, 204, NULL, CCZ_SPAN(NULL, 0));
        return;
    }
    /* POST: register (or replace, keeping its policy) */
    ccz_span body = http_request_body(r);
    if (body.len > RESOURCE_MAX) {
        problem(a, r, 413, "ResourceTooLarge",
                "a resource of %zu bytes: at most %u, so that its JWE fits what clients read",
                body.len, RESOURCE_MAX);
        return;
    }
    st =
        store_exec(a->db, &changes, "UPDATE kbs_resources SET data = ?, updated = ? WHERE path = ?",
                   STORE_PARAMS(STORE_BLOB(body.ptr ? body.ptr : (const uint8_t *)"", body.len),
                                STORE_INT(att_now()), STORE_TEXT(path)),
                   NULL, NULL);
    bool existed = st == CCZ_OK && changes == 1;
    if (st == CCZ_OK && !existed)
        st =
            store_exec(a->db, NULL,
                       "INSERT INTO kbs_resources (path, data, policy, updated) VALUES (?, ?, "
                       "NULL, ?)",
                       STORE_PARAMS(STORE_TEXT(path),
                                    STORE_BLOB(body.ptr ? body.ptr : (const uint8_t *)"", body.len),
                                    STORE_INT(att_now())),
                       NULL, NULL);
    if (st != CCZ_OK) {
        http_reply_error(r, 500, "cannot keep the resource: %s", ccz_error_detail());
        return;
    }
    http_reply(r, existed ? 200 : 201, NULL, CCZ_SPAN(NULL, 0));
}

static void resource_policy(http_request *r, void *payload)
{
    attestation *a = payload;
    if (!kbs_admin_ok(a, r))
        return;
    const char *path = http_request_rest(r);
    if (!att_kbs_resource_path_ok(path)) {
        problem(a, r, 404, "InvalidRequestPath", "a resource is REPOSITORY/TYPE/TAG");
        return;
    }
    char *text = NULL;
    json_t *body = NULL;
    if (strcmp(http_request_method(r), "PUT") == 0) {
        if (!(body = kbs_json(a, r)))
            return;
        text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
        ccz_policy *p = NULL;
        ccz_status st = text ? ccz_policy_parse(&p, text, strlen(text)) : CCZ_ERR_NOMEM;
        ccz_policy_free(p);
        if (st != CCZ_OK) {
            problem(a, r, 400, "PolicyEngine", "the policy does not parse: %s", ccz_error_detail());
            goto out;
        }
    }
    int64_t changes = 0;
    ccz_status st =
        store_exec(a->db, &changes, "UPDATE kbs_resources SET policy = ? WHERE path = ?",
                   STORE_PARAMS(STORE_TEXT(text), STORE_TEXT(path)), NULL, NULL);
    if (st != CCZ_OK)
        http_reply_error(r, 500, "%s", ccz_error_detail());
    else if (!changes)
        problem(a, r, 404, "InvalidRequestPath", "no resource %s: register it first", path);
    else
        http_reply(r, text ? 200 : 204, NULL, CCZ_SPAN(NULL, 0));
out:
    free(text);
    json_decref(body);
}

ccz_status kbs_start(attestation *a)
{
    http_server *h = a->sc->http;
    CCZ_ENSURE(a->kbs_session_ttl, CCZ_ERR_INVALID_ARGUMENT,
               "--kbs-session-ttl must be at least a second");
    CCZ_GUARD(svc_quota_new(&a->session_quota, a->peer_quota, a->kbs_session_ttl, ATT_QUOTA_PEERS));
    CCZ_GUARD(http_route(h, "POST", "/kbs/v0/auth", false, auth, a));
    CCZ_GUARD(http_route(h, "POST", "/kbs/v0/attest", false, attest, a));
    CCZ_GUARD(http_route(h, "GET", "/kbs/v0/resource/", true, resource, a));
    CCZ_GUARD(http_route(h, "POST", "/kbs/v0/resource/", true, resource, a));
    CCZ_GUARD(http_route(h, "DELETE", "/kbs/v0/resource/", true, resource, a));
    CCZ_GUARD(http_route(h, "PUT", "/kbs/v0/resource-policy/", true, resource_policy, a));
    CCZ_GUARD(http_route(h, "DELETE", "/kbs/v0/resource-policy/", true, resource_policy, a));
    return CCZ_OK;
}

void kbs_stop(attestation *a)
{
    (void)a; /* sessions live in the store; nothing held here */
}
