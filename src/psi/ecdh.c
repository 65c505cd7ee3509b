/* SPDX-License-Identifier: Apache-2.0 */
/* Two-party ECDH PSI over ristretto255 (libsodium): both sides of the protocol of ccz/psi.h,
 * streamed in batches whose group operations are split across threads. The peer is untrusted:
 * its messages go through the parsers of wire.c, its points through libsodium's decoding
 * (invalid encodings and the identity are refused). The blinding scalar is this side's secret:
 * wiped on every exit, never logged. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/guard.h"
#include "psi/ecdh.h"

/* Domain separation of the two hashes (fixed-length prefixes, so no two inputs collide). */
#define H2G_DOMAIN "ccz psi ecdh v1: hash to ristretto255"
#define TAG_DOMAIN "ccz psi ecdh v1: tag of a doubly blinded point"

/* ---- the channel: frames out and in, counted ---------------------------------------------------*/

typedef struct {
    const ccz_psi_io *io;
    ccz_buf out; /* the frame being built */
    ccz_buf in;  /* the body last read */
    uint64_t sent, received;
    bool broken; /* an I/O failure: no ABORT can go out */
} chan;

static ccz_status chan_send(chan *ch)
{
    ccz_status s = ch->io->write(ch->io->payload, ch->out.ptr, ch->out.len);
    if (s) {
        ch->broken = true;
        return s;
    }
    ch->sent += ch->out.len;
    ccz_buf_reset(&ch->out);
    return CCZ_OK;
}

static const char *type_name(uint8_t t)
{
    static const char *const names[] = {"?", "hello", "points", "tags", "done", "abort"};
    return t < CCZ_ARRAY_LEN(names) ? names[t] : "?";
}

/* Reads the next frame, which must be of type want; an ABORT is the peer's error. */
static ccz_status chan_expect(chan *ch, uint8_t want, ccz_span *body)
{
    uint8_t h[PSI_ECDH_FRAME_HEADER], type;
    uint32_t len;
    ccz_status s = ch->io->read(ch->io->payload, h, sizeof h);
    if (s) {
        ch->broken = true;
        return ccz_fail_context(s, "psi ecdh: waiting for %s", type_name(want));
    }
    CCZ_GUARD(psi_ecdh_parse_header(&type, &len, h));
    ccz_buf_reset(&ch->in);
    CCZ_GUARD(ccz_buf_reserve(&ch->in, len ? len : 1));
    if (len && (s = ch->io->read(ch->io->payload, ch->in.ptr, len)) != CCZ_OK) {
        ch->broken = true;
        return ccz_fail_context(s, "psi ecdh: reading %s", type_name(type));
    }
    ch->in.len = len;
    ch->received += sizeof h + len;
    *body = ccz_buf_span(&ch->in);
    if (type == PSI_ECDH_ABORT) {
        char why[PSI_ECDH_ABORT_MAX + 1];
        psi_ecdh_parse_abort(why, sizeof why, *body);
        ch->broken = true; /* the peer is gone: no ABORT back */
        return ccz_fail(CCZ_ERR_PROTOCOL, "psi ecdh: the peer gave up: %s", why);
    }
    CCZ_ENSURE(type == want, CCZ_ERR_PROTOCOL, "psi ecdh: expected %s, got %s", type_name(want),
               type_name(type));
    return CCZ_OK;
}

/* Best effort: tells the peer why this side stops (status name and detail, no secrets). */
static void chan_abort(chan *ch, ccz_status s)
{
    if (ch->broken)
        return;
    char why[PSI_ECDH_ABORT_MAX];
    int n = snprintf(why, sizeof why, "%s: %s", ccz_status_name(s), ccz_error_detail());
    size_t len = n < 0 ? 0 : (size_t)n < sizeof why ? (size_t)n : sizeof why - 1;
    ccz_buf_reset(&ch->out);
    if (psi_ecdh_put_header(&ch->out, PSI_ECDH_ABORT, (uint32_t)len) == CCZ_OK &&
        ccz_buf_append(&ch->out, why, len) == CCZ_OK) {
        char keep[512];
        snprintf(keep, sizeof keep, "%s", ccz_error_detail());
        (void)ch->io->write(ch->io->payload, ch->out.ptr, ch->out.len);
        (void)ccz_fail(s, "%s", keep); /* the write must not replace the detail */
    }
}

/* ---- group operations, a batch at a time on several threads ----------------------------------*/

typedef struct {
    const uint8_t *k; /* the secret scalar */
    /* blind: items first.. of set (through perm when set) */
    const ccz_psi_set *set;
    const uint32_t *perm;
    size_t first;
    /* raise: points from the peer */
    const uint8_t *in;
    uint8_t *out; /* blind: points; raise: tags */
    uint64_t batch_no;
} batch_job;

static ccz_status blind_range(size_t begin, size_t end, void *arg)
{
    const batch_job *j = arg;
    uint8_t digest[crypto_hash_sha512_BYTES], p[crypto_core_ristretto255_BYTES];
    for (size_t i = begin; i < end; i++) {
        size_t idx = j->perm ? j->perm[j->first + i] : j->first + i;
        ccz_span item = ccz_psi_set_item(j->set, idx);
        crypto_hash_sha512_state h;
        crypto_hash_sha512_init(&h);
        crypto_hash_sha512_update(&h, (const uint8_t *)H2G_DOMAIN, sizeof H2G_DOMAIN);
        crypto_hash_sha512_update(&h, item.ptr, item.len);
        crypto_hash_sha512_final(&h, digest);
        if (crypto_core_ristretto255_from_hash(p, digest) != 0 ||
            crypto_scalarmult_ristretto255(j->out + i * PSI_ECDH_POINT_BYTES, j->k, p) != 0)
            return ccz_fail(CCZ_ERR_CRYPTO, "psi ecdh: hashing item %zu to the group failed", idx);
    }
    /* H(item) unblinded would let anyone who sees it test guesses of the item */
    sodium_memzero(digest, sizeof digest);
    sodium_memzero(p, sizeof p);
    return CCZ_OK;
}

static ccz_status raise_range(size_t begin, size_t end, void *arg)
{
    const batch_job *j = arg;
    uint8_t q[crypto_core_ristretto255_BYTES];
    for (size_t i = begin; i < end; i++) {
        /* -1: not a canonical ristretto255 encoding, or a product that is the identity */
        if (crypto_scalarmult_ristretto255(q, j->k, j->in + i * PSI_ECDH_POINT_BYTES) != 0)
            return ccz_fail(CCZ_ERR_MALFORMED,
                            "psi ecdh: point %zu of batch %llu is not a valid ristretto255 point",
                            i, (unsigned long long)j->batch_no);
        crypto_generichash_state h;
        crypto_generichash_init(&h, NULL, 0, PSI_ECDH_TAG_BYTES);
        crypto_generichash_update(&h, (const uint8_t *)TAG_DOMAIN, sizeof TAG_DOMAIN);
        crypto_generichash_update(&h, q, sizeof q);
        crypto_generichash_final(&h, j->out + i * PSI_ECDH_TAG_BYTES, PSI_ECDH_TAG_BYTES);
    }
    return CCZ_OK;
}

/* One side's state for a run. */
typedef struct {
    chan ch;
    uint8_t k[crypto_core_ristretto255_SCALARBYTES];
    unsigned threads, batch;
    uint64_t max_peer;
    uint64_t batch_no;
} side;

static ccz_status side_init(side *sd, const ccz_psi_io *io, const ccz_psi_ecdh_opts *o)
{
    memset(sd, 0, sizeof *sd);
    sd->ch.io = io;
    ccz_buf_init(&sd->ch.out, 0, false);
    ccz_buf_init(&sd->ch.in, 0, false);
    CCZ_ENSURE(o && o->version == CCZ_PSI_ECDH_OPTS_VERSION, CCZ_ERR_INVALID_ARGUMENT,
               "psi ecdh: options of version %u (this library: %u)", o ? o->version : 0,
               CCZ_PSI_ECDH_OPTS_VERSION);
    CCZ_ENSURE(o->batch <= CCZ_PSI_ECDH_BATCH_MAX, CCZ_ERR_INVALID_ARGUMENT,
               "psi ecdh: a batch of %u (at most %u)", o->batch, CCZ_PSI_ECDH_BATCH_MAX);
    CCZ_ENSURE(sodium_init() >= 0, CCZ_ERR_CRYPTO, "psi ecdh: libsodium did not initialise");
    sd->threads = o->threads;
    sd->batch = o->batch ? o->batch : CCZ_PSI_ECDH_BATCH_DEFAULT;
    sd->max_peer = o->max_peer_items ? o->max_peer_items : CCZ_PSI_ECDH_MAX_ITEMS;
    do
        crypto_core_ristretto255_scalar_random(sd->k);
    while (sodium_is_zero(sd->k, sizeof sd->k));
    return CCZ_OK;
}

static void side_free(side *sd)
{
    sodium_memzero(sd->k, sizeof sd->k);
    ccz_buf_free(&sd->ch.out);
    ccz_buf_free(&sd->ch.in);
}

/* Builds a POINTS frame in ch.out: items first..first+n of set (through perm), blinded. */
static ccz_status put_blinded(side *sd, const ccz_psi_set *set, const uint32_t *perm, size_t first,
                              uint32_t n)
{
    ccz_buf *b = &sd->ch.out;
    size_t body = 4 + (size_t)n * PSI_ECDH_POINT_BYTES;
    ccz_buf_reset(b);
    CCZ_GUARD(psi_ecdh_put_header(b, PSI_ECDH_POINTS, (uint32_t)body));
    CCZ_GUARD(ccz_buf_append_u32le(b, n));
    CCZ_GUARD(ccz_buf_reserve(b, (size_t)n * PSI_ECDH_POINT_BYTES));
    batch_job j = {.k = sd->k, .set = set, .perm = perm, .first = first, .out = b->ptr + b->len};
    CCZ_GUARD(ccz_parallel(n, sd->threads, blind_range, &j));
    b->len += (size_t)n * PSI_ECDH_POINT_BYTES;
    return CCZ_OK;
}

/* Raises n points from the peer to this side's scalar and writes their tags to out. */
static ccz_status raise_tags(side *sd, uint8_t *out, const uint8_t *points, uint32_t n)
{
    batch_job j = {.k = sd->k, .in = points, .out = out, .batch_no = sd->batch_no++};
    return ccz_parallel(n, sd->threads, raise_range, &j);
}

/* ---- the client's lookup table: its tags, found by their first bytes --------------------------*/

typedef struct {
    uint8_t *tags;  /* n x 16 bytes, in arrival order */
    uint32_t *slot; /* index + 1 into tags, 0 empty; a power of two of them */
    uint8_t *hit;   /* one byte per tag */
    size_t n, mask;
} tag_table;

static ccz_status table_alloc(tag_table *t, size_t n)
{
    memset(t, 0, sizeof *t);
    size_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    t->tags = malloc(n ? n * PSI_ECDH_TAG_BYTES : 1);
    t->slot = calloc(cap, sizeof *t->slot);
    t->hit = calloc(n ? n : 1, 1);
    t->mask = cap - 1;
    CCZ_ENSURE(t->tags && t->slot && t->hit, CCZ_ERR_NOMEM, "psi ecdh: out of memory for %zu tags",
               n);
    return CCZ_OK;
}

static size_t tag_home(const uint8_t *tag, size_t mask)
{
    uint64_t h;
    memcpy(&h, tag, sizeof h); /* tags are pseudorandom: their bytes are a hash already */
    return (size_t)h & mask;
}

/* Indexes the first n tags (n <= 2^28, so index + 1 fits 32 bits). */
static void table_index(tag_table *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t at = tag_home(t->tags + i * PSI_ECDH_TAG_BYTES, t->mask);
        while (t->slot[at])
            at = (at + 1) & t->mask;
        t->slot[at] = (uint32_t)(i + 1);
    }
    t->n = n;
}

static void table_mark(tag_table *t, const uint8_t *tag)
{
    for (size_t at = tag_home(tag, t->mask); t->slot[at]; at = (at + 1) & t->mask) {
        size_t i = t->slot[at] - 1;
        if (memcmp(t->tags + i * PSI_ECDH_TAG_BYTES, tag, PSI_ECDH_TAG_BYTES) == 0) {
            t->hit[i] = 1;
            return;
        }
    }
}

static void table_free(tag_table *t)
{
    free(t->tags);
    free(t->slot);
    free(t->hit);
}

/* ---- the client --------------------------------------------------------------------------------*/

/* Reads the TAGS answering one batch of n (full mode: in order) into t->tags + at. */
static ccz_status read_tags(side *sd, tag_table *t, uint64_t at, uint64_t due, uint32_t *got)
{
    ccz_span body, elems;
    CCZ_GUARD(chan_expect(&sd->ch, PSI_ECDH_TAGS, &body));
    CCZ_GUARD(psi_ecdh_parse_batch(got, &elems, body, PSI_ECDH_TAG_BYTES, due));
    memcpy(t->tags + at * PSI_ECDH_TAG_BYTES, elems.ptr, elems.len);
    return CCZ_OK;
}

/* Sends the blinded items; the server's tags come back per batch (full mode: the client
 * computes the next batch while the server works on the last) or, sorted, after all of them
 * (size only). */
static ccz_status client_phase1(side *sd, tag_table *t, ccz_psi_set *set, bool size_only)
{
    size_t n = ccz_psi_set_size(set), sent = 0, have = 0;
    uint32_t got;
    if (n == 0)
        return CCZ_OK;
    uint32_t first = (uint32_t)(n < sd->batch ? n : sd->batch);
    CCZ_GUARD(put_blinded(sd, set, NULL, 0, first));
    CCZ_GUARD(chan_send(&sd->ch));
    size_t last = first; /* the size of the batch in flight */
    sent = first;
    while (sent < n || (!size_only && have < n)) {
        uint32_t next = (uint32_t)(n - sent < sd->batch ? n - sent : sd->batch);
        if (next)
            CCZ_GUARD(put_blinded(sd, set, NULL, sent, next));
        if (!size_only) {
            CCZ_GUARD(read_tags(sd, t, have, last, &got));
            CCZ_ENSURE(got == last, CCZ_ERR_PROTOCOL,
                       "psi ecdh: %u tags answer a batch of %zu points", got, last);
            have += got;
        }
        if (next) {
            CCZ_GUARD(chan_send(&sd->ch));
            sent += next;
            last = next;
        }
    }
    while (have < n) { /* size only: the sorted tags of all */
        CCZ_GUARD(read_tags(sd, t, have, n - have, &got));
        have += got;
    }
    return CCZ_OK;
}

/* The peer's next batch of points (at most left of them), each raised to this side's scalar
 * and tagged into tags: *got points. */
static ccz_status recv_raised(side *sd, uint8_t *tags, uint64_t left, uint32_t *got)
{
    ccz_span body, elems;
    CCZ_GUARD(chan_expect(&sd->ch, PSI_ECDH_POINTS, &body));
    CCZ_GUARD(psi_ecdh_parse_batch(got, &elems, body, PSI_ECDH_POINT_BYTES, left));
    return raise_tags(sd, tags, elems.ptr, *got);
}

/* Receives the server's blinded items, raises them and looks their tags up. */
static ccz_status client_phase2(side *sd, tag_table *t, uint64_t n_peer)
{
    uint8_t *tags = malloc((size_t)CCZ_PSI_ECDH_BATCH_MAX * PSI_ECDH_TAG_BYTES);
    CCZ_ENSURE(tags, CCZ_ERR_NOMEM, "out of memory");
    ccz_status s = CCZ_OK;
    for (uint64_t have = 0; have < n_peer && s == CCZ_OK;) {
        uint32_t got;
        if ((s = recv_raised(sd, tags, n_peer - have, &got)) != CCZ_OK)
            break;
        for (uint32_t i = 0; i < got; i++)
            table_mark(t, tags + (size_t)i * PSI_ECDH_TAG_BYTES);
        have += got;
    }
    free(tags);
    return s;
}

static ccz_status client_run(side *sd, ccz_psi_ecdh_result *r, tag_table *t, ccz_psi_set *set,
                             bool size_only)
{
    psi_ecdh_hello mine = {CCZ_PSI_ECDH_VERSION, size_only, r->local_items}, peer;
    ccz_span body;
    CCZ_GUARD(psi_ecdh_put_hello(&sd->ch.out, &mine));
    CCZ_GUARD(chan_send(&sd->ch));
    CCZ_GUARD(chan_expect(&sd->ch, PSI_ECDH_HELLO, &body));
    CCZ_GUARD(psi_ecdh_parse_hello(&peer, body, sd->max_peer));
    CCZ_ENSURE(peer.size_only == size_only, CCZ_ERR_PROTOCOL,
               "psi ecdh: the server answers in the other mode");
    r->peer_items = peer.items;
    CCZ_GUARD(table_alloc(t, r->local_items));
    CCZ_GUARD(client_phase1(sd, t, set, size_only));
    table_index(t, r->local_items);
    CCZ_GUARD(client_phase2(sd, t, peer.items));
    CCZ_GUARD(psi_ecdh_put_header(&sd->ch.out, PSI_ECDH_DONE, 0));
    CCZ_GUARD(chan_send(&sd->ch));
    for (size_t i = 0; i < t->n; i++)
        r->intersection += t->hit[i];
    if (size_only)
        return CCZ_OK;
    r->indices = malloc(r->intersection ? r->intersection * sizeof *r->indices : 1);
    CCZ_ENSURE(r->indices, CCZ_ERR_NOMEM, "out of memory");
    for (size_t i = 0, w = 0; i < t->n; i++)
        if (t->hit[i])
            r->indices[w++] = i;
    return CCZ_OK;
}

ccz_status ccz_psi_ecdh_client(ccz_psi_ecdh_result *out, ccz_psi_set *set, const ccz_psi_io *io,
                               const ccz_psi_ecdh_opts *o)
{
    memset(out, 0, sizeof *out);
    side sd;
    tag_table t = {0};
    ccz_status s = side_init(&sd, io, o);
    if (s == CCZ_OK)
        s = ccz_psi_set_seal(set);
    if (s == CCZ_OK) {
        out->size_only = o->size_only;
        out->local_items = ccz_psi_set_size(set);
        s = client_run(&sd, out, &t, set, o->size_only);
        if (s)
            chan_abort(&sd.ch, s);
    }
    out->bytes_sent = sd.ch.sent;
    out->bytes_received = sd.ch.received;
    if (s) {
        free(out->indices);
        out->indices = NULL;
        out->intersection = 0;
    }
    table_free(&t);
    side_free(&sd);
    return s;
}

/* ---- the server --------------------------------------------------------------------------------*/

static int tag_cmp(const void *a, const void *b)
{
    return memcmp(a, b, PSI_ECDH_TAG_BYTES);
}

/* Sends count tags from tags, in frames of at most per_frame. */
static ccz_status send_tags(side *sd, const uint8_t *tags, uint64_t count, uint32_t per_frame)
{
    for (uint64_t at = 0; at < count;) {
        uint32_t n = (uint32_t)(count - at < per_frame ? count - at : per_frame);
        CCZ_GUARD(
            psi_ecdh_put_header(&sd->ch.out, PSI_ECDH_TAGS, 4 + n * (uint32_t)PSI_ECDH_TAG_BYTES));
        CCZ_GUARD(ccz_buf_append_u32le(&sd->ch.out, n));
        CCZ_GUARD(ccz_buf_append(&sd->ch.out, tags + at * PSI_ECDH_TAG_BYTES,
                                 (size_t)n * PSI_ECDH_TAG_BYTES));
        CCZ_GUARD(chan_send(&sd->ch));
        at += n;
    }
    return CCZ_OK;
}

/* The client's points, raised and tagged: answered batch by batch in order, or (size only)
 * collected and sent sorted, which unlinks each tag from the item it came from. The collection
 * grows with what the client sends, not with what it announced. */
static ccz_status server_phase1(side *sd, uint64_t n_peer, bool size_only, ccz_buf *all)
{
    uint8_t *tags = malloc((size_t)CCZ_PSI_ECDH_BATCH_MAX * PSI_ECDH_TAG_BYTES);
    CCZ_ENSURE(tags, CCZ_ERR_NOMEM, "out of memory");
    ccz_status s = CCZ_OK;
    for (uint64_t have = 0; have < n_peer && s == CCZ_OK;) {
        uint32_t got;
        if ((s = recv_raised(sd, tags, n_peer - have, &got)) != CCZ_OK)
            break;
        size_t len = (size_t)got * PSI_ECDH_TAG_BYTES;
        /* full mode: one answer per batch, as large as the batch */
        s = size_only ? ccz_buf_append(all, tags, len) : send_tags(sd, tags, got, got);
        have += got;
    }
    free(tags);
    if (s == CCZ_OK && size_only) {
        if (n_peer > 1)
            qsort(all->ptr, (size_t)n_peer, PSI_ECDH_TAG_BYTES, tag_cmp);
        s = send_tags(sd, all->ptr, n_peer, sd->batch);
    }
    return s;
}

/* This side's items, blinded, in a random order. */
static ccz_status server_phase2(side *sd, const ccz_psi_set *set, uint32_t *perm)
{
    size_t n = ccz_psi_set_size(set);
    for (size_t i = 0; i < n; i++)
        perm[i] = (uint32_t)i;
    for (size_t i = n; i > 1; i--) { /* Fisher-Yates */
        size_t j = randombytes_uniform((uint32_t)i);
        uint32_t x = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = x;
    }
    for (size_t at = 0; at < n;) {
        uint32_t b = (uint32_t)(n - at < sd->batch ? n - at : sd->batch);
        CCZ_GUARD(put_blinded(sd, set, perm, at, b));
        CCZ_GUARD(chan_send(&sd->ch));
        at += b;
    }
    return CCZ_OK;
}

static ccz_status server_run(side *sd, ccz_psi_ecdh_result *r, const ccz_psi_set *set)
{
    psi_ecdh_hello mine = {CCZ_PSI_ECDH_VERSION, false, r->local_items}, peer;
    ccz_span body;
    /* the client's hello first: this side answers in its mode */
    CCZ_GUARD(chan_expect(&sd->ch, PSI_ECDH_HELLO, &body));
    CCZ_GUARD(psi_ecdh_parse_hello(&peer, body, sd->max_peer));
    mine.size_only = r->size_only = peer.size_only;
    r->peer_items = peer.items;
    CCZ_GUARD(psi_ecdh_put_hello(&sd->ch.out, &mine));
    CCZ_GUARD(chan_send(&sd->ch));

    ccz_buf all = CCZ_BUF_INIT;
    uint32_t *perm = malloc(r->local_items ? r->local_items * sizeof *perm : 1);
    ccz_status s = perm ? CCZ_OK : ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    if (s == CCZ_OK)
        s = server_phase1(sd, peer.items, peer.size_only, &all);
    if (s == CCZ_OK)
        s = server_phase2(sd, set, perm);
    if (s == CCZ_OK && (s = chan_expect(&sd->ch, PSI_ECDH_DONE, &body)) == CCZ_OK)
        s = body.len == 0 ? CCZ_OK
                          : ccz_fail(CCZ_ERR_TRAILING_DATA, "psi ecdh: bytes in the done message");
    ccz_buf_free(&all);
    free(perm);
    return s;
}

ccz_status ccz_psi_ecdh_server(ccz_psi_ecdh_result *out, ccz_psi_set *set, const ccz_psi_io *io,
                               const ccz_psi_ecdh_opts *o)
{
    memset(out, 0, sizeof *out);
    side sd;
    ccz_status s = side_init(&sd, io, o);
    if (s == CCZ_OK)
        s = ccz_psi_set_seal(set);
    if (s == CCZ_OK) {
        out->local_items = ccz_psi_set_size(set);
        s = server_run(&sd, out, set);
        if (s)
            chan_abort(&sd.ch, s);
    }
    out->bytes_sent = sd.ch.sent;
    out->bytes_received = sd.ch.received;
    side_free(&sd);
    return s;
}

void ccz_psi_ecdh_result_free(ccz_psi_ecdh_result *r)
{
    if (!r)
        return;
    free(r->indices);
    r->indices = NULL;
}
