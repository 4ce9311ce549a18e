"""PyTorch peer for bench/llm.bench.ts: the same Qwen2 architecture and config, written the ordinary
PyTorch way (nn.Linear, KV cache as concatenated tensors), timed on the same machine.

Usage: /usr/bin/python3 bench/peers/qwen2_torch.py CONFIG_JSON
CONFIG_JSON: {"vocab", "hidden", "inter", "layers", "heads", "kv_heads", "batch", "seq",
              "train_steps", "gen_contexts": [32, 256], "gen_tokens", "repeats", "threads"}
Prints one JSON object: {"train_tokens_per_s": [...], "gen": {"32": [...], "256": [...]}} (one entry per repeat).
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


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope(T, dh, offset, theta=10000.0):
    inv = 1.0 / (theta ** (torch.arange(0, dh, 2).float() / dh))
    f = torch.outer(torch.arange(offset, offset + T).float(), inv)
    emb = torch.cat([f, f], -1)
    return emb.cos(), emb.sin()


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], -1)


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, h, kv = c["hidden"], c["heads"], c["kv_heads"]
        self.h, self.kv, self.dh = h, kv, d // h
        self.input_layernorm = RMSNorm(d)
        self.q_proj = nn.Linear(d, h * self.dh)
        self.k_proj = nn.Linear(d, kv * self.dh)
        self.v_proj = nn.Linear(d, kv * self.dh)
        self.o_proj = nn.Linear(h * self.dh, d, bias=False)
        self.post_attention_layernorm = RMSNorm(d)
        self.gate_proj = nn.Linear(d, c["inter"], bias=False)
        self.up_proj = nn.Linear(d, c["inter"], bias=False)
        self.down_proj = nn.Linear(c["inter"], d, bias=False)

    def forward(self, x, cos, sin, cache, i):
        B, T, _ = x.shape
        h = self.input_layernorm(x)
        q = self.q_proj(h).view(B, T, self.h, self.dh).transpose(1, 2)
        k = self.k_proj(h).view(B, T, self.kv, self.dh).transpose(1, 2)
        v = self.v_proj(h).view(B, T, self.kv, self.dh).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if cache is not None:
            if cache[i] is not None:
                k = torch.cat([cache[i][0], k], 2)
                v = torch.cat([cache[i][1], v], 2)
            cache[i] = (k, v)
        S = k.shape[2]
        g = self.h // self.kv
        k = k.repeat_interleave(g, 1)
        v = v.repeat_interleave(g, 1)
        s = q @ k.transpose(-1, -2) / math.sqrt(self.dh)
        mask = torch.full((T, S), float("-inf")).triu(S - T + 1)
        p = F.softmax(s + mask, -1)
        o = (p @ v).transpose(1, 2).reshape(B, T, -1)
        x = x + self.o_proj(o)
        h = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))


class Model(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.embed_tokens = nn.Embedding(c["vocab"], c["hidden"])
        self.layers = nn.ModuleList([Layer(c) for _ in range(c["layers"])])
        self.norm = RMSNorm(c["hidden"])
        self.lm_head = nn.Linear(c["hidden"], c["vocab"], bias=False)

    def forward(self, ids, cache=None):
        offset = 0 if cache is None or cache[0] is None else cache[0][0].shape[2]
        cos, sin = rope(ids.shape[1], self.c["hidden"] // self.c["heads"], offset)
        x = self.embed_tokens(ids)
        for i, layer in enumerate(self.layers):
            x = layer(x, cos, sin, cache, i)
        return self.lm_head(self.norm(x))


def main():
    c = json.loads(sys.argv[1])
    torch.set_num_threads(c.get("threads", 2))
    torch.manual_seed(0)
    model = Model(c)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    B, T = c["batch"], c["seq"]
    ids = torch.randint(0, c["vocab"], (B, T + 1))
    out = {"train_tokens_per_s": [], "gen": {str(ctx): [] for ctx in c["gen_contexts"]}}
    for r in range(c["repeats"] + 1):  # first repeat is warm-up
        t0 = time.perf_counter()
        for _ in range(c["train_steps"]):
            logits = model(ids[:, :-1])
            loss = F.cross_entropy(logits.reshape(-1, c["vocab"]), ids[:, 1:].reshape(-1))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
        dt = time.perf_counter() - t0
        if r > 0:
            out["train_tokens_per_s"].append(B * T * c["train_steps"] / dt)
    with torch.no_grad():
        for ctx in c["gen_contexts"]:
            prompt = torch.randint(0, c["vocab"], (1, ctx))
            for r in range(c["repeats"] + 1):
                cache = [None] * c["layers"]
                logits = model(prompt, cache)
                nxt = logits[:, -1:].argmax(-1)
                t0 = time.perf_counter()
                for _ in range(c["gen_tokens"]):
                    logits = model(nxt, cache)
                    nxt = logits[:, -1:].argmax(-1)
                dt = time.perf_counter() - t0
                if r > 0:
                    out["gen"][str(ctx)].append(c["gen_tokens"] / dt)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
