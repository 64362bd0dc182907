#!/usr/bin/env bash
# make fuzz: run.sh SECONDS TARGET...  runs build-fuzz/dg-fuzz on each parser for SECONDS,
# each with its own corpus (build-fuzz/corpus/TARGET, seeded by seeds.py from real files on
# first use, then grown by every run). A crash, leak, timeout or out-of-memory is written to
# build-fuzz/crashes/TARGET-*; copy a fixed one into tests/fuzz/regress/TARGET/ so that
# `make test` replays it. Prints one line per parser; exit 1 when any parser failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-60}
shift
F=build-fuzz
[[ -x $F/dg-fuzz && -x build/dockergate ]] || { echo "fuzz: build $F/dg-fuzz and build/dockergate first (make fuzz)" >&2; exit 2; }
if [[ ! -d $F/seeds ]]; then
	rm -rf "$F/seeds.tmp"
	python3 tests/fuzz/seeds.py build/dockergate "$F/seeds.tmp" >/dev/null && mv "$F/seeds.tmp" "$F/seeds" ||
		{ echo "fuzz: making the seed corpus failed" >&2; exit 2; }
fi
mkdir -p "$F/crashes"
bad=0
for t in "$@"; do
	mkdir -p "$F/corpus/$t"
	log="$F/fuzz-$t.log"
	# the seeds and the regression inputs are read, never written (the last folder is the one grown)
	dirs=("$F/corpus/$t" "$F/seeds/$t")
	[[ -d tests/fuzz/regress/$t ]] && dirs+=("tests/fuzz/regress/$t")
	DG_FUZZ_TARGET=$t ASAN_OPTIONS=detect_leaks=1 "$F/dg-fuzz" -max_total_time="$secs" -max_len=262144 -timeout=30 \
		-rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="$F/crashes/$t-" "${dirs[@]}" >"$log" 2>&1
	rc=$?
	runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
	if ((rc != 0)); then
		bad=1
		echo "$t: FAILED after ${runs:-?} runs (${cov:-no coverage}); $(grep -m1 -E 'ERROR|SUMMARY|deadly' "$log"); log: $log"
	else
		echo "$t: ${runs:-?} runs, ${cov:-?}, corpus $(ls "$F/corpus/$t" | wc -l) inputs, no failure"
	fi
done
exit $bad
