"""The 2024 incident against the real rollgate-engine binary.

usage: incident.py ENGINE DATA_DIR UNSAFE SANITIZE
  ENGINE    path of rollgate-engine
  DATA_DIR  tests/data/engine
  UNSAFE    ON when built with -DROLLGATE_ENGINE_UNSAFE=ON
  SANITIZE  ON when built with -DRG_SANITIZE=ON (ASan)

The validator (check) accepts the incident content either way. The safe
engine turns it into a clean error (exit 1, one line naming the instance,
the field and the event line) on run, selftest and coverage events; the
unsafe engine reads past the end of the event's fields, which ASan reports.
The healthy content passes everything in both builds.
"""
import subprocess
import sys

ENGINE, DATA, UNSAFE, ASAN = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
UNSAFE = UNSAFE.upper() in ("ON", "1", "TRUE", "YES")
ASAN = ASAN.upper() in ("ON", "1", "TRUE", "YES")
GOOD = DATA + "/good.chan"
BAD = DATA + "/incident-291.chan"
EVENTS = DATA + "/events-20.tsv"
failures = []


def engine(*args, stdin=None):
    return subprocess.run([ENGINE, *args], input=stdin, capture_output=True,
                          text=True, timeout=120)


def expect(cond, what, res=None):
    if not cond:
        detail = ""
        if res is not None:
            detail = " (exit %d, stderr: %s)" % (res.returncode,
                                                 res.stderr.strip()[-400:])
        failures.append(what + detail)


def error_lines(res):
    return [l for l in res.stderr.splitlines() if "warning:" not in l]


with open(EVENTS) as f:
    events = f.read()

# The validator accepts both files.
for path in (GOOD, BAD):
    r = engine("check", path)
    expect(r.returncode == 0 and "ok" in r.stdout, "check accepts " + path, r)

# Healthy content: matches, selftest, and its own coverage run clean.
r = engine("run", GOOD, stdin=events)
expect(r.returncode == 0, "run good", r)
expect("3\tproc_exec\tminer_in_tmp" in r.stdout.splitlines(),
       "good content matches the miner event", r)
r = engine("selftest", GOOD)
expect(r.returncode == 0 and "selftest ok" in r.stdout, "selftest good", r)
cov = engine("coverage", GOOD)
expect(cov.returncode == 0, "coverage good", cov)
r = engine("run", GOOD, stdin=cov.stdout)
expect(r.returncode == 0, "run good on its coverage", r)

# Coverage of the incident content carries 20-field proc_exec events.
cov = engine("coverage", BAD)
expect(cov.returncode == 0, "coverage incident", cov)
shapes = {len(l.split("\t")) - 1 for l in cov.stdout.splitlines()
          if l.startswith("proc_exec\t")}
expect(shapes == {20, 21}, "coverage has 21- and 20-field events: %s" % shapes)

for name, args, stdin in (("run", ("run", BAD), events),
                          ("selftest", ("selftest", BAD), None),
                          ("run on coverage", ("run", BAD), cov.stdout)):
    r = engine(*args, stdin=stdin)
    if not UNSAFE:
        lines = error_lines(r)
        expect(r.returncode == 1, name + ": safe engine exits 1", r)
        expect(len(lines) == 1 and "instance 'named_pipe_c2' matches on "
               "field 21 ('named_pipe') but the event carries 20 fields"
               in lines[0] and "event line " in lines[0],
               name + ": one clean error line", r)
    elif ASAN:
        expect(r.returncode != 0 and "AddressSanitizer: heap-buffer-overflow"
               in r.stderr, name + ": unsafe engine overflows under ASan", r)
    else:
        # Without ASan the over-read may crash or not: only a clean error
        # would be wrong, since the check is compiled out.
        expect("matches on field 21" not in r.stderr,
               name + ": unsafe build has no check", r)

for f in failures:
    print("FAIL:", f)
print("%d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
