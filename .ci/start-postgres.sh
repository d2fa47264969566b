#!/usr/bin/env bash
# Installs PostgreSQL from Debian when missing and starts a throw-away server on loopback.
# Prints the URL to export as CAHIER_TEST_POSTGRES_URL. Idempotent: a server already started is reused.
set -euo pipefail
PORT="${CAHIER_PG_PORT:-54329}"
DIR="${CAHIER_PG_DIR:-/tmp/cahier-pg}"

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi
BIN=$(dirname "$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)")
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

if ! as_pg "$BIN/pg_ctl" -D "$DIR" status >/dev/null 2>&1; then
  rm -rf "$DIR"
  mkdir -p "$DIR"
  [ "$(id -u)" = 0 ] && chown postgres "$DIR"
  as_pg "$BIN/initdb" -D "$DIR" -A trust -U postgres -E UTF8 >&2
  as_pg "$BIN/pg_ctl" -D "$DIR" -w -l "$DIR/server.log" \
    -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off" start >&2
fi
echo "postgresql://postgres@127.0.0.1:$PORT/postgres"
