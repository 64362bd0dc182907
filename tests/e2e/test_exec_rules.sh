#!/usr/bin/env bash
# Exec and dlopen rules of the entrypoint scope (docs/design.md "Exec rules", "dlopen rules") on
# the real haproxy and mosquitto images of tests/tools/e2eimage.py (Debian 12 packages): with
# their configuration, no fallback fires; each configuration line that makes the server run or
# load something brings exactly that (haproxy's external-check command and program sections,
# libwrap's hosts.allow spawn), or the fallback with the line named (haproxy's lua-load runs
# Lua's os.execute/io.popen; filter opentracing names a plugin elsewhere); sd-bus's exec
# transport in libsystemd counts only for a program that calls sd-bus (two compiled programs
# linked with the image's libsystemd); a server's configuration named on its command line
# (lighttpd -f) is the one read; lighttpd runs its piped loggers through sh. The servers' runs under these profiles, strace of the
# container showing nothing outside them, are tests/e2e/test_servers.py's.
# Usage: test_exec_rules.sh DOCKERGATE   (prints TAP; root and mmdebstrap, else SKIP)
set -uo pipefail
DG=${1:?usage: test_exec_rules.sh DOCKERGATE}
here=$(cd "$(dirname "$0")" && pwd)
TAP_NAME="exec-rules" TAP_DIAG=40
. "$here/../tools/tap.sh"
if [[ $(id -u) -ne 0 ]] || ! command -v mmdebstrap >/dev/null; then
	echo "1..0 # SKIP needs root and mmdebstrap (the real server images)"
	exit 0
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/dg-execrules.XXXXXX")
export XDG_CACHE_HOME="$T/xdg"
trap 'rm -rf "$T"' EXIT
E2EIMAGE=${DG_E2EIMAGE:-$here/../tools/e2eimage.py}

rootfs() { # rootfs NAME DEST: a private copy of the image's merged root filesystem
	local src
	src=$(python3 "$E2EIMAGE" rootfs "$1" 2>"$T/$1.build") && [[ -d $src ]] && cp -a "$src" "$2"
}
scope() { # scope NAME ROOT ARGS...: syscalls --scope entrypoint --json of the root directory
	local name=$1 root=$2
	shift 2
	"$DG" syscalls "$root" --scope entrypoint --json -- "$@" >"$T/$name.json" 2>"$T/$name.err"
}
check() { # check NAME PYTHON-EXPR (s: the scope JSON, paths, why: {path: why}, n: allowed)
	python3 - "$T/$1.json" "$2" >"$T/$1.check" 2>&1 <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["scope"]
paths = [i["path"] for i in s["items"]]
why = {i["path"]: i["why"] for i in s["items"]}
n = len(d["union"])
res = eval(sys.argv[2])
print("allowed %d; all_programs: %s; all_libraries: %s" % (n, s["all_programs"], s["all_libraries"]))
for i in s["items"]:
    if "gconv" not in i["why"] and "every executable" not in i["why"] and "calls dlopen" not in i["why"]:
        print("item %s %s: %s" % (i["kind"], i["path"], i["why"][:160]))
print("problems: %s" % s["problems"][:8])
sys.exit(0 if res else 1)
PY
}

H="$T/haproxy"
rootfs haproxy "$H"
ok $? "the haproxy image's root filesystem (e2eimage.py)" "$T/haproxy.build"
CFG=usr/local/etc/haproxy/haproxy.cfg
scope hap "$H" haproxy -f /$CFG
ok $? "syscalls --scope entrypoint of haproxy" "$T/hap.err"
check hap 's["all_programs"] is None and s["all_libraries"] is None and n < 160'
ok $? "haproxy: no fallback (its execvp: the master re-executing itself; liblua's popen/system: no lua-load; libsystemd's execvp: no sd-bus call; libcrypto's dlopen: OpenSSL's engines and providers)" "$T/hap.check"
check hap 'any(p.endswith("/engines-3/afalg.so") and "openssl" in why[p] for p in paths)'
ok $? "haproxy: libcrypto's dlopen brings OpenSSL's engines and providers" "$T/hap.check"
n0=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["union"]))' "$T/hap.json")

cp "$H/$CFG" "$T/hap.cfg"
printf 'backend checked\n\toption external-check\n\texternal-check command /usr/bin/tac\nprogram api\n\tcommand /usr/bin/sleep 3600\n' >>"$H/$CFG"
scope hapx "$H" haproxy -f /$CFG
check hapx 's["all_programs"] is None and "external-check command /usr/bin/tac" in why.get("/usr/bin/tac", "") and "program section command /usr/bin/sleep" in why.get("/usr/bin/sleep", "")'
ok $? "haproxy: an external-check command and a program section's command are in the closure, nothing else" "$T/hapx.check"

cp "$T/hap.cfg" "$H/$CFG"
printf 'global\n\tlua-load /usr/local/etc/haproxy/x.lua\n' >>"$H/$CFG"
scope haplua "$H" haproxy -f /$CFG
check haplua 's["all_programs"] is not None and "liblua" in s["all_programs"]'
ok $? "haproxy: lua-load runs Lua code, whose io.popen/os.execute run what it chooses: the fallback, naming liblua" "$T/haplua.check"

cp "$T/hap.cfg" "$H/$CFG"
printf 'backend traced\n\tfilter opentracing id ot config /usr/local/etc/haproxy/ot.cfg\n' >>"$H/$CFG"
scope hapot "$H" haproxy -f /$CFG
check hapot 's["all_libraries"] is not None and "filter opentracing" in s["all_libraries"] and "haproxy.cfg:" in s["all_libraries"]'
ok $? "haproxy: filter opentracing names its plugin in another file: the dlopen fallback, naming the line" "$T/hapot.check"
cp "$T/hap.cfg" "$H/$CFG"

M="$T/mosquitto"
rootfs mosquitto "$M"
ok $? "the mosquitto image's root filesystem (e2eimage.py)" "$T/mosquitto.build"
scope mos "$M" /usr/sbin/mosquitto -c /mosquitto/config/mosquitto.conf
check mos 's["all_programs"] is None and s["all_libraries"] is None and n < 170'
ok $? "mosquitto: no fallback (libwrap: no spawn/twist command in hosts.allow/hosts.deny; libsystemd: no sd-bus call)" "$T/mos.check"
printf 'mosquitto: ALL: spawn /usr/bin/logger -t mqtt %%h\n' >>"$M/etc/hosts.allow"
scope moswrap "$M" /usr/sbin/mosquitto -c /mosquitto/config/mosquitto.conf
check moswrap 's["all_programs"] is None and "libwrap" in why.get("/usr/bin/logger", "") and "/bin/sh" in paths'
ok $? "mosquitto: a hosts.allow spawn command runs through /bin/sh -c: sh and logger are in the closure" "$T/moswrap.check"

# lighttpd -f a configuration outside Debian's lighttpd.conf: its server.modules count
Li="$T/lighttpd"
rootfs lighttpd "$Li"
ok $? "the lighttpd image's root filesystem (e2eimage.py)" "$T/lighttpd.build"
scope lt "$Li" lighttpd -D -f /etc/lighttpd/e2e.conf
check lt '"server.modules mod_accesslog" in why.get("/usr/lib/lighttpd/mod_accesslog.so", "")'
ok $? "lighttpd -f /etc/lighttpd/e2e.conf: the module it names (mod_accesslog, not in Debian's lighttpd.conf) is dlopen'd" "$T/lt.check"
check lt 's["all_programs"] is None and s["all_libraries"] is None and n < 140 and "/usr/bin/perl" not in paths'
ok $? "lighttpd: no fallback (its plugin lookups by name: *_plugin_init only; e2e.conf replaces lighttpd.conf, whose include_shell perl scripts do not run)" "$T/lt.check"
printf 'accesslog.filename = "|/usr/bin/tee -a /tmp/access.log"\n' >>"$Li/etc/lighttpd/e2e.conf"
scope ltpipe "$Li" lighttpd -D -f /etc/lighttpd/e2e.conf
check ltpipe 's["all_programs"] is None and "piped logger" in why.get("/bin/sh", why.get("/usr/bin/sh", "")) and "/usr/bin/tee" in paths'
ok $? "lighttpd: a piped access log runs through /bin/sh -c: sh and tee are in the closure" "$T/ltpipe.check"

# sd-bus: two programs linked with the image's libsystemd, one calling sd_bus_open_system
cat >"$T/bus.c" <<'C'
int sd_bus_open_system(void **bus);
int sd_notify(int unset_environment, const char *state);
int main(int argc, char **argv)
{
	void *bus = 0;
	(void)argv;
	if (argc > 5)
		return sd_bus_open_system(&bus);
	return sd_notify(0, "READY=1");
}
C
sed -e '/sd_bus_open_system/d' -e 's/if (argc > 5)//' "$T/bus.c" >"$T/notify.c"
L="$M/usr/lib/x86_64-linux-gnu"
gcc -O1 -o "$M/usr/local/bin/busprog" "$T/bus.c" -L"$L" -l:libsystemd.so.0 -Wl,--allow-shlib-undefined >"$T/cc" 2>&1 &&
	gcc -O1 -o "$M/usr/local/bin/notifyprog" "$T/notify.c" -L"$L" -l:libsystemd.so.0 -Wl,--allow-shlib-undefined >>"$T/cc" 2>&1
ok $? "two programs linked with the image's libsystemd.so.0" "$T/cc"
scope notify "$M" /usr/local/bin/notifyprog
check notify 's["all_programs"] is None'
ok $? "sd_notify only: libsystemd's exec transport is not counted" "$T/notify.check"
scope bus "$M" /usr/local/bin/busprog
check bus 's["all_programs"] is not None and "libsystemd" in s["all_programs"]'
ok $? "sd_bus_open_system: a bus address may name a program (unixexec:), the fallback, naming libsystemd's execvp" "$T/bus.check"
echo "# haproxy: $n0 allowed at entrypoint scope"
tap_end
