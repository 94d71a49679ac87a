#!/bin/sh
# Sample consumer for the agent's end-to-end tests: loads its content file
# ($1) once, the way an engine loads a channel file, and fails at start
# (exit 3) when the content says "crash". Otherwise it publishes what it
# runs on (the very bytes it checked) as $2, atomically, and keeps running
# until stopped.
set -u
content=$1
running=$2
cp "$content" "$running.tmp" 2>/dev/null || { echo "consumer: no content" >&2; exit 2; }
grep -q slowcrash "$running.tmp" && { sleep 2; echo "consumer: content says crash" >&2; exit 3; }
grep -q crash "$running.tmp" && { echo "consumer: content says crash" >&2; exit 3; }
mv "$running.tmp" "$running" || exit 2
exec sleep 1000000
