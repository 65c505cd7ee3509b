/* SPDX-License-Identifier: Apache-2.0 */
/* The state store: migrations, restarts, key-value with expiry, the statement API, transactions,
 * errors, threads, and the SQLite settings that make commits durable and the file private.
 * With CCZ_TEST_PG set to a PostgreSQL URI (tests/store/test_store_pg.sh), the same tests run
 * against that database, wiped before each, the SQLite-only ones (files, pragmas, SQLite's
 * allocator) skipped, and the PostgreSQL-only ones (replicas, reconnection, logins) run. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "core/guard.h"
#include "test.h"
#include "store/internal.h"
#include "store/store.h"

/* SQL both dialects accept: no pg_sql (NULL), the PostgreSQL backend runs sql as written. */
static const store_migration v1[] = {
    {1, "CREATE TABLE item (id TEXT PRIMARY KEY NOT NULL, n INTEGER NOT NULL);", NULL},
};
static const store_migration v2[] = {
    {1, "CREATE TABLE item (id TEXT PRIMARY KEY NOT NULL, n INTEGER NOT NULL);", NULL},
    {2,
     "ALTER TABLE item ADD COLUMN note TEXT;"
     "CREATE TABLE owner (name TEXT PRIMARY KEY NOT NULL);"
     "CREATE TABLE pet (name TEXT NOT NULL, owner TEXT NOT NULL REFERENCES owner (name),"
     " CHECK (length(name) > 0));",
     NULL},
};

/* The PostgreSQL database under test, or NULL for SQLite. */
static const char *pg_uri(void)
{
    const char *u = getenv("CCZ_TEST_PG");
    return u && *u ? u : NULL;
}

/* SQLite's or PostgreSQL's text, for the few statements and messages that differ. */
#define DIALECT(sqlite, pg) (pg_uri() ? (pg) : (sqlite))

/* For the tests of SQLite's own files and settings: true (after a note) on PostgreSQL. */
static bool sqlite_only(void)
{
    if (pg_uri())
        printf("  %s: SQLite only, not run against PostgreSQL\n", test_name);
    return pg_uri() != NULL;
}

/* Empties the PostgreSQL database: each test starts from nothing, as with a new file. */
static void pg_wipe(void)
{
    PGconn *c = PQconnectdb(pg_uri());
    PGresult *r = PQexec(c, "SET client_min_messages = warning; DROP SCHEMA public CASCADE; "
                            "CREATE SCHEMA public");
    CHECK(PQresultStatus(r) == PGRES_COMMAND_OK);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        fprintf(stderr, "wiping %s: %s\n", pg_uri(), PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
}

/* A fresh private database: in memory for SQLite, the wiped one on PostgreSQL. */
static const char *memory_db(void)
{
    if (!pg_uri())
        return ":memory:";
    pg_wipe();
    return pg_uri();
}

/* A fresh database that a test may close and open again: a new file for SQLite (name), the
 * wiped one on PostgreSQL. */
static const char *db_path(const char *name)
{
    if (pg_uri()) {
        pg_wipe();
        return pg_uri();
    }
    static char path[8][4096];
    static int next;
    char *p = path[next++ % 8];
    snprintf(p, sizeof path[0], "%s/%s", test_tmpdir(), name);
    return p;
}

static ccz_status read_int(const store_row *r, void *payload)
{
    *(int64_t *)payload = store_row_int(r, 0);
    return CCZ_OK;
}

static int64_t count(store *s, const char *sql)
{
    int64_t n = -1;
    CHECK_OK(store_exec(s, NULL, sql, NULL, 0, read_int, &n));
    return n;
}

static int64_t fake_now;
static int64_t fake_clock(void *payload)
{
    (void)payload;
    return fake_now;
}

/* A clock whose time is its payload's. */
static int64_t payload_clock(void *payload)
{
    return payload ? *(const int64_t *)payload : -1;
}

/* ---- migrations and restarts -----------------------------------------------------------------*/

static void test_migrations_applied_once(void)
{
    const char *path = db_path("migrate.db");
    store *s = NULL;
    int64_t v = -1;
    CHECK_OK(store_open(&s, path, v1, CCZ_ARRAY_LEN(v1)));
    CHECK_OK(store_schema_version(s, &v));
    CHECK_INT(v, 1);
    CHECK_OK(store_exec(s, NULL, "INSERT INTO item (id, n) VALUES (?, ?)",
                        STORE_PARAMS(STORE_TEXT("a"), STORE_INT(1)), NULL, NULL));
    store_close(s);
    /* again with one more: only migration 2 runs (migration 1 again would fail: item exists) */
    CHECK_OK(store_open(&s, path, v2, CCZ_ARRAY_LEN(v2)));
    CHECK_OK(store_schema_version(s, &v));
    CHECK_INT(v, 2);
    CHECK_INT(count(s, "SELECT count(*) FROM item WHERE id = 'a' AND note IS NULL"), 1);
    CHECK_INT(count(s, "SELECT version FROM store_schema WHERE component = 'store'"), 1);
    store_close(s);
    CHECK_OK(store_open(&s, path, v2, CCZ_ARRAY_LEN(v2)));
    CHECK_OK(store_schema_version(s, &v));
    CHECK_INT(v, 2);
    store_close(s);
}

static void test_failed_migration_rolls_back(void)
{
    const char *path = db_path("badmigrate.db");
    const store_migration bad[] = {
        v2[0], v2[1], {3, "CREATE TABLE extra (x INTEGER); THIS IS NOT SQL;", NULL}};
    store *s = NULL;
    ccz_log_set_level(CCZ_LOG_OFF);
    CHECK_STATUS(store_open(&s, path, bad, CCZ_ARRAY_LEN(bad)), CCZ_ERR_INVALID_ARGUMENT);
    ccz_log_set_level(CCZ_LOG_WARN);
    CHECK(s == NULL);
    CHECK_CONTAINS(ccz_error_detail(), "service migration 3");
    CHECK_OK(store_open(&s, path, v2, CCZ_ARRAY_LEN(v2)));
    int64_t v = -1;
    CHECK_OK(store_schema_version(s, &v));
    CHECK_INT(v, 2); /* 1 and 2 committed, 3 undone as a whole */
    CHECK_INT(count(s, DIALECT("SELECT count(*) FROM sqlite_schema WHERE name = 'extra'",
                               "SELECT count(*) FROM pg_tables WHERE tablename = 'extra'")),
              0);
    store_close(s);
}

/* The DDL services' later migrations need runs past the store's authorizer. */
static void test_migration_ddl(void)
{
    const store_migration m[] = {v2[0],
                                 v2[1],
                                 {3,
                                  "ALTER TABLE item RENAME COLUMN note TO remark;"
                                  "ALTER TABLE item DROP COLUMN remark;"
                                  "DROP TABLE pet;"
                                  "ALTER TABLE owner RENAME TO person;"
                                  "CREATE INDEX item_n ON item (n);"
                                  "CREATE VIEW big AS SELECT id FROM item WHERE n > 10;"
                                  "CREATE TRIGGER item_touch AFTER UPDATE ON item BEGIN"
                                  " UPDATE person SET name = name WHERE 0; END;"
                                  "INSERT INTO person (name) VALUES ('fixed data');",
                                  /* PostgreSQL: a trigger runs a function; "BEGIN" inside
                                  * the dollar quotes is not a transaction */
                                  "ALTER TABLE item RENAME COLUMN note TO remark;"
                                  "ALTER TABLE item DROP COLUMN remark;"
                                  "DROP TABLE pet;"
                                  "ALTER TABLE owner RENAME TO person;"
                                  "CREATE INDEX item_n ON item (n);"
                                  "CREATE VIEW big AS SELECT id FROM item WHERE n > 10;"
                                  "CREATE FUNCTION item_touch() RETURNS trigger LANGUAGE plpgsql"
                                  " AS $$BEGIN UPDATE person SET name = name WHERE false;"
                                  " RETURN NEW; END$$;"
                                  "CREATE TRIGGER item_touch AFTER UPDATE ON item FOR EACH ROW"
                                  " EXECUTE FUNCTION item_touch();"
                                  "INSERT INTO person (name) VALUES ('fixed data');"}};
    store *s = NULL;
    CHECK_OK(store_open(&s, memory_db(), m, CCZ_ARRAY_LEN(m)));
    int64_t v = -1;
    CHECK_OK(store_schema_version(s, &v));
    CHECK_INT(v, 3);
    CHECK_INT(count(s, "SELECT count(*) FROM person"), 1);
    CHECK_OK(store_exec(s, NULL, "INSERT INTO item (id, n) VALUES ('x', 11)", NULL, 0, NULL, NULL));
    CHECK_OK(store_exec(s, NULL, "UPDATE item SET n = 12", NULL, 0, NULL, NULL));
    CHECK_INT(count(s, "SELECT count(*) FROM big"), 1);
    store_close(s);
}

static void test_bad_migration_list(void)
{
    store *s = (store *)1;
    const store_migration gap[] = {{1, "CREATE TABLE a (x)", NULL},
                                   {3, "CREATE TABLE b (x)", NULL}};
    const store_migration nosql[] = {{1, NULL, "CREATE TABLE a (x BIGINT)"}};
    CHECK_STATUS(store_open(&s, ":memory:", gap, 2), CCZ_ERR_INVALID_ARGUMENT);
    CHECK(s == NULL);
    CHECK_STATUS(store_open(&s, ":memory:", nosql, 1), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(store_open(&s, ":memory:", NULL, 1), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(store_open(&s, "", NULL, 0), CCZ_ERR_INVALID_ARGUMENT);
}

/* No server at the address (port 1 on loopback): CCZ_ERR_UNAVAILABLE, libpq's message naming
 * the host and port, and the URI's password nowhere (it needs no server: both runs do it). */
static void test_pg_unreachable(void)
{
    store *s = (store *)1;
    ccz_log_set_level(CCZ_LOG_OFF);
    CHECK_STATUS(store_open(&s, "postgresql://ccz:hunter2-secret@127.0.0.1:1/ccz?connect_timeout=5",
                            NULL, 0),
                 CCZ_ERR_UNAVAILABLE);
    CHECK(s == NULL);
    CHECK_CONTAINS(ccz_error_detail(), "\"127.0.0.1\", port 1 failed");
    CHECK_CONTAINS(ccz_error_detail(), "postgresql://ccz:***@127.0.0.1:1/ccz");
    CHECK(strstr(ccz_error_detail(), "hunter2") == NULL);
    /* libpq's message of two lines (its hint indented with a tab) on one */
    CHECK_CONTAINS(ccz_error_detail(), "Connection refused  Is the server running");
    CHECK(strpbrk(ccz_error_detail(), "\n\t") == NULL);
    CHECK_STATUS(
        store_open(&s, "postgres://127.0.0.1:1/ccz?password=hunter2-secret&user=ccz", NULL, 0),
        CCZ_ERR_UNAVAILABLE);
    CHECK_CONTAINS(ccz_error_detail(), "postgres://127.0.0.1:1/ccz?password=***&user=ccz");
    CHECK(strstr(ccz_error_detail(), "hunter2") == NULL);
    /* libpq reads user:password@ up to the first '/', so a password may hold a bare '?' */
    CHECK_STATUS(store_open(&s, "postgresql://ccz:pa?ss-hunter2@127.0.0.1:1/ccz", NULL, 0),
                 CCZ_ERR_UNAVAILABLE);
    CHECK_CONTAINS(ccz_error_detail(), "\"127.0.0.1\", port 1 failed");
    CHECK_CONTAINS(ccz_error_detail(), "postgresql://ccz:***@127.0.0.1:1/ccz");
    CHECK(strstr(ccz_error_detail(), "hunter2") == NULL);
    /* the passphrase of the client's TLS key is as secret as the password */
    CHECK_STATUS(store_open(&s,
                            "postgres://127.0.0.1:1/ccz?sslmode=disable&sslpassword=hunter2-secret"
                            "&user=ccz",
                            NULL, 0),
                 CCZ_ERR_UNAVAILABLE);
    CHECK_CONTAINS(ccz_error_detail(),
                   "postgres://127.0.0.1:1/ccz?sslmode=disable&sslpassword=***&user=ccz");
    CHECK(strstr(ccz_error_detail(), "hunter2") == NULL);
    /* libpq percent-decodes parameter names: %70assword is the password */
    CHECK_STATUS(store_open(&s,
                            "postgres://127.0.0.1:1/ccz?%70assword=hunter2-secret&ssl%70assword="
                            "hunter2-key&passwordx=shown",
                            NULL, 0),
                 CCZ_ERR_UNAVAILABLE);
    CHECK_CONTAINS(ccz_error_detail(),
                   "postgres://127.0.0.1:1/ccz?%70assword=***&ssl%70assword=***&passwordx=shown");
    CHECK(strstr(ccz_error_detail(), "hunter2") == NULL);
    ccz_log_set_level(CCZ_LOG_WARN);
}

/* A server that takes connections (the kernel completes them: listen without accept) and never
 * says a word; its port in *port. */
static int silent_server(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(fd, 16) == 0 &&
          getsockname(fd, (struct sockaddr *)&a, &len) == 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* Opens uri, which must fail with CCZ_ERR_UNAVAILABLE as libpq's timeout expires; returns the
 * seconds it took. */
static double open_timed_out(const char *uri)
{
    struct timespec t0, t1;
    store *s = NULL;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_STATUS(store_open(&s, uri, NULL, 0), CCZ_ERR_UNAVAILABLE);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK(s == NULL);
    CHECK_CONTAINS(ccz_error_detail(), "cannot connect: ");
    /* libpq's newline at the end is dropped, not turned into a space */
    const char *d = ccz_error_detail();
    CHECK(strlen(d) > 17 && strcmp(d + strlen(d) - 17, ": timeout expired") == 0);
    return (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}

/* A server that never answers is given up after PGCONNECT_TIMEOUT's seconds instead of the
 * store's 10 s default (libpq waits 2 s at least). It needs no PostgreSQL server: the SQLite run
 * does it. */
static void test_pg_connect_timeout(void)
{
    if (pg_uri()) {
        printf("  %s: needs no server, run without CCZ_TEST_PG\n", test_name);
        return;
    }
    int port = 0, fd = silent_server(&port);
    char uri[128];
    snprintf(uri, sizeof uri, "postgresql://ccz@127.0.0.1:%d/ccz?sslmode=disable", port);
    ccz_log_set_level(CCZ_LOG_OFF);
    setenv("PGCONNECT_TIMEOUT", "2", 1);
    double secs = open_timed_out(uri);
    CHECK(secs > 1.5 && secs < 6);
    unsetenv("PGCONNECT_TIMEOUT");
    ccz_log_set_level(CCZ_LOG_WARN);
    close(fd);
}

/* The default, 10 s, and the URI's connect_timeout winning over it. Long, so run only as
 * store/test_store_connect_default (label long), which sets CCZ_TEST_CONNECT_DEFAULT. */
static void test_pg_connect_timeout_default(void)
{
    if (!getenv("CCZ_TEST_CONNECT_DEFAULT")) {
        printf("  %s: 12 s, run by store/test_store_connect_default (label long)\n", test_name);
        return;
    }
    int port = 0, fd = silent_server(&port);
    char uri[128];
    snprintf(uri, sizeof uri, "postgresql://ccz@127.0.0.1:%d/ccz?sslmode=disable", port);
    unsetenv("PGCONNECT_TIMEOUT");
    ccz_log_set_level(CCZ_LOG_OFF);
    double secs = open_timed_out(uri);
    CHECK(secs > 9.5 && secs < 15);
    snprintf(uri, sizeof uri, "postgresql://ccz@127.0.0.1:%d/ccz?sslmode=disable&connect_timeout=2",
             port);
    secs = open_timed_out(uri);
    CHECK(secs > 1.5 && secs < 6);
    ccz_log_set_level(CCZ_LOG_WARN);
    close(fd);
}

/* The URI as messages show it, without connecting. */
static void check_redacted(const char *uri, const char *want)
{
    char *got = store_postgres_redact(uri);
    CHECK(got != NULL);
    if (got)
        CHECK_STR(got, want);
    free(got);
}

static void test_pg_redact(void)
{
    /* a password holding '@': all up to the last '@' before the path is masked */
    check_redacted("postgresql://ccz:p@ss-hunter2@db.example/ccz",
                   "postgresql://ccz:***@db.example/ccz");
    /* a parameter named password without a value is no secret, and is kept as written */
    check_redacted("postgres://db.example/ccz?password&user=ccz",
                   "postgres://db.example/ccz?password&user=ccz");
    check_redacted("postgres://db.example/ccz?user=ccz&password",
                   "postgres://db.example/ccz?user=ccz&password");
    /* names up to 15 characters are read; a longer one is no secret's */
    check_redacted("postgres://db.example/ccz?sslpassword=hunter2&password=hunter2",
                   "postgres://db.example/ccz?sslpassword=***&password=***");
}

static void test_state_survives_restart(void)
{
    const char *path = db_path("restart.db");
    store *s = NULL;
    CHECK_OK(store_open(&s, path, v1, CCZ_ARRAY_LEN(v1)));
    CHECK_OK(store_kv_put(s, "policy", "p1", "{\"allow_sim\":true}", 18, 0));
    CHECK_OK(store_kv_put(s, "nonce", "n1", "x", 1, 0));
    CHECK_OK(store_exec(s, NULL, "INSERT INTO item (id, n) VALUES (?, ?)",
                        STORE_PARAMS(STORE_TEXT("kept"), STORE_INT(7)), NULL, NULL));
    CHECK_OK(store_kv_take(s, NULL, "nonce", "n1"));
    store_close(s);
    CHECK_OK(store_open(&s, path, v1, CCZ_ARRAY_LEN(v1)));
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_OK(store_kv_get(s, &b, "policy", "p1"));
    CHECK_STR((const char *)b.ptr, "{\"allow_sim\":true}");
    CHECK_STATUS(store_kv_take(s, NULL, "nonce", "n1"), CCZ_ERR_NOT_FOUND); /* used stays used */
    CHECK_INT(count(s, "SELECT n FROM item WHERE id = 'kept'"), 7);
    ccz_buf_free(&b);
    store_close(s);
}

static void test_newer_schema_refused(void)
{
    const char *path = db_path("newer.db");
    store *s = NULL;
    CHECK_OK(store_open(&s, path, v2, CCZ_ARRAY_LEN(v2)));
    store_close(s);
    s = (store *)1;
    ccz_log_set_level(CCZ_LOG_OFF);
    CHECK_STATUS(store_open(&s, path, v1, CCZ_ARRAY_LEN(v1)), CCZ_ERR_UNSUPPORTED_VERSION);
    ccz_log_set_level(CCZ_LOG_WARN);
    CHECK(s == NULL);
    CHECK_CONTAINS(ccz_error_detail(), "version 2, newer than the 1 this ccz knows");
    CHECK_CONTAINS(ccz_error_detail(), path);
    /* and the refusal wrote nothing: the newer code still opens it */
    CHECK_OK(store_open(&s, path, v2, CCZ_ARRAY_LEN(v2)));
    store_close(s);
}

static void test_missing_directory(void)
{
    if (sqlite_only())
        return;
    char path[4200];
    snprintf(path, sizeof path, "%s/no-such-dir/state.db", test_tmpdir());
    store *s = NULL;
    CHECK_STATUS(store_open(&s, path, NULL, 0), CCZ_ERR_NOT_FOUND);
    CHECK_CONTAINS(ccz_error_detail(), "no-such-dir");
    CHECK_CONTAINS(ccz_error_detail(), "not created");
    struct stat st;
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/no-such-dir", test_tmpdir());
    CHECK(stat(dir, &st) != 0); /* nothing was made */
    /* a file in the root directory: its directory is "/", which exists (here a directory
     * itself, so SQLite cannot open it: an I/O error, not a missing directory) */
    CHECK_STATUS(store_open(&s, "/tmp", NULL, 0), CCZ_ERR_IO);
    CHECK(strstr(ccz_error_detail(), "not created") == NULL);
    /* a directory that is a file */
    snprintf(dir, sizeof dir, "%s/a-file", test_tmpdir());
    FILE *f = fopen(dir, "w");
    CHECK(f != NULL);
    if (f)
        fclose(f);
    snprintf(path, sizeof path, "%s/a-file/state.db", test_tmpdir());
    CHECK_STATUS(store_open(&s, path, NULL, 0), CCZ_ERR_IO);
    CHECK_CONTAINS(ccz_error_detail(), "a-file is not a directory");
    /* a file the store cannot create (a name over NAME_MAX): said as such */
    int n = snprintf(path, sizeof path, "%s/", test_tmpdir());
    memset(path + n, 'x', 300);
    path[n + 300] = 0;
    CHECK_STATUS(store_open(&s, path, NULL, 0), CCZ_ERR_IO);
    CHECK_CONTAINS(ccz_error_detail(), "cannot create: File name too long");
}

/* Messages of the store at or above the level set, appended to a char[2048]. */
static void keep_log(ccz_log_level level, const char *msg, void *payload)
{
    (void)level;
    char *buf = payload;
    size_t n = strlen(buf);
    snprintf(buf + n, 2048 - n, "%s\n", msg);
}

static void test_not_a_store(void)
{
    if (sqlite_only())
        return;
    const char *junk = db_path("junk.db");
    FILE *f = fopen(junk, "w");
    CHECK(f != NULL);
    if (f) {
        fputs("this is not a database file, it is only text that is long enough to look at\n"
              "0123456789012345678901234567890123456789012345678901234567890123456789\n",
              f);
        fclose(f);
    }
    store *s = NULL;
    ccz_log_set_level(CCZ_LOG_OFF);
    CHECK_STATUS(store_open(&s, junk, NULL, 0), CCZ_ERR_MALFORMED);
    ccz_log_set_level(CCZ_LOG_WARN);
    /* another program's SQLite database (its own application_id) is left alone */
    const char *other = db_path("other.db");
    sqlite3 *db = NULL;
    CHECK_INT(sqlite3_open(other, &db), SQLITE_OK);
    CHECK_INT(sqlite3_exec(db, "PRAGMA application_id = 42; CREATE TABLE t (x)", NULL, NULL, NULL),
              SQLITE_OK);
    sqlite3_close(db);
    CHECK_INT(chmod(other, 0644), 0);
    char log[2048] = "";
    ccz_log_set_sink(keep_log, log); /* its mode 0644 is warned about */
    CHECK_STATUS(store_open(&s, other, NULL, 0), CCZ_ERR_UNSUPPORTED);
    ccz_log_set_sink(NULL, NULL);
    CHECK_CONTAINS(ccz_error_detail(), "not a ccz store");
    CHECK_CONTAINS(log, "others may read it (mode 644); 0600 is expected");
    /* a link in the store's place is not followed, even to a ccz store: the state (and its
     * secrets) stay in the file the path names */
    const char *real = db_path("real.db");
    CHECK_OK(store_open(&s, real, NULL, 0));
    store_close(s);
    s = NULL;
    char link[4200];
    snprintf(link, sizeof link, "%s.link", real);
    CHECK_INT(symlink(real, link), 0);
    ccz_log_set_level(CCZ_LOG_OFF);
    CHECK_STATUS(store_open(&s, link, NULL, 0), CCZ_ERR_IO);
    ccz_log_set_level(CCZ_LOG_WARN);
    CHECK(s == NULL);
    CHECK_CONTAINS(ccz_error_detail(), "unable to open database file");
}

/* A ccz store whose pages after the first are damaged (a bad disk, a torn copy): refused as
 * CCZ_ERR_MALFORMED, SQLite's "malformed" in the message, not read as an empty or partial store. */
static void test_damaged_store(void)
{
    if (sqlite_only())
        return;
    const char *path = db_path("damaged.db");
    store *s = NULL;
    CHECK_OK(store_open(&s, path, v1, CCZ_ARRAY_LEN(v1)));
    uint8_t value[512];
    memset(value, 0x5a, sizeof value);
    for (int i = 0; i < 64; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        CHECK_OK(store_kv_put(s, "ns", key, value, sizeof value, 0));
    }
    store_close(s); /* the last connection: the WAL goes into the file */
    FILE *f = fopen(path, "r+b");
    CHECK(f != NULL);
    if (f) {
        CHECK(fseek(f, 0, SEEK_END) == 0);
        long size = ftell(f);
        CHECK(size > 8 * 4096);
        uint8_t junk[4096];
        memset(junk, 0xa5, sizeof junk);
        for (long at = 4096; at < size; at += 4096) { /* page 1 (the header, the schema) kept */
            CHECK(fseek(f, at, SEEK_SET) == 0);
            CHECK_INT(fwrite(junk, 1, sizeof junk, f), sizeof junk);
        }
        fclose(f);
    }
    ccz_log_set_level(CCZ_LOG_OFF);
    ccz_status st = store_open(&s, path, v1, CCZ_ARRAY_LEN(v1));
    if (st == CCZ_OK) {
        ccz_buf out = CCZ_BUF_INIT;
        st = store_kv_get(s, &out, "ns", "k1");
        ccz_buf_free(&out);
        store_close(s);
    }
    ccz_log_set_level(CCZ_LOG_WARN);
    CHECK_STATUS(st, CCZ_ERR_MALFORMED);
    CHECK_CONTAINS(ccz_error_detail(), "malformed");
}

/* ---- key-value -------------------------------------------------------------------------------*/

static void test_put_get_replace_delete(void)
{
    store *s = NULL;
    CHECK_OK(store_open(&s, memory_db(), NULL, 0));
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_STATUS(store_kv_get(s, &b, "ns", "k"), CCZ_ERR_NOT_FOUND);
    CHECK_OK(store_kv_put(s, "ns", "k", "one", 3, 0));
    CHECK_OK(store_kv_get(s, &b, "ns", "k"));
    CHECK_INT(b.len, 3);
    CHECK(memcmp(b.ptr, "one", 3) == 0);
    CHECK_OK(store_kv_put(s, "ns", "k", "second", 6, 0));
    ccz_buf_reset(&b);
    CHECK_OK(store_kv_get(s, &b, "ns", "k"));
    CHECK_STR((const char *)b.ptr, "second");
    /* namespaces are apart */
    CHECK_STATUS(store_kv_get(s, &b, "other", "k"), CCZ_ERR_NOT_FOUND);
    CHECK_INT(b.len, 6); /* a failed read leaves the buffer as it was */
    CHECK_STR((const char *)b.ptr, "second");
    /* get appends */
    CHECK_OK(store_kv_get(s, &b, "ns", "k"));
    CHECK_STR((const char *)b.ptr, "secondsecond");
    CHECK_OK(store_kv_delete(s, "ns", "k"));
    CHECK_STATUS(store_kv_delete(s, "ns", "k"), CCZ_ERR_NOT_FOUND);
    CHECK_STATUS(store_kv_get(s, &b, "ns", "k"), CCZ_ERR_NOT_FOUND);
    /* an empty value is a value, not an absence */
    CHECK_OK(store_kv_put(s, "ns", "empty", NULL, 0, 0));
    ccz_buf_reset(&b);
    CHECK_OK(store_kv_get(s, &b, "ns", "empty"));
    CHECK_INT(b.len, 0);
    ccz_buf_free(&b);
    store_close(s);
}

static void test_bad_names(void)
{
    store *s = NULL;
    CHECK_OK(store_open(&s, memory_db(), NULL, 0));
    char long_key[STORE_KEY_MAX + 2];
    memset(long_key, 'k', sizeof long_key - 1);
    long_key[sizeof long_key - 1] = 0;
    CHECK_STATUS(store_kv_put(s, "", "k", "v", 1, 0), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(store_kv_put(s, "ns", "", "v", 1, 0), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(store_kv_put(s, "ns", long_key, "v", 1, 0), CCZ_ERR_INVALID_ARGUMENT);
    long_key[STORE_KEY_MAX] = 0; /* exactly the limit is fine */
    CHECK_OK(store_kv_put(s, "ns", long_key, "v", 1, 0));
    CHECK_STATUS(store_kv_put(s, "ns", "\xc3\x28", "v", 1, 0), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(store_kv_put(s, "ns", "\xed\xa0\x80", "v", 1, 0), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_OK(store_kv_put(s, "ns", "caf\xc3\xa9 \xf0\x9f\x94\x91", "v", 1, 0));
    CHECK_STATUS(store_kv_put(s, "ns", NULL, "v", 1, 0), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(store_kv_put(s, "ns", "k", NULL, 1, 0), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(store_kv_put(s, "ns", "k", "v", 1, -1), CCZ_ERR_INVALID_ARGUMENT);
    store_close(s);
}

/* The names' rules exactly: each bound in bytes, and UTF-8 as RFC 3629 has it (no overlong
 * form, no surrogate, nothing above U+10FFFF, no stray continuation byte, no sequence cut short),
 * for a namespace as for a key; and the calls that need an output refuse to go without. */
static void test_name_rules(void)
{
    store *s = NULL;
    CHECK_OK(store_open(&s, memory_db(), NULL, 0));
    char ns[STORE_NS_MAX + 2], key[STORE_KEY_MAX + 2];
    memset(ns, 'n', sizeof ns - 1);
    ns[sizeof ns - 1] = 0;
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = 0;
    CHECK_STATUS(store_kv_put(s, ns, "k", "v", 1, 0), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "store: a namespace is 1 to 255 bytes (this one 256)");
    CHECK_STATUS(store_kv_put(s, "ns", key, "v", 1, 0), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "store: a key is 1 to 1024 bytes (this one 1025)");
    CHECK_STATUS(store_kv_put(s, "", "k", "v", 1, 0), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "store: a namespace is 1 to 255 bytes (this one 0)");
    ns[STORE_NS_MAX] = 0; /* exactly the limit is fine */
    CHECK_OK(store_kv_put(s, ns, "k", "v", 1, 0));

    static const char *const bad[] = {
        "\x80",             /* a continuation byte alone */
        "a\xbf",            /* the same after an ASCII byte */
        "\xc0\xaf",         /* overlong '/' in two bytes */
        "\xc1\xbf",         /* overlong U+007F */
        "\xe0\x80\xaf",     /* overlong '/' in three bytes */
        "\xe0\x9f\xbf",     /* overlong U+07FF */
        "\xed\xbf\xbf",     /* the surrogate U+DFFF */
        "\xf0\x80\x80\xaf", /* overlong '/' in four bytes */
        "\xf0\x8f\xbf\xbf", /* overlong U+FFFF */
        "\xf4\x90\x80\x80", /* U+110000 */
        "\xf5\x80\x80\x80", /* a lead byte past U+10FFFF */
        "\xf8\x88\x80\x80\x80",
        "\xff",
        "a\xc3",        /* cut short */
        "\xe2\x82",     /* cut short */
        "\xf0\x9f\x94", /* cut short */
        "\xe2\x28\xa1", /* a continuation that is not one */
    };
    for (size_t i = 0; i < CCZ_ARRAY_LEN(bad); i++) {
        CHECK_STATUS(store_kv_put(s, "ns", bad[i], "v", 1, 0), CCZ_ERR_INVALID_ARGUMENT);
        CHECK_STR(ccz_error_detail(), "store: a key must be UTF-8");
        CHECK_STATUS(store_kv_put(s, bad[i], "k", "v", 1, 0), CCZ_ERR_INVALID_ARGUMENT);
        CHECK_STR(ccz_error_detail(), "store: a namespace must be UTF-8");
    }
    /* the edges that are characters */
    static const char *const good[] = {"\x7f",         "\xc2\x80",         "\xdf\xbf",
                                       "\xe0\xa0\x80", "\xed\x9f\xbf",     "\xee\x80\x80",
                                       "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf"};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(good); i++)
        CHECK_OK(store_kv_put(s, good[i], good[i], "v", 1, 0));

    CHECK_STATUS(store_kv_get(s, NULL, ns, "k"), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "store_kv_get: no output buffer");
    CHECK_STATUS(store_kv_list(s, ns, NULL, NULL), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STR(ccz_error_detail(), "store_kv_list: no callback");
    store_close(s);
}

static void test_take_single_use(void)
{
    store *s = NULL;
    CHECK_OK(store_open(&s, memory_db(), NULL, 0));
    ccz_buf b;
    ccz_buf_init(&b, 0, true);
    CHECK_OK(store_kv_put(s, "nonce", "abc", "\x01\x02", 2, 0));
    CHECK_OK(store_kv_take(s, &b, "nonce", "abc"));
    CHECK_INT(b.len, 2);
    CHECK(b.ptr[0] == 1 && b.ptr[1] == 2);
    CHECK_STATUS(store_kv_take(s, &b, "nonce", "abc"), CCZ_ERR_NOT_FOUND);
    CHECK_INT(b.len, 2);
    CHECK_STATUS(store_kv_get(s, &b, "nonce", "abc"), CCZ_ERR_NOT_FOUND);
    CHECK_STATUS(store_kv_take(s, NULL, "nonce", "never"), CCZ_ERR_NOT_FOUND);
    ccz_buf_free(&b);
    store_close(s);
}

static void test_expiry_with_clock(void)
{
    store *s = NULL;
    CHECK_OK(store_open(&s, memory_db(), NULL, 0));
    fake_now = 1000;
    store_set_clock(s, fake_clock, NULL);
    CHECK_INT(store_now(s), 1000);
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_OK(store_kv_put(s, "nonce", "n1", "a", 1, 1010));
    CHECK_OK(store_kv_put(s, "nonce", "n2", "b", 1, 1010));
    CHECK_OK(store_kv_put(s, "nonce", "n3", "c", 1, 1010));
    CHECK_OK(store_kv_put(s, "nonce", "forever", "d", 1, 0));
    fake_now = 1009; /* the last second it is live */
    CHECK_OK(store_kv_get(s, &b, "nonce", "n1"));
    fake_now = 1010; /* expired at exactly its expiry */
    CHECK_STATUS(store_kv_get(s, &b, "nonce", "n1"), CCZ_ERR_NOT_FOUND);
    CHECK_STATUS(store_kv_take(s, &b, "nonce", "n2"), CCZ_ERR_NOT_FOUND);
    CHECK_STATUS(store_kv_delete(s, "nonce", "n3"), CCZ_ERR_NOT_FOUND);
    CHECK_INT(b.len, 1);
    /* take and delete removed the expired n2 and n3 as they refused them; n1 waits for a
     * purge */
    CHECK_INT(count(s, "SELECT count(*) FROM store_kv"), 2);
    /* replacing an expired value revives the key */
    CHECK_OK(store_kv_put(s, "nonce", "n1", "A", 1, 2000));
    ccz_buf_reset(&b);
    CHECK_OK(store_kv_get(s, &b, "nonce", "n1"));
    CHECK_STR((const char *)b.ptr, "A");
    fake_now = 1u << 30;
    CHECK_OK(store_kv_get(s, &b, "nonce", "forever"));
    int64_t mine = 4242;
    store_set_clock(s, payload_clock, &mine); /* the clock is given its payload */
    CHECK_INT(store_now(s), 4242);
    store_set_clock(s, NULL, NULL); /* the real clock again */
    CHECK(store_now(s) > 1700000000);
    ccz_buf_free(&b);
    store_close(s);
}

/* store_kv_add: first writer wins; an expired value does not count as one */
static void test_add_first_wins(void)
{
    store *s = NULL;
    CHECK_OK(store_open(&s, memory_db(), NULL, 0));
    fake_now = 1000;
    store_set_clock(s, fake_clock, NULL);
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_OK(store_kv_add(s, "kms", "check", "first", 5, 0));
    CHECK_STATUS(store_kv_add(s, "kms", "check", "second", 6, 0), CCZ_ERR_EXISTS);
    CHECK_OK(store_kv_get(s, &b, "kms", "check"));
    CHECK_STR((const char *)b.ptr, "first");
    CHECK_OK(store_kv_add(s, "other", "check", "apart", 5, 0)); /* namespaces are apart */
    CHECK_OK(store_kv_add(s, "nonce", "n", "a", 1, 1010));
    fake_now = 1009;
    CHECK_STATUS(store_kv_add(s, "nonce", "n", "b", 1, 0), CCZ_ERR_EXISTS);
    fake_now = 1010; /* expired: replaced, with its new expiry */
    CHECK_OK(store_kv_add(s, "nonce", "n", "c", 1, 0));
    ccz_buf_reset(&b);
    fake_now = 1u << 30;
    CHECK_OK(store_kv_get(s, &b, "nonce", "n"));
    CHECK_STR((const char *)b.ptr, "c");
    CHECK_STATUS(store_kv_add(s, "", "k", "v", 1, 0), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(store_kv_add(s, "ns", "k", NULL, 1, 0), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_OK(store_kv_add(s, "ns", "empty", NULL, 0, 0)); /* an empty value is a value */
    ccz_buf_reset(&b);
    CHECK_OK(store_kv_get(s, &b, "ns", "empty"));
    CHECK_INT(b.len, 0);
    CHECK_STATUS(store_kv_add(s, "ns", "k", "v", 1, -1), CCZ_ERR_INVALID_ARGUMENT);
    store_set_clock(s, NULL, NULL);
    ccz_buf_free(&b);
    store_close(s);
}

static void test_purge(void)
{
    store *s = NULL;
    CHECK_OK(store_open(&s, memory_db(), NULL, 0));
    CHECK_OK(store_kv_put(s, "a", "1", "x", 1, 100));
    CHECK_OK(store_kv_put(s, "a", "2", "x", 1, 200));
    CHECK_OK(store_kv_put(s, "b", "3", "x", 1, 150));
    CHECK_OK(store_kv_put(s, "b", "4", "x", 1, 0));
    CHECK_OK(store_kv_purge_expired(s, 99));
    CHECK_INT(count(s, "SELECT count(*) FROM store_kv"), 4);
    CHECK_OK(store_kv_purge_expired(s, 150)); /* at or before now: 1 and 3 */
    CHECK_INT(count(s, "SELECT count(*) FROM store_kv"), 2);
    CHECK_INT(count(s, "SELECT count(*) FROM store_kv WHERE key IN ('2', '4')"), 2);
    CHECK_OK(store_kv_purge_expired(s, INT64_MAX));
    CHECK_INT(count(s, "SELECT count(*) FROM store_kv"), 1); /* never-expiring 4 stays */
    store_close(s);
}

typedef struct {
    char keys[8][16];
    char values[8][16];
    int64_t expires[8];
    int n;
    int stop_after;
} listing;

static ccz_status collect(const char *key, ccz_span value, int64_t expires, void *payload)
{
    listing *l = payload;
    if (l->stop_after && l->n == l->stop_after)
        return CCZ_ERR_EXISTS; /* any status: it must come back unchanged */
    if (l->n < 8) {
        snprintf(l->keys[l->n], sizeof l->keys[0], "%s", key);
        snprintf(l->values[l->n], sizeof l->values[0], "%.*s", (int)value.len,
                 (const char *)value.ptr);
        l->expires[l->n] = expires;
    }
    l->n++;
    return CCZ_OK;
}

static void test_list_order(void)
{
    store *s = NULL;
    CHECK_OK(store_open(&s, memory_db(), NULL, 0));
    fake_now = 500;
    store_set_clock(s, fake_clock, NULL);
    const char *keys[] = {"b", "a/b", "c", "A", "a", "gone"};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(keys); i++)
        CHECK_OK(store_kv_put(s, "res", keys[i], keys[i], strlen(keys[i]),
                              strcmp(keys[i], "gone") == 0 ? 400
                              : i == 2                     ? 900
                                                           : 0));
    CHECK_OK(store_kv_put(s, "other", "0", "x", 1, 0));
    listing l = {0};
    CHECK_OK(store_kv_list(s, "res", collect, &l));
    CHECK_INT(l.n, 5); /* "gone" expired, "other" elsewhere */
    const char *want[] = {"A", "a", "a/b", "b", "c"};
    for (int i = 0; i < 5; i++) {
        CHECK_STR(l.keys[i], want[i]);
        CHECK_STR(l.values[i], want[i]);
    }
    CHECK_INT(l.expires[4], 900);
    CHECK_INT(l.expires[0], 0);
    listing stop = {0};
    stop.stop_after = 2;
    CHECK_STATUS(store_kv_list(s, "res", collect, &stop), CCZ_ERR_EXISTS);
    CHECK_INT(stop.n, 2);
    listing none = {0};
    CHECK_OK(store_kv_list(s, "empty", collect, &none));
    CHECK_INT(none.n, 0);
    store_close(s);
}

/* ---- statements ------------------------------------------------------------------------------*/

static void test_constraints(void)
{
    store *s = NULL;
    CHECK_OK(store_open(&s, memory_db(), v2, CCZ_ARRAY_LEN(v2)));
    const char *ins = "INSERT INTO item (id, n) VALUES (?, ?)";
    int64_t changes = -1;
    CHECK_OK(store_exec(s, &changes, ins, STORE_PARAMS(STORE_TEXT("x"), STORE_INT(1)), NULL, NULL));
    CHECK_INT(changes, 1);
    CHECK_STATUS(store_exec(s, NULL, ins, STORE_PARAMS(STORE_TEXT("x"), STORE_INT(2)), NULL, NULL),
                 CCZ_ERR_EXISTS);
    CHECK_CONTAINS(ccz_error_detail(),
                   DIALECT("UNIQUE constraint failed: item.id", "unique constraint \"item_pkey\""));
    CHECK_INT(count(s, "SELECT n FROM item WHERE id = 'x'"), 1); /* the first one stands */
    CHECK_STATUS(store_exec(s, NULL, ins, STORE_PARAMS(STORE_TEXT("y"), STORE_NULL), NULL, NULL),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), DIALECT("NOT NULL", "not-null constraint"));
    /* foreign keys are on */
    CHECK_STATUS(store_exec(s, NULL, "INSERT INTO pet (name, owner) VALUES (?, ?)",
                            STORE_PARAMS(STORE_TEXT("rex"), STORE_TEXT("nobody")), NULL, NULL),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), DIALECT("FOREIGN KEY", "foreign key constraint"));
    CHECK_STATUS(
        store_exec(s, NULL, "INSERT INTO owner (name) VALUES ('ann')", NULL, 0, NULL, NULL),
        CCZ_OK);
    CHECK_STATUS(store_exec(s, NULL, "INSERT INTO pet (name, owner) VALUES (?, ?)",
                            STORE_PARAMS(STORE_TEXT(""), STORE_TEXT("ann")), NULL, NULL),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), DIALECT("CHECK", "check constraint"));
    /* changes counts what an update touched */
    CHECK_OK(store_exec(s, &changes, "UPDATE item SET n = n + 1", NULL, 0, NULL, NULL));
    CHECK_INT(changes, 1);
    CHECK_OK(store_exec(s, &changes, "SELECT id FROM item", NULL, 0, NULL, NULL));
    CHECK_INT(changes, 0);
    store_close(s);
}

/* PostgreSQL: statements that would handle a transaction or change a setting are refused
 * before they reach the server; a `?` inside quotes or a comment is not a placeholder. */
static void exec_rejects_pg(store *s)
{
    const char *denied[] = {"BEGIN",
                            "START TRANSACTION",
                            "COMMIT",
                            "ROLLBACK",
                            "SAVEPOINT x",
                            "RELEASE x",
                            "  end",
                            "ABORT",
                            "SET synchronous_commit = off",
                            "RESET ALL",
                            "DISCARD ALL",
                            "PREPARE p AS SELECT 1",
                            "/* c */ COMMIT",
                            "-- c\nSET fsync = off"};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(denied); i++) {
        CHECK_STATUS(store_exec(s, NULL, denied[i], NULL, 0, NULL, NULL), CCZ_ERR_INVALID_ARGUMENT);
        CHECK_CONTAINS(ccz_error_detail(), "not authorized");
    }
    CHECK_STATUS(store_exec(s, NULL, "SELECT 1; COMMIT", NULL, 0, NULL, NULL),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "more than one statement");
    CHECK_INT(count(s, "SELECT count(*) FROM item WHERE id <> '?;' /* ? */ -- ?"), 0);
    CHECK_INT(count(s, "SELECT length(E'\\'?') + length($q$?'$q$)"), 4);
    /* '' inside an E'' string is one quote, and the string goes on (a backslash escape and a ?
     * after it are still inside) */
    CHECK_INT(count(s, "SELECT length(E'it''s \\' ?')"), 8);
    CHECK_OK(store_exec(s, NULL, "SELECT ? /* ; */", STORE_PARAMS(STORE_INT(1)), NULL, NULL));
    CHECK_INT(count(s, "SELECT count(*) FROM item WHERE id = 'x;y' OR n = 2"), 0);
    /* a dollar-quote tag of any length (PostgreSQL sets none): the `?` and `;` inside are text,
     * the `?` after it a parameter */
    static const size_t tag_lens[] = {1, 69, 70, 200};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(tag_lens); i++) {
        char tag[256] = "", sql[600];
        memset(tag, 't', tag_lens[i]);
        snprintf(sql, sizeof sql, "SELECT length($%s$?;$%s$) + ?", tag, tag);
        int64_t n = -1;
        CHECK_OK(store_exec(s, NULL, sql, STORE_PARAMS(STORE_INT(40)), read_int, &n));
        CHECK_INT(n, 42);
    }
    /* a statement that starts with no word is not refused for it */
    CHECK_INT(count(s, "(SELECT 5)"), 5);
    /* e'' escapes as E'' does; a type name ending in e before a quote is no E prefix */
    CHECK_INT(count(s, "SELECT length(e'\\'?')"), 2);
    int64_t two = -1;
    CHECK_OK(store_exec(s, NULL, "SELECT length(name'\\') + ?", STORE_PARAMS(STORE_INT(1)),
                        read_int, &two));
    CHECK_INT(two, 2);
    /* block comments nest: the `?` inside the inner one's end is still comment */
    CHECK_OK(
        store_exec(s, NULL, "SELECT /* a /* b */ ? */ ?", STORE_PARAMS(STORE_INT(1)), NULL, NULL));
    /* the quote ends at its own tag, not at one that starts with it */
    CHECK_INT(count(s, "SELECT length($q$?$qq$?$q$)"), 6);
    /* a `$` inside an identifier starts no quote: x$q$ and y$q$ are names */
    int64_t v = -1;
    CHECK_OK(store_exec(s, NULL, "SELECT (SELECT 1 AS x$q$) * ? AS y$q$",
                        STORE_PARAMS(STORE_INT(7)), read_int, &v));
    CHECK_INT(v, 7);
    /* $1 is a parameter, never a tag: the `?`s after "$1$" are still counted, and the server
     * says what is wrong with the statement */
    CHECK_STATUS(
        store_exec(s, NULL, "SELECT ? $1$ ?", STORE_PARAMS(STORE_INT(1), STORE_INT(2)), NULL, NULL),
        CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "syntax error at or near \"$1\"");
    /* MERGE writes: changes counts its rows */
    int64_t changes = -1;
    CHECK_OK(store_exec(s, &changes,
                        "MERGE INTO item USING (SELECT 'm' AS id) AS src ON item.id = src.id "
                        "WHEN NOT MATCHED THEN INSERT (id, n) VALUES (src.id, 1)",
                        NULL, 0, NULL, NULL));
    CHECK_INT(changes, 1);
    CHECK_OK(store_exec(s, NULL, "DELETE FROM item WHERE id = 'm'", NULL, 0, NULL, NULL));
}

static void test_exec_rejects(void)
{
    store *s = NULL;
    CHECK_OK(store_open(&s, db_path("rejects.db"), v1, CCZ_ARRAY_LEN(v1)));
    ccz_log_set_level(CCZ_LOG_OFF);
    CHECK_STATUS(store_exec(s, NULL, "SELECT 1; DROP TABLE item", NULL, 0, NULL, NULL),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "more than one statement");
    CHECK_OK(store_exec(s, NULL, "SELECT 1;  \n", NULL, 0, NULL, NULL)); /* a trailing ; is fine */
    CHECK_STATUS(store_exec(s, NULL, "SELECT ?, ?", STORE_PARAMS(STORE_INT(1)), NULL, NULL),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "2 parameters and 1 values");
    CHECK_STATUS(
        store_exec(s, NULL, "SELECT ?", STORE_PARAMS(STORE_INT(1), STORE_INT(2)), NULL, NULL),
        CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "\"SELECT ?\" has 1 parameters and 2 values were given");
    CHECK_STATUS(store_exec(s, NULL, "SELEC 1", NULL, 0, NULL, NULL), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "syntax error");
    CHECK_STATUS(store_exec(s, NULL, "SELECT * FROM nothing", NULL, 0, NULL, NULL),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(store_exec(s, NULL, "", NULL, 0, NULL, NULL), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "store: no SQL statement in \"\"");
    CHECK_STATUS(store_exec(s, NULL, "SELECT ?", NULL, 1, NULL, NULL), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "store_exec: NULL argument");
    CHECK_STATUS(store_tx(s, NULL, NULL), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "store_tx: NULL argument");
    CHECK_STATUS(store_schema_version(s, NULL), CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "store_schema_version: NULL argument");
    CHECK_STATUS(store_exec(s, NULL, "SELECT ?", STORE_PARAMS(STORE_BLOB(NULL, 3)), NULL, NULL),
                 CCZ_ERR_INVALID_ARGUMENT);
    /* a blob over the backend's limit (SQLite's 1e9 bytes, PostgreSQL's 1 GiB) is refused
     * before a byte of it is read */
    static const uint8_t small[16];
    CHECK_STATUS(store_exec(s, NULL, "SELECT length(?)",
                            STORE_PARAMS(STORE_BLOB(small, 0x40000000)), NULL, NULL),
                 CCZ_ERR_TOO_LARGE);
    if (pg_uri()) {
        exec_rejects_pg(s);
        ccz_log_set_level(CCZ_LOG_WARN);
        store_close(s);
        return;
    }
    /* "defensive": the schema cannot be written behind SQLite's back */
    CHECK_STATUS(store_exec(s, NULL, "DELETE FROM sqlite_schema", NULL, 0, NULL, NULL),
                 CCZ_ERR_INVALID_ARGUMENT);
    /* nor can a statement undo the store's settings, attach files, or handle transactions */
    const char *denied[] = {"PRAGMA writable_schema = ON",
                            "PRAGMA synchronous = OFF",
                            "PRAGMA journal_mode = DELETE",
                            "PRAGMA foreign_keys = OFF",
                            "ATTACH DATABASE ':memory:' AS other",
                            "BEGIN",
                            "COMMIT",
                            "ROLLBACK",
                            "SAVEPOINT x",
                            "RELEASE x"};
    for (size_t i = 0; i < CCZ_ARRAY_LEN(denied); i++) {
        CHECK_STATUS(store_exec(s, NULL, denied[i], NULL, 0, NULL, NULL), CCZ_ERR_INVALID_ARGUMENT);
        CHECK_CONTAINS(ccz_error_detail(), "not authorized");
    }
    /* not even as a statement the store ran itself while opening */
    CHECK_STATUS(store_exec(s, NULL, "PRAGMA journal_mode = WAL", NULL, 0, NULL, NULL),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_INT(count(s, "PRAGMA foreign_keys"), 1);
    CHECK_OK(store_exec(s, NULL, "PRAGMA table_info(item)", NULL, 0, NULL, NULL));
    ccz_log_set_level(CCZ_LOG_WARN);
    CHECK_INT(count(s, "SELECT count(*) FROM item"), 0); /* still there */
    store_close(s);
}

typedef struct {
    int64_t i[4];
    store_type t[6];
    char text[64];
    uint8_t blob[16];
    size_t blob_len;
    bool null_text, empty_blob_not_null, past_end_null;
    int columns;
} typed_row;

static ccz_status read_typed(const store_row *r, void *payload)
{
    typed_row *o = payload;
    o->columns = store_row_columns(r);
    for (int c = 0; c < 6; c++)
        o->t[c] = store_row_type(r, c);
    o->i[0] = store_row_int(r, 0);
    o->i[1] = store_row_int(r, 1);
    snprintf(o->text, sizeof o->text, "%s", store_row_text(r, 2));
    ccz_span b = store_row_blob(r, 3);
    o->blob_len = b.len;
    if (b.len <= sizeof o->blob)
        memcpy(o->blob, b.ptr, b.len);
    o->null_text = store_row_text(r, 4) == NULL && store_row_text(r, 99) == NULL;
    o->empty_blob_not_null =
        store_row_type(r, 5) == STORE_TYPE_BLOB && store_row_blob(r, 5).len == 0;
    o->i[2] = store_row_int(r, -1);
    o->past_end_null =
        store_row_type(r, 6) == STORE_TYPE_NULL && store_row_type(r, -1) == STORE_TYPE_NULL;
    return CCZ_OK;
}

/* Column 0 read with store_row_blob, into a NUL-terminated char[16]. */
static ccz_status read_blob_text(const store_row *r, void *payload)
{
    ccz_span b = store_row_blob(r, 0);
    snprintf(payload, 16, "%.*s", (int)b.len, b.ptr ? (const char *)b.ptr : "");
    return CCZ_OK;
}

static void test_typed_roundtrip(void)
{
    store *s = NULL;
    static const store_migration m[] = {
        {1, "CREATE TABLE t (a INTEGER, b INTEGER, c TEXT, d BLOB, e TEXT, f BLOB)",
         "CREATE TABLE t (a BIGINT, b BIGINT, c TEXT, d BYTEA, e TEXT, f BYTEA)"}};
    CHECK_OK(store_open(&s, memory_db(), m, 1));
    const uint8_t blob[] = {0x00, 'a', 0x00, 0xff, 0x00};
    const char *text = "it's \"quoted\"; -- not a comment";
    CHECK_OK(store_exec(s, NULL, "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)",
                        STORE_PARAMS(STORE_INT(INT64_MIN), STORE_INT(INT64_MAX), STORE_TEXT(text),
                                     STORE_BLOB(blob, sizeof blob), STORE_TEXT(NULL),
                                     STORE_BLOB(NULL, 0)),
                        NULL, NULL));
    typed_row o;
    memset(&o, 0, sizeof o);
    CHECK_OK(store_exec(s, NULL, "SELECT a, b, c, d, e, f FROM t", NULL, 0, read_typed, &o));
    CHECK_INT(o.columns, 6);
    CHECK(o.i[0] == INT64_MIN && o.i[1] == INT64_MAX && o.i[2] == 0);
    CHECK_INT(o.t[0], STORE_TYPE_INT);
    CHECK_INT(o.t[2], STORE_TYPE_TEXT);
    CHECK_INT(o.t[3], STORE_TYPE_BLOB);
    CHECK_INT(o.t[4], STORE_TYPE_NULL);
    CHECK_STR(o.text, text);
    CHECK_INT(o.blob_len, sizeof blob);
    CHECK(memcmp(o.blob, blob, sizeof blob) == 0);
    CHECK(o.null_text);
    CHECK(o.empty_blob_not_null);
    CHECK(o.past_end_null); /* a column past the row's is NULL */
    /* text read as a blob is its bytes: a text that looks like bytea's hex form is not decoded */
    char as_blob[16] = "";
    CHECK_OK(store_exec(s, NULL, "SELECT '\\x41'", NULL, 0, read_blob_text, as_blob));
    CHECK_STR(as_blob, "\\x41");
    /* a parameter matches by value, NULs and all */
    CHECK_INT(count(s, DIALECT("SELECT count(*) FROM t WHERE d = x'006100ff00'",
                               "SELECT count(*) FROM t WHERE d = '\\x006100ff00'::bytea")),
              1);
    store_close(s);
}

static void test_injection_shaped_key(void)
{
    store *s = NULL;
    CHECK_OK(store_open(&s, memory_db(), NULL, 0));
    const char *key = "x'); DROP TABLE store_kv; --";
    const char *ns = "ns' OR '1'='1";
    CHECK_OK(store_kv_put(s, ns, key, key, strlen(key), 0));
    CHECK_OK(store_kv_put(s, "ns", "plain", "p", 1, 0));
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_OK(store_kv_get(s, &b, ns, key));
    CHECK_STR((const char *)b.ptr, key);
    CHECK_INT(count(s, "SELECT count(*) FROM store_kv"), 2);
    listing l = {0};
    CHECK_OK(store_kv_list(s, ns, collect, &l));
    CHECK_INT(l.n, 1);
    CHECK(strncmp(l.keys[0], key, sizeof l.keys[0] - 1) == 0);
    CHECK_STATUS(store_kv_get(s, &b, "ns", key), CCZ_ERR_NOT_FOUND);
    CHECK_OK(store_kv_take(s, NULL, ns, key));
    CHECK_INT(count(s, "SELECT count(*) FROM store_kv WHERE key = 'plain'"), 1);
    ccz_buf_free(&b);
    store_close(s);
}

/* ---- transactions ----------------------------------------------------------------------------*/

typedef struct {
    const char *id;
    ccz_status result;
    bool nested_fails;
} tx_job;

static ccz_status insert_then(store *s, void *payload)
{
    tx_job *j = payload;
    CCZ_GUARD(store_exec(s, NULL, "INSERT INTO item (id, n) VALUES (?, 1)",
                         STORE_PARAMS(STORE_TEXT(j->id)), NULL, NULL));
    CCZ_GUARD(store_kv_put(s, "tx", j->id, "v", 1, 0));
    return j->result;
}

static ccz_status outer_with_nested(store *s, void *payload)
{
    tx_job *j = payload;
    tx_job inner = {"inner", j->nested_fails ? CCZ_ERR_POLICY_REJECTED : CCZ_OK, false};
    CCZ_GUARD(
        store_exec(s, NULL, "INSERT INTO item (id, n) VALUES ('outer', 1)", NULL, 0, NULL, NULL));
    ccz_status st = store_tx(s, insert_then, &inner);
    if (st != (j->nested_fails ? CCZ_ERR_POLICY_REJECTED : CCZ_OK))
        return CCZ_ERR_IO;
    return CCZ_OK;
}

/* A nested transaction that succeeds, then an outer one that fails. */
static ccz_status nested_then_fail(store *s, void *payload)
{
    (void)payload;
    tx_job inner = {"inner", CCZ_OK, false};
    CCZ_GUARD(
        store_exec(s, NULL, "INSERT INTO item (id, n) VALUES ('outer', 1)", NULL, 0, NULL, NULL));
    CCZ_GUARD(store_tx(s, insert_then, &inner));
    return CCZ_ERR_POLICY_REJECTED;
}

/* Takes a nonce and records a session in one transaction: both or neither. */
static ccz_status take_and_record(store *s, void *payload)
{
    CCZ_GUARD(store_kv_take(s, NULL, "nonce", "n"));
    return store_exec(s, NULL, "INSERT INTO item (id, n) VALUES (?, 0)",
                      STORE_PARAMS(STORE_TEXT((const char *)payload)), NULL, NULL);
}

static void test_transactions(void)
{
    store *s = NULL;
    CHECK_OK(store_open(&s, memory_db(), v1, CCZ_ARRAY_LEN(v1)));
    tx_job ok = {"committed", CCZ_OK, false}, bad = {"undone", CCZ_ERR_POLICY_REJECTED, false};
    CHECK_OK(store_tx(s, insert_then, &ok));
    CHECK_STATUS(store_tx(s, insert_then, &bad), CCZ_ERR_POLICY_REJECTED);
    CHECK_INT(count(s, "SELECT count(*) FROM item WHERE id = 'committed'"), 1);
    CHECK_INT(count(s, "SELECT count(*) FROM item WHERE id = 'undone'"), 0);
    CHECK_INT(count(s, "SELECT count(*) FROM store_kv WHERE ns = 'tx'"), 1);
    /* a nested transaction that fails rolls back alone */
    tx_job nest = {"", CCZ_OK, true};
    CHECK_OK(store_tx(s, outer_with_nested, &nest));
    CHECK_INT(count(s, "SELECT count(*) FROM item WHERE id = 'outer'"), 1);
    CHECK_INT(count(s, "SELECT count(*) FROM item WHERE id = 'inner'"), 0);
    CHECK_INT(count(s, "SELECT count(*) FROM store_kv WHERE key = 'inner'"), 0);
    /* a nested transaction that succeeded is undone with the outer one that fails after it */
    CHECK_OK(store_exec(s, NULL, "DELETE FROM item WHERE id = 'outer'", NULL, 0, NULL, NULL));
    CHECK_STATUS(store_tx(s, nested_then_fail, NULL), CCZ_ERR_POLICY_REJECTED);
    CHECK_INT(count(s, "SELECT count(*) FROM item WHERE id IN ('outer', 'inner')"), 0);
    CHECK_INT(count(s, "SELECT count(*) FROM store_kv WHERE key = 'inner'"), 0);
    /* a take and an insert commit together, or neither happens */
    CHECK_OK(store_kv_put(s, "nonce", "n", "1", 1, 0));
    CHECK_STATUS(store_tx(s, take_and_record, "committed"), CCZ_ERR_EXISTS);
    CHECK_INT(count(s, "SELECT count(*) FROM store_kv WHERE ns = 'nonce'"), 1); /* not used up */
    CHECK_OK(store_tx(s, take_and_record, "session-1"));
    CHECK_STATUS(store_tx(s, take_and_record, "session-2"), CCZ_ERR_NOT_FOUND);
    CHECK_INT(count(s, "SELECT count(*) FROM item WHERE id LIKE 'session-%'"), 1);
    store_close(s);
}

/* Inserts 'first', then a row whose conflict clause makes SQLite roll the whole transaction
 * back (INSERT OR ROLLBACK), then, ignoring that failure, 'after'; returns CCZ_OK whatever
 * happened, as a careless caller would. payload gets the third statement's status. */
static ccz_status past_a_rollback(store *s, void *payload)
{
    CCZ_GUARD(
        store_exec(s, NULL, "INSERT INTO item (id, n) VALUES ('first', 1)", NULL, 0, NULL, NULL));
    CHECK_STATUS(store_exec(s, NULL, "INSERT OR ROLLBACK INTO item (id, n) VALUES ('first', 2)",
                            NULL, 0, NULL, NULL),
                 CCZ_ERR_EXISTS);
    *(ccz_status *)payload =
        store_exec(s, NULL, "INSERT INTO item (id, n) VALUES ('after', 1)", NULL, 0, NULL, NULL);
    return CCZ_OK;
}

/* Like past_a_rollback, but returns the failure, as a careful caller would. */
static ccz_status fail_by_rollback(store *s, void *payload)
{
    (void)payload;
    CCZ_GUARD(
        store_exec(s, NULL, "INSERT INTO item (id, n) VALUES ('first', 1)", NULL, 0, NULL, NULL));
    return store_exec(s, NULL, "INSERT OR ROLLBACK INTO item (id, n) VALUES ('first', 2)", NULL, 0,
                      NULL, NULL);
}

static ccz_status insert_inner(store *s, void *payload)
{
    (void)payload;
    return store_exec(s, NULL, "INSERT INTO item (id, n) VALUES ('inner', 1)", NULL, 0, NULL, NULL);
}

/* Like past_a_rollback, but goes on with a nested transaction; payload gets its status. */
static ccz_status nested_past_a_rollback(store *s, void *payload)
{
    CCZ_GUARD(
        store_exec(s, NULL, "INSERT INTO item (id, n) VALUES ('first', 1)", NULL, 0, NULL, NULL));
    CHECK_STATUS(store_exec(s, NULL, "INSERT OR ROLLBACK INTO item (id, n) VALUES ('first', 2)",
                            NULL, 0, NULL, NULL),
                 CCZ_ERR_EXISTS);
    *(ccz_status *)payload = store_tx(s, insert_inner, NULL);
    return CCZ_OK;
}

/* Like past_a_rollback, but then reads the schema version; payload gets that read's status. */
static ccz_status version_past_a_rollback(store *s, void *payload)
{
    CCZ_GUARD(
        store_exec(s, NULL, "INSERT INTO item (id, n) VALUES ('first', 1)", NULL, 0, NULL, NULL));
    CHECK_STATUS(store_exec(s, NULL, "INSERT OR ROLLBACK INTO item (id, n) VALUES ('first', 2)",
                            NULL, 0, NULL, NULL),
                 CCZ_ERR_EXISTS);
    int64_t v = -1;
    *(ccz_status *)payload = store_schema_version(s, &v);
    return CCZ_OK;
}

/* A transaction the database ended by itself: a statement after it is refused (it would run
 * on its own and commit at once), and so is the transaction's commit, each saying why. */
static void test_tx_ended_by_database(void)
{
    if (sqlite_only())
        return;
    store *s = NULL;
    CHECK_OK(store_open(&s, memory_db(), v1, CCZ_ARRAY_LEN(v1)));
    ccz_status after = CCZ_OK;
    CHECK_STATUS(store_tx(s, past_a_rollback, &after), CCZ_ERR_IO);
    CHECK_CONTAINS(ccz_error_detail(), "the transaction was rolled back by an earlier error");
    CHECK_STATUS(after, CCZ_ERR_IO);
    CHECK_INT(count(s, "SELECT count(*) FROM item"), 0);
    /* the handle is usable after */
    CHECK_OK(
        store_exec(s, NULL, "INSERT INTO item (id, n) VALUES ('later', 1)", NULL, 0, NULL, NULL));
    CHECK_INT(count(s, "SELECT count(*) FROM item"), 1);
    /* the function returns the failure that ended it: that failure is the outcome, and no
     * rollback of a transaction that is no more is tried (nor logged as failed) */
    char log[2048] = "";
    ccz_log_set_sink(keep_log, log);
    CHECK_STATUS(store_tx(s, fail_by_rollback, NULL), CCZ_ERR_EXISTS);
    ccz_log_set_sink(NULL, NULL);
    CHECK_CONTAINS(ccz_error_detail(), "UNIQUE constraint failed: item.id");
    CHECK_STR(log, "");
    CHECK_INT(count(s, "SELECT count(*) FROM item"), 1);
    /* so is a nested transaction after it: its savepoint would start and commit one of its own */
    ccz_status nested = CCZ_OK;
    CHECK_STATUS(store_tx(s, nested_past_a_rollback, &nested), CCZ_ERR_IO);
    CHECK_STATUS(nested, CCZ_ERR_IO);
    CHECK_INT(count(s, "SELECT count(*) FROM item WHERE id = 'inner'"), 0);
    CHECK_INT(count(s, "SELECT count(*) FROM item"), 1);
    /* and so is a read of the schema version */
    ccz_status version = CCZ_OK;
    CHECK_STATUS(store_tx(s, version_past_a_rollback, &version), CCZ_ERR_IO);
    CHECK_STATUS(version, CCZ_ERR_IO);
    CHECK_INT(count(s, "SELECT count(*) FROM item"), 1);
    store_close(s);
}

/* ---- threads ---------------------------------------------------------------------------------*/

#define THREADS 4
#define PER_THREAD 60

static atomic_int taken[THREADS][PER_THREAD];
static atomic_int wrong_value, errors;

typedef struct {
    store *s;
    int id;
} worker;

static void key_of(char *out, size_t n, int t, int j)
{
    snprintf(out, n, "t%d-%d", t, j);
}

static void take_one(store *s, int t, int j, ccz_buf *b)
{
    char key[32];
    key_of(key, sizeof key, t, j);
    ccz_buf_reset(b);
    ccz_status st = store_kv_take(s, b, "nonce", key);
    if (st == CCZ_OK) {
        atomic_fetch_add(&taken[t][j], 1);
        if (b->len != strlen(key) || memcmp(b->ptr, key, b->len) != 0)
            atomic_fetch_add(&wrong_value, 1);
    } else if (st != CCZ_ERR_NOT_FOUND) {
        atomic_fetch_add(&errors, 1);
    }
}

static void *work(void *arg)
{
    worker *w = arg;
    ccz_buf b = CCZ_BUF_INIT;
    char key[32];
    for (int j = 0; j < PER_THREAD; j++) {
        key_of(key, sizeof key, w->id, j);
        if (store_kv_put(w->s, "nonce", key, key, strlen(key), 0) != CCZ_OK)
            atomic_fetch_add(&errors, 1);
        /* race the others for the keys put so far, each thread in its own order */
        for (int t = 0; t < THREADS; t++)
            take_one(w->s, (t + w->id) % THREADS, j, &b);
    }
    ccz_buf_free(&b);
    return NULL;
}

static void test_threads_share_a_handle(void)
{
    store *s = NULL;
    CHECK_OK(store_open(&s, db_path("threads.db"), NULL, 0));
    pthread_t th[THREADS];
    worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){s, i};
        test_thread(&th[i], work, &w[i]);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    /* whatever no thread got to is taken now: every key exactly once in all */
    ccz_buf b = CCZ_BUF_INIT;
    for (int t = 0; t < THREADS; t++)
        for (int j = 0; j < PER_THREAD; j++)
            take_one(s, t, j, &b);
    int once = 0;
    for (int t = 0; t < THREADS; t++)
        for (int j = 0; j < PER_THREAD; j++)
            once += atomic_load(&taken[t][j]) == 1;
    CHECK_INT(once, THREADS * PER_THREAD);
    CHECK_INT(atomic_load(&wrong_value), 0);
    CHECK_INT(atomic_load(&errors), 0);
    CHECK_INT(count(s, "SELECT count(*) FROM store_kv"), 0);
    ccz_buf_free(&b);
    store_close(s);
}

/* Two handles on one file, as two processes would have: a take through one is seen by the
 * other, and a write waits for the other's transaction instead of failing. */
typedef struct {
    store *other;
    ccz_status seen;
} cross;

static ccz_status write_while_other_waits(store *s, void *payload)
{
    (void)s;
    cross *c = payload;
    /* the other handle cannot write now: its busy timeout would wait, so only read */
    ccz_buf b = CCZ_BUF_INIT;
    c->seen = store_kv_get(c->other, &b, "nonce", "shared");
    ccz_buf_free(&b);
    return store_kv_put(s, "nonce", "inside", "1", 1, 0);
}

static void test_two_handles(void)
{
    const char *path = db_path("two.db");
    store *a = NULL, *b = NULL;
    CHECK_OK(store_open(&a, path, NULL, 0));
    CHECK_OK(store_open(&b, path, NULL, 0));
    CHECK_OK(store_kv_put(a, "nonce", "shared", "s", 1, 0));
    cross c = {b, CCZ_ERR_IO};
    CHECK_OK(store_tx(a, write_while_other_waits, &c));
    CHECK_STATUS(c.seen, CCZ_OK); /* readers are not blocked by a writer (WAL) */
    CHECK_OK(store_kv_take(b, NULL, "nonce", "shared"));
    CHECK_STATUS(store_kv_take(a, NULL, "nonce", "shared"), CCZ_ERR_NOT_FOUND);
    CHECK_OK(store_kv_take(b, NULL, "nonce", "inside"));
    store_close(b);
    store_close(a);
}

/* Another process holding the write lock: a write waits out the busy timeout (5 s) and fails
 * as unavailable (the services answer 503, which clients retry), naming the lock; once the lock
 * is gone the same write succeeds. */
/* A row callback that drops the table its statement is still reading. */
static ccz_status drop_kv(const store_row *r, void *payload)
{
    (void)r;
    return store_exec(payload, NULL, "DROP TABLE store_kv", NULL, 0, NULL, NULL);
}

static void test_locked_is_unavailable(void)
{
    if (sqlite_only())
        return;
    const char *path = db_path("locked.db");
    store *s = NULL;
    CHECK_OK(store_open(&s, path, NULL, 0));
    sqlite3 *other = NULL;
    CHECK_INT(sqlite3_open(path, &other), SQLITE_OK);
    CHECK_INT(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    ccz_log_set_level(CCZ_LOG_OFF); /* the store logs the failure */
    CHECK_STATUS(store_kv_put(s, "nonce", "n", "v", 1, 0), CCZ_ERR_UNAVAILABLE);
    CHECK_CONTAINS(ccz_error_detail(), "database is locked");
    ccz_log_set_level(CCZ_LOG_WARN);
    CHECK_INT(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    CHECK_OK(store_kv_put(s, "nonce", "n", "v", 1, 0));
    /* a table locked by the handle's own statement (SQLITE_LOCKED, not BUSY): the same */
    ccz_log_set_level(CCZ_LOG_OFF);
    CHECK_STATUS(store_exec(s, NULL, "SELECT key FROM store_kv", NULL, 0, drop_kv, s),
                 CCZ_ERR_UNAVAILABLE);
    ccz_log_set_level(CCZ_LOG_WARN);
    CHECK_CONTAINS(ccz_error_detail(), "database table is locked");
    store_close(s);
}

/* ---- SQLite settings and the file ------------------------------------------------------------*/

typedef struct {
    char text[16];
    int64_t i;
} pragma;

static ccz_status read_pragma(const store_row *r, void *payload)
{
    pragma *p = payload;
    snprintf(p->text, sizeof p->text, "%s", store_row_text(r, 0) ? store_row_text(r, 0) : "");
    p->i = store_row_int(r, 0);
    return CCZ_OK;
}

static void test_durability_settings(void)
{
    if (sqlite_only())
        return;
    store *s = NULL;
    CHECK_OK(store_open(&s, db_path("pragmas.db"), NULL, 0));
    pragma p;
    CHECK_OK(store_exec(s, NULL, "PRAGMA journal_mode", NULL, 0, read_pragma, &p));
    CHECK_STR(p.text, "wal");
    CHECK_OK(store_exec(s, NULL, "PRAGMA synchronous", NULL, 0, read_pragma, &p));
    CHECK_INT(p.i, 2); /* FULL: the WAL is synced at every commit */
    CHECK_OK(store_exec(s, NULL, "PRAGMA foreign_keys", NULL, 0, read_pragma, &p));
    CHECK_INT(p.i, 1);
    CHECK_OK(store_exec(s, NULL, "PRAGMA secure_delete", NULL, 0, read_pragma, &p));
    CHECK_INT(p.i, 1);
    CHECK_OK(store_exec(s, NULL, "PRAGMA busy_timeout", NULL, 0, read_pragma, &p));
    CHECK_INT(p.i, 5000);
    CHECK_OK(store_exec(s, NULL, "PRAGMA temp_store", NULL, 0, read_pragma, &p));
    CHECK_INT(p.i, 2); /* MEMORY: temporary sorts never reach a file */
    CHECK_OK(store_exec(s, NULL, "PRAGMA application_id", NULL, 0, read_pragma, &p));
    CHECK_INT(p.i, 0x63637a53);
    store_close(s);
}

static void test_file_mode(void)
{
    if (sqlite_only())
        return;
    const char *path = db_path("private.db");
    mode_t old = umask(0); /* even with a permissive umask */
    store *s = NULL;
    CHECK_OK(store_open(&s, path, NULL, 0));
    CHECK_OK(store_kv_put(s, "secret", "k", "v", 1, 0));
    umask(old);
    struct stat st;
    CHECK_INT(stat(path, &st), 0);
    CHECK_INT(st.st_mode & 0777, 0600);
    char wal[4200];
    snprintf(wal, sizeof wal, "%s-wal", path);
    CHECK_INT(stat(wal, &st), 0); /* open, written: the log exists */
    CHECK_INT(st.st_mode & 0777, 0600);
    snprintf(wal, sizeof wal, "%s-shm", path);
    CHECK_INT(stat(wal, &st), 0);
    CHECK_INT(st.st_mode & 0777, 0600);
    store_close(s);
}

/* ---- SQLite out of memory -------------------------------------------------------------------
 * SQLite's allocator replaced by one that fails its N-th allocation, for N across a whole
 * session (open with migrations, writes, reads, a transaction, close): every run ends in
 * CCZ_OK (SQLite tolerated it) or CCZ_ERR_NOMEM, and nothing leaks (the ASan pass) or crashes. */

static sqlite3_mem_methods real_mem;
static atomic_long sq_seen, sq_fail_at, sq_failed;

static bool sq_fail_now(void)
{
    long k = atomic_fetch_add(&sq_seen, 1) + 1;
    if (k != atomic_load(&sq_fail_at))
        return false;
    atomic_fetch_add(&sq_failed, 1);
    return true;
}

static void *sq_malloc(int n)
{
    return sq_fail_now() ? NULL : real_mem.xMalloc(n);
}

static void *sq_realloc(void *p, int n)
{
    return sq_fail_now() ? NULL : real_mem.xRealloc(p, n);
}

static ccz_status oom_tx(store *s, void *payload)
{
    (void)payload;
    CCZ_GUARD(store_kv_take(s, NULL, "nonce", "n"));
    return store_exec(s, NULL, "INSERT INTO item (id, n) VALUES (?, ?)",
                      STORE_PARAMS(STORE_TEXT("s"), STORE_INT(1)), NULL, NULL);
}

static ccz_status oom_session(const char *path)
{
    store *s = NULL;
    ccz_buf b = CCZ_BUF_INIT;
    ccz_status st = store_open(&s, path, v2, CCZ_ARRAY_LEN(v2));
    if (st == CCZ_OK)
        st = store_kv_put(s, "nonce", "n", "value", 5, 0);
    if (st == CCZ_OK)
        st = store_kv_get(s, &b, "nonce", "n");
    if (st == CCZ_OK)
        st = store_tx(s, oom_tx, NULL);
    if (st == CCZ_OK) {
        listing l = {0};
        st = store_kv_list(s, "nonce", collect, &l);
    }
    ccz_buf_free(&b);
    store_close(s);
    return st;
}

static void remove_db(const char *path)
{
    char p[4200];
    remove(path);
    snprintf(p, sizeof p, "%s-wal", path);
    remove(p);
    snprintf(p, sizeof p, "%s-shm", path);
    remove(p);
}

static void test_sqlite_out_of_memory(void)
{
    if (sqlite_only())
        return;
    CHECK_INT(sqlite3_shutdown(), SQLITE_OK);
    CHECK_INT(sqlite3_config(SQLITE_CONFIG_GETMALLOC, &real_mem), SQLITE_OK);
    sqlite3_mem_methods failing = real_mem;
    failing.xMalloc = sq_malloc;
    failing.xRealloc = sq_realloc;
    CHECK_INT(sqlite3_config(SQLITE_CONFIG_MALLOC, &failing), SQLITE_OK);
    ccz_log_set_level(CCZ_LOG_OFF);
    /* a file costs fsyncs (synchronous=FULL): fewer positions there */
    const char *paths[] = {":memory:", db_path("oom.db")};
    const long cap[] = {300, 40};
    for (size_t p = 0; p < CCZ_ARRAY_LEN(paths); p++) {
        atomic_store(&sq_fail_at, 0);
        atomic_store(&sq_seen, 0);
        CHECK_OK(oom_session(paths[p]));
        remove_db(paths[p]);
        long total = atomic_load(&sq_seen), positions = total < cap[p] ? total : cap[p];
        CHECK(total > 100);
        int bad = 0, nomem = 0;
        for (long k = 0; k < positions; k++) {
            atomic_store(&sq_seen, 0);
            atomic_store(&sq_failed, 0);
            atomic_store(&sq_fail_at, 1 + k * total / positions);
            ccz_status st = oom_session(paths[p]);
            remove_db(paths[p]);
            nomem += st == CCZ_ERR_NOMEM;
            if (st != CCZ_OK && st != CCZ_ERR_NOMEM && bad++ < 5)
                fprintf(stderr, "%s: allocation %ld of %ld failed: %s (%s)\n", paths[p],
                        1 + k * total / positions, total, ccz_status_name(st), ccz_error_detail());
        }
        CHECK_INT(bad, 0);
        CHECK(nomem > 0);
    }
    ccz_log_set_level(CCZ_LOG_WARN);
    atomic_store(&sq_fail_at, 0);
    CHECK_INT(sqlite3_shutdown(), SQLITE_OK);
    CHECK_INT(sqlite3_config(SQLITE_CONFIG_MALLOC, &real_mem), SQLITE_OK);
}

/* A take that fails after it appended the value (the disk full as its deletion commits: the
 * WAL may not grow) leaves the caller's buffer as it was: its old length and bytes, its
 * terminating NUL, and the value's bytes past the old end wiped; the value stays stored. */
static void test_failed_take_leaves_buffer(void)
{
    if (sqlite_only())
        return;
    const char *path = db_path("full.db");
    store *s = NULL;
    CHECK_OK(store_open(&s, path, NULL, 0));
    CHECK_OK(store_kv_put(s, "ns", "k", "SECRET-VALUE-16B", 16, 0));
    ccz_buf b = CCZ_BUF_INIT;
    CHECK_OK(ccz_buf_append(&b, "old", 3));
    CHECK_OK(ccz_buf_reserve(&b, 64)); /* no reallocation: the bytes past the end stay put */
    memset(b.ptr + b.len, 0, 64);
    struct rlimit old_limit, full = {1, 1};
    CHECK_INT(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
    full.rlim_max = old_limit.rlim_max;
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    CHECK_INT(setrlimit(RLIMIT_FSIZE, &full), 0);
    ccz_log_set_level(CCZ_LOG_OFF);
    ccz_status st = store_kv_take(s, &b, "ns", "k");
    ccz_log_set_level(CCZ_LOG_WARN);
    CHECK_INT(setrlimit(RLIMIT_FSIZE, &old_limit), 0);
    signal(SIGXFSZ, old_handler);
    CHECK_STATUS(st, CCZ_ERR_IO);
    CHECK_CONTAINS(ccz_error_detail(), "disk I/O error");
    CHECK_INT(b.len, 3);
    CHECK(memcmp(b.ptr, "old", 4) == 0); /* the NUL too */
    static const uint8_t zero[16];
    CHECK(memcmp(b.ptr + 3, zero, sizeof zero) == 0);
    ccz_buf_reset(&b);
    CHECK_OK(store_kv_get(s, &b, "ns", "k"));
    CHECK_INT(b.len, 16);
    ccz_buf_free(&b);
    store_close(s);
}

/* ---- PostgreSQL only -------------------------------------------------------------------------*/

static bool pg_only(void)
{
    if (!pg_uri())
        printf("  %s: PostgreSQL only (CCZ_TEST_PG unset: tests/store/test_store_pg.sh)\n",
               test_name);
    return pg_uri() == NULL;
}

typedef struct {
    store *other;
    ccz_status seen_inside;
} replica_peek;

static ccz_status put_and_peek(store *s, void *payload)
{
    replica_peek *p = payload;
    CCZ_GUARD(store_kv_put(s, "r", "pending", "p", 1, 0));
    ccz_buf b = CCZ_BUF_INIT;
    p->seen_inside = store_kv_get(p->other, &b, "r", "pending");
    ccz_buf_free(&b);
    return CCZ_OK;
}

/* Two replicas (two handles, as two processes would have) on one database: each sees what the
 * other committed, and nothing of a transaction still open. */
static void test_pg_replicas(void)
{
    if (pg_only())
        return;
    const char *uri = memory_db();
    store *a = NULL, *b = NULL;
    CHECK_OK(store_open(&a, uri, v2, CCZ_ARRAY_LEN(v2)));
    CHECK_OK(store_open(&b, uri, v2, CCZ_ARRAY_LEN(v2)));
    CHECK_OK(store_kv_put(a, "r", "k", "from a", 6, 0));
    ccz_buf buf = CCZ_BUF_INIT;
    CHECK_OK(store_kv_get(b, &buf, "r", "k"));
    CHECK_STR((const char *)buf.ptr, "from a");
    CHECK_OK(store_exec(b, NULL, "INSERT INTO item (id, n) VALUES (?, ?)",
                        STORE_PARAMS(STORE_TEXT("b1"), STORE_INT(5)), NULL, NULL));
    CHECK_INT(count(a, "SELECT n FROM item WHERE id = 'b1'"), 5);
    replica_peek p = {b, CCZ_OK};
    CHECK_OK(store_tx(a, put_and_peek, &p));
    CHECK_STATUS(p.seen_inside, CCZ_ERR_NOT_FOUND); /* not committed yet */
    ccz_buf_reset(&buf);
    CHECK_OK(store_kv_get(b, &buf, "r", "pending"));
    /* a nonce is taken once across replicas */
    CHECK_OK(store_kv_take(b, NULL, "r", "k"));
    CHECK_STATUS(store_kv_take(a, NULL, "r", "k"), CCZ_ERR_NOT_FOUND);
    ccz_buf_free(&buf);
    store_close(b);
    store_close(a);
}

typedef struct {
    const char *uri;
    ccz_status st;
    int64_t version;
} opener;

static void *open_replica(void *arg)
{
    opener *o = arg;
    store *s = NULL;
    o->st = store_open(&s, o->uri, v2, CCZ_ARRAY_LEN(v2));
    if (o->st == CCZ_OK)
        o->st = store_schema_version(s, &o->version);
    store_close(s);
    return NULL;
}

/* Replicas starting at once on a new database: the schema lock lets one migrate, and the
 * others find it done (without it, both would create the tables and one would fail). */
static void test_pg_replicas_migrate_at_once(void)
{
    if (pg_only())
        return;
    for (int round = 0; round < 3; round++) {
        const char *uri = memory_db();
        pthread_t th[3];
        opener o[3];
        for (int i = 0; i < 3; i++) {
            o[i] = (opener){uri, CCZ_ERR_IO, -1};
            test_thread(&th[i], open_replica, &o[i]);
        }
        for (int i = 0; i < 3; i++) {
            pthread_join(th[i], NULL);
            CHECK_STATUS(o[i].st, CCZ_OK);
            CHECK_INT(o[i].version, 2);
        }
    }
}

/* Every byte value, NULs included, through a bytea and back; an empty value stays a value. */
static void test_pg_nul_bytes(void)
{
    if (pg_only())
        return;
    store *s = NULL;
    CHECK_OK(store_open(&s, memory_db(), NULL, 0));
    uint8_t v[512];
    for (size_t i = 0; i < sizeof v; i++)
        v[i] = (uint8_t)(i % 3 == 0 ? 0 : i);
    CHECK_OK(store_kv_put(s, "bin", "k", v, sizeof v, 0));
    ccz_buf b;
    ccz_buf_init(&b, 0, true);
    CHECK_OK(store_kv_get(s, &b, "bin", "k"));
    CHECK_INT(b.len, sizeof v);
    CHECK(b.len == sizeof v && memcmp(b.ptr, v, sizeof v) == 0);
    CHECK_INT(count(s, "SELECT length(value) FROM store_kv WHERE key = 'k'"), sizeof v);
    ccz_buf_free(&b);
    store_close(s);
}

static char second_why[512];

static ccz_status fail_then_go_on(store *s, void *payload)
{
    ccz_status *second = payload;
    CCZ_GUARD(store_kv_put(s, "tx", "a", "1", 1, 0));
    CCZ_GUARD(
        store_exec(s, NULL, "INSERT INTO item (id, n) VALUES ('dup', 1)", NULL, 0, NULL, NULL));
    ccz_status st =
        store_exec(s, NULL, "INSERT INTO item (id, n) VALUES ('dup', 2)", NULL, 0, NULL, NULL);
    if (st != CCZ_ERR_EXISTS)
        return CCZ_ERR_POLICY;
    /* PostgreSQL aborted the transaction: the next statement is refused, not run */
    *second = store_kv_put(s, "tx", "b", "2", 1, 0);
    snprintf(second_why, sizeof second_why, "%s", ccz_error_detail());
    return CCZ_OK; /* as if the failure were handled: the commit must still not happen */
}

static ccz_status nested_fail_then_go_on(store *s, void *payload)
{
    return store_tx(s, fail_then_go_on, payload);
}

/* A transaction rolled back leaves nothing, and one PostgreSQL aborted after an error is not
 * committed even when its function returns CCZ_OK. */
static void test_pg_rollback_leaves_nothing(void)
{
    if (pg_only())
        return;
    store *s = NULL;
    CHECK_OK(store_open(&s, memory_db(), v1, CCZ_ARRAY_LEN(v1)));
    tx_job bad = {"undone", CCZ_ERR_POLICY_REJECTED, false};
    CHECK_STATUS(store_tx(s, insert_then, &bad), CCZ_ERR_POLICY_REJECTED);
    CHECK_INT(count(s, "SELECT count(*) FROM item"), 0);
    CHECK_INT(count(s, "SELECT count(*) FROM store_kv"), 0);
    ccz_status second = CCZ_OK;
    ccz_log_set_level(CCZ_LOG_OFF);
    CHECK_STATUS(store_tx(s, fail_then_go_on, &second), CCZ_ERR_IO);
    CHECK_CONTAINS(ccz_error_detail(), "aborted by an earlier error");
    CHECK_STATUS(second, CCZ_ERR_IO);
    CHECK_CONTAINS(second_why, "its remaining statements are not run"); /* not sent at all */
    ccz_log_set_level(CCZ_LOG_WARN);
    CHECK_INT(count(s, "SELECT count(*) FROM item"), 0);
    CHECK_INT(count(s, "SELECT count(*) FROM store_kv"), 0);
    /* the same inside a nested store_tx (a savepoint): its release is refused as the commit */
    second = CCZ_OK;
    ccz_log_set_level(CCZ_LOG_OFF);
    CHECK_STATUS(store_tx(s, nested_fail_then_go_on, &second), CCZ_ERR_IO);
    CHECK_CONTAINS(ccz_error_detail(), "aborted by an earlier error; nothing of it is committed");
    ccz_log_set_level(CCZ_LOG_WARN);
    CHECK_INT(count(s, "SELECT count(*) FROM item"), 0);
    /* and the handle works on */
    CHECK_OK(store_tx(s, insert_then, &(tx_job){"after", CCZ_OK, false}));
    CHECK_INT(count(s, "SELECT count(*) FROM item"), 1);
    store_close(s);
}

/* A login over TCP with a wrong password: CCZ_ERR_UNAVAILABLE, the server's reason, and the
 * password in no message; the right one works and stays out of later messages too. */
static void test_pg_wrong_password(void)
{
    if (pg_only())
        return;
    const char *port = getenv("CCZ_TEST_PG_PORT"), *pw = getenv("CCZ_TEST_PG_PASSWORD");
    CHECK(port && pw);
    if (!port || !pw)
        return;
    (void)memory_db();
    char uri[512];
    store *s = (store *)1;
    ccz_log_set_level(CCZ_LOG_OFF);
    snprintf(uri, sizeof uri, "postgresql://ccz_pw:not-%s@127.0.0.1:%s/ccz_test", pw, port);
    CHECK_STATUS(store_open(&s, uri, NULL, 0), CCZ_ERR_UNAVAILABLE);
    CHECK(s == NULL);
    CHECK_CONTAINS(ccz_error_detail(), "password authentication failed");
    CHECK(strstr(ccz_error_detail(), pw) == NULL);
    snprintf(uri, sizeof uri, "postgresql://127.0.0.1:%s/ccz_test?user=ccz_pw&password=%s", port,
             pw);
    CHECK_OK(store_open(&s, uri, v1, CCZ_ARRAY_LEN(v1)));
    CHECK_STATUS(store_exec(s, NULL, "SELECT * FROM nothing", NULL, 0, NULL, NULL),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "password=***");
    CHECK(strstr(ccz_error_detail(), pw) == NULL);
    ccz_log_set_level(CCZ_LOG_WARN);
    store_close(s);
}

/* The server ends the connection (a restart, an administrator): the statement that finds out
 * fails with CCZ_ERR_UNAVAILABLE, and the next one, outside a transaction, reconnects. */
static ccz_status refuse_tx(store *s, void *payload)
{
    (void)s, (void)payload;
    return ccz_fail(CCZ_ERR_POLICY_REJECTED, "refused");
}

/* A transaction whose connection is cut after its first write: the write that meets the cut
 * fails, and the one after it is refused, not run on a new connection outside the transaction
 * (store.c refuses it before the backend would). */
typedef struct {
    store *other;
    int64_t pid;
} cut_tx;

static ccz_status cut_in_tx(store *s, void *payload)
{
    cut_tx *t = payload;
    CHECK_OK(store_kv_put(s, "cut", "first", "v", 1, 0));
    int64_t done = 0;
    CHECK_OK(store_exec(t->other, NULL, "SELECT pg_terminate_backend(?::int, 5000)::int",
                        STORE_PARAMS(STORE_INT(t->pid)), read_int, &done));
    CHECK_INT(done, 1);
    CHECK_STATUS(store_kv_put(s, "cut", "second", "v", 1, 0), CCZ_ERR_UNAVAILABLE);
    CHECK_CONTAINS(ccz_error_detail(), "terminating connection due to administrator command");
    ccz_status st = store_kv_put(s, "cut", "third", "v", 1, 0);
    CHECK_STATUS(st, CCZ_ERR_IO);
    CHECK_CONTAINS(ccz_error_detail(), "the transaction was rolled back by an earlier error");
    return st;
}

static void test_pg_reconnect(void)
{
    if (pg_only())
        return;
    const char *uri = memory_db();
    store *a = NULL, *b = NULL;
    CHECK_OK(store_open(&a, uri, NULL, 0));
    CHECK_OK(store_open(&b, uri, NULL, 0));
    /* a transaction rolled back before: the handle is outside one again */
    CHECK_STATUS(store_tx(a, refuse_tx, NULL), CCZ_ERR_POLICY_REJECTED);
    int64_t pid = count(a, "SELECT pg_backend_pid()");
    CHECK_INT(count(b, "SELECT count(*) FROM pg_stat_activity WHERE pid = 0"), 0);
    int64_t done = 0;
    CHECK_OK(store_exec(b, NULL, "SELECT pg_terminate_backend(?::int, 5000)::int",
                        STORE_PARAMS(STORE_INT(pid)), read_int, &done));
    CHECK_INT(done, 1);
    ccz_log_set_level(CCZ_LOG_OFF);
    CHECK_STATUS(store_kv_put(a, "r", "k", "v", 1, 0), CCZ_ERR_UNAVAILABLE);
    CHECK_OK(store_kv_put(a, "r", "k", "v", 1, 0)); /* reconnected (a warning in the log) */
    ccz_log_set_level(CCZ_LOG_WARN);
    CHECK(count(a, "SELECT pg_backend_pid()") != pid);
    ccz_buf buf = CCZ_BUF_INIT;
    CHECK_OK(store_kv_get(b, &buf, "r", "k"));
    ccz_buf_free(&buf);
    /* cut inside a transaction: nothing of it is kept, and the handle reconnects after it */
    cut_tx t = {b, count(a, "SELECT pg_backend_pid()")};
    ccz_log_set_level(CCZ_LOG_OFF);
    CHECK_STATUS(store_tx(a, cut_in_tx, &t), CCZ_ERR_IO);
    ccz_log_set_level(CCZ_LOG_WARN);
    CHECK_INT(count(b, "SELECT count(*) FROM store_kv WHERE ns = 'cut'"), 0);
    CHECK_INT(count(a, "SELECT count(*) FROM store_kv WHERE ns = 'cut'"), 0);
    store_close(b);
    store_close(a);
}

/* synchronous_commit is on, whatever the session's default: a commit that returned is on the
 * server's disk. */
static void test_pg_settings(void)
{
    if (pg_only())
        return;
    store *s = NULL;
    CHECK_OK(store_open(&s, memory_db(), NULL, 0));
    pragma p;
    CHECK_OK(store_exec(s, NULL, "SELECT current_setting('synchronous_commit')", NULL, 0,
                        read_pragma, &p));
    CHECK_STR(p.text, "on");
    CHECK_OK(
        store_exec(s, NULL, "SELECT current_setting('client_encoding')", NULL, 0, read_pragma, &p));
    CHECK_STR(p.text, "UTF8");
    store_close(s);
    /* a session whose default is synchronous_commit off (here by libpq's options; a server's
     * setting alike) is set on */
    char uri[1024];
    snprintf(uri, sizeof uri, "%s%coptions=-c%%20synchronous_commit%%3Doff", pg_uri(),
             strchr(pg_uri(), '?') ? '&' : '?');
    ccz_log_set_level(CCZ_LOG_ERROR); /* its warning */
    CHECK_OK(store_open(&s, uri, NULL, 0));
    ccz_log_set_level(CCZ_LOG_WARN);
    CHECK_OK(store_exec(s, NULL, "SELECT current_setting('synchronous_commit')", NULL, 0,
                        read_pragma, &p));
    CHECK_STR(p.text, "on");
    store_close(s);
}

/* ---- statements run from a row callback -----------------------------------------------------*/

typedef struct {
    store *s;
    int depth;       /* of the callback running now (1 for the outermost statement) */
    int rows[24];    /* rows each depth saw */
    int64_t seen[8]; /* the outer statement's values, in order */
} nested;

static ccz_status nested_inner(const store_row *r, void *payload)
{
    nested *x = payload;
    (void)r;
    return ++x->rows[1] > 64 ? CCZ_ERR_TOO_LARGE : CCZ_OK;
}

/* Each row of the outer statement runs the same statement again: the one being stepped further
 * up must not be the one reused (and reset) below, or the outer loop starts over for ever. */
static ccz_status nested_outer(const store_row *r, void *payload)
{
    nested *x = payload;
    if (x->rows[0] >= 8)
        return CCZ_ERR_TOO_LARGE;
    x->seen[x->rows[0]++] = store_row_int(r, 0);
    return store_exec(x->s, NULL, "SELECT n FROM item ORDER BY n", NULL, 0, nested_inner, x);
}

/* One statement per depth, each of its own text, 20 deep: more statements being stepped at once
 * than the statement cache has slots; none of them is taken from under its caller. */
static ccz_status nested_deep(const store_row *r, void *payload)
{
    nested *x = payload;
    int d = x->depth;
    if (store_row_int(r, 0) != d)
        return CCZ_ERR_INVALID_ARGUMENT;
    x->rows[d]++;
    if (d == 20)
        return CCZ_OK;
    char sql[32];
    snprintf(sql, sizeof sql, "SELECT %d", d + 1);
    x->depth = d + 1;
    ccz_status st = store_exec(x->s, NULL, sql, NULL, 0, nested_deep, x);
    x->depth = d;
    return st;
}

static void test_nested_statements(void)
{
    nested x;
    memset(&x, 0, sizeof x);
    CHECK_OK(store_open(&x.s, memory_db(), v1, CCZ_ARRAY_LEN(v1)));
    for (int i = 1; i <= 3; i++)
        CHECK_OK(store_exec(x.s, NULL, "INSERT INTO item (id, n) VALUES (?, ?)",
                            STORE_PARAMS(STORE_TEXT(i == 1   ? "a"
                                                    : i == 2 ? "b"
                                                             : "c"),
                                         STORE_INT(i)),
                            NULL, NULL));
    CHECK_OK(store_exec(x.s, NULL, "SELECT n FROM item ORDER BY n", NULL, 0, nested_outer, &x));
    CHECK_INT(x.rows[0], 3);
    CHECK(x.seen[0] == 1 && x.seen[1] == 2 && x.seen[2] == 3);
    CHECK_INT(x.rows[1], 9);
    for (int round = 0; round < 2; round++) { /* the second round from the cache */
        memset(x.rows, 0, sizeof x.rows);
        x.depth = 1;
        CHECK_OK(store_exec(x.s, NULL, "SELECT 1", NULL, 0, nested_deep, &x));
        for (int d = 1; d <= 20; d++)
            CHECK_INT(x.rows[d], 1);
    }
    /* the rows a write changed, each kind of write */
    int64_t changes = -1;
    CHECK_OK(store_exec(x.s, &changes, "UPDATE item SET n = n + 10 WHERE n >= ?",
                        STORE_PARAMS(STORE_INT(2)), NULL, NULL));
    CHECK_INT(changes, 2);
    CHECK_OK(store_exec(x.s, &changes, "DELETE FROM item WHERE n > ?", STORE_PARAMS(STORE_INT(11)),
                        NULL, NULL));
    CHECK_INT(changes, 2);
    CHECK_OK(store_exec(x.s, &changes, "SELECT n FROM item", NULL, 0, NULL, NULL));
    CHECK_INT(changes, 0);
    store_close(x.s);
}

/* SQLite's hardening switches, each by what it refuses: a write to a virtual table's shadow table
 * (defensive), a virtual table used from a view (no trusted schema), a double-quoted word that
 * names no column (not taken for a string). */
static void test_sqlite_hardening(void)
{
    if (sqlite_only())
        return;
    store *s = NULL;
    CHECK_OK(store_open(&s, ":memory:", v1, CCZ_ARRAY_LEN(v1)));
    ccz_log_set_level(CCZ_LOG_OFF);
    CHECK_OK(store_exec(s, NULL, "CREATE VIRTUAL TABLE f USING fts5(x)", NULL, 0, NULL, NULL));
    CHECK_STATUS(store_exec(s, NULL, "INSERT INTO f_data (id, block) VALUES (99, x'00')", NULL, 0,
                            NULL, NULL),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "table f_data may not be modified");
    CHECK_OK(store_exec(s, NULL, "CREATE VIEW v AS SELECT x FROM f", NULL, 0, NULL, NULL));
    CHECK_STATUS(store_exec(s, NULL, "SELECT x FROM v", NULL, 0, NULL, NULL),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "unsafe use of virtual table");
    CHECK_STATUS(store_exec(s, NULL, "SELECT \"nothing\" FROM item", NULL, 0, NULL, NULL),
                 CCZ_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(ccz_error_detail(), "no such column: nothing");
    ccz_log_set_level(CCZ_LOG_WARN);
    store_close(s);
}

/* The server's SQLSTATEs as ccz_status, each raised by a DO block: retry-later classes
 * (connection, serialization and deadlock, lock timeouts, resources, cancellation and shutdown,
 * logins) apart from the caller's mistakes and the server's own failures. */
static void test_pg_sqlstates(void)
{
    if (pg_only())
        return;
    store *s = NULL;
    CHECK_OK(store_open(&s, memory_db(), NULL, 0));
    static const struct {
        const char *state;
        ccz_status want;
    } cases[] = {
        {"23505", CCZ_ERR_EXISTS},
        {"23503", CCZ_ERR_INVALID_ARGUMENT},
        {"22012", CCZ_ERR_INVALID_ARGUMENT},
        {"42601", CCZ_ERR_INVALID_ARGUMENT},
        {"0A000", CCZ_ERR_INVALID_ARGUMENT},
        {"3F000", CCZ_ERR_INVALID_ARGUMENT},
        {"2BP01", CCZ_ERR_INVALID_ARGUMENT},
        {"53200", CCZ_ERR_NOMEM},
        {"53100", CCZ_ERR_IO},
        {"54000", CCZ_ERR_TOO_LARGE},
        {"XX001", CCZ_ERR_MALFORMED},
        {"XX002", CCZ_ERR_MALFORMED},
        {"08006", CCZ_ERR_UNAVAILABLE},
        {"40001", CCZ_ERR_UNAVAILABLE},
        {"40P01", CCZ_ERR_UNAVAILABLE},
        {"55P03", CCZ_ERR_UNAVAILABLE},
        {"53300", CCZ_ERR_UNAVAILABLE},
        {"57014", CCZ_ERR_UNAVAILABLE},
        {"57P01", CCZ_ERR_UNAVAILABLE},
        {"28P01", CCZ_ERR_UNAVAILABLE},
        {"XX000", CCZ_ERR_IO},
        {"P0001", CCZ_ERR_IO},
    };
    ccz_log_set_level(CCZ_LOG_OFF);
    for (size_t i = 0; i < CCZ_ARRAY_LEN(cases); i++) {
        char sql[128];
        snprintf(sql, sizeof sql, "DO $$BEGIN RAISE EXCEPTION 'raised' USING ERRCODE = '%s'; END$$",
                 cases[i].state);
        ccz_status st = store_exec(s, NULL, sql, NULL, 0, NULL, NULL);
        if (st != cases[i].want)
            printf("  SQLSTATE %s: %d, expected %d\n", cases[i].state, (int)st, (int)cases[i].want);
        CHECK_STATUS(st, cases[i].want);
        char want[32];
        snprintf(want, sizeof want, "(SQLSTATE %s)", cases[i].state);
        CHECK_CONTAINS(ccz_error_detail(), want);
    }
    ccz_log_set_level(CCZ_LOG_WARN);
    /* a boolean reads as 1 or 0 */
    CHECK_INT(count(s, "SELECT 1 = 1"), 1);
    CHECK_INT(count(s, "SELECT 1 = 2"), 0);
    store_close(s);
}

TEST_MAIN(T(test_migrations_applied_once), T(test_failed_migration_rolls_back),
          T(test_migration_ddl), T(test_bad_migration_list), T(test_state_survives_restart),
          T(test_newer_schema_refused), T(test_missing_directory), T(test_not_a_store),
          T(test_damaged_store), T(test_put_get_replace_delete), T(test_bad_names),
          T(test_name_rules), T(test_take_single_use), T(test_expiry_with_clock),
          T(test_add_first_wins), T(test_purge), T(test_list_order), T(test_constraints),
          T(test_exec_rejects), T(test_typed_roundtrip), T(test_nested_statements),
          T(test_injection_shaped_key), T(test_transactions), T(test_tx_ended_by_database),
          T(test_threads_share_a_handle), T(test_locked_is_unavailable), T(test_two_handles),
          T(test_durability_settings), T(test_file_mode), T(test_sqlite_hardening),
          T(test_sqlite_out_of_memory), T(test_failed_take_leaves_buffer), T(test_pg_unreachable),
          T(test_pg_connect_timeout), T(test_pg_connect_timeout_default), T(test_pg_redact),
          T(test_pg_replicas), T(test_pg_replicas_migrate_at_once), T(test_pg_nul_bytes),
          T(test_pg_rollback_leaves_nothing), T(test_pg_wrong_password), T(test_pg_reconnect),
          T(test_pg_settings), T(test_pg_sqlstates))
