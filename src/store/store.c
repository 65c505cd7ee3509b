/* SPDX-License-Identifier: Apache-2.0 */
/* The store's front: argument checks, the handle's lock, transactions and their nesting, the
 * numbered migrations, and the clock. The backend (sqlite.c, postgres.c) only talks to the database. The
 * SQL and migrations come from ccz's own code; values reach the database only as parameters. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/guard.h"
#include "store/internal.h"

struct store {
    const store_backend *ops;
    void *impl;
    char *path;
    pthread_mutex_t mu; /* recursive: row callbacks and tx functions call back in */
    int depth;          /* open store_tx levels, read and written with mu held */
    store_clock_fn clock;
    void *clock_payload;
};

/* The components whose schema versions store_schema records. */
#define OWN_COMPONENT "store"
#define SERVICE_COMPONENT "service"

static void lock(store *s)
{
    pthread_mutex_lock(&s->mu);
}

static void unlock(store *s)
{
    pthread_mutex_unlock(&s->mu);
}

/* ---- rows ------------------------------------------------------------------------------------*/

int store_row_columns(const store_row *r)
{
    return r->columns;
}

static bool in_range(const store_row *r, int col)
{
    return col >= 0 && col < r->columns;
}

store_type store_row_type(const store_row *r, int col)
{
    return in_range(r, col) ? r->ops->col_type(r->impl, col) : STORE_TYPE_NULL;
}

int64_t store_row_int(const store_row *r, int col)
{
    return in_range(r, col) ? r->ops->col_int(r->impl, col) : 0;
}

const char *store_row_text(const store_row *r, int col)
{
    return in_range(r, col) ? r->ops->col_text(r->impl, col) : NULL;
}

ccz_span store_row_blob(const store_row *r, int col)
{
    return in_range(r, col) ? r->ops->col_blob(r->impl, col) : CCZ_SPAN(NULL, 0);
}

/* ---- statements and transactions -------------------------------------------------------------*/

/* A statement inside a transaction the database has already ended (after an I/O error, say)
 * would run on its own and commit at once: refuse it instead. */
static ccz_status check_tx_ended(store *s)
{
    return ccz_fail(CCZ_ERR_IO,
                    "store %s: the transaction was rolled back by an earlier error; "
                    "its remaining statements are not run",
                    s->path);
}

static ccz_status check_tx(store *s)
{
    return s->depth > 0 && !s->ops->in_tx(s->impl) ? check_tx_ended(s) : CCZ_OK;
}

ccz_status store_exec(store *s, int64_t *changes, const char *sql, const store_value *params,
                      size_t n_params, store_row_fn on_row, void *payload)
{
    CCZ_ENSURE(s && sql && (params || n_params == 0), CCZ_ERR_INVALID_ARGUMENT,
               "store_exec: NULL argument");
    lock(s);
    ccz_status st = check_tx(s);
    if (st == CCZ_OK)
        st = s->ops->exec(s->impl, changes, sql, params, n_params, on_row, payload);
    unlock(s);
    return st;
}

/* Ends a transaction level: commit (or release) when r is CCZ_OK and that works, else undo. The
 * status returned is r, or the commit's failure; r's detail survives the rollback. */
static ccz_status tx_end(store *s, bool outer, ccz_status r)
{
    if (r == CCZ_OK && !s->ops->in_tx(s->impl))
        return check_tx_ended(s); /* fn went on past a failure that ended it */
    if (r == CCZ_OK) {
        r = s->ops->tx(s->impl, outer ? STORE_TX_COMMIT : STORE_TX_RELEASE);
        if (r == CCZ_OK)
            return CCZ_OK;
    }
    if (!s->ops->in_tx(s->impl))
        return r; /* the database ended it already */
    char detail[1024];
    snprintf(detail, sizeof detail, "%s", ccz_error_detail());
    if (s->ops->tx(s->impl, outer ? STORE_TX_ROLLBACK : STORE_TX_ROLLBACK_TO) != CCZ_OK)
        ccz_log(CCZ_LOG_ERROR, "store %s: rollback failed: %s", s->path, ccz_error_detail());
    return ccz_fail(r, "%s", detail);
}

ccz_status store_tx(store *s, store_tx_fn fn, void *payload)
{
    CCZ_ENSURE(s && fn, CCZ_ERR_INVALID_ARGUMENT, "store_tx: NULL argument");
    lock(s);
    bool outer = s->depth == 0;
    ccz_status r = check_tx(s);
    if (r == CCZ_OK)
        r = s->ops->tx(s->impl, outer ? STORE_TX_BEGIN : STORE_TX_SAVEPOINT);
    if (r == CCZ_OK) {
        s->depth++;
        r = fn(s, payload);
        s->depth--;
        r = tx_end(s, outer, r);
    }
    unlock(s);
    return r;
}

/* ---- migrations ------------------------------------------------------------------------------*/

static ccz_status schema_lock(store *s)
{
    return s->ops->schema_lock ? s->ops->schema_lock(s->impl) : CCZ_OK;
}

/* The table of schema versions, made in a transaction of its own after the schema lock: two
 * replicas starting at once on a new PostgreSQL database would otherwise both create it. */
static ccz_status create_schema_table(store *s, void *payload)
{
    (void)payload;
    CCZ_GUARD(schema_lock(s));
    return s->ops->script(s->impl, "CREATE TABLE IF NOT EXISTS store_schema ("
                                   " component TEXT PRIMARY KEY NOT NULL,"
                                   " version INTEGER NOT NULL)");
}

static ccz_status read_int(const store_row *r, void *payload)
{
    *(int64_t *)payload = store_row_int(r, 0);
    return CCZ_OK;
}

static ccz_status schema_version(store *s, const char *component, int64_t *out)
{
    *out = 0;
    return s->ops->exec(s->impl, NULL, "SELECT version FROM store_schema WHERE component = ?",
                        STORE_PARAMS(STORE_TEXT(component)), read_int, out);
}

typedef struct {
    const char *component;
    const store_migration *m;
    size_t n;
    bool done;
} migration_step;

/* One step, inside its transaction: reads the version again (another process may have migrated
 * meanwhile) and applies the next migration, if any. */
static ccz_status migrate_one(store *s, void *payload)
{
    migration_step *ms = payload;
    int64_t v;
    CCZ_GUARD(schema_lock(s));
    CCZ_GUARD(schema_version(s, ms->component, &v));
    if (v < 0 || (uint64_t)v > ms->n)
        return ccz_fail(CCZ_ERR_UNSUPPORTED_VERSION,
                        "store %s: the %s schema is at version %lld, newer than the %zu this ccz "
                        "knows; refusing to use it (run a newer ccz, or restore a backup)",
                        s->path, ms->component, (long long)v, ms->n);
    if ((uint64_t)v == ms->n) {
        ms->done = true;
        return CCZ_OK;
    }
    const store_migration *m = &ms->m[v];
    ccz_status st = s->ops->script(s->impl, s->ops->migration_sql(m));
    if (st != CCZ_OK)
        return ccz_fail_context(st, "store %s: %s migration %lld", s->path, ms->component,
                                (long long)m->version);
    CCZ_GUARD(s->ops->exec(s->impl, NULL,
                           "INSERT INTO store_schema (component, version) VALUES (?, ?) "
                           "ON CONFLICT (component) DO UPDATE SET version = excluded.version",
                           STORE_PARAMS(STORE_TEXT(ms->component), STORE_INT(m->version)), NULL,
                           NULL));
    ccz_log(CCZ_LOG_INFO, "store %s: %s schema migrated to version %lld", s->path, ms->component,
            (long long)m->version);
    return CCZ_OK;
}

static ccz_status migrate(store *s, const char *component, const store_migration *m, size_t n)
{
    migration_step ms = {component, m, n, false};
    while (!ms.done)
        CCZ_GUARD(store_tx(s, migrate_one, &ms));
    return CCZ_OK;
}

static ccz_status check_migrations(const store_migration *m, size_t n)
{
    CCZ_ENSURE(m || n == 0, CCZ_ERR_INVALID_ARGUMENT, "store_open: NULL migrations");
    for (size_t i = 0; i < n; i++)
        CCZ_ENSURE(m[i].version == (int64_t)i + 1 && m[i].sql, CCZ_ERR_INVALID_ARGUMENT,
                   "store_open: migration %zu must have version %zu and SQL", i, i + 1);
    return CCZ_OK;
}

/* ---- open and close --------------------------------------------------------------------------*/

ccz_status store_open(store **out, const char *path, const store_migration *migrations,
                      size_t n_migrations)
{
    CCZ_ENSURE(out && path && *path, CCZ_ERR_INVALID_ARGUMENT, "store_open: no path");
    *out = NULL;
    CCZ_GUARD(check_migrations(migrations, n_migrations));
    bool pg = store_is_postgres(path);
    store *s = calloc(1, sizeof *s);
    /* a URI's password must not reach a message: s->path is what messages name */
    if (!s || !(s->path = pg ? store_postgres_redact(path) : strdup(path))) {
        free(s);
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    }
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&s->mu, &attr);
    pthread_mutexattr_destroy(&attr);
    s->ops = pg ? &store_postgres_backend : &store_sqlite_backend;
    ccz_status st = s->ops->open(&s->impl, path);
    if (st == CCZ_OK)
        st = store_tx(s, create_schema_table, NULL);
    if (st == CCZ_OK)
        st = migrate(s, OWN_COMPONENT, s->ops->own_migrations, s->ops->n_own_migrations);
    if (st == CCZ_OK)
        st = migrate(s, SERVICE_COMPONENT, migrations, n_migrations);
    if (st != CCZ_OK) {
        if (st == CCZ_ERR_UNSUPPORTED_VERSION)
            ccz_log(CCZ_LOG_ERROR, "%s", ccz_error_detail());
        store_close(s);
        return st;
    }
    *out = s;
    return CCZ_OK;
}

void store_close(store *s)
{
    if (!s)
        return;
    if (s->impl)
        s->ops->close(s->impl);
    pthread_mutex_destroy(&s->mu);
    free(s->path);
    free(s);
}

ccz_status store_schema_version(store *s, int64_t *out)
{
    CCZ_ENSURE(s && out, CCZ_ERR_INVALID_ARGUMENT, "store_schema_version: NULL argument");
    lock(s);
    ccz_status st = check_tx(s);
    if (st == CCZ_OK)
        st = schema_version(s, SERVICE_COMPONENT, out);
    unlock(s);
    return st;
}

/* ---- the clock -------------------------------------------------------------------------------*/

void store_set_clock(store *s, store_clock_fn now, void *payload)
{
    lock(s);
    s->clock = now;
    s->clock_payload = payload;
    unlock(s);
}

int64_t store_now(store *s)
{
    lock(s);
    int64_t t = s->clock ? s->clock(s->clock_payload) : (int64_t)time(NULL);
    unlock(s);
    return t;
}
