/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the messages of two-party ECDH PSI (src/psi/wire.c) one by one, then whole
 * sessions of both roles reading the input as the peer's byte stream (the server's set of two
 * items, at most 64 peer items so a run stays short). Harness rules: no I/O, what this side
 * writes is discarded; invariants: a parsed batch has exactly count elements, no more than are
 * due, and a session that fails says why. */
#include <stdlib.h>
#include <string.h>

#include "ccz/psi.h"
#include "psi/ecdh.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    ccz_cursor c;
} mem_peer;

static ccz_status mem_write(void *payload, const uint8_t *p, size_t n)
{
    (void)payload, (void)p, (void)n;
    return CCZ_OK;
}

static ccz_status mem_read(void *payload, uint8_t *p, size_t n)
{
    mem_peer *m = payload;
    if (ccz_cursor_copy(&m->c, p, n) != CCZ_OK)
        return ccz_fail(CCZ_ERR_PROTOCOL, "the peer closed the connection");
    return CCZ_OK;
}

static void parse_messages(const uint8_t *data, size_t size)
{
    ccz_cursor c;
    ccz_cursor_init(&c, CCZ_SPAN(data, size));
    uint8_t h[PSI_ECDH_FRAME_HEADER], type;
    uint32_t len, count;
    while (ccz_cursor_copy(&c, h, sizeof h) == CCZ_OK &&
           psi_ecdh_parse_header(&type, &len, h) == CCZ_OK) {
        ccz_span body, elems;
        if (len > PSI_ECDH_BODY_MAX)
            abort();
        if (ccz_cursor_take(&c, &body, len) != CCZ_OK)
            return;
        psi_ecdh_hello hello;
        char why[PSI_ECDH_ABORT_MAX + 1];
        switch (type) {
        case PSI_ECDH_HELLO:
            if (psi_ecdh_parse_hello(&hello, body, 64) == CCZ_OK && hello.items > 64)
                abort();
            break;
        case PSI_ECDH_POINTS:
        case PSI_ECDH_TAGS: {
            size_t elem = type == PSI_ECDH_POINTS ? PSI_ECDH_POINT_BYTES : PSI_ECDH_TAG_BYTES;
            uint64_t left = size % 1000;
            if (psi_ecdh_parse_batch(&count, &elems, body, elem, left) == CCZ_OK &&
                (count == 0 || count > left || elems.len != count * elem))
                abort();
            break;
        }
        case PSI_ECDH_ABORT:
            psi_ecdh_parse_abort(why, sizeof why, body);
            if (strlen(why) > PSI_ECDH_ABORT_MAX)
                abort();
            break;
        default:
            break;
        }
    }
}

static void session(bool server, const uint8_t *data, size_t size)
{
    static const char *const items[] = {"car", "dog"};
    ccz_psi_set *set;
    if (ccz_psi_set_new(&set))
        abort();
    for (size_t i = 0; i < 2; i++)
        if (ccz_psi_set_add(set, CCZ_SPAN(items[i], strlen(items[i]))))
            abort();
    mem_peer m;
    ccz_cursor_init(&m.c, CCZ_SPAN(data, size));
    ccz_psi_io io = {mem_write, mem_read, &m};
    ccz_psi_ecdh_opts o = CCZ_PSI_ECDH_OPTS_INIT;
    o.threads = 1;
    o.max_peer_items = 64;
    o.size_only = size % 2;
    ccz_psi_ecdh_result r;
    ccz_error_clear();
    ccz_status s =
        server ? ccz_psi_ecdh_server(&r, set, &io, &o) : ccz_psi_ecdh_client(&r, set, &io, &o);
    if (s != CCZ_OK && !ccz_error_detail()[0])
        abort(); /* every failure says why */
    if (s == CCZ_OK && !server && r.intersection > 2)
        abort();
    ccz_psi_ecdh_result_free(&r);
    ccz_psi_set_free(set);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    parse_messages(data, size);
    session(true, data, size);
    session(false, data, size);
    return 0;
}
