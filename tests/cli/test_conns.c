/* SPDX-License-Identifier: Apache-2.0 */
/* The connection table of ccz's thread-per-connection servers (tools/ccz/conns.c), without a
 * server: socketpairs stand for the accepted connections. The watchdog, asleep with nothing to
 * watch, wakes for a newcomer and shuts it down at its session deadline; a peer at its cap with
 * every connection busy is refused (another peer is not); at the cap its oldest unfinished
 * handshake is shut down to make room, not a newer one. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conns.h"
#include "test.h"

static struct sockaddr_in peer_addr(const char *ip)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(4711)};
    inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
}

/* A connection from ip: the table gets one end (*mine), the test keeps the other (*theirs). */
static cli_conn *take(cli_conns *t, const char *ip, int *theirs)
{
    int sv[2];
    CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    struct sockaddr_in a = peer_addr(ip);
    cli_conn *c = cli_conns_take(t, sv[0], (struct sockaddr *)&a, ip);
    if (!c)
        close(sv[0]);
    *theirs = sv[1];
    return c;
}

/* The session deadline ends a connection taken while the watchdog slept with none to watch:
 * its socket is shut down (the peer reads EOF) after session_ms, not before, and its release
 * says so. */
static void test_deadline_wakes_watchdog(void)
{
    cli_conns t;
    CHECK_OK(cli_conns_init(&t, "test", 4, 4, 200));
    usleep(50 * 1000); /* the watchdog is asleep: nothing to watch */
    int theirs;
    int64_t t0 = listener_mono_ms();
    cli_conn *c = take(&t, "127.0.0.2", &theirs);
    CHECK(c != NULL);
    cli_conns_established(&t, c);
    struct pollfd pf = {theirs, POLLIN, 0};
    CHECK_INT(poll(&pf, 1, 3000), 1);
    int64_t dt = listener_mono_ms() - t0;
    char b;
    CHECK_INT(recv(theirs, &b, 1, MSG_DONTWAIT), 0); /* EOF: shut down */
    CHECK(dt >= 150 && dt < 2500);
    CHECK(cli_conns_release(&t, c)); /* ended by the deadline */
    close(theirs);
    cli_conns_free(&t);
}

/* At its cap with every connection busy (established, the server not waiting for it), a peer's
 * newcomer is refused; another peer's is taken; releases not at a deadline say so. */
static void test_peer_cap_refuses_when_busy(void)
{
    cli_conns t;
    CHECK_OK(cli_conns_init(&t, "test", 8, 2, 60000));
    int theirs[4];
    cli_conn *a = take(&t, "127.0.0.2", &theirs[0]);
    cli_conn *b = take(&t, "127.0.0.2", &theirs[1]);
    CHECK(a && b);
    cli_conns_established(&t, a);
    cli_conns_established(&t, b);
    CHECK(take(&t, "127.0.0.2", &theirs[2]) == NULL);
    cli_conn *o = take(&t, "127.0.0.3", &theirs[3]);
    CHECK(o != NULL);
    char x;
    CHECK_INT(recv(theirs[0], &x, 1, MSG_DONTWAIT), -1); /* neither busy one was shut down */
    CHECK_INT(recv(theirs[1], &x, 1, MSG_DONTWAIT), -1);
    CHECK(!cli_conns_release(&t, a));
    CHECK(!cli_conns_release(&t, b));
    CHECK(!cli_conns_release(&t, o));
    for (int i = 0; i < 4; i++)
        close(theirs[i]);
    cli_conns_free(&t);
}

/* A connection's thread: waits for its socket to end (shut down by the table: EOF) or for a
 * byte from the test, then releases its slot. */
typedef struct {
    cli_conns *t;
    cli_conn *c;
    int fd;
    atomic_int shut; /* 1: it read EOF (shut down), 2: the test's byte */
} holder;

static void *hold(void *p)
{
    holder *h = p;
    char b;
    ssize_t n = recv(h->fd, &b, 1, 0);
    atomic_store(&h->shut, n == 0 ? 1 : 2);
    (void)cli_conns_release(h->t, h->c);
    return NULL;
}

/* At its cap with two unfinished handshakes, a peer's newcomer makes room by shutting down the
 * older one (not the newer), and gets its slot once that one's thread releases it. */
static void test_peer_cap_closes_oldest_handshake(void)
{
    cli_conns t;
    CHECK_OK(cli_conns_init(&t, "test", 8, 2, 60000));
    int theirs[3];
    holder h[2] = {{.t = &t}, {.t = &t}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        h[i].c = take(&t, "127.0.0.2", &theirs[i]);
        CHECK(h[i].c != NULL);
        h[i].fd = h[i].c->fd;
        atomic_init(&h[i].shut, 0);
        test_thread(&th[i], hold, &h[i]);
    }
    cli_conn *n = take(&t, "127.0.0.2", &theirs[2]); /* returns once the older is released */
    CHECK(n != NULL);
    pthread_join(th[0], NULL);
    CHECK_INT(atomic_load(&h[0].shut), 1);
    CHECK_INT(atomic_load(&h[1].shut), 0); /* the newer handshake is still open */
    CHECK_INT(send(theirs[1], "x", 1, MSG_NOSIGNAL), 1);
    pthread_join(th[1], NULL);
    CHECK_INT(atomic_load(&h[1].shut), 2);
    if (n)
        (void)cli_conns_release(&t, n);
    for (int i = 0; i < 3; i++)
        close(theirs[i]);
    cli_conns_free(&t);
}

TEST_MAIN(T(test_deadline_wakes_watchdog), T(test_peer_cap_refuses_when_busy),
          T(test_peer_cap_closes_oldest_handshake))
