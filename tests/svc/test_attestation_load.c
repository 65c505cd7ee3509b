/* SPDX-License-Identifier: Apache-2.0 */
/* Load on the attestation service (loopback, bounded; CTest label long): 1,000 clients in
 * sequence, each its own TLS connection taking a nonce and attesting with fresh sim evidence,
 * then 200 concurrent keep-alive connections doing five requests each (one address: its quota
 * of nonces is raised for them). Nothing that should pass is refused, and the process's resident memory after a second round is within 16 MiB of what
 * it was after the first (checked outside ASan, whose quarantine holds freed memory). */
#include <curl/curl.h>
#include <jansson.h>
#include <stdint.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ccz/ccz.h"
#include "test.h"

static char plat[600], data[600], policy_path[600], ca[700];
static ccz_attester *attester;

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    ccz_buf *b = arg;
    return ccz_buf_append(b, p, size * n) == CCZ_OK ? size * n : 0;
}

static void setup_handle(CURL *c, int port, const char *path, ccz_buf *resp)
{
    char url[128];
    snprintf(url, sizeof url, "https://127.0.0.1:%d%s", port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO, ca);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
}

/* One client: a nonce, then an attestation bound to it; true when a token came back. */
static bool one_client(int port)
{
    CURL *c = curl_easy_init();
    ccz_buf r = CCZ_BUF_INIT, ev = CCZ_BUF_INIT, b64 = CCZ_BUF_INIT;
    long status = 0;
    bool ok = false;
    setup_handle(c, port, "/v1/nonce", &r);
    if (curl_easy_perform(c) != CURLE_OK)
        goto out;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    json_t *j = json_loadb((const char *)r.ptr, r.len, 0, NULL);
    const char *nonce = json_string_value(json_object_get(j, "nonce"));
    uint8_t rd[64];
    unsigned n;
    if (status != 200 || !nonce || !EVP_Digest(nonce, strlen(nonce), rd, &n, EVP_sha512(), NULL) ||
        ccz_attest(&ev, attester, rd) != CCZ_OK ||
        ccz_base64_encode(&b64, ccz_buf_span(&ev)) != CCZ_OK) {
        json_decref(j);
        goto out;
    }
    json_t *body = json_pack("{s:s,s:s}", "evidence", (const char *)b64.ptr, "nonce", nonce);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    json_decref(j);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    ccz_buf_reset(&r);
    setup_handle(c, port, "/v1/attest", &r);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
    status = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    ok = status == 200 && r.len && strstr((const char *)r.ptr, "\"token\"");
    curl_slist_free_all(h);
    free(text);
out:
    curl_easy_cleanup(c);
    ccz_buf_free(&r);
    ccz_buf_free(&ev);
    ccz_buf_free(&b64);
    return ok;
}

/* 200 keep-alive connections at once (curl multi, one connection per handle), five requests
 * each; returns how many of the 1,000 requests got 200. */
static int concurrent(int port)
{
    enum { N = 200, ROUNDS = 5 };
    CURLM *m = curl_multi_init();
    CURL *h[N];
    ccz_buf r[N];
    int round[N], ok = 0;
    curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)N);
    for (int i = 0; i < N; i++) {
        h[i] = curl_easy_init();
        r[i] = (ccz_buf)CCZ_BUF_INIT;
        round[i] = 0;
        setup_handle(h[i], port, "/v1/nonce", &r[i]);
        curl_easy_setopt(h[i], CURLOPT_PRIVATE, (void *)(intptr_t)i);
        curl_multi_add_handle(m, h[i]);
    }
    int running = N;
    while (running) {
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            void *priv;
            long status = 0;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
            int i = (int)(intptr_t)priv;
            if (msg->data.result == CURLE_OK)
                curl_easy_getinfo(h[i], CURLINFO_RESPONSE_CODE, &status);
            ok += status == 200;
            curl_multi_remove_handle(m, h[i]);
            if (++round[i] < ROUNDS) { /* the same handle: its kept-alive connection */
                ccz_buf_reset(&r[i]);
                curl_multi_add_handle(m, h[i]);
                running++;
            }
        }
        if (running)
            curl_multi_poll(m, NULL, 0, 100, NULL);
    }
    for (int i = 0; i < N; i++) {
        curl_easy_cleanup(h[i]);
        ccz_buf_free(&r[i]);
    }
    curl_multi_cleanup(m);
    return ok;
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib;
}

static void test_load(void)
{
    snprintf(plat, sizeof plat, "%s/plat", test_tmpdir());
    snprintf(data, sizeof data, "%s/data", test_tmpdir());
    snprintf(policy_path, sizeof policy_path, "%s/policy.json", test_tmpdir());
    snprintf(ca, sizeof ca, "%s/tls-cert.pem", data);
    CHECK_OK(ccz_sim_platform_init(plat, false));
    static const uint8_t m[32] = {0x10, 0xad};
    static const char pol[] =
        "{\"allow_sim\": true, \"sgx\": [{\"mr_enclave\": "
        "\"10ad000000000000000000000000000000000000000000000000000000000000\"}]}";
    CHECK_OK(ccz_file_write(policy_path, CCZ_SPAN(pol, strlen(pol)), 0644));
    ccz_attester_opts o = CCZ_ATTESTER_OPTS_INIT;
    o.tee = CCZ_TEE_SIM;
    o.sim.dir = plat;
    o.sim.measurement = m;
    CHECK_OK(ccz_attester_new(&attester, &o));
    curl_global_init(CURL_GLOBAL_DEFAULT);
    ccz_svc_config *cfg;
    CHECK_OK(ccz_svc_config_new(&cfg, "attestation"));
    CHECK_OK(ccz_svc_config_set(cfg, "listen", "127.0.0.1:0"));
    CHECK_OK(ccz_svc_config_set(cfg, "data-dir", data));
    CHECK_OK(ccz_svc_config_set(cfg, "sim-dir", plat));
    CHECK_OK(ccz_svc_config_set(cfg, "policy", policy_path));
    CHECK_OK(ccz_svc_config_set(cfg, "max-per-peer", "256")); /* 200 at once from 127.0.0.1 */
    /* 4,000 nonces from one address in two rounds: past the default quota */
    CHECK_OK(ccz_svc_config_set(cfg, "peer-quota", "100000"));
    ccz_svc *svc;
    CHECK_OK(ccz_svc_start(&svc, cfg, false));
    int port = ccz_svc_port(svc);

    int sequential = UNDER_ASAN ? 200 : 1000;
    long rss[2] = {0, 0};
    for (int pass = 0; pass < 2; pass++) {
        int ok = 0;
        time_t t0 = time(NULL);
        for (int i = 0; i < sequential; i++)
            ok += one_client(port);
        CHECK_INT(ok, sequential);
        CHECK_INT(concurrent(port), 1000);
        rss[pass] = rss_kib();
        fprintf(stderr,
                "pass %d: %d sequential clients and 200x5 concurrent requests in %lld s, "
                "RSS %ld KiB\n",
                pass + 1, sequential, (long long)(time(NULL) - t0), rss[pass]);
    }
    if (!UNDER_ASAN)
        CHECK(rss[1] - rss[0] < 16 * 1024);
    ccz_svc_stop(svc, 2000);
    CHECK_OK(ccz_svc_wait(svc));
    ccz_svc_free(svc);
    ccz_svc_config_free(cfg);
    ccz_attester_free(attester);
    curl_global_cleanup();
}

TEST_MAIN(T(test_load))
