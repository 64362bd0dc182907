#!/usr/bin/env bash
# Debian packages of other architectures, unpacked:  foreign.sh ARCH PKG...  prints the root.
# Uses a private apt state (its own sources.list, lists and cache under ${DG_FOREIGN:-build/foreign}),
# so the machine's dpkg architectures and apt lists are left alone (and a shared, read-only
# DG_FIXTURES is never written). Cached per ARCH+packages.
# Exit 2 when apt cannot fetch them (offline, architecture not in the archive).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
arch=$1
shift
A=${DG_FOREIGN:-$repo/build/foreign}
key=$(echo "$arch $*" | sha256sum | cut -c1-12)
root="$A/root-$arch-$key"
[[ -f "$root.done" ]] && { echo "$root"; exit 0; }
mkdir -p "$A/lists-$arch/partial" "$A/cache/archives/partial" "$A/parts" "$A/debs"
. /etc/os-release
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian ${VERSION_CODENAME:-bookworm} main" >"$A/sources.list"
O=(-o "Dir::State::Lists=$A/lists-$arch" -o "Dir::Cache=$A/cache" -o "Dir::Etc::SourceList=$A/sources.list"
	-o "Dir::Etc::SourceParts=$A/parts" -o "APT::Architectures::=$arch")
if ! ls "$A/lists-$arch/"*"binary-${arch}_Packages"* >/dev/null 2>&1; then
	apt-get "${O[@]}" update -qq >/dev/null 2>&1 || { echo "foreign: apt-get update for $arch failed" >&2; exit 2; }
fi
rm -rf "$root"
mkdir -p "$root"
for p in "$@"; do
	if ! ls "$A/debs/${p}_"*"_$arch.deb" >/dev/null 2>&1; then
		(cd "$A/debs" && apt-get "${O[@]}" download -qq "$p:$arch" >/dev/null 2>&1) ||
			{ echo "foreign: cannot download $p:$arch" >&2; exit 2; }
	fi
	dpkg-deb -x "$(ls "$A/debs/${p}_"*"_$arch.deb" | head -1)" "$root"
done
touch "$root.done"
echo "$root"
