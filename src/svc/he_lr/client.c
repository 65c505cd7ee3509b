/* SPDX-License-Identifier: Apache-2.0 */
/* The client of encrypted LR inference (include/ccz/he_lr.h): keys, InitCtx, the samples
 * encrypted feature by feature and sent a batch (N/2 samples) per Infer call, the results
 * decrypted. The secret key stays here and is wiped; the server's answers are untrusted and go
 * through the lattice loader. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ccz/he_lr.h"
#include "core/guard.h"
#include "he_lr.pb-c.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct {
    const ccz_lattice_context *ctx;
    const ccz_lattice_secret_key *sk;
    const ccz_he_lr_data *d;
    size_t first, count; /* the batch's rows */
    unsigned level;
    ccz_buf *cts; /* one per feature */
} enc_job;

/* Features [begin, end) of the batch: encoded at the parameters' scale, encrypted with the
 * secret key (the client holds it: less noise than with the public key) into seeded
 * ciphertexts (the uniform half sent as its seed: half the bytes). */
static ccz_status encrypt_features(size_t begin, size_t end, void *arg)
{
    const enc_job *j = arg;
    const ccz_lattice_context *ctx = j->ctx;
    double scale = ccz_lattice_context_params(ctx)->scale;
    ccz_lattice_plaintext *pt = NULL;
    double *v = malloc(j->count * sizeof *v);
    ccz_status s =
        v ? ccz_lattice_plaintext_new(&pt, ctx) : ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    for (size_t k = begin; k < end && s == CCZ_OK; k++) {
        for (size_t i = 0; i < j->count; i++)
            v[i] = j->d->x[(j->first + i) * j->d->features + k];
        s = ccz_lattice_ckks_encode_real(pt, ctx, v, j->count, scale, j->level);
        ccz_buf_reset(&j->cts[k]);
        if (s == CCZ_OK)
            s = ccz_lattice_encrypt_sk_save(&j->cts[k], ctx, j->sk, pt);
    }
    if (v)
        ccz_wipe(v, j->count * sizeof *v);
    free(v);
    ccz_lattice_plaintext_free(pt);
    return s;
}

/* One unary call: CCZ_OK when it completed, its status in out (the caller stops on any code
 * but OK); an error when it could not be made. */
static ccz_status call(ccz_rpc_channel *ch, const ccz_he_lr_infer_opts *o, const char *method,
                       const ProtobufCMessage *req, const ProtobufCMessageDescriptor *desc,
                       ProtobufCMessage **resp, ccz_he_lr_infer_result *out)
{
    char path[64];
    snprintf(path, sizeof path, "/inference.Inference/%s", method);
    ccz_rpc_call_opts co = {CCZ_RPC_CALL_OPTS_VERSION, o->deadline_ms, NULL};
    ccz_rpc_status st;
    *resp = NULL;
    CCZ_GUARD(ccz_rpc_unary(ch, resp, &st, path, req, desc, &co));
    out->code = st.code;
    out->method = method;
    snprintf(out->message, sizeof out->message, "%s", st.message);
    const ccz_buf *t = ccz_rpc_md_get(&st.trailers, "ccz-he-lr-times");
    if (t)
        snprintf(out->server_times, sizeof out->server_times, "%.*s", (int)t->len,
                 (const char *)t->ptr);
    ccz_rpc_status_free(&st);
    return CCZ_OK;
}

typedef struct {
    ccz_lattice_context *ctx;
    ccz_lattice_secret_key *sk;
    ccz_lattice_public_key *pk;
    ccz_lattice_relin_keys *rk;
    ccz_lattice_plaintext *pt;
    ccz_lattice_ciphertext *ct;
    ccz_buf params, pkb, rkb;
    ccz_buf *cts;
    size_t n_cts;
    double complex *slots;
    size_t n_slots;
} client;

static void client_free(client *c)
{
    for (size_t i = 0; c->cts && i < c->n_cts; i++)
        ccz_buf_free(&c->cts[i]);
    free(c->cts);
    ccz_buf_free(&c->params);
    ccz_buf_free(&c->pkb);
    ccz_buf_free(&c->rkb);
    if (c->slots)
        ccz_wipe(c->slots, c->n_slots * sizeof *c->slots);
    free(c->slots);
    ccz_lattice_ciphertext_free(c->ct);
    ccz_lattice_plaintext_free(c->pt);
    ccz_lattice_relin_keys_free(c->rk);
    ccz_lattice_public_key_free(c->pk);
    ccz_lattice_secret_key_free(c->sk);
    ccz_lattice_context_free(c->ctx);
}

/* Keys and InitCtx; *level gets the level to encrypt at. */
static ccz_status init(client *c, ccz_rpc_channel *ch, const ccz_he_lr_infer_opts *o,
                       const ccz_he_lr_data *d, ccz_he_lr_infer_result *out)
{
    ccz_lattice_params p;
    CCZ_GUARD(ccz_he_lr_params(&p, o->preset));
    double t0 = now();
    CCZ_GUARD(ccz_lattice_context_new(&c->ctx, &p));
    CCZ_GUARD(ccz_lattice_keygen(&c->sk, &c->pk, c->ctx));
    CCZ_GUARD(ccz_lattice_relin_keygen(&c->rk, c->ctx, c->sk));
    CCZ_GUARD(ccz_lattice_params_save(&c->params, c->ctx));
    CCZ_GUARD(ccz_lattice_public_key_save(&c->pkb, c->pk));
    CCZ_GUARD(ccz_lattice_relin_keys_save(&c->rkb, c->rk));
    out->keygen_s = now() - t0;
    out->params_bytes = c->params.len;
    out->pk_bytes = c->pkb.len;
    out->rlk_bytes = c->rkb.len;

    Inference__InitCtxRequest req = INFERENCE__INIT_CTX_REQUEST__INIT;
    req.params = (ProtobufCBinaryData){c->params.len, c->params.ptr};
    req.pub_key = (ProtobufCBinaryData){c->pkb.len, c->pkb.ptr};
    req.relin_key = (ProtobufCBinaryData){c->rkb.len, c->rkb.ptr};
    req.security_level = p.no_security_check ? 0 : 128;
    req.scale = p.scale;
    ProtobufCMessage *resp;
    t0 = now();
    CCZ_GUARD(
        call(ch, o, "InitCtx", &req.base, &inference__init_ctx_reply__descriptor, &resp, out));
    out->init_s = now() - t0;
    if (out->code != CCZ_RPC_OK)
        return CCZ_OK;
    const Inference__InitCtxReply *r = (const Inference__InitCtxReply *)resp;
    int features = r->features, level = r->level;
    protobuf_c_message_free_unpacked(resp, NULL);
    CCZ_ENSURE(features == 0 || (size_t)features == d->features, CCZ_ERR_INVALID_ARGUMENT,
               "the server's model has %d features, the data %zu", features, d->features);
    unsigned L = ccz_lattice_max_level(c->ctx);
    out->level = level ? (unsigned)level : L;
    CCZ_ENSURE(out->level >= 1 && out->level <= L, CCZ_ERR_PROTOCOL,
               "the server asks for level %d; the chain has %u data primes", level, L);
    return CCZ_OK;
}

/* One batch: encrypted, sent, its probabilities decrypted into out->p. */
static ccz_status batch(client *c, ccz_rpc_channel *ch, const ccz_he_lr_infer_opts *o,
                        const ccz_he_lr_data *d, size_t first, size_t count,
                        ccz_he_lr_infer_result *out)
{
    enc_job ej = {c->ctx, c->sk, d, first, count, out->level, c->cts};
    double t0 = now();
    CCZ_GUARD(ccz_parallel(d->features, o->threads, encrypt_features, &ej));
    out->encrypt_s += now() - t0;

    ProtobufCBinaryData *data = calloc(d->features, sizeof *data);
    CCZ_ENSURE(data, CCZ_ERR_NOMEM, "out of memory");
    for (size_t k = 0; k < d->features; k++) {
        data[k] = (ProtobufCBinaryData){c->cts[k].len, c->cts[k].ptr};
        out->data_bytes += c->cts[k].len;
    }
    Inference__InferRequest req = INFERENCE__INFER_REQUEST__INIT;
    req.n_data = d->features;
    req.data = data;
    req.batches = 1;
    req.batch_size = (int32_t)d->features;
    ProtobufCMessage *resp;
    t0 = now();
    ccz_status s = call(ch, o, "Infer", &req.base, &inference__infer_reply__descriptor, &resp, out);
    out->infer_s += now() - t0;
    free(data);
    if (s || out->code != CCZ_RPC_OK)
        return s;

    t0 = now();
    const Inference__InferReply *r = (const Inference__InferReply *)resp;
    if (r->n_result != 1)
        s = ccz_fail(CCZ_ERR_PROTOCOL, "the server answered %zu ciphertexts for one batch",
                     r->n_result);
    if (s == CCZ_OK) {
        out->result_bytes += r->result[0].len;
        s = ccz_lattice_ciphertext_load(c->ct, c->ctx,
                                        CCZ_SPAN(r->result[0].data, r->result[0].len));
        if (s)
            s = ccz_fail_context(s, "the server's result");
    }
    protobuf_c_message_free_unpacked(resp, NULL);
    if (s == CCZ_OK)
        s = ccz_lattice_decrypt(c->pt, c->ctx, c->sk, c->ct);
    if (s == CCZ_OK)
        s = ccz_lattice_ckks_decode(c->slots, c->ctx, c->pt);
    for (size_t i = 0; s == CCZ_OK && i < count; i++)
        out->p[first + i] = creal(c->slots[i]);
    out->decrypt_s += now() - t0;
    return s;
}

ccz_status ccz_he_lr_infer(ccz_rpc_channel *ch, const ccz_he_lr_infer_opts *o,
                           const ccz_he_lr_data *d, ccz_he_lr_infer_result *out)
{
    memset(out, 0, sizeof *out);
    out->method = "";
    CCZ_ENSURE(o && o->version == CCZ_HE_LR_INFER_OPTS_VERSION, CCZ_ERR_INVALID_ARGUMENT,
               "ccz_he_lr_infer_opts: version %u, expected %u", o ? o->version : 0,
               CCZ_HE_LR_INFER_OPTS_VERSION);
    CCZ_ENSURE(d->rows && d->features, CCZ_ERR_INVALID_ARGUMENT, "no data");
    client c = {0};
    ccz_status s = init(&c, ch, o, d, out);
    if (s || out->code != CCZ_RPC_OK) {
        client_free(&c);
        return s;
    }
    size_t slots = ccz_lattice_slots(c.ctx);
    out->p = calloc(d->rows, sizeof *out->p);
    c.cts = calloc(d->features, sizeof *c.cts);
    c.n_cts = d->features;
    c.slots = calloc(slots, sizeof *c.slots);
    c.n_slots = c.slots ? slots : 0;
    if (!out->p || !c.cts || !c.slots)
        s = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    if (s == CCZ_OK)
        s = ccz_lattice_plaintext_new(&c.pt, c.ctx);
    if (s == CCZ_OK)
        s = ccz_lattice_ciphertext_new(&c.ct, c.ctx);
    for (size_t first = 0; s == CCZ_OK && out->code == CCZ_RPC_OK && first < d->rows;
         first += slots) {
        size_t count = d->rows - first < slots ? d->rows - first : slots;
        s = batch(&c, ch, o, d, first, count, out);
    }
    if (s == CCZ_OK && out->code == CCZ_RPC_OK)
        out->rows = d->rows;
    client_free(&c);
    return s;
}

void ccz_he_lr_infer_result_free(ccz_he_lr_infer_result *r)
{
    if (!r)
        return;
    free(r->p);
    r->p = NULL;
    r->rows = 0;
}
