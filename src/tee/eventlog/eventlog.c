/* SPDX-License-Identifier: Apache-2.0 */
/* TCG2 crypto-agile event logs (CCEL and the like): the Spec ID event, the TCG_PCR_EVENT2
 * records, and the replay of the registers they extend, after the TCG PC Client PFP §10 and the
 * rules of trustee's eventlog crate (deps/eventlog/src/lib.rs). The log is untrusted: it is read
 * through the core cursor only; hashes are OpenSSL's (SM3 too). */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "core/guard.h"
#include "tee/eventlog/eventlog_internal.h"

#define EV_NO_ACTION 3u
/* The TCG_PCClientPCREvent of the Spec ID event: PCR index, type, SHA-1 digest, size. */
#define SPEC_ID_ALGS_OFFSET 24 /* signature[16], platformClass, versions, uintnSize */

static const struct {
    uint16_t alg;
    uint16_t size;
    const char *name;  /* ours, lower case */
    const char *trust; /* trustee's (serde) */
} algs[] = {
    {CCZ_EVLOG_SHA1, 20, "sha1", "SHA-1"},       {CCZ_EVLOG_SHA256, 32, "sha256", "SHA-256"},
    {CCZ_EVLOG_SHA384, 48, "sha384", "SHA-384"}, {CCZ_EVLOG_SHA512, 64, "sha512", "SHA-512"},
    {CCZ_EVLOG_SM3, 32, "sm3", "SM3"},
};

static int alg_slot(uint16_t alg)
{
    for (size_t i = 0; i < CCZ_ARRAY_LEN(algs); i++)
        if (algs[i].alg == alg)
            return (int)i;
    return -1;
}

size_t ccz_eventlog_alg_size(uint16_t alg)
{
    int i = alg_slot(alg);
    return i < 0 ? 0 : algs[i].size;
}

const char *ccz_eventlog_alg_name(uint16_t alg)
{
    int i = alg_slot(alg);
    return i < 0 ? NULL : algs[i].name;
}

const char *evlog_alg_trustee_name(uint16_t alg)
{
    int i = alg_slot(alg);
    return i < 0 ? "unknown" : algs[i].trust;
}

ccz_status ccz_eventlog_alg_parse(uint16_t *out, const char *name)
{
    for (size_t i = 0; i < CCZ_ARRAY_LEN(algs); i++)
        if (strcmp(name, algs[i].name) == 0) {
            *out = algs[i].alg;
            return CCZ_OK;
        }
    return ccz_fail(CCZ_ERR_INVALID_ARGUMENT,
                    "unknown event log algorithm '%s' (sha1, sha256, sha384, sha512, sm3)", name);
}

const EVP_MD *evlog_md(uint16_t alg)
{
    switch (alg) {
    case CCZ_EVLOG_SHA1:
        return EVP_sha1();
    case CCZ_EVLOG_SHA256:
        return EVP_sha256();
    case CCZ_EVLOG_SHA384:
        return EVP_sha384();
    case CCZ_EVLOG_SHA512:
        return EVP_sha512();
    case CCZ_EVLOG_SM3:
        return EVP_sm3();
    default:
        return NULL;
    }
}

/* The event types trustee's TcgEventType knows, with its names. */
static const struct {
    uint32_t type;
    const char *name;
} types[] = {
    {0x0, "EV_PREBOOT_CERT"},
    {0x1, "EV_POST_CODE"},
    {0x2, "EV_UNUSED"},
    {0x3, "EV_NO_ACTION"},
    {0x4, "EV_SEPARATOR"},
    {0x5, "EV_ACTION"},
    {0x6, "EV_EVENT_TAG"},
    {0x7, "EV_S_CRTM_CONTENTS"},
    {0x8, "EV_S_CRTM_VERSION"},
    {0x9, "EV_CPU_MICROCODE"},
    {0xa, "EV_PLATFORM_CONFIG_FLAGS"},
    {0xb, "EV_TABLE_OF_DEVICES"},
    {0xc, "EV_COMPACT_HASH"},
    {0xd, "EV_IPL"},
    {0xe, "EV_IPL_PARTITION_DATA"},
    {0xf, "EV_NONHOST_CODE"},
    {0x10, "EV_NONHOST_CONFIG"},
    {0x11, "EV_NONHOST_INFO"},
    {0x12, "EV_OMIT_BOOT_DEVICE_EVENTS"},
    {0x80000000, "EV_EFI_EVENT_BASE"},
    {0x80000001, "EV_EFI_VARIABLE_DRIVER_CONFIG"},
    {0x80000002, "EV_EFI_VARIABLE_BOOT"},
    {0x80000003, "EV_EFI_BOOT_SERVICES_APPLICATION"},
    {0x80000004, "EV_EFI_BOOT_SERVICES_DRIVER"},
    {0x80000005, "EV_EFI_RUNTIME_SERVICES_DRIVER"},
    {0x80000006, "EV_EFI_GPT_EVENT"},
    {0x80000007, "EV_EFI_ACTION"},
    {0x80000008, "EV_EFI_PLATFORM_FIRMWARE_BLOB"},
    {0x80000009, "EV_EFI_HANDOFF_TABLES"},
    {0x8000000a, "EV_EFI_PLATFORM_FIRMWARE_BLOB2"},
    {0x8000000b, "EV_EFI_HANDOFF_TABLES2"},
    {0x8000000c, "EV_EFI_VARIABLE_BOOT2"},
    {0x80000010, "EV_EFI_HCRTM_EVENT"},
    {0x800000e0, "EV_EFI_VARIABLE_AUTHORITY"},
    {0x800000e1, "EV_EFI_SPDM_FIRMWARE_BLOB"},
    {0x800000e2, "EV_EFI_SPDM_FIRMWARE_CONFIG"},
};

const char *ccz_event_type_name(uint32_t type)
{
    for (size_t i = 0; i < CCZ_ARRAY_LEN(types); i++)
        if (types[i].type == type)
            return types[i].name;
    return NULL;
}

/* ---- parsing ---------------------------------------------------------------------------------*/

/* The Spec ID event: which algorithms the records' digests use, and their sizes. */
static ccz_status read_spec_id(ccz_eventlog *l, ccz_cursor *c)
{
    uint32_t index, type, size, n;
    ccz_span data;
    CCZ_GUARD(ccz_cursor_u32le(c, &index));
    CCZ_GUARD(ccz_cursor_u32le(c, &type));
    CCZ_GUARD(ccz_cursor_skip(c, 20)); /* the SHA-1 digest field, zeros */
    CCZ_GUARD(ccz_cursor_u32le(c, &size));
    CCZ_ENSURE(type == EV_NO_ACTION, CCZ_ERR_MALFORMED,
               "the first record is of type 0x%x, not the Spec ID event (EV_NO_ACTION)", type);
    CCZ_GUARD(ccz_cursor_take(c, &data, size));
    ccz_cursor s;
    ccz_cursor_init(&s, data);
    CCZ_GUARD(ccz_cursor_skip(&s, SPEC_ID_ALGS_OFFSET));
    CCZ_GUARD(ccz_cursor_u32le(&s, &n));
    CCZ_ENSURE(n >= 1 && n <= CCZ_EVLOG_MAX_ALGS, CCZ_ERR_MALFORMED,
               "the Spec ID event lists %u algorithms (1 to %d expected)", n, CCZ_EVLOG_MAX_ALGS);
    for (uint32_t i = 0; i < n; i++) {
        uint16_t alg, dsize;
        CCZ_GUARD(ccz_cursor_u16le(&s, &alg));
        CCZ_GUARD(ccz_cursor_u16le(&s, &dsize));
        CCZ_ENSURE(ccz_eventlog_alg_size(alg) != 0, CCZ_ERR_UNSUPPORTED,
                   "the Spec ID event lists algorithm 0x%04x, which ccz does not know", alg);
        CCZ_ENSURE(dsize == ccz_eventlog_alg_size(alg), CCZ_ERR_MALFORMED,
                   "the Spec ID event gives %s digests %u bytes, not %zu",
                   ccz_eventlog_alg_name(alg), dsize, ccz_eventlog_alg_size(alg));
        CCZ_ENSURE(!ccz_eventlog_has_alg(l, alg), CCZ_ERR_MALFORMED,
                   "the Spec ID event lists %s twice", ccz_eventlog_alg_name(alg));
        l->sizes[l->n_algs] = dsize;
        l->algs[l->n_algs++] = alg;
    }
    uint8_t vendor;
    CCZ_GUARD(ccz_cursor_u8(&s, &vendor));
    CCZ_GUARD(ccz_cursor_skip(&s, vendor));
    return ccz_cursor_expect_end(&s);
}

/* Whether the next min(8, remaining) bytes are all 0xFF or all 0x00: the end of the records
 * in a CCEL area (trustee's stop flag). */
static bool at_stop(const ccz_cursor *c)
{
    size_t n = ccz_cursor_remaining(c);
    ccz_span p;
    if (ccz_cursor_peek(c, &p, n < 8 ? n : 8) != CCZ_OK)
        return false;
    uint8_t all_or = 0, all_and = 0xff;
    for (size_t i = 0; i < p.len; i++) {
        all_or |= p.ptr[i];
        all_and &= p.ptr[i];
    }
    return all_or == 0 || all_and == 0xff;
}

/* A little-endian field inside a span the cursor took (the take checked its length). */
static inline uint32_t le_at(ccz_span s, size_t off, size_t n)
{
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint32_t)s.ptr[off + i] << (8 * i);
    return v;
}

/* One TCG_PCR_EVENT2 record. Its fixed parts are taken whole and decoded from the span taken:
 * a replay reads every record, and a cursor call per field cost as much as a third of a hash. */
static ccz_status read_event(ccz_event *e, const ccz_eventlog *l, ccz_cursor *c)
{
    ccz_span h;
    CCZ_GUARD(ccz_cursor_take(c, &h, 12)); /* PCR index, event type, digest count */
    e->index = le_at(h, 0, 4);
    e->type = le_at(h, 4, 4);
    uint32_t n = le_at(h, 8, 4);
    e->n_digests = 0;
    CCZ_ENSURE(n <= CCZ_EVLOG_MAX_ALGS, CCZ_ERR_MALFORMED, "an event claims %u digests", n);
    /* a record no replay extends with would be appraised all the same: one digest at least */
    CCZ_ENSURE(n >= 1, CCZ_ERR_MALFORMED, "an event has no digest");
    for (uint32_t i = 0; i < n; i++) {
        ccz_span a, d;
        CCZ_GUARD(ccz_cursor_take(c, &a, 2));
        uint16_t alg = (uint16_t)le_at(a, 0, 2);
        size_t k = 0;
        while (k < l->n_algs && l->algs[k] != alg)
            k++;
        CCZ_ENSURE(k < l->n_algs, CCZ_ERR_MALFORMED,
                   "an event has a digest of algorithm 0x%04x, which the Spec ID event does not "
                   "list",
                   alg);
        /* a second digest of one algorithm would extend its register twice for one event */
        for (size_t j = 0; j < e->n_digests; j++)
            CCZ_ENSURE(e->digests[j].alg != alg, CCZ_ERR_MALFORMED,
                       "an event has two digests of algorithm %s", ccz_eventlog_alg_name(alg));
        CCZ_GUARD(ccz_cursor_take(c, &d, l->sizes[k]));
        e->digests[e->n_digests].alg = alg;
        e->digests[e->n_digests++].digest = d.ptr;
    }
    CCZ_GUARD(ccz_cursor_take(c, &h, 4));
    return ccz_cursor_take(c, &e->data, le_at(h, 0, 4));
}

/* The largest log read (parsed or replayed from its bytes): checked before a byte is copied. */
static ccz_status check_log_size(size_t len)
{
    CCZ_ENSURE(len <= CCZ_EVLOG_MAX_BYTES, CCZ_ERR_TOO_LARGE, "event log: %zu bytes, more than %u",
               len, CCZ_EVLOG_MAX_BYTES);
    return CCZ_OK;
}

static ccz_status parse_records(ccz_eventlog *l)
{
    ccz_cursor c;
    ccz_cursor_init(&c, ccz_buf_span(&l->bytes));
    CCZ_GUARD(read_spec_id(l, &c));
    while (ccz_cursor_remaining(&c) > 0 && !at_stop(&c)) {
        if (l->n_events == l->cap) {
            size_t cap = l->cap ? 2 * l->cap : 64;
            ccz_event *ev = realloc(l->events, cap * sizeof *ev);
            CCZ_ENSURE(ev, CCZ_ERR_NOMEM, "out of memory");
            l->events = ev;
            l->cap = cap;
        }
        memset(&l->events[l->n_events], 0, sizeof l->events[l->n_events]);
        ccz_status s = read_event(&l->events[l->n_events], l, &c);
        if (s)
            return ccz_fail_context(s, "event %zu (at offset %zu)", l->n_events, c.pos);
        l->n_events++;
    }
    l->used = c.pos;
    return CCZ_OK;
}

ccz_status ccz_eventlog_parse(ccz_eventlog **out, ccz_span log)
{
    *out = NULL;
    CCZ_GUARD(check_log_size(log.len));
    ccz_eventlog *l = calloc(1, sizeof *l);
    CCZ_ENSURE(l, CCZ_ERR_NOMEM, "out of memory");
    ccz_buf_init(&l->bytes, 0, false);
    ccz_status s = ccz_buf_append(&l->bytes, log.ptr, log.len);
    if (s == CCZ_OK && (s = parse_records(l)) != CCZ_OK)
        ccz_fail_context(s, "event log");
    if (s) {
        ccz_eventlog_free(l);
        return s;
    }
    *out = l;
    return CCZ_OK;
}

static bool is_b64_text(ccz_span in)
{
    if (!in.len)
        return false;
    for (size_t i = 0; i < in.len; i++) {
        uint8_t ch = in.ptr[i];
        if (!(isalnum(ch) || ch == '+' || ch == '/' || ch == '=' || isspace(ch)))
            return false;
    }
    return true;
}

/* Base64 text without its whitespace, decoded. */
static ccz_status b64_text(ccz_buf *out, const char *p, size_t n)
{
    ccz_buf t = CCZ_BUF_INIT;
    ccz_status s = CCZ_OK;
    for (size_t i = 0; i < n && s == CCZ_OK; i++)
        if (!isspace((unsigned char)p[i]))
            s = ccz_buf_append_u8(&t, (uint8_t)p[i]);
    if (s == CCZ_OK)
        s = ccz_base64_decode(out, t.len ? (const char *)t.ptr : "", t.len);
    ccz_buf_free(&t);
    return s;
}

ccz_status ccz_eventlog_load(ccz_eventlog **out, ccz_span in)
{
    *out = NULL;
    size_t lead = 0;
    while (lead < in.len && isspace(in.ptr[lead]))
        lead++;
    ccz_buf bin = CCZ_BUF_INIT;
    ccz_status s = CCZ_OK;
    if (lead < in.len && in.ptr[lead] == '{') {
        ccz_json *doc = NULL;
        s = ccz_json_parse(&doc, (const char *)in.ptr, in.len, CCZ_EVLOG_MAX_BYTES * 2);
        json_t *v = s == CCZ_OK ? json_object_get((json_t *)doc, "cc_eventlog") : NULL;
        if (s == CCZ_OK && !json_is_string(v))
            s = ccz_fail(CCZ_ERR_NOT_FOUND, "the JSON document has no \"cc_eventlog\" string");
        if (s == CCZ_OK &&
            (s = b64_text(&bin, json_string_value(v), json_string_length(v))) != CCZ_OK)
            ccz_fail_context(s, "cc_eventlog");
        ccz_json_free(doc);
    } else if (is_b64_text(in)) {
        if ((s = b64_text(&bin, (const char *)in.ptr, in.len)) != CCZ_OK)
            ccz_fail_context(s, "event log in base64");
    } else {
        return ccz_eventlog_parse(out, in);
    }
    if (s == CCZ_OK)
        s = ccz_eventlog_parse(out, ccz_buf_span(&bin));
    ccz_buf_free(&bin);
    return s;
}

void ccz_eventlog_free(ccz_eventlog *l)
{
    if (!l)
        return;
    ccz_buf_free(&l->bytes);
    free(l->events);
    free(l);
}

size_t ccz_eventlog_size(const ccz_eventlog *l)
{
    return l->used;
}

size_t ccz_eventlog_count(const ccz_eventlog *l)
{
    return l->n_events;
}

const ccz_event *ccz_eventlog_event(const ccz_eventlog *l, size_t i)
{
    return i < l->n_events ? &l->events[i] : NULL;
}

bool ccz_eventlog_has_alg(const ccz_eventlog *l, uint16_t alg)
{
    for (size_t i = 0; i < l->n_algs; i++)
        if (l->algs[i] == alg)
            return true;
    return false;
}

uint16_t ccz_eventlog_default_alg(const ccz_eventlog *l)
{
    static const uint16_t pref[] = {CCZ_EVLOG_SM3, CCZ_EVLOG_SHA384, CCZ_EVLOG_SHA256};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(pref); i++)
        if (ccz_eventlog_has_alg(l, pref[i]))
            return pref[i];
    return l->algs[0];
}

/* ---- replay ----------------------------------------------------------------------------------*/

/* The digests fetched once per process: an init with EVP_sha384() and the like fetches the
 * algorithm from the provider every time, which costs more than hashing 96 bytes. */
static EVP_MD *fetched[CCZ_ARRAY_LEN(algs)];
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

static void fetch_all(void)
{
    for (size_t i = 0; i < CCZ_ARRAY_LEN(algs); i++)
        fetched[i] = EVP_MD_fetch(NULL, EVP_MD_get0_name(evlog_md(algs[i].alg)), NULL);
}

static const EVP_MD *fetched_md(uint16_t alg)
{
    int i = alg_slot(alg);
    pthread_once(&fetch_once, fetch_all);
    return i < 0 ? NULL : fetched[i];
}

/* One digest context per thread, kept between replays (freed when the thread ends): a new
 * context's first init allocates the provider's state, which costs as much as a few extends. */
static pthread_key_t ctx_key;
static pthread_once_t ctx_once = PTHREAD_ONCE_INIT;
static bool ctx_key_ok;

static void ctx_free(void *p)
{
    EVP_MD_CTX_free(p);
}

static void ctx_key_create(void)
{
    ctx_key_ok = pthread_key_create(&ctx_key, ctx_free) == 0;
}

/* The thread's context (kept: *owned false), or a new one the caller frees (*owned true). */
static EVP_MD_CTX *thread_ctx(bool *owned)
{
    pthread_once(&ctx_once, ctx_key_create);
    EVP_MD_CTX *ctx = ctx_key_ok ? pthread_getspecific(ctx_key) : NULL;
    *owned = false;
    if (ctx)
        return ctx;
    if (!(ctx = EVP_MD_CTX_new()))
        return NULL;
    *owned = !ctx_key_ok || pthread_setspecific(ctx_key, ctx) != 0;
    return ctx;
}

/* The registers of one replay, each kept as R || the digest to extend it with, so an extend is
 * one copy of the digest and one hash of the whole; one context serves every extend. */
typedef struct {
    const uint32_t *indices;
    size_t n_regs;
    uint16_t alg;
    size_t size; /* the digest size */
    const EVP_MD *md;
    EVP_MD_CTX *ctx;
    bool own_ctx; /* ctx is not the thread's */
    bool primed;  /* ctx was initialised with md in this replay: later inits pass NULL */
    uint8_t reg[CCZ_EVLOG_MAX_REPLAY][128];
} replayer;

static ccz_status replayer_init(replayer *x, const ccz_eventlog *l, const uint32_t *indices,
                                size_t n, uint16_t alg, size_t out_len)
{
    x->size = ccz_eventlog_alg_size(alg);
    CCZ_ENSURE(x->size && ccz_eventlog_has_alg(l, alg), CCZ_ERR_UNSUPPORTED,
               "the event log has no %s digests",
               ccz_eventlog_alg_name(alg) ? ccz_eventlog_alg_name(alg) : "such");
    CCZ_ENSURE(n <= CCZ_EVLOG_MAX_REPLAY, CCZ_ERR_INVALID_ARGUMENT,
               "replay: %zu registers at once, more than %d", n, CCZ_EVLOG_MAX_REPLAY);
    CCZ_ENSURE(out_len >= n * x->size, CCZ_ERR_INVALID_ARGUMENT,
               "replay: %zu bytes given for %zu registers of %zu", out_len, n, x->size);
    x->indices = indices;
    x->n_regs = n;
    x->alg = alg;
    x->md = fetched_md(alg);
    x->ctx = x->md ? thread_ctx(&x->own_ctx) : NULL;
    x->primed = false;
    if (!x->ctx)
        return ccz_fail_ossl(CCZ_ERR_CRYPTO, "replay: no %s", ccz_eventlog_alg_name(alg));
    for (size_t i = 0; i < n; i++)
        memset(x->reg[i], 0, x->size);
    return CCZ_OK;
}

/* Extends register slot r with the event's digest of the replay's algorithm. */
static ccz_status replayer_extend_one(replayer *x, const ccz_event *e, size_t r)
{
    for (size_t k = 0; k < e->n_digests; k++) {
        if (e->digests[k].alg != x->alg)
            continue;
        uint8_t *in = x->reg[r];
        memcpy(in + x->size, e->digests[k].digest, x->size);
        /* NULL: the same digest again, which OpenSSL 3.0 re-initialises with less work */
        if (EVP_DigestInit_ex2(x->ctx, x->primed ? NULL : x->md, NULL) != 1 ||
            EVP_DigestUpdate(x->ctx, in, 2 * x->size) != 1 ||
            EVP_DigestFinal_ex(x->ctx, in, NULL) != 1)
            return ccz_fail_ossl(CCZ_ERR_CRYPTO, "replay: %s failed",
                                 ccz_eventlog_alg_name(x->alg));
        x->primed = true;
    }
    return CCZ_OK;
}

/* Extends the registers the event names (each place the replay's indices name it: a register
 * asked for twice is replayed in both places, not left at zeros in the second) with its digest
 * of the replay's algorithm. */
static ccz_status replayer_extend(replayer *x, const ccz_event *e)
{
    for (size_t r = 0; r < x->n_regs; r++)
        if (x->indices[r] == e->index)
            CCZ_GUARD(replayer_extend_one(x, e, r));
    return CCZ_OK;
}

static void replayer_finish(replayer *x, uint8_t *out)
{
    for (size_t i = 0; i < x->n_regs; i++)
        memcpy(out + i * x->size, x->reg[i], x->size);
    if (x->own_ctx)
        EVP_MD_CTX_free(x->ctx);
}

ccz_status ccz_eventlog_replay_many(uint8_t *out, size_t out_len, const ccz_eventlog *l,
                                    const uint32_t *indices, size_t n, uint16_t alg)
{
    static __thread replayer x;
    CCZ_GUARD(replayer_init(&x, l, indices, n, alg, out_len));
    ccz_status s = CCZ_OK;
    for (size_t i = 0; i < l->n_events && s == CCZ_OK; i++)
        s = replayer_extend(&x, &l->events[i]);
    replayer_finish(&x, out);
    return s;
}

ccz_status ccz_eventlog_replay(uint8_t *out, size_t out_len, const ccz_eventlog *l, uint32_t index,
                               uint16_t alg)
{
    return ccz_eventlog_replay_many(out, out_len, l, &index, 1, alg);
}

ccz_status ccz_eventlog_replay_bytes(uint8_t *out, size_t out_len, size_t *used, ccz_span log,
                                     const uint32_t *indices, size_t n, uint16_t alg)
{
    CCZ_GUARD(check_log_size(log.len));
    /* the log object's header alone: its records are read one at a time and not kept */
    static __thread ccz_eventlog l;
    static __thread replayer x;
    memset(&l, 0, sizeof l);
    ccz_cursor c;
    ccz_cursor_init(&c, log);
    ccz_status s = read_spec_id(&l, &c);
    if (s)
        return ccz_fail_context(s, "event log");
    CCZ_GUARD(replayer_init(&x, &l, indices, n, alg, out_len));
    ccz_event e;
    for (size_t i = 0; s == CCZ_OK && ccz_cursor_remaining(&c) > 0 && !at_stop(&c); i++) {
        if ((s = read_event(&e, &l, &c)) != CCZ_OK)
            s = ccz_fail_context(s, "event log: event %zu (at offset %zu)", i, c.pos);
        else
            s = replayer_extend(&x, &e);
    }
    replayer_finish(&x, out);
    if (used)
        *used = c.pos;
    return s;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

size_t ccz_eventlog_indices(uint32_t *out, size_t cap, const ccz_eventlog *l)
{
    size_t n = 0;
    for (uint32_t i = 1; i <= 4 && n < cap; i++)
        out[n++] = i;
    for (size_t i = 0; i < l->n_events && n < cap; i++) {
        bool seen = false;
        for (size_t k = 0; k < n && !seen; k++)
            seen = out[k] == l->events[i].index;
        if (!seen)
            out[n++] = l->events[i].index;
    }
    qsort(out, n, sizeof *out, cmp_u32);
    return n;
}

size_t evlog_count_indices(const ccz_eventlog *l)
{
    uint32_t *all = malloc((l->n_events + 4) * sizeof *all);
    if (!all)
        return SIZE_MAX;
    size_t n = 0, distinct = 0;
    for (uint32_t i = 1; i <= 4; i++)
        all[n++] = i;
    for (size_t i = 0; i < l->n_events; i++)
        all[n++] = l->events[i].index;
    qsort(all, n, sizeof *all, cmp_u32);
    for (size_t i = 0; i < n; i++)
        distinct += i == 0 || all[i] != all[i - 1];
    free(all);
    return distinct;
}
