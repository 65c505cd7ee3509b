/* SPDX-License-Identifier: Apache-2.0 */
/* What the RPC services write of their peers (internal): a log line, a peer's attested
 * identity in a line, for the logs and party lists, and the gRPC status of a failed request. */
#ifndef CCZ_SRC_SVC_PEER_H
#define CCZ_SRC_SVC_PEER_H

#include <stddef.h>
#include <stdio.h>

#include "ccz/ratls.h"
#include "ccz/rpc.h"

/* "ccz WHO: " and the line on log (nothing without one), flushed at once. */
void svc_log(FILE *log, const char *who, const char *fmt, ...) CCZ_PRINTF(3, 4);

/* The TEE and the first 8 bytes of its main measurement from a peer's RA-TLS verdict, e.g.
 * "sgx mr_enclave 1a2b3c4d5e6f7081", "sim (simulated) mr_enclave ...", "tdx mr_td ...",
 * "snp measurement ...", "cca rim ..."; "not attested" without a good verdict. */
void svc_peer_identity(char *out, size_t cap, const ccz_ratls_verdict *vd);
/* The same with the whole measurement (up to 128 hex digits; SVC_PEER_IDENTITY_MAX with its
 * NUL), for telling peers apart: eight bytes name one, they do not make it the same. */
#define SVC_PEER_IDENTITY_MAX 200
void svc_peer_identity_full(char *out, size_t cap, const ccz_ratls_verdict *vd);

/* What a failed request tells its client (a ccz_rpc_code): its own faults (the input's class,
 * or an invalid argument) INVALID_ARGUMENT, memory RESOURCE_EXHAUSTED, and the server's own
 * failures (its RNG, the crypto library) INTERNAL, never blamed on the client. */
int svc_rpc_code(ccz_status s);
/* The same for a failure reading what the client sent, whatever its status's class: the client's
 * fault (INVALID_ARGUMENT), unless memory ran out (RESOURCE_EXHAUSTED: the server's state, which
 * a client may retry, never "your request is wrong"). */
int svc_rpc_input_code(ccz_status s);

/* Hands fn(payload) to the server's loop from a worker thread (ccz_rpc_server_defer). Out of
 * memory while the loop runs, it waits for memory and tries again: the call the answer belongs
 * to is the loop's, never the worker's to release. Fails only once the loop has ended
 * (CCZ_ERR_UNAVAILABLE), when the call is the worker's to give back. */
CCZ_NODISCARD ccz_status svc_defer_to_loop(ccz_rpc_server *s, void (*fn)(void *), void *payload);

#endif
