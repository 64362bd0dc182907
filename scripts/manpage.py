#!/usr/bin/env python3
"""Writes the dockergate(1) man page from the program's own help texts, so the two
cannot disagree: `dockergate --help` for the overview and `dockergate COMMAND --help`
for each command listed there. Usage: manpage.py DOCKERGATE > docs/dockergate.1
(tests/e2e/test_manpage.sh checks that the committed page is what this prints)."""
import re, subprocess, sys

DG = sys.argv[1]


def run(*args):
    r = subprocess.run([DG] + list(args), capture_output=True, text=True)
    return r.stdout + r.stderr


def esc(line):
    # troff: backslashes, and lines starting with . or ' would be requests
    line = line.replace("\\", "\\e")
    if line.startswith((".", "'")):
        line = "\\&" + line
    # non-ASCII characters as groff's \[uXXXX] (the page stays ASCII)
    return "".join(c if ord(c) < 128 else "\\[u%04X]" % ord(c) for c in line)


def block(text):
    out = [".nf"]
    out += [esc(l) for l in text.rstrip("\n").split("\n")]
    out.append(".fi")
    return "\n".join(out)


top = run("--help")
version = run("version").strip().split()[-1] if run("version").strip() else "unknown"
cmds = re.findall(r"^  ([a-z]+) {2,}(.*)$", top.split("Commands:", 1)[1].split("\n\n", 1)[0], re.M)
lines = [
    f'.TH DOCKERGATE 1 "" "dockergate {esc(version)}" "User Commands"',
    ".SH NAME",
    "dockergate \\- least-privilege seccomp profiles from container images",
    ".SH SYNOPSIS",
    ".B dockergate",
    ".I COMMAND",
    "[\\fIOPTIONS\\fR] [\\fIARGS\\fR]",
    ".SH DESCRIPTION",
    block(top),
    ".SH COMMANDS",
]
for name, summary in cmds:
    if name in ("help", "version"):
        continue
    lines += [f".SS {name}", esc(summary), block(run(name, "--help"))]
lines += [
    ".SH FILES",
    ".TP",
    ".I $XDG_CACHE_HOME/dockergate/cache.sqlite",
    "the analysis cache (else ~/.cache/dockergate/cache.sqlite); see \\fBdockergate cache\\fR.",
    ".SH SEE ALSO",
    "The project's README.md, docs/design.md and docs/errors.md.",
]
print("\n".join(lines))
