"""Shared by the Python tests: the root filesystem of real Debian packages
(tests/tools/realimage.sh layers: layer 1, then layer 2's files and symlinks)
and the ELF files under a root."""
import os, subprocess, tarfile

HERE = os.path.dirname(os.path.abspath(__file__))


def real_rootfs(dest):
    layers = subprocess.run(["bash", os.path.join(HERE, "realimage.sh"), "layers"],
                            capture_output=True, text=True, check=True).stdout.strip()
    subprocess.run(["cp", "-a", os.path.join(layers, "layer1", "."), dest], check=True)
    with tarfile.open(os.path.join(layers, "layer2.tar")) as t:
        members = [m for m in t.getmembers()
                   if (m.isfile() or m.issym()) and ".wh." not in m.name and not m.name.startswith("replace")]
        for m in members:  # a layer replaces what is at a path: never write through layer 1's symlinks
            p = os.path.join(dest, m.name)
            if os.path.islink(p):
                os.unlink(p)
        t.extractall(dest, members=members)


def elves_under(root):
    """Paths (from ROOT, with a leading /) of the regular ELF files under ROOT, sorted."""
    out = []
    for dp, dns, fns in os.walk(root):
        for f in fns:
            p = os.path.join(dp, f)
            if os.path.islink(p) or not os.path.isfile(p):
                continue
            with open(p, "rb") as fh:
                if fh.read(4) == b"\x7fELF":
                    out.append("/" + os.path.relpath(p, root))
    return sorted(out)
