#!/usr/bin/env python3
"""Drives the web page of `dllm serve` in a headless Chromium (make test-serve-browser).

Starts `DLLM serve --port 0` (the built-in demo model, which answers "What is 3+4?" with
"7"), opens its page in the system Chromium through Playwright and checks, as a user
would: Enter sends; the answer streams in; the blocks are drawn denoising (a frame with
masked cells, from the page's own log and from a MutationObserver this script installs);
the settings drawer changes the request; the history is sent as messages and "New chat"
clears it; Stop cancels a long generation, leaves the page usable and the server
answering; a phone-sized viewport has no horizontal scroll. Screenshots go to --out.
Installs nothing: it needs the playwright package (see mk/serve.mk) and a
Chromium at --chromium. Exits non-zero with a message on the first failure.
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request

START_TIMEOUT = 30  # seconds for the server to print its address
ANSWER_TIMEOUT = 20_000  # ms for one short answer of the demo model

# Installed in the page before its own script: remembers whether any .cell was ever
# drawn masked, independently of the page's own frame log.
OBSERVER = """
window.__seen = {masked: 0, cells: 0};
new MutationObserver((records) => {
  for (const r of records) {
    const nodes = r.type === "childList" ? Array.from(r.addedNodes) : [r.target];
    for (const n of nodes) {
      if (n.nodeType !== 1) continue;
      const cells = n.matches(".cell") ? [n] : Array.from(n.querySelectorAll(".cell"));
      for (const c of cells) {
        if (c.closest(".legend")) continue;
        window.__seen.cells++;
        if (c.classList.contains("masked")) window.__seen.masked++;
      }
    }
  }
}).observe(document, {subtree: true, childList: true, attributes: true, attributeFilter: ["class"]});
"""


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def log(msg):
    print(f"serve-browser-test: {msg}", flush=True)


class Server:
    """`dllm serve --port 0`, its output collected by a thread."""

    def __init__(self, exe, *extra):
        self.lines = []
        self.url = None
        self.ready = threading.Event()
        cmd = [exe, "serve", "--port", "0", *extra]
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
            start_new_session=True)
        threading.Thread(target=self._read, daemon=True).start()
        if not self.ready.wait(START_TIMEOUT) or not self.url:
            self.stop()
            raise Failure(f"`{' '.join(cmd)}` printed no http://127.0.0.1:PORT line within "
                          f"{START_TIMEOUT} s; its output:\n" + self.tail())

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            m = re.search(r"http://127\.0\.0\.1:\d+", line)
            if m and not self.url:
                self.url = m.group(0)
                self.ready.set()
        self.ready.set()  # exited

    def tail(self, n=30):
        return "\n".join("  | " + l for l in self.lines[-n:]) or "  (nothing)"

    def get(self, path, timeout=5):
        with urllib.request.urlopen(self.url + path, timeout=timeout) as r:
            return r.status, r.read()

    def stop(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(5)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(5)


def last_answer(page):
    return page.evaluate("""() => {
      const all = document.querySelectorAll(".msg.assistant");
      const m = all[all.length - 1];
      return m ? {text: m.textContent, state: m.dataset.state, frames: +m.dataset.frames,
                  count: all.length} : null;
    }""")


def wait_answer(page, count, timeout=ANSWER_TIMEOUT):
    """Waits for the count-th assistant answer to end (done, stopped or error)."""
    page.wait_for_function(
        """(n) => { const all = document.querySelectorAll(".msg.assistant");
                    return all.length >= n && all[n - 1].dataset.state !== "streaming"; }""",
        arg=count, timeout=timeout, polling=50)
    a = last_answer(page)
    if a["state"] == "error":
        err = page.evaluate("""() => { const e = document.querySelectorAll(".turn.assistant .error");
                                      return e.length ? e[e.length - 1].textContent : ""; }""")
        raise Failure(f"answer {count} ended in an error shown to the user: {err!r}")
    return a


def ask(page, text, count):
    page.click("#prompt")
    page.locator("#prompt").press_sequentially(text)
    page.press("#prompt", "Enter")
    return wait_answer(page, count)


def set_settings(page, **values):
    page.click("#settings-btn")
    page.wait_for_selector("#settings", state="visible")
    for k, v in values.items():
        if k in ("preset", "cache"):
            page.select_option("#" + k, v)
        else:
            page.fill("#" + k, str(v))
            page.dispatch_event("#" + k, "change")
    page.click("#settings-close")
    page.wait_for_selector("#settings", state="hidden")


def no_horizontal_scroll(page):
    return page.evaluate("""() => ({
      doc: [document.documentElement.scrollWidth, document.documentElement.clientWidth],
      body: [document.body.scrollWidth, document.body.clientWidth],
      chat: [document.querySelector("#chat").scrollWidth, document.querySelector("#chat").clientWidth]})""")


def run(args, server):
    from playwright.sync_api import sync_playwright

    requests = []  # bodies of POST /v1/chat/completions
    page_errors = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"], headless=True)
        try:
            # ---- desktop ----------------------------------------------------------------
            ctx = browser.new_context(viewport={"width": 1280, "height": 860})
            ctx.add_init_script(OBSERVER)
            page = ctx.new_page()
            page.on("pageerror", lambda e: page_errors.append(str(e)))
            page.on("request", lambda r: requests.append(json.loads(r.post_data or "{}"))
                    if r.method == "POST" and r.url.endswith("/v1/chat/completions") else None)
            page.goto(server.url + "/")
            page.wait_for_selector("#prompt")
            check(page.title() != "", "the page has no title")
            page.wait_for_function("() => document.querySelector('#model').textContent !== 'connecting…'", timeout=5000)
            model = page.text_content("#model")
            log(f"page loaded, model {model!r}")

            # Shift+Enter is a new line, not a send.
            page.click("#prompt")
            page.keyboard.type("a")
            page.keyboard.press("Shift+Enter")
            page.keyboard.type("b")
            check(page.input_value("#prompt") == "a\nb", f"Shift+Enter did not insert a new line: {page.input_value('#prompt')!r}")
            check(page.locator(".msg.user").count() == 0, "Shift+Enter sent the message")
            page.fill("#prompt", "")

            # 1. The demo question with the server's defaults.
            a = ask(page, "What is 3+4?", 1)
            check(a["state"] == "done", f"answer 1 ended as {a['state']!r}, not done")
            check("7" in a["text"], f"the answer to 'What is 3+4?' is {a['text']!r}, without 7")
            check(a["frames"] >= 1, f"answer 1 drew {a['frames']} denoising frames")
            body = requests[-1]
            check(body.get("stream") is True and body.get("dllm", {}).get("steps") is True,
                  f"the request does not ask for a stream with steps: {body}")
            check(body.get("model") == model, f"the request names model {body.get('model')!r}, /v1/models {model!r}")
            stats = page.evaluate("() => [...document.querySelectorAll('#stats > span')].map(s => s.textContent).join(', ')")
            check("forward" in stats and "tokens/s" in stats, f"#stats shows no statistics: {stats!r}")
            log(f"answer 1: {a['text']!r}, {a['frames']} frame(s); stats: {stats}")

            # 2. Threshold 1 through the settings drawer: one position per forward, so the
            # blocks are drawn with masked cells. The history goes along as messages.
            set_settings(page, threshold=1, max_tokens=64)
            a = ask(page, "And what is 2+2?", 2)
            body = requests[-1]
            check(body.get("threshold") == 1 and body.get("max_tokens") == 64,
                  f"the settings did not reach the request: {body}")
            roles = [m["role"] for m in body.get("messages", [])]
            check(roles == ["user", "assistant", "user"], f"the second request's messages have roles {roles}, not user, assistant, user")
            check(body["messages"][1]["content"] == last_answer_text(page, 0),
                  "the second request does not carry the first answer")

            # 3. New chat: the conversation is cleared and the next request starts afresh.
            page.click("#new-chat")
            check(page.locator(".msg").count() == 0, "New chat left messages on the page")
            before = len(window_frames(page))
            a = ask(page, "What is 3+4?", 1)
            check([m["role"] for m in requests[-1]["messages"]] == ["user"], "after New chat the request still sends the old history")
            check("7" in a["text"], f"answer (threshold 1) is {a['text']!r}, without 7")
            frames = window_frames(page)[before:]
            masked = [f for f in frames if f["masked"] > 0]
            seen = page.evaluate("() => window.__seen")
            check(a["frames"] >= 2 and a["frames"] == len(frames),
                  f"threshold 1 drew {a['frames']} frames (page log: {len(frames)}); want at least 2")
            check(masked and seen["masked"] > 0,
                  f"no frame was drawn with a masked cell (page log: {frames}; observer: {seen})")
            check(page.locator(".block").count() >= 1 and page.locator(".block .cell").count() >= 1,
                  "no .block / .cell on the page")
            log(f"threshold 1: {a['frames']} frames, {len(masked)} with masked cells; observer saw {seen}")
            page.screenshot(path=os.path.join(args.out, "desktop.png"), full_page=True, animations="disabled")

            # 4. Stop: a long generation (LLaDA2.1 editing, threshold 1, one 512-long block:
            # one position per forward), stopped after a few frames.
            page.click("#new-chat")
            set_settings(page, preset="quality", threshold=1, block_length=512, max_tokens=2000)
            page.locator("#prompt").press_sequentially("Write a long essay about the history of mathematics.")
            page.press("#prompt", "Enter")
            page.wait_for_selector("#stop", state="visible", timeout=5000)
            page.wait_for_function("() => +document.querySelector('.msg.assistant').dataset.frames >= 3", timeout=15000)
            t = time.monotonic()
            page.click("#stop")
            a = wait_answer(page, 1, timeout=3000)
            took = 1000 * (time.monotonic() - t)
            check(a["state"] == "stopped", f"after Stop the answer is {a['state']!r}, not stopped")
            check(page.is_visible("#send") and page.is_enabled("#send") and page.is_hidden("#stop"),
                  "after Stop the Send button is not back")
            time.sleep(0.8)
            later = last_answer(page)["frames"]
            check(later == a["frames"], f"frames kept coming after Stop: {a['frames']} then {later}")
            log(f"stopped after {a['frames']} frames; the page was usable {took:.0f} ms after the click")
            status, _ = server.get("/health")
            check(status == 200, f"/health answered {status} after Stop")
            page.screenshot(path=os.path.join(args.out, "desktop-stopped.png"), animations="disabled")
            # The server is free again: the next question is answered at once.
            set_settings(page, preset="default", threshold="", block_length="", max_tokens="", cache="window:12")
            t = time.monotonic()
            a = ask(page, "What is 3+4?", 2)
            check("7" in a["text"], f"after Stop the answer is {a['text']!r}, without 7")
            check(requests[-1].get("cache") == "window:12", f"the cache setting did not reach the request: {requests[-1]}")
            # The stopped generation would hold the server's one session for ~15 s more.
            took = 1000 * (time.monotonic() - t)
            check(took < 5000, f"the question after Stop took {took:.0f} ms: the server went on generating the stopped answer")
            log(f"the next question was answered in {took:.0f} ms (the server cancelled the stopped one)")
            ctx.close()

            # ---- phone ------------------------------------------------------------------
            ctx = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                      is_mobile=True, has_touch=True)
            page = ctx.new_page()
            page.on("pageerror", lambda e: page_errors.append(str(e)))
            page.goto(server.url + "/")
            page.wait_for_selector("#prompt")
            a = ask(page, "What is 3+4?", 1)
            check("7" in a["text"], f"phone: the answer is {a['text']!r}")
            page.screenshot(path=os.path.join(args.out, "phone.png"), animations="disabled")
            # A long unbroken line must wrap, not widen the page.
            page.evaluate("() => { document.querySelector('.msg.user').textContent += ' ' + 'x'.repeat(300); }")
            w = no_horizontal_scroll(page)
            for k, (sw, cw) in w.items():
                check(sw <= cw, f"phone viewport 390x844 scrolls horizontally: {k} is {sw}px wide in {cw}px")
            page.click("#settings-btn")
            w = no_horizontal_scroll(page)
            check(w["doc"][0] <= w["doc"][1], f"phone: the settings drawer scrolls horizontally: {w}")
            page.screenshot(path=os.path.join(args.out, "phone-settings.png"), animations="disabled")
            ctx.close()
            # ---- a server with an API key: the page asks for it -------------------------
            keyed = Server(args.dllm, "--api-key", "browser-test-key")
            try:
                ctx = browser.new_context(viewport={"width": 1000, "height": 700})
                page = ctx.new_page()
                page.on("pageerror", lambda e: page_errors.append(str(e)))
                page.goto(keyed.url + "/")
                page.wait_for_selector("#auth", state="visible", timeout=5000)
                page.fill("#auth-key", "browser-test-key")
                page.press("#auth-key", "Enter")
                page.wait_for_selector("#auth", state="hidden", timeout=5000)
                a = ask(page, "What is 3+4?", 1)
                check("7" in a["text"], f"with an API key: the answer is {a['text']!r}")
                stored = page.evaluate("() => localStorage.getItem('dllm.apiKey')")
                check(stored == "browser-test-key", f"the API key is not kept in localStorage: {stored!r}")
                log("401: the page asked for the API key, then answered")
                ctx.close()
            finally:
                keyed.stop()
        finally:
            browser.close()
    check(not page_errors, "JavaScript errors on the page:\n  " + "\n  ".join(page_errors))


def window_frames(page):
    return page.evaluate("() => window.__dllmFrames")


def last_answer_text(page, i):
    return page.evaluate("(i) => document.querySelectorAll('.msg.assistant')[i].textContent", i)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dllm", required=True, help="the dllm binary to run as `DLLM serve --port 0`")
    ap.add_argument("--out", required=True, help="folder for the screenshots")
    ap.add_argument("--chromium", default="/usr/bin/chromium", help="the Chromium to drive (default %(default)s)")
    args = ap.parse_args()
    t0 = time.monotonic()
    try:
        import playwright  # noqa: F401
    except ImportError:
        print("serve-browser-test: FAIL: the playwright package is missing (make test-serve-browser installs it in a venv)", file=sys.stderr)
        return 1
    if not os.access(args.chromium, os.X_OK):
        print(f"serve-browser-test: FAIL: no Chromium at {args.chromium} (apt-get install chromium; scripts/deps.sh does)", file=sys.stderr)
        return 1
    if not os.access(args.dllm, os.X_OK):
        print(f"serve-browser-test: FAIL: {args.dllm} is not an executable", file=sys.stderr)
        return 1
    os.makedirs(args.out, exist_ok=True)
    server = None
    try:
        server = Server(args.dllm)
        log(f"server at {server.url}")
        run(args, server)
        check(server.proc.poll() is None, f"the server exited (status {server.proc.returncode})")
    except Exception as e:  # Failure, a Playwright timeout, anything: one clear message
        kind = "" if isinstance(e, Failure) else type(e).__name__ + ": "
        print(f"serve-browser-test: FAIL: {kind}{e}", file=sys.stderr)
        if server:
            print("server output (last lines):\n" + server.tail(), file=sys.stderr)
        return 1
    finally:
        if server:
            server.stop()
    log(f"ok in {time.monotonic() - t0:.1f} s; screenshots in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
