/* SPDX-License-Identifier: Apache-2.0 */
/* ccz secret: secret provisioning, wire-compatible with Gramine's (tools/sgx/ra-tls/secret_prov_*).
 * A client in a TEE connects over TLS presenting its RA-TLS certificate, sends the request
 * magic; a server that verified the certificate and appraised its claims answers the response
 * magic, the secret's size (4 bytes, big-endian) and the secret chosen for that client by
 * policy, then closes. Everything a peer sends is untrusted; secrets are held in wiped buffers
 * and never logged. See docs/services.md. */
#ifndef CCZ_SECRET_H
#define CCZ_SECRET_H

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "ccz/core.h"
#include "ccz/policy.h"
#include "ccz/ratls.h"
#include "ccz/tee.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The protocol's bytes: each magic is sent with its terminating NUL (35 and 37 bytes). */
#define CCZ_SECRET_REQUEST "SECRET_PROVISION_RA_TLS_REQUEST_V1"
#define CCZ_SECRET_RESPONSE "SECRET_PROVISION_RA_TLS_RESPONSE_V1:"
/* The largest secret served or accepted. */
#define CCZ_SECRET_MAX_BYTES (1u << 20)
/* Gramine's default server list. */
#define CCZ_SECRET_DEFAULT_SERVERS "localhost:4433"

/* ---- the server ------------------------------------------------------------------------------*/

/* One secret the server holds: its name (letters, digits, '.', '_', '-'; at most 64) and its
 * bytes, given or read from a file (1 byte to CCZ_SECRET_MAX_BYTES). */
typedef struct {
    const char *name;
    const char *file; /* read by ccz_secret_server_new into a wiped buffer, or NULL: */
    ccz_span value;   /*   copied into a wiped buffer */
} ccz_secret_entry;

#define CCZ_SECRET_SERVER_OPTS_VERSION 1

typedef struct {
    unsigned version;   /* CCZ_SECRET_SERVER_OPTS_VERSION */
    const char *listen; /* "HOST:PORT" ("127.0.0.1:0" picks a free port) */
    /* this server's certificate: an RA-TLS one made from the attester, or a given certificate
     * and key (an ordinary one from a CA, for clients that verify the server by a CA chain, as
     * Gramine's do with SECRET_PROVISION_CA_CHAIN_PATH); a given cert_chain_file (PEM, the
     * certificate first) replaces cert */
    const ccz_attester *attester;
    X509 *cert;
    EVP_PKEY *key;
    const char *cert_chain_file;
    /* the clients' evidence: trust anchors (required) and collateral (may be NULL) */
    const ccz_trust *trust;
    const ccz_collateral *collateral;
    /* the policy document (JSON, as ccz_policy_parse reads it) with an optional "secrets"
     * section; {NULL, 0}: the default policy, which refuses sim evidence */
    ccz_span policy;
    const ccz_secret_entry *secrets;
    size_t n_secrets;
    unsigned deadline_ms;     /* the handshake, and the request after it (0: 10 s) */
    unsigned max_connections; /* 0: 1024 */
    unsigned max_per_peer;    /* 0: 64 */
    bool handle_signals;      /* SIGTERM and SIGINT drain the server */
} ccz_secret_server_opts;

#define CCZ_SECRET_SERVER_OPTS_INIT                                                                \
    {                                                                                              \
        CCZ_SECRET_SERVER_OPTS_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, NULL, {NULL, 0}, NULL, \
            0, 0, 0, 0, false                                                                      \
    }

typedef struct ccz_secret_server ccz_secret_server;

/* Parses the policy and its secrets section, loads the secrets, makes the TLS context (it asks
 * clients for a certificate; a client without one is answered nothing) and listens. The caller
 * frees *out; the trust, collateral and attester are borrowed and must outlive it. */
CCZ_API CCZ_NODISCARD ccz_status ccz_secret_server_new(ccz_secret_server **out,
                                                       const ccz_secret_server_opts *o);
/* The port the server listens on. */
CCZ_API int ccz_secret_server_port(const ccz_secret_server *s);
/* Serves until shut down (or, with handle_signals, until SIGTERM or SIGINT) and drained. */
CCZ_API CCZ_NODISCARD ccz_status ccz_secret_server_run(ccz_secret_server *s);
/* From any thread: stop accepting, finish the exchanges in progress within grace_ms, and make
 * ccz_secret_server_run return. */
CCZ_API void ccz_secret_server_shutdown(ccz_secret_server *s, unsigned grace_ms);
/* Frees the server, wiping its secrets. */
CCZ_API void ccz_secret_server_free(ccz_secret_server *s);
/* All of the above in one blocking call, with handle_signals set: listens on o->listen and
 * serves until SIGTERM or SIGINT; logs the bound address at info level. */
CCZ_API CCZ_NODISCARD ccz_status ccz_secret_serve(const ccz_secret_server_opts *o);

/* ---- the client ------------------------------------------------------------------------------*/

/* Makes a client context verify the server by a CA chain (PEM file), for servers with an
 * ordinary certificate (Gramine's SECRET_PROVISION_CA_CHAIN_PATH): ctx is a context from
 * ccz_ratls_ctx_new in CCZ_RATLS_CLIENT mode (it presents this side's RA-TLS certificate and
 * verifies nothing itself; a context that verifies the server already is refused,
 * CCZ_ERR_INVALID_ARGUMENT). ccz_secret_get then also checks that the certificate names the host
 * it connected to. */
CCZ_API CCZ_NODISCARD ccz_status ccz_secret_ctx_use_ca_file(SSL_CTX *ctx, const char *path);

/* Connects to host_port with ctx (a client context from ccz_ratls_ctx_new that presents this
 * side's RA-TLS certificate and verifies the server's RA-TLS certificate, or one given to
 * ccz_secret_ctx_use_ca_file), sends the request and reads the secret into *secret, which is
 * emptied first and marked secret (wiped on free); its max, if set, bounds the size (else
 * CCZ_SECRET_MAX_BYTES). Connecting, the handshake and the exchange must finish within
 * timeout_ms (0 or less: CCZ_RATLS_TIMEOUT_MS). Fails with CCZ_ERR_NETWORK when the server
 * cannot be reached, CCZ_ERR_POLICY_REJECTED (or the verifier's status) when its certificate is
 * refused, CCZ_ERR_UNAVAILABLE when it closes without a secret (it refused this client), and
 * CCZ_ERR_PROTOCOL for a malformed answer or an empty secret; the detail says which. A
 * verdict on the server's RA-TLS certificate that is not an acceptance (a context whose
 * verify mode let the handshake go on) is CCZ_ERR_CERT_CHAIN, and nothing is asked. */
CCZ_API CCZ_NODISCARD ccz_status ccz_secret_get(ccz_buf *secret, SSL_CTX *ctx,
                                                const char *host_port, long timeout_ms);

#ifdef __cplusplus
}
#endif
#endif
