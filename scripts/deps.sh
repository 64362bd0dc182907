#!/usr/bin/env bash
# Installs what dockergate needs from Debian's packages (Debian 12).
#   scripts/deps.sh          build dependencies
#   scripts/deps.sh --test   build + test dependencies (real images: mmdebstrap for the end-to-end
#                            images of tests/tools/e2eimage.py; podman, runc, crun, umoci, skopeo;
#                            gnuplot for the end-to-end chart; git and psql, the clients of
#                            tests/e2e/test_servers.py)
#   scripts/deps.sh --fuzz   build + fuzzing dependencies (clang and its libFuzzer runtime)
#   scripts/deps.sh --bench  build + benchmark dependencies (mmdebstrap, GNU time)
# Only missing packages are installed; a machine that has them all is left alone.
set -euo pipefail
pkgs=(build-essential pkg-config libarchive-dev libjansson-dev libssl-dev libsqlite3-dev libcapstone-dev libseccomp-dev python3)
case "${1:-}" in
--test) pkgs+=(zstd mmdebstrap podman runc crun conmon skopeo umoci uidmap dpkg-dev ca-certificates graphviz musl-tools sqlite3 strace curl binutils groff-base gnuplot-nox git postgresql-client) ;;
--fuzz) pkgs+=(clang libclang-rt-14-dev zstd) ;;
--bench) pkgs+=(zstd mmdebstrap time dpkg-dev ca-certificates) ;;
esac
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0
sudo=()
[[ $(id -u) -ne 0 ]] && sudo=(sudo)
echo "deps: installing ${missing[*]}" >&2
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
