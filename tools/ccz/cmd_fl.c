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
    "usage: ccz fl homo-lr serve --listen ADDR --workers N --iterations K --test FILE\n"
    "                            [--validate-every N] [--bits B] [--timeout MS] [--threads N]\n"
    "                            [--out FILE] [--trace FILE] [--mode two-way|server]\n"
    "                            [--handshake-timeout MS] [--idle-timeout MS] [--max-conns N]\n"
    "                            [--max-per-peer N]\n"
    "                            [--cert CERT --key KEY | attester options] [verify options]\n"
    "       ccz fl homo-lr work HOST:PORT --data FILE --id N [--name NAME] [--timeout MS]\n"
    "                           [--threads N] [--mode two-way|server]\n"
    "                           [--cert CERT --key KEY | attester options] [verify options]\n"
    "       ccz fl serve --listen ADDR --rounds R --min-clients K [options]\n"
    "       ccz fl join HOST:PORT --data IMAGES --name NAME [options]\n"
    "       ccz fl hetero-lr arbiter|guest|host|split ...  (see 'ccz fl hetero-lr --help')\n"
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
    "work prints its progress per iteration and the server's validations on standard error,\n"
    "and 'accuracy: A' at the end; --timeout MS bounds each call (default 300000). --id is the\n"
    "worker's number (unique in the training), --name its name in the server's log.\n"
    "Modes: two-way (the default: the server and every worker attested; the server admits\n"
    "workers by its --policy), server (only the server attested: workers without TEE, as\n"
    "CCZoo's). 'server' and 'worker' are accepted as other names of serve and work.\n"
    "serve and join are horizontal federated learning with an attested aggregator (FedAvg,\n"
    "FedProx, FedAdam over RA-gRPC): see 'ccz fl serve --help'.\n" CLI_VERIFY_HELP
        CLI_ATTESTER_HELP;

static int hlr_server(int argc, char **argv);
static int hlr_worker(int argc, char **argv);

#define HLR_SERVE_OPTS                                                                             \
    (CLI_FRAG_ENDPOINT | CLI_OPT(CLI_O_LISTEN) | CLI_OPT(CLI_O_WORKERS) |                          \
     CLI_OPT(CLI_O_ITERATIONS) | CLI_OPT(CLI_O_TEST) | CLI_OPT(CLI_O_VALIDATE_EVERY) |             \
     CLI_OPT(CLI_O_BITS) | CLI_OPT(CLI_O_TIMEOUT) | CLI_OPT(CLI_O_THREADS) | CLI_OPT(CLI_O_OUT) |  \
     CLI_OPT(CLI_O_TRACE) | CLI_OPT(CLI_O_HS_TIMEOUT) | CLI_OPT(CLI_O_IDLE_TIMEOUT) |              \
     CLI_OPT(CLI_O_MAX_CONNS) | CLI_OPT(CLI_O_MAX_PER_PEER) | CLI_FRAG_HELP)
#define HLR_WORK_OPTS                                                                              \
    (CLI_FRAG_ENDPOINT | CLI_OPT(CLI_O_DATA) | CLI_OPT(CLI_O_ID) | CLI_OPT(CLI_O_NAME) |           \
     CLI_OPT(CLI_O_TIMEOUT) | CLI_OPT(CLI_O_THREADS) | CLI_FRAG_HELP)

/* serve and work are the names docs/cli.md gives; server and worker, the first ones, stay */
static const cli_command hlr_cmds[] = {
    {"serve", hlr_server, NULL, HLR_SERVE_OPTS},
    {"work", hlr_worker, NULL, HLR_WORK_OPTS},
    {"server", hlr_server, NULL, HLR_SERVE_OPTS},
    {"worker", hlr_worker, NULL, HLR_WORK_OPTS},
};
static const cli_group hlr_group =
    CLI_GROUP("fl homo-lr", fl_usage, hlr_cmds, "command", " (try: serve, work)",
              "usage: ccz fl homo-lr serve|work ...");

static int homo_lr(int argc, char **argv)
{
    return cli_dispatch(&hlr_group, argc, argv);
}

/* horizontal FL (cmd_fl_hfl.c) */
int cmd_fl_serve(int argc, char **argv);
int cmd_fl_join(int argc, char **argv);

static const char vlr_usage[] =
    "usage: ccz fl hetero-lr split --data SKLEARN_CSV --out DIR [--hosts N]\n"
    "       ccz fl hetero-lr arbiter --listen ADDR --hosts N --epochs K [--batch-size B]\n"
    "                                [--bits B] [--timeout MS] [--threads N] [--mode two-way]\n"
    "                                [--handshake-timeout MS] [--idle-timeout MS] [--max-conns N]\n"
    "                                [--max-per-peer N]\n"
    "                                [--cert CERT --key KEY | attester options] [verify options]\n"
    "       ccz fl hetero-lr guest|host HOST:PORT --data FILE --id N [--name NAME] [--timeout MS]\n"
    "                                [--threads N] [--out FILE] [--trace FILE]\n"
    "                                [--cert CERT --key KEY | attester options] [verify options]\n"
    "\n"
    "hetero-lr is FATE's vertical logistic regression with an arbiter, the arbiter in a TEE\n"
    "holding a Paillier key of --bits bits (default 1024, as FATE's). The guest has the labels and\n"
    "some features of each id, the hosts other features of the same ids. They join the arbiter\n"
    "over two-way RA-gRPC (it admits them by its --policy; they check it by theirs), the rows are\n"
    "aligned by id, and per mini-batch of --batch-size rows (default all) the hosts' encrypted\n"
    "scores reach the guest, the guest's encrypted residuals the hosts, and each party's\n"
    "gradient, encrypted and masked, is decrypted by the arbiter; each party adds L2 (alpha 0.01)\n"
    "and takes a Nesterov step (momentum 0.9, 0.15 / sqrt(1 + epoch)). The arbiter decodes the\n"
    "encrypted Taylor loss (one host only, as FATE) and stops after an epoch whose loss moved less\n"
    "than 1e-4, or after --epochs K; it prints 'epoch E: loss L' on standard error and 'loss: L'\n"
    "on standard output. After the training the hosts send the guest their scores of every\n"
    "aligned row (in the clear, as FATE's prediction does) and the guest prints 'accuracy: A'\n"
    "and 'auc: A' (training rows). A party that sends nothing for --timeout MS (arbiter, default\n"
    "60000), or leaves while the others wait, ends the training for everyone with a message\n"
    "naming it. guest data: FATE's CSV, a header then id,y,x0,...; host data: id,x0,...; ids\n"
    "integers. --out FILE writes the party's weights (JSON), --trace FILE its weights after each\n"
    "epoch (JSON lines; they are the party's own). split reads scikit-learn's breast-cancer CSV\n"
    "(python3-sklearn's datasets/data/breast_cancer.csv), z-scores every feature and writes\n"
    "DIR/guest.csv (the first 10 features and the label) and DIR/host.csv (the other 20), or\n"
    "with --hosts N > 1 DIR/host1.csv ... split evenly.\n" CLI_VERIFY_HELP CLI_ATTESTER_HELP;

static int vlr_split(int argc, char **argv);
static int vlr_arbiter(int argc, char **argv);
static int vlr_party(int argc, char **argv);

static const cli_command vlr_cmds[] = {
    {"split", vlr_split, NULL,
     CLI_OPT(CLI_O_DATA) | CLI_OPT(CLI_O_OUT) | CLI_OPT(CLI_O_HOSTS) | CLI_FRAG_HELP},
    {"arbiter", vlr_arbiter, NULL,
     CLI_FRAG_ENDPOINT | CLI_OPT(CLI_O_LISTEN) | CLI_OPT(CLI_O_HOSTS) | CLI_OPT(CLI_O_EPOCHS) |
         CLI_OPT(CLI_O_BATCH_SIZE) | CLI_OPT(CLI_O_BITS) | CLI_OPT(CLI_O_TIMEOUT) |
         CLI_OPT(CLI_O_THREADS) | CLI_OPT(CLI_O_HS_TIMEOUT) | CLI_OPT(CLI_O_IDLE_TIMEOUT) |
         CLI_OPT(CLI_O_MAX_CONNS) | CLI_OPT(CLI_O_MAX_PER_PEER) | CLI_FRAG_HELP},
    {"guest", vlr_party, NULL,
     CLI_FRAG_ENDPOINT | CLI_OPT(CLI_O_DATA) | CLI_OPT(CLI_O_ID) | CLI_OPT(CLI_O_NAME) |
         CLI_OPT(CLI_O_TIMEOUT) | CLI_OPT(CLI_O_THREADS) | CLI_OPT(CLI_O_OUT) |
         CLI_OPT(CLI_O_TRACE) | CLI_FRAG_HELP},
    {"host", vlr_party, NULL,
     CLI_FRAG_ENDPOINT | CLI_OPT(CLI_O_DATA) | CLI_OPT(CLI_O_ID) | CLI_OPT(CLI_O_NAME) |
         CLI_OPT(CLI_O_TIMEOUT) | CLI_OPT(CLI_O_THREADS) | CLI_OPT(CLI_O_OUT) |
         CLI_OPT(CLI_O_TRACE) | CLI_FRAG_HELP},
};
static const cli_group vlr_group =
    CLI_GROUP("fl hetero-lr", vlr_usage, vlr_cmds, "command", " (try: arbiter, guest, host, split)",
              "usage: ccz fl hetero-lr arbiter|guest|host|split ...");

static int hetero_lr(int argc, char **argv)
{
    return cli_dispatch(&vlr_group, argc, argv);
}

static const cli_command fl_cmds[] = {
    {"homo-lr", homo_lr, NULL, 0},
    {"hetero-lr", hetero_lr, NULL, 0},
    {"serve", cmd_fl_serve, NULL, 0},
    {"join", cmd_fl_join, NULL, 0},
};
static const cli_group fl_group = CLI_GROUP("fl", fl_usage, fl_cmds, "algorithm",
                                            " (try: homo-lr, hetero-lr, serve, join)", NULL);

int cmd_fl(int argc, char **argv)
{
    return cli_dispatch(&fl_group, argc, argv);
}

/* --trace FILE is closed last: a write that failed (a full disk) fails the command that
   otherwise succeeded, naming the file, rather than leaving a cut trace behind an exit of 0 */
static int close_trace(FILE *trace, const char *path, int r, const char *what)
{
    if (!trace)
        return r;
    int bad = ferror(trace);
    if (fclose(trace) != 0 || bad) {
        int rf = cli_fail(ccz_fail(CCZ_ERR_IO, "cannot write %s", path), "%s: --trace", what);
        if (r == EXIT_SUCCESS)
            r = rf;
    }
    return r;
}

/* ---- homo-lr server ----------------------------------------------------------------------------------*/

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
        return cli_usage_error("fl", "usage: ccz fl homo-lr serve --listen ADDR --workers N "
                                     "--iterations K --test FILE [options]");
    if (a.mode == CCZ_RATLS_CLIENT)
        return cli_usage_error("fl", "--mode client: the workers must attest the server (use "
                                     "two-way or server)");
    signal(SIGPIPE, SIG_IGN);
    cli_block_stop_signals();
    cli_rpc_side p = {0};
    ccz_fl_hlr_service *svc = NULL;
    ccz_paillier_key *key = NULL;
    ccz_ml_dataset test = {0};
    FILE *trace = NULL;
    unsigned bits = a.bits ? (unsigned)a.bits : 1024;
    ccz_status s = ccz_ml_dataset_load(&test, a.test);
    if (s == CCZ_OK)
        s = cli_out_ready(a.out, "--out"); /* before the key, the listener and the training */
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
        s = cli_rpc_side_serve(&p, &a, 0);
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
    o.payload = p.srv;
    if (s == CCZ_OK)
        s = ccz_fl_hlr_service_new(&svc, p.srv, &o);
    if (s == CCZ_OK)
        s = cli_rpc_side_listen(&p, &a);
    if (s) {
        r = cli_fail(s, "fl homo-lr serve");
        goto out;
    }
    fprintf(stderr,
            "ccz fl: serving homolr.Host on port %d (mode %s, %ld workers, %ld iterations, "
            "%zu features)%s\n",
            p.port, a.mode == CCZ_RATLS_TWO_WAY ? "two-way" : "server", a.workers, a.iterations,
            test.features, cli_rpc_side_sim(&p));
    s = cli_rpc_side_run(&p, "fl", 2000);
    const ccz_fl_hlr_status *st = ccz_fl_hlr_service_status(svc);
    if (s) {
        r = cli_fail(s, "fl homo-lr serve");
    } else if (!st->over || st->code != CCZ_RPC_OK) {
        fprintf(stderr, "ccz: fl homo-lr serve: %s\n",
                st->over ? st->message : "stopped before the training was over");
        r = EXIT_REJECT;
    } else if (a.out && (s = write_model(a.out, st)) != CCZ_OK) {
        r = cli_fail(s, "fl homo-lr serve: --out");
    } else if (st->validated >= 0) {
        printf("accuracy: %.3f\n", st->acc);
    }
out:
    ccz_fl_hlr_service_free(svc);
    cli_rpc_side_free(&p, &a);
    ccz_paillier_key_free(key);
    ccz_ml_dataset_free(&test);
    return close_trace(trace, a.trace, r, "fl homo-lr serve");
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
        return cli_usage_error("fl", "usage: ccz fl homo-lr work HOST:PORT --data FILE --id N "
                                     "[options]");
    if (a.mode == CCZ_RATLS_CLIENT)
        return cli_usage_error("fl", "--mode client: a worker must attest the server (use "
                                     "two-way or server)");
    signal(SIGPIPE, SIG_IGN);
    cli_rpc_side p = {0};
    ccz_ml_dataset d = {0};
    ccz_status s = ccz_ml_dataset_load(&d, a.data);
    if (s == CCZ_OK)
        s = cli_rpc_side_connect(&p, &a, argv[optind],
                                 (ccz_rpc_channel_opts)CCZ_RPC_CHANNEL_OPTS_INIT);
    if (s) {
        r = cli_fail(s, "fl homo-lr work");
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
    s = ccz_fl_hlr_work(p.ch, &wo, &d, &res);
    if (s) {
        r = cli_fail(s, "fl homo-lr work");
    } else if (res.code != CCZ_RPC_OK) {
        fprintf(stderr, "ccz: fl homo-lr work: %s: %s (%d): %s\n", res.method,
                ccz_rpc_code_name(res.code), res.code, res.message);
        r = EXIT_REJECT;
    } else {
        fprintf(stderr, "ccz fl: %u iterations in %.1f s (%.3f s per iteration)\n", res.iterations,
                res.seconds, res.iterations ? res.seconds / res.iterations : 0);
        if (res.validated >= 0)
            printf("accuracy: %.3f\n", res.acc);
    }
out:
    cli_rpc_side_free(&p, &a);
    ccz_ml_dataset_free(&d);
    return r;
}

/* ---- hetero-lr -------------------------------------------------------------------------------*/

static ccz_status write_csv(const char *path, const ccz_ml_dataset *d, size_t from, size_t count,
                            bool label)
{
    ccz_buf b = CCZ_BUF_INIT;
    char num[64];
    ccz_status s = ccz_buf_append(&b, label ? "id,y" : "id", label ? 4 : 2);
    for (size_t f = 0; f < count && s == CCZ_OK; f++) {
        int n = snprintf(num, sizeof num, ",x%zu", f);
        s = ccz_buf_append(&b, num, (size_t)n);
    }
    for (size_t r = 0; r < d->rows && s == CCZ_OK; r++) {
        int n = snprintf(num, sizeof num, "\n%lld", (long long)d->ids[r]);
        if (label)
            n += snprintf(num + n, sizeof num - (size_t)n, ",%d", d->y[r]);
        s = ccz_buf_append(&b, num, (size_t)n);
        for (size_t f = 0; f < count && s == CCZ_OK; f++) {
            n = snprintf(num, sizeof num, ",%.17g", d->x[r * d->features + from + f]);
            s = ccz_buf_append(&b, num, (size_t)n);
        }
    }
    if (s == CCZ_OK)
        s = ccz_buf_append(&b, "\n", 1);
    if (s == CCZ_OK)
        s = ccz_file_write(path, ccz_buf_span(&b), 0644);
    ccz_buf_free(&b);
    return s;
}

static int vlr_split(int argc, char **argv)
{
    cli_args a = {0};
    int r = cli_parse(&a, argc, argv, &vlr_group, cli_command_opts(&vlr_group, argv[0]));
    if (r)
        return r < 0 ? EXIT_OK : r;
    if (!a.data || !a.out || optind != argc)
        return cli_usage_error("fl", "usage: ccz fl hetero-lr split --data SKLEARN_CSV --out DIR "
                                     "[--hosts N]");
    ccz_ml_dataset d = {0};
    ccz_status s = ccz_ml_dataset_read(&d, a.data, CCZ_ML_CSV_SKLEARN);
    long hosts = a.hosts ? a.hosts : 1;
    if (s == CCZ_OK && d.features < 11 + (size_t)hosts - 1)
        s = ccz_fail(CCZ_ERR_INVALID_ARGUMENT,
                     "%zu features: the guest takes 10, each host one "
                     "or more",
                     d.features);
    if (s) {
        ccz_ml_dataset_free(&d);
        return cli_fail(s, "fl hetero-lr split");
    }
    ccz_fl_vlr_zscore(&d);
    char path[4096];
    snprintf(path, sizeof path, "%s/guest.csv", a.out);
    s = write_csv(path, &d, 0, 10, true);
    size_t rest = d.features - 10, from = 10;
    for (long h = 0; h < hosts && s == CCZ_OK; h++) {
        size_t count = rest / (size_t)hosts + ((size_t)h < rest % (size_t)hosts);
        if (hosts == 1)
            snprintf(path, sizeof path, "%s/host.csv", a.out);
        else
            snprintf(path, sizeof path, "%s/host%ld.csv", a.out, h + 1);
        s = write_csv(path, &d, from, count, false);
        from += count;
    }
    if (s == CCZ_OK)
        fprintf(stderr,
                "ccz fl: %zu rows, z-scored: guest.csv has the labels and 10 features, %ld host "
                "file%s the other %zu\n",
                d.rows, hosts, hosts > 1 ? "s" : "", rest);
    ccz_ml_dataset_free(&d);
    return s ? cli_fail(s, "fl hetero-lr split") : EXIT_OK;
}

static void vlr_on_over(const ccz_fl_vlr_status *st, void *payload)
{
    (void)st;
    ccz_rpc_server_shutdown(payload, 2000);
}

static int vlr_arbiter(int argc, char **argv)
{
    cli_args a = {0};
    int r = cli_parse(&a, argc, argv, &vlr_group, cli_command_opts(&vlr_group, argv[0]));
    if (r)
        return r < 0 ? EXIT_OK : r;
    if (!a.listen || !a.hosts || !a.epochs || optind != argc)
        return cli_usage_error("fl", "usage: ccz fl hetero-lr arbiter --listen ADDR --hosts N "
                                     "--epochs K [options]");
    if (a.mode != CCZ_RATLS_TWO_WAY)
        return cli_usage_error("fl", "--mode: hetero-lr runs two-way RA-TLS only (every party "
                                     "attested)");
    signal(SIGPIPE, SIG_IGN);
    cli_block_stop_signals();
    cli_rpc_side p = {0};
    ccz_fl_vlr_service *svc = NULL;
    ccz_paillier_key *key = NULL;
    unsigned bits = a.bits ? (unsigned)a.bits : 1024;
    double t0 = cli_now();
    ccz_status s = ccz_paillier_keygen(&key, bits);
    if (s == CCZ_OK)
        fprintf(stderr,
                "ccz fl: a %u-bit Paillier key, made in %.2f s; its private half stays in this "
                "process\n",
                bits, cli_now() - t0);
    if (s == CCZ_OK)
        s = cli_rpc_side_serve(&p, &a, 0);
    ccz_fl_vlr_service_opts o = CCZ_FL_VLR_SERVICE_OPTS_INIT;
    o.key = key;
    o.hosts = (unsigned)a.hosts;
    o.epochs = (unsigned)a.epochs;
    o.batch_size = (size_t)a.batch_size;
    o.timeout_ms = (unsigned)a.timeout_ms;
    o.threads = (unsigned)a.threads;
    o.log = stderr;
    o.on_over = vlr_on_over;
    o.payload = p.srv;
    if (s == CCZ_OK)
        s = ccz_fl_vlr_service_new(&svc, p.srv, &o);
    if (s == CCZ_OK)
        s = cli_rpc_side_listen(&p, &a);
    if (s) {
        r = cli_fail(s, "fl hetero-lr arbiter");
        goto out;
    }
    fprintf(stderr,
            "ccz fl: serving heterolr.Arbiter on port %d (mode %s, %ld hosts, %ld epochs)%s\n",
            p.port, "two-way", a.hosts, a.epochs, cli_rpc_side_sim(&p));
    s = cli_rpc_side_run(&p, "fl", 2000);
    const ccz_fl_vlr_status *st = ccz_fl_vlr_service_status(svc);
    if (s) {
        r = cli_fail(s, "fl hetero-lr arbiter");
    } else if (!st->over || st->code != CCZ_RPC_OK) {
        fprintf(stderr, "ccz: fl hetero-lr arbiter: %s\n",
                st->over ? st->message : "stopped before the training was over");
        r = EXIT_REJECT;
    } else {
        double loss = st->epochs ? st->loss[st->epochs - 1] : NAN;
        if (isnan(loss))
            printf("loss: not available\n");
        else
            printf("loss: %.6f\n", loss);
    }
out:
    ccz_fl_vlr_service_free(svc);
    cli_rpc_side_free(&p, &a);
    ccz_paillier_key_free(key);
    return r;
}

static void vlr_progress(unsigned epoch, double loss, double seconds, void *payload)
{
    (void)payload;
    if (isnan(loss))
        fprintf(stderr, "ccz fl: epoch %u: %.3f s\n", epoch, seconds);
    else
        fprintf(stderr, "ccz fl: epoch %u: loss %.6f, %.3f s\n", epoch, loss, seconds);
}

static ccz_status write_weights(const char *path, const ccz_fl_vlr_run_result *res, bool guest)
{
    ccz_buf b = CCZ_BUF_INIT;
    char num[96];
    int n = snprintf(num, sizeof num, "{\"role\": \"%s\", \"epochs\": %u, \"weights\": [",
                     guest ? "guest" : "host", res->epochs);
    ccz_status s = ccz_buf_append(&b, num, (size_t)n);
    for (size_t i = 0; i < res->dim && s == CCZ_OK; i++) {
        n = snprintf(num, sizeof num, "%s%.17g", i ? ", " : "", res->weights[i]);
        s = ccz_buf_append(&b, num, (size_t)n);
    }
    if (s == CCZ_OK)
        s = ccz_buf_append(&b, "]}\n", 3);
    if (s == CCZ_OK)
        s = ccz_file_write(path, ccz_buf_span(&b), 0644);
    ccz_buf_free(&b);
    return s;
}

static int vlr_party(int argc, char **argv)
{
    cli_args a = {0};
    bool guest = !strcmp(argv[0], "guest");
    int r = cli_parse(&a, argc, argv, &vlr_group, cli_command_opts(&vlr_group, argv[0]));
    if (r)
        return r < 0 ? EXIT_OK : r;
    if (argc - optind != 1 || !a.data || !a.have_id)
        return cli_usage_error("fl",
                               "usage: ccz fl hetero-lr %s HOST:PORT --data FILE --id N "
                               "[options]",
                               argv[0]);
    if (a.mode != CCZ_RATLS_TWO_WAY)
        return cli_usage_error("fl", "--mode: hetero-lr runs two-way RA-TLS only (every party "
                                     "attested)");
    signal(SIGPIPE, SIG_IGN);
    cli_rpc_side p = {0};
    ccz_ml_dataset d = {0};
    FILE *trace = NULL;
    ccz_fl_vlr_run_result res = {0};
    ccz_status s = ccz_ml_dataset_read(&d, a.data, guest ? CCZ_ML_CSV_ID_Y : CCZ_ML_CSV_ID);
    if (s == CCZ_OK)
        s = cli_out_ready(a.out, "--out"); /* before connecting */
    if (s == CCZ_OK && a.trace && !(trace = fopen(a.trace, "w")))
        s = ccz_fail(CCZ_ERR_IO, "cannot write %s", a.trace);
    if (s == CCZ_OK)
        s = cli_rpc_side_connect(&p, &a, argv[optind],
                                 (ccz_rpc_channel_opts)CCZ_RPC_CHANNEL_OPTS_INIT);
    if (s) {
        r = cli_fail(s, guest ? "fl hetero-lr guest" : "fl hetero-lr host");
        goto out;
    }
    fprintf(stderr, "ccz fl: %s %ld%s%s%s: %zu rows of %zu features\n", argv[0], a.id,
            a.name ? " (" : "", a.name ? a.name : "", a.name ? ")" : "", d.rows, d.features);
    ccz_fl_vlr_run_opts ro = CCZ_FL_VLR_RUN_OPTS_INIT;
    ro.id = (int)a.id;
    ro.name = a.name;
    ro.deadline_ms = a.timeout_ms ? a.timeout_ms : 300000;
    ro.threads = (unsigned)a.threads;
    ro.trace = trace;
    ro.progress = vlr_progress;
    s = ccz_fl_vlr_run(p.ch, &ro, &d, &res);
    if (s) {
        r = cli_fail(s, guest ? "fl hetero-lr guest" : "fl hetero-lr host");
    } else if (res.code != CCZ_RPC_OK) {
        fprintf(stderr, "ccz: fl hetero-lr %s: %s: %s (%d): %s\n", argv[0], res.method,
                ccz_rpc_code_name(res.code), res.code, res.message);
        r = EXIT_REJECT;
    } else {
        fprintf(stderr,
                "ccz fl: %u epochs (%u steps) on %zu aligned rows in %.1f s (%.3f s per epoch)%s\n",
                res.epochs, res.steps, res.rows, res.seconds,
                res.epochs ? res.seconds / res.epochs : 0, res.converged ? ", converged" : "");
        if (a.out && (s = write_weights(a.out, &res, guest)) != CCZ_OK)
            r = cli_fail(s, "fl hetero-lr: --out");
        else if (guest)
            printf("accuracy: %.3f\nauc: %.3f\n", res.acc, res.auc);
    }
out:
    free(res.weights);
    cli_rpc_side_free(&p, &a);
    ccz_ml_dataset_free(&d);
    return close_trace(trace, a.trace, r, guest ? "fl hetero-lr guest" : "fl hetero-lr host");
}
