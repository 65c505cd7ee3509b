/* SPDX-License-Identifier: Apache-2.0 */
/* ccz psi ecdh: two-party ECDH PSI (ccz/psi.h) between a listening and a connecting ccz, over
 * RA-TLS or, without an identity, ordinary unauthenticated TLS. The data file is the user's;
 * everything from the peer is untrusted and parsed by the library. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "conns.h"
#include "endpoint.h"

#define DEFAULT_IDLE_MS 60000
#define DEFAULT_MAX_CONNS 4

/* RA-TLS when the command line gives this side an identity, a mode or anything to verify the
 * peer with: a policy given to a connection that would not use it must not pass unnoticed. */
static bool wants_ratls(const cli_args *a, int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--mode") || CCZ_STARTS_WITH(argv[i], "--mode="))
            return true;
    const cli_verify_opts *v = &a->v;
    return a->ca.tee || a->cert || a->key || v->policy || v->collateral || v->vek || v->chain ||
           v->root_ca || v->n_sim_roots;
}

static ccz_status load_set(ccz_psi_set **out, const char *path)
{
    CCZ_GUARD(ccz_psi_set_new(out));
    CCZ_GUARD(ccz_psi_set_add_file(*out, path));
    return ccz_psi_set_seal(*out);
}

/* ---- the listening side ------------------------------------------------------------------------*/

/* Listens on ADDR; *port and host (at most cap bytes) say where it is bound (port 0 picks one). */
static ccz_status listen_on(int *out, int *port_out, char *bound, size_t cap, const char *addr)
{
    char host[256], port[6];
    *out = -1;
    CCZ_GUARD(ccz_host_port_split(host, sizeof host, port, addr, "127.0.0.1", true));
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *ai;
    int gai = getaddrinfo(host, port, &hints, &ai);
    CCZ_ENSURE(gai == 0, CCZ_ERR_NETWORK, "cannot resolve '%s': %s", host, gai_strerror(gai));
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    ccz_status s = CCZ_OK;
    if (fd < 0) {
        s = ccz_fail(CCZ_ERR_NETWORK, "socket: %s", strerror(errno));
    } else {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0)
            s = ccz_fail(CCZ_ERR_NETWORK, "bind: %s", strerror(errno));
        else if (listen(fd, 16) != 0)
            s = ccz_fail(CCZ_ERR_NETWORK, "listen: %s", strerror(errno));
    }
    freeaddrinfo(ai);
    if (s) {
        if (fd >= 0)
            close(fd);
        return s;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char h[INET6_ADDRSTRLEN] = "?";
    int p = 0;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 && ss.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, h, sizeof h);
        p = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    } else if (ss.ss_family == AF_INET) {
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, h, sizeof h);
        p = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    }
    snprintf(bound, cap, "%s", h);
    *port_out = p;
    *out = fd;
    return CCZ_OK;
}

typedef struct {
    SSL_CTX *ctx;
    ccz_psi_set *set; /* sealed: sessions share it read-only */
    long handshake_ms, idle_ms;
    cli_conns conns;
    unsigned long next_id;
} psi_server;

/* The session's stream: the TLS session's, noting when the server waits for the peer (whom to
 * close when the server is full). */
typedef struct {
    ccz_psi_io tls;
    psi_server *srv;
    cli_conn *slot;
} session_io;

/* A TLS record's worth at a time, so that a long message coming in counts as the peer's
 * activity, not its silence. */
#define SESSION_READ_CHUNK 16384

static ccz_status session_read(void *payload, uint8_t *p, size_t n)
{
    session_io *sio = payload;
    ccz_status s = CCZ_OK;
    for (size_t k; s == CCZ_OK && n; p += k, n -= k) {
        k = n < SESSION_READ_CHUNK ? n : SESSION_READ_CHUNK;
        cli_conns_waiting(&sio->srv->conns, sio->slot, true);
        s = sio->tls.read(sio->tls.payload, p, k);
        cli_conns_waiting(&sio->srv->conns, sio->slot, false);
    }
    return s;
}

static ccz_status session_write(void *payload, const uint8_t *p, size_t n)
{
    session_io *sio = payload;
    return sio->tls.write(sio->tls.payload, p, n);
}

/* One session: handshake within its deadline, then the protocol with the idle timeout. */
static ccz_status serve_one(psi_server *srv, cli_conn *slot, int fd, unsigned long id)
{
    SSL *ssl;
    double t0 = cli_now();
    ccz_status s = ccz_ratls_accept_timeout(&ssl, srv->ctx, fd, srv->handshake_ms);
    cli_conns_established(&srv->conns, slot);
    if (s) {
        fprintf(stderr, "ccz psi ecdh: session %lu: handshake failed: %s\n", id,
                ccz_error_detail());
        return s;
    }
    cli_socket_timeouts(fd, srv->idle_ms);
    session_io sio = {.srv = srv, .slot = slot};
    ccz_psi_io_ssl(&sio.tls, ssl);
    ccz_psi_io io = {.write = session_write, .read = session_read, .payload = &sio};
    ccz_psi_ecdh_opts o = CCZ_PSI_ECDH_OPTS_INIT;
    ccz_psi_ecdh_result r;
    s = ccz_psi_ecdh_server(&r, srv->set, &io, &o);
    if (s)
        fprintf(stderr, "ccz psi ecdh: session %lu failed: %s: %s\n", id, ccz_status_name(s),
                ccz_error_detail());
    else
        fprintf(stderr,
                "ccz psi ecdh: session %lu: %llu items against a client's %llu (%s); sent %llu "
                "bytes, received %llu; %.2f s\n",
                id, (unsigned long long)r.local_items, (unsigned long long)r.peer_items,
                r.size_only ? "it learns the size only" : "it learns the intersection",
                (unsigned long long)r.bytes_sent, (unsigned long long)r.bytes_received,
                cli_now() - t0);
    ccz_psi_ecdh_result_free(&r);
    if (s == CCZ_OK)
        SSL_shutdown(ssl);
    SSL_free(ssl);
    ERR_clear_error();
    return s;
}

typedef struct {
    psi_server *srv;
    cli_conn *slot;
    int fd;
    unsigned long id;
} session_job;

static void *session_thread(void *arg)
{
    session_job *j = arg;
    (void)serve_one(j->srv, j->slot, j->fd, j->id);
    (void)cli_conns_release(&j->srv->conns, j->slot);
    ERR_clear_error();
    OPENSSL_thread_stop();
    free(j);
    return NULL;
}

/* Accepts until killed (or one session with once: its exit code). At the cap the oldest
 * session still in its handshake, else the one whose peer the server has waited for longest,
 * makes room (conns.h), so silent peers cannot hold the slots; a session the server is busy with
 * is never cut, and with only those the newcomer waits. */
static int accept_loop(psi_server *srv, int lfd, bool once)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int r = EXIT_OK;
    for (;;) {
        struct sockaddr_storage peer;
        socklen_t pl = sizeof peer;
        int fd = accept4(lfd, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                usleep(100000); /* out of descriptors or memory: let sessions end */
            continue;
        }
        unsigned long id = ++srv->next_id;
        char label[32];
        snprintf(label, sizeof label, "session %lu", id);
        cli_conn *slot = cli_conns_take(&srv->conns, fd, (struct sockaddr *)&peer, label);
        if (!slot) {
            close(fd);
            continue;
        }
        if (once) {
            r = cli_exit_code(serve_one(srv, slot, fd, id), true);
            (void)cli_conns_release(&srv->conns, slot);
            break;
        }
        session_job *j = malloc(sizeof *j);
        pthread_t th;
        if (j)
            *j = (session_job){srv, slot, fd, id};
        if (!j || pthread_create(&th, &attr, session_thread, j) != 0) {
            fprintf(stderr, "ccz psi ecdh: session %lu turned away (no thread)\n", id);
            free(j);
            (void)cli_conns_release(&srv->conns, slot);
        }
    }
    pthread_attr_destroy(&attr);
    return r;
}

static int run_server(cli_args *a, SSL_CTX *ctx, ccz_psi_set *set, const char *kind)
{
    int lfd, port = 0;
    char bound[INET6_ADDRSTRLEN];
    ccz_status s = listen_on(&lfd, &port, bound, sizeof bound, a->listen);
    if (s)
        return cli_fail(s, "psi ecdh: cannot listen on %s", a->listen);
    psi_server srv = {.ctx = ctx,
                      .set = set,
                      .handshake_ms =
                          a->handshake_timeout_ms ? a->handshake_timeout_ms : CCZ_RATLS_TIMEOUT_MS,
                      .idle_ms = a->idle_timeout_ms ? a->idle_timeout_ms : DEFAULT_IDLE_MS};
    s = cli_conns_init(&srv.conns, "ccz psi ecdh",
                       a->max_conns ? (unsigned)a->max_conns : DEFAULT_MAX_CONNS,
                       a->max_per_peer ? (unsigned)a->max_per_peer : CLI_MAX_PER_PEER,
                       a->timeout_ms ? a->timeout_ms : CLI_SESSION_MS);
    if (s) {
        close(lfd);
        return cli_fail(s, "psi ecdh");
    }
    fprintf(stderr, "ccz psi ecdh: listening on port %d of %s with %zu items (%s)\n", port, bound,
            ccz_psi_set_size(set), kind);
    int r = accept_loop(&srv, lfd, a->once);
    close(lfd);
    cli_conns_free(&srv.conns);
    return r;
}

/* ---- the connecting side -----------------------------------------------------------------------*/

static ccz_status write_output(const char *path, const ccz_psi_set *set,
                               const ccz_psi_ecdh_result *r)
{
    ccz_buf b = CCZ_BUF_INIT;
    ccz_status s = CCZ_OK;
    if (r->size_only)
        s = ccz_buf_printf(&b, "%llu\n", (unsigned long long)r->intersection);
    for (uint64_t i = 0; s == CCZ_OK && r->indices && i < r->intersection; i++) {
        ccz_span item = ccz_psi_set_item(set, r->indices[i]);
        if ((s = ccz_buf_append(&b, item.ptr, item.len)) == CCZ_OK)
            s = ccz_buf_append_u8(&b, '\n');
    }
    if (s == CCZ_OK && path)
        s = ccz_file_write(path, ccz_buf_span(&b), 0644);
    else if (s == CCZ_OK && b.len && fwrite(b.ptr, 1, b.len, stdout) != b.len)
        s = ccz_fail(CCZ_ERR_IO, "cannot write the intersection: %s", strerror(errno));
    ccz_buf_free(&b);
    return s;
}

static int run_client(cli_args *a, SSL_CTX *ctx, ccz_psi_set *set)
{
    SSL *ssl;
    double t0 = cli_now();
    ccz_status s = ccz_ratls_connect_timeout(&ssl, ctx, a->connect, a->timeout_ms);
    if (s) {
        fprintf(stderr, "ccz: psi ecdh: %s\n", ccz_error_detail());
        return cli_exit_code(s, true);
    }
    cli_socket_timeouts(SSL_get_fd(ssl), a->idle_timeout_ms ? a->idle_timeout_ms : DEFAULT_IDLE_MS);
    ccz_psi_io io;
    ccz_psi_io_ssl(&io, ssl);
    ccz_psi_ecdh_opts o = CCZ_PSI_ECDH_OPTS_INIT;
    o.size_only = a->size_only;
    ccz_psi_ecdh_result r;
    s = ccz_psi_ecdh_client(&r, set, &io, &o);
    int code = EXIT_OK;
    if (s) {
        fprintf(stderr, "ccz: psi ecdh: %s: %s\n", ccz_status_name(s), ccz_error_detail());
        code = cli_exit_code(s, true);
    } else {
        SSL_shutdown(ssl);
        fprintf(stderr,
                "ccz psi ecdh: intersection %s%llu of %llu items (the server has %llu); sent "
                "%llu bytes, received %llu; %.2f s\n",
                r.size_only ? "size " : "", (unsigned long long)r.intersection,
                (unsigned long long)r.local_items, (unsigned long long)r.peer_items,
                (unsigned long long)r.bytes_sent, (unsigned long long)r.bytes_received,
                cli_now() - t0);
        if ((s = write_output(a->out, set, &r)) != CCZ_OK)
            code = cli_fail(s, "psi ecdh: %s", a->out ? a->out : "standard output");
    }
    ccz_psi_ecdh_result_free(&r);
    SSL_free(ssl);
    return code;
}

int cmd_psi_ecdh(int argc, char **argv)
{
    cli_args a = {0};
    int r = cli_parse(&a, argc, argv, &psi_group, cli_command_opts(&psi_group, argv[0]));
    if (r)
        return r < 0 ? EXIT_OK : r;
    if (optind != argc)
        return cli_usage_error("psi", "unexpected argument '%s'", argv[optind]);
    if (!a.listen == !a.connect)
        return cli_usage_error("psi", "give --listen ADDR or --connect ADDR (one of them)");
    if (!a.data)
        return cli_usage_error("psi", "--data FILE is required");
    if (a.listen && (a.size_only || a.out))
        return cli_usage_error("psi", "--size-only and -o are for the connecting side");
    if (a.connect && (a.once || a.max_conns || a.max_per_peer || a.handshake_timeout_ms))
        return cli_usage_error(
            "psi",
            "--once, --max-conns, --max-per-peer and --handshake-timeout are for the listener");
    signal(SIGPIPE, SIG_IGN);
    bool server = a.listen != NULL, ratls = wants_ratls(&a, argc, argv);
    ccz_psi_set *set = NULL;
    cli_endpoint e = {0};
    SSL_CTX *ctx = NULL;
    ccz_status s = load_set(&set, a.data);
    if (s) {
        r = cli_fail(s, "psi ecdh: %s", a.data);
        goto out;
    }
    s = cli_out_ready(a.out, "--out");
    if (s == CCZ_OK)
        s = ratls ? cli_endpoint_setup(&e, &a, server, &ctx, cli_print_verdict)
                  : ccz_psi_tls_ctx_new_insecure(&ctx, server);
    if (s) {
        r = cli_fail(s, "psi ecdh");
        goto out;
    }
    if (!ratls)
        fprintf(stderr,
                "ccz psi ecdh: WARNING: no --tee, --cert, --mode or verify option: ordinary "
                "TLS with an "
                "ephemeral self-signed certificate; the peer is NOT authenticated\n");
    r = server ? run_server(&a, ctx, set, ratls ? "RA-TLS" : "unauthenticated TLS")
               : run_client(&a, ctx, set);
out:
    SSL_CTX_free(ctx);
    cli_endpoint_free(&e);
    cli_attester_free(&a.ca);
    ccz_psi_set_free(set);
    return r;
}
