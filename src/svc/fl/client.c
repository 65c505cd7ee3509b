/* SPDX-License-Identifier: Apache-2.0 */
/* A worker of the homomorphic LR service (include/ccz/fl.h): GetPubKey, the iterations of
 * AggregateModel and Validate, Finish, over one channel so the server knows the calls as one
 * worker's. The server's key, plan and weights are checked before use. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ccz/fl.h"
#include "core/guard.h"
#include "homo_lr.pb-c.h"
#include "svc/fl/clients.h"
#include "svc/fl/party.h"
#include "core/pb.h"

static ccz_status unary(ccz_rpc_channel *ch, const ccz_fl_hlr_work_opts *o, const char *method,
                        const ProtobufCMessage *req, const ProtobufCMessageDescriptor *desc,
                        ProtobufCMessage **resp, ccz_fl_hlr_work_result *out)
{
    fl_call_status st = {&out->code, &out->method, out->message, sizeof out->message};
    return fl_unary(ch, "homolr.Host", method, o->deadline_ms, req, desc, resp, st);
}

typedef fl_hlr_plan plan;

ccz_status fl_hlr_read_plan(plan *p, const Homolr__KeyReply *r, const ccz_ml_dataset *d)
{
    ccz_status s;
    Homolr__PaillierPublicKey *k = (Homolr__PaillierPublicKey *)ccz_pb_unpack(
        &s, &homolr__paillier_public_key__descriptor, CCZ_SPAN(r->key.data, r->key.len), "");
    if (!k)
        return s == CCZ_ERR_NOMEM ? s
                                  : ccz_fail(CCZ_ERR_PROTOCOL, "the server's key is not a "
                                                               "PaillierPublicKey message");
    mpz_t n;
    mpz_init(n);
    mpz_import(n, k->n.len, 1, 1, 1, 0, k->n.data);
    homolr__paillier_public_key__free_unpacked(k, NULL);
    s = ccz_paillier_pub_new(&p->pk, n);
    mpz_clear(n);
    if (s)
        return ccz_fail_context(s, "the server's Paillier key");
    CCZ_ENSURE(r->iterations >= 1 && r->iterations <= 1000000 && r->validate_every >= 1 &&
                   isfinite(r->alpha) && r->alpha >= 0 && r->alpha < 1e6 &&
                   isfinite(r->learning_rate) && r->learning_rate > 0 && r->learning_rate < 1e6,
               CCZ_ERR_PROTOCOL,
               "the server's plan is out of range (%d iterations, validation every %d, alpha "
               "%g, learning rate %g)",
               r->iterations, r->validate_every, r->alpha, r->learning_rate);
    CCZ_ENSURE(r->features == 0 || (size_t)r->features == d->features, CCZ_ERR_INVALID_ARGUMENT,
               "the server's model has %d features; this data set has %zu", r->features,
               d->features);
    p->iterations = (unsigned)r->iterations;
    p->every = (unsigned)r->validate_every;
    p->alpha = r->alpha;
    p->learning_rate = r->learning_rate;
    return CCZ_OK;
}

static ccz_paillier_number *numbers(size_t n)
{
    ccz_paillier_number *x = calloc(n, sizeof *x);
    for (size_t i = 0; x && i < n; i++)
        ccz_paillier_number_init(&x[i]);
    return x;
}

static void numbers_free(ccz_paillier_number *x, size_t n)
{
    for (size_t i = 0; x && i < n; i++)
        ccz_paillier_number_clear(&x[i]);
    free(x);
}

/* The iterations: the step, AggregateModel, and Validate after the validated ones. */
static ccz_status train(ccz_rpc_channel *ch, const ccz_fl_hlr_work_opts *o, const plan *p,
                        ccz_fl_hlr_worker *wk, ccz_paillier_number *w, ccz_fl_hlr_work_result *out)
{
    size_t dim = ccz_fl_hlr_worker_dim(wk);
    ccz_buf msg = CCZ_BUF_INIT;
    ProtobufCMessage *resp;
    ccz_status s = ccz_fl_hlr_initial(w, wk);
    double start = fl_now();
    for (unsigned t = 0; t < p->iterations && s == CCZ_OK; t++) {
        double t0 = fl_now();
        s = ccz_fl_hlr_step(wk, w, w, t);
        msg.len = 0;
        if (s == CCZ_OK)
            s = ccz_fl_hlr_weights_write(&msg, w, dim);
        if (s)
            break;
        Homolr__WeightsRequest wr = HOMOLR__WEIGHTS_REQUEST__INIT;
        wr.id = o->id;
        wr.iter_n = (int32_t)t;
        wr.weights = (ProtobufCBinaryData){msg.len, msg.ptr};
        s = unary(ch, o, "AggregateModel", &wr.base, &homolr__weights_reply__descriptor, &resp,
                  out);
        if (s || out->code)
            break;
        const Homolr__WeightsReply *r = (const Homolr__WeightsReply *)resp;
        s = ccz_fl_hlr_weights_parse(w, dim, p->pk, r->updated_weights.data,
                                     r->updated_weights.len);
        protobuf_c_message_free_unpacked(resp, NULL);
        if (s) {
            s = ccz_fail_context(CCZ_ERR_PROTOCOL, "iteration %u: the server's weights", t);
            break;
        }
        out->iterations = t + 1;
        out->seconds = fl_now() - start;
        int validated = -1;
        if (t % p->every == 0 || t + 1 == p->iterations) {
            Homolr__Empty e = HOMOLR__EMPTY__INIT;
            s = unary(ch, o, "Validate", &e.base, &homolr__validate_reply__descriptor, &resp, out);
            if (s || out->code)
                break;
            const Homolr__ValidateReply *vr = (const Homolr__ValidateReply *)resp;
            validated = out->validated = vr->iter_n;
            out->acc = vr->acc;
            out->loss = vr->loss;
            protobuf_c_message_free_unpacked(resp, NULL);
        }
        if (o->progress)
            o->progress(t, p->iterations, fl_now() - t0, validated, out->acc, out->loss,
                        o->payload);
    }
    ccz_buf_free(&msg);
    return s;
}

ccz_status ccz_fl_hlr_work(ccz_rpc_channel *ch, const ccz_fl_hlr_work_opts *o,
                           const ccz_ml_dataset *d, ccz_fl_hlr_work_result *out)
{
    CCZ_ENSURE(o && o->version == CCZ_FL_HLR_WORK_OPTS_VERSION && d && d->rows,
               CCZ_ERR_INVALID_ARGUMENT, "ccz_fl_hlr_work: version %u (expected %u) and rows",
               o ? o->version : 0, CCZ_FL_HLR_WORK_OPTS_VERSION);
    memset(out, 0, sizeof *out);
    out->validated = -1;
    ProtobufCMessage *resp;
    Homolr__KeyRequest kr = HOMOLR__KEY_REQUEST__INIT;
    kr.id = o->id;
    kr.name = (char *)(o->name ? o->name : "");
    CCZ_GUARD(unary(ch, o, "GetPubKey", &kr.base, &homolr__key_reply__descriptor, &resp, out));
    if (out->code)
        return CCZ_OK;
    plan p = {0};
    ccz_status s = fl_hlr_read_plan(&p, (const Homolr__KeyReply *)resp, d);
    protobuf_c_message_free_unpacked(resp, NULL);
    ccz_fl_hlr_opts wo = CCZ_FL_HLR_OPTS_INIT;
    wo.alpha = p.alpha;
    wo.learning_rate = p.learning_rate;
    wo.threads = o->threads;
    ccz_fl_hlr_worker *wk = NULL;
    ccz_paillier_number *w = NULL;
    if (s == CCZ_OK)
        s = ccz_fl_hlr_worker_new(&wk, p.pk, d, &wo);
    if (s == CCZ_OK && !(w = numbers(d->features + 1)))
        s = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    if (s == CCZ_OK)
        s = train(ch, o, &p, wk, w, out);
    if (s == CCZ_OK && out->code == CCZ_RPC_OK) {
        Homolr__Empty e = HOMOLR__EMPTY__INIT;
        s = unary(ch, o, "Finish", &e.base, &homolr__empty__descriptor, &resp, out);
        if (s == CCZ_OK && out->code == CCZ_RPC_OK)
            protobuf_c_message_free_unpacked(resp, NULL);
    }
    numbers_free(w, d->features + 1);
    ccz_fl_hlr_worker_free(wk);
    ccz_paillier_pub_free(p.pk);
    return s;
}
