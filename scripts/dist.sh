#!/usr/bin/env bash
# Builds the release archives under build/dist/ from this (Linux) machine, one per
# platform, named dllm-VERSION-OS-ARCH (VERSION from include/dllm.h), and SHA256SUMS:
#
#   linux/amd64, linux/arm64   bin/dllm, lib/libdllm.so, lib/libdllm.a, lib/pkgconfig/dllm.pc
#   windows/amd64 (.zip)       bin/dllm.exe, bin/dllm.dll, lib/dllm.lib (MSVC),
#                              lib/libdllm.dll.a (MinGW), lib/dllm.def
#   darwin/arm64, darwin/amd64 bin/dllm, lib/libdllm.a
#   android/arm64              bin/dllm (the library needs the Android NDK: docs/PLATFORMS.md)
#
# and in each include/dllm.h, README.md and the licence. Every binary is checked for
# format, architecture and exported symbols (scripts/check-dist-artefact.sh). Zig, from
# PyPI, is the C compiler of every cgo build (scripts/zig.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/dist-lib.sh
use_zig
version=$(dllm_version)
out=build/dist
work=$out/work
rm -rf "$out"
mkdir -p "$work"
licence=$(ls LICENSE LICENSE.* LICENCE COPYING 2>/dev/null | head -n 1 || true)
if [ -z "$licence" ]; then
	echo "dist: WARNING: the repository has no LICENSE file; each archive's README says the licence is not yet chosen" >&2
fi
# Archive members carry the last commit's time, so rebuilding one commit gives the same bytes.
epoch=$(git log -1 --format=%ct 2>/dev/null || date +%s)

# readme OS ARCH: the archive's README, with how to link the library on that platform.
readme() {
	cat <<-EOT
		# dllm $version for $1/$2

		dllm runs LLaDA2 diffusion language models on CPUs. This archive holds:

	EOT
	case $1 in
	windows)
		cat <<-'EOT'
			- `bin/dllm.exe`: the `dllm` command (`dllm generate -p "What is 3+4?"` runs the
			  built-in demo model)
			- `bin/dllm.dll`: the library; `include/dllm.h` declares its C interface
			- `lib/dllm.lib`: import library for MSVC (`link ... dllm.lib`, or in CMake
			  `target_link_libraries(app dllm.lib)`), also read by clang and MinGW
			- `lib/libdllm.dll.a`: the same import library under MinGW's name
			  (`gcc main.c -Iinclude -Llib -ldllm`)
			- `lib/dllm.def`: the exported functions, for tools that make their own import library

			Ship `dllm.dll` next to your program. It needs Windows 10 or later (x64).
		EOT
		;;
	linux)
		cat <<-'EOT'
			- `bin/dllm`: the `dllm` command (`dllm generate -p "What is 3+4?"` runs the
			  built-in demo model)
			- `lib/libdllm.so` and `lib/libdllm.a`: the library; `include/dllm.h` declares
			  its C interface
			- `lib/pkgconfig/dllm.pc`: `PKG_CONFIG_PATH=$PWD/lib/pkgconfig pkg-config --cflags --libs dllm`
			  (add `--static` for libdllm.a)

			Shared: `cc main.c -Iinclude -Llib -ldllm -Wl,-rpath,'$ORIGIN/../lib'`.
			Static: `cc main.c -Iinclude lib/libdllm.a -lpthread -lm`. Needs glibc 2.28 or later.
		EOT
		;;
	darwin)
		cat <<-'EOT'
			- `bin/dllm`: the `dllm` command (`dllm generate -p "What is 3+4?"` runs the
			  built-in demo model); signed ad hoc, not notarized: `xattr -d com.apple.quarantine bin/dllm`
			  if macOS refuses a downloaded copy
			- `lib/libdllm.a`: the library (static); `include/dllm.h` declares its C interface

			Link: `clang main.c -Iinclude lib/libdllm.a -framework CoreFoundation -framework Security -lresolv`.
			In Xcode add libdllm.a to "Link Binary With Libraries", the include folder to
			"Header Search Paths", and CoreFoundation, Security and libresolv.tbd.
			Needs macOS 12 or later. libdllm.dylib is built on a Mac (see the project's
			docs/PLATFORMS.md): it needs the macOS SDK.
		EOT
		;;
	android)
		cat <<-'EOT'
			- `bin/dllm`: the `dllm` command for arm64-v8a devices (run it from `adb shell`
			  after `adb push bin/dllm /data/local/tmp/`)

			The library for apps (libdllm.so for jniLibs/arm64-v8a) is built with the
			Android NDK: see the project's docs/PLATFORMS.md.
		EOT
		;;
	esac
	echo
	if [ -n "$licence" ]; then
		echo "Licence: see $licence."
	else
		echo "Licence: not yet chosen. Until the project publishes one, no licence is granted."
	fi
}

# pkgconfig VERSION: relocatable pkg-config file (paths relative to the .pc file).
pkgconfig() {
	cat <<-EOT
		prefix=\${pcfiledir}/../..
		libdir=\${prefix}/lib
		includedir=\${prefix}/include

		Name: dllm
		Description: CPU inference for LLaDA2 diffusion language models
		Version: $version
		Libs: -L\${libdir} -ldllm
		Libs.private: -lpthread -lm -ldl
		Cflags: -I\${includedir}
	EOT
}

archives=()
# dist_platform OS ARCH: build, check and pack one platform.
dist_platform() {
	local os=$1 arch=$2 name="dllm-$version-$1-$2" exe=
	local dir=$work/$name t0=$SECONDS
	[ "$os" = windows ] && exe=.exe
	mkdir -p "$dir/bin" "$dir/lib" "$dir/include"
	build_cli "$os" "$arch" "$dir/bin/dllm$exe"
	scripts/check-dist-artefact.sh "$os/$arch" cli "$dir/bin/dllm$exe"
	# cgo writes its own header next to each library; only include/dllm.h is shipped.
	local tmp=$work/tmp-$os-$arch
	case $os in
	linux)
		build_lib "$os" "$arch" c-shared "$tmp/libdllm.so"
		build_lib "$os" "$arch" c-archive "$tmp/libdllm.a"
		cp "$tmp/libdllm.so" "$tmp/libdllm.a" "$dir/lib/"
		mkdir -p "$dir/lib/pkgconfig"
		pkgconfig >"$dir/lib/pkgconfig/dllm.pc"
		scripts/check-dist-artefact.sh "$os/$arch" shared "$dir/lib/libdllm.so"
		scripts/check-dist-artefact.sh "$os/$arch" static "$dir/lib/libdllm.a"
		;;
	windows)
		build_lib "$os" "$arch" c-shared "$tmp/dllm.dll"
		cp "$tmp/dllm.dll" "$dir/bin/"
		windows_import_libs "$dir/lib"
		scripts/check-dist-artefact.sh "$os/$arch" shared "$dir/bin/dllm.dll"
		;;
	darwin)
		build_lib "$os" "$arch" c-archive "$tmp/libdllm.a"
		cp "$tmp/libdllm.a" "$dir/lib/"
		scripts/check-dist-artefact.sh "$os/$arch" static "$dir/lib/libdllm.a"
		;;
	android) rmdir "$dir/lib" "$dir/include" ;;
	esac
	rm -rf "$tmp"
	[ ! -d "$dir/include" ] || cp "$HEADER" "$dir/include/"
	readme "$os" "$arch" >"$dir/README.md"
	[ -z "$licence" ] || cp "$licence" "$dir/"
	find "$dir" -exec touch -h -d "@$epoch" {} +
	if [ "$os" = windows ]; then
		(cd "$work" && python3 -m zipfile -c "../$name.zip" "$name")
		archives+=("$name.zip")
	else
		tar -C "$work" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" \
			-czf "$out/$name.tar.gz" "$name"
		archives+=("$name.tar.gz")
	fi
	echo "dist: $os/$arch packed in $((SECONDS - t0)) s"
}

dist_platform linux amd64
# The host's own build must answer the demo question before anything ships.
answer=$("$work/dllm-$version-linux-amd64/bin/dllm" generate -p "What is 3+4?" 2>/dev/null)
[ "$answer" = 7 ] || { echo "dist: linux/amd64 dllm answered '$answer' to 'What is 3+4?', want 7" >&2; exit 1; }
dist_platform linux arm64
dist_platform windows amd64
dist_platform darwin arm64
dist_platform darwin amd64
dist_platform android arm64
(cd "$out" && sha256sum "${archives[@]}" >SHA256SUMS)
rm -rf "$work"
echo "dist: not built here: darwin libdllm.dylib (needs the macOS SDK), ios/arm64 (Zig ships no iOS"
echo "      headers) and the android library (needs the NDK); docs/PLATFORMS.md has the steps."
ls -l "$out"
