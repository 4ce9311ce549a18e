#!/usr/bin/python3
"""How much of each FaceWorld attribute one face crop's pixels hold (session 22): a softmax regression per attribute on
the standardised pixels of each clip's first 64 px crop (scripts/dump-face-crops.ts), trained on the training clips
and scored on the val and test clips (identities never seen in training). "eyes" reads only the band of the crop
where the eyes fall (rows 30-50%, columns 25-75%). Numpy only (Adam, 30 epochs, batch 256, L2 1e-3). A learnt
encoder should read at least this much; stage encoders' heads read eye colour at 0.18-0.29.
  node --import tsx scripts/dump-face-crops.ts runs/tiny/data/clips.jsonl /tmp/crops64 64
  python3 scripts/attribute-pixel-probe.py /tmp/crops64 64 [full|eyes] [eye_colour,eyebrows,...]
"""
import json, sys
import numpy as np

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
    W = np.zeros((X.shape[1], len(classes)), np.float32)
    b = np.zeros(len(classes), np.float32)
    moments = [[np.zeros_like(W), np.zeros_like(W)], [np.zeros_like(b), np.zeros_like(b)]]
    rng, rows, t = np.random.default_rng(0), np.where(train)[0], 0
    for _ in range(30):
        rng.shuffle(rows)
        for i in range(0, len(rows), 256):
            r = rows[i:i + 256]
            z = X[r] @ W + b
            p = np.exp(z - z.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            p[np.arange(len(r)), y[r]] -= 1
            t += 1
            for (m1, m2), g, P in zip(moments, (X[r].T @ p / len(r) + 1e-3 * W, p.mean(0)), (W, b)):
                m1 *= 0.9; m1 += 0.1 * g
                m2 *= 0.999; m2 += 0.001 * g * g
                P -= 1e-3 * (m1 / (1 - 0.9 ** t)) / (np.sqrt(m2 / (1 - 0.999 ** t)) + 1e-8)
    held = ~train
    acc = ((X[held] @ W + b).argmax(1) == y[held]).mean()
    print(f"{key:15s} {region}: held-out accuracy {acc:.3f} (commonest value {np.bincount(y[train]).max() / train.sum():.3f})", flush=True)
