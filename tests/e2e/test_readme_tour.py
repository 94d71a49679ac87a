"""README.md's tour of the CLI, run as written: the ```sh blocks under
"A tour of the CLI" (the tour and its feature-flag lines) are read from
README.md and run in order by walk.py (docs/README.md: how a walk runs,
in a directory laid out like a clone, with a PATH of only the system
directories, so the tour must say where the programs are, and no
ROLLGATE_* variables or config file; the port 7400 becomes a free one).
Every command must exit 0; the outputs are checked for what the tour
claims (a passed preflight, the simulated fleet, the revert's rollout, the
flag's kill switch). Paths the README names in backquotes must exist in
the source tree. The other command blocks (`make demo`, `make test`,
building by hand) are what ran this build.
# ctest-labels: ops
"""
import os
import re

import rg
import walk
from rg import expect

README = os.path.join(rg.SOURCE_DIR, "README.md")


def main():
    walk.named_paths_exist(README)
    cmds = walk.commands(README, section="A tour of the CLI")
    expect(len(cmds) >= 20, "the tour has too few commands", cmds)
    expect(any("127.0.0.1:7400" in c for _, c, _ in cmds),
           "the tour serves on 127.0.0.1:7400")
    with walk.Walk(README) as tour:
        for line, cmd, comment in cmds:
            tour.run(line, cmd, comment)
        tour.stop()
        show = tour.output("rollgate release show 1")
        expect(re.search(r"preflight:\s+passed", show), "release 1 preflighted",
               show)
        expect("20 of 20 endpoints" in tour.output("rollgate endpoints"),
               "the simulated fleet is listed", tour.output("rollgate endpoints"))
        rollback = tour.output("rollgate rollout rollback 1")
        expect("rolled_back" in rollback and "keep release 1: it was channel "
               "detections's first" in rollback,
               "rollout 1 rolled back, and what its endpoints do", rollback)
        with open(tour.path("var/tour-access.log")) as f:
            access = f.read()
        expect(re.search(r" GET /v1/endpoints 200 \S+ actor=admin ", access),
               "the access log holds the tour's requests", access[-600:])
        revert = tour.output("rollgate release revert")
        expect(re.search(r"version 293 = version 291's content", revert) and
               re.search(r"rollout 2: running", revert),
               "the revert made release 293 and started its rollout", revert)
        disabled = tour.output("rollgate flag disable new-parser")
        expect(re.search(r"enabled:\s+no\n", disabled),
               "the kill switch turned the flag off", disabled)


if __name__ == "__main__":
    rg.run(main)
