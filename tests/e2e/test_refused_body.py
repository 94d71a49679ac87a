"""A refused request never has its body read (issue 11, item 15): an
unauthenticated request with `Transfer-Encoding: chunked` on
PUT /v1/artifacts and POST /v1/agent/checkin, without a token or with a
wrong one, is answered 401 at once and its connection closed, while the
client is still sending. Before, the server read such a body without limit
and never answered. An authenticated upload of unknown length over the
artifact maximum is dropped soon after (a guard: this held before too). Raw sockets, so the
client can stream and listen at once.
# ctest-labels: security
"""
import hashlib
import json
import select
import socket
import time

import rg
from rg import expect

LIMIT = 64 << 20  # bytes the client is willing to send before giving up
BLOCK = b"x" * 65536
ARTIFACT_MAX = 65536


def parse_response(buf):
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("iso-8859-1").split("\r\n")
    hdrs = {l.split(":", 1)[0].strip().lower(): l.split(":", 1)[1].strip()
            for l in lines[1:] if ":" in l}
    n = int(hdrs.get("content-length", "-1"))
    if n < 0 or len(rest) < n:
        return None
    return int(lines[0].split()[1]), json.loads(rest[:n].decode())


def stream_until_answered(port, method, path, auth):
    """Streams a chunked body until an answer comes or LIMIT bytes are
    sent. Returns (status, body, bytes sent, closed after the answer)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    head = ["%s %s HTTP/1.1" % (method, path), "Host: 127.0.0.1",
            "Transfer-Encoding: chunked", "Content-Type: application/json"]
    if auth:
        head.append("Authorization: " + auth)
    s.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
    sent, buf, answer = 0, b"", None
    try:
        while sent < LIMIT and answer is None:
            r, _, _ = select.select([s], [], [], 0)
            if r:
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
                if b"\r\n\r\n" in buf:
                    answer = parse_response(buf)
                continue
            try:
                s.sendall(b"%x\r\n" % len(BLOCK) + BLOCK + b"\r\n")
            except (BrokenPipeError, ConnectionResetError):
                break  # closed by the server: its answer may be waiting
            sent += len(BLOCK)
        deadline = time.monotonic() + 10
        while answer is None and time.monotonic() < deadline:
            s.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            buf += chunk
            if b"\r\n\r\n" in buf:
                answer = parse_response(buf)
    except (BrokenPipeError, ConnectionResetError) as e:
        raise rg.Failure("%s %s: connection reset before an answer after %d "
                         "bytes: %r (%r)" % (method, path, sent, e, buf[:200]))
    expect(answer is not None, "%s %s: an answer while the body streams" % (method, path),
           "sent %d bytes" % sent, buf[:300])
    closed = False
    try:
        s.settimeout(10)
        closed = s.recv(65536) == b""
    except ConnectionResetError:
        closed = True
    except socket.timeout:
        closed = False
    finally:
        s.close()
    return answer[0], answer[1], sent, closed


def stream_until_closed(port, method, path, auth):
    """Streams a chunked body until the server closes the connection or
    LIMIT bytes are sent; returns the bytes sent."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(("%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: %s\r\n"
               "Transfer-Encoding: chunked\r\n\r\n" % (method, path, auth)).encode())
    sent = 0
    try:
        while sent < LIMIT:
            r, _, _ = select.select([s], [], [], 0)
            if r and not s.recv(65536):
                break
            s.sendall(b"%x\r\n" % len(BLOCK) + BLOCK + b"\r\n")
            sent += len(BLOCK)
    except (BrokenPipeError, ConnectionResetError):
        pass
    finally:
        s.close()
    return sent


def main():
    with rg.Server(args=["--artifact-max", str(ARTIFACT_MAX)]) as srv:
        srv.start()
        wrong = "Bearer " + hashlib.sha256(b"wrong").hexdigest()
        for method, path in (("PUT", "/v1/artifacts"), ("POST", "/v1/agent/checkin")):
            for auth in (None, wrong):
                st, body, sent, closed = stream_until_answered(srv.port, method, path, auth)
                what = "%s %s (%s)" % (method, path, "wrong token" if auth else "no token")
                print("%s: %d after %d body bytes sent, closed=%s" % (what, st, sent, closed))
                expect(st == 401 and body["error"]["code"] == "unauthorized", what, st, body)
                expect(sent < LIMIT, what + ": answered before the whole body", sent)
                expect(closed, what + ": connection closed after the refusal")
        # Authenticated, but the upload outgrows the artifact maximum:
        # dropped 1 MiB past it, not read forever.
        sent = stream_until_closed(srv.port, "PUT", "/v1/artifacts", "Bearer " + srv.token)
        print("PUT /v1/artifacts over --artifact-max: closed after %d body bytes sent"
              % sent)
        expect(sent < LIMIT, "an upload over its cap is not read forever", sent)
        st, _ = srv.request("GET", "/healthz")
        expect(st == 200, "still serving", st)
        rc = srv.stop()
        expect(rc == 0, "clean stop", rc, srv.log_text())


rg.run(main)
