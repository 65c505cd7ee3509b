/* SPDX-License-Identifier: Apache-2.0 */
/* The encrypted query's server side: a query's parameters, keys and ciphertexts checked and
 * loaded, then answered by one of three algorithms (include/ccz/hequery.h; docs/he-solutions.md
 * derives them). The query is untrusted: every object is loaded through the lattice loaders,
 * which check it against the algorithm's parameters, and nothing in it decides how much work is
 * done. The database is the operator's. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>
#include <pthread.h>

#include "core/guard.h"
#include "internal.h"

/* The fast algorithm shares work between entries within batches of this many entries (sorted
 * by key, so entries with a common prefix share their product tree's nodes); the nodes of one
 * batch bound the memory an answer takes. */
#define FAST_BATCH 64

/* Modulus switching: the data primes kept after each stage, chosen so that the noise budget
 * stays where a switch costs none of it (tests/hequery checks the budget of worst-case
 * answers). Fast, N = 8192, 4 data primes: after the masks (depth 4), after level 2 of the
 * tree (depth 6), the answer (depth 8 and a plaintext product). */
static const unsigned fast_keep_leaves = 3, fast_keep_level2 = 2, fast_keep_answer = 1;
/* Packed, N = 16384, 8 data primes: after d^2, after each mask's product tree, after each
 * level of the product of the 16 masks, the answer. */
static const unsigned packed_keep_square = 7, packed_keep_masks = 5;
static const unsigned packed_keep_tree[4] = {4, 4, 3, 3};
static const unsigned packed_keep_answer = 2;

typedef struct {
    uint32_t a, b; /* the children: indices into the level below */
} node;

typedef struct {
    size_t first, count; /* entries order[first .. first + count) */
    node *lv[3];         /* levels 1..3 of the tree (level 4: an entry's two level-3 nodes) */
    size_t n[3];
    uint32_t (*root)[2]; /* per entry of the batch: its two level-3 nodes */
} batch;

typedef struct {
    /* the masks: leaf_of[i][v] is the index of mask (nibble i == v), or UINT32_MAX when no key
     * has v there; positions with more than 3 values use the powers of the query nibble */
    uint32_t leaf_of[CCZ_HEQ_KEY_CTS][16];
    uint8_t n_vals[CCZ_HEQ_KEY_CTS];
    size_t n_leaves;
    size_t *order; /* entries sorted by key */
    batch *batches;
    size_t n_batches;
    ccz_lattice_plaintext **value; /* per entry: its value's nibbles in the coefficients */
} fast_plan;

struct ccz_heq_server {
    const ccz_heq_db *db;
    unsigned threads;
    ccz_lattice_context *ctx17, *ctx_packed; /* packed: made at its first query, under mu */
    pthread_mutex_t mu;
    fast_plan fast;
    unsigned block, chunks; /* packed layout */
};

/* ---- work on the thread pool -----------------------------------------------------------------*/

/* How a query's work runs: on `threads` workers (0: one per CPU), each asking wanted(wanted_arg)
 * (when set) before every task it takes; false abandons the answer. */
typedef struct {
    unsigned threads;
    bool (*wanted)(void *arg);
    void *wanted_arg;
} pool_ctl;

/* Tasks 0..n-1 handed out one at a time (their costs differ), to the workers. */
typedef struct {
    const pool_ctl *ctl;
    atomic_size_t next;
    atomic_bool failed;
    size_t n;
    ccz_status (*task)(void *arg, size_t i, void *local);
    void *arg;
    /* per worker: local state made before its first task and merged after its last */
    ccz_status (*local_new)(void *arg, void **local);
    ccz_status (*local_done)(void *arg, void *local);
} pool_job;

static ccz_status pool_worker(size_t begin, size_t end, void *p)
{
    (void)begin, (void)end;
    pool_job *j = p;
    void *local = NULL;
    ccz_status s = j->local_new ? j->local_new(j->arg, &local) : CCZ_OK;
    size_t i;
    while (s == CCZ_OK && !atomic_load(&j->failed) && (i = atomic_fetch_add(&j->next, 1)) < j->n)
        if (j->ctl->wanted && !j->ctl->wanted(j->ctl->wanted_arg))
            s = ccz_fail(CCZ_ERR_UNAVAILABLE, "the answer was abandoned: nobody waits for it");
        else
            s = j->task(j->arg, i, local);
    if (j->local_done) {
        ccz_status d = j->local_done(j->arg, local);
        s = s ? s : d;
    }
    if (s)
        atomic_store(&j->failed, true);
    return s;
}

static ccz_status pool_run(const pool_ctl *ctl, size_t n,
                           ccz_status (*task)(void *, size_t, void *), void *arg,
                           ccz_status (*local_new)(void *, void **),
                           ccz_status (*local_done)(void *, void *))
{
    if (n == 0)
        return CCZ_OK;
    pool_job j = {.ctl = ctl,
                  .n = n,
                  .task = task,
                  .arg = arg,
                  .local_new = local_new,
                  .local_done = local_done};
    atomic_init(&j.next, 0);
    atomic_init(&j.failed, false);
    unsigned w = ctl->threads ? ctl->threads : ccz_cpu_count();
    if (w > n)
        w = (unsigned)n;
    return ccz_parallel(w, w, pool_worker, &j);
}

/* ---- small helpers ----------------------------------------------------------------------------*/

static void free_cts(ccz_lattice_ciphertext **c, size_t n)
{
    for (size_t i = 0; c && i < n; i++)
        ccz_lattice_ciphertext_free(c[i]);
    free(c);
}

static ccz_status new_cts(ccz_lattice_ciphertext ***out, size_t n, const ccz_lattice_context *ctx)
{
    *out = calloc(n ? n : 1, sizeof **out);
    CCZ_ENSURE(*out, CCZ_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        CCZ_GUARD(ccz_lattice_ciphertext_new(&(*out)[i], ctx));
    return CCZ_OK;
}

/* Switches c down to `keep` data primes and frees what it no longer uses. */
static ccz_status switch_to(ccz_lattice_ciphertext *c, const ccz_lattice_context *ctx,
                            unsigned keep)
{
    while (ccz_lattice_ciphertext_level(c) > keep)
        CCZ_GUARD(ccz_lattice_mod_switch(c, ctx));
    return ccz_lattice_ciphertext_shrink(c);
}

/* out = a constant polynomial v (mod t) as a plaintext */
static ccz_status constant(ccz_lattice_plaintext *pt, const ccz_lattice_context *ctx, uint64_t v)
{
    return ccz_lattice_bfv_encode_coeffs(pt, ctx, &v, 1);
}

/* A value's bytes as nibbles in the coefficients, high nibble first. */
static ccz_status value_plain(ccz_lattice_plaintext *pt, const ccz_lattice_context *ctx, ccz_span v)
{
    uint64_t m[2 * CCZ_HEQ_MAX_VALUE];
    for (size_t i = 0; i < v.len; i++) {
        m[2 * i] = v.ptr[i] >> 4;
        m[2 * i + 1] = v.ptr[i] & 15u;
    }
    return ccz_lattice_bfv_encode_coeffs(pt, ctx, m, 2 * v.len);
}

/* ---- the query, loaded -------------------------------------------------------------------------*/

typedef struct {
    const ccz_lattice_context *ctx;
    ccz_lattice_public_key *pk;
    ccz_lattice_relin_keys *rk;
    ccz_lattice_ciphertext *q[CCZ_HEQ_KEY_CTS];
    uint64_t t;
    pool_ctl pool;
} query;

static void query_free(query *q)
{
    ccz_lattice_relin_keys_free(q->rk);
    ccz_lattice_public_key_free(q->pk);
    for (int i = 0; i < CCZ_HEQ_KEY_CTS; i++)
        ccz_lattice_ciphertext_free(q->q[i]);
}

/* The algorithm's context; the packed one (N = 16384: its tables take a while) is made when a
 * query first needs it. */
static ccz_status server_ctx(const ccz_lattice_context **out, ccz_heq_server *s,
                             ccz_heq_algorithm a)
{
    if (a != CCZ_HEQ_PACKED) {
        *out = s->ctx17;
        return CCZ_OK;
    }
    ccz_status st = CCZ_OK;
    pthread_mutex_lock(&s->mu);
    if (!s->ctx_packed) {
        ccz_lattice_params p;
        st = ccz_heq_params(&p, CCZ_HEQ_PACKED);
        if (st == CCZ_OK)
            st = ccz_lattice_context_new(&s->ctx_packed, &p);
    }
    *out = s->ctx_packed;
    pthread_mutex_unlock(&s->mu);
    return st;
}

/* The parameters must be the algorithm's: a clear message when they are not. */
static ccz_status check_params(const ccz_lattice_context *ctx, ccz_heq_algorithm a, ccz_span in)
{
    ccz_lattice_params got;
    ccz_status s = ccz_lattice_params_load(&got, in);
    if (s)
        return ccz_fail_context(s, "parameters");
    const ccz_lattice_params *want = ccz_lattice_context_params(ctx);
    unsigned n_primes;
    const uint64_t *primes = ccz_lattice_context_primes(&n_primes, ctx);
    bool same = got.scheme == want->scheme && got.log_n == want->log_n &&
                got.n_primes == n_primes && got.plain_modulus == want->plain_modulus;
    for (unsigned i = 0; same && i < n_primes; i++)
        same = got.coeff_primes[i] == primes[i];
    CCZ_ENSURE(same, CCZ_ERR_INVALID_ARGUMENT,
               "parameters: the %s algorithm runs BFV with N = %u, t = %llu and SEAL's default "
               "chain of %u primes; the query has %s with N = %u, t = %llu, %u primes",
               ccz_heq_algorithm_name(a), 1u << want->log_n,
               (unsigned long long)want->plain_modulus, n_primes,
               got.scheme == CCZ_LATTICE_BFV ? "BFV" : "CKKS", got.log_n < 31 ? 1u << got.log_n : 0,
               (unsigned long long)got.plain_modulus, got.n_primes);
    return CCZ_OK;
}

static ccz_status load_query(query *q, ccz_heq_server *s, const ccz_heq_query_view *v)
{
    memset(q, 0, sizeof *q);
    CCZ_ENSURE(v->algorithm >= CCZ_HEQ_FAITHFUL && v->algorithm <= CCZ_HEQ_PACKED,
               CCZ_ERR_INVALID_ARGUMENT, "unknown algorithm %d", (int)v->algorithm);
    CCZ_GUARD(server_ctx(&q->ctx, s, v->algorithm));
    q->t = ccz_lattice_context_params(q->ctx)->plain_modulus;
    q->pool = (pool_ctl){s->threads, v->wanted, v->wanted_arg};
    CCZ_ENSURE(v->n_key == CCZ_HEQ_KEY_CTS, CCZ_ERR_INVALID_ARGUMENT,
               "the key is %d ciphertexts (two nibbles for each of %d bytes), not %zu",
               CCZ_HEQ_KEY_CTS, CCZ_HEQ_KEY_BYTES, v->n_key);
    CCZ_GUARD(check_params(q->ctx, v->algorithm, v->params));
    ccz_status st = ccz_lattice_public_key_load(&q->pk, q->ctx, v->public_key);
    if (st)
        return ccz_fail_context(st, "public key");
    if ((st = ccz_lattice_relin_keys_load(&q->rk, q->ctx, v->relin_keys)) != CCZ_OK)
        return ccz_fail_context(st, "relinearization keys");
    unsigned top = ccz_lattice_max_level(q->ctx);
    for (unsigned i = 0; i < CCZ_HEQ_KEY_CTS; i++) {
        CCZ_GUARD(ccz_lattice_ciphertext_new(&q->q[i], q->ctx));
        if ((st = ccz_lattice_ciphertext_load(q->q[i], q->ctx, v->key[i])) != CCZ_OK)
            return ccz_fail_context(st, "key ciphertext %u", i);
        /* at the top level, as fresh encryptions are (a lower one has no room for the search);
         * three components are relinearized, a valid encryption too */
        unsigned l = ccz_lattice_ciphertext_level(q->q[i]);
        CCZ_ENSURE(l == top, CCZ_ERR_INVALID_ARGUMENT,
                   "key ciphertext %u is at level %u, not %u (a fresh encryption)", i, l, top);
        CCZ_GUARD(ccz_lattice_relinearize(q->q[i], q->ctx, q->rk));
    }
    return CCZ_OK;
}

/* ---- faithful: the sample ---------------------------------------------------------------------*/

/* SEAL's Evaluator::multiply_many: products of pairs, then of the products in order, each
 * relinearized; f[0..n) are consumed (freed), the result is *out. */
static ccz_status multiply_many(ccz_lattice_ciphertext **out, ccz_lattice_ciphertext **f, size_t n,
                                const query *q)
{
    ccz_lattice_ciphertext **v = calloc(2 * n, sizeof *v);
    CCZ_ENSURE(v, CCZ_ERR_NOMEM, "out of memory");
    size_t m = 0;
    ccz_status s = CCZ_OK;
    for (size_t i = 0; i + 1 < n && s == CCZ_OK; i += 2) {
        s = ccz_lattice_ciphertext_new(&v[m], q->ctx);
        if (s == CCZ_OK)
            s = ccz_lattice_mul(v[m], q->ctx, f[i], f[i + 1], q->rk);
        m++;
    }
    if (n % 2 && s == CCZ_OK) {
        v[m++] = f[n - 1];
        f[n - 1] = NULL;
    }
    for (size_t i = 0; i + 1 < m && s == CCZ_OK; i += 2) {
        s = ccz_lattice_ciphertext_new(&v[m], q->ctx);
        if (s == CCZ_OK)
            s = ccz_lattice_mul(v[m], q->ctx, v[i], v[i + 1], q->rk);
        m++;
    }
    if (s == CCZ_OK) {
        *out = v[m - 1];
        v[m - 1] = NULL;
    }
    for (size_t i = 0; i < n; i++) {
        ccz_lattice_ciphertext_free(f[i]);
        f[i] = NULL;
    }
    for (size_t i = 0; i < m; i++)
        ccz_lattice_ciphertext_free(v[i]);
    free(v);
    return s;
}

typedef struct {
    const ccz_heq_server *s;
    const query *q;
    ccz_lattice_ciphertext *one, *acc; /* Enc(1), the sum */
    pthread_mutex_t mu;
    double setup; /* seconds spent encrypting the database, summed over workers */
} faithful_job;

/* The sample's mask: 1 - (k - q)^16, the power as SEAL's exponentiate_inplace makes it (the
 * product of 16 copies), the 1 an encryption of 1 added. */
static ccz_status faithful_mask(ccz_lattice_ciphertext **out, const faithful_job *j,
                                const ccz_lattice_ciphertext *k, const ccz_lattice_ciphertext *qn)
{
    const query *q = j->q;
    uint64_t t = q->t;
    ccz_lattice_ciphertext *copies[16] = {0}, *d = NULL;
    ccz_status s = CCZ_OK;
    for (unsigned i = 0; i < t - 1 && s == CCZ_OK; i++) {
        s = ccz_lattice_ciphertext_new(&copies[i], q->ctx);
        if (s == CCZ_OK)
            s = ccz_lattice_sub(copies[i], q->ctx, k, qn);
    }
    if (s == CCZ_OK)
        s = multiply_many(&d, copies, t - 1, q);
    else
        for (unsigned i = 0; i < t - 1; i++)
            ccz_lattice_ciphertext_free(copies[i]);
    if (s == CCZ_OK)
        s = ccz_lattice_bfv_mul_scalar(d, q->ctx, d, t - 1); /* negate */
    if (s == CCZ_OK)
        s = ccz_lattice_add(d, q->ctx, d, j->one);
    if (s) {
        ccz_lattice_ciphertext_free(d);
        return s;
    }
    *out = d;
    return CCZ_OK;
}

/* The entry encrypted under the client's key: 16 nibbles (zero past the key's end: the
 * sample's encrypt_zero) and the value. */
static ccz_status faithful_encrypt_entry(ccz_lattice_ciphertext **f, const faithful_job *j,
                                         size_t e)
{
    const query *q = j->q;
    const heq_entry *en = &j->s->db->e[e];
    ccz_lattice_plaintext *pt = NULL;
    CCZ_GUARD(ccz_lattice_plaintext_new(&pt, q->ctx));
    ccz_status s = CCZ_OK;
    for (unsigned i = 0; i <= CCZ_HEQ_KEY_CTS && s == CCZ_OK; i++) {
        if (i < CCZ_HEQ_KEY_CTS)
            s = constant(pt, q->ctx, heq_nibble(en->key, i));
        else
            s = value_plain(pt, q->ctx,
                            CCZ_SPAN(j->s->db->text.ptr + en->value_off, en->value_len));
        if (s == CCZ_OK)
            s = ccz_lattice_ciphertext_new(&f[i], q->ctx);
        if (s == CCZ_OK)
            s = ccz_lattice_encrypt(f[i], q->ctx, q->pk, pt);
    }
    ccz_lattice_plaintext_free(pt);
    return s;
}

static ccz_status faithful_entry(void *arg, size_t e, void *local)
{
    (void)local;
    faithful_job *j = arg;
    const query *q = j->q;
    ccz_lattice_ciphertext *f[CCZ_HEQ_KEY_CTS + 1] = {0}, *masks[CCZ_HEQ_KEY_CTS + 1] = {0};
    ccz_lattice_ciphertext *combined = NULL, *r = NULL;
    double t0 = heq_now();
    ccz_status s = faithful_encrypt_entry(f, j, e);
    double t1 = heq_now();
    /* the sample makes Enc(0) + Enc(1) for each entry and leaves it unused: kept, as its cost
     * is part of the search it times */
    ccz_lattice_plaintext *zero = NULL;
    if (s == CCZ_OK)
        s = ccz_lattice_plaintext_new(&zero, q->ctx);
    if (s == CCZ_OK)
        s = ccz_lattice_ciphertext_new(&combined, q->ctx);
    if (s == CCZ_OK)
        s = ccz_lattice_encrypt(combined, q->ctx, q->pk, zero);
    if (s == CCZ_OK)
        s = ccz_lattice_add(combined, q->ctx, combined, j->one);
    for (unsigned i = 0; i < CCZ_HEQ_KEY_CTS && s == CCZ_OK; i++)
        s = faithful_mask(&masks[i], j, f[i], q->q[i]);
    if (s == CCZ_OK) {
        masks[CCZ_HEQ_KEY_CTS] = f[CCZ_HEQ_KEY_CTS];
        f[CCZ_HEQ_KEY_CTS] = NULL;
        s = multiply_many(&r, masks, CCZ_HEQ_KEY_CTS + 1, q);
    }
    if (s == CCZ_OK) {
        pthread_mutex_lock(&j->mu);
        s = ccz_lattice_add(j->acc, q->ctx, j->acc, r);
        j->setup += t1 - t0;
        pthread_mutex_unlock(&j->mu);
    }
    for (unsigned i = 0; i <= CCZ_HEQ_KEY_CTS; i++) {
        ccz_lattice_ciphertext_free(f[i]);
        ccz_lattice_ciphertext_free(masks[i]);
    }
    ccz_lattice_plaintext_free(zero);
    ccz_lattice_ciphertext_free(combined);
    ccz_lattice_ciphertext_free(r);
    return s;
}

static ccz_status faithful(ccz_lattice_ciphertext *acc, ccz_heq_answer *out,
                           const ccz_heq_server *s, const query *q)
{
    faithful_job j = {.s = s, .q = q, .acc = acc};
    ccz_lattice_plaintext *pt = NULL;
    pthread_mutex_init(&j.mu, NULL);
    double t0 = heq_now();
    ccz_status st = ccz_lattice_plaintext_new(&pt, q->ctx);
    if (st == CCZ_OK)
        st = ccz_lattice_ciphertext_new(&j.one, q->ctx);
    if (st == CCZ_OK)
        st = constant(pt, q->ctx, 1);
    if (st == CCZ_OK)
        st = ccz_lattice_encrypt(j.one, q->ctx, q->pk, pt);
    if (st == CCZ_OK) /* the sum starts as Enc(0), as the sample's */
        st = constant(pt, q->ctx, 0);
    if (st == CCZ_OK)
        st = ccz_lattice_encrypt(acc, q->ctx, q->pk, pt);
    if (st == CCZ_OK)
        st = pool_run(&q->pool, s->db->n, faithful_entry, &j, NULL, NULL);
    unsigned w = q->pool.threads ? q->pool.threads : ccz_cpu_count();
    if (w > s->db->n)
        w = (unsigned)s->db->n;
    out->setup_seconds = j.setup / w;
    out->search_seconds = heq_now() - t0 - out->setup_seconds;
    ccz_lattice_plaintext_free(pt);
    ccz_lattice_ciphertext_free(j.one);
    pthread_mutex_destroy(&j.mu);
    return st;
}

/* ---- fast ---------------------------------------------------------------------------------------*/

static bool use_powers(const fast_plan *p, unsigned i)
{
    return 4u * p->n_vals[i] > 15u; /* 4 squarings per value against 15 products once */
}

static void batch_free(batch *b)
{
    for (int l = 0; l < 3; l++)
        free(b->lv[l]);
    free(b->root);
}

static void fast_plan_free(fast_plan *p)
{
    for (size_t i = 0; i < p->n_batches; i++)
        batch_free(&p->batches[i]);
    free(p->batches);
    free(p->order);
    free(p->value);
}

/* The index of node (a, b) in lv[0..*n), appended when new. */
static uint32_t node_of(node *lv, size_t *n, uint32_t a, uint32_t b)
{
    for (size_t i = 0; i < *n; i++)
        if (lv[i].a == a && lv[i].b == b)
            return (uint32_t)i;
    lv[*n] = (node){a, b};
    return (uint32_t)(*n)++;
}

/* The shared product tree of one batch: level 1 joins the masks of a byte's two nibbles, level
 * 2 two bytes, level 3 four; the entry is the product of its two level-3 nodes. */
static ccz_status batch_plan(batch *b, const fast_plan *p, const ccz_heq_db *db)
{
    size_t per[3] = {8, 4, 2};
    for (int l = 0; l < 3; l++) {
        b->lv[l] = calloc(per[l] * b->count, sizeof *b->lv[l]);
        CCZ_ENSURE(b->lv[l], CCZ_ERR_NOMEM, "out of memory");
    }
    b->root = calloc(b->count, sizeof *b->root);
    CCZ_ENSURE(b->root, CCZ_ERR_NOMEM, "out of memory");
    for (size_t k = 0; k < b->count; k++) {
        const heq_entry *e = &db->e[p->order[b->first + k]];
        uint32_t ids[8];
        for (unsigned g = 0; g < 8; g++)
            ids[g] = node_of(b->lv[0], &b->n[0], p->leaf_of[2 * g][heq_nibble(e->key, 2 * g)],
                             p->leaf_of[2 * g + 1][heq_nibble(e->key, 2 * g + 1)]);
        for (unsigned g = 0; g < 4; g++)
            ids[g] = node_of(b->lv[1], &b->n[1], ids[2 * g], ids[2 * g + 1]);
        for (unsigned g = 0; g < 2; g++)
            ids[g] = node_of(b->lv[2], &b->n[2], ids[2 * g], ids[2 * g + 1]);
        b->root[k][0] = ids[0];
        b->root[k][1] = ids[1];
    }
    return CCZ_OK;
}

static int by_entry_key(const void *x, const void *y, void *arg)
{
    const ccz_heq_db *db = arg;
    return memcmp(db->e[*(const size_t *)x].key, db->e[*(const size_t *)y].key, CCZ_HEQ_KEY_BYTES);
}

static ccz_status fast_plan_new(fast_plan *p, const ccz_heq_db *db, const ccz_lattice_context *ctx)
{
    memset(p->leaf_of, 0xff, sizeof p->leaf_of);
    for (size_t k = 0; k < db->n; k++)
        for (unsigned i = 0; i < CCZ_HEQ_KEY_CTS; i++) {
            unsigned v = heq_nibble(db->e[k].key, i);
            if (p->leaf_of[i][v] == UINT32_MAX) {
                p->leaf_of[i][v] = (uint32_t)p->n_leaves++;
                p->n_vals[i]++;
            }
        }
    p->order = malloc(db->n * sizeof *p->order);
    CCZ_ENSURE(p->order, CCZ_ERR_NOMEM, "out of memory");
    for (size_t k = 0; k < db->n; k++)
        p->order[k] = k;
    qsort_r(p->order, db->n, sizeof *p->order, by_entry_key, (void *)db);
    size_t n_batches = (db->n + FAST_BATCH - 1) / FAST_BATCH;
    p->batches = calloc(n_batches, sizeof *p->batches);
    CCZ_ENSURE(p->batches, CCZ_ERR_NOMEM, "out of memory");
    p->n_batches = n_batches; /* fast_plan_free's count: only batches there are */
    for (size_t b = 0; b < p->n_batches; b++) {
        p->batches[b].first = b * FAST_BATCH;
        p->batches[b].count =
            db->n - b * FAST_BATCH < FAST_BATCH ? db->n - b * FAST_BATCH : FAST_BATCH;
        CCZ_GUARD(batch_plan(&p->batches[b], p, db));
    }
    p->value = calloc(db->n, sizeof *p->value);
    CCZ_ENSURE(p->value, CCZ_ERR_NOMEM, "out of memory");
    for (size_t k = 0; k < db->n; k++) {
        CCZ_GUARD(ccz_lattice_plaintext_new(&p->value[k], ctx));
        CCZ_GUARD(value_plain(p->value[k], ctx,
                              CCZ_SPAN(db->text.ptr + db->e[k].value_off, db->e[k].value_len)));
    }
    return CCZ_OK;
}

typedef struct {
    const ccz_heq_server *s;
    const query *q;
    ccz_lattice_ciphertext **leaf;
    const batch *b;
    ccz_lattice_ciphertext **below, **level; /* the level read, the level made */
    int lv;
    ccz_lattice_ciphertext *acc;
    bool acc_set; /* acc holds a sum (before: nothing) */
    pthread_mutex_t mu;
} fast_job;

/* A worker's sum of entries. */
typedef struct {
    ccz_lattice_ciphertext *c;
    bool set;
} partial;

/* The leaves of position i by the powers of its nibble q: (q - v)^16 = sum over k of
 * v^(16 - k) q^k mod 17 (the binomial coefficients C(16, k) are (-1)^k mod 17), so every
 * mask 1 - (q - v)^16 is a combination of q, q^2, ..., q^16 with small coefficients. */
static ccz_status leaves_by_powers(fast_job *j, unsigned i)
{
    const query *q = j->q;
    const ccz_lattice_context *ctx = q->ctx;
    ccz_lattice_ciphertext *pw[17] = {0}, *tmp = NULL;
    ccz_lattice_plaintext *pt = NULL;
    ccz_status s = ccz_lattice_ciphertext_new(&tmp, ctx);
    if (s == CCZ_OK)
        s = ccz_lattice_plaintext_new(&pt, ctx);
    pw[1] = q->q[i];
    for (unsigned k = 2; k <= 16 && s == CCZ_OK; k++) {
        unsigned h = k / 2; /* q^k = q^h q^(k - h): depth ceil(log2 k) */
        s = ccz_lattice_ciphertext_new(&pw[k], ctx);
        if (s == CCZ_OK)
            s = ccz_lattice_mul(pw[k], ctx, pw[h], pw[k - h], q->rk);
    }
    for (unsigned v = 0; v < 16 && s == CCZ_OK; v++) {
        uint32_t id = j->s->fast.leaf_of[i][v];
        if (id == UINT32_MAX)
            continue;
        ccz_lattice_ciphertext *m = j->leaf[id];
        /* m = -(q^16 + sum_{k=1}^{15} v^(16-k) q^k) + 1 - v^16 */
        s = ccz_lattice_bfv_mul_scalar(m, ctx, pw[16], q->t - 1);
        uint64_t c = 1;
        for (unsigned k = 15; k >= 1 && s == CCZ_OK; k--) {
            c = c * v % q->t; /* v^(16 - k) */
            if (c == 0)
                break;
            s = ccz_lattice_bfv_mul_scalar(tmp, ctx, pw[k], q->t - c);
            if (s == CCZ_OK)
                s = ccz_lattice_add(m, ctx, m, tmp);
        }
        if (s == CCZ_OK)
            s = constant(pt, ctx, v ? 0 : 1);
        if (s == CCZ_OK)
            s = ccz_lattice_add_plain(m, ctx, m, pt);
    }
    for (unsigned k = 2; k <= 16; k++)
        ccz_lattice_ciphertext_free(pw[k]);
    ccz_lattice_ciphertext_free(tmp);
    ccz_lattice_plaintext_free(pt);
    return s;
}

/* One leaf by repeated squaring: 1 - (q - v)^16 in four squarings. */
static ccz_status leaf_by_squaring(fast_job *j, unsigned i, unsigned v)
{
    const query *q = j->q;
    const ccz_lattice_context *ctx = q->ctx;
    ccz_lattice_ciphertext *m =
        j->s->fast.leaf_of[i][v] == UINT32_MAX ? NULL : j->leaf[j->s->fast.leaf_of[i][v]];
    ccz_lattice_plaintext *pt = NULL;
    CCZ_GUARD(ccz_lattice_plaintext_new(&pt, ctx));
    ccz_status s = constant(pt, ctx, (q->t - v) % q->t);
    if (s == CCZ_OK)
        s = ccz_lattice_add_plain(m, ctx, q->q[i], pt);
    for (int r = 0; r < 4 && s == CCZ_OK; r++)
        s = ccz_lattice_mul(m, ctx, m, m, q->rk);
    if (s == CCZ_OK)
        s = ccz_lattice_bfv_mul_scalar(m, ctx, m, q->t - 1);
    if (s == CCZ_OK)
        s = constant(pt, ctx, 1);
    if (s == CCZ_OK)
        s = ccz_lattice_add_plain(m, ctx, m, pt);
    ccz_lattice_plaintext_free(pt);
    return s;
}

/* Leaf tasks: one per position that uses powers, one per (position, value) squared. */
typedef struct {
    uint8_t pos, val;
    bool powers;
} leaf_task;

typedef struct {
    fast_job *j;
    leaf_task *t;
} leaf_job;

static ccz_status leaf_task_run(void *arg, size_t i, void *local)
{
    (void)local;
    leaf_job *lj = arg;
    const leaf_task *t = &lj->t[i];
    ccz_status s =
        t->powers ? leaves_by_powers(lj->j, t->pos) : leaf_by_squaring(lj->j, t->pos, t->val);
    if (s)
        return s;
    /* every leaf of this task down to the primes the tree starts with */
    for (unsigned v = 0; v < 16; v++) {
        uint32_t id = lj->j->s->fast.leaf_of[t->pos][v];
        if (id != UINT32_MAX && (t->powers || v == t->val))
            CCZ_GUARD(switch_to(lj->j->leaf[id], lj->j->q->ctx, fast_keep_leaves));
    }
    return CCZ_OK;
}

static ccz_status fast_leaves(fast_job *j)
{
    const fast_plan *p = &j->s->fast;
    leaf_task tasks[CCZ_HEQ_KEY_CTS * 16];
    size_t n = 0;
    for (unsigned i = 0; i < CCZ_HEQ_KEY_CTS; i++) {
        if (use_powers(p, i)) {
            tasks[n++] = (leaf_task){(uint8_t)i, 0, true};
            continue;
        }
        for (unsigned v = 0; v < 16; v++)
            if (p->leaf_of[i][v] != UINT32_MAX)
                tasks[n++] = (leaf_task){(uint8_t)i, (uint8_t)v, false};
    }
    leaf_job lj = {j, tasks};
    return pool_run(&j->q->pool, n, leaf_task_run, &lj, NULL, NULL);
}

static ccz_status node_task(void *arg, size_t i, void *local)
{
    (void)local;
    fast_job *j = arg;
    const node *nd = &j->b->lv[j->lv - 1][i];
    CCZ_GUARD(ccz_lattice_ciphertext_new(&j->level[i], j->q->ctx));
    ccz_lattice_ciphertext *m = j->level[i];
    CCZ_GUARD(ccz_lattice_mul(m, j->q->ctx, j->below[nd->a], j->below[nd->b], j->q->rk));
    if (j->lv == 2)
        return switch_to(m, j->q->ctx, fast_keep_level2);
    return ccz_lattice_ciphertext_shrink(m);
}

static ccz_status acc_new(void *arg, void **local)
{
    fast_job *j = arg;
    partial *p = calloc(1, sizeof *p);
    CCZ_ENSURE(p, CCZ_ERR_NOMEM, "out of memory");
    *local = p;
    return ccz_lattice_ciphertext_new(&p->c, j->q->ctx);
}

static ccz_status acc_done(void *arg, void *local)
{
    fast_job *j = arg;
    partial *p = local;
    if (!p)
        return CCZ_OK;
    ccz_status s = CCZ_OK;
    if (p->set) {
        pthread_mutex_lock(&j->mu);
        s = j->acc_set ? ccz_lattice_add(j->acc, j->q->ctx, j->acc, p->c)
                       : ccz_lattice_ciphertext_copy(j->acc, p->c);
        j->acc_set = true;
        pthread_mutex_unlock(&j->mu);
    }
    ccz_lattice_ciphertext_free(p->c);
    free(p);
    return s;
}

/* An entry: its two level-3 nodes multiplied (left with three components), times its value,
 * added to the worker's sum. */
static ccz_status entry_task(void *arg, size_t k, void *local)
{
    fast_job *j = arg;
    const ccz_lattice_context *ctx = j->q->ctx;
    ccz_lattice_ciphertext *m = NULL;
    CCZ_GUARD(ccz_lattice_ciphertext_new(&m, ctx));
    ccz_status s =
        ccz_lattice_mul(m, ctx, j->below[j->b->root[k][0]], j->below[j->b->root[k][1]], NULL);
    if (s == CCZ_OK)
        s = ccz_lattice_mul_plain(m, ctx, m, j->s->fast.value[j->s->fast.order[j->b->first + k]]);
    partial *p = local;
    if (s == CCZ_OK)
        s = p->set ? ccz_lattice_add(p->c, ctx, p->c, m) : ccz_lattice_ciphertext_copy(p->c, m);
    p->set = true;
    ccz_lattice_ciphertext_free(m);
    return s;
}

static ccz_status fast_batch(fast_job *j, const batch *b)
{
    const query *q = j->q;
    ccz_lattice_ciphertext **lv[3] = {0};
    ccz_status s = CCZ_OK;
    j->b = b;
    j->below = j->leaf;
    for (int l = 1; l <= 3 && s == CCZ_OK; l++) {
        lv[l - 1] = calloc(b->n[l - 1], sizeof *lv[l - 1]); /* made by node_task */
        if (!lv[l - 1])
            s = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
        j->lv = l;
        j->level = lv[l - 1];
        if (s == CCZ_OK)
            s = pool_run(&q->pool, b->n[l - 1], node_task, j, NULL, NULL);
        if (l >= 2) { /* the level below is no longer needed */
            free_cts(lv[l - 2], b->n[l - 2]);
            lv[l - 2] = NULL;
        }
        j->below = lv[l - 1];
    }
    if (s == CCZ_OK)
        s = pool_run(&q->pool, b->count, entry_task, j, acc_new, acc_done);
    for (int l = 0; l < 3; l++)
        free_cts(lv[l], lv[l] ? b->n[l] : 0);
    return s;
}

static ccz_status fast(ccz_lattice_ciphertext *acc, ccz_heq_answer *out, const ccz_heq_server *s,
                       const query *q)
{
    fast_job j = {.s = s, .q = q, .acc = acc};
    pthread_mutex_init(&j.mu, NULL);
    double t0 = heq_now();
    ccz_status st = new_cts(&j.leaf, s->fast.n_leaves, q->ctx);
    if (st == CCZ_OK)
        st = fast_leaves(&j);
    for (size_t b = 0; b < s->fast.n_batches && st == CCZ_OK; b++)
        st = fast_batch(&j, &s->fast.batches[b]);
    if (st == CCZ_OK) /* the sum of products, relinearized once */
        st = ccz_lattice_relinearize(acc, q->ctx, q->rk);
    out->search_seconds = heq_now() - t0;
    free_cts(j.leaf, j.leaf ? s->fast.n_leaves : 0);
    pthread_mutex_destroy(&j.mu);
    return st;
}

/* ---- packed -------------------------------------------------------------------------------------*/

typedef struct {
    const query *q;
    ccz_lattice_plaintext *negk[CCZ_HEQ_KEY_CTS]; /* -(the key nibbles), slot by slot */
    ccz_lattice_ciphertext *mask[CCZ_HEQ_KEY_CTS];
    ccz_lattice_ciphertext *level[CCZ_HEQ_KEY_CTS];
    int stage; /* the tree level being made */
} packed_job;

/* Multiplies f[0..n) pairwise into a balanced tree; the result in f[0], the others freed. */
static ccz_status tree_product(ccz_lattice_ciphertext **f, size_t n, const query *q)
{
    for (size_t w = 1; w < n; w *= 2)
        for (size_t i = 0; i + w < n; i += 2 * w) {
            CCZ_GUARD(ccz_lattice_mul(f[i], q->ctx, f[i], f[i + w], q->rk));
            ccz_lattice_ciphertext_free(f[i + w]);
            f[i + w] = NULL;
        }
    return CCZ_OK;
}

/* mask i: prod over u = 1..15 of (u^2 - d^2), d = q_i - k_i slot by slot: (15!)^2 where the
 * nibbles agree, 0 where they do not (|d| <= 15, and one factor is 0). */
static ccz_status packed_mask(void *arg, size_t i, void *local)
{
    (void)local;
    packed_job *j = arg;
    const query *q = j->q;
    const ccz_lattice_context *ctx = q->ctx;
    ccz_lattice_ciphertext *d = NULL, *f[15] = {0};
    ccz_lattice_plaintext *pt = NULL;
    ccz_status s = ccz_lattice_ciphertext_new(&d, ctx);
    if (s == CCZ_OK)
        s = ccz_lattice_plaintext_new(&pt, ctx);
    if (s == CCZ_OK)
        s = ccz_lattice_add_plain(d, ctx, q->q[i], j->negk[i]);
    if (s == CCZ_OK)
        s = ccz_lattice_mul(d, ctx, d, d, q->rk);
    if (s == CCZ_OK)
        s = switch_to(d, ctx, packed_keep_square);
    if (s == CCZ_OK)
        s = ccz_lattice_bfv_mul_scalar(d, ctx, d, q->t - 1);
    for (unsigned u = 1; u <= 15 && s == CCZ_OK; u++) {
        s = ccz_lattice_ciphertext_new(&f[u - 1], ctx);
        if (s == CCZ_OK)
            s = constant(pt, ctx, u * u);
        if (s == CCZ_OK)
            s = ccz_lattice_add_plain(f[u - 1], ctx, d, pt);
    }
    if (s == CCZ_OK)
        s = tree_product(f, 15, q);
    if (s == CCZ_OK)
        s = switch_to(f[0], ctx, packed_keep_masks);
    if (s == CCZ_OK) {
        j->mask[i] = f[0];
        f[0] = NULL;
    }
    for (int u = 0; u < 15; u++)
        ccz_lattice_ciphertext_free(f[u]);
    ccz_lattice_ciphertext_free(d);
    ccz_lattice_plaintext_free(pt);
    return s;
}

/* One product of the tree of the 16 masks at stage w (pairs 2 w apart). */
static ccz_status packed_tree_task(void *arg, size_t k, void *local)
{
    (void)local;
    packed_job *j = arg;
    size_t w = (size_t)1 << j->stage, i = 2 * w * k;
    CCZ_GUARD(ccz_lattice_mul(j->mask[i], j->q->ctx, j->mask[i], j->mask[i + w], j->q->rk));
    ccz_lattice_ciphertext_free(j->mask[i + w]);
    j->mask[i + w] = NULL;
    return switch_to(j->mask[i], j->q->ctx, packed_keep_tree[j->stage]);
}

/* (15!)^-32 mod t: the masks' product is (15!)^32 where every nibble agrees */
static uint64_t packed_unscale(uint64_t t)
{
    uint64_t c = 1;
    for (uint64_t u = 1; u <= 15; u++)
        c = c * (u * u % t) % t;
    uint64_t r = 1, b = c, e = 16 * (t - 2); /* (c^-1)^16 = c^(16 (t - 2)) */
    while (e) {
        if (e & 1)
            r = r * b % t;
        b = b * b % t;
        e >>= 1;
    }
    return r;
}

/* Block b's plaintexts: the key nibbles (negated) and the values (chunk c of the entry in column
 * col at slot c * block + col, scaled), entries placed by perm. */
static ccz_status packed_plaintexts(packed_job *j, ccz_lattice_plaintext *value,
                                    const ccz_heq_server *s, const size_t *perm, size_t b)
{
    const query *q = j->q;
    size_t n = ccz_lattice_slots(q->ctx), E = s->block;
    uint64_t *m = calloc(n, sizeof *m), unscale = packed_unscale(q->t);
    CCZ_ENSURE(m, CCZ_ERR_NOMEM, "out of memory");
    size_t first = b * E, count = s->db->n - first < E ? s->db->n - first : E;
    ccz_status st = CCZ_OK;
    for (unsigned i = 0; i < CCZ_HEQ_KEY_CTS && st == CCZ_OK; i++) {
        memset(m, 0, n * sizeof *m);
        for (size_t col = 0; col < count; col++) {
            unsigned v = heq_nibble(s->db->e[perm[first + col]].key, i);
            for (unsigned c = 0; c < s->chunks; c++)
                m[c * E + col] = (q->t - v) % q->t;
        }
        st = ccz_lattice_bfv_encode(j->negk[i], q->ctx, m, n);
    }
    memset(m, 0, n * sizeof *m);
    for (size_t col = 0; col < count && st == CCZ_OK; col++) {
        const heq_entry *e = &s->db->e[perm[first + col]];
        const uint8_t *v = s->db->text.ptr + e->value_off;
        for (unsigned c = 0; c < s->chunks; c++) {
            uint64_t hi = 2 * c < e->value_len ? v[2 * c] : 0,
                     lo = 2 * c + 1 < e->value_len ? v[2 * c + 1] : 0;
            m[c * E + col] = (hi << 8 | lo) * unscale % q->t;
        }
    }
    if (st == CCZ_OK)
        st = ccz_lattice_bfv_encode(value, q->ctx, m, n);
    free(m);
    return st;
}

/* A random order of the entries for this answer: the slot an answer's value comes from tells
 * the client nothing. */
static ccz_status shuffle(size_t *perm, size_t n)
{
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    for (size_t i = n; i > 1; i--) {
        uint64_t r;
        CCZ_ENSURE(RAND_bytes((uint8_t *)&r, sizeof r) == 1, CCZ_ERR_CRYPTO, "no randomness");
        size_t k = (size_t)(r % i), tmp = perm[i - 1]; /* bias below 2^-40 */
        perm[i - 1] = perm[k];
        perm[k] = tmp;
    }
    return CCZ_OK;
}

static ccz_status packed_block(ccz_lattice_ciphertext *acc, packed_job *j, const ccz_heq_server *s,
                               const size_t *perm, size_t b, double *setup)
{
    const query *q = j->q;
    ccz_lattice_plaintext *value = NULL;
    double t0 = heq_now();
    ccz_status st = ccz_lattice_plaintext_new(&value, q->ctx);
    if (st == CCZ_OK)
        st = packed_plaintexts(j, value, s, perm, b);
    *setup += heq_now() - t0;
    if (st == CCZ_OK)
        st = pool_run(&q->pool, CCZ_HEQ_KEY_CTS, packed_mask, j, NULL, NULL);
    for (j->stage = 0; j->stage < 4 && st == CCZ_OK; j->stage++)
        st = pool_run(&q->pool, CCZ_HEQ_KEY_CTS >> (j->stage + 1), packed_tree_task, j, NULL, NULL);
    if (st == CCZ_OK)
        st = ccz_lattice_mul_plain(j->mask[0], q->ctx, j->mask[0], value);
    if (st == CCZ_OK && b == 0)
        st = ccz_lattice_ciphertext_copy(acc, j->mask[0]);
    else if (st == CCZ_OK)
        st = ccz_lattice_add(acc, q->ctx, acc, j->mask[0]);
    for (int i = 0; i < CCZ_HEQ_KEY_CTS; i++) {
        ccz_lattice_ciphertext_free(j->mask[i]);
        j->mask[i] = NULL;
    }
    ccz_lattice_plaintext_free(value);
    return st;
}

static ccz_status packed(ccz_lattice_ciphertext *acc, ccz_heq_answer *out, const ccz_heq_server *s,
                         const query *q)
{
    packed_job j = {.q = q};
    size_t *perm = malloc(s->db->n * sizeof *perm);
    CCZ_ENSURE(perm, CCZ_ERR_NOMEM, "out of memory");
    double t0 = heq_now(), setup = 0;
    ccz_status st = shuffle(perm, s->db->n);
    for (int i = 0; i < CCZ_HEQ_KEY_CTS && st == CCZ_OK; i++)
        st = ccz_lattice_plaintext_new(&j.negk[i], q->ctx);
    size_t blocks = (s->db->n + s->block - 1) / s->block;
    for (size_t b = 0; b < blocks && st == CCZ_OK; b++)
        st = packed_block(acc, &j, s, perm, b, &setup);
    out->block = s->block;
    out->chunks = s->chunks;
    out->setup_seconds = setup;
    out->search_seconds = heq_now() - t0 - setup;
    for (int i = 0; i < CCZ_HEQ_KEY_CTS; i++) {
        ccz_lattice_plaintext_free(j.negk[i]);
        ccz_lattice_ciphertext_free(j.mask[i]);
    }
    free(perm);
    return st;
}

/* ---- the server ---------------------------------------------------------------------------------*/

ccz_status ccz_heq_server_new(ccz_heq_server **out, const ccz_heq_server_opts *o)
{
    *out = NULL;
    CCZ_ENSURE(o && o->version == CCZ_HEQ_SERVER_OPTS_VERSION, CCZ_ERR_INVALID_ARGUMENT,
               "server options: version %u, expected %u", o ? o->version : 0,
               CCZ_HEQ_SERVER_OPTS_VERSION);
    CCZ_ENSURE(o->db, CCZ_ERR_INVALID_ARGUMENT, "server options: a database is needed");
    ccz_heq_server *s = calloc(1, sizeof *s);
    CCZ_ENSURE(s, CCZ_ERR_NOMEM, "out of memory");
    s->db = o->db;
    s->threads = o->threads;
    pthread_mutex_init(&s->mu, NULL);
    ccz_lattice_params p;
    ccz_status st = ccz_heq_params(&p, CCZ_HEQ_FAST);
    if (st == CCZ_OK)
        st = ccz_lattice_context_new(&s->ctx17, &p);
    if (st == CCZ_OK)
        st = fast_plan_new(&s->fast, o->db, s->ctx17);
    if (st == CCZ_OK) { /* packed: N = 16384 slots, 2-byte chunks */
        s->chunks = o->db->max_value ? (unsigned)((o->db->max_value + 1) / 2) : 1;
        s->block = (unsigned)((1u << 14) / s->chunks);
    }
    if (st) {
        ccz_heq_server_free(s);
        return st;
    }
    *out = s;
    return CCZ_OK;
}

void ccz_heq_server_free(ccz_heq_server *s)
{
    if (!s)
        return;
    for (size_t k = 0; s->fast.value && k < s->db->n; k++)
        ccz_lattice_plaintext_free(s->fast.value[k]);
    fast_plan_free(&s->fast);
    ccz_lattice_context_free(s->ctx17);
    ccz_lattice_context_free(s->ctx_packed);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

const ccz_lattice_context *ccz_heq_server_context(const ccz_heq_server *s, ccz_heq_algorithm a)
{
    if (a != CCZ_HEQ_PACKED)
        return s->ctx17;
    ccz_heq_server *m = (ccz_heq_server *)s; /* the lock only */
    pthread_mutex_lock(&m->mu);
    const ccz_lattice_context *ctx = s->ctx_packed;
    pthread_mutex_unlock(&m->mu);
    return ctx;
}

/* The answer re-randomized by a fresh encryption of zero (the sample's sum starts as one) and
 * switched to the primes the algorithm answers with. */
static ccz_status finish(ccz_lattice_ciphertext *acc, const query *q, unsigned keep)
{
    ccz_lattice_ciphertext *z = NULL;
    ccz_lattice_plaintext *pt = NULL;
    ccz_status s = ccz_lattice_ciphertext_new(&z, q->ctx);
    if (s == CCZ_OK)
        s = ccz_lattice_plaintext_new(&pt, q->ctx);
    if (s == CCZ_OK)
        s = constant(pt, q->ctx, 0);
    if (s == CCZ_OK)
        s = ccz_lattice_encrypt(z, q->ctx, q->pk, pt);
    if (s == CCZ_OK)
        s = switch_to(z, q->ctx, ccz_lattice_ciphertext_level(acc));
    if (s == CCZ_OK)
        s = ccz_lattice_add(acc, q->ctx, acc, z);
    if (s == CCZ_OK)
        s = switch_to(acc, q->ctx, keep);
    ccz_lattice_ciphertext_free(z);
    ccz_lattice_plaintext_free(pt);
    return s;
}

ccz_status ccz_heq_server_answer(ccz_heq_answer *out, ccz_heq_server *s,
                                 const ccz_heq_query_view *v)
{
    memset(out, 0, sizeof *out);
    query q;
    ccz_lattice_ciphertext *acc = NULL;
    double t0 = heq_now();
    ccz_status st = load_query(&q, s, v);
    out->load_seconds = heq_now() - t0;
    if (st == CCZ_OK)
        st = ccz_lattice_ciphertext_new(&acc, q.ctx);
    if (st == CCZ_OK && v->algorithm == CCZ_HEQ_FAITHFUL)
        st = faithful(acc, out, s, &q);
    else if (st == CCZ_OK && v->algorithm == CCZ_HEQ_FAST)
        st = fast(acc, out, s, &q);
    else if (st == CCZ_OK)
        st = packed(acc, out, s, &q);
    if (st == CCZ_OK && v->algorithm == CCZ_HEQ_FAST)
        st = finish(acc, &q, fast_keep_answer);
    else if (st == CCZ_OK && v->algorithm == CCZ_HEQ_PACKED)
        st = finish(acc, &q, packed_keep_answer);
    if (st == CCZ_OK)
        st = ccz_lattice_ciphertext_save(&out->value, acc);
    ccz_lattice_ciphertext_free(acc);
    query_free(&q);
    if (st)
        ccz_buf_free(&out->value);
    return st;
}
