#!/usr/bin/env bash
# Cross-builds libdllm for linux/arm64 (cgo with gcc-aarch64-linux-gnu) and runs the C
# example, the misuse test and the micro generation goldens under qemu-aarch64; the
# example's tokens must equal those of the host build (build/example, made first).
#
# Needs: apt-get install -y gcc-aarch64-linux-gnu qemu-user
set -euo pipefail
cd "$(dirname "$0")/.."
cc=${CC_ARM64:-aarch64-linux-gnu-gcc}
sysroot=${ARM64_SYSROOT:-/usr/aarch64-linux-gnu}
for tool in "$cc" qemu-aarch64; do
	if ! command -v "$tool" >/dev/null; then
		echo "test-capi-arm64: $tool not found (apt-get install -y gcc-aarch64-linux-gnu qemu-user)" >&2
		exit 1
	fi
done
out=build/arm64
mkdir -p "$out"

CC=$cc CGO_ENABLED=1 GOOS=linux GOARCH=arm64 go build -buildmode=c-shared -o "$out/libdllm.so" ./capi
cflags=(-std=c11 -Wall -Wextra -Werror -g -Iinclude)
"$cc" "${cflags[@]}" examples/c/main.c -L"$out" -ldllm -Wl,-rpath,'$ORIGIN' -o "$out/example"
"$cc" "${cflags[@]}" examples/c/misuse.c -L"$out" -ldllm -lpthread -lm -Wl,-rpath,'$ORIGIN' -o "$out/misuse"
"$cc" "${cflags[@]}" examples/c/goldens.c -L"$out" -ldllm -lm -Wl,-rpath,'$ORIGIN' -o "$out/goldens"
if ! readelf -h "$out/libdllm.so" | grep -q AArch64; then
	echo "test-capi-arm64: $out/libdllm.so is not an AArch64 library" >&2
	exit 1
fi
scripts/check-capi-symbols.sh "$out/libdllm.so" include/dllm.h

run() { qemu-aarch64 -L "$sysroot" "$@"; }
echo "== arm64: C example on the micro model"
run "$out/example" --raw --max-tokens 32 testdata/llada2-micro/hf "Once upon a time"
echo "== arm64: misuse test"
run "$out/misuse" testdata/llada2-micro/hf 2>"$out/misuse.err" || { cat "$out/misuse.err"; exit 1; }

echo "== arm64: generation goldens (LLaDA2.0 and 2.1) through the step callback"
run "$out/goldens" testdata/llada2-micro/hf testdata/llada2-micro/golden/gen_v2*.json

# The same tokens as on this machine: the NEON and AVX2 kernels round differently, but
# not enough to change a decision on the micro model (its goldens' margins are ≥ 1.6e-4).
if [ ! -x build/example ]; then
	echo "test-capi-arm64: build/example not found (make build/example)" >&2
	exit 1
fi
a=$(run "$out/example" --json --raw --max-tokens 32 testdata/llada2-micro/hf "Once upon a time")
b=$(build/example --json --raw --max-tokens 32 testdata/llada2-micro/hf "Once upon a time")
if [ "$a" != "$b" ]; then
	echo "test-capi-arm64: arm64 and host tokens differ:" >&2
	echo "  arm64: $a" >&2
	echo "  host:  $b" >&2
	exit 1
fi
echo "test-capi-arm64: arm64 and host generate the same tokens"
