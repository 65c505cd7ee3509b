/* SPDX-License-Identifier: Apache-2.0 */
/* ccz psi: private set intersection. serve and join are CCZoo's N-party PSI in a TEE over
 * RA-gRPC (proto/psi.proto); parties attest the server (and, two-way, the server them). ecdh,
 * two-party PSI without a TEE, is in cmd_psi_ecdh.c. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ccz/psi.h"
#include "endpoint.h"

static const char psi_usage[] =
    "usage: ccz psi serve --listen ADDR --parties N [--mode two-way|server] [--policy FILE]\n"
    "                     [--timeout MS] [--max-memory MIB] [--handshake-timeout MS]\n"
    "                     [--idle-timeout MS] [--max-conns N] [--max-per-peer N]\n"
    "                     [--cert CERT --key KEY | attester options] [verify options]\n"
    "       ccz psi join HOST:PORT --name NAME --data FILE [--chief] [--parties N]\n"
    "                     [--out FILE] [--deadline MS] [--mode two-way|server]\n"
    "                     [--policy FILE] [--cert CERT --key KEY | attester options]\n"
    "                     [verify options]\n"
    "       ccz psi ecdh --listen ADDR --data FILE [--once] [--max-conns N]\n"
    "                    [--max-per-peer N] [--handshake-timeout MS] [--idle-timeout MS]\n"
    "                    [--timeout MS]\n"
    "                    [--mode two-way|server|client] [--cert CERT --key KEY | attester options]\n"
    "                    [verify options]\n"
    "       ccz psi ecdh --connect ADDR --data FILE [-o FILE] [--size-only] [--timeout MS]\n"
    "                    [--idle-timeout MS] [--mode two-way|server|client]\n"
    "                    [--cert CERT --key KEY | attester options] [verify options]\n"
    "\n"
    "serve runs CCZoo's PSI service (package psi, proto/psi.proto) over RA-gRPC: sessions of\n"
    "N parties, one after another. Each party attests the server, connects, uploads its set\n"
    "and gets back the items every party has; calls are answered when the last party arrives.\n"
    "A session that waits --timeout MS (default 300000) for a party ends, and the parties in it\n"
    "get DEADLINE_EXCEEDED naming the ones it waited for. --max-memory bounds a session's sets\n"
    "(default 1024 MiB). A party is the connection its calls come on, and is known by its name\n"
    "and, two-way, its attested claims (the ccz-psi-parties trailer lists them). serve runs\n"
    "until SIGINT or SIGTERM; --handshake-timeout, --idle-timeout, --max-conns and\n"
    "--max-per-peer (connections from one address; default 64) bound connections as for every\n"
    "RA-gRPC server.\n"
    "join is one party: FILE has one item per line (at most 4096 bytes of UTF-8; a trailing\n"
    "CR and empty lines are dropped, duplicates count once). It prints the intersection,\n"
    "sorted bytewise and unique, one item per line, on standard output or to --out FILE, and\n"
    "its progress on standard error. --chief sets is_chief, --parties the client_num it\n"
    "expects. A session that ends with an error prints the status and exits 1.\n"
    "Modes: two-way (the default: the server and every party attested), server (only the\n"
    "server: parties without TEE, as CCZoo's data providers outside enclaves).\n"
    "ecdh: two-party PSI by Diffie-Hellman over ristretto255, no TEE needed. FILE as for join\n"
    "(any bytes, at most 65536 a line). The connecting side learns the intersection, written\n"
    "sorted bytewise one per line to -o FILE (default: standard output), or with --size-only\n"
    "only its size; the listening side learns the size of the other's set and nothing else.\n"
    "Both print a summary on standard error. The listener serves up to --max-conns sessions at\n"
    "once (default 4) until stopped, or one with --once (its exit code is then the session's);\n"
    "at the cap the oldest session still in its handshake, else the one whose peer it has\n"
    "waited for longest, is closed to make room (with none, newcomers wait). One peer (an IPv4\n"
    "address or an IPv6 /64) has at most --max-per-peer sessions (default 64): at that cap its\n"
    "own oldest handshake or idle session makes room, or the newcomer is refused. A handshake\n"
    "must finish within --handshake-timeout (default 10000 ms), a peer silent for\n"
    "--idle-timeout (default 60000 ms) is dropped, and a session ends --timeout after its\n"
    "accept (default 3600000 ms; the connecting side's --timeout bounds its connecting and\n"
    "handshake, default 10000 ms). With --tee, --cert, --mode\n"
    "or a verify option the connection is RA-TLS as for 'ccz ratls' (default mode two-way);\n"
    "without, it is ordinary TLS with an ephemeral self-signed certificate that authenticates\n"
    "no one (both sides warn).\n" CLI_VERIFY_HELP CLI_ATTESTER_HELP;

static int serve(int argc, char **argv);
static int join(int argc, char **argv);

static const cli_command psi_cmds[] = {
    {"serve", serve, NULL,
     CLI_FRAG_ENDPOINT | CLI_OPT(CLI_O_LISTEN) | CLI_OPT(CLI_O_PARTIES) | CLI_OPT(CLI_O_TIMEOUT) |
         CLI_OPT(CLI_O_MAX_MEMORY) | CLI_OPT(CLI_O_HS_TIMEOUT) | CLI_OPT(CLI_O_IDLE_TIMEOUT) |
         CLI_OPT(CLI_O_MAX_CONNS) | CLI_OPT(CLI_O_MAX_PER_PEER) | CLI_FRAG_HELP},
    {"join", join, NULL,
     CLI_FRAG_ENDPOINT | CLI_OPT(CLI_O_NAME) | CLI_OPT(CLI_O_DATA) | CLI_OPT(CLI_O_CHIEF) |
         CLI_OPT(CLI_O_PARTIES) | CLI_OPT(CLI_O_OUT) | CLI_OPT(CLI_O_DEADLINE) | CLI_FRAG_HELP},
    {"ecdh", cmd_psi_ecdh, NULL,
     CLI_FRAG_ENDPOINT | CLI_OPT(CLI_O_LISTEN) | CLI_OPT(CLI_O_CONNECT) | CLI_OPT(CLI_O_DATA) |
         CLI_OPT(CLI_O_OUT) | CLI_OPT(CLI_O_SIZE_ONLY) | CLI_OPT(CLI_O_ONCE) |
         CLI_OPT(CLI_O_MAX_CONNS) | CLI_OPT(CLI_O_MAX_PER_PEER) | CLI_OPT(CLI_O_HS_TIMEOUT) |
         CLI_OPT(CLI_O_IDLE_TIMEOUT) | CLI_OPT(CLI_O_TIMEOUT) | CLI_FRAG_HELP},
};
const cli_group psi_group =
    CLI_GROUP("psi", psi_usage, psi_cmds, "command", " (try: serve, join, ecdh)",
              "usage: ccz psi serve|join|ecdh ...");

/* ---- serve -----------------------------------------------------------------------------------*/

static int serve(int argc, char **argv)
{
    cli_args a = {0};
    int r = cli_parse(&a, argc, argv, &psi_group, cli_command_opts(&psi_group, argv[0]));
    if (r)
        return r < 0 ? EXIT_OK : r;
    if (!a.listen || !a.parties || optind != argc)
        return cli_usage_error("psi", "usage: ccz psi serve --listen ADDR --parties N [options]");
    if (a.mode == CCZ_RATLS_CLIENT)
        return cli_usage_error("psi", "--mode client: the parties must attest the server (use "
                                      "two-way or server)");
    signal(SIGPIPE, SIG_IGN);
    cli_block_stop_signals();

    cli_rpc_side p = {0};
    ccz_psi_service *psi = NULL;
    ccz_status s = cli_rpc_side_serve(&p, &a, 0);
    ccz_psi_service_opts po = CCZ_PSI_SERVICE_OPTS_INIT;
    po.parties = (unsigned)a.parties;
    po.timeout_ms = (unsigned)a.timeout_ms;
    po.max_memory = (size_t)a.max_memory_mb << 20;
    po.log = stderr;
    if (s == CCZ_OK)
        s = ccz_psi_service_new(&psi, p.srv, &po);
    if (s == CCZ_OK)
        s = cli_rpc_side_listen(&p, &a);
    if (s) {
        r = cli_fail(s, "psi serve");
        goto out;
    }
    fprintf(stderr, "ccz psi: serving psi.PSI on port %d (mode %s, sessions of %ld parties)%s\n",
            p.port, a.mode == CCZ_RATLS_TWO_WAY ? "two-way" : "server", a.parties,
            cli_rpc_side_sim(&p));
    s = cli_rpc_side_run(&p, "psi", 2000);
    if (s)
        r = cli_fail(s, "psi serve");
    else
        fprintf(stderr, "ccz psi: stopped\n");
out:
    ccz_psi_service_free(psi);
    cli_rpc_side_free(&p, &a);
    return r;
}

/* ---- join ------------------------------------------------------------------------------------*/

/* The items of a set file: one per line, a trailing CR dropped, empty lines skipped. */
static ccz_status read_set(ccz_buf *file, ccz_span **items, size_t *n, const char *path)
{
    CCZ_GUARD(ccz_file_read(file, path, (size_t)16 << 30));
    size_t cap = 0;
    *items = NULL;
    *n = 0;
    for (size_t i = 0; i < file->len;) {
        const uint8_t *start = file->ptr + i;
        const uint8_t *nl = memchr(start, '\n', file->len - i);
        size_t len = nl ? (size_t)(nl - start) : file->len - i;
        i += len + 1;
        if (len && start[len - 1] == '\r')
            len--;
        if (!len)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 4096;
            ccz_span *p = realloc(*items, cap * sizeof *p);
            if (!p) {
                free(*items);
                *items = NULL;
                return ccz_fail(CCZ_ERR_NOMEM, "out of memory");
            }
            *items = p;
        }
        (*items)[(*n)++] = CCZ_SPAN(start, len);
    }
    return CCZ_OK;
}

typedef struct {
    FILE *out;
    int64_t last;
    int failed; /* the errno of the first write that failed (0: none) */
} join_state;

static void on_item(ccz_span item, void *payload)
{
    join_state *j = payload;
    if (j->failed)
        return;
    errno = 0;
    if (fwrite(item.ptr, 1, item.len, j->out) != item.len || fputc('\n', j->out) == EOF)
        j->failed = errno ? errno : EIO;
}

static void on_progress(uint64_t done, uint64_t total, void *payload)
{
    join_state *j = payload;
    int64_t t = cli_now_ms();
    if (done == total || t - j->last >= 1000) {
        fprintf(stderr, "ccz psi: uploaded %llu of %llu items (%.0f%%)\n", (unsigned long long)done,
                (unsigned long long)total, total ? 100.0 * (double)done / (double)total : 100.0);
        j->last = t;
    }
}

static int join(int argc, char **argv)
{
    cli_args a = {0};
    int r = cli_parse(&a, argc, argv, &psi_group, cli_command_opts(&psi_group, argv[0]));
    if (r)
        return r < 0 ? EXIT_OK : r;
    if (argc - optind != 1 || !a.name || !a.data)
        return cli_usage_error("psi", "usage: ccz psi join HOST:PORT --name NAME --data FILE "
                                      "[options]");
    if (a.mode == CCZ_RATLS_CLIENT)
        return cli_usage_error("psi", "--mode client: a party must attest the server (use "
                                      "two-way or server)");
    signal(SIGPIPE, SIG_IGN);
    cli_rpc_side p = {0};
    ccz_buf file = CCZ_BUF_INIT;
    ccz_span *items = NULL;
    size_t n = 0;
    join_state j = {stdout, cli_now_ms(), false};
    char *tmp = NULL; /* --out is written beside and renamed: a failed join leaves it as it was */
    int fd = -1;
    ccz_status s = read_set(&file, &items, &n, a.data);
    /* before connecting: an --out that cannot be written (a FIFO) is refused first */
    if (s == CCZ_OK && a.out)
        s = ccz_file_temp_beside(&tmp, &fd, a.out);
    if (s == CCZ_OK && a.out && !(j.out = fdopen(fd, "w")))
        s = ccz_fail(CCZ_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
    if (j.out && j.out != stdout)
        fd = -1; /* the stream's now */
    ccz_rpc_channel_opts co = CCZ_RPC_CHANNEL_OPTS_INIT;
    co.max_message = 8u << 20;
    if (s == CCZ_OK)
        s = cli_rpc_side_connect(&p, &a, argv[optind], co);
    if (s) {
        r = cli_fail(s, "psi join");
        goto out;
    }
    fprintf(stderr, "ccz psi: %s joins with %zu items\n", a.name, n);
    ccz_psi_join_opts jo = CCZ_PSI_JOIN_OPTS_INIT;
    jo.name = a.name;
    jo.chief = a.chief;
    jo.parties = (unsigned)a.parties;
    jo.deadline_ms = a.deadline_ms;
    jo.progress = on_progress;
    jo.on_item = on_item;
    jo.payload = &j;
    ccz_psi_join_result res;
    s = ccz_psi_join(p.ch, &jo, items, n, &res);
    if (s) {
        r = cli_fail(s, "psi join");
    } else if (res.code != CCZ_RPC_OK) {
        fprintf(stderr, "ccz: psi join: %s: %s (%d): %s\n", res.method, ccz_rpc_code_name(res.code),
                res.code, res.message);
        r = EXIT_REJECT;
    } else {
        errno = j.failed; /* an item's write that failed says why, else the flush or close */
        bool ok = !j.failed && fflush(j.out) == 0;
        if (j.out != stdout) { /* closed whatever happened; renamed into place when whole */
            ok = fclose(j.out) == 0 && ok;
            j.out = NULL;
            ok = ok && rename(tmp, a.out) == 0;
            if (ok) {
                free(tmp);
                tmp = NULL;
            }
        }
        if (!ok)
            r = cli_fail(ccz_fail(CCZ_ERR_IO, "cannot write the intersection%s%s: %s",
                                  a.out ? " to " : "", a.out ? a.out : "",
                                  errno ? strerror(errno) : "write error"),
                         "psi join");
    }
    if (r == EXIT_OK) {
        fprintf(stderr, "ccz psi: %zu items in the intersection; parties: %s\n", res.n_items,
                res.parties);
    }
out:
    if (j.out && j.out != stdout)
        fclose(j.out);
    if (fd >= 0)
        close(fd);
    if (tmp) {
        unlink(tmp);
        free(tmp);
    }
    free(items);
    ccz_buf_free(&file);
    cli_rpc_side_free(&p, &a);
    return r;
}

int cmd_psi(int argc, char **argv)
{
    return cli_dispatch(&psi_group, argc, argv);
}
