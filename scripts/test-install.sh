#!/usr/bin/env bash
# Installs dllm the way each README says, outside the repository, and asks the built-in
# demo model one question from an empty temporary folder with only PATH and HOME set:
#   c       `make install` to a temporary prefix; examples/c/main.c built with pkg-config,
#           shared and --static
#   python  `pip install ./bindings/python` in a fresh venv (libdllm built by Go during
#           the build); its unit tests on the installed copy; `pip wheel`, installed in
#           another fresh venv with no Go on PATH
#   go      the Go program of README.md, in a module of its own whose go.mod is the
#           README's (with a replace line pointing at this checkout)
#   rust    a new crate with a path dependency on bindings/rust/dllm whose main.rs is the
#           Rust README's snippet: libdllm built by cargo, then linked from a DLLM_LIB_DIR
#           that holds only libdllm.a
# Usage: scripts/test-install.sh c|go|python|rust   (MAKE, if set, names the make to run)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
question="What is 3+4?"
answer=7
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dllm-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/empty"

# clean [VAR=VALUE...] CMD...: CMD in the empty folder with only PATH, HOME and the
# toolchain locations that are set (the assignments given override them).
clean() {
	local keep=(PATH="$PATH" HOME="$HOME") v
	for v in CARGO_HOME RUSTUP_HOME TMPDIR; do
		[ -n "${!v:-}" ] && keep+=("$v=${!v}")
	done
	(cd "$tmp/empty" && env -i "${keep[@]}" "$@")
}

# answers WHAT [VAR=VALUE...] CMD...: CMD must succeed and print the answer on a line.
answers() {
	local what=$1 out
	shift
	if ! out=$(clean "$@" 2>&1); then
		printf '%s\n' "$out"
		echo "test-install: $what failed" >&2
		exit 1
	fi
	if ! grep -qx "$answer" <<<"$out"; then
		printf '%s\n' "$out"
		echo "test-install: $what did not answer $answer to \"$question\"" >&2
		exit 1
	fi
	echo "ok: $what answers $answer"
}

# not_needed FILE: FILE must not load libdllm.so at run time.
not_needed() {
	if readelf -d "$1" | grep -q 'NEEDED.*libdllm'; then
		echo "test-install: $1 needs libdllm.so at run time" >&2
		exit 1
	fi
}

test_c() {
	local prefix=$tmp/prefix f
	${MAKE:-make} --no-print-directory install PREFIX="$prefix"
	for f in include/dllm.h lib/libdllm.so lib/libdllm.a lib/pkgconfig/dllm.pc; do
		test -f "$prefix/$f" || { echo "test-install: make install wrote no $f" >&2; exit 1; }
	done
	pc() { PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config "$@" dllm; }
	cc examples/c/main.c $(pc --cflags --libs) -o "$tmp/example"
	cc examples/c/main.c $(pc --static --cflags --libs) -static -o "$tmp/example-static"
	readelf -d "$tmp/example" | grep -q 'NEEDED.*libdllm.so' ||
		{ echo "test-install: the pkg-config build does not use libdllm.so" >&2; exit 1; }
	not_needed "$tmp/example-static"
	answers "C (pkg-config)" "$tmp/example" demo "$question"
	answers "C (pkg-config --static)" "$tmp/example-static" demo "$question"
}

test_go() {
	ln -s "$repo" "$tmp/dllm" # where the README's replace line points: ../dllm
	mkdir "$tmp/hello"
	scripts/readme.py snippet README.md go.mod >"$tmp/hello/go.mod"
	scripts/readme.py snippet README.md go >"$tmp/hello/main.go"
	cp go.sum "$tmp/hello/" # the checkout's checksums, so tidy needs no network
	(cd "$tmp/hello" && GOPROXY=off go mod tidy && go build -o hello .)
	answers "Go (README program)" "$tmp/hello/hello"
}

test_python() {
	local venv=$tmp/venv wheels=$tmp/wheels nogo= dir
	trap 'rm -rf "$tmp" bindings/python/build bindings/python/*.egg-info' EXIT
	python3 -m venv "$venv"
	clean "$venv/bin/pip" install --quiet --disable-pip-version-check "$repo/bindings/python"
	compgen -G "$venv/lib/python3*/site-packages/dllm/libdllm.so" >/dev/null ||
		{ echo "test-install: pip installed no libdllm.so into the package" >&2; exit 1; }
	answers "Python (pip install)" "$venv/bin/python" "$repo/examples/python/demo.py" demo "$question"
	clean DLLM_TEST_INSTALLED=1 DLLM_TEST_MODEL="$repo/testdata/llada2-micro/hf" \
		"$venv/bin/python" -m unittest discover -s "$repo/bindings/python/tests"

	clean "$venv/bin/pip" wheel --quiet --disable-pip-version-check --no-deps -w "$wheels" "$repo/bindings/python"
	local wheel=("$wheels"/dllm-*-py3-none-linux_*.whl)
	test -f "${wheel[0]}" || { echo "test-install: no platform wheel in $(ls "$wheels")" >&2; exit 1; }
	IFS=: read -ra dirs <<<"$PATH"
	for dir in "${dirs[@]}"; do
		[ -x "$dir/go" ] || nogo+=${nogo:+:}$dir
	done
	if PATH=$nogo command -v go >/dev/null; then
		echo "test-install: go is still on the PATH without Go" >&2
		exit 1
	fi
	python3 -m venv "$tmp/venv-nogo"
	clean PATH="$nogo" "$tmp/venv-nogo/bin/pip" install --quiet --disable-pip-version-check "${wheel[0]}"
	answers "Python (wheel, no Go)" PATH="$nogo" "$tmp/venv-nogo/bin/python" "$repo/examples/python/demo.py" demo "$question"
}

test_rust() {
	local crate=$tmp/hello
	mkdir -p "$crate/src" "$tmp/static"
	cat >"$crate/Cargo.toml" <<-EOF
		[package]
		name = "hello"
		version = "0.1.0"
		edition = "2021"

		[dependencies]
		dllm = { path = "$repo/bindings/rust/dllm" }
	EOF
	scripts/readme.py snippet bindings/rust/README.md rust >"$crate/src/main.rs"
	answers "Rust (libdllm built by cargo)" cargo run --quiet --offline --manifest-path "$crate/Cargo.toml"
	not_needed "$crate/target/debug/hello"
	cp build/libdllm.a "$tmp/static/"
	answers "Rust (DLLM_LIB_DIR with libdllm.a)" DLLM_LIB_DIR="$tmp/static" \
		cargo run --quiet --offline --manifest-path "$crate/Cargo.toml"
	not_needed "$crate/target/debug/hello"
}

case ${1:-} in
c | go | python | rust) "test_$1" ;;
*)
	echo "usage: $0 c|go|python|rust" >&2
	exit 2
	;;
esac
