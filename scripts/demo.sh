#!/bin/bash
# The `make demo` walk: starts rollgated on SQLite under ./var/demo, then
# drives the CLI through a channel, a release, a rollout and an enrolled
# endpoint checking in, with readable output. It prints the dashboard's
# URL and the admin token to paste there first (the walk can be watched
# live); afterwards the server URL and admin token again and keeps serving until Ctrl-C, or exits at
# once when DEMO_EXIT=1.
#
# usage: scripts/demo.sh [BUILD_DIR]    env: DEMO_PORT (default 7400), DEMO_EXIT,
#        DEMO_VAR (the directory it writes in, default ./var)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
port=${DEMO_PORT:-7400}
var=${DEMO_VAR:-$root/var}
data="$var/demo"
rollgated="$build/src/server/rollgated"
rollgate="$build/src/cli/rollgate"
url="http://127.0.0.1:$port"

bold() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '\033[2m$ %s\033[0m\n' "$*"; "$@"; }
json_field() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(d'"$1"')'; }

if curl -fsS -o /dev/null "$url/healthz" 2>/dev/null; then
    echo "demo: something already answers on $url; stop it or set DEMO_PORT" >&2
    exit 1
fi

bold "A fresh data directory: rollgated init --data var/demo"
rm -rf "$data"
mkdir -p "$var"
"$rollgated" init --data "$data" | tee "$var/demo-init.txt"
token=$(tail -n 1 "$var/demo-init.txt")

bold "Starting rollgated on $url (log: var/demo.log)"
"$rollgated" --data "$data" --listen "127.0.0.1:$port" --tick-ms 500 \
    --interval 2 2> "$var/demo.log" &
server=$!
stop_server() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }
trap stop_server EXIT
for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "$url/healthz" 2>/dev/null && break
    sleep 0.1
done
run curl -fsS "$url/healthz"; echo
echo "dashboard: $url/  (open it and paste the token below to watch this walk live)"
echo "token:     $token"

export ROLLGATE_URL="$url" ROLLGATE_TOKEN="$token"

bold "A channel for detection content"
run "$rollgate" channel create detections --description "detection rules for the sensor"
run "$rollgate" channel list

bold "An endpoint enrolls and checks in (what rollgate-agent does)"
key=$("$rollgate" --json enroll-key create --uses 10 | json_field '["key"]')
ep_token=$(curl -fsS -X POST "$url/v1/agent/enroll" -H 'Content-Type: application/json' \
    -d '{"enrollment_key":"'"$key"'","endpoint_id":"demo-host-1","attributes":{"os":"windows","os_version":"11","arch":"x86_64","tags":["internal"]}}' \
    | json_field '["token"]')
echo "enrolled demo-host-1 (token kept by the agent)"
checkin() {
    curl -fsS -X POST "$url/v1/agent/checkin" -H "Authorization: Bearer $ep_token" \
        -H 'Content-Type: application/json' -d "$1"
}
checkin '{"endpoint_id":"demo-host-1","installed":{},"events":[]}' | python3 -m json.tool
run "$rollgate" endpoints

bold "A release: content uploaded, with notes saying what and why"
content="$var/channel-291.rules"
printf 'rule named-pipe-detect v291\n' > "$content"
# It is live as soon as it is applied: declaring that (at most 2 s) lets
# the gate judge the endpoint now instead of learning the activation time.
run "$rollgate" release create --channel detections --file "$content" --version 291 \
    --notes "detect named-pipe abuse; fixes false positives on build hosts" \
    --activation none --activation-max 2s
release=$("$rollgate" --json release list --channel detections | json_field '["releases"][0]["id"]')

bold "A rollout through waves (a short plan for the demo)"
plan="$var/demo-plan.json"
cat > "$plan" <<'JSON'
{"name": "demo", "waves": [
  {"name": "internal", "internal": true, "share": 0, "min_bake_s": 2, "window_s": 5},
  {"name": "canary", "share": 10, "min_endpoints": 1, "min_bake_s": 2, "window_s": 5},
  {"name": "everyone", "share": 100, "min_bake_s": 2, "window_s": 5}]}
JSON
run "$rollgate" rollout start --release "$release" --plan "@$plan"
rollout=$("$rollgate" --json rollout list | json_field '["rollouts"][0]["id"]')

bold "The endpoint checks in, is offered the release, applies it and confirms"
# admitted once the orchestrator has measured the rollout (its next tick)
for _ in $(seq 1 50); do
    desired=$(checkin '{"endpoint_id":"demo-host-1","installed":{},"events":[]}')
    case "$desired" in *'"desired":{}'*) sleep 0.2 ;; *) break ;; esac
done
echo "$desired" | python3 -m json.tool
sha=$(echo "$desired" | json_field '["desired"]["detections"]["sha256"]')
curl -fsS -H "Authorization: Bearer $ep_token" "$url/v1/agent/artifacts/$sha" -o "$var/downloaded.rules"
echo "downloaded $(wc -c < "$var/downloaded.rules") bytes, sha256 $(sha256sum "$var/downloaded.rules" | cut -c1-16)..."
now=$(date +%s%3N)
checkin '{"endpoint_id":"demo-host-1","installed":{},"events":[{"id":"ev-1","type":"applying","channel":"detections","release":'"$release"',"at_ms":'"$now"'}]}' | json_field '["acks"]'
checkin '{"endpoint_id":"demo-host-1","installed":{"detections":{"release":'"$release"',"version":291,"sha256":"'"$sha"'"}},"events":[{"id":"ev-2","type":"healthy","channel":"detections","release":'"$release"',"at_ms":'"$now"'}]}' | json_field '["acks"]'

bold "Waiting for the rollout to pass its waves"
for _ in $(seq 1 60); do
    state=$("$rollgate" --json rollout status "$rollout" | json_field '["state"]')
    wave=$("$rollgate" --json rollout status "$rollout" | json_field '["wave_name"]')
    printf '\r  state=%-10s wave=%-10s' "$state" "$wave"
    [ "$state" = completed ] && break
    checkin '{"endpoint_id":"demo-host-1","installed":{"detections":{"release":'"$release"',"version":291,"sha256":"'"$sha"'"}},"events":[]}' > /dev/null
    sleep 1
done
echo
run "$rollgate" rollout status "$rollout"

bold "Real agents: five rollgate-agent processes, each supervising a consumer; three windows-10 ones form the internal ring"
agent="$build/src/agent/rollgate-agent"
key_real=$("$rollgate" --json enroll-key create --uses 5 | json_field '["key"]')
agent_pids=()
for i in 1 2 3 4 5; do
    case $i in 1 | 2 | 3) os=windows ver=10 tags=internal ;; *) os=ubuntu ver=22.04 tags=lab ;; esac
    dir="$var/agent-$i"
    rm -rf "$dir"
    mkdir -p "$dir"
    cat > "$dir/agent.conf" <<CONF
server = $url
enrollment_key = $key_real
state_dir = $dir/state
endpoint_id = real-agent-$i
os = $os
os_version = $ver
arch = x86_64
tags = $tags
interval = 2
settle = 2
# The demo's releases are unsigned: without a pinned root the agent applies
# nothing unless told it runs insecure (development only; docs/signing.md).
insecure = true

[channel detections]
consumer = exec $root/scripts/demo-consumer.sh "\$RG_CONTENT" $os-$ver-x86_64
CONF
    "$agent" --config "$dir/agent.conf" 2> "$dir/agent.log" &
    agent_pids+=($!)
    echo "real-agent-$i ($os $ver, $tags): state in var/agent-$i, log var/agent-$i/agent.log"
done
stop_agents() { kill "${agent_pids[@]}" 2>/dev/null || true; wait "${agent_pids[@]}" 2>/dev/null || true; }

sim="$build/src/sim/rollgate-sim"
bold "A simulated fleet: 300 agents over real HTTP (rollgate-sim live), 3 strata"
key2=$("$rollgate" --json enroll-key create --uses 300 | json_field '["key"]')
"$sim" live --server "$url" --endpoints 300 --enrollment-key "$key2" --interval 2 \
    --duration 150 --crash-checkins 2 --prefix fleet &
simpid=$!
stop_all() { kill "$simpid" 2>/dev/null || true; wait "$simpid" 2>/dev/null || true; stop_agents; stop_server; }
trap stop_all EXIT
live_plan="$var/demo-live-plan.json"
cat > "$live_plan" <<'JSON'
{"name": "demo-live", "on_halt": "revert", "waves": [
  {"name": "internal", "internal": true, "share": 0, "min_bake_s": 2, "window_s": 10},
  {"name": "10%", "share": 10, "min_endpoints": 1, "min_bake_s": 2, "window_s": 10},
  {"name": "everyone", "share": 100, "min_endpoints": 1, "min_bake_s": 2, "window_s": 10}]}
JSON
# wait ROLLOUT STATE...: progress until the rollout reaches one of STATEs
wait_rollout() {
    local id=$1; shift
    for _ in $(seq 1 120); do
        st=$("$rollgate" --json rollout status "$id" | json_field '["state"], d["wave_name"], d["counts"]["targeted"], d["counts"]["exposed"], d["counts"]["healthy"]')
        printf '  rollout %s: %s\n' "$id" "$st"
        for want in "$@"; do
            case "$st" in "$want "*) return 0 ;; esac
        done
        sleep 2
    done
}
sleep 4

bold "A good release (v292) goes out through the waves; exposure grows with healthy reports"
# The content is live once the agent has restarted its consumer: the release
# declares it, so the gate judges silence from 15 s after applying on
# instead of learning the activation time (docs/health.md).
printf 'rule named-pipe-detect v292\n' > "$var/channel-292.rules"
run "$rollgate" release create --channel detections --file "$var/channel-292.rules" \
    --version 292 --notes "tune named-pipe rule" \
    --activation restart --activation-max 15s
rel292=$("$rollgate" --json release list --channel detections | json_field '["releases"][0]["id"]')
run "$rollgate" rollout start --release "$rel292" --plan "@$live_plan"
ro292=$("$rollgate" --json rollout list | json_field '["rollouts"][0]["id"]')
wait_rollout "$ro292" completed halted paused held

bold "A bad release (v293) crashes every windows-10 endpoint: the internal ring meets it first"
printf 'rule named-pipe-detect v293\nFAULT crash windows-10-x86_64\n' > "$var/channel-293.rules"
run "$rollgate" release create --channel detections --file "$var/channel-293.rules" \
    --version 293 --notes "new template (21 fields)" \
    --activation restart --activation-max 15s
rel293=$("$rollgate" --json release list --channel detections | json_field '["releases"][0]["id"]')
run "$rollgate" rollout start --release "$rel293" --plan "@$live_plan"
ro293=$("$rollgate" --json rollout list | json_field '["rollouts"][0]["id"]')
wait_rollout "$ro293" halted completed paused held
sleep 6
bold "Why: rollgate rollout explain $ro293"
run "$rollgate" rollout explain "$ro293"
kill "$simpid" 2>/dev/null || true
wait "$simpid" 2>/dev/null || true

bold "The real agents: the windows-10 ones reverted on their own, no technician, no network needed"
for i in 1 2 3 4 5; do
    echo "-- real-agent-$i"
    "$agent" --config "$var/agent-$i/agent.conf" status | sed 's/^/   /'
    grep -E "revert|quarantin|crash" "$var/agent-$i/agent.log" | tail -n 3 | sed 's/^/   log: /' || true
done

bold "Who did what, when, why"
run "$rollgate" audit --limit 10

bold "Done"
echo "server:    $url"
echo "dashboard: $url/  (paste the token)"
echo "token:     $token"
echo "try:       ROLLGATE_URL=$url ROLLGATE_TOKEN=$token $rollgate rollout status $rollout"
if [ "${DEMO_EXIT:-0}" = 1 ]; then
    exit 0
fi
echo "serving in the foreground; Ctrl-C to stop"
wait "$server"
