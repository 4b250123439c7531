#!/usr/bin/env bash
# Cross-language test: the same chat prompt and options must give identical tokens from
# the Go API, the C example, the Python bindings and the Rust bindings.
#
# Needs build/libdllm.so and build/example (make lib build/example); builds the Go and
# Rust programs itself.
#   scripts/test-xlang.sh [MODEL] [PROMPT] [MAX_TOKENS]
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-testdata/llada2-micro/hf}
prompt=${2:-Write a short story about a river.}
max=${3:-64}
build=$(pwd)/build
out=$build/xlang
mkdir -p "$out"

tokens() { # the "tokens" array of a JSON line, canonicalised
	python3 -c 'import json,sys; print(json.dumps(json.loads(sys.stdin.read())["tokens"]))'
}

go build -o "$out/xlang-go" ./scripts/xlang
(cd bindings/rust && DLLM_LIB_DIR=$build cargo build --quiet --offline --example xlang)
rust=bindings/rust/target/debug/examples/xlang

run_case() { # MODE: runs the four languages, writes $out/MODE-LANG.json
	local mode=$1 raw=
	[ "$mode" = raw ] && raw=--raw
	"$out/xlang-go" "$mode" "$model" "$prompt" "$max" | tokens >"$out/$mode-go.json"
	"$build/example" --json $raw --max-tokens "$max" "$model" "$prompt" | tokens >"$out/$mode-c.json"
	DLLM_LIBRARY_PATH=$build PYTHONPATH=$(pwd)/bindings/python python3 -c '
import json, sys, dllm
mode, model, prompt, max_tokens = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
with dllm.Model(model) as m:
    r = m.generate(prompt, chat=(mode == "chat"), max_tokens=max_tokens)
print(json.dumps({"tokens": r.tokens, "stop_reason": str(r.stop_reason)}))
' "$mode" "$model" "$prompt" "$max" | tokens >"$out/$mode-python.json"
	"$rust" "$mode" "$model" "$prompt" "$max" | tokens >"$out/$mode-rust.json"
}

fail=0
passed=0
for mode in chat raw; do
	run_case "$mode"
	n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$out/$mode-go.json")
	if [ "$n" -eq 0 ]; then
		echo "test-xlang: $mode: no tokens generated" >&2
		fail=1
	fi
	for lang in c python rust; do
		if cmp -s "$out/$mode-go.json" "$out/$mode-$lang.json"; then
			passed=$((passed + 1))
		else
			echo "test-xlang: $mode: $lang differs from Go:" >&2
			echo "  go:    $(cat "$out/$mode-go.json")" >&2
			echo "  $lang: $(cat "$out/$mode-$lang.json")" >&2
			fail=1
		fi
	done
	[ $fail -eq 0 ] && echo "test-xlang: $mode: Go, C, Python and Rust agree on $n tokens: $(cat "$out/$mode-go.json")"
done
echo "xlang: $passed passed, $((6 - passed)) failed"
exit $fail
