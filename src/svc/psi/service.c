/* SPDX-License-Identifier: Apache-2.0 */
/* The TEE PSI service (include/ccz/psi.h): CCZoo's psi.PSI with answers given when the last
 * party arrives (no thread waits), one session after another, parties known by their
 * connection and attested claims, every wait bounded. Runs on the RPC server's loop only. */
#include <stdlib.h>
#include <string.h>

#include "ccz/psi.h"
#include "core/guard.h"
#include "core/listener.h"
#include "internal.h"
#include "psi.pb-c.h"
#include "svc/peer.h"

#define NAME_MAX_LEN 128
#define TICK_MS 200
#define PUMP_MS 1
#define STREAM_CHUNK (1u << 20) /* bytes of items per streamed Results, at most */
#define STREAM_LOW (256u << 10) /* the next Results goes out when less than this is queued */

typedef enum { HELD_NONE, HELD_CONNECT, HELD_UPLOAD, HELD_STREAM } held_kind;
typedef enum { PH_CONNECT, PH_UPLOAD, PH_RESULTS } phase;

typedef struct {
    char name[NAME_MAX_LEN + 1];
    uint64_t conn;
    bool chief;
    char who[96]; /* the attested identity, or "not attested" */
    ccz_rpc_call *held;
    held_kind kind;
    bool uploaded, served;
    uint64_t items, bytes;
    size_t stream_off;
} party;

typedef struct {
    unsigned id, joined, uploaded, served;
    phase ph;
    party p[CCZ_PSI_MAX_PARTIES];
    psi_table table; /* emptied once the result is computed */
    psi_result result;
    int64_t progress; /* monotonic ms of the last party's action */
    int64_t started;
} session;

struct ccz_psi_service {
    ccz_rpc_server *rpc;
    unsigned parties, timeout_ms;
    size_t max_memory;
    FILE *log;
    session *s;
    unsigned sessions;
    ccz_rpc_timer *tick, *pump;
    size_t chunk; /* bytes of items per streamed Results: halved while the server's max_message
                   * refuses them */
    /* the last session that ended badly: its parties' connections and why, for their calls */
    uint64_t ended_conns[CCZ_PSI_MAX_PARTIES];
    unsigned n_ended;
    char ended_why[400];
};

#define say(v, ...) svc_log((v)->log, "psi", __VA_ARGS__)

/* A name that is safe in a log line: UTF-8 without control characters. */
static bool name_ok(const char *name, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
            return false;
    return psi_utf8_ok((const uint8_t *)name, len);
}

/* ---- parties and sessions --------------------------------------------------------------------*/

static party *find_party(session *s, uint64_t conn)
{
    for (unsigned i = 0; s && i < s->joined; i++)
        if (s->p[i].conn == conn)
            return &s->p[i];
    return NULL;
}

/* "alice, bob": the parties connected so far while the session gathers them, then those it
 * waits for (to upload, then to fetch the result). */
static void names(char *out, size_t cap, const session *s)
{
    size_t n = 0;
    out[0] = 0;
    for (unsigned i = 0; i < s->joined && n < cap; i++) {
        const party *p = &s->p[i];
        bool pick = s->ph == PH_CONNECT ? true : s->ph == PH_UPLOAD ? !p->uploaded : !p->served;
        if (pick)
            n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? ", " : "", p->name);
    }
}

static void release(party *p)
{
    if (p->held)
        ccz_rpc_call_unref(p->held);
    p->held = NULL;
    p->kind = HELD_NONE;
}

static void hold(party *p, ccz_rpc_call *call, held_kind kind)
{
    ccz_rpc_call_ref(call);
    p->held = call;
    p->kind = kind;
}

static void session_free(session *s)
{
    for (unsigned i = 0; i < s->joined; i++)
        release(&s->p[i]);
    psi_table_free(&s->table);
    ccz_buf_free(&s->result.data);
    free(s);
}

/* Ends the current session: every held call gets code and why (code OK: the session is over
 * and nobody waits). */
static void session_end(ccz_psi_service *v, int code, const char *why)
{
    session *s = v->s;
    if (!s)
        return;
    v->n_ended = 0;
    for (unsigned i = 0; i < s->joined; i++) {
        party *p = &s->p[i];
        if (p->held && ccz_rpc_call_alive(p->held))
            (void)!ccz_rpc_finish(p->held, code, why);
        if (code != CCZ_RPC_OK)
            v->ended_conns[v->n_ended++] = p->conn;
    }
    if (code != CCZ_RPC_OK) {
        snprintf(v->ended_why, sizeof v->ended_why, "%s", why);
        say(v, "session %u ended: %s", s->id, why);
    } else {
        say(v, "session %u done: %u parties, %zu items in the intersection, %.1f s", s->id,
            s->joined, s->result.n, (double)(listener_mono_ms() - s->started) / 1000);
    }
    v->s = NULL;
    session_free(s);
    ccz_rpc_timer_stop(v->tick);
}

/* The answer for a call from a connection outside the current session. */
static void not_in_session(ccz_psi_service *v, ccz_rpc_call *call)
{
    uint64_t conn = ccz_rpc_call_connection(call);
    for (unsigned i = 0; i < v->n_ended; i++)
        if (v->ended_conns[i] == conn) {
            (void)!ccz_rpc_finish(call, CCZ_RPC_FAILED_PRECONDITION, v->ended_why);
            return;
        }
    (void)!ccz_rpc_finish(call, CCZ_RPC_FAILED_PRECONDITION,
                          "this connection has not joined a PSI session: call Connect first");
}

static void timeout_message(char *out, size_t cap, const ccz_psi_service *v, const session *s)
{
    char who[600];
    double secs = (double)v->timeout_ms / 1000;
    switch (s->ph) {
    case PH_CONNECT:
        names(who, sizeof who, s);
        snprintf(out, cap,
                 "PSI session %u timed out after %.1f s waiting for %u of %u parties to connect "
                 "(connected: %s)",
                 s->id, secs, v->parties - s->joined, v->parties, who);
        break;
    case PH_UPLOAD:
        names(who, sizeof who, s);
        snprintf(out, cap, "PSI session %u timed out after %.1f s waiting for %s to upload", s->id,
                 secs, who);
        break;
    case PH_RESULTS:
        names(who, sizeof who, s);
        snprintf(out, cap,
                 "PSI session %u timed out after %.1f s waiting for %s to fetch the result", s->id,
                 secs, who);
        break;
    }
}

static void on_tick(void *arg)
{
    ccz_psi_service *v = arg;
    session *s = v->s;
    if (!s)
        return;
    /* a party that left while waiting for the others: before the session starts its seat is
     * free again; after, the session cannot finish */
    for (unsigned i = 0; i < s->joined; i++) {
        party *p = &s->p[i];
        if (!p->held || ccz_rpc_call_alive(p->held))
            continue;
        if (s->ph == PH_CONNECT) {
            say(v, "session %u: %s left before the session started", s->id, p->name);
            release(p);
            memmove(p, p + 1, (s->joined - i - 1) * sizeof *p);
            s->joined--;
            i--;
            continue;
        }
        if (p->kind == HELD_STREAM) /* it gave up on the result: nobody else is hurt */
            continue;
        char why[300];
        snprintf(why, sizeof why,
                 "PSI session %u aborted: %s left (its call was cancelled or "
                 "its connection closed) while waiting for the others",
                 s->id, p->name);
        session_end(v, CCZ_RPC_ABORTED, why);
        return;
    }
    if (s->joined == 0) {
        say(v, "session %u: every party left", s->id);
        v->s = NULL;
        session_free(s);
        return;
    }
    if (listener_mono_ms() - s->progress >= v->timeout_ms) {
        char why[900];
        timeout_message(why, sizeof why, v, s);
        session_end(v, CCZ_RPC_DEADLINE_EXCEEDED, why);
        return;
    }
    ccz_rpc_timer_arm(v->tick, TICK_MS);
}

static ccz_status session_new(ccz_psi_service *v)
{
    session *s = calloc(1, sizeof *s);
    CCZ_ENSURE(s, CCZ_ERR_NOMEM, "out of memory");
    ccz_status st = psi_table_init(&s->table);
    if (st) {
        free(s);
        return st;
    }
    s->table.limit = v->max_memory;
    s->id = ++v->sessions;
    s->started = s->progress = listener_mono_ms();
    v->s = s;
    ccz_rpc_timer_arm(v->tick, TICK_MS);
    return CCZ_OK;
}

/* ---- handlers --------------------------------------------------------------------------------*/

static void on_attest(ccz_rpc_call *call, const ProtobufCMessage *req, void *payload)
{
    ccz_psi_service *v = payload;
    const Psi__RARequest *r = (const Psi__RARequest *)req;
    char who[96];
    svc_peer_identity(who, sizeof who, ccz_rpc_call_peer(call));
    say(v, "remote attestation from %.64s: %s",
        r->name && name_ok(r->name, strlen(r->name)) ? r->name : "?", who);
    Psi__RAReply reply = PSI__RAREPLY__INIT;
    reply.message = "Remote attestation succeed!"; /* what CCZoo's data providers expect */
    (void)!ccz_rpc_reply(call, &reply.base);
}

static void answer_connects(session *s)
{
    Psi__ConnectReply reply = PSI__CONNECT_REPLY__INIT;
    reply.message = "All clients connect successfully.";
    for (unsigned i = 0; i < s->joined; i++) {
        party *p = &s->p[i];
        if (p->kind == HELD_CONNECT && ccz_rpc_call_alive(p->held))
            (void)!ccz_rpc_reply(p->held, &reply.base);
        release(p);
    }
}

static void on_connect(ccz_rpc_call *call, const ProtobufCMessage *req, void *payload)
{
    ccz_psi_service *v = payload;
    const Psi__ConnectRequest *r = (const Psi__ConnectRequest *)req;
    const char *name = r->client_name ? r->client_name : "";
    size_t len = strlen(name);
    char msg[400];
    if (!len || len > NAME_MAX_LEN || !name_ok(name, len)) {
        (void)!ccz_rpc_finish(call, CCZ_RPC_INVALID_ARGUMENT,
                              "client_name must be 1 to 128 bytes of UTF-8 without control "
                              "characters");
        return;
    }
    if (r->client_num != 0 && r->client_num != (int64_t)v->parties) {
        snprintf(msg, sizeof msg,
                 "client_num is %lld, but this server runs sessions of %u parties (ccz psi serve "
                 "--parties)",
                 (long long)r->client_num, v->parties);
        (void)!ccz_rpc_finish(call, CCZ_RPC_INVALID_ARGUMENT, msg);
        return;
    }
    uint64_t conn = ccz_rpc_call_connection(call);
    session *s = v->s;
    party *same = find_party(s, conn);
    if (same) {
        snprintf(msg, sizeof msg, "this connection joined PSI session %u already, as %s", s->id,
                 same->name);
        (void)!ccz_rpc_finish(call, CCZ_RPC_ALREADY_EXISTS, msg);
        return;
    }
    if (s && s->ph != PH_CONNECT) {
        snprintf(msg, sizeof msg,
                 "PSI session %u of %u parties is under way; connect again when it is over", s->id,
                 v->parties);
        (void)!ccz_rpc_finish(call, CCZ_RPC_UNAVAILABLE, msg);
        return;
    }
    for (unsigned i = 0; s && i < s->joined; i++)
        if (!strcmp(s->p[i].name, name)) {
            snprintf(msg, sizeof msg, "a party named %s has joined PSI session %u already", name,
                     s->id);
            (void)!ccz_rpc_finish(call, CCZ_RPC_ALREADY_EXISTS, msg);
            return;
        }
    if (!s && session_new(v) != CCZ_OK) {
        (void)!ccz_rpc_finish(call, CCZ_RPC_RESOURCE_EXHAUSTED, ccz_error_detail());
        return;
    }
    s = v->s;
    party *p = &s->p[s->joined++];
    memset(p, 0, sizeof *p);
    memcpy(p->name, name, len + 1);
    p->conn = conn;
    p->chief = r->is_chief;
    svc_peer_identity(p->who, sizeof p->who, ccz_rpc_call_peer(call));
    hold(p, call, HELD_CONNECT);
    s->progress = listener_mono_ms();
    say(v, "session %u: %s joined (%u of %u%s; %s)", s->id, p->name, s->joined, v->parties,
        p->chief ? "; chief" : "", p->who);
    if (s->joined == v->parties) {
        s->ph = PH_UPLOAD;
        answer_connects(s);
    }
}

static bool more_coming(ccz_rpc_call *call)
{
    const ccz_buf *m = ccz_rpc_md_get(ccz_rpc_call_metadata(call), "ccz-psi-more");
    return m && m->len == 1 && m->ptr[0] == '1';
}

static void compute(ccz_psi_service *v, session *s)
{
    uint64_t all = v->parties == 64 ? ~(uint64_t)0 : ((uint64_t)1 << v->parties) - 1;
    ccz_status st = psi_table_intersect(&s->result, &s->table, all);
    size_t held = psi_table_bytes(&s->table);
    psi_table_free(&s->table); /* the sets are not needed any more */
    if (st) {
        session_end(v, CCZ_RPC_RESOURCE_EXHAUSTED, ccz_error_detail());
        return;
    }
    s->ph = PH_RESULTS;
    say(v, "session %u: every set is in (%.1f MiB held); %zu items in the intersection", s->id,
        (double)held / (1 << 20), s->result.n);
    Psi__UploadReply reply = PSI__UPLOAD_REPLY__INIT;
    reply.message = "All data uploaded";
    for (unsigned i = 0; i < s->joined; i++) {
        party *p = &s->p[i];
        if (p->kind == HELD_UPLOAD && ccz_rpc_call_alive(p->held))
            (void)!ccz_rpc_reply(p->held, &reply.base);
        release(p);
    }
}

static void on_upload(ccz_rpc_call *call, const ProtobufCMessage *req, void *payload)
{
    ccz_psi_service *v = payload;
    const Psi__DataUploadRequest *r = (const Psi__DataUploadRequest *)req;
    session *s = v->s;
    party *p = find_party(s, ccz_rpc_call_connection(call));
    char msg[400];
    if (!p) {
        not_in_session(v, call);
        return;
    }
    if (s->ph == PH_CONNECT) {
        snprintf(msg, sizeof msg,
                 "PSI session %u is waiting for %u of %u parties to connect: upload once Connect "
                 "has returned",
                 s->id, v->parties - s->joined, v->parties);
        (void)!ccz_rpc_finish(call, CCZ_RPC_FAILED_PRECONDITION, msg);
        return;
    }
    if (p->uploaded) {
        snprintf(msg, sizeof msg, "%s has uploaded its set already", p->name);
        (void)!ccz_rpc_finish(call, CCZ_RPC_FAILED_PRECONDITION, msg);
        return;
    }
    /* the whole chunk is checked before any of it counts */
    for (size_t i = 0; i < r->n_input_data; i++) {
        const ProtobufCBinaryData *d = &r->input_data[i];
        if (d->len > CCZ_PSI_MAX_ITEM || !psi_utf8_ok(d->data, d->len)) {
            if (d->len > CCZ_PSI_MAX_ITEM)
                snprintf(msg, sizeof msg,
                         "item %zu of this upload is %zu bytes; an item is at most %d", i, d->len,
                         CCZ_PSI_MAX_ITEM);
            else
                snprintf(msg, sizeof msg, "item %zu of this upload is not UTF-8", i);
            (void)!ccz_rpc_finish(call, CCZ_RPC_INVALID_ARGUMENT, msg);
            return;
        }
    }
    unsigned bit = (unsigned)(p - s->p);
    uint64_t *hs = r->n_input_data ? malloc(r->n_input_data * sizeof *hs) : NULL;
    if (r->n_input_data && !hs) {
        (void)!ccz_rpc_finish(call, CCZ_RPC_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    for (size_t i = 0; i < r->n_input_data; i++)
        hs[i] = psi_table_hash(&s->table, r->input_data[i].data, r->input_data[i].len);
    ccz_status st = CCZ_OK;
    for (size_t i = 0; i < r->n_input_data && st == CCZ_OK; i++) {
        const ProtobufCBinaryData *d = &r->input_data[i];
        if (i + 16 < r->n_input_data)
            psi_table_prefetch(&s->table, hs[i + 16]);
        st = psi_table_add_hashed(&s->table, bit, hs[i], d->data, d->len);
        p->bytes += d->len;
    }
    free(hs);
    if (s->table.over) { /* the table refused to reserve past the bound */
        /* the command sets whole MiB; a bound of the API's that is not is named in bytes */
        size_t mib = (size_t)1 << 20;
        st = v->max_memory % mib == 0
                 ? ccz_fail(CCZ_ERR_TOO_LARGE,
                            "the sets of PSI session %u need more than %zu MiB (ccz psi serve "
                            "--max-memory)",
                            s->id, v->max_memory / mib)
                 : ccz_fail(CCZ_ERR_TOO_LARGE,
                            "the sets of PSI session %u need more than %zu bytes "
                            "(ccz_psi_service_opts.max_memory)",
                            s->id, v->max_memory);
    }
    if (st) {
        snprintf(msg, sizeof msg, "%s", ccz_error_detail());
        (void)!ccz_rpc_finish(call, CCZ_RPC_RESOURCE_EXHAUSTED, msg);
        session_end(v, CCZ_RPC_RESOURCE_EXHAUSTED, msg);
        return;
    }
    p->items += r->n_input_data;
    s->progress = listener_mono_ms();
    if (more_coming(call)) {
        Psi__UploadReply reply = PSI__UPLOAD_REPLY__INIT;
        snprintf(msg, sizeof msg, "received %zu items (%llu so far)", r->n_input_data,
                 (unsigned long long)p->items);
        reply.message = msg;
        (void)!ccz_rpc_reply(call, &reply.base);
        return;
    }
    p->uploaded = true;
    s->uploaded++;
    say(v, "session %u: %s uploaded %llu item%s (%.1f MiB); %u of %u sets in", s->id, p->name,
        (unsigned long long)p->items, p->items == 1 ? "" : "s", (double)p->bytes / (1 << 20),
        s->uploaded, v->parties);
    hold(p, call, HELD_UPLOAD);
    if (s->uploaded == v->parties)
        compute(v, s);
}

/* ccz-psi-session and ccz-psi-parties: who the result was computed with. */
static void add_parties(ccz_rpc_call *call, const session *s)
{
    char id[16], list[1024];
    size_t n = 0;
    snprintf(id, sizeof id, "%u", s->id);
    for (unsigned i = 0; i < s->joined && n < sizeof list; i++) {
        const party *p = &s->p[i];
        n += (size_t)snprintf(list + n, sizeof list - n, "%s%s (%s%s)", n ? ", " : "", p->name,
                              p->chief ? "chief; " : "", p->who);
    }
    for (size_t i = 0; list[i]; i++) /* metadata values are printable ASCII */
        if ((unsigned char)list[i] < 0x20 || (unsigned char)list[i] > 0x7e)
            list[i] = '?';
    if (ccz_rpc_call_add_trailer(call, "ccz-psi-session", CCZ_SPAN(id, strlen(id))) ||
        ccz_rpc_call_add_trailer(call, "ccz-psi-parties", CCZ_SPAN(list, strlen(list))))
        ccz_error_clear();
}

static void served(ccz_psi_service *v, session *s, party *p)
{
    release(p);
    if (!p->served) {
        p->served = true;
        s->served++;
    }
    s->progress = listener_mono_ms();
    if (s->served == s->joined)
        session_end(v, CCZ_RPC_OK, NULL);
}

/* The checks CalPsi and CalPsiStream share; the party when the call may have the result. */
static party *result_party(ccz_psi_service *v, ccz_rpc_call *call, const Psi__CalPsiRequest *r)
{
    session *s = v->s;
    party *p = find_party(s, ccz_rpc_call_connection(call));
    char msg[400];
    if (!p) {
        not_in_session(v, call);
        return NULL;
    }
    if (r->client_name && r->client_name[0] && strcmp(r->client_name, p->name)) {
        snprintf(msg, sizeof msg, "client_name %.128s is not this connection's party (%s)",
                 r->client_name, p->name);
        (void)!ccz_rpc_finish(call, CCZ_RPC_PERMISSION_DENIED, msg);
        return NULL;
    }
    if (s->ph != PH_RESULTS) {
        snprintf(msg, sizeof msg,
                 "PSI session %u has no result yet: %u of %u parties have uploaded their sets "
                 "(call CalPsi once DataUpload has returned)",
                 s->id, s->uploaded, v->parties);
        (void)!ccz_rpc_finish(call, CCZ_RPC_FAILED_PRECONDITION, msg);
        return NULL;
    }
    if (p->kind == HELD_STREAM) {
        (void)!ccz_rpc_finish(call, CCZ_RPC_FAILED_PRECONDITION,
                              "this party is receiving the result already");
        return NULL;
    }
    add_parties(call, s);
    return p;
}

static void on_calpsi(ccz_rpc_call *call, const ProtobufCMessage *req, void *payload)
{
    ccz_psi_service *v = payload;
    party *p = result_party(v, call, (const Psi__CalPsiRequest *)req);
    if (!p)
        return;
    session *s = v->s;
    Psi__Results res = PSI__RESULTS__INIT;
    ProtobufCBinaryData *items = s->result.n ? calloc(s->result.n, sizeof *items) : NULL;
    if (s->result.n && !items) {
        (void)!ccz_rpc_finish(call, CCZ_RPC_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    size_t off = 0;
    ccz_span it;
    while (res.n_data < s->result.n && psi_result_next(&s->result, &off, &it))
        items[res.n_data++] = (ProtobufCBinaryData){it.len, (uint8_t *)it.ptr};
    res.data = items;
    ccz_status st = ccz_rpc_reply(call, &res.base);
    free(items);
    if (st == CCZ_ERR_TOO_LARGE) {
        char msg[300];
        snprintf(msg, sizeof msg,
                 "the intersection (%zu items, %zu bytes) does not fit one message: call "
                 "/psi.PSI/CalPsiStream",
                 s->result.n, s->result.data.len);
        (void)!ccz_rpc_finish(call, CCZ_RPC_RESOURCE_EXHAUSTED, msg);
        return; /* the party may still stream it */
    }
    if (st)
        (void)!ccz_rpc_finish(call, CCZ_RPC_INTERNAL, ccz_error_detail());
    say(v, "session %u: %s has the result", s->id, p->name);
    served(v, s, p);
}

/* Sends each streaming party its next Results while little of its answer is queued. */
static void on_pump(void *arg)
{
    ccz_psi_service *v = arg;
    session *s = v->s;
    bool again = false;
    ProtobufCBinaryData *items = NULL;
    size_t cap = 0;
    for (unsigned i = 0; s && i < s->joined; i++) {
        party *p = &s->p[i];
        if (p->kind != HELD_STREAM)
            continue;
        ccz_rpc_call *call = p->held;
        bool failed = !ccz_rpc_call_alive(call);
        while (!failed && p->stream_off < s->result.data.len &&
               ccz_rpc_call_unsent(call) < STREAM_LOW) {
            Psi__Results res = PSI__RESULTS__INIT;
            size_t start = p->stream_off, off = start, bytes = 0;
            ccz_span it;
            while (bytes < v->chunk && psi_result_next(&s->result, &off, &it)) {
                if (res.n_data == cap) {
                    size_t ncap = cap ? cap * 2 : 4096;
                    ProtobufCBinaryData *n = realloc(items, ncap * sizeof *n);
                    if (!n)
                        break;
                    items = n;
                    cap = ncap;
                }
                items[res.n_data++] = (ProtobufCBinaryData){it.len, (uint8_t *)it.ptr};
                bytes += it.len + 2;
                p->stream_off = off;
            }
            res.data = items;
            ccz_status st = ccz_rpc_send(call, &res.base);
            if (st == CCZ_ERR_TOO_LARGE && res.n_data > 1) { /* again, in halves */
                p->stream_off = start;
                v->chunk /= 2;
                ccz_error_clear();
                continue;
            }
            failed = st != CCZ_OK;
            if (failed && ccz_rpc_call_alive(call)) { /* one item too large, out of memory */
                say(v, "session %u: %s's result could not be sent: %s", s->id, p->name,
                    ccz_error_detail());
                (void)!ccz_rpc_finish(call, CCZ_RPC_INTERNAL, "the result could not be sent");
            }
        }
        if (!failed && p->stream_off < s->result.data.len) {
            again = true;
            continue;
        }
        if (!failed && ccz_rpc_finish(call, CCZ_RPC_OK, NULL) == CCZ_OK)
            say(v, "session %u: %s has the result", s->id, p->name);
        session *before = v->s;
        served(v, s, p);
        if (v->s != before) /* that was the last party: the session is over */
            s = NULL;
    }
    free(items);
    if (again)
        ccz_rpc_timer_arm(v->pump, PUMP_MS);
}

static void on_calpsi_stream(ccz_rpc_call *call, const ProtobufCMessage *req, void *payload)
{
    ccz_psi_service *v = payload;
    party *p = result_party(v, call, (const Psi__CalPsiRequest *)req);
    if (!p)
        return;
    hold(p, call, HELD_STREAM);
    p->stream_off = 0;
    ccz_rpc_timer_arm(v->pump, 0);
}

/* ---- the service -----------------------------------------------------------------------------*/

ccz_status ccz_psi_service_new(ccz_psi_service **out, ccz_rpc_server *rpc,
                               const ccz_psi_service_opts *o)
{
    CCZ_ENSURE(o && o->version == CCZ_PSI_SERVICE_OPTS_VERSION, CCZ_ERR_INVALID_ARGUMENT,
               "ccz_psi_service_opts: version %u, expected %u", o ? o->version : 0,
               CCZ_PSI_SERVICE_OPTS_VERSION);
    CCZ_ENSURE(o->parties >= 2 && o->parties <= CCZ_PSI_MAX_PARTIES, CCZ_ERR_INVALID_ARGUMENT,
               "a PSI session has 2 to %d parties, not %u", CCZ_PSI_MAX_PARTIES, o->parties);
    CCZ_ENSURE(sodium_init() >= 0, CCZ_ERR_CRYPTO, "libsodium cannot start");
    ccz_psi_service *v = calloc(1, sizeof *v);
    CCZ_ENSURE(v, CCZ_ERR_NOMEM, "out of memory");
    v->rpc = rpc;
    v->parties = o->parties;
    v->timeout_ms = o->timeout_ms ? o->timeout_ms : 300000;
    v->max_memory = o->max_memory ? o->max_memory : (size_t)1 << 30;
    v->log = o->log;
    v->chunk = STREAM_CHUNK;
    ccz_status s = ccz_rpc_timer_new(&v->tick, rpc, on_tick, v);
    if (s == CCZ_OK)
        s = ccz_rpc_timer_new(&v->pump, rpc, on_pump, v);
    /* in psi.proto's order: RemoteAttestation, Connect, DataUpload, CalPsi, CalPsiStream */
    const ccz_rpc_handler handlers[] = {on_attest, on_connect, on_upload, on_calpsi,
                                        on_calpsi_stream};
    const ccz_rpc_kind kinds[] = {CCZ_RPC_UNARY, CCZ_RPC_UNARY, CCZ_RPC_UNARY, CCZ_RPC_UNARY,
                                  CCZ_RPC_SERVER_STREAMING};
    if (s == CCZ_OK)
        s = ccz_rpc_server_add_service_kinds(rpc, &psi__psi__descriptor, kinds, handlers, v);
    if (s) {
        ccz_psi_service_free(v);
        return s;
    }
    *out = v;
    return CCZ_OK;
}

void ccz_psi_service_free(ccz_psi_service *v)
{
    if (!v)
        return;
    if (v->s)
        session_free(v->s);
    ccz_rpc_timer_free(v->tick);
    ccz_rpc_timer_free(v->pump);
    free(v);
}
