#!/usr/bin/env python3
"""Write kernels/testdata/quant/vectors.json: float32 rows and their quantizations by
references outside this project, which TestQuantizeVectors (kernels) checks byte for byte.

  - q8_0 and q4_0: gguf-py's quants.quantize (its numpy ports of ggml's
    quantize_row_q8_0_ref and quantize_row_q4_0_ref, documented bit-exact with them);
  - q8_k, q4_k, q6_k: gguf-py has no quantizer for these, so the functions below
    transcribe ggml's quantize_row_q8_K_ref, quantize_row_q4_K_ref (with
    make_qkx2_quants) and quantize_row_q6_K_ref (with make_qx_quants) from
    ggml/src/ggml-quants.c line by line, each C float operation one rounded numpy
    float32 operation (C without floating-point contraction). Where ggml leaves the
    sums of an all-zero Q8_K block unset, quantize_q8_k writes zeros.

The rows are the quantizers' corner cases: zero blocks, exact halves, ties for the
largest magnitude with either sign first, negative maxima, constant and all-positive
rows, weight-like ones, and for Q8_0, Q4_0 and Q8_K tiny values and huge ones (whose
Q8_0 scale overflows f16 to infinity, numpy's overflow warning); the K-quant fields of
those two rows are empty. Subnormal maxima are left out: ggml's scales overflow there
and its conversions to int are undefined. Run on demand (not part of make test):

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


f32, f16 = np.float32, np.float16
GROUP_MAX_EPS = f32(1e-15)


def nearest_int(v):
    """ggml's nearest_int: v + 12582912.f, a float32 round to nearest even."""
    return int(np.rint(f32(v)))


def fp16_round(v):
    """GGML_FP16_TO_FP32(GGML_FP32_TO_FP16(v)) and the f16's little-endian bytes."""
    h = f16(f32(v))
    return f32(h), h.tobytes()


def make_qkx2_quants(n, nmax, x, weights, rmin, rdelta, nstep):
    """make_qkx2_quants with use_mad false: returns (scale, the_min, L)."""
    mn = mx = x[0]
    sum_w = weights[0]
    sum_x = sum_w * x[0]
    for i in range(1, n):
        if x[i] < mn:
            mn = x[i]
        if x[i] > mx:
            mx = x[i]
        sum_w += weights[i]
        sum_x += weights[i] * x[i]
    if mn > 0:
        mn = f32(0)
    if mx == mn:
        return f32(0), -mn, [0] * n
    iscale = f32(nmax) / (mx - mn)
    scale = f32(1) / iscale
    L = [max(0, min(nmax, nearest_int(iscale * (x[i] - mn)))) for i in range(n)]
    best = f32(0)
    for i in range(n):
        diff = scale * f32(L[i]) + mn - x[i]
        best += weights[i] * (diff * diff)
    if nstep < 1:
        return scale, -mn, L
    for step in range(nstep + 1):
        iscale = (rmin + rdelta * f32(step) + f32(nmax)) / (mx - mn)
        sum_l = sum_l2 = sum_xl = f32(0)
        aux = []
        for i in range(n):
            l = max(0, min(nmax, nearest_int(iscale * (x[i] - mn))))
            aux.append(l)
            w = weights[i]
            sum_l += w * f32(l)
            sum_l2 += w * f32(l) * f32(l)
            sum_xl += w * f32(l) * x[i]
        D = sum_w * sum_l2 - sum_l * sum_l
        if D > 0:
            this_scale = (sum_w * sum_xl - sum_x * sum_l) / D
            this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D
            if this_min > 0:
                this_min = f32(0)
                this_scale = sum_xl / sum_l2
            cur = f32(0)
            for i in range(n):
                diff = this_scale * f32(aux[i]) + this_min - x[i]
                cur += weights[i] * (diff * diff)
            if cur < best:
                L, best, scale, mn = aux, cur, this_scale, this_min
    return scale, -mn, L


def quantize_q4_k(x):
    """quantize_row_q4_K_ref: block_q4_K {f16 d, dmin; uint8 scales[12]; uint8 qs[128]}."""
    out = bytearray()
    for blk in x.reshape(-1, 256):
        blk = [f32(v) for v in blk]
        L, scales, mins = [0] * 256, [], []
        max_scale = max_min = f32(0)
        for j in range(8):
            sub = blk[32 * j:32 * j + 32]
            sum_x2 = f32(0)
            for v in sub:
                sum_x2 += v * v
            av_x = np.sqrt(sum_x2 / f32(32))
            weights = [av_x + abs(v) for v in sub]
            sc, m, L[32 * j:32 * j + 32] = make_qkx2_quants(32, 15, sub, weights, f32(-1), f32(0.1), 20)
            scales.append(sc)
            mins.append(m)
            max_scale = sc if sc > max_scale else max_scale
            max_min = m if m > max_min else max_min
        inv_scale = f32(63) / max_scale if max_scale > 0 else f32(0)
        inv_min = f32(63) / max_min if max_min > 0 else f32(0)
        sb = [0] * 12
        for j in range(8):
            ls = min(63, nearest_int(inv_scale * scales[j]) & 0xFF)
            lm = min(63, nearest_int(inv_min * mins[j]) & 0xFF)
            if j < 4:
                sb[j], sb[j + 4] = ls, lm
            else:
                sb[j + 4] = (ls & 0xF) | ((lm & 0xF) << 4)
                sb[j - 4] |= (ls >> 4) << 6
                sb[j] |= (lm >> 4) << 6
        d, d_bytes = fp16_round(max_scale / f32(63))
        dmin, dmin_bytes = fp16_round(max_min / f32(63))
        for j in range(8):
            if j < 4:
                sc, m = sb[j] & 63, sb[j + 4] & 63
            else:
                sc, m = (sb[j + 4] & 0xF) | ((sb[j - 4] >> 6) << 4), (sb[j + 4] >> 4) | ((sb[j] >> 6) << 4)
            dj = d * f32(sc)
            if not dj:
                continue
            dm = dmin * f32(m)
            for ii in range(32):
                L[32 * j + ii] = max(0, min(15, nearest_int((blk[32 * j + ii] + dm) / dj)))
        qs = [L[j + l] | (L[j + l + 32] << 4) for j in range(0, 256, 64) for l in range(32)]
        out += d_bytes + dmin_bytes + bytes(sb) + bytes(qs)
    return bytes(out)


def make_qx_quants(n, nmax, x):
    """make_qx_quants with rmse_type 1 and no quant weights: returns (scale, L)."""
    mx, amax = f32(0), f32(0)
    for v in x:
        if abs(v) > amax:
            amax, mx = abs(v), v
    if amax < GROUP_MAX_EPS:
        return f32(0), [0] * n
    iscale = f32(-nmax) / mx

    def sums(iscale):
        sumlx = suml2 = f32(0)
        L = []
        for v in x:
            l = max(-nmax, min(nmax - 1, nearest_int(iscale * v)))
            L.append(l + nmax)
            w = v * v
            sumlx += w * v * f32(l)
            suml2 += w * f32(l) * f32(l)
        return sumlx, suml2, L

    sumlx, suml2, L = sums(iscale)
    scale = sumlx / suml2 if suml2 else f32(0)
    best = scale * sumlx
    for step in range(-9, 10):
        if step == 0:
            continue
        iscale = -(f32(nmax) + f32(0.1) * f32(step)) / mx
        sumlx, suml2, aux = sums(iscale)
        if suml2 > 0 and sumlx * sumlx > best * suml2:
            L, scale = aux, sumlx / suml2
            best = scale * sumlx
    return scale, L


def quantize_q6_k(x):
    """quantize_row_q6_K_ref: block_q6_K {uint8 ql[128], qh[64]; int8 scales[16]; f16 d}."""
    out = bytearray()
    for blk in x.reshape(-1, 256):
        blk = [f32(v) for v in blk]
        L, scales = [0] * 256, []
        max_scale = max_abs = f32(0)
        for ib in range(16):
            sc, L[16 * ib:16 * ib + 16] = make_qx_quants(16, 32, blk[16 * ib:16 * ib + 16])
            scales.append(sc)
            if abs(sc) > max_abs:
                max_abs, max_scale = abs(sc), sc
        if max_abs < GROUP_MAX_EPS:
            out += bytes(210)
            continue
        iscale = f32(-128) / max_scale
        d, d_bytes = fp16_round(f32(1) / iscale)
        sb = [min(127, nearest_int(iscale * sc)) for sc in scales]
        for j in range(16):
            dj = d * f32(sb[j])
            if not dj:
                continue
            for ii in range(16):
                L[16 * j + ii] = max(-32, min(31, nearest_int(blk[16 * j + ii] / dj))) + 32
        ql, qh = [0] * 128, [0] * 64
        for h, j in enumerate(range(0, 256, 128)):
            for l in range(32):
                q1, q2, q3, q4 = (L[j + l + 32 * k] for k in range(4))
                ql[64 * h + l] = (q1 & 0xF) | ((q3 & 0xF) << 4)
                ql[64 * h + l + 32] = (q2 & 0xF) | ((q4 & 0xF) << 4)
                qh[32 * h + l] = (q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6)
        out += bytes(ql) + bytes(qh) + np.array(sb, np.int8).tobytes() + d_bytes
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
        np.where(i % 32 == 0, np.where(i // 256 % 2 == 0, 127.0, -127.0), i % 64 - 32 + 0.5),
        np.concatenate([np.zeros(256), rng.standard_normal(256)]),  # a zero block, then not
        np.full(N, 0.25),  # constant: K-quant sub-blocks with max == min
        rng.uniform(0.5, 1.5, N),  # all positive: the K-quant min clamps to 0
        rng.standard_normal(N) * 0.02 + 0.01,  # weight-like
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
    out = [(x, True) for x in out]
    # Scales that underflow or overflow: for the activation quantizers only, since the
    # K-quant references turn them into infinities and NaNs whose conversion to int C
    # leaves undefined.
    out += [(rng.standard_normal(N) * 1e-30, False),  # Q8_0's f16 scale flushes to zero
            (rng.standard_normal(N) * 1e8, False)]  # Q8_0's f16 scale overflows
    return [(np.asarray(x, np.float32), k) for x, k in out]


def main():
    cases = []
    for x, kquants in rows(np.random.default_rng(SEED)):
        cases.append({
            "x": x.astype("<f4").tobytes().hex(),
            "q8_0": quants.quantize(x, T.Q8_0).tobytes().hex(),
            "q4_0": quants.quantize(x, T.Q4_0).tobytes().hex(),
            "q8_k": quantize_q8_k(x).hex(),
            "q4_k": quantize_q4_k(x).hex() if kquants else "",
            "q6_k": quantize_q6_k(x).hex() if kquants else "",
        })
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        source = "scripts/gen-quant-vectors.py: gguf-py %s (q8_0, q4_0), ggml's reference quantizers transcribed (q8_k, q4_k, q6_k)" % (
            importlib.metadata.version("gguf"))
        json.dump({"source": source, "cases": cases}, f, indent=1)
        f.write("\n")
    print("wrote %d rows to %s" % (len(cases), OUT))


if __name__ == "__main__":
    main()
