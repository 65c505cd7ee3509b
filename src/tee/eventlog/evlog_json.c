/* SPDX-License-Identifier: Apache-2.0 */
/* An event log as JSON: the events as trustee's eventlog crate serialises them, and the
 * replayed registers. Reads only a parsed (bounds-checked) log. */
#include <stdio.h>
#include <string.h>

#include "core/guard.h"
#include "tee/eventlog/eventlog_internal.h"

/* Whether every digest of the event is the hash of its data (trustee's digest_matches_event;
 * true for an event without digests). */
static bool digests_match(const ccz_event *e)
{
    for (size_t i = 0; i < e->n_digests; i++) {
        uint8_t h[EVP_MAX_MD_SIZE];
        unsigned n = 0;
        size_t want = ccz_eventlog_alg_size(e->digests[i].alg);
        if (EVP_Digest(e->data.ptr, e->data.len, h, &n, evlog_md(e->digests[i].alg), NULL) != 1 ||
            n != want || memcmp(h, e->digests[i].digest, want) != 0)
            return false;
    }
    return true;
}

static json_t *hex_json(const uint8_t *p, size_t n)
{
    char s[2 * 64 + 1];
    if (n > 64)
        return NULL;
    ccz_hex_to_str(s, p, n);
    return json_string(s);
}

static json_t *event_json(const ccz_event *e)
{
    json_t *digests = json_array();
    for (size_t i = 0; digests && i < e->n_digests; i++) {
        const ccz_event_digest *d = &e->digests[i];
        json_t *o = json_pack("{s:s,s:o}", "alg", evlog_alg_trustee_name(d->alg), "digest",
                              hex_json(d->digest, ccz_eventlog_alg_size(d->alg)));
        if (json_array_append_new(digests, o))
            json_decref(digests), digests = NULL;
    }
    ccz_buf b64 = CCZ_BUF_INIT;
    char unknown[16];
    const char *type = ccz_event_type_name(e->type);
    if (!type) {
        snprintf(unknown, sizeof unknown, "0x%08x", e->type);
        type = unknown;
    }
    json_t *o = NULL;
    if (digests && ccz_base64_encode(&b64, e->data) == CCZ_OK)
        o = json_pack("{s:o,s:b,s:o,s:s,s:I,s:s}", "details", evlog_details_json(e->type, e->data),
                      "digest_matches_event", digests_match(e), "digests", digests, "event",
                      b64.len ? (const char *)b64.ptr : "", "index", (json_int_t)e->index,
                      "type_name", type);
    else
        json_decref(digests);
    ccz_buf_free(&b64);
    return o;
}

json_t *ccz_eventlog_events_json(const ccz_eventlog *l)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < l->n_events; i++)
        if (json_array_append_new(a, event_json(&l->events[i])))
            json_decref(a), a = NULL;
    return a;
}

json_t *ccz_eventlog_to_json(const ccz_eventlog *l, uint16_t alg)
{
    if (!alg)
        alg = ccz_eventlog_default_alg(l);
    if (!ccz_eventlog_has_alg(l, alg))
        return NULL;
    uint32_t idx[64];
    size_t n = ccz_eventlog_indices(idx, CCZ_ARRAY_LEN(idx), l);
    json_t *regs = json_object();
    for (size_t i = 0; regs && i < n; i++) {
        uint8_t r[64];
        char key[12];
        snprintf(key, sizeof key, "%u", idx[i]);
        if (ccz_eventlog_replay(r, sizeof r, l, idx[i], alg) != CCZ_OK ||
            json_object_set_new(regs, key, hex_json(r, ccz_eventlog_alg_size(alg))))
            json_decref(regs), regs = NULL;
    }
    /* registers past the 64 shown (a log names one per event at most: replaying each would
     * take a pass over the log each) are counted, not dropped unsaid */
    size_t named = n == CCZ_ARRAY_LEN(idx) ? evlog_count_indices(l) : n;
    json_t *events = regs && named != SIZE_MAX ? ccz_eventlog_events_json(l) : NULL;
    if (!events) {
        json_decref(regs);
        return NULL;
    }
    json_t *o = json_pack("{s:s,s:o,s:o}", "algorithm", ccz_eventlog_alg_name(alg), "events",
                          events, "registers", regs);
    if (o && named > n &&
        json_object_set_new(o, "registers_omitted", json_integer((json_int_t)(named - n))) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}
