#!/bin/bash
# bench/store: the store calls the server makes most (release create,
# endpoint enroll, offers, a heartbeat flush, loading the fleet, events,
# counts, a lookup by id), timed on SQLite and on PostgreSQL side by side:
# both on this machine, PostgreSQL beside it in a throwaway server
# (tests/with_postgres.sh: Unix socket, fsync off, so this is the cost of
# the round trips and the SQL, not of a disk).
#
# usage: bench/store/run.sh [BUILD_DIR]
# env:   N (endpoints and events, default 2000)
# Last line: sqlite_KEY=us ... pg_KEY=us ... (mean wall microseconds per
# call; per row for flush_per_row and load_per_row).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
N=${N:-2000}
bench="$build/bench/store/store_bench"

work=$(mktemp -d /tmp/rollgate-bench-store.XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "== SQLite ($work/bench.db, WAL, synchronous=FULL)"
"$bench" "$work/bench.db" "$N" | tee "$work/sqlite.out" | head -n -1
echo "== PostgreSQL (throwaway, Unix socket, fsync off)"
"$root/tests/with_postgres.sh" sh -c '"$0" "$RG_TEST_PG" "$1"' "$bench" "$N" |
    tee "$work/pg.out" | head -n -1
echo "$(tail -n 1 "$work/sqlite.out" | sed 's/\([a-z_]*=\)/sqlite_\1/g')" \
    "$(tail -n 1 "$work/pg.out" | sed 's/\([a-z_]*=\)/pg_\1/g')"
