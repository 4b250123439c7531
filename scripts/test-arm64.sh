#!/bin/sh
# Cross-build the kernels tests for arm64 and run them under qemu-user, so the NEON
# assembly is exercised on machines without arm64 hardware: all of them, the real model
# shapes included (under a minute in qemu, which runs SIMD code ~50x slower than
# native), with both NEON implementations required; then the pure-Go build with
# -test.short. Needs qemu-user and binutils-aarch64-linux-gnu (objdump).
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

# The WORD-encoded instructions must disassemble as intended: each check is
# function:mnemonic, or function:mnemonic:arrangement when the macro fixes one (.4s, .2d).
OBJDUMP=${OBJDUMP:-aarch64-linux-gnu-objdump}
if command -v "$OBJDUMP" >/dev/null 2>&1; then
	"$OBJDUMP" -d "$bin" >"$bin.dis"
	for check in gemmQ8_0x4NEON:sdot gemmQ8_0x4NEON:scvtf gemmQ4_Kx4NEON:sdot \
		gemvQ6_KNEON:sdot gemmF16x4NEON:fcvtl gemmF16x4NEON:fcvtl2 sumSquaresNEON:fcvtl2 \
		siluMulNEON:fadd:4s siluMulNEON:fmul:4s siluMulNEON:fdiv:4s siluMulNEON:fmax:4s \
		siluMulNEON:frintn:4s siluMulNEON:fcvtzs:4s softmaxExpNEON:fsub:4s \
		softmaxExpNEON:fcmgt:4s softmaxExpNEON:fcvtl:2d softmaxExpNEON:fcvtl2:2d \
		softmaxExpNEON:fadd:2d scaleRoundNEON:fmul:2d scaleRoundNEON:fcvtn:2s \
		scaleRoundNEON:fcvtn2:4s maxNEON:fcmgt:4s maxNEON:fmax:4s maxNEON:fmaxv:4s \
		quantQ8NEON:umaxv:4s quantQ8NEON:fmul:4s quantQ8NEON:fcvtas:4s \
		quantQ8KNEON:umaxv:4s quantQ8KNEON:fmul:4s quantQ8KNEON:fcvtns:4s \
		quantQ8KNEON:sqxtn:4h quantQ8KNEON:sqxtn2:8h quantQ8KNEON:sqxtn:8b \
		quantQ8KNEON:sqxtn2:16b quantQ8KNEON:saddlp:8h f16ToF32NEON:fcvtl:4h \
		f16ToF32NEON:fcvtl2:8h f32ToF16NEON:fcvtn:4h f32ToF16NEON:fcvtn2:8h \
		f32ToBF16NEON:fcmeq:4s; do
		fn=${check%%:*} op=${check#*:} arr=
		case $op in *:*) arr=${op#*:} op=${op%%:*} ;; esac
		pat="	$op	"
		[ -z "$arr" ] || pat="$pat.*\.$arr\>"
		if ! awk "/<github.com\\/dllm-go\\/dllm\\/kernels.$fn.abi0>:/,/^\$/" "$bin.dis" | grep -q "$pat"; then
			echo "test-arm64: $op${arr:+ (.$arr)} not found in $fn" >&2
			rm -f "$bin.dis"
			exit 1
		fi
	done
	rm -f "$bin.dis"
else
	echo "test-arm64: $OBJDUMP not found, so the WORD encodings cannot be checked (apt-get install -y binutils-aarch64-linux-gnu)" >&2
	exit 1
fi

# The test binary runs from the package directory, like go test does. qemu's default
# CPU has DotProd, so both NEON implementations must run.
(cd kernels && KERNELS_REQUIRE=neon,neon-dotprod "$QEMU" "$bin" "$@")
GOARCH=arm64 CGO_ENABLED=0 go test -c -tags purego -o "$bin" ./kernels/
(cd kernels && "$QEMU" "$bin" -test.short "$@")
