/* SPDX-License-Identifier: Apache-2.0 */
/* The RA-gRPC server the rpc_request target feeds (rpc_greeter.h). */
#include <stdlib.h>

#include <openssl/ssl.h>

#include "ccz/ccz.h"
#include "greeter.pb-c.h"
#include "rpc_greeter.h"

static void reply(ccz_rpc_call *call, const char *text)
{
    Ratls__HelloReply r = RATLS__HELLO_REPLY__INIT;
    r.message = (char *)text;
    (void)!ccz_rpc_call_add_trailer(call, "x-n", CCZ_SPAN("1", 1));
    if (ccz_rpc_reply(call, &r.base) != CCZ_OK)
        (void)!ccz_rpc_finish(call, CCZ_RPC_INTERNAL, "cannot reply");
}

static void unary(ccz_rpc_call *call, const ProtobufCMessage *req, void *payload)
{
    (void)payload;
    const ccz_rpc_metadata *md = ccz_rpc_call_metadata(call);
    for (size_t i = 0; i < md->n; i++)
        (void)!ccz_rpc_call_add_header(call, md->entries[i].key,
                                       ccz_buf_span(&md->entries[i].value));
    (void)ccz_rpc_call_remaining_ms(call);
    reply(call, ((const Ratls__HelloRequest *)req)->name);
}

static void stream_out(ccz_rpc_call *call, const ProtobufCMessage *req, void *payload)
{
    (void)payload, (void)req;
    Ratls__HelloReply r = RATLS__HELLO_REPLY__INIT;
    r.message = "x";
    for (int i = 0; i < 3; i++)
        (void)!ccz_rpc_send(call, &r.base);
    (void)!ccz_rpc_finish(call, CCZ_RPC_OK, NULL);
}

static void stream_in(ccz_rpc_call *call, const ProtobufCMessage *req, void *payload)
{
    (void)payload;
    if (!req)
        reply(call, "done");
}

ccz_rpc_server *fuzz_rpc_server(void)
{
    static ccz_rpc_server *srv;
    if (!srv) {
        SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
        ccz_rpc_server_opts o = CCZ_RPC_SERVER_OPTS_INIT;
        o.tls = ctx;
        o.max_message = 4096;
        if (!ctx || ccz_rpc_server_new(&srv, &o) ||
            ccz_rpc_server_add(srv, "/ratls.Greeter/SayHello", CCZ_RPC_UNARY,
                               &ratls__hello_request__descriptor, &ratls__hello_reply__descriptor,
                               unary, NULL) ||
            ccz_rpc_server_add(srv, "/t.S/Out", CCZ_RPC_SERVER_STREAMING,
                               &ratls__hello_request__descriptor, &ratls__hello_reply__descriptor,
                               stream_out, NULL) ||
            ccz_rpc_server_add(srv, "/t.S/In", CCZ_RPC_CLIENT_STREAMING,
                               &ratls__hello_request__descriptor, &ratls__hello_reply__descriptor,
                               stream_in, NULL))
            abort();
        SSL_CTX_free(ctx);
    }
    return srv;
}
