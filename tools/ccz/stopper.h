/* SPDX-License-Identifier: Apache-2.0 */
/* The ccz command: a server stopped gracefully on SIGINT or SIGTERM by a thread of its own. */
#ifndef CCZ_CLI_STOPPER_H
#define CCZ_CLI_STOPPER_H

#include "ccz/rpc.h"

/* SIGINT and SIGTERM for an RPC server: block them in every thread (call before starting
 * any), then have a thread wait for one and shut srv down gracefully (grace_ms), saying so on
 * standard error as "ccz WHO: SIGTERM: ...". The server's run returns once it has drained, and
 * the stop may still be running on the signal's thread then: cli_stopper_end, after the run and
 * before the server is freed, waits for it (or ends the waiting thread when no signal came). */
typedef struct cli_stopper cli_stopper;
void cli_block_stop_signals(void);
cli_stopper *cli_rpc_stop_on_signal(ccz_rpc_server *srv, const char *who, int grace_ms);
/* The same for any server: stop(arg, grace_ms) runs on the signal's thread. NULL when no
 * thread could be started (the server then stops only when killed). */
cli_stopper *cli_stop_on_signal(void (*stop)(void *arg, unsigned grace_ms), void *arg,
                                const char *who, unsigned grace_ms);
/* Ends the stopper (NULL: nothing): after it returns, stop is not running and will not run. */
void cli_stopper_end(cli_stopper *st);

#endif
