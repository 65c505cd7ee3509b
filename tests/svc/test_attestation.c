/* SPDX-License-Identifier: Apache-2.0 */
/* The attestation service over HTTPS (libcurl pinned to the certificate the service made at
 * first start), with sim evidence: a nonce-bound, runtime-data-bound attestation gives an EAR
 * token that verifies offline against the JWKS, with the exact claims; each refusal with its
 * status and reason (reused, unknown and expired nonces, runtime data that does not match, a
 * wrong measurement, a debug enclave, evidence that does not parse); tokens signed by another
 * key or expired; malformed, mistyped, oversized and truncated requests; policies behind the
 * admin token; an RA-TLS certificate as evidence; state and keys across a restart; one address's
 * flood of nonces and sessions refused past its quota while another is served. */
#include <curl/curl.h>
#include <strings.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ccz/attestation.h"
#include "ccz/ccz.h"
#include "ccz/svc.h"
#include "jose/jose.h"
#include "store/store.h"
#include "test.h"

static char plat[600], data[600], policy_path[600], ca[700];
static const uint8_t m_good[32] = {0x60, 0x0d};
static const uint8_t m_bad[32] = {0xba, 0xd0};
static char admin[128];

/* ---- an HTTPS client -------------------------------------------------------------------------*/

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    ccz_buf *b = arg;
    return ccz_buf_append(b, p, size * n) == CCZ_OK ? size * n : 0;
}

static char cookie[128];              /* sent as Cookie when set; Set-Cookie answers replace it */
static char set_cookie[256];          /* the last Set-Cookie header, attributes and all */
static char retry_after[16];          /* the last answer's Retry-After */
static int n_retry_after;             /* and how many it had */
static char www_auth[128];            /* the last answer's WWW-Authenticate */
static const char *source_ip;         /* the client's address when set (127.0.0.1 otherwise) */
static const char *scheme = "Bearer"; /* the Authorization scheme a bearer is sent with */

static size_t header_cb(char *p, size_t size, size_t n, void *arg)
{
    (void)arg;
    size_t len = size * n;
    if (len > 12 && strncasecmp(p, "Set-Cookie: ", 12) == 0) {
        size_t k = strcspn(p + 12, ";\r\n");
        snprintf(cookie, sizeof cookie, "%.*s", (int)k, p + 12);
        snprintf(set_cookie, sizeof set_cookie, "%.*s", (int)strcspn(p + 12, "\r\n"), p + 12);
    }
    if (len > 13 && strncasecmp(p, "Retry-After: ", 13) == 0 && ++n_retry_after)
        snprintf(retry_after, sizeof retry_after, "%.*s", (int)strcspn(p + 13, "\r\n"), p + 13);
    if (len > 18 && strncasecmp(p, "WWW-Authenticate: ", 18) == 0)
        snprintf(www_auth, sizeof www_auth, "%.*s", (int)strcspn(p + 18, "\r\n"), p + 18);
    return len;
}

/* Calls the service; returns the HTTP status and the body (NUL-terminated) in resp. */
static long call(int port, const char *method, const char *path, const char *type, const char *body,
                 const char *bearer, ccz_buf *resp)
{
    CURL *c = curl_easy_init();
    char url[1024], auth[9000], ctype[128];
    snprintf(url, sizeof url, "https://127.0.0.1:%d%s", port, path);
    struct curl_slist *h = NULL;
    if (type) {
        snprintf(ctype, sizeof ctype, "Content-Type: %s", type);
        h = curl_slist_append(h, ctype);
    }
    if (bearer) {
        snprintf(auth, sizeof auth, "Authorization: %s %s", scheme, bearer);
        h = curl_slist_append(h, auth);
    }
    ccz_buf_reset(resp);
    retry_after[0] = 0;
    n_retry_after = 0;
    www_auth[0] = 0;
    if (source_ip)
        curl_easy_setopt(c, CURLOPT_INTERFACE, source_ip);
    if (cookie[0])
        curl_easy_setopt(c, CURLOPT_COOKIE, cookie);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L); /* "/../" reaches the server as sent */
    curl_easy_setopt(c, CURLOPT_CAINFO, ca);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    long status = 0;
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    else
        fprintf(stderr, "curl: %s\n", curl_easy_strerror(rc));
    if (ccz_buf_append_u8(resp, 0) == CCZ_OK)
        resp->len--;
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return status;
}

static const char *s(const ccz_buf *b)
{
    return b->ptr ? (const char *)b->ptr : "";
}

/* ---- the service -----------------------------------------------------------------------------*/

static ccz_svc *start(ccz_svc_config **cfg, const char *extra_name, const char *extra_value)
{
    CHECK_OK(ccz_svc_config_new(cfg, "attestation"));
    CHECK_OK(ccz_svc_config_set(*cfg, "listen", "127.0.0.1:0"));
    CHECK_OK(ccz_svc_config_set(*cfg, "data-dir", data));
    CHECK_OK(ccz_svc_config_set(*cfg, "sim-dir", plat));
    CHECK_OK(ccz_svc_config_set(*cfg, "policy", policy_path));
    CHECK_OK(ccz_svc_config_set(*cfg, "max-body", "65536"));
    if (extra_name)
        CHECK_OK(ccz_svc_config_set(*cfg, extra_name, extra_value));
    ccz_svc *svc = NULL;
    CHECK_OK(ccz_svc_start(&svc, *cfg, false));
    snprintf(ca, sizeof ca, "%s/tls-cert.pem", data);
    ccz_buf tok = CCZ_BUF_INIT;
    char p[700];
    snprintf(p, sizeof p, "%s/admin-token", data);
    CHECK_OK(ccz_file_read(&tok, p, 4096));
    snprintf(admin, sizeof admin, "%.*s", (int)strcspn((const char *)tok.ptr, "\n"),
             (const char *)tok.ptr);
    ccz_buf_free(&tok);
    return svc;
}

static void stop(ccz_svc *svc, ccz_svc_config *cfg)
{
    ccz_svc_stop(svc, 1000);
    CHECK_OK(ccz_svc_wait(svc));
    ccz_svc_free(svc);
    ccz_svc_config_free(cfg);
}

/* Sim evidence of measurement m binding SHA-512(nonce ‖ rd) (or rd64 as is when given). */
static void evidence_b64(ccz_buf *out, const uint8_t *m, bool debug, const char *nonce,
                         const char *rd, const uint8_t *rd64)
{
    ccz_attester_opts o = CCZ_ATTESTER_OPTS_INIT;
    o.tee = CCZ_TEE_SIM;
    o.sim.dir = plat;
    o.sim.measurement = m;
    o.sim.debug = debug;
    ccz_attester *a;
    CHECK_OK(ccz_attester_new(&a, &o));
    uint8_t report[64] = {0};
    if (rd64) {
        memcpy(report, rd64, 64);
    } else {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        unsigned n;
        EVP_DigestInit_ex(md, EVP_sha512(), NULL);
        if (nonce)
            EVP_DigestUpdate(md, nonce, strlen(nonce));
        if (rd)
            EVP_DigestUpdate(md, rd, strlen(rd));
        EVP_DigestFinal_ex(md, report, &n);
        EVP_MD_CTX_free(md);
    }
    ccz_buf ev = CCZ_BUF_INIT;
    CHECK_OK(ccz_attest(&ev, a, report));
    ccz_buf_reset(out);
    CHECK_OK(ccz_base64_encode(out, ccz_buf_span(&ev)));
    ccz_buf_free(&ev);
    ccz_attester_free(a);
}

static void get_nonce(int port, char *nonce, size_t cap)
{
    ccz_buf r = CCZ_BUF_INIT;
    CHECK_INT(call(port, "GET", "/v1/nonce", NULL, NULL, NULL, &r), 200);
    json_t *j = json_loads(s(&r), 0, NULL);
    snprintf(nonce, cap, "%s", j ? json_string_value(json_object_get(j, "nonce")) : "");
    CHECK_INT(strlen(nonce), 43);
    CHECK(json_integer_value(json_object_get(j, "expires_at")) >= (json_int_t)time(NULL));
    json_decref(j);
    ccz_buf_free(&r);
}

/* POSTs an attestation and returns the status; the body in resp. */
static long attest(int port, const char *ev_b64, const char *nonce, const char *rd_b64,
                   const char *policy, ccz_buf *resp)
{
    json_t *b = json_pack("{s:s}", "evidence", ev_b64);
    if (nonce)
        json_object_set_new(b, "nonce", json_string(nonce));
    if (rd_b64)
        json_object_set_new(b, "runtime_data", json_string(rd_b64));
    if (policy)
        json_object_set_new(b, "policy", json_string(policy));
    char *text = json_dumps(b, JSON_COMPACT);
    long st = call(port, "POST", "/v1/attest", "application/json", text, NULL, resp);
    free(text);
    json_decref(b);
    return st;
}

static const char *reason(const ccz_buf *resp)
{
    static char r[64];
    json_t *j = json_loads(s(resp), 0, NULL);
    snprintf(r, sizeof r, "%s",
             j ? json_string_value(json_object_get(json_object_get(j, "error"), "reason")) : "");
    json_decref(j);
    return r;
}

static void jwks_of(int port, ccz_buf *out)
{
    CHECK_INT(call(port, "GET", "/.well-known/jwks.json", NULL, NULL, NULL, out), 200);
}

/* Claims c signed by key (as kid), verified offline against the key set jwks now. */
static ccz_status verify_signed(EVP_PKEY *key, const char *kid, const json_t *c, const char *jwks)
{
    ccz_buf t = CCZ_BUF_INIT;
    CHECK_OK(jose_jwt_sign(&t, key, kid, c));
    ccz_json *claims = NULL;
    ccz_status st = ccz_attestation_token_verify(&claims, s(&t), jwks, strlen(jwks), time(NULL));
    ccz_json_free(claims);
    ccz_buf_free(&t);
    return st;
}

static void token_of(const ccz_buf *resp, char *tok, size_t cap)
{
    json_t *j = json_loads(s(resp), 0, NULL);
    snprintf(tok, cap, "%s", j ? json_string_value(json_object_get(j, "token")) : "");
    json_decref(j);
}

/* ---- tests -----------------------------------------------------------------------------------*/

static void write_policy(void)
{
    char hex[65];
    ccz_hex_to_str(hex, m_good, 32);
    char doc[512];
    snprintf(doc, sizeof doc, "{\"allow_sim\": true, \"sgx\": [{\"mr_enclave\": \"%s\"}]}", hex);
    CHECK_OK(ccz_file_write(policy_path, CCZ_SPAN(doc, strlen(doc)), 0644));
}

static void setup(void)
{
    if (plat[0])
        return;
    snprintf(plat, sizeof plat, "%s/plat", test_tmpdir());
    snprintf(data, sizeof data, "%s/data", test_tmpdir());
    snprintf(policy_path, sizeof policy_path, "%s/policy.json", test_tmpdir());
    CHECK_OK(ccz_sim_platform_init(plat, false));
    write_policy();
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Runs sql on the stopped service's database (an edit a test makes behind its back); the number
 * of rows changed. */
static int64_t edit_db(const char *sql, const store_value *params, size_t n_params)
{
    char db_path[700];
    snprintf(db_path, sizeof db_path, "%s/attestation.db", data);
    static const store_migration steps[] = {{1, "SELECT 1", NULL}, {2, "SELECT 1", NULL}};
    store *db = NULL;
    int64_t changes = 0;
    CHECK_OK(store_open(&db, db_path, steps, 2));
    CHECK_OK(store_exec(db, &changes, sql, params, n_params, NULL, NULL));
    store_close(db);
    return changes;
}

static void test_service(void)
{
    setup();
    ccz_svc_config *cfg;
    ccz_svc *svc = start(&cfg, NULL, NULL);
    int port = ccz_svc_port(svc);
    ccz_buf r = CCZ_BUF_INIT, ev = CCZ_BUF_INIT, jwks = CCZ_BUF_INIT;
    char nonce[64], tok[8192];

    CHECK_INT(call(port, "GET", "/healthz", NULL, NULL, NULL, &r), 200);
    {
        /* a nonce waits nonce-ttl (300 s) for its evidence, and says until when */
        json_int_t t0 = (json_int_t)time(NULL);
        CHECK_INT(call(port, "GET", "/v1/nonce", NULL, NULL, NULL, &r), 200);
        json_t *j = json_loads(s(&r), 0, NULL);
        json_int_t until = json_integer_value(json_object_get(j, "expires_at"));
        CHECK(until >= t0 + 300 && until <= (json_int_t)time(NULL) + 300);
        json_decref(j);
    }

    /* the good path: nonce and runtime data bound, a token with exact claims */
    get_nonce(port, nonce, sizeof nonce);
    evidence_b64(&ev, m_good, false, nonce, "hello", NULL);
    CHECK_INT(attest(port, s(&ev), nonce, "aGVsbG8=", NULL, &r), 200);
    token_of(&r, tok, sizeof tok);
    jwks_of(port, &jwks);
    ccz_json *claims = NULL;
    CHECK_OK(ccz_attestation_token_verify(&claims, tok, s(&jwks), jwks.len, time(NULL)));
    CHECK_STR(json_string_value(json_object_get(claims, "eat_profile")), CCZ_EAR_PROFILE);
    CHECK_STR(json_string_value(json_object_get(claims, "eat_nonce")), nonce);
    CHECK_STR(json_string_value(json_object_get(claims, "iss")), "ccz-attestation");
    CHECK_INT(json_integer_value(json_object_get(claims, "exp")) -
                  json_integer_value(json_object_get(claims, "iat")),
              300);
    CHECK_INT(strlen(json_string_value(json_object_get(claims, "jti")) ?: ""), 32); /* 128 bits */
    json_int_t iat = json_integer_value(json_object_get(claims, "iat"));
    json_t *sm = json_object_get(json_object_get(claims, "submods"), "sim");
    CHECK_STR(json_string_value(json_object_get(sm, "ear.status")), "warning"); /* simulated */
    CHECK(json_is_true(json_object_get(sm, "ccz.simulated")));
    CHECK_INT(json_integer_value(
                  json_object_get(json_object_get(sm, "ear.trustworthiness-vector"), "hardware")),
              32);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(sm, "ear.trustworthiness-vector"),
                                                 "executables")),
              2);
    CHECK_STR(json_string_value(json_object_get(sm, "ear.appraisal-policy-id")), "file");
    CHECK_STR(json_string_value(json_object_get(sm, "ccz.runtime-data")), "aGVsbG8");
    char hex[65];
    ccz_hex_to_str(hex, m_good, 32);
    json_t *ae = json_object_get(sm, "ear.veraison.annotated-evidence");
    char *ae_text = json_dumps(ae, JSON_COMPACT);
    CHECK_CONTAINS(ae_text, hex);
    free(ae_text);
    ccz_json_free(claims);
    {
        /* the long evidence string is read beside jansson (http_request_json_lifted): written
         * with escapes ("\/") it takes jansson's path and verifies the same; a second
         * "evidence" member is still a duplicate key */
        ccz_buf plain = CCZ_BUF_INIT;
        evidence_b64(&plain, m_good, false, NULL, NULL, NULL);
        CHECK(strchr(s(&plain), '/') != NULL);
        json_t *b = json_pack("{s:s}", "evidence", s(&plain));
        char *text = json_dumps(b, JSON_COMPACT | JSON_ESCAPE_SLASH);
        CHECK_CONTAINS(text, "\\/");
        CHECK_INT(call(port, "POST", "/v1/attest", "application/json", text, NULL, &r), 200);
        CHECK_CONTAINS(s(&r), "\"token\":\"ey");
        free(text);
        json_decref(b);
        /* a raw control byte inside the long string, at the start of an eight-byte word, in
         * its middle and in the tail after the last whole word (three bytes added past the
         * evidence make one), is JSON's error, not base64's */
        for (size_t at = 0; at < 3; at++) {
            ccz_buf ctl = CCZ_BUF_INIT;
            CHECK_OK(ccz_buf_append_str(&ctl, "{\"evidence\":\""));
            size_t start = ctl.len;
            CHECK_OK(ccz_buf_append_str(&ctl, s(&plain)));
            CHECK_OK(ccz_buf_append_str(&ctl, at == 2 ? "AAA" : ""));
            size_t n = ctl.len - start, where[3] = {64, 101, n - 1};
            if (at == 2)
                CHECK(n % 8 != 0 && where[2] >= n / 8 * 8);
            ctl.ptr[start + where[at]] = (uint8_t)(at == 0 ? 0x1f : at == 1 ? 0x01 : '\t');
            CHECK_OK(ccz_buf_append_str(&ctl, "\"}"));
            CHECK_INT(call(port, "POST", "/v1/attest", "application/json", s(&ctl), NULL, &r), 400);
            CHECK_CONTAINS(s(&r), "not JSON");
            ccz_buf_free(&ctl);
        }
        ccz_buf dup = CCZ_BUF_INIT;
        CHECK_OK(ccz_buf_append_str(&dup, "{\"evidence\":\""));
        CHECK_OK(ccz_buf_append_str(&dup, s(&plain)));
        CHECK_OK(ccz_buf_append_str(&dup, "\",\"evidence\":\"AAAA\"}"));
        CHECK_INT(call(port, "POST", "/v1/attest", "application/json", s(&dup), NULL, &r), 400);
        CHECK_CONTAINS(s(&r), "duplicate");
        ccz_buf_free(&dup);
        ccz_buf_free(&plain);
    }
    /* offline checks: an expired token, a token of another key */
    CHECK_STATUS(ccz_attestation_token_verify(&claims, tok, s(&jwks), jwks.len, time(NULL) + 400),
                 CCZ_ERR_EXPIRED);
    CHECK_STATUS(ccz_attestation_token_verify(&claims, tok, s(&jwks), jwks.len, time(NULL) - 100),
                 CCZ_ERR_NOT_YET_VALID);
    /* 60 s of leeway either side: a verifier's clock a little off still takes it */
    CHECK_OK(ccz_attestation_token_verify(&claims, tok, s(&jwks), jwks.len, iat + 300 + 30));
    ccz_json_free(claims);
    CHECK_OK(ccz_attestation_token_verify(&claims, tok, s(&jwks), jwks.len, iat - 30));
    ccz_json_free(claims);
    {
        EVP_PKEY *other = EVP_EC_gen("P-256");
        json_t *c = json_pack("{s:s,s:I,s:I,s:{s:{s:s}}}", "eat_profile", CCZ_EAR_PROFILE, "iat",
                              (json_int_t)time(NULL), "exp", (json_int_t)time(NULL) + 100,
                              "submods", "sim", "ear.status", "affirming");
        json_t *set = json_loads(s(&jwks), 0, NULL);
        const char *kid = json_string_value(
            json_object_get(json_array_get(json_object_get(set, "keys"), 0), "kid"));
        ccz_buf forged = CCZ_BUF_INIT;
        CHECK_OK(jose_jwt_sign(&forged, other, kid, c)); /* the service's kid, another key */
        CHECK_STATUS(
            ccz_attestation_token_verify(&claims, s(&forged), s(&jwks), jwks.len, time(NULL)),
            CCZ_ERR_BAD_SIGNATURE);
        ccz_buf_reset(&forged);
        CHECK_OK(jose_jwt_sign(&forged, other, NULL, c)); /* its own kid */
        CHECK_STATUS(
            ccz_attestation_token_verify(&claims, s(&forged), s(&jwks), jwks.len, time(NULL)),
            CCZ_ERR_NOT_FOUND);
        /* the EAR form, checked with a key set of the other key: a contraindicated submodule,
         * another profile and no submodules are refused; affirming passes */
        json_t *oset = NULL;
        CHECK_OK(jose_jwks_from_keys(&oset, &other, 1));
        char *otext = json_dumps(oset, JSON_COMPACT);
        const char *okid = json_string_value(
            json_object_get(json_array_get(json_object_get(oset, "keys"), 0), "kid"));
        CHECK_OK(verify_signed(other, okid, c, otext));
        json_t *sim = json_object_get(json_object_get(c, "submods"), "sim");
        json_object_set_new(sim, "ear.status", json_string("contraindicated"));
        CHECK_STATUS(verify_signed(other, okid, c, otext), CCZ_ERR_POLICY_REJECTED);
        CHECK_CONTAINS(ccz_error_detail(), "submodule sim: ear.status contraindicated");
        json_object_set_new(sim, "ear.status", json_string("affirming"));
        json_object_set_new(c, "eat_profile", json_string("tag:example.com,2023:other"));
        CHECK_STATUS(verify_signed(other, okid, c, otext), CCZ_ERR_MALFORMED);
        CHECK_CONTAINS(ccz_error_detail(), "eat_profile tag:example.com,2023:other");
        json_object_set_new(c, "eat_profile", json_string(CCZ_EAR_PROFILE));
        json_object_set_new(c, "submods", json_object());
        CHECK_STATUS(verify_signed(other, okid, c, otext), CCZ_ERR_MALFORMED);
        json_object_set_new(c, "submods", json_pack("{s:{}}", "sim")); /* no ear.status */
        CHECK_STATUS(verify_signed(other, okid, c, otext), CCZ_ERR_MALFORMED);
        CHECK_CONTAINS(ccz_error_detail(), "submodule sim: ear.status missing");
        free(otext);
        json_decref(oset);
        ccz_buf_free(&forged);
        json_decref(set);
        json_decref(c);
        EVP_PKEY_free(other);
    }

    /* the nonce is single-use; an unknown one is refused */
    CHECK_INT(attest(port, s(&ev), nonce, "aGVsbG8=", NULL, &r), 401);
    CHECK_STR(reason(&r), "nonce_invalid");
    CHECK_INT(
        attest(port, s(&ev), "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "aGVsbG8=", NULL, &r),
        401);
    CHECK_STR(reason(&r), "nonce_invalid");
    /* runtime data other than the evidence binds */
    get_nonce(port, nonce, sizeof nonce);
    evidence_b64(&ev, m_good, false, nonce, "hello", NULL);
    CHECK_INT(attest(port, s(&ev), nonce, "aGVsbE8=", NULL, &r), 401);
    CHECK_STR(reason(&r), "report_data_mismatch");
    /* a wrong measurement, a debug enclave: the policy's reasons */
    get_nonce(port, nonce, sizeof nonce);
    evidence_b64(&ev, m_bad, false, nonce, NULL, NULL);
    CHECK_INT(attest(port, s(&ev), nonce, NULL, NULL, &r), 403);
    CHECK_STR(reason(&r), "policy_rejected");
    CHECK_CONTAINS(s(&r), "\"reasons\":[{\"code\":");
    get_nonce(port, nonce, sizeof nonce);
    evidence_b64(&ev, m_good, true, nonce, NULL, NULL);
    CHECK_INT(attest(port, s(&ev), nonce, NULL, NULL, &r), 403);
    CHECK_CONTAINS(s(&r), "\"code\":\"debug\"");
    /* evidence that is not evidence; a body that is not JSON, or not JSON-typed, or too big */
    CHECK_INT(attest(port, "aGVsbG8gd29ybGQ=", NULL, NULL, NULL, &r), 400);
    CHECK_INT(attest(port, "not base64!", NULL, NULL, NULL, &r), 400);
    CHECK_INT(call(port, "POST", "/v1/attest", "application/json", "{\"evidence\":", NULL, &r),
              400);
    CHECK_CONTAINS(s(&r), "not JSON");
    CHECK_INT(call(port, "POST", "/v1/attest", "text/plain", "{}", NULL, &r), 415);
    {
        static char big[70000];
        memset(big, 'a', sizeof big - 1);
        CHECK_INT(call(port, "POST", "/v1/attest", "application/json", big, NULL, &r), 413);
    }
    CHECK_INT(call(port, "GET", "/v1/attest", NULL, NULL, NULL, &r), 405);

    /* policies: the admin token guards them; a stored policy decides when named */
    char pol[256];
    ccz_hex_to_str(hex, m_bad, 32);
    snprintf(pol, sizeof pol, "{\"allow_sim\": true, \"sgx\": [{\"mr_enclave\": \"%s\"}]}", hex);
    CHECK_INT(call(port, "PUT", "/v1/policies/bad-only", "application/json", pol, NULL, &r), 401);
    CHECK_STR(reason(&r), "unauthorized");
    CHECK_INT(
        call(port, "PUT", "/v1/policies/bad-only", "application/json", pol, "wrong-token-0000", &r),
        401);
    CHECK_INT(call(port, "PUT", "/v1/policies/bad-only", "application/json", pol, admin, &r), 201);
    CHECK_INT(call(port, "PUT", "/v1/policies/bad-only", "application/json", pol, admin, &r), 200);
    CHECK_INT(
        call(port, "PUT", "/v1/policies/broken", "application/json", "{\"sgx\": 7}", admin, &r),
        400);
    CHECK_INT(call(port, "PUT", "/v1/policies/no%20spaces", "application/json", pol, admin, &r),
              400);
    CHECK_INT(call(port, "GET", "/v1/policies", NULL, NULL, admin, &r), 200);
    CHECK_CONTAINS(s(&r), "{\"policies\":[\"bad-only\"]}");
    /* the scheme's name is case-insensitive (RFC 9110, 11.1); the token is not */
    scheme = "bearer";
    CHECK_INT(call(port, "GET", "/v1/policies", NULL, NULL, admin, &r), 200);
    CHECK_CONTAINS(s(&r), "{\"policies\":[\"bad-only\"]}");
    scheme = "BEARER";
    CHECK_INT(call(port, "GET", "/v1/policies", NULL, NULL, admin, &r), 200);
    scheme = "Basic";
    CHECK_INT(call(port, "GET", "/v1/policies", NULL, NULL, admin, &r), 401);
    CHECK_STR(reason(&r), "unauthorized");
    scheme = "Bearer";
    get_nonce(port, nonce, sizeof nonce);
    evidence_b64(&ev, m_bad, false, nonce, NULL, NULL);
    CHECK_INT(attest(port, s(&ev), nonce, NULL, "bad-only", &r), 200);
    CHECK_INT(attest(port, s(&ev), NULL, NULL, "missing", &r), 404);
    /* a debug enclave a stored policy admits: its token says so (configuration 32) */
    ccz_hex_to_str(hex, m_good, 32);
    snprintf(pol, sizeof pol,
             "{\"allow_sim\": true, \"allow_debug\": true, \"sgx\": [{\"mr_enclave\": \"%s\"}]}",
             hex);
    CHECK_INT(call(port, "PUT", "/v1/policies/debug-ok", "application/json", pol, admin, &r), 201);
    evidence_b64(&ev, m_good, true, NULL, NULL, NULL);
    CHECK_INT(attest(port, s(&ev), NULL, NULL, "debug-ok", &r), 200);
    {
        char dtok[8192];
        token_of(&r, dtok, sizeof dtok);
        ccz_json *dc = NULL; /* the service's key set, fetched above */
        CHECK_OK(ccz_attestation_token_verify(&dc, dtok, s(&jwks), jwks.len, time(NULL)));
        json_t *dsm = json_object_get(json_object_get(dc, "submods"), "sim");
        json_t *tv = json_object_get(dsm, "ear.trustworthiness-vector");
        CHECK_INT(json_integer_value(json_object_get(tv, "configuration")), 32);
        CHECK_INT(json_integer_value(json_object_get(tv, "hardware")), 32);
        CHECK_STR(json_string_value(json_object_get(dsm, "ear.status")), "warning");
        CHECK_STR(json_string_value(json_object_get(dsm, "ear.appraisal-policy-id")), "debug-ok");
        ccz_json_free(dc);
    }

    /* an RA-TLS certificate as evidence, its nonce in the claims */
    get_nonce(port, nonce, sizeof nonce);
    {
        ccz_attester_opts o = CCZ_ATTESTER_OPTS_INIT;
        o.tee = CCZ_TEE_SIM;
        o.sim.dir = plat;
        o.sim.measurement = m_good;
        ccz_attester *a;
        CHECK_OK(ccz_attester_new(&a, &o));
        ccz_ratls_cert_opts co = CCZ_RATLS_CERT_OPTS_INIT;
        co.nonce = CCZ_SPAN(nonce, strlen(nonce));
        X509 *x = NULL;
        EVP_PKEY *k = NULL;
        CHECK_OK(ccz_ratls_cert_create(&x, &k, a, &co));
        unsigned char *der = NULL;
        int n = i2d_X509(x, &der);
        ccz_buf_reset(&ev);
        CHECK_OK(ccz_base64_encode(&ev, CCZ_SPAN(der, (size_t)n)));
        CHECK_INT(attest(port, s(&ev), nonce, NULL, NULL, &r), 200);
        get_nonce(port, nonce, sizeof nonce); /* another nonce than the certificate carries */
        CHECK_INT(attest(port, s(&ev), nonce, NULL, NULL, &r), 401);
        /* a certificate binds its own key: runtime data beside it would be bound by nothing */
        CHECK_INT(attest(port, s(&ev), NULL, "aGVsbG8=", NULL, &r), 400);
        CHECK_CONTAINS(s(&r), "binds its own key");
        /* a certificate carrying only the start of the request's nonce does not carry it */
        get_nonce(port, nonce, sizeof nonce);
        co.nonce = CCZ_SPAN(nonce, strlen(nonce) - 1);
        X509 *x2 = NULL;
        EVP_PKEY *k2 = NULL;
        CHECK_OK(ccz_ratls_cert_create(&x2, &k2, a, &co));
        unsigned char *der2 = NULL;
        int n2 = i2d_X509(x2, &der2);
        ccz_buf_reset(&ev);
        CHECK_OK(ccz_base64_encode(&ev, CCZ_SPAN(der2, (size_t)n2)));
        CHECK_INT(attest(port, s(&ev), nonce, NULL, NULL, &r), 401);
        CHECK_STR(reason(&r), "report_data_mismatch");
        CHECK_CONTAINS(s(&r), "the certificate's claims do not carry the nonce");
        OPENSSL_free(der2);
        X509_free(x2);
        EVP_PKEY_free(k2);
        OPENSSL_free(der);
        X509_free(x);
        EVP_PKEY_free(k);
        ccz_attester_free(a);
    }

    /* the service survives a truncated request */
    CHECK_INT(call(port, "GET", "/healthz", NULL, NULL, NULL, &r), 200);
    CHECK_INT(call(port, "GET", "/metrics", NULL, NULL, NULL, &r), 200);
    CHECK_CONTAINS(s(&r), "ccz_attestation_tokens_total 5\n"); /* with the debug enclave */

    /* a restart keeps the policies, the signing key (old tokens verify) and the admin token */
    char kid_before[1024];
    snprintf(kid_before, sizeof kid_before, "%s", s(&jwks));
    stop(svc, cfg);
    svc = start(&cfg, NULL, NULL);
    port = ccz_svc_port(svc);
    jwks_of(port, &jwks);
    CHECK_STR(s(&jwks), kid_before);
    CHECK_OK(ccz_attestation_token_verify(&claims, tok, s(&jwks), jwks.len, time(NULL)));
    ccz_json_free(claims);
    CHECK_INT(call(port, "GET", "/v1/policies/bad-only", NULL, NULL, admin, &r), 200);
    CHECK_INT(call(port, "DELETE", "/v1/policies/bad-only", NULL, NULL, admin, &r), 204);
    CHECK_INT(call(port, "GET", "/v1/policies/bad-only", NULL, NULL, admin, &r), 404);
    stop(svc, cfg);

    /* a nonce expires */
    svc = start(&cfg, "nonce-ttl", "1");
    port = ccz_svc_port(svc);
    get_nonce(port, nonce, sizeof nonce);
    evidence_b64(&ev, m_good, false, nonce, NULL, NULL);
    sleep(2);
    CHECK_INT(attest(port, s(&ev), nonce, NULL, NULL, &r), 401);
    CHECK_STR(reason(&r), "nonce_invalid");
    stop(svc, cfg);

    /* configuration errors name the option */
    CHECK_OK(ccz_svc_config_new(&cfg, "attestation"));
    CHECK_STATUS(ccz_svc_config_set(cfg, "no-such-option", "1"), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "--no-such-option");
    CHECK_STATUS(ccz_svc_config_set(cfg, "token-ttl", "soon"), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_OK(ccz_svc_config_set(cfg, "token-alg", "RS256"));
    CHECK_OK(ccz_svc_config_set(cfg, "data-dir", data));
    CHECK_OK(ccz_svc_config_set(cfg, "listen", "127.0.0.1:0"));
    CHECK_STATUS(ccz_svc_start(&svc, cfg, false), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "ES256 or ES384");
    ccz_svc_config_free(cfg);
    CHECK_STATUS(ccz_svc_config_new(&cfg, "nope"), CCZ_ERR_NOT_FOUND);

    ccz_buf_free(&r);
    ccz_buf_free(&ev);
    ccz_buf_free(&jwks);
}

/* ---- the KBS protocol ------------------------------------------------------------------------*/

/* The Attestation of a sim TEE with key tee for the session's nonce, its evidence under field
 * ("evidence" as sim's, "quote" as sgx's), with additional evidence addl, all bound in the
 * report data (mismatch: one bit of it flipped). */
static char *kbs_attestation_as(EVP_PKEY *tee, const char *nonce, const uint8_t *m, bool mismatch,
                                const char *field, const char *addl)
{
    json_t *jwk = NULL;
    CHECK_OK(jose_jwk_from_key(&jwk, tee, "ECDH-ES+A256KW", NULL));
    json_object_del(jwk, "kid");
    json_t *rd =
        json_pack("{s:O,s:s,s:s}", "tee-pubkey", jwk, "nonce", nonce, "additional-evidence", addl);
    ccz_buf c = CCZ_BUF_INIT, ev = CCZ_BUF_INIT;
    CHECK_OK(jose_jcs(&c, rd));
    uint8_t report[64] = {0};
    SHA384(c.ptr, c.len, report);
    if (mismatch)
        report[0] ^= 1;
    evidence_b64(&ev, m, false, NULL, NULL, report);
    json_t *att = json_pack("{s:{s:s,s:O},s:{s:{s:s},s:s}}", "runtime-data", "nonce", nonce,
                            "tee-pubkey", jwk, "tee-evidence", "primary_evidence", field, s(&ev),
                            "additional_evidence", addl);
    char *text = json_dumps(att, JSON_COMPACT);
    json_decref(att);
    json_decref(rd);
    json_decref(jwk);
    ccz_buf_free(&c);
    ccz_buf_free(&ev);
    return text;
}

static char *kbs_attestation(EVP_PKEY *tee, const char *nonce, const uint8_t *m, bool mismatch)
{
    return kbs_attestation_as(tee, nonce, m, mismatch, "evidence", "");
}

/* The same Attestation with its primary_evidence object written as a JSON string (takes att). */
static char *primary_evidence_as_string(char *att)
{
    json_t *j = json_loads(att, 0, NULL);
    json_t *te = json_object_get(j, "tee-evidence");
    char *pe = json_dumps(json_object_get(te, "primary_evidence"), JSON_COMPACT);
    CHECK(pe != NULL);
    CHECK_INT(json_object_set_new(te, "primary_evidence", json_string(pe)), 0);
    char *text = json_dumps(j, JSON_COMPACT);
    free(pe);
    json_decref(j);
    free(att);
    return text;
}

static const char *problem_type(const ccz_buf *resp)
{
    static char t[128];
    json_t *j = json_loads(s(resp), 0, NULL);
    const char *v = j ? json_string_value(json_object_get(j, "type")) : NULL;
    const char *slash = v ? strrchr(v, '/') : NULL;
    snprintf(t, sizeof t, "%s", slash ? slash + 1 : "");
    json_decref(j);
    return t;
}

static void kbs_auth_as(int port, const char *tee, char *nonce, size_t cap)
{
    ccz_buf r = CCZ_BUF_INIT;
    char req[128];
    snprintf(req, sizeof req, "{\"version\":\"0.4.0\",\"tee\":\"%s\",\"extra-params\":{}}", tee);
    cookie[0] = 0;
    CHECK_INT(call(port, "POST", "/kbs/v0/auth", "application/json", req, NULL, &r), 200);
    CHECK_CONTAINS(cookie, "kbs-session-id=");
    /* the session id is a bearer credential: for the KBS paths, over TLS, out of scripts' reach */
    CHECK_CONTAINS(set_cookie, "; Expires=");
    CHECK_CONTAINS(set_cookie, " GMT; Path=/kbs; Secure; HttpOnly");
    json_t *j = json_loads(s(&r), 0, NULL);
    snprintf(nonce, cap, "%s", j ? json_string_value(json_object_get(j, "nonce")) : "");
    json_t *extra = json_object_get(j, "extra-params"); /* a Challenge has them, empty */
    CHECK(json_is_object(extra) && json_object_size(extra) == 0);
    json_decref(j);
    ccz_buf_free(&r);
}

static void kbs_auth(int port, char *nonce, size_t cap)
{
    kbs_auth_as(port, "sim", nonce, cap);
}

/* Whether the service's database files (attestation.db and its write-ahead log) hold text. */
static bool store_holds(const char *text)
{
    static const char *const files[] = {"attestation.db", "attestation.db-wal"};
    bool found = false;
    for (size_t i = 0; i < CCZ_ARRAY_LEN(files) && !found; i++) {
        char path[sizeof data + 32];
        snprintf(path, sizeof path, "%s/%s", data, files[i]);
        ccz_buf b = CCZ_BUF_INIT;
        if (ccz_file_read(&b, path, 64 << 20) == CCZ_OK)
            found = memmem(b.ptr, b.len, text, strlen(text)) != NULL;
        ccz_buf_free(&b);
    }
    return found;
}

static void test_kbs(void)
{
    setup();
    ccz_svc_config *cfg;
    ccz_svc *svc = start(&cfg, NULL, NULL);
    int port = ccz_svc_port(svc);
    ccz_buf r = CCZ_BUF_INIT, plain;
    ccz_buf_init(&plain, 0, true);
    char nonce[64], tok[8192];
    EVP_PKEY *tee = EVP_EC_gen("P-256");

    /* the administrator registers a resource */
    CHECK_INT(call(port, "POST", "/kbs/v0/resource/repo/key/model", "application/octet-stream",
                   "model-key-bytes", NULL, &r),
              401);
    CHECK_INT(call(port, "POST", "/kbs/v0/resource/repo/key/model", "application/octet-stream",
                   "model-key-bytes", admin, &r),
              201);
    CHECK_INT(call(port, "POST", "/kbs/v0/resource/repo/key/guarded", "application/octet-stream",
                   "guarded-bytes", admin, &r),
              201);
    char pol[256], hex[65];
    ccz_hex_to_str(hex, m_bad, 32);
    snprintf(pol, sizeof pol, "{\"allow_sim\": true, \"sgx\": [{\"mr_enclave\": \"%s\"}]}", hex);
    CHECK_INT(call(port, "PUT", "/kbs/v0/resource-policy/repo/key/guarded", "application/json", pol,
                   admin, &r),
              200);
    CHECK_INT(call(port, "PUT", "/kbs/v0/resource-policy/repo/key/absent", "application/json", pol,
                   admin, &r),
              404);

    /* auth: the version and the TEE are checked */
    CHECK_INT(call(port, "POST", "/kbs/v0/auth", "application/json",
                   "{\"version\":\"0.1.0\",\"tee\":\"sim\"}", NULL, &r),
              401);
    CHECK_CONTAINS(s(&r), "Version Mismatch");
    CHECK_INT(call(port, "POST", "/kbs/v0/auth", "application/json",
                   "{\"version\":\"0.4.0\",\"tee\":\"se\"}", NULL, &r),
              401);
    CHECK_STR(problem_type(&r), "AttestationError");

    /* attest without a session; with another nonce; with report data that does not bind */
    cookie[0] = 0;
    char *att = kbs_attestation(tee, "x", m_good, false);
    CHECK_INT(call(port, "POST", "/kbs/v0/attest", "application/json", att, NULL, &r), 401);
    free(att);
    kbs_auth(port, nonce, sizeof nonce);
    /* the session id is a bearer credential: the store keeps its SHA-256, never the id */
    {
        char id[44] = "", key[65];
        const char *at = strstr(cookie, "kbs-session-id=");
        if (at && strlen(at + strlen("kbs-session-id=")) >= 43)
            memcpy(id, at + strlen("kbs-session-id="), 43);
        CHECK_INT(strlen(id), 43);
        uint8_t h[32];
        SHA256((const uint8_t *)id, strlen(id), h);
        ccz_hex_to_str(key, h, sizeof h);
        CHECK(store_holds(key));
        CHECK(!store_holds(id));
    }
    att = kbs_attestation(tee, "AAAA", m_good, false);
    CHECK_INT(call(port, "POST", "/kbs/v0/attest", "application/json", att, NULL, &r), 401);
    CHECK_CONTAINS(s(&r), "nonce in the handshake session is different");
    free(att);
    att = kbs_attestation(tee, nonce, m_good, true);
    CHECK_INT(call(port, "POST", "/kbs/v0/attest", "application/json", att, NULL, &r), 401);
    CHECK_CONTAINS(s(&r), "report_data");
    free(att);
    /* additional evidence, bound in the report data but verified by nothing here */
    att = kbs_attestation_as(tee, nonce, m_good, false, "evidence", "{\"tdx\":\"AAAA\"}");
    CHECK_INT(call(port, "POST", "/kbs/v0/attest", "application/json", att, NULL, &r), 401);
    CHECK_CONTAINS(s(&r), "additional evidence is not verified by this KBS");
    free(att);
    /* a session for sgx evidence that gets sim evidence (in sgx's field) */
    {
        char sgx_nonce[64];
        kbs_auth_as(port, "sgx", sgx_nonce, sizeof sgx_nonce);
        att = kbs_attestation_as(tee, sgx_nonce, m_good, false, "quote", "");
        CHECK_INT(call(port, "POST", "/kbs/v0/attest", "application/json", att, NULL, &r), 401);
        CHECK_STR(problem_type(&r), "AttestationError");
        CHECK_CONTAINS(s(&r), "the session is for sgx evidence, this is sim");
        free(att);
        kbs_auth(port, nonce, sizeof nonce); /* back to a sim session */
    }
    /* a measurement the attestation policy rejects */
    att = kbs_attestation(tee, nonce, m_bad, false);
    CHECK_INT(call(port, "POST", "/kbs/v0/attest", "application/json", att, NULL, &r), 401);
    CHECK_STR(problem_type(&r), "PolicyDeny");
    free(att);

    /* no session yet: the resource is refused */
    CHECK_INT(call(port, "GET", "/kbs/v0/resource/repo/key/model", NULL, NULL, NULL, &r), 401);
    CHECK_STR(problem_type(&r), "TokenNotFound");

    /* the good path: attest, then the resource as a JWE only the TEE key opens */
    att = kbs_attestation(tee, nonce, m_good, false);
    CHECK_INT(call(port, "POST", "/kbs/v0/attest", "application/json", att, NULL, &r), 200);
    free(att);
    token_of(&r, tok, sizeof tok);
    CHECK_INT(call(port, "GET", "/kbs/v0/resource/repo/key/model", NULL, NULL, NULL, &r), 200);
    CHECK_OK(jose_jwe_decrypt(&plain, tee, s(&r), r.len));
    CHECK_INT(plain.len, 15);
    CHECK(memcmp(plain.ptr, "model-key-bytes", 15) == 0);
    CHECK_CONTAINS(s(&r), "\"ciphertext\"");
    EVP_PKEY *other = EVP_EC_gen("P-256");
    ccz_buf_reset(&plain);
    CHECK_STATUS(jose_jwe_decrypt(&plain, other, s(&r), r.len), CCZ_ERR_BAD_SIGNATURE);
    /* the resource's own policy wants another measurement; absent resources; bad paths */
    CHECK_INT(call(port, "GET", "/kbs/v0/resource/repo/key/guarded", NULL, NULL, NULL, &r), 403);
    CHECK_STR(problem_type(&r), "PolicyDeny");
    CHECK_INT(call(port, "GET", "/kbs/v0/resource/repo/key/none", NULL, NULL, NULL, &r), 404);
    CHECK_INT(call(port, "GET", "/kbs/v0/resource/repo/key", NULL, NULL, NULL, &r), 404);
    CHECK_INT(call(port, "GET", "/kbs/v0/resource/repo/../model", NULL, NULL, NULL, &r), 404);
    CHECK_INT(call(port, "POST", "/kbs/v0/resource/repo/../model", "application/octet-stream",
                   "bytes", admin, &r),
              404);
    CHECK_CONTAINS(s(&r), "a resource is REPOSITORY/TYPE/TAG");

    /* the attestation token instead of the cookie */
    char bearer[8300];
    cookie[0] = 0;
    snprintf(bearer, sizeof bearer, "%s", tok);
    CHECK_INT(call(port, "GET", "/kbs/v0/resource/repo/key/model", NULL, NULL, bearer, &r), 200);
    ccz_buf_reset(&plain);
    CHECK_OK(jose_jwe_decrypt(&plain, tee, s(&r), r.len));
    scheme = "bearer"; /* the scheme's name in any case */
    CHECK_INT(call(port, "GET", "/kbs/v0/resource/repo/key/model", NULL, NULL, bearer, &r), 200);
    ccz_buf_reset(&plain);
    CHECK_OK(jose_jwe_decrypt(&plain, tee, s(&r), r.len));
    scheme = "Bearer";
    /* a resource with a policy of its own is only for a session: the token does not carry
     * the evidence its policy is checked against */
    CHECK_INT(call(port, "GET", "/kbs/v0/resource/repo/key/guarded", NULL, NULL, bearer, &r), 403);
    CHECK_STR(problem_type(&r), "PolicyDeny");
    CHECK_CONTAINS(s(&r), "it needs a session");
    bearer[strlen(bearer) - 3] ^= 1; /* a flipped signature bit */
    CHECK_INT(call(port, "GET", "/kbs/v0/resource/repo/key/model", NULL, NULL, bearer, &r), 401);
    CHECK_STR(problem_type(&r), "TokenVerifierError");
    {
        /* a token of /v1/attest, of this service's key but with no tee-pubkey: refused as a
         * token, there is nothing to encrypt to */
        ccz_buf ev = CCZ_BUF_INIT;
        char atok[8192];
        evidence_b64(&ev, m_good, false, NULL, NULL, NULL);
        CHECK_INT(attest(port, s(&ev), NULL, NULL, NULL, &r), 200);
        token_of(&r, atok, sizeof atok);
        CHECK_INT(call(port, "GET", "/kbs/v0/resource/repo/key/model", NULL, NULL, atok, &r), 401);
        CHECK_STR(problem_type(&r), "TokenVerifierError");
        ccz_buf_free(&ev);
    }
    CHECK_INT(call(port, "DELETE", "/kbs/v0/resource/repo/key/model", NULL, NULL, admin, &r), 204);
    CHECK_INT(call(port, "DELETE", "/kbs/v0/resource/repo/key/model", NULL, NULL, admin, &r), 404);

    stop(svc, cfg);

    /* a token past its exp is refused as a bearer (a replay after its lifetime). Its exp is
     * whole seconds after iat, so a lifetime of 1 s can end a few milliseconds after issue:
     * 4 s leave it at least three whole seconds for the first use on a busy machine */
    svc = start(&cfg, "token-ttl", "4");
    port = ccz_svc_port(svc);
    CHECK_INT(call(port, "POST", "/kbs/v0/resource/repo/key/model", "application/octet-stream",
                   "model-key-bytes", admin, &r),
              201);
    kbs_auth(port, nonce, sizeof nonce);
    /* additional evidence of "{}" is none: bound in the report data as sent, it attests */
    att = kbs_attestation_as(tee, nonce, m_good, false, "evidence", "{}");
    CHECK_INT(call(port, "POST", "/kbs/v0/attest", "application/json", att, NULL, &r), 200);
    token_of(&r, tok, sizeof tok);
    char session[sizeof cookie];
    snprintf(session, sizeof session, "%s", cookie);
    cookie[0] = 0;
    snprintf(bearer, sizeof bearer, "%s", tok);
    CHECK_INT(call(port, "GET", "/kbs/v0/resource/repo/key/model", NULL, NULL, bearer, &r), 200);
    sleep(5);
    CHECK_INT(call(port, "GET", "/kbs/v0/resource/repo/key/model", NULL, NULL, bearer, &r), 401);
    CHECK_STR(problem_type(&r), "TokenVerifierError");
    CHECK_CONTAINS(s(&r), "expired");
    /* the session (300 s) outlives its token (4 s): attesting on it again verifies the
     * evidence afresh and gives a new token, not the expired one */
    snprintf(cookie, sizeof cookie, "%s", session);
    CHECK_INT(call(port, "POST", "/kbs/v0/attest", "application/json", att, NULL, &r), 200);
    free(att);
    char fresh[8192];
    token_of(&r, fresh, sizeof fresh);
    CHECK(strcmp(fresh, tok) != 0);
    cookie[0] = 0;
    snprintf(bearer, sizeof bearer, "%s", fresh);
    CHECK_INT(call(port, "GET", "/kbs/v0/resource/repo/key/model", NULL, NULL, bearer, &r), 200);
    CHECK_INT(call(port, "GET", "/metrics", NULL, NULL, NULL, &r), 200);
    CHECK_CONTAINS(s(&r), "\nccz_kbs_attestations_total 2\n"); /* this instance's two */
    CHECK_CONTAINS(s(&r), "\nccz_kbs_resources_total 2\n");
    EVP_PKEY_free(other);
    EVP_PKEY_free(tee);
    ccz_buf_free(&r);
    ccz_buf_free(&plain);
    stop(svc, cfg);
}

/* A KBS problem in Trustee's form: exactly {"type": Trustee's URL of the type, "detail"}. */
static void check_problem(const ccz_buf *resp, const char *type, const char *detail)
{
    char want[160];
    snprintf(want, sizeof want, "https://github.com/confidential-containers/kbs/errors/%s", type);
    json_t *j = json_loads(s(resp), 0, NULL);
    CHECK(json_is_object(j));
    CHECK_INT(json_object_size(j), 2);
    CHECK_STR(json_string_value(json_object_get(j, "type")) ?: "", want);
    CHECK_CONTAINS(json_string_value(json_object_get(j, "detail")) ?: "", detail);
    json_decref(j);
}

/* The service does not start with a value its options refuse. */
static void start_refused(const char *name, const char *value, const char *error)
{
    ccz_svc_config *cfg;
    CHECK_OK(ccz_svc_config_new(&cfg, "attestation"));
    CHECK_OK(ccz_svc_config_set(cfg, "listen", "127.0.0.1:0"));
    CHECK_OK(ccz_svc_config_set(cfg, "data-dir", data));
    CHECK_OK(ccz_svc_config_set(cfg, "sim-dir", plat));
    CHECK_OK(ccz_svc_config_set(cfg, name, value));
    ccz_svc *svc = NULL;
    CHECK_STATUS(ccz_svc_start(&svc, cfg, false), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), error);
    CHECK(svc == NULL);
    ccz_svc_config_free(cfg);
}

/* The KBS's edges: the admin token on its admin endpoints, refused as Trustee refuses it;
 * resource paths that are not REPOSITORY/TYPE/TAG; malformed auth and attest requests and
 * cookies; a second attest on an attested session; a resource policy taken away; sessions,
 * authed or attested, that end --kbs-session-ttl after they began; options refused. */
static void test_kbs_edges(void)
{
    setup();
    start_refused("kbs-session-ttl", "0", "--kbs-session-ttl must be at least a second");
    start_refused("token-ttl", "0", "--token-ttl and --nonce-ttl must be at least a second");
    start_refused("nonce-ttl", "0", "--token-ttl and --nonce-ttl must be at least a second");
    start_refused("token-alg", "ES512", "--token-alg: 'ES512' is not ES256 or ES384");
    start_refused("tls-cert", "/nonexistent/cert.pem", "--tls-cert and --tls-key go together");

    ccz_svc_config *cfg;
    ccz_svc *svc = start(&cfg, NULL, NULL);
    int port = ccz_svc_port(svc);
    ccz_buf r = CCZ_BUF_INIT, plain;
    ccz_buf_init(&plain, 0, true);
    char nonce[64], tok[8192], attested[128], authed[128], other[160];
    EVP_PKEY *tee = EVP_EC_gen("P-256");
    cookie[0] = 0;

    /* the admin endpoints: no token, another scheme, a wrong token */
    CHECK_INT(call(port, "POST", "/kbs/v0/resource/edge/key/model", "application/octet-stream",
                   "bytes", NULL, &r),
              401);
    check_problem(&r, "AdminAuth", "needs the admin token");
    CHECK_INT(call(port, "PUT", "/kbs/v0/resource-policy/edge/key/model", "application/json", "{}",
                   "0000000000000000000000000000000000000000000000000000000000000000", &r),
              401);
    check_problem(&r, "AdminAuth", "the admin token is not right");
    {
        /* "Basic ..." is not a bearer token: sent as the whole header */
        CURL *c = curl_easy_init();
        char url[128];
        snprintf(url, sizeof url, "https://127.0.0.1:%d/kbs/v0/resource/edge/key/model", port);
        struct curl_slist *h = curl_slist_append(NULL, "Authorization: Basic YWRtaW46YWRtaW4=");
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_CAINFO, ca);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "DELETE");
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
        ccz_buf_reset(&r);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
        long status = 0;
        CHECK_INT(curl_easy_perform(c), CURLE_OK);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        CHECK_INT(status, 401);
        CHECK_OK(ccz_buf_append_u8(&r, 0));
        r.len--;
        check_problem(&r, "AdminAuth", "needs the admin token");
        curl_slist_free_all(h);
        curl_easy_cleanup(c);
    }
    CHECK_INT(call(port, "POST", "/kbs/v0/resource/edge/key/model", "application/octet-stream",
                   "model-key-bytes", admin, &r),
              201);

    /* paths: each segment of A-Z a-z 0-9 . _ - but not "." or "..", three of them, 255 bytes */
    static const char *const bad_paths[] = {
        "repo/key/%2e%2e",  "repo//model",    "repo/./model",    "repo/key/.",
        "repo/key/..",      "../key/model",   "repo/key/",       "/repo/key",
        "edge/key/model/x", "repo/key/mo$el", "repo/key/mo%00el"};
    char path[400];
    for (size_t i = 0; i < sizeof bad_paths / sizeof *bad_paths; i++) {
        snprintf(path, sizeof path, "/kbs/v0/resource/%s", bad_paths[i]);
        CHECK_INT(call(port, "POST", path, "application/octet-stream", "bytes", admin, &r), 404);
        check_problem(&r, "InvalidRequestPath", "a resource is REPOSITORY/TYPE/TAG");
    }
    char tag[300];
    memset(tag, 'c', sizeof tag);
    snprintf(path, sizeof path, "/kbs/v0/resource/a/b/%.*s", 251, tag); /* 255 bytes in all */
    CHECK_INT(call(port, "POST", path, "application/octet-stream", "bytes", admin, &r), 201);
    snprintf(path, sizeof path, "/kbs/v0/resource/a/b/%.*s", 252, tag);
    CHECK_INT(call(port, "POST", path, "application/octet-stream", "bytes", admin, &r), 404);
    CHECK_INT(call(port, "POST", "/kbs/v0/resource/re.po/k_e-y/...", "application/octet-stream",
                   "bytes", admin, &r),
              201);

    /* auth: a request without the version or the TEE */
    CHECK_INT(
        call(port, "POST", "/kbs/v0/auth", "application/json", "{\"version\":\"0.4.0\"}", NULL, &r),
        400);
    check_problem(&r, "SerdeError", "\"version\" and \"tee\" strings");
    CHECK(cookie[0] == 0); /* and no session */
    /* a body that is not JSON, not an object or not JSON-typed: a problem too, as the KBS's */
    CHECK_INT(call(port, "POST", "/kbs/v0/auth", "application/json", "{\"version\"", NULL, &r),
              400);
    check_problem(&r, "SerdeError", "the body is not JSON: ");
    CHECK_INT(call(port, "POST", "/kbs/v0/auth", "application/json", "[1]", NULL, &r), 400);
    check_problem(&r, "SerdeError", "the body must be a JSON object");
    CHECK_INT(call(port, "POST", "/kbs/v0/auth", "text/plain", "{}", NULL, &r), 415);
    check_problem(&r, "SerdeError", "the body must be application/json");
    CHECK_INT(call(port, "POST", "/kbs/v0/auth", "application/js", "{}", NULL, &r), 415);
    check_problem(&r, "SerdeError", "the body must be application/json");

    /* cookies: malformed ids are no session; a well-formed unknown one is an unknown session */
    char *att = kbs_attestation(tee, "x", m_good, false);
    snprintf(cookie, sizeof cookie, "kbs-session-id=%s",
             "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.");
    CHECK_INT(call(port, "POST", "/kbs/v0/attest", "application/json", att, NULL, &r), 401);
    check_problem(&r, "AttestationError", "no kbs-session-id cookie");
    snprintf(cookie, sizeof cookie, "kbs-session-id=%s",
             "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    CHECK_INT(call(port, "POST", "/kbs/v0/attest", "application/json", att, NULL, &r), 401);
    check_problem(&r, "AttestationError", "no kbs-session-id cookie");
    snprintf(cookie, sizeof cookie, "kbs-session-id=%s",
             "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    CHECK_INT(call(port, "POST", "/kbs/v0/attest", "application/json", att, NULL, &r), 401);
    check_problem(&r, "AttestationError", "the session is unknown or expired");
    free(att);

    /* attest: an Attestation without a key, with a key no JWE is made for, without evidence;
     * the session's cookie after another one */
    kbs_auth(port, nonce, sizeof nonce);
    /* the session's id with a byte more, or under a name that only starts as the cookie's:
     * no session */
    {
        char valid[sizeof cookie];
        snprintf(valid, sizeof valid, "%s", cookie);
        const char *at = strstr(valid, "kbs-session-id=");
        CHECK(at != NULL);
        char *a2 = kbs_attestation(tee, nonce, m_good, false);
        snprintf(cookie, sizeof cookie, "kbs-session-id=%.43sA", at ? at + 15 : "");
        CHECK_INT(call(port, "POST", "/kbs/v0/attest", "application/json", a2, NULL, &r), 401);
        check_problem(&r, "AttestationError", "no kbs-session-id cookie");
        snprintf(cookie, sizeof cookie, "kbs-session-id:%.43s", at ? at + 15 : "");
        CHECK_INT(call(port, "POST", "/kbs/v0/attest", "application/json", a2, NULL, &r), 401);
        check_problem(&r, "AttestationError", "no kbs-session-id cookie");
        free(a2);
        snprintf(cookie, sizeof cookie, "%s", valid);
    }
    snprintf(other, sizeof other, "theme=dark; %s", cookie);
    snprintf(cookie, sizeof cookie, "%.100s", other);
    char body[512];
    snprintf(body, sizeof body,
             "{\"runtime-data\":{\"nonce\":\"%s\"},\"tee-evidence\":{\"primary_evidence\":{}}}",
             nonce);
    CHECK_INT(call(port, "POST", "/kbs/v0/attest", "application/json", body, NULL, &r), 400);
    check_problem(&r, "SerdeError", "an Attestation has runtime-data {nonce, tee-pubkey}");
    snprintf(body, sizeof body,
             "{\"runtime-data\":{\"nonce\":\"%s\",\"tee-pubkey\":{\"kty\":\"oct\",\"k\":\"AAAA\"}},"
             "\"tee-evidence\":{\"primary_evidence\":{}}}",
             nonce);
    CHECK_INT(call(port, "POST", "/kbs/v0/attest", "application/json", body, NULL, &r), 400);
    check_problem(&r, "SerdeError", "tee-pubkey: ");
    att = kbs_attestation_as(tee, nonce, m_good, false, "quote", "");
    CHECK_INT(call(port, "POST", "/kbs/v0/attest", "application/json", att, NULL, &r), 400);
    check_problem(&r, "SerdeError", "primary_evidence of sim: evidence (base64) is missing");
    free(att);
    /* evidence that is there but empty is missing too */
    att = kbs_attestation(tee, nonce, m_good, false);
    {
        json_t *j = json_loads(att, 0, NULL);
        json_object_set_new(json_object_get(json_object_get(j, "tee-evidence"), "primary_evidence"),
                            "evidence", json_string(""));
        free(att);
        att = json_dumps(j, JSON_COMPACT);
        json_decref(j);
    }
    CHECK_INT(call(port, "POST", "/kbs/v0/attest", "application/json", att, NULL, &r), 400);
    check_problem(&r, "SerdeError", "primary_evidence of sim: evidence (base64) is missing");
    free(att);

    /* the good path, then a second attest on the attested session: the same token again */
    att = kbs_attestation(tee, nonce, m_good, false);
    CHECK_INT(call(port, "POST", "/kbs/v0/attest", "application/json", att, NULL, &r), 200);
    free(att);
    token_of(&r, tok, sizeof tok);
    CHECK(strlen(tok) > 100);
    CHECK_INT(call(port, "POST", "/kbs/v0/attest", "application/json", "{}", NULL, &r), 200);
    char again[8192];
    token_of(&r, again, sizeof again);
    CHECK_STR(again, tok);
    snprintf(attested, sizeof attested, "%s", cookie);

    /* a resource policy that does not parse is not kept */
    CHECK_INT(call(port, "PUT", "/kbs/v0/resource-policy/edge/key/model", "application/json",
                   "{\"allow_everything\": true}", admin, &r),
              400);
    check_problem(&r, "PolicyEngine", "the policy does not parse: ");
    CHECK_INT(call(port, "GET", "/kbs/v0/resource/edge/key/model", NULL, NULL, NULL, &r), 200);
    /* a resource policy given, then taken away */
    char pol[256], hex[65];
    ccz_hex_to_str(hex, m_bad, 32);
    snprintf(pol, sizeof pol, "{\"allow_sim\": true, \"sgx\": [{\"mr_enclave\": \"%s\"}]}", hex);
    CHECK_INT(call(port, "PUT", "/kbs/v0/resource-policy/edge/key/model", "application/json", pol,
                   admin, &r),
              200);
    CHECK_INT(call(port, "GET", "/kbs/v0/resource/edge/key/model", NULL, NULL, NULL, &r), 403);
    check_problem(&r, "PolicyDeny", "the resource's policy denies it");
    CHECK_INT(call(port, "DELETE", "/kbs/v0/resource-policy/edge/key/model", NULL, NULL, admin, &r),
              204);
    CHECK_INT(
        call(port, "DELETE", "/kbs/v0/resource-policy/edge/key/absent", NULL, NULL, admin, &r),
        404);
    check_problem(&r, "InvalidRequestPath", "no resource edge/key/absent");
    CHECK_INT(call(port, "GET", "/kbs/v0/resource/edge/key/model", NULL, NULL, NULL, &r), 200);
    CHECK_OK(jose_jwe_decrypt(&plain, tee, s(&r), r.len));
    CHECK_INT(plain.len, 15);
    CHECK_INT(call(port, "GET", "/kbs/v0/resource/repo/key/%2e%2e", NULL, NULL, NULL, &r), 404);
    check_problem(&r, "InvalidRequestPath", "a resource is REPOSITORY/TYPE/TAG");

    stop(svc, cfg);

    /* sessions end: one attested, one only authed, both past --kbs-session-ttl */
    svc = start(&cfg, "kbs-session-ttl", "2");
    port = ccz_svc_port(svc);
    CHECK_INT(call(port, "POST", "/kbs/v0/resource/edge/key/model", "application/octet-stream",
                   "model-key-bytes", admin, &r),
              200);
    kbs_auth(port, nonce, sizeof nonce);
    /* primary_evidence as a string holding its object, as some clients send it */
    att = primary_evidence_as_string(kbs_attestation(tee, nonce, m_good, false));
    CHECK_CONTAINS(att, "\"primary_evidence\":\"{\\\"evidence\\\":");
    CHECK_INT(call(port, "POST", "/kbs/v0/attest", "application/json", att, NULL, &r), 200);
    free(att);
    snprintf(attested, sizeof attested, "%s", cookie);
    CHECK_INT(call(port, "GET", "/kbs/v0/resource/edge/key/model", NULL, NULL, NULL, &r), 200);
    char authed_nonce[64];
    kbs_auth(port, authed_nonce, sizeof authed_nonce);
    snprintf(authed, sizeof authed, "%s", cookie);
    att = kbs_attestation(tee, authed_nonce, m_good, false);
    sleep(3);
    snprintf(cookie, sizeof cookie, "%s", attested);
    CHECK_INT(call(port, "GET", "/kbs/v0/resource/edge/key/model", NULL, NULL, NULL, &r), 401);
    check_problem(&r, "TokenNotFound", "no attested session");
    snprintf(cookie, sizeof cookie, "%s", authed);
    CHECK_INT(call(port, "POST", "/kbs/v0/attest", "application/json", att, NULL, &r), 401);
    check_problem(&r, "AttestationError", "the session is unknown or expired");
    free(att);

    cookie[0] = 0;
    EVP_PKEY_free(tee);
    ccz_buf_free(&r);
    ccz_buf_free(&plain);
    stop(svc, cfg);
}

/* A resource is at most 512 KiB, so that its JWE fits the 1 MiB a client reads: the largest is
 * stored, served and decrypted whole; one byte more is refused when it is set. */
static void test_kbs_resource_size(void)
{
    ccz_svc_config *cfg;
    ccz_svc *svc = start(&cfg, "max-body", "1048576");
    int port = ccz_svc_port(svc);
    ccz_buf r = CCZ_BUF_INIT, plain;
    ccz_buf_init(&plain, 0, true);
    char *big = malloc((512u << 10) + 2);
    memset(big, 'k', (512u << 10) + 1);
    big[(512u << 10) + 1] = 0;
    CHECK_INT(call(port, "POST", "/kbs/v0/resource/repo/key/big", "application/octet-stream", big,
                   admin, &r),
              413);
    check_problem(&r, "ResourceTooLarge", "a resource of 524289 bytes: at most 524288");
    big[512u << 10] = 0;
    CHECK_INT(call(port, "POST", "/kbs/v0/resource/repo/key/big", "application/octet-stream", big,
                   admin, &r),
              201);
    EVP_PKEY *tee = EVP_EC_gen("P-256");
    char nonce[64];
    kbs_auth(port, nonce, sizeof nonce);
    char *att = kbs_attestation(tee, nonce, m_good, false);
    CHECK_INT(call(port, "POST", "/kbs/v0/attest", "application/json", att, NULL, &r), 200);
    free(att);
    CHECK_INT(call(port, "GET", "/kbs/v0/resource/repo/key/big", NULL, NULL, NULL, &r), 200);
    CHECK(r.len <= JOSE_MAX_INPUT);
    CHECK_OK(jose_jwe_decrypt(&plain, tee, s(&r), r.len));
    CHECK_INT(plain.len, 512u << 10);
    CHECK(memcmp(plain.ptr, big, plain.len) == 0);
    cookie[0] = 0;
    EVP_PKEY_free(tee);
    free(big);
    ccz_buf_free(&plain);
    ccz_buf_free(&r);
    stop(svc, cfg);
}

/* The error's message in a refusal's body. */
static const char *message(const ccz_buf *resp)
{
    static char m[600];
    json_t *j = json_loads(s(resp), 0, NULL);
    snprintf(m, sizeof m, "%s",
             j ? json_string_value(json_object_get(json_object_get(j, "error"), "message")) : "");
    json_decref(j);
    return m;
}

/* POSTs evidence ev (none when NULL) with member name set to value (taken). */
static long attest_with(int port, const char *ev, const char *name, json_t *value, ccz_buf *resp)
{
    json_t *b = ev ? json_pack("{s:s}", "evidence", ev) : json_object();
    json_object_set_new(b, name, value);
    char *text = json_dumps(b, JSON_COMPACT);
    long st = call(port, "POST", "/v1/attest", "application/json", text, NULL, resp);
    free(text);
    json_decref(b);
    return st;
}

/* Requests of the wrong shape, each refused with its message; evidence that does not verify
 * refused with its step and no token; runtime data bound without a nonce (no eat_nonce); the
 * token's kid and alg those of the JWKS's key; a policy that does not parse leaves the one it
 * would replace in place; policy ids at their length limit; the admin endpoints' 401s. */
static void test_attest_requests(void)
{
    setup();
    ccz_svc_config *cfg;
    ccz_svc *svc = start(&cfg, NULL, NULL);
    int port = ccz_svc_port(svc);
    ccz_buf r = CCZ_BUF_INIT, ev = CCZ_BUF_INIT, jwks = CCZ_BUF_INIT;
    evidence_b64(&ev, m_good, false, NULL, "hello", NULL);

    /* the request's shape */
    CHECK_INT(attest_with(port, NULL, "nonce", json_string("x"), &r), 400);
    CHECK_STR(reason(&r), "bad_request");
    CHECK_STR(message(&r), "\"evidence\" (base64) is required");
    CHECK_INT(attest(port, "", NULL, NULL, NULL, &r), 400);
    CHECK_STR(message(&r), "\"evidence\" is not base64");
    CHECK_INT(attest_with(port, s(&ev), "nonce", json_integer(7), &r), 400);
    CHECK_STR(message(&r), "\"nonce\" must be a string from /v1/nonce");
    CHECK_INT(attest_with(port, s(&ev), "runtime_data", json_integer(7), &r), 400);
    CHECK_STR(message(&r), "\"runtime_data\" must be base64");
    CHECK_INT(attest_with(port, s(&ev), "runtime_data", json_string("no base64!"), &r), 400);
    CHECK_STR(message(&r), "\"runtime_data\" must be base64");
    CHECK_INT(attest_with(port, s(&ev), "collateral", json_pack("{s:i}", "vcek", 7), &r), 400);
    CHECK_STR(message(&r),
              "\"collateral\" of SEV-SNP: {\"vcek\": base64 DER or PEM, \"chain\"?: PEM}");
    CHECK_INT(attest_with(port, s(&ev), "collateral", json_pack("{s:i}", "vlek", 7), &r), 400);
    CHECK_STR(message(&r),
              "\"collateral\" of SEV-SNP: {\"vcek\": base64 DER or PEM, \"chain\"?: PEM}");
    /* a chain that is not PEM text is refused, not left out for the built-in one */
    CHECK_INT(attest_with(port, s(&ev), "collateral",
                          json_pack("{s:s,s:i}", "vcek", "AAAA", "chain", 7), &r),
              400);
    CHECK_STR(message(&r),
              "\"collateral\" of SEV-SNP: {\"vcek\": base64 DER or PEM, \"chain\"?: PEM}");
    CHECK_INT(attest_with(port, s(&ev), "collateral", json_integer(7), &r), 400);
    CHECK_STR(message(&r), "\"collateral\" must be an object or a string");
    CHECK_INT(attest_with(port, s(&ev), "policy", json_integer(7), &r), 400);
    CHECK_STR(message(&r), "\"policy\" must be a policy id");
    CHECK_INT(attest_with(port, s(&ev), "policy", json_string("a/b"), &r), 400);
    CHECK_STR(message(&r), "\"policy\" must be a policy id");
    CHECK_INT(attest_with(port, s(&ev), "policy", json_string(""), &r), 400);
    CHECK_STR(message(&r), "\"policy\" must be a policy id");
    char id[80];
    memset(id, 'p', 65);
    id[65] = 0;
    CHECK_INT(attest_with(port, s(&ev), "policy", json_string(id), &r), 400);
    CHECK_STR(message(&r), "\"policy\" must be a policy id");
    id[64] = 0; /* 64 is an id, of no policy */
    CHECK_INT(attest_with(port, s(&ev), "policy", json_string(id), &r), 404);
    CHECK_STR(reason(&r), "policy_not_found");
    CHECK_CONTAINS(message(&r), "no policy 'pppp");

    /* an empty nonce is no nonce the service gave (the store holds no such key): refused as
     * one, not as a failing store */
    CHECK_INT(attest(port, s(&ev), "", NULL, NULL, &r), 401);
    CHECK_STR(reason(&r), "nonce_invalid");
    /* a certificate that is no RA-TLS certificate (the sim platform's root) does not verify */
    {
        char rp[700];
        snprintf(rp, sizeof rp, "%s/root.crt", plat);
        ccz_buf pem = CCZ_BUF_INIT, pem64 = CCZ_BUF_INIT;
        CHECK_OK(ccz_file_read(&pem, rp, 1 << 20));
        CHECK_OK(ccz_base64_encode(&pem64, ccz_buf_span(&pem)));
        CHECK_INT(attest(port, s(&pem64), NULL, NULL, NULL, &r), 401);
        CHECK_STR(reason(&r), "not_found");
        CHECK(strstr(s(&r), "token") == NULL);
        ccz_buf_free(&pem);
        ccz_buf_free(&pem64);
    }
    /* evidence that does not verify: its step and reason, no token */
    CHECK_INT(attest(port, s(&ev), NULL, "aGVsbE8=", NULL, &r), 401);
    CHECK_STR(reason(&r), "report_data_mismatch");
    CHECK_CONTAINS(s(&r), "\"code\":401,\"status\":\"Unauthorized\"");
    CHECK_CONTAINS(message(&r), "the evidence did not verify at ");
    CHECK(strstr(s(&r), "token") == NULL);
    /* runtime data alone binds SHA-512(runtime data): a token without eat_nonce */
    CHECK_INT(attest(port, s(&ev), NULL, "aGVsbG8=", NULL, &r), 200);
    char tok[8192];
    token_of(&r, tok, sizeof tok);
    jwks_of(port, &jwks);
    ccz_json *claims = NULL;
    CHECK_OK(ccz_attestation_token_verify(&claims, tok, s(&jwks), jwks.len, time(NULL)));
    CHECK(json_object_get(claims, "eat_nonce") == NULL);
    CHECK_INT(json_integer_value(json_object_get(claims, "nbf")),
              json_integer_value(json_object_get(claims, "iat")));
    CHECK(llabs((long long)json_integer_value(json_object_get(claims, "iat")) - time(NULL)) <= 5);
    json_t *sm = json_object_get(json_object_get(claims, "submods"), "sim");
    CHECK_STR(json_string_value(json_object_get(sm, "ccz.runtime-data")), "aGVsbG8");
    CHECK_STR(json_string_value(json_object_get(sm, "ear.appraisal-policy-id")), "file");
    ccz_json_free(claims);
    {
        /* the header names the JWKS's one key and its alg */
        ccz_buf h = CCZ_BUF_INIT;
        CHECK_OK(jose_b64url_decode(&h, tok, strcspn(tok, ".")));
        json_t *hdr = json_loadb((const char *)h.ptr, h.len, 0, NULL);
        json_t *set = json_loads(s(&jwks), 0, NULL);
        json_t *keys = json_object_get(set, "keys");
        CHECK_INT(json_array_size(keys), 1);
        json_t *k = json_array_get(keys, 0);
        CHECK_STR(json_string_value(json_object_get(hdr, "alg")), "ES256");
        CHECK_STR(json_string_value(json_object_get(hdr, "kid")),
                  json_string_value(json_object_get(k, "kid")));
        CHECK_STR(json_string_value(json_object_get(k, "crv")), "P-256");
        CHECK_STR(json_string_value(json_object_get(k, "alg")), "ES256");
        CHECK_STR(json_string_value(json_object_get(k, "use")), "sig");
        CHECK(json_object_get(k, "d") == NULL); /* the public key only */
        json_decref(set);
        json_decref(hdr);
        ccz_buf_free(&h);
    }

    /* a policy that does not parse does not replace the one kept */
    char hex[65], pol[256];
    ccz_hex_to_str(hex, m_good, 32);
    snprintf(pol, sizeof pol, "{\"allow_sim\": true, \"sgx\": [{\"mr_enclave\": \"%s\"}]}", hex);
    CHECK_INT(call(port, "PUT", "/v1/policies/keep", "application/json", pol, admin, &r), 201);
    CHECK_INT(call(port, "PUT", "/v1/policies/keep", "application/json", "{\"sgx\": 7}", admin, &r),
              400);
    CHECK_STR(reason(&r), "policy_invalid");
    CHECK_CONTAINS(message(&r), "the policy does not parse: ");
    CHECK_INT(call(port, "GET", "/v1/policies/keep", NULL, NULL, admin, &r), 200);
    CHECK_CONTAINS(s(&r), hex);
    CHECK_INT(attest(port, s(&ev), NULL, "aGVsbG8=", "keep", &r), 200);
    /* ids: 64 characters at most, and no such policy a 404 */
    char path[120];
    snprintf(path, sizeof path, "/v1/policies/%s", id); /* 64 */
    CHECK_INT(call(port, "PUT", path, "application/json", pol, admin, &r), 201);
    CHECK_INT(call(port, "DELETE", path, NULL, NULL, admin, &r), 204);
    CHECK_INT(call(port, "DELETE", path, NULL, NULL, admin, &r), 404);
    CHECK_STR(reason(&r), "policy_not_found");
    snprintf(path, sizeof path, "/v1/policies/%sp", id); /* 65 */
    CHECK_INT(call(port, "PUT", path, "application/json", pol, admin, &r), 400);
    CHECK_STR(message(&r), "a policy id is 1 to 64 of A-Z a-z 0-9 . _ -");
    /* the ids tokens give the service's own policies are no stored policy's: a token's
     * ear.appraisal-policy-id "file" always means --policy */
    static const char *const reserved[] = {"default", "file", "kbs"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "/v1/policies/%s", reserved[i]);
        CHECK_INT(call(port, "PUT", path, "application/json", pol, admin, &r), 400);
        CHECK_STR(reason(&r), "bad_request");
        CHECK_CONTAINS(message(&r), "is reserved");
        CHECK_INT(call(port, "GET", path, NULL, NULL, admin, &r), 404);
    }
    /* nor asked for by name, even when a store an older ccz wrote holds one under it */
    CHECK_INT(attest(port, s(&ev), NULL, "aGVsbG8=", "file", &r), 400);
    CHECK_STR(message(&r),
              "the policy id 'file' is reserved: leave \"policy\" out for the service's own");
    /* the admin endpoints' 401s ask for the bearer token */
    CHECK_INT(call(port, "GET", "/v1/policies", NULL, NULL, NULL, &r), 401);
    CHECK_STR(reason(&r), "unauthorized");
    CHECK_STR(message(&r), "this endpoint needs the admin token as 'Authorization: Bearer TOKEN'");
    CHECK_STR(www_auth, "Bearer realm=\"ccz admin\"");
    char wrong[128];
    snprintf(wrong, sizeof wrong, "%s", admin);
    wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
    CHECK_INT(call(port, "GET", "/v1/policies/keep", NULL, NULL, wrong, &r), 401);
    CHECK_STR(message(&r), "the admin token is not right");
    CHECK_INT(call(port, "DELETE", "/v1/policies/keep", NULL, NULL, wrong, &r), 401);
    CHECK_INT(call(port, "GET", "/v1/policies/keep", NULL, NULL, admin, &r), 200);
    stop(svc, cfg);

    /* a stored policy that no longer parses (edited in the database) is the service's failure,
     * not "no policy" */
    CHECK_INT(edit_db("UPDATE policies SET doc = ? WHERE id = ?",
                      STORE_PARAMS(STORE_TEXT("{\"sgx\": 7}"), STORE_TEXT("keep"))),
              1);
    svc = start(&cfg, NULL, NULL);
    port = ccz_svc_port(svc);
    CHECK_INT(attest(port, s(&ev), NULL, "aGVsbG8=", "keep", &r), 500);
    CHECK_STR(reason(&r), "internal");
    CHECK_CONTAINS(message(&r), "the stored policy 'keep' cannot be used: ");
    CHECK(strstr(s(&r), "token") == NULL);
    ccz_buf_free(&r);
    ccz_buf_free(&ev);
    ccz_buf_free(&jwks);
    stop(svc, cfg);

    /* options the service refuses */
    start_refused("peer-quota", "0", "--peer-quota must be at least 1");

    /* a signing key file that is not a key, or not of the alg's curve: no start */
    char dir[700], key[800];
    snprintf(dir, sizeof dir, "%s/data-badkey", test_tmpdir());
    snprintf(key, sizeof key, "%s/signing-key-es256.pem", dir);
    CHECK_INT(mkdir(dir, 0700), 0);
    for (int i = 0; i < 2; i++) {
        FILE *f = fopen(key, "w");
        CHECK(f != NULL);
        if (i == 0) {
            fputs("not a key\n", f);
        } else {
            EVP_PKEY *p384 = EVP_EC_gen("P-384");
            CHECK(PEM_write_PrivateKey(f, p384, NULL, NULL, 0, NULL, NULL) == 1);
            EVP_PKEY_free(p384);
        }
        fclose(f);
        CHECK_INT(chmod(key, 0600), 0);
        CHECK_OK(ccz_svc_config_new(&cfg, "attestation"));
        CHECK_OK(ccz_svc_config_set(cfg, "listen", "127.0.0.1:0"));
        CHECK_OK(ccz_svc_config_set(cfg, "data-dir", dir));
        CHECK_OK(ccz_svc_config_set(cfg, "sim-dir", plat));
        svc = NULL;
        CHECK_STATUS(ccz_svc_start(&svc, cfg, false), CCZ_ERR_KEY_MALFORMED);
        CHECK_CONTAINS(ccz_error_detail(), i == 0 ? "signing-key-es256.pem: not a PEM private key"
                                                  : "signing-key-es256.pem is not a P-256 key");
        CHECK(svc == NULL);
        ccz_svc_config_free(cfg);
    }
}

/* One address's flood of nonces and KBS sessions (each a row the store keeps for its TTL) is
 * refused past --peer-quota, 429 with Retry-After, while another address is served. */
static void test_peer_quota(void)
{
    ccz_svc_config *cfg;
    ccz_svc *svc = start(&cfg, "peer-quota", "3");
    int port = ccz_svc_port(svc);
    ccz_buf r = CCZ_BUF_INIT;
    static const char auth[] = "{\"version\":\"0.4.0\",\"tee\":\"sim\",\"extra-params\":{}}";
    source_ip = "127.0.0.2"; /* the flood */
    for (int i = 0; i < 3; i++) {
        CHECK_INT(call(port, "GET", "/v1/nonce", NULL, NULL, NULL, &r), 200);
        cookie[0] = 0;
        CHECK_INT(call(port, "POST", "/kbs/v0/auth", "application/json", auth, NULL, &r), 200);
    }
    CHECK_INT(call(port, "GET", "/v1/nonce", NULL, NULL, NULL, &r), 429);
    CHECK_CONTAINS(
        s(&r), "\"code\":429,\"status\":\"Too Many Requests\",\"reason\":\"too_many_requests\"");
    CHECK_CONTAINS(s(&r), "this address has started 3 nonces within --nonce-ttl (--peer-quota): "
                          "use them, or try again in ");
    CHECK(atoi(retry_after) >= 299 && atoi(retry_after) <= 300);
    CHECK_INT(n_retry_after, 1); /* the service's own, not the server's default beside it */
    cookie[0] = 0;
    CHECK_INT(call(port, "POST", "/kbs/v0/auth", "application/json", auth, NULL, &r), 429);
    CHECK_CONTAINS(s(&r), "/errors/TooManyRequests\"");
    CHECK_CONTAINS(s(&r), "this address has started 3 sessions within --kbs-session-ttl");
    CHECK(cookie[0] == 0);
    /* each refusal is counted once */
    CHECK_INT(call(port, "GET", "/metrics", NULL, NULL, NULL, &r), 200);
    CHECK_CONTAINS(s(&r), "\nccz_attestation_refusals_total 2\n");
    source_ip = NULL; /* another address: its own quota */
    CHECK_INT(call(port, "GET", "/v1/nonce", NULL, NULL, NULL, &r), 200);
    CHECK_INT(call(port, "POST", "/kbs/v0/auth", "application/json", auth, NULL, &r), 200);
    CHECK_CONTAINS(cookie, "kbs-session-id=");
    cookie[0] = 0;
    ccz_buf_free(&r);
    stop(svc, cfg);
}

/* A KBS session record that no longer parses (edited in the database) is the service's failure,
 * 500, not a session that is "unknown or expired" or a client without one. */
static void test_kbs_session_unreadable(void)
{
    setup();
    ccz_svc_config *cfg;
    ccz_svc *svc = start(&cfg, NULL, NULL);
    int port = ccz_svc_port(svc);
    ccz_buf r = CCZ_BUF_INIT;
    char nonce[64];
    cookie[0] = 0;
    kbs_auth(port, nonce, sizeof nonce);
    CHECK_CONTAINS(cookie, "kbs-session-id=");
    stop(svc, cfg);
    CHECK(edit_db("UPDATE store_kv SET value = ? WHERE ns = ?",
                  STORE_PARAMS(STORE_BLOB("{\"tee\"", 7), STORE_TEXT("kbs-session"))) >= 1);
    svc = start(&cfg, NULL, NULL);
    port = ccz_svc_port(svc);
    CHECK_INT(call(port, "POST", "/kbs/v0/attest", "application/json", "{}", NULL, &r), 500);
    CHECK_STR(message(&r), "cannot read the session: a session record does not parse");
    CHECK_INT(call(port, "GET", "/kbs/v0/resource/edge/key/model", NULL, NULL, NULL, &r), 500);
    CHECK_STR(message(&r), "cannot read the session: a session record does not parse");
    cookie[0] = 0;
    ccz_buf_free(&r);
    stop(svc, cfg);
}

TEST_MAIN(T(test_service), T(test_kbs), T(test_kbs_edges), T(test_kbs_resource_size),
          T(test_kbs_session_unreadable), T(test_peer_quota), T(test_attest_requests))
