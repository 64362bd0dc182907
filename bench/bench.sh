#!/usr/bin/env bash
# Benchmark (not a test): time and peak memory of `dockergate inspect`, of
# `dockergate graph` (no cache, cold cache, warm cache) and of `dockergate
# syscalls` at --precision function and object (cold: a fresh empty cache; warm:
# the cache the cold run left) on a large real Debian image, printed next to the
# floor measured in the same run:
# just decompressing and hashing the same layer bytes (sha256 of each blob and
# of its decompressed content) with the same libraries (bench/floor.py), and
# for reference with the gzip/zstd/sha256sum command-line tools. The figure that
# matters is the ratio; the machine is shared and noisy, so each command runs
# REPS times and the best run counts. The disassembly figures are set against
# `objdump -d` over every regular ELF file of the image's rootfs, one file at a
# time, sequentially and with 2 parallel jobs (xargs -P2). The cold syscalls
# runs and objdump (each a minute or two) run COLD_REPS times.
#   bench/bench.sh [REPS [COLD_REPS]]
# BENCH_DIR: where the rootfs and images are built and kept (default build/bench),
# e.g. another checkout's; scratch files (caches, timings) go to build/bench-run.
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${1:-3}
COLD_REPS=${2:-1}
scripts/deps.sh --bench
make -s
OUT=${BENCH_DIR:-build/bench}
RUN=build/bench-run
mkdir -p "$OUT" "$RUN"
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
		/usr/bin/time -o "$RUN/time.txt" -f '%e %M' "$@" >/dev/null 2>&1
		r=$(tail -1 "$RUN/time.txt")
		local t=${r% *} k=${r#* }
		if [[ -z "$b" ]] || awk "BEGIN{exit !($t < $b)}"; then b=$t m=$k; fi
	done
	echo "$b $m"
}
cold() { local REPS=$COLD_REPS; best "$@"; } # best of COLD_REPS runs

floor_dir() { # the layer blobs of a docker25 archive, unpacked once for the floor commands
	local d
	d=$(mktemp -d)
	tar -xf "$1" -C "$d" blobs
	echo "$d"
}

size_mb() { echo $(($(stat -c %s "$1") / 1048576)); }
ratio() { awk "BEGIN{printf \"%.2f\", $1 / $2}"; }

# objdump -d over every regular ELF file of the rootfs (the same files for both images),
# one process per file, sequentially and 2 at a time
find "$ROOT" -type f -print0 | xargs -0 python3 -c '
import sys
for p in sys.argv[1:]:
    with open(p, "rb") as f:
        if f.read(4) == b"\x7fELF":
            sys.stdout.write(p + "\0")' >"$RUN/elf.list"
nelf=$(tr -cd '\0' <"$RUN/elf.list" | wc -c)
for j in 1 2; do # a file objdump refuses ends up in objdump.err (and is not fatal)
	read -r t m < <(cold bash -c "xargs -0 -n1 -P$j objdump -d <'$RUN/elf.list' >/dev/null 2>'$RUN/objdump.err' || true")
	eval "o$j=$t o${j}m=$m"
done
odfail=$(grep -c . "$RUN/objdump.err" || true)

printf '%-34s %10s %10s %12s %8s\n' "image" "size MiB" "time s" "peak MiB" "ratio"
for comp in gzip zstd; do
	img="$OUT/big-$key-$comp.tar"
	d=$(floor_dir "$img")
	read -r ft fm < <(best python3 bench/floor.py "$d"/blobs/sha256/*)
	read -r ct cm < <(best bash -c "for b in $d/blobs/sha256/*; do sha256sum \$b; case \$(head -c2 \$b | od -An -tx1 | tr -d ' ') in 1f8b) gzip -dc \$b | sha256sum;; 28b5) zstd -qdc \$b | sha256sum;; esac; done")
	read -r dt dm < <(best build/dockergate inspect "$img")
	cache="$RUN/cache-$comp.sqlite"
	# cold: an empty cache every run; warm: the cache the cold runs left
	read -r gc gcm < <(best bash -c "rm -f '$cache' '$cache-wal' '$cache-shm'; exec build/dockergate graph --cache '$cache' '$img'")
	read -r gw gwm < <(best build/dockergate graph --cache "$cache" "$img")
	read -r gn gnm < <(best build/dockergate graph --no-cache "$img")
	# syscalls: cold = a fresh empty cache dir every run, warm = the cache the cold run left
	for p in function object; do
		sc="$RUN/sc-$comp-$p"
		read -r t m < <(cold bash -c "rm -rf '$sc'; mkdir -p '$sc'; exec build/dockergate syscalls --precision $p --cache '$sc/cache.sqlite' '$img'")
		eval "sc_${p}_cold=$t sc_${p}_coldm=$m"
		read -r t m < <(best build/dockergate syscalls --precision $p --cache "$sc/cache.sqlite" "$img")
		eval "sc_${p}_warm=$t sc_${p}_warmm=$m"
	done
	rm -rf "$d"
	row() { printf '%-34s %10s %10s %12s %8s\n' "$1" "$(size_mb "$img")" "$2" "$(($3 / 1024))" "$(ratio "$2" "$ft")"; }
	row "floor, same libs ($comp)" "$ft" "$fm"
	row "floor, CLI tools ($comp)" "$ct" "$cm"
	row "dockergate inspect ($comp)" "$dt" "$dm"
	row "graph, no cache ($comp)" "$gn" "$gnm"
	row "graph, cold cache ($comp)" "$gc" "$gcm"
	row "graph, warm cache ($comp)" "$gw" "$gwm"
	row "objdump -d, $nelf files, 1 job" "$o1" "$o1m"
	row "objdump -d, $nelf files, 2 jobs" "$o2" "$o2m"
	for p in function object; do
		eval "t=\$sc_${p}_cold m=\$sc_${p}_coldm w=\$sc_${p}_warm wm=\$sc_${p}_warmm"
		row "syscalls $p, cold ($comp)" "$t" "$m"
		row "syscalls $p, warm ($comp)" "$w" "$wm"
	done
	peak=$(printf '%s\n' "$sc_function_coldm" "$sc_function_warmm" "$sc_object_coldm" "$sc_object_warmm" | sort -n | tail -1)
	echo "  targets ($comp): cold function / objdump: $(ratio "$sc_function_cold" "$o1") (1 job), $(ratio "$sc_function_cold" "$o2") (2 jobs) [<= 1];" \
		"warm / floor: $(ratio "$sc_function_warm" "$ft") function, $(ratio "$sc_object_warm" "$ft") object [<= 1.5];" \
		"syscalls peak: $((peak / 1024)) MiB [< 1024]"
done
echo "objdump: $nelf regular ELF files, $(tr '\0' '\n' <"$RUN/elf.list" | xargs -d '\n' sha256sum | cut -c1-64 | sort -u | wc -l) distinct contents; $odfail lines of errors ($RUN/objdump.err)"
for p in function object; do
	build/dockergate syscalls --precision $p --cache "$RUN/sc-zstd-$p/cache.sqlite" "$OUT/big-$key-zstd.tar" 2>/dev/null | tail -1
done
build/dockergate graph --json --cache "$RUN/cache-zstd.sqlite" "$OUT/big-$key-zstd.tar" 2>/dev/null |
	python3 -c "import json,sys; g=json.load(sys.stdin); print('graph: %d nodes, %d edges; %s' % (len(g['nodes']), len(g['edges']), g['analysis']))"
du -sm "$ROOT" | awk '{print "rootfs size: " $1 " MiB"}'
