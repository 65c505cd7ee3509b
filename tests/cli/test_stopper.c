/* SPDX-License-Identifier: Apache-2.0 */
/* The ccz command's stopper (tools/ccz/stopper.c): a SIGTERM runs the stop on the signal's
 * thread, and cli_stopper_end returns only once that stop has finished, since the server is
 * freed next; without a signal, ending the stopper stops nothing. */
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

#include "stopper.h"
#include "test.h"

typedef struct {
    atomic_int started, finished;
    unsigned grace_ms;
} slow_server;

/* A server that takes 300 ms to drain: the run it stops returns before the stop does. */
static void slow_stop(void *arg, unsigned grace_ms)
{
    slow_server *s = arg;
    s->grace_ms = grace_ms;
    atomic_store(&s->started, 1);
    usleep(300 * 1000);
    atomic_store(&s->finished, 1);
}

static void end_waits_for_the_stop(void)
{
    cli_block_stop_signals(); /* before the stopper's thread, which inherits the mask */
    slow_server s = {0};
    cli_stopper *st = cli_stop_on_signal(slow_stop, &s, "test", 1234);
    CHECK(st != NULL);
    CHECK_INT(kill(getpid(), SIGTERM), 0);
    for (int i = 0; i < 1000 && !atomic_load(&s.started); i++) /* 10 s at most */
        usleep(10 * 1000);
    CHECK(atomic_load(&s.started));
    cli_stopper_end(st);
    CHECK(atomic_load(&s.finished)); /* not while the stop still sleeps */
    CHECK_INT(s.grace_ms, 1234);
}

static void end_without_signal(void)
{
    cli_block_stop_signals();
    slow_server s = {0};
    cli_stopper *st = cli_stop_on_signal(slow_stop, &s, "test", 1);
    CHECK(st != NULL);
    cli_stopper_end(st);
    CHECK(!atomic_load(&s.started));
    cli_stopper_end(NULL);
}

TEST_MAIN(T(end_waits_for_the_stop), T(end_without_signal))
