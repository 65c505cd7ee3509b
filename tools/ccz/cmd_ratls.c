/* SPDX-License-Identifier: Apache-2.0 */
/* ccz ratls: make and inspect RA-TLS certificates, and run an attested TLS echo server and
 * client (like openssl s_server / s_client). Peer certificates and bytes are untrusted. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/err.h>

#include "conns.h"
#include "endpoint.h"

static const char ratls_usage[] =
    "usage: ccz ratls cert --tee TEE -o CERT --key KEY [--p384] [--days N] [--not-before UNIX]\n"
    "                      [--not-after UNIX] [--cn NAME] [--gramine-legacy] [attester options]\n"
    "       ccz ratls inspect CERT [--json]\n"
    "       ccz ratls server --listen ADDR [--mode two-way|server|client] [--policy FILE]\n"
    "                      [--cert CERT --key KEY | attester options] [--once] [verify options]\n"
    "                      [--handshake-timeout MS] [--idle-timeout MS] [--max-conns N]\n"
    "                      [--max-per-peer N] [--timeout MS]\n"
    "       ccz ratls client HOST:PORT [--mode two-way|server|client] [--policy FILE]\n"
    "                      [--cert CERT --key KEY | attester options] [verify options]\n"
    "                      [--timeout MS]\n"
    "\n"
    "cert makes a key and a self-signed certificate carrying evidence bound to it (TCG DICE\n"
    "extension 2.23.133.5.4.9; --gramine-legacy adds Gramine's legacy extension for SGX).\n"
    "inspect shows a certificate's RA-TLS format, evidence, binding and the claims as written\n"
    "(unverified; use 'ccz verify CERT' to verify).\n"
    "server and client speak TLS 1.3 and verify the peer's evidence as the mode says: two-way\n"
    "(both), server (the client verifies the server), client (the server verifies the client).\n"
    "The server echoes lines, and answers an HTTP request with the connection's verdict. It\n"
    "serves up to --max-conns connections at once (default 64); a handshake must finish within\n"
    "--handshake-timeout (default 10000 ms) and a connection that sends nothing for\n"
    "--idle-timeout (default 60000 ms) is closed; at the cap, the oldest connection still in\n"
    "its handshake (else the one idle longest) is closed to make room. One peer (an IPv4\n"
    "address or an IPv6 /64) has at most --max-per-peer connections (default 64): at that cap\n"
    "its own oldest handshake, else its own idle connection, makes room, or the newcomer is\n"
    "refused. A connection ends --timeout after its accept (default 3600000 ms) whatever it\n"
    "sends. The client sends standard input and prints what comes\n"
    "back; connecting and its handshake, and then each line's echo, must finish within the\n"
    "client's --timeout (default 10000 ms).\n" CLI_VERIFY_HELP CLI_ATTESTER_HELP;

static int cmd_cert(int argc, char **argv);
static int cmd_inspect(int argc, char **argv);
static int cmd_server(int argc, char **argv);
static int cmd_client(int argc, char **argv);

static const cli_command ratls_cmds[] = {
    {"cert", cmd_cert, NULL, CLI_FRAG_ATTESTER | CLI_FRAG_MAKE_CERT | CLI_FRAG_HELP},
    {"inspect", cmd_inspect, NULL, CLI_FRAG_JSON | CLI_FRAG_HELP},
    {"server", cmd_server, NULL,
     CLI_FRAG_ENDPOINT | CLI_OPT(CLI_O_LISTEN) | CLI_OPT(CLI_O_ONCE) | CLI_OPT(CLI_O_HS_TIMEOUT) |
         CLI_OPT(CLI_O_IDLE_TIMEOUT) | CLI_OPT(CLI_O_MAX_CONNS) | CLI_OPT(CLI_O_MAX_PER_PEER) |
         CLI_OPT(CLI_O_TIMEOUT) | CLI_FRAG_HELP},
    {"client", cmd_client, NULL, CLI_FRAG_ENDPOINT | CLI_OPT(CLI_O_TIMEOUT) | CLI_FRAG_HELP},
};
static const cli_group ratls_group =
    CLI_GROUP("ratls", ratls_usage, ratls_cmds, "ratls command", NULL, NULL);

static int cmd_cert(int argc, char **argv)
{
    cli_args a = {0};
    int r = cli_parse(&a, argc, argv, &ratls_group, cli_command_opts(&ratls_group, argv[0]));
    if (r)
        return r < 0 ? EXIT_OK : r;
    if (optind != argc)
        return cli_usage_error("ratls", "unexpected argument '%s'", argv[optind]);
    if (!a.out || !a.key)
        return cli_usage_error("ratls", "-o CERT and --key KEY are required");
    ccz_attester *at = NULL;
    X509 *x = NULL;
    EVP_PKEY *k = NULL;
    ccz_status s = cli_attester_new(&a.ca, &at);
    if (s == CCZ_OK)
        s = ccz_ratls_cert_create(&x, &k, at, &a.co);
    if (s == CCZ_OK && (s = cli_write_key(a.key, k)) == CCZ_OK)
        s = cli_write_cert(a.out, x);
    if (s)
        r = cli_fail(s, "ratls cert");
    else
        fprintf(stderr, "wrote an RA-TLS certificate (%s evidence%s) to %s and its key to %s\n",
                a.ca.tee, a.ca.o.tee == CCZ_TEE_SIM ? ", SIMULATED" : "", a.out, a.key);
    X509_free(x);
    EVP_PKEY_free(k);
    ccz_attester_free(at);
    cli_attester_free(&a.ca);
    return r;
}

static int cmd_inspect(int argc, char **argv)
{
    cli_args a = {0};
    int r = cli_parse(&a, argc, argv, &ratls_group, cli_command_opts(&ratls_group, argv[0]));
    if (r)
        return r < 0 ? EXIT_OK : r;
    if (argc - optind != 1)
        return cli_usage_error("ratls", "give exactly one certificate");
    X509 *x;
    ccz_status s = cli_read_cert(&x, argv[optind]);
    if (s)
        return cli_fail(s, "ratls inspect");
    ccz_ratls_info info;
    s = ccz_ratls_inspect(&info, x);
    if (s) {
        ccz_ratls_info_free(&info);
        X509_free(x);
        return cli_fail(s, "ratls inspect %s", argv[optind]);
    }
    ccz_claims c;
    ccz_status ps = ccz_evidence_peek(&c, ccz_buf_span(&info.evidence));
    /* the binding, as far as it can be seen without verifying: key hash and report data */
    bool binding =
        info.binding_ok && ps == CCZ_OK && memcmp(c.report_data, info.report_data, 64) == 0;
    char subject[256] = "";
    X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof subject);
    json_t *o = json_pack("{s:s,s:s,s:s,s:b,s:i,s:b,s:s}", "subject", subject, "format",
                          ccz_ratls_format_name(info.format), "tee", ccz_tee_name(info.tee),
                          "simulated", info.tee == CCZ_TEE_SIM, "evidence_bytes",
                          (json_int_t)info.evidence.len, "binding_ok", binding, "note",
                          "claims as written in the certificate, NOT verified");
    if (info.format == CCZ_RATLS_FORMAT_DICE) {
        json_object_set_new(o, "cbor_tag", json_integer((json_int_t)info.cbor_tag));
        json_object_set_new(o, "pubkey_hash_alg", json_integer(info.hash_alg));
        json_t *also = json_array();
        if (info.has_legacy)
            json_array_append_new(also, json_string("gramine-legacy"));
        if (info.has_sgx_sdk)
            json_array_append_new(also, json_string("intel-sgx-sdk"));
        json_object_set_new(o, "also", also);
    }
    if (info.has_nonce) {
        ccz_buf hex = CCZ_BUF_INIT;
        if (ccz_hex_encode(&hex, ccz_buf_span(&info.nonce)) == CCZ_OK)
            json_object_set_new(o, "nonce", json_string((const char *)hex.ptr));
        ccz_buf_free(&hex);
    }
    json_object_set_new(o, "claims", ps == CCZ_OK ? ccz_claims_to_json(&c) : json_null());
    if (a.json) {
        char *t = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        puts(t ? t : "{}");
        free(t);
    } else {
        printf("subject     %s\nformat      %s%s%s\nevidence    %s, %zu bytes%s\nbinding     %s\n",
               subject, ccz_ratls_format_name(info.format),
               info.has_legacy && info.format == CCZ_RATLS_FORMAT_DICE
                   ? " (and the Gramine legacy extension)"
                   : "",
               info.has_sgx_sdk && info.format == CCZ_RATLS_FORMAT_DICE
                   ? " (and the Intel SGX SDK extension)"
                   : "",
               ccz_tee_name(info.tee), info.evidence.len,
               info.tee == CCZ_TEE_SIM ? " (SIMULATED)" : "", binding ? "ok" : "BROKEN");
        json_t *cj = json_object_get(o, "claims");
        const char *key;
        json_t *v;
        printf("claims (as written, not verified):\n");
        json_object_foreach (cj, key, v) {
            char *val = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
            printf("  %-16s %s\n", key, val ? val : "?");
            free(val);
        }
    }
    json_decref(o);
    ccz_ratls_info_free(&info);
    X509_free(x);
    return binding ? EXIT_OK : EXIT_REJECT;
}

/* ---- server and client -----------------------------------------------------------------------*/

/* A listening socket on ADDR (HOST:PORT or :PORT, loopback by default); the error names the
 * real cause: a bad port, a name that does not resolve, or what bind/listen said. */
static ccz_status listen_on(int *out, const char *addr)
{
    char host[256], port[6];
    *out = -1;
    CCZ_GUARD(ccz_host_port_split(host, sizeof host, port, addr, "127.0.0.1", true));
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *ai;
    int gai = getaddrinfo(host, port, &hints, &ai);
    if (gai != 0)
        return ccz_fail(CCZ_ERR_NETWORK, "cannot resolve '%s': %s", host, gai_strerror(gai));
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    ccz_status s = CCZ_OK;
    if (fd < 0) {
        s = ccz_fail(CCZ_ERR_NETWORK, "socket: %s", strerror(errno));
    } else {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0)
            s = ccz_fail(CCZ_ERR_NETWORK, "bind: %s", strerror(errno));
        else if (listen(fd, 64) != 0)
            s = ccz_fail(CCZ_ERR_NETWORK, "listen: %s", strerror(errno));
    }
    freeaddrinfo(ai);
    if (s && fd >= 0)
        close(fd);
    if (s == CCZ_OK)
        *out = fd;
    return s;
}

/* The server's connections: a thread each, in the slots of conns (conns.h). */
typedef struct {
    SSL_CTX *ctx;
    long handshake_ms, idle_ms;
    cli_conns conns;
} server_state;

typedef struct {
    server_state *srv;
    cli_conn *slot;
    int fd;
} conn_job;

/* Reads what the peer sends, the server waiting for it meanwhile (the choice of whom to close
 * when the server is full). */
static int read_some(server_state *srv, cli_conn *slot, SSL *ssl, char *buf, int len)
{
    cli_conns_waiting(&srv->conns, slot, true);
    int n = SSL_read(ssl, buf, len);
    cli_conns_waiting(&srv->conns, slot, false);
    return n;
}

/* Echoes lines, or answers one HTTP request with the verdict. Reads wait at most the idle
 * timeout (SO_RCVTIMEO on the socket), writes the same (SO_SNDTIMEO). */
static void serve(server_state *srv, cli_conn *slot, SSL *ssl)
{
    char line[4096];
    int n = read_some(srv, slot, ssl, line, sizeof line - 1);
    if (n <= 0)
        return;
    line[n] = '\0';
    if (!strncmp(line, "GET ", 4) || !strncmp(line, "HEAD ", 5)) {
        const ccz_ratls_verdict *v = ccz_ratls_peer_verdict(ssl);
        char body[512];
        int bl =
            snprintf(body, sizeof body, "{\"tls\":\"%s\",\"cipher\":\"%s\",\"peer_verified\":%s}\n",
                     SSL_get_version(ssl), SSL_get_cipher(ssl), v && !v->status ? "true" : "false");
        char resp[1024];
        int rl = snprintf(resp, sizeof resp,
                          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                          "%d\r\nConnection: close\r\n\r\n%s",
                          bl, body);
        SSL_write(ssl, resp, rl);
        return;
    }
    do {
        if (SSL_write(ssl, line, n) <= 0)
            return;
    } while ((n = read_some(srv, slot, ssl, line, sizeof line)) > 0);
}

/* Handshake within the deadline, then serve with the idle timeout; the handshake's status. */
static ccz_status run_connection(server_state *srv, cli_conn *slot, int fd)
{
    SSL *ssl;
    ccz_status s = ccz_ratls_accept_timeout(&ssl, srv->ctx, fd, srv->handshake_ms);
    cli_conns_established(&srv->conns, slot);
    if (s) {
        fprintf(stderr, "ccz ratls: handshake failed: %s\n", ccz_error_detail());
        return s;
    }
    cli_socket_timeouts(fd, srv->idle_ms);
    serve(srv, slot, ssl);
    SSL_shutdown(ssl);
    SSL_free(ssl);
    ERR_clear_error();
    return CCZ_OK;
}

static void *connection_thread(void *arg)
{
    conn_job *job = arg;
    (void)run_connection(job->srv, job->slot, job->fd);
    ERR_clear_error();
    (void)cli_conns_release(&job->srv->conns, job->slot);
    OPENSSL_thread_stop();
    free(job);
    return NULL;
}

/* Accepts forever (or one connection with once): the exit code. */
static int accept_loop(server_state *srv, int lfd, bool once)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int r = EXIT_OK;
    unsigned long n = 0;
    for (;;) {
        struct sockaddr_storage peer;
        socklen_t pl = sizeof peer;
        int fd = accept4(lfd, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                usleep(100000); /* out of descriptors or memory: let connections end */
            continue;
        }
        char label[64];
        snprintf(label, sizeof label, "connection %lu", ++n);
        cli_conn *slot = cli_conns_take(&srv->conns, fd, (struct sockaddr *)&peer, label);
        if (!slot) {
            close(fd);
            continue;
        }
        if (once) {
            r = cli_exit_code(run_connection(srv, slot, fd), true);
            (void)cli_conns_release(&srv->conns, slot);
            break;
        }
        conn_job *job = malloc(sizeof *job);
        pthread_t th;
        if (job)
            *job = (conn_job){srv, slot, fd};
        if (!job || pthread_create(&th, &attr, connection_thread, job) != 0) {
            fprintf(stderr, "ccz ratls: cannot start a thread for a connection\n");
            free(job);
            (void)cli_conns_release(&srv->conns, slot);
        }
    }
    pthread_attr_destroy(&attr);
    return r;
}

/* The cap: as asked, but leaving descriptors for the listener, files and OpenSSL. */
static unsigned conn_cap(long asked)
{
    struct rlimit rl;
    unsigned cap = asked > 0 ? (unsigned)asked : 64;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        rl.rlim_cur < (rlim_t)cap + 32)
        cap = rl.rlim_cur > 40 ? (unsigned)rl.rlim_cur - 32 : 8;
    return cap;
}

static int cmd_server(int argc, char **argv)
{
    cli_args a = {0};
    int r = cli_parse(&a, argc, argv, &ratls_group, cli_command_opts(&ratls_group, argv[0]));
    if (r)
        return r < 0 ? EXIT_OK : r;
    if (!a.listen || optind != argc)
        return cli_usage_error("ratls", "usage: ccz ratls server --listen ADDR [options]");
    signal(SIGPIPE, SIG_IGN);
    cli_endpoint e = {0};
    SSL_CTX *ctx = NULL;
    server_state srv = {0};
    ccz_status s = cli_endpoint_setup(&e, &a, true, &ctx, cli_print_verdict);
    if (s) {
        r = cli_fail(s, "ratls server");
        goto out;
    }
    srv.ctx = ctx;
    srv.handshake_ms = a.handshake_timeout_ms ? a.handshake_timeout_ms : CCZ_RATLS_TIMEOUT_MS;
    srv.idle_ms = a.idle_timeout_ms ? a.idle_timeout_ms : 60000;
    if ((s = cli_conns_init(&srv.conns, "ccz ratls", conn_cap(a.max_conns),
                            a.max_per_peer ? (unsigned)a.max_per_peer : CLI_MAX_PER_PEER,
                            a.timeout_ms ? a.timeout_ms : CLI_SESSION_MS)) != CCZ_OK) {
        r = cli_fail(s, "ratls server");
        goto out;
    }
    int lfd;
    ccz_status ls = listen_on(&lfd, a.listen);
    if (ls) {
        r = cli_fail(ls, "ratls server: cannot listen on %s", a.listen);
        goto out;
    }
    char bound[300];
    {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        char h[INET6_ADDRSTRLEN] = "?";
        int bp = 0;
        if (getsockname(lfd, (struct sockaddr *)&ss, &sl) == 0) {
            if (ss.ss_family == AF_INET6) {
                inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, h, sizeof h);
                bp = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
            } else {
                inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, h, sizeof h);
                bp = ntohs(((struct sockaddr_in *)&ss)->sin_port);
            }
        }
        snprintf(bound, sizeof bound, ss.ss_family == AF_INET6 ? "[%s]:%d" : "%s:%d", h, bp);
    }
    fprintf(stderr, "ccz ratls: listening on %s (mode %s, at most %u connections)\n", bound,
            a.mode == CCZ_RATLS_TWO_WAY  ? "two-way"
            : a.mode == CCZ_RATLS_SERVER ? "server"
                                         : "client",
            srv.conns.cap);
    r = accept_loop(&srv, lfd, a.once);
    close(lfd);
out:
    /* with once, no thread is left; otherwise the loop does not end */
    cli_conns_free(&srv.conns);
    SSL_CTX_free(ctx);
    cli_endpoint_free(&e);
    cli_attester_free(&a.ca);
    return r;
}

static int cmd_client(int argc, char **argv)
{
    cli_args a = {0};
    int r = cli_parse(&a, argc, argv, &ratls_group, cli_command_opts(&ratls_group, argv[0]));
    if (r)
        return r < 0 ? EXIT_OK : r;
    if (argc - optind != 1)
        return cli_usage_error("ratls", "usage: ccz ratls client HOST:PORT [options]");
    signal(SIGPIPE, SIG_IGN);
    cli_endpoint e = {0};
    SSL_CTX *ctx = NULL;
    SSL *ssl = NULL;
    ccz_status s = cli_endpoint_setup(&e, &a, false, &ctx, cli_print_verdict);
    if (s) {
        r = cli_fail(s, "ratls client");
        goto out;
    }
    if ((s = ccz_ratls_connect_timeout(&ssl, ctx, argv[optind], a.timeout_ms)) != CCZ_OK) {
        /* a network failure is unreadable input (2); a refused or rejected peer is 1 */
        fprintf(stderr, "ccz: ratls client: %s\n", ccz_error_detail());
        r = cli_exit_code(s, true);
        goto out;
    }
    fprintf(stderr, "ccz ratls: connected to %s (%s, %s)\n", argv[optind], SSL_get_version(ssl),
            SSL_get_cipher(ssl));
    /* each echo must come back, and each line go out, within the same --timeout */
    long ms = a.timeout_ms > 0 ? a.timeout_ms : CCZ_RATLS_TIMEOUT_MS;
    cli_socket_timeouts(SSL_get_fd(ssl), ms);
    char line[4096];
    while (fgets(line, sizeof line, stdin)) {
        int n = (int)strlen(line), got = 0, k = 1;
        if (SSL_write(ssl, line, n) <= 0) {
            ERR_clear_error(); /* the reason, if any, is in the alert waiting to be read */
            (void)SSL_read(ssl, line, sizeof line);
            k = 0;
        }
        while (k > 0 && got < n && (k = SSL_read(ssl, line + got, n - got)) > 0)
            got += k;
        int why = k < 0 ? SSL_get_error(ssl, k) : SSL_ERROR_NONE; /* the timeout: a retry */
        if (why == SSL_ERROR_WANT_READ || why == SSL_ERROR_WANT_WRITE ||
            (why == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK))) {
            fprintf(stderr, "ccz: ratls client: %s sent no answer within %ld ms (--timeout)\n",
                    argv[optind], ms);
            ERR_clear_error();
            r = cli_exit_code(CCZ_ERR_NETWORK, true); /* as when connecting */
            break;
        }
        if (k <= 0) {
            /* under TLS 1.3 a server rejects our certificate after our handshake ends */
            unsigned long err = ERR_peek_last_error();
            if (err && ERR_GET_REASON(err) >= SSL_AD_REASON_OFFSET)
                fprintf(
                    stderr, "ccz: ratls client: the server refused us (TLS alert: %s)\n",
                    SSL_alert_desc_string_long((int)(ERR_GET_REASON(err) - SSL_AD_REASON_OFFSET)));
            else
                fprintf(stderr, "ccz: ratls client: the connection ended\n");
            ERR_clear_error();
            r = EXIT_REJECT;
            break;
        }
        fwrite(line, 1, (size_t)got, stdout);
        fflush(stdout);
    }
    SSL_shutdown(ssl);
out:
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    cli_endpoint_free(&e);
    cli_attester_free(&a.ca);
    return r;
}

int cmd_ratls(int argc, char **argv)
{
    return cli_dispatch(&ratls_group, argc, argv);
}
