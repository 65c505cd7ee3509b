/* SPDX-License-Identifier: Apache-2.0 */
/* Per-address quotas (src/svc/quota.c): takes within a window up to the count, then the
 * seconds until the window ends; a new window at its end; another address counted apart; a
 * full table forgets the address whose window began longest ago. */
#include "svc/svc.h"
#include "test.h"

static void test_window(void)
{
    svc_quota *q;
    CHECK_OK(svc_quota_new(&q, 2, 10, 2));
    CHECK_INT(svc_quota_take(q, "10.0.0.1", 100), 0);
    CHECK_INT(svc_quota_take(q, "10.0.0.1", 100), 0);
    CHECK_INT(svc_quota_take(q, "10.0.0.1", 101), 9); /* refused: 9 s left of its window */
    CHECK_INT(svc_quota_take(q, "10.0.0.1", 109), 1);
    CHECK_INT(svc_quota_take(q, "10.0.0.2", 101), 0); /* another address */
    CHECK_INT(svc_quota_take(q, "10.0.0.1", 110), 0); /* a new window */
    CHECK_INT(svc_quota_take(q, "10.0.0.1", 110), 0);
    CHECK_INT(svc_quota_take(q, "10.0.0.1", 111), 9);
    /* a third address in a table of two: 10.0.0.2's window (since 101) is forgotten */
    CHECK_INT(svc_quota_take(q, "10.0.0.3", 112), 0);
    CHECK_INT(svc_quota_take(q, "10.0.0.1", 112), 8);
    CHECK_INT(svc_quota_take(q, "10.0.0.2", 113), 0); /* forgotten: counted afresh */
    CHECK_INT(svc_quota_take(q, "10.0.0.2", 113), 0);
    CHECK_INT(svc_quota_take(q, "10.0.0.2", 113), 10);
    svc_quota_free(q);
    svc_quota_free(NULL);
}

/* A full table forgets its oldest address even while that address's window runs: the table
 * holds no more than its room. */
static void test_table_full(void)
{
    svc_quota *q;
    CHECK_OK(svc_quota_new(&q, 1, 100, 2));
    CHECK_INT(svc_quota_take(q, "10.0.0.1", 0), 0);
    CHECK_INT(svc_quota_take(q, "10.0.0.2", 1), 0);
    CHECK_INT(svc_quota_take(q, "10.0.0.3", 2), 0); /* 10.0.0.1 goes, 98 s before its end */
    CHECK_INT(svc_quota_take(q, "10.0.0.3", 3), 99);
    CHECK_INT(svc_quota_take(q, "10.0.0.1", 3), 0); /* forgotten: counted afresh */
    svc_quota_free(q);
}

static void test_refused(void)
{
    svc_quota *q = (svc_quota *)&q;
    CHECK_STATUS(svc_quota_new(&q, 0, 10, 2), CCZ_ERR_INVALID_ARGUMENT);
    CHECK(q == NULL);
    CHECK_STATUS(svc_quota_new(&q, 1, 0, 2), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(svc_quota_new(&q, 1, 10, 0), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "a quota needs a count, a window and room for peers");
}

TEST_MAIN(T(test_window), T(test_table_full), T(test_refused))
