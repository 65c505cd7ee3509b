// SPDX-License-Identifier: Apache-2.0
/* The attestation service with recorded real evidence (verified at the instant the vectors were
 * recorded, --verify-at-insecure): an SGX quote with the service's cached Intel collateral, the same
 * quote with the collateral in the request, and an SEV-SNP report with its VCEK in the request
 * each give a token whose submodule is the TEE's and whose annotated evidence carries its
 * measurement; a flipped byte of the quote is refused with the verifier's status. */
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "ccz/ccz.h"
#include "test.h"
#include "vectors.h"

static char data[600], policy_path[600], ca[700], coll_path[700];

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    ccz_buf *b = arg;
    return ccz_buf_append(b, p, size * n) == CCZ_OK ? size * n : 0;
}

static long post(int port, const char *path, const char *body, ccz_buf *resp)
{
    CURL *c = curl_easy_init();
    char url[128];
    snprintf(url, sizeof url, "https://127.0.0.1:%d%s", port, path);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    ccz_buf_reset(resp);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO, ca);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (ccz_buf_append_u8(resp, 0) == CCZ_OK)
        resp->len--;
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return status;
}

static ccz_svc *start(ccz_svc_config **cfg, const char *at, const char *collateral)
{
    CHECK_OK(ccz_svc_config_new(cfg, "attestation"));
    CHECK_OK(ccz_svc_config_set(*cfg, "listen", "127.0.0.1:0"));
    CHECK_OK(ccz_svc_config_set(*cfg, "data-dir", data));
    CHECK_OK(ccz_svc_config_set(*cfg, "policy", policy_path));
    CHECK_OK(ccz_svc_config_set(*cfg, "verify-at-insecure", at));
    if (collateral)
        CHECK_OK(ccz_svc_config_set(*cfg, "collateral", collateral));
    ccz_svc *s = NULL;
    CHECK_OK(ccz_svc_start(&s, *cfg, false));
    return s;
}

static void stop(ccz_svc *s, ccz_svc_config *cfg)
{
    ccz_svc_stop(s, 1000);
    CHECK_OK(ccz_svc_wait(s));
    ccz_svc_free(s);
    ccz_svc_config_free(cfg);
}

/* The token's submodule for tee, from a 200 answer (NULL otherwise). */
static json_t *submod(const ccz_buf *resp, const char *tee)
{
    json_t *j = json_loads((const char *)resp->ptr, 0, NULL);
    const char *tok = json_string_value(json_object_get(j, "token"));
    json_t *out = NULL;
    if (tok) {
        const char *dot = strchr(tok, '.'), *dot2 = dot ? strchr(dot + 1, '.') : NULL;
        ccz_buf b64 = CCZ_BUF_INIT, raw = CCZ_BUF_INIT;
        /* base64url to base64 (the signature is checked by the other tests) */
        for (const char *p = dot ? dot + 1 : ""; dot2 && p < dot2; p++)
            CHECK_OK(ccz_buf_append_u8(&b64, *p == '-' ? '+' : *p == '_' ? '/' : (uint8_t)*p));
        while (b64.len % 4)
            CHECK_OK(ccz_buf_append_u8(&b64, '='));
        if (ccz_base64_decode(&raw, (const char *)b64.ptr, b64.len) == CCZ_OK) {
            json_t *claims = json_loadb((const char *)raw.ptr, raw.len, 0, NULL);
            out = json_incref(json_object_get(json_object_get(claims, "submods"), tee));
            json_decref(claims);
        }
        ccz_buf_free(&b64);
        ccz_buf_free(&raw);
    }
    json_decref(j);
    return out;
}

static void test_real_evidence(void)
{
    vectors_require();
    snprintf(data, sizeof data, "%s/data", test_tmpdir());
    snprintf(policy_path, sizeof policy_path, "%s/policy.json", test_tmpdir());
    snprintf(ca, sizeof ca, "%s/tls-cert.pem", data);
    snprintf(coll_path, sizeof coll_path,
             "%s/Phala-Network_dcap-qvl/sample/sgx_quote_collateral.json", vectors_dir());
    static const char pol[] =
        "{\"allow_debug\": true, \"accepted_tcb_statuses\": [\"UpToDate\", \"SWHardeningNeeded\", "
        "\"ConfigurationNeeded\", \"ConfigurationAndSWHardeningNeeded\", \"OutOfDate\", "
        "\"OutOfDateConfigurationNeeded\"]}";
    CHECK_OK(ccz_file_write(policy_path, CCZ_SPAN(pol, strlen(pol)), 0644));
    curl_global_init(CURL_GLOBAL_DEFAULT);
    ccz_buf quote = CCZ_BUF_INIT, coll = CCZ_BUF_INIT, b64 = CCZ_BUF_INIT, resp = CCZ_BUF_INIT;
    CHECK_OK(vectors_read(&quote, "Phala-Network_dcap-qvl/sample/sgx_quote", false));
    CHECK_OK(vectors_read(&coll, "Phala-Network_dcap-qvl/sample/sgx_quote_collateral.json", false));
    CHECK_OK(ccz_base64_encode(&b64, ccz_buf_span(&quote)));

    /* SGX: the collateral cached by the service, then in the request */
    ccz_svc_config *cfg;
    ccz_svc *s = start(&cfg, "1752919277", coll_path);
    int port = ccz_svc_port(s);
    json_t *body = json_pack("{s:s}", "evidence", (const char *)b64.ptr);
    char *text = json_dumps(body, JSON_COMPACT);
    CHECK_INT(post(port, "/v1/attest", text, &resp), 200);
    json_t *sm = submod(&resp, "sgx");
    CHECK(sm != NULL);
    json_t *ae = json_object_get(sm, "ear.veraison.annotated-evidence");
    CHECK_INT(strlen(json_string_value(json_object_get(ae, "mr_enclave")) ?: ""), 64);
    CHECK(json_is_false(json_object_get(sm, "ccz.simulated")));
    /* the quote's TCB is ConfigurationAndSWHardeningNeeded, which the policy accepts: the
     * hardware claim is a warning (32), not affirming */
    CHECK_STR(json_string_value(json_object_get(ae, "tcb_status")),
              "ConfigurationAndSWHardeningNeeded");
    CHECK_INT(json_integer_value(
                  json_object_get(json_object_get(sm, "ear.trustworthiness-vector"), "hardware")),
              32);
    CHECK_STR(json_string_value(json_object_get(sm, "ear.status")), "warning");
    json_decref(sm);
    free(text);
    /* a flipped byte in the quote's body: the verifier's status */
    quote.ptr[100] ^= 1;
    ccz_buf_reset(&b64);
    CHECK_OK(ccz_base64_encode(&b64, ccz_buf_span(&quote)));
    quote.ptr[100] ^= 1;
    json_object_set_new(body, "evidence", json_string((const char *)b64.ptr));
    text = json_dumps(body, JSON_COMPACT);
    CHECK_INT(post(port, "/v1/attest", text, &resp), 401);
    CHECK_CONTAINS((const char *)resp.ptr, "signature_invalid");
    free(text);
    stop(s, cfg);

    s = start(&cfg, "1752919277", NULL);
    port = ccz_svc_port(s);
    ccz_buf_reset(&b64);
    CHECK_OK(ccz_base64_encode(&b64, ccz_buf_span(&quote)));
    json_decref(body);
    json_t *cj = json_loadb((const char *)coll.ptr, coll.len, 0, NULL);
    body = json_pack("{s:s,s:o}", "evidence", (const char *)b64.ptr, "collateral", cj);
    text = json_dumps(body, JSON_COMPACT);
    CHECK_INT(post(port, "/v1/attest", text, &resp), 200);
    sm = submod(&resp, "sgx");
    CHECK(sm != NULL);
    json_decref(sm);
    free(text);
    json_decref(body);
    /* without collateral: refused, naming it */
    body = json_pack("{s:s}", "evidence", (const char *)b64.ptr);
    text = json_dumps(body, JSON_COMPACT);
    CHECK_INT(post(port, "/v1/attest", text, &resp), 401);
    CHECK_CONTAINS((const char *)resp.ptr, "collateral");
    free(text);
    json_decref(body);
    stop(s, cfg);

    /* SEV-SNP: the report, its VCEK in the request */
    ccz_buf rep = CCZ_BUF_INIT, vek = CCZ_BUF_INIT, vb64 = CCZ_BUF_INIT;
    CHECK_OK(vectors_read(&rep, "google_go-sev-guest/verify/testdata/attestation.bin", false));
    CHECK_OK(vectors_read(&vek, "google_go-sev-guest/verify/testdata/vcek.testcer", false));
    ccz_buf_reset(&b64);
    CHECK_OK(ccz_base64_encode(&b64, ccz_buf_span(&rep)));
    CHECK_OK(ccz_base64_encode(&vb64, ccz_buf_span(&vek)));
    s = start(&cfg, "1767225600", NULL);
    port = ccz_svc_port(s);
    body = json_pack("{s:s,s:{s:s}}", "evidence", (const char *)b64.ptr, "collateral", "vcek",
                     (const char *)vb64.ptr);
    text = json_dumps(body, JSON_COMPACT);
    CHECK_INT(post(port, "/v1/attest", text, &resp), 200);
    sm = submod(&resp, "snp");
    CHECK(sm != NULL);
    ae = json_object_get(sm, "ear.veraison.annotated-evidence");
    CHECK_STR(json_string_value(json_object_get(ae, "product")), "Milan");
    CHECK_STR(json_string_value(json_object_get(sm, "ear.status")), "warning"); /* debug */
    /* SNP reports no TCB status: the hardware claim affirms (2); the debug policy bit makes the
     * configuration claim a warning (32), and so the status */
    json_t *tv = json_object_get(sm, "ear.trustworthiness-vector");
    CHECK_INT(json_integer_value(json_object_get(tv, "hardware")), 2);
    CHECK_INT(json_integer_value(json_object_get(tv, "configuration")), 32);
    json_decref(sm);
    free(text);
    json_decref(body);
    /* without the VCEK: refused */
    body = json_pack("{s:s}", "evidence", (const char *)b64.ptr);
    text = json_dumps(body, JSON_COMPACT);
    long st = post(port, "/v1/attest", text, &resp);
    CHECK(st == 401 || st == 400);
    free(text);
    json_decref(body);
    stop(s, cfg);

    ccz_buf_free(&rep);
    ccz_buf_free(&vek);
    ccz_buf_free(&vb64);
    ccz_buf_free(&quote);
    ccz_buf_free(&coll);
    ccz_buf_free(&b64);
    ccz_buf_free(&resp);
    curl_global_cleanup();
}

TEST_MAIN(T(test_real_evidence))
