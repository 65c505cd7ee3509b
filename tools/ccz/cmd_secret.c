/* SPDX-License-Identifier: Apache-2.0 */
/* ccz secret: secret provisioning as Gramine's clients speak it. serve releases secrets to
 * clients whose RA-TLS certificates the policy accepts, each the secret its measurement maps to;
 * get is the client, printing the secret's bytes. The attester and verify options are the
 * shared ones of 'ccz ratls'; peers and their bytes are untrusted. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "endpoint.h"

static const char secret_usage[] =
    "usage: ccz secret serve --listen ADDR --secret NAME=FILE... --policy FILE\n"
    "                        [--cert CERT --key KEY | attester options] [verify options]\n"
    "                        [--timeout MS] [--max-conns N] [--max-per-peer N]\n"
    "       ccz secret get HOST:PORT [--policy FILE | --ca FILE] [-o FILE]\n"
    "                        [--cert CERT --key KEY | attester options] [verify options]\n"
    "                        [--timeout MS]\n"
    "\n"
    "Secret provisioning, wire-compatible with Gramine's (secret_prov_*): the client presents its\n"
    "RA-TLS certificate, sends SECRET_PROVISION_RA_TLS_REQUEST_V1 and its NUL byte, and a server\n"
    "that accepts the certificate answers SECRET_PROVISION_RA_TLS_RESPONSE_V1: and its NUL, the\n"
    "secret's size (4 bytes, big-endian) and the secret, then closes.\n"
    "serve listens on ADDR (HOST:PORT; port 0 picks one, printed on standard error) until SIGINT\n"
    "or SIGTERM. Each --secret NAME=FILE is read into memory that is wiped at exit (at most\n"
    "1 MiB). The policy (as for 'ccz verify --policy') decides which clients are accepted; its\n"
    "\"secrets\" section, a list of {\"secret\": NAME, constraints...}, which accepted client gets\n"
    "which secret (the first entry whose constraints all match: tee, measurement, mr_enclave,\n"
    "mr_signer, isv_prod_id, isv_svn_min, mr_td, snp_measurement, host_data). Without the section\n"
    "and with one --secret, every accepted client gets it. A client without a certificate, or\n"
    "matched by no entry, is answered nothing. The server presents an RA-TLS certificate from the\n"
    "attester, or --cert (with any chain after it in the file) and --key. A connection must\n"
    "finish its handshake and its request within --timeout (default 10000 ms); at most\n"
    "--max-conns at once (default 1024), --max-per-peer of them from one address, an IPv6 one's\n"
    "/64 (default 64: at that cap the peer's own oldest handshake or idle connection makes room).\n"
    "get verifies the server's RA-TLS certificate with --policy, or, for a server with an ordinary\n"
    "certificate (as Gramine's clients expect), by the CA chain in --ca and the host name; it\n"
    "writes the secret's bytes, and nothing else, to standard output or to -o FILE (mode 0600).\n"
    "Exit codes: 0 got the secret (serve: stopped cleanly), 1 refused (the server released no\n"
    "secret, or a certificate was rejected), 2 usage error, unreadable input or no connection.\n"
    "verify options: --collateral FILE, --vek FILE, --cert-chain FILE, --sim-root CERT\n"
    "                (repeatable), --root-ca FILE\n" CLI_ATTESTER_HELP;

#define MAX_SECRETS 64

typedef struct {
    cli_args r; /* the shared options, for cli_endpoint_setup */
    ccz_secret_entry secrets[MAX_SECRETS];
    char names[MAX_SECRETS][80];
    size_t n_secrets;
} secret_args;

static int cmd_serve(int argc, char **argv);
static int cmd_get(int argc, char **argv);

#define SECRET_COMMON                                                                              \
    (CLI_FRAG_ENDPOINT & ~CLI_OPT(CLI_O_MODE)) | CLI_OPT(CLI_O_TIMEOUT) | CLI_FRAG_HELP
static const cli_command secret_cmds[] = {
    {"serve", cmd_serve, NULL,
     SECRET_COMMON | CLI_OPT(CLI_O_LISTEN) | CLI_OPT(CLI_O_SECRET) | CLI_OPT(CLI_O_MAX_CONNS) |
         CLI_OPT(CLI_O_MAX_PER_PEER)},
    {"get", cmd_get, NULL, SECRET_COMMON | CLI_OPT(CLI_O_OUT) | CLI_OPT(CLI_O_CA)},
};
static const cli_group secret_group =
    CLI_GROUP("secret", secret_usage, secret_cmds, "secret command", NULL, NULL);

/* -1 after --help, else an exit code. */
static int parse(secret_args *a, int argc, char **argv)
{
    int r = cli_parse(&a->r, argc, argv, &secret_group, cli_command_opts(&secret_group, argv[0]));
    if (r)
        return r;
    for (int i = 0; i < a->r.n_secrets; i++) {
        const char *arg = a->r.secrets[i], *eq = strchr(arg, '=');
        size_t k = a->n_secrets;
        if (!eq || eq == arg || !eq[1] || (size_t)(eq - arg) >= sizeof a->names[0])
            return cli_usage_error("secret", "--secret takes NAME=FILE ('%s')", arg);
        snprintf(a->names[k], sizeof a->names[k], "%.*s", (int)(eq - arg), arg);
        a->secrets[k] = (ccz_secret_entry){a->names[k], eq + 1, {NULL, 0}};
        a->n_secrets++;
    }
    return EXIT_OK;
}

/* ---- serve -----------------------------------------------------------------------------------*/

static int cmd_serve(int argc, char **argv)
{
    secret_args a;
    memset(&a, 0, sizeof a);
    int r = parse(&a, argc, argv);
    if (r)
        return r < 0 ? EXIT_OK : r;
    if (optind != argc)
        return cli_usage_error("secret", "unexpected argument '%s'", argv[optind]);
    if (!a.r.listen || !a.n_secrets || !a.r.v.policy)
        return cli_usage_error("secret", "serve needs --listen ADDR, --secret NAME=FILE and "
                                         "--policy FILE");
    if (!getenv("CCZ_LOG"))
        ccz_log_set_level(CCZ_LOG_INFO); /* which client got which secret (never its bytes) */
    signal(SIGPIPE, SIG_IGN);
    cli_endpoint e = {0};
    ccz_buf policy;
    ccz_buf_init(&policy, CCZ_POLICY_MAX_BYTES, false);
    SSL_CTX *unused = NULL;
    ccz_attester *att = NULL;
    ccz_secret_server *srv = NULL;
    /* cli_endpoint_setup builds the trust anchors, the collateral and a given certificate as it
     * does for a 'ratls client' that only verifies (so it attests nothing); the server makes its
     * own context from them and the policy with its secrets section */
    const char *policy_path = a.r.v.policy;
    a.r.v.policy = NULL;
    a.r.mode = CCZ_RATLS_SERVER;
    ccz_status s = cli_endpoint_setup(&e, &a.r, false, &unused, NULL);
    SSL_CTX_free(unused);
    if (s == CCZ_OK && !e.cert)
        s = cli_attester_new(&a.r.ca, &att);
    if (s == CCZ_OK && (s = ccz_file_read(&policy, policy_path, CCZ_POLICY_MAX_BYTES)) != CCZ_OK)
        s = ccz_fail_context(s, "%s", policy_path);
    if (s == CCZ_OK) {
        ccz_secret_server_opts o = CCZ_SECRET_SERVER_OPTS_INIT;
        o.listen = a.r.listen;
        o.attester = att;
        o.cert = e.cert;
        o.key = e.key;
        o.cert_chain_file = e.cert ? a.r.cert : NULL;
        o.trust = e.trust;
        o.collateral = e.collateral;
        o.policy = ccz_buf_span(&policy);
        o.secrets = a.secrets;
        o.n_secrets = a.n_secrets;
        o.deadline_ms = (unsigned)a.r.timeout_ms;
        o.max_connections = (unsigned)a.r.max_conns;
        o.max_per_peer = (unsigned)a.r.max_per_peer;
        o.handle_signals = true;
        s = ccz_secret_server_new(&srv, &o);
    }
    if (s) {
        r = cli_fail(s, "secret serve");
        goto out;
    }
    fprintf(stderr, "ccz secret: serving %zu secret%s on port %d (%s certificate)\n", a.n_secrets,
            a.n_secrets == 1 ? "" : "s", ccz_secret_server_port(srv),
            e.cert ? "a given" : "an RA-TLS");
    s = ccz_secret_server_run(srv);
    r = s ? cli_fail(s, "secret serve") : EXIT_OK;
    fprintf(stderr, "ccz secret: stopped\n");
out:
    ccz_secret_server_free(srv);
    ccz_attester_free(att);
    ccz_buf_free(&policy);
    cli_endpoint_free(&e);
    cli_attester_free(&a.r.ca);
    return r;
}

/* ---- get -------------------------------------------------------------------------------------*/

static int cmd_get(int argc, char **argv)
{
    secret_args a;
    memset(&a, 0, sizeof a);
    int r = parse(&a, argc, argv);
    if (r)
        return r < 0 ? EXIT_OK : r;
    if (argc - optind != 1)
        return cli_usage_error("secret", "get takes one server address, HOST:PORT");
    if (a.r.ca_file && a.r.v.policy)
        return cli_usage_error("secret", "give --policy (to appraise the server's RA-TLS "
                                         "certificate) or --ca (a CA chain for its ordinary "
                                         "certificate), not both");
    signal(SIGPIPE, SIG_IGN);
    cli_endpoint e = {0};
    SSL_CTX *ctx = NULL;
    ccz_buf secret;
    ccz_buf_init(&secret, CCZ_SECRET_MAX_BYTES, true);
    /* with --ca the RA-TLS context only presents our certificate; the CA chain verifies */
    a.r.mode = a.r.ca_file ? CCZ_RATLS_CLIENT : CCZ_RATLS_TWO_WAY;
    ccz_status s = cli_out_ready(a.r.out, "--out");
    if (s == CCZ_OK)
        s = cli_endpoint_setup(&e, &a.r, false, &ctx, a.r.ca_file ? NULL : cli_print_verdict);
    if (s == CCZ_OK && a.r.ca_file)
        s = ccz_secret_ctx_use_ca_file(ctx, a.r.ca_file);
    if (s) {
        r = cli_fail(s, "secret get");
        goto out;
    }
    s = ccz_secret_get(&secret, ctx, argv[optind], a.r.timeout_ms);
    if (s) {
        fprintf(stderr, "ccz: secret get: %s\n", ccz_error_detail());
        /* as 'ratls client': no connection is unreadable input (2); a refusal either way, 1 */
        r = s == CCZ_ERR_NETWORK || s == CCZ_ERR_INVALID_ARGUMENT ? EXIT_USAGE : EXIT_REJECT;
        goto out;
    }
    if (a.r.out) {
        s = ccz_file_write(a.r.out, ccz_buf_span(&secret), 0600);
        if (s) {
            r = cli_fail(s, "secret get: %s", a.r.out);
            goto out;
        }
        fprintf(stderr, "ccz secret: wrote the secret (%zu bytes) to %s\n", secret.len, a.r.out);
    } else if (fwrite(secret.ptr, 1, secret.len, stdout) != secret.len || fflush(stdout) != 0) {
        r = cli_fail(CCZ_ERR_IO, "secret get: standard output");
    }
out:
    ccz_buf_free(&secret);
    SSL_CTX_free(ctx);
    cli_endpoint_free(&e);
    cli_attester_free(&a.r.ca);
    return r;
}

int cmd_secret(int argc, char **argv)
{
    return cli_dispatch(&secret_group, argc, argv);
}
