/* SPDX-License-Identifier: Apache-2.0 */
/* ccz kms: the key management service (serve), and its client: enroll an app over mutual RA-TLS
 * (or with the admin token), and call an action with the app's credentials. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ccz/ccz.h"
#include "cli.h"
#include "endpoint.h"

static const char serve_intro[] =
    "The key management service over HTTPS, wire-compatible with Intel's eHSM-KMS: POST\n"
    "/ehsm?Action=NAME with an HMAC-signed JSON envelope (CreateKey, Encrypt, Decrypt,\n"
    "GenerateDataKey, Sign, Verify, ... and ccz's RotateKey and ReEncrypt), GET\n"
    "/ehsm?Action=GetVersion, and GET /ehsm?Action=Enroll for attested callers (an RA-TLS\n"
    "client certificate the --policy accepts) or the admin token (DATA_DIR/admin-token).\n"
    "Key material is wrapped under a domain key sealed to this TEE (--tee is required; sim\n"
    "is SIMULATED). --db is SQLite by default, or a postgresql:// URI that several replicas\n"
    "share; a new replica gets the domain key from --peer over mutual RA-TLS when the\n"
    "peer's evidence satisfies --peer-policy. SIGTERM or SIGINT drains it (exit 0). See\n"
    "docs/kms.md.\n";

static int cmd_serve(int argc, char **argv)
{
    return cli_svc_serve("kms", serve_intro, argc, argv);
}

static const char kms_usage[] =
    "usage: ccz kms serve [--config FILE] [options]\n"
    "       ccz kms enroll URL --tee sim|sgx|tdx|snp [attester options] [verify options]\n"
    "       ccz kms enroll URL --admin-token TOKEN [verify options] [--cacert FILE]\n"
    "       ccz kms call URL ACTION --appid ID --apikey KEY [--payload JSON] [verify options]\n"
    "                    [--cacert FILE]\n"
    "\n"
    "serve runs the key management service (see 'ccz kms serve --help').\n"
    "\n"
    "enroll makes a new app at the KMS at URL (HOST:PORT or https://HOST:PORT) and prints\n"
    "{\"appid\": ..., \"apikey\": ...} on standard output. With --tee the client presents an\n"
    "RA-TLS certificate with its evidence (mutual RA-TLS), and the KMS enrolls it when its\n"
    "policy accepts the evidence; --admin-token uses the KMS's admin token instead.\n"
    "\n"
    "call signs and sends one action (eHSM-KMS's envelope: a 13-digit timestamp, a random\n"
    "nonce, HMAC-SHA256 under the apikey over the canonical string) and prints the answer\n"
    "{code, message, result} on standard output.\n"
    "\n"
    "Both verify the KMS's RA-TLS certificate with the verify options (--policy, --sim-root,\n"
    "--sim-dir: trust that sim platform's root, ...) or an ordinary certificate against\n"
    "--cacert. Exit codes: 0 enrolled / code 200, 1 refused, 2 usage error or no connection.\n"
    "\n" CLI_VERIFY_HELP CLI_ATTESTER_HELP;

static int cmd_enroll(int argc, char **argv);
static int cmd_call(int argc, char **argv);

static const cli_command kms_cmds[] = {
    {"serve", cmd_serve, NULL, 0},
    {"enroll", cmd_enroll, NULL,
     CLI_FRAG_ATTESTER | CLI_FRAG_VERIFY | CLI_OPT(CLI_O_ADMIN_TOKEN) | CLI_OPT(CLI_O_CACERT) |
         CLI_FRAG_HELP},
    {"call", cmd_call, NULL,
     CLI_FRAG_VERIFY | CLI_OPT(CLI_O_SIM_DIR) | CLI_OPT(CLI_O_APPID) | CLI_OPT(CLI_O_APIKEY) |
         CLI_OPT(CLI_O_PAYLOAD) | CLI_OPT(CLI_O_CACERT) | CLI_FRAG_HELP},
};
static const cli_group kms_group = CLI_GROUP("kms", kms_usage, kms_cmds, "kms command", NULL, NULL);

/* What the client verifies the KMS with: a CA file, else the RA-TLS trust and policy. */
typedef struct {
    ccz_trust *trust;
    ccz_policy *policy;
    ccz_collateral *collateral;
} kms_peer;

static ccz_status peer_load(kms_peer *p, cli_args *a, ccz_kms_opts *o)
{
    memset(p, 0, sizeof *p);
    o->ca_file = a->cacert;
    if (a->cacert)
        return CCZ_OK;
    CCZ_GUARD(cli_trust_load(&p->trust, &a->v, a->ca.dir_arg, false));
    CCZ_GUARD(cli_policy_load(&p->policy, &a->v));
    CCZ_GUARD(cli_collateral_load(&p->collateral, &a->v));
    o->trust = p->trust;
    o->policy = p->policy;
    o->collateral = p->collateral;
    return CCZ_OK;
}

static void peer_free(kms_peer *p)
{
    ccz_trust_free(p->trust);
    ccz_policy_free(p->policy);
    ccz_collateral_free(p->collateral);
}

static int cmd_enroll(int argc, char **argv)
{
    cli_args a;
    memset(&a, 0, sizeof a);
    int r = cli_parse(&a, argc, argv, &kms_group, cli_command_opts(&kms_group, "enroll"));
    if (r)
        return r < 0 ? EXIT_OK : r;
    if (argc - optind != 1)
        return cli_usage_error("kms", "enroll takes the KMS's address, HOST:PORT");
    if (!a.ca.tee && !a.admin_token)
        return cli_usage_error("kms", "enroll needs --tee (attested enrollment) or "
                                      "--admin-token TOKEN");
    signal(SIGPIPE, SIG_IGN);
    ccz_kms_opts o = CCZ_KMS_OPTS_INIT;
    o.url = argv[optind];
    o.admin_token = a.admin_token;
    kms_peer p;
    ccz_attester *att = NULL;
    ccz_status s = peer_load(&p, &a, &o);
    if (s == CCZ_OK && a.ca.tee)
        s = cli_attester_new(&a.ca, &att);
    o.attester = att;
    char appid[37], apikey[33];
    if (s == CCZ_OK)
        s = ccz_kms_enroll(appid, apikey, &o);
    if (s) {
        fprintf(stderr, "ccz: kms enroll: %s\n", ccz_error_detail());
        r = s == CCZ_ERR_POLICY_REJECTED ? EXIT_REJECT : EXIT_USAGE;
    } else {
        printf("{\"appid\": \"%s\", \"apikey\": \"%s\"}\n", appid, apikey);
        ccz_wipe(apikey, sizeof apikey);
        r = fflush(stdout) == 0 ? EXIT_OK : cli_fail(CCZ_ERR_IO, "standard output");
    }
    ccz_attester_free(att);
    cli_attester_free(&a.ca);
    peer_free(&p);
    return r;
}

static int cmd_call(int argc, char **argv)
{
    cli_args a;
    memset(&a, 0, sizeof a);
    int r = cli_parse(&a, argc, argv, &kms_group, cli_command_opts(&kms_group, "call"));
    if (r)
        return r < 0 ? EXIT_OK : r;
    if (argc - optind != 2)
        return cli_usage_error("kms", "call takes the KMS's address and an ACTION");
    if (!a.appid || !a.apikey)
        return cli_usage_error("kms", "call needs --appid and --apikey (from 'ccz kms enroll')");
    json_error_t err;
    json_t *payload = NULL;
    if (a.payload && !(payload = json_loads(a.payload, JSON_REJECT_DUPLICATES, &err)))
        return cli_usage_error("kms", "--payload is not JSON: %s (column %d)",
                               ccz_json_error_unquoted(err.text), err.column);
    if (payload && !json_is_object(payload)) {
        json_decref(payload);
        return cli_usage_error("kms", "--payload is not a JSON object");
    }
    signal(SIGPIPE, SIG_IGN);
    ccz_kms_opts o = CCZ_KMS_OPTS_INIT;
    o.url = argv[optind];
    kms_peer p;
    ccz_json *answer = NULL;
    ccz_status s = peer_load(&p, &a, &o);
    if (s == CCZ_OK)
        s = ccz_kms_call(&answer, &o, a.appid, a.apikey, argv[optind + 1], payload);
    json_decref(payload);
    if (s) {
        fprintf(stderr, "ccz: kms call: %s\n", ccz_error_detail());
        r = EXIT_USAGE;
    } else {
        /* the answer may hold a plaintext or a data key: every copy is wiped */
        ccz_buf text;
        ccz_buf_init(&text, 0, true);
        if (ccz_json_dump(&text, answer, true) == CCZ_OK)
            puts((const char *)text.ptr);
        ccz_buf_free(&text);
        r = json_integer_value(json_object_get(answer, "code")) == 200 ? EXIT_OK : EXIT_REJECT;
    }
    ccz_json_free_wiped(answer);
    peer_free(&p);
    return r;
}

int cmd_kms(int argc, char **argv)
{
    return cli_dispatch(&kms_group, argc, argv);
}
