/* SPDX-License-Identifier: Apache-2.0 */
/* The connections of ccz's thread-per-connection servers (see conns.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "conns.h"

/* How long the accept loop waits before it looks again for a connection to close: one busy with
 * the server's own work now may be waiting for its peer then. */
#define RECHECK_MS 100

static void deadline_ts(struct timespec *ts, int64_t ms)
{
    ts->tv_sec = (time_t)(ms / 1000);
    ts->tv_nsec = (long)(ms % 1000) * 1000000;
}

/* Ends the sessions whose deadline passed; sleeps until the next one's. */
static void *watchdog(void *arg)
{
    cli_conns *t = arg;
    pthread_mutex_lock(&t->lock);
    while (!t->stop) {
        int64_t now = listener_mono_ms(), next = INT64_MAX;
        for (unsigned i = 0; i < t->cap; i++) {
            cli_conn *c = &t->slots[i];
            if (c->fd < 0 || c->expired)
                continue;
            if (c->deadline > now) {
                if (c->deadline < next)
                    next = c->deadline;
                continue;
            }
            c->closing = c->expired = true;
            shutdown(c->fd, SHUT_RDWR);
            fprintf(stderr, "%s: %s: the session deadline (%ld ms) passed: closing it\n", t->name,
                    c->label, t->session_ms);
        }
        if (next == INT64_MAX) {
            pthread_cond_wait(&t->tick, &t->lock);
        } else {
            struct timespec ts;
            deadline_ts(&ts, next);
            pthread_cond_timedwait(&t->tick, &t->lock, &ts);
        }
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

ccz_status cli_conns_init(cli_conns *t, const char *name, unsigned cap, unsigned per_peer,
                          long session_ms)
{
    *t = (cli_conns){.name = name, .cap = cap, .per_peer = per_peer, .session_ms = session_ms};
    t->slots = calloc(cap, sizeof *t->slots);
    if (!t->slots)
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    for (unsigned i = 0; i < cap; i++)
        t->slots[i].fd = -1;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* listener_mono_ms's clock */
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->freed, &ca);
    pthread_cond_init(&t->tick, &ca);
    pthread_condattr_destroy(&ca);
    int e = pthread_create(&t->watchdog, NULL, watchdog, t);
    if (e) {
        cli_conns_free(t);
        return ccz_fail(CCZ_ERR_NOMEM, "cannot start the session deadline's thread: %s",
                        strerror(e));
    }
    t->running = true;
    return CCZ_OK;
}

void cli_conns_free(cli_conns *t)
{
    if (t->running) {
        pthread_mutex_lock(&t->lock);
        t->stop = true;
        pthread_cond_signal(&t->tick);
        pthread_mutex_unlock(&t->lock);
        pthread_join(t->watchdog, NULL);
        t->running = false;
    }
    if (t->slots) {
        pthread_cond_destroy(&t->tick);
        pthread_cond_destroy(&t->freed);
        pthread_mutex_destroy(&t->lock);
    }
    free(t->slots);
    t->slots = NULL;
}

/* The connection to close for a newcomer, among peer's (NULL: among all): the oldest still in its
 * handshake (not yet attested: an idle or slow peer must not lock out new ones, and the newcomer
 * may share its address), else the one whose peer the server has waited for longest; one the
 * server is busy with never. NULL with *closing when one of them is closing already (the room
 * it makes is the newcomer's), without when there is none to close. */
static cli_conn *victim(cli_conns *t, const char *peer, bool *closing, const char **why)
{
    cli_conn *hs = NULL, *idle = NULL;
    *closing = false;
    for (unsigned i = 0; i < t->cap; i++) {
        cli_conn *c = &t->slots[i];
        if (c->fd < 0 || (peer && strcmp(c->peer, peer) != 0))
            continue;
        if (c->closing) {
            *closing = true;
            return NULL;
        }
        if (c->handshaking && (!hs || c->seq < hs->seq))
            hs = c;
        if (!c->handshaking && c->waiting && (!idle || c->active < idle->active))
            idle = c;
    }
    *why = hs ? "the oldest unfinished handshake" : "the connection idle longest";
    return hs ? hs : idle;
}

static unsigned peer_conns(const cli_conns *t, const char *peer)
{
    unsigned n = 0;
    for (unsigned i = 0; i < t->cap; i++)
        n += t->slots[i].fd >= 0 && !strcmp(t->slots[i].peer, peer);
    return n;
}

cli_conn *cli_conns_take(cli_conns *t, int fd, const struct sockaddr *peer, const char *label)
{
    char group[LISTENER_PEER_GROUP_LEN];
    listener_peer_group(group, peer);
    pthread_mutex_lock(&t->lock);
    for (;;) {
        bool full_peer = peer_conns(t, group) >= t->per_peer, closing;
        if (!full_peer && t->used < t->cap)
            break;
        const char *why;
        cli_conn *v = victim(t, full_peer ? group : NULL, &closing, &why);
        if (full_peer && !v && !closing) {
            fprintf(stderr, "%s: %s has %u connections, all busy: refusing another\n", t->name,
                    group, t->per_peer);
            pthread_mutex_unlock(&t->lock);
            return NULL;
        }
        if (v) {
            v->closing = true;
            shutdown(v->fd, SHUT_RDWR);
            if (full_peer)
                fprintf(stderr, "%s: %s has %u connections: closing its %s\n", t->name, group,
                        t->per_peer, why + 4);
            else
                fprintf(stderr, "%s: %u connections: closing %s\n", t->name, t->cap, why);
        }
        struct timespec ts;
        deadline_ts(&ts, listener_mono_ms() + RECHECK_MS);
        pthread_cond_timedwait(&t->freed, &t->lock, &ts);
    }
    cli_conn *c = NULL;
    for (unsigned i = 0; !c; i++)
        if (t->slots[i].fd < 0)
            c = &t->slots[i];
    int64_t now = listener_mono_ms();
    *c = (cli_conn){.fd = fd,
                    .handshaking = true,
                    .seq = t->next_seq++,
                    .active = now,
                    .deadline = now + t->session_ms};
    memcpy(c->peer, group, sizeof group);
    snprintf(c->label, sizeof c->label, "%s", label);
    t->used++;
    pthread_cond_signal(&t->tick); /* the watchdog may be asleep with nothing to watch */
    pthread_mutex_unlock(&t->lock);
    return c;
}

void cli_conns_established(cli_conns *t, cli_conn *c)
{
    pthread_mutex_lock(&t->lock);
    c->handshaking = false;
    c->active = listener_mono_ms();
    pthread_mutex_unlock(&t->lock);
}

void cli_conns_waiting(cli_conns *t, cli_conn *c, bool waiting)
{
    pthread_mutex_lock(&t->lock);
    c->waiting = waiting;
    c->active = listener_mono_ms();
    pthread_mutex_unlock(&t->lock);
}

bool cli_conns_release(cli_conns *t, cli_conn *c)
{
    pthread_mutex_lock(&t->lock);
    int fd = c->fd;
    bool expired = c->expired;
    c->fd = -1;
    t->used--;
    pthread_cond_signal(&t->freed);
    pthread_mutex_unlock(&t->lock);
    close(fd);
    return expired;
}

void cli_socket_timeouts(int fd, long ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}
