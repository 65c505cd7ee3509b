/* SPDX-License-Identifier: Apache-2.0 */
/* ccz eventlog: parse a measured-boot event log, show its events and the registers it replays
 * to, and compare them with expected values. The log file is untrusted; the library parses it. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

static const char eventlog_usage[] =
    "usage: ccz eventlog FILE [--json] [--expect INDEX=HEX]... [--algorithm ALG]\n"
    "\n"
    "Parses a measured-boot event log in the TCG2 crypto-agile format (a TDX guest's CC event\n"
    "log, CCEL; a Hygon CSV guest's SM3 log) and replays it into the registers it extends.\n"
    "FILE is the log as the firmware wrote it (/sys/firmware/acpi/tables/data/CCEL), its\n"
    "base64 text, or a JSON evidence document carrying it as \"cc_eventlog\".\n"
    "  --json              print {\"algorithm\", \"events\", \"registers\"}: the events as trustee's\n"
    "                      eventlog parser names them, the registers keyed by the log's MR index\n"
    "                      (TDX: 1-4 are RTMR0-3)\n"
    "  --expect INDEX=HEX  the value register INDEX must replay to (repeatable)\n"
    "  --algorithm ALG     replay with sha256, sha384 or sm3 (default: sm3 when the log lists\n"
    "                      it, else sha384, else sha256)\n"
    "Exit codes: 0 parsed (and every --expect met), 1 a register does not replay to its\n"
    "--expect value (replay_mismatch), 2 usage error or unreadable log.\n";

static const cli_group eventlog_group = {"eventlog", eventlog_usage, NULL, 0, NULL, NULL, NULL};

ccz_status cli_eventlog_load(ccz_eventlog **out, const char *path)
{
    ccz_buf b = CCZ_BUF_INIT;
    ccz_status s = ccz_file_read(&b, path, 2 * CCZ_EVLOG_MAX_BYTES);
    if (s == CCZ_OK)
        s = ccz_eventlog_load(out, ccz_buf_span(&b));
    ccz_buf_free(&b);
    return s ? ccz_fail_context(s, "%s", path) : CCZ_OK;
}

/* Checks one --expect INDEX=HEX; CCZ_ERR_REPLAY_MISMATCH with both values in the detail. */
static ccz_status check_expect(const ccz_eventlog *l, uint16_t alg, const char *spec)
{
    const char *eq = strchr(spec, '=');
    unsigned long long idx;
    char num[16];
    size_t nlen = (size_t)(eq - spec), size = ccz_eventlog_alg_size(alg);
    uint8_t want[64], got[64];
    CCZ_ENSURE(nlen > 0 && nlen < sizeof num, CCZ_ERR_INVALID_ARGUMENT,
               "--expect %s: the index is missing or too long", spec);
    memcpy(num, spec, nlen);
    num[nlen] = '\0';
    CCZ_GUARD(cli_number(num, UINT32_MAX, &idx));
    if (ccz_hex_decode_fixed(want, size, eq + 1, strlen(eq + 1)) != CCZ_OK)
        return ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "--expect %s: the value is not %zu bytes of hex",
                        spec, size);
    CCZ_GUARD(ccz_eventlog_replay(got, sizeof got, l, (uint32_t)idx, alg));
    if (memcmp(got, want, size) != 0) {
        char g[129], w[129];
        ccz_hex_to_str(g, got, size);
        ccz_hex_to_str(w, want, size);
        return ccz_fail(CCZ_ERR_REPLAY_MISMATCH,
                        "register %llu (%s) replays to %s, not the expected %s", idx,
                        ccz_eventlog_alg_name(alg), g, w);
    }
    return CCZ_OK;
}

static void print_text(const ccz_eventlog *l, uint16_t alg)
{
    size_t n = ccz_eventlog_count(l), size = ccz_eventlog_alg_size(alg);
    printf("algorithm   %s\n", ccz_eventlog_alg_name(alg));
    printf("events      %zu\n", n);
    for (size_t i = 0; i < n; i++) {
        const ccz_event *e = ccz_eventlog_event(l, i);
        const char *type = ccz_event_type_name(e->type);
        char d[129] = "-";
        for (size_t k = 0; k < e->n_digests; k++)
            if (e->digests[k].alg == alg)
                ccz_hex_to_str(d, e->digests[k].digest, size);
        printf("  %-4zu [%u] %-34s %.16s%s %zu bytes\n", i, e->index, type ? type : "(unknown)", d,
               strlen(d) > 16 ? "..." : "", e->data.len);
    }
    uint32_t idx[64];
    size_t k = ccz_eventlog_indices(idx, CCZ_ARRAY_LEN(idx), l);
    printf("registers\n");
    for (size_t i = 0; i < k; i++) {
        uint8_t r[64];
        char h[129];
        if (ccz_eventlog_replay(r, sizeof r, l, idx[i], alg) != CCZ_OK)
            continue;
        ccz_hex_to_str(h, r, size);
        printf("  %-4u %s\n", idx[i], h);
    }
}

int cmd_eventlog(int argc, char **argv)
{
    cli_args a = {0};
    int r = cli_parse(&a, argc, argv, &eventlog_group, cli_command_opts(&ccz_commands, "eventlog"));
    if (r)
        return r < 0 ? EXIT_OK : r;
    if (argc - optind != 1)
        return cli_usage_error("eventlog", argc == optind ? "no event log file given"
                                                          : "give exactly one event log file");
    uint16_t alg = 0;
    if (a.algorithm && ccz_eventlog_alg_parse(&alg, a.algorithm))
        return cli_usage_error("eventlog", "--algorithm: %s", ccz_error_detail());
    ccz_eventlog *l = NULL;
    ccz_status s = cli_eventlog_load(&l, argv[optind]);
    if (s)
        return cli_fail(s, "eventlog");
    if (!alg)
        alg = ccz_eventlog_default_alg(l);
    if (!ccz_eventlog_has_alg(l, alg)) {
        ccz_eventlog_free(l);
        return cli_usage_error("eventlog", "--algorithm %s: the log has no %s digests", a.algorithm,
                               a.algorithm);
    }
    for (int i = 0; i < a.n_expects && s == CCZ_OK; i++)
        s = check_expect(l, alg, a.expects[i]);
    if (s && ccz_status_class(s) == CCZ_CLASS_USAGE) {
        ccz_eventlog_free(l);
        return cli_usage_error("eventlog", "%s", ccz_error_detail());
    }
    if (a.json) {
        json_t *o = ccz_eventlog_to_json(l, alg);
        if (!o) {
            ccz_eventlog_free(l);
            return cli_fail(CCZ_ERR_NOMEM, "eventlog");
        }
        if (s)
            json_object_set_new(
                o, "error",
                json_pack("{s:s,s:s}", "code", ccz_status_name(s), "message", ccz_error_detail()));
        char *text = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        if (text)
            puts(text);
        free(text);
        json_decref(o);
    } else {
        print_text(l, alg);
    }
    ccz_eventlog_free(l);
    if (s) {
        fprintf(stderr, "ccz: eventlog: %s: %s\n", ccz_status_name(s), ccz_error_detail());
        return cli_exit_code(s, true);
    }
    return EXIT_OK;
}
