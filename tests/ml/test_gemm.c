/* SPDX-License-Identifier: Apache-2.0 */
/* The inference engine's matrix product (src/ml/gemm.c) against a double-precision product,
 * on the path this CPU takes (AVX-512: 8-row and 1-row kernels over 32 columns with masked
 * edges) and, run again with CCZ_CPU=portable, on the portable loop: every shape around the
 * kernels' edges (rows 1 to 17, columns 1 to 65), strided operands, accumulation into C or not,
 * and nothing written outside C's m x n (its padding and the row after it); then the product
 * shared between threads by row blocks and by column blocks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ml/ml_int.h"
#include "test.h"

#define GUARD_VALUE 12345.0f

static float value(unsigned *state)
{
    *state = *state * 1103515245u + 12345u;
    return (float)((*state >> 8) % 2001) / 1000.0f - 1.0f;
}

/* One product of m x k by k x n with leading dimensions padded by pad, checked element by
 * element against double sums (relative 1e-5) and for untouched padding. */
static void check_product(size_t m, size_t n, size_t k, size_t pad, bool accumulate,
                          unsigned threads)
{
    size_t lda = k + pad, ldb = n + pad, ldc = n + pad;
    float *a = malloc(m * lda * sizeof *a), *b = malloc(k * ldb * sizeof *b),
          *c = malloc((m + 1) * ldc * sizeof *c); /* and a guard row */
    unsigned st = (unsigned)(m * 131 + n * 17 + k);
    for (size_t i = 0; i < m * lda; i++)
        a[i] = value(&st);
    for (size_t i = 0; i < k * ldb; i++)
        b[i] = value(&st);
    for (size_t i = 0; i < (m + 1) * ldc; i++)
        c[i] = i % ldc < n && i < m * ldc ? value(&st) : GUARD_VALUE;
    double *want = malloc(m * n * sizeof *want);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            double s = accumulate ? c[i * ldc + j] : 0.0;
            for (size_t p = 0; p < k; p++)
                s += (double)a[i * lda + p] * b[p * ldb + j];
            want[i * n + j] = s;
        }
    if (threads)
        CHECK_OK(ml_gemm_parallel(m, n, k, a, lda, b, ldb, c, ldc, accumulate, threads));
    else
        ml_gemm(m, n, k, a, lda, b, ldb, c, ldc, accumulate);
    size_t wrong = 0, touched = 0;
    for (size_t i = 0; i <= m; i++)
        for (size_t j = 0; j < ldc; j++) {
            float got = c[i * ldc + j];
            if (i == m || j >= n)
                touched += got != GUARD_VALUE;
            else
                wrong += fabs(got - want[i * n + j]) > 1e-5 * (1.0 + (double)k);
        }
    if (wrong || touched) {
        fprintf(stderr, "%s: %zux%zux%zu pad %zu%s threads %u: %zu wrong, %zu outside C\n",
                test_name, m, n, k, pad, accumulate ? " accumulating" : "", threads, wrong,
                touched);
        test_failures++;
    }
    free(a);
    free(b);
    free(c);
    free(want);
}

static void test_shapes(void)
{
    fprintf(stderr, "path: %s\n", ml_gemm_avx512() ? "AVX-512" : "portable");
    static const size_t rows[] = {1, 2, 7, 8, 9, 16, 17};
    static const size_t cols[] = {1, 5, 15, 16, 17, 31, 32, 33, 48, 65};
    static const size_t ks[] = {1, 3, 40};
    for (size_t r = 0; r < CCZ_ARRAY_LEN(rows); r++)
        for (size_t c = 0; c < CCZ_ARRAY_LEN(cols); c++)
            for (size_t k = 0; k < CCZ_ARRAY_LEN(ks); k++)
                for (int acc = 0; acc < 2; acc++) {
                    check_product(rows[r], cols[c], ks[k], 0, acc, 0);
                    check_product(rows[r], cols[c], ks[k], 3, acc, 0);
                }
}

/* Shared between two threads: tall products split by rows, wide ones by columns; and ones too
 * small to share. */
static void test_threads(void)
{
    check_product(67, 20, 64, 1, false, 2); /* 9 row blocks, 1 column block */
    check_product(67, 20, 64, 1, true, 2);
    check_product(9, 200, 40, 2, false, 2); /* 2 row blocks, 7 column blocks */
    check_product(9, 200, 40, 2, true, 2);
    check_product(5, 5, 5, 0, false, 2); /* too small: one call */
    check_product(64, 64, 64, 0, false, 1);
}

/* B as the last floats before a page that cannot be read: the kernels load nothing right of
 * B's columns (a masked-off lane reads nothing; a load past the edge faults). Rows 8 and 9 (the
 * 8-row kernel, and the 1-row one after it), columns at and around the 16-lane halves. */
static void test_b_before_unreadable_page(void)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), k = 3;
    static const size_t cols[] = {5, 16, 17, 20, 32, 33};
    for (size_t ci = 0; ci < CCZ_ARRAY_LEN(cols); ci++)
        for (size_t m = 8; m <= 9; m++) {
            size_t n = cols[ci], bytes = k * n * sizeof(float);
            size_t span = (bytes + page - 1) / page * page;
            uint8_t *map =
                mmap(NULL, span + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            CHECK(map != MAP_FAILED);
            if (map == MAP_FAILED)
                return;
            CHECK(mprotect(map + span, page, PROT_NONE) == 0);
            float *b = (float *)(map + span - bytes), *a = malloc(m * k * sizeof *a),
                  *c = malloc(m * n * sizeof *c);
            unsigned st = (unsigned)(m * 7 + n);
            for (size_t i = 0; i < m * k; i++)
                a[i] = value(&st);
            for (size_t i = 0; i < k * n; i++)
                b[i] = value(&st);
            ml_gemm(m, n, k, a, k, b, n, c, n, false);
            size_t wrong = 0;
            for (size_t i = 0; i < m; i++)
                for (size_t j = 0; j < n; j++) {
                    double s = 0;
                    for (size_t p = 0; p < k; p++)
                        s += (double)a[i * k + p] * b[p * n + j];
                    wrong += fabs(c[i * n + j] - s) > 1e-5 * (1.0 + (double)k);
                }
            CHECK_INT(wrong, 0);
            free(a);
            free(c);
            munmap(map, span + page);
        }
}

TEST_MAIN(T(test_shapes), T(test_threads), T(test_b_before_unreadable_page))
