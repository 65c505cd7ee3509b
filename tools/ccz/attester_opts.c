/* SPDX-License-Identifier: Apache-2.0 */
/* The options that choose and configure an attester, shared by the commands that attest
 * (attest, ratls cert/server/client). */
#include <string.h>

#include "cli.h"

int cli_attester_option(cli_attester *ca, int c, const char *arg, const char *cmd)
{
    unsigned long long num;
    switch (c) {
    case CLI_O_TEE:
        ca->tee = arg;
        return 1;
    case CLI_O_SIM_DIR:
        ca->dir_arg = arg;
        return 1;
    case CLI_O_SIGNER_KEY:
        ca->o.sim.signer_key = arg;
        return 1;
    case CLI_O_MEASUREMENT:
        if (ccz_hex_decode_fixed(ca->measurement, 32, arg, strlen(arg))) {
            cli_usage_error(cmd, "--measurement: %s", ccz_error_detail());
            return -1;
        }
        ca->o.sim.measurement = ca->measurement;
        return 1;
    case CLI_O_PRODUCT_ID:
    case CLI_O_SVN:
        if (cli_number(arg, UINT16_MAX, &num)) {
            cli_usage_error(cmd, "--%s: %s", c == CLI_O_PRODUCT_ID ? "product-id" : "svn",
                            ccz_error_detail());
            return -1;
        }
        *(c == CLI_O_PRODUCT_ID ? &ca->o.sim.product_id : &ca->o.sim.svn) = (uint16_t)num;
        return 1;
    case CLI_O_DEBUG:
        ca->o.sim.debug = true;
        return 1;
    case CLI_O_DEVICE_ROOT:
        ca->o.device_root = arg;
        return 1;
    case CLI_O_TSM_ENTRY:
        ca->o.tsm_entry = arg;
        return 1;
    default:
        return 0;
    }
}

void cli_attester_init(cli_attester *ca)
{
    memset(ca, 0, sizeof *ca);
    ca->o = (ccz_attester_opts)CCZ_ATTESTER_OPTS_INIT;
}

ccz_status cli_attester_new(cli_attester *ca, ccz_attester **out)
{
    *out = NULL;
    CCZ_ENSURE(ca->tee, CCZ_ERR_INVALID_ARGUMENT, "--tee is required (sim, sgx, tdx or snp)");
    CCZ_GUARD(ccz_tee_parse(&ca->o.tee, ca->tee));
    if (ca->o.tee == CCZ_TEE_SIM) {
        CCZ_GUARD(cli_sim_dir(&ca->dir, ca->dir_arg));
        ca->o.sim.dir = (const char *)ca->dir.ptr;
    }
    return ccz_attester_new(out, &ca->o);
}

void cli_attester_free(cli_attester *ca)
{
    ccz_buf_free(&ca->dir);
}
