/* ccz attest: produce evidence from a TEE (sim in this build) binding 64 bytes of report data. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char attest_usage[] =
    "usage: ccz attest --tee sim|sgx|tdx|snp [--report-data HEX] -o FILE [options]\n"
    "\n"
    "  --tee TEE            sim (simulated), sgx (inside Gramine: /dev/attestation), tdx (in a\n"
    "                       TD guest: configfs-tsm, else /dev/tdx_guest), snp (in an SEV-SNP\n"
    "                       guest: configfs-tsm, else /dev/sev-guest)\n"
    "  --report-data HEX    up to 64 bytes bound into the evidence; shorter values are padded\n"
    "                       with zero bytes (default: 64 zero bytes)\n"
    "  -o, --out FILE       where to write the evidence ('-' for standard output)\n"
    "sim options (the simulated TEE is not hardware-backed):\n"
    "  --sim-dir D          platform directory (default: $CCZ_SIM_DIR or the XDG data dir)\n"
    "  --signer-key KEY     PEM key whose public key is the signer (default: D/signer.key)\n"
    "  --measurement HEX    32-byte measurement instead of SHA-256 of the ccz executable\n"
    "  --product-id N       product id, 0..65535 (default 0)\n"
    "  --svn N              security version number, 0..65535 (default 0)\n"
    "  --debug              mark the evidence as coming from a debug enclave\n"
    "sgx, tdx and snp options:\n"
    "  --device-root D      look for /dev and /sys under D (default /), e.g. a directory\n"
    "                       that replays recorded evidence\n"
    "  --tsm-entry NAME     use this existing configfs-tsm report entry\n"
    "  --certs-out FILE     write the certificates the TEE hands out with the evidence\n"
    "                       (SEV-SNP: VCEK or VLEK, then ASK and ARK; PEM)\n";

int cmd_attest(int argc, char **argv)
{
    static const struct option opts[] = {
        {"tee", required_argument, NULL, 't'},
        {"report-data", required_argument, NULL, 'r'},
        {"out", required_argument, NULL, 'o'},
        {"sim-dir", required_argument, NULL, 'd'},
        {"signer-key", required_argument, NULL, 'k'},
        {"measurement", required_argument, NULL, 'm'},
        {"product-id", required_argument, NULL, 'p'},
        {"svn", required_argument, NULL, 's'},
        {"debug", no_argument, NULL, 'D'},
        {"device-root", required_argument, NULL, 'R'},
        {"tsm-entry", required_argument, NULL, 'E'},
        {"certs-out", required_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *tee = NULL, *rd_hex = NULL, *out = NULL, *dir_arg = NULL, *meas_hex = NULL;
    const char *certs_out = NULL;
    ccz_attester_opts o = CCZ_ATTESTER_OPTS_INIT;
    unsigned long long num;
    uint8_t measurement[32];
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 't':
            tee = optarg;
            break;
        case 'r':
            rd_hex = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'd':
            dir_arg = optarg;
            break;
        case 'k':
            o.sim.signer_key = optarg;
            break;
        case 'm':
            meas_hex = optarg;
            break;
        case 'p':
        case 's':
            if (cli_number(optarg, UINT16_MAX, &num))
                return cli_usage_error("attest", "--%s: %s", c == 'p' ? "product-id" : "svn",
                                       ccz_error_detail());
            *(c == 'p' ? &o.sim.product_id : &o.sim.svn) = (uint16_t)num;
            break;
        case 'D':
            o.sim.debug = true;
            break;
        case 'R':
            o.device_root = optarg;
            break;
        case 'E':
            o.tsm_entry = optarg;
            break;
        case 'C':
            certs_out = optarg;
            break;
        case 'h':
            fputs(attest_usage, stdout);
            return EXIT_OK;
        default:
            return cli_usage_error("attest", "bad option");
        }
    }
    if (optind != argc)
        return cli_usage_error("attest", "unexpected argument '%s'", argv[optind]);
    if (!tee)
        return cli_usage_error("attest", "--tee is required (sim, sgx, tdx or snp)");
    if (ccz_tee_parse(tee, &o.tee))
        return cli_usage_error("attest", "%s", ccz_error_detail());
    if (!out)
        return cli_usage_error("attest", "-o FILE is required");
    uint8_t rd[64];
    if (cli_report_data(rd, rd_hex))
        return cli_usage_error("attest", "--report-data: %s", ccz_error_detail());
    if (meas_hex) {
        if (ccz_hex_decode_fixed(measurement, 32, meas_hex, strlen(meas_hex)))
            return cli_usage_error("attest", "--measurement: %s", ccz_error_detail());
        o.sim.measurement = measurement;
    }

    ccz_buf dir = CCZ_BUF_INIT, ev = CCZ_BUF_INIT, certs = CCZ_BUF_INIT;
    ccz_attester *a = NULL;
    int r = EXIT_OK;
    ccz_status s = CCZ_OK;
    if (o.tee == CCZ_TEE_SIM) {
        s = cli_sim_dir(&dir, dir_arg);
        o.sim.dir = (const char *)dir.ptr;
    }
    if (s == CCZ_OK)
        s = ccz_attester_new(&a, &o);
    if (s == CCZ_OK)
        s = ccz_attest_with_certs(a, rd, &ev, certs_out ? &certs : NULL);
    if (s == CCZ_OK && certs_out && certs.len == 0)
        s = ccz_fail(CCZ_ERR_NOT_FOUND, "the TEE handed out no certificates (--certs-out)");
    if (s == CCZ_OK && certs_out)
        s = ccz_file_write(certs_out, ccz_buf_span(&certs), 0644);
    if (s) {
        r = cli_fail(s, "attest --tee %s", tee);
    } else if (!strcmp(out, "-")) {
        if (fwrite(ev.ptr, 1, ev.len, stdout) != ev.len || fflush(stdout) != 0)
            r = cli_fail(CCZ_ERR_IO, "cannot write evidence to standard output");
    } else if ((s = ccz_file_write(out, ccz_buf_span(&ev), 0644)) != CCZ_OK) {
        r = cli_fail(s, "attest");
    } else {
        fprintf(stderr, "wrote %zu bytes of %s evidence to %s%s\n", ev.len, tee, out,
                o.tee == CCZ_TEE_SIM ? " (SIMULATED TEE: not hardware-backed)" : "");
    }
    ccz_attester_free(a);
    ccz_buf_free(&dir);
    ccz_buf_free(&ev);
    ccz_buf_free(&certs);
    return r;
}
