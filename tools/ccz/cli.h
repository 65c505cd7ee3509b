/* SPDX-License-Identifier: Apache-2.0 */
/* The ccz command: shared helpers of the command groups. Arguments come from the user and are
 * checked here; files named by them are untrusted input for the library's parsers. */
#ifndef CCZ_CLI_H
#define CCZ_CLI_H

#include <getopt.h>

#include "ccz/ccz.h"

/* Exit codes: 0 verified and accepted (or done), 1 verification failed or policy rejected,
 * 2 usage error or unreadable input. */
#define EXIT_OK 0
#define EXIT_REJECT 1
#define EXIT_USAGE 2

int cmd_sim(int argc, char **argv);
int cmd_attest(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_collateral(int argc, char **argv);

/* Reads evidence from a file (at most 4 MiB); hex text (as some public samples are) is
 * decoded. */
ccz_status cli_read_evidence(ccz_buf *out, const char *path);

/* Set when the command line has --json: failures are then also one JSON object on stdout. */
extern bool cli_json;
/* Prints "ccz: <message>" and a pointer to the command's help; returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) CCZ_PRINTF(2, 3);
/* After getopt_long returned '?': names the unknown option (or the one missing its value). */
int cli_bad_option(const char *cmd, char **argv);
/* Prints "ccz: <what>: <detail or status message>"; returns EXIT_USAGE. */
int cli_fail(ccz_status s, const char *fmt, ...) CCZ_PRINTF(2, 3);
/* The sim platform directory: `given` if set, else the default (CCZ_SIM_DIR, XDG). */
ccz_status cli_sim_dir(ccz_buf *out, const char *given);
/* Parses up to 64 bytes of hex; shorter values are padded with zero bytes on the right. */
ccz_status cli_report_data(uint8_t out[64], const char *hex);
/* Parses a decimal number in [0, max]. */
ccz_status cli_number(const char *s, unsigned long long max, unsigned long long *out);

/* Attester options (attester_opts.c): --tee, --sim-dir, --signer-key, --measurement,
 * --product-id, --svn, --debug, --device-root, --tsm-entry. */
typedef struct {
    ccz_attester_opts o;
    const char *tee, *dir_arg;
    uint8_t measurement[32];
    ccz_buf dir;
} cli_attester;

#define CLI_ATTESTER_LONGOPTS                                                                     \
    {"tee", required_argument, NULL, 't'}, {"sim-dir", required_argument, NULL, 'd'},             \
        {"signer-key", required_argument, NULL, 'k'},                                             \
        {"measurement", required_argument, NULL, 'm'},                                            \
        {"product-id", required_argument, NULL, 'p'}, {"svn", required_argument, NULL, 's'},     \
        {"debug", no_argument, NULL, 'D'}, {"device-root", required_argument, NULL, 'R'},        \
        {"tsm-entry", required_argument, NULL, 'E'}

#define CLI_ATTESTER_HELP                                                                         \
    "attester options:\n"                                                                         \
    "  --tee TEE            sim (simulated), sgx (inside Gramine: /dev/attestation), tdx (in a\n"  \
    "                       TD guest: configfs-tsm, else /dev/tdx_guest), snp (in an SEV-SNP\n"   \
    "                       guest: configfs-tsm, else /dev/sev-guest)\n"                           \
    "  --sim-dir D          sim platform directory (default: $CCZ_SIM_DIR or the XDG data dir)\n"  \
    "  --signer-key KEY     sim: PEM key whose public key is the signer (default D/signer.key)\n" \
    "  --measurement HEX    sim: 32-byte measurement instead of SHA-256 of the ccz executable\n"   \
    "  --product-id N       sim: product id, 0..65535 (default 0)\n"                               \
    "  --svn N              sim: security version number, 0..65535 (default 0)\n"                 \
    "  --debug              sim: mark the evidence as coming from a debug enclave\n"              \
    "  --device-root D      sgx/tdx/snp: look for /dev and /sys under D (default /)\n"             \
    "  --tsm-entry NAME     tdx/snp: use this existing configfs-tsm report entry\n"

void cli_attester_init(cli_attester *ca);
/* 1: the option was an attester option; 0: not one; -1: a bad value (message printed). */
int cli_attester_option(cli_attester *ca, int c, const char *arg, const char *cmd);
ccz_status cli_attester_new(cli_attester *ca, ccz_attester **out);
void cli_attester_free(cli_attester *ca);

int cmd_ratls(int argc, char **argv);
int cmd_rpc(int argc, char **argv);
int cmd_secret(int argc, char **argv); /* cmd_secret.c */
int cmd_paillier(int argc, char **argv);
int cmd_he(int argc, char **argv);

/* Options of the RA-TLS and RPC commands (cmd_ratls.c). */
typedef struct {
    cli_attester ca;
    ccz_ratls_cert_opts co;
    const char *out, *key, *cert, *listen, *policy, *collateral, *vek, *chain, *root_ca;
    const char *sim_roots[16];
    int n_sim_roots;
    ccz_ratls_mode mode;
    bool json, once;
    long days;
    /* rpc */
    const char *name, *authority;
    const char *md[16];
    int n_md;
    long deadline_ms, count, delay_ms;
    /* connections: the client's connect+handshake bound; the server's handshake and idle
     * deadlines and its cap on concurrent connections (0: the defaults) */
    long timeout_ms, handshake_timeout_ms, idle_timeout_ms, max_conns;
} cli_ratls_args;

/* Parses the options; -1 after --help (usage printed), else an exit code. */
int cli_ratls_parse(cli_ratls_args *a, int argc, char **argv, const char *cmd, const char *usage);

/* One side of an RA-TLS connection: its trust, policy, collateral and identity. */
typedef struct {
    ccz_trust *trust;
    ccz_policy *policy;
    ccz_collateral *collateral;
    ccz_attester *attester;
    X509 *cert;
    EVP_PKEY *key;
} cli_endpoint;

ccz_status cli_endpoint_setup(cli_endpoint *e, cli_ratls_args *a, bool server, SSL_CTX **ctx,
                              ccz_ratls_verdict_cb cb);
void cli_endpoint_free(cli_endpoint *e);
/* Prints a peer verdict to stderr; payload names the peer ("client", "server"). */
void cli_print_verdict(const ccz_ratls_verdict *v, void *payload);
/* Reads a certificate, PEM or DER. */
ccz_status cli_read_cert(X509 **out, const char *path);

#endif
