"""Derived buffers: small tensors computed from the configuration (window region labels, window gather
indices, sine position axes, reference points, relative position indices), never read from the checkpoint.

They are persistent buffers named `derived_*` so that the ONNX exporter sees them as graph inputs (and does
not constant-fold the large tensors computed from them into the .onnx file); it then stores them as small
inline initializers with their real values. They are excluded from weight loading and from the weight map.
"""
from __future__ import annotations

import torch
from torch import nn

PREFIX = "derived_"


def register(module: nn.Module, name: str, value: torch.Tensor) -> None:
    module.register_buffer(PREFIX + name, value, persistent=True)


def get(module: nn.Module, name: str) -> torch.Tensor:
    return getattr(module, PREFIX + name)


def is_derived(key: str) -> bool:
    return key.rsplit(".", 1)[-1].startswith(PREFIX)
