/* SPDX-License-Identifier: Apache-2.0 */
/* What ccz's servers (the RA-gRPC server, the services' HTTP server) share about accepting
 * connections on libevent (internal; prefix listener_): binding a listener, the connection cap's
 * room in RLIMIT_NOFILE, pausing when accept() fails for want of descriptors, a monotonic clock,
 * libevent's thread support, and the address group per-peer caps count by. */
#ifndef CCZ_SRC_CORE_LISTENER_H
#define CCZ_SRC_CORE_LISTENER_H

#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>

#include "ccz/core.h"

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

#endif
