/* The ccz command: shared helpers of the command groups. Arguments come from the user and are
 * checked here; files named by them are untrusted input for the library's parsers. */
#ifndef CCZ_CLI_H
#define CCZ_CLI_H

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

/* Prints "ccz: <message>" and a pointer to the command's help; returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) CCZ_PRINTF(2, 3);
/* Prints "ccz: <what>: <detail or status message>"; returns EXIT_USAGE. */
int cli_fail(ccz_status s, const char *fmt, ...) CCZ_PRINTF(2, 3);
/* The sim platform directory: `given` if set, else the default (CCZ_SIM_DIR, XDG). */
ccz_status cli_sim_dir(ccz_buf *out, const char *given);
/* Parses up to 64 bytes of hex; shorter values are padded with zero bytes on the right. */
ccz_status cli_report_data(uint8_t out[64], const char *hex);
/* Parses a decimal number in [0, max]. */
ccz_status cli_number(const char *s, unsigned long long max, unsigned long long *out);

#endif
