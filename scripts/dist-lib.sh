# Shared by scripts/dist.sh and scripts/test-windows.sh (sourced from the repository
# root): cross builds of libdllm and the dllm command with Zig as cgo's C compiler.

HEADER=include/dllm.h

# use_zig installs the pinned Zig when missing and sets ZIG and ZIG_AR for the builds.
use_zig() {
	ZIG=$(scripts/zig.sh)
	ZIG_AR=${ZIG%/ziglang/zig}/zig-ar
}

# The release version is the header's: DLLM_VERSION_MAJOR.MINOR.PATCH.
dllm_version() {
	local part v=
	for part in MAJOR MINOR PATCH; do
		v=$v${v:+.}$(sed -nE "s/^#define DLLM_VERSION_$part ([0-9]+).*/\1/p" "$HEADER")
	done
	if ! [[ $v =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
		echo "dist: no DLLM_VERSION_MAJOR/MINOR/PATCH in $HEADER" >&2
		return 1
	fi
	echo "$v"
}

# The functions the header declares (its DLLM_API lines), one per line, sorted.
declared_functions() {
	grep -E '^DLLM_API ' "$HEADER" | sed -E 's/^DLLM_API[^(]*[ *]([A-Za-z_0-9]+)\(.*/\1/' | sort -u
}

# Zig's target for GOOS/GOARCH. The C library floors are the oldest each Go release still
# runs on (glibc 2.28 covers every maintained distribution; Go 1.26 needs macOS 12).
zig_target() {
	case $1/$2 in
	linux/amd64) echo x86_64-linux-gnu.2.28 ;;
	linux/arm64) echo aarch64-linux-gnu.2.28 ;;
	windows/amd64) echo x86_64-windows-gnu ;;
	darwin/amd64) echo x86_64-macos.12.0 ;;
	darwin/arm64) echo aarch64-macos.12.0 ;;
	*)
		echo "dist: no C toolchain for $1/$2" >&2
		return 1
		;;
	esac
}

# build_lib GOOS GOARCH c-shared|c-archive OUT: libdllm (cgo), without local paths.
build_lib() {
	local target
	target=$(zig_target "$1" "$2")
	mkdir -p "$(dirname "$4")"
	CGO_ENABLED=1 GOOS=$1 GOARCH=$2 CC="$ZIG cc -target $target" \
		go build -trimpath -ldflags="-s -w -extar=$ZIG_AR" -buildmode="$3" -o "$4" ./capi
}

# build_cli GOOS GOARCH OUT: the dllm command, pure Go, so it needs no C toolchain.
build_cli() {
	mkdir -p "$(dirname "$3")"
	CGO_ENABLED=0 GOOS=$1 GOARCH=$2 go build -trimpath -ldflags="-s -w" -o "$3" ./examples/dllm
}

# windows_import_libs DIR: the module-definition file dllm.def (the header's functions)
# and the import library for dllm.dll, as dllm.lib (MSVC's name) and libdllm.dll.a
# (MinGW's name for -ldllm); Zig's dlltool writes the short import format both read.
windows_import_libs() {
	{
		echo "LIBRARY dllm.dll"
		echo "EXPORTS"
		declared_functions | sed 's/^/	/'
	} >"$1/dllm.def"
	"$ZIG" dlltool -m i386:x86-64 -D dllm.dll -d "$1/dllm.def" -l "$1/dllm.lib"
	cp "$1/dllm.lib" "$1/libdllm.dll.a"
}

# need COMMAND:PACKAGES...: installs the Debian packages of the missing commands when run
# as root, else fails naming the one command that installs them.
need() {
	local pair pkgs=()
	for pair in "$@"; do
		# shellcheck disable=SC2206 # a command may need several packages: "wine:wine wine64"
		command -v "${pair%%:*}" >/dev/null || pkgs+=(${pair#*:})
	done
	[ ${#pkgs[@]} -gt 0 ] || return 0
	if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
		echo "missing ${pkgs[*]}: apt-get install -y ${pkgs[*]}" >&2
		return 1
	fi
	echo "installing ${pkgs[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq "${pkgs[@]}" >&2 ||
		{ apt-get update -qq && apt-get install -y -qq "${pkgs[@]}"; } >&2
}
