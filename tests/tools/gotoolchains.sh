#!/usr/bin/env bash
# Fetches the Go toolchains Debian ships, one per pclntab layout and calling convention that
# Debian's suites have (tests/e2e/test_go_versions.py), without touching the machine's apt
# configuration: a private sources list and state under the cache directory, `apt-get
# download` of golang-X-go and golang-X-src, unpacked with dpkg -x.
#   1.15  bullseye             pclntab 1.2 (magic 0xfffffffb), ABI0 only (arguments on the stack)
#   1.19  bookworm             pclntab 1.18 (0xfffffff0), register ABI
#   1.21, 1.22, 1.23           bookworm-backports, pclntab 1.20 (0xfffffff1)
#   1.24  trixie               the newest Debian ships
# Prints one line per toolchain: VERSION GOROOT. The cache is $DG_GO_CACHE, else
# /var/tmp/dockergate-go; it is kept between runs.
#   gotoolchains.sh [VERSION...]
set -euo pipefail
C=${DG_GO_CACHE:-/var/tmp/dockergate-go}
versions=("$@")
((${#versions[@]})) || versions=(1.15 1.19 1.21 1.22 1.23 1.24)
mkdir -p "$C"
exec 9>"$C/.lock"
flock 9
key=/usr/share/keyrings/debian-archive-keyring.gpg
missing=()
for v in "${versions[@]}"; do
	[[ -x "$C/go-$v/usr/lib/go-$v/bin/go" ]] || missing+=("$v")
done
if ((${#missing[@]})); then
	A="$C/apt"
	mkdir -p "$A/lists/partial" "$A/cache/archives/partial" "$A/debs"
	: >"$A/sources.list"
	for s in bullseye bookworm bookworm-backports trixie; do
		echo "deb [signed-by=$key] http://deb.debian.org/debian $s main" >>"$A/sources.list"
	done
	O=(-o "Dir::Etc::SourceList=$A/sources.list" -o Dir::Etc::SourceParts=/dev/null
		-o "Dir::State::Lists=$A/lists" -o "Dir::Cache=$A/cache" -o Debug::NoLocking=1
		-o APT::Sandbox::User=root -qq)
	apt-get "${O[@]}" update >&2
	for v in "${missing[@]}"; do
		rm -rf "$A/debs"/* "$C/go-$v.tmp"
		(cd "$A/debs" && apt-get "${O[@]}" download "golang-$v-go" "golang-$v-src" >&2)
		mkdir -p "$C/go-$v.tmp"
		for d in "$A/debs"/*.deb; do dpkg -x "$d" "$C/go-$v.tmp"; done
		rm -rf "$C/go-$v" "$A/debs"/*
		mv "$C/go-$v.tmp" "$C/go-$v"
	done
fi
for v in "${versions[@]}"; do
	echo "$v $C/go-$v/usr/lib/go-$v"
done
