/* SPDX-License-Identifier: Apache-2.0 */
/* libccz_secret_preload.so: Gramine's secret-provisioning constructor for any program, loaded
 * with LD_PRELOAD (or linked). When SECRET_PROVISION_CONSTRUCTOR is 1/true/TRUE it fetches the
 * secret before main() runs, from the first server of SECRET_PROVISION_SERVERS that provides
 * it, and puts it in SECRET_PROVISION_SECRET_STRING, in Gramine's key file
 * /dev/attestation/keys/NAME (SECRET_PROVISION_SET_KEY), or in the file CCZ_SECRET_KEY_FILE
 * names. Any failure ends the process with status 1 and a message on standard error. The
 * server's bytes are untrusted; the secret is wiped after use. See docs/services.md. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/guard.h"
#include "ccz/ccz.h"

#define PREFIX "ccz secret provisioning: "

static bool truthy(const char *s)
{
    return s && (!strcmp(s, "1") || !strcmp(s, "true") || !strcmp(s, "TRUE"));
}

typedef struct {
    ccz_attester *attester;
    ccz_trust *trust;
    ccz_policy *policy;
    SSL_CTX *ctx;
    ccz_buf dir;
} client;

static void client_free(client *c)
{
    SSL_CTX_free(c->ctx);
    ccz_policy_free(c->policy);
    ccz_trust_free(c->trust);
    ccz_attester_free(c->attester);
    ccz_buf_free(&c->dir);
}

/* Our RA-TLS identity (CCZ_SECRET_TEE, default sgx as in Gramine; sim uses CCZ_SIM_DIR), and
 * how we verify the server: Gramine's CA chain, or ccz's appraisal of its RA-TLS certificate
 * under CCZ_SECRET_POLICY. */
static ccz_status client_new(client *c)
{
    const char *tee = getenv("CCZ_SECRET_TEE");
    const char *ca = getenv("SECRET_PROVISION_CA_CHAIN_PATH");
    const char *policy = getenv("CCZ_SECRET_POLICY");
    ccz_attester_opts ao = CCZ_ATTESTER_OPTS_INIT;
    CCZ_GUARD(ccz_tee_parse(&ao.tee, tee && tee[0] ? tee : "sgx"));
    ccz_buf_init(&c->dir, 0, false);
    ccz_status ds = ccz_sim_default_dir(&c->dir); /* the sim platform: needed for sim only */
    if (ao.tee == CCZ_TEE_SIM) {
        CCZ_GUARD(ds);
        ao.sim.dir = (const char *)c->dir.ptr;
    }
    CCZ_GUARD(ccz_attester_new(&c->attester, &ao));
    CCZ_ENSURE((ca && ca[0]) || (policy && policy[0]), CCZ_ERR_INVALID_ARGUMENT,
               "set SECRET_PROVISION_CA_CHAIN_PATH (the CA chain of the server's certificate) "
               "or CCZ_SECRET_POLICY (a policy for the server's RA-TLS certificate)");
    ccz_ratls_opts o = CCZ_RATLS_OPTS_INIT;
    o.attester = c->attester;
    if (ca && ca[0]) {
        o.mode = CCZ_RATLS_CLIENT; /* present our certificate; the CA chain verifies theirs */
        CCZ_GUARD(ccz_ratls_ctx_new(&c->ctx, &o));
        return ccz_secret_ctx_use_ca_file(c->ctx, ca);
    }
    CCZ_GUARD(ccz_trust_new(&c->trust));
    CCZ_GUARD(ccz_trust_add_builtin(c->trust));
    ccz_buf root = CCZ_BUF_INIT;
    if (ds == CCZ_OK && ccz_buf_append(&root, c->dir.ptr, c->dir.len) == CCZ_OK &&
        ccz_buf_append_str(&root, "/root.crt") == CCZ_OK && ccz_file_exists((char *)root.ptr) &&
        ccz_trust_add_sim_root_file(c->trust, (const char *)root.ptr) != CCZ_OK)
        ccz_log(CCZ_LOG_WARN, PREFIX "cannot read the sim root %s", (const char *)root.ptr);
    ccz_buf_free(&root);
    CCZ_GUARD(ccz_policy_load_file(&c->policy, policy));
    o.mode = CCZ_RATLS_TWO_WAY;
    o.trust = c->trust;
    o.policy = c->policy;
    return ccz_ratls_ctx_new(&c->ctx, &o);
}

/* The first server of the list (",", ";" or blanks between) that provides the secret. */
static ccz_status fetch(ccz_buf *secret, SSL_CTX *ctx)
{
    const char *list = getenv("SECRET_PROVISION_SERVERS");
    char *servers = strdup(list && list[0] ? list : CCZ_SECRET_DEFAULT_SERVERS);
    CCZ_ENSURE(servers, CCZ_ERR_NOMEM, "out of memory");
    ccz_status s = ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "SECRET_PROVISION_SERVERS names no server");
    char *save = NULL;
    for (char *t = strtok_r(servers, ",; \t", &save); t; t = strtok_r(NULL, ",; \t", &save)) {
        s = ccz_secret_get(secret, ctx, t, CCZ_RATLS_TIMEOUT_MS);
        if (s == CCZ_OK)
            break;
        s = ccz_fail_context(s, "%s", t);
        ccz_log(CCZ_LOG_INFO, PREFIX "%s", ccz_error_detail());
    }
    free(servers);
    return s;
}

static ccz_status write_key(ccz_span key, const char *path, bool create)
{
    if (create)
        return ccz_file_write(path, key, 0600);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    CCZ_ENSURE(fd >= 0, CCZ_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    size_t done = 0;
    while (done < key.len) {
        ssize_t w = write(fd, key.ptr + done, key.len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            return ccz_fail(CCZ_ERR_IO, "cannot write %s: %s", path, w < 0 ? strerror(e) : "");
        }
        done += (size_t)w;
    }
    CCZ_ENSURE(close(fd) == 0, CCZ_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    return CCZ_OK;
}

/* Gramine's rules: a key must be 16 bytes; a string must end in its NUL and fit PATH_MAX. */
static ccz_status deliver(const ccz_buf *secret)
{
    const char *key = getenv("SECRET_PROVISION_SET_KEY");
    const char *file = getenv("CCZ_SECRET_KEY_FILE");
    CCZ_ENSURE(secret->len > 0, CCZ_ERR_PROTOCOL, "the server sent an empty secret");
    if (key && key[0]) {
        CCZ_ENSURE(secret->len == 16, CCZ_ERR_PROTOCOL,
                   "the secret is %zu bytes; a key for "
                   "SECRET_PROVISION_SET_KEY must be 16",
                   secret->len);
        if (file && file[0])
            return write_key(ccz_buf_span(secret), file, true);
        char path[256];
        int n = snprintf(path, sizeof path, "/dev/attestation/keys/%s", key);
        CCZ_ENSURE(n > 0 && (size_t)n < sizeof path && !strchr(key, '/'), CCZ_ERR_INVALID_ARGUMENT,
                   "SECRET_PROVISION_SET_KEY '%.64s' is not a key "
                   "name",
                   key);
        return write_key(ccz_buf_span(secret), path, false);
    }
    if (file && file[0])
        return write_key(ccz_buf_span(secret), file, true);
    CCZ_ENSURE(secret->ptr[secret->len - 1] == 0 && secret->len <= PATH_MAX &&
                   strlen((const char *)secret->ptr) == secret->len - 1,
               CCZ_ERR_PROTOCOL,
               "the secret is not a NUL-terminated string of at most %d "
               "bytes; set SECRET_PROVISION_SET_KEY or CCZ_SECRET_KEY_FILE for binary secrets",
               PATH_MAX);
    CCZ_ENSURE(setenv("SECRET_PROVISION_SECRET_STRING", (const char *)secret->ptr, 1) == 0,
               CCZ_ERR_NOMEM, "cannot set SECRET_PROVISION_SECRET_STRING");
    return CCZ_OK;
}

__attribute__((constructor)) static void ccz_secret_provision_constructor(void)
{
    if (!truthy(getenv("SECRET_PROVISION_CONSTRUCTOR")))
        return;
    /* children started later (exec) must not provision again, nor see a stale secret */
    unsetenv("SECRET_PROVISION_CONSTRUCTOR");
    unsetenv("SECRET_PROVISION_SECRET_STRING");
    const char *lvl = getenv("CCZ_LOG");
    ccz_log_level level;
    if (lvl && lvl[0] && ccz_log_level_parse(&level, lvl) == CCZ_OK)
        ccz_log_set_level(level);
    client c = {0};
    ccz_buf secret;
    ccz_buf_init(&secret, CCZ_SECRET_MAX_BYTES, true);
    ccz_status s = client_new(&c);
    if (s == CCZ_OK)
        s = fetch(&secret, c.ctx);
    if (s == CCZ_OK)
        s = deliver(&secret);
    ccz_buf_free(&secret); /* wiped */
    client_free(&c);
    if (s) {
        fprintf(stderr, PREFIX "%s: %s; terminating the process\n", ccz_status_name(s),
                ccz_error_detail());
        exit(1);
    }
}
