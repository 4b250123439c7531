#!/usr/bin/env bash
# Prints the path of the pinned Zig toolchain, cgo's C compiler for every cross-built
# release target, installing it first from PyPI's ziglang wheel into a cache outside the
# repository (${XDG_CACHE_HOME:-~/.cache}/dllm/zig-VERSION).
set -euo pipefail
version=0.17.1
dir=${XDG_CACHE_HOME:-$HOME/.cache}/dllm/zig-$version
zig=$dir/ziglang/zig
# Both the program and its library must be there (a cleaner may have pruned the cache).
if [ ! -x "$zig" ] || [ ! -f "$dir/ziglang/lib/std/std.zig" ]; then
	python=${PYTHON:-python3}
	if ! "$python" -m pip --version >/dev/null 2>&1; then
		echo "zig.sh: $python has no pip, needed to fetch ziglang==$version (apt-get install -y python3-pip)" >&2
		exit 1
	fi
	echo "zig.sh: installing ziglang==$version into $dir" >&2
	rm -rf "$dir.partial"
	"$python" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
		--no-deps --target "$dir.partial" "ziglang==$version" >&2
	# An interrupted install leaves only the .partial folder, never a broken cache.
	rm -rf "$dir"
	mv "$dir.partial" "$dir"
fi
# Go's c-archive step runs one archiver program; Zig's must write the archive, because
# only it gives Mach-O members the symbol table (__.SYMDEF) Apple's linker reads.
# zig-ar, next to ziglang/, is that program.
if [ ! -x "$dir/zig-ar" ]; then
	printf '#!/bin/sh\nexec "%s" ar "$@"\n' "$zig" >"$dir/zig-ar"
	chmod +x "$dir/zig-ar"
fi
echo "$zig"
