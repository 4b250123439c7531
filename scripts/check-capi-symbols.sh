#!/usr/bin/env bash
# Checks that the dynamic symbols libdllm exports with the dllm_ prefix are exactly the
# functions include/dllm.h declares (DLLM_API lines).
#
#   scripts/check-capi-symbols.sh [LIB] [HEADER]   (defaults build/libdllm.so include/dllm.h)
set -euo pipefail
lib=${1:-build/libdllm.so}
header=${2:-include/dllm.h}
nm=${NM:-nm}

declared=$(grep -E '^DLLM_API ' "$header" | sed -E 's/^DLLM_API[^(]*[ *]([A-Za-z_0-9]+)\(.*/\1/' | sort -u)
exported=$("$nm" -D --defined-only "$lib" | awk '$2 ~ /^[TW]$/ && $3 ~ /^dllm_/ {print $3}' | sort -u)

if [ -z "$declared" ]; then
	echo "check-capi-symbols: no DLLM_API declarations found in $header" >&2
	exit 1
fi
if diff <(echo "$declared") <(echo "$exported") >/dev/null; then
	echo "check-capi-symbols: $(echo "$declared" | wc -l) functions in $header, all exported by $lib and nothing else"
	exit 0
fi
echo "check-capi-symbols: $lib and $header disagree (< declared only, > exported only):" >&2
diff <(echo "$declared") <(echo "$exported") | grep '^[<>]' >&2
exit 1
