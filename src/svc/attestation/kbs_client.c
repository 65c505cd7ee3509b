/* SPDX-License-Identifier: Apache-2.0 */
/* The KBS client (Trustee's protocol 0.4.0) on libcurl: a cookie-carrying session of three
 * requests. Everything the KBS answers is untrusted: bodies are bounded, parsed as JSON with
 * duplicates refused, and the resource is only what the JWE decrypts to with the key made here. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "core/guard.h"
#include "core/listener.h"
#include "ccz/kbs.h"
#include "jose/jose.h"
#include "svc/attestation/internal.h"

#define MAX_ANSWER (1u << 20)

typedef struct {
    CURL *curl;
    const char *url;
    long timeout_ms;
    int64_t deadline; /* of the whole exchange (monotonic ms) */
    struct curl_slist *json;
} session;

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    ccz_buf *b = arg;
    return ccz_buf_append(b, p, size * n) == CCZ_OK ? size * n : 0;
}

/* One request; the answer's status and body (bounded). A KBS problem's detail becomes the
 * error's detail. */
static ccz_status request(session *s, long *status, ccz_buf *body, const char *method,
                          const char *path, const char *json)
{
    char url[1024];
    int n = snprintf(url, sizeof url, "%s%s", s->url, path);
    CCZ_ENSURE(n > 0 && (size_t)n < sizeof url, CCZ_ERR_INVALID_ARGUMENT, "the URL is too long");
    /* each request gets what is left: a KBS answering each just within the timeout does not
     * stretch the exchange to three of them */
    int64_t left = s->deadline - listener_mono_ms();
    CCZ_ENSURE(left > 0, CCZ_ERR_NETWORK, "KBS %s: no time left of the %ld ms", url, s->timeout_ms);
    curl_easy_setopt(s->curl, CURLOPT_TIMEOUT_MS, (long)left);
    ccz_buf_reset(body);
    body->max = MAX_ANSWER;
    curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(s->curl, CURLOPT_URL, url);
    curl_easy_setopt(s->curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, json ? s->json : NULL);
    if (json)
        curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, json);
    else
        curl_easy_setopt(s->curl, CURLOPT_HTTPGET, 1L);
    CURLcode rc = curl_easy_perform(s->curl);
    /* collect refuses what would take the body past its bound (or finds no memory for) */
    CCZ_ENSURE(rc != CURLE_WRITE_ERROR, CCZ_ERR_TOO_LARGE, "KBS %s: an answer over %u bytes", url,
               MAX_ANSWER);
    CCZ_ENSURE(rc != CURLE_OPERATION_TIMEDOUT, CCZ_ERR_NETWORK,
               "KBS %s: no answer in time: the exchange timed out after %ld ms", url,
               s->timeout_ms);
    CCZ_ENSURE(rc == CURLE_OK, CCZ_ERR_NETWORK, "KBS %s: %s", url, curl_easy_strerror(rc));
    curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, status);
    if (*status == 200)
        return CCZ_OK;
    json_t *p = NULL;
    const char *detail = NULL;
    if (jose_json_parse(&p, (const char *)body->ptr, body->len) == CCZ_OK)
        detail = json_string_value(json_object_get(p, "detail"));
    ccz_status st = ccz_fail(*status == 404                     ? CCZ_ERR_NOT_FOUND
                             : *status == 401 || *status == 403 ? CCZ_ERR_POLICY_REJECTED
                                                                : CCZ_ERR_PROTOCOL,
                             "KBS %s %s answered %ld: %s", method, path, *status,
                             detail ? detail : "(no detail)");
    json_decref(p);
    return st;
}

static ccz_status answer_json(json_t **out, const ccz_buf *body, const char *what)
{
    ccz_status st = jose_json_parse(out, (const char *)body->ptr, body->len);
    if (st != CCZ_OK)
        return ccz_fail_context(CCZ_ERR_PROTOCOL, "KBS %s answer", what);
    return CCZ_OK;
}

static ccz_status attest(session *s, ccz_buf *token, EVP_PKEY *key, const ccz_attester *a)
{
    const char *tee = ccz_tee_name(ccz_attester_tee(a));
    long status;
    ccz_buf body = CCZ_BUF_INIT, c = CCZ_BUF_INIT, ev = CCZ_BUF_INIT, b64 = CCZ_BUF_INIT;
    json_t *req = NULL, *ans = NULL, *jwk = NULL, *rd = NULL;
    char *text = NULL;
    ccz_status st;
    req = json_pack("{s:s,s:s,s:{}}", "version", "0.4.0", "tee", tee, "extra-params");
    text = req ? json_dumps(req, JSON_COMPACT) : NULL;
    CCZ_GUARD_GOTO(text ? CCZ_OK : ccz_fail(CCZ_ERR_NOMEM, "out of memory"), st, out);
    CCZ_GUARD_GOTO(request(s, &status, &body, "POST", "/kbs/v0/auth", text), st, out);
    CCZ_GUARD_GOTO(answer_json(&ans, &body, "auth"), st, out);
    const char *nonce = json_string_value(json_object_get(ans, "nonce"));
    CCZ_GUARD_GOTO(nonce ? CCZ_OK : ccz_fail(CCZ_ERR_PROTOCOL, "the KBS challenge has no nonce"),
                   st, out);
    /* the runtime data: the key and the nonce, canonical, SHA-384 into the report data */
    CCZ_GUARD_GOTO(jose_jwk_from_key(&jwk, key, "ECDH-ES+A256KW", NULL), st, out);
    json_object_del(jwk, "kid");
    rd = json_pack("{s:O,s:s,s:s}", "tee-pubkey", jwk, "nonce", nonce, "additional-evidence", "");
    CCZ_GUARD_GOTO(rd ? jose_jcs(&c, rd) : ccz_fail(CCZ_ERR_NOMEM, "out of memory"), st, out);
    uint8_t report[64] = {0};
    SHA384(c.ptr, c.len, report);
    CCZ_GUARD_GOTO(ccz_attest(&ev, a, report), st, out);
    CCZ_GUARD_GOTO(ccz_base64_encode(&b64, ccz_buf_span(&ev)), st, out);
    json_decref(req);
    free(text);
    req = json_pack("{s:{s:s,s:O},s:{s:{s:s},s:s}}", "runtime-data", "nonce", nonce, "tee-pubkey",
                    jwk, "tee-evidence", "primary_evidence",
                    strcmp(tee, "sim") == 0 ? "evidence" : "quote", (const char *)b64.ptr,
                    "additional_evidence", "");
    text = req ? json_dumps(req, JSON_COMPACT) : NULL;
    CCZ_GUARD_GOTO(text ? CCZ_OK : ccz_fail(CCZ_ERR_NOMEM, "out of memory"), st, out);
    CCZ_GUARD_GOTO(request(s, &status, &body, "POST", "/kbs/v0/attest", text), st, out);
    json_decref(ans);
    ans = NULL;
    CCZ_GUARD_GOTO(answer_json(&ans, &body, "attest"), st, out);
    const char *t = json_string_value(json_object_get(ans, "token"));
    CCZ_GUARD_GOTO(t ? CCZ_OK : ccz_fail(CCZ_ERR_PROTOCOL, "the KBS attest answer has no token"),
                   st, out);
    st = token ? ccz_buf_append_str(token, t) : CCZ_OK;
out:
    free(text);
    json_decref(req);
    json_decref(ans);
    json_decref(jwk);
    json_decref(rd);
    ccz_buf_free(&body);
    ccz_buf_free(&c);
    ccz_buf_free(&ev);
    ccz_buf_free(&b64);
    return st;
}

ccz_status ccz_kbs_get_resource(ccz_buf *out, const ccz_attester *a, const char *url,
                                const char *path, const ccz_kbs_client_opts *o)
{
    CCZ_ENSURE(o && o->version == CCZ_KBS_CLIENT_OPTS_VERSION && a && url && path,
               CCZ_ERR_INVALID_ARGUMENT,
               "KBS client: an attester, a URL, a path and options of version %u",
               CCZ_KBS_CLIENT_OPTS_VERSION);
    CCZ_ENSURE(strncmp(url, "https://", 8) == 0, CCZ_ERR_INVALID_ARGUMENT,
               "KBS client: the KBS's URL must be https:// (%s)", url);
    /* checked here as the KBS checks it: nothing of the path may change the URL it is put in */
    CCZ_ENSURE(att_kbs_resource_path_ok(path), CCZ_ERR_INVALID_ARGUMENT,
               "KBS client: a resource is REPOSITORY/TYPE/TAG (letters, digits, '.', '_', '-'; at "
               "most 255 bytes), not '%.64s'",
               path);
    ccz_tee tee = ccz_attester_tee(a);
    CCZ_ENSURE(tee == CCZ_TEE_SIM || tee == CCZ_TEE_SGX || tee == CCZ_TEE_TDX, CCZ_ERR_UNSUPPORTED,
               "KBS client: %s evidence is not sent by this client (sim, sgx, tdx)",
               ccz_tee_name(tee));
    char base[512];
    int bl = snprintf(base, sizeof base, "%s", url);
    CCZ_ENSURE(bl > 0 && (size_t)bl < sizeof base, CCZ_ERR_INVALID_ARGUMENT,
               "KBS client: the URL is too long");
    while (bl > 8 && base[bl - 1] == '/') /* "https://h:p/" is "https://h:p" */
        base[--bl] = 0;
    long timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 30000;
    session s = {curl_easy_init(), base, timeout_ms, listener_mono_ms() + timeout_ms, NULL};
    s.json = curl_slist_append(NULL, "Content-Type: application/json");
    EVP_PKEY *key = EVP_EC_gen("P-256");
    ccz_buf body = CCZ_BUF_INIT, token = CCZ_BUF_INIT;
    ccz_status st = CCZ_OK;
    if (!s.curl || !s.json || !key) {
        st = ccz_fail(CCZ_ERR_NOMEM, "KBS client: out of memory");
        goto out;
    }
    curl_easy_setopt(s.curl, CURLOPT_COOKIEFILE, ""); /* the session cookie, in memory */
    curl_easy_setopt(s.curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(s.curl, CURLOPT_PROTOCOLS_STR, "https");
    if (o->cacert)
        curl_easy_setopt(s.curl, CURLOPT_CAINFO, o->cacert);
    if (o->tls_verify_insecure) {
        curl_easy_setopt(s.curl, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(s.curl, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    CCZ_GUARD_GOTO(attest(&s, &token, key, a), st, out);
    char rpath[600];
    int n = snprintf(rpath, sizeof rpath, "/kbs/v0/resource/%s", path);
    CCZ_GUARD_GOTO(n > 0 && (size_t)n < sizeof rpath
                       ? CCZ_OK
                       : ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "the resource path is too long"),
                   st, out);
    long status;
    CCZ_GUARD_GOTO(request(&s, &status, &body, "GET", rpath, NULL), st, out);
    st = jose_jwe_decrypt(out, key, (const char *)body.ptr, body.len);
    if (st != CCZ_OK) /* not a JWE, or not one for this key: not the protocol's answer */
        st = ccz_fail_context(st == CCZ_ERR_NOMEM ? st : CCZ_ERR_PROTOCOL,
                              "KBS resource %s: the JWE", path);
    if (st == CCZ_OK && o->token)
        st = ccz_buf_append_str(o->token, (const char *)token.ptr);
out:
    EVP_PKEY_free(key);
    curl_slist_free_all(s.json);
    if (s.curl)
        curl_easy_cleanup(s.curl);
    ccz_buf_free(&body);
    ccz_buf_free(&token);
    return st;
}
