/* SPDX-License-Identifier: Apache-2.0 */
/* Parallel loops: every index visited exactly once for any thread count, the first failure
 * returned with its detail, two loops at once from two threads (one on the pool, one on threads
 * of its own) both complete, and chunks of whole groups with a grain. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "ccz/core.h"
#include "test.h"

typedef struct {
    atomic_int *hits;
    size_t fail_at;
} visit;

static ccz_status mark(size_t begin, size_t end, void *arg)
{
    visit *v = arg;
    for (size_t i = begin; i < end; i++) {
        if (i == v->fail_at)
            return ccz_fail(CCZ_ERR_OVERFLOW, "element %zu failed", i);
        atomic_fetch_add(&v->hits[i], 1);
    }
    return CCZ_OK;
}

static int all_once(atomic_int *hits, size_t n)
{
    int ok = 1;
    for (size_t i = 0; i < n; i++)
        ok &= atomic_load(&hits[i]) == 1;
    return ok;
}

static void test_every_index_once(void)
{
    CHECK(ccz_cpu_count() >= 1);
    size_t sizes[] = {1, 2, 3, 7, 1000, 12345};
    unsigned threads[] = {0, 1, 2, 3, 8, 300};
    for (size_t a = 0; a < sizeof sizes / sizeof sizes[0]; a++)
        for (size_t b = 0; b < sizeof threads / sizeof threads[0]; b++) {
            atomic_int *hits = calloc(sizes[a], sizeof *hits);
            visit v = {hits, (size_t)-1};
            CHECK_OK(ccz_parallel(sizes[a], threads[b], mark, &v));
            CHECK(all_once(hits, sizes[a]));
            free(hits);
        }
    CHECK_OK(ccz_parallel(0, 4, mark, NULL)); /* nothing to do */
}

typedef struct {
    atomic_int calls, empty; /* calls of fn, calls with nothing to do */
} counted;

static ccz_status count_call(size_t begin, size_t end, void *arg)
{
    counted *c = arg;
    atomic_fetch_add(&c->calls, 1);
    if (begin >= end)
        atomic_fetch_add(&c->empty, 1);
    return CCZ_OK;
}

/* Never more threads than items: 300 threads asked for 3 items make 3 calls, none of them
 * with an empty range. */
static void test_more_threads_than_items(void)
{
    size_t sizes[] = {1, 2, 3, 7};
    unsigned threads[] = {0, 1, 2, 3, 8, 300};
    for (size_t a = 0; a < sizeof sizes / sizeof sizes[0]; a++)
        for (size_t b = 0; b < sizeof threads / sizeof threads[0]; b++) {
            counted c;
            atomic_init(&c.calls, 0);
            atomic_init(&c.empty, 0);
            CHECK_OK(ccz_parallel(sizes[a], threads[b], count_call, &c));
            unsigned t = threads[b] ? threads[b] : ccz_cpu_count();
            CHECK_INT(atomic_load(&c.calls), (int)(t < sizes[a] ? t : sizes[a]));
            CHECK_INT(atomic_load(&c.empty), 0);
        }
}

static void test_failure(void)
{
    atomic_int *hits = calloc(1000, sizeof *hits);
    visit v = {hits, 777};
    CHECK_STATUS(ccz_parallel(1000, 4, mark, &v), CCZ_ERR_OVERFLOW);
    CHECK_STR(ccz_error_detail(), "element 777 failed");
    /* a failure in the first chunk counts as one in any other */
    v.fail_at = 0;
    CHECK_STATUS(ccz_parallel(1000, 4, mark, &v), CCZ_ERR_OVERFLOW);
    CHECK_STR(ccz_error_detail(), "element 0 failed");
    free(hits);
}

static void *other_loop(void *arg)
{
    visit *v = arg;
    for (int r = 0; r < 50; r++)
        if (ccz_parallel(5000, 0, mark, v) != CCZ_OK)
            return NULL;
    return arg;
}

static void test_two_callers(void)
{
    atomic_int *h1 = calloc(5000, sizeof *h1), *h2 = calloc(5000, sizeof *h2);
    visit v1 = {h1, (size_t)-1}, v2 = {h2, (size_t)-1};
    pthread_t t;
    test_thread(&t, other_loop, &v2);
    void *r1 = other_loop(&v1), *r2;
    pthread_join(t, &r2);
    CHECK(r1 == &v1 && r2 == &v2);
    int ok = 1;
    for (size_t i = 0; i < 5000; i++)
        ok &= atomic_load(&h1[i]) == 50 && atomic_load(&h2[i]) == 50;
    CHECK(ok);
    free(h1);
    free(h2);
}

/* With a grain: every index once, every chunk starting on a multiple of the grain and ending on
 * one (or at n), and no more than four chunks per thread. */
typedef struct {
    visit v;
    size_t grain;
    atomic_int chunks, misaligned;
} grained;

static ccz_status mark_grained(size_t begin, size_t end, void *arg)
{
    grained *g = arg;
    atomic_fetch_add(&g->chunks, 1);
    if (begin % g->grain != 0 || (end % g->grain != 0 && end != g->v.fail_at))
        atomic_fetch_add(&g->misaligned, 1);
    return mark(begin, end, &g->v);
}

static void test_grain(void)
{
    size_t sizes[] = {1, 3, 4, 5, 64, 100, 1001};
    unsigned threads[] = {0, 1, 2, 3, 8};
    size_t grains[] = {1, 4, 8};
    for (size_t a = 0; a < sizeof sizes / sizeof sizes[0]; a++)
        for (size_t b = 0; b < sizeof threads / sizeof threads[0]; b++)
            for (size_t c = 0; c < sizeof grains / sizeof grains[0]; c++) {
                size_t n = sizes[a];
                atomic_int *hits = calloc(n, sizeof *hits);
                /* fail_at doubles as "n" for the last chunk's end: nothing fails */
                grained g = {{hits, n}, grains[c], 0, 0};
                CHECK_OK(ccz_parallel_grain(n, threads[b], grains[c], mark_grained, &g));
                CHECK(all_once(hits, n));
                CHECK_INT(atomic_load(&g.misaligned), 0);
                unsigned t = threads[b] ? threads[b] : ccz_cpu_count();
                CHECK(atomic_load(&g.chunks) <= (int)(4 * t));
                free(hits);
            }
    atomic_int *hits = calloc(100, sizeof *hits);
    grained g = {{hits, 50}, 8, 0, 0};
    CHECK_STATUS(ccz_parallel_grain(100, 2, 8, mark_grained, &g), CCZ_ERR_OVERFLOW);
    CHECK_STR(ccz_error_detail(), "element 50 failed");
    free(hits);
}

/* A grain of 0 counts as 1: every index once, in chunks of any size. */
static void test_grain_zero(void)
{
    atomic_int *hits = calloc(100, sizeof *hits);
    grained g = {{hits, 100}, 1, 0, 0};
    CHECK_OK(ccz_parallel_grain(100, 2, 0, mark_grained, &g));
    CHECK(all_once(hits, 100));
    CHECK(atomic_load(&g.chunks) >= 2 && atomic_load(&g.chunks) <= 8);
    free(hits);
}

/* Nothing to do: fn is never called, with or without a grain (not even with an empty range). */
static void test_zero_items_no_call(void)
{
    unsigned threads[] = {0, 1, 4};
    for (size_t b = 0; b < sizeof threads / sizeof threads[0]; b++) {
        counted c;
        atomic_init(&c.calls, 0);
        atomic_init(&c.empty, 0);
        CHECK_OK(ccz_parallel(0, threads[b], count_call, &c));
        CHECK_OK(ccz_parallel_grain(0, threads[b], 8, count_call, &c));
        CHECK_OK(ccz_parallel_grain(0, threads[b], 0, count_call, &c));
        CHECK_INT(atomic_load(&c.calls), 0);
    }
}

/* Two chunks with two threads run at the same time: each waits (up to 5 s) for the other to
 * start, so a loop whose second thread never joins fails ("alone"). Once on the pool, once from
 * inside another loop (the pool busy: threads of its own). */
typedef struct {
    atomic_int arrived;
} meeting;

static ccz_status meet(size_t begin, size_t end, void *arg)
{
    meeting *m = arg;
    (void)begin, (void)end;
    atomic_fetch_add(&m->arrived, 1);
    for (int i = 0; i < 5000 && atomic_load(&m->arrived) < 2; i++)
        usleep(1000);
    return atomic_load(&m->arrived) >= 2 ? CCZ_OK : ccz_fail(CCZ_ERR_UNAVAILABLE, "alone");
}

static ccz_status meet_inside(size_t begin, size_t end, void *arg)
{
    (void)arg;
    for (size_t i = begin; i < end; i++) {
        meeting m;
        atomic_init(&m.arrived, 0);
        ccz_status s = ccz_parallel(2, 2, meet, &m);
        if (s)
            return s;
        if (atomic_load(&m.arrived) != 2)
            return ccz_fail(CCZ_ERR_PROTOCOL, "%d chunks", atomic_load(&m.arrived));
    }
    return CCZ_OK;
}

static void test_chunks_run_at_once(void)
{
    for (int r = 0; r < 3; r++) {
        meeting m;
        atomic_init(&m.arrived, 0);
        CHECK_OK(ccz_parallel(2, 2, meet, &m));
        CHECK_INT(atomic_load(&m.arrived), 2);
    }
    CHECK_OK(ccz_parallel(2, 2, meet_inside, NULL));
}

TEST_MAIN(T(test_every_index_once), T(test_more_threads_than_items), T(test_failure),
          T(test_two_callers), T(test_grain), T(test_grain_zero), T(test_zero_items_no_call),
          T(test_chunks_run_at_once))
