/* SPDX-License-Identifier: Apache-2.0 */
/* A client's side of a secure-aggregation round (include/ccz/hfl.h, ccz_hfl_secagg_upload):
 * fresh X25519 keys, Shamir shares of its mask key and self-mask seed encrypted to each peer,
 * its model times its weight masked in Z_2^32, and the shares that unmask the survivors' sum.
 * Everything from the aggregator and the peers is untrusted: key lists, shares and plans are
 * checked before use, and no client's two secrets are ever both given away. Keys, seeds and
 * shares are wiped on every exit. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ccz/secagg.h"
#include "core/guard.h"
#include "hfl_secagg.h"
#include "svc/fl/party.h"

#define SA_MAX 255
#define SHARE_PT HFL_SA_SHARE_PT
#define SHARE_CT HFL_SA_SHARE_CT

typedef struct {
    uint8_t c_sk[32], c_pk[32], s_sk[32], s_pk[32], b[32];
    uint8_t own_s[32], own_b[32];                 /* this client's shares of its own secrets */
    uint8_t got_s[SA_MAX][32], got_b[SA_MAX][32]; /* the peers' shares given to it */
    bool listed[SA_MAX], present[SA_MAX];
    uint8_t c_pks[SA_MAX][32], s_pks[SA_MAX][32];
    unsigned me, n, t;
    double weight;
} state;

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void nonce_of(uint8_t nonce[12], unsigned from, unsigned to, unsigned round)
{
    put32(nonce, from);
    put32(nonce + 4, to);
    put32(nonce + 8, round);
}

static ccz_status call(ccz_rpc_channel *ch, int64_t deadline_ms, const char *method,
                       const ProtobufCMessage *req, const ProtobufCMessageDescriptor *desc,
                       ProtobufCMessage **resp, ccz_hfl_join_result *out)
{
    char path[64];
    snprintf(path, sizeof path, "/cczfl.Aggregator/%s", method);
    ccz_rpc_call_opts co = {CCZ_RPC_CALL_OPTS_VERSION, deadline_ms, NULL};
    ccz_rpc_status st;
    *resp = NULL;
    CCZ_GUARD(ccz_rpc_unary(ch, resp, &st, path, req, desc, &co));
    out->code = st.code;
    out->method = method;
    snprintf(out->message, sizeof out->message, "%s", st.message);
    ccz_rpc_status_free(&st);
    if (st.code && *resp) {
        protobuf_c_message_free_unpacked(*resp, NULL);
        *resp = NULL;
    }
    return CCZ_OK;
}

/* A hostile client (CCZ_HFL_FAULT_UNMASK_UNUPLOADED): no masked update, then Unmask with no
 * shares every 20 ms while the round is still at its upload; the first other answer ends it. */
static ccz_status unmask_unuploaded(ccz_rpc_channel *ch, int64_t dl, unsigned round,
                                    ccz_hfl_join_result *out)
{
    Cczfl__UnmaskShares none = CCZFL__UNMASK_SHARES__INIT;
    none.round = round;
    for (int64_t waited = 0;; waited += 20) {
        ProtobufCMessage *resp;
        CCZ_GUARD(call(ch, dl, "Unmask", &none.base, &cczfl__ack__descriptor, &resp, out));
        if (resp)
            protobuf_c_message_free_unpacked(resp, NULL);
        if (out->code != CCZ_RPC_FAILED_PRECONDITION || !strstr(out->message, "at PushMasked") ||
            waited >= dl)
            return CCZ_OK;
        fl_sleep_ms(20);
    }
}

/* The aggregator's key list: this client in it with its keys, indexes unique. */
static ccz_status read_keys(state *z, const Cczfl__KeyList *l, unsigned round)
{
    CCZ_ENSURE(l->round == round && l->n_clients >= 1 && l->n_clients <= SA_MAX &&
                   l->you < SA_MAX && isfinite(l->weight) && l->weight > 0 && l->weight <= 1,
               CCZ_ERR_PROTOCOL, "the aggregator's key list is out of range");
    /* alone (a threshold of 1), the sum unmasked is this client's update */
    CCZ_ENSURE(l->n_clients >= 2, CCZ_ERR_PROTOCOL,
               "a key list of %zu client: its update would be the sum", l->n_clients);
    z->me = l->you;
    z->weight = l->weight;
    z->n = 0;
    for (size_t i = 0; i < l->n_clients; i++) {
        const Cczfl__ClientKeys *c = l->clients[i];
        CCZ_ENSURE(c->index < SA_MAX && !z->listed[c->index] && c->c_pk.len == 32 &&
                       c->s_pk.len == 32,
                   CCZ_ERR_PROTOCOL, "the aggregator's key list has a bad entry (%zu)", i);
        z->listed[c->index] = true;
        memcpy(z->c_pks[c->index], c->c_pk.data, 32);
        memcpy(z->s_pks[c->index], c->s_pk.data, 32);
        z->n = c->index + 1 > z->n ? c->index + 1 : z->n;
    }
    CCZ_ENSURE(z->listed[z->me] && !memcmp(z->c_pks[z->me], z->c_pk, 32) &&
                   !memcmp(z->s_pks[z->me], z->s_pk, 32),
               CCZ_ERR_PROTOCOL, "the aggregator's key list does not hold this client's keys");
    /* a threshold of at least half the list: fewer would let a minority unmask one client */
    CCZ_ENSURE(l->threshold > l->n_clients / 2 && l->threshold <= l->n_clients, CCZ_ERR_PROTOCOL,
               "a threshold of %u for %zu clients", l->threshold, l->n_clients);
    z->t = l->threshold;
    return CCZ_OK;
}

/* The encrypted shares for each peer, in the key list's order. */
static ccz_status make_shares(state *z, const Cczfl__KeyList *l, unsigned round, uint8_t *ct,
                              ProtobufCBinaryData *out)
{
    uint8_t(*ss)[32] = malloc((size_t)z->n * 32), (*bs)[32] = malloc((size_t)z->n * 32);
    ccz_status s = ss && bs ? CCZ_OK : ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    if (s == CCZ_OK)
        s = ccz_secagg_share(ss, z->s_sk, z->t, z->n);
    if (s == CCZ_OK)
        s = ccz_secagg_share(bs, z->b, z->t, z->n);
    uint8_t key[32];
    for (size_t i = 0; s == CCZ_OK && i < l->n_clients; i++) {
        unsigned j = l->clients[i]->index;
        if (j == z->me) {
            out[i] = (ProtobufCBinaryData){0, NULL};
            memcpy(z->own_s, ss[j], 32);
            memcpy(z->own_b, bs[j], 32);
            continue;
        }
        s = ccz_secagg_pair_key(key, z->c_sk, z->c_pks[j]);
        if (s == CCZ_OK)
            s = hfl_sa_seal_share(ct + i * SHARE_CT, key, round, z->me, j, ss[j], bs[j]);
        out[i] = (ProtobufCBinaryData){SHARE_CT, ct + i * SHARE_CT};
    }
    OPENSSL_cleanse(key, sizeof key);
    if (ss)
        OPENSSL_cleanse(ss, (size_t)z->n * 32);
    if (bs)
        OPENSSL_cleanse(bs, (size_t)z->n * 32);
    free(ss);
    free(bs);
    return s;
}

/* The shares the peers sent: each from a listed peer, decrypted, addressed to this client. */
static ccz_status read_shares(state *z, const Cczfl__SharesForYou *r, unsigned round)
{
    CCZ_ENSURE(r->round == round && r->n_from == r->n_shares, CCZ_ERR_PROTOCOL,
               "the aggregator's shares are out of range");
    /* U2 of at least t (Bonawitz et al.'s round 2): with fewer peers the update would be masked
     * by too few pairwise masks (by none, with no peer) around a self mask that the peers' shares
     * of its seed remove */
    CCZ_ENSURE(r->n_from + 1 >= z->t, CCZ_ERR_PROTOCOL,
               "shares from %zu peers: fewer than the threshold (%u) with this client", r->n_from,
               z->t);
    uint8_t pt[SHARE_PT], key[32], nonce[12];
    ccz_status s = CCZ_OK;
    z->present[z->me] = true;
    for (size_t i = 0; s == CCZ_OK && i < r->n_from; i++) {
        unsigned f = r->from[i];
        if (f >= SA_MAX || f == z->me || !z->listed[f] || z->present[f] ||
            r->shares[i].len != SHARE_CT) {
            s = ccz_fail(CCZ_ERR_PROTOCOL, "share %zu (from %u) is not a listed peer's", i, f);
            break;
        }
        nonce_of(nonce, f, z->me, round);
        s = ccz_secagg_pair_key(key, z->c_sk, z->c_pks[f]);
        if (s == CCZ_OK)
            s = ccz_secagg_open(pt, r->shares[i].data, SHARE_CT, key, nonce, NULL, 0);
        if (s == CCZ_OK && (get32(pt) != round || get32(pt + 4) != f || get32(pt + 8) != z->me))
            s = ccz_fail(CCZ_ERR_PROTOCOL, "the share from %u is for another round or client", f);
        if (s == CCZ_OK) {
            memcpy(z->got_s[f], pt + 12, 32);
            memcpy(z->got_b[f], pt + 44, 32);
            z->present[f] = true;
        }
    }
    OPENSSL_cleanse(pt, sizeof pt);
    OPENSSL_cleanse(key, sizeof key);
    return s;
}

ccz_status hfl_sa_seal_share(uint8_t out[HFL_SA_SHARE_CT], const uint8_t key[32], unsigned round,
                             unsigned from, unsigned to, const uint8_t s_share[32],
                             const uint8_t b_share[32])
{
    uint8_t pt[SHARE_PT], nonce[12];
    put32(pt, round);
    put32(pt + 4, from);
    put32(pt + 8, to);
    memcpy(pt + 12, s_share, 32);
    memcpy(pt + 44, b_share, 32);
    nonce_of(nonce, from, to, round);
    ccz_status s = ccz_secagg_seal(out, pt, SHARE_PT, key, nonce, NULL, 0);
    OPENSSL_cleanse(pt, sizeof pt);
    return s;
}

ccz_status hfl_sa_masked(uint8_t *out, const float *w, size_t dim, double weight, unsigned me,
                         const uint8_t s_sk[32], const uint8_t (*s_pks)[32], const bool *present,
                         unsigned n, const uint8_t b[32])
{
    float *x = malloc(dim * sizeof *x);
    uint32_t *m = malloc(dim * sizeof *m);
    ccz_status s = x && m ? CCZ_OK : ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    const float wt = (float)weight;
    for (size_t i = 0; s == CCZ_OK && i < dim; i++) {
        /* the value, not the value times its weight: the survivors' mean is as large as their
         * largest value, and past the limit it would wrap in Z_2^32 unnoticed */
        if (!(fabsf(w[i]) < HFL_SA_LIMIT))
            s = ccz_fail(CCZ_ERR_OVERFLOW,
                         "value %zu (%g) is not below %g in magnitude: the mean would not fit the "
                         "fixed point",
                         i, (double)w[i], (double)HFL_SA_LIMIT);
        else
            x[i] = w[i] * wt;
    }
    if (s == CCZ_OK)
        s = ccz_secagg_mask(m, x, dim, HFL_SA_SCALE, me, s_sk, s_pks, present, n);
    if (s == CCZ_OK)
        s = ccz_secagg_self_mask(m, dim, b, 1);
    if (s == CCZ_OK)
        for (size_t i = 0; i < dim; i++)
            put32(out + 4 * i, m[i]);
    free(x);
    free(m);
    return s;
}

/* w times the weight, masked: pairwise with every peer that shared, plus the self mask. */
static ccz_status masked_bytes(state *z, const float *w, size_t dim, ccz_buf *out)
{
    CCZ_GUARD(ccz_buf_reserve(out, dim * 4));
    CCZ_GUARD(hfl_sa_masked(out->ptr, w, dim, z->weight, z->me, z->s_sk,
                            (const uint8_t(*)[32])z->s_pks, z->present, z->n, z->b));
    out->len = dim * 4;
    return CCZ_OK;
}

/* The shares that unmask: self-mask seed shares of survivors, mask-key shares of the dropped;
 * never both for one client, and only when enough survived that one update stays hidden. */
static ccz_status unmask_shares(state *z, const Cczfl__UnmaskPlan *p, unsigned round,
                                ProtobufCBinaryData *sv, ProtobufCBinaryData *dr)
{
    bool seen[SA_MAX] = {false}, me_in = false;
    CCZ_ENSURE(p->round == round && p->n_survivors >= z->t && p->n_survivors <= SA_MAX &&
                   p->n_dropped <= SA_MAX,
               CCZ_ERR_PROTOCOL, "the unmask plan (%zu survivors, threshold %u) is out of range",
               p->n_survivors, z->t);
    for (size_t i = 0; i < p->n_survivors + p->n_dropped; i++) {
        bool surv = i < p->n_survivors;
        unsigned k = surv ? p->survivors[i] : p->dropped[i - p->n_survivors];
        CCZ_ENSURE(k < SA_MAX && z->present[k] && !seen[k] && (surv || k != z->me),
                   CCZ_ERR_PROTOCOL, "the unmask plan names client %u badly", k);
        seen[k] = true;
        me_in |= k == z->me;
        if (surv)
            sv[i] = (ProtobufCBinaryData){32, k == z->me ? z->own_b : z->got_b[k]};
        else
            dr[i - p->n_survivors] = (ProtobufCBinaryData){32, z->got_s[k]};
    }
    CCZ_ENSURE(me_in, CCZ_ERR_PROTOCOL, "the unmask plan leaves this client out");
    return CCZ_OK;
}

static ccz_status upload(state *z, ccz_rpc_channel *ch, const ccz_hfl_join_opts *o, unsigned round,
                         const float *w, size_t dim, double loss, ccz_hfl_join_result *out)
{
    int64_t dl = o->deadline_ms ? o->deadline_ms : 1800000;
    CCZ_GUARD(ccz_secagg_keygen(z->c_sk, z->c_pk));
    CCZ_GUARD(ccz_secagg_keygen(z->s_sk, z->s_pk));
    CCZ_ENSURE(RAND_bytes(z->b, 32) == 1, CCZ_ERR_CRYPTO, "RAND_bytes failed");
    Cczfl__RoundKeys rk = CCZFL__ROUND_KEYS__INIT;
    rk.round = round;
    rk.c_pk = (ProtobufCBinaryData){32, z->c_pk};
    rk.s_pk = (ProtobufCBinaryData){32, z->s_pk};
    ProtobufCMessage *resp;
    bool faulty = round == o->fault_round;
    if (faulty && o->fault == CCZ_HFL_FAULT_EARLY_UNMASK) { /* a hostile client: out of turn */
        Cczfl__UnmaskShares early = CCZFL__UNMASK_SHARES__INIT;
        early.round = round;
        CCZ_GUARD(call(ch, dl, "Unmask", &early.base, &cczfl__ack__descriptor, &resp, out));
        if (resp)
            protobuf_c_message_free_unpacked(resp, NULL);
        return CCZ_OK;
    }
    bool same_keys = faulty && o->fault == CCZ_HFL_FAULT_SAME_KEYS;
    if (same_keys) /* a hostile client: one key twice, then it stops whatever the answer */
        rk.s_pk = rk.c_pk;
    CCZ_GUARD(call(ch, dl, "AdvertiseKeys", &rk.base, &cczfl__key_list__descriptor, &resp, out));
    if (out->code || same_keys) {
        if (resp)
            protobuf_c_message_free_unpacked(resp, NULL);
        return CCZ_OK;
    }
    const Cczfl__KeyList *l = (const Cczfl__KeyList *)resp;
    ccz_status s = read_keys(z, l, round);
    uint8_t *ct = s == CCZ_OK ? malloc(l->n_clients * SHARE_CT) : NULL;
    ProtobufCBinaryData *sh = s == CCZ_OK ? calloc(l->n_clients, sizeof *sh) : NULL;
    if (s == CCZ_OK && (!ct || !sh))
        s = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    if (s == CCZ_OK)
        s = make_shares(z, l, round, ct, sh);
    Cczfl__KeyShares ks = CCZFL__KEY_SHARES__INIT;
    ks.round = round;
    ks.n_shares = l->n_clients;
    ks.shares = sh;
    ProtobufCMessage *r2 = NULL;
    if (s == CCZ_OK)
        s = call(ch, dl, "ShareKeys", &ks.base, &cczfl__shares_for_you__descriptor, &r2, out);
    protobuf_c_message_free_unpacked(resp, NULL);
    free(ct);
    free(sh);
    if (s || out->code)
        return s;
    s = read_shares(z, (const Cczfl__SharesForYou *)r2, round);
    protobuf_c_message_free_unpacked(r2, NULL);
    CCZ_GUARD(s);
    if (faulty && o->fault == CCZ_HFL_FAULT_DROP) {
        out->code = CCZ_RPC_ABORTED;
        snprintf(out->message, sizeof out->message,
                 "stopped before the masked upload (a fault "
                 "injected for testing)");
        return CCZ_OK;
    }
    if (faulty && o->fault == CCZ_HFL_FAULT_UNMASK_UNUPLOADED)
        return unmask_unuploaded(ch, dl, round, out);
    ccz_buf mb = CCZ_BUF_INIT;
    s = masked_bytes(z, w, dim, &mb);
    Cczfl__MaskedUpdate mu = CCZFL__MASKED_UPDATE__INIT;
    mu.round = round;
    mu.loss = loss;
    mu.masked = (ProtobufCBinaryData){mb.len, mb.ptr};
    if (faulty && o->fault == CCZ_HFL_FAULT_TRUNCATE)
        mu.masked.len -= 4;
    if (s == CCZ_OK)
        s = call(ch, dl, "PushMasked", &mu.base, &cczfl__unmask_plan__descriptor, &resp, out);
    ccz_buf_free(&mb);
    if (s || out->code)
        return s;
    const Cczfl__UnmaskPlan *p = (const Cczfl__UnmaskPlan *)resp;
    ProtobufCBinaryData *sv = calloc(p->n_survivors + 1, sizeof *sv);
    ProtobufCBinaryData *dr = calloc(p->n_dropped + 1, sizeof *dr);
    s = sv && dr ? unmask_shares(z, p, round, sv, dr) : ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    Cczfl__UnmaskShares us = CCZFL__UNMASK_SHARES__INIT;
    us.round = round;
    us.n_survivor_shares = p->n_survivors;
    us.survivor_shares = sv;
    us.n_dropped_shares = p->n_dropped;
    us.dropped_shares = dr;
    ProtobufCMessage *r3 = NULL;
    ccz_hfl_join_result ur = *out;
    if (s == CCZ_OK && faulty && o->fault == CCZ_HFL_FAULT_LATE_UNMASK)
        fl_sleep_ms(1500);
    if (s == CCZ_OK)
        s = call(ch, dl, "Unmask", &us.base, &cczfl__ack__descriptor, &r3, &ur);
    /* the update is in the sum: an Unmask after t others gave theirs may come too late to count */
    if (r3)
        protobuf_c_message_free_unpacked(r3, NULL);
    protobuf_c_message_free_unpacked(resp, NULL);
    free(sv);
    free(dr);
    return s;
}

ccz_status ccz_hfl_secagg_upload(ccz_rpc_channel *ch, const ccz_hfl_join_opts *o, unsigned round,
                                 const float *w, size_t dim, double loss, ccz_hfl_join_result *out)
{
    state *z = calloc(1, sizeof *z);
    CCZ_ENSURE(z, CCZ_ERR_NOMEM, "out of memory");
    ccz_status s = upload(z, ch, o, round, w, dim, loss, out);
    OPENSSL_cleanse(z, sizeof *z);
    free(z);
    return s;
}

/* ---- the fuzz target's entry (fuzz/fuzz_fl_secagg.c) -------------------------------------------*/

int hfl_sa_client_fuzz(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    state *z = calloc(1, sizeof *z);
    if (!z)
        return 0;
    const unsigned round = 7;
    memset(z->c_pk, 1, 32);
    memset(z->s_pk, 2, 32);
    memset(z->c_sk, 3, 32);
    int bad = 0;
    if (data[0] % 3 == 0) {
        Cczfl__KeyList *l = cczfl__key_list__unpack(NULL, size - 1, data + 1);
        if (l && read_keys(z, l, round) == CCZ_OK)
            bad = !z->listed[z->me] || z->t * 2 <= l->n_clients || z->n > SA_MAX;
        if (l)
            cczfl__key_list__free_unpacked(l, NULL);
    } else if (data[0] % 3 == 1) {
        Cczfl__SharesForYou *r = cczfl__shares_for_you__unpack(NULL, size - 1, data + 1);
        for (unsigned k = 0; k < 3; k++)
            z->listed[k] = true, memset(z->c_pks[k], 9, 32);
        if (r && read_shares(z, r, round) == CCZ_OK)
            bad = !z->present[z->me];
        if (r)
            cczfl__shares_for_you__free_unpacked(r, NULL);
    } else {
        Cczfl__UnmaskPlan *p = cczfl__unmask_plan__unpack(NULL, size - 1, data + 1);
        z->t = 2;
        for (unsigned k = 0; k < 3; k++)
            z->present[k] = true;
        if (p) {
            ProtobufCBinaryData *sv = calloc(p->n_survivors + 1, sizeof *sv);
            ProtobufCBinaryData *dr = calloc(p->n_dropped + 1, sizeof *dr);
            if (sv && dr && unmask_shares(z, p, round, sv, dr) == CCZ_OK)
                bad = p->n_survivors < z->t || p->n_survivors + p->n_dropped > 3;
            free(sv);
            free(dr);
            cczfl__unmask_plan__free_unpacked(p, NULL);
        }
    }
    ccz_error_clear();
    free(z);
    return bad;
}
