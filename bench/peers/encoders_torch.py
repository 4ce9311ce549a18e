"""PyTorch peer for bench/encoders.bench.ts: the same two encoders, written the ordinary PyTorch way (nn.Conv2d
patch embedding for SigLIP, nn.Linear / nn.LayerNorm, explicit softmax attention), timed on the same machine.

Usage: /usr/bin/python3 bench/peers/encoders_torch.py CONFIG_JSON
CONFIG_JSON: {"frames", "repeats", "threads",
              "siglip": {"image", "patch", "hidden", "inter", "layers", "heads", "eps"},
              "face": {"image", "patch", "widths", "depths", "heads", "windows", "mlp_ratio", "eps",
                       "stem", "stem_full_resolution", "motion"}}
Prints one JSON object: {"siglip": {"forward": [...], "train": [...]}, "face": {...}} in seconds per call
(one entry per repeat after a warm-up): forward = no_grad forward of `frames` images; train = forward +
backward of a scalar loss into every parameter.
"""
import json
import math
import sys
import time

import os

# Busy-waiting OpenMP threads make 2-thread torch 15-50x slower when another process holds a core (measured
# here); passive waiting keeps the peer fair on a shared machine.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402
import torch.nn as nn
import torch.nn.functional as F


def gelu_tanh(x):
    return F.gelu(x, approximate="tanh")


class Block(nn.Module):
    """Pre-norm encoder block with SigLIP's structure."""

    def __init__(self, d, heads, inter, eps):
        super().__init__()
        self.h, self.dh = heads, d // heads
        self.layer_norm1 = nn.LayerNorm(d, eps=eps)
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (nn.Linear(d, d) for _ in range(4))
        self.layer_norm2 = nn.LayerNorm(d, eps=eps)
        self.fc1 = nn.Linear(d, inter)
        self.fc2 = nn.Linear(inter, d)

    def forward(self, x):
        B, T, D = x.shape
        h = self.layer_norm1(x)
        q = self.q_proj(h).view(B, T, self.h, self.dh).transpose(1, 2)
        k = self.k_proj(h).view(B, T, self.h, self.dh).transpose(1, 2)
        v = self.v_proj(h).view(B, T, self.h, self.dh).transpose(1, 2)
        p = F.softmax(q @ k.transpose(-1, -2) / math.sqrt(self.dh), -1)
        x = x + self.out_proj((p @ v).transpose(1, 2).reshape(B, T, D))
        return x + self.fc2(gelu_tanh(self.fc1(self.layer_norm2(x))))


class Siglip(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c["hidden"]
        self.patch_embedding = nn.Conv2d(3, d, c["patch"], stride=c["patch"])
        self.position_embedding = nn.Parameter(torch.randn((c["image"] // c["patch"]) ** 2, d) * 0.02)
        self.layers = nn.ModuleList([Block(d, c["heads"], c["inter"], c["eps"]) for _ in range(c["layers"])])
        self.post_layernorm = nn.LayerNorm(d, eps=c["eps"])

    def forward(self, pixels):  # [N, H, W, 3] in [0, 1], as favchat's input
        x = (pixels.permute(0, 3, 1, 2) - 0.5) / 0.5
        x = self.patch_embedding(x).flatten(2).transpose(1, 2) + self.position_embedding
        for layer in self.layers:
            x = layer(x)
        return [self.post_layernorm(x)]


def merge2x2(x, g):
    N, _, D = x.shape
    return x.view(N, g // 2, 2, g // 2, 2, D).permute(0, 1, 3, 2, 4, 5).reshape(N, (g // 2) ** 2, 4 * D)


def windowed(block, x, g, w):
    """Swin-style window partition (no shift): attention within w x w windows of the g x g grid."""
    N, _, D = x.shape
    n = g // w
    parts = x.view(N, n, w, n, w, D).permute(0, 1, 3, 2, 4, 5).reshape(N * n * n, w * w, D)
    y = block(parts).view(N, n, n, w, w, D).permute(0, 1, 3, 2, 4, 5)
    return y.reshape(N, g * g, D)


class Face(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        w, eps, p = c["widths"], c["eps"], c["patch"]
        self.grids = [c["image"] // p // 2 ** i for i in range(len(w))]
        cin = 6 if c.get("motion") else 3
        if c.get("stem", "patch") == "conv":
            # favchat's conv stem: [a stride-1 layer,] log2(p) stride-2 3x3 convs, LayerNorm over channels, GELU
            # between (not after the last); channels max(16, D_1 >> (layers - 1 - j)), the last D_1.
            strides = ([1] if c.get("stem_full_resolution") else []) + [2] * (p.bit_length() - 1)
            chans = [w[0] if j == len(strides) - 1 else max(16, w[0] >> (len(strides) - 1 - j)) for j in range(len(strides))]
            self.convs = nn.ModuleList([nn.Conv2d(a, b, 3, stride=st, padding=1) for a, b, st in zip([cin] + chans[:-1], chans, strides)])
            self.conv_norms = nn.ModuleList([nn.LayerNorm(b, eps=eps) for b in chans])
            self.proj = None
        else:
            self.proj = nn.Conv2d(cin, w[0], p, stride=p)
            self.embed_norm = nn.LayerNorm(w[0], eps=eps)
        self.pos = nn.Parameter(torch.randn(self.grids[0] ** 2, w[0]) * 0.02)
        self.merges = nn.ModuleList([nn.Sequential(nn.LayerNorm(4 * w[i - 1], eps=eps), nn.Linear(4 * w[i - 1], w[i], bias=False))
                                     for i in range(1, len(w))])
        self.stages = nn.ModuleList([nn.ModuleList([Block(w[i], c["heads"][i], round(c["mlp_ratio"] * w[i]), eps)
                                                    for _ in range(c["depths"][i])]) for i in range(len(w))])
        self.norms = nn.ModuleList([nn.LayerNorm(d, eps=eps) for d in w])

    def forward(self, faces):
        x = (faces.permute(0, 3, 1, 2) - 0.5) / 0.5
        if self.c.get("motion"):  # the crops are one clip: each with its difference from the first
            x = torch.cat([x, (faces - faces[:1]).permute(0, 3, 1, 2) * 2], 1)
        if self.proj is None:
            for j, (conv, norm) in enumerate(zip(self.convs, self.conv_norms)):
                x = norm(conv(x).permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
                if j < len(self.convs) - 1:
                    x = gelu_tanh(x)
            h = x.flatten(2).transpose(1, 2) + self.pos
        else:
            h = self.embed_norm(self.proj(x).flatten(2).transpose(1, 2)) + self.pos
        outs = []
        for i, blocks in enumerate(self.stages):
            if i > 0:
                h = self.merges[i - 1](merge2x2(outs[-1], self.grids[i - 1]))
            w, g = self.c["windows"][i], self.grids[i]
            for b in blocks:
                h = windowed(b, h, g, w) if 0 < w < g else b(h)
                outs.append(self.norms[i](h))
        return outs


def time_model(model, x, repeats):
    fwd, train = [], []
    for r in range(repeats + 1):  # first repeat is warm-up
        t0 = time.perf_counter()
        with torch.no_grad():
            model(x)
        dt = time.perf_counter() - t0
        if r > 0:
            fwd.append(dt)
    for r in range(repeats + 1):
        t0 = time.perf_counter()
        model.zero_grad()
        loss = sum(y.square().mean() for y in model(x))
        loss.backward()
        dt = time.perf_counter() - t0
        if r > 0:
            train.append(dt)
    return {"forward": fwd, "train": train}


def main():
    c = json.loads(sys.argv[1])
    torch.set_num_threads(c.get("threads", 2))
    torch.manual_seed(0)
    n = c["frames"]
    out = {}
    s = c["siglip"]
    out["siglip"] = time_model(Siglip(s), torch.rand(n, s["image"], s["image"], 3), c["repeats"])
    f = c["face"]
    out["face"] = time_model(Face(f), torch.rand(n, f["image"], f["image"], 3), c["repeats"])
    print(json.dumps(out))


if __name__ == "__main__":
    main()
