"""Model sizes for our SegEarth-R1 definition.

One dataclass covers every size the official code hard-codes or reads from its yaml / PhiConfig, so the same
modules build the released model (`full_config`), the official tiny fixture (`config_from_fixture`) and the
tiny test bundle (`tiny_config`).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class SwinConfig:
    embed_dim: int = 128
    depths: tuple[int, ...] = (2, 2, 18, 2)
    num_heads: tuple[int, ...] = (4, 8, 16, 32)
    window_size: int = 12
    patch_size: int = 4
    mlp_ratio: float = 4.0

    @property
    def channels(self) -> list[int]:
        """Output channels of res2..res5."""
        return [self.embed_dim * 2**i for i in range(len(self.depths))]


@dataclass(frozen=True)
class PhiConfig:
    hidden_size: int = 2048
    num_layers: int = 24
    num_heads: int = 32
    num_kv_heads: int = 32
    intermediate_size: int = 8192
    vocab_size: int = 50297
    partial_rotary_factor: float = 0.5
    rope_theta: float = 10000.0
    layer_norm_eps: float = 1e-5
    max_positions: int = 2048

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_heads

    @property
    def rotary_dim(self) -> int:
        return int(self.partial_rotary_factor * self.head_dim)


@dataclass(frozen=True)
class MaskConfig:
    # description projection (llava_phi.segearth_r1.__init__)
    additional_dim: int = 512
    dproj_heads: int = 8
    dproj_dim_head: int = 64
    dproj_ff_mult: float = 1.0
    # pixel decoder
    conv_dim: int = 256
    mask_dim: int = 256
    enc_layers: int = 6
    enc_heads: int = 8
    enc_points: int = 4
    enc_ffn: int = 1024
    # masked-attention decoder
    hidden_dim: int = 256
    dec_heads: int = 8
    dec_ffn: int = 2048
    dec_layers: int = 9


@dataclass(frozen=True)
class ModelConfig:
    swin: SwinConfig = field(default_factory=SwinConfig)
    phi: PhiConfig = field(default_factory=PhiConfig)
    mask: MaskConfig = field(default_factory=MaskConfig)
    image_size: int = 1024
    image_tokens: int = 64
    norm_eps: float = 1e-5

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_json(d: dict[str, Any]) -> "ModelConfig":
        sw = dict(d["swin"])
        sw["depths"] = tuple(sw["depths"])
        sw["num_heads"] = tuple(sw["num_heads"])
        return ModelConfig(
            swin=SwinConfig(**sw),
            phi=PhiConfig(**d["phi"]),
            mask=MaskConfig(**d["mask"]),
            image_size=d["image_size"],
            image_tokens=d["image_tokens"],
            norm_eps=d["norm_eps"],
        )


def full_config() -> ModelConfig:
    """The released SegEarth-R1 (Swin-B, Phi-1.5, 9 decoder layers)."""
    return ModelConfig()


def phi_from_hf_config(cfg: dict[str, Any], base: PhiConfig | None = None) -> PhiConfig:
    """Reads the Phi sizes from a transformers config.json (4.36 or 5.x layout)."""
    rope = cfg.get("rope_parameters") or {}
    base = base or PhiConfig()
    heads = cfg.get("num_attention_heads", base.num_heads)
    return replace(
        base,
        hidden_size=cfg.get("hidden_size", base.hidden_size),
        num_layers=cfg.get("num_hidden_layers", base.num_layers),
        num_heads=heads,
        num_kv_heads=cfg.get("num_key_value_heads") or heads,
        intermediate_size=cfg.get("intermediate_size", base.intermediate_size),
        vocab_size=cfg.get("vocab_size", base.vocab_size),
        partial_rotary_factor=cfg.get("partial_rotary_factor", rope.get("partial_rotary_factor", base.partial_rotary_factor)),
        rope_theta=cfg.get("rope_theta", rope.get("rope_theta", base.rope_theta)),
        layer_norm_eps=cfg.get("layer_norm_eps", base.layer_norm_eps),
        max_positions=cfg.get("max_position_embeddings", base.max_positions),
    )


def config_from_fixture(fixture_config: dict[str, Any]) -> ModelConfig:
    """Builds the config of the official tiny fixture from its config.json."""
    vt = fixture_config["vision_tower"]
    dp = fixture_config["description_projection"]
    pd = fixture_config["pixel_decoder"]
    pr = fixture_config["predictor"]
    llm = fixture_config["llm"]
    swin = SwinConfig(
        embed_dim=vt["embed_dim"], depths=tuple(vt["depths"]), num_heads=tuple(vt["num_heads"]),
        window_size=vt["window_size"], patch_size=vt["patch_size"], mlp_ratio=vt["mlp_ratio"],
    )
    mask = MaskConfig(
        additional_dim=dp["additional_dim"], dproj_heads=dp["d_layers"]["heads"],
        dproj_dim_head=dp["d_layers"]["dim_head"], dproj_ff_mult=dp["d_layers"]["ff_mult"],
        conv_dim=pd["conv_dim"], mask_dim=pd["mask_dim"], enc_layers=pd["enc_layers"], enc_heads=pd["n_heads"],
        enc_points=pd["n_points"], enc_ffn=pd["dim_feedforward"],
        hidden_dim=pr["hidden_dim"], dec_heads=pr["nheads"], dec_ffn=pr["dim_feedforward"], dec_layers=pr["num_layers"],
    )
    # The fixture has no LLM body; only its hidden size matters (Phi fixture set A sizes otherwise).
    phi = PhiConfig(hidden_size=llm["hidden_size"], num_layers=3, num_heads=4, num_kv_heads=4,
                    intermediate_size=256, vocab_size=320)
    return ModelConfig(swin=swin, phi=phi, mask=mask, image_size=fixture_config["input"]["image_size"][0],
                       image_tokens=fixture_config["mm_projector"]["tokens"])


def tiny_config() -> ModelConfig:
    """Sizes of the tiny test bundle: the official tiny fixture's sizes + the Phi fixture's LLM."""
    return ModelConfig(
        swin=SwinConfig(embed_dim=16, depths=(2, 2, 2, 2), num_heads=(2, 4, 8, 16)),
        phi=PhiConfig(hidden_size=64, num_layers=3, num_heads=4, num_kv_heads=4, intermediate_size=256, vocab_size=320),
        mask=MaskConfig(additional_dim=32, dproj_heads=8, dproj_dim_head=4, conv_dim=32, mask_dim=16, enc_layers=2,
                        hidden_dim=32, dec_ffn=64, dec_layers=3),
    )


def load_json(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        return json.load(f)
