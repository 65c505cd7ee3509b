/* SPDX-License-Identifier: Apache-2.0 */
/* Event data as people read it: the "details" object trustee's eventlog crate gives each event
 * (deps/eventlog/src/ccel/: strings, EFI variables, UEFI device paths, tagged and AAEL events),
 * rendered the same way so ccz's JSON equals trustee's. Event data is untrusted: every length
 * is checked before a byte is read; where trustee's parser would fail (and with it the whole
 * log), the event gets empty details. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/guard.h"
#include "tee/eventlog/eventlog_internal.h"

/* ---- UTF-8 and UTF-16, as Rust's String::from_utf8(_lossy) and from_utf16(_lossy) ------------*/

/* The length of the valid UTF-8 sequence at p[0..n) (1 to 4), or 0 when invalid; *bad gets the
 * length of the maximal invalid subpart then (what one U+FFFD replaces). */
static size_t utf8_seq(const uint8_t *p, size_t n, size_t *bad)
{
    uint8_t b = p[0];
    size_t want;
    uint8_t lo = 0x80, hi = 0xbf; /* the second byte's range */
    *bad = 1;
    if (b < 0x80)
        return 1;
    if (b >= 0xc2 && b <= 0xdf)
        want = 2;
    else if (b >= 0xe0 && b <= 0xef)
        want = 3, lo = b == 0xe0 ? 0xa0 : 0x80, hi = b == 0xed ? 0x9f : 0xbf;
    else if (b >= 0xf0 && b <= 0xf4)
        want = 4, lo = b == 0xf0 ? 0x90 : 0x80, hi = b == 0xf4 ? 0x8f : 0xbf;
    else
        return 0;
    for (size_t i = 1; i < want; i++) {
        if (i >= n || p[i] < (i == 1 ? lo : 0x80) || p[i] > (i == 1 ? hi : 0xbf))
            return 0;
        *bad = i + 1;
    }
    return want;
}

static bool utf8_valid(ccz_span s)
{
    size_t bad;
    for (size_t i = 0; i < s.len;) {
        size_t k = utf8_seq(s.ptr + i, s.len - i, &bad);
        if (!k)
            return false;
        i += k;
    }
    return true;
}

static const uint8_t replacement[] = {0xef, 0xbf, 0xbd}; /* U+FFFD */

/* Appends s with every maximal invalid subpart replaced by U+FFFD (from_utf8_lossy). */
static ccz_status utf8_lossy(ccz_buf *out, ccz_span s)
{
    size_t bad;
    for (size_t i = 0; i < s.len;) {
        size_t k = utf8_seq(s.ptr + i, s.len - i, &bad);
        if (k) {
            CCZ_GUARD(ccz_buf_append(out, s.ptr + i, k));
            i += k;
        } else {
            CCZ_GUARD(ccz_buf_append(out, replacement, sizeof replacement));
            i += bad;
        }
    }
    return CCZ_OK;
}

static ccz_status put_code_point(ccz_buf *out, uint32_t cp)
{
    uint8_t u[4];
    size_t n;
    if (cp < 0x80)
        u[0] = (uint8_t)cp, n = 1;
    else if (cp < 0x800)
        u[0] = (uint8_t)(0xc0 | cp >> 6), u[1] = (uint8_t)(0x80 | (cp & 0x3f)), n = 2;
    else if (cp < 0x10000)
        u[0] = (uint8_t)(0xe0 | cp >> 12), u[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f)),
        u[2] = (uint8_t)(0x80 | (cp & 0x3f)), n = 3;
    else
        u[0] = (uint8_t)(0xf0 | cp >> 18), u[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f)),
        u[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f)), u[3] = (uint8_t)(0x80 | (cp & 0x3f)), n = 4;
    return ccz_buf_append(out, u, n);
}

/* Appends the UTF-8 of UTF-16LE text (an even number of bytes). An unpaired surrogate is an
 * error (from_utf16), or U+FFFD when lossy (from_utf16_lossy). */
static ccz_status utf16_to_utf8(ccz_buf *out, ccz_span s, bool lossy)
{
    size_t n = s.len / 2;
    for (size_t i = 0; i < n; i++) {
        uint32_t w = (uint32_t)s.ptr[2 * i] | (uint32_t)s.ptr[2 * i + 1] << 8;
        if (w >= 0xd800 && w <= 0xdbff && i + 1 < n) {
            uint32_t w2 = (uint32_t)s.ptr[2 * i + 2] | (uint32_t)s.ptr[2 * i + 3] << 8;
            if (w2 >= 0xdc00 && w2 <= 0xdfff) {
                CCZ_GUARD(put_code_point(out, 0x10000 + ((w - 0xd800) << 10) + (w2 - 0xdc00)));
                i++;
                continue;
            }
        }
        if (w >= 0xd800 && w <= 0xdfff) {
            CCZ_ENSURE(lossy, CCZ_ERR_ENCODING, "unpaired UTF-16 surrogate");
            CCZ_GUARD(ccz_buf_append(out, replacement, sizeof replacement));
            continue;
        }
        CCZ_GUARD(put_code_point(out, w));
    }
    return CCZ_OK;
}

/* ---- text with a sticky status: appends after a failure do nothing, the end checks it ---------*/

typedef struct {
    ccz_buf b;
    ccz_status s;
} text;

/* Set when an allocation failed while decoding one event's data: its details are then not
 * "nothing to say" ({}) but a failure, and evlog_details_json returns NULL. */
static __thread bool out_of_memory;

static ccz_status noted(ccz_status s)
{
    if (s == CCZ_ERR_NOMEM)
        out_of_memory = true;
    return s;
}

#define TEXT_INIT                                                                                  \
    {                                                                                              \
        CCZ_BUF_INIT, CCZ_OK                                                                       \
    }

static void t_put(text *t, const void *p, size_t n)
{
    if (t->s == CCZ_OK)
        t->s = noted(ccz_buf_append(&t->b, p, n));
}

static void t_str(text *t, const char *s)
{
    t_put(t, s, strlen(s));
}

static void t_printf(text *t, const char *fmt, ...) CCZ_PRINTF(2, 3);

static void t_printf(text *t, const char *fmt, ...)
{
    char line[160]; /* every format below is shorter */
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof line)
        t->s = t->s ? t->s : ccz_fail(CCZ_ERR_OVERFLOW, "device path text too long");
    else
        t_put(t, line, (size_t)n);
}

static void t_hex(text *t, ccz_span s, bool upper)
{
    static const char lo[] = "0123456789abcdef", up[] = "0123456789ABCDEF";
    const char *d = upper ? up : lo;
    for (size_t i = 0; i < s.len; i++) {
        char h[2] = {d[s.ptr[i] >> 4], d[s.ptr[i] & 15]};
        t_put(t, h, 2);
    }
}

/* ---- the details object --------------------------------------------------------------------*/

/* {"string": text}, or NULL when building the text failed. */
static json_t *string_details(text *t)
{
    json_t *o = NULL;
    if (t->s == CCZ_OK)
        o = json_pack("{s:s%}", "string", t->b.len ? (const char *)t->b.ptr : "", t->b.len);
    ccz_buf_free(&t->b);
    return o;
}

static uint64_t le(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* A GUID as UEFI prints it: the first three fields little-endian, upper case. */
static void uefi_guid(text *t, const uint8_t *g)
{
    t_printf(t, "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-", g[3], g[2], g[1], g[0], g[5], g[4],
             g[7], g[6], g[8], g[9]);
    t_hex(t, CCZ_SPAN(g + 10, 6), true);
}

/* BBS(TYPE,DESCRIPTION,STATUS); false when the description is not UTF-8. */
static bool bbs_node(text *t, const uint8_t *p, size_t n)
{
    static const char *const names[] = {
        [1] = "FLOPPY", [2] = "HARD_DRIVE", [3] = "CDROM",
        [4] = "PCMCIA", [5] = "USB",        [6] = "EMBEDDED_NETWORK",
    };
    unsigned dt = (unsigned)le(p, 2), status = (unsigned)le(p + 2, 2);
    const uint8_t *nul = memchr(p + 4, 0, n - 4);
    ccz_span desc = CCZ_SPAN(p + 4, nul ? (size_t)(nul - (p + 4)) : n - 4);
    if (!utf8_valid(desc))
        return false;
    if (dt < CCZ_ARRAY_LEN(names) && names[dt])
        t_printf(t, "BBS(%s,", names[dt]);
    else if (dt == 0x80 || dt == 0xff)
        t_printf(t, "BBS(%s,", dt == 0x80 ? "DEV" : "UNKNOWN");
    else
        t_printf(t, "BBS(%u,", dt);
    t_put(t, desc.ptr, desc.len);
    t_printf(t, ",%u)", status);
    return true;
}

/* IPv4(REMOTE,PROTOCOL,TYPE,LOCAL[,GATEWAY,MASK]): trustee reads each address as a
 * little-endian number, so the octets come out reversed; gateway and mask as numbers. */
static void ipv4_node(text *t, const uint8_t *p)
{
    unsigned pr = (unsigned)le(p + 12, 2);
    const char *ps = pr == 6 ? "TCP" : pr == 17 ? "UDP" : "";
    const char *ts = p[14] == 0 ? "DHCP" : p[14] == 1 ? "Static" : "";
    uint32_t gw = (uint32_t)le(p + 15, 4), mask = (uint32_t)le(p + 19, 4);
    t_printf(t, "IPv4(%u.%u.%u.%u,%s,%s,%u.%u.%u.%u", p[7], p[6], p[5], p[4], ps, ts, p[3], p[2],
             p[1], p[0]);
    if (gw || mask)
        t_printf(t, ",%u,%u", gw, mask);
    t_str(t, ")");
}

/* HD(NUMBER,MBR|GPT,SIGNATURE[,START,SIZE]); false for another partition format. */
static bool hd_node(text *t, const uint8_t *p)
{
    uint32_t num = (uint32_t)le(p, 4);
    if (p[36] != 1 && p[36] != 2)
        return false;
    t_printf(t, "HD(%u,", num);
    if (p[36] == 1) {
        t_printf(t, "MBR,0x%08x", (uint32_t)le(p + 20, 4));
    } else {
        t_str(t, "GPT,");
        uefi_guid(t, p + 20);
    }
    if (num)
        t_printf(t, ",0x%llx,0x%llx", (unsigned long long)le(p + 4, 8),
                 (unsigned long long)le(p + 12, 8));
    t_str(t, ")");
    return true;
}

/* One device path node's text, as trustee's parsers write it; false when trustee's parser for
 * it fails (the caller then prints the generic Path(TYPE,SUBTYPE,HEX)). */
static bool device_node(text *t, uint8_t type, uint8_t sub, ccz_span d)
{
    const uint8_t *p = d.ptr;
    size_t n = d.len;
    if (type == 1 && sub == 1 && n >= 2) { /* PCI */
        t_printf(t, "Pci(%u,%u)", p[0], p[1]);
    } else if (type == 2 && sub == 1 && n >= 8) { /* ACPI: a compressed EISA id and a UID */
        uint32_t hid = (uint32_t)le(p, 4), uid = (uint32_t)le(p + 4, 4), v = hid & 0xffff;
        t_printf(t, "ACPI(%c%c%c%04X,%u)", (char)(((v >> 10) & 0x1f) + '@'),
                 (char)(((v >> 5) & 0x1f) + '@'), (char)((v & 0x1f) + '@'), hid >> 16, uid);
    } else if (type == 3 && sub == 0x15 && n >= 16) { /* Fibre Channel Ex */
        t_str(t, "FibreEx(0x");
        t_hex(t, CCZ_SPAN(p, 8), false);
        t_str(t, ",0x");
        t_hex(t, CCZ_SPAN(p + 8, 8), false);
        t_str(t, ")");
    } else if (type == 3 && sub == 0x05 && n >= 2) { /* USB */
        t_printf(t, "USB(%u,%u)", p[0], p[1]);
    } else if (type == 3 && sub == 0x0b && n == 33) { /* MAC: trailing '0' digits dropped */
        size_t k = 31;
        while (k && p[k - 1] == 0)
            k--;
        t_str(t, "Mac(");
        t_hex(t, CCZ_SPAN(p, k), true);
        if (k && (p[k - 1] & 0x0f) == 0) /* the low digit of the last byte is a '0' too */
            t->b.len -= t->s == CCZ_OK ? 1 : 0;
        t_printf(t, ",0x%02x)", p[32]);
    } else if (type == 3 && sub == 0x0c && n >= 23) {
        ipv4_node(t, p);
    } else if (type == 4 && sub == 0x01 && n >= 38) { /* hard drive partition */
        return hd_node(t, p);
    } else if (type == 4 && sub == 0x03 && n >= 16) { /* vendor-defined media */
        t_str(t, "VenMedia(");
        uefi_guid(t, p);
        t_str(t, ",");
        t_hex(t, CCZ_SPAN(p + 16, n - 16), false);
        t_str(t, ")");
    } else if (type == 4 && sub == 0x04 && n > 0 && n % 2 == 0) { /* file path, its NUL dropped */
        t_str(t, "File(");
        if (t->s == CCZ_OK)
            t->s = noted(utf16_to_utf8(&t->b, CCZ_SPAN(p, n - 2), true));
        t_str(t, ")");
    } else if (type == 5 && sub == 0x01 && n >= 4) { /* BIOS boot specification */
        return bbs_node(t, p, n);
    } else {
        return false;
    }
    return true;
}

/* UEFI_IMAGE_LOAD_EVENT: the device path's nodes, without its end node. */
static json_t *boot_services_app(ccz_span d)
{
    ccz_cursor c;
    ccz_cursor_init(&c, d);
    uint64_t len;
    ccz_span path;
    if (ccz_cursor_skip(&c, 24) || ccz_cursor_u64le(&c, &len))
        return NULL;
    if (len == 0)
        return json_object();
    /* trustee leaves out the last 4 bytes (the end node) and needs at least one node */
    if (len < 8 || len - 4 > ccz_cursor_remaining(&c) || ccz_cursor_take(&c, &path, len - 4))
        return NULL;
    json_t *paths = json_array();
    ccz_cursor_init(&c, path);
    while (paths && ccz_cursor_remaining(&c) > 0) {
        uint8_t type, sub;
        uint16_t nlen;
        ccz_span data;
        text t = TEXT_INIT;
        if (ccz_cursor_u8(&c, &type) || ccz_cursor_u8(&c, &sub) || ccz_cursor_u16le(&c, &nlen) ||
            nlen < 4 || ccz_cursor_take(&c, &data, nlen - 4u)) {
            json_decref(paths);
            return NULL;
        }
        if (!device_node(&t, type, sub, data)) {
            ccz_buf_reset(&t.b);
            t.s = CCZ_OK;
            t_printf(&t, "Path(%u,%u,", type, sub);
            t_hex(&t, data, false);
            t_str(&t, ")");
        }
        json_t *js =
            t.s == CCZ_OK ? json_stringn(t.b.len ? (const char *)t.b.ptr : "", t.b.len) : NULL;
        if (json_array_append_new(paths, js))
            json_decref(paths), paths = NULL;
        ccz_buf_free(&t.b);
    }
    return paths ? json_pack("{s:o}", "device_paths", paths) : NULL;
}

/* UEFI_VARIABLE_DATA: GUID, name length (UTF-16 units), data length, name, data. */
static json_t *efi_variable(ccz_span d)
{
    ccz_cursor c;
    ccz_cursor_init(&c, d);
    ccz_span guid, name, data = {NULL, 0};
    uint64_t nlen, dlen;
    if (ccz_cursor_take(&c, &guid, 16) || ccz_cursor_u64le(&c, &nlen) ||
        ccz_cursor_u64le(&c, &dlen) || nlen > ccz_cursor_remaining(&c) / 2 ||
        ccz_cursor_take(&c, &name, (size_t)nlen * 2) ||
        (dlen > 0 && (dlen > ccz_cursor_remaining(&c) || ccz_cursor_take(&c, &data, dlen))))
        return NULL;
    text un = TEXT_INIT, b64 = TEXT_INIT, g = TEXT_INIT;
    un.s = noted(utf16_to_utf8(&un.b, name, false));
    b64.s = noted(ccz_base64_encode(&b64.b, data));
    const uint8_t *p = guid.ptr; /* plain hex in groups of 4-2-2-2-6 bytes, no byte swapping */
    t_hex(&g, CCZ_SPAN(p, 4), false);
    for (size_t i = 4; i < 10; i += 2) {
        t_str(&g, "-");
        t_hex(&g, CCZ_SPAN(p + i, 2), false);
    }
    t_str(&g, "-");
    t_hex(&g, CCZ_SPAN(p + 10, 6), false);
    json_t *o = NULL;
    if (un.s == CCZ_OK && b64.s == CCZ_OK && g.s == CCZ_OK)
        o = json_pack("{s:s%,s:I,s:s%,s:I,s:s%}", "unicode_name",
                      un.b.len ? (const char *)un.b.ptr : "", un.b.len, "unicode_name_length",
                      (json_int_t)nlen, "variable_data", b64.b.len ? (const char *)b64.b.ptr : "",
                      b64.b.len, "variable_data_length", (json_int_t)dlen, "variable_name",
                      (const char *)g.b.ptr, g.b.len);
    ccz_buf_free(&un.b);
    ccz_buf_free(&b64.b);
    ccz_buf_free(&g.b);
    return o;
}

/* The AAEL entry of a tagged event, "DOMAIN OPERATION CONTENT", content being JSON or text:
 * {"domain", "operation", "content"}; NULL when it is not UTF-8 or lacks two spaces. */
static json_t *aael(ccz_span data)
{
    const char *p = (const char *)data.ptr;
    const char *sp1 = utf8_valid(data) ? memchr(p, ' ', data.len) : NULL;
    const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', data.len - (size_t)(sp1 + 1 - p)) : NULL;
    if (!sp2)
        return NULL;
    const char *content = sp2 + 1;
    size_t clen = data.len - (size_t)(content - p);
    json_t *cv = json_loadb(content, clen, JSON_DECODE_ANY, NULL);
    if (!cv)
        cv = json_stringn(content, clen);
    return json_pack("{s:s%,s:s%,s:o}", "domain", p, (size_t)(sp1 - p), "operation", sp1 + 1,
                     (size_t)(sp2 - sp1 - 1), "content", cv);
}

/* TCG_PCClientTaggedEvent: its data as text (invalid UTF-8 replaced, NULs dropped); an AAEL
 * entry (tag "AAEL") is decoded too. */
static json_t *event_tag(ccz_span d)
{
    ccz_cursor c;
    ccz_cursor_init(&c, d);
    uint32_t id, n;
    ccz_span data;
    if (ccz_cursor_u32le(&c, &id) || ccz_cursor_u32le(&c, &n) || ccz_cursor_take(&c, &data, n))
        return NULL;
    ccz_buf lossy = CCZ_BUF_INIT;
    text t = TEXT_INIT;
    t.s = noted(utf8_lossy(&lossy, data));
    for (size_t i = 0; i < lossy.len; i++)
        if (lossy.ptr[i])
            t_put(&t, lossy.ptr + i, 1);
    ccz_buf_free(&lossy);
    json_t *o = string_details(&t);
    if (o && id == 0x4141454c) { /* "AAEL" */
        json_t *a = aael(data);
        if (!a || json_object_set_new(o, "data", a) ||
            json_object_set_new(o, "unicode_name", json_string("AAEL"))) {
            json_decref(o);
            o = NULL;
        }
    }
    return o;
}

/* EV_IPL: a UTF-16 string after 2E 00 (Google's), else text up to the first NUL, else hex. */
static json_t *ipl(ccz_span d)
{
    if (d.len < 2)
        return NULL;
    text t = TEXT_INIT;
    if (d.ptr[0] == 0x2e && d.ptr[1] == 0x00) {
        size_t end = d.len - 2; /* the terminating NUL goes */
        if (end == 0 || end % 2)
            return NULL;
        t.s = noted(utf16_to_utf8(&t.b, CCZ_SPAN(d.ptr + 2, end - 2), true));
    } else {
        const uint8_t *nul = memchr(d.ptr, 0, d.len);
        ccz_span s = CCZ_SPAN(d.ptr, nul ? (size_t)(nul - d.ptr) : d.len);
        if (utf8_valid(s))
            t_put(&t, s.ptr, s.len);
        else
            t_hex(&t, d, false);
    }
    return string_details(&t);
}

/* EV_PLATFORM_CONFIG_FLAGS: the text (or "" when it is not UTF-8), 0x10 as a space, control
 * characters (C0, DEL, C1) dropped. */
static json_t *config_flags(ccz_span d)
{
    text t = TEXT_INIT;
    size_t bad;
    bool valid = utf8_valid(d);
    for (size_t i = 0; valid && i < d.len;) {
        size_t k = utf8_seq(d.ptr + i, d.len - i, &bad);
        uint8_t b = d.ptr[i];
        bool c1 = k == 2 && b == 0xc2 && d.ptr[i + 1] < 0xa0;
        if (b == 0x10)
            t_str(&t, " ");
        else if (!(k == 1 && (b < 0x20 || b == 0x7f)) && !c1)
            t_put(&t, d.ptr + i, k);
        i += k;
    }
    return string_details(&t);
}

/* UEFI_PLATFORM_FIRMWARE_BLOB2 / UEFI_HANDOFF_TABLE_POINTERS2: a length-prefixed description;
 * trustee reads one byte less than the length (the NUL the length counts). */
static json_t *described(ccz_span d)
{
    if (d.len < 1 || d.ptr[0] == 0 || d.len < d.ptr[0])
        return NULL;
    ccz_span s = CCZ_SPAN(d.ptr + 1, d.ptr[0] - 1u);
    if (!utf8_valid(s))
        return NULL;
    text t = TEXT_INIT;
    t_put(&t, s.ptr, s.len);
    return string_details(&t);
}

/* UTF-8 text as it is (EV_POST_CODE, EV_ACTION, EV_EFI_ACTION, ...). */
static json_t *plain_text(ccz_span d)
{
    if (!utf8_valid(d))
        return NULL;
    text t = TEXT_INIT;
    t_put(&t, d.ptr, d.len);
    return string_details(&t);
}

json_t *evlog_details_json(uint32_t type, ccz_span data)
{
    json_t *o = NULL;
    out_of_memory = false;
    switch (type) {
    case 0x1:        /* EV_POST_CODE */
    case 0x5:        /* EV_ACTION */
    case 0xc:        /* EV_COMPACT_HASH */
    case 0x12:       /* EV_OMIT_BOOT_DEVICE_EVENTS */
    case 0x80000007: /* EV_EFI_ACTION */
        o = plain_text(data);
        break;
    case 0x6: /* EV_EVENT_TAG */
        o = event_tag(data);
        break;
    case 0xa: /* EV_PLATFORM_CONFIG_FLAGS */
        o = config_flags(data);
        break;
    case 0xd: /* EV_IPL */
        o = ipl(data);
        break;
    case 0x80000001: /* EV_EFI_VARIABLE_DRIVER_CONFIG */
    case 0x80000002: /* EV_EFI_VARIABLE_BOOT */
    case 0x8000000c: /* EV_EFI_VARIABLE_BOOT2 */
    case 0x800000e0: /* EV_EFI_VARIABLE_AUTHORITY */
        o = efi_variable(data);
        break;
    case 0x80000003: /* EV_EFI_BOOT_SERVICES_APPLICATION */
        o = boot_services_app(data);
        break;
    case 0x8000000a: /* EV_EFI_PLATFORM_FIRMWARE_BLOB2 */
    case 0x8000000b: /* EV_EFI_HANDOFF_TABLES2 */
        o = described(data);
        break;
    default:
        break;
    }
    if (out_of_memory) {
        json_decref(o);
        return NULL;
    }
    return o ? o : json_object();
}
