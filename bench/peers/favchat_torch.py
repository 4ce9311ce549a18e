"""PyTorch peer for bench/favchat.bench.ts: the whole FaVChat architecture (SigLIP-style ViT, 4-stage face pyramid,
CA² stack, two prompt-conditioned Q-Formers, adapters + fusion, Qwen2-style decoder with the visual tokens spliced in)
written the ordinary PyTorch way from the same resolved config, timed on the same machine. Random init: a speed peer,
not a numerics check; the parameter names and counts mirror src/model so the freeze plan is the same by name.

Usage: /usr/bin/python3 bench/peers/favchat_torch.py JSON
JSON: {"config": favchatConfigToJson(config), "bench": {"threads", "batch", "frames", "text_len", "prompt_len",
       "target_len", "video_pos", "stages": [1, 2, 3], "train_repeats", "answer_ids_len", "answer_prompt_len",
       "answer_video_pos", "new_tokens", "answer_repeats"}}
Prints one JSON line: {"params": {part: n}, "trainable": {stage: n}, "train": {stage: [s, ...]},
                       "encode": [s, ...], "generate": [s, ...], "threads", "omp_wait_policy"} (one entry per timed
                       repeat, after one warm-up).
"""
import json
import math
import os
import re
import sys
import time

# Before torch loads libgomp: its default (active) wait policy spins idle threads, and on a shared 2-core machine where
# another process holds a core, 2-thread torch ran 15-50x slower (FaVChat encode: 20 ms passive, 300-1000 ms active).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402
import torch.nn as nn
import torch.nn.functional as F

MASKED = -1e9  # as src/nn/mask.ts


def gelu(x):
    return F.gelu(x, approximate="tanh")


def key_bias(keep):
    """[B, S] of 1 (attend) / 0 (padding) -> additive bias [B, 1, 1, S]."""
    return ((1.0 - keep) * MASKED)[:, None, None, :]


class Attention(nn.Module):
    """Self or cross attention, multi-head or grouped-query, optional RoPE and KV cache (a dict per layer)."""

    def __init__(self, dim, heads, kv_heads=None, kv_dim=None, out_bias=True, out_name="out_proj"):
        super().__init__()
        self.h, self.kv, self.dh = heads, kv_heads or heads, dim // heads
        self.q_proj = nn.Linear(dim, heads * self.dh)
        self.k_proj = nn.Linear(kv_dim or dim, self.kv * self.dh)
        self.v_proj = nn.Linear(kv_dim or dim, self.kv * self.dh)
        self.out_name = out_name
        setattr(self, out_name, nn.Linear(heads * self.dh, dim, bias=out_bias))

    def forward(self, x, context=None, bias=None, rope=None, cache=None):
        B, T, _ = x.shape
        src = x if context is None else context
        S0 = src.shape[1]
        q = self.q_proj(x).view(B, T, self.h, self.dh).transpose(1, 2)  # [B, H, T, Dh]
        k = self.k_proj(src).view(B, S0, self.kv, self.dh).transpose(1, 2)  # [B, Hkv, S0, Dh]
        v = self.v_proj(src).view(B, S0, self.kv, self.dh).transpose(1, 2)
        if rope is not None:
            cos, sin = rope
            q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        if cache is not None:
            if "k" in cache:
                k, v = torch.cat([cache["k"], k], 2), torch.cat([cache["v"], v], 2)
            cache["k"], cache["v"] = k, v
        g = self.h // self.kv
        if g > 1:
            k, v = k.repeat_interleave(g, 1), v.repeat_interleave(g, 1)
        s = q @ k.transpose(-1, -2) / math.sqrt(self.dh)  # [B, H, T, S]
        if bias is not None:
            s = s + bias
        o = (F.softmax(s, -1) @ v).transpose(1, 2).reshape(B, T, self.h * self.dh)
        return getattr(self, self.out_name)(o)


class GeluMLP(nn.Module):
    def __init__(self, d, hidden):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(d, hidden), nn.Linear(hidden, d)

    def forward(self, x):
        return self.fc2(gelu(self.fc1(x)))


class Block(nn.Module):
    """Pre-norm encoder block, SigLIP names (src/nn/block.ts)."""

    def __init__(self, d, heads, mlp, eps):
        super().__init__()
        self.layer_norm1 = nn.LayerNorm(d, eps=eps)
        self.self_attn = Attention(d, heads)
        self.layer_norm2 = nn.LayerNorm(d, eps=eps)
        self.mlp = GeluMLP(d, mlp)

    def forward(self, x):
        x = x + self.self_attn(self.layer_norm1(x))
        return x + self.mlp(self.layer_norm2(x))


# --- general encoder (src/model/vision/siglip.ts) ---------------------------------------------------------------------
class Siglip(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, p = c["hidden_size"], c["patch_size"]
        self.patch_embedding = nn.Conv2d(c["num_channels"], d, p, stride=p)
        self.position_embedding = nn.Parameter(torch.randn((c["image_size"] // p) ** 2, d) / math.sqrt(d))
        eps = c["layer_norm_eps"]
        self.layers = nn.ModuleList([Block(d, c["num_attention_heads"], c["intermediate_size"], eps) for _ in range(c["num_hidden_layers"])])
        self.post_layernorm = nn.LayerNorm(d, eps=eps)

    def forward(self, pixels):  # [N, S, S, 3] in [0, 1] -> [N, P, D]
        x = (pixels.permute(0, 3, 1, 2) - 0.5) / 0.5
        x = self.patch_embedding(x).flatten(2).transpose(1, 2) + self.position_embedding
        for layer in self.layers:
            x = layer(x)
        return self.post_layernorm(x)


# --- facial encoder (src/model/face/encoder.ts) -----------------------------------------------------------------------
def grid_patches(x, g, p):
    """[N, g*g, D] on a g x g grid -> [N, (g/p)^2, p*p*D] (2x2 merging, or window partition when reshaped)."""
    N, _, D = x.shape
    return x.view(N, g // p, p, g // p, p, D).permute(0, 1, 3, 2, 4, 5).reshape(N, (g // p) ** 2, p * p * D)


class Face(nn.Module):
    def __init__(self, c):
        super().__init__()
        w, eps, p = c["widths"], c["layerNormEps"], c["patchSize"]
        self.c = c
        self.grids = [c["imageSize"] // p // 2 ** i for i in range(len(w))]
        self.proj = nn.Conv2d(c["numChannels"], w[0], p, stride=p)
        self.embed_norm = nn.LayerNorm(w[0], eps=eps)
        self.pos = nn.Parameter(torch.randn(self.grids[0] ** 2, w[0]) * 0.02)
        self.merges = nn.ModuleList([nn.Sequential(nn.LayerNorm(4 * w[i - 1], eps=eps), nn.Linear(4 * w[i - 1], w[i], bias=False))
                                     for i in range(1, len(w))])
        self.stages = nn.ModuleList([nn.ModuleList([Block(w[i], c["numHeads"][i], round(c["mlpRatio"] * w[i]), eps)
                                                    for _ in range(c["depths"][i])]) for i in range(len(w))])
        self.norms = nn.ModuleList([nn.LayerNorm(d, eps=eps) for d in w])

    def forward(self, faces):  # [N, s, s, 3] -> one [N, P_i, D_i] per block
        x = (faces.permute(0, 3, 1, 2) - 0.5) / 0.5
        h = self.embed_norm(self.proj(x).flatten(2).transpose(1, 2)) + self.pos
        outs = []
        for i, blocks in enumerate(self.stages):
            if i > 0:
                h = self.merges[i - 1](grid_patches(outs[-1], self.grids[i - 1], 2))
            win, g = self.c["windowSizes"][i], self.grids[i]
            for b in blocks:
                if 0 < win < g:  # Swin-style windows (no shift): the windows become the batch
                    N, _, D = h.shape
                    n = g // win
                    y = b(grid_patches(h, g, win).view(N * n * n, win * win, D))
                    h = y.view(N, n, n, win, win, D).permute(0, 1, 3, 2, 4, 5).reshape(N, g * g, D)
                else:
                    h = b(h)
                outs.append(self.norms[i](h))
        return outs


# --- prompt-side modules (src/model/prompt/*.ts) ----------------------------------------------------------------------
class Projection(nn.Module):
    def __init__(self, din, dout):
        super().__init__()
        self.norm, self.proj = nn.LayerNorm(din), nn.Linear(din, dout)

    def forward(self, x):
        return self.proj(self.norm(x))


class FrameTokens(nn.Module):
    """MLP_i: block tokens [B*F, P, Din] -> [B, F*P, Dout] with a temporal embedding."""

    def __init__(self, din, dout, max_frames):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(din, dout), nn.Linear(dout, dout)
        self.temporal_embedding = nn.Parameter(torch.randn(max_frames, dout) * 0.02)

    def forward(self, x, B, Fr):
        h = self.fc2(gelu(self.fc1(x)))
        P, D = h.shape[1], h.shape[2]
        return (h.view(B, Fr, P, D) + self.temporal_embedding[:Fr, None]).reshape(B, Fr * P, D)


class CA2Layer(nn.Module):
    def __init__(self, dim, heads, block_dim, max_frames):
        super().__init__()
        self.proj = FrameTokens(block_dim, dim, max_frames)
        self.norm_state, self.norm_visual = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.visual_attn = Attention(dim, heads)
        self.norm_linear, self.linear = nn.LayerNorm(dim), nn.Linear(dim, dim)
        self.norm_prompt, self.norm_keys = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.prompt_attn = Attention(dim, heads)

    def forward(self, state, prompt, prompt_bias, block, Fr):
        w = self.proj(block, state.shape[0], Fr)  # [B, F*P, Dc]
        h = state + self.visual_attn(self.norm_state(state), context=self.norm_visual(w))
        h = h + self.linear(self.norm_linear(h))
        h = h + self.prompt_attn(self.norm_prompt(prompt), context=self.norm_keys(h), bias=prompt_bias)
        return h, w


class CA2Stack(nn.Module):
    def __init__(self, c, block_dims, prompt_dim, max_frames):
        super().__init__()
        self.prompt_proj = Projection(prompt_dim, c["dim"])
        self.layers = nn.ModuleList([CA2Layer(c["dim"], c["num_heads"], d, max_frames) for d in block_dims])

    def forward(self, blocks, prompt, prompt_bias, Fr):
        p = self.prompt_proj(prompt)
        state = p
        for layer, block in zip(self.layers, blocks):
            state, tokens = layer(state, p, prompt_bias, block, Fr)
        return state, tokens


class QFormerLayer(nn.Module):
    def __init__(self, c, visual_dim):
        super().__init__()
        d = c["dim"]
        self.layer_norm1, self.self_attn = nn.LayerNorm(d), Attention(d, c["num_heads"])
        self.layer_norm_cross, self.cross_attn = nn.LayerNorm(d), Attention(d, c["num_heads"], kv_dim=visual_dim)
        self.layer_norm2, self.mlp = nn.LayerNorm(d), GeluMLP(d, c["mlp_dim"])

    def forward(self, x, Q, self_bias, visual, visual_bias):
        h = x + self.self_attn(self.layer_norm1(x), bias=self_bias)
        q = h[:, :Q]
        q = q + self.cross_attn(self.layer_norm_cross(q), context=visual, bias=visual_bias)  # only the queries read
        h = torch.cat([q, h[:, Q:]], 1) if h.shape[1] > Q else q
        return h + self.mlp(self.layer_norm2(h))


class QFormer(nn.Module):
    def __init__(self, c, visual_dim, prompt_dim, out_dim):
        super().__init__()
        self.Q = c["num_queries"]
        self.query_tokens = nn.Parameter(torch.randn(self.Q, c["dim"]) * 0.02)
        self.prompt_proj = Projection(prompt_dim, c["dim"])
        self.visual_norm = nn.LayerNorm(visual_dim)
        self.layers = nn.ModuleList([QFormerLayer(c, visual_dim) for _ in range(c["num_layers"])])
        self.out_norm = nn.LayerNorm(c["dim"])
        self.out_mlp = nn.Module()
        self.out_mlp.fc1, self.out_mlp.fc2 = nn.Linear(c["dim"], out_dim), nn.Linear(out_dim, out_dim)

    def forward(self, visual, prompt, prompt_keep, visual_bias=None):
        B = visual.shape[0]
        x = torch.cat([self.query_tokens.expand(B, -1, -1), self.prompt_proj(prompt)], 1)  # [B, Q+Tq, Dq]
        self_bias = key_bias(torch.cat([torch.ones(B, self.Q), prompt_keep], 1))
        v = self.visual_norm(visual)
        for layer in self.layers:
            x = layer(x, self.Q, self_bias, v, visual_bias)
        return self.out_mlp.fc2(gelu(self.out_mlp.fc1(self.out_norm(x[:, :self.Q]))))


class Adapter(nn.Module):
    def __init__(self, d, hidden):
        super().__init__()
        self.branch_proj, self.prompt_proj, self.out = Projection(d, hidden), Projection(d, hidden), nn.Linear(hidden, 1)

    def forward(self, tokens, pooled_prompt):
        return self.out(gelu(self.branch_proj(tokens.mean(1)) + self.prompt_proj(pooled_prompt)))


class Fusion(nn.Module):
    def __init__(self, d, hidden):
        super().__init__()
        self.adapter_g, self.adapter_f, self.norm = Adapter(d, hidden), Adapter(d, hidden), nn.LayerNorm(d)

    def forward(self, fg, ff, prompt, keep):
        pooled = (prompt * keep[..., None]).sum(1) / keep.sum(1, keepdim=True).clamp(min=1)
        w = F.softmax(torch.cat([self.adapter_g(fg, pooled), self.adapter_f(ff, pooled)], 1), -1)  # [B, 2]
        return self.norm(fg * w[:, :1, None] + ff * w[:, 1:, None]), w


# --- the decoder (src/model/llm/qwen2.ts) -----------------------------------------------------------------------------
class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight, self.eps = nn.Parameter(torch.ones(d)), eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], -1)


class SwiGLU(nn.Module):
    def __init__(self, d, inter):
        super().__init__()
        self.gate_proj, self.up_proj = nn.Linear(d, inter, bias=False), nn.Linear(d, inter, bias=False)
        self.down_proj = nn.Linear(inter, d, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, eps = c["hidden_size"], c["rms_norm_eps"]
        self.input_layernorm = RMSNorm(d, eps)
        self.self_attn = Attention(d, c["num_attention_heads"], c["num_key_value_heads"], out_bias=False, out_name="o_proj")
        self.post_attention_layernorm = RMSNorm(d, eps)
        self.mlp = SwiGLU(d, c["intermediate_size"])

    def forward(self, x, bias, rope, cache):
        x = x + self.self_attn(self.input_layernorm(x), bias=bias, rope=rope, cache=cache)
        return x + self.mlp(self.post_attention_layernorm(x))


class Qwen2(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.model = nn.Module()
        self.model.embed_tokens = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.model.layers = nn.ModuleList([DecoderLayer(c) for _ in range(c["num_hidden_layers"])])
        self.model.norm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.lm_head = None if c["tie_word_embeddings"] else nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)

    def forward(self, embeds, keep=None, cache=None, last_only=False):
        B, T, _ = embeds.shape
        past = cache[0]["k"].shape[2] if cache is not None and "k" in cache[0] else 0
        dh = self.c["hidden_size"] // self.c["num_attention_heads"]
        inv = 1.0 / (self.c["rope_theta"] ** (torch.arange(0, dh, 2).float() / dh))
        f = torch.outer(torch.arange(past, past + T).float(), inv)
        emb = torch.cat([f, f], -1)
        bias = torch.full((T, past + T), MASKED).triu(past + 1)[None, None]  # causal over cache + new
        if keep is not None:
            bias = bias + key_bias(keep)
        x = embeds
        for i, layer in enumerate(self.model.layers):
            x = layer(x, bias, (emb.cos(), emb.sin()), None if cache is None else cache[i])
        h = self.model.norm(x)
        if last_only:
            h = h[:, -1:]
        return h @ self.model.embed_tokens.weight.t() if self.lm_head is None else self.lm_head(h)


# --- FaVChat (src/model/favchat.ts) -----------------------------------------------------------------------------------
class FavChat(nn.Module):
    def __init__(self, c):
        super().__init__()
        ab = c["ablation"]
        if any(ab.values()):
            sys.exit(f"favchat_torch.py: ablation switches {[k for k, v in ab.items() if v]} are not mirrored here; bench the full model")
        v, fc, llm = c["vision_config"], c["face_config"], c["llm_config"]
        D, mf = llm["hidden_size"], c["max_frames"]
        self.video_token_id = c["video_token_id"]
        self.vision_tower = Siglip(v)
        self.vision_temporal_embedding = nn.Parameter(torch.randn(mf, v["hidden_size"]) * 0.02)
        self.face_encoder = Face(fc)
        block_dims = [w for w, n in zip(fc["widths"], fc["depths"]) for _ in range(n)]
        self.ca2 = CA2Stack(c["ca2_config"], block_dims, D, mf)
        self.qformer_g = QFormer(c["qformer_config"], v["hidden_size"], D, D)
        self.qformer_f = QFormer(c["qformer_config"], c["ca2_config"]["dim"], D, D)
        self.fusion = Fusion(D, c["adapter_config"]["hidden"])
        self.llm = Qwen2(llm)

    def encode_video(self, frames, faces, prompt_ids, prompt_keep):
        B, Fr = frames.shape[:2]
        prompt = self.llm.model.embed_tokens(prompt_ids)  # [B, Tq, D]
        patches = self.vision_tower(frames.flatten(0, 1))  # [B*F, P, Dv]
        P, Dv = patches.shape[1:]
        general = (patches.view(B, Fr, P, Dv) + self.vision_temporal_embedding[:Fr, None]).reshape(B, Fr * P, Dv)
        fg = self.qformer_g(general, prompt, prompt_keep)
        blocks = self.face_encoder(faces.flatten(0, 1))
        state, top = self.ca2(blocks, prompt, key_bias(prompt_keep), Fr)
        visual_keep = torch.cat([torch.ones(B, top.shape[1]), prompt_keep], 1)
        ff = self.qformer_f(torch.cat([top, state], 1), prompt, prompt_keep, key_bias(visual_keep))
        return self.fusion(fg, ff, prompt, prompt_keep)

    def splice(self, ids, visual):
        text = self.llm.model.embed_tokens(ids)
        rows = []
        for b in range(ids.shape[0]):
            p = int((ids[b] == self.video_token_id).nonzero()[0])
            rows.append(torch.cat([text[b, :p], visual[b], text[b, p + 1:]], 0))
        return torch.stack(rows)

    def forward(self, frames, faces, prompt_ids, prompt_keep, ids):
        tokens, _ = self.encode_video(frames, faces, prompt_ids, prompt_keep)
        embeds = self.splice(ids, tokens)
        return self.llm(embeds, keep=torch.ones(embeds.shape[:2]))


# --- freeze plan (src/model/freeze.ts) --------------------------------------------------------------------------------
FROZEN = {1: ["LLM", "Q-Formers"], 2: ["adapters"], 3: ["general encoder", "facial encoder"]}


def part_of(name):
    if name.startswith("vision_tower.") or name == "vision_temporal_embedding":
        return "general encoder"
    if name.startswith("face_encoder."):
        return "facial encoder"
    if name.startswith("ca2."):
        return "CA²"
    if re.match(r"^qformer_[gf]\.(out_norm|out_mlp)\.", name) or name.startswith("fusion.norm."):
        return "MLPs"
    if name.startswith("qformer_"):
        return "Q-Formers"
    if name.startswith("fusion.adapter_"):
        return "adapters"
    if name.startswith("llm."):
        return "LLM"
    raise ValueError(f"freeze plan: {name} belongs to no part")


def no_decay(name):  # src/train/optimizer.ts defaultNoDecay
    return bool(re.search(r"(^|[._])bias$", name) or re.search("norm", name, re.I) or re.search("embed", name, re.I))


# --- timing -----------------------------------------------------------------------------------------------------------
def random_ids(n, vocab, video_id, video_pos, gen):
    ids = torch.randint(0, vocab - 1, (n,), generator=gen)
    ids[ids == video_id] = 0
    ids[video_pos] = video_id
    return ids


def train_stage(model, stage, batch, repeats):
    frames, faces, prompt_ids, keep, ids, targets, mask = batch
    for name, p in model.named_parameters():
        p.requires_grad_(part_of(name) not in FROZEN[stage])
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    params = [p for _, p in named]
    opt = torch.optim.AdamW([{"params": [p for n, p in named if not no_decay(n)]},
                             {"params": [p for n, p in named if no_decay(n)], "weight_decay": 0.0}], lr=1e-3, weight_decay=0.01)
    times = []
    for r in range(repeats + 1):  # the first step is the warm-up
        t0 = time.perf_counter()
        logits = model(frames, faces, prompt_ids, keep, ids)
        ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="none")
        loss = (ce * mask.reshape(-1)).sum() / mask.sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if r > 0:
            times.append(time.perf_counter() - t0)
    return sum(p.numel() for p in params), times


def spliced_targets(ids, target_mask, pos, Q):
    """src/train/favchat-loss.ts splicedTargets for one row."""
    tokens = ids[:pos] + [-1] * Q + ids[pos + 1:]
    is_target = target_mask[:pos] + [0] * Q + target_mask[pos + 1:]
    n = len(tokens)
    targets = [tokens[j + 1] if j + 1 < n and tokens[j + 1] >= 0 else 0 for j in range(n)]
    mask = [is_target[j + 1] if j + 1 < n else 0 for j in range(n)]
    return targets, mask


def main():
    arg = json.loads(sys.argv[1])
    c, b = arg["config"], arg["bench"]
    torch.set_num_threads(b.get("threads", 2))
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    model = FavChat(c)
    parts = {}
    for name, p in model.named_parameters():
        top = name.split(".")[0]
        parts[top] = parts.get(top, 0) + p.numel()
    out = {"params": parts, "trainable": {}, "train": {}, "threads": torch.get_num_threads(), "omp_wait_policy": os.environ["OMP_WAIT_POLICY"]}

    # 1. Training steps, one freeze plan per stage.
    V, Q, vid = c["llm_config"]["vocab_size"], c["qformer_config"]["num_queries"], c["video_token_id"]
    B, Fr, T = b["batch"], b["frames"], b["text_len"]
    S, s = c["vision_config"]["image_size"], c["face_config"]["imageSize"]
    frames, faces = torch.rand(B, Fr, S, S, 3, generator=gen), torch.rand(B, Fr, s, s, 3, generator=gen)
    ids = torch.stack([random_ids(T, V, vid, b["video_pos"], gen) for _ in range(B)])
    prompt_ids = torch.randint(0, V - 1, (B, b["prompt_len"]), generator=gen)
    keep = torch.ones(B, b["prompt_len"])
    target_mask = [0] * (T - b["target_len"]) + [1] * b["target_len"]
    rows = [spliced_targets(ids[i].tolist(), target_mask, b["video_pos"], Q) for i in range(B)]
    targets = torch.tensor([r[0] for r in rows])
    mask = torch.tensor([r[1] for r in rows], dtype=torch.float32)
    model.train()
    for stage in b["stages"]:
        n, times = train_stage(model, stage, (frames, faces, prompt_ids, keep, ids, targets, mask), b["train_repeats"])
        out["trainable"][str(stage)] = n
        out["train"][str(stage)] = times

    # 2. The answering path for one clip: encode the video, then greedy generation with the KV cache.
    model.eval()
    frames1, faces1 = torch.rand(1, Fr, S, S, 3, generator=gen), torch.rand(1, Fr, s, s, 3, generator=gen)
    ids1 = random_ids(b["answer_ids_len"], V, vid, b["answer_video_pos"], gen)[None]
    pids1 = torch.randint(0, V - 1, (1, b["answer_prompt_len"]), generator=gen)
    out["encode"], out["generate"] = [], []
    with torch.no_grad():
        for r in range(b["answer_repeats"] + 1):
            t0 = time.perf_counter()
            tokens, _ = model.encode_video(frames1, faces1, pids1, torch.ones(1, pids1.shape[1]))
            embeds = model.splice(ids1, tokens)
            t1 = time.perf_counter()
            cache = [{} for _ in model.llm.model.layers]
            x = embeds
            for _ in range(b["new_tokens"]):
                nxt = model.llm(x, cache=cache, last_only=True).argmax(-1)  # [1, 1]
                x = model.llm.model.embed_tokens(nxt)
            t2 = time.perf_counter()
            if r > 0:
                out["encode"].append(t1 - t0)
                out["generate"].append(t2 - t1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
