/* SPDX-License-Identifier: Apache-2.0 */
/* RA-gRPC: the wire helpers (frames, grpc-timeout, gzip and deflate within a size bound), then
 * a server and channels in one process over loopback with two-way sim attestation: unary,
 * server- and client-streaming calls, metadata both ways (text and -bin), status codes and
 * percent-encoded messages, deadlines on both sides, size limits, hostile requests sent frame
 * by frame with nghttp2 (compressed ones, unknown encodings and zip bombs among them), a
 * rejected (debug) client, many calls in flight, graceful shutdown with calls in flight, and
 * large compressed messages both ways. (Floods and starvation: test_rpc_hostile.c.) */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>
#include <zlib.h>

#include "ccz/ccz.h"
#include "greeter.pb-c.h"
#include "h2_client.h"
#include "rpc_fixture.h"
#include "rpc/internal.h"
#include "sim_side.h"
#include "test.h"

/* ---- wire ------------------------------------------------------------------------------------*/

static void test_frames(void)
{
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_OK(ccz_rpc_frame_write(&b, CCZ_SPAN("abc", 3)));
    CHECK_OK(ccz_rpc_frame_write(&b, CCZ_SPAN("", 0)));
    CHECK_INT(b.len, 13);
    CHECK(memcmp(b.ptr, "\0\0\0\0\3abc\0\0\0\0\0", 13) == 0);
    ccz_cursor c;
    ccz_span m;
    ccz_cursor_init(&c, ccz_buf_span(&b));
    CHECK_OK(ccz_rpc_frame_read(&c, &m, 16));
    CHECK(m.len == 3 && memcmp(m.ptr, "abc", 3) == 0);
    CHECK_OK(ccz_rpc_frame_read(&c, &m, 16));
    CHECK_INT(m.len, 0);
    CHECK_STATUS(ccz_rpc_frame_read(&c, &m, 16), CCZ_ERR_TRUNCATED);

    /* an incomplete frame leaves the cursor where it was */
    ccz_cursor_init(&c, CCZ_SPAN("\0\0\0\0\5ab", 7));
    CHECK_STATUS(ccz_rpc_frame_read(&c, &m, 16), CCZ_ERR_TRUNCATED);
    CHECK_INT(c.pos, 0);
    ccz_cursor_init(&c, CCZ_SPAN("\0\0\0", 3));
    CHECK_STATUS(ccz_rpc_frame_read(&c, &m, 16), CCZ_ERR_TRUNCATED);
    /* too large for the limit, before any byte of it arrives */
    ccz_cursor_init(&c, CCZ_SPAN("\0\0\0\1\0", 5));
    CHECK_STATUS(ccz_rpc_frame_read(&c, &m, 255), CCZ_ERR_TOO_LARGE);
    CHECK_CONTAINS(ccz_error_detail(), "256 bytes exceeds the limit of 255");
    ccz_cursor_init(&c, CCZ_SPAN("\1\0\0\0\0", 5));
    CHECK_STATUS(ccz_rpc_frame_read(&c, &m, 16), CCZ_ERR_UNSUPPORTED);
    ccz_cursor_init(&c, CCZ_SPAN("\2\0\0\0\0", 5));
    CHECK_STATUS(ccz_rpc_frame_read(&c, &m, 16), CCZ_ERR_MALFORMED);
    /* exactly the limit is within it; an uncompressed frame says so */
    ccz_cursor_init(&c, CCZ_SPAN("\0\0\0\0\3abc", 8));
    CHECK_OK(ccz_rpc_frame_read(&c, &m, 3));
    CHECK(m.len == 3 && c.pos == 8);
    bool compressed = true;
    ccz_cursor_init(&c, CCZ_SPAN("\0\0\0\0\3abc", 8));
    CHECK_OK(rpc_frame_read(&c, 3, &compressed, &m));
    CHECK(!compressed);
    ccz_buf_free(&b);
}

/* gzip or deflate of n bytes of v (the test's own zlib call, not the library's) */
static void zip(ccz_buf *out, int window_bits, const void *in, size_t n)
{
    z_stream z = {0};
    CHECK(deflateInit2(&z, 9, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    CHECK_OK(ccz_buf_reserve(out, deflateBound(&z, n)));
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = out->ptr + out->len;
    z.avail_out = (uInt)(out->cap - out->len - 1);
    CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END);
    out->len += z.total_out;
    deflateEnd(&z);
}

static void test_compression(void)
{
    static const char text[] = "compress me, compress me, compress me, compress me";
    ccz_buf c = CCZ_BUF_INIT, d = CCZ_BUF_INIT;
    /* the library's output read back; zlib's output (as grpcio's) read by the library */
    for (ccz_rpc_encoding e = CCZ_RPC_GZIP; e <= CCZ_RPC_DEFLATE; e++) {
        CHECK_OK(rpc_compress(&c, e, CCZ_SPAN(text, sizeof text)));
        CHECK_OK(rpc_decompress(&d, e, ccz_buf_span(&c), sizeof text));
        CHECK(d.len == sizeof text && !memcmp(d.ptr, text, sizeof text));
        /* one byte over the limit */
        ccz_buf_reset(&d);
        CHECK_STATUS(rpc_decompress(&d, e, ccz_buf_span(&c), sizeof text - 1), CCZ_ERR_TOO_LARGE);
        ccz_buf_reset(&c);
        ccz_buf_reset(&d);
    }
    zip(&c, 15 + 16, text, sizeof text);
    CHECK_OK(rpc_decompress(&d, CCZ_RPC_GZIP, ccz_buf_span(&c), 4096));
    CHECK(d.len == sizeof text && !memcmp(d.ptr, text, sizeof text));
    /* gzip is not deflate: the zlib header is checked */
    ccz_buf_reset(&d);
    CHECK_STATUS(rpc_decompress(&d, CCZ_RPC_DEFLATE, ccz_buf_span(&c), 4096), CCZ_ERR_MALFORMED);
    /* cut short; a byte after the stream; a flipped byte in the body */
    ccz_buf_reset(&d);
    CHECK_STATUS(rpc_decompress(&d, CCZ_RPC_GZIP, CCZ_SPAN(c.ptr, c.len - 3), 4096),
                 CCZ_ERR_TRUNCATED);
    CHECK_OK(ccz_buf_append_u8(&c, 0));
    ccz_buf_reset(&d);
    CHECK_STATUS(rpc_decompress(&d, CCZ_RPC_GZIP, ccz_buf_span(&c), 4096), CCZ_ERR_TRAILING_DATA);
    c.len--;
    c.ptr[c.len - 2] ^= 0x40; /* the length in the gzip trailer */
    ccz_buf_reset(&d);
    CHECK_STATUS(rpc_decompress(&d, CCZ_RPC_GZIP, ccz_buf_span(&c), 4096), CCZ_ERR_MALFORMED);
    /* a bomb: 64 MiB of zeros in 64 KiB; inflating stops one byte past the limit */
    size_t big = 64u << 20;
    uint8_t *zeros = calloc(1, big);
    ccz_buf_reset(&c);
    zip(&c, 15 + 16, zeros, big);
    free(zeros);
    CHECK(c.len < (128u << 10));
    ccz_buf_reset(&d);
    CHECK_STATUS(rpc_decompress(&d, CCZ_RPC_GZIP, ccz_buf_span(&c), 1u << 20), CCZ_ERR_TOO_LARGE);
    CHECK_CONTAINS(ccz_error_detail(), "inflates beyond the limit of 1048576 bytes");
    CHECK(d.len <= (1u << 20) + 1);
    ccz_buf_free(&c);
    ccz_buf_free(&d);

    /* a compressed frame, and grpc-accept-encoding */
    CHECK_INT(rpc_accept_parse((const uint8_t *)"gzip", 4),
              (1 << CCZ_RPC_IDENTITY) | (1 << CCZ_RPC_GZIP));
    CHECK_INT(rpc_accept_parse((const uint8_t *)"identity, deflate ,br", 21),
              (1 << CCZ_RPC_IDENTITY) | (1 << CCZ_RPC_DEFLATE));
    Ratls__HelloReply r = RATLS__HELLO_REPLY__INIT;
    r.message = (char *)text;
    CHECK_OK(rpc_pack(&c, &r.base, 4096, CCZ_RPC_DEFLATE));
    CHECK_INT(c.ptr[0], 1);
    ccz_cursor cur;
    ccz_span m;
    bool compressed = false;
    ccz_cursor_init(&cur, ccz_buf_span(&c));
    CHECK_OK(rpc_frame_read(&cur, 4096, &compressed, &m));
    CHECK(compressed);
    CHECK_OK(rpc_decompress(&d, CCZ_RPC_DEFLATE, m, 4096));
    CHECK_INT(d.len, protobuf_c_message_get_packed_size(&r.base));
    ccz_buf_free(&c);
    ccz_buf_free(&d);
}

static void test_timeouts(void)
{
    int64_t ms;
    CHECK_OK(ccz_rpc_timeout_parse(&ms, "100m"));
    CHECK_INT(ms, 100);
    CHECK_OK(ccz_rpc_timeout_parse(&ms, "5S"));
    CHECK_INT(ms, 5000);
    CHECK_OK(ccz_rpc_timeout_parse(&ms, "2M"));
    CHECK_INT(ms, 120000);
    CHECK_OK(ccz_rpc_timeout_parse(&ms, "1H"));
    CHECK_INT(ms, 3600000);
    CHECK_OK(ccz_rpc_timeout_parse(&ms, "1500u"));
    CHECK_INT(ms, 2); /* rounded up */
    CHECK_OK(ccz_rpc_timeout_parse(&ms, "1n"));
    CHECK_INT(ms, 1);
    CHECK_OK(ccz_rpc_timeout_parse(&ms, "99999999S"));
    CHECK_INT(ms, 99999999000LL);
    CHECK_STATUS(ccz_rpc_timeout_parse(&ms, "100"), CCZ_ERR_MALFORMED);
    CHECK_STATUS(ccz_rpc_timeout_parse(&ms, "100x"), CCZ_ERR_MALFORMED);
    CHECK_STATUS(ccz_rpc_timeout_parse(&ms, "123456789S"), CCZ_ERR_MALFORMED); /* 9 digits */
    CHECK_STATUS(ccz_rpc_timeout_parse(&ms, "-5S"), CCZ_ERR_MALFORMED);
    CHECK_STATUS(ccz_rpc_timeout_parse(&ms, ""), CCZ_ERR_MALFORMED);
    CHECK_STATUS(ccz_rpc_timeout_parse(&ms, "m"), CCZ_ERR_MALFORMED); /* a unit, no digit */
    CHECK_STR(ccz_rpc_code_name(CCZ_RPC_DEADLINE_EXCEEDED), "DEADLINE_EXCEEDED");
    CHECK_STR(ccz_rpc_code_name(16), "UNAUTHENTICATED");
    CHECK_STR(ccz_rpc_code_name(17), "UNKNOWN");
}

/* Bounds on peer header values: a -bin value padded in a fixed buffer (8188 characters at most),
 * and grpc-message percent-decoded into a fixed buffer, never past its capacity nor past the
 * bytes given. */
static void test_header_bounds(void)
{
    ccz_rpc_metadata md = {0};
    char *v = malloc(8190);
    memset(v, 'A', 8190);
    CHECK_OK(rpc_md_add_wire(&md, "x-big-bin", (const uint8_t *)v, 8188));
    CHECK(md.n == 1 && md.entries[0].value.len == 8188 / 4 * 3);
    CHECK_STATUS(rpc_md_add_wire(&md, "x-big-bin", (const uint8_t *)v, 8189), CCZ_ERR_TOO_LARGE);
    CHECK_STR(ccz_error_detail(), "metadata x-big-bin too large");
    CHECK_STATUS(rpc_md_add_wire(&md, "x-big-bin", (const uint8_t *)v, 8190), CCZ_ERR_TOO_LARGE);
    CHECK_INT(md.n, 1);
    ccz_rpc_md_free(&md);
    free(v);
    /* -bin values arrive without base64 padding: one and two '=' are supplied */
    CHECK_OK(rpc_md_add_wire(&md, "x-a-bin", (const uint8_t *)"YQ", 2));
    CHECK_OK(rpc_md_add_wire(&md, "x-b-bin", (const uint8_t *)"YWI", 3));
    CHECK(md.n == 2 && md.entries[0].value.len == 1 && md.entries[0].value.ptr[0] == 'a' &&
          md.entries[1].value.len == 2 && memcmp(md.entries[1].value.ptr, "ab", 2) == 0);
    ccz_rpc_md_free(&md);

    char out[8];
    memset(out, 'Z', sizeof out);
    rpc_percent_decode(out, 4, (const uint8_t *)"abcdefgh", 8);
    CHECK_STR(out, "abc");
    CHECK(out[4] == 'Z'); /* nothing written past the capacity */
    memset(out, 'Z', sizeof out);
    rpc_percent_decode(out, 4, (const uint8_t *)"%41%42%43%44", 12);
    CHECK_STR(out, "ABC");
    CHECK(out[4] == 'Z');
    /* an escape cut by the end of the value is kept as it is: the byte after is not read */
    rpc_percent_decode(out, sizeof out, (const uint8_t *)"%41", 2);
    CHECK_STR(out, "%4");
    rpc_percent_decode(out, sizeof out, (const uint8_t *)"a%41", 2);
    CHECK_STR(out, "a%");
    rpc_percent_decode(out, sizeof out, (const uint8_t *)"%41", 3);
    CHECK_STR(out, "A");
}

/* What is sent: grpc-message percent-encoded ('%', controls and bytes above 0x7e), grpc-timeout
 * in at most 8 digits, -bin values in base64 without padding, metadata keys in lower case; the
 * headers an application may not set; at most 64 headers; a message within the limit. */
static void test_wire_sent(void)
{
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_OK(rpc_percent_encode(&b, "100% ok\n\x7f\xc3~\x1f"));
    CHECK_OK(ccz_buf_append_u8(&b, 0));
    CHECK_STR((const char *)b.ptr, "100%25 ok%0A%7F%C3~%1F");
    ccz_buf_free(&b);
    char t[16];
    rpc_timeout_format(t, 99999999);
    CHECK_STR(t, "99999999m");
    rpc_timeout_format(t, 100000000);
    CHECK_STR(t, "100000S");
    rpc_timeout_format(t, 100000001); /* whole seconds rounded up, never a shorter deadline */
    CHECK_STR(t, "100001S");
    rpc_timeout_format(t, -5);
    CHECK_STR(t, "0m");
    rpc_timeout_format(t, INT64_MAX / 2);
    CHECK_STR(t, "99999999S");
    ccz_rpc_metadata md = {0};
    CHECK_OK(ccz_rpc_md_add(&md, "X-Trace-BIN", CCZ_SPAN("a", 1)));
    CHECK_STR(md.entries[0].key, "x-trace-bin");
    CHECK(ccz_rpc_md_get(&md, "x-trace-bin") != NULL);
    CHECK_OK(rpc_md_wire_value(&b, &md.entries[0]));
    CHECK(b.len == 2 && memcmp(b.ptr, "YQ", 2) == 0);
    ccz_buf_free(&b);
    ccz_rpc_md_free(&md);
    CHECK(rpc_key_is_binary("x-bin"));
    CHECK(!rpc_key_is_binary("-bin"));
    CHECK(rpc_header_reserved("grpc-status", 11));
    CHECK(rpc_header_reserved(":path", 5));
    CHECK(rpc_header_reserved("te", 2));
    CHECK(!rpc_header_reserved("tea", 3));
    CHECK(!rpc_header_reserved("x-grpc", 6));
    rpc_headers h;
    rpc_headers_init(&h);
    for (int i = 0; i < 64; i++)
        CHECK_OK(rpc_headers_add(&h, "x-h", CCZ_SPAN("v", 1)));
    CHECK_STATUS(rpc_headers_add(&h, "x-h", CCZ_SPAN("v", 1)), CCZ_ERR_TOO_LARGE);
    CHECK_INT(h.n, 64);
    rpc_headers_free(&h);
    Ratls__HelloReply r = RATLS__HELLO_REPLY__INIT;
    r.message = (char *)"four";
    size_t n = protobuf_c_message_get_packed_size(&r.base);
    CHECK_STATUS(rpc_pack(&b, &r.base, n - 1, CCZ_RPC_IDENTITY), CCZ_ERR_TOO_LARGE);
    CHECK_INT(b.len, 0);
    CHECK_OK(rpc_pack(&b, &r.base, n, CCZ_RPC_IDENTITY));
    CHECK_INT(b.len, 5 + n);
    ccz_buf_free(&b);
}

/* ---- a server and its clients ----------------------------------------------------------------*/

typedef struct {
    ccz_rpc_server *srv;
    pthread_t thread;
    int port;
    char target[64];
    int64_t last_remaining;
    bool late_alive; /* was a late call still alive when it was answered? */
    int late_answered;
    int64_t late_remaining[2]; /* the time the first two late calls had left then */
} fixture;

static fixture fx;

typedef struct {
    ccz_rpc_call *call;
    char name[64];
} later;

/* "packed": answered from one packed message shared by every such call (its caller's reference
 * kept until the server stops); "packed-big": 1 MiB packed for the call and its reference
 * dropped at once (the call's own keeps the bytes until they are written). */
static ccz_rpc_packed *shared;
static size_t server_max;

/* "packed-limit": packed messages at the server's limit: one of limit + 1 bytes is refused
 * with its size, one of exactly the limit is the answer. */
static void answer_packed_limit(ccz_rpc_call *call)
{
    char *t = malloc(server_max);
    Ratls__HelloReply r = RATLS__HELLO_REPLY__INIT;
    r.message = t;
    for (size_t n = server_max - 2; n >= server_max - 3; n--) { /* a tag, a 2-byte length */
        memset(t, 'p', n);
        t[n] = '\0';
        ccz_rpc_packed *p;
        CHECK_OK(ccz_rpc_packed_new(&p, &r.base));
        if (n == server_max - 2) {
            CHECK_STATUS(ccz_rpc_send_packed(call, p), CCZ_ERR_TOO_LARGE);
            char want[96];
            snprintf(want, sizeof want, "message of %zu bytes exceeds the limit of %zu",
                     server_max + 1, server_max);
            CHECK_STR(ccz_error_detail(), want);
        } else {
            ccz_status st = ccz_rpc_reply_packed(call, p);
            CHECK_OK(st);
            if (st)
                CHECK_OK(ccz_rpc_finish(call, CCZ_RPC_RESOURCE_EXHAUSTED, "reply too large"));
        }
        ccz_rpc_packed_free(p);
    }
    free(t);
}

static void answer_packed(ccz_rpc_call *call, const char *name)
{
    if (!strcmp(name, "packed-limit")) {
        answer_packed_limit(call);
        return;
    }
    bool big = !strcmp(name, "packed-big");
    ccz_rpc_packed *p = shared;
    /* a packed message of another type is refused */
    Ratls__HelloRequest q = RATLS__HELLO_REQUEST__INIT;
    q.name = "x";
    CHECK_OK(ccz_rpc_packed_new(&p, &q.base));
    CHECK_STATUS(ccz_rpc_send_packed(call, p), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(),
              "/ratls.Greeter/SayHello answers ratls.HelloReply, not ratls.HelloRequest");
    ccz_rpc_packed_free(p);
    /* and so is such a message sent as it is */
    CHECK_STATUS(ccz_rpc_send(call, &q.base), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(),
              "/ratls.Greeter/SayHello answers ratls.HelloReply, not ratls.HelloRequest");
    p = shared;
    if (!p || big) {
        size_t n = big ? 1u << 20 : 12;
        char *t = malloc(n + 1);
        memset(t, 'x', n);
        memcpy(t, "Hello packed", 12);
        t[n] = '\0';
        Ratls__HelloReply r = RATLS__HELLO_REPLY__INIT;
        r.message = t;
        CHECK_OK(ccz_rpc_packed_new(&p, &r.base));
        free(t);
        if (!big)
            shared = p;
    }
    ccz_status s = ccz_rpc_reply_packed(call, p);
    if (big)
        ccz_rpc_packed_free(p);
    if (big && server_max < (2u << 20)) { /* the server's own limit on what it sends */
        CHECK_STATUS(s, CCZ_ERR_TOO_LARGE);
        CHECK_OK(ccz_rpc_finish(call, CCZ_RPC_RESOURCE_EXHAUSTED, "reply too large"));
    } else {
        CHECK_OK(s);
        if (!big) { /* the call is finished: a packed message after its status is refused */
            CHECK_STATUS(ccz_rpc_send_packed(call, p), CCZ_ERR_INVALID_ARGUMENT);
            CHECK_STR(ccz_error_detail(),
                      "the call is over (finished, cancelled, past its deadline or disconnected)");
        }
    }
}

static void answer(ccz_rpc_call *call, const char *name)
{
    greeter_echo_metadata(call);
    if (!strcmp(name, "")) {
        CHECK_OK(ccz_rpc_finish(call, CCZ_RPC_INVALID_ARGUMENT, "50% done\nthen \xc3\xa9"));
        return;
    }
    if (!strncmp(name, "packed", 6)) {
        answer_packed(call, name);
        return;
    }
    if (!strcmp(name, "code-16")) { /* the last gRPC code, UNAUTHENTICATED: taken */
        CHECK_OK(ccz_rpc_finish(call, CCZ_RPC_UNAUTHENTICATED, "sixteen"));
        return;
    }
    if (!strcmp(name, "code-17")) { /* not a gRPC code: refused, and the call goes on */
        CHECK_STATUS(ccz_rpc_finish(call, 17, "seventeen"), CCZ_ERR_INVALID_ARGUMENT);
        CHECK_OK(ccz_rpc_finish(call, CCZ_RPC_OUT_OF_RANGE, ccz_error_detail()));
        return;
    }
    size_t tl = strlen(name) + 7;
    char *text = malloc(tl);
    snprintf(text, tl, "Hello %s", name);
    Ratls__HelloReply r = RATLS__HELLO_REPLY__INIT;
    r.message = text;
    ccz_status s = ccz_rpc_reply(call, &r.base);
    free(text);
    if (!strncmp(name, "big", 3))
        CHECK_STATUS(s, CCZ_ERR_TOO_LARGE); /* the server's own limit on what it sends */
    else
        CHECK_OK(s);
    if (s)
        CHECK_OK(ccz_rpc_finish(call, CCZ_RPC_RESOURCE_EXHAUSTED, "reply too large"));
}

static void answer_later(void *arg)
{
    later *l = arg;
    fx.late_alive = ccz_rpc_call_alive(l->call);
    if (fx.late_answered < 2)
        fx.late_remaining[fx.late_answered] = ccz_rpc_call_remaining_ms(l->call);
    if (fx.late_alive)
        answer(l->call, l->name);
    else { /* past its deadline (or cancelled at it): answers are refused */
        Ratls__HelloReply r = RATLS__HELLO_REPLY__INIT;
        r.message = "late";
        CHECK_STATUS(ccz_rpc_send(l->call, &r.base), CCZ_ERR_INVALID_ARGUMENT);
        CHECK_STR(ccz_error_detail(),
                  "the call is over (finished, cancelled, past its deadline or disconnected)");
        ccz_rpc_packed *p;
        CHECK_OK(ccz_rpc_packed_new(&p, &r.base));
        CHECK_STATUS(ccz_rpc_send_packed(l->call, p), CCZ_ERR_INVALID_ARGUMENT);
        CHECK_STR(ccz_error_detail(),
                  "the call is over (finished, cancelled, past its deadline or disconnected)");
        ccz_rpc_packed_free(p);
        CHECK_STATUS(ccz_rpc_finish(l->call, CCZ_RPC_OK, NULL), CCZ_ERR_INVALID_ARGUMENT);
    }
    fx.late_answered++;
    ccz_rpc_call_unref(l->call);
    free(l);
}

static void hello(ccz_rpc_call *call, const ProtobufCMessage *req, void *payload)
{
    (void)payload;
    const Ratls__HelloRequest *r = (const Ratls__HelloRequest *)req;
    fx.last_remaining = ccz_rpc_call_remaining_ms(call);
    const ccz_ratls_verdict *v = ccz_rpc_call_peer(call);
    CHECK(v && v->status == CCZ_OK && v->result.claims.tee == CCZ_TEE_SIM);
    if (!strcmp(r->name, "slow-drain")) /* the server is asked to stop with this call in flight */
        ccz_rpc_server_shutdown(fx.srv, 5000);
    if (!strncmp(r->name, "slow", 4)) {
        later *l = calloc(1, sizeof *l);
        l->call = call;
        snprintf(l->name, sizeof l->name, "%s", r->name);
        ccz_rpc_call_ref(call);
        CHECK_OK(ccz_rpc_server_defer(fx.srv, 300, answer_later, l));
        return;
    }
    answer(call, r->name);
}

static void buf_delete(void *p)
{
    ccz_buf_free(p);
    free(p);
}

/* Client streaming: the names joined with commas, answered at "stop" or the end. */
static void join(ccz_rpc_call *call, const ProtobufCMessage *req, void *payload)
{
    (void)payload;
    CHECK(ccz_rpc_call_alive(call)); /* a call over is not handed more */
    ccz_buf *acc = ccz_rpc_call_user(call);
    if (!acc) {
        acc = calloc(1, sizeof *acc);
        ccz_buf_init(acc, 0, false);
        ccz_rpc_call_set_user(call, acc, buf_delete);
    }
    if (req) {
        const char *name = ((const Ratls__HelloRequest *)req)->name;
        if (acc->len)
            CHECK_OK(ccz_buf_append_u8(acc, ','));
        CHECK_OK(ccz_buf_append(acc, name, strlen(name)));
        if (!strcmp(name, "stop")) { /* answered before the request stream ends */
            CHECK_OK(ccz_buf_append_u8(acc, 0));
            Ratls__HelloReply r = RATLS__HELLO_REPLY__INIT;
            r.message = (char *)acc->ptr;
            CHECK_OK(ccz_rpc_reply(call, &r.base));
        }
        return;
    }
    CHECK_OK(ccz_buf_append_u8(acc, 0));
    Ratls__HelloReply r = RATLS__HELLO_REPLY__INIT;
    r.message = (char *)acc->ptr;
    CHECK_OK(ccz_rpc_reply(call, &r.base));
}

static test_side server_side;

static void *run_server(void *arg)
{
    (void)arg;
    CHECK_OK(ccz_rpc_server_run(fx.srv));
    return NULL;
}

static void server_start(size_t max_message, int port, ccz_rpc_encoding send_encoding)
{
    ccz_rpc_server_opts so = CCZ_RPC_SERVER_OPTS_INIT;
    so.tls = server_side.ctx;
    so.max_message = max_message;
    so.send_encoding = send_encoding;
    server_max = max_message;
    CHECK_OK(ccz_rpc_server_new(&fx.srv, &so));
    CHECK_OK(ccz_rpc_server_add(fx.srv, "/ratls.Greeter/SayHello", CCZ_RPC_UNARY,
                                &ratls__hello_request__descriptor, &ratls__hello_reply__descriptor,
                                hello, NULL));
    /* test.Stream from a service descriptor: each method's kind given, one left out */
    static const ProtobufCMethodDescriptor methods[] = {
        {"Count", &ratls__hello_request__descriptor, &ratls__hello_reply__descriptor},
        {"Join", &ratls__hello_request__descriptor, &ratls__hello_reply__descriptor},
        {"Left", &ratls__hello_request__descriptor, &ratls__hello_reply__descriptor},
    };
    static const unsigned by_name[] = {0, 1, 2};
    static const ProtobufCServiceDescriptor stream_service = {PROTOBUF_C__SERVICE_DESCRIPTOR_MAGIC,
                                                              "test.Stream",
                                                              "Stream",
                                                              "Test__Stream",
                                                              "test",
                                                              3,
                                                              methods,
                                                              by_name};
    const ccz_rpc_kind kinds[] = {CCZ_RPC_SERVER_STREAMING, CCZ_RPC_CLIENT_STREAMING,
                                  CCZ_RPC_UNARY};
    const ccz_rpc_handler handlers[] = {greeter_count, join, NULL};
    CHECK_OK(ccz_rpc_server_add_service_kinds(fx.srv, &stream_service, kinds, handlers, NULL));
    CHECK_STATUS(ccz_rpc_server_add(fx.srv, "/test.Stream/Join", CCZ_RPC_UNARY,
                                    &ratls__hello_request__descriptor,
                                    &ratls__hello_reply__descriptor, join, NULL),
                 CCZ_ERR_EXISTS);
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    CHECK_OK(ccz_rpc_server_listen(fx.srv, &fx.port, addr));
    snprintf(fx.target, sizeof fx.target, "127.0.0.1:%d", fx.port);
    test_thread(&fx.thread, run_server, NULL);
}

static void server_stop(void)
{
    ccz_rpc_server_shutdown(fx.srv, 1000);
    pthread_join(fx.thread, NULL);
    ccz_rpc_server_free(fx.srv);
    fx.srv = NULL;
    ccz_rpc_packed_free(shared);
    shared = NULL;
}

static ccz_rpc_channel *channel(test_side *c, size_t max)
{
    ccz_rpc_channel_opts o = CCZ_RPC_CHANNEL_OPTS_INIT;
    o.tls = c->ctx;
    o.max_message = max;
    ccz_rpc_channel *ch = NULL;
    CHECK_OK(ccz_rpc_channel_new(&ch, fx.target, &o));
    return ch;
}

/* A unary SayHello; returns the reply text (static) or NULL, with the status in *st. */
static const char *say(ccz_rpc_channel *ch, const char *name, ccz_rpc_status *st,
                       const ccz_rpc_call_opts *o)
{
    static char text[512];
    Ratls__HelloRequest req = RATLS__HELLO_REQUEST__INIT;
    req.name = (char *)name;
    ProtobufCMessage *resp = NULL;
    CHECK_OK(ccz_rpc_unary(ch, &resp, st, "/ratls.Greeter/SayHello", &req.base,
                           &ratls__hello_reply__descriptor, o));
    if (!resp)
        return NULL;
    snprintf(text, sizeof text, "%s", ((Ratls__HelloReply *)resp)->message);
    protobuf_c_message_free_unpacked(resp, NULL);
    return text;
}

static void test_unary(void)
{
    test_side cli;
    test_side_init(&cli, false, false);
    ccz_rpc_channel *ch = channel(&cli, 0);
    ccz_rpc_status st;
    CHECK_STR(say(ch, "world", &st, NULL), "Hello world");
    CHECK_INT(st.code, CCZ_RPC_OK);
    CHECK_INT(fx.last_remaining, -1); /* no deadline */
    const ccz_ratls_verdict *v = ccz_rpc_channel_peer(ch);
    CHECK(v && v->status == CCZ_OK && v->result.claims.simulated);
    ccz_rpc_status_free(&st);

    /* metadata both ways: text and binary (base64 on the wire) */
    ccz_rpc_metadata md = {0};
    CHECK_OK(ccz_rpc_md_add(&md, "X-Trace", CCZ_SPAN("t-1", 3)));
    CHECK_OK(ccz_rpc_md_add(&md, "x-raw-bin", CCZ_SPAN("\0\xff\x10", 3)));
    char long_key[256]; /* the longest key the server keeps: 255 bytes */
    memset(long_key, 'k', 255);
    memcpy(long_key, "x-", 2);
    long_key[255] = '\0';
    CHECK_OK(ccz_rpc_md_add(&md, long_key, CCZ_SPAN("v", 1)));
    ccz_rpc_call_opts o = {CCZ_RPC_CALL_OPTS_VERSION, 5000, &md};
    CHECK_STR(say(ch, "md", &st, &o), "Hello md");
    CHECK(fx.last_remaining > 4000 && fx.last_remaining <= 5000);
    const ccz_buf *h = ccz_rpc_md_get(&st.headers, "x-trace");
    CHECK(h && h->len == 3 && !memcmp(h->ptr, "t-1", 3));
    h = ccz_rpc_md_get(&st.trailers, "x-raw-bin");
    CHECK(h && h->len == 3 && !memcmp(h->ptr, "\0\xff\x10", 3));
    h = ccz_rpc_md_get(&st.headers, long_key);
    CHECK(h && h->len == 1 && h->ptr[0] == 'v');
    CHECK(ccz_rpc_md_get(&st.trailers, "grpc-status") == NULL); /* not metadata */
    ccz_rpc_status_free(&st);

    /* a reserved key is refused before anything is sent */
    ccz_rpc_metadata bad = {0};
    CHECK_OK(ccz_rpc_md_add(&bad, "grpc-status", CCZ_SPAN("0", 1)));
    ccz_rpc_call_opts ob = {CCZ_RPC_CALL_OPTS_VERSION, 0, &bad};
    Ratls__HelloRequest req = RATLS__HELLO_REQUEST__INIT;
    req.name = "x";
    ProtobufCMessage *resp;
    CHECK_STATUS(ccz_rpc_unary(ch, &resp, &st, "/ratls.Greeter/SayHello", &req.base,
                               &ratls__hello_reply__descriptor, &ob),
                 CCZ_ERR_INVALID_ARGUMENT);
    ccz_rpc_md_free(&bad);

    /* a status with a message that needs percent-encoding comes back exact */
    CHECK(say(ch, "", &st, NULL) == NULL);
    CHECK_INT(st.code, CCZ_RPC_INVALID_ARGUMENT);
    CHECK_STR(st.message, "50% done\nthen \xc3\xa9");
    ccz_rpc_status_free(&st);

    /* the last of gRPC's codes (16) is one */
    CHECK(say(ch, "code-16", &st, NULL) == NULL);
    CHECK_INT(st.code, CCZ_RPC_UNAUTHENTICATED);
    CHECK_STR(st.message, "sixteen");
    ccz_rpc_status_free(&st);

    /* a status past gRPC's 16 codes is refused: the handler ends the call with another */
    CHECK(say(ch, "code-17", &st, NULL) == NULL);
    CHECK_INT(st.code, CCZ_RPC_OUT_OF_RANGE);
    CHECK_STR(st.message, "status 17 is not a gRPC code");
    ccz_rpc_status_free(&st);

    /* answers packed once and sent to several calls */
    for (int i = 0; i < 3; i++) {
        CHECK_STR(say(ch, "packed", &st, NULL), "Hello packed");
        CHECK_INT(st.code, CCZ_RPC_OK);
        ccz_rpc_status_free(&st);
    }
    /* within the server's limit on what it sends */
    CHECK(say(ch, "packed-big", &st, NULL) == NULL);
    CHECK_INT(st.code, CCZ_RPC_RESOURCE_EXHAUSTED);
    ccz_rpc_status_free(&st);

    /* an unknown method */
    CHECK_OK(ccz_rpc_unary(ch, &resp, &st, "/ratls.Greeter/SayGoodbye", &req.base,
                           &ratls__hello_reply__descriptor, NULL));
    CHECK(resp == NULL);
    CHECK_INT(st.code, CCZ_RPC_UNIMPLEMENTED);
    CHECK_STR(st.message, "unknown method /ratls.Greeter/SayGoodbye");
    ccz_rpc_status_free(&st);
    /* a method of a registered service whose handler was left out */
    CHECK_OK(ccz_rpc_unary(ch, &resp, &st, "/test.Stream/Left", &req.base,
                           &ratls__hello_reply__descriptor, NULL));
    CHECK(resp == NULL);
    CHECK_INT(st.code, CCZ_RPC_UNIMPLEMENTED);
    ccz_rpc_status_free(&st);

    ccz_rpc_md_free(&md);
    ccz_rpc_channel_free(ch);
    test_side_free(&cli);
}

typedef struct {
    char got[256];
    int n, code;
    bool done;
    char message[512];
} collect;

static void on_msg(const ProtobufCMessage *m, void *p)
{
    collect *c = p;
    const char *t = ((const Ratls__HelloReply *)m)->message;
    size_t l = strlen(c->got);
    snprintf(c->got + l, sizeof c->got - l, "%s%s", l ? "," : "", t);
    c->n++;
}

static void on_done(const ccz_rpc_status *st, void *p)
{
    collect *c = p;
    c->code = st->code;
    snprintf(c->message, sizeof c->message, "%s", st->message);
    c->done = true;
}

static void test_streaming(void)
{
    test_side cli;
    test_side_init(&cli, false, false);
    ccz_rpc_channel *ch = channel(&cli, 0);

    collect a = {0};
    Ratls__HelloRequest req = RATLS__HELLO_REQUEST__INIT;
    req.name = "5";
    CHECK_OK(ccz_rpc_start(ch, NULL, "/test.Stream/Count", &req.base,
                           &ratls__hello_reply__descriptor, NULL, on_msg, on_done, &a));
    collect b = {0};
    ccz_rpc_stream *s;
    CHECK_OK(ccz_rpc_start(ch, &s, "/test.Stream/Join", NULL, &ratls__hello_reply__descriptor, NULL,
                           on_msg, on_done, &b));
    const char *names[] = {"alpha", "beta", "gamma"};
    for (int i = 0; i < 3; i++) {
        req.name = (char *)names[i];
        CHECK_OK(ccz_rpc_stream_send(s, &req.base));
    }
    CHECK_OK(ccz_rpc_stream_close(s));
    CHECK_OK(ccz_rpc_channel_run(ch));
    CHECK(a.done && b.done);
    CHECK_INT(a.code, CCZ_RPC_OK);
    CHECK_INT(a.n, 5);
    CHECK_STR(a.got, "0,1,2,3,4");
    CHECK_INT(b.code, CCZ_RPC_OK);
    CHECK_INT(b.n, 1);
    CHECK_STR(b.got, "alpha,beta,gamma");

    /* many calls in flight on one connection */
    static collect many[200];
    memset(many, 0, sizeof many);
    req.name = "1";
    for (int i = 0; i < 200; i++)
        CHECK_OK(ccz_rpc_start(ch, NULL, "/test.Stream/Count", &req.base,
                               &ratls__hello_reply__descriptor, NULL, on_msg, on_done, &many[i]));
    CHECK_OK(ccz_rpc_channel_run(ch));
    int ok = 0;
    for (int i = 0; i < 200; i++)
        ok += many[i].done && many[i].code == CCZ_RPC_OK && !strcmp(many[i].got, "0");
    CHECK_INT(ok, 200);
    ccz_rpc_channel_free(ch);
    test_side_free(&cli);
}

static void test_deadlines(void)
{
    test_side cli;
    test_side_init(&cli, false, false);
    ccz_rpc_channel *ch = channel(&cli, 0);
    ccz_rpc_status st;
    /* the server answers after 300 ms; the client gives up at 80 */
    fx.late_answered = 0;
    ccz_rpc_call_opts o = {CCZ_RPC_CALL_OPTS_VERSION, 80, NULL};
    CHECK(say(ch, "slow", &st, &o) == NULL);
    CHECK_INT(st.code, CCZ_RPC_DEADLINE_EXCEEDED);
    ccz_rpc_status_free(&st);
    /* with time enough it answers */
    ccz_rpc_call_opts o2 = {CCZ_RPC_CALL_OPTS_VERSION, 3000, NULL};
    CHECK_STR(say(ch, "slow2", &st, &o2), "Hello slow2");
    CHECK_INT(st.code, CCZ_RPC_OK);
    CHECK(fx.late_alive);
    ccz_rpc_status_free(&st);
    /* the first late answer found its call past the deadline */
    for (int i = 0; i < 100 && fx.late_answered < 2; i++)
        usleep(10000);
    CHECK_INT(fx.late_answered, 2);
    /* past its deadline a call has no time left (0, not a negative count, not -1: none) */
    CHECK_INT(fx.late_remaining[0], 0);
    CHECK(fx.late_remaining[1] > 0 && fx.late_remaining[1] <= 3000);
    ccz_rpc_channel_free(ch);
    test_side_free(&cli);
}

static void test_limits(void)
{
    test_side cli;
    test_side_init(&cli, false, false);
    ccz_rpc_channel *ch = channel(&cli, 8u << 20);
    ccz_rpc_status st;
    /* the server takes at most 4 KiB */
    char *name = malloc(10000);
    memset(name, 'n', 9999);
    name[9999] = '\0';
    CHECK(say(ch, name, &st, NULL) == NULL);
    CHECK_INT(st.code, CCZ_RPC_RESOURCE_EXHAUSTED);
    CHECK_CONTAINS(st.message, "exceeds the limit of 4096");
    ccz_rpc_status_free(&st);
    /* and sends at most 4 KiB */
    name[4090] = '\0';
    memcpy(name, "big", 3);
    CHECK(say(ch, name, &st, NULL) == NULL);
    CHECK_INT(st.code, CCZ_RPC_RESOURCE_EXHAUSTED);
    ccz_rpc_status_free(&st);
    ccz_rpc_channel_free(ch);

    /* a client that takes at most 10 bytes */
    ch = channel(&cli, 10);
    CHECK(say(ch, "longer", &st, NULL) == NULL);
    CHECK_INT(st.code, CCZ_RPC_RESOURCE_EXHAUSTED);
    CHECK_STR(st.message, "gRPC message of 14 bytes exceeds the limit of 10");
    ccz_rpc_status_free(&st);
    /* the channel still works after a cancelled call */
    CHECK_STR(say(ch, "a", &st, NULL), "Hello a");
    ccz_rpc_status_free(&st);
    /* exactly at the client's limit: a reply of 10 bytes ("Hello ab": a tag, a length, 8) is
     * taken, one of 11 refused with its size */
    CHECK_STR(say(ch, "ab", &st, NULL), "Hello ab");
    CHECK_INT(st.code, CCZ_RPC_OK);
    ccz_rpc_status_free(&st);
    CHECK(say(ch, "abc", &st, NULL) == NULL);
    CHECK_INT(st.code, CCZ_RPC_RESOURCE_EXHAUSTED);
    CHECK_STR(st.message, "gRPC message of 11 bytes exceeds the limit of 10");
    ccz_rpc_status_free(&st);
    /* and what it sends: a request of 10 bytes goes (its reply, 16 bytes, is then refused), one
     * of 11 is refused before it is sent */
    CHECK(say(ch, "12345678", &st, NULL) == NULL);
    CHECK_INT(st.code, CCZ_RPC_RESOURCE_EXHAUSTED);
    CHECK_STR(st.message, "gRPC message of 16 bytes exceeds the limit of 10");
    ccz_rpc_status_free(&st);
    Ratls__HelloRequest req = RATLS__HELLO_REQUEST__INIT;
    req.name = "123456789";
    ProtobufCMessage *resp = NULL;
    CHECK_STATUS(ccz_rpc_unary(ch, &resp, &st, "/ratls.Greeter/SayHello", &req.base,
                               &ratls__hello_reply__descriptor, NULL),
                 CCZ_ERR_TOO_LARGE);
    CHECK_STR(ccz_error_detail(), "message of 11 bytes exceeds the limit of 10");
    CHECK(resp == NULL);
    ccz_rpc_status_free(&st);
    ccz_rpc_channel_free(ch);

    /* exactly at the server's limit of 4096: a request of 4096 bytes (a tag, two bytes of
     * length, a name of 4093) reaches the handler (whose "big" names it answers too large), one
     * of 4097 is refused with its size; a reply of 4096 ("Hello " and a name of 4087) is sent,
     * one of 4097 is not (the handler checks its TOO_LARGE) */
    ch = channel(&cli, 8u << 20);
    memset(name, 'n', 9999);
    memcpy(name, "big", 3);
    name[4093] = '\0';
    CHECK(say(ch, name, &st, NULL) == NULL);
    CHECK_INT(st.code, CCZ_RPC_RESOURCE_EXHAUSTED);
    CHECK_STR(st.message, "reply too large");
    ccz_rpc_status_free(&st);
    name[4093] = 'n';
    name[4094] = '\0';
    CHECK(say(ch, name, &st, NULL) == NULL);
    CHECK_INT(st.code, CCZ_RPC_RESOURCE_EXHAUSTED);
    CHECK_STR(st.message, "gRPC message of 4097 bytes exceeds the limit of 4096");
    ccz_rpc_status_free(&st);
    name[4088] = '\0';
    CHECK(say(ch, name, &st, NULL) == NULL);
    CHECK_INT(st.code, CCZ_RPC_RESOURCE_EXHAUSTED);
    CHECK_STR(st.message, "reply too large");
    ccz_rpc_status_free(&st);
    memset(name, 'n', 3);
    name[4087] = '\0';
    const char *text = say(ch, name, &st, NULL);
    CHECK_INT(st.code, CCZ_RPC_OK);
    CHECK(text && strncmp(text, "Hello nnnn", 10) == 0);
    ccz_rpc_status_free(&st);
    /* the same limit for a packed answer: 4096 bytes (a name of 4093) sent, 4097 refused */
    Ratls__HelloRequest lim = RATLS__HELLO_REQUEST__INIT;
    lim.name = "packed-limit";
    resp = NULL;
    CHECK_OK(ccz_rpc_unary(ch, &resp, &st, "/ratls.Greeter/SayHello", &lim.base,
                           &ratls__hello_reply__descriptor, NULL));
    CHECK_INT(st.code, CCZ_RPC_OK);
    text = resp ? ((Ratls__HelloReply *)resp)->message : "";
    CHECK_INT(strlen(text), 4093);
    CHECK_INT(strspn(text, "p"), 4093);
    if (resp)
        protobuf_c_message_free_unpacked(resp, NULL);
    ccz_rpc_status_free(&st);
    free(name);
    ccz_rpc_channel_free(ch);
    test_side_free(&cli);
}

/* ---- hostile requests, frame by frame ---------------------------------------------------------*/

typedef struct {
    SSL *ssl;
    int status; /* grpc-status, -1 if none */
    int http;
    char message[256];
    char accept[64], encoding[32]; /* grpc-accept-encoding, grpc-encoding of the response */
    int flag;                      /* the first response message's flag byte, -1 if none */
    bool closed;
} raw;

static raw last_raw;

static ssize_t raw_send(nghttp2_session *s, const uint8_t *d, size_t n, int f, void *u)
{
    (void)s, (void)f;
    raw *r = u;
    int w = SSL_write(r->ssl, d, (int)n);
    return w > 0 ? w : NGHTTP2_ERR_CALLBACK_FAILURE;
}

static int raw_header(nghttp2_session *s, const nghttp2_frame *fr, const uint8_t *name, size_t nl,
                      const uint8_t *value, size_t vl, uint8_t flags, void *u)
{
    (void)s, (void)fr, (void)flags;
    raw *r = u;
    char v[256];
    snprintf(v, sizeof v, "%.*s", (int)vl, value);
    if (nl == 11 && !memcmp(name, "grpc-status", 11))
        r->status = atoi(v);
    else if (nl == 12 && !memcmp(name, "grpc-message", 12))
        snprintf(r->message, sizeof r->message, "%s", v);
    else if (nl == 7 && !memcmp(name, ":status", 7))
        r->http = atoi(v);
    else if (nl == 20 && !memcmp(name, "grpc-accept-encoding", 20))
        snprintf(r->accept, sizeof r->accept, "%.63s", v);
    else if (nl == 13 && !memcmp(name, "grpc-encoding", 13))
        snprintf(r->encoding, sizeof r->encoding, "%.31s", v);
    return 0;
}

static int raw_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *d, size_t n,
                    void *u)
{
    (void)s, (void)flags, (void)id;
    raw *r = u;
    if (r->flag < 0 && n)
        r->flag = d[0];
    return 0;
}

static int raw_close(nghttp2_session *s, int32_t id, uint32_t e, void *u)
{
    (void)s, (void)id, (void)e;
    ((raw *)u)->closed = true;
    return 0;
}

/* Sends one request with the given path, content type, extra headers (next of them after gRPC's
 * six; one named :method in place of POST) and body bytes; returns grpc-status; last_raw keeps
 * what came back. */
static int raw_call_extra(test_side *cli, const char *path, const char *ctype,
                          const nghttp2_nv *extra, size_t next, const void *data, size_t n,
                          char *message)
{
    raw r = {.status = -1, .flag = -1};
    if (ccz_ratls_connect(&r.ssl, cli->ctx, fx.target) != CCZ_OK)
        return -2;
    h2_client_callbacks cb = {
        .send = raw_send, .header = raw_header, .close = raw_close, .data = raw_data};
    nghttp2_session *h2 = h2_client_new(&cb, &r, NULL, 0);
    nghttp2_nv *nv = calloc(6 + next, sizeof *nv);
    size_t nh = h2_grpc_headers(nv, path, ctype ? ctype : "");
    if (!ctype) /* no content-type at all */
        nv[4] = nv[--nh];
    for (size_t i = 0; i < next; i++)
        if (extra[i].namelen == 7 && !memcmp(extra[i].name, ":method", 7))
            nv[0] = extra[i];
        else
            nv[nh++] = extra[i];
    h2_body b = {data, n};
    nghttp2_data_provider prd = {.source.ptr = &b, .read_callback = h2_body_read};
    nghttp2_submit_request(h2, NULL, nv, nh, &prd, NULL);
    free(nv);
    uint8_t buf[16384];
    while (!r.closed && nghttp2_session_send(h2) == 0) {
        int k = SSL_read(r.ssl, buf, sizeof buf);
        if (k <= 0 || nghttp2_session_mem_recv(h2, buf, (size_t)k) < 0)
            break;
    }
    nghttp2_session_del(h2);
    SSL_free(r.ssl);
    if (message)
        snprintf(message, 256, "%s", r.message);
    last_raw = r;
    return r.status;
}

/* As raw_call_extra, with one header (hname NULL: none; its name and value of any length). */
static int raw_call_nv(test_side *cli, const char *path, const char *ctype, const char *hname,
                       const char *hvalue, const void *data, size_t n, char *message)
{
    nghttp2_nv nv = hname ? h2_nv(hname, hvalue) : (nghttp2_nv){0};
    return raw_call_extra(cli, path, ctype, &nv, hname ? 1 : 0, data, n, message);
}

/* As raw_call_nv, the header given as "name: value" (NULL: none), each part 63 bytes at most. */
static int raw_call_with(test_side *cli, const char *path, const char *ctype, const char *header,
                         const void *data, size_t n, char *message)
{
    char hname[64] = "", hvalue[64] = "";
    if (header)
        sscanf(header, "%63[^:]: %63s", hname, hvalue);
    return raw_call_nv(cli, path, ctype, header ? hname : NULL, hvalue, data, n, message);
}

static int raw_call(test_side *cli, const char *path, const char *ctype, const void *data, size_t n,
                    char *message)
{
    return raw_call_with(cli, path, ctype, NULL, data, n, message);
}

/* A gRPC frame (flag 1) holding a compressed HelloRequest for name. */
static void zipped_request(ccz_buf *out, int window_bits, const void *name, size_t n)
{
    ccz_buf pb = CCZ_BUF_INIT, z = CCZ_BUF_INIT;
    CHECK_OK(ccz_buf_append_u8(&pb, 0x0a));
    for (size_t v = n;; v >>= 7) { /* the length as a varint */
        CHECK_OK(ccz_buf_append_u8(&pb, (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0))));
        if (v <= 0x7f)
            break;
    }
    CHECK_OK(ccz_buf_append(&pb, name, n));
    zip(&z, window_bits, pb.ptr, pb.len);
    uint8_t h[5] = {1, (uint8_t)(z.len >> 24), (uint8_t)(z.len >> 16), (uint8_t)(z.len >> 8),
                    (uint8_t)z.len};
    CHECK_OK(ccz_buf_append(out, h, 5));
    CHECK_OK(ccz_buf_append(out, z.ptr, z.len));
    ccz_buf_free(&pb);
    ccz_buf_free(&z);
}

static void test_compressed_requests(void)
{
    test_side cli;
    test_side_init(&cli, false, false);
    char msg[256];
    ccz_buf f = CCZ_BUF_INIT;
    /* gzip and deflate (the zlib format), as grpcio sends them */
    zipped_request(&f, 15 + 16, "zipped", 6);
    CHECK_INT(raw_call_with(&cli, "/ratls.Greeter/SayHello", "application/grpc",
                            "grpc-encoding: gzip", f.ptr, f.len, msg),
              CCZ_RPC_OK);
    CHECK_STR(last_raw.accept, "identity,deflate,gzip");
    CHECK_INT(last_raw.flag, 0); /* this server answers uncompressed */
    ccz_buf_reset(&f);
    zipped_request(&f, 15, "zipped", 6);
    CHECK_INT(raw_call_with(&cli, "/ratls.Greeter/SayHello", "application/grpc",
                            "grpc-encoding: deflate", f.ptr, f.len, msg),
              CCZ_RPC_OK);
    /* the same bytes said to be gzip */
    CHECK_INT(raw_call_with(&cli, "/ratls.Greeter/SayHello", "application/grpc",
                            "grpc-encoding: gzip", f.ptr, f.len, msg),
              CCZ_RPC_INTERNAL);
    CHECK_CONTAINS(msg, "gzip message is corrupt");
    /* identity named outright: no compression, and read */
    CHECK_INT(raw_call_with(&cli, "/ratls.Greeter/SayHello", "application/grpc",
                            "grpc-encoding: identity", "\0\0\0\0\3\x0a\x01z", 8, msg),
              CCZ_RPC_OK);
    /* an encoding the server does not read: UNIMPLEMENTED, and what it reads */
    CHECK_INT(raw_call_with(&cli, "/ratls.Greeter/SayHello", "application/grpc",
                            "grpc-encoding: snappy", f.ptr, f.len, msg),
              CCZ_RPC_UNIMPLEMENTED);
    CHECK_STR(msg, "grpc-encoding 'snappy' is not supported (accepted: identity,deflate,gzip)");
    CHECK_STR(last_raw.accept, "identity,deflate,gzip");
    /* nor one a byte longer or shorter than one it reads (the zlib bytes would be corrupt gzip) */
    CHECK_INT(raw_call_with(&cli, "/ratls.Greeter/SayHello", "application/grpc",
                            "grpc-encoding: gzipx", f.ptr, f.len, msg),
              CCZ_RPC_UNIMPLEMENTED);
    CHECK_STR(msg, "grpc-encoding 'gzipx' is not supported (accepted: identity,deflate,gzip)");
    CHECK_INT(raw_call_with(&cli, "/ratls.Greeter/SayHello", "application/grpc",
                            "grpc-encoding: gzi", f.ptr, f.len, msg),
              CCZ_RPC_UNIMPLEMENTED);
    CHECK_STR(msg, "grpc-encoding 'gzi' is not supported (accepted: identity,deflate,gzip)");
    /* a bomb: 1 MiB of name in about 1 KiB, to a server that takes 4 KiB messages */
    size_t big = 1u << 20;
    char *name = malloc(big);
    memset(name, 'b', big);
    ccz_buf_reset(&f);
    zipped_request(&f, 15 + 16, name, big);
    free(name);
    CHECK(f.len < 4096);
    CHECK_INT(raw_call_with(&cli, "/ratls.Greeter/SayHello", "application/grpc",
                            "grpc-encoding: gzip", f.ptr, f.len, msg),
              CCZ_RPC_RESOURCE_EXHAUSTED);
    CHECK_STR(msg, "the gzip message inflates beyond the limit of 4096 bytes");
    ccz_buf_free(&f);
    /* a ccz channel that compresses what it sends */
    ccz_rpc_channel_opts o = CCZ_RPC_CHANNEL_OPTS_INIT;
    o.tls = cli.ctx;
    o.send_encoding = CCZ_RPC_GZIP;
    ccz_rpc_channel *ch = NULL;
    CHECK_OK(ccz_rpc_channel_new(&ch, fx.target, &o));
    ccz_rpc_status st;
    CHECK_STR(say(ch, "sent zipped, sent zipped, sent zipped", &st, NULL),
              "Hello sent zipped, sent zipped, sent zipped");
    ccz_rpc_status_free(&st);
    ccz_rpc_channel_free(ch);
    test_side_free(&cli);
}

static void test_hostile_requests(void)
{
    test_side cli;
    test_side_init(&cli, false, false);
    char msg[256];
    /* a valid request for reference: 0a 01 'z' */
    CHECK_INT(raw_call(&cli, "/ratls.Greeter/SayHello", "application/grpc", "\0\0\0\0\3\x0a\x01z",
                       8, msg),
              CCZ_RPC_OK);
    /* the message ends inside its length prefix, or inside its body */
    CHECK_INT(raw_call(&cli, "/ratls.Greeter/SayHello", "application/grpc", "\0\0\0", 3, msg),
              CCZ_RPC_INTERNAL);
    CHECK_STR(msg, "the request stream ended inside a message");
    CHECK_INT(raw_call(&cli, "/ratls.Greeter/SayHello", "application/grpc", "\0\0\0\0\x09\x0a\x01z",
                       8, msg),
              CCZ_RPC_INTERNAL);
    CHECK_STR(msg, "the request stream ended inside a message");
    /* a declared length beyond the limit is refused before the bytes arrive */
    CHECK_INT(
        raw_call(&cli, "/ratls.Greeter/SayHello", "application/grpc", "\0\x7f\xff\xff\xff", 5, msg),
        CCZ_RPC_RESOURCE_EXHAUSTED);
    CHECK_CONTAINS(msg, "2147483647 bytes exceeds the limit");
    /* compressed without an agreed encoding; a bad flag byte */
    CHECK_INT(raw_call(&cli, "/ratls.Greeter/SayHello", "application/grpc", "\1\0\0\0\3\x0a\x01z",
                       8, msg),
              CCZ_RPC_INTERNAL);
    CHECK_STR(msg, "gRPC frame: a compressed message without a grpc-encoding");
    CHECK_INT(raw_call(&cli, "/ratls.Greeter/SayHello", "application/grpc", "\7\0\0\0\0", 5, msg),
              CCZ_RPC_INTERNAL);
    CHECK_CONTAINS(msg, "flag byte 0x07");
    /* a bad flag byte is refused as soon as the prefix is in, not once its message is */
    CHECK_INT(raw_call(&cli, "/ratls.Greeter/SayHello", "application/grpc", "\2\0\0\x10\0", 5, msg),
              CCZ_RPC_INTERNAL);
    CHECK_STR(msg, "gRPC frame: flag byte 0x02 is not 0 or 1");
    /* protobuf garbage; two messages on a unary call; none */
    CHECK_INT(raw_call(&cli, "/ratls.Greeter/SayHello", "application/grpc",
                       "\0\0\0\0\3\xff\xff\xff", 8, msg),
              CCZ_RPC_INTERNAL);
    CHECK_STR(msg, "the request cannot be parsed as the method's message");
    CHECK_INT(raw_call(&cli, "/ratls.Greeter/SayHello", "application/grpc", "\0\0\0\0\0\0\0\0\0\0",
                       10, msg),
              CCZ_RPC_UNIMPLEMENTED);
    CHECK_STR(msg, "more than one request message on a unary call");
    CHECK_INT(raw_call(&cli, "/ratls.Greeter/SayHello", "application/grpc", "", 0, msg),
              CCZ_RPC_UNIMPLEMENTED);
    CHECK_STR(msg, "no request message");
    /* not gRPC */
    CHECK_INT(raw_call(&cli, "/ratls.Greeter/SayHello", "text/plain", "\0\0\0\0\0", 5, msg),
              CCZ_RPC_INTERNAL);
    CHECK_CONTAINS(msg, "not a gRPC request");
    /* header values past the server's fixed buffers: a :path of 256 bytes (the call keeps 255),
     * a -bin value of 9000 characters (8188 at most), a grpc-timeout of 4000 digits and a
     * metadata name of 4000 bytes (both ignored) */
    static const char hello[] = "\0\0\0\0\3\x0a\x01z";
    char *long_path = malloc(4001);
    memset(long_path, 'a', 4000);
    long_path[0] = '/';
    long_path[255] = '\0';
    CHECK_INT(raw_call(&cli, long_path, "application/grpc", hello, 8, msg), CCZ_RPC_UNIMPLEMENTED);
    CHECK_CONTAINS(msg, "unknown method /aaaa");
    long_path[255] = 'a';
    long_path[256] = '\0';
    CHECK_INT(raw_call(&cli, long_path, "application/grpc", hello, 8, msg), CCZ_RPC_INTERNAL);
    CHECK_STR(msg, "not a gRPC request (method, content type or metadata)");
    char *long_value = malloc(9001);
    memset(long_value, 'A', 9000);
    long_value[9000] = '\0';
    CHECK_INT(raw_call_nv(&cli, "/ratls.Greeter/SayHello", "application/grpc", "y-big-bin",
                          long_value, hello, 8, msg),
              CCZ_RPC_INTERNAL);
    CHECK_STR(msg, "not a gRPC request (method, content type or metadata)");
    long_value[8188] = '\0';
    CHECK_INT(raw_call_nv(&cli, "/ratls.Greeter/SayHello", "application/grpc", "y-big-bin",
                          long_value, hello, 8, msg),
              CCZ_RPC_OK);
    memset(long_value, '1', 4000);
    long_value[4000] = '\0';
    CHECK_INT(raw_call_nv(&cli, "/ratls.Greeter/SayHello", "application/grpc", "grpc-timeout",
                          long_value, hello, 8, msg),
              CCZ_RPC_OK);
    CHECK_INT(fx.last_remaining, -1); /* no deadline */
    /* nor is one that is not digits and a unit */
    CHECK_INT(raw_call_with(&cli, "/ratls.Greeter/SayHello", "application/grpc", "grpc-timeout: 5x",
                            hello, 8, msg),
              CCZ_RPC_OK);
    CHECK_INT(fx.last_remaining, -1);
    memset(long_path, 'y', 4000);
    long_path[4000] = '\0';
    CHECK_INT(raw_call_nv(&cli, "/ratls.Greeter/SayHello", "application/grpc", long_path, "v",
                          hello, 8, msg),
              CCZ_RPC_OK);
    free(long_path);
    free(long_value);
    /* 500 empty headers: 1.5 KB of names, but 17.5 KB as HTTP/2 counts a header list (32 bytes
     * a field), past the 16 KiB announced (400 are within it; not x-, so not echoed) */
    nghttp2_nv *many = calloc(500, sizeof *many);
    for (int i = 0; i < 500; i++)
        many[i] = h2_nv("y-e", "");
    CHECK_INT(raw_call_extra(&cli, "/ratls.Greeter/SayHello", "application/grpc", many, 500, hello,
                             8, msg),
              CCZ_RPC_RESOURCE_EXHAUSTED);
    CHECK_STR(msg, "the request headers exceed 16384 bytes, or the server's bound");
    CHECK_INT(raw_call_extra(&cli, "/ratls.Greeter/SayHello", "application/grpc", many, 400, hello,
                             8, msg),
              CCZ_RPC_OK);
    free(many);
    /* grpc-timeout: none left is DEADLINE_EXCEEDED before the handler runs; a deadline the
     * handler (answering after 300 ms) misses is the server's to enforce, whether or not the
     * client cancels */
    CHECK_INT(raw_call_with(&cli, "/ratls.Greeter/SayHello", "application/grpc", "grpc-timeout: 0m",
                            hello, 8, msg),
              CCZ_RPC_DEADLINE_EXCEEDED);
    CHECK_STR(msg, "deadline exceeded");
    CHECK_INT(raw_call_with(&cli, "/ratls.Greeter/SayHello", "application/grpc",
                            "grpc-timeout: 100m", "\0\0\0\0\6\x0a\x04slow", 11, msg),
              CCZ_RPC_DEADLINE_EXCEEDED);
    CHECK_STR(msg, "deadline exceeded");
    /* a deadline below a second is kept to the millisecond, not cut to whole seconds (none):
     * the handler's answer after 300 ms is within 900 ms */
    CHECK_INT(raw_call_with(&cli, "/ratls.Greeter/SayHello", "application/grpc",
                            "grpc-timeout: 900m", "\0\0\0\0\6\x0a\x04slow", 11, msg),
              CCZ_RPC_OK);
    /* a method other than POST, a content type one byte short of gRPC's */
    CHECK_INT(raw_call_nv(&cli, "/ratls.Greeter/SayHello", "application/grpc", ":method", "PUT",
                          hello, 8, msg),
              CCZ_RPC_INTERNAL);
    CHECK_STR(msg, "not a gRPC request (method, content type or metadata)");
    CHECK_INT(raw_call(&cli, "/ratls.Greeter/SayHello", "application/grp", hello, 8, msg),
              CCZ_RPC_INTERNAL);
    CHECK_STR(msg, "not a gRPC request (method, content type or metadata)");
    /* one byte past it, or none at all, is not gRPC either; a subtype and parameters are */
    CHECK_INT(raw_call(&cli, "/ratls.Greeter/SayHello", "application/grpcx", hello, 8, msg),
              CCZ_RPC_INTERNAL);
    CHECK_STR(msg, "not a gRPC request (method, content type or metadata)");
    CHECK_INT(raw_call(&cli, "/ratls.Greeter/SayHello", NULL, hello, 8, msg), CCZ_RPC_INTERNAL);
    CHECK_STR(msg, "not a gRPC request (method, content type or metadata)");
    CHECK_INT(raw_call(&cli, "/ratls.Greeter/SayHello", "application/grpc+proto", hello, 8, msg),
              CCZ_RPC_OK);
    CHECK_INT(
        raw_call(&cli, "/ratls.Greeter/SayHello", "application/grpc; charset=utf-8", hello, 8, msg),
        CCZ_RPC_OK);
    /* a client-streaming call answered at its second message: the third, in the same DATA
     * frame, is not handed to the handler of a call that is over */
    static const char three[] = "\0\0\0\0\7\x0a\x05"
                                "alpha"
                                "\0\0\0\0\6\x0a\x04"
                                "stop"
                                "\0\0\0\0\7\x0a\x05"
                                "gamma";
    CHECK_INT(raw_call(&cli, "/test.Stream/Join", "application/grpc", three, sizeof three - 1, msg),
              CCZ_RPC_OK);
    CHECK_STR(msg, "");
    /* the server is still well */
    CHECK_INT(raw_call(&cli, "/ratls.Greeter/SayHello", "application/grpc", "\0\0\0\0\3\x0a\x01z",
                       8, msg),
              CCZ_RPC_OK);
    test_side_free(&cli);
}

static void test_rejected_client(void)
{
    test_side cli;
    test_side_init(&cli, false, true); /* a debug enclave: the server's policy refuses it */
    ccz_rpc_channel *ch = channel(&cli, 0);
    ccz_rpc_status st;
    CHECK(say(ch, "x", &st, NULL) == NULL);
    CHECK_INT(st.code, CCZ_RPC_UNAVAILABLE);
    CHECK_STR(st.message, "the server refused us (TLS alert: bad certificate)");
    ccz_rpc_status_free(&st);
    ccz_rpc_channel_free(ch);
    test_side_free(&cli);
}

static void test_graceful_shutdown(void)
{
    test_side cli;
    test_side_init(&cli, false, false);
    ccz_rpc_channel *ch = channel(&cli, 0);
    collect a = {0};
    Ratls__HelloRequest req = RATLS__HELLO_REQUEST__INIT;
    req.name = "slow-drain";
    CHECK_OK(ccz_rpc_start(ch, NULL, "/ratls.Greeter/SayHello", &req.base,
                           &ratls__hello_reply__descriptor, NULL, on_msg, on_done, &a));
    CHECK_OK(ccz_rpc_channel_run(ch));
    CHECK(a.done);
    CHECK_INT(a.code, CCZ_RPC_OK); /* the call in flight finished */
    CHECK_STR(a.message, "");
    CHECK_STR(a.got, "Hello slow-drain");
    pthread_join(fx.thread, NULL);
    ccz_rpc_server_free(fx.srv);
    fx.srv = NULL;
    /* the server is gone: a new call cannot connect */
    ccz_rpc_status st;
    CHECK(say(ch, "x", &st, NULL) == NULL);
    CHECK_INT(st.code, CCZ_RPC_UNAVAILABLE);
    CHECK_CONTAINS(st.message, "Connection refused");
    ccz_rpc_status_free(&st);
    /* a server again on the same port, with larger messages allowed, that compresses its
     * answers (gzip) for clients that accept it: the channel reconnects, and 5 MiB each way
     * crosses HTTP/2 flow control, plain and compressed */
    int old_port = fx.port;
    server_start(8u << 20, old_port, CCZ_RPC_GZIP);
    CHECK_INT(fx.port, old_port);
    CHECK_STR(say(ch, "again", &st, NULL), "Hello again");
    ccz_rpc_status_free(&st);
    ccz_rpc_channel_free(ch);
    ch = channel(&cli, 8u << 20);
    size_t big = 5u << 20;
    char *name = malloc(big + 1);
    for (size_t i = 0; i < big; i++)
        name[i] = (char)('a' + i % 26);
    name[big] = '\0';
    Ratls__HelloRequest req2 = RATLS__HELLO_REQUEST__INIT;
    req2.name = name;
    ProtobufCMessage *resp = NULL;
    CHECK_OK(ccz_rpc_unary(ch, &resp, &st, "/ratls.Greeter/SayHello", &req2.base,
                           &ratls__hello_reply__descriptor, NULL));
    CHECK_INT(st.code, CCZ_RPC_OK);
    const char *m = resp ? ((Ratls__HelloReply *)resp)->message : "";
    CHECK_INT(strlen(m), big + 6);
    CHECK(!strncmp(m, "Hello abc", 9) && m[big + 5] == name[big - 1]);
    if (resp)
        protobuf_c_message_free_unpacked(resp, NULL);
    ccz_rpc_status_free(&st);
    ccz_rpc_channel_free(ch);
    ccz_rpc_channel_opts co = CCZ_RPC_CHANNEL_OPTS_INIT;
    co.tls = cli.ctx;
    co.max_message = 8u << 20;
    co.send_encoding = CCZ_RPC_DEFLATE;
    CHECK_OK(ccz_rpc_channel_new(&ch, fx.target, &co));
    CHECK_OK(ccz_rpc_unary(ch, &resp, &st, "/ratls.Greeter/SayHello", &req2.base,
                           &ratls__hello_reply__descriptor, NULL));
    CHECK_INT(st.code, CCZ_RPC_OK);
    m = resp ? ((Ratls__HelloReply *)resp)->message : "";
    CHECK_INT(strlen(m), big + 6);
    if (resp)
        protobuf_c_message_free_unpacked(resp, NULL);
    ccz_rpc_status_free(&st);
    free(name);
    /* a packed answer of 1 MiB, compressed for this client from the shared bytes, and the
     * small shared one */
    req2.name = "packed-big";
    CHECK_OK(ccz_rpc_unary(ch, &resp, &st, "/ratls.Greeter/SayHello", &req2.base,
                           &ratls__hello_reply__descriptor, NULL));
    CHECK_INT(st.code, CCZ_RPC_OK);
    m = resp ? ((Ratls__HelloReply *)resp)->message : "";
    CHECK_INT(strlen(m), 1u << 20);
    CHECK(!strncmp(m, "Hello packedxx", 14) && m[(1u << 20) - 1] == 'x');
    if (resp)
        protobuf_c_message_free_unpacked(resp, NULL);
    ccz_rpc_status_free(&st);
    CHECK_STR(say(ch, "packed", &st, NULL), "Hello packed");
    ccz_rpc_status_free(&st);
    ccz_rpc_channel_free(ch);
    /* the answers were compressed: to a client that accepts gzip only */
    CHECK_INT(raw_call_with(&cli, "/ratls.Greeter/SayHello", "application/grpc",
                            "grpc-accept-encoding: gzip", "\0\0\0\0\3\x0a\x01z", 8, NULL),
              CCZ_RPC_OK);
    CHECK_STR(last_raw.encoding, "gzip");
    CHECK_INT(last_raw.flag, 1);
    CHECK_INT(raw_call(&cli, "/ratls.Greeter/SayHello", "application/grpc", "\0\0\0\0\3\x0a\x01z",
                       8, NULL),
              CCZ_RPC_OK);
    CHECK_STR(last_raw.encoding, "");
    CHECK_INT(last_raw.flag, 0);
    /* the client bounds inflating too: a request of 198 bytes within its limit of 200, whose
     * 204-byte answer arrives compressed to far less */
    ch = channel(&cli, 200);
    char many_a[196];
    memset(many_a, 'a', 195);
    many_a[195] = '\0';
    CHECK(say(ch, many_a, &st, NULL) == NULL);
    CHECK_INT(st.code, CCZ_RPC_RESOURCE_EXHAUSTED);
    CHECK_STR(st.message, "the gzip message inflates beyond the limit of 200 bytes");
    ccz_rpc_status_free(&st);
    ccz_rpc_channel_free(ch);
    test_side_free(&cli);
}

static void test_server(void)
{
    signal(SIGPIPE, SIG_IGN);
    test_side_init(&server_side, true, false);
    /* (a port that stays this test's while the server is down, test_graceful_shutdown) */
    server_start(4096, test_quiet_port(), CCZ_RPC_IDENTITY);
    test_unary();
    test_streaming();
    test_deadlines();
    test_limits();
    test_hostile_requests();
    test_compressed_requests();
    test_rejected_client();
    test_graceful_shutdown();
    if (fx.srv)
        server_stop();
    test_side_free(&server_side);
}

static void count_run(void *p)
{
    int *order = p;
    static int n;
    /* the test polls *order from its own thread while the loop's thread writes it */
    __atomic_store_n(order, ++n, __ATOMIC_RELEASE);
}

typedef struct {
    ccz_rpc_server *srv;
    int ran[3];
    ccz_status late;
} defer_case;

static void *defer_from_thread(void *p)
{
    defer_case *d = p;
    CHECK_OK(ccz_rpc_server_defer(d->srv, 60000, count_run, &d->ran[1]));
    return NULL;
}

/* Work handed to the loop (ccz_rpc_server_defer) that is still waiting when the loop ends runs
 * then, oldest first, so that what it holds (a call, a job) is given back, not lost with the
 * loop; work handed over after the end is refused (UNAVAILABLE) and not run: the caller keeps
 * it. A server freed without ever running its loop drops what was handed to it. */
static void test_deferred_at_loop_end(void)
{
    ccz_rpc_server_opts so = CCZ_RPC_SERVER_OPTS_INIT;
    defer_case d = {0};
    CHECK_OK(ccz_rpc_server_new(&d.srv, &so));
    pthread_t loop, t;
    char target[64];
    rpc_serve(d.srv, &loop, target);
    CHECK_OK(ccz_rpc_server_defer(d.srv, 60000, count_run, &d.ran[0]));
    CHECK(pthread_create(&t, NULL, defer_from_thread, &d) == 0);
    pthread_join(t, NULL);
    CHECK_OK(ccz_rpc_server_defer(d.srv, 0, count_run, &d.ran[2])); /* runs on the loop */
    for (int i = 0; i < 200 && !__atomic_load_n(&d.ran[2], __ATOMIC_ACQUIRE); i++)
        usleep(5000);
    CHECK_INT(d.ran[2], 1);
    CHECK(d.ran[0] == 0 && d.ran[1] == 0); /* a minute away */
    rpc_serve_stop(d.srv, loop, 0);
    CHECK_INT(d.ran[0], 2); /* at the loop's end, in the order they were handed over */
    CHECK_INT(d.ran[1], 3);
    int after = 0;
    CHECK_STATUS(ccz_rpc_server_defer(d.srv, 0, count_run, &after), CCZ_ERR_UNAVAILABLE);
    CHECK_CONTAINS(ccz_error_detail(), "the server's event loop has ended");
    CHECK_INT(after, 0);
    ccz_rpc_server_free(d.srv);
    /* never run: what was handed over is dropped with the server (ASan sees nothing left) */
    CHECK_OK(ccz_rpc_server_new(&d.srv, &so));
    CHECK_OK(ccz_rpc_server_defer(d.srv, 0, count_run, &after));
    ccz_rpc_server_free(d.srv);
    CHECK_INT(after, 0);
}

/* An RA-TLS server that completes the handshake but agrees to no ALPN protocol: not a gRPC
 * server. The call ends UNAVAILABLE saying so, and nothing is sent to it as HTTP/2. */
typedef struct {
    int listen_fd;
    SSL_CTX *ctx;
    size_t got; /* application bytes the client sent after the handshake */
} no_h2_server;

static void *no_h2_serve(void *arg)
{
    no_h2_server *n = arg;
    int fd = accept(n->listen_fd, NULL, NULL);
    if (fd < 0)
        return NULL;
    SSL *ssl = SSL_new(n->ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) == 1) {
        char b[256];
        int r;
        while ((r = SSL_read(ssl, b, sizeof b)) > 0)
            n->got += (size_t)r;
    }
    SSL_free(ssl);
    close(fd);
    return NULL;
}

static void test_tls_without_h2(void)
{
    signal(SIGPIPE, SIG_IGN);
    test_side srv, cli;
    test_side_init(&srv, true, false);
    test_side_init(&cli, false, false);
    char target[64];
    no_h2_server n = {.listen_fd = silent_listener(target), .ctx = srv.ctx};
    pthread_t t;
    test_thread(&t, no_h2_serve, &n);
    ccz_rpc_channel_opts o = CCZ_RPC_CHANNEL_OPTS_INIT;
    o.tls = cli.ctx;
    ccz_rpc_channel *ch = NULL;
    CHECK_OK(ccz_rpc_channel_new(&ch, target, &o));
    ccz_rpc_status st;
    ccz_rpc_call_opts co = {CCZ_RPC_CALL_OPTS_VERSION, 2000, NULL};
    CHECK(say(ch, "x", &st, &co) == NULL);
    CHECK_INT(st.code, CCZ_RPC_UNAVAILABLE);
    CHECK_CONTAINS(st.message, "did not agree to HTTP/2 (ALPN h2): not a gRPC server");
    ccz_rpc_status_free(&st);
    ccz_rpc_channel_free(ch);
    pthread_join(t, NULL);
    CHECK_INT(n.got, 0);
    close(n.listen_fd);
    test_side_free(&cli);
    test_side_free(&srv);
}

TEST_MAIN(T(test_frames), T(test_compression), T(test_timeouts), T(test_header_bounds),
          T(test_wire_sent), T(test_server), T(test_deferred_at_loop_end), T(test_tls_without_h2))
