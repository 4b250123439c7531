# dllm build and test entry points. `make` builds everything; `make test` installs what
# the tests need (`make deps`), then runs every test that exists: formatting, vet, Go tests
# under the race detector, the pure-Go kernels, the arm64 build under qemu, and (from
# mk/*.mk) the C ABI, the language bindings, installation and the READMEs. Each stage runs
# in its own make and is timed; the times are printed at the end.

GO ?= go
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -ec
export CGO_ENABLED ?= 1

.PHONY: all build deps test lint test-go test-purego test-arm64

# The stages of `make test`, in order, after `deps`; mk/*.mk files append theirs. A
# target they make `test` depend on instead runs as a stage after these.
TEST_STAGES := lint test-go test-purego test-arm64

all: build

build:
	$(GO) build ./...

test:
	@scripts/stages.sh "$(MAKE)"

# Installs the missing system packages as root on Debian; otherwise names the command.
deps:
	@scripts/deps.sh

# gofmt must have nothing to say, and vet must pass, on every tracked Go file.
lint:
	@files=$$(git ls-files '*.go'); \
	bad=$$(gofmt -l $$files); \
	if [ -n "$$bad" ]; then echo "gofmt needed:"; echo "$$bad"; exit 1; fi
	$(GO) vet ./...

test-go:
	$(GO) test -race ./...
	$(GO) test -run 'TestDemoAccuracy' -v ./dllm/ | grep -E '^(---|ok|FAIL|PASS)|accuracy|per forward'

# The pure-Go reference kernels alone (assembly disabled), and everything on top of them.
test-purego:
	$(GO) test -tags purego ./kernels/... ./dllm/...

# The arm64 build of the kernels, run under qemu-user.
test-arm64:
	scripts/test-arm64.sh

# A plain `make test` reads no mk/*.mk, so that nothing they make `test` depend on runs
# before `deps`; scripts/stages.sh runs each stage in a make that reads them all.
ifneq ($(MAKECMDGOALS)$(DLLM_STAGES),test)
-include mk/*.mk
endif
