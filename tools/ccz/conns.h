/* SPDX-License-Identifier: Apache-2.0 */
/* The connections of ccz's thread-per-connection servers (ccz ratls server, ccz psi ecdh
 * --listen): a slot each, the server's cap and a peer's (an IPv4 address or an IPv6 /64,
 * listener_peer_group), whom to close to make room, and the whole-session deadline. A slot is
 * taken by the accept loop and released by the connection's thread; only the accept loop and the
 * deadline's watchdog shut a socket down, under the lock and while the slot holds it, so a
 * descriptor is never touched after its thread closed it. */
#ifndef CCZ_TOOLS_CONNS_H
#define CCZ_TOOLS_CONNS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ccz/core.h"
#include "core/listener.h"

/* The defaults: connections from one peer (the HTTP engine's), a session's length (--timeout). */
#define CLI_MAX_PER_PEER 64
#define CLI_SESSION_MS 3600000

typedef struct {
    int fd;           /* -1: free */
    bool handshaking; /* not yet through its handshake: the first to go when a cap is reached */
    bool waiting;     /* the server waits for the peer: only then may an established one go */
    bool closing;     /* shut down (to make room, or at its deadline); the slot is not free yet */
    bool expired;     /* shut down at the session deadline */
    uint64_t seq;     /* accept order */
    int64_t active;   /* when the peer last sent something, or the server began to wait for it */
    int64_t deadline; /* the session ends then (monotonic ms) */
    char peer[LISTENER_PEER_GROUP_LEN];
    char label[64]; /* for the log: "session 3", "127.0.0.1:4711" */
} cli_conn;

typedef struct {
    const char *name; /* the log's prefix: "ccz ratls" */
    pthread_mutex_t lock;
    pthread_cond_t freed, tick; /* a slot was freed; the watchdog's wake-up */
    cli_conn *slots;
    unsigned cap, used, per_peer;
    long session_ms;
    uint64_t next_seq;
    pthread_t watchdog;
    bool running, stop;
} cli_conns;

/* cap connections at once, per_peer of them from one peer, each ended session_ms after its
 * accept by the watchdog thread this starts. */
CCZ_NODISCARD ccz_status cli_conns_init(cli_conns *t, const char *name, unsigned cap,
                                        unsigned per_peer, long session_ms);
/* Stops the watchdog and frees the slots (no connection thread may be left). */
void cli_conns_free(cli_conns *t);
/* A slot for the connection fd just accepted from peer. At the peer's cap its own oldest
 * connection still in its handshake, else its one idle longest, is closed to make room, and with
 * none of them the newcomer is refused: NULL (fd is the caller's to close); at the server's cap
 * anyone's is closed the same way, or the newcomer waits for a slot. */
cli_conn *cli_conns_take(cli_conns *t, int fd, const struct sockaddr *peer, const char *label);
/* The handshake is over. */
void cli_conns_established(cli_conns *t, cli_conn *c);
/* The server begins (true) or stops (false) waiting for the peer; stopping notes the time. */
void cli_conns_waiting(cli_conns *t, cli_conn *c, bool waiting);
/* Frees the slot and closes its socket; whether the session deadline had ended it. */
bool cli_conns_release(cli_conns *t, cli_conn *c);

/* A connection's reads wait at most ms for the peer (SO_RCVTIMEO), its writes the same
 * (SO_SNDTIMEO): blocking I/O that a silent peer cannot hold for ever. */
void cli_socket_timeouts(int fd, long ms);

#endif
