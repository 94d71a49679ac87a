"""Guarded flag rollouts through the real path (docs/flags.md): rollgated
and 8 rollgate-agent processes (flags_environment = default), each
supervising a consumer that embeds librollgate-agent's flag SDK
(tests/e2e/consumer/flags_consumer.c: it exits 3 at start when flag
"crash-me" is on for its endpoint, its userId being the endpoint id).

1. bad flag: `rollgate flag rollout start crash-me --plan @plan.json`
   raises crash-me's flexibleRollout to 50 %: the endpoints whose
   evaluation flipped (their bucket in [0, 50), found here with the
   server's evaluator) crash-loop, their agents fall back by themselves,
   the gate halts on those failures and the flag's share goes back to 0 %
   by itself (a new version by the orchestrator); the halt is audited,
   `status` and `explain` show it with the evidence, every consumer runs
   again;
2. good flag: the same plan raises good-flag to 100 % and completes,
   rollgated being killed -9 in the middle of it;
3. operator commands: pause, resume and abort (the share reached stays);
   the first counted wave's stratified floor names, in the flag, the
   canaries the share alone does not give the stratum; bad input is
   refused and changes nothing.
4. webhooks (docs/webhooks.md): a subscription to every event with no
   channel gets, at a real receiver, the halt of crash-me (answered 500
   first: retried, the same delivery), the completion of good-flag and
   the pause and resume of "third", each signed with its secret (HMAC
   checked as a receiver would), with kind "flag" and the flag's name,
   environment, state, share and counts; a subscription scoped to a
   channel gets the release's events only.
# ctest-labels: flags
"""
import json
import os

import rg
from rg import expect
from mitm import wait_for
from test_agent_flags import cli, flag, feature, with_agents
from test_webhooks import Receiver

N = 8
PLAN = {"name": "e2e-flag", "on_halt": "revert", "waves": [
    {"name": "half", "share": 50, "min_endpoints": 1, "min_bake_s": 2, "window_s": 6},
    {"name": "all", "share": 100, "min_endpoints": 1, "min_bake_s": 2, "window_s": 6}]}
RELEASE_PLAN = {"name": "all", "on_halt": "revert", "waves": [
    {"name": "all", "share": 100, "min_endpoints": 1, "min_bake_s": 1, "window_s": 8}]}


def rollout(srv, name):
    st, r = srv.request("GET", "/v1/flags/%s/rollout" % name)
    expect(st == 200, "GET rollout " + name, st, r)
    return r


def share(srv, name):
    st, f = srv.request("GET", "/v1/flags/" + name)
    expect(st == 200, "flag " + name, st, f)
    return f["feature"]["strategies"][0]["parameters"]["rollout"], f


def flipped_at(srv, name, pct, ids):
    """The endpoints whose evaluation of name is on at pct percent, by the
    server's evaluator (a probe environment no agent reads)."""
    flag(srv, "create", name, "--rollout", str(pct), "--env", "probe",
         "--reason", "e2e: probe")
    on = set()
    for eid in ids:
        st, r = srv.request("POST", "/v1/flags/%s/eval" % name,
                            {"environment": "probe", "context": {"userId": eid}})
        expect(st == 200, "eval", st, r)
        if r["enabled"]:
            on.add(eid)
    return on


def all_running(agents):
    for a in agents:
        wait_for(lambda: a.active().get("stamp") and a.running() == a.active()["stamp"],
                 120, a.id + "'s consumer runs on its set")


def main():
    with_agents(run, N, "gr")


def setup(srv, agents):
    flag(srv, "create", "crash-me", "--rollout", "0", "--reason", "e2e: dark")
    flag(srv, "create", "good-flag", "--rollout", "0", "--reason", "e2e: dark")
    rel_id = srv.release("detections", 1, b"detections v1\n")
    for a in agents:
        a.start()
    wait_for(lambda: srv.request("GET", "/v1/endpoints")[1].get("total") == N, 60,
             "every agent enrolled")
    st, ro = srv.request("POST", "/v1/rollouts", {"release": rel_id, "plan": RELEASE_PLAN})
    expect(st == 201, "release rollout", st, ro)
    # the release's own trial ends first: crashes during it are the release's
    wait_for(lambda: srv.request("GET", "/v1/rollouts/%d" % ro["id"])[1]["state"] == "completed",
             120, "the release rollout completes")
    for a in agents:
        wait_for(lambda: b"release 1 confirmed healthy" in open(
            os.path.join(a.dir, "agent.log"), "rb").read(), 60, a.id + " confirmed its release")
    all_running(agents)


def bad_flag(srv, agents, plan_file):
    ids = [a.id for a in agents]
    exposed = flipped_at(srv, "crash-me", 50, ids)
    expect(0 < len(exposed) < N, "some endpoints flip at 50%, some do not", exposed)
    out = cli(srv, "flag", "rollout", "start", "crash-me", "--plan", "@" + plan_file,
              "--reason", "e2e: guarded bad flag")
    expect("crash-me" in out, "start prints the rollout", out)
    r = wait_for(lambda: (lambda r: r if r["state"] == "halted" else None)(
        rollout(srv, "crash-me")), 180, "the bad flag's rollout halts")
    halt = r["decisions"][-1]
    expect(halt["to"] == "halted" and halt["actor"] == "orchestrator", "halted by the gate", halt)
    counts = halt["evidence"]["counts"]
    expect(counts["failed"] >= 1 and counts["exposed"] <= len(exposed),
           "failures of exposed endpoints only", counts, exposed)
    wait_for(lambda: share(srv, "crash-me")[0] == "0", 30, "the share goes back to 0%")
    _, f = share(srv, "crash-me")
    hist = [h["created_by"] for h in f["history"]]
    expect(hist[:2] == ["orchestrator", "orchestrator"],
           "raised and reverted by the orchestrator, as versions", f["history"])
    st, audit = srv.request("GET", "/v1/audit?action=flag.rollout.halt")
    expect(st == 200 and any(e["target"] == "flag:default/crash-me"
                             for e in audit["audit"]), "the halt is audited", audit)
    # the flag is written first, then the rollout's state
    wait_for(lambda: json.loads(cli(srv, "--json", "flag", "rollout", "status",
                                    "crash-me"))["share_percent"] == 0, 30,
             "status --json shows the share back at 0%")
    text = cli(srv, "flag", "rollout", "explain", "crash-me")
    expect("halted" in text and "verdict halt" in text, "explain shows the evidence", text)
    for a in agents:  # back to a set where crash-me is off for everyone
        wait_for(lambda: (feature(a.active(), "crash-me") or {}).get("strategies", [{}])[0]
                 .get("parameters", {}).get("rollout") == "0", 120,
                 a.id + " has the reverted share")
    all_running(agents)
    print("1. crash-me: exposed %d of %d at 50%%, halted (%d failed), share back to 0%%"
          % (len(exposed), N, counts["failed"]))


def good_flag(srv, agents):
    st, r = srv.request("POST", "/v1/flags/good-flag/rollout",
                        {"plan": PLAN, "reason": "e2e: guarded good flag"})
    expect(st == 201 and r["state"] == "running", "start over the API", st, r)
    wait_for(lambda: rollout(srv, "good-flag")["wave"] == 1, 180, "good-flag reaches wave 2")
    srv.kill()  # kill -9 in the middle of the rollout
    srv.start()
    after = rollout(srv, "good-flag")
    expect(after["state"] in ("running", "completed") and after["wave"] == 1,
           "the rollout's state survived kill -9", after)
    r = wait_for(lambda: (lambda r: r if r["state"] == "completed" else None)(
        rollout(srv, "good-flag")), 180, "the good flag's rollout completes")
    wait_for(lambda: share(srv, "good-flag")[0] == "100", 30, "good-flag at 100%")
    expect(all(d["to"] != "halted" for d in r["decisions"]), "no halt", r["decisions"])
    print("2. good-flag: completed at 100% across a kill -9 of rollgated")


def floor_of(srv, name):
    """The ids the flag's floor strategy lists (userWithId grouped by name)."""
    _, f = share(srv, name)
    for s in f["feature"]["strategies"]:
        if s["name"] == "userWithId" and s["parameters"].get("groupId") == name:
            return set(s["parameters"]["userIds"].split(","))
    return set()


def commands(srv, agents):
    flag(srv, "create", "third", "--rollout", "5", "--reason", "e2e: third")
    slow = {"name": "slow", "on_halt": "revert", "waves": [
        {"name": "a", "share": 20, "min_endpoints": 1, "min_bake_s": 3600, "window_s": 6},
        {"name": "b", "share": 100, "min_endpoints": 1, "min_bake_s": 3600, "window_s": 6}]}
    st, r = srv.request("POST", "/v1/flags/third/rollout",
                        {"plan": slow, "reason": "e2e", "on_halt": "disable"})
    expect(st == 201 and r["from_percent"] == 5 and r["on_halt"] == "disable", "third", st, r)
    st, e = srv.request("POST", "/v1/flags/third/rollout", {"plan": slow, "reason": "again"})
    expect(st == 409, "one active rollout per flag", st, e)
    wait_for(lambda: share(srv, "third")[0] == "20", 30, "third at 20%")
    # the stratified floor: the 8 agents are one stratum, which gets at
    # least 3 canaries (model/exposure.h), those 20% does not turn on named
    on = flipped_at(srv, "third", 20, [a.id for a in agents])
    floor = floor_of(srv, "third")
    expect(not floor & on and floor <= {a.id for a in agents} and
           len(floor | on) >= 3, "the floor names the stratum's missing canaries",
           floor, on)
    cli(srv, "flag", "rollout", "pause", "third", "--reason", "e2e: look")
    expect(rollout(srv, "third")["state"] == "paused", "paused")
    cli(srv, "flag", "rollout", "resume", "third", "--reason", "e2e: go on")
    expect(rollout(srv, "third")["state"] == "running", "resumed")
    cli(srv, "flag", "rollout", "abort", "third", "--reason", "e2e: stop")
    expect(rollout(srv, "third")["state"] == "aborted", "aborted")
    expect(share(srv, "third")[0] == "20", "abort keeps the share reached")
    st, e = srv.request("POST", "/v1/flags/third/rollout/pause", {"reason": "late"})
    expect(st == 409, "no command on a finished rollout", st, e)
    # bad input: refused, nothing changes
    for body, field in (({"reason": "x", "on_halt": "explode"}, "on_halt"),
                        ({"reason": "x", "plan": {"waves": []}}, "plan"),
                        ({"plan": "standard"}, "reason")):
        flag(srv, "create", "bad-%s" % field.replace("_", "-"), "--rollout", "0",
             "--reason", "e2e")
        st, e = srv.request("POST", "/v1/flags/bad-%s/rollout" % field.replace("_", "-"), body)
        expect(st == 400 and e["error"]["field"].startswith(field), "400 for " + field, st, e)
    flag(srv, "create", "no-share", "--rollout", "100", "--reason", "e2e")
    st, e = srv.request("PUT", "/v1/flags/no-share", {"feature": {"name": "no-share",
                        "enabled": True, "strategies": [{"name": "default"}]}, "reason": "e2e"})
    st, e = srv.request("POST", "/v1/flags/no-share/rollout", {"reason": "x"})
    expect(st == 400 and "flexibleRollout" in e["error"]["message"], "no share to raise", st, e)
    st, e = srv.request("POST", "/v1/flags/nope/rollout", {"reason": "x"})
    expect(st == 404, "unknown flag", st, e)
    st, e = srv.request("GET", "/v1/flags/no-share/rollout")
    expect(st == 404, "no rollout yet", st, e)
    print("3. floor: %d on at 20%%, %d more named; pause, resume, abort; 409s and 400s"
          % (len(on), len(floor)))


def subscribe(srv, rx):
    """Two subscriptions: /all (every event, no channel: flags' too) and
    /channel (every event of channel detections)."""
    hooks = {}
    for path, extra in (("/all", {}), ("/channel", {"channel": "detections"})):
        st, w = srv.request("POST", "/v1/webhooks", dict(
            {"url": rx.url(path), "events": ["*"], "reason": "e2e"}, **extra))
        expect(st == 201, "subscription " + path, st, w)
        rx.secrets[path] = w["secret"]
        hooks[path] = w["id"]
    return hooks


def flag_bodies(rx, path):
    """The flag rollout deliveries received at path: [(request, body)]."""
    got = [(g, json.loads(g["body"])) for g in rx.requests(path)]
    return [(g, b) for g, b in got if b.get("kind") == "flag"]


def one_delivered(srv, rx, hook, name, event):
    """Waits for flag name's event at /all, delivered; returns its body."""
    def seen():
        st, log = srv.request("GET", "/v1/webhooks/%d/deliveries" % hook)
        expect(st == 200, "deliveries", st, log)
        done = [d for d in log["deliveries"] if d["event"] == event and
                (d["flag"] or {}).get("flag") == name and d["state"] == "delivered"]
        return done or None
    done = wait_for(seen, 60, "%s's %s is delivered" % (name, event))
    expect(len(done) == 1, "one delivery of %s's %s" % (name, event), done)
    got = [(g, b) for g, b in flag_bodies(rx, "/all")
           if b["delivery"] == done[0]["delivery"]]
    expect(got and all(g["verified"] for g, _ in got), "signed with the secret", got)
    b = got[-1][1]
    r = b["rollout"]
    expect(b["event"] == event and got[-1][0]["headers"]["X-Rollgate-Event"] == event
           and r["flag"] == name and r["environment"] == "default" and
           isinstance(r["id"], int) and r["reason"], "the body names the flag", b)
    return got, b


def webhooks(srv, rx, hooks):
    got, halt = one_delivered(srv, rx, hooks["/all"], "crash-me", "halt")
    expect(len(got) == 2 and got[0][0]["status"] == 500 and
           got[0][0]["body"] == got[1][0]["body"], "the 500 was retried, same body", got)
    r = halt["rollout"]
    expect(r["state"] == "halted" and r["share_percent"] == 0 and
           r["counts"]["failed"] >= 1, "halted, share back to 0, the failures", halt)
    _, done = one_delivered(srv, rx, hooks["/all"], "good-flag", "complete")
    expect(done["rollout"]["state"] == "completed" and
           done["rollout"]["share_percent"] == 100, "completed at 100%", done)
    for event, state in (("pause", "paused"), ("resume", "running")):
        _, b = one_delivered(srv, rx, hooks["/all"], "third", event)
        expect(b["rollout"]["state"] == state and b["rollout"]["counts"] is None,
               "an operator's " + event, b)
    expect(not flag_bodies(rx, "/channel") and rx.requests("/channel") and
           all(json.loads(g["body"])["kind"] == "release" for g in rx.requests("/channel")),
           "a channel's subscription gets its releases' events only",
           rx.requests("/channel"))
    print("4. webhooks: halt (retried after a 500), complete, pause, resume, signed")


def run(srv, agents):
    rx = Receiver()
    try:
        hooks = subscribe(srv, rx)
        setup(srv, agents)
        wait_for(lambda: rx.requests("/all"), 60, "the release's completion is delivered")
        rx.plan["/all"] = [500]  # the flag's halt, next: answered 500 first
        plan_file = os.path.join(srv.tmp, "plan.json")
        with open(plan_file, "w") as f:
            json.dump(PLAN, f)
        bad_flag(srv, agents, plan_file)
        good_flag(srv, agents)
        commands(srv, agents)
        webhooks(srv, rx, hooks)
    finally:
        rx.close()


if __name__ == "__main__":
    rg.run(main)
