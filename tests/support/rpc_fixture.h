/* SPDX-License-Identifier: Apache-2.0 */
/* What the RPC tests share: the sample Greeter's handlers (ratls.Greeter/SayHello's echo and a
 * server-streaming count, on ratls.HelloRequest and HelloReply) and a loopback listener that
 * accepts connections and never speaks. */
#ifndef CCZ_TEST_RPC_FIXTURE_H
#define CCZ_TEST_RPC_FIXTURE_H

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

#endif
