#!/usr/bin/env bash
# The fuzz target (tests/fuzz/fuzz.c) under the ASan+UBSan test build, without libFuzzer
# (dg-fuzz-replay): every input fuzzing found and that was fixed (tests/fuzz/regress/PARSER/)
# and a fresh seed corpus of real files (tests/fuzz/seeds.py) run once through each parser.
# The target itself checks that a parser's failure has a one-line message and that what an
# encoder writes its decoder reads back; a fault or leak is a failure here.
set -uo pipefail
DG=${1:?usage: test_fuzz_regress.sh DOCKERGATE}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$repo/tests/tools/tap.sh"
TAP_NAME=fuzz
R=$repo/build-asan/tests-bin/dg-fuzz-replay
T=$(mktemp -d "${TMPDIR:-/tmp}/dg-fuzz.XXXXXX")
trap 'rm -rf "$T"' EXIT
targets=(elf elfinfo fnsum reach dyninfo sh trace profile layer image)

python3 "$repo/tests/fuzz/seeds.py" "$DG" "$T/seeds" >"$T/seeds.log" 2>&1
ok $? "a seed corpus of real files for every parser" "$T/seeds.log"
for t in "${targets[@]}"; do
	[[ -d $repo/tests/fuzz/regress/$t ]] || continue
	DG_FUZZ_TARGET=$t "$R" "$repo/tests/fuzz/regress/$t" >"$T/out" 2>&1
	ok $? "$t: the $(ls "$repo/tests/fuzz/regress/$t" | wc -l) inputs fuzzing found run clean" "$T/out"
done
for t in "${targets[@]}"; do
	DG_FUZZ_TARGET=$t "$R" "$T/seeds/$t" >"$T/out" 2>&1
	rc=$?
	grep -q '^replayed [1-9]' "$T/out"
	ok $((rc | $?)) "$t: the seeds run clean ($(tail -1 "$T/out"))" "$T/out"
done
# the selector: the first byte picks the parser, as in a plain libFuzzer run
printf '\x05echo hi\n' >"$T/sel"
"$R" "$T/sel" >"$T/out" 2>&1
ok $? "without DG_FUZZ_TARGET the first byte picks the parser" "$T/out"
DG_FUZZ_TARGET=nosuch "$R" "$T/sel" >"$T/out" 2>&1
rc=$?
grep -q "no parser named 'nosuch'" "$T/out"
ok $(((rc == 2 ? 0 : 1) | $?)) "an unknown DG_FUZZ_TARGET is refused, naming the parsers" "$T/out"
tap_end
