#!/usr/bin/env bash
# Thread scaling against llama.cpp on a machine with more cores than the development
# ones, from binaries built here: the lent machine of the development tools has 16
# cores, no network, and neither Go nor a llama.cpp build.
#
#   scripts/device-scan.sh prepare        here: static binaries in build/device
#   scripts/device-scan.sh run [DIR]      there: the scan, results in DIR (default $OUT)
#   scripts/device-scan.sh report DIR     here: the table from the results copied back
#
# prepare builds `dllm` (CGO_ENABLED=0: static) and llama-bench linked statically (its
# OpenMP runtime too, stripped) from the llama.cpp source bench-vs-llamacpp.sh uses,
# twice: for AVX2 (what every x86 machine of the comparison has) and for AVX-512 with
# VNNI, so that each side runs its best kernels where the machine has them (dllm picks
# its own at run time; run takes the AVX-512 build where /proc/cpuinfo lists
# avx512_vnni). Nothing lands in the repository (build/ is ignored).
#
# run makes the mini-shaped files (LAYERS layers, default 6; TYPES, default q8_0) under
# /tmp, then runs bench-vs-llamacpp.sh --scan-only on them: llama-bench pp32 and tg32
# and dllm's block forwards on 1, 2, 4, … threads up to all cores, ROUNDS rounds
# (default 2), REPS repetitions each (default 3): 2.5 minutes on 2 cores for the q8_0
# file once made (72 s more to make it). dllm mkmodel writes f32, f16, bf16 and q8_0;
# other types (TYPES="q8_0 q4_k") come from the q8_0 file through the carried
# llama-quantize (--pure, as the README's q4_k file): 4.3 minutes on 2 cores for q4_k,
# whose scan then took 1.7.
# A command for the device tool, carrying build/device:
#
#   bash scripts/device-scan.sh run
#
# report prints the scan table from those results (bench-vs-llamacpp.sh --report-only
# with the same settings).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEV=$ROOT/build/device
LAYERS=${LAYERS:-6}
TYPES=${TYPES:-q8_0}
ROUNDS=${ROUNDS:-2}
REPS=${REPS:-3}
SRC=${LLAMACPP_DIR:-$HOME/.cache/dllm-llamacpp}/llama.cpp

# static_llama NAME TARGETS CMAKE_FLAGS…: the llama.cpp programs TARGETS (space
# separated) built statically into $DEV/llama-NAME.
static_llama() {
	local name=$1 targets=$2 build=$SRC/build-static-$1
	shift 2
	cmake -S "$SRC" -B "$build" -DGGML_NATIVE=OFF -DBUILD_SHARED_LIBS=OFF -DLLAMA_CURL=OFF \
		-DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DCMAKE_EXE_LINKER_FLAGS=-static \
		-DOpenMP_gomp_LIBRARY="$(gcc -print-file-name=libgomp.a)" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
	# The compiler's many warnings go to a log, shown when the build fails.
	nice -n 10 cmake --build "$build" -j"$(nproc)" --target $targets >"$build.log" 2>&1 ||
		{ tail -20 "$build.log" >&2; exit 1; }
	mkdir -p "$DEV/llama-$name"
	for t in $targets; do strip -o "$DEV/llama-$name/$t" "$build/bin/$t"; done
}

case "${1:-}" in
prepare)
	"$ROOT/scripts/bench-vs-llamacpp.sh" --only-fetch >/dev/null
	avx2="-DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
	echo "== llama-bench, static, AVX2" >&2
	static_llama avx2 "llama-bench llama-quantize" $avx2
	echo "== llama-bench, static, AVX-512 VNNI" >&2
	static_llama avx512vnni llama-bench $avx2 -DGGML_AVX512=ON -DGGML_AVX512_VNNI=ON
	echo "== dllm, static" >&2
	(cd "$ROOT" && CGO_ENABLED=0 go build -o "$DEV/dllm" ./examples/dllm)
	"$DEV/llama-avx2/llama-bench" --help >/dev/null # runs here: linked, no libraries
	du -sh "$DEV"
	;;
run)
	out=${2:-${OUT:?"no results folder: give one, or set OUT"}}
	[ -x "$DEV/dllm" ] || { echo "no $DEV/dllm: run '$0 prepare' first and carry build/device" >&2; exit 1; }
	variant=avx2
	grep -qw avx512_vnni /proc/cpuinfo && variant=avx512vnni
	mkdir -p "$out"
	{
		echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-), $(nproc) logical CPUs"
		echo "llama-bench: $variant build"
	} | tee "$out/machine.txt"
	# The files are made there, in /tmp, not among the results: q8_0 by the carried dllm
	# (mkmodel), the types it does not write by llama-quantize from that.
	models=/tmp/dllm-device-models
	mkdir -p "$models"
	q8=$models/mini$LAYERS-q8_0.gguf
	for t in $TYPES; do
		case $t in
		f32 | f16 | bf16 | q8_0) ;;
		*)
			[ -f "$q8" ] || "$DEV/dllm" mkmodel -o "$q8" --preset mini --layers "$LAYERS" --type q8_0 --arch bailingmoe2 --seed 1
			f=$models/mini$LAYERS-$t.gguf
			[ -f "$f" ] || "$DEV/llama-avx2/llama-quantize" --allow-requantize --pure "$q8" "$f" "${t^^}" "$(nproc)" >/dev/null
			;;
		esac
	done
	DLLM_BIN=$DEV/dllm LLAMA_BIN_DIR=$DEV/llama-$variant DLLM_BENCH_MODELS=$models DLLM_BENCH_RESULTS=$out \
		"$ROOT/scripts/bench-vs-llamacpp.sh" --scan-only --layers "$LAYERS" --types "$TYPES" \
		--reps "$REPS" --scan-rounds "$ROUNDS" | tee "$out/scan.md"
	;;
report)
	[ -d "${2:-}" ] || { echo "usage: $0 report DIR" >&2; exit 2; }
	cat "$2/machine.txt"
	DLLM_BENCH_RESULTS=$2 "$ROOT/scripts/bench-vs-llamacpp.sh" --report-only --layers "$LAYERS" \
		--types "$TYPES" --reps "$REPS" --scan-rounds "$ROUNDS"
	;;
*)
	sed -n '2,30p' "$0"
	exit 2
	;;
esac
