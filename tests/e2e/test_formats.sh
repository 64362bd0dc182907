#!/usr/bin/env bash
# End-to-end: a real multi-layer image built from Debian packages (whiteouts, an
# opaque directory, cross-layer hardlinks, replaced types) in every input form.
# The merged file list dockergate computes must equal what real engines unpack:
# podman (private vfs store, `podman image mount`) and umoci.
# Usage: test_formats.sh DOCKERGATE   (prints TAP)
set -uo pipefail
DG=${1:?dockergate binary}
here=$(cd "$(dirname "$0")" && pwd)
tools="$here/../tools"
T=$(mktemp -d "${TMPDIR:-/tmp}/dg-formats.XXXXXX")
PODMAN_STORE="$T/podman"
mkdir -p "$PODMAN_STORE"
cat >"$T/storage.conf" <<EOS
[storage]
driver = "vfs"
graphroot = "$PODMAN_STORE/graph"
runroot = "$PODMAN_STORE/run"
EOS
cat >"$T/containers.conf" <<EOS
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
EOS
export CONTAINERS_STORAGE_CONF="$T/storage.conf" CONTAINERS_CONF="$T/containers.conf"
cleanup() {
	podman image unmount -a >/dev/null 2>&1 || true
	rm -rf "$T"
}
trap cleanup EXIT

TAP_NAME="" TAP_DIAG=30
. "$(dirname "$0")/../tools/tap.sh"

same() { # same NAME EXPECTED-FILE COMMAND...
	local name=$1 exp=$2
	shift 2
	"$@" >"$T/got" 2>"$T/err"
	local rc=$?
	if ((rc != 0)); then
		ok 1 "$name (exit $rc)" "$T/err"
		return
	fi
	diff -u "$exp" "$T/got" >"$T/diff"
	ok $? "$name" "$T/diff"
}

img() { bash "$tools/realimage.sh" multilayer "$@"; }

base=$(img docker-archive none) || { echo "not ok 1 - building the real test image"; echo "1..1"; exit 1; }
bash "$tools/engine_list.sh" podman "$base" >"$T/expected" 2>"$T/err"
ok $? "podman unpacks the docker-archive (oracle)" "$T/err"
[[ -s "$T/expected" ]]
ok $? "the oracle lists files"
# the oracle itself must show the layer semantics we test
grep -q '^l 0777 0 /bin/ash' "$T/expected"
ok $(( $? == 0 )) "oracle: whiteout removed /bin/ash"
grep -q ' /usr/share/doc' "$T/expected"
ok $(( $? == 0 )) "oracle: directory whiteout removed /usr/share/doc"
grep -q ' /opt/app/old$' "$T/expected"
ok $(( $? == 0 )) "oracle: opaque directory hid /opt/app/old"
grep -q '^f 0644 11 /replace_dir$' "$T/expected"
ok $? "oracle: a file replaced a directory"

same "docker-archive (classic, uncompressed) = podman" "$T/expected" "$DG" files "$base"
for spec in "docker-archive gzip" "docker-archive zstd" "docker25 none" "docker25 gzip" "oci gzip" "oci zstd" \
	"oci none" "oci-archive gzip" "oci-archive zstd"; do
	set -- $spec
	p=$(img "$1" "$2")
	same "$1 ($2 layers) = podman" "$T/expected" "$DG" files "$p"
done
for spec in "docker25 none" "oci-archive gzip"; do
	set -- $spec
	bash "$tools/engine_list.sh" podman "$(img "$1" "$2")" >"$T/o2" 2>"$T/err"
	diff -u "$T/expected" "$T/o2" >"$T/diff"
	ok $? "podman agrees on the $1 form" "$T/diff"
done
bash "$tools/engine_list.sh" umoci "$(img oci gzip)" 1 >"$T/o3" 2>"$T/err"
diff -u "$T/expected" "$T/o3" >"$T/diff"
ok $? "umoci agrees on the oci form" "$T/diff"

# forms written by real tools
skopeo copy -q "docker-archive:$base" "oci:$T/skopeo-oci:v1" 2>"$T/err"
ok $? "skopeo converts to an OCI layout" "$T/err"
same "skopeo's OCI layout = podman" "$T/expected" "$DG" files "$T/skopeo-oci"
skopeo copy -q --dest-compress-format zstd "docker-archive:$base" "oci-archive:$T/skopeo.oci.tar:v1" 2>"$T/err"
same "skopeo's zstd oci-archive = podman" "$T/expected" "$DG" files "$T/skopeo.oci.tar"
skopeo copy -q "oci:$T/skopeo-oci:v1" "docker-archive:$T/skopeo-docker.tar:localhost/x:1" 2>"$T/err"
same "skopeo's docker-archive = podman" "$T/expected" "$DG" files "$T/skopeo-docker.tar"
gzip -c "$base" >"$T/outer.tar.gz"
same "gzip-compressed docker save output = podman" "$T/expected" "$DG" files "$T/outer.tar.gz"

# a root filesystem directory: the tree umoci unpacked
umoci unpack --image "$(img oci gzip):1" "$T/bundle" >/dev/null 2>"$T/err"
same "root filesystem directory = podman" "$T/expected" "$DG" files "dir:$T/bundle/rootfs"

# podman:REF through the engine's own save
podman load -q -i "$base" >/dev/null 2>"$T/err"
ok $? "podman load into the private store" "$T/err"
same "podman:REF = podman" "$T/expected" "$DG" files podman:localhost/multilayer:1

# inspect: config, layers, counts
"$DG" inspect --json "$(img oci-archive gzip)" >"$T/inspect.json" 2>"$T/err"
ok $? "inspect --json" "$T/err"
python3 - "$T/inspect.json" "$T/expected" >"$T/py" 2>&1 <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
exp = open(sys.argv[2]).read().splitlines()
c = j["config"]
assert j["format"] == "oci-archive", j["format"]
assert j["platform"] == "linux/amd64"
assert c["entrypoint"] == ["/bin/sh", "-c"] and c["cmd"] == ["ls /"], c
assert c["working_dir"] == "/opt/app"
assert any(e.startswith("PATH=") for e in c["env"])
L = j["layers"]
assert len(L) == 3 and all(l["compression"] == "gzip" for l in L), L
assert L[1]["whiteouts"] == 2 and L[1]["opaque_dirs"] == 1, L[1]
assert L[2]["whiteouts"] == 2 and L[2]["opaque_dirs"] == 1, L[2]
assert all(l["digest"].startswith("sha256:") and l["diff_id"].startswith("sha256:") for l in L)
assert j["manifest_digest"].startswith("sha256:") and j["id"].startswith("sha256:")
f = j["files"]
assert f["entries"] == len(exp), (f["entries"], len(exp))
assert f["regular"] == sum(1 for l in exp if l[0] == "f")
assert f["symlinks"] == sum(1 for l in exp if l[0] == "l")
assert f["elf"] > 50 and f["scripts"] >= 1, f
assert f["hardlinked"] == 2, f  # /bin/busybox + /usr/bin/busybox-hl
e = f["elf_by_arch"]["x86-64"]
assert e["shared-object"] > 10 and e["pie"] > 10 and e["static"] == 2, e  # busybox and its hardlink
print("fine")
PY
ok $? "inspect reports config, layers, whiteouts and counts that match the merged view" "$T/py"

# platforms and refs
python3 "$tools/mkimg.py" --format oci --compress gzip --out "$T/multi" --tag localhost/m:2 \
	--extra-platform linux/arm64/v8 "$(bash "$tools/realimage.sh" layers)/layer3.tar" 2>"$T/err"
"$DG" inspect --json "$T/multi" >"$T/p1" 2>"$T/err"
grep -q '"platform": "linux/amd64"' "$T/p1"
ok $? "nested index: the host platform is chosen by default" "$T/err"
"$DG" inspect --json --platform linux/arm64/v8 "$T/multi" >"$T/p2" 2>"$T/err"
grep -q '"platform": "linux/arm64/v8"' "$T/p2"
ok $? "--platform picks another manifest from a nested index" "$T/err"
"$DG" inspect --platform linux/s390x "$T/multi" >/dev/null 2>"$T/err"
[[ $? -eq 3 ]] && grep -q "no image for platform linux/s390x" "$T/err"
ok $? "--platform with no match: exit 3 naming what there is" "$T/err"
"$DG" inspect --ref 2 "$T/multi" >/dev/null 2>"$T/err"
ok $? "--ref matches an OCI ref name" "$T/err"

# one OCI layout holding several tags
skopeo copy -q "docker-archive:$base" "oci:$T/tags:a" && skopeo copy -q "docker-archive:$base" "oci:$T/tags:b"
same "one image under two tags needs no --ref" "$T/expected" "$DG" files "$T/tags"
sample=$(bash "$tools/realimage.sh" sample)
skopeo copy -q "docker-archive:$sample" "oci:$T/tags:other"
"$DG" files "$T/tags" >/dev/null 2>"$T/err"
[[ $? -eq 3 ]] && grep -q "choose one with --ref (refs: a, b, other)" "$T/err"
ok $? "different images under several tags: exit 3 listing the refs" "$T/err"
same "--ref picks a tag of an OCI layout" "$T/expected" "$DG" files --ref b "$T/tags"
"$DG" inspect --ref other "$T/tags" | grep -q "^ref         other$"
ok $? "--ref picks the other image"

tap_end
