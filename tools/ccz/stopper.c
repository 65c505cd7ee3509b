/* SPDX-License-Identifier: Apache-2.0 */
/* The ccz command's servers stopped on SIGINT or SIGTERM (stopper.h): a thread of their own waits
 * for the signal, and is joined before the server is freed. */
#include "stopper.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

void cli_block_stop_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

struct cli_stopper {
    void (*stop)(void *arg, unsigned grace_ms);
    void *arg;
    const char *who;
    unsigned grace_ms;
    pthread_t thread;
    atomic_bool over; /* the server's run returned: a signal now stops nothing */
};

static void *wait_stop_signal(void *arg)
{
    cli_stopper *st = arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    int sig;
    if (sigwait(&set, &sig) == 0 && !atomic_load(&st->over)) {
        fprintf(stderr, "ccz %s: %s: draining the calls in flight\n", st->who,
                sig == SIGINT ? "SIGINT" : "SIGTERM");
        st->stop(st->arg, st->grace_ms);
    }
    return NULL;
}

cli_stopper *cli_stop_on_signal(void (*stop)(void *arg, unsigned grace_ms), void *arg,
                                const char *who, unsigned grace_ms)
{
    cli_stopper *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->stop = stop;
    st->arg = arg;
    st->who = who;
    st->grace_ms = grace_ms;
    atomic_init(&st->over, false);
    if (pthread_create(&st->thread, NULL, wait_stop_signal, st) != 0) {
        free(st);
        return NULL;
    }
    return st;
}

void cli_stopper_end(cli_stopper *st)
{
    if (!st)
        return;
    /* the run is over; a stop in progress on the signal's thread (it drained the server, so the
     * run returned) finishes before the server can be freed, and a thread still waiting is woken
     * by a signal of its own, which it takes for the end */
    atomic_store(&st->over, true);
    pthread_kill(st->thread, SIGTERM);
    pthread_join(st->thread, NULL);
    free(st);
}

static void stop_rpc(void *arg, unsigned grace_ms)
{
    ccz_rpc_server_shutdown(arg, (int)grace_ms);
}

cli_stopper *cli_rpc_stop_on_signal(ccz_rpc_server *srv, const char *who, int grace_ms)
{
    return cli_stop_on_signal(stop_rpc, srv, who, (unsigned)grace_ms);
}
