/* SPDX-License-Identifier: Apache-2.0 */
/* The secret-provisioning service: the secrets and their rules (the policy's "secrets"
 * section), and the answer to Gramine's request on an http_server. The client's certificate
 * has been verified and appraised by the RA-TLS context before the request is read; this file
 * only checks that it was, and picks the secret. Secrets are never logged. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/guard.h"
#include "svc/secret/secret.h"

struct secret_service {
    ccz_policy *policy;
    secret_item *items;
    size_t n_items;
    secret_rule *rules;
    size_t n_rules;
    bool has_rules;
    /* metrics (updated on the loop thread, read by /metrics on the same thread) */
    uint64_t *sent; /* per secret */
    uint64_t refused_no_cert, refused_no_match, refused_other;
};

/* ---- loading ---------------------------------------------------------------------------------*/

static bool name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n > 0 && n <= SECRET_NAME_MAX &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

static ccz_status load_item(secret_item *it, const ccz_secret_entry *e)
{
    CCZ_ENSURE(name_ok(e->name), CCZ_ERR_INVALID_ARGUMENT,
               "secret name '%.80s' must be 1 to %d letters, digits, '.', '_' or '-'",
               e->name ? e->name : "", SECRET_NAME_MAX);
    snprintf(it->name, sizeof it->name, "%s", e->name);
    ccz_buf_init(&it->value, CCZ_SECRET_MAX_BYTES, true);
    if (e->file) {
        ccz_status s = ccz_file_read(&it->value, e->file, CCZ_SECRET_MAX_BYTES);
        if (s)
            return ccz_fail_context(s, "secret %s", it->name);
    } else {
        CCZ_ENSURE(e->value.len <= CCZ_SECRET_MAX_BYTES, CCZ_ERR_TOO_LARGE,
                   "secret %s: %zu bytes, more than %u", it->name, e->value.len,
                   CCZ_SECRET_MAX_BYTES);
        CCZ_GUARD(ccz_buf_append(&it->value, e->value.ptr, e->value.len));
    }
    CCZ_ENSURE(it->value.len > 0, CCZ_ERR_INVALID_ARGUMENT, "secret %s is empty", it->name);
    return CCZ_OK;
}

static ccz_status rule_hex(const json_t *v, const char *where, uint8_t *out, size_t n)
{
    const char *s = json_string_value(v);
    CCZ_ENSURE(s && strlen(s) == 2 * n, CCZ_ERR_POLICY,
               "policy: %s: must be a string of %zu hex digits", where, 2 * n);
    CCZ_ENSURE(ccz_hex_decode_fixed(out, n, s, 2 * n) == CCZ_OK, CCZ_ERR_POLICY,
               "policy: %s: \"%.100s\" is not hex", where, s);
    return CCZ_OK;
}

static ccz_status rule_u16(const json_t *v, const char *where, uint16_t *out)
{
    json_int_t i = json_is_integer(v) ? json_integer_value(v) : -1;
    CCZ_ENSURE(i >= 0 && i <= UINT16_MAX, CCZ_ERR_POLICY,
               "policy: %s: must be an integer from 0 to 65535", where);
    *out = (uint16_t)i;
    return CCZ_OK;
}

static ccz_status rule_tees(const json_t *v, const char *where, unsigned *out)
{
    *out = 0;
    if (json_is_string(v)) {
        ccz_tee t;
        CCZ_ENSURE(ccz_tee_parse(&t, json_string_value(v)) == CCZ_OK && t != CCZ_TEE_NONE,
                   CCZ_ERR_POLICY, "policy: %s: unknown TEE \"%.40s\" (sim, sgx, tdx, snp)", where,
                   json_string_value(v));
        *out = 1u << t;
        return CCZ_OK;
    }
    CCZ_ENSURE(json_is_array(v) && json_array_size(v) > 0, CCZ_ERR_POLICY,
               "policy: %s: must be a TEE name or a non-empty list of them", where);
    size_t i;
    const json_t *e;
    json_array_foreach (v, i, e) {
        unsigned one;
        CCZ_GUARD(rule_tees(e, where, &one));
        *out |= one;
    }
    return CCZ_OK;
}

static ccz_status rule_field(secret_service *svc, secret_rule *r, const char *key, const json_t *v,
                             const char *where)
{
    if (strcmp(key, "secret") == 0) {
        const char *name = json_string_value(v);
        for (size_t i = 0; name && i < svc->n_items; i++)
            if (strcmp(svc->items[i].name, name) == 0) {
                r->secret = i;
                return CCZ_OK;
            }
        return ccz_fail(CCZ_ERR_POLICY,
                        "policy: %s: %s%.80s%s is not one of the secrets "
                        "given",
                        where, name ? "\"" : "", name ? name : "(not a string)", name ? "\"" : "");
    }
    if (strcmp(key, "tee") == 0) {
        r->fields |= SR_TEE;
        return rule_tees(v, where, &r->tees);
    }
    if (strcmp(key, "mr_enclave") == 0) {
        r->fields |= SR_MR_ENCLAVE;
        return rule_hex(v, where, r->mr_enclave, 32);
    }
    if (strcmp(key, "mr_signer") == 0) {
        r->fields |= SR_MR_SIGNER;
        return rule_hex(v, where, r->mr_signer, 32);
    }
    if (strcmp(key, "isv_prod_id") == 0) {
        r->fields |= SR_ISV_PROD_ID;
        return rule_u16(v, where, &r->isv_prod_id);
    }
    if (strcmp(key, "isv_svn_min") == 0) {
        r->fields |= SR_ISV_SVN_MIN;
        return rule_u16(v, where, &r->isv_svn_min);
    }
    if (strcmp(key, "mr_td") == 0) {
        r->fields |= SR_MR_TD;
        return rule_hex(v, where, r->mr_td, 48);
    }
    if (strcmp(key, "snp_measurement") == 0) {
        r->fields |= SR_SNP_MEASUREMENT;
        return rule_hex(v, where, r->snp_measurement, 48);
    }
    if (strcmp(key, "host_data") == 0) {
        r->fields |= SR_HOST_DATA;
        return rule_hex(v, where, r->host_data, 32);
    }
    if (strcmp(key, "measurement") == 0) {
        const char *s = json_string_value(v);
        size_t n = s ? strlen(s) : 0;
        CCZ_ENSURE(n == 64 || n == 96, CCZ_ERR_POLICY,
                   "policy: %s: must be 64 hex digits (SGX, sim: MRENCLAVE) or 96 (TDX: MRTD; "
                   "SNP: the launch measurement)",
                   where);
        r->fields |= n == 64 ? SR_MEASUREMENT32 : SR_MEASUREMENT48;
        return rule_hex(v, where, r->measurement, n / 2);
    }
    return ccz_fail(CCZ_ERR_POLICY,
                    "policy: %s: unknown key (known: secret, tee, measurement, "
                    "mr_enclave, mr_signer, isv_prod_id, isv_svn_min, mr_td, snp_measurement, "
                    "host_data)",
                    where);
}

static ccz_status parse_rules(secret_service *svc, const json_t *sec)
{
    CCZ_ENSURE(json_is_array(sec), CCZ_ERR_POLICY,
               "policy: secrets: must be a list of {\"secret\": NAME, constraints...}");
    size_t n = json_array_size(sec);
    CCZ_ENSURE(n > 0 && n <= CCZ_POLICY_MAX_ENTRIES, CCZ_ERR_POLICY,
               "policy: secrets: %zu entries (1 to %d)", n, CCZ_POLICY_MAX_ENTRIES);
    svc->rules = calloc(n, sizeof *svc->rules);
    CCZ_ENSURE(svc->rules, CCZ_ERR_NOMEM, "out of memory");
    svc->n_rules = n;
    svc->has_rules = true;
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(sec, i);
        char where[64];
        snprintf(where, sizeof where, "secrets[%zu]", i);
        CCZ_ENSURE(json_is_object(e), CCZ_ERR_POLICY, "policy: %s: must be an object", where);
        CCZ_ENSURE(json_object_get(e, "secret"), CCZ_ERR_POLICY, "policy: %s: names no \"secret\"",
                   where);
        const char *key;
        const json_t *v;
        json_object_foreach ((json_t *)e, key, v) {
            char at[160];
            snprintf(at, sizeof at, "%s.%.64s", where, key);
            CCZ_GUARD(rule_field(svc, &svc->rules[i], key, v, at));
        }
    }
    return CCZ_OK;
}

/* Takes the secrets section out of the document; parses both. */
static ccz_status parse_policy(secret_service *svc, ccz_span doc)
{
    if (!doc.ptr)
        return ccz_policy_default(&svc->policy);
    json_t *root;
    ccz_status s = ccz_json_parse(&root, (const char *)doc.ptr, doc.len, CCZ_POLICY_MAX_BYTES);
    if (s)
        return ccz_fail_context(s == CCZ_ERR_JSON ? CCZ_ERR_POLICY : s, "policy");
    char *rest = NULL;
    if (!json_is_object(root)) {
        s = ccz_fail(CCZ_ERR_POLICY, "policy: the document must be a JSON object");
        goto out;
    }
    json_t *sec = json_object_get(root, "secrets");
    if (sec) {
        json_incref(sec);
        json_object_del(root, "secrets");
        s = parse_rules(svc, sec);
        json_decref(sec);
        if (s)
            goto out;
    }
    rest = json_dumps(root, JSON_COMPACT);
    if (!rest) {
        s = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
        goto out;
    }
    s = ccz_policy_parse(&svc->policy, rest, strlen(rest));
out:
    free(rest);
    json_decref(root);
    return s;
}

ccz_status secret_service_new(secret_service **out, ccz_span policy,
                              const ccz_secret_entry *secrets, size_t n)
{
    *out = NULL;
    CCZ_ENSURE(n > 0 && secrets, CCZ_ERR_INVALID_ARGUMENT, "no secret to serve");
    secret_service *svc = calloc(1, sizeof *svc);
    CCZ_ENSURE(svc, CCZ_ERR_NOMEM, "out of memory");
    ccz_status s = CCZ_OK;
    svc->items = calloc(n, sizeof *svc->items);
    svc->sent = calloc(n, sizeof *svc->sent);
    if (!svc->items || !svc->sent) {
        s = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        svc->n_items = i + 1;
        CCZ_GUARD_GOTO(load_item(&svc->items[i], &secrets[i]), s, fail);
        for (size_t j = 0; j < i; j++)
            if (strcmp(svc->items[j].name, svc->items[i].name) == 0) {
                s = ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "secret %s is given twice",
                             svc->items[i].name);
                goto fail;
            }
    }
    CCZ_GUARD_GOTO(parse_policy(svc, policy), s, fail);
    if (!svc->has_rules && n > 1) {
        s = ccz_fail(CCZ_ERR_POLICY,
                     "policy: %zu secrets but no \"secrets\" section to say "
                     "which client gets which",
                     n);
        goto fail;
    }
    for (size_t i = 0; svc->has_rules && i < n; i++) {
        bool used = false;
        for (size_t k = 0; k < svc->n_rules; k++)
            used |= svc->rules[k].secret == i;
        if (!used)
            ccz_log(CCZ_LOG_WARN, "secret: no entry of the secrets section releases secret %s",
                    svc->items[i].name);
    }
    *out = svc;
    return CCZ_OK;
fail:
    secret_service_free(svc);
    return s;
}

void secret_service_free(secret_service *svc)
{
    if (!svc)
        return;
    for (size_t i = 0; i < svc->n_items; i++)
        ccz_buf_free(&svc->items[i].value);
    free(svc->items);
    free(svc->sent);
    free(svc->rules);
    ccz_policy_free(svc->policy);
    free(svc);
}

const ccz_policy *secret_service_policy(const secret_service *svc)
{
    return svc->policy;
}

const secret_item *secret_service_item(const secret_service *svc, size_t i)
{
    return i < svc->n_items ? &svc->items[i] : NULL;
}

size_t secret_service_count(const secret_service *svc)
{
    return svc->n_items;
}

/* ---- choosing --------------------------------------------------------------------------------*/

static bool is_sgx_shaped(const ccz_claims *c)
{
    return c->tee == CCZ_TEE_SGX || c->tee == CCZ_TEE_SIM;
}

static bool rule_matches(const secret_rule *r, const ccz_claims *c)
{
    unsigned f = r->fields;
    if ((f & SR_TEE) && !(r->tees & (1u << c->tee)))
        return false;
    if ((f & (SR_MR_ENCLAVE | SR_MR_SIGNER | SR_ISV_PROD_ID | SR_ISV_SVN_MIN | SR_MEASUREMENT32)) &&
        !is_sgx_shaped(c))
        return false;
    if ((f & SR_MR_ENCLAVE) && memcmp(r->mr_enclave, c->sgx.mr_enclave, 32) != 0)
        return false;
    if ((f & SR_MEASUREMENT32) && memcmp(r->measurement, c->sgx.mr_enclave, 32) != 0)
        return false;
    if ((f & SR_MR_SIGNER) && memcmp(r->mr_signer, c->sgx.mr_signer, 32) != 0)
        return false;
    if ((f & SR_ISV_PROD_ID) && r->isv_prod_id != c->sgx.isv_prod_id)
        return false;
    if ((f & SR_ISV_SVN_MIN) && c->sgx.isv_svn < r->isv_svn_min)
        return false;
    if ((f & SR_MR_TD) && (c->tee != CCZ_TEE_TDX || memcmp(r->mr_td, c->tdx.mr_td, 48) != 0))
        return false;
    if ((f & (SR_SNP_MEASUREMENT | SR_HOST_DATA)) && c->tee != CCZ_TEE_SNP)
        return false;
    if ((f & SR_SNP_MEASUREMENT) && memcmp(r->snp_measurement, c->snp.measurement, 48) != 0)
        return false;
    if ((f & SR_HOST_DATA) && memcmp(r->host_data, c->snp.host_data, 32) != 0)
        return false;
    if (f & SR_MEASUREMENT48) {
        const uint8_t *m = c->tee == CCZ_TEE_TDX   ? c->tdx.mr_td
                           : c->tee == CCZ_TEE_SNP ? c->snp.measurement
                                                   : NULL;
        if (!m || memcmp(r->measurement, m, 48) != 0)
            return false;
    }
    return true;
}

long secret_choose(const secret_service *svc, const ccz_claims *c, char *why, size_t why_len)
{
    if (why_len)
        why[0] = 0;
    if (!svc->has_rules)
        return 0; /* one secret, for every client the policy accepts */
    for (size_t i = 0; i < svc->n_rules; i++)
        if (rule_matches(&svc->rules[i], c))
            return (long)svc->rules[i].secret;
    snprintf(why, why_len, "no entry of the secrets section matches its claims");
    return -1;
}

/* ---- the exchange ----------------------------------------------------------------------------*/

/* What the client is, for the log: its TEE and main measurement (public values). */
static void describe(char *out, size_t cap, const ccz_claims *c)
{
    char m[97] = "";
    const char *what = "";
    if (is_sgx_shaped(c))
        ccz_hex_to_str(m, c->sgx.mr_enclave, 32), what = ", mr_enclave ";
    else if (c->tee == CCZ_TEE_TDX)
        ccz_hex_to_str(m, c->tdx.mr_td, 48), what = ", mr_td ";
    else if (c->tee == CCZ_TEE_SNP)
        ccz_hex_to_str(m, c->snp.measurement, 48), what = ", measurement ";
    snprintf(out, cap, "%s evidence%s%s%s", ccz_tee_name(c->tee),
             c->simulated ? " (SIMULATED)" : "", what, m);
}

static void answer(http_request *r, void *payload)
{
    secret_service *svc = payload;
    const char *peer = http_request_peer(r);
    const ccz_ratls_verdict *v = http_request_tls_verdict(r);
    if (!v) {
        svc->refused_no_cert++;
        ccz_log(CCZ_LOG_WARN, "secret: %s presented no RA-TLS certificate: no secret", peer);
        http_reply_raw(r, 401, CCZ_SPAN(NULL, 0));
        return;
    }
    if (v->status != CCZ_OK || !v->appraisal.accepted) {
        /* the context refuses such a handshake; never release a secret on one anyway */
        svc->refused_other++;
        ccz_log(CCZ_LOG_WARN, "secret: %s was not accepted (%s): no secret", peer,
                v->status ? ccz_status_name(v->status) : "policy");
        http_reply_raw(r, 403, CCZ_SPAN(NULL, 0));
        return;
    }
    char who[200], why[128];
    describe(who, sizeof who, &v->result.claims);
    long i = secret_choose(svc, &v->result.claims, why, sizeof why);
    if (i < 0) {
        svc->refused_no_match++;
        ccz_log(CCZ_LOG_WARN, "secret: %s (%s): %s: no secret", peer, who, why);
        http_reply_raw(r, 403, CCZ_SPAN(NULL, 0));
        return;
    }
    const secret_item *it = &svc->items[i];
    /* the response magic with its NUL, the size (big-endian), the secret: one wiped buffer */
    ccz_buf msg;
    ccz_buf_init(&msg, 0, true);
    uint32_t be = htonl((uint32_t)it->value.len);
    if (ccz_buf_append(&msg, CCZ_SECRET_RESPONSE, sizeof CCZ_SECRET_RESPONSE) != CCZ_OK ||
        ccz_buf_append(&msg, &be, 4) != CCZ_OK ||
        ccz_buf_append(&msg, it->value.ptr, it->value.len) != CCZ_OK) {
        svc->refused_other++;
        ccz_log(CCZ_LOG_ERROR, "secret: out of memory answering %s", peer);
        ccz_buf_free(&msg);
        http_reply_raw(r, 500, CCZ_SPAN(NULL, 0));
        return;
    }
    http_reply_raw_secret(r, 200, ccz_buf_span(&msg));
    ccz_buf_free(&msg);
    svc->sent[i]++;
    ccz_log(CCZ_LOG_INFO, "secret: sent secret %s (%zu bytes) to %s (%s)", it->name, it->value.len,
            peer, who);
}

static void metrics(ccz_buf *out, void *payload)
{
    const secret_service *svc = payload;
    ccz_status s = ccz_buf_append_str(out, "# TYPE ccz_secret_provisioned_total counter\n");
    for (size_t i = 0; s == CCZ_OK && i < svc->n_items; i++)
        s = ccz_buf_printf(out, "ccz_secret_provisioned_total{secret=\"%s\"} %llu\n",
                           svc->items[i].name, (unsigned long long)svc->sent[i]);
    if (s == CCZ_OK)
        s = ccz_buf_printf(out,
                           "# TYPE ccz_secret_refused_total counter\n"
                           "ccz_secret_refused_total{reason=\"no_certificate\"} %llu\n"
                           "ccz_secret_refused_total{reason=\"no_match\"} %llu\n"
                           "ccz_secret_refused_total{reason=\"other\"} %llu\n",
                           (unsigned long long)svc->refused_no_cert,
                           (unsigned long long)svc->refused_no_match,
                           (unsigned long long)svc->refused_other);
    if (s)
        ccz_error_clear();
}

ccz_status secret_service_attach(secret_service *svc, http_server *s)
{
    CCZ_GUARD(http_server_set_preface(s, CCZ_SPAN(CCZ_SECRET_REQUEST, sizeof CCZ_SECRET_REQUEST),
                                      "SECRET_PROVISION", answer, svc));
    http_server_set_metrics(s, metrics, svc);
    return CCZ_OK;
}
