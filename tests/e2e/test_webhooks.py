"""Webhooks (issue 13, "be told"), through the real binaries: rollgated,
the rollgate CLI, and a receiver in this test (http.server) that checks
every delivery's signature as docs/webhooks.md tells receivers to.

1. Bad input gets a clear 400/403/404 and changes nothing: a bad URL
   scheme, a URL without a host, an unknown or empty event list, an
   unknown channel, a short secret, no reason, unknown ids, viewer and
   operator tokens.
2. A real halting rollout (test_stratum_halt's fleet: a windows-10
   stratum that crashes) is told to a `halt` subscription made with
   `rollgate webhook create`: signed with its secret, the body names the
   rollout, state, reason and counts; the receiver's first answer is a
   500, so it is sent again (same delivery id) and then delivered; the
   delivery log shows both attempts. A subscription to another channel
   and one to `complete` only are told nothing.
3. A receiver's 4xx is not retried; a redirect is not followed.
4. A rollout every endpoint takes (channel `quick`) completes: a
   `complete` subscription on that channel gets one `complete` delivery,
   signed with its secret, whose body names the rollout in state
   `completed` with the reason of the completing decision. A rollout
   (channel `holds`) whose windows-10 endpoints go dark right after
   `applying`, too few to halt on: the gate holds it, and a `hold`
   subscription gets one `hold` delivery, signed, naming the rollout in
   state `held` with the gate's reason.
5. kill -9 of rollgated with a pending delivery (a `pause` whose receiver
   answers 503): after the restart it is delivered, once.
6. `webhook test`, `deliveries`, `list`, `show`, `delete` from the CLI;
   every change is in the audit log with its reason.
# ctest-labels: ops
"""
import hashlib
import hmac
import http.server
import json
import os
import subprocess
import threading
import time

import rg
from rg import expect
import test_stratum_halt as fleet
from test_find_hosts import DarkAgent

CLI = os.path.join(rg.BUILD_DIR, "src", "cli", "rollgate")
DEADLINE_S = 180  # bound on every wait (never an assertion)
# The plan's window for the rollouts that must pass or hold: an endpoint
# is "heard" only when it checks in inside its window, which the gate
# stretches to at least 3 typical check-in intervals of its stratum
# (warm_up keeps that typical interval one round of this test); 20 s
# also covers one round much slower than the others on a loaded machine,
# where 2 s did not, and a healthy endpoint then counted as silent.
HEARD_WINDOW_S = 20
REPLAY_S = 300   # what docs/webhooks.md tells receivers to accept


class Receiver:
    """An HTTP receiver: answers path P with the statuses queued in
    plan[P] (then 200) and keeps every request it got, with whether its
    signature verified under secrets[P]."""

    def __init__(self):
        self.lock = threading.Lock()
        self.plan, self.secrets, self.got = {}, {}, []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with outer.lock:
                    queue = outer.plan.get(self.path, [])
                    status = queue.pop(0) if queue else 200
                    outer.got.append({
                        "path": self.path, "status": status, "body": body,
                        "headers": dict(self.headers),
                        "verified": verify(outer.secrets.get(self.path, ""),
                                           self.headers, body)})
                self.send_response(status)
                if status in (301, 302, 307, 308):
                    self.send_header("Location", "/followed")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.httpd.server_port, path)

    def requests(self, path):
        with self.lock:
            return [g for g in self.got if g["path"] == path]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def verify(secret, headers, body):
    """docs/webhooks.md's receiver check: the HMAC-SHA256 of "<t>.<body>"
    under the secret, and t no older than REPLAY_S."""
    parts = dict(p.split("=", 1) for p in
                 headers.get("X-Rollgate-Signature", "").split(",") if "=" in p)
    if "t" not in parts or "v1" not in parts:
        return False
    mac = hmac.new(secret.encode(), parts["t"].encode() + b"." + body,
                   hashlib.sha256).hexdigest()
    return (hmac.compare_digest(mac, parts["v1"]) and
            abs(time.time() - int(parts["t"])) <= REPLAY_S)


def cli(srv, *args, token=None):
    env = dict(os.environ, ROLLGATE_URL=srv.url,
               ROLLGATE_TOKEN=srv.token if token is None else token,
               **srv.cli_env())
    return subprocess.run([CLI] + list(args), env=env, capture_output=True,
                          text=True, timeout=30)


def cli_json(srv, *args):
    p = cli(srv, "--json", *args)
    expect(p.returncode == 0, "rollgate " + " ".join(args), p.returncode,
           p.stdout, p.stderr)
    return json.loads(p.stdout)


def wait_for(what, fn):
    """Polls fn until it returns something true, for at most DEADLINE_S."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        got = fn()
        if got:
            return got
        expect(time.monotonic() < deadline, what)
        time.sleep(0.1)


def delivery_log(srv, hook):
    st, body = srv.request("GET", "/v1/webhooks/%d/deliveries" % hook)
    expect(st == 200, "deliveries", st, body)
    return body["deliveries"]


def finished(srv, hook):
    """The deliveries of hook once none is pending."""
    log = delivery_log(srv, hook)
    return log if log and all(d["state"] != "pending" for d in log) else None


def audit_webhook_rows(srv):
    st, body = srv.request("GET", "/v1/audit?limit=1000")
    expect(st == 200, "audit", st, body)
    return [a for a in body["audit"] if a["action"].startswith("webhook.")]


def bad_input(srv, rx):
    url = rx.url("/bad")
    good = {"url": url, "events": ["halt"], "reason": "r"}
    cases = [
        ("ftp scheme", dict(good, url="ftp://127.0.0.1/x"), 400, "url", "scheme"),
        ("no host", dict(good, url="http:///x"), 400, "url", "host"),
        ("not a URL", dict(good, url="hooks.example"), 400, "url", "URL"),
        ("unknown event", dict(good, events=["halt", "explode"]), 400,
         "events", "explode"),
        ("no event", dict(good, events=[]), 400, "events", "at least one"),
        ("unknown channel", dict(good, channel="nonesuch"), 404, "channel",
         "nonesuch"),
        ("short secret", dict(good, secret="short"), 400, "secret", "16"),
        ("no reason", {"url": url, "events": ["halt"]}, 400, "reason", None),
        ("unknown field", dict(good, retries=3), 400, None, "retries"),
    ]
    for what, body, status, field, word in cases:
        st, b = srv.request("POST", "/v1/webhooks", body)
        expect(st == status, what + ": status", st, b)
        expect(field is None or b["error"].get("field") == field,
               what + ": field", b)
        expect(word is None or word in b["error"]["message"], what + ": says why", b)
    p = cli(srv, "webhook", "create", "gopher://x/", "--events", "halt",
            "--reason", "r")
    expect(p.returncode == 1 and "scheme 'gopher'" in p.stderr,
           "the CLI shows the server's error", p.returncode, p.stderr)
    p = cli(srv, "webhook", "create", url, "--reason", "r")
    expect(p.returncode == 2 and "--events" in p.stderr,
           "the CLI wants --events", p.returncode, p.stderr)
    for method, path, body in (("GET", "/v1/webhooks/999", None),
                               ("DELETE", "/v1/webhooks/999", {"reason": "r"}),
                               ("POST", "/v1/webhooks/999/test", None),
                               ("GET", "/v1/webhooks/999/deliveries", None)):
        st, b = srv.request(method, path, body)
        expect(st == 404 and "webhook 999 not found" in b["error"]["message"],
               "unknown id: " + method + " " + path, st, b)
    st, b = srv.request("DELETE", "/v1/webhooks/999", {})
    expect(st == 400 and b["error"]["field"] == "reason", "delete needs a reason",
           st, b)
    for role in ("viewer", "operator"):
        tok = srv.make_token(role, "hooks-" + role)
        st, b = srv.request("POST", "/v1/webhooks", good, token=tok)
        expect(st == 403, role + " may not create", st, b)
        st, b = srv.request("GET", "/v1/webhooks", token=tok)
        expect(st == 403, role + " may not list", st, b)
    st, b = srv.request("GET", "/v1/webhooks")
    expect(st == 200 and b["webhooks"] == [], "nothing was created", b)
    expect(audit_webhook_rows(srv) == [], "nothing was audited",
           audit_webhook_rows(srv))


def halt_is_told(srv, rx):
    rx.plan["/halt"] = [500]
    for name in ("detections", "elsewhere"):
        st, b = srv.request("POST", "/v1/channels", {"name": name})
        expect(st == 201, "channel " + name, st, b)
    made = cli_json(srv, "webhook", "create", rx.url("/halt"), "--events",
                    "halt", "--channel", "detections", "--reason",
                    "page the on-call engineer")
    rx.secrets["/halt"] = made["secret"]
    expect(made["secret"].startswith("whsec_") and made["events"] == ["halt"]
           and made["channel"] == "detections", "created", made)
    for path, events, channel in (("/elsewhere", ["*"], "elsewhere"),
                                  ("/complete", ["complete"], None)):
        body = {"url": rx.url(path), "events": events, "reason": "quiet"}
        if channel:
            body["channel"] = channel
        st, b = srv.request("POST", "/v1/webhooks", body)
        expect(st == 201, "subscription " + path, st, b)

    agents = fleet.setup(srv)
    rid = fleet.rollout(srv, fleet.release(srv, "detections", 1), 600)
    ro = fleet.drive(srv, rid, agents, "detections",
                     ("halted", "completed", "held"), DEADLINE_S)
    expect(ro["state"] == "halted", "the rollout halts", ro["state"])
    log = wait_for("the halt is delivered",
                   lambda: finished(srv, made["id"]))
    expect(len(log) == 1 and log[0]["state"] == "delivered" and
           log[0]["attempts"] == 2 and
           [a["status"] for a in log[0]["log"]] == [500, 200] and
           "HTTP 500" in log[0]["log"][0]["error"],
           "500 then 200: two attempts, delivered", log)
    got = rx.requests("/halt")
    expect(len(got) == 2 and all(g["verified"] for g in got),
           "both attempts signed with the subscription's secret", got)
    expect(got[0]["body"] == got[1]["body"] and
           got[0]["headers"]["X-Rollgate-Delivery"] ==
           got[1]["headers"]["X-Rollgate-Delivery"] == log[0]["delivery"],
           "a retry is the same delivery", got)
    body = json.loads(got[1]["body"])
    halt = fleet.halt_decision(fleet.get(srv, rid))
    expect(body["event"] == "halt" and got[1]["headers"]["X-Rollgate-Event"]
           == "halt" and body["delivery"] == log[0]["delivery"] and
           body["webhook"] == made["id"], "event and ids", body)
    r = body["rollout"]
    expect(r["id"] == rid and r["channel"] == "detections" and
           r["version"] == 1 and r["state"] == "halted" and
           r["reason"] == halt["reason"] and
           r["counts"] == halt["evidence"]["counts"] and r["counts"]["failed"] > 0,
           "the body says which rollout, what state, why, and the counts",
           body, halt)
    expect(rx.requests("/elsewhere") == [] and rx.requests("/complete") == [],
           "other channels and events are told nothing", rx.got)
    return agents


def subscribe(srv, rx, path, event, channel):
    """A subscription to event on channel (made here); its secret kept for
    checks."""
    st, b = srv.request("POST", "/v1/channels", {"name": channel})
    expect(st == 201, "channel " + channel, st, b)
    st, w = srv.request("POST", "/v1/webhooks", {
        "url": rx.url(path), "events": [event], "channel": channel,
        "reason": "tell " + event})
    expect(st == 201, "subscription " + path, st, w)
    rx.secrets[path] = w["secret"]
    return w["id"]


def told_once(srv, rx, hook, path, event, rid, state):
    """The one delivery of hook: delivered at the first attempt, signed,
    about rollout rid in state, with the reason of its newest decision."""
    log = wait_for(event + " delivered", lambda: finished(srv, hook))
    got = rx.requests(path)
    expect(len(log) == 1 and log[0]["state"] == "delivered" and
           log[0]["event"] == event and len(got) == 1 and got[0]["verified"],
           "one %s delivery, HMAC verified" % event, log, got)
    body = json.loads(got[0]["body"])
    ro = fleet.get(srv, rid)
    last = [d for d in ro["decisions"] if d["to"] == state][-1]
    r = body["rollout"]
    expect(body["event"] == event and
           got[0]["headers"]["X-Rollgate-Event"] == event and
           body["delivery"] == log[0]["delivery"] and body["webhook"] == hook and
           r["id"] == rid and r["state"] == state and
           r["reason"] == last["reason"], "the %s body" % event, body, last)
    return body


def warm_up(agents, channel, rounds=3):
    """Back-to-back check-in rounds before a rollout starts. The gate sizes
    an exposure's window in whole check-in intervals of its stratum (the
    typical gap between each endpoint's last two check-ins, at least 3 of
    them: health/silence.h); after the test's idle steps that gap is as
    long as the step took, minutes on a loaded machine, so the window was
    minutes long and the rollout outlasted the wait (windows-10 "still
    within their window" after 141 s at load 18). A few rounds make every
    endpoint's last gap one round."""
    for _ in range(rounds):
        for a in agents:
            a.desired(channel)


def complete_and_hold_are_told(srv, rx, agents):
    done = subscribe(srv, rx, "/done", "complete", "quick")
    held = subscribe(srv, rx, "/held", "hold", "holds")
    crashes = [a.crashes for a in agents]
    for a in agents:
        a.crashes = False  # this release is good everywhere
    warm_up(agents, "quick")
    rid = fleet.rollout(srv, fleet.release(srv, "quick", 1), 1, HEARD_WINDOW_S)
    ro = fleet.drive(srv, rid, agents, "quick", ("completed", "halted", "held"),
                     DEADLINE_S)
    for a, c in zip(agents, crashes):
        a.crashes = c
    expect(ro["state"] == "completed", "the good rollout completes",
           ro["state"], ro["decisions"][-2:])
    told_once(srv, rx, done, "/done", "complete", rid, "completed")
    completed = rid

    # windows-10 goes dark after `applying` (as many endpoints as its
    # exposure budget) while as many others of the stratum, outside the
    # rollout, keep checking in (its control cohort): no healthy evidence
    # and silence leaning against the release, too little to halt on: the
    # gate holds the rollout.
    st, key = srv.request("POST", "/v1/enrollment-keys", {})
    expect(st == 201, "enrollment key", st, key)
    control = []
    for i in range(len([a for a in agents if a.crashes])):
        eid = "w10-ctl-%02d" % i
        st, b = srv.request("POST", "/v1/agent/enroll", {
            "enrollment_key": key["key"], "endpoint_id": eid, "attributes": {
                "os": "windows", "os_version": "10", "arch": "x86_64"}},
            token="")
        expect(st == 200, "enroll", eid, st, b)
        control.append(fleet.Agent(srv, eid, b["token"], False))
    dark = [DarkAgent(srv, a.id, a.token, False) for a in agents if a.crashes]
    lit = [a for a in agents if not a.crashes]
    warm_up(dark + control + lit, "holds")
    rid = fleet.rollout(srv, fleet.release(srv, "holds", 1), 1, HEARD_WINDOW_S)
    # Admitted only once a tick measured the rollout: from then on each
    # round asks the dark endpoints first, so they take the stratum's
    # whole exposure budget and the others stay outside, as controls.
    wait_for("the rollout measured", lambda: srv.request(
        "GET", "/v1/rollouts/%d?measure=0" % rid)[1]["counts"])
    ro = fleet.drive(srv, rid, dark + control + lit, "holds",
                     ("completed", "halted", "held"), DEADLINE_S)
    expect(ro["state"] == "held", "the gate holds the rollout", ro["state"],
           ro["decisions"][-2:])
    body = told_once(srv, rx, held, "/held", "hold", rid, "held")
    expect(len(rx.requests("/done")) == 1,
           "complete is told once, the hold not to it", rx.requests("/done"))
    print("webhooks: complete (rollout %d) and hold (rollout %d: %s) "
          "delivered, signed" % (completed, rid, body["rollout"]["reason"]))


def not_retried(srv, rx):
    for path, status in (("/gone", 410), ("/moved", 302)):
        rx.plan[path] = [status]
        st, w = srv.request("POST", "/v1/webhooks", {
            "url": rx.url(path), "events": ["*"], "reason": "once"})
        expect(st == 201, "subscription " + path, st, w)
        st, d = srv.request("POST", "/v1/webhooks/%d/test" % w["id"])
        expect(st == 202 and d["event"] == "test", "test queued", st, d)
        log = wait_for(path + " finished", lambda: finished(srv, w["id"]))
        expect(log[0]["state"] == "failed" and log[0]["attempts"] == 1 and
               log[0]["last_status"] == status,
               "HTTP %d fails at once" % status, log)
    expect(rx.requests("/followed") == [], "the redirect is not followed", rx.got)


def kill9_pending(srv, rx):
    rx.plan["/pause"] = [503] * 1000
    made = cli_json(srv, "webhook", "create", rx.url("/pause"), "--events",
                    "pause,resume", "--reason", "tell the release channel",
                    "--secret", "a-given-secret-of-32-bytes-long!")
    rx.secrets["/pause"] = "a-given-secret-of-32-bytes-long!"
    rid = fleet.rollout(srv, fleet.release(srv, "configs", 1), 600)
    st, b = srv.request("POST", "/v1/rollouts/%d/pause" % rid, {"reason": "wait"})
    expect(st == 200 and b["state"] == "paused", "paused", st, b)
    wait_for("a refused attempt", lambda: rx.requests("/pause"))
    pending = delivery_log(srv, made["id"])
    expect(len(pending) == 1 and pending[0]["state"] == "pending",
           "pending when killed", pending)
    srv.kill()
    with rx.lock:
        rx.plan["/pause"] = []  # the receiver is back
    srv.start()
    log = wait_for("delivered after the restart",
                   lambda: finished(srv, made["id"]))
    uid = log[0]["delivery"]
    ok = [g for g in rx.requests("/pause") if g["status"] == 200]
    expect(log[0]["state"] == "delivered" and len(ok) == 1 and
           ok[0]["verified"] and json.loads(ok[0]["body"])["delivery"] == uid and
           json.loads(ok[0]["body"])["event"] == "pause",
           "the pause is delivered once, after the restart", log, ok)


def cli_tour(srv, rx):
    rx.secrets["/tour"] = "whsec-tour-0123456789"
    made = cli_json(srv, "webhook", "create", rx.url("/tour"), "--events", "*",
                    "--secret", rx.secrets["/tour"], "--reason", "tour")
    hook = str(made["id"])
    p = cli(srv, "webhook", "test", hook, "--reason", "does it work?")
    expect(p.returncode == 0 and "queued test delivery" in p.stdout,
           "webhook test", p.returncode, p.stdout, p.stderr)
    wait_for("the test delivery", lambda: finished(srv, made["id"]))
    got = rx.requests("/tour")
    expect(len(got) == 1 and got[0]["verified"] and
           json.loads(got[0]["body"])["event"] == "test", "test delivered", got)
    p = cli(srv, "webhook", "deliveries", hook)
    expect(p.returncode == 0 and "delivered" in p.stdout and "test" in p.stdout,
           "webhook deliveries", p.stdout, p.stderr)
    p = cli(srv, "webhook", "list")
    expect(p.returncode == 0 and rx.url("/tour") in p.stdout and
           "whsec" not in p.stdout, "webhook list, without secrets", p.stdout)
    shown = cli_json(srv, "webhook", "show", hook)
    expect("secret" not in shown and shown["url"] == rx.url("/tour"),
           "webhook show", shown)
    p = cli(srv, "webhook", "delete", hook)
    expect(p.returncode == 2 and "--reason" in p.stderr, "delete wants a reason",
           p.returncode, p.stderr)
    p = cli(srv, "webhook", "delete", hook, "--reason", "tour over")
    expect(p.returncode == 0, "webhook delete", p.returncode, p.stderr)
    st, b = srv.request("GET", "/v1/webhooks/" + hook)
    expect(st == 404, "deleted", st, b)
    rows = {(a["action"], a["target"]): a["reason"] for a in audit_webhook_rows(srv)}
    target = "webhook:" + hook
    expect(rows.get(("webhook.create", target)) == "tour" and
           rows.get(("webhook.test", target)) == "does it work?" and
           rows.get(("webhook.delete", target)) == "tour over",
           "each change audited with its reason", rows)


def main():
    rx = Receiver()
    try:
        # releases declare no activation time: learn it up to 1 s
        with rg.Server(args=["--tick-ms", "50", "--flush-ms", "200",
                             "--activation-cap", "1"]) as srv:
            srv.start()
            fleet.LINUX, fleet.WINDOWS = 12, 6
            bad_input(srv, rx)
            agents = halt_is_told(srv, rx)
            complete_and_hold_are_told(srv, rx, agents)
            not_retried(srv, rx)
            kill9_pending(srv, rx)
            cli_tour(srv, rx)
    finally:
        rx.close()


if __name__ == "__main__":
    rg.run(main)
