#!/bin/sh
# The demo's stand-in for a content engine, supervised by rollgate-agent:
# loads its content file ($1) and fails at start (exit 3) when the content
# carries "FAULT crash STRATUM" for its own stratum ($2), the way a bad
# channel file crashes an engine on one OS build. Otherwise it runs until
# stopped.
content=$1
stratum=$2
[ -r "$content" ] || { echo "demo-consumer: no content" >&2; exit 2; }
if grep -qx "FAULT crash $stratum" "$content"; then
    echo "demo-consumer: this content crashes $stratum" >&2
    exit 3
fi
exec sleep infinity
