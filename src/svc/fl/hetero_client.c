/* SPDX-License-Identifier: Apache-2.0 */
/* A party of the hetero-LR service (include/ccz/fl.h): the guest or a host, over one channel to
 * the arbiter so it knows the calls as one party's. The arbiter's key, plan, ids, ciphertexts and
 * decryptions are checked before use. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ccz/fl.h"
#include "core/guard.h"
#include "hetero_lr.pb-c.h"
#include "svc/fl/clients.h"
#include "svc/fl/party.h"

static ccz_status unary(ccz_rpc_channel *ch, const ccz_fl_vlr_run_opts *o, const char *method,
                        const ProtobufCMessage *req, const ProtobufCMessageDescriptor *desc,
                        ProtobufCMessage **resp, ccz_fl_vlr_run_result *out)
{
    fl_call_status st = {&out->code, &out->method, out->message, sizeof out->message};
    return fl_unary(ch, "heterolr.Arbiter", method, o->deadline_ms, req, desc, resp, st);
}

typedef struct {
    ccz_paillier_pub *pk;
    mpz_t n2;
    ccz_ml_dataset rows; /* aligned */
    ccz_fl_vlr_party *p;
    unsigned epochs;
    bool guest;
    mpz_t *a, *b; /* batch-sized scratch */
    mpz_t sq, loss;
    size_t batch;
} run;

static mpz_t *mpzs(size_t n)
{
    mpz_t *a = calloc(n ? n : 1, sizeof *a);
    for (size_t i = 0; a && i < n; i++)
        mpz_init(a[i]);
    return a;
}

static void mpzs_free(mpz_t *a, size_t n)
{
    for (size_t i = 0; a && i < n; i++)
        mpz_clear(a[i]);
    free(a);
}

/* count values of the arbiter's into out: ciphertexts (in [1, n^2)) or plaintexts ([0, n)) */
static ccz_status take(mpz_t *out, const run *r, const ProtobufCBinaryData *in, size_t n_in,
                       size_t count, bool plaintext, const char *what)
{
    CCZ_ENSURE(n_in == count, CCZ_ERR_PROTOCOL, "the arbiter sent %zu %s; expected %zu", n_in, what,
               count);
    mpz_t n;
    mpz_init(n);
    ccz_paillier_pub_n(n, r->pk);
    size_t max = (mpz_sizeinbase(r->n2, 2) + 7) / 8;
    ccz_status s = CCZ_OK;
    for (size_t i = 0; i < count && s == CCZ_OK; i++) {
        if (in[i].len > max) {
            s = ccz_fail(CCZ_ERR_PROTOCOL, "the arbiter's %s %zu is too long", what, i);
            break;
        }
        mpz_import(out[i], in[i].len, 1, 1, 1, 0, in[i].data);
        bool ok =
            plaintext ? mpz_cmp(out[i], n) < 0 : mpz_sgn(out[i]) > 0 && mpz_cmp(out[i], r->n2) < 0;
        if (!ok)
            s = ccz_fail(CCZ_ERR_PROTOCOL, "the arbiter's %s %zu is out of range", what, i);
    }
    mpz_clear(n);
    return s;
}

static ProtobufCBinaryData *to_bytes(const mpz_t *x, size_t count)
{
    ProtobufCBinaryData *b = calloc(count ? count : 1, sizeof *b);
    for (size_t i = 0; b && i < count; i++)
        b[i].data = mpz_export(NULL, &b[i].len, 1, 1, 1, 0, x[i]);
    return b;
}

static void free_bytes(ProtobufCBinaryData *b, size_t count)
{
    for (size_t i = 0; b && i < count; i++)
        free(b[i].data);
    free(b);
}

ccz_status fl_vlr_plan_check(const Heterolr__JoinReply *j)
{
    CCZ_ENSURE(j->epochs >= 1 && j->epochs <= 1024 && j->batch_size >= 1 &&
                   (size_t)j->batch_size <= j->n_ids && j->n_ids >= 2 && isfinite(j->alpha) &&
                   j->alpha >= 0 && j->alpha < 1e6 && isfinite(j->learning_rate) &&
                   j->learning_rate > 0 && j->learning_rate < 1e6 && isfinite(j->momentum) &&
                   j->momentum < 1,
               CCZ_ERR_PROTOCOL,
               "the arbiter's plan is out of range (%d epochs, batches of %d of %zu rows, alpha "
               "%g, learning rate %g, momentum %g)",
               j->epochs, j->batch_size, j->n_ids, j->alpha, j->learning_rate, j->momentum);
    return CCZ_OK;
}

/* The plan from JoinReply: the key, the aligned rows, the party. */
static ccz_status start(run *r, const Heterolr__JoinReply *j, const ccz_ml_dataset *d,
                        const ccz_fl_vlr_run_opts *o)
{
    mpz_t n;
    mpz_init(n);
    mpz_import(n, j->n.len, 1, 1, 1, 0, j->n.data);
    ccz_status s = ccz_paillier_pub_new(&r->pk, n);
    mpz_clear(n);
    if (s)
        return ccz_fail_context(s, "the arbiter's Paillier key");
    /* DJN randomizers (h_s^r, r of half the key's bits, from a fixed-base table): this party's
     * encryptions (its scores, its masks) about twice as fast; the party makes its own h_s */
    CCZ_GUARD(ccz_paillier_pub_set_djn(r->pk, NULL));
    ccz_paillier_pub_n(r->n2, r->pk);
    mpz_mul(r->n2, r->n2, r->n2);
    CCZ_GUARD(fl_vlr_plan_check(j));
    CCZ_GUARD(ccz_fl_vlr_align(&r->rows, d, j->ids, j->n_ids));
    ccz_fl_vlr_opts po = CCZ_FL_VLR_OPTS_INIT;
    po.alpha = j->alpha;
    po.learning_rate = j->learning_rate;
    po.momentum = j->momentum;
    po.batch_size = (size_t)j->batch_size;
    po.threads = o->threads;
    CCZ_GUARD(ccz_fl_vlr_party_new(&r->p, r->pk, &r->rows, &po));
    r->epochs = (unsigned)j->epochs;
    r->batch = (size_t)j->batch_size;
    r->a = mpzs(r->batch);
    r->b = mpzs(r->batch);
    CCZ_ENSURE(r->a && r->b, CCZ_ERR_NOMEM, "out of memory");
    return CCZ_OK;
}

/* The guest's half of a step: the hosts' scores in, the residuals and the loss out. */
static ccz_status guest_step(ccz_rpc_channel *ch, const ccz_fl_vlr_run_opts *o, run *r,
                             unsigned step, ccz_fl_vlr_run_result *out)
{
    size_t rows = ccz_fl_vlr_batch_rows(r->p, step);
    ProtobufCMessage *resp;
    Heterolr__Step sr = HETEROLR__STEP__INIT;
    sr.step = (int32_t)step;
    CCZ_GUARD(
        unary(ch, o, "HostForwards", &sr.base, &heterolr__forward_reply__descriptor, &resp, out));
    if (out->code)
        return CCZ_OK;
    const Heterolr__ForwardReply *fr = (const Heterolr__ForwardReply *)resp;
    ccz_status s = take(r->a, r, fr->forward, fr->n_forward, rows, false, "scores");
    bool with_loss = fr->square.len > 0;
    if (s == CCZ_OK && with_loss)
        s = take(&r->sq, r, &fr->square, 1, 1, false, "square");
    else if (s == CCZ_OK) /* several hosts: no loss; any ciphertext stands in for sq */
        mpz_set(r->sq, r->a[0]);
    protobuf_c_message_free_unpacked(resp, NULL);
    if (s == CCZ_OK)
        s = ccz_fl_vlr_residuals(r->p, r->b, with_loss ? &r->loss : NULL, (const mpz_t *)r->a,
                                 r->sq, step);
    ProtobufCBinaryData *res = s == CCZ_OK ? to_bytes((const mpz_t *)r->b, rows) : NULL;
    ProtobufCBinaryData *lb =
        s == CCZ_OK && with_loss ? to_bytes((const mpz_t *)&r->loss, 1) : NULL;
    if (s == CCZ_OK && (!res || (with_loss && !lb)))
        s = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    if (s == CCZ_OK) {
        Heterolr__ResidualsRequest rr = HETEROLR__RESIDUALS_REQUEST__INIT;
        rr.step = (int32_t)step;
        rr.n_residuals = rows;
        rr.residuals = res;
        if (lb)
            rr.loss = lb[0];
        s = unary(ch, o, "Residuals", &rr.base, &heterolr__empty__descriptor, &resp, out);
        if (s == CCZ_OK && !out->code)
            protobuf_c_message_free_unpacked(resp, NULL);
    }
    free_bytes(res, rows);
    free_bytes(lb, 1);
    return s;
}

/* A host's half: its scores out, the residuals in (into r->b). */
static ccz_status host_step(ccz_rpc_channel *ch, const ccz_fl_vlr_run_opts *o, run *r,
                            unsigned step, ccz_fl_vlr_run_result *out)
{
    size_t rows = ccz_fl_vlr_batch_rows(r->p, step);
    CCZ_GUARD(ccz_fl_vlr_forward(r->p, r->a, r->sq, step));
    ProtobufCBinaryData *fw = to_bytes((const mpz_t *)r->a, rows),
                        *sq = to_bytes((const mpz_t *)&r->sq, 1);
    ccz_status s = fw && sq ? CCZ_OK : ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    ProtobufCMessage *resp = NULL;
    if (s == CCZ_OK) {
        Heterolr__ForwardRequest fr = HETEROLR__FORWARD_REQUEST__INIT;
        fr.step = (int32_t)step;
        fr.n_forward = rows;
        fr.forward = fw;
        fr.square = sq[0];
        s = unary(ch, o, "Forward", &fr.base, &heterolr__ciphertexts__descriptor, &resp, out);
    }
    free_bytes(fw, rows);
    free_bytes(sq, 1);
    if (s || out->code)
        return s;
    const Heterolr__Ciphertexts *c = (const Heterolr__Ciphertexts *)resp;
    s = take(r->b, r, c->values, c->n_values, rows, false, "residuals");
    protobuf_c_message_free_unpacked(resp, NULL);
    return s;
}

static void trace(FILE *f, const run *r, unsigned epoch)
{
    size_t dim = ccz_fl_vlr_dim(r->p);
    const double *w = ccz_fl_vlr_weights(r->p);
    fprintf(f, "{\"epoch\": %u, \"weights\": [", epoch);
    for (size_t j = 0; j < dim; j++)
        fprintf(f, "%s%.17g", j ? ", " : "", w[j]);
    fputs("]}\n", f);
    fflush(f);
}

/* Every step, until the arbiter says stop. */
static ccz_status train(ccz_rpc_channel *ch, const ccz_fl_vlr_run_opts *o, run *r,
                        ccz_fl_vlr_run_result *out)
{
    size_t dim = ccz_fl_vlr_dim(r->p), nb = ccz_fl_vlr_batches(r->p);
    mpz_t *g = mpzs(dim);
    CCZ_ENSURE(g, CCZ_ERR_NOMEM, "out of memory");
    ccz_status s = CCZ_OK;
    double start = fl_now(), epoch_start = start;
    for (unsigned step = 0; s == CCZ_OK; step++) {
        if (step >= r->epochs * nb) {
            s = ccz_fail(CCZ_ERR_PROTOCOL,
                         "the arbiter did not stop the training after its %u epochs", r->epochs);
            break;
        }
        s = r->guest ? guest_step(ch, o, r, step, out) : host_step(ch, o, r, step, out);
        if (s || out->code)
            break;
        s = ccz_fl_vlr_gradient(r->p, g, (const mpz_t *)r->b, step);
        ProtobufCBinaryData *gb = s == CCZ_OK ? to_bytes((const mpz_t *)g, dim) : NULL;
        if (s == CCZ_OK && !gb)
            s = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
        if (s)
            break;
        Heterolr__GradientRequest gr = HETEROLR__GRADIENT_REQUEST__INIT;
        gr.step = (int32_t)step;
        gr.n_masked = dim;
        gr.masked = gb;
        ProtobufCMessage *resp;
        s = unary(ch, o, "Gradient", &gr.base, &heterolr__gradient_reply__descriptor, &resp, out);
        free_bytes(gb, dim);
        if (s || out->code)
            break;
        const Heterolr__GradientReply *rep = (const Heterolr__GradientReply *)resp;
        s = take(g, r, rep->plain, rep->n_plain, dim, true, "gradients");
        if (s == CCZ_OK)
            s = ccz_fl_vlr_update(r->p, (const mpz_t *)g, step);
        bool stop = rep->stop, ends = (step + 1) % nb == 0;
        double loss = rep->loss;
        out->converged = rep->converged;
        protobuf_c_message_free_unpacked(resp, NULL);
        if (s)
            break;
        out->steps = step + 1;
        out->seconds = fl_now() - start;
        if (ends || stop) {
            unsigned e = step / (unsigned)nb;
            out->epochs = e + 1;
            if (o->trace)
                trace(o->trace, r, e);
            if (o->progress)
                o->progress(e, loss, fl_now() - epoch_start, o->payload);
            epoch_start = fl_now();
        }
        if (stop)
            break;
    }
    mpzs_free(g, dim);
    return s;
}

/* After the training: the hosts send their scores of every aligned row; the guest evaluates. */
static ccz_status evaluate(ccz_rpc_channel *ch, const ccz_fl_vlr_run_opts *o, run *r,
                           ccz_fl_vlr_run_result *out)
{
    size_t rows = r->rows.rows, nb = ccz_fl_vlr_batches(r->p);
    double *u = malloc(rows * sizeof *u);
    CCZ_ENSURE(u, CCZ_ERR_NOMEM, "out of memory");
    ccz_status s = CCZ_OK;
    for (size_t b = 0, off = 0; b < nb && s == CCZ_OK; b++) {
        s = ccz_fl_vlr_scores(r->p, u + off, (unsigned)b);
        off += ccz_fl_vlr_batch_rows(r->p, (unsigned)b);
    }
    ProtobufCMessage *resp = NULL;
    if (s == CCZ_OK && !r->guest) {
        Heterolr__ScoresRequest sr = HETEROLR__SCORES_REQUEST__INIT;
        sr.n_scores = rows;
        sr.scores = u;
        s = unary(ch, o, "Scores", &sr.base, &heterolr__empty__descriptor, &resp, out);
    } else if (s == CCZ_OK) {
        Heterolr__Empty e = HETEROLR__EMPTY__INIT;
        s = unary(ch, o, "HostScores", &e.base, &heterolr__scores_request__descriptor, &resp, out);
        const Heterolr__ScoresRequest *hs = (const Heterolr__ScoresRequest *)resp;
        if (s == CCZ_OK && !out->code && hs->n_scores != rows)
            s = ccz_fail(CCZ_ERR_PROTOCOL, "the arbiter sent %zu scores for %zu rows", hs->n_scores,
                         rows);
        if (s == CCZ_OK && !out->code) {
            size_t right = 0;
            for (size_t i = 0; i < rows; i++) {
                u[i] += hs->scores[i];
                right += (u[i] >= 0) == (r->rows.y[i] == 1);
            }
            out->auc = ccz_fl_vlr_auc(u, r->rows.y, rows);
            out->acc = (double)right / (double)rows;
        }
    }
    if (resp) /* NULL unless the call completed OK; freed whatever came of its contents */
        protobuf_c_message_free_unpacked(resp, NULL);
    free(u);
    return s;
}

ccz_status ccz_fl_vlr_run(ccz_rpc_channel *ch, const ccz_fl_vlr_run_opts *o,
                          const ccz_ml_dataset *d, ccz_fl_vlr_run_result *out)
{
    CCZ_ENSURE(o && o->version == CCZ_FL_VLR_RUN_OPTS_VERSION, CCZ_ERR_INVALID_ARGUMENT,
               "ccz_fl_vlr_run: version %u, expected %u", o ? o->version : 0,
               CCZ_FL_VLR_RUN_OPTS_VERSION);
    CCZ_ENSURE(d && d->rows >= 2 && d->ids, CCZ_ERR_INVALID_ARGUMENT,
               "a party needs rows with ids");
    memset(out, 0, sizeof *out);
    out->auc = out->acc = NAN;
    run r = {0};
    r.guest = d->y != NULL;
    mpz_inits(r.n2, r.sq, r.loss, NULL);
    Heterolr__JoinRequest jr = HETEROLR__JOIN_REQUEST__INIT;
    jr.role = (char *)(r.guest ? "guest" : "host");
    jr.id = o->id;
    jr.name = (char *)(o->name ? o->name : "");
    jr.features = (int32_t)d->features;
    jr.n_ids = d->rows;
    jr.ids = d->ids;
    ProtobufCMessage *resp;
    ccz_status s = unary(ch, o, "Join", &jr.base, &heterolr__join_reply__descriptor, &resp, out);
    if (s == CCZ_OK && !out->code) {
        s = start(&r, (const Heterolr__JoinReply *)resp, d, o);
        protobuf_c_message_free_unpacked(resp, NULL);
        out->rows = r.rows.rows;
    }
    if (s == CCZ_OK && !out->code)
        s = train(ch, o, &r, out);
    if (s == CCZ_OK && !out->code)
        s = evaluate(ch, o, &r, out);
    if (s == CCZ_OK && !out->code) {
        Heterolr__Empty e = HETEROLR__EMPTY__INIT;
        s = unary(ch, o, "Finish", &e.base, &heterolr__empty__descriptor, &resp, out);
        if (s == CCZ_OK && !out->code)
            protobuf_c_message_free_unpacked(resp, NULL);
    }
    if (r.p) {
        out->dim = ccz_fl_vlr_dim(r.p);
        out->weights = malloc(out->dim * sizeof(double));
        if (out->weights)
            memcpy(out->weights, ccz_fl_vlr_weights(r.p), out->dim * sizeof(double));
    }
    mpzs_free(r.a, r.batch);
    mpzs_free(r.b, r.batch);
    mpz_clears(r.n2, r.sq, r.loss, NULL);
    ccz_fl_vlr_party_free(r.p);
    ccz_ml_dataset_free(&r.rows);
    ccz_paillier_pub_free(r.pk);
    return s;
}
