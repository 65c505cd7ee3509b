/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: what a gRPC server sends a client (src/rpc/client.c): its HTTP/2 preface and
 * frames, response headers and trailers (:status, content-type, grpc-status, grpc-message,
 * grpc-encoding, metadata), length-prefixed messages, compressed or not, and protobuf-c
 * unpacking, for a unary, a server-streaming and a client-streaming call open at once. Every
 * call must end exactly once, with a gRPC code; every message is the method's. Seeds from
 * fuzz/gen_rpc_response_seeds.py. */
#include <stdlib.h>
#include <string.h>

#include "ccz/ccz.h"
#include "greeter.pb-c.h"
#include "rpc/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    int ended, messages;
} seen;

static void on_message(const ProtobufCMessage *m, void *payload)
{
    seen *s = payload;
    if (!m || m->descriptor != &ratls__hello_reply__descriptor)
        abort();
    s->messages++;
}

static void on_done(const ccz_rpc_status *st, void *payload)
{
    seen *s = payload;
    if (st->code < 0 || st->code > 16 || !memchr(st->message, 0, sizeof st->message))
        abort(); /* every call ends with a gRPC code and a message */
    for (size_t i = 0; i < st->headers.n + st->trailers.n; i++) {
        const ccz_rpc_md_entry *e =
            i < st->headers.n ? &st->headers.entries[i] : &st->trailers.entries[i - st->headers.n];
        if (!e->key || !e->key[0])
            abort();
    }
    s->ended++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool quiet;
    if (!quiet) {
        ccz_log_set_level(CCZ_LOG_OFF);
        quiet = true;
    }
    Ratls__HelloRequest req = RATLS__HELLO_REQUEST__INIT;
    req.name = "fuzz";
    seen s = {0, 0};
    rpc_client_feed_calls c = {{"/ratls.Greeter/SayHello", "/t.S/Out", "/t.S/In"},
                               &req.base,
                               &ratls__hello_reply__descriptor,
                               4096,
                               on_message,
                               on_done,
                               &s};
    if (rpc_client_feed(data, size, &c) == CCZ_OK && s.ended != 3)
        abort(); /* a call that never ended, or ended twice */
    ccz_error_clear();
    return 0;
}
