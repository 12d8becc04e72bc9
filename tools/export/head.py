"""Description projection + masked-attention decoder (the question-dependent, image-cached part).

Description (official `text_projector`, `origin_SEG_token_projector`, `local_project`, `d_layers`,
`SEG_token_projector`): the mean of the refer rows' final hidden states is projected twice; one copy is the
single latent of a one-layer Perceiver (D_Projector) attending over local_project(res5 tokens) + itself; the
two are concatenated and projected to the decoder width -> q_desc. The official code feeds [mean; rows] as
latents, but only latent 0 enters K/V and only latent 0 is returned, so the mean alone gives the same result.

Decoder (official `predictor`, forward_woconcat with no seg_query): the single query q_desc, query_pos = 0;
per layer i: attention mask from the previous logits (bilinear to level i % 3's size, masked where
sigmoid < 0.5, fully masked rows unmasked), cross-attention, self-attention, FFN (post-norm), then the
prediction head (decoder_norm -> 3-layer MLP -> dot with mask_features).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .config import MaskConfig
from .pixel_decoder import level_sine, register_sine


class PerceiverAttention(nn.Module):
    def __init__(self, dim: int, dim_head: int, heads: int, eps: float) -> None:
        super().__init__()
        self.heads, self.scale = heads, dim_head ** -0.5
        inner = dim_head * heads
        self.norm_media = nn.LayerNorm(dim, eps=eps)
        self.norm_latents = nn.LayerNorm(dim, eps=eps)
        self.to_q = nn.Linear(dim, inner, bias=False)
        self.to_kv = nn.Linear(dim, 2 * inner, bias=False)
        self.to_out = nn.Linear(inner, dim, bias=False)

    def forward(self, x: torch.Tensor, latent: torch.Tensor) -> torch.Tensor:
        """x [1, N, dim] media, latent [1, 1, dim] -> [1, 1, dim]."""
        x = self.norm_media(x)
        latent = self.norm_latents(latent)
        q = self.to_q(latent)
        k, v = self.to_kv(torch.cat((x, latent), dim=1)).chunk(2, dim=-1)
        h = self.heads

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.reshape(1, t.shape[1], h, -1).transpose(1, 2)  # [1, h, n, d]

        q, k, v = split(q) * self.scale, split(k), split(v)
        sim = q @ k.transpose(-1, -2)
        sim = sim - sim.amax(dim=-1, keepdim=True)
        out = sim.softmax(dim=-1) @ v
        return self.to_out(out.transpose(1, 2).reshape(1, 1, -1))


class DProjector(nn.Module):
    """Official D_Projector with depth 1 and a single latent; attribute paths match `d_layers.*`."""

    def __init__(self, dim: int, dim_head: int, heads: int, ff_mult: float, eps: float) -> None:
        super().__init__()
        inner = int(dim * ff_mult)
        ff = nn.Sequential(nn.LayerNorm(dim, eps=eps), nn.Linear(dim, inner, bias=False), nn.GELU(),
                           nn.Linear(inner, dim, bias=False))
        self.layers = nn.ModuleList([nn.ModuleList([PerceiverAttention(dim, dim_head, heads, eps), ff])])
        self.norm = nn.LayerNorm(dim, eps=eps)

    def forward(self, latent: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        for attn, ff in self.layers:  # type: ignore[misc]
            latent = attn(x, latent) + latent
            latent = ff(latent) + latent
        return self.norm(latent)


class MHA(nn.Module):
    """nn.MultiheadAttention's parameters and math (seq-first, batch 1, bool mask: True = blocked)."""

    def __init__(self, d: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.in_proj_weight = nn.Parameter(torch.zeros(3 * d, d))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * d))
        self.out_proj = nn.Linear(d, d)

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """q [Lq, 1, d], k/v [Lk, 1, d], mask [heads, Lq, Lk] bool -> [Lq, 1, d]."""
        d = q.shape[-1]
        wq, wk, wv = self.in_proj_weight.chunk(3)
        bq, bk, bv = self.in_proj_bias.chunk(3)
        hd = d // self.heads

        def heads(t: torch.Tensor) -> torch.Tensor:
            return t.reshape(t.shape[0], self.heads, hd).transpose(0, 1)  # [h, L, hd]

        qh = heads(F.linear(q, wq, bq)) / math.sqrt(hd)
        kh = heads(F.linear(k, wk, bk))
        vh = heads(F.linear(v, wv, bv))
        att = qh @ kh.transpose(-1, -2)
        if mask is not None:
            att = att.masked_fill(mask, float("-inf"))
        out = att.softmax(-1) @ vh  # [h, Lq, hd]
        return self.out_proj(out.transpose(0, 1).reshape(q.shape[0], 1, d))


class CrossAttentionLayer(nn.Module):
    def __init__(self, d: int, heads: int, eps: float) -> None:
        super().__init__()
        self.multihead_attn = MHA(d, heads)
        self.norm = nn.LayerNorm(d, eps=eps)

    def forward(self, tgt: torch.Tensor, mem: torch.Tensor, mask: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        return self.norm(tgt + self.multihead_attn(tgt, mem + pos, mem, mask))


class SelfAttentionLayer(nn.Module):
    def __init__(self, d: int, heads: int, eps: float) -> None:
        super().__init__()
        self.self_attn = MHA(d, heads)
        self.norm = nn.LayerNorm(d, eps=eps)

    def forward(self, tgt: torch.Tensor) -> torch.Tensor:
        return self.norm(tgt + self.self_attn(tgt, tgt, tgt, None))


class FFNLayer(nn.Module):
    def __init__(self, d: int, ffn: int, eps: float) -> None:
        super().__init__()
        self.linear1 = nn.Linear(d, ffn)
        self.linear2 = nn.Linear(ffn, d)
        self.norm = nn.LayerNorm(d, eps=eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x + self.linear2(F.relu(self.linear1(x))))


class MaskMLP(nn.Module):
    def __init__(self, d: int, out: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, out)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.layers[0](x))
        x = F.relu(self.layers[1](x))
        return self.layers[2](x)


class Predictor(nn.Module):
    """The masked-attention decoder; attribute paths match `predictor.*` (used parameters only)."""

    def __init__(self, cfg: MaskConfig, eps: float, level_sizes: list[int]) -> None:
        super().__init__()
        d = cfg.hidden_dim
        self.heads = cfg.dec_heads
        register_sine(self, [(s, s) for s in level_sizes], d // 2)
        self.transformer_self_attention_layers = nn.ModuleList(
            SelfAttentionLayer(d, cfg.dec_heads, eps) for _ in range(cfg.dec_layers))
        self.transformer_cross_attention_layers = nn.ModuleList(
            CrossAttentionLayer(d, cfg.dec_heads, eps) for _ in range(cfg.dec_layers))
        self.transformer_ffn_layers = nn.ModuleList(FFNLayer(d, cfg.dec_ffn, eps) for _ in range(cfg.dec_layers))
        self.decoder_norm = nn.LayerNorm(d, eps=eps)
        self.level_embed = nn.Embedding(3, d)
        self.mask_embed = MaskMLP(d, cfg.mask_dim)

    def prediction(self, query: torch.Tensor, mask_features: torch.Tensor,
                   size: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        """query [1, 1, d] (Q, B, C) -> (logits [1, 1, H, W], attention mask [heads, 1, h*w] bool)."""
        emb = self.mask_embed(self.decoder_norm(query).transpose(0, 1))  # [1, 1, mask_dim]
        c = mask_features.shape[1]
        logits = (emb.reshape(1, c) @ mask_features.reshape(c, -1)).reshape(1, 1, *mask_features.shape[-2:])
        small = F.interpolate(logits, size=size, mode="bilinear", align_corners=False)
        blocked = small.sigmoid().flatten(2) < 0.5  # [1, 1, hw]
        return logits, blocked.expand(self.heads, 1, blocked.shape[-1])

    def forward(self, ms: list[torch.Tensor], mask_features: torch.Tensor,
                q_desc: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
        """Returns (final logits, per-stage logits before each layer, query after each layer)."""
        srcs, poss, sizes = [], [], []
        for i, x in enumerate(ms):
            h, w = x.shape[-2], x.shape[-1]
            sizes.append((h, w))
            poss.append(level_sine(self, i).flatten(2).permute(2, 0, 1))
            srcs.append((x.flatten(2) + self.level_embed.weight[i][None, :, None]).permute(2, 0, 1))
        out = q_desc.permute(1, 0, 2)
        logits, mask = self.prediction(out, mask_features, sizes[0])
        stages, queries = [logits], []
        n = len(self.transformer_ffn_layers)
        for i in range(n):
            lvl = i % 3
            full = mask.all(dim=-1, keepdim=True)
            mask = mask & ~full
            out = self.transformer_cross_attention_layers[i](out, srcs[lvl], mask, poss[lvl])
            out = self.transformer_self_attention_layers[i](out)
            out = self.transformer_ffn_layers[i](out)
            queries.append(out)
            logits, mask = self.prediction(out, mask_features, sizes[(i + 1) % 3])
            if i < n - 1:
                stages.append(logits)
        return logits, stages, queries


class Description(nn.Module):
    """refer_hidden [1, L, H] + res5 -> q_desc [1, 1, hidden]; attribute paths match the official top level."""

    def __init__(self, hidden: int, res5_channels: int, cfg: MaskConfig, eps: float) -> None:
        super().__init__()
        a = cfg.additional_dim
        self.text_projector = nn.Linear(hidden, a)
        self.origin_SEG_token_projector = nn.Linear(hidden, a)
        self.local_project = nn.Linear(res5_channels, a)
        self.SEG_token_projector = nn.Linear(2 * a, cfg.hidden_dim)
        self.d_layers = DProjector(a, cfg.dproj_dim_head, cfg.dproj_heads, cfg.dproj_ff_mult, eps)

    def forward(self, refer_hidden: torch.Tensor, res5: torch.Tensor) -> torch.Tensor:
        pooled = refer_hidden.mean(dim=1, keepdim=True)  # [1, 1, H]
        origin = self.origin_SEG_token_projector(pooled)
        latent = self.text_projector(pooled)
        local = self.local_project(res5.flatten(2).transpose(1, 2))
        dproj = self.d_layers(latent, local)
        return self.SEG_token_projector(torch.cat([origin, dproj], dim=-1))
