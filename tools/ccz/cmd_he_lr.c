/* SPDX-License-Identifier: Apache-2.0 */
/* ccz he lr: CCZoo's encrypted logistic-regression inference (lr_infer_he_sgx) over RA-gRPC.
 * serve holds the model in the clear inside the TEE and computes on the client's CKKS
 * ciphertexts; infer encrypts a data file under fresh keys, has it scored and prints the
 * accuracy. The library side is include/ccz/he_lr.h. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccz/he_lr.h"
#include "endpoint.h"

/* the usage lines are in 'ccz he --help' (cmd_he.c), where the man page finds them */
extern const char cli_he_usage[];

static int serve(int argc, char **argv);
static int infer(int argc, char **argv);

static const cli_command lr_cmds[] = {
    {"serve", serve, NULL,
     CLI_FRAG_ENDPOINT | CLI_OPT(CLI_O_MODEL) | CLI_OPT(CLI_O_LISTEN) |
         CLI_OPT(CLI_O_INSECURE_PARAMS) | CLI_OPT(CLI_O_THREADS) | CLI_OPT(CLI_O_HS_TIMEOUT) |
         CLI_OPT(CLI_O_IDLE_TIMEOUT) | CLI_OPT(CLI_O_MAX_CONNS) | CLI_OPT(CLI_O_MAX_PER_PEER) |
         CLI_FRAG_HELP},
    {"infer", infer, NULL,
     CLI_FRAG_ENDPOINT | CLI_OPT(CLI_O_DATA) | CLI_OPT(CLI_O_INSECURE_PARAMS) | CLI_OPT(CLI_O_OUT) |
         CLI_OPT(CLI_O_DEADLINE) | CLI_OPT(CLI_O_THREADS) | CLI_FRAG_HELP},
};
static const cli_group lr_group =
    CLI_GROUP("he lr", cli_he_usage, lr_cmds, "he lr command", " (try: serve, infer)",
              "usage: ccz he lr serve|infer ...");

int cmd_he_lr(int argc, char **argv)
{
    return cli_dispatch(&lr_group, argc, argv);
}

/* ---- serve -----------------------------------------------------------------------------------*/

static int serve(int argc, char **argv)
{
    cli_args a = {0};
    a.mode = CCZ_RATLS_SERVER; /* clients hold their data encrypted: they need no TEE */
    int r = cli_parse(&a, argc, argv, &lr_group, cli_command_opts(&lr_group, argv[0]));
    if (r)
        return r < 0 ? EXIT_OK : r;
    if (a.n_models != 1 || !a.listen || optind != argc)
        return cli_usage_error("he lr", "usage: ccz he lr serve --model FILE.csv --listen ADDR "
                                        "[options]");
    if (a.mode == CCZ_RATLS_CLIENT)
        return cli_usage_error("he lr", "--mode client: the clients must attest the server (use "
                                        "server or two-way)");
    ccz_he_lr_model model;
    ccz_status s = ccz_he_lr_model_load(&model, a.models[0]);
    if (s) {
        cli_attester_free(&a.ca);
        return cli_fail(s, "he lr serve");
    }
    signal(SIGPIPE, SIG_IGN);
    cli_block_stop_signals();

    cli_rpc_side p = {0};
    ccz_he_lr_service *lr = NULL;
    s = cli_rpc_side_serve(&p, &a, CCZ_HE_LR_MAX_MESSAGE);
    ccz_he_lr_service_opts lo = CCZ_HE_LR_SERVICE_OPTS_INIT;
    lo.model = &model;
    lo.threads = (unsigned)a.threads;
    lo.allow_insecure_params = a.insecure_params;
    lo.log = stderr;
    if (s == CCZ_OK)
        s = ccz_he_lr_service_new(&lr, p.srv, &lo);
    if (s == CCZ_OK)
        s = cli_rpc_side_listen(&p, &a);
    if (s) {
        r = cli_fail(s, "he lr serve");
        goto out;
    }
    fprintf(stderr,
            "ccz he lr: serving inference.Inference on port %d (mode %s; a model of %zu "
            "features; %s)%s\n",
            p.port, a.mode == CCZ_RATLS_TWO_WAY ? "two-way" : "server", model.features,
            a.insecure_params ? "parameters beyond the 128-bit table ACCEPTED"
                              : "128-bit-secure parameters only",
            cli_rpc_side_sim(&p));
    s = cli_rpc_side_run(&p, "he lr", 2000);
    if (s)
        r = cli_fail(s, "he lr serve");
    else
        fprintf(stderr, "ccz he lr: stopped\n");
out:
    ccz_he_lr_service_free(lr);
    cli_rpc_side_free(&p, &a);
    ccz_he_lr_model_free(&model);
    return r;
}

/* ---- infer -----------------------------------------------------------------------------------*/

/* One probability a line, written whole (a failure leaves path as it was) */
static ccz_status write_probabilities(const char *path, const ccz_he_lr_infer_result *res)
{
    ccz_buf b = CCZ_BUF_INIT;
    ccz_status s = CCZ_OK;
    for (size_t i = 0; s == CCZ_OK && i < res->rows; i++)
        s = ccz_buf_printf(&b, "%.9f\n", res->p[i]);
    if (s == CCZ_OK)
        s = ccz_file_write(path, ccz_buf_span(&b), 0644);
    ccz_buf_free(&b);
    return s;
}

static void report(const ccz_he_lr_infer_result *res, const ccz_he_lr_data *d, bool insecure)
{
    fprintf(stderr,
            "ccz he lr: CKKS N 8192, %s, scale 2^45; %zu samples x %zu features, %zu "
            "batch%s\n",
            insecure ? "primes 60,45,45,45,45+60 (300 bits: BEYOND the 128-bit table)"
                     : "primes 50,45,45,28+50 (218 bits: 128-bit secure)",
            d->rows, d->features, (d->rows + 4095) / 4096, d->rows > 4096 ? "es" : "");
    fprintf(stderr,
            "ccz he lr: sent parameters %zu B, public key %zu B, relinearization keys %zu B, "
            "data %zu B (%zu ciphertexts at level %u); received %zu B\n",
            res->params_bytes, res->pk_bytes, res->rlk_bytes, res->data_bytes,
            d->features * ((d->rows + 4095) / 4096), res->level, res->result_bytes);
    fprintf(stderr,
            "ccz he lr: keys %.3f s; encrypt %.3f s, InitCtx %.3f s, Infer %.3f s (server: "
            "%s), decrypt %.3f s; end to end (encrypt, infer, decrypt) %.3f s\n",
            res->keygen_s, res->encrypt_s, res->init_s, res->infer_s, res->server_times,
            res->decrypt_s, res->encrypt_s + res->infer_s + res->decrypt_s);
}

static int infer(int argc, char **argv)
{
    cli_args a = {0};
    a.mode = CCZ_RATLS_SERVER;
    int r = cli_parse(&a, argc, argv, &lr_group, cli_command_opts(&lr_group, argv[0]));
    if (r)
        return r < 0 ? EXIT_OK : r;
    if (argc - optind != 1 || !a.data)
        return cli_usage_error("he lr", "usage: ccz he lr infer HOST:PORT --data FILE.csv "
                                        "[options]");
    if (a.mode == CCZ_RATLS_CLIENT)
        return cli_usage_error("he lr", "--mode client: the client must attest the server (use "
                                        "server or two-way)");
    signal(SIGPIPE, SIG_IGN);
    cli_rpc_side p = {0};
    ccz_he_lr_data d;
    ccz_he_lr_infer_result res = {0};
    ccz_status s = ccz_he_lr_data_load(&d, a.data);
    if (s == CCZ_OK)
        s = cli_out_ready(a.out, "--out");
    ccz_rpc_channel_opts co = CCZ_RPC_CHANNEL_OPTS_INIT;
    co.max_message = CCZ_HE_LR_MAX_MESSAGE;
    if (s == CCZ_OK)
        s = cli_rpc_side_connect(&p, &a, argv[optind], co);
    ccz_he_lr_infer_opts io = CCZ_HE_LR_INFER_OPTS_INIT;
    io.preset = a.insecure_params ? CCZ_HE_LR_TOOLKIT : CCZ_HE_LR_SECURE;
    io.deadline_ms = a.deadline_ms;
    io.threads = (unsigned)a.threads;
    if (s == CCZ_OK)
        s = ccz_he_lr_infer(p.ch, &io, &d, &res);
    if (s) {
        r = cli_fail(s, "he lr infer");
    } else if (res.code != CCZ_RPC_OK) {
        fprintf(stderr, "ccz: he lr infer: %s: %s (%d): %s\n", res.method,
                ccz_rpc_code_name(res.code), res.code, res.message);
        r = EXIT_REJECT;
    } else if (a.out && (s = write_probabilities(a.out, &res)) != CCZ_OK) {
        r = cli_fail(s, "he lr infer");
    } else {
        report(&res, &d, a.insecure_params);
        printf("accuracy: %.3f\n", ccz_he_lr_accuracy(res.p, &d));
    }
    ccz_he_lr_infer_result_free(&res);
    ccz_he_lr_data_free(&d);
    cli_rpc_side_free(&p, &a);
    return r;
}
