/* SPDX-License-Identifier: Apache-2.0 */
/* The options of the commands (attest, verify, ratls, rpc, sim, collateral, policy), parsed in one
 * place:
 * each command declares in its table entry the fragments it takes (cli.h: CLI_FRAG_*), and an
 * option outside them is refused as a usage error, named as the command line spelled it. (sim,
 * collateral and policy parse with it too; paillier and he read their few options themselves.) */
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ccz/hfl.h"
#include "ccz/psi.h"
#include "cli.h"

#define O(o) (256 + (o))
_Static_assert(CLI_O_COUNT_ <= 128, "one bit per option in a cli_opts");

static const struct option opts[] = {
    {"tee", required_argument, NULL, O(CLI_O_TEE)},
    {"sim-dir", required_argument, NULL, O(CLI_O_SIM_DIR)},
    {"signer-key", required_argument, NULL, O(CLI_O_SIGNER_KEY)},
    {"measurement", required_argument, NULL, O(CLI_O_MEASUREMENT)},
    {"product-id", required_argument, NULL, O(CLI_O_PRODUCT_ID)},
    {"svn", required_argument, NULL, O(CLI_O_SVN)},
    {"debug", no_argument, NULL, O(CLI_O_DEBUG)},
    {"device-root", required_argument, NULL, O(CLI_O_DEVICE_ROOT)},
    {"tsm-entry", required_argument, NULL, O(CLI_O_TSM_ENTRY)},
    {"policy", required_argument, NULL, O(CLI_O_POLICY)},
    {"collateral", required_argument, NULL, O(CLI_O_COLLATERAL)},
    {"vek", required_argument, NULL, O(CLI_O_VEK)},
    {"cert-chain", required_argument, NULL, O(CLI_O_CHAIN)},
    {"sim-root", required_argument, NULL, O(CLI_O_SIM_ROOT)},
    {"root-ca", required_argument, NULL, O(CLI_O_ROOT_CA)},
    {"mode", required_argument, NULL, O(CLI_O_MODE)},
    {"cert", required_argument, NULL, O(CLI_O_CERT)},
    {"key", required_argument, NULL, O(CLI_O_KEY)},
    {"out", required_argument, NULL, O(CLI_O_OUT)},
    {"p384", no_argument, NULL, O(CLI_O_P384)},
    {"days", required_argument, NULL, O(CLI_O_DAYS)},
    {"not-before", required_argument, NULL, O(CLI_O_NB)},
    {"not-after", required_argument, NULL, O(CLI_O_NA)},
    {"cn", required_argument, NULL, O(CLI_O_CN)},
    {"gramine-legacy", no_argument, NULL, O(CLI_O_LEGACY)},
    {"json", no_argument, NULL, O(CLI_O_JSON)},
    {"listen", required_argument, NULL, O(CLI_O_LISTEN)},
    {"once", no_argument, NULL, O(CLI_O_ONCE)},
    {"handshake-timeout", required_argument, NULL, O(CLI_O_HS_TIMEOUT)},
    {"idle-timeout", required_argument, NULL, O(CLI_O_IDLE_TIMEOUT)},
    {"max-conns", required_argument, NULL, O(CLI_O_MAX_CONNS)},
    {"max-per-peer", required_argument, NULL, O(CLI_O_MAX_PER_PEER)},
    {"timeout", required_argument, NULL, O(CLI_O_TIMEOUT)},
    {"name", required_argument, NULL, O(CLI_O_NAME)},
    {"deadline", required_argument, NULL, O(CLI_O_DEADLINE)},
    {"metadata", required_argument, NULL, O(CLI_O_MD)},
    {"count", required_argument, NULL, O(CLI_O_COUNT)},
    {"delay", required_argument, NULL, O(CLI_O_DELAY)},
    {"authority", required_argument, NULL, O(CLI_O_AUTHORITY)},
    {"report-data", required_argument, NULL, O(CLI_O_REPORT_DATA)},
    {"at", required_argument, NULL, O(CLI_O_AT)},
    {"certs-out", required_argument, NULL, O(CLI_O_CERTS_OUT)},
    {"dir", required_argument, NULL, O(CLI_O_DIR)},
    {"force", no_argument, NULL, O(CLI_O_FORCE)},
    {"pccs", required_argument, NULL, O(CLI_O_PCCS)},
    {"kds", required_argument, NULL, O(CLI_O_KDS)},
    {"product", required_argument, NULL, O(CLI_O_PRODUCT)},
    {"cache-dir", required_argument, NULL, O(CLI_O_CACHE_DIR)},
    {"no-cache", no_argument, NULL, O(CLI_O_NO_CACHE)},
    {"cacert", required_argument, NULL, O(CLI_O_CACERT)},
    {"insecure-tls", no_argument, NULL, O(CLI_O_INSECURE_TLS)},
    {"secret", required_argument, NULL, O(CLI_O_SECRET)},
    {"ca", required_argument, NULL, O(CLI_O_CA)},
    {"jwks", required_argument, NULL, O(CLI_O_JWKS)},
    {"appid", required_argument, NULL, O(CLI_O_APPID)},
    {"apikey", required_argument, NULL, O(CLI_O_APIKEY)},
    {"payload", required_argument, NULL, O(CLI_O_PAYLOAD)},
    {"admin-token", required_argument, NULL, O(CLI_O_ADMIN_TOKEN)},
    {"data", required_argument, NULL, O(CLI_O_DATA)},
    {"parties", required_argument, NULL, O(CLI_O_PARTIES)},
    {"chief", no_argument, NULL, O(CLI_O_CHIEF)},
    {"max-memory", required_argument, NULL, O(CLI_O_MAX_MEMORY)},
    {"connect", required_argument, NULL, O(CLI_O_CONNECT)},
    {"size-only", no_argument, NULL, O(CLI_O_SIZE_ONLY)},
    {"model", required_argument, NULL, O(CLI_O_MODEL)},
    {"rest", required_argument, NULL, O(CLI_O_REST)},
    {"grpc", required_argument, NULL, O(CLI_O_GRPC)},
    {"secret-server", required_argument, NULL, O(CLI_O_SECRET_SERVER)},
    {"secret-ca", required_argument, NULL, O(CLI_O_SECRET_CA)},
    {"cert-key", required_argument, NULL, O(CLI_O_CERT_KEY)},
    {"batch-max", required_argument, NULL, O(CLI_O_BATCH_MAX)},
    {"batch-timeout-us", required_argument, NULL, O(CLI_O_BATCH_TIMEOUT)},
    {"threads", required_argument, NULL, O(CLI_O_THREADS)},
    {"db", required_argument, NULL, O(CLI_O_DB)},
    {"max-pending", required_argument, NULL, O(CLI_O_MAX_PENDING)},
    {"max-body", required_argument, NULL, O(CLI_O_MAX_BODY)},
    {"insecure-params", no_argument, NULL, O(CLI_O_INSECURE_PARAMS)},
    {"workers", required_argument, NULL, O(CLI_O_WORKERS)},
    {"iterations", required_argument, NULL, O(CLI_O_ITERATIONS)},
    {"test", required_argument, NULL, O(CLI_O_TEST)},
    {"validate-every", required_argument, NULL, O(CLI_O_VALIDATE_EVERY)},
    {"bits", required_argument, NULL, O(CLI_O_BITS)},
    {"trace", required_argument, NULL, O(CLI_O_TRACE)},
    {"id", required_argument, NULL, O(CLI_O_ID)},
    {"expect", required_argument, NULL, O(CLI_O_EXPECT)},
    {"algorithm", required_argument, NULL, O(CLI_O_ALGORITHM)},
    {"eventlog", required_argument, NULL, O(CLI_O_EVENTLOG)},
    {"init-data-hash", required_argument, NULL, O(CLI_O_INIT_DATA_HASH)},
    {"hosts", required_argument, NULL, O(CLI_O_HOSTS)},
    {"batch-size", required_argument, NULL, O(CLI_O_BATCH_SIZE)},
    {"hsk-cek", required_argument, NULL, O(CLI_O_HSK_CEK)},
    {"hygon-kds", required_argument, NULL, O(CLI_O_HYGON_KDS)},
    {"cca-ta", required_argument, NULL, O(CLI_O_CCA_TA)},
    {"help", no_argument, NULL, O(CLI_O_HELP)},
    {"rounds", required_argument, NULL, O(CLI_O_ROUNDS)},
    {"min-clients", required_argument, NULL, O(CLI_O_MIN_CLIENTS)},
    {"strategy", required_argument, NULL, O(CLI_O_STRATEGY)},
    {"checkpoint", required_argument, NULL, O(CLI_O_CHECKPOINT)},
    {"shard", required_argument, NULL, O(CLI_O_SHARD)},
    {"epochs", required_argument, NULL, O(CLI_O_EPOCHS)},
    {"batch", required_argument, NULL, O(CLI_O_BATCH)},
    {"hidden", required_argument, NULL, O(CLI_O_HIDDEN)},
    {"lr", required_argument, NULL, O(CLI_O_LR)},
    {"mu", required_argument, NULL, O(CLI_O_MU)},
    {"optimizer", required_argument, NULL, O(CLI_O_OPTIMIZER)},
    {"seed", required_argument, NULL, O(CLI_O_SEED)},
    {"top-k", required_argument, NULL, O(CLI_O_TOP_K)},
    {"secure-agg", no_argument, NULL, O(CLI_O_SECURE_AGG)},
    {"clients-per-round", required_argument, NULL, O(CLI_O_CLIENTS_PER_ROUND)},
    {"gather", required_argument, NULL, O(CLI_O_GATHER)},
    {"chunk-size", required_argument, NULL, O(CLI_O_CHUNK_SIZE)},
    {NULL, 0, NULL, 0},
};

cli_opts cli_command_opts(const cli_group *g, const char *name)
{
    for (size_t i = 0; i < g->n_cmds; i++)
        if (!strcmp(g->cmds[i].name, name))
            return g->cmds[i].opts;
    return 0;
}

/* One option's value; an exit code (EXIT_OK, or EXIT_USAGE with the message printed). */
static int take(cli_args *a, int o, const char *cmd)
{
    unsigned long long n;
    switch (o) {
    case CLI_O_KEY:
        a->key = optarg;
        break;
    case CLI_O_OUT:
        a->out = optarg;
        break;
    case CLI_O_P384:
        a->co.key = CCZ_RATLS_KEY_P384;
        break;
    case CLI_O_DAYS:
    case CLI_O_NB:
    case CLI_O_NA:
        if (cli_number(optarg, o == CLI_O_DAYS ? 36500 : INT64_MAX / 2, &n))
            return cli_usage_error(cmd, "%s: %s", o == CLI_O_DAYS ? "--days" : "--not-*",
                                   ccz_error_detail());
        if (o == CLI_O_DAYS && n == 0)
            return cli_usage_error(cmd, "--days: a certificate is valid at least 1 day");
        if (o == CLI_O_DAYS)
            a->days = (long)n;
        else
            *(o == CLI_O_NB ? &a->co.not_before : &a->co.not_after) = (int64_t)n;
        break;
    case CLI_O_CN:
        a->co.subject_cn = optarg;
        break;
    case CLI_O_LEGACY:
        a->co.gramine_legacy = true;
        break;
    case CLI_O_JSON:
        a->json = true;
        break;
    case CLI_O_LISTEN:
        a->listen = optarg;
        break;
    case CLI_O_MODE:
        if (ccz_ratls_mode_parse(&a->mode, optarg))
            return cli_usage_error(cmd, "--mode: %s", ccz_error_detail());
        break;
    case CLI_O_POLICY:
        a->v.policy = optarg;
        break;
    case CLI_O_CERT:
        a->cert = optarg;
        break;
    case CLI_O_ONCE:
        a->once = true;
        break;
    case CLI_O_COLLATERAL:
        a->v.collateral = optarg;
        break;
    case CLI_O_VEK:
        a->v.vek = optarg;
        break;
    case CLI_O_CHAIN:
        a->v.chain = optarg;
        break;
    case CLI_O_SIM_ROOT:
        if (a->v.n_sim_roots == CLI_MAX_SIM_ROOTS)
            return cli_usage_error(cmd, "at most %d --sim-root options", CLI_MAX_SIM_ROOTS);
        a->v.sim_roots[a->v.n_sim_roots++] = optarg;
        break;
    case CLI_O_ROOT_CA:
        a->v.root_ca = optarg;
        break;
    case CLI_O_NAME:
        a->name = optarg;
        break;
    case CLI_O_AUTHORITY:
        a->authority = optarg;
        break;
    case CLI_O_MD:
        if (a->n_md == 16 || !strchr(optarg, '='))
            return cli_usage_error(cmd, "--metadata takes KEY=VALUE, at most 16 times");
        a->md[a->n_md++] = optarg;
        break;
    case CLI_O_DEADLINE:
    case CLI_O_COUNT:
    case CLI_O_DELAY:
        if (cli_number(optarg, 100000000, &n))
            return cli_usage_error(cmd, "%s: %s",
                                   o == CLI_O_DEADLINE ? "--deadline"
                                   : o == CLI_O_COUNT  ? "--count"
                                                       : "--delay",
                                   ccz_error_detail());
        *(o == CLI_O_DEADLINE ? &a->deadline_ms
          : o == CLI_O_COUNT  ? &a->count
                              : &a->delay_ms) = (long)n;
        break;
    case CLI_O_TIMEOUT:
    case CLI_O_HS_TIMEOUT:
    case CLI_O_IDLE_TIMEOUT:
    case CLI_O_MAX_CONNS: {
        const char *name = o == CLI_O_TIMEOUT        ? "--timeout"
                           : o == CLI_O_HS_TIMEOUT   ? "--handshake-timeout"
                           : o == CLI_O_IDLE_TIMEOUT ? "--idle-timeout"
                                                     : "--max-conns";
        bool bad = cli_number(optarg, o == CLI_O_MAX_CONNS ? 65536 : 86400000, &n) != CCZ_OK;
        if (bad || n == 0)
            return cli_usage_error(cmd, "%s: %s", name,
                                   bad ? ccz_error_detail() : "must be at least 1");
        *(o == CLI_O_TIMEOUT        ? &a->timeout_ms
          : o == CLI_O_HS_TIMEOUT   ? &a->handshake_timeout_ms
          : o == CLI_O_IDLE_TIMEOUT ? &a->idle_timeout_ms
                                    : &a->max_conns) = (long)n;
        break;
    }
    case CLI_O_MAX_PER_PEER: {
        bool bad = cli_number(optarg, 65536, &n) != CCZ_OK;
        if (bad || !n)
            return cli_usage_error(cmd, "--max-per-peer: %s",
                                   bad ? ccz_error_detail() : "must be at least 1");
        a->max_per_peer = (long)n;
        break;
    }
    case CLI_O_REPORT_DATA:
        a->rd_hex = optarg;
        break;
    case CLI_O_AT:
        if (cli_number(optarg, INT64_MAX / 2, &n))
            return cli_usage_error(cmd, "--at: %s", ccz_error_detail());
        a->at = (int64_t)n;
        a->have_at = true;
        break;
    case CLI_O_CERTS_OUT:
        a->certs_out = optarg;
        break;
    case CLI_O_DIR:
        a->dir = optarg;
        break;
    case CLI_O_FORCE:
        a->force = true;
        break;
    case CLI_O_PCCS:
        a->pccs = optarg;
        break;
    case CLI_O_KDS:
        a->kds = optarg;
        break;
    case CLI_O_PRODUCT:
        if (ccz_snp_product_parse(&a->product, optarg))
            return cli_usage_error(cmd, "--product: %s", ccz_error_detail());
        break;
    case CLI_O_CACHE_DIR:
        a->cache_dir = optarg;
        break;
    case CLI_O_NO_CACHE:
        a->no_cache = true;
        break;
    case CLI_O_CACERT:
        a->cacert = optarg;
        break;
    case CLI_O_INSECURE_TLS:
        a->insecure_tls = true;
        break;
    case CLI_O_SECRET:
        if (a->n_secrets == (int)CCZ_ARRAY_LEN(a->secrets))
            return cli_usage_error(cmd, "at most %zu --secret options", CCZ_ARRAY_LEN(a->secrets));
        a->secrets[a->n_secrets++] = optarg;
        break;
    case CLI_O_CA:
        a->ca_file = optarg;
        break;
    case CLI_O_JWKS:
        a->jwks = optarg;
        break;
    case CLI_O_APPID:
        a->appid = optarg;
        break;
    case CLI_O_APIKEY:
        a->apikey = optarg;
        break;
    case CLI_O_PAYLOAD:
        a->payload = optarg;
        break;
    case CLI_O_ADMIN_TOKEN:
        a->admin_token = optarg;
        break;
    case CLI_O_DATA:
        a->data = optarg;
        break;
    case CLI_O_CHIEF:
        a->chief = true;
        break;
    case CLI_O_SECURE_AGG:
        a->secure_agg = true;
        break;
    case CLI_O_CLIENTS_PER_ROUND: {
        bool bad = cli_number(optarg, CCZ_HFL_MAX_CLIENTS, &n) != CCZ_OK;
        if (bad || n < 1)
            return cli_usage_error(cmd, "--clients-per-round: %s",
                                   bad ? ccz_error_detail() : "must be at least 1");
        a->clients_per_round = (long)n;
        break;
    }
    case CLI_O_GATHER: {
        bool bad = cli_number(optarg, 3600000, &n) != CCZ_OK;
        if (bad || n < 1)
            return cli_usage_error(cmd, "--gather: %s",
                                   bad ? ccz_error_detail() : "milliseconds, at least 1");
        a->gather_ms = (long)n;
        break;
    }
    case CLI_O_CHUNK_SIZE: {
        bool bad = cli_number(optarg, CCZ_HFL_CHUNK_MAX, &n) != CCZ_OK;
        if (bad || n < 16)
            return cli_usage_error(cmd, "--chunk-size: %s",
                                   bad ? ccz_error_detail() : "at least 16 bytes");
        a->chunk_size = (long)n;
        break;
    }
    case CLI_O_PARTIES:
    case CLI_O_MAX_MEMORY: {
        bool parties = o == CLI_O_PARTIES;
        bool bad = cli_number(optarg, parties ? CCZ_PSI_MAX_PARTIES : 1 << 20, &n) != CCZ_OK;
        if (bad || n < (parties ? 2 : 1))
            return cli_usage_error(cmd, "%s: %s", parties ? "--parties" : "--max-memory",
                                   bad       ? ccz_error_detail()
                                   : parties ? "a session has at least 2 parties"
                                             : "must be at least 1 (MiB)");
        *(parties ? &a->parties : &a->max_memory_mb) = (long)n;
        break;
    }
    case CLI_O_CONNECT:
        a->connect = optarg;
        break;
    case CLI_O_SIZE_ONLY:
        a->size_only = true;
        break;
    case CLI_O_INSECURE_PARAMS:
        a->insecure_params = true;
        break;
    case CLI_O_MODEL:
        if (a->n_models == (int)CCZ_ARRAY_LEN(a->models))
            return cli_usage_error(cmd, "at most %zu --model options", CCZ_ARRAY_LEN(a->models));
        a->models[a->n_models++] = optarg;
        break;
    case CLI_O_REST:
        a->rest = optarg;
        break;
    case CLI_O_GRPC:
        a->grpc = optarg;
        break;
    case CLI_O_SECRET_SERVER:
        a->secret_server = optarg;
        break;
    case CLI_O_SECRET_CA:
        a->secret_ca = optarg;
        break;
    case CLI_O_CERT_KEY:
        a->cert_key = optarg;
        break;
    case CLI_O_DB:
        a->db = optarg;
        break;
    case CLI_O_MAX_PENDING:
        if (cli_number(optarg, 1024, &n) || n == 0)
            return cli_usage_error(cmd, "--max-pending: 1 to 1024");
        a->max_pending = (long)n;
        break;
    case CLI_O_BATCH_MAX:
    case CLI_O_BATCH_TIMEOUT:
    case CLI_O_THREADS:
    case CLI_O_MAX_BODY: {
        static const char *const names[] = {"--batch-max", "--batch-timeout-us", "--threads",
                                            "--max-body"};
        static const unsigned long long max[] = {65536, 10000000, 256, 1ull << 30};
        static const unsigned long long min[] = {1, 0, 1, 1024};
        int k = o - CLI_O_BATCH_MAX;
        bool bad = cli_number(optarg, max[k], &n) != CCZ_OK;
        if (bad || n < min[k])
            return cli_usage_error(cmd, "%s: %s", names[k], bad ? ccz_error_detail() : "too small");
        *(o == CLI_O_BATCH_MAX       ? &a->batch_max
          : o == CLI_O_BATCH_TIMEOUT ? &a->batch_timeout_us
          : o == CLI_O_THREADS       ? &a->threads
                                     : &a->max_body) = (long)n;
        break;
    }
    case CLI_O_TEST:
        a->test = optarg;
        break;
    case CLI_O_TRACE:
        a->trace = optarg;
        break;
    case CLI_O_WORKERS:
    case CLI_O_ITERATIONS:
    case CLI_O_VALIDATE_EVERY:
    case CLI_O_BITS:
    case CLI_O_ID: {
        static const char *const names[] = {
            "--workers", "--iterations", "--test", "--validate-every", "--bits", "--trace", "--id"};
        static const unsigned long long max[] = {64, 1000000, 0, 1000000, 4096, 0, 2147483647};
        static const unsigned long long min[] = {1, 1, 0, 1, 1024, 0, 0};
        int k = o - CLI_O_WORKERS;
        bool bad = cli_number(optarg, max[k], &n) != CCZ_OK;
        if (bad || n < min[k] || (o == CLI_O_BITS && n % 16))
            return cli_usage_error(cmd, "%s: %s", names[k],
                                   bad ? ccz_error_detail()
                                   : o == CLI_O_BITS
                                       ? "a key of 1024 to 4096 bits, a multiple of 16"
                                       : "must be at least 1");
        *(o == CLI_O_WORKERS          ? &a->workers
          : o == CLI_O_ITERATIONS     ? &a->iterations
          : o == CLI_O_VALIDATE_EVERY ? &a->validate_every
          : o == CLI_O_BITS           ? &a->bits
                                      : &a->id) = (long)n;
        a->have_id |= o == CLI_O_ID;
        break;
    }
    case CLI_O_HOSTS:
    case CLI_O_BATCH_SIZE: {
        static const char *const names[] = {"--hosts", "--batch-size"};
        static const unsigned long long max[] = {16, 1000000};
        int k = o - CLI_O_HOSTS;
        if (cli_number(optarg, max[k], &n) != CCZ_OK || n < 1)
            return cli_usage_error(cmd, "%s: 1 to %llu", names[k], max[k]);
        *(o == CLI_O_HOSTS ? &a->hosts : &a->batch_size) = (long)n;
        break;
    }
    case CLI_O_EXPECT:
        if (a->n_expects == (int)CCZ_ARRAY_LEN(a->expects) || !strchr(optarg, '='))
            return cli_usage_error(cmd, "--expect takes INDEX=HEX, at most %zu times",
                                   CCZ_ARRAY_LEN(a->expects));
        a->expects[a->n_expects++] = optarg;
        break;
    case CLI_O_ALGORITHM:
        a->algorithm = optarg;
        break;
    case CLI_O_EVENTLOG:
        a->eventlog = optarg;
        break;
    case CLI_O_INIT_DATA_HASH:
        a->init_data_hex = optarg;
        break;
    case CLI_O_ROUNDS:
    case CLI_O_MIN_CLIENTS:
    case CLI_O_EPOCHS:
    case CLI_O_BATCH:
    case CLI_O_HIDDEN: {
        static const char *const names[] = {"--rounds",     "--min-clients", "--strategy",
                                            "--checkpoint", "--shard",       "--epochs",
                                            "--batch",      "--hidden"};
        static const unsigned long long max[] = {100000, 256, 0, 0, 0, 1024, 65536, 65536};
        int k = o - CLI_O_ROUNDS;
        bool bad = cli_number(optarg, max[k], &n) != CCZ_OK;
        if (bad || n < 1)
            return cli_usage_error(cmd, "%s: %s", names[k],
                                   bad ? ccz_error_detail() : "must be at least 1");
        *(o == CLI_O_ROUNDS        ? &a->rounds
          : o == CLI_O_MIN_CLIENTS ? &a->min_clients
          : o == CLI_O_EPOCHS      ? &a->epochs
          : o == CLI_O_BATCH       ? &a->batch
                                   : &a->hidden) = (long)n;
        break;
    }
    case CLI_O_STRATEGY:
        a->strategy = optarg;
        break;
    case CLI_O_CHECKPOINT:
        a->checkpoint = optarg;
        break;
    case CLI_O_SHARD:
        a->shard = optarg;
        break;
    case CLI_O_OPTIMIZER:
        if (strcmp(optarg, "sgd") && strcmp(optarg, "adam"))
            return cli_usage_error(cmd, "--optimizer: sgd or adam, not '%s'", optarg);
        a->optimizer = optarg;
        break;
    case CLI_O_LR:
    case CLI_O_MU: {
        char *end;
        double d = strtod(optarg, &end);
        /* above 0: the plan's 0 stands for the default (--lr 0 would train at 0.05) */
        if (end == optarg || *end || !(d > 0 && d < 1000))
            return cli_usage_error(cmd, "%s: a number above 0 and below 1000, not '%s'",
                                   o == CLI_O_LR ? "--lr" : "--mu", optarg);
        *(o == CLI_O_LR ? &a->lr : &a->mu) = d;
        break;
    }
    case CLI_O_SEED:
        if (cli_number(optarg, UINT64_MAX, &n))
            return cli_usage_error(cmd, "--seed: %s", ccz_error_detail());
        a->seed = n;
        break;
    case CLI_O_HSK_CEK:
        a->v.hsk_cek = optarg;
        break;
    case CLI_O_HYGON_KDS:
        a->hygon_kds = optarg;
        break;
    case CLI_O_CCA_TA:
        a->cca_ta = optarg;
        break;
    case CLI_O_TOP_K: {
        char *end;
        double d = strtod(optarg, &end);
        if (end == optarg || *end || !(d > 0 && d <= 1e9) || (d >= 1 && d != (double)(long)d))
            return cli_usage_error(cmd,
                                   "--top-k: a count of weights (1 or more) or a fraction of "
                                   "the model (between 0 and 1), not '%s'",
                                   optarg);
        a->top_k = d;
        break;
    }
    default:
        break;
    }
    return EXIT_OK;
}

/* The options that add one more each time they are given; any other option with a value is
 * refused when given twice, rather than the last one silently winning. */
static bool repeats(int o)
{
    return o == CLI_O_SIM_ROOT || o == CLI_O_MD || o == CLI_O_SECRET || o == CLI_O_MODEL ||
           o == CLI_O_EXPECT;
}

static bool takes_value(int o)
{
    for (const struct option *p = opts; p->name; p++)
        if (p->val == O(o))
            return p->has_arg != no_argument;
    return false;
}

int cli_parse(cli_args *a, int argc, char **argv, const cli_group *g, cli_opts allowed)
{
    const char *cmd = g->name;
    cli_attester_init(&a->ca);
    a->co = (ccz_ratls_cert_opts)CCZ_RATLS_CERT_OPTS_INIT;
    int c, r;
    cli_opts seen = 0;                          /* CLI_OPT of each option given */
    const char *seen_as[CLI_O_COUNT_] = {NULL}; /* how the command line spelled it */
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        int o = c == 'o' ? CLI_O_OUT : c == 'h' ? CLI_O_HELP : c - 256;
        if (o < 0 || o >= CLI_O_COUNT_) /* unknown, or its value is missing */
            return cli_bad_option(cmd, argv);
        /* the option's own word: before its value when that is a separate argument */
        const char *word = argv[optind - (optarg && optarg == argv[optind - 1] ? 2 : 1)];
        if ((seen & CLI_OPT(o)) && takes_value(o) && !repeats(o))
            return cli_usage_error(cmd, "'%s' is given twice; give it once", word);
        seen |= CLI_OPT(o);
        seen_as[o] = word;
        if (o == CLI_O_HELP) {
            cli_help(g);
            return -1;
        }
        int h = cli_attester_option(&a->ca, o, optarg, cmd);
        if (h < 0)
            return EXIT_USAGE;
        if (h == 0 && (r = take(a, o, cmd)) != EXIT_OK)
            return r;
    }
    /* each command takes its own options and no other: one that would do nothing is refused */
    for (int bit = 0; bit < CLI_O_COUNT_; bit++)
        if ((seen & ~allowed) >> bit & 1) {
            if (g->n_cmds)
                return cli_usage_error(cmd, "'%s' does nothing for '%s %s'",
                                       seen_as[bit] ? seen_as[bit] : "an option", cmd, argv[0]);
            return cli_usage_error(cmd, "'%s' does nothing for '%s'",
                                   seen_as[bit] ? seen_as[bit] : "an option", cmd);
        }
    if (a->days && a->co.not_after)
        return cli_usage_error(cmd, "give --days or --not-after, not both");
    if (a->days) /* from --not-before when given, else from now */
        a->co.not_after =
            (a->co.not_before ? a->co.not_before : (int64_t)time(NULL)) + a->days * 86400;
    if (a->co.not_before && a->co.not_after && a->co.not_before >= a->co.not_after)
        return cli_usage_error(cmd,
                               "--not-before (%lld) must come before the end of validity "
                               "(%lld): such a certificate would never be valid",
                               (long long)a->co.not_before, (long long)a->co.not_after);
    return EXIT_OK;
}
