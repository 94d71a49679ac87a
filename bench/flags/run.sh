#!/bin/bash
# bench/flags: Rollgate's C flag evaluator against the Unleash Node SDK
# (unleash-client, the reference implementation) on the same flags and
# contexts in one run: a synthetic set (1000 flexibleRollout flags with two
# constraints each, a quarter with variants, against 100 contexts) and the
# Unleash client specification's feature sets and isEnabled cases; the
# specification's pass count; and what serving 1000 flags costs rollgated
# per poll of GET /api/client/features, changed (full answer) or unchanged
# (304 to the ETag), and per agent check-in carrying them, changed (the
# whole set) or unchanged (answered by the set's stamp), against a
# check-in that asks for no flags.
#
# usage: bench/flags/run.sh [BUILD_DIR]
# env:   SECONDS_PER_RUN (default 3), FLAGS (default 1000), CONTEXTS (100),
#        POLLS (default 200)
# Last line: flags_vs_unleash_node_ratio=R ns_per_eval=N spec_passed=P/279
#   R: Node's ns per isEnabled / C's, synthetic set; N: C's ns per isEnabled
#   on the synthetic set (a flexibleRollout with two constraints). Both are
#   CPU time per evaluation (the process's), so a shared machine's load does
#   not inflate them.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
SECONDS_PER_RUN=${SECONDS_PER_RUN:-3}
FLAGS=${FLAGS:-1000}
CONTEXTS=${CONTEXTS:-100}
POLLS=${POLLS:-200}
npm_dir=${RG_NPM_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/rollgate/npm}

"$root/scripts/deps.sh" flags >&2   # Node.js and unleash-client from npm
export NODE_PATH="$npm_dir/node_modules"
spec="$npm_dir/node_modules/@unleash/client-specification/specifications"

work=$(mktemp -d /tmp/rollgate-bench-flags.XXXXXX)
trap 'rm -rf "$work"' EXIT

field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }

mkdir -p "$work/synthetic" "$work/spec"
python3 "$here/gen.py" "$work/synthetic" "$FLAGS" "$CONTEXTS"
python3 "$here/specset.py" "$spec" "$work/spec"

printf '%-34s %14s %14s %8s %10s\n' "workload" "C ns/eval" "Node ns/eval" "ratio" "enabled"
for set in synthetic spec; do
    c=$("$build/bench/flags/flags_bench" "$work/$set/features.json" "$work/$set/cases.json" "$SECONDS_PER_RUN")
    n=$(node "$here/node_bench.js" "$work/$set/features.json" "$work/$set/cases.json" "$SECONDS_PER_RUN")
    c_ns=$(echo "$c" | field c_ns_per_eval)
    n_ns=$(echo "$n" | field node_ns_per_eval)
    ratio=$(python3 -c "print('%.1f' % ($n_ns / $c_ns))")
    printf '%-34s %14s %14s %8s %10s\n' "$set" "$c_ns" "$n_ns" "$ratio" \
        "$(echo "$c" | field enabled)/$(echo "$n" | field enabled)"
    if [ "$set" = synthetic ]; then syn_ratio=$ratio; syn_ns=$c_ns; fi
done

spec_out=$("$build/tests/flags/spec_runner" "$spec" || true)
spec_passed=$(echo "$spec_out" | tail -1 | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
spec_failed=$(echo "$spec_out" | tail -1 | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
echo "specification: ${spec_passed:-0} passed, ${spec_failed:-?} failed"

python3 "$here/poll.py" "$build" "$work/synthetic/features.json" "$POLLS"

echo "flags_vs_unleash_node_ratio=$syn_ratio ns_per_eval=$syn_ns spec_passed=${spec_passed:-0}/$(( ${spec_passed:-0} + ${spec_failed:-0} ))"
