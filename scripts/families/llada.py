"""LLaDA (LLaDA-8B / LLaDA-1.5, `LLaDAModelLM`, GGUF arch `llada`) micro fixture.

    $DLLM_EXT/venv/bin/python scripts/families/llada.py [--skip-gguf]

Builds testdata/families/llada/{hf,gguf,golden}. Model and decoding code are the
official ones, fetched into $DLLM_EXT/src (never committed here):
  * ML-GSAI/LLaDA            generate.py            (generate: blocks, low_confidence /
                                                     random remasking, Gumbel temperature, cfg)
  * NVlabs/Fast-dLLM         llada/model/*.py       (modeling_llada.py: LLaDAModelLM with
                                                     the prefix / dual KV cache hooks)
                             llada/generate.py      (generate with threshold, prefix cache,
                                                     dual cache)
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (REPO, FIXROOT, model_dtype, SRC, LLAMA3_SPLIT, WeightMaker, build_tokenizer, save_safetensors, write_json,
                    compact_json, write_logits, r8, TorchProxy, torch_rng_note, convert_gguf, start_family, finish_family, load_official, hf_tokenizer)
from dtrace import ModelWrap, Tracer, margins_from_topk, tok_list, finite_min

FAMILY = "llada"
OUT = FIXROOT / FAMILY
SEED = 20251204
SPECIALS = ["<|startoftext|>", "<|endoftext|>", "<|mdm_mask|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
CHAT_TEMPLATE = ("{% set loop_messages = messages %}{% for message in loop_messages %}"
                 "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}"
                 "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
                 "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}")

D, H, KVH, L, FF, V = 64, 4, 4, 2, 128, 1024

FASTDLLM = SRC / "NVlabs+Fast-dLLM" / "llada"
LLADA_REPO = SRC / "ML-GSAI+LLaDA"


def load_module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def make_hf(hf: Path):
    ids = build_tokenizer(hf, LLAMA3_SPLIT, SPECIALS, V, {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": "<|startoftext|>", "eos_token": "<|eot_id|>", "pad_token": "<|endoftext|>",
        "mask_token": "<|mdm_mask|>",
        "add_bos_token": False, "add_eos_token": False, "clean_up_tokenization_spaces": False,
        "model_max_length": 4096, "chat_template": CHAT_TEMPLATE,
    })
    cfg = {
        "activation_type": "silu", "alibi": False, "alibi_bias_max": 8.0,
        "architectures": ["LLaDAModelLM"],
        "attention_dropout": 0.0, "attention_layer_norm": False, "attention_layer_norm_with_affine": True,
        "auto_map": {"AutoConfig": "configuration_llada.LLaDAConfig",
                     "AutoModelForCausalLM": "modeling_llada.LLaDAModelLM",
                     "AutoModel": "modeling_llada.LLaDAModelLM"},
        "bias_for_layer_norm": False, "block_group_size": 1, "block_type": "llama",
        "d_model": D, "embedding_dropout": 0.0, "embedding_size": V,
        "eos_token_id": ids["<|endoftext|>"], "flash_attention": False,
        "include_bias": False, "include_qkv_bias": False, "init_cutoff_factor": None,
        "init_device": "meta", "init_fn": "mitchell", "init_std": 0.02, "input_emb_norm": False,
        "layer_norm_type": "rms", "layer_norm_with_affine": True,
        "mask_token_id": ids["<|mdm_mask|>"], "max_sequence_length": 4096,
        "mlp_hidden_size": FF, "mlp_ratio": 4, "model_type": "llada", "multi_query_attention": None,
        "n_heads": H, "n_kv_heads": KVH, "n_layers": L, "pad_token_id": ids["<|endoftext|>"],
        "precision": "amp_bf16", "residual_dropout": 0.0, "rms_norm_eps": 1e-05, "rope": True,
        "rope_full_precision": True, "rope_theta": 500000.0, "scale_logits": False,
        "torch_dtype": "bfloat16", "transformers_version": "4.46.2", "use_cache": False,
        "vocab_size": V, "weight_tying": False,
    }
    write_json(hf / "config.json", cfg)
    write_json(hf / "generation_config.json", {"bos_token_id": ids["<|startoftext|>"], "eos_token_id": ids["<|endoftext|>"],
                                               "pad_token_id": ids["<|endoftext|>"], "transformers_version": "4.46.2"})
    wm = WeightMaker(SEED)
    t = {}
    p = "model.transformer."
    emb = wm.normal(p + "wte.weight", (V, D), 1.0)
    emb[ids["<|mdm_mask|>"]] = wm.normal("mask_emb", (D,), 0.3)
    t[p + "wte.weight"] = emb
    for i in range(L):
        b = f"{p}blocks.{i}."
        t[b + "attn_norm.weight"] = wm.normal(b + "attn_norm.weight", (D,), 0.1, 1.0)
        t[b + "ff_norm.weight"] = wm.normal(b + "ff_norm.weight", (D,), 0.1, 1.0)
        for n in ("q_proj", "k_proj", "v_proj"):
            out = D if n == "q_proj" else KVH * (D // H)
            t[b + n + ".weight"] = wm.normal(b + n, (out, D), 1.5 / np.sqrt(D))
        t[b + "attn_out.weight"] = wm.normal(b + "attn_out", (D, D), 0.5 / np.sqrt(D))
        t[b + "ff_proj.weight"] = wm.normal(b + "ff_proj", (FF, D), 1.0 / np.sqrt(D))
        t[b + "up_proj.weight"] = wm.normal(b + "up_proj", (FF, D), 1.0 / np.sqrt(D))
        t[b + "ff_out.weight"] = wm.normal(b + "ff_out", (D, FF), 0.5 / np.sqrt(FF))
    t[p + "ln_f.weight"] = wm.normal(p + "ln_f.weight", (D,), 0.1, 1.0)
    head = wm.normal(p + "ff_out.weight", (V, D), 0.75)
    head[ids["<|mdm_mask|>"]] = 0.0
    head[ids["<|startoftext|>"]] = 0.0
    head[ids["<|endoftext|>"]] *= 1.6
    from common import bf16_round
    t[p + "ff_out.weight"] = bf16_round(head)
    save_safetensors(hf / "model.safetensors", t)
    return ids


def load_model(hf: Path):
    return load_official(FASTDLLM, "model.modeling_llada", "LLaDAModelLM", hf)


# --------------------------------------------------------------------------- logits

def logits_goldens(model, tok, ids, gdir: Path):
    mask = ids["<|mdm_mask|>"]
    rng = np.random.default_rng(7)
    chat = tok.apply_chat_template([{"role": "user", "content": "What is the capital of France?"}],
                                   add_generation_prompt=True, tokenize=True)
    plain = tok.encode("The quick brown fox jumps over the lazy dog.", add_special_tokens=False)
    cases = {}
    cases["short8_nomask"] = (plain[:8], "plain text, no mask token")
    canvas = chat + list(rng.integers(0, 1000, 32))
    pos = rng.choice(np.arange(len(chat), len(canvas)), 20, replace=False)
    for q in pos:
        canvas[q] = mask
    cases["scattered48"] = (canvas[:48], "chat prompt, then a partly decoded canvas: 20 of 32 positions masked, scattered")
    cases["all_mask12"] = ([mask] * 12, "twelve <|mdm_mask|> and nothing else")
    cases["mask_first6"] = ([mask] * 6 + plain[:10], "masks before text (bidirectional attention: later tokens inform earlier ones)")
    summary = {}
    for name, (toks, desc) in cases.items():
        toks = [int(x) for x in toks]
        with torch.no_grad():
            lg = model(torch.tensor([toks])).logits[0].numpy()
        write_logits(gdir, name, lg, {
            "tokens": toks, "description": desc, "attention": "bidirectional (no mask: every query sees every key)",
            "mask_token_id": mask, "masked_positions": [i for i, t in enumerate(toks) if t == mask],
            "weights": "hf/model.safetensors (identical: gguf/*-f32.gguf)",
            "computed": "official LLaDAModelLM (Fast-dLLM modeling_llada.py) in float64; RoPE is applied in float32 by that code (rope_full_precision casts q,k to float())",
        })
        summary[name] = len(toks)
    return summary


# --------------------------------------------------------------------------- generation

def build_trace_original(tr: Tracer, out_x, prompt_len, steps_per_block, block_length):
    fw = [e for e in tr.events if e["ev"] == "forward"]
    am = [e for e in tr.events if e["ev"] == "argmax"]
    tk = [e for e in tr.events if e["ev"] == "topk"]
    assert len(fw) == len(am) == len(tk)
    trace, gaps_tok, gaps_k = [], [], []
    for k in range(len(fw)):
        x_before = fw[k]["x"][0].numpy()
        x0 = am[k]["out"][0].numpy()
        conf = tk[k]["conf"]
        cand = [int(p) for p in np.nonzero(np.isfinite(conf))[0]]
        sel = [int(p) for p in tk[k]["idx"] if np.isfinite(conf[p])]
        committed = [[p, int(x0[p]), r8(conf[p])] for p in sel]
        gaps_tok += [float(am[k]["gap"][p]) for p in cand]
        gaps_k.append(margins_from_topk(conf, tk[k]["k"], sel))
        trace.append({"forward": k, "block": k // steps_per_block, "step": k % steps_per_block,
                      "batch_rows": int(fw[k]["x"].shape[0]),
                      "masked": cand, "num_transfer": tk[k]["k"],
                      "candidates": [[p, int(x0[p]), r8(conf[p])] for p in cand],
                      "committed": committed})
    return trace, {"min_top1_top2_logit_gap_at_masked": finite_min(gaps_tok),
                   "min_kth_vs_next_confidence_gap": finite_min(gaps_k)}


def build_trace_fast(tr: Tracer, total_len, threshold):
    """Fast-dLLM functions: one get_transfer_index call per forward (recorded by gti_wrap)."""
    fw = [e for e in tr.events if e["ev"] == "forward"]
    gt = [e for e in tr.events if e["ev"] == "gti"]
    tk = [e for e in tr.events if e["ev"] == "topk"]
    assert len(fw) == len(gt) == len(tk), (len(fw), len(gt), len(tk))
    trace, gaps_tok, gaps_thr, gaps_k = [], [], [], []
    for k in range(len(fw)):
        f = fw[k]
        if "replace_start" in f:
            off, kind = f["replace_start"], "dual_cache_block"
        elif "past_len" in f:
            off, kind = f["past_len"], "prefix_cache_suffix"
        else:
            off, kind = 0, "full"
        g = gt[k]
        conf = tk[k]["conf"]
        x0 = g["x0"]
        cand = [int(p) for p in np.nonzero(g["mask"])[0]]
        sel = [int(p) for p in np.nonzero(g["transfer"])[0]]
        order = [int(p) for p in tk[k]["idx"] if int(p) in set(sel)]
        gaps_tok += [float(g["gap"][p]) for p in cand]
        if threshold is not None:
            gaps_thr += [abs(float(conf[p]) - threshold) for p in cand]
        else:
            gaps_k.append(margins_from_topk(conf, tk[k]["k"], sel))
        entry = {"forward": k, "kind": kind, "input": [off, off + f["len"]],
                 "masked": [p + off for p in cand],
                 "candidates": [[p + off, int(x0[p]), r8(conf[p])] for p in cand],
                 "committed": [[p + off, int(x0[p]), r8(conf[p])] for p in order]}
        if threshold is None:
            entry["num_transfer"] = tk[k]["k"]
        trace.append(entry)
    m = {"min_top1_top2_logit_gap_at_masked": finite_min(gaps_tok)}
    if threshold is not None:
        m["min_abs_confidence_minus_threshold"] = finite_min(gaps_thr)
    else:
        m["min_kth_vs_next_confidence_gap"] = finite_min(gaps_k)
    return trace, m


def run_case(model, tok, orig, fast, modname, fn, pids, prompts, pk, kw, seed, mask):
    mod = orig if modname == "orig" else fast
    tr = Tracer(seed)
    real_torch = torch
    mod.torch = TorchProxy(real_torch, tr)
    if modname == "fast":
        real_gti = fast.get_transfer_index

        def gti_wrap(logits, temperature, remasking, mask_index, x, num_transfer_tokens, threshold=None, _r=real_gti, _tr=tr):
            x0, ti = _r(logits, temperature, remasking, mask_index, x, num_transfer_tokens, threshold)
            v = logits[0].detach().to(torch.float64)
            t2 = torch.topk(v, 2, dim=-1).values
            _tr.events.append({"ev": "gti", "x0": x0[0].numpy().copy(), "transfer": ti[0].numpy().copy(),
                               "mask": mask_index[0].numpy().copy(), "gap": (t2[:, 0] - t2[:, 1]).numpy()})
            return x0, ti
        fast.get_transfer_index = gti_wrap
    prompt = torch.tensor([pids[pk]])
    wrapped = ModelWrap(model, tr)
    if seed is not None:
        torch.manual_seed(seed)
    try:
        if modname == "orig":
            # attention_mask of ones: generate() reads attention_mask_ only when one is given,
            # so cfg_scale > 0 needs it; all ones is the same as none for this model.
            out = getattr(mod, fn)(wrapped, prompt, attention_mask=torch.ones_like(prompt), mask_id=mask, **kw)
            nfe = tr.n_forwards
        else:
            out, nfe = getattr(mod, fn)(wrapped, prompt, mask_id=mask, **kw)
    finally:
        mod.torch = real_torch
        if modname == "fast":
            fast.get_transfer_index = real_gti
    x = out[0].tolist()
    lp = len(pids[pk])
    spb = kw["steps"] // (kw["gen_length"] // kw["block_length"])
    if modname == "orig":
        trace, margins = build_trace_original(tr, x, lp, spb, kw["block_length"])
    else:
        trace, margins = build_trace_fast(tr, len(x), kw.get("threshold"))
    if kw.get("temperature", 0) > 0:
        margins["min_top1_top2_logit_gap_at_masked"] = None  # tokens come from the recorded draws
    gen = x[lp:]
    g = {
        "family": FAMILY,
        "source": {"orig": "ML-GSAI/LLaDA generate.py: generate()", "fast": f"NVlabs/Fast-dLLM llada/generate.py: {fn}()"}[modname],
        "function": fn,
        "params": dict(kw, mask_id=mask, **({"attention_mask": "ones"} if modname == "orig" else {})),
        "seed": seed,
        "prompt_messages": prompts[pk],
        "prompt_ids": pids[pk],
        "output_ids": gen,
        "final_canvas": x,
        "output_text": tok.decode(gen, skip_special_tokens=False),
        "output_text_skip_special": tok.decode(gen, skip_special_tokens=True),
        "forwards": nfe,
        "margins": margins,
        "trace": trace,
    }
    if seed is not None:
        g["rng"] = torch_rng_note()
        g["rng"]["draws_in_order"] = tr.draws
    return g, nfe


def run_generation(model, tok, ids, gdir: Path):
    mask = ids["<|mdm_mask|>"]
    eos = ids["<|endoftext|>"]
    eot = ids["<|eot_id|>"]
    orig = load_module("llada_generate_official", LLADA_REPO / "generate.py")
    sys.path.insert(0, str(FASTDLLM))
    fast = load_module("fastdllm_llada_generate", FASTDLLM / "generate.py")
    prompts = {
        "p1": [{"role": "user", "content": "What is the capital of France?"}],
        "p2": [{"role": "user", "content": "Write a short poem about the sea."}],
    }
    pids = {k: tok.apply_chat_template(v, add_generation_prompt=True, tokenize=True) for k, v in prompts.items()}

    cases = [
        # name, module, function, prompt, kwargs, seed
        ("gen_lowconf_b8_s16", "orig", "generate", "p1", dict(steps=16, gen_length=32, block_length=8, temperature=0.0, cfg_scale=0.0, remasking="low_confidence"), None),
        ("gen_lowconf_single_block", "orig", "generate", "p2", dict(steps=8, gen_length=16, block_length=16, temperature=0.0, cfg_scale=0.0, remasking="low_confidence"), None),
        ("gen_lowconf_b16_s32_onepertoken", "orig", "generate", "p2", dict(steps=32, gen_length=32, block_length=16, temperature=0.0, cfg_scale=0.0, remasking="low_confidence"), None),
        ("gen_random_remask_seed1", "orig", "generate", "p1", dict(steps=8, gen_length=16, block_length=8, temperature=0.0, cfg_scale=0.0, remasking="random"), 1),
        ("gen_gumbel_t07_seed2", "orig", "generate", "p1", dict(steps=8, gen_length=16, block_length=8, temperature=0.7, cfg_scale=0.0, remasking="low_confidence"), 2),
        ("gen_gumbel_t1_random_seed3", "orig", "generate", "p2", dict(steps=8, gen_length=16, block_length=8, temperature=1.0, cfg_scale=0.0, remasking="random"), 3),
        ("gen_cfg1_greedy", "orig", "generate", "p1", dict(steps=8, gen_length=16, block_length=8, temperature=0.0, cfg_scale=1.0, remasking="low_confidence"), None),
        ("gen_cfg05_gumbel_t08_seed4", "orig", "generate", "p1", dict(steps=8, gen_length=16, block_length=8, temperature=0.8, cfg_scale=0.5, remasking="low_confidence"), 4),
        ("fast_threshold09_nocache", "fast", "generate", "p1", dict(steps=32, gen_length=32, block_length=8, temperature=0.0, remasking="low_confidence", threshold=0.9), None),
        ("fast_prefix_cache_threshold09", "fast", "generate_with_prefix_cache", "p1", dict(steps=32, gen_length=32, block_length=8, temperature=0.0, remasking="low_confidence", threshold=0.9), None),
        ("fast_dual_cache_threshold09", "fast", "generate_with_dual_cache", "p1", dict(steps=32, gen_length=32, block_length=8, temperature=0.0, remasking="low_confidence", threshold=0.9), None),
        ("fast_prefix_cache_steps", "fast", "generate_with_prefix_cache", "p2", dict(steps=16, gen_length=32, block_length=8, temperature=0.0, remasking="low_confidence", threshold=None), None),
        ("fast_dual_cache_steps", "fast", "generate_with_dual_cache", "p2", dict(steps=16, gen_length=32, block_length=8, temperature=0.0, remasking="low_confidence", threshold=None), None),
        ("fast_prefix_cache_threshold05_p2", "fast", "generate_with_prefix_cache", "p2", dict(steps=32, gen_length=32, block_length=8, temperature=0.0, remasking="low_confidence", threshold=0.5), None),
        ("fast_dual_cache_threshold07_p2", "fast", "generate_with_dual_cache", "p2", dict(steps=32, gen_length=32, block_length=8, temperature=0.0, remasking="low_confidence", threshold=0.7), None),
    ]
    table = []
    for name, modname, fn, pk, kw, seed0 in cases:
        tries = []
        seed = seed0
        while True:
            g, nfe = run_case(model, tok, orig, fast, modname, fn, pids, prompts, pk, kw, seed, mask)
            worst = min([v for v in g["margins"].values() if v is not None] or [1.0])
            tries.append([seed, worst])
            if seed is None or worst >= 1e-4 or len(tries) >= 6:
                break
            seed += 100
        if len(tries) > 1:
            g["seed_search"] = {"rule": "seeds seed0, seed0+100, ... until every recorded margin >= 1e-4", "tried": tries}
        compact_json(gdir / f"{name}.json", g)
        gen = g["output_ids"]
        eos_n = sum(1 for t in gen if t in (eos, eot))
        table.append({"name": name, "source": g["source"], "steps": kw.get("steps"), "gen_length": kw["gen_length"],
                      "block_length": kw["block_length"], "temperature": kw.get("temperature"),
                      "cfg_scale": kw.get("cfg_scale"), "remasking": kw["remasking"], "threshold": kw.get("threshold"),
                      "seed": g["seed"], "prompt_len": len(pids[pk]), "forwards": nfe, "multi_token_forwards": sum(1 for t in g["trace"] if len(t["committed"]) > 1), "eos_or_eot_in_output": eos_n,
                      "margins": g["margins"]})
        print(name, nfe, g["margins"], tok.decode(gen)[:60].replace("\n", " "))
    return table


def main():
    args, hf, gdir = start_family(OUT)
    ids = make_hf(hf)
    model = load_model(hf)
    tok = hf_tokenizer(hf)
    logits_goldens(model, tok, ids, gdir)
    from common import chat_golden
    chat_golden(tok, gdir)
    table = run_generation(model, tok, ids, gdir)
    write_json(OUT / "golden" / "summary.json", {"generation": table, "special_token_ids": ids})
    finish_family(args, FAMILY, hf, [(OUT / "gguf" / "llada-micro-f32.gguf", "f32", "llama-bpe"),
                                     (OUT / "gguf" / "llada-micro-q8_0.gguf", "q8_0", "llama-bpe")])


if __name__ == "__main__":
    main()
