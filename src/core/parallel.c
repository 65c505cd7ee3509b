/* Parallel loops: a batch split into one contiguous chunk per thread. Threads are made per call
 * (tens of microseconds), which batches of public-key operations amortise. */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    ccz_status (*fn)(size_t, size_t, void *);
    void *arg;
    size_t begin, end;
    ccz_status status;
    char detail[512];
    pthread_t thread;
} chunk;

static void *run_chunk(void *p)
{
    chunk *c = p;
    c->status = c->fn(c->begin, c->end, c->arg);
    if (c->status)
        snprintf(c->detail, sizeof c->detail, "%s", ccz_error_detail());
    return NULL;
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
    chunk *c = calloc(threads, sizeof *c);
    CCZ_ENSURE(c, CCZ_ERR_NOMEM, "out of memory");
    size_t per = n / threads, extra = n % threads, at = 0;
    for (unsigned i = 0; i < threads; i++) {
        c[i] = (chunk){.fn = fn, .arg = arg, .begin = at};
        at += per + (i < extra);
        c[i].end = at;
    }
    unsigned started = 1;
    for (unsigned i = 1; i < threads; i++, started++)
        if (pthread_create(&c[i].thread, NULL, run_chunk, &c[i]) != 0)
            break;
    /* chunks without a thread run here */
    run_chunk(&c[0]);
    for (unsigned i = started; i < threads; i++)
        run_chunk(&c[i]);
    for (unsigned i = 1; i < started; i++)
        pthread_join(c[i].thread, NULL);
    ccz_status s = CCZ_OK;
    for (unsigned i = 0; i < threads && !s; i++)
        if (c[i].status)
            s = ccz_fail(c[i].status, "%s", c[i].detail);
    free(c);
    return s;
}
