#!/bin/sh
# Cross-build the kernels tests for arm64 and run them under qemu-user, so the NEON
# assembly is exercised on machines without arm64 hardware. -test.short trims the
# large shapes (qemu runs SIMD code ~50x slower than native).
#
# Usage: scripts/test-arm64.sh [extra test flags…]
set -eu

cd "$(dirname "$0")/.."

if [ "$(go env GOHOSTARCH)" = arm64 ]; then
	exec go test ./kernels/... "$@"
fi

QEMU=${QEMU:-qemu-aarch64}
if ! command -v "$QEMU" >/dev/null 2>&1; then
	echo "test-arm64: $QEMU not found (apt-get install -y qemu-user)" >&2
	exit 1
fi

bin=$(mktemp "${TMPDIR:-/tmp}/kernels.arm64.XXXXXX")
trap 'rm -f "$bin"' EXIT INT TERM

GOARCH=arm64 CGO_ENABLED=0 go vet ./kernels/
GOARCH=arm64 CGO_ENABLED=0 go test -c -o "$bin" ./kernels/

# The WORD-encoded instructions (SDOT, SCVTF, FCVTL) must disassemble as intended.
OBJDUMP=${OBJDUMP:-aarch64-linux-gnu-objdump}
if command -v "$OBJDUMP" >/dev/null 2>&1; then
	"$OBJDUMP" -d "$bin" >"$bin.dis"
	for check in gemmQ8_0x4NEON:sdot gemmQ8_0x4NEON:scvtf gemmQ4_Kx4NEON:sdot \
		gemvQ6_KNEON:sdot gemmF16x4NEON:fcvtl gemmF16x4NEON:fcvtl2 sumSquaresNEON:fcvtl2; do
		fn=${check%%:*} op=${check#*:}
		if ! awk "/<github.com\\/dllm-go\\/dllm\\/kernels.$fn.abi0>:/,/^\$/" "$bin.dis" | grep -q "	$op	"; then
			echo "test-arm64: $op not found in $fn" >&2
			rm -f "$bin.dis"
			exit 1
		fi
	done
	rm -f "$bin.dis"
else
	echo "test-arm64: $OBJDUMP not found, WORD encodings not checked" >&2
fi

# The test binary runs from the package directory, like go test does. qemu's default
# CPU has DotProd, so both NEON implementations must run.
(cd kernels && KERNELS_REQUIRE=neon,neon-dotprod "$QEMU" "$bin" -test.short "$@")
GOARCH=arm64 CGO_ENABLED=0 go test -c -tags purego -o "$bin" ./kernels/
(cd kernels && "$QEMU" "$bin" -test.short "$@")
