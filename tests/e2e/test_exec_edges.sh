#!/usr/bin/env bash
# Exec edges (issue 7 item 4): programs compiled here (tests/e2e/exec/*.c) in a root filesystem of
# real Debian packages run other programs by constant names: system() and popen() strings (as
# /bin/sh -c), posix_spawn of a path, execvp of a file in PATH, execl through a wrapper function of
# their own, and dlopen of a constant library name. `syscalls` reports each name with the call that
# passes it; --scope entrypoint follows them without the all-programs fallback; names chosen at run
# time (execvp(argv[1]), /bin/sh -c with a run-time string) still fall back, with the reason; and the
# program runs under its entrypoint profile on podman and runc with nothing denied.
# Usage: test_exec_edges.sh DOCKERGATE   (prints TAP)
set -uo pipefail
DG=${1:?usage: test_exec_edges.sh DOCKERGATE}
here=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/dg-exec.XXXXXX")
export XDG_CACHE_HOME="$T/xdg"
TAP_NAME="exec-edges" TAP_DIAG=30
. "$here/../tools/tap.sh"
cleanup() {
	[[ -f "$T/storage.conf" ]] && CONTAINERS_STORAGE_CONF="$T/storage.conf" podman rmi -a -f >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT
if ! command -v gcc >/dev/null; then
	echo "1..0 # SKIP needs gcc"
	exit 0
fi
R="$T/root"
real_rootfs "$R" || { echo "not ok 1 - the real-package root filesystem could not be built"; exit 1; }
mkdir -p "$R/app"
for p in runs dyn shdyn dl dldyn; do
	gcc -O2 -Wall -o "$R/app/$p" "$here/exec/$p.c" 2>>"$T/cc.err" || echo "$p" >>"$T/cc.err"
done
gcc -O2 -Wall -shared -fPIC -o "$R/usr/lib/libexecer.so" "$here/exec/libexecer.c" 2>>"$T/cc.err" || echo libexecer >>"$T/cc.err"
[[ ! -s "$T/cc.err" ]]
ok $? "compile the test programs (gcc -O2)" "$T/cc.err"
img() { # img NAME ENTRYPOINT-JSON CMD-JSON
	python3 "$here/../tools/mkimg.py" --format docker-archive --out "$T/$1.tar" --entrypoint "$2" --cmd "$3" \
		--env PATH=/usr/local/bin:/usr/bin:/bin "$R" >/dev/null 2>"$T/mkimg.err"
}
check() { # check NAME PYTHON-EXPR   (d: the entrypoint scope, paths, kinds, why; ex: runs_and_loads of /app/NAME)
	python3 - "$T/$1.json" "$2" "/app/$1" >"$T/$1.check" 2>&1 <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
d = j["scope"]
paths = [i["path"] for i in d["items"]]
kinds = {i["path"]: i["kind"] for i in d["items"]}
why = {i["path"]: i["why"] for i in d["items"]}
ex = [x for t in j["executables"] if t["path"] == sys.argv[3] for x in t["runs_and_loads"]]
named = {(x["kind"], x["name"], x["callee"]) for x in ex}
has = lambda suffix: any(p.endswith(suffix) for p in paths)
ok = eval(sys.argv[2])
if not ok:
    print(json.dumps({"named": sorted(map(str, named)), "scope": d}, indent=1)[:4000])
sys.exit(0 if ok else 1)
PY
}
scope() { "$DG" syscalls "$T/$1.tar" --scope entrypoint --json >"$T/$1.json" 2>"$T/$1.err"; }

img runs '["/app/runs"]' '[]'
scope runs
ok $? "syscalls --scope entrypoint on a program running others by constant names" "$T/runs.err"
check runs '("shell command", "echo from-system; /bin/true", "system") in named and ("shell command", "cat /etc/hostname", "popen") in named'
ok $? "system() and popen() strings are reported as shell commands with their callee" "$T/runs.check"
check runs '("program", "/bin/true", "posix_spawn") in named and ("program in PATH", "date", "execvp") in named'
ok $? "posix_spawn's path and execvp's file are reported" "$T/runs.check"
check runs 'any(k == "program" and n == "/usr/bin/id" for k, n, c in named) and all(n for k, n, c in named)'
ok $? "execl through the program's own wrapper function: /usr/bin/id, found at the wrapper's caller; no name unknown" "$T/runs.check"
check runs 'd["all_programs"] is None and all(has(s) for s in ("/sh", "/true", "/cat", "/date", "/id")) and not has("/ls")'
ok $? "the closure has the shell, true, cat, date and id, without the all-programs fallback (ls is not in it)" "$T/runs.check"
check runs 'why[next(p for p in paths if p.endswith("/id"))].startswith("exec: execl(\"/usr/bin/id\") in /app/runs") and any(w.startswith("run by the -c string of") for w in why.values())'
ok $? "each target says where it comes from (exec: CALLEE(\"NAME\") in PROGRAM; the -c string's commands)" "$T/runs.check"
"$DG" syscalls "$T/runs.tar" /app/runs >"$T/runs.txt" 2>&1 &&
	grep -q 'runs shell command: "cat /etc/hostname" via popen in /app/runs' "$T/runs.txt"
ok $? "the text report lists what the program runs" "$T/runs.txt"

img dyn '["/app/dyn"]' '["ls"]'
scope dyn
check dyn 'd["all_programs"] and "execvp" in d["all_programs"] and "/app/dyn" in d["all_programs"] and ("program in PATH", None, "execvp") in named'
ok $? "execvp(argv[1]): not known, so every executable, with the call named in the reason" "$T/dyn.check"
"$DG" syscalls "$T/dyn.tar" --scope entrypoint --exec-fallback none --json >"$T/dyn-none.json" 2>"$T/dyn-none.err"
python3 -c "import json,sys; d=json.load(open(sys.argv[1]))['scope']; sys.exit(0 if d['all_programs'] is None else 1)" "$T/dyn-none.json"
ok $? "--exec-fallback none trusts it instead" "$T/dyn-none.err"

img shdyn '["/app/shdyn"]' '["true"]'
scope shdyn
check shdyn '("program", "/bin/sh", "execl") in named and d["all_programs"] and "not static" in d["all_programs"] and has("/sh")'
ok $? "execl(\"/bin/sh\", \"sh\", \"-c\", run-time string): the shell is found, and what it runs is not known (fallback)" "$T/shdyn.check"

img dl '["/app/dl"]' '[]'
scope dl
check dl '("library", "libm.so.6", "dlopen") in named and not any(k == "library" and n is None for k, n, c in named)'
ok $? "dlopen(\"libm.so.6\") is reported; dlopen(NULL) loads nothing more" "$T/dl.check"
check dl 'd["all_libraries"] is None and any(p.endswith("/libm.so.6") and kinds[p] == "library" and "dlopen(\"libm.so.6\")" in why[p] for p in paths)'
ok $? "the closure has libm as dlopen'd, without the all-libraries fallback" "$T/dl.check"
img dldyn '["/app/dldyn"]' '["libm.so.6"]'
scope dldyn
check dldyn 'd["all_libraries"] and "/app/dldyn" in d["all_libraries"] and has("/libexecer.so") and d["all_programs"] is None'
ok $? "dlopen(argv[1]): every unloaded library (libexecer.so too); its own exec of a name not known widens nothing" "$T/dldyn.check"
for nm in runs dl; do
	cp "$T/$nm.json" "$T/$nm.cold.json"
	scope $nm && python3 -c "
import json,sys
a,b=(json.load(open(f)) for f in sys.argv[1:3])
sys.exit(0 if a['scope']==b['scope'] and [t['runs_and_loads'] for t in a['executables']]==[t['runs_and_loads'] for t in b['executables']] else 1)" "$T/$nm.cold.json" "$T/$nm.json"
	ok $? "$nm: the warm run (results from the analysis cache) gives the same names and closure" "$T/$nm.err"
done
"$DG" graph "$T/runs.tar" --scope entrypoint --format json >"$T/graph.json" 2>"$T/graph.err" &&
	python3 -c "
import json,sys
g=json.load(open(sys.argv[1]))
e={(x['from'],x['to'],x['kind']) for x in g['closure']['edges']}
assert any(f=='/app/runs' and t.endswith('/id') and k=='exec' for f,t,k in e), sorted(e)
" "$T/graph.json" >>"$T/graph.err" 2>&1
ok $? "graph --scope entrypoint draws exec edges" "$T/graph.err"

# a real engine: the program and everything it runs work under the entrypoint profile
"$DG" generate "$T/runs.tar" --scope entrypoint -o "$T/runs-ep.json" --json >/dev/null 2>"$T/gen.err"
ok $? "generate --scope entrypoint" "$T/gen.err"
if [[ $(id -u) -eq 0 ]] && command -v podman >/dev/null && command -v runc >/dev/null && command -v umoci >/dev/null; then
	podman_private "$T"
	mkdir -p "$T/vtmp"
	for engine in podman runc; do
		"$DG" verify "$T/runs.tar" --profile "$T/runs-ep.json" --engine $engine --network none --diagnose always \
			--tmpdir "$T/vtmp" --report "$T/v-$engine.json" >"$T/v-$engine.out" 2>"$T/v-$engine.err"
		rc=$?
		cat "$T/v-$engine.out" >>"$T/v-$engine.err"
		[[ $rc -eq 0 ]] && grep -q '^from-system$' "$T/v-$engine.out" && grep -q '^from-popen ' "$T/v-$engine.out" &&
			grep -q '^from-execvp ' "$T/v-$engine.out" && grep -q '^uid=0' "$T/v-$engine.out" &&
			python3 -c "import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r['denied']==[] and r['diagnosis']=='done' else 1)" "$T/v-$engine.json"
		ok $? "$engine: system, popen, posix_spawn, execvp and execl all run under the entrypoint profile; nothing denied (exit $rc)" "$T/v-$engine.err"
	done
else
	echo "# skipping the real-engine checks: needs root, podman, runc and umoci"
fi
tap_end
