"""Starting on a full disk says the disk is full (issue 11, item 18).
A data directory on a small tmpfs is initialised, the file system is then
filled, and `rollgated` must exit non-zero saying the file system is full
(before: "journal_mode: disk I/O error"); `rollgated init` of a second
directory there says the same. Needs to mount a tmpfs (root, as in CI);
where mount is not permitted the test says SKIP and why, and passes.
# ctest-labels: foundation
"""
import os
import subprocess
import tempfile

import rg
from rg import expect


def fill(directory):
    """Writes a file until the file system refuses: ENOSPC."""
    with open(os.path.join(directory, "filler"), "wb", buffering=0) as f:
        block = b"\0" * 65536
        try:
            while True:
                f.write(block)
        except OSError:
            pass
    while True:  # the last partial block
        try:
            with open(os.path.join(directory, "filler"), "ab", buffering=0) as f:
                f.write(b"\0" * 512)
        except OSError:
            break


def main():
    mnt = tempfile.mkdtemp(prefix="rg-e2e-full-")
    try:
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", mnt],
                           capture_output=True, text=True)
        why = p.stderr.strip() or "exit status %d" % p.returncode
    except OSError as e:  # no mount program
        p, why = None, str(e)
    if p is None or p.returncode != 0:
        os.rmdir(mnt)
        print("SKIP: cannot mount a tmpfs here (%s); the full-disk start is "
              "not tested" % why)
        return
    try:
        data = os.path.join(mnt, "data")
        p = rg.rollgated("init", "--data", data)
        expect(p.returncode == 0, "init on the small file system", p.stderr)
        fill(mnt)
        p = rg.rollgated("--data", data, "--listen", "127.0.0.1:%d" % rg.free_port())
        out = p.stdout + p.stderr
        print(out.strip().splitlines()[-1] if out.strip() else "(no output)")
        expect(p.returncode != 0, "no start on a full disk", out)
        expect("file system of data directory" in out and "is full" in out,
               "the message says the disk is full", out)
        p = rg.rollgated("init", "--data", os.path.join(mnt, "data2"))
        out = p.stdout + p.stderr
        print(out.strip().splitlines()[-1] if out.strip() else "(no output)")
        expect(p.returncode != 0 and "file system of data directory" in out,
               "init on a full disk says so", p.returncode, out)
    finally:
        subprocess.run(["umount", mnt], capture_output=True)
        os.rmdir(mnt)


rg.run(main)
