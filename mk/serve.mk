# `dllm serve` against real clients. Included by the top-level Makefile.
#
#   make test-serve          the official openai Python client (pinned, in a cached venv)
#                            against a running `dllm serve` on 127.0.0.1: chat and
#                            completions, streamed and not, equal to the Go API's answers;
#                            errors, API key, concurrency and graceful shutdown
#                            (dllm/serve/testdata/test_openai.py); then the Go load test, printing
#                            its latency percentiles
#   make test-serve-browser  the web page in the system Chromium (apt package chromium,
#                            installed by scripts/deps.sh) driven by Playwright (pinned, in
#                            a cached venv; dllm/serve/testdata/browser.py): it asks the demo model,
#                            sees the answer and denoising frames, stops a long request,
#                            fits a phone; screenshots land in build/test-artefacts/browser

SERVE_BROWSER_CHROMIUM ?= /usr/bin/chromium

.PHONY: test-serve test-serve-browser

test: test-serve test-serve-browser

test-serve:
	$(GO) build -o build/dllm ./examples/dllm
	py=$$(scripts/test-venv.sh openai dllm/serve/testdata/openai-requirements.txt) && \
	DLLM_BIN=build/dllm $$py -m pytest -q -p no:cacheprovider dllm/serve/testdata/test_openai.py
	$(GO) test -count=1 -run '^TestLoad$$' -v ./dllm/serve/ | grep -E '^(serve load|--- |ok|FAIL)'

test-serve-browser:
	$(GO) build -o build/dllm ./examples/dllm
	py=$$(scripts/test-venv.sh browser dllm/serve/testdata/browser-requirements.txt) && \
	$$py dllm/serve/testdata/browser.py --dllm build/dllm --chromium $(SERVE_BROWSER_CHROMIUM) \
		--out build/test-artefacts/browser
