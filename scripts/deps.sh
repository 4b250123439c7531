#!/usr/bin/env bash
# Installs what `make test` needs and this machine lacks (the first stage of `make test`).
# Run as root on Debian or Ubuntu, it apt-installs the missing packages; otherwise it stops
# at once, printing the one command that installs them. Go, Rust and Python come from
# their own installers and are only checked.
set -euo pipefail

apt=()  # Debian packages that provide a missing tool
other=() # missing tools apt does not provide in a usable version
has() { command -v "$1" >/dev/null 2>&1; }
need() { # PACKAGE CHECK...: the package is missing when the check fails
	local pkg=$1
	shift
	"$@" || apt+=("$pkg")
}

has go || other+=("Go $(sed -n 's/^go //p' "$(dirname "$0")/../go.mod") or later: https://go.dev/dl")
has cargo || other+=("Rust (cargo): https://rustup.rs")
need python3 has python3
need git has git
need gcc has gcc
need make has make
need pkg-config has pkg-config
need binutils has readelf
need binutils-aarch64-linux-gnu has aarch64-linux-gnu-objdump
need qemu-user has qemu-aarch64
need gcc-aarch64-linux-gnu has aarch64-linux-gnu-gcc
need libc6-dev-arm64-cross test -f /usr/aarch64-linux-gnu/include/stdio.h
# The windows/amd64 and darwin/arm64 checks (mk/dist.mk): Wine runs the Windows builds.
need file has file
need llvm has llvm-nm
need wine has wine
need wine64 test -e /usr/lib/wine/wine64
need chromium has chromium
# Fresh virtual environments with pip (Debian splits venv and ensurepip out of python3).
if has python3 && ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
	apt+=(python3-venv)
fi
# pip fetches Zig, the C compiler of the cross builds (scripts/zig.sh).
if has python3 && ! python3 -m pip --version >/dev/null 2>&1; then
	apt+=(python3-pip)
fi

if [ ${#other[@]} -gt 0 ]; then
	printf 'deps: install %s\n' "${other[@]}" >&2
	exit 1
fi
if [ ${#apt[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ] || ! has apt-get; then
		echo "deps: missing packages; install them with:" >&2
		echo "  sudo apt-get install -y ${apt[*]}" >&2
		exit 1
	fi
	echo "deps: apt-get install ${apt[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${apt[@]}" >/dev/null
fi
# Zig comes from PyPI once, into a cache outside the repository.
"$(dirname "$0")/zig.sh" >/dev/null
echo "deps: everything make test needs is installed"
