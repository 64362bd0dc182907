#!/usr/bin/env bash
# Benchmark (not a test): time and peak memory of `dockergate inspect` and of
# `dockergate graph` (no cache, cold cache, warm cache) on a large real Debian
# image, printed next to the floor measured in the same run:
# just decompressing and hashing the same layer bytes (sha256 of each blob and
# of its decompressed content) with the same libraries (bench/floor.py), and
# for reference with the gzip/zstd/sha256sum command-line tools. The figure that
# matters is the ratio; the machine is shared and noisy, so each command runs
# REPS times and the best run counts.
#   bench/bench.sh [REPS]
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${1:-3}
scripts/deps.sh --bench
make -s
OUT=build/bench
mkdir -p "$OUT"
recipe="bookworm minbase python3 perl nginx-light redis-server curl openssl git gcc v1"
key=$(printf '%s' "$recipe" | sha256sum | cut -c1-12)
ROOT="$OUT/rootfs-$key"
if [[ ! -f "$ROOT/.done" ]]; then
	rm -rf "$ROOT"
	MIRROR=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
	MIRROR=${MIRROR:-http://deb.debian.org/debian}
	echo "bench: building the image rootfs with mmdebstrap (once)..." >&2
	mmdebstrap --quiet --mode=root --variant=minbase --format=directory \
		--include=python3,perl,nginx-light,redis-server,curl,openssl,git,gcc \
		--customize-hook='rm -f "$1"/etc/apt/sources.list "$1"/etc/apt/sources.list.d/*' \
		bookworm "$ROOT" "deb $MIRROR bookworm main" >&2
	touch "$ROOT/.done"
fi
for comp in gzip zstd; do
	img="$OUT/big-$key-$comp.tar"
	[[ -f "$img" ]] || python3 tests/tools/mkimg.py --format docker25 --compress "$comp" --out "$img" \
		--tag localhost/big:1 --entrypoint '["/bin/sh"]' "$ROOT" >&2
done

best() { # best of REPS runs: prints "seconds peak-KiB"
	local b="" m="" r
	for ((i = 0; i < REPS; i++)); do
		/usr/bin/time -o "$OUT/time.txt" -f '%e %M' "$@" >/dev/null 2>&1
		r=$(tail -1 "$OUT/time.txt")
		local t=${r% *} k=${r#* }
		if [[ -z "$b" ]] || awk "BEGIN{exit !($t < $b)}"; then b=$t m=$k; fi
	done
	echo "$b $m"
}

floor_dir() { # the layer blobs of a docker25 archive, unpacked once for the floor commands
	local d
	d=$(mktemp -d)
	tar -xf "$1" -C "$d" blobs
	echo "$d"
}

size_mb() { echo $(($(stat -c %s "$1") / 1048576)); }
printf '%-28s %10s %10s %12s %8s\n' "image" "size MiB" "time s" "peak MiB" "ratio"
for comp in gzip zstd; do
	img="$OUT/big-$key-$comp.tar"
	d=$(floor_dir "$img")
	read -r ft fm < <(best python3 bench/floor.py "$d"/blobs/sha256/*)
	read -r ct cm < <(best bash -c "for b in $d/blobs/sha256/*; do sha256sum \$b; case \$(head -c2 \$b | od -An -tx1 | tr -d ' ') in 1f8b) gzip -dc \$b | sha256sum;; 28b5) zstd -qdc \$b | sha256sum;; esac; done")
	read -r dt dm < <(best build/dockergate inspect "$img")
	cache="$OUT/cache-$comp.sqlite"
	# cold: an empty cache every run; warm: the cache the cold runs left
	read -r gc gcm < <(best bash -c "rm -f '$cache' '$cache-wal' '$cache-shm'; exec build/dockergate graph --cache '$cache' '$img'")
	read -r gw gwm < <(best build/dockergate graph --cache "$cache" "$img")
	read -r gn gnm < <(best build/dockergate graph --no-cache "$img")
	rm -rf "$d"
	row() { printf '%-28s %10s %10s %12s %8s\n' "$1" "$(size_mb "$img")" "$2" "$(($3 / 1024))" "$(awk "BEGIN{printf \"%.2f\", $2 / $ft}")"; }
	row "floor, same libs ($comp)" "$ft" "$fm"
	row "floor, CLI tools ($comp)" "$ct" "$cm"
	row "dockergate inspect ($comp)" "$dt" "$dm"
	row "graph, no cache ($comp)" "$gn" "$gnm"
	row "graph, cold cache ($comp)" "$gc" "$gcm"
	row "graph, warm cache ($comp)" "$gw" "$gwm"
done
build/dockergate graph --json --cache "$OUT/cache-zstd.sqlite" "$OUT/big-$key-zstd.tar" 2>/dev/null |
	python3 -c "import json,sys; g=json.load(sys.stdin); print('graph: %d nodes, %d edges; %s' % (len(g['nodes']), len(g['edges']), g['analysis']))"
du -sm "$ROOT" | awk '{print "rootfs size: " $1 " MiB"}'
