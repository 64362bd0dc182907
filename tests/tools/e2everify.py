#!/usr/bin/env python3
"""Independent check of the end-to-end images (tests/tools/e2eimage.py): real tools apply the
layers, and the result must equal the image's intended root filesystem (`e2eimage.py rootfs`).

  e2everify.py [NAME...]        (default: every image)

For each image: `skopeo copy docker-archive:IMAGE oci:DIR:t` (the gzip docker-archive form; umoci
0.4.7 cannot read the zstd layers of the OCI form), `umoci unpack` (root), then both trees are
compared entry by entry: type, permission bits, owner, link target, size and content hash, and the
mtime of non-directories (umoci restores the layers' clamped mtimes; a directory's own mtime
changes as its entries are written). Exit 0 when every image matches.
"""
import os, shutil, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2eimage as E  # noqa: E402


def main(names):
    names = names or list(E.IMAGES)
    for tool in ("skopeo", "umoci"):
        if not shutil.which(tool):
            E.die("%s is not installed (scripts/deps.sh --test)" % tool)
    bad = 0
    for name in names:
        if name not in E.IMAGES:
            E.die("unknown image " + name)
        d = E.build(name)
        img = os.path.join(d, "image-docker-archive.tar")
        with tempfile.TemporaryDirectory(prefix="e2everify-", dir=os.environ.get("TMPDIR", "/var/tmp")) as t:
            E.run(["skopeo", "copy", "-q", "docker-archive:" + img, "oci:%s/oci:t" % t])
            E.run(["umoci", "unpack", "--image", "%s/oci:t" % t, "%s/bundle" % t])
            got = E.scan(os.path.join(t, "bundle", "rootfs"))
            want = E.scan(os.path.join(d, "rootfs"))

            def norm(e):
                kind, mode, uid, gid, mtime, data, _ = e
                return (kind, mode, uid, gid, None if kind == "d" else mtime, data)

            diff = [n for n in sorted(set(got) | set(want))
                    if (got.get(n) and norm(got[n])) != (want.get(n) and norm(want[n]))]
            if diff:
                bad += 1
                print("FAIL %s: %d entries differ between umoci's unpack and the rootfs" % (name, len(diff)))
                for n in diff[:8]:
                    print("  %s: umoci %s, rootfs %s" % (n, got.get(n) and norm(got[n]),
                                                         want.get(n) and norm(want[n])))
            else:
                print("ok %s: umoci's unpack equals the rootfs (%d entries)" % (name, len(want)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
