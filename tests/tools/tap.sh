# Shared by the shell tests (source it): TAP lines and the root filesystem of
# real Debian packages most tests start from.
#   TAP_NAME   prefix of every test line ("loader", "graph", ...; empty: none)
#   TAP_DIAG   how many lines of a failing test's diagnostic file to show (20)
n=0 failed=0
tap_tools=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

ok() { # ok EXIT-STATUS NAME [DIAG-FILE]
	n=$((n + 1))
	local name="${TAP_NAME:+$TAP_NAME: }$2"
	if [[ $1 -eq 0 ]]; then
		echo "ok $n - $name"
	else
		failed=$((failed + 1))
		echo "not ok $n - $name"
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
