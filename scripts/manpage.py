#!/usr/bin/env python3
"""Writes a man page from a program's own --help text (one source: the
page can never say something the program does not).

    manpage.py PROGRAM SECTION SUMMARY OUT [ARGS...]

runs `PROGRAM ARGS... --help` (for rollgate: `rollgate help`, then each
command's --help), and writes roff to OUT: NAME (the program and
SUMMARY), then the help text verbatim in no-fill mode, and SEE ALSO.
Called by the build (src/CMakeLists.txt); installed by `make install`.
"""
import os
import re
import subprocess
import sys


def roff_text(text):
    out = []
    for line in text.splitlines():
        line = line.replace("\\", "\\e")
        if line.startswith((".", "'")):
            line = "\\&" + line
        out.append(line)
    return "\n".join(out)


def helps(prog):
    """The help texts: `rollgate help` and every command's --help, or
    PROG --help."""
    name = os.path.basename(prog)
    if name != "rollgate":
        return [subprocess.run([prog, "--help"], capture_output=True,
                               text=True, check=True).stdout]
    top = subprocess.run([prog, "help"], capture_output=True, text=True,
                         check=True).stdout
    texts = [top]
    section = top.split("commands:", 1)[1].split("\n\n", 1)[0]
    for line in section.splitlines():
        m = re.match(r"^  ([a-z-]+(?: [a-z-]+)?)  ", line)
        if m:
            texts.append(subprocess.run(
                [prog] + m.group(1).split() + ["--help"], capture_output=True,
                text=True, check=True).stdout)
    return texts


def main():
    prog, section, summary, out = sys.argv[1:5]
    name = os.path.basename(prog)
    body = "\n\n".join(t.rstrip("\n") for t in helps(prog))
    page = (".TH %s %s\n.SH NAME\n%s \\- %s\n.SH DESCRIPTION\n.nf\n%s\n.fi\n"
            ".SH SEE ALSO\nrollgate(1), rollgated(8), rollgate-agent(8); "
            "the project's README.md and docs/\n"
            % (name.upper(), section, name, summary, roff_text(body)))
    with open(out + ".tmp", "w") as f:
        f.write(page)
    os.replace(out + ".tmp", out)


if __name__ == "__main__":
    main()
