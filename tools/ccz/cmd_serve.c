/* SPDX-License-Identifier: Apache-2.0 */
/* ccz serve: the model server (ccz/serving.h) from the command line. Models are ONNX files or
 * Gramine protected files; a protected file's key comes from a file or, after attestation, from
 * a secret provisioning server, and is wiped once the models are loaded. The listeners present
 * an RA-TLS certificate (--tee) or an ordinary one (--cert, --cert-key); with neither they serve
 * plaintext, on loopback only. */
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccz/serving.h"
#include "cli.h"
#include "endpoint.h"

static const char serve_usage[] =
    "usage: ccz serve --model NAME=PATH[:VERSION]... [--rest ADDR] [--grpc ADDR]\n"
    "                 [--key FILE | --secret-server HOST:PORT [--secret-ca FILE]]\n"
    "                 [attester options [--cn NAME] | --cert CERT --cert-key KEY]\n"
    "                 [verify options]\n"
    "                 [--batch-max N] [--batch-timeout-us US] [--threads N] [--max-body BYTES]\n"
    "                 [--max-conns N] [--max-per-peer N] [--handshake-timeout MS]\n"
    "                 [--idle-timeout MS] [--timeout MS]\n"
    "\n"
    "Serves ONNX models over TensorFlow Serving's REST API (/v1/models/NAME[:predict|:classify|\n"
    ":regress], status, /metadata) and KServe's v2 protocol (/v2/models/NAME/infer, /v2/health/*)\n"
    "on --rest, and TensorFlow Serving's gRPC API (tensorflow.serving.PredictionService/Predict,\n"
    "GetModelMetadata, ModelService/GetModelStatus) on --grpc; at least one of them. ADDR is\n"
    "HOST:PORT (port 0 picks one; the ports are printed on standard error as 'ccz serve: REST on\n"
    "port N' and 'ccz serve: gRPC on port N'). GET /metrics on --rest counts requests and batches.\n"
    "  --model NAME=PATH[:VERSION]  a model to serve (repeatable; VERSION from 1, default 1). A\n"
    "                       Gramine protected file (ccz pf encrypt) bound to PATH as given here\n"
    "                       is decrypted in memory with the key of --key or --secret-server\n"
    "  --key FILE           the protected files' key: 16 raw bytes (ccz pf gen-key)\n"
    "  --secret-server HOST:PORT  fetch the key by secret provisioning (Gramine's protocol; 16\n"
    "                       raw bytes or 32 hex digits): this side presents its RA-TLS\n"
    "                       certificate (needs --tee) and appraises the server's with --policy,\n"
    "                       or checks an ordinary certificate with --secret-ca FILE\n"
    "  --cn NAME            the RA-TLS certificates' subject CN (default 'ccz RA-TLS'): the host\n"
    "                       name TLS clients check, for those that cannot skip it (gRPC)\n"
    "  --cert CERT --cert-key KEY  present this certificate on the listeners instead of RA-TLS\n"
    "  --batch-max N        rows in one batch (default 64)\n"
    "  --batch-timeout-us US  how long a batch waits for more requests (default 0: none; a\n"
    "                       batch still takes the requests that came while the last one ran)\n"
    "  --threads N          threads of one batch's inference (default: one per CPU)\n"
    "  --max-body BYTES     largest REST body or gRPC message (default 16 MiB)\n"
    "  --max-conns N        connections per listener (default 1024)\n"
    "  --max-per-peer N     connections per listener from one address, an IPv6 one's /64\n"
    "                       (default 64): at that cap the peer's own oldest handshake or idle\n"
    "                       connection makes room, never another peer's\n"
    "  --handshake-timeout MS  a connection's TLS handshake, both listeners (default 10000)\n"
    "  --idle-timeout MS    keep-alive (default 60000)\n"
    "  --timeout MS         one REST request, first byte to answer; the secret server's\n"
    "                       exchange (default 30000)\n"
    "Without --tee or --cert the listeners are plain HTTP and h2c, allowed on loopback only.\n"
    "SIGINT or SIGTERM stops accepting and answers the requests in flight (5 s at most).\n"
    "Exit codes: 0 stopped cleanly, 1 the secret server refused, 2 usage error, a model that\n"
    "does not load or a listener that cannot bind.\n" CLI_VERIFY_HELP CLI_ATTESTER_HELP;

#define SERVE_OPTS                                                                                 \
    (CLI_FRAG_ATTESTER | CLI_FRAG_VERIFY | CLI_OPT(CLI_O_CERT) | CLI_OPT(CLI_O_KEY) |              \
     CLI_OPT(CLI_O_CERT_KEY) | CLI_OPT(CLI_O_MODEL) | CLI_OPT(CLI_O_REST) | CLI_OPT(CLI_O_GRPC) |  \
     CLI_OPT(CLI_O_SECRET_SERVER) | CLI_OPT(CLI_O_SECRET_CA) | CLI_OPT(CLI_O_BATCH_MAX) |          \
     CLI_OPT(CLI_O_BATCH_TIMEOUT) | CLI_OPT(CLI_O_THREADS) | CLI_OPT(CLI_O_MAX_BODY) |             \
     CLI_OPT(CLI_O_MAX_CONNS) | CLI_OPT(CLI_O_MAX_PER_PEER) | CLI_OPT(CLI_O_HS_TIMEOUT) |          \
     CLI_OPT(CLI_O_IDLE_TIMEOUT) | CLI_OPT(CLI_O_TIMEOUT) | CLI_OPT(CLI_O_CN) | CLI_FRAG_HELP)
static const cli_group serve_group = {"serve", serve_usage, NULL, 0, NULL, NULL, NULL};

#define GRACE_MS 5000

/* NAME=PATH[:VERSION]: the version is the digits after the last ':' (paths may hold ':'). */
static int parse_model(ccz_serving_model *m, char *name_buf, size_t name_size, char *path_buf,
                       size_t path_size, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || !eq[1] || (size_t)(eq - arg) >= name_size)
        return cli_usage_error("serve", "--model takes NAME=PATH[:VERSION] ('%s')", arg);
    snprintf(name_buf, name_size, "%.*s", (int)(eq - arg), arg);
    const char *path = eq + 1, *colon = strrchr(path, ':');
    size_t len = strlen(path);
    m->version = 1;
    if (colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
        unsigned long long v;
        if (cli_number(colon + 1, 999999999999ull, &v) != CCZ_OK || v == 0)
            return cli_usage_error("serve", "--model %s: the version must be 1 or more", arg);
        m->version = (int64_t)v;
        len = (size_t)(colon - path);
    }
    if (len == 0 || len >= path_size)
        return cli_usage_error("serve", "--model %s: no path, or one too long", arg);
    snprintf(path_buf, path_size, "%.*s", (int)len, path);
    m->name = name_buf;
    m->path = path_buf;
    return EXIT_OK;
}

/* A listener address without TLS must be on loopback. */
static bool loopback(const char *addr)
{
    return strncmp(addr, "127.", 4) == 0 || strncmp(addr, "localhost:", 10) == 0 ||
           strncmp(addr, "[::1]:", 6) == 0;
}

/* The key from the secret server: 16 raw bytes, or 32 hex digits (and a newline). */
static ccz_status key_from_secret(uint8_t key[16], const ccz_buf *secret)
{
    size_t n = secret->len;
    const char *p = (const char *)secret->ptr;
    if (n == 16) {
        memcpy(key, p, 16);
        return CCZ_OK;
    }
    while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r' || p[n - 1] == '\0'))
        n--;
    CCZ_ENSURE(n == 32, CCZ_ERR_KEY_MALFORMED,
               "the secret server sent %zu bytes: a protected file's key is 16 raw bytes or 32 "
               "hex digits",
               secret->len);
    return ccz_hex_decode_fixed(key, 16, p, 32);
}

static ccz_status key_from_file(uint8_t key[16], const char *path)
{
    ccz_buf b;
    ccz_buf_init(&b, 64, true);
    ccz_status s = ccz_file_read(&b, path, 64);
    if (s == CCZ_OK && b.len != 16)
        s = ccz_fail(CCZ_ERR_KEY_MALFORMED, "%s holds %zu bytes; a protected file's key is 16",
                     path, b.len);
    if (s == CCZ_OK)
        memcpy(key, b.ptr, 16);
    ccz_buf_free(&b);
    return s;
}

static void stop_serving(void *arg, unsigned grace_ms)
{
    ccz_serving_shutdown(arg, grace_ms);
}

static const char *kind(const cli_args *a, bool tls)
{
    if (!tls)
        return "plaintext, unauthenticated";
    if (a->cert)
        return "TLS";
    return a->ca.tee && strcmp(a->ca.tee, "sim") == 0 ? "RA-TLS, SIMULATED TEE" : "RA-TLS";
}

int cmd_model_serve(int argc, char **argv)
{
    cli_args a;
    memset(&a, 0, sizeof a);
    int r = cli_parse(&a, argc, argv, &serve_group, SERVE_OPTS);
    if (r)
        return r < 0 ? EXIT_OK : r;
    if (optind != argc)
        return cli_usage_error("serve", "unexpected argument '%s'", argv[optind]);
    if (!a.n_models)
        return cli_usage_error("serve", "no --model NAME=PATH given");
    if (!a.rest && !a.grpc)
        return cli_usage_error("serve", "give --rest ADDR, --grpc ADDR or both");
    if (a.key && a.secret_server)
        return cli_usage_error("serve", "--key and --secret-server exclude each other");
    if (a.secret_ca && !a.secret_server)
        return cli_usage_error("serve", "--secret-ca goes with --secret-server");
    if (a.secret_ca && a.v.policy)
        return cli_usage_error("serve", "give --policy (to appraise the secret server's RA-TLS "
                                        "certificate) or --secret-ca, not both");
    if (!a.cert != !a.cert_key)
        return cli_usage_error("serve", "--cert and --cert-key go together");
    if (a.cert && a.ca.tee)
        return cli_usage_error("serve", "--cert and --tee exclude each other");
    if (a.secret_server && !a.ca.tee)
        return cli_usage_error("serve", "--secret-server needs --tee: the secret server releases "
                                        "keys to attested clients");
    bool tls = a.ca.tee || a.cert;
    if (!tls && ((a.rest && !loopback(a.rest)) || (a.grpc && !loopback(a.grpc))))
        return cli_usage_error("serve", "without --tee or --cert the listeners are plaintext, "
                                        "allowed on loopback only (127.0.0.1:PORT)");

    static ccz_serving_model models[32];
    static char names[32][72], paths[32][4096];
    for (int i = 0; i < a.n_models; i++)
        if ((r = parse_model(&models[i], names[i], sizeof names[i], paths[i], sizeof paths[i],
                             a.models[i])) != EXIT_OK)
            return r;

    signal(SIGPIPE, SIG_IGN);
    cli_block_stop_signals();
    /* the endpoint: the listeners' certificate (attested, or --cert), the secret server's
     * appraisal; --key is the model key here, the certificate's key is --cert-key */
    const char *model_key = a.key;
    a.key = a.cert_key;
    a.mode = CCZ_RATLS_SERVER;
    cli_endpoint e = {0};
    SSL_CTX *rest_ctx = NULL, *grpc_ctx = NULL, *client_ctx = NULL;
    ccz_serving *sv = NULL;
    uint8_t key[16];
    bool have_key = false;
    ccz_buf secret;
    ccz_buf_init(&secret, 4096, true);
    ccz_status s = CCZ_OK;
    if (tls || a.secret_server) {
        s = cli_endpoint_setup(&e, &a, true, a.rest ? &rest_ctx : &grpc_ctx, NULL);
        if (s == CCZ_OK && a.rest && a.grpc)
            s = cli_endpoint_ctx(&e, &a, true, CCZ_RATLS_SERVER, &grpc_ctx, NULL);
        if (s != CCZ_OK) {
            r = cli_fail(s, "serve");
            goto out;
        }
        if (!tls) { /* the attester only for the secret server */
            SSL_CTX_free(rest_ctx);
            SSL_CTX_free(grpc_ctx);
            rest_ctx = grpc_ctx = NULL;
        }
    }
    if (a.secret_server) {
        s = cli_endpoint_ctx(&e, &a, false, a.secret_ca ? CCZ_RATLS_CLIENT : CCZ_RATLS_TWO_WAY,
                             &client_ctx, a.secret_ca ? NULL : cli_print_verdict);
        if (s == CCZ_OK && a.secret_ca)
            s = ccz_secret_ctx_use_ca_file(client_ctx, a.secret_ca);
        if (s == CCZ_OK)
            s = ccz_secret_get(&secret, client_ctx, a.secret_server, a.timeout_ms);
        if (s == CCZ_OK)
            s = key_from_secret(key, &secret);
        if (s != CCZ_OK) {
            fprintf(stderr, "ccz: serve: the model key from %s: %s\n", a.secret_server,
                    ccz_error_detail());
            r = s == CCZ_ERR_NETWORK || s == CCZ_ERR_INVALID_ARGUMENT || s == CCZ_ERR_KEY_MALFORMED
                    ? EXIT_USAGE
                    : EXIT_REJECT;
            goto out;
        }
        have_key = true;
        fprintf(stderr, "ccz serve: got the model key from the secret server %s\n",
                a.secret_server);
    } else if (model_key) {
        if ((s = key_from_file(key, model_key)) != CCZ_OK) {
            r = cli_fail(s, "serve: --key");
            goto out;
        }
        have_key = true;
    }
    for (int i = 0; i < a.n_models; i++)
        models[i].key = have_key ? key : NULL;

    ccz_serving_opts o = CCZ_SERVING_OPTS_INIT;
    o.models = models;
    o.n_models = (size_t)a.n_models;
    o.rest_listen = a.rest;
    o.grpc_listen = a.grpc;
    o.rest_tls = rest_ctx;
    o.grpc_tls = grpc_ctx;
    o.batch_max_rows = (unsigned)a.batch_max;
    o.batch_timeout_us = (unsigned)a.batch_timeout_us;
    o.threads = (unsigned)a.threads;
    o.max_body = (size_t)a.max_body;
    o.max_connections = (unsigned)a.max_conns;
    o.max_per_peer = (unsigned)a.max_per_peer;
    o.handshake_ms = (unsigned)a.handshake_timeout_ms;
    o.idle_ms = (unsigned)a.idle_timeout_ms;
    o.request_ms = (unsigned)a.timeout_ms;
    int64_t t0 = cli_now_ms();
    s = ccz_serving_new(&sv, &o);
    OPENSSL_cleanse(key, sizeof key);
    ccz_buf_free(&secret);
    if (s != CCZ_OK) {
        r = cli_fail(s, "serve");
        goto out;
    }
    fprintf(stderr, "ccz serve: %d model%s loaded in %lld ms\n", a.n_models,
            a.n_models == 1 ? "" : "s", (long long)(cli_now_ms() - t0));
    if (!tls)
        fprintf(stderr, "ccz serve: no --tee or --cert: plaintext listeners on loopback, "
                        "unauthenticated\n");
    if (a.rest)
        fprintf(stderr, "ccz serve: REST on port %d (%s)\n", ccz_serving_rest_port(sv),
                kind(&a, tls));
    if (a.grpc)
        fprintf(stderr, "ccz serve: gRPC on port %d (%s)\n", ccz_serving_grpc_port(sv),
                kind(&a, tls));
    cli_stopper *stopper = cli_stop_on_signal(stop_serving, sv, "serve", GRACE_MS);
    s = ccz_serving_run(sv);
    cli_stopper_end(stopper);
    r = s == CCZ_OK ? EXIT_OK : cli_fail(s, "serve");
out:
    OPENSSL_cleanse(key, sizeof key);
    ccz_buf_free(&secret);
    ccz_serving_free(sv);
    SSL_CTX_free(rest_ctx);
    SSL_CTX_free(grpc_ctx);
    SSL_CTX_free(client_ctx);
    cli_endpoint_free(&e);
    cli_attester_free(&a.ca);
    return r;
}
