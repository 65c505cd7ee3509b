/* SPDX-License-Identifier: Apache-2.0 */
/* Appraisal: verified claims against a parsed policy. Runs every check and records every
 * reason for rejection, so an operator sees all that is wrong at once. Claims are trusted here
 * (a verifier produced them); the policy is trusted (it was parsed and validated). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "ccz/eventlog.h"
#include "core/guard.h"
#include "policy/policy_internal.h"

static void add_reason(ccz_appraisal *a, const char *code, const char *fmt, ...) CCZ_PRINTF(3, 4);

static void add_reason(ccz_appraisal *a, const char *code, const char *fmt, ...)
{
    a->accepted = false;
    if (a->n_reasons == CCZ_MAX_REASONS)
        return;
    ccz_reason *r = &a->reasons[a->n_reasons++];
    r->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
}

/* Appends "; " and a formatted mismatch to a fixed buffer. */
static void note(char *buf, size_t cap, const char *fmt, ...) CCZ_PRINTF(3, 4);

static void note(char *buf, size_t cap, const char *fmt, ...)
{
    size_t n = strlen(buf);
    if (n + 3 >= cap)
        return;
    if (n) {
        ccz_span sep = CCZ_LIT("; ");
        memcpy(buf + n, sep.ptr, sep.len);
        n += sep.len;
        buf[n] = '\0';
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, cap - n, fmt, ap);
    va_end(ap);
}

static void note_hex(char *buf, size_t cap, const char *name, const uint8_t *have,
                     const uint8_t *want, size_t n)
{
    /* the first 6 bytes of each say which value it is */
    char h[13], w[13];
    ccz_hex_to_str(h, have, n < 6 ? n : 6);
    ccz_hex_to_str(w, want, n < 6 ? n : 6);
    note(buf, cap, "%s is %s..., not %s...", name, h, w);
}

/* Fills why with the mismatches of one SGX-shaped entry; empty when the entry matches. */
static void sgx_mismatch(char *why, size_t cap, const sgx_entry *e, const ccz_claims *c)
{
    const ccz_sgx_claims *g = &c->sgx;
    why[0] = '\0';
    if ((e->fields & PF_MR_ENCLAVE) && memcmp(e->mr_enclave, g->mr_enclave, 32) != 0)
        note_hex(why, cap, "mr_enclave", g->mr_enclave, e->mr_enclave, 32);
    if ((e->fields & PF_MR_SIGNER) && memcmp(e->mr_signer, g->mr_signer, 32) != 0)
        note_hex(why, cap, "mr_signer", g->mr_signer, e->mr_signer, 32);
    if ((e->fields & PF_ISV_PROD_ID) && e->isv_prod_id != g->isv_prod_id)
        note(why, cap, "isv_prod_id is %u, not %u", g->isv_prod_id, e->isv_prod_id);
    if ((e->fields & PF_ISV_SVN) && e->isv_svn != g->isv_svn)
        note(why, cap, "isv_svn is %u, not %u", g->isv_svn, e->isv_svn);
    if ((e->fields & PF_ISV_SVN_MIN) && g->isv_svn < e->isv_svn)
        note(why, cap, "isv_svn %u is below %u", g->isv_svn, e->isv_svn);
    if ((e->fields & PF_CONFIG_SVN) && e->config_svn != g->config_svn)
        note(why, cap, "config_svn is %u, not %u", g->config_svn, e->config_svn);
    if ((e->fields & PF_DEBUGGABLE) && e->debuggable != c->debug)
        note(why, cap, "debug is %s, not %s", c->debug ? "on" : "off",
             e->debuggable ? "on" : "off");
}

/* Azure's confidential VMs are appraised as the hardware they run on: SNP or TDX. */
static ccz_tee hw_tee(ccz_tee t)
{
    return t == CCZ_TEE_AZ_SNP_VTPM ? CCZ_TEE_SNP : t == CCZ_TEE_AZ_TDX_VTPM ? CCZ_TEE_TDX : t;
}

/* Names fields as the policy spells them: a CCZoo dynamic_config has rt_mr0 and mrsigner_seam
 * where ccz's format has rtmr0 and mr_signer_seam. */
static void tdx_mismatch(char *why, size_t cap, const tdx_entry *e, const ccz_tdx_claims *t,
                         bool dc)
{
    why[0] = '\0';
    static const char *const rtmr_ccz[] = {"rtmr0", "rtmr1", "rtmr2", "rtmr3"};
    static const char *const rtmr_dc[] = {"rt_mr0", "rt_mr1", "rt_mr2", "rt_mr3"};
    const char *const *rtmr = dc ? rtmr_dc : rtmr_ccz;
    if ((e->fields & TF_MR_TD) && memcmp(e->mr_td, t->mr_td, 48) != 0)
        note_hex(why, cap, "mr_td", t->mr_td, e->mr_td, 48);
    if ((e->fields & TF_MR_CONFIG_ID) && memcmp(e->mr_config_id, t->mr_config_id, 48) != 0)
        note_hex(why, cap, "mr_config_id", t->mr_config_id, e->mr_config_id, 48);
    if ((e->fields & TF_MR_OWNER) && memcmp(e->mr_owner, t->mr_owner, 48) != 0)
        note_hex(why, cap, "mr_owner", t->mr_owner, e->mr_owner, 48);
    if ((e->fields & TF_MR_OWNER_CONFIG) && memcmp(e->mr_owner_config, t->mr_owner_config, 48) != 0)
        note_hex(why, cap, "mr_owner_config", t->mr_owner_config, e->mr_owner_config, 48);
    for (int i = 0; i < 4; i++)
        if ((e->fields & (TF_RTMR0 << i)) && memcmp(e->rtmr[i], t->rtmr[i], 48) != 0)
            note_hex(why, cap, rtmr[i], t->rtmr[i], e->rtmr[i], 48);
    if ((e->fields & TF_MR_SEAM) && memcmp(e->mr_seam, t->mr_seam, 48) != 0)
        note_hex(why, cap, "mr_seam", t->mr_seam, e->mr_seam, 48);
    if ((e->fields & TF_MR_SIGNER_SEAM) && memcmp(e->mr_signer_seam, t->mr_signer_seam, 48) != 0)
        note_hex(why, cap, dc ? "mrsigner_seam" : "mr_signer_seam", t->mr_signer_seam,
                 e->mr_signer_seam, 48);
}

static void snp_mismatch(char *why, size_t cap, const snp_entry *e, const ccz_snp_claims *s)
{
    why[0] = '\0';
    if ((e->fields & SF_MEASUREMENT) && memcmp(e->measurement, s->measurement, 48) != 0)
        note_hex(why, cap, "measurement", s->measurement, e->measurement, 48);
    if ((e->fields & SF_HOST_DATA) && memcmp(e->host_data, s->host_data, 32) != 0)
        note_hex(why, cap, "host_data", s->host_data, e->host_data, 32);
    if ((e->fields & SF_GUEST_SVN_MIN) && s->guest_svn < e->guest_svn_min)
        note(why, cap, "guest_svn %u is below %u", s->guest_svn, e->guest_svn_min);
}

static void csv_mismatch(char *why, size_t cap, const csv_entry *e, const ccz_csv_claims *v)
{
    why[0] = '\0';
    if ((e->fields & CF_MEASUREMENT) && memcmp(e->measurement, v->measurement, 32) != 0)
        note_hex(why, cap, "measurement", v->measurement, e->measurement, 32);
    if ((e->fields & CF_USER_PUBKEY_DIGEST) &&
        memcmp(e->user_pubkey_digest, v->user_pubkey_digest, 32) != 0)
        note_hex(why, cap, "user_pubkey_digest", v->user_pubkey_digest, e->user_pubkey_digest, 32);
    if ((e->fields & CF_VM_ID) && memcmp(e->vm_id, v->vm_id, 16) != 0)
        note_hex(why, cap, "vm_id", v->vm_id, e->vm_id, 16);
    if ((e->fields & CF_VM_VERSION) && memcmp(e->vm_version, v->vm_version, 16) != 0)
        note_hex(why, cap, "vm_version", v->vm_version, e->vm_version, 16);
    /* host_data came with report version 3: an older report has none to match */
    if ((e->fields & CF_HOST_DATA) && v->version < 3)
        note(why, cap, "host_data: a version %u report has none", v->version);
    else if ((e->fields & CF_HOST_DATA) && memcmp(e->host_data, v->host_data, 64) != 0)
        note_hex(why, cap, "host_data", v->host_data, e->host_data, 64);
}

/* Checks the measurement list for the claims' TEE. Returns the index of the matching entry,
 * -1 when the list does not constrain this TEE, -2 when nothing matched (reasons added). */
static long check_measurements(ccz_appraisal *a, const ccz_policy *p, const ccz_claims *c)
{
    const char *list;
    size_t n;
    bool has;
    switch (hw_tee(c->tee)) {
    case CCZ_TEE_SIM:
    case CCZ_TEE_SGX:
        list = p->format == CCZ_POLICY_FORMAT_DYNAMIC_CONFIG ? "sgx_mrs" : "sgx";
        n = p->n_sgx;
        has = p->has_sgx;
        break;
    case CCZ_TEE_TDX:
        list = p->format == CCZ_POLICY_FORMAT_DYNAMIC_CONFIG ? "tdx_mrs" : "tdx";
        n = p->n_tdx, has = p->has_tdx;
        break;
    case CCZ_TEE_SNP:
        list = "snp", n = p->n_snp, has = p->has_snp;
        break;
    case CCZ_TEE_CSV:
        list = "csv", n = p->n_csv, has = p->has_csv;
        break;
    default:
        return -1;
    }
    if (!has)
        return -1;
    if (n == 0) {
        add_reason(a, "no_accepted_measurements",
                   "the policy's %s list is empty: no %s peer is "
                   "accepted",
                   list, ccz_tee_name(c->tee));
        return -2;
    }
    char why[200];
    /* first pass: any entry matching is enough; second pass: say why none did */
    for (int pass = 0; pass < 2; pass++) {
        size_t reported = 0;
        for (size_t i = 0; i < n; i++) {
            if (hw_tee(c->tee) == CCZ_TEE_TDX)
                tdx_mismatch(why, sizeof why, &p->tdx[i], &c->tdx,
                             p->format == CCZ_POLICY_FORMAT_DYNAMIC_CONFIG);
            else if (hw_tee(c->tee) == CCZ_TEE_SNP)
                snp_mismatch(why, sizeof why, &p->snp[i], &c->snp);
            else if (c->tee == CCZ_TEE_CSV)
                csv_mismatch(why, sizeof why, &p->csv[i], &c->csv);
            else
                sgx_mismatch(why, sizeof why, &p->sgx[i], c);
            if (pass == 0 && !why[0])
                return (long)i;
            /* leave room for the other checks' reasons and a summary line */
            if (pass == 1 && reported < CCZ_MAX_REASONS - 8) {
                add_reason(a, "measurement_not_accepted", "%s[%zu]: %s", list, i, why);
                reported++;
            }
        }
        if (pass == 1 && reported < n)
            add_reason(a, "measurement_not_accepted", "%zu more %s entries do not match either",
                       n - reported, list);
    }
    return -2;
}

/* Whether an event (trustee's JSON shape) has every field a rule names. */
/* The algorithm ccz_verify replayed a log with into the evidence's registers, MR indices 1 to 4
 * (src/tee/tee.c): SM3 for CSV, SHA-384 for TDX. */
static uint16_t replayed_alg(const ccz_claims *c)
{
    return c->tee == CCZ_TEE_CSV ? CCZ_EVLOG_SM3 : CCZ_EVLOG_SHA384;
}

/* The digest of e the replay extended with, or NULL: an event of another index, or without a
 * digest of the replayed algorithm, changed no register the evidence vouches for, so anyone
 * who can write the log could have added it; no rule may be met by it. */
static const uint8_t *replayed_digest(const ccz_event *e, uint16_t alg)
{
    if (e->index < 1 || e->index > 4)
        return NULL;
    for (size_t k = 0; k < e->n_digests; k++)
        if (e->digests[k].alg == alg)
            return e->digests[k].digest;
    return NULL;
}

/* Whether event ev (its JSON, and rd: its replayed digest of alg) meets every field of rule. */
static bool event_matches(const json_t *rule, const json_t *ev, const uint8_t *rd, uint16_t alg)
{
    const json_t *details = json_object_get(ev, "details");
    const char *key;
    const json_t *want;
    json_object_foreach ((json_t *)rule, key, want) {
        const char *w = json_string_value(want);
        bool ok = false;
        if (strcmp(key, "index") == 0) {
            ok = json_integer_value(json_object_get(ev, "index")) == json_integer_value(want);
        } else if (strcmp(key, "type") == 0) {
            const char *t = json_string_value(json_object_get(ev, "type_name"));
            ok = t && strcmp(t, w) == 0;
        } else if (strcmp(key, "digest") == 0) { /* the replayed one: the others are unchecked */
            char hex[2 * 64 + 1];
            size_t n = ccz_eventlog_alg_size(alg);
            ccz_hex_to_str(hex, rd, n);
            ok = strcmp(hex, w) == 0;
        } else if (strcmp(key, "device_path") == 0) {
            const json_t *ps = json_object_get(details, "device_paths");
            for (size_t i = 0; i < json_array_size(ps) && !ok; i++) {
                const char *d = json_string_value(json_array_get(ps, i));
                ok = d && strcmp(d, w) == 0;
            }
        } else { /* string, string_contains, unicode_name: text of the details */
            const json_t *dv = json_object_get(
                details, strcmp(key, "unicode_name") == 0 ? "unicode_name" : "string");
            const char *d = json_string_value(dv);
            size_t dn = json_string_length(dv), wn = strlen(w);
            ok = d && (strcmp(key, "string_contains") == 0 ? memmem(d, dn, w, wn) != NULL
                                                           : dn == wn && memcmp(d, w, wn) == 0);
        }
        if (!ok)
            return false;
    }
    return true;
}

/* Every "eventlog" rule must match an event of the verified event log that its replay
 * extended a register with. */
static void check_eventlog(ccz_appraisal *a, const ccz_policy *p, const ccz_claims *c)
{
    if (!p->eventlog || json_array_size(p->eventlog) == 0)
        return;
    if (!c->eventlog) {
        add_reason(a, "eventlog_missing",
                   "the policy requires events of a measured-boot event log, and no event log "
                   "was verified with the evidence (ccz verify --eventlog FILE)");
        return;
    }
    json_t *events = ccz_eventlog_events_json(c->eventlog);
    if (!events) {
        add_reason(a, "event_not_found", "out of memory reading the event log");
        return;
    }
    uint16_t alg = replayed_alg(c);
    for (size_t i = 0; i < json_array_size(p->eventlog); i++) {
        const json_t *rule = json_array_get(p->eventlog, i);
        bool found = false;
        for (size_t k = 0; k < json_array_size(events) && !found; k++) {
            const uint8_t *d = replayed_digest(ccz_eventlog_event(c->eventlog, k), alg);
            found = d && event_matches(rule, json_array_get(events, k), d, alg);
        }
        if (!found) {
            char *text = json_dumps(rule, JSON_COMPACT | JSON_PRESERVE_ORDER);
            add_reason(a, "event_not_found", "eventlog[%zu]: no event of the log matches %s", i,
                       text ? text : "the rule");
            free(text);
        }
    }
    json_decref(events);
}

/* ---- Arm CCA reference values --------------------------------------------------------------*/

/* Whether a policy hex string (any case) spells these bytes. */
static bool hex_is(const json_t *v, const uint8_t *p, size_t n)
{
    char h[2 * 64 + 1];
    if (!v)
        return true; /* not constrained */
    if (n > 64 || json_string_length(v) != 2 * n)
        return false;
    ccz_hex_to_str(h, p, n);
    return strcasecmp(h, json_string_value(v)) == 0;
}

static bool str_is(const json_t *v, const char *s)
{
    return !v || strcmp(json_string_value(v), s) == 0;
}

static bool sw_matches(const json_t *ref, const ccz_cca_sw_component *c)
{
    return hex_is(json_object_get(ref, "measurement-value"), c->measurement, c->measurement_len) &&
           hex_is(json_object_get(ref, "signer-id"), c->signer_id, c->signer_id_len) &&
           str_is(json_object_get(ref, "component-type"), c->type) &&
           str_is(json_object_get(ref, "version"), c->version) &&
           str_is(json_object_get(ref, "hash-algo-id"), c->hash_alg);
}

/* A platform entry: its implementation id and configuration, and, when it lists software
 * components, exactly those (each of the token's matches one listed, each listed is present). */
static bool cca_platform_matches(const json_t *e, const ccz_cca_claims *a)
{
    if (!hex_is(json_object_get(e, "implementation-id"), a->implementation_id, 32) ||
        !hex_is(json_object_get(e, "platform-configuration"), a->platform_config,
                a->platform_config_len))
        return false;
    const json_t *sw = json_object_get(e, "sw-components");
    if (!sw)
        return true;
    for (size_t i = 0; i < a->n_sw_components; i++) {
        bool found = false;
        for (size_t k = 0; k < json_array_size(sw) && !found; k++)
            found = sw_matches(json_array_get(sw, k), &a->sw_components[i]);
        if (!found)
            return false;
    }
    for (size_t k = 0; k < json_array_size(sw); k++) {
        bool found = false;
        for (size_t i = 0; i < a->n_sw_components && !found; i++)
            found = sw_matches(json_array_get(sw, k), &a->sw_components[i]);
        if (!found)
            return false;
    }
    return true;
}

static bool cca_realm_matches(const json_t *e, const ccz_cca_claims *a)
{
    const json_t *rem = json_object_get(e, "extensible-measurements");
    for (size_t i = 0; rem && i < 4; i++)
        if (!hex_is(json_array_get(rem, i), a->rem[i], a->rim_len))
            return false;
    return hex_is(json_object_get(e, "initial-measurement"), a->rim, a->rim_len) &&
           hex_is(json_object_get(e, "personalization-value"), a->personalization_value, 64) &&
           str_is(json_object_get(e, "rak-hash-algorithm"), a->rak_hash_alg);
}

/* The policy's "cca" reference values: some platform entry and some realm entry must match. */
static void check_cca(ccz_appraisal *a, const ccz_policy *p, const ccz_claims *c)
{
    if (c->tee != CCZ_TEE_CCA || !p->cca)
        return;
    const json_t *pl = json_object_get(p->cca, "platform"), *rl = json_object_get(p->cca, "realm");
    bool ok = !pl;
    for (size_t i = 0; pl && i < json_array_size(pl) && !ok; i++)
        ok = cca_platform_matches(json_array_get(pl, i), &c->cca);
    if (!ok) {
        char id[65];
        ccz_hex_to_str(id, c->cca.implementation_id, 32);
        add_reason(a, "cca_platform_not_accepted",
                   "no entry of cca.platform matches the platform (implementation id %.16s..., "
                   "%zu software components, configuration and measurements)",
                   id, c->cca.n_sw_components);
    }
    ok = !rl;
    for (size_t i = 0; rl && i < json_array_size(rl) && !ok; i++)
        ok = cca_realm_matches(json_array_get(rl, i), &c->cca);
    if (!ok) {
        char rim[129];
        ccz_hex_to_str(rim, c->cca.rim, c->cca.rim_len);
        add_reason(a, "cca_realm_not_accepted",
                   "no entry of cca.realm matches the realm (initial measurement %.16s..., "
                   "extensible measurements, personalization value, RAK hash algorithm)",
                   rim);
    }
}

static int tcb_index(const char *status)
{
    for (int i = 0; i < TCB_STATUS_COUNT; i++)
        if (strcmp(status, policy_tcb_status_names[i]) == 0)
            return i;
    return -1;
}

/* The policy's own name for a switch: CCZoo dynamic_configs spell ccz's extensions ccz_... */
static const char *ext(const ccz_policy *p)
{
    return p->format == CCZ_POLICY_FORMAT_DYNAMIC_CONFIG ? "ccz_" : "";
}

ccz_status ccz_appraise(ccz_appraisal *a, const ccz_policy *p, const ccz_claims *c)
{
    CCZ_ENSURE(a && p && c, CCZ_ERR_INVALID_ARGUMENT, "missing argument");
    memset(a, 0, sizeof *a);
    a->accepted = true;

    if (c->tee == CCZ_TEE_NONE || !(p->tees & (1u << c->tee)))
        add_reason(a, "tee_not_accepted", "the policy does not accept %s evidence%s",
                   ccz_tee_name(c->tee),
                   p->format == CCZ_POLICY_FORMAT_DYNAMIC_CONFIG
                       ? " (the CCZoo dynamic_config lists no measurements for it)"
                       : "");
    if (c->simulated && !p->allow_sim)
        add_reason(a, "simulated_not_allowed",
                   "the evidence comes from the simulated TEE, "
                   "which has no hardware protection; the policy does not set %sallow_sim",
                   ext(p));

    long match = check_measurements(a, p, c);
    bool entry_allows_debug = match >= 0 && (c->tee == CCZ_TEE_SGX || c->tee == CCZ_TEE_SIM) &&
                              (p->sgx[match].fields & PF_DEBUGGABLE) && p->sgx[match].debuggable;
    if (c->debug && !p->allow_debug && !entry_allows_debug)
        add_reason(a, "debug",
                   "the %s is in debug mode (its memory can be read by "
                   "the host); the policy does not allow debug (%sallow_debug)",
                   hw_tee(c->tee) == CCZ_TEE_TDX   ? "TD"
                   : hw_tee(c->tee) == CCZ_TEE_SNP ? "guest"
                   : c->tee == CCZ_TEE_CCA         ? "CCA platform (its lifecycle is not secured)"
                                                   : "enclave",
                   ext(p));

    if (hw_tee(c->tee) == CCZ_TEE_TDX) {
        static const uint8_t zero[48];
        if (c->tdx.td_report_15 && memcmp(c->tdx.mr_servicetd, zero, 48) != 0 &&
            !p->allow_mrservicetd)
            add_reason(a, "mrservicetd_nonzero",
                       "a service TD is bound to this TD (MRSERVICETD is "
                       "not zero) and can act on it; the policy does not set "
                       "%sallow_mrservicetd_nonzero",
                       ext(p));
        if (!(c->tdx.td_attributes[3] & 0x10) && !p->allow_sept_ve_clear)
            add_reason(a, "sept_ve_disable_clear",
                       "the TD does not set SEPT_VE_DISABLE, so the "
                       "host can inject #VE on EPT violations; the policy does not set "
                       "%sallow_sept_ve_disable_clear",
                       ext(p));
    }
    if (hw_tee(c->tee) == CCZ_TEE_SNP) {
        const ccz_snp_claims *s = &c->snp;
        if ((s->policy >> 18) & 1 && !p->allow_migration_agent)
            add_reason(a, "migration_agent_allowed",
                       "the guest policy allows a migration agent, "
                       "which can read the guest's memory; the policy does not set "
                       "allow_migration_agent");
        if (s->vmpl > (uint32_t)p->snp_max_vmpl)
            add_reason(a, "vmpl_too_high",
                       "the report was requested at VMPL %u, above the "
                       "policy's bound %d (snp_max_vmpl; the default is 0)",
                       s->vmpl, p->snp_max_vmpl);
        const ccz_snp_tcb *t = &s->reported_tcb, *m = &p->snp_min_tcb;
        if (p->has_snp_min_tcb &&
            (t->bootloader < m->bootloader || t->tee < m->tee || t->snp < m->snp ||
             t->microcode < m->microcode || t->fmc < m->fmc))
            add_reason(a, "tcb_below_minimum",
                       "reported TCB (bootloader %u, tee %u, snp %u, "
                       "microcode %u, fmc %u) is below the minimum (%u, %u, %u, %u, %u)",
                       t->bootloader, t->tee, t->snp, t->microcode, t->fmc, m->bootloader, m->tee,
                       m->snp, m->microcode, m->fmc);
    }
    check_eventlog(a, p, c);
    check_cca(a, p, c);
    if (c->tee == CCZ_TEE_SGX || hw_tee(c->tee) == CCZ_TEE_TDX) {
        int k = tcb_index(c->tcb_status);
        if (k < 0)
            add_reason(a, "tcb_status_missing",
                       "the verifier reported no known TCB status "
                       "(\"%s\")",
                       c->tcb_status);
        else if (!(p->tcb & (1u << k)))
            add_reason(a, "tcb_status_not_accepted",
                       "TCB status %s is not among the accepted "
                       "statuses",
                       c->tcb_status);
    }
    return CCZ_OK;
}
