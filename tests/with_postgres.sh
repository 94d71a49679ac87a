#!/bin/sh
# tests/with_postgres.sh CMD [ARGS...]: runs CMD beside a throwaway
# PostgreSQL server and passes its exit status on.
#
# The server lives in a temporary directory (data and socket), listens on
# its Unix socket only (no TCP port to collide on), trusts local
# connections, and is stopped and removed when CMD ends, whatever the
# outcome (a trap on EXIT, INT and TERM). As root it runs as the system
# user rgtest (created if missing; PostgreSQL refuses root), otherwise as
# the calling user. CMD gets RG_TEST_PG, a libpq URL of the server's
# `postgres` database as superuser, and RG_TEST_PG_DIR (data in data/,
# socket and log in run/, pg_ctl in RG_TEST_PG_BIN, run by the command
# prefix RG_TEST_PG_AS with the options RG_TEST_PG_OPTS) for tests that
# stop and start it. Exit 77 (CTest's skip) when PostgreSQL is not installed
# (scripts/deps.sh installs it without starting any cluster).
set -eu

BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
    echo "with_postgres: no PostgreSQL server binaries (scripts/deps.sh)" >&2
    exit 77
fi

DIR=$(mktemp -d "${TMPDIR:-/tmp}/rg-pg-XXXXXX")
chmod 755 "$DIR"
AS=""
if [ "$(id -u)" = 0 ]; then
    id rgtest >/dev/null 2>&1 ||
        useradd --system --no-create-home --shell /usr/sbin/nologin rgtest
    AS="runuser -u rgtest --"
    install -d -o rgtest -g rgtest "$DIR/data" "$DIR/run"
else
    mkdir "$DIR/data" "$DIR/run"
fi
PORT=5432 # names the socket file only: the directory is ours alone

stop() {
    $AS "$BIN/pg_ctl" -D "$DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$DIR"
}
trap stop EXIT
trap 'exit 130' INT TERM

$AS "$BIN/initdb" -D "$DIR/data" -A trust -U postgres -E UTF8 \
    --locale=C.UTF-8 --no-sync >"$DIR/run/initdb.log" 2>&1 || {
    cat "$DIR/run/initdb.log" >&2
    exit 1
}
# fsync off: a throwaway server; what a test kills is processes, not the
# machine, and the page cache survives them.
OPTS="-p $PORT -k $DIR/run -c listen_addresses='' -c fsync=off"
$AS "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/run/pg.log" -w -o "$OPTS" \
    start >/dev/null || {
    cat "$DIR/run/pg.log" >&2
    exit 1
}

export RG_TEST_PG="postgres://postgres@/postgres?host=$DIR/run&port=$PORT"
export RG_TEST_PG_DIR="$DIR" RG_TEST_PG_BIN="$BIN" RG_TEST_PG_AS="$AS" \
    RG_TEST_PG_OPTS="$OPTS"
status=0
"$@" || status=$?
exit $status
