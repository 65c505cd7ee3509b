/* SPDX-License-Identifier: Apache-2.0 */
/* The recorded CC event logs of the shared vectors (more/cases.json, type "ccel"), read in
 * place: each log's events equal trustee's own JSON (CCEL_*_out.json), its registers replay to
 * the values trustee's test_rtmr_integrity asserts, and the error cases name the register that
 * differs with both values. Also the SM3 log inside trustee's CSV evidence. */
#include <jansson.h>

#include "ccz/ccz.h"
#include "test.h"
#include "vectors.h"

#define MORE "more/"

static ccz_eventlog *load(const char *rel)
{
    ccz_buf b = CCZ_BUF_INIT;
    ccz_eventlog *l = NULL;
    CHECK_OK(vectors_read(&b, rel, false));
    CHECK_OK(ccz_eventlog_load(&l, ccz_buf_span(&b)));
    ccz_buf_free(&b);
    return l;
}

static json_t *cases(void)
{
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_OK(vectors_read(&b, MORE "cases.json", false));
    json_t *j = json_loadb((const char *)b.ptr, b.len, 0, NULL);
    CHECK(json_is_array(j));
    ccz_buf_free(&b);
    return j;
}

static void rel_path(char *out, size_t cap, const char *file)
{
    snprintf(out, cap, MORE "%s", file);
}

/* Replays the registers a case gives and compares; returns how many differ (with the first
 * mismatch's index in *first). */
static int replay_differs(const ccz_eventlog *l, const json_t *regs, unsigned *first)
{
    const char *key;
    const json_t *v;
    int n = 0;
    json_object_foreach ((json_t *)regs, key, v) {
        uint8_t want[48], got[48];
        CHECK_OK(ccz_hex_decode_fixed(want, 48, json_string_value(v), json_string_length(v)));
        CHECK_OK(ccz_eventlog_replay(got, sizeof got, l, (uint32_t)atoi(key), CCZ_EVLOG_SHA384));
        if (memcmp(want, got, 48) != 0 && n++ == 0)
            *first = (unsigned)atoi(key);
    }
    return n;
}

static void test_cases(void)
{
    vectors_require();
    json_t *all = cases();
    size_t i, seen = 0;
    json_t *c;
    json_array_foreach (all, i, c) {
        const char *type = json_string_value(json_object_get(c, "type"));
        if (!type || strcmp(type, "ccel") != 0)
            continue;
        test_name = json_string_value(json_object_get(c, "id"));
        const json_t *files = json_object_get(c, "files"), *ex = json_object_get(c, "expect");
        char p[512];
        rel_path(p, sizeof p, json_string_value(json_object_get(files, "eventlog")));
        ccz_eventlog *l = load(p);
        if (!l)
            continue;
        seen++;
        const char *expected = json_string_value(json_object_get(files, "expected_json"));
        if (expected) { /* the events equal trustee's serialisation, member for member */
            ccz_buf b = CCZ_BUF_INIT;
            rel_path(p, sizeof p, expected);
            CHECK_OK(vectors_read(&b, p, false));
            json_t *want = json_loadb((const char *)b.ptr, b.len, 0, NULL);
            json_t *got = ccz_eventlog_events_json(l);
            CHECK(json_equal(json_object_get(want, "uefi_event_logs"), got));
            json_decref(want);
            json_decref(got);
            ccz_buf_free(&b);
        }
        const json_t *replay = json_object_get(ex, "replay");
        unsigned first = 0;
        if (replay) {
            CHECK_STR(json_string_value(json_object_get(ex, "algorithm")),
                      ccz_eventlog_alg_name(ccz_eventlog_default_alg(l)));
            CHECK_INT(replay_differs(l, replay, &first), 0);
            json_t *doc = ccz_eventlog_to_json(l, 0);
            CHECK(json_equal(json_object_get(doc, "registers"), replay));
            json_decref(doc);
        }
        const json_t *given = json_object_get(ex, "given");
        if (given) { /* trustee's message names the first register that differs */
            CHECK(replay_differs(l, given, &first) >= 1);
            char idx[32];
            snprintf(idx, sizeof idx, "[index = %u]", first);
            CHECK_CONTAINS(json_string_value(json_object_get(ex, "error")), idx);
        }
        ccz_eventlog_free(l);
    }
    test_name = "test_cases";
    CHECK_INT(seen, 8);
    json_decref(all);
}

/* The CSV guest's log in trustee's CSV evidence: SHA-384 and SM3 listed, no events; replayed
 * with SM3 (the CSV RTMRs' hash) to 32 zero bytes per register. */
static void test_csv_sm3_log(void)
{
    vectors_require();
    ccz_eventlog *l =
        load(MORE "confidential-containers_trustee/deps/verifier/test_data/csv_evidence.json");
    if (!l)
        return;
    CHECK_INT(ccz_eventlog_count(l), 0);
    CHECK(ccz_eventlog_has_alg(l, CCZ_EVLOG_SHA384));
    CHECK(ccz_eventlog_has_alg(l, CCZ_EVLOG_SM3));
    CHECK_INT(ccz_eventlog_default_alg(l), CCZ_EVLOG_SM3);
    json_t *doc = ccz_eventlog_to_json(l, 0);
    char *s = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    static const char z[] = "0000000000000000000000000000000000000000000000000000000000000000";
    char want[512];
    snprintf(want, sizeof want,
             "{\"algorithm\":\"sm3\",\"events\":[],\"registers\":{\"1\":\"%s\",\"2\":\"%s\","
             "\"3\":\"%s\",\"4\":\"%s\"}}",
             z, z, z, z);
    CHECK_STR(s, want);
    free(s);
    json_decref(doc);
    ccz_eventlog_free(l);
}

/* A log whose replay matches a verified TD quote's RTMRs (all zero in the automata quote)
 * verifies, and the claims carry it; CCEL_data against a quote with other RTMRs fails at the
 * eventlog step naming register 1. */
static void test_verify_with_log(void)
{
    vectors_require();
    ccz_buf q = CCZ_BUF_INIT, cj = CCZ_BUF_INIT;
    ccz_trust *t = NULL;
    ccz_collateral *col = NULL;
    CHECK_OK(vectors_read(&q,
                          "automata-network_automata-dcap-attestation/rust-crates/samples/"
                          "quotev4.hex",
                          true));
    CHECK_OK(vectors_read(&cj, "derived/automata_tdx_0625_00806f050000_collateral.json", false));
    CHECK_OK(ccz_collateral_parse(&col, (const char *)cj.ptr, cj.len));
    CHECK_OK(ccz_trust_new(&t));
    CHECK_OK(ccz_trust_add_builtin(t));
    ccz_eventlog *empty =
        load(MORE "confidential-containers_trustee/deps/verifier/test_data/csv_evidence.json");
    ccz_eventlog *data =
        load(MORE "confidential-containers_trustee/deps/eventlog/test_data/CCEL_data");
    static ccz_result r;
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.at_unix = 1749095100;
    o.trust = t;
    o.collateral = col;
    o.eventlog = empty;
    CHECK_OK(ccz_verify(&r, ccz_buf_span(&q), &o));
    CHECK(r.claims.eventlog == empty);
    json_t *j = ccz_claims_to_json(&r.claims);
    CHECK_STR(json_string_value(json_object_get(json_object_get(j, "eventlog"), "algorithm")),
              "sha384"); /* the TD's hash, though the log lists SM3 too */
    json_decref(j);
    o.eventlog = data;
    CHECK_STATUS(ccz_verify(&r, ccz_buf_span(&q), &o), CCZ_ERR_REPLAY_MISMATCH);
    CHECK_STR(r.step, "eventlog");
    CHECK_CONTAINS(r.message, "register 1 replays to 2dc712306a963ead");
    CHECK_CONTAINS(r.message, "RTMR0 in the quote is 0000");
    ccz_eventlog_free(empty);
    ccz_eventlog_free(data);
    ccz_collateral_free(col);
    ccz_trust_free(t);
    ccz_buf_free(&q);
    ccz_buf_free(&cj);
}

TEST_MAIN(T(test_cases), T(test_csv_sm3_log), T(test_verify_with_log))
