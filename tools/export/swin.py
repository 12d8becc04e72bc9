"""Swin Transformer backbone for a fixed square input, written for ONNX export.

Attribute paths equal the official `model.vision_tower.*` state_dict keys. Behaviour follows the official
detection-style Swin: LayerNorm after patch embedding, per stage padding (zeros, after norm1) to a multiple
of the window, cyclic shift by window // 2 in odd blocks with a -100 mask built on the padded grid,
relative position bias gathered from the table, PatchMerging between stages, a LayerNorm per output.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from . import derived
from .config import SwinConfig


def _windows(x: torch.Tensor, w: int) -> torch.Tensor:
    """[B, H, W, C] -> [B * nW, w * w, C]."""
    b, h, wd, c = x.shape
    x = x.reshape(b, h // w, w, wd // w, w, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, w * w, c)


def _unwindows(x: torch.Tensor, w: int, h: int, wd: int) -> torch.Tensor:
    """[B * nW, w * w, C] -> [B, H, W, C] (batch 1)."""
    c = x.shape[-1]
    x = x.reshape(1, h // w, wd // w, w, w, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(1, h, wd, c)


def shift_region_labels(hp: int, wp: int, window: int, shift: int) -> torch.Tensor:
    """Region label of every padded position, windowed: [nW, window * window] (float32).

    Two positions of a window may attend to each other only when their labels are equal (official rule:
    mask -100 where labels differ).
    """
    img = torch.zeros(hp, wp)
    bounds = ((0, hp - window), (hp - window, hp - shift), (hp - shift, hp))
    wbounds = ((0, wp - window), (wp - window, wp - shift), (wp - shift, wp))
    label = 0
    for h0, h1 in bounds:
        for w0, w1 in wbounds:
            img[h0:h1, w0:w1] = label
            label += 1
    return _windows(img.reshape(1, hp, wp, 1), window).reshape(-1, window * window)


class WindowAttention(nn.Module):
    def __init__(self, dim: int, heads: int, window: int) -> None:
        super().__init__()
        self.heads = heads
        self.window = window
        self.scale = (dim // heads) ** -0.5
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * window - 1) ** 2, heads))
        # recomputed from the window size (the checkpoint copy is verified, not loaded)
        derived.register(self, "relative_position_index", self._index(window))
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    @staticmethod
    def _index(w: int) -> torch.Tensor:
        ys, xs = torch.meshgrid(torch.arange(w), torch.arange(w), indexing="ij")
        coords = torch.stack([ys.flatten(), xs.flatten()])  # 2, N
        rel = coords[:, :, None] - coords[:, None, :]
        return (rel[0] + w - 1) * (2 * w - 1) + (rel[1] + w - 1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        bw, n, c = x.shape
        qkv = self.qkv(x).reshape(bw, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0] * self.scale, qkv[1], qkv[2]
        attn = q @ k.transpose(-2, -1)
        bias = self.relative_position_bias_table[derived.get(self, "relative_position_index").reshape(-1)]
        attn = attn + bias.reshape(n, n, self.heads).permute(2, 0, 1).unsqueeze(0)
        if mask is not None:
            attn = attn + mask.unsqueeze(1)  # mask [nW, N, N], batch 1
        attn = attn.softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(bw, n, c))


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class SwinBlock(nn.Module):
    def __init__(self, dim: int, heads: int, window: int, shift: int, mlp_ratio: float, eps: float) -> None:
        super().__init__()
        self.window, self.shift = window, shift
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.attn = WindowAttention(dim, heads, window)
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x: torch.Tensor, h: int, w: int, mask: torch.Tensor | None) -> torch.Tensor:
        c = x.shape[-1]
        shortcut = x
        y = self.norm1(x).reshape(1, h, w, c)
        hp = -(-h // self.window) * self.window
        wp = -(-w // self.window) * self.window
        if hp != h or wp != w:
            y = F.pad(y, (0, 0, 0, wp - w, 0, hp - h))
        if self.shift:
            y = torch.roll(y, shifts=(-self.shift, -self.shift), dims=(1, 2))
        y = self.attn(_windows(y, self.window), mask if self.shift else None)
        y = _unwindows(y, self.window, hp, wp)
        if self.shift:
            y = torch.roll(y, shifts=(self.shift, self.shift), dims=(1, 2))
        y = y[:, :h, :w, :].reshape(1, h * w, c)
        x = shortcut + y
        return x + self.mlp(self.norm2(x))


class PatchMerging(nn.Module):
    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(4 * dim, eps=eps)
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)

    def forward(self, x: torch.Tensor, h: int, w: int) -> torch.Tensor:
        c = x.shape[-1]
        x = x.reshape(1, h, w, c)
        x = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], -1)
        return self.reduction(self.norm(x.reshape(1, -1, 4 * c)))


class Stage(nn.Module):
    def __init__(self, dim: int, depth: int, heads: int, cfg: SwinConfig, size: int, downsample: bool,
                 eps: float) -> None:
        super().__init__()
        w = cfg.window_size
        self.blocks = nn.ModuleList(
            SwinBlock(dim, heads, w, 0 if i % 2 == 0 else w // 2, cfg.mlp_ratio, eps) for i in range(depth))
        self.downsample = PatchMerging(dim, eps) if downsample else None
        hp = -(-size // w) * w
        # Region labels (small) instead of the [nW, N, N] mask: the mask is rebuilt in the graph.
        derived.register(self, "shift_labels", shift_region_labels(hp, hp, w, w // 2))

    def mask(self) -> torch.Tensor:
        lab = derived.get(self, "shift_labels")
        diff = lab.unsqueeze(1) - lab.unsqueeze(2)
        return (diff != 0).to(diff.dtype) * -100.0  # official: -100 where labels differ, else 0


class SwinTransformer(nn.Module):
    """Outputs res2..res5 as [1, C, H, W] for a fixed `image_size` input."""

    def __init__(self, cfg: SwinConfig, image_size: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.cfg = cfg
        self.patch_embed = nn.Module()
        self.patch_embed.proj = nn.Conv2d(3, cfg.embed_dim, cfg.patch_size, cfg.patch_size)
        self.patch_embed.norm = nn.LayerNorm(cfg.embed_dim, eps=eps)
        chans = cfg.channels
        sizes = [image_size // cfg.patch_size // 2**i for i in range(len(cfg.depths))]
        self.sizes = sizes
        self.layers = nn.ModuleList(
            Stage(chans[i], cfg.depths[i], cfg.num_heads[i], cfg, sizes[i], i < len(cfg.depths) - 1, eps)
            for i in range(len(cfg.depths)))
        for i, c in enumerate(chans):
            self.add_module(f"norm{i}", nn.LayerNorm(c, eps=eps))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.patch_embed.proj(x)
        c, h, w = x.shape[1], x.shape[2], x.shape[3]
        x = self.patch_embed.norm(x.flatten(2).transpose(1, 2))
        outs = []
        for i, stage in enumerate(self.layers):
            size = self.sizes[i]
            mask = stage.mask()
            for blk in stage.blocks:
                x = blk(x, size, size, mask)
            norm: nn.LayerNorm = getattr(self, f"norm{i}")
            c = self.cfg.channels[i]
            outs.append(norm(x).reshape(1, size, size, c).permute(0, 3, 1, 2))
            if stage.downsample is not None:
                x = stage.downsample(x, size, size)
        return outs
