"""Minimal safetensors reader/writer (the `safetensors` package is not available in Debian's python3).

Format: u64 little-endian header length, JSON header {name: {dtype, shape, data_offsets}}, space-padded to
8 bytes, then raw little-endian C-order data; offsets are relative to the end of the header.
"""
from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Mapping

import numpy as np
import torch

_NP = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64, "I32": np.int32,
       "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_}
_TORCH_TO_ST = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
                torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
                torch.bool: "BOOL"}


def read_header(path: Path) -> tuple[int, dict]:
    """Returns (data start offset, header dict without __metadata__)."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    header.pop("__metadata__", None)
    return 8 + n, header


def load(path: Path | str) -> dict[str, torch.Tensor]:
    """Loads every tensor of a safetensors file (BF16 becomes a torch.bfloat16 tensor)."""
    path = Path(path)
    start, header = read_header(path)
    raw = np.memmap(path, dtype=np.uint8, mode="r")
    out: dict[str, torch.Tensor] = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        buf = np.array(raw[start + b:start + e])
        dt = info["dtype"]
        if dt == "BF16":
            t = torch.from_numpy(buf.view(np.int16).copy()).view(torch.bfloat16)
        else:
            t = torch.from_numpy(buf.view(_NP[dt]).copy())
        out[name] = t.reshape(info["shape"])
    return out


def save(tensors: Mapping[str, torch.Tensor], path: Path | str, metadata: Mapping[str, str] | None = None) -> None:
    """Writes tensors in insertion order."""
    header: dict = {}
    if metadata:
        header["__metadata__"] = dict(metadata)
    blobs: list[bytes] = []
    off = 0
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        if t.dtype == torch.bfloat16:
            data = t.view(torch.int16).numpy().tobytes()
        else:
            data = t.numpy().tobytes()
        header[name] = {"dtype": _TORCH_TO_ST[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    hb = json.dumps(header, separators=(",", ":")).encode()
    hb += b" " * ((8 - len(hb) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)
