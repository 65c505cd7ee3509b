/* SPDX-License-Identifier: Apache-2.0 */
/* Two-way RA-TLS sides on one sim platform, for tests of what runs over RA-TLS (RPC, HTTP): an
 * attester with the measurement 52 50 43 00..., trust in the platform's root and a policy that
 * accepts exactly that measurement (sim allowed). The platform is made on first use in the
 * test's temporary directory. */
#ifndef CCZ_TEST_SIM_SIDE_H
#define CCZ_TEST_SIM_SIDE_H

#include <stdbool.h>

#include <openssl/ssl.h>

#include "ccz/ccz.h"

typedef struct {
    ccz_attester *attester;
    ccz_trust *trust;
    ccz_policy *policy;
    SSL_CTX *ctx;
} test_side;

/* The platform's directory (made on the first call) and its root certificate's path. */
const char *test_sim_platform(void);
const char *test_sim_root(void);
/* An attester of the test measurement on the platform; debug: a debug enclave, which the
 * sides' policy refuses. */
ccz_attester *test_sim_attester(bool debug);

/* A side (server or client) in two-way mode; debug as test_sim_attester's. */
void test_side_init(test_side *s, bool server, bool debug);
void test_side_free(test_side *s);

#endif
