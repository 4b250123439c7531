# dllm build and test entry points. `make` builds everything; `make test` runs every test
# that exists: formatting, vet, Go tests under the race detector, the pure-Go kernels,
# the arm64 build under qemu, and (from mk/*.mk) the C ABI and the language bindings.

GO ?= go
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -ec
export CGO_ENABLED ?= 1

.PHONY: all build test lint test-go test-purego test-arm64

all: build

build:
	$(GO) build ./...

test: lint test-go test-purego test-arm64

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

-include mk/*.mk
