#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A throwaway PostgreSQL 15 server for the store's tests.
#   pg_server.sh start DIR   initdb into DIR/data, start it listening on a unix socket in DIR and
#                            on 127.0.0.1 at a free port, create the database ccz_test, and print
#                            its URI: postgresql:///ccz_test?host=DIR&port=PORT&user=ccz_test
#   pg_server.sh stop DIR    stop it (DIR itself is the caller's to remove)
# Local (socket) logins are trusted; TCP logins need a password (scram-sha-256): the role
# ccz_pw, password in DIR/password, exists for the tests of a wrong password. The port is in
# DIR/port. Run as root (CI), initdb and pg_ctl run as the postgres user, which owns DIR.
# Exits 77 when the server binaries are absent.
set -euo pipefail

bin=/usr/lib/postgresql/15/bin
cmd=${1:-}
dir=${2:-}
if [ -z "$dir" ] || { [ "$cmd" != start ] && [ "$cmd" != stop ]; }; then
    echo "usage: $0 start|stop DIR" >&2
    exit 2
fi
if [ ! -x "$bin/initdb" ]; then
    echo "PostgreSQL 15 server binaries absent (apt-get install postgresql)" >&2
    exit 77
fi

as_server() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

if [ "$cmd" = stop ]; then
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_server "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 20 stop >/dev/null
    fi
    exit 0
fi

mkdir -p "$dir"
chmod 700 "$dir"
if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$dir"
fi
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
echo "$port" >"$dir/port"
echo "ccz-wrong-horse-battery" >"$dir/password"
as_server "$bin/initdb" -D "$dir/data" -U ccz_test -E UTF8 --no-locale -N \
    --auth-local=trust --auth-host=scram-sha-256 >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    exit 1
}
# fsync off: a throwaway server; the store's own durability setting (synchronous_commit) is
# what the tests check
as_server "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "-k $dir -c listen_addresses=127.0.0.1 -p $port -c fsync=off -c full_page_writes=off" \
    start >/dev/null || {
    cat "$dir/server.log" >&2
    exit 1
}
psql_q() {
    "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U ccz_test "$@"
}
psql_q -d postgres -c "CREATE DATABASE ccz_test"
psql_q -d ccz_test -c "CREATE ROLE ccz_pw LOGIN SUPERUSER PASSWORD '$(cat "$dir/password")'"
echo "postgresql:///ccz_test?host=$dir&port=$port&user=ccz_test"
