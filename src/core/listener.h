/* SPDX-License-Identifier: Apache-2.0 */
/* What ccz's servers (the RA-gRPC server, the services' HTTP server) share about accepting
 * connections on libevent (internal; prefix listener_): binding a listener, the connection cap's
 * room in RLIMIT_NOFILE, pausing when accept() fails for want of descriptors, a monotonic clock,
 * libevent's thread support, the address group per-peer caps count by, and a server's table of
 * connections with the choice of the one that makes room for a newcomer at a cap. */
#ifndef CCZ_SRC_CORE_LISTENER_H
#define CCZ_SRC_CORE_LISTENER_H

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>

#include "ccz/core.h"
#include "core/list.h"

/* Milliseconds on the monotonic clock. */
int64_t listener_mono_ms(void);
/* libevent's pthreads support, turned on once per process (before any event base). */
void listener_use_threads(void);
/* How many connections the descriptor limit leaves room for: RLIMIT_NOFILE less a reserve of 32
 * and a sixteenth for the rest of the process (UINT_MAX without a limit, at least 1). */
unsigned listener_descriptor_room(void);
/* Listens on ADDR (HOST:PORT, :PORT; port 0 picks one, returned in *port when not NULL). */
CCZ_NODISCARD ccz_status listener_bind(struct evconnlistener **out, int *port,
                                       struct event_base *base, const char *addr,
                                       evconnlistener_cb on_accept, evconnlistener_errorcb on_error,
                                       void *payload);
/* accept() failed for want of descriptors or memory: the listening socket stays readable, so
 * accepting pauses LISTENER_PAUSE_MS (relisten, a timer, enables it again) instead of spinning;
 * the episode is logged once (*failed_at keeps when it last failed). */
#define LISTENER_PAUSE_MS 250
void listener_pause(struct evconnlistener *l, struct event *relisten, int64_t *failed_at,
                    const char *name, unsigned open, unsigned max);
/* A connection in its handshake whose client has sent nothing yet (no TLS record read, none
 * waiting on the socket; ssl NULL: plaintext), or that is closed already: at the connection cap
 * these make room first, so that a flood of silent connections cannot push out a client
 * whose handshake is under way, however slow the machine is to finish it. */
bool listener_silent(const SSL *ssl, evutil_socket_t fd);
/* Logs a client's failed handshake for server `who`: a rejected peer (its verdict's message) or
 * an OpenSSL error (`err`, from bufferevent_get_openssl_error) as a warning, a client that went
 * away as debug only (a flood of them must not flood the log). */
void listener_log_handshake_failure(const char *who, const SSL *ssl, unsigned long err);
/* At the cap, how many of the oldest handshakes are looked at for a silent one (each look a
 * recv(MSG_PEEK)), so that a list of stalled handshakes cannot make every accept a walk of it. */
#define LISTENER_SILENT_SCAN 64
/* What the per-peer caps count by: an IPv4 address ("127.0.0.1", also when it comes mapped to
 * IPv6), an IPv6 address's /64 network ("2001:db8:1:2::/64"; one host holds a whole /64). */
#define LISTENER_PEER_GROUP_LEN (INET6_ADDRSTRLEN + 3)
void listener_peer_group(char out[LISTENER_PEER_GROUP_LEN], const struct sockaddr *addr);
/* A peer group and how many connections it has open; a slot with none is free. */
typedef struct {
    char addr[LISTENER_PEER_GROUP_LEN];
    unsigned n;
} listener_peer;
/* The slot of peers[0..n) holding addr with connections open, or NULL; with add, a free slot
 * taken for addr when none holds it (NULL only when every slot is in use: a table with a slot
 * per possible connection always has one). */
listener_peer *listener_peer_find(listener_peer *peers, size_t n, const char *addr, bool add);

/* What the shared accept logic knows of a connection: a server's connection struct has one as
 * its first member, so that a listener_conn * converts to the server's own. */
typedef struct listener_conn listener_conn;
CCZ_LIST_TYPE(listener_list, listener_conn);
struct listener_conn {
    struct bufferevent *bev;
    SSL *ssl;            /* NULL: plaintext */
    struct event *timer; /* its deadlines (the server's callback) */
    listener_peer *peer; /* its peer group's slot (NULL: none, a fuzz target's connection) */
    int64_t last_active; /* monotonic ms: its handshake done or the last of its work ended */
    listener_list *list;
    listener_conn *prev, *next;
};
CCZ_LIST_FUNCS(listener_list, listener_conn)

/* A server's connections, oldest first: in their TLS handshake, and past it (ready); the caps. */
typedef struct {
    const char *name; /* the server's, for its log */
    listener_list handshaking, ready;
    unsigned n, max, max_per_peer;
    listener_peer *peers;   /* one slot per possible connection (max) */
    struct event *relisten; /* enables accepting again (the server's timer) */
    /* May ready connection c be closed to make room (nothing in progress: its client reconnects
     * when it needs to)? And closing one (it calls listener_conns_remove). */
    bool (*idle)(const listener_conn *c);
    void (*close)(listener_conn *c);
} listener_conns;

/* Allocates t's peer slots for t->max connections (set first, with the rest). */
CCZ_NODISCARD ccz_status listener_conns_init(listener_conns *t);
/* Frees the slots; the connections are closed by then. */
void listener_conns_free(listener_conns *t);
/* Room for a newcomer from addr, accepted on l. Below the caps there is room. At its peer
 * group's cap one of that peer's own connections makes room, at the server's cap anyone's: the
 * oldest in its handshake whose client has sent nothing (of the first LISTENER_SILENT_SCAN
 * looked at), else the oldest in its handshake, else the idle one that has been idle longest.
 * At the server's cap addresses decide nothing, as a flood and a client may share one; at a
 * peer's cap only its connections are looked at, so a flood from one address cannot push out
 * anyone else's. Returns the newcomer's peer slot, or NULL: refused (every connection that
 * could make room is busy). When one was closed (t->close), accepting waits for the next loop
 * iteration, when libevent releases its descriptor, or a burst at the cap would run past the
 * descriptor limit. */
listener_peer *listener_admit(listener_conns *t, struct evconnlistener *l,
                              const struct sockaddr *addr);
/* Counts c in, from peer p (NULL: none), in its handshake or ready. */
void listener_conns_add(listener_conns *t, listener_conn *c, listener_peer *p, bool handshaking);
/* Moves c from the handshakes to the ready connections. */
void listener_conns_ready(listener_conns *t, listener_conn *c);
/* Counts c out (its peer's count and the server's). */
void listener_conns_remove(listener_conns *t, listener_conn *c);
/* A connection for an accepted socket: `size` bytes zeroed (the server's struct, its
 * listener_conn first) with its timer (on_timer, given the connection) and its bufferevent, over
 * TLS when tls is set (its SSL's copy of a record it has decrypted is wiped once read), else
 * plaintext; TCP_NODELAY set, so answers go out as they are written. NULL (the socket closed):
 * out of memory. Not yet counted in (listener_conns_add). */
listener_conn *listener_conn_new(size_t size, struct event_base *base, SSL_CTX *tls,
                                 evutil_socket_t fd, event_callback_fn on_timer);

#endif
