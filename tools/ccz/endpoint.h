/* SPDX-License-Identifier: Apache-2.0 */
/* The ccz command: what a verifier stands on (trust anchors, policy, collateral) and one side of
 * an RA-TLS or RA-gRPC connection (that, plus its identity), shared by verify, ratls and rpc.
 * Files named by the options are untrusted input for the library's parsers. */
#ifndef CCZ_CLI_ENDPOINT_H
#define CCZ_CLI_ENDPOINT_H

#include "cli.h"
#include "stopper.h"

/* The trust anchors: --root-ca (else the built-in roots), the --sim-root certificates, else the
 * root of the sim platform in sim_dir (or of the default platform, when there is one). strict:
 * a platform root that cannot be read fails (verify); else it is skipped (an endpoint, whose
 * --sim-dir names the platform it attests on). */
ccz_status cli_trust_load(ccz_trust **out, const cli_verify_opts *v, const char *sim_dir,
                          bool strict);
/* --policy FILE, else the default policy. */
ccz_status cli_policy_load(ccz_policy **out, const cli_verify_opts *v);
/* --collateral FILE (Intel), or --vek FILE with --cert-chain FILE (SEV-SNP); NULL without. */
ccz_status cli_collateral_load(ccz_collateral **out, const cli_verify_opts *v);

/* One side of an RA-TLS connection: its trust, policy, collateral and identity. */
typedef struct {
    ccz_trust *trust;
    ccz_policy *policy;
    ccz_collateral *collateral;
    ccz_attester *attester;
    X509 *cert;
    EVP_PKEY *key;
} cli_endpoint;

ccz_status cli_endpoint_setup(cli_endpoint *e, cli_args *a, bool server, SSL_CTX **ctx,
                              ccz_ratls_verdict_cb cb);
/* Another context of the same endpoint (its certificate or attester, trust and policy), for a
 * second listener or a client connection of a server, in the given mode. */
ccz_status cli_endpoint_ctx(const cli_endpoint *e, const cli_args *a, bool server,
                            ccz_ratls_mode mode, SSL_CTX **ctx, ccz_ratls_verdict_cb cb);
void cli_endpoint_free(cli_endpoint *e);
/* Prints a peer verdict to stderr; payload names the peer ("client", "server"). */
void cli_print_verdict(const ccz_ratls_verdict *v, void *payload);

/* One side of an RA-gRPC command: its endpoint, TLS context and either the server it serves on
 * (serve commands) or the channel to the server (client commands). Zeroed before setup; freed
 * by cli_rpc_side_free after the command's service, which uses the server, is freed. */
typedef struct {
    cli_endpoint e;
    SSL_CTX *ctx;
    ccz_rpc_server *srv;
    ccz_rpc_channel *ch;
    int port; /* the server's, after cli_rpc_side_listen */
} cli_rpc_side;

/* The server side: endpoint and context (peers' verdicts printed), then the server with the
 * command's connection limits (--handshake-timeout, --idle-timeout, --max-conns, --max-per-peer)
 * and largest message (0: the library's default); _opts takes the rest of the server's options. */
ccz_status cli_rpc_side_serve(cli_rpc_side *p, cli_args *a, size_t max_message);
ccz_status cli_rpc_side_serve_opts(cli_rpc_side *p, cli_args *a, ccz_rpc_server_opts so);
/* Listens on --listen; the port lands in p->port. */
ccz_status cli_rpc_side_listen(cli_rpc_side *p, const cli_args *a);
/* Runs the server until it shuts down, or a SIGINT/SIGTERM drains it for grace_ms (the signals
 * blocked beforehand by cli_block_stop_signals), saying so as "ccz WHO: SIGTERM: ...". */
ccz_status cli_rpc_side_run(cli_rpc_side *p, const char *who, int grace_ms);
/* The client side: endpoint and context (the server's verdict printed), then a channel to addr
 * with the caller's options (co->tls is set here). */
ccz_status cli_rpc_side_connect(cli_rpc_side *p, cli_args *a, const char *addr,
                                ccz_rpc_channel_opts co);
void cli_rpc_side_free(cli_rpc_side *p, cli_args *a);
/* " [SIMULATED TEE]" when the side attests on the simulated TEE, else "": for its banner. */
const char *cli_rpc_side_sim(const cli_rpc_side *p);

/* Reads a certificate, PEM or DER. */
ccz_status cli_read_cert(X509 **out, const char *path);
/* Reads a PEM private key. */
ccz_status cli_read_key(EVP_PKEY **out, const char *path);
/* Writes a certificate (0644), or a private key (0600), as PEM. */
ccz_status cli_write_cert(const char *path, X509 *x);
ccz_status cli_write_key(const char *path, EVP_PKEY *k);

#endif
