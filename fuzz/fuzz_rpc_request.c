/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: what a gRPC client sends after the TLS handshake (the HTTP/2 preface, frames,
 * headers, length-prefixed messages) through the server's HTTP/2 session, header checks,
 * message reader and protobuf-c unpacking, into handlers of the three kinds that answer. */
#include "ccz/ccz.h"
#include "rpc/internal.h"
#include "rpc_greeter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ccz_log_set_level(CCZ_LOG_OFF);
    ccz_rpc_server *srv = fuzz_rpc_server();
    (void)rpc_server_feed(srv, data, size);
    ccz_error_clear();
    return 0;
}
