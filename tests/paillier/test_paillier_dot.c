/* SPDX-License-Identifier: Apache-2.0 */
/* Encrypted dot products (ccz_paillier_dot_batch) against one exponentiation per term and
 * against the plaintexts: rows of mixed signs and sizes (zero, one, a scalar near n, 100-bit
 * scalars), rows that do not fill the eight IFMA lanes, many bases for few rows (split over
 * lanes), a base that only negative scalars use, a base with no inverse, and the refusals (a ciphertext out of range, a scalar of n). CTest runs it again with
 * CCZ_CPU=portable, so both the IFMA and the GMP paths are held to the same answers. */
#include <stdlib.h>

#include "ccz/ccz.h"
#include "paillier/internal.h"
#include "test.h"

static gmp_randstate_t rnd;

static void naive(mpz_t out, const ccz_paillier_pub *pk, const mpz_t *c, const mpz_t *e, size_t k)
{
    mpz_t n2, t, b;
    mpz_inits(n2, t, b, NULL);
    ccz_paillier_pub_n(n2, pk);
    mpz_mul(n2, n2, n2);
    mpz_set_ui(out, 1);
    for (size_t i = 0; i < k; i++) {
        mpz_abs(t, e[i]);
        if (mpz_sgn(e[i]) < 0)
            mpz_invert(b, c[i], n2);
        else
            mpz_set(b, c[i]);
        mpz_powm(t, b, t, n2);
        mpz_mul(out, out, t);
        mpz_mod(out, out, n2);
    }
    mpz_clears(n2, t, b, NULL);
}

static void test_dot(void)
{
    gmp_randinit_default(rnd);
    gmp_randseed_ui(rnd, 20261215);
    ccz_paillier_key *key = NULL;
    CHECK_OK(ccz_paillier_keygen(&key, 1024));
    if (!key)
        return;
    const ccz_paillier_pub *pk = ccz_paillier_key_pub(key);
    enum { K = 13, ROWS = 19 };
    mpz_t m[K], c[K], e[ROWS * K], out[ROWS], ref, n, sum, t;
    mpz_inits(ref, n, sum, t, NULL);
    ccz_paillier_pub_n(n, pk);
    for (size_t i = 0; i < K; i++) {
        mpz_inits(m[i], c[i], NULL);
        mpz_urandomb(m[i], rnd, 200);
        CHECK_OK(ccz_paillier_encrypt(c[i], pk, m[i]));
    }
    for (size_t q = 0; q < ROWS * K; q++) {
        mpz_init(e[q]);
        mpz_urandomb(e[q], rnd, 20 + (unsigned)(q % 7) * 14); /* 20 to 104 bits */
        if (q % 3 == 1)
            mpz_neg(e[q], e[q]);
    }
    for (size_t r = 0; r < ROWS; r++) {
        mpz_init(out[r]);
        mpz_set_ui(e[r * K + 4], 0);  /* a base unused */
        mpz_set_si(e[r * K + 5], -1); /* a base only negative scalars use */
    }
    mpz_set_ui(e[2 * K + 6], 1);
    mpz_sub_ui(e[3 * K + 7], n, 1); /* n - 1, the largest magnitude */
    mpz_neg(e[4 * K + 8], e[3 * K + 7]);
    for (size_t i = 0; i < K; i++)
        mpz_set_ui(e[7 * K + i], 0); /* a row of zeros: Enc(0) = 1 */
    CHECK_OK(ccz_paillier_dot_batch(out, pk, (const mpz_t *)c, K, (const mpz_t *)e, ROWS, 0));
    int same = 0, plain = 0;
    for (size_t r = 0; r < ROWS; r++) {
        naive(ref, pk, (const mpz_t *)c, (const mpz_t *)&e[r * K], K);
        same += mpz_cmp(ref, out[r]) == 0;
        mpz_set_ui(sum, 0);
        for (size_t i = 0; i < K; i++)
            mpz_addmul(sum, e[r * K + i], m[i]);
        mpz_mod(sum, sum, n);
        CHECK_OK(ccz_paillier_decrypt(t, key, out[r]));
        plain += mpz_cmp(t, sum) == 0;
    }
    CHECK_INT(same, ROWS);
    CHECK_INT(plain, ROWS);
    CHECK(mpz_cmp_ui(out[7], 1) == 0);
    /* fewer rows than lanes, on one thread */
    CHECK_OK(ccz_paillier_dot_batch(out, pk, (const mpz_t *)c, K, (const mpz_t *)&e[9 * K], 3, 1));
    naive(ref, pk, (const mpz_t *)c, (const mpz_t *)&e[11 * K], K);
    CHECK(mpz_cmp(ref, out[2]) == 0);
    CHECK_OK(ccz_paillier_dot_batch(out, pk, (const mpz_t *)c, K, (const mpz_t *)e, 0, 1));
    /* on one thread, 17 and 9 rows: one row past whole lane groups */
    for (size_t rows = 17; rows >= 9; rows -= 8) {
        CHECK_OK(ccz_paillier_dot_batch(out, pk, (const mpz_t *)c, K, (const mpz_t *)e, rows, 1));
        same = 0;
        for (size_t r = 0; r < rows; r++) {
            naive(ref, pk, (const mpz_t *)c, (const mpz_t *)&e[r * K], K);
            same += mpz_cmp(ref, out[r]) == 0;
        }
        CHECK_INT(same, (int)rows);
    }
    /* a dot product of one term: c^e for each row */
    CHECK_OK(ccz_paillier_dot_batch(out, pk, (const mpz_t *)c, 1, (const mpz_t *)e, 3, 1));
    same = 0;
    for (size_t r = 0; r < 3; r++) {
        naive(ref, pk, (const mpz_t *)c, (const mpz_t *)&e[r], 1);
        same += mpz_cmp(ref, out[r]) == 0;
    }
    CHECK_INT(same, 3);
    /* refusals */
    mpz_set(t, e[0]);
    mpz_set(e[0], n);
    CHECK_STATUS(ccz_paillier_dot_batch(out, pk, (const mpz_t *)c, K, (const mpz_t *)e, 2, 1),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "scalar 0 of row 0: its magnitude is not below n");
    mpz_set(e[0], t);
    mpz_set_ui(c[3], 0);
    CHECK_STATUS(ccz_paillier_dot_batch(out, pk, (const mpz_t *)c, K, (const mpz_t *)e, 2, 1),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "ciphertext 3 is not in [1, n^2): not from this key");
    /* no rows: nothing to compute, so nothing is read, not even that ciphertext (as for the other
     * batches' empty arrays), and nothing written */
    mpz_set_ui(out[0], 42);
    CHECK_OK(ccz_paillier_dot_batch(out, pk, (const mpz_t *)c, K, (const mpz_t *)e, 0, 1));
    CHECK(mpz_cmp_ui(out[0], 42) == 0);
    CHECK_STATUS(ccz_paillier_dot_batch(out, pk, (const mpz_t *)c, 0, (const mpz_t *)e, 2, 1),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "a dot product of 0 terms for 2 rows");
    /* more terms or rows than a batch takes: refused before any is read */
    size_t many = ((size_t)1 << 24) + 1;
    CHECK_STATUS(ccz_paillier_dot_batch(out, pk, (const mpz_t *)c, many, (const mpz_t *)e, 1, 1),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "a dot product of 16777217 terms for 1 rows");
    size_t rows = ((size_t)1 << 40) / K + 1;
    CHECK_STATUS(ccz_paillier_dot_batch(out, pk, (const mpz_t *)c, K, (const mpz_t *)e, rows, 1),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), " terms for ");
    for (size_t i = 0; i < K; i++)
        mpz_clears(m[i], c[i], NULL);
    for (size_t q = 0; q < ROWS * K; q++)
        mpz_clear(e[q]);
    for (size_t r = 0; r < ROWS; r++)
        mpz_clear(out[r]);
    mpz_clears(ref, n, sum, t, NULL);
    ccz_paillier_key_free(key);
    gmp_randclear(rnd);
}

/* Many bases and few rows (the IFMA engine splits each row's bases over several lanes, with wide
 * windows), and a base sharing a factor with n: no inverse, which only a negative scalar needs. */
static void test_dot_shapes(void)
{
    gmp_randstate_t r;
    gmp_randinit_default(r);
    gmp_randseed_ui(r, 20261203);
    ccz_paillier_key *key = NULL;
    CHECK_OK(ccz_paillier_keygen(&key, 1024));
    if (!key)
        return;
    const ccz_paillier_pub *pk = ccz_paillier_key_pub(key);
    enum { K = 150, ROWS = 11 };
    mpz_t c[K], e[ROWS * K], out[ROWS], ref, n;
    mpz_inits(ref, n, NULL);
    ccz_paillier_pub_n(n, pk);
    for (size_t i = 0; i < K; i++) {
        mpz_init(c[i]);
        mpz_urandomb(ref, r, 64);
        CHECK_OK(ccz_paillier_encrypt(c[i], pk, ref));
    }
    for (size_t q = 0; q < ROWS * K; q++) {
        mpz_init(e[q]);
        mpz_urandomb(e[q], r, 40 + (unsigned)(q % 5) * 6);
        if (q % 2)
            mpz_neg(e[q], e[q]);
    }
    for (size_t i = 0; i < ROWS; i++)
        mpz_init(out[i]);
    for (size_t rows = 1; rows <= ROWS; rows += 5) {
        CHECK_OK(ccz_paillier_dot_batch(out, pk, (const mpz_t *)c, K, (const mpz_t *)e, rows, 0));
        int same = 0;
        for (size_t i = 0; i < rows; i++) {
            naive(ref, pk, (const mpz_t *)c, (const mpz_t *)&e[i * K], K);
            same += mpz_cmp(ref, out[i]) == 0;
        }
        CHECK_INT(same, (int)rows);
    }
    /* base 7 is n: no inverse; fine while its scalars are not negative (zero included) */
    mpz_set(c[7], n);
    for (size_t i = 0; i < ROWS; i++)
        mpz_abs(e[i * K + 7], e[i * K + 7]);
    mpz_set_ui(e[4 * K + 7], 0);
    CHECK_OK(ccz_paillier_dot_batch(out, pk, (const mpz_t *)c, K, (const mpz_t *)e, ROWS, 1));
    naive(ref, pk, (const mpz_t *)c, (const mpz_t *)&e[3 * K], K);
    CHECK(mpz_cmp(ref, out[3]) == 0);
    naive(ref, pk, (const mpz_t *)c, (const mpz_t *)&e[4 * K], K);
    CHECK(mpz_cmp(ref, out[4]) == 0);
    /* base 7 is p: no inverse either, but its powers are not 0 as n's are, so a product that
     * used the missing inverse (a negative digit of a positive scalar) would show */
    mpz_set(c[7], key->p);
    CHECK_OK(ccz_paillier_dot_batch(out, pk, (const mpz_t *)c, K, (const mpz_t *)e, ROWS, 1));
    int same = 0;
    for (size_t i = 0; i < ROWS; i++) {
        naive(ref, pk, (const mpz_t *)c, (const mpz_t *)&e[i * K], K);
        same += mpz_cmp(ref, out[i]) == 0;
    }
    CHECK_INT(same, ROWS);
    mpz_neg(e[2 * K + 7], e[2 * K + 7]);
    CHECK_STATUS(ccz_paillier_dot_batch(out, pk, (const mpz_t *)c, K, (const mpz_t *)e, ROWS, 1),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "ciphertext 7 is not invertible");
    for (size_t i = 0; i < K; i++)
        mpz_clear(c[i]);
    for (size_t q = 0; q < ROWS * K; q++)
        mpz_clear(e[q]);
    for (size_t i = 0; i < ROWS; i++)
        mpz_clear(out[i]);
    mpz_clears(ref, n, NULL);
    ccz_paillier_key_free(key);
    gmp_randclear(r);
}

/* More rows than the engine takes in one pass (32 groups of eight lanes) on one thread, the
 * later rows' scalars far longer than the first pass's: each pass's digits (windows of the
 * longest scalar in it) need more room than the first's, and every row is against one
 * exponentiation per term and, decrypted, against the plaintexts. */
static void test_dot_growing_rows(void)
{
    gmp_randstate_t r;
    gmp_randinit_default(r);
    gmp_randseed_ui(r, 20261216);
    ccz_paillier_key *key = NULL;
    CHECK_OK(ccz_paillier_keygen(&key, 1024));
    if (!key)
        return;
    const ccz_paillier_pub *pk = ccz_paillier_key_pub(key);
    enum { K = 2, ROWS = 300, SHORT = 260 };
    mpz_t m[K], c[K], e[ROWS * K], out[ROWS], ref, n, sum, t;
    mpz_inits(ref, n, sum, t, NULL);
    ccz_paillier_pub_n(n, pk);
    for (size_t i = 0; i < K; i++) {
        mpz_inits(m[i], c[i], NULL);
        mpz_urandomb(m[i], r, 100);
        CHECK_OK(ccz_paillier_encrypt(c[i], pk, m[i]));
    }
    for (size_t q = 0; q < ROWS * K; q++) {
        mpz_init(e[q]);
        if (q < SHORT * K) /* the first pass: scalars of at most 4 bits */
            mpz_urandomb(e[q], r, 4);
        else /* after it: of n's size */
            mpz_urandomm(e[q], r, n);
        if (q % 3 == 2)
            mpz_neg(e[q], e[q]);
    }
    for (size_t i = 0; i < ROWS; i++)
        mpz_init(out[i]);
    CHECK_OK(ccz_paillier_dot_batch(out, pk, (const mpz_t *)c, K, (const mpz_t *)e, ROWS, 1));
    int same = 0, plain = 0;
    for (size_t i = 0; i < ROWS; i++) {
        naive(ref, pk, (const mpz_t *)c, (const mpz_t *)&e[i * K], K);
        same += mpz_cmp(ref, out[i]) == 0;
        if (i < SHORT - 2)
            continue;
        mpz_set_ui(sum, 0);
        for (size_t j = 0; j < K; j++)
            mpz_addmul(sum, e[i * K + j], m[j]);
        mpz_mod(sum, sum, n);
        CHECK_OK(ccz_paillier_decrypt(t, key, out[i]));
        plain += mpz_cmp(t, sum) == 0;
    }
    CHECK_INT(same, ROWS);
    CHECK_INT(plain, ROWS - SHORT + 2);
    for (size_t i = 0; i < K; i++)
        mpz_clears(m[i], c[i], NULL);
    for (size_t q = 0; q < ROWS * K; q++)
        mpz_clear(e[q]);
    for (size_t i = 0; i < ROWS; i++)
        mpz_clear(out[i]);
    mpz_clears(ref, n, sum, t, NULL);
    ccz_paillier_key_free(key);
    gmp_randclear(r);
}

TEST_MAIN(T(test_dot), T(test_dot_shapes), T(test_dot_growing_rows))
