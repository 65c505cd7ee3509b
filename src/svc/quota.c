/* SPDX-License-Identifier: Apache-2.0 */
/* Per-address quotas (svc.h): what one client address may start in a window, so a flood of
 * nonces or sessions from one address costs that address, not the others. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/guard.h"
#include "svc/svc.h"

typedef struct {
    char addr[52]; /* an address or an IPv6 /64 network (listener_peer_group) */
    int64_t since; /* the window's start */
    unsigned used;
} quota_slot;

struct svc_quota {
    pthread_mutex_t lock;
    unsigned per_peer, window;
    size_t n, cap;
    quota_slot *slots;
};

ccz_status svc_quota_new(svc_quota **out, unsigned per_peer, unsigned window_s, size_t peers)
{
    *out = NULL;
    CCZ_ENSURE(per_peer && window_s && peers, CCZ_ERR_INVALID_ARGUMENT,
               "a quota needs a count, a window and room for peers");
    svc_quota *q = calloc(1, sizeof *q);
    quota_slot *slots = calloc(peers, sizeof *slots);
    if (!q || !slots) {
        free(q);
        free(slots);
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    }
    pthread_mutex_init(&q->lock, NULL);
    q->per_peer = per_peer;
    q->window = window_s;
    q->cap = peers;
    q->slots = slots;
    *out = q;
    return CCZ_OK;
}

void svc_quota_free(svc_quota *q)
{
    if (!q)
        return;
    pthread_mutex_destroy(&q->lock);
    free(q->slots);
    free(q);
}

unsigned svc_quota_take(svc_quota *q, const char *addr, int64_t now)
{
    pthread_mutex_lock(&q->lock);
    quota_slot *s = NULL, *oldest = NULL;
    for (size_t i = 0; i < q->n && !s; i++) {
        if (strcmp(q->slots[i].addr, addr) == 0)
            s = &q->slots[i];
        else if (!oldest || q->slots[i].since < oldest->since)
            oldest = &q->slots[i];
    }
    if (!s) {
        /* a new address takes a free slot, else the one whose window began longest ago (its
         * count is forgotten: the table, not the addresses, is what memory bounds) */
        s = q->n < q->cap ? &q->slots[q->n++] : oldest;
        snprintf(s->addr, sizeof s->addr, "%s", addr);
        s->since = now;
        s->used = 0;
    }
    if (now - s->since >= (int64_t)q->window) {
        s->since = now;
        s->used = 0;
    }
    unsigned wait = 0;
    if (s->used >= q->per_peer)
        wait = (unsigned)(s->since + (int64_t)q->window - now);
    else
        s->used++;
    pthread_mutex_unlock(&q->lock);
    return wait;
}
