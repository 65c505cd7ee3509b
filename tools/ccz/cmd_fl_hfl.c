/* SPDX-License-Identifier: Apache-2.0 */
/* ccz fl serve | join: horizontal federated learning (include/ccz/hfl.h, proto/fl.proto). The
 * aggregator runs in a TEE and admits clients by policy over two-way RA-gRPC; clients train an
 * MLP or a logistic regression on their own IDX data with src/ml's trainer. */
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccz/hfl.h"
#include "endpoint.h"

static const char hfl_usage[] =
    "usage: ccz fl serve --listen ADDR --rounds R --min-clients K\n"
    "                    [--strategy fedavg|fedprox|fedadam|fedyogi] [--mu MU] [--model mlp|lr]\n"
    "                    [--hidden N] [--test IMAGES] [--epochs E] [--batch B] [--lr LR]\n"
    "                    [--optimizer sgd|adam] [--timeout MS] [--checkpoint FILE] [--seed N]\n"
    "                    [--out FILE] [--threads N] [--mode two-way|server]\n"
    "                    [--handshake-timeout MS] [--idle-timeout MS] [--max-conns N]\n"
    "                    [--max-per-peer N]\n"
    "                    [--secure-agg] [--clients-per-round N] [--gather MS]\n"
    "                    [--cert CERT --key KEY | attester options] [verify options]\n"
    "       ccz fl join HOST:PORT --data IMAGES --name NAME [--model mlp|lr] [--shard I/N[:A]]\n"
    "                    [--seed N] [--threads N] [--timeout MS] [--top-k K]\n"
    "                    [--chunk-size BYTES] [--mode two-way|server]\n"
    "                    [--cert CERT --key KEY | attester options] [verify options]\n"
    "\n"
    "Horizontal federated learning with an attested aggregator (cczfl.Aggregator over\n"
    "RA-gRPC, proto/fl.proto). serve runs R rounds: a round opens when K clients wait for the\n"
    "model (and every active client does, or --gather MS passed: default 2000, and the first\n"
    "round after a start always waits that long), each trains on its own data for\n"
    "--epochs E (default 1) and uploads its weights, and the --strategy (default fedavg)\n"
    "combines them weighted by the clients' examples: fedavg (the weighted mean), fedprox (the\n"
    "clients add --mu/2 |w - global|^2, default 0.01), fedadam (Adam on the server), fedyogi\n"
    "(Yogi on the server). A round\n"
    "closes when every participant uploaded or after --timeout MS (default 120000) with those\n"
    "that did; stragglers are dropped and their late updates refused. Each round prints its\n"
    "participants, training loss and, with --test, the test loss and accuracy on standard\n"
    "error; 'accuracy: A' ends on standard output. --checkpoint FILE saves the global model\n"
    "after each round and resumes from it at start. --out FILE writes the final model\n"
    "(float32 little-endian). Models: mlp (one hidden layer of --hidden units, default 128;\n"
    "ReLU, softmax) or lr (multinomial logistic regression); SGD (--lr default 0.05) or Adam\n"
    "(0.001). IMAGES are IDX image files as MNIST and Fashion-MNIST ship them (gzip or not);\n"
    "the labels are the file of the same name with labels-idx1 for images-idx3.\n"
    "join trains as the client NAME on shard I of N of IMAGES (a seeded shuffle dealt in\n"
    "turn; with :A, per-class proportions from Dirichlet(A), non-IID), rejoins an aggregator\n"
    "that restarted, and prints 'accuracy: A' (the aggregator's figure) at the end. --top-k K\n"
    "uploads only the K changes from the global model largest in magnitude (K below 1: that\n"
    "fraction of the weights), keeping the rest for the next rounds (error feedback).\n"
    "Updates are streamed (PushUpdateStream) in slices of --chunk-size BYTES (default 1 MiB,\n"
    "at most 4 MiB). Modes:\n"
    "two-way (the default: the aggregator admits clients by its --policy on their attested\n"
    "claims), server (clients without TEE).\n"
    "--clients-per-round N (client selection): N of the waiting clients (N >= K), drawn at\n"
    "random, take part in each round; the others wait for a later one.\n"
    "--secure-agg: secure aggregation (Bonawitz et al.) on top of the TEE, so that even the\n"
    "aggregator's operator sees only the sum: clients mask their weighted updates with\n"
    "pairwise masks agreed by X25519 and Shamir-share their secrets, so that the masks of\n"
    "clients that drop out are removed with the survivors' shares (a majority of the round's\n"
    "clients must survive). The mean equals FedAvg's to within 2^-22 per client and value;\n"
    "each of its four phases waits --timeout MS. Clients follow the aggregator's plan.\n" CLI_VERIFY_HELP
        CLI_ATTESTER_HELP;

/* cmd_fl.c's table lists them among fl's commands */
int cmd_fl_serve(int argc, char **argv);
int cmd_fl_join(int argc, char **argv);

static const cli_command hfl_cmds[] = {
    {"serve", cmd_fl_serve, NULL,
     CLI_FRAG_ENDPOINT | CLI_OPT(CLI_O_LISTEN) | CLI_OPT(CLI_O_ROUNDS) |
         CLI_OPT(CLI_O_MIN_CLIENTS) | CLI_OPT(CLI_O_STRATEGY) | CLI_OPT(CLI_O_MU) |
         CLI_OPT(CLI_O_MODEL) | CLI_OPT(CLI_O_HIDDEN) | CLI_OPT(CLI_O_TEST) |
         CLI_OPT(CLI_O_EPOCHS) | CLI_OPT(CLI_O_BATCH) | CLI_OPT(CLI_O_LR) |
         CLI_OPT(CLI_O_OPTIMIZER) | CLI_OPT(CLI_O_TIMEOUT) | CLI_OPT(CLI_O_CHECKPOINT) |
         CLI_OPT(CLI_O_SEED) | CLI_OPT(CLI_O_OUT) | CLI_OPT(CLI_O_THREADS) |
         CLI_OPT(CLI_O_HS_TIMEOUT) | CLI_OPT(CLI_O_IDLE_TIMEOUT) | CLI_OPT(CLI_O_MAX_CONNS) |
         CLI_OPT(CLI_O_MAX_PER_PEER) | CLI_FRAG_HELP | CLI_OPT(CLI_O_SECURE_AGG) |
         CLI_OPT(CLI_O_CLIENTS_PER_ROUND) | CLI_OPT(CLI_O_GATHER)},
    {"join", cmd_fl_join, NULL,
     CLI_FRAG_ENDPOINT | CLI_OPT(CLI_O_DATA) | CLI_OPT(CLI_O_NAME) | CLI_OPT(CLI_O_MODEL) |
         CLI_OPT(CLI_O_SHARD) | CLI_OPT(CLI_O_SEED) | CLI_OPT(CLI_O_THREADS) |
         CLI_OPT(CLI_O_TIMEOUT) | CLI_FRAG_HELP | CLI_OPT(CLI_O_TOP_K) | CLI_OPT(CLI_O_CHUNK_SIZE)},
};
static const cli_group hfl_group = CLI_GROUP("fl", hfl_usage, hfl_cmds, "command",
                                             " (try: serve, join)", "usage: ccz fl serve|join ...");

/* IMAGES and the labels beside it (images-idx3 -> labels-idx1, in the file's name: the last
 * one, not a folder's). */
static ccz_status load_idx(ccz_mlp_data *d, const char *images)
{
    const char *at = NULL;
    for (const char *p = strstr(images, "images-idx3"); p; p = strstr(p + 1, "images-idx3"))
        at = p;
    if (!at)
        return ccz_fail(CCZ_ERR_INVALID_ARGUMENT,
                        "%s: an IDX images file is named ...images-idx3..., its labels "
                        "...labels-idx1...",
                        images);
    size_t n = strlen(images);
    char *labels = malloc(n + 1);
    if (!labels)
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    memcpy(labels, images, n + 1);
    memcpy(labels + (at - images), "labels-idx1", 11);
    ccz_status s = ccz_mlp_data_load_idx(d, images, labels);
    free(labels);
    return s;
}

static const char *model_name(const cli_args *a, int *bad)
{
    *bad = a->n_models > 1 ||
           (a->n_models == 1 && strcmp(a->models[0], "mlp") && strcmp(a->models[0], "lr"));
    return a->n_models ? a->models[0] : NULL;
}

/* ---- serve -----------------------------------------------------------------------------------*/

static void on_over(const ccz_hfl_status *st, void *payload)
{
    (void)st;
    ccz_rpc_server_shutdown(payload, 2000);
}

int cmd_fl_serve(int argc, char **argv)
{
    cli_args a = {0};
    int r = cli_parse(&a, argc, argv, &hfl_group, cli_command_opts(&hfl_group, argv[0]));
    if (r)
        return r < 0 ? EXIT_OK : r;
    int bad;
    const char *model = model_name(&a, &bad);
    if (!a.listen || !a.rounds || !a.min_clients || optind != argc)
        return cli_usage_error("fl", "usage: ccz fl serve --listen ADDR --rounds R "
                                     "--min-clients K [options]");
    if (bad)
        return cli_usage_error("fl", "--model: mlp or lr");
    bool lr = model && !strcmp(model, "lr");
    if (a.hidden && lr)
        return cli_usage_error("fl", "--hidden is the MLP's hidden layer: --model lr has none");
    if (a.clients_per_round && a.clients_per_round < a.min_clients)
        return cli_usage_error("fl", "--clients-per-round %ld is below --min-clients %ld",
                               a.clients_per_round, a.min_clients);
    if (a.mode == CCZ_RATLS_CLIENT)
        return cli_usage_error("fl", "--mode client: the clients must attest the aggregator "
                                     "(use two-way or server)");
    ccz_hfl_service_opts o = CCZ_HFL_SERVICE_OPTS_INIT;
    if (a.strategy && ccz_hfl_strategy_parse(&o.strategy, a.strategy))
        return cli_usage_error("fl", "--strategy: %s", ccz_error_detail());
    if (a.mu > 0 && o.strategy != CCZ_HFL_FEDPROX)
        return cli_usage_error("fl", "--mu is FedProx's proximal weight: give it with --strategy "
                                     "fedprox");
    signal(SIGPIPE, SIG_IGN);
    cli_block_stop_signals();
    cli_rpc_side p = {0};
    ccz_hfl_service *svc = NULL;
    ccz_mlp_data test = {0};
    ccz_status s = a.test ? load_idx(&test, a.test) : CCZ_OK;
    if (s == CCZ_OK)
        s = cli_out_ready(a.out, "--out");
    if (s == CCZ_OK) /* written after each round: a path that cannot be is said now */
        s = cli_out_ready(a.checkpoint, "--checkpoint");
    o.model = lr ? "lr" : "mlp";
    o.shape.layers = lr ? 1 : 2;
    o.shape.sizes[0] = a.test ? (unsigned)test.features : 784;
    o.shape.sizes[1] = lr ? 10 : (unsigned)(a.hidden ? a.hidden : 128);
    o.shape.sizes[o.shape.layers] = a.test && test.classes > 10 ? test.classes : 10;
    size_t dim = 0;
    if (s == CCZ_OK)
        s = ccz_mlp_shape_check(&o.shape, &dim);
    ccz_rpc_server_opts so = CCZ_RPC_SERVER_OPTS_INIT;
    so.max_message = ccz_hfl_max_message(dim);
    /* a round's uploads arrive together: room for min_clients of them, or the server sheds the
     * largest unfinished one (RESOURCE_EXHAUSTED; with 1M parameters, past 15 clients) */
    so.max_buffer = (size_t)(a.min_clients + 1) * so.max_message;
    if (so.max_buffer < (64u << 20))
        so.max_buffer = 64u << 20; /* the server's default */
    if (s == CCZ_OK)
        s = cli_rpc_side_serve_opts(&p, &a, so);
    o.rounds = (unsigned)a.rounds;
    o.min_clients = (unsigned)a.min_clients;
    o.mu = (float)a.mu;
    o.epochs = (unsigned)a.epochs;
    o.batch = (unsigned)a.batch;
    o.lr = (float)a.lr;
    o.optimizer = a.optimizer && !strcmp(a.optimizer, "adam") ? CCZ_MLP_ADAM : CCZ_MLP_SGD;
    o.round_timeout_ms = (unsigned)a.timeout_ms;
    o.test = a.test ? &test : NULL;
    o.checkpoint = a.checkpoint;
    o.seed = a.seed;
    o.threads = (unsigned)a.threads;
    o.log = stderr;
    o.on_over = on_over;
    o.payload = p.srv;
    o.secure_agg = a.secure_agg;
    o.clients_per_round = (unsigned)a.clients_per_round;
    o.gather_ms = (unsigned)a.gather_ms;
    if (s == CCZ_OK)
        s = ccz_hfl_service_new(&svc, p.srv, &o);
    if (s == CCZ_OK)
        s = cli_rpc_side_listen(&p, &a);
    if (s) {
        r = cli_fail(s, "fl serve");
        goto out;
    }
    char shape[96], per_round[48] = "";
    if (a.clients_per_round)
        snprintf(per_round, sizeof per_round, ", %ld drawn per round", a.clients_per_round);
    size_t at = 0;
    for (unsigned l = 0; l <= o.shape.layers && at < sizeof shape; l++)
        at +=
            (size_t)snprintf(shape + at, sizeof shape - at, "%s%u", l ? "-" : "", o.shape.sizes[l]);
    fprintf(stderr,
            "ccz fl: serving cczfl.Aggregator on port %d (mode %s, %s %s of %zu parameters, %s, "
            "%ld rounds, at least %ld clients%s%s)%s\n",
            p.port, a.mode == CCZ_RATLS_TWO_WAY ? "two-way" : "server", o.model, shape, dim,
            ccz_hfl_strategy_name(o.strategy), a.rounds, a.min_clients, per_round,
            o.secure_agg ? ", secure aggregation" : "", cli_rpc_side_sim(&p));
    s = cli_rpc_side_run(&p, "fl", 2000);
    const ccz_hfl_status *st = ccz_hfl_service_status(svc);
    if (s) {
        r = cli_fail(s, "fl serve");
    } else if (!st->over || st->code) {
        fprintf(stderr, "ccz: fl serve: %s\n",
                st->over ? st->message : "stopped before the training was over");
        r = EXIT_REJECT;
    } else {
        if (a.out) {
            ccz_buf b = CCZ_BUF_INIT;
            s = ccz_hfl_tensor_encode(&b, st->weights, st->dim, CCZ_HFL_F32);
            if (s == CCZ_OK)
                s = ccz_file_write(a.out, ccz_buf_span(&b), 0644);
            ccz_buf_free(&b);
            if (s)
                r = cli_fail(s, "fl serve: --out");
        }
        if (st->acc >= 0)
            printf("accuracy: %.3f\n", st->acc);
    }
out:
    ccz_hfl_service_free(svc);
    cli_rpc_side_free(&p, &a);
    ccz_mlp_data_free(&test);
    return r;
}

/* ---- join ------------------------------------------------------------------------------------*/

static void on_progress(unsigned round, unsigned rounds, double loss, double seconds, bool accepted,
                        const char *why, void *payload)
{
    const char *name = payload;
    if (accepted)
        fprintf(stderr, "ccz fl: %s: round %u of %u: train loss %.4f (%.1f s)\n", name, round,
                rounds, loss, seconds);
    else
        fprintf(stderr, "ccz fl: %s: round %u of %u: update refused: %s\n", name, round, rounds,
                why);
}

/* "I/N" or "I/N:ALPHA" */
static bool parse_shard(const char *s, unsigned *i, unsigned *n, double *alpha)
{
    char *end;
    /* digits where the numbers start: strtoul would skip blanks and take signs */
    if (!isdigit((unsigned char)s[0]))
        return false;
    unsigned long a = strtoul(s, &end, 10);
    if (*end != '/' || !isdigit((unsigned char)end[1]))
        return false;
    const char *p = end + 1;
    unsigned long b = strtoul(p, &end, 10);
    if (b == 0 || a >= b || b > 4096)
        return false;
    *alpha = 0;
    if (*end == ':') {
        p = end + 1;
        *alpha = strtod(p, &end);
        if (end == p || !(*alpha > 0 && *alpha < 1e6))
            return false;
    }
    *i = (unsigned)a;
    *n = (unsigned)b;
    return *end == 0;
}

int cmd_fl_join(int argc, char **argv)
{
    cli_args a = {0};
    int r = cli_parse(&a, argc, argv, &hfl_group, cli_command_opts(&hfl_group, argv[0]));
    if (r)
        return r < 0 ? EXIT_OK : r;
    int bad;
    const char *model = model_name(&a, &bad);
    if (argc - optind != 1 || !a.data || !a.name)
        return cli_usage_error("fl", "usage: ccz fl join HOST:PORT --data IMAGES --name NAME "
                                     "[options]");
    if (bad)
        return cli_usage_error("fl", "--model: mlp or lr");
    unsigned si = 0, sn = 1;
    double alpha = 0;
    if (a.shard && !parse_shard(a.shard, &si, &sn, &alpha))
        return cli_usage_error("fl",
                               "--shard: I/N with I < N (then :ALPHA > 0 for non-IID), "
                               "not '%s'",
                               a.shard);
    if (a.mode == CCZ_RATLS_CLIENT)
        return cli_usage_error("fl", "--mode client: a client must attest the aggregator (use "
                                     "two-way or server)");
    signal(SIGPIPE, SIG_IGN);
    cli_rpc_side p = {0};
    ccz_mlp_data d = {0};
    ccz_status s = load_idx(&d, a.data);
    if (s == CCZ_OK && a.shard)
        s = ccz_mlp_data_shard(&d, si, sn, alpha, a.seed);
    ccz_rpc_channel_opts co = CCZ_RPC_CHANNEL_OPTS_INIT;
    co.max_message = ccz_hfl_max_message(CCZ_MLP_MAX_PARAMS / 16);
    if (s == CCZ_OK)
        s = cli_rpc_side_connect(&p, &a, argv[optind], co);
    if (s) {
        r = cli_fail(s, "fl join");
        goto out;
    }
    fprintf(stderr, "ccz fl: %s: %zu examples of %zu features (shard %u of %u%s)\n", a.name, d.rows,
            d.features, si, sn, alpha > 0 ? ", non-IID" : "");
    ccz_hfl_join_opts jo = CCZ_HFL_JOIN_OPTS_INIT;
    jo.name = a.name;
    jo.model = model;
    jo.threads = (unsigned)a.threads;
    jo.seed = a.seed;
    jo.retry_ms = (unsigned)a.timeout_ms;
    jo.progress = on_progress;
    jo.payload = (void *)a.name;
    jo.top_k = a.top_k;
    jo.chunk_bytes = (size_t)a.chunk_size;
    ccz_hfl_join_result res;
    s = ccz_hfl_join(p.ch, &jo, &d, &res);
    if (s) {
        r = cli_fail(s, "fl join");
    } else if (res.code != CCZ_RPC_OK) {
        fprintf(stderr, "ccz: fl join: %s: %s (%d): %s\n", res.method, ccz_rpc_code_name(res.code),
                res.code, res.message);
        r = EXIT_REJECT;
    } else {
        fprintf(stderr,
                "ccz fl: %s: the training is over after round %u (%u updates of this "
                "client accepted, %u streamed)\n",
                a.name, res.last_round, res.rounds, res.streamed);
        if (a.top_k > 0 && res.sent_values)
            fprintf(stderr, "ccz fl: %s: uploads of %zu of the model's %zu values (%s)\n", a.name,
                    res.sent_values, res.model_values,
                    res.sent_values == res.model_values ? "dense: top-k would not be smaller"
                                                        : "top-k, with error feedback");
        if (res.acc >= 0)
            printf("accuracy: %.3f\n", res.acc);
    }
out:
    cli_rpc_side_free(&p, &a);
    ccz_mlp_data_free(&d);
    return r;
}
