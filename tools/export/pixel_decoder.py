"""MSDeformAttn pixel decoder (official `pixel_decoder.*`), with deformable attention as `grid_sample`.

Levels res5, res4, res3 go through a 1x1 conv + GroupNorm(32) projection and a multi-scale deformable
transformer encoder; an FPN level on res2 (lateral 1x1 conv + GN + ReLU, plus the bilinearly upsampled res3
level, then 3x3 conv + GN + ReLU) gives the mask features after a 1x1 conv. `grid_sample` is bilinear with zero
padding and align_corners False, which exports as ONNX GridSample (opset >= 16).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from . import derived
from .config import MaskConfig


def sine_axes(h: int, w: int, num_feats: int, temperature: float = 10000.0) -> tuple[torch.Tensor, ...]:
    """The 1-D ingredients of PositionEmbeddingSine(normalize=True, scale=2*pi) for an unmasked [h, w] map:
    normalised y [h] and x [w] positions and the frequency divisors [num_feats]."""
    eps, scale = 1e-6, 2 * math.pi
    y = torch.arange(1, h + 1, dtype=torch.float32)
    x = torch.arange(1, w + 1, dtype=torch.float32)
    y = y / (y[-1:] + eps) * scale
    x = x / (x[-1:] + eps) * scale
    dim_t = torch.arange(num_feats, dtype=torch.float32)
    dim_t = temperature ** (2 * torch.div(dim_t, 2, rounding_mode="floor") / num_feats)
    return y, x, dim_t


def sine_position(y: torch.Tensor, x: torch.Tensor, dim_t: torch.Tensor) -> torch.Tensor:
    """[1, 2*F, h, w] from `sine_axes` (same values as the official 2-D computation, element by element)."""
    h, w, f = y.shape[0], x.shape[0], dim_t.shape[0]
    py = y[:, None] / dim_t
    px = x[:, None] / dim_t
    py = torch.stack((py[:, 0::2].sin(), py[:, 1::2].cos()), dim=2).flatten(1)  # [h, F]
    px = torch.stack((px[:, 0::2].sin(), px[:, 1::2].cos()), dim=2).flatten(1)  # [w, F]
    pos = torch.cat((py[:, None, :].expand(h, w, f), px[None, :, :].expand(h, w, f)), dim=2)
    return pos.permute(2, 0, 1).unsqueeze(0)


def register_sine(module: nn.Module, sizes: list[tuple[int, int]], num_feats: int) -> None:
    for lvl, (h, w) in enumerate(sizes):
        y, x, dim_t = sine_axes(h, w, num_feats)
        derived.register(module, f"pos_y{lvl}", y)
        derived.register(module, f"pos_x{lvl}", x)
    derived.register(module, "pos_dim_t", dim_t)


def level_sine(module: nn.Module, lvl: int) -> torch.Tensor:
    return sine_position(derived.get(module, f"pos_y{lvl}"), derived.get(module, f"pos_x{lvl}"),
                         derived.get(module, "pos_dim_t"))


class MSDeformAttn(nn.Module):
    def __init__(self, d: int, levels: int, heads: int, points: int) -> None:
        super().__init__()
        self.d, self.levels, self.heads, self.points = d, levels, heads, points
        self.sampling_offsets = nn.Linear(d, heads * levels * points * 2)
        self.attention_weights = nn.Linear(d, heads * levels * points)
        self.value_proj = nn.Linear(d, d)
        self.output_proj = nn.Linear(d, d)

    def forward(self, query: torch.Tensor, ref: torch.Tensor, src: torch.Tensor,
                shapes: list[tuple[int, int]]) -> torch.Tensor:
        """query/src [1, S, d]; ref [1, S, levels, 2] (x, y in [0, 1])."""
        s = query.shape[1]
        nh, nl, npnt, dh = self.heads, self.levels, self.points, self.d // self.heads
        value = self.value_proj(src).reshape(1, s, nh, dh)
        off = self.sampling_offsets(query).reshape(1, s, nh, nl, npnt, 2)
        aw = self.attention_weights(query).reshape(1, s, nh, nl * npnt).softmax(-1)
        norm = torch.tensor([[w, h] for h, w in shapes], dtype=torch.float32)
        loc = ref[:, :, None, :, None, :] + off / norm[None, None, None, :, None, :]
        grids = 2 * loc - 1
        aw = aw.transpose(1, 2).reshape(nh, 1, s, nl, npnt)
        # The official code stacks the levels' samples ([nh, dh, S, L*P]) and sums them weighted; summing level by
        # level is the same sum without the copy of the stack (in ONNX: a Concat of the three largest tensors of
        # the pixel decoder per layer), in another order (float32 rounding only).
        out: torch.Tensor | None = None
        start = 0
        for lvl, (h, w) in enumerate(shapes):
            v = value[:, start:start + h * w].flatten(2).transpose(1, 2).reshape(nh, dh, h, w)
            start += h * w
            g = grids[:, :, :, lvl].transpose(1, 2).flatten(0, 1)  # [nh, S, P, 2]
            sampled = F.grid_sample(v, g, mode="bilinear", padding_mode="zeros", align_corners=False)  # [nh, dh, S, P]
            part = (sampled * aw[:, :, :, lvl]).sum(-1)  # [nh, dh, S]
            out = part if out is None else out + part
        assert out is not None
        return self.output_proj(out.reshape(1, nh * dh, s).transpose(1, 2))


class EncoderLayer(nn.Module):
    def __init__(self, d: int, ffn: int, levels: int, heads: int, points: int, eps: float) -> None:
        super().__init__()
        self.self_attn = MSDeformAttn(d, levels, heads, points)
        self.norm1 = nn.LayerNorm(d, eps=eps)
        self.linear1 = nn.Linear(d, ffn)
        self.linear2 = nn.Linear(ffn, d)
        self.norm2 = nn.LayerNorm(d, eps=eps)

    def forward(self, src: torch.Tensor, pos: torch.Tensor, ref: torch.Tensor,
                shapes: list[tuple[int, int]]) -> torch.Tensor:
        src = self.norm1(src + self.self_attn(src + pos, ref, src, shapes))
        return self.norm2(src + self.linear2(F.relu(self.linear1(src))))


def _conv_gn(c_in: int, c_out: int, k: int, relu: bool, eps: float) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, k, padding=k // 2), nn.GroupNorm(32, c_out, eps=eps)]
    if relu:
        layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class PixelDecoder(nn.Module):
    """forward(res2, res3, res4, res5) -> (mask_features, [ms0 (res5 level), ms1, ms2])."""

    def __init__(self, cfg: MaskConfig, channels: list[int], sizes: list[int], eps: float = 1e-5) -> None:
        super().__init__()
        d = cfg.conv_dim
        # level order res5, res4, res3
        self.input_proj = nn.ModuleList(_conv_gn(c, d, 1, False, eps) for c in channels[1:][::-1])
        self.transformer = nn.Module()
        self.transformer.level_embed = nn.Parameter(torch.zeros(3, d))
        self.transformer.encoder = nn.Module()
        self.transformer.encoder.layers = nn.ModuleList(
            EncoderLayer(d, cfg.enc_ffn, 3, cfg.enc_heads, cfg.enc_points, eps) for _ in range(cfg.enc_layers))
        self.mask_features = nn.Conv2d(d, cfg.mask_dim, 1)
        self.adapter_1 = _conv_gn(channels[0], d, 1, True, eps)
        self.layer_1 = _conv_gn(d, d, 3, True, eps)
        self.shapes = [(s, s) for s in sizes[1:][::-1]]
        self.fpn_size = sizes[0]
        self.d = d
        register_sine(self, self.shapes, d // 2)
        derived.register(self, "reference_points", self._reference_points())

    def _reference_points(self) -> torch.Tensor:
        refs = []
        for h, w in self.shapes:
            ry, rx = torch.meshgrid(torch.linspace(0.5, h - 0.5, h, dtype=torch.float32),
                                    torch.linspace(0.5, w - 0.5, w, dtype=torch.float32), indexing="ij")
            refs.append(torch.stack((rx.reshape(-1)[None] / w, ry.reshape(-1)[None] / h), -1))
        return torch.cat(refs, 1)  # [1, S, 2]

    def forward(self, res2: torch.Tensor, res3: torch.Tensor, res4: torch.Tensor,
                res5: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        srcs, poss = [], []
        for lvl, x in enumerate((res5, res4, res3)):
            h, w = self.shapes[lvl]
            srcs.append(self.input_proj[lvl](x).flatten(2).transpose(1, 2))
            pos = level_sine(self, lvl).flatten(2).transpose(1, 2)
            poss.append(pos + self.transformer.level_embed[lvl].reshape(1, 1, -1))
        src = torch.cat(srcs, 1)
        pos = torch.cat(poss, 1)
        ref = derived.get(self, "reference_points")
        ref = ref[:, :, None].expand(1, ref.shape[1], len(self.shapes), 2)
        for layer in self.transformer.encoder.layers:
            src = layer(src, pos, ref, self.shapes)
        outs = []
        start = 0
        for h, w in self.shapes:
            outs.append(src[:, start:start + h * w].transpose(1, 2).reshape(1, self.d, h, w))
            start += h * w
        lateral = self.adapter_1(res2)
        up = F.interpolate(outs[-1], size=(self.fpn_size, self.fpn_size), mode="bilinear", align_corners=False)
        y = self.layer_1(lateral + up)
        return self.mask_features(y), outs
