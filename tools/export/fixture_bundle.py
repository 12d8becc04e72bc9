"""Builds a bundle from the parity fixtures, for the ONNX parity tests (never a model).

The official tiny fixture has every SegEarth-R1 weight except the LLM body; the Phi fixture (same hidden size)
supplies the body and the embedding table. Together they make a complete tiny checkpoint whose exported graphs
can be compared, under onnxruntime, with both fixtures' reference tensors. The tokenizer is the generated tiny
one (same vocabulary size as the Phi fixture).

    /usr/bin/python3 -m tools.export.fixture_bundle --official DIR --phi DIR -o OUT [--graphs-only]
        [--precision fp32|fp16] [--llm-weights int8|int4] [--llm-accuracy-level 0-4]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import torch

from . import st
from .bundle import add_precision_options, check_precision_options, precision_kwargs, sha256_file, write_bundle
from .config import config_from_fixture, load_json, phi_from_hf_config
from .tokenizer_tiny import build_tokenizer


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--official", type=Path, required=True)
    ap.add_argument("--phi", type=Path, required=True)
    ap.add_argument("-o", "--out", type=Path, required=True)
    ap.add_argument("--graphs-only", action="store_true")
    add_precision_options(ap)
    args = ap.parse_args(argv)
    check_precision_options(ap, args)
    torch.set_num_threads(1)
    cfg = config_from_fixture(load_json(args.official / "config.json"))
    cfg = replace(cfg, phi=phi_from_hf_config(load_json(args.phi / "config.json")))
    state = {**st.load(args.official / "weights.safetensors"), **st.load(args.phi / "weights.safetensors")}
    tok, _ = build_tokenizer(cfg.phi.vocab_size)
    with tempfile.TemporaryDirectory() as tmp:
        tok_path = Path(tmp) / "tokenizer.json"
        tok_path.write_text(json.dumps(tok, ensure_ascii=False))
        files = [{"name": f"{d.name}/weights.safetensors", "sha256": sha256_file(d / "weights.safetensors")}
                 for d in (args.official, args.phi)]
        write_bundle(cfg=cfg, state=state, tokenizer_json=tok_path, out=args.out, model_id="fixture-test",
                     name="Parity fixture bundle (random weights, NOT a model)", variant="tiny-test",
                     source={"checkpoint": "synthetic", "files": files}, test_fixture=True,
                     graphs_only=args.graphs_only, **precision_kwargs(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
