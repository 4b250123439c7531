"""Shared helpers for the family fixture generators (issue #15).

Nothing in here implements a model or a decoding algorithm: those come from the
families' official code, fetched into $DLLM_EXT (never into this repository) and
imported from there.  This module only builds tokenizers and weight files, writes
goldens, and records what the official code did (tracing hooks that observe calls
without changing them).
"""
from __future__ import annotations

import hashlib
import json
import os
import struct
import sys
import types
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
# Fetched code, venvs and the llama.cpp build live outside the repository.
EXT = Path(os.environ.get("DLLM_EXT", Path.home() / ".cache" / "dllm" / "families-ext"))
SRC = EXT / "src"
# The byte-level BPE model part (256 byte tokens + 762 merges) is reused from the
# llada2-micro fixture, so every family shares one small, known vocabulary.
BASE_TOKENIZER = Path(os.environ.get(
    "DLLM_BASE_TOKENIZER", REPO / "testdata" / "llada2-micro" / "hf" / "tokenizer.json"))
N_MODEL_TOKENS = 1018
# DLLM_FIXROOT / DLLM_DTYPE exist only for the float32 re-run check (check_float32.py):
# write a family's files elsewhere and run the official code in float32 instead of float64.
FIXROOT = Path(os.environ.get("DLLM_FIXROOT", REPO / "testdata" / "families"))


def model_dtype():
    import torch
    return torch.float32 if os.environ.get("DLLM_DTYPE") == "float32" else torch.float64

LLAMA3_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
                r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|"
               r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")


# --------------------------------------------------------------------------- tokenizer

def build_tokenizer(out_dir: Path, split_regex: str, specials: list[str], vocab_size: int,
                    tokenizer_config: dict) -> dict:
    """Byte-level BPE over the shared 1018 model tokens, family special tokens appended
    (ids 1018, 1019, ...). Returns {token text: id}."""
    from tokenizers import Tokenizer, Regex, AddedToken
    from tokenizers.models import BPE
    from tokenizers import pre_tokenizers, decoders, processors

    base = json.loads(BASE_TOKENIZER.read_text())
    vocab = {t: i for t, i in base["model"]["vocab"].items() if i < N_MODEL_TOKENS}
    assert len(vocab) == N_MODEL_TOKENS
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in base["model"]["merges"]]
    tok = Tokenizer(BPE(vocab=vocab, merges=merges, unk_token=None, fuse_unk=False, byte_fallback=False))
    tok.normalizer = None
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(split_regex), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    assert N_MODEL_TOKENS + len(specials) <= vocab_size
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    out_dir.mkdir(parents=True, exist_ok=True)
    tok.save(str(out_dir / "tokenizer.json"))
    ids = {s: tok.token_to_id(s) for s in specials}
    for k, s in enumerate(specials):
        assert ids[s] == N_MODEL_TOKENS + k, (s, ids[s])
    cfg = dict(tokenizer_config)
    cfg["added_tokens_decoder"] = {str(ids[s]): {"content": s, "lstrip": False, "normalized": False,
                                                  "rstrip": False, "single_word": False, "special": True}
                                   for s in specials}
    (out_dir / "tokenizer_config.json").write_text(json.dumps(cfg, indent=2, ensure_ascii=False) + "\n")
    return ids


# --------------------------------------------------------------------------- weights

def bf16_round(a: np.ndarray) -> np.ndarray:
    """Round float32 values to the nearest bf16 (ties to even); returns float32."""
    a = np.ascontiguousarray(a, dtype=np.float32)
    u = a.view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000
    return u.astype(np.uint32).view(np.float32)


class WeightMaker:
    """Per-tensor seeded normal values, derived from (seed, tensor name) so that adding a
    tensor never changes another."""

    def __init__(self, seed: int):
        self.seed = seed

    def rng(self, name: str) -> np.random.Generator:
        h = int.from_bytes(hashlib.sha256(f"{self.seed}:{name}".encode()).digest()[:8], "little")
        return np.random.default_rng(h)

    def normal(self, name: str, shape, std: float, mean: float = 0.0) -> np.ndarray:
        return bf16_round(self.rng(name).normal(mean, std, size=shape).astype(np.float32))


def save_safetensors(path: Path, tensors: dict[str, np.ndarray], dtypes: dict[str, str] | None = None,
                     default: str = "bf16"):
    import torch
    from safetensors.torch import save_file
    out = {}
    for name, a in tensors.items():
        dt = (dtypes or {}).get(name, default)
        t = torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))
        out[name] = t.to(torch.bfloat16 if dt == "bf16" else torch.float32)
        if dt == "bf16":
            assert torch.equal(out[name].to(torch.float32), t), name  # values are bf16-exact
    save_file(out, str(path), metadata={"format": "pt"})


# --------------------------------------------------------------------------- goldens

def r8(x: float) -> float:
    return float(f"{float(x):.8g}")


def write_json(path: Path, obj):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=1, ensure_ascii=False) + "\n")


def compact_json(path: Path, obj):
    """JSON with short arrays on one line (traces stay readable but small)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    txt = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    path.write_text(txt + "\n")


def write_logits(gdir: Path, name: str, logits: np.ndarray, sidecar: dict):
    logits = np.asarray(logits, dtype=np.float64)
    assert logits.ndim == 2
    (gdir / f"logits_{name}.bin").write_bytes(logits.astype("<f4").tobytes())
    srt = np.sort(logits, axis=1)
    sidecar = dict(sidecar)
    sidecar.update({
        "shape": list(logits.shape),
        "dtype": "float32 little-endian, row-major [tokens, vocab]",
        "argmax": [int(i) for i in logits.argmax(axis=1)],
        "top2_gap_min": r8((srt[:, -1] - srt[:, -2]).min()),
        "sha256_bin": hashlib.sha256(logits.astype("<f4").tobytes()).hexdigest(),
    })
    write_json(gdir / f"logits_{name}.json", sidecar)


def torch_rng_note() -> dict:
    return {
        "how_seeded": "torch.manual_seed(seed) immediately before calling the generate function; CPU, single thread of draws",
        "generator": "torch CPU default generator = MT19937 (32-bit), init_genrand(seed) (same as numpy.random.RandomState(seed))",
        "rand_float64": "each float64 uniform takes two 32-bit outputs a then b: ((a << 32 | b) & (2**53-1)) * 2**-53; a tensor is filled in row-major order",
        "rand_float32": "each float32 uniform takes one 32-bit output a: (a & (2**24-1)) * 2**-24",
        "verified": "the generator script re-derives every torch.rand / torch.rand_like draw of the seeded runs with numpy's MT19937 and this formula and asserts equality",
    }


class MT:
    """numpy replay of torch's CPU uniform draws (see torch_rng_note)."""

    def __init__(self, seed: int):
        self.bg = np.random.MT19937()
        self.bg._legacy_seeding(seed)

    def f64(self, n: int) -> np.ndarray:
        r = self.bg.random_raw(2 * n).astype(np.uint64)
        v = ((r[0::2] << np.uint64(32)) | r[1::2]) & np.uint64((1 << 53) - 1)
        return v.astype(np.float64) * 2.0 ** -53

    def f32(self, n: int) -> np.ndarray:
        r = self.bg.random_raw(n).astype(np.uint64)
        return ((r & np.uint64((1 << 24) - 1)).astype(np.float64) * 2.0 ** -24).astype(np.float32)


class TorchProxy(types.ModuleType):
    """Stands in for the `torch` name inside an official generate module: forwards every
    attribute to torch, and lets the tracer observe a few calls (argmax, topk, rand,
    rand_like, multinomial) without changing their results."""

    def __init__(self, real, tracer):
        super().__init__("torch")
        self._real = real
        self._tracer = tracer

    def __getattr__(self, name):
        attr = getattr(self._real, name)
        hook = getattr(self._tracer, "on_" + name, None)
        if hook is None or not callable(attr):
            return attr

        def wrapped(*a, **kw):
            out = attr(*a, **kw)
            hook(out, *a, **kw)
            return out
        return wrapped


def sha256_file(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def files_table(root: Path) -> list[tuple[str, int]]:
    rows = []
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.name not in ("README.md", "SHA256SUMS"):
            rows.append((str(p.relative_to(root)), p.stat().st_size))
    return rows


def write_sha256sums(root: Path):
    lines = [f"{sha256_file(root / f)}  {f}" for f, _ in files_table(root)]
    (root / "SHA256SUMS").write_text("\n".join(lines) + "\n")


def gguf_summary(path: Path) -> dict:
    from gguf import GGUFReader
    r = GGUFReader(str(path))
    types_ = {}
    for t in r.tensors:
        types_[t.tensor_type.name] = types_.get(t.tensor_type.name, 0) + 1
    return {"tensors": len(r.tensors), "types": types_}


def convert_gguf(hf_dir: Path, out: Path, outtype: str, tokpre: str, mask_id_override: int | None = None):
    hf_dir, out = Path(hf_dir).resolve(), Path(out).resolve()
    """Run llama.cpp's own convert_hf_to_gguf.py (from $DLLM_EXT/llama.cpp). The only
    change: get_vocab_base_pre returns `tokpre` (the converter identifies a tokenizer
    by hashing the ids of a test string; our 1024-token vocabulary is not in its table)."""
    import subprocess
    code = f"""
import sys
sys.path.insert(0, {str(EXT / 'llama.cpp')!r}); sys.path.insert(0, {str(EXT / 'llama.cpp' / 'gguf-py')!r})
import conversion.base as b
b.TextModel.get_vocab_base_pre = lambda self, tokenizer: {tokpre!r}
if {mask_id_override!r} is not None:
    import gguf
    _add = gguf.GGUFWriter.add_mask_token_id
    gguf.GGUFWriter.add_mask_token_id = lambda self, v: _add(self, {mask_id_override!r})
sys.argv = ['convert_hf_to_gguf.py', {str(hf_dir)!r}, '--outfile', {str(out)!r}, '--outtype', {outtype!r}]
import runpy
runpy.run_path({str(EXT / 'llama.cpp' / 'convert_hf_to_gguf.py')!r}, run_name='__main__')
"""
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-c", code], check=True, cwd=str(EXT / "llama.cpp"),
                   stdout=subprocess.DEVNULL)


def chat_golden(tok, gdir: Path):
    """Renderings of the chat template by transformers (jinja2), text and ids."""
    convs = {
        "single_turn": [{"role": "user", "content": "What is the capital of France?"}],
        "with_system": [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hi there!"}],
        "multi_turn": [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hi"},
                       {"role": "assistant", "content": "Hello."}, {"role": "user", "content": "Bye"}],
    }
    out = []
    for name, msgs in convs.items():
        for agp in (True, False):
            text = tok.apply_chat_template(msgs, add_generation_prompt=agp, tokenize=False)
            out.append({"name": name, "add_generation_prompt": agp, "messages": msgs, "text": text,
                        "ids": tok.encode(text, add_special_tokens=False)})
    write_json(gdir / "chat_template.json", {"renderer": "transformers apply_chat_template (jinja2)", "cases": out})


def start_family(out: Path):
    """The common start of a family generator: parses --skip-gguf, pins torch to one
    thread (the goldens are float64; threads only add nondeterminism) and empties
    out/golden. Returns (args, hf dir, golden dir)."""
    import argparse
    import torch
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-gguf", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    gdir = out / "golden"
    gdir.mkdir(parents=True, exist_ok=True)
    for p in gdir.glob("*"):
        p.unlink()
    return args, out / "hf", gdir


def finish_family(args, family: str, hf: Path, ggufs, **convert_kw):
    """The common end: converts hf with llama.cpp's converter to each (path, outtype,
    tokenizer pre name) of ggufs unless --skip-gguf, then runs the llama.cpp checks."""
    if args.skip_gguf:
        return
    import subprocess
    for path, outtype, pre in ggufs:
        convert_gguf(hf, path, outtype, pre, **convert_kw)
    subprocess.run([sys.executable, str(Path(__file__).resolve().parent / "llamacpp_check.py"), family], check=True)


def load_official(src: Path, module: str, cls: str, hf: Path, **kw):
    """Loads hf with the official model class cls of module, fetched under src, with its
    weights in the golden dtype (float64). kw go to from_pretrained."""
    import importlib
    import torch
    sys.path.insert(0, str(src))
    klass = getattr(importlib.import_module(module), cls)
    torch.set_default_dtype(model_dtype())
    kw.setdefault("torch_dtype", model_dtype())
    m = klass.from_pretrained(str(hf), **kw).eval()
    torch.set_default_dtype(torch.float32)
    assert next(m.parameters()).dtype == model_dtype()
    return m


def hf_tokenizer(hf: Path):
    """The fixture's tokenizer through transformers, the renderer of the chat goldens."""
    from transformers import AutoTokenizer
    return AutoTokenizer.from_pretrained(str(hf))


def moe_attention_weights(wm, t: dict, b: str, D: int, H: int, KVH: int, HD: int, out_std: float):
    """The norms, attention projections and per-head q/k norms of one Qwen3-MoE / OLMoE
    style layer (prefix b), as the MoE fixtures make them; out_std scales o_proj."""
    t[b + "input_layernorm.weight"] = wm.normal(b + "input_layernorm", (D,), 0.1, 1.0)
    t[b + "post_attention_layernorm.weight"] = wm.normal(b + "post_attention_layernorm", (D,), 0.1, 1.0)
    for n, out in (("q_proj", H * HD), ("k_proj", KVH * HD), ("v_proj", KVH * HD)):
        t[b + f"self_attn.{n}.weight"] = wm.normal(b + n, (out, D), 1.5 / np.sqrt(D))
    t[b + "self_attn.o_proj.weight"] = wm.normal(b + "o_proj", (D, H * HD), out_std)
    t[b + "self_attn.q_norm.weight"] = wm.normal(b + "q_norm", (HD,), 0.1, 1.0)
    t[b + "self_attn.k_norm.weight"] = wm.normal(b + "k_norm", (HD,), 0.1, 1.0)


def moe_mlp_weights(wm, t: dict, b: str, D: int, E: int, EFF: int):
    """The router and E SwiGLU experts of width EFF of one MoE layer (prefix b)."""
    t[b + "mlp.gate.weight"] = wm.normal(b + "mlp.gate", (E, D), 2.0 / np.sqrt(D))
    for e in range(E):
        eb = f"{b}mlp.experts.{e}."
        t[eb + "gate_proj.weight"] = wm.normal(eb + "gate_proj", (EFF, D), 1.0 / np.sqrt(D))
        t[eb + "up_proj.weight"] = wm.normal(eb + "up_proj", (EFF, D), 1.0 / np.sqrt(D))
        t[eb + "down_proj.weight"] = wm.normal(eb + "down_proj", (D, EFF), 1.5 / np.sqrt(EFF))
