#!/usr/bin/env python3
"""bench/events' bulk enrollment: writes N endpoints straight into the
endpoints table of a data directory that `rollgated init` made and no
rollgated has open, and their "endpoint_id token" lines to OUT_FILE.
Enrolling through the API costs two durable transactions per endpoint
(the key's use, the endpoint), minutes for 200,000: not what this bench
measures. rollgated loads these rows into its fleet table when it starts,
as it loads enrolled endpoints after any restart.

usage: seed.py DATA_DIR N OUT_FILE
"""
import hashlib
import json
import sqlite3
import sys
import time

OSES = [("windows", "10", "x86_64"), ("windows", "11", "x86_64"),
        ("ubuntu", "22.04", "x86_64"), ("macos", "14", "arm64")]


def main():
    data, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    now = int(time.time() * 1000)
    db = sqlite3.connect(f"{data}/rollgate.db")
    rows, lines = [], []
    for k in range(n):
        eid = f"ev-{k:07d}"
        token = hashlib.sha256(f"bench-events-{k}".encode()).hexdigest()
        os_, ver, arch = OSES[k % len(OSES)]
        attrs = json.dumps({"os": os_, "os_version": ver, "arch": arch},
                           separators=(",", ":"))
        rows.append((eid, hashlib.sha256(token.encode()).hexdigest(), attrs,
                     now, 0, "{}"))
        lines.append(f"{eid} {token}")
    with db:
        db.executemany("INSERT INTO endpoints (id, token_hash, attrs_json,"
                       " enrolled_ms, last_seen_ms, installed_json)"
                       " VALUES (?, ?, ?, ?, ?, ?)", rows)
    db.close()
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
