"""Compression connector (official `model.mm_projector`, type SparseConv_1): res5 -> image tokens.

conv3x3/2 -> LayerNorm over (C, H, W) jointly -> conv3x3/2 -> LayerNorm over (C, H, W) -> conv1x1, no
activations; the joint LayerNorms make it valid for a 1024 input only (res5 = 32x32).
"""
from __future__ import annotations

import torch
from torch import nn


class CompressionConnector(nn.Module):
    def __init__(self, c_in: int, c_out: int, size: int = 16, eps: float = 1e-5) -> None:
        super().__init__()
        self.proj1 = nn.Conv2d(c_in, c_out, 3, 2, 1)
        self.norm1 = nn.LayerNorm([c_out, size, size], eps=eps)
        self.proj2 = nn.Conv2d(c_out, c_out, 3, 2, 1)
        self.norm2 = nn.LayerNorm([c_out, size // 2, size // 2], eps=eps)
        self.fc = nn.Conv2d(c_out, c_out, 1, 1)

    def forward(self, res5: torch.Tensor) -> torch.Tensor:
        x = self.fc(self.norm2(self.proj2(self.norm1(self.proj1(res5)))))
        return x.flatten(2).transpose(1, 2)
