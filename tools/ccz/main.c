/* SPDX-License-Identifier: Apache-2.0 */
/* ccz: the multi-tool. Dispatches to one command group per file. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ctype.h>

#include <jansson.h>

#include "cli.h"

/* ccz's commands: the list in 'ccz --help' is made from this table's summaries, and the man
 * page and the bash completion from that list (gen-help-files.sh). */
static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

static const cli_command commands[] = {
    {"sim", cmd_sim,
     "sim init [--dir D] [--force]     create a simulated TEE platform\n"
     "sim measure FILE                 print the measurement a program has under sim\n"
     "sim signer [KEY] [--dir D]       print the signer value of a signing key\n"
     "sim info [--dir D]               describe a sim platform\n",
     0},
    {"attest", cmd_attest,
     "attest --tee sim|sgx|tdx|snp [--report-data HEX] -o FILE\n"
     "                                 produce evidence binding report data\n",
     CLI_FRAG_ATTESTER | CLI_OPT(CLI_O_REPORT_DATA) | CLI_OPT(CLI_O_OUT) |
         CLI_OPT(CLI_O_CERTS_OUT) | CLI_FRAG_HELP},
    {"verify", cmd_verify,
     "verify FILE [--report-data HEX] [--policy FILE] [--at UNIX] [--json]\n"
     "                                 verify evidence and appraise it against a policy\n",
     CLI_FRAG_VERIFY | CLI_OPT(CLI_O_SIM_DIR) | CLI_OPT(CLI_O_REPORT_DATA) | CLI_OPT(CLI_O_AT) |
         CLI_OPT(CLI_O_EVENTLOG) | CLI_OPT(CLI_O_INIT_DATA_HASH) | CLI_FRAG_JSON | CLI_FRAG_HELP |
         CLI_OPT(CLI_O_CCA_TA)},
    {"eventlog", cmd_eventlog,
     "eventlog FILE [--json] [--expect INDEX=HEX]...\n"
     "                                 parse a measured-boot event log (CCEL) and replay it\n",
     CLI_FRAG_JSON | CLI_OPT(CLI_O_EXPECT) | CLI_OPT(CLI_O_ALGORITHM) | CLI_FRAG_HELP},
    {"policy", cmd_policy,
     "policy check FILE [--json]       validate a policy (ccz or CCZoo dynamic_config.json)\n", 0},
    {"collateral", cmd_collateral,
     "collateral fetch QUOTE --pccs URL -o FILE\n"
     "                                 fetch Intel collateral for an SGX/TDX quote\n"
     "collateral fetch REPORT --kds URL -o FILE\n"
     "                                 fetch the VCEK of an SEV-SNP report from AMD KDS\n"
     "collateral fetch REPORT --hygon-kds URL -o FILE\n"
     "                                 fetch the HSK/CEK of a Hygon CSV report from Hygon's KDS\n",
     0},
    {"ratls", cmd_ratls,
     "ratls cert|inspect|server|client RA-TLS certificates, and an attested TLS echo\n"
     "                                 server and client\n",
     0},
    {"rpc", cmd_rpc,
     "rpc greeter serve|call           gRPC over RA-TLS (RA-gRPC): the Greeter service\n", 0},
    {"attestation", cmd_attestation,
     "attestation serve|token verify  the attestation service (EAR tokens, policies, KBS,\n"
     "                                 secret provisioning), and checking its tokens offline\n",
     0},
    {"kbs", cmd_kbs,
     "kbs get-resource URL PATH        fetch a resource from a KBS (Trustee's protocol)\n", 0},
    {"kms", cmd_kms,
     "kms serve|enroll|call            the key management service (eHSM-KMS's protocol, keys\n"
     "                                 sealed in the TEE), and its client\n",
     0},
    {"psi", cmd_psi,
     "psi serve|join                   private set intersection: CCZoo's N-party PSI in a TEE\n"
     "                                 over RA-gRPC\n"
     "psi ecdh --listen|--connect ADDR --data FILE\n"
     "                                 two-party private set intersection (ECDH, ristretto255)\n",
     0},
    {"fl", cmd_fl,
     "fl homo-lr serve|work            federated learning: CCZoo's homomorphic logistic\n"
     "                                 regression, Paillier-encrypted, its server in a TEE\n"
     "fl hetero-lr arbiter|guest|host  FATE's vertical logistic regression, Paillier-encrypted,\n"
     "                                 its arbiter in a TEE\n"
     "fl serve|join                    horizontal federated learning (FedAvg, FedProx,\n"
     "                                 FedAdam) with an attested aggregator\n",
     0},
    {"secret", cmd_secret,
     "secret serve|get                 secret provisioning (Gramine's protocol): release\n"
     "                                 secrets to attested clients by policy, and fetch one\n",
     0},
    {"paillier", cmd_paillier,
     "paillier keygen|encrypt|decrypt|add|mul|bench\n"
     "                                 Paillier homomorphic encryption (python-paillier keys)\n",
     0},
    {"he", cmd_he, "he params|bench                  lattice HE (BFV, CKKS): presets, timings\n",
     0},
    {"pf", cmd_pf,
     "pf gen-key|encrypt|decrypt|verify\n"
     "                                 protected files in Gramine's format (gramine-sgx-pf-crypt)\n",
     0},
    {"ml", cmd_ml,
     "ml info|run MODEL                ONNX inference: check a model, run it on rows\n", 0},
    {"serve", cmd_model_serve,
     "serve --model NAME=PATH [--rest ADDR] [--grpc ADDR]\n"
     "                                 serve models: TensorFlow Serving's REST and gRPC APIs,\n"
     "                                 KServe v2; protected-file models, keys by attestation\n",
     0},
    {"version", cmd_version, "version                          print the version\n", 0},
    {"--version", cmd_version, NULL, 0},
    {"help", cmd_help, NULL, 0},
};

static const char usage_head[] = "usage: ccz <command> [options]\n"
                                 "\n"
                                 "commands:\n";
static const char usage_tail[] =
    "\n"
    "Run 'ccz <command> --help' for a command's options. Exit codes: 0 success (verified and\n"
    "accepted), 1 verification failed or policy rejected, 2 usage error or unreadable input.\n"
    "Log level: CCZ_LOG=debug|info|warn|error|off.\n";

static void print_usage(FILE *f)
{
    fputs(usage_head, f);
    for (size_t i = 0; i < CCZ_ARRAY_LEN(commands); i++)
        for (const char *line = commands[i].summary; line && *line;) {
            const char *nl = strchr(line, '\n');
            size_t n = nl ? (size_t)(nl - line) : strlen(line);
            fprintf(f, "  %.*s\n", (int)n, line);
            line += n + (nl != NULL);
        }
    fputs(usage_tail, f);
}

const cli_group ccz_commands = CLI_GROUP(NULL, NULL, commands, NULL, NULL, NULL);

static int cmd_help(int argc, char **argv)
{
    (void)argc, (void)argv;
    print_usage(stdout);
    return EXIT_OK;
}

static int cmd_version(int argc, char **argv)
{
    if (argc > 1 && cli_is_help(argv[1])) {
        puts("usage: ccz version\n\nPrints the version of ccz (and of libccz it runs on).");
        return EXIT_OK;
    }
    if (argc > 1)
        return cli_usage_error("version", "'ccz version' takes no arguments ('%s')", argv[1]);
    printf("ccz %s\n", CCZ_VERSION_STRING);
    return EXIT_OK;
}

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
    if (lvl && lvl[0] && ccz_log_level_parse(&level, lvl) == CCZ_OK)
        ccz_log_set_level(level);
    opterr = 0; /* the commands name the bad option themselves */
    for (int i = 2; i < argc && strcmp(argv[i], "--"); i++)
        cli_json |= !strcmp(argv[i], "--json");
    int r = cli_dispatch(&ccz_commands, argc, argv);
    /* what is still buffered for standard output is written now: a command whose output is lost
     * (a full disk, a closed descriptor) has failed, whatever it printed */
    bool lost = fflush(stdout) != 0;
    if ((lost || ferror(stdout)) && r == EXIT_OK) {
        fprintf(stderr, "ccz: cannot write standard output: %s\n",
                lost ? strerror(errno) : "write error");
        r = EXIT_USAGE;
    }
    return r;
}

bool cli_is_help(const char *arg)
{
    return !strcmp(arg, "--help") || !strcmp(arg, "-h");
}

int cli_help(const cli_group *g)
{
    if (g->usage)
        fputs(g->usage, stdout);
    else
        print_usage(stdout);
    return EXIT_OK;
}

int cli_dispatch(const cli_group *g, int argc, char **argv)
{
    if (argc < 2) {
        if (g->missing)
            return cli_usage_error(g->name, "%s", g->missing);
        if (g->usage)
            fputs(g->usage, stderr);
        else
            print_usage(stderr);
        return EXIT_USAGE;
    }
    if (cli_is_help(argv[1]))
        return cli_help(g);
    for (size_t i = 0; i < g->n_cmds; i++)
        if (!strcmp(argv[1], g->cmds[i].name))
            return g->cmds[i].run(argc - 1, argv + 1);
    if (!g->name) { /* ccz itself */
        fprintf(stderr, "ccz: unknown command '%s'\n\n", argv[1]);
        print_usage(stderr);
        return EXIT_USAGE;
    }
    if (!g->unknown)
        return cli_usage_error(g->name, "%s", g->missing);
    return cli_usage_error(g->name, "unknown %s '%s'%s", g->unknown, argv[1],
                           g->hint ? g->hint : "");
}

int cli_exit_code(ccz_status s, bool verifying)
{
    if (s == CCZ_OK)
        return EXIT_OK;
    if (!verifying) /* the command could not do its work: a usage error or unreadable input */
        return EXIT_USAGE;
    switch (ccz_status_class(s)) {
    case CCZ_CLASS_USAGE: /* the command line's fault, not the evidence's or the peer's */
        return EXIT_USAGE;
    case CCZ_CLASS_IO: /* a peer that could not be reached was never verified */
        return s == CCZ_ERR_NETWORK ? EXIT_USAGE : EXIT_REJECT;
    case CCZ_CLASS_OK:
    case CCZ_CLASS_INPUT: /* a part of readable evidence that its verifier refuses */
    case CCZ_CLASS_VERIFICATION:
    case CCZ_CLASS_INTERNAL:
        break;
    }
    return EXIT_REJECT;
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
    return cli_exit_code(s, false);
}

ccz_status cli_out_ready(const char *path, const char *option)
{
    if (!path)
        return CCZ_OK;
    char *tmp;
    int fd;
    ccz_status s = ccz_file_temp_beside(&tmp, &fd, path);
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
    }
    free(tmp);
    return s ? ccz_fail_context(s, "%s", option) : CCZ_OK;
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
    CCZ_ENSURE(errno == 0 && v <= max, CCZ_ERR_INVALID_ARGUMENT, "%s is larger than %llu", s, max);
    *out = v;
    return CCZ_OK;
}

ccz_status cli_seconds(const char *s, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end); /* which skips leading blanks: refused below */
    CCZ_ENSURE(
        end != s && !*end && !isspace((unsigned char)s[0]) && errno == 0 && v > 0 && v <= max,
        CCZ_ERR_INVALID_ARGUMENT, "'%s' is not a number of seconds above 0 and at most %g", s, max);
    *out = v;
    return CCZ_OK;
}

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t cli_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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
