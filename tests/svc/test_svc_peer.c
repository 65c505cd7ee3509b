/* SPDX-License-Identifier: Apache-2.0 */
/* The services' shared pieces: a peer's identity line for every TEE, the FL party names, the
 * party table's bookkeeping and the gRPC codes of failed requests. */
#include <string.h>

#include "svc/fl/party.h"
#include "svc/peer.h"
#include "test.h"

static void identity_line(ccz_tee tee, bool sim, const char *want)
{
    ccz_ratls_verdict vd;
    memset(&vd, 0, sizeof vd);
    vd.status = CCZ_OK;
    ccz_claims *c = &vd.result.claims;
    c->tee = tee;
    c->simulated = sim;
    c->cca.rim_len = 32;
    for (int i = 0; i < 8; i++) { /* each TEE's main measurement gets its own bytes */
        c->sgx.mr_enclave[i] = (uint8_t)(0x10 + i);
        c->tdx.mr_td[i] = (uint8_t)(0x20 + i);
        c->snp.measurement[i] = (uint8_t)(0x30 + i);
        c->csv.measurement[i] = (uint8_t)(0x40 + i);
        c->cca.rim[i] = (uint8_t)(0x50 + i);
    }
    char out[96];
    svc_peer_identity(out, sizeof out, &vd);
    CHECK_STR(out, want);
}

static void identities(void)
{
    identity_line(CCZ_TEE_SIM, true, "sim (simulated) mr_enclave 1011121314151617");
    identity_line(CCZ_TEE_SGX, false, "sgx mr_enclave 1011121314151617");
    identity_line(CCZ_TEE_TDX, false, "tdx mr_td 2021222324252627");
    identity_line(CCZ_TEE_AZ_TDX_VTPM, false, "az-tdx-vtpm mr_td 2021222324252627");
    identity_line(CCZ_TEE_SNP, false, "snp measurement 3031323334353637");
    identity_line(CCZ_TEE_AZ_SNP_VTPM, false, "az-snp-vtpm measurement 3031323334353637");
    identity_line(CCZ_TEE_CSV, false, "csv measurement 4041424344454647");
    identity_line(CCZ_TEE_CCA, false, "cca rim 5051525354555657");
    char out[32];
    svc_peer_identity(out, sizeof out, NULL);
    CHECK_STR(out, "not attested");
    ccz_ratls_verdict bad;
    memset(&bad, 0, sizeof bad);
    bad.status = CCZ_ERR_BAD_SIGNATURE;
    svc_peer_identity(out, sizeof out, &bad);
    CHECK_STR(out, "not attested");
}

/* The whole measurement, for telling peers apart: one that differs only in its last byte is
 * another identity (the short line is the same) */
static void full_identities(void)
{
    ccz_ratls_verdict vd;
    memset(&vd, 0, sizeof vd);
    ccz_claims *c = &vd.result.claims;
    char a[SVC_PEER_IDENTITY_MAX], b[SVC_PEER_IDENTITY_MAX], s1[96], s2[96];
    const struct {
        ccz_tee tee;
        uint8_t *m;
        size_t len;
        const char *head;
    } tees[] = {
        {CCZ_TEE_SGX, vd.result.claims.sgx.mr_enclave, 32, "sgx mr_enclave "},
        {CCZ_TEE_TDX, vd.result.claims.tdx.mr_td, 48, "tdx mr_td "},
        {CCZ_TEE_AZ_SNP_VTPM, vd.result.claims.snp.measurement, 48, "az-snp-vtpm measurement "},
        {CCZ_TEE_CSV, vd.result.claims.csv.measurement, 32, "csv measurement "},
        {CCZ_TEE_CCA, vd.result.claims.cca.rim, 48, "cca rim "},
    };
    for (size_t t = 0; t < sizeof tees / sizeof tees[0]; t++) {
        memset(&vd, 0, sizeof vd);
        c->tee = tees[t].tee;
        c->cca.rim_len = 48;
        memset(tees[t].m, 0xab, tees[t].len);
        svc_peer_identity_full(a, sizeof a, &vd);
        svc_peer_identity(s1, sizeof s1, &vd);
        char want[SVC_PEER_IDENTITY_MAX];
        size_t k = (size_t)snprintf(want, sizeof want, "%s", tees[t].head);
        for (size_t i = 0; i < tees[t].len; i++)
            k += (size_t)snprintf(want + k, sizeof want - k, "ab");
        CHECK_STR(a, want);
        tees[t].m[tees[t].len - 1] = 0xac;
        svc_peer_identity_full(b, sizeof b, &vd);
        svc_peer_identity(s2, sizeof s2, &vd);
        CHECK(strcmp(a, b) != 0);
        CHECK_STR(s1, s2);
    }
    /* a CCA rim of a length past the array is named by no bytes */
    memset(&vd, 0, sizeof vd);
    c->tee = CCZ_TEE_CCA;
    c->cca.rim_len = 65;
    svc_peer_identity_full(a, sizeof a, &vd);
    CHECK_STR(a, "cca rim ");
}

static void names(void)
{
    char long_name[FL_NAME_MAX + 2];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[FL_NAME_MAX + 1] = 0;
    CHECK(fl_name_ok("", false));
    CHECK(!fl_name_ok("", true));
    CHECK(fl_name_ok("host one", false));
    CHECK(!fl_name_ok("host one", true));
    CHECK(!fl_name_ok("a,b", true));
    CHECK(fl_name_ok("client-1", true));
    CHECK(!fl_name_ok("tab\there", false));
    CHECK(!fl_name_ok("caf\xc3\xa9", false));
    /* printable ASCII is 0x20 to 0x7e: the bytes just outside refused, the bounds kept */
    CHECK(!fl_name_ok("del\x7f", false));
    CHECK(!fl_name_ok("unit\x1fsep", false));
    CHECK(fl_name_ok(" ~", false));
    CHECK(fl_name_ok("~", true));
    CHECK(!fl_name_ok(long_name, false));
    long_name[FL_NAME_MAX] = 0;
    CHECK(fl_name_ok(long_name, true));
}

typedef struct {
    fl_party fl;
    int extra;
} record;

static const char *record_label(const fl_party *p, char *buf, size_t cap)
{
    snprintf(buf, cap, "r%d", p->id);
    return buf;
}

static void table(void)
{
    record r[3];
    memset(r, 0, sizeof r);
    for (int i = 0; i < 3; i++) {
        r[i].fl.id = i + 1;
        r[i].fl.conn = 100u + (unsigned)i;
        r[i].extra = -1;
    }
    fl_parties t = FL_PARTIES(r, 3);
    CHECK(fl_find(t, 102) == &r[2].fl);
    CHECK(fl_find(t, 7) == NULL);
    CHECK(fl_find(FL_PARTIES(r, 2), 102) == NULL); /* only the joined ones */
    char out[64];
    fl_waiting_for(out, sizeof out, t, record_label, "none");
    CHECK_STR(out, "r1, r2, r3");
    r[1].fl.finished = true;
    fl_waiting_for(out, sizeof out, t, record_label, "none");
    CHECK_STR(out, "r1, r3");
    CHECK(!fl_all_told(t));
    r[0].fl.told = r[2].fl.told = true;
    CHECK(fl_all_told(t));
    r[0].fl.finished = r[2].fl.finished = true;
    fl_waiting_for(out, sizeof out, t, record_label, "none");
    CHECK_STR(out, "none");
    CHECK(r[0].extra == -1 && r[2].extra == -1);
}

static void count_over(void *svc)
{
    (*(int *)svc)++;
}

/* A failed training: the first failure's code and reason kept, the service told it is over
 * once (here at once: no party is left to hear why). */
static void room(void)
{
    bool over = false;
    int code = 0, overs = 0;
    char message[64] = "";
    fl_room r;
    memset(&r, 0, sizeof r);
    FILE *log = fopen("/dev/null", "w");
    CHECK(log != NULL);
    fl_room_init(&r, log, &over, &code, message, sizeof message, count_over, &overs);
    record none[1];
    fl_parties t = FL_PARTIES(none, 0);
    CHECK(!fl_room_over_tick(&r)); /* not over: nothing to do */
    CHECK_INT(overs, 0);
    fl_room_fail(&r, t, 13, "the first failure");
    CHECK(over);
    CHECK_INT(code, 13);
    CHECK_STR(message, "the first failure");
    CHECK_INT(overs, 1);
    fl_room_fail(&r, t, 9, "a later failure");
    CHECK_INT(code, 13);
    CHECK_STR(message, "the first failure");
    fl_room_notify_when_told(&r, t);
    CHECK(fl_room_over_tick(&r));
    CHECK_INT(overs, 1);
    if (log)
        fclose(log);
}

/* What a failed request tells its client: the client's faults INVALID_ARGUMENT, memory
 * RESOURCE_EXHAUSTED (never the client's fault), the server's own failures INTERNAL; a failure
 * reading the client's input is its fault unless memory ran out. */
static void rpc_codes(void)
{
    CHECK_INT(svc_rpc_code(CCZ_ERR_NOMEM), CCZ_RPC_RESOURCE_EXHAUSTED);
    CHECK_INT(svc_rpc_code(CCZ_ERR_INVALID_ARGUMENT), CCZ_RPC_INVALID_ARGUMENT);
    CHECK_INT(svc_rpc_code(CCZ_ERR_MALFORMED), CCZ_RPC_INVALID_ARGUMENT);
    CHECK_INT(svc_rpc_code(CCZ_ERR_CRYPTO), CCZ_RPC_INTERNAL);
    CHECK_INT(svc_rpc_code(CCZ_ERR_BAD_SIGNATURE), CCZ_RPC_INTERNAL);
    CHECK_INT(svc_rpc_input_code(CCZ_ERR_NOMEM), CCZ_RPC_RESOURCE_EXHAUSTED);
    CHECK_INT(svc_rpc_input_code(CCZ_ERR_MALFORMED), CCZ_RPC_INVALID_ARGUMENT);
    CHECK_INT(svc_rpc_input_code(CCZ_ERR_CRYPTO), CCZ_RPC_INVALID_ARGUMENT);
    CHECK_INT(svc_rpc_input_code(CCZ_ERR_KEY_MALFORMED), CCZ_RPC_INVALID_ARGUMENT);
}

TEST_MAIN(T(identities), T(full_identities), T(names), T(table), T(room), T(rpc_codes))
