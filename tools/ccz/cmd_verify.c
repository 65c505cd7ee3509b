/* SPDX-License-Identifier: Apache-2.0 */
/* ccz verify: verify evidence (type detected from its framing), then appraise its claims with a
 * policy. The evidence file is untrusted; the library's parsers read it. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "endpoint.h"

static const char verify_usage[] =
    "usage: ccz verify FILE [--report-data HEX] [--policy FILE] [--at UNIX] [--json]\n"
    "                       [--collateral FILE] [--root-ca FILE]\n"
    "                       [--vek FILE] [--cert-chain FILE]\n"
    "                       [--sim-root CERT]... [--sim-dir D]\n"
    "                       [--eventlog FILE] [--init-data-hash HEX]\n"
    "                       [--hsk-cek FILE]\n"
    "                       [--cca-ta FILE]\n"
    "\n"
    "Verifies evidence (binary, or hex text) and appraises it with a policy.\n"
    "  --report-data HEX  expected report data (up to 64 bytes, zero-padded)\n"
    "  --policy FILE      ccz policy or CCZoo dynamic_config.json (default: real TEEs only,\n"
    "                     TCB UpToDate, no debug, no sim)\n"
    "  --at UNIX          instant of verification in unix seconds (default: now)\n"
    "  --json             print one JSON object\n"
    "  --collateral FILE  Intel collateral for SGX/TDX quotes (dcap-qvl QuoteCollateralV3 JSON,\n"
    "                     as 'ccz collateral fetch' writes it)\n"
    "  --root-ca FILE     Intel root CA to trust instead of the built-in Intel SGX Root CA\n"
    "  --vek FILE         the VCEK or VLEK (DER or PEM) that signed an SEV-SNP report\n"
    "  --cert-chain FILE  its ASK/ASVK and ARK (PEM); default: AMD's built-in chains\n"
    "  --sim-root CERT    trust this sim platform root (repeatable); by default the root of\n"
    "                     --sim-dir, or of the default sim platform if one exists\n"
    "  --eventlog FILE    a measured-boot event log (CCEL; binary, base64 or in JSON as\n"
    "                     'ccz eventlog' reads it) to replay into the TD's RTMRs (index i =\n"
    "                     RTMR[i-1]); the claims then carry its events for the policy\n"
    "  --init-data-hash HEX\n"
    "                     Azure vTPM evidence: the 32-byte init data hash PCR 8 must hold\n"
    "                     (PCR8 = SHA-256(32 zero bytes || HEX))\n"
    "  --hsk-cek FILE     Hygon CSV: the chip's HSK/CEK bundle (as Hygon's KDS serves it and\n"
    "                     'ccz collateral fetch --hygon-kds' writes it), for evidence that\n"
    "                     lacks it; the HRK is built in\n"
    "  --cca-ta FILE      Arm CCA tokens: the platform keys (CPAKs) to trust: a Veraison\n"
    "                     trust-anchor store (JSON array of instance-id, implementation-id,\n"
    "                     pkey JWK), one JWK, or a PEM key (then for any instance)\n"
    "Exit codes: 0 verified and accepted, 1 verification failed or policy rejected,\n"
    "2 usage error or unreadable input (missing file, not evidence, malformed).\n";

static const cli_group verify_group = {"verify", verify_usage, NULL, 0, NULL, NULL, NULL};

typedef struct {
    cli_args o;
    const char *file;
} verify_args;

static int parse_args(verify_args *a, int argc, char **argv)
{
    int r = cli_parse(&a->o, argc, argv, &verify_group, cli_command_opts(&ccz_commands, "verify"));
    if (r)
        return r;
    if (argc - optind != 1)
        return cli_usage_error("verify", argc == optind ? "no evidence file given"
                                                        : "give exactly one evidence file");
    if (a->o.v.vek && a->o.v.collateral)
        return cli_usage_error("verify", "--vek (SEV-SNP) and --collateral (SGX/TDX) exclude "
                                         "each other");
    if (a->o.v.hsk_cek && (a->o.v.vek || a->o.v.collateral))
        return cli_usage_error("verify", "--hsk-cek (Hygon CSV) excludes --vek and --collateral");
    if (a->o.v.chain && !a->o.v.vek)
        return cli_usage_error("verify", "--cert-chain goes with --vek");
    if (a->o.init_data_hex && strlen(a->o.init_data_hex) != 64)
        return cli_usage_error("verify", "--init-data-hash takes 32 bytes of hex (64 digits)");
    a->file = argv[optind];
    return EXIT_OK;
}

/* What to do about a verification failure the user can fix, or NULL. The claims of a failed
 * result carry only the kind of evidence (set by the caller from detection). */
static const char *failure_hint(const ccz_result *r)
{
    if (r->status == CCZ_OK || !r->step)
        return NULL;
    if (r->status == CCZ_ERR_CERT_CHAIN && r->claims.tee == CCZ_TEE_SIM &&
        !strcmp(r->step, CCZ_STEP_PLATFORM_CERT))
        return "name the sim platform that made the evidence: --sim-dir DIR (its root.crt) or "
               "--sim-root CERT; without them the platform in $CCZ_SIM_DIR, else the default "
               "directory, is trusted";
    if (r->status == CCZ_ERR_COLLATERAL_OUT_OF_DATE ||
        (r->status == CCZ_ERR_EXPIRED && strcmp(r->step, CCZ_STEP_PLATFORM_CERT) != 0 &&
         strcmp(r->step, CCZ_RATLS_STEP_CERTIFICATE) != 0))
        return "the collateral has expired at this instant: fetch it again (ccz collateral "
               "fetch EVIDENCE --pccs URL -o FILE) or verify at an instant it covers with "
               "--at UNIX";
    if (r->status == CCZ_ERR_PLATFORM_KEY_UNKNOWN)
        return "give the platform's attestation key: --cca-ta FILE (a Veraison trust-anchor "
               "store, a JWK or a PEM key)";
    if (r->status == CCZ_ERR_EXPIRED || r->status == CCZ_ERR_NOT_YET_VALID)
        return "a certificate is outside its validity at this instant: check --at and the "
               "clock";
    return NULL;
}

/* "REJECTED: code, code" with the policy's reasons. */
static void print_result_line(const ccz_appraisal *ap, bool ok, bool simulated)
{
    if (ok) {
        printf("result      OK%s\n", simulated ? " (simulated)" : "");
        return;
    }
    printf("result      REJECTED by the policy:");
    for (size_t i = 0; i < ap->n_reasons; i++)
        printf("%s %s", i ? "," : "", ap->reasons[i].code);
    printf("%s\n", simulated ? " (simulated evidence)" : "");
}

/* The document of ccz_verdict_to_json, with the hint for people added to its error. */
static void print_json(const ccz_verdict *v)
{
    json_t *o = ccz_verdict_to_json(v);
    const char *hint = failure_hint(&v->result);
    json_t *e = json_object_get(o, "error");
    if (e && hint)
        json_object_set_new(e, "hint", json_string(hint));
    char *text = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    if (text)
        puts(text);
    else
        fprintf(stderr, "ccz verify: out of memory\n");
    free(text);
    json_decref(o);
}

static void print_text(const ccz_result *r, const ccz_appraisal *ap, bool ok,
                       const char *policy_name)
{
    const ccz_claims *c = &r->claims;
    if (r->status != CCZ_OK) {
        printf("verified    no\n");
        printf("error       %s at step %s: %s\n", ccz_status_name(r->status), r->step, r->message);
        const char *hint = failure_hint(r);
        if (hint)
            printf("hint        %s\n", hint);
        printf("result      FAILED\n");
        return;
    }
    printf("evidence    %s%s\n", ccz_tee_name(c->tee),
           c->simulated ? " (SIMULATED TEE: not backed by TEE hardware)" : "");
    printf("verified    yes\n");
    printf("tcb_status  %s\n", c->tcb_status[0] ? c->tcb_status : "n/a");
    for (size_t i = 0; i < c->n_advisories; i++)
        printf("advisory    %s\n", c->advisories[i]);
    json_t *claims = ccz_claims_to_json(c);
    const char *key;
    json_t *v;
    printf("claims:\n");
    json_object_foreach (claims, key, v) {
        if (!strcmp(key, "eventlog")) { /* the events are many: --json shows them */
            printf("  %-16s %zu events, %s, replayed into the RTMRs\n", key,
                   json_array_size(json_object_get(v, "events")),
                   json_string_value(json_object_get(v, "algorithm")));
            continue;
        }
        char *val = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        printf("  %-16s %s\n", key, val ? val : "?");
        free(val);
    }
    json_decref(claims);
    printf("policy      %s (%s)\n", ap->accepted ? "accepted" : "rejected", policy_name);
    for (size_t i = 0; i < ap->n_reasons; i++)
        printf("  - %s: %s\n", ap->reasons[i].code, ap->reasons[i].message);
    print_result_line(ap, ok, c->simulated);
}

/* Evidence that could not be read (not detected, not parsed, not found in the certificate) is
 * unreadable input; any other failure, or a rejection by the policy, is a failed verification. */
static int exit_code(const ccz_result *r, bool ok)
{
    if (ok)
        return EXIT_OK;
    if (r->status == CCZ_OK) /* verified, rejected by the policy */
        return EXIT_REJECT;
    bool reading =
        r->step && (!strcmp(r->step, CCZ_STEP_DETECT) || !strcmp(r->step, CCZ_STEP_PARSE) ||
                    !strcmp(r->step, CCZ_RATLS_STEP_EXTENSION));
    return cli_exit_code(r->status, !reading);
}

int cmd_verify(int argc, char **argv)
{
    verify_args a = {0};
    int r = parse_args(&a, argc, argv);
    if (r)
        return r < 0 ? EXIT_OK : r;
    uint8_t rd[64], idh[32];
    if (a.o.rd_hex && cli_report_data(rd, a.o.rd_hex))
        return cli_usage_error("verify", "--report-data: %s", ccz_error_detail());
    if (a.o.init_data_hex && ccz_hex_decode_fixed(idh, 32, a.o.init_data_hex, 64))
        return cli_usage_error("verify", "--init-data-hash: %s", ccz_error_detail());

    ccz_buf ev = CCZ_BUF_INIT;
    ccz_trust *trust = NULL;
    ccz_policy *policy = NULL;
    ccz_collateral *collateral = NULL;
    ccz_eventlog *eventlog = NULL;
    ccz_status s = cli_read_evidence(&ev, a.file);
    if (s) {
        r = cli_fail(s, "cannot read evidence %s", a.file);
        goto out;
    }
    if ((s = cli_trust_load(&trust, &a.o.v, a.o.ca.dir_arg, true)) != CCZ_OK) {
        r = cli_fail(s, "trust anchors");
        goto out;
    }
    if (a.o.cca_ta && (s = ccz_trust_add_cca_anchors_file(trust, a.o.cca_ta)) != CCZ_OK) {
        r = cli_fail(s, "--cca-ta");
        goto out;
    }
    if ((s = cli_policy_load(&policy, &a.o.v)) != CCZ_OK) {
        r = cli_fail(s, "policy");
        goto out;
    }
    if ((s = cli_collateral_load(&collateral, &a.o.v)) != CCZ_OK) {
        r = a.o.v.collateral ? cli_fail(s, "collateral")
            : a.o.v.hsk_cek  ? cli_fail(s, "HSK/CEK bundle")
                             : cli_fail(s, "--vek %s", a.o.v.vek);
        goto out;
    }

    if (a.o.eventlog && (s = cli_eventlog_load(&eventlog, a.o.eventlog)) != CCZ_OK) {
        r = cli_fail(s, "--eventlog");
        goto out;
    }

    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.at_unix = a.o.have_at ? a.o.at : (int64_t)time(NULL);
    o.eventlog = eventlog;
    o.expected_init_data_hash = a.o.init_data_hex ? idh : NULL;
    o.trust = trust;
    o.collateral = collateral;
    o.expected_report_data = a.o.rd_hex ? rd : NULL;
    static ccz_verdict v;
    if ((s = ccz_verdict_run(&v, ccz_buf_span(&ev), &o, policy)) != CCZ_OK) {
        r = cli_fail(s, "verify");
        goto out;
    }
    const char *pname = !a.o.v.policy   ? "default policy"
                        : v.certificate ? "given policy"
                        : ccz_policy_get_format(policy) == CCZ_POLICY_FORMAT_DYNAMIC_CONFIG
                            ? "CCZoo dynamic_config"
                            : "ccz policy";
    if (a.o.json) {
        print_json(&v);
    } else {
        if (v.certificate)
            printf("certificate RA-TLS, %s\n", ccz_ratls_format_name(v.format));
        print_text(&v.result, &v.appraisal, v.ok, pname);
    }
    r = exit_code(&v.result, v.ok);
out:
    ccz_eventlog_free(eventlog);
    ccz_collateral_free(collateral);
    ccz_policy_free(policy);
    ccz_trust_free(trust);
    ccz_buf_free(&ev);
    return r;
}
