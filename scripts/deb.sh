#!/bin/bash
# Builds the Debian packages (rollgate-server, rollgate-agent, rollgate-cli)
# with the standard tooling, `dpkg-buildpackage -us -uc -b` on debian/,
# into OUT (default build-deb/): `make deb` runs it.
#   scripts/deb.sh [OUT]
# dpkg-buildpackage builds in the source tree and writes the packages next
# to it, so the tree is first copied to OUT/src/rollgate-VERSION (the
# files git knows, tracked or new and not ignored; every file but build
# directories without git): the clone stays clean and nothing lands in
# its parent. The unsigned .deb files and the .buildinfo/.changes end in
# OUT. DEB_BUILD_OPTIONS passes through (nocheck skips the unit tests,
# parallel=N).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=$(realpath -m "${1:-build-deb}")
version=$(dpkg-parsechangelog -S Version)
src="$OUT/src/rollgate-$version"
rm -rf "$OUT/src"
mkdir -p "$src"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z --cached --others --exclude-standard |
        while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
        tar --null -T - -cf - | tar -xf - -C "$src"
else
    tar --exclude='./build*' --exclude=./var -cf - . | tar -xf - -C "$src"
fi
(cd "$src" && dpkg-buildpackage -us -uc -b)
mv "$OUT"/src/*.deb "$OUT"/src/*.buildinfo "$OUT"/src/*.changes "$OUT"/
rm -rf "$OUT/src"
ls "$OUT"/*.deb
