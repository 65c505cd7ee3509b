/* SPDX-License-Identifier: Apache-2.0 */
/* The FL tests' aggregator (hfl_server.h). */
#include "hfl_server.h"

#include <stdio.h>

#include "rpc_fixture.h"
#include "test.h"

static void on_round(const ccz_hfl_round *r, void *payload)
{
    hfl_test_server *s = payload;
    if (s->n_rounds < HFL_TEST_ROUNDS)
        s->rounds[s->n_rounds++] = *r;
}

static void on_over(const ccz_hfl_status *st, void *payload)
{
    (void)st;
    ccz_rpc_server_shutdown(((hfl_test_server *)payload)->rpc, 1000);
}

void hfl_test_server_start(hfl_test_server *s, ccz_hfl_service_opts *o, size_t dim)
{
    s->n_rounds = 0;
    ccz_rpc_server_opts so = CCZ_RPC_SERVER_OPTS_INIT;
    so.max_message = ccz_hfl_max_message(dim);
    so.max_per_peer = s->max_per_peer;
    CHECK_OK(ccz_rpc_server_new(&s->rpc, &so));
    o->on_round = on_round;
    o->on_over = on_over;
    o->payload = s;
    CHECK_OK(ccz_hfl_service_new(&s->svc, s->rpc, o));
    rpc_serve(s->rpc, &s->thread, s->target);
}

void hfl_test_server_stop(hfl_test_server *s)
{
    rpc_serve_stop(s->rpc, s->thread, 1000);
    ccz_hfl_service_free(s->svc);
    ccz_rpc_server_free(s->rpc);
}
