#!/usr/bin/env bash
# `dockergate graph`: the dependency graph of a root filesystem of real Debian
# packages checked against the real glibc loader (every executable's reachable
# files = what ld.so lists, by file identity), node kinds, hardlinks, missing
# libraries, malformed ELF files, --from/--entrypoint/--group/--exclude, and
# DOT that Graphviz accepts. Usage: test_graph.sh DOCKERGATE   (prints TAP)
set -uo pipefail
DG=${1:?dockergate}
here=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/dg-graph.XXXXXX")
trap 'rm -rf "$T"' EXIT
export XDG_CACHE_HOME="$T/xdg" # never the user's own cache
TAP_NAME="graph" TAP_DIAG=20
. "$(dirname "$0")/../tools/tap.sh"
R="$T/root"
real_rootfs "$R" || { echo "not ok 1 - the real-package root filesystem could not be built"; exit 1; }
loader_cases "$R" "$T" 2>"$T/err"
ok $? "compiling the test programs" "$T/err"
ln "$R/opt/app/bin/rpath-app" "$R/opt/app/bin/rpath-app-hardlink"
head -c 300 "$R/bin/ls" >"$R/opt/app/bin/truncated" && chmod 755 "$R/opt/app/bin/truncated"
printf '#!/usr/bin/env sh\necho hi\n' >"$R/opt/app/run.sh" && chmod 755 "$R/opt/app/run.sh"
cp "$R/opt/app/bin/rpath-app" "$R/opt/app/bin/bad$(printf '\xff')name"
ldconfig -r "$R"

"$DG" graph --format json "dir:$R" >"$T/g.json" 2>"$T/warn"
ok $? "graph of the whole root filesystem succeeds (problems are warnings)" "$T/warn"
python3 "$here/../tools/graphcheck.py" "$R" "$T/g.json" >"$T/cmp" 2>&1
ok $? "every dynamic executable reaches exactly what the real loader loads ($(tail -1 "$T/cmp"))" "$T/cmp"
grep -q "checked [4-9][0-9]\+ executables\|checked [1-9][0-9][0-9]\+ executables" "$T/cmp"
ok $? "enough executables were compared" "$T/cmp"

q() { python3 -c "import json,sys; g=json.load(open('$T/g.json')); N=g['nodes']; by={x['path']:x for x in N}; $1" 2>&1; }
q "assert by['/bin/ls']['kind']=='executable' and by['/bin/ls']['type']=='pie', by['/bin/ls']
assert by['/bin/busybox']['kind']=='executable' and by['/bin/busybox']['type']=='static'
libc=[x for x in N if x['path'].endswith('/libc.so.6')][0]; assert libc['kind']=='library', libc
ld=[x for x in N if x.get('soname')=='ld-linux-x86-64.so.2'][0]; assert ld['kind']=='loader', ld
assert by['/opt/rp/libfoo.so']['kind']=='library'" >"$T/out"
ok $? "node kinds: PIE and static executables, libc.so.6 a library though runnable, the loader" "$T/out"
q "x=by['/opt/app/bin/rpath-app']; assert x['aliases']==['/opt/app/bin/rpath-app-hardlink'], x
assert '/opt/app/bin/rpath-app-hardlink' not in by" >"$T/out"
ok $? "hardlinked paths are one node with aliases" "$T/out"
q "m=by['libnothere.so']; assert m['kind']=='missing'
assert any(e['to']==m['id'] and N[e['from']]['path']=='/opt/app/bin/missing-app' and e['via'] is None for e in g['edges'])
assert any('libnothere.so: not found' in p for p in g['problems']), g['problems']" >"$T/out"
grep -q "warning: .*missing-app: libnothere.so: not found" "$T/warn" || echo "no warning on stderr" >>"$T/out"
[[ ! -s "$T/out" ]]
ok $? "an unresolved library is a missing node, a problem and a warning" "$T/out"
q "x=by['/opt/app/bin/truncated']; assert x['kind']=='other' and 'error' in x, x
assert any('truncated' in p and 'malformed' in p for p in g['problems'])" >"$T/out"
ok $? "a truncated ELF file is kept as a node with its error, not a failure" "$T/out"
q "assert by['/opt/app/bin/bad\\\\xffname']['kind']=='executable'" >"$T/out"
ok $? "a file name that is not UTF-8 is escaped in JSON, not dropped" "$T/out"
# a file name with a newline (or another control byte) cannot split a warning line
mkdir -p "$T/nl/bin"
cp "$R/opt/app/bin/missing-app" "$T/nl/bin/two"$'\n'"lines"
cp "$R/opt/app/bin/truncated" "$T/nl/bin/tab"$'\t'"trunc"
"$DG" graph --json --no-cache "dir:$T/nl" >"$T/nl.json" 2>"$T/nl.warn"
rc=$?
{ [[ $rc -eq 0 ]] || echo "exit $rc"
grep -v '^dockergate graph: warning: ' "$T/nl.warn" | sed 's/^/stray line: /'
grep -q '^dockergate graph: warning: /bin/two\\x0alines: libnothere.so: not found' "$T/nl.warn" || echo "no escaped warning for two\\nlines"
grep -q '^dockergate graph: warning: .*/bin/tab\\x09trunc' "$T/nl.warn" || echo "no escaped warning for tab\\ttrunc"
python3 -c "import json,sys; g=json.load(open(sys.argv[1])); P=[n['path'] for n in g['nodes']]; assert '/bin/two\nlines' in P and '/bin/tab\ttrunc' in P, P" "$T/nl.json" 2>&1
} >"$T/out"
cat "$T/nl.warn" >>"$T/out"
[[ $(wc -l <"$T/out") -eq $(wc -l <"$T/nl.warn") ]]
ok $? "a file name with a newline or a tab: each warning one line (\\x0a, \\x09), the JSON keeps the name" "$T/out"
q "e=[e for e in g['edges'] if N[e['from']]['path']=='/opt/rp/libfoo.so' and N[e['to']]['path']=='/opt/rp/libbar.so']
assert e and e[0]['via']=='rpath', e" >"$T/out"
ok $? "a library's edge carries how the loader found it (RPATH inherited from the program)" "$T/out"

# the analysis cache: a warm run reads no ELF file and gives the same graph
strip() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); a=d.pop('analysis'); print(json.dumps(d, sort_keys=True)); print(a, file=sys.stderr)" "$1"; }
"$DG" graph --json --cache "$T/c/cache.sqlite" "dir:$R" >"$T/cold.json" 2>/dev/null &&
	"$DG" graph --json --cache "$T/c/cache.sqlite" "dir:$R" >"$T/warm.json" 2>/dev/null
strip "$T/cold.json" >"$T/cold" 2>"$T/cold.a" && strip "$T/warm.json" >"$T/warm" 2>"$T/warm.a" && cmp -s "$T/cold" "$T/warm" &&
	python3 -c "
c=eval(open('$T/cold.a').read()); w=eval(open('$T/warm.a').read())
assert c['parsed']==c['elf_files']>100 and c['cache_hits']==0, c
assert w['parsed']==0 and w['cache_hits']==w['elf_files']==c['elf_files'], w
assert w['malformed']==c['malformed']==1, (c, w)" >"$T/out" 2>&1
ok $? "a warm cache gives the same graph without reading any ELF file again ($(cat "$T/warm.a" 2>/dev/null))" "$T/out"
XDG_CACHE_HOME="$T/xdg2" HOME="$T/home2" "$DG" graph --json --no-cache "dir:$R" >"$T/nc.json" 2>/dev/null &&
	strip "$T/nc.json" 2>/dev/null | cmp -s - "$T/cold" && [[ ! -e "$T/xdg2" && ! -e "$T/home2" ]]
ok $? "--no-cache gives the same graph and writes no cache" "$T/out"
XDG_CACHE_HOME="$T/xdg3" "$DG" graph --json "dir:$R" >/dev/null 2>&1 && [[ -f "$T/xdg3/dockergate/cache.sqlite" ]]
ok $? "the default cache lives under \$XDG_CACHE_HOME/dockergate" "$T/out"
"$DG" graph --json --cache /proc/dg-no/cache.sqlite "dir:$R" >"$T/pc.json" 2>"$T/err"
rc=$?
[[ $rc -eq 0 ]] && grep -q 'warning: continuing without the analysis cache' "$T/err" &&
	strip "$T/pc.json" 2>/dev/null | cmp -s - "$T/cold"
ok $? "an unusable cache is one warning, and the graph is the same" "$T/err"
# kill -9 of real analyses sharing one cache, at different moments: every later run is whole
bad=0
for delay in 0.05 0.1 0.2 0.3 0.5 0.8; do
	"$DG" graph --json --cache "$T/k/cache.sqlite" "dir:$R" >/dev/null 2>&1 &
	p1=$!
	"$DG" graph --json --cache "$T/k/cache.sqlite" "dir:$R" >"$T/k2.json" 2>/dev/null &
	p2=$!
	sleep "$delay"
	kill -9 "$p1" 2>/dev/null
	wait "$p1" 2>/dev/null
	wait "$p2" || bad=$((bad + 1))
	strip "$T/k2.json" 2>/dev/null | cmp -s - "$T/cold" || bad=$((bad + 1))
done
"$DG" graph --json --cache "$T/k/cache.sqlite" "dir:$R" >"$T/k3.json" 2>"$T/err" || bad=$((bad + 1))
strip "$T/k3.json" 2>/dev/null | cmp -s - "$T/cold" || bad=$((bad + 1))
grep -q cache "$T/err" && bad=$((bad + 1))
[[ "$(sqlite3 "$T/k/cache.sqlite" 'PRAGMA integrity_check')" == ok ]] || bad=$((bad + 1))
((bad == 0))
ok $? "graph runs killed with -9 beside a concurrent one leave a cache every later run uses cleanly" "$T/err"
"$DG" ldd --cache "$T/c/cache.sqlite" "dir:$R" /bin/ls >"$T/l1" 2>&1 && "$DG" ldd --no-cache "dir:$R" /bin/ls >"$T/l2" 2>&1 &&
	cmp -s "$T/l1" "$T/l2"
ok $? "ldd with the warm cache lists what it lists without" "$T/l1"

"$DG" graph --json --from /bin/ls "dir:$R" >"$T/ls.json" 2>"$T/err"
chroot "$R" /usr/bin/env LD_TRACE_LOADED_OBJECTS=1 /lib64/ld-linux-x86-64.so.2 /bin/ls | grep -c '=>\|^\s*/' >"$T/cnt"
python3 -c "
import json; g=json.load(open('$T/ls.json')); N=g['nodes']
assert N[0]['path']=='/bin/ls' and N[0]['root'], N[0]
assert all(x['kind'] in ('library','loader') for x in N[1:]), N
assert len(N)-1==int(open('$T/cnt').read()), (len(N), open('$T/cnt').read())" >"$T/out" 2>&1
ok $? "--from /bin/ls gives ls and exactly the objects the loader loads for it" "$T/out"

"$DG" graph --format dot --group dir "dir:$R" >"$T/g.dot" 2>/dev/null
nbin=$(python3 -c "import json; g=json.load(open('$T/g.json')); print(sum(1 for x in g['nodes'] if x['kind']=='executable' and x['path'].rsplit('/',1)[0]=='/bin'))")
grep -q "label=\"/bin/\* ($nbin executables)\"" "$T/g.dot" && ! grep -q 'tooltip="/bin/ls"' "$T/g.dot" && ((nbin > 20))
ok $? "--group dir collapses the $nbin executables of /bin into one node" "$T/g.dot"
"$DG" graph --format dot --exclude '*/gconv/*' --exclude '/bin/*' "dir:$R" >"$T/x.dot" 2>/dev/null
! grep -q 'gconv\|"/bin/' "$T/x.dot" && grep -q '/opt/app/bin/rpath-app' "$T/x.dot"
ok $? "--exclude removes matching files and their edges" "$T/x.dot"
for f in g.dot x.dot; do
	dot -Tsvg "$T/$f" >"$T/$f.svg" 2>"$T/err" || break
done
ok $? "Graphviz accepts the DOT output" "$T/err"
grep -q 'fillcolor="#6fa8dc"' "$T/g.dot" && grep -q 'label="libc.so.6", tooltip="/[^"]*/libc.so.6", fillcolor="white"' "$T/g.dot" &&
	grep -q 'peripheries=2' "$T/g.dot" && grep -q 'style="filled,dashed"' "$T/g.dot"
ok $? "DOT colours: executables blue, libraries white, loader double, missing dashed" "$T/g.dot"

python3 "$here/../tools/mkimg.py" --format docker25 --out "$T/img.tar" --entrypoint '["/opt/app/run.sh"]' \
	--env PATH=/usr/local/bin:/usr/bin:/bin "$R" >/dev/null 2>"$T/err"
"$DG" graph --json --entrypoint "$T/img.tar" >"$T/e.json" 2>"$T/err"
python3 -c "
import json; g=json.load(open('$T/e.json')); N=g['nodes']
roots=sorted(x['path'] for x in N if x.get('root'))
assert roots==['/bin/dash','/usr/bin/env'], roots
assert all(x['kind']!='executable' or x.get('root') for x in N), N" >"$T/out" 2>&1
ok $? "--entrypoint follows '#!/usr/bin/env sh' to env and dash through the image PATH" "$T/out"
python3 "$here/../tools/mkimg.py" --format docker25 --out "$T/img2.tar" --cmd '["nosuchprog"]' "$R" >/dev/null 2>&1
"$DG" graph --entrypoint "$T/img2.tar" >/dev/null 2>"$T/err"
[[ $? -eq 3 ]] && grep -q 'nosuchprog: not found in PATH' "$T/err" && [[ $(wc -l <"$T/err") -eq 1 ]]
ok $? "an entrypoint that is not in the image: one line, exit 3" "$T/err"
"$DG" graph --format svg "dir:$R" >/dev/null 2>"$T/err"
[[ $? -eq 2 ]]
ok $? "a bad --format is a usage error (exit 2)" "$T/err"
"$DG" graph --from /etc/hostname "dir:$R" >/dev/null 2>"$T/err"
[[ $? -eq 3 ]] && grep -q 'not an ELF file' "$T/err"
ok $? "--from a file that is not ELF: exit 3" "$T/err"
tap_end
