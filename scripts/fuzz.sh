#!/bin/sh
# Builds the libFuzzer harnesses of tests/fuzz/ with clang
# (-fsanitize=fuzzer,address,undefined) in their own build directory and
# runs each for SECONDS seconds, starting from its seed corpus (and its
# dictionary tests/fuzz/<harness>/<harness>.dict when there is one). Fails on
# any crash, leak, timeout or broken invariant; the input that did it is
# left in BUILD/fuzz-artifacts/<harness>/ (add it to the harness's corpus
# as a regression input once fixed). Prints executions per second and
# coverage (cov: edges, ft: features) per harness as a table.
#
#   scripts/fuzz.sh [SECONDS]          default 60
# Environment: FUZZ_BUILD (default build-fuzz), FUZZ_HARNESSES (default:
# every harness in tests/fuzz/CMakeLists.txt), FUZZ_JOBS (ninja -j).
set -eu

SECONDS_EACH=${1:-60}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${FUZZ_BUILD:-build-fuzz}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
# the names in `set(rg_fuzz_harnesses ...)`, which may span several lines
HARNESSES=${FUZZ_HARNESSES:-$(awk '
    /^set\(rg_fuzz_harnesses/ { on = 1; sub(/^set\(rg_fuzz_harnesses/, "") }
    on { line = $0; if (sub(/\).*/, "", line)) on = 0; printf "%s ", line }
    ' "$ROOT/tests/fuzz/CMakeLists.txt")}
HARNESSES=$(echo $HARNESSES)
[ -n "$HARNESSES" ] || { echo "fuzz: no harnesses found in tests/fuzz/CMakeLists.txt" >&2; exit 1; }
JOBS=${FUZZ_JOBS:-$(nproc)}

"$ROOT/scripts/deps.sh" clang
command -v clang >/dev/null || { echo "fuzz: clang not found (scripts/deps.sh clang)" >&2; exit 1; }

CC=clang cmake -S "$ROOT" -B "$BUILD" -G Ninja \
    -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DRG_SANITIZE=ON -DRG_FUZZ=ON -DRG_WERROR=ON \
    -DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link >/dev/null
targets=""
for h in $HARNESSES; do targets="$targets fuzz_$h"; done
# shellcheck disable=SC2086
ninja -C "$BUILD" -j "$JOBS" $targets

status=0
table="$BUILD/fuzz-summary.txt"
printf '%-10s %8s %10s %8s %8s %8s  %s\n' harness seconds execs/s execs cov ft result > "$table"
for h in $HARNESSES; do
    work="$BUILD/fuzz-corpus/$h"        # grows; the seeds stay untouched
    art="$BUILD/fuzz-artifacts/$h/"
    log="$BUILD/fuzz-$h.log"
    mkdir -p "$work" "$art"
    echo "fuzz: $h for ${SECONDS_EACH}s (log: $log)"
    result=ok
    dict="$ROOT/tests/fuzz/$h/$h.dict"
    set --
    if [ -f "$dict" ]; then set -- -dict="$dict"; fi
    if ! "$BUILD/tests/fuzz/fuzz_$h" -max_total_time="$SECONDS_EACH" "$@" \
            -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
            -artifact_prefix="$art" "$work" "$ROOT/tests/fuzz/$h/corpus" \
            > "$log" 2>&1; then
        result="CRASH: $(ls "$art" | head -1)"
        status=1
        grep -m1 -E 'ERROR|invariant|misbehaved|abort' "$log" >&2 || true
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    cov=$(printf '%s\n' "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
    ft=$(printf '%s\n' "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
    printf '%-10s %8s %10s %8s %8s %8s  %s\n' "$h" "$SECONDS_EACH" \
        "${rate:--}" "${execs:--}" "${cov:--}" "${ft:--}" "$result" >> "$table"
done
echo
cat "$table"
exit $status
