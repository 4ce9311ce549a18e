"""A minimal safetensors writer for the reference scripts (the `safetensors` package is not installed here):
8-byte little-endian header length, JSON header (space-padded to 8), raw little-endian bytes in header order."""

import json
import struct

import torch

ST_DTYPE = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16"}
INT_VIEW = {torch.float32: torch.int32, torch.float16: torch.int16, torch.bfloat16: torch.int16}


def write_safetensors(path, tensors, metadata=None):
    """8-byte little-endian header length, JSON header (space-padded to 8), raw little-endian bytes in header order."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, t in tensors.items():
        t = t.contiguous()
        raw = t.view(INT_VIEW[t.dtype]).numpy().astype("<i4" if t.dtype == torch.float32 else "<i2").tobytes()
        header[name] = {"dtype": ST_DTYPE[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    js = json.dumps(header, separators=(",", ":")).encode("utf-8")
    js += b" " * (-len(js) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(js)))
        f.write(js)
        for b in blobs:
            f.write(b)
