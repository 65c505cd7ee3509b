/* SPDX-License-Identifier: Apache-2.0 */
/* ccz SERVICE serve: the services' one command line. Every option of a service (ccz_svc_options)
 * is a flag and a key of the --config file; the file is read first, so flags win. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccz/ccz.h"
#include "cli.h"

static void serve_help(FILE *f, const char *service, const char *intro)
{
    const ccz_svc_option *o;
    size_t n;
    if (ccz_svc_options(&o, &n, service) != CCZ_OK)
        return;
    fprintf(f, "usage: ccz %s serve [--config FILE] [options]\n\n%s\n", service, intro);
    fprintf(f, "options:\n"
               "  --config FILE        read options from a JSON object\n");
    for (size_t i = 0; i < n; i++) {
        char head[64], text[512];
        snprintf(head, sizeof head, "--%s%s%s", o[i].name, o[i].type == CCZ_SVC_BOOL ? "" : " ",
                 o[i].type == CCZ_SVC_BOOL ? "" : o[i].arg);
        snprintf(text, sizeof text, "%s%s%s%s%s", o[i].help,
                 o[i].type == CCZ_SVC_LIST ? " (repeatable)" : "", o[i].dflt ? " (default " : "",
                 o[i].dflt ? o[i].dflt : "", o[i].dflt ? ")" : "");
        /* the option, then its help wrapped at 96 columns from column 23 */
        int col = fprintf(f, "  %-20s", head);
        if (col > 22) {
            fputc('\n', f);
            col = 0;
        }
        const char *p = text;
        while (*p) {
            size_t room = 96 - 23, len = strlen(p);
            if (len > room) {
                len = room;
                while (len > 0 && p[len] != ' ')
                    len--;
                if (len == 0)
                    len = room;
            }
            fprintf(f, "%*s%.*s\n", col ? 1 : 23, "", (int)len, p);
            col = 0;
            p += len;
            while (*p == ' ')
                p++;
        }
    }
}

/* a known flag given without "=" whose value is the next argument */
static bool takes_value(const ccz_svc_option *opts, size_t n, const char *arg)
{
    if (strncmp(arg, "--", 2) != 0 || strchr(arg, '='))
        return false;
    for (size_t k = 0; k < n; k++)
        if (!strcmp(opts[k].name, arg + 2))
            return opts[k].type != CCZ_SVC_BOOL;
    return false;
}

int cli_svc_serve(const char *service, const char *intro, int argc, char **argv)
{
    ccz_svc_config *c = NULL;
    ccz_svc *s = NULL;
    int r = EXIT_OK;
    ccz_status st = ccz_svc_config_new(&c, service);
    if (st)
        return cli_fail(st, "%s serve", service);
    const ccz_svc_option *opts;
    size_t n;
    if ((st = ccz_svc_options(&opts, &n, service)) != CCZ_OK) {
        r = cli_fail(st, "%s serve", service);
        goto out;
    }
    /* the file first, so that flags win; a flag's value ("--admin-token --help") is a value */
    for (int i = 1; i < argc; i++) {
        if (takes_value(opts, n, argv[i])) {
            i++;
            continue;
        }
        if (cli_is_help(argv[i])) {
            serve_help(stdout, service, intro);
            goto out;
        }
        if (!strcmp(argv[i], "--config") || !strncmp(argv[i], "--config=", 9)) {
            const char *file = argv[i][8] == '=' ? argv[i] + 9 : i + 1 < argc ? argv[++i] : NULL;
            if (!file) {
                r = cli_usage_error(service, "--config needs a FILE");
                goto out;
            }
            if ((st = ccz_svc_config_load_file(c, file)) != CCZ_OK) {
                r = cli_fail(st, "--config");
                goto out;
            }
        }
    }
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "--config")) {
            i++;
            continue;
        }
        if (!strncmp(arg, "--config=", 9))
            continue;
        if (strncmp(arg, "--", 2) != 0) {
            r = cli_usage_error(service, "unexpected argument '%s'", arg);
            goto out;
        }
        char name[64];
        const char *eq = strchr(arg, '='), *value = eq ? eq + 1 : NULL;
        snprintf(name, sizeof name, "%.*s", (int)(eq ? (size_t)(eq - arg - 2) : strlen(arg + 2)),
                 arg + 2);
        const ccz_svc_option *o = NULL;
        for (size_t k = 0; k < n && !o; k++)
            if (!strcmp(opts[k].name, name))
                o = &opts[k];
        if (!o) {
            r = cli_usage_error(service, "unknown option '--%s' for '%s serve'", name, service);
            goto out;
        }
        if (!value && o->type != CCZ_SVC_BOOL) {
            if (i + 1 >= argc) {
                r = cli_usage_error(service, "--%s needs a value (%s)", name, o->arg);
                goto out;
            }
            value = argv[++i];
        }
        if ((st = ccz_svc_config_set(c, name, value)) != CCZ_OK) {
            r = cli_usage_error(service, "%s", ccz_error_detail());
            goto out;
        }
    }
    if (!getenv("CCZ_LOG"))
        ccz_log_set_level(CCZ_LOG_INFO); /* the access log (never secrets) */
    signal(SIGPIPE, SIG_IGN);
    if ((st = ccz_svc_start(&s, c, true)) != CCZ_OK) {
        r = cli_fail(st, "%s serve", service);
        goto out;
    }
    fprintf(stderr, "ccz %s: serving on port %d (SIGTERM drains)\n", service, ccz_svc_port(s));
    st = ccz_svc_wait(s);
    r = st ? cli_fail(st, "%s serve", service) : EXIT_OK;
    fprintf(stderr, "ccz %s: stopped\n", service);
out:
    ccz_svc_free(s);
    ccz_svc_config_free(c);
    return r;
}
