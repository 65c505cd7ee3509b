/* SPDX-License-Identifier: Apache-2.0 */
/* What verify, ratls, rpc and psi share: trust anchors, policy and collateral from the verify
 * options, an RA-TLS endpoint's identity (a given certificate and key, or an attester), the
 * printed verdict on a peer. Certificates and keys are read and written by the library's X.509
 * module (src/x509). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "core/guard.h"
#include "endpoint.h"
#include "x509/x509.h"

ccz_status cli_trust_load(ccz_trust **out, const cli_verify_opts *v, const char *sim_dir,
                          bool strict)
{
    ccz_trust_sources src = CCZ_TRUST_SOURCES_INIT;
    src.root_ca = v->root_ca;
    src.sim_roots = v->sim_roots;
    src.n_sim_roots = (size_t)v->n_sim_roots;
    src.sim_dir = sim_dir;
    src.sim_dir_required = strict;
    return ccz_trust_load(out, &src);
}

ccz_status cli_policy_load(ccz_policy **out, const cli_verify_opts *v)
{
    return v->policy ? ccz_policy_load_file(out, v->policy) : ccz_policy_default(out);
}

ccz_status cli_collateral_load(ccz_collateral **out, const cli_verify_opts *v)
{
    *out = NULL;
    if (v->collateral)
        return ccz_collateral_load_file(out, v->collateral);
    if (v->hsk_cek) {
        ccz_buf b = CCZ_BUF_INIT;
        ccz_status s = ccz_file_read(&b, v->hsk_cek, 1 << 20);
        if (s == CCZ_OK)
            s = ccz_csv_collateral_new(out, ccz_buf_span(&b));
        ccz_buf_free(&b);
        return s ? ccz_fail_context(s, "--hsk-cek %s", v->hsk_cek) : CCZ_OK;
    }
    if (!v->vek)
        return CCZ_OK;
    ccz_buf vek = CCZ_BUF_INIT, chain = CCZ_BUF_INIT;
    ccz_status s = ccz_file_read(&vek, v->vek, 1 << 20);
    if (s == CCZ_OK && v->chain && (s = ccz_file_read(&chain, v->chain, 1 << 20)) != CCZ_OK)
        ccz_fail_context(s, "--cert-chain");
    if (s == CCZ_OK)
        s = ccz_snp_collateral_new(out, ccz_buf_span(&vek), ccz_buf_span(&chain));
    ccz_buf_free(&vek);
    ccz_buf_free(&chain);
    return s;
}

ccz_status cli_read_cert(X509 **out, const char *path)
{
    ccz_buf b = CCZ_BUF_INIT;
    *out = NULL;
    ccz_status s = ccz_file_read(&b, path, 1 << 20);
    if (s == CCZ_OK && (s = x509_read_cert(out, ccz_buf_span(&b))) != CCZ_OK)
        s = ccz_fail_context(s, "%s is not a certificate", path);
    ccz_buf_free(&b);
    return s;
}

ccz_status cli_read_key(EVP_PKEY **out, const char *path)
{
    ccz_buf b;
    ccz_buf_init(&b, 1 << 20, true);
    *out = NULL;
    ccz_status s = ccz_file_read(&b, path, 1 << 20);
    /* x509_key_from_pem falls back to a public key, which cannot sign a handshake */
    if (s == CCZ_OK && (!memmem(b.ptr, b.len, "PRIVATE KEY-----", 16) ||
                        x509_key_from_pem(out, ccz_buf_span(&b)) != CCZ_OK)) {
        EVP_PKEY_free(*out);
        *out = NULL;
        s = ccz_fail_ossl(CCZ_ERR_KEY_MALFORMED, "%s is not a PEM private key", path);
    }
    ccz_buf_free(&b);
    return s;
}

ccz_status cli_write_cert(const char *path, X509 *x)
{
    ccz_buf pem = CCZ_BUF_INIT;
    ccz_status s = x509_cert_to_pem(&pem, x);
    if (s == CCZ_OK)
        s = ccz_file_write(path, ccz_buf_span(&pem), 0644);
    ccz_buf_free(&pem);
    return s;
}

ccz_status cli_write_key(const char *path, EVP_PKEY *k)
{
    ccz_buf pem;
    ccz_buf_init(&pem, 0, true);
    ccz_status s = x509_key_to_pem(&pem, k);
    if (s == CCZ_OK)
        s = ccz_file_write(path, ccz_buf_span(&pem), 0600);
    ccz_buf_free(&pem);
    return s;
}

void cli_endpoint_free(cli_endpoint *e)
{
    ccz_trust_free(e->trust);
    ccz_policy_free(e->policy);
    ccz_collateral_free(e->collateral);
    ccz_attester_free(e->attester);
    X509_free(e->cert);
    EVP_PKEY_free(e->key);
}

ccz_status cli_endpoint_setup(cli_endpoint *e, cli_args *a, bool server, SSL_CTX **ctx,
                              ccz_ratls_verdict_cb cb)
{
    /* the attester's --sim-dir names the platform whose root is trusted by default */
    CCZ_GUARD(cli_trust_load(&e->trust, &a->v, a->ca.dir_arg, false));
    CCZ_GUARD(cli_policy_load(&e->policy, &a->v));
    CCZ_GUARD(cli_collateral_load(&e->collateral, &a->v));
    bool presents = server || a->mode != CCZ_RATLS_SERVER;
    if (a->cert || a->key) {
        CCZ_ENSURE(a->cert && a->key, CCZ_ERR_INVALID_ARGUMENT, "--cert and --key go together");
        CCZ_GUARD(cli_read_cert(&e->cert, a->cert));
        CCZ_GUARD(cli_read_key(&e->key, a->key));
    } else if (presents) {
        CCZ_GUARD(cli_attester_new(&a->ca, &e->attester));
    }
    return cli_endpoint_ctx(e, a, server, a->mode, ctx, cb);
}

ccz_status cli_endpoint_ctx(const cli_endpoint *e, const cli_args *a, bool server,
                            ccz_ratls_mode mode, SSL_CTX **ctx, ccz_ratls_verdict_cb cb)
{
    ccz_ratls_opts o = CCZ_RATLS_OPTS_INIT;
    o.server = server;
    o.mode = mode;
    o.cert_opts = a->co;
    o.policy = e->policy;
    o.trust = e->trust;
    o.collateral = e->collateral;
    o.on_verdict = cb;
    o.payload = server ? "client" : "server";
    o.cert = e->cert;
    o.key = e->key;
    if (!e->cert)
        o.attester = e->attester;
    return ccz_ratls_ctx_new(ctx, &o);
}

void cli_print_verdict(const ccz_ratls_verdict *v, void *payload)
{
    const char *who = payload;
    const ccz_claims *c = &v->result.claims;
    if (v->status) {
        fprintf(stderr, "ccz ratls: %s REJECTED at %s: %s: %s\n", who, v->step ? v->step : "?",
                ccz_status_name(v->status), v->message);
        for (size_t i = 1; i < v->appraisal.n_reasons; i++)
            fprintf(stderr, "ccz ratls:   also %s: %s\n", v->appraisal.reasons[i].code,
                    v->appraisal.reasons[i].message);
        return;
    }
    char m[65] = "";
    if (c->tee == CCZ_TEE_SGX || c->tee == CCZ_TEE_SIM)
        ccz_hex_to_str(m, c->sgx.mr_enclave, 32);
    fprintf(stderr, "ccz ratls: %s accepted: %s evidence (%s)%s%s%s\n", who, ccz_tee_name(c->tee),
            ccz_ratls_format_name(v->format), m[0] ? ", mr_enclave " : "", m,
            c->simulated ? " [SIMULATED TEE]" : "");
}

/* ---- one side of an RA-gRPC command ----------------------------------------------------------*/

ccz_status cli_rpc_side_serve_opts(cli_rpc_side *p, cli_args *a, ccz_rpc_server_opts so)
{
    ccz_status s = cli_endpoint_setup(&p->e, a, true, &p->ctx, cli_print_verdict);
    so.tls = p->ctx;
    so.handshake_timeout_ms = (unsigned)a->handshake_timeout_ms;
    so.idle_timeout_ms = (unsigned)a->idle_timeout_ms;
    so.max_connections = (unsigned)a->max_conns;
    so.max_per_peer = (unsigned)a->max_per_peer;
    return s == CCZ_OK ? ccz_rpc_server_new(&p->srv, &so) : s;
}

ccz_status cli_rpc_side_serve(cli_rpc_side *p, cli_args *a, size_t max_message)
{
    ccz_rpc_server_opts so = CCZ_RPC_SERVER_OPTS_INIT;
    so.max_message = max_message;
    return cli_rpc_side_serve_opts(p, a, so);
}

ccz_status cli_rpc_side_listen(cli_rpc_side *p, const cli_args *a)
{
    return ccz_rpc_server_listen(p->srv, &p->port, a->listen);
}

ccz_status cli_rpc_side_run(cli_rpc_side *p, const char *who, int grace_ms)
{
    cli_stopper *stopper = cli_rpc_stop_on_signal(p->srv, who, grace_ms);
    ccz_status s = ccz_rpc_server_run(p->srv);
    cli_stopper_end(stopper);
    return s;
}

ccz_status cli_rpc_side_connect(cli_rpc_side *p, cli_args *a, const char *addr,
                                ccz_rpc_channel_opts co)
{
    ccz_status s = cli_endpoint_setup(&p->e, a, false, &p->ctx, cli_print_verdict);
    co.tls = p->ctx;
    return s == CCZ_OK ? ccz_rpc_channel_new(&p->ch, addr, &co) : s;
}

void cli_rpc_side_free(cli_rpc_side *p, cli_args *a)
{
    ccz_rpc_channel_free(p->ch);
    ccz_rpc_server_free(p->srv);
    SSL_CTX_free(p->ctx);
    cli_endpoint_free(&p->e);
    cli_attester_free(&a->ca);
    *p = (cli_rpc_side){0};
}

const char *cli_rpc_side_sim(const cli_rpc_side *p)
{
    return p->e.attester && ccz_attester_tee(p->e.attester) == CCZ_TEE_SIM ? " [SIMULATED TEE]"
                                                                           : "";
}
