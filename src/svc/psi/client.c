/* SPDX-License-Identifier: Apache-2.0 */
/* A party of the TEE PSI service (include/ccz/psi.h): RemoteAttestation, Connect, DataUpload in
 * chunks, CalPsiStream, over one channel so the server knows the calls as one party's. */
#include <stdlib.h>
#include <string.h>

#include "ccz/psi.h"
#include "core/guard.h"
#include "psi.pb-c.h"

/* One unary call: CCZ_OK when it completed, its gRPC status in out (the caller stops on any
 * code but OK); an error when it could not be made. */
static ccz_status unary(ccz_rpc_channel *ch, const ccz_psi_join_opts *o, const char *method,
                        const ProtobufCMessage *req, const ProtobufCMessageDescriptor *desc,
                        const ccz_rpc_metadata *md, ProtobufCMessage **resp,
                        ccz_psi_join_result *out)
{
    char path[64];
    snprintf(path, sizeof path, "/psi.PSI/%s", method);
    ccz_rpc_call_opts co = {CCZ_RPC_CALL_OPTS_VERSION, o->deadline_ms, md};
    ccz_rpc_status st;
    *resp = NULL;
    CCZ_GUARD(ccz_rpc_unary(ch, resp, &st, path, req, desc, &co));
    out->code = st.code;
    out->method = method;
    snprintf(out->message, sizeof out->message, "%s", st.message);
    ccz_rpc_status_free(&st);
    return CCZ_OK;
}

/* What CalPsiStream brings: which of this party's items are in the intersection, and how the
 * call ended. */
typedef struct {
    const ccz_span *mine; /* this party's items, sorted: the intersection's are among them */
    size_t n_mine;
    bool *got; /* which of them the server has sent (a repeat marks nothing new) */
    size_t n;  /* how many are marked */
    ccz_status failed;
    char why[256]; /* the failure's detail, kept: the call goes on and the RPC layer's own
                    * errors (reading frames) would overwrite it */
    ccz_psi_join_result *out;
} collected;

static int span_cmp(const void *x, const void *y)
{
    const ccz_span *a = x, *b = y;
    int c = memcmp(a->ptr, b->ptr, a->len < b->len ? a->len : b->len);
    return c ? c : (a->len > b->len) - (a->len < b->len);
}

static void on_results(const ProtobufCMessage *m, void *payload)
{
    collected *c = payload;
    const Psi__Results *r = (const Psi__Results *)m;
    for (size_t i = 0; i < r->n_data && !c->failed; i++) {
        const ProtobufCBinaryData *d = &r->data[i];
        if (d->len > 0xffff) {
            c->failed = ccz_fail(CCZ_ERR_PROTOCOL, "the server sent an item of %zu bytes", d->len);
            break;
        }
        /* an intersection holds only items this party has: the party marks its own, so what it
         * keeps is bounded by its set however much the server sends */
        ccz_span key = {d->data ? d->data : (const uint8_t *)"", d->len};
        const ccz_span *at = bsearch(&key, c->mine, c->n_mine, sizeof *c->mine, span_cmp);
        if (!at) {
            c->failed = ccz_fail(CCZ_ERR_PROTOCOL,
                                 "the server's result holds an item this party did not send "
                                 "(%zu bytes, after %zu of this party's)",
                                 d->len, c->n);
            break;
        }
        c->n += !c->got[at - c->mine];
        c->got[at - c->mine] = true;
    }
    if (c->failed && !c->why[0])
        snprintf(c->why, sizeof c->why, "%s", ccz_error_detail());
}

static void on_done(const ccz_rpc_status *st, void *payload)
{
    ccz_psi_join_result *out = ((collected *)payload)->out;
    out->code = st->code;
    out->method = "CalPsiStream";
    snprintf(out->message, sizeof out->message, "%s", st->message);
    const ccz_buf *p = ccz_rpc_md_get(&st->trailers, "ccz-psi-parties");
    if (p)
        snprintf(out->parties, sizeof out->parties, "%.*s", (int)p->len, (const char *)p->ptr);
}

/* Hands each item of the intersection to on_item once, in order (this party's items are
 * sorted; of two equal ones bsearch always finds the same, so only it is marked). */
static void deliver(const ccz_psi_join_opts *o, const collected *c, ccz_psi_join_result *out)
{
    out->n_items = c->n;
    for (size_t i = 0; o->on_item && i < c->n_mine; i++)
        if (c->got[i])
            o->on_item(c->mine[i], o->payload);
}

ccz_status ccz_psi_join(ccz_rpc_channel *ch, const ccz_psi_join_opts *o, const ccz_span *items,
                        size_t n, ccz_psi_join_result *out)
{
    CCZ_ENSURE(o && o->version == CCZ_PSI_JOIN_OPTS_VERSION && o->name && o->name[0],
               CCZ_ERR_INVALID_ARGUMENT, "ccz_psi_join: version %u (expected %u) and a name",
               o ? o->version : 0, CCZ_PSI_JOIN_OPTS_VERSION);
    for (size_t i = 0; i < n; i++)
        CCZ_ENSURE(items[i].len <= CCZ_PSI_MAX_ITEM, CCZ_ERR_TOO_LARGE,
                   "item %zu is %zu bytes; a PSI item is at most %d", i + 1, items[i].len,
                   CCZ_PSI_MAX_ITEM);
    memset(out, 0, sizeof *out);
    ProtobufCMessage *resp;

    Psi__RARequest ra = PSI__RAREQUEST__INIT;
    ra.name = (char *)o->name;
    CCZ_GUARD(
        unary(ch, o, "RemoteAttestation", &ra.base, &psi__rareply__descriptor, NULL, &resp, out));
    if (out->code)
        return CCZ_OK;
    snprintf(out->server_reply, sizeof out->server_reply, "%s", ((Psi__RAReply *)resp)->message);
    protobuf_c_message_free_unpacked(resp, NULL);

    Psi__ConnectRequest cr = PSI__CONNECT_REQUEST__INIT;
    cr.client_name = (char *)o->name;
    cr.is_chief = o->chief;
    cr.client_num = o->parties;
    CCZ_GUARD(unary(ch, o, "Connect", &cr.base, &psi__connect_reply__descriptor, NULL, &resp, out));
    if (out->code)
        return CCZ_OK;
    protobuf_c_message_free_unpacked(resp, NULL);

    /* the set in chunks: all but the last say more is coming */
    size_t chunk = o->chunk_bytes ? o->chunk_bytes : 1u << 20;
    ProtobufCBinaryData *batch = NULL;
    size_t cap = 0;
    ccz_rpc_metadata more = {0};
    ccz_status s = ccz_rpc_md_add(&more, "ccz-psi-more", CCZ_SPAN("1", 1));
    for (size_t i = 0; s == CCZ_OK;) {
        Psi__DataUploadRequest up = PSI__DATA_UPLOAD_REQUEST__INIT;
        size_t bytes = 0;
        while (i < n && (up.n_input_data == 0 || bytes + items[i].len + 8 <= chunk)) {
            if (up.n_input_data == cap) {
                size_t ncap = cap ? cap * 2 : 1024;
                ProtobufCBinaryData *b = realloc(batch, ncap * sizeof *b);
                if (!b) {
                    s = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
                    break;
                }
                batch = b;
                cap = ncap;
            }
            batch[up.n_input_data++] = (ProtobufCBinaryData){items[i].len, (uint8_t *)items[i].ptr};
            bytes += items[i].len + 8;
            i++;
        }
        if (s)
            break;
        up.input_data = batch;
        bool last = i == n;
        s = unary(ch, o, "DataUpload", &up.base, &psi__upload_reply__descriptor,
                  last ? NULL : &more, &resp, out);
        if (s || out->code)
            break;
        protobuf_c_message_free_unpacked(resp, NULL);
        if (o->progress)
            o->progress(i, n, o->payload);
        if (last)
            break;
    }
    free(batch);
    ccz_rpc_md_free(&more);
    if (s || out->code)
        return s;

    ccz_span *mine = n ? malloc(n * sizeof *mine) : NULL;
    bool *got = n ? calloc(n, sizeof *got) : NULL;
    if (n && (!mine || !got)) {
        free(mine);
        free(got);
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    }
    if (n) {
        memcpy(mine, items, n * sizeof *mine);
        qsort(mine, n, sizeof *mine, span_cmp);
    }
    Psi__CalPsiRequest cp = PSI__CAL_PSI_REQUEST__INIT;
    cp.client_name = (char *)o->name;
    cp.is_chief = o->chief;
    collected c = {mine, n, got, 0, CCZ_OK, "", out};
    ccz_rpc_call_opts co = {CCZ_RPC_CALL_OPTS_VERSION, o->deadline_ms, NULL};
    ccz_rpc_stream *st;
    s = ccz_rpc_start(ch, &st, "/psi.PSI/CalPsiStream", &cp.base, &psi__results__descriptor, &co,
                      on_results, on_done, &c);
    if (s == CCZ_OK)
        s = ccz_rpc_channel_run(ch);
    if (s == CCZ_OK && c.failed)
        s = ccz_fail(c.failed, "%s", c.why);
    if (s == CCZ_OK && out->code == CCZ_RPC_OK)
        deliver(o, &c, out);
    free(mine);
    free(got);
    return s;
}
