/* SPDX-License-Identifier: Apache-2.0 */
/* gRPC on the wire, independent of HTTP/2: length-prefixed message frames, grpc-timeout,
 * status names, metadata lists and the percent-encoding of grpc-message. Frames and header
 * values come from the network and are read through the cursor. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "core/guard.h"
#include "internal.h"

static const char *const code_names[] = {
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
};

const char *ccz_rpc_code_name(int code)
{
    return code >= 0 && code <= 16 ? code_names[code] : "UNKNOWN";
}

ccz_status rpc_frame_read(ccz_cursor *c, size_t max, bool *compressed, ccz_span *message)
{
    ccz_cursor t = *c;
    uint8_t flag;
    uint32_t len;
    if (ccz_cursor_u8(&t, &flag) || ccz_cursor_u32be(&t, &len))
        return ccz_fail(CCZ_ERR_TRUNCATED, "gRPC frame: header incomplete");
    if (flag > 1)
        return ccz_fail(CCZ_ERR_MALFORMED, "gRPC frame: flag byte 0x%02x is not 0 or 1", flag);
    if (len > max)
        return ccz_fail(CCZ_ERR_TOO_LARGE, "gRPC message of %u bytes exceeds the limit of %zu", len,
                        max);
    if (ccz_cursor_take(&t, message, len))
        return ccz_fail(CCZ_ERR_TRUNCATED, "gRPC frame: message incomplete");
    *compressed = flag == 1;
    *c = t;
    return CCZ_OK;
}

ccz_status ccz_rpc_frame_read(ccz_cursor *c, ccz_span *message, size_t max)
{
    ccz_cursor t = *c;
    uint8_t flag;
    if (ccz_cursor_u8(&t, &flag) == CCZ_OK && flag == 1)
        return ccz_fail(CCZ_ERR_UNSUPPORTED, "gRPC frame: compressed messages are not supported "
                                             "(no grpc-encoding was agreed)");
    bool compressed;
    return rpc_frame_read(c, max, &compressed, message);
}

/* ---- compression (grpc-encoding) -------------------------------------------------------------*/

static const char *const encoding_names[] = {"identity", "gzip", "deflate"};

const char *rpc_encoding_name(ccz_rpc_encoding e)
{
    return (unsigned)e < 3 ? encoding_names[e] : "identity";
}

bool rpc_content_type_ok(const uint8_t *v, size_t n)
{
    return n >= 16 && memcmp(v, "application/grpc", 16) == 0 &&
           (n == 16 || v[16] == '+' || v[16] == ';');
}

int rpc_encoding_parse(const uint8_t *v, size_t n)
{
    for (int i = 0; i < 3; i++)
        if (strlen(encoding_names[i]) == n && memcmp(encoding_names[i], v, n) == 0)
            return i;
    return -1;
}

unsigned rpc_accept_parse(const uint8_t *v, size_t n)
{
    unsigned set = 1u << CCZ_RPC_IDENTITY;
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == ','))
            i++;
        size_t start = i;
        while (i < n && v[i] != ',' && v[i] != ' ')
            i++;
        int e = rpc_encoding_parse(v + start, i - start);
        if (e >= 0)
            set |= 1u << e;
    }
    return set;
}

/* zlib's window bits: 15 is the zlib format (gRPC's "deflate"), +16 gzip. */
static int window_bits(ccz_rpc_encoding e)
{
    return e == CCZ_RPC_GZIP ? 15 + 16 : 15;
}

ccz_status rpc_compress(ccz_buf *out, ccz_rpc_encoding enc, ccz_span in)
{
    CCZ_ENSURE(enc == CCZ_RPC_GZIP || enc == CCZ_RPC_DEFLATE, CCZ_ERR_INVALID_ARGUMENT,
               "encoding %d does not compress", (int)enc);
    CCZ_ENSURE(in.len <= UINT32_MAX, CCZ_ERR_TOO_LARGE, "message too large");
    z_stream z = {0};
    CCZ_ENSURE(deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, window_bits(enc), 8,
                            Z_DEFAULT_STRATEGY) == Z_OK,
               CCZ_ERR_NOMEM, "cannot start zlib");
    uLong bound = deflateBound(&z, (uLong)in.len);
    ccz_status s = ccz_buf_reserve(out, bound);
    if (s == CCZ_OK) {
        z.next_in = (Bytef *)(uintptr_t)in.ptr;
        z.avail_in = (uInt)in.len;
        z.next_out = out->ptr + out->len;
        z.avail_out = (uInt)bound;
        if (deflate(&z, Z_FINISH) == Z_STREAM_END)
            out->len += z.total_out;
        else
            s = ccz_fail(CCZ_ERR_CRYPTO, "zlib cannot compress the message");
    }
    deflateEnd(&z);
    return s;
}

ccz_status rpc_decompress(ccz_buf *out, ccz_rpc_encoding enc, ccz_span in, size_t max)
{
    CCZ_ENSURE(enc == CCZ_RPC_GZIP || enc == CCZ_RPC_DEFLATE, CCZ_ERR_INVALID_ARGUMENT,
               "encoding %d does not compress", (int)enc);
    CCZ_ENSURE(in.len <= UINT32_MAX && max < UINT32_MAX, CCZ_ERR_TOO_LARGE, "message too large");
    z_stream z = {0};
    CCZ_ENSURE(inflateInit2(&z, window_bits(enc)) == Z_OK, CCZ_ERR_NOMEM, "cannot start zlib");
    z.next_in = (Bytef *)(uintptr_t)in.ptr;
    z.avail_in = (uInt)in.len;
    ccz_status s = CCZ_OK;
    int rv = Z_OK;
    /* grow in steps, never past max + 1 bytes: one byte more than allowed tells a bomb */
    while (rv != Z_STREAM_END) {
        size_t room = out->len < max + 1 ? max + 1 - out->len : 0;
        if (room == 0) {
            s = ccz_fail(CCZ_ERR_TOO_LARGE,
                         "the %s message inflates beyond the limit of %zu "
                         "bytes",
                         rpc_encoding_name(enc), max);
            break;
        }
        size_t step = room < 65536 ? room : 65536;
        if (out->cap < out->len + step + 1 && (s = ccz_buf_reserve(out, step)) != CCZ_OK)
            break;
        z.next_out = out->ptr + out->len;
        z.avail_out = (uInt)step;
        rv = inflate(&z, Z_NO_FLUSH);
        out->len += step - z.avail_out;
        if (rv == Z_BUF_ERROR && z.avail_in == 0) {
            s = ccz_fail(CCZ_ERR_TRUNCATED, "the %s message ends early", rpc_encoding_name(enc));
            break;
        }
        if (rv != Z_OK && rv != Z_STREAM_END && rv != Z_BUF_ERROR) {
            s = ccz_fail(CCZ_ERR_MALFORMED, "the %s message is corrupt: %s", rpc_encoding_name(enc),
                         z.msg ? z.msg : "zlib error");
            break;
        }
    }
    if (s == CCZ_OK && out->len > max)
        s = ccz_fail(CCZ_ERR_TOO_LARGE, "the %s message inflates beyond the limit of %zu bytes",
                     rpc_encoding_name(enc), max);
    if (s == CCZ_OK && z.avail_in != 0)
        s = ccz_fail(CCZ_ERR_TRAILING_DATA, "%u bytes follow the %s stream", z.avail_in,
                     rpc_encoding_name(enc));
    inflateEnd(&z);
    return s;
}

ccz_status ccz_rpc_frame_write(ccz_buf *out, ccz_span message)
{
    CCZ_ENSURE(message.len <= UINT32_MAX, CCZ_ERR_TOO_LARGE, "message too large");
    uint8_t h[5] = {0, (uint8_t)(message.len >> 24), (uint8_t)(message.len >> 16),
                    (uint8_t)(message.len >> 8), (uint8_t)message.len};
    CCZ_GUARD(ccz_buf_append(out, h, 5));
    return ccz_buf_append(out, message.ptr, message.len);
}

ccz_status ccz_rpc_timeout_parse(int64_t *ms, const char *s)
{
    size_t n = strlen(s);
    /* up to 8 digits and a unit (gRPC's HTTP/2 spec) */
    if (n < 2 || n > 9 || strspn(s, "0123456789") != n - 1)
        return ccz_fail(CCZ_ERR_MALFORMED, "grpc-timeout '%.16s' is not digits and a unit", s);
    int64_t v = strtoll(s, NULL, 10);
    switch (s[n - 1]) {
    case 'H':
        *ms = v * 3600000;
        break;
    case 'M':
        *ms = v * 60000;
        break;
    case 'S':
        *ms = v * 1000;
        break;
    case 'm':
        *ms = v;
        break;
    case 'u':
        *ms = (v + 999) / 1000;
        break;
    case 'n':
        *ms = (v + 999999) / 1000000;
        break;
    default:
        return ccz_fail(CCZ_ERR_MALFORMED, "grpc-timeout unit '%c' is not H, M, S, m, u or n",
                        s[n - 1]);
    }
    return CCZ_OK;
}

void rpc_timeout_format(char out[16], int64_t ms)
{
    /* at most 8 digits */
    if (ms < 0)
        ms = 0;
    if (ms <= 99999999) {
        snprintf(out, 16, "%dm", (int)ms);
    } else {
        int64_t sec = (ms + 999) / 1000;
        snprintf(out, 16, "%dS", (int)(sec > 99999999 ? 99999999 : sec));
    }
}

/* ---- metadata --------------------------------------------------------------------------------*/

ccz_status ccz_rpc_md_add(ccz_rpc_metadata *md, const char *key, ccz_span value)
{
    ccz_rpc_md_entry *e = realloc(md->entries, (md->n + 1) * sizeof *e);
    CCZ_ENSURE(e, CCZ_ERR_NOMEM, "out of memory");
    md->entries = e;
    e = &md->entries[md->n];
    e->key = strdup(key);
    CCZ_ENSURE(e->key, CCZ_ERR_NOMEM, "out of memory");
    for (char *p = e->key; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    ccz_buf_init(&e->value, 0, false);
    ccz_status s =
        ccz_buf_append(&e->value, value.ptr ? value.ptr : (const uint8_t *)"", value.len);
    if (s) {
        free(e->key);
        return s;
    }
    md->n++;
    return CCZ_OK;
}

const ccz_buf *ccz_rpc_md_get(const ccz_rpc_metadata *md, const char *key)
{
    for (size_t i = 0; md && i < md->n; i++)
        if (strcmp(md->entries[i].key, key) == 0)
            return &md->entries[i].value;
    return NULL;
}

void ccz_rpc_md_free(ccz_rpc_metadata *md)
{
    for (size_t i = 0; i < md->n; i++) {
        free(md->entries[i].key);
        ccz_buf_free(&md->entries[i].value);
    }
    free(md->entries);
    md->entries = NULL;
    md->n = 0;
}

bool rpc_key_is_binary(const char *key)
{
    size_t n = strlen(key);
    return n > 4 && strcmp(key + n - 4, "-bin") == 0;
}

/* A header received: binary values are base64 (padding optional), others kept as they are. */
ccz_status rpc_md_add_wire(ccz_rpc_metadata *md, const char *key, const uint8_t *v, size_t n)
{
    if (!rpc_key_is_binary(key))
        return ccz_rpc_md_add(md, key, CCZ_SPAN(v, n));
    char padded[8192];
    CCZ_ENSURE(n + 3 < sizeof padded, CCZ_ERR_TOO_LARGE, "metadata %s too large", key);
    memcpy(padded, v, n);
    while (n % 4)
        padded[n++] = '=';
    ccz_buf bin = CCZ_BUF_INIT;
    ccz_status s = ccz_base64_decode(&bin, padded, n);
    if (s == CCZ_OK)
        s = ccz_rpc_md_add(md, key, ccz_buf_span(&bin));
    ccz_buf_free(&bin);
    return s ? ccz_fail_context(s, "metadata %s", key) : CCZ_OK;
}

/* The value to send for a metadata entry (base64 without padding for -bin keys). */
ccz_status rpc_md_wire_value(ccz_buf *out, const ccz_rpc_md_entry *e)
{
    if (!rpc_key_is_binary(e->key))
        return ccz_buf_append(out, e->value.ptr ? e->value.ptr : (const uint8_t *)"", e->value.len);
    CCZ_GUARD(ccz_base64_encode(out, ccz_buf_span(&e->value)));
    while (out->len && out->ptr[out->len - 1] == '=')
        out->len--;
    return CCZ_OK;
}

/* grpc-message: percent-encode bytes outside 0x20..0x7e and '%'. */
ccz_status rpc_percent_encode(ccz_buf *out, const char *msg)
{
    for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
        if (*p < 0x20 || *p > 0x7e || *p == '%')
            CCZ_GUARD(ccz_buf_printf(out, "%%%02X", *p));
        else
            CCZ_GUARD(ccz_buf_append_u8(out, *p));
    }
    return CCZ_OK;
}

void rpc_percent_decode(char *out, size_t cap, const uint8_t *in, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        uint8_t v;
        if (in[i] == '%' && i + 2 < n &&
            ccz_hex_decode_fixed(&v, 1, (const char *)in + i + 1, 2) == CCZ_OK) {
            out[o++] = (char)v;
            i += 2;
        } else {
            out[o++] = (char)in[i];
        }
    }
    out[o] = '\0';
    ccz_error_clear();
}

bool rpc_header_reserved(const char *name, size_t len)
{
    static const char *const reserved[] = {
        "content-type", "te", "user-agent", "host", "accept-encoding", "content-length"};
    if (len && name[0] == ':')
        return true;
    if (len >= 5 && memcmp(name, "grpc-", 5) == 0)
        return true;
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (strlen(reserved[i]) == len && memcmp(reserved[i], name, len) == 0)
            return true;
    return false;
}

void rpc_headers_init(rpc_headers *h)
{
    memset(h, 0, sizeof *h);
    ccz_buf_init(&h->text, 0, false);
}

ccz_status rpc_headers_add(rpc_headers *h, const char *name, ccz_span value)
{
    CCZ_ENSURE(h->n < 64, CCZ_ERR_TOO_LARGE, "too many headers");
    h->offs[h->n][0] = h->text.len;
    h->lens[h->n][0] = strlen(name);
    CCZ_GUARD(ccz_buf_append(&h->text, name, strlen(name) + 1));
    h->offs[h->n][1] = h->text.len;
    h->lens[h->n][1] = value.len;
    CCZ_GUARD(ccz_buf_append(&h->text, value.ptr ? value.ptr : (const uint8_t *)"", value.len));
    CCZ_GUARD(ccz_buf_append_u8(&h->text, 0));
    h->n++;
    return CCZ_OK;
}

nghttp2_nv *rpc_headers_nv(rpc_headers *h)
{
    for (size_t i = 0; i < h->n; i++)
        h->nv[i] = (nghttp2_nv){h->text.ptr + h->offs[i][0], h->text.ptr + h->offs[i][1],
                                h->lens[i][0], h->lens[i][1], NGHTTP2_NV_FLAG_NONE};
    return h->nv;
}

void rpc_headers_free(rpc_headers *h)
{
    ccz_buf_free(&h->text);
}

ccz_status rpc_pack(ccz_buf *out, const ProtobufCMessage *m, size_t max, ccz_rpc_encoding enc)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    CCZ_ENSURE(n <= max, CCZ_ERR_TOO_LARGE, "message of %zu bytes exceeds the limit of %zu", n,
               max);
    CCZ_ENSURE(n <= UINT32_MAX, CCZ_ERR_TOO_LARGE, "message too large");
    if (enc != CCZ_RPC_IDENTITY) {
        ccz_buf plain = CCZ_BUF_INIT, packed = CCZ_BUF_INIT;
        ccz_status s = ccz_buf_reserve(&plain, n);
        if (s == CCZ_OK) {
            protobuf_c_message_pack(m, plain.ptr);
            plain.len = n;
            s = rpc_compress(&packed, enc, ccz_buf_span(&plain));
        }
        if (s == CCZ_OK && packed.len > UINT32_MAX)
            s = ccz_fail(CCZ_ERR_TOO_LARGE, "message too large");
        if (s == CCZ_OK) {
            size_t c = packed.len;
            uint8_t h[5] = {1, (uint8_t)(c >> 24), (uint8_t)(c >> 16), (uint8_t)(c >> 8),
                            (uint8_t)c};
            s = ccz_buf_append(out, h, 5);
            if (s == CCZ_OK)
                s = ccz_buf_append(out, packed.ptr, packed.len);
        }
        ccz_buf_free(&plain);
        ccz_buf_free(&packed);
        return s;
    }
    uint8_t h[5] = {0, (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    CCZ_GUARD(ccz_buf_append(out, h, 5));
    CCZ_GUARD(ccz_buf_reserve(out, n));
    protobuf_c_message_pack(m, out->ptr + out->len);
    out->len += n;
    return CCZ_OK;
}
