/* SPDX-License-Identifier: Apache-2.0 */
/* The KMS's per-app rate limit (kms_rate_ok in src/svc/kms/kms.c), driven with a given clock: a
 * bucket of --burst tokens refilled at --rate a second, never above --burst however long the
 * app stayed idle. */
#include <stdint.h>

#include "svc/kms/kms.h"
#include "test.h"

#define T0 INT64_C(1767225600000)

static kms k; /* large (its tables): static, zeroed */

/* The calls of a that pass at now_ms, stopping at the first refused (at most 100). */
static int passing(kms_app *a, int64_t now_ms)
{
    int n = 0;
    while (n < 100 && kms_rate_ok(&k, a, now_ms))
        n++;
    return n;
}

/* --rate 1 --burst 3: three at once, then 429; a token back a second later; idle for nine
 * seconds or an hour, still three at once, not ten or 3,600. */
static void test_burst_capped(void)
{
    k.rate = 1;
    k.burst = 3;
    kms_app a = {.tokens = 3, .refill_ms = T0}; /* as a bucket starts: full */
    CHECK_INT(passing(&a, T0), 3);
    CHECK(!kms_rate_ok(&k, &a, T0 + 999)); /* 0.999 tokens */
    CHECK_INT(passing(&a, T0 + 1999), 1);
    CHECK_INT(passing(&a, T0 + 11000), 3);
    CHECK_INT(passing(&a, T0 + 11000 + 3600 * 1000), 3);
    /* a clock set back gives nothing back */
    CHECK_INT(passing(&a, T0), 0);
    /* --rate 10 --burst 5: idle a minute, five at once */
    k.rate = 10;
    k.burst = 5;
    kms_app b = {.tokens = 5, .refill_ms = T0};
    CHECK_INT(passing(&b, T0), 5);
    CHECK_INT(passing(&b, T0 + 100), 1);
    CHECK_INT(passing(&b, T0 + 60000), 5);
}

/* --rate 0: no limit */
static void test_no_rate(void)
{
    k.rate = 0;
    k.burst = 1;
    kms_app a = {.tokens = 1, .refill_ms = T0};
    CHECK_INT(passing(&a, T0), 100);
}

TEST_MAIN(T(test_burst_capped), T(test_no_rate))
