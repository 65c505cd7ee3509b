/* SPDX-License-Identifier: Apache-2.0 */
/* Parallel loops on a thread pool: one worker per CPU but one (the caller works too), started on
 * first use and kept. A loop is split into one contiguous chunk per thread (or, with a grain, up
 * to four per thread of whole groups); workers and the caller claim chunks until none is left.
 * One loop runs on the pool at a time; a loop started while another runs gets threads of its
 * own, so callers never wait on each other. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/guard.h"
#include "ccz/core.h"

unsigned ccz_cpu_count(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return (unsigned)CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

typedef struct {
    size_t begin, end;
    ccz_status status;
    char detail[512];
} chunk;

typedef struct {
    ccz_status (*fn)(size_t, size_t, void *);
    void *arg;
    chunk *chunks;
    unsigned n_chunks;
    atomic_uint next, done;
    unsigned users; /* workers holding the job (under the pool's lock) */
    unsigned seats; /* workers that may still join it: threads - 1 (under the pool's lock) */
} job;

static void run(job *j, chunk *c)
{
    c->status = j->fn(c->begin, c->end, j->arg);
    if (c->status)
        snprintf(c->detail, sizeof c->detail, "%s", ccz_error_detail());
}

/* Claims and runs chunks until none is left. */
static void work(job *j)
{
    unsigned i;
    while ((i = atomic_fetch_add(&j->next, 1)) < j->n_chunks) {
        run(j, &j->chunks[i]);
        atomic_fetch_add(&j->done, 1);
    }
}

static struct {
    pthread_once_t once;
    pthread_mutex_t mu, busy;
    pthread_cond_t wake, idle;
    job *cur;
    unsigned long gen;
    unsigned workers;
} pool = {.once = PTHREAD_ONCE_INIT,
          .mu = PTHREAD_MUTEX_INITIALIZER,
          .busy = PTHREAD_MUTEX_INITIALIZER,
          .wake = PTHREAD_COND_INITIALIZER,
          .idle = PTHREAD_COND_INITIALIZER};

static void *worker(void *arg)
{
    (void)arg;
    unsigned long seen = 0;
    pthread_mutex_lock(&pool.mu);
    for (;;) {
        while (!pool.cur || pool.gen == seen)
            pthread_cond_wait(&pool.wake, &pool.mu);
        seen = pool.gen;
        job *j = pool.cur;
        if (j->seats == 0) /* the loop has the threads it asked for */
            continue;
        j->seats--;
        j->users++;
        pthread_mutex_unlock(&pool.mu);
        work(j);
        pthread_mutex_lock(&pool.mu);
        if (--j->users == 0)
            pthread_cond_broadcast(&pool.idle);
    }
    return NULL;
}

static void pool_start(void)
{
    unsigned n = ccz_cpu_count();
    n = n > 1 ? n - 1 : 0;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (unsigned i = 0; i < n && i < 256; i++) {
        pthread_t t;
        if (pthread_create(&t, &attr, worker, NULL) != 0)
            break;
        pool.workers++;
    }
    pthread_attr_destroy(&attr);
}

/* Without the pool: threads for this loop alone. */
static void *run_alone(void *p)
{
    work(p);
    return NULL;
}

static void run_with_threads(job *j, unsigned threads)
{
    pthread_t t[256];
    unsigned started = 0;
    for (unsigned i = 1; i < threads && started < 256; i++, started++)
        if (pthread_create(&t[started], NULL, run_alone, j) != 0)
            break;
    work(j);
    for (unsigned i = 0; i < started; i++)
        pthread_join(t[i], NULL);
}

/* [0, n) in `chunks` chunks of whole groups of `grain` (the last group may be short) */
static ccz_status parallel_run(size_t n, unsigned threads, unsigned n_chunks, size_t grain,
                               ccz_status (*fn)(size_t begin, size_t end, void *arg), void *arg)
{
    job j = {.fn = fn, .arg = arg, .n_chunks = n_chunks, .seats = threads - 1};
    j.chunks = calloc(n_chunks, sizeof *j.chunks);
    CCZ_ENSURE(j.chunks, CCZ_ERR_NOMEM, "out of memory");
    atomic_init(&j.next, 0);
    atomic_init(&j.done, 0);
    size_t groups = (n + grain - 1) / grain, per = groups / n_chunks, extra = groups % n_chunks;
    size_t at = 0;
    for (unsigned i = 0; i < n_chunks; i++) {
        j.chunks[i].begin = at;
        at += (per + (i < extra)) * grain;
        j.chunks[i].end = at < n ? at : n;
    }
    pthread_once(&pool.once, pool_start);
    if (pool.workers > 0 && pthread_mutex_trylock(&pool.busy) == 0) {
        pthread_mutex_lock(&pool.mu);
        pool.cur = &j;
        pool.gen++;
        pthread_cond_broadcast(&pool.wake);
        pthread_mutex_unlock(&pool.mu);
        work(&j);
        pthread_mutex_lock(&pool.mu);
        /* every chunk claimed; wait for the workers still running theirs */
        while (j.users > 0 || atomic_load(&j.done) < j.n_chunks)
            pthread_cond_wait(&pool.idle, &pool.mu);
        pool.cur = NULL;
        pthread_mutex_unlock(&pool.mu);
        pthread_mutex_unlock(&pool.busy);
    } else {
        run_with_threads(&j, threads);
    }
    ccz_status s = CCZ_OK;
    for (unsigned i = 0; i < n_chunks && !s; i++)
        if (j.chunks[i].status)
            s = ccz_fail(j.chunks[i].status, "%s", j.chunks[i].detail);
    free(j.chunks);
    return s;
}

ccz_status ccz_parallel(size_t n, unsigned threads,
                        ccz_status (*fn)(size_t begin, size_t end, void *arg), void *arg)
{
    if (n == 0)
        return CCZ_OK;
    if (threads == 0)
        threads = ccz_cpu_count();
    if (threads > n)
        threads = (unsigned)n;
    if (threads <= 1)
        return fn(0, n, arg);
    return parallel_run(n, threads, threads, 1, fn, arg);
}

ccz_status ccz_parallel_grain(size_t n, unsigned threads, size_t grain,
                              ccz_status (*fn)(size_t begin, size_t end, void *arg), void *arg)
{
    if (n == 0)
        return CCZ_OK;
    if (grain == 0)
        grain = 1;
    if (threads == 0)
        threads = ccz_cpu_count();
    size_t groups = (n + grain - 1) / grain;
    if (threads > groups)
        threads = (unsigned)groups;
    if (threads <= 1)
        return fn(0, n, arg);
    size_t chunks = (size_t)threads * 4 < groups ? (size_t)threads * 4 : groups;
    return parallel_run(n, threads, (unsigned)chunks, grain, fn, arg);
}
