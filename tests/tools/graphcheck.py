#!/usr/bin/env python3
"""Checks `dockergate graph --format json` of a root filesystem against the real
glibc loader: for every dynamically linked executable, the files reachable from
its node over needed/interp edges must be exactly the files that
`chroot ROOT env LD_TRACE_LOADED_OBJECTS=1 ld.so BIN` lists (compared by file
identity inside the root, so symlinked and merged-/usr paths agree).
Usage: graphcheck.py ROOT GRAPH.json   (prints one line per disagreement; exit 1 if any)"""
import json, os, re, subprocess, sys

root, gpath = sys.argv[1], sys.argv[2]
g = json.load(open(gpath))
nodes = g["nodes"]
adj = {n["id"]: [] for n in nodes}
for e in g["edges"]:
    adj[e["from"]].append(e["to"])


def raw(path):
    """A path as bytes: JSON strings of non-UTF-8 names carry \\xHH escapes."""
    if "\\x" not in path:
        return path.encode()
    return re.sub(rb"\\x([0-9a-f]{2})", lambda m: bytes([int(m.group(1), 16)]), path.encode())


def identities(paths):
    """(dev, ino) of each path resolved inside ROOT, in a chrooted child."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.chroot(root)
        os.chdir("/")
        out = []
        for p in paths:
            try:
                st = os.stat(raw(p))
                out.append([st.st_dev, st.st_ino])
            except OSError:
                out.append(None)
        os.write(w, json.dumps(out).encode())
        os._exit(0)
    os.close(w)
    data = b""
    while True:
        b = os.read(r, 65536)
        if not b:
            break
        data += b
    os.waitpid(pid, 0)
    return [tuple(x) if x else None for x in json.loads(data)]


ids = identities([n["path"] for n in nodes])
node_id = {n["id"]: ids[i] for i, n in enumerate(nodes)}
bad = 0
checked = 0
for n in nodes:
    if n["kind"] != "executable" or "interp" not in n:
        continue
    out = subprocess.run(["chroot", root, "/usr/bin/env", "LD_TRACE_LOADED_OBJECTS=1",
                          "/lib64/ld-linux-x86-64.so.2", raw(n["path"])],
                         capture_output=True).stdout.decode(errors="replace")
    want_paths, missing = [], set()
    for line in out.splitlines():
        line = line.strip()
        if "linux-vdso" in line or not line:
            continue
        m = re.match(r"(\S+) => not found", line)
        if m:
            missing.add(m.group(1))
            continue
        m = re.match(r"\S+ => (\S+) \(0x", line) or re.match(r"(/\S+) \(0x", line)
        if m:
            want_paths.append(m.group(1))
    want = set(identities(want_paths))
    seen, stack = set(), [n["id"]]
    while stack:
        x = stack.pop()
        if x in seen:
            continue
        seen.add(x)
        stack.extend(adj[x])
    seen.discard(n["id"])
    got = {node_id[x] for x in seen if nodes[x]["kind"] != "missing"}
    got_missing = {nodes[x]["path"] for x in seen if nodes[x]["kind"] == "missing"}
    checked += 1
    if got != want or got_missing != missing:
        bad += 1
        print(f"{n['path']}: graph reaches {len(got)} files + missing {sorted(got_missing)}, "
              f"loader lists {len(want)} + missing {sorted(missing)}")
print(f"checked {checked} executables, {bad} disagree")
sys.exit(1 if bad or checked == 0 else 0)
