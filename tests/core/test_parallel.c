/* SPDX-License-Identifier: Apache-2.0 */
/* Parallel loops: every index visited exactly once for any thread count, the first failure
 * returned with its detail, and two loops at once from two threads (one on the pool, one on
 * threads of its own) both complete. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

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

static void test_failure(void)
{
    atomic_int *hits = calloc(1000, sizeof *hits);
    visit v = {hits, 777};
    CHECK_STATUS(ccz_parallel(1000, 4, mark, &v), CCZ_ERR_OVERFLOW);
    CHECK_STR(ccz_error_detail(), "element 777 failed");
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
    pthread_create(&t, NULL, other_loop, &v2);
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

TEST_MAIN(T(test_every_index_once), T(test_failure), T(test_two_callers))
