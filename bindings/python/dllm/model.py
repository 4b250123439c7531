"""The Python API: Model, Session, Result."""

import ctypes
import dataclasses
import enum
import os
import queue
import threading
import weakref
from dataclasses import dataclass, field
from typing import Callable, Iterator, List, Optional, Sequence, Tuple, Union

from . import _ffi

# The model built into the library (see dllm_model_load).
DEMO_MODEL = "demo"


class DllmError(Exception):
    """A libdllm call failed. ``status`` is the dllm_status code, ``status_name`` its
    name (e.g. "INVALID_ARGUMENT") and ``message`` the library's explanation."""

    def __init__(self, status: int, message: str):
        self.status = status
        self.status_name = _ffi.dllm_status_string(status).decode()
        self.message = message
        super().__init__(f"{self.status_name}: {message}" if message else self.status_name)


def _errmsg(fn, *args) -> str:
    buf = ctypes.create_string_buffer(4096)
    fn(*args, buf, len(buf))
    return buf.value.decode("utf-8", "replace")


def _check(status: int, errmsg=_ffi.dllm_last_errmsg, *args) -> None:
    if status != _ffi.OK:
        raise DllmError(status, _errmsg(errmsg, *args))


def _utf8(s: str, what: str) -> bytes:
    if not isinstance(s, str):
        raise TypeError(f"{what} must be str, not {type(s).__name__}")
    # Lone surrogates cannot be encoded: let the library reject them as invalid UTF-8.
    return s.encode("utf-8", "surrogatepass")


class StopReason(enum.IntEnum):
    """Why a generation ended (dllm_stop_reason). str() is the library's name of the
    reason ("gen_length", "stopped", ...), as the Go package and JSON output spell it."""

    LENGTH = _ffi.STOP_LENGTH  # max_tokens were generated
    EOS_BLOCK = _ffi.STOP_EOS_BLOCK  # a finished block contained the end-of-text token
    EOS_EARLY = _ffi.STOP_EOS_EARLY  # eos_early_stop saw a final end-of-text token
    TOKEN = _ffi.STOP_TOKEN  # a finished block contained the end-of-turn token
    CALLBACK = _ffi.STOP_CALLBACK  # a callback returned False
    CANCELLED = _ffi.STOP_CANCELLED  # Session.cancel or a closed session

    def __str__(self) -> str:
        return _ffi.dllm_stop_reason_string(self).decode()


@dataclass
class GenerateOptions:
    """The options of one generation (dllm_generate_params). A field left None keeps the
    preset's value; Model.generate also takes each field as a keyword argument.

    preset            None: the model's family's recommended settings (Model.default_options;
                      for LLaDA2 the "default" preset); or a LLaDA2 preset: "default"
                      (LLaDA2.0 threshold decoding: block 32, steps 32, threshold 0.95,
                      greedy), "quality" (LLaDA2.1: threshold 0.7, edit threshold 0.5) or
                      "speed" (LLaDA2.1: threshold 0.5, edit threshold 0)
    max_tokens        new tokens at most, > 0 (default 2048)
    block_length      positions decoded together, > 0
    steps             denoising iterations per block, > 0
    max_post_steps    LLaDA2.1 editing iterations after a block is full, >= 0
    num_to_transfer   LLaDA2.1 minimum positions filled per iteration, > 0
    top_k             0 = no top-k filter
    threshold         fill a mask when its confidence exceeds this, in [0, 1]
    edit_threshold    LLaDA2.1 editing when >= 0 (at most 1); < 0 disables it
    temperature       0 = greedy; >= 0
    top_p             in (0, 1]; 1 = no nucleus filter
    seed              sampling seed
    eos_early_stop    stop as soon as end-of-text is final
    stop_on_role_end  the end-of-turn token also ends the output (default True)
    no_cache          recompute the whole window every forward (for tests; slow)

    LLaDA, LLaDA-MoE, Dream and RND1 only (the README's "Run LLaDA, LLaDA-MoE, Dream and
    RND1"; block_length and threshold may be 0 there: no block, no threshold):
    algorithm         the decoding algorithm; None keeps the family's ("low_confidence",
                      "entropy", ...; "llama.cpp:confidence" and the like for llama.cpp's loop)
    cfg_scale         classifier-free guidance (LLaDA, LLaDA-MoE); 0 = off
    eps               last timestep of Dream's and llama.cpp's timestep schedule, in (0, 1)
    alg_temp          Dream's alg_temp: draw the positions to reveal at this temperature
    eb_gamma          RND1's entropy-bounded sampler budget (selects it when > 0)
    cache             Fast-dLLM's KV cache (LLaDA, LLaDA-MoE, Dream): None or "" exact (no
                      cache); "prefix" (prompt and finished blocks) or "dual" (also the
                      blocks after the current one) are approximate and faster, the tokens
                      may differ from the exact ones'; steps go block by block (block_length,
                      0: 32). LLaDA2.0: "block" (steps after a block's first compute
                      only the masked and just-filled rows), "block:N" (also a full
                      step every N), "window:W" or "window:W:N" ("block" decoding the
                      first W masked positions at a time), approximate too. Other
                      families refuse it
    """

    preset: Optional[str] = None
    max_tokens: Optional[int] = None
    block_length: Optional[int] = None
    steps: Optional[int] = None
    max_post_steps: Optional[int] = None
    num_to_transfer: Optional[int] = None
    top_k: Optional[int] = None
    threshold: Optional[float] = None
    edit_threshold: Optional[float] = None
    temperature: Optional[float] = None
    top_p: Optional[float] = None
    seed: Optional[int] = None
    eos_early_stop: Optional[bool] = None
    stop_on_role_end: Optional[bool] = None
    no_cache: Optional[bool] = None
    algorithm: Optional[str] = None
    cfg_scale: Optional[float] = None
    eps: Optional[float] = None
    alg_temp: Optional[float] = None
    eb_gamma: Optional[float] = None
    cache: Optional[str] = None


@dataclass
class ModelInfo:
    architecture: str
    format: str
    vocab_size: int
    context_length: int
    layers: int
    hidden_size: int
    experts: int
    mask_id: int
    eos_id: int
    role_end_id: int


@dataclass
class Stats:
    prompt_tokens: int
    tokens: int
    forwards: int
    model_calls: int
    tokens_per_forward: float
    time_to_first_token: float  # seconds
    duration: float  # seconds
    tokens_per_second: float
    # positions a LLaDA2 denoising forward ran, on average: the block length when exact,
    # fewer with cache "block" or "window:W"; 0 for the other families
    rows_per_forward: float = 0.0


@dataclass
class Result:
    tokens: List[int]
    text: str
    stop_reason: StopReason
    stats: Stats


@dataclass
class StepEvent:
    block: int
    step: int
    window: int
    start: int
    masked: int
    post_step: int
    canvas: List[int]
    committed: List[Tuple[int, int, float]]  # (pos, token, confidence)
    edited: List[Tuple[int, int, int, float]] = field(default_factory=list)  # (pos, old, new, confidence)


_PRESETS = {
    "default": _ffi.dllm_generate_default_params,
    "quality": _ffi.dllm_generate_quality_params,
    "speed": _ffi.dllm_generate_speed_params,
}
_OPTIONS = [f.name for f in dataclasses.fields(GenerateOptions)]


def _options(options: Optional[GenerateOptions], overrides: dict) -> GenerateOptions:
    """options (or the defaults) with the keyword arguments applied."""
    unknown = sorted(set(overrides) - set(_OPTIONS))
    if unknown:
        raise TypeError(f"unknown generation option {unknown[0]!r} (known: {', '.join(sorted(_OPTIONS))})")
    return dataclasses.replace(options or GenerateOptions(), **overrides)


def _params(o: GenerateOptions, model: "Model") -> _ffi.generate_params:
    if o.preset is not None and o.preset not in _PRESETS:
        raise ValueError(f"preset must be None or one of {sorted(_PRESETS)}, not {o.preset!r}")
    p = _ffi.generate_params(struct_size=ctypes.sizeof(_ffi.generate_params))
    if o.preset is None:
        model._check(_ffi.dllm_model_default_params(model.handle, ctypes.byref(p)))
    else:
        _check(_PRESETS[o.preset](ctypes.byref(p)))
    for k in _OPTIONS[1:]:
        v = getattr(o, k)
        if v is None:
            continue
        if isinstance(v, bool):
            v = int(v)
        elif isinstance(v, str):
            v = _utf8(v, k)
        try:
            setattr(p, k, v)
        except TypeError as e:
            raise TypeError(f"option {k}: {e}") from None
    return p


def _result(r) -> Result:
    c = r.contents
    s = c.stats
    return Result(
        tokens=[c.tokens[i] for i in range(c.n_tokens)],
        text=_ffi.string_at(c.text, c.text_len).decode("utf-8", "replace"),
        stop_reason=StopReason(c.stop),
        stats=Stats(s.prompt_tokens, s.tokens, s.forwards, s.model_calls, s.tokens_per_forward,
                    s.time_to_first_token_ns / 1e9, s.duration_ns / 1e9, s.tokens_per_second,
                    c.rows_per_forward),
    )


def _step_event(ev) -> StepEvent:
    e = ev.contents
    return StepEvent(
        block=e.block, step=e.step, window=e.window, start=e.start, masked=e.masked,
        post_step=e.post_step,
        canvas=[e.canvas[i] for i in range(e.n_canvas)],
        committed=[(c.pos, c.token, c.confidence) for c in (e.committed[i] for i in range(e.n_committed))],
        edited=[(x.pos, x.old_token, x.new_token, x.confidence) for x in (e.edited[i] for i in range(e.n_edited))],
    )


Prompt = Union[str, Sequence[Union[Tuple[str, str], dict]]]


class Model:
    """A loaded model. Use it as a context manager, or call close().

    ``path`` is a Hugging Face directory, a .gguf file or a folder holding one of
    those; "demo" (the default, also for None) is the demo model built into the library.
    ``threads`` None or 0 uses every CPU. ``no_repack`` keeps every weight in the
    memory-mapped file instead of copying, at load, the matrices the kernels read
    faster into a layout of their own (on x86-64 with AVX2: Q4_K, Q6_K and Q8_0;
    as much memory again as those weights); for a model larger than memory."""

    def __init__(self, path: Optional[str] = DEMO_MODEL, threads: Optional[int] = None,
                 kv_cache_f16: bool = False, no_repack: bool = False):
        if path is None:
            path = DEMO_MODEL
        p = _ffi.load_params(struct_size=ctypes.sizeof(_ffi.load_params))
        _check(_ffi.dllm_load_default_params(ctypes.byref(p)))
        p.threads = threads or 0
        p.kv_cache_f16 = int(bool(kv_cache_f16))
        p.no_repack = int(bool(no_repack))
        handle = _ffi.model_p()
        _check(_ffi.dllm_model_load(_utf8(os.fspath(path), "path"), ctypes.byref(p),
                                    ctypes.byref(handle)))
        self._handle = handle
        self._finalizer = weakref.finalize(self, _ffi.dllm_model_free, handle)
        self._default_session = None
        self.path = path

    @property
    def handle(self) -> _ffi.model_p:
        if not self._finalizer.alive:
            raise DllmError(_ffi.CLOSED, "the model is closed")
        return self._handle

    def close(self) -> None:
        """Frees the model; its sessions then raise DllmError(CLOSED)."""
        if self._default_session is not None:
            self._default_session.close()
            self._default_session = None
        self._finalizer()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _check(self, status: int) -> None:
        if status != _ffi.OK:
            raise DllmError(status, _errmsg(_ffi.dllm_model_errmsg, self._handle))

    @property
    def info(self) -> ModelInfo:
        i = _ffi.model_info(struct_size=ctypes.sizeof(_ffi.model_info))
        self._check(_ffi.dllm_model_get_info(self.handle, ctypes.byref(i)))
        return ModelInfo(i.architecture.decode(), i.format.decode(), i.vocab_size,
                         i.context_length, i.layers, i.hidden_size, i.experts, i.mask_id,
                         i.eos_id, i.role_end_id)

    def default_options(self) -> GenerateOptions:
        """The recommended options of the model's family, every field written out
        (dllm_model_default_params): LLaDA2's "default" preset, or for LLaDA, LLaDA-MoE,
        Dream and RND1 their model cards' settings (README "Run LLaDA, LLaDA-MoE, Dream
        and RND1"). Options left None take these values."""
        p = _ffi.generate_params(struct_size=ctypes.sizeof(_ffi.generate_params))
        self._check(_ffi.dllm_model_default_params(self.handle, ctypes.byref(p)))
        o = GenerateOptions()
        for k in _OPTIONS[1:]:
            v = getattr(p, k)
            if k in ("algorithm", "cache"):
                v = v.decode() if v else None
            elif isinstance(getattr(GenerateOptions, k, None), bool) or k in (
                    "eos_early_stop", "stop_on_role_end", "no_cache"):
                v = bool(v)
            setattr(o, k, v)
        return o

    def tokenize(self, text: str, parse_special: bool = False) -> List[int]:
        b = _utf8(text, "text")
        n = ctypes.c_size_t()
        st = _ffi.dllm_tokenize(self.handle, b, int(parse_special), None, 0, ctypes.byref(n))
        if st == _ffi.BUFFER_TOO_SMALL:
            ids = (ctypes.c_int32 * n.value)()
            st = _ffi.dllm_tokenize(self.handle, b, int(parse_special), ids, n.value,
                                    ctypes.byref(n))
            self._check(st)
            return list(ids)
        self._check(st)
        return []

    def detokenize(self, ids: Sequence[int]) -> str:
        arr = (ctypes.c_int32 * len(ids))(*ids)
        out, n = ctypes.c_void_p(), ctypes.c_size_t()
        self._check(_ffi.dllm_detokenize(self.handle, arr, len(ids), ctypes.byref(out),
                                         ctypes.byref(n)))
        try:
            return _ffi.string_at(out.value, n.value).decode("utf-8", "replace")
        finally:
            _ffi.dllm_free(out)

    def session(self, system: Optional[str] = None) -> "Session":
        """A new session (its own KV cache and conversation), e.g. for multi-turn chat."""
        s = Session(self)
        if system:
            s.set_system(system)
        return s

    def _session(self) -> "Session":
        if self._default_session is None:
            self._default_session = Session(self)
        return self._default_session

    def generate(self, prompt: Optional[Prompt] = None, prompt_ids: Optional[Sequence[int]] = None,
                 chat: bool = False, system: Optional[str] = None,
                 on_step: Optional[Callable[[StepEvent], Optional[bool]]] = None,
                 on_text: Optional[Callable[[str], Optional[bool]]] = None,
                 options: Optional[GenerateOptions] = None, **overrides) -> Result:
        """Generates a continuation and returns the Result.

        Give either ``prompt`` (raw text with special tokens parsed; with ``chat=True``
        a user message, or a list of (role, content) pairs, rendered with the chat
        template, ``system`` adding a system message; message contents are plain text,
        special tokens in them are not parsed) or ``prompt_ids``. ``options`` is a
        GenerateOptions; keyword arguments (``max_tokens=64``, ``preset="quality"``, any
        field of GenerateOptions) override its fields. ``on_step``/``on_text`` receive
        each step and each final piece of text; returning False stops generation (the
        partial Result has stop_reason StopReason.CALLBACK). An exception raised in a
        callback stops generation and is re-raised.

        Model.generate and Model.stream share one session (so the KV cache of a
        repeated prompt prefix is reused): for generations in parallel threads, give
        each thread its own Model.session().
        """
        return self._session().generate(prompt, prompt_ids, chat, system, on_step, on_text,
                                        options, **overrides)

    def stream(self, prompt: Optional[Prompt] = None, prompt_ids: Optional[Sequence[int]] = None,
               chat: bool = False, system: Optional[str] = None,
               on_step: Optional[Callable[[StepEvent], Optional[bool]]] = None,
               options: Optional[GenerateOptions] = None, **overrides) -> Iterator[str]:
        """Like generate, but yields the text as it becomes final. The generator's return
        value (StopIteration.value) is the Result."""
        return self._session().stream(prompt, prompt_ids, chat, system, on_step, options,
                                      **overrides)


class _Callbacks:
    """Bridges Python callables to the C callbacks for one call, remembering the first
    exception so it can be re-raised once the C call has returned."""

    def __init__(self, on_step, on_text):
        self.error = None
        self.on_step, self.on_text = on_step, on_text
        # Kept referenced here for the whole call.
        self.c_step = _ffi.step_callback(self._step) if on_step else _ffi.step_callback()
        self.c_text = _ffi.text_callback(self._text) if on_text else _ffi.text_callback()

    def install(self, p: _ffi.generate_params) -> None:
        p.on_step = self.c_step
        p.on_text = self.c_text

    def _call(self, f, arg) -> int:
        if self.error is not None:
            return 1
        try:
            return 1 if f(arg) is False else 0
        except BaseException as e:  # re-raised after the C call returns
            self.error = e
            return 1

    def _step(self, ev, _user_data):
        return self._call(self.on_step, _step_event(ev))

    def _text(self, utf8, n, _user_data):
        return self._call(self.on_text, _ffi.string_at(utf8, n).decode("utf-8", "replace"))


class Session:
    """A decoding state and a conversation on a model. One call at a time."""

    def __init__(self, model: Model):
        self.model = model  # keeps the model alive
        handle = _ffi.session_p()
        model._check(_ffi.dllm_session_new(model.handle, ctypes.byref(handle)))
        self._handle = handle
        self._finalizer = weakref.finalize(self, _ffi.dllm_session_free, handle)

    @property
    def handle(self) -> _ffi.session_p:
        if not self._finalizer.alive:
            raise DllmError(_ffi.CLOSED, "the session is closed")
        return self._handle

    def close(self) -> None:
        self._finalizer()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _check(self, status: int) -> None:
        if status != _ffi.OK:
            raise DllmError(status, _errmsg(_ffi.dllm_session_errmsg, self._handle))

    def set_system(self, text: Optional[str]) -> None:
        self._check(_ffi.dllm_session_set_system(self.handle, None if text is None else _utf8(text, "system")))

    def reset(self) -> None:
        """Forgets the conversation."""
        self._check(_ffi.dllm_session_reset(self.handle))

    def cancel(self) -> None:
        """Cancels a generation running in another thread."""
        self._check(_ffi.dllm_session_cancel(self.handle))

    def _run(self, call, on_step, on_text, options: GenerateOptions) -> Result:
        p = _params(options, self.model)
        cbs = _Callbacks(on_step, on_text)
        cbs.install(p)
        out = ctypes.POINTER(_ffi.result)()
        st = call(ctypes.byref(p), ctypes.byref(out))
        try:
            if cbs.error is not None:
                raise cbs.error
            if st not in (_ffi.OK, _ffi.STOPPED, _ffi.CANCELLED):
                self._check(st)
            return _result(out)
        finally:
            _ffi.dllm_result_free(out)

    def generate(self, prompt: Optional[Prompt] = None, prompt_ids: Optional[Sequence[int]] = None,
                 chat: bool = False, system: Optional[str] = None,
                 on_step: Optional[Callable[[StepEvent], Optional[bool]]] = None,
                 on_text: Optional[Callable[[str], Optional[bool]]] = None,
                 options: Optional[GenerateOptions] = None, **overrides) -> Result:
        """See Model.generate."""
        options = _options(options, overrides)
        h = self.handle
        if (prompt is None) == (prompt_ids is None):
            raise TypeError("give exactly one of prompt and prompt_ids")
        if prompt_ids is not None:
            if chat or system is not None:
                raise TypeError("chat and system apply to a text prompt, not prompt_ids")
            ids = (ctypes.c_int32 * len(prompt_ids))(*prompt_ids)
            return self._run(lambda p, o: _ffi.dllm_session_generate_ids(h, ids, len(ids), p, o),
                             on_step, on_text, options)
        if not chat:
            if system is not None:
                raise TypeError("system needs chat=True")
            b = _utf8(prompt, "prompt")
            return self._run(lambda p, o: _ffi.dllm_session_generate(h, b, p, o),
                             on_step, on_text, options)
        turns = [("user", prompt)] if isinstance(prompt, str) else [
            (m["role"], m["content"]) if isinstance(m, dict) else tuple(m) for m in prompt]
        if system is not None:
            turns.insert(0, ("system", system))
        keep = [(_utf8(r, "role"), _utf8(c, "content")) for r, c in turns]
        msgs = (_ffi.message * len(keep))(*[_ffi.message(r, c) for r, c in keep])
        return self._run(lambda p, o: _ffi.dllm_session_generate_chat(h, msgs, len(keep), p, o),
                         on_step, on_text, options)

    def chat(self, user: str, on_step: Optional[Callable[[StepEvent], Optional[bool]]] = None,
             on_text: Optional[Callable[[str], Optional[bool]]] = None,
             options: Optional[GenerateOptions] = None, **overrides) -> Result:
        """Multi-turn chat: adds the user message to the conversation, generates the
        reply and keeps it in the conversation. Options as for Model.generate."""
        options = _options(options, overrides)
        h, b = self.handle, _utf8(user, "user")
        return self._run(lambda p, o: _ffi.dllm_session_chat(h, b, p, o), on_step, on_text,
                         options)

    def stream(self, prompt: Optional[Prompt] = None, prompt_ids: Optional[Sequence[int]] = None,
               chat: bool = False, system: Optional[str] = None,
               on_step: Optional[Callable[[StepEvent], Optional[bool]]] = None,
               options: Optional[GenerateOptions] = None, **overrides) -> Iterator[str]:
        """See Model.stream. Generation runs in a worker thread; closing the generator
        early stops it."""
        q: "queue.Queue" = queue.Queue()
        closed = threading.Event()
        done = object()

        def on_text(delta):
            if closed.is_set():
                return False
            q.put(delta)
            return None

        box = {}

        def work():
            try:
                box["result"] = self.generate(prompt, prompt_ids, chat, system, on_step,
                                              on_text, options, **overrides)
            except BaseException as e:
                box["error"] = e
            finally:
                q.put(done)

        t = threading.Thread(target=work, name="dllm-stream", daemon=True)
        t.start()
        try:
            while True:
                item = q.get()
                if item is done:
                    break
                yield item
        finally:
            closed.set()
            t.join()
        if "error" in box:
            raise box["error"]
        return box["result"]
