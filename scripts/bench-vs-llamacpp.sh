#!/usr/bin/env bash
# Compare dllm with llama.cpp on the same mini-shaped LLaDA2 GGUF files.
#
#   scripts/bench-vs-llamacpp.sh [--threads N] [--reps N] [--layers "2 3"] [--types "q8_0 bf16"]
#                                [--only-build] [--only-fetch] [--no-build] [--modes "block,block:4"] [--decode-steps N]
#                                [--threads-scan] [--scan-rounds N] [--scan-only] [--report-only]
#
# 1. Builds llama.cpp (v0.5.0 from the git bundle inside the npm package node-llama-cpp,
#    the build that works on this machine) once, outside the repository, in $LLAMACPP_DIR
#    (default $HOME/.cache/dllm-llamacpp): llama-bench, llama-quantize and
#    test-backend-ops (LLAMA_BUILD_TESTS=ON, for MUL_MAT comparisons). Reused if present.
# 2. Makes mini-shaped models (the real LLaDA2.0-mini layer sizes and vocabulary, fewer
#    layers: 1 dense + N−1 MoE) with `dllm mkmodel --arch bailingmoe2` (the architecture
#    name llama.cpp master loads) in $DLLM_BENCH_MODELS (default $HOME/.cache/dllm-bench).
# 3. Runs `dllm bench` and `llama-bench -m FILE -p 32 -n 32 -t N` on each file and prints
#    two tables: block forwards against llama.cpp's pp32, and the cost of a diffusion
#    step in autoregressive tokens.
#
# What is compared: llama-bench pp32 processes a 32-token batch and computes logits for
# its last token only. dllm's "block forward (1 row)" is the same work (32 tokens, LM
# head on one row, against a 32-token cached prefix); "block forward (all rows)" is a
# real diffusion step, which needs logits at every position of the block (the LM head,
# 157184 × 2048, then dominates). Both are printed; ratio = dllm tok/s ÷ llama.cpp tok/s.
#
# The break-even tokens per forward is what a diffusion step costs in tokens of
# llama.cpp decoding the same weights autoregressively (tg32, one token per forward):
# dllm's realistic first step of a block after a prompt (the block full of masks, as
# decoding sees it; `dllm bench`'s first_step) × llama.cpp's tg32 tok/s. A diffusion
# model that commits more tokens per forward than that answers faster than the AR twin.
# A third table does the same per decoding mode over a real block decode (`dllm bench`'s
# block_decode: every step of the block after the prompt, LLaDA2.0 threshold decoding
# with --decode-steps steps, timed): exact, and the approximate in-block cache modes
# (GenerateOptions.Cache values, --modes MODES, default "block,block:4"; "window:W" too),
# whose steps after a block's first run only the masked and just-filled rows.
#
# --threads-scan adds a fourth table: on 1, 2, 4, … threads up to the machine's logical
# CPUs, llama-bench's pp32 and tg32 (-t 1,2,…) and dllm's block forwards (`dllm bench
# --threads-scan`), with the ratios per thread count, so that scaling can be compared on
# any machine. The two scans alternate, --scan-rounds times (default 2), and each
# ratio is taken within a round (dllm's scan ÷ the llama.cpp scan right after it): a
# shared machine whose speed changes between rounds then moves both sides of a ratio.
# The table gives the median over rounds of each figure and the ratios' range.
# --only-build builds llama.cpp and prints its binaries' folder; --only-fetch fetches
# its source and prints that folder. --scan-only runs the scan and nothing before it;
# --report-only prints the scan table from the results already in the results folder
# (those of a run elsewhere: the scan needs python3 only for its table, and a machine
# without it keeps the JSON).
#
# Prebuilt binaries and other folders (scripts/device-scan.sh runs this on a machine
# without Go or a llama.cpp build): DLLM_BIN (a dllm command; default: go build),
# LLAMA_BIN_DIR (holding llama-bench; default: the build above), DLLM_BENCH_RESULTS
# (default: $DLLM_BENCH_MODELS/results).
#
# Nothing fetched or built here is committed: everything lives outside the repository.
set -euo pipefail

THREADS=2
REPS=5
LAYERS="2 3"
TYPES="q8_0 bf16"
BUILD=1
ONLY_BUILD=0
MODES="block,block:4"
DECODE_STEPS=0
SCAN=0
ROUNDS=2
SCAN_ONLY=0
REPORT_ONLY=0
FETCH_ONLY=0
while [ $# -gt 0 ]; do
	case "$1" in
	--threads) THREADS=$2; shift 2 ;;
	--reps) REPS=$2; shift 2 ;;
	--layers) LAYERS=$2; shift 2 ;;
	--types) TYPES=$2; shift 2 ;;
	--no-build) BUILD=0; shift ;;
	--modes) MODES=$2; shift 2 ;;
	--decode-steps) DECODE_STEPS=$2; shift 2 ;;
	--only-build) ONLY_BUILD=1; shift ;;
	--only-fetch) FETCH_ONLY=1; shift ;;
	--threads-scan) SCAN=1; shift ;;
	--scan-rounds) ROUNDS=$2; shift 2 ;;
	--scan-only) SCAN=1 SCAN_ONLY=1; shift ;;
	--report-only) SCAN=1 SCAN_ONLY=1 REPORT_ONLY=1 BUILD=0; shift ;;
	-h|--help) sed -n '2,54p' "$0"; exit 0 ;;
	*) echo "unknown argument $1" >&2; exit 2 ;;
	esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
LLAMACPP_DIR=${LLAMACPP_DIR:-$HOME/.cache/dllm-llamacpp}
MODELS=${DLLM_BENCH_MODELS:-$HOME/.cache/dllm-bench}
NODE_LLAMA_CPP_VERSION=${NODE_LLAMA_CPP_VERSION:-3.22.1}
SRC=$LLAMACPP_DIR/llama.cpp
BIN=${LLAMA_BIN_DIR:-$SRC/build/bin}

fetch_llamacpp() {
	mkdir -p "$LLAMACPP_DIR"
	if [ ! -d "$SRC/.git" ]; then
		echo "== fetching llama.cpp from node-llama-cpp@$NODE_LLAMA_CPP_VERSION" >&2
		(cd "$LLAMACPP_DIR" &&
			npm pack "node-llama-cpp@$NODE_LLAMA_CPP_VERSION" >/dev/null &&
			tar xzf "node-llama-cpp-$NODE_LLAMA_CPP_VERSION.tgz" &&
			git clone -q package/llama/gitRelease.bundle llama.cpp)
	fi
}

build_llamacpp() {
	fetch_llamacpp
	if [ ! -x "$BIN/llama-bench" ] || [ ! -x "$BIN/test-backend-ops" ]; then
		echo "== building llama.cpp in $SRC/build (about 10 minutes on 2 cores)" >&2
		# Native, less AMX: dllm does not use it, and a virtual machine that lists it may
		# not grant a process the tile state (llama-bench then dies in ldtilecfg).
		noamx="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
		cmake -S "$SRC" -B "$SRC/build" -DGGML_NATIVE=ON -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
			-DCMAKE_C_FLAGS="$noamx" -DCMAKE_CXX_FLAGS="$noamx" \
			-DLLAMA_BUILD_TESTS=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
		nice -n 10 cmake --build "$SRC/build" -j2 --target llama-bench llama-quantize test-backend-ops >/dev/null
	fi
}

if [ "$FETCH_ONLY" = 1 ]; then
	fetch_llamacpp
	echo "$SRC"
	exit 0
fi
if [ "$BUILD" = 1 ] && [ -z "${LLAMA_BIN_DIR:-}" ]; then
	build_llamacpp
fi
[ "$ONLY_BUILD" = 1 ] && { echo "$BIN"; exit 0; }
OUT=${DLLM_BENCH_RESULTS:-$MODELS/results}
if [ "$REPORT_ONLY" = 0 ]; then
	[ -x "$BIN/llama-bench" ] || { echo "no llama-bench in $BIN (run without --no-build)" >&2; exit 1; }
	mkdir -p "$MODELS"
	if [ -n "${DLLM_BIN:-}" ]; then
		DLLM=$DLLM_BIN
	else
		DLLM=$MODELS/dllm
		(cd "$ROOT" && go build -o "$DLLM" ./examples/dllm)
	fi
fi

for L in $LAYERS; do
	[ "$REPORT_ONLY" = 1 ] && break
	for T in $TYPES; do
		f=$MODELS/mini$L-$T.gguf
		if [ ! -f "$f" ]; then
			echo "== dllm mkmodel $f" >&2
			"$DLLM" mkmodel -o "$f" --preset mini --layers "$L" --type "$T" --arch bailingmoe2 --seed 1
		fi
	done
done

# jq-free JSON field access: the figures are read with Go's own encoder output.
field() { # field FILE path.to.key
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): d=d[k]
print(d)' "$1" "$2"
}

mkdir -p "$OUT"

# warm FILE: read it into the page cache before a tool that maps it. dllm copies the
# matrices it repacks into memory of its own at load, which can push the file out of
# the page cache of a machine with little more memory than the file; without this,
# the next run would time disk reads.
warm() { cat "$1" >/dev/null; }
rows=() steps=() modes=()
for L in $LAYERS; do
	[ "$SCAN_ONLY" = 1 ] && break
	for T in $TYPES; do
		f=$MODELS/mini$L-$T.gguf
		echo "== $f: dllm bench" >&2
		warm "$f"
		"$DLLM" bench -m "$f" --threads "$THREADS" --reps "$REPS" --prefill 128 --gen 0 --prompt-len 64 --cache "$MODES" --decode-steps "$DECODE_STEPS" --json -q >"$OUT/dllm-mini$L-$T.json"
		echo "== $f: llama-bench" >&2
		warm "$f"
		"$BIN/llama-bench" -m "$f" -p 32 -n 32 -t "$THREADS" -r "$REPS" -o json >"$OUT/llama-mini$L-$T.json" 2>"$OUT/llama-mini$L-$T.log"
		# llama-bench lists pp32 (n_gen 0) and tg32 (n_prompt 0); samples_ts are per rep.
		ll() { python3 -c 'import json,sys,statistics
runs=json.load(open(sys.argv[1])); key=sys.argv[2]; how=sys.argv[3]
r=[x for x in runs if x[key]>0][0]["samples_ts"]
print(max(r) if how=="best" else statistics.median(r))' "$OUT/llama-mini$L-$T.json" "$@"; }
		llama=$(ll n_prompt best) llamamed=$(ll n_prompt median) tg=$(ll n_gen median)
		all=$(field "$OUT/dllm-mini$L-$T.json" block_forward.best_tok_per_s)
		one=$(field "$OUT/dllm-mini$L-$T.json" block_forward_1row.best_tok_per_s)
		onemed=$(field "$OUT/dllm-mini$L-$T.json" block_forward_1row.tok_per_s)
		pre=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["prefill"][0]["best_tok_per_s"])' "$OUT/dllm-mini$L-$T.json")
		step=$(field "$OUT/dllm-mini$L-$T.json" first_step.median_s)
		stepx=$(field "$OUT/dllm-mini$L-$T.json" first_step.experts_per_moe_layer)
		stepr=$(field "$OUT/dllm-mini$L-$T.json" first_step.roofline_pct)
		allr=$(field "$OUT/dllm-mini$L-$T.json" block_forward.roofline_pct)
		steps+=("$L $T $step $tg $stepx $stepr $allr")
		modes+=("$OUT/dllm-mini$L-$T.json $L $T $tg")
		rows+=("$L $T $llama $one $all $pre $llamamed $onemed")
	done
done

if [ "$SCAN_ONLY" = 0 ]; then
	cpu=$(field "$OUT/dllm-mini$(echo $LAYERS | cut -d' ' -f1)-$(echo $TYPES | cut -d' ' -f1).json" cpu)
	isa=$(field "$OUT/dllm-mini$(echo $LAYERS | cut -d' ' -f1)-$(echo $TYPES | cut -d' ' -f1).json" kernels)
	echo
	echo "machine: $cpu, $(nproc) logical CPUs; $THREADS threads; dllm kernels: $isa; llama.cpp $(cd "$SRC" && git describe --tags --always 2>/dev/null || echo v0.5.0 bundle)"
	echo "tok/s of the fastest of $REPS runs each (robust to other load on a shared machine); medians in the last columns"
	echo "ratio = dllm ÷ llama.cpp pp32 (llama-bench -p 32 -n 32 -t $THREADS)"
	echo
	printf '| model | type | llama.cpp pp32 | dllm block fwd, 1 row | ratio | dllm block fwd, all 32 rows | ratio | dllm prefill 128 | median: llama.cpp / dllm 1 row |\n'
	printf '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n'
	for r in "${rows[@]}"; do
		set -- $r
		python3 -c 'import sys
L,T,ll,one,al,pre,llm,onem=sys.argv[1],sys.argv[2],*map(float,sys.argv[3:])
print(f"| mini, {L} layers | {T} | {ll:.0f} | {one:.0f} | {one/ll:.2f}x | {al:.0f} | {al/ll:.2f}x | {pre:.0f} | {llm:.0f} / {onem:.0f} |")' "$@"
	done

	echo
	echo "a diffusion step in autoregressive tokens: the first step of a block after a 64-token prompt (median) × llama.cpp tg32 (median)"
	echo
	printf '| model | type | dllm first step, ms | experts/MoE layer | %% of roofline (step / all rows) | llama.cpp tg32 tok/s | break-even tokens per forward |\n'
	printf '| --- | --- | ---: | ---: | ---: | ---: | ---: |\n'
	for r in "${steps[@]}"; do
		set -- $r
		python3 -c 'import sys
L,T,step,tg,x,sr,ar=sys.argv[1],sys.argv[2],*map(float,sys.argv[3:])
print(f"| mini, {L} layers | {T} | {step*1000:.0f} | {x:.0f} | {sr:.0f} / {ar:.0f} | {tg:.1f} | {step*tg:.1f} |")' "$@"
	done

	echo
	echo "per decoding mode: a real block decode after the 64-token prompt (every step timed; median), × llama.cpp tg32 (median)"
	echo
	printf '| model | type | mode | forwards | ms/step | rows/step | experts/MoE layer | step speed-up | agreement with exact | break-even tokens per forward |\n'
	printf '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n'
	for r in "${modes[@]}"; do
		set -- $r
		python3 -c 'import json,sys
f,L,T,tg=sys.argv[1],sys.argv[2],sys.argv[3],float(sys.argv[4])
for d in json.load(open(f)).get("block_decode",[]):
    print("| mini, %s layers | %s | %s | %d | %.0f | %.1f | %.0f | %.2fx | %.0f %% | %.1f |" % (L, T, d["mode"], d["forwards"], d["step_s"]*1000,
        d["rows_per_forward"], d["experts_per_moe_layer"], d["speedup"], 100*d["agreement"], d["step_s"]*tg))' "$@"
	done
fi

[ "$SCAN" = 1 ] || exit 0
# The thread counts of dllm bench --threads-scan: 1, 2, 4, … below the CPUs, and the CPUs.
CPUS=$(nproc)
counts=1
for ((t = 2; t < CPUS; t *= 2)); do counts="$counts,$t"; done
[ "$CPUS" -gt 1 ] && counts="$counts,$CPUS"
echo
echo "thread scaling: tok/s (median over $ROUNDS rounds of the median of $REPS) per thread count; ratio = dllm ÷ llama.cpp pp32 on the same thread count, within each round: median [range]"
echo
printf '| model | type | threads | llama.cpp pp32 | llama.cpp tg32 | dllm 1 row | ratio | dllm all rows | ratio | dllm first step, ms | break-even tokens per forward | read GB/s per round |\n'
printf '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n'
for L in $LAYERS; do
	for T in $TYPES; do
		f=$MODELS/mini$L-$T.gguf
		for ((r = 1; r <= ROUNDS; r++)); do
			[ "$REPORT_ONLY" = 1 ] && break
			echo "== $f: round $r of $ROUNDS: dllm bench --threads-scan" >&2
			warm "$f"
			"$DLLM" bench -m "$f" --threads "$CPUS" --reps "$REPS" --prefill "" --gen 0 --prompt-len 64 --cache "" --threads-scan --json -q >"$OUT/dllm-scan-mini$L-$T-r$r.json"
			echo "== $f: round $r of $ROUNDS: llama-bench -t $counts" >&2
			warm "$f"
			"$BIN/llama-bench" -m "$f" -p 32 -n 32 -t "$counts" -r "$REPS" -o json >"$OUT/llama-scan-mini$L-$T-r$r.json" 2>"$OUT/llama-scan-mini$L-$T-r$r.log"
		done
		if ! command -v python3 >/dev/null; then
			echo "no python3 here for the table: the results are in $OUT (print it with --report-only)" >&2
			continue
		fi
		python3 -c 'import json,statistics,sys
out,L,T,rounds=sys.argv[1],sys.argv[2],sys.argv[3],int(sys.argv[4])
med=statistics.median
rs=range(1,rounds+1)
llamas={r: json.load(open(f"{out}/llama-scan-mini{L}-{T}-r{r}.json")) for r in rs}
def llama(r,threads,key):
    x=[x for x in llamas[r] if x["n_threads"]==threads and x[key]>0]
    return med(x[0]["samples_ts"]) if x else float("nan")
scans=[json.load(open(f"{out}/dllm-scan-mini{L}-{T}-r{r}.json"))["thread_scan"] for r in rs]
def rng(v): return f"{med(v):.2f}x [{min(v):.2f}–{max(v):.2f}]"
for i,p in enumerate(scans[0]):
    t=p["threads"]
    pp=[llama(r,t,"n_prompt") for r in rs]; tg=[llama(r,t,"n_gen") for r in rs]
    pts=[s[i] for s in scans]
    one=[q["block_forward_1row"]["tok_per_s"] for q in pts]; al=[q["block_forward"]["tok_per_s"] for q in pts]
    step=[(q.get("first_step") or {}).get("median_s",float("nan")) for q in pts]
    gbs="–".join("%.0f" % q["limits"]["read_gb_per_s"] for q in pts)
    print(f"| mini, {L} layers | {T} | {t} | {med(pp):.1f} | {med(tg):.1f} | {med(one):.1f} | {rng([a/b for a,b in zip(one,pp)])} | {med(al):.1f} | {rng([a/b for a,b in zip(al,pp)])} | {med(step)*1000:.0f} | {med([a*b for a,b in zip(step,tg)]):.1f} | {gbs} |")' \
			"$OUT" "$L" "$T" "$ROUNDS"
	done
done
