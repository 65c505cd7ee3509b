/* SPDX-License-Identifier: Apache-2.0 */
/* What the RPC tests share: the sample Greeter's handlers (ratls.Greeter/SayHello's echo and a
 * server-streaming count, on ratls.HelloRequest and HelloReply), a loopback listener that
 * accepts connections and never speaks, and a server's loop run in a thread. */
#ifndef CCZ_TEST_RPC_FIXTURE_H
#define CCZ_TEST_RPC_FIXTURE_H

#include <pthread.h>

#include "ccz/ccz.h"

/* Echoes the call's x- metadata as headers and as trailers. */
void greeter_echo_metadata(ccz_rpc_call *call);
/* The echo, then the answer to name: "Hello NAME" (at most 200 bytes of it), or INVALID_ARGUMENT
 * "name is empty". */
void greeter_hello_reply(ccz_rpc_call *call, const char *name);
/* A server-streaming handler: for the name N (a number), the replies "0" to "N-1", then OK. */
void greeter_count(ccz_rpc_call *call, const ProtobufCMessage *req, void *payload);

/* A TCP listener on a free loopback port that is never accepted from (the kernel completes the
 * connections): its descriptor, the caller closes it; target gets "127.0.0.1:PORT". */
int silent_listener(char target[64]);

/* Listens with s on a free loopback port (target gets "127.0.0.1:PORT") and runs its loop in a
 * thread; rpc_serve_stop shuts it down with grace_ms of grace and waits for the thread. */
void rpc_serve(ccz_rpc_server *s, pthread_t *thread, char target[64]);
void rpc_serve_stop(ccz_rpc_server *s, pthread_t thread, int grace_ms);

/* A server the test plays: one service's methods (kinds NULL: all unary; a NULL handler leaves
 * its method unimplemented) on a plaintext loopback server run in a thread, and a channel to it;
 * max_message for both (0: 4 MiB). rpc_fake_stop frees the channel, then shuts the server down
 * (500 ms of grace) and frees it. */
typedef struct {
    ccz_rpc_server *srv;
    pthread_t thread;
    char target[64];
    ccz_rpc_channel *ch;
} rpc_fake;

void rpc_fake_start(rpc_fake *f, const ProtobufCServiceDescriptor *service,
                    const ccz_rpc_kind *kinds, const ccz_rpc_handler *handlers, void *payload,
                    size_t max_message);
void rpc_fake_stop(rpc_fake *f);

/* How an asynchronous call ended (code -2 until it has): rpc_outcome_done is its on_done, the
 * outcome its payload. */
typedef struct {
    int code;
    char message[512];
} rpc_outcome;

void rpc_outcome_done(const ccz_rpc_status *st, void *payload);

#endif
