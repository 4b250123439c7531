# libdllm (the C ABI in capi/, declared by include/dllm.h) and its bindings.
# Included by the top-level Makefile; every output goes to build/.
#
#   make lib               build/libdllm.so (c-shared) and build/libdllm.a (c-archive)
#   make install           include/dllm.h, lib/libdllm.{so,a} and lib/pkgconfig/dllm.pc
#                          under PREFIX (default /usr/local; DESTDIR is honoured)
#   make test-bindings     all of the tests below (each is also a stage of `make test`)
#   make test-capi-symbols exported dllm_* symbols == functions declared in dllm.h, and
#                          the Python and Rust mirrors match the header (names, layouts)
#   make test-c            C example (shared and static) + misuse test under ASan and
#                          with the Go race detector + family goldens under ASan
#   make test-python       unittest on the checkout
#   make test-rust         cargo test --offline (dllm-sys and dllm)
#   make test-xlang        Go, C, Python and Rust give identical tokens
#   make test-arm64-capi   cross-built libdllm + C example under qemu-aarch64
#   make test-install-c    `make install` to a temporary prefix; the C example built with
#                          pkg-config (shared and --static) answers from an empty folder
#   make test-install-go   the README's Go program in a module of its own answers
#   make test-install-python  `pip install ./bindings/python` in a fresh venv, and its
#                          wheel in another one without Go, answer from an empty folder
#   make test-install-rust a new crate depending on bindings/rust/dllm (the Rust README's
#                          snippet) answers, with libdllm built by cargo or given
GO ?= go
DLLM_BUILD := build
PYTHON ?= python3
CARGO ?= cargo
BINDINGS_CC ?= gcc
BINDINGS_CFLAGS := -std=c11 -Wall -Wextra -Werror -g -Iinclude
ASAN_FLAGS := -fsanitize=address -fno-omit-frame-pointer
# The library is rebuilt only when a Go, C or assembly source it is made of changes.
LIBDLLM_SRC := $(shell find dllm kernels capi -type f \( -name '*.go' -o -name '*.c' -o -name '*.h' -o -name '*.s' \) ! -name '*_test.go' 2>/dev/null) include/dllm.h go.mod go.sum
RPATH := -Wl,-rpath,$(abspath $(DLLM_BUILD))

PREFIX ?= /usr/local
DLLM_VERSION := $(shell awk '/^\#define DLLM_VERSION_(MAJOR|MINOR|PATCH) /{print $$3}' include/dllm.h | paste -sd.)

INSTALL_TESTS := test-install-c test-install-go test-install-python test-install-rust
BINDINGS_TESTS := test-capi-symbols test-c test-python test-rust test-xlang test-arm64-capi \
	$(INSTALL_TESTS)

.PHONY: lib install test-bindings $(BINDINGS_TESTS) python-lib clean-bindings

# `make` builds the library too; `make test` runs these tests too.
all: lib
TEST_STAGES += $(BINDINGS_TESTS)

test-bindings: $(BINDINGS_TESTS)

lib: $(DLLM_BUILD)/libdllm.so $(DLLM_BUILD)/libdllm.a

$(DLLM_BUILD)/libdllm.so: $(LIBDLLM_SRC)
	@mkdir -p $(DLLM_BUILD)
	$(GO) build -buildmode=c-shared -o $@ ./capi

$(DLLM_BUILD)/libdllm.a: $(LIBDLLM_SRC)
	@mkdir -p $(DLLM_BUILD)
	$(GO) build -buildmode=c-archive -o $@ ./capi

install: lib
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 include/dllm.h $(DESTDIR)$(PREFIX)/include/dllm.h
	install -m 755 $(DLLM_BUILD)/libdllm.so $(DESTDIR)$(PREFIX)/lib/libdllm.so
	install -m 644 $(DLLM_BUILD)/libdllm.a $(DESTDIR)$(PREFIX)/lib/libdllm.a
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(DLLM_VERSION)|' mk/dllm.pc.in \
		>$(DESTDIR)$(PREFIX)/lib/pkgconfig/dllm.pc

test-capi-symbols: $(DLLM_BUILD)/libdllm.so
	scripts/check-capi-symbols.sh $(DLLM_BUILD)/libdllm.so include/dllm.h
	DLLM_LIBRARY_PATH=$(abspath $(DLLM_BUILD)) DLLM_LIB_DIR=$(abspath $(DLLM_BUILD)) scripts/check-abi-mirrors.py

# C example linked against the shared library, the same statically against the archive,
# and both programs built with AddressSanitizer (ASan intercepts every malloc/free the
# library makes through cgo, so leaks and double frees of results show up; the Go heap
# itself is not C memory and needs no checking).
$(DLLM_BUILD)/example: examples/c/main.c include/dllm.h $(DLLM_BUILD)/libdllm.so
	$(BINDINGS_CC) $(BINDINGS_CFLAGS) $< -L$(DLLM_BUILD) -ldllm $(RPATH) -o $@

$(DLLM_BUILD)/example-static: examples/c/main.c include/dllm.h $(DLLM_BUILD)/libdllm.a
	$(BINDINGS_CC) $(BINDINGS_CFLAGS) $< $(DLLM_BUILD)/libdllm.a -lpthread -lm -o $@

$(DLLM_BUILD)/example-asan: examples/c/main.c include/dllm.h $(DLLM_BUILD)/libdllm.so
	$(BINDINGS_CC) $(BINDINGS_CFLAGS) $(ASAN_FLAGS) $< -L$(DLLM_BUILD) -ldllm $(RPATH) -o $@

$(DLLM_BUILD)/misuse-asan: examples/c/misuse.c include/dllm.h $(DLLM_BUILD)/libdllm.so
	$(BINDINGS_CC) $(BINDINGS_CFLAGS) $(ASAN_FLAGS) $< -L$(DLLM_BUILD) -ldllm -lpthread -lm $(RPATH) -o $@

$(DLLM_BUILD)/families-asan: examples/c/families.c include/dllm.h $(DLLM_BUILD)/libdllm.so
	$(BINDINGS_CC) $(BINDINGS_CFLAGS) $(ASAN_FLAGS) $< -L$(DLLM_BUILD) -ldllm $(RPATH) -o $@

# The misuse test again with the Go race detector on the library (c-archive: the race
# runtime needs to start with the program, which must not be PIE).
$(DLLM_BUILD)/race/libdllm.a: $(LIBDLLM_SRC)
	@mkdir -p $(DLLM_BUILD)/race
	$(GO) build -race -tags dllmtest -buildmode=c-archive -o $@ ./capi

$(DLLM_BUILD)/race/misuse: examples/c/misuse.c include/dllm.h $(DLLM_BUILD)/race/libdllm.a
	$(BINDINGS_CC) $(BINDINGS_CFLAGS) -no-pie $< $(DLLM_BUILD)/race/libdllm.a -lpthread -lm -o $@

test-c: $(DLLM_BUILD)/example $(DLLM_BUILD)/example-static $(DLLM_BUILD)/example-asan $(DLLM_BUILD)/misuse-asan $(DLLM_BUILD)/race/misuse $(DLLM_BUILD)/families-asan
	@echo "== C example (static), demo model: expects 21"
	$(DLLM_BUILD)/example-static dllm/internal/demo/hf "What is 12+9?" | tee $(DLLM_BUILD)/example.out
	@grep -qx 21 $(DLLM_BUILD)/example.out
	@echo "== C example under ASan, micro model"
	ASAN_OPTIONS=detect_leaks=1 $(DLLM_BUILD)/example-asan --raw testdata/llada2-micro/hf "Once upon a time"
	@echo "== misuse test under ASan"
	ASAN_OPTIONS=detect_leaks=1 $(DLLM_BUILD)/misuse-asan testdata/llada2-micro/hf 2>$(DLLM_BUILD)/misuse.err || { cat $(DLLM_BUILD)/misuse.err; exit 1; }
	@echo "== family goldens and parameters under ASan"
	ASAN_OPTIONS=detect_leaks=1 $(DLLM_BUILD)/families-asan testdata/families
	@echo "== misuse test with the race detector"
	GORACE=halt_on_error=1 $(DLLM_BUILD)/race/misuse testdata/llada2-micro/hf 2>$(DLLM_BUILD)/race/misuse.err || { cat $(DLLM_BUILD)/race/misuse.err; exit 1; }

# Copies the library into the Python package (git-ignored) so pip bundles it.
python-lib: $(DLLM_BUILD)/libdllm.so
	cp $(DLLM_BUILD)/libdllm.so bindings/python/dllm/libdllm.so

test-python: python-lib
	DLLM_LIBRARY_PATH= $(PYTHON) -m unittest discover -s bindings/python/tests

test-rust: $(DLLM_BUILD)/libdllm.so
	cd bindings/rust && DLLM_LIB_DIR=$(abspath $(DLLM_BUILD)) $(CARGO) test --offline

test-xlang: $(DLLM_BUILD)/libdllm.so $(DLLM_BUILD)/example
	scripts/test-xlang.sh

test-arm64-capi:
	scripts/test-capi-arm64.sh

$(INSTALL_TESTS): test-install-%: lib
	scripts/test-install.sh $*

clean-bindings:
	rm -rf $(DLLM_BUILD)/xlang $(DLLM_BUILD)/arm64 bindings/rust/target bindings/python/dllm/libdllm.so
