#!/usr/bin/env bash
# Benchmark (not a test): `dockergate generate` on each end-to-end image (tests/tools/e2eimage.py:
# real multi-layer Debian and busybox images, docker-archive form, gzip layers), next to the floor
# measured in the same run: decompressing and hashing the same layer bytes (bench/floor.py, the
# same libraries dockergate links). For each image, in one run of this script:
#   floor  python3 bench/floor.py over the image's layer blobs
#   cold   dockergate generate IMAGE -o FILE with XDG_CACHE_HOME a fresh empty directory
#   warm   the same with the cache the cold run left
# wall time and peak RSS (GNU time: /usr/bin/time -f '%e %M'), best of REPS runs each. The machine
# is shared and noisy: compare the ratios of one run, not seconds across runs.
#   bench/images.sh [REPS]          (default 3)
# Prints a table (image, compressed MiB, floor s, cold s, warm s, cold/floor, warm/floor, peak MiB
# cold, peak MiB warm) and writes it as JSON to build/bench-run/images.json. The images are built
# (and cached) by e2eimage.py on first use: DG_E2E_IMAGES chooses the cache directory.
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${1:-3}
scripts/deps.sh --bench
make -s
RUN=$PWD/build/bench-run # absolute: a relative XDG_CACHE_HOME is ignored (XDG spec) and
mkdir -p "$RUN"          # dockergate would use ~/.cache instead
DG=$PWD/build/dockergate

best() { # best of REPS runs: prints "seconds peak-KiB"; a failing command is fatal
	local b="" m="" r i
	for ((i = 0; i < REPS; i++)); do
		if ! /usr/bin/time -o "$RUN/time.txt" -f '%e %M' "$@" >/dev/null 2>"$RUN/cmd.err"; then
			echo "images.sh: failed: $* ($(tail -1 "$RUN/cmd.err"))" >&2
			exit 1
		fi
		r=$(tail -1 "$RUN/time.txt")
		local t=${r% *} k=${r#* }
		if [[ -z "$b" ]] || awk "BEGIN{exit !($t < $b)}"; then b=$t m=$k; fi
	done
	echo "$b $m"
}
ratio() { awk "BEGIN{printf \"%.2f\", $1 / $2}"; }
mib() { awk "BEGIN{printf \"%.1f\", $1 / 1048576}"; }

mapfile -t names < <(python3 tests/tools/e2eimage.py list)
declare -A img
for n in "${names[@]}"; do # build everything first, so no build lands inside a measurement
	img[$n]=$(python3 tests/tools/e2eimage.py build "$n" --format docker-archive)
done

rows=()
printf '%-10s %8s %8s %8s %8s %10s %10s %9s %9s\n' image MiB floor_s cold_s warm_s cold/floor warm/floor peak_cold peak_warm
for n in "${names[@]}"; do
	i=${img[$n]}
	d=$(mktemp -d "$RUN/layers.XXXXXX")
	tar -xf "$i" -C "$d"
	mapfile -t blobs < <(python3 -c 'import json,sys,os; d=sys.argv[1]; print("\n".join(os.path.join(d,l) for l in json.load(open(os.path.join(d,"manifest.json")))[0]["Layers"]))' "$d")
	read -r ft fm < <(best python3 bench/floor.py "${blobs[@]}")
	rm -rf "$d"
	xdg="$RUN/xdg-$n"
	prof="$RUN/profile-$n.json"
	# cold: a fresh empty cache every run; warm: the cache the cold runs left
	read -r ct cm < <(best bash -c "rm -rf '$xdg' && mkdir -p '$xdg' && XDG_CACHE_HOME='$xdg' exec '$DG' generate '$i' -o '$prof'")
	read -r wt wm < <(best env XDG_CACHE_HOME="$xdg" "$DG" generate "$i" -o "$prof")
	[[ -s "$xdg/dockergate/cache.sqlite" ]] || { echo "images.sh: no cache written in $xdg" >&2; exit 1; }
	size=$(mib "$(stat -c %s "$i")")
	allowed=$(python3 -c 'import json,sys; print(sum(len(r["names"]) for r in json.load(open(sys.argv[1]))["syscalls"] if r.get("action")=="SCMP_ACT_ALLOW"))' "$prof" 2>/dev/null || echo "?")
	printf '%-10s %8s %8s %8s %8s %10s %10s %9s %9s\n' "$n" "$size" "$ft" "$ct" "$wt" \
		"$(ratio "$ct" "$ft")" "$(ratio "$wt" "$ft")" "$((cm / 1024))" "$((wm / 1024))"
	rows+=("{\"image\":\"$n\",\"path\":\"$i\",\"compressed_mib\":$size,\"floor_s\":$ft,\"cold_s\":$ct,\"warm_s\":$wt,\"cold_over_floor\":$(ratio "$ct" "$ft"),\"warm_over_floor\":$(ratio "$wt" "$ft"),\"floor_peak_mib\":$((fm / 1024)),\"peak_mib_cold\":$((cm / 1024)),\"peak_mib_warm\":$((wm / 1024)),\"allowed_syscalls\":\"$allowed\"}")
done
{
	printf '{"reps":%d,"date":"%s","nproc":%d,"images":[\n' "$REPS" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(nproc)"
	(IFS=$'\n'; echo "${rows[*]}" | sed '$!s/$/,/')
	echo ']}'
} >"$RUN/images.json"
python3 -m json.tool "$RUN/images.json" >/dev/null
echo "JSON: build/bench-run/images.json; profiles: build/bench-run/profile-*.json"
