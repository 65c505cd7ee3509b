/* SPDX-License-Identifier: Apache-2.0 */
/* The aggregator's side of secure aggregation (src/svc/fl/hfl_secagg.h): one round in four
 * phases, each closed when every client expected sent its part or at the phase's deadline.
 * Keys: the participants' X25519 keys (U1). Shares: each sends every peer its shares of its mask
 * key and self-mask seed, encrypted to the peer (U2: those that did). Upload: masked updates,
 * summed in Z_2^32 as they come (U3). Unmask: survivors give the shares that remove the dropped
 * clients' pairwise masks and the survivors' self masks; t of them suffice. What clients send is
 * untrusted: sizes are checked before use, and a key rebuilt from shares must match the one
 * advertised. Runs on the RPC server's loop. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ccz/secagg.h"
#include "core/guard.h"
#include "core/listener.h"
#include "hfl_secagg.h"

#define SA_MAX 255              /* Shamir over GF(2^8): x = index + 1 <= 255 */
#define SHARE_PT (12 + 32 + 32) /* round, from, to (u32le), mask-key share, seed share */
#define SHARE_CT (SHARE_PT + CCZ_SECAGG_TAG)

enum { KEYS, SHARES, UPLOAD, UNMASK, OVER };

typedef struct {
    unsigned slot;
    const char *name;
    uint64_t examples;
    double weight, loss;
    bool keys, shared, uploaded, unmasked;
    uint8_t c_pk[32], s_pk[32];
    ccz_rpc_call *held;
} member;

struct hfl_sa {
    size_t dim;
    FILE *log;
    unsigned round, n, t, phase;
    int64_t phase_at;
    member m[SA_MAX];
    uint8_t *ct;          /* n x n encrypted shares, [from][to] */
    uint8_t *s_sh, *b_sh; /* n x n shares given to unmask, [responder][subject] */
    unsigned responders[SA_MAX], n_resp;
    uint32_t *sum;
    float *mean;
    char why[300];
};

ccz_status hfl_sa_new(hfl_sa **out, size_t dim, FILE *log)
{
    hfl_sa *a = calloc(1, sizeof *a);
    CCZ_ENSURE(a, CCZ_ERR_NOMEM, "out of memory");
    a->dim = dim;
    a->log = log;
    a->phase = OVER;
    a->sum = malloc(dim * sizeof *a->sum);
    a->mean = malloc(dim * sizeof *a->mean);
    a->ct = malloc((size_t)SA_MAX * SA_MAX * SHARE_CT);
    a->s_sh = malloc((size_t)SA_MAX * SA_MAX * 32);
    a->b_sh = malloc((size_t)SA_MAX * SA_MAX * 32);
    if (!a->sum || !a->mean || !a->ct || !a->s_sh || !a->b_sh) {
        hfl_sa_free(a);
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory for secure aggregation");
    }
    *out = a;
    return CCZ_OK;
}

static void release_all(hfl_sa *a, int code, const char *why)
{
    for (unsigned k = 0; k < a->n; k++) {
        member *m = &a->m[k];
        if (!m->held)
            continue;
        if (code && ccz_rpc_call_alive(m->held))
            (void)!ccz_rpc_finish(m->held, code, why);
        ccz_rpc_call_unref(m->held);
        m->held = NULL;
    }
}

void hfl_sa_free(hfl_sa *a)
{
    if (!a)
        return;
    release_all(a, 0, NULL);
    free(a->sum);
    free(a->mean);
    if (a->ct)
        OPENSSL_cleanse(a->ct, (size_t)SA_MAX * SA_MAX * SHARE_CT);
    if (a->s_sh)
        OPENSSL_cleanse(a->s_sh, (size_t)SA_MAX * SA_MAX * 32);
    if (a->b_sh)
        OPENSSL_cleanse(a->b_sh, (size_t)SA_MAX * SA_MAX * 32);
    free(a->ct);
    free(a->s_sh);
    free(a->b_sh);
    free(a);
}

void hfl_sa_close(hfl_sa *a, const char *why)
{
    release_all(a, CCZ_RPC_ABORTED, why);
    a->phase = OVER;
}

ccz_status hfl_sa_open(hfl_sa *a, unsigned round, const unsigned *slots, const uint64_t *examples,
                       const char *const *names, unsigned n)
{
    hfl_sa_close(a, "a new round opened");
    CCZ_ENSURE(n >= 1 && n <= SA_MAX, CCZ_ERR_INVALID_ARGUMENT,
               "%u participants (secure aggregation takes 1 to %d)", n, SA_MAX);
    memset(a->m, 0, sizeof a->m);
    for (unsigned k = 0; k < n; k++) {
        a->m[k].slot = slots[k];
        a->m[k].examples = examples[k];
        a->m[k].name = names[k];
    }
    a->n = n;
    a->t = 0;
    a->round = round;
    a->n_resp = 0;
    a->why[0] = 0;
    memset(a->sum, 0, a->dim * sizeof *a->sum);
    a->phase = KEYS;
    a->phase_at = listener_mono_ms();
    return CCZ_OK;
}

/* ---- phases ----------------------------------------------------------------------------------*/

static member *find(hfl_sa *a, unsigned slot, unsigned *index)
{
    for (unsigned k = 0; k < a->n; k++)
        if (a->m[k].slot == slot) {
            *index = k;
            return &a->m[k];
        }
    return NULL;
}

static hfl_sa_event fail(hfl_sa *a, const char *fmt, ...) CCZ_PRINTF(2, 3);
static hfl_sa_event fail(hfl_sa *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->why, sizeof a->why, fmt, ap);
    va_end(ap);
    hfl_sa_close(a, a->why);
    return HFL_SA_FAILED;
}

static void hold(member *m, ccz_rpc_call *call)
{
    ccz_rpc_call_ref(call);
    m->held = call;
}

static void answer(member *m, const ProtobufCMessage *msg)
{
    if (!m->held)
        return;
    if (ccz_rpc_call_alive(m->held))
        (void)!ccz_rpc_reply(m->held, msg);
    ccz_rpc_call_unref(m->held);
    m->held = NULL;
}

static void next_phase(hfl_sa *a, unsigned phase)
{
    a->phase = phase;
    a->phase_at = listener_mono_ms();
}

/* Keys are in: each advertiser hears the list, its index and its weight. */
static hfl_sa_event close_keys(hfl_sa *a)
{
    unsigned u1 = 0;
    double total = 0;
    for (unsigned k = 0; k < a->n; k++)
        if (a->m[k].keys) {
            u1++;
            total += (double)a->m[k].examples;
        }
    if (u1 == 0)
        return fail(a, "no participant advertised its keys");
    if (u1 == 1) /* a threshold of 1: the sum unmasked would be one client's update */
        return fail(a, "1 participant advertised its keys: its update alone would be the sum");
    a->t = u1 / 2 + 1;
    Cczfl__ClientKeys *ck = calloc(u1, sizeof *ck);
    Cczfl__ClientKeys **cp = calloc(u1, sizeof *cp);
    if (!ck || !cp) {
        free(ck);
        free(cp);
        return fail(a, "out of memory");
    }
    unsigned j = 0;
    for (unsigned k = 0; k < a->n; k++) {
        member *m = &a->m[k];
        if (!m->keys)
            continue;
        m->weight = (double)m->examples / total;
        cczfl__client_keys__init(&ck[j]);
        ck[j].index = k;
        ck[j].name = (char *)m->name;
        ck[j].c_pk = (ProtobufCBinaryData){32, m->c_pk};
        ck[j].s_pk = (ProtobufCBinaryData){32, m->s_pk};
        cp[j] = &ck[j];
        j++;
    }
    next_phase(a, SHARES);
    for (unsigned k = 0; k < a->n; k++) {
        member *m = &a->m[k];
        if (!m->keys)
            continue;
        Cczfl__KeyList l = CCZFL__KEY_LIST__INIT;
        l.round = a->round;
        l.threshold = a->t;
        l.you = k;
        l.weight = m->weight;
        l.n_clients = u1;
        l.clients = cp;
        answer(m, &l.base);
    }
    free(ck);
    free(cp);
    return HFL_SA_WAIT;
}

/* Shares are in: each sharer gets what the others sent it. */
static hfl_sa_event close_shares(hfl_sa *a)
{
    unsigned u2 = 0;
    for (unsigned k = 0; k < a->n; k++)
        u2 += a->m[k].shared;
    if (u2 < a->t)
        return fail(a, "%u clients shared their keys; %u are needed", u2, a->t);
    uint32_t from[SA_MAX];
    ProtobufCBinaryData sh[SA_MAX];
    next_phase(a, UPLOAD);
    for (unsigned k = 0; k < a->n; k++) {
        if (!a->m[k].shared)
            continue;
        size_t j = 0;
        for (unsigned f = 0; f < a->n; f++)
            if (f != k && a->m[f].shared) {
                from[j] = f;
                sh[j++] =
                    (ProtobufCBinaryData){SHARE_CT, a->ct + ((size_t)f * a->n + k) * SHARE_CT};
            }
        Cczfl__SharesForYou r = CCZFL__SHARES_FOR_YOU__INIT;
        r.round = a->round;
        r.n_from = j;
        r.from = from;
        r.n_shares = j;
        r.shares = sh;
        answer(&a->m[k], &r.base);
    }
    return HFL_SA_WAIT;
}

/* Uploads are in: survivors hear who survived and who dropped. */
static hfl_sa_event close_upload(hfl_sa *a)
{
    uint32_t surv[SA_MAX], drop[SA_MAX];
    size_t ns = 0, nd = 0;
    for (unsigned k = 0; k < a->n; k++) {
        if (a->m[k].uploaded)
            surv[ns++] = k;
        else if (a->m[k].shared)
            drop[nd++] = k;
    }
    if (ns < a->t)
        return fail(a, "%zu masked updates; %u are needed to unmask", ns, a->t);
    next_phase(a, UNMASK);
    Cczfl__UnmaskPlan p = CCZFL__UNMASK_PLAN__INIT;
    p.round = a->round;
    p.n_survivors = ns;
    p.survivors = surv;
    p.n_dropped = nd;
    p.dropped = drop;
    for (unsigned k = 0; k < a->n; k++)
        if (a->m[k].uploaded)
            answer(&a->m[k], &p.base);
    return HFL_SA_WAIT;
}

/* t survivors gave their shares: the dropped clients' pairwise masks and the survivors' self
 * masks come off the sum, which is decoded and divided by the survivors' weight. */
static hfl_sa_event unmask_sum(hfl_sa *a)
{
    uint8_t pick[SA_MAX][32], xs[SA_MAX], secret[32], pk[32];
    uint8_t(*pks)[32] = calloc(a->n, 32);
    bool *survived = calloc(a->n, sizeof *survived);
    if (!pks || !survived) {
        free(pks);
        free(survived);
        return fail(a, "out of memory");
    }
    double weight = 0;
    for (unsigned k = 0; k < a->n; k++) {
        memcpy(pks[k], a->m[k].s_pk, 32);
        survived[k] = a->m[k].uploaded;
        weight += survived[k] ? a->m[k].weight : 0;
    }
    for (unsigned i = 0; i < a->t; i++)
        xs[i] = (uint8_t)(a->responders[i] + 1);
    ccz_status s = CCZ_OK;
    for (unsigned k = 0; s == CCZ_OK && k < a->n; k++) {
        member *m = &a->m[k];
        if (!m->shared)
            continue;
        const uint8_t *from = m->uploaded ? a->b_sh : a->s_sh;
        for (unsigned i = 0; i < a->t; i++)
            memcpy(pick[i], from + ((size_t)a->responders[i] * a->n + k) * 32, 32);
        s = ccz_secagg_combine(secret, (const uint8_t(*)[32])pick, xs, a->t);
        if (s == CCZ_OK && m->uploaded) {
            s = ccz_secagg_self_mask(a->sum, a->dim, secret, -1);
        } else if (s == CCZ_OK) {
            s = ccz_secagg_public(pk, secret);
            if (s == CCZ_OK && CRYPTO_memcmp(pk, m->s_pk, 32))
                s = ccz_fail(CCZ_ERR_BAD_SIGNATURE,
                             "the shares of %s's mask key do not give its advertised key", m->name);
            if (s == CCZ_OK)
                s = ccz_secagg_unmask_dropped(a->sum, a->dim, k, secret, (const uint8_t(*)[32])pks,
                                              survived, a->n);
        }
    }
    OPENSSL_cleanse(secret, sizeof secret);
    OPENSSL_cleanse(pick, sizeof pick);
    free(pks);
    free(survived);
    if (s) {
        char d[256];
        snprintf(d, sizeof d, "%s", ccz_error_detail());
        ccz_error_clear();
        return fail(a, "unmasking failed: %s", d);
    }
    const double f = 1.0 / ((double)HFL_SA_SCALE * weight);
    for (size_t i = 0; i < a->dim; i++)
        a->mean[i] = (float)((double)(int32_t)a->sum[i] * f);
    a->phase = OVER;
    return HFL_SA_DONE;
}

/* ---- calls -----------------------------------------------------------------------------------*/

/* sum += the little-endian words at p, in Z_2^32 (the aggregator's one pass per update) */
static void add_words(uint32_t *restrict sum, const uint8_t *restrict p, size_t dim)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    for (size_t i = 0; i < dim; i++) {
        uint32_t w;
        memcpy(&w, p + 4 * i, 4);
        sum[i] += w;
    }
#else
    for (size_t i = 0; i < dim; i++)
        sum[i] += (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 | (uint32_t)p[4 * i + 2] << 16 |
                  (uint32_t)p[4 * i + 3] << 24;
#endif
}

/* The caller's member in the phase expected, or the call answered FAILED_PRECONDITION. */
static member *turn(hfl_sa *a, ccz_rpc_call *call, unsigned slot, unsigned round, unsigned phase,
                    unsigned *index)
{
    static const char *const names[] = {"AdvertiseKeys", "ShareKeys", "PushMasked", "Unmask"};
    member *m = a->phase != OVER && round == a->round ? find(a, slot, index) : NULL;
    char msg[200];
    if (!m) {
        snprintf(msg, sizeof msg, "%s for round %u: %s", names[phase], round,
                 a->phase == OVER || round != a->round ? "no secure round of that number is open"
                                                       : "this client does not take part in it");
    } else if (a->phase != phase) {
        snprintf(msg, sizeof msg, "%s for round %u out of turn (the round is at %s)", names[phase],
                 round, a->phase < 4 ? names[a->phase] : "its end");
        m = NULL;
    } else if (m->held) {
        snprintf(msg, sizeof msg, "%s: one call at a time", names[phase]);
        m = NULL;
    }
    if (!m)
        (void)!ccz_rpc_finish(call, CCZ_RPC_FAILED_PRECONDITION, msg);
    return m;
}

static bool all(const hfl_sa *a, size_t flag_off, size_t among_off)
{
    for (unsigned k = 0; k < a->n; k++) {
        const char *m = (const char *)&a->m[k];
        bool among = among_off == SIZE_MAX || m[among_off];
        if (among && !m[flag_off])
            return false;
    }
    return true;
}

#define ALL(a, flag, among) all(a, offsetof(member, flag), offsetof(member, among))

static void invalid(ccz_rpc_call *call, hfl_sa *a, const member *m, const char *what)
{
    if (a->log)
        fprintf(a->log, "ccz fl: %s: %s\n", m->name, what);
    (void)!ccz_rpc_finish(call, CCZ_RPC_INVALID_ARGUMENT, what);
}

hfl_sa_event hfl_sa_advertise(hfl_sa *a, ccz_rpc_call *call, unsigned slot,
                              const Cczfl__RoundKeys *r)
{
    unsigned k;
    member *m = turn(a, call, slot, r->round, KEYS, &k);
    if (!m)
        return HFL_SA_WAIT;
    if (m->keys) {
        (void)!ccz_rpc_finish(call, CCZ_RPC_ALREADY_EXISTS, "keys advertised already");
        return HFL_SA_WAIT;
    }
    if (r->c_pk.len != 32 || r->s_pk.len != 32 || !memcmp(r->c_pk.data, r->s_pk.data, 32)) {
        invalid(call, a, m, "keys rejected: two distinct 32-byte X25519 public keys");
        return HFL_SA_WAIT;
    }
    memcpy(m->c_pk, r->c_pk.data, 32);
    memcpy(m->s_pk, r->s_pk.data, 32);
    m->keys = true;
    hold(m, call);
    return all(a, offsetof(member, keys), SIZE_MAX) ? close_keys(a) : HFL_SA_WAIT;
}

hfl_sa_event hfl_sa_share(hfl_sa *a, ccz_rpc_call *call, unsigned slot, const Cczfl__KeyShares *r)
{
    unsigned k;
    member *m = turn(a, call, slot, r->round, SHARES, &k);
    if (!m)
        return HFL_SA_WAIT;
    if (!m->keys || m->shared) {
        (void)!ccz_rpc_finish(call, CCZ_RPC_FAILED_PRECONDITION,
                              m->shared ? "shares sent already" : "no keys advertised");
        return HFL_SA_WAIT;
    }
    /* one per advertiser in index order, the sender's own empty */
    size_t j = 0;
    bool ok = true;
    for (unsigned f = 0; ok && f < a->n; f++) {
        if (!a->m[f].keys)
            continue;
        ok = j < r->n_shares && r->shares[j].len == (f == k ? 0 : SHARE_CT);
        j++;
    }
    if (!ok || j != r->n_shares) {
        char msg[160];
        snprintf(msg, sizeof msg,
                 "shares rejected: one of %d bytes per advertised client (%zu), none for "
                 "itself",
                 SHARE_CT, j);
        invalid(call, a, m, msg);
        return HFL_SA_WAIT;
    }
    j = 0;
    for (unsigned f = 0; f < a->n; f++) {
        if (!a->m[f].keys)
            continue;
        if (f != k)
            memcpy(a->ct + ((size_t)k * a->n + f) * SHARE_CT, r->shares[j].data, SHARE_CT);
        j++;
    }
    m->shared = true;
    hold(m, call);
    return ALL(a, shared, keys) ? close_shares(a) : HFL_SA_WAIT;
}

hfl_sa_event hfl_sa_push(hfl_sa *a, ccz_rpc_call *call, unsigned slot, const Cczfl__MaskedUpdate *r,
                         hfl_sa_observer obs, void *payload)
{
    unsigned k;
    member *m = turn(a, call, slot, r->round, UPLOAD, &k);
    if (!m)
        return HFL_SA_WAIT;
    if (!m->shared || m->uploaded) {
        (void)!ccz_rpc_finish(call, CCZ_RPC_FAILED_PRECONDITION,
                              m->uploaded ? "this client's masked update is in already"
                                          : "no shares sent: the masks could not be removed");
        return HFL_SA_WAIT;
    }
    if (r->masked.len != a->dim * 4 || !isfinite(r->loss)) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "masked update rejected: %zu bytes are not the model's %zu 32-bit words (%zu "
                 "bytes), or the loss is not finite",
                 r->masked.len, a->dim, a->dim * 4);
        invalid(call, a, m, msg);
        return HFL_SA_WAIT;
    }
    const uint8_t *p = r->masked.data;
    add_words(a->sum, p, a->dim);
    if (obs)
        obs(m->name, p, a->dim, payload);
    m->uploaded = true;
    m->loss = r->loss;
    hold(m, call);
    return ALL(a, uploaded, shared) ? close_upload(a) : HFL_SA_WAIT;
}

hfl_sa_event hfl_sa_unmask(hfl_sa *a, ccz_rpc_call *call, unsigned slot,
                           const Cczfl__UnmaskShares *r)
{
    unsigned k;
    const member *done_m =
        a->phase == OVER && r->round == a->round && !a->why[0] ? find(a, slot, &k) : NULL;
    if (done_m && done_m->uploaded) {
        /* t survivors' shares came first: the sum is unmasked already */
        Cczfl__Ack done = CCZFL__ACK__INIT;
        done.round = a->round;
        (void)!ccz_rpc_reply(call, &done.base);
        return HFL_SA_WAIT;
    }
    member *m = turn(a, call, slot, r->round, UNMASK, &k);
    if (!m)
        return HFL_SA_WAIT;
    if (!m->uploaded || m->unmasked) {
        (void)!ccz_rpc_finish(call, CCZ_RPC_FAILED_PRECONDITION,
                              m->unmasked ? "Unmask: shares given already"
                                          : "Unmask: not a survivor (no masked update from "
                                            "this client is in the sum)");
        return HFL_SA_WAIT;
    }
    size_t ns = 0, nd = 0;
    for (unsigned f = 0; f < a->n; f++) {
        ns += a->m[f].uploaded;
        nd += a->m[f].shared && !a->m[f].uploaded;
    }
    bool ok = r->n_survivor_shares == ns && r->n_dropped_shares == nd;
    for (size_t i = 0; ok && i < ns; i++)
        ok = r->survivor_shares[i].len == 32;
    for (size_t i = 0; ok && i < nd; i++)
        ok = r->dropped_shares[i].len == 32;
    if (!ok) {
        invalid(call, a, m,
                "unmask shares rejected: 32 bytes for each survivor and each dropped client");
        return HFL_SA_WAIT;
    }
    size_t is = 0, id = 0;
    for (unsigned f = 0; f < a->n; f++) {
        size_t at = ((size_t)k * a->n + f) * 32;
        if (a->m[f].uploaded)
            memcpy(a->b_sh + at, r->survivor_shares[is++].data, 32);
        else if (a->m[f].shared)
            memcpy(a->s_sh + at, r->dropped_shares[id++].data, 32);
    }
    m->unmasked = true;
    a->responders[a->n_resp++] = k;
    Cczfl__Ack ack = CCZFL__ACK__INIT;
    ack.round = a->round;
    (void)!ccz_rpc_reply(call, &ack.base);
    return a->n_resp >= a->t ? unmask_sum(a) : HFL_SA_WAIT;
}

hfl_sa_event hfl_sa_tick(hfl_sa *a, unsigned timeout_ms)
{
    if (a->phase == OVER || listener_mono_ms() - a->phase_at < (int64_t)timeout_ms)
        return HFL_SA_WAIT;
    switch (a->phase) {
    case KEYS:
        return close_keys(a);
    case SHARES:
        return close_shares(a);
    case UPLOAD:
        return close_upload(a);
    default:
        return fail(a, "%u of %u survivors gave their shares before the deadline", a->n_resp, a->t);
    }
}

const float *hfl_sa_mean(const hfl_sa *a)
{
    return a->mean;
}

bool hfl_sa_survived(const hfl_sa *a, unsigned slot, double *loss)
{
    for (unsigned k = 0; k < a->n; k++)
        if (a->m[k].slot == slot) {
            *loss = a->m[k].loss;
            return a->m[k].uploaded;
        }
    return false;
}

const char *hfl_sa_why(const hfl_sa *a)
{
    return a->why;
}
