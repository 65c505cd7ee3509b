/* SPDX-License-Identifier: Apache-2.0 */
/* Benchmark: attestation tokens per second from the attestation service (HTTPS, one kept-alive
 * connection, POST /v1/attest, an EAR JWT signed ES256 each time) against the bare verification
 * and appraisal of the same evidence in the same process, for sim evidence and, when given, a
 * real SGX quote with its collateral cached by the service (verified at the instant AT). The
 * client runs in the same process, so a token's CPU time includes the client's TLS and JSON.
 * Prints one JSON object.
 *
 * usage: svc_bench SIM_DIR [SECONDS [QUOTE COLLATERAL AT]] */
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ccz/ccz.h"
#include "clock.h"

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    ccz_buf *b = arg;
    return ccz_buf_append(b, p, size * n) == CCZ_OK ? size * n : 0;
}

static ccz_svc *start(const char *data, const char *sim, const char *policy, const char *coll,
                      const char *at)
{
    ccz_svc_config *c;
    ccz_svc *s = NULL;
    if (ccz_svc_config_new(&c, "attestation") || ccz_svc_config_set(c, "listen", "127.0.0.1:0") ||
        ccz_svc_config_set(c, "data-dir", data) || ccz_svc_config_set(c, "sim-dir", sim) ||
        ccz_svc_config_set(c, "policy", policy) ||
        (coll && ccz_svc_config_set(c, "collateral", coll)) ||
        (at && ccz_svc_config_set(c, "verify-at-insecure", at)) || ccz_svc_start(&s, c, false)) {
        fprintf(stderr, "svc_bench: cannot start the service: %s\n", ccz_error_detail());
        exit(1);
    }
    return s; /* the configuration stays alive with the service (never freed: a benchmark) */
}

/* POST /v1/attest with the evidence; or, with evidence_b64 NULL, GET /healthz: the floor of a
 * request on the kept-alive connection (TLS records, HTTP, the loop, the client). */
static bench_run tokens(int port, const char *ca, const char *evidence_b64, double seconds)
{
    CURL *c = curl_easy_init();
    char url[128];
    snprintf(url, sizeof url, "https://127.0.0.1:%d%s", port,
             evidence_b64 ? "/v1/attest" : "/healthz");
    json_t *b = evidence_b64 ? json_pack("{s:s}", "evidence", evidence_b64) : NULL;
    char *body = b ? json_dumps(b, JSON_COMPACT) : NULL;
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    ccz_buf resp = CCZ_BUF_INIT;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO, ca);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
    bench_run r = {0};
    double t0 = bench_wall(), c0 = bench_cpu(), m0 = bench_thread_cpu(), t;
    do {
        ccz_buf_reset(&resp);
        long status = 0;
        if (curl_easy_perform(c) != CURLE_OK ||
            (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status), status != 200)) {
            fprintf(stderr, "svc_bench: a token was refused (%ld): %.*s\n", status, (int)resp.len,
                    (const char *)resp.ptr);
            exit(1);
        }
        r.ops++;
        t = bench_wall();
    } while (t - t0 < seconds);
    r.wall = t - t0;
    r.cpu = bench_cpu() - c0;
    r.client = bench_thread_cpu() - m0;
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    free(body);
    json_decref(b);
    ccz_buf_free(&resp);
    return r;
}

static bench_run verifications(ccz_span ev, const ccz_trust *trust, const ccz_collateral *coll,
                               int64_t at, const ccz_policy *p, double seconds)
{
    ccz_verify_opts vo = CCZ_VERIFY_OPTS_INIT;
    vo.trust = trust;
    vo.collateral = coll;
    vo.at_unix = at ? at : (int64_t)time(NULL);
    static ccz_result res;
    static ccz_appraisal ap;
    bench_run r = {0};
    double t0 = bench_wall(), c0 = bench_cpu(), t;
    do {
        for (int i = 0; i < 20; i++) {
            if (ccz_verify(&res, ev, &vo) != CCZ_OK || ccz_appraise(&ap, p, &res.claims) ||
                !ap.accepted) {
                fprintf(stderr, "svc_bench: the evidence does not verify: %s\n", res.message);
                exit(1);
            }
            r.ops++;
        }
        t = bench_wall();
    } while (t - t0 < seconds);
    r.wall = t - t0;
    r.cpu = bench_cpu() - c0;
    return r;
}

static void report(const char *name, const bench_run *tok, const bench_run *ver, bool comma)
{
    printf("  \"%s_tokens_per_s\": %.0f, \"%s_token_cpu_us\": %.1f,\n"
           "  \"%s_verify_per_s\": %.0f, \"%s_verify_cpu_us\": %.1f,\n"
           "  \"%s_token_client_cpu_us\": %.1f, \"%s_tokens\": %ld%s\n",
           name, bench_rate(tok), name, bench_cpu_us(tok), name, bench_rate(ver), name,
           bench_cpu_us(ver), name, bench_client_us(tok), name, tok->ops, comma ? "," : "");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: svc_bench SIM_DIR [SECONDS [QUOTE COLLATERAL AT]]\n");
        return 2;
    }
    const char *sim = argv[1];
    double seconds = argc > 2 ? atof(argv[2]) : 3.0;
    ccz_log_set_level(CCZ_LOG_WARN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    char dir[] = "/tmp/ccz-svc-bench-XXXXXX", data[64], ca[96], policy[96], root[600];
    if (!mkdtemp(dir))
        return 1;
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(ca, sizeof ca, "%s/tls-cert.pem", data);
    snprintf(policy, sizeof policy, "%s/policy.json", dir);
    static const char pol[] = "{\"allow_sim\": true, \"allow_debug\": true, "
                              "\"accepted_tcb_statuses\": [\"UpToDate\", \"SWHardeningNeeded\", "
                              "\"ConfigurationNeeded\", \"ConfigurationAndSWHardeningNeeded\", "
                              "\"OutOfDate\", \"OutOfDateConfigurationNeeded\"]}";
    ccz_policy *p;
    ccz_trust *trust;
    ccz_buf ev = CCZ_BUF_INIT, b64 = CCZ_BUF_INIT;
    uint8_t rd[64] = {0};
    ccz_attester *a;
    ccz_attester_opts ao = CCZ_ATTESTER_OPTS_INIT;
    ao.tee = CCZ_TEE_SIM;
    ao.sim.dir = sim;
    snprintf(root, sizeof root, "%s/root.crt", sim);
    if (ccz_file_write(policy, CCZ_SPAN(pol, strlen(pol)), 0644) ||
        ccz_policy_parse(&p, pol, strlen(pol)) || ccz_trust_new(&trust) ||
        ccz_trust_add_builtin(trust) || ccz_trust_add_sim_root_file(trust, root) ||
        ccz_attester_new(&a, &ao) || ccz_attest(&ev, a, rd) ||
        ccz_base64_encode(&b64, ccz_buf_span(&ev))) {
        fprintf(stderr, "svc_bench: %s\n", ccz_error_detail());
        return 1;
    }
    ccz_svc *s = start(data, sim, policy, NULL, NULL);
    bench_run ver = verifications(ccz_buf_span(&ev), trust, NULL, 0, p, seconds);
    bench_run tok = tokens(ccz_svc_port(s), ca, (const char *)b64.ptr, seconds);
    bench_run floor = tokens(ccz_svc_port(s), ca, NULL, seconds);
    ccz_svc_free(s);
    printf("{\n");
    printf(
        "  \"healthz_per_s\": %.0f, \"healthz_cpu_us\": %.1f, \"healthz_client_cpu_us\": %.1f,\n",
        bench_rate(&floor), bench_cpu_us(&floor), floor.ops ? floor.client * 1e6 / floor.ops : 0.0);
    report("sim", &tok, &ver, argc > 5);
    if (argc > 5) {
        ccz_collateral *coll;
        ccz_buf q = CCZ_BUF_INIT, qb64 = CCZ_BUF_INIT;
        if (ccz_file_read(&q, argv[3], 1 << 20) || ccz_collateral_load_file(&coll, argv[4]) ||
            ccz_base64_encode(&qb64, ccz_buf_span(&q))) {
            fprintf(stderr, "svc_bench: %s\n", ccz_error_detail());
            return 1;
        }
        int64_t at = atoll(argv[5]);
        char data2[80];
        snprintf(data2, sizeof data2, "%s/data2", dir);
        snprintf(ca, sizeof ca, "%s/tls-cert.pem", data2);
        s = start(data2, sim, policy, argv[4], argv[5]);
        ver = verifications(ccz_buf_span(&q), trust, coll, at, p, seconds);
        tok = tokens(ccz_svc_port(s), ca, (const char *)qb64.ptr, seconds);
        ccz_svc_free(s);
        report("sgx", &tok, &ver, false);
        ccz_collateral_free(coll);
        ccz_buf_free(&q);
        ccz_buf_free(&qb64);
    }
    printf("}\n");
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "svc_bench: %s left behind\n", dir);
    ccz_attester_free(a);
    ccz_trust_free(trust);
    ccz_policy_free(p);
    ccz_buf_free(&ev);
    ccz_buf_free(&b64);
    curl_global_cleanup();
    return 0;
}
