/* Benchmark: mutual RA-TLS 1.3 handshakes per second (sim evidence both ways, warm peer caches)
 * against mutual TLS 1.3 with the same key types (EC P-256) and no evidence (each side's
 * certificate issued by a CA the other side verifies), in one process over memory BIO pairs,
 * on one core, in the same run.
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

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

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

static double rate(SSL_CTX *sc, SSL_CTX *cc, double seconds)
{
    long n = 0;
    double t0 = now(), t;
    do {
        for (int i = 0; i < 10; i++)
            n += handshake(sc, cc);
        t = now();
    } while (t - t0 < seconds);
    return n / (t - t0);
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

static SSL_CTX *plain_ctx(bool server, X509 *ca, EVP_PKEY *ca_key)
{
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = issue(k, server ? "server" : "client", ca, ca_key);
    SSL_CTX_use_certificate(ctx, x);
    SSL_CTX_use_PrivateKey(ctx, k);
    X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    X509_free(x);
    EVP_PKEY_free(k);
    return ctx;
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
    for (int side = 0; side < 2; side++) {
        ccz_ratls_opts o = CCZ_RATLS_OPTS_INIT;
        o.server = side == 0;
        o.attester = a;
        o.policy = p;
        o.trust = t;
        if (ccz_ratls_ctx_new(side ? &rc : &rs, &o)) {
            fprintf(stderr, "ratls_bench: %s\n", ccz_error_detail());
            return 2;
        }
    }
    SSL_CTX_set_options(rs, SSL_OP_NO_TICKET);
    if (!handshake(rs, rc)) { /* the first handshake verifies and fills the caches */
        fprintf(stderr, "ratls_bench: the RA-TLS handshake failed\n");
        return 1;
    }
    EVP_PKEY *ca_key = EVP_EC_gen("P-256");
    X509 *ca = issue(ca_key, "bench CA", NULL, ca_key);
    SSL_CTX *ps = plain_ctx(true, ca, ca_key), *pc = plain_ctx(false, ca, ca_key);
    if (!handshake(ps, pc)) {
        fprintf(stderr, "ratls_bench: the plain mutual TLS handshake failed\n");
        return 1;
    }
    double ratls = rate(rs, rc, seconds), plain = rate(ps, pc, seconds);
    printf("{\"ratls_mutual_per_s\":%.0f,\"tls_mutual_per_s\":%.0f,\"ratio\":%.3f}\n", ratls, plain,
           ratls / plain);
    SSL_CTX_free(rs);
    SSL_CTX_free(rc);
    SSL_CTX_free(ps);
    SSL_CTX_free(pc);
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    ccz_policy_free(p);
    ccz_trust_free(t);
    ccz_attester_free(a);
    return 0;
}
