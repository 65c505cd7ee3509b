/* SPDX-License-Identifier: Apache-2.0 */
/* ccz he query: the encrypted database query (include/ccz/hequery.h) over RA-gRPC. serve holds
 * a key-value CSV and answers lookups it cannot read; lookup asks for one key and prints the
 * value only. The database file is the operator's; answers and requests are untrusted. */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccz/hequery.h"
#include "endpoint.h"

static int serve(int argc, char **argv);
static int lookup(int argc, char **argv);

#define HEQ_ENDPOINT                                                                               \
    (CLI_FRAG_ATTESTER | CLI_FRAG_VERIFY | CLI_OPT(CLI_O_MODE) | CLI_OPT(CLI_O_CERT) |             \
     CLI_OPT(CLI_O_CERT_KEY))

static const cli_command query_cmds[] = {
    {"serve", serve, NULL,
     HEQ_ENDPOINT | CLI_OPT(CLI_O_DB) | CLI_OPT(CLI_O_LISTEN) | CLI_OPT(CLI_O_THREADS) |
         CLI_OPT(CLI_O_MAX_PENDING) | CLI_OPT(CLI_O_HS_TIMEOUT) | CLI_OPT(CLI_O_IDLE_TIMEOUT) |
         CLI_OPT(CLI_O_MAX_CONNS) | CLI_OPT(CLI_O_MAX_PER_PEER) | CLI_FRAG_HELP},
    {"lookup", lookup, NULL,
     HEQ_ENDPOINT | CLI_OPT(CLI_O_KEY) | CLI_OPT(CLI_O_ALGORITHM) | CLI_OPT(CLI_O_DEADLINE) |
         CLI_OPT(CLI_O_TIMEOUT) | CLI_FRAG_HELP},
};
static const cli_group query_group = CLI_GROUP("he query", cli_he_usage, query_cmds, NULL, NULL,
                                               "usage: ccz he query serve|lookup ...");

int cmd_he_query(int argc, char **argv)
{
    return cli_dispatch(&query_group, argc, argv);
}

/* The server's side (addr NULL) or the client's, to addr. --cert and --cert-key are the RA-TLS
 * identity here (--key is the key looked up). */
static ccz_status side(cli_rpc_side *p, cli_args *a, const char *addr)
{
    const char *key = a->key;
    a->key = a->cert_key;
    ccz_rpc_channel_opts co = CCZ_RPC_CHANNEL_OPTS_INIT;
    co.max_message = CCZ_HEQ_MAX_MESSAGE;
    co.connect_timeout_ms = (unsigned)a->timeout_ms;
    ccz_status s =
        addr ? cli_rpc_side_connect(p, a, addr, co) : cli_rpc_side_serve(p, a, CCZ_HEQ_MAX_MESSAGE);
    a->key = key;
    return s;
}

/* ---- serve -----------------------------------------------------------------------------------*/

static int serve(int argc, char **argv)
{
    cli_args a = {0};
    int r = cli_parse(&a, argc, argv, &query_group, cli_command_opts(&query_group, argv[0]));
    if (r)
        return r < 0 ? EXIT_OK : r;
    if (!a.db || !a.listen || optind != argc)
        return cli_usage_error("he", "usage: ccz he query serve --db FILE.csv --listen ADDR "
                                     "[options]");
    if (a.mode == CCZ_RATLS_CLIENT)
        return cli_usage_error("he", "--mode client: the client must attest the server (use "
                                     "two-way or server)");
    if (!a.cert != !a.cert_key)
        return cli_usage_error("he", "--cert and --cert-key go together");
    signal(SIGPIPE, SIG_IGN);
    cli_block_stop_signals();
    /* the answers allocate and free the same large buffers over and over: keep them */
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);

    cli_rpc_side p = {0};
    ccz_heq_db *db = NULL;
    ccz_heq_server *hs = NULL;
    ccz_heq_service *svc = NULL;
    ccz_status s = ccz_heq_db_load(&db, a.db);
    ccz_heq_server_opts ho = CCZ_HEQ_SERVER_OPTS_INIT;
    ho.db = db;
    ho.threads = (unsigned)a.threads;
    if (s == CCZ_OK)
        s = ccz_heq_server_new(&hs, &ho);
    if (s == CCZ_OK)
        s = side(&p, &a, NULL);
    ccz_heq_service_opts vo = CCZ_HEQ_SERVICE_OPTS_INIT;
    vo.server = hs;
    vo.max_pending = (unsigned)a.max_pending;
    vo.log = stderr;
    if (s == CCZ_OK)
        s = ccz_heq_service_new(&svc, p.srv, &vo);
    if (s == CCZ_OK)
        s = cli_rpc_side_listen(&p, &a);
    if (s) {
        r = cli_fail(s, "he query serve");
        goto out;
    }
    fprintf(stderr,
            "ccz he query: serving ccz.hequery.HeQuery on port %d (%zu entries; algorithms "
            "faithful, fast, packed; mode %s)%s\n",
            p.port, ccz_heq_db_size(db), a.mode == CCZ_RATLS_TWO_WAY ? "two-way" : "server",
            cli_rpc_side_sim(&p));
    s = cli_rpc_side_run(&p, "he query", 2000);
    if (s)
        r = cli_fail(s, "he query serve");
    else
        fprintf(stderr, "ccz he query: stopped\n");
out:
    ccz_heq_service_free(svc);
    cli_rpc_side_free(&p, &a);
    ccz_heq_server_free(hs);
    ccz_heq_db_free(db);
    return r;
}

/* ---- lookup ----------------------------------------------------------------------------------*/

static void report(const ccz_heq_lookup_result *res, ccz_heq_algorithm alg)
{
    fprintf(stderr,
            "ccz he query: %s, noise budget %d bits left; client: keys %.3f s, encrypt %.3f s, "
            "call %.3f s, decrypt %.3f s; server: load %.3f s, setup %.3f s, search %.3f s; "
            "sent %zu bytes, received %zu\n",
            ccz_heq_algorithm_name(alg), res->noise_budget, res->keygen_s, res->encrypt_s,
            res->call_s, res->decrypt_s, res->server_load_s, res->server_setup_s,
            res->server_search_s, res->sent, res->received);
}

static int lookup(int argc, char **argv)
{
    cli_args a = {0};
    int r = cli_parse(&a, argc, argv, &query_group, cli_command_opts(&query_group, argv[0]));
    if (r)
        return r < 0 ? EXIT_OK : r;
    if (argc - optind != 1 || !a.key)
        return cli_usage_error("he", "usage: ccz he query lookup HOST:PORT --key KEY [options]");
    if (!a.key[0])
        return cli_usage_error("he", "--key: the key is empty");
    if (a.mode == CCZ_RATLS_CLIENT)
        return cli_usage_error("he", "--mode client: the client must attest the server (use "
                                     "two-way or server)");
    if (!a.cert != !a.cert_key)
        return cli_usage_error("he", "--cert and --cert-key go together");
    ccz_heq_lookup_opts lo = CCZ_HEQ_LOOKUP_OPTS_INIT;
    if (a.algorithm && ccz_heq_algorithm_parse(&lo.algorithm, a.algorithm))
        return cli_usage_error("he", "--algorithm: %s", ccz_error_detail());
    lo.deadline_ms = a.deadline_ms;
    size_t len = strlen(a.key);
    if (len > CCZ_HEQ_KEY_BYTES)
        fprintf(stderr,
                "ccz he query: keys are compared on their first %d bytes: looking up "
                "'%.*s'\n",
                CCZ_HEQ_KEY_BYTES, CCZ_HEQ_KEY_BYTES, a.key);
    signal(SIGPIPE, SIG_IGN);
    cli_rpc_side p = {0};
    ccz_heq_lookup_result res = {0};
    ccz_status s = side(&p, &a, argv[optind]);
    if (s == CCZ_OK)
        s = ccz_heq_lookup(&res, p.ch, &lo, CCZ_SPAN(a.key, len));
    if (s) {
        r = cli_fail(s, "he query lookup");
    } else if (res.code != CCZ_RPC_OK) {
        fprintf(stderr, "ccz: he query lookup: %s (%d): %s\n", ccz_rpc_code_name(res.code),
                res.code, res.message);
        r = EXIT_REJECT;
    } else {
        report(&res, lo.algorithm);
        if (res.value.len)
            fwrite(res.value.ptr, 1, res.value.len, stdout);
        putchar('\n');
        if (fflush(stdout) != 0)
            r = cli_fail(ccz_fail(CCZ_ERR_IO, "cannot write the value"), "he query lookup");
    }
    ccz_buf_free(&res.value);
    cli_rpc_side_free(&p, &a);
    return r;
}
