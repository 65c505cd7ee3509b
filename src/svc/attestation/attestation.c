/* SPDX-License-Identifier: Apache-2.0 */
/* The attestation service: evidence in, a signed attestation result out.
 *   GET  /v1/nonce                 a single-use nonce that expires (nonce-ttl)
 *   POST /v1/attest                {"evidence", "collateral"?, "nonce"?, "runtime_data"?,
 *                                   "policy"?} -> {"token": EAR JWT}
 *   GET  /.well-known/jwks.json    the token signing key
 *   PUT/GET/DELETE /v1/policies/ID, GET /v1/policies   policies, behind the admin token
 * Evidence is anything ccz verify reads (sim evidence, SGX and TDX quotes, SNP reports) or an
 * RA-TLS certificate. With a nonce or runtime data, the evidence's report data must be
 * SHA-512(nonce ‖ runtime_data) (the nonce's text as /v1/nonce gave it, the runtime data's
 * bytes); an RA-TLS certificate binds its key instead, and a nonce through its DICE claims.
 * State (policies, nonces) is in SQLite in the data directory, with the signing key
 * (signing-key.pem) and the admin token (admin-token), both made at first start. */
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "core/guard.h"
#include "ccz/attestation.h"
#include "jose/jose.h"
#include "store/store.h"
#include "svc/svc.h"
#include "x509/x509.h"
#include "svc/attestation/internal.h"
#include "svc/secret/secret.h"

#define NONCE_BYTES 32
#define POLICY_ID_MAX 64
#define LEEWAY 60

static const ccz_svc_option options[] = {
    {"token-alg", CCZ_SVC_STRING, "ES256", "ALG", "the token signature: ES256 or ES384"},
    {"token-ttl", CCZ_SVC_UINT, "300", "SECONDS", "how long a token is valid"},
    {"nonce-ttl", CCZ_SVC_UINT, "300", "SECONDS", "how long a nonce waits for its evidence"},
    {"issuer", CCZ_SVC_STRING, "ccz-attestation", "NAME", "the tokens' iss"},
    {"verify-at-insecure", CCZ_SVC_UINT, "0", "UNIX",
     "INSECURE: verify evidence as at this instant instead of now (0), so expired collateral "
     "passes: only for replaying recorded evidence in tests and benchmarks"},
    {"kbs-session-ttl", CCZ_SVC_UINT, "300", "SECONDS",
     "how long a KBS session (its cookie) lasts after /kbs/v0/auth"},
    {"peer-quota", CCZ_SVC_UINT, "4096", "N",
     "nonces, and KBS sessions, one client address may start within --nonce-ttl and "
     "--kbs-session-ttl (each is a row the store keeps until then); past it 429"},
    {"secret", CCZ_SVC_LIST, NULL, "NAME=FILE",
     "a secret for secret provisioning on this listener (see the policy's secrets section)"},
};

/* Each step in SQLite's dialect, then PostgreSQL's (BIGINT: INTEGER is 32 bits there). */
static const store_migration migrations[] = {
    {1, "CREATE TABLE policies (id TEXT PRIMARY KEY, doc TEXT NOT NULL, updated INTEGER NOT NULL)",
     "CREATE TABLE policies (id TEXT PRIMARY KEY, doc TEXT NOT NULL, updated BIGINT NOT NULL)"},
    /* KBS resources: repository/type/tag, the bytes, an optional policy of their own */
    {2,
     "CREATE TABLE kbs_resources (path TEXT PRIMARY KEY, data BLOB NOT NULL, policy TEXT, "
     "updated INTEGER NOT NULL)",
     "CREATE TABLE kbs_resources (path TEXT PRIMARY KEY, data BYTEA NOT NULL, policy TEXT, "
     "updated BIGINT NOT NULL)"},
};

/* ---- keys and tokens ---------------------------------------------------------------------------*/

static ccz_status make_signing_key(ccz_buf *out, void *payload)
{
    const char *curve = payload;
    EVP_PKEY *key = EVP_EC_gen(curve);
    CCZ_ENSURE(key, CCZ_ERR_CRYPTO, "cannot make a %s key", curve);
    ccz_status st = x509_key_to_pem(out, key);
    EVP_PKEY_free(key);
    return st;
}

static ccz_status load_keys(attestation *a)
{
    const char *alg = svc_str(a->sc->config, "token-alg");
    const char *curve = strcmp(alg, "ES256") == 0   ? "P-256"
                        : strcmp(alg, "ES384") == 0 ? "P-384"
                                                    : NULL;
    CCZ_ENSURE(curve, CCZ_ERR_INVALID_ARGUMENT, "--token-alg: '%s' is not ES256 or ES384", alg);
    char path[4200];
    ccz_buf pem;
    ccz_buf_init(&pem, 0, true);
    CCZ_GUARD(
        svc_path(path, sizeof path, a->sc,
                 strcmp(alg, "ES256") == 0 ? "signing-key-es256.pem" : "signing-key-es384.pem"));
    ccz_status st = svc_load_or_make(&pem, path, make_signing_key, (void *)curve);
    if (st == CCZ_OK && x509_key_from_pem(&a->signing_key, ccz_buf_span(&pem)) != CCZ_OK)
        st = ccz_fail_ossl(CCZ_ERR_KEY_MALFORMED, "%s: not a PEM private key", path);
    ccz_buf_free(&pem);
    CCZ_GUARD(st);
    CCZ_ENSURE(jose_ec_bits(a->signing_key) == (curve[2] == '2' ? 256 : 384), CCZ_ERR_KEY_MALFORMED,
               "%s is not a %s key", path, curve);
    CCZ_GUARD(jose_jwks_from_keys(&a->jwks, &a->signing_key, 1));
    const json_t *k = json_array_get(json_object_get(a->jwks, "keys"), 0);
    snprintf(a->kid, sizeof a->kid, "%s", json_string_value(json_object_get(k, "kid")));
    CCZ_GUARD(jose_signer_new(&a->signer, a->signing_key, a->kid));

    return svc_admin_token_load(a->admin_hash, a->sc);
}

/* ---- helpers -----------------------------------------------------------------------------------*/

int64_t att_now(void)
{
    return (int64_t)time(NULL);
}

/* A refusal with a stable reason code beside the message. */
void att_refuse(attestation *a, http_request *r, int status, const char *code, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    a->refused++;
    json_t *j = json_pack("{s:{s:i,s:s,s:s,s:s}}", "error", "code", status, "status",
                          http_reason(status), "reason", code, "message", msg);
    if (status == 401 && strcmp(code, "unauthorized") == 0 &&
        http_add_header(r, "WWW-Authenticate", "Bearer realm=\"ccz admin\"") != CCZ_OK)
        ccz_log(CCZ_LOG_DEBUG, "attestation: a 401 without WWW-Authenticate");
    if (j)
        http_reply_json(r, status, j);
    else
        http_reply_error(r, 500, "out of memory");
    json_decref(j);
}

const char *att_admin_refusal(const attestation *a, http_request *r)
{
    const char *h = http_request_header(r, "authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return "this endpoint needs the admin token as 'Authorization: Bearer TOKEN'";
    if (!svc_admin_token_ok(a->admin_hash, h))
        return "the admin token is not right";
    return NULL;
}

bool att_admin_ok(attestation *a, http_request *r)
{
    const char *why = att_admin_refusal(a, r);
    if (why)
        att_refuse(a, r, 401, "unauthorized", "%s", why);
    return !why;
}

const char *att_quota_refusal(char *msg, size_t cap, attestation *a, http_request *r, svc_quota *q,
                              const char *what, const char *ttl)
{
    unsigned wait = svc_quota_take(q, http_request_peer_group(r), att_now());
    if (!wait)
        return NULL;
    char after[16];
    snprintf(after, sizeof after, "%u", wait);
    if (http_add_header(r, "Retry-After", after) != CCZ_OK)
        ccz_log(CCZ_LOG_DEBUG, "attestation: a 429 without Retry-After");
    snprintf(msg, cap,
             "this address has started %u %s within %s (--peer-quota): use them, or try again "
             "in %u s",
             a->peer_quota, what, ttl, wait);
    return msg;
}

bool att_quota_ok(attestation *a, http_request *r, svc_quota *q, const char *what, const char *ttl)
{
    char msg[200];
    const char *why = att_quota_refusal(msg, sizeof msg, a, r, q, what, ttl);
    if (why)
        att_refuse(a, r, 429, "too_many_requests", "%s", why);
    return !why;
}

ccz_status att_decode_b64(ccz_buf *out, const char *text)
{
    size_t n = strlen(text);
    ccz_status st = ccz_base64_decode(out, text, n);
    if (st == CCZ_OK || st == CCZ_ERR_NOMEM)
        return st;
    ccz_buf_reset(out);
    return jose_b64url_decode(out, text, n); /* base64url is accepted too */
}

bool att_policy_id_ok(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > POLICY_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(id[i] >= 'a' && id[i] <= 'z') && !(id[i] >= 'A' && id[i] <= 'Z') &&
            !(id[i] >= '0' && id[i] <= '9') && !strchr("._-", id[i]))
            return false;
    return true;
}

bool att_policy_id_reserved(const char *id)
{
    return strcmp(id, "default") == 0 || strcmp(id, "file") == 0 || strcmp(id, "kbs") == 0;
}

/* ---- GET /v1/nonce -----------------------------------------------------------------------------*/

static void get_nonce(http_request *r, void *payload)
{
    attestation *a = payload;
    if (!att_quota_ok(a, r, a->nonce_quota, "nonces", "--nonce-ttl"))
        return;
    uint8_t raw[NONCE_BYTES];
    ccz_buf text = CCZ_BUF_INIT;
    int64_t exp = att_now() + a->nonce_ttl;
    if (RAND_bytes(raw, sizeof raw) != 1 ||
        jose_b64url_encode(&text, CCZ_SPAN(raw, sizeof raw)) != CCZ_OK ||
        store_kv_put(a->db, "nonce", (const char *)text.ptr, "", 0, exp) != CCZ_OK) {
        http_reply_error(r, 500, "cannot make a nonce: %s", ccz_error_detail());
        ccz_buf_free(&text);
        return;
    }
    json_t *j =
        json_pack("{s:s,s:I}", "nonce", (const char *)text.ptr, "expires_at", (json_int_t)exp);
    http_reply_json(r, 200, j);
    json_decref(j);
    ccz_buf_free(&text);
}

/* ---- POST /v1/attest ---------------------------------------------------------------------------*/

const char att_out_of_memory[] = "out of memory";

const char *att_attest_read(att_attest_req *q, const json_t *body, const ccz_buf *lifted, char *msg,
                            size_t cap)
{
    const char *ev = json_string_value(json_object_get(body, "evidence"));
    if (ev && !*ev && lifted->len)
        ev = (const char *)lifted->ptr; /* taken out before parsing (http_request_json_lifted) */
    if (!ev)
        return "\"evidence\" (base64) is required";
    ccz_status st = att_decode_b64(&q->evidence, ev);
    if (st == CCZ_ERR_NOMEM)
        return att_out_of_memory;
    if (st != CCZ_OK || q->evidence.len == 0)
        return "\"evidence\" is not base64";
    json_t *nonce = json_object_get(body, "nonce");
    if (nonce && !json_is_string(nonce))
        return "\"nonce\" must be a string from /v1/nonce";
    q->nonce = json_string_value(nonce);
    json_t *rd = json_object_get(body, "runtime_data");
    if (rd) {
        st = json_is_string(rd) ? att_decode_b64(&q->runtime_data, json_string_value(rd))
                                : CCZ_ERR_INVALID_ARGUMENT;
        if (st == CCZ_ERR_NOMEM)
            return att_out_of_memory;
        if (st != CCZ_OK)
            return "\"runtime_data\" must be base64";
        q->has_runtime_data = true;
    }
    json_t *coll = json_object_get(body, "collateral");
    json_t *vek = json_object_get(coll, "vcek");
    if (!vek)
        vek = json_object_get(coll, "vlek");
    if (vek) { /* SEV-SNP: {"vcek" or "vlek": base64 DER or PEM, "chain"?: PEM} */
        json_t *chain_json = json_object_get(coll, "chain");
        const char *v = json_string_value(vek), *chain = json_string_value(chain_json);
        ccz_buf der = CCZ_BUF_INIT;
        bool pem = v && strstr(v, "-----BEGIN");
        st = !v    ? CCZ_ERR_INVALID_ARGUMENT
             : pem ? ccz_buf_append_str(&q->vek, v)
                   : att_decode_b64(&der, v);
        if (st == CCZ_OK && !pem)
            st = ccz_buf_append(&q->vek, der.ptr, der.len);
        if (st == CCZ_OK && chain_json && !chain)
            st = CCZ_ERR_INVALID_ARGUMENT;
        if (st == CCZ_OK && chain)
            st = ccz_buf_append_str(&q->chain, chain);
        ccz_buf_free(&der);
        if (st == CCZ_ERR_NOMEM)
            return att_out_of_memory;
        if (st != CCZ_OK)
            return "\"collateral\" of SEV-SNP: {\"vcek\": base64 DER or PEM, \"chain\"?: PEM}";
        q->snp = true;
    } else if (coll) {
        char *t = json_is_string(coll) ? NULL : json_dumps(coll, JSON_COMPACT);
        const char *s = json_is_string(coll) ? json_string_value(coll) : t;
        st = s ? ccz_buf_append_str(&q->collateral_text, s) : CCZ_ERR_INVALID_ARGUMENT;
        free(t);
        if (st == CCZ_ERR_NOMEM)
            return att_out_of_memory;
        if (st != CCZ_OK)
            return "\"collateral\" must be an object or a string";
    }
    json_t *pol = json_object_get(body, "policy");
    if (pol && (!json_is_string(pol) || !att_policy_id_ok(json_string_value(pol))))
        return "\"policy\" must be a policy id";
    if (pol && att_policy_id_reserved(json_string_value(pol))) { /* stored by an older ccz */
        snprintf(msg, cap,
                 "the policy id '%s' is reserved: leave \"policy\" out for the service's own",
                 json_string_value(pol));
        return msg;
    }
    q->policy_id = json_string_value(pol);
    return NULL;
}

static bool read_attest(attestation *a, http_request *r, json_t *body, const ccz_buf *lifted,
                        att_attest_req *q)
{
    char msg[200];
    const char *why = att_attest_read(q, body, lifted, msg, sizeof msg);
    if (why == att_out_of_memory)
        att_refuse(a, r, 500, "internal", "%s", why);
    else if (why)
        att_refuse(a, r, 400, "bad_request", "%s", why);
    return !why;
}

void att_attest_req_free(att_attest_req *q)
{
    ccz_buf_free(&q->evidence);
    ccz_buf_free(&q->runtime_data);
    ccz_buf_free(&q->collateral_text);
    ccz_buf_free(&q->vek);
    ccz_buf_free(&q->chain);
}

typedef struct {
    const char *id;
    ccz_policy **out;
} policy_load;

static ccz_status policy_row(const store_row *row, void *payload)
{
    policy_load *pl = payload;
    const char *doc = store_row_text(row, 0);
    return ccz_policy_parse(pl->out, doc, strlen(doc));
}

/* The EAR trustworthiness claims (AR4SI tiers: 2 affirming, 32 warning) from accepted claims. */
static json_t *submod(const ccz_claims *c, const char *policy_id, const ccz_span *runtime_data)
{
    bool tcb_ok = !c->tcb_status[0] || strcmp(c->tcb_status, "UpToDate") == 0;
    int hardware = c->simulated || !tcb_ok ? 32 : 2;
    int configuration = c->debug ? 32 : 2;
    const char *status = hardware == 2 && configuration == 2 ? "affirming" : "warning";
    json_t *ev = ccz_claims_to_json(c);
    if (!ev) /* out of memory: a token without the evidence would be another token */
        return NULL;
    json_t *s =
        json_pack("{s:s,s:{s:i,s:i,s:i,s:i},s:s,s:o,s:b}", "ear.status", status,
                  "ear.trustworthiness-vector", "instance-identity", 2, "configuration",
                  configuration, "executables", 2, "hardware", hardware, "ear.appraisal-policy-id",
                  policy_id, "ear.veraison.annotated-evidence", ev, "ccz.simulated", c->simulated);
    if (s && runtime_data) {
        ccz_buf b = CCZ_BUF_INIT;
        if (jose_b64url_encode(&b, *runtime_data) != CCZ_OK ||
            json_object_set_new(s, "ccz.runtime-data", json_string((const char *)b.ptr)) != 0) {
            json_decref(s);
            s = NULL;
        }
        ccz_buf_free(&b);
    }
    return s;
}

ccz_status att_issue_token(ccz_buf *out, int64_t *exp, attestation *a, const ccz_claims *c,
                           const char *policy_id, const char *nonce, const ccz_span *runtime_data,
                           json_t *extra)
{
    int64_t now = att_now();
    if (exp)
        *exp = now + a->token_ttl;
    uint8_t jti[16];
    char jti_hex[33];
    CCZ_ENSURE(RAND_bytes(jti, sizeof jti) == 1, CCZ_ERR_CRYPTO, "no randomness");
    ccz_hex_to_str(jti_hex, jti, sizeof jti);
    json_t *sm = submod(c, policy_id, runtime_data);
    json_t *claims = sm ? json_pack("{s:s,s:I,s:I,s:I,s:s,s:s,s:{s:s,s:s},s:{s:o}}", "eat_profile",
                                    CCZ_EAR_PROFILE, "iat", (json_int_t)now, "nbf", (json_int_t)now,
                                    "exp", (json_int_t)(now + a->token_ttl), "iss", a->issuer,
                                    "jti", jti_hex, "ear.verifier-id", "developer", "ccz", "build",
                                    "ccz " CCZ_VERSION_STRING, "submods", ccz_tee_name(c->tee), sm)
                        : NULL;
    CCZ_ENSURE(claims, CCZ_ERR_NOMEM, "out of memory");
    ccz_status st = CCZ_OK;
    if (nonce && json_object_set_new(claims, "eat_nonce", json_string(nonce)) != 0)
        st = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    if (st == CCZ_OK && extra && json_object_update(claims, extra) != 0)
        st = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    if (st == CCZ_OK)
        st = jose_signer_sign(a->signer, out, claims);
    json_decref(claims);
    return st;
}

static void post_attest(http_request *r, void *payload)
{
    attestation *a = payload;
    svc_common *sc = a->sc;
    ccz_buf lifted = CCZ_BUF_INIT;
    json_t *body = http_request_json_lifted(r, "evidence", &lifted);
    if (!body) {
        ccz_buf_free(&lifted);
        return;
    }
    att_attest_req q = ATT_ATTEST_REQ_INIT;
    ccz_policy *stored = NULL;
    ccz_collateral *coll = NULL;
    X509 *cert = NULL;
    ccz_buf token = CCZ_BUF_INIT;
    if (!read_attest(a, r, body, &lifted, &q))
        goto out;

    /* the policy: a stored one by id, else the service's */
    const char *policy_name = q.policy_id                     ? q.policy_id
                              : svc_str(sc->config, "policy") ? "file"
                                                              : "default";
    if (q.policy_id) {
        policy_load pl = {q.policy_id, &stored};
        ccz_status st = store_exec(a->db, NULL, "SELECT doc FROM policies WHERE id = ?",
                                   STORE_PARAMS(STORE_TEXT(q.policy_id)), policy_row, &pl);
        if (st != CCZ_OK) { /* the store failed, or the policy kept no longer parses */
            att_refuse(a, r, 500, "internal", "the stored policy '%s' cannot be used: %s",
                       q.policy_id, ccz_error_detail());
            goto out;
        }
        if (!stored) {
            att_refuse(a, r, 404, "policy_not_found", "no policy '%s'", q.policy_id);
            goto out;
        }
    }
    /* freshness: the nonce is taken (single use) before anything is verified */
    if (q.nonce) {
        ccz_status st = store_kv_take(a->db, NULL, "nonce", q.nonce);
        if (st == CCZ_ERR_NOT_FOUND || st == CCZ_ERR_INVALID_ARGUMENT) {
            att_refuse(
                a, r, 401, "nonce_invalid",
                "the nonce is unknown, expired or used already: get a new one from /v1/nonce");
            goto out;
        }
        if (st != CCZ_OK) {
            att_refuse(a, r, 500, "internal", "the nonce store failed: %s", ccz_error_detail());
            goto out;
        }
    }
    if (q.snp) {
        ccz_status st = ccz_snp_collateral_new(&coll, ccz_buf_span(&q.vek), ccz_buf_span(&q.chain));
        if (st != CCZ_OK) {
            att_refuse(a, r, 400, "bad_request", "\"collateral\": %s", ccz_error_detail());
            goto out;
        }
    } else if (q.collateral_text.len) {
        ccz_status st =
            ccz_collateral_parse(&coll, (const char *)q.collateral_text.ptr, q.collateral_text.len);
        if (st != CCZ_OK) {
            att_refuse(a, r, 400, "bad_request", "\"collateral\": %s", ccz_error_detail());
            goto out;
        }
    }
    ccz_verify_opts vo = CCZ_VERIFY_OPTS_INIT;
    vo.at_unix = a->verify_at ? a->verify_at : att_now();
    vo.trust = sc->trust;
    vo.collateral = coll ? coll : sc->collateral;
    uint8_t expected[64];
    ccz_result res;
    ccz_status st;
    if (ccz_evidence_detect(ccz_buf_span(&q.evidence)) == CCZ_TEE_NONE &&
        x509_read_cert(&cert, ccz_buf_span(&q.evidence)) == CCZ_OK) {
        /* an RA-TLS certificate: the evidence binds its key; a nonce rides in its claims */
        if (q.has_runtime_data) {
            att_refuse(a, r, 400, "bad_request",
                       "an RA-TLS certificate binds its own key, not \"runtime_data\"");
            goto out;
        }
        ccz_ratls_info info;
        if (q.nonce && (ccz_ratls_inspect(&info, cert) != CCZ_OK || !info.has_nonce ||
                        info.nonce.len != strlen(q.nonce) ||
                        memcmp(info.nonce.ptr, q.nonce, info.nonce.len) != 0)) {
            att_refuse(a, r, 401, "report_data_mismatch",
                       "the certificate's claims do not carry the nonce");
            ccz_ratls_info_free(&info);
            goto out;
        }
        if (q.nonce)
            ccz_ratls_info_free(&info);
        ccz_ratls_verdict v;
        st = ccz_ratls_verify_cert(&v, cert, NULL, &vo); /* appraised below, like evidence */
        res = v.result;
        if (st != CCZ_OK && st != CCZ_ERR_POLICY_REJECTED && !res.status) {
            res.status = st;
            res.step = v.step;
            snprintf(res.message, sizeof res.message, "%s", v.message);
        }
        st = res.status;
    } else {
        if (q.nonce || q.has_runtime_data) {
            EVP_MD_CTX *md = EVP_MD_CTX_new();
            unsigned n = 0;
            bool ok = md && EVP_DigestInit_ex(md, EVP_sha512(), NULL) &&
                      (!q.nonce || EVP_DigestUpdate(md, q.nonce, strlen(q.nonce))) &&
                      EVP_DigestUpdate(md, q.runtime_data.ptr ? q.runtime_data.ptr : expected,
                                       q.runtime_data.len) &&
                      EVP_DigestFinal_ex(md, expected, &n) && n == 64;
            EVP_MD_CTX_free(md);
            if (!ok) {
                att_refuse(a, r, 500, "internal", "SHA-512 failed");
                goto out;
            }
            vo.expected_report_data = expected;
        }
        st = ccz_verify(&res, ccz_buf_span(&q.evidence), &vo);
    }
    if (st != CCZ_OK) {
        if (ccz_status_class(st) == CCZ_CLASS_INTERNAL) { /* memory or the crypto library */
            att_refuse(a, r, 500, "internal", "the evidence could not be verified: %s",
                       res.message);
            goto out;
        }
        int code = ccz_status_class(st) == CCZ_CLASS_INPUT ? 400 : 401;
        att_refuse(a, r, code, ccz_status_name(st), "the evidence did not verify at %s: %s",
                   res.step ? res.step : "?", res.message);
        goto out;
    }
    ccz_appraisal ap;
    st = ccz_appraise(&ap, stored ? stored : sc->policy, &res.claims);
    if (st != CCZ_OK || !ap.accepted) {
        json_t *reasons = json_array();
        for (size_t i = 0; reasons && i < ap.n_reasons; i++)
            json_array_append_new(reasons, json_pack("{s:s,s:s}", "code", ap.reasons[i].code,
                                                     "message", ap.reasons[i].message));
        a->refused++;
        json_t *j = json_pack("{s:{s:i,s:s,s:s,s:s,s:o}}", "error", "code", 403, "status",
                              http_reason(403), "reason", "policy_rejected", "message",
                              ap.n_reasons ? ap.reasons[0].message : "the policy rejected it",
                              "reasons", reasons ? reasons : json_array());
        http_reply_json(r, 403, j);
        json_decref(j);
        goto out;
    }
    ccz_span rd = ccz_buf_span(&q.runtime_data);
    st = att_issue_token(&token, NULL, a, &res.claims, policy_name, q.nonce,
                         q.has_runtime_data ? &rd : NULL, NULL);
    if (st != CCZ_OK) {
        http_reply_error(r, 500, "cannot sign the token: %s", ccz_error_detail());
        goto out;
    }
    a->tokens++;
    /* {"token": JWT}: a JWT is base64url and dots, nothing to escape */
    ccz_buf reply = CCZ_BUF_INIT;
    if (ccz_buf_append_str(&reply, "{\"token\":\"") == CCZ_OK &&
        ccz_buf_append(&reply, token.ptr, token.len) == CCZ_OK &&
        ccz_buf_append_str(&reply, "\"}\n") == CCZ_OK)
        http_reply(r, 200, "application/json", ccz_buf_span(&reply));
    else
        http_reply_error(r, 500, "out of memory");
    ccz_buf_free(&reply);
out:
    ccz_buf_free(&lifted);
    ccz_buf_free(&token);
    X509_free(cert);
    ccz_collateral_free(coll);
    ccz_policy_free(stored);
    att_attest_req_free(&q);
    json_decref(body);
}

/* ---- JWKS --------------------------------------------------------------------------------------*/

static void get_jwks(http_request *r, void *payload)
{
    attestation *a = payload;
    http_reply_json(r, 200, a->jwks);
}

/* ---- policies (admin) --------------------------------------------------------------------------*/

static ccz_status policy_json_row(const store_row *row, void *payload)
{
    json_t **out = payload;
    const char *doc = store_row_text(row, 0);
    *out = json_loads(doc, 0, NULL);
    return *out ? CCZ_OK : ccz_fail(CCZ_ERR_NOMEM, "out of memory");
}

static ccz_status policy_id_row(const store_row *row, void *payload)
{
    json_t *list = payload;
    return json_array_append_new(list, json_string(store_row_text(row, 0))) == 0
               ? CCZ_OK
               : ccz_fail(CCZ_ERR_NOMEM, "out of memory");
}

static void list_policies(http_request *r, void *payload)
{
    attestation *a = payload;
    if (!att_admin_ok(a, r))
        return;
    json_t *ids = json_array();
    if (!ids || store_exec(a->db, NULL, "SELECT id FROM policies ORDER BY id", NULL, 0,
                           policy_id_row, ids) != CCZ_OK) {
        http_reply_error(r, 500, "cannot list the policies: %s", ccz_error_detail());
    } else {
        json_t *j = json_pack("{s:O}", "policies", ids);
        http_reply_json(r, 200, j);
        json_decref(j);
    }
    json_decref(ids);
}

static void policy(http_request *r, void *payload)
{
    attestation *a = payload;
    if (!att_admin_ok(a, r))
        return;
    const char *id = http_request_rest(r), *m = http_request_method(r);
    if (!att_policy_id_ok(id)) {
        att_refuse(a, r, 400, "bad_request", "a policy id is 1 to %d of A-Z a-z 0-9 . _ -",
                   POLICY_ID_MAX);
        return;
    }
    if (strcmp(m, "GET") == 0) {
        json_t *doc = NULL;
        ccz_status st = store_exec(a->db, NULL, "SELECT doc FROM policies WHERE id = ?",
                                   STORE_PARAMS(STORE_TEXT(id)), policy_json_row, &doc);
        if (st == CCZ_OK && doc)
            http_reply_json(r, 200, doc);
        else if (st == CCZ_OK)
            att_refuse(a, r, 404, "policy_not_found", "no policy '%s'", id);
        else
            http_reply_error(r, 500, "%s", ccz_error_detail());
        json_decref(doc);
        return;
    }
    if (strcmp(m, "DELETE") == 0) {
        int64_t changes = 0;
        ccz_status st = store_exec(a->db, &changes, "DELETE FROM policies WHERE id = ?",
                                   STORE_PARAMS(STORE_TEXT(id)), NULL, NULL);
        if (st != CCZ_OK)
            http_reply_error(r, 500, "%s", ccz_error_detail());
        else if (!changes)
            att_refuse(a, r, 404, "policy_not_found", "no policy '%s'", id);
        else
            http_reply(r, 204, NULL, CCZ_SPAN(NULL, 0));
        return;
    }
    /* PUT: the body is a policy document; it must parse before it is kept */
    if (att_policy_id_reserved(id)) {
        att_refuse(a, r, 400, "bad_request",
                   "the policy id '%s' is reserved: tokens name the service's own policies so", id);
        return;
    }
    json_t *body = http_request_json(r);
    if (!body)
        return;
    char *text = NULL;
    ccz_status st = att_policy_text(&text, body);
    if (st != CCZ_OK) {
        att_refuse(a, r, 400, "policy_invalid", "the policy does not parse: %s",
                   ccz_error_detail());
    } else {
        int64_t changes = 0;
        bool existed =
            store_exec(a->db, &changes,
                       "UPDATE policies SET doc = ?, updated = ? "
                       "WHERE id = ?",
                       STORE_PARAMS(STORE_TEXT(text), STORE_INT(att_now()), STORE_TEXT(id)), NULL,
                       NULL) == CCZ_OK &&
            changes == 1;
        st = existed
                 ? CCZ_OK
                 : store_exec(a->db, NULL,
                              "INSERT INTO policies (id, doc, updated) "
                              "VALUES (?, ?, ?)",
                              STORE_PARAMS(STORE_TEXT(id), STORE_TEXT(text), STORE_INT(att_now())),
                              NULL, NULL);
        if (st != CCZ_OK) {
            http_reply_error(r, 500, "cannot keep the policy: %s", ccz_error_detail());
        } else {
            json_t *j = json_pack("{s:s}", "id", id);
            http_reply_json(r, existed ? 200 : 201, j);
            json_decref(j);
        }
    }
    free(text);
    json_decref(body);
}

ccz_status att_policy_text(char **text, const json_t *body)
{
    *text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
    ccz_policy *p = NULL;
    ccz_status st = *text ? ccz_policy_parse(&p, *text, strlen(*text)) : CCZ_ERR_NOMEM;
    ccz_policy_free(p);
    return st;
}

/* ---- the service -------------------------------------------------------------------------------*/

static void metrics(ccz_buf *out, void *payload)
{
    attestation *a = payload;
    if (ccz_buf_printf(out,
                       "# HELP ccz_attestation_tokens_total Attestation results issued.\n"
                       "# TYPE ccz_attestation_tokens_total counter\n"
                       "ccz_attestation_tokens_total %llu\n"
                       "# HELP ccz_attestation_refusals_total Requests refused with a reason.\n"
                       "# TYPE ccz_attestation_refusals_total counter\n"
                       "ccz_attestation_refusals_total %llu\n"
                       "# HELP ccz_kbs_attestations_total KBS sessions attested.\n"
                       "# TYPE ccz_kbs_attestations_total counter\n"
                       "ccz_kbs_attestations_total %llu\n"
                       "# HELP ccz_kbs_resources_total KBS resources given out.\n"
                       "# TYPE ccz_kbs_resources_total counter\n"
                       "ccz_kbs_resources_total %llu\n",
                       (unsigned long long)a->tokens, (unsigned long long)a->refused,
                       (unsigned long long)a->kbs_attested,
                       (unsigned long long)a->kbs_resources) != CCZ_OK)
        ccz_log(CCZ_LOG_DEBUG, "attestation: metrics cut short (out of memory)");
}

static void purge(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    attestation *a = arg;
    if (store_kv_purge_expired(a->db, att_now()) != CCZ_OK)
        ccz_log(CCZ_LOG_WARN, "attestation: cannot purge expired nonces: %s", ccz_error_detail());
}

static void stop(void *state)
{
    attestation *a = state;
    kbs_stop(a);
    svc_quota_free(a->nonce_quota);
    svc_quota_free(a->session_quota);
    secret_service_free(a->secret);
    if (a->purge)
        event_free(a->purge);
    store_close(a->db);
    jose_signer_free(a->signer);
    EVP_PKEY_free(a->signing_key);
    json_decref(a->jwks);
    free(a);
}

/* --secret NAME=FILE: Gramine's secret provisioning on this listener, by the policy's secrets
 * section (docs/services.md). */
static ccz_status start_secrets(attestation *a, const ccz_svc_config *c)
{
    size_t n = svc_list_len(c, "secret");
    if (n == 0)
        return CCZ_OK;
    ccz_secret_entry *e = calloc(n, sizeof *e);
    char(*names)[SECRET_NAME_MAX + 1] = calloc(n, sizeof *names);
    char *doc = json_dumps(a->sc->policy_doc, JSON_COMPACT);
    ccz_status st = e && names && doc ? CCZ_OK : ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    for (size_t i = 0; st == CCZ_OK && i < n; i++) {
        const char *arg = svc_list_at(c, "secret", i), *eq = strchr(arg, '=');
        if (!eq || eq == arg || !eq[1] || (size_t)(eq - arg) > SECRET_NAME_MAX) {
            st = ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "--secret takes NAME=FILE ('%s')", arg);
            break;
        }
        snprintf(names[i], sizeof names[i], "%.*s", (int)(eq - arg), arg);
        e[i] = (ccz_secret_entry){names[i], eq + 1, {NULL, 0}};
    }
    if (st == CCZ_OK)
        st = secret_service_new(&a->secret, CCZ_SPAN(doc, strlen(doc)), e, n);
    if (st == CCZ_OK)
        st = secret_service_attach(a->secret, a->sc->http);
    free(doc);
    free(names);
    free(e);
    return st;
}

static ccz_status start(void **state, svc_common *sc, const ccz_svc_config *c)
{
    attestation *a = calloc(1, sizeof *a);
    CCZ_ENSURE(a, CCZ_ERR_NOMEM, "out of memory");
    *state = a;
    a->sc = sc;
    a->token_ttl = svc_uint(c, "token-ttl");
    a->nonce_ttl = svc_uint(c, "nonce-ttl");
    a->issuer = svc_str(c, "issuer");
    a->kbs_session_ttl = svc_uint(c, "kbs-session-ttl");
    a->peer_quota = svc_uint(c, "peer-quota");
    a->verify_at = svc_uint(c, "verify-at-insecure");
    if (a->verify_at)
        ccz_log(CCZ_LOG_WARN,
                "attestation: --verify-at-insecure: evidence is verified as at %lld, not now "
                "(for recorded evidence only)",
                (long long)a->verify_at);
    CCZ_ENSURE(a->token_ttl && a->nonce_ttl, CCZ_ERR_INVALID_ARGUMENT,
               "--token-ttl and --nonce-ttl must be at least a second");
    CCZ_ENSURE(a->peer_quota, CCZ_ERR_INVALID_ARGUMENT, "--peer-quota must be at least 1");
    CCZ_GUARD(svc_quota_new(&a->nonce_quota, a->peer_quota, a->nonce_ttl, ATT_QUOTA_PEERS));
    char path[4200];
    CCZ_GUARD(svc_path(path, sizeof path, sc, "attestation.db"));
    CCZ_GUARD(store_open(&a->db, path, migrations, CCZ_ARRAY_LEN(migrations)));
    CCZ_GUARD(load_keys(a));
    http_server *h = sc->http;
    CCZ_GUARD(http_route(h, "GET", "/v1/nonce", false, get_nonce, a));
    CCZ_GUARD(http_route(h, "POST", "/v1/attest", false, post_attest, a));
    CCZ_GUARD(http_route(h, "GET", "/.well-known/jwks.json", false, get_jwks, a));
    CCZ_GUARD(http_route(h, "GET", "/v1/policies", false, list_policies, a));
    CCZ_GUARD(http_route(h, "GET", "/v1/policies/", true, policy, a));
    CCZ_GUARD(http_route(h, "PUT", "/v1/policies/", true, policy, a));
    CCZ_GUARD(http_route(h, "DELETE", "/v1/policies/", true, policy, a));
    CCZ_GUARD(kbs_start(a));
    CCZ_GUARD(start_secrets(a, c));
    http_server_set_metrics(h, metrics, a);
    a->purge = event_new(http_server_base(h), -1, EV_PERSIST, purge, a);
    CCZ_ENSURE(a->purge, CCZ_ERR_NOMEM, "out of memory");
    static const struct timeval minute = {60, 0};
    event_add(a->purge, &minute);
    return CCZ_OK;
}

const svc_def svc_attestation = {"attestation", options, CCZ_ARRAY_LEN(options), start, stop};

/* ---- offline verification ----------------------------------------------------------------------*/

ccz_status ccz_attestation_token_verify(ccz_json **claims, const char *token, const char *jwks,
                                        size_t jwks_len, int64_t at_unix)
{
    *claims = NULL;
    json_t *set = NULL, *c = NULL;
    CCZ_GUARD(jose_json_parse(&set, jwks, jwks_len));
    ccz_status st = jose_jwt_verify_jwks(&c, set, token, strlen(token), JOSE_ALGS_DEFAULT);
    json_decref(set);
    CCZ_GUARD(st);
    jose_claims_check chk = {.now = at_unix, .leeway = LEEWAY};
    st = jose_jwt_check_claims(c, &chk);
    const char *profile = json_string_value(json_object_get(c, "eat_profile"));
    json_t *subs = json_object_get(c, "submods");
    if (st == CCZ_OK && (!profile || strcmp(profile, CCZ_EAR_PROFILE) != 0 ||
                         !json_is_object(subs) || json_object_size(subs) == 0))
        st = ccz_fail(CCZ_ERR_MALFORMED, "not an EAR attestation result (eat_profile %s)",
                      profile ? profile : "missing");
    const char *name;
    json_t *sm;
    json_object_foreach (subs, name, sm) {
        const char *s = json_string_value(json_object_get(sm, "ear.status"));
        if (st == CCZ_OK && (!s || strcmp(s, "contraindicated") == 0))
            st = ccz_fail(s ? CCZ_ERR_POLICY_REJECTED : CCZ_ERR_MALFORMED,
                          "submodule %s: ear.status %s", name, s ? s : "missing");
    }
    if (st != CCZ_OK) {
        json_decref(c);
        return st;
    }
    *claims = c;
    return CCZ_OK;
}
