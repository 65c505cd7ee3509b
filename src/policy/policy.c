/* SPDX-License-Identifier: Apache-2.0 */
/* Policy documents: ccz's own JSON format and CCZoo's dynamic_config.json, parsed into one
 * ccz_policy. The text is untrusted: every key is known or rejected, every value is checked for
 * type and range, and each error names the key that is wrong. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "core/guard.h"
#include "policy/policy_internal.h"

const char *const policy_tcb_status_names[TCB_STATUS_COUNT] = {
    "UpToDate",
    "SWHardeningNeeded",
    "ConfigurationNeeded",
    "ConfigurationAndSWHardeningNeeded",
    "OutOfDate",
    "OutOfDateConfigurationNeeded",
    "Revoked",
    "TDRelaunchAdvised",
    "TDRelaunchAdvisedConfigurationNeeded",
};

#define ALL_TEES                                                                                   \
    ((1u << CCZ_TEE_SIM) | (1u << CCZ_TEE_SGX) | (1u << CCZ_TEE_TDX) | (1u << CCZ_TEE_SNP) |       \
     (1u << CCZ_TEE_AZ_SNP_VTPM) | (1u << CCZ_TEE_AZ_TDX_VTPM) | (1u << CCZ_TEE_CSV) |             \
     (1u << CCZ_TEE_CCA))
#define OUTDATED_TCB ((1u << TCB_OUT_OF_DATE) | (1u << TCB_OUT_OF_DATE_CONFIG))

static ccz_status bad(const char *where, const char *fmt, const char *what)
{
    return ccz_fail(CCZ_ERR_POLICY, "policy: %s: %s%s", where, fmt, what ? what : "");
}

/* ---- value readers ---------------------------------------------------------------------------*/

/* CCZoo switches: "on"/"off" (any case); booleans are accepted too. */
static ccz_status read_switch(const json_t *v, const char *where, bool *out)
{
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return CCZ_OK;
    }
    const char *s = json_string_value(v);
    if (s && strcasecmp(s, "on") == 0)
        *out = true;
    else if (s && strcasecmp(s, "off") == 0)
        *out = false;
    else
        return bad(where, "must be \"on\" or \"off\"", NULL);
    return CCZ_OK;
}

static ccz_status read_bool(const json_t *v, const char *where, bool *out)
{
    if (!json_is_boolean(v))
        return bad(where, "must be true or false", NULL);
    *out = json_is_true(v);
    return CCZ_OK;
}

/* An unsigned number, as a JSON integer or a string of decimal digits, at most max. */
static ccz_status read_uint(const json_t *v, const char *where, uint64_t max, uint64_t *out)
{
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < 0 || (uint64_t)i > max)
            return ccz_fail(CCZ_ERR_POLICY, "policy: %s: %lld is outside 0..%llu", where,
                            (long long)i, (unsigned long long)max);
        *out = (uint64_t)i;
        return CCZ_OK;
    }
    const char *s = json_string_value(v);
    if (!s)
        return bad(where, "must be a number or a string of decimal digits", NULL);
    size_t n = strlen(s);
    if (n == 0 || n > 20 || strspn(s, "0123456789") != n)
        return ccz_fail(CCZ_ERR_POLICY, "policy: %s: \"%.40s\" is not a decimal number", where, s);
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (d > max || x > (max - d) / 10)
            return ccz_fail(CCZ_ERR_POLICY, "policy: %s: %s is larger than %llu", where, s,
                            (unsigned long long)max);
        x = x * 10 + d;
    }
    *out = x;
    return CCZ_OK;
}

static ccz_status read_u16(const json_t *v, const char *where, uint16_t *out)
{
    uint64_t x;
    CCZ_GUARD(read_uint(v, where, UINT16_MAX, &x));
    *out = (uint16_t)x;
    return CCZ_OK;
}

static ccz_status read_hex(const json_t *v, const char *where, uint8_t *out, size_t n)
{
    const char *s = json_string_value(v);
    if (!s)
        return bad(where, "must be a hex string", NULL);
    if (strlen(s) != 2 * n)
        return ccz_fail(CCZ_ERR_POLICY, "policy: %s: expected %zu hex digits, got %zu", where,
                        2 * n, strlen(s));
    if (ccz_hex_decode_fixed(out, n, s, 2 * n))
        return ccz_fail(CCZ_ERR_POLICY, "policy: %s: \"%.100s\" is not hex", where, s);
    return CCZ_OK;
}

static ccz_status read_tcb_list(const json_t *v, const char *where, unsigned *out)
{
    if (!json_is_array(v))
        return bad(where, "must be a list of TCB status names", NULL);
    *out = 0;
    size_t i;
    const json_t *e;
    json_array_foreach (v, i, e) {
        const char *s = json_string_value(e);
        int found = -1;
        for (int k = 0; s && k < TCB_STATUS_COUNT; k++)
            if (strcmp(s, policy_tcb_status_names[k]) == 0)
                found = k;
        if (found < 0) { /* every status named, Revoked aside: it is never accepted */
            char known[300] = "";
            for (int k = 0; k < TCB_STATUS_COUNT; k++)
                if (k != TCB_REVOKED)
                    snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s",
                             known[0] ? ", " : "", policy_tcb_status_names[k]);
            return ccz_fail(CCZ_ERR_POLICY, "policy: %s: unknown TCB status %.64s (known: %s)",
                            where, s ? s : "(not a string)", known);
        }
        if (found == TCB_REVOKED)
            return bad(where, "a revoked TCB can never be accepted", NULL);
        *out |= 1u << found;
    }
    return CCZ_OK;
}

static ccz_status read_list(const json_t *v, const char *where, size_t *n)
{
    if (!json_is_array(v))
        return bad(where, "must be a list", NULL);
    *n = json_array_size(v);
    if (*n > CCZ_POLICY_MAX_ENTRIES)
        return ccz_fail(CCZ_ERR_POLICY, "policy: %s: %zu entries, more than the limit of %d", where,
                        *n, CCZ_POLICY_MAX_ENTRIES);
    return CCZ_OK;
}

/* ---- ccz's own format ------------------------------------------------------------------------*/

typedef ccz_status (*field_fn)(void *entry, const char *key, const json_t *v, const char *where);

/* Reads a list of measurement entries, each an object whose keys field() understands. */
static ccz_status read_entries(const json_t *v, const char *list, void **out, size_t *n,
                               size_t size, field_fn field)
{
    CCZ_GUARD(read_list(v, list, n));
    *out = calloc(*n ? *n : 1, size);
    CCZ_ENSURE(*out, CCZ_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < *n; i++) {
        const json_t *e = json_array_get(v, i);
        char where[96];
        snprintf(where, sizeof where, "%s[%zu]", list, i);
        if (!json_is_object(e))
            return bad(where, "must be an object", NULL);
        if (json_object_size(e) == 0)
            return bad(where,
                       "constrains nothing (an empty entry would accept any peer; "
                       "leave the list out instead)",
                       NULL);
        const char *key;
        const json_t *val;
        json_object_foreach ((json_t *)e, key, val) {
            char at[160];
            snprintf(at, sizeof at, "%s.%s", where, key);
            CCZ_GUARD(field((uint8_t *)*out + i * size, key, val, at));
        }
    }
    return CCZ_OK;
}

static ccz_status sgx_field(void *entry, const char *key, const json_t *v, const char *where)
{
    sgx_entry *e = entry;
    if (strcmp(key, "mr_enclave") == 0) {
        e->fields |= PF_MR_ENCLAVE;
        return read_hex(v, where, e->mr_enclave, 32);
    }
    if (strcmp(key, "mr_signer") == 0) {
        e->fields |= PF_MR_SIGNER;
        return read_hex(v, where, e->mr_signer, 32);
    }
    if (strcmp(key, "isv_prod_id") == 0) {
        e->fields |= PF_ISV_PROD_ID;
        return read_u16(v, where, &e->isv_prod_id);
    }
    if (strcmp(key, "isv_svn") == 0 || strcmp(key, "isv_svn_min") == 0) {
        if (e->fields & (PF_ISV_SVN | PF_ISV_SVN_MIN))
            return bad(where, "give isv_svn or isv_svn_min, not both", NULL);
        e->fields |= key[7] ? PF_ISV_SVN_MIN : PF_ISV_SVN;
        return read_u16(v, where, &e->isv_svn);
    }
    if (strcmp(key, "config_svn") == 0) {
        e->fields |= PF_CONFIG_SVN;
        return read_u16(v, where, &e->config_svn);
    }
    if (strcmp(key, "debuggable") == 0) {
        e->fields |= PF_DEBUGGABLE;
        return read_bool(v, where, &e->debuggable);
    }
    return bad(where,
               "unknown key (known: mr_enclave, mr_signer, isv_prod_id, isv_svn, "
               "isv_svn_min, config_svn, debuggable)",
               NULL);
}

static ccz_status tdx_field(void *entry, const char *key, const json_t *v, const char *where)
{
    tdx_entry *e = entry;
    static const struct {
        const char *key;
        unsigned flag;
        size_t off;
    } f[] = {
        {"mr_td", TF_MR_TD, offsetof(tdx_entry, mr_td)},
        {"mr_config_id", TF_MR_CONFIG_ID, offsetof(tdx_entry, mr_config_id)},
        {"mr_owner", TF_MR_OWNER, offsetof(tdx_entry, mr_owner)},
        {"mr_owner_config", TF_MR_OWNER_CONFIG, offsetof(tdx_entry, mr_owner_config)},
        {"rtmr0", TF_RTMR0 << 0, offsetof(tdx_entry, rtmr[0])},
        {"rtmr1", TF_RTMR0 << 1, offsetof(tdx_entry, rtmr[1])},
        {"rtmr2", TF_RTMR0 << 2, offsetof(tdx_entry, rtmr[2])},
        {"rtmr3", TF_RTMR0 << 3, offsetof(tdx_entry, rtmr[3])},
        {"mr_seam", TF_MR_SEAM, offsetof(tdx_entry, mr_seam)},
        {"mr_signer_seam", TF_MR_SIGNER_SEAM, offsetof(tdx_entry, mr_signer_seam)},
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(f); i++)
        if (strcmp(key, f[i].key) == 0) {
            e->fields |= f[i].flag;
            return read_hex(v, where, (uint8_t *)e + f[i].off, 48);
        }
    return bad(where,
               "unknown key (known: mr_td, mr_config_id, mr_owner, mr_owner_config, "
               "rtmr0, rtmr1, rtmr2, rtmr3, mr_seam, mr_signer_seam)",
               NULL);
}

static ccz_status snp_field(void *entry, const char *key, const json_t *v, const char *where)
{
    snp_entry *e = entry;
    if (strcmp(key, "measurement") == 0) {
        e->fields |= SF_MEASUREMENT;
        return read_hex(v, where, e->measurement, 48);
    }
    if (strcmp(key, "host_data") == 0) {
        e->fields |= SF_HOST_DATA;
        return read_hex(v, where, e->host_data, 32);
    }
    if (strcmp(key, "guest_svn_min") == 0) {
        uint64_t x;
        e->fields |= SF_GUEST_SVN_MIN;
        CCZ_GUARD(read_uint(v, where, UINT32_MAX, &x));
        e->guest_svn_min = (uint32_t)x;
        return CCZ_OK;
    }
    return bad(where, "unknown key (known: measurement, host_data, guest_svn_min)", NULL);
}

static ccz_status csv_field(void *entry, const char *key, const json_t *v, const char *where)
{
    csv_entry *e = entry;
    static const struct {
        const char *key;
        unsigned flag;
        size_t off, len;
    } f[] = {
        {"measurement", CF_MEASUREMENT, offsetof(csv_entry, measurement), 32},
        {"user_pubkey_digest", CF_USER_PUBKEY_DIGEST, offsetof(csv_entry, user_pubkey_digest), 32},
        {"vm_id", CF_VM_ID, offsetof(csv_entry, vm_id), 16},
        {"vm_version", CF_VM_VERSION, offsetof(csv_entry, vm_version), 16},
        {"host_data", CF_HOST_DATA, offsetof(csv_entry, host_data), 64},
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(f); i++)
        if (strcmp(key, f[i].key) == 0) {
            e->fields |= f[i].flag;
            return read_hex(v, where, (uint8_t *)e + f[i].off, f[i].len);
        }
    return bad(where,
               "unknown key (known: measurement, user_pubkey_digest, vm_id, vm_version, "
               "host_data)",
               NULL);
}

static ccz_status read_tees(const json_t *v, unsigned *out)
{
    if (!json_is_array(v) || json_array_size(v) == 0)
        return bad("tees",
                   "must be a non-empty list of \"sgx\", \"tdx\", \"snp\", \"sim\", "
                   "\"az-snp-vtpm\", \"az-tdx-vtpm\", \"csv\", \"cca\"",
                   NULL);
    *out = 0;
    size_t i;
    const json_t *e;
    json_array_foreach (v, i, e) {
        ccz_tee t;
        const char *s = json_string_value(e);
        if (!s || ccz_tee_parse(&t, s))
            return bad("tees", "unknown TEE ", s ? s : "(not a string)");
        *out |= 1u << t;
    }
    return CCZ_OK;
}

static ccz_status read_min_tcb(const json_t *v, ccz_snp_tcb *t)
{
    if (!json_is_object(v))
        return bad("snp_min_tcb", "must be an object of bootloader, tee, snp, microcode, fmc",
                   NULL);
    const char *key;
    const json_t *val;
    json_object_foreach ((json_t *)v, key, val) {
        static const struct {
            const char *name;
            size_t off;
        } f[] = {{"bootloader", offsetof(ccz_snp_tcb, bootloader)},
                 {"tee", offsetof(ccz_snp_tcb, tee)},
                 {"snp", offsetof(ccz_snp_tcb, snp)},
                 {"microcode", offsetof(ccz_snp_tcb, microcode)},
                 {"fmc", offsetof(ccz_snp_tcb, fmc)}};
        size_t i = 0;
        while (i < 5 && strcmp(key, f[i].name) != 0)
            i++;
        char where[64];
        snprintf(where, sizeof where, "snp_min_tcb.%s", key);
        if (i == 5)
            return bad(where, "unknown key (known: bootloader, tee, snp, microcode, fmc)", NULL);
        uint64_t x;
        CCZ_GUARD(read_uint(val, where, 255, &x));
        *((uint8_t *)t + f[i].off) = (uint8_t)x;
    }
    return CCZ_OK;
}

/* One "eventlog" rule: an object of the event's fields to match, each checked here so the
 * appraisal compares plain values. Digests are kept in lower case. */
static ccz_status read_event_rule(json_t *out, const json_t *rule, const char *where)
{
    if (!json_is_object(rule) || json_object_size(rule) == 0)
        return bad(where,
                   "must be an object with at least one of index, type, digest, string, "
                   "string_contains, device_path, unicode_name",
                   NULL);
    const char *key;
    const json_t *v;
    json_object_foreach ((json_t *)rule, key, v) {
        char at[96];
        snprintf(at, sizeof at, "%s.%s", where, key);
        if (strcmp(key, "index") == 0) {
            uint64_t x;
            CCZ_GUARD(read_uint(v, at, UINT32_MAX, &x));
            json_object_set_new(out, key, json_integer((json_int_t)x));
            continue;
        }
        static const char *const text_keys[] = {
            "type", "digest", "string", "string_contains", "device_path", "unicode_name"};
        size_t k = 0;
        while (k < CCZ_ARRAY_LEN(text_keys) && strcmp(key, text_keys[k]) != 0)
            k++;
        if (k == CCZ_ARRAY_LEN(text_keys))
            return bad(at,
                       "unknown key (known: index, type, digest, string, string_contains, "
                       "device_path, unicode_name)",
                       NULL);
        const char *str = json_string_value(v);
        if (!str)
            return bad(at, "must be a string", NULL);
        if (strcmp(key, "digest") == 0) {
            size_t n = strlen(str);
            char low[129];
            if (n != 40 && n != 64 && n != 96 && n != 128)
                return bad(at,
                           "must be the hex of a SHA-1, SHA-256, SM3, SHA-384 or SHA-512 "
                           "digest",
                           NULL);
            for (size_t i = 0; i <= n; i++) {
                if (i < n && !isxdigit((unsigned char)str[i]))
                    return bad(at, "must be hex", NULL);
                low[i] = (char)tolower((unsigned char)str[i]);
            }
            json_object_set_new(out, key, json_string(low));
        } else {
            json_object_set_new(out, key, json_string(str));
        }
    }
    return CCZ_OK;
}

static ccz_status read_event_rules(ccz_policy *p, const json_t *v)
{
    if (!json_is_array(v))
        return bad("eventlog", "must be a list of events the event log must hold", NULL);
    if (json_array_size(v) > CCZ_POLICY_MAX_ENTRIES)
        return bad("eventlog", "too many entries", NULL);
    json_decref(p->eventlog);
    p->eventlog = json_array();
    CCZ_ENSURE(p->eventlog, CCZ_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < json_array_size(v); i++) {
        char where[48];
        snprintf(where, sizeof where, "eventlog[%zu]", i);
        json_t *rule = json_object();
        CCZ_ENSURE(rule && json_array_append_new(p->eventlog, rule) == 0, CCZ_ERR_NOMEM,
                   "out of memory");
        CCZ_GUARD(read_event_rule(rule, json_array_get(v, i), where));
    }
    return CCZ_OK;
}

/* ---- Arm CCA reference values ---------------------------------------------------------------
 * Kept as validated JSON in Veraison's names; appraise.c compares them with the claims. */

/* A hex string of 1 to max bytes (a measurement, an id). */
static ccz_status cca_hex(const json_t *v, const char *where, size_t max)
{
    const char *h = json_string_value(v);
    size_t n = json_string_length(v);
    if (!h || n == 0 || n % 2 || n / 2 > max)
        return ccz_fail(CCZ_ERR_POLICY, "policy: %s: must be 1 to %zu bytes of hex", where, max);
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789abcdefABCDEF", h[i]) || !h[i])
            return ccz_fail(CCZ_ERR_POLICY, "policy: %s: not hex", where);
    return CCZ_OK;
}

/* Checks an object's members: each key in keys[] (hex of at most max[i] bytes, or a string
 * when max[i] is 0); others are refused unless sub() takes them. */
static ccz_status cca_object(const json_t *o, const char *where, const char *const *keys,
                             const size_t *max, size_t n,
                             ccz_status (*sub)(const char *key, const json_t *v, const char *at),
                             const char *known)
{
    if (!json_is_object(o))
        return bad(where, "must be an object", NULL);
    const char *key;
    const json_t *v;
    json_object_foreach ((json_t *)o, key, v) {
        char at[192];
        snprintf(at, sizeof at, "%s.%s", where, key);
        size_t i = 0;
        while (i < n && strcmp(key, keys[i]) != 0)
            i++;
        if (i < n && max[i])
            CCZ_GUARD(cca_hex(v, at, max[i]));
        else if (i < n && !json_is_string(v))
            return bad(at, "must be a string", NULL);
        if (i < n)
            continue;
        ccz_status s = sub ? sub(key, v, at) : CCZ_ERR_NOT_FOUND;
        if (s == CCZ_ERR_NOT_FOUND)
            return bad(at, "unknown key (known: ", known);
        CCZ_GUARD(s);
    }
    return CCZ_OK;
}

static ccz_status cca_sw_list(const char *key, const json_t *v, const char *at)
{
    static const char *const keys[] = {"component-type", "measurement-value", "signer-id",
                                       "version", "hash-algo-id"};
    static const size_t max[] = {0, 64, 64, 0, 0};
    if (strcmp(key, "sw-components") != 0)
        return CCZ_ERR_NOT_FOUND;
    if (!json_is_array(v) || json_array_size(v) > CCZ_CCA_MAX_SW_COMPONENTS)
        return bad(at, "must be a list of at most 32 software components", NULL);
    for (size_t i = 0; i < json_array_size(v); i++) {
        char w[176];
        snprintf(w, sizeof w, "%s[%zu]", at, i);
        CCZ_GUARD(cca_object(json_array_get(v, i), w, keys, max, CCZ_ARRAY_LEN(keys), NULL,
                             "component-type, measurement-value, signer-id, version, "
                             "hash-algo-id)"));
        if (!json_object_get(json_array_get(v, i), "measurement-value"))
            return bad(w, "needs a measurement-value", NULL);
    }
    return CCZ_OK;
}

static ccz_status cca_rem_list(const char *key, const json_t *v, const char *at)
{
    if (strcmp(key, "extensible-measurements") != 0)
        return CCZ_ERR_NOT_FOUND;
    if (!json_is_array(v) || json_array_size(v) != 4)
        return bad(at, "must be a list of 4 measurements (hex)", NULL);
    for (size_t i = 0; i < 4; i++) {
        char w[176];
        snprintf(w, sizeof w, "%s[%zu]", at, i);
        CCZ_GUARD(cca_hex(json_array_get(v, i), w, 64));
    }
    return CCZ_OK;
}

static ccz_status cca_list(const json_t *v, const char *where, bool platform)
{
    static const char *const pkeys[] = {"implementation-id", "platform-configuration"};
    static const size_t pmax[] = {32, 64};
    static const char *const rkeys[] = {"initial-measurement", "personalization-value",
                                        "rak-hash-algorithm"};
    static const size_t rmax[] = {64, 64, 0};
    if (!json_is_array(v) || json_array_size(v) > CCZ_POLICY_MAX_ENTRIES)
        return bad(where, "must be a list of reference values", NULL);
    for (size_t i = 0; i < json_array_size(v); i++) {
        char w[64];
        snprintf(w, sizeof w, "%s[%zu]", where, i);
        const json_t *e = json_array_get(v, i);
        if (json_is_object(e) && json_object_size(e) == 0)
            return bad(w,
                       platform ? "constrains nothing (an empty entry would accept any platform; "
                                  "leave the list out instead)"
                                : "constrains nothing (an empty entry would accept any realm; "
                                  "leave the list out instead)",
                       NULL);
        if (platform)
            CCZ_GUARD(cca_object(json_array_get(v, i), w, pkeys, pmax, 2, cca_sw_list,
                                 "implementation-id, platform-configuration, sw-components)"));
        else
            CCZ_GUARD(cca_object(json_array_get(v, i), w, rkeys, rmax, 3, cca_rem_list,
                                 "initial-measurement, extensible-measurements, "
                                 "personalization-value, rak-hash-algorithm)"));
    }
    return CCZ_OK;
}

static ccz_status read_cca(ccz_policy *p, const json_t *v)
{
    if (!json_is_object(v))
        return bad("cca", "must be an object of \"platform\" and \"realm\" reference values", NULL);
    const char *key;
    const json_t *l;
    json_object_foreach ((json_t *)v, key, l) {
        if (strcmp(key, "platform") == 0)
            CCZ_GUARD(cca_list(l, "cca.platform", true));
        else if (strcmp(key, "realm") == 0)
            CCZ_GUARD(cca_list(l, "cca.realm", false));
        else
            return bad("cca", "unknown key (known: platform, realm): ", key);
    }
    json_decref(p->cca);
    p->cca = json_deep_copy(v);
    CCZ_ENSURE(p->cca, CCZ_ERR_NOMEM, "out of memory");
    return CCZ_OK;
}

static ccz_status parse_ccz(ccz_policy *p, const json_t *root)
{
    bool outdated = false, have_tcb = false;
    const char *key;
    const json_t *v;
    json_object_foreach ((json_t *)root, key, v) {
        if (strcmp(key, "ccz_policy") == 0) {
            uint64_t ver;
            CCZ_GUARD(read_uint(v, key, UINT32_MAX, &ver));
            if (ver != 1)
                return ccz_fail(CCZ_ERR_POLICY,
                                "policy: ccz_policy: version %llu is not "
                                "supported (this build reads 1)",
                                (unsigned long long)ver);
        } else if (strcmp(key, "tees") == 0) {
            CCZ_GUARD(read_tees(v, &p->tees));
        } else if (strcmp(key, "allow_sim") == 0) {
            CCZ_GUARD(read_bool(v, key, &p->allow_sim));
        } else if (strcmp(key, "allow_debug") == 0) {
            CCZ_GUARD(read_bool(v, key, &p->allow_debug));
        } else if (strcmp(key, "allow_mrservicetd_nonzero") == 0) {
            CCZ_GUARD(read_bool(v, key, &p->allow_mrservicetd));
        } else if (strcmp(key, "allow_sept_ve_disable_clear") == 0) {
            CCZ_GUARD(read_bool(v, key, &p->allow_sept_ve_clear));
        } else if (strcmp(key, "allow_migration_agent") == 0) {
            CCZ_GUARD(read_bool(v, key, &p->allow_migration_agent));
        } else if (strcmp(key, "snp_max_vmpl") == 0) {
            uint64_t vmpl;
            CCZ_GUARD(read_uint(v, key, 3, &vmpl));
            p->snp_max_vmpl = (int)vmpl;
        } else if (strcmp(key, "snp_min_tcb") == 0) {
            CCZ_GUARD(read_min_tcb(v, &p->snp_min_tcb));
            p->has_snp_min_tcb = true;
        } else if (strcmp(key, "allow_outdated_tcb") == 0) {
            CCZ_GUARD(read_bool(v, key, &outdated));
        } else if (strcmp(key, "accepted_tcb_statuses") == 0) {
            CCZ_GUARD(read_tcb_list(v, key, &p->tcb));
            have_tcb = true;
        } else if (strcmp(key, "sgx") == 0) {
            p->has_sgx = true;
            CCZ_GUARD(
                read_entries(v, key, (void **)&p->sgx, &p->n_sgx, sizeof(sgx_entry), sgx_field));
        } else if (strcmp(key, "tdx") == 0) {
            p->has_tdx = true;
            CCZ_GUARD(
                read_entries(v, key, (void **)&p->tdx, &p->n_tdx, sizeof(tdx_entry), tdx_field));
        } else if (strcmp(key, "snp") == 0) {
            p->has_snp = true;
            CCZ_GUARD(
                read_entries(v, key, (void **)&p->snp, &p->n_snp, sizeof(snp_entry), snp_field));
        } else if (strcmp(key, "csv") == 0) {
            p->has_csv = true;
            CCZ_GUARD(
                read_entries(v, key, (void **)&p->csv, &p->n_csv, sizeof(csv_entry), csv_field));
        } else if (strcmp(key, "eventlog") == 0) {
            CCZ_GUARD(read_event_rules(p, v));
        } else if (strcmp(key, "cca") == 0) {
            CCZ_GUARD(read_cca(p, v));
        } else {
            return bad(key,
                       "unknown key (known: ccz_policy, tees, allow_sim, allow_debug, "
                       "allow_mrservicetd_nonzero, allow_sept_ve_disable_clear, "
                       "allow_migration_agent, snp_max_vmpl, snp_min_tcb, "
                       "allow_outdated_tcb, accepted_tcb_statuses, sgx, tdx, snp, csv, eventlog, "
                       "cca)",
                       NULL);
        }
    }
    if (!have_tcb)
        p->tcb = 1u << TCB_UP_TO_DATE;
    if (outdated)
        p->tcb |= OUTDATED_TCB;
    return CCZ_OK;
}

/* ---- CCZoo's dynamic_config.json -------------------------------------------------------------
 * { "verify_mr_enclave": "on", ..., "sgx_mrs": [ {"mr_enclave": "...", ...} ] } for SGX, and
 * { "verify_mr_td": "on", ..., "tdx_mrs": [ {"mr_td": "...", ...} ] } for TDX: a peer passes
 * when any entry of its TEE's list matches every enabled field. Fields whose switch is off are
 * ignored whatever they hold, as CCZoo does. Keys starting with "ccz_" are ccz extensions. */

typedef enum { DC_SGX, DC_TDX } dc_list;

static const struct {
    const char *sw; /* the switch */
    dc_list list;
    const char *key; /* the entry field it enables */
    unsigned flag;
} dc_fields[] = {
    {"verify_mr_enclave", DC_SGX, "mr_enclave", PF_MR_ENCLAVE},
    {"verify_mr_signer", DC_SGX, "mr_signer", PF_MR_SIGNER},
    {"verify_isv_prod_id", DC_SGX, "isv_prod_id", PF_ISV_PROD_ID},
    {"verify_isv_svn", DC_SGX, "isv_svn", PF_ISV_SVN},
    {"verify_config_svn", DC_SGX, "config_svn", PF_CONFIG_SVN},
    {"verify_enclave_debuggable", DC_SGX, "debuggable", PF_DEBUGGABLE},
    {"verify_mr_seam", DC_TDX, "mr_seam", TF_MR_SEAM},
    {"verify_mrsigner_seam", DC_TDX, "mrsigner_seam", TF_MR_SIGNER_SEAM},
    {"verify_mr_td", DC_TDX, "mr_td", TF_MR_TD},
    {"verify_mr_config_id", DC_TDX, "mr_config_id", TF_MR_CONFIG_ID},
    {"verify_mr_owner", DC_TDX, "mr_owner", TF_MR_OWNER},
    {"verify_mr_owner_config", DC_TDX, "mr_owner_config", TF_MR_OWNER_CONFIG},
    {"verify_rt_mr0", DC_TDX, "rt_mr0", TF_RTMR0 << 0},
    {"verify_rt_mr1", DC_TDX, "rt_mr1", TF_RTMR0 << 1},
    {"verify_rt_mr2", DC_TDX, "rt_mr2", TF_RTMR0 << 2},
    {"verify_rt_mr3", DC_TDX, "rt_mr3", TF_RTMR0 << 3},
};
#define N_DC_FIELDS CCZ_ARRAY_LEN(dc_fields)

static ccz_status dc_sgx_value(sgx_entry *e, unsigned flag, const json_t *v, const char *at)
{
    switch (flag) {
    case PF_MR_ENCLAVE:
        return read_hex(v, at, e->mr_enclave, 32);
    case PF_MR_SIGNER:
        return read_hex(v, at, e->mr_signer, 32);
    case PF_ISV_PROD_ID:
        return read_u16(v, at, &e->isv_prod_id);
    case PF_ISV_SVN:
        return read_u16(v, at, &e->isv_svn);
    case PF_CONFIG_SVN:
        return read_u16(v, at, &e->config_svn);
    default:
        return json_is_boolean(v) ? read_bool(v, at, &e->debuggable)
                                  : read_switch(v, at, &e->debuggable);
    }
}

static uint8_t *dc_tdx_field(tdx_entry *e, unsigned flag)
{
    switch (flag) {
    case TF_MR_SEAM:
        return e->mr_seam;
    case TF_MR_SIGNER_SEAM:
        return e->mr_signer_seam;
    case TF_MR_TD:
        return e->mr_td;
    case TF_MR_CONFIG_ID:
        return e->mr_config_id;
    case TF_MR_OWNER:
        return e->mr_owner;
    case TF_MR_OWNER_CONFIG:
        return e->mr_owner_config;
    default:
        for (int i = 0; i < 4; i++)
            if (flag == ((unsigned)TF_RTMR0 << i))
                return e->rtmr[i];
        return NULL;
    }
}

/* Reads one entry of list l: every enabled field must be present and valid. */
static ccz_status dc_entry(void *entry, dc_list l, const json_t *o, const bool *enabled,
                           const char *where)
{
    if (!json_is_object(o))
        return bad(where, "must be an object", NULL);
    const char *key;
    const json_t *v;
    json_object_foreach ((json_t *)o, key, v) {
        bool known = false;
        for (size_t i = 0; i < N_DC_FIELDS; i++)
            known |= dc_fields[i].list == l && strcmp(key, dc_fields[i].key) == 0;
        if (!known) {
            char at[160];
            snprintf(at, sizeof at, "%s.%s", where, key);
            return bad(at,
                       l == DC_SGX ? "unknown key (known: mr_enclave, mr_signer, "
                                     "isv_prod_id, isv_svn, config_svn, debuggable)"
                                   : "unknown key (known: mr_seam, mrsigner_seam, mr_td, "
                                     "mr_config_id, mr_owner, mr_owner_config, rt_mr0, "
                                     "rt_mr1, rt_mr2, rt_mr3)",
                       NULL);
        }
    }
    for (size_t i = 0; i < N_DC_FIELDS; i++) {
        if (dc_fields[i].list != l || !enabled[i])
            continue;
        char at[128];
        snprintf(at, sizeof at, "%s.%s", where, dc_fields[i].key);
        v = json_object_get(o, dc_fields[i].key);
        const char *s = json_string_value(v);
        if (!v || (s && !s[0]))
            return ccz_fail(CCZ_ERR_POLICY, "policy: %s is %s but %s is \"on\"", at,
                            v ? "empty" : "missing", dc_fields[i].sw);
        if (l == DC_SGX) {
            CCZ_GUARD(dc_sgx_value(entry, dc_fields[i].flag, v, at));
            ((sgx_entry *)entry)->fields |= dc_fields[i].flag;
        } else {
            CCZ_GUARD(read_hex(v, at, dc_tdx_field(entry, dc_fields[i].flag), 48));
            ((tdx_entry *)entry)->fields |= dc_fields[i].flag;
        }
    }
    return CCZ_OK;
}

static ccz_status dc_list_read(ccz_policy *p, dc_list l, const json_t *arr, const bool *enabled,
                               bool svn_min)
{
    const char *name = l == DC_SGX ? "sgx_mrs" : "tdx_mrs";
    size_t n = 0;
    CCZ_GUARD(read_list(arr, name, &n));
    size_t size = l == DC_SGX ? sizeof(sgx_entry) : sizeof(tdx_entry);
    uint8_t *entries = calloc(n ? n : 1, size);
    CCZ_ENSURE(entries, CCZ_ERR_NOMEM, "out of memory");
    if (l == DC_SGX) {
        p->sgx = (sgx_entry *)entries, p->n_sgx = n, p->has_sgx = true;
        p->tees |= (1u << CCZ_TEE_SGX) | (1u << CCZ_TEE_SIM);
    } else {
        p->tdx = (tdx_entry *)entries, p->n_tdx = n, p->has_tdx = true;
        p->tees |= 1u << CCZ_TEE_TDX;
    }
    for (size_t i = 0; i < n; i++) {
        char where[48];
        snprintf(where, sizeof where, "%s[%zu]", name, i);
        CCZ_GUARD(dc_entry(entries + i * size, l, json_array_get(arr, i), enabled, where));
        sgx_entry *e = (sgx_entry *)(entries + i * size);
        if (l == DC_SGX && svn_min && (e->fields & PF_ISV_SVN))
            e->fields = (e->fields & ~PF_ISV_SVN) | PF_ISV_SVN_MIN;
    }
    return CCZ_OK;
}

static ccz_status parse_dynamic_config(ccz_policy *p, const json_t *root)
{
    bool enabled[N_DC_FIELDS] = {false};
    bool svn_min = false, outdated = false, have_tcb = false, b;
    const json_t *sgx_mrs = NULL, *tdx_mrs = NULL;
    const char *key;
    const json_t *v;
    json_object_foreach ((json_t *)root, key, v) {
        bool known = false;
        for (size_t i = 0; i < N_DC_FIELDS; i++)
            if (strcmp(key, dc_fields[i].sw) == 0) {
                CCZ_GUARD(read_switch(v, key, &enabled[i]));
                known = true;
            }
        if (known)
            continue;
        if (strcmp(key, "sgx_mrs") == 0)
            sgx_mrs = v;
        else if (strcmp(key, "tdx_mrs") == 0)
            tdx_mrs = v;
        else if (strcmp(key, "verify_in_enclave") == 0)
            CCZ_GUARD(read_switch(v, key, &b)); /* where the verifier runs; not a peer check */
        else if (strcmp(key, "ccz_allow_sim") == 0)
            CCZ_GUARD(read_switch(v, key, &p->allow_sim));
        else if (strcmp(key, "ccz_allow_debug") == 0)
            CCZ_GUARD(read_switch(v, key, &p->allow_debug));
        else if (strcmp(key, "ccz_allow_mrservicetd_nonzero") == 0)
            CCZ_GUARD(read_switch(v, key, &p->allow_mrservicetd));
        else if (strcmp(key, "ccz_allow_sept_ve_disable_clear") == 0)
            CCZ_GUARD(read_switch(v, key, &p->allow_sept_ve_clear));
        else if (strcmp(key, "ccz_allow_outdated_tcb") == 0)
            CCZ_GUARD(read_switch(v, key, &outdated));
        else if (strcmp(key, "ccz_isv_svn_min") == 0)
            CCZ_GUARD(read_switch(v, key, &svn_min));
        else if (strcmp(key, "ccz_accepted_tcb_statuses") == 0) {
            CCZ_GUARD(read_tcb_list(v, key, &p->tcb));
            have_tcb = true;
        } else
            return bad(key,
                       "unknown key in a CCZoo dynamic_config (known: sgx_mrs with "
                       "verify_mr_enclave, verify_mr_signer, verify_isv_prod_id, "
                       "verify_isv_svn, verify_config_svn, verify_enclave_debuggable; "
                       "tdx_mrs with verify_mr_seam, verify_mrsigner_seam, verify_mr_td, "
                       "verify_mr_config_id, verify_mr_owner, verify_mr_owner_config, "
                       "verify_rt_mr0..3; and the ccz extensions ccz_allow_sim, "
                       "ccz_allow_debug, ccz_allow_mrservicetd_nonzero, "
                       "ccz_allow_sept_ve_disable_clear, ccz_allow_outdated_tcb, "
                       "ccz_accepted_tcb_statuses, ccz_isv_svn_min)",
                       NULL);
    }
    if (!sgx_mrs && !tdx_mrs)
        return bad("sgx_mrs",
                   "missing (a dynamic_config lists the accepted enclaves in "
                   "\"sgx_mrs\", or TDs in \"tdx_mrs\")",
                   NULL);
    p->tees = 0;
    if (sgx_mrs)
        CCZ_GUARD(dc_list_read(p, DC_SGX, sgx_mrs, enabled, svn_min));
    if (tdx_mrs)
        CCZ_GUARD(dc_list_read(p, DC_TDX, tdx_mrs, enabled, svn_min));
    if (!have_tcb)
        p->tcb = 1u << TCB_UP_TO_DATE;
    if (outdated)
        p->tcb |= OUTDATED_TCB;
    return CCZ_OK;
}

/* ---- entry points ----------------------------------------------------------------------------*/

static bool is_dynamic_config(const json_t *root)
{
    const char *key;
    const json_t *v;
    json_object_foreach ((json_t *)root, key, v) {
        if (strcmp(key, "sgx_mrs") == 0 || strcmp(key, "tdx_mrs") == 0 ||
            CCZ_STARTS_WITH(key, "verify_"))
            return true;
    }
    return false;
}

ccz_status ccz_policy_parse(ccz_policy **out, const char *text, size_t len)
{
    *out = NULL;
    json_t *root;
    ccz_status s = ccz_json_parse(&root, text, len, CCZ_POLICY_MAX_BYTES);
    if (s)
        return ccz_fail_context(s == CCZ_ERR_JSON ? CCZ_ERR_POLICY : s, "policy");
    ccz_policy *p = calloc(1, sizeof *p);
    if (!p) {
        json_decref(root);
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    }
    p->tees = ALL_TEES;
    p->snp_max_vmpl = 0; /* a floor by default, as DCAP's UpToDate: only VMPL 0 */
    if (!json_is_object(root)) {
        s = ccz_fail(CCZ_ERR_POLICY, "policy: the document must be a JSON object");
    } else if (is_dynamic_config(root)) {
        p->format = CCZ_POLICY_FORMAT_DYNAMIC_CONFIG;
        s = parse_dynamic_config(p, root);
    } else {
        p->format = CCZ_POLICY_FORMAT_CCZ;
        s = parse_ccz(p, root);
    }
    json_decref(root);
    if (s) {
        ccz_policy_free(p);
        return s;
    }
    *out = p;
    return CCZ_OK;
}

ccz_status ccz_policy_load_file(ccz_policy **out, const char *path)
{
    *out = NULL;
    ccz_buf b = CCZ_BUF_INIT;
    ccz_status s = ccz_file_read(&b, path, CCZ_POLICY_MAX_BYTES);
    if (s == CCZ_OK)
        s = ccz_policy_parse(out, (const char *)b.ptr, b.len);
    ccz_buf_free(&b);
    if (s)
        return ccz_fail_context(s, "%s", path);
    return CCZ_OK;
}

ccz_status ccz_policy_default(ccz_policy **out)
{
    ccz_span doc = CCZ_LIT("{}");
    return ccz_policy_parse(out, (const char *)doc.ptr, doc.len);
}

void ccz_policy_free(ccz_policy *p)
{
    if (!p)
        return;
    free(p->sgx);
    free(p->tdx);
    free(p->snp);
    free(p->csv);
    json_decref(p->eventlog);
    json_decref(p->cca);
    free(p);
}

ccz_policy_format ccz_policy_get_format(const ccz_policy *p)
{
    return p->format;
}

/* ---- normalised rendering --------------------------------------------------------------------*/

static void set_hex(json_t *o, const char *key, const uint8_t *p, size_t n)
{
    char s[2 * 64 + 1]; /* n: at most 64, CSV's host_data */
    ccz_hex_to_str(s, p, n);
    json_object_set_new(o, key, json_string(s));
}

static json_t *sgx_entry_json(const sgx_entry *e)
{
    json_t *o = json_object();
    if (e->fields & PF_MR_ENCLAVE)
        set_hex(o, "mr_enclave", e->mr_enclave, 32);
    if (e->fields & PF_MR_SIGNER)
        set_hex(o, "mr_signer", e->mr_signer, 32);
    if (e->fields & PF_ISV_PROD_ID)
        json_object_set_new(o, "isv_prod_id", json_integer(e->isv_prod_id));
    if (e->fields & PF_ISV_SVN)
        json_object_set_new(o, "isv_svn", json_integer(e->isv_svn));
    if (e->fields & PF_ISV_SVN_MIN)
        json_object_set_new(o, "isv_svn_min", json_integer(e->isv_svn));
    if (e->fields & PF_CONFIG_SVN)
        json_object_set_new(o, "config_svn", json_integer(e->config_svn));
    if (e->fields & PF_DEBUGGABLE)
        json_object_set_new(o, "debuggable", json_boolean(e->debuggable));
    return o;
}

static json_t *tdx_entry_json(const tdx_entry *e)
{
    json_t *o = json_object();
    if (e->fields & TF_MR_TD)
        set_hex(o, "mr_td", e->mr_td, 48);
    if (e->fields & TF_MR_CONFIG_ID)
        set_hex(o, "mr_config_id", e->mr_config_id, 48);
    if (e->fields & TF_MR_OWNER)
        set_hex(o, "mr_owner", e->mr_owner, 48);
    if (e->fields & TF_MR_OWNER_CONFIG)
        set_hex(o, "mr_owner_config", e->mr_owner_config, 48);
    static const char *const rtmr[] = {"rtmr0", "rtmr1", "rtmr2", "rtmr3"};
    for (int i = 0; i < 4; i++)
        if (e->fields & (TF_RTMR0 << i))
            set_hex(o, rtmr[i], e->rtmr[i], 48);
    if (e->fields & TF_MR_SEAM)
        set_hex(o, "mr_seam", e->mr_seam, 48);
    if (e->fields & TF_MR_SIGNER_SEAM)
        set_hex(o, "mr_signer_seam", e->mr_signer_seam, 48);
    return o;
}

static json_t *snp_entry_json(const snp_entry *e)
{
    json_t *o = json_object();
    if (e->fields & SF_MEASUREMENT)
        set_hex(o, "measurement", e->measurement, 48);
    if (e->fields & SF_HOST_DATA)
        set_hex(o, "host_data", e->host_data, 32);
    if (e->fields & SF_GUEST_SVN_MIN)
        json_object_set_new(o, "guest_svn_min", json_integer(e->guest_svn_min));
    return o;
}

static json_t *csv_entry_json(const csv_entry *e)
{
    json_t *o = json_object();
    if (e->fields & CF_MEASUREMENT)
        set_hex(o, "measurement", e->measurement, 32);
    if (e->fields & CF_USER_PUBKEY_DIGEST)
        set_hex(o, "user_pubkey_digest", e->user_pubkey_digest, 32);
    if (e->fields & CF_VM_ID)
        set_hex(o, "vm_id", e->vm_id, 16);
    if (e->fields & CF_VM_VERSION)
        set_hex(o, "vm_version", e->vm_version, 16);
    if (e->fields & CF_HOST_DATA)
        set_hex(o, "host_data", e->host_data, 64);
    return o;
}

/* A list with an entry that constrains nothing (possible in a dynamic_config whose switches
 * are all off) accepts any peer of its TEE: the same as no list, which is how it is written. */
static bool list_constrains(const void *entries, size_t n, size_t size)
{
    for (size_t i = 0; i < n; i++)
        if (*(const unsigned *)((const uint8_t *)entries + i * size) == 0)
            return false;
    return true;
}

json_t *ccz_policy_to_json(const ccz_policy *p)
{
    json_t *o = json_object(), *tees = json_array(), *tcb = json_array();
    if (!o || !tees || !tcb) {
        json_decref(o);
        json_decref(tees);
        json_decref(tcb);
        return NULL;
    }
    json_object_set_new(o, "ccz_policy", json_integer(1));
    for (int t = CCZ_TEE_SIM; t <= CCZ_TEE_CCA; t++)
        if (p->tees & (1u << t))
            json_array_append_new(tees, json_string(ccz_tee_name((ccz_tee)t)));
    json_object_set_new(o, "tees", tees);
    json_object_set_new(o, "allow_sim", json_boolean(p->allow_sim));
    json_object_set_new(o, "allow_debug", json_boolean(p->allow_debug));
    json_object_set_new(o, "allow_mrservicetd_nonzero", json_boolean(p->allow_mrservicetd));
    json_object_set_new(o, "allow_sept_ve_disable_clear", json_boolean(p->allow_sept_ve_clear));
    json_object_set_new(o, "allow_migration_agent", json_boolean(p->allow_migration_agent));
    json_object_set_new(o, "snp_max_vmpl", json_integer(p->snp_max_vmpl));
    if (p->has_snp_min_tcb)
        json_object_set_new(o, "snp_min_tcb",
                            json_pack("{s:i,s:i,s:i,s:i,s:i}", "bootloader",
                                      p->snp_min_tcb.bootloader, "tee", p->snp_min_tcb.tee, "snp",
                                      p->snp_min_tcb.snp, "microcode", p->snp_min_tcb.microcode,
                                      "fmc", p->snp_min_tcb.fmc));
    for (int i = 0; i < TCB_STATUS_COUNT; i++)
        if (p->tcb & (1u << i))
            json_array_append_new(tcb, json_string(policy_tcb_status_names[i]));
    json_object_set_new(o, "accepted_tcb_statuses", tcb);
    if (p->has_sgx && list_constrains(p->sgx, p->n_sgx, sizeof *p->sgx)) {
        json_t *a = json_array();
        for (size_t i = 0; i < p->n_sgx; i++)
            json_array_append_new(a, sgx_entry_json(&p->sgx[i]));
        json_object_set_new(o, "sgx", a);
    }
    if (p->has_tdx && list_constrains(p->tdx, p->n_tdx, sizeof *p->tdx)) {
        json_t *a = json_array();
        for (size_t i = 0; i < p->n_tdx; i++)
            json_array_append_new(a, tdx_entry_json(&p->tdx[i]));
        json_object_set_new(o, "tdx", a);
    }
    if (p->has_snp && list_constrains(p->snp, p->n_snp, sizeof *p->snp)) {
        json_t *a = json_array();
        for (size_t i = 0; i < p->n_snp; i++)
            json_array_append_new(a, snp_entry_json(&p->snp[i]));
        json_object_set_new(o, "snp", a);
    }
    if (p->has_csv && list_constrains(p->csv, p->n_csv, sizeof *p->csv)) {
        json_t *a = json_array();
        for (size_t i = 0; i < p->n_csv; i++)
            json_array_append_new(a, csv_entry_json(&p->csv[i]));
        json_object_set_new(o, "csv", a);
    }
    if (p->eventlog)
        json_object_set_new(o, "eventlog", json_deep_copy(p->eventlog));
    if (p->cca)
        json_object_set_new(o, "cca", json_deep_copy(p->cca));
    return o;
}
