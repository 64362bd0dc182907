#!/usr/bin/env bash
# --scope entrypoint: the closure of what can run from the config's Entrypoint + Cmd, on a root
# filesystem of real Debian packages (libc6, busybox-static, dash, coreutils) with entrypoint
# scripts: "#!" interpreters (also /usr/bin/env NAME), the commands of shell scripts (sourced
# files, `exec "$@"` with the Cmd, sh -c strings), exec wrappers (env), and the sound fallbacks
# (a command word that is not static, a shell reading stdin, a program that runs programs chosen
# at run time) each reported; the profile of the entrypoint scope is smaller than the image's and
# says so in its provenance; and a container runs under it with podman and runc (verify), the
# kernel's seccomp records showing nothing denied.
# Usage: test_scope.sh DOCKERGATE   (prints TAP)
set -uo pipefail
DG=${1:?usage: test_scope.sh DOCKERGATE}
here=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/dg-scope.XXXXXX")
export XDG_CACHE_HOME="$T/xdg"
TAP_NAME="scope" TAP_DIAG=30
. "$here/../tools/tap.sh"
cleanup() {
	[[ -f "$T/storage.conf" ]] && CONTAINERS_STORAGE_CONF="$T/storage.conf" podman rmi -a -f >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT
R="$T/root"
real_rootfs "$R" || { echo "not ok 1 - the real-package root filesystem could not be built"; exit 1; }
mkdir -p "$R/app" "$R/tmp"
cat >"$R/app/entry.sh" <<'SH'
#!/bin/sh
set -e
. /app/lib.sh
prepare
if [ "${1#-}" != "$1" ]; then
	set -- cat "$@"
fi
exec "$@"
SH
cat >"$R/app/lib.sh" <<'SH'
prepare() {
	mkdir -p /tmp/work
	echo ready > /tmp/work/state
}
SH
printf '#!/usr/bin/env sh\nexec env LC_ALL=C sort "$@"\n' >"$R/app/via-env.sh"
printf '#!/bin/sh\nexec $APP_CMD\n' >"$R/app/dynamic.sh"
chmod 755 "$R/app/entry.sh" "$R/app/via-env.sh" "$R/app/dynamic.sh"
img() { # img NAME ENTRYPOINT-JSON CMD-JSON
	python3 "$here/../tools/mkimg.py" --format docker-archive --out "$T/$1.tar" --entrypoint "$2" --cmd "$3" \
		--env PATH=/usr/local/bin:/usr/bin:/bin "$R" >/dev/null 2>"$T/mkimg.err"
}
scope() { # scope NAME: syscalls --scope entrypoint --json into $T/NAME.json
	"$DG" syscalls "$T/$1.tar" --scope entrypoint --json >"$T/$1.json" 2>"$T/$1.err"
}
check() { # check NAME PYTHON-EXPR (d: the JSON's scope, paths: item paths, kinds: {path: kind})
	python3 - "$T/$1.json" "$2" >"$T/$1.check" 2>&1 <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
d = j["scope"]
paths = [i["path"] for i in d["items"]]
kinds = {i["path"]: i["kind"] for i in d["items"]}
why = {i["path"]: i["why"] for i in d["items"]}
ok = eval(sys.argv[2])
if not ok:
    print(json.dumps(d, indent=1)[:3000])
sys.exit(0 if ok else 1)
PY
}

img entry '["/app/entry.sh"]' '["cat","/tmp/work/state"]'
ok $? "pack the image with an entrypoint script" "$T/mkimg.err"
scope entry
ok $? "syscalls --scope entrypoint" "$T/entry.err"
check entry 'kinds.get("/app/entry.sh") == "script" and kinds.get("/app/lib.sh") == "script" and any(p.endswith("/dash") or p.endswith("/sh") for p in paths)'
ok $? "the entrypoint script, the file it sources and its interpreter are in the closure" "$T/entry.check"
check entry 'any(p.endswith("/mkdir") for p in paths) and "sourced by /app/entry.sh line 3" in why["/app/lib.sh"]'
ok $? "a command of a function in the sourced file (mkdir) is in the closure, with where it comes from" "$T/entry.check"
check entry 'any(p.endswith("/cat") for p in paths)'
ok $? "exec \"\$@\" runs the Cmd (cat), also after set -- cat \"\$@\"" "$T/entry.check"
check entry 'd["all_programs"] is None and not any(p.endswith("/ls") for p in paths)'
ok $? "no fallback: programs the script cannot run (ls) are not in the closure" "$T/entry.check"

img viaenv '["/app/via-env.sh"]' '["/etc/hostname"]'
scope viaenv
check viaenv 'any(p.endswith("/env") for p in paths) and any(p.endswith("/sort") for p in paths) and kinds.get("/app/via-env.sh") == "script"'
ok $? "#!/usr/bin/env sh, then the env wrapper: env and sort are in the closure" "$T/viaenv.check"

img shc '["/bin/sh","-c"]' '["echo start; wc -l /etc/hostname | cut -c1-3"]'
scope shc
check shc 'any(p.endswith("/wc") for p in paths) and any(p.endswith("/cut") for p in paths) and d["all_programs"] is None'
ok $? "sh -c STRING: the string's commands (a pipeline) are in the closure" "$T/shc.check"

img dyn '["/app/dynamic.sh"]' '[]'
scope dyn
check dyn 'd["all_programs"] and any("not static" in p for p in d["problems"]) and any(p.endswith("/ls") for p in paths)'
ok $? "exec \$APP_CMD: not static, so every executable is included, with the reason" "$T/dyn.check"

img interactive '["/bin/sh"]' '[]'
scope interactive
check interactive 'd["all_programs"] and "stdin" in d["all_programs"]'
ok $? "a shell without a script reads stdin: every executable, with the reason" "$T/interactive.check"

img missing '["/bin/sh","-c"]' '["no-such-program --x; echo done"]'
scope missing
check missing 'any("no-such-program" in p and "not found" in p for p in d["problems"])'
ok $? "a command that is not in the image is a problem line, not a failure" "$T/missing.check"

# graph --scope entrypoint: scripts as nodes of their own, closure edges by kind
"$DG" graph "$T/entry.tar" --scope entrypoint --format json >"$T/graph.json" 2>"$T/graph.err"
python3 - "$T/graph.json" >"$T/graph.check" 2>&1 <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))
e = {(x["from"], x["to"], x["kind"]) for x in g["closure"]["edges"]}
print(sorted(e))
assert ("/app/entry.sh", "/bin/sh", "#!") in e
assert ("/app/entry.sh", "/app/lib.sh", "sources") in e
assert any(f == "/app/lib.sh" and t.endswith("/mkdir") and k == "runs" for f, t, k in e)
assert any(k == "dlopen" for f, t, k in e)
paths = {n["path"] for n in g["nodes"]}
assert any(p.endswith("/mkdir") for p in paths) and any("libc.so.6" in p for p in paths)
PY
ok $? "graph --scope entrypoint --format json: #!, sources, runs and dlopen edges, and the programs' libraries" "$T/graph.check"
"$DG" graph "$T/entry.tar" --scope entrypoint --exclude '*/gconv/*' >"$T/graph.dot" 2>>"$T/graph.err"
grep -q 'label="/app/entry.sh".*shape=note' "$T/graph.dot" && grep -q 'label="runs"' "$T/graph.dot" &&
	{ ! command -v dot >/dev/null || dot -Tsvg "$T/graph.dot" >/dev/null 2>>"$T/graph.err"; }
ok $? "graph --scope entrypoint (DOT): scripts red notes, runs edges; Graphviz renders it" "$T/graph.err"

# the profile: smaller than the image scope's, provenance says entrypoint
"$DG" generate "$T/entry.tar" --scope entrypoint -o "$T/entry-ep.json" --json 2>"$T/gen-ep.json"
ok $? "generate --scope entrypoint" "$T/gen-ep.json"
"$DG" generate "$T/entry.tar" -o "$T/entry-img.json" --json 2>"$T/gen-img.json"
python3 - "$T/gen-ep.json" "$T/gen-img.json" "$T/entry-ep.json" >"$T/cmp" 2>&1 <<'PY'
import json, sys
ep, im, prof = (json.load(open(f)) for f in sys.argv[1:4])
print("entrypoint", ep["allowed_x86_64"], "image", im["allowed_x86_64"])
assert ep["scope"] == "entrypoint" and im["scope"] == "image"
assert ep["allowed_x86_64"] < im["allowed_x86_64"]
assert prof["dockergate"]["scope"] == "entrypoint"
PY
ok $? "the entrypoint scope allows fewer syscalls than the image scope; the provenance says so ($(head -1 "$T/cmp"))" "$T/cmp"
"$DG" syscalls "$T/entry.tar" --scope entrypoint --json -- ls -l / >"$T/args.json" 2>"$T/u1"
check args 'any(p.endswith("/ls") for p in paths)'
ok $? "ARGS after the image replace the Cmd (docker run IMAGE ARGS): ls is in the closure" "$T/args.check"
"$DG" syscalls "$T/entry.tar" --scope everything >/dev/null 2>"$T/u2"
[[ $? -eq 2 ]] && grep -q -- "--scope" "$T/u2"
ok $? "--scope with a bad value: exit 2 naming it" "$T/u2"
img noentry '[]' '[]'
"$DG" generate "$T/noentry.tar" --scope entrypoint -o "$T/x.json" 2>"$T/u3"
[[ $? -eq 3 ]] && grep -q "neither Entrypoint nor Cmd" "$T/u3"
ok $? "no Entrypoint and no Cmd: exit 3" "$T/u3"

# a real engine: the container runs under the entrypoint scope's profile, nothing denied
if [[ $(id -u) -eq 0 ]] && command -v podman >/dev/null && command -v runc >/dev/null && command -v umoci >/dev/null; then
	podman_private "$T"
	mkdir -p "$T/vtmp"
	for engine in podman runc; do
		"$DG" verify "$T/entry.tar" --profile "$T/entry-ep.json" --engine $engine --network none --diagnose always \
			--tmpdir "$T/vtmp" --report "$T/v-$engine.json" >"$T/v-$engine.out" 2>"$T/v-$engine.err"
		rc=$?
		[[ $rc -eq 0 ]] && grep -q '^ready$' "$T/v-$engine.out" &&
			python3 -c "import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r['denied']==[] and r['diagnosis']=='done' else 1)" "$T/v-$engine.json"
		ok $? "$engine: the entrypoint script runs under the entrypoint scope's profile; the kernel logged nothing denied (exit $rc)" "$T/v-$engine.err"
	done
else
	echo "# skipping the real-engine checks: needs root, podman, runc and umoci"
fi
tap_end
