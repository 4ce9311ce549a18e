#!/usr/bin/python3
"""How much emotion can a face crop show? Step 2 of 2 (step 1: scripts/emotion-ceiling.ts dumps the crops).

Trains a plain CNN (4 conv + BatchNorm + ReLU layers, max-pooling, global average pooling, a linear head; AdamW
at 1e-3 with cosine decay, batch 64) in PyTorch (Debian's python3-torch) on the training clips' crops and prints
test accuracy per epoch, overall and per intensity band. --input apex: the apex frame's crop alone; --input apex-diff: the apex crop and its difference from
the clip's first frame (6 channels; the first frame is before the expression starts, so the difference isolates
the movement from the person's looks). The result is a reference for what favchat's facial encoder could learn
from the same pixels and the same training clips.

Usage: /usr/bin/python3 scripts/emotion-ceiling.py OUT_PREFIX [--input apex|apex-diff] [--epochs 10] [--seed 0] [--first-stride 1|2]
"""
import argparse, json, time

import numpy as np
import torch
import torch.nn as nn

ap = argparse.ArgumentParser()
ap.add_argument("prefix")
ap.add_argument("--input", choices=["apex", "apex-diff"], default="apex-diff")
ap.add_argument("--epochs", type=int, default=10)
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--first-stride", type=int, choices=[1, 2], default=1,
                help="2: the first convolution downsamples (as favchat's conv stem does) instead of running at full resolution")
a = ap.parse_args()
torch.manual_seed(a.seed)
torch.set_num_threads(a.threads)

meta = json.load(open(a.prefix + ".json"))
raw = np.fromfile(a.prefix + ".u8", dtype=np.uint8)
S = int(round((raw.size / (len(meta) * 2 * 3)) ** 0.5))
x = torch.tensor(raw.reshape(len(meta), 2, S, S, 3)).float().div(255).permute(0, 1, 4, 2, 3)  # [N, 2, 3, S, S]
x = x[:, 0] if a.input == "apex" else torch.cat([x[:, 0], x[:, 0] - x[:, 1]], 1)
classes = sorted({r["emotion"] for r in meta})
y = torch.tensor([classes.index(r["emotion"]) for r in meta])
split = np.array([r["split"] for r in meta])
band = np.array([r["band"] or "none" for r in meta])
tr, te = torch.tensor(split == "train"), torch.tensor(split == "test")


def block(cin, cout, stride=1):
    return [nn.Conv2d(cin, cout, 3, stride=stride, padding=1), nn.BatchNorm2d(cout), nn.ReLU()]


first = block(x.shape[1], 32, 2) if a.first_stride == 2 else [*block(x.shape[1], 32), nn.MaxPool2d(2)]
net = nn.Sequential(*first, *block(32, 64), nn.MaxPool2d(2), *block(64, 128), nn.MaxPool2d(2),
                    *block(128, 128), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, len(classes)))
opt = torch.optim.AdamW(net.parameters(), 1e-3)
xtr, ytr, xte, yte = x[tr], y[tr], x[te], y[te]
bte = band[te.numpy()]
print(f"{len(xtr)} training clips, {len(xte)} test clips, {len(classes)} classes, input {a.input} {tuple(x.shape[1:])}")
# Cosine decay to 0 over the run: with a constant rate the test accuracy swings by +-0.2 between epochs.
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, a.epochs * ((len(xtr) + 63) // 64))
t0 = time.time()
for epoch in range(a.epochs):
    net.train()
    perm = torch.randperm(len(xtr))
    for i in range(0, len(xtr), 64):
        b = perm[i:i + 64]
        loss = nn.functional.cross_entropy(net(xtr[b]), ytr[b])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    net.eval()
    with torch.no_grad():
        hit = (net(xte).argmax(1) == yte).numpy()
    bands = " ".join(f"{b} {hit[bte == b].mean():.3f}" for b in ["subtle", "moderate", "strong", "none"] if (bte == b).any())
    print(f"epoch {epoch + 1} ({time.time() - t0:.0f} s): test accuracy {hit.mean():.3f} | {bands}", flush=True)
