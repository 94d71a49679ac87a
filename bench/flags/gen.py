#!/usr/bin/env python3
"""bench/flags/gen.py OUT_DIR [FLAGS] [CONTEXTS]: writes the synthetic flag
set (FLAGS flexibleRollout flags, default 1000, each with two constraints;
every fourth with variants) as OUT_DIR/features.json and the evaluation
cases (every flag against CONTEXTS contexts, default 100, seeded, in a
shuffled order) as OUT_DIR/cases.json: {"contexts": [...], "cases":
[[flag, context index], ...]}."""
import json
import os
import random
import sys

out = sys.argv[1]
n_flags = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
n_ctx = int(sys.argv[3]) if len(sys.argv) > 3 else 100
rnd = random.Random(14)
features = []
for i in range(n_flags):
    name = "synthetic.flag.%04d" % i
    f = {"name": name, "enabled": True, "strategies": [{
        "name": "flexibleRollout",
        "parameters": {"rollout": str(rnd.randint(1, 100)), "stickiness": "default",
                       "groupId": name},
        "constraints": [
            {"contextName": "os", "operator": "IN",
             "values": rnd.sample(["linux", "windows", "macos", "android"], 2)},
            {"contextName": "version", "operator": "SEMVER_GTE",
             "value": "%d.%d.0" % (rnd.randint(1, 3), rnd.randint(0, 9))}]}]}
    if i % 4 == 0:
        f["variants"] = [{"name": v, "weight": w, "stickiness": "default",
                          "payload": {"type": "string", "value": v}}
                         for v, w in (("a", 300), ("b", 700))]
    features.append(f)
contexts = [{"userId": "user-%d" % i, "sessionId": "s-%d" % i,
             "properties": {"os": rnd.choice(["linux", "windows", "macos", "android"]),
                            "version": "%d.%d.%d" % (rnd.randint(1, 3), rnd.randint(0, 9),
                                                     rnd.randint(0, 20))}}
            for i in range(n_ctx)]
cases = [[f["name"], i] for i in range(len(contexts)) for f in features]
rnd.shuffle(cases)
with open(os.path.join(out, "features.json"), "w") as fh:
    json.dump({"version": 1, "features": features, "segments": []}, fh)
with open(os.path.join(out, "cases.json"), "w") as fh:
    json.dump({"contexts": contexts, "cases": cases}, fh)
