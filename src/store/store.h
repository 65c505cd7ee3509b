/* SPDX-License-Identifier: Apache-2.0 */
/* Private to libccz: the services' state store. A key-value API with namespaces and expiry, and a
 * thin statement API (always parameterised) for the tables a service creates through its own
 * numbered migrations. SQLite (WAL, synchronous=FULL) is the embedded backend, PostgreSQL (libpq)
 * the one several replicas share (docs/internals/store.md).
 *
 * Trust: SQL text is the caller's own constant code, never built from values; every value travels
 * as a bound parameter. Values may be secrets: nothing here logs them, and the caller chooses a
 * secret ccz_buf for reads. Never installed; services include it as "store/store.h". */
#ifndef CCZ_STORE_STORE_H
#define CCZ_STORE_STORE_H

#include <stdint.h>

#include "ccz/core.h"

/* A handle on one database. Safe to share between threads: every call holds the handle's lock
 * (recursive) for its whole duration, and store_tx holds it for the whole transaction. */
typedef struct store store;

/* Limits on namespaces and keys (bytes, UTF-8); values are bounded only by the backend. */
#define STORE_NS_MAX 255
#define STORE_KEY_MAX 1024

/* One schema step: `version` runs 1, 2, 3… in array order; `sql` is one or more statements with
 * no values in them (DDL, or fixed data). Each step runs in a transaction of its own.
 * pg_sql (optional, NULL when left out of an initialiser) is the same step in PostgreSQL's
 * dialect: the PostgreSQL backend runs pg_sql when set, else sql as written (which must then be
 * SQL both accept: TEXT, BIGINT, no BLOB, no STRICT). SQLite always runs sql. */
typedef struct {
    int64_t version;
    const char *sql;
    const char *pg_sql;
} store_migration;

/* Opens (creating when absent, mode 0600) the database at path, or a private in-memory one for
 * ":memory:". The parent directory must exist (CCZ_ERR_NOT_FOUND naming it otherwise). A path
 * starting postgres:// or postgresql:// is a libpq connection URI (PG* environment variables
 * fill in what it leaves out): the database must exist, and a server that cannot be reached or
 * refuses the login is CCZ_ERR_UNAVAILABLE; messages show the URI with its password masked. Applies
 * the store's own schema, then every migration newer than the version recorded in the database.
 * A database recorded at a version newer than the last migration given is refused with
 * CCZ_ERR_UNSUPPORTED_VERSION (an older ccz must not write a newer schema). A bad migration list
 * (versions not 1..n in order, NULL sql) is CCZ_ERR_INVALID_ARGUMENT. The caller frees *out with
 * store_close. Migrations must stay alive only during the call. */
CCZ_NODISCARD ccz_status store_open(store **out, const char *path,
                                    const store_migration *migrations, size_t n_migrations);
/* Closes the database (a checkpoint folds the WAL back in); NULL is fine. No call on the handle
 * may be in progress. */
void store_close(store *s);

/* The version of the caller's schema recorded in the database (0 before any migration). */
CCZ_NODISCARD ccz_status store_schema_version(store *s, int64_t *out);

/* The clock expiry is judged by (get, take, delete, list): unix seconds. NULL restores the real
 * clock (time(NULL)). Tests set a fixed or stepped clock. */
typedef int64_t (*store_clock_fn)(void *payload);
void store_set_clock(store *s, store_clock_fn now, void *payload);
/* The time the store's clock says. */
int64_t store_now(store *s);

/* ---- key-value ----------------------------------------------------------------------------------
 * Namespaces keep services' and purposes' keys apart ("nonce", "policy", "kbs-session"). A value
 * is live while expires_unix is 0 (never) or the clock is before it; an expired value behaves
 * exactly as an absent one. ns is 1..STORE_NS_MAX bytes and key 1..STORE_KEY_MAX bytes of UTF-8,
 * else CCZ_ERR_INVALID_ARGUMENT. */

/* Stores value under (ns, key), replacing any value and expiry there. expires_unix < 0 is
 * CCZ_ERR_INVALID_ARGUMENT. */
CCZ_NODISCARD ccz_status store_kv_put(store *s, const char *ns, const char *key, const void *value,
                                      size_t len, int64_t expires_unix);
/* Stores value under (ns, key) only when no live value is there (an expired one is replaced):
 * CCZ_OK when this call stored it, CCZ_ERR_EXISTS when a live value was there, which is left as
 * it was. Atomic: of any number of concurrent adds of one key, exactly one stores its value
 * (first writer wins, where store_kv_put's last writer would). */
CCZ_NODISCARD ccz_status store_kv_add(store *s, const char *ns, const char *key, const void *value,
                                      size_t len, int64_t expires_unix);
/* Appends the live value of (ns, key) to out; CCZ_ERR_NOT_FOUND when absent or expired. On any
 * failure out is as it was. For secrets pass a buffer made with ccz_buf_init(&b, max, true). */
CCZ_NODISCARD ccz_status store_kv_get(store *s, ccz_buf *out, const char *ns, const char *key);
/* Atomically reads and deletes (ns, key): of any number of concurrent takes, exactly one gets the
 * value (single-use nonces). CCZ_ERR_NOT_FOUND when absent or expired (an expired value is
 * deleted all the same). out may be NULL when only the consumption matters. */
CCZ_NODISCARD ccz_status store_kv_take(store *s, ccz_buf *out, const char *ns, const char *key);
/* Deletes (ns, key); CCZ_ERR_NOT_FOUND when there was no live value. */
CCZ_NODISCARD ccz_status store_kv_delete(store *s, const char *ns, const char *key);

/* Called for each live entry of a namespace in key order (bytewise). key and value are borrowed
 * until the callback returns. A status other than CCZ_OK stops the listing and is returned. The
 * callback may read the store but must not change the namespace being listed. */
typedef ccz_status (*store_kv_fn)(const char *key, ccz_span value, int64_t expires_unix,
                                  void *payload);
CCZ_NODISCARD ccz_status store_kv_list(store *s, const char *ns, store_kv_fn fn, void *payload);
/* Deletes every value (any namespace) whose expiry is at or before now. */
CCZ_NODISCARD ccz_status store_kv_purge_expired(store *s, int64_t now);

/* ---- statements ---------------------------------------------------------------------------------
 * One SQL statement with `?` placeholders, bound in order to typed values. The SQL is constant
 * text of the calling code: values never go into it. */
typedef enum {
    STORE_TYPE_NULL = 0,
    STORE_TYPE_INT = 1,
    STORE_TYPE_TEXT = 2,
    STORE_TYPE_BLOB = 3
} store_type;

/* A bound value. Text is NUL-terminated UTF-8 (a NULL text binds SQL NULL); a blob is (ptr, len)
 * and may hold any bytes, NUL included (len 0 is an empty blob, not NULL). Borrowed for the
 * duration of the call only. */
typedef struct {
    store_type type;
    int64_t i;
    const void *ptr;
    size_t len;
} store_value;

#define STORE_NULL ((store_value){STORE_TYPE_NULL, 0, NULL, 0})
#define STORE_INT(v) ((store_value){STORE_TYPE_INT, (int64_t)(v), NULL, 0})
#define STORE_TEXT(s) ((store_value){STORE_TYPE_TEXT, 0, (s), 0})
#define STORE_BLOB(p, n) ((store_value){STORE_TYPE_BLOB, 0, (p), (n)})
/* An array of values and its length, for store_exec's (params, n_params):
 * store_exec(s, NULL, "INSERT INTO t VALUES (?, ?)", STORE_PARAMS(STORE_TEXT(id), STORE_INT(n)),
 *            NULL, NULL). */
#define STORE_PARAMS(...)                                                                          \
    ((const store_value[]){__VA_ARGS__}),                                                          \
        (sizeof((store_value[]){__VA_ARGS__}) / sizeof(store_value))

/* One result row, valid only inside the row callback. Column indexes start at 0; an index out of
 * range reads as NULL. Integers convert as SQLite converts; text and blobs are borrowed until the
 * callback returns (copy them, into a secret ccz_buf for secrets). */
typedef struct store_row store_row;
int store_row_columns(const store_row *r);
store_type store_row_type(const store_row *r, int col);
int64_t store_row_int(const store_row *r, int col);
/* NULL for SQL NULL. */
const char *store_row_text(const store_row *r, int col);
/* An empty span for SQL NULL. */
ccz_span store_row_blob(const store_row *r, int col);

/* A status other than CCZ_OK stops the statement and is returned by store_exec. The callback may
 * call the store (same handle) but must not change the rows its statement is reading. */
typedef ccz_status (*store_row_fn)(const store_row *row, void *payload);

/* Runs one statement: binds params (their number must equal the statement's placeholders), calls
 * on_row (may be NULL) for each result row, and stores the number of rows inserted, updated or
 * deleted in *changes (may be NULL). More than one statement in sql is CCZ_ERR_INVALID_ARGUMENT.
 * Errors: a UNIQUE or PRIMARY KEY violation CCZ_ERR_EXISTS; other constraints (NOT NULL, CHECK,
 * FOREIGN KEY) and SQL the database rejects CCZ_ERR_INVALID_ARGUMENT; a database locked by
 * another process beyond the busy timeout CCZ_ERR_UNAVAILABLE; a value over the size limit
 * CCZ_ERR_TOO_LARGE; out of memory CCZ_ERR_NOMEM; a corrupt file CCZ_ERR_MALFORMED; the disk
 * CCZ_ERR_IO. */
CCZ_NODISCARD ccz_status store_exec(store *s, int64_t *changes, const char *sql,
                                    const store_value *params, size_t n_params, store_row_fn on_row,
                                    void *payload);

/* ---- transactions -------------------------------------------------------------------------------
 * Runs fn inside a transaction and commits when it returns CCZ_OK; any other status rolls back
 * every change fn made and is returned. Other threads wait for the whole transaction. Inside fn,
 * use the same handle (s) for everything, store_tx included: a nested store_tx is a savepoint
 * that rolls back alone. The store_kv_* calls compose with it (a take and an insert commit
 * together or not at all). */
typedef ccz_status (*store_tx_fn)(store *s, void *payload);
CCZ_NODISCARD ccz_status store_tx(store *s, store_tx_fn fn, void *payload);

#endif
