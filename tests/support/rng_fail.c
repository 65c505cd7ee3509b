/* SPDX-License-Identifier: Apache-2.0 */
#define OPENSSL_SUPPRESS_DEPRECATED /* RAND_set_rand_method: the only way to make RAND fail */
#include "rng_fail.h"

#include <errno.h>
#include <openssl/rand.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

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

static sem_t arrived, go;
static atomic_uint generation;      /* one per rng_hold_start */
static atomic_int to_hold;          /* threads still to hold */
static _Thread_local unsigned seen; /* the generation this thread last drew in */

static int rng_held(unsigned char *buf, int num)
{
    unsigned g = atomic_load(&generation);
    if (seen != g) { /* this thread's first draw since rng_hold_start */
        seen = g;
        if (atomic_fetch_sub(&to_hold, 1) > 0) {
            sem_post(&arrived);
            while (sem_wait(&go) != 0)
                ;
        }
    }
    return RAND_OpenSSL()->bytes(buf, num);
}

static int rng_held_status(void)
{
    return RAND_OpenSSL()->status();
}

static const RAND_METHOD held = {NULL, rng_held, NULL, NULL, rng_held, rng_held_status};

void rng_hold_start(int threads)
{
    CHECK(sem_init(&arrived, 0, 0) == 0 && sem_init(&go, 0, 0) == 0);
    atomic_store(&to_hold, threads);
    atomic_fetch_add(&generation, 1);
    CHECK(RAND_set_rand_method(&held) == 1);
}

bool rng_hold_wait(int timeout_ms)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += timeout_ms / 1000;
    t.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    int r;
    while ((r = sem_timedwait(&arrived, &t)) != 0 && errno == EINTR)
        ;
    return r == 0;
}

void rng_hold_release(void)
{
    sem_post(&go);
}

void rng_hold_stop(void)
{
    atomic_store(&to_hold, 0);
    CHECK(RAND_set_rand_method(RAND_OpenSSL()) == 1);
    sem_destroy(&arrived);
    sem_destroy(&go);
}
