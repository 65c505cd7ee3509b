/* SPDX-License-Identifier: Apache-2.0 */
/* ccz psi: private set intersection. The group and its help; each subcommand lives in a file
 * of its own (ecdh: cmd_psi_ecdh.c). */
#include "cli.h"

static const char psi_usage[] =
    "usage: ccz psi ecdh --listen ADDR --data FILE [--once] [--max-conns N]\n"
    "                    [--handshake-timeout MS] [--idle-timeout MS]\n"
    "                    [--mode two-way|server|client] [--cert CERT --key KEY | attester options]\n"
    "                    [verify options]\n"
    "       ccz psi ecdh --connect ADDR --data FILE [-o FILE] [--size-only] [--timeout MS]\n"
    "                    [--idle-timeout MS] [--mode two-way|server|client]\n"
    "                    [--cert CERT --key KEY | attester options] [verify options]\n"
    "\n"
    "ecdh: two-party private set intersection by Diffie-Hellman over ristretto255. FILE holds\n"
    "one item per line (a trailing CR is dropped, empty lines are ignored, duplicates count\n"
    "once). The connecting side learns the intersection, written sorted bytewise one per line to\n"
    "-o FILE (default: standard output), or with --size-only only its size; the listening side\n"
    "learns the size of the other's set and nothing else. Both print a summary on standard\n"
    "error. The listener serves up to --max-conns sessions at once (default 4; more wait) until\n"
    "stopped, or one with --once (its exit code is then the session's); a handshake\n"
    "must finish within --handshake-timeout (default 10000 ms) and a peer silent for\n"
    "--idle-timeout (default 60000 ms) is dropped. With --tee, --cert, --mode or a verify option\n"
    "the connection is RA-TLS as for 'ccz ratls' (default mode two-way); without, it is\n"
    "ordinary TLS with an ephemeral self-signed certificate that authenticates no one (both\n"
    "sides warn).\n" CLI_VERIFY_HELP CLI_ATTESTER_HELP;

static const cli_command psi_cmds[] = {
    {"ecdh", cmd_psi_ecdh, NULL,
     CLI_FRAG_ENDPOINT | CLI_OPT(CLI_O_LISTEN) | CLI_OPT(CLI_O_CONNECT) | CLI_OPT(CLI_O_DATA) |
         CLI_OPT(CLI_O_OUT) | CLI_OPT(CLI_O_SIZE_ONLY) | CLI_OPT(CLI_O_ONCE) |
         CLI_OPT(CLI_O_MAX_CONNS) | CLI_OPT(CLI_O_HS_TIMEOUT) | CLI_OPT(CLI_O_IDLE_TIMEOUT) |
         CLI_OPT(CLI_O_TIMEOUT) | CLI_FRAG_HELP},
};

const cli_group psi_group = CLI_GROUP("psi", psi_usage, psi_cmds, "psi command", NULL, NULL);

int cmd_psi(int argc, char **argv)
{
    return cli_dispatch(&psi_group, argc, argv);
}
