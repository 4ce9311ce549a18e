"""Tiny random SigLIP vision towers (Hugging Face layout) and their reference outputs, computed in PyTorch.

Independent of favchat's TypeScript: a textbook SigLIP vision forward (pixels normalised with mean 0.5 / std 0.5,
Conv2d patch embedding, learned position embedding, pre-norm layers of LayerNorm + multi-head softmax attention with
q/k/v/out projections + LayerNorm + fc1 / tanh-GELU / fc2, then post_layernorm) in float64 over the weights *as
stored* (the fp16 variant is rounded first), and a safetensors writer. The "full" variant is a whole SigLIP
checkpoint (model_type "siglip", vision_config inside) that also holds the pooling head, a text-tower tensor and the
contrastive scale/bias: favchat must load the tower and report those as unused.

Regenerate (deterministic, fixed seeds; overwrites test/fixtures/siglip/<variant>/):
    /usr/bin/python3 bench/reference/siglip_reference.py [--out test/fixtures/siglip]
(Debian's python3-torch 1.13; neither `transformers` nor `safetensors` is needed.)
"""

import argparse
import json
import math
import os

import torch

torch.set_num_threads(2)

from st_write import write_safetensors  # noqa: E402


def make_weights(c, gen, std):
    """Random weights with HF SigLIP vision names. std ~0.2 keeps attention far from uniform so bugs change outputs."""
    D, I, C, p = c["hidden_size"], c["intermediate_size"], c.get("num_channels", 3), c["patch_size"]
    P = (c["image_size"] // p) ** 2  # conv2d without padding drops the remainder

    def randn(*shape, s=std):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * s

    def ln():
        return 1.0 + randn(D, s=0.1), randn(D, s=0.1)

    w = {}
    pre = "vision_model."
    w[pre + "embeddings.patch_embedding.weight"] = randn(D, C, p, p)
    w[pre + "embeddings.patch_embedding.bias"] = randn(D)
    w[pre + "embeddings.position_embedding.weight"] = randn(P, D, s=0.5)
    for i in range(c["num_hidden_layers"]):
        lp = f"{pre}encoder.layers.{i}."
        w[lp + "layer_norm1.weight"], w[lp + "layer_norm1.bias"] = ln()
        for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
            w[lp + f"self_attn.{proj}.weight"] = randn(D, D)
            w[lp + f"self_attn.{proj}.bias"] = randn(D, s=0.1)
        w[lp + "layer_norm2.weight"], w[lp + "layer_norm2.bias"] = ln()
        w[lp + "mlp.fc1.weight"] = randn(I, D)
        w[lp + "mlp.fc1.bias"] = randn(I, s=0.1)
        w[lp + "mlp.fc2.weight"] = randn(D, I)
        w[lp + "mlp.fc2.bias"] = randn(D, s=0.1)
    w[pre + "post_layernorm.weight"], w[pre + "post_layernorm.bias"] = ln()
    return w


def head_weights(c, gen):
    """The multi-head attention pooling head (SiglipMultiheadAttentionPoolingHead) favchat does not use."""
    D, I = c["hidden_size"], c["intermediate_size"]

    def randn(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * 0.2

    h = "vision_model.head."
    return {
        h + "probe": randn(1, 1, D),
        h + "attention.in_proj_weight": randn(3 * D, D),
        h + "attention.in_proj_bias": randn(3 * D),
        h + "attention.out_proj.weight": randn(D, D),
        h + "attention.out_proj.bias": randn(D),
        h + "layernorm.weight": randn(D),
        h + "layernorm.bias": randn(D),
        h + "mlp.fc1.weight": randn(I, D),
        h + "mlp.fc1.bias": randn(I),
        h + "mlp.fc2.weight": randn(D, I),
        h + "mlp.fc2.bias": randn(D),
    }


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * w + b


def gelu_tanh(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def forward(c, w, pixels_nhwc):
    """pixels [N, H, W, C] in [0, 1] -> last_hidden_state [N, P, D] (after post_layernorm), float64."""
    D, H, eps = c["hidden_size"], c["num_attention_heads"], c.get("layer_norm_eps", 1e-6)
    Dh = D // H
    pre = "vision_model."
    x = (pixels_nhwc.permute(0, 3, 1, 2) - 0.5) / 0.5  # [N, C, H, W], SigLIP's image-processor normalisation
    x = torch.nn.functional.conv2d(x, w[pre + "embeddings.patch_embedding.weight"],
                                   w[pre + "embeddings.patch_embedding.bias"], stride=c["patch_size"])  # [N, D, gh, gw]
    x = x.flatten(2).transpose(1, 2)  # [N, P, D]
    x = x + w[pre + "embeddings.position_embedding.weight"]
    N, P, _ = x.shape
    for i in range(c["num_hidden_layers"]):
        lp = f"{pre}encoder.layers.{i}."

        def lin(t, name):
            return t @ w[lp + name + ".weight"].T + w[lp + name + ".bias"]

        h = layer_norm(x, w[lp + "layer_norm1.weight"], w[lp + "layer_norm1.bias"], eps)
        q = lin(h, "self_attn.q_proj").view(N, P, H, Dh).transpose(1, 2)
        k = lin(h, "self_attn.k_proj").view(N, P, H, Dh).transpose(1, 2)
        v = lin(h, "self_attn.v_proj").view(N, P, H, Dh).transpose(1, 2)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(Dh), dim=-1)
        o = (att @ v).transpose(1, 2).reshape(N, P, D)
        x = x + lin(o, "self_attn.out_proj")
        h = layer_norm(x, w[lp + "layer_norm2.weight"], w[lp + "layer_norm2.bias"], eps)
        x = x + lin(gelu_tanh(lin(h, "mlp.fc1")), "mlp.fc2")
    return layer_norm(x, w[pre + "post_layernorm.weight"], w[pre + "post_layernorm.bias"], eps)


VARIANTS = {
    # A whole SigLIP checkpoint: the tower's fields under vision_config, extra tensors to be reported unused.
    "full": {
        "config": {
            "architectures": ["SiglipModel"], "model_type": "siglip",
            "vision_config": {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
                              "image_size": 32, "patch_size": 8, "num_channels": 3, "layer_norm_eps": 1e-6,
                              "hidden_act": "gelu_pytorch_tanh", "model_type": "siglip_vision_model"},
            "text_config": {"hidden_size": 32, "vocab_size": 16, "model_type": "siglip_text_model"},
        },
        "dtype": torch.float32, "batch": 2, "seed": 5, "extras": True,
    },
    # A vision-only checkpoint in fp16 with non-default eps, fields left to the defaults, and an image side that is
    # not a multiple of the patch (26 px, patch 6: conv2d drops the last 2 rows and columns, as so400m's 384/14).
    "vision_fp16": {
        "config": {"architectures": ["SiglipVisionModel"], "model_type": "siglip_vision_model", "hidden_size": 24,
                   "intermediate_size": 40, "num_hidden_layers": 1, "num_attention_heads": 3, "image_size": 26,
                   "patch_size": 6, "layer_norm_eps": 1e-5, "torch_dtype": "float16"},
        "dtype": torch.float16, "batch": 3, "seed": 6, "extras": False,
    },
}


def build_variant(out_root, name, spec):
    cfg = spec["config"]
    c = cfg["vision_config"] if cfg["model_type"] == "siglip" else cfg
    gen = torch.Generator().manual_seed(spec["seed"])
    w64 = make_weights(c, gen, 0.2)
    # What the file stores, and the reference computes over exactly that (rounded) value.
    stored = {k: v.to(spec["dtype"]) for k, v in w64.items()}
    w = {k: v.to(torch.float64) for k, v in stored.items()}
    if spec["extras"]:
        for k, v in head_weights(c, gen).items():
            stored[k] = v.to(spec["dtype"])
        stored["text_model.embeddings.token_embedding.weight"] = torch.randn(16, 32, generator=gen).to(spec["dtype"])
        stored["logit_scale"] = torch.tensor([2.3]).to(spec["dtype"])
        stored["logit_bias"] = torch.tensor([-10.0]).to(spec["dtype"])
    S = c["image_size"]
    pixels = torch.rand(spec["batch"], S, S, c.get("num_channels", 3), generator=gen, dtype=torch.float64)
    pixels = pixels.to(torch.float32).to(torch.float64)  # what a float32 input holds
    y = forward(c, w, pixels)

    d = os.path.join(out_root, name)
    os.makedirs(d, exist_ok=True)
    write_safetensors(os.path.join(d, "model.safetensors"), stored, {"format": "pt"})
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    expected = {
        "pixels_shape": list(pixels.shape),
        "pixels": pixels.flatten().tolist(),  # float32 values, exact in JSON
        "output_shape": list(y.shape),
        "output": [round(v, 7) for v in y.flatten().tolist()],
        "unused": sorted(k for k in stored if k not in w),
    }
    with open(os.path.join(d, "expected.json"), "w") as f:
        json.dump(expected, f)
        f.write("\n")
    print(f"{name}: output {list(y.shape)}, |y| max {y.abs().max().item():.3f}, {len(stored)} tensors -> {d}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "siglip"))
    args = ap.parse_args()
    for name, spec in VARIANTS.items():
        build_variant(args.out, name, spec)


if __name__ == "__main__":
    main()
