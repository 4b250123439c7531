"""RND1 (RND1-Base-0910, `RND1LM`, Qwen3-MoE based, GGUF arch `rnd1`) micro fixture.

    $DLLM_EXT/venv-rnd1/bin/python scripts/families/rnd1.py [--skip-gguf]

(a second venv: RND1's code needs transformers >= 4.51 for qwen3_moe and asks for torch >= 2.8.)
Official code: RadicalNumerics/RND1 `rnd/` (configuration_rnd.py, modeling_rnd.py,
generation_utils.py, generation_config.py, sampling.py), fetched into $DLLM_EXT/src, never
committed here.
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (REPO, FIXROOT, model_dtype, SRC, QWEN2_SPLIT, WeightMaker, bf16_round, build_tokenizer, save_safetensors, write_json,
                    compact_json, write_logits, r8, TorchProxy, torch_rng_note, convert_gguf, chat_golden, MT, start_family, finish_family, hf_tokenizer, moe_attention_weights, moe_mlp_weights)
from dtrace import finite_min

FAMILY = "rnd1"
OUT = FIXROOT / FAMILY
SEED = 20251207
# Qwen3's added tokens (a subset, in Qwen3's order); the mask id (1023) has no token, as
# RND1's 151669 is the first id past Qwen3's tokenizer.
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"]
CHAT_TEMPLATE = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
                 "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")
D, H, KVH, HD, NL, E, K, EFF, V = 64, 4, 2, 32, 2, 8, 2, 32, 1024
MASK = 1023
RND = SRC / "RadicalNumerics+RND1"

ARCH = {  # the fields RND1Config.set_config_defaults() would otherwise force to RND1-30B's values
    "attention_bias": False, "attention_dropout": 0.0, "decoder_sparse_step": 1,
    "head_dim": HD, "hidden_act": "silu", "hidden_size": D, "initializer_range": 0.02,
    "intermediate_size": 128, "max_position_embeddings": 4096, "max_window_layers": NL, "mlp_only_layers": [],
    "moe_intermediate_size": EFF, "norm_topk_prob": True, "num_attention_heads": H, "num_experts": E,
    "num_experts_per_tok": K, "num_hidden_layers": NL, "num_key_value_heads": KVH, "output_router_logits": False,
    "rms_norm_eps": 1e-06, "rope_scaling": None, "rope_theta": 1000000.0, "router_aux_loss_coef": 0.001,
    "sliding_window": None, "tie_word_embeddings": False, "use_sliding_window": False, "vocab_size": V,
}


def make_hf(hf: Path):
    ids = build_tokenizer(hf, QWEN2_SPLIT, SPECIALS, V, {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": None, "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>",
        "additional_special_tokens": ["<|im_start|>", "<|im_end|>"],
        "add_bos_token": False, "add_eos_token": False, "clean_up_tokenization_spaces": False,
        "model_max_length": 4096, "chat_template": CHAT_TEMPLATE,
    })
    cfg = dict(ARCH)
    cfg.update({
        "architectures": ["RND1"], "model_type": "rnd1",  # the name RND1-Base-0910 and llama.cpp's converter use
        "auto_map": {"AutoConfig": "configuration_rnd.RND1Config", "AutoModel": "modeling_rnd.RND1Model",
                     "AutoModelForMaskedLM": "modeling_rnd.RND1LM"},
        "bos_token_id": None, "eos_token_id": ids["<|im_end|>"], "pad_token_id": ids["<|endoftext|>"],
        "mask_token_id": MASK, "moe_backend": "hf", "num_diffusion_steps": 256, "is_causal": False,
        "use_cache": False, "dtype": "bfloat16", "torch_dtype": "bfloat16", "transformers_version": "4.57.1",
    })
    write_json(hf / "config.json", cfg)
    write_json(hf / "generation_config.json", {"eos_token_id": ids["<|im_end|>"], "pad_token_id": ids["<|endoftext|>"],
                                               "transformers_version": "4.57.1"})
    wm = WeightMaker(SEED)
    t = {}
    emb = wm.normal("model.embed_tokens.weight", (V, D), 1.0)
    emb[MASK] = wm.normal("mask_emb", (D,), 0.3)
    t["model.embed_tokens.weight"] = emb
    for i in range(NL):
        b = f"model.layers.{i}."
        moe_attention_weights(wm, t, b, D, H, KVH, HD, 0.5 / np.sqrt(H * HD))
        moe_mlp_weights(wm, t, b, D, E, EFF)
    t["model.norm.weight"] = wm.normal("model.norm.weight", (D,), 0.1, 1.0)
    head = wm.normal("lm_head.weight", (V, D), 0.75)
    for tid in (MASK, ids["<|im_start|>"], ids["<think>"], ids["</think>"]):
        head[tid] = 0.0
    head[ids["<|im_end|>"]] *= 1.6
    t["lm_head.weight"] = bf16_round(head)
    save_safetensors(hf / "model.safetensors", t)
    return ids


def load_model(hf: Path):
    sys.path.insert(0, str(RND))
    from rnd.configuration_rnd import RND1Config
    from rnd.modeling_rnd import RND1LM
    cfg = RND1Config.from_pretrained(str(hf))
    # RND1Config.__init__ calls set_config_defaults(), which overwrites every architecture
    # field (and eos/pad ids) with RND1-30B's values whatever config.json says; put this file's values back.
    for k, v in json.loads((hf / "config.json").read_text()).items():
        if k in ARCH or k in ("eos_token_id", "pad_token_id"):
            setattr(cfg, k, v)
    cfg.attn_implementation = "sdpa"      # as demo_rnd_generation.py sets it
    cfg._attn_implementation = "sdpa"
    cfg.moe_backend = "hf"
    torch.set_default_dtype(model_dtype())
    m = RND1LM.from_pretrained(str(hf), config=cfg, dtype=model_dtype(), use_safetensors=True).eval()
    torch.set_default_dtype(torch.float32)
    assert next(m.parameters()).dtype == model_dtype()
    assert m.model.layers[0].self_attn.q_proj.weight.shape == (H * HD, D)
    return m


class RouterWatch:
    def __init__(self, model):
        self.min_gap = float("inf")
        for layer in model.model.layers:
            layer.mlp.gate.register_forward_hook(self.hook)

    def hook(self, mod, inp, out):
        p = torch.softmax(out.detach().to(torch.float64), -1)
        srt = torch.sort(p, -1, descending=True).values
        self.min_gap = min(self.min_gap, float((srt[:, K - 1] - srt[:, K]).min()))

    def take(self):
        g, self.min_gap = self.min_gap, float("inf")
        return r8(g)


class Rec:
    def __init__(self, seed):
        self.fw = []
        self.events = []
        self.draws = []
        self.seed = seed

    def wrap_forward(self, model):
        orig = model.forward

        def fwd(*a, **kw):
            out = orig(*a, **kw)
            x = a[0] if a else kw["input_ids"]
            self.fw.append({"x": x[0].detach().clone().numpy(), "logits": out.logits[0].detach().clone()})
            self.events.append(("forward", len(self.fw) - 1))
            return out
        model.forward = fwd
        return orig

    def on_topk(self, out, inp, *a, **kw):
        k = kw.get("k", a[0] if a else None)
        if inp.dim() == 2 and inp.shape[-1] != V:
            self.events.append(("topk", {"scores": inp[0].detach().to(torch.float64).numpy().copy(), "k": int(k),
                                         "idx": out.indices[0].detach().numpy().copy()}))

    def on_sort(self, out, inp, *a, **kw):
        if inp.dim() == 2 and inp.shape[-1] != V:
            self.events.append(("sort", {"err": inp[0].detach().to(torch.float64).numpy().copy(),
                                         "idx": out.indices[0].detach().numpy().copy()}))


def build_trace(rec, final, mask_id, finf_max):
    canv = [e["x"] for e in rec.fw] + [np.array(final)]
    per = [[] for _ in rec.fw]
    cur = -1
    for kind, v in rec.events:
        if kind == "forward":
            cur = v
        elif cur >= 0:
            per[cur].append((kind, v))
    trace, gaps_tok, gaps_k = [], [], []
    for n, e in enumerate(rec.fw):
        before, after = canv[n], canv[n + 1]
        masked = [int(p) for p in np.nonzero(before == mask_id)[0]]
        changed = [int(p) for p in np.nonzero(before != after)[0]]
        lg = e["logits"]
        t2 = torch.topk(lg, 2, -1).values  # raw logits; position p uses row p-1
        gaps_tok += [float(t2[p - 1, 0] - t2[p - 1, 1]) for p in masked if p > 0]
        ent = {"forward": n, "masked": masked, "committed": [[p, int(after[p])] for p in changed]}
        # the selection made after this forward's scores
        for kind, v in per[n]:
            if kind == "topk":
                sc = v["scores"]
                elig = [int(p) for p in np.nonzero(sc > -finf_max)[0]]
                ent["keep_masked_topk"] = {"k": v["k"], "kept": [int(p) for p in v["idx"][:v["k"]]],
                                           "entropy": {str(p): r8(sc[p]) for p in elig}}
                srt = np.sort(sc[sc > -finf_max])[::-1]
                if 0 < v["k"] < len(srt):
                    gaps_k.append(float(srt[v["k"] - 1] - srt[v["k"]]))
            elif kind == "sort":
                err = v["err"]
                elig = [int(p) for p in np.nonzero(err < finf_max)[0]]
                ent["eb_order"] = {"order": [int(p) for p in v["idx"][:len(elig)]],
                                   "neg_logprob": {str(p): r8(err[p]) for p in elig}}
        trace.append(ent)
    return trace, {"min_top1_top2_logit_gap_at_masked": finite_min(gaps_tok),
                   "min_kth_vs_next_entropy_gap": finite_min(gaps_k)}


def logits_goldens(model, tok, ids, gdir, rw):
    rng = np.random.default_rng(13)
    q = tok.encode("Question: What is the capital of France?\nAnswer:", add_special_tokens=False)
    plain = tok.encode("The quick brown fox jumps over the lazy dog.", add_special_tokens=False)
    canvas = q + list(rng.integers(0, 1000, 24))
    for p in rng.choice(np.arange(len(q), len(canvas)), 14, replace=False):
        canvas[p] = MASK
    cases = {
        "short8_nomask": (plain[:8], "plain text, no mask token"),
        "scattered": (canvas, "task prompt, then a partly decoded canvas: 14 of 24 positions masked, scattered"),
        "all_mask12": ([MASK] * 12, "twelve mask tokens (id 1023) and nothing else"),
    }
    for name, (toks, desc) in cases.items():
        toks = [int(x) for x in toks]
        rw.take()
        with torch.no_grad():
            lg = model(input_ids=torch.tensor([toks])).logits[0].numpy()
        write_logits(gdir, name, lg, {
            "tokens": toks, "description": desc, "attention": "bidirectional (no mask)",
            "logits_rows": "raw model output (unshifted): RND1's sampler predicts position i from row i-1 and never predicts position 0",
            "mask_token_id": MASK, "masked_positions": [i for i, t in enumerate(toks) if t == MASK],
            "router_margin": rw.take(),
            "weights": "hf/model.safetensors (identical: gguf/*-f32.gguf)",
            "computed": "official RND1LM (RadicalNumerics/RND1 rnd/modeling_rnd.py, moe_backend hf, sdpa) in float64; Qwen3MoeRMSNorm and the router softmax run in float32 inside that code",
        })


def main():
    args, hf, gdir = start_family(OUT)
    ids = make_hf(hf)
    model = load_model(hf)
    rw = RouterWatch(model)
    tok = hf_tokenizer(hf)
    logits_goldens(model, tok, ids, gdir, rw)
    chat_golden(tok, gdir)
    sampling = importlib.import_module("rnd.sampling")
    from rnd.generation_config import RND1GenerationConfig
    prompts = {
        "q1": "Question: What is the capital of France?\nAnswer:",
        "q2": "Question: Write a short poem about the sea.\nAnswer:",
    }
    pids = {k: tok.encode(v, add_special_tokens=False) for k, v in prompts.items()}
    eos, pad = ids["<|im_end|>"], ids["<|endoftext|>"]
    cases = [
        ("gen_greedy_t1", "q1", dict(max_new_tokens=24, num_diffusion_steps=12, temperature=1.0, greedy=True), None, {}),
        ("gen_greedy_t05", "q2", dict(max_new_tokens=24, num_diffusion_steps=12, temperature=0.5, greedy=True), None, {}),
        ("gen_greedy_t2", "q1", dict(max_new_tokens=16, num_diffusion_steps=8, temperature=2.0, greedy=True), None, {}),
        ("gen_greedy_t1_eos_at_end", "q2", dict(max_new_tokens=16, num_diffusion_steps=8, temperature=1.0, greedy=True, add_eos_at_end=True), None, {}),
        ("gen_greedy_t1_eb_gamma05", "q1", dict(max_new_tokens=24, num_diffusion_steps=12, temperature=1.0, greedy=True, eb_gamma=0.5), None, {}),
        ("gen_sample_t1_seed1", "q1", dict(max_new_tokens=16, num_diffusion_steps=8, temperature=1.0, greedy=False), 1, {}),
        ("gen_sample_t07_seed2", "q2", dict(max_new_tokens=16, num_diffusion_steps=8, temperature=0.7, greedy=False), 2, {}),
        ("gen_infill_greedy_t1", "q1", dict(num_diffusion_steps=8, temperature=1.0, greedy=True, max_length=40), None,
         {"suffix": " That is all.", "infill_length": 12}),
    ]
    table = []
    for name, pk, kw, seed, extra in cases:
        rec = Rec(seed)
        real_torch = sampling.torch
        sampling.torch = TorchProxy(real_torch, rec)
        orig_fw = rec.wrap_forward(model)
        gcfg = RND1GenerationConfig(mask_token_id=MASK, eos_token_id=eos, pad_token_id=pad, bos_token_id=None, **kw)
        call = dict(inputs=torch.tensor([pids[pk]]), generation_config=gcfg)
        if extra:
            call["suffix_ids"] = torch.tensor([tok.encode(extra["suffix"], add_special_tokens=False)])
            call["infill_length"] = extra["infill_length"]
        if seed is not None:
            torch.manual_seed(seed)
        rw.take()
        try:
            out = model.generate(**call)
        finally:
            sampling.torch = real_torch
            model.forward = orig_fw
        x = out[0].tolist()
        lp = len(pids[pk])
        trace, margins = build_trace(rec, x, MASK, float(torch.finfo(torch.float64).max))
        margins["min_router_kth_vs_next_prob_gap"] = rw.take()
        if not kw.get("greedy"):
            margins["min_top1_top2_logit_gap_at_masked"] = None
        if kw.get("eb_gamma") is not None:
            margins["min_kth_vs_next_entropy_gap"] = None
        gen = x[lp:]
        g = {
            "family": FAMILY,
            "source": "RadicalNumerics/RND1 rnd/generation_utils.py RND1GenerationMixin.generate -> rnd/sampling.py diffusion_sample",
            "generation_config": dict(kw, mask_token_id=MASK, eos_token_id=eos, pad_token_id=pad, bos_token_id=None),
            "seed": seed,
            "prompt_text": prompts[pk], "prompt_ids": pids[pk],
            "suffix_ids": call.get("suffix_ids", torch.tensor([[]]))[0].tolist() if extra else None,
            "infill_length": extra.get("infill_length"),
            "output_ids": gen, "final_canvas": x,
            "output_text": tok.decode(gen, skip_special_tokens=False),
            "forwards": len(rec.fw), "margins": margins, "trace": trace,
        }
        if seed is not None:
            g["rng"] = {"how_seeded": "torch.manual_seed(seed) right before model.generate",
                        "draws": "one torch.distributions.Categorical(logits=...).sample() over all [1, T] rows per forward (torch.multinomial -> exponential_ on CPU: 2 MT19937 outputs seed torch's MKL VSL stream); not reproducible from a formula: the sampled tokens are the committed tokens in the trace (a committed token at position p was sampled from row p-1 of that forward)"}
        compact_json(gdir / f"{name}.json", g)
        table.append({"name": name, "steps": kw["num_diffusion_steps"], "new_tokens": kw.get("max_new_tokens", extra.get("infill_length")),
                      "temperature": kw["temperature"], "greedy": kw["greedy"], "top_k": kw.get("top_k"),
                      "top_p": kw.get("top_p"), "eb_gamma": kw.get("eb_gamma"), "add_eos_at_end": kw.get("add_eos_at_end", False),
                      "infill": bool(extra), "seed": seed, "prompt_len": lp, "forwards": len(rec.fw),
                      "multi_token_forwards": sum(1 for t in trace if len(t["committed"]) > 1), "margins": margins})
        print(name, len(rec.fw), margins, repr(tok.decode(gen)[:50]))
    write_json(gdir / "summary.json", {"generation": table, "special_token_ids": dict(ids, mask=MASK)})
    finish_family(args, FAMILY, hf, [(OUT / "gguf" / "rnd1-micro-f32.gguf", "f32", "qwen2")])


if __name__ == "__main__":
    main()
