# Release archives for the platforms apps ship on, built from Linux with Zig (from PyPI)
# as cgo's C compiler, and the checks of the cross-built binaries. Included by the
# top-level Makefile.
#
#   make dist          build/dist/dllm-VERSION-OS-ARCH.{tar.gz,zip} for linux amd64/arm64,
#                      windows amd64, darwin arm64/amd64, android arm64, and SHA256SUMS
#   make test-windows  dllm.dll, dllm.exe, the C example and the kernel and forward tests
#                      for windows/amd64, run under wine (also run by `make test`)
#   make test-darwin   the darwin/arm64 libdllm.a: Mach-O arm64, symbol table, exports
#                      (also run by `make test`)
#   make vet-platforms go vet, test files included, for windows and darwin, so no
#                      Linux-only call creeps in unnoticed (android builds with the linux
#                      files, so the ordinary vet covers it; also run by `make test`)

.PHONY: dist test-windows test-darwin vet-platforms

test: vet-platforms test-windows test-darwin

dist:
	scripts/dist.sh

test-windows:
	scripts/test-windows.sh

test-darwin:
	. scripts/dist-lib.sh && use_zig && build_lib darwin arm64 c-archive build/darwin-arm64/libdllm.a
	scripts/check-dist-artefact.sh darwin/arm64 static build/darwin-arm64/libdllm.a

vet-platforms:
	GOOS=windows GOARCH=amd64 CGO_ENABLED=0 $(GO) vet ./...
	GOOS=darwin GOARCH=arm64 CGO_ENABLED=0 $(GO) vet ./...
