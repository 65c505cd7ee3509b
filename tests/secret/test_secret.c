/* SPDX-License-Identifier: Apache-2.0 */
/* Secret provisioning on the sim TEE: a client gets exactly the secret its measurement maps to
 * (two measurements, two secrets; the single-secret form serves every accepted client); a
 * measurement no entry maps, a client without a certificate, a debug enclave, a wrong request
 * string, a silent client and a half request get no secret bytes; a flood of silent
 * connections does not keep a client from its secret; the secrets section is parsed strictly
 * and matches TDX and SNP claims too; /metrics on the same listener counts without naming
 * secret bytes. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "ccz/ccz.h"
#include "ccz/secret.h"
#include "svc/secret/secret.h"
#include "test.h"

static char plat[512], root_path[600];
static ccz_trust *trust;
static ccz_policy *client_policy; /* the clients' appraisal of the server */
static ccz_attester *server_att;

static const uint8_t M1[32] = {0x11, 1}, M2[32] = {0x22, 2}, M3[32] = {0x33, 3};
static const char ALPHA[] = "alpha: the model key\n", BETA[] = "beta\0with a NUL";

static void setup(void)
{
    snprintf(plat, sizeof plat, "%s/plat", test_tmpdir());
    snprintf(root_path, sizeof root_path, "%s/root.crt", plat);
    CHECK_OK(ccz_sim_platform_init(plat, false));
    CHECK_OK(ccz_trust_new(&trust));
    CHECK_OK(ccz_trust_add_sim_root_file(trust, root_path));
    static const char pol[] = "{\"allow_sim\": true}";
    CHECK_OK(ccz_policy_parse(&client_policy, pol, strlen(pol)));
    ccz_attester_opts ao = CCZ_ATTESTER_OPTS_INIT;
    ao.tee = CCZ_TEE_SIM;
    ao.sim.dir = plat;
    CHECK_OK(ccz_attester_new(&server_att, &ao));
}

static ccz_attester *attester_with(const uint8_t m[32], bool debug)
{
    ccz_attester_opts ao = CCZ_ATTESTER_OPTS_INIT;
    ao.tee = CCZ_TEE_SIM;
    ao.sim.dir = plat;
    ao.sim.measurement = m;
    ao.sim.debug = debug;
    ccz_attester *a = NULL;
    CHECK_OK(ccz_attester_new(&a, &ao));
    return a;
}

/* A client context: presents an RA-TLS certificate from a (NULL: none), verifies the server. */
static SSL_CTX *client_ctx(const ccz_attester *a)
{
    ccz_ratls_opts o = CCZ_RATLS_OPTS_INIT;
    o.server = false;
    o.mode = a ? CCZ_RATLS_TWO_WAY : CCZ_RATLS_SERVER;
    o.attester = a;
    o.trust = trust;
    o.policy = client_policy;
    SSL_CTX *ctx = NULL;
    CHECK_OK(ccz_ratls_ctx_new(&ctx, &o));
    return ctx;
}

static void hex(char *out, const uint8_t *m, size_t n)
{
    ccz_hex_to_str(out, m, n);
}

/* ---- a server in a thread --------------------------------------------------------------------*/

typedef struct {
    ccz_secret_server *srv;
    pthread_t thread;
    char addr[64];
    ccz_status run_status;
} server;

static void *run(void *arg)
{
    server *s = arg;
    s->run_status = ccz_secret_server_run(s->srv);
    return NULL;
}

static ccz_status server_try(server *s, const char *policy, const ccz_secret_entry *e, size_t n,
                             unsigned max_conns, unsigned max_per_peer)
{
    ccz_secret_server_opts o = CCZ_SECRET_SERVER_OPTS_INIT;
    o.listen = "127.0.0.1:0";
    o.attester = server_att;
    o.trust = trust;
    o.policy = CCZ_SPAN(policy, strlen(policy));
    o.secrets = e;
    o.n_secrets = n;
    o.deadline_ms = 500;
    o.max_connections = max_conns;
    o.max_per_peer = max_per_peer;
    return ccz_secret_server_new(&s->srv, &o);
}

/* A server running in its thread, with connection caps (0: the defaults). */
static void server_start_capped(server *s, const char *policy, const ccz_secret_entry *e, size_t n,
                                unsigned max_conns, unsigned max_per_peer)
{
    CHECK_OK(server_try(s, policy, e, n, max_conns, max_per_peer));
    snprintf(s->addr, sizeof s->addr, "127.0.0.1:%d", ccz_secret_server_port(s->srv));
    test_thread(&s->thread, run, s);
}

static void server_start(server *s, const char *policy, const ccz_secret_entry *e, size_t n)
{
    server_start_capped(s, policy, e, n, 0, 0);
}

static void server_stop(server *s)
{
    ccz_secret_server_shutdown(s->srv, 2000);
    pthread_join(s->thread, NULL);
    CHECK_OK(s->run_status);
    ccz_secret_server_free(s->srv);
}

static const ccz_secret_entry two_secrets[] = {
    {"alpha", NULL, {(const uint8_t *)ALPHA, sizeof ALPHA - 1}},
    {"beta", NULL, {(const uint8_t *)BETA, sizeof BETA - 1}},
};

static char policy_two[1024];

static void make_policy_two(void)
{
    char m1[65], m2[65];
    hex(m1, M1, 32);
    hex(m2, M2, 32);
    snprintf(policy_two, sizeof policy_two,
             "{\"allow_sim\": true, \"secrets\": ["
             "{\"secret\": \"alpha\", \"measurement\": \"%s\"},"
             "{\"secret\": \"beta\", \"tee\": \"sim\", \"mr_enclave\": \"%s\"}]}",
             m1, m2);
}

/* Gets a secret as the client measured m; the status. */
static ccz_status get_as(const uint8_t *m, bool debug, ccz_buf *out, const char *addr)
{
    ccz_attester *a = m ? attester_with(m, debug) : NULL;
    SSL_CTX *ctx = client_ctx(a);
    ccz_status s = ccz_secret_get(out, ctx, addr, 5000);
    SSL_CTX_free(ctx);
    ccz_attester_free(a);
    return s;
}

static bool buf_is(const ccz_buf *b, const char *p, size_t n)
{
    return b->len == n && memcmp(b->ptr, p, n) == 0;
}

/* ---- a raw client: TLS, then exactly the bytes a test writes ----------------------------------*/

static int tcp_connect(const char *addr)
{
    int port = atoi(strrchr(addr, ':') + 1);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static SSL *raw_open(SSL_CTX *ctx, const char *addr, int *fd)
{
    *fd = tcp_connect(addr);
    CHECK(*fd >= 0);
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, *fd);
    CHECK_INT(SSL_connect(ssl), 1);
    return ssl;
}

/* Reads until the server closes: the bytes received (at most cap). */
static size_t raw_read_all(SSL *ssl, char *buf, size_t cap)
{
    size_t n = 0;
    int k;
    while (n < cap && (k = SSL_read(ssl, buf + n, (int)(cap - n))) > 0)
        n += (size_t)k;
    ERR_clear_error();
    return n;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the tests -------------------------------------------------------------------------------*/

static void test_by_measurement(void)
{
    server s;
    make_policy_two();
    server_start(&s, policy_two, two_secrets, 2);
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_OK(get_as(M1, false, &b, s.addr));
    CHECK(buf_is(&b, ALPHA, sizeof ALPHA - 1));
    CHECK(b.secret); /* wiped on free */
    CHECK_OK(get_as(M2, false, &b, s.addr));
    CHECK(buf_is(&b, BETA, sizeof BETA - 1));
    /* a measurement no entry maps: the connection closes without a secret */
    CHECK_STATUS(get_as(M3, false, &b, s.addr), CCZ_ERR_UNAVAILABLE);
    CHECK_INT((int)b.len, 0);
    /* no certificate: the handshake completes, then nothing */
    CHECK_STATUS(get_as(NULL, false, &b, s.addr), CCZ_ERR_UNAVAILABLE);
    CHECK_INT((int)b.len, 0);
    /* a debug enclave, even with a mapped measurement: the policy refuses its certificate */
    CHECK_STATUS(get_as(M1, true, &b, s.addr), CCZ_ERR_POLICY_REJECTED);
    CHECK_CONTAINS(ccz_error_detail(), "TLS alert");
    CHECK_INT((int)b.len, 0);
    /* a cap below the secret's size is refused before any byte of it is kept */
    ccz_buf small;
    ccz_buf_init(&small, 4, false);
    CHECK_STATUS(get_as(M1, false, &small, s.addr), CCZ_ERR_TOO_LARGE);
    CHECK_INT((int)small.len, 0);
    ccz_buf_free(&small);
    ccz_buf_free(&b);

    /* the raw exchange, byte for byte */
    ccz_attester *a = attester_with(M2, false);
    SSL_CTX *ctx = client_ctx(a);
    int fd;
    SSL *ssl = raw_open(ctx, s.addr, &fd);
    CHECK_INT(SSL_write(ssl, CCZ_SECRET_REQUEST, 35), 35);
    char got[256];
    size_t n = raw_read_all(ssl, got, sizeof got);
    CHECK_INT((int)n, 37 + 4 + (int)sizeof BETA - 1);
    CHECK(memcmp(got, "SECRET_PROVISION_RA_TLS_RESPONSE_V1:\0", 37) == 0);
    CHECK(got[37] == 0 && got[38] == 0 && got[39] == 0 && got[40] == (char)(sizeof BETA - 1));
    CHECK(memcmp(got + 41, BETA, sizeof BETA - 1) == 0);
    SSL_free(ssl);
    close(fd);

    /* a wrong request string: no secret (the server takes it for a bad HTTP request) */
    ssl = raw_open(ctx, s.addr, &fd);
    CHECK_INT(SSL_write(ssl, "SECRET_PROVISION_RA_TLS_REQUEST_V2", 35), 35);
    n = raw_read_all(ssl, got, sizeof got - 1);
    got[n] = 0;
    CHECK(memmem(got, n, "SECRET_PROVISION_RA_TLS_RESPONSE", 32) == NULL);
    CHECK(memmem(got, n, "beta", 4) == NULL);
    SSL_free(ssl);
    close(fd);

    /* silent after the handshake: cut at the deadline (500 ms) with no byte sent; silent in
     * the middle of the request: cut then too, with HTTP's 408 and no secret */
    for (int half = 0; half < 2; half++) {
        ssl = raw_open(ctx, s.addr, &fd);
        if (half)
            CHECK_INT(SSL_write(ssl, CCZ_SECRET_REQUEST, 20), 20);
        int64_t t0 = mono_ms();
        n = raw_read_all(ssl, got, sizeof got - 1);
        int64_t dt = mono_ms() - t0;
        got[n] = 0;
        if (half)
            CHECK(CCZ_STARTS_WITH(got, "HTTP/1.1 408 "));
        else
            CHECK_INT((int)n, 0);
        CHECK(memmem(got, n, "beta", 4) == NULL);
        CHECK(dt >= 300 && dt < 4000);
        SSL_free(ssl);
        close(fd);
    }

    /* /metrics on the same listener, over TLS without a client certificate */
    SSL_CTX *anon = client_ctx(NULL);
    ssl = raw_open(anon, s.addr, &fd);
    const char req[] = "GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    CHECK_INT(SSL_write(ssl, req, (int)strlen(req)), (int)strlen(req));
    char page[16384];
    n = raw_read_all(ssl, page, sizeof page - 1);
    page[n] = 0;
    /* alpha twice: the client whose cap was too small was sent it too */
    CHECK_CONTAINS(page, "ccz_secret_provisioned_total{secret=\"alpha\"} 2\n");
    CHECK_CONTAINS(page, "ccz_secret_provisioned_total{secret=\"beta\"} 2\n");
    CHECK_CONTAINS(page, "ccz_secret_refused_total{reason=\"no_certificate\"} 1\n");
    /* the refusal without a certificate is a 401 (no credentials), not a 403 */
    CHECK_CONTAINS(page, ",code=\"401\"} 1\n");
    CHECK_CONTAINS(page, "ccz_secret_refused_total{reason=\"no_match\"} 1\n");
    CHECK(strstr(page, "the model key") == NULL);
    SSL_free(ssl);
    close(fd);
    SSL_CTX_free(anon);
    SSL_CTX_free(ctx);
    ccz_attester_free(a);
    server_stop(&s);
}

static void test_single_secret(void)
{
    /* no secrets section and one secret: every client the policy accepts gets it */
    server s;
    static const ccz_secret_entry one[] = {
        {"only", NULL, {(const uint8_t *)"0123456789abcdef", 16}}};
    server_start(&s, "{\"allow_sim\": true}", one, 1);
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_OK(get_as(M1, false, &b, s.addr));
    CHECK(buf_is(&b, "0123456789abcdef", 16));
    CHECK_OK(get_as(M3, false, &b, s.addr));
    CHECK(buf_is(&b, "0123456789abcdef", 16));
    CHECK_STATUS(get_as(M3, true, &b, s.addr), CCZ_ERR_POLICY_REJECTED);
    ccz_buf_free(&b);
    server_stop(&s);

    /* the policy's own measurements still decide who is accepted at all */
    char m1[65], pol[256];
    hex(m1, M1, 32);
    snprintf(pol, sizeof pol, "{\"allow_sim\": true, \"sgx\": [{\"mr_enclave\": \"%s\"}]}", m1);
    server_start(&s, pol, one, 1);
    CHECK_OK(get_as(M1, false, &b, s.addr));
    CHECK_STATUS(get_as(M2, false, &b, s.addr), CCZ_ERR_POLICY_REJECTED);
    ccz_buf_free(&b);
    server_stop(&s);

    /* a sim client under the default policy (no allow_sim) is refused */
    server_start(&s, "{}", one, 1);
    CHECK_STATUS(get_as(M1, false, &b, s.addr), CCZ_ERR_POLICY_REJECTED);
    ccz_buf_free(&b);
    server_stop(&s);
}

static void test_flood(void)
{
    server s;
    make_policy_two();
    server_start_capped(&s, policy_two, two_secrets, 2, 64, 1000);
    /* 200 silent TCP connections and 20 handshaken ones that never send the request, from the
     * client's own address: the client gets its secret every time */
    int fds[200];
    for (int i = 0; i < 200; i++)
        fds[i] = tcp_connect(s.addr);
    ccz_attester *a = attester_with(M1, false);
    SSL_CTX *ctx = client_ctx(a);
    SSL *idle[20];
    int idle_fd[20];
    for (int i = 0; i < 20; i++)
        idle[i] = raw_open(ctx, s.addr, &idle_fd[i]);
    ccz_buf b = CCZ_BUF_INIT;
    int ok = 0;
    for (int i = 0; i < 10; i++) {
        ok +=
            ccz_secret_get(&b, ctx, s.addr, 5000) == CCZ_OK && buf_is(&b, ALPHA, sizeof ALPHA - 1);
    }
    CHECK_INT(ok, 10);
    ccz_buf_free(&b);
    for (int i = 0; i < 200; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    for (int i = 0; i < 20; i++) {
        SSL_free(idle[i]);
        close(idle_fd[i]);
    }
    SSL_CTX_free(ctx);
    ccz_attester_free(a);
    server_stop(&s);
}

static void test_config_errors(void)
{
    server s;
    static const ccz_secret_entry one[] = {{"a", NULL, {(const uint8_t *)"x", 1}}};
    static const ccz_secret_entry bad_name[] = {{"a b", NULL, {(const uint8_t *)"x", 1}}};
    static const ccz_secret_entry empty[] = {{"a", NULL, {(const uint8_t *)"", 0}}};
    static const ccz_secret_entry twice[] = {{"a", NULL, {(const uint8_t *)"x", 1}},
                                             {"a", NULL, {(const uint8_t *)"y", 1}}};
    static const ccz_secret_entry missing[] = {{"a", "/nonexistent/secret", {NULL, 0}}};
    struct {
        const char *policy;
        const ccz_secret_entry *e;
        size_t n;
        ccz_status want;
        const char *detail;
    } cases[] = {
        {"{\"allow_sim\": true}", two_secrets, 2, CCZ_ERR_POLICY, "no \"secrets\" section"},
        {"{\"secrets\": [{\"secret\": \"zeta\"}]}", one, 1, CCZ_ERR_POLICY,
         "secrets[0].secret: \"zeta\" is not one of the secrets"},
        {"{\"secrets\": [{\"secret\": \"a\", \"mr_enclav\": \"00\"}]}", one, 1, CCZ_ERR_POLICY,
         "secrets[0].mr_enclav: unknown key"},
        {"{\"secrets\": [{\"mr_enclave\": \"00\"}]}", one, 1, CCZ_ERR_POLICY,
         "names no \"secret\""},
        {"{\"secrets\": [{\"secret\": \"a\", \"measurement\": \"00\"}]}", one, 1, CCZ_ERR_POLICY,
         "must be 64 hex digits"},
        {"{\"secrets\": [{\"secret\": \"a\", \"tee\": \"tpm\"}]}", one, 1, CCZ_ERR_POLICY,
         "unknown TEE"},
        {"{\"secrets\": [{\"secret\": \"a\", \"mr_enclave\": \"00\"}]}", one, 1, CCZ_ERR_POLICY,
         "policy: secrets[0].mr_enclave: must be a string of 64 hex digits"},
        {"{\"secrets\": [{\"secret\": \"a\", \"mr_td\": 7}]}", one, 1, CCZ_ERR_POLICY,
         "policy: secrets[0].mr_td: must be a string of 96 hex digits"},
        {"{\"secrets\": [{\"secret\": \"a\", \"host_data\": "
         "\"zz00000000000000000000000000000000000000000000000000000000000000\"}]}",
         one, 1, CCZ_ERR_POLICY,
         "policy: secrets[0].host_data: \"zz00000000000000000000000000000000000000000000000000000000"
         "000000\" is not hex"},
        {"{\"secrets\": [{\"secret\": \"a\", \"isv_prod_id\": 65536}]}", one, 1, CCZ_ERR_POLICY,
         "policy: secrets[0].isv_prod_id: must be an integer from 0 to 65535"},
        {"{\"secrets\": [{\"secret\": \"a\", \"isv_svn_min\": -1}]}", one, 1, CCZ_ERR_POLICY,
         "policy: secrets[0].isv_svn_min: must be an integer from 0 to 65535"},
        {"{\"secrets\": [{\"secret\": \"a\", \"isv_svn_min\": \"3\"}]}", one, 1, CCZ_ERR_POLICY,
         "policy: secrets[0].isv_svn_min: must be an integer from 0 to 65535"},
        {"{\"secrets\": [{\"secret\": \"a\", \"tee\": []}]}", one, 1, CCZ_ERR_POLICY,
         "policy: secrets[0].tee: must be a TEE name or a non-empty list of them"},
        {"{\"secrets\": [{\"secret\": \"a\", \"tee\": [\"sgx\", \"none\"]}]}", one, 1,
         CCZ_ERR_POLICY, "policy: secrets[0].tee: unknown TEE \"none\" (sim, sgx, tdx, snp)"},
        {"{\"secrets\": [7]}", one, 1, CCZ_ERR_POLICY, "policy: secrets[0]: must be an object"},
        {"{\"secrets\": [{\"secret\": 7}]}", one, 1, CCZ_ERR_POLICY,
         "policy: secrets[0].secret: (not a string) is not one of the secrets given"},
        {"[{\"secrets\": []}]", one, 1, CCZ_ERR_POLICY,
         "policy: the document must be a JSON object"},
        {"{\"secrets\": {}}", one, 1, CCZ_ERR_POLICY,
         "policy: secrets: must be a list of {\"secret\": NAME, constraints...}"},
        {"{\"secrets\": []}", one, 1, CCZ_ERR_POLICY, "0 entries"},
        {"{\"allow_sim\": true, \"allow_everything\": true}", one, 1, CCZ_ERR_POLICY,
         "allow_everything: unknown key"},
        {"{\"allow_sim\": true, \"allow_sim\": true}", one, 1, CCZ_ERR_POLICY, "duplicate"},
        {"{}", bad_name, 1, CCZ_ERR_INVALID_ARGUMENT, "must be 1 to 64 letters"},
        {"{}", empty, 1, CCZ_ERR_INVALID_ARGUMENT, "secret a is empty"},
        {"{}", twice, 2, CCZ_ERR_INVALID_ARGUMENT, "secret a is given twice"},
        {"{}", missing, 1, CCZ_ERR_NOT_FOUND, "secret a"},
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(cases); i++) {
        s.srv = NULL;
        CHECK_STATUS(server_try(&s, cases[i].policy, cases[i].e, cases[i].n, 0, 0), cases[i].want);
        CHECK_CONTAINS(ccz_error_detail(), cases[i].detail);
        CHECK(s.srv == NULL);
    }
    /* no secret at all; more entries than a policy may have */
    secret_service *svc = (secret_service *)1;
    CHECK_STATUS(secret_service_new(&svc, CCZ_LIT("{}"), one, 0), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "no secret to serve");
    CHECK(svc == NULL);
    ccz_buf many = CCZ_BUF_INIT;
    CHECK_OK(ccz_buf_append_str(&many, "{\"secrets\": ["));
    for (int i = 0; i <= CCZ_POLICY_MAX_ENTRIES; i++)
        CHECK_OK(ccz_buf_append_str(&many, i ? ",{\"secret\": \"a\"}" : "{\"secret\": \"a\"}"));
    CHECK_OK(ccz_buf_append_str(&many, "]}"));
    CHECK_STATUS(secret_service_new(&svc, ccz_buf_span(&many), one, 1), CCZ_ERR_POLICY);
    CHECK_STR(ccz_error_detail(), "policy: secrets: 1025 entries (1 to 1024)");
    ccz_buf_free(&many);
    /* a name of SECRET_NAME_MAX bytes is a name, one of a byte more is not; a secret of more
     * than CCZ_SECRET_MAX_BYTES is refused by its name */
    char longname[SECRET_NAME_MAX + 2];
    memset(longname, 'n', SECRET_NAME_MAX + 1);
    longname[SECRET_NAME_MAX] = 0;
    const ccz_secret_entry named[] = {{longname, NULL, {(const uint8_t *)"x", 1}}};
    CHECK_OK(secret_service_new(&svc, CCZ_LIT("{}"), named, 1));
    CHECK_STR(secret_service_item(svc, 0)->name, longname);
    secret_service_free(svc);
    longname[SECRET_NAME_MAX] = 'n';
    longname[SECRET_NAME_MAX + 1] = 0;
    CHECK_STATUS(secret_service_new(&svc, CCZ_LIT("{}"), named, 1), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "must be 1 to 64 letters");
    CHECK(svc == NULL);
    uint8_t *huge = calloc(1, CCZ_SECRET_MAX_BYTES + 1);
    CHECK(huge != NULL);
    const ccz_secret_entry too_big[] = {{"big", NULL, {huge, CCZ_SECRET_MAX_BYTES + 1}}};
    CHECK_STATUS(secret_service_new(&svc, CCZ_LIT("{}"), too_big, 1), CCZ_ERR_TOO_LARGE);
    CHECK_STR(ccz_error_detail(), "secret big: 1048577 bytes, more than 1048576");
    free(huge);
    /* the options: missing, of another version, without an address, trust anchors, or a
     * certificate of the server's own (an attester, or a certificate with its key) */
    ccz_secret_server *srv = NULL;
    CHECK_STATUS(ccz_secret_server_new(&srv, NULL), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "secret server options missing or of the wrong version");
    ccz_secret_server_opts o = CCZ_SECRET_SERVER_OPTS_INIT;
    o.version++;
    CHECK_STATUS(ccz_secret_server_new(&srv, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "secret server options missing or of the wrong version");
    CHECK_STATUS(ccz_secret_serve(&o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "secret server options missing or of the wrong version");
    o.version = CCZ_SECRET_SERVER_OPTS_VERSION;
    o.attester = server_att;
    o.trust = trust;
    CHECK_STATUS(ccz_secret_server_new(&srv, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "needs an address to listen on and trust anchors");
    o.listen = "127.0.0.1:0";
    o.trust = NULL;
    CHECK_STATUS(ccz_secret_server_new(&srv, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "needs an address to listen on and trust anchors");
    o.trust = trust;
    o.attester = NULL;
    CHECK_STATUS(ccz_secret_server_new(&srv, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "needs an attester, or a certificate and its key");
    o.cert = X509_new(); /* a certificate without its key */
    CHECK(o.cert != NULL);
    CHECK_STATUS(ccz_secret_server_new(&srv, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "needs an attester, or a certificate and its key");
    CHECK(srv == NULL);
    X509_free(o.cert);

    /* a certificate chain file that cannot be read: the server does not start */
    o.cert = NULL;
    o.attester = server_att;
    o.secrets = one;
    o.n_secrets = 1;
    o.cert_chain_file = "/nonexistent/chain.pem";
    CHECK_STATUS(ccz_secret_server_new(&srv, &o), CCZ_ERR_CERT_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "/nonexistent/chain.pem");
    CHECK(srv == NULL);

    /* a CCZoo dynamic_config with a secrets section */
    char m1[65], pol[512];
    hex(m1, M1, 32);
    snprintf(pol, sizeof pol,
             "{\"verify_mr_enclave\": \"on\", \"ccz_allow_sim\": \"on\", \"sgx_mrs\": "
             "[{\"mr_enclave\": \"%s\"}], \"secrets\": [{\"secret\": \"a\"}]}",
             m1);
    CHECK_OK(server_try(&s, pol, one, 1, 0, 0));
    ccz_secret_server_free(s.srv);
}

/* The rules against claims of every TEE, without a network. */
static void test_rules(void)
{
    static const ccz_secret_entry e[] = {{"sgx", NULL, {(const uint8_t *)"1", 1}},
                                         {"tdx", NULL, {(const uint8_t *)"2", 1}},
                                         {"snp", NULL, {(const uint8_t *)"3", 1}},
                                         {"fallback", NULL, {(const uint8_t *)"4", 1}}};
    char td[97], sm[97], hd[65], sg[65];
    uint8_t mr_td[48] = {0xd1}, meas[48] = {0x5e}, host[32] = {0x40}, signer[32] = {0x51};
    hex(td, mr_td, 48);
    hex(sm, meas, 48);
    hex(hd, host, 32);
    hex(sg, signer, 32);
    char doc[2048];
    snprintf(doc, sizeof doc,
             "{\"secrets\": ["
             "{\"secret\": \"sgx\", \"tee\": [\"sgx\"], \"mr_signer\": \"%s\", "
             "\"isv_prod_id\": 7, \"isv_svn_min\": 3},"
             "{\"secret\": \"tdx\", \"mr_td\": \"%s\"},"
             "{\"secret\": \"snp\", \"snp_measurement\": \"%s\", \"host_data\": \"%s\"},"
             "{\"secret\": \"fallback\", \"tee\": \"tdx\"}]}",
             sg, td, sm, hd);
    secret_service *svc;
    CHECK_OK(secret_service_new(&svc, CCZ_SPAN(doc, strlen(doc)), e, 4));
    char why[128];
    ccz_claims c;
    memset(&c, 0, sizeof c);
    c.tee = CCZ_TEE_SGX;
    memcpy(c.sgx.mr_signer, signer, 32);
    c.sgx.isv_prod_id = 7;
    c.sgx.isv_svn = 3;
    CHECK_INT((int)secret_choose(svc, &c, why, sizeof why), 0);
    c.sgx.mr_signer[31] ^= 1; /* another signer */
    CHECK_INT((int)secret_choose(svc, &c, why, sizeof why), -1);
    c.sgx.mr_signer[31] ^= 1;
    c.sgx.isv_prod_id = 8; /* another product */
    CHECK_INT((int)secret_choose(svc, &c, why, sizeof why), -1);
    c.sgx.isv_prod_id = 7;
    c.sgx.isv_svn = 2; /* below the minimum */
    CHECK_INT((int)secret_choose(svc, &c, why, sizeof why), -1);
    CHECK_CONTAINS(why, "no entry");
    c.tee = CCZ_TEE_SIM; /* the entry names sgx only */
    c.sgx.isv_svn = 9;
    CHECK_INT((int)secret_choose(svc, &c, why, sizeof why), -1);
    memset(&c, 0, sizeof c);
    c.tee = CCZ_TEE_TDX;
    memcpy(c.tdx.mr_td, mr_td, 48);
    CHECK_INT((int)secret_choose(svc, &c, why, sizeof why), 1);
    c.tdx.mr_td[47] ^= 1; /* another TD: the fallback for TDX */
    CHECK_INT((int)secret_choose(svc, &c, why, sizeof why), 3);
    memset(&c, 0, sizeof c);
    c.tee = CCZ_TEE_SNP;
    memcpy(c.snp.measurement, meas, 48);
    memcpy(c.snp.host_data, host, 32);
    CHECK_INT((int)secret_choose(svc, &c, why, sizeof why), 2);
    c.snp.host_data[0] ^= 1;
    CHECK_INT((int)secret_choose(svc, &c, why, sizeof why), -1);
    /* an SNP measurement equal to the TDX entry's MRTD value is no MRTD... */
    memcpy(c.snp.measurement, mr_td, 48);
    CHECK_INT((int)secret_choose(svc, &c, why, sizeof why), -1);
    /* ...and with the host data right again, the launch measurement alone still refuses it */
    memcpy(c.snp.host_data, host, 32);
    CHECK_INT((int)secret_choose(svc, &c, why, sizeof why), -1);
    /* ...but the generic "measurement" of 48 bytes is an SNP launch measurement or an MRTD */
    secret_service_free(svc);
    snprintf(doc, sizeof doc, "{\"secrets\": [{\"secret\": \"snp\", \"measurement\": \"%s\"}]}",
             td);
    CHECK_OK(secret_service_new(&svc, CCZ_SPAN(doc, strlen(doc)), e, 4));
    CHECK_INT((int)secret_choose(svc, &c, why, sizeof why), 2);
    memset(&c, 0, sizeof c);
    c.tee = CCZ_TEE_TDX;
    memcpy(c.tdx.mr_td, mr_td, 48);
    CHECK_INT((int)secret_choose(svc, &c, why, sizeof why), 2);
    c.tdx.mr_td[0] ^= 1; /* another TD */
    CHECK_INT((int)secret_choose(svc, &c, why, sizeof why), -1);
    c.tdx.mr_td[0] ^= 1;
    c.tee = CCZ_TEE_SIM; /* 48 bytes are never a sim (or SGX) measurement */
    CHECK_INT((int)secret_choose(svc, &c, why, sizeof why), -1);
    CHECK_STR(secret_service_item(svc, 2)->name, "snp");
    CHECK_INT((int)secret_service_count(svc), 4);
    secret_service_free(svc);
    /* a list of TEEs: each of them, and no other */
    snprintf(doc, sizeof doc,
             "{\"secrets\": [{\"secret\": \"tdx\", \"tee\": [\"sgx\", \"tdx\"]}]}");
    CHECK_OK(secret_service_new(&svc, CCZ_SPAN(doc, strlen(doc)), e, 4));
    memset(&c, 0, sizeof c);
    c.tee = CCZ_TEE_SGX;
    CHECK_INT((int)secret_choose(svc, &c, why, sizeof why), 1);
    c.tee = CCZ_TEE_TDX;
    CHECK_INT((int)secret_choose(svc, &c, why, sizeof why), 1);
    c.tee = CCZ_TEE_SNP;
    CHECK_INT((int)secret_choose(svc, &c, why, sizeof why), -1);
    secret_service_free(svc);
    /* an SGX entry never matches a TD, though the TD's claims leave the SGX fields zero */
    char zero[65];
    memset(zero, '0', 64);
    zero[64] = 0;
    snprintf(doc, sizeof doc, "{\"secrets\": [{\"secret\": \"sgx\", \"mr_signer\": \"%s\"}]}",
             zero);
    CHECK_OK(secret_service_new(&svc, CCZ_SPAN(doc, strlen(doc)), e, 4));
    memset(&c, 0, sizeof c);
    c.tee = CCZ_TEE_SGX;
    CHECK_INT((int)secret_choose(svc, &c, why, sizeof why), 0);
    c.tee = CCZ_TEE_TDX;
    CHECK_INT((int)secret_choose(svc, &c, why, sizeof why), -1);
    secret_service_free(svc);
    /* nor an SNP entry anything but SNP, though the others' claims leave the SNP fields zero */
    snprintf(doc, sizeof doc, "{\"secrets\": [{\"secret\": \"snp\", \"host_data\": \"%s\"}]}",
             zero);
    CHECK_OK(secret_service_new(&svc, CCZ_SPAN(doc, strlen(doc)), e, 4));
    memset(&c, 0, sizeof c);
    c.tee = CCZ_TEE_SNP;
    CHECK_INT((int)secret_choose(svc, &c, why, sizeof why), 2);
    c.tee = CCZ_TEE_TDX;
    CHECK_INT((int)secret_choose(svc, &c, why, sizeof why), -1);
    c.tee = CCZ_TEE_SGX;
    CHECK_INT((int)secret_choose(svc, &c, why, sizeof why), -1);
    secret_service_free(svc);
}

/* A server with these caps, n silent connections from one address opened 50 ms apart: the
 * first is closed when the last comes, well before its 500 ms deadline, and the last is kept. */
static void cap_closes_first(unsigned max_conns, unsigned max_per_peer, int n)
{
    server s;
    make_policy_two();
    server_start_capped(&s, policy_two, two_secrets, 2, max_conns, max_per_peer);
    int fds[3];
    for (int i = 0; i < n; i++) {
        fds[i] = tcp_connect(s.addr);
        usleep(50000); /* accepted one by one, in this order */
    }
    struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
    char byte;
    CHECK(poll(&pfd, 1, 100) == 1 && recv(fds[0], &byte, 1, 0) == 0);
    pfd.fd = fds[n - 1];
    CHECK_INT(poll(&pfd, 1, 0), 0);
    for (int i = 0; i < n; i++)
        close(fds[i]);
    server_stop(&s);
}

/* The server-wide cap is the one the options give: at two connections, a third from a client
 * that has sent nothing closes the oldest of the two silent ones before it. */
static void test_connection_cap(void)
{
    cap_closes_first(2, 0, 3);
}

/* The per-peer cap is the one the options give: at one connection from an address, a second
 * from it closes the first, silent one before it. */
static void test_peer_cap(void)
{
    cap_closes_first(0, 1, 2);
}

/* The log sink of ccz_secret_serve's process: tells the test (over the pipe in payload) that the
 * server is listening. */
static void serving_sink(ccz_log_level level, const char *msg, void *payload)
{
    (void)level;
    if (strstr(msg, "serving secret provisioning"))
        (void)!write(*(int *)payload, "L", 1);
}

/* ccz_secret_serve handles SIGTERM itself: the process stops serving and returns CCZ_OK (exit 0),
 * rather than being killed by the signal. */
static void test_serve_sigterm(void)
{
    static const ccz_secret_entry one[] = {{"a", NULL, {(const uint8_t *)"x", 1}}};
    int ready[2];
    CHECK(pipe(ready) == 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(ready[0]);
        ccz_log_set_level(CCZ_LOG_INFO);
        ccz_log_set_sink(serving_sink, &ready[1]);
        ccz_secret_server_opts o = CCZ_SECRET_SERVER_OPTS_INIT;
        o.listen = "127.0.0.1:0";
        o.attester = server_att;
        o.trust = trust;
        o.policy = CCZ_LIT("{\"allow_sim\": true}");
        o.secrets = one;
        o.n_secrets = 1;
        _exit(ccz_secret_serve(&o) == CCZ_OK ? 0 : 1);
    }
    close(ready[1]);
    struct pollfd pfd = {.fd = ready[0], .events = POLLIN};
    char c;
    CHECK(poll(&pfd, 1, 10000) == 1 && read(ready[0], &c, 1) == 1);
    close(ready[0]);
    CHECK(kill(pid, SIGTERM) == 0);
    int st = 0;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st));
    CHECK_INT(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0);
}

static void test_all(void)
{
    signal(SIGPIPE, SIG_IGN);
    setup();
    test_rules();
    test_config_errors();
    test_by_measurement();
    test_single_secret();
    test_flood();
    test_connection_cap();
    test_peer_cap();
    test_serve_sigterm();
    ccz_attester_free(server_att);
    ccz_policy_free(client_policy);
    ccz_trust_free(trust);
}

TEST_MAIN(T(test_all))
