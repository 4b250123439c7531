#!/usr/bin/env python3
"""Write kernels/testdata/quant/vectors.json: float32 rows and their quantizations by
references outside this project, which TestQuantizeVectors (kernels) checks byte for byte.

  - q8_0 and q4_0: gguf-py's quants.quantize (its numpy ports of ggml's
    quantize_row_q8_0_ref and quantize_row_q4_0_ref, documented bit-exact with them);
  - q8_k: gguf-py has no Q8_K quantizer, so quantize_q8_k below transcribes ggml's
    quantize_row_q8_K_ref (ggml/src/ggml-quants.c) line by line, in float32. Where ggml
    leaves the sums of an all-zero block unset, it writes zeros.

The rows are the activation quantizers' corner cases: zero blocks, exact halves, ties
for the largest magnitude with either sign first, negative maxima, tiny values and huge
ones (whose Q8_0 scale overflows f16 to infinity, numpy's overflow warning). Subnormal
maxima are left out: ggml's scales overflow there and its conversions to int are
undefined. Run on demand (not part of make test):

    python3 -m venv /tmp/gguf-venv && /tmp/gguf-venv/bin/pip install gguf numpy
    /tmp/gguf-venv/bin/python scripts/gen-quant-vectors.py
"""

import importlib.metadata
import json
import os

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import quants

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "kernels", "testdata", "quant", "vectors.json")
N = 512  # two Q8_K super-blocks, sixteen Q8_0 blocks
SEED = 20261204


def quantize_q8_k(x):
    """ggml's quantize_row_q8_K_ref: block_q8_K {float d; int8 qs[256]; int16 bsums[16]}."""
    out = bytearray()
    for blk in x.reshape(-1, 256):
        ax = np.abs(blk)
        j = int(np.argmax(ax))  # the first of the largest magnitude, as ggml's strict '>'
        amax, mx = ax[j], blk[j]
        if amax == 0:
            out += np.zeros(4 + 256 + 32, np.uint8).tobytes()
            continue
        iscale = np.float32(-127.0) / mx
        # nearest_int(fval): fval + 12582912.f, a float32 round to nearest even.
        q = np.minimum(np.float32(127), np.rint((iscale * blk).astype(np.float32))).astype(np.int8)
        bsums = q.astype(np.int32).reshape(16, 16).sum(axis=1).astype("<i2")
        out += np.float32(np.float32(1.0) / iscale).astype("<f4").tobytes()
        out += q.tobytes() + bsums.tobytes()
    return bytes(out)


def rows(rng):
    i = np.arange(N)
    out = [
        np.zeros(N),
        rng.standard_normal(N),
        rng.standard_normal(N) * 1e-3,
        (i % 41 - 20) / 40 * 127,  # many exact halves
        (i % 9 - 4) * 0.5,  # ties in magnitude
        -(i % 7) - (i % 256) / 8,  # negative maxima
        np.where(i % 2 == 0, 3.0, -3.0),  # ±3: the first sign wins
        rng.standard_normal(N) * 1e-30,  # Q8_0's f16 scale flushes to zero
        rng.standard_normal(N) * 1e8,  # Q8_0's f16 scale overflows
        np.where(i % 32 == 0, np.where(i // 256 % 2 == 0, 127.0, -127.0), i % 64 - 32 + 0.5),
        np.concatenate([np.zeros(256), rng.standard_normal(256)]),  # a zero block, then not
    ]
    # The largest magnitude (2) at lanes vector code treats differently, tied later in
    # the block with the other sign.
    for p in (0, 1, 7, 8, 15, 16, 31, 32, 127, 128, 255):
        x = rng.uniform(-1, 1, N)
        for b, s in enumerate((-2.0, 2.0)):
            x[256 * b + p] = s
            for q in (p + 1, p + 5, p + 12, 255):
                if p < q < 256:
                    x[256 * b + q] = -s
        out.append(x)
    return [np.asarray(x, np.float32) for x in out]


def main():
    cases = []
    for x in rows(np.random.default_rng(SEED)):
        cases.append({
            "x": x.astype("<f4").tobytes().hex(),
            "q8_0": quants.quantize(x, T.Q8_0).tobytes().hex(),
            "q4_0": quants.quantize(x, T.Q4_0).tobytes().hex(),
            "q8_k": quantize_q8_k(x).hex(),
        })
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        source = "scripts/gen-quant-vectors.py: gguf-py %s (q8_0, q4_0), ggml quantize_row_q8_K_ref transcribed (q8_k)" % (
            importlib.metadata.version("gguf"))
        json.dump({"source": source, "cases": cases}, f, indent=1)
        f.write("\n")
    print("wrote %d rows to %s" % (len(cases), OUT))


if __name__ == "__main__":
    main()
