/* SPDX-License-Identifier: Apache-2.0 */
/* The gRPC front end: TensorFlow Serving's tensorflow.serving.PredictionService (Predict,
 * GetModelMetadata) and ModelService (GetModelStatus), wire-compatible with its clients
 * (proto/tf_serving.proto). Tensors arrive as tensor_content (little-endian float32) or float_val
 * and are checked against the model's shapes before a row is queued; answers carry
 * tensor_content, as TensorFlow Serving's do. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/guard.h"
#include "svc/peer.h"
#include "svc/serving/internal.h"
#include "tf_serving.pb-c.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "tensor_content is little-endian: this file assumes a little-endian host"
#endif

typedef Tensorflow__Serving__TensorProto tensor_proto;
typedef Tensorflow__Serving__ModelSpec model_spec;

#define SIGNATURE "serving_default"
#define METADATA_TYPE_URL "type.googleapis.com/tensorflow.serving.SignatureDefMap"

/* Room in an answer for what is not the outputs' floats: the model spec, and per output its
 * name, shape and field headers. */
#define REPLY_FIXED 256
#define REPLY_PER_OUTPUT (64 + 16 * CCZ_ML_MAX_RANK)

int sv_grpc_code(ccz_status st, bool ran)
{
    if (st == CCZ_ERR_UNAVAILABLE)
        return CCZ_RPC_UNAVAILABLE;
    if (st == CCZ_ERR_NOMEM)
        return CCZ_RPC_RESOURCE_EXHAUSTED;
    if (ran) /* its request was checked before it was queued: the failure is the server's */
        return CCZ_RPC_INTERNAL;
    switch (st) {
    case CCZ_ERR_NOT_FOUND:
        return CCZ_RPC_NOT_FOUND;
    case CCZ_ERR_TOO_LARGE:
        return CCZ_RPC_RESOURCE_EXHAUSTED;
    case CCZ_ERR_UNSUPPORTED:
        return CCZ_RPC_UNIMPLEMENTED;
    default: {
        ccz_class k = ccz_status_class(st);
        return k == CCZ_CLASS_USAGE || k == CCZ_CLASS_INPUT || k == CCZ_CLASS_VERIFICATION
                   ? CCZ_RPC_INVALID_ARGUMENT
                   : CCZ_RPC_INTERNAL;
    }
    }
}

static void fail(ccz_rpc_call *c, ccz_status st)
{
    (void)!ccz_rpc_finish(c, sv_grpc_code(st, false), ccz_error_detail());
}

/* The model a ModelSpec names, TensorFlow Serving's messages when there is none. */
static ccz_status find_model(sv_model **out, sv_server *s, const model_spec *spec)
{
    CCZ_ENSURE(spec && spec->name && spec->name[0], CCZ_ERR_INVALID_ARGUMENT, "Missing ModelSpec");
    CCZ_ENSURE(spec->version_choice_case !=
                   TENSORFLOW__SERVING__MODEL_SPEC__VERSION_CHOICE_VERSION_LABEL,
               CCZ_ERR_UNSUPPORTED,
               "version labels are not served: ask for a version number or the latest");
    int64_t v =
        spec->version_choice_case == TENSORFLOW__SERVING__MODEL_SPEC__VERSION_CHOICE_VERSION &&
                spec->version
            ? spec->version->value
            : 0;
    *out = sv_model_find(s, spec->name, v);
    if (*out)
        return CCZ_OK;
    if (v)
        return ccz_fail(CCZ_ERR_NOT_FOUND, "Servable not found for request: Specific(%s, %lld)",
                        spec->name, (long long)v);
    return ccz_fail(CCZ_ERR_NOT_FOUND, "Servable not found for request: Latest(%s)", spec->name);
}

static ccz_status check_signature(const model_spec *spec)
{
    CCZ_ENSURE(!spec->signature_name[0] || strcmp(spec->signature_name, SIGNATURE) == 0,
               CCZ_ERR_INVALID_ARGUMENT,
               "Serving signature name: \"%s\" not found in signature def", spec->signature_name);
    return CCZ_OK;
}

/* ---- Predict ---------------------------------------------------------------------------------*/

/* The batch of one input tensor, after checking its type and shape against the model's. */
static ccz_status tensor_rows(size_t *rows, const tensor_proto *t, const ccz_ml_tensor_info *info)
{
    const ProtobufCEnumValue *dt =
        protobuf_c_enum_descriptor_get_value(&tensorflow__serving__data_type__descriptor, t->dtype);
    CCZ_ENSURE(t->dtype == TENSORFLOW__SERVING__DATA_TYPE__DT_FLOAT, CCZ_ERR_INVALID_ARGUMENT,
               "input '%s': dtype %s (%d); the model takes DT_FLOAT", info->name,
               dt ? dt->name : "unknown", (int)t->dtype);
    const Tensorflow__Serving__TensorShapeProto *sh = t->tensor_shape;
    CCZ_ENSURE(sh && !sh->unknown_rank && sh->n_dim == info->rank, CCZ_ERR_INVALID_ARGUMENT,
               "input '%s': the shape must have %zu dimensions", info->name, info->rank);
    for (size_t d = 0; d < info->rank; d++) {
        int64_t x = sh->dim[d]->size;
        if (d == 0) {
            CCZ_ENSURE(x >= 1 && x <= (1 << 20), CCZ_ERR_INVALID_ARGUMENT,
                       "input '%s': the batch (dimension 0) must be 1 to 1048576", info->name);
            *rows = (size_t)x;
        } else {
            CCZ_ENSURE(x == info->dims[d], CCZ_ERR_INVALID_ARGUMENT,
                       "input '%s': dimension %zu is %lld; the model takes %lld", info->name, d,
                       (long long)x, (long long)info->dims[d]);
        }
    }
    return CCZ_OK;
}

/* Checks that a tensor holds n values: tensor_content of exactly their size, or float_val of as
 * many values or of one value for all (TensorFlow's rule). */
static ccz_status tensor_count(size_t n, const tensor_proto *t, const char *name)
{
    if (t->tensor_content.len)
        CCZ_ENSURE(t->tensor_content.len == n * sizeof(float), CCZ_ERR_INVALID_ARGUMENT,
                   "input '%s': tensor_content holds %zu bytes; the shape needs %zu", name,
                   t->tensor_content.len, n * sizeof(float));
    else
        CCZ_ENSURE(t->n_float_val == n || t->n_float_val == 1, CCZ_ERR_INVALID_ARGUMENT,
                   "input '%s': %zu values in float_val; the shape needs %zu", name, t->n_float_val,
                   n);
    return CCZ_OK;
}

/* Copies the n values tensor_count accepted. */
static void tensor_values(float *dst, size_t n, const tensor_proto *t)
{
    if (t->tensor_content.len)
        memcpy(dst, t->tensor_content.data, n * sizeof(float));
    else if (t->n_float_val == n)
        memcpy(dst, t->float_val, n * sizeof(float));
    else
        for (size_t i = 0; i < n; i++)
            dst[i] = t->float_val[0];
}

static int output_index(const sv_model *m, const char *name)
{
    for (size_t i = 0; i < m->n_out; i++)
        if (strcmp(m->out[i].name, name) == 0)
            return (int)i;
    return -1;
}

ccz_status sv_grpc_parse(sv_job **out, sv_server *s, const Tensorflow__Serving__PredictRequest *rq)
{
    sv_model *m;
    CCZ_GUARD(find_model(&m, s, rq->model_spec));
    CCZ_GUARD(check_signature(rq->model_spec));
    CCZ_ENSURE(rq->n_inputs == m->n_in, CCZ_ERR_INVALID_ARGUMENT,
               "input size does not match signature: %zu!=%zu", rq->n_inputs, m->n_in);
    const tensor_proto *by_input[SV_MAX_IO] = {0};
    size_t rows = 0;
    for (size_t k = 0; k < rq->n_inputs; k++) {
        const char *key = rq->inputs[k]->key;
        size_t i = 0;
        while (i < m->n_in && strcmp(m->in[i].name, key) != 0)
            i++;
        CCZ_ENSURE(i < m->n_in, CCZ_ERR_INVALID_ARGUMENT,
                   "input tensor alias not found in signature: %s", key);
        CCZ_ENSURE(!by_input[i], CCZ_ERR_INVALID_ARGUMENT, "input '%s' is given twice", key);
        CCZ_ENSURE(rq->inputs[k]->value, CCZ_ERR_INVALID_ARGUMENT, "input '%s' has no tensor", key);
        by_input[i] = rq->inputs[k]->value;
        size_t n = 0;
        CCZ_GUARD(tensor_rows(&n, by_input[i], &m->in[i]));
        CCZ_ENSURE(k == 0 || n == rows, CCZ_ERR_INVALID_ARGUMENT,
                   "the inputs' batch sizes (dimension 0) differ");
        rows = n;
    }
    uint32_t mask = 0;
    for (size_t k = 0; k < rq->n_output_filter; k++) {
        int o = output_index(m, rq->output_filter[k]);
        CCZ_ENSURE(o >= 0, CCZ_ERR_INVALID_ARGUMENT,
                   "output tensor alias not found in signature: %s", rq->output_filter[k]);
        mask |= 1u << o;
    }
    for (size_t i = 0; i < m->n_in; i++) /* before allocating what the shapes claim */
        CCZ_GUARD(tensor_count(rows * m->in[i].row_elems, by_input[i], m->in[i].name));
    if (!mask)
        mask = (1u << m->n_out) - 1;
    /* the answer must fit one message: refused now, not after its inference */
    size_t reply = REPLY_FIXED;
    for (size_t i = 0; i < m->n_out; i++)
        if (mask & (1u << i))
            reply += rows * m->out[i].row_elems * sizeof(float) + REPLY_PER_OUTPUT +
                     strlen(m->out[i].name);
    CCZ_ENSURE(reply <= s->o.max_body, CCZ_ERR_TOO_LARGE,
               "the answer to %zu rows would take %zu bytes; a message may hold %zu", rows, reply,
               s->o.max_body);
    CCZ_GUARD(sv_job_new(out, m, rows));
    (*out)->out_mask = mask;
    for (size_t i = 0; i < m->n_in; i++)
        tensor_values((*out)->in[i], rows * m->in[i].row_elems, by_input[i]);
    return CCZ_OK;
}

/* Counts the job against its connection's share of the queue (ccz_rpc_call_connection), or
 * refuses it: one client's streams cannot fill the queue that every client shares. */
static ccz_status conn_take(sv_server *s, sv_job *j, uint64_t conn)
{
    size_t share = s->o.max_queued / SV_CONN_SHARE;
    ccz_status st = CCZ_OK;
    pthread_mutex_lock(&s->lock);
    size_t i = 0;
    while (i < s->n_loads && s->loads[i].conn != conn)
        i++;
    if (i < s->n_loads) {
        const sv_conn_load *l = &s->loads[i];
        if (l->jobs >= SV_CONN_JOBS || l->bytes + j->bytes > share)
            st = ccz_fail(CCZ_ERR_TOO_LARGE,
                          "this connection has %zu requests queued (%zu bytes of inputs); a "
                          "connection may hold %d and %zu bytes",
                          l->jobs, l->bytes, SV_CONN_JOBS, share);
    } else if (s->n_loads == s->cap_loads) {
        size_t cap = s->cap_loads ? 2 * s->cap_loads : 16;
        sv_conn_load *p = realloc(s->loads, cap * sizeof *p);
        if (p) {
            s->loads = p;
            s->cap_loads = cap;
        } else {
            st = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
        }
    }
    if (st == CCZ_OK) {
        if (i == s->n_loads)
            s->loads[s->n_loads++] = (sv_conn_load){conn, 0, 0};
        s->loads[i].jobs++;
        s->loads[i].bytes += j->bytes;
        j->conn = conn;
    }
    pthread_mutex_unlock(&s->lock);
    return st;
}

/* The job no longer counts against its connection (answered, or never queued). */
static void conn_give_back(sv_job *j)
{
    sv_server *s = j->m->srv;
    if (!j->conn)
        return;
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->n_loads; i++) {
        sv_conn_load *l = &s->loads[i];
        if (l->conn != j->conn)
            continue;
        l->jobs--;
        l->bytes -= j->bytes;
        if (!l->jobs)
            *l = s->loads[--s->n_loads];
        break;
    }
    pthread_mutex_unlock(&s->lock);
    j->conn = 0;
}

/* On the loop: the job has run. */
static void predict_answer(void *arg)
{
    sv_job *j = arg;
    conn_give_back(j);
    ccz_rpc_call *c = j->req;
    const sv_model *m = j->m;
    if (!ccz_rpc_call_alive(c)) {
        /* the client left or its deadline passed: nothing to say */
    } else if (j->st != CCZ_OK) {
        (void)!ccz_rpc_finish(c, sv_grpc_code(j->st, true), j->error);
    } else {
        Tensorflow__Serving__Int64Value version = TENSORFLOW__SERVING__INT64_VALUE__INIT;
        version.value = m->version;
        model_spec spec = TENSORFLOW__SERVING__MODEL_SPEC__INIT;
        spec.name = (char *)m->name;
        spec.signature_name = SIGNATURE;
        spec.version_choice_case = TENSORFLOW__SERVING__MODEL_SPEC__VERSION_CHOICE_VERSION;
        spec.version = &version;
        Tensorflow__Serving__PredictResponse__OutputsEntry entries[SV_MAX_IO], *ep[SV_MAX_IO];
        tensor_proto tensors[SV_MAX_IO];
        Tensorflow__Serving__TensorShapeProto shapes[SV_MAX_IO];
        Tensorflow__Serving__TensorShapeProto__Dim dims[SV_MAX_IO][CCZ_ML_MAX_RANK],
            *dp[SV_MAX_IO][CCZ_ML_MAX_RANK];
        size_t n = 0;
        for (size_t i = 0; i < m->n_out; i++) {
            if (!(j->out_mask & (1u << i)))
                continue;
            const ccz_ml_tensor_info *t = &m->out[i];
            Tensorflow__Serving__TensorShapeProto sh =
                TENSORFLOW__SERVING__TENSOR_SHAPE_PROTO__INIT;
            shapes[n] = sh;
            for (size_t d = 0; d < t->rank; d++) {
                Tensorflow__Serving__TensorShapeProto__Dim dim =
                    TENSORFLOW__SERVING__TENSOR_SHAPE_PROTO__DIM__INIT;
                dim.size = d == 0 ? (int64_t)j->rows : t->dims[d];
                dims[n][d] = dim;
                dp[n][d] = &dims[n][d];
            }
            shapes[n].n_dim = t->rank;
            shapes[n].dim = dp[n];
            tensor_proto tp = TENSORFLOW__SERVING__TENSOR_PROTO__INIT;
            tp.dtype = TENSORFLOW__SERVING__DATA_TYPE__DT_FLOAT;
            tp.tensor_shape = &shapes[n];
            tp.tensor_content.data = (uint8_t *)j->out[i];
            tp.tensor_content.len = j->rows * t->row_elems * sizeof(float);
            tensors[n] = tp;
            Tensorflow__Serving__PredictResponse__OutputsEntry e =
                TENSORFLOW__SERVING__PREDICT_RESPONSE__OUTPUTS_ENTRY__INIT;
            e.key = (char *)t->name;
            e.value = &tensors[n];
            entries[n] = e;
            ep[n] = &entries[n];
            n++;
        }
        Tensorflow__Serving__PredictResponse rs = TENSORFLOW__SERVING__PREDICT_RESPONSE__INIT;
        rs.model_spec = &spec;
        rs.n_outputs = n;
        rs.outputs = ep;
        if (ccz_rpc_reply(c, &rs.base) != CCZ_OK)
            (void)!ccz_rpc_finish(c, CCZ_RPC_INTERNAL, ccz_error_detail());
    }
    ccz_rpc_call_unref(c);
    sv_job_free(j);
}

/* On the batcher's thread: to the loop. */
static void predict_deliver(sv_job *j)
{
    ccz_status st = svc_defer_to_loop(j->m->srv->rpc, predict_answer, j);
    if (st != CCZ_OK) {
        /* the loop has ended (or cannot take it): the call and the job are given back here */
        ccz_log(st == CCZ_ERR_UNAVAILABLE ? CCZ_LOG_DEBUG : CCZ_LOG_ERROR,
                "serving: cannot hand an answer to the gRPC loop: %s", ccz_error_detail());
        conn_give_back(j);
        ccz_rpc_call_unref(j->req);
        sv_job_free(j);
    }
}

/* On the batcher's thread, which holds a reference to the call: whether its client still
 * waits (not cancelled, not disconnected, not past its deadline). */
static bool predict_alive(const sv_job *j)
{
    return ccz_rpc_call_alive(j->req);
}

static void predict(ccz_rpc_call *c, const ProtobufCMessage *msg, void *payload)
{
    sv_server *s = payload;
    sv_job *j = NULL;
    ccz_status st = sv_grpc_parse(&j, s, (const Tensorflow__Serving__PredictRequest *)msg);
    if (st != CCZ_OK) {
        fail(c, st);
        sv_job_free(j);
        return;
    }
    j->req = c;
    j->deliver = predict_deliver;
    j->alive = predict_alive;
    int64_t left = ccz_rpc_call_remaining_ms(c);
    if (left >= 0) /* the batcher skips it once its client stopped waiting */
        j->deadline_ms = sv_mono_ms() + left;
    st = conn_take(s, j, ccz_rpc_call_connection(c));
    if (st != CCZ_OK) {
        fail(c, st);
        sv_job_free(j);
        return;
    }
    ccz_rpc_call_ref(c);
    st = sv_job_submit(j);
    if (st != CCZ_OK) {
        fail(c, st);
        conn_give_back(j);
        ccz_rpc_call_unref(c);
        sv_job_free(j);
        return;
    }
}

void sv_grpc_cancel_queued(sv_server *s)
{
    sv_models_cancel_queued(s, predict_deliver, "the server is stopping");
}

/* ---- metadata and status ---------------------------------------------------------------------*/

/* TensorInfo for t, its shape's dims in dims (rank of them). */
static Tensorflow__Serving__TensorInfo *tensor_info(
    Tensorflow__Serving__TensorInfo *ti, Tensorflow__Serving__TensorShapeProto *sh,
    Tensorflow__Serving__TensorShapeProto__Dim *dims,
    Tensorflow__Serving__TensorShapeProto__Dim **dp, char *name, size_t name_size,
    const ccz_ml_tensor_info *t)
{
    Tensorflow__Serving__TensorShapeProto shape = TENSORFLOW__SERVING__TENSOR_SHAPE_PROTO__INIT;
    *sh = shape;
    for (size_t d = 0; d < t->rank; d++) {
        Tensorflow__Serving__TensorShapeProto__Dim dim =
            TENSORFLOW__SERVING__TENSOR_SHAPE_PROTO__DIM__INIT;
        dim.size = d == 0 ? -1 : t->dims[d];
        dims[d] = dim;
        dp[d] = &dims[d];
    }
    sh->n_dim = t->rank;
    sh->dim = dp;
    Tensorflow__Serving__TensorInfo info = TENSORFLOW__SERVING__TENSOR_INFO__INIT;
    *ti = info;
    snprintf(name, name_size, "%s:0", t->name);
    ti->encoding_case = TENSORFLOW__SERVING__TENSOR_INFO__ENCODING_NAME;
    ti->name = name;
    ti->dtype = TENSORFLOW__SERVING__DATA_TYPE__DT_FLOAT;
    ti->tensor_shape = sh;
    return ti;
}

/* The model's SignatureDefMap, packed (the caller frees *out). */
static ccz_status signature_map(uint8_t **out, size_t *len, const sv_model *m)
{
    enum { N = 2 * SV_MAX_IO };
    Tensorflow__Serving__TensorInfo ti[N];
    Tensorflow__Serving__TensorShapeProto sh[N];
    Tensorflow__Serving__TensorShapeProto__Dim dims[N][CCZ_ML_MAX_RANK], *dp[N][CCZ_ML_MAX_RANK];
    char names[N][80];
    Tensorflow__Serving__SignatureDef__InputsEntry ie[SV_MAX_IO], *iep[SV_MAX_IO];
    Tensorflow__Serving__SignatureDef__OutputsEntry oe[SV_MAX_IO], *oep[SV_MAX_IO];
    for (size_t i = 0; i < m->n_in; i++) {
        Tensorflow__Serving__SignatureDef__InputsEntry e =
            TENSORFLOW__SERVING__SIGNATURE_DEF__INPUTS_ENTRY__INIT;
        e.key = (char *)m->in[i].name;
        e.value = tensor_info(&ti[i], &sh[i], dims[i], dp[i], names[i], sizeof names[i], &m->in[i]);
        ie[i] = e;
        iep[i] = &ie[i];
    }
    for (size_t i = 0; i < m->n_out; i++) {
        size_t k = SV_MAX_IO + i;
        Tensorflow__Serving__SignatureDef__OutputsEntry e =
            TENSORFLOW__SERVING__SIGNATURE_DEF__OUTPUTS_ENTRY__INIT;
        e.key = (char *)m->out[i].name;
        e.value =
            tensor_info(&ti[k], &sh[k], dims[k], dp[k], names[k], sizeof names[k], &m->out[i]);
        oe[i] = e;
        oep[i] = &oe[i];
    }
    Tensorflow__Serving__SignatureDef def = TENSORFLOW__SERVING__SIGNATURE_DEF__INIT;
    def.n_inputs = m->n_in;
    def.inputs = iep;
    def.n_outputs = m->n_out;
    def.outputs = oep;
    def.method_name = "tensorflow/serving/predict";
    Tensorflow__Serving__SignatureDefMap__SignatureDefEntry
        de = TENSORFLOW__SERVING__SIGNATURE_DEF_MAP__SIGNATURE_DEF_ENTRY__INIT,
        *dep = &de;
    de.key = SIGNATURE;
    de.value = &def;
    Tensorflow__Serving__SignatureDefMap map = TENSORFLOW__SERVING__SIGNATURE_DEF_MAP__INIT;
    map.n_signature_def = 1;
    map.signature_def = &dep;
    *len = protobuf_c_message_get_packed_size(&map.base);
    *out = malloc(*len + 1);
    CCZ_ENSURE(*out, CCZ_ERR_NOMEM, "out of memory");
    protobuf_c_message_pack(&map.base, *out);
    return CCZ_OK;
}

static ccz_status metadata_check(sv_model **m, sv_server *s,
                                 const Tensorflow__Serving__GetModelMetadataRequest *rq)
{
    CCZ_GUARD(find_model(m, s, rq->model_spec));
    CCZ_ENSURE(rq->n_metadata_field > 0, CCZ_ERR_INVALID_ARGUMENT,
               "GetModelMetadataRequest must specify at least one metadata_field");
    for (size_t i = 0; i < rq->n_metadata_field; i++)
        CCZ_ENSURE(strcmp(rq->metadata_field[i], "signature_def") == 0, CCZ_ERR_INVALID_ARGUMENT,
                   "Metadata field %s is not supported", rq->metadata_field[i]);
    return CCZ_OK;
}

static void get_model_metadata(ccz_rpc_call *c, const ProtobufCMessage *msg, void *payload)
{
    sv_model *m = NULL;
    uint8_t *packed = NULL;
    size_t len = 0;
    ccz_status st =
        metadata_check(&m, payload, (const Tensorflow__Serving__GetModelMetadataRequest *)msg);
    if (st == CCZ_OK)
        st = signature_map(&packed, &len, m);
    if (st != CCZ_OK) {
        fail(c, st);
        return;
    }
    Tensorflow__Serving__Int64Value version = TENSORFLOW__SERVING__INT64_VALUE__INIT;
    version.value = m->version;
    model_spec spec = TENSORFLOW__SERVING__MODEL_SPEC__INIT;
    spec.name = m->name;
    spec.version_choice_case = TENSORFLOW__SERVING__MODEL_SPEC__VERSION_CHOICE_VERSION;
    spec.version = &version;
    Tensorflow__Serving__Any any = TENSORFLOW__SERVING__ANY__INIT;
    any.type_url = METADATA_TYPE_URL;
    any.value.data = packed;
    any.value.len = len;
    Tensorflow__Serving__GetModelMetadataResponse__MetadataEntry
        e = TENSORFLOW__SERVING__GET_MODEL_METADATA_RESPONSE__METADATA_ENTRY__INIT,
        *ep = &e;
    e.key = "signature_def";
    e.value = &any;
    Tensorflow__Serving__GetModelMetadataResponse rs =
        TENSORFLOW__SERVING__GET_MODEL_METADATA_RESPONSE__INIT;
    rs.model_spec = &spec;
    rs.n_metadata = 1;
    rs.metadata = &ep;
    if (ccz_rpc_reply(c, &rs.base) != CCZ_OK)
        (void)!ccz_rpc_finish(c, CCZ_RPC_INTERNAL, ccz_error_detail());
    free(packed);
}

static void get_model_status(ccz_rpc_call *c, const ProtobufCMessage *msg, void *payload)
{
    sv_server *s = payload;
    const Tensorflow__Serving__GetModelStatusRequest *rq = (const void *)msg;
    const model_spec *spec = rq->model_spec;
    sv_model *m = NULL;
    ccz_status st = find_model(&m, s, spec);
    if (st != CCZ_OK) {
        if (st == CCZ_ERR_NOT_FOUND) /* its own words for status */
            st =
                spec->version_choice_case == TENSORFLOW__SERVING__MODEL_SPEC__VERSION_CHOICE_VERSION
                    ? ccz_fail(st, "Could not find version %lld of model %s",
                               (long long)spec->version->value, spec->name)
                    : ccz_fail(st, "Could not find any versions of model %s", spec->name);
        fail(c, st);
        return;
    }
    bool one = spec->version_choice_case == TENSORFLOW__SERVING__MODEL_SPEC__VERSION_CHOICE_VERSION;
    Tensorflow__Serving__StatusProto ok = TENSORFLOW__SERVING__STATUS_PROTO__INIT;
    Tensorflow__Serving__ModelVersionStatus *vs = calloc(s->n_models, sizeof *vs),
                                            **vp = calloc(s->n_models, sizeof *vp);
    size_t n = 0;
    for (size_t i = 0; vs && vp && i < s->n_models; i++) {
        const sv_model *x = &s->models[i];
        if (strcmp(x->name, m->name) != 0 || (one && x != m))
            continue;
        Tensorflow__Serving__ModelVersionStatus v = TENSORFLOW__SERVING__MODEL_VERSION_STATUS__INIT;
        v.version = x->version;
        v.state = TENSORFLOW__SERVING__MODEL_VERSION_STATUS__STATE__AVAILABLE;
        v.status = &ok;
        vs[n] = v;
        vp[n] = &vs[n];
        n++;
    }
    Tensorflow__Serving__GetModelStatusResponse rs =
        TENSORFLOW__SERVING__GET_MODEL_STATUS_RESPONSE__INIT;
    rs.n_model_version_status = n;
    rs.model_version_status = vp;
    if (!vs || !vp)
        (void)!ccz_rpc_finish(c, CCZ_RPC_RESOURCE_EXHAUSTED, "out of memory");
    else if (ccz_rpc_reply(c, &rs.base) != CCZ_OK)
        (void)!ccz_rpc_finish(c, CCZ_RPC_INTERNAL, ccz_error_detail());
    free(vs);
    free(vp);
}

ccz_status sv_grpc_methods(sv_server *s, ccz_rpc_server *r)
{
    static const ccz_rpc_handler prediction[] = {predict, get_model_metadata};
    static const ccz_rpc_handler model[] = {get_model_status};
    CCZ_GUARD(ccz_rpc_server_add_service(r, &tensorflow__serving__prediction_service__descriptor,
                                         prediction, s));
    return ccz_rpc_server_add_service(r, &tensorflow__serving__model_service__descriptor, model, s);
}
