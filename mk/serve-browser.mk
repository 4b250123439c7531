# The web page of `dllm serve` (dllm/serve/web/index.html) driven in a headless browser.
#
#   make test-serve-browser  builds build/dllm, then scripts/serve-browser-test.py runs
#                            `build/dllm serve --port 0` and drives its page in the system
#                            Chromium (apt package chromium, installed by scripts/deps.sh)
#                            through Playwright, from a venv kept in the cache below; the
#                            screenshots land in build/test-artefacts/browser.
#
# Playwright is pinned and drives /usr/bin/chromium: no `playwright install`, so no
# browser download.

GO ?= go
PYTHON ?= python3
SERVE_BROWSER_VENV ?= $(HOME)/.cache/dllm/venv-browser
PLAYWRIGHT_VERSION := 1.65.2
SERVE_BROWSER_CHROMIUM ?= /usr/bin/chromium
# The venv is (re)made when this stamp of the pinned version is missing.
SERVE_BROWSER_STAMP := $(SERVE_BROWSER_VENV)/.playwright-$(PLAYWRIGHT_VERSION)

.PHONY: test-serve-browser

$(SERVE_BROWSER_STAMP):
	rm -rf $(SERVE_BROWSER_VENV)
	$(PYTHON) -m venv $(SERVE_BROWSER_VENV)
	$(SERVE_BROWSER_VENV)/bin/pip install --quiet --disable-pip-version-check playwright==$(PLAYWRIGHT_VERSION)
	touch $@

test-serve-browser: $(SERVE_BROWSER_STAMP)
	@mkdir -p build
	$(GO) build -o build/dllm ./examples/dllm
	$(SERVE_BROWSER_VENV)/bin/python scripts/serve-browser-test.py --dllm build/dllm \
		--chromium $(SERVE_BROWSER_CHROMIUM) --out build/test-artefacts/browser
