# The web page of `dllm serve` (dllm/serve/web/index.html) driven in a headless browser.
#
#   make test-serve-browser  builds build/dllm, then scripts/serve-browser-test.py runs
#                            `build/dllm serve --port 0` and drives its page in the system
#                            Chromium (apt package chromium, installed by scripts/deps.sh)
#                            through Playwright (pinned in scripts/serve-browser-requirements.txt,
#                            in the cached venv ~/.cache/dllm/venv-browser); the screenshots
#                            land in build/test-artefacts/browser.

SERVE_BROWSER_CHROMIUM ?= /usr/bin/chromium

.PHONY: test-serve-browser

test-serve-browser:
	$(GO) build -o build/dllm ./examples/dllm
	py=$$(scripts/test-venv.sh browser scripts/serve-browser-requirements.txt) && \
	$$py scripts/serve-browser-test.py --dllm build/dllm --chromium $(SERVE_BROWSER_CHROMIUM) \
		--out build/test-artefacts/browser
