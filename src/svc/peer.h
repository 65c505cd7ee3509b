/* SPDX-License-Identifier: Apache-2.0 */
/* What the RPC services write of their peers (internal): a log line, and a peer's attested
 * identity in a line, for the logs and party lists. */
#ifndef CCZ_SRC_SVC_PEER_H
#define CCZ_SRC_SVC_PEER_H

#include <stddef.h>
#include <stdio.h>

#include "ccz/ratls.h"

/* "ccz WHO: " and the line on log (nothing without one), flushed at once. */
void svc_log(FILE *log, const char *who, const char *fmt, ...) CCZ_PRINTF(3, 4);

/* The TEE and the first 8 bytes of its main measurement from a peer's RA-TLS verdict, e.g.
 * "sgx mr_enclave 1a2b3c4d5e6f7081", "sim (simulated) mr_enclave ...", "tdx mr_td ...",
 * "snp measurement ...", "cca rim ..."; "not attested" without a good verdict. */
void svc_peer_identity(char *out, size_t cap, const ccz_ratls_verdict *vd);

#endif
