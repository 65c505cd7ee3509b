/* SPDX-License-Identifier: Apache-2.0 */
/* The connection table of ccz's thread-per-connection servers (tools/ccz/conns.c), without a
 * server: socketpairs stand for the accepted connections. The watchdog, asleep with nothing to
 * watch, wakes for a newcomer and shuts it down at its session deadline; a peer at its cap with
 * every connection busy is refused (another peer is not); at the cap its oldest unfinished
 * handshake is shut down to make room, not a newer one (by accept order, not slot); at the
 * server's cap a handshake goes before an established connection, and among those the one
 * waited for longest (from when the wait began, not the handshake); a peer whose connection
 * is already closing waits rather than being refused; the deadline is set session_ms after the
 * accept, and the watchdog acts at it. */
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
    /* the deadline is session_ms after the accept, not later */
    CHECK(c && c->deadline >= t0 + 200 && c->deadline < t0 + 400); /* not 2 x 200 */
    cli_conns_established(&t, c);
    struct pollfd pf = {theirs, POLLIN, 0};
    CHECK_INT(poll(&pf, 1, 3000), 1);
    int64_t dt = listener_mono_ms() - t0;
    char b;
    CHECK_INT(recv(theirs, &b, 1, MSG_DONTWAIT), 0); /* EOF: shut down */
    CHECK(dt >= 150 && dt < 1000);                   /* at the deadline, not a second after it */
    CHECK(cli_conns_release(&t, c));                 /* ended by the deadline */
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
    int linger_ms;   /* how long its thread takes to release the slot after an EOF */
    atomic_int shut; /* 1: it read EOF (shut down), 2: the test's byte */
} holder;

static void *hold(void *p)
{
    holder *h = p;
    char b;
    ssize_t n = recv(h->fd, &b, 1, 0);
    atomic_store(&h->shut, n == 0 ? 1 : 2);
    if (n == 0)
        usleep((useconds_t)h->linger_ms * 1000);
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

/* A connection's thread that only holds its slot: *theirs is the test's end. */
static void start_holder(holder *h, cli_conns *t, cli_conn *c, pthread_t *th, int linger_ms)
{
    h->t = t;
    h->c = c;
    h->fd = c->fd;
    h->linger_ms = linger_ms;
    atomic_init(&h->shut, 0);
    test_thread(th, hold, h);
}

/* Ends the holders still waiting (a byte each) and joins them all. */
static void end_holders(holder *h, pthread_t *th, const int *theirs, int n)
{
    for (int i = 0; i < n; i++)
        if (!atomic_load(&h[i].shut))
            (void)send(theirs[i], "x", 1, MSG_NOSIGNAL);
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
}

/* With a and b held open (their peers' ends theirs_a and theirs_b), a newcomer from addr (its end
 * in *theirs_new) makes room by shutting down the one `victim` names (0: a, 1: b), not the
 * other, also while the victim's thread takes linger_ms to release it; then the newcomer's
 * slot is released. */
static void newcomer_closes(cli_conns *t, cli_conn *a, int theirs_a, cli_conn *b, int theirs_b,
                            const char *addr, int *theirs_new, int victim, int linger_ms)
{
    holder h[2];
    pthread_t th[2];
    start_holder(&h[0], t, a, &th[0], victim == 0 ? linger_ms : 0);
    start_holder(&h[1], t, b, &th[1], victim == 1 ? linger_ms : 0);
    cli_conn *n = take(t, addr, theirs_new); /* returns once the victim is released */
    CHECK(n != NULL);
    CHECK_INT(atomic_load(&h[victim].shut), 1);
    CHECK_INT(atomic_load(&h[!victim].shut), 0); /* the other is still open */
    int mine[2] = {theirs_a, theirs_b};
    end_holders(h, th, mine, 2);
    CHECK_INT(atomic_load(&h[!victim].shut), 2);
    if (n)
        (void)cli_conns_release(t, n);
}

/* At the server's cap with two established connections whose peers the server waits for, a
 * newcomer (another peer) makes room by shutting down the one waited for longest, not the
 * other, also while that one's thread is slow to let go. */
static void test_cap_closes_idle_longest(void)
{
    cli_conns t;
    CHECK_OK(cli_conns_init(&t, "test", 2, 8, 60000));
    int theirs[3];
    cli_conn *a = take(&t, "127.0.0.2", &theirs[0]);
    cli_conn *b = take(&t, "127.0.0.3", &theirs[1]);
    CHECK(a && b);
    cli_conns_established(&t, a);
    cli_conns_established(&t, b);
    cli_conns_waiting(&t, a, true);
    usleep(20 * 1000);
    cli_conns_waiting(&t, b, true); /* a has been waited for longer */
    if (a && b)
        newcomer_closes(&t, a, theirs[0], b, theirs[1], "127.0.0.4", &theirs[2], 0, 300);
    for (int i = 0; i < 3; i++)
        close(theirs[i]);
    cli_conns_free(&t);
}

/* At the server's cap, an unfinished handshake makes room before an established connection,
 * even one idle for longer. */
static void test_cap_prefers_handshake_to_idle(void)
{
    cli_conns t;
    CHECK_OK(cli_conns_init(&t, "test", 2, 8, 60000));
    int theirs[3];
    cli_conn *a = take(&t, "127.0.0.2", &theirs[0]);
    CHECK(a != NULL);
    cli_conns_established(&t, a);
    cli_conns_waiting(&t, a, true); /* idle since before b arrived */
    usleep(20 * 1000);
    cli_conn *b = take(&t, "127.0.0.3", &theirs[1]); /* still in its handshake */
    CHECK(b != NULL);
    if (a && b) /* b, the handshake, not a, the established one */
        newcomer_closes(&t, a, theirs[0], b, theirs[1], "127.0.0.4", &theirs[2], 1, 0);
    for (int i = 0; i < 3; i++)
        close(theirs[i]);
    cli_conns_free(&t);
}

/* At the server's cap, "waited for longest" counts from when the server began to wait, not from
 * the handshake: b, established after a but waited for first, makes room. */
static void test_cap_idle_from_wait_not_handshake(void)
{
    cli_conns t;
    CHECK_OK(cli_conns_init(&t, "test", 2, 8, 60000));
    int theirs[3];
    cli_conn *a = take(&t, "127.0.0.2", &theirs[0]);
    cli_conn *b = take(&t, "127.0.0.3", &theirs[1]);
    CHECK(a && b);
    cli_conns_established(&t, a);
    usleep(20 * 1000);
    cli_conns_established(&t, b);
    usleep(20 * 1000);
    cli_conns_waiting(&t, b, true);
    usleep(20 * 1000);
    cli_conns_waiting(&t, a, true); /* b has been waited for longer, a established longer */
    if (a && b)
        newcomer_closes(&t, a, theirs[0], b, theirs[1], "127.0.0.4", &theirs[2], 1, 0);
    for (int i = 0; i < 3; i++)
        close(theirs[i]);
    cli_conns_free(&t);
}

/* Releases a slot after a pause, as a connection's thread does once it sees its socket end. */
typedef struct {
    cli_conns *t;
    cli_conn *c;
} late_release;

static void *release_later(void *p)
{
    late_release *l = p;
    usleep(200 * 1000);
    (void)cli_conns_release(l->t, l->c);
    return NULL;
}

/* A peer at its cap whose only connection is already closing (here: shut down at its session
 * deadline, its thread not yet done) is not refused: the newcomer waits for that slot. */
static void test_peer_cap_waits_for_closing(void)
{
    cli_conns t;
    CHECK_OK(cli_conns_init(&t, "test", 8, 1, 100));
    int theirs[2];
    cli_conn *a = take(&t, "127.0.0.2", &theirs[0]);
    CHECK(a != NULL);
    cli_conns_established(&t, a); /* busy: never a victim */
    struct pollfd pf = {theirs[0], POLLIN, 0};
    CHECK_INT(poll(&pf, 1, 3000), 1); /* the deadline shut it down; its slot is still held */
    late_release l = {&t, a};
    pthread_t th;
    test_thread(&th, release_later, &l);
    cli_conn *n = take(&t, "127.0.0.2", &theirs[1]);
    CHECK(n != NULL); /* not refused: it got the closing one's slot */
    pthread_join(th, NULL);
    if (n)
        (void)cli_conns_release(&t, n);
    for (int i = 0; i < 2; i++)
        close(theirs[i]);
    cli_conns_free(&t);
}

/* "Oldest" is the accept order, not the slot's place: a newer handshake in a lower slot (freed
 * by a release) is not the one closed for a newcomer at the peer's cap, also while the older
 * one's thread is slow to let go. */
static void test_peer_cap_oldest_by_accept_order(void)
{
    cli_conns t;
    CHECK_OK(cli_conns_init(&t, "test", 8, 2, 60000));
    int theirs[4];
    cli_conn *a = take(&t, "127.0.0.2", &theirs[0]); /* slot 0 */
    cli_conn *b = take(&t, "127.0.0.2", &theirs[1]); /* slot 1 */
    CHECK(a && b);
    CHECK(!cli_conns_release(&t, a));
    cli_conn *c = take(&t, "127.0.0.2", &theirs[2]); /* slot 0 again, newer than b */
    CHECK(c == a);
    if (b && c) /* b, the older handshake, not c, the newer one */
        newcomer_closes(&t, b, theirs[1], c, theirs[2], "127.0.0.2", &theirs[3], 0, 300);
    for (int i = 0; i < 4; i++)
        close(theirs[i]);
    cli_conns_free(&t);
}

TEST_MAIN(T(test_deadline_wakes_watchdog), T(test_peer_cap_refuses_when_busy),
          T(test_peer_cap_closes_oldest_handshake), T(test_cap_closes_idle_longest),
          T(test_cap_prefers_handshake_to_idle), T(test_cap_idle_from_wait_not_handshake),
          T(test_peer_cap_waits_for_closing), T(test_peer_cap_oldest_by_accept_order))
