"""The three exported graphs as PyTorch modules whose parameter names equal the official checkpoint keys.

- `ImageGraph`: pixel_values -> image_tokens, res5, mask_features, ms0, ms1, ms2 (question independent).
- `LlmGraph`: inputs_embeds + position_ids + past KV -> last_hidden_state + present KV.
- `HeadGraph`: refer_hidden + res5 + mask_features + ms0..ms2 -> mask_logits_256, q_desc.
"""
from __future__ import annotations

import fnmatch
from typing import Mapping

import torch
from torch import nn

from . import derived
from .config import ModelConfig
from .connector import CompressionConnector
from .head import Description, Predictor
from .phi import PhiBody
from .pixel_decoder import PixelDecoder
from .swin import SwinTransformer

#: Checkpoint keys that inference never reads (training-only queries/heads, the LM head, the text embedding
#: table which is exported separately as `embed_tokens.bin`).
UNUSED_PATTERNS = [
    "seg_query", "lm_head.*", "predictor.query_feat.*", "predictor.query_embed.*", "predictor.SEG_query_embed.*",
    "predictor.new_query_embed.*", "predictor.SEG_proj.*", "predictor.CLASS_proj.*", "predictor.class_embed.*",
    "seg_query_projector.*",
    # recomputed from the window size; load_weights checks that the checkpoint holds the same values
    "*.attn.relative_position_index",
]
EMBED_KEY = "model.embed_tokens.weight"


def is_unused(key: str) -> bool:
    return any(fnmatch.fnmatchcase(key, p) for p in UNUSED_PATTERNS)


class ImageGraph(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.model = nn.Module()
        self.model.vision_tower = SwinTransformer(cfg.swin, cfg.image_size, cfg.norm_eps)
        self.model.mm_projector = CompressionConnector(cfg.swin.channels[-1], cfg.phi.hidden_size,
                                                       cfg.image_size // 64, cfg.norm_eps)
        self.pixel_decoder = PixelDecoder(cfg.mask, cfg.swin.channels, self.model.vision_tower.sizes, cfg.norm_eps)

    def features(self, pixel_values: torch.Tensor) -> dict[str, torch.Tensor]:
        res2, res3, res4, res5 = self.model.vision_tower(pixel_values)
        tokens = self.model.mm_projector(res5)
        mask_features, ms = self.pixel_decoder(res2, res3, res4, res5)
        return {"res2": res2, "res3": res3, "res4": res4, "res5": res5, "image_tokens": tokens,
                "mask_features": mask_features, "ms0": ms[0], "ms1": ms[1], "ms2": ms[2]}

    def forward(self, pixel_values: torch.Tensor) -> tuple[torch.Tensor, ...]:
        f = self.features(pixel_values)
        return f["image_tokens"], f["res5"], f["mask_features"], f["ms0"], f["ms1"], f["ms2"]


class LlmGraph(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.model = PhiBody(cfg.phi)

    def forward(self, inputs_embeds: torch.Tensor, position_ids: torch.Tensor, *past_flat: torch.Tensor) -> tuple[torch.Tensor, ...]:
        past = [(past_flat[2 * i], past_flat[2 * i + 1]) for i in range(len(past_flat) // 2)]
        last, present = self.model(inputs_embeds, position_ids, past)
        flat: list[torch.Tensor] = []
        for k, v in present:
            flat += [k, v]
        return (last, *flat)


class HeadGraph(Description):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__(cfg.phi.hidden_size, cfg.swin.channels[-1], cfg.mask, cfg.norm_eps)
        self.cfg = cfg
        s = cfg.image_size
        self.predictor = Predictor(cfg.mask, cfg.norm_eps, [s // 32, s // 16, s // 8])

    def forward(self, refer_hidden: torch.Tensor, res5: torch.Tensor, mask_features: torch.Tensor,  # type: ignore[override]
                ms0: torch.Tensor, ms1: torch.Tensor, ms2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        q = self.describe(refer_hidden, res5)
        logits, _, _ = self.predictor([ms0, ms1, ms2], mask_features, q)
        return logits, q

    def describe(self, refer_hidden: torch.Tensor, res5: torch.Tensor) -> torch.Tensor:
        return Description.forward(self, refer_hidden, res5)


def load_weights(module: nn.Module, state: Mapping[str, torch.Tensor], *, strict: bool = True) -> list[str]:
    """Copies checkpoint tensors into `module` by key (cast to the parameter dtype). Returns keys used.

    With `strict`, every parameter/persistent buffer of the module must be present in `state`.
    """
    own = {k: v for k, v in module.state_dict().items() if not derived.is_derived(k)}
    used: list[str] = []
    missing = []
    with torch.no_grad():
        for name, target in own.items():
            if name not in state:
                missing.append(name)
                continue
            src = state[name]
            if tuple(src.shape) != tuple(target.shape):
                raise ValueError(f"{name}: checkpoint shape {tuple(src.shape)} != model shape {tuple(target.shape)}")
            target.copy_(src.to(target.dtype))
            used.append(name)
    if strict and missing:
        raise KeyError(f"checkpoint lacks {len(missing)} tensors, e.g. {missing[:5]}")
    return used
