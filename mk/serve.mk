# `dllm serve` against real clients. Included by the top-level Makefile.
#
#   make test-serve    the official openai Python client (pinned, in a cached venv)
#                      against a running `dllm serve` on 127.0.0.1: chat and completions,
#                      streamed and not, equal to the Go API's answers; errors, API key,
#                      concurrency and graceful shutdown (tests/serve/test_openai.py);
#                      then the Go load test, printing its latency percentiles

.PHONY: test-serve

test: test-serve

test-serve:
	$(GO) build -o build/dllm ./examples/dllm
	py=$$(scripts/test-venv.sh openai tests/serve/requirements.txt) && \
	DLLM_BIN=build/dllm $$py -m pytest -q -p no:cacheprovider tests/serve/test_openai.py
	$(GO) test -count=1 -run '^TestLoad$$' -v ./dllm/serve/ | grep -E '^(serve load|--- |ok|FAIL)'
