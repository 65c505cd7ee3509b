/* SPDX-License-Identifier: Apache-2.0 */
/* ccz attest: produce evidence from a TEE binding 64 bytes of report data. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char attest_usage[] =
    "usage: ccz attest --tee sim|sgx|tdx|snp [--report-data HEX] -o FILE [options]\n"
    "\n"
    "  --report-data HEX    up to 64 bytes bound into the evidence; shorter values are padded\n"
    "                       with zero bytes (default: 64 zero bytes)\n"
    "  -o, --out FILE       where to write the evidence ('-' for standard output)\n"
    "  --certs-out FILE     write the certificates the TEE hands out with the evidence\n"
    "                       (SEV-SNP: VCEK or VLEK, then ASK and ARK; PEM)\n" CLI_ATTESTER_HELP
    "The simulated TEE is not hardware-backed; its evidence says so.\n";

static const cli_group attest_group = {"attest", attest_usage, NULL, 0, NULL, NULL, NULL};

int cmd_attest(int argc, char **argv)
{
    cli_args args = {0};
    int r = cli_parse(&args, argc, argv, &attest_group, cli_command_opts(&ccz_commands, "attest"));
    if (r)
        return r < 0 ? EXIT_OK : r;
    cli_attester *ca = &args.ca;
    const char *rd_hex = args.rd_hex, *out = args.out, *certs_out = args.certs_out;
    if (optind != argc)
        return cli_usage_error("attest", "unexpected argument '%s'", argv[optind]);
    if (!ca->tee)
        return cli_usage_error("attest", "--tee is required (sim, sgx, tdx or snp)");
    ccz_tee t;
    if (ccz_tee_parse(&t, ca->tee))
        return cli_usage_error("attest", "%s", ccz_error_detail());
    if (!out)
        return cli_usage_error("attest", "-o FILE is required");
    uint8_t rd[64];
    if (cli_report_data(rd, rd_hex))
        return cli_usage_error("attest", "--report-data: %s", ccz_error_detail());

    ccz_buf ev = CCZ_BUF_INIT, certs = CCZ_BUF_INIT;
    ccz_attester *a = NULL;
    ccz_status s = cli_attester_new(ca, &a);
    if (s == CCZ_OK)
        s = ccz_attest_with_certs(&ev, certs_out ? &certs : NULL, a, rd);
    if (s == CCZ_OK && certs_out && certs.len == 0)
        s = ccz_fail(CCZ_ERR_NOT_FOUND, "the TEE handed out no certificates (--certs-out)");
    if (s == CCZ_OK && certs_out)
        s = ccz_file_write(certs_out, ccz_buf_span(&certs), 0644);
    if (s) {
        r = cli_fail(s, "attest --tee %s", ca->tee);
    } else if (!strcmp(out, "-")) {
        if (fwrite(ev.ptr, 1, ev.len, stdout) != ev.len || fflush(stdout) != 0)
            r = cli_fail(CCZ_ERR_IO, "cannot write evidence to standard output");
    } else if ((s = ccz_file_write(out, ccz_buf_span(&ev), 0644)) != CCZ_OK) {
        r = cli_fail(s, "attest");
    } else {
        fprintf(stderr, "wrote %zu bytes of %s evidence to %s%s\n", ev.len, ca->tee, out,
                t == CCZ_TEE_SIM ? " (SIMULATED TEE: not hardware-backed)" : "");
    }
    ccz_attester_free(a);
    cli_attester_free(ca);
    ccz_buf_free(&ev);
    ccz_buf_free(&certs);
    return r;
}
