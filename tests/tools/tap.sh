# Shared by the shell tests (source it): TAP lines and the root filesystem of
# real Debian packages most tests start from.
#   TAP_NAME   prefix of every test line ("loader", "graph", ...; empty: none)
#   TAP_DIAG   how many lines of a failing test's diagnostic file to show (20)
#   TAP_TODO   when set, the next lines carry "# TODO $TAP_TODO" (a known bug): a failure is
#              shown but does not fail the test
n=0 failed=0
tap_tools=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

ok() { # ok EXIT-STATUS NAME [DIAG-FILE]
	n=$((n + 1))
	local name="${TAP_NAME:+$TAP_NAME: }$2" todo="${TAP_TODO:+ # TODO $TAP_TODO}"
	if [[ $1 -eq 0 ]]; then
		echo "ok $n - $name$todo"
	else
		[[ -z "$todo" ]] && failed=$((failed + 1))
		echo "not ok $n - $name$todo"
		[[ -n "${3:-}" && -f "$3" ]] && head -"${TAP_DIAG:-20}" "$3" | sed 's/^/#   /'
	fi
	return 0
}

tap_end() { # the plan line; the exit status says whether every test passed
	echo "1..$n"
	((failed == 0))
}

real_rootfs() { # real_rootfs DIR: layer 1 (libc6, busybox-static, dash, ...) then layer 2's files (coreutils, ...)
	local L
	mkdir -p "$1"
	L=$(bash "$tap_tools/realimage.sh" layers) || return 1
	cp -a "$L/layer1/." "$1/"
	tar -xf "$L/layer2.tar" -C "$1" --exclude='*.wh.*' --exclude='replace*' 2>/dev/null
	return 0
}

loader_cases() { # loader_cases ROOT TMP: compiled programs for the loader's search rules, in ROOT/opt
	# libbar <- libfoo <- rpath-app (DT_RPATH /opt/rp, inherited by libfoo), runpath-app
	# (DT_RUNPATH $ORIGIN/../lib), missing-app (needs a library the image lacks)
	local R=$1 T=$2
	mkdir -p "$R/opt/rp" "$R/opt/app/bin" "$R/opt/app/lib"
	printf 'int bar(void){return 1;}\n' >"$T/bar.c"
	printf 'int bar(void); int foo(void){return bar();}\n' >"$T/foo.c"
	printf 'int foo(void); int main(void){return foo();}\n' >"$T/app.c"
	printf 'int nothere(void); int main(void){return nothere();}\n' >"$T/miss.c"
	gcc -shared -fPIC -o "$R/opt/rp/libbar.so" "$T/bar.c" &&
		gcc -shared -fPIC -o "$R/opt/rp/libfoo.so" "$T/foo.c" -L"$R/opt/rp" -lbar &&
		gcc -o "$R/opt/app/bin/rpath-app" "$T/app.c" -L"$R/opt/rp" -lfoo -Wl,--disable-new-dtags,-rpath,/opt/rp -Wl,-rpath-link,"$R/opt/rp" &&
		cp "$R/opt/rp/libfoo.so" "$R/opt/rp/libbar.so" "$R/opt/app/lib/" &&
		gcc -o "$R/opt/app/bin/runpath-app" "$T/app.c" -L"$R/opt/app/lib" -lfoo -Wl,--enable-new-dtags,-rpath,'$ORIGIN/../lib' -Wl,-rpath-link,"$R/opt/app/lib" &&
		gcc -shared -fPIC -o "$T/libnothere.so" -x c - <<<'int nothere(void){return 0;}' &&
		gcc -o "$R/opt/app/bin/missing-app" "$T/miss.c" -L"$T" -lnothere
}

podman_private() { # podman_private DIR: a private podman store and this machine's settings
	# (../shared/notes/validation.md: runc, cgroupfs, file events, ulimits), exported for podman
	cat >"$1/storage.conf" <<EOF
[storage]
driver = "vfs"
graphroot = "$1/podman/graph"
runroot = "$1/podman/run"
EOF
	cat >"$1/containers.conf" <<'EOF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
EOF
	export CONTAINERS_STORAGE_CONF="$1/storage.conf" CONTAINERS_CONF="$1/containers.conf"
}

strace_check() { # strace_check TRACE-PREFIX PROFILE [OPENED-FILE-REGEX]: the traces TRACE-PREFIX.PID
	# one `verify --diagnose always --runtime WRAPPER` call wrote (tests/tools/e2e.py wrapper
	# --each: the enforcing run's and the diagnosis run's): exactly two, every syscall of the
	# container's process tree in each handled by PROFILE (e2e.py trace), and, when given, a
	# successful openat of a file matching the regex in each. Details in TRACE-PREFIX.check
	local t nt=0 bad=0
	: >"$1.check"
	for t in "$1".[0-9]*; do
		[[ -f $t ]] || continue
		nt=$((nt + 1))
		echo "--- $t" >>"$1.check"
		python3 "$tap_tools/e2e.py" trace "$t" --profile "$2" >>"$1.check" 2>&1 || bad=1
		if [[ -n ${3:-} ]] && ! grep -qE "^[0-9]+ +openat\(AT_FDCWD, \"[^\"]*$3\", O_RDONLY\|O_CLOEXEC\) = [0-9]+" "$t"; then
			echo "no successful openat of $3 in $t" >>"$1.check"
			bad=1
		fi
	done
	echo "$nt traces (want 2: the enforcing run and the diagnosis run)" >>"$1.check"
	[[ $nt -eq 2 && $bad -eq 0 ]]
}
