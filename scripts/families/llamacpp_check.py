"""Cross-check a family's GGUFs against its logits goldens with llama.cpp, and record
llama.cpp's own diffusion-cli generations.

    $DLLM_EXT/venv/bin/python scripts/families/llamacpp_check.py FAMILY

Needs (outside the repository):
  $DLLM_EXT/llama.cpp             llama.cpp from the node-llama-cpp npm package's bundled
                                  release (gitRelease.bundle), built with cmake
                                  -DGGML_NATIVE=ON, target llama-diffusion-cli; its
                                  examples/diffusion/diffusion-cli.cpp carries a 12-line
                                  patch that only prints token ids when DIFFUSION_PRINT_IDS
                                  is set (see the family README)
  $DLLM_EXT/tools/dump_logits     a 40-line program on libllama: one llama_decode of the
                                  golden's tokens (flash attention off), logits of every row
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, EXT, write_json, compact_json, r8

CLI = EXT / "llama.cpp" / "build" / "bin" / "llama-diffusion-cli"
DUMP = EXT / "tools" / "dump_logits"


def llamacpp_commit():
    try:
        c = subprocess.run(["git", "-C", str(EXT / "llama.cpp"), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    except Exception:
        c = "?"
    return {"commit": c, "origin": "node-llama-cpp@3.22.1 npm package, llama/gitRelease.bundle (release tag recorded there: v0.5.0)"}


def logits_check(fam_dir: Path):
    rows = []
    for side in sorted((fam_dir / "golden").glob("logits_*.json")):
        sc = json.loads(side.read_text())
        if "tok_idx" in sc:
            continue  # padded input with custom position ids: not expressible through dump_logits
        gold = np.fromfile(side.with_suffix(".bin"), dtype="<f4").reshape(sc["shape"])
        for gg in sorted((fam_dir / "gguf").glob("*.gguf")):
            out = Path("/tmp") / f"dl_{fam_dir.name}_{gg.stem}_{side.stem}.bin"
            subprocess.run([str(DUMP), str(gg), str(out)] + [str(t) for t in sc["tokens"]], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            got = np.fromfile(out, dtype="<f4").reshape(gold.shape[0], -1)[:, :gold.shape[1]]
            rows.append({"golden": side.stem, "gguf": gg.name,
                         "max_abs_diff": r8(np.abs(got - gold).max()),
                         "argmax_agree": r8((got.argmax(1) == gold.argmax(1)).mean())})
    return rows


def run_cli(gguf: Path, prompt: str, args: list[str], n_ubatch: int):
    cmd = [str(CLI), "-m", str(gguf), "-p", prompt, "-ub", str(n_ubatch), "-b", str(n_ubatch), "-c", str(n_ubatch),
           "-fa", "off", "-t", "2"] + args
    env = dict(os.environ, DIFFUSION_PRINT_IDS="1")
    p = subprocess.run(cmd, capture_output=True, env=env)
    err = p.stdout.decode("utf-8", "replace")
    steps, inp, outp = [], None, None
    for line in err.replace("\r", "\n").split("\n"):
        i = line.find("DLLM_")
        if i < 0:
            continue
        line = line[i:]
        head, _, ids = line.partition(":")
        # a LOG line may be glued to the end of a DLLM line; keep the leading integers only
        vals = []
        for t in ids.split():
            if t.lstrip("-").isdigit():
                vals.append(int(t))
            else:
                break
        if head.startswith("DLLM_STEP"):
            steps.append({"step": head.split()[1], "canvas": vals})
        elif head == "DLLM_INPUT":
            inp = vals
        elif head == "DLLM_OUTPUT":
            outp = vals
    assert p.returncode == 0 and outp is not None, p.stderr.decode("utf-8", "replace")[-2000:]
    cmd_print = ["llama-diffusion-cli"] + cmd[1:]
    cmd_print[cmd_print.index("-m") + 1] = "gguf/" + gguf.name
    return {"command": cmd_print, "prompt_ids": inp, "output_ids": outp, "step_canvases": steps}


CLI_CASES = {
    # family: list of (name, gguf, prompt, args, n_ubatch, note)
    "llada": [
        ("llamacpp_block8_s16_topk1", "llada-micro-f32.gguf", "What is the capital of France?",
         ["--diffusion-block-length", "8", "--diffusion-steps", "16", "--diffusion-algorithm", "4", "--top-k", "1", "--temp", "0", "--seed", "1"], 64,
         "confidence-based, block schedule; top-k 1 makes sampling greedy (then every confidence is 1.0, so the order of commits is llama.cpp's tie order)"),
        ("llamacpp_block8_s16_t07_seed5", "llada-micro-f32.gguf", "What is the capital of France?",
         ["--diffusion-block-length", "8", "--diffusion-steps", "16", "--diffusion-algorithm", "4", "--temp", "0.7", "--top-k", "40", "--top-p", "0.95", "--seed", "5"], 64,
         "confidence-based, temperature 0.7, top-k 40, top-p 0.95, seed 5 (llama.cpp's own RNG)"),
        ("llamacpp_block8_s16_topk1_q8_0", "llada-micro-q8_0.gguf", "What is the capital of France?",
         ["--diffusion-block-length", "8", "--diffusion-steps", "16", "--diffusion-algorithm", "4", "--top-k", "1", "--temp", "0", "--seed", "1"], 64,
         "as llamacpp_block8_s16_topk1 on the q8_0 file"),
    ],
    "dream": [
        ("llamacpp_eps_alg4_confidence_topk1", "dream-micro-f32.gguf", "What is the capital of France?",
         ["--diffusion-eps", "0.001", "--diffusion-steps", "12", "--diffusion-algorithm", "4", "--top-k", "1", "--temp", "0", "--seed", "1"], 74,
         "timestep (eps) schedule, confidence-based, greedy via top-k 1 (24 new tokens: n_ubatch 74 minus the 50-token prompt)"),
        ("llamacpp_eps_alg1_entropy_topk1", "dream-micro-f32.gguf", "What is the capital of France?",
         ["--diffusion-eps", "0.001", "--diffusion-steps", "12", "--diffusion-algorithm", "1", "--top-k", "1", "--temp", "0", "--seed", "1"], 74,
         "timestep schedule, llama.cpp ENTROPY_BASED (sign reversed relative to Dream, see peers.md 1.10), greedy via top-k 1"),
        ("llamacpp_eps_alg2_margin_topk2_t1_seed3", "dream-micro-f32.gguf", "What is the capital of France?",
         ["--diffusion-eps", "0.001", "--diffusion-steps", "12", "--diffusion-algorithm", "2", "--top-k", "2", "--temp", "1", "--seed", "3"], 74,
         "timestep schedule, MARGIN_BASED with top-k 2 (so the sampler list holds the true top two), temperature 1, seed 3 (llama.cpp RNG)"),
        ("llamacpp_eps_alg0_origin_topk1_seed4", "dream-micro-f32.gguf", "What is the capital of France?",
         ["--diffusion-eps", "0.001", "--diffusion-steps", "12", "--diffusion-algorithm", "0", "--top-k", "1", "--temp", "0", "--seed", "4"], 74,
         "timestep schedule, ORIGIN (random transfer order, llama.cpp RNG seed 4), tokens greedy via top-k 1"),
        ("llamacpp_eps_alg3_random_topk1_seed5", "dream-micro-f32.gguf", "What is the capital of France?",
         ["--diffusion-eps", "0.001", "--diffusion-steps", "12", "--diffusion-algorithm", "3", "--top-k", "1", "--temp", "0", "--seed", "5"], 74,
         "timestep schedule, RANDOM selection (llama.cpp RNG seed 5), tokens greedy via top-k 1"),
        ("llamacpp_block8_alg4_topk1", "dream-micro-f32.gguf", "What is the capital of France?",
         ["--diffusion-block-length", "8", "--diffusion-steps", "30", "--diffusion-algorithm", "4", "--top-k", "1", "--temp", "0", "--seed", "1"], 80,
         "llama.cpp's block-scheduled variant for Dream: n_ubatch 80 = 10 blocks of 8 counted from position 0 (prompt 50 tokens, 30 new), 30 steps, confidence-based, greedy via top-k 1"),
        ("llamacpp_eps_alg4_t07_seed6", "dream-micro-f32.gguf", "What is the capital of France?",
         ["--diffusion-eps", "0.001", "--diffusion-steps", "12", "--diffusion-algorithm", "4", "--temp", "0.7", "--top-k", "40", "--top-p", "0.95", "--seed", "6"], 74,
         "timestep schedule, confidence-based, temperature 0.7, top-k 40, top-p 0.95, seed 6 (llama.cpp RNG)"),
    ],
    "llada-moe": [
        ("llamacpp_block8_s14_topk1", "llada-moe-micro-f32.gguf", "What is the capital of France?",
         ["--diffusion-block-length", "8", "--diffusion-steps", "14", "--diffusion-algorithm", "4", "--top-k", "1", "--temp", "0", "--seed", "1"], 56,
         "confidence-based, block schedule over n_ubatch 56 (prompt 24 + 32 new: 7 blocks of 8 counted from position 0, 2 steps each), greedy via top-k 1"),
        ("llamacpp_block8_s14_t07_seed5", "llada-moe-micro-f32.gguf", "What is the capital of France?",
         ["--diffusion-block-length", "8", "--diffusion-steps", "14", "--diffusion-algorithm", "4", "--temp", "0.7", "--top-k", "40", "--top-p", "0.95", "--seed", "5"], 56,
         "confidence-based, temperature 0.7, top-k 40, top-p 0.95, seed 5 (llama.cpp RNG)"),
    ],
    "rnd1": [
        ("llamacpp_eps_alg1_entropy_topk1", "rnd1-micro-f32.gguf", "Question: What is the capital of France?\nAnswer:",
         ["--diffusion-eps", "0.001", "--diffusion-steps", "12", "--diffusion-algorithm", "1", "--top-k", "1", "--temp", "0", "--seed", "1"], 48,
         "the CLI always applies the GGUF's chat template (ChatML here) to -p, unlike the official goldens' raw prompt; timestep schedule, ENTROPY_BASED (as the README's RND1 example), greedy via top-k 1; n_ubatch 48 = prompt + new tokens"),
        ("llamacpp_eps_alg4_confidence_topk1", "rnd1-micro-f32.gguf", "Question: What is the capital of France?\nAnswer:",
         ["--diffusion-eps", "0.001", "--diffusion-steps", "12", "--diffusion-algorithm", "4", "--top-k", "1", "--temp", "0", "--seed", "1"], 48,
         "chat-templated prompt, timestep schedule, CONFIDENCE_BASED, greedy via top-k 1"),
        ("llamacpp_eps_alg1_t05_seed7", "rnd1-micro-f32.gguf", "Question: What is the capital of France?\nAnswer:",
         ["--diffusion-eps", "0.001", "--diffusion-steps", "12", "--diffusion-algorithm", "1", "--temp", "0.5", "--top-k", "40", "--top-p", "0.95", "--seed", "7"], 48,
         "chat-templated prompt, timestep schedule, ENTROPY_BASED, temperature 0.5, top-k 40, top-p 0.95, seed 7 (llama.cpp RNG), as in the README's RND1 example but smaller"),
        ("llamacpp_block8_alg4_topk1", "rnd1-micro-f32.gguf", "Question: What is the capital of France?\nAnswer:",
         ["--diffusion-block-length", "8", "--diffusion-steps", "12", "--diffusion-algorithm", "4", "--top-k", "1", "--temp", "0", "--seed", "1"], 48,
         "chat-templated prompt, block schedule (6 blocks of 8 from position 0, 2 steps each), CONFIDENCE_BASED, greedy via top-k 1"),
    ],
}


def main():
    fam = sys.argv[1]
    fam_dir = REPO / "testdata" / "families" / fam
    info = llamacpp_commit()
    rows = logits_check(fam_dir)
    write_json(fam_dir / "golden" / "llamacpp_logits_check.json", {
        "llama_cpp": info,
        "how": "dump_logits: one llama_decode over the golden's tokens (positions 0..T-1, one sequence, non-causal as the GGUF says), flash attention off, CPU, 2 threads; compared with golden logits_*.bin",
        "results": rows})
    for r in rows:
        print(r)
    for name, gg, prompt, args, nub, note in CLI_CASES.get(fam, []):
        res = run_cli(fam_dir / "gguf" / gg, prompt, args, nub)
        res.update({"llama_cpp": info, "note": note, "n_ubatch": nub,
                    "patch": "diffusion-cli.cpp prints DLLM_STEP / DLLM_INPUT / DLLM_OUTPUT id lines when DIFFUSION_PRINT_IDS is set; nothing else changed"})
        compact_json(fam_dir / "golden" / f"{name}.json", res)
        print(name, res["output_ids"][:20])


if __name__ == "__main__":
    main()
