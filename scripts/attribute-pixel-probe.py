#!/usr/bin/python3
"""How much of each FaceWorld attribute one face crop's pixels hold (session 22): a softmax regression per attribute on
the standardised pixels of each clip's first 64 px crop (scripts/dump-face-crops.ts), trained on the training clips
and scored on the val and test clips (identities never seen in training). "eyes" reads only the band of the crop
where the eyes fall (rows 30-50%, columns 25-75%). scripts/softmax_probe.py, 30 epochs. A learnt
encoder should read at least this much; stage encoders' heads read eye colour at 0.18-0.29.
  node --import tsx scripts/dump-face-crops.ts runs/tiny/data/clips.jsonl /tmp/crops64 64
  python3 scripts/attribute-pixel-probe.py /tmp/crops64 64 [full|eyes] [eye_colour,eyebrows,...]
"""
import json, sys
import numpy as np
from softmax_probe import fit_softmax

prefix, S = sys.argv[1], int(sys.argv[2])
region = sys.argv[3] if len(sys.argv) > 3 else "full"
meta = json.load(open(prefix + ".json"))
keys = sys.argv[4].split(",") if len(sys.argv) > 4 else sorted(meta[0]["attributes"].keys())
X = np.fromfile(prefix + ".u8", dtype=np.uint8).reshape(-1, S, S, 3).astype(np.float32) / 255
if region == "eyes":
    X = X[:, int(0.30 * S):int(0.50 * S), int(0.25 * S):int(0.75 * S)]
X = X.reshape(len(X), -1)
train = np.array([m["split"] == "train" for m in meta])
mu, sd = X[train].mean(0), X[train].std(0) + 1e-3
X = (X - mu) / sd

for key in keys:
    values = [str(m["attributes"][key]) for m in meta]
    classes = sorted(set(values))
    y = np.array([classes.index(v) for v in values])
    W, b = fit_softmax(X[train], y[train], len(classes), 30, np.random.default_rng(0))
    held = ~train
    acc = ((X[held] @ W + b).argmax(1) == y[held]).mean()
    print(f"{key:15s} {region}: held-out accuracy {acc:.3f} (commonest value {np.bincount(y[train]).max() / train.sum():.3f})", flush=True)
