#!/usr/bin/env bash
# The analysis cache through the CLI: concurrent writers on one file, kill -9 in the
# middle of writes (several times, at different moments), damaged and foreign files,
# unusable places, where the file goes, prune and clear. The entries come from the
# test tool dg-cachetest fill/verify (tests/tools/cachetest.c, deterministic keys and values;
# `make asan` builds it next to DOCKERGATE, in tests-bin/; DG_CACHETEST names another).
# Usage: test_cache.sh DOCKERGATE   (prints TAP)
set -uo pipefail
DG=${1:?dockergate}
CT=${DG_CACHETEST:-$(dirname "$DG")/tests-bin/dg-cachetest}
[[ -x "$CT" ]] || { echo "not ok 1 - cache: the test tool $CT is missing (make asan builds it)"; echo "1..1"; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/dg-cache.XXXXXX")
chmod 755 "$T"
killme=()
trap 'for p in "${killme[@]}"; do kill -9 "$p" 2>/dev/null; done; chmod -R u+w "$T"; rm -rf "$T"' EXIT
TAP_NAME="cache" TAP_DIAG=20
. "$(dirname "$0")/../tools/tap.sh"
cnt() { sqlite3 "$1" "SELECT count(*) FROM entries WHERE kind='$2'"; }
fill() { "$CT" fill --cache "$@"; }
verify() { "$CT" verify --cache "$@"; }

# ---- where the file goes, odd characters ----
D="$T/odd dir ä'\$x #?%"
C="$D/sub/file:c?mode=ro.sqlite"
"$DG" cache stats --cache "$C" >"$T/out" 2>&1
grep -q '^no cache at' "$T/out" && [[ ! -e "$D" ]]
ok $? "stats of a missing cache says so and creates nothing" "$T/out"
fill "$C" --count 10 --seed s >"$T/out" 2>&1 && [[ -f "$C" ]]
ok $? "a path with spaces, quotes, '?', '#', '%', 'file:' and UTF-8 works" "$T/out"
[[ $(stat -c %a "$C") == 600 && $(stat -c %a "$D") == 700 && $(stat -c %a "$D/sub") == 700 ]]
ok $? "file mode 0600, created directories 0700 ($(stat -c %a "$C") $(stat -c %a "$D/sub"))"
mkdir -p "$T/home"
(cd "$T" && env -u XDG_CACHE_HOME HOME="$T/home" "$CT" fill --count 5 --seed h >/dev/null 2>&1 &&
	XDG_CACHE_HOME="$T/xdg" HOME="$T/home" "$CT" fill --count 5 --seed x >/dev/null 2>&1)
ok $? "default path from HOME and from XDG_CACHE_HOME"
find "$T/home" "$T/xdg" -type f | sed "s|^$T/||" | sort >"$T/files"
printf '%s\n' home/.cache/dockergate/cache.sqlite xdg/dockergate/cache.sqlite >"$T/want"
diff -u "$T/want" "$T/files" >"$T/d"
ok $? "nothing is written anywhere else (after close only the .sqlite files remain)" "$T/d"
env -u XDG_CACHE_HOME HOME="$T/home" "$CT" verify --count 5 --seed h --all >"$T/out" 2>&1
ok $? "entries are read back from the default path" "$T/out"

# ---- concurrency: 4 writers (two with the same keys) and a reader on one cache ----
P="$T/conc.sqlite"
pids=()
for s in a b c a; do
	"$CT" fill --cache "$P" --count 1500 --seed "$s" >"$T/fill.$s.$RANDOM" 2>&1 &
	pids+=($!)
	killme+=($!)
done
sleep 0.3
verify "$P" --count 1500 --seed a >"$T/reader" 2>&1
rr=$?
bad=0
for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
ok $bad "4 concurrent fillers all succeed" "$(ls "$T"/fill.* | head -1)"
ok $rr "a reader during the writes sees right values or misses, never an error ($(cat "$T/reader"))" "$T/reader"
all=0
for s in a b c; do verify "$P" --count 1500 --seed "$s" --all >"$T/v.$s" 2>&1 || all=1; done
ok $all "every entry of every writer reads back with the right value" "$T/v.a"
[[ $(sqlite3 "$P" 'PRAGMA integrity_check') == ok && $(cnt "$P" selftest) == 4500 ]]
ok $? "integrity_check ok, 4500 distinct entries (same keys written twice are one entry)"

# creating the cache is a race too: 4 processes start on a file that does not exist yet
bad=0
for i in 1 2 3 4 5 6 7 8; do
	Q="$T/race$i.sqlite"
	for s in a b c a; do
		"$CT" fill --cache "$Q" --count 300 --seed "$s" >>"$T/race$i.out" 2>&1 &
		killme+=($!)
	done
	wait
	if [[ $(cnt "$Q" selftest) != 900 || $(grep -vc '^filled 300$' "$T/race$i.out") != 0 ]]; then
		bad=$((bad + 1))
		sed 's/^/#   /' "$T/race$i.out"
	fi
done
ok $bad "8 creation races of 4 processes: every entry stored, no warning, no rebuild"

# ---- kill -9 in the middle of writes ----
K="$T/kill dir/kill.sqlite"
good=0 partial=0
for r in 1 2 3 4 5 6; do
	"$CT" fill --cache "$K" --count 100000000 --seed "k$r" --kind "kill$r" >/dev/null 2>&1 &
	pid=$! # the dg-cachetest process itself (not a subshell)
	killme+=("$pid")
	sleep "0.$((r * 15))"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	ic=$(sqlite3 "$K" 'PRAGMA integrity_check' 2>&1)
	c=$(cnt "$K" "kill$r")
	if [[ "$ic" == ok ]] && "$DG" cache stats --cache "$K" >"$T/stats.$r" 2>&1 &&
		verify "$K" --count $((c + 300)) --seed "k$r" --kind "kill$r" >"$T/kv.$r" 2>&1 &&
		grep -q "^hits $c misses 300 wrong 0 errors 0 prefix yes$" "$T/kv.$r"; then
		good=$((good + 1))
	else
		echo "# round $r: integrity '$ic', $c committed, $(cat "$T/kv.$r" 2>/dev/null)"
	fi
	((c > 0)) && partial=$((partial + 1))
	echo "# kill -9 after 0.$((r * 15)) s: $c entries committed"
done
ok $((6 - good)) "after kill -9 (6 rounds): integrity_check ok, stats works, what was committed reads back as a prefix of whole batches"
ok $((partial < 2)) "the kills happened mid-fill with data committed ($partial of 6 rounds had entries)"
# ... and at known points: SIGKILL inside write transaction B after its row R (before COMMIT)
good=0
for br in 1:1 2:128 3:256 5:17; do
	b=${br%:*}
	"$CT" fill --cache "$K" --count 5000 --seed "die$b" --kind "die$b" --die-in-batch "$br" >/dev/null 2>&1
	rc=$?
	c=$(cnt "$K" "die$b")
	ic=$(sqlite3 "$K" 'PRAGMA integrity_check' 2>&1)
	verify "$K" --count 5000 --seed "die$b" --kind "die$b" >"$T/kv" 2>&1
	if [[ $rc -eq 137 && "$ic" == ok && $c -eq $(((b - 1) * 256)) ]] &&
		grep -q "^hits $c misses $((5000 - c)) wrong 0 errors 0 prefix yes$" "$T/kv"; then
		good=$((good + 1))
	else
		echo "# die in batch $br: exit $rc, integrity '$ic', $c committed, $(cat "$T/kv")"
	fi
done
ok $((4 - good)) "killed inside a write transaction (batch:row 1:1 2:128 3:256 5:17): exactly the earlier batches are there"
tot=0
for r in 1 2 3 4 5 6; do tot=$((tot + $(cnt "$K" "kill$r"))); done
for b in 1 2 3 5; do tot=$((tot + $(cnt "$K" "die$b"))); done
"$DG" cache stats --cache "$K" --json >"$T/kjson" 2>&1
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if j["entries"]==int(sys.argv[2]) else 1)' "$T/kjson" "$tot"
ok $? "stats --json counts every committed entry ($tot)" "$T/kjson"

# ---- damaged and foreign files ----
X="$T/dd.sqlite"
fill "$X" --count 300 --seed d >/dev/null 2>&1
dd if=/dev/urandom of="$X" bs=1024 count=4 conv=notrunc status=none
"$DG" cache stats --cache "$X" >"$T/out" 2>"$T/err"
rc=$?
[[ $rc -eq 0 && $(wc -l <"$T/err") -eq 1 ]] && grep -q 'note: the analysis cache was damaged or not ours and has been rebuilt' "$T/err" &&
	grep -q '^entries     0$' "$T/out" && [[ -f "$X.corrupt" ]]
ok $? "dd over the header: the next open rebuilds, says so in one line, keeps the old file as .corrupt" "$T/err"
fill "$X" --count 3000 --seed e >/dev/null 2>&1
sz=$(stat -c %s "$X")
dd if=/dev/urandom of="$X" bs=4096 seek=$((sz / 4096 / 2)) count=64 conv=notrunc status=none
verify "$X" --count 3000 --seed e >"$T/out" 2>"$T/err"
rc=$?
[[ $rc -eq 0 ]] && grep -q ' wrong 0 errors 0 ' "$T/out"
ok $? "dd over pages in the middle: no wrong value, no error ($(cat "$T/out"); $(head -c 200 "$T/err"))" "$T/err"
fill "$X" --count 100 --seed f >/dev/null 2>&1 && verify "$X" --count 100 --seed f --all >/dev/null 2>&1 &&
	[[ $(sqlite3 "$X" 'PRAGMA integrity_check') == ok ]]
ok $? "and the cache works afterwards"
F="$T/foreign.sqlite"
sqlite3 "$F" 'CREATE TABLE mine(x); INSERT INTO mine VALUES(7)'
"$DG" cache stats --cache "$F" >"$T/out" 2>"$T/err"
[[ $? -eq 0 && $(sqlite3 "$F.corrupt" 'SELECT x FROM mine') == 7 ]] && grep -q 'not a dockergate cache' "$T/err"
ok $? "a foreign SQLite database is moved aside intact, not used" "$T/err"
G="$T/garbage.sqlite"
head -c 10000 /dev/urandom >"$G"
"$DG" cache stats --cache "$G" >"$T/out" 2>"$T/err"
[[ $? -eq 0 ]] && grep -q 'not an SQLite database' "$T/err"
ok $? "a file of random bytes is rebuilt" "$T/err"

# ---- unusable caches: one warning line, the work goes on ----
"$CT" fill --cache /proc/dg-none/c.sqlite --count 3 >"$T/out" 2>"$T/err"
[[ $? -eq 0 && $(wc -l <"$T/err") -eq 1 ]] && grep -q '^dockergate: warning: continuing without the analysis cache: ' "$T/err" &&
	grep -q '^no cache$' "$T/out"
ok $? "a cache that cannot be created: one warning line, exit 0 ($(cat "$T/err"))" "$T/err"
"$DG" cache stats --cache /proc/version >"$T/out" 2>"$T/err"
ok $(($? != 6)) "cache stats of an unusable cache: exit 6 ($(cat "$T/err"))" "$T/err"
mkdir -p "$T/ro"
fill "$T/ro/c.sqlite" --count 20 --seed r >/dev/null 2>&1
chmod 555 "$T/ro"
chmod 444 "$T/ro/c.sqlite"
setpriv --reuid=65534 --regid=65534 --clear-groups "$CT" verify --cache "$T/ro/c.sqlite" --count 20 --seed r >"$T/out" 2>"$T/err"
[[ $? -eq 0 && $(wc -l <"$T/err") -eq 1 ]] && grep -q 'warning: continuing without the analysis cache' "$T/err"
ok $? "read-only directory and file (as nobody): one warning line, exit 0 ($(cat "$T/err"))" "$T/err"
"$DG" files /nonexistent --no-cache --cache "$T/x.sqlite" >/dev/null 2>&1
[[ $? -eq 3 && ! -e "$T/x.sqlite" ]]
ok $? "analysing commands take --cache and --no-cache"

# ---- prune and clear ----
R="$T/prune.sqlite"
fill "$R" --count 50 --seed p --kind dyn --kind-version 1 >/dev/null 2>&1 &&
	fill "$R" --count 20 --seed p --kind dyn --kind-version 0 >/dev/null 2>&1 &&
	fill "$R" --count 30 --seed q >/dev/null 2>&1
"$DG" cache stats --cache "$R" >"$T/out" 2>&1
grep -q '^entries     100$' "$T/out" && grep -Eq '^dyn +1 +50 ' "$T/out" && grep -Eq '^dyn +0 +20 .*stale' "$T/out"
ok $? "stats lists entries per kind/version, stale ones marked" "$T/out"
"$DG" cache prune --cache "$R" >"$T/out" 2>&1
grep -q '^removed 50 entries$' "$T/out" && verify "$R" --count 50 --seed p --kind dyn --kind-version 1 --all >/dev/null 2>&1
ok $? "prune removes the entries of versions not current, keeps dyn/1 ($(cat "$T/out"))" "$T/out"
sqlite3 "$R" 'UPDATE entries SET last_used=last_used-10*86400 WHERE id IN (SELECT id FROM entries ORDER BY id LIMIT 20)'
"$DG" cache prune --cache "$R" --older-than 30 >"$T/out1" 2>&1
"$DG" cache prune --cache "$R" --older-than 5 --json >"$T/out" 2>&1
grep -q '^removed 0 entries$' "$T/out1" && python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["removed"]!=20)' "$T/out"
ok $? "prune --older-than removes entries unused for that many days" "$T/out"
"$DG" cache prune --cache "$R" --older-than 0 >/dev/null 2>&1
ok $(($? != 2)) "--older-than 0 is a usage error"
"$DG" cache clear --cache "$R" >"$T/out" 2>&1 && grep -q '^cleared 30 entries$' "$T/out" &&
	"$DG" cache stats --cache "$R" | grep -q '^entries     0$'
ok $? "clear empties the cache" "$T/out"

# ---- the test hooks are not in the product ----
"$DG" cache selftest-fill --cache "$T/st.sqlite" >"$T/out" 2>&1
rc=$?
nm "$DG" >"$T/nm.dg" 2>&1
nm "$CT" >"$T/nm.ct" 2>&1
{ [[ $rc -eq 2 && ! -e "$T/st.sqlite" ]] || echo "cache selftest-fill: exit $rc"
grep -i 'dg_cache_test_row_hook\|selftest' "$T/nm.dg"
grep -q ' dg_cache_test_row_hook$' "$T/nm.ct" || echo "the test tool has no row hook"; } >>"$T/out"
grep -q "unknown subcommand 'selftest-fill'" "$T/out" && [[ $(wc -l <"$T/out") -eq 1 ]]
ok $? "dockergate has neither the selftest subcommands nor the cache's row hook (the test tool has)" "$T/out"

tap_end
