#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# ccz-postgres's entrypoint: at first start (no $PGDATA/PG_VERSION) makes the cluster with the
# user POSTGRES_USER (password POSTGRES_PASSWORD, required) and the database POSTGRES_DB, then
# runs postgres in the foreground, listening on every address with scram-sha-256 only.
set -eu
: "${PGDATA:?}" "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD (the Secret ccz-postgres)}"
user=${POSTGRES_USER:-ccz}
db=${POSTGRES_DB:-kms}
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    mkdir -p "$PGDATA" && chmod 0700 "$PGDATA"
    pwfile=$(mktemp /tmp/pw.XXXXXX)
    printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
    initdb --pgdata="$PGDATA" --username="$user" --pwfile="$pwfile" --auth=scram-sha-256 \
        --encoding=UTF8 --locale=C.UTF-8 > /dev/null
    rm -f "$pwfile"
    echo "host all all 0.0.0.0/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
    echo "host all all ::/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
    pg_ctl --pgdata="$PGDATA" --options="-c listen_addresses=''" --wait start > /dev/null
    PGPASSWORD=$POSTGRES_PASSWORD psql --username="$user" --dbname=postgres --quiet \
        --command="CREATE DATABASE \"$db\" OWNER \"$user\"" > /dev/null
    pg_ctl --pgdata="$PGDATA" --mode=fast --wait stop > /dev/null
fi
exec postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/run/postgresql
