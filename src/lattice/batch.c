/* SPDX-License-Identifier: Apache-2.0 */
/* Batches: count independent operations of one kind over arrays, split into contiguous runs
 * over the process's worker pool (ccz_parallel). Each thread works through its run in order,
 * one element at a time, so its NTT tables and scratch stay in that core's caches; element i's
 * result is exactly what the single call gives for it. Before any work the arrays are checked:
 * no NULL element, and no object written by one element and read or written by another (two
 * threads would race on it). */
#include <stdint.h>
#include <stdlib.h>

#include "core/guard.h"
#include "lattice_internal.h"

typedef enum { ENCRYPT, DECRYPT, MUL, ROTATE } batch_op;

typedef struct {
    batch_op op;
    const ccz_lattice_context *ctx;
    const void *key; /* public key, secret key, relinearization or Galois keys */
    void *const *out;
    const void *const *a, *const *b;
    int steps;
} batch_job;

static ccz_status run_one(const batch_job *j, size_t i)
{
    switch (j->op) {
    case ENCRYPT:
        return ccz_lattice_encrypt(j->out[i], j->ctx, j->key, j->a[i]);
    case DECRYPT:
        return ccz_lattice_decrypt(j->out[i], j->ctx, j->key, j->a[i]);
    case MUL:
        return ccz_lattice_mul(j->out[i], j->ctx, j->a[i], j->b[i], j->key);
    case ROTATE:
        break;
    }
    return ccz_lattice_rotate(j->out[i], j->ctx, j->a[i], j->steps, j->key);
}

static ccz_status run_range(size_t begin, size_t end, void *arg)
{
    const batch_job *j = arg;
    for (size_t i = begin; i < end; i++) {
        ccz_status s = run_one(j, i);
        if (s)
            return ccz_fail_context(s, "element %zu", i);
    }
    return CCZ_OK;
}

typedef struct {
    uintptr_t p;
    size_t i;
} owned;

static int by_pointer(const void *x, const void *y)
{
    uintptr_t a = ((const owned *)x)->p, b = ((const owned *)y)->p;
    return (a > b) - (a < b);
}

/* The element whose output is p, or SIZE_MAX when p is no element's output. */
static size_t owner(const owned *outs, size_t count, const void *p)
{
    owned key = {(uintptr_t)p, 0};
    const owned *hit = bsearch(&key, outs, count, sizeof *outs, by_pointer);
    return hit ? hit->i : SIZE_MAX;
}

static ccz_status check_arrays(const batch_job *j, size_t count)
{
    CCZ_ENSURE(j->out && j->a && (j->op != MUL || j->b), CCZ_ERR_INVALID_ARGUMENT,
               "batch: an array is NULL");
    owned *outs = malloc(count * sizeof *outs);
    CCZ_ENSURE(outs, CCZ_ERR_NOMEM, "out of memory");
    ccz_status s = CCZ_OK;
    for (size_t i = 0; i < count && !s; i++) {
        if (!j->out[i] || !j->a[i] || (j->op == MUL && !j->b[i]))
            s = ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "batch: element %zu is NULL", i);
        outs[i] = (owned){(uintptr_t)j->out[i], i};
    }
    if (s == CCZ_OK)
        qsort(outs, count, sizeof *outs, by_pointer);
    for (size_t i = 1; i < count && !s; i++)
        if (outs[i].p == outs[i - 1].p)
            s = ccz_fail(CCZ_ERR_INVALID_ARGUMENT,
                         "batch: elements %zu and %zu write the same object",
                         outs[i - 1].i < outs[i].i ? outs[i - 1].i : outs[i].i,
                         outs[i - 1].i < outs[i].i ? outs[i].i : outs[i - 1].i);
    /* an input may be its own element's output (as the single call allows), no other's */
    for (size_t i = 0; i < count && !s; i++) {
        size_t o = owner(outs, count, j->a[i]);
        if (o == SIZE_MAX && j->op == MUL)
            o = owner(outs, count, j->b[i]);
        if (o != SIZE_MAX && o != i)
            s = ccz_fail(CCZ_ERR_INVALID_ARGUMENT,
                         "batch: element %zu reads the object element %zu writes", i, o);
    }
    free(outs);
    return s;
}

static ccz_status run_batch(const batch_job *j, size_t count, unsigned threads)
{
    if (count == 0)
        return CCZ_OK;
    CCZ_GUARD(check_arrays(j, count));
    return ccz_parallel(count, threads, run_range, (void *)j);
}

ccz_status ccz_lattice_encrypt_many(ccz_lattice_ciphertext *const *out,
                                    const ccz_lattice_context *ctx,
                                    const ccz_lattice_public_key *pk,
                                    const ccz_lattice_plaintext *const *pt, size_t count,
                                    unsigned threads)
{
    CCZ_ENSURE(pk && pk->ctx == ctx, CCZ_ERR_INVALID_ARGUMENT, "a public key of another context");
    batch_job j = {ENCRYPT, ctx, pk, (void *const *)out, (const void *const *)pt, NULL, 0};
    return run_batch(&j, count, threads);
}

ccz_status ccz_lattice_decrypt_many(ccz_lattice_plaintext *const *out,
                                    const ccz_lattice_context *ctx,
                                    const ccz_lattice_secret_key *sk,
                                    const ccz_lattice_ciphertext *const *ct, size_t count,
                                    unsigned threads)
{
    CCZ_ENSURE(sk && sk->ctx == ctx, CCZ_ERR_INVALID_ARGUMENT, "a secret key of another context");
    batch_job j = {DECRYPT, ctx, sk, (void *const *)out, (const void *const *)ct, NULL, 0};
    return run_batch(&j, count, threads);
}

ccz_status ccz_lattice_mul_many(ccz_lattice_ciphertext *const *out, const ccz_lattice_context *ctx,
                                const ccz_lattice_ciphertext *const *a,
                                const ccz_lattice_ciphertext *const *b, size_t count,
                                const ccz_lattice_relin_keys *rk, unsigned threads)
{
    CCZ_ENSURE(!rk || rk->ctx == ctx, CCZ_ERR_INVALID_ARGUMENT,
               "relinearization keys of another context");
    batch_job j = {MUL, ctx, rk, (void *const *)out, (const void *const *)a, (const void *const *)b,
                   0};
    return run_batch(&j, count, threads);
}

ccz_status ccz_lattice_rotate_many(ccz_lattice_ciphertext *const *out,
                                   const ccz_lattice_context *ctx,
                                   const ccz_lattice_ciphertext *const *a, size_t count, int steps,
                                   const ccz_lattice_galois_keys *gk, unsigned threads)
{
    CCZ_ENSURE(gk && gk->ctx == ctx, CCZ_ERR_INVALID_ARGUMENT, "Galois keys of another context");
    batch_job j = {ROTATE, ctx, gk, (void *const *)out, (const void *const *)a, NULL, steps};
    return run_batch(&j, count, threads);
}
