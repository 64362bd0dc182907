"""TAP for the Python end-to-end tests: numbered "ok N - PREFIX: NAME" lines, the last lines of
a failure's diagnostic as comments, notes, the plan; and run(), a command with its output as
text. (tap.sh is the same for the shell tests.)"""
import subprocess
import sys


class Tap:
    def __init__(self, prefix, diag_lines=30):
        self.prefix, self.diag_lines = prefix, diag_lines
        self.n = self.failed = 0

    def ok(self, good, name, diag=None):
        self.n += 1
        if not good:
            self.failed += 1
        print("%s %d - %s: %s" % ("ok" if good else "not ok", self.n, self.prefix, name))
        if not good and diag:
            for line in str(diag).splitlines()[-self.diag_lines:]:
                print("#   " + line)
        sys.stdout.flush()
        return good

    def note(self, s):
        print("# " + s)
        sys.stdout.flush()

    def plan(self):
        print("1..%d" % self.n)


def run(cmd, env=None, timeout=900, cwd=None):
    return subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=timeout)


def tap_main(tap, doc, name, body, tools=(), need_root=False, tmp_dir=None):
    """The main of a Python end-to-end test: DOCKERGATE from the command line (else the usage,
    DOC), a SKIP plan when root or one of TOOLS is missing, BODY(dg, T) in a private temporary
    directory (under TMPDIR, else TMP_DIR or /tmp) removed afterwards, then the plan. Returns
    the exit status."""
    import os
    import shutil
    import tempfile
    if len(sys.argv) < 2:
        sys.exit(doc)
    dg = os.path.abspath(sys.argv[1])
    if need_root and os.getuid() != 0:
        print("1..0 # SKIP needs root")
        return 0
    for tool in tools:
        if not shutil.which(tool):
            print("1..0 # SKIP needs %s" % tool)
            return 0
    T = tempfile.mkdtemp(prefix="dg-%s." % name, dir=os.environ.get("TMPDIR", tmp_dir or "/tmp"))
    try:
        body(dg, T)
    finally:
        shutil.rmtree(T, ignore_errors=True)
    tap.plan()
    return 1 if tap.failed else 0
