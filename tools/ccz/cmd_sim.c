/* SPDX-License-Identifier: Apache-2.0 */
/* ccz sim: create and inspect the simulated TEE platform. Everything printed here says that
 * the platform is simulated. */
#include <stdio.h>
#include <string.h>

#include <openssl/x509.h>

#include "endpoint.h"
#include "x509/x509.h"

static const char sim_usage[] =
    "usage: ccz sim init [--dir D] [--force]\n"
    "       ccz sim measure FILE\n"
    "       ccz sim signer [KEY] [--dir D]\n"
    "       ccz sim info [--dir D]\n"
    "\n"
    "The simulated TEE lets ccz run without TEE hardware. Its evidence is signed by a local\n"
    "attestation key and is accepted only by policies that set allow_sim.\n"
    "  --dir D   platform directory (default: $CCZ_SIM_DIR, else $XDG_DATA_HOME/ccz/sim,\n"
    "            else ~/.local/share/ccz/sim)\n"
    "  --force   replace an existing platform\n";

static int sim_init(int argc, char **argv);
static int sim_measure(int argc, char **argv);
static int sim_signer(int argc, char **argv);
static int sim_info(int argc, char **argv);

static const cli_command sim_cmds[] = {
    {"init", sim_init, NULL, CLI_OPT(CLI_O_DIR) | CLI_OPT(CLI_O_FORCE) | CLI_FRAG_HELP},
    {"measure", sim_measure, NULL, 0}, /* FILE alone, or --help */
    {"signer", sim_signer, NULL, CLI_OPT(CLI_O_DIR) | CLI_FRAG_HELP},
    {"info", sim_info, NULL, CLI_OPT(CLI_O_DIR) | CLI_FRAG_HELP},
};
static const cli_group sim_group = CLI_GROUP("sim", sim_usage, sim_cmds, "sim command", NULL, NULL);

/* The options of a sim command (its table entry says which); -1 after --help. */
static int parse_dir_opts(int argc, char **argv, const char **dir, bool *force)
{
    cli_args a = {0};
    int r = cli_parse(&a, argc, argv, &sim_group, cli_command_opts(&sim_group, argv[0]));
    *dir = a.dir;
    if (force)
        *force = a.force;
    return r;
}

static void print_hex(const uint8_t *p, size_t n)
{
    char s[129];
    ccz_hex_to_str(s, p, n);
    puts(s);
}

static int sim_init(int argc, char **argv)
{
    const char *given = NULL;
    bool force = false;
    int r = parse_dir_opts(argc, argv, &given, &force);
    if (r)
        return r < 0 ? EXIT_OK : r;
    if (optind != argc)
        return cli_usage_error("sim", "'sim init' takes no arguments");
    ccz_buf dir = CCZ_BUF_INIT;
    ccz_status s = cli_sim_dir(&dir, given);
    if (s == CCZ_OK)
        s = ccz_sim_platform_init((const char *)dir.ptr, force);
    if (s) {
        r = cli_fail(s, "sim init");
    } else {
        printf("created a SIMULATED TEE platform in %s\n", (const char *)dir.ptr);
        printf("  root.crt    platform root (give it to verifiers: 'ccz verify --sim-root')\n");
        printf("  ak.crt/key  attestation key that signs sim evidence\n");
        printf("  signer.key  default enclave signing key\n");
        printf("Sim evidence is not hardware-backed; verifiers accept it only with allow_sim.\n");
    }
    ccz_buf_free(&dir);
    return r;
}

static int sim_measure(int argc, char **argv)
{
    if (argc == 2 && cli_is_help(argv[1]))
        return cli_help(&sim_group);
    if (argc != 2)
        return cli_usage_error("sim", "usage: ccz sim measure FILE");
    uint8_t m[32];
    ccz_status s = ccz_sim_measure_file(m, argv[1]);
    if (s)
        return cli_fail(s, "sim measure");
    print_hex(m, 32);
    return EXIT_OK;
}

static int sim_signer(int argc, char **argv)
{
    const char *given = NULL;
    int r = parse_dir_opts(argc, argv, &given, NULL);
    if (r)
        return r < 0 ? EXIT_OK : r;
    if (argc - optind > 1)
        return cli_usage_error("sim", "usage: ccz sim signer [KEY] [--dir D]");
    if (optind < argc && given) /* --dir would do nothing */
        return cli_usage_error("sim", "'sim signer' takes KEY or --dir D, not both");
    ccz_buf path = CCZ_BUF_INIT;
    ccz_status s = CCZ_OK;
    if (optind < argc) {
        s = ccz_buf_append_str(&path, argv[optind]);
    } else {
        s = cli_sim_dir(&path, given);
        if (s == CCZ_OK)
            s = ccz_buf_append_str(&path, "/signer.key");
    }
    uint8_t v[32];
    if (s == CCZ_OK)
        s = ccz_sim_signer_of_key_file(v, (const char *)path.ptr);
    if (s)
        r = cli_fail(s, "sim signer");
    else
        print_hex(v, 32);
    ccz_buf_free(&path);
    return r;
}

static int sim_info(int argc, char **argv)
{
    const char *given = NULL;
    int r = parse_dir_opts(argc, argv, &given, NULL);
    if (r)
        return r < 0 ? EXIT_OK : r;
    if (optind != argc)
        return cli_usage_error("sim", "'sim info' takes no arguments");
    ccz_buf dir = CCZ_BUF_INIT, path = CCZ_BUF_INIT;
    ccz_status s = cli_sim_dir(&dir, given);
    if (s == CCZ_OK)
        s = ccz_buf_printf(&path, "%s/root.crt", (const char *)dir.ptr);
    X509 *root = NULL;
    if (s == CCZ_OK)
        s = cli_read_cert(&root, (const char *)path.ptr);
    uint8_t id[32], signer[32];
    if (s == CCZ_OK)
        s = x509_cert_sha256(id, root);
    ccz_buf_reset(&path);
    if (s == CCZ_OK)
        s = ccz_buf_printf(&path, "%s/signer.key", (const char *)dir.ptr);
    if (s == CCZ_OK)
        s = ccz_sim_signer_of_key_file(signer, (const char *)path.ptr);
    if (s) {
        r = cli_fail(s, "sim info");
    } else {
        char hex[65];
        printf("SIMULATED TEE platform (not hardware-backed)\n");
        printf("  directory       %s\n", (const char *)dir.ptr);
        ccz_hex_to_str(hex, id, 32);
        printf("  platform_id     %s\n", hex);
        ccz_hex_to_str(hex, signer, 32);
        printf("  default signer  %s\n", hex);
    }
    X509_free(root);
    ccz_buf_free(&dir);
    ccz_buf_free(&path);
    return r;
}

int cmd_sim(int argc, char **argv)
{
    return cli_dispatch(&sim_group, argc, argv);
}
