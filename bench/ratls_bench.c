/* SPDX-License-Identifier: Apache-2.0 */
/* Benchmark: mutual RA-TLS 1.3 handshakes per second with sim evidence both ways, warm (the
 * peers' certificates already verified and cached) and cold (a new peer certificate on both
 * sides every handshake, so every handshake verifies evidence twice), against two tuned mutual
 * TLS 1.3 baselines with the same key type (EC P-256) and no evidence: CA-verified (each side's
 * certificate issued by a CA the other side trusts, chains explicit so OpenSSL builds none per
 * handshake) and pinned (self-signed certificates, each trusted directly by the peer, as RA-TLS
 * certificates are self-signed). One process over memory BIO pairs, on one core, in the same
 * run; each figure comes with its CPU time per handshake (both sides).
 *
 * usage: ratls_bench SIM_DIR [SECONDS] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "ccz/ccz.h"
#include "clock.h"

/* fresh RA-TLS context pairs for the cold case: enough for the slowest machine's SECONDS */
#define COLD_POOL 256

/* One full handshake between fresh connections of the two contexts. */
static int handshake(SSL_CTX *sc, SSL_CTX *cc)
{
    SSL *s = SSL_new(sc), *c = SSL_new(cc);
    BIO *b1, *b2;
    BIO_new_bio_pair(&b1, 0, &b2, 0);
    SSL_set_bio(c, b1, b1);
    SSL_set_bio(s, b2, b2);
    SSL_set_connect_state(c);
    SSL_set_accept_state(s);
    int done_c = 0, done_s = 0, rounds = 0;
    while ((!done_c || !done_s) && rounds++ < 20) {
        if (!done_c)
            done_c = SSL_do_handshake(c) == 1;
        if (!done_s)
            done_s = SSL_do_handshake(s) == 1;
    }
    SSL_free(s);
    SSL_free(c);
    return done_c && done_s;
}

static bench_run run(SSL_CTX *sc, SSL_CTX *cc, double seconds)
{
    bench_run r = {0};
    double t0 = bench_wall(), c0 = bench_cpu(), t;
    do {
        for (int i = 0; i < 10; i++)
            r.ops += handshake(sc, cc);
        t = bench_wall();
    } while (t - t0 < seconds);
    r.wall = t - t0;
    r.cpu = bench_cpu() - c0;
    return r;
}

static X509 *issue(EVP_PKEY *key, const char *cn, X509 *ca, EVP_PKEY *ca_key)
{
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), rand());
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, ca ? X509_get_subject_name(ca) : X509_get_subject_name(x));
    X509_set_pubkey(x, key);
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, ca ? ca : x, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
                                            ca ? "critical,CA:FALSE" : "critical,CA:TRUE");
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    X509_sign(x, ca_key, EVP_sha256());
    return x;
}

/* A tuned mutual TLS 1.3 context: its certificate's chain is explicit (empty: the peer holds the
 * CA) and automatic chain building is off, so a handshake costs what TLS itself costs. */
static SSL_CTX *plain_ctx(bool server, X509 *cert, EVP_PKEY *key, X509 *trusted)
{
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_mode(ctx, SSL_MODE_NO_AUTO_CHAIN);
    SSL_CTX_use_certificate(ctx, cert);
    SSL_CTX_use_PrivateKey(ctx, key);
    SSL_CTX_set0_chain(ctx, sk_X509_new_null());
    X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), trusted);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    return ctx;
}

static ccz_status ratls_pair(SSL_CTX **rs, SSL_CTX **rc, const ccz_attester *a, const ccz_trust *t,
                             const ccz_policy *p)
{
    for (int side = 0; side < 2; side++) {
        ccz_ratls_opts o = CCZ_RATLS_OPTS_INIT;
        o.server = side == 0;
        o.attester = a;
        o.policy = p;
        o.trust = t;
        ccz_status st = ccz_ratls_ctx_new(side ? rc : rs, &o);
        if (st)
            return st;
    }
    SSL_CTX_set_options(*rs, SSL_OP_NO_TICKET);
    return CCZ_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: ratls_bench SIM_DIR [SECONDS]\n");
        return 2;
    }
    double seconds = argc > 2 ? atof(argv[2]) : 2.0;
    char root[4096];
    snprintf(root, sizeof root, "%s/root.crt", argv[1]);
    ccz_attester_opts ao = CCZ_ATTESTER_OPTS_INIT;
    ao.tee = CCZ_TEE_SIM;
    ao.sim.dir = argv[1];
    ccz_attester *a;
    ccz_trust *t;
    ccz_policy *p;
    const char doc[] = "{\"allow_sim\": true}";
    if (ccz_attester_new(&a, &ao) || ccz_trust_new(&t) || ccz_trust_add_sim_root_file(t, root) ||
        ccz_policy_parse(&p, doc, sizeof doc - 1)) {
        fprintf(stderr, "ratls_bench: %s\n", ccz_error_detail());
        return 2;
    }
    SSL_CTX *rs = NULL, *rc = NULL;
    if (ratls_pair(&rs, &rc, a, t, p)) {
        fprintf(stderr, "ratls_bench: %s\n", ccz_error_detail());
        return 2;
    }
    if (!handshake(rs, rc)) { /* the first handshake verifies and fills the caches */
        fprintf(stderr, "ratls_bench: the RA-TLS handshake failed\n");
        return 1;
    }
    /* CA-verified baseline */
    EVP_PKEY *ca_key = EVP_EC_gen("P-256"), *ks = EVP_EC_gen("P-256"), *kc = EVP_EC_gen("P-256");
    X509 *ca = issue(ca_key, "bench CA", NULL, ca_key);
    X509 *xs = issue(ks, "server", ca, ca_key), *xc = issue(kc, "client", ca, ca_key);
    SSL_CTX *ps = plain_ctx(true, xs, ks, ca), *pc = plain_ctx(false, xc, kc, ca);
    /* pinned baseline: self-signed certificates, each trusted directly by the peer */
    X509 *ss = issue(ks, "server", NULL, ks), *sc = issue(kc, "client", NULL, kc);
    SSL_CTX *qs = plain_ctx(true, ss, ks, sc), *qc = plain_ctx(false, sc, kc, ss);
    if (!handshake(ps, pc) || !handshake(qs, qc)) {
        fprintf(stderr, "ratls_bench: a plain mutual TLS handshake failed\n");
        return 1;
    }
    /* cold: a pool of fresh context pairs, each used for one handshake */
    static SSL_CTX *cold_s[COLD_POOL], *cold_c[COLD_POOL];
    for (int i = 0; i < COLD_POOL; i++)
        if (ratls_pair(&cold_s[i], &cold_c[i], a, t, p)) {
            fprintf(stderr, "ratls_bench: %s\n", ccz_error_detail());
            return 2;
        }
    bench_run cold = {0};
    double t0 = bench_wall(), c0 = bench_cpu();
    for (int i = 0; i < COLD_POOL && bench_wall() - t0 < seconds; i++)
        cold.ops += handshake(cold_s[i], cold_c[i]);
    cold.wall = bench_wall() - t0;
    cold.cpu = bench_cpu() - c0;
    bench_run warm = run(rs, rc, seconds), ca_run = run(ps, pc, seconds),
              pin_run = run(qs, qc, seconds);
    printf("{\"ratls_mutual_per_s\":%.0f,\"tls_mutual_per_s\":%.0f,\"ratio\":%.3f,"
           "\"tls_pinned_per_s\":%.0f,\"ratls_cold_per_s\":%.0f,"
           "\"ratls_cpu_us\":%.1f,\"tls_cpu_us\":%.1f,\"tls_pinned_cpu_us\":%.1f,"
           "\"ratls_cold_cpu_us\":%.1f,\"cpu_ratio\":%.3f,\"cold_handshakes\":%ld}\n",
           bench_rate(&warm), bench_rate(&ca_run), bench_rate(&warm) / bench_rate(&ca_run),
           bench_rate(&pin_run), bench_rate(&cold), bench_cpu_us(&warm), bench_cpu_us(&ca_run),
           bench_cpu_us(&pin_run), bench_cpu_us(&cold), bench_cpu_us(&ca_run) / bench_cpu_us(&warm),
           cold.ops);
    for (int i = 0; i < COLD_POOL; i++) {
        SSL_CTX_free(cold_s[i]);
        SSL_CTX_free(cold_c[i]);
    }
    SSL_CTX_free(rs);
    SSL_CTX_free(rc);
    SSL_CTX_free(ps);
    SSL_CTX_free(pc);
    SSL_CTX_free(qs);
    SSL_CTX_free(qc);
    X509_free(ca);
    X509_free(xs);
    X509_free(xc);
    X509_free(ss);
    X509_free(sc);
    EVP_PKEY_free(ks);
    EVP_PKEY_free(kc);
    EVP_PKEY_free(ca_key);
    ccz_policy_free(p);
    ccz_trust_free(t);
    ccz_attester_free(a);
    return 0;
}
