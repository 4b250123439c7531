#!/usr/bin/env python3
"""Check kernels.Dequantize bit for bit against gguf-py's numpy dequantization.

gguf-py (the Python package of llama.cpp) carries numpy versions of ggml's
dequantize_row_* functions. This script makes random blocks of Q8_0, Q4_0, Q4_K and Q6_K
(random quant bytes, random finite f16 scales including zero, subnormal, negative and
extreme ones), dequantizes them with gguf-py, and has the Go test TestDequantGolden
(dllm/internal/weights) compare kernels.Dequantize with every float's bit pattern.

    python3 -m venv /tmp/gguf-venv && /tmp/gguf-venv/bin/pip install gguf numpy
    /tmp/gguf-venv/bin/python scripts/check-dequant.py              # 4096 blocks per format
    /tmp/gguf-venv/bin/python scripts/check-dequant.py --write-golden  # refresh the stored few

--write-golden rewrites dllm/internal/weights/testdata/dequant/golden.json, the small set
of blocks and expected floats that `go test` checks without Python.
"""

import argparse
import importlib.metadata
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import quants

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN = os.path.join(REPO, "dllm", "internal", "weights", "testdata", "dequant", "golden.json")

# format name -> (ggml type, block bytes, byte offsets of f16 fields in a block)
FORMATS = {
    "q8_0": (T.Q8_0, 34, [0]),
    "q4_0": (T.Q4_0, 18, [0]),
    "q4_k": (T.Q4_K, 144, [0, 2]),  # d, dmin
    "q6_k": (T.Q6_K, 210, [208]),   # d
}


def random_f16(rng, n):
    """Finite f16 scales: mostly ordinary magnitudes, plus the awkward values."""
    x = (rng.standard_normal(n) * 10.0 ** rng.uniform(-4, 1, n)).astype(np.float16)
    special = np.array([0.0, -0.0, 6e-8, -6e-8, 1e-5, 65504.0, -65504.0, 1.0], dtype=np.float16)
    pick = rng.random(n) < 0.1
    x[pick] = rng.choice(special, pick.sum())
    return x


def make_blocks(rng, name, n):
    _, size, f16_offsets = FORMATS[name]
    blocks = rng.integers(0, 256, size=(n, size), dtype=np.uint8)
    for off in f16_offsets:
        blocks[:, off:off + 2] = random_f16(rng, n).view(np.uint8).reshape(n, 2)
    return blocks


def cases(rng, n):
    out = []
    for name, (qtype, _, _) in FORMATS.items():
        blocks = make_blocks(rng, name, n)
        want = quants.dequantize(blocks.reshape(-1), qtype).astype(np.float32)
        assert np.all(np.isfinite(want)), name
        out.append({
            "format": name,
            "blocks": blocks.tobytes().hex(),
            "want": want.astype("<f4").tobytes().hex(),
        })
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--blocks", type=int, default=4096, help="blocks per format")
    ap.add_argument("--seed", type=int, default=20251126)
    ap.add_argument("--write-golden", action="store_true", help="rewrite the small stored golden set")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)

    if args.write_golden:
        os.makedirs(os.path.dirname(GOLDEN), exist_ok=True)
        with open(GOLDEN, "w") as f:
            source = "gguf-py %s quants.dequantize via scripts/check-dequant.py --seed %d" % (
                importlib.metadata.version("gguf"), args.seed)
            json.dump({"source": source, "cases": cases(rng, 3)}, f, indent=1)
            f.write("\n")
        print("wrote", GOLDEN)
        return 0

    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"cases": cases(rng, args.blocks)}, f)
        path = f.name
    try:
        env = dict(os.environ, DLLM_DEQUANT_GOLDEN=path)
        cmd = ["go", "test", "-count=1", "-run", "^TestDequantGolden$", "-v", "./dllm/internal/weights/"]
        r = subprocess.run(cmd, cwd=REPO, env=env)
    finally:
        os.unlink(path)
    if r.returncode == 0:
        print("kernels.Dequantize is bit-exact with gguf-py on %d random blocks per format (%s)" % (
            args.blocks, ", ".join(FORMATS)))
    return r.returncode


if __name__ == "__main__":
    sys.exit(main())
