#!/bin/bash
# bench/delta: bytes on the wire of a delta update against the whole
# artifact, and the time to make (server) and apply (agent) it, with the
# server's own code and level (common/zpatch.h; delta_bench.c), for:
#   binary   rollgated built from OLD_REV, then from HEAD (the build given),
#            both stripped as a package ships them;
#   content  a 32 MiB detections-style text file and the same with 3 % of
#            its lines rewritten and 0.5 % inserted (seeded: the same bytes
#            on every run).
# OLD_REV's rollgated is built once (cmake + ninja, the build's type) and
# kept under $RG_BENCH_CACHE (default ~/.cache/rollgate/bench-delta).
#
# usage: bench/delta/run.sh [BUILD_DIR]
# env:   OLD_REV (default HEAD~20), RUNS (best of, default 3)
# Last line: binary_full=B binary_delta=B binary_delta_ratio=R
#            binary_make_ms=T binary_apply_ms=T content_... (the same keys)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
OLD_REV=${OLD_REV:-HEAD~20}
RUNS=${RUNS:-3}
bench="$build/bench/delta/delta_bench"
old_sha=$(git -C "$root" rev-parse --short "$OLD_REV")
new_sha=$(git -C "$root" rev-parse --short HEAD)
cache=${RG_BENCH_CACHE:-$HOME/.cache/rollgate/bench-delta}/$old_sha
type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt")

work=$(mktemp -d /tmp/rollgate-bench-delta.XXXXXX)
trap 'rm -rf "$work"' EXIT

if [ ! -x "$cache/rollgated" ]; then
    echo "== building rollgated at $old_sha ($type), once" >&2
    mkdir -p "$cache/src"
    git -C "$root" archive "$old_sha" | tar -x -C "$cache/src"
    cmake -S "$cache/src" -B "$cache/build" -G Ninja \
        -DCMAKE_BUILD_TYPE="$type" -DBUILD_TESTING=OFF >/dev/null
    ninja -C "$cache/build" -j2 rollgated >/dev/null
    cp "$cache/build/src/server/rollgated" "$cache/rollgated"
    rm -rf "$cache/src" "$cache/build"
fi
strip -o "$work/rollgated.old" "$cache/rollgated"
strip -o "$work/rollgated.new" "$build/src/server/rollgated"

python3 - "$work/content.old" "$work/content.new" <<'PY'
import random, sys
rnd = random.Random(16)
def line():
    return "rule %08x sev=%d match=%s\n" % (rnd.getrandbits(32), rnd.randrange(5),
                                              "%064x" % rnd.getrandbits(256))
lines = []
size = 0
while size < 32 << 20:
    lines.append(line())
    size += len(lines[-1])
with open(sys.argv[1], "w") as f:
    f.writelines(lines)
for _ in range(len(lines) * 3 // 100):
    lines[rnd.randrange(len(lines))] = line()
for _ in range(len(lines) // 200):
    lines.insert(rnd.randrange(len(lines)), line())
with open(sys.argv[2], "w") as f:
    f.writelines(lines)
PY

printf '%-8s %12s %12s %8s %9s %9s\n' update full_bytes delta_bytes ratio make_ms apply_ms
keys=""
for kind in binary content; do
    case $kind in
        binary) old="$work/rollgated.old" new="$work/rollgated.new" ;;
        content) old="$work/content.old" new="$work/content.new" ;;
    esac
    read -r name full delta ratio make apply < <("$bench" "$kind" "$old" "$new" "$RUNS")
    printf '%-8s %12s %12s %8s %9s %9s\n' "$name" "$full" "$delta" "$ratio" "$make" "$apply"
    keys="$keys ${kind}_full=$full ${kind}_delta=$delta ${kind}_delta_ratio=$ratio"
    keys="$keys ${kind}_make_ms=$make ${kind}_apply_ms=$apply"
done
echo "(binary: rollgated $old_sha -> $new_sha, stripped)"
echo "${keys# }"
