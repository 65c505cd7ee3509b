/* SPDX-License-Identifier: Apache-2.0 */
#define OPENSSL_SUPPRESS_DEPRECATED /* RAND_set_rand_method: the only way to make RAND fail */
#include "rng_fail.h"

#include <openssl/rand.h>
#include <string.h>

#include "test.h"

static int rng_fails(unsigned char *buf, int num)
{
    memset(buf, 0, (size_t)num);
    return 0;
}

static int rng_not_ready(void)
{
    return 0;
}

static const RAND_METHOD failing = {NULL, rng_fails, NULL, NULL, rng_fails, rng_not_ready};

void rng_fail_start(void)
{
    CHECK(RAND_set_rand_method(&failing) == 1);
}

void rng_fail_stop(void)
{
    CHECK(RAND_set_rand_method(RAND_OpenSSL()) == 1);
}
