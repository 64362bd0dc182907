#!/usr/bin/env bash
# What the CLI writes, whatever bytes an image, a trace or the file system hands it:
# names that are not UTF-8 in every --json output (escaped as \xHH, never a key or a
# field silently dropped, never `{}` with exit 0), control bytes in warning and usage
# lines (one line each), and that src/cli builds JSON strings and keys only through
# its one writer (src/cli/json.c). No engine is used.
# Usage: test_cli_output.sh DOCKERGATE   (prints TAP)
set -uo pipefail
DG=${1:?dockergate}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/dg-cliout.XXXXXX")
trap 'rm -rf "$T"' EXIT
export XDG_CACHE_HOME="$T/xdg"
TAP_NAME="cli-output" TAP_DIAG=20
. "$here/../tools/tap.sh"
R="$T/root"
real_rootfs "$R" || { echo "not ok 1 - the real-package root filesystem could not be built"; exit 1; }
rm -rf "$R/usr/lib/x86_64-linux-gnu/gconv"
FF=$(printf '\xff')
BAD="/bin/bad${FF}name"
cp "$R/bin/true" "$R$BAD"
mkdir -p "$T/odd$FF"
ln -s "$R" "$T/odd$FF/root"
# py FILE EXPR...: each Python assertion on the JSON document J of FILE
py() { local f=$1; shift; python3 -c "import json,sys; J=json.load(open(sys.argv[1])); $*" "$f" 2>&1; }

"$DG" elf --json "dir:$R" "$BAD" /bin/true >"$T/elf.json" 2>"$T/err"
rc=$?
{ [[ $rc -eq 0 ]] || echo "exit $rc"; cat "$T/err"
py "$T/elf.json" "k=[x for x in J]; assert k==['/bin/bad\\\\xffname', '/bin/true'], k; assert J[k[0]]['class']==64 and J[k[0]]['needed']==J['/bin/true']['needed'], J[k[0]]"; } >"$T/out"
[[ ! -s "$T/out" ]]
ok $? "elf --json of a path that is not UTF-8: its model under the escaped key, not {}" "$T/out"

"$DG" bind --json "dir:$R" "$BAD" >"$T/bind.json" 2>"$T/err"
py "$T/bind.json" "e=J['/bin/bad\\\\xffname']; assert e['executable']=='/bin/bad\\\\xffname' and e['objects'][0]['path']=='/bin/bad\\\\xffname', e['objects'][0]" >"$T/out"
ok $? "bind --json: the escaped path as key, executable and object path" "$T/out"

"$DG" files --json "dir:$R" >"$T/files.json" 2>"$T/err"
py "$T/files.json" "assert any(x['path']=='/bin/bad\\\\xffname' and x['kind']=='elf' for x in J)" >"$T/out"
ok $? "files --json lists the file under its escaped name" "$T/out"

"$DG" syscalls --json --no-cache "dir:$R" "$BAD" >"$T/sc.json" 2>"$T/err"
py "$T/sc.json" "x=J['executables'][0]; assert x['path']=='/bin/bad\\\\xffname' and len(x['syscalls'])>10, x['path']" >"$T/out"
ok $? "syscalls --json of it: path escaped, its syscalls there" "$T/out"

"$DG" inspect --json "dir:$T/odd$FF/root" >"$T/in.json" 2>"$T/err"
py "$T/in.json" "assert J['source']=='dir:$T/odd\\\\xff/root', J.get('source')" >"$T/out"
ok $? "inspect --json of an image whose path is not UTF-8: source escaped, not dropped" "$T/out"

"$DG" cache stats --json --cache "$T/c$FF.sqlite" >"$T/cs.json" 2>"$T/err"
rc=$?
{ [[ $rc -eq 0 ]] || echo "exit $rc"; py "$T/cs.json" "assert J=={'path': '$T/c\\\\xff.sqlite', 'exists': False}, J"; } >"$T/out"
ok $? "cache stats --json of a missing cache at a path that is not UTF-8: path escaped, not an empty output" "$T/out"
"$DG" graph --json --cache "$T/c$FF.sqlite" "dir:$R" >/dev/null 2>&1 &&
	"$DG" cache stats --json --cache "$T/c$FF.sqlite" >"$T/cs.json" 2>"$T/err"
py "$T/cs.json" "assert J['path'].endswith('/c\\\\xff.sqlite') and J['exists'] and J['entries']>0, J" >"$T/out"
ok $? "cache stats --json of a real cache there: path escaped, the counts present" "$T/out"
"$DG" cache clear --json --cache "$T/c$FF.sqlite" >"$T/cc.json" 2>"$T/err"
py "$T/cc.json" "assert J['path'].endswith('/c\\\\xff.sqlite') and J['removed']>0, J" >"$T/out"
ok $? "cache clear --json there: path escaped, the count present" "$T/out"

# ---- one line per message ----
"$DG" graph --format "dot"$'\n'"json" "dir:$R" >/dev/null 2>"$T/err"
rc=$?
[[ $rc -eq 2 && $(wc -l <"$T/err") -eq 1 ]] && grep -q "'dot\\\\x0ajson'" "$T/err"
ok $? "a usage error quoting a value with a newline is one line (exit $rc)" "$T/err"
"$DG" elf "dir:$R" /etc/host$'\n'name >/dev/null 2>"$T/err"
rc=$?
[[ $rc -eq 3 && $(wc -l <"$T/err") -eq 1 ]]
ok $? "an error naming a path with a newline is one line (exit $rc)" "$T/err"
printf '{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"}]}]}' >"$T/p"$'\n'"x.json"
"$DG" diff "$T/p"$'\n'"x.json" docker-default >/dev/null 2>"$T/err"
rc=$?
{ [[ $rc -eq 0 ]] || echo "exit $rc"; grep -v '^dockergate diff: warning: ' "$T/err" | sed 's/^/stray: /'; grep -c . "$T/err" | grep -qx 0 && echo "no warning"; } >"$T/out"
[[ ! -s "$T/out" ]]
ok $? "diff's warnings about a profile whose name has a newline: one line each" "$T/err"

# ---- help texts built from the library's tables ----
"$DG" generate "dir:$R" -o "$T/p.json" --format nosuch >/dev/null 2>"$T/err"
rc=$?
{ [[ $rc -eq 2 ]] || echo "exit $rc"
grep -q "expected docker, oci, k8s, k8s-json, bpf or pfc, got 'nosuch'" "$T/err" || echo "message: $(cat "$T/err")"
for f in docker oci k8s k8s-json bpf pfc; do
	"$DG" generate --help | sed -n '/--format FORMAT/,/--name/p' | grep -q "[ (]$f[ ,)]" || echo "generate --help lacks $f"
	"$DG" merge --help | sed -n '/--format FORMAT/,$p' | grep -q "[ (]$f[ ,)]" || echo "merge --help lacks $f"
	"$DG" merge docker-default --format "$f" -o "$T/m.$f" 2>>"$T/out.m" || echo "merge --format $f failed"
done; } >"$T/out"
[[ ! -s "$T/out" ]]
ok $? "--format: every format of the library's table in generate/merge --help, the usage error and merge" "$T/out"

# ---- the one writer ----
grep -n 'json_object_set_new\|json_array_append_new\|json_string(\|json_stringn\|json_pack\|json_object_set(\|json_array_extend' \
	"$repo"/src/cli/*.c | grep -v '^[^:]*/json\.c:' >"$T/out"
[[ ! -s "$T/out" ]]
ok $? "src/cli makes JSON strings and sets keys only through json.c (cli_json_str, cli_json_set, cli_json_push)" "$T/out"
tap_end
