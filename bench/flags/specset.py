#!/usr/bin/env python3
"""bench/flags/specset.py SPEC_DIR OUT_DIR: the Unleash client
specification's feature sets and isEnabled cases as one flag set and one
case list in bench/flags's format (OUT_DIR/features.json, cases.json).
Names are prefixed with the file's number (dependencies too) and segment
ids offset per file, so the files do not collide; the delta files (whose
state is events) are left out."""
import json
import os
import sys

spec_dir, out = sys.argv[1], sys.argv[2]
features, segments, contexts, cases = [], [], [], []
for k, name in enumerate(json.load(open(os.path.join(spec_dir, "index.json")))):
    spec = json.load(open(os.path.join(spec_dir, name)))
    state = spec.get("state", {})
    if "features" not in state:
        continue
    pre = "%02d/" % k
    for s in state.get("segments", []):
        segments.append(dict(s, id=s["id"] + 1000 * k))
    for f in state["features"]:
        f = dict(f, name=pre + f["name"])
        for s in f.get("strategies") or []:
            if "segments" in s:
                s["segments"] = [i + 1000 * k for i in s["segments"]]
        for d in f.get("dependencies") or []:
            d["feature"] = pre + d["feature"]
        features.append(f)
    for t in spec.get("tests", []):
        contexts.append(t["context"])
        cases.append([pre + t["toggleName"], len(contexts) - 1])
with open(os.path.join(out, "features.json"), "w") as fh:
    json.dump({"version": 1, "features": features, "segments": segments}, fh)
with open(os.path.join(out, "cases.json"), "w") as fh:
    json.dump({"contexts": contexts, "cases": cases}, fh)
