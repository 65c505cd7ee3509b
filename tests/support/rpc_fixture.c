/* SPDX-License-Identifier: Apache-2.0 */
/* The RPC tests' shared handlers and listener (rpc_fixture.h). */
#include "rpc_fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "greeter.pb-c.h"
#include "test.h"

void greeter_echo_metadata(ccz_rpc_call *call)
{
    const ccz_rpc_metadata *md = ccz_rpc_call_metadata(call);
    for (size_t i = 0; i < md->n; i++)
        if (!strncmp(md->entries[i].key, "x-", 2)) {
            CHECK_OK(ccz_rpc_call_add_header(call, md->entries[i].key,
                                             ccz_buf_span(&md->entries[i].value)));
            CHECK_OK(ccz_rpc_call_add_trailer(call, md->entries[i].key,
                                              ccz_buf_span(&md->entries[i].value)));
        }
}

void greeter_hello_reply(ccz_rpc_call *call, const char *name)
{
    greeter_echo_metadata(call);
    if (!name[0]) {
        CHECK_OK(ccz_rpc_finish(call, CCZ_RPC_INVALID_ARGUMENT, "name is empty"));
        return;
    }
    char text[256];
    snprintf(text, sizeof text, "Hello %.200s", name);
    Ratls__HelloReply r = RATLS__HELLO_REPLY__INIT;
    r.message = text;
    CHECK_OK(ccz_rpc_reply(call, &r.base));
}

void greeter_count(ccz_rpc_call *call, const ProtobufCMessage *req, void *payload)
{
    (void)payload;
    int n = atoi(((const Ratls__HelloRequest *)req)->name);
    for (int i = 0; i < n; i++) {
        char t[16];
        snprintf(t, sizeof t, "%d", i);
        Ratls__HelloReply r = RATLS__HELLO_REPLY__INIT;
        r.message = t;
        CHECK_OK(ccz_rpc_send(call, &r.base));
    }
    CHECK_OK(ccz_rpc_finish(call, CCZ_RPC_OK, NULL));
}

int silent_listener(char target[64])
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    CHECK(bind(l, (struct sockaddr *)&a, sizeof a) == 0 && listen(l, 16) == 0);
    getsockname(l, (struct sockaddr *)&a, &al);
    snprintf(target, 64, "127.0.0.1:%d", ntohs(a.sin_port));
    return l;
}

static void *serve_loop(void *arg)
{
    CHECK_OK(ccz_rpc_server_run(arg));
    return NULL;
}

void rpc_serve(ccz_rpc_server *s, pthread_t *thread, char target[64])
{
    int port = 0;
    CHECK_OK(ccz_rpc_server_listen(s, &port, "127.0.0.1:0"));
    snprintf(target, 64, "127.0.0.1:%d", port);
    test_thread(thread, serve_loop, s);
}

void rpc_serve_stop(ccz_rpc_server *s, pthread_t thread, int grace_ms)
{
    ccz_rpc_server_shutdown(s, grace_ms);
    pthread_join(thread, NULL);
}

void rpc_fake_start(rpc_fake *f, const ProtobufCServiceDescriptor *service,
                    const ccz_rpc_kind *kinds, const ccz_rpc_handler *handlers, void *payload,
                    size_t max_message)
{
    ccz_rpc_server_opts so = CCZ_RPC_SERVER_OPTS_INIT;
    so.max_message = max_message;
    CHECK_OK(ccz_rpc_server_new(&f->srv, &so));
    CHECK_OK(ccz_rpc_server_add_service_kinds(f->srv, service, kinds, handlers, payload));
    rpc_serve(f->srv, &f->thread, f->target);
    ccz_rpc_channel_opts co = CCZ_RPC_CHANNEL_OPTS_INIT;
    co.max_message = max_message;
    f->ch = NULL;
    CHECK_OK(ccz_rpc_channel_new(&f->ch, f->target, &co));
}

void rpc_fake_stop(rpc_fake *f)
{
    ccz_rpc_channel_free(f->ch);
    rpc_serve_stop(f->srv, f->thread, 500);
    ccz_rpc_server_free(f->srv);
}

void rpc_outcome_done(const ccz_rpc_status *st, void *payload)
{
    rpc_outcome *o = payload;
    o->code = st->code;
    snprintf(o->message, sizeof o->message, "%s", st->message);
}
