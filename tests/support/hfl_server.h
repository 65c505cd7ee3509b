/* SPDX-License-Identifier: Apache-2.0 */
/* An HFL aggregator for the FL tests: the service on an RPC server of its own on loopback (h2c),
 * run in a thread; the rounds it reports recorded; shut down once the training is over. */
#ifndef CCZ_TEST_HFL_SERVER_H
#define CCZ_TEST_HFL_SERVER_H

#include <pthread.h>

#include "ccz/hfl.h"

#define HFL_TEST_ROUNDS 8

typedef struct {
    ccz_rpc_server *rpc;
    ccz_hfl_service *svc;
    pthread_t thread;
    char target[64]; /* 127.0.0.1:PORT */
    ccz_hfl_round rounds[HFL_TEST_ROUNDS];
    unsigned n_rounds;
    unsigned max_per_peer; /* the RPC server's connections from one address (0: its default) */
} hfl_test_server;

/* Starts the service with o, whose on_round, on_over and payload are the server's (a test that
 * embeds the server first in a larger structure gets that structure as payload elsewhere, as in
 * on_masked); dim: the model's parameters, for the largest message. */
void hfl_test_server_start(hfl_test_server *s, ccz_hfl_service_opts *o, size_t dim);
/* Shuts the server down (1 s of grace), joins its thread and frees it. */
void hfl_test_server_stop(hfl_test_server *s);

#endif
