/* SPDX-License-Identifier: Apache-2.0 */
/* How fetched CRL bodies are read (dcap_fetch.c): DER, PEM and hex-encoded DER are told apart by
 * parsing. DER CRLs start with '0' (0x30); here they also end in every ASCII hex digit, the case
 * that a first-and-last-byte test mistook for hex text. The fetch itself, against PCS- and
 * PCCS-shaped servers, through a proxy and over TLS, is tests/cli/test_collateral_fetch.sh. */
#include <arpa/inet.h>
#include <ctype.h>
#include <jansson.h>
#include <netinet/in.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ccz/ccz.h"
#include "dcap_forge.h"
#include "tee/internal.h"
#include "test.h"
#include "tls_fake.h"

/* A signed CRL (DER) whose last byte is `last`: ECDSA signatures are random, so sign until one
 * ends that way (about 256 tries). */
static void crl_ending_in(ccz_buf *der, EVP_PKEY *key, uint8_t last)
{
    X509_CRL *crl = X509_CRL_new();
    X509_NAME *n = X509_NAME_new();
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"Test CRL Issuer", -1,
                               -1, 0);
    X509_CRL_set_version(crl, 1);
    X509_CRL_set_issuer_name(crl, n);
    ASN1_TIME *t = ASN1_TIME_set(NULL, 1893456000);
    X509_CRL_set1_lastUpdate(crl, t);
    ASN1_TIME_set(t, 1893456000 + 86400);
    X509_CRL_set1_nextUpdate(crl, t);
    for (int tries = 0; tries < 20000; tries++) {
        X509_CRL_sign(crl, key, EVP_sha256());
        unsigned char *p = NULL;
        int len = i2d_X509_CRL(crl, &p);
        CHECK(len > 0);
        if (len > 0 && p[len - 1] == last) {
            ccz_buf_reset(der);
            CHECK_OK(ccz_buf_append(der, p, (size_t)len));
            OPENSSL_free(p);
            break;
        }
        OPENSSL_free(p);
    }
    CHECK(der->len > 0 && der->ptr[0] == 0x30 && der->ptr[der->len - 1] == last);
    ASN1_TIME_free(t);
    X509_NAME_free(n);
    X509_CRL_free(crl);
}

static void pem_of(ccz_buf *out, ccz_span der)
{
    const unsigned char *p = der.ptr;
    X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)der.len);
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509_CRL(b, crl);
    char *text;
    long n = BIO_get_mem_data(b, &text);
    CHECK_OK(ccz_buf_append(out, text, (size_t)n));
    BIO_free(b);
    X509_CRL_free(crl);
}

/* body decodes to exactly want */
static void decodes_to(const char *what, ccz_span body, ccz_span want)
{
    ccz_buf got = CCZ_BUF_INIT;
    CHECK_OK(dcap_crl_body_der(&got, body, what));
    if (got.len != want.len || memcmp(got.ptr, want.ptr, want.len) != 0) {
        fprintf(stderr, "%s: %s decoded to %zu other bytes\n", test_name, what, got.len);
        test_failures++;
    }
    ccz_buf_free(&got);
}

static void test_every_encoding_whatever_the_last_byte(void)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    static const char digits[] = "0123456789abcdefABCDEF";
    ccz_buf der = CCZ_BUF_INIT;
    for (size_t i = 0; i < sizeof digits - 1; i++) {
        crl_ending_in(&der, key, (uint8_t)digits[i]);
        ccz_span d = ccz_buf_span(&der);
        decodes_to("DER", d, d);
        ccz_buf pem = CCZ_BUF_INIT, hex = CCZ_BUF_INIT;
        pem_of(&pem, d);
        decodes_to("PEM", ccz_buf_span(&pem), d);
        CHECK_OK(ccz_hex_encode(&hex, d));
        decodes_to("hex", ccz_buf_span(&hex), d);
        for (size_t k = 0; k < hex.len; k++)
            hex.ptr[k] = (uint8_t)toupper(hex.ptr[k]);
        CHECK_OK(ccz_buf_append_str(&hex, "\r\n"));
        decodes_to("upper-case hex with a line break", ccz_buf_span(&hex), d);
        /* white space before the text too (a PCCS's answer may start with a line break) */
        ccz_buf lead = CCZ_BUF_INIT;
        CHECK_OK(ccz_buf_append_str(&lead, " \r\n\t"));
        CHECK_OK(ccz_buf_append(&lead, hex.ptr, hex.len));
        decodes_to("hex after white space", ccz_buf_span(&lead), d);
        ccz_buf_reset(&lead);
        CHECK_OK(ccz_buf_append_str(&lead, "\n"));
        CHECK_OK(ccz_buf_append(&lead, pem.ptr, pem.len));
        decodes_to("PEM after a line break", ccz_buf_span(&lead), d);
        ccz_buf_free(&lead);
        ccz_buf_free(&pem);
        ccz_buf_free(&hex);
    }
    /* a DER CRL ending in a byte that is not a hex digit, and one ending in 0x00 */
    crl_ending_in(&der, key, 0xb4);
    decodes_to("DER", ccz_buf_span(&der), ccz_buf_span(&der));
    crl_ending_in(&der, key, 0x00);
    decodes_to("DER", ccz_buf_span(&der), ccz_buf_span(&der));
    ccz_buf_free(&der);
    EVP_PKEY_free(key);
}

static void test_not_a_crl(void)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    ccz_buf der = CCZ_BUF_INIT, body = CCZ_BUF_INIT, out = CCZ_BUF_INIT;
    crl_ending_in(&der, key, '3');
    /* DER with a byte more, or a byte less */
    CHECK_OK(ccz_buf_append(&body, der.ptr, der.len));
    CHECK_OK(ccz_buf_append_u8(&body, '3'));
    CHECK_STATUS(dcap_crl_body_der(&out, ccz_buf_span(&body), "root CA CRL"), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "root CA CRL is not a CRL");
    CHECK_STATUS(dcap_crl_body_der(&out, CCZ_SPAN(der.ptr, der.len - 1), "CRL"), CCZ_ERR_MALFORMED);
    /* hex of something else, odd-length hex, text, PEM of something else, nothing */
    static const char *const bad[] = {"3082",
                                      "308",
                                      "0123456789abcdef0123456789abcdef",
                                      "not a CRL",
                                      "-----BEGIN X509 CRL-----\nMIIB\n-----END X509 CRL-----\n",
                                      "",
                                      " \n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_STATUS(dcap_crl_body_der(&out, CCZ_SPAN(bad[i], strlen(bad[i])), "CRL"),
                     CCZ_ERR_MALFORMED);
    CHECK_INT(out.len, 0); /* nothing is left behind by a failure */
    ccz_buf_free(&der);
    ccz_buf_free(&body);
    ccz_buf_free(&out);
    EVP_PKEY_free(key);
}

/* ---- the fetch against a hostile PCCS -----------------------------------------------------------*/

/* A loopback PCCS serving the pieces of a forged collateral document; each scenario replaces
 * one answer. */
typedef struct {
    const char *pck_chain; /* SGX-PCK-CRL-Issuer-Chain as sent; NULL: the chain, encoded */
    const char *tcb_chain; /* TCB-Info-Issuer-Chain as sent; NULL: the chain, encoded; "": none */
    const char *tcb_body;  /* the TCB info answer; NULL: the signed one */
    int tcb_status;        /* 0: 200 */
    bool tcb_loop;         /* the TCB info redirects to itself, for ever */
    bool tcb_moved;        /* the TCB info redirects to /moved/..., with a bad chain header */
    bool tcb_stall;        /* the TCB info request gets no answer (for 4 s, then a close) */
    bool no_root_crl;      /* the root CA CRL is not served (404), as Intel PCS has it */
    int slow_ms;           /* every answer waits this long */
} scenario;

static struct {
    int fd, port;
    volatile int stop;
    pthread_t thread;
    json_t *coll;
    scenario sc;
    char log[4096]; /* the paths asked for, one a line */
} pccs;

static const char *piece(const char *k)
{
    return json_string_value(json_object_get(pccs.coll, k));
}

static void pct_encode(ccz_buf *out, const char *s)
{
    for (; *s; s++)
        if (isalnum((unsigned char)*s))
            CHECK_OK(ccz_buf_append_u8(out, (uint8_t)*s));
        else
            CHECK_OK(ccz_buf_printf(out, "%%%02X", (unsigned char)*s));
}

static void reply(int fd, int status, const char *hname, const char *hvalue, const char *extra,
                  const char *body, size_t len)
{
    ccz_buf r = CCZ_BUF_INIT, enc = CCZ_BUF_INIT;
    CHECK_OK(ccz_buf_printf(&r, "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n",
                            status, len));
    if (hname && hvalue && hvalue[0])
        CHECK_OK(ccz_buf_printf(&r, "%s: %s\r\n", hname, hvalue));
    CHECK_OK(ccz_buf_printf(&r, "%s\r\n", extra ? extra : ""));
    CHECK_OK(ccz_buf_append(&r, body, len));
    for (size_t off = 0; off < r.len;) {
        ssize_t n = send(fd, r.ptr + off, r.len - off, MSG_NOSIGNAL);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    ccz_buf_free(&r);
    ccz_buf_free(&enc);
}

static void serve_one(int fd)
{
    char req[8192] = "";
    size_t got = 0;
    while (got < sizeof req - 1 && !strstr(req, "\r\n\r\n")) {
        ssize_t n = recv(fd, req + got, sizeof req - 1 - got, 0);
        if (n <= 0)
            return;
        got += (size_t)n;
        req[got] = '\0';
    }
    if (pccs.sc.slow_ms)
        usleep((useconds_t)pccs.sc.slow_ms * 1000);
    char path[1024] = "";
    sscanf(req, "GET %1023s", path);
    size_t used = strlen(pccs.log);
    snprintf(pccs.log + used, sizeof pccs.log - used, "%s\n", path);
    bool moved = strncmp(path, "/moved/", 7) == 0; /* served as the path after /moved */
    if (moved)
        memmove(path, path + 6, strlen(path + 6) + 1);
    const scenario *sc = &pccs.sc;
    ccz_buf chain = CCZ_BUF_INIT, body = CCZ_BUF_INIT;
    if (strncmp(path, "/sgx/certification/v4/pckcrl", 28) == 0) {
        const char *h = sc->pck_chain;
        if (!h) {
            pct_encode(&chain, piece("pck_crl_issuer_chain"));
            h = (const char *)chain.ptr;
        }
        reply(fd, 200, "SGX-PCK-CRL-Issuer-Chain", h, NULL, piece("pck_crl"),
              strlen(piece("pck_crl")));
    } else if (strncmp(path, "/sgx/certification/v4/tcb?", 26) == 0) {
        const char *h = sc->tcb_chain;
        if (!h) {
            pct_encode(&chain, piece("tcb_info_issuer_chain"));
            h = (const char *)chain.ptr;
        }
        if (sc->tcb_stall) {
            for (int i = 0; i < 80 && !pccs.stop; i++)
                usleep(50000);
        } else if (sc->tcb_loop) {
            reply(fd, 302, "Location", path, NULL, "", 0);
        } else if (sc->tcb_moved && !moved) {
            char to[1100];
            snprintf(to, sizeof to, "/moved%s", path);
            reply(fd, 302, "Location", to, "TCB-Info-Issuer-Chain: %zz\r\n", "", 0);
        } else {
            if (sc->tcb_body)
                CHECK_OK(ccz_buf_append_str(&body, sc->tcb_body));
            else
                CHECK_OK(ccz_buf_printf(&body, "{\"tcbInfo\":%s,\"signature\":\"%s\"}",
                                        piece("tcb_info"), piece("tcb_info_signature")));
            reply(fd, sc->tcb_status ? sc->tcb_status : 200, "TCB-Info-Issuer-Chain", h,
                  "Content-Type: application/json\r\n", (const char *)body.ptr, body.len);
        }
    } else if (strcmp(path, "/sgx/certification/v4/qe/identity") == 0) {
        pct_encode(&chain, piece("qe_identity_issuer_chain"));
        CHECK_OK(ccz_buf_printf(&body, "{\"enclaveIdentity\":%s,\"signature\":\"%s\"}",
                                piece("qe_identity"), piece("qe_identity_signature")));
        reply(fd, 200, "SGX-Enclave-Identity-Issuer-Chain", (const char *)chain.ptr, NULL,
              (const char *)body.ptr, body.len);
    } else if (strcmp(path, "/sgx/certification/v4/rootcacrl") == 0 && !sc->no_root_crl) {
        reply(fd, 200, NULL, NULL, NULL, piece("root_ca_crl"), strlen(piece("root_ca_crl")));
    } else {
        reply(fd, 404, NULL, NULL, NULL, "", 0);
    }
    ccz_buf_free(&chain);
    ccz_buf_free(&body);
}

static void *pccs_main(void *arg)
{
    (void)arg;
    while (!pccs.stop) {
        struct pollfd p = {pccs.fd, POLLIN, 0};
        if (poll(&p, 1, 50) != 1)
            continue;
        int c = accept(pccs.fd, NULL, NULL);
        if (c < 0)
            continue;
        serve_one(c);
        close(c);
    }
    return NULL;
}

static ccz_buf quote = CCZ_BUF_INIT;
static forge *fg;

static void pccs_start(void)
{
    if (!fg) {
        fg = forge_new();
        forge_quote_opts qo;
        forge_quote_defaults(&qo);
        CHECK_OK(forge_quote(fg, &quote, &qo));
        uint8_t five[16];
        memset(five, 5, sizeof five);
        json_t *levels = json_array();
        json_array_append_new(levels, forge_tcb_level(five, 10, NULL, "UpToDate", NULL));
        char *ti = forge_dump(forge_tcb_info(false, levels, NULL));
        levels = json_array();
        json_array_append_new(levels, forge_isv_level(8, "UpToDate", NULL));
        char *qe = forge_dump(forge_qe_identity(false, levels));
        forge_collateral_opts co = {ti, qe, 1735689600, 2051222400, false, false};
        ccz_buf text = CCZ_BUF_INIT;
        CHECK_OK(forge_collateral(fg, &text, &co));
        pccs.coll = json_loadb((const char *)text.ptr, text.len, 0, NULL);
        CHECK(pccs.coll);
        ccz_buf_free(&text);
        free(ti);
        free(qe);
    }
    pccs.fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    CHECK(bind(pccs.fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(pccs.fd, 16) == 0 &&
          getsockname(pccs.fd, (struct sockaddr *)&a, &al) == 0);
    pccs.port = ntohs(a.sin_port);
    pccs.stop = 0;
    pccs.log[0] = '\0';
    test_thread(&pccs.thread, pccs_main, NULL);
}

static void pccs_stop(void)
{
    pccs.stop = 1;
    pthread_join(pccs.thread, NULL);
    close(pccs.fd);
}

static const char *base_suffix = ""; /* after http://127.0.0.1:PORT in the base URL */
static const ccz_buf *fetch_quote = &quote;
static const char *fetch_cache_dir; /* NULL: no cache */

/* Fetches from the PCCS playing sc; the status, with the detail in detail. */
static ccz_status fetch_from(const scenario *sc, ccz_buf *out, char detail[1024])
{
    pccs.sc = *sc;
    pccs_start();
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", pccs.port, base_suffix);
    ccz_collateral_fetch_opts o = CCZ_COLLATERAL_FETCH_OPTS_INIT;
    o.base_url = url;
    o.timeout_seconds = 2;
    o.cache_dir = fetch_cache_dir;
    bool cached = true;
    ccz_status s = ccz_collateral_fetch(out, &cached, ccz_buf_span(fetch_quote), &o);
    snprintf(detail, 1024, "%s", s ? ccz_error_detail() : "");
    CHECK(!cached);
    pccs_stop();
    return s;
}

static ccz_status fetch_fails(const scenario *sc, char detail[1024])
{
    ccz_buf out = CCZ_BUF_INIT;
    ccz_status s = fetch_from(sc, &out, detail);
    CHECK_INT(out.len, 0); /* nothing of a failed fetch is handed out */
    ccz_buf_free(&out);
    return s;
}

/* The PCCS's pieces come back as the document they were cut from: the percent-encoded chains
 * decoded (the PEM's last line break, "%0A", ends each header). */
static void test_fetch_pieces(void)
{
    char d[1024];
    ccz_buf out = CCZ_BUF_INIT;
    scenario sc = {0};
    CHECK_OK(fetch_from(&sc, &out, d));
    json_t *got = json_loadb((const char *)out.ptr, out.len, 0, NULL);
    CHECK(got);
    static const char *const keys[] = {
        "pck_crl_issuer_chain",     "root_ca_crl", "pck_crl",
        "tcb_info_issuer_chain",    "tcb_info",    "tcb_info_signature",
        "qe_identity_issuer_chain", "qe_identity", "qe_identity_signature"};
    for (size_t i = 0; got && i < sizeof keys / sizeof keys[0]; i++) {
        const char *g = json_string_value(json_object_get(got, keys[i]));
        if (!g || strcmp(g, piece(keys[i])) != 0) {
            fprintf(stderr, "%s: %s differs from the served one\n", test_name, keys[i]);
            test_failures++;
        }
    }
    json_decref(got);
    ccz_buf_free(&out);
}

/* What is asked for: the PCK CRL of the PCK certificate's CA, as DER; the TCB info of its
 * FMSPC and the QE identity, of SGX or TDX by the quote; the root CA CRL. A base URL may end
 * in a slash or in the API's own path. */
static void test_fetch_requests(void)
{
    char d[1024];
    ccz_buf out = CCZ_BUF_INIT;
    scenario sc = {0};
    static const char *const bases[] = {"", "/", "/sgx/certification/v4/", "/tdx/certification/v4"};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(bases); i++) {
        base_suffix = bases[i];
        ccz_buf_reset(&out);
        CHECK_OK(fetch_from(&sc, &out, d));
        CHECK_STR(pccs.log, "/sgx/certification/v4/pckcrl?ca=processor&encoding=der\n"
                            "/sgx/certification/v4/tcb?fmspc=00906ED50000\n"
                            "/sgx/certification/v4/qe/identity\n"
                            "/sgx/certification/v4/rootcacrl\n");
    }
    base_suffix = "";
    /* a PCK certificate of the Platform CA: its CRL (the answer is the test's one CRL) */
    forge *pf = forge_new_platform();
    forge_quote_opts qo;
    forge_quote_defaults(&qo);
    ccz_buf q = CCZ_BUF_INIT;
    CHECK_OK(forge_quote(pf, &q, &qo));
    fetch_quote = &q;
    ccz_buf_reset(&out);
    CHECK_OK(fetch_from(&sc, &out, d));
    CHECK_CONTAINS(pccs.log, "/sgx/certification/v4/pckcrl?ca=platform&encoding=der\n");
    /* a TD's quote: TDX's TCB info (which this PCCS does not serve) */
    qo.tdx = true;
    qo.version = 4;
    ccz_buf_reset(&q);
    CHECK_OK(forge_quote(fg, &q, &qo));
    CHECK_STATUS(fetch_fails(&sc, d), CCZ_ERR_NOT_FOUND);
    CHECK_CONTAINS(d, "/tdx/certification/v4/tcb?fmspc=00906ED50000: HTTP status 404");
    fetch_quote = &quote;
    /* the cache keeps SGX's and TDX's collateral of one FMSPC apart */
    char dir[700];
    snprintf(dir, sizeof dir, "%s/fetch-cache", test_tmpdir());
    fetch_cache_dir = dir;
    ccz_buf_reset(&out);
    CHECK_OK(fetch_from(&sc, &out, d));
    fetch_cache_dir = NULL;
    ccz_collateral_fetch_opts o = CCZ_COLLATERAL_FETCH_OPTS_INIT;
    o.base_url = "http://127.0.0.1:1"; /* nothing listens: only the cache can answer */
    o.cache_dir = dir;
    o.timeout_seconds = 2;
    bool cached = false;
    ccz_buf_reset(&out);
    CHECK_OK(ccz_collateral_fetch(&out, &cached, ccz_buf_span(&quote), &o));
    CHECK(cached);
    ccz_buf_reset(&out);
    CHECK_STATUS(ccz_collateral_fetch(&out, &cached, ccz_buf_span(&q), &o), CCZ_ERR_NETWORK);
    CHECK(!cached);
    /* and a Platform CA's PCK certificate's apart from a Processor CA's (another PCK CRL) */
    forge_quote_opts po;
    forge_quote_defaults(&po);
    ccz_buf_reset(&q);
    CHECK_OK(forge_quote(pf, &q, &po));
    ccz_buf_reset(&out);
    CHECK_STATUS(ccz_collateral_fetch(&out, &cached, ccz_buf_span(&q), &o), CCZ_ERR_NETWORK);
    CHECK(!cached);
    CHECK_INT(out.len, 0);
    ccz_buf_free(&q);
    ccz_buf_free(&out);
    forge_free(pf);
}

/* A redirected request's issuer chain is the final answer's, the one sent with the body: not
 * a header of the redirect (here a chain that is not even percent-encoded). */
static void test_fetch_chain_of_final_answer(void)
{
    char d[1024];
    ccz_buf out = CCZ_BUF_INIT;
    scenario sc = {0};
    sc.tcb_moved = true;
    CHECK_OK(fetch_from(&sc, &out, d));
    CHECK_STR(d, "");
    json_t *got = json_loadb((const char *)out.ptr, out.len, 0, NULL);
    CHECK_STR(json_string_value(json_object_get(got, "tcb_info_issuer_chain")),
              piece("tcb_info_issuer_chain"));
    json_decref(got);
    ccz_buf_free(&out);
}

/* Issuer-chain headers that are not percent-encoded PEM text */
static void test_fetch_bad_chain_headers(void)
{
    char d[1024];
    scenario sc = {0};
    static const char *const bad[] = {"%4", "%", "abc%4", "%zz%41", "%G0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sc.pck_chain = bad[i];
        CHECK_STATUS(fetch_fails(&sc, d), CCZ_ERR_MALFORMED);
        CHECK_STR(d, "SGX-PCK-CRL-Issuer-Chain: bad percent-encoding");
    }
    /* a NUL byte would cut the chain short where it is kept as text */
    ccz_buf h = CCZ_BUF_INIT;
    pct_encode(&h, piece("pck_crl_issuer_chain"));
    CHECK_OK(ccz_buf_append_str(&h, "%00junk"));
    sc.pck_chain = (const char *)h.ptr;
    CHECK_STATUS(fetch_fails(&sc, d), CCZ_ERR_MALFORMED);
    CHECK_STR(d, "SGX-PCK-CRL-Issuer-Chain: a NUL byte in the issuer chain");
    /* bytes that are not UTF-8 */
    ccz_buf_reset(&h);
    pct_encode(&h, piece("pck_crl_issuer_chain"));
    CHECK_OK(ccz_buf_append_str(&h, "%FF"));
    sc.pck_chain = (const char *)h.ptr;
    CHECK_STATUS(fetch_fails(&sc, d), CCZ_ERR_MALFORMED);
    CHECK_STR(d, "a response holds text that is not UTF-8");
    ccz_buf_free(&h);
    /* the TCB info without its chain */
    sc = (scenario){0};
    sc.tcb_chain = "";
    CHECK_STATUS(fetch_fails(&sc, d), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(d, "/sgx/certification/v4/tcb?fmspc=00906ED50000: no TCB-Info-Issuer-Chain "
                      "header with the issuer chain");
}

/* TCB info answers that are not a signed TCB info, or no answer */
static void test_fetch_bad_tcb_answers(void)
{
    char d[1024];
    scenario sc = {0};
    sc.tcb_body = "{\"tcbInfo\":{\"id\":\"SGX\"}}";
    CHECK_STATUS(fetch_fails(&sc, d), CCZ_ERR_MALFORMED);
    CHECK_STR(d, "tcbInfo response has no signature");
    sc.tcb_body = "{\"tcbInfo\":{\"id\":\"SGX\"},\"signature\":7}";
    CHECK_STATUS(fetch_fails(&sc, d), CCZ_ERR_MALFORMED);
    CHECK_STR(d, "tcbInfo response has no signature");
    sc.tcb_body = "{\"signature\":\"00\"}";
    CHECK_STATUS(fetch_fails(&sc, d), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(d, "tcbInfo response");
    sc = (scenario){0};
    sc.tcb_status = 503;
    CHECK_STATUS(fetch_fails(&sc, d), CCZ_ERR_NETWORK);
    CHECK_CONTAINS(d, "/sgx/certification/v4/tcb?fmspc=00906ED50000: HTTP status 503");
    sc.tcb_status = 404;
    CHECK_STATUS(fetch_fails(&sc, d), CCZ_ERR_NOT_FOUND);
    CHECK_CONTAINS(d, "HTTP status 404");
    sc.tcb_status = 0;
    sc.tcb_loop = true; /* redirects end after 3 */
    CHECK_STATUS(fetch_fails(&sc, d), CCZ_ERR_NETWORK);
    CHECK_CONTAINS(d, "redirects");
    sc.tcb_loop = false;
    sc.tcb_stall = true; /* the per-request timeout (2 s here) ends a server that says nothing */
    time_t t0 = time(NULL);
    CHECK_STATUS(fetch_fails(&sc, d), CCZ_ERR_NETWORK);
    CHECK_CONTAINS(d, "/sgx/certification/v4/tcb?fmspc=00906ED50000");
    CHECK_CONTAINS(d, "timed out");
    CHECK(time(NULL) - t0 <= 4);
    /* the timeout (2 s) is the whole fetch's: four answers of 0.9 s each, every one within it,
     * end at the third request, about 2 s in, not at 3.6 s with the collateral */
    sc.tcb_stall = false;
    sc.slow_ms = 900;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    CHECK_STATUS(fetch_fails(&sc, d), CCZ_ERR_NETWORK);
    clock_gettime(CLOCK_MONOTONIC, &b);
    long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    CHECK_CONTAINS(d, "/sgx/certification/v4/qe/identity");
    CHECK_CONTAINS(d, "timed out");
    if (ms < 1800 || ms > 3000) {
        fprintf(stderr, "%s: the fetch ended after %ld ms, expected about 2000\n", test_name, ms);
        test_failures++;
    }
}

/* A server that serves no root CA CRL does not choose the URL fetched instead: the CRL
 * distribution point is followed only from the built-in Intel SGX Root CA, not from a root of
 * the server's own (the chain is not verified yet). The forge's root names Intel's URL, so the
 * refusal comes before any request. */
static void test_root_crl_fallback_own_root(void)
{
    char d[1024];
    forge *f = forge_new();
    ccz_buf h = CCZ_BUF_INIT;
    pct_encode(&h, (const char *)forge_root_pem(f).ptr);
    scenario sc = {.tcb_chain = (const char *)h.ptr, .no_root_crl = true};
    CHECK_STATUS(fetch_fails(&sc, d), CCZ_ERR_CERT_CHAIN);
    CHECK_CONTAINS(d, "serves no root CA CRL, and the TCB info's issuer chain does not end in "
                      "the Intel SGX Root CA");
    ccz_buf_free(&h);
    forge_free(f);
}

/* A base URL too long for the fetchers' URL buffers is refused, not cut short unseen (the
 * requests would go elsewhere): DCAP collateral, SNP's VCEK and CSV's HSK/CEK. */
static void test_long_base_urls(void)
{
    char url[TEE_URL_BASE_MAX + 2];
    memset(url, 'a', sizeof url - 1);
    memcpy(url, "https://", 8);
    url[sizeof url - 1] = '\0'; /* one character over */
    ccz_buf out = CCZ_BUF_INIT;
    bool cached = true;
    ccz_collateral_fetch_opts d = CCZ_COLLATERAL_FETCH_OPTS_INIT;
    d.base_url = url;
    CHECK_STATUS(ccz_collateral_fetch(&out, &cached, ccz_buf_span(&quote), &d),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "the base URL is 401 characters; at most 400");
    ccz_snp_vcek_fetch_opts s = CCZ_SNP_VCEK_FETCH_OPTS_INIT;
    s.kds_url = url;
    CHECK_STATUS(ccz_snp_vcek_fetch(&out, &cached, CCZ_SPAN("x", 1), &s), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "the KDS URL is 401 characters; at most 400");
    ccz_csv_fetch_opts c = CCZ_CSV_FETCH_OPTS_INIT;
    c.kds_url = url;
    CHECK_STATUS(ccz_csv_hsk_cek_fetch(&out, &cached, CCZ_SPAN("x", 1), &c),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "the KDS URL is 401 characters; at most 400");
    CHECK_INT(out.len, 0);
}

/* Options of another version than this header's are refused before anything is asked: the
 * PCCS, which answers the same options at the right version, sees no request. SNP's and CSV's
 * fetchers alike. */
static void test_fetch_opts_versions(void)
{
    scenario sc = {0};
    pccs.sc = sc;
    pccs_start();
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", pccs.port);
    ccz_buf out = CCZ_BUF_INIT;
    bool cached = true;
    ccz_collateral_fetch_opts o = CCZ_COLLATERAL_FETCH_OPTS_INIT;
    o.base_url = url;
    o.timeout_seconds = 2;
    for (unsigned v = 0; v <= CCZ_COLLATERAL_FETCH_OPTS_VERSION + 1; v += 2) {
        o.version = v;
        CHECK_STATUS(ccz_collateral_fetch(&out, &cached, ccz_buf_span(&quote), &o),
                     CCZ_ERR_INVALID_ARGUMENT);
        CHECK_STR(ccz_error_detail(),
                  "fetch options missing, of the wrong version or without a base URL");
    }
    CHECK_INT(out.len, 0);
    CHECK_STR(pccs.log, "");
    o.version = CCZ_COLLATERAL_FETCH_OPTS_VERSION;
    CHECK_OK(ccz_collateral_fetch(&out, &cached, ccz_buf_span(&quote), &o));
    CHECK(out.len > 0);
    pccs_stop();
    ccz_buf_free(&out);
    ccz_snp_vcek_fetch_opts s = CCZ_SNP_VCEK_FETCH_OPTS_INIT;
    s.kds_url = "https://127.0.0.1:9";
    s.version = 0;
    CHECK_STATUS(ccz_snp_vcek_fetch(&out, &cached, CCZ_SPAN("x", 1), &s), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(),
              "fetch options missing, of the wrong version or without a KDS URL");
    ccz_csv_fetch_opts c = CCZ_CSV_FETCH_OPTS_INIT;
    c.kds_url = "https://127.0.0.1:9";
    c.version = 0;
    CHECK_STATUS(ccz_csv_hsk_cek_fetch(&out, &cached, CCZ_SPAN("x", 1), &c),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(),
              "fetch options missing, of the wrong version or without a KDS URL");
    CHECK_INT(out.len, 0);
}

/* A redirect never takes an https request to http: an https collateral server's 302 to an
 * http address is not followed (libcurl refuses the protocol), where an http server's is. */
static void test_no_redirect_to_http(void)
{
    tls_fake f = {.mode = TLS_FAKE_ANSWER,
                  .answer = "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:9/crl\r\n"
                            "Content-Length: 0\r\n\r\n",
                  .request_whole = tls_fake_http_whole};
    tls_fake_start(&f);
    char url[128];
    snprintf(url, sizeof url, "https://%s/sgx/certification/v4/rootcacrl", f.addr);
    tee_http_opts o = {tls_certs_get()->ca_file, false, 5, 0};
    tee_http_response r;
    tee_http_response_init(&r, NULL);
    CHECK_STATUS(tee_http_get(&r, url, &o), CCZ_ERR_NETWORK);
    CHECK_CONTAINS(ccz_error_detail(), "http");
    CHECK(strstr(ccz_error_detail(), "Couldn't connect") == NULL); /* it never tried */
    CHECK(strstr(ccz_error_detail(), "127.0.0.1:9") == NULL);
    tee_http_response_free(&r);
    tls_fake_stop(&f);
}

TEST_MAIN(T(test_every_encoding_whatever_the_last_byte), T(test_not_a_crl), T(test_fetch_pieces),
          T(test_fetch_requests), T(test_fetch_bad_chain_headers),
          T(test_fetch_chain_of_final_answer), T(test_fetch_bad_tcb_answers),
          T(test_no_redirect_to_http), T(test_root_crl_fallback_own_root), T(test_long_base_urls),
          T(test_fetch_opts_versions))
