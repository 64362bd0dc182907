#!/usr/bin/env bash
# dlopen rules (src/lib/scope/dlrules.c) on real Debian 12 packages: a root filesystem
# unpacked with apt-get download + dpkg-deb -x (cached under
# ${DG_FIXTURES:-build/fixtures}), with what the packages' maintainer scripts
# would add (/etc/nsswitch.conf from base-files, a2enmod's and phpenmod's links,
# php.ini), an ld.so.cache made by the host's ldconfig -r, then the unit test
# program in its real-root mode (DG_DLRULES_ROOT) prints what each rule finds.
# Usage: test_dlrules.sh DOCKERGATE   (prints TAP; the unit test binary is found
# next to DOCKERGATE, in tests/)
set -uo pipefail
DG=${1:?dockergate}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
BIN="$(dirname "$DG")/tests/test_dlrules"
TAP_NAME="dlrules" TAP_DIAG=40
. "$here/../tools/tap.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/dg-dlrules.XXXXXX")
trap 'rm -rf "$T"' EXIT
F=${DG_FIXTURES:-$repo/build/fixtures}
mkdir -p "$F/debs"
if [[ ! -x "$BIN" ]]; then
	echo "not ok 1 - $BIN not built (make unit)"
	exit 1
fi

pkgs=(libc6 libgcc-s1 libnss-myhostname libnss-systemd nginx nginx-common libnginx-mod-stream
	apache2 apache2-bin python3.11-minimal libpython3.11-minimal libpython3.11-stdlib perl-base
	php8.2-cli php8.2-common lighttpd mosquitto haproxy libssl3 openssl)
fetch() {
	local p
	for p in "${pkgs[@]}"; do
		ls "$F/debs/${p}"_*.deb >/dev/null 2>&1 && continue
		(cd "$F/debs" && apt-get download -qq "$p" 2>/dev/null) ||
			{ apt-get update -qq >/dev/null 2>&1 && (cd "$F/debs" && apt-get download -qq "$p" 2>/dev/null); }
		ls "$F/debs/${p}"_*.deb >/dev/null 2>&1 || { echo "cannot download $p"; return 1; }
	done
}
fetch >"$T/fetch" 2>&1
ok $? "downloading ${#pkgs[@]} Debian packages" "$T/fetch"

R="$T/root"
mkdir -p "$R"
for p in "${pkgs[@]}"; do
	dpkg-deb -x "$(ls "$F/debs/${p}"_*.deb | head -1)" "$R" || echo "unpack $p failed" >>"$T/unpack"
done
# merged /usr, as Debian 12 images have it (usrmerge): /lib -> usr/lib etc.
for d in lib lib64 bin sbin; do
	if [[ -d "$R/$d" && ! -L "$R/$d" ]]; then
		mkdir -p "$R/usr/$d"
		cp -a "$R/$d/." "$R/usr/$d/" && rm -rf "${R:?}/$d"
	fi
	ln -sfn "usr/$d" "$R/$d"
done
# what the maintainer scripts do
mkdir -p "$R/etc"
cp "$R/usr/share/base-files/nsswitch.conf" "$R/etc/nsswitch.conf" 2>/dev/null ||
	printf 'passwd: files systemd\ngroup: files systemd\nhosts: files dns myhostname\n' >"$R/etc/nsswitch.conf"
# libnss-systemd and libnss-myhostname's postinst add their services
sed -i -e 's/^\(passwd:.*\)$/\1 systemd/' -e 's/^\(group:.*\)$/\1 systemd/' \
	-e 's/^\(hosts:.*\)$/\1 myhostname/' "$R/etc/nsswitch.conf"
mkdir -p "$R/etc/apache2/mods-enabled"
for m in mpm_event authz_core dir mime; do
	for e in load conf; do
		[[ -f "$R/etc/apache2/mods-available/$m.$e" ]] && ln -sfn "../mods-available/$m.$e" "$R/etc/apache2/mods-enabled/$m.$e"
	done
done
mkdir -p "$R/etc/nginx/modules-enabled"
ln -sfn /usr/share/nginx/modules-available/mod-stream.conf "$R/etc/nginx/modules-enabled/50-mod-stream.conf"
mkdir -p "$R/etc/php/8.2/cli/conf.d" "$R/etc/php/8.2/mods-available"
cp "$R/usr/lib/php/8.2/php.ini-production.cli" "$R/etc/php/8.2/cli/php.ini" 2>/dev/null
cp "$R"/usr/share/php8.2-common/common/*.ini "$R/etc/php/8.2/mods-available/" 2>/dev/null
for ini in "$R"/etc/php/8.2/mods-available/*.ini; do
	[[ -f "$ini" ]] && ln -sfn "/etc/php/8.2/mods-available/$(basename "$ini")" "$R/etc/php/8.2/cli/conf.d/20-$(basename "$ini")"
done
mkdir -p "$R/etc/mosquitto/conf.d"
echo "plugin /usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so" >"$R/etc/mosquitto/conf.d/dynsec.conf"
ldconfig -r "$R" 2>/dev/null
[[ -f "$R/etc/ld.so.cache" ]]
ok $? "root filesystem unpacked, ld.so.cache made" "$T/unpack"

DG_DLRULES_ROOT="$R" "$BIN" >"$T/out" 2>&1
ok $? "the rules run on the real root (and under ASan when built so)" "$T/out"
:

has() { # has RULE PATH-REGEX NAME
	grep -E "^# dl[a-z]+ $1 " "$T/out" >"$T/mods"
	grep -Eq "^# dlmod $1 $2( |\$)" "$T/out"
	ok $? "$3" "$T/mods"
}
lacks() {
	grep -E "^# dl[a-z]+ $1 " "$T/out" >"$T/mods"
	! grep -Eq "^# dlmod $1 $2( |\$)" "$T/out"
	ok $? "$3" "$T/mods"
}
has nss /usr/lib/x86_64-linux-gnu/libnss_systemd.so.2 "nss: libnss_systemd (named in nsswitch.conf) found through ld.so.cache"
has nss /usr/lib/x86_64-linux-gnu/libnss_myhostname.so.2 "nss: libnss_myhostname"
has nss /usr/lib/x86_64-linux-gnu/libnss_files.so.2 "nss: libnss_files (glibc 2.36 stub) included when present"
grep -q "^# dlmod nss .*ld.so.cache" "$T/out"
ok $? "nss: found through the image's ld.so.cache" "$T/mods"
has gconv '/usr/lib/x86_64-linux-gnu/gconv/UTF-16.so' "gconv: UTF-16.so"
has gconv '/usr/lib/x86_64-linux-gnu/gconv/ISO8859-1.so' "gconv: ISO8859-1.so"
ngconv=$(grep -c '^# dlmod gconv ' "$T/out")
nreal=$(find "$R/usr/lib/x86_64-linux-gnu/gconv" -name '*.so' -type f | wc -l)
[[ $ngconv -eq $nreal ]]
ok $? "gconv: every module of the directory ($ngconv of $nreal; the cache exists)" "$T/mods"
has libgcc /usr/lib/x86_64-linux-gnu/libgcc_s.so.1 "libgcc: libgcc_s.so.1"
has nginx /usr/lib/nginx/modules/ngx_stream_module.so "nginx: ngx_stream_module.so from modules-enabled/50-mod-stream.conf"
has apache2 /usr/lib/apache2/modules/mod_mpm_event.so "apache2: mod_mpm_event.so from mods-enabled"
has apache2 /usr/lib/apache2/modules/mod_authz_core.so "apache2: mod_authz_core.so"
lacks apache2 /usr/lib/apache2/modules/mod_ssl.so "apache2: a module not enabled is not included"
has lighttpd /usr/lib/lighttpd/mod_dirlisting.so "lighttpd: mod_dirlisting.so (server.modules of Debian's lighttpd.conf)"
lacks lighttpd /usr/lib/lighttpd/mod_cgi.so "lighttpd: a module not enabled (10-cgi.conf is only available) is not included"
has mosquitto /usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so "mosquitto: the plugin conf.d names"
lacks haproxy '.*' "haproxy: Debian's haproxy.cfg has no lua-load and no opentracing filter: no module"
has openssl /usr/lib/x86_64-linux-gnu/engines-3/afalg.so "openssl: the afalg engine (ENGINESDIR, libssl3)"
has openssl /usr/lib/x86_64-linux-gnu/ossl-modules/legacy.so "openssl: the legacy provider (MODULESDIR)"
grep -q "^# dlproblem openssl " "$T/out"
[[ $? -ne 0 ]]
ok $? "openssl: Debian's openssl.cnf (kept configuration) reads without a problem" "$T/mods"
has python3.11 '/usr/lib/python3.11/lib-dynload/_ssl\.cpython-311-x86_64-linux-gnu\.so' "python3.11: _ssl from lib-dynload"
has perl '/usr/lib/x86_64-linux-gnu/perl-base/auto/POSIX/POSIX\.so' "perl: POSIX.so (perl-base)"
has php8.2 '/usr/lib/php/20220829/ctype\.so' "php8.2: ctype.so (extension= in conf.d, the default extension_dir)"
grep -Eq "^# dlmod php8.2 /usr/lib/php/20220829/ctype\.so php \(php8.2\)" "$T/out"
ok $? "php8.2: ctype.so named by the configuration rule, not only by the directory walk" "$T/mods"
nall=$(grep -c '^# dlmod all ' "$T/out")
[[ $nall -gt 300 ]]
ok $? "all: every shared object of the image ($nall)" "$T/mods"
# the same tree as a two-layer docker-archive (configuration kept by the layer reader, not
# only by the rootfs walk): the same answers
mkdir -p "$T/l2/etc"
mv "$R/etc/nginx" "$R/etc/php" "$T/l2/etc/"
python3 "$here/../tools/mkimg.py" --format docker-archive --compress gzip --out "$T/img.tar" "$R" "$T/l2" >"$T/mk" 2>&1 &&
	DG_DLRULES_ROOT="$T/img.tar" "$BIN" >"$T/out2" 2>&1
ok $? "the rules run on the same tree as a layered docker-archive" "$T/mk"
diff <(grep '^# dl' "$T/out") <(grep '^# dl' "$T/out2") >"$T/diff"
ok $? "the docker-archive gives the same modules, reasons and problems" "$T/diff"

# what the configuration-driven rules found, and every problem line
grep -E '^# dlmod ' "$T/out" | grep -Ev '^# dlmod (all|gconv) | interp: ' | cut -c1-240
grep '^# dlproblem' "$T/out" | head -40
grep -E '^# dlmod [a-z0-9.]+ ' "$T/out" | awk '{print $3}' | sort | uniq -c | sed 's/^/# count /'
tap_end
