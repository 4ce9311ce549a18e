# Peer for bench/faceworld.bench.ts: a comparable 2-D face renderer in Python (Pillow + numpy) doing the
# same per-frame work as FaceWorld's render + raw-frames path: static background, ~40 anti-aliased
# primitives for head, hair, clothes, brows, eyes, nose and mouth that move per frame, sensor noise and 4x4
# block quantisation, then the [F, H, W, 3] bytes written to a file. Prints {"clips_per_s": [...]} last.
import json, math, os, sys, tempfile, time
import numpy as np
from PIL import Image, ImageDraw

N = int(sys.argv[1]) if len(sys.argv) > 1 else 60
REPEATS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
F, S = 16, 112
rng = np.random.default_rng(0)


def frame(bg, t, k):
    # Pillow has no anti-aliasing for shapes; draw at 2x and downsample, as FaceWorld's canvas is anti-aliased.
    im = bg.copy()
    d = ImageDraw.Draw(im)
    u = 2 * S / 112
    cx, cy, s = 112 * u / 2 + math.sin(t * 0.5 + k), 50 * u, 25 * u
    a = 0.5 + 0.5 * math.sin(t / 3 + k)
    d.ellipse([cx - 2.3 * s, cy + 1.5 * s, cx + 2.3 * s, cy + 4 * s], fill=(40, 70, 170))
    d.rectangle([cx - 0.38 * s, cy + 0.8 * s, cx + 0.38 * s, cy + 1.8 * s], fill=(200, 150, 120))
    d.ellipse([cx - 1.1 * s, cy - 1.3 * s, cx + 1.1 * s, cy + 0.2 * s], fill=(40, 30, 25))
    d.ellipse([cx - s, cy - 1.2 * s, cx + s, cy + 1.3 * s], fill=(220, 170, 130))
    for side in (-1, 1):
        ex = cx + side * 0.4 * s
        d.ellipse([ex - 0.16 * s, cy - 0.25 * s, ex + 0.16 * s, cy - 0.05 * s], fill=(238, 236, 230))
        d.ellipse([ex - 0.08 * s, cy - 0.23 * s, ex + 0.08 * s, cy - 0.07 * s], fill=(60, 120, 200))
        d.ellipse([ex - 0.04 * s, cy - 0.19 * s, ex + 0.04 * s, cy - 0.11 * s], fill=(10, 10, 10))
        d.arc([ex - 0.16 * s, cy - 0.3 * s, ex + 0.16 * s, cy - 0.02 * s], 180, 360, fill=(40, 28, 24), width=2)
        d.line([ex - 0.2 * s, cy - (0.45 + 0.1 * a) * s, ex + 0.2 * s, cy - 0.45 * s], fill=(60, 40, 30), width=3)
        d.ellipse([cx + side * 0.5 * s - 0.2 * s, cy + 0.1 * s, cx + side * 0.5 * s + 0.2 * s, cy + 0.35 * s], fill=(230, 165, 135))
        for j in range(3):
            d.line([ex + side * 0.2 * s, cy - 0.15 * s + j * 2, ex + side * 0.3 * s, cy - 0.2 * s + j * 3], fill=(180, 130, 100), width=1)
    d.polygon([(cx, cy - 0.1 * s), (cx - 0.12 * s, cy + 0.25 * s), (cx + 0.12 * s, cy + 0.25 * s)], fill=(200, 150, 115))
    d.ellipse([cx - 0.3 * s, cy + (0.45 - 0.1 * a) * s, cx + 0.3 * s, cy + 0.7 * s], fill=(180, 80, 80))
    d.chord([cx - 0.25 * s, cy + 0.5 * s, cx + 0.25 * s, cy + (0.6 + 0.1 * a) * s], 0, 180, fill=(70, 20, 24))
    for j in range(4):
        d.line([cx - 0.4 * s, cy - (0.6 + 0.05 * j) * s, cx + 0.4 * s, cy - (0.6 + 0.05 * j) * s], fill=(190, 140, 110), width=1)
    d.ellipse([20 * u + t * 5, 15 * u, 30 * u + t * 5, 25 * u], fill=(210, 40, 40))
    small = np.asarray(im.resize((S, S), Image.BILINEAR), dtype=np.int16)
    small = small + rng.normal(0, 3, size=small.shape).astype(np.int16)
    small = np.clip(small, 0, 255)
    blocks = small.reshape(S // 4, 4, S // 4, 4, 3)
    mean = blocks.mean(axis=(1, 3), keepdims=True)
    q = np.clip(mean + np.round((blocks - mean) / 4) * 4, 0, 255)
    return q.reshape(S, S, 3).astype(np.uint8)


def run():
    out = tempfile.mkdtemp()
    t0 = time.perf_counter()
    for k in range(N):
        bg = Image.new("RGB", (2 * S, 2 * S), (150, 190, 220))
        bd = ImageDraw.Draw(bg)
        for x in range(0, 2 * S, 16):
            bd.rectangle([x, 0, x + 8, 2 * S], fill=(140, 175, 205))
        frames = np.stack([frame(bg, t, k) for t in range(F)])
        with open(os.path.join(out, f"{k}.u8"), "wb") as f:
            f.write(frames.tobytes())
    return N / (time.perf_counter() - t0)


print(json.dumps({"clips_per_s": [run() for _ in range(REPEATS)]}))
