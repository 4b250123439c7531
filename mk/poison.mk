# The poisoning tests of the Python and Rust bindings: after a panic inside the library,
# every later call must fail with INTERNAL. Only a library built with -tags dllmtest has
# the function that panics (include/dllm_test.h), so they run against that build. (The C
# misuse test covers the same through the race build in test-c. Uses the variables of
# mk/bindings.mk, which sorts and so is included before this file.)

.PHONY: test-poison

test: test-poison

$(DLLM_BUILD)/dllmtest/libdllm.so: $(LIBDLLM_SRC)
	@mkdir -p $(dir $@)
	$(GO) build -tags dllmtest -buildmode=c-shared -o $@ ./capi

test-poison: $(DLLM_BUILD)/dllmtest/libdllm.so
	DLLM_LIBRARY_PATH=$(abspath $(DLLM_BUILD)/dllmtest) DLLM_TEST_PANIC=1 \
		$(PYTHON) -m unittest discover -s bindings/python/tests -k test_panic_poisons
	cd bindings/rust && DLLM_LIB_DIR=$(abspath $(DLLM_BUILD)/dllmtest) \
		$(CARGO) test -q --offline --features dllmtest --test poison
