/* SPDX-License-Identifier: Apache-2.0 */
/* Batches (ccz_lattice_*_many): BFV encryptions, products and rotations of K entries on both
 * cores decrypt to exactly what each entry's single call gives (every slot compared), in place
 * where the single call allows it; each encryption is fresh; CKKS (N = 8192) within 15 bits;
 * a thread count above the entries and count 0. Refused before any work, naming the elements: two
 * outputs that are one object, an input that another element writes, a NULL element or array,
 * keys of another context; a ciphertext of another context names its element. Hoisted
 * rotations (ccz_lattice_rotate_hoisted) and the out-of-place rescale (ccz_lattice_ckks_rescale_to),
 * the other calls that save work. */
#include <complex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccz/lattice.h"
#include "lattice/lattice_internal.h"
#include "lattice_kit.h"
#include "test.h"

enum { K = 7 };

typedef struct {
    lattice_kit k;
    size_t slots;
    uint64_t t;
    ccz_lattice_plaintext *pt[K], *out[K];
    ccz_lattice_ciphertext *ct[K], *res[K];
    uint64_t *v[K];
} bfv_set;

static const int hoist_steps[] = {3, 1, -2, 1000};

static void bfv_set_new(bfv_set *b)
{
    lattice_kit_new(&b->k, CCZ_LATTICE_BFV, 12, hoist_steps, 4, false);
    const ccz_lattice_params *p = ccz_lattice_context_params(b->k.ctx);
    b->t = p->plain_modulus;
    b->slots = ccz_lattice_slots(b->k.ctx);
    for (int i = 0; i < K; i++) {
        b->v[i] = calloc(b->slots, sizeof *b->v[i]);
        for (size_t j = 0; j < b->slots; j++)
            b->v[i][j] = (j * 7919 + (size_t)i * 104729 + 1) % b->t;
        CHECK_OK(ccz_lattice_plaintext_new(&b->pt[i], b->k.ctx));
        CHECK_OK(ccz_lattice_plaintext_new(&b->out[i], b->k.ctx));
        CHECK_OK(ccz_lattice_ciphertext_new(&b->ct[i], b->k.ctx));
        CHECK_OK(ccz_lattice_ciphertext_new(&b->res[i], b->k.ctx));
        CHECK_OK(ccz_lattice_bfv_encode(b->pt[i], b->k.ctx, b->v[i], b->slots));
    }
}

static void bfv_set_free(bfv_set *b)
{
    for (int i = 0; i < K; i++) {
        free(b->v[i]);
        ccz_lattice_plaintext_free(b->pt[i]);
        ccz_lattice_plaintext_free(b->out[i]);
        ccz_lattice_ciphertext_free(b->ct[i]);
        ccz_lattice_ciphertext_free(b->res[i]);
    }
    lattice_kit_free(&b->k);
}

/* res[i] decrypts (one element at a time) to want(i, j) in every slot j */
static void expect_n(bfv_set *b, ccz_lattice_ciphertext *const *res, int count,
                     uint64_t (*want)(const bfv_set *, int, size_t))
{
    uint64_t *got = calloc(b->slots, sizeof *got);
    for (int i = 0; i < count; i++) {
        CHECK_OK(ccz_lattice_decrypt(b->out[i], b->k.ctx, b->k.sk, res[i]));
        CHECK_OK(ccz_lattice_bfv_decode(got, b->k.ctx, b->out[i]));
        size_t bad = 0;
        for (size_t j = 0; j < b->slots; j++)
            bad += got[j] != want(b, i, j);
        CHECK_INT(bad, 0);
    }
    free(got);
}

static void expect_slots(bfv_set *b, ccz_lattice_ciphertext *const *res,
                         uint64_t (*want)(const bfv_set *, int, size_t))
{
    expect_n(b, res, K, want);
}

static uint64_t same(const bfv_set *b, int i, size_t j)
{
    return b->v[i][j];
}

static uint64_t product(const bfv_set *b, int i, size_t j)
{
    return b->v[i][j] * b->v[(i + 1) % K][j] % b->t;
}

/* slot j of a row of h slots holds slot j + s (mod h) of the same row after rotating by s */
static uint64_t rotated_by(const bfv_set *b, int i, size_t j, int s)
{
    size_t h = b->slots / 2, row = j / h * h;
    long at = ((long)(j - row) + s) % (long)h;
    return b->v[i][row + (size_t)(at < 0 ? at + (long)h : at)];
}

static uint64_t rotated(const bfv_set *b, int i, size_t j)
{
    return rotated_by(b, i, j, 3);
}

/* element i of a hoisted batch: ciphertext 0 rotated by hoist_steps[i] */
static uint64_t hoisted(const bfv_set *b, int i, size_t j)
{
    return rotated_by(b, 0, j, hoist_steps[i]);
}

static void test_bfv_batches(void)
{
    bfv_set b;
    bfv_set_new(&b);
    const ccz_lattice_plaintext *const *pt = (const ccz_lattice_plaintext *const *)b.pt;
    CHECK_OK(ccz_lattice_encrypt_many(b.ct, b.k.ctx, b.k.pk, pt, K, 2));
    expect_slots(&b, b.ct, same);
    /* decrypt_many gives what the single decryption gives */
    uint64_t *got = calloc(b.slots, sizeof *got);
    CHECK_OK(ccz_lattice_decrypt_many(b.out, b.k.ctx, b.k.sk,
                                      (const ccz_lattice_ciphertext *const *)b.ct, K, 0));
    for (int i = 0; i < K; i++) {
        CHECK_OK(ccz_lattice_bfv_decode(got, b.k.ctx, b.out[i]));
        CHECK(memcmp(got, b.v[i], b.slots * sizeof *got) == 0);
    }
    free(got);
    /* fresh randomness per element: two encryptions of one plaintext differ */
    const ccz_lattice_plaintext *twice[2] = {b.pt[0], b.pt[0]};
    CHECK_OK(ccz_lattice_encrypt_many(b.res, b.k.ctx, b.k.pk, twice, 2, 2));
    ccz_buf s0 = {0}, s1 = {0};
    CHECK_OK(ccz_lattice_ciphertext_save(&s0, b.res[0]));
    CHECK_OK(ccz_lattice_ciphertext_save(&s1, b.res[1]));
    CHECK(s0.len == s1.len && memcmp(s0.ptr, s1.ptr, s0.len) != 0);
    ccz_buf_free(&s0);
    ccz_buf_free(&s1);

    const ccz_lattice_ciphertext *a[K], *c[K];
    for (int i = 0; i < K; i++) {
        a[i] = b.ct[i];
        c[i] = b.ct[(i + 1) % K];
    }
    CHECK_OK(ccz_lattice_mul_many(b.res, b.k.ctx, a, c, K, b.k.rk, 5));
    for (int i = 0; i < K; i++)
        CHECK_INT(ccz_lattice_ciphertext_size(b.res[i]), 2);
    expect_slots(&b, b.res, product);
    /* without keys the products keep three components and still decrypt */
    CHECK_OK(ccz_lattice_mul_many(b.res, b.k.ctx, a, c, K, NULL, 2));
    CHECK_INT(ccz_lattice_ciphertext_size(b.res[K - 1]), 3);
    expect_slots(&b, b.res, product);

    CHECK_OK(ccz_lattice_rotate_many(b.res, b.k.ctx, a, K, 3, b.k.gk, 2));
    expect_slots(&b, b.res, rotated);
    /* in place: each element's output is its own input */
    CHECK_OK(ccz_lattice_rotate_many(b.ct, b.k.ctx, a, K, 3, b.k.gk, 2));
    expect_slots(&b, b.ct, rotated);
    /* nothing to do */
    CHECK_OK(ccz_lattice_encrypt_many(b.ct, b.k.ctx, b.k.pk, pt, 0, 2));
    bfv_set_free(&b);
}

static void test_ckks_batch(void)
{
    static const int steps[] = {1, 7, 4000};
    lattice_kit k;
    lattice_kit_new(&k, CCZ_LATTICE_CKKS, 13, steps, 3, false);
    size_t slots = ccz_lattice_slots(k.ctx);
    double scale = ccz_lattice_context_params(k.ctx)->scale;
    ccz_lattice_plaintext *pt[K], *out[K];
    ccz_lattice_ciphertext *ct[K];
    double *x = calloc(slots, sizeof *x);
    double complex *got = calloc(slots, sizeof *got), *want = calloc(slots, sizeof *want);
    for (int i = 0; i < K; i++) {
        for (size_t j = 0; j < slots; j++)
            x[j] = (double)((j + (size_t)i * 31) % 97) / 16 - 3;
        CHECK_OK(ccz_lattice_plaintext_new(&pt[i], k.ctx));
        CHECK_OK(ccz_lattice_plaintext_new(&out[i], k.ctx));
        CHECK_OK(ccz_lattice_ciphertext_new(&ct[i], k.ctx));
        CHECK_OK(ccz_lattice_ckks_encode_real(pt[i], k.ctx, x, slots, scale, 0));
    }
    CHECK_OK(
        ccz_lattice_encrypt_many(ct, k.ctx, k.pk, (const ccz_lattice_plaintext *const *)pt, K, 2));
    CHECK_OK(ccz_lattice_decrypt_many(out, k.ctx, k.sk, (const ccz_lattice_ciphertext *const *)ct,
                                      K, 2));
    for (int i = 0; i < K; i++) {
        for (size_t j = 0; j < slots; j++)
            want[j] = (double)((j + (size_t)i * 31) % 97) / 16 - 3;
        CHECK_OK(ccz_lattice_ckks_decode(got, k.ctx, out[i]));
        double bits = ccz_lattice_ckks_precision_bits(want, got, slots);
        if (bits <= 15)
            fprintf(stderr, "element %d: %.1f bits\n", i, bits);
        CHECK(bits > 15);
    }
    /* hoisted rotations of ciphertext 0 against the single rotations' values */
    CHECK_OK(ccz_lattice_rotate_hoisted(ct + 1, k.ctx, ct[0], steps, 3, k.gk));
    for (int r = 0; r < 3; r++) {
        for (size_t j = 0; j < slots; j++)
            want[j] = (double)(((j + (size_t)steps[r]) % slots) % 97) / 16 - 3;
        CHECK_OK(ccz_lattice_decrypt(out[0], k.ctx, k.sk, ct[1 + r]));
        CHECK_OK(ccz_lattice_ckks_decode(got, k.ctx, out[0]));
        double bits = ccz_lattice_ckks_precision_bits(want, got, slots);
        if (bits <= 15)
            fprintf(stderr, "rotation by %d: %.1f bits\n", steps[r], bits);
        CHECK(bits > 15);
    }
    for (int i = 0; i < K; i++) {
        ccz_lattice_plaintext_free(pt[i]);
        ccz_lattice_plaintext_free(out[i]);
        ccz_lattice_ciphertext_free(ct[i]);
    }
    free(x);
    free(got);
    free(want);
    lattice_kit_free(&k);
}

/* Hoisted rotations of one ciphertext: each decrypts to its rotation, with the single rotation's
 * noise budget (to a bit); an output may be the input; a step without a key is refused first. */
static void test_bfv_hoisted(void)
{
    bfv_set b;
    bfv_set_new(&b);
    CHECK_OK(ccz_lattice_encrypt(b.ct[0], b.k.ctx, b.k.pk, b.pt[0]));
    CHECK_OK(ccz_lattice_rotate_hoisted(b.res, b.k.ctx, b.ct[0], hoist_steps, 4, b.k.gk));
    expect_n(&b, b.res, 4, hoisted);
    for (int r = 0; r < 4; r++) {
        int single, hoist;
        CHECK_OK(ccz_lattice_rotate(b.ct[1], b.k.ctx, b.ct[0], hoist_steps[r], b.k.gk));
        CHECK_OK(ccz_lattice_bfv_noise_budget(&single, b.k.ctx, b.k.sk, b.ct[1]));
        CHECK_OK(ccz_lattice_bfv_noise_budget(&hoist, b.k.ctx, b.k.sk, b.res[r]));
        CHECK(hoist >= single - 1 && hoist > 0);
    }
    /* the input among the outputs, written last */
    ccz_lattice_ciphertext *o[4] = {b.res[0], b.res[1], b.res[2], b.ct[0]};
    CHECK_OK(ccz_lattice_rotate_hoisted(o, b.k.ctx, b.ct[0], hoist_steps, 4, b.k.gk));
    expect_n(&b, o, 4, hoisted);
    /* ... and written first */
    CHECK_OK(ccz_lattice_encrypt(b.ct[0], b.k.ctx, b.k.pk, b.pt[0]));
    ccz_lattice_ciphertext *first[4] = {b.ct[0], b.res[1], b.res[2], b.res[3]};
    CHECK_OK(ccz_lattice_rotate_hoisted(first, b.k.ctx, b.ct[0], hoist_steps, 4, b.k.gk));
    expect_n(&b, first, 4, hoisted);
    static const int missing[] = {1, 5};
    CHECK_STATUS(ccz_lattice_rotate_hoisted(b.res, b.k.ctx, b.ct[1], missing, 2, b.k.gk),
                 CCZ_ERR_NOT_FOUND);
    CHECK_STR(ccz_error_detail(),
              "no Galois key for rotation by 5: make one with ccz_lattice_galois_keygen");
    bfv_set_free(&b);
}

static bool same_bytes(const ccz_lattice_ciphertext *a, const ccz_lattice_ciphertext *b)
{
    ccz_buf x = {0}, y = {0};
    CHECK_OK(ccz_lattice_ciphertext_save(&x, a));
    CHECK_OK(ccz_lattice_ciphertext_save(&y, b));
    bool same = x.len == y.len && memcmp(x.ptr, y.ptr, x.len) == 0;
    ccz_buf_free(&x);
    ccz_buf_free(&y);
    return same;
}

/* The out-of-place rescale gives the in-place one's words, its input untouched; out may be the
 * input; BFV refused. */
static void test_rescale_to(void)
{
    static const int steps[] = {1};
    lattice_kit k;
    lattice_kit_new(&k, CCZ_LATTICE_CKKS, 13, steps, 1, false);
    double x[4] = {1.5, -2, 0.25, 3};
    ccz_lattice_plaintext *pt;
    ccz_lattice_ciphertext *c, *m, *keep, *in_place, *to;
    CHECK_OK(ccz_lattice_plaintext_new(&pt, k.ctx));
    CHECK_OK(
        ccz_lattice_ckks_encode_real(pt, k.ctx, x, 4, ccz_lattice_context_params(k.ctx)->scale, 0));
    CHECK_OK(ccz_lattice_ciphertext_new(&c, k.ctx));
    CHECK_OK(ccz_lattice_ciphertext_new(&m, k.ctx));
    CHECK_OK(ccz_lattice_ciphertext_new(&keep, k.ctx));
    CHECK_OK(ccz_lattice_ciphertext_new(&in_place, k.ctx));
    CHECK_OK(ccz_lattice_ciphertext_new(&to, k.ctx));
    CHECK_OK(ccz_lattice_encrypt(c, k.ctx, k.pk, pt));
    CHECK_OK(ccz_lattice_mul(m, k.ctx, c, c, k.rk));
    CHECK_OK(ccz_lattice_ciphertext_copy(keep, m));
    CHECK_OK(ccz_lattice_ciphertext_copy(in_place, m));
    CHECK_OK(ccz_lattice_ckks_rescale(in_place, k.ctx));
    CHECK_OK(ccz_lattice_ckks_rescale_to(to, k.ctx, m));
    CHECK(same_bytes(to, in_place));
    CHECK(same_bytes(m, keep));
    CHECK_INT(ccz_lattice_ciphertext_level(to), ccz_lattice_ciphertext_level(m) - 1);
    CHECK(ccz_lattice_ciphertext_scale(to) == ccz_lattice_ciphertext_scale(in_place));
    CHECK_OK(ccz_lattice_ckks_rescale_to(m, k.ctx, m));
    CHECK(same_bytes(m, in_place));
    /* into a ciphertext with room for fewer words than the result (switched down to one prime,
     * shrunk): the room grows before the words are written */
    ccz_lattice_ciphertext *small;
    CHECK_OK(ccz_lattice_ciphertext_new(&small, k.ctx));
    CHECK_OK(ccz_lattice_ciphertext_copy(small, c));
    while (ccz_lattice_ciphertext_level(small) > 1)
        CHECK_OK(ccz_lattice_mod_switch(small, k.ctx));
    CHECK_OK(ccz_lattice_ciphertext_shrink(small));
    /* shrunk: its room is the words it uses, two components of one prime */
    CHECK(small->cap == (size_t)2 * small->ctx->n);
    CHECK(ccz_lattice_ciphertext_level(keep) >= 3); /* the result needs more than its room */
    CHECK_OK(ccz_lattice_ckks_rescale_to(small, k.ctx, keep));
    CHECK(small->cap >= (size_t)small->size * small->level * small->ctx->n);
    CHECK(same_bytes(small, in_place));
    ccz_lattice_ciphertext_free(small);
    lattice_kit b;
    lattice_kit_new(&b, CCZ_LATTICE_BFV, 12, steps, 1, false);
    ccz_lattice_ciphertext *bc;
    CHECK_OK(ccz_lattice_ciphertext_new(&bc, b.ctx));
    CHECK_STATUS(ccz_lattice_ckks_rescale_to(bc, b.ctx, bc), CCZ_ERR_INVALID_ARGUMENT);
    ccz_lattice_ciphertext_free(bc);
    lattice_kit_free(&b);
    ccz_lattice_ciphertext_free(c);
    ccz_lattice_ciphertext_free(m);
    ccz_lattice_ciphertext_free(keep);
    ccz_lattice_ciphertext_free(in_place);
    ccz_lattice_ciphertext_free(to);
    ccz_lattice_plaintext_free(pt);
    lattice_kit_free(&k);
}

static void test_refused(void)
{
    bfv_set b;
    bfv_set_new(&b);
    const ccz_lattice_plaintext *const *pt = (const ccz_lattice_plaintext *const *)b.pt;
    CHECK_OK(ccz_lattice_encrypt_many(b.ct, b.k.ctx, b.k.pk, pt, K, 2));
    const ccz_lattice_ciphertext *a[K];
    ccz_lattice_ciphertext *o[K];
    for (int i = 0; i < K; i++) {
        a[i] = b.ct[i];
        o[i] = b.res[i];
    }
    /* two elements writing one object */
    o[5] = o[2];
    CHECK_STATUS(ccz_lattice_mul_many(o, b.k.ctx, a, a, K, b.k.rk, 2), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "batch: elements 2 and 5 write the same object");
    o[5] = b.res[5];
    /* an element reading what another writes */
    o[1] = b.ct[4];
    CHECK_STATUS(ccz_lattice_rotate_many(o, b.k.ctx, a, K, 3, b.k.gk, 2), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "batch: element 4 reads the object element 1 writes");
    /* ... through the product's second operand too */
    const ccz_lattice_ciphertext *c[K];
    memcpy(c, a, sizeof c);
    o[1] = b.res[1];
    c[6] = b.res[0];
    CHECK_STATUS(ccz_lattice_mul_many(o, b.k.ctx, a, c, K, NULL, 2), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "batch: element 6 reads the object element 0 writes");
    /* NULL elements and arrays */
    o[3] = NULL;
    CHECK_STATUS(ccz_lattice_rotate_many(o, b.k.ctx, a, K, 3, b.k.gk, 2), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "batch: element 3 is NULL");
    o[3] = b.res[3];
    CHECK_STATUS(ccz_lattice_mul_many(o, b.k.ctx, a, NULL, K, NULL, 2), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "batch: an array is NULL");
    CHECK_STATUS(ccz_lattice_rotate_many(NULL, b.k.ctx, a, K, 3, b.k.gk, 2),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "batch: an array is NULL");
    CHECK_STATUS(ccz_lattice_rotate_many(o, b.k.ctx, NULL, K, 3, b.k.gk, 2),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "batch: an array is NULL");
    /* an input element NULL, either operand of a product */
    a[2] = NULL;
    CHECK_STATUS(ccz_lattice_rotate_many(o, b.k.ctx, a, K, 3, b.k.gk, 2), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "batch: element 2 is NULL");
    a[2] = b.ct[2];
    memcpy(c, a, sizeof c);
    c[5] = NULL;
    CHECK_STATUS(ccz_lattice_mul_many(o, b.k.ctx, a, c, K, NULL, 2), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "batch: element 5 is NULL");
    /* count 0 does nothing, whatever the arrays */
    CHECK_OK(ccz_lattice_mul_many(NULL, b.k.ctx, NULL, NULL, 0, NULL, 2));
    /* a ciphertext of another context is named by its element */
    static const int steps[] = {3};
    lattice_kit other;
    lattice_kit_new(&other, CCZ_LATTICE_BFV, 12, steps, 1, false);
    ccz_lattice_ciphertext *foreign;
    CHECK_OK(ccz_lattice_ciphertext_new(&foreign, other.ctx));
    o[4] = foreign;
    CHECK_STATUS(ccz_lattice_encrypt_many(o, b.k.ctx, b.k.pk, pt, K, 2), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "element 4: a ciphertext of another context");
    o[4] = b.res[4];
    CHECK_STATUS(ccz_lattice_encrypt_many(o, b.k.ctx, other.pk, pt, K, 2),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "a public key of another context");
    CHECK_STATUS(ccz_lattice_decrypt_many(b.out, b.k.ctx, other.sk, a, K, 2),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "a secret key of another context");
    CHECK_STATUS(ccz_lattice_mul_many(o, b.k.ctx, a, a, K, other.rk, 2), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "relinearization keys of another context");
    CHECK_STATUS(ccz_lattice_rotate_many(o, b.k.ctx, a, K, 3, other.gk, 2),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "Galois keys of another context");
    CHECK_STATUS(ccz_lattice_rotate_many(o, b.k.ctx, a, K, 3, NULL, 2), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "Galois keys of another context");
    ccz_lattice_ciphertext_free(foreign);
    lattice_kit_free(&other);
    bfv_set_free(&b);
}

TEST_MAIN(T(test_bfv_batches), T(test_bfv_hoisted), T(test_ckks_batch), T(test_rescale_to),
          T(test_refused))
