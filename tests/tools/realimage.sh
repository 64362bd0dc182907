#!/usr/bin/env bash
# Real test images from Debian packages (apt-get download + dpkg-deb -x), cached
# under ${DG_FIXTURES:-build/fixtures}/<recipe hash>; rebuilt when this script
# or mkimg.py changes.
#   realimage.sh sample                 -> build/sample/sample.tar (busybox-static + libc6)
#   realimage.sh layers                 -> prints the directory holding layer1/ layer2.tar layer3.tar
#   realimage.sh multilayer FMT COMP    -> prints the path of the image (FMT: docker-archive,
#                                          docker25, oci, oci-archive; COMP: none, gzip, zstd)
#   realimage.sh apps                   -> prints the directory holding rootfs/ (real programs with
#                                          their whole dependency closure, merged /usr, runnable
#                                          with chroot) and apps.tar (the same as a docker-archive)
#   realimage.sh goapps                 -> the same for Debian's Go programs (caddy, age, prometheus,
#                                          etcd, docker-registry, runc, skopeo) with dash, coreutils
#                                          and curl for their workloads: rootfs/ and goapps.tar
# multilayer: layer 1 = libc6, busybox-static, dash and some plain files; layer 2 = coreutils and
# its libraries, whiteouts of a file and of a directory, an opaque directory with new content, a
# hardlink to a file that only layer 1 has, a file replacing a directory and a directory replacing
# a file; layer 3 = only whiteouts and an opaque directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
key=$(cat "$here/realimage.sh" "$here/mkimg.py" | sha256sum | cut -c1-16)
F=${DG_FIXTURES:-$repo/build/fixtures}
C="$F/$key"
mkdir -p "$C" "$F/debs"

debs() { # fetch and unpack packages into $1
	local dest=$1
	shift
	local p
	for p in "$@"; do
		ls "$F/debs/${p}"_*.deb >/dev/null 2>&1 && continue
		# a machine that never ran apt-get update has no package lists yet
		(cd "$F/debs" && apt-get download -qq "$p" 2>/dev/null) ||
			{ apt-get update -qq && (cd "$F/debs" && apt-get download -qq "$p" 2>&1 | grep -v "^W: Download is performed unsandboxed" >&2); }
		ls "$F/debs/${p}"_*.deb >/dev/null 2>&1 || { echo "realimage: cannot download $p" >&2; exit 1; }
	done
	for p in "$@"; do dpkg-deb -x "$(ls "$F/debs/${p}"_*.deb | head -1)" "$dest"; done
}

build_layers() {
	[[ -f "$C/layers.done" ]] && return 0
	rm -rf "$C/layer1" "$C/l2root"
	mkdir -p "$C/layer1" "$C/l2root"
	debs "$C/layer1" libc6 busybox-static dash
	rm -rf "$C/layer1/usr/share/man" "$C/layer1/usr/share/lintian" "$C/layer1/usr/share/locale"
	ln -sf dash "$C/layer1/bin/sh"
	for a in ls cat mkdir ash; do ln -sf busybox "$C/layer1/bin/$a"; done
	mkdir -p "$C/layer1/opt/app/sub" "$C/layer1/data/keep" "$C/layer1/replace_dir" "$C/layer1/etc"
	echo old >"$C/layer1/opt/app/old"
	echo deep >"$C/layer1/opt/app/sub/deep"
	echo lower >"$C/layer1/data/keep/lower"
	echo f >"$C/layer1/replace_dir/f"
	echo file >"$C/layer1/replace_file"
	echo box >"$C/layer1/etc/hostname"
	printf '#!/bin/sh\necho hello\n' >"$C/layer1/opt/app/run.sh"
	chmod 755 "$C/layer1/opt/app/run.sh"
	ln "$C/layer1/opt/app/run.sh" "$C/layer1/opt/app/run-hl.sh"
	chmod 4755 "$C/layer1/bin/busybox"
	debs "$C/l2root" coreutils libselinux1 libpcre2-8-0 libacl1 libattr1 libgmp10
	rm -rf "$C/l2root/usr/share"
	python3 - "$C" <<'PY'
import io, os, sys, tarfile
C = sys.argv[1]

def norm(ti):
    ti.uid = ti.gid = 0; ti.uname = ti.gname = ""; ti.mtime = 0
    return ti

def entry(t, name, type_=tarfile.REGTYPE, data=b"", linkname="", mode=0o644):
    ti = tarfile.TarInfo(name); ti.type = type_; ti.mode = mode; ti.linkname = linkname
    ti.size = len(data) if type_ == tarfile.REGTYPE else 0
    t.addfile(ti, io.BytesIO(data) if type_ == tarfile.REGTYPE else None)

D = tarfile.DIRTYPE
with tarfile.open(os.path.join(C, "layer2.tar"), "w", format=tarfile.PAX_FORMAT) as t:
    root = os.path.join(C, "l2root")
    for name in sorted(os.listdir(root)):
        t.add(os.path.join(root, name), arcname=name, filter=norm)
    entry(t, "bin/.wh.ash")                        # whiteout of a layer-1 symlink
    entry(t, "usr/share", D, mode=0o755)
    entry(t, "usr/share/.wh.doc")                  # whiteout of a whole layer-1 directory
    entry(t, "opt", D, mode=0o755)
    entry(t, "opt/app", D, mode=0o755)
    entry(t, "opt/app/.wh..wh..opq")               # opaque: hides old, sub/, run.sh, run-hl.sh
    entry(t, "opt/app/new", data=b"new\n")
    entry(t, "usr/bin/busybox-hl", tarfile.LNKTYPE, linkname="bin/busybox", mode=0o4755)  # only layer 1 has it
    entry(t, "replace_dir", data=b"now a file\n")  # file replaces a directory
    entry(t, "replace_file", D, mode=0o750)        # directory replaces a file
    entry(t, "replace_file/inside", data=b"x\n")
with tarfile.open(os.path.join(C, "layer3.tar"), "w", format=tarfile.PAX_FORMAT) as t:
    entry(t, "bin", D, mode=0o755)
    entry(t, "bin/.wh.cat")                        # removes coreutils' cat from layer 2
    entry(t, "data", D, mode=0o755)
    entry(t, "data/.wh..wh..opq")                  # data/ becomes empty
    entry(t, "etc", D, mode=0o755)
    entry(t, "etc/.wh.hostname")
PY
	rm -rf "$C/l2root"
	touch "$C/layers.done"
}

# packages apt-get lists as dependencies only for their maintainer scripts (nothing runs them
# here) or for data the test programs do not read
apps_skip="adduser debconf cdebconf debconf-2.0 install-info dpkg passwd lsb-base sysvinit-utils
 init-system-helpers perl perl-base perl-modules-5.36 libperl5.36 iproute2 mailcap media-types
 mime-support gawk original-awk"
apps_pkgs="libc6 base-files bash dash coreutils tar gzip grep sed findutils python3.11-minimal
 libpython3.11-minimal libpython3.11-stdlib nginx nginx-common redis-server redis-tools curl openssl
 busybox-static"

closure() { # closure SKIP PKG...: the packages with their Depends/Pre-Depends, first usable alternative
	python3 - "$@" <<'PY'
import subprocess, sys
skip = set(sys.argv[1].split())
seen, queue = set(), sys.argv[2:]
while queue:
    batch = [p for p in dict.fromkeys(queue) if p not in seen]
    queue = []
    seen.update(batch)
    if not batch:
        break
    out = subprocess.run(["apt-cache", "depends", "--no-recommends", "--no-suggests", "--no-conflicts",
                          "--no-breaks", "--no-replaces", "--no-enhances"] + batch,
                         capture_output=True, text=True, check=True).stdout.splitlines()
    groups, cur, last = [], [], None   # a group: the alternatives of one dependency
    for line in out:
        if not line.startswith(" "):
            continue
        if line.startswith("    "):    # a package providing the virtual one above
            last[1].append(line.strip())
            continue
        name = line.strip(" |").partition(": ")[2]
        last = (name, [])
        cur.append(last)
        if not line.startswith(" |"):
            groups.append(cur)
            cur = []
    for g in groups:
        cands = [c.split(":")[0] for name, prov in g for c in (prov if name.startswith("<") else [name])]
        cands = [c for c in cands if c not in skip]
        if cands and not any(c in seen for c in cands):
            queue.append(cands[0])
print(" ".join(sorted(seen)))
PY
}

# Go programs as Debian 12 ships them (all dynamically linked: cgo for the resolver, runc and
# skopeo for libseccomp / gpgme / devmapper); curl, coreutils and dash run their workloads
goapps_skip="$apps_skip fonts-glyphicons-halflings libjs-bootstrap4 libjs-eonasdan-bootstrap-datetimepicker
 libjs-jquery libjs-jquery-hotkeys libjs-moment libjs-moment-timezone libjs-mustache libjs-popper.js libjs-rickshaw
"
goapps_pkgs="libc6 base-files dash coreutils grep sed curl ca-certificates caddy age prometheus etcd-server
 etcd-client docker-registry runc skopeo"

build_apps() { # build_apps NAME SKIP PKGS: $C/NAME/rootfs and $C/NAME/NAME.tar
	local name=$1 skip=$2 pkgs=$3
	[[ -f "$C/$name.done" ]] && return 0
	local R="$C/$name/rootfs" pk d
	rm -rf "${C:?}/$name"
	mkdir -p "$R"
	pk=$(closure "$skip" $pkgs) || { apt-get update -qq && pk=$(closure "$skip" $pkgs); }
	local missing=()
	for d in $pk; do ls "$F/debs/${d}"_*.deb >/dev/null 2>&1 || missing+=("$d"); done
	if ((${#missing[@]})); then # one apt-get for all of them (debs fetches one at a time)
		(cd "$F/debs" && apt-get download -qq "${missing[@]}" 2>/dev/null) || true
	fi
	debs "$R" $pk
	# merged /usr as Debian 12 installs it (/bin -> usr/bin, ...; /lib64 holds the loader's link)
	for d in bin sbin lib lib64; do
		mkdir -p "$R/usr/$d"
		if [[ -d "$R/$d" && ! -L "$R/$d" ]]; then
			cp -a "$R/$d/." "$R/usr/$d/"
			rm -rf "${R:?}/$d"
		fi
		ln -sfn "usr/$d" "$R/$d"
	done
	rm -rf "$R/usr/share/doc" "$R/usr/share/man" "$R/usr/share/locale" "$R/usr/share/info" \
		"$R/usr/share/lintian" "$R/usr/share/bug"
	[[ -e "$R/usr/bin/python3.11" ]] && ln -sf python3.11 "$R/usr/bin/python3"
	ln -sf dash "$R/usr/bin/sh"
	# what base-passwd and the maintainer scripts would have made
	printf 'root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\nredis:x:100:101::/var/lib/redis:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$R/etc/passwd"
	printf 'root:x:0:\nwww-data:x:33:\nredis:x:101:\nnogroup:x:65534:\n' >"$R/etc/group"
	mkdir -p "$R/tmp" "$R/root" "$R/var/lib/nginx" "$R/var/log/nginx" "$R/var/lib/redis" "$R/run" "$R/dev" "$R/proc"
	chmod 1777 "$R/tmp"
	if [[ $name == goapps ]]; then # an image for skopeo's workload to copy; /sys for runc's cgroup root
		mkdir -p "$R/srv" "$R/sys" "$C/$name/tiny/bin"
		echo tiny >"$C/$name/tiny/bin/hello"
		python3 "$here/mkimg.py" --format docker-archive --out "$R/srv/tiny.tar" --tag localhost/tiny:1 \
			--entrypoint '["/bin/hello"]' "$C/$name/tiny"
	fi
	ldconfig -r "$R"
	python3 "$here/mkimg.py" --format docker-archive --out "$C/$name/$name.tar" --tag "localhost/dockergate-$name:1" \
		--entrypoint '["/bin/sh","-c"]' --cmd '["ls /"]' \
		--env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$R"
	touch "$C/$name.done"
}

case "${1:-}" in
sample)
	out="$repo/build/sample"
	mkdir -p "$out"
	if [[ ! -f "$out/sample.tar" || "$out/sample.tar" -ot "$here/realimage.sh" ]]; then
		rm -rf "$out/root"
		mkdir -p "$out/root"
		debs "$out/root" busybox-static libc6
		rm -rf "$out/root/usr/share/man" "$out/root/usr/share/locale"
		ln -sf busybox "$out/root/bin/sh"
		python3 "$here/mkimg.py" --format docker-archive --compress gzip --out "$out/sample.tar" \
			--tag localhost/dockergate-sample:1 --entrypoint '["/bin/sh","-c"]' --cmd '["ls /"]' \
			--env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$out/root"
		rm -rf "$out/root"
	fi
	echo "$out/sample.tar"
	;;
layers)
	build_layers
	echo "$C"
	;;
multilayer)
	fmt=${2:?format}
	comp=${3:-none}
	build_layers
	ext=.tar
	[[ "$fmt" == oci ]] && ext=""
	img="$C/multilayer-$fmt-$comp$ext"
	if [[ ! -e "$img" ]]; then
		python3 "$here/mkimg.py" --format "$fmt" --compress "$comp" --out "$img" --tag localhost/multilayer:1 \
			--entrypoint '["/bin/sh","-c"]' --cmd '["ls /"]' --workdir /opt/app \
			--env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			"$C/layer1" "$C/layer2.tar" "$C/layer3.tar"
	fi
	echo "$img"
	;;
apps)
	build_apps apps "$apps_skip" "$apps_pkgs"
	echo "$C/apps"
	;;
goapps)
	build_apps goapps "$goapps_skip" "$goapps_pkgs"
	echo "$C/goapps"
	;;
*)
	echo "usage: realimage.sh sample | layers | multilayer FMT [COMP] | apps | goapps" >&2
	exit 2
	;;
esac
