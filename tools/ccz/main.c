/* SPDX-License-Identifier: Apache-2.0 */
/* ccz: the multi-tool. Dispatches to one command group per file. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ctype.h>

#include <jansson.h>

#include "cli.h"

static const char usage[] =
    "usage: ccz <command> [options]\n"
    "\n"
    "commands:\n"
    "  sim init [--dir D] [--force]     create a simulated TEE platform\n"
    "  sim measure FILE                 print the measurement a program has under sim\n"
    "  sim signer [KEY] [--dir D]       print the signer value of a signing key\n"
    "  sim info [--dir D]               describe a sim platform\n"
    "  attest --tee sim|sgx|tdx|snp [--report-data HEX] -o FILE\n"
    "                                   produce evidence binding report data\n"
    "  verify FILE [--report-data HEX] [--policy FILE] [--at UNIX] [--json]\n"
    "                                   verify evidence and appraise it against a policy\n"
    "  policy check FILE [--json]       validate a policy (ccz or CCZoo dynamic_config.json)\n"
    "  collateral fetch QUOTE --pccs URL -o FILE\n"
    "                                   fetch Intel collateral for an SGX/TDX quote\n"
    "  collateral fetch REPORT --kds URL -o FILE\n"
    "                                   fetch the VCEK of an SEV-SNP report from AMD KDS\n"
    "  ratls cert|inspect|server|client RA-TLS certificates, and an attested TLS echo\n"
    "                                   server and client\n"
    "  rpc greeter serve|call           gRPC over RA-TLS (RA-gRPC): the Greeter service\n"
    "  secret serve|get                 secret provisioning (Gramine's protocol): release\n"
    "                                   secrets to attested clients by policy, and fetch one\n"
    "  paillier keygen|encrypt|decrypt|add|mul|bench\n"
    "                                   Paillier homomorphic encryption (python-paillier keys)\n"
    "  he params|bench                  lattice HE (BFV, CKKS): presets, timings\n"
    "  version                          print the version\n"
    "\n"
    "Run 'ccz <command> --help' for a command's options. Exit codes: 0 success (verified and\n"
    "accepted), 1 verification failed or policy rejected, 2 usage error or unreadable input.\n"
    "Log level: CCZ_LOG=debug|info|warn|error|off.\n";

bool cli_json;

/* Under --json a failure is still one JSON object on standard output: {"ok": false, "error":
 * {"code", "message"}} (the text goes to standard error as well). */
static void json_error(const char *code, const char *message)
{
    if (!cli_json)
        return;
    json_t *o = json_pack("{s:b,s:{s:s,s:s}}", "ok", 0, "error", "code", code, "message", message);
    char *text = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    if (text)
        puts(text);
    free(text);
    json_decref(o);
}

int main(int argc, char **argv)
{
    const char *lvl = getenv("CCZ_LOG");
    ccz_log_level level;
    if (lvl && lvl[0] && ccz_log_level_parse(lvl, &level) == CCZ_OK)
        ccz_log_set_level(level);
    if (argc < 2) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    opterr = 0; /* the commands name the bad option themselves */
    for (int i = 2; i < argc && strcmp(argv[i], "--"); i++)
        cli_json |= !strcmp(argv[i], "--json");
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        fputs(usage, stdout);
        return EXIT_OK;
    }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        if (argc > 2 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
            puts("usage: ccz version\n\nPrints the version of ccz (and of libccz it runs on).");
            return EXIT_OK;
        }
        if (argc > 2)
            return cli_usage_error("version", "'ccz version' takes no arguments ('%s')",
                                   argv[2]);
        printf("ccz %s\n", CCZ_VERSION_STRING);
        return EXIT_OK;
    }
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {
        {"sim", cmd_sim},
        {"attest", cmd_attest},
        {"verify", cmd_verify},
        {"policy", cmd_policy},
        {"collateral", cmd_collateral},
        {"ratls", cmd_ratls},
        {"rpc", cmd_rpc},
        {"secret", cmd_secret},
        {"paillier", cmd_paillier},
        {"he", cmd_he},
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (!strcmp(cmd, cmds[i].name))
            return cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "ccz: unknown command '%s'\n\n%s", cmd, usage);
    return EXIT_USAGE;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "ccz: %s\n(see 'ccz %s --help')\n", msg, cmd);
    json_error("usage_error", msg);
    return EXIT_USAGE;
}

int cli_bad_option(const char *cmd, char **argv)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "?";
    return cli_usage_error(cmd, "'%s' is not an option here, or its value is missing", arg);
}

int cli_fail(ccz_status s, const char *fmt, ...)
{
    char what[512], msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    const char *d = ccz_error_detail();
    snprintf(msg, sizeof msg, "%s: %s", what, d[0] ? d : ccz_strerror(s));
    fprintf(stderr, "ccz: %s\n", msg);
    json_error(ccz_status_name(s), msg);
    return EXIT_USAGE;
}

ccz_status cli_sim_dir(ccz_buf *out, const char *given)
{
    if (given)
        return ccz_buf_append_str(out, given);
    return ccz_sim_default_dir(out);
}

ccz_status cli_report_data(uint8_t out[64], const char *hex)
{
    memset(out, 0, 64);
    if (!hex)
        return CCZ_OK;
    size_t n = strlen(hex);
    if (n > 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X'))
        hex += 2, n -= 2;
    CCZ_ENSURE(n <= 128, CCZ_ERR_INVALID_ARGUMENT,
               "report data is %zu hex digits; at most 128 (64 bytes) fit", n);
    ccz_buf b = CCZ_BUF_INIT;
    ccz_status s = ccz_hex_decode(&b, hex, n);
    if (s == CCZ_OK)
        memcpy(out, b.ptr, b.len);
    ccz_buf_free(&b);
    return s;
}

ccz_status cli_number(const char *s, unsigned long long max, unsigned long long *out)
{
    size_t n = strlen(s);
    CCZ_ENSURE(n > 0 && n <= 20 && strspn(s, "0123456789") == n, CCZ_ERR_INVALID_ARGUMENT,
               "'%s' is not a decimal number", s);
    errno = 0;
    unsigned long long v = strtoull(s, NULL, 10);
    CCZ_ENSURE(errno == 0 && v <= max, CCZ_ERR_INVALID_ARGUMENT, "%s is larger than %llu", s,
               max);
    *out = v;
    return CCZ_OK;
}

/* Evidence files may hold hex text (as several public samples do); decode it in place. */
static ccz_status maybe_unhex(ccz_buf *ev)
{
    size_t digits = 0;
    for (size_t i = 0; i < ev->len; i++) {
        if (isxdigit(ev->ptr[i]))
            digits++;
        else if (!isspace(ev->ptr[i]))
            return CCZ_OK; /* binary */
    }
    if (digits == 0)
        return CCZ_OK; /* empty: the verifier says no format matches */
    ccz_buf hex = CCZ_BUF_INIT, bin = CCZ_BUF_INIT;
    ccz_status s = CCZ_OK;
    for (size_t i = 0; i < ev->len && s == CCZ_OK; i++)
        if (!isspace(ev->ptr[i]))
            s = ccz_buf_append_u8(&hex, ev->ptr[i]);
    if (s == CCZ_OK)
        s = ccz_hex_decode(&bin, (const char *)hex.ptr, hex.len);
    if (s == CCZ_OK) {
        ccz_buf_free(ev);
        *ev = bin;
        bin = (ccz_buf)CCZ_BUF_INIT;
    }
    ccz_buf_free(&hex);
    ccz_buf_free(&bin);
    return s;
}

ccz_status cli_read_evidence(ccz_buf *out, const char *path)
{
    CCZ_GUARD(ccz_file_read(out, path, 4u << 20));
    return maybe_unhex(out);
}
