"""Graph templates: everything of a bundle that does not depend on the checkpoint's weights, so that the app's
TypeScript converter (src/inference/conversion) can build a bundle from a downloaded checkpoint without Python.

A template folder holds the three `.onnx` graphs (no weight data), `weights.json` (the weight map, with an
empty `unused` list and the embedding entry for the configured vocabulary: the converter rewrites both from
the checkpoint) and `template.json` (docs/MODEL_BUNDLE.md "Graph templates"): the precision profile, the model
configuration, the checkpoint-independent manifest fields, the prompt of every variant, and the checkpoint the
template expects (every tensor's key and shape, the Swin relative position index the graphs recompute).

    /usr/bin/python3 -m tools.export.template -o DIR [--profile fp32|cpu|fp16 | --precision … --llm-weights …]
        [--model-config JSON] [--threads N]
    /usr/bin/python3 -m tools.export.template --all -o models/graph-templates [--profiles fp32,cpu,fp16]
        (npm run make:graph-templates: the shipped templates, one folder per profile, and stamp.json)

No checkpoint is needed: the graphs are traced from placeholder values (tools/export/onnx_export.py), exactly
as a full export traces them, so the files are byte-identical to a `--graphs-only` export of any checkpoint of
the same architecture. `python3 -m tools.export <checkpoint> --graphs-only -o DIR` writes the same template.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any, Mapping

import torch

from . import EXPORTER_VERSION
from .bundle import (TASKS, add_precision_options, check_precision_options, embed_entry, export_graphs,
                     fixed_manifest, precision_kwargs, prompt_chunks, sha256_file)
from .config import ModelConfig, full_config, load_json
from .model import EMBED_KEY
from .onnx_export import ExportedGraph
from .quantize import DEFAULT_ACCURACY_LEVEL
from .swin import WindowAttention

TEMPLATE_FILE = "template.json"
TEMPLATE_FORMAT = 1
#: the shipped profiles (models/graph-templates/<profile>): exporter precision keywords
PROFILES: dict[str, dict[str, Any]] = {
    "fp32": {"precision": "fp32", "llm_weights": None, "image_weights": None},
    "cpu": {"precision": "fp32", "llm_weights": "int8", "image_weights": "int8"},
    "fp16": {"precision": "fp16", "llm_weights": None, "image_weights": None},
}
GRAPH_FILES = ["image.onnx", "llm.onnx", "head.onnx"]


def profile_name(precision: str, llm_weights: str | None, image_weights: str | None) -> str:
    for name, kw in PROFILES.items():
        if kw == {"precision": precision, "llm_weights": llm_weights, "image_weights": image_weights}:
            return name
    return "-".join(x for x in (precision, llm_weights and f"llm-{llm_weights}",
                                image_weights and f"image-{image_weights}") if x)


def write_template_json(out: Path, cfg: ModelConfig, graphs: Mapping[str, ExportedGraph], fixed: dict[str, Any],
                        precision: str, llm_weights: str | None, llm_accuracy_level: int | None,
                        image_weights: str | None) -> dict[str, Any]:
    """Writes `template.json` next to the graphs and weights.json already in `out`."""
    p = cfg.phi
    tensors = [{"key": k, "shape": s} for g in graphs.values() for k, s in g.source_shapes.items()]
    tensors.append({"key": EMBED_KEY, "shape": [p.vocab_size, p.hidden_size]})
    index = WindowAttention._index(cfg.swin.window_size).to(torch.int64).contiguous()
    template = {
        "formatVersion": TEMPLATE_FORMAT,
        "profile": profile_name(precision, llm_weights, image_weights),
        "options": {"precision": precision, "llmWeights": llm_weights, "imageWeights": image_weights,
                    "llmAccuracyLevel": (DEFAULT_ACCURACY_LEVEL if llm_accuracy_level is None else llm_accuracy_level)
                    if llm_weights else None},
        "exporter": {"name": "segearth-tools-export", "version": EXPORTER_VERSION},
        "config": cfg.to_json(),
        "manifest": {**fixed, "prompts": {v: prompt_chunks(v) for v in TASKS}, "referPrefix": " ", "prefixChunks": 1},
        "checkpoint": {
            "embedKey": EMBED_KEY,
            "tensors": tensors,
            "relativePositionIndex": {"suffix": ".attn.relative_position_index", "shape": list(index.shape),
                                      "sha256": hashlib.sha256(index.numpy().astype("<i8").tobytes()).hexdigest()},
        },
        "files": [{"path": f, "bytes": (out / f).stat().st_size, "sha256": sha256_file(out / f)}
                  for f in [*GRAPH_FILES, "weights.json"]],
        "dataFiles": {g.data_file: g.data_bytes for g in graphs.values() if g.weights},
    }
    (out / TEMPLATE_FILE).write_text(json.dumps(template, indent=1) + "\n")
    return template


def write_template(out: Path, cfg: ModelConfig, precision: str = "fp32", llm_weights: str | None = None,
                   llm_accuracy_level: int | None = None, image_weights: str | None = None) -> dict[str, Any]:
    """A template without a checkpoint: graphs, weights.json (no `unused`), template.json."""
    accuracy_level = DEFAULT_ACCURACY_LEVEL if llm_accuracy_level is None else llm_accuracy_level
    out.mkdir(parents=True, exist_ok=True)
    graphs = export_graphs(cfg, out, precision, llm_weights, accuracy_level, image_weights)
    p = cfg.phi
    entries = [w for g in graphs.values() for w in g.weights] + [embed_entry(p.vocab_size, p.hidden_size, precision)]
    (out / "weights.json").write_text(json.dumps({"formatVersion": 1, "unused": [], "entries": entries}, indent=1) + "\n")
    fixed = fixed_manifest(cfg, graphs, precision, llm_weights, accuracy_level, image_weights)
    return write_template_json(out, cfg, graphs, fixed, precision, llm_weights, llm_accuracy_level, image_weights)


#: exporter modules that do not shape a template's bytes (fixtures, parity, probes, the checkpoint reader)
NOT_TEMPLATE_SOURCES = {"__main__.py", "checkpoint.py", "fixture_bundle.py", "nbits_probe.py", "parity.py",
                        "tiny_bundle.py", "tokenizer_tiny.py"}
STAMP_FILE = "stamp.json"


def write_stamp(out: Path) -> None:
    """`stamp.json`: the sha256 of every exporter source that shapes the templates, and the torch/onnx versions
    that wrote them; test/conversion/graphTemplates.test.ts fails when a source changed since."""
    import onnx
    here = Path(__file__).resolve().parent
    sources = {f.name: sha256_file(f) for f in sorted(here.glob("*.py")) if f.name not in NOT_TEMPLATE_SOURCES}
    stamp = {"sources": sources, "ignored": sorted(NOT_TEMPLATE_SOURCES), "torch": torch.__version__,
             "onnx": onnx.__version__, "regenerate": "npm run make:graph-templates"}
    (out / STAMP_FILE).write_text(json.dumps(stamp, indent=1) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m tools.export.template", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-o", "--out", type=Path, required=True)
    ap.add_argument("--profile", choices=sorted(PROFILES), help="a shipped profile (instead of the options below)")
    ap.add_argument("--all", action="store_true", help="write <out>/<profile>/ for every shipped profile, and stamp.json")
    ap.add_argument("--profiles", default=",".join(PROFILES), help="with --all: which profiles (comma separated)")
    add_precision_options(ap)
    ap.add_argument("--model-config", type=Path, help="ModelConfig JSON (default: the released architecture)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    check_precision_options(ap, args)
    torch.set_num_threads(args.threads)
    kw = precision_kwargs(args)
    if args.profile:
        kw = {**kw, **PROFILES[args.profile]}
    cfg = ModelConfig.from_json(load_json(args.model_config)) if args.model_config else full_config()
    if args.all:
        for name in args.profiles.split(","):
            kw = {**precision_kwargs(args), **PROFILES[name]}
            write_template(args.out / name, cfg, **kw)
            print(f"template {name} written to {args.out / name}", flush=True)
        write_stamp(args.out)
        return 0
    write_template(args.out, cfg, **kw)
    print(f"template ({profile_name(kw['precision'], kw['llm_weights'], kw['image_weights'])}) written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
