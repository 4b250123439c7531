"""LLaDA-MoE (LLaDA-MoE-7B-A1B, `LLaDAMoEModelLM`, GGUF arch `llada-moe`) micro fixture.

    $DLLM_EXT/venv/bin/python scripts/families/llada_moe.py [--skip-gguf]

Builds testdata/families/llada-moe/{hf,gguf,golden}. Official code, fetched into $DLLM_EXT
(never committed here):
  * modeling_lladamoe.py / configuration_lladamoe.py: inclusionAI's model code (shipped on the
    Hugging Face hub with the checkpoints), as mirrored in InfiniTensor/InfiniLM @239f1d70;
    loaded from $DLLM_EXT/src/InfiniTensor+InfiniLM@239f1d70/lladamoe
  * ML-GSAI/LLaDA generate.py (the model card's generate, mask_id passed in)
  * NVlabs/Fast-dLLM llada/generate.py `generate` with a confidence threshold (the cache
    variants need model support that LLaDA-MoE's code does not have: it asserts no cache)
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import llada as L
from common import (REPO, FIXROOT, model_dtype, SRC, BASE_TOKENIZER, WeightMaker, bf16_round, build_tokenizer, save_safetensors, write_json,
                    write_logits, convert_gguf, chat_golden, r8, start_family, finish_family, load_official, hf_tokenizer, moe_attention_weights, moe_mlp_weights)

FAMILY = "llada-moe"
OUT = FIXROOT / FAMILY
SEED = 20251206
SPECIALS = ["<|startoftext|>", "<|endoftext|>", "<|mdm_mask|>", "<|role_end|>", "<role>", "</role>"]
CHAT_TEMPLATE = ("{% for message in messages %}{% set role = message['role'] | lower %}"
                 "{% if role == 'user' %}{% set role = 'HUMAN' %}{% elif role == 'assistant' %}{% set role = 'ASSISTANT' %}"
                 "{% elif role == 'system' %}{% set role = 'SYSTEM' %}{% endif %}"
                 "{{ '<role>' + role + '</role>' + message['content'] + '<|role_end|>' }}{% endfor %}"
                 "{% if add_generation_prompt %}{{ '<role>ASSISTANT</role>' }}{% endif %}")
D, H, KVH, HD, NL, E, K, EFF, V = 64, 4, 4, 16, 2, 8, 2, 32, 1024
MOE_SRC = SRC / "InfiniTensor+InfiniLM@239f1d70"


def make_hf(hf: Path):
    ling_split = json.loads(BASE_TOKENIZER.read_text())["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"]
    ids = build_tokenizer(hf, ling_split, SPECIALS, V, {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>",
        "mask_token": "<|mdm_mask|>", "additional_special_tokens": ["<|role_end|>", "<role>", "</role>"],
        "add_bos_token": False, "add_eos_token": False, "clean_up_tokenization_spaces": False,
        "model_max_length": 8192, "chat_template": CHAT_TEMPLATE,
    })
    cfg = {
        "architectures": ["LLaDAMoEModelLM"],
        "auto_map": {"AutoConfig": "configuration_lladamoe.LLaDAConfig",
                     "AutoModel": "modeling_lladamoe.LLaDAMoEModelLM",
                     "AutoModelForCausalLM": "modeling_lladamoe.LLaDAMoEModelLM"},
        "model_type": "llada",
        "attention_bias": False, "attention_dropout": 0.0, "clip_qkv": None,
        "hidden_act": "silu", "hidden_size": D, "initializer_range": 0.02,
        "dense_intermediate_size": 128, "expert_intermediate_size": EFF, "shared_expert_intermediate_size": None,
        "num_experts": E, "num_experts_per_tok": K, "moe_layer_freq": [1] * NL,
        "moe_router_enable_expert_bias": False, "moe_router_score_function": "softmax",
        "norm_topk_prob": False, "routed_scaling_factor": 1, "router_num_group": None, "router_topk_group": None,
        "output_router_logits": False, "router_aux_loss_coef": 0.01,
        "max_position_embeddings": 8192, "num_attention_heads": H, "num_hidden_layers": NL, "num_key_value_heads": KVH,
        "qk_layernorm": True, "rms_norm_eps": 1e-05, "rope_scaling": None, "rope_theta": 50000,
        "partial_rotary_factor": 1, "tie_word_embeddings": False, "torch_dtype": "bfloat16",
        "transformers_version": "4.46.2", "use_cache": False, "vocab_size": V,
        "bos_token_id": None, "eos_token_id": ids["<|endoftext|>"], "pad_token_id": ids["<|endoftext|>"],
    }
    write_json(hf / "config.json", cfg)
    wm = WeightMaker(SEED)
    t = {}
    emb = wm.normal("model.embed_tokens.weight", (V, D), 1.0)
    emb[ids["<|mdm_mask|>"]] = wm.normal("mask_emb", (D,), 0.3)
    t["model.embed_tokens.weight"] = emb
    for i in range(NL):
        b = f"model.layers.{i}."
        moe_attention_weights(wm, t, b, D, H, KVH, HD, 0.5 / np.sqrt(D))
        moe_mlp_weights(wm, t, b, D, E, EFF)
    t["model.norm.weight"] = wm.normal("model.norm.weight", (D,), 0.1, 1.0)
    head = wm.normal("lm_head.weight", (V, D), 0.75)
    for s in ("<|mdm_mask|>", "<|startoftext|>", "<role>"):
        head[ids[s]] = 0.0
    head[ids["<|endoftext|>"]] *= 1.6
    t["lm_head.weight"] = bf16_round(head)
    save_safetensors(hf / "model.safetensors", t)
    return ids


class RouterWatch:
    """Forward hooks on every mlp.gate: records the smallest gap between the K-th and
    (K+1)-th softmax router probability (how far any expert choice is from flipping)."""

    def __init__(self, model):
        self.min_gap = float("inf")
        self.hooks = []
        for layer in model.model.layers:
            self.hooks.append(layer.mlp.gate.register_forward_hook(self.hook))

    def hook(self, mod, inp, out):
        p = torch.softmax(out.detach().to(torch.float64), -1)
        srt = torch.sort(p, -1, descending=True).values
        self.min_gap = min(self.min_gap, float((srt[:, K - 1] - srt[:, K]).min()))

    def take(self):
        g, self.min_gap = self.min_gap, float("inf")
        return r8(g)


def load_model(hf: Path):
    return load_official(MOE_SRC, "lladamoe.modeling_lladamoe", "LLaDAMoEModelLM", hf)


def main():
    args, hf, gdir = start_family(OUT)
    ids = make_hf(hf)
    model = load_model(hf)
    rw = RouterWatch(model)
    tok = hf_tokenizer(hf)
    # logits: same cases as the LLaDA fixture (same helper), then note router margins
    L.FAMILY = FAMILY
    mask_id = ids["<|mdm_mask|>"]
    L_ids = dict(ids)
    L.logits_goldens(model, tok, L_ids, gdir)
    for side in gdir.glob("logits_*.json"):
        sc = json.loads(side.read_text())
        rw.take()
        with torch.no_grad():
            model(torch.tensor([sc["tokens"]]))
        sc["router_margin"] = rw.take()
        sc["computed"] = ("official LLaDAMoEModelLM (inclusionAI modeling_lladamoe.py) in float64; that code computes RMSNorm, "
                          "RoPE tables and the router softmax in float32 and casts back")
        sc["weights"] = "hf/model.safetensors (identical: gguf/*-f32.gguf)"
        write_json(side, sc)
    chat_golden(tok, gdir)
    table = run_generation(model, tok, ids, gdir, rw)
    write_json(gdir / "summary.json", {"generation": table, "special_token_ids": ids})
    finish_family(args, FAMILY, hf, [(OUT / "gguf" / "llada-moe-micro-f32.gguf", "f32", "bailingmoe")], mask_id_override=mask_id)


def run_generation(model, tok, ids, gdir, rw):
    mask = ids["<|mdm_mask|>"]
    eos = ids["<|endoftext|>"]
    orig = L.load_module("llada_generate_official", L.LLADA_REPO / "generate.py")
    sys.path.insert(0, str(L.FASTDLLM))
    fast = L.load_module("fastdllm_llada_generate", L.FASTDLLM / "generate.py")
    prompts = {
        "p1": [{"role": "user", "content": "What is the capital of France?"}],
        "p2": [{"role": "user", "content": "Write a short poem about the sea."}],
    }
    pids = {k: tok.apply_chat_template(v, add_generation_prompt=True, tokenize=True) for k, v in prompts.items()}
    cases = [
        ("gen_lowconf_b8_s16", "orig", "generate", "p1", dict(steps=16, gen_length=32, block_length=8, temperature=0.0, cfg_scale=0.0, remasking="low_confidence"), None),
        ("gen_lowconf_single_block", "orig", "generate", "p2", dict(steps=8, gen_length=16, block_length=16, temperature=0.0, cfg_scale=0.0, remasking="low_confidence"), None),
        ("gen_random_remask_seed1", "orig", "generate", "p1", dict(steps=8, gen_length=16, block_length=8, temperature=0.0, cfg_scale=0.0, remasking="random"), 1),
        ("gen_gumbel_t07_seed2", "orig", "generate", "p2", dict(steps=8, gen_length=16, block_length=8, temperature=0.7, cfg_scale=0.0, remasking="low_confidence"), 2),
        ("gen_cfg1_greedy", "orig", "generate", "p1", dict(steps=8, gen_length=16, block_length=8, temperature=0.0, cfg_scale=1.0, remasking="low_confidence"), None),
        ("fast_threshold07_nocache", "fast", "generate", "p2", dict(steps=32, gen_length=32, block_length=8, temperature=0.0, remasking="low_confidence", threshold=0.7), None),
    ]
    table = []
    for name, modname, fn, pk, kw, seed in cases:
        rw.take()
        g, nfe = L.run_case(model, tok, orig, fast, modname, fn, pids, prompts, pk, kw, seed, mask)
        g["margins"]["min_router_kth_vs_next_prob_gap"] = rw.take()
        L.compact_json(gdir / f"{name}.json", g)
        gen = g["output_ids"]
        table.append({"name": name, "source": g["source"], "steps": kw.get("steps"), "gen_length": kw["gen_length"],
                      "block_length": kw["block_length"], "temperature": kw.get("temperature"),
                      "cfg_scale": kw.get("cfg_scale"), "remasking": kw["remasking"], "threshold": kw.get("threshold"),
                      "seed": seed, "prompt_len": len(pids[pk]), "forwards": nfe,
                      "multi_token_forwards": sum(1 for t in g["trace"] if len(t["committed"]) > 1),
                      "eos_in_output": sum(1 for t in gen if t == eos), "margins": g["margins"]})
        print(name, nfe, g["margins"], repr(tok.decode(gen)[:50]))
    return table


if __name__ == "__main__":
    main()
