#!/usr/bin/env python3
"""Compares a `dockergate trace` file with strace's record of the same workload.

  tracecmp.py TRACE.json STRACE.txt [--superset]

STRACE.txt is the output of `strace -f` around the runtime (tests/tools/e2e.py wrapper);
its container calls per executable come from e2e.py's parser (the same rules as the
recorder's: the container starts at the first execve that is not the runtime). For each
executable the sets of syscall names must be equal (x86-64 and i386 names together: strace
names an i386 call from the i386 table, like the recorder); with --superset the trace may
have more (calls in flight when a process was killed, which strace leaves unfinished and
the parser drops). Counts are shown, never compared: they depend on timing (a clone
restarted after a signal, how often wait4 or a poll loop runs). strace's "<runtime>"
entry is the container's first execve, which the recorder counts in its runtime set.
Prints one line per difference; exit 0 when the sets agree."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402


def main(argv):
    superset = "--superset" in argv
    args = [a for a in argv if not a.startswith("--")]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    mine = json.load(open(args[0]))
    theirs = e2e.load_trace(args[1]).by_executable()
    root_execve = theirs.pop("<runtime>", {})
    bad = 0
    if "execve" not in root_execve and "execveat" not in root_execve:
        print("strace saw no container start (no first execve)")
        bad += 1
    if "execve" not in mine["runtime"]["syscalls"]:
        print("the trace's runtime set has no execve (the container's first)")
        bad += 1
    exes = {}
    for e in mine["executables"]:
        counts = dict(e["syscalls"])
        for k, v in e.get("i386", {}).items():
            counts[k] = counts.get(k, 0) + v
        exes[e["path"]] = counts
    if not theirs:
        print("strace saw no container call")
        bad += 1
    for path in sorted(set(exes) | set(theirs)):
        a, b = exes.get(path, {}), theirs.get(path, {})
        if path not in exes:
            print("%s: only strace saw this executable (%d syscalls)" % (path, len(b)))
            bad += 1
            continue
        if path not in theirs:
            if not superset:
                print("%s: only the trace has this executable (%d syscalls)" % (path, len(a)))
                bad += 1
            continue
        for name in sorted(set(b) - set(a)):
            print("%s: %s (x%d) seen by strace, missing from the trace" % (path, name, b[name]))
            bad += 1
        for name in sorted(set(a) - set(b)):
            print("%s: %s (x%d) in the trace, not seen by strace" % (path, name, a[name]))
            if not superset:
                bad += 1
    n = sum(len(v) for v in exes.values())
    print("%d executables, %d (executable, syscall) pairs in the trace; %d difference%s" %
          (len(exes), n, bad, "" if bad == 1 else "s"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
