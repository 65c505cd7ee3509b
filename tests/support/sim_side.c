/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>

#include "sim_side.h"
#include "test.h"

static char plat[512], root_path[600];
static const uint8_t measurement[32] = {0x52, 0x50, 0x43};

const char *test_sim_platform(void)
{
    if (!plat[0]) {
        snprintf(plat, sizeof plat, "%s/plat", test_tmpdir());
        snprintf(root_path, sizeof root_path, "%s/root.crt", plat);
        CHECK_OK(ccz_sim_platform_init(plat, false));
    }
    return plat;
}

const char *test_sim_root(void)
{
    test_sim_platform();
    return root_path;
}

ccz_attester *test_sim_attester(bool debug)
{
    ccz_attester_opts o = CCZ_ATTESTER_OPTS_INIT;
    o.tee = CCZ_TEE_SIM;
    o.sim.dir = test_sim_platform();
    o.sim.measurement = measurement;
    o.sim.debug = debug;
    ccz_attester *a = NULL;
    CHECK_OK(ccz_attester_new(&a, &o));
    return a;
}

void test_side_init(test_side *s, bool server, bool debug)
{
    s->attester = test_sim_attester(debug);
    CHECK_OK(ccz_trust_new(&s->trust));
    CHECK_OK(ccz_trust_add_sim_root_file(s->trust, test_sim_root()));
    static const char pol[] =
        "{\"allow_sim\": true, \"sgx\": [{\"mr_enclave\": "
        "\"5250430000000000000000000000000000000000000000000000000000000000\"}]}";
    CHECK_OK(ccz_policy_parse(&s->policy, pol, strlen(pol)));
    ccz_ratls_opts o = CCZ_RATLS_OPTS_INIT;
    o.server = server;
    o.mode = CCZ_RATLS_TWO_WAY;
    o.attester = s->attester;
    o.policy = s->policy;
    o.trust = s->trust;
    CHECK_OK(ccz_ratls_ctx_new(&s->ctx, &o));
}

void test_side_free(test_side *s)
{
    SSL_CTX_free(s->ctx);
    ccz_policy_free(s->policy);
    ccz_trust_free(s->trust);
    ccz_attester_free(s->attester);
}
