"""Writes a model bundle folder (docs/MODEL_BUNDLE.md, schema in src/inference/bundle/manifest.ts)."""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, Mapping

import torch

from . import EXPORTER_VERSION, st
from .config import ModelConfig
from .model import EMBED_KEY, HeadGraph, ImageGraph, LlmGraph, is_unused, load_weights
from .swin import WindowAttention
from .onnx_export import OPSET, ExportedGraph, export_graph, to_float16, write_weight_files
from .quantize import ACCURACY_LEVELS, CHANNEL_KIND, DEFAULT_ACCURACY_LEVEL, KINDS, dequantize, int8_activations, quantize

REPO_ROOT = Path(__file__).resolve().parents[2]

SYSTEM = ("You are a helpful language and vision assistant. You are able to understand the visual content that "
          "the user provides, and assist the user with a variety of tasks using natural language.")
TASKS = {"earthreason": "Reasoning Segmentation", "rrsis-d": "Referring Segmentation",
         "refsegrs": "Referring Segmentation", "tiny-test": "Reasoning Segmentation"}

#: --llm-weights choice -> (weight-map transform kind, manifest precision of the llm graph)
LLM_WEIGHTS = {"int8": ("quantize-int8-block", "int8-weight-only"), "int4": ("quantize-int4-block", "int4-weight-only")}
#: --image-weights choice -> (weight-map transform kind, manifest precision of the image graph)
IMAGE_WEIGHTS = {"int8": (CHANNEL_KIND, "int8-dynamic")}
PRECISIONS = ("fp32", "fp16")

KV = {"pastKey": "past_key_values.{i}.key", "pastValue": "past_key_values.{i}.value",
      "presentKey": "present.{i}.key", "presentValue": "present.{i}.value"}


def add_precision_options(ap: argparse.ArgumentParser) -> None:
    """--precision and --llm-weights (with the --llm-int8 / --llm-int4 shorthands) on an exporter command line."""
    ap.add_argument("--precision", choices=PRECISIONS, default="fp32",
                    help="fp32 (default; CPU and GPU) or fp16: weights and arithmetic of every graph in float16, "
                         "float32 inputs/outputs; for GPUs (WebGPU, CUDA)")
    ap.add_argument("--llm-weights", choices=sorted(LLM_WEIGHTS),
                    help="weight-only quantized llm for CPUs (com.microsoft MatMulNBits, blocks of 32): "
                         "int8 ~3.5x, int4 ~6.4x smaller llm weights")
    ap.add_argument("--llm-int8", dest="llm_weights", action="store_const", const="int8", help="= --llm-weights int8")
    ap.add_argument("--llm-int4", dest="llm_weights", action="store_const", const="int4", help="= --llm-weights int4")
    ap.add_argument("--image-weights", choices=sorted(IMAGE_WEIGHTS),
                    help="int8: the image graph's Linear layers as com.microsoft.DynamicQuantizeMatMul (int8 weights "
                         "per output channel, activations quantized per tensor at run time); for CPUs: ~1.5x faster "
                         "image pass on a CPU with VNNI, ~3.5x smaller Linear weights (docs/MODEL_BUNDLE.md)")
    ap.add_argument("--llm-accuracy-level", type=int, choices=sorted(ACCURACY_LEVELS),
                    help="with --llm-weights: MatMulNBits accuracy_level, the precision of the activations inside "
                         f"the quantized matmuls ({', '.join(f'{k} {v}' for k, v in ACCURACY_LEVELS.items())}; "
                         f"default {DEFAULT_ACCURACY_LEVEL}: int8 activations per block of 32, onnxruntime's fast CPU "
                         "kernels; below 4, 8-bit weights take a much slower path)")


def check_precision_options(ap: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Rejects option combinations that add_precision_options' options do not allow."""
    if args.llm_weights and args.precision != "fp32":
        ap.error("--llm-weights/--llm-int8/--llm-int4 are for CPU bundles: not with --precision fp16")
    if args.image_weights and args.precision != "fp32":
        ap.error("--image-weights int8 is for CPU bundles: not with --precision fp16")
    if args.llm_accuracy_level is not None and not args.llm_weights:
        ap.error("--llm-accuracy-level applies to quantized llm weights: give --llm-weights int8|int4 too")


def precision_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """write_bundle's precision keywords from add_precision_options' parsed options."""
    return {"precision": args.precision, "llm_weights": args.llm_weights,
            "llm_accuracy_level": args.llm_accuracy_level, "image_weights": args.image_weights}


def prompt_chunks(variant: str) -> list[dict[str, str]]:
    """The official evaluation prompt (conv_llava_phi, LLAMA_2 style), split at the placeholders; it ends at
    <refer> because nothing after it can influence the [SEG] state (causal attention)."""
    return [
        {"kind": "text", "text": f"[INST] <<SYS>>\n{SYSTEM}\n<</SYS>>\n\nThis is an image "},
        {"kind": "image"},
        {"kind": "text", "text": f", Please doing {TASKS[variant]} according to the following instruction:\n"},
        {"kind": "refer"},
    ]


def tokenize(tokenizer_json: Path, texts: list[str]) -> list[list[int]]:
    """Encodes with the runtime's tokenizer library (node + @huggingface/tokenizers)."""
    res = subprocess.run(["node", str(REPO_ROOT / "tools/export/tokenize.mjs"), str(tokenizer_json)],
                         input=json.dumps(texts), capture_output=True, text=True, check=True, cwd=REPO_ROOT)
    return json.loads(res.stdout)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _graph_spec(g: ExportedGraph, precision: str, accuracy_level: int | None = None) -> dict[str, Any]:
    spec = {"file": g.file, "externalData": [g.data_file] if g.weights else [], "opset": OPSET,
            "precision": precision}
    if accuracy_level is not None:
        spec["accuracyLevel"] = accuracy_level
    return {**spec, "inputs": [asdict(t) for t in g.inputs], "outputs": [asdict(t) for t in g.outputs]}


def export_graphs(cfg: ModelConfig, out: Path, precision: str = "fp32", llm_weights: str | None = None,
                  llm_accuracy_level: int = DEFAULT_ACCURACY_LEVEL,
                  image_weights: str | None = None) -> dict[str, ExportedGraph]:
    """Exports image/llm/head graphs (no weight data) into `out`, one fresh module at a time.

    `precision` "fp16": every graph computes in float16 (float32 interface); `llm_weights` "int8"/"int4":
    the llm's Linear weights are block-quantized (MatMulNBits with `llm_accuracy_level`); `image_weights`
    "int8": the image graph's Linear layers are DynamicQuantizeMatMul (per-channel int8 weights)."""
    fp16 = precision == "fp16"
    p, m, s = cfg.phi, cfg.mask, cfg.image_size
    c5 = cfg.swin.channels[-1]
    g: dict[str, ExportedGraph] = {}
    g["image"] = export_graph(ImageGraph(cfg), (torch.zeros(1, 3, s, s),), ["pixel_values"],
                              ["image_tokens", "res5", "mask_features", "ms0", "ms1", "ms2"], {}, out, "image", "image",
                              fp16=fp16, quantize=IMAGE_WEIGHTS[image_weights][0] if image_weights else None)
    past = []
    past_names, present_names, dyn = [], [], {"inputs_embeds": {1: "T"}, "position_ids": {1: "T"},
                                               "last_hidden_state": {1: "T"}}
    for i in range(p.num_layers):
        for kind in ("Key", "Value"):
            past.append(torch.zeros(1, p.num_kv_heads, 2, p.head_dim))
            pn, qn = KV[f"past{kind}"].format(i=i), KV[f"present{kind}"].format(i=i)
            past_names.append(pn)
            present_names.append(qn)
            dyn[pn] = {2: "P"}
            dyn[qn] = {2: "P+T"}
    g["llm"] = export_graph(LlmGraph(cfg), (torch.zeros(1, 3, p.hidden_size), torch.arange(2, 5)[None], *past),
                            ["inputs_embeds", "position_ids", *past_names], ["last_hidden_state", *present_names],
                            dyn, out, "llm", "llm", fp16=fp16,
                            quantize=LLM_WEIGHTS[llm_weights][0] if llm_weights else None,
                            accuracy_level=llm_accuracy_level)
    q = s // cfg.swin.patch_size
    g["head"] = export_graph(
        HeadGraph(cfg),
        (torch.zeros(1, 4, p.hidden_size), torch.zeros(1, c5, s // 32, s // 32), torch.zeros(1, m.mask_dim, q, q),
         torch.zeros(1, m.conv_dim, s // 32, s // 32), torch.zeros(1, m.conv_dim, s // 16, s // 16),
         torch.zeros(1, m.conv_dim, s // 8, s // 8)),
        ["refer_hidden", "res5", "mask_features", "ms0", "ms1", "ms2"], ["mask_logits_256", "q_desc"],
        {"refer_hidden": {1: "L"}}, out, "head", "head", fp16=fp16)
    return g


def prefix_cache(llm: LlmGraph, embed: torch.Tensor, ids: list[int]) -> dict[str, torch.Tensor]:
    body = llm.model
    with torch.no_grad():
        x = embed[torch.tensor(ids, dtype=torch.long)][None].float()
        _, present = body(x, torch.arange(len(ids))[None], body.empty_past())
    out: dict[str, torch.Tensor] = {}
    for i, (k, v) in enumerate(present):
        out[KV["pastKey"].format(i=i)] = k
        out[KV["pastValue"].format(i=i)] = v
    return out


def _as_bundled(state: Mapping[str, torch.Tensor], entries: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
    """The checkpoint as the bundle stores it (quantized weights dequantized, float16 ones rounded), for the
    prefix cache: it must come from the weights the llm graph computes with."""
    out = dict(state)
    for e in entries:
        kind = e["transform"]["kind"]
        if kind in KINDS and e["transform"]["part"] == "values":
            out[e["key"]] = dequantize(kind, *quantize(kind, state[e["key"]], e["transform"]["blockSize"]))
        elif kind == "cast" and e["dtype"] == "float16":
            out[e["key"]] = to_float16(state[e["key"]], e["key"]).to(torch.float32)
    return out


def _int8_activation_hooks(module: torch.nn.Module, entries: list[dict[str, Any]]) -> None:
    """For accuracy_level 4: every Linear whose weight the graph runs as MatMulNBits sees its input through
    `int8_activations`, as onnxruntime computes it, so that the prefix cache is what the llm graph computes."""
    blocks = {e["key"]: e["transform"]["blockSize"] for e in entries
              if e["transform"]["kind"] in KINDS and e["transform"]["part"] == "values"}
    for name, mod in module.named_modules():
        block = blocks.get(f"{name}.weight")
        if block is not None:
            if not isinstance(mod, torch.nn.Linear):
                raise TypeError(f"{name}: a quantized weight outside a Linear ({type(mod).__name__})")
            mod.register_forward_pre_hook(lambda _m, args, b=block: (int8_activations(args[0], b), *args[1:]))
            del blocks[f"{name}.weight"]
    if blocks:
        raise ValueError(f"quantized weights without a Linear in the llm module: {sorted(blocks)[:5]}")


def _check_derived(cfg: ModelConfig, state: Mapping[str, torch.Tensor]) -> None:
    """Tensors we recompute from the config must equal the checkpoint's copies."""
    index = WindowAttention._index(cfg.swin.window_size)
    for key, value in state.items():
        if key.endswith(".attn.relative_position_index") and not torch.equal(value.to(index.dtype), index):
            raise ValueError(f"{key}: checkpoint value differs from the one derived from the window size")


def seg_token_id(tokenizer: dict[str, Any]) -> int:
    for t in tokenizer.get("added_tokens", []):
        if t["content"] == "[SEG]":
            return int(t["id"])
    vocab = tokenizer.get("model", {}).get("vocab", {})
    if "[SEG]" in vocab:
        return int(vocab["[SEG]"])
    raise ValueError("tokenizer.json has no [SEG] token: not a SegEarth-R1 tokenizer")


BUNDLE_FILES = ["image.onnx", "image.onnx.data", "llm.onnx", "llm.onnx.data", "head.onnx", "head.onnx.data",
                "embed_tokens.bin", "prefix_kv.safetensors", "tokenizer.json", "weights.json"]


def embed_entry(vocab_size: int, hidden_size: int, precision: str) -> dict[str, Any]:
    """The weight-map entry of the embedding table (the last entry of weights.json)."""
    fp16 = precision == "fp16"
    return {"key": EMBED_KEY, "target": "embeddings", "file": "embed_tokens.bin", "offset": 0,
            "length": vocab_size * hidden_size * (2 if fp16 else 4), "dtype": "float16" if fp16 else "float32",
            "shape": [vocab_size, hidden_size], "transform": {"kind": "cast"}}


def fixed_manifest(cfg: ModelConfig, graphs: Mapping[str, ExportedGraph], precision: str, llm_weights: str | None,
                   accuracy_level: int, image_weights: str | None) -> dict[str, Any]:
    """The manifest fields that depend only on the architecture and the graphs, not on a checkpoint."""
    p = cfg.phi
    return {
        "image": {"size": cfg.image_size, "channels": "RGB", "mean": [123.675, 116.28, 103.53],
                  "std": [58.395, 57.12, 57.375],
                  "letterbox": {"resize": "longest-side", "interpolation": "bilinear", "pad": "center", "padValue": 0}},
        "architecture": {"hiddenSize": p.hidden_size, "numLayers": p.num_layers, "numHeads": p.num_heads,
                         "numKeyValueHeads": p.num_kv_heads, "headDim": p.head_dim,
                         "imageTokens": cfg.image_tokens, "maskSize": cfg.image_size // cfg.swin.patch_size,
                         "maskThreshold": 0, "maxPositions": p.max_positions},
        "graphs": {k: _graph_spec(g, LLM_WEIGHTS[llm_weights][1], accuracy_level) if k == "llm" and llm_weights
                   else _graph_spec(g, IMAGE_WEIGHTS[image_weights][1]) if k == "image" and image_weights
                   else _graph_spec(g, precision) for k, g in graphs.items()},
        "embeddings": {"file": "embed_tokens.bin", "dtype": "float16" if precision == "fp16" else "float32",
                       "shape": [p.vocab_size, p.hidden_size]},
        "kvCache": {**KV, "layout": "batch,heads,seq,headDim", "dtype": "float32"},
    }


def write_bundle(*, cfg: ModelConfig, state: Mapping[str, torch.Tensor], tokenizer_json: Path, out: Path,
                 model_id: str, name: str, variant: str, source: dict[str, Any], test_fixture: bool = False,
                 graphs_only: bool = False, precision: str = "fp32", llm_weights: str | None = None,
                 llm_accuracy_level: int | None = None, image_weights: str | None = None) -> dict[str, Any]:
    """Writes the bundle into `out` (created; existing bundle files are replaced). Returns the manifest.

    `precision`: "fp32" or "fp16" (all graphs and the embedding table in float16; for GPUs). `llm_weights`:
    None, "int8" or "int4" (weight-only quantized llm; for CPUs; not combined with fp16). `llm_accuracy_level`:
    the MatMulNBits accuracy_level of a quantized llm (None: DEFAULT_ACCURACY_LEVEL), recorded in the manifest.
    `image_weights`: None or "int8" (the image graph's Linear layers with per-channel int8 weights and dynamically
    quantized activations; for CPUs; not combined with fp16)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if llm_weights is not None and llm_weights not in LLM_WEIGHTS:
        raise ValueError(f"llm_weights must be one of {sorted(LLM_WEIGHTS)}, got {llm_weights!r}")
    if llm_weights and precision != "fp32":
        raise ValueError("weight-only int8/int4 llm weights are for CPUs: combine them with fp32 graphs only")
    if llm_accuracy_level is not None and not llm_weights:
        raise ValueError("llm_accuracy_level applies to quantized llm weights only")
    if image_weights is not None and image_weights not in IMAGE_WEIGHTS:
        raise ValueError(f"image_weights must be one of {sorted(IMAGE_WEIGHTS)}, got {image_weights!r}")
    if image_weights and precision != "fp32":
        raise ValueError("int8 image weights are for CPUs: combine them with fp32 graphs only")
    accuracy_level = DEFAULT_ACCURACY_LEVEL if llm_accuracy_level is None else llm_accuracy_level
    if accuracy_level not in ACCURACY_LEVELS:
        raise ValueError(f"llm_accuracy_level must be one of {sorted(ACCURACY_LEVELS)}, got {accuracy_level!r}")
    out.mkdir(parents=True, exist_ok=True)
    graphs = export_graphs(cfg, out, precision, llm_weights, accuracy_level, image_weights)
    p = cfg.phi
    if EMBED_KEY in state:  # the table's rows, not config.json's vocab_size, decide (model_config does the same)
        p = replace(p, vocab_size=int(state[EMBED_KEY].shape[0]))
    entries = [w for g in graphs.values() for w in g.weights] + [embed_entry(p.vocab_size, p.hidden_size, precision)]
    missing = [e["key"] for e in entries if e["key"] not in state]
    if missing:
        raise KeyError(f"checkpoint lacks {len(missing)} tensors the graphs need, e.g. {missing[:5]}")
    exported = {e["key"] for e in entries}
    unused = sorted(k for k in state if k not in exported)
    unexpected = [k for k in unused if not is_unused(k)]
    if unexpected:
        print(f"warning: {len(unexpected)} checkpoint tensors are used by no graph (listed as unused in "
              f"weights.json), e.g. {unexpected[:5]}", file=sys.stderr)
    _check_derived(cfg, state)
    weight_map = {"formatVersion": 1, "unused": unused, "entries": entries}
    (out / "weights.json").write_text(json.dumps(weight_map, indent=1) + "\n")
    fixed = fixed_manifest(cfg, graphs, precision, llm_weights, accuracy_level, image_weights)
    if graphs_only:
        from .template import write_template_json  # template builds on this module
        write_template_json(out, cfg, graphs, fixed, precision, llm_weights, llm_accuracy_level, image_weights)
        return weight_map

    write_weight_files(out, entries, state)
    bundled = _as_bundled(state, entries)
    embed = bundled[EMBED_KEY]
    llm = LlmGraph(cfg).eval()
    load_weights(llm, bundled)
    if llm_weights and accuracy_level == 4:
        _int8_activation_hooks(llm, entries)
    shutil.copyfile(tokenizer_json, out / "tokenizer.json")
    tok = json.loads((out / "tokenizer.json").read_text(encoding="utf-8"))
    seg_id = seg_token_id(tok)
    chunks = prompt_chunks(variant)
    prefix_ids = tokenize(out / "tokenizer.json", [chunks[0]["text"]])[0]
    st.save(prefix_cache(llm, embed, prefix_ids), out / "prefix_kv.safetensors")
    del llm
    manifest = {
        "formatVersion": 1,
        "id": model_id,
        "name": name,
        "testFixture": test_fixture,
        "source": {**source, "exporter": {"name": "segearth-tools-export", "version": EXPORTER_VERSION}},
        "variant": variant,
        "prompt": {"chunks": chunks, "referPrefix": " ", "prefixChunks": 1},
        "tokenizer": {"file": "tokenizer.json", "vocabSize": p.vocab_size, "addSpecialTokens": False,
                      "specialTokens": {"seg": {"content": "[SEG]", "id": seg_id}}},
        **{k: fixed[k] for k in ("image", "architecture", "graphs")},
        "embeddings": {"file": "embed_tokens.bin", "dtype": fixed["embeddings"]["dtype"],
                       "shape": [p.vocab_size, p.hidden_size]},
        "kvCache": fixed["kvCache"],
        "prefixCache": {"file": "prefix_kv.safetensors", "tokenIds": prefix_ids, "length": len(prefix_ids)},
        "weightMap": "weights.json",
        "files": [{"path": f, "bytes": (out / f).stat().st_size, "sha256": sha256_file(out / f)} for f in BUNDLE_FILES],
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest
