/* SPDX-License-Identifier: Apache-2.0 */
/* Single-precision matrix products for the inference engine: an AVX-512 kernel (8 rows by 32
 * columns of C in registers, masked at the right edge) where the CPU has it, and a portable
 * loop the compiler vectorises. Both sum over k in the same order. Shapes come from model.c. */
#include <stdlib.h>

#include <immintrin.h>

#include "core/cpu.h"
#include "core/guard.h"
#include "ml_int.h"

bool ml_gemm_avx512(void)
{
    return cpu_has(CPU_AVX512F);
}

static void gemm_portable(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *b,
                          size_t ldb, float *c, size_t ldc, bool accumulate)
{
    for (size_t i = 0; i < m; i++) {
        float *ci = c + i * ldc;
        if (!accumulate)
            for (size_t j = 0; j < n; j++)
                ci[j] = 0.0f;
        for (size_t p = 0; p < k; p++) {
            float av = a[i * lda + p];
            const float *bp = b + p * ldb;
            for (size_t j = 0; j < n; j++)
                ci[j] += av * bp[j];
        }
    }
}

#if defined(__x86_64__)
#define TARGET __attribute__((target("avx512f")))

static TARGET inline __mmask16 tail_mask(size_t left)
{
    return left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
}

/* C[8 rows, up to 32 columns from j] */
static TARGET void kernel8(size_t k, const float *a, size_t lda, const float *b, size_t ldb,
                           float *c, size_t ldc, size_t cols, bool accumulate)
{
    __mmask16 m0 = tail_mask(cols), m1 = cols > 16 ? tail_mask(cols - 16) : 0;
    __m512 acc[8][2];
    for (int r = 0; r < 8; r++) {
        acc[r][0] = accumulate ? _mm512_maskz_loadu_ps(m0, c + r * ldc) : _mm512_setzero_ps();
        acc[r][1] = accumulate ? _mm512_maskz_loadu_ps(m1, c + r * ldc + 16) : _mm512_setzero_ps();
    }
    for (size_t p = 0; p < k; p++) {
        __m512 b0 = _mm512_maskz_loadu_ps(m0, b + p * ldb);
        __m512 b1 = _mm512_maskz_loadu_ps(m1, b + p * ldb + 16);
        for (int r = 0; r < 8; r++) {
            __m512 av = _mm512_set1_ps(a[r * lda + p]);
            acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
        }
    }
    for (int r = 0; r < 8; r++) {
        _mm512_mask_storeu_ps(c + r * ldc, m0, acc[r][0]);
        _mm512_mask_storeu_ps(c + r * ldc + 16, m1, acc[r][1]);
    }
}

/* C[1 row, up to 32 columns from j] */
static TARGET void kernel1(size_t k, const float *a, const float *b, size_t ldb, float *c,
                           size_t cols, bool accumulate)
{
    __mmask16 m0 = tail_mask(cols), m1 = cols > 16 ? tail_mask(cols - 16) : 0;
    __m512 acc0 = accumulate ? _mm512_maskz_loadu_ps(m0, c) : _mm512_setzero_ps();
    __m512 acc1 = accumulate ? _mm512_maskz_loadu_ps(m1, c + 16) : _mm512_setzero_ps();
    for (size_t p = 0; p < k; p++) {
        __m512 av = _mm512_set1_ps(a[p]);
        acc0 = _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(m0, b + p * ldb), acc0);
        acc1 = _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(m1, b + p * ldb + 16), acc1);
    }
    _mm512_mask_storeu_ps(c, m0, acc0);
    _mm512_mask_storeu_ps(c + 16, m1, acc1);
}

static TARGET void gemm_avx512(size_t m, size_t n, size_t k, const float *a, size_t lda,
                               const float *b, size_t ldb, float *c, size_t ldc, bool accumulate)
{
    for (size_t j = 0; j < n; j += 32) {
        size_t cols = n - j < 32 ? n - j : 32;
        size_t i = 0;
        for (; i + 8 <= m; i += 8)
            kernel8(k, a + i * lda, lda, b + j, ldb, c + i * ldc + j, ldc, cols, accumulate);
        for (; i < m; i++)
            kernel1(k, a + i * lda, b + j, ldb, c + i * ldc + j, cols, accumulate);
    }
}
#endif

void ml_gemm(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *b, size_t ldb,
             float *c, size_t ldc, bool accumulate)
{
#if defined(__x86_64__)
    if (ml_gemm_avx512()) {
        gemm_avx512(m, n, k, a, lda, b, ldb, c, ldc, accumulate);
        return;
    }
#endif
    gemm_portable(m, n, k, a, lda, b, ldb, c, ldc, accumulate);
}

typedef struct {
    size_t m, n, k, lda, ldb, ldc;
    const float *a, *b;
    float *c;
    bool accumulate, by_rows;
} gemm_job;

#define ROW_BLOCK 8
#define COL_BLOCK 32

static ccz_status gemm_chunk(size_t begin, size_t end, void *arg)
{
    const gemm_job *g = arg;
    if (g->by_rows) {
        size_t i0 = begin * ROW_BLOCK, i1 = end * ROW_BLOCK < g->m ? end * ROW_BLOCK : g->m;
        ml_gemm(i1 - i0, g->n, g->k, g->a + i0 * g->lda, g->lda, g->b, g->ldb, g->c + i0 * g->ldc,
                g->ldc, g->accumulate);
    } else {
        size_t j0 = begin * COL_BLOCK, j1 = end * COL_BLOCK < g->n ? end * COL_BLOCK : g->n;
        ml_gemm(g->m, j1 - j0, g->k, g->a, g->lda, g->b + j0, g->ldb, g->c + j0, g->ldc,
                g->accumulate);
    }
    return CCZ_OK;
}

ccz_status ml_gemm_parallel(size_t m, size_t n, size_t k, const float *a, size_t lda,
                            const float *b, size_t ldb, float *c, size_t ldc, bool accumulate,
                            unsigned threads)
{
    size_t row_blocks = (m + ROW_BLOCK - 1) / ROW_BLOCK,
           col_blocks = (n + COL_BLOCK - 1) / COL_BLOCK;
    /* too small to share: a thread's start costs more than the work */
    if (threads == 1 || m * n * k < 32768) {
        ml_gemm(m, n, k, a, lda, b, ldb, c, ldc, accumulate);
        return CCZ_OK;
    }
    gemm_job g = {m, n, k, lda, ldb, ldc, a, b, c, accumulate, row_blocks >= col_blocks};
    return ccz_parallel(g.by_rows ? row_blocks : col_blocks, threads, gemm_chunk, &g);
}
