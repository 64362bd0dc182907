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
