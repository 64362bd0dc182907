#!/usr/bin/env bash
# --scope entrypoint on real servers (the end-to-end images of tests/tools/e2eimage.py) whose
# entrypoint is a shell script that sets up and then execs the server, as official images do:
#   nginx: /docker-entrypoint.sh tests the config (nginx -t), then exec "$@" with
#          Cmd ["nginx","-g","daemon off;"]; a conf.d file makes it listen on 127.0.0.1:18080
#   redis: tini (Debian's, as init) runs /usr/local/bin/docker-entrypoint.sh with the official
#          `set -- redis-server "$@"` rule and `exec "$@"`; Cmd ["redis-server","--port","16379",...]
#   python: python3 /app/main.py importing C extension modules (sqlite3, _json, ...) and doing NSS
#          lookups (pwd, grp, getaddrinfo), under both scopes' profiles
# For the servers: the entrypoint scope's profile is smaller than the image scope's, and the server runs
# under each of the two (verify, podman and runc, host network, --timeout) while this test talks to
# it from the host (HTTP GET; redis PING/SET/GET); the kernel's seccomp records (verify --diagnose
# always) show nothing denied. Every verify runs the runtime under strace (--runtime, a wrapper from
# tests/tools/e2e.py): every syscall the container's process tree made, in the enforcing run and
# in the diagnosis run, is handled by the profile (tap.sh strace_check), and nginx's trace shows
# its echo module (nginx-light's load_module) opened, python's the _sqlite3 extension module.
# Usage: test_scope_images.sh DOCKERGATE   (prints TAP; DG_KEEP=1 keeps the temp directory)
set -uo pipefail
DG=${1:?usage: test_scope_images.sh DOCKERGATE}
here=$(cd "$(dirname "$0")" && pwd)
TAP_NAME="scope-images" TAP_DIAG=30
. "$here/../tools/tap.sh"
if [[ $(id -u) -ne 0 ]] || ! command -v podman >/dev/null || ! command -v runc >/dev/null ||
	! command -v umoci >/dev/null || ! command -v skopeo >/dev/null || ! command -v mmdebstrap >/dev/null ||
	! command -v strace >/dev/null; then
	echo "1..0 # SKIP needs root, podman, runc, umoci, skopeo, mmdebstrap and strace"
	exit 0
fi
for port in 18080 16379; do
	if ss -ltn 2>/dev/null | grep -q ":$port "; then
		echo "1..0 # SKIP port $port is in use on this host"
		exit 0
	fi
done
T=$(mktemp -d "${TMPDIR:-/tmp}/dg-scope-img.XXXXXX")
export XDG_CACHE_HOME="$T/xdg"
podman_private "$T"
cleanup() {
	podman rm -a -f >/dev/null 2>&1
	podman rmi -a -f >/dev/null 2>&1
	if [[ -n ${DG_KEEP:-} ]]; then echo "# kept $T" >&2; else rm -rf "$T"; fi
}
trap cleanup EXIT
mkdir -p "$T/vtmp"

derive() { # derive NAME BASE-IMAGE ENTRYPOINT-JSON CMD-JSON: BASE's rootfs + the files in $T/NAME-layer
	local root
	root=$(python3 "$here/../tools/e2eimage.py" rootfs "$2" 2>"$T/$1.build.err") || return 1
	python3 "$here/../tools/mkimg.py" --format docker-archive --compress none --out "$T/$1.tar" \
		--entrypoint "$3" --cmd "$4" --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		"$root" "$T/$1-layer" >/dev/null 2>>"$T/$1.build.err"
}

# probe NAME: talks to the server from the host while verify runs it; prints what it got
probe_nginx() {
	python3 - <<'PY'
import time, urllib.request
for _ in range(100):
    try:
        body = urllib.request.urlopen("http://127.0.0.1:18080/", timeout=2).read().decode()
        print("HTTP", "Welcome to nginx!" in body and "welcome" or "other")
        break
    except Exception:
        time.sleep(0.1)
else:
    print("no answer")
PY
}
probe_redis() {
	python3 - <<'PY'
import socket, time
def cmd(s, *a):
    s.sendall(("*%d\r\n" % len(a) + "".join("$%d\r\n%s\r\n" % (len(x), x) for x in a)).encode())
    return s.recv(4096).decode().strip()
for _ in range(100):
    try:
        s = socket.create_connection(("127.0.0.1", 16379), timeout=2)
        break
    except OSError:
        time.sleep(0.1)
else:
    print("no answer"); raise SystemExit
print(cmd(s, "PING"), cmd(s, "SET", "k", "scope-value"), cmd(s, "GET", "k").replace("\r\n", " "))
s.close()
PY
}

run_case() { # run_case NAME WANT [OPENED-FILE-REGEX]
	local name=$1 want=$2 opened=${3:-}
	"$DG" generate "$T/$name.tar" --scope entrypoint -o "$T/$name-ep.json" --json 2>"$T/$name-ep.gen"
	ok $? "$name: generate --scope entrypoint" "$T/$name-ep.gen"
	"$DG" generate "$T/$name.tar" -o "$T/$name-img.json" --json 2>"$T/$name-img.gen"
	ok $? "$name: generate --scope image" "$T/$name-img.gen"
	python3 - "$T/$name-ep.gen" "$T/$name-img.gen" >"$T/$name.cmp" 2>&1 <<'PY'
import json, sys
ep, im = (json.load(open(f)) for f in sys.argv[1:3])
print("entrypoint %d, image %d" % (ep["allowed_x86_64"], im["allowed_x86_64"]))
sys.exit(0 if ep["allowed_x86_64"] < im["allowed_x86_64"] else 1)
PY
	ok $? "$name: the entrypoint scope allows fewer syscalls than the image scope ($(head -1 "$T/$name.cmp"))" "$T/$name.cmp"
	"$DG" syscalls "$T/$name.tar" --scope entrypoint >"$T/$name.scope" 2>&1
	grep -q "^scope: script " "$T/$name.scope" && grep -q "run by .*docker-entrypoint.sh line" "$T/$name.scope" &&
		{ [[ $name != redis ]] || grep -q "^scope: script .*docker-entrypoint.sh: run by /usr/bin/tini" "$T/$name.scope"; }
	ok $? "$name: the closure goes through the entrypoint script (and the init wrapper) to the server" "$T/$name.scope"
	local sc scn tag
	for sc in ep img; do
		scn=$([[ $sc == ep ]] && echo entrypoint || echo image)
		for engine in podman runc; do
			tag="$name-$sc-$engine"
			python3 "$here/../tools/e2e.py" wrapper "$T/wrap-$tag" "$T/trace-$tag" --each
			"$DG" verify "$T/$name.tar" --profile "$T/$name-$sc.json" --engine $engine --network host --timeout 10 \
				--runtime "$T/wrap-$tag" --diagnose always --tmpdir "$T/vtmp" --report "$T/$tag.json" \
				>"$T/$tag.out" 2>"$T/$tag.err" &
			local vpid=$!
			# talk to it during the enforcing run and during the diagnosis run (SCMP_ACT_LOG), so
			# what serving requests calls is both enforced and logged
			: >"$T/$tag.probe"
			while kill -0 $vpid 2>/dev/null; do
				"probe_$name" >>"$T/$tag.probe" 2>&1
				sleep 1
			done
			wait $vpid
			local rc=$?
			cat "$T/$tag.probe" >>"$T/$tag.err"
			[[ $rc -eq 0 ]] && [[ $(grep -cF "$want" "$T/$tag.probe") -ge 2 ]] &&
				python3 -c "import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r['timed_out'] and r['denied']==[] and r['diagnosis']=='done' else 1)" "$T/$tag.json"
			ok $? "$name, --scope $scn, $engine: the server answers under the profile ($(grep -cF "$want" "$T/$tag.probe") times: $want); nothing denied" "$T/$tag.err"
			strace_check "$T/trace-$tag" "$T/$name-$sc.json" "$opened"
			ok $? "$name, --scope $scn, $engine: strace: every syscall of the container (both runs) is handled by the profile${opened:+; $opened opened}" \
				"$T/trace-$tag.check"
		done
	done
}

# nginx behind an entrypoint script
mkdir -p "$T/nginx-layer/etc/nginx/conf.d" "$T/nginx-layer/etc/nginx/sites-enabled"
printf 'server { listen 127.0.0.1:18080; root /var/www/html; index index.nginx-debian.html; }\n' \
	>"$T/nginx-layer/etc/nginx/conf.d/test.conf"
touch "$T/nginx-layer/etc/nginx/sites-enabled/.wh.default"
cat >"$T/nginx-layer/docker-entrypoint.sh" <<'SH'
#!/bin/sh
set -e
nginx -t -q
exec "$@"
SH
chmod 755 "$T/nginx-layer/docker-entrypoint.sh"
derive nginx nginx '["/docker-entrypoint.sh"]' '["nginx","-g","daemon off;"]'
ok $? "nginx: derived image with an entrypoint script" "$T/nginx.build.err"
run_case nginx "HTTP welcome" 'ngx_http_echo_module\.so'

# redis behind the official entrypoint's rules
mkdir -p "$T/redis-layer/usr/local/bin"
cat >"$T/redis-layer/usr/local/bin/docker-entrypoint.sh" <<'SH'
#!/bin/sh
set -e
# first arg is `-f` or `--some-option`, or a .conf file: run redis-server with it
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
	set -- redis-server "$@"
fi
umask 0077
exec "$@"
SH
chmod 755 "$T/redis-layer/usr/local/bin/docker-entrypoint.sh"
# an init wrapper in front of it, as `docker run --init` or many images do: tini from Debian
F=${DG_FIXTURES:-$here/../../build/fixtures}
mkdir -p "$F/debs"
ls "$F/debs"/tini_*.deb >/dev/null 2>&1 || (cd "$F/debs" && apt-get download -qq tini >/dev/null 2>&1) ||
	{ apt-get update -qq && (cd "$F/debs" && apt-get download -qq tini >/dev/null 2>&1); }
dpkg-deb -x "$(ls "$F/debs"/tini_*.deb | head -1)" "$T/redis-layer" 2>"$T/redis.build.err"
derive redis redis '["/usr/bin/tini","--","docker-entrypoint.sh"]' '["redis-server","--port","16379","--save","","--bind","127.0.0.1"]'
ok $? "redis: derived image with tini as init and the official entrypoint rules" "$T/redis.build.err"
run_case redis '+PONG +OK $11 scope-value'

# an interpreted program importing C extension modules (dlopen'd from lib-dynload) and doing
# name-service lookups (NSS), run to completion under both scopes' profiles
mkdir -p "$T/python-layer/app" "$T/python-layer/etc"
# runc has no engine to write /etc/hosts (podman does): the image brings one, as images may
printf '127.0.0.1\tlocalhost\n' >"$T/python-layer/etc/hosts"
cat >"$T/python-layer/app/main.py" <<'PY'
import _json, array, binascii, hashlib, pwd, grp, select, socket, sqlite3, zlib
db = sqlite3.connect(":memory:")
db.execute("create table t(x)"); db.execute("insert into t values (7)")
print("sqlite", db.execute("select x from t").fetchone()[0])
print("root uid", pwd.getpwnam("root").pw_uid, "group", grp.getgrgid(0).gr_name)
print("localhost", sorted({a[4][0] for a in socket.getaddrinfo("localhost", 80, socket.AF_INET)}))
print("zlib", zlib.crc32(b"dockergate"), "sha", hashlib.sha256(b"x").hexdigest()[:8])
PY
derive python python '["python3"]' '["/app/main.py"]'
ok $? "python: derived image with a program importing C extension modules" "$T/python.build.err"
for sc in entrypoint image; do
	"$DG" generate "$T/python.tar" --scope $sc -o "$T/python-$sc.json" 2>"$T/python-$sc.gen"
	ok $? "python: generate --scope $sc" "$T/python-$sc.gen"
	for engine in podman runc; do
		python3 "$here/../tools/e2e.py" wrapper "$T/wrap-python-$sc-$engine" "$T/trace-python-$sc-$engine" --each
		"$DG" verify "$T/python.tar" --profile "$T/python-$sc.json" --engine $engine --network none --diagnose always \
			--runtime "$T/wrap-python-$sc-$engine" --tmpdir "$T/vtmp" --report "$T/python-$sc-$engine.json" \
			>"$T/python-$sc-$engine.out" 2>"$T/python-$sc-$engine.err"
		rc=$?
		cat "$T/python-$sc-$engine.out" >>"$T/python-$sc-$engine.err"
		[[ $rc -eq 0 ]] && grep -q "^sqlite 7$" "$T/python-$sc-$engine.out" &&
			grep -q "^root uid 0 group root$" "$T/python-$sc-$engine.out" &&
			grep -q "^localhost \['127.0.0.1'\]$" "$T/python-$sc-$engine.out" &&
			python3 -c "import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r['denied']==[] and r['diagnosis']=='done' else 1)" "$T/python-$sc-$engine.json"
		ok $? "python, --scope $sc, $engine: C extensions and NSS lookups work; nothing denied (exit $rc)" "$T/python-$sc-$engine.err"
		strace_check "$T/trace-python-$sc-$engine" "$T/python-$sc.json" '_sqlite3\.cpython-[0-9]+-x86_64-linux-gnu\.so'
		ok $? "python, --scope $sc, $engine: strace: every syscall of the container (both runs) is handled by the profile; _sqlite3 opened" \
			"$T/trace-python-$sc-$engine.check"
	done
done
tap_end
