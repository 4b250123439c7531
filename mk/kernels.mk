# The assembly kernels without the race detector. `make test-go` runs the Go tests under
# -race, where the real-model matmul shapes, the large strip test and the allocation
# checks are trimmed or skipped, and `make test-purego` disables the assembly; this stage
# runs all of them on the assembly kernels. KERNELS_REQUIRE makes the tests fail (rather
# than compare the generic kernels with themselves) when the implementations meant to be
# under test are not active.

GO ?= go
KERNELS_ARCH := $(shell $(GO) env GOARCH)
KERNELS_REQUIRE ?= $(if $(filter amd64,$(KERNELS_ARCH)),avx2,$(if $(filter arm64,$(KERNELS_ARCH)),neon))

.PHONY: test-kernels-asm

test: test-kernels-asm

test-kernels-asm:
	KERNELS_REQUIRE=$(KERNELS_REQUIRE) $(GO) test ./kernels/... ./dllm/...
