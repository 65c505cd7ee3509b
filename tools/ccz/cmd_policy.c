/* SPDX-License-Identifier: Apache-2.0 */
/* ccz policy: validate a policy document and show what it accepts, normalised to ccz's format. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

static const char policy_usage[] =
    "usage: ccz policy check FILE [--json]\n"
    "\n"
    "Validates a ccz policy or a CCZoo dynamic_config.json and prints what it accepts, with\n"
    "every default written out. Exit code 0 when valid, 2 when not (the message names the\n"
    "key that is wrong).\n";

static int check(int argc, char **argv);

static const cli_command policy_cmds[] = {
    {"check", check, NULL, CLI_FRAG_JSON | CLI_FRAG_HELP},
};
static const cli_group policy_group = CLI_GROUP("policy", policy_usage, policy_cmds,
                                                "policy command", NULL, "no policy command given");

int cmd_policy(int argc, char **argv)
{
    return cli_dispatch(&policy_group, argc, argv);
}

/* The TEEs norm (a normalised policy) accepts with any measurement although it constrains
 * others: a policy with an sgx list alone still accepts every TDX, SNP, CSV and CCA peer
 * unless "tees" leaves them out. Writes their names to out, ", " between; false if none. */
static bool unconstrained_tees(const json_t *norm, char *out, size_t cap)
{
    static const struct {
        const char *tee, *list;
    } lists[] = {{"sim", "sgx"}, {"sgx", "sgx"},         {"tdx", "tdx"}, {"az-tdx-vtpm", "tdx"},
                 {"snp", "snp"}, {"az-snp-vtpm", "snp"}, {"csv", "csv"}, {"cca", "cca"}};
    bool any_list = false;
    for (size_t i = 0; i < CCZ_ARRAY_LEN(lists); i++)
        any_list |= json_object_get(norm, lists[i].list) != NULL;
    out[0] = '\0';
    if (!any_list)
        return false; /* no measurement is pinned at all: that is plain to see */
    size_t k;
    json_t *t;
    json_array_foreach (json_object_get(norm, "tees"), k, t)
        for (size_t i = 0; i < CCZ_ARRAY_LEN(lists); i++)
            if (json_is_string(t) && strcmp(json_string_value(t), lists[i].tee) == 0 &&
                !json_object_get(norm, lists[i].list) &&
                (strcmp(lists[i].tee, "sim") != 0 ||
                 json_is_true(json_object_get(norm, "allow_sim"))))
                snprintf(out + strlen(out), cap - strlen(out), "%s%s", out[0] ? ", " : "",
                         lists[i].tee);
    return out[0] != '\0';
}

static int check(int argc, char **argv)
{
    cli_args a = {0};
    int r = cli_parse(&a, argc, argv, &policy_group, cli_command_opts(&policy_group, argv[0]));
    if (r)
        return r < 0 ? EXIT_OK : r;
    if (argc - optind > 1)
        return cli_usage_error("policy", "give exactly one policy file");
    const char *file = optind < argc ? argv[optind] : NULL;
    bool json = a.json;
    if (!file)
        return cli_usage_error("policy", "no policy file given");
    ccz_policy *p;
    ccz_status s = ccz_policy_load_file(&p, file);
    if (s && json) { /* {"valid": false, ...} rather than the generic error object */
        json_t *o = json_pack("{s:b,s:n,s:{s:s,s:s}}", "valid", 0, "format", "error", "code",
                              ccz_status_name(s), "message", ccz_error_detail());
        char *text = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        puts(text ? text : "{\"valid\": false}");
        free(text);
        json_decref(o);
        fprintf(stderr, "ccz: policy check: %s\n", ccz_error_detail());
        return EXIT_USAGE;
    }
    if (s)
        return cli_fail(s, "policy check");
    const char *format = ccz_policy_get_format(p) == CCZ_POLICY_FORMAT_DYNAMIC_CONFIG
                             ? "cczoo-dynamic-config"
                             : "ccz";
    json_t *norm = ccz_policy_to_json(p);
    ccz_policy_free(p);
    if (!norm)
        return cli_fail(CCZ_ERR_NOMEM, "policy check");
    char open_tees[128], note[256] = "";
    if (unconstrained_tees(norm, open_tees, sizeof open_tees))
        snprintf(note, sizeof note,
                 "%s evidence is accepted with any measurement: no list of this policy "
                 "constrains it (list the TEEs to accept in \"tees\")",
                 open_tees);
    if (note[0])
        fprintf(stderr, "ccz: policy check: note: %s\n", note);
    if (json) {
        json_t *o =
            json_pack("{s:b,s:s,s:o,s:[]}", "valid", 1, "format", format, "policy", norm, "notes");
        if (o && note[0])
            json_array_append_new(json_object_get(o, "notes"), json_string(note));
        char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        puts(text ? text : "{}");
        free(text);
        json_decref(o);
    } else {
        char *text = json_dumps(norm, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("%s: valid %s policy; what it accepts, normalised:\n%s\n", file,
               strcmp(format, "ccz") ? "CCZoo dynamic_config" : "ccz", text ? text : "");
        free(text);
        json_decref(norm);
    }
    return EXIT_OK;
}
