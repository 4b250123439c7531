"""The official `openai` Python client against a running `dllm serve`.

Run by `make test-serve`: DLLM_BIN names the dllm binary. Each test starts its own
server on a free loopback port and compares the answers with the Go API's, reached
through `dllm generate --json` with the same options.
"""

import json
import os
import re
import signal
import subprocess
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import openai
import pytest

DLLM = os.environ.get("DLLM_BIN", "build/dllm")
QUESTION = "What is 3+4?"


class Server:
    """`dllm serve` on 127.0.0.1 with a free port, until stop()."""

    def __init__(self, *flags):
        self.proc = subprocess.Popen(
            [DLLM, "serve", "--port", "0", *flags],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.log = []
        deadline = time.monotonic() + 60
        for line in self.proc.stderr:
            self.log.append(line)
            m = re.search(r"http://127\.0\.0\.1:\d+", line)
            if m:
                self.url = m.group(0)
                break
            if time.monotonic() > deadline:
                break
        else:
            raise RuntimeError("dllm serve did not start:\n" + "".join(self.log))
        # Keep reading the log so the server never blocks on a full pipe.
        self.reader = threading.Thread(target=lambda: self.log.extend(self.proc.stderr), daemon=True)
        self.reader.start()

    def client(self, api_key="unused", **kw):
        return openai.OpenAI(base_url=self.url + "/v1", api_key=api_key, max_retries=0, **kw)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout)
        self.reader.join(5)
        return code


@pytest.fixture(scope="module")
def server():
    s = Server("--parallel", "2", "-q")
    yield s
    assert s.stop() == 0, "".join(s.log)


def go_api(question, *flags):
    """The Go API's answer for the same question and options."""
    out = subprocess.run([DLLM, "generate", "-p", question, "--json", *flags],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["text"]


def chat(client, question, stream=False, **kw):
    r = client.chat.completions.create(
        model="demo", messages=[{"role": "user", "content": question}], stream=stream, **kw)
    if not stream:
        return r.choices[0].message.content, r
    chunks = list(r)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    return text, chunks


def test_chat(server):
    text, r = chat(server.client(), QUESTION)
    assert text == "7"
    assert r.choices[0].finish_reason == "stop"
    assert r.usage.prompt_tokens > 0 and r.usage.completion_tokens > 0
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens


def test_chat_streaming(server):
    text, chunks = chat(server.client(), QUESTION, stream=True, stream_options={"include_usage": True})
    assert text == "7"
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].usage is not None and chunks[-1].choices == []
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]


def test_completions(server):
    prompt = "<role>HUMAN</role>What is 3+4?<|role_end|><role>ASSISTANT</role>"
    r = server.client().completions.create(model="demo", prompt=prompt)
    assert r.choices[0].text == "7"
    streamed = "".join(c.choices[0].text for c in server.client().completions.create(model="demo", prompt=prompt, stream=True) if c.choices)
    assert streamed == "7"


def test_models(server):
    models = server.client().models.list()
    assert [m.id for m in models.data] == ["demo"]
    assert server.client().models.retrieve("demo").id == "demo"


@pytest.mark.parametrize("question,kw,flags", [
    ("Count from 3 to 9.", {}, []),
    ("Count from 3 to 9.", {"temperature": 0.9, "top_p": 0.95, "seed": 7}, ["--temp", "0.9", "--top-p", "0.95", "--seed", "7"]),
    ("Reverse: t w y p k", {"extra_body": {"preset": "quality"}}, ["--preset", "quality"]),
    ("Repeat: big fish sad hot", {"max_tokens": 5, "extra_body": {"threshold": 0.7}}, ["-n", "5", "--threshold", "0.7"]),
    ("What is the capital of France?", {"extra_body": {"block_length": 16, "steps": 8}}, ["--block-length", "16", "--steps", "8"]),
])
def test_equals_go_api(server, question, kw, flags):
    want = go_api(question, *flags)
    for stream in (False, True):
        got, _ = chat(server.client(), question, stream=stream, **kw)
        assert got == want, f"stream={stream}"


def test_stop(server):
    text, r = chat(server.client(), "Count from 3 to 9.", stop=["6"])
    assert text == "3 4 5 " and r.choices[0].finish_reason == "stop"


def test_concurrent(server):
    questions = {"What is 3+4?": "7", "Count from 3 to 9.": "3 4 5 6 7 8 9",
                 "What is the capital of France?": "Paris", "Reverse: t w y p k": "k p y w t"}
    jobs = [(q, i % 2 == 1) for i, q in enumerate(list(questions) * 6)]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda j: chat(server.client(), j[0], stream=j[1])[0], jobs))
    assert answers == [questions[q] for q, _ in jobs]


def test_errors(server):
    c = server.client()
    with pytest.raises(openai.BadRequestError, match="n must be 1"):
        c.chat.completions.create(model="demo", messages=[{"role": "user", "content": QUESTION}], n=2)
    with pytest.raises(openai.NotFoundError, match="does not exist"):
        c.chat.completions.create(model="gpt-9", messages=[{"role": "user", "content": QUESTION}])
    with pytest.raises(openai.BadRequestError, match="context"):
        c.chat.completions.create(model="demo", messages=[{"role": "user", "content": QUESTION}], max_tokens=10**6)
    assert chat(c, QUESTION)[0] == "7"


def test_api_key():
    s = Server("--api-key", "sesame", "-q")
    try:
        with pytest.raises(openai.AuthenticationError):
            chat(s.client(api_key="wrong"), QUESTION)
        assert chat(s.client(api_key="sesame"), QUESTION)[0] == "7"
        with urllib.request.urlopen(s.url + "/health") as r:  # health needs no key
            assert r.status == 200
    finally:
        assert s.stop() == 0


def test_graceful_shutdown():
    """SIGTERM mid-stream: the running request finishes, then the server exits 0."""
    s = Server("-q")
    c = s.client()
    stream = c.chat.completions.create(
        model="demo", messages=[{"role": "user", "content": "Count from 3 to 9."}], stream=True,
        extra_body={"threshold": 1})  # one position per forward: a slow answer
    it = iter(stream)
    first = next(it)
    s.proc.send_signal(signal.SIGTERM)
    text = (first.choices[0].delta.content or "") + "".join(ch.choices[0].delta.content or "" for ch in it if ch.choices)
    assert text == go_api("Count from 3 to 9.", "--threshold", "1")
    assert s.stop(timeout=30) == 0
    assert any("shutting down" in line for line in s.log)
    with pytest.raises(openai.APIConnectionError):
        chat(c, QUESTION)
