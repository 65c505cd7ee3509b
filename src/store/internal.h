/* SPDX-License-Identifier: Apache-2.0 */
/* Private to src/store: the backend interface behind store.h. store.c owns the handle's lock,
 * transaction nesting, migrations and argument checks; a backend only talks to its database.
 * Every backend call is made with the handle's lock held. */
#ifndef CCZ_STORE_INTERNAL_H
#define CCZ_STORE_INTERNAL_H

#include <stdbool.h>

#include "store/store.h"

typedef enum {
    STORE_TX_BEGIN, /* outermost: takes the write lock now (SQLite: BEGIN IMMEDIATE) */
    STORE_TX_COMMIT,
    STORE_TX_ROLLBACK,
    STORE_TX_SAVEPOINT, /* nested */
    STORE_TX_RELEASE,
    STORE_TX_ROLLBACK_TO /* undoes to the innermost savepoint and releases it */
} store_tx_op;

typedef struct {
    const char *name;
    /* Opens or creates the database; path as store_open received it. */
    ccz_status (*open)(void **impl, const char *path);
    void (*close)(void *impl);
    /* One parameterised statement; rows go to on_row as a store_row (ops set, impl the
     * backend's cursor). */
    ccz_status (*exec)(void *impl, int64_t *changes, const char *sql, const store_value *params,
                       size_t n_params, store_row_fn on_row, void *payload);
    /* Several statements with no parameters (migrations). */
    ccz_status (*script)(void *impl, const char *sql);
    /* The text of a migration step in this backend's dialect. */
    const char *(*migration_sql)(const store_migration *m);
    /* Called first inside each schema transaction (the store_schema table, each migration step):
     * serialises schema changes between processes sharing the database. NULL where the
     * transaction itself already does (SQLite's BEGIN IMMEDIATE). */
    ccz_status (*schema_lock)(void *impl);
    ccz_status (*tx)(void *impl, store_tx_op op);
    /* Whether a transaction is open: the database may end one itself after some errors, and
     * statements meant for it must not then run on their own. */
    bool (*in_tx)(void *impl);
    /* The store's own schema (the kv table) in this backend's dialect. */
    const store_migration *own_migrations;
    size_t n_own_migrations;
    /* Row access. */
    int (*columns)(void *row);
    store_type (*col_type)(void *row, int col);
    int64_t (*col_int)(void *row, int col);
    const char *(*col_text)(void *row, int col);
    ccz_span (*col_blob)(void *row, int col);
} store_backend;

struct store_row {
    const store_backend *ops;
    void *impl;
    int columns;
};

extern const store_backend store_sqlite_backend;
extern const store_backend store_postgres_backend;

/* Whether path names a PostgreSQL database (postgres:// or postgresql://). */
bool store_is_postgres(const char *path);
/* A copy of a connection URI fit for messages and logs: the password (user:PASSWORD@ and a
 * password= parameter) replaced by "***". NULL when out of memory; the caller frees it. */
char *store_postgres_redact(const char *uri);

#endif
