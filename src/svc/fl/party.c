/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "core/guard.h"
#include "svc/fl/party.h"
#include "svc/peer.h"

bool fl_name_ok(const char *s, bool required)
{
    size_t n = strlen(s);
    if (n > FL_NAME_MAX || (required && n == 0))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch > 0x7e || (required && (ch == ' ' || ch == ',')))
            return false;
    }
    return true;
}

bool fl_draw(unsigned *idx, unsigned n, unsigned want)
{
    for (unsigned j = 0; j < want; j++) {
        uint32_t r;
        if (RAND_bytes((unsigned char *)&r, sizeof r) != 1)
            return false;
        unsigned pick = j + (unsigned)(((uint64_t)r * (n - j)) >> 32);
        unsigned t = idx[j];
        idx[j] = idx[pick];
        idx[pick] = t;
    }
    return true;
}

fl_party *fl_find(fl_parties t, uint64_t conn)
{
    for (unsigned i = 0; i < t.n; i++)
        if (fl_at(t, i)->conn == conn)
            return fl_at(t, i);
    return NULL;
}

void fl_hold(fl_party *p, ccz_rpc_call *call)
{
    ccz_rpc_call_ref(call);
    p->held = call;
}

void fl_release(fl_party *p)
{
    if (p->held)
        ccz_rpc_call_unref(p->held);
    p->held = NULL;
}

void fl_tell_all(fl_parties t, int code, const char *why)
{
    for (unsigned i = 0; i < t.n; i++) {
        fl_party *p = fl_at(t, i);
        if (p->held && ccz_rpc_call_alive(p->held)) {
            (void)!ccz_rpc_finish(p->held, code, why);
            p->told = true;
        }
        fl_release(p);
    }
}

bool fl_all_told(fl_parties t)
{
    for (unsigned i = 0; i < t.n; i++)
        if (!fl_at(t, i)->told && !fl_at(t, i)->finished)
            return false;
    return true;
}

void fl_waiting_for(char *out, size_t cap, fl_parties t,
                    const char *(*label)(const fl_party *p, char *buf, size_t cap),
                    const char *none)
{
    size_t n = 0;
    char b[96];
    out[0] = 0;
    for (unsigned i = 0; i < t.n && n < cap; i++) {
        const fl_party *p = fl_at(t, i);
        if (!p->held && !p->finished)
            n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? ", " : "", label(p, b, sizeof b));
    }
    if (!n)
        snprintf(out, cap, "%s", none);
}

void fl_room_init(fl_room *r, FILE *log, bool *over, int *code, char *message, size_t cap,
                  void (*on_over)(void *svc), void *svc)
{
    r->log = log;
    r->over = over;
    r->code = code;
    r->message = message;
    r->message_cap = cap;
    r->on_over = on_over;
    r->svc = svc;
}

void fl_room_notify(fl_room *r)
{
    if (r->notified || !r->on_over)
        return;
    r->notified = true;
    ccz_rpc_timer_stop(r->tick);
    r->on_over(r->svc);
}

void fl_room_notify_when_told(fl_room *r, fl_parties t)
{
    if (fl_all_told(t))
        fl_room_notify(r);
}

void fl_room_fail(fl_room *r, fl_parties t, int code, const char *why)
{
    if (*r->over)
        return;
    *r->over = true;
    *r->code = code;
    r->failed_at = listener_mono_ms();
    snprintf(r->message, r->message_cap, "%s", why);
    svc_log(r->log, "fl", "training failed: %s", why);
    fl_tell_all(t, code, why);
    fl_room_notify_when_told(r, t);
    if (!r->notified)
        ccz_rpc_timer_arm(r->tick, FL_TICK_MS);
}

bool fl_room_over_tick(fl_room *r)
{
    if (!*r->over)
        return false;
    if (!r->notified && listener_mono_ms() - r->failed_at >= FL_LINGER_MS)
        fl_room_notify(r);
    else if (!r->notified)
        ccz_rpc_timer_arm(r->tick, FL_TICK_MS);
    return true;
}

ccz_status fl_unary(ccz_rpc_channel *ch, const char *service, const char *method,
                    int64_t deadline_ms, const ProtobufCMessage *req,
                    const ProtobufCMessageDescriptor *desc, ProtobufCMessage **resp,
                    fl_call_status out)
{
    char path[96];
    snprintf(path, sizeof path, "/%s/%s", service, method);
    ccz_rpc_call_opts co = {CCZ_RPC_CALL_OPTS_VERSION, deadline_ms, NULL};
    ccz_rpc_status st;
    *resp = NULL;
    CCZ_GUARD(ccz_rpc_unary(ch, resp, &st, path, req, desc, &co));
    *out.code = st.code;
    *out.method = method;
    snprintf(out.message, out.message_cap, "%s", st.message);
    ccz_rpc_status_free(&st);
    return CCZ_OK;
}

double fl_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void fl_sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}
