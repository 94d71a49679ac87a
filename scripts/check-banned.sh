#!/bin/sh
# Fails when C sources under src/, include/, tests/ or bench/ call a banned
# libc function (after git's banned.h): strcpy, strcat, strncpy, strncat,
# sprintf, vsprintf, gets, atoi, atol. Use snprintf, memcpy with explicit
# lengths, rg_buf, strtol/strtoll instead. Run by CTest as `check_banned`.
set -eu
root=${1:-$(dirname "$0")/..}
pattern='(^|[^_[:alnum:]])(strcpy|strcat|strncpy|strncat|sprintf|vsprintf|gets|atoi|atol)[[:space:]]*\('
hits=$(grep -rnE "$pattern" "$root/src" "$root/include" "$root/tests" "$root/bench" \
       --include='*.c' --include='*.h' 2>/dev/null || true)
if [ -n "$hits" ]; then
    echo "banned libc calls found:"
    echo "$hits"
    exit 1
fi
echo "check_banned: no banned calls"
