/* SPDX-License-Identifier: Apache-2.0 */
/* The KMS service, wire-compatible with Intel's eHSM-KMS: POST /ehsm?Action=NAME with a signed
 * JSON envelope {appid, timestamp, nonce?, sign, payload}, answers {code, message, result}
 * (docs/kms.md). What it adds to eHSM: enrollment only for attested callers (RA-TLS, through the
 * policy) or with the admin token; key material wrapped under a domain key that only this TEE
 * (or a replica it gave it to over mutual RA-TLS) holds, with the key's metadata as AAD; key
 * rotation (AES-GCM) and re-encryption without exposing plaintext; signatures compared in
 * constant time; the replay check after the signature, so nobody else can spend a request's
 * nonce; real HTTP statuses beside code; per-app rate limits. This file: the service, the
 * envelope, enrollment and the domain key; actions.c: the actions. */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "core/guard.h"
#include "svc/kms/kms.h"

static const ccz_svc_option options[] = {
    {"db", CCZ_SVC_STRING, NULL, "FILE|URI",
     "the key store: a SQLite file (default DATA_DIR/kms.db) or a postgresql:// URI shared by "
     "replicas"},
    {"seal", CCZ_SVC_STRING, "mrsigner", "POLICY",
     "what seals the domain key: mrsigner (this signer's enclaves, so upgrades unseal) or "
     "mrenclave (only this exact code)"},
    {"peer", CCZ_SVC_STRING, NULL, "HOST:PORT",
     "a running replica to obtain the domain key from over mutual RA-TLS when this one has none"},
    {"peer-policy", CCZ_SVC_STRING, NULL, "FILE",
     "the allow-list for replicas: whose evidence may receive this replica's domain key, and "
     "whose may give one (unset: the domain key is never shared)"},
    {"rate", CCZ_SVC_UINT, "5000", "N", "requests per second one app may make (0: no limit)"},
    {"burst", CCZ_SVC_UINT, "10000", "N", "requests one app may make at once above its rate"},
    {"replay-max", CCZ_SVC_UINT, "1048576", "N",
     "signed requests remembered against replay (10 minutes' worth; about 36 bytes each)"},
    {"key-cache", CCZ_SVC_UINT, "4096", "N", "loaded keys kept in memory"},
    {"pkcs1-decrypt", CCZ_SVC_BOOL, "false", NULL,
     "allow RSA PKCS#1 v1.5 decryption (AsymmetricDecrypt, ImportKeyMaterial with EH_RSA_PKCS1): "
     "OpenSSL 3.0 has no implicit rejection, so it answers whether a ciphertext's padding is "
     "valid, a padding oracle (Bleichenbacher, Marvin); off unless eHSM clients need it"},
};

/* SQLite first, then PostgreSQL where the two differ (BIGINT, BYTEA). */
static const store_migration migrations[] = {
    {1,
     "CREATE TABLE kms_apps (appid TEXT PRIMARY KEY, apikey BLOB NOT NULL, created INTEGER NOT "
     "NULL, enrolled_by TEXT NOT NULL)",
     "CREATE TABLE kms_apps (appid TEXT PRIMARY KEY, apikey BYTEA NOT NULL, created BIGINT NOT "
     "NULL, enrolled_by TEXT NOT NULL)"},
    {2,
     "CREATE TABLE kms_keys (keyid TEXT PRIMARY KEY, owner TEXT NOT NULL, spec TEXT NOT NULL, "
     "origin TEXT NOT NULL, usage TEXT NOT NULL, state INTEGER NOT NULL, created INTEGER NOT "
     "NULL, expires INTEGER NOT NULL, version INTEGER NOT NULL)",
     "CREATE TABLE kms_keys (keyid TEXT PRIMARY KEY, owner TEXT NOT NULL, spec TEXT NOT NULL, "
     "origin TEXT NOT NULL, usage TEXT NOT NULL, state BIGINT NOT NULL, created BIGINT NOT "
     "NULL, expires BIGINT NOT NULL, version BIGINT NOT NULL)"},
    {3, "CREATE INDEX kms_keys_owner ON kms_keys (owner)", NULL},
    {4,
     "CREATE TABLE kms_versions (keyid TEXT NOT NULL, version INTEGER NOT NULL, material BLOB "
     "NOT NULL, created INTEGER NOT NULL, PRIMARY KEY (keyid, version))",
     "CREATE TABLE kms_versions (keyid TEXT NOT NULL, version BIGINT NOT NULL, material BYTEA "
     "NOT NULL, created BIGINT NOT NULL, PRIMARY KEY (keyid, version))"},
    {5,
     "CREATE TABLE kms_imports (keyid TEXT PRIMARY KEY, wrapping BLOB NOT NULL, created INTEGER "
     "NOT NULL)",
     "CREATE TABLE kms_imports (keyid TEXT PRIMARY KEY, wrapping BYTEA NOT NULL, created BIGINT "
     "NOT NULL)"},
    {6,
     "CREATE TABLE kms_quote_policies (policy_id TEXT PRIMARY KEY, owner TEXT NOT NULL, "
     "mr_enclave TEXT NOT NULL, mr_signer TEXT NOT NULL, created INTEGER NOT NULL)",
     "CREATE TABLE kms_quote_policies (policy_id TEXT PRIMARY KEY, owner TEXT NOT NULL, "
     "mr_enclave TEXT NOT NULL, mr_signer TEXT NOT NULL, created BIGINT NOT NULL)"},
};

int64_t kms_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

ccz_status kms_hmac_sha256(uint8_t out[32], ccz_span key, ccz_span msg)
{
    unsigned len = 0;
    CCZ_ENSURE(HMAC(EVP_sha256(), key.ptr, (int)key.len, msg.ptr, msg.len, out, &len) && len == 32,
               CCZ_ERR_CRYPTO, "HMAC-SHA256 failed");
    return CCZ_OK;
}

ccz_status kms_b64_fixed(char *out, size_t cap, ccz_span in)
{
    CCZ_ENSURE(cap >= 4 * ((in.len + 2) / 3) + 1, CCZ_ERR_TOO_LARGE, "base64: no room");
    EVP_EncodeBlock((unsigned char *)out, in.ptr, (int)in.len);
    return CCZ_OK;
}

ccz_status kms_uuid(char out[37])
{
    uint8_t b[16];
    CCZ_ENSURE(RAND_bytes(b, sizeof b) == 1, CCZ_ERR_CRYPTO, "no randomness");
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
    return CCZ_OK;
}

/* ---- answers -------------------------------------------------------------------------------*/

void kms_answer(http_request *r, int code, const char *message, json_t *result)
{
    json_t *body = json_object();
    if (body) {
        json_object_set_new(body, "code", json_integer(code));
        if (message)
            json_object_set_new(body, "message", json_string(message));
        json_object_set_new(body, "result", result ? result : json_object());
    } else {
        ccz_json_free_wiped(result);
    }
    /* eHSM answers HTTP 200 with the status in code; ccz sends the real status too (clients
     * that look only at code see eHSM's answers). An answer may hold a plaintext, a data key or
     * an apikey: every copy of it is wiped, the one libevent sends from too. */
    char text[4096]; /* most answers; a larger one (a public key, a list) takes the general way */
    size_t n = body ? json_dumpb(body, text, sizeof text - 1, JSON_COMPACT) : 0;
    if (body && n > 0 && n < sizeof text - 1) {
        text[n++] = '\n';
        http_reply_secret(r, code, "application/json", CCZ_SPAN(text, n));
    } else if (body) {
        ccz_buf b;
        ccz_buf_init(&b, 0, true);
        if (ccz_json_dump(&b, body, false) == CCZ_OK && ccz_buf_append(&b, "\n", 1) == CCZ_OK)
            http_reply_secret(r, code, "application/json", ccz_buf_span(&b));
        else
            http_reply_error(r, 500, "out of memory");
        ccz_buf_free(&b);
    } else {
        http_reply_error(r, 500, "out of memory");
    }
    /* json_dumpb writes what fits even when the whole does not: a too-large answer (a 6 KiB
     * plaintext) leaves its first 4 KiB here too */
    ccz_wipe(text, sizeof text);
    ccz_json_free_wiped(body);
}

void kms_refuse(kms *k, http_request *r, int code, const char *message)
{
    k->refused++;
    kms_answer(r, code, message, NULL);
}

/* ---- apps ----------------------------------------------------------------------------------*/

/* The AAD of a wrapped apikey: the purpose and the appid. */
static ccz_status apikey_aad(ccz_buf *out, const char *appid)
{
    static const char tag[] = "ccz kms apikey v1";
    CCZ_GUARD(ccz_buf_append(out, tag, sizeof tag)); /* with its NUL */
    return ccz_buf_append_str(out, appid);
}

static ccz_status app_row(const store_row *row, void *payload)
{
    ccz_buf *wrapped = payload;
    ccz_span w = store_row_blob(row, 0);
    return ccz_buf_append(wrapped, w.ptr, w.len);
}

/* An HMAC-SHA256 context keyed with key, to duplicate for each message (OpenSSL 3.0 fetches the
 * MAC and the digest by name on every one-shot HMAC()). */
static EVP_MAC_CTX *mac_new(ccz_span key)
{
    EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *c = m ? EVP_MAC_CTX_new(m) : NULL;
    EVP_MAC_free(m);
    OSSL_PARAM p[] = {OSSL_PARAM_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
                      OSSL_PARAM_END};
    if (c && EVP_MAC_init(c, key.ptr, key.len, p) == 1)
        return c;
    EVP_MAC_CTX_free(c);
    return NULL;
}

/* HMAC-SHA256 of msg under the app's apikey, in base64. */
static ccz_status app_sign(char out[KMS_SIGN_LEN + 1], const kms_app *a, ccz_span msg)
{
    EVP_MAC_CTX *c = EVP_MAC_CTX_dup(a->mac);
    uint8_t mac[32];
    size_t n = 0;
    int ok = c && EVP_MAC_update(c, msg.ptr, msg.len) == 1 &&
             EVP_MAC_final(c, mac, &n, sizeof mac) == 1 && n == 32;
    EVP_MAC_CTX_free(c);
    CCZ_ENSURE(ok, CCZ_ERR_CRYPTO, "HMAC-SHA256 failed");
    ccz_status s = kms_b64_fixed(out, KMS_SIGN_LEN + 1, CCZ_SPAN(mac, 32));
    ccz_wipe(mac, sizeof mac);
    return s;
}

/* The app's cache entry (loaded from the store on a miss), or NULL when appid is unknown. */
static kms_app *app_find(kms *k, const char *appid, ccz_status *st)
{
    *st = CCZ_OK;
    size_t len = strlen(appid);
    if (len != KMS_APPID_LEN)
        return NULL;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)appid[i]) * 1099511628211ull;
    size_t b = (size_t)(h % KMS_APP_BUCKETS);
    for (kms_app *a = k->apps[b]; a; a = a->next)
        if (strcmp(a->appid, appid) == 0)
            return a;
    ccz_buf wrapped = CCZ_BUF_INIT, aad = CCZ_BUF_INIT, key;
    ccz_buf_init(&key, 0, true);
    *st = store_exec(k->db, NULL, "SELECT apikey FROM kms_apps WHERE appid = ?",
                     STORE_PARAMS(STORE_TEXT(appid)), app_row, &wrapped);
    kms_app *a = NULL;
    if (*st == CCZ_OK && wrapped.len) {
        *st = apikey_aad(&aad, appid);
        if (*st == CCZ_OK)
            *st = kms_unwrap(&key, k->domain_key, ccz_buf_span(&wrapped), ccz_buf_span(&aad));
        if (*st == CCZ_OK && key.len != KMS_APIKEY_LEN)
            *st = ccz_fail(CCZ_ERR_MALFORMED, "a stored apikey of %zu bytes", key.len);
        if (*st == CCZ_OK && (a = calloc(1, sizeof *a)) == NULL)
            *st = CCZ_ERR_NOMEM;
        if (*st == CCZ_OK && (a->mac = mac_new(CCZ_SPAN(key.ptr, KMS_APIKEY_LEN))) == NULL) {
            free(a);
            a = NULL;
            *st = ccz_fail_ossl(CCZ_ERR_CRYPTO, "HMAC-SHA256 setup failed");
        }
        if (*st == CCZ_OK && a) {
            memcpy(a->appid, appid, len + 1);
            memcpy(a->apikey, key.ptr, KMS_APIKEY_LEN);
            a->tokens = k->burst;
            a->refill_ms = kms_now_ms();
            a->next = k->apps[b];
            k->apps[b] = a;
        }
    }
    ccz_buf_free(&wrapped);
    ccz_buf_free(&aad);
    ccz_buf_free(&key);
    return a;
}

static void apps_free(kms *k)
{
    for (size_t b = 0; b < KMS_APP_BUCKETS; b++) {
        for (kms_app *a = k->apps[b], *n; a; a = n) {
            n = a->next;
            EVP_MAC_CTX_free(a->mac);
            ccz_wipe(a, sizeof *a);
            free(a);
        }
    }
}

/* A token bucket per app: rate per second, up to burst at once. */
bool kms_rate_ok(const kms *k, kms_app *a, int64_t now_ms)
{
    if (!k->rate)
        return true;
    double add = (double)(now_ms - a->refill_ms) * k->rate / 1000.0;
    if (add > 0) {
        a->tokens = a->tokens + add > k->burst ? k->burst : a->tokens + add;
        a->refill_ms = now_ms;
    }
    if (a->tokens < 1)
        return false;
    a->tokens -= 1;
    return true;
}

/* eHSM's apikey alphabet (no 0/O, 1/l/I lookalikes beyond its own choice), 32 characters, each
 * drawn without bias by rejection. */
static ccz_status make_apikey(char out[KMS_APIKEY_LEN])
{
    static const char alphabet[] = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz";
    const unsigned n = sizeof alphabet - 1, limit = 256 - 256 % n;
    for (size_t i = 0; i < KMS_APIKEY_LEN;) {
        uint8_t b[64];
        CCZ_ENSURE(RAND_bytes(b, sizeof b) == 1, CCZ_ERR_CRYPTO, "no randomness");
        for (size_t j = 0; j < sizeof b && i < KMS_APIKEY_LEN; j++)
            if (b[j] < limit)
                out[i++] = alphabet[b[j] % n];
        ccz_wipe(b, sizeof b);
    }
    return CCZ_OK;
}

bool kms_admin_ok(kms *k, http_request *r)
{
    return svc_admin_token_ok(k->admin_hash, http_request_header(r, "authorization"));
}

/* GET /ehsm?Action=Enroll: a new appid and apikey, for an attested caller (its RA-TLS
 * certificate accepted by the policy) or one with the admin token; never for anyone else. */
static void enroll(kms *k, http_request *r)
{
    const ccz_ratls_verdict *v = http_request_tls_verdict(r);
    char by[128];
    if (v && v->status == CCZ_OK) {
        const ccz_claims *c = &v->result.claims;
        ccz_buf hex = CCZ_BUF_INIT;
        if (ccz_hex_encode(&hex, CCZ_SPAN(c->sgx.mr_enclave, 8)) != CCZ_OK) {
            ccz_buf_free(&hex);
            kms_refuse(k, r, 500, "out of memory");
            return;
        }
        snprintf(by, sizeof by, "ra-tls %s %s…", ccz_tee_name(c->tee), (const char *)hex.ptr);
        ccz_buf_free(&hex);
    } else if (kms_admin_ok(k, r)) {
        snprintf(by, sizeof by, "admin");
    } else {
        kms_refuse(k, r, 403,
                   v ? "Enroll refused: the client's RA-TLS evidence does not satisfy the KMS's "
                       "policy"
                     : "Enroll needs an attested client (an RA-TLS client certificate the KMS's "
                       "policy accepts) or the admin token (Authorization: Bearer TOKEN)");
        return;
    }
    char appid[37], apikey[KMS_APIKEY_LEN + 1];
    ccz_buf wrapped = CCZ_BUF_INIT, aad = CCZ_BUF_INIT;
    ccz_status st = kms_uuid(appid);
    if (st == CCZ_OK)
        st = make_apikey(apikey);
    apikey[KMS_APIKEY_LEN] = 0;
    if (st == CCZ_OK)
        st = apikey_aad(&aad, appid);
    if (st == CCZ_OK)
        st =
            kms_wrap(&wrapped, k->domain_key, CCZ_SPAN(apikey, KMS_APIKEY_LEN), ccz_buf_span(&aad));
    if (st == CCZ_OK)
        st = store_exec(k->db, NULL,
                        "INSERT INTO kms_apps (appid, apikey, created, enrolled_by) VALUES (?, ?, "
                        "?, ?)",
                        STORE_PARAMS(STORE_TEXT(appid), STORE_BLOB(wrapped.ptr, wrapped.len),
                                     STORE_INT(kms_now_ms()), STORE_TEXT(by)),
                        NULL, NULL);
    ccz_buf_free(&wrapped);
    ccz_buf_free(&aad);
    if (st) {
        ccz_log(CCZ_LOG_ERROR, "kms: enroll: %s", ccz_error_detail());
        ccz_wipe(apikey, sizeof apikey);
        kms_refuse(k, r, 500, "enroll user info failed");
        return;
    }
    ccz_log(CCZ_LOG_INFO, "kms: enrolled app %s (%s)", appid, by);
    k->enrolled++;
    kms_answer(r, 200, "successful", json_pack("{s:s,s:s}", "appid", appid, "apikey", apikey));
    ccz_wipe(apikey, sizeof apikey);
}

static void get_version(http_request *r)
{
    kms_answer(r, 200, "success!",
               json_pack("{s:s,s:s}", "version", CCZ_VERSION_STRING, "git_sha", CCZ_GIT_SHA));
}

static void get_ehsm(http_request *r, void *payload)
{
    kms *k = payload;
    ccz_buf action = CCZ_BUF_INIT;
    bool has = http_request_query(r, "Action", &action);
    if (has && strcmp((const char *)action.ptr, "GetVersion") == 0)
        get_version(r);
    else if (has && strcmp((const char *)action.ptr, "Enroll") == 0)
        enroll(k, r);
    else if (has && kms_action_find((const char *)action.ptr))
        kms_refuse(k, r, 400, "Missing required parameters"); /* a signed action, without body */
    else
        kms_refuse(k, r, 404, "API Not Found");
    ccz_buf_free(&action);
}

/* ---- the envelope --------------------------------------------------------------------------*/

static bool all_digits(const char *s)
{
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

/* eHSM's checks in eHSM's order, then the signature in constant time, then the replay window
 * (after the signature: only the app itself can spend its request), then the rate limit. */
static void post_ehsm(http_request *r, void *payload)
{
    kms *k = payload;
    k->requests++;
    ccz_buf action_buf = CCZ_BUF_INIT;
    bool has_action = http_request_query(r, "Action", &action_buf);
    const char *action = has_action ? (const char *)action_buf.ptr : "";
    const kms_action *def = kms_action_find(action);
    ccz_span body = http_request_body(r);
    json_error_t jerr;
    json_t *env = body.len
                      ? json_loadb((const char *)body.ptr, body.len, JSON_REJECT_DUPLICATES, &jerr)
                      : json_object();
    if (!env || !json_is_object(env)) {
        kms_refuse(k, r, 400, "Invalid JSON");
        goto out;
    }
    if (strcmp(action, "GetVersion") == 0 || strcmp(action, "Enroll") == 0) {
        kms_refuse(k, r, 404, "API Not Found"); /* GET only */
        goto out;
    }
    json_t *appid = json_object_get(env, "appid"), *ts = json_object_get(env, "timestamp"),
           *sign = json_object_get(env, "sign"), *nonce = json_object_get(env, "nonce"),
           *pl = json_object_get(env, "payload");
    const char *appid_s = json_string_value(appid), *ts_s = json_string_value(ts),
               *sign_s = json_string_value(sign);
    bool missing = !appid || !ts || !sign || (appid_s && !*appid_s) || (ts_s && !*ts_s) ||
                   (sign_s && !*sign_s);
    if (missing || (def && def->needs_payload && (!pl || json_is_null(pl)))) {
        kms_refuse(k, r, 400, "Missing required parameters");
        goto out;
    }
    if (!appid_s || !ts_s || !sign_s || (pl && !json_is_null(pl) && !json_is_object(pl)) ||
        (nonce && !json_is_null(nonce) && !json_is_string(nonce))) {
        kms_refuse(k, r, 400, "param type error");
        goto out;
    }
    const char *nonce_s = json_string_value(nonce);
    if (nonce_s && strlen(nonce_s) > 64) {
        kms_refuse(k, r, 400, "Nonce length error");
        goto out;
    }
    /* the canonical string joins the fields with '&': a nonce "N&payload=k=v" without payload
     * signs as nonce N with payload {k: v}, so a request seen once would pass the replay check
     * again under another nonce, as any action that takes no payload (DeleteAllKey) */
    if (nonce_s && strchr(nonce_s, '&')) {
        kms_refuse(k, r, 400, "Nonce format error: a nonce cannot contain '&'");
        goto out;
    }
    if (strlen(ts_s) != 13) {
        kms_refuse(k, r, 400, "Timestamp length error");
        goto out;
    }
    int64_t now = kms_now_ms(), t = all_digits(ts_s) ? strtoll(ts_s, NULL, 10) : -1;
    if (t < 0 || llabs(now - t) >= KMS_WINDOW_MS) {
        kms_refuse(k, r, 400, "Timestamp error");
        goto out;
    }
    if (pl && json_is_null(pl))
        pl = NULL;
    char problem[200];
    if (def && !kms_payload_check(def, pl, problem, sizeof problem)) {
        kms_refuse(k, r, 400, problem);
        goto out;
    }
    ccz_status st;
    kms_app *app = app_find(k, appid_s, &st);
    if (st) {
        ccz_log(CCZ_LOG_ERROR, "kms: app lookup: %s", ccz_error_detail());
        kms_refuse(k, r, 500, "database error");
        goto out;
    }
    if (!app) {
        kms_refuse(k, r, 400, "appid error: no such app (enroll first)");
        goto out;
    }
    char want[KMS_SIGN_LEN + 1];
    ccz_buf canon;
    ccz_buf_init(&canon, 0, true); /* holds the payload */
    st = kms_request_canonical(&canon, appid_s, nonce_s, ts_s, pl);
    if (st == CCZ_OK)
        st = app_sign(want, app, ccz_buf_span(&canon));
    ccz_buf_free(&canon);
    if (st) {
        kms_refuse(k, r, 400, "sign error");
        goto out;
    }
    bool good = strlen(sign_s) == KMS_SIGN_LEN && CRYPTO_memcmp(want, sign_s, KMS_SIGN_LEN) == 0;
    ccz_wipe(want, sizeof want);
    if (!good) {
        kms_refuse(k, r, 400, "sign error");
        goto out;
    }
    st = kms_replay_check(k->replay, appid_s, nonce_s, ts_s, now);
    if (st == CCZ_ERR_EXISTS) {
        kms_refuse(k, r, 400, "Timestamp can't be repeated in 20 minutes");
        goto out;
    }
    if (st) {
        kms_refuse(k, r, 503, "the replay window is full: try again later");
        goto out;
    }
    if (!kms_rate_ok(k, app, now)) {
        k->limited++;
        kms_refuse(k, r, 429, "Too many requests: this appid's rate limit is reached");
        goto out;
    }
    if (!def) {
        kms_refuse(k, r, 404, "API Not Found");
        goto out;
    }
    kms_call call = {k, r, app->appid, app->apikey, pl};
    def->run(&call);
    k->served++;
out:
    ccz_json_free_wiped(env); /* a plaintext to encrypt */
    ccz_buf_free(&action_buf);
}

/* ---- the domain key ------------------------------------------------------------------------
 * 32 random bytes made inside the TEE at the first start, sealed into DATA_DIR/domain-key.sealed
 * with the TEE's sealing key (AES-256-GCM; magic and policy as AAD). A replica with none gets it
 * from a peer (domain.c). The store keeps a check value so a replica with another domain key
 * is refused before it writes anything. */

#define SEALED_MAGIC "CCZKMSD1"

static ccz_status seal_policy(ccz_seal_policy *out, const char *s)
{
    if (strcmp(s, "mrsigner") == 0)
        *out = CCZ_SEAL_MRSIGNER;
    else if (strcmp(s, "mrenclave") == 0)
        *out = CCZ_SEAL_MRENCLAVE;
    else
        return ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "--seal: '%s' is not mrsigner or mrenclave", s);
    return CCZ_OK;
}

ccz_status kms_domain_seal(kms *k, const uint8_t key[32])
{
    uint8_t sk[32];
    CCZ_GUARD(ccz_attester_seal_key(k->sc->attester, k->seal, sk));
    uint8_t aad[9];
    memcpy(aad, SEALED_MAGIC, 8);
    aad[8] = (uint8_t)k->seal;
    ccz_buf out = CCZ_BUF_INIT;
    ccz_status st = ccz_buf_append(&out, aad, sizeof aad);
    if (st == CCZ_OK)
        st = kms_wrap(&out, sk, CCZ_SPAN(key, 32), CCZ_SPAN(aad, sizeof aad));
    ccz_wipe(sk, sizeof sk);
    char path[4200];
    if (st == CCZ_OK)
        st = svc_path(path, sizeof path, k->sc, "domain-key.sealed");
    if (st == CCZ_OK)
        st = ccz_file_write(path, ccz_buf_span(&out), 0600);
    ccz_buf_free(&out);
    return st;
}

static ccz_status unseal(kms *k, const char *path)
{
    ccz_buf in = CCZ_BUF_INIT, key;
    ccz_buf_init(&key, 0, true);
    CCZ_GUARD(ccz_file_read(&in, path, 4096));
    ccz_status st = CCZ_OK;
    if (in.len < 9 || memcmp(in.ptr, SEALED_MAGIC, 8) != 0)
        st = ccz_fail(CCZ_ERR_MALFORMED, "%s is not a sealed ccz KMS domain key", path);
    else if (in.ptr[8] != CCZ_SEAL_MRSIGNER && in.ptr[8] != CCZ_SEAL_MRENCLAVE)
        st = ccz_fail(CCZ_ERR_MALFORMED,
                      "%s is not a sealed ccz KMS domain key (sealing policy byte %u)", path,
                      in.ptr[8]);
    else if (in.ptr[8] != (uint8_t)k->seal)
        st = ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "%s was sealed to %s, not to --seal %s", path,
                      in.ptr[8] == CCZ_SEAL_MRSIGNER ? "mrsigner" : "mrenclave",
                      k->seal == CCZ_SEAL_MRSIGNER ? "mrsigner" : "mrenclave");
    uint8_t sk[32];
    if (st == CCZ_OK)
        st = ccz_attester_seal_key(k->sc->attester, k->seal, sk);
    if (st == CCZ_OK) {
        st = kms_unwrap(&key, sk, CCZ_SPAN(in.ptr + 9, in.len - 9), CCZ_SPAN(in.ptr, 9));
        ccz_wipe(sk, sizeof sk);
        if (st)
            st = ccz_fail(CCZ_ERR_BAD_SIGNATURE,
                          "%s does not unseal in this TEE (another platform, %s, or a damaged "
                          "file)",
                          path,
                          k->seal == CCZ_SEAL_MRSIGNER ? "another signer"
                                                       : "other code (--seal mrenclave)");
    }
    if (st == CCZ_OK && key.len != 32)
        st = ccz_fail(CCZ_ERR_MALFORMED, "%s holds a key of %zu bytes", path, key.len);
    if (st == CCZ_OK)
        memcpy(k->domain_key, key.ptr, 32);
    ccz_buf_free(&in);
    ccz_buf_free(&key);
    return st;
}

/* The store's check value: HMAC(domain key, label). The first replica adds it (first writer
 * wins: of replicas starting together on an empty store, one makes the domain key and the others
 * are refused); every later one must match it. */
static ccz_status domain_check(kms *k, const char *mismatch)
{
    static const char label[] = "ccz kms domain key check v1";
    uint8_t mac[32];
    CCZ_GUARD(kms_hmac_sha256(mac, CCZ_SPAN(k->domain_key, 32), CCZ_SPAN(label, sizeof label - 1)));
    ccz_status st = store_kv_add(k->db, "kms", "domain-check", mac, sizeof mac, 0);
    if (st != CCZ_ERR_EXISTS)
        return st;
    ccz_buf have = CCZ_BUF_INIT;
    st = store_kv_get(k->db, &have, "kms", "domain-check");
    if (st == CCZ_OK && (have.len != 32 || !ccz_ct_equal(have.ptr, mac, 32)))
        st = ccz_fail(CCZ_ERR_BAD_SIGNATURE, "%s", mismatch);
    ccz_buf_free(&have);
    return st;
}

static const char no_key[] = "the key store already has keys under a domain key this replica "
                             "does not hold: start it with --peer HOST:PORT of a replica that "
                             "has it";

/* The sealed domain key if there is one; else the peer's, checked against the store before it
 * is sealed (a key of another store is never kept); else a new one, sealed, then claimed in
 * the store (a lost claim removes it again, so a later start with --peer is not stuck with it).
 * A crash between sealing and claiming leaves a sealed key that the next start claims. */
static ccz_status domain_load(kms *k)
{
    char path[4200];
    CCZ_GUARD(svc_path(path, sizeof path, k->sc, "domain-key.sealed"));
    if (ccz_file_exists(path)) {
        CCZ_GUARD(unseal(k, path));
        char msg[4400];
        snprintf(msg, sizeof msg,
                 "%s holds another domain key than the key store's: this data directory "
                 "belongs to another key store (move it away and start with --peer HOST:PORT "
                 "of a replica of this store)",
                 path);
        return domain_check(k, msg);
    }
    if (k->peer) {
        CCZ_GUARD(kms_domain_fetch(k, k->peer));
        char msg[600];
        snprintf(msg, sizeof msg,
                 "the peer %.200s gave a domain key that is not this key store's: it serves "
                 "another key store",
                 k->peer);
        CCZ_GUARD(domain_check(k, msg));
        CCZ_GUARD(kms_domain_seal(k, k->domain_key));
        ccz_log(CCZ_LOG_INFO, "kms: obtained the domain key from %s and sealed it", k->peer);
        return CCZ_OK;
    }
    ccz_buf probe = CCZ_BUF_INIT;
    ccz_status st = store_kv_get(k->db, &probe, "kms", "domain-check");
    ccz_buf_free(&probe);
    CCZ_ENSURE(st == CCZ_ERR_NOT_FOUND, CCZ_ERR_INVALID_ARGUMENT, "%s", no_key);
    CCZ_ENSURE(RAND_priv_bytes(k->domain_key, 32) == 1, CCZ_ERR_CRYPTO, "no randomness");
    CCZ_GUARD(kms_domain_seal(k, k->domain_key));
    st = domain_check(k, no_key);
    if (st != CCZ_OK) {
        if (remove(path) != 0)
            ccz_log(CCZ_LOG_WARN, "kms: cannot remove %s: %s", path, strerror(errno));
        return st;
    }
    ccz_log(CCZ_LOG_INFO, "kms: made a new domain key, sealed to %s in %s",
            k->seal == CCZ_SEAL_MRSIGNER ? "mrsigner" : "mrenclave", path);
    return CCZ_OK;
}

/* ---- the service ---------------------------------------------------------------------------*/

static void metrics(ccz_buf *out, void *payload)
{
    kms *k = payload;
    char t[1024];
    int n = snprintf(t, sizeof t,
                     "# TYPE ccz_kms_requests_total counter\nccz_kms_requests_total %llu\n"
                     "# TYPE ccz_kms_served_total counter\nccz_kms_served_total %llu\n"
                     "# TYPE ccz_kms_refused_total counter\nccz_kms_refused_total %llu\n"
                     "# TYPE ccz_kms_rate_limited_total counter\nccz_kms_rate_limited_total %llu\n"
                     "# TYPE ccz_kms_enrolled_total counter\nccz_kms_enrolled_total %llu\n"
                     "# TYPE ccz_kms_replay_window gauge\nccz_kms_replay_window %zu\n",
                     (unsigned long long)k->requests, (unsigned long long)k->served,
                     (unsigned long long)k->refused, (unsigned long long)k->limited,
                     (unsigned long long)k->enrolled, kms_replay_size(k->replay));
    if (n > 0 && ccz_buf_append(out, t, (size_t)n) != CCZ_OK)
        ccz_log(CCZ_LOG_DEBUG, "kms: metrics truncated");
}

static void stop(void *state)
{
    kms *k = state;
    if (!k)
        return;
    kms_keys_free(k);
    apps_free(k);
    kms_replay_free(k->replay);
    ccz_policy_free(k->peer_policy);
    store_close(k->db);
    if (k->db_lock_fd >= 0)
        close(k->db_lock_fd);
    ccz_wipe(k->domain_key, sizeof k->domain_key);
    free(k);
}

static ccz_status start(void **state, svc_common *sc, const ccz_svc_config *c)
{
    kms *k = calloc(1, sizeof *k);
    CCZ_ENSURE(k, CCZ_ERR_NOMEM, "out of memory");
    k->db_lock_fd = -1;
    *state = k;
    k->sc = sc;
    k->rate = svc_uint(c, "rate");
    k->burst = svc_uint(c, "burst");
    if (k->burst < 1)
        k->burst = 1;
    k->peer = svc_str(c, "peer");
    k->key_cache_max = svc_uint(c, "key-cache");
    k->pkcs1_decrypt = svc_bool(c, "pkcs1-decrypt");
    CCZ_ENSURE(sc->attester, CCZ_ERR_INVALID_ARGUMENT,
               "the KMS keeps its keys inside a TEE: give --tee (sim for the simulated TEE)");
    CCZ_GUARD(seal_policy(&k->seal, svc_str(c, "seal")));
    const char *pp = svc_str(c, "peer-policy");
    if (pp) {
        ccz_buf doc = CCZ_BUF_INIT;
        ccz_status st = ccz_file_read(&doc, pp, CCZ_POLICY_MAX_BYTES);
        if (st == CCZ_OK)
            st = ccz_policy_parse(&k->peer_policy, (const char *)doc.ptr, doc.len);
        ccz_buf_free(&doc);
        if (st)
            return ccz_fail_context(st, "--peer-policy %s", pp);
    }
    CCZ_GUARD(kms_replay_max_ok(svc_uint(c, "replay-max")));
    const char *db = svc_str(c, "db");
    char path[4200];
    if (!db) {
        CCZ_GUARD(svc_path(path, sizeof path, sc, "kms.db"));
        db = path;
    }
    if (strncmp(db, "postgres://", 11) != 0 && strncmp(db, "postgresql://", 13) != 0 &&
        strcmp(db, ":memory:") != 0) {
        /* one KMS process per SQLite file (replicas share PostgreSQL): it is then the store's
         * only writer and may keep keys' metadata in memory */
        char lock[4300];
        int n = snprintf(lock, sizeof lock, "%s.lock", db);
        CCZ_ENSURE(n > 0 && (size_t)n < sizeof lock, CCZ_ERR_TOO_LARGE, "--db: path too long");
        k->db_lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        CCZ_ENSURE(k->db_lock_fd >= 0, CCZ_ERR_IO, "%s: %s", lock, strerror(errno));
        CCZ_ENSURE(flock(k->db_lock_fd, LOCK_EX | LOCK_NB) == 0, CCZ_ERR_UNAVAILABLE,
                   "another ccz kms serves %s (one process per SQLite file; replicas share a "
                   "PostgreSQL database)",
                   db);
        k->cache_meta = true;
    }
    CCZ_GUARD(store_open(&k->db, db, migrations, CCZ_ARRAY_LEN(migrations)));
    CCZ_GUARD(svc_admin_token_load(k->admin_hash, sc));
    CCZ_GUARD(domain_load(k));
    /* its pages (36 MB by default) touched only now: a KMS that refuses to start does not wait
     * for them */
    CCZ_GUARD(kms_replay_new(&k->replay, svc_uint(c, "replay-max")));
    http_server *h = sc->http;
    CCZ_GUARD(http_route(h, "POST", "/ehsm", false, post_ehsm, k));
    CCZ_GUARD(http_route(h, "GET", "/ehsm", false, get_ehsm, k));
    CCZ_GUARD(http_route(h, "POST", "/kms/v1/domain-key", false, kms_domain_serve, k));
    http_server_set_metrics(h, metrics, k);
    return CCZ_OK;
}

const svc_def svc_kms = {"kms", options, CCZ_ARRAY_LEN(options), start, stop};
