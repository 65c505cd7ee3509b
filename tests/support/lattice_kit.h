/* SPDX-License-Identifier: Apache-2.0 */
/* The lattice tests' kit: a context of a preset and every key made on it. */
#ifndef CCZ_TEST_LATTICE_KIT_H
#define CCZ_TEST_LATTICE_KIT_H

#include <stdbool.h>
#include <stddef.h>

#include "ccz/lattice.h"

typedef struct {
    ccz_lattice_context *ctx;
    ccz_lattice_secret_key *sk;
    ccz_lattice_public_key *pk;
    ccz_lattice_relin_keys *rk;
    ccz_lattice_galois_keys *gk;
} lattice_kit;

/* The preset of scheme s for 2^log_n slots, a key pair, relinearization keys, and Galois keys
 * for the n_steps rotations of steps (and the row swap / conjugation when conjugate). */
void lattice_kit_new(lattice_kit *k, ccz_lattice_scheme s, unsigned log_n, const int *steps,
                     size_t n_steps, bool conjugate);
void lattice_kit_free(lattice_kit *k);

#endif
