/* SPDX-License-Identifier: Apache-2.0 */
/* The model server: its models and batchers (batch.c), the REST listener (rest.c, on src/http)
 * and the gRPC listener (grpc.c, on src/rpc), each loop on a thread of its own. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/guard.h"
#include "svc/serving/internal.h"

struct ccz_serving {
    sv_server s;
    int rest_port, grpc_port;
};

static void set_defaults(ccz_serving_opts *o)
{
    if (!o->batch_max_rows)
        o->batch_max_rows = 64;
    if (!o->max_body)
        o->max_body = 16u << 20;
    if (!o->max_queued)
        o->max_queued = 256u << 20;
    if (!o->max_connections)
        o->max_connections = 1024;
    if (!o->idle_ms)
        o->idle_ms = 60000;
    if (!o->request_ms)
        o->request_ms = 30000;
}

static ccz_status start_rest(ccz_serving *sv)
{
    sv_server *s = &sv->s;
    const ccz_serving_opts *o = &s->o;
    http_server_opts ho = {0};
    ho.tls = o->rest_tls;
    ho.name = "serving";
    ho.max_body = o->max_body;
    ho.max_held = o->max_body * 4 > (64u << 20) ? o->max_body * 4 : (64u << 20);
    ho.max_connections = o->max_connections;
    ho.idle_ms = o->idle_ms;
    ho.request_ms = o->request_ms;
    ho.max_per_peer = o->max_per_peer;
    ho.handshake_ms = o->handshake_ms;
    ho.string_errors = true;
    CCZ_GUARD(http_server_new(&s->http, &ho));
    CCZ_GUARD(sv_rest_routes(s, s->http));
    http_server_set_metrics(s->http, sv_metrics, s);
    return http_server_listen(s->http, o->rest_listen, &sv->rest_port);
}

static ccz_status start_grpc(ccz_serving *sv)
{
    sv_server *s = &sv->s;
    const ccz_serving_opts *o = &s->o;
    ccz_rpc_server_opts ro = CCZ_RPC_SERVER_OPTS_INIT;
    ro.tls = o->grpc_tls;
    ro.max_message = o->max_body;
    ro.max_connections = o->max_connections;
    ro.idle_timeout_ms = o->idle_ms;
    ro.max_per_peer = o->max_per_peer;
    ro.handshake_timeout_ms = o->handshake_ms;
    CCZ_GUARD(ccz_rpc_server_new(&s->rpc, &ro));
    CCZ_GUARD(sv_grpc_methods(s, s->rpc));
    return ccz_rpc_server_listen(s->rpc, &sv->grpc_port, o->grpc_listen);
}

ccz_status ccz_serving_new(ccz_serving **out, const ccz_serving_opts *o)
{
    CCZ_ENSURE(out && o, CCZ_ERR_INVALID_ARGUMENT, "ccz_serving_new: no options");
    *out = NULL;
    CCZ_ENSURE(o->version >= 1 && o->version <= CCZ_SERVING_OPTS_VERSION, CCZ_ERR_INVALID_ARGUMENT,
               "ccz_serving_opts: version %u (use CCZ_SERVING_OPTS_INIT)", o->version);
    CCZ_ENSURE(o->rest_listen || o->grpc_listen, CCZ_ERR_INVALID_ARGUMENT,
               "no listener: give a REST address, a gRPC address or both");
    CCZ_ENSURE(!o->rest_tls || o->rest_tls != o->grpc_tls, CCZ_ERR_INVALID_ARGUMENT,
               "the REST and gRPC listeners need TLS contexts of their own (ALPN differs)");
    ccz_serving *sv = calloc(1, sizeof *sv);
    CCZ_ENSURE(sv, CCZ_ERR_NOMEM, "out of memory");
    /* version 1 options end before max_per_peer: only that much is read */
    memcpy(&sv->s.o, o, o->version >= 2 ? sizeof *o : offsetof(ccz_serving_opts, max_per_peer));
    set_defaults(&sv->s.o);
    pthread_mutex_init(&sv->s.lock, NULL);
    ccz_status st = sv_models_load(&sv->s);
    if (st == CCZ_OK && o->rest_listen)
        st = start_rest(sv);
    if (st == CCZ_OK && o->grpc_listen)
        st = start_grpc(sv);
    if (st != CCZ_OK) {
        ccz_serving_free(sv);
        return st;
    }
    *out = sv;
    return CCZ_OK;
}

int ccz_serving_rest_port(const ccz_serving *s)
{
    return s ? s->rest_port : 0;
}

int ccz_serving_grpc_port(const ccz_serving *s)
{
    return s ? s->grpc_port : 0;
}

static void *grpc_loop(void *arg)
{
    ccz_serving *sv = arg;
    ccz_status st = ccz_rpc_server_run(sv->s.rpc);
    if (st != CCZ_OK)
        ccz_log(CCZ_LOG_ERROR, "serving: the gRPC listener stopped: %s", ccz_error_detail());
    return (void *)(intptr_t)st;
}

ccz_status ccz_serving_run(ccz_serving *sv)
{
    CCZ_ENSURE(sv, CCZ_ERR_INVALID_ARGUMENT, "ccz_serving_run: no server");
    sv_server *s = &sv->s;
    if (!s->http)
        return ccz_rpc_server_run(s->rpc);
    pthread_t t;
    bool threaded = false;
    if (s->rpc) {
        CCZ_ENSURE(pthread_create(&t, NULL, grpc_loop, sv) == 0, CCZ_ERR_NOMEM,
                   "cannot start the gRPC listener's thread");
        threaded = true;
    }
    ccz_status st = http_server_run(s->http);
    if (threaded) {
        if (st != CCZ_OK) /* the REST side failed: stop the other too */
            ccz_rpc_server_shutdown(s->rpc, 0);
        void *rc = NULL;
        pthread_join(t, &rc);
        if (st == CCZ_OK)
            st = (ccz_status)(intptr_t)rc;
    }
    return st;
}

static void grpc_cancel_queued(void *arg)
{
    sv_grpc_cancel_queued(arg);
}

void ccz_serving_shutdown(ccz_serving *sv, unsigned grace_ms)
{
    if (!sv)
        return;
    if (sv->s.http)
        http_server_shutdown(sv->s.http, grace_ms);
    if (sv->s.rpc) {
        /* calls still queued when the grace is nearly over are answered UNAVAILABLE while
         * their connections are up, not cut when the loop ends */
        unsigned before = grace_ms / 4 < 100 ? grace_ms / 4 : 100;
        if (ccz_rpc_server_defer(sv->s.rpc, (int)(grace_ms - before), grpc_cancel_queued, &sv->s) !=
            CCZ_OK)
            ccz_log(CCZ_LOG_DEBUG, "serving: %s", ccz_error_detail());
        ccz_rpc_server_shutdown(sv->s.rpc, (int)grace_ms);
    }
}

void ccz_serving_free(ccz_serving *sv)
{
    if (!sv)
        return;
    sv_server *s = &sv->s;
    /* no batch delivers to a loop once its server is gone; the servers may still tell a job
     * its request went away, so the jobs go last */
    sv_models_stop(s);
    /* gRPC calls still queued are given back (answered UNAVAILABLE) before their server goes */
    if (s->rpc)
        sv_grpc_cancel_queued(s);
    http_server_free(s->http);
    ccz_rpc_server_free(s->rpc);
    sv_models_free(s);
    free(s->loads);
    pthread_mutex_destroy(&s->lock);
    free(sv);
}
