/* SPDX-License-Identifier: Apache-2.0 */
/* One encrypted lookup over RA-gRPC (include/ccz/hequery.h): a fresh key pair, the key
 * encrypted, the call, the answer decrypted and checked. The reply is untrusted; the secret key
 * and the key asked for never leave this process. */
#include <stdlib.h>
#include <string.h>

#include "ccz/hequery.h"
#include "core/guard.h"
#include "hequery/internal.h"
#include "he_query.pb-c.h"

#define PATH "/ccz.hequery.HeQuery/Query"

static ccz_status call(ccz_heq_lookup_result *out, ccz_rpc_channel *ch,
                       const ccz_heq_lookup_opts *o, const ccz_heq_client *c,
                       const ccz_heq_query *q)
{
    ProtobufCBinaryData keys[CCZ_HEQ_KEY_CTS];
    for (int i = 0; i < CCZ_HEQ_KEY_CTS; i++)
        keys[i] = (ProtobufCBinaryData){q->key[i].len, q->key[i].ptr};
    Ccz__Hequery__QueryRequest r = CCZ__HEQUERY__QUERY_REQUEST__INIT;
    r.algorithm = (Ccz__Hequery__Algorithm)q->algorithm;
    r.params = (ProtobufCBinaryData){q->params.len, q->params.ptr};
    r.public_key = (ProtobufCBinaryData){q->public_key.len, q->public_key.ptr};
    r.relin_keys = (ProtobufCBinaryData){q->relin_keys.len, q->relin_keys.ptr};
    r.n_key = CCZ_HEQ_KEY_CTS;
    r.key = keys;
    out->sent = protobuf_c_message_get_packed_size(&r.base);
    ccz_rpc_call_opts co = CCZ_RPC_CALL_OPTS_INIT;
    co.deadline_ms = o->deadline_ms;
    ccz_rpc_status st;
    ProtobufCMessage *resp = NULL;
    double t0 = heq_now();
    CCZ_GUARD(
        ccz_rpc_unary(ch, &resp, &st, PATH, &r.base, &ccz__hequery__query_reply__descriptor, &co));
    out->call_s = heq_now() - t0;
    out->code = st.code;
    snprintf(out->message, sizeof out->message, "%s", st.message);
    ccz_rpc_status_free(&st);
    if (out->code != CCZ_RPC_OK || !resp)
        return CCZ_OK;
    const Ccz__Hequery__QueryReply *a = (const Ccz__Hequery__QueryReply *)resp;
    out->received = protobuf_c_message_get_packed_size(resp);
    out->server_load_s = a->load_seconds;
    out->server_setup_s = a->setup_seconds;
    out->server_search_s = a->search_seconds;
    t0 = heq_now();
    ccz_status s =
        ccz_heq_client_decode(&out->value, &out->noise_budget, c,
                              CCZ_SPAN(a->value.data, a->value.len), a->block, a->chunks);
    out->decrypt_s = heq_now() - t0;
    protobuf_c_message_free_unpacked(resp, NULL);
    return s;
}

ccz_status ccz_heq_lookup(ccz_heq_lookup_result *out, ccz_rpc_channel *ch,
                          const ccz_heq_lookup_opts *o, ccz_span key)
{
    memset(out, 0, sizeof *out);
    out->code = -1;
    ccz_heq_lookup_opts def = CCZ_HEQ_LOOKUP_OPTS_INIT;
    if (!o)
        o = &def;
    CCZ_ENSURE(o->version == CCZ_HEQ_LOOKUP_OPTS_VERSION, CCZ_ERR_INVALID_ARGUMENT,
               "ccz_heq_lookup_opts: version %u, expected %u", o->version,
               CCZ_HEQ_LOOKUP_OPTS_VERSION);
    ccz_heq_algorithm a = o->algorithm ? o->algorithm : CCZ_HEQ_FAST;
    ccz_heq_client *c = NULL;
    ccz_heq_query q;
    memset(&q, 0, sizeof q);
    double t0 = heq_now();
    ccz_status s = ccz_heq_client_new(&c, a);
    out->keygen_s = heq_now() - t0;
    t0 = heq_now();
    if (s == CCZ_OK)
        s = ccz_heq_client_query(&q, c, key);
    out->encrypt_s = heq_now() - t0;
    if (s == CCZ_OK)
        s = call(out, ch, o, c, &q);
    ccz_heq_query_free(&q);
    ccz_heq_client_free(c);
    if (s)
        ccz_buf_free(&out->value);
    return s;
}
