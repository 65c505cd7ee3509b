/* SPDX-License-Identifier: Apache-2.0 */
/* Verdicts (ccz_verdict_run, ccz_verdict_to_json, ccz_verdict_json, the marshal forms) and
 * ccz_json_dump: sim evidence accepted and rejected by a policy, evidence that does not verify,
 * report data that differs, an RA-TLS certificate in PEM and DER, and the JSON document's keys
 * and values as `ccz verify --json` prints them. No vectors needed (the CLI tests cover recorded
 * quotes). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/pem.h>

#include "ccz/ccz.h"
#include "test.h"

static char plat[512], root_path[600];
static uint8_t rd[64] = {7, 7, 7};

static ccz_attester *sim_attester(void)
{
    if (!plat[0]) {
        snprintf(plat, sizeof plat, "%s/plat", test_tmpdir());
        snprintf(root_path, sizeof root_path, "%s/root.crt", plat);
        CHECK_OK(ccz_sim_platform_init(plat, false));
    }
    ccz_attester_opts o = CCZ_ATTESTER_OPTS_INIT;
    o.tee = CCZ_TEE_SIM;
    o.sim.dir = plat;
    o.sim.svn = 2;
    ccz_attester *a = NULL;
    CHECK_OK(ccz_attester_new(&a, &o));
    return a;
}

static ccz_trust *sim_trust(void)
{
    ccz_trust *t = NULL;
    CHECK_OK(ccz_trust_new(&t));
    CHECK_OK(ccz_trust_add_sim_root_file(t, root_path));
    return t;
}

static ccz_policy *policy(const char *doc)
{
    ccz_policy *p = NULL;
    CHECK_OK(ccz_policy_parse(&p, doc, strlen(doc)));
    return p;
}

/* The verdict's JSON text parsed back. */
static json_t *verdict_doc(bool *ok, ccz_span ev, const ccz_verify_opts *o, const ccz_policy *p)
{
    ccz_buf text = CCZ_BUF_INIT;
    CHECK_OK(ccz_verdict_json(&text, ok, ev, o, p));
    json_t *j = json_loadb((const char *)text.ptr, text.len, 0, NULL);
    CHECK(j != NULL);
    CHECK(text.len > 2 && text.ptr[text.len - 1] == '}'); /* no trailing newline */
    CHECK(!memchr(text.ptr, '\n', text.len));             /* compact: one line */
    ccz_buf_free(&text);
    return j;
}

static const char *str_at(json_t *o, const char *path)
{
    char key[64];
    snprintf(key, sizeof key, "%s", path);
    char *dot = strchr(key, '.');
    if (dot) {
        *dot = 0;
        return str_at(json_object_get(o, key), dot + 1);
    }
    return json_string_value(json_object_get(o, key));
}

static void test_evidence(void)
{
    ccz_attester *a = sim_attester();
    ccz_buf ev = CCZ_BUF_INIT;
    CHECK_OK(ccz_attest(&ev, a, rd));
    ccz_trust *t = sim_trust();
    ccz_policy *allow = policy("{\"allow_sim\": true, \"sgx\": [{\"isv_svn_min\": 2}]}");
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.at_unix = time(NULL);
    o.trust = t;
    o.expected_report_data = rd;

    static ccz_verdict v;
    CHECK_OK(ccz_verdict_run(&v, ccz_buf_span(&ev), &o, allow));
    CHECK(v.ok);
    CHECK_INT(v.format, CCZ_RATLS_FORMAT_NONE);
    CHECK(!v.certificate);
    CHECK_INT(v.result.status, CCZ_OK);
    CHECK(v.appraisal.accepted);

    bool ok = false;
    json_t *j = verdict_doc(&ok, ccz_buf_span(&ev), &o, allow);
    CHECK(ok);
    CHECK(json_is_true(json_object_get(j, "ok")));
    CHECK(json_is_true(json_object_get(j, "verified")));
    CHECK_STR(str_at(j, "tee"), "sim");
    CHECK(json_is_true(json_object_get(j, "simulated")));
    CHECK_CONTAINS(str_at(j, "warning"), "SIMULATED");
    CHECK(json_is_null(json_object_get(j, "tcb_status")));
    CHECK_INT(json_array_size(json_object_get(j, "advisories")), 0);
    CHECK_STR(str_at(j, "claims.report_data"),
              "07070700000000000000000000000000000000000000000000000000000000000000000000000000000"
              "000000000000000000000000000000000000000000000");
    CHECK(json_is_true(json_object_get(json_object_get(j, "policy"), "accepted")));
    CHECK(!json_object_get(j, "error") && !json_object_get(j, "ratls"));
    /* the keys in the order `ccz verify --json` prints them */
    static const char *const order[] = {"ok",         "verified", "tee",
                                        "simulated",  "warning",  "tcb_status",
                                        "advisories", "claims",   "policy"};
    size_t i = 0;
    for (void *it = json_object_iter(j); it; it = json_object_iter_next(j, it), i++)
        CHECK(i < CCZ_ARRAY_LEN(order) && !strcmp(json_object_iter_key(it), order[i]));
    CHECK_INT(i, CCZ_ARRAY_LEN(order));
    json_decref(j);

    /* the marshal forms: into a ccz_buf, and into the caller's memory (the size it needs when
     * that is too small, then the same bytes) */
    ccz_buf m = CCZ_BUF_INIT;
    CHECK_OK(ccz_verdict_marshal(&m, &ok, ccz_buf_span(&ev), &o, allow));
    CHECK(ok && m.len > 100 && m.ptr[0] == '{' && m.ptr[m.len - 1] == '0');
    uint8_t mem[4096];
    size_t len = 1;
    CHECK_STATUS(ccz_verdict_marshal_to(mem, m.len, &len, ev.ptr, ev.len, &o, allow),
                 CCZ_ERR_TOO_LARGE);
    CHECK_INT((long)len, (long)m.len);
    CHECK_CONTAINS(ccz_error_detail(), "the verdict takes");
    CHECK_OK(ccz_verdict_marshal_to(mem, m.len + 1, &len, ev.ptr, ev.len, &o, allow));
    CHECK_INT((long)len, (long)m.len);
    CHECK(memcmp(mem, m.ptr, m.len) == 0);
    CHECK_STATUS(ccz_verdict_marshal_to(mem, 1, &len, ev.ptr, ev.len, &o, allow),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(ccz_verdict_marshal_to(mem, sizeof mem, NULL, ev.ptr, ev.len, &o, allow),
                 CCZ_ERR_INVALID_ARGUMENT);
    ccz_buf_free(&m);
    /* a document that does not fit: an error, and *ok not set from the verdict */
    ccz_buf small;
    ccz_buf_init(&small, 16, false);
    ok = false;
    CHECK_STATUS(ccz_verdict_marshal(&small, &ok, ccz_buf_span(&ev), &o, allow), CCZ_ERR_TOO_LARGE);
    CHECK(!ok);
    ccz_buf_free(&small);

    /* the default policy: verified, rejected */
    j = verdict_doc(&ok, ccz_buf_span(&ev), &o, NULL);
    CHECK(!ok);
    CHECK(json_is_true(json_object_get(j, "verified")));
    json_t *reasons = json_object_get(json_object_get(j, "policy"), "reasons");
    CHECK_STR(str_at(json_array_get(reasons, 0), "code"), "simulated_not_allowed");
    json_decref(j);

    /* other report data: not verified, the step and code named */
    uint8_t other[64] = {8};
    o.expected_report_data = other;
    CHECK_OK(ccz_verdict_run(&v, ccz_buf_span(&ev), &o, allow));
    CHECK(!v.ok);
    CHECK_INT(v.result.status, CCZ_ERR_REPORT_DATA_MISMATCH);
    CHECK_INT(v.result.claims.tee, CCZ_TEE_SIM);
    j = verdict_doc(&ok, ccz_buf_span(&ev), &o, allow);
    CHECK(!ok);
    CHECK(json_is_false(json_object_get(j, "verified")));
    CHECK(json_is_null(json_object_get(j, "tee")) && json_is_null(json_object_get(j, "claims")));
    CHECK(json_is_null(json_object_get(j, "policy")));
    CHECK_STR(str_at(j, "error.code"), "report_data_mismatch");
    CHECK_STR(str_at(j, "error.step"), "report_data");
    json_decref(j);
    /* evidence that did not verify shows none of its claims' findings: not simulated (and no
     * warning), no TCB status, no advisories, whatever the claims held when it failed */
    v.result.claims.simulated = true;
    strcpy(v.result.claims.tcb_status, "OutOfDate");
    v.result.claims.n_advisories = 1;
    strcpy(v.result.claims.advisories[0], "INTEL-SA-00828");
    j = ccz_verdict_to_json(&v);
    CHECK(json_is_false(json_object_get(j, "verified")));
    CHECK(json_is_false(json_object_get(j, "simulated")));
    CHECK(!json_object_get(j, "warning"));
    CHECK(json_is_null(json_object_get(j, "tcb_status")));
    CHECK_INT(json_array_size(json_object_get(j, "advisories")), 0);
    json_decref(j);

    /* not evidence at all */
    j = verdict_doc(&ok, CCZ_LIT("nonsense"), &o, allow);
    CHECK_STR(str_at(j, "error.code"), "unknown_evidence_format");
    CHECK_STR(str_at(j, "error.step"), "detect");
    json_decref(j);

    /* no trust anchors: no verdict */
    o.trust = NULL;
    CHECK_STATUS(ccz_verdict_run(&v, ccz_buf_span(&ev), &o, allow), CCZ_ERR_INVALID_ARGUMENT);
    ccz_policy_free(allow);
    ccz_trust_free(t);
    ccz_buf_free(&ev);
    ccz_attester_free(a);
}

static void test_certificate(void)
{
    ccz_attester *a = sim_attester();
    ccz_ratls_cert_opts co = CCZ_RATLS_CERT_OPTS_INIT;
    X509 *x = NULL;
    EVP_PKEY *k = NULL;
    CHECK_OK(ccz_ratls_cert_create(&x, &k, a, &co));
    unsigned char *der = NULL;
    int der_len = i2d_X509(x, &der);
    CHECK(der_len > 0);
    BIO *bio = BIO_new(BIO_s_mem());
    CHECK(PEM_write_bio_X509(bio, x) == 1);
    char *pem_ptr;
    long pem_len = BIO_get_mem_data(bio, &pem_ptr);

    ccz_trust *t = sim_trust();
    ccz_policy *allow = policy("{\"allow_sim\": true}");
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.at_unix = time(NULL);
    o.trust = t;
    uint8_t other[64] = {9};
    o.expected_report_data = other; /* not used for a certificate: its binding decides */
    ccz_span forms[] = {CCZ_SPAN(der, (size_t)der_len), CCZ_SPAN(pem_ptr, (size_t)pem_len)};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(forms); i++) {
        bool ok = false;
        json_t *j = verdict_doc(&ok, forms[i], &o, allow);
        CHECK(ok);
        CHECK_STR(str_at(j, "ratls.format"), "dice");
        CHECK_STR(str_at(j, "tee"), "sim");
        CHECK(json_is_true(json_object_get(json_object_get(j, "policy"), "accepted")));
        json_decref(j);
        /* the default policy rejects it: verified, not an error */
        j = verdict_doc(&ok, forms[i], &o, NULL);
        CHECK(!ok);
        CHECK(json_is_true(json_object_get(j, "verified")));
        CHECK(!json_object_get(j, "error"));
        /* the policy's appraisal of the certificate's claims, with its reasons */
        json_t *pol = json_object_get(j, "policy");
        CHECK(json_is_false(json_object_get(pol, "accepted")));
        CHECK_STR(str_at(json_array_get(json_object_get(pol, "reasons"), 0), "code"),
                  "simulated_not_allowed");
        json_decref(j);
    }
    /* PEM after leading white space is still the certificate */
    ccz_buf spaced = CCZ_BUF_INIT;
    CHECK_OK(ccz_buf_append_str(&spaced, " \n\t"));
    CHECK_OK(ccz_buf_append(&spaced, pem_ptr, (size_t)pem_len));
    bool spaced_ok = false;
    json_t *sj = verdict_doc(&spaced_ok, ccz_buf_span(&spaced), &o, allow);
    CHECK(spaced_ok);
    CHECK_STR(str_at(sj, "ratls.format"), "dice");
    json_decref(sj);
    ccz_buf_free(&spaced);
    /* outside its validity: an error at the certificate step, the evidence's TEE kept */
    o.at_unix = 1000;
    static ccz_verdict v;
    CHECK_OK(ccz_verdict_run(&v, forms[0], &o, allow));
    CHECK_INT(v.result.status, CCZ_ERR_NOT_YET_VALID);
    CHECK_STR(v.result.step, CCZ_RATLS_STEP_CERTIFICATE);
    CHECK_INT(v.result.claims.tee, CCZ_TEE_SIM);
    CHECK(v.certificate);
    json_t *j = ccz_verdict_to_json(&v);
    CHECK_STR(str_at(j, "error.code"), "not_yet_valid");
    CHECK_CONTAINS(str_at(j, "error.message"), "the certificate is valid from");
    CHECK_STR(str_at(j, "ratls.format"), "none"); /* failed before the extension was read */
    json_decref(j);

    BIO_free(bio);
    OPENSSL_free(der);
    X509_free(x);
    EVP_PKEY_free(k);
    ccz_policy_free(allow);
    ccz_trust_free(t);
    ccz_attester_free(a);
}

static void test_json_dump(void)
{
    ccz_json *j = NULL;
    static const char doc[] = "{\"b\": [1, \"x\"], \"a\": null}";
    CHECK_OK(ccz_json_parse(&j, doc, sizeof doc - 1, 0));
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_OK(ccz_json_dump(&b, j, false));
    CHECK(b.len == strlen("{\"b\":[1,\"x\"],\"a\":null}") &&
          !memcmp(b.ptr, "{\"b\":[1,\"x\"],\"a\":null}", b.len));
    ccz_buf_reset(&b);
    CHECK_OK(ccz_json_dump(&b, j, true));
    CHECK(b.len == strlen("{\n  \"b\": [\n    1,\n    \"x\"\n  ],\n  \"a\": null\n}") &&
          !memcmp(b.ptr, "{\n  \"b\": [\n    1,\n    \"x\"\n  ],\n  \"a\": null\n}", b.len));
    ccz_buf_reset(&b);
    CHECK_OK(ccz_json_dump(&b, json_object_get(j, "a"), false)); /* any value, not only objects */
    CHECK(b.len == 4 && !memcmp(b.ptr, "null", 4));
    CHECK_STATUS(ccz_json_dump(&b, NULL, false), CCZ_ERR_INVALID_ARGUMENT);
    ccz_buf_free(&b);
    ccz_json_free(j);
}

TEST_MAIN(T(test_evidence), T(test_certificate), T(test_json_dump))
