/* SPDX-License-Identifier: Apache-2.0 */
/* The PostgreSQL backend of the store, through libpq: one connection per handle (store.c
 * serialises access to it), opened from a postgres:// or postgresql:// URI. The store's SQL is
 * written for SQLite with `?` placeholders; they become $1, $2… here. Values travel only as
 * parameters (blobs as binary bytea). Messages carry the server's primary message, which names
 * tables, columns and constraints but not values (its DETAIL, which quotes rows, is left out),
 * and the URI with its password masked. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "core/guard.h"
#include "store/internal.h"

/* Seconds libpq waits for a connection when neither the URI nor PGCONNECT_TIMEOUT says. */
#define CONNECT_TIMEOUT "10"
/* A fixed key of pg_advisory_xact_lock for schema changes: 'cczS', as SQLite's application_id. */
#define SCHEMA_LOCK_KEY "1667463763"
/* Type OIDs (pg_type.h is a server header). */
#define OID_BOOL 16
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_OID 26

typedef struct {
    PGconn *conn;
    char *name;   /* the URI with its password masked */
    bool tx_open; /* BEGIN done and no COMMIT or ROLLBACK since */
} pg;

/* A row being read: the result and, per column, the bytes of a bytea decoded on demand. */
typedef struct {
    PGresult *res;
    int row;
    unsigned char **blobs;
    size_t *blob_lens;
} pg_row;

/* ---- the URI ---------------------------------------------------------------------------------*/

bool store_is_postgres(const char *path)
{
    return CCZ_STARTS_WITH(path, "postgres://") || CCZ_STARTS_WITH(path, "postgresql://");
}

/* The length of the name of the parameter p[0 .. n) ("name=value") when, percent-decoded as
 * libpq decodes it, it is password or sslpassword; 0 otherwise. */
static size_t secret_param(const char *p, size_t n)
{
    char name[16];
    size_t len = 0, i = 0;
    for (; i < n && p[i] != '='; i++) {
        char c = p[i];
        if (c == '%' && i + 2 < n && isxdigit((unsigned char)p[i + 1]) &&
            isxdigit((unsigned char)p[i + 2])) {
            char hex[3] = {p[i + 1], p[i + 2], 0};
            c = (char)strtol(hex, NULL, 16);
            i += 2;
        }
        if (len == sizeof name - 1)
            return 0;
        name[len++] = c;
    }
    name[len] = 0;
    if (i == n || (strcmp(name, "password") != 0 && strcmp(name, "sslpassword") != 0))
        return 0;
    return i;
}

/* The secret parts masked: user:SECRET@ in the authority, and password= and sslpassword=
 * parameters (their names percent-encoded too, as libpq decodes them). */
char *store_postgres_redact(const char *uri)
{
    ccz_buf b = CCZ_BUF_INIT;
    const char *auth = strstr(uri, "://");
    auth = auth ? auth + 3 : uri;
    /* where libpq looks for user:password@: up to the first '/', a bare '?' in the password
     * included */
    size_t auth_len = strcspn(auth, "/");
    const char *at = memrchr(auth, '@', auth_len);
    const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    const char *p = uri;
    bool ok = true;
    if (colon) {
        ok = ccz_buf_append(&b, uri, (size_t)(colon + 1 - uri)) == CCZ_OK &&
             ccz_buf_append_str(&b, "***") == CCZ_OK;
        p = at;
    }
    const char *query = strchr(p, '?');
    if (ok && query) {
        ok = ccz_buf_append(&b, p, (size_t)(query - p)) == CCZ_OK;
        for (const char *q = query; ok && *q;) {
            size_t n = strcspn(q + 1, "&") + 1; /* "?name=value" or "&name=value" */
            /* libpq's password, and the passphrase of the TLS client key: name= kept */
            size_t name = secret_param(q + 1, n - 1);
            if (name) /* "?name=" kept */
                ok = ccz_buf_append(&b, q, name + 2) == CCZ_OK &&
                     ccz_buf_append_str(&b, "***") == CCZ_OK;
            else
                ok = ccz_buf_append(&b, q, n) == CCZ_OK;
            q += n;
        }
        p = "";
    }
    if (ok)
        ok = ccz_buf_append_str(&b, p) == CCZ_OK;
    char *out = ok ? strdup((const char *)b.ptr) : NULL;
    ccz_buf_free(&b);
    return out;
}

/* ---- errors ----------------------------------------------------------------------------------*/

static bool state_is(const char *state, const char *prefix)
{
    return state && strncmp(state, prefix, strlen(prefix)) == 0;
}

/* SQLSTATE to ccz_status, as sqlite.c maps SQLite's codes. */
static ccz_status map_state(const char *st)
{
    if (state_is(st, "23505"))
        return CCZ_ERR_EXISTS; /* unique_violation, primary keys included */
    if (state_is(st, "23") || state_is(st, "22") || state_is(st, "42") || state_is(st, "0A") ||
        state_is(st, "3F") || state_is(st, "2B"))
        return CCZ_ERR_INVALID_ARGUMENT; /* other constraints, bad data, SQL rejected */
    if (state_is(st, "53200"))
        return CCZ_ERR_NOMEM;
    if (state_is(st, "53100"))
        return CCZ_ERR_IO; /* disk full */
    if (state_is(st, "54"))
        return CCZ_ERR_TOO_LARGE;
    if (state_is(st, "XX001") || state_is(st, "XX002"))
        return CCZ_ERR_MALFORMED;
    /* the connection, serialization failures and deadlocks, lock timeouts, too many
     * connections, cancellation and shutdown, failed logins: try again later */
    if (state_is(st, "08") || state_is(st, "40") || state_is(st, "55P03") || state_is(st, "53") ||
        state_is(st, "57") || state_is(st, "28"))
        return CCZ_ERR_UNAVAILABLE;
    return CCZ_ERR_IO;
}

/* msg on one line (libpq's messages end in newlines and indent hints with tabs). */
static void one_line(char *out, size_t size, const char *msg)
{
    snprintf(out, size, "%s", msg ? msg : "(no message)");
    size_t n = strlen(out);
    while (n && (out[n - 1] == '\n' || out[n - 1] == ' '))
        out[--n] = 0;
    for (char *c = out; *c; c++)
        if (*c == '\n' || *c == '\t')
            *c = ' ';
}

/* Fails for a statement's result (NULL: libpq could not even make one). Constraint violations
 * are the caller's outcome to handle, so only the other failures are logged. */
static ccz_status pg_fail(pg *q, const PGresult *r, const char *what)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char msg[512];
    one_line(msg, sizeof msg, primary ? primary : PQerrorMessage(q->conn));
    ccz_status st;
    if (state)
        st = map_state(state);
    else if (PQstatus(q->conn) == CONNECTION_BAD)
        st = CCZ_ERR_UNAVAILABLE; /* the connection broke: libpq's own error, no SQLSTATE */
    else
        st = r ? CCZ_ERR_IO : CCZ_ERR_NOMEM;
    ccz_status s = ccz_fail(st, "store %s: %.60s: %s (SQLSTATE %s)", q->name, what, msg,
                            state ? state : "none");
    if (!state_is(state, "23"))
        ccz_log(CCZ_LOG_ERROR, "%s", ccz_error_detail());
    return s;
}

/* ---- reading the SQL -------------------------------------------------------------------------*/

static bool ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '$' || (unsigned char)c >= 0x80;
}

/* The length of the quoted text or comment that starts at p (0 when none does): '…' with ''
 * inside (and backslash escapes after E), "…", $tag$…$tag$, -- to the end of the line, and
 * nested block comments. An unterminated one runs to the end. */
static size_t quoted_len(const char *sql, const char *p)
{
    size_t n = strlen(p);
    if (p[0] == '\'' || p[0] == '"') {
        bool esc = p[0] == '\'' && p > sql && (p[-1] == 'E' || p[-1] == 'e') &&
                   (p - 1 == sql || !ident_char(p[-2]));
        for (size_t i = 1; i < n; i++) {
            if (esc && p[i] == '\\' && i + 1 < n)
                i++;
            else if (p[i] == p[0] && p[i + 1] == p[0])
                i++;
            else if (p[i] == p[0])
                return i + 1;
        }
        return n;
    }
    if (p[0] == '-' && p[1] == '-')
        return strcspn(p, "\n");
    if (p[0] == '/' && p[1] == '*') {
        int depth = 0;
        for (size_t i = 0; i + 1 < n; i++) {
            if (p[i] == '/' && p[i + 1] == '*')
                depth++, i++;
            else if (p[i] == '*' && p[i + 1] == '/' && --depth == 0)
                return i + 2;
            else if (p[i] == '*' && p[i + 1] == '/')
                i++;
        }
        return n;
    }
    if (p[0] == '$' && (p == sql || !ident_char(p[-1]))) {
        size_t t = 1;
        if (!(p[1] >= '0' && p[1] <= '9')) /* $1 is a parameter, not a tag */
            while (ident_char(p[t]) && p[t] != '$')
                t++;
        if (p[t] != '$')
            return 0;
        /* a tag of any length, as the server reads it */
        const char *end = memmem(p + t + 1, n - t - 1, p, t + 1);
        return end ? (size_t)(end - p) + t + 1 : n;
    }
    return 0;
}

/* Statements a caller's SQL may not start with: transactions are store_tx's, and settings
 * (synchronous_commit = off…) the store's guarantees rest on are the server's. */
static bool denied(const char *stmt)
{
    static const char *const words[] = {"BEGIN",    "START", "COMMIT",    "END",
                                        "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE",
                                        "PREPARE",  "SET",   "RESET",     "DISCARD"};
    size_t n = 0;
    while (ident_char(stmt[n]))
        n++;
    for (size_t i = 0; i < CCZ_ARRAY_LEN(words); i++)
        if (strlen(words[i]) == n && strncasecmp(stmt, words[i], n) == 0)
            return true;
    return false;
}

/* What reading one or more statements found. */
typedef struct {
    int params;          /* `?` seen */
    int statements;      /* statements with something in them */
    const char *refused; /* the first statement that may not run */
} sql_scan;

/* Reads sql: counts statements and `?`s, notes a refused statement, and, when out is not NULL,
 * writes the text with `?` as $1, $2… Quoted text and comments are copied as they are. */
static ccz_status scan_sql(const char *sql, sql_scan *sc, ccz_buf *out)
{
    *sc = (sql_scan){0, 0, NULL};
    bool at_start = true; /* no word of the current statement seen yet */
    for (const char *p = sql; *p;) {
        size_t q = quoted_len(sql, p);
        bool comment = q > 0 && (p[0] == '-' || p[0] == '/');
        if (*p == ';')
            at_start = true;
        else if (!comment && at_start && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            at_start = false;
            sc->statements++;
            if (!sc->refused && denied(p))
                sc->refused = p;
        }
        if (q == 0 && *p == '?') {
            sc->params++;
            if (out)
                CCZ_GUARD(ccz_buf_printf(out, "$%d", sc->params));
            p++;
            continue;
        }
        size_t n = q ? q : 1;
        if (out)
            CCZ_GUARD(ccz_buf_append(out, p, n));
        p += n;
    }
    if (out && !out->ptr)
        CCZ_GUARD(ccz_buf_append(out, "", 0));
    return CCZ_OK;
}

static ccz_status check_scan(const pg *q, const sql_scan *sc, const char *sql, bool one)
{
    if (sc->statements == 0)
        return ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "store: no SQL statement in \"%.60s\"", sql);
    if (one && sc->statements > 1)
        return ccz_fail(CCZ_ERR_INVALID_ARGUMENT,
                        "store: \"%.60s\" holds more than one statement (one per call)", sql);
    if (sc->refused)
        return ccz_fail(CCZ_ERR_INVALID_ARGUMENT,
                        "store %s: \"%.40s\": not authorized (transactions are store_tx's, "
                        "settings the server's)",
                        q->name, sc->refused);
    return CCZ_OK;
}

/* ---- the connection --------------------------------------------------------------------------*/

/* The server's notices ("relation … already exists, skipping") go to the debug log, not to
 * stderr as libpq would print them. */
static void on_notice(void *payload, const char *message)
{
    char msg[512];
    one_line(msg, sizeof msg, message);
    ccz_log(CCZ_LOG_DEBUG, "store %s: %s", ((const pg *)payload)->name, msg);
}

/* Settings checked after every (re)connection: text in UTF-8, and commits durable. */
static ccz_status configure(pg *q)
{
    PQsetNoticeProcessor(q->conn, on_notice, q);
    if (PQsetClientEncoding(q->conn, "UTF8") != 0)
        return pg_fail(q, NULL, "client_encoding UTF8");
    PGresult *r = PQexec(q->conn, "SELECT current_setting('synchronous_commit')");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        ccz_status s = pg_fail(q, r, "synchronous_commit");
        PQclear(r);
        return s;
    }
    bool off = strcmp(PQgetvalue(r, 0, 0), "off") == 0;
    PQclear(r);
    if (!off)
        return CCZ_OK;
    /* a commit that returned must be on the server's disk, whatever the server's default */
    ccz_log(CCZ_LOG_WARN,
            "store %s: the server has synchronous_commit off; this session sets it "
            "on",
            q->name);
    r = PQexec(q->conn, "SET synchronous_commit = on");
    ccz_status s = PQresultStatus(r) == PGRES_COMMAND_OK ? CCZ_OK : pg_fail(q, r, "SET");
    PQclear(r);
    return s;
}

/* Before a statement: a connection found broken outside a transaction is reset once (the
 * server restarted, a proxy dropped it). Inside a transaction it is not: the server rolled the
 * transaction back, and store.c refuses the rest of it. A transaction the server aborted after
 * an error runs nothing more until store_tx rolls it back. */
static ccz_status ready(pg *q)
{
    if (PQstatus(q->conn) == CONNECTION_BAD && !q->tx_open) {
        ccz_log(CCZ_LOG_WARN, "store %s: the connection was lost; reconnecting", q->name);
        PQreset(q->conn);
        if (PQstatus(q->conn) != CONNECTION_OK) {
            char msg[512];
            one_line(msg, sizeof msg, PQerrorMessage(q->conn));
            return ccz_fail(CCZ_ERR_UNAVAILABLE, "store %s: cannot reconnect: %s", q->name, msg);
        }
        CCZ_GUARD(configure(q));
    }
    if (PQstatus(q->conn) == CONNECTION_BAD)
        return ccz_fail(CCZ_ERR_UNAVAILABLE,
                        "store %s: the connection was lost inside a transaction", q->name);
    if (PQtransactionStatus(q->conn) == PQTRANS_INERROR)
        return ccz_fail(CCZ_ERR_IO,
                        "store %s: the transaction was aborted by an earlier error; its "
                        "remaining statements are not run",
                        q->name);
    return CCZ_OK;
}

/* ---- statements ------------------------------------------------------------------------------*/

/* Values in the result are wiped before it is freed: they may be secrets. */
static void clear(PGresult *r)
{
    if (!r)
        return;
    for (int i = 0; i < PQntuples(r); i++)
        for (int c = 0; c < PQnfields(r); c++)
            ccz_wipe(PQgetvalue(r, i, c), (size_t)PQgetlength(r, i, c));
    PQclear(r);
}

typedef struct {
    Oid *types;
    const char **values;
    int *lengths;
    int *formats;
    char (*ints)[24];
} pg_params;

static void params_free(pg_params *pp)
{
    free(pp->types);
    free(pp->values);
    free(pp->lengths);
    free(pp->formats);
    free(pp->ints);
}

/* Text as unknown (the server infers its type from the statement), integers as int8 in text,
 * blobs as bytea in binary: any bytes, NUL included. */
static ccz_status params_make(pg_params *pp, const store_value *params, size_t n)
{
    size_t k = n ? n : 1;
    *pp = (pg_params){calloc(k, sizeof(Oid)), calloc(k, sizeof(char *)), calloc(k, sizeof(int)),
                      calloc(k, sizeof(int)), calloc(k, 24)};
    if (!pp->types || !pp->values || !pp->lengths || !pp->formats || !pp->ints)
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const store_value *v = &params[i];
        switch (v->type) {
        case STORE_TYPE_NULL:
            break;
        case STORE_TYPE_INT:
            pp->types[i] = OID_INT8;
            snprintf(pp->ints[i], sizeof pp->ints[i], "%lld", (long long)v->i);
            pp->values[i] = pp->ints[i];
            break;
        case STORE_TYPE_TEXT:
            pp->values[i] = v->ptr; /* NULL binds SQL NULL */
            break;
        case STORE_TYPE_BLOB:
            if (!v->ptr && v->len)
                return ccz_fail(CCZ_ERR_INVALID_ARGUMENT,
                                "store: parameter %zu: NULL blob of %zu bytes", i + 1, v->len);
            CCZ_ENSURE(v->len <= 0x3fffffff, CCZ_ERR_TOO_LARGE,
                       "store: parameter %zu: a blob of %zu bytes is over PostgreSQL's 1 GiB",
                       i + 1, v->len);
            pp->types[i] = OID_BYTEA;
            pp->values[i] = v->ptr ? v->ptr : ""; /* never NULL: an empty blob is not NULL */
            pp->lengths[i] = (int)v->len;
            pp->formats[i] = 1;
            break;
        default:
            return ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "store: parameter %zu: unknown type %d",
                            i + 1, (int)v->type);
        }
    }
    return CCZ_OK;
}

static ccz_status run(pg *q, PGresult *r, const char *sql, int64_t *changes, store_row_fn on_row,
                      void *payload)
{
    ExecStatusType es = PQresultStatus(r);
    if (es == PGRES_EMPTY_QUERY)
        return ccz_fail(CCZ_ERR_INVALID_ARGUMENT, "store: no SQL statement in \"%.60s\"", sql);
    if (es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK)
        return pg_fail(q, r, sql);
    if (changes) {
        const char *cmd = PQcmdStatus(r);
        bool writes = CCZ_STARTS_WITH(cmd, "INSERT") || CCZ_STARTS_WITH(cmd, "UPDATE") ||
                      CCZ_STARTS_WITH(cmd, "DELETE") || CCZ_STARTS_WITH(cmd, "MERGE");
        *changes = writes ? strtoll(PQcmdTuples(r), NULL, 10) : 0;
    }
    if (!on_row)
        return CCZ_OK;
    int cols = PQnfields(r);
    pg_row row = {r, 0, calloc(cols ? (size_t)cols : 1, sizeof(unsigned char *)),
                  calloc(cols ? (size_t)cols : 1, sizeof(size_t))};
    ccz_status s = row.blobs && row.blob_lens ? CCZ_OK : ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    for (int i = 0; s == CCZ_OK && i < PQntuples(r); i++) {
        row.row = i;
        store_row sr = {&store_postgres_backend, &row, cols};
        s = on_row(&sr, payload);
        for (int c = 0; c < cols; c++) {
            if (row.blobs[c]) {
                ccz_wipe(row.blobs[c], row.blob_lens[c]);
                PQfreemem(row.blobs[c]);
                row.blobs[c] = NULL;
            }
        }
    }
    free(row.blobs);
    free(row.blob_lens);
    return s;
}

static ccz_status pg_exec(void *impl, int64_t *changes, const char *sql, const store_value *params,
                          size_t n_params, store_row_fn on_row, void *payload)
{
    pg *q = impl;
    sql_scan sc;
    ccz_buf text = CCZ_BUF_INIT;
    pg_params pp = {0};
    PGresult *r = NULL;
    ccz_status s = scan_sql(sql, &sc, &text);
    if (s == CCZ_OK)
        s = check_scan(q, &sc, sql, true);
    if (s == CCZ_OK && (size_t)sc.params != n_params)
        s = ccz_fail(CCZ_ERR_INVALID_ARGUMENT,
                     "store: \"%.60s\" has %d parameters and %zu values were given", sql, sc.params,
                     n_params);
    if (s == CCZ_OK)
        s = params_make(&pp, params, n_params);
    if (s == CCZ_OK)
        s = ready(q);
    if (s == CCZ_OK) {
        /* results in text: integers parse, bytea decodes in col_blob */
        r = PQexecParams(q->conn, (const char *)text.ptr, (int)n_params, pp.types, pp.values,
                         pp.lengths, pp.formats, 0);
        s = run(q, r, sql, changes, on_row, payload);
    }
    clear(r);
    params_free(&pp);
    ccz_buf_free(&text);
    return s;
}

static ccz_status pg_script(void *impl, const char *sql)
{
    pg *q = impl;
    sql_scan sc;
    CCZ_GUARD(scan_sql(sql, &sc, NULL));
    CCZ_GUARD(check_scan(q, &sc, sql, false));
    CCZ_GUARD(ready(q));
    PGresult *r = PQexec(q->conn, sql);
    ccz_status s = run(q, r, sql, NULL, NULL, NULL);
    clear(r);
    return s;
}

/* The store's own statements, which scan_sql would refuse. */
static ccz_status own(pg *q, const char *sql)
{
    PGresult *r = PQexec(q->conn, sql);
    ccz_status s = run(q, r, sql, NULL, NULL, NULL);
    clear(r);
    return s;
}

/* READ COMMITTED, PostgreSQL's default: each statement sees what other replicas committed
 * before it; rows written are locked until the end, and a single-statement take (DELETE …
 * RETURNING) is taken by exactly one replica. */
static ccz_status pg_tx(void *impl, store_tx_op op)
{
    static const char *const sql[] = {
        [STORE_TX_BEGIN] = "BEGIN",
        [STORE_TX_COMMIT] = "COMMIT",
        [STORE_TX_ROLLBACK] = "ROLLBACK",
        [STORE_TX_SAVEPOINT] = "SAVEPOINT store_tx",
        [STORE_TX_RELEASE] = "RELEASE SAVEPOINT store_tx",
        [STORE_TX_ROLLBACK_TO] = "ROLLBACK TO SAVEPOINT store_tx; RELEASE SAVEPOINT store_tx",
    };
    pg *q = impl;
    if (op == STORE_TX_BEGIN)
        CCZ_GUARD(ready(q));
    if ((op == STORE_TX_COMMIT || op == STORE_TX_RELEASE) &&
        PQtransactionStatus(q->conn) == PQTRANS_INERROR)
        /* COMMIT would "succeed" by rolling back: say what happened */
        return ccz_fail(CCZ_ERR_IO,
                        "store %s: the transaction was aborted by an earlier error; "
                        "nothing of it is committed",
                        q->name);
    ccz_status s = own(q, sql[op]);
    if (op == STORE_TX_BEGIN && s == CCZ_OK)
        q->tx_open = true;
    if (op == STORE_TX_COMMIT || op == STORE_TX_ROLLBACK)
        q->tx_open = false;
    return s;
}

static bool pg_in_tx(void *impl)
{
    pg *q = impl;
    PGTransactionStatusType t = PQtransactionStatus(q->conn);
    if (t == PQTRANS_UNKNOWN) /* the connection broke: the server rolled back */
        q->tx_open = false;
    return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

static ccz_status pg_schema_lock(void *impl)
{
    return own(impl, "SELECT pg_advisory_xact_lock(" SCHEMA_LOCK_KEY ")");
}

static const char *pg_migration_sql(const store_migration *m)
{
    return m->pg_sql ? m->pg_sql : m->sql;
}

/* ---- rows ------------------------------------------------------------------------------------*/

static int pg_columns(void *row)
{
    return PQnfields(((pg_row *)row)->res);
}

static store_type pg_col_type(void *row, int col)
{
    pg_row *w = row;
    if (PQgetisnull(w->res, w->row, col))
        return STORE_TYPE_NULL;
    switch (PQftype(w->res, col)) {
    case OID_INT2:
    case OID_INT4:
    case OID_INT8:
    case OID_OID:
    case OID_BOOL:
        return STORE_TYPE_INT;
    case OID_BYTEA:
        return STORE_TYPE_BLOB;
    default:
        return STORE_TYPE_TEXT;
    }
}

static int64_t pg_col_int(void *row, int col)
{
    pg_row *w = row;
    if (PQgetisnull(w->res, w->row, col))
        return 0;
    const char *v = PQgetvalue(w->res, w->row, col);
    if (PQftype(w->res, col) == OID_BOOL)
        return v[0] == 't';
    return strtoll(v, NULL, 10); /* as SQLite reads text: its leading integer, else 0 */
}

/* NULL for SQL NULL; a bytea reads as PostgreSQL's text form of it (\x and hex). */
static const char *pg_col_text(void *row, int col)
{
    pg_row *w = row;
    return PQgetisnull(w->res, w->row, col) ? NULL : PQgetvalue(w->res, w->row, col);
}

static ccz_span pg_col_blob(void *row, int col)
{
    pg_row *w = row;
    if (PQgetisnull(w->res, w->row, col))
        return CCZ_SPAN(NULL, 0);
    const char *v = PQgetvalue(w->res, w->row, col);
    if (PQftype(w->res, col) != OID_BYTEA)
        return CCZ_SPAN(v, (size_t)PQgetlength(w->res, w->row, col));
    if (!w->blobs[col]) {
        /* NULL on a malformed value or out of memory: then an empty span */
        w->blobs[col] = PQunescapeBytea((const unsigned char *)v, &w->blob_lens[col]);
        if (!w->blobs[col])
            return CCZ_SPAN(NULL, 0);
    }
    return CCZ_SPAN(w->blobs[col], w->blob_lens[col]);
}

/* ---- open and close --------------------------------------------------------------------------*/

static void pg_close(void *impl)
{
    pg *q = impl;
    if (!q)
        return;
    PQfinish(q->conn);
    free(q->name);
    free(q);
}

static ccz_status pg_open(void **impl, const char *path)
{
    pg *q = calloc(1, sizeof *q);
    if (!q || !(q->name = store_postgres_redact(path))) {
        free(q);
        return ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    }
    /* keywords in order, later ones winning: the timeout is a default the URI (or
     * PGCONNECT_TIMEOUT) overrides; libpq expands dbname as the URI */
    const char *timeout = getenv("PGCONNECT_TIMEOUT") ? NULL : CONNECT_TIMEOUT;
    const char *const keys[] = {"fallback_application_name", "connect_timeout", "dbname", NULL};
    const char *const values[] = {"ccz", timeout, path, NULL};
    q->conn = PQconnectdbParams(keys, values, 1);
    ccz_status s = CCZ_OK;
    if (!q->conn)
        s = ccz_fail(CCZ_ERR_NOMEM, "out of memory");
    else if (PQstatus(q->conn) != CONNECTION_OK) {
        char msg[512];
        one_line(msg, sizeof msg, PQerrorMessage(q->conn));
        s = ccz_fail(CCZ_ERR_UNAVAILABLE, "store %s: cannot connect: %s", q->name, msg);
    } else
        s = configure(q);
    if (s != CCZ_OK) {
        pg_close(q);
        return s;
    }
    *impl = q;
    return CCZ_OK;
}

/* ---- the store's own schema ------------------------------------------------------------------*/

/* As sqlite.c's, in PostgreSQL's types; keys in the "C" collation so listing stays bytewise. */
static const store_migration own_migrations[] = {
    {1,
     "CREATE TABLE store_kv ("
     " ns TEXT NOT NULL,"
     " key TEXT COLLATE \"C\" NOT NULL,"
     " value BYTEA NOT NULL,"
     " expires BIGINT NOT NULL DEFAULT 0 CHECK (expires >= 0),"
     " PRIMARY KEY (ns, key)"
     ");"
     "CREATE INDEX store_kv_expiry ON store_kv (expires) WHERE expires <> 0;",
     NULL},
};

const store_backend store_postgres_backend = {
    .name = "postgres",
    .open = pg_open,
    .close = pg_close,
    .exec = pg_exec,
    .script = pg_script,
    .migration_sql = pg_migration_sql,
    .schema_lock = pg_schema_lock,
    .tx = pg_tx,
    .in_tx = pg_in_tx,
    .own_migrations = own_migrations,
    .n_own_migrations = CCZ_ARRAY_LEN(own_migrations),
    .columns = pg_columns,
    .col_type = pg_col_type,
    .col_int = pg_col_int,
    .col_text = pg_col_text,
    .col_blob = pg_col_blob,
};
