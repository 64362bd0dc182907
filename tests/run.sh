#!/usr/bin/env bash
# Runs every test: C unit tests and end-to-end tests, all against the
# ASan+UBSan build. Each test program prints TAP; this prints a summary per
# program and the totals as the last line ("N passed, N failed").
set -uo pipefail
cd "$(dirname "$0")/.."
make -s asan >/dev/null || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
export DG="$PWD/build-asan/dockergate"
# the analysis cache of the tests lives and dies with the run, never in the user's home
XDG_CACHE_HOME=$(mktemp -d "${TMPDIR:-/tmp}/dg-test-cache.XXXXXX")
export XDG_CACHE_HOME
trap 'rm -rf "$XDG_CACHE_HOME"' EXIT
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
pass=0 fail=0
only="${1:-}"
run_tap() {
	local name=$1 log
	shift
	[[ -n "$only" && "$name" != *"$only"* ]] && return 0
	log=$(mktemp)
	local t0=$SECONDS
	"$@" >"$log" 2>&1
	local rc=$?
	local p f todo
	p=$(grep -c '^ok ' "$log")
	todo=$(grep -c '^not ok .* # TODO' "$log") # known bugs: shown, not counted as failures
	f=$(($(grep -c '^not ok ' "$log") - todo))
	if ((rc != 0 && f == 0)); then f=1; fi
	pass=$((pass + p)) fail=$((fail + f))
	local tnote=""
	((todo > 0)) && tnote=", $todo known bugs (TODO)"
	printf '%-32s %4d passed, %d failed%s (%ds)\n' "$name" "$p" "$f" "$tnote" $((SECONDS - t0))
	if ((f > 0)); then
		grep -v '^ok ' "$log" | head -60 | sed 's/^/    /'
	elif ((todo > 0)); then
		grep '^not ok .* # TODO' "$log" | head -20 | sed 's/^/    /'
	fi
	rm -f "$log"
}
for t in build-asan/tests/test_*; do
	run_tap "unit/$(basename "$t")" "$t"
done
for t in tests/e2e/test_*; do
	case "$t" in
	*.py) run_tap "e2e/$(basename "$t")" python3 "$t" "$DG" ;;
	*.sh) run_tap "e2e/$(basename "$t")" bash "$t" "$DG" ;;
	esac
done
echo "$pass passed, $fail failed"
((fail == 0))
