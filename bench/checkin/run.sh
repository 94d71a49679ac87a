#!/bin/bash
# bench/checkin: check-in throughput of rollgated against nginx serving a
# static 200, same wrk settings, same machine, one run; plus rollgated's
# resident memory per enrolled endpoint.
#
# usage: bench/checkin/run.sh [BUILD_DIR]
# env:   ENDPOINTS (default 100000), DURATION (wrk seconds, default 10),
#        CONNECTIONS (default 64), THREADS (wrk threads, default 2), ROUNDS (default 3),
#        FLAGS (1: each check-in also asks for the "default" flag environment,
#        holding one flag, with its current stamp, as an agent whose set is
#        unchanged does; default 0),
#        ENROLL (api: through POST /v1/agent/enroll; seed: written straight
#        into the data directory by bench/events/seed.py before rollgated
#        starts, the empty figure then read from a first start on the same
#        empty data directory; default api up to 200,000 endpoints, seed
#        above: ENDPOINTS=1000000 would enroll for half an hour)
# Last line: checkin_vs_nginx_ratio=R bytes_per_endpoint=N
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
ENDPOINTS=${ENDPOINTS:-100000}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-3}
ENROLL=${ENROLL:-$([ "$ENDPOINTS" -gt 200000 ] && echo seed || echo api)}

"$root/scripts/deps.sh" bench   # wrk and nginx: only this bench needs them
for tool in wrk nginx python3; do
    command -v "$tool" >/dev/null || { echo "bench: $tool not found (scripts/deps.sh bench)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/rollgate-bench.XXXXXX)
server_pid=""
nginx_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
wait_http() { # up to 120 s: a seeded fleet of 1M loads first
    for _ in $(seq 1 2400); do
        curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    echo "bench: $1 did not come up" >&2; exit 1
}
# wrk_rps URL [SCRIPT SCRIPT_ARG] -> requests/s of one wrk run
wrk_rps() {
    local url=$1; shift
    local script=()
    [ $# -ge 1 ] && script=(-s "$1")
    shift || true
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "${script[@]}" "$url" "$@" > "$work/wrk.out"
    if grep -q "Non-2xx" "$work/wrk.out"; then
        echo "bench: non-2xx responses from $url:" >&2; cat "$work/wrk.out" >&2; exit 1
    fi
    awk '/^Requests\/sec:/ {print $2}' "$work/wrk.out"
}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# --- rollgated --------------------------------------------------------
port=$(free_port)
token=$("$build/src/server/rollgated" init --data "$work/data" | tail -n 1)
# --enroll-burst 0: the bench enrolls its whole fleet from one address;
# --access-log off: as nginx below (access_log off), the bench measures the
# check-in path, not a line written per request
start_server() {
    "$build/src/server/rollgated" --data "$work/data" --listen "127.0.0.1:$port" \
        --log-level warn --enroll-burst 0 --access-log off 2>> "$work/rollgated.log" &
    server_pid=$!
    wait_http "http://127.0.0.1:$port/healthz"
}
start_server
rss_empty=$(rss_kb "$server_pid")
if [ "$ENROLL" = seed ]; then
    kill "$server_pid"; wait "$server_pid" || true
    echo "bench: seeding $ENDPOINTS endpoints..." >&2
    python3 "$root/bench/events/seed.py" "$work/data" "$ENDPOINTS" "$work/endpoints.txt"
    start_server
fi

# a channel with a running rollout, so every check-in computes a desired release
api() {
    curl -fsS -X "$1" "http://127.0.0.1:$port$2" -H "Authorization: Bearer $token" \
        -H 'Content-Type: application/json' "${@:3}"
}
sha=$(printf 'bench content\n' | api PUT /v1/artifacts --data-binary @- | python3 -c 'import json,sys; print(json.load(sys.stdin)["sha256"])')
api POST /v1/channels -d '{"name":"detections","description":"bench"}' >/dev/null
rel=$(api POST /v1/releases -d '{"channel":"detections","version":1,"artifact":"'"$sha"'","notes":"bench","urgency":"standard"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
api POST /v1/rollouts -d '{"release":'"$rel"',"plan":"standard"}' >/dev/null

# FLAGS=1: one flag in "default"; its stamp is the features ETag
flag_stamp=()
if [ "${FLAGS:-0}" = 1 ]; then
    api POST /v1/flags -d '{"feature":{"name":"bench","enabled":true,"strategies":[]},"reason":"bench"}' >/dev/null
    ct=$(api POST /v1/client-tokens -d '{"name":"bench"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
    flag_stamp=("$(curl -fsS -D - -o /dev/null "http://127.0.0.1:$port/api/client/features" \
        -H "Authorization: $ct" | sed -n 's/^[Ee][Tt][Aa][Gg]: "\(.*\)".*/\1/p')")
fi

if [ "$ENROLL" = api ]; then
    echo "bench: enrolling $ENDPOINTS endpoints..." >&2
    python3 "$here/enroll.py" "http://127.0.0.1:$port" "$token" "$ENDPOINTS" "$work/endpoints.txt"
fi

# one warm-up pass touches every endpoint record
DURATION_SAVE=$DURATION; DURATION=3
wrk_rps "http://127.0.0.1:$port" "$here/checkin.lua" "$work/endpoints.txt" "${flag_stamp[@]}" >/dev/null
DURATION=$DURATION_SAVE

# --- nginx --------------------------------------------------------------
nport=$(free_port)
mkdir -p "$work/nginx"
cat > "$work/nginx/nginx.conf" <<NGX
worker_processes $(nproc);
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
daemon off;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $work/nginx;
    proxy_temp_path $work/nginx;
    fastcgi_temp_path $work/nginx;
    uwsgi_temp_path $work/nginx;
    scgi_temp_path $work/nginx;
    server {
        listen 127.0.0.1:$nport;
        location / { default_type application/json; return 200 '{"ok":true}'; }
    }
}
NGX
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
nginx_pid=$!
wait_http "http://127.0.0.1:$nport/"

# --- measure, interleaved rounds ------------------------------------------
: > "$work/rg.txt"; : > "$work/ngx.txt"
for r in $(seq 1 "$ROUNDS"); do
    echo "bench: round $r/$ROUNDS" >&2
    wrk_rps "http://127.0.0.1:$port" "$here/checkin.lua" "$work/endpoints.txt" "${flag_stamp[@]}" >> "$work/rg.txt"
    wrk_rps "http://127.0.0.1:$nport/" >> "$work/ngx.txt"
done
rss_full=$(rss_kb "$server_pid")

rg=$(median < "$work/rg.txt")
ngx=$(median < "$work/ngx.txt")
ratio=$(awk -v a="$rg" -v b="$ngx" 'BEGIN {printf "%.2f", a / b}')
bpe=$(awk -v a="$rss_full" -v b="$rss_empty" -v n="$ENDPOINTS" 'BEGIN {printf "%d", (a - b) * 1024 / n}')

printf '\n%-34s %14s %14s\n' "check-in benchmark ($ENDPOINTS endpoints)" "rollgated" "nginx static"
printf '%-34s %14s %14s\n' "requests/s, median of $ROUNDS" "$rg" "$ngx"
printf '%-34s %14s %14s\n' "requests/s, all rounds" "$(paste -sd/ "$work/rg.txt")" "$(paste -sd/ "$work/ngx.txt")"
printf '%-34s %14s\n' "rollgated RSS empty fleet (KiB)" "$rss_empty"
printf '%-34s %14s\n' "rollgated RSS full fleet (KiB)" "$rss_full"
printf '%-34s %14s\n' "wrk settings" "-t$THREADS -c$CONNECTIONS -d${DURATION}s"
printf '%-34s %14s\n' "enrollment" "$ENROLL"
echo "checkin_vs_nginx_ratio=$ratio bytes_per_endpoint=$bpe"
