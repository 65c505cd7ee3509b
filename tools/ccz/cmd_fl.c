/* SPDX-License-Identifier: Apache-2.0 */
/* ccz fl: federated learning. homo-lr is CCZoo's homomorphic logistic regression
 * (cczoo/phe_homo_lr) over RA-gRPC (proto/homo_lr.proto): a parameter server in a TEE holds the
 * Paillier key, workers attest it (and, two-way, it them) and train on their own rows. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccz/fl.h"
#include "endpoint.h"

static const char fl_usage[] =
    "usage: ccz fl homo-lr server --listen ADDR --workers N --iterations K --test FILE\n"
    "                             [--validate-every N] [--bits B] [--timeout MS] [--threads N]\n"
    "                             [--out FILE] [--trace FILE] [--mode two-way|server]\n"
    "                             [--handshake-timeout MS] [--idle-timeout MS] [--max-conns N]\n"
    "                             [--cert CERT --key KEY | attester options] [verify options]\n"
    "       ccz fl homo-lr worker HOST:PORT --data FILE --id N [--name NAME] [--timeout MS]\n"
    "                             [--threads N] [--mode two-way|server]\n"
    "                             [--cert CERT --key KEY | attester options] [verify options]\n"
    "       ccz fl serve --listen ADDR --rounds R --min-clients K [options]\n"
    "       ccz fl join HOST:PORT --data IMAGES --name NAME [options]\n"
    "\n"
    "homo-lr is CCZoo's homomorphic logistic regression (package homolr, proto/homo_lr.proto)\n"
    "over RA-gRPC. The server makes a Paillier key of --bits bits (default 1024, as CCZoo's)\n"
    "and keeps its private half; each worker attests the server, gets the public key and the\n"
    "plan, and per iteration computes on its own rows, with the model encrypted: z = Enc(w) . x\n"
    "(a bias column first), the Taylor sigmoid 0.5 + 0.25 z, the gradient with L2 (alpha 0.01)\n"
    "and the step w - 0.15 / sqrt(1 + t) gradient. The server averages the N workers' encrypted\n"
    "weights, decrypts the average and encrypts it afresh, and validates on --test FILE every\n"
    "--validate-every iterations (default 10) and after the last: 'iter: T  acc: A  loss: L'\n"
    "on standard error, then 'accuracy: A' on standard output; --out FILE writes the final\n"
    "weights (JSON). A worker that sends nothing for --timeout MS (default 60000), or leaves\n"
    "while the others wait, ends the training for everyone with a message naming it; malformed\n"
    "weights get INVALID_ARGUMENT and the server goes on. --trace FILE (testing only) writes\n"
    "every iteration's decrypted weights, each worker's and the average: they leave the TEE.\n"
    "Data files are CCZoo's CSV: a header, then id, y (0 or 1) and the features per line.\n"
    "worker prints its progress per iteration and the server's validations on standard error,\n"
    "and 'accuracy: A' at the end; --timeout MS bounds each call (default 300000). --id is the\n"
    "worker's number (unique in the training), --name its name in the server's log.\n"
    "Modes: two-way (the default: the server and every worker attested; the server admits\n"
    "workers by its --policy), server (only the server attested: workers without TEE, as\n"
    "CCZoo's).\n"
    "serve and join are horizontal federated learning with an attested aggregator (FedAvg,\n"
    "FedProx, FedAdam over RA-gRPC): see 'ccz fl serve --help'.\n" CLI_VERIFY_HELP
        CLI_ATTESTER_HELP;

static int hlr_server(int argc, char **argv);
static int hlr_worker(int argc, char **argv);

static const cli_command hlr_cmds[] = {
    {"server", hlr_server, NULL,
     CLI_FRAG_ENDPOINT | CLI_OPT(CLI_O_LISTEN) | CLI_OPT(CLI_O_WORKERS) |
         CLI_OPT(CLI_O_ITERATIONS) | CLI_OPT(CLI_O_TEST) | CLI_OPT(CLI_O_VALIDATE_EVERY) |
         CLI_OPT(CLI_O_BITS) | CLI_OPT(CLI_O_TIMEOUT) | CLI_OPT(CLI_O_THREADS) |
         CLI_OPT(CLI_O_OUT) | CLI_OPT(CLI_O_TRACE) | CLI_OPT(CLI_O_HS_TIMEOUT) |
         CLI_OPT(CLI_O_IDLE_TIMEOUT) | CLI_OPT(CLI_O_MAX_CONNS) | CLI_FRAG_HELP},
    {"worker", hlr_worker, NULL,
     CLI_FRAG_ENDPOINT | CLI_OPT(CLI_O_DATA) | CLI_OPT(CLI_O_ID) | CLI_OPT(CLI_O_NAME) |
         CLI_OPT(CLI_O_TIMEOUT) | CLI_OPT(CLI_O_THREADS) | CLI_FRAG_HELP},
};
static const cli_group hlr_group =
    CLI_GROUP("fl", fl_usage, hlr_cmds, "command", " (try: server, worker)",
              "usage: ccz fl homo-lr server|worker ...");

static int homo_lr(int argc, char **argv)
{
    return cli_dispatch(&hlr_group, argc, argv);
}

/* horizontal FL (cmd_fl_hfl.c) */
int cmd_fl_serve(int argc, char **argv);
int cmd_fl_join(int argc, char **argv);

static const cli_command fl_cmds[] = {
    {"homo-lr", homo_lr, NULL, 0},
    {"serve", cmd_fl_serve, NULL, 0},
    {"join", cmd_fl_join, NULL, 0},
};
static const cli_group fl_group =
    CLI_GROUP("fl", fl_usage, fl_cmds, "algorithm", " (try: homo-lr, serve, join)", NULL);

int cmd_fl(int argc, char **argv)
{
    return cli_dispatch(&fl_group, argc, argv);
}

/* ---- server ----------------------------------------------------------------------------------*/

static void on_over(const ccz_fl_hlr_status *st, void *payload)
{
    (void)st;
    ccz_rpc_server_shutdown(payload, 2000);
}

static ccz_status write_model(const char *path, const ccz_fl_hlr_status *st)
{
    ccz_buf b = CCZ_BUF_INIT;
    char num[64];
    ccz_status s = ccz_buf_append(&b, "{\"weights\": [", 13);
    for (size_t i = 0; i < st->dim && s == CCZ_OK; i++) {
        int n = snprintf(num, sizeof num, "%s%.17g", i ? ", " : "", st->weights[i]);
        s = ccz_buf_append(&b, num, (size_t)n);
    }
    int n = snprintf(num, sizeof num, "], \"iterations\": %u}\n", st->iterations);
    if (s == CCZ_OK)
        s = ccz_buf_append(&b, num, (size_t)n);
    if (s == CCZ_OK)
        s = ccz_file_write(path, ccz_buf_span(&b), 0644);
    ccz_buf_free(&b);
    return s;
}

static int hlr_server(int argc, char **argv)
{
    cli_args a = {0};
    int r = cli_parse(&a, argc, argv, &hlr_group, cli_command_opts(&hlr_group, argv[0]));
    if (r)
        return r < 0 ? EXIT_OK : r;
    if (!a.listen || !a.workers || !a.iterations || !a.test || optind != argc)
        return cli_usage_error("fl", "usage: ccz fl homo-lr server --listen ADDR --workers N "
                                     "--iterations K --test FILE [options]");
    if (a.mode == CCZ_RATLS_CLIENT)
        return cli_usage_error("fl", "--mode client: the workers must attest the server (use "
                                     "two-way or server)");
    signal(SIGPIPE, SIG_IGN);
    cli_block_stop_signals();
    cli_endpoint e = {0};
    SSL_CTX *ctx = NULL;
    ccz_rpc_server *srv = NULL;
    ccz_fl_hlr_service *svc = NULL;
    ccz_paillier_key *key = NULL;
    ccz_ml_dataset test = {0};
    FILE *trace = NULL;
    int port = 0;
    unsigned bits = a.bits ? (unsigned)a.bits : 1024;
    ccz_status s = ccz_ml_dataset_load(&test, a.test);
    if (s == CCZ_OK && a.trace && !(trace = fopen(a.trace, "w")))
        s = ccz_fail(CCZ_ERR_IO, "cannot write %s", a.trace);
    double t0 = cli_now();
    if (s == CCZ_OK)
        s = ccz_paillier_keygen(&key, bits);
    if (s == CCZ_OK)
        fprintf(stderr,
                "ccz fl: a %u-bit Paillier key, made in %.2f s; its private half stays "
                "in this process\n",
                bits, cli_now() - t0);
    if (s == CCZ_OK && bits < 2048)
        fprintf(stderr,
                "ccz fl: warning: %u bits is CCZoo's key size and short: use --bits 2048 "
                "or more for data that matters\n",
                bits);
    if (s == CCZ_OK)
        s = cli_endpoint_setup(&e, &a, true, &ctx, cli_print_verdict);
    ccz_rpc_server_opts so = CCZ_RPC_SERVER_OPTS_INIT;
    so.tls = ctx;
    so.handshake_timeout_ms = (unsigned)a.handshake_timeout_ms;
    so.idle_timeout_ms = (unsigned)a.idle_timeout_ms;
    so.max_connections = (unsigned)a.max_conns;
    if (s == CCZ_OK)
        s = ccz_rpc_server_new(&srv, &so);
    ccz_fl_hlr_service_opts o = CCZ_FL_HLR_SERVICE_OPTS_INIT;
    o.key = key;
    o.workers = (unsigned)a.workers;
    o.iterations = (unsigned)a.iterations;
    o.test = &test;
    o.validate_every = (unsigned)a.validate_every;
    o.timeout_ms = (unsigned)a.timeout_ms;
    o.threads = (unsigned)a.threads;
    o.log = stderr;
    o.trace = trace;
    o.on_over = on_over;
    o.payload = srv;
    if (s == CCZ_OK)
        s = ccz_fl_hlr_service_new(&svc, srv, &o);
    if (s == CCZ_OK)
        s = ccz_rpc_server_listen(srv, &port, a.listen);
    if (s) {
        r = cli_fail(s, "fl homo-lr server");
        goto out;
    }
    fprintf(stderr,
            "ccz fl: serving homolr.Host on port %d (mode %s, %ld workers, %ld iterations, "
            "%zu features)%s\n",
            port, a.mode == CCZ_RATLS_TWO_WAY ? "two-way" : "server", a.workers, a.iterations,
            test.features,
            e.attester && ccz_attester_tee(e.attester) == CCZ_TEE_SIM ? " [SIMULATED TEE]" : "");
    cli_rpc_stop_on_signal(srv, "fl", 2000);
    s = ccz_rpc_server_run(srv);
    const ccz_fl_hlr_status *st = ccz_fl_hlr_service_status(svc);
    if (s) {
        r = cli_fail(s, "fl homo-lr server");
    } else if (!st->over || st->code != CCZ_RPC_OK) {
        fprintf(stderr, "ccz: fl homo-lr server: %s\n",
                st->over ? st->message : "stopped before the training was over");
        r = EXIT_REJECT;
    } else if (a.out && (s = write_model(a.out, st)) != CCZ_OK) {
        r = cli_fail(s, "fl homo-lr server: --out");
    } else if (st->validated >= 0) {
        printf("accuracy: %.3f\n", st->acc);
    }
out:
    ccz_fl_hlr_service_free(svc);
    ccz_rpc_server_free(srv);
    SSL_CTX_free(ctx);
    cli_endpoint_free(&e);
    cli_attester_free(&a.ca);
    ccz_paillier_key_free(key);
    ccz_ml_dataset_free(&test);
    if (trace)
        fclose(trace);
    return r;
}

/* ---- worker ----------------------------------------------------------------------------------*/

static void on_progress(unsigned iter, unsigned iterations, double seconds, int validated,
                        double acc, double loss, void *payload)
{
    (void)payload;
    fprintf(stderr, "ccz fl: iteration %u of %u: %.3f s\n", iter + 1, iterations, seconds);
    if (validated >= 0)
        fprintf(stderr, "ccz fl: iter: %d  acc: %.3f  loss: %.3f\n", validated, acc, loss);
}

static int hlr_worker(int argc, char **argv)
{
    cli_args a = {0};
    int r = cli_parse(&a, argc, argv, &hlr_group, cli_command_opts(&hlr_group, argv[0]));
    if (r)
        return r < 0 ? EXIT_OK : r;
    if (argc - optind != 1 || !a.data || !a.have_id)
        return cli_usage_error("fl", "usage: ccz fl homo-lr worker HOST:PORT --data FILE --id N "
                                     "[options]");
    if (a.mode == CCZ_RATLS_CLIENT)
        return cli_usage_error("fl", "--mode client: a worker must attest the server (use "
                                     "two-way or server)");
    signal(SIGPIPE, SIG_IGN);
    cli_endpoint e = {0};
    SSL_CTX *ctx = NULL;
    ccz_rpc_channel *ch = NULL;
    ccz_ml_dataset d = {0};
    ccz_status s = ccz_ml_dataset_load(&d, a.data);
    if (s == CCZ_OK)
        s = cli_endpoint_setup(&e, &a, false, &ctx, cli_print_verdict);
    ccz_rpc_channel_opts co = CCZ_RPC_CHANNEL_OPTS_INIT;
    co.tls = ctx;
    if (s == CCZ_OK)
        s = ccz_rpc_channel_new(&ch, argv[optind], &co);
    if (s) {
        r = cli_fail(s, "fl homo-lr worker");
        goto out;
    }
    fprintf(stderr, "ccz fl: worker %ld%s%s%s: %zu rows of %zu features\n", a.id,
            a.name ? " (" : "", a.name ? a.name : "", a.name ? ")" : "", d.rows, d.features);
    ccz_fl_hlr_work_opts wo = CCZ_FL_HLR_WORK_OPTS_INIT;
    wo.id = (int)a.id;
    wo.name = a.name;
    wo.deadline_ms = a.timeout_ms ? a.timeout_ms : 300000;
    wo.threads = (unsigned)a.threads;
    wo.progress = on_progress;
    ccz_fl_hlr_work_result res;
    s = ccz_fl_hlr_work(ch, &wo, &d, &res);
    if (s) {
        r = cli_fail(s, "fl homo-lr worker");
    } else if (res.code != CCZ_RPC_OK) {
        fprintf(stderr, "ccz: fl homo-lr worker: %s: %s (%d): %s\n", res.method,
                ccz_rpc_code_name(res.code), res.code, res.message);
        r = EXIT_REJECT;
    } else {
        fprintf(stderr, "ccz fl: %u iterations in %.1f s (%.3f s per iteration)\n", res.iterations,
                res.seconds, res.iterations ? res.seconds / res.iterations : 0);
        if (res.validated >= 0)
            printf("accuracy: %.3f\n", res.acc);
    }
out:
    ccz_rpc_channel_free(ch);
    SSL_CTX_free(ctx);
    cli_endpoint_free(&e);
    cli_attester_free(&a.ca);
    ccz_ml_dataset_free(&d);
    return r;
}
