#!/usr/bin/env bash
# Oracle: the merged file list of an image as a real engine unpacks it.
#   engine_list.sh podman IMAGE.tar [REF]   podman load into a private vfs store, `podman image mount`
#   engine_list.sh umoci OCI_DIR TAG        `umoci unpack` into a temp bundle
# Output: tests/tools/listtree.py form. The machine's own podman store is never touched.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/dg-oracle.XXXXXX")
P=(podman --root "$T/graph" --runroot "$T/run" --storage-driver vfs --cgroup-manager cgroupfs --events-backend file)
cleanup() {
	if [[ "${mode:-}" == podman ]]; then "${P[@]}" image unmount -a >/dev/null 2>&1 || true; fi
	rm -rf "$T"
}
trap cleanup EXIT
mode=$1
case "$mode" in
podman)
	img=$2
	ref=$("${P[@]}" load -q -i "$img" 2>/dev/null | sed -n 's/^Loaded image[^:]*: //p' | head -1 | cut -d, -f1)
	ref=${3:-$ref}
	mnt=$("${P[@]}" image mount "$ref")
	python3 "$here/listtree.py" "$mnt"
	;;
umoci)
	umoci unpack --image "$2:$3" "$T/bundle" >/dev/null
	python3 "$here/listtree.py" "$T/bundle/rootfs"
	;;
*)
	echo "usage: engine_list.sh podman IMAGE.tar [REF] | umoci OCI_DIR TAG" >&2
	exit 2
	;;
esac
