"""Golden values for favchat's AdamW (src/train/optimizer.ts), from PyTorch's own torch.optim.AdamW.

Run with Debian's torch: /usr/bin/python3 bench/reference/adamw_reference.py
It writes test/fixtures/optim/adamw_golden.json: the initial parameters, the gradient fed at each step
(null = no gradient that step, which torch skips and does not count), the learning rate of each step,
and the parameters plus optimizer state after every step. test/train/optimizer.test.ts replays it.
"""
import json
import os

import torch

torch.manual_seed(1234)
torch.set_num_threads(1)

HYPER = {"beta1": 0.9, "beta2": 0.95, "eps": 1e-8, "weightDecay": 0.1}
LRS = [1e-2, 2e-2, 3e-2, 2.5e-2, 1e-2, 5e-3]  # a warm-up-then-decay shape, one lr per step
NO_DECAY = {"block.linear.bias", "block.norm.weight"}

# name -> (shape, gradient scale). The 1e-7 scale makes eps (1e-8) matter in the denominator.
SPECS = {
    "block.linear.weight": ([3, 4], 1.0),
    "block.linear.bias": ([4], 0.5),
    "block.norm.weight": ([5], 1e-7),
    "head.weight": ([2, 3], 3.0),
}
# Steps (0-based) at which a parameter receives no gradient.
SKIP = {("head.weight", 2), ("block.linear.bias", 4)}


def f32list(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


params = {n: torch.randn(*shape, dtype=torch.float32) for n, (shape, _) in SPECS.items()}
initial = {n: {"shape": list(p.shape), "data": f32list(p)} for n, p in params.items()}
for p in params.values():
    p.requires_grad_(True)

decay = [p for n, p in params.items() if n not in NO_DECAY]
no_decay = [p for n, p in params.items() if n in NO_DECAY]
opt = torch.optim.AdamW(
    [{"params": decay, "weight_decay": HYPER["weightDecay"]}, {"params": no_decay, "weight_decay": 0.0}],
    lr=LRS[0], betas=(HYPER["beta1"], HYPER["beta2"]), eps=HYPER["eps"], foreach=False,
)

steps = []
for k, lr in enumerate(LRS):
    grads = {}
    for n, p in params.items():
        if (n, k) in SKIP:
            p.grad = None
            grads[n] = None
        else:
            g = torch.randn(*SPECS[n][0], dtype=torch.float32) * SPECS[n][1]
            p.grad = g.clone()
            grads[n] = f32list(g)
    for group in opt.param_groups:
        group["lr"] = lr
    opt.step()
    after = {}
    for n, p in params.items():
        st = opt.state[p]
        after[n] = {
            "param": f32list(p),
            "exp_avg": f32list(st["exp_avg"]) if st else None,
            "exp_avg_sq": f32list(st["exp_avg_sq"]) if st else None,
            "step": int(st["step"].item()) if st else 0,
        }
    steps.append({"lr": lr, "grads": grads, "after": after})

out = {
    "source": f"torch {torch.__version__} torch.optim.AdamW (foreach=False), float32",
    "hyper": HYPER,
    "noDecay": sorted(NO_DECAY),
    "initial": initial,
    "steps": steps,
}
path = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "optim", "adamw_golden.json")
with open(path, "w") as fh:
    json.dump(out, fh, indent=1)
    fh.write("\n")
print(f"wrote {os.path.normpath(path)}: {len(steps)} steps, {len(params)} parameters")
