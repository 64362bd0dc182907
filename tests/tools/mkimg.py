#!/usr/bin/env python3
"""Builds container images from layers, deterministically, in the layouts the
engines write. Each LAYER is a directory (tarred: sorted names, uid/gid 0,
mtime 0, hardlinks kept) or an existing .tar used as-is.

mkimg.py --format docker-archive|docker25|oci|oci-archive --out PATH
         [--compress none|gzip|zstd] [--tag NAME:TAG] [--entrypoint JSON] [--cmd JSON]
         [--env K=V]... [--workdir D] [--user U] [--arch amd64] [--os linux] [--variant V]
         [--extra-platform OS/ARCH[/VARIANT]]... LAYER...
--extra-platform puts the image and a copy for each extra platform in a nested
index (index.json -> index blob -> manifests with platform fields)."""
import argparse, gzip, hashlib, io, json, os, shutil, subprocess, sys, tarfile, tempfile


def sha(b):
    return hashlib.sha256(b).hexdigest()


def tar_dir(d):
    bio = io.BytesIO()

    def norm(ti):
        ti.uid = ti.gid = 0
        ti.uname = ti.gname = ""
        ti.mtime = 0
        return ti

    with tarfile.open(fileobj=bio, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name in sorted(os.listdir(d)):
            t.add(os.path.join(d, name), arcname=name, recursive=True, filter=norm)
    return bio.getvalue()


def compress(data, how):
    if how == "gzip":
        return gzip.compress(data, compresslevel=6, mtime=0)
    if how == "zstd":
        return subprocess.run(["zstd", "-q", "-3", "-c"], input=data, capture_output=True, check=True).stdout
    return data


MT_LAYER = {"none": "application/vnd.oci.image.layer.v1.tar",
            "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
            "zstd": "application/vnd.oci.image.layer.v1.tar+zstd"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--format", required=True, choices=["docker-archive", "docker25", "oci", "oci-archive"])
    ap.add_argument("--out", required=True)
    ap.add_argument("--compress", default="none", choices=["none", "gzip", "zstd"])
    ap.add_argument("--tag", default="localhost/test:1")
    ap.add_argument("--entrypoint")
    ap.add_argument("--cmd")
    ap.add_argument("--env", action="append", default=[])
    ap.add_argument("--workdir")
    ap.add_argument("--user")
    ap.add_argument("--arch", default="amd64")
    ap.add_argument("--os", default="linux")
    ap.add_argument("--variant")
    ap.add_argument("--extra-platform", action="append", default=[])
    ap.add_argument("layers", nargs="+")
    a = ap.parse_args()

    raw = [tar_dir(l) if os.path.isdir(l) else open(l, "rb").read() for l in a.layers]
    blobs = [compress(r, a.compress) for r in raw]
    diff_ids = ["sha256:" + sha(r) for r in raw]

    def config(os_, arch, variant):
        c = {"architecture": arch, "os": os_, "config": {},
             "rootfs": {"type": "layers", "diff_ids": diff_ids}, "history": []}
        if variant:
            c["variant"] = variant
        cc = c["config"]
        if a.entrypoint:
            cc["Entrypoint"] = json.loads(a.entrypoint)
        if a.cmd:
            cc["Cmd"] = json.loads(a.cmd)
        if a.env:
            cc["Env"] = a.env
        if a.workdir:
            cc["WorkingDir"] = a.workdir
        if a.user:
            cc["User"] = a.user
        return json.dumps(c, sort_keys=True).encode()

    cfg = config(a.os, a.arch, a.variant)
    files = {}  # path inside the layout -> bytes
    symlinks = {}

    def blob(b):
        files["blobs/sha256/" + sha(b)] = b
        return {"digest": "sha256:" + sha(b), "size": len(b)}

    def manifest(cfg_bytes):
        m = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
             "config": dict(mediaType="application/vnd.oci.image.config.v1+json", **blob(cfg_bytes)),
             "layers": [dict(mediaType=MT_LAYER[a.compress], **blob(b)) for b in blobs]}
        return json.dumps(m, sort_keys=True).encode()

    name, _, tag = a.tag.rpartition(":")
    if a.format in ("docker-archive",):
        layer_paths = []
        for i, b in enumerate(blobs):
            lid = sha(("%d:" % i).encode() + diff_ids[i].encode())
            files[f"{lid}/layer.tar"] = b
            files[f"{lid}/VERSION"] = b"1.0"
            layer_paths.append(f"{lid}/layer.tar")
        files[sha(cfg) + ".json"] = cfg
        files["manifest.json"] = json.dumps([{"Config": sha(cfg) + ".json", "RepoTags": [a.tag],
                                              "Layers": layer_paths}]).encode()
        files["repositories"] = json.dumps({name: {tag: layer_paths[-1].split("/")[0]}}).encode()
    else:
        m = manifest(cfg)
        desc = dict(mediaType="application/vnd.oci.image.manifest.v1+json", **blob(m))
        if a.extra_platform:
            descs = [dict(desc, platform=dict({"os": a.os, "architecture": a.arch},
                                              **({"variant": a.variant} if a.variant else {})))]
            for p in a.extra_platform:
                parts = p.split("/")
                pm = manifest(config(parts[0], parts[1], parts[2] if len(parts) > 2 else None))
                pl = {"os": parts[0], "architecture": parts[1]}
                if len(parts) > 2:
                    pl["variant"] = parts[2]
                descs.append(dict(mediaType="application/vnd.oci.image.manifest.v1+json", platform=pl, **blob(pm)))
            inner = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                                "manifests": descs}, sort_keys=True).encode()
            desc = dict(mediaType="application/vnd.oci.image.index.v1+json", **blob(inner))
        ann = {"org.opencontainers.image.ref.name": tag}
        if a.format == "docker25":
            ann = {"io.containerd.image.name": a.tag, "org.opencontainers.image.ref.name": tag}
        desc["annotations"] = ann
        files["index.json"] = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                                          "manifests": [desc]}, sort_keys=True).encode()
        files["oci-layout"] = b'{"imageLayoutVersion":"1.0.0"}'
        if a.format == "docker25":
            # Docker 25+: manifest.json points into blobs/; legacy <id>/layer.tar are symlinks.
            lp = ["blobs/sha256/" + sha(b) for b in blobs]
            files["manifest.json"] = json.dumps([{"Config": "blobs/sha256/" + sha(cfg), "RepoTags": [a.tag],
                                                  "Layers": lp}]).encode()
            for i, p in enumerate(lp):
                symlinks[f"{sha(diff_ids[i].encode())}/layer.tar"] = "../" + p
            files["repositories"] = json.dumps({name: {tag: sha(cfg)}}).encode()

    if a.format == "oci":
        if os.path.exists(a.out):
            shutil.rmtree(a.out)
        for p, b in files.items():
            os.makedirs(os.path.dirname(os.path.join(a.out, p)) or a.out, exist_ok=True)
            with open(os.path.join(a.out, p), "wb") as f:
                f.write(b)
        return
    tmp = a.out + ".tmp"
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as t:
        dirs = set()
        for p in sorted(list(files) + list(symlinks)):
            d = os.path.dirname(p)
            if d and d not in dirs:
                for k in range(1, len(d.split("/")) + 1):
                    dd = "/".join(d.split("/")[:k])
                    if dd not in dirs:
                        ti = tarfile.TarInfo(dd)
                        ti.type = tarfile.DIRTYPE
                        ti.mode = 0o755
                        t.addfile(ti)
                        dirs.add(dd)
            ti = tarfile.TarInfo(p)
            ti.mode = 0o644
            if p in symlinks:
                ti.type = tarfile.SYMTYPE
                ti.linkname = symlinks[p]
                t.addfile(ti)
            else:
                ti.size = len(files[p])
                t.addfile(ti, io.BytesIO(files[p]))
    os.replace(tmp, a.out)


if __name__ == "__main__":
    main()
