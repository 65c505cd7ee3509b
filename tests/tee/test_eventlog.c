/* SPDX-License-Identifier: Apache-2.0 */
/* Event logs built here, byte by byte: the Spec ID event and the records, the replay (SHA-384,
 * SHA-256 and SM3 known answers computed with Python's hashlib and `openssl dgst -sm3`), every
 * malformed input's exact status, the details of each kind of event data as trustee's parser
 * renders it, and the policy's "eventlog" rules. */
#include <jansson.h>
#include <openssl/evp.h>

#include "ccz/ccz.h"
#include "test.h"

#define EV_NO_ACTION 3
#define EV_SEPARATOR 4
#define EV_EVENT_TAG 6
#define EV_PLATFORM_CONFIG_FLAGS 0xa
#define EV_IPL 0xd
#define EV_EFI_VARIABLE_BOOT 0x80000002u
#define EV_EFI_BOOT_SERVICES_APPLICATION 0x80000003u
#define EV_EFI_ACTION 0x80000007u
#define EV_EFI_PLATFORM_FIRMWARE_BLOB2 0x8000000au
#define FFFD "\xef\xbf\xbd" /* U+FFFD in UTF-8 */

static void u32(ccz_buf *b, uint32_t v)
{
    CHECK_OK(ccz_buf_append_u32le(b, v));
}

static void u16(ccz_buf *b, uint16_t v)
{
    CHECK_OK(ccz_buf_append_u16le(b, v));
}

static void bytes(ccz_buf *b, const void *p, size_t n)
{
    CHECK_OK(ccz_buf_append(b, p, n));
}

/* The Spec ID event listing algs (with their sizes) and vendor bytes. */
static void spec_id(ccz_buf *b, const uint16_t *algs, size_t n, size_t vendor)
{
    static const uint8_t zero[64];
    u32(b, 0);
    u32(b, EV_NO_ACTION);
    bytes(b, zero, 20);
    u32(b, (uint32_t)(24 + 4 + 4 * n + 1 + vendor));
    bytes(b, "Spec ID Event03", 16);
    bytes(b, zero, 8); /* platform class, versions, uintn size */
    u32(b, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        u16(b, algs[i]);
        u16(b, (uint16_t)ccz_eventlog_alg_size(algs[i]));
    }
    CHECK_OK(ccz_buf_append_u8(b, (uint8_t)vendor));
    bytes(b, zero, vendor);
}

/* A record with one digest of alg, each byte `fill` (or the real hash of data when fill is 0). */
static void event(ccz_buf *b, uint32_t index, uint32_t type, uint16_t alg, uint8_t fill,
                  const void *data, size_t n)
{
    uint8_t d[64];
    size_t size = ccz_eventlog_alg_size(alg);
    const EVP_MD *md = alg == CCZ_EVLOG_SHA384   ? EVP_sha384()
                       : alg == CCZ_EVLOG_SHA256 ? EVP_sha256()
                                                 : EVP_sm3();
    if (fill)
        memset(d, fill, size);
    else
        CHECK(EVP_Digest(data, n, d, NULL, md, NULL) == 1);
    u32(b, index);
    u32(b, type);
    u32(b, 1);
    u16(b, alg);
    bytes(b, d, size);
    u32(b, (uint32_t)n);
    bytes(b, data, n);
}

static const uint16_t sha384[] = {CCZ_EVLOG_SHA384};

static ccz_eventlog *parse_ok(const ccz_buf *b)
{
    ccz_eventlog *l = NULL;
    CHECK_OK(ccz_eventlog_parse(&l, ccz_buf_span(b)));
    return l;
}

static void check_reg(const ccz_eventlog *l, uint32_t index, uint16_t alg, const char *hex)
{
    uint8_t r[64];
    char h[129];
    CHECK_OK(ccz_eventlog_replay(r, sizeof r, l, index, alg));
    ccz_hex_to_str(h, r, ccz_eventlog_alg_size(alg));
    CHECK_STR(h, hex);
}

/* ccz_eventlog_replay_many over the parsed log and ccz_eventlog_replay_bytes over its bytes give
 * every register as ccz_eventlog_replay does, for each algorithm the log lists */
static void check_one_pass(const ccz_buf *b)
{
    ccz_eventlog *l = parse_ok(b);
    if (!l) /* parse_ok said why */
        return;
    uint32_t idx[CCZ_EVLOG_MAX_REPLAY];
    size_t n = ccz_eventlog_indices(idx, CCZ_EVLOG_MAX_REPLAY, l);
    static const uint16_t all[] = {CCZ_EVLOG_SHA256, CCZ_EVLOG_SHA384, CCZ_EVLOG_SM3};
    for (size_t a = 0; a < CCZ_ARRAY_LEN(all); a++) {
        if (!ccz_eventlog_has_alg(l, all[a]))
            continue;
        size_t size = ccz_eventlog_alg_size(all[a]), used = 0;
        static uint8_t many[CCZ_EVLOG_MAX_REPLAY][64], streamed[CCZ_EVLOG_MAX_REPLAY][64];
        CHECK_OK(ccz_eventlog_replay_many(many[0], n * size, l, idx, n, all[a]));
        CHECK_OK(ccz_eventlog_replay_bytes(streamed[0], n * size, &used, ccz_buf_span(b), idx, n,
                                           all[a]));
        CHECK_INT(used, ccz_eventlog_size(l));
        for (size_t i = 0; i < n; i++) {
            uint8_t one[64];
            CHECK_OK(ccz_eventlog_replay(one, sizeof one, l, idx[i], all[a]));
            CHECK(memcmp(one, many[0] + i * size, size) == 0);
            CHECK(memcmp(one, streamed[0] + i * size, size) == 0);
        }
        CHECK_STATUS(ccz_eventlog_replay_many(many[0], n * size - 1, l, idx, n, all[a]),
                     CCZ_ERR_INVALID_ARGUMENT);
    }
    uint8_t r[64];
    CHECK_STATUS(ccz_eventlog_replay_bytes(r, sizeof r, NULL, ccz_buf_span(b), idx, 1, 0x0027),
                 CCZ_ERR_UNSUPPORTED);
    ccz_eventlog_free(l);
}

/* ccz_eventlog_replay_bytes fails on a log as ccz_eventlog_parse does */
static void check_bytes_status(const ccz_buf *b, ccz_status want)
{
    static const uint32_t idx[] = {1, 2, 3, 4};
    static uint8_t r[4][48];
    CHECK_STATUS(
        ccz_eventlog_replay_bytes(r[0], sizeof r, NULL, ccz_buf_span(b), idx, 4, CCZ_EVLOG_SHA384),
        want);
}

static void test_replay_sha384(void)
{
    ccz_buf b = CCZ_BUF_INIT;
    spec_id(&b, sha384, 1, 0);
    event(&b, 1, EV_SEPARATOR, CCZ_EVLOG_SHA384, 0x11, "\0\0\0\0", 4);
    event(&b, 2, EV_NO_ACTION, CCZ_EVLOG_SHA384, 0x11, "x", 1); /* replayed, as trustee does */
    event(&b, 1, EV_EFI_ACTION, CCZ_EVLOG_SHA384, 0x22, "y", 1);
    check_one_pass(&b);
    ccz_eventlog *l = parse_ok(&b);
    CHECK_INT(ccz_eventlog_count(l), 3);
    CHECK_INT(ccz_eventlog_default_alg(l), CCZ_EVLOG_SHA384);
    check_reg(l, 1, CCZ_EVLOG_SHA384,
              "3b0aa70f13ee0d6d1e004bc3925da1d69fa9638c77923663dd226028623932c61139aacb3696bd7a"
              "45990d5eb4ca2868");
    check_reg(l, 2, CCZ_EVLOG_SHA384,
              "c7304e0aec48bbbc703c099b425485b7a60e19b6a83630b0fb558ce2f02ec41e4cdf205335b4b613"
              "b3537ad83eb62262");
    check_reg(l, 3, CCZ_EVLOG_SHA384,
              "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
              "0000000000000000");
    uint8_t r[64];
    CHECK_STATUS(ccz_eventlog_replay(r, sizeof r, l, 1, CCZ_EVLOG_SM3), CCZ_ERR_UNSUPPORTED);
    CHECK_STATUS(ccz_eventlog_replay(r, 47, l, 1, CCZ_EVLOG_SHA384), CCZ_ERR_INVALID_ARGUMENT);
    uint32_t idx[8];
    CHECK_INT(ccz_eventlog_indices(idx, 8, l), 4); /* 1..4: index 2 is among them */
    ccz_eventlog_free(l);
    /* an index beyond 1..4 is shown too */
    event(&b, 9, EV_SEPARATOR, CCZ_EVLOG_SHA384, 0x11, "z", 1);
    check_one_pass(&b);
    l = parse_ok(&b);
    CHECK_INT(ccz_eventlog_indices(idx, 8, l), 5);
    CHECK_INT(idx[4], 9);
    ccz_eventlog_free(l);
    ccz_buf_free(&b);
}

static void test_replay_sm3_sha256(void)
{
    static const uint16_t both[] = {CCZ_EVLOG_SHA256, CCZ_EVLOG_SM3};
    ccz_buf b = CCZ_BUF_INIT;
    spec_id(&b, both, 2, 3);
    event(&b, 1, EV_SEPARATOR, CCZ_EVLOG_SM3, 0x44, "a", 1);
    event(&b, 1, EV_SEPARATOR, CCZ_EVLOG_SHA256, 0x33, "a", 1);
    event(&b, 3, EV_SEPARATOR, CCZ_EVLOG_SM3, 0x55, "b", 1);
    check_one_pass(&b);
    b.len -= 4 + 4 + 4 + 2 + 32 + 4 + 1; /* the SM3 event of index 3 again */
    ccz_eventlog *l = parse_ok(&b);
    CHECK_INT(ccz_eventlog_default_alg(l), CCZ_EVLOG_SM3); /* a CSV guest's log */
    check_reg(l, 1, CCZ_EVLOG_SM3,
              "08e8f82bbca61cba7e161be0af13f5dc4698003764f100f9f400b412e92f1505");
    check_reg(l, 1, CCZ_EVLOG_SHA256,
              "aa3fbb7913e12ae041ff4ac2b75384d7e97ab7a9cc3e405c2bbfc96c65590160");
    json_t *j = ccz_eventlog_to_json(l, 0);
    CHECK_STR(json_string_value(json_object_get(j, "algorithm")), "sm3");
    CHECK_INT(json_object_size(json_object_get(j, "registers")), 4);
    CHECK_INT(json_string_length(json_object_get(json_object_get(j, "registers"), "1")), 64);
    json_decref(j);
    j = ccz_eventlog_to_json(l, CCZ_EVLOG_SHA384); /* not listed */
    CHECK(j == NULL);
    ccz_eventlog_free(l);
    ccz_buf_free(&b);
}

/* The end of the records: the input's end, or 8 bytes of 0xFF or 0x00 (a CCEL area's rest). */
static void test_end_of_log(void)
{
    ccz_buf b = CCZ_BUF_INIT;
    spec_id(&b, sha384, 1, 0);
    event(&b, 1, EV_SEPARATOR, CCZ_EVLOG_SHA384, 0x11, "abcd", 4);
    size_t end = b.len;
    for (int i = 0; i < 100; i++)
        CHECK_OK(ccz_buf_append_u8(&b, 0xff));
    event(&b, 1, EV_SEPARATOR, CCZ_EVLOG_SHA384, 0x11, "abcd", 4); /* not read */
    check_one_pass(&b);
    ccz_eventlog *l = parse_ok(&b);
    CHECK_INT(ccz_eventlog_count(l), 1);
    CHECK_INT(ccz_eventlog_size(l), end);
    ccz_eventlog_free(l);
    b.len = end;
    for (int i = 0; i < 8; i++)
        CHECK_OK(ccz_buf_append_u8(&b, 0));
    l = parse_ok(&b);
    CHECK_INT(ccz_eventlog_count(l), 1);
    ccz_eventlog_free(l);
    /* fewer than 8 bytes left: padding when all 0xFF or 0x00, else a truncated record */
    b.len = end + 5;
    l = parse_ok(&b);
    ccz_eventlog_free(l);
    b.ptr[end + 4] = 0x01;
    CHECK_STATUS(ccz_eventlog_parse(&l, ccz_buf_span(&b)), CCZ_ERR_TRUNCATED);
    check_bytes_status(&b, CCZ_ERR_TRUNCATED);
    CHECK(l == NULL);
    ccz_buf_free(&b);
}

static void test_malformed(void)
{
    ccz_eventlog *l = NULL;
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_STATUS(ccz_eventlog_parse(&l, CCZ_SPAN("", 0)), CCZ_ERR_TRUNCATED);
    check_bytes_status(&b, CCZ_ERR_TRUNCATED);
    /* the first record is not EV_NO_ACTION */
    spec_id(&b, sha384, 1, 0);
    b.ptr[4] = EV_SEPARATOR;
    CHECK_STATUS(ccz_eventlog_parse(&l, ccz_buf_span(&b)), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "not the Spec ID event");
    /* an algorithm ccz does not know; a wrong digest size; one listed twice; none */
    static const uint16_t odd[] = {0x0027};
    ccz_buf_reset(&b);
    spec_id(&b, odd, 1, 0);
    CHECK_STATUS(ccz_eventlog_parse(&l, ccz_buf_span(&b)), CCZ_ERR_UNSUPPORTED);
    CHECK_CONTAINS(ccz_error_detail(), "lists algorithm 0x0027, which ccz does not know");
    check_bytes_status(&b, CCZ_ERR_UNSUPPORTED);
    ccz_buf_reset(&b);
    spec_id(&b, sha384, 1, 0);
    b.ptr[32 + 24 + 4 + 2] = 47; /* SHA-384's size */
    CHECK_STATUS(ccz_eventlog_parse(&l, ccz_buf_span(&b)), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "gives sha384 digests 47 bytes, not 48");
    static const uint16_t twice[] = {CCZ_EVLOG_SHA384, CCZ_EVLOG_SHA384};
    ccz_buf_reset(&b);
    spec_id(&b, twice, 2, 0);
    CHECK_STATUS(ccz_eventlog_parse(&l, ccz_buf_span(&b)), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "the Spec ID event lists sha384 twice");
    check_bytes_status(&b, CCZ_ERR_MALFORMED);
    ccz_buf_reset(&b);
    spec_id(&b, sha384, 0, 0);
    CHECK_STATUS(ccz_eventlog_parse(&l, ccz_buf_span(&b)), CCZ_ERR_MALFORMED);
    /* the Spec ID event's size must be exactly what it holds */
    ccz_buf_reset(&b);
    spec_id(&b, sha384, 1, 0);
    b.ptr[28] += 1;
    CHECK_OK(ccz_buf_append_u8(&b, 0));
    CHECK_STATUS(ccz_eventlog_parse(&l, ccz_buf_span(&b)), CCZ_ERR_TRAILING_DATA);
    /* a record with a digest of an algorithm the Spec ID event does not list */
    ccz_buf_reset(&b);
    spec_id(&b, sha384, 1, 0);
    event(&b, 1, EV_SEPARATOR, CCZ_EVLOG_SHA256, 0x11, "abcd", 4);
    CHECK_STATUS(ccz_eventlog_parse(&l, ccz_buf_span(&b)), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "event 0");
    check_bytes_status(&b, CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "event 0");
    /* event data longer than the log; a record cut anywhere */
    ccz_buf_reset(&b);
    spec_id(&b, sha384, 1, 0);
    size_t start = b.len;
    event(&b, 1, EV_SEPARATOR, CCZ_EVLOG_SHA384, 0x11, "abcd", 4);
    for (size_t cut = start + 1; cut < b.len; cut++) {
        size_t keep = b.len;
        b.len = cut;
        bool pad = cut - start < 8; /* a cut within the index is 0x00 padding ... */
        ccz_status s = ccz_eventlog_parse(&l, ccz_buf_span(&b));
        if (pad && s == CCZ_OK)
            ccz_eventlog_free(l);
        else
            CHECK_INT(s, CCZ_ERR_TRUNCATED);
        check_bytes_status(&b, s);
        b.len = keep;
    }
    /* too many digests in one record */
    b.ptr[start + 8] = 9;
    CHECK_STATUS(ccz_eventlog_parse(&l, ccz_buf_span(&b)), CCZ_ERR_MALFORMED);
    check_bytes_status(&b, CCZ_ERR_MALFORMED);
    CHECK(l == NULL);
    ccz_buf_free(&b);
}

/* A record's digests: at least one, and one per algorithm. A record without digests extends no
 * register, so no replay vouches for it, yet the policy's "eventlog" rules would match it: an
 * event claiming the expected kernel command line could be added to any log. A second digest of
 * one algorithm would extend the register twice for one event. */
static void test_record_digests(void)
{
    ccz_eventlog *l = NULL;
    ccz_buf b = CCZ_BUF_INIT;
    spec_id(&b, sha384, 1, 0);
    event(&b, 2, EV_SEPARATOR, CCZ_EVLOG_SHA384, 0x11, "\0\0\0\0", 4);
    size_t good = b.len;
    u32(&b, 2);
    u32(&b, EV_EFI_ACTION);
    u32(&b, 0); /* no digest */
    u32(&b, 14);
    bytes(&b, "root=/dev/vda1", 14);
    CHECK_STATUS(ccz_eventlog_parse(&l, ccz_buf_span(&b)), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "event 1");
    CHECK_CONTAINS(ccz_error_detail(), "an event has no digest");
    CHECK(l == NULL);
    check_bytes_status(&b, CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "an event has no digest");
    /* two SHA-384 digests in one record */
    static const uint8_t d[48];
    b.len = good;
    u32(&b, 2);
    u32(&b, EV_EFI_ACTION);
    u32(&b, 2);
    u16(&b, CCZ_EVLOG_SHA384);
    bytes(&b, d, sizeof d);
    u16(&b, CCZ_EVLOG_SHA384);
    bytes(&b, d, sizeof d);
    u32(&b, 1);
    bytes(&b, "x", 1);
    CHECK_STATUS(ccz_eventlog_parse(&l, ccz_buf_span(&b)), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "two digests of algorithm sha384");
    CHECK(l == NULL);
    check_bytes_status(&b, CCZ_ERR_MALFORMED);
    /* the same record with one digest is read */
    b.len = good;
    event(&b, 2, EV_EFI_ACTION, CCZ_EVLOG_SHA384, 0x22, "x", 1);
    l = parse_ok(&b);
    CHECK_INT(ccz_eventlog_count(l), 2);
    ccz_eventlog_free(l);
    /* the Spec ID event lists at most 8 algorithms; a record carries at most 8 digests */
    static const uint16_t nine[] = {CCZ_EVLOG_SHA1,   CCZ_EVLOG_SHA256, CCZ_EVLOG_SHA384,
                                    CCZ_EVLOG_SHA512, CCZ_EVLOG_SM3,    CCZ_EVLOG_SHA1,
                                    CCZ_EVLOG_SHA256, CCZ_EVLOG_SHA384, CCZ_EVLOG_SHA512};
    ccz_buf_reset(&b);
    spec_id(&b, nine, 9, 0);
    CHECK_STATUS(ccz_eventlog_parse(&l, ccz_buf_span(&b)), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "lists 9 algorithms (1 to 8 expected)");
    ccz_buf_reset(&b);
    spec_id(&b, sha384, 1, 0);
    event(&b, 1, EV_SEPARATOR, CCZ_EVLOG_SHA384, 0x11, "abcd", 4);
    b.ptr[b.len - 4 - 4 - 48 - 2 - 4] = 9; /* the digest count */
    CHECK_STATUS(ccz_eventlog_parse(&l, ccz_buf_span(&b)), CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "an event claims 9 digests");
    ccz_buf_free(&b);
}

/* ccz_eventlog_load: the binary log, its base64 text, JSON carrying it. */
static void test_load_forms(void)
{
    ccz_buf b = CCZ_BUF_INIT, t = CCZ_BUF_INIT, j = CCZ_BUF_INIT;
    spec_id(&b, sha384, 1, 0);
    event(&b, 2, EV_SEPARATOR, CCZ_EVLOG_SHA384, 0x11, "abcd", 4);
    CHECK_OK(ccz_base64_encode(&t, ccz_buf_span(&b)));
    ccz_eventlog *l = NULL;
    CHECK_OK(ccz_eventlog_load(&l, ccz_buf_span(&b)));
    CHECK_INT(ccz_eventlog_count(l), 1);
    ccz_eventlog_free(l);
    CHECK_OK(ccz_buf_printf(&j, "  %.*s\n", (int)t.len, (const char *)t.ptr));
    CHECK_OK(ccz_eventlog_load(&l, ccz_buf_span(&j)));
    ccz_eventlog_free(l);
    ccz_buf_reset(&j);
    CHECK_OK(ccz_buf_printf(&j, "{\"cc_eventlog\": \"%.*s\"}", (int)t.len, (const char *)t.ptr));
    CHECK_OK(ccz_eventlog_load(&l, ccz_buf_span(&j)));
    CHECK_INT(ccz_eventlog_event(l, 0)->index, 2);
    CHECK(ccz_eventlog_event(l, 1) == NULL);
    ccz_eventlog_free(l);
    CHECK_STATUS(ccz_eventlog_load(&l, CCZ_LIT("{\"other\": 1}")), CCZ_ERR_NOT_FOUND);
    CHECK_STATUS(ccz_eventlog_load(&l, CCZ_LIT("{\"cc_eventlog\": \"AAA\"}")), CCZ_ERR_ENCODING);
    CHECK_STATUS(ccz_eventlog_load(&l, CCZ_LIT("{broken")), CCZ_ERR_JSON);
    ccz_buf_free(&b);
    ccz_buf_free(&t);
    ccz_buf_free(&j);
}

/* The details of one event's data, as compact JSON. Another event follows it, so a parser that
 * read past the data would read known bytes (that event's index, 02 00 00 00), not the end of
 * the buffer. */
static char *details(uint32_t type, const void *data, size_t n)
{
    ccz_buf b = CCZ_BUF_INIT;
    spec_id(&b, sha384, 1, 0);
    event(&b, 1, type, CCZ_EVLOG_SHA384, 0, data, n);
    event(&b, 2, EV_SEPARATOR, CCZ_EVLOG_SHA384, 0, "\0\0\0\0", 4);
    ccz_eventlog *l = parse_ok(&b);
    json_t *ev = l ? ccz_eventlog_events_json(l) : NULL;
    json_t *e = json_array_get(ev, 0);
    CHECK(json_is_true(json_object_get(e, "digest_matches_event")));
    char *s = json_dumps(json_object_get(e, "details"), JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(ev);
    ccz_eventlog_free(l);
    ccz_buf_free(&b);
    return s;
}

#define CHECK_DETAILS(type, lit, want)                                                             \
    do {                                                                                           \
        char *d_ = details((type), (lit), sizeof(lit) - 1);                                        \
        CHECK_STR(d_, (want));                                                                     \
        free(d_);                                                                                  \
    } while (0)

static void test_details_text(void)
{
    CHECK_DETAILS(EV_EFI_ACTION, "Calling EFI Application",
                  "{\"string\":\"Calling EFI Application\"}");
    CHECK_DETAILS(EV_EFI_ACTION, "bad \xff utf-8", "{}"); /* trustee would fail the log */
    CHECK_DETAILS(EV_SEPARATOR, "\0\0\0\0", "{}");
    /* config flags: 0x10 is a space, control characters (C0, DEL, C1) go; not UTF-8: "" */
    CHECK_DETAILS(EV_PLATFORM_CONFIG_FLAGS,
                  "a\x10"
                  "b\x01\x7f\xc2\x85\xc2\xa0z",
                  "{\"string\":\"a b\xc2\xa0z\"}");
    CHECK_DETAILS(EV_PLATFORM_CONFIG_FLAGS, "td_hob\x80", "{\"string\":\"\"}");
    /* a length-prefixed description, one byte shorter than its length (the NUL) */
    CHECK_DETAILS(EV_EFI_PLATFORM_FIRMWARE_BLOB2, "\x09TdxTable\0\x01\x02",
                  "{\"string\":\"TdxTable\"}");
    CHECK_DETAILS(EV_EFI_PLATFORM_FIRMWARE_BLOB2, "\x20short", "{}");
    CHECK_DETAILS(EV_EFI_PLATFORM_FIRMWARE_BLOB2, "\x00", "{}");
    /* EV_IPL: text to the first NUL; Google's 2E 00 UTF-16; else hex */
    CHECK_DETAILS(EV_IPL, "MokList\0rest", "{\"string\":\"MokList\"}");
    CHECK_DETAILS(EV_IPL, ".\0g\0r\0u\0b\0\0\0", "{\"string\":\"grub\"}");
    CHECK_DETAILS(EV_IPL, ".\0g\0\0", "{}");
    CHECK_DETAILS(EV_IPL, "\xff\x01", "{\"string\":\"ff01\"}");
    CHECK_DETAILS(EV_IPL, "x", "{}");
}

static void test_details_tags(void)
{
    /* tagged event: the data as text, invalid UTF-8 replaced (maximal subparts), NULs gone */
    CHECK_DETAILS(EV_EVENT_TAG, "\xed\x22\x3b\x8f\x0a\0\0\0Linux\0\xe2\x82x\0",
                  "{\"string\":\"Linux\xef\xbf\xbdx\"}");
    CHECK_DETAILS(EV_EVENT_TAG, "\1\0\0\0\x40\0\0\0short", "{}");
    /* AAEL: "DOMAIN OPERATION CONTENT", the content JSON when it parses */
    CHECK_DETAILS(EV_EVENT_TAG, "LEAA\x19\0\0\0coco.com op {\"k\": [1, 2]}",
                  "{\"data\":{\"content\":{\"k\":[1,2]},\"domain\":\"coco.com\",\"operation\":"
                  "\"op\"},\"string\":\"coco.com op {\\\"k\\\": [1, 2]}\",\"unicode_name\":"
                  "\"AAEL\"}");
    CHECK_DETAILS(EV_EVENT_TAG, "LEAA\x0e\0\0\0d o some-thing",
                  "{\"data\":{\"content\":\"some-thing\",\"domain\":\"d\",\"operation\":\"o\"},"
                  "\"string\":\"d o some-thing\",\"unicode_name\":\"AAEL\"}");
    CHECK_DETAILS(EV_EVENT_TAG, "LEAA\x04\0\0\0d-o-", "{}");
}

static void test_details_variable(void)
{
    /* UEFI_VARIABLE_DATA: GUID as plain hex, the name's UTF-16 units, the data in base64 */
    CHECK_DETAILS(EV_EFI_VARIABLE_BOOT,
                  "\x61\xdf\xe4\x8b\xca\x93\xd2\x11\xaa\x0d\x00\xe0\x98\x03\x2b\x8c"
                  "\x04\0\0\0\0\0\0\0\x02\0\0\0\0\0\0\0B\0o\0o\0t\0\x01\x02",
                  "{\"unicode_name\":\"Boot\",\"unicode_name_length\":4,\"variable_data\":\"AQI=\","
                  "\"variable_data_length\":2,\"variable_name\":\"61dfe48b-ca93-d211-aa0d-"
                  "00e098032b8c\"}");
    CHECK_DETAILS(EV_EFI_VARIABLE_BOOT,
                  "0123456789abcdef\x01\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x00\xd8",
                  "{}"); /* an unpaired surrogate */
    CHECK_DETAILS(EV_EFI_VARIABLE_BOOT, "0123456789abcdef\x09\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0A\0",
                  "{}");
    CHECK_DETAILS(EV_EFI_VARIABLE_BOOT, "0123456789abcde", "{}");
}

static void test_details_device_paths(void)
{
    /* UEFI_IMAGE_LOAD_EVENT: 24 bytes, the path's length, then nodes; the end node is left out */
    static const char app[] =
        "\x41\x41\x41\x41\x41\x41\x41\x41\x42\x42\x42\x42\x42\x42\x42\x42\x43\x43\x43\x43\x43\x43"
        "\x43\x43\xa3\x00\x00\x00\x00\x00\x00\x00\x02\x01\x0c\x00\xd0\x41\x03\x0a\x00\x00\x00\x00"
        "\x01\x01\x06\x00\x00\x01\x04\x01\x2a\x00\x0f\x00\x00\x00\x00\x28\x00\x00\x00\x00\x00\x00"
        "\x00\x50\x03\x00\x00\x00\x00\x00\x5e\x27\xf1\x00\x75\x53\xd5\x43\x9e\xb5\xde\x2a\xdd\x4c"
        "\x99\x32\x02\x02\x04\x01\x2a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
        "\x00\x00\x00\x00\x00\x00\x78\x56\x34\x12\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
        "\x01\x01\x04\x04\x0e\x00\x6b\x00\x65\x00\x72\x00\x6e\x00\x00\x00\x03\x05\x06\x00\x02\x03"
        "\x03\x0b\x25\x00\x52\x54\x00\x12\x34\x50\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
        "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x7f\xff\x04\x00";
    CHECK_DETAILS(
        EV_EFI_BOOT_SERVICES_APPLICATION, app,
        "{\"device_paths\":[\"ACPI(PNP0A03,0)\",\"Pci(0,1)\",\"HD(15,GPT,00F1275E-5375-"
        "43D5-9EB5-DE2ADD4C9932,0x2800,0x35000)\",\"HD(0,MBR,0x12345678)\",\"File(kern)\","
        "\"USB(2,3)\",\"Mac(52540012345,0x01)\"]}");
    static const char more[] =
        "\x41\x41\x41\x41\x41\x41\x41\x41\x42\x42\x42\x42\x42\x42\x42\x42\x43\x43\x43\x43\x43\x43"
        "\x43\x43\x61\x00\x00\x00\x00\x00\x00\x00\x03\x0c\x1b\x00\x0a\x00\x00\x01\xc0\xa8\x01\x02"
        "\x50\x00\x51\x00\x06\x00\x01\x01\x00\x00\x00\x02\x00\x00\x00\x03\x15\x14\x00\x01\x02\x03"
        "\x04\x05\x06\x07\x08\x11\x12\x13\x14\x15\x16\x17\x18\x04\x03\x15\x00\x72\xf7\x28\x14\x4a"
        "\xb6\x1e\x44\xb8\xc3\x9e\xbd\xd7\xf8\x93\xc7\xab\x05\x01\x0e\x00\x02\x00\x07\x00\x64\x69"
        "\x73\x6b\x00\x78\x09\x09\x06\x00\xbe\xef\x01\x01\x05\x00\x01\x7f\xff\x04\x00";
    CHECK_DETAILS(EV_EFI_BOOT_SERVICES_APPLICATION, more,
                  "{\"device_paths\":[\"IPv4(2.1.168.192,TCP,Static,1.0.0.10,1,2)\",\"FibreEx("
                  "0x0102030405060708,0x1112131415161718)\",\"VenMedia(1428F772-B64A-441E-B8C3-"
                  "9EBDD7F893C7,ab)\",\"BBS(HARD_DRIVE,disk,7)\",\"Path(9,9,beef)\",\"Path(1,1,"
                  "01)\"]}");
    /* no path; a path shorter than one node; a node longer than the path; a zero-length node */
    CHECK_DETAILS(EV_EFI_BOOT_SERVICES_APPLICATION, "AAAAAAAABBBBBBBBCCCCCCCC\0\0\0\0\0\0\0\0",
                  "{}");
    CHECK_DETAILS(EV_EFI_BOOT_SERVICES_APPLICATION,
                  "AAAAAAAABBBBBBBBCCCCCCCC\x06\0\0\0\0\0\0\0\x01\x01\x7f\xff\x04\0", "{}");
    CHECK_DETAILS(EV_EFI_BOOT_SERVICES_APPLICATION,
                  "AAAAAAAABBBBBBBBCCCCCCCC\x0c\0\0\0\0\0\0\0\x01\x01\x09\0\x7f\xff\x04\0", "{}");
    CHECK_DETAILS(EV_EFI_BOOT_SERVICES_APPLICATION,
                  "AAAAAAAABBBBBBBBCCCCCCCC\x0c\0\0\0\0\0\0\0\x01\x01\x00\0\x01\x01\x04\0", "{}");
    CHECK_DETAILS(EV_EFI_BOOT_SERVICES_APPLICATION, "AAAAAAAABBBBBBBB", "{}");
}

/* Text that is not UTF-8 in each way Rust's from_utf8 refuses (overlong in two, three and four
 * bytes, a surrogate, above U+10FFFF, no such lead byte, cut short): in a tagged event each
 * maximal invalid part is one U+FFFD, as from_utf8_lossy has it; the edges are UTF-8 */
static void test_details_utf8(void)
{
    CHECK_DETAILS(EV_EVENT_TAG,
                  "\1\0\0\0\x1c\0\0\0\xc0\xaf|\xe0\x9f\xbf|\xed\xa0\x80|\xf0\x8f\xbf\xbf|\xf4\x90"
                  "\x80\x80|\xf5\x80\x80\x80|\xe2\x82",
                  "{\"string\":\"" FFFD FFFD "|" FFFD FFFD FFFD "|" FFFD FFFD FFFD
                  "|" FFFD FFFD FFFD FFFD "|" FFFD FFFD FFFD FFFD "|" FFFD FFFD FFFD FFFD "|" FFFD
                  "\"}");
    CHECK_DETAILS(EV_EFI_ACTION, "\xc0\xaf", "{}");
    CHECK_DETAILS(
        EV_EFI_ACTION, "\xc2\x80\xe0\xa0\x80\xed\x9f\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf",
        "{\"string\":\"\xc2\x80\xe0\xa0\x80\xed\x9f\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"}");
}

/* Lengths that must not be trusted: a description one byte longer than the data, Google's
 * UTF-16 IPL without even its NUL, a variable's name length that would wrap when doubled, a
 * high surrogate at the end of a name (the data after it is not its pair) */
static void test_details_lengths(void)
{
    CHECK_DETAILS(EV_EFI_PLATFORM_FIRMWARE_BLOB2, "\x09TdxTable", "{\"string\":\"TdxTable\"}");
    CHECK_DETAILS(EV_EFI_PLATFORM_FIRMWARE_BLOB2, "\x0aTdxTable", "{}");
    CHECK_DETAILS(EV_IPL, ".\0", "{}");
    CHECK_DETAILS(EV_IPL, ".\0\0\0", "{\"string\":\"\"}");
    CHECK_DETAILS(EV_EFI_VARIABLE_BOOT, "0123456789abcdef\x01\0\0\0\0\0\0\x80\0\0\0\0\0\0\0\0A\0",
                  "{}");
    CHECK_DETAILS(EV_EFI_VARIABLE_BOOT,
                  "0123456789abcdef\x01\0\0\0\0\0\0\0\x02\0\0\0\0\0\0\0\x3d\xd8\x00\xde", "{}");
    CHECK_DETAILS(EV_EFI_VARIABLE_BOOT,
                  "0123456789abcdef\x02\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x3d\xd8\x00\xde",
                  "{\"unicode_name\":\"\xf0\x9f\x98\x80\",\"unicode_name_length\":2,"
                  "\"variable_data\":\"\",\"variable_data_length\":0,\"variable_name\":"
                  "\"30313233-3435-3637-3839-616263646566\"}");
    CHECK_DETAILS(EV_EFI_BOOT_SERVICES_APPLICATION,
                  "AAAAAAAABBBBBBBBCCCCCCCC\x04\0\0\0\0\0\0\0\x7f\xff\x04\0", "{}");
}

/* An image's device path node (TYPE, SUBTYPE, data) */
static void node(ccz_buf *b, uint8_t type, uint8_t sub, const void *data, size_t n)
{
    CHECK_OK(ccz_buf_append_u8(b, type));
    CHECK_OK(ccz_buf_append_u8(b, sub));
    u16(b, (uint16_t)(n + 4));
    bytes(b, data, n);
}

/* Each node one byte shorter than its parser reads (the Mac node one longer), a partition of
 * neither MBR nor GPT, a BBS description that is not UTF-8: each printed as Path(...) */
static void test_details_short_nodes(void)
{
    static const uint8_t z[40] = {0};
    ccz_buf path = CCZ_BUF_INIT, d = CCZ_BUF_INIT;
    node(&path, 2, 1, z, 7);     /* ACPI */
    node(&path, 3, 0x15, z, 15); /* Fibre Channel Ex */
    node(&path, 3, 0x05, z, 1);  /* USB */
    node(&path, 3, 0x0b, z, 34); /* MAC */
    node(&path, 3, 0x0c, z, 22); /* IPv4 */
    uint8_t gpt[37] = {0};
    gpt[36] = 2;
    node(&path, 4, 0x01, gpt, sizeof gpt); /* hard drive (GPT) */
    node(&path, 4, 0x03, z, 15);           /* vendor media */
    node(&path, 4, 0x04, z, 0);            /* file path, empty */
    node(&path, 4, 0x04, "a\0b", 3);
    node(&path, 5, 0x01, "\x02\0\x07", 3); /* BBS */
    uint8_t hd[38] = {1};
    hd[36] = 3;
    node(&path, 4, 0x01, hd, sizeof hd);
    node(&path, 5, 0x01, "\x02\0\x07\0\xff", 5);
    node(&path, 1, 1, "\x01\x02", 2); /* PCI: each node before it read to its length */
    bytes(&d, "AAAAAAAABBBBBBBBCCCCCCCC", 24);
    CHECK_OK(ccz_buf_append_u64le(&d, path.len + 4));
    bytes(&d, path.ptr, path.len);
    bytes(&d, "\x7f\xff\x04\0", 4);
    char *got = details(EV_EFI_BOOT_SERVICES_APPLICATION, d.ptr, d.len);
    CHECK_STR(
        got,
        "{\"device_paths\":["
        "\"Path(2,1,00000000000000)\","
        "\"Path(3,21,000000000000000000000000000000)\","
        "\"Path(3,5,00)\","
        "\"Path(3,11,00000000000000000000000000000000000000000000000000000000000000000000)\","
        "\"Path(3,12,00000000000000000000000000000000000000000000)\","
        "\"Path(4,1,00000000000000000000000000000000000000000000000000000000000000000000000002)\","
        "\"Path(4,3,000000000000000000000000000000)\","
        "\"Path(4,4,)\",\"Path(4,4,610062)\",\"Path(5,1,020007)\","
        "\"Path(4,1,0100000000000000000000000000000000000000000000000000000000000000000000000300)\","
        "\"Path(5,1,02000700ff)\",\"Pci(1,2)\"]}");
    free(got);
    ccz_buf_free(&path);
    ccz_buf_free(&d);
}

/* A record with a SHA-256 and a SHA-512 digest of data; the SHA-512 one with its last byte
 * flipped when bad. */
static void event_two(ccz_buf *b, uint32_t index, uint32_t type, const char *data, bool bad)
{
    uint8_t d256[32], d512[64];
    size_t n = strlen(data);
    CHECK(EVP_Digest(data, n, d256, NULL, EVP_sha256(), NULL) == 1);
    CHECK(EVP_Digest(data, n, d512, NULL, EVP_sha512(), NULL) == 1);
    if (bad)
        d512[63] ^= 1;
    u32(b, index);
    u32(b, type);
    u32(b, 2);
    u16(b, CCZ_EVLOG_SHA256);
    bytes(b, d256, sizeof d256);
    u16(b, CCZ_EVLOG_SHA512);
    bytes(b, d512, sizeof d512);
    u32(b, (uint32_t)n);
    bytes(b, data, n);
}

/* SHA-512 (the longest digest) in the JSON: digests and registers in full; a digest wrong only
 * in its last byte, or only in an event's last digest, does not match; an unknown type's name
 * is 0x and eight hex digits. */
static void test_event_json_sha512(void)
{
    static const uint16_t algs[] = {CCZ_EVLOG_SHA256, CCZ_EVLOG_SHA512};
    ccz_buf b = CCZ_BUF_INIT;
    spec_id(&b, algs, 2, 0);
    event_two(&b, 1, EV_SEPARATOR, "ab", false);
    event_two(&b, 1, 0xffu, "cd", true);
    event_two(&b, 2, EV_SEPARATOR, "", false);
    ccz_eventlog *l = parse_ok(&b);
    CHECK(ccz_event_type_name(0xffu) == NULL);
    json_t *j = l ? ccz_eventlog_to_json(l, CCZ_EVLOG_SHA512) : NULL;
    CHECK(j != NULL);
    CHECK_STR(json_string_value(json_object_get(j, "algorithm")), "sha512");
    uint8_t r[64];
    char hex[129];
    CHECK_OK(ccz_eventlog_replay(r, sizeof r, l, 1, CCZ_EVLOG_SHA512));
    ccz_hex_to_str(hex, r, 64);
    CHECK_STR(json_string_value(json_object_get(json_object_get(j, "registers"), "1")), hex);
    json_t *ev = json_object_get(j, "events");
    CHECK_INT(json_array_size(ev), 3);
    CHECK_STR(json_string_value(json_object_get(json_array_get(ev, 2), "event")), "");
    json_t *e0 = json_array_get(ev, 0), *e1 = json_array_get(ev, 1);
    CHECK(json_is_true(json_object_get(e0, "digest_matches_event")));
    CHECK(json_is_false(json_object_get(e1, "digest_matches_event")));
    json_t *d = json_array_get(json_object_get(e0, "digests"), 1);
    CHECK_STR(json_string_value(json_object_get(d, "alg")), "SHA-512");
    CHECK_INT(json_string_length(json_object_get(d, "digest")), 128);
    CHECK_STR(json_string_value(json_object_get(e1, "type_name")), "0x000000ff");
    CHECK_INT(json_integer_value(json_object_get(e1, "index")), 1);
    json_decref(j);
    ccz_eventlog_free(l);
    ccz_buf_free(&b);
}

static void test_event_json_shape(void)
{
    ccz_buf b = CCZ_BUF_INIT;
    spec_id(&b, sha384, 1, 0);
    event(&b, 3, 0x80000011u, CCZ_EVLOG_SHA384, 0x11, "ab", 2);
    ccz_eventlog *l = parse_ok(&b);
    json_t *ev = ccz_eventlog_events_json(l);
    char *s = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
    CHECK_STR(s,
              "[{\"details\":{},\"digest_matches_event\":false,\"digests\":[{\"alg\":\"SHA-384\","
              "\"digest\":\"111111111111111111111111111111111111111111111111111111111111111111"
              "111111111111111111111111111111\"}],\"event\":\"YWI=\",\"index\":3,\"type_name\":"
              "\"0x80000011\"}]");
    free(s);
    json_decref(ev);
    CHECK_STR(ccz_event_type_name(EV_EFI_BOOT_SERVICES_APPLICATION),
              "EV_EFI_BOOT_SERVICES_APPLICATION");
    CHECK(ccz_event_type_name(0x80000011u) == NULL);
    uint16_t alg;
    CHECK_OK(ccz_eventlog_alg_parse(&alg, "sm3"));
    CHECK_INT(alg, CCZ_EVLOG_SM3);
    CHECK_STATUS(ccz_eventlog_alg_parse(&alg, "md5"), CCZ_ERR_INVALID_ARGUMENT);
    ccz_eventlog_free(l);
    ccz_buf_free(&b);
}

/* The policy's "eventlog" rules against verified claims carrying a log. */
static void test_policy_rules(void)
{
    ccz_buf b = CCZ_BUF_INIT;
    spec_id(&b, sha384, 1, 0);
    event(&b, 2, EV_PLATFORM_CONFIG_FLAGS, CCZ_EVLOG_SHA384, 0xab, "td_payload_info root=/dev/vda1",
          30);
    event(&b, 2, EV_EFI_BOOT_SERVICES_APPLICATION, CCZ_EVLOG_SHA384, 0xcd,
          "AAAAAAAABBBBBBBBCCCCCCCC\x0c\0\0\0\0\0\0\0\x04\x04\x08\0k\0\0\0\x7f\xff\x04\0", 44);
    ccz_eventlog *l = parse_ok(&b);
    static ccz_claims c;
    memset(&c, 0, sizeof c);
    c.tee = CCZ_TEE_SNP;
    c.eventlog = l;
    static const char ok[] =
        "{\"eventlog\": [{\"string_contains\": \"root=/dev/vda1\", \"index\": 2},"
        " {\"type\": \"EV_EFI_BOOT_SERVICES_APPLICATION\", \"device_path\": \"File(k)\", \"digest\":"
        " \"CDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCD"
        "CDCDCDCD\"}]}";
    ccz_policy *p = NULL;
    ccz_appraisal a;
    CHECK_OK(ccz_policy_parse(&p, ok, sizeof ok - 1));
    CHECK_OK(ccz_appraise(&a, p, &c));
    CHECK(a.accepted);
    c.eventlog = NULL;
    CHECK_OK(ccz_appraise(&a, p, &c));
    CHECK_INT(a.n_reasons, 1);
    CHECK_STR(a.reasons[0].code, "eventlog_missing");
    ccz_policy_free(p);
    c.eventlog = l;
    static const char bad[] =
        "{\"eventlog\": [{\"string\": \"td_payload_info\"}, {\"index\": 2, \"unicode_name\":"
        " \"x\"}, {\"index\": 2}, {\"index\": 1, \"string_contains\": \"root\"}, {\"type\":"
        " \"EV_SEPARATOR\", \"index\": 2}, {\"device_path\": \"File(x)\"}, {\"digest\": "
        "\"cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
        "cdcdcdce\"}, {\"string_contains\": \"root=/dev/vda2\"}]}";
    CHECK_OK(ccz_policy_parse(&p, bad, sizeof bad - 1));
    CHECK_OK(ccz_appraise(&a, p, &c));
    CHECK_INT(a.n_reasons, 7); /* all but {"index": 2} */
    CHECK_STR(a.reasons[0].code, "event_not_found");
    CHECK_CONTAINS(a.reasons[0].message, "eventlog[0]");
    CHECK_CONTAINS(a.reasons[1].message, "eventlog[1]");
    CHECK_CONTAINS(a.reasons[2].message, "eventlog[3]");
    CHECK_CONTAINS(a.reasons[6].message, "eventlog[7]");
    ccz_policy_free(p);
    /* the rules are checked when the policy is read */
    static const char *const wrong[] = {
        "{\"eventlog\": {}}",
        "{\"eventlog\": [{}]}",
        "{\"eventlog\": [{\"index\": -1}]}",
        "{\"eventlog\": [{\"digest\": \"abc\"}]}",
        "{\"eventlog\": [{\"digest\": \"" /* 64 digits, one not hex */
        "000000000000000000000000000000000000000000000000000000000000000g\"}]}",
        "{\"eventlog\": [{\"type\": 3}]}",
        "{\"eventlog\": [{\"kernel\": \"x\"}]}",
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(wrong); i++)
        CHECK_STATUS(ccz_policy_parse(&p, wrong[i], strlen(wrong[i])), CCZ_ERR_POLICY);
    ccz_eventlog_free(l);
    ccz_buf_free(&b);
}

/* Only what the replay vouches for meets a rule: ccz_verify replays MR indices 1 to 4 with
 * SHA-384 (TDX) or SM3 (CSV), so an event of another index, or without a digest of that
 * algorithm, changed no register the evidence signs, and whoever wrote the log could have added
 * it; a "digest" rule is met by the replayed digest only. */
static void test_policy_rules_replayed_only(void)
{
    static const uint16_t both[] = {CCZ_EVLOG_SHA256, CCZ_EVLOG_SHA384};
    ccz_buf b = CCZ_BUF_INIT;
    spec_id(&b, both, 2, 0);
    event(&b, 2, EV_IPL, CCZ_EVLOG_SHA384, 0x11, "root=/dev/vda1", 14);
    event(&b, 5, EV_IPL, CCZ_EVLOG_SHA384, 0x22, "root=/dev/vda5", 14);
    event(&b, 0, EV_IPL, CCZ_EVLOG_SHA384, 0x33, "root=/dev/vda0", 14);
    event(&b, 3, EV_IPL, CCZ_EVLOG_SHA256, 0x44, "root=/dev/vda3", 14);
    ccz_eventlog *l = parse_ok(&b);
    static ccz_claims c;
    memset(&c, 0, sizeof c);
    c.tee = CCZ_TEE_SNP; /* claims of a kind whose appraisal adds no reasons here; SHA-384 */
    c.eventlog = l;
    static ccz_appraisal a;
    ccz_policy *p = NULL;
    static const char rules[] =
        "{\"eventlog\": [{\"string\": \"root=/dev/vda1\", \"index\": 2},"
        " {\"string\": \"root=/dev/vda5\"}, {\"string\": \"root=/dev/vda0\"},"
        " {\"string\": \"root=/dev/vda3\"}, {\"digest\": \""
        "4444444444444444444444444444444444444444444444444444444444444444\"}]}";
    CHECK_OK(ccz_policy_parse(&p, rules, sizeof rules - 1));
    CHECK_OK(ccz_appraise(&a, p, &c));
    CHECK(!a.accepted);
    CHECK_INT(a.n_reasons, 4); /* all but the first */
    CHECK_CONTAINS(a.reasons[0].message, "eventlog[1]: no event of the log matches");
    CHECK_CONTAINS(a.reasons[1].message, "eventlog[2]: no event of the log matches");
    CHECK_CONTAINS(a.reasons[2].message, "eventlog[3]: no event of the log matches");
    CHECK_CONTAINS(a.reasons[3].message, "eventlog[4]: no event of the log matches");
    ccz_policy_free(p);
    /* the replayed digest meets a rule; for CSV claims (SM3) no SHA-384 event does */
    static const char digest[] =
        "{\"eventlog\": [{\"digest\": \"111111111111111111111111111111111111111111111111"
        "111111111111111111111111111111111111111111111111\"}]}";
    CHECK_OK(ccz_policy_parse(&p, digest, sizeof digest - 1));
    CHECK_OK(ccz_appraise(&a, p, &c));
    CHECK(a.accepted);
    c.tee = CCZ_TEE_CSV;
    CHECK_OK(ccz_appraise(&a, p, &c));
    CHECK(!a.accepted);
    CHECK_STR(a.reasons[0].code, "event_not_found");
    ccz_policy_free(p);
    ccz_eventlog_free(l);
    ccz_buf_free(&b);
}

/* A rule on a UEFI variable's name, and more unmatched rules than an appraisal has room for
 * reasons: the first CCZ_MAX_REASONS are kept. */
static void test_policy_rules_names_and_cap(void)
{
    ccz_buf b = CCZ_BUF_INIT;
    spec_id(&b, sha384, 1, 0);
    static const char var[] = "\x61\xdf\xe4\x8b\xca\x93\xd2\x11\xaa\x0d\x00\xe0\x98\x03\x2b\x8c"
                              "\x04\0\0\0\0\0\0\0\x02\0\0\0\0\0\0\0B\0o\0o\0t\0\x01\x02";
    event(&b, 1, EV_EFI_VARIABLE_BOOT, CCZ_EVLOG_SHA384, 0xef, var, sizeof var - 1);
    ccz_eventlog *l = parse_ok(&b);
    static ccz_claims c;
    memset(&c, 0, sizeof c);
    c.tee = CCZ_TEE_SNP;
    c.eventlog = l;
    static ccz_appraisal a;
    ccz_policy *p = NULL;
    static const char name[] = "{\"eventlog\": [{\"unicode_name\": \"Boot\", \"index\": 1}]}";
    CHECK_OK(ccz_policy_parse(&p, name, sizeof name - 1));
    CHECK_OK(ccz_appraise(&a, p, &c));
    CHECK(a.accepted);
    CHECK_INT(a.n_reasons, 0);
    ccz_policy_free(p);
    static const char other[] = "{\"eventlog\": [{\"unicode_name\": \"Boo\"}]}";
    CHECK_OK(ccz_policy_parse(&p, other, sizeof other - 1));
    CHECK_OK(ccz_appraise(&a, p, &c));
    CHECK_INT(a.n_reasons, 1);
    CHECK_STR(a.reasons[0].code, "event_not_found");
    CHECK_STR(a.reasons[0].message,
              "eventlog[0]: no event of the log matches {\"unicode_name\":\"Boo\"}");
    ccz_policy_free(p);
    char doc[1024] = "{\"eventlog\": [";
    for (int i = 0; i < CCZ_MAX_REASONS + 8; i++)
        strcat(doc, i ? ", {\"index\": 9}" : "{\"index\": 9}");
    strcat(doc, "]}");
    CHECK_OK(ccz_policy_parse(&p, doc, strlen(doc)));
    CHECK_OK(ccz_appraise(&a, p, &c));
    CHECK(!a.accepted);
    CHECK_INT(a.n_reasons, CCZ_MAX_REASONS);
    CHECK_STR(a.reasons[CCZ_MAX_REASONS - 1].message,
              "eventlog[31]: no event of the log matches {\"index\":9}");
    ccz_policy_free(p);
    ccz_eventlog_free(l);
    ccz_buf_free(&b);
}

/* One replay extends at most CCZ_EVLOG_MAX_REPLAY registers: more are refused before any is
 * touched (the replayer keeps that many), by both replays, however much room the caller gives. */
static void test_replay_register_cap(void)
{
    ccz_buf b = CCZ_BUF_INIT;
    spec_id(&b, sha384, 1, 0);
    event(&b, 1, EV_SEPARATOR, CCZ_EVLOG_SHA384, 0x11, "abcd", 4);
    ccz_eventlog *l = parse_ok(&b);
    uint32_t idx[CCZ_EVLOG_MAX_REPLAY + 1];
    for (uint32_t i = 0; i < CCZ_EVLOG_MAX_REPLAY + 1; i++)
        idx[i] = i;
    static uint8_t out[CCZ_EVLOG_MAX_REPLAY + 1][48];
    CHECK_OK(ccz_eventlog_replay_many(out[0], sizeof out, l, idx, CCZ_EVLOG_MAX_REPLAY,
                                      CCZ_EVLOG_SHA384));
    CHECK_STATUS(ccz_eventlog_replay_many(out[0], sizeof out, l, idx, CCZ_EVLOG_MAX_REPLAY + 1,
                                          CCZ_EVLOG_SHA384),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "replay: 33 registers at once, more than 32");
    CHECK_STATUS(ccz_eventlog_replay_bytes(out[0], sizeof out, NULL, ccz_buf_span(&b), idx,
                                           CCZ_EVLOG_MAX_REPLAY + 1, CCZ_EVLOG_SHA384),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "more than 32");
    ccz_eventlog_free(l);
    ccz_buf_free(&b);
}

/* The JSON shows at most 64 registers: a log naming more (one event per register 5 to 70, and
 * 1 to 4 always) says how many it left out, each shown one replayed; one naming 64 says
 * nothing. */
static void test_json_register_cap(void)
{
    for (uint32_t last = 64; last <= 70; last += 6) {
        ccz_buf b = CCZ_BUF_INIT;
        spec_id(&b, sha384, 1, 0);
        for (uint32_t i = 5; i <= last; i++)
            event(&b, i, EV_SEPARATOR, CCZ_EVLOG_SHA384, (uint8_t)i, "x", 1);
        event(&b, 7, EV_SEPARATOR, CCZ_EVLOG_SHA384, 0x7f, "y", 1); /* named again */
        ccz_eventlog *l = parse_ok(&b);
        json_t *j = ccz_eventlog_to_json(l, 0);
        json_t *regs = json_object_get(j, "registers"), *omitted;
        CHECK_INT(json_object_size(regs), 64);
        omitted = json_object_get(j, "registers_omitted");
        if (last == 64) {
            CHECK(omitted == NULL);
        } else {
            CHECK_INT(json_integer_value(omitted), 6);
        }
        /* register 9 holds one event: SHA-384(zeros || 0x09 * 48) */
        uint8_t r[48], z[96] = {0};
        memset(z + 48, 9, 48);
        CHECK(EVP_Digest(z, sizeof z, r, NULL, EVP_sha384(), NULL) == 1);
        char hex[97];
        for (int i = 0; i < 48; i++)
            snprintf(hex + 2 * i, 3, "%02x", r[i]);
        CHECK_STR(json_string_value(json_object_get(regs, "9")), hex);
        json_decref(j);
        ccz_eventlog_free(l);
        ccz_buf_free(&b);
    }
}

/* A register named twice in one replay is replayed in both places, as ccz_eventlog_replay gives
 * it: the second place is not left at zeros (a caller comparing it with a register of zeros
 * would accept a log that extends it). */
static void test_replay_index_repeated(void)
{
    ccz_buf b = CCZ_BUF_INIT;
    spec_id(&b, sha384, 1, 0);
    event(&b, 1, EV_SEPARATOR, CCZ_EVLOG_SHA384, 0x11, "abcd", 4);
    event(&b, 2, EV_SEPARATOR, CCZ_EVLOG_SHA384, 0x22, "efgh", 4);
    ccz_eventlog *l = parse_ok(&b);
    static const uint32_t idx[] = {1, 2, 1, 2};
    uint8_t one[2][64], many[4][48], streamed[4][48];
    CHECK_OK(ccz_eventlog_replay(one[0], sizeof one[0], l, 1, CCZ_EVLOG_SHA384));
    CHECK_OK(ccz_eventlog_replay(one[1], sizeof one[1], l, 2, CCZ_EVLOG_SHA384));
    CHECK_OK(ccz_eventlog_replay_many(many[0], sizeof many, l, idx, 4, CCZ_EVLOG_SHA384));
    CHECK_OK(ccz_eventlog_replay_bytes(streamed[0], sizeof streamed, NULL, ccz_buf_span(&b), idx, 4,
                                       CCZ_EVLOG_SHA384));
    for (size_t i = 0; i < 4; i++) {
        CHECK(memcmp(many[i], one[i % 2], 48) == 0);
        CHECK(memcmp(streamed[i], one[i % 2], 48) == 0);
    }
    ccz_eventlog_free(l);
    ccz_buf_free(&b);
}

/* A log of more than CCZ_EVLOG_MAX_BYTES is refused before it is read or copied, in every form
 * it comes in: parsed, loaded, replayed from its bytes; one of exactly that size is read. */
static void test_log_size_cap(void)
{
    ccz_buf b = CCZ_BUF_INIT;
    spec_id(&b, sha384, 1, 0);
    event(&b, 1, EV_SEPARATOR, CCZ_EVLOG_SHA384, 0x11, "abcd", 4);
    size_t used = b.len;
    CHECK_OK(ccz_buf_reserve(&b, CCZ_EVLOG_MAX_BYTES + 1 - b.len));
    memset(b.ptr + b.len, 0xff, CCZ_EVLOG_MAX_BYTES + 1 - b.len); /* a CCEL area's padding */
    b.len = CCZ_EVLOG_MAX_BYTES + 1;
    ccz_eventlog *l = NULL;
    CHECK_STATUS(ccz_eventlog_parse(&l, ccz_buf_span(&b)), CCZ_ERR_TOO_LARGE);
    CHECK_STR(ccz_error_detail(), "event log: 16777217 bytes, more than 16777216");
    CHECK(l == NULL);
    CHECK_STATUS(ccz_eventlog_load(&l, ccz_buf_span(&b)), CCZ_ERR_TOO_LARGE);
    CHECK(l == NULL);
    static const uint32_t idx[] = {1};
    uint8_t r[48];
    CHECK_STATUS(
        ccz_eventlog_replay_bytes(r, sizeof r, NULL, ccz_buf_span(&b), idx, 1, CCZ_EVLOG_SHA384),
        CCZ_ERR_TOO_LARGE);
    CHECK_STR(ccz_error_detail(), "event log: 16777217 bytes, more than 16777216");
    b.len = CCZ_EVLOG_MAX_BYTES;
    l = parse_ok(&b);
    CHECK(l && ccz_eventlog_count(l) == 1 && ccz_eventlog_size(l) == used);
    ccz_eventlog_free(l);
    size_t got = 0;
    CHECK_OK(
        ccz_eventlog_replay_bytes(r, sizeof r, &got, ccz_buf_span(&b), idx, 1, CCZ_EVLOG_SHA384));
    CHECK_INT(got, used);
    ccz_buf_free(&b);
}

/* SHA-1 and SHA-512 logs replay: SHA-1 is the first algorithm ccz knows, SHA-512 the largest
 * digest (a register and the digest it is extended with fill a 128-byte slot); a register the
 * log never extends stays zeros beside one it does. */
static void test_replay_sha1_sha512(void)
{
    static const uint16_t sha1[] = {CCZ_EVLOG_SHA1}, sha512[] = {CCZ_EVLOG_SHA512};
    static const uint32_t idx[] = {1, 2};
    uint8_t r[2 * 64];
    char hex[129];
    ccz_buf b = CCZ_BUF_INIT;
    spec_id(&b, sha1, 1, 0);
    event(&b, 1, EV_SEPARATOR, CCZ_EVLOG_SHA1, 0x11, "\0\0\0\0", 4);
    ccz_eventlog *l = parse_ok(&b);
    check_reg(l, 1, CCZ_EVLOG_SHA1, "b3e26c6ca6785f04dd7187293d802d5b16dad8c1");
    ccz_eventlog_free(l);
    ccz_buf_reset(&b);
    spec_id(&b, sha512, 1, 0);
    event(&b, 1, EV_SEPARATOR, CCZ_EVLOG_SHA512, 0x11, "\0\0\0\0", 4);
    l = parse_ok(&b);
    CHECK_OK(ccz_eventlog_replay_many(r, sizeof r, l, idx, 2, CCZ_EVLOG_SHA512));
    ccz_hex_to_str(hex, r, 64);
    CHECK_STR(hex, "9e79d4ba0dbf4caabcd559e34d620f90d3a13411edfd801996e66819260fdc0a"
                   "29182e7ffef267464c52933528f52172aefc5c4bede5a02ba383f85b2dbebe82");
    static const uint8_t zeros[64];
    CHECK(memcmp(r + 64, zeros, 64) == 0);
    ccz_eventlog_free(l);
    ccz_buf_free(&b);
}

/* Fields cut short where what follows could still be read as something else: the Spec ID
 * event's algorithm count, a record's last digest (4 zero bytes left would read as an empty
 * event's size), base64 in JSON that does not decode (named as cc_eventlog). */
static void test_short_fields(void)
{
    ccz_eventlog *l = NULL;
    ccz_buf b = CCZ_BUF_INIT;
    spec_id(&b, sha384, 1, 0);
    b.ptr[28] = 24 + 2; /* the Spec ID event ends 2 bytes into its algorithm count */
    b.len = 32 + 24 + 2;
    CHECK_STATUS(ccz_eventlog_parse(&l, ccz_buf_span(&b)), CCZ_ERR_TRUNCATED);
    CHECK_CONTAINS(ccz_error_detail(), "need 4 bytes at offset 24, only 2 remain");
    CHECK(l == NULL);
    ccz_buf_reset(&b);
    spec_id(&b, sha384, 1, 0);
    u32(&b, 1);
    u32(&b, EV_SEPARATOR);
    u32(&b, 1);
    u16(&b, CCZ_EVLOG_SHA384);
    u32(&b, 0); /* 4 of the digest's 48 bytes, then the log ends */
    CHECK_STATUS(ccz_eventlog_parse(&l, ccz_buf_span(&b)), CCZ_ERR_TRUNCATED);
    CHECK_CONTAINS(ccz_error_detail(), "need 48 bytes");
    CHECK(l == NULL);
    CHECK_STATUS(ccz_eventlog_load(&l, CCZ_LIT("{\"cc_eventlog\": \"A@==\"}")), CCZ_ERR_ENCODING);
    CHECK_CONTAINS(ccz_error_detail(), "cc_eventlog");
    CHECK(l == NULL);
    ccz_buf_free(&b);
}

/* Edges a hostile log or a caller reaches: a Spec ID event whose size runs past the log; an
 * event of MR index 0, whose first byte 0x00 is not the end of the records (8 such bytes are);
 * a log of SHA-1 or SHA-512 alone, replayed by default with that algorithm; the register list
 * cut at its cap; JSON after whitespace; a "cc_eventlog" that is not a string; the prefix of an
 * algorithm's name. */
static void test_hostile_edges(void)
{
    ccz_eventlog *l = NULL;
    ccz_buf b = CCZ_BUF_INIT;
    spec_id(&b, sha384, 1, 0);
    b.ptr[28] += 1; /* one byte more than the log holds */
    CHECK_STATUS(ccz_eventlog_parse(&l, ccz_buf_span(&b)), CCZ_ERR_TRUNCATED);
    CHECK_STR(ccz_error_detail(), "event log: need 34 bytes at offset 32, only 33 remain");
    CHECK(l == NULL);
    check_bytes_status(&b, CCZ_ERR_TRUNCATED);
    ccz_buf_reset(&b);
    spec_id(&b, sha384, 1, 0);
    event(&b, 0, EV_IPL, CCZ_EVLOG_SHA384, 0x11, "abcd", 4);
    event(&b, 1, EV_SEPARATOR, CCZ_EVLOG_SHA384, 0x22, "efgh", 4);
    l = parse_ok(&b);
    CHECK_INT(ccz_eventlog_count(l), 2);
    CHECK_INT(ccz_eventlog_size(l), b.len);
    check_one_pass(&b);
    uint32_t idx[8];
    CHECK_INT(ccz_eventlog_indices(idx, 8, l), 5);
    CHECK_INT(idx[0], 0);
    ccz_eventlog_free(l);
    /* the register list stops at its cap, however many indices the log has */
    event(&b, 9, EV_SEPARATOR, CCZ_EVLOG_SHA384, 0x33, "ijkl", 4);
    l = parse_ok(&b);
    idx[2] = 77;
    CHECK_INT(ccz_eventlog_indices(idx, 2, l), 2);
    CHECK_INT(idx[0], 1);
    CHECK_INT(idx[1], 2);
    CHECK_INT(idx[2], 77);
    ccz_eventlog_free(l);
    static const uint16_t sha1[] = {CCZ_EVLOG_SHA1}, sha512[] = {CCZ_EVLOG_SHA512};
    ccz_buf_reset(&b);
    spec_id(&b, sha1, 1, 0);
    l = parse_ok(&b);
    CHECK_INT(ccz_eventlog_default_alg(l), CCZ_EVLOG_SHA1);
    ccz_eventlog_free(l);
    ccz_buf_reset(&b);
    spec_id(&b, sha512, 1, 0);
    l = parse_ok(&b);
    CHECK_INT(ccz_eventlog_default_alg(l), CCZ_EVLOG_SHA512);
    ccz_eventlog_free(l);
    /* JSON after whitespace is JSON, not a binary log */
    ccz_buf t = CCZ_BUF_INIT, j = CCZ_BUF_INIT;
    ccz_buf_reset(&b);
    spec_id(&b, sha384, 1, 0);
    event(&b, 2, EV_SEPARATOR, CCZ_EVLOG_SHA384, 0x11, "abcd", 4);
    CHECK_OK(ccz_base64_encode(&t, ccz_buf_span(&b)));
    CHECK_OK(
        ccz_buf_printf(&j, "\n  {\"cc_eventlog\": \"%.*s\"}", (int)t.len, (const char *)t.ptr));
    CHECK_OK(ccz_eventlog_load(&l, ccz_buf_span(&j)));
    CHECK_INT(ccz_eventlog_count(l), 1);
    ccz_eventlog_free(l);
    l = NULL;
    CHECK_STATUS(ccz_eventlog_load(&l, CCZ_LIT("{\"cc_eventlog\": 5}")), CCZ_ERR_NOT_FOUND);
    CHECK_STR(ccz_error_detail(), "the JSON document has no \"cc_eventlog\" string");
    CHECK(l == NULL);
    uint16_t alg = 0;
    CHECK_STATUS(ccz_eventlog_alg_parse(&alg, "sha"), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(),
              "unknown event log algorithm 'sha' (sha1, sha256, sha384, sha512, sm3)");
    CHECK_STATUS(ccz_eventlog_alg_parse(&alg, ""), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_INT(alg, 0);
    ccz_buf_free(&t);
    ccz_buf_free(&j);
    ccz_buf_free(&b);
}

/* Details each decoder gets exactly right: UTF-16 names at the edges of UTF-8's two-, three-
 * and four-byte forms, a high surrogate before a unit that is not a low one, AAEL content that
 * is JSON but not an object, EV_IPL text that is not UTF-8 before its NUL (all of it in hex),
 * Google's UTF-16 IPL with an unpaired surrogate (U+FFFD), the last three-byte UTF-8 lead (0xEF)
 * and continuation bytes above 0xBF (each a maximal invalid part), EV_OMIT_BOOT_DEVICE_EVENTS
 * as text; a file path of two low surrogates (two U+FFFD, not one pair), IPv4 over UDP with a
 * gateway and no mask, a MAC address read from its first 31 bytes only (as trustee reads it),
 * BBS device types 0, 0x80 and 0xFF */
static void test_details_edges(void)
{
    CHECK_DETAILS(
        EV_EFI_VARIABLE_BOOT,
        "0123456789abcdef\x03\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\xff\x07\x00\x08\xff\xff",
        "{\"unicode_name\":\"\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\",\"unicode_name_length\":3,"
        "\"variable_data\":\"\",\"variable_data_length\":0,\"variable_name\":"
        "\"30313233-3435-3637-3839-616263646566\"}");
    CHECK_DETAILS(EV_EFI_VARIABLE_BOOT,
                  "0123456789abcdef\x02\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x00\xd8\x00\xdc",
                  "{\"unicode_name\":\"\xf0\x90\x80\x80\",\"unicode_name_length\":2,"
                  "\"variable_data\":\"\",\"variable_data_length\":0,\"variable_name\":"
                  "\"30313233-3435-3637-3839-616263646566\"}");
    CHECK_DETAILS(EV_EFI_VARIABLE_BOOT,
                  "0123456789abcdef\x02\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x3d\xd8\x41\x00", "{}");
    CHECK_DETAILS(EV_EVENT_TAG, "LEAA\x06\0\0\0d o 42",
                  "{\"data\":{\"content\":42,\"domain\":\"d\",\"operation\":\"o\"},\"string\":"
                  "\"d o 42\",\"unicode_name\":\"AAEL\"}");
    CHECK_DETAILS(EV_IPL, "\xff\0\x01", "{\"string\":\"ff0001\"}");
    CHECK_DETAILS(EV_IPL, ".\0\x00\xd8\0\0", "{\"string\":\"" FFFD "\"}");
    /* the last three-byte lead, continuation bytes above 0xBF after a valid start */
    CHECK_DETAILS(EV_EFI_ACTION, "\xef\xbf\xbf", "{\"string\":\"\xef\xbf\xbf\"}");
    CHECK_DETAILS(EV_EVENT_TAG, "\1\0\0\0\x07\0\0\0\xe2\x82\xc0\xf0\x90\x80\xc0",
                  "{\"string\":\"" FFFD FFFD FFFD FFFD "\"}");
    CHECK_DETAILS(0x12u, "no boot devices", "{\"string\":\"no boot devices\"}");
    ccz_buf path = CCZ_BUF_INIT, d = CCZ_BUF_INIT;
    static const uint8_t ipv4[23] = {10, 0, 0, 1, 0xc0, 0xa8, 1, 2, 0, 0, 0, 0, 17, 0, 0, 5};
    node(&path, 3, 0x0c, ipv4, sizeof ipv4);
    node(&path, 4, 0x04, "\x00\xdc\x00\xdc\0\0", 6); /* two low surrogates */
    uint8_t mac[33] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    mac[31] = 0xaa;
    mac[32] = 1;
    node(&path, 3, 0x0b, mac, sizeof mac);
    static const uint8_t bbs0[] = {0x00, 0, 1, 0, 'a', 'b'}, bbs80[] = {0x80, 0, 2, 0, 'c'},
                         bbsff[] = {0xff, 0, 3, 0, 'd'};
    node(&path, 5, 0x01, bbs0, sizeof bbs0);
    node(&path, 5, 0x01, bbs80, sizeof bbs80);
    node(&path, 5, 0x01, bbsff, sizeof bbsff);
    bytes(&d, "AAAAAAAABBBBBBBBCCCCCCCC", 24);
    CHECK_OK(ccz_buf_append_u64le(&d, path.len + 4));
    bytes(&d, path.ptr, path.len);
    bytes(&d, "\x7f\xff\x04\0", 4);
    char *got = details(EV_EFI_BOOT_SERVICES_APPLICATION, d.ptr, d.len);
    CHECK_STR(got, "{\"device_paths\":[\"IPv4(2.1.168.192,UDP,DHCP,1.0.0.10,5,0)\","
                   "\"File(" FFFD FFFD ")\",\"Mac(525400123456,0x01)\",\"BBS(0,ab,1)\","
                   "\"BBS(DEV,c,2)\",\"BBS(UNKNOWN,d,3)\"]}");
    free(got);
    ccz_buf_free(&path);
    ccz_buf_free(&d);
}

/* Parsing edges: an event's data size is all 32 bits of its field (65537 bytes read as such); a
 * log of SHA-1 and SHA-256 replays by default with SHA-256; base64 with its '=' padding, bare or
 * in a JSON document larger than CCZ_EVLOG_MAX_BYTES (its log is not); an event type's name. */
static void test_parse_edges(void)
{
    ccz_buf b = CCZ_BUF_INIT;
    spec_id(&b, sha384, 1, 0);
    static uint8_t big[65537];
    memset(big, 'a', sizeof big);
    event(&b, 1, EV_EFI_ACTION, CCZ_EVLOG_SHA384, 0x11, big, sizeof big);
    event(&b, 2, EV_SEPARATOR, CCZ_EVLOG_SHA384, 0x22, "abcd", 4);
    ccz_eventlog *l = parse_ok(&b);
    const ccz_event *e0 = l ? ccz_eventlog_event(l, 0) : NULL;
    const ccz_event *e1 = l ? ccz_eventlog_event(l, 1) : NULL;
    CHECK_INT(l ? ccz_eventlog_count(l) : 0, 2);
    CHECK(e0 && e0->data.len == sizeof big);
    CHECK(e1 && e1->index == 2);
    ccz_eventlog_free(l);
    static const uint16_t sha1_256[] = {CCZ_EVLOG_SHA1, CCZ_EVLOG_SHA256};
    ccz_buf_reset(&b);
    spec_id(&b, sha1_256, 2, 0);
    l = parse_ok(&b);
    CHECK_INT(ccz_eventlog_default_alg(l), CCZ_EVLOG_SHA256);
    ccz_eventlog_free(l);
    ccz_buf t = CCZ_BUF_INIT, j = CCZ_BUF_INIT;
    ccz_buf_reset(&b);
    spec_id(&b, sha384, 1, 0);
    event(&b, 2, EV_SEPARATOR, CCZ_EVLOG_SHA384, 0x11, "abcde", 5);
    CHECK_INT(b.len % 3, 1);
    CHECK_OK(ccz_base64_encode(&t, ccz_buf_span(&b)));
    CHECK(t.len && t.ptr[t.len - 1] == '=');
    l = NULL;
    CHECK_OK(ccz_eventlog_load(&l, ccz_buf_span(&t)));
    CHECK_INT(l ? ccz_eventlog_count(l) : 0, 1);
    ccz_eventlog_free(l);
    /* 13,000,000 bytes of log, in base64 more than 16 MiB */
    size_t len = 13000000;
    CHECK_OK(ccz_buf_reserve(&b, len - b.len));
    memset(b.ptr + b.len, 0xff, len - b.len);
    b.len = len;
    ccz_buf_reset(&t);
    CHECK_OK(ccz_base64_encode(&t, ccz_buf_span(&b)));
    CHECK_OK(ccz_buf_printf(&j, "{\"cc_eventlog\": \"%.*s\"}", (int)t.len, (const char *)t.ptr));
    CHECK(j.len > CCZ_EVLOG_MAX_BYTES);
    l = NULL;
    CHECK_OK(ccz_eventlog_load(&l, ccz_buf_span(&j)));
    CHECK_INT(l ? ccz_eventlog_count(l) : 0, 1);
    ccz_eventlog_free(l);
    CHECK_STR(ccz_event_type_name(0x80000010u), "EV_EFI_HCRTM_EVENT");
    CHECK_STR(ccz_event_type_name(0x800000e2u), "EV_EFI_SPDM_FIRMWARE_CONFIG");
    ccz_buf_free(&t);
    ccz_buf_free(&j);
    ccz_buf_free(&b);
}

TEST_MAIN(T(test_replay_sha384), T(test_replay_sm3_sha256), T(test_end_of_log), T(test_malformed),
          T(test_record_digests), T(test_load_forms), T(test_details_text), T(test_details_tags),
          T(test_details_variable), T(test_details_device_paths), T(test_details_utf8),
          T(test_details_lengths), T(test_details_short_nodes), T(test_event_json_shape),
          T(test_event_json_sha512), T(test_policy_rules), T(test_policy_rules_replayed_only),
          T(test_policy_rules_names_and_cap), T(test_replay_register_cap),
          T(test_json_register_cap), T(test_replay_index_repeated), T(test_log_size_cap),
          T(test_replay_sha1_sha512), T(test_short_fields), T(test_hostile_edges),
          T(test_details_edges), T(test_parse_edges))
