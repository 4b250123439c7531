# The assembly kernels without the race detector. `make test-go` runs the Go tests under
# -race, where the real-model matmul shapes, the large strip test and the allocation
# checks are trimmed or skipped, and `make test-purego` disables the assembly; this stage
# runs all of them on the assembly kernels. KERNELS_REQUIRE (here and for test-go) makes
# the tests fail, rather than compare the generic kernels with themselves, when the
# implementations meant to be under test are not active.

GO ?= go
KERNELS_ARCH := $(shell $(GO) env GOARCH)
KERNELS_REQUIRE ?= $(if $(filter amd64,$(KERNELS_ARCH)),avx2,$(if $(filter arm64,$(KERNELS_ARCH)),neon))
# On a machine without them, `make test KERNELS_REQUIRE=` runs what it can. Only the runs
# of the assembly see the variable (test-purego, say, must not).
unexport KERNELS_REQUIRE
test-go test-kernels-asm: export KERNELS_REQUIRE := $(KERNELS_REQUIRE)

.PHONY: test-kernels-asm

test: test-kernels-asm

test-kernels-asm:
	$(GO) test ./kernels/... ./dllm/...

# (Uses the variables of mk/bindings.mk, which sorts and so is included before this file.)
# The generation goldens of the micro fixture (LLaDA2.1 editing included) from C through
# the C ABI's step callback, under AddressSanitizer. Python and Rust run the same
# goldens in their own test suites (make test-python, make test-rust).
.PHONY: test-c-goldens

test: test-c-goldens

$(DLLM_BUILD)/goldens-asan: examples/c/goldens.c include/dllm.h $(DLLM_BUILD)/libdllm.so
	$(BINDINGS_CC) $(BINDINGS_CFLAGS) $(ASAN_FLAGS) $< -L$(DLLM_BUILD) -ldllm -lm $(RPATH) -o $@

test-c-goldens: $(DLLM_BUILD)/goldens-asan
	ASAN_OPTIONS=detect_leaks=1 $< testdata/llada2-micro/hf testdata/llada2-micro/golden/gen_v2*.json

# The arm64 C ABI test compares its tokens with the host build of the C example.
test-arm64-capi: $(DLLM_BUILD)/example
