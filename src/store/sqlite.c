/* SPDX-License-Identifier: Apache-2.0 */
/* The SQLite backend of the store: one connection per handle (store.c serialises access to it),
 * WAL with synchronous=FULL so a commit that returned is on disk, a file of mode 0600, and
 * SQLite's hardening switches on. Errors carry SQLite's message, which names tables, columns and
 * constraints but never values (values are always bound parameters). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/guard.h"
#include "store/internal.h"

#define BUSY_TIMEOUT_MS 5000
#define CACHE_SLOTS 16
/* 'cczS' in the database header, so a ccz store is told apart from another program's file. */
#define APPLICATION_ID 0x63637a53

typedef struct {
    char *sql; /* the text it was prepared from, the cache key */
    sqlite3_stmt *st;
    bool in_use; /* a row callback further up is still stepping it */
} cache_slot;

typedef struct {
    sqlite3 *db;
    char *path;
    cache_slot cache[CACHE_SLOTS];
    unsigned victim;
    bool own; /* the store's own transaction statements are being prepared */
} sq;

/* ---- errors ----------------------------------------------------------------------------------*/

static ccz_status map_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_NOMEM:
        return CCZ_ERR_NOMEM;
    case SQLITE_CONSTRAINT:
        return rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY ||
                       rc == SQLITE_CONSTRAINT_ROWID
                   ? CCZ_ERR_EXISTS
                   : CCZ_ERR_INVALID_ARGUMENT;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return CCZ_ERR_UNAVAILABLE;
    case SQLITE_TOOBIG:
        return CCZ_ERR_TOO_LARGE;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return CCZ_ERR_MALFORMED;
    case SQLITE_ERROR:
    case SQLITE_AUTH:
    case SQLITE_RANGE:
    case SQLITE_MISUSE:
    case SQLITE_MISMATCH:
        return CCZ_ERR_INVALID_ARGUMENT;
    default: /* IOERR, FULL, CANTOPEN, READONLY, PERM, PROTOCOL, ... */
        return CCZ_ERR_IO;
    }
}

/* Fails with the mapped status and SQLite's message for what was being done (a constant: the
 * start of the SQL or the step's name). Constraint violations are the caller's outcome to
 * handle, so only the other failures are logged. */
static ccz_status sq_fail(sq *q, int rc, const char *what)
{
    const char *msg = q->db ? sqlite3_errmsg(q->db) : sqlite3_errstr(rc);
    ccz_status s =
        ccz_fail(map_rc(rc), "store %s: %.60s: %s (%s)", q->path, what, msg, sqlite3_errstr(rc));
    if ((rc & 0xff) != SQLITE_CONSTRAINT)
        ccz_log(CCZ_LOG_ERROR, "%s", ccz_error_detail());
    return s;
}

/* ---- statements ------------------------------------------------------------------------------*/

static bool only_blanks(const char *p)
{
    for (; *p; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' && *p != ';')
            return false;
    return true;
}

/* A prepared statement for sql, from the cache when one is free; *slot is -1 when it is not
 * cached (to be finalized after use). */
static ccz_status stmt_get(sq *q, const char *sql, sqlite3_stmt **out, int *slot)
{
    for (int i = 0; i < CACHE_SLOTS; i++) {
        cache_slot *c = &q->cache[i];
        if (c->st && !c->in_use && strcmp(c->sql, sql) == 0) {
            c->in_use = true;
            *out = c->st;
            *slot = i;
            return CCZ_OK;
        }
    }
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    int rc = sqlite3_prepare_v3(q->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, &tail);
    if (rc != SQLITE_OK)
        return sq_fail(q, rc, sql);
    if (!st)
        return ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "store: no SQL statement in \"%.60s\"", sql);
    if (tail && !only_blanks(tail)) {
        sqlite3_finalize(st);
        return ccz_fail(CCZ_ERR_INVALID_ARGUMENT,
                        "store: \"%.60s\" holds more than one statement (one per call)", sql);
    }
    *out = st;
    *slot = -1;
    /* a free slot, else the next one round the ring that no caller is stepping */
    int pick = -1;
    for (int i = 0; i < CACHE_SLOTS && pick < 0; i++)
        if (!q->cache[i].st)
            pick = i;
    for (unsigned k = 0; k < CACHE_SLOTS && pick < 0; k++) {
        unsigned i = (q->victim + k) % CACHE_SLOTS;
        if (!q->cache[i].in_use) {
            pick = (int)i;
            q->victim = (i + 1) % CACHE_SLOTS;
        }
    }
    if (pick < 0)
        return CCZ_OK;
    char *key = strdup(sql);
    if (!key)
        return CCZ_OK; /* uncached is still correct */
    cache_slot *c = &q->cache[pick];
    if (c->st) {
        sqlite3_finalize(c->st);
        free(c->sql);
    }
    *c = (cache_slot){key, st, true};
    *slot = pick;
    return CCZ_OK;
}

static void cache_clear(sq *q)
{
    for (int i = 0; i < CACHE_SLOTS; i++) {
        sqlite3_finalize(q->cache[i].st);
        free(q->cache[i].sql);
        q->cache[i] = (cache_slot){NULL, NULL, false};
    }
}

static void stmt_put(sq *q, sqlite3_stmt *st, int slot)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st); /* drops the pointers to the caller's values */
    if (slot >= 0)
        q->cache[slot].in_use = false;
    else
        sqlite3_finalize(st);
}

static ccz_status bind(sq *q, sqlite3_stmt *st, const store_value *params, size_t n)
{
    int want = sqlite3_bind_parameter_count(st);
    if ((size_t)want != n)
        return ccz_fail(CCZ_ERR_INVALID_ARGUMENT,
                        "store: \"%.60s\" has %d parameters and %zu values were given",
                        sqlite3_sql(st), want, n);
    for (size_t i = 0; i < n; i++) {
        const store_value *v = &params[i];
        int idx = (int)i + 1, rc;
        switch (v->type) {
        case STORE_TYPE_NULL:
            rc = sqlite3_bind_null(st, idx);
            break;
        case STORE_TYPE_INT:
            rc = sqlite3_bind_int64(st, idx, v->i);
            break;
        case STORE_TYPE_TEXT:
            rc = v->ptr ? sqlite3_bind_text64(st, idx, v->ptr, strlen(v->ptr), SQLITE_STATIC,
                                              SQLITE_UTF8)
                        : sqlite3_bind_null(st, idx);
            break;
        case STORE_TYPE_BLOB:
            if (!v->ptr && v->len)
                return ccz_fail(CCZ_ERR_INVALID_ARGUMENT,
                                "store: parameter %d: NULL blob of "
                                "%zu bytes",
                                idx, v->len);
            /* never a NULL pointer: SQLite would bind SQL NULL instead of an empty blob */
            rc = sqlite3_bind_blob64(st, idx, v->ptr ? v->ptr : "", v->len, SQLITE_STATIC);
            break;
        default:
            return ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "store: parameter %d: unknown type %d", idx,
                            (int)v->type);
        }
        if (rc != SQLITE_OK)
            return sq_fail(q, rc, sqlite3_sql(st));
    }
    return CCZ_OK;
}

static ccz_status sq_exec(void *impl, int64_t *changes, const char *sql, const store_value *params,
                          size_t n_params, store_row_fn on_row, void *payload)
{
    sq *q = impl;
    sqlite3_stmt *st = NULL;
    int slot = -1;
    CCZ_GUARD(stmt_get(q, sql, &st, &slot));
    ccz_status s = bind(q, st, params, n_params);
    while (s == CCZ_OK) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE) {
            if (changes)
                *changes = sqlite3_stmt_readonly(st) ? 0 : sqlite3_changes64(q->db);
            break;
        }
        if (rc != SQLITE_ROW) {
            s = sq_fail(q, rc, sql);
            break;
        }
        if (on_row) {
            store_row r = {&store_sqlite_backend, st, sqlite3_column_count(st)};
            s = on_row(&r, payload);
        }
    }
    stmt_put(q, st, slot);
    return s;
}

static ccz_status sq_script(void *impl, const char *sql)
{
    sq *q = impl;
    int rc = sqlite3_exec(q->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? CCZ_OK : sq_fail(q, rc, sql);
}

/* What a statement of the caller's may not do, checked as SQLite compiles it: end or open
 * transactions behind store_tx's back, attach other files, or change a setting (a pragma with a
 * value: journal_mode, synchronous, foreign_keys...) the store's guarantees rest on. Pragmas
 * that only read are fine. */
static int authorize(void *payload, int action, const char *a1, const char *a2, const char *db,
                     const char *trigger)
{
    (void)db, (void)trigger;
    const sq *q = payload;
    static const char *const reading[] = {
        "table_info",       "table_xinfo",       "index_list",      "index_info", "index_xinfo",
        "foreign_key_list", "foreign_key_check", "integrity_check", "quick_check"};
    switch (action) {
    case SQLITE_TRANSACTION:
    case SQLITE_SAVEPOINT:
        return q->own ? SQLITE_OK : SQLITE_DENY;
    case SQLITE_ATTACH:
    case SQLITE_DETACH:
        return SQLITE_DENY;
    case SQLITE_PRAGMA:
        if (!a2)
            return SQLITE_OK;
        for (size_t i = 0; i < CCZ_ARRAY_LEN(reading); i++)
            if (a1 && strcmp(a1, reading[i]) == 0)
                return SQLITE_OK;
        return SQLITE_DENY;
    default:
        return SQLITE_OK;
    }
}

static ccz_status sq_tx(void *impl, store_tx_op op)
{
    static const char *const sql[] = {
        [STORE_TX_BEGIN] = "BEGIN IMMEDIATE",
        [STORE_TX_COMMIT] = "COMMIT",
        [STORE_TX_ROLLBACK] = "ROLLBACK",
        [STORE_TX_SAVEPOINT] = "SAVEPOINT store_tx",
        [STORE_TX_RELEASE] = "RELEASE store_tx",
        [STORE_TX_ROLLBACK_TO] = "ROLLBACK TO store_tx; RELEASE store_tx",
    };
    sq *q = impl;
    q->own = true;
    ccz_status s = sq_script(q, sql[op]);
    q->own = false;
    return s;
}

static bool sq_in_tx(void *impl)
{
    return !sqlite3_get_autocommit(((sq *)impl)->db);
}

/* ---- rows ------------------------------------------------------------------------------------*/

static int sq_columns(void *row)
{
    return sqlite3_column_count(row);
}

static store_type sq_col_type(void *row, int col)
{
    switch (sqlite3_column_type(row, col)) {
    case SQLITE_INTEGER:
    case SQLITE_FLOAT: /* no column of ours is real; read as an integer */
        return STORE_TYPE_INT;
    case SQLITE_TEXT:
        return STORE_TYPE_TEXT;
    case SQLITE_BLOB:
        return STORE_TYPE_BLOB;
    default:
        return STORE_TYPE_NULL;
    }
}

static int64_t sq_col_int(void *row, int col)
{
    return sqlite3_column_int64(row, col);
}

static const char *sq_col_text(void *row, int col)
{
    return (const char *)sqlite3_column_text(row, col);
}

static ccz_span sq_col_blob(void *row, int col)
{
    const void *p = sqlite3_column_blob(row, col); /* before _bytes, as SQLite requires */
    int n = sqlite3_column_bytes(row, col);
    return CCZ_SPAN(p, p && n > 0 ? (size_t)n : 0);
}

/* ---- open and close --------------------------------------------------------------------------*/

/* The parent directory must exist: a store never creates directories (a typo in --data-dir
 * should not silently start an empty service somewhere else). */
static ccz_status check_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!dir)
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    struct stat st;
    ccz_status s = CCZ_OK;
    if (stat(dir, &st) != 0)
        s = ccz_fail(errno == ENOENT ? CCZ_ERR_NOT_FOUND : CCZ_ERR_IO,
                     "store %s: the directory %s: %s (it is not created: make it first)", path, dir,
                     strerror(errno));
    else if (!S_ISDIR(st.st_mode))
        s = ccz_fail(CCZ_ERR_IO, "store %s: %s is not a directory", path, dir);
    free(dir);
    return s;
}

/* Creates the file with mode 0600 before SQLite opens it (SQLite would use 0644 less the umask);
 * the -wal and -shm files SQLite makes later take the database file's mode. */
static ccz_status create_private(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) {
        close(fd);
        return CCZ_OK;
    }
    if (errno != EEXIST)
        return ccz_fail(CCZ_ERR_IO, "store %s: cannot create: %s", path, strerror(errno));
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077))
        ccz_log(CCZ_LOG_WARN, "store %s: others may read it (mode %03o); 0600 is expected", path,
                (unsigned)(st.st_mode & 0777));
    return CCZ_OK;
}

typedef struct {
    char text[16];
    int64_t i;
} pragma_out;

static ccz_status read_pragma(const store_row *r, void *payload)
{
    pragma_out *o = payload;
    const char *t = store_row_text(r, 0);
    snprintf(o->text, sizeof o->text, "%s", t ? t : "");
    o->i = store_row_int(r, 0);
    return CCZ_OK;
}

static ccz_status configure(sq *q, bool memory)
{
    sqlite3_extended_result_codes(q->db, 1);
    sqlite3_busy_timeout(q->db, BUSY_TIMEOUT_MS);
    /* no writable schema or shadow-table tricks, no functions run from the schema, and a
     * double-quoted word is an identifier, never a string */
    static const int off[] = {SQLITE_DBCONFIG_TRUSTED_SCHEMA, SQLITE_DBCONFIG_DQS_DDL,
                              SQLITE_DBCONFIG_DQS_DML, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION};
    int rc = sqlite3_db_config(q->db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
    for (size_t i = 0; i < CCZ_ARRAY_LEN(off) && rc == SQLITE_OK; i++)
        rc = sqlite3_db_config(q->db, off[i], 0, (int *)NULL);
    if (rc != SQLITE_OK)
        return sq_fail(q, rc, "sqlite3_db_config");
    /* deleted values (taken nonces, replaced secrets) are overwritten in the file, and
     * temporary sorts stay in memory */
    CCZ_GUARD(sq_script(q, "PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON; "
                           "PRAGMA temp_store = MEMORY"));
    pragma_out o = {{0}, 0};
    CCZ_GUARD(sq_exec(q, NULL, "PRAGMA application_id", NULL, 0, read_pragma, &o));
    if (o.i == 0)
        CCZ_GUARD(sq_script(q, "PRAGMA application_id = 1667463763")); /* APPLICATION_ID */
    else if (o.i != APPLICATION_ID)
        return ccz_fail(CCZ_ERR_UNSUPPORTED,
                        "store %s: not a ccz store (SQLite application_id %#llx)", q->path,
                        (unsigned long long)o.i);
    if (!memory) {
        CCZ_GUARD(sq_exec(q, NULL, "PRAGMA journal_mode = WAL", NULL, 0, read_pragma, &o));
        if (strcmp(o.text, "wal") != 0)
            return ccz_fail(CCZ_ERR_IO,
                            "store %s: cannot use write-ahead logging (journal "
                            "mode stays %s)",
                            q->path, o.text);
    }
    CCZ_GUARD(sq_script(q, "PRAGMA synchronous = FULL"));
    /* the statements above were compiled before the authorizer: none is reused (SQLite
     * expires them too when an authorizer is set) */
    cache_clear(q);
    rc = sqlite3_set_authorizer(q->db, authorize, q);
    return rc == SQLITE_OK ? CCZ_OK : sq_fail(q, rc, "sqlite3_set_authorizer");
}

static void sq_close(void *impl)
{
    sq *q = impl;
    if (!q)
        return;
    cache_clear(q);
    if (q->db && sqlite3_close(q->db) != SQLITE_OK)
        ccz_log(CCZ_LOG_ERROR, "store %s: close: %s", q->path, sqlite3_errmsg(q->db));
    free(q->path);
    free(q);
}

static ccz_status sq_open(void **impl, const char *path)
{
    if (!sqlite3_threadsafe())
        return ccz_fail(CCZ_ERR_UNSUPPORTED, "store: SQLite was built without thread support");
    bool memory = strcmp(path, ":memory:") == 0;
    if (!memory) {
        CCZ_GUARD(check_parent(path));
        CCZ_GUARD(create_private(path));
    }
    sq *q = calloc(1, sizeof *q);
    if (!q || !(q->path = strdup(path))) {
        free(q);
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    }
    /* NOMUTEX: store.c's lock already serialises every use of the connection */
    int rc = sqlite3_open_v2(path, &q->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
                                 SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_EXRESCODE,
                             NULL);
    ccz_status s = rc == SQLITE_OK ? configure(q, memory) : sq_fail(q, rc, "open");
    if (s != CCZ_OK) {
        sq_close(q);
        return s;
    }
    *impl = q;
    return CCZ_OK;
}

/* ---- the store's own schema ------------------------------------------------------------------*/

static const char *sq_migration_sql(const store_migration *m)
{
    return m->sql;
}

static const store_migration own_migrations[] = {
    {1,
     "CREATE TABLE store_kv ("
     " ns TEXT NOT NULL,"
     " key TEXT NOT NULL,"
     " value BLOB NOT NULL,"
     " expires INTEGER NOT NULL DEFAULT 0 CHECK (expires >= 0),"
     " PRIMARY KEY (ns, key)"
     ") STRICT, WITHOUT ROWID;"
     "CREATE INDEX store_kv_expiry ON store_kv (expires) WHERE expires <> 0;",
     NULL},
};

const store_backend store_sqlite_backend = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .exec = sq_exec,
    .script = sq_script,
    .migration_sql = sq_migration_sql,
    .schema_lock = NULL, /* BEGIN IMMEDIATE already serialises writers */
    .tx = sq_tx,
    .in_tx = sq_in_tx,
    .own_migrations = own_migrations,
    .n_own_migrations = CCZ_ARRAY_LEN(own_migrations),
    .columns = sq_columns,
    .col_type = sq_col_type,
    .col_int = sq_col_int,
    .col_text = sq_col_text,
    .col_blob = sq_col_blob,
};
