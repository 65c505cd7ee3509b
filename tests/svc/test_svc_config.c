/* SPDX-License-Identifier: Apache-2.0 */
/* The services' configuration (include/ccz/svc.h, src/svc/config.c): the embedded defaults, a
 * JSON file (keys spelled with '-' or '_'), then flags, which win; every wrong value, unknown
 * key and malformed file refused with an error that names it, and the configuration unchanged
 * by what was refused. */
#include <limits.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/ssl.h>

#include "ccz/ratls.h"
#include "ccz/sim.h"

#include "ccz/ccz.h"
#include "ccz/svc.h"
#include "rng_fail.h"
#include "svc/svc.h"
#include "test.h"

static const char *write_file(const char *name, const char *text)
{
    static char path[4][512];
    static int k;
    char *p = path[k++ % 4];
    snprintf(p, 512, "%s/%s", test_tmpdir(), name);
    FILE *f = fopen(p, "w");
    CHECK(f != NULL);
    fputs(text, f);
    fclose(f);
    return p;
}

/* The effective value of an option, as compact JSON. */
static const char *value(const ccz_svc_config *c, const char *name)
{
    static char out[512];
    json_t *all = (json_t *)ccz_svc_config_to_json(c);
    CHECK(all != NULL);
    char *text = json_dumps(json_object_get(all, name), JSON_COMPACT | JSON_ENCODE_ANY);
    snprintf(out, sizeof out, "%s", text ? text : "(absent)");
    free(text);
    json_decref(all);
    return out;
}

static void defaults(void)
{
    ccz_svc_config *c = NULL;
    CHECK_OK(ccz_svc_config_new(&c, "attestation"));
    CHECK_STR(value(c, "listen"), "\"127.0.0.1:8443\"");
    CHECK_STR(value(c, "max-body"), "1048576");
    CHECK_STR(value(c, "token-ttl"), "300");
    CHECK_STR(value(c, "data-dir"), "null");
    CHECK_STR(value(c, "sim-root"), "[]");
    ccz_svc_config_free(c);
    CHECK_OK(ccz_svc_config_new(&c, "kms"));
    CHECK_STR(value(c, "pkcs1-decrypt"), "false");
    CHECK_STR(value(c, "rate"), "5000");
    CHECK_STR(value(c, "token-ttl"), "(absent)"); /* the attestation service's, not the KMS's */
    ccz_svc_config_free(c);

    /* the table help prints: the common options first, then the service's */
    const ccz_svc_option *o;
    size_t n;
    CHECK_OK(ccz_svc_options(&o, &n, "kms"));
    CHECK(n > 3);
    CHECK_STR(o[0].name, "listen");
    bool has_rate = false;
    for (size_t i = 0; i < n; i++)
        has_rate |= strcmp(o[i].name, "rate") == 0;
    CHECK(has_rate);
    CHECK_STR(o[n - 1].name, svc_kms.opts[svc_kms.n_opts - 1].name); /* all of them */

    CHECK_STATUS(ccz_svc_config_new(&c, "nope"), CCZ_ERR_NOT_FOUND);
    CHECK_CONTAINS(ccz_error_detail(), "no service named 'nope' (there are: attestation, kms)");
    CHECK_STATUS(ccz_svc_options(&o, &n, NULL), CCZ_ERR_NOT_FOUND);
}

/* Flag values: numbers from 0 to UINT_MAX, booleans, and an unknown option named. */
static void flags(void)
{
    ccz_svc_config *c = NULL;
    CHECK_OK(ccz_svc_config_new(&c, "kms"));
    CHECK_OK(ccz_svc_config_set(c, "rate", "0"));
    CHECK_STR(value(c, "rate"), "0");
    CHECK_OK(ccz_svc_config_set(c, "rate", "4294967295"));
    CHECK_STR(value(c, "rate"), "4294967295");
    static const char *const bad_numbers[] = {
        "4294967296", "-1", "12abc", "", " 7", "0x10", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad_numbers / sizeof *bad_numbers; i++) {
        CHECK_STATUS(ccz_svc_config_set(c, "rate", bad_numbers[i]), CCZ_ERR_INVALID_ARGUMENT);
        CHECK_CONTAINS(ccz_error_detail(), "--rate");
        CHECK_STR(value(c, "rate"), "4294967295"); /* unchanged */
    }
    CHECK_STATUS(ccz_svc_config_set(c, "rate", NULL), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "--rate needs a number");

    CHECK_OK(ccz_svc_config_set(c, "pkcs1-decrypt", NULL)); /* a bare flag */
    CHECK_STR(value(c, "pkcs1-decrypt"), "true");
    CHECK_OK(ccz_svc_config_set(c, "pkcs1_decrypt", "0")); /* '_' for '-' */
    CHECK_STR(value(c, "pkcs1-decrypt"), "false");
    CHECK_OK(ccz_svc_config_set(c, "pkcs1-decrypt", "1"));
    CHECK_STR(value(c, "pkcs1-decrypt"), "true");
    CHECK_STATUS(ccz_svc_config_set(c, "pkcs1-decrypt", "yes"), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "--pkcs1-decrypt: 'yes' is not true or false");
    CHECK_STR(value(c, "pkcs1-decrypt"), "true");

    CHECK_STATUS(ccz_svc_config_set(c, "listen", NULL), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "--listen needs a value (ADDR)");
    CHECK_STATUS(ccz_svc_config_set(c, "token-ttl", "5"), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "the kms service has no option --token-ttl");
    ccz_svc_config_free(c);
}

/* A file's values over the defaults; flags afterwards over the file; a list flag replaces the
 * file's list, and a second one adds to it. */
static void file_then_flags(void)
{
    ccz_svc_config *c = NULL;
    CHECK_OK(ccz_svc_config_new(&c, "attestation"));
    const char *f = write_file("good.json", "{\"listen\": \"127.0.0.1:9000\", \"max_body\": 4096,"
                                            " \"token-ttl\": 60, \"data-dir\": null,"
                                            " \"sim_root\": [\"a.pem\", \"b.pem\"]}");
    CHECK_OK(ccz_svc_config_load_file(c, f));
    CHECK_STR(value(c, "listen"), "\"127.0.0.1:9000\"");
    CHECK_STR(value(c, "max-body"), "4096");
    CHECK_STR(value(c, "token-ttl"), "60");
    CHECK_STR(value(c, "nonce-ttl"), "300"); /* not in the file: the default */
    CHECK_STR(value(c, "sim-root"), "[\"a.pem\",\"b.pem\"]");
    CHECK_OK(ccz_svc_config_set(c, "token-ttl", "90"));
    CHECK_OK(ccz_svc_config_set(c, "sim-root", "c.pem"));
    CHECK_STR(value(c, "sim-root"), "[\"c.pem\"]");
    CHECK_OK(ccz_svc_config_set(c, "sim-root", "d.pem"));
    CHECK_STR(value(c, "sim-root"), "[\"c.pem\",\"d.pem\"]");
    CHECK_STR(value(c, "token-ttl"), "90");
    CHECK_STR(value(c, "listen"), "\"127.0.0.1:9000\"");
    /* what flags set stays the flags' when a file comes after: a list, a number, a string
     * (the file's null too) */
    CHECK_OK(ccz_svc_config_set(c, "data-dir", "/var/lib/ccz"));
    CHECK_OK(ccz_svc_config_load_file(c, f));
    CHECK_STR(value(c, "sim-root"), "[\"c.pem\",\"d.pem\"]");
    CHECK_STR(value(c, "token-ttl"), "90");
    CHECK_STR(value(c, "data-dir"), "\"/var/lib/ccz\"");
    CHECK_STR(value(c, "listen"), "\"127.0.0.1:9000\""); /* no flag: the file's again */
    ccz_svc_config_free(c);
}

/* Each wrong file is refused with the file, the key and what it must be. */
static void bad_files(void)
{
    static const struct {
        const char *text, *error;
    } cases[] = {
        {"{\"listen\": 8443}", "\"listen\" must be a string"},
        {"{\"max-body\": -1}", "\"max-body\" must be a number from 0 to 4294967295"},
        {"{\"max-body\": 4294967296}", "\"max-body\" must be a number from 0 to 4294967295"},
        {"{\"max-body\": \"1024\"}", "\"max-body\" must be a number from 0 to 4294967295"},
        {"{\"max-body\": 1.5}", "\"max-body\" must be a number from 0 to 4294967295"},
        {"{\"sim-root\": \"a.pem\"}", "\"sim-root\" must be an array of strings"},
        {"{\"sim-root\": [\"a.pem\", 3]}", "\"sim-root\" must be an array of strings"},
        {"{\"no-such\": 1}", "the attestation service has no option \"no-such\""},
        {"{\"listen\": \"a\", \"listen\": \"b\"}", "duplicate object key"},
        {"{\"data-dir\": \"/a\", \"data_dir\": \"/b\"}", "\"data-dir\" is given twice"},
        {"{\"listen\": \"127.0.0.1:1\", \"no-such\": 1}", "no option \"no-such\""},
        {"[1, 2]", "the configuration must be a JSON object"},
        {"{\"listen\": ", "line 1"},
    };
    ccz_svc_config *c = NULL;
    CHECK_OK(ccz_svc_config_new(&c, "attestation"));
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *f = write_file("bad.json", cases[i].text);
        ccz_status s = ccz_svc_config_load_file(c, f);
        CHECK(s == CCZ_ERR_INVALID_ARGUMENT || s == CCZ_ERR_JSON);
        CHECK_CONTAINS(ccz_error_detail(), f);
        CHECK_CONTAINS(ccz_error_detail(), cases[i].error);
        if (!strstr(ccz_error_detail(), cases[i].error))
            fprintf(stderr, "  for %s\n", cases[i].text);
    }
    CHECK_STR(value(c, "listen"), "\"127.0.0.1:8443\"");
    CHECK_STR(value(c, "max-body"), "1048576");
    CHECK_STR(value(c, "sim-root"), "[]");
    CHECK_STATUS(ccz_svc_config_load_file(c, "/nonexistent/ccz.json"), CCZ_ERR_NOT_FOUND);
    CHECK_CONTAINS(ccz_error_detail(), "/nonexistent/ccz.json");
    ccz_svc_config_free(c);
}

/* A malformed file names the line and jansson's reason, never the text it stopped at: jansson
 * quotes up to 20 bytes of that token ("unexpected newline near '\"postgres://k:Xy7-pw'"), and a
 * configuration holds secrets (--db's password). */
static void bad_file_quotes_no_value(void)
{
    static const char *const docs[] = {
        "{\"db\": \"postgres://k:Xy7-pw\n\"}", /* a newline in the string */
        "{\"db\": \"postgres://k:Xy7-pw",      /* cut short */
        "{\"db\": postgres://k:Xy7-pw}",       /* not quoted */
    };
    ccz_svc_config *c = NULL;
    CHECK_OK(ccz_svc_config_new(&c, "kms"));
    for (size_t i = 0; i < sizeof docs / sizeof *docs; i++) {
        const char *f = write_file("quoted.json", docs[i]);
        CHECK_STATUS(ccz_svc_config_load_file(c, f), CCZ_ERR_JSON);
        CHECK_CONTAINS(ccz_error_detail(), f);
        CHECK_CONTAINS(ccz_error_detail(), "line 1");
        CHECK(strstr(ccz_error_detail(), "Xy7") == NULL);
        if (strstr(ccz_error_detail(), "Xy7"))
            fprintf(stderr, "  the error quotes the value: %s\n", ccz_error_detail());
    }
    CHECK_STR(value(c, "db"), "null");
    ccz_svc_config_free(c);
}

/* An empty --data-dir is refused as empty, not as a path "too long", and nothing is started. */
static void empty_data_dir(void)
{
    ccz_svc_config *c = NULL;
    CHECK_OK(ccz_svc_config_new(&c, "attestation"));
    CHECK_OK(ccz_svc_config_set(c, "data-dir", ""));
    ccz_svc *s = (ccz_svc *)1;
    CHECK_STATUS(ccz_svc_start(&s, c, false), CCZ_ERR_INVALID_ARGUMENT);
    CHECK(s == NULL);
    CHECK_CONTAINS(ccz_error_detail(), "--data-dir is empty");
    CHECK(strstr(ccz_error_detail(), "too long") == NULL);
    ccz_svc_config_free(c);
}

/* The admin token: made at first start (64 hex digits and a newline, mode 0600), accepted only
 * as "Bearer TOKEN" exactly; an operator's file may end in CR LF or tabs; a short one refused. */
static void admin_token(void)
{
    svc_common sc = {0};
    snprintf(sc.data_dir, sizeof sc.data_dir, "%s", test_tmpdir());
    char path[4200];
    snprintf(path, sizeof path, "%s/admin-token", sc.data_dir);
    remove(path);
    uint8_t hash[32], again[32];
    CHECK_OK(svc_admin_token_load(hash, &sc));
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    char tok[80] = "";
    if (f) {
        CHECK(fgets(tok, sizeof tok, f) != NULL);
        fclose(f);
    }
    CHECK_INT(strlen(tok), 65);
    CHECK(tok[64] == '\n');
    tok[64] = 0;
    struct stat st;
    CHECK_INT(stat(path, &st), 0);
    CHECK_INT(st.st_mode & 0777, 0600);
    CHECK_OK(svc_admin_token_load(again, &sc)); /* kept, not made again */
    CHECK(memcmp(hash, again, 32) == 0);
    char header[100];
    snprintf(header, sizeof header, "Bearer %s", tok);
    CHECK(svc_admin_token_ok(hash, header));
    header[0] = 'b';
    CHECK(svc_admin_token_ok(hash, header)); /* the scheme's name is case-insensitive */
    CHECK(!svc_admin_token_ok(hash, tok));
    CHECK(!svc_admin_token_ok(hash, NULL));
    snprintf(header, sizeof header, "Bearer %.63s", tok);
    CHECK(!svc_admin_token_ok(hash, header));
    snprintf(header, sizeof header, "Basic  %s", tok);
    CHECK(!svc_admin_token_ok(hash, header));
    /* an operator's token, written with CR LF and a trailing tab */
    write_file("admin-token", "operator-chosen-token-1\t\r\n");
    CHECK_OK(svc_admin_token_load(hash, &sc));
    CHECK(svc_admin_token_ok(hash, "Bearer operator-chosen-token-1"));
    /* 15 bytes after trimming: refused */
    write_file("admin-token", "0123456789abcde \n");
    CHECK_STATUS(svc_admin_token_load(hash, &sc), CCZ_ERR_KEY_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "admin-token: the admin token is shorter than 16 bytes");
    write_file("admin-token", "0123456789abcdef\n");
    CHECK_OK(svc_admin_token_load(hash, &sc));
    CHECK(svc_admin_token_ok(hash, "Bearer 0123456789abcdef"));
    remove(path);
}

/* The admin token's randomness failing: refused as such, and no (empty) token file kept. */
static void admin_token_no_randomness(void)
{
    svc_common sc = {0};
    snprintf(sc.data_dir, sizeof sc.data_dir, "%s", test_tmpdir());
    char path[4200];
    snprintf(path, sizeof path, "%s/admin-token", sc.data_dir);
    remove(path);
    uint8_t hash[32];
    rng_fail_start();
    ccz_status st = svc_admin_token_load(hash, &sc);
    rng_fail_stop();
    CHECK_STATUS(st, CCZ_ERR_CRYPTO);
    CHECK_CONTAINS(ccz_error_detail(), "no randomness");
    CHECK(!ccz_file_exists(path));
}

/* An option is named whole: a prefix of one ("max" of max-body) is no option, as a flag or a
 * file's key. */
static void names_whole(void)
{
    ccz_svc_config *c = NULL;
    CHECK_OK(ccz_svc_config_new(&c, "attestation"));
    CHECK_STATUS(ccz_svc_config_set(c, "max", "5"), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "the attestation service has no option --max");
    CHECK_STATUS(ccz_svc_config_load_file(c, write_file("prefix.json", "{\"lis\": \"x\"}")),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "the attestation service has no option \"lis\"");
    CHECK_STR(value(c, "listen"), "\"127.0.0.1:8443\"");
    CHECK_STR(value(c, "max-body"), "1048576");
    ccz_svc_config_free(c);
}

static int made;

static ccz_status make_ours(ccz_buf *out, void *payload)
{
    (void)payload;
    made++;
    return ccz_buf_append(out, "ours", 4);
}

/* Another process keeps its file at path while this one makes its own. */
static ccz_status make_raced(ccz_buf *out, void *payload)
{
    made++;
    CHECK_OK(ccz_file_write((const char *)payload, CCZ_LIT("theirs"), 0600));
    return ccz_buf_append(out, "ours", 4);
}

static void check_buf(const ccz_buf *b, const char *want)
{
    CHECK_INT(b->len, strlen(want));
    CHECK(b->len == strlen(want) && memcmp(b->ptr, want, b->len) == 0);
}

/* A file of the data directory: made once and kept; read, not made, when it is there; one that
 * another process kept meanwhile is the one taken; one that cannot be kept is refused, named. */
static void load_or_make(void)
{
    char path[600], lost[700];
    snprintf(path, sizeof path, "%s/kept-file", test_tmpdir());
    remove(path);
    ccz_buf b = CCZ_BUF_INIT;
    made = 0;
    CHECK_OK(svc_load_or_make(&b, path, make_ours, NULL));
    check_buf(&b, "ours");
    CHECK_INT(made, 1);
    ccz_buf_reset(&b);
    CHECK_OK(svc_load_or_make(&b, path, make_ours, NULL)); /* there: read, not made */
    check_buf(&b, "ours");
    CHECK_INT(made, 1);
    remove(path);
    ccz_buf_reset(&b);
    CHECK_OK(svc_load_or_make(&b, path, make_raced, path)); /* theirs kept, ours dropped */
    check_buf(&b, "theirs");
    CHECK_INT(made, 2);
    snprintf(lost, sizeof lost, "%s/no-such-dir/kept-file", test_tmpdir());
    ccz_buf_reset(&b);
    CHECK_STATUS(svc_load_or_make(&b, lost, make_ours, NULL), CCZ_ERR_IO);
    CHECK_CONTAINS(ccz_error_detail(), "cannot keep ");
    CHECK_CONTAINS(ccz_error_detail(), "no-such-dir/kept-file");
    ccz_buf_free(&b);
    remove(path);
}

/* An attestation service on a port of its own, its data in dir (NULL: the default's). */
static ccz_svc_config *service_config(const char *dir)
{
    ccz_svc_config *c = NULL;
    CHECK_OK(ccz_svc_config_new(&c, "attestation"));
    CHECK_OK(ccz_svc_config_set(c, "listen", "127.0.0.1:0"));
    if (dir)
        CHECK_OK(ccz_svc_config_set(c, "data-dir", dir));
    return c;
}

/* Starts, checks the listener's certificate was made in want_dir, stops. */
static void starts_in(const char *want_dir)
{
    ccz_svc_config *c = service_config(NULL);
    ccz_svc *s = NULL;
    CHECK_OK(ccz_svc_start(&s, c, false));
    char cert[4200];
    snprintf(cert, sizeof cert, "%s/tls-cert.pem", want_dir);
    CHECK(ccz_file_exists(cert));
    ccz_svc_free(s);
    ccz_svc_config_free(c);
}

static void put_env(const char *name, const char *value)
{
    if (value)
        setenv(name, value, 1);
    else
        unsetenv(name);
}

/* Without --data-dir: $CCZ_DATA_DIR, else $XDG_DATA_HOME/ccz/SERVICE, else
 * $HOME/.local/share/ccz/SERVICE (an empty variable counts as unset), else refused. */
static void data_dir_default(void)
{
    const char *names[] = {"CCZ_DATA_DIR", "XDG_DATA_HOME", "HOME"};
    char *saved[3];
    for (int i = 0; i < 3; i++)
        saved[i] = getenv(names[i]) ? strdup(getenv(names[i])) : NULL;
    char env[600], xdg[600], home[600], want[700];
    snprintf(env, sizeof env, "%s/envdir", test_tmpdir());
    snprintf(xdg, sizeof xdg, "%s/xdg", test_tmpdir());
    snprintf(home, sizeof home, "%s/home", test_tmpdir());

    put_env("CCZ_DATA_DIR", NULL);
    put_env("XDG_DATA_HOME", xdg);
    put_env("HOME", home);
    snprintf(want, sizeof want, "%s/ccz/attestation", xdg);
    starts_in(want);
    put_env("XDG_DATA_HOME", "");
    snprintf(want, sizeof want, "%s/.local/share/ccz/attestation", home);
    starts_in(want);
    put_env("CCZ_DATA_DIR", env);
    put_env("XDG_DATA_HOME", xdg);
    starts_in(env);
    put_env("CCZ_DATA_DIR", "");
    put_env("XDG_DATA_HOME", NULL);
    put_env("HOME", NULL);
    ccz_svc_config *c = service_config(NULL);
    ccz_svc *s = (ccz_svc *)1;
    CHECK_STATUS(ccz_svc_start(&s, c, false), CCZ_ERR_INVALID_ARGUMENT);
    CHECK(s == NULL);
    CHECK_CONTAINS(ccz_error_detail(), "no data directory: give --data-dir");
    ccz_svc_config_free(c);
    for (int i = 0; i < 3; i++) {
        put_env(names[i], saved[i]);
        free(saved[i]);
    }
}

/* ccz_svc_start refuses c with want and a detail containing text; nothing is left started. */
static void start_refused(ccz_svc_config *c, ccz_status want, const char *text)
{
    ccz_svc *s = (ccz_svc *)1;
    CHECK_STATUS(ccz_svc_start(&s, c, false), want);
    CHECK(s == NULL);
    CHECK_CONTAINS(ccz_error_detail(), text);
    ccz_svc_config_free(c);
}

/* What a service starts from, each wrong in turn: refused with an error that names it. */
static void start_files_refused(void)
{
    char dir[600], sub[5000];
    snprintf(dir, sizeof dir, "%s/svc-files", test_tmpdir());
    CHECK_OK(ccz_mkdir_p(dir, 0700));
    ccz_svc_config *c;
    /* a --data-dir longer than a path may be (in short components, each one creatable) */
    size_t n = (size_t)snprintf(sub, sizeof sub, "%s", dir);
    while (n < 4200)
        n += (size_t)snprintf(sub + n, sizeof sub - n, "/d");
    start_refused(service_config(sub), CCZ_ERR_TOO_LARGE, "the data directory's path is too long");
    /* a policy that is not JSON, not an object, not a policy */
    const char *bad_json = write_file("bad-json-policy.json", "{\"tees\": ");
    c = service_config(dir);
    CHECK_OK(ccz_svc_config_set(c, "policy", bad_json));
    start_refused(c, CCZ_ERR_POLICY, "bad-json-policy.json: not a JSON object");
    const char *array = write_file("array-policy.json", "[1, 2]");
    c = service_config(dir);
    CHECK_OK(ccz_svc_config_set(c, "policy", array));
    start_refused(c, CCZ_ERR_POLICY, "array-policy.json: not a JSON object");
    const char *wrong = write_file("wrong-policy.json", "{\"tees\": [\"nope\"]}");
    c = service_config(dir);
    CHECK_OK(ccz_svc_config_set(c, "policy", wrong));
    start_refused(c, CCZ_ERR_POLICY, "wrong-policy.json: policy: tees: unknown TEE nope");
    /* collateral that is not there */
    c = service_config(dir);
    CHECK_OK(ccz_svc_config_set(c, "collateral", "/nonexistent/collateral.json"));
    start_refused(c, CCZ_ERR_NOT_FOUND, "--collateral /nonexistent/collateral.json");
    /* an operator's certificate that is not one */
    const char *cert = write_file("not-a-cert.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n");
    const char *key = write_file("not-a-key.pem", "not a key\n");
    c = service_config(dir);
    CHECK_OK(ccz_svc_config_set(c, "tls-cert", cert));
    CHECK_OK(ccz_svc_config_set(c, "tls-key", key));
    start_refused(c, CCZ_ERR_CERT_MALFORMED, "not-a-cert.pem");
    /* the listener's key in the data directory, damaged: refused, not replaced */
    char kpath[700];
    snprintf(kpath, sizeof kpath, "%s/tls-key.pem", dir);
    CHECK_OK(ccz_file_write(kpath, CCZ_LIT("-----BEGIN PRIVATE KEY-----\nAAAA\n"), 0600));
    start_refused(service_config(dir), CCZ_ERR_KEY_MALFORMED, "tls-key.pem: not a PEM private key");
}

/* The operator's key that is not one, and the listener's kept certificate damaged: each
 * refused, named. */
static void tls_files_refused(void)
{
    char dir[600], cert[700], key[700];
    snprintf(dir, sizeof dir, "%s/svc-tls", test_tmpdir());
    ccz_svc_config *c = service_config(dir);
    ccz_svc *s = NULL;
    CHECK_OK(ccz_svc_start(&s, c, false)); /* makes tls-cert.pem and tls-key.pem */
    ccz_svc_free(s);
    ccz_svc_config_free(c);
    snprintf(cert, sizeof cert, "%s/tls-cert.pem", dir);
    snprintf(key, sizeof key, "%s/tls-key.pem", dir);
    c = service_config(dir);
    CHECK_OK(ccz_svc_config_set(c, "tls-cert", cert));
    CHECK_OK(ccz_svc_config_set(c, "tls-key", write_file("no-key.pem", "not a key\n")));
    start_refused(c, CCZ_ERR_KEY_MALFORMED, "no-key.pem: not a PEM private key");
    CHECK_OK(ccz_file_write(cert, CCZ_LIT("-----BEGIN CERTIFICATE-----\nAAAA\n"), 0600));
    start_refused(service_config(dir), CCZ_ERR_CERT_MALFORMED, "svc-tls/tls-cert.pem");
}

/* A policy file may carry a section for a service beside the appraisal policy ("secrets"): it
 * is taken out before the policy is parsed, which knows no such key. */
static void policy_with_sections(void)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s/svc-sections", test_tmpdir());
    const char *f =
        write_file("sections-policy.json", "{\"tees\": [\"sim\"], \"secrets\": {\"x\": [1]}}");
    ccz_svc_config *c = service_config(dir);
    CHECK_OK(ccz_svc_config_set(c, "policy", f));
    ccz_svc *s = NULL;
    CHECK_OK(ccz_svc_start(&s, c, false));
    ccz_svc_free(s);
    ccz_svc_config_free(c);
    /* the section's name is no key of the policy itself */
    f = write_file("sections-policy.json", "{\"tees\": [\"sim\"], \"secret\": {}}");
    c = service_config(dir);
    CHECK_OK(ccz_svc_config_set(c, "policy", f));
    start_refused(c, CCZ_ERR_POLICY, "sections-policy.json: policy: ");
}

/* The certificate the server at port presents (not verified: the test inspects it). */
static X509 *peer_cert(int port)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = ctx ? SSL_new(ctx) : NULL;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    X509 *x = NULL;
    if (ssl && connect(fd, (struct sockaddr *)&a, sizeof a) == 0 && SSL_set_fd(ssl, fd) == 1 &&
        SSL_connect(ssl) == 1)
        x = SSL_get1_peer_certificate(ssl);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
    return x;
}

/* --tee: a TEE it does not know refused, named; with one, the listener presents an RA-TLS
 * certificate of its evidence, and makes no ordinary certificate. */
static void own_tee(void)
{
    char dir[600], plat[600], cert[700];
    snprintf(dir, sizeof dir, "%s/svc-tee", test_tmpdir());
    snprintf(plat, sizeof plat, "%s/svc-tee-plat", test_tmpdir());
    CHECK_OK(ccz_sim_platform_init(plat, false));
    ccz_svc_config *c = service_config(dir);
    CHECK_OK(ccz_svc_config_set(c, "tee", "sgz"));
    start_refused(c, CCZ_ERR_INVALID_ARGUMENT, "--tee: unknown TEE 'sgz'");
    c = service_config(dir);
    CHECK_OK(ccz_svc_config_set(c, "tee", "sim"));
    CHECK_OK(ccz_svc_config_set(c, "sim-dir", plat));
    ccz_svc *s = NULL;
    CHECK_OK(ccz_svc_start(&s, c, false));
    snprintf(cert, sizeof cert, "%s/tls-cert.pem", dir);
    CHECK(!ccz_file_exists(cert));
    X509 *x = s ? peer_cert(ccz_svc_port(s)) : NULL;
    CHECK(x != NULL);
    ccz_ratls_info info;
    memset(&info, 0, sizeof info);
    CHECK_OK(x ? ccz_ratls_inspect(&info, x) : CCZ_ERR_INVALID_ARGUMENT);
    CHECK(info.binding_ok);
    ccz_ratls_info_free(&info);
    X509_free(x);
    ccz_svc_free(s);
    ccz_svc_config_free(c);
}

/* After ccz_svc_free the service's port takes no connection: its listener is closed. */
static void freed_service_closes(void)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s/svc-closes", test_tmpdir());
    ccz_svc_config *c = service_config(dir);
    ccz_svc *s = NULL;
    CHECK_OK(ccz_svc_start(&s, c, false));
    int port = ccz_svc_port(s);
    CHECK(port > 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_INT(connect(fd, (struct sockaddr *)&a, sizeof a), 0); /* running: it listens */
    close(fd);
    ccz_svc_free(s);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(connect(fd, (struct sockaddr *)&a, sizeof a) != 0);
    close(fd);
    ccz_svc_config_free(c);
}

/* A TLS connection to 127.0.0.1:port (any certificate), reads time out after 5 s; NULL if it
 * could not be made. */
static SSL *tls_open(SSL_CTX *ctx, int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return NULL;
    }
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) != 1) {
        SSL_free(ssl);
        close(fd);
        return NULL;
    }
    return ssl;
}

/* Whether the server closed the connection before the read timed out. */
static bool tls_closed(SSL *ssl)
{
    char b[256];
    int k = SSL_read(ssl, b, sizeof b);
    return k <= 0 && SSL_get_error(ssl, k) == SSL_ERROR_ZERO_RETURN;
}

static void tls_close(SSL *ssl)
{
    if (!ssl)
        return;
    int fd = SSL_get_fd(ssl);
    SSL_free(ssl);
    close(fd);
}

/* The connection options reach the HTTP server: an idle connection is closed at
 * idle-timeout-ms, and at max-per-peer an idle one makes room for the next (both long before
 * the defaults of 60 s and 64 would). */
static void connection_options_applied(void)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s/svc-conns", test_tmpdir());
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    ccz_svc_config *c = service_config(dir);
    CHECK_OK(ccz_svc_config_set(c, "idle-timeout-ms", "300"));
    ccz_svc *s = NULL;
    CHECK_OK(ccz_svc_start(&s, c, false));
    SSL *a = tls_open(ctx, ccz_svc_port(s));
    CHECK(a != NULL);
    CHECK(a && tls_closed(a)); /* within 5 s */
    tls_close(a);
    ccz_svc_free(s);
    ccz_svc_config_free(c);

    c = service_config(dir);
    CHECK_OK(ccz_svc_config_set(c, "max-per-peer", "1"));
    CHECK_OK(ccz_svc_start(&s, c, false));
    a = tls_open(ctx, ccz_svc_port(s));
    CHECK(a != NULL);
    SSL *b = tls_open(ctx, ccz_svc_port(s));
    CHECK(b != NULL);
    CHECK(a && tls_closed(a)); /* shed for b, not kept for the idle deadline of 60 s */
    tls_close(a);
    tls_close(b);
    ccz_svc_free(s);
    ccz_svc_config_free(c);
    SSL_CTX_free(ctx);
}

/* The edges of what a file and a flag may hold: UINT_MAX itself taken from a file, a boolean
 * option's value refused unless true or false, an empty number named as missing, and a file
 * over the 1 MiB cap refused before it is parsed. */
static void value_edges(void)
{
    ccz_svc_config *c = NULL;
    CHECK_OK(ccz_svc_config_new(&c, "kms"));
    CHECK_OK(ccz_svc_config_load_file(c, write_file("max.json", "{\"rate\": 4294967295}")));
    CHECK_STR(value(c, "rate"), "4294967295");
    static const char *const bad_bools[] = {
        "{\"pkcs1-decrypt\": 1}", "{\"pkcs1-decrypt\": \"yes\"}", "{\"pkcs1-decrypt\": null}"};
    for (size_t i = 0; i < sizeof bad_bools / sizeof *bad_bools; i++) {
        CHECK_STATUS(ccz_svc_config_load_file(c, write_file("bool.json", bad_bools[i])),
                     CCZ_ERR_INVALID_ARGUMENT);
        CHECK_CONTAINS(ccz_error_detail(), "\"pkcs1-decrypt\" must be true or false");
    }
    CHECK_STR(value(c, "pkcs1-decrypt"), "false");
    /* either boolean taken from a file, false too (not only true) */
    CHECK_OK(ccz_svc_config_load_file(c, write_file("bool.json", "{\"pkcs1-decrypt\": true}")));
    CHECK_STR(value(c, "pkcs1-decrypt"), "true");
    CHECK_OK(ccz_svc_config_load_file(c, write_file("bool.json", "{\"pkcs1_decrypt\": false}")));
    CHECK_STR(value(c, "pkcs1-decrypt"), "false");
    CHECK_STATUS(ccz_svc_config_set(c, "rate", ""), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "--rate needs a number");

    /* a file of 1 MiB and one byte: refused as too large, whatever it holds */
    size_t big = (1u << 20) + 1;
    char *text = malloc(big + 1);
    CHECK(text != NULL);
    memset(text, ' ', big);
    memcpy(text, "{\"rate\": 7}", 11);
    text[big] = 0;
    const char *f = write_file("big.json", text);
    free(text);
    CHECK_STATUS(ccz_svc_config_load_file(c, f), CCZ_ERR_TOO_LARGE);
    CHECK_STR(value(c, "rate"), "4294967295");
    ccz_svc_config_free(c);
}

TEST_MAIN(T(defaults), T(flags), T(file_then_flags), T(bad_files), T(bad_file_quotes_no_value),
          T(value_edges), T(empty_data_dir), T(admin_token), T(admin_token_no_randomness),
          T(data_dir_default), T(start_files_refused), T(freed_service_closes), T(names_whole),
          T(load_or_make), T(tls_files_refused), T(own_tee), T(policy_with_sections),
          T(connection_options_applied))
