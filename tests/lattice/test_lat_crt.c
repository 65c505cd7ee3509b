/* SPDX-License-Identifier: Apache-2.0 */
/* lat_crt_init reports a bad prime count instead of reading an uninitialised RNS base (it used
 * to ignore lat_base_init's status with `(void)!`). */
#include <gmp.h>

#include "lattice/lattice_internal.h"
#include "test.h"

static void test_crt_init_propagates(void)
{
    ccz_lattice_params p;
    CHECK_OK(ccz_lattice_preset(&p, CCZ_LATTICE_BFV, 12));
    ccz_lattice_context *ctx;
    CHECK_OK(ccz_lattice_context_new(&ctx, &p));
    unsigned count;
    const uint64_t *primes = ccz_lattice_context_primes(&count, ctx);
    CHECK(count >= 2);
    mpz_t Q, coef[MAXP];
    CHECK_STATUS(lat_crt_init(ctx, 0, Q, coef), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(lat_crt_init(ctx, MAXP + 1, Q, coef), CCZ_ERR_INVALID_ARGUMENT);
    /* two primes: Q = q0 q1 and coef[i] = 1 mod q_i, 0 mod q_j */
    CHECK_OK(lat_crt_init(ctx, 2, Q, coef));
    mpz_t q0, q1;
    mpz_init_set_ui(q0, (unsigned long)primes[0]);
    mpz_init_set_ui(q1, (unsigned long)primes[1]);
    CHECK(mpz_divisible_p(Q, q0) && mpz_divisible_p(Q, q1));
    CHECK(mpz_fdiv_ui(coef[0], (unsigned long)primes[0]) == 1);
    CHECK(mpz_fdiv_ui(coef[0], (unsigned long)primes[1]) == 0);
    CHECK(mpz_fdiv_ui(coef[1], (unsigned long)primes[1]) == 1);
    CHECK(mpz_fdiv_ui(coef[1], (unsigned long)primes[0]) == 0);
    mpz_clears(q0, q1, NULL);
    lat_crt_clear(2, Q, coef);
    ccz_lattice_context_free(ctx);
}

TEST_MAIN(T(test_crt_init_propagates))
