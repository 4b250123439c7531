#!/usr/bin/env bash
# Makes (once) a virtual environment of pinned test-only tools outside the repository and
# prints its python: ~/.cache/dllm/venv-NAME, rebuilt when the requirements file changes.
#   scripts/test-venv.sh NAME REQUIREMENTS.txt
set -euo pipefail
name=$1 req=$2
venv=${XDG_CACHE_HOME:-$HOME/.cache}/dllm/venv-$name
stamp=$venv/.requirements
if ! cmp -s "$req" "$stamp" 2>/dev/null; then
	rm -rf "$venv"
	python3 -m venv "$venv" >&2
	"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req" >&2
	cp "$req" "$stamp"
fi
echo "$venv/bin/python"
