/* SPDX-License-Identifier: Apache-2.0 */
/* The encrypted LR inference service over gRPC (plaintext h2c on loopback; RA-TLS is the RPC
 * layer's and tests/cli/test_he_lr_cli.sh's): CCZoo's 2,000 samples scored by the client
 * library with the secure preset (every class as the cleartext polynomial's, accuracy 0.944);
 * then hostile calls, each answered with its gRPC status and a message naming the fault: SEAL's
 * serialization, garbage, BFV, too short a chain, the toolkit's chain at a server that takes
 * only 128-bit-secure parameters, a wrong security level or scale, keys of another context,
 * truncated keys, Infer before InitCtx, wrong counts, truncated, oversized and foreign
 * ciphertexts; the server still answers a whole inference after them. The queue's bound, exact
 * with the workers held inside their jobs (tests/support/rng_fail.h): four calls wait for one
 * worker, eight for the default two, and the next is refused; the default of 16 contexts; the
 * service's end freeing a job still live; jobs whose client's deadline passed, or whose client
 * went away, while they waited dropped, not evaluated. A server started with allow_insecure_params scores
 * the toolkit's chain the same. */
#include <libgen.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ccz/he_lr.h"
#include "h2_client.h"
#include "he_lr.pb-c.h"
#include "rng_fail.h"
#include "rpc_fixture.h"
#include "test.h"

static char data_dir[1024];
static FILE *service_log; /* the next server's log (NULL: stderr) */

static const char *shared_data(void)
{
    const char *env = getenv("CCZ_DATA"), *vec = getenv("CCZ_VECTORS"),
               *src = getenv("CCZ_SOURCE_DIR");
    if (env && env[0]) {
        snprintf(data_dir, sizeof data_dir, "%s", env);
    } else if (vec && vec[0]) {
        char tmp[1024];
        snprintf(tmp, sizeof tmp, "%s", vec);
        snprintf(data_dir, sizeof data_dir, "%s/data", dirname(tmp));
    } else {
        snprintf(data_dir, sizeof data_dir, "%s/../shared/data", src && src[0] ? src : ".");
    }
    return data_dir;
}

static ccz_he_lr_model model;
static ccz_he_lr_data data;
static double *clear;

static void load(void)
{
    char mp[1200], dp[1200];
    snprintf(mp, sizeof mp, "%s/cczoo/lr_infer_he_sgx/datasets/lrtest_mid_lrmodel.csv",
             shared_data());
    snprintf(dp, sizeof dp, "%s/cczoo/lr_infer_he_sgx/datasets/lrtest_mid_eval.csv", shared_data());
    if (!ccz_file_exists(mp) || !ccz_file_exists(dp))
        test_skip(false, "CCZoo's LR data set is absent at %s (set CCZ_DATA)", dp);
    CHECK_OK(ccz_he_lr_model_load(&model, mp));
    CHECK_OK(ccz_he_lr_data_load(&data, dp));
    clear = calloc(data.rows, sizeof *clear);
    CHECK_OK(ccz_he_lr_predict(clear, &model, &data));
}

/* ---- a server on a thread ----------------------------------------------------------------------*/

typedef struct {
    ccz_rpc_server *rpc;
    ccz_he_lr_service *svc;
    pthread_t thread;
    char target[64];
} server;

static void server_start_opts(server *s, const ccz_he_lr_model *m, bool insecure, unsigned workers,
                              unsigned max_contexts)
{
    ccz_rpc_server_opts so = CCZ_RPC_SERVER_OPTS_INIT;
    so.max_message = CCZ_HE_LR_MAX_MESSAGE;
    CHECK_OK(ccz_rpc_server_new(&s->rpc, &so));
    ccz_he_lr_service_opts o = CCZ_HE_LR_SERVICE_OPTS_INIT;
    o.model = m;
    o.allow_insecure_params = insecure;
    o.max_contexts = max_contexts;
    o.workers = workers;
    o.log = service_log ? service_log : stderr;
    CHECK_OK(ccz_he_lr_service_new(&s->svc, s->rpc, &o));
    rpc_serve(s->rpc, &s->thread, s->target);
}

static void server_start_workers(server *s, const ccz_he_lr_model *m, bool insecure,
                                 unsigned workers)
{
    server_start_opts(s, m, insecure, workers, 4);
}

static void server_start(server *s, const ccz_he_lr_model *m, bool insecure)
{
    server_start_workers(s, m, insecure, 0);
}

static void server_stop(server *s)
{
    rpc_serve_stop(s->rpc, s->thread, 1000);
    ccz_he_lr_service_free(s->svc);
    ccz_rpc_server_free(s->rpc);
}

static ccz_rpc_channel *channel(const server *s)
{
    ccz_rpc_channel_opts co = CCZ_RPC_CHANNEL_OPTS_INIT;
    co.max_message = CCZ_HE_LR_MAX_MESSAGE;
    ccz_rpc_channel *ch = NULL;
    CHECK_OK(ccz_rpc_channel_new(&ch, s->target, &co));
    return ch;
}

/* A whole inference of CCZoo's data: every class as the cleartext polynomial's. */
static void score(const server *s, ccz_he_lr_preset preset)
{
    ccz_rpc_channel *ch = channel(s);
    ccz_he_lr_infer_opts o = CCZ_HE_LR_INFER_OPTS_INIT;
    o.preset = preset;
    o.deadline_ms = 60000;
    ccz_he_lr_infer_result r;
    CHECK_OK(ccz_he_lr_infer(ch, &o, &data, &r));
    CHECK_INT(r.code, CCZ_RPC_OK);
    if (r.code)
        fprintf(stderr, "%s: %s\n", r.method, r.message);
    CHECK_INT(r.rows, data.rows);
    CHECK_INT(r.level, CCZ_HE_LR_LEVEL);
    size_t differ = 0;
    double worst = 0;
    for (size_t i = 0; r.p && i < r.rows; i++) {
        differ += (r.p[i] >= 0.5) != (clear[i] >= 0.5);
        worst = fmax(worst, fabs(r.p[i] - clear[i]));
    }
    CHECK_INT(differ, 0);
    CHECK(worst < 1e-5);
    char acc[16];
    snprintf(acc, sizeof acc, "%.3f", r.p ? ccz_he_lr_accuracy(r.p, &data) : 0.0);
    CHECK_STR(acc, "0.944");
    CHECK_CONTAINS(r.server_times, "eval=");
    printf("%s: pk %zu B, rlk %zu B, data %zu B, result %zu B; encrypt %.2f s, infer %.2f s "
           "(%s), decrypt %.3f s; largest error %.1e\n",
           preset == CCZ_HE_LR_SECURE ? "secure" : "toolkit", r.pk_bytes, r.rlk_bytes, r.data_bytes,
           r.result_bytes, r.encrypt_s, r.infer_s, r.server_times, r.decrypt_s, worst);
    ccz_he_lr_infer_result_free(&r);
    ccz_rpc_channel_free(ch);
}

/* ---- raw calls ---------------------------------------------------------------------------------*/

typedef struct {
    ccz_lattice_context *ctx;
    ccz_lattice_secret_key *sk;
    ccz_lattice_public_key *pk;
    ccz_lattice_relin_keys *rk;
    ccz_buf params, pkb, rkb;
} keys;

static void keys_new(keys *k, const ccz_lattice_params *p)
{
    memset(k, 0, sizeof *k);
    CHECK_OK(ccz_lattice_context_new(&k->ctx, p));
    CHECK_OK(ccz_lattice_keygen(&k->sk, &k->pk, k->ctx));
    CHECK_OK(ccz_lattice_relin_keygen(&k->rk, k->ctx, k->sk));
    CHECK_OK(ccz_lattice_params_save(&k->params, k->ctx));
    CHECK_OK(ccz_lattice_public_key_save(&k->pkb, k->pk));
    CHECK_OK(ccz_lattice_relin_keys_save(&k->rkb, k->rk));
}

static void keys_free(keys *k)
{
    ccz_buf_free(&k->params);
    ccz_buf_free(&k->pkb);
    ccz_buf_free(&k->rkb);
    ccz_lattice_relin_keys_free(k->rk);
    ccz_lattice_public_key_free(k->pk);
    ccz_lattice_secret_key_free(k->sk);
    ccz_lattice_context_free(k->ctx);
}

static ProtobufCBinaryData bin(const ccz_buf *b)
{
    return (ProtobufCBinaryData){b->len, b->ptr};
}

/* A unary call; its status code, its message in msg. */
/* One call: its status code, its message in msg; the reply in *kept when kept is given (NULL:
 * none came), else freed. */
static int call_kept(ccz_rpc_channel *ch, const char *method, const ProtobufCMessage *req,
                     const ProtobufCMessageDescriptor *out, char *msg, size_t cap,
                     ProtobufCMessage **kept)
{
    char path[64];
    snprintf(path, sizeof path, "/inference.Inference/%s", method);
    ccz_rpc_call_opts o = {CCZ_RPC_CALL_OPTS_VERSION, 60000, NULL};
    ccz_rpc_status st;
    ProtobufCMessage *resp = NULL;
    CHECK_OK(ccz_rpc_unary(ch, &resp, &st, path, req, out, &o));
    snprintf(msg, cap, "%s", st.message);
    int code = st.code;
    ccz_rpc_status_free(&st);
    if (kept)
        *kept = resp;
    else if (resp)
        protobuf_c_message_free_unpacked(resp, NULL);
    return code;
}

static int call(ccz_rpc_channel *ch, const char *method, const ProtobufCMessage *req,
                const ProtobufCMessageDescriptor *out, char *msg, size_t cap)
{
    return call_kept(ch, method, req, out, msg, cap, NULL);
}

static int init_ctx(ccz_rpc_channel *ch, ccz_span params, ccz_span pk, ccz_span rk, int level,
                    double scale, char *msg, size_t cap)
{
    Inference__InitCtxRequest r = INFERENCE__INIT_CTX_REQUEST__INIT;
    r.params = (ProtobufCBinaryData){params.len, (uint8_t *)params.ptr};
    r.pub_key = (ProtobufCBinaryData){pk.len, (uint8_t *)pk.ptr};
    r.relin_key = (ProtobufCBinaryData){rk.len, (uint8_t *)rk.ptr};
    r.security_level = level;
    r.scale = scale;
    return call(ch, "InitCtx", &r.base, &inference__init_ctx_reply__descriptor, msg, cap);
}

/* An Infer: its status code, its message in msg; with counts given, the reply's counts and
 * how many results it holds (-1 and 0: no reply). */
static int infer_counts(ccz_rpc_channel *ch, ccz_buf *cts, size_t n, int batches, int batch_size,
                        char *msg, size_t cap, int *counts, size_t *n_result)
{
    ProtobufCBinaryData *d = calloc(n ? n : 1, sizeof *d);
    for (size_t i = 0; i < n; i++)
        d[i] = bin(&cts[i]);
    Inference__InferRequest r = INFERENCE__INFER_REQUEST__INIT;
    r.n_data = n;
    r.data = d;
    r.batches = batches;
    r.batch_size = batch_size;
    ProtobufCMessage *resp = NULL;
    int code = call_kept(ch, "Infer", &r.base, &inference__infer_reply__descriptor, msg, cap,
                         counts ? &resp : NULL);
    if (counts) {
        const Inference__InferReply *ir = (const Inference__InferReply *)resp;
        *counts = ir ? ir->counts : -1;
        *n_result = ir ? ir->n_result : 0;
    }
    if (resp)
        protobuf_c_message_free_unpacked(resp, NULL);
    free(d);
    return code;
}

static int infer(ccz_rpc_channel *ch, ccz_buf *cts, size_t n, int batches, int batch_size,
                 char *msg, size_t cap)
{
    return infer_counts(ch, cts, n, batches, batch_size, msg, cap, NULL, NULL);
}

/* The hostile calls go to a server of a small model (the first SMALL weights of CCZoo's), so
 * that each Infer is a few ciphertexts, not 80. */
#define SMALL 12
static ccz_he_lr_model small;

static ccz_buf *encrypt_batch(const keys *k, size_t count)
{
    ccz_buf *cts = calloc(SMALL, sizeof *cts);
    double *v = calloc(count, sizeof *v);
    ccz_lattice_plaintext *pt;
    ccz_lattice_ciphertext *ct;
    CHECK_OK(ccz_lattice_plaintext_new(&pt, k->ctx));
    CHECK_OK(ccz_lattice_ciphertext_new(&ct, k->ctx));
    for (size_t f = 0; f < SMALL; f++) {
        for (size_t i = 0; i < count; i++)
            v[i] = data.x[i * data.features + f];
        CHECK_OK(ccz_lattice_ckks_encode_real(pt, k->ctx, v, count, 0x1p45, 4));
        CHECK_OK(ccz_lattice_encrypt_sk(ct, k->ctx, k->sk, pt));
        CHECK_OK(ccz_lattice_ciphertext_save(&cts[f], ct));
    }
    ccz_lattice_plaintext_free(pt);
    ccz_lattice_ciphertext_free(ct);
    free(v);
    return cts;
}

static void free_cts(ccz_buf *cts)
{
    for (size_t i = 0; i < SMALL; i++)
        ccz_buf_free(&cts[i]);
    free(cts);
}

#define EXPECT(code_expr, want_code, want_text)                                                    \
    do {                                                                                           \
        CHECK_INT((code_expr), (want_code));                                                       \
        CHECK_CONTAINS(msg, (want_text));                                                          \
    } while (0)

static void hostile_init(const server *s, const keys *k, const keys *tk)
{
    char msg[600];
    ccz_rpc_channel *ch = channel(s);
    ccz_span P = ccz_buf_span(&k->params), PK = ccz_buf_span(&k->pkb), RK = ccz_buf_span(&k->rkb);
    /* what CCZoo's client sends: SEAL's header (magic 0xA15E) */
    static const uint8_t seal[] = {0x5e, 0xa1, 0x03, 0x04, 0x02, 0x00, 0x10, 0x00,
                                   0x5b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    EXPECT(init_ctx(ch, CCZ_SPAN(seal, sizeof seal), PK, RK, 0, 0x1p45, msg, sizeof msg),
           CCZ_RPC_INVALID_ARGUMENT, "params: this is SEAL's serialization (CCZoo's client)");
    EXPECT(init_ctx(ch, CCZ_LIT("garbage"), PK, RK, 128, 0x1p45, msg, sizeof msg),
           CCZ_RPC_INVALID_ARGUMENT, "params: ");
    /* a second byte of SEAL's magic without its first, or a first byte alone: not SEAL's */
    EXPECT(init_ctx(ch, CCZ_LIT("\x01\xa1garbage"), PK, RK, 128, 0x1p45, msg, sizeof msg),
           CCZ_RPC_INVALID_ARGUMENT, "params: ");
    CHECK(strstr(msg, "SEAL") == NULL);
    EXPECT(init_ctx(ch, CCZ_LIT("\x5e"), PK, RK, 128, 0x1p45, msg, sizeof msg),
           CCZ_RPC_INVALID_ARGUMENT, "params: ");
    CHECK(strstr(msg, "SEAL") == NULL);
    /* BFV; the CKKS preset's 60,40,40,60 */
    ccz_lattice_params p;
    ccz_lattice_context *ctx;
    ccz_buf pb = CCZ_BUF_INIT;
    CHECK_OK(ccz_lattice_preset(&p, CCZ_LATTICE_BFV, 13));
    CHECK_OK(ccz_lattice_context_new(&ctx, &p));
    CHECK_OK(ccz_lattice_params_save(&pb, ctx));
    EXPECT(init_ctx(ch, ccz_buf_span(&pb), PK, RK, 128, 0, msg, sizeof msg),
           CCZ_RPC_INVALID_ARGUMENT,
           "params: BFV, N 8192, 5 primes: the inference takes CKKS at N 4096 to 16384");
    ccz_lattice_context_free(ctx);
    ccz_buf_reset(&pb);
    CHECK_OK(ccz_lattice_preset(&p, CCZ_LATTICE_CKKS, 13));
    CHECK_OK(ccz_lattice_context_new(&ctx, &p));
    CHECK_OK(ccz_lattice_params_save(&pb, ctx));
    EXPECT(init_ctx(ch, ccz_buf_span(&pb), PK, RK, 128, 0, msg, sizeof msg),
           CCZ_RPC_INVALID_ARGUMENT, "params: 3 data primes: the inference needs 4");
    ccz_lattice_context_free(ctx);
    ccz_buf_free(&pb);
    /* N 32768 (the header's log_n; the fingerprint covers the primes): too costly a context */
    ccz_buf big = CCZ_BUF_INIT;
    CHECK_OK(ccz_buf_append(&big, k->params.ptr, k->params.len));
    big.ptr[7] = 15;
    EXPECT(init_ctx(ch, ccz_buf_span(&big), PK, RK, 128, 0x1p45, msg, sizeof msg),
           CCZ_RPC_INVALID_ARGUMENT, "params: CKKS, N 32768, 5 primes: the inference takes CKKS");
    big.ptr[7] = 11; /* and N 2048: too small a ring for the table's security */
    EXPECT(init_ctx(ch, ccz_buf_span(&big), PK, RK, 128, 0x1p45, msg, sizeof msg),
           CCZ_RPC_INVALID_ARGUMENT, "params: CKKS, N 2048, 5 primes: the inference takes CKKS");
    /* N 4096 and N 16384, the range's ends: taken by the range, refused only further on */
    big.ptr[7] = 12;
    EXPECT(init_ctx(ch, ccz_buf_span(&big), PK, RK, 128, 0x1p45, msg, sizeof msg),
           CCZ_RPC_INVALID_ARGUMENT, "128-bit security at N = 4096 allows at most 109");
    ccz_buf_free(&big);
    CHECK_OK(ccz_he_lr_params(&p, CCZ_HE_LR_SECURE));
    p.log_n = 14;
    CHECK_OK(ccz_lattice_context_new(&ctx, &p));
    CHECK_OK(ccz_lattice_params_save(&big, ctx));
    ccz_lattice_context_free(ctx);
    EXPECT(init_ctx(ch, ccz_buf_span(&big), PK, RK, 128, 0x1p45, msg, sizeof msg),
           CCZ_RPC_INVALID_ARGUMENT, "pub_key: the public key was made with other parameters");
    ccz_buf_free(&big);
    /* nine primes (24 bits each, within the table): more than a context may cost */
    CHECK_OK(ccz_lattice_preset(&p, CCZ_LATTICE_CKKS, 13));
    p.n_primes = 9;
    for (unsigned i = 0; i < 9; i++)
        p.coeff_bits[i] = 24;
    p.scale = 0x1p20;
    CHECK_OK(ccz_lattice_context_new(&ctx, &p));
    CHECK_OK(ccz_lattice_params_save(&big, ctx));
    ccz_lattice_context_free(ctx);
    EXPECT(init_ctx(ch, ccz_buf_span(&big), PK, RK, 128, 0, msg, sizeof msg),
           CCZ_RPC_INVALID_ARGUMENT,
           "params: CKKS, N 8192, 9 primes: the inference takes CKKS at N 4096 to 16384 with at "
           "most 8 primes");
    ccz_buf_free(&big);
    /* eight, the most there may be: taken by their number, refused for the chain itself */
    p.n_primes = 8;
    CHECK_OK(ccz_lattice_context_new(&ctx, &p));
    CHECK_OK(ccz_lattice_params_save(&big, ctx));
    ccz_lattice_context_free(ctx);
    EXPECT(init_ctx(ch, ccz_buf_span(&big), PK, RK, 128, 0, msg, sizeof msg),
           CCZ_RPC_INVALID_ARGUMENT, "params: the first prime (24 bits) must exceed the scale");
    ccz_buf_free(&big);
    /* primes 1 and 2 at 43 bits (within 4 of the scale): the result would come back at 2^49,
     * where the first prime (50 bits) cannot hold the probabilities */
    CHECK_OK(ccz_he_lr_params(&p, CCZ_HE_LR_SECURE));
    p.coeff_bits[1] = p.coeff_bits[2] = 43;
    CHECK_OK(ccz_lattice_context_new(&ctx, &p));
    CHECK_OK(ccz_lattice_params_save(&big, ctx));
    ccz_lattice_context_free(ctx);
    EXPECT(init_ctx(ch, ccz_buf_span(&big), PK, RK, 128, 0x1p45, msg, sizeof msg),
           CCZ_RPC_INVALID_ARGUMENT,
           "params: the result comes back at scale 2^49.0 (the scale cubed over primes 1 and 2)");
    ccz_buf_free(&big);
    /* the toolkit's chain: beyond the table, refused both ways by this server */
    ccz_span TP = ccz_buf_span(&tk->params), TPK = ccz_buf_span(&tk->pkb),
             TRK = ccz_buf_span(&tk->rkb);
    EXPECT(init_ctx(ch, TP, TPK, TRK, 0, 0x1p45, msg, sizeof msg), CCZ_RPC_INVALID_ARGUMENT,
           "300 bits; 128-bit security at N = 8192 allows at most 218");
    CHECK_CONTAINS(msg, "this server takes only 128-bit-secure parameters");
    EXPECT(init_ctx(ch, TP, TPK, TRK, 128, 0x1p45, msg, sizeof msg), CCZ_RPC_INVALID_ARGUMENT,
           "300 bits");
    CHECK(strstr(msg, "--insecure-params") == NULL); /* the client asked for 128 bits */
    EXPECT(init_ctx(ch, P, PK, RK, 192, 0x1p45, msg, sizeof msg), CCZ_RPC_INVALID_ARGUMENT,
           "security_level 192: 128");
    EXPECT(init_ctx(ch, P, PK, RK, 128, 0x1p40, msg, sizeof msg), CCZ_RPC_INVALID_ARGUMENT,
           "scale 2^40.00 is not the parameters' (2^45.00)");
    EXPECT(init_ctx(ch, P, PK, RK, 128, -1, msg, sizeof msg), CCZ_RPC_INVALID_ARGUMENT,
           "scale -1 is not the parameters' (2^45.00)");
    EXPECT(init_ctx(ch, P, PK, RK, 128, NAN, msg, sizeof msg), CCZ_RPC_INVALID_ARGUMENT,
           "scale nan is not the parameters' (2^45.00)");
    /* keys of another context, missing, truncated */
    EXPECT(init_ctx(ch, P, TPK, RK, 128, 0x1p45, msg, sizeof msg), CCZ_RPC_INVALID_ARGUMENT,
           "pub_key: the public key was made with other parameters");
    EXPECT(init_ctx(ch, P, PK, TRK, 128, 0x1p45, msg, sizeof msg), CCZ_RPC_INVALID_ARGUMENT,
           "relin_key: the relinearization keys was made with other parameters");
    EXPECT(init_ctx(ch, P, CCZ_SPAN(NULL, 0), RK, 128, 0x1p45, msg, sizeof msg),
           CCZ_RPC_INVALID_ARGUMENT, "pub_key: empty");
    EXPECT(init_ctx(ch, P, PK, CCZ_SPAN(RK.ptr, RK.len - 1000), 128, 0x1p45, msg, sizeof msg),
           CCZ_RPC_INVALID_ARGUMENT, "relin_key: ");
    EXPECT(init_ctx(ch, P, PK, RK, 128, 0x1p45, msg, sizeof msg), CCZ_RPC_OK, "");
    ccz_rpc_channel_free(ch);
}

static void hostile_infer(const server *s, const keys *k, const keys *tk)
{
    char msg[600];
    const size_t F = SMALL;
    /* a connection without a context */
    ccz_rpc_channel *ch = channel(s);
    ccz_buf *cts = encrypt_batch(k, 300);
    EXPECT(infer(ch, cts, F, 1, (int)F, msg, sizeof msg), CCZ_RPC_FAILED_PRECONDITION,
           "no context on this connection: call InitCtx first");
    EXPECT(init_ctx(ch, ccz_buf_span(&k->params), ccz_buf_span(&k->pkb), ccz_buf_span(&k->rkb), 128,
                    0x1p45, msg, sizeof msg),
           CCZ_RPC_OK, "");
    /* counts */
    EXPECT(infer(ch, cts, F, 1, (int)F - 1, msg, sizeof msg), CCZ_RPC_INVALID_ARGUMENT,
           "the model has 12 features, so batch_size must be 12");
    EXPECT(infer(ch, cts, F - 1, 1, (int)F, msg, sizeof msg), CCZ_RPC_INVALID_ARGUMENT,
           "11 ciphertexts");
    EXPECT(infer(ch, cts, F, 0, (int)F, msg, sizeof msg), CCZ_RPC_INVALID_ARGUMENT, "batches 0");
    EXPECT(infer(ch, cts, 0, 0, (int)F, msg, sizeof msg), CCZ_RPC_INVALID_ARGUMENT,
           "batches 0, batch_size 12, 0 ciphertexts");
    EXPECT(infer(ch, cts, F, 2, (int)F, msg, sizeof msg), CCZ_RPC_INVALID_ARGUMENT,
           "batches x 12 ciphertexts");
    /* 65 batches of one-byte "ciphertexts": refused by their number before any is read */
    ccz_buf *many = calloc(65 * F, sizeof *many);
    for (size_t i = 0; i < 65 * F; i++)
        CHECK_OK(ccz_buf_append_u8(&many[i], 0));
    EXPECT(infer(ch, many, 65 * F, 65, (int)F, msg, sizeof msg), CCZ_RPC_INVALID_ARGUMENT,
           "batches 65, batch_size 12, 780 ciphertexts");
    CHECK_CONTAINS(msg, "(1 to 64 batches)");
    /* 64 batches, the most there may be: taken by their number, refused for their bytes */
    EXPECT(infer(ch, many, 64 * F, 64, (int)F, msg, sizeof msg), CCZ_RPC_INVALID_ARGUMENT,
           "batch 0: ciphertext 0: ");
    for (size_t i = 0; i < 65 * F; i++)
        ccz_buf_free(&many[i]);
    free(many);
    /* truncated, oversized, another context's ciphertext */
    cts[7].len -= 1;
    EXPECT(infer(ch, cts, F, 1, (int)F, msg, sizeof msg), CCZ_RPC_INVALID_ARGUMENT,
           "batch 0: ciphertext 7: the data ends early");
    cts[7].len += 1;
    size_t len8 = cts[8].len; /* twice its size */
    uint8_t *copy = malloc(len8);
    memcpy(copy, cts[8].ptr, len8);
    CHECK_OK(ccz_buf_append(&cts[8], copy, len8));
    free(copy);
    EXPECT(infer(ch, cts, F, 1, (int)F, msg, sizeof msg), CCZ_RPC_INVALID_ARGUMENT,
           "batch 0: ciphertext 8: ciphertext: ");
    CHECK_CONTAINS(msg, "bytes after the end");
    cts[8].len /= 2;
    ccz_buf *theirs = encrypt_batch(tk, 10);
    ccz_buf keep = cts[11];
    cts[11] = theirs[11];
    EXPECT(infer(ch, cts, F, 1, (int)F, msg, sizeof msg), CCZ_RPC_INVALID_ARGUMENT,
           "ciphertext 11: the ciphertext was made with other parameters");
    cts[11] = keep;
    free_cts(theirs);
    /* the server's own failure (its RNG, for the constant term's fresh encryption) is
     * INTERNAL: the client's batch was good */
    rng_fail_start();
    int code = infer(ch, cts, F, 1, (int)F, msg, sizeof msg);
    rng_fail_stop();
    CHECK_INT(code, CCZ_RPC_INTERNAL);
    CHECK_CONTAINS(msg, "batch 0: ");
    /* the same connection, the same server: a good batch */
    EXPECT(infer(ch, cts, F, 1, (int)F, msg, sizeof msg), CCZ_RPC_OK, "");
    /* two batches: each is its own ciphertexts (a bad one in the second is named there), and
     * the answer counts both */
    ccz_buf two[2 * SMALL];
    for (size_t i = 0; i < 2 * F; i++)
        two[i] = cts[i % F]; /* views: freed with cts */
    two[F + 7].len -= 1;
    EXPECT(infer(ch, two, 2 * F, 2, (int)F, msg, sizeof msg), CCZ_RPC_INVALID_ARGUMENT,
           "batch 1: ciphertext 7: the data ends early");
    two[F + 7].len += 1;
    int counts;
    size_t n_result;
    CHECK_INT(infer_counts(ch, two, 2 * F, 2, (int)F, msg, sizeof msg, &counts, &n_result),
              CCZ_RPC_OK);
    CHECK_INT(counts, 2);
    CHECK_INT(n_result, 2);
    free_cts(cts);
    ccz_rpc_channel_free(ch);
}

/* ---- a full queue ---------------------------------------------------------------------------*/

static sem_t held, release;

/* On the server's loop: holds it until the test lets go, so that the calls sent meanwhile
 * arrive together. */
static void hold_loop(void *arg)
{
    (void)arg;
    sem_post(&held);
    while (sem_wait(&release) != 0)
        ;
}

static void *let_go(void *arg)
{
    (void)arg;
    struct timespec t = {0, 300 * 1000000L};
    while (nanosleep(&t, &t) != 0)
        ;
    sem_post(&release);
    return NULL;
}

/* One worker and room for four calls to wait: twelve InitCtx calls that reach the loop at once
 * (each a context to build, refused then for its empty public key) leave the worker at most
 * five; the rest are refused RESOURCE_EXHAUSTED at once, and the server serves the connection
 * afterwards. Rounds repeat (at most ten) until one fills the queue. */
#define BURST 12
static void queue_full(const keys *k)
{
    server s;
    server_start_workers(&s, &small, false, 1);
    ccz_rpc_channel *ch = channel(&s);
    char msg[600];
    EXPECT(init_ctx(ch, ccz_buf_span(&k->params), CCZ_SPAN(NULL, 0), CCZ_SPAN(NULL, 0), 128, 0x1p45,
                    msg, sizeof msg),
           CCZ_RPC_INVALID_ARGUMENT, "pub_key: empty");
    CHECK(sem_init(&held, 0, 0) == 0 && sem_init(&release, 0, 0) == 0);
    Inference__InitCtxRequest r = INFERENCE__INIT_CTX_REQUEST__INIT;
    r.params = bin(&k->params);
    r.security_level = 128;
    r.scale = 0x1p45;
    unsigned busy = 0, rounds = 0;
    while (busy == 0 && rounds++ < 10) {
        CHECK_OK(ccz_rpc_server_defer(s.rpc, 0, hold_loop, NULL));
        while (sem_wait(&held) != 0)
            ;
        rpc_outcome out[BURST];
        ccz_rpc_stream *st;
        ccz_rpc_call_opts co = {CCZ_RPC_CALL_OPTS_VERSION, 60000, NULL};
        for (int i = 0; i < BURST; i++) {
            out[i].code = -2;
            CHECK_OK(ccz_rpc_start(ch, &st, "/inference.Inference/InitCtx", &r.base,
                                   &inference__init_ctx_reply__descriptor, &co, NULL,
                                   rpc_outcome_done, &out[i]));
        }
        /* the requests are on the wire when the loop is let go, 300 ms on */
        pthread_t t;
        test_thread(&t, let_go, NULL);
        CHECK_OK(ccz_rpc_channel_run(ch));
        pthread_join(t, NULL);
        unsigned refused = 0, ran = 0;
        for (int i = 0; i < BURST; i++) {
            if (out[i].code == CCZ_RPC_RESOURCE_EXHAUSTED) {
                CHECK_STR(out[i].message,
                          "the server is busy (4 calls wait for 1 worker): try again");
                refused++;
            } else {
                CHECK_INT(out[i].code, CCZ_RPC_INVALID_ARGUMENT);
                CHECK_CONTAINS(out[i].message, "pub_key: empty");
                ran++;
            }
        }
        CHECK(ran >= 4);
        printf("queue round %u: %u calls ran, %u refused as busy\n", rounds, ran, refused);
        busy = refused;
    }
    CHECK(busy > 0);
    /* and the connection is served */
    EXPECT(init_ctx(ch, ccz_buf_span(&k->params), ccz_buf_span(&k->pkb), ccz_buf_span(&k->rkb), 128,
                    0x1p45, msg, sizeof msg),
           CCZ_RPC_OK, "");
    sem_destroy(&held);
    sem_destroy(&release);
    ccz_rpc_channel_free(ch);
    server_stop(&s);
}

/* The queue's bound, exactly: each worker held inside an Infer on a connection of its own (at its
 * first draw from the RNG, the constant term's encryption), four InitCtx calls a worker wait
 * and the next is refused RESOURCE_EXHAUSTED at once, saying so, its refusal letting the workers
 * go (were it queued instead, its deadline of 3 s ends it, and lets them go). Then each waiting
 * call is answered (refused for its empty public key), and the Infers. workers 0: the default,
 * two. */
typedef struct {
    ccz_rpc_channel *ch;
    ccz_buf *cts;
    int code;
    char msg[600];
} held_infer;

static void *held_infer_run(void *arg)
{
    held_infer *h = arg;
    h->code = infer(h->ch, h->cts, SMALL, 1, SMALL, h->msg, sizeof h->msg);
    return NULL;
}

static unsigned held_workers;

static void let_workers_go(const ccz_rpc_status *st, void *payload)
{
    rpc_outcome_done(st, payload);
    for (unsigned i = 0; i < held_workers; i++)
        rng_hold_release();
}

#define WAITING 4
static void queue_bound(const keys *k, unsigned workers, const char *busy)
{
    enum { MAX_HELD = 2 };
    server s;
    server_start_workers(&s, &small, false, workers);
    held_workers = workers ? workers : 2;
    const unsigned waiting = WAITING * held_workers;
    held_infer h[MAX_HELD];
    pthread_t t[MAX_HELD];
    char msg[600];
    for (unsigned i = 0; i < held_workers; i++) {
        h[i] = (held_infer){channel(&s), encrypt_batch(k, 10), -2, ""};
        EXPECT(init_ctx(h[i].ch, ccz_buf_span(&k->params), ccz_buf_span(&k->pkb),
                        ccz_buf_span(&k->rkb), 128, 0x1p45, msg, sizeof msg),
               CCZ_RPC_OK, "");
    }
    rng_hold_start(held_workers);
    for (unsigned i = 0; i < held_workers; i++)
        test_thread(&t[i], held_infer_run, &h[i]);
    for (unsigned i = 0; i < held_workers; i++)
        CHECK(rng_hold_wait(30000));
    ccz_rpc_channel *ch = channel(&s);
    Inference__InitCtxRequest r = INFERENCE__INIT_CTX_REQUEST__INIT;
    r.params = bin(&k->params);
    r.security_level = 128;
    r.scale = 0x1p45;
    rpc_outcome out[WAITING * MAX_HELD + 1];
    for (unsigned i = 0; i <= waiting; i++) {
        out[i].code = -2;
        ccz_rpc_call_opts co = {CCZ_RPC_CALL_OPTS_VERSION, i < waiting ? 60000 : 3000, NULL};
        CHECK_OK(ccz_rpc_start(ch, NULL, "/inference.Inference/InitCtx", &r.base,
                               &inference__init_ctx_reply__descriptor, &co, NULL,
                               i < waiting ? rpc_outcome_done : let_workers_go, &out[i]));
    }
    CHECK_OK(ccz_rpc_channel_run(ch));
    for (unsigned i = 0; i < held_workers; i++)
        pthread_join(t[i], NULL);
    rng_hold_stop();
    for (unsigned i = 0; i < waiting; i++) {
        CHECK_INT(out[i].code, CCZ_RPC_INVALID_ARGUMENT);
        CHECK_CONTAINS(out[i].message, "pub_key: empty");
    }
    CHECK_INT(out[waiting].code, CCZ_RPC_RESOURCE_EXHAUSTED);
    CHECK_STR(out[waiting].message, busy);
    for (unsigned i = 0; i < held_workers; i++) {
        CHECK_INT(h[i].code, CCZ_RPC_OK);
        CHECK_STR(h[i].msg, "");
        ccz_rpc_channel_free(h[i].ch);
        free_cts(h[i].cts);
    }
    ccz_rpc_channel_free(ch);
    server_stop(&s);
}

/* A server holds max_contexts (4) contexts: a fifth connection's InitCtx drops the least recently
 * used one (an Infer counts as a use), and only that one: its Infer is then refused for want of a
 * context, while the others' still reach the count checks. */
static void contexts_lru(const keys *k)
{
    server s;
    server_start(&s, &small, false);
    char msg[600];
    const size_t F = SMALL;
    ccz_rpc_channel *ch[5];
    ccz_buf *cts = encrypt_batch(k, 50);
    for (int i = 0; i < 5; i++) {
        ch[i] = channel(&s);
        if (i == 4) /* the first connection's context used after the others were made */
            EXPECT(infer(ch[0], cts, F, 1, (int)F, msg, sizeof msg), CCZ_RPC_OK, "");
        EXPECT(init_ctx(ch[i], ccz_buf_span(&k->params), ccz_buf_span(&k->pkb),
                        ccz_buf_span(&k->rkb), 128, 0x1p45, msg, sizeof msg),
               CCZ_RPC_OK, "");
    }
    for (int i = 0; i < 5; i++) {
        if (i == 1)
            EXPECT(infer(ch[i], cts, F, 0, (int)F, msg, sizeof msg), CCZ_RPC_FAILED_PRECONDITION,
                   "no context on this connection: call InitCtx first");
        else
            EXPECT(infer(ch[i], cts, F, 0, (int)F, msg, sizeof msg), CCZ_RPC_INVALID_ARGUMENT,
                   "batches 0, batch_size 12");
    }
    for (int i = 0; i < 5; i++)
        ccz_rpc_channel_free(ch[i]);
    free_cts(cts);
    server_stop(&s);
}

/* A second InitCtx on a connection replaces its context, not held beside it: in a table of two,
 * another connection's context stays. */
static void context_replaced(const keys *k)
{
    server s;
    server_start_opts(&s, &small, false, 0, 2);
    char msg[600];
    ccz_rpc_channel *a = channel(&s), *b = channel(&s);
    ccz_buf *cts = encrypt_batch(k, 10);
    EXPECT(init_ctx(b, ccz_buf_span(&k->params), ccz_buf_span(&k->pkb), ccz_buf_span(&k->rkb), 128,
                    0x1p45, msg, sizeof msg),
           CCZ_RPC_OK, "");
    for (int i = 0; i < 2; i++)
        EXPECT(init_ctx(a, ccz_buf_span(&k->params), ccz_buf_span(&k->pkb), ccz_buf_span(&k->rkb),
                        128, 0x1p45, msg, sizeof msg),
               CCZ_RPC_OK, "");
    EXPECT(infer(b, cts, SMALL, 0, SMALL, msg, sizeof msg), CCZ_RPC_INVALID_ARGUMENT,
           "batches 0, batch_size 12"); /* b's context is there: the counts are what is wrong */
    EXPECT(infer(a, cts, SMALL, 0, SMALL, msg, sizeof msg), CCZ_RPC_INVALID_ARGUMENT,
           "batches 0, batch_size 12");
    ccz_rpc_channel_free(a);
    ccz_rpc_channel_free(b);
    free_cts(cts);
    server_stop(&s);
}

/* A server of one worker, logging into memory, and h: a connection with its context whose Infer,
 * sent from a thread of its own, holds the worker inside it (held_one_hold) until let go. */
typedef struct {
    test_memlog log;
    server s;
    held_infer h;
    pthread_t t;
} held_one;

static void held_one_start(held_one *o, const keys *k)
{
    service_log = test_memlog_open(&o->log);
    server_start_workers(&o->s, &small, false, 1);
    o->h = (held_infer){channel(&o->s), encrypt_batch(k, 50), -2, ""};
    char msg[600];
    EXPECT(init_ctx(o->h.ch, ccz_buf_span(&k->params), ccz_buf_span(&k->pkb), ccz_buf_span(&k->rkb),
                    128, 0x1p45, msg, sizeof msg),
           CCZ_RPC_OK, "");
}

static void held_one_hold(held_one *o)
{
    rng_hold_start(1);
    test_thread(&o->t, held_infer_run, &o->h);
    CHECK(rng_hold_wait(30000));
}

/* The worker let go: the held Infer is answered. */
static void held_one_release(held_one *o)
{
    rng_hold_release();
    pthread_join(o->t, NULL);
    rng_hold_stop();
    CHECK_INT(o->h.code, CCZ_RPC_OK);
}

/* The server stopped; its log (the caller frees it). */
static char *held_one_end(held_one *o)
{
    ccz_rpc_channel_free(o->h.ch);
    free_cts(o->h.cts);
    server_stop(&o->s); /* the worker is done: the log is whole */
    service_log = NULL;
    return test_memlog_close(&o->log);
}

/* An InitCtx without keys: were it run, refused for its empty public key. */
static Inference__InitCtxRequest keyless_init(const keys *k)
{
    Inference__InitCtxRequest ir = INFERENCE__INIT_CTX_REQUEST__INIT;
    ir.params = bin(&k->params);
    ir.security_level = 128;
    ir.scale = 0x1p45;
    return ir;
}

/* Jobs whose client's deadline passes while they wait are dropped, not evaluated: the one worker
 * held inside an Infer, a second connection (its context made before) queues an InitCtx with no
 * public key (were it run, refused for it) and an Infer, each with a deadline of 200 ms, and both
 * end DEADLINE_EXCEEDED. Let go 300 ms later, the worker answers the held Infer and logs each of
 * the others dropped, and nothing else of them; the second connection's next Infer is answered
 * after them. */
static void deadline_in_queue(const keys *k)
{
    held_one o;
    held_one_start(&o, k);
    ccz_rpc_channel *ch = channel(&o.s);
    char msg[600];
    EXPECT(init_ctx(ch, ccz_buf_span(&k->params), ccz_buf_span(&k->pkb), ccz_buf_span(&k->rkb), 128,
                    0x1p45, msg, sizeof msg),
           CCZ_RPC_OK, "");
    held_one_hold(&o);
    Inference__InitCtxRequest ir = keyless_init(k);
    ProtobufCBinaryData d[SMALL];
    for (size_t i = 0; i < SMALL; i++)
        d[i] = bin(&o.h.cts[i]);
    Inference__InferRequest fr = INFERENCE__INFER_REQUEST__INIT;
    fr.n_data = SMALL;
    fr.data = d;
    fr.batches = 1;
    fr.batch_size = SMALL;
    rpc_outcome out[2] = {{-2, ""}, {-2, ""}};
    ccz_rpc_call_opts co = {CCZ_RPC_CALL_OPTS_VERSION, 200, NULL};
    CHECK_OK(ccz_rpc_start(ch, NULL, "/inference.Inference/InitCtx", &ir.base,
                           &inference__init_ctx_reply__descriptor, &co, NULL, rpc_outcome_done,
                           &out[0]));
    CHECK_OK(ccz_rpc_start(ch, NULL, "/inference.Inference/Infer", &fr.base,
                           &inference__infer_reply__descriptor, &co, NULL, rpc_outcome_done,
                           &out[1]));
    CHECK_OK(ccz_rpc_channel_run(ch));
    CHECK_INT(out[0].code, CCZ_RPC_DEADLINE_EXCEEDED);
    CHECK_INT(out[1].code, CCZ_RPC_DEADLINE_EXCEEDED);
    /* the client's timer may fire before the server's (whose deadline counts from the request's
     * arrival): the worker goes once both have */
    nanosleep(&(struct timespec){0, 300 * 1000 * 1000}, NULL);
    held_one_release(&o);
    EXPECT(infer(ch, o.h.cts, SMALL, 1, SMALL, msg, sizeof msg), CCZ_RPC_OK, "");
    ccz_rpc_channel_free(ch);
    char *log_text = held_one_end(&o);
    const char *init = strstr(log_text, ": InitCtx dropped: the client's deadline passed while it "
                                        "waited: not evaluated\n");
    const char *inf = strstr(log_text, ": Infer dropped: the client's deadline passed while it "
                                       "waited: not evaluated\n");
    CHECK(init != NULL && inf != NULL && init < inf);
    int dropped = 0;
    for (const char *p = strstr(log_text, " dropped: "); p; p = strstr(p + 1, " dropped: "))
        dropped++;
    CHECK_INT(dropped, 2);
    CHECK(strstr(log_text, "InitCtx refused") == NULL);
    /* two Infers answered: the held one and the last */
    const char *first = strstr(log_text, ": 1 batch of 12 ciphertexts");
    const char *second = first ? strstr(first + 1, ": 1 batch of 12 ciphertexts") : NULL;
    CHECK(first != NULL && second != NULL);
    CHECK(second == NULL || strstr(second + 1, ": 1 batch of 12 ciphertexts") == NULL);
    CHECK(inf == NULL || second == NULL || inf < second);
    free(log_text);
}

/* A job whose client went away while it waited is dropped, not evaluated: the one worker held
 * inside an Infer, a raw client sends an InitCtx without a deadline and no public key (were it
 * run, refused for it) and leaves; once the server has closed that connection the worker is let
 * go: it answers the held Infer and logs the InitCtx dropped, not refused; the same InitCtx sent
 * again is refused after it. */
static void gone_in_queue(const keys *k)
{
    held_one o;
    held_one_start(&o, k);
    held_one_hold(&o);
    Inference__InitCtxRequest ir = keyless_init(k);
    CHECK(h2_call_and_leave(o.s.target, "/inference.Inference/InitCtx", &ir.base, 30000));
    held_one_release(&o);
    /* the same InitCtx, after it in the queue: when it is refused, the worker has been through
     * the first */
    char msg[600];
    EXPECT(init_ctx(o.h.ch, ccz_buf_span(&k->params), CCZ_SPAN(NULL, 0), CCZ_SPAN(NULL, 0), 128,
                    0x1p45, msg, sizeof msg),
           CCZ_RPC_INVALID_ARGUMENT, "pub_key: empty");
    char *log_text = held_one_end(&o);
    const char *answered = strstr(log_text, ": 1 batch of 12 ciphertexts");
    const char *dropped = strstr(log_text, ": InitCtx dropped: the client went away while it "
                                           "waited: not evaluated\n");
    const char *refused = strstr(log_text, ": InitCtx refused");
    CHECK(answered != NULL && dropped != NULL && refused != NULL);
    CHECK(dropped < refused); /* the answer is logged on the loop, perhaps after the drop */
    CHECK(refused == NULL || strstr(refused + 1, ": InitCtx refused") == NULL);
    CHECK(dropped == NULL || strstr(dropped + strlen(": InitCtx dropped"), " dropped: ") == NULL);
    free(log_text);
}

/* Bytes the heap holds (every arena, and the blocks mapped on their own). */
static size_t heap_in_use(void)
{
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}

/* The service's end while a job is live: the worker held inside an Infer when the loop ends; let
 * go, it finds no loop to answer to, and ccz_he_lr_service_free frees the job it still holds
 * (with the Infer's copy of its ciphertexts, about 8 MB): once the server is gone the heap is
 * back within 1 MiB of where it was before it started (under ASan, whose allocator mallinfo2
 * does not see, its leak check says so). */
static void end_with_live_job(const keys *k)
{
    ccz_buf *cts = encrypt_batch(k, 50);
    size_t before = heap_in_use();
    server s;
    server_start_workers(&s, &small, false, 1);
    held_infer h = {channel(&s), cts, -2, ""};
    char msg[600];
    EXPECT(init_ctx(h.ch, ccz_buf_span(&k->params), ccz_buf_span(&k->pkb), ccz_buf_span(&k->rkb),
                    128, 0x1p45, msg, sizeof msg),
           CCZ_RPC_OK, "");
    rng_hold_start(1);
    pthread_t t;
    test_thread(&t, held_infer_run, &h);
    CHECK(rng_hold_wait(30000));
    rpc_serve_stop(s.rpc, s.thread, 100);
    rng_hold_release();
    ccz_he_lr_service_free(s.svc); /* joins the worker, done with the job */
    rng_hold_stop();
    ccz_rpc_server_free(s.rpc); /* closes the connection: the client's Infer ends at once */
    pthread_join(t, NULL);
    CHECK(h.code != CCZ_RPC_OK);
    ccz_rpc_channel_free(h.ch);
    size_t after = heap_in_use();
    printf("heap before the server %zu, after it %zu\n", before, after);
    CHECK(UNDER_ASAN || after < before + (1u << 20)); /* ASan's heap: its leak check says */
    free_cts(cts);
}

/* max_contexts 0 is the default, 16: an Infer before InitCtx is told how many the server holds. */
static void contexts_default(const keys *k)
{
    server s;
    server_start_opts(&s, &small, false, 0, 0);
    ccz_rpc_channel *ch = channel(&s);
    ccz_buf *cts = encrypt_batch(k, 10);
    char msg[600];
    EXPECT(infer(ch, cts, SMALL, 1, SMALL, msg, sizeof msg), CCZ_RPC_FAILED_PRECONDITION,
           "no context on this connection: call InitCtx first (contexts belong to connections; "
           "the server holds the 16 most recently used)");
    free_cts(cts);
    ccz_rpc_channel_free(ch);
    server_stop(&s);
}

/* Options the service refuses before it registers anything: another version, no model or one of
 * no features, a model it could not evaluate (a weight or bias that is not finite: every batch
 * would fail, blamed on the constant's size). */
static void opts_refused(void)
{
    ccz_rpc_server *rpc;
    ccz_rpc_server_opts so = CCZ_RPC_SERVER_OPTS_INIT;
    CHECK_OK(ccz_rpc_server_new(&rpc, &so));
    ccz_he_lr_service *svc = (ccz_he_lr_service *)1;
    ccz_he_lr_service_opts o = CCZ_HE_LR_SERVICE_OPTS_INIT;
    o.model = &small;
    o.version = 2;
    CHECK_STATUS(ccz_he_lr_service_new(&svc, rpc, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "ccz_he_lr_service_opts: version 2, expected 1");
    CHECK(svc == NULL);
    CHECK_STATUS(ccz_he_lr_service_new(&svc, rpc, NULL), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "ccz_he_lr_service_opts: version 0, expected 1");
    o.version = CCZ_HE_LR_SERVICE_OPTS_VERSION;
    o.model = NULL;
    CHECK_STATUS(ccz_he_lr_service_new(&svc, rpc, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "no model");
    ccz_he_lr_model none = {0, 0.5, small.weights};
    o.model = &none;
    CHECK_STATUS(ccz_he_lr_service_new(&svc, rpc, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "no model");
    double w[3] = {0.5, NAN, 1};
    ccz_he_lr_model bad = {3, 0.25, w};
    o.model = &bad;
    CHECK_STATUS(ccz_he_lr_service_new(&svc, rpc, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "the model's weight 1 is not a finite number");
    CHECK(svc == NULL);
    w[1] = 2;
    bad.bias = INFINITY;
    CHECK_STATUS(ccz_he_lr_service_new(&svc, rpc, &o), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "the model's bias is not a finite number");
    bad.bias = 0.25;
    CHECK_OK(ccz_he_lr_service_new(&svc, rpc, &o));
    ccz_he_lr_service_free(svc);
    ccz_rpc_server_free(rpc);
}

static void test_service(void)
{
    signal(SIGPIPE, SIG_IGN);
    load();
    server strict, lax;
    server_start(&strict, &model, false);
    score(&strict, CCZ_HE_LR_SECURE);
    server_stop(&strict);

    small = (ccz_he_lr_model){SMALL, model.bias, model.weights};
    opts_refused();
    server_start(&strict, &small, false);

    ccz_lattice_params p;
    keys k, tk;
    CHECK_OK(ccz_he_lr_params(&p, CCZ_HE_LR_SECURE));
    keys_new(&k, &p);
    CHECK_OK(ccz_he_lr_params(&p, CCZ_HE_LR_TOOLKIT));
    keys_new(&tk, &p);
    hostile_init(&strict, &k, &tk);
    hostile_infer(&strict, &k, &tk);
    queue_full(&k);
    queue_bound(&k, 1, "the server is busy (4 calls wait for 1 worker): try again");
    queue_bound(&k, 0, "the server is busy (8 calls wait for 2 workers): try again");
    deadline_in_queue(&k);
    gone_in_queue(&k);
    contexts_default(&k);
    end_with_live_job(&k);
    contexts_lru(&k);
    context_replaced(&k);
    /* the toolkit's chain, as the client library asks for it */
    ccz_rpc_channel *ch = channel(&strict);
    ccz_he_lr_infer_opts o = CCZ_HE_LR_INFER_OPTS_INIT;
    o.preset = CCZ_HE_LR_TOOLKIT;
    ccz_he_lr_infer_result r;
    CHECK_OK(ccz_he_lr_infer(ch, &o, &data, &r));
    CHECK_INT(r.code, CCZ_RPC_INVALID_ARGUMENT);
    CHECK_STR(r.method, "InitCtx");
    CHECK_CONTAINS(r.message, "this server takes only 128-bit-secure parameters");
    ccz_he_lr_infer_result_free(&r);
    /* the server's model width, told in InitCtx's answer: data of another width stops the client
     * before it encrypts anything */
    o.preset = CCZ_HE_LR_SECURE;
    char width[80];
    snprintf(width, sizeof width, "the server's model has %d features, the data %zu", SMALL,
             data.features);
    CHECK_STATUS(ccz_he_lr_infer(ch, &o, &data, &r), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), width);
    CHECK_INT(r.data_bytes, 0);
    ccz_he_lr_infer_result_free(&r);
    ccz_rpc_channel_free(ch);
    server_stop(&strict);

    server_start(&lax, &model, true);
    score(&lax, CCZ_HE_LR_TOOLKIT);
    /* a server that allows chains beyond the table still holds a client that asks for 128 bits
     * to it */
    ch = channel(&lax);
    char msg[600];
    EXPECT(init_ctx(ch, ccz_buf_span(&tk.params), ccz_buf_span(&tk.pkb), ccz_buf_span(&tk.rkb), 128,
                    0x1p45, msg, sizeof msg),
           CCZ_RPC_INVALID_ARGUMENT, "300 bits; 128-bit security at N = 8192 allows at most 218");
    ccz_rpc_channel_free(ch);
    server_stop(&lax);

    keys_free(&k);
    keys_free(&tk);
    free(clear);
    ccz_he_lr_model_free(&model);
    ccz_he_lr_data_free(&data);
}

TEST_MAIN(T(test_service))
