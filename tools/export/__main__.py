"""Export a downloaded SegEarth-R1 checkpoint to a model bundle.

    /usr/bin/python3 -m tools.export <checkpoint-dir> -o models/segearth-r1-earthreason [--variant earthreason]
        [--id ID] [--name NAME] [--graphs-only] [--precision fp32|fp16] [--llm-weights int8|int4]
        [--llm-accuracy-level 0-4] [--threads N] [--model-config JSON]

`--graphs-only` writes the three .onnx graphs and weights.json but no weight data (see docs/MODEL_BUNDLE.md,
"Weight map"). Needs torch, numpy, onnx, and node (the prefix token ids are computed with the runtime's own
tokenizer library).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import torch

from .bundle import TASKS, add_precision_options, check_precision_options, precision_kwargs, write_bundle
from .checkpoint import dump_json, guess_variant, load_state, model_config, source_info, tokenizer_json
from .config import ModelConfig, load_json


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m tools.export", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint", type=Path, help="folder with config.json, weights and tokenizer files")
    ap.add_argument("-o", "--out", type=Path, required=True)
    ap.add_argument("--variant", choices=sorted(k for k in TASKS if k != "tiny-test"))
    ap.add_argument("--id")
    ap.add_argument("--name")
    ap.add_argument("--source-name", help="recorded as source.checkpoint (default: earth-insights/<folder name>)")
    ap.add_argument("--graphs-only", action="store_true")
    add_precision_options(ap)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--model-config", type=Path,
                    help="ModelConfig JSON overriding the released sizes (tests; e.g. models/tiny-test/config.json)")
    args = ap.parse_args(argv)
    check_precision_options(ap, args)
    torch.set_num_threads(args.threads)
    folder: Path = args.checkpoint
    if not (folder / "config.json").exists():
        print(f"error: {folder} has no config.json (expected a Hugging Face checkpoint folder)", file=sys.stderr)
        return 2
    variant = args.variant or guess_variant(folder)
    print(f"reading {folder} ...", flush=True)
    state = load_state(folder)
    cfg = ModelConfig.from_json(load_json(args.model_config)) if args.model_config else model_config(folder, state)
    with tempfile.TemporaryDirectory() as tmp:
        tok_path = Path(tmp) / "tokenizer.json"
        dump_json(tokenizer_json(folder), tok_path)
        print(f"exporting to {args.out} (variant {variant}) ...", flush=True)
        write_bundle(cfg=cfg, state=state, tokenizer_json=tok_path, out=args.out,
                     model_id=args.id or args.out.name, name=args.name or f"SegEarth-R1 ({variant})",
                     variant=variant, source=source_info(folder, args.source_name or f"earth-insights/{folder.name}"),
                     graphs_only=args.graphs_only, **precision_kwargs(args))
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
