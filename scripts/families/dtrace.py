"""Observers for the official generate functions.

They wrap the model object handed to generate and stand in for the `torch` name of the
generate module (common.TorchProxy); they record what happened (forwards, argmax,
top-k selections, random draws) and never change a value. Traces are assembled from
those records afterwards.
"""
from __future__ import annotations

import numpy as np
import torch

from common import MT, r8


class ModelWrap:
    """Callable stand-in for the model: records each forward's inputs and keyword args."""

    def __init__(self, model, tracer):
        self.m = model
        self.tracer = tracer

    @property
    def device(self):
        return self.m.device

    def __getattr__(self, name):
        return getattr(self.m, name)

    def __call__(self, x, *a, **kw):
        out = self.m(x, *a, **kw)
        self.tracer.on_forward(x, kw, out)
        return out


class Tracer:
    def __init__(self, seed: int | None = None):
        self.events = []
        self.mt = MT(seed) if seed is not None else None
        self.draws = []          # (kind, shape) in draw order
        self.n_forwards = 0

    # ---- hooks
    def on_forward(self, x, kw, out):
        self.n_forwards += 1
        info = {"ev": "forward", "x": x.detach().clone(), "len": int(x.shape[1])}
        rp = kw.get("replace_position")
        if rp is not None:
            info["replace_start"] = int(rp[0].nonzero()[0].item())
        if kw.get("past_key_values") is not None:
            pkv = kw["past_key_values"]
            info["past_len"] = int(pkv[0][0].shape[-2])
        if kw.get("attention_mask") is not None:
            info["attention_mask"] = kw["attention_mask"].detach().clone()
        self.events.append(info)

    def on_argmax(self, out, inp, *a, **kw):
        if inp.dim() == 3:  # logits [b, l, v]
            v = inp[0].detach().to(torch.float64)
            top2 = torch.topk(v, 2, dim=-1).values
            self.events.append({"ev": "argmax", "out": out.detach().clone(), "gap": (top2[:, 0] - top2[:, 1]).numpy()})

    def on_topk(self, out, inp, *a, **kw):
        k = kw.get("k", a[0] if a else None)
        self.events.append({"ev": "topk", "conf": inp.detach().clone().to(torch.float64).numpy(),
                            "k": int(k), "idx": out.indices.detach().clone().numpy()})

    def _check(self, out, kind):
        if out.dtype == torch.float64:
            ref = self.mt.f64(out.numel()) if self.mt else None
        elif out.dtype == torch.float32:
            ref = self.mt.f32(out.numel()) if self.mt else None
        else:
            raise AssertionError(f"unexpected draw dtype {out.dtype}")
        self.draws.append([kind, str(out.dtype).replace("torch.", ""), list(out.shape)])
        if ref is not None:
            got = out.detach().reshape(-1).numpy()
            assert np.array_equal(got, ref.astype(got.dtype)), f"torch draw differs from MT replay ({kind})"

    def on_rand_like(self, out, *a, **kw):
        self._check(out, "rand_like")

    def on_rand(self, out, *a, **kw):
        self._check(out, "rand")

    def on_multinomial(self, out, *a, **kw):
        self.events.append({"ev": "multinomial", "out": out.detach().clone().numpy()})
        self.draws.append(["multinomial", list(a[0].shape) if a else None, kw.get("num_samples", a[1] if len(a) > 1 else None)])


def margins_from_topk(conf: np.ndarray, k: int, sel: np.ndarray):
    """Gap between the k-th and (k+1)-th finite confidence (inf when no competitor)."""
    fin = np.sort(conf[np.isfinite(conf)])[::-1]
    if k < len(fin) and k > 0:
        return float(fin[k - 1] - fin[k])
    return float("inf")


def tok_list(ids):
    return [int(i) for i in ids]


def finite_min(vals):
    vals = [v for v in vals if v is not None and np.isfinite(v)]
    return r8(min(vals)) if vals else None
