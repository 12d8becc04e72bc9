"""Reads a downloaded SegEarth-R1 checkpoint folder (Hugging Face layout, transformers 4.36.2).

Weights: `model.safetensors`, sharded `*.safetensors` (+ `model.safetensors.index.json`), or
`pytorch_model.bin` (sharded or not). Config: `config.json` (a PhiConfig plus the LLaVA fields).
Tokenizer: `tokenizer.json` when present, else built from `vocab.json` + `merges.txt` + `added_tokens.json`.
"""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from . import st
from .bundle import sha256_file
from .config import ModelConfig, full_config, load_json, phi_from_hf_config
from .model import EMBED_KEY
from .tokenizer_tiny import EOS_TOKEN, SEG_TOKEN


def weight_files(folder: Path) -> list[Path]:
    for pattern in ("*.safetensors", "pytorch_model*.bin"):
        found = sorted(folder.glob(pattern))
        if found:
            return found
    raise FileNotFoundError(f"{folder}: no *.safetensors or pytorch_model*.bin weight files")


def load_state(folder: Path) -> dict[str, torch.Tensor]:
    """All tensors of the checkpoint, in their stored dtype (bf16 stays bf16 until cast per graph)."""
    state: dict[str, torch.Tensor] = {}
    for f in weight_files(folder):
        if f.suffix == ".safetensors":
            state.update(st.load(f))
        else:
            state.update(torch.load(f, map_location="cpu", weights_only=True))
    return state


def model_config(folder: Path, state: dict[str, torch.Tensor]) -> ModelConfig:
    """Released sizes for the vision/mask parts; LLM sizes from config.json, vocabulary from the table."""
    cfg = full_config()
    phi = phi_from_hf_config(load_json(folder / "config.json"), cfg.phi)
    if EMBED_KEY in state:
        phi = replace(phi, vocab_size=int(state[EMBED_KEY].shape[0]))
    return replace(cfg, phi=phi)


def _byte_level() -> dict[str, Any]:
    return {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}


def tokenizer_json(folder: Path) -> dict[str, Any]:
    """The checkpoint's tokenizer as a tokenizer.json object, with [SEG] checked to be an added token."""
    added_extra: dict[str, int] = {}
    if (folder / "added_tokens.json").exists():
        added_extra = {k: int(v) for k, v in load_json(folder / "added_tokens.json").items()}
    if (folder / "tokenizer.json").exists():
        tok = load_json(folder / "tokenizer.json")
    else:
        vocab = load_json(folder / "vocab.json")
        merges = [ln for ln in (folder / "merges.txt").read_text(encoding="utf-8").splitlines()
                  if ln and not ln.startswith("#version")]
        tok = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": [], "normalizer": None,
               "pre_tokenizer": _byte_level(), "post_processor": _byte_level(), "decoder": _byte_level(),
               "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                         "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "vocab": vocab,
                         "merges": merges}}
        if EOS_TOKEN in vocab:
            added_extra.setdefault(EOS_TOKEN, int(vocab[EOS_TOKEN]))
    present = {t["content"] for t in tok.get("added_tokens", [])}
    for content, i in sorted(added_extra.items(), key=lambda kv: kv[1]):
        if content not in present:
            tok.setdefault("added_tokens", []).append(
                {"id": i, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
                 "normalized": False, "special": True})
    if SEG_TOKEN not in {t["content"] for t in tok.get("added_tokens", [])}:
        raise ValueError(f"{folder}: the tokenizer has no {SEG_TOKEN} added token; is this a SegEarth-R1 checkpoint?")
    return tok


def source_info(folder: Path, name: str) -> dict[str, Any]:
    return {"checkpoint": name, "files": [{"name": f.name, "sha256": sha256_file(f)} for f in weight_files(folder)]}


def guess_variant(folder: Path) -> str:
    n = folder.name.lower()
    if "rrsis" in n:
        return "rrsis-d"
    if "refsegrs" in n:
        return "refsegrs"
    return "earthreason"


def dump_json(obj: Any, path: Path) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")
