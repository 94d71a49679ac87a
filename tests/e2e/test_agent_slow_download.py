"""A trickling download does not freeze the agent (issue 11, item 9;
docs/agent.md "Downloads").

A real agent (no root, `insecure = true`) supervises the sample consumer
on v1. v2 is then offered, and the check-in proxy of
tests/e2e/mitm.py serves its artifact at 3 bytes/s, far
under the agent's `min_rate`:

1. while the download trickles, the consumer is killed and the agent
   starts it again (supervision goes on during a transfer);
2. the transfer is cut for being too slow, and the next attempt resumes
   with `Range: bytes=N-` (N > 0, the bytes already received), gets the
   rest and applies v2;
3. v3 then trickles forever; SIGTERM ends the agent while it downloads.
# ctest-labels: agent
"""
import os
import signal
import threading
import time

import rg
from rg import expect
from mitm import CONSUMER_LINES, Agent, Proxy, abort, publish, wait_for
from mitm import rollout as start_rollout


class Trickle:
    """Serves artifacts: a request without Range trickles 3 bytes/s until
    the client hangs up; a Range request gets the rest at once."""

    def __init__(self, blobs):
        self.blobs = blobs  # sha256 -> bytes
        self.open = 0       # trickling connections now
        self.sent = []      # bytes sent by each trickle that ended
        self.ranges = []    # Range headers received
        self.lock = threading.Lock()

    def __call__(self, handler, sha):
        data = self.blobs[sha]
        rng = handler.headers.get("Range")
        if rng:
            with self.lock:
                self.ranges.append(rng)
            start = int(rng.split("=")[1].split("-")[0])
            handler.send_response(206)
            handler.send_header("Content-Range", "bytes %d-%d/%d"
                                % (start, len(data) - 1, len(data)))
            handler.send_header("Content-Length", str(len(data) - start))
            handler.end_headers()
            handler.wfile.write(data[start:])
            return
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        with self.lock:
            self.open += 1
        n = 0
        try:
            for i in range(len(data) - 1):  # never the last byte
                handler.wfile.write(data[i:i + 1])
                handler.wfile.flush()
                n += 1
                time.sleep(1 / 3)
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            with self.lock:
                self.open -= 1
                self.sent.append(n)
        handler.close_connection = True


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def main():
    with rg.Server() as srv:
        srv.start()
        proxy = Proxy(srv.port)
        contents = [(b"rule %d\n" % v) * 100 for v in (1, 2, 3)]
        rels, key = publish(srv, contents)
        blobs = {rels[v]["sha256"]: contents[v - 1] for v in rels}
        rollout = lambda v: start_rollout(srv, rels[v])  # noqa: E731

        def active():
            return ((agent.channel() or {}).get("active") or {}).get("release")

        # deltas = false: the whole artifact trickles (test_delta has deltas)
        agent = Agent(srv, proxy, key, "slow",
                      "insecure = true\ntimeout = 15\nmin_rate = 1024\nsettle = 1\n"
                      "deltas = false\n",
                      channel_lines=CONSUMER_LINES)
        try:
            ro = rollout(1)
            wait_for(lambda: active() == rels[1]["id"] and
                     agent.channel()["trial"] is None, 60, "v1 applied")
            consumer = wait_for(lambda: children(agent.proc.pid), 30, "consumer up")[0]
            abort(srv, ro)

            # 1. v2 trickles; the consumer dies and is restarted meanwhile.
            trickle = Trickle(blobs)
            proxy.serve = trickle
            ro = rollout(2)
            wait_for(lambda: trickle.open > 0, 60, "the v2 download trickling")
            os.kill(consumer, signal.SIGKILL)
            restarted = wait_for(lambda: [p for p in children(agent.proc.pid)
                                          if p != consumer] or None, 60,
                                 "the consumer restarted during the download")
            expect(trickle.open > 0 and not trickle.sent,
                   "restarted while the download still trickled", trickle.sent)
            print("consumer restarted (pid %d) during the download" % restarted[0])

            # 2. Cut for being too slow; resumed with Range; applied.
            wait_for(lambda: active() == rels[2]["id"], 120, "v2 applied after a resume")
            wait_for(lambda: trickle.sent, 30, "the trickle to see the hang-up")
            with trickle.lock:
                first, ranges = trickle.sent[0], list(trickle.ranges)
            start = int(ranges[0].split("=")[1].split("-")[0])
            expect(first > 0 and 0 < start <= first, "resumed after the bytes received",
                   first, ranges)
            print("cut after %d bytes, resumed with %s" % (first, ranges[0]))
            abort(srv, ro)

            # 3. SIGTERM during a trickling download ends the agent.
            n = len(trickle.sent)
            rollout(3)
            wait_for(lambda: trickle.open > 0, 60, "the v3 download trickling")
            agent.proc.send_signal(signal.SIGTERM)
            wait_for(lambda: agent.proc.poll() is not None, 10,
                     "the agent to stop during the download")
            wait_for(lambda: len(trickle.sent) > n, 10, "the download closed")
            expect(agent.proc.returncode == 0, "clean exit", agent.proc.returncode)
        finally:
            proxy.serve = None
            if agent.proc.poll() is None:
                agent.proc.kill()
                agent.proc.wait(30)
            agent.stop()
            proxy.close()
        srv.stop()
    print("ok")


if __name__ == "__main__":
    rg.run(main)
