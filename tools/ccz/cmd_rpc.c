/* SPDX-License-Identifier: Apache-2.0 */
/* ccz rpc: gRPC over RA-TLS (CCZoo's "RA-gRPC"). The Greeter of gRPC's examples, served and
 * called with attestation as --mode says; it interoperates with any gRPC implementation that
 * speaks TLS (a peer without evidence can only take the unattested side). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "endpoint.h"
#include "greeter.pb-c.h"

static const char rpc_usage[] =
    "usage: ccz rpc greeter serve --listen ADDR [--mode two-way|server|client] [--policy FILE]\n"
    "                      [--cert CERT --key KEY | attester options] [--delay MS]\n"
    "                      [verify options]\n"
    "       ccz rpc greeter call HOST:PORT --name NAME [--mode two-way|server|client]\n"
    "                      [--policy FILE] [--cert CERT --key KEY | attester options]\n"
    "                      [--deadline MS] [--metadata KEY=VALUE]... [--count N]\n"
    "                      [--authority NAME] [verify options]\n"
    "\n"
    "The service is ratls.Greeter (proto/greeter.proto): SayHello answers \"Hello NAME\".\n"
    "serve listens (ADDR is HOST:PORT; port 0 picks one, printed on standard error) until\n"
    "SIGINT or SIGTERM, then drains the calls in flight. It echoes request metadata whose key\n"
    "starts with x- as response headers and trailers, adds the trailer ccz-peer-tee (the\n"
    "client's verified TEE) when it verifies clients, answers an empty name INVALID_ARGUMENT,\n"
    "and waits --delay MS before answering. call prints each reply on standard output;\n"
    "a call that ends with a status other than OK prints the status and exits 1. Values of\n"
    "metadata keys ending in -bin are base64, given and printed. --deadline bounds the whole\n"
    "call, connecting included; without it connecting gives up after 10 s.\n"
    "Modes as for 'ccz ratls': two-way (both attested), server (the client verifies the\n"
    "server), client (the server verifies the client).\n" CLI_VERIFY_HELP CLI_ATTESTER_HELP;

static int serve(int argc, char **argv);
static int call(int argc, char **argv);

static const cli_command greeter_cmds[] = {
    {"serve", serve, NULL,
     CLI_FRAG_ENDPOINT | CLI_OPT(CLI_O_LISTEN) | CLI_OPT(CLI_O_DELAY) | CLI_FRAG_HELP},
    {"call", call, NULL,
     CLI_FRAG_ENDPOINT | CLI_OPT(CLI_O_NAME) | CLI_OPT(CLI_O_DEADLINE) | CLI_OPT(CLI_O_MD) |
         CLI_OPT(CLI_O_COUNT) | CLI_OPT(CLI_O_AUTHORITY) | CLI_FRAG_HELP},
};
static const cli_group greeter_group = CLI_GROUP("rpc greeter", rpc_usage, greeter_cmds, NULL, NULL,
                                                 "usage: ccz rpc greeter serve|call ...");

/* ---- serve -----------------------------------------------------------------------------------*/

typedef struct {
    ccz_rpc_server *srv;
    long delay_ms;
} greeter;

typedef struct {
    ccz_rpc_call *call;
    char *name;
} pending;

static void answer(ccz_rpc_call *call, const char *name)
{
    const ccz_rpc_metadata *md = ccz_rpc_call_metadata(call);
    for (size_t i = 0; i < md->n; i++)
        if (!strncmp(md->entries[i].key, "x-", 2))
            if (ccz_rpc_call_add_header(call, md->entries[i].key,
                                        ccz_buf_span(&md->entries[i].value)) ||
                ccz_rpc_call_add_trailer(call, md->entries[i].key,
                                         ccz_buf_span(&md->entries[i].value)))
                ccz_error_clear();
    const ccz_ratls_verdict *v = ccz_rpc_call_peer(call);
    if (v && !v->status) {
        const char *tee = ccz_tee_name(v->result.claims.tee);
        if (ccz_rpc_call_add_trailer(call, "ccz-peer-tee", CCZ_SPAN(tee, strlen(tee))))
            ccz_error_clear();
    }
    if (!name[0]) {
        (void)!ccz_rpc_finish(call, CCZ_RPC_INVALID_ARGUMENT, "name is empty");
        return;
    }
    char text[1100];
    snprintf(text, sizeof text, "Hello %s", name);
    Ratls__HelloReply reply = RATLS__HELLO_REPLY__INIT;
    reply.message = text;
    if (ccz_rpc_reply(call, &reply.base) != CCZ_OK)
        fprintf(stderr, "ccz rpc: %s\n", ccz_error_detail());
}

static void answer_later(void *arg)
{
    pending *p = arg;
    if (ccz_rpc_call_alive(p->call))
        answer(p->call, p->name);
    ccz_rpc_call_unref(p->call);
    free(p->name);
    free(p);
}

static void say_hello(ccz_rpc_call *call, const ProtobufCMessage *request, void *payload)
{
    greeter *g = payload;
    const Ratls__HelloRequest *req = (const Ratls__HelloRequest *)request;
    const char *name = req->name ? req->name : "";
    if (strlen(name) > 1024) {
        (void)!ccz_rpc_finish(call, CCZ_RPC_INVALID_ARGUMENT, "name is longer than 1024 bytes");
        return;
    }
    if (!g->delay_ms) {
        answer(call, name);
        return;
    }
    pending *p = malloc(sizeof *p);
    if (p && (p->name = strdup(name)) != NULL) {
        p->call = call;
        ccz_rpc_call_ref(call);
        if (ccz_rpc_server_defer(g->srv, (int)g->delay_ms, answer_later, p) == CCZ_OK)
            return;
        ccz_rpc_call_unref(call);
        free(p->name);
    }
    free(p);
    (void)!ccz_rpc_finish(call, CCZ_RPC_RESOURCE_EXHAUSTED, "out of memory");
}

static const char *mode_name(ccz_ratls_mode m)
{
    return m == CCZ_RATLS_TWO_WAY ? "two-way" : m == CCZ_RATLS_SERVER ? "server" : "client";
}

static int serve(int argc, char **argv)
{
    cli_args a = {0};
    int r = cli_parse(&a, argc, argv, &greeter_group, cli_command_opts(&greeter_group, argv[0]));
    if (r)
        return r < 0 ? EXIT_OK : r;
    if (!a.listen || optind != argc)
        return cli_usage_error("rpc", "usage: ccz rpc greeter serve --listen ADDR [options]");
    signal(SIGPIPE, SIG_IGN);
    cli_block_stop_signals();

    cli_rpc_side p = {0};
    ccz_status s = cli_rpc_side_serve(&p, &a, 0);
    greeter g = {p.srv, a.delay_ms};
    ccz_rpc_handler handlers[] = {say_hello};
    if (s == CCZ_OK)
        s = ccz_rpc_server_add_service(g.srv, &ratls__greeter__descriptor, handlers, &g);
    if (s == CCZ_OK)
        s = cli_rpc_side_listen(&p, &a);
    if (s) {
        r = cli_fail(s, "rpc greeter serve");
        goto out;
    }
    fprintf(stderr, "ccz rpc: serving ratls.Greeter on port %d (mode %s)\n", p.port,
            mode_name(a.mode));
    s = cli_rpc_side_run(&p, "rpc", 5000);
    if (s)
        r = cli_fail(s, "rpc greeter serve");
    else
        fprintf(stderr, "ccz rpc: stopped\n");
out:
    cli_rpc_side_free(&p, &a);
    return r;
}

/* ---- call ------------------------------------------------------------------------------------*/

#define MD_KEY_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."

static bool binary_key(const char *key)
{
    size_t n = strlen(key);
    return n > 4 && !strcmp(key + n - 4, "-bin");
}

/* Binary values (keys ending in -bin) print as base64, as they are given to --metadata. */
static void print_md(const char *what, const ccz_rpc_metadata *md)
{
    for (size_t i = 0; i < md->n; i++) {
        const ccz_rpc_md_entry *e = &md->entries[i];
        ccz_buf b64 = CCZ_BUF_INIT;
        if (binary_key(e->key) && ccz_base64_encode(&b64, ccz_buf_span(&e->value)) == CCZ_OK)
            fprintf(stderr, "ccz rpc: %s %s: %.*s\n", what, e->key, (int)b64.len,
                    (const char *)b64.ptr);
        else
            fprintf(stderr, "ccz rpc: %s %s: %.*s\n", what, e->key, (int)e->value.len,
                    (const char *)e->value.ptr);
        ccz_buf_free(&b64);
    }
}

static int call(int argc, char **argv)
{
    cli_args a = {0};
    int r = cli_parse(&a, argc, argv, &greeter_group, cli_command_opts(&greeter_group, argv[0]));
    if (r)
        return r < 0 ? EXIT_OK : r;
    if (argc - optind != 1 || !a.name)
        return cli_usage_error("rpc", "usage: ccz rpc greeter call HOST:PORT --name NAME "
                                      "[options]");
    signal(SIGPIPE, SIG_IGN);
    cli_rpc_side p = {0};
    ccz_rpc_metadata md = {0};
    ccz_status s = CCZ_OK;
    for (int i = 0; s == CCZ_OK && i < a.n_md; i++) {
        const char *eq = strchr(a.md[i], '=');
        size_t n = (size_t)(eq - a.md[i]);
        char key[256];
        /* gRPC's key characters (capitals are lowered), and never cut to fit */
        if (!n || n >= sizeof key || strspn(a.md[i], MD_KEY_CHARS) != n) {
            s = ccz_fail(CCZ_ERR_INVALID_ARGUMENT,
                         "--metadata '%.*s': a key is 1 to 255 letters, digits, '-', '_' or '.'",
                         (int)(n < 64 ? n : 64), a.md[i]);
            break;
        }
        snprintf(key, sizeof key, "%.*s", (int)n, a.md[i]);
        if (!binary_key(key)) {
            s = ccz_rpc_md_add(&md, key, CCZ_SPAN(eq + 1, strlen(eq + 1)));
            continue;
        }
        ccz_buf bin = CCZ_BUF_INIT; /* a -bin value is given in base64 */
        s = ccz_base64_decode(&bin, eq + 1, strlen(eq + 1));
        if (s == CCZ_OK)
            s = ccz_rpc_md_add(&md, key, ccz_buf_span(&bin));
        else
            s = ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "--metadata %s: a -bin value is base64", key);
        ccz_buf_free(&bin);
    }
    ccz_rpc_channel_opts co = CCZ_RPC_CHANNEL_OPTS_INIT;
    co.authority = a.authority;
    if (s == CCZ_OK)
        s = cli_rpc_side_connect(&p, &a, argv[optind], co);
    if (s) {
        r = cli_fail(s, "rpc greeter call");
        goto out;
    }
    Ratls__HelloRequest req = RATLS__HELLO_REQUEST__INIT;
    req.name = (char *)a.name;
    ccz_rpc_call_opts opts = {CCZ_RPC_CALL_OPTS_VERSION, a.deadline_ms, &md};
    for (long i = 0; i < (a.count ? a.count : 1); i++) {
        ProtobufCMessage *resp;
        ccz_rpc_status st;
        s = ccz_rpc_unary(p.ch, &resp, &st, "/ratls.Greeter/SayHello", &req.base,
                          &ratls__hello_reply__descriptor, &opts);
        if (s) {
            r = cli_fail(s, "rpc greeter call");
            break;
        }
        print_md("header", &st.headers);
        print_md("trailer", &st.trailers);
        if (st.code != CCZ_RPC_OK) {
            fprintf(stderr, "ccz: rpc greeter call: %s (%d): %s\n", ccz_rpc_code_name(st.code),
                    st.code, st.message);
            ccz_rpc_status_free(&st);
            r = EXIT_REJECT;
            break;
        }
        printf("%s\n", ((Ratls__HelloReply *)resp)->message);
        fflush(stdout);
        protobuf_c_message_free_unpacked(resp, NULL);
        ccz_rpc_status_free(&st);
    }
out:
    ccz_rpc_md_free(&md);
    cli_rpc_side_free(&p, &a);
    return r;
}

static int greeter_service(int argc, char **argv)
{
    return cli_dispatch(&greeter_group, argc, argv);
}

static const cli_command rpc_cmds[] = {
    {"greeter", greeter_service, NULL, 0},
};
static const cli_group rpc_group =
    CLI_GROUP("rpc", rpc_usage, rpc_cmds, "service", " (try: greeter)", NULL);

int cmd_rpc(int argc, char **argv)
{
    return cli_dispatch(&rpc_group, argc, argv);
}
