/* SPDX-License-Identifier: Apache-2.0 */
/* Allocation-failure injection: each target (a parser or verifier on real input) runs once to
 * count ccz's own allocations, then again with the N-th of them failing, for every N (at most
 * MAX_POSITIONS positions per target, spread over the count). Each run must end cleanly: the
 * target's normal status or CCZ_ERR_NOMEM, nothing leaked (LeakSanitizer, in the ASan pass), no
 * crash. So the out-of-memory cleanup paths all run.
 *
 * The hook is the linker's: this program links the static library with --wrap for malloc,
 * calloc, realloc, strdup, strndup and aligned_alloc, so calls from ccz's objects (and this
 * file's) come here, while OpenSSL's, jansson's and GMP's own allocations, made inside their
 * shared libraries, are untouched. The hook counts only while a target runs.
 *
 * usage: alloc_fail [TARGET...]   (CCZ_VECTORS: the recorded evidence; ALLOC_POSITIONS: cap) */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <execinfo.h>
#include <pthread.h>
#include <sys/socket.h>
#include <errno.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "ccz/ccz.h"
#include "ccz/fl.h"
#include "ccz/hfl.h"
#include "ccz/mlp.h"
#include "greeter.pb-c.h"
#include "homo_lr.pb-c.h"
#include "http/http.h"
#include "jose/jose.h"
#include "psi_fd.h"
#include "svc/psi/internal.h"
#include "svc/fl/clients.h"
#include "svc/fl/hfl_secagg.h"
#include "rpc/internal.h"
#include "store/store.h"
#include "svc/attestation/internal.h"
#include "svc/serving/internal.h"
#include "svc/kms/crypto.h"
#include "svc/kms/internal.h"
#include "svc/secret/secret.h"
#include "tee/internal.h"
#include "rpc_greeter.h"
#include "serving_models.h"
#include "trust_kinds.h"

#define MAX_POSITIONS 200
#define HEQ_POSITIONS 40 /* an encrypted lookup's answer takes 0.4 s */

/* ---- the hook --------------------------------------------------------------------------------*/

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__real_aligned_alloc(size_t align, size_t n);

static atomic_bool armed;
static atomic_long seen, fail_at, failed;
static bool trace;

static int fail_now(void)
{
    if (!atomic_load(&armed))
        return 0;
    long k = atomic_fetch_add(&seen, 1) + 1;
    if (k == atomic_load(&fail_at)) {
        atomic_fetch_add(&failed, 1);
        if (trace) { /* ALLOC_TRACE=1: where each injected failure happens */
            void *frames[16];
            int n = backtrace(frames, 16);
            backtrace_symbols_fd(frames, n, STDERR_FILENO);
            fputs("--\n", stderr);
        }
        return 1;
    }
    return 0;
}

void *__wrap_malloc(size_t n)
{
    return fail_now() ? NULL : __real_malloc(n);
}
void *__wrap_calloc(size_t n, size_t size)
{
    return fail_now() ? NULL : __real_calloc(n, size);
}
void *__wrap_realloc(void *p, size_t n)
{
    return fail_now() ? NULL : __real_realloc(p, n);
}
char *__wrap_strdup(const char *s)
{
    return fail_now() ? NULL : __real_strdup(s);
}
char *__wrap_strndup(const char *s, size_t n)
{
    return fail_now() ? NULL : __real_strndup(s, n);
}
void *__wrap_aligned_alloc(size_t align, size_t n)
{
    return fail_now() ? NULL : __real_aligned_alloc(align, n);
}

/* ---- the targets -----------------------------------------------------------------------------*/

static char vectors[4096], simdir[4096];
static ccz_buf sgx_quote, sgx_col, tdx_quote, tdx_col, snp_report, snp_vek, paillier_json;
static ccz_buf sim_evidence, ratls_der, he_params, he_ct, az_snp, ccel, csv_json, csv_report,
    csv_bundle, cca_token, cca_ta;
static ccz_buf onnx_models[3];
static ccz_heq_db *heq_db;
static ccz_heq_server *heq_server;
static ccz_heq_query heq_query; /* a fast-algorithm query for key "b" */
static ccz_trust *builtin, *sim_trust;
static ccz_attester *sim_att;
static uint8_t sim_rd[64] = {0x5a};

static ccz_status read_file(ccz_buf *b, const char *rel)
{
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", vectors, rel);
    return ccz_file_read(b, path, 4u << 20);
}

static ccz_status dcap(ccz_buf *quote, ccz_buf *col, int64_t at)
{
    ccz_collateral *c;
    ccz_status s = ccz_collateral_parse(&c, (const char *)col->ptr, col->len);
    if (s)
        return s;
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.at_unix = at;
    o.trust = builtin;
    o.collateral = c;
    static ccz_result r;
    s = ccz_verify(&r, ccz_buf_span(quote), &o);
    ccz_collateral_free(c);
    return s;
}

static ccz_status t_dcap_sgx(void)
{
    return dcap(&sgx_quote, &sgx_col, 1752919277);
}
static ccz_status t_dcap_tdx(void)
{
    return dcap(&tdx_quote, &tdx_col, 1752919234);
}

static ccz_status t_snp(void)
{
    ccz_collateral *c;
    ccz_status s = ccz_snp_collateral_new(&c, ccz_buf_span(&snp_vek), CCZ_SPAN(NULL, 0));
    if (s)
        return s;
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.at_unix = 1767225600;
    o.trust = builtin;
    o.collateral = c;
    static ccz_result r;
    s = ccz_verify(&r, ccz_buf_span(&snp_report), &o);
    ccz_collateral_free(c);
    return s;
}

/* an Azure SEV-SNP evidence document, its HCL report, AK and VCEK chain */
static ccz_status t_az_snp(void)
{
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.at_unix = 1767225600;
    o.trust = builtin;
    static ccz_result r;
    return ccz_verify(&r, ccz_buf_span(&az_snp), &o);
}

/* Hygon CSV: trustee's JSON evidence (up to the step that needs the network), then csv-rs's
 * report through the whole chain with its chip's HSK/CEK */
static ccz_status t_csv(void)
{
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.at_unix = 1767225600;
    o.trust = builtin;
    static ccz_result r;
    ccz_status s = ccz_verify(&r, ccz_buf_span(&csv_json), &o);
    if (s != CCZ_ERR_COLLATERAL_MISSING)
        return s == CCZ_OK ? CCZ_ERR_INVALID_ARGUMENT : s;
    ccz_collateral *c = NULL;
    if ((s = ccz_csv_collateral_new(&c, ccz_buf_span(&csv_bundle))) != CCZ_OK)
        return s;
    o.collateral = c;
    s = ccz_verify(&r, ccz_buf_span(&csv_report), &o);
    ccz_collateral_free(c);
    return s;
}

/* an Arm CCA token: the trust-anchor store read, both signatures, the binding, the claims */
static ccz_status t_cca(void)
{
    ccz_trust *t = NULL;
    ccz_status s = ccz_trust_new(&t);
    if (s == CCZ_OK)
        s = ccz_trust_add_cca_anchors(t, ccz_buf_span(&cca_ta));
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.at_unix = 1767225600;
    o.trust = t;
    static ccz_result r;
    if (s == CCZ_OK)
        s = ccz_verify(&r, ccz_buf_span(&cca_token), &o);
    ccz_trust_free(t);
    return s;
}

/* a CC event log: parsed, its events rendered as trustee's JSON, its registers replayed */
static ccz_status t_eventlog(void)
{
    ccz_eventlog *l = NULL;
    ccz_status s = ccz_eventlog_load(&l, ccz_buf_span(&ccel));
    json_t *j = s == CCZ_OK ? ccz_eventlog_to_json(l, 0) : NULL;
    if (s == CCZ_OK && !j)
        s = CCZ_ERR_NOMEM;
    json_decref(j);
    ccz_eventlog_free(l);
    return s;
}

static ccz_status t_sim(void)
{
    ccz_buf ev = CCZ_BUF_INIT;
    ccz_status s = ccz_attest(&ev, sim_att, sim_rd);
    if (s == CCZ_OK) {
        ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
        o.at_unix = (int64_t)time(NULL);
        o.trust = sim_trust;
        o.expected_report_data = sim_rd;
        static ccz_result r;
        s = ccz_verify(&r, ccz_buf_span(&ev), &o);
    }
    ccz_buf_free(&ev);
    return s;
}

static ccz_status t_policy(void)
{
    static const char ccz_doc[] =
        "{\"allow_sim\": true, \"accepted_tcb_statuses\": [\"UpToDate\", \"SWHardeningNeeded\"],"
        " \"sgx\": [{\"isv_svn_min\": 0, \"isv_prod_id\": 0}], \"snp_max_vmpl\": 0}";
    static const char dc_doc[] =
        "{\"verify_mr_enclave\": \"off\", \"verify_mr_signer\": \"off\", \"verify_isv_prod_id\":"
        " \"on\", \"verify_isv_svn\": \"on\", \"ccz_allow_sim\": true, \"sgx_mrs\": [{"
        "\"mr_enclave\": \"\", \"mr_signer\": \"\", \"isv_prod_id\": \"0\", \"isv_svn\": \"0\"}]}";
    ccz_policy *p = NULL, *q = NULL;
    ccz_status s = ccz_policy_parse(&p, ccz_doc, sizeof ccz_doc - 1);
    if (s == CCZ_OK)
        s = ccz_policy_parse(&q, dc_doc, sizeof dc_doc - 1);
    if (s == CCZ_OK) {
        ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
        o.at_unix = (int64_t)time(NULL);
        o.trust = sim_trust;
        static ccz_result r;
        static ccz_appraisal ap;
        s = ccz_verify(&r, ccz_buf_span(&sim_evidence), &o);
        if (s == CCZ_OK)
            s = ccz_appraise(&ap, p, &r.claims);
        if (s == CCZ_OK)
            s = ccz_appraise(&ap, q, &r.claims);
        ccz_json *j = s == CCZ_OK ? ccz_policy_to_json(q) : NULL;
        if (s == CCZ_OK && !j)
            s = CCZ_ERR_NOMEM;
        ccz_json_free(j);
    }
    ccz_policy_free(p);
    ccz_policy_free(q);
    return s;
}

static ccz_status t_ratls(void)
{
    X509 *cert = NULL;
    EVP_PKEY *key = NULL;
    ccz_ratls_cert_opts co = CCZ_RATLS_CERT_OPTS_INIT;
    ccz_status s = ccz_ratls_cert_create(&cert, &key, sim_att, &co);
    if (s == CCZ_OK) {
        static ccz_ratls_info info;
        s = ccz_ratls_inspect(&info, cert);
        ccz_ratls_info_free(&info);
    }
    const unsigned char *p = ratls_der.ptr;
    X509 *peer = s == CCZ_OK ? d2i_X509(NULL, &p, (long)ratls_der.len) : NULL;
    if (s == CCZ_OK && peer) {
        ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
        o.at_unix = (int64_t)time(NULL);
        o.trust = sim_trust;
        static ccz_ratls_verdict v;
        ccz_policy *pol = NULL;
        static const char doc[] = "{\"allow_sim\": true}";
        s = ccz_policy_parse(&pol, doc, sizeof doc - 1);
        if (s == CCZ_OK)
            s = ccz_ratls_verify_cert(&v, peer, pol, &o);
        ccz_policy_free(pol);
    }
    X509_free(peer);
    X509_free(cert);
    EVP_PKEY_free(key);
    return s;
}

/* A two-way RA-TLS handshake between fresh contexts, over a memory BIO pair. */
static ccz_status t_handshake(void)
{
    static const char doc[] = "{\"allow_sim\": true}";
    ccz_policy *pol = NULL;
    SSL_CTX *ctx[2] = {NULL, NULL};
    ccz_status s = ccz_policy_parse(&pol, doc, sizeof doc - 1);
    for (int side = 0; side < 2 && s == CCZ_OK; side++) {
        ccz_ratls_opts o = CCZ_RATLS_OPTS_INIT;
        o.server = side == 0;
        o.attester = sim_att;
        o.trust = sim_trust;
        o.policy = pol;
        o.cache_size = 4;
        s = ccz_ratls_ctx_new(&ctx[side], &o);
    }
    if (s == CCZ_OK) {
        SSL *srv = SSL_new(ctx[0]), *cli = SSL_new(ctx[1]);
        BIO *b1 = NULL, *b2 = NULL;
        if (!srv || !cli || !BIO_new_bio_pair(&b1, 0, &b2, 0)) {
            s = CCZ_ERR_NOMEM;
        } else {
            SSL_set_bio(cli, b1, b1);
            SSL_set_bio(srv, b2, b2);
            SSL_set_connect_state(cli);
            SSL_set_accept_state(srv);
            int done_c = 0, done_s = 0;
            for (int round = 0; round < 20 && (!done_c || !done_s); round++) {
                if (!done_c)
                    done_c = SSL_do_handshake(cli) == 1;
                if (!done_s)
                    done_s = SSL_do_handshake(srv) == 1;
            }
            const ccz_ratls_verdict *v = ccz_ratls_peer_verdict(srv);
            if (!done_c || !done_s)
                s = CCZ_ERR_TLS;
            else if (!v || v->status != CCZ_OK)
                s = v ? v->status : CCZ_ERR_TLS;
        }
        SSL_free(srv);
        SSL_free(cli);
    }
    SSL_CTX_free(ctx[0]);
    SSL_CTX_free(ctx[1]);
    ccz_policy_free(pol);
    return s;
}

static ccz_status t_paillier(void)
{
    ccz_paillier_pub *pub = NULL;
    ccz_paillier_key *key = NULL;
    ccz_status s =
        ccz_paillier_load_json(&pub, &key, (const char *)paillier_json.ptr, paillier_json.len);
    if (s == CCZ_OK) {
        mpz_t m, c, d;
        mpz_inits(m, c, d, NULL);
        mpz_set_ui(m, 123456789);
        s = ccz_paillier_encrypt(c, pub, m);
        if (s == CCZ_OK)
            s = ccz_paillier_decrypt(d, key, c);
        if (s == CCZ_OK && mpz_cmp(d, m) != 0)
            s = CCZ_ERR_CRYPTO; /* a wrong plaintext: never expected */
        mpz_clears(m, c, d, NULL);
    }
    if (key)
        ccz_paillier_key_free(key); /* *pub is the key's own */
    else
        ccz_paillier_pub_free(pub);
    return s;
}

static ccz_status t_lattice(void)
{
    ccz_lattice_params p;
    ccz_status s = ccz_lattice_params_load(&p, ccz_buf_span(&he_params));
    ccz_lattice_context *ctx = NULL;
    ccz_lattice_ciphertext *ct = NULL;
    if (s == CCZ_OK)
        s = ccz_lattice_context_new(&ctx, &p);
    if (s == CCZ_OK)
        s = ccz_lattice_ciphertext_new(&ct, ctx);
    if (s == CCZ_OK)
        s = ccz_lattice_ciphertext_load(ct, ctx, ccz_buf_span(&he_ct));
    ccz_lattice_ciphertext_free(ct);
    ccz_lattice_context_free(ctx);
    return s;
}

/* the encrypted lookup: a database parsed and a server prepared for it (its contexts, the fast
 * algorithm's masks and product tree) */
static ccz_status t_hequery(void)
{
    static const char csv[] = "a,1\nb,22\nc,333\nd,4444\n";
    ccz_heq_db *db = NULL;
    ccz_heq_server *srv = NULL;
    ccz_status s = ccz_heq_db_parse(&db, CCZ_SPAN(csv, sizeof csv - 1));
    if (s == CCZ_OK) {
        ccz_heq_server_opts o = CCZ_HEQ_SERVER_OPTS_INIT;
        o.db = db;
        o.threads = 1;
        s = ccz_heq_server_new(&srv, &o);
    }
    ccz_heq_server_free(srv);
    ccz_heq_db_free(db);
    return s;
}

/* a fast query answered by the server prepared in setup (HEQ_POSITIONS positions) */
static ccz_status t_heq_answer(void)
{
    ccz_span keys[CCZ_HEQ_KEY_CTS];
    ccz_heq_query_view v = ccz_heq_query_view_of(&heq_query, keys);
    ccz_heq_answer ans;
    ccz_status s = ccz_heq_server_answer(&ans, heq_server, &v);
    if (s == CCZ_OK)
        ccz_buf_free(&ans.value);
    return s;
}

/* ONNX models (seeds of fuzz/onnx_model): loaded, checked and run on a batch of two rows */
static ccz_status ml_models(const ccz_buf *models, size_t n)
{
    ccz_status s = CCZ_OK;
    for (size_t i = 0; i < n && s == CCZ_OK; i++) {
        ccz_ml_model *m = NULL;
        s = ccz_ml_model_load(&m, ccz_buf_span(&models[i]));
        float *in[8] = {0}, *out[8] = {0};
        for (size_t j = 0; s == CCZ_OK && j < ccz_ml_input_count(m) && j < 8; j++) {
            ccz_ml_tensor_info info;
            s = ccz_ml_input_info(m, j, &info);
            in[j] = s == CCZ_OK ? calloc(2 * info.row_elems, sizeof(float)) : NULL;
            s = s == CCZ_OK && !in[j] ? CCZ_ERR_NOMEM : s;
        }
        for (size_t j = 0; s == CCZ_OK && j < ccz_ml_output_count(m) && j < 8; j++) {
            ccz_ml_tensor_info info;
            s = ccz_ml_output_info(m, j, &info);
            out[j] = s == CCZ_OK ? calloc(2 * info.row_elems, sizeof(float)) : NULL;
            s = s == CCZ_OK && !out[j] ? CCZ_ERR_NOMEM : s;
        }
        if (s == CCZ_OK)
            s = ccz_ml_run(m, 2, (const float *const *)in, out, 1);
        for (size_t j = 0; j < 8; j++)
            free(in[j]), free(out[j]);
        ccz_ml_model_free(m);
    }
    return s;
}

static ccz_status t_ml(void)
{
    return ml_models(onnx_models, CCZ_ARRAY_LEN(onnx_models));
}

/* ... and the other operators the seeds have: Gemm, MatMul, grouped Conv, BatchNormalization,
 * the pools, Reshape, Concat, Transpose, Softmax, Flatten, broadcasting Add, the linear
 * classifier's and regressor's */
static const char *const onnx_more_names[] = {"Gemm_C_row",
                                              "MatMul_3d",
                                              "Conv_group",
                                              "BatchNormalization",
                                              "LinearClassifier_SOFTMAX",
                                              "LinearRegressor",
                                              "MaxPool_ceil",
                                              "AveragePool_pad_incl",
                                              "Reshape_minus1_first",
                                              "Concat",
                                              "Transpose",
                                              "Softmax_opset11",
                                              "Flatten",
                                              "Add_bcast_chan",
                                              "GlobalAveragePool",
                                              "MatMul_stacked"};
static ccz_buf onnx_more[CCZ_ARRAY_LEN(onnx_more_names)];

static ccz_status t_ml_ops(void)
{
    return ml_models(onnx_more, CCZ_ARRAY_LEN(onnx_more));
}

/* The state store in memory: open with a migration, the key-value calls, a statement with a
 * row callback, a transaction. SQLite's own allocations are inside its shared library and are
 * not failed here; tests/store injects those. */
static const store_migration store_m[] = {
    {1, "CREATE TABLE t (id TEXT PRIMARY KEY, v BLOB)", NULL}};

static ccz_status store_row_copy(const store_row *r, void *payload)
{
    ccz_span v = store_row_blob(r, 0);
    return ccz_buf_append(payload, v.ptr, v.len);
}

static ccz_status store_list_one(const char *key, ccz_span value, int64_t expires, void *payload)
{
    (void)expires;
    ccz_status s = ccz_buf_append_str(payload, key);
    return s ? s : ccz_buf_append(payload, value.ptr, value.len);
}

static ccz_status store_tx_body(store *st, void *payload)
{
    (void)payload;
    ccz_status s = store_kv_take(st, NULL, "nonce", "n1");
    return s ? s : store_kv_put(st, "session", "s1", "sess", 4, 0);
}

static ccz_status t_store(void)
{
    store *st = NULL;
    ccz_buf b = CCZ_BUF_INIT;
    ccz_status s = store_open(&st, ":memory:", store_m, 1);
    if (s == CCZ_OK)
        s = store_kv_put(st, "nonce", "n1", "value-1", 7, 0);
    if (s == CCZ_OK)
        s = store_kv_get(st, &b, "nonce", "n1");
    if (s == CCZ_OK)
        s = store_kv_list(st, "nonce", store_list_one, &b);
    if (s == CCZ_OK)
        s = store_tx(st, store_tx_body, NULL);
    if (s == CCZ_OK)
        s = store_exec(st, NULL, "INSERT INTO t (id, v) VALUES (?, ?)",
                       STORE_PARAMS(STORE_TEXT("a"), STORE_BLOB("\0b", 2)), NULL, NULL);
    if (s == CCZ_OK)
        s = store_exec(st, NULL, "SELECT v FROM t WHERE id = ?", STORE_PARAMS(STORE_TEXT("a")),
                       store_row_copy, &b);
    if (s == CCZ_OK)
        s = store_kv_take(st, &b, "session", "s1");
    ccz_buf_free(&b);
    store_close(st);
    return s;
}

/* A protected file: created, written across two MHT nodes with a 16-node cache (so flushes
 * happen under pressure), truncated, closed, reopened and checked node by node. */
static ccz_status t_pf(void)
{
    static const uint8_t key[CCZ_PF_KEY_SIZE] = "alloc-fail-pf-k";
    static uint8_t data[3072 + 4096 * 100];
    char path[64];
    snprintf(path, sizeof path, "/tmp/ccz-alloc-pf-%d", (int)getpid());
    ccz_pf *pf = NULL;
    ccz_pf_opts o = CCZ_PF_OPTS_INIT;
    o.mode = CCZ_PF_CREATE;
    o.bound_path = "/alloc/pf";
    o.cache_nodes = 16;
    ccz_status s = ccz_pf_open_path(&pf, path, key, &o);
    for (size_t at = 0; s == CCZ_OK && at < sizeof data; at += 50000)
        s = ccz_pf_write(pf, at, data + at, sizeof data - at < 50000 ? sizeof data - at : 50000);
    if (s == CCZ_OK)
        s = ccz_pf_truncate(pf, sizeof data - 10000);
    ccz_status c = ccz_pf_close(pf);
    if (s == CCZ_OK)
        s = c;
    o.mode = CCZ_PF_READ;
    if (s == CCZ_OK)
        s = ccz_pf_open_path(&pf, path, key, &o);
    if (s == CCZ_OK) {
        s = ccz_pf_check(pf);
        ccz_pf_close(pf);
    }
    unlink(path);
    return s;
}

/* The KMS's key operations: AES-GCM, SM4-CBC, ECDSA and RSA keys loaded from material made in
 * setup, encryption and decryption, the public PEM, signing and verifying, RSA-OAEP, and the
 * material wrapped and unwrapped under a domain key. */
static const kms_spec kms_specs[] = {KMS_AES_GCM_256, KMS_SM4_CBC, KMS_EC_P256, KMS_RSA_2048};
static ccz_buf kms_material[CCZ_ARRAY_LEN(kms_specs)];

static ccz_status kms_one(kms_spec spec, ccz_span material)
{
    static const uint8_t domain[32] = {7};
    kms_key *k = NULL;
    ccz_buf a = CCZ_BUF_INIT, b = CCZ_BUF_INIT;
    ccz_buf_init(&b, 0, true);
    bool valid = false;
    ccz_status s = kms_key_load(&k, spec, material);
    if (s == CCZ_OK && kms_spec_symmetric(spec)) {
        s = kms_encrypt(&a, k, CCZ_LIT("alloc-fail plaintext"), CCZ_LIT("aad"));
        if (s == CCZ_OK)
            s = kms_decrypt(&b, k, ccz_buf_span(&a), CCZ_LIT("aad"));
    } else if (s == CCZ_OK) {
        s = kms_public_pem(&a, k);
        ccz_buf_reset(&a);
        if (s == CCZ_OK)
            s = kms_sign(&a, k, KMS_SHA_256, KMS_PAD_PKCS1_PSS, false, CCZ_LIT("message"));
        if (s == CCZ_OK)
            s = kms_verify(&valid, k, KMS_SHA_256, KMS_PAD_PKCS1_PSS, false, CCZ_LIT("message"),
                           ccz_buf_span(&a));
        if (s == CCZ_OK && !valid)
            s = CCZ_ERR_BAD_SIGNATURE;
        ccz_buf_reset(&a);
        if (s == CCZ_OK && kms_spec_rsa(spec))
            s = kms_asym_encrypt(&a, k, KMS_PAD_PKCS1_OAEP, CCZ_LIT("secret"));
        if (s == CCZ_OK && kms_spec_rsa(spec))
            s = kms_asym_decrypt(&b, k, KMS_PAD_PKCS1_OAEP, ccz_buf_span(&a));
    }
    ccz_buf_reset(&a);
    ccz_buf_reset(&b);
    if (s == CCZ_OK)
        s = kms_wrap(&a, domain, material, CCZ_LIT("key-id|owner|1"));
    if (s == CCZ_OK)
        s = kms_unwrap(&b, domain, ccz_buf_span(&a), CCZ_LIT("key-id|owner|1"));
    if (s == CCZ_OK && (b.len != material.len || memcmp(b.ptr, material.ptr, b.len) != 0))
        s = CCZ_ERR_CRYPTO;
    kms_key_free(k);
    ccz_buf_free(&a);
    ccz_buf_free(&b);
    return s;
}

/* ... and a request's side: the sign over the canonical string of a nested payload, the replay
 * window taking nonces (one of them replayed). */
static ccz_status t_kms(void)
{
    ccz_status s = CCZ_OK;
    for (size_t i = 0; i < CCZ_ARRAY_LEN(kms_specs) && s == CCZ_OK; i++)
        s = kms_one(kms_specs[i], ccz_buf_span(&kms_material[i]));
    json_t *payload = json_pack("{s:s, s:{s:[i, s, b], s:n}, s:f}", "keyid", "k-1", "aad", "list",
                                1, "two", 1, "null", "num", 2.5);
    char sign[KMS_SIGN_LEN + 1];
    if (s == CCZ_OK)
        s = payload ? kms_request_sign(sign, CCZ_LIT("44RPFy3SEqLbAahaP9PXSGQ6ABB6gctr"), "app",
                                       "nonce", "1700000000000", payload)
                    : CCZ_ERR_NOMEM;
    json_decref(payload);
    kms_replay *rp = NULL;
    if (s == CCZ_OK)
        s = kms_replay_new(&rp, 64);
    for (int i = 0; i < 6 && s == CCZ_OK; i++) {
        char nonce[16];
        snprintf(nonce, sizeof nonce, "n%d", i % 5);
        s = kms_replay_check(rp, "app", nonce, "1700000000000", 1700000000000);
        if (i == 5)
            s = s == CCZ_ERR_EXISTS ? CCZ_OK : s == CCZ_OK ? CCZ_ERR_INVALID_ARGUMENT : s;
    }
    kms_replay_free(rp);
    return s;
}

/* JOSE: a JWK and a JWKS of an EC key, its thumbprint, a JWT signed and verified through the
 * JWKS, the JWK read back, and JWEs decrypted: to the key's JWK (ECDH-ES+A256KW) and to an
 * RSA key (RSA-OAEP-256). */
static EVP_PKEY *jose_ec, *jose_rsa;

static ccz_status jwe_round(EVP_PKEY *key, const json_t *jwk, jose_jwe_alg alg)
{
    json_t *jwe = NULL;
    ccz_buf pt = CCZ_BUF_INIT;
    ccz_status s = jwk ? jose_jwe_encrypt_jwk(&jwe, jwk, CCZ_LIT("a secret"))
                       : jose_jwe_encrypt(&jwe, key, alg, CCZ_LIT("a secret"));
    char *text = s == CCZ_OK ? json_dumps(jwe, JSON_COMPACT) : NULL;
    if (s == CCZ_OK && !text)
        s = CCZ_ERR_NOMEM;
    if (s == CCZ_OK)
        s = jose_jwe_decrypt(&pt, key, text, strlen(text));
    if (s == CCZ_OK && (pt.len != 8 || memcmp(pt.ptr, "a secret", 8) != 0))
        s = CCZ_ERR_CRYPTO;
    free(text); /* jansson's, from its own allocator */
    json_decref(jwe);
    ccz_buf_free(&pt);
    return s;
}

static ccz_status t_jose(void)
{
    json_t *jwk = NULL, *jwks = NULL, *claims = NULL, *back = NULL, *enc_jwk = NULL;
    EVP_PKEY *k2 = NULL;
    ccz_buf tok = CCZ_BUF_INIT;
    char tp[JOSE_THUMBPRINT_LEN + 1];
    ccz_status s = jose_jwk_from_key(&jwk, jose_ec, "ES256", "sig");
    if (s == CCZ_OK)
        s = jose_jwk_thumbprint(tp, jwk);
    if (s == CCZ_OK)
        s = jose_jwks_from_keys(&jwks, &jose_ec, 1);
    if (s == CCZ_OK) {
        claims = json_pack("{s:s, s:I}", "iss", "alloc", "exp", (json_int_t)4102444800);
        s = claims ? jose_jwt_sign(&tok, jose_ec, NULL, claims) : CCZ_ERR_NOMEM;
    }
    if (s == CCZ_OK)
        s = jose_jwt_verify_jwks(&back, jwks, (const char *)tok.ptr, strlen((char *)tok.ptr), 0);
    if (s == CCZ_OK)
        s = jose_jwk_to_key(&k2, jwk);
    if (s == CCZ_OK)
        s = jose_jwk_from_key(&enc_jwk, jose_ec, "ECDH-ES+A256KW", "enc");
    if (s == CCZ_OK)
        s = jwe_round(jose_ec, enc_jwk, JOSE_JWE_ECDH_ES_A256KW);
    if (s == CCZ_OK)
        s = jwe_round(jose_rsa, NULL, JOSE_JWE_RSA_OAEP_256);
    EVP_PKEY_free(k2);
    json_decref(jwk), json_decref(jwks), json_decref(claims), json_decref(back);
    json_decref(enc_jwk);
    ccz_buf_free(&tok);
    return s;
}

/* A PSI set: items added one by one and by lines, sealed (sorted, duplicates removed). */
static ccz_status t_psi_set(void)
{
    ccz_psi_set *set = NULL;
    ccz_status s = ccz_psi_set_new(&set);
    for (int i = 0; i < 40 && s == CCZ_OK; i++) {
        char item[16];
        snprintf(item, sizeof item, "item-%d", i % 30);
        s = ccz_psi_set_add(set, CCZ_SPAN(item, strlen(item)));
    }
    if (s == CCZ_OK)
        s = ccz_psi_set_add_lines(set, CCZ_LIT("b\r\n\na\nb\nitem-3\nz"));
    if (s == CCZ_OK)
        s = ccz_psi_set_seal(set);
    if (s == CCZ_OK && ccz_psi_set_size(set) != 33)
        s = CCZ_ERR_INVALID_ARGUMENT; /* a wrong size: never expected */
    ccz_psi_set_free(set);
    return s;
}

/* A service's configuration: its defaults, a JSON file of options, flags (a list replaced then
 * added to), the effective configuration as JSON. */
static char svc_config_path[4160];

static ccz_status t_svc_config(void)
{
    ccz_svc_config *c = NULL;
    ccz_status s = ccz_svc_config_new(&c, "kms");
    if (s == CCZ_OK)
        s = ccz_svc_config_load_file(c, svc_config_path);
    if (s == CCZ_OK)
        s = ccz_svc_config_set(c, "listen", "127.0.0.1:0");
    if (s == CCZ_OK)
        s = ccz_svc_config_set(c, "sim-root", "/c.crt");
    if (s == CCZ_OK)
        s = ccz_svc_config_set(c, "sim-root", "/d.crt");
    if (s == CCZ_OK)
        s = ccz_svc_config_set(c, "max-body", "4096");
    ccz_json *j = s == CCZ_OK ? ccz_svc_config_to_json(c) : NULL;
    if (s == CCZ_OK && !j)
        s = CCZ_ERR_NOMEM;
    ccz_json_free(j);
    ccz_svc_config_free(c);
    return s;
}

/* The homomorphic LR's model and data files, and the cleartext inference. */
static ccz_status t_he_lr(void)
{
    ccz_he_lr_model m;
    ccz_he_lr_data d;
    memset(&m, 0, sizeof m);
    memset(&d, 0, sizeof d);
    ccz_status s = ccz_he_lr_model_parse(&m, CCZ_LIT("-0.5, 1.25,2e-1,3\r\n"));
    if (s == CCZ_OK)
        s = ccz_he_lr_data_parse(&d, CCZ_LIT("\xef\xbb\xbf"
                                             "a,b,c,target\r\n1,2,3,0\r\n-3.5,0x1p2,1,1\n"
                                             "0,0,0,1\n4,5,6,0\n"));
    if (s == CCZ_OK) {
        double p[4];
        s = ccz_he_lr_predict(p, &m, &d);
    }
    ccz_he_lr_model_free(&m);
    ccz_he_lr_data_free(&d);
    return s;
}

/* Paillier batches on two threads (encrypt, add, multiply by plaintexts, dot products,
 * decrypt) and encrypted numbers through JSON. */
static ccz_paillier_pub *batch_pub;
static ccz_paillier_key *batch_key;

static ccz_status t_paillier_batch(void)
{
    enum { N = 6 };
    mpz_t m[N], c[N], d[N], e[2 * N];
    for (size_t i = 0; i < N; i++) {
        mpz_init_set_ui(m[i], 1000 + i);
        mpz_inits(c[i], d[i], e[2 * i], e[2 * i + 1], NULL);
        mpz_set_si(e[2 * i], (long)i - 2);
        mpz_set_ui(e[2 * i + 1], i + 3);
    }
    ccz_status s = ccz_paillier_encrypt_batch(c, batch_pub, m, N, 2);
    if (s == CCZ_OK)
        s = ccz_paillier_add_batch(d, batch_pub, c, c, N, 2);
    if (s == CCZ_OK)
        s = ccz_paillier_mul_plain_batch(d, batch_pub, d, m, N, 2);
    if (s == CCZ_OK)
        s = ccz_paillier_dot_batch(d, batch_pub, c, N, e, 2, 2);
    if (s == CCZ_OK)
        s = ccz_paillier_decrypt_batch(d, batch_key, c, N, 2);
    for (size_t i = 0; s == CCZ_OK && i < N; i++)
        if (mpz_cmp(d[i], m[i]) != 0)
            s = CCZ_ERR_CRYPTO;
    ccz_paillier_encoded enc;
    ccz_paillier_number x, y;
    ccz_paillier_encoded_init(&enc);
    ccz_paillier_number_init(&x);
    ccz_paillier_number_init(&y);
    ccz_buf j = CCZ_BUF_INIT;
    ccz_paillier_number *xs = NULL;
    size_t count = 0;
    if (s == CCZ_OK)
        s = ccz_paillier_encode_double(&enc, batch_pub, 3.25, 0);
    if (s == CCZ_OK)
        s = ccz_paillier_encrypt_encoded(&x, batch_pub, &enc);
    if (s == CCZ_OK)
        s = ccz_paillier_number_to_json(&j, &x);
    if (s == CCZ_OK)
        s = ccz_paillier_number_from_json(&y, batch_pub, (const char *)j.ptr, j.len);
    if (s == CCZ_OK)
        s = ccz_paillier_numbers_from_json(&xs, &count, batch_pub, (const char *)j.ptr, j.len);
    ccz_paillier_numbers_free(xs, count);
    ccz_buf_free(&j);
    ccz_paillier_encoded_clear(&enc);
    ccz_paillier_number_clear(&x);
    ccz_paillier_number_clear(&y);
    for (size_t i = 0; i < N; i++)
        mpz_clears(m[i], c[i], d[i], e[2 * i], e[2 * i + 1], NULL);
    return s;
}

/* Horizontal FL: FedAdam's aggregation of three models, its checkpoint written and parsed. */
static char hfl_checkpoint_path[4160];

static ccz_status t_hfl(void)
{
    enum { DIM = 64 };
    static float global[DIM], models[3][DIM];
    const float *const ms[3] = {models[0], models[1], models[2]};
    const double w[3] = {1, 2, 3};
    for (size_t i = 0; i < DIM; i++)
        models[0][i] = 1, models[1][i] = (float)i, models[2][i] = -0.5f;
    ccz_hfl_strategy *st = NULL;
    ccz_hfl_strategy_opts o = CCZ_HFL_STRATEGY_OPTS_INIT;
    o.threads = 2;
    ccz_buf b = CCZ_BUF_INIT;
    unsigned round = 0;
    ccz_status s = ccz_hfl_strategy_new(&st, CCZ_HFL_FEDADAM, DIM, &o);
    if (s == CCZ_OK)
        s = ccz_hfl_strategy_aggregate(st, global, ms, w, 3);
    if (s == CCZ_OK)
        s = ccz_hfl_checkpoint_write(hfl_checkpoint_path, 1, st, global, DIM);
    if (s == CCZ_OK)
        s = ccz_file_read(&b, hfl_checkpoint_path, 1u << 20);
    if (s == CCZ_OK)
        s = ccz_hfl_checkpoint_parse(&round, st, global, DIM, ccz_buf_span(&b));
    ccz_buf_free(&b);
    ccz_hfl_strategy_free(st);
    return s;
}

/* Lattice keys and CKKS: a context, the secret, public, relinearization and Galois keys, an
 * encoding encrypted, squared without relinearization, then relinearized. */
static ccz_status t_lattice_keys(void)
{
    ccz_lattice_params p;
    ccz_lattice_context *ctx = NULL;
    ccz_lattice_secret_key *sk = NULL;
    ccz_lattice_public_key *pk = NULL;
    ccz_lattice_relin_keys *rk = NULL;
    ccz_lattice_galois_keys *gk = NULL;
    ccz_lattice_plaintext *pt = NULL;
    ccz_lattice_ciphertext *ct = NULL, *sq = NULL;
    static const double vals[4] = {0.5, -1, 2, 0.25};
    static const int steps[1] = {1};
    ccz_status s = ccz_lattice_preset(&p, CCZ_LATTICE_CKKS, 12);
    if (s == CCZ_OK)
        s = ccz_lattice_context_new(&ctx, &p);
    if (s == CCZ_OK)
        s = ccz_lattice_keygen(&sk, &pk, ctx);
    if (s == CCZ_OK)
        s = ccz_lattice_relin_keygen(&rk, ctx, sk);
    if (s == CCZ_OK)
        s = ccz_lattice_galois_keygen(&gk, ctx, sk, steps, 1, true);
    if (s == CCZ_OK)
        s = ccz_lattice_plaintext_new(&pt, ctx);
    if (s == CCZ_OK)
        s = ccz_lattice_ckks_encode_real(pt, ctx, vals, 4, p.scale, ccz_lattice_max_level(ctx));
    if (s == CCZ_OK)
        s = ccz_lattice_ciphertext_new(&ct, ctx);
    if (s == CCZ_OK)
        s = ccz_lattice_ciphertext_new(&sq, ctx);
    if (s == CCZ_OK)
        s = ccz_lattice_encrypt(ct, ctx, pk, pt);
    if (s == CCZ_OK)
        s = ccz_lattice_mul(sq, ctx, ct, ct, NULL);
    if (s == CCZ_OK)
        s = ccz_lattice_relinearize(sq, ctx, rk);
    ccz_lattice_ciphertext_free(sq);
    ccz_lattice_ciphertext_free(ct);
    ccz_lattice_plaintext_free(pt);
    ccz_lattice_galois_keys_free(gk);
    ccz_lattice_relin_keys_free(rk);
    ccz_lattice_public_key_free(pk);
    ccz_lattice_secret_key_free(sk);
    ccz_lattice_context_free(ctx);
    return s;
}

/* Federated LR on a four-row data set under the Paillier key of paillier_batch: the homomorphic
 * worker (initial weights, a step, its wire message written and parsed, the server's average of
 * two workers) and the vertical parties (a host's forward sums, the guest's residuals and loss,
 * both gradients decrypted and the steps taken). */
static const char fl_csv[] = "id,y,a,b\n1,1,0.5,-1\n2,0,1.5,2\n3,1,-0.25,0\n4,0,3,1\n";

static ccz_status t_fl_hlr(void)
{
    ccz_ml_dataset d;
    memset(&d, 0, sizeof d);
    ccz_fl_hlr_worker *wk = NULL;
    ccz_fl_hlr_opts o = CCZ_FL_HLR_OPTS_INIT;
    o.threads = 2;
    ccz_paillier_number w[3], v[3], avg[3];
    double plain[3];
    for (size_t i = 0; i < 3; i++) {
        ccz_paillier_number_init(&w[i]);
        ccz_paillier_number_init(&v[i]);
        ccz_paillier_number_init(&avg[i]);
    }
    ccz_buf msg = CCZ_BUF_INIT;
    ccz_status s = ccz_ml_dataset_csv(&d, fl_csv, sizeof fl_csv - 1);
    if (s == CCZ_OK)
        s = ccz_fl_hlr_worker_new(&wk, batch_pub, &d, &o);
    if (s == CCZ_OK && ccz_fl_hlr_worker_dim(wk) != 3)
        s = CCZ_ERR_INVALID_ARGUMENT; /* never expected */
    if (s == CCZ_OK)
        s = ccz_fl_hlr_initial(w, wk);
    if (s == CCZ_OK)
        s = ccz_fl_hlr_step(wk, w, w, 0);
    if (s == CCZ_OK)
        s = ccz_fl_hlr_weights_write(&msg, w, 3);
    if (s == CCZ_OK)
        s = ccz_fl_hlr_weights_parse(v, 3, batch_pub, msg.ptr, msg.len);
    const ccz_paillier_number *const in[2] = {w, v};
    if (s == CCZ_OK)
        s = ccz_fl_hlr_aggregate(avg, plain, batch_key, in, 2, 3, 2);
    for (size_t i = 0; i < 3; i++) {
        ccz_paillier_number_clear(&w[i]);
        ccz_paillier_number_clear(&v[i]);
        ccz_paillier_number_clear(&avg[i]);
    }
    ccz_buf_free(&msg);
    ccz_fl_hlr_worker_free(wk);
    ccz_ml_dataset_free(&d);
    return s;
}

static ccz_status t_fl_vlr(void)
{
    ccz_ml_dataset d;
    memset(&d, 0, sizeof d);
    ccz_fl_vlr_party *guest = NULL, *host = NULL;
    ccz_fl_vlr_opts o = CCZ_FL_VLR_OPTS_INIT;
    o.threads = 2;
    enum { ROWS = 4 };
    mpz_t fwd[ROWS], res[ROWS], sq, loss, gg[3], gh[2];
    mpz_inits(sq, loss, NULL);
    for (size_t i = 0; i < ROWS; i++)
        mpz_inits(fwd[i], res[i], NULL);
    for (size_t i = 0; i < 3; i++)
        mpz_init(gg[i]);
    for (size_t i = 0; i < 2; i++)
        mpz_init(gh[i]);
    ccz_status s = ccz_ml_dataset_csv(&d, fl_csv, sizeof fl_csv - 1);
    if (s == CCZ_OK)
        s = ccz_fl_vlr_party_new(&guest, batch_pub, &d, &o);
    if (s == CCZ_OK) {
        ccz_ml_dataset h = d; /* the same features without labels: a host */
        h.y = NULL;
        s = ccz_fl_vlr_party_new(&host, batch_pub, &h, &o);
    }
    if (s == CCZ_OK)
        s = ccz_fl_vlr_forward(host, fwd, sq, 0);
    if (s == CCZ_OK)
        s = ccz_fl_vlr_residuals(guest, res, &loss, (const mpz_t *)fwd, sq, 0);
    if (s == CCZ_OK)
        s = ccz_fl_vlr_gradient(guest, gg, (const mpz_t *)res, 0);
    if (s == CCZ_OK)
        s = ccz_fl_vlr_gradient(host, gh, (const mpz_t *)res, 0);
    if (s == CCZ_OK)
        s = ccz_paillier_decrypt_batch(gg, batch_key, (const mpz_t *)gg, 3, 2);
    if (s == CCZ_OK)
        s = ccz_paillier_decrypt_batch(gh, batch_key, (const mpz_t *)gh, 2, 2);
    if (s == CCZ_OK)
        s = ccz_fl_vlr_update(guest, (const mpz_t *)gg, 0);
    if (s == CCZ_OK)
        s = ccz_fl_vlr_update(host, (const mpz_t *)gh, 0);
    ccz_fl_vlr_party_free(guest);
    ccz_fl_vlr_party_free(host);
    ccz_ml_dataset_free(&d);
    mpz_clears(sq, loss, NULL);
    for (size_t i = 0; i < ROWS; i++)
        mpz_clears(fwd[i], res[i], NULL);
    for (size_t i = 0; i < 3; i++)
        mpz_clear(gg[i]);
    for (size_t i = 0; i < 2; i++)
        mpz_clear(gh[i]);
    return s;
}

/* Two-party ECDH PSI over a socketpair, the server on a thread of its own: HELLOs, batches of
 * points both ways, the tags, the intersection's indices. A side whose allocation failed ends
 * (its peer then sees an abort or the stream closed): the pair's status is out_of_memory. */
static ccz_psi_set *psi_sets[2];

typedef struct {
    psi_fd f;
    ccz_psi_ecdh_result r;
    ccz_status s;
} psi_side;

static void *psi_server_thread(void *arg)
{
    psi_side *sv = arg;
    ccz_psi_io io = {psi_fd_write, psi_fd_read, &sv->f};
    ccz_psi_ecdh_opts o = CCZ_PSI_ECDH_OPTS_INIT;
    o.threads = 1;
    o.batch = 4;
    sv->s = ccz_psi_ecdh_server(&sv->r, psi_sets[1], &io, &o);
    shutdown(sv->f.fd, SHUT_WR);
    return NULL;
}

static ccz_status t_psi_ecdh(void)
{
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds))
        return CCZ_ERR_NETWORK;
    psi_side cl = {.f = {fds[0], NULL}}, sv = {.f = {fds[1], NULL}};
    pthread_t t;
    if (pthread_create(&t, NULL, psi_server_thread, &sv)) {
        close(fds[0]), close(fds[1]);
        return CCZ_ERR_IO;
    }
    ccz_psi_io io = {psi_fd_write, psi_fd_read, &cl.f};
    ccz_psi_ecdh_opts o = CCZ_PSI_ECDH_OPTS_INIT;
    o.threads = 1;
    o.batch = 4;
    cl.s = ccz_psi_ecdh_client(&cl.r, psi_sets[0], &io, &o);
    close(fds[0]); /* a server still writing sees the client gone */
    pthread_join(t, NULL);
    close(fds[1]);
    ccz_status s = cl.s == CCZ_ERR_NOMEM || sv.s == CCZ_ERR_NOMEM ? CCZ_ERR_NOMEM
                   : cl.s                                         ? cl.s
                                                                  : sv.s;
    if (s == CCZ_OK && cl.r.intersection != 3)
        s = CCZ_ERR_INVALID_ARGUMENT; /* a wrong intersection: never expected */
    ccz_psi_ecdh_result_free(&cl.r);
    ccz_psi_ecdh_result_free(&sv.r);
    return s;
}

/* Secret provisioning's service: two secrets (one read from a file), a policy document with a
 * "secrets" section of rules, the rule chosen for the sim platform's claims, the service
 * attached to an HTTP server as a preface. */
static char secret_file_path[4160];
static ccz_result secret_claims; /* the sim evidence's, verified in setup */

static ccz_status t_secret(void)
{
    static const char doc[] =
        "{\"allow_sim\": true, \"secrets\": [{\"secret\": \"db-key\", \"tee\": [\"sgx\", \"tdx\"],"
        " \"isv_svn_min\": 2}, {\"secret\": \"sim.key\", \"tee\": \"sim\"}]}";
    const ccz_secret_entry e[2] = {{"db-key", NULL, CCZ_LIT("a database key")},
                                   {"sim.key", secret_file_path, CCZ_SPAN(NULL, 0)}};
    secret_service *svc = NULL;
    http_server *srv = NULL;
    http_server_opts ho = {.name = "alloc-secret"};
    char why[256];
    ccz_status s = secret_service_new(&svc, CCZ_SPAN(doc, sizeof doc - 1), e, 2);
    if (s == CCZ_OK && secret_choose(svc, &secret_claims.claims, why, sizeof why) != 1)
        s = CCZ_ERR_POLICY_REJECTED; /* never expected */
    if (s == CCZ_OK)
        s = http_server_new(&srv, &ho);
    if (s == CCZ_OK)
        s = secret_service_attach(svc, srv);
    http_server_free(srv);
    secret_service_free(svc);
    return s;
}

/* The attestation service's request and token: POST /v1/attest bodies read (evidence,
 * runtime_data, a collateral object; SEV-SNP collateral), a PUT /v1/policies body kept, and an
 * EAR token issued for the sim claims (with the recorded CC event log, when the vectors are
 * there) with a nonce, runtime data and extra members, signed by a P-256 key. The token must
 * carry the claims: a failure there is out_of_memory, not a token without them. */
static attestation att_state;
static json_t *att_body[2], *att_policy_body;
static ccz_claims att_claims;
static ccz_eventlog *att_eventlog;

static ccz_status att_token_check(const ccz_buf *token)
{
    const char *dot = strchr((const char *)token->ptr, '.'), *end = dot ? strchr(dot + 1, '.') : 0;
    ccz_buf payload = CCZ_BUF_INIT;
    ccz_status s = end ? jose_b64url_decode(&payload, dot + 1, (size_t)(end - dot - 1))
                       : CCZ_ERR_INVALID_ARGUMENT;
    json_t *claims =
        s == CCZ_OK ? json_loadb((const char *)payload.ptr, payload.len, 0, NULL) : NULL;
    json_t *ev = json_object_get(json_object_get(json_object_get(claims, "submods"), "sim"),
                                 "ear.veraison.annotated-evidence");
    if (s == CCZ_OK && !json_is_object(ev))
        s = claims ? CCZ_ERR_INVALID_ARGUMENT : CCZ_ERR_NOMEM;
    if (s == CCZ_OK && att_eventlog && !json_object_get(ev, "eventlog"))
        s = CCZ_ERR_INVALID_ARGUMENT; /* the claims without their event log */
    json_decref(claims);
    ccz_buf_free(&payload);
    return s;
}

/* A service's reading of a body that should be taken: out_of_memory for att_out_of_memory, a
 * refusal (never expected) invalid_argument */
static ccz_status read_status(const char *why)
{
    return why == att_out_of_memory ? CCZ_ERR_NOMEM : why ? CCZ_ERR_INVALID_ARGUMENT : CCZ_OK;
}

static ccz_status t_att(void)
{
    ccz_status s = CCZ_OK;
    att_attest_req q[2] = {ATT_ATTEST_REQ_INIT, ATT_ATTEST_REQ_INIT};
    for (size_t i = 0; i < 2 && s == CCZ_OK; i++) {
        char msg[200];
        s = read_status(
            att_attest_read(&q[i], att_body[i], &(ccz_buf)CCZ_BUF_INIT, msg, sizeof msg));
    }
    char *text = NULL;
    if (s == CCZ_OK)
        s = att_policy_text(&text, att_policy_body);
    free(text);
    json_t *extra = s == CCZ_OK ? json_pack("{s:s}", "ccz.session", "s-1") : NULL;
    if (s == CCZ_OK && !extra)
        s = CCZ_ERR_NOMEM;
    ccz_buf token = CCZ_BUF_INIT;
    ccz_span rd = ccz_buf_span(&q[0].runtime_data);
    int64_t exp;
    if (s == CCZ_OK)
        s = att_issue_token(&token, &exp, &att_state, &att_claims, "default", q[0].nonce, &rd,
                            extra);
    if (s == CCZ_OK)
        s = att_token_check(&token);
    json_decref(extra);
    ccz_buf_free(&token);
    att_attest_req_free(&q[0]);
    att_attest_req_free(&q[1]);
    return s;
}

/* The KBS's Attestation bodies: a sim session's with a P-256 tee-pubkey and the evidence as an
 * object, an sgx session's with an RSA key and the primary_evidence a string holding the object;
 * each key probed with a JWE, the evidence decoded, the runtime data's digest made. A failure
 * there is out_of_memory (500), not a SerdeError. */
static json_t *kbs_body[2];

/* The public JWK of an RSA key: {"kty": "RSA", "alg", "n", "e"}. */
static json_t *rsa_jwk(EVP_PKEY *key, const char *alg)
{
    BIGNUM *bn[2] = {NULL, NULL};
    ccz_buf b64[2] = {CCZ_BUF_INIT, CCZ_BUF_INIT};
    json_t *j = NULL;
    if (EVP_PKEY_get_bn_param(key, "n", &bn[0]) && EVP_PKEY_get_bn_param(key, "e", &bn[1])) {
        bool ok = true;
        for (int i = 0; i < 2 && ok; i++) {
            uint8_t raw[512];
            int n = BN_bn2bin(bn[i], raw);
            ok = n > 0 && n <= (int)sizeof raw &&
                 jose_b64url_encode(&b64[i], CCZ_SPAN(raw, (size_t)n)) == CCZ_OK;
        }
        if (ok)
            j = json_pack("{s:s, s:s, s:s, s:s}", "kty", "RSA", "alg", alg, "n",
                          (const char *)b64[0].ptr, "e", (const char *)b64[1].ptr);
    }
    for (int i = 0; i < 2; i++) {
        BN_free(bn[i]);
        ccz_buf_free(&b64[i]);
    }
    return j;
}

static ccz_status t_kbs(void)
{
    static const char *const tee[2] = {"sim", "sgx"};
    ccz_status s = CCZ_OK;
    for (size_t i = 0; i < 2 && s == CCZ_OK; i++) {
        att_kbs_attest_req q = {CCZ_BUF_INIT, {0}, NULL, NULL};
        char msg[200];
        int status;
        s = read_status(
            att_kbs_attest_read(&q, kbs_body[i], tee[i], "kbs-n", &status, msg, sizeof msg));
        ccz_buf_free(&q.evidence);
    }
    return s;
}

/* The model server's REST front end: v1 predict (rows and columns), classify, regress and a v2
 * infer parsed against the fuzz target's three models, run, and their answers rendered. */
static const struct {
    bool v2;
    const char *path, *body;
} rest_reqs[] = {
    {false, "two:predict",
     "{\"instances\": [{\"a\": [1, -2, 3], \"b\": [[1, 2], [3, 4]]}, {\"a\": [0, 0, 1], \"b\": "
     "[[0, 0], [0, 1]]}]}"},
    {false, "two/versions/1:predict",
     "{\"signature_name\": \"serving_default\", \"inputs\": {\"a\": [[1, 2, 3]], \"b\": [[[1, 2], "
     "[3, 4]]]}}"},
    {false, "cls:classify",
     "{\"examples\": [{\"x\": [1, 2, 3]}], \"context\": {\"x\": [0, 0, 0]}}"},
    {false, "reg:regress", "{\"examples\": [{\"x\": [1.5]}, {\"x\": [-2]}]}"},
    {true, "models/two/infer",
     "{\"id\": \"x\", \"inputs\": [{\"name\": \"a\", \"shape\": [1, 3], \"datatype\": \"FP32\", "
     "\"data\": [1, 2, 3]}, {\"name\": \"b\", \"shape\": [1, 2, 2], \"datatype\": \"INT64\", "
     "\"data\": [1, 2, 3, 4]}], \"outputs\": [{\"name\": \"i\"}]}"},
    {true, "models/cls/versions/1/infer",
     "{\"inputs\": [{\"name\": \"x\", \"shape\": [2, 3], \"datatype\": \"FP32\", \"data\": [1, 2, "
     "3, 4, 5, 6]}]}"},
};

static ccz_status t_serving_rest(void)
{
    sv_server *srv = fuzz_serving_server();
    ccz_status s = CCZ_OK;
    for (size_t i = 0; i < CCZ_ARRAY_LEN(rest_reqs) && s == CCZ_OK; i++) {
        sv_job *j = NULL;
        ccz_buf b = CCZ_BUF_INIT;
        s = sv_rest_parse(&j, srv, rest_reqs[i].v2, rest_reqs[i].path,
                          CCZ_SPAN(rest_reqs[i].body, strlen(rest_reqs[i].body)));
        if (s == CCZ_OK)
            s = ccz_ml_run(j->m->ml, j->rows, (const float *const *)j->in, j->out, 1);
        if (s == CCZ_OK)
            s = sv_rest_body(&b, j);
        ccz_buf_free(&b);
        sv_job_free(j);
    }
    return s;
}

/* The TEE PSI service's table: three parties' items (enough that buckets and the arena grow),
 * intersected. An insertion or intersection that ran out of memory leaves the table as it was:
 * made again it succeeds (one allocation fails a run), and the intersection is exact. */
static ccz_status t_psi_table(void)
{
    psi_table t;
    ccz_status s = psi_table_init(&t);
    if (s != CCZ_OK)
        return s;
    char item[32];
    for (unsigned p = 0; p < 3 && s == CCZ_OK; p++)
        for (unsigned i = 0; i < 2000 && s == CCZ_OK; i++) {
            int n = snprintf(item, sizeof item, "item-%u", p == 2 ? i * 2 : i);
            s = psi_table_add(&t, p, (const uint8_t *)item, (size_t)n);
            if (s == CCZ_ERR_NOMEM)
                s = psi_table_add(&t, p, (const uint8_t *)item, (size_t)n);
        }
    psi_result r = {CCZ_BUF_INIT, 0};
    if (s == CCZ_OK && (s = psi_table_intersect(&r, &t, 7)) == CCZ_ERR_NOMEM) {
        ccz_buf_free(&r.data);
        s = psi_table_intersect(&r, &t, 7);
    }
    size_t off = 0, n = 0;
    ccz_span it;
    while (s == CCZ_OK && psi_result_next(&r, &off, &it))
        n += it.len > 5 && memcmp(it.ptr, "item-", 5) == 0 && (it.ptr[it.len - 1] - '0') % 2 == 0;
    if (s == CCZ_OK && (r.n != 1000 || n != 1000 || t.entries != 3000))
        s = CCZ_ERR_INVALID_ARGUMENT; /* a failed insertion left the table wrong */
    ccz_buf_free(&r.data);
    psi_table_free(&t);
    return s;
}

/* RA-gRPC's server side on one connection's plaintext (the seeds of fuzz/rpc_request): the
 * HTTP/2 session, the headers and metadata, the length-prefixed messages, unary and streaming
 * calls answered. A handler's failure is the call's gRPC status; an allocation failing inside
 * nghttp2's callbacks (a stream's call) breaks the connection, which the server closes, and
 * the feed says protocol_error. */
static ccz_rpc_server *rpc_srv;
static ccz_buf rpc_inputs[4];

static ccz_status t_rpc(void)
{
    ccz_status s = CCZ_OK;
    for (size_t i = 0; i < CCZ_ARRAY_LEN(rpc_inputs) && s == CCZ_OK; i++)
        s = rpc_server_feed(rpc_srv, rpc_inputs[i].ptr, rpc_inputs[i].len);
    return s;
}

/* ---- client-side answers and parsers, on fuzz corpora (fuzz/corpus/<name>/) ------------------*/

static ccz_buf rpc_answers[4], collateral_json[2], crl_bodies[3], anchors[6], plans[3],
    lr_weights[2], idx_file;
static ccz_paillier_pub *lr_pk; /* fuzz/homo_lr_weights' key: its ciphertexts fit it */
static const char lr_modulus[] =
    "138289265474257771543695460471685083499132537593063164282155086929414625699070408457868247783"
    "648474305806711289843153022983025322476970685254239456723322141285768096402410296131054915820"
    "500924415843824361890768555593001410259370076149733608464780575523215706237950228273376747793"
    "031207178370825755656232198007";

static ccz_status read_corpus(ccz_buf *b, const char *src, const char *dir, const char *name)
{
    char path[8192];
    snprintf(path, sizeof path, "%s/fuzz/corpus/%s/%s", src ? src : ".", dir, name);
    return ccz_file_read(b, path, 1u << 20);
}

typedef struct {
    int ended, messages, ok, ok_metadata, internal;
} rpc_seen;

static void rpc_client_message(const ProtobufCMessage *m, void *payload)
{
    (void)m;
    ((rpc_seen *)payload)->messages++;
}

static void rpc_client_done(const ccz_rpc_status *st, void *payload)
{
    rpc_seen *got = payload;
    got->ended++;
    got->ok += st->code == CCZ_RPC_OK;
    got->ok_metadata += st->code == CCZ_RPC_OK ? (int)(st->headers.n + st->trailers.n) : 0;
    got->internal += st->code == CCZ_RPC_INTERNAL;
}

/* RA-gRPC's client side fed recorded server bytes (the seeds of fuzz/rpc_response): the three
 * calls opened, the headers, messages (one compressed), trailers read, each call ended once
 * whatever failed (an allocation failing inside nghttp2's callbacks ends its call, or breaks
 * the connection and the calls still open end UNAVAILABLE). As many calls succeeding as
 * without the failure, with less metadata, is a call that lost some and said OK; a call more
 * ending INTERNAL is memory's failure said to be the server's answer's (RESOURCE_EXHAUSTED). */
static ccz_status t_rpc_client(void)
{
    static rpc_seen clean[CCZ_ARRAY_LEN(rpc_answers)];
    static bool have_clean;
    rpc_seen now[CCZ_ARRAY_LEN(rpc_answers)] = {{0, 0, 0, 0, 0}};
    Ratls__HelloRequest req = RATLS__HELLO_REQUEST__INIT;
    req.name = "alloc";
    ccz_status s = CCZ_OK;
    for (size_t i = 0; i < CCZ_ARRAY_LEN(rpc_answers) && s == CCZ_OK; i++) {
        rpc_seen *got = &now[i];
        rpc_client_feed_calls c = {{"/ratls.Greeter/SayHello", "/t.S/Out", "/t.S/In"},
                                   &req.base,
                                   &ratls__hello_reply__descriptor,
                                   4096,
                                   rpc_client_message,
                                   rpc_client_done,
                                   got};
        s = rpc_client_feed(rpc_answers[i].ptr, rpc_answers[i].len, &c);
        if (s == CCZ_OK && got->ended != 3)
            s = CCZ_ERR_INVALID_ARGUMENT; /* a call that never ended, or ended twice */
        if (s == CCZ_OK && have_clean && got->ok == clean[i].ok &&
            got->ok_metadata != clean[i].ok_metadata)
            s = CCZ_ERR_INVALID_ARGUMENT;
        if (s == CCZ_OK && have_clean && got->internal > clean[i].internal)
            s = CCZ_ERR_INVALID_ARGUMENT; /* memory's failure said to be the server's answer's */
    }
    if (s == CCZ_OK && !atomic_load(&failed) && !have_clean) {
        memcpy(clean, now, sizeof clean);
        have_clean = true;
    }
    return s;
}

/* DCAP collateral as fetched and assembled (fuzz/dcap_collateral), and the PCS's CRL bodies
 * (hex, PEM, DER: fuzz/crl_body) made DER. The parse cache (4 documents, by their bytes) would
 * answer every run after the first: each run's documents end in 0 to 4 more spaces, ten texts
 * in turn, so each is parsed afresh. */
static ccz_status t_dcap_fetch(void)
{
    static unsigned runs;
    size_t pad = runs++ % 5;
    ccz_status s = CCZ_OK;
    for (size_t i = 0; i < CCZ_ARRAY_LEN(collateral_json) && s == CCZ_OK; i++) {
        ccz_collateral *c;
        s = ccz_collateral_parse(&c, (const char *)collateral_json[i].ptr,
                                 collateral_json[i].len - 4 + pad);
        if (s == CCZ_OK) {
            uint8_t fmspc[6];
            ccz_collateral_fmspc(fmspc, c);
            ccz_collateral_free(c);
        }
    }
    for (size_t i = 0; i < CCZ_ARRAY_LEN(crl_bodies) && s == CCZ_OK; i++) {
        ccz_buf der = CCZ_BUF_INIT;
        s = dcap_crl_body_der(&der, ccz_buf_span(&crl_bodies[i]), "CRL");
        if (s != CCZ_OK && der.len != 0)
            s = CCZ_ERR_INVALID_ARGUMENT; /* a failure leaves nothing behind */
        ccz_buf_free(&der);
    }
    return s;
}

/* trust anchors of each kind (fuzz/trust_anchors: first byte the kind): a failed store adds
 * nothing */
static ccz_status t_trust_anchors(void)
{
    ccz_status s = CCZ_OK, worst = CCZ_OK;
    for (size_t i = 0; i < CCZ_ARRAY_LEN(anchors); i++) {
        ccz_trust *t = NULL;
        if ((s = ccz_trust_new(&t)) != CCZ_OK)
            return s;
        bool partial;
        s = fuzz_trust_add(t, anchors[i].ptr[0], CCZ_SPAN(anchors[i].ptr + 1, anchors[i].len - 1),
                           &partial);
        if (partial)
            s = CCZ_ERR_INVALID_ARGUMENT; /* the counts say the add was not all or nothing */
        ccz_trust_free(t);
        if (worst == CCZ_OK || s == CCZ_ERR_NOMEM)
            worst = s; /* each kind read, whatever the others did */
    }
    return worst;
}

/* the FL clients' plans as the servers send them (fuzz/fl_client_plan's homo_ok, hfl_ok,
 * hetero_ok), read and the vertical client's rows aligned */
static ccz_status t_fl_plan(void)
{
    ccz_status s = CCZ_ERR_MALFORMED;
    Homolr__KeyReply *hr = homolr__key_reply__unpack(NULL, plans[0].len - 1, plans[0].ptr + 1);
    if (hr) {
        double x[2] = {0.5, 0.25};
        ccz_ml_dataset d = {1, 2, x, NULL, NULL};
        fl_hlr_plan p = {0};
        s = fl_hlr_read_plan(&p, hr, &d);
        ccz_paillier_pub_free(p.pk);
        homolr__key_reply__free_unpacked(hr, NULL);
    }
    Cczfl__Plan *fr =
        s == CCZ_OK ? cczfl__plan__unpack(NULL, plans[1].len - 1, plans[1].ptr + 1) : NULL;
    if (fr) {
        float x[2] = {0.5f, 0.25f};
        uint8_t y[1] = {1};
        ccz_mlp_data d = {1, 2, 2, x, y};
        ccz_hfl_join_opts o = CCZ_HFL_JOIN_OPTS_INIT;
        fl_hfl_plan p;
        s = fl_hfl_read_plan(&p, fr, &d, &o);
        cczfl__plan__free_unpacked(fr, NULL);
    } else if (s == CCZ_OK) {
        s = CCZ_ERR_MALFORMED;
    }
    Heterolr__JoinReply *j =
        s == CCZ_OK ? heterolr__join_reply__unpack(NULL, plans[2].len - 1, plans[2].ptr + 1) : NULL;
    if (j) {
        double x[8] = {0, 1, 2, 3, 4, 5, 6, 7};
        int64_t ids[4] = {1, 2, 3, 4};
        ccz_ml_dataset d = {4, 2, x, NULL, ids}, a = {0};
        if ((s = fl_vlr_plan_check(j)) == CCZ_OK)
            s = ccz_fl_vlr_align(&a, &d, j->ids, j->n_ids);
        ccz_ml_dataset_free(&a);
        heterolr__join_reply__free_unpacked(j, NULL);
    } else if (s == CCZ_OK) {
        s = CCZ_ERR_MALFORMED;
    }
    return s;
}

/* secure aggregation's messages to a client (fuzz/fl_secagg: the key list, the shares, the
 * unmask plan): the entry reports only a wrong acceptance, so this catches crashes and leaks */
static ccz_buf secagg_msgs[3];

static ccz_status t_fl_secagg(void)
{
    for (size_t i = 0; i < CCZ_ARRAY_LEN(secagg_msgs); i++)
        if (hfl_sa_client_fuzz(secagg_msgs[i].ptr, secagg_msgs[i].len))
            return CCZ_ERR_INVALID_ARGUMENT;
    return CCZ_OK;
}

/* the homomorphic LR's encrypted weights (fuzz/homo_lr_weights' three and thirty-one), parsed
 * and written back */
static ccz_status t_homo_lr_weights(void)
{
    ccz_status s = CCZ_OK;
    for (size_t i = 0; i < CCZ_ARRAY_LEN(lr_weights) && s == CCZ_OK; i++) {
        Homolr__WeightsRequest *r =
            homolr__weights_request__unpack(NULL, lr_weights[i].len, lr_weights[i].ptr);
        if (!r)
            return CCZ_ERR_MALFORMED;
        size_t dim = i == 0 ? 3 : 31;
        ccz_paillier_number a[31];
        for (size_t k = 0; k < dim; k++)
            ccz_paillier_number_init(&a[k]);
        s = ccz_fl_hlr_weights_parse(a, dim, lr_pk, r->weights.data, r->weights.len);
        ccz_buf out = CCZ_BUF_INIT;
        if (s == CCZ_OK)
            s = ccz_fl_hlr_weights_write(&out, a, dim);
        ccz_buf_free(&out);
        for (size_t k = 0; k < dim; k++)
            ccz_paillier_number_clear(&a[k]);
        homolr__weights_request__free_unpacked(r, NULL);
    }
    return s;
}

/* the MLP's IDX image and label files (fuzz/mlp_idx's valid: first byte the cut) */
static ccz_status t_mlp_idx(void)
{
    size_t cut = 1 + (size_t)idx_file.ptr[0] * 4;
    if (cut > idx_file.len)
        cut = idx_file.len;
    ccz_mlp_data d;
    ccz_status s = ccz_mlp_data_parse_idx(&d, (ccz_span){idx_file.ptr + 1, cut - 1},
                                          (ccz_span){idx_file.ptr + cut, idx_file.len - cut});
    if (s == CCZ_OK)
        ccz_mlp_data_free(&d);
    return s;
}

/* ---- more parsers on their fuzz corpora: each call's status against the clean run's --------*/

/* The statuses of a target's calls in its first run without a failure (the warm-up); in later
 * runs each call must end as it did there or in out_of_memory: a failure read as malformed input
 * (or one that made a refused input accepted) is wrong. */
#define MEMO_MAX 96
typedef struct {
    ccz_status clean[MEMO_MAX];
    size_t n;
    bool have;
    ccz_status worst;
} status_memo;

static void memo_start(status_memo *m)
{
    m->n = 0;
    m->worst = CCZ_OK;
}

static void memo_check(status_memo *m, ccz_status got)
{
    size_t k = m->n++;
    if (k >= MEMO_MAX) {
        m->worst = CCZ_ERR_INVALID_ARGUMENT; /* MEMO_MAX too small: never expected */
        return;
    }
    if (!m->have)
        m->clean[k] = got;
    else if (got == CCZ_ERR_NOMEM && m->worst == CCZ_OK)
        m->worst = CCZ_ERR_NOMEM;
    else if (got != m->clean[k] && got != CCZ_ERR_NOMEM)
        m->worst = CCZ_ERR_INVALID_ARGUMENT;
}

static ccz_status memo_end(status_memo *m)
{
    if (!m->have && !atomic_load(&failed))
        m->have = true;
    return m->worst;
}

/* the ML CSV reader (fuzz/ml_csv's seeds) as CCZoo's data set and in the three layouts with
 * ids */
static const char *const ml_csv_names[] = {
    "bad-label",   "crlf",     "dup-ids",    "extra-field",
    "header-only", "host-ids", "long-field", "missing-field",
    "nan",         "overflow", "sklearn",    "sklearn-header-rows-only",
    "small"};
static ccz_buf ml_csvs[CCZ_ARRAY_LEN(ml_csv_names)];

static ccz_status t_ml_csv(void)
{
    static status_memo m;
    static const ccz_ml_csv_layout layouts[] = {CCZ_ML_CSV_ID_Y, CCZ_ML_CSV_ID, CCZ_ML_CSV_SKLEARN};
    memo_start(&m);
    for (size_t i = 0; i < CCZ_ARRAY_LEN(ml_csvs); i++) {
        ccz_ml_dataset d;
        ccz_status s = ccz_ml_dataset_csv(&d, (const char *)ml_csvs[i].ptr, ml_csvs[i].len);
        memo_check(&m, s);
        if (s == CCZ_OK)
            ccz_ml_dataset_free(&d);
        for (size_t k = 0; k < CCZ_ARRAY_LEN(layouts); k++) {
            s = ccz_ml_dataset_parse(&d, (const char *)ml_csvs[i].ptr, ml_csvs[i].len, layouts[k]);
            memo_check(&m, s);
            if (s == CCZ_OK)
                ccz_ml_dataset_free(&d);
        }
    }
    return memo_end(&m);
}

/* the model server's gRPC Predict requests (fuzz/serving_grpc's seeds, unpacked in setup)
 * checked against the fuzz target's three models, the accepted ones run: a failure leaves no
 * job */
static const char *const serving_grpc_names[] = {"bad_dtype",   "bad_missing",   "bad_output",
                                                 "bad_shape",   "cls_broadcast", "reg_rows",
                                                 "two_content", "two_float_val"};
static Tensorflow__Serving__PredictRequest *predict_reqs[CCZ_ARRAY_LEN(serving_grpc_names)];

static ccz_status t_serving_grpc(void)
{
    static status_memo m;
    sv_server *srv = fuzz_serving_server();
    memo_start(&m);
    for (size_t i = 0; i < CCZ_ARRAY_LEN(predict_reqs); i++) {
        sv_job *j = NULL;
        ccz_status s = sv_grpc_parse(&j, srv, predict_reqs[i]);
        if (s != CCZ_OK && j)
            m.worst = CCZ_ERR_INVALID_ARGUMENT; /* a failure left a job behind */
        if (s == CCZ_OK)
            s = ccz_ml_run(j->m->ml, j->rows, (const float *const *)j->in, j->out, 1);
        memo_check(&m, s);
        sv_job_free(j);
    }
    return memo_end(&m);
}

/* HFL model updates as the aggregator receives them (fuzz/fl_update's and fl_update_stream's
 * seeds): dense, top-k sparse over the round's model, and streamed chunk by chunk, for a model of
 * 15 parameters and of as many as the bytes would hold in float32; the protobuf messages are
 * unpacked with ccz's allocations, so a failure there is out_of_memory, not a malformed update */
static const char *const hfl_update_names[] = {"bad-dtype",
                                               "long",
                                               "nan",
                                               "short",
                                               "sparse-count-mismatch",
                                               "sparse-f16",
                                               "sparse-valid",
                                               "sparse-unsorted",
                                               "truncated",
                                               "valid-f16",
                                               "valid-f32"};
static const char *const hfl_stream_names[] = {"cut-short",       "dense-4-slices", "dense-f16",
                                               "dense-one-slice", "past-end",       "second-header",
                                               "sparse-2-slices", "wrong-total"};
static ccz_buf hfl_updates[CCZ_ARRAY_LEN(hfl_update_names)],
    hfl_streams[CCZ_ARRAY_LEN(hfl_stream_names)];

static ccz_status t_hfl_update(void)
{
    static status_memo m;
    static float a[4096], g[4096];
    for (size_t i = 0; i < 4096; i++)
        g[i] = (float)i / 8 - 1;
    memo_start(&m);
    for (size_t i = 0; i < CCZ_ARRAY_LEN(hfl_updates) + CCZ_ARRAY_LEN(hfl_streams); i++) {
        bool stream = i >= CCZ_ARRAY_LEN(hfl_updates);
        const ccz_buf *b = stream ? &hfl_streams[i - CCZ_ARRAY_LEN(hfl_updates)] : &hfl_updates[i];
        size_t dims[2] = {15, b->len / 4 >= 1 && b->len / 4 <= 4096 ? b->len / 4 : 15};
        for (size_t k = 0; k < 2; k++) {
            ccz_hfl_update u;
            if (stream) {
                memo_check(&m, ccz_hfl_update_stream_parse(&u, a, dims[k], NULL, b->ptr, b->len));
                memo_check(&m, ccz_hfl_update_stream_parse(&u, a, dims[k], g, b->ptr, b->len));
            } else {
                memo_check(&m, ccz_hfl_update_parse(&u, a, dims[k], b->ptr, b->len));
                memo_check(&m, ccz_hfl_update_parse_on(&u, a, dims[k], g, b->ptr, b->len));
            }
        }
    }
    return memo_end(&m);
}

/* ---- the driver ------------------------------------------------------------------------------*/

/* what a run may also end in when an allocation fails: inside OpenSSL's verify callback an
 * allocation failure rejects the peer, and the handshake fails as a TLS error (the verdict and
 * the log name out_of_memory) */
static void preface_handler(http_request *r, void *payload)
{
    (void)r, (void)payload;
}

/* An HTTP server with a preface (the gRPC listener's "PRI *" beside REST): a preface whose
 * allocation failed leaves nothing half-set, so the call can be made again and succeeds. */
static ccz_status t_http(void)
{
    http_server_opts o = {.name = "alloc"};
    http_server *srv = NULL;
    ccz_status s = http_server_new(&srv, &o);
    if (s != CCZ_OK)
        return s;
    s = http_server_set_preface(srv, CCZ_LIT("PRI * HTTP/2.0"), "h2", preface_handler, NULL);
    if (s == CCZ_ERR_NOMEM) /* one allocation fails per run: the retry has memory */
        s = http_server_set_preface(srv, CCZ_LIT("PRI * HTTP/2.0"), "h2", preface_handler, NULL);
    if (s == CCZ_OK)
        s = http_route(srv, "GET", "/alloc", false, preface_handler, NULL);
    http_server_free(srv);
    return s;
}

static const struct {
    const char *name;
    ccz_status (*run)(void);
    bool vectors;
    ccz_status also;
} targets[] = {
    {"dcap_sgx", t_dcap_sgx, true, CCZ_OK},
    {"dcap_tdx", t_dcap_tdx, true, CCZ_OK},
    {"snp", t_snp, true, CCZ_OK},
    {"az_snp", t_az_snp, true, CCZ_OK},
    {"eventlog", t_eventlog, true, CCZ_OK},
    {"csv", t_csv, true, CCZ_OK},
    {"cca", t_cca, true, CCZ_OK},
    {"sim", t_sim, false, CCZ_OK},
    {"policy", t_policy, false, CCZ_OK},
    {"ratls", t_ratls, false, CCZ_OK},
    {"handshake", t_handshake, false, CCZ_ERR_TLS},
    {"paillier", t_paillier, false, CCZ_OK},
    {"lattice", t_lattice, false, CCZ_OK},
    {"hequery", t_hequery, false, CCZ_OK},
    {"heq_answer", t_heq_answer, false, CCZ_OK},
    {"store", t_store, false, CCZ_OK},
    {"pf", t_pf, false, CCZ_OK},
    {"ml", t_ml, false, CCZ_OK},
    {"ml_ops", t_ml_ops, false, CCZ_OK},
    {"http", t_http, false, CCZ_OK},
    {"kms", t_kms, false, CCZ_OK},
    {"jose", t_jose, false, CCZ_OK},
    {"psi_set", t_psi_set, false, CCZ_OK},
    {"svc_config", t_svc_config, false, CCZ_OK},
    {"he_lr", t_he_lr, false, CCZ_OK},
    {"paillier_batch", t_paillier_batch, false, CCZ_OK},
    {"hfl", t_hfl, false, CCZ_OK},
    {"lattice_keys", t_lattice_keys, false, CCZ_OK},
    {"fl_hlr", t_fl_hlr, false, CCZ_OK},
    {"fl_vlr", t_fl_vlr, false, CCZ_OK},
    {"psi_ecdh", t_psi_ecdh, false, CCZ_OK},
    {"secret", t_secret, false, CCZ_OK},
    {"att", t_att, false, CCZ_OK},
    {"kbs", t_kbs, false, CCZ_OK},
    {"serving_rest", t_serving_rest, false, CCZ_OK},
    {"psi_table", t_psi_table, false, CCZ_OK},
    {"rpc", t_rpc, false, CCZ_ERR_PROTOCOL},
    {"rpc_client", t_rpc_client, false, CCZ_OK},
    {"dcap_fetch", t_dcap_fetch, false, CCZ_OK},
    {"trust_anchors", t_trust_anchors, false, CCZ_OK},
    {"fl_plan", t_fl_plan, false, CCZ_OK},
    {"fl_secagg", t_fl_secagg, false, CCZ_OK},
    {"homo_lr_weights", t_homo_lr_weights, false, CCZ_OK},
    {"mlp_idx", t_mlp_idx, false, CCZ_OK},
    {"ml_csv", t_ml_csv, false, CCZ_OK},
    {"serving_grpc", t_serving_grpc, false, CCZ_OK},
    {"hfl_update", t_hfl_update, false, CCZ_OK},
};

static long run_counted(ccz_status (*fn)(void), long fail, ccz_status *st)
{
    atomic_store(&seen, 0);
    atomic_store(&failed, 0);
    atomic_store(&fail_at, fail);
    atomic_store(&armed, true);
    *st = fn();
    atomic_store(&armed, false);
    return atomic_load(&seen);
}

static int check_target(int i, long cap)
{
    ccz_status base;
    run_counted(targets[i].run, 0, &base); /* warms one-time caches */
    long total = run_counted(targets[i].run, 0, &base);
    if (targets[i].run == t_heq_answer && cap > HEQ_POSITIONS)
        cap = HEQ_POSITIONS;
    if (total == 0) {
        printf("FAIL %s: no allocation seen (the hook is not linked in)\n", targets[i].name);
        return 1;
    }
    long positions = total < cap ? total : cap, bad = 0, nomem = 0;
    for (long k = 0; k < positions; k++) {
        long n = 1 + k * total / positions;
        ccz_status st;
        run_counted(targets[i].run, n, &st);
        if (st == CCZ_ERR_NOMEM)
            nomem++;
        if (atomic_load(&failed) && st != CCZ_ERR_NOMEM && st != base &&
            (targets[i].also == CCZ_OK || st != targets[i].also)) {
            if (bad++ < 5)
                printf("FAIL %s: allocation %ld of %ld failed and the target returned %s "
                       "(normally %s), not out_of_memory\n",
                       targets[i].name, n, total, ccz_status_name(st), ccz_status_name(base));
        }
    }
    printf("%-9s %4ld allocations, %4ld positions failed in turn, %4ld reported out_of_memory, "
           "normal status %s%s\n",
           targets[i].name, total, positions, nomem, ccz_status_name(base), bad ? "  FAILED" : "");
    return bad ? 1 : 0;
}

static int setup(bool *have_vectors)
{
    const char *v = getenv("CCZ_VECTORS"), *src = getenv("CCZ_SOURCE_DIR");
    if (v)
        snprintf(vectors, sizeof vectors, "%s", v);
    else
        snprintf(vectors, sizeof vectors, "%s/../shared/vectors", src ? src : ".");
    *have_vectors =
        read_file(&sgx_quote, "Phala-Network_dcap-qvl/sample/sgx_quote") == CCZ_OK &&
        read_file(&sgx_col, "Phala-Network_dcap-qvl/sample/sgx_quote_collateral.json") == CCZ_OK &&
        read_file(&tdx_quote, "Phala-Network_dcap-qvl/sample/tdx_quote") == CCZ_OK &&
        read_file(&tdx_col, "Phala-Network_dcap-qvl/sample/tdx_quote_collateral.json") == CCZ_OK &&
        read_file(&snp_report, "google_go-sev-guest/verify/testdata/attestation.bin") == CCZ_OK &&
        read_file(&snp_vek, "google_go-sev-guest/verify/testdata/vcek.testcer") == CCZ_OK &&
        read_file(&az_snp, "more/confidential-containers_trustee/deps/verifier/test_data/"
                           "az-snp-vtpm/evidence-v1.json") == CCZ_OK &&
        read_file(&ccel, "more/confidential-containers_trustee/deps/eventlog/test_data/"
                         "CCEL_data_grub") == CCZ_OK &&
        read_file(&csv_json, "more/confidential-containers_trustee/deps/verifier/test_data/"
                             "csv_evidence.json") == CCZ_OK &&
        read_file(&csv_report, "more/wojiaohanliyang_csv-rs/tests/test_data/report.cert") ==
            CCZ_OK &&
        read_file(&csv_bundle, "more/wojiaohanliyang_csv-rs/tests/test_data/hsk_cek.cert") ==
            CCZ_OK &&
        read_file(&cca_token, "more/veraison_rust-ccatoken/testdata/cca-token-draft-ffm-00.cbor") ==
            CCZ_OK &&
        read_file(&cca_ta, "more/veraison_rust-ccatoken/testdata/ta-tfa.json") == CCZ_OK;
    if (ccz_trust_new(&builtin) || ccz_trust_add_builtin(builtin))
        return 1;
    static const char *const onnx[] = {"Chain_unsorted", "Conv_pad_stride",
                                       "LinearClassifier_binary"};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(onnx); i++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/fuzz/corpus/onnx_model/%s.onnx", src ? src : ".", onnx[i]);
        if (ccz_file_read(&onnx_models[i], path, 1u << 20))
            return 1;
    }
    for (size_t i = 0; i < CCZ_ARRAY_LEN(onnx_more_names); i++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/fuzz/corpus/onnx_model/%s.onnx", src ? src : ".",
                 onnx_more_names[i]);
        if (ccz_file_read(&onnx_more[i], path, 1u << 20))
            return 1;
    }
    /* a sim platform, its evidence and an RA-TLS certificate, made before any hook is armed */
    snprintf(simdir, sizeof simdir, "%s/ccz-alloc-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(simdir) || ccz_sim_platform_init(simdir, true))
        return 1;
    char root[8192];
    snprintf(root, sizeof root, "%s/root.crt", simdir);
    ccz_attester_opts ao = CCZ_ATTESTER_OPTS_INIT;
    ao.tee = CCZ_TEE_SIM;
    ao.sim.dir = simdir;
    if (ccz_attester_new(&sim_att, &ao) || ccz_trust_new(&sim_trust) ||
        ccz_trust_add_sim_root_file(sim_trust, root) || ccz_attest(&sim_evidence, sim_att, sim_rd))
        return 1;
    X509 *cert = NULL;
    EVP_PKEY *key = NULL;
    ccz_ratls_cert_opts co = CCZ_RATLS_CERT_OPTS_INIT;
    if (ccz_ratls_cert_create(&cert, &key, sim_att, &co))
        return 1;
    int len = i2d_X509(cert, NULL);
    if (len <= 0 || ccz_buf_reserve(&ratls_der, (size_t)len))
        return 1;
    unsigned char *p = ratls_der.ptr;
    ratls_der.len = (size_t)i2d_X509(cert, &p);
    X509_free(cert);
    EVP_PKEY_free(key);
    /* a Paillier key and a lattice ciphertext, serialized */
    ccz_paillier_key *pk;
    if (ccz_paillier_keygen(&pk, 1024) || ccz_paillier_key_to_json(&paillier_json, pk))
        return 1;
    ccz_paillier_key_free(pk);
    ccz_lattice_params hp;
    ccz_lattice_context *ctx;
    ccz_lattice_secret_key *sk;
    ccz_lattice_public_key *pub;
    ccz_lattice_plaintext *pt;
    ccz_lattice_ciphertext *ct;
    uint64_t vals[4] = {1, 2, 3, 4};
    if (ccz_lattice_preset(&hp, CCZ_LATTICE_BFV, 12) || ccz_lattice_context_new(&ctx, &hp) ||
        ccz_lattice_keygen(&sk, &pub, ctx) || ccz_lattice_plaintext_new(&pt, ctx) ||
        ccz_lattice_ciphertext_new(&ct, ctx) || ccz_lattice_bfv_encode(pt, ctx, vals, 4) ||
        ccz_lattice_encrypt(ct, ctx, pub, pt) || ccz_lattice_params_save(&he_params, ctx) ||
        ccz_lattice_ciphertext_save(&he_ct, ct))
        return 1;
    ccz_lattice_ciphertext_free(ct);
    ccz_lattice_plaintext_free(pt);
    ccz_lattice_public_key_free(pub);
    ccz_lattice_secret_key_free(sk);
    ccz_lattice_context_free(ctx);
    ccz_heq_client *hc;
    static const char csv[] = "a,1\nb,22\nc,333\nd,4444\n";
    ccz_heq_server_opts so = CCZ_HEQ_SERVER_OPTS_INIT;
    so.threads = 1;
    if (ccz_heq_client_new(&hc, CCZ_HEQ_FAST) ||
        ccz_heq_client_query(&heq_query, hc, CCZ_LIT("b")) ||
        ccz_heq_db_parse(&heq_db, CCZ_SPAN(csv, sizeof csv - 1)) ||
        (so.db = heq_db, ccz_heq_server_new(&heq_server, &so)))
        return 1;
    ccz_heq_client_free(hc);
    /* KMS key material, JOSE's keys, a Paillier key for batches, files the targets read */
    for (size_t i = 0; i < CCZ_ARRAY_LEN(kms_specs); i++) {
        ccz_buf_init(&kms_material[i], 0, true);
        if (kms_material_generate(&kms_material[i], kms_specs[i]))
            return 1;
    }
    jose_ec = EVP_EC_gen("P-256");
    jose_rsa = EVP_RSA_gen(2048);
    if (!jose_ec || !jose_rsa ||
        ccz_paillier_load_json(&batch_pub, &batch_key, (const char *)paillier_json.ptr,
                               paillier_json.len))
        return 1;
    static const char *const psi_items[2][6] = {{"a", "b", "c", "d", "e", "f"},
                                                {"x", "b", "y", "d", "f", "z"}};
    for (size_t k = 0; k < 2; k++) {
        if (ccz_psi_set_new(&psi_sets[k]))
            return 1;
        for (size_t i = 0; i < 6; i++)
            if (ccz_psi_set_add(psi_sets[k], CCZ_SPAN(psi_items[k][i], 1)))
                return 1;
        if (ccz_psi_set_seal(psi_sets[k]))
            return 1;
    }
    snprintf(svc_config_path, sizeof svc_config_path, "%s/svc.json", simdir);
    snprintf(secret_file_path, sizeof secret_file_path, "%s/secret.bin", simdir);
    ccz_verify_opts so2 = CCZ_VERIFY_OPTS_INIT;
    so2.at_unix = (int64_t)time(NULL);
    so2.trust = sim_trust;
    if (ccz_file_write(secret_file_path, CCZ_LIT("the sim secret"), 0600) ||
        ccz_verify(&secret_claims, ccz_buf_span(&sim_evidence), &so2))
        return 1;
    snprintf(hfl_checkpoint_path, sizeof hfl_checkpoint_path, "%s/hfl.ckpt", simdir);
    if (ccz_file_write(svc_config_path,
                       CCZ_LIT("{\"sim-root\": [\"/a.crt\", \"/b.crt\"], \"max-connections\": 8,"
                               " \"listen\": \"127.0.0.1:1\"}"),
                       0600))
        return 1;
    /* the attestation service's state for tokens, and the bodies it reads */
    EVP_PKEY *att_key = EVP_EC_gen("P-256");
    ccz_buf ev64 = CCZ_BUF_INIT;
    att_state.issuer = "https://alloc.example";
    att_state.token_ttl = 300;
    if (!att_key || jose_signer_new(&att_state.signer, att_key, "alloc-kid") ||
        ccz_base64_encode(&ev64, ccz_buf_span(&sim_evidence)))
        return 1;
    EVP_PKEY_free(att_key);
    att_body[0] = json_pack("{s:s, s:s, s:s, s:{s:s}, s:s}", "evidence", (const char *)ev64.ptr,
                            "nonce", "n-1", "runtime_data", "cnVudGltZSBkYXRh", "collateral", "tcb",
                            "x", "policy", "mine");
    att_body[1] = json_pack("{s:s, s:{s:s, s:s}}", "evidence", "c25wLXJlcG9ydA", "collateral",
                            "vcek", "AAECAwQF", "chain", "-----BEGIN CERTIFICATE-----");
    att_claims = secret_claims.claims;
    if (*have_vectors) {
        if (ccz_eventlog_load(&att_eventlog, ccz_buf_span(&ccel)))
            return 1;
        att_claims.eventlog = att_eventlog;
    }
    att_policy_body =
        json_pack("{s:b, s:[s]}", "allow_sim", 1, "accepted_tcb_statuses", "UpToDate");
    json_t *ec_jwk = NULL, *rsa_key = NULL;
    if (jose_jwk_from_key(&ec_jwk, jose_ec, "ECDH-ES+A256KW", NULL) ||
        !(rsa_key = rsa_jwk(jose_rsa, "RSA-OAEP-256")))
        return 1;
    kbs_body[0] = json_pack("{s:{s:s, s:o}, s:{s:{s:s}, s:s}}", "runtime-data", "nonce", "kbs-n",
                            "tee-pubkey", ec_jwk, "tee-evidence", "primary_evidence", "evidence",
                            (const char *)ev64.ptr, "additional_evidence", "");
    kbs_body[1] =
        json_pack("{s:{s:s, s:o}, s:{s:s}}", "runtime-data", "nonce", "kbs-n", "tee-pubkey",
                  rsa_key, "tee-evidence", "primary_evidence", "{\"quote\": \"c2d4LXF1b3Rl\"}");
    ccz_buf_free(&ev64);
    if (!att_body[0] || !att_body[1] || !att_policy_body || !kbs_body[0] || !kbs_body[1])
        return 1;
    /* the fuzz target's gRPC server, and four of its seeds */
    if (!(rpc_srv = fuzz_rpc_server()))
        return 1;
    static const char *const rpc_seeds[] = {"unary", "unary-md", "server-streaming",
                                            "client-streaming"};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(rpc_seeds); i++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/fuzz/corpus/rpc_request/%s", src ? src : ".", rpc_seeds[i]);
        if (ccz_file_read(&rpc_inputs[i], path, 1u << 20))
            return 1;
    }
    (void)fuzz_serving_server(); /* its models loaded before the hook is armed */
    /* the fuzz corpora the client-side targets read */
    static const char *const answers[] = {"all_ok", "compressed", "trailers_only",
                                          "binary_metadata"};
    static const char *const crls[] = {"hex.txt", "pem.crl", "der.crl"};
    static const char *const anchor_names[] = {"sim_root_pem", "intel_root_der", "amd_ark",
                                               "hygon_hrk",    "cca_store_tfa",  "cca_store_ok"};
    static const char *const plan_names[] = {"homo_ok", "hfl_ok", "hetero_ok"};
    static const char *const secagg_names[] = {"keylist-valid", "shares-bad-tag", "plan-valid"};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(answers); i++)
        if (read_corpus(&rpc_answers[i], src, "rpc_response", answers[i]))
            return 1;
    for (size_t i = 0; i < 3; i++)
        if (read_corpus(&crl_bodies[i], src, "crl_body", crls[i]) ||
            read_corpus(&plans[i], src, "fl_client_plan", plan_names[i]) || plans[i].len < 1 ||
            read_corpus(&secagg_msgs[i], src, "fl_secagg", secagg_names[i]))
            return 1;
    for (size_t i = 0; i < CCZ_ARRAY_LEN(anchors); i++)
        if (read_corpus(&anchors[i], src, "trust_anchors", anchor_names[i]) || anchors[i].len < 1)
            return 1;
    mpz_t lr_n;
    mpz_init_set_str(lr_n, lr_modulus, 10);
    bool s_ok = ccz_paillier_pub_new(&lr_pk, lr_n) == CCZ_OK;
    mpz_clear(lr_n);
    if (!s_ok || read_corpus(&collateral_json[0], src, "dcap_collateral", "sgx.json") ||
        read_corpus(&collateral_json[1], src, "dcap_collateral", "tdx.json") ||
        ccz_buf_append(&collateral_json[0], "    ", 4) ||
        ccz_buf_append(&collateral_json[1], "    ", 4) ||
        read_corpus(&lr_weights[0], src, "homo_lr_weights", "three") ||
        read_corpus(&lr_weights[1], src, "homo_lr_weights", "thirty-one") ||
        read_corpus(&idx_file, src, "mlp_idx", "valid") || idx_file.len < 1)
        return 1;
    /* the more parsers' seeds */
    for (size_t i = 0; i < CCZ_ARRAY_LEN(hfl_updates); i++)
        if (read_corpus(&hfl_updates[i], src, "fl_update", hfl_update_names[i]))
            return 1;
    for (size_t i = 0; i < CCZ_ARRAY_LEN(hfl_streams); i++)
        if (read_corpus(&hfl_streams[i], src, "fl_update_stream", hfl_stream_names[i]))
            return 1;
    for (size_t i = 0; i < CCZ_ARRAY_LEN(ml_csvs); i++)
        if (read_corpus(&ml_csvs[i], src, "ml_csv", ml_csv_names[i]))
            return 1;
    for (size_t i = 0; i < CCZ_ARRAY_LEN(predict_reqs); i++) {
        ccz_buf b = CCZ_BUF_INIT;
        if (read_corpus(&b, src, "serving_grpc", serving_grpc_names[i]) ||
            !(predict_reqs[i] = tensorflow__serving__predict_request__unpack(NULL, b.len, b.ptr)))
            return 1;
        ccz_buf_free(&b);
    }
    return 0;
}

static void rm_simdir(void)
{
    static const char *files[] = {"root.crt",   "root.key", "ak.crt",   "ak.key",
                                  "signer.key", "svc.json", "hfl.ckpt", "secret.bin"};
    char path[8192];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", simdir, files[i]);
        remove(path);
    }
    remove(simdir);
}

int main(int argc, char **argv)
{
    bool have_vectors;
    trace = getenv("ALLOC_TRACE") != NULL;
    ccz_log_set_level(CCZ_LOG_OFF); /* the failures are expected; their warnings are noise */
    if (setup(&have_vectors)) {
        printf("FAIL setup: %s\n", ccz_error_detail());
        return 1;
    }
    const char *cap_env = getenv("ALLOC_POSITIONS");
    long cap = cap_env ? atol(cap_env) : MAX_POSITIONS;
    if (cap <= 0 || cap > MAX_POSITIONS)
        cap = MAX_POSITIONS;
    int failures = 0, ran = 0, skipped = 0;
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        bool chosen = argc < 2;
        for (int a = 1; a < argc; a++)
            chosen |= strcmp(argv[a], targets[i].name) == 0;
        if (!chosen)
            continue;
        if (targets[i].vectors && !have_vectors) {
            const char *ci = getenv("CI");
            if (ci && (!strcmp(ci, "true") || !strcmp(ci, "1"))) {
                printf("FAIL %s: the recorded vectors are missing at %s (CI needs them)\n",
                       targets[i].name, vectors);
                failures++;
            } else {
                printf("SKIP %s: no recorded vectors at %s\n", targets[i].name, vectors);
                skipped++;
            }
            continue;
        }
        ran++;
        failures += check_target((int)i, cap);
    }
    rm_simdir();
    ccz_buf_free(&sgx_quote), ccz_buf_free(&sgx_col), ccz_buf_free(&tdx_quote);
    ccz_buf_free(&tdx_col), ccz_buf_free(&snp_report), ccz_buf_free(&snp_vek);
    ccz_buf_free(&paillier_json), ccz_buf_free(&sim_evidence), ccz_buf_free(&ratls_der);
    ccz_buf_free(&he_params), ccz_buf_free(&he_ct);
    ccz_heq_query_free(&heq_query);
    ccz_heq_server_free(heq_server);
    ccz_heq_db_free(heq_db);
    for (size_t i = 0; i < CCZ_ARRAY_LEN(onnx_models); i++)
        ccz_buf_free(&onnx_models[i]);
    for (size_t i = 0; i < CCZ_ARRAY_LEN(onnx_more); i++)
        ccz_buf_free(&onnx_more[i]);
    for (size_t i = 0; i < CCZ_ARRAY_LEN(kms_material); i++)
        ccz_buf_free(&kms_material[i]);
    EVP_PKEY_free(jose_ec);
    EVP_PKEY_free(jose_rsa);
    ccz_paillier_key_free(batch_key);
    ccz_psi_set_free(psi_sets[0]);
    ccz_psi_set_free(psi_sets[1]);
    jose_signer_free(att_state.signer);
    json_decref(att_body[0]);
    json_decref(att_body[1]);
    ccz_eventlog_free(att_eventlog);
    json_decref(att_policy_body);
    json_decref(kbs_body[0]);
    json_decref(kbs_body[1]);
    ccz_rpc_server_free(rpc_srv);
    for (size_t i = 0; i < CCZ_ARRAY_LEN(rpc_inputs); i++)
        ccz_buf_free(&rpc_inputs[i]);
    for (size_t i = 0; i < CCZ_ARRAY_LEN(rpc_answers); i++)
        ccz_buf_free(&rpc_answers[i]);
    for (size_t i = 0; i < 3; i++) {
        ccz_buf_free(&crl_bodies[i]);
        ccz_buf_free(&plans[i]), ccz_buf_free(&secagg_msgs[i]);
    }
    for (size_t i = 0; i < CCZ_ARRAY_LEN(anchors); i++)
        ccz_buf_free(&anchors[i]);
    for (size_t i = 0; i < 2; i++)
        ccz_buf_free(&collateral_json[i]), ccz_buf_free(&lr_weights[i]);
    ccz_buf_free(&idx_file);
    for (size_t i = 0; i < CCZ_ARRAY_LEN(ml_csvs); i++)
        ccz_buf_free(&ml_csvs[i]);
    for (size_t i = 0; i < CCZ_ARRAY_LEN(hfl_updates); i++)
        ccz_buf_free(&hfl_updates[i]);
    for (size_t i = 0; i < CCZ_ARRAY_LEN(hfl_streams); i++)
        ccz_buf_free(&hfl_streams[i]);
    for (size_t i = 0; i < CCZ_ARRAY_LEN(predict_reqs); i++)
        protobuf_c_message_free_unpacked(&predict_reqs[i]->base, NULL);
    ccz_paillier_pub_free(lr_pk);
    ccz_trust_free(builtin);
    ccz_trust_free(sim_trust);
    ccz_attester_free(sim_att);
    printf("%d targets run, %d failed, %d skipped\n", ran, failures, skipped);
    return failures ? 1 : ran ? 0 : 77;
}
