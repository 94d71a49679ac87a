"""`make demo`'s walk (scripts/demo.sh, DEMO_EXIT=1, writing in a temp
directory) can be watched on the dashboard: it prints the dashboard's URL
and the admin token before the walk; that URL serves the dashboard, the
token logs in (GET /v1/whoami: admin) and opens the push stream, which
then carries the walk's decisions (every rollout it creates, and its
moves through the waves) as they are made; at the end it prints the URL
and the same token again.
# ctest-labels: web
"""
import http.client
import json
import os
import re
import subprocess
import tempfile
import threading
import urllib.request

import rg
from rg import expect


def watch(port, token, decisions):
    """Reads GET /v1/stream until the server goes away, appending each
    decision's data to decisions."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("GET", "/v1/stream", headers={"Authorization": "Bearer " + token})
        r = conn.getresponse()
        decisions.append({"status": r.status})
        event = None
        for raw in r:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "decision":
                decisions.append(json.loads(line[6:]))
    except OSError:
        pass  # the demo stopped its server
    finally:
        conn.close()


def on_dashboard_line(url, token, decisions):
    """The printed URL serves the dashboard and the token logs in; starts
    watching the stream. Returns the watching thread."""
    with urllib.request.urlopen(url + "/", timeout=10) as r:
        page = r.read()
    expect(b'src="/ui/app.js"' in page, "the printed URL serves the dashboard", page[:200])
    req = urllib.request.Request(url + "/v1/whoami", headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(req, timeout=10) as r:
        me = json.load(r)
    expect(me["role"] == "admin", "the printed token logs in as admin", me)
    t = threading.Thread(target=watch, args=(int(url.rsplit(":", 1)[1]), token, decisions),
                         daemon=True)
    t.start()
    return t


def main():
    port = rg.free_port()
    decisions, printed, watcher = [], [], None
    with tempfile.TemporaryDirectory(prefix="rg-demo-") as var:
        env = dict(os.environ, DEMO_PORT=str(port), DEMO_EXIT="1", DEMO_VAR=var)
        p = subprocess.Popen([os.path.join(rg.SOURCE_DIR, "scripts", "demo.sh"), rg.BUILD_DIR],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        out, url = [], None
        for line in p.stdout:
            out.append(line)
            m = re.match(r"dashboard: (http://\S+)/ ", line)
            if m:
                url = m.group(1)
            m = re.match(r"token: +(\S+)$", line)
            if m:
                printed.append((url, m.group(1)))
                if watcher is None:
                    watcher = on_dashboard_line(url, m.group(1), decisions)
        code = p.wait(60)
        text = "".join(out)
        expect(code == 0, "the demo's walk", text[-3000:])
    expect(len(printed) == 2 and printed[0] == printed[1] == ("http://127.0.0.1:%d" % port,
                                                              printed[0][1]),
           "the dashboard's URL and token printed before and after the walk", printed)
    expect(watcher is not None, "the stream was watched")
    watcher.join(30)
    expect(decisions and decisions[0] == {"status": 200}, "the stream opened", decisions[:1])
    moves = decisions[1:]
    started = text.count("rollout start --release")
    rollouts = {d["rollout"] for d in moves}
    moved = [d for d in moves if d["from_wave"] != d["to_wave"] or d["from"] != d["to"]]
    print("decisions pushed during the walk: %d, of %d rollouts; moves: %s"
          % (len(moves), len(rollouts),
             ", ".join("#%d %s %d -> %s %d" % (d["rollout"], d["from"], d["from_wave"] + 1,
                                                d["to"], d["to_wave"] + 1) for d in moved)))
    expect(started == 3 and len(rollouts) == started and moved,
           "every rollout of the walk pushed to the dashboard, with its moves", started, moves[:20])

if __name__ == "__main__":
    rg.run(main)
