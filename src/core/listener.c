/* SPDX-License-Identifier: Apache-2.0 */
/* Accepting connections on libevent, shared by the servers (see listener.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/bufferevent_ssl.h>
#include <event2/thread.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/err.h>

#include "core/guard.h"
#include "core/listener.h"
#include "ccz/ratls.h"

bool listener_silent(const SSL *ssl, evutil_socket_t fd)
{
    if (ssl && (SSL_get_state(ssl) != TLS_ST_BEFORE || SSL_has_pending(ssl)))
        return false;
    char b;
    return recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) <= 0; /* nothing waiting, EOF or an error */
}

#define EPISODE_MS 10000 /* failures closer together than this are one episode */

int64_t listener_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static pthread_once_t threads_once = PTHREAD_ONCE_INIT;

static void use_threads(void)
{
    evthread_use_pthreads();
}

void listener_use_threads(void)
{
    pthread_once(&threads_once, use_threads);
}

unsigned listener_descriptor_room(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return UINT_MAX;
    rlim_t reserve = 32 + rl.rlim_cur / 16;
    if (rl.rlim_cur <= reserve + 1)
        return 1;
    return rl.rlim_cur - reserve > UINT_MAX ? UINT_MAX : (unsigned)(rl.rlim_cur - reserve);
}

ccz_status listener_bind(struct evconnlistener **out, int *port, struct event_base *base,
                         const char *addr, evconnlistener_cb on_accept,
                         evconnlistener_errorcb on_error, void *payload)
{
    char host[256], portstr[6];
    CCZ_GUARD(ccz_host_port_split(host, sizeof host, portstr, addr, "0.0.0.0", true));
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *ai = NULL;
    int gai = getaddrinfo(host, portstr, &hints, &ai);
    CCZ_ENSURE(gai == 0, CCZ_ERR_NETWORK, "cannot resolve '%s' to listen on %s: %s", host, addr,
               gai_strerror(gai));
    *out = evconnlistener_new_bind(
        base, on_accept, payload, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
        128, ai->ai_addr, (int)ai->ai_addrlen);
    freeaddrinfo(ai);
    CCZ_ENSURE(*out, CCZ_ERR_NETWORK, "cannot listen on %s: %s", addr, strerror(errno));
    evconnlistener_set_error_cb(*out, on_error);
    if (port) {
        struct sockaddr_storage bound;
        socklen_t bl = sizeof bound;
        getsockname(evconnlistener_get_fd(*out), (struct sockaddr *)&bound, &bl);
        *port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                  : ((struct sockaddr_in *)&bound)->sin_port);
    }
    return CCZ_OK;
}

void listener_pause(struct evconnlistener *l, struct event *relisten, int64_t *failed_at,
                    const char *name, unsigned open, unsigned max)
{
    int err = EVUTIL_SOCKET_ERROR();
    static const struct timeval pause = {0, LISTENER_PAUSE_MS * 1000};
    int64_t now = listener_mono_ms();
    evconnlistener_disable(l);
    if (!*failed_at || now - *failed_at > EPISODE_MS)
        ccz_log(CCZ_LOG_WARN,
                "%s: cannot accept connections: %s (%u open, at most %u); "
                "pausing %d ms at a time until it passes",
                name, evutil_socket_error_to_string(err), open, max, LISTENER_PAUSE_MS);
    *failed_at = now;
    evtimer_add(relisten, &pause);
}

void listener_peer_group(char out[LISTENER_PEER_GROUP_LEN], const struct sockaddr *addr)
{
    snprintf(out, LISTENER_PEER_GROUP_LEN, "?");
    if (addr->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)addr)->sin_addr, out,
                  LISTENER_PEER_GROUP_LEN);
    } else if (addr->sa_family == AF_INET6) {
        struct in6_addr a = ((const struct sockaddr_in6 *)addr)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(&a)) { /* an IPv4 client of a dual-stack socket */
            inet_ntop(AF_INET, &a.s6_addr[12], out, LISTENER_PEER_GROUP_LEN);
            return;
        }
        /* one host holds a whole /64 (SLAAC, privacy addresses): the network is the peer */
        memset(&a.s6_addr[8], 0, 8);
        char net[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, &a, net, sizeof net);
        snprintf(out, LISTENER_PEER_GROUP_LEN, "%s/64", net);
    }
}

listener_peer *listener_peer_find(listener_peer *peers, size_t n, const char *addr, bool add)
{
    for (size_t i = 0; i < n; i++)
        if (peers[i].n && strcmp(peers[i].addr, addr) == 0)
            return &peers[i];
    if (!add)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (peers[i].n == 0) {
            snprintf(peers[i].addr, sizeof peers[i].addr, "%s", addr);
            return &peers[i];
        }
    return NULL;
}

void listener_log_handshake_failure(const char *who, const SSL *ssl, unsigned long err)
{
    const ccz_ratls_verdict *v = ccz_ratls_peer_verdict(ssl);
    char buf[256] = "";
    if (err)
        ERR_error_string_n(err, buf, sizeof buf);
    bool gone =
        !(v && v->status) && (!err || ERR_GET_REASON(err) == SSL_R_UNEXPECTED_EOF_WHILE_READING);
    ccz_log(gone ? CCZ_LOG_DEBUG : CCZ_LOG_WARN, "%s: a client's handshake failed: %s", who,
            v && v->status ? v->message
            : buf[0]       ? buf
                           : "connection closed");
}

ccz_status listener_conns_init(listener_conns *t)
{
    t->peers = calloc(t->max, sizeof *t->peers);
    CCZ_ENSURE(t->peers, CCZ_ERR_NOMEM, "out of memory");
    return CCZ_OK;
}

void listener_conns_free(listener_conns *t)
{
    free(t->peers);
    t->peers = NULL;
}

/* The connection to close for a newcomer from p (see listener_admit), or NULL. */
static listener_conn *victim(const listener_conns *t, const listener_peer *p, bool per_peer)
{
    listener_conn *v = NULL;
    int looked = 0;
    for (listener_conn *c = t->handshaking.head; c && !v && looked < LISTENER_SILENT_SCAN;
         c = c->next) {
        if (per_peer && c->peer != p)
            continue;
        looked++;
        if (listener_silent(c->ssl, bufferevent_getfd(c->bev)))
            v = c;
    }
    for (listener_conn *c = t->handshaking.head; c && !v; c = c->next)
        if (!per_peer || c->peer == p)
            v = c;
    for (listener_conn *c = v ? NULL : t->ready.head; c; c = c->next)
        if (t->idle(c) && (!per_peer || c->peer == p) && (!v || c->last_active < v->last_active))
            v = c;
    return v;
}

listener_peer *listener_admit(listener_conns *t, struct evconnlistener *l,
                              const struct sockaddr *addr)
{
    char group[LISTENER_PEER_GROUP_LEN];
    listener_peer_group(group, addr);
    listener_peer *p = listener_peer_find(t->peers, t->max, group, false);
    bool per_peer = p && p->n >= t->max_per_peer;
    if (per_peer || t->n >= t->max) {
        listener_conn *v = victim(t, p, per_peer);
        if (!v) {
            ccz_log(CCZ_LOG_DEBUG, "%s: refused a connection from %s: %s (%u) are busy", t->name,
                    group, per_peer ? "all of its connections" : "all connections",
                    per_peer ? p->n : t->n);
            return NULL;
        }
        t->close(v);
        static const struct timeval now = {0, 0};
        evconnlistener_disable(l);
        evtimer_add(t->relisten, &now);
    }
    return p ? p : listener_peer_find(t->peers, t->max, group, true);
}

void listener_conns_add(listener_conns *t, listener_conn *c, listener_peer *p, bool handshaking)
{
    c->peer = p;
    if (p)
        p->n++;
    t->n++;
    listener_list_push(handshaking ? &t->handshaking : &t->ready, c);
}

void listener_conns_ready(listener_conns *t, listener_conn *c)
{
    listener_list_remove(c);
    listener_list_push(&t->ready, c);
}

void listener_conns_remove(listener_conns *t, listener_conn *c)
{
    if (c->peer)
        c->peer->n--;
    listener_list_remove(c);
    t->n--;
}

listener_conn *listener_conn_new(size_t size, struct event_base *base, SSL_CTX *tls,
                                 evutil_socket_t fd, event_callback_fn on_timer)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    listener_conn *c = calloc(1, size);
    if (c)
        c->timer = evtimer_new(base, on_timer, c);
    if (c && c->timer && tls) {
        c->ssl = SSL_new(tls);
        if (c->ssl) {
            /* OpenSSL's copy of a record it has decrypted is wiped once read */
            SSL_set_options(c->ssl, SSL_OP_CLEANSE_PLAINTEXT);
            c->bev = bufferevent_openssl_socket_new(base, fd, c->ssl, BUFFEREVENT_SSL_ACCEPTING,
                                                    BEV_OPT_CLOSE_ON_FREE);
        }
    } else if (c && c->timer) {
        c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
    }
    if (c && c->bev)
        return c;
    if (c) {
        SSL_free(c->ssl);
        if (c->timer)
            event_free(c->timer);
        free(c);
    }
    evutil_closesocket(fd);
    return NULL;
}
