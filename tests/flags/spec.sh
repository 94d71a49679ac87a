#!/bin/sh
# CTest flags_spec: fetches the Unleash client specification (pinned, via
# scripts/deps.sh flags, into $RG_NPM_DIR) and runs spec_runner on it.
# Fails with a message, never skips, when the specification cannot be had.
set -u
runner=$1
src=${RG_SOURCE_DIR:-$(dirname "$0")/../..}
npm_dir=${RG_NPM_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/rollgate/npm}
if ! "$src/scripts/deps.sh" flags >&2; then
    echo "flags_spec: FAILED: could not fetch @unleash/client-specification" \
         "from npm (scripts/deps.sh flags); the test needs the npm registry" >&2
    exit 1
fi
exec "$runner" "$npm_dir/node_modules/@unleash/client-specification/specifications"
