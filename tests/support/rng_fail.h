/* SPDX-License-Identifier: Apache-2.0 */
/* An RNG that fails: between rng_fail_start and rng_fail_stop every RAND_bytes and
 * RAND_priv_bytes of the process returns 0, so a test sees what a server does when its own
 * randomness fails (its fault, never the client's). */
#ifndef CCZ_TEST_RNG_FAIL_H
#define CCZ_TEST_RNG_FAIL_H

void rng_fail_start(void);
void rng_fail_stop(void);

#endif
