"""One audit target per object (issue 13), through a real rollgated's API
and `rollgate audit --target`: every kind of object the admin API
creates keeps one target, `KIND:ID`, for its whole life, so
`rollgate audit --target KIND:ID` shows its creation and every later
action on it, in order. Objects with ids (releases, rollouts, tokens,
client tokens, enrollment keys, policies, webhooks) use the id the store
gave them; objects the API addresses by name (channels, flags, segments)
use that name; a flag's rollouts are part of the flag's story.

The table below holds one row per kind: how to create the object over
HTTP, the later actions to take on it, and the audit actions expected
under its target. Finally no audit row anywhere has a target of another
shape (a token's name, a bare kind).
# ctest-labels: ops
"""
import json
import re

import rg
from rg import expect

PLAN = {"name": "slow", "waves": [{"name": "all", "share": 100,
                                   "min_endpoints": 1,
                                   "min_bake_s": 3600}]}
FLAG_PLAN = {"name": "slow", "waves": [
    {"name": "a", "share": 20, "min_endpoints": 1, "min_bake_s": 3600},
    {"name": "b", "share": 100, "min_endpoints": 1, "min_bake_s": 3600}]}


def call(srv, method, path, body=None, want=(200, 201), token=None):
    st, b = srv.request(method, path, body, token=token)
    expect(st in want, "%s %s" % (method, path), st, b)
    return b


def reason(why):
    return {"reason": "e2e: " + why}


# --- one function per kind: creates the object, acts on it, and returns
# (target, expected actions oldest first) ---------------------------------

def channel(srv):
    call(srv, "POST", "/v1/channels", {"name": "at-chan"})
    st, b = srv.request("PUT", "/v1/channels/at-chan/preflight", raw="null")
    expect(st == 200, "preflight removed", st, b)
    return "channel:at-chan", ["channel.create", "channel.preflight"]


def release(srv):
    rel = srv.release("at-rel", 1)
    call(srv, "POST", "/v1/releases/%d/lift-quarantine" % rel,
         reason("lift"))
    return "release:%d" % rel, ["release.create", "release.lift_quarantine"]


def rollout(srv):
    rel = srv.release("at-ro", 1)
    ro = call(srv, "POST", "/v1/rollouts", {"release": rel, "plan": PLAN})
    for act in ("pause", "resume", "abort"):
        call(srv, "POST", "/v1/rollouts/%d/%s" % (ro["id"], act), reason(act))
    return "rollout:%d" % ro["id"], ["rollout.create", "rollout.pause",
                                     "rollout.resume", "rollout.abort"]


def token(srv):
    t = call(srv, "POST", "/v1/tokens", {"role": "viewer", "name": "at-tok"})
    call(srv, "DELETE", "/v1/tokens/%d" % t["id"])
    call(srv, "GET", "/v1/whoami", want=(401,), token=t["token"])
    return "token:%d" % t["id"], ["token.create", "token.revoke",
                                  "auth.failed"]


def client_token(srv):
    t = call(srv, "POST", "/v1/client-tokens", {"name": "at-sdk"})
    call(srv, "DELETE", "/v1/client-tokens/%d" % t["id"])
    return "client_token:%d" % t["id"], ["client_token.create",
                                         "client_token.revoke"]


def enrollment_key(srv):
    k = call(srv, "POST", "/v1/enrollment-keys", {"uses": 2})
    call(srv, "DELETE", "/v1/enrollment-keys/%d" % k["id"])
    return "enrollment_key:%d" % k["id"], ["enrollment_key.create",
                                           "enrollment_key.revoke"]


def policy(srv):
    srv.release("at-pol", 1)
    p = call(srv, "POST", "/v1/policies", {
        "name": "at-behind", "channel": "at-pol", "mode": "n-1",
        "selector": {"tag": "pos"}})
    call(srv, "DELETE", "/v1/policies/%d" % p["id"])
    return "policy:%d" % p["id"], ["policy.create", "policy.delete"]


def flag_body(share):
    return {"name": "at-flag", "enabled": True, "strategies": [{
        "name": "flexibleRollout", "constraints": [], "parameters": {
            "rollout": str(share), "stickiness": "default",
            "groupId": "at-flag"}}]}


def flag(srv):
    call(srv, "POST", "/v1/flags", dict(feature=flag_body(5), **reason("new")))
    call(srv, "POST", "/v1/flags/at-flag/disable", reason("off"))
    call(srv, "POST", "/v1/flags/at-flag/enable", reason("on"))
    return "flag:default/at-flag", ["flag.create", "flag.disable",
                                    "flag.enable"]


def flag_rollout(srv):
    """A flag's guarded rollout lives under the flag's target."""
    call(srv, "POST", "/v1/flags/at-flag/rollout",
         dict(plan=FLAG_PLAN, **reason("raise")))
    call(srv, "POST", "/v1/flags/at-flag/rollout/pause", reason("look"))
    call(srv, "POST", "/v1/flags/at-flag/rollout/abort", reason("stop"))
    return "flag:default/at-flag", ["flag.create", "flag.rollout.start",
                                    "flag.rollout.pause",
                                    "flag.rollout.abort"]


def segment(srv):
    seg = {"name": "at-seg", "constraints": [{
        "contextName": "os", "operator": "IN", "values": ["linux"]}]}
    call(srv, "POST", "/v1/segments", {"segment": seg, **reason("new")})
    seg["constraints"][0]["values"] = ["linux", "windows"]
    call(srv, "PUT", "/v1/segments/at-seg", {"segment": seg, **reason("wider")})
    call(srv, "DELETE", "/v1/segments/at-seg", reason("gone"))
    return "segment:default/at-seg", ["segment.create", "segment.update",
                                      "segment.delete"]


def webhook(srv):
    w = call(srv, "POST", "/v1/webhooks", {
        "url": "http://127.0.0.1:9/hook", "events": ["halt"],
        "reason": "page"})
    call(srv, "DELETE", "/v1/webhooks/%d" % w["id"], reason("done"))
    return "webhook:%d" % w["id"], ["webhook.create", "webhook.delete"]


KINDS = [channel, release, rollout, token, client_token, enrollment_key,
         policy, flag, flag_rollout, segment, webhook]

# The shape of every target: an id for the id-numbered kinds, the API's
# name for the named ones.
TARGET = re.compile(
    r"^((release|rollout|token|client_token|enrollment_key|policy|webhook"
    r"|root):[0-9]+|(channel|endpoint):[^:/]+|(flag|segment):[^/]+/[^/]+"
    r"|artifact:[0-9a-f]{64}|)$")


def story(srv, target):
    """The actions under target, oldest first, through the CLI."""
    p = rg.cli(srv, "--json", "audit", "--target", target)
    expect(p.returncode == 0, "rollgate audit --target " + target,
           p.returncode, p.stderr)
    return [r["action"] for r in reversed(json.loads(p.stdout)["audit"])]


def subsequence(want, got):
    it = iter(got)
    return all(any(g == w for g in it) for w in want)


def main():
    with rg.Server() as srv:
        srv.start()
        for kind in KINDS:
            target, want = kind(srv)
            got = story(srv, target)
            expect(got and got[0] == want[0] and subsequence(want, got),
                   "%s: %s shows its whole story" % (kind.__name__, target),
                   want, got)
            print("%-15s %-24s %s" % (kind.__name__, target, " ".join(got)))
        rows = call(srv, "GET", "/v1/audit?limit=1000")["audit"]
        bad = [(r["action"], r["target"]) for r in rows
               if not TARGET.match(r["target"])]
        expect(not bad, "every audit target is KIND:ID", bad)


if __name__ == "__main__":
    rg.run(main)
