/* SPDX-License-Identifier: Apache-2.0 */
/* ccz attestation: the attestation service (serve), and a relying party's offline check of its
 * tokens (token verify). ccz kbs: the KBS client. serve's options are the service's own table
 * (ccz_svc_options): each is a flag and a key of --config's JSON file, and its help is made
 * from the table. Tokens, JWKS documents and KBS answers are untrusted. */
#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static int cmd_serve(int argc, char **argv);
static int cmd_token(int argc, char **argv);
static int cmd_token_verify(int argc, char **argv);
static int cmd_get_resource(int argc, char **argv);

/* ---- serve -----------------------------------------------------------------------------------*/

static const char serve_intro[] =
    "The attestation service over HTTPS: GET /v1/nonce, POST /v1/attest (evidence in, an\n"
    "EAR attestation result out: a JWT signed ES256 or ES384), GET\n"
    "/.well-known/jwks.json, policies at /v1/policies/ID behind the admin token, Trustee's\n"
    "KBS protocol at /kbs/v0/, and, with --secret, Gramine's secret provisioning on the\n"
    "same listener; GET /healthz and GET /metrics. State, keys and the admin token are\n"
    "made at first start in the data directory. Every option is also a key of the\n"
    "--config JSON file; flags win over the file. SIGTERM or SIGINT drains it (exit 0).\n"
    "See docs/services.md.\n";

static int cmd_serve(int argc, char **argv)
{
    return cli_svc_serve("attestation", serve_intro, argc, argv);
}

/* ---- token verify ----------------------------------------------------------------------------*/

static const char token_usage[] =
    "usage: ccz attestation token verify TOKEN|- --jwks URL|FILE [--cacert FILE] [--at UNIX]\n"
    "                                    [--timeout MS]\n"
    "\n"
    "Verifies an attestation result offline, as a relying party does: its ES256/ES384 signature\n"
    "with the key its kid names in the JWKS (a file, or the service's\n"
    "https://HOST:PORT/.well-known/jwks.json, its certificate checked against --cacert, fetched\n"
    "within --timeout, default 30000 ms), exp, nbf and iat at --at (default now, 60 s of\n"
    "leeway), the EAR profile, and no submodule contraindicated. Prints the token's claims as JSON. '-' reads the token from standard\n"
    "input. Exit codes: 0 verified, 1 not (bad signature, expired, unknown key), 2 usage error\n"
    "or unreadable input.\n";

static const cli_command token_cmds[] = {
    {"verify", cmd_token_verify, NULL,
     CLI_OPT(CLI_O_JWKS) | CLI_OPT(CLI_O_CACERT) | CLI_OPT(CLI_O_AT) | CLI_OPT(CLI_O_TIMEOUT) |
         CLI_FRAG_HELP},
};
static const cli_group token_group =
    CLI_GROUP("attestation token", token_usage, token_cmds, "token command", NULL, NULL);

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    ccz_buf *b = arg;
    return ccz_buf_append(b, p, size * n) == CCZ_OK ? size * n : 0;
}

static ccz_status fetch_jwks(ccz_buf *out, const char *url, const char *cacert, long timeout_ms)
{
    CURL *c = curl_easy_init();
    CCZ_ENSURE(c, CCZ_ERR_NOMEM, "out of memory");
    out->max = 1 << 20;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 30000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    if (cacert)
        curl_easy_setopt(c, CURLOPT_CAINFO, cacert);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    /* collect refuses what would take the JWKS past its bound (or finds no memory for) */
    CCZ_ENSURE(rc != CURLE_WRITE_ERROR, CCZ_ERR_TOO_LARGE, "%s: a JWKS over %zu bytes", url,
               out->max);
    CCZ_ENSURE(rc == CURLE_OK, CCZ_ERR_NETWORK, "%s: %s", url, curl_easy_strerror(rc));
    CCZ_ENSURE(status == 200, CCZ_ERR_NETWORK, "%s answered %ld", url, status);
    return CCZ_OK;
}

static int cmd_token_verify(int argc, char **argv)
{
    cli_args a;
    memset(&a, 0, sizeof a);
    int r = cli_parse(&a, argc, argv, &token_group, cli_command_opts(&token_group, "verify"));
    if (r)
        return r < 0 ? EXIT_OK : r;
    if (argc - optind != 1 || !a.jwks)
        return cli_usage_error("attestation token", "verify takes TOKEN (or -) and --jwks");
    ccz_buf tok = CCZ_BUF_INIT, jwks = CCZ_BUF_INIT;
    ccz_json *claims = NULL;
    ccz_status s = strcmp(argv[optind], "-") ? ccz_buf_append_str(&tok, argv[optind])
                                             : ccz_file_read(&tok, "/dev/stdin", 1 << 20);
    while (s == CCZ_OK && tok.len && (tok.ptr[tok.len - 1] == '\n' || tok.ptr[tok.len - 1] == ' '))
        tok.ptr[--tok.len] = 0;
    if (s == CCZ_OK)
        s = ccz_buf_append_u8(&tok, 0);
    if (s == CCZ_OK)
        s = !strncmp(a.jwks, "https://", 8) ? fetch_jwks(&jwks, a.jwks, a.cacert, a.timeout_ms)
                                            : ccz_file_read(&jwks, a.jwks, 1 << 20);
    if (s == CCZ_OK) { /* a JWKS that is no JSON document is unreadable input (2), not a token
                          that failed to verify (1) */
        json_error_t e;
        json_t *doc = json_loadb(jwks.ptr ? (const char *)jwks.ptr : "", jwks.len,
                                 JSON_REJECT_DUPLICATES, &e);
        if (!json_is_object(doc))
            s = ccz_fail(CCZ_ERR_JSON, "the JWKS %s is not a JSON object%s%s", a.jwks,
                         doc ? "" : ": ", doc ? "" : e.text);
        json_decref(doc);
    }
    if (s) {
        r = cli_fail(s, "token verify");
        goto out;
    }
    s = ccz_attestation_token_verify(&claims, (const char *)tok.ptr, (const char *)jwks.ptr,
                                     jwks.len, a.have_at ? a.at : (int64_t)time(NULL));
    if (s) {
        fprintf(stderr, "ccz: token verify: %s: %s\n", ccz_status_name(s), ccz_error_detail());
        r = cli_exit_code(s, true);
        goto out;
    }
    char *text = json_dumps(claims, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (text)
        printf("%s\n", text);
    free(text);
    fprintf(stderr, "ccz: token verified\n");
out:
    ccz_json_free(claims);
    ccz_buf_free(&tok);
    ccz_buf_free(&jwks);
    return r;
}

static int cmd_token(int argc, char **argv)
{
    return cli_dispatch(&token_group, argc, argv);
}

/* ---- the groups --------------------------------------------------------------------------------*/

static const char attestation_usage[] =
    "usage: ccz attestation serve [--config FILE] [options]\n"
    "       ccz attestation token verify TOKEN|- --jwks URL|FILE [--cacert FILE] [--at UNIX]\n"
    "\n"
    "serve runs the attestation service (see 'ccz attestation serve --help'); token verify\n"
    "checks one of its attestation results offline. The service's KBS endpoints have their\n"
    "client in 'ccz kbs'.\n";

static const cli_command attestation_cmds[] = {
    {"serve", cmd_serve, NULL, 0},
    {"token", cmd_token, NULL, 0},
};
static const cli_group attestation_group = CLI_GROUP(
    "attestation", attestation_usage, attestation_cmds, "attestation command", NULL, NULL);

int cmd_attestation(int argc, char **argv)
{
    return cli_dispatch(&attestation_group, argc, argv);
}

static const char kbs_usage[] =
    "usage: ccz kbs get-resource URL REPOSITORY/TYPE/TAG --tee sim|sgx|tdx [attester options]\n"
    "                            [--cacert FILE] [--timeout MS] [-o FILE]\n"
    "\n"
    "A client of Trustee's KBS protocol (0.4.0), as 'ccz attestation serve' speaks it at URL\n"
    "(https://HOST:PORT): auth, then attest with evidence binding the KBS's nonce and a fresh\n"
    "P-256 key, then the resource, a JWE to that key, decrypted here. Writes the resource's\n"
    "bytes, and nothing else, to standard output or -o FILE (mode 0600). --cacert pins the\n"
    "KBS's HTTPS certificate. Exit codes: 0 got it, 1 refused (401/403/404), 2 usage error or\n"
    "no connection.\n" CLI_ATTESTER_HELP;

static const cli_command kbs_cmds[] = {
    {"get-resource", cmd_get_resource, NULL,
     CLI_FRAG_ATTESTER | CLI_OPT(CLI_O_CACERT) | CLI_OPT(CLI_O_OUT) | CLI_OPT(CLI_O_TIMEOUT) |
         CLI_FRAG_HELP},
};
static const cli_group kbs_group = CLI_GROUP("kbs", kbs_usage, kbs_cmds, "kbs command", NULL, NULL);

static int cmd_get_resource(int argc, char **argv)
{
    cli_args a;
    memset(&a, 0, sizeof a);
    int r = cli_parse(&a, argc, argv, &kbs_group, cli_command_opts(&kbs_group, "get-resource"));
    if (r)
        return r < 0 ? EXIT_OK : r;
    if (argc - optind != 2)
        return cli_usage_error("kbs", "get-resource takes URL and REPOSITORY/TYPE/TAG");
    ccz_attester *att = NULL;
    ccz_buf res;
    ccz_buf_init(&res, 1 << 20, true);
    ccz_kbs_client_opts o = CCZ_KBS_CLIENT_OPTS_INIT;
    o.cacert = a.cacert;
    o.timeout_ms = a.timeout_ms;
    ccz_status s = cli_out_ready(a.out, "--out");
    if (s == CCZ_OK)
        s = cli_attester_new(&a.ca, &att);
    if (s) {
        r = cli_fail(s, "kbs get-resource");
        goto out;
    }
    s = ccz_kbs_get_resource(&res, att, argv[optind], argv[optind + 1], &o);
    if (s) {
        fprintf(stderr, "ccz: kbs get-resource: %s\n", ccz_error_detail());
        r = s == CCZ_ERR_POLICY_REJECTED || s == CCZ_ERR_NOT_FOUND ? EXIT_REJECT : EXIT_USAGE;
        goto out;
    }
    if (a.out)
        s = ccz_file_write(a.out, ccz_buf_span(&res), 0600);
    else if (fwrite(res.ptr, 1, res.len, stdout) != res.len || fflush(stdout) != 0)
        s = ccz_fail(CCZ_ERR_IO, "standard output");
    if (s)
        r = cli_fail(s, "kbs get-resource");
out:
    ccz_buf_free(&res);
    ccz_attester_free(att);
    cli_attester_free(&a.ca);
    return r;
}

int cmd_kbs(int argc, char **argv)
{
    return cli_dispatch(&kbs_group, argc, argv);
}
