#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The store's tests again, against a throwaway PostgreSQL server (pg_server.sh): started here,
# stopped and removed at exit whatever the outcome. Usage: test_store_pg.sh TEST_BINARY
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
if [ ! -x /usr/lib/postgresql/15/bin/initdb ]; then
    why="PostgreSQL 15 server binaries absent (apt-get install postgresql)"
    if [ "${CI:-}" = true ]; then
        echo "FAIL store/test_store_pg: $why, and CI=true forbids skipping for it" >&2
        exit 1
    fi
    echo "skipped: $why"
    exit 77
fi
dir=$(mktemp -d /tmp/ccz-pg.XXXXXX)
cleanup() {
    bash "$here/pg_server.sh" stop "$dir" || true
    rm -rf "$dir"
}
trap cleanup EXIT
uri=$(bash "$here/pg_server.sh" start "$dir")
CCZ_TEST_PG=$uri CCZ_TEST_PG_PORT=$(cat "$dir/port") CCZ_TEST_PG_PASSWORD=$(cat "$dir/password") \
    "$1"
