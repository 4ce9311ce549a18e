#!/usr/bin/python3
"""Which inputs could an attribute head read more from? (Session 21.) Softmax regressions per FaceWorld attribute on
a run's cached encoder features (src/train/feature-cache.ts; clip means over the frames), trained on the training
clips of 80% of the training identities and scored on the clips of the other 20% (the cache holds training clips
only). Feature sets: "current" is what the attribute read-out's head reads (src/model/attribute-readout.ts: the
general encoder's mean patch token and the facial encoder's pooled blocks); the others add the general encoder's
4x4 patch grid and the facial encoder's block-1 4x4 grid and block-0 8x8 grid, flattened. Numpy only (Adam, 25
epochs, batch 256, standardised features).
  python3 scripts/attribute-probe-grid.py RUN_DIR          (RUN_DIR: a train:tiny --work directory)
  ONLY="current,+gen grid" python3 scripts/attribute-probe-grid.py RUN_DIR
"""
import json, sys, os, numpy as np
from softmax_probe import fit_softmax
run = sys.argv[1]
root = os.path.join(run, "data/built/feature-cache")
cache = max((os.path.join(root, d) for d in os.listdir(root)), key=lambda p: len(json.load(open(os.path.join(p, "meta.json")))["shapes"]))
meta = json.load(open(os.path.join(cache, "meta.json")))
shapes = meta["shapes"]; sizes = [int(np.prod(s)) for s in shapes]; slot = sum(sizes)
mm = np.memmap(os.path.join(cache, "features.f32"), dtype=np.float32, mode="r").reshape(len(meta["clips"]), slot)
labels = {}
for l in open(os.path.join(run, "data/clips.jsonl")):
    d = json.loads(l); labels[d["id"]] = (d["split"], d["labels"]["attributes"], str(d["labels"]["identity"]))
offs = np.cumsum([0] + sizes)
def part(i):  # [N, P, D] clip mean over frames
    F, P, D = shapes[i]
    return mm[:, offs[i]:offs[i + 1]].reshape(-1, F, P, D).mean(1)
parts = [part(i) for i in range(len(shapes))]
gen, b0, b1, b2, b3 = parts
N = gen.shape[0]
feats = {
  "current": np.concatenate([gen.mean(1), b0.mean(1), b1.mean(1), b2.reshape(N, -1), b3.reshape(N, -1)], 1),
}
feats["+gen grid"] = np.concatenate([feats["current"], gen.reshape(N, -1)], 1)
feats["+gen grid +b1 grid"] = np.concatenate([feats["+gen grid"], b1.reshape(N, -1)], 1)
feats["+gen grid +b1 +b0 grid"] = np.concatenate([feats["+gen grid +b1 grid"], b0.reshape(N, -1)], 1)
only = os.environ.get("ONLY")
ids = meta["clips"]
split = np.array([labels[i][0] for i in ids])
attrs = sorted(labels[ids[0]][1].keys())
import zlib
held = np.array([zlib.crc32(labels[i][2].encode()) % 5 == 0 for i in ids])
tr, te = (split == "train") & ~held, (split == "train") & held
print("train", tr.sum(), "held-out identities' clips", te.sum(), flush=True)
rng = np.random.default_rng(0)
for name, X in feats.items():
    if only and name not in only.split(","): continue
    mu, sd = X[tr].mean(0), X[tr].std(0) + 1e-5
    X = (X - mu) / sd
    accs = {}
    for a in attrs:
        vals = sorted({labels[i][1][a] for i in ids})
        y = np.array([vals.index(labels[i][1][a]) for i in ids])
        W, b = fit_softmax(X[tr], y[tr], len(vals), 25, rng)
        accs[a] = float(((X[te] @ W + b).argmax(1) == y[te]).mean())
    print(f"{name} (d={X.shape[1]}): mean {np.mean(list(accs.values())):.3f} " + " ".join(f"{a} {v:.2f}" for a, v in accs.items()), flush=True)
