"""PyTorch peer for bench/optimizer.bench.ts: one torch.optim.AdamW step over parameters of the given shapes, timed
with its default CPU implementation (foreach), and with fused=True where this torch has it.

Usage: /usr/bin/python3 bench/peers/adamw_torch.py CONFIG_JSON
CONFIG_JSON: {"shapes": [[...], ...], "repeats": N, "threads": T}
Prints one JSON object: {"default_ms": [...], "fused_ms": [...] or null} (one entry per repeat).
"""
import json
import os
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402


def timed(shapes, repeats, **kw):
    g = torch.Generator().manual_seed(0)
    params = [torch.nn.Parameter(torch.randn(*s, generator=g)) for s in shapes]
    for p in params:
        p.grad = torch.randn(*p.shape, generator=g)
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.01, **kw)
    opt.step()  # allocates the state
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        opt.step()
        out.append((time.perf_counter() - t) * 1000)
    return out


def main():
    c = json.loads(sys.argv[1])
    torch.set_num_threads(c["threads"])
    shapes = [tuple(s) for s in c["shapes"]]
    result = {"default_ms": timed(shapes, c["repeats"])}
    try:
        result["fused_ms"] = timed(shapes, c["repeats"], fused=True)
    except (RuntimeError, TypeError) as e:  # torch without a CPU fused AdamW
        print(f"fused AdamW unavailable: {e}", file=sys.stderr)
        result["fused_ms"] = None
    print(json.dumps(result))


main()
