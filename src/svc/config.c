/* SPDX-License-Identifier: Apache-2.0 */
/* Service configuration: one table of named options per service (the common ones first), read
 * from embedded defaults, then a JSON file, then flags. A key of the file may be spelled with
 * '-' or '_' ("data-dir", "data_dir"). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/guard.h"
#include "svc/svc.h"

static const ccz_svc_option common_opts[] = {
    {"listen", CCZ_SVC_STRING, "127.0.0.1:8443", "ADDR",
     "where to listen (HOST:PORT; port 0 picks one)"},
    {"data-dir", CCZ_SVC_STRING, NULL, "DIR",
     "state, keys and tokens (default $CCZ_DATA_DIR, else $XDG_DATA_HOME/ccz/SERVICE, else "
     "~/.local/share/ccz/SERVICE)"},
    {"tee", CCZ_SVC_STRING, NULL, "TEE",
     "this service's own TEE (sim, sgx, tdx, snp): its listener presents an RA-TLS certificate"},
    {"sim-dir", CCZ_SVC_STRING, NULL, "DIR", "the sim platform directory (default: ccz's own)"},
    {"tls-cert", CCZ_SVC_STRING, NULL, "FILE",
     "an ordinary TLS certificate (PEM) for the listener instead of RA-TLS or a generated one"},
    {"tls-key", CCZ_SVC_STRING, NULL, "FILE", "the key of --tls-cert (PEM)"},
    {"policy", CCZ_SVC_STRING, NULL, "FILE",
     "the appraisal policy (ccz format or CCZoo dynamic_config.json; default: the default "
     "policy)"},
    {"sim-root", CCZ_SVC_LIST, NULL, "CERT",
     "trust this sim platform root (default: the root of --sim-dir, when it exists)"},
    {"root-ca", CCZ_SVC_STRING, NULL, "FILE",
     "trust this Intel root CA instead of the built-in one"},
    {"collateral", CCZ_SVC_STRING, NULL, "FILE",
     "Intel collateral for SGX/TDX quotes (as 'ccz collateral fetch' writes it)"},
    {"max-body", CCZ_SVC_UINT, "1048576", "BYTES", "the largest request body"},
    {"max-connections", CCZ_SVC_UINT, "1024", "N", "connections at once"},
    {"max-per-peer", CCZ_SVC_UINT, "64", "N", "connections at once from one address"},
    {"handshake-timeout-ms", CCZ_SVC_UINT, "10000", "MS", "TLS handshake deadline"},
    {"request-timeout-ms", CCZ_SVC_UINT, "30000", "MS", "deadline for a whole request"},
    {"idle-timeout-ms", CCZ_SVC_UINT, "60000", "MS", "keep-alive between requests"},
    {"drain-ms", CCZ_SVC_UINT, "10000", "MS", "grace for requests in progress at SIGTERM"},
};

static const svc_def *const services[] = {&svc_attestation, &svc_kms};

/* The service named, or NULL with an error that lists the services there are. */
static const svc_def *find_def(const char *service)
{
    for (size_t i = 0; service && i < CCZ_ARRAY_LEN(services); i++)
        if (strcmp(services[i]->name, service) == 0)
            return services[i];
    char names[64] = "";
    size_t at = 0;
    for (size_t i = 0; i < CCZ_ARRAY_LEN(services) && at < sizeof names; i++)
        at += (size_t)snprintf(names + at, sizeof names - at, "%s%s", i ? ", " : "",
                               services[i]->name);
    (void)!ccz_fail(CCZ_ERR_NOT_FOUND, "no service named '%s' (there are: %s)",
                    service ? service : "(null)", names);
    return NULL;
}

/* The common options and the service's, as one table per service (built once). */
#define MAX_OPTIONS 64 /* of one service, the common ones included */

typedef struct {
    ccz_svc_option all[MAX_OPTIONS];
    size_t n;
} option_table;

static option_table tables[CCZ_ARRAY_LEN(services)];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void build_tables(void)
{
    for (size_t i = 0; i < CCZ_ARRAY_LEN(services); i++) {
        option_table *t = &tables[i];
        for (size_t k = 0; k < CCZ_ARRAY_LEN(common_opts) && t->n < CCZ_ARRAY_LEN(t->all); k++)
            t->all[t->n++] = common_opts[k];
        for (size_t k = 0; k < services[i]->n_opts && t->n < CCZ_ARRAY_LEN(t->all); k++)
            t->all[t->n++] = services[i]->opts[k];
    }
}

static const option_table *table_of(const svc_def *d)
{
    pthread_once(&tables_once, build_tables);
    for (size_t i = 0; i < CCZ_ARRAY_LEN(services); i++)
        if (services[i] == d)
            return &tables[i];
    return NULL;
}

ccz_status ccz_svc_options(const ccz_svc_option **out, size_t *n, const char *service)
{
    const svc_def *d = find_def(service);
    if (!d)
        return CCZ_ERR_NOT_FOUND;
    const option_table *t = table_of(d);
    *out = t->all;
    *n = t->n;
    return CCZ_OK;
}

static const ccz_svc_option *find_opt(const ccz_svc_config *c, const char *name, char *canon,
                                      size_t cap)
{
    snprintf(canon, cap, "%s", name);
    for (char *p = canon; *p; p++)
        if (*p == '_')
            *p = '-';
    const option_table *t = table_of(c->def);
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->all[i].name, canon) == 0)
            return &t->all[i];
    return NULL;
}

static ccz_status parse_value(json_t **out, const ccz_svc_option *o, const char *text)
{
    *out = NULL;
    switch (o->type) {
    case CCZ_SVC_STRING:
    case CCZ_SVC_LIST:
        CCZ_ENSURE(text, CCZ_ERR_INVALID_ARGUMENT, "--%s needs a value (%s)", o->name, o->arg);
        *out = json_string(text);
        break;
    case CCZ_SVC_UINT: {
        CCZ_ENSURE(text && *text, CCZ_ERR_INVALID_ARGUMENT, "--%s needs a number", o->name);
        char *end;
        errno = 0;
        unsigned long long v = strtoull(text, &end, 10);
        CCZ_ENSURE(!*end && !errno && text[0] >= '0' && text[0] <= '9' && v <= UINT_MAX,
                   CCZ_ERR_INVALID_ARGUMENT, "--%s: '%s' is not a number from 0 to %u", o->name,
                   text, UINT_MAX);
        *out = json_integer((json_int_t)v);
        break;
    }
    case CCZ_SVC_BOOL:
        if (!text || strcmp(text, "true") == 0 || strcmp(text, "1") == 0)
            *out = json_true();
        else if (strcmp(text, "false") == 0 || strcmp(text, "0") == 0)
            *out = json_false();
        else
            return ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "--%s: '%s' is not true or false", o->name,
                            text);
        break;
    }
    CCZ_ENSURE(*out, CCZ_ERR_NOMEM, "out of memory");
    return CCZ_OK;
}

ccz_status ccz_svc_config_new(ccz_svc_config **out, const char *service)
{
    *out = NULL;
    const svc_def *d = find_def(service);
    if (!d)
        return CCZ_ERR_NOT_FOUND;
    ccz_svc_config *c = calloc(1, sizeof *c);
    CCZ_ENSURE(c, CCZ_ERR_NOMEM, "out of memory");
    c->def = d;
    c->values = json_object();
    c->from_flags = json_object();
    if (!c->values || !c->from_flags) {
        ccz_svc_config_free(c);
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    }
    const option_table *t = table_of(d);
    for (size_t i = 0; i < t->n; i++) {
        const ccz_svc_option *o = &t->all[i];
        json_t *v = NULL;
        ccz_status st = CCZ_OK;
        if (o->type == CCZ_SVC_LIST)
            v = json_array();
        else if (o->dflt)
            st = parse_value(&v, o, o->dflt);
        else
            v = json_null();
        if (st != CCZ_OK || !v || json_object_set_new(c->values, o->name, v) != 0) {
            ccz_svc_config_free(c);
            return st ? st : ccz_fail(CCZ_ERR_NOMEM, "out of memory");
        }
    }
    *out = c;
    return CCZ_OK;
}

void ccz_svc_config_free(ccz_svc_config *c)
{
    if (!c)
        return;
    json_decref(c->values);
    json_decref(c->from_flags);
    free(c);
}

static ccz_status set_json(ccz_svc_config *c, const ccz_svc_option *o, json_t *v, bool from_flag)
{
    if (o->type == CCZ_SVC_LIST) {
        json_t *list = json_object_get(c->values, o->name);
        if (from_flag && !json_object_get(c->from_flags, o->name)) {
            json_array_clear(list); /* the first flag replaces the file's list */
            CCZ_ENSURE(json_object_set_new(c->from_flags, o->name, json_true()) == 0, CCZ_ERR_NOMEM,
                       "out of memory");
        }
        CCZ_ENSURE(json_array_append_new(list, v) == 0, CCZ_ERR_NOMEM, "out of memory");
        return CCZ_OK;
    }
    CCZ_ENSURE(json_object_set_new(c->values, o->name, v) == 0, CCZ_ERR_NOMEM, "out of memory");
    if (from_flag)
        CCZ_ENSURE(json_object_set_new(c->from_flags, o->name, json_true()) == 0, CCZ_ERR_NOMEM,
                   "out of memory");
    return CCZ_OK;
}

ccz_status ccz_svc_config_set(ccz_svc_config *c, const char *name, const char *value)
{
    char canon[64];
    const ccz_svc_option *o = find_opt(c, name, canon, sizeof canon);
    CCZ_ENSURE(o, CCZ_ERR_INVALID_ARGUMENT, "the %s service has no option --%s", c->def->name,
               name);
    json_t *v;
    CCZ_GUARD(parse_value(&v, o, value));
    return set_json(c, o, v, true);
}

ccz_status ccz_svc_config_load_file(ccz_svc_config *c, const char *path)
{
    ccz_buf text; /* wiped: a file may hold --db's URI with its password */
    ccz_buf_init(&text, 0, true);
    ccz_status s = ccz_file_read(&text, path, 1 << 20);
    if (s == CCZ_OK)
        s = svc_config_load_text(c, path, (const char *)text.ptr, text.len);
    ccz_buf_free(&text); /* also what a file too large left */
    return s;
}

ccz_status svc_config_load_text(ccz_svc_config *c, const char *path, const char *text, size_t len)
{
    json_error_t err;
    json_t *doc = json_loadb(text ? text : "", len, JSON_REJECT_DUPLICATES, &err); /* "" for NULL */
    CCZ_ENSURE(doc, CCZ_ERR_JSON, "%s: line %d: %s", path, err.line,
               ccz_json_error_unquoted(err.text));
    ccz_status st = CCZ_OK;
    if (!json_is_object(doc)) {
        st = ccz_fail(CCZ_ERR_JSON, "%s: the configuration must be a JSON object", path);
        goto out;
    }
    /* every key checked before any is taken: a file refused changes nothing */
    const char *key;
    json_t *v;
    const ccz_svc_option *seen[MAX_OPTIONS]; /* each key's option, in the file's order */
    size_t n_seen = 0;
    json_object_foreach (doc, key, v) {
        char canon[64];
        const ccz_svc_option *o = find_opt(c, key, canon, sizeof canon);
        if (!o) {
            st = ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "%s: the %s service has no option \"%s\"", path,
                          c->def->name, key);
            goto out;
        }
        for (size_t i = 0; i < n_seen; i++)
            if (seen[i] == o) {
                st = ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "%s: \"%s\" is given twice", path, o->name);
                goto out;
            }
        seen[n_seen++] = o; /* no option twice: at most MAX_OPTIONS */
        bool ok = o->type == CCZ_SVC_STRING ? json_is_string(v) || json_is_null(v)
                  : o->type == CCZ_SVC_UINT ? json_is_integer(v) && json_integer_value(v) >= 0 &&
                                                  json_integer_value(v) <= UINT_MAX
                  : o->type == CCZ_SVC_BOOL ? json_is_boolean(v)
                                            : json_is_array(v);
        for (size_t i = 0; ok && o->type == CCZ_SVC_LIST && i < json_array_size(v); i++)
            ok = json_is_string(json_array_get(v, i));
        if (!ok) {
            static const char *const want[] = {"a string", "a number from 0 to 4294967295",
                                               "true or false", "an array of strings"};
            st = ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "%s: \"%s\" must be %s", path, key,
                          want[o->type]);
            goto out;
        }
    }
    size_t k = 0;
    json_object_foreach (doc, key, v) {
        const ccz_svc_option *o = seen[k++];
        /* flags (set before or after) win: only options no flag has set take the file's value */
        if (json_object_get(c->from_flags, o->name))
            continue;
        if (json_object_set_new(c->values, o->name,
                                o->type == CCZ_SVC_LIST ? json_deep_copy(v) : json_incref(v))) {
            st = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
            goto out;
        }
    }
out:
    json_decref(doc);
    return st;
}

ccz_json *ccz_svc_config_to_json(const ccz_svc_config *c)
{
    return json_deep_copy(c->values);
}

const char *svc_str(const ccz_svc_config *c, const char *name)
{
    return json_string_value(json_object_get(c->values, name));
}

unsigned svc_uint(const ccz_svc_config *c, const char *name)
{
    return (unsigned)json_integer_value(json_object_get(c->values, name));
}

bool svc_bool(const ccz_svc_config *c, const char *name)
{
    return json_is_true(json_object_get(c->values, name));
}

size_t svc_list_len(const ccz_svc_config *c, const char *name)
{
    return json_array_size(json_object_get(c->values, name));
}

const char *svc_list_at(const ccz_svc_config *c, const char *name, size_t i)
{
    return json_string_value(json_array_get(json_object_get(c->values, name), i));
}
