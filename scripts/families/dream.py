"""Dream (Dream-v0 7B, `DreamModel`, GGUF arch `dream`) micro fixture.

    $DLLM_EXT/venv/bin/python scripts/families/dream.py [--skip-gguf]

Builds testdata/families/dream/{hf,gguf,golden}. Model and decoding code are the official
ones as shipped in NVlabs/Fast-dLLM `dream/model/` (fetched into $DLLM_EXT/src, never
committed here):
  * modeling_dream.py        DreamModel (Qwen2-style, bidirectional; Fast-dLLM adds the
                             prefix / dual KV-cache arguments)
  * generation_utils.py      DreamGenerationMixin.diffusion_generate (Dream's sampler:
                             steps, eps, alg origin / maskgit_plus / topk_margin / entropy,
                             alg_temp, temperature, top_p, top_k; plus Fast-dLLM's
                             `confidence_threshold` alg)
  * generation_utils_block.py   Fast-dLLM's block-wise diffusion_generate with prefix cache
                             and dual cache (Fast-dLLM's eval.py binds it to the model the same
                             way, with types.MethodType)
"""
from __future__ import annotations

import argparse
import importlib
import sys
import types
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (REPO, FIXROOT, model_dtype, SRC, QWEN2_SPLIT, WeightMaker, bf16_round, build_tokenizer, save_safetensors, write_json,
                    compact_json, write_logits, r8, TorchProxy, torch_rng_note, convert_gguf, chat_golden, MT, start_family, finish_family, load_official, hf_tokenizer)
from dtrace import finite_min

FAMILY = "dream"
OUT = FIXROOT / FAMILY
SEED = 20251205
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|beginoftext|>", "<|mask|>"]
CHAT_TEMPLATE = ("{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
                 "{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}"
                 "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
                 "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")
D, H, KVH, HD, L, FF, V = 64, 4, 2, 16, 2, 128, 1024
FASTDREAM = SRC / "NVlabs+Fast-dLLM" / "dream"


def make_hf(hf: Path):
    ids = build_tokenizer(hf, QWEN2_SPLIT, SPECIALS, V, {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": "<|beginoftext|>", "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>",
        "mask_token": "<|mask|>", "additional_special_tokens": ["<|im_start|>", "<|im_end|>"],
        "add_bos_token": False, "add_eos_token": False, "clean_up_tokenization_spaces": False,
        "model_max_length": 32768, "chat_template": CHAT_TEMPLATE,
    })
    cfg = {
        "architectures": ["DreamModel"], "attention_dropout": 0.0,
        "auto_map": {"AutoConfig": "configuration_dream.DreamConfig", "AutoModel": "modeling_dream.DreamModel"},
        "bos_token_id": ids["<|beginoftext|>"], "eos_token_id": ids["<|endoftext|>"],
        "hidden_act": "silu", "hidden_size": D, "initializer_range": 0.02, "intermediate_size": FF,
        "mask_token_id": ids["<|mask|>"], "max_position_embeddings": 4096, "max_window_layers": L,
        "model_type": "Dream", "num_attention_heads": H, "num_hidden_layers": L, "num_key_value_heads": KVH,
        "pad_token_id": ids["<|endoftext|>"], "rms_norm_eps": 1e-06, "rope_scaling": None, "rope_theta": 1000000.0,
        "sliding_window": None, "tie_word_embeddings": False, "torch_dtype": "bfloat16",
        "transformers_version": "4.46.2", "use_cache": False, "use_sliding_window": False, "vocab_size": V,
    }
    write_json(hf / "config.json", cfg)
    write_json(hf / "generation_config.json", {
        "bos_token_id": ids["<|beginoftext|>"], "eos_token_id": ids["<|endoftext|>"], "pad_token_id": ids["<|endoftext|>"],
        "mask_token_id": ids["<|mask|>"], "transformers_version": "4.46.2"})
    wm = WeightMaker(SEED)
    t = {}
    emb = wm.normal("model.embed_tokens.weight", (V, D), 1.0)
    emb[ids["<|mask|>"]] = wm.normal("mask_emb", (D,), 0.3)
    t["model.embed_tokens.weight"] = emb
    for i in range(L):
        b = f"model.layers.{i}."
        t[b + "input_layernorm.weight"] = wm.normal(b + "input_layernorm.weight", (D,), 0.1, 1.0)
        t[b + "post_attention_layernorm.weight"] = wm.normal(b + "post_attention_layernorm.weight", (D,), 0.1, 1.0)
        for n, out in (("q_proj", H * HD), ("k_proj", KVH * HD), ("v_proj", KVH * HD)):
            t[b + f"self_attn.{n}.weight"] = wm.normal(b + n, (out, D), 1.5 / np.sqrt(D))
            t[b + f"self_attn.{n}.bias"] = wm.normal(b + n + ".bias", (out,), 0.2)
        t[b + "self_attn.o_proj.weight"] = wm.normal(b + "o_proj", (D, H * HD), 0.5 / np.sqrt(D))
        t[b + "mlp.gate_proj.weight"] = wm.normal(b + "gate_proj", (FF, D), 1.0 / np.sqrt(D))
        t[b + "mlp.up_proj.weight"] = wm.normal(b + "up_proj", (FF, D), 1.0 / np.sqrt(D))
        t[b + "mlp.down_proj.weight"] = wm.normal(b + "down_proj", (D, FF), 0.5 / np.sqrt(FF))
    t["model.norm.weight"] = wm.normal("model.norm.weight", (D,), 0.1, 1.0)
    head = wm.normal("lm_head.weight", (V, D), 0.75)
    for s in ("<|mask|>", "<|beginoftext|>", "<|im_start|>"):
        head[ids[s]] = 0.0
    head[V - 1] = 0.0  # id 1023 has no token (like the unused rows past Dream's tokenizer)
    head[ids["<|endoftext|>"]] *= 1.6
    t["lm_head.weight"] = bf16_round(head)
    save_safetensors(hf / "model.safetensors", t)
    return ids


def load_model(hf: Path):
    return load_official(FASTDREAM, "model.modeling_dream", "DreamModel", hf)


# --------------------------------------------------------------------------- recording

class Rec:
    """Observes one diffusion_generate call: model forwards, the official token/logits hooks,
    sample_tokens results, and torch calls of the generation module."""

    def __init__(self, seed):
        self.fw = []
        self.events = []
        self.mt = MT(seed) if seed is not None else None
        self.draws = []

    # forward wrapper
    def wrap_forward(self, model):
        orig = model.forward

        def fwd(*a, **kw):
            out = orig(*a, **kw)
            x = a[0] if a else kw["input_ids"]
            e = {"x": x[0].detach().clone().numpy(), "len": int(x.shape[1])}
            rp = kw.get("replace_position")
            if rp is not None:
                e["offset"], e["kind"] = int(rp[0].nonzero()[0].item()), "dual_cache_block"
            elif kw.get("past_key_values") is not None:
                pkv = kw["past_key_values"]
                e["offset"], e["kind"] = int(pkv[0][0].shape[-2]), "prefix_cache_suffix"
            else:
                e["offset"], e["kind"] = 0, "full"
            am = a[1] if len(a) > 1 else kw.get("attention_mask")
            e["attention_mask"] = am if isinstance(am, str) or am is None else am.detach().clone()
            ti = a[2] if len(a) > 2 else kw.get("position_ids")
            e["tok_idx"] = None if ti is None else ti.detach().clone()
            e["logits"] = out.logits[0].detach().clone()
            self.fw.append(e)
            self.events.append(("forward", len(self.fw) - 1))
            return out
        model.forward = fwd
        return orig

    # torch proxy hooks
    def on_topk(self, out, inp, *a, **kw):
        k = kw.get("k", a[0] if a else None)
        if inp.dim() == 2 and inp.shape[0] == 1 and inp.shape[-1] != V:
            self.events.append(("topk", {"conf": inp[0].detach().to(torch.float64).numpy().copy(), "k": int(k),
                                         "idx": out.indices[0].detach().numpy().copy()}))

    def on_rand(self, out, *a, **kw):
        # Categorical / multinomial draws before this one consumed MT outputs (2 per call on
        # float64 probabilities: the 64-bit seed of torch's MKL exponential stream); find how
        # many were skipped since the previous checked draw, then check bit equality.
        got = out.detach().reshape(-1).numpy()
        st = self.mt.bg.state
        for skip in range(0, 64):
            self.mt.bg.state = st
            self.mt.bg.random_raw(skip)
            ref = self.mt.f32(out.numel()) if out.dtype == torch.float32 else self.mt.f64(out.numel())
            if np.array_equal(got, ref.astype(got.dtype)):
                break
        else:
            raise AssertionError("torch.rand differs from the MT replay")
        self.draws.append(["rand", str(out.dtype).replace("torch.", ""), list(out.shape),
                           f"{skip} MT outputs consumed by sampling calls since the previous rand"])
        self.events.append(("rand", got.astype(np.float64).copy()))

    def on_multinomial(self, out, *a, **kw):
        self.draws.append(["multinomial (alg_temp)", list(a[0].shape), int(kw.get("num_samples", a[1] if len(a) > 1 else 0))])
        self.events.append(("multinomial", {"probs": a[0][0].detach().to(torch.float64).numpy().copy(),
                                            "idx": out[0].detach().numpy().copy()}))

    def on_linspace(self, out, *a, **kw):
        self.events.append(("linspace", out.detach().to(torch.float64).numpy().copy()))

    def wrap_sample_tokens(self, mod, temperature):
        orig = mod.sample_tokens

        def st(logits, *a, **kw):
            conf, x0 = orig(logits, *a, **kw)
            self.events.append(("sample", {"conf": conf.detach().to(torch.float64).reshape(-1).numpy().copy(),
                                           "x0": x0.detach().reshape(-1).numpy().copy(), "rows": int(logits.reshape(-1, logits.shape[-1]).shape[0])}))
            if temperature and temperature > 0:
                self.draws.append(["Categorical.sample (torch.multinomial, 1 sample per row)", list(logits.shape), 1])
            return conf, x0
        mod.sample_tokens = st
        return orig


def shifted(logits):
    return torch.cat([logits[:1], logits[:-1]], dim=0)


def build_trace(rec: Rec, prompt_len, final, mask_id, greedy: bool):
    """One trace entry per forward. The canvas before each forward is the forward's input
    (pasted at its offset); commits are the positions that change between consecutive
    canvases (the last from the returned sequence)."""
    canvases = []
    canvas = None
    for e in rec.fw:
        if canvas is None:
            canvas = e["x"].copy()
        else:
            canvas = canvas.copy()
            canvas[e["offset"]:e["offset"] + e["len"]] = e["x"]
        canvases.append(canvas)
    canvases.append(np.array(final))
    # split events per forward
    per = [[] for _ in rec.fw]
    cur = -1
    for kind, v in rec.events:
        if kind == "forward":
            cur = v
        elif kind == "linspace":
            continue
        elif cur >= 0:
            per[cur].append((kind, v))
    ts = [v for k, v in rec.events if k == "linspace"]
    trace, gaps_tok, gaps_k, gaps_conf = [], [], [], []
    for n, e in enumerate(rec.fw):
        before, after = canvases[n], canvases[n + 1]
        off = e["offset"]
        masked = [int(p) for p in np.nonzero(before == mask_id)[0]]
        changed = [int(p) for p in np.nonzero(before != after)[0]]
        ent = {"forward": n, "kind": e["kind"], "input": [off, off + e["len"]], "masked": masked,
               "committed": [[p, int(after[p])] for p in changed]}
        lg = shifted(e["logits"])  # Dream's shift: position i is predicted from row i-1
        pr = torch.softmax(lg, -1)
        t2 = torch.topk(pr, 2, -1).values
        in_window = [p for p in masked if off <= p < off + e["len"]]
        if greedy:
            gaps_tok += [float(t2[p - off, 0] - t2[p - off, 1]) for p in in_window]
        for kind, v in per[n]:
            if kind == "sample":
                ent.setdefault("sampled", []).append({"rows": v["rows"], "x0": [int(t) for t in v["x0"]][:64],
                                                      "confidence": [r8(c) for c in v["conf"]][:64]})
            elif kind == "topk":
                conf = v["conf"]
                fin = [int(p) for p in np.nonzero(np.isfinite(conf))[0]]
                ent["topk"] = {"k": v["k"], "selected": [int(p) + off for p in v["idx"][:v["k"]]],
                               "confidence": {str(p + off): r8(conf[p]) for p in fin}}
                srt = np.sort(conf[np.isfinite(conf)])[::-1]
                if 0 < v["k"] < len(srt):
                    gaps_k.append(float(srt[v["k"] - 1] - srt[v["k"]]))
            elif kind == "rand":
                ent["rand"] = [r8(x) for x in v]
            elif kind == "multinomial":
                ent["multinomial_selected"] = [int(p) + off for p in v["idx"]]
        trace.append(ent)
    m = {"min_top1_top2_prob_gap_at_masked": finite_min(gaps_tok) if greedy else None,
         "min_kth_vs_next_confidence_gap": finite_min(gaps_k)}
    return trace, m, (ts[0].tolist() if ts else None)


# --------------------------------------------------------------------------- goldens

def logits_goldens(model, tok, ids, gdir: Path):
    mask = ids["<|mask|>"]
    rng = np.random.default_rng(11)
    chat = tok.apply_chat_template([{"role": "user", "content": "What is the capital of France?"}],
                                   add_generation_prompt=True, tokenize=True)
    plain = tok.encode("The quick brown fox jumps over the lazy dog.", add_special_tokens=False)
    cases = {}
    cases["short8_nomask"] = (plain[:8], "plain text, no mask token")
    head = plain[:10]
    canvas = head + list(rng.integers(0, 1000, 24))
    pos = rng.choice(np.arange(len(head), len(canvas)), 14, replace=False)
    for q in pos:
        canvas[q] = mask
    cases["scattered"] = (canvas, "10 text tokens, then a partly decoded canvas: 14 of 24 positions masked, scattered")
    cases["all_mask12"] = ([mask] * 12, "twelve <|mask|> and nothing else")
    summary = {}
    for name, (toks, desc) in cases.items():
        toks = [int(x) for x in toks]
        with torch.no_grad():
            lg = model(torch.tensor([toks]), "full", None).logits[0].numpy()
        write_logits(gdir, name, lg, {
            "tokens": toks, "description": desc,
            "attention": "bidirectional, attention_mask='full' (as diffusion_generate passes it without padding)",
            "logits_rows": "raw model output: row i is the model's output at position i. Dream's generate SHIFTS it: the prediction for position i is row i-1 (position 0 uses row 0)",
            "mask_token_id": mask, "masked_positions": [i for i, t in enumerate(toks) if t == mask],
            "weights": "hf/model.safetensors (identical: gguf/*-f32.gguf)",
            "computed": "official DreamModel (Fast-dLLM dream/model/modeling_dream.py) in float64",
        })
        summary[name] = len(toks)
    return summary


def padded_logits_golden(model, tok, ids, gdir: Path, gu):
    """Left padding: diffusion_generate's own attention_mask / tok_idx preparation, captured
    from its first forward (steps=1 run; only the forward is used)."""
    mask = ids["<|mask|>"]
    pad = ids["<|endoftext|>"]
    chat = tok.apply_chat_template([{"role": "user", "content": "Hi"}], add_generation_prompt=True, tokenize=True)
    inp = torch.tensor([[pad] * 4 + chat])
    am = torch.tensor([[0] * 4 + [1] * len(chat)])
    rec = Rec(None)
    orig = rec.wrap_forward(model)
    try:
        model.diffusion_generate(inp, attention_mask=am, max_new_tokens=8, steps=1, alg="maskgit_plus", temperature=0.0,
                                 mask_token_id=mask, return_dict_in_generate=True)
    finally:
        model.forward = orig
    e = rec.fw[0]
    toks = [int(t) for t in e["x"]]
    amask = e["attention_mask"][0, 0].numpy().astype(bool)
    write_logits(gdir, "left_padded4", e["logits"].numpy(), {
        "tokens": toks, "description": "4 pad tokens (<|endoftext|>) on the left, a chat prompt, 8 <|mask|>: the first forward of diffusion_generate with attention_mask [0,0,0,0,1,...]",
        "attention": "diffusion_generate's padding path: key j visible from query i iff both are non-pad (pad rows see nothing and get -inf-free SDPA output as computed); position ids tok_idx = cumsum(attention_mask)-1 with pads set to 1",
        "attention_mask_input": am[0].tolist() + [1] * 8,
        "tok_idx": e["tok_idx"][0].tolist(),
        "pad_rows_note": "rows 0-3 (pad queries attend to no key) are whatever SDPA returns for an all-masked row; compare only rows >= 4",
        "logits_rows": "raw model output (unshifted)",
        "mask_token_id": mask, "masked_positions": [i for i, t in enumerate(toks) if t == mask],
        "weights": "hf/model.safetensors", "computed": "official DreamModel in float64",
    })
    assert not amask[0].any()


def run_generation(model, tok, ids, gdir: Path):
    mask = ids["<|mask|>"]
    eos = ids["<|endoftext|>"]
    sys.path.insert(0, str(FASTDREAM))
    gu = importlib.import_module("model.generation_utils")
    gub = importlib.import_module("model.generation_utils_block")
    prompts = {
        "p1": [{"role": "user", "content": "What is the capital of France?"}],
        "p2": [{"role": "user", "content": "Write a short poem about the sea."}],
    }
    pids = {k: tok.apply_chat_template(v, add_generation_prompt=True, tokenize=True) for k, v in prompts.items()}
    base = dict(mask_token_id=mask, return_dict_in_generate=True, output_history=False)
    cases = [
        ("gen_maskgit_plus_greedy", "base", "p1", dict(max_new_tokens=24, steps=12, alg="maskgit_plus", temperature=0.0), None),
        ("gen_topk_margin_greedy", "base", "p1", dict(max_new_tokens=24, steps=12, alg="topk_margin", temperature=0.0), None),
        ("gen_entropy_greedy", "base", "p2", dict(max_new_tokens=24, steps=12, alg="entropy", temperature=0.0), None),
        ("gen_entropy_greedy_eps01", "base", "p1", dict(max_new_tokens=16, steps=8, alg="entropy", temperature=0.0, eps=0.1), None),
        ("gen_origin_greedy_seed1", "base", "p1", dict(max_new_tokens=16, steps=8, alg="origin", temperature=0.0), 1),
        ("gen_origin_t1_topp09_seed2", "base", "p2", dict(max_new_tokens=16, steps=8, alg="origin", temperature=1.0, top_p=0.9), 2),
        ("gen_maskgit_plus_t07_seed3", "base", "p1", dict(max_new_tokens=16, steps=8, alg="maskgit_plus", temperature=0.7), 3),
        ("gen_entropy_t05_topk20_seed4", "base", "p2", dict(max_new_tokens=16, steps=8, alg="entropy", temperature=0.5, top_k=20), 4),
        ("gen_topk_margin_t05_topk50_seed5", "base", "p1", dict(max_new_tokens=16, steps=8, alg="topk_margin", temperature=0.5, top_k=50), 5),
        ("gen_maskgit_plus_algtemp05_seed6", "base", "p2", dict(max_new_tokens=16, steps=8, alg="maskgit_plus", temperature=0.0, alg_temp=0.5), 6),
        ("fast_confidence_threshold09_nocache", "base", "p1", dict(max_new_tokens=24, steps=12, alg="confidence_threshold", temperature=0.0, threshold=0.9), None),
        ("fast_prefix_cache_threshold09", "block", "p1", dict(max_new_tokens=32, steps=32, alg="confidence_threshold", temperature=0.0, threshold=0.9, block_length=8, dual_cache=False), None),
        ("fast_dual_cache_threshold09", "block", "p1", dict(max_new_tokens=32, steps=32, alg="confidence_threshold", temperature=0.0, threshold=0.9, block_length=8, dual_cache=True), None),
        ("fast_prefix_cache_threshold05_p2", "block", "p2", dict(max_new_tokens=32, steps=32, alg="confidence_threshold", temperature=0.0, threshold=0.5, block_length=8, dual_cache=False), None),
        ("fast_prefix_cache_entropy_steps", "block", "p2", dict(max_new_tokens=32, steps=16, alg="entropy", temperature=0.0, block_length=8, dual_cache=False), None),
        ("fast_dual_cache_entropy_steps", "block", "p2", dict(max_new_tokens=32, steps=16, alg="entropy", temperature=0.0, block_length=8, dual_cache=True), None),
    ]
    table = []
    for name, kind, pk, kw, seed in cases:
        mod = gu if kind == "base" else gub
        rec = Rec(seed)
        real_torch = mod.torch
        mod.torch = TorchProxy(real_torch, rec)
        orig_st = rec.wrap_sample_tokens(mod, kw.get("temperature"))
        orig_fw = rec.wrap_forward(model)
        saved = (model.diffusion_generate, model._sample)
        model.diffusion_generate = types.MethodType(mod.DreamGenerationMixin.diffusion_generate, model)
        model._sample = types.MethodType(mod.DreamGenerationMixin._sample, model)
        if seed is not None:
            torch.manual_seed(seed)
        try:
            out = model.diffusion_generate(torch.tensor([pids[pk]]), **base, **kw)
        finally:
            mod.torch = real_torch
            mod.sample_tokens = orig_st
            model.forward = orig_fw
            model.diffusion_generate, model._sample = saved
        x = out.sequences[0].tolist()
        lp = len(pids[pk])
        greedy = not kw.get("temperature")
        trace, margins, timesteps = build_trace(rec, lp, x, mask, greedy)
        if kw["alg"] == "confidence_threshold":
            thr = kw["threshold"]
            gaps = []
            for t in trace:
                if "topk" in t:
                    gaps += [abs(c - thr) for c in t["topk"]["confidence"].values()]
            margins["min_abs_confidence_minus_threshold"] = finite_min(gaps)
            margins["min_kth_vs_next_confidence_gap"] = None
        gen = x[lp:]
        g = {
            "family": FAMILY,
            "source": {"base": "NVlabs/Fast-dLLM dream/model/generation_utils.py: DreamGenerationMixin.diffusion_generate (Dream's sampler)",
                       "block": "NVlabs/Fast-dLLM dream/model/generation_utils_block.py: DreamGenerationMixin.diffusion_generate (block-wise, prefix/dual cache)"}[kind],
            "params": dict(kw, mask_token_id=mask),
            "seed": seed,
            "prompt_messages": prompts[pk], "prompt_ids": pids[pk],
            "output_ids": gen, "final_canvas": x,
            "output_text": tok.decode(gen, skip_special_tokens=False),
            "output_text_skip_special": tok.decode(gen, skip_special_tokens=True),
            "forwards": len(rec.fw),
            "timesteps": timesteps,
            "margins": margins,
            "trace": trace,
        }
        if seed is not None:
            g["rng"] = torch_rng_note()
            g["rng"]["draws_in_order"] = rec.draws
            g["rng"]["replay"] = ("torch.rand draws (alg origin's transfer test) follow the MT19937 formula above and are "
                                  "also recorded per step in trace[].rand. Categorical/multinomial draws (temperature > 0, "
                                  "alg_temp > 0) use torch's exponential_ on CPU, which goes through MKL's VSL generator and "
                                  "is NOT reproduced by the formula: the sampled tokens (trace[].sampled[].x0, in masked-position "
                                  "order) and alg_temp's chosen positions (trace[].multinomial_selected) are recorded so a test "
                                  "can replay them through an injected sampler.")
        compact_json(gdir / f"{name}.json", g)
        table.append({"name": name, "impl": kind, "alg": kw["alg"], "steps": kw["steps"], "max_new_tokens": kw["max_new_tokens"],
                      "eps": kw.get("eps", 1e-3) if kind == "base" else "-", "temperature": kw.get("temperature"),
                      "top_p": kw.get("top_p"), "top_k": kw.get("top_k"), "alg_temp": kw.get("alg_temp"),
                      "threshold": kw.get("threshold"), "block_length": kw.get("block_length"),
                      "dual_cache": kw.get("dual_cache"), "seed": seed, "prompt_len": lp, "forwards": len(rec.fw),
                      "multi_token_forwards": sum(1 for t in trace if len(t["committed"]) > 1),
                      "eos_in_output": sum(1 for t in gen if t == eos), "margins": margins})
        print(name, len(rec.fw), margins, repr(tok.decode(gen)[:50]))
    return table


def main():
    args, hf, gdir = start_family(OUT)
    ids = make_hf(hf)
    model = load_model(hf)
    tok = hf_tokenizer(hf)
    logits_goldens(model, tok, ids, gdir)
    chat_golden(tok, gdir)
    table = run_generation(model, tok, ids, gdir)
    padded_logits_golden(model, tok, ids, gdir, None)
    write_json(gdir / "summary.json", {"generation": table, "special_token_ids": ids})
    finish_family(args, FAMILY, hf, [(OUT / "gguf" / "dream-micro-f32.gguf", "f32", "qwen2")])


if __name__ == "__main__":
    main()
