"""Run llama.cpp's llama-diffusion-cli on GGUFs made by `dllm quantize` and check that it
generates what it generated from llama.cpp's own GGUFs (the fixtures' llamacpp_* goldens).

    $DLLM_EXT/venv/bin/python scripts/families/quantize_llamacpp_check.py [FAMILY ...]

Not part of `make test`: it needs llama.cpp's patched llama-diffusion-cli built outside
the repository (see llamacpp_check.py; DLLM_EXT names that folder). For every
golden/llamacpp_*.json with a command, the family's hf/ folder is converted with
`dllm quantize -t` the type of the GGUF the golden ran on (f32 or q8_0), the same
command is run on the converted file, and its prompt ids, per-step canvases and output
ids must equal the golden's. The other types (f16, bf16, q4_0, q4_k, q6_k) have no
llama.cpp golden: each converted file must load and generate (the first command's
number of output ids). Exits 1 on any difference or failure.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO  # noqa: E402
from llamacpp_check import CLI, run_cli  # noqa: E402

FAMILIES = ["llada", "dream", "llada-moe", "rnd1"]


def main() -> int:
    if not CLI.exists():
        print(f"skip: {CLI} not found")
        return 0
    families = sys.argv[1:] or FAMILIES
    tmp = Path(tempfile.mkdtemp(prefix="dllm-quantize-check-"))
    dllm = tmp / "dllm"
    subprocess.run(["go", "build", "-o", str(dllm), "./examples/dllm"], cwd=REPO, check=True)
    failed = 0
    for fam in families:
        fam_dir = REPO / "testdata" / "families" / fam
        for golden in sorted((fam_dir / "golden").glob("llamacpp_*.json")):
            g = json.loads(golden.read_text())
            cmd = g.get("command")
            if not cmd:
                continue
            gguf = cmd[cmd.index("-m") + 1]
            typ = "q8_0" if gguf.endswith("-q8_0.gguf") else "f32"
            out = tmp / f"{fam}-{typ}.gguf"
            if not out.exists():
                subprocess.run([str(dllm), "quantize", "-m", str(fam_dir / "hf"), "-o", str(out), "-t", typ],
                               check=True, stderr=subprocess.DEVNULL)
            # the stored command is [cli, -m, F, -p, PROMPT, -ub, N, -b, N, -c, N, -fa, off, -t, 2, args...]
            got = run_cli(out, cmd[cmd.index("-p") + 1], cmd[15:], int(cmd[cmd.index("-ub") + 1]))
            same = {k: got[k] == g[k] for k in ("prompt_ids", "step_canvases", "output_ids")}
            ok = all(same.values())
            failed += not ok
            print(f"{'PASS' if ok else 'FAIL'} {fam}/{golden.stem}: dllm quantize -t {typ}, "
                  f"{len(got['step_canvases'])} steps, {len(got['output_ids'] or [])} output ids"
                  + ("" if ok else f" (differs: {[k for k, v in same.items() if not v]})"))
        # every other type: llama.cpp loads the file and generates
        first = next(json.loads(p.read_text()) for p in sorted((fam_dir / "golden").glob("llamacpp_*.json"))
                     if "command" in json.loads(p.read_text()))
        cmd = first["command"]
        for typ in ("f16", "bf16", "q4_0", "q4_k", "q6_k"):
            out = tmp / f"{fam}-{typ}.gguf"
            subprocess.run([str(dllm), "quantize", "-m", str(fam_dir / "hf"), "-o", str(out), "-t", typ],
                           check=True, stderr=subprocess.DEVNULL)
            try:
                got = run_cli(out, cmd[cmd.index("-p") + 1], cmd[15:], int(cmd[cmd.index("-ub") + 1]))
                ok = len(got["output_ids"]) == len(first["output_ids"])
            except AssertionError as e:
                ok, got = False, {"output_ids": [], "error": str(e)[-300:]}
            failed += not ok
            print(f"{'PASS' if ok else 'FAIL'} {fam} -t {typ}: llama.cpp loads it and generates "
                  f"{len(got['output_ids'])} ids" + ("" if ok else f" {got.get('error', '')}"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
