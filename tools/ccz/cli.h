/* SPDX-License-Identifier: Apache-2.0 */
/* The ccz command: shared helpers of the command groups. Arguments come from the user and are
 * checked here; files named by them are untrusted input for the library's parsers. */
#ifndef CCZ_CLI_H
#define CCZ_CLI_H

#include <getopt.h>

#include "ccz/ccz.h"
#include "core/guard.h"

/* Exit codes: 0 verified and accepted (or done), 1 verification failed or policy rejected,
 * 2 usage error or unreadable input. */
#define EXIT_OK 0
#define EXIT_REJECT 1
#define EXIT_USAGE 2

/* ---- dispatch ------------------------------------------------------------------------------
 * Every level of the command line (ccz itself, each group, rpc's services) is a table of
 * commands and one call to cli_dispatch. A handler gets the arguments from its own name on
 * (argv[0] is "init" for "ccz sim init"). */
typedef int (*cli_handler)(int argc, char **argv);

/* A set of options, one bit each (CLI_OPT): more than 64 of them, so 128 bits (GCC and Clang's
 * __int128, on every target Debian builds ccz for). */
__extension__ typedef unsigned __int128 cli_opts;

typedef struct {
    const char *name;
    cli_handler run;
    /* ccz's own table: the lines of 'ccz --help' that list this command (NULL: not listed);
     * a group's table: NULL */
    const char *summary;
    /* the options it takes (CLI_FRAG_* and CLI_OPT bits), when it parses them with cli_parse */
    cli_opts opts;
} cli_command;

typedef struct {
    const char *name;  /* "sim", "rpc" ("see 'ccz NAME --help'"); NULL for ccz itself */
    const char *usage; /* the --help text */
    const cli_command *cmds;
    size_t n_cmds;
    const char *unknown; /* "unknown UNKNOWN 'word'HINT"; NULL: `missing` instead */
    const char *hint;
    const char *missing; /* no command given: this usage error; NULL: the usage on stderr */
} cli_group;

#define CLI_GROUP(name_, usage_, cmds_, unknown_, hint_, missing_)                                 \
    {                                                                                              \
        (name_), (usage_), (cmds_), CCZ_ARRAY_LEN(cmds_), (unknown_), (hint_), (missing_)          \
    }

/* ccz's own commands (main.c). */
extern const cli_group ccz_commands;

/* argv[0] names the group: "--help" or "-h" prints the usage (exit 0), no command the usage
 * on stderr or `missing` (exit 2), a command runs its handler, any other word is a usage
 * error. */
int cli_dispatch(const cli_group *g, int argc, char **argv);
/* Prints the group's usage on standard output (for --help); returns EXIT_OK. */
int cli_help(const cli_group *g);
/* "-h" or "--help". */
bool cli_is_help(const char *arg);

/* The one place exit codes are chosen (docs/cli.md): 0 for CCZ_OK; a command that could not do
 * its work (!verifying: a usage error or unreadable input) 2; a verification that failed
 * (verifying: readable evidence, or a peer that was reached) 1, except for the command line's
 * own errors (class usage) and a peer that could not be reached (network_error), 2. */
int cli_exit_code(ccz_status s, bool verifying);

int cmd_sim(int argc, char **argv);
int cmd_attest(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_collateral(int argc, char **argv);
int cmd_eventlog(int argc, char **argv); /* cmd_eventlog.c */
/* Reads and parses an event log file in any form ccz_eventlog_load takes; errors name it. */
ccz_status cli_eventlog_load(ccz_eventlog **out, const char *path);

/* Reads evidence from a file (at most 4 MiB); hex text (as some public samples are) is
 * decoded. */
ccz_status cli_read_evidence(ccz_buf *out, const char *path);

/* Set when the command line has --json: failures are then also one JSON object on stdout. */
extern bool cli_json;
/* Prints "ccz: <message>" and a pointer to the command's help; returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) CCZ_PRINTF(2, 3);
/* After getopt_long returned '?': names the unknown option (or the one missing its value). */
int cli_bad_option(const char *cmd, char **argv);
/* Prints "ccz: <what>: <detail or status message>"; returns the exit code of a command that
 * could not do its work (cli_exit_code: EXIT_USAGE). */
int cli_fail(ccz_status s, const char *fmt, ...) CCZ_PRINTF(2, 3);
/* For a command that writes --out (or -o) at the end of its work (a training, an inference, an
 * intersection, a fetched secret): a file can be made beside path now, and path is not a
 * directory, pipe or device; a path that cannot be written is said before the work, not after
 * it is done and lost; the failure names option. NULL: nothing to check. Nothing is left behind. */
ccz_status cli_out_ready(const char *path, const char *option);
/* The sim platform directory: `given` if set, else the default (CCZ_SIM_DIR, XDG). */
ccz_status cli_sim_dir(ccz_buf *out, const char *given);
/* Parses up to 64 bytes of hex; shorter values are padded with zero bytes on the right. */
ccz_status cli_report_data(uint8_t out[64], const char *hex);
/* Parses a decimal number in [0, max]. */
ccz_status cli_number(const char *s, unsigned long long max, unsigned long long *out);
/* Parses a number of seconds in (0, max] (a decimal fraction allowed). */
ccz_status cli_seconds(const char *s, double max, double *out);
/* The monotonic clock, in seconds and in milliseconds (for timings and progress lines). */
double cli_now(void);
int64_t cli_now_ms(void);

/* Attester options (attester_opts.c; CLI_FRAG_ATTESTER): --tee, --sim-dir, --signer-key,
 * --measurement, --product-id, --svn, --debug, --device-root, --tsm-entry. */
typedef struct {
    ccz_attester_opts o;
    const char *tee, *dir_arg;
    uint8_t measurement[32];
    ccz_buf dir;
} cli_attester;

/* The help of the verify options (CLI_FRAG_VERIFY), for the commands that take them at a TLS
 * endpoint (verify documents each one). */
#define CLI_VERIFY_HELP                                                                            \
    "verify options: --policy FILE, --collateral FILE, --vek FILE, --cert-chain FILE,\n"           \
    "                --sim-root CERT (repeatable), --root-ca FILE, --hsk-cek FILE\n"

#define CLI_ATTESTER_HELP                                                                          \
    "attester options:\n"                                                                          \
    "  --tee TEE            sim (simulated), sgx (inside Gramine: /dev/attestation), tdx (in a\n"  \
    "                       TD guest: configfs-tsm, else /dev/tdx_guest), snp (in an SEV-SNP\n"    \
    "                       guest: configfs-tsm, else /dev/sev-guest)\n"                           \
    "  --sim-dir D          sim platform directory (default: $CCZ_SIM_DIR or the XDG data dir)\n"  \
    "  --signer-key KEY     sim: PEM key whose public key is the signer (default D/signer.key)\n"  \
    "  --measurement HEX    sim: 32-byte measurement instead of SHA-256 of the ccz executable\n"   \
    "  --product-id N       sim: product id, 0..65535 (default 0)\n"                               \
    "  --svn N              sim: security version number, 0..65535 (default 0)\n"                  \
    "  --debug              sim: mark the evidence as coming from a debug enclave\n"               \
    "  --device-root D      sgx/tdx/snp: look for /dev and /sys under D (default /)\n"             \
    "  --tsm-entry NAME     tdx/snp: use this existing configfs-tsm report entry\n"

void cli_attester_init(cli_attester *ca);
/* o is a CLI_O_* code. 1: the option was an attester option; 0: not one; -1: a bad value
 * (message printed). */
int cli_attester_option(cli_attester *ca, int o, const char *arg, const char *cmd);
ccz_status cli_attester_new(cli_attester *ca, ccz_attester **out);
void cli_attester_free(cli_attester *ca);

int cmd_ratls(int argc, char **argv);
int cmd_rpc(int argc, char **argv);
int cmd_secret(int argc, char **argv);      /* cmd_secret.c */
int cmd_attestation(int argc, char **argv); /* cmd_attestation.c */
int cmd_kbs(int argc, char **argv);
int cmd_kms(int argc, char **argv); /* cmd_kms.c */
/* ccz SERVICE serve (serve.c): intro is the --help text's paragraph. */
int cli_svc_serve(const char *service, const char *intro, int argc, char **argv);
int cmd_paillier(int argc, char **argv);
int cmd_he(int argc, char **argv);
int cmd_he_lr(int argc, char **argv); /* cmd_he_lr.c */
/* ccz he query serve|lookup (cmd_he_query.c), with the he group's usage */
extern const char cli_he_usage[];
int cmd_he_query(int argc, char **argv);
int cmd_ml(int argc, char **argv); /* cmd_ml.c */
/* ccz psi (cmd_psi.c: the group, serve and join; ecdh in cmd_psi_ecdh.c) */
extern const cli_group psi_group;
int cmd_psi(int argc, char **argv);
int cmd_psi_ecdh(int argc, char **argv);
int cmd_pf(int argc, char **argv);          /* cmd_pf.c */
int cmd_model_serve(int argc, char **argv); /* cmd_serve.c */
int cmd_fl(int argc, char **argv);          /* cmd_fl.c */

#define CLI_MAX_SIM_ROOTS 16

/* The verify options: --policy, --collateral, --vek, --cert-chain, --sim-root, --root-ca. */
typedef struct {
    const char *policy, *collateral, *vek, *chain, *root_ca;
    const char *sim_roots[CLI_MAX_SIM_ROOTS];
    int n_sim_roots;
    const char *hsk_cek; /* Hygon CSV: the HSK/CEK bundle */
} cli_verify_opts;

/* ---- shared options (options.c) ------------------------------------------------------------
 * One bit per option; the commands that share options (attest, verify, ratls, rpc) declare in
 * their table entry the fragments they take, and cli_parse refuses the rest. */
enum {
    /* attester options */
    CLI_O_TEE,
    CLI_O_SIM_DIR,
    CLI_O_SIGNER_KEY,
    CLI_O_MEASUREMENT,
    CLI_O_PRODUCT_ID,
    CLI_O_SVN,
    CLI_O_DEBUG,
    CLI_O_DEVICE_ROOT,
    CLI_O_TSM_ENTRY,
    /* verify options */
    CLI_O_POLICY,
    CLI_O_COLLATERAL,
    CLI_O_VEK,
    CLI_O_CHAIN,
    CLI_O_SIM_ROOT,
    CLI_O_ROOT_CA,
    /* a TLS endpoint: its mode, and a certificate it presents instead of attesting */
    CLI_O_MODE,
    CLI_O_CERT,
    CLI_O_KEY,
    /* making an RA-TLS certificate */
    CLI_O_OUT,
    CLI_O_P384,
    CLI_O_DAYS,
    CLI_O_NB,
    CLI_O_NA,
    CLI_O_CN,
    CLI_O_LEGACY,
    /* output */
    CLI_O_JSON,
    /* servers and clients: endpoint and timeouts */
    CLI_O_LISTEN,
    CLI_O_ONCE,
    CLI_O_HS_TIMEOUT,
    CLI_O_IDLE_TIMEOUT,
    CLI_O_MAX_CONNS,
    CLI_O_MAX_PER_PEER,
    CLI_O_TIMEOUT,
    /* rpc */
    CLI_O_NAME,
    CLI_O_DEADLINE,
    CLI_O_MD,
    CLI_O_COUNT,
    CLI_O_DELAY,
    CLI_O_AUTHORITY,
    /* evidence */
    CLI_O_REPORT_DATA,
    CLI_O_AT,
    CLI_O_CERTS_OUT,
    /* the sim platform */
    CLI_O_DIR,
    CLI_O_FORCE,
    /* fetching collateral */
    CLI_O_PCCS,
    CLI_O_KDS,
    CLI_O_PRODUCT,
    CLI_O_CACHE_DIR,
    CLI_O_NO_CACHE,
    CLI_O_CACERT,
    CLI_O_INSECURE_TLS,
    /* secret provisioning */
    CLI_O_SECRET,
    CLI_O_CA,
    /* attestation results */
    CLI_O_JWKS,
    /* the KMS client */
    CLI_O_APPID,
    CLI_O_APIKEY,
    CLI_O_PAYLOAD,
    CLI_O_ADMIN_TOKEN,
    /* psi */
    CLI_O_DATA,
    CLI_O_PARTIES,
    CLI_O_CHIEF,
    CLI_O_MAX_MEMORY,
    CLI_O_CONNECT,
    CLI_O_SIZE_ONLY,
    /* serve: models, listeners, the model key's source, batching */
    CLI_O_MODEL,
    CLI_O_REST,
    CLI_O_GRPC,
    CLI_O_SECRET_SERVER,
    CLI_O_SECRET_CA,
    CLI_O_CERT_KEY,
    CLI_O_BATCH_MAX,
    CLI_O_BATCH_TIMEOUT,
    CLI_O_THREADS,
    CLI_O_MAX_BODY,
    /* he lr */
    CLI_O_INSECURE_PARAMS,
    /* fl homo-lr: the training's shape, the validation set, the key size, a worker's id */
    CLI_O_WORKERS,
    CLI_O_ITERATIONS,
    CLI_O_TEST,
    CLI_O_VALIDATE_EVERY,
    CLI_O_BITS,
    CLI_O_TRACE,
    CLI_O_ID,
    /* event logs, and what verify compares besides the report data */
    CLI_O_EXPECT,
    CLI_O_ALGORITHM,
    CLI_O_EVENTLOG,
    CLI_O_INIT_DATA_HASH,
    /* he query (and --algorithm, above) */
    CLI_O_DB,
    CLI_O_MAX_PENDING,
    /* fl hetero-lr: hosts, rows per mini-batch (--epochs below, shared with fl serve) */
    CLI_O_HOSTS,
    CLI_O_BATCH_SIZE,
    /* Hygon CSV: the HSK/CEK bundle (verify), Hygon's KDS (collateral fetch) */
    CLI_O_HSK_CEK,
    CLI_O_HYGON_KDS,
    /* verify: Arm CCA trust anchors */
    CLI_O_CCA_TA,
    CLI_O_HELP,
    /* fl serve and join */
    CLI_O_ROUNDS,
    CLI_O_MIN_CLIENTS,
    CLI_O_STRATEGY,
    CLI_O_CHECKPOINT,
    CLI_O_SHARD,
    CLI_O_EPOCHS,
    CLI_O_BATCH,
    CLI_O_HIDDEN,
    CLI_O_LR,
    CLI_O_MU,
    CLI_O_OPTIMIZER,
    CLI_O_SEED,
    CLI_O_TOP_K,
    /* fl serve: secure aggregation */
    CLI_O_SECURE_AGG,
    /* fl serve: client selection */
    CLI_O_CLIENTS_PER_ROUND,
    /* fl serve: the first round's gathering window */
    CLI_O_GATHER,
    /* fl join: streamed uploads */
    CLI_O_CHUNK_SIZE,
    CLI_O_COUNT_
};
#define CLI_OPT(o) ((cli_opts)1 << (o))
#define CLI_FRAG_ATTESTER                                                                          \
    (CLI_OPT(CLI_O_TEE) | CLI_OPT(CLI_O_SIM_DIR) | CLI_OPT(CLI_O_SIGNER_KEY) |                     \
     CLI_OPT(CLI_O_MEASUREMENT) | CLI_OPT(CLI_O_PRODUCT_ID) | CLI_OPT(CLI_O_SVN) |                 \
     CLI_OPT(CLI_O_DEBUG) | CLI_OPT(CLI_O_DEVICE_ROOT) | CLI_OPT(CLI_O_TSM_ENTRY))
#define CLI_FRAG_VERIFY                                                                            \
    (CLI_OPT(CLI_O_POLICY) | CLI_OPT(CLI_O_COLLATERAL) | CLI_OPT(CLI_O_VEK) |                      \
     CLI_OPT(CLI_O_CHAIN) | CLI_OPT(CLI_O_SIM_ROOT) | CLI_OPT(CLI_O_ROOT_CA) |                     \
     CLI_OPT(CLI_O_HSK_CEK))
/* every side of an RA-TLS or RA-gRPC connection, client or server */
#define CLI_FRAG_ENDPOINT                                                                          \
    (CLI_FRAG_ATTESTER | CLI_FRAG_VERIFY | CLI_OPT(CLI_O_MODE) | CLI_OPT(CLI_O_CERT) |             \
     CLI_OPT(CLI_O_KEY))
#define CLI_FRAG_MAKE_CERT                                                                         \
    (CLI_OPT(CLI_O_OUT) | CLI_OPT(CLI_O_KEY) | CLI_OPT(CLI_O_P384) | CLI_OPT(CLI_O_DAYS) |         \
     CLI_OPT(CLI_O_NB) | CLI_OPT(CLI_O_NA) | CLI_OPT(CLI_O_CN) | CLI_OPT(CLI_O_LEGACY))
#define CLI_FRAG_JSON CLI_OPT(CLI_O_JSON)
/* a download over HTTPS, with an on-disk cache */
#define CLI_FRAG_FETCH                                                                             \
    (CLI_OPT(CLI_O_CACHE_DIR) | CLI_OPT(CLI_O_NO_CACHE) | CLI_OPT(CLI_O_CACERT) |                  \
     CLI_OPT(CLI_O_INSECURE_TLS))
#define CLI_FRAG_HELP CLI_OPT(CLI_O_HELP)

/* What the shared options set. */
typedef struct {
    cli_attester ca;
    cli_verify_opts v;
    ccz_ratls_cert_opts co;
    const char *out, *key, *cert, *listen;
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
    long max_per_peer; /* an RA-gRPC server's connections from one address (0: its default) */
    /* evidence: expected or bound report data, the instant of verification, certificates out */
    const char *rd_hex, *certs_out;
    bool have_at;
    int64_t at;
    /* sim */
    const char *dir;
    bool force;
    /* collateral */
    const char *pccs, *kds, *cache_dir, *cacert;
    bool no_cache, insecure_tls;
    ccz_snp_product product;
    /* secret provisioning: NAME=FILE pairs, a CA chain for an ordinary server certificate */
    const char *secrets[64];
    int n_secrets;
    const char *ca_file;
    const char *jwks;
    /* the KMS client */
    const char *appid, *apikey, *payload, *admin_token;
    /* psi: a set file, parties per session, the chief, the sets' memory bound (MiB) */
    const char *data;
    long parties, max_memory_mb;
    bool chief;
    /* ECDH PSI: the server to connect to, size only */
    const char *connect;
    bool size_only;
    /* serve: NAME=PATH[:VERSION] models, listeners, where the model key comes from, the
     * certificate's key (--key is the model key there), batching and limits */
    const char *models[32];
    int n_models;
    const char *rest, *grpc, *secret_server, *secret_ca, *cert_key;
    long batch_max, batch_timeout_us, threads, max_body;
    /* he lr: a chain beyond the 128-bit table */
    bool insecure_params;
    /* fl homo-lr: workers, iterations, the test set, validation period, key bits, the trace
     * file (testing), the worker's id */
    long workers, iterations, validate_every, bits, id;
    const char *test, *trace;
    bool have_id;
    /* event logs: INDEX=HEX expectations, the replay algorithm; verify's log and init data */
    const char *expects[16];
    int n_expects;
    const char *algorithm, *eventlog, *init_data_hex;
    /* he query: the database (serve), the algorithm (lookup), queries held at once (serve);
     * --key is the key looked up there, --cert-key the certificate's key */
    const char *db; /* and algorithm, above */
    long max_pending;
    const char *hygon_kds; /* collateral fetch: Hygon's KDS */
    /* fl serve and join: rounds, clients to open a round, local epochs, batch, hidden units,
     * the strategy, checkpoint, shard (I/N[:ALPHA]), optimizer, learning rate, FedProx's mu */
    long rounds, min_clients, epochs, batch, hidden;
    const char *strategy, *checkpoint, *shard, *optimizer;
    double lr, mu;
    unsigned long long seed;
    /* fl hetero-lr: hosts, rows per mini-batch (epochs above) */
    long hosts, batch_size;
    /* verify: the Arm CCA platform keys (a store, a JWK or a PEM key) */
    const char *cca_ta;
    /* fl join: top-k sparse uploads (a count, or a fraction below 1) */
    double top_k;
    /* fl join: bytes per slice of a streamed upload (0: the default) */
    long chunk_size;
    /* fl serve: secure aggregation */
    bool secure_agg;
    /* fl serve: client selection (0: every waiting client) */
    long clients_per_round;
    /* fl serve: ms the first round waits for clients after the first joins (0: the default) */
    long gather_ms;
} cli_args;

/* The options a command of g takes (its table entry's opts). */
cli_opts cli_command_opts(const cli_group *g, const char *name);
/* Parses the options of argv[0] (a command of g, or g itself), refusing those outside allowed;
 * -1 after --help (usage printed), else an exit code. Operands start at optind. */
int cli_parse(cli_args *a, int argc, char **argv, const cli_group *g, cli_opts allowed);

#endif
