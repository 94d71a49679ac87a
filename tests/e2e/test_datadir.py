"""The data directory (issue 11, items 5, 7, 14): one rollgated at a time,
a lost database is never re-created empty, and uploads a crash left
unfinished are removed at start.

- A second `rollgated` on a served directory, and `rollgated init` on it,
  exit non-zero naming the first one's pid; the first keeps serving. The
  lock dies with its process: after kill -9 the next start succeeds.
  (Before: both ran, and the second advanced a live rollout.)
- Unfinished uploads (temporary files of uploads cut by kill -9) are
  removed at the next start; finished artifacts stay. (Before: never.)
- A database truncated to 0 bytes, or deleted from an initialised
  directory, stops the start with a message saying so, and the file is left
  as it was. (Before: re-created empty, no admin, and init refused.)
# ctest-labels: foundation
"""
import glob
import os
import socket
import time

import rg
from rg import expect


def second_instance(srv):
    pid = srv.proc.pid
    p = rg.rollgated("--data", srv.data, "--listen", "127.0.0.1:%d" % rg.free_port())
    out = p.stdout + p.stderr
    expect(p.returncode != 0, "a second rollgated on the same data directory exits", out)
    expect("in use by another rollgated (pid %d)" % pid in out,
           "its message names the first one's pid", out)
    p = rg.rollgated("init", "--data", srv.data)
    out = p.stdout + p.stderr
    expect(p.returncode != 0 and "(pid %d)" % pid in out,
           "init on a served data directory is refused", out)
    st, body = srv.request("GET", "/v1/channels")
    expect(st == 200 and [c["name"] for c in body["channels"]] == ["kept"],
           "the first one still serves its data", st, body)


def unfinished(srv):
    return glob.glob(os.path.join(srv.data, "artifacts", ".upload-*"))


def start_uploads(srv, n):
    """Starts n uploads of 4 MiB and sends 1 MiB of each; returns the
    sockets once the server has a temporary file for each."""
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        s.sendall(("PUT /v1/artifacts HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   "Authorization: Bearer %s\r\nContent-Type: application/octet-stream\r\n"
                   "Content-Length: %d\r\n\r\n" % (srv.token, 4 << 20)).encode())
        s.sendall(os.urandom(1 << 20))
        socks.append(s)
    deadline = time.monotonic() + 20
    while len(unfinished(srv)) < n:
        expect(time.monotonic() < deadline, "temporary upload files appear",
               unfinished(srv))
        time.sleep(0.05)
    return socks


def crash_during_uploads(srv):
    st, art = srv.upload(b"finished artifact")
    expect(st == 201, "a finished upload", st, art)
    kept = os.path.join(srv.data, "artifacts", art["sha256"][:2], art["sha256"])
    expect(os.path.exists(kept), "the finished artifact's file", kept)
    for _ in range(2):
        socks = start_uploads(srv, 3)
        srv.kill()
        for s in socks:
            s.close()
        left = unfinished(srv)
        expect(len(left) == 3, "kill -9 leaves the temporary files", left)
        srv.start()
        expect(unfinished(srv) == [], "removed at the next start", unfinished(srv))
        expect(os.path.exists(kept), "the finished artifact stays", kept)
    expect("removed 3 unfinished uploads" in srv.log_text(), "the start says so",
           srv.log_text())


def lost_database(srv):
    db = os.path.join(srv.data, "rollgate.db")
    for suffix in ("-wal", "-shm"):
        expect(not os.path.exists(db + suffix), "no WAL after a clean stop", suffix)
    os.truncate(db, 0)
    p = rg.rollgated("--data", srv.data, "--listen", "127.0.0.1:%d" % rg.free_port())
    out = p.stdout + p.stderr
    expect(p.returncode != 0 and "is empty (0 bytes)" in out,
           "an empty database stops the start, saying so", p.returncode, out)
    expect(os.path.getsize(db) == 0 and not os.path.exists(db + "-wal"),
           "and is left as it was", os.path.getsize(db))
    os.unlink(db)
    p = rg.rollgated("--data", srv.data, "--listen", "127.0.0.1:%d" % rg.free_port())
    out = p.stdout + p.stderr
    expect(p.returncode != 0 and "missing from an initialised data directory" in out,
           "a deleted database stops the start, saying so", p.returncode, out)
    expect(not os.path.exists(db), "and is not re-created")


def main():
    with rg.Server() as srv:
        srv.start()
        st, body = srv.request("POST", "/v1/channels", {"name": "kept"})
        expect(st == 201, "channel", st, body)
        second_instance(srv)
        crash_during_uploads(srv)
        second_instance(srv)
        rc = srv.stop()
        expect(rc == 0, "clean stop", rc, srv.log_text())
        lost_database(srv)
    # A directory never initialised still gets the plain advice.
    with rg.Server(init=False) as srv:
        os.makedirs(srv.data)
        p = rg.rollgated("--data", srv.data, "--listen", "127.0.0.1:%d" % rg.free_port())
        expect(p.returncode != 0 and "run `rollgated init" in p.stderr,
               "uninitialised directory", p.stderr)


rg.run(main)
