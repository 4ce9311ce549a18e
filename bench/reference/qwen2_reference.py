"""Tiny random Qwen2 checkpoints (Hugging Face layout) and their reference outputs, computed in PyTorch.

Independent of favchat's TypeScript: a textbook Qwen2 forward (RMSNorm with weight, rotate_half RoPE with
rope_theta, grouped-query attention by repeat_interleave of the kv heads, causal softmax attention, SiLU-gated MLP)
in float64 over the weights *as stored* (fp16/bf16 variants are rounded first), a safetensors writer, a byte-level
BPE tokenizer (tokenizer.json) with its own small encoder, and a ChatML chat template.

Regenerate (deterministic, fixed seeds; overwrites test/fixtures/qwen2/<variant>/):
    /usr/bin/python3 bench/reference/qwen2_reference.py [--out test/fixtures/qwen2]
(Debian's python3-torch 1.13; neither `transformers` nor `safetensors` is needed.)
"""

import argparse
import json
import math
import os
import re
import sys

import torch

torch.set_num_threads(2)

# ---------------------------------------------------------------- tokenizer ----------------------------------------
# GPT-2's reversible byte -> printable unicode map, the one HF ByteLevel uses (space -> "Ġ", newline -> "Ċ").
def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


BYTE_ENC = bytes_to_unicode()
# A 128-entry vocabulary: newline, space and printable ASCII (96), 28 merges, <unk>, then Qwen's three specials last.
BASE = [BYTE_ENC[10], BYTE_ENC[32]] + [BYTE_ENC[b] for b in range(33, 127)]
MERGES = [("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("i", "n"), ("Ġ", "a"), ("e", "r"), ("o", "n"), ("r", "e"),
          ("a", "t"), ("e", "n"), ("Ġ", "s"), ("Ġ", "w"), ("Ġ", "o"), ("o", "u"), ("i", "s"), ("Ġ", "f"),
          ("Ġ", "c"), ("i", "t"), ("a", "n"), ("o", "r"), ("e", "s"), ("Ġ", "b"), ("Ġ", "m"), ("in", "g"),
          ("Ġ", "i"), ("Ġ", "h"), ("Ġ", "d"), ("l", "l")]
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
VOCAB = BASE + [a + b for a, b in MERGES] + ["<unk>"] + SPECIALS
assert len(VOCAB) == 128 and len(set(VOCAB)) == 128
TOKEN_ID = {t: i for i, t in enumerate(VOCAB)}
EOS = "<|im_end|>"
# Qwen2-Instruct's own template (its default system prompt included).
CHAT_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
# GPT-2's pre-tokenizer regex restricted to ASCII (\p{L} -> [A-Za-z], \p{N} -> [0-9]); the texts here are ASCII.
PRETOK = re.compile(r"'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+")


def bpe(word):
    parts = list(word)
    ranks = {m: i for i, m in enumerate(MERGES)}
    while len(parts) > 1:
        pairs = [(ranks.get((parts[i], parts[i + 1]), 1 << 30), i) for i in range(len(parts) - 1)]
        rank, i = min(pairs)
        if rank == 1 << 30:
            break
        parts = parts[:i] + [parts[i] + parts[i + 1]] + parts[i + 2:]
    return parts


def encode(text):
    """Byte-level BPE encode with the special tokens matched first, as HF tokenizers do."""
    ids = []
    for chunk in re.split("(" + "|".join(re.escape(s) for s in SPECIALS) + ")", text):
        if chunk in SPECIALS:
            ids.append(TOKEN_ID[chunk])
            continue
        for word in PRETOK.findall(chunk):
            mapped = "".join(BYTE_ENC[b] for b in word.encode("utf-8"))
            ids.extend(TOKEN_ID.get(p, TOKEN_ID["<unk>"]) for p in bpe(mapped))
    return ids


def render_chatml(messages, add_generation_prompt=True):
    """What CHAT_TEMPLATE renders, written out by hand (no Jinja here)."""
    out = ""
    if messages[0]["role"] != "system":
        out += "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    for m in messages:
        out += "<|im_start|>" + m["role"] + "\n" + m["content"] + "<|im_end|>\n"
    if add_generation_prompt:
        out += "<|im_start|>assistant\n"
    return out


def tokenizer_json():
    added = [{"id": TOKEN_ID[s], "content": s, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for s in SPECIALS]
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": byte_level, "decoder": byte_level,
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": {t: i for i, t in enumerate(VOCAB[:125])}, "merges": [a + " " + b for a, b in MERGES]},
    }


def tokenizer_config():
    decoder = {str(TOKEN_ID[s]): {"content": s, "lstrip": False, "normalized": False, "rstrip": False,
                                  "single_word": False, "special": True} for s in SPECIALS}
    return {"add_prefix_space": False, "added_tokens_decoder": decoder, "additional_special_tokens": ["<|im_start|>", "<|im_end|>"],
            "bos_token": None, "chat_template": CHAT_TEMPLATE, "clean_up_tokenization_spaces": False,
            "eos_token": EOS, "errors": "replace", "model_max_length": 128, "pad_token": "<|endoftext|>",
            "split_special_tokens": False, "tokenizer_class": "Qwen2Tokenizer", "unk_token": None}


from st_write import ST_DTYPE, write_safetensors  # noqa: E402


# ---------------------------------------------------------------- model --------------------------------------------
def make_weights(cfg, gen, std, bias_std):
    """Random weights with HF Qwen2 names. std ~0.2-0.3 keeps attention far from uniform so bugs change the logits."""
    D, I, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    H, KV = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    Dh = D // H

    def randn(*shape, s=std):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * s

    def norm_w():
        return 1.0 + randn(D, s=0.2)

    # A tied head scores the hidden state against the input embeddings; large embeddings there make greedy decoding
    # repeat the last token, which would hide cache bugs, so tied variants get smaller ones.
    w = {"model.embed_tokens.weight": randn(V, D, s=0.3 if cfg["tie_word_embeddings"] else 1.0)}
    for n in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{n}."
        w[p + "input_layernorm.weight"] = norm_w()
        w[p + "self_attn.q_proj.weight"] = randn(H * Dh, D)
        w[p + "self_attn.q_proj.bias"] = randn(H * Dh, s=bias_std)
        w[p + "self_attn.k_proj.weight"] = randn(KV * Dh, D)
        w[p + "self_attn.k_proj.bias"] = randn(KV * Dh, s=bias_std)
        w[p + "self_attn.v_proj.weight"] = randn(KV * Dh, D)
        w[p + "self_attn.v_proj.bias"] = randn(KV * Dh, s=bias_std)
        w[p + "self_attn.o_proj.weight"] = randn(D, H * Dh)
        w[p + "post_attention_layernorm.weight"] = norm_w()
        w[p + "mlp.gate_proj.weight"] = randn(I, D)
        w[p + "mlp.up_proj.weight"] = randn(I, D)
        w[p + "mlp.down_proj.weight"] = randn(D, I)
    w["model.norm.weight"] = norm_w()
    if not cfg["tie_word_embeddings"]:
        w["lm_head.weight"] = randn(V, D, s=0.3)
    return w


def rms_norm(x, weight, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def forward(w, cfg, ids):
    """Logits [T, V] in float64 for token ids [T] (no cache: the whole prefix every call)."""
    D, H, KV = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    Dh, eps, T = D // H, cfg["rms_norm_eps"], len(ids)
    x = w["model.embed_tokens.weight"][torch.tensor(ids)]  # [T, D]
    inv_freq = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, Dh, 2, dtype=torch.float64) / Dh))  # [Dh/2]
    freqs = torch.outer(torch.arange(T, dtype=torch.float64), inv_freq)  # [T, Dh/2]
    emb = torch.cat((freqs, freqs), dim=-1)  # [T, Dh]
    cos, sin = emb.cos(), emb.sin()
    causal = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
    for n in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{n}."
        h = rms_norm(x, w[p + "input_layernorm.weight"], eps)

        def proj(name, heads):
            y = h @ w[p + f"self_attn.{name}_proj.weight"].T + w[p + f"self_attn.{name}_proj.bias"]  # [T, heads*Dh]
            return y.view(T, heads, Dh).transpose(0, 1)  # [heads, T, Dh]

        q, k, v = proj("q", H), proj("k", KV), proj("v", KV)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        k, v = k.repeat_interleave(H // KV, dim=0), v.repeat_interleave(H // KV, dim=0)  # [H, T, Dh]
        scores = (q @ k.transpose(1, 2)) / math.sqrt(Dh)  # [H, T, T]
        att = scores.masked_fill(causal, float("-inf")).softmax(-1)
        o = (att @ v).transpose(0, 1).reshape(T, H * Dh)  # [T, D]
        x = x + o @ w[p + "self_attn.o_proj.weight"].T
        h = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        gate = torch.nn.functional.silu(h @ w[p + "mlp.gate_proj.weight"].T)
        x = x + (gate * (h @ w[p + "mlp.up_proj.weight"].T)) @ w[p + "mlp.down_proj.weight"].T
    x = rms_norm(x, w["model.norm.weight"], eps)
    head = w["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else w["lm_head.weight"]
    return x @ head.T  # [T, V]


def attention_entropy_ratio(w, cfg, ids):
    """Mean entropy of layer-0 attention over the uniform one's: well below 1 means attention is selective."""
    T, D, H = len(ids), cfg["hidden_size"], cfg["num_attention_heads"]
    Dh = D // H
    h = rms_norm(w["model.embed_tokens.weight"][torch.tensor(ids)], w["model.layers.0.input_layernorm.weight"], cfg["rms_norm_eps"])
    q = (h @ w["model.layers.0.self_attn.q_proj.weight"].T).view(T, H, Dh).transpose(0, 1)
    k = (h @ w["model.layers.0.self_attn.k_proj.weight"].T).view(T, -1, Dh).transpose(0, 1)
    k = k.repeat_interleave(H // k.shape[0], dim=0)
    att = ((q @ k.transpose(1, 2)) / math.sqrt(Dh)).masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), float("-inf")).softmax(-1)
    ent = -(att * att.clamp_min(1e-30).log()).sum(-1)[:, 1:]  # row 0 attends to one key: skip it
    return float((ent / torch.log(torch.arange(2, T + 1, dtype=torch.float64))).mean())


def greedy(w, cfg, ids, steps):
    """Greedy continuation (argmax each step, no stop at eos) and each step's top-1 minus top-2 logit margin."""
    ids, new, margins = list(ids), [], []
    for _ in range(steps):
        last = forward(w, cfg, ids)[-1]
        top = torch.topk(last, 2).values
        nxt = int(last.argmax())
        new.append(nxt)
        margins.append(round(float(top[0] - top[1]), 6))
        ids.append(nxt)
    return new, margins


# ---------------------------------------------------------------- variants -----------------------------------------
def config(**over):
    cfg = {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_act": "silu", "hidden_size": 32,
           "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
           "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "vocab_size": 128, "tie_word_embeddings": False,
           "max_position_embeddings": 128, "torch_dtype": "float32", "attention_dropout": 0.0, "use_cache": True,
           "use_sliding_window": False, "sliding_window": 128, "max_window_layers": 2, "rope_scaling": None,
           "bos_token_id": TOKEN_ID["<|endoftext|>"], "eos_token_id": TOKEN_ID[EOS], "initializer_range": 0.02}
    cfg.update(over)
    return cfg


# name: (config overrides, weight std, bias std, storage dtype, shards, seed, what it checks)
VARIANTS = {
    "gqa": (dict(), 0.25, 0.3, torch.float32, 1, 1, "GQA: 4 query heads share 2 kv heads; untied lm_head"),
    "mha_tied": (dict(hidden_size=48, intermediate_size=48, num_attention_heads=4, num_key_value_heads=4, tie_word_embeddings=True),
                 0.2, 0.3, torch.float32, 1, 2, "MHA (kv heads = heads), lm_head tied to embed_tokens"),
    "bias": (dict(num_attention_heads=2, num_key_value_heads=1, rope_theta=10000.0, rms_norm_eps=1e-5),
             0.25, 1.0, torch.float32, 1, 3, "large q/k/v biases (std 1.0), one kv head (MQA), rope_theta 1e4"),
    "fp16": (dict(torch_dtype="float16"), 0.25, 0.3, torch.float16, 1, 4, "weights stored as F16"),
    "bf16": (dict(torch_dtype="bfloat16", tie_word_embeddings=True), 0.25, 0.3, torch.bfloat16, 1, 5,
             "weights stored as BF16, tied embeddings"),
    "sharded": (dict(), 0.25, 0.3, torch.float32, 3, 6, "3 shards + model.safetensors.index.json"),
}
TEXT = "the cat is on the mat, and it is sitting there"
MESSAGES = [{"role": "user", "content": "What is the emotion on her face?"}]
GREEDY_STEPS = 8
MIN_MARGIN = 1e-3  # fp32 in TypeScript vs float64 here must pick the same argmax: refuse near-ties


def fmt(x):
    return float(f"{float(x):.8g}")


def build_variant(out_dir, name, spec):
    over, std, bias_std, dtype, shards, seed, what = spec
    cfg = config(**over)
    # Try successive seeds until greedy decoding has no near-tie (so fp32 rounding cannot flip a token) and does not
    # just repeat one token (which a broken KV cache could also produce).
    for attempt in range(50):
        gen = torch.Generator().manual_seed(1000 * seed + attempt)
        w = {k: v.to(dtype) for k, v in make_weights(cfg, gen, std, bias_std).items()}
        w64 = {k: v.to(torch.float64) for k, v in w.items()}  # the reference runs on the stored (rounded) values
        text_ids = encode(TEXT)
        chat_ids = encode(render_chatml(MESSAGES))
        g_text, m_text = greedy(w64, cfg, text_ids, GREEDY_STEPS)
        g_chat, m_chat = greedy(w64, cfg, chat_ids, GREEDY_STEPS)
        if min(m_text + m_chat) >= MIN_MARGIN and min(len(set(g_text)), len(set(g_chat))) >= 4:
            break
    else:
        sys.exit(f"{name}: no seed without a greedy near-tie")
    ratio = attention_entropy_ratio(w64, cfg, text_ids)
    assert ratio < 0.9, f"{name}: layer-0 attention too uniform (entropy ratio {ratio:.2f})"
    logits = forward(w64, cfg, text_ids).to(torch.float32)

    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.remove(os.path.join(d, f))
    names = list(w.keys())
    meta = {"format": "pt"}
    if shards == 1:
        write_safetensors(os.path.join(d, "model.safetensors"), w, meta)
    else:
        weight_map, per = {}, math.ceil(len(names) / shards)
        for s in range(shards):
            fname = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
            part = {k: w[k] for k in names[s * per:(s + 1) * per]}
            write_safetensors(os.path.join(d, fname), part, meta)
            weight_map.update({k: fname for k in part})
        total = sum(t.numel() * t.element_size() for t in w.values())
        dump(os.path.join(d, "model.safetensors.index.json"), {"metadata": {"total_size": total}, "weight_map": weight_map})
    dump(os.path.join(d, "config.json"), cfg)
    dump(os.path.join(d, "generation_config.json"),
         {"bos_token_id": TOKEN_ID["<|endoftext|>"], "eos_token_id": [TOKEN_ID[EOS], TOKEN_ID["<|endoftext|>"]],
          "pad_token_id": TOKEN_ID["<|endoftext|>"], "do_sample": False})
    dump(os.path.join(d, "tokenizer.json"), tokenizer_json())
    dump(os.path.join(d, "tokenizer_config.json"), tokenizer_config())
    expected = {
        "variant": name, "checks": what, "seed": 1000 * seed + attempt, "dtype": ST_DTYPE[dtype],
        "attention_entropy_ratio_layer0": round(ratio, 4),
        "text": TEXT, "input_ids": text_ids,
        "logits": [[fmt(v) for v in row] for row in logits.tolist()],
        "greedy": {"steps": GREEDY_STEPS, "new_ids": g_text, "margins": m_text},
        "chat": {"messages": MESSAGES, "rendered": render_chatml(MESSAGES), "input_ids": chat_ids,
                 "greedy_new_ids": g_chat, "margins": m_chat},
        # Per-tensor sums (float64 over the stored values) and first values: checks a safetensors reader bit for bit.
        "weights_check": {k: {"shape": list(t.shape), "sum": float(t.sum()), "first": [float(v) for v in t.flatten()[:4]]}
                          for k, t in w64.items()},
    }
    dump(os.path.join(d, "expected.json"), expected)
    print(f"{name}: seed {expected['seed']}, {sum(t.numel() for t in w.values())} params, attention entropy ratio "
          f"{ratio:.2f}, min greedy margin {min(m_text + m_chat):.4f}")


def build_yarn(out_dir):
    """A checkpoint that must be refused: rope_scaling yarn changes RoPE, and favchat does not implement it."""
    cfg = config(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1,
                 max_window_layers=1, rope_scaling={"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32})
    d = os.path.join(out_dir, "rope_yarn")
    os.makedirs(d, exist_ok=True)
    w = make_weights(cfg, torch.Generator().manual_seed(7), 0.25, 0.3)
    write_safetensors(os.path.join(d, "model.safetensors"), {k: v.to(torch.float32) for k, v in w.items()}, {"format": "pt"})
    dump(os.path.join(d, "config.json"), cfg)
    dump(os.path.join(d, "tokenizer.json"), tokenizer_json())
    dump(os.path.join(d, "tokenizer_config.json"), tokenizer_config())
    print("rope_yarn: config with rope_scaling yarn (must be refused)")


def dump(path, obj):
    with open(path, "w") as f:
        if path.endswith("expected.json"):  # one top-level key per line, the values compact: small, still diffable
            f.write("{\n" + ",\n".join(f" {json.dumps(k)}: {json.dumps(v, separators=(',', ':'))}" for k, v in obj.items()) + "\n}\n")
        else:
            json.dump(obj, f, indent=2, ensure_ascii=False)
            f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "qwen2"))
    args = ap.parse_args()
    for name, spec in VARIANTS.items():
        build_variant(args.out, name, spec)
    build_yarn(args.out)


if __name__ == "__main__":
    main()
