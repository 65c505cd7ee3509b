/* SPDX-License-Identifier: Apache-2.0 */
#ifndef CCZ_FUZZ_RPC_GREETER_H
#define CCZ_FUZZ_RPC_GREETER_H
#include "ccz/ccz.h"

/* An RA-gRPC server (messages of at most 4 KiB) with a handler of each kind that answers, built
 * at the first call: /ratls.Greeter/SayHello (unary: the request's metadata as headers, its
 * name back with an x-n trailer), /t.S/Out (server streaming: three replies) and /t.S/In
 * (client streaming: "done" at the end). Fed plaintext with rpc_server_feed. */
ccz_rpc_server *fuzz_rpc_server(void);

#endif
