/* SPDX-License-Identifier: Apache-2.0 */
/* The lattice tests' kit (lattice_kit.h). */
#include "lattice_kit.h"

#include "test.h"

void lattice_kit_new(lattice_kit *k, ccz_lattice_scheme s, unsigned log_n, const int *steps,
                     size_t n_steps, bool conjugate)
{
    ccz_lattice_params p;
    CHECK_OK(ccz_lattice_preset(&p, s, log_n));
    CHECK_OK(ccz_lattice_context_new(&k->ctx, &p));
    CHECK_OK(ccz_lattice_keygen(&k->sk, &k->pk, k->ctx));
    CHECK_OK(ccz_lattice_relin_keygen(&k->rk, k->ctx, k->sk));
    CHECK_OK(ccz_lattice_galois_keygen(&k->gk, k->ctx, k->sk, steps, n_steps, conjugate));
}

void lattice_kit_free(lattice_kit *k)
{
    ccz_lattice_galois_keys_free(k->gk);
    ccz_lattice_relin_keys_free(k->rk);
    ccz_lattice_public_key_free(k->pk);
    ccz_lattice_secret_key_free(k->sk);
    ccz_lattice_context_free(k->ctx);
}
