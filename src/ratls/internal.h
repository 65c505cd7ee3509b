/* SPDX-License-Identifier: Apache-2.0 */
/* Private to src/ratls and src/rpc: the one client connection (TCP, then the RA-TLS handshake,
 * within a time limit) behind ccz_ratls_connect_timeout and the rpc channel (TCP alone for a
 * plaintext one). */
#ifndef CCZ_RATLS_INTERNAL_H
#define CCZ_RATLS_INTERNAL_H

#include "ccz/ratls.h"

/* Which step ran out of time, if any. */
typedef enum {
    RATLS_IN_TIME = 0,
    RATLS_TCP_TIMEOUT, /* no TCP connection before the deadline */
    RATLS_TLS_TIMEOUT  /* connected, and no complete handshake before the deadline */
} ratls_timeout;

/* ccz_ratls_connect_timeout, telling in *timed_out whether the time ran out and where. The
 * SSL's socket BIO closes the socket when the SSL is freed (BIO_CLOSE); the socket is back in
 * blocking mode. */
/* The TCP connection alone (for plaintext gRPC): a blocking socket in *fd, the caller's to
 * close; *timed_out is RATLS_TCP_TIMEOUT when the time ran out. */
ccz_status ratls_tcp_connect(int *fd, ratls_timeout *timed_out, const char *host_port,
                             long timeout_ms);

ccz_status ratls_connect(SSL **out, ratls_timeout *timed_out, SSL_CTX *ctx, const char *host_port,
                         long timeout_ms);

#endif
