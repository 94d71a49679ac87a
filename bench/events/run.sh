#!/bin/bash
# bench/events: durable agent events per second through rollgated's group
# commit, in a real rollout over HTTP, beside the same check-ins without
# events; see README.md.
#
# usage: bench/events/run.sh [BUILD_DIR]
# env:   ENDPOINTS (default 200000), CONNECTIONS (default 512),
#        POLL_MS (an endpoint not yet offered checks in again after this,
#        default 500), MAX_S (the rollout's time limit, default 600)
# Last line: durable_events_per_s=N p99_ack_ms=M
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
ENDPOINTS=${ENDPOINTS:-200000}
CONNECTIONS=${CONNECTIONS:-512}
POLL_MS=${POLL_MS:-500}
MAX_S=${MAX_S:-600}

for tool in python3 curl; do
    command -v "$tool" >/dev/null || { echo "bench: $tool not found (scripts/deps.sh bench)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/rollgate-events.XXXXXX)
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_http() {
    for _ in $(seq 1 600); do
        curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "bench: $1 did not come up" >&2; exit 1
}

# --- a data directory with the fleet enrolled in bulk ----------------------
port=$(free_port)
url="http://127.0.0.1:$port"
token=$("$build/src/server/rollgated" init --data "$work/data" 2> "$work/init.log" | tail -n 1)
echo "bench: enrolling $ENDPOINTS endpoints in bulk..." >&2
python3 "$here/seed.py" "$work/data" "$ENDPOINTS" "$work/endpoints.txt"
# --max-per-address 0: wrk opens every connection from 127.0.0.1
"$build/src/server/rollgated" --data "$work/data" --listen "127.0.0.1:$port" \
    --log-level warn --access-log off --max-per-address 0 \
    2> "$work/rollgated.log" &
server_pid=$!
wait_http "$url/healthz"

api() {
    curl -fsS -X "$1" "$url$2" -H "Authorization: Bearer $token" \
        -H 'Content-Type: application/json' "${@:3}"
}
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }
metric() { curl -fsS "$url/metrics" | awk -v m="$1" '$1 == m {print $2}'; }

# --- a rollout whose one wave is the whole fleet ---------------------------
sha=$(printf 'bench events content\n' | api PUT /v1/artifacts --data-binary @- | json_field sha256)
api POST /v1/channels -d '{"name":"bench","description":"bench/events"}' >/dev/null
rel=$(api POST /v1/releases -d '{"channel":"bench","version":1,"artifact":"'"$sha"'","notes":"bench/events","urgency":"standard"}' | json_field id)
plan='{"name":"bench","waves":[{"name":"all","share":100,"min_endpoints":1,"min_bake_s":0}]}'
ro=$(api POST /v1/rollouts -d '{"release":'"$rel"',"plan":'"$plan"'}' | json_field id)

# --- the rollout, then the reference pass (events_load.c) ------------------
stored0=$(metric rollgate_events_stored_total)
echo "bench: rolling out to $ENDPOINTS endpoints over $CONNECTIONS connections..." >&2
"$build/bench/events/events_load" "$port" "$work/endpoints.txt" "$rel" \
    "$CONNECTIONS" "$POLL_MS" "$MAX_S" "$server_pid" > "$work/load.out" ||
    { cat "$work/load.out" >&2; echo "bench: the rollout did not finish" >&2; exit 1; }
v() { awk -v k="$1" '$1 == k {print $2}' "$work/load.out"; }
stored=$(( $(metric rollgate_events_stored_total) - stored0 ))
commits=$(metric rollgate_store_group_commits_total)
writes=$(metric rollgate_store_group_writes_total)
max_batch=$(metric rollgate_store_group_max_batch)
counts=$(api GET "/v1/rollouts/$ro" | python3 -c '
import json, sys
r = json.load(sys.stdin)
print((r.get("counts") or {}).get("healthy", "?"), r.get("state", "?"))')
# what the database holds once rollgated has stopped
kill "$server_pid"; wait "$server_pid" || true; server_pid=""
in_db=$(python3 -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute("SELECT count(*) FROM events").fetchone()[0])' "$work/data/rollgate.db")
printf '\n%-40s %12s %10s %10s\n' "bench/events ($ENDPOINTS endpoints, -c $CONNECTIONS)" \
    "per second" "p50 ms" "p99 ms"
printf '%-40s %12s %10s %10s\n' "check-ins with an event (ack = durable)" \
    "$(v events_per_s)" "$(v event_p50_ms)" "$(v event_p99_ms)"
printf '%-40s %12s %10s %10s\n' "  ... polls meanwhile (no event)" \
    "-" "$(v poll_p50_ms)" "$(v poll_p99_ms)"
printf '%-40s %12s %10s %10s\n' "reference: check-ins without events" \
    "$(v ref_per_s)" "$(v ref_p50_ms)" "$(v ref_p99_ms)"
printf '%-40s %s\n' "rollout to every endpoint (s)" "$(v rollout_s)"
us_per() { awk -v c="$1" -v n="$2" 'BEGIN { printf "%.1f", n ? c * 1e6 / n : 0 }'; }
printf '%-40s %s\n' "rollgated CPU us per check-in, rollout" \
    "$(us_per "$(v server_cpu_rollout_s)" $(( $(v event_checkins) + $(v poll_checkins) )))"
printf '%-40s %s\n' "rollgated CPU us per check-in, reference" \
    "$(us_per "$(v server_cpu_ref_s)" "$(v ref_checkins)")"
printf '%-40s %s\n' "load average at the end" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-40s %s\n' "reconnects (idle timeouts)" "$(v reconnects)"
printf '%-40s %s\n' "event check-ins acknowledged" "$(v event_checkins)"
printf '%-40s %s\n' "events counted stored (rollgated metric)" "$stored"
printf '%-40s %s\n' "events in the database after stopping" "$in_db"
printf '%-40s %s\n' "healthy endpoints, rollout state" "$counts"
printf '%-40s %s\n' "group commits / writes in them" "$commits / $writes"
printf '%-40s %s\n' "largest group commit (writes)" "$max_batch"
echo "durable_events_per_s=$(v events_per_s) p99_ack_ms=$(v event_p99_ms)"
