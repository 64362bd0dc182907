"""Root filesystems of programs compiled on this machine, for the Python end-to-end tests that
check the analysis against a real run: a merged-/usr tree, the host libraries a program links
(found with ldd) copied in, and the syscalls an strace -f log shows."""
import os
import re
import shutil
import subprocess

LIBDIR = "usr/lib/x86_64-linux-gnu"


def make_root(img):
    """An empty merged-/usr root at IMG (bin, lib, lib64 link into usr)."""
    for d in ("usr/bin", LIBDIR, "usr/lib64"):
        os.makedirs(os.path.join(img, d), exist_ok=True)
    for link, to in (("bin", "usr/bin"), ("lib", "usr/lib"), ("lib64", "usr/lib64")):
        if not os.path.lexists(os.path.join(img, link)):
            os.symlink(to, os.path.join(img, link))


def copy_libs(img, binary):
    """Copies the host libraries BINARY links (ldd) into IMG's library directory, and links the
    loader where the program's PT_INTERP names it."""
    out = subprocess.run(["ldd", binary], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    for so in sorted(set(re.findall(r"(/\S+\.so[.\d]*)", out))):
        dst = os.path.join(img, LIBDIR, os.path.basename(so))
        if not os.path.exists(dst):
            shutil.copy(os.path.realpath(so), dst)
    ld = os.path.join(img, "usr/lib64/ld-linux-x86-64.so.2")
    if not os.path.lexists(ld):
        os.symlink("../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", ld)


def lib_env(img):
    """The environment that runs a program of IMG on the host with IMG's libraries."""
    return {"PATH": "/usr/bin:/bin", "LD_LIBRARY_PATH": os.path.join(img, LIBDIR)}


def strace_calls(log):
    """The syscalls an `strace -f -qq -o LOG` log shows: {name: set of pids}, without execve
    (the run's own start) and restart_syscall (the kernel's)."""
    per = {}
    with open(log, errors="replace") as f:
        for line in f:
            m = re.match(r"^(\d+)\s+([a-z0-9_]+)\(", line)
            if m and m.group(2) not in ("execve", "restart_syscall"):
                per.setdefault(m.group(2), set()).add(m.group(1))
    return per
