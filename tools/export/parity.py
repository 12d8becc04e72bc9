"""Parity of our PyTorch definition against a reference fixture folder.

    /usr/bin/python3 -m tools.export.parity <fixture-dir> [--threads N] [--json out.json]

Two layouts are recognised by their config.json:
- a Phi fixture (`model_type: phi`): transformers' PhiModel outputs; tolerance max abs diff < 1e-4; also checks
  that running the body in three KV-cached chunks equals a single pass (< 1e-5);
- a SegEarth-R1 official fixture (`fixture: segearth-r1-official-*`): every intermediate; tolerances from its
  README: features atol 1e-4 + rtol 1e-4, mask logits atol 5e-4, binary-mask disagreements only where
  |logit| < 1e-3.
Prints one line per tensor and exits 1 when any tensor is out of tolerance.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from . import st
from .config import config_from_fixture, load_json, phi_from_hf_config, ModelConfig
from .model import HeadGraph, ImageGraph, LlmGraph, load_weights


@dataclass
class Check:
    name: str
    max_abs: float
    ok: bool
    rule: str


def compare(name: str, ours: torch.Tensor, ref: torch.Tensor, atol: float, rtol: float = 0.0) -> Check:
    ours = ours.detach().to(torch.float64).reshape(ref.shape)
    ref = ref.to(torch.float64)
    diff = (ours - ref).abs()
    ok = bool((diff <= atol + rtol * ref.abs()).all())
    return Check(name, float(diff.max()), ok, f"atol {atol:g}" + (f" + rtol {rtol:g}" if rtol else ""))


def phi_parity(folder: Path) -> list[Check]:
    cfg = ModelConfig(phi=phi_from_hf_config(load_json(folder / "config.json")))
    weights = st.load(folder / "weights.safetensors")
    io = st.load(folder / "io.safetensors")
    llm = LlmGraph(cfg).eval()
    load_weights(llm, weights)
    embed = weights["model.embed_tokens.weight"]
    body = llm.model
    checks = []
    with torch.no_grad():
        x = io["inputs_embeds"]
        t = x.shape[1]
        pos = torch.arange(t)[None]
        last, _ = body(x, pos, body.empty_past())
        checks.append(compare("last_hidden_from_embeds", last, io["last_hidden_from_embeds"], 1e-4))
        ids = io["input_ids"]
        last_ids, _ = body(embed[ids[0]][None], pos, body.empty_past())
        checks.append(compare("last_hidden_from_ids", last_ids, io["last_hidden_from_ids"], 1e-4))
        # chunked == single pass (prefix / middle / tail), through the KV cache
        cuts = [0, t // 3, (2 * t) // 3, t]
        past = body.empty_past()
        parts = []
        for a, b in zip(cuts[:-1], cuts[1:]):
            out, past = body(x[:, a:b], pos[:, a:b], past)
            parts.append(out)
        checks.append(compare("chunked_vs_single_pass", torch.cat(parts, 1), last, 1e-5))
    return checks


def official_parity(folder: Path) -> list[Check]:
    fcfg = load_json(folder / "config.json")
    cfg = config_from_fixture(fcfg)
    weights = st.load(folder / "weights.safetensors")
    io = st.load(folder / "io.safetensors")
    image = ImageGraph(cfg).eval()
    head = HeadGraph(cfg).eval()
    load_weights(image, weights)
    load_weights(head, weights)
    feat_tol = dict(atol=1e-4, rtol=1e-4)
    checks: list[Check] = []
    with torch.no_grad():
        f = image.features(io["pixel_values"])
        for k in ["res2", "res3", "res4", "res5", "image_tokens", "mask_features", "ms0", "ms1", "ms2"]:
            checks.append(compare(k, f[k], io[k], **feat_tol))
        # description path, fed with the reference's inputs so that each stage is checked on its own
        rows = io["refer_embedding_indices_expanded"][0].nonzero().flatten()
        refer_hidden = io["llm_last_hidden"][:, rows]
        checks.append(compare("refer_hidden", refer_hidden, io["refer_hidden"], 0.0))
        pooled = refer_hidden.mean(dim=1)
        checks.append(compare("desc_pooled", pooled, io["desc_pooled"], **feat_tol))
        checks.append(compare("desc_origin_proj", head.origin_SEG_token_projector(pooled[:, None]),
                              io["desc_origin_proj"], **feat_tol))
        checks.append(compare("desc_text_proj", head.text_projector(io["desc_return_all"][None]),
                              io["desc_text_proj"], **feat_tol))
        local = head.local_project(io["res5"].flatten(2).transpose(1, 2))
        checks.append(compare("local_vision_proj", local, io["local_vision_proj"], **feat_tol))
        dproj = head.d_layers(head.text_projector(pooled[:, None]), local)
        checks.append(compare("desc_dproj", dproj, io["desc_dproj"], **feat_tol))
        q = head.describe(refer_hidden, io["res5"])
        checks.append(compare("q_desc", q, io["q_desc"], **feat_tol))
        q = head.describe(refer_hidden, f["res5"])
        checks.append(compare("q_desc (own res5)", q, io["q_desc"], **feat_tol))
        # decoder on the reference features (isolates it), then end to end on ours
        ms_ref = [io["ms0"], io["ms1"], io["ms2"]]
        logits, stages, queries = head.predictor(ms_ref, io["mask_features"], io["q_desc"])
        checks.append(compare("decoder_queries", torch.stack(queries), io["decoder_queries"], **feat_tol))
        checks.append(compare("decoder_aux_mask_logits", torch.cat(stages), io["decoder_aux_mask_logits"], 5e-4))
        checks.append(compare("mask_logits_256", logits, io["mask_logits_256"], 5e-4))
        up = F.interpolate(logits, size=io["mask_logits_1024"].shape[-2:], mode="bilinear", align_corners=False)
        checks.append(compare("mask_logits_1024", up, io["mask_logits_1024"], 5e-4))
        c = io["edge_mask_features_offset"]
        e_logits, e_stages, _ = head.predictor(ms_ref, io["mask_features"] + c, io["q_desc"])
        checks.append(compare("edge_decoder_aux_mask_logits", torch.cat(e_stages), io["edge_decoder_aux_mask_logits"], 5e-4))
        checks.append(compare("edge_mask_logits_256", e_logits, io["edge_mask_logits_256"], 5e-4))
        end_logits, end_q = head(refer_hidden, f["res5"], f["mask_features"], f["ms0"], f["ms1"], f["ms2"])
        checks.append(compare("mask_logits_256 (end to end)", end_logits, io["mask_logits_256"], 5e-4))
        end_up = F.interpolate(end_logits, size=(1024, 1024), mode="bilinear", align_corners=False)
        ref_up = io["mask_logits_1024"]
        flips = (end_up > 0) != (ref_up > 0)
        bad = int((flips & (ref_up.abs() >= 1e-3)).sum())
        checks.append(Check(f"binary mask 1024 (end to end): {int(flips.sum())} flips", float(bad), bad == 0,
                            "flips only where |logit| < 1e-3"))
    return checks


def run(folder: Path) -> list[Check]:
    cfg = load_json(folder / "config.json")
    if cfg.get("model_type") == "phi":
        return phi_parity(folder)
    if str(cfg.get("fixture", "")).startswith("segearth-r1-official"):
        return official_parity(folder)
    raise SystemExit(f"{folder}: unrecognised fixture layout (config.json has neither model_type=phi nor fixture)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("fixture", type=Path)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", type=Path, help="also write the results as JSON")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    checks = run(args.fixture)
    width = max(len(c.name) for c in checks)
    for c in checks:
        print(f"{'ok  ' if c.ok else 'FAIL'} {c.name:<{width}}  max|diff| {c.max_abs:.3e}  ({c.rule})")
    failed = [c for c in checks if not c.ok]
    print(f"{len(checks) - len(failed)}/{len(checks)} within tolerance")
    if args.json:
        args.json.write_text(json.dumps([c.__dict__ for c in checks], indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
