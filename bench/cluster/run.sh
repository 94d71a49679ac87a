#!/bin/bash
# bench/cluster: several rollgated nodes on one PostgreSQL behind nginx
# (docs/scale.md, "Several nodes"), with 1, 2 and 3 nodes: check-ins/s and
# durable events/s through the load balancer (bench/events' load program:
# a real rollout to every endpoint, then a pass of event-free check-ins),
# and PostgreSQL's CPU time per 1,000 heartbeats the nodes flushed.
# On one 2-core machine the nodes, nginx, PostgreSQL and the load share the
# same cores: the table shows what more nodes cost, not how they scale.
#
# usage: bench/cluster/run.sh [BUILD_DIR]
# env:   ENDPOINTS (default 10000), CONNECTIONS (default 128),
#        NODES (the node counts to run, default "1 2 3"), MAX_S (each
#        rollout's time limit, default 300)
# Runs itself beside a throwaway PostgreSQL (tests/with_postgres.sh).
# Last line: checkins_per_s_1=... events_per_s_1=... ... pg_cpu_ms_per_1k_heartbeats=...
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
if [ -z "${RG_TEST_PG:-}" ]; then
    "$root/scripts/deps.sh" bench >/dev/null # nginx
    exec "$root/tests/with_postgres.sh" "$0" "$build"
fi
ENDPOINTS=${ENDPOINTS:-10000}
CONNECTIONS=${CONNECTIONS:-128}
NODES=${NODES:-"1 2 3"}
MAX_S=${MAX_S:-300}
for tool in nginx python3 curl psql; do
    command -v "$tool" >/dev/null || { echo "bench: $tool not found (scripts/deps.sh bench)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/rollgate-cluster.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
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
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }
# CPU seconds (user + system) so far of this bench's PostgreSQL: its
# postmaster and the processes it runs
pg_cpu() {
    local t=0 pid pm
    pm=$(head -n 1 "$RG_TEST_PG_DIR/data/postmaster.pid")
    for pid in "$pm" $(pgrep -P "$pm" || true); do
        [ -r "/proc/$pid/stat" ] || continue
        t=$((t + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
    done
    awk -v t="$t" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.3f", t / hz }'
}
# the sum of metric $1 over the nodes' ports $2...
metric_sum() {
    local m=$1 s=0 p v; shift
    for p in "$@"; do
        v=$(curl -fsS "http://127.0.0.1:$p/metrics" | awk -v m="$m" '$1 == m {print $2}')
        s=$((s + ${v:-0}))
    done
    echo "$s"
}

# run N: a fresh database, N nodes, nginx; prints "key value" lines
run() {
    local n=$1 db="rgbench$1" dir="$work/n$1" ports=() i
    mkdir -p "$dir"
    psql -q "$RG_TEST_PG" -c "CREATE DATABASE $db" >/dev/null
    local url=${RG_TEST_PG/\/postgres\?/\/$db\?}
    local token
    token=$("$build/src/server/rollgated" init --data "$dir/d0" --store "$url" 2>"$dir/init.log" | tail -n 1)
    for i in $(seq 0 $((n - 1))); do
        [ "$i" = 0 ] || { mkdir -m 700 "$dir/d$i"; ln -s "$dir/d0/artifacts" "$dir/d$i/artifacts"; }
        ports+=("$(free_port)")
        "$build/src/server/rollgated" --data "$dir/d$i" --store "$url" --node-id "n$i" \
            --listen "127.0.0.1:${ports[$i]}" --log-level warn --access-log off \
            --max-per-address 0 --enroll-burst 0 --event-burst 0 2>"$dir/node$i.log" &
        pids+=($!)
        wait_http "http://127.0.0.1:${ports[$i]}/healthz"
    done
    local lport servers=""
    lport=$(free_port)
    for p in "${ports[@]}"; do servers+="        server 127.0.0.1:$p;"$'\n'; done
    mkdir -p "$dir/nginx"
    cat > "$dir/nginx/nginx.conf" <<NGX
worker_processes 1;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/error.log warn;
daemon off;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $dir/nginx;
    proxy_temp_path $dir/nginx;
    fastcgi_temp_path $dir/nginx;
    uwsgi_temp_path $dir/nginx;
    scgi_temp_path $dir/nginx;
    upstream nodes {
$servers        keepalive 256;
    }
    server {
        listen 127.0.0.1:$lport;
        location / {
            proxy_pass http://nodes;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
NGX
    nginx -c "$dir/nginx/nginx.conf" -p "$dir/nginx" 2>"$dir/nginx/stderr" &
    pids+=($!)
    local lb="http://127.0.0.1:$lport"
    wait_http "$lb/healthz"
    api() {
        curl -fsS -X "$1" "$lb$2" -H "Authorization: Bearer $token" \
            -H 'Content-Type: application/json' "${@:3}"
    }
    echo "bench: $n node(s): enrolling $ENDPOINTS endpoints through nginx..." >&2
    python3 "$root/bench/checkin/enroll.py" "$lb" "$token" "$ENDPOINTS" "$dir/endpoints.txt" 2>/dev/null
    local sha rel
    sha=$(printf 'bench cluster content\n' | api PUT /v1/artifacts --data-binary @- | json_field sha256)
    api POST /v1/channels -d '{"name":"bench","description":"bench/cluster"}' >/dev/null
    rel=$(api POST /v1/releases -d '{"channel":"bench","version":1,"artifact":"'"$sha"'","notes":"bench/cluster","urgency":"standard"}' | json_field id)
    api POST /v1/rollouts -d '{"release":'"$rel"',"plan":{"name":"bench","waves":[{"name":"all","share":100,"min_endpoints":1,"min_bake_s":0}]}}' >/dev/null
    local flushed0 cpu0 flushed cpu
    echo "bench: $n node(s): rolling out, then event-free check-ins..." >&2
    "$build/bench/events/events_load" "$lport" "$dir/endpoints.txt" "$rel" \
        "$CONNECTIONS" 500 "$MAX_S" "${pids[0]}" > "$dir/load.out" ||
        { cat "$dir/load.out" >&2; echo "bench: the rollout did not finish" >&2; exit 1; }
    # PostgreSQL's CPU while the nodes flush the last pass's check-in
    # times (one UPDATE per batch) and read each other's (the tails), and
    # nothing else runs: from now until nothing is left to flush.
    flushed0=$(metric_sum rollgate_fleet_flushed_records_total "${ports[@]}")
    cpu0=$(pg_cpu)
    for _ in $(seq 1 100); do
        [ "$(metric_sum rollgate_fleet_dirty "${ports[@]}")" = 0 ] && break
        sleep 0.1
    done
    flushed=$(( $(metric_sum rollgate_fleet_flushed_records_total "${ports[@]}") - flushed0 ))
    cpu=$(awk -v a="$(pg_cpu)" -v b="$cpu0" 'BEGIN { print a - b }')
    awk '$1 == "events_per_s" || $1 == "ref_per_s" || $1 == "event_p99_ms"' "$dir/load.out"
    echo "flushed $flushed"
    echo "pg_cpu_s $cpu"
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    pids=()
}

declare -A out
last=""
for n in $NODES; do run "$n" > "$work/run$n.out"; done
printf '\n%-8s %14s %14s %12s %14s %16s\n' "nodes" "check-ins/s" "events/s" \
    "event p99 ms" "heartbeats" "PG CPU ms/1k hb"
for n in $NODES; do
    v() { awk -v k="$1" '$1 == k {print $2}' "$work/run$n.out"; }
    per1k=$(awk -v c="$(v pg_cpu_s)" -v h="$(v flushed)" 'BEGIN { printf "%.1f", h ? c * 1e6 / h : 0 }')
    printf '%-8s %14s %14s %12s %14s %16s\n' "$n" "$(v ref_per_s)" "$(v events_per_s)" \
        "$(v event_p99_ms)" "$(v flushed)" "$per1k"
    last+="checkins_per_s_$n=$(v ref_per_s) events_per_s_$n=$(v events_per_s) "
    out[pg]=$per1k
done
printf 'load average at the end: %s (%s cores shared by the nodes, nginx, PostgreSQL and the load)\n' \
    "$(cut -d' ' -f1-3 /proc/loadavg)" "$(nproc)"
echo "${last}pg_cpu_ms_per_1k_heartbeats=${out[pg]}"
