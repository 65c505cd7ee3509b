/* SPDX-License-Identifier: Apache-2.0 */
/* Claims as JSON: the one rendering shared by the CLI and the services. Measurements and other
 * byte strings are lower-case hex; only the part of the claims for the evidence's TEE appears. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ccz/eventlog.h"
#include "ccz/tee.h"

static int put_hex(json_t *o, const char *key, const uint8_t *p, size_t n)
{
    char s[2 * 64 + 1];
    ccz_hex_to_str(s, p, n);
    return json_object_set_new(o, key, json_string(s));
}

static int put_int(json_t *o, const char *key, json_int_t v)
{
    return json_object_set_new(o, key, json_integer(v));
}

static int sgx_fields(json_t *o, const ccz_claims *c)
{
    const ccz_sgx_claims *g = &c->sgx;
    int r = put_hex(o, "mr_enclave", g->mr_enclave, 32) |
            put_hex(o, "mr_signer", g->mr_signer, 32) | put_int(o, "isv_prod_id", g->isv_prod_id) |
            put_int(o, "isv_svn", g->isv_svn);
    if (c->tee == CCZ_TEE_SIM)
        return r | put_int(o, "timestamp", c->sim.timestamp) |
               put_hex(o, "platform_id", c->sim.platform_id, 32);
    return r | put_int(o, "config_svn", g->config_svn) | put_int(o, "misc_select", g->misc_select) |
           put_hex(o, "attributes", g->attributes, 16) | put_hex(o, "cpu_svn", g->cpu_svn, 16) |
           put_hex(o, "config_id", g->config_id, 64) |
           put_hex(o, "isv_ext_prod_id", g->isv_ext_prod_id, 16) |
           put_hex(o, "isv_family_id", g->isv_family_id, 16);
}

static int tdx_fields(json_t *o, const ccz_tdx_claims *t)
{
    int r = put_hex(o, "tee_tcb_svn", t->tee_tcb_svn, 16) | put_hex(o, "mr_seam", t->mr_seam, 48) |
            put_hex(o, "mr_signer_seam", t->mr_signer_seam, 48) |
            put_hex(o, "seam_attributes", t->seam_attributes, 8) |
            put_hex(o, "td_attributes", t->td_attributes, 8) | put_hex(o, "xfam", t->xfam, 8) |
            put_hex(o, "mr_td", t->mr_td, 48) | put_hex(o, "mr_config_id", t->mr_config_id, 48) |
            put_hex(o, "mr_owner", t->mr_owner, 48) |
            put_hex(o, "mr_owner_config", t->mr_owner_config, 48);
    static const char *const rtmr[] = {"rtmr0", "rtmr1", "rtmr2", "rtmr3"};
    for (int i = 0; i < 4; i++)
        r |= put_hex(o, rtmr[i], t->rtmr[i], 48);
    if (t->td_report_15)
        r |= put_hex(o, "tee_tcb_svn2", t->tee_tcb_svn2, 16) |
             put_hex(o, "mr_servicetd", t->mr_servicetd, 48);
    return r;
}

static json_t *snp_tcb(const ccz_snp_tcb *t, bool turin)
{
    json_t *o = json_pack("{s:i,s:i,s:i,s:i}", "bootloader", t->bootloader, "tee", t->tee, "snp",
                          t->snp, "microcode", t->microcode);
    if (o && turin)
        json_object_set_new(o, "fmc", json_integer(t->fmc));
    return o;
}

static int snp_fields(json_t *o, const ccz_snp_claims *s)
{
    char pol[24], info[24];
    snprintf(pol, sizeof pol, "0x%llx", (unsigned long long)s->policy);
    snprintf(info, sizeof info, "0x%llx", (unsigned long long)s->platform_info);
    bool turin = strcmp(s->product, "Turin") == 0;
    return put_int(o, "version", s->version) | put_int(o, "guest_svn", s->guest_svn) |
           json_object_set_new(o, "debug_allowed", json_boolean((s->policy >> 19) & 1)) |
           json_object_set_new(o, "migration_agent_allowed", json_boolean((s->policy >> 18) & 1)) |
           json_object_set_new(o, "policy", json_string(pol)) | put_int(o, "vmpl", s->vmpl) |
           json_object_set_new(o, "signing_key",
                               json_string(s->signing_key == CCZ_SNP_KEY_VCEK   ? "vcek"
                                           : s->signing_key == CCZ_SNP_KEY_VLEK ? "vlek"
                                                                                : "none")) |
           put_hex(o, "measurement", s->measurement, 48) |
           put_hex(o, "host_data", s->host_data, 32) | put_hex(o, "family_id", s->family_id, 16) |
           put_hex(o, "image_id", s->image_id, 16) |
           put_hex(o, "id_key_digest", s->id_key_digest, 48) |
           put_hex(o, "author_key_digest", s->author_key_digest, 48) |
           put_hex(o, "report_id", s->report_id, 32) | put_hex(o, "chip_id", s->chip_id, 64) |
           json_object_set_new(o, "reported_tcb", snp_tcb(&s->reported_tcb, turin)) |
           json_object_set_new(o, "current_tcb", snp_tcb(&s->current_tcb, turin)) |
           json_object_set_new(o, "committed_tcb", snp_tcb(&s->committed_tcb, turin)) |
           json_object_set_new(o, "launch_tcb", snp_tcb(&s->launch_tcb, turin)) |
           json_object_set_new(o, "platform_info", json_string(info)) |
           json_object_set_new(o, "product", json_string(s->product));
}

static json_t *tristate(int8_t v)
{
    return v < 0 ? json_null() : json_boolean(v);
}

/* The vTPM's PCRs as trustee names them ("tpm": {"pcr00": ...}), and what the HCL report says. */
static int vtpm_fields(json_t *o, const ccz_vtpm_claims *v)
{
    json_t *tpm = json_object();
    int r = tpm ? 0 : -1;
    for (int i = 0; tpm && i < 24; i++) {
        char key[8];
        snprintf(key, sizeof key, "pcr%02d", i);
        r |= put_hex(tpm, key, v->pcrs[i], 32);
    }
    json_t *vm = json_pack("{s:s,s:o,s:o,s:o}", "vm_unique_id", v->vm_unique_id, "secure_boot",
                           tristate(v->secure_boot), "tpm_enabled", tristate(v->tpm_enabled),
                           "console_enabled", tristate(v->console_enabled));
    return r | json_object_set_new(o, "tpm", tpm) |
           put_hex(o, "hw_report_data", v->hw_report_data, 64) |
           put_hex(o, "hcl_user_data", v->user_data, 64) |
           json_object_set_new(o, "vm_configuration", vm) |
           put_int(o, "evidence_version", v->evidence_version);
}

/* CSV: the report's fields (unmasked) and the policy's bits by csv-rs's names. */
static int csv_fields(json_t *o, const ccz_csv_claims *v)
{
    char pol[16];
    snprintf(pol, sizeof pol, "0x%x", v->policy);
    uint32_t p = v->policy;
    json_t *bits =
        json_pack("{s:b,s:b,s:b,s:b,s:b,s:b,s:b,s:b,s:i,s:i,s:i,s:i}", "nodbg", p & 1, "noks",
                  (p >> 1) & 1, "es", (p >> 2) & 1, "nosend", (p >> 3) & 1, "domain", (p >> 4) & 1,
                  "csv", (p >> 5) & 1, "csv3", (p >> 6) & 1, "asid_reuse", (p >> 7) & 1,
                  "hsk_version", (p >> 8) & 0xf, "cek_version", (p >> 12) & 0xf, "api_major",
                  (p >> 16) & 0xff, "api_minor", (p >> 24) & 0xff);
    int r = put_int(o, "version", v->version) | put_hex(o, "measurement", v->measurement, 32) |
            json_object_set_new(o, "policy", json_string(pol)) |
            json_object_set_new(o, "policy_bits", bits) |
            json_object_set_new(o, "chip_serial", json_string(v->chip_serial)) |
            put_hex(o, "user_pubkey_digest", v->user_pubkey_digest, 32) |
            put_hex(o, "vm_id", v->vm_id, 16) | put_hex(o, "vm_version", v->vm_version, 16) |
            put_hex(o, "mnonce", v->mnonce, 16) |
            json_object_set_new(o, "mac_checked", json_boolean(v->mac_checked));
    if (v->version == 1)
        return r | put_int(o, "anonce", v->anonce);
    static const char *const rtmr[] = {"rtmr0", "rtmr1", "rtmr2", "rtmr3", "rtmr4"};
    r |= put_int(o, "build", v->build) | put_int(o, "rtmr_version", v->rtmr_version);
    for (int i = 0; i < 5; i++)
        r |= put_hex(o, rtmr[i], v->rtmr[i], 32);
    if (v->version >= 3)
        r |= put_hex(o, "host_data", v->host_data, 64);
    return r;
}

static json_t *str_or_null(const char *s)
{
    return s[0] ? json_string(s) : json_null();
}

static json_t *hex_value(const uint8_t *p, size_t n)
{
    char s[2 * 64 + 1];
    ccz_hex_to_str(s, p, n);
    return json_string(s);
}

/* The platform's claims and the realm's, as the CCA token names them (snake_case). */
static int cca_fields(json_t *o, const ccz_cca_claims *a)
{
    json_t *sw = json_array(), *rem = json_array();
    int r = sw && rem ? 0 : -1;
    for (size_t i = 0; sw && i < a->n_sw_components; i++) {
        const ccz_cca_sw_component *c = &a->sw_components[i];
        r |= json_array_append_new(sw, json_pack("{s:o,s:o,s:o,s:o,s:o}", "type",
                                                 str_or_null(c->type), "measurement",
                                                 hex_value(c->measurement, c->measurement_len),
                                                 "version", str_or_null(c->version), "signer_id",
                                                 hex_value(c->signer_id, c->signer_id_len),
                                                 "hash_alg", str_or_null(c->hash_alg)));
    }
    for (int i = 0; rem && i < 4; i++)
        r |= json_array_append_new(rem, hex_value(a->rem[i], a->rim_len));
    return r | json_object_set_new(o, "platform_profile", str_or_null(a->platform_profile)) |
           put_hex(o, "implementation_id", a->implementation_id, 32) |
           put_hex(o, "instance_id", a->instance_id, 33) |
           put_hex(o, "platform_config", a->platform_config, a->platform_config_len) |
           put_int(o, "lifecycle", a->lifecycle) |
           json_object_set_new(o, "platform_hash_alg", str_or_null(a->platform_hash_alg)) |
           json_object_set_new(o, "verification_service", str_or_null(a->verification_service)) |
           json_object_set_new(o, "sw_components", sw) |
           put_hex(o, "platform_challenge", a->platform_challenge, a->platform_challenge_len) |
           json_object_set_new(o, "realm_profile", str_or_null(a->realm_profile)) |
           put_hex(o, "personalization_value", a->personalization_value, 64) |
           json_object_set_new(o, "realm_hash_alg", json_string(a->realm_hash_alg)) |
           json_object_set_new(o, "rak_hash_alg", json_string(a->rak_hash_alg)) |
           put_hex(o, "rim", a->rim, a->rim_len) | json_object_set_new(o, "rem", rem);
}

json_t *ccz_claims_to_json(const ccz_claims *c)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    int r = json_object_set_new(o, "tee", json_string(ccz_tee_name(c->tee))) |
            json_object_set_new(o, "simulated", json_boolean(c->simulated)) |
            json_object_set_new(o, "debug", json_boolean(c->debug)) |
            put_hex(o, "report_data", c->report_data,
                    c->report_data_len && c->report_data_len < 64 ? c->report_data_len : 64);
    switch (c->tee) {
    case CCZ_TEE_SIM:
    case CCZ_TEE_SGX:
        r |= sgx_fields(o, c);
        break;
    case CCZ_TEE_TDX:
        r |= tdx_fields(o, &c->tdx);
        break;
    case CCZ_TEE_SNP:
        r |= snp_fields(o, &c->snp);
        break;
    case CCZ_TEE_AZ_SNP_VTPM:
        r |= snp_fields(o, &c->snp) | vtpm_fields(o, &c->vtpm);
        break;
    case CCZ_TEE_AZ_TDX_VTPM:
        r |= tdx_fields(o, &c->tdx) | vtpm_fields(o, &c->vtpm);
        break;
    case CCZ_TEE_CSV:
        r |= csv_fields(o, &c->csv);
        break;
    case CCZ_TEE_CCA:
        r |= cca_fields(o, &c->cca);
        break;
    case CCZ_TEE_NONE:
        break;
    }
    if (c->eventlog)
        r |= json_object_set_new(
            o, "eventlog",
            ccz_eventlog_to_json(c->eventlog, c->tee == CCZ_TEE_TDX || c->tee == CCZ_TEE_AZ_TDX_VTPM
                                                  ? CCZ_EVLOG_SHA384
                                              : c->tee == CCZ_TEE_CSV ? CCZ_EVLOG_SM3
                                                                      : 0));
    if (c->tee == CCZ_TEE_SGX || c->tee == CCZ_TEE_TDX || c->tee == CCZ_TEE_AZ_TDX_VTPM) {
        json_t *adv = json_array();
        for (size_t i = 0; adv && i < c->n_advisories; i++)
            r |= json_array_append_new(adv, json_string(c->advisories[i]));
        r |= put_hex(o, "fmspc", c->dcap.fmspc, 6) |
             json_object_set_new(o, "tcb_status", json_string(c->tcb_status)) |
             json_object_set_new(o, "advisories", adv) |
             json_object_set_new(o, "platform_tcb_status", json_string(c->dcap.platform_status)) |
             json_object_set_new(o, "qe_tcb_status", json_string(c->dcap.qe_status));
    }
    if (r) {
        json_decref(o);
        return NULL;
    }
    return o;
}
