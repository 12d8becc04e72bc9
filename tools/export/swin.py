"""Swin Transformer backbone for a fixed square input, written for ONNX export.

Attribute paths equal the official `model.vision_tower.*` state_dict keys. Behaviour follows the official
detection-style Swin: LayerNorm after patch embedding, per stage padding (zeros, after norm1) to a multiple
of the window, cyclic shift by window // 2 in odd blocks with a -100 mask built on the padded grid,
relative position bias gathered from the table, PatchMerging between stages, a LayerNorm per output.

The official pad + roll + window partition (and its inverse: window merge + roll back + crop) only moves
tokens, so each direction is one Gather with an index that depends on the sizes only (`window_gather_index`,
`window_merge_index`): in ONNX that replaces the Pad, Slice/Concat (roll) and 6-D Transpose nodes of every
block by two Gathers, with the same values. The indices are sums of a row and a column term; the .onnx holds
those per-axis vectors (derived, a few KB) and the graph adds them up (constant-folded by onnxruntime).
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


def _padded(n: int, window: int) -> int:
    return -(-n // window) * window


def window_gather_index(h: int, w: int, window: int, shift: int) -> torch.Tensor:
    """Official pad (zeros, bottom/right) + cyclic shift by -shift + window partition as one index: the row of
    the [H * W + 1, C] tokens (row H * W: zeros) each windowed position reads, [nW * window * window] int64.

    Built by running the reference ops on the token positions, so it is that composition by construction.
    """
    hp, wp = _padded(h, window), _padded(w, window)
    pos = torch.arange(h * w).reshape(1, h, w, 1)
    pos = F.pad(pos, (0, 0, 0, wp - w, 0, hp - h), value=h * w)
    if shift:
        pos = torch.roll(pos, shifts=(-shift, -shift), dims=(1, 2))
    return _windows(pos, window).reshape(-1)


def window_merge_index(h: int, w: int, window: int, shift: int) -> torch.Tensor:
    """Inverse of `window_gather_index`: window merge + cyclic shift by +shift + crop as one index, the row of
    the windowed [nW * window * window, C] tokens each of the H * W positions reads, [H * W] int64."""
    hp, wp = _padded(h, window), _padded(w, window)
    pos = _unwindows(torch.arange(hp * wp).reshape(-1, window * window, 1), window, hp, wp)
    if shift:
        pos = torch.roll(pos, shifts=(shift, shift), dims=(1, 2))
    return pos[:, :h, :w, :].reshape(-1)


def _separable(index: torch.Tensor, h: int, w: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(rows [h], cols [w]) with index == rows[:, None] + cols[None, :] for an [h * w] index."""
    grid = index.reshape(h, w)
    rows, cols = grid[:, 0].clone(), grid[0, :] - grid[0, 0]
    if not torch.equal(rows[:, None] + cols[None, :], grid):
        raise AssertionError("window index is not a sum of a row and a column term")
    return rows, cols


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

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None, to_windows: torch.Tensor,
                from_windows: torch.Tensor) -> torch.Tensor:
        """`x` [1, H * W, C]; `to_windows` / `from_windows`: the stage's `window_gather_index` /
        `window_merge_index` for this block's shift."""
        c = self.norm1.normalized_shape[0]
        shortcut = x
        y = self.norm1(x).reshape(-1, c)
        if to_windows.numel() != from_windows.numel():  # padded grid: padded positions read a zero row
            y = torch.cat([y, y.new_zeros(1, c)])
        y = torch.index_select(y, 0, to_windows).reshape(-1, self.window * self.window, c)
        y = self.attn(y, mask if self.shift else None)
        y = torch.index_select(y.reshape(-1, c), 0, from_windows).unsqueeze(0)
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
        hp = _padded(size, w)
        # Region labels (small) instead of the [nW, N, N] mask: the mask is rebuilt in the graph.
        derived.register(self, "shift_labels", shift_region_labels(hp, hp, w, w // 2))
        # Window indices of the blocks (per shift) as per-axis terms: the full indices are large (hp * hp).
        self.size, self.window, self.shifts = size, w, sorted({blk.shift for blk in self.blocks})
        for shift in self.shifts:
            # to_windows, on the padded, shifted grid [hp, hp]: row * size + col, size * size on padding
            # (clamped to the zero row); from_windows: on the [size, size] grid.
            pos = torch.roll(F.pad(torch.arange(size), (0, hp - size), value=size * size), -shift)
            derived.register(self, f"to_windows_rows_shift{shift}", torch.where(pos < size, pos * size, pos))
            derived.register(self, f"to_windows_cols_shift{shift}", pos)
            rows, cols = _separable(window_merge_index(size, size, w, shift), size, size)
            derived.register(self, f"from_windows_rows_shift{shift}", rows)
            derived.register(self, f"from_windows_cols_shift{shift}", cols)
            to_windows, from_windows = self.window_index(shift)
            if not (torch.equal(to_windows, window_gather_index(size, size, w, shift))
                    and torch.equal(from_windows, window_merge_index(size, size, w, shift))):
                raise AssertionError(f"per-axis window indices of shift {shift} differ from the reference")

    def window_index(self, shift: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(to_windows, from_windows) of the blocks with this shift: `window_gather_index` and
        `window_merge_index`, summed up from their per-axis terms."""
        n, w = _padded(self.size, self.window) // self.window, self.window
        rows, cols = (derived.get(self, f"to_windows_{a}_shift{shift}") for a in ("rows", "cols"))
        # [nW rows, nW cols, window, window]: the order of `_windows`
        to_windows = (rows.reshape(n, 1, w, 1) + cols.reshape(1, n, 1, w)).clamp(max=self.size * self.size)
        rows, cols = (derived.get(self, f"from_windows_{a}_shift{shift}") for a in ("rows", "cols"))
        return to_windows.reshape(-1), (rows.reshape(-1, 1) + cols.reshape(1, -1)).reshape(-1)

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
            index = {shift: stage.window_index(shift) for shift in stage.shifts}
            for blk in stage.blocks:
                x = blk(x, mask, *index[blk.shift])
            norm: nn.LayerNorm = getattr(self, f"norm{i}")
            c = self.cfg.channels[i]
            outs.append(norm(x).reshape(1, size, size, c).permute(0, 3, 1, 2))
            if stage.downsample is not None:
                x = stage.downsample(x, size, size)
        return outs
