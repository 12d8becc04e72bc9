"""Phi (Phi-1.5) decoder body with an explicit KV cache, for ONNX export.

Matches transformers' PhiModel: per layer, one LayerNorm feeds both a self-attention (q/k/v projections,
partial rotary embedding on the first `rotary_dim` channels, softmax in float32, `dense` output) and an MLP
(fc1 -> gelu_new -> fc2); output = attention + MLP + residual; a final LayerNorm. Keys enter the cache after
the rotary embedding, exactly as transformers caches them.

Attribute paths equal the checkpoint keys under `model.` (`model.layers.N.self_attn.q_proj.weight`, ...).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .config import PhiConfig


def gelu_new(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class PhiAttention(nn.Module):
    def __init__(self, cfg: PhiConfig) -> None:
        super().__init__()
        h = cfg.hidden_size
        self.heads, self.kv_heads, self.head_dim, self.rot = cfg.num_heads, cfg.num_kv_heads, cfg.head_dim, cfg.rotary_dim
        self.q_proj = nn.Linear(h, self.heads * self.head_dim)
        self.k_proj = nn.Linear(h, self.kv_heads * self.head_dim)
        self.v_proj = nn.Linear(h, self.kv_heads * self.head_dim)
        self.dense = nn.Linear(self.heads * self.head_dim, h)

    def _rope(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        xr, xp = x[..., :self.rot], x[..., self.rot:]
        return torch.cat((xr * cos + _rotate_half(xr) * sin, xp), dim=-1)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, past_k: torch.Tensor,
                past_v: torch.Tensor, allowed: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        t = x.shape[1]
        q = self.q_proj(x).reshape(1, t, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).reshape(1, t, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).reshape(1, t, self.kv_heads, self.head_dim).transpose(1, 2)
        q = self._rope(q, cos, sin)
        k = self._rope(k, cos, sin)
        k_all = torch.cat((past_k, k), dim=2)
        v_all = torch.cat((past_v, v), dim=2)
        kk, vv = k_all, v_all
        if self.kv_heads != self.heads:
            rep = self.heads // self.kv_heads
            kk = kk.repeat_interleave(rep, dim=1)
            vv = vv.repeat_interleave(rep, dim=1)
        scores = (q.float() @ kk.float().transpose(2, 3)) / math.sqrt(self.head_dim)
        scores = scores.masked_fill(~allowed, float("-inf"))
        probs = scores.softmax(dim=-1).to(vv.dtype)
        out = (probs @ vv).transpose(1, 2).reshape(1, t, self.heads * self.head_dim)
        return self.dense(out), k_all, v_all


class PhiMLP(nn.Module):
    def __init__(self, cfg: PhiConfig) -> None:
        super().__init__()
        self.fc1 = nn.Linear(cfg.hidden_size, cfg.intermediate_size)
        self.fc2 = nn.Linear(cfg.intermediate_size, cfg.hidden_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(gelu_new(self.fc1(x)))


class PhiLayer(nn.Module):
    def __init__(self, cfg: PhiConfig) -> None:
        super().__init__()
        self.input_layernorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.self_attn = PhiAttention(cfg)
        self.mlp = PhiMLP(cfg)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, pk: torch.Tensor, pv: torch.Tensor,
                allowed: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        h = self.input_layernorm(x)
        attn, k, v = self.self_attn(h, cos, sin, pk, pv, allowed)
        return attn + self.mlp(h) + x, k, v


class PhiBody(nn.Module):
    """`model.layers.*` + `model.final_layernorm`; the embedding table is kept outside the graph."""

    def __init__(self, cfg: PhiConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.layers = nn.ModuleList(PhiLayer(cfg) for _ in range(cfg.num_layers))
        self.final_layernorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        inv = 1.0 / (cfg.rope_theta ** (torch.arange(0, cfg.rotary_dim, 2, dtype=torch.int64).float() / cfg.rotary_dim))
        self.register_buffer("inv_freq", inv, persistent=False)

    def forward(self, inputs_embeds: torch.Tensor, position_ids: torch.Tensor,
                past: list[tuple[torch.Tensor, torch.Tensor]]) -> tuple[torch.Tensor, list[tuple[torch.Tensor, torch.Tensor]]]:
        """inputs_embeds [1, T, H], position_ids [1, T] int64, past [(k, v)] each [1, kvh, P, hd]."""
        t = inputs_embeds.shape[1]
        p = past[0][0].shape[2]
        freqs = position_ids.float()[:, :, None] * self.inv_freq[None, None, :]  # [1, T, rot/2]
        emb = torch.cat((freqs, freqs), dim=-1)[:, None]  # [1, 1, T, rot]
        cos, sin = emb.cos(), emb.sin()
        qi = torch.arange(t, dtype=torch.int64)[:, None] + p
        kj = torch.arange(p + t, dtype=torch.int64)[None, :]
        allowed = (kj <= qi)[None, None]  # [1, 1, T, P+T]
        x = inputs_embeds
        present = []
        for i, layer in enumerate(self.layers):
            x, k, v = layer(x, cos, sin, past[i][0], past[i][1], allowed)
            present.append((k, v))
        return self.final_layernorm(x), present

    def empty_past(self, dtype: torch.dtype = torch.float32) -> list[tuple[torch.Tensor, torch.Tensor]]:
        c = self.cfg
        z = torch.zeros(1, c.num_kv_heads, 0, c.head_dim, dtype=dtype)
        return [(z, z) for _ in range(c.num_layers)]
