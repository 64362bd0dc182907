#!/usr/bin/env bash
# Modules loaded at run time (dlopen) on a real engine, under both scopes' profiles:
#   nginx-mod: the nginx end-to-end image (nginx-light, which brings libnginx-mod-http-echo)
#          plus Debian 12's libnginx-mod-http-headers-more-filter, enabled as its maintainer
#          script does (the /etc/nginx/modules-enabled link that nginx.conf includes); a conf.d
#          server on 127.0.0.1:18081 answers /echo with the echo module's `echo` and sets a
#          header with headers-more's `more_set_headers`; the host checks both over HTTP
#   nss-myhostname: the tools end-to-end image plus Debian 12's libnss-myhostname with
#          `hosts: files myhostname dns` (what its maintainer script writes into nsswitch.conf);
#          an entrypoint script resolves dg-probe.localhost with getent, a name only
#          nss-myhostname answers (files does not know it: checked; no network for dns), through
#          nsswitch.conf and with getent -s myhostname
# For each: the entrypoint scope's closure (syscalls --scope entrypoint --json) has the module
# with a dlopen reason; the workload runs under the entrypoint and the image scope's profile
# with podman and runc (verify --diagnose always: the kernel's seccomp records show nothing
# denied) and under strace (verify --runtime, an strace wrapper; tests/tools/e2e.py): every
# syscall the container's process tree made, in the enforcing run and in the diagnosis run, is
# handled by the profile, and the trace shows the module opened.
# Usage: test_scope_modules.sh DOCKERGATE   (prints TAP; DG_ONLY=nginx_mod|nss runs one part,
# DG_KEEP=1 keeps the temp directory with the images, profiles, reports and traces)
set -uo pipefail
DG=${1:?usage: test_scope_modules.sh DOCKERGATE}
here=$(cd "$(dirname "$0")" && pwd)
TAP_NAME="scope-modules" TAP_DIAG=30
. "$here/../tools/tap.sh"
if [[ $(id -u) -ne 0 ]] || ! command -v podman >/dev/null || ! command -v runc >/dev/null ||
	! command -v umoci >/dev/null || ! command -v skopeo >/dev/null || ! command -v mmdebstrap >/dev/null ||
	! command -v strace >/dev/null; then
	echo "1..0 # SKIP needs root, podman, runc, umoci, skopeo, mmdebstrap and strace"
	exit 0
fi
PORT=18081
if ss -ltn 2>/dev/null | grep -q ":$PORT "; then
	echo "1..0 # SKIP port $PORT is in use on this host"
	exit 0
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/dg-scope-mod.XXXXXX")
export XDG_CACHE_HOME="$T/xdg"
podman_private "$T"
cleanup() {
	podman rm -a -f >/dev/null 2>&1
	podman rmi -a -f >/dev/null 2>&1
	if [[ -n ${DG_KEEP:-} ]]; then echo "# kept $T" >&2; else rm -rf "$T"; fi
}
trap cleanup EXIT
mkdir -p "$T/vtmp"
E2E="$here/../tools/e2e.py"

derive() { # derive NAME BASE-IMAGE ENTRYPOINT-JSON CMD-JSON: BASE's rootfs + the files in $T/NAME-layer
	local root
	root=$(python3 "$here/../tools/e2eimage.py" rootfs "$2" 2>"$T/$1.build.err") || return 1
	python3 "$here/../tools/mkimg.py" --format docker-archive --compress none --out "$T/$1.tar" \
		--entrypoint "$3" --cmd "$4" --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		"$root" "$T/$1-layer" >/dev/null 2>>"$T/$1.build.err"
}

F=${DG_FIXTURES:-$here/../../build/fixtures}
deb() { # deb PACKAGE: the path of Debian 12's .deb of PACKAGE (downloaded once into $F/debs)
	mkdir -p "$F/debs"
	ls "$F/debs/$1"_*.deb >/dev/null 2>&1 || (cd "$F/debs" && apt-get download -qq "$1" >/dev/null 2>&1) ||
		{ apt-get update -qq && (cd "$F/debs" && apt-get download -qq "$1" >/dev/null 2>&1); }
	ls "$F/debs/$1"_*.deb 2>/dev/null | head -1
}

closure_has() { # closure_has NAME MODULE-PATH WHY-PREFIX DIAG: the entrypoint scope's item for the module
	"$DG" syscalls "$T/$1.tar" --scope entrypoint --json >"$T/$1.closure.json" 2>"$T/$1.closure.err"
	local rc=$?
	cat "$T/$1.closure.err" >"$4"
	[[ $rc -eq 0 ]] && python3 - "$T/$1.closure.json" "$2" "$3" >>"$4" 2>&1 <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
items = [i for i in d["scope"]["items"] if i["path"] == sys.argv[2]]
if d["scope"]["scope"] != "entrypoint" or d["scope"]["all_libraries"]:
    print("not the entrypoint scope's own closure (all_libraries fallback): %s" % d["scope"]["all_libraries"])
    sys.exit(1)
if not items:
    print("%s is not in the closure; the libraries in it:" % sys.argv[2])
    print("\n".join(i["path"] + ": " + i["why"] for i in d["scope"]["items"] if "gconv" not in i["path"]))
    sys.exit(1)
i = items[0]
print("%s (%s): %s, parent %s" % (i["path"], i["kind"], i["why"], i["parent"]))
sys.exit(0 if i["kind"] == "library" and i["why"].startswith(sys.argv[3]) else 1)
PY
}

probe_nginx_mod() { # talks to the server from the host while verify runs it; prints what it got
	python3 - "$PORT" <<'PY'
import sys, time, urllib.request
for _ in range(150):
    try:
        r = urllib.request.urlopen("http://127.0.0.1:%s/echo?x=42" % sys.argv[1], timeout=2)
        print("HTTP %s; X-Dockergate: %s" % (r.read().decode().strip(), r.headers.get("X-Dockergate")))
        break
    except Exception:
        time.sleep(0.1)
else:
    print("no answer")
PY
}

# run_server NAME SCOPE ENGINE WANT: verify runs the server under NAME-SCOPE.json with the strace
# wrapper while the host talks to it; checks the answers and the report, then the traces
run_server() {
	local name=$1 sc=$2 engine=$3 want=$4 tag="$1-$2-$3"
	python3 "$E2E" wrapper "$T/wrap-$tag" "$T/trace-$tag" --each
	"$DG" verify "$T/$name.tar" --profile "$T/$name-$sc.json" --engine "$engine" --network host --timeout 10 \
		--runtime "$T/wrap-$tag" --diagnose always --tmpdir "$T/vtmp" --report "$T/$tag.json" \
		>"$T/$tag.out" 2>"$T/$tag.err" &
	local vpid=$!
	# talk to it during the enforcing run and during the diagnosis run (SCMP_ACT_LOG), so what
	# serving requests calls is both enforced and logged
	: >"$T/$tag.probe"
	while kill -0 $vpid 2>/dev/null; do
		"probe_$name" >>"$T/$tag.probe" 2>&1
		sleep 1
	done
	wait $vpid
	local rc=$?
	cat "$T/$tag.probe" >>"$T/$tag.err"
	[[ $rc -eq 0 ]] && [[ $(grep -cxF "$want" "$T/$tag.probe") -ge 2 ]] &&
		python3 -c "import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r['timed_out'] and r['denied']==[] and r['diagnosis']=='done' else 1)" "$T/$tag.json"
	ok $? "$name, --scope $sc, $engine: the server answers under the profile ($(grep -cxF "$want" "$T/$tag.probe") times: $want); nothing denied" "$T/$tag.err"
}

# run_job NAME SCOPE ENGINE: verify runs the image to completion under NAME-SCOPE.json with the
# strace wrapper; stdout must be $T/NAME.want
run_job() {
	local name=$1 sc=$2 engine=$3 tag="$1-$2-$3"
	python3 "$E2E" wrapper "$T/wrap-$tag" "$T/trace-$tag" --each
	"$DG" verify "$T/$name.tar" --profile "$T/$name-$sc.json" --engine "$engine" --network none \
		--runtime "$T/wrap-$tag" --diagnose always --tmpdir "$T/vtmp" --report "$T/$tag.json" \
		>"$T/$tag.out" 2>"$T/$tag.err"
	local rc=$?
	{ echo "--- stdout"; cat "$T/$tag.out"; echo "--- want"; cat "$T/$name.want"; } >>"$T/$tag.err"
	[[ $rc -eq 0 ]] && cmp -s "$T/$tag.out" "$T/$name.want" &&
		python3 -c "import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r['denied']==[] and r['diagnosis']=='done' else 1)" "$T/$tag.json"
	ok $? "$name, --scope $sc, $engine: the workload's output as expected (exit $rc); nothing denied" "$T/$tag.err"
}

# each_run NAME KIND MODULE-REGEX WANT: both scopes' profiles, podman and runc, the strace check
each_run() {
	local name=$1 kind=$2 mod=$3 want=${4:-} sc engine
	for sc in entrypoint image; do
		"$DG" generate "$T/$name.tar" --scope $sc -o "$T/$name-$sc.json" 2>"$T/$name-$sc.gen"
		ok $? "$name: generate --scope $sc" "$T/$name-$sc.gen"
		for engine in podman runc; do
			if [[ $kind == server ]]; then
				run_server "$name" $sc $engine "$want"
			else
				run_job "$name" $sc $engine
			fi
			strace_check "$T/trace-$name-$sc-$engine" "$T/$name-$sc.json" "$mod"
			ok $? "$name, --scope $sc, $engine: strace: every syscall of the container (both runs) is handled by the profile; the module was opened" \
				"$T/trace-$name-$sc-$engine.check"
		done
	done
}

# ---- nginx with dynamic modules named by load_module in /etc/nginx/modules-enabled
if [[ ${DG_ONLY:-nginx_mod} == nginx_mod ]]; then
HM=$(deb libnginx-mod-http-headers-more-filter)
mkdir -p "$T/nginx_mod-layer/etc/nginx/conf.d" "$T/nginx_mod-layer/etc/nginx/sites-enabled" \
	"$T/nginx_mod-layer/etc/nginx/modules-enabled"
[[ -n $HM ]] && dpkg-deb -x "$HM" "$T/nginx_mod-layer" 2>"$T/nginx_mod.build.err" &&
	[[ -f $T/nginx_mod-layer/usr/lib/nginx/modules/ngx_http_headers_more_filter_module.so ]] &&
	grep -qx 'load_module modules/ngx_http_headers_more_filter_module.so;' \
		"$T/nginx_mod-layer/usr/share/nginx/modules-available/mod-http-headers-more-filter.conf"
ok $? "nginx_mod: Debian 12's libnginx-mod-http-headers-more-filter ($(basename "${HM:-none}")) unpacked; its load_module line" \
	"$T/nginx_mod.build.err"
# what its postinst does (dh_nginx): an absolute link in modules-enabled, which nginx.conf includes
ln -s /usr/share/nginx/modules-available/mod-http-headers-more-filter.conf \
	"$T/nginx_mod-layer/etc/nginx/modules-enabled/50-mod-http-headers-more-filter.conf"
cat >"$T/nginx_mod-layer/etc/nginx/conf.d/test.conf" <<EOF
server {
	listen 127.0.0.1:$PORT;
	more_set_headers "X-Dockergate: headers-more";
	location = /echo { echo "echo module: \$request_method \$arg_x"; }
	location / { root /var/www/html; index index.nginx-debian.html; }
}
EOF
touch "$T/nginx_mod-layer/etc/nginx/sites-enabled/.wh.default"
derive nginx_mod nginx '["nginx"]' '["-g","daemon off;"]'
ok $? "nginx_mod: derived image (nginx-light, the echo and headers-more modules enabled)" "$T/nginx_mod.build.err"
for m in headers_more_filter echo; do
	closure_has nginx_mod /usr/lib/nginx/modules/ngx_http_${m}_module.so "dlopen: nginx: /etc/nginx/modules-enabled/" \
		"$T/nginx_mod-$m.closure.diag"
	ok $? "nginx_mod: the entrypoint scope's closure has ngx_http_${m}_module.so, dlopen'd by nginx's load_module" \
		"$T/nginx_mod-$m.closure.diag"
done
# the strace check: the traces show headers-more opened (echo's is opened the same way)
each_run nginx_mod server 'ngx_http_headers_more_filter_module\.so' 'HTTP echo module: GET 42; X-Dockergate: headers-more'
fi

# ---- NSS lookups through libnss-myhostname (not built into glibc)
if [[ ${DG_ONLY:-nss} == nss ]]; then
NM=$(deb libnss-myhostname)
mkdir -p "$T/nss-layer/etc" "$T/nss-layer/usr/local/bin"
[[ -n $NM ]] && dpkg-deb -x "$NM" "$T/nss-layer" 2>"$T/nss.build.err" &&
	[[ -f $T/nss-layer/usr/lib/x86_64-linux-gnu/libnss_myhostname.so.2 ]]
ok $? "nss: Debian 12's libnss-myhostname ($(basename "${NM:-none}")) unpacked" "$T/nss.build.err"
# what its postinst does (dh_installnss): myhostname after files on the hosts line
TOOLS=$(python3 "$here/../tools/e2eimage.py" rootfs tools 2>>"$T/nss.build.err")
sed -E -e '/^hosts:\s[^#]*$/ s/(\s)(files(\s+\[[^]]+\])?)(\s|$)/\1\2 myhostname /' -e 's/ $//' \
	"$TOOLS/etc/nsswitch.conf" >"$T/nss-layer/etc/nsswitch.conf"
grep -Eq '^hosts:\s+files myhostname dns$' "$T/nss-layer/etc/nsswitch.conf"
ok $? "nss: nsswitch.conf as the postinst leaves it: $(grep '^hosts:' "$T/nss-layer/etc/nsswitch.conf" | tr -s ' \t' ' ')" \
	"$T/nss-layer/etc/nsswitch.conf"
# runc has no engine to write /etc/hosts (podman does): the image brings one without the name
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$T/nss-layer/etc/hosts"
cat >"$T/nss-layer/usr/local/bin/lookup.sh" <<'SH'
#!/bin/sh
# dg-probe.localhost: a name only nss-myhostname answers (*.localhost: ::1 and 127.0.0.1, named
# localhost). getent hosts (gethostbyname2, IPv6 first), not ahosts: getaddrinfo's AI_ADDRCONFIG
# finds no address family configured in a network namespace with only lo.
if getent -s files hosts dg-probe.localhost >/dev/null; then
	echo "files knows dg-probe.localhost"
else
	echo "files: not found"
fi
a=$(getent -s myhostname hosts dg-probe.localhost)
echo "myhostname: ${a%% *} ${a##* }"
a=$(getent hosts dg-probe.localhost)
echo "nsswitch: ${a%% *} ${a##* }"
SH
chmod 755 "$T/nss-layer/usr/local/bin/lookup.sh"
printf 'files: not found\nmyhostname: ::1 localhost\nnsswitch: ::1 localhost\n' >"$T/nss.want1"
# verify passes the stdout of both runs through: the enforcing run's, then the diagnosis run's
cat "$T/nss.want1" "$T/nss.want1" >"$T/nss.want"
derive nss tools '["lookup.sh"]' '[]'
ok $? "nss: derived image (libnss-myhostname, an entrypoint script running getent)" "$T/nss.build.err"
closure_has nss /usr/lib/x86_64-linux-gnu/libnss_myhostname.so.2 "dlopen: nss: /etc/nsswitch.conf:" "$T/nss.closure.diag"
ok $? "nss: the entrypoint scope's closure has libnss_myhostname.so.2, dlopen'd through nsswitch.conf's hosts line" \
	"$T/nss.closure.diag"
each_run nss job 'libnss_myhostname\.so\.2'
fi
tap_end
