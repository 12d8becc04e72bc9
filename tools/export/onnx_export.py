"""ONNX export of one graph with every checkpoint weight in external data, laid out by us.

The module is traced with `export_params=False` and no constant folding, so every parameter becomes a graph
input named by its state_dict key — the official checkpoint key. We turn each into an initializer whose
bytes live in `<graph>.onnx.data` at an aligned offset, and record a weight-map entry (key -> file, offset,
length, dtype, shape). The traced module holds distinct placeholder values (torch.onnx merges parameters
with equal values, which would make the graph depend on the weights), so the .onnx bytes never depend on the
checkpoint: a graphs-only export is byte-identical to a full one. Data files are written afterwards, straight
from the checkpoint tensors (`write_weight_files`), which is also what a TypeScript converter does.
Config-derived constants (rotary frequencies, shifted-window masks, sine position tables) stay in the .onnx.
Works for graphs whose weights exceed 2 GB (the protobuf never holds weight data).
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import onnx
import torch
from onnx import TensorProto, numpy_helper

from . import derived
from .fp16 import convert_to_fp16
from .quantize import BLOCK, CHANNEL_KIND, KINDS, quantize as quantize_blocks

OPSET = 17

_ONNX_DTYPE_NAME = {TensorProto.FLOAT: "float32", TensorProto.FLOAT16: "float16", TensorProto.INT64: "int64",
                    TensorProto.INT32: "int32", TensorProto.INT8: "int8", TensorProto.UINT8: "uint8",
                    TensorProto.BOOL: "bool"}
_DTYPE_BYTES = {TensorProto.FLOAT: 4, TensorProto.FLOAT16: 2, TensorProto.UINT8: 1, TensorProto.INT8: 1}


def _align(offset: int, nbytes: int) -> int:
    a = 4096 if nbytes >= 65536 else 64
    return (offset + a - 1) // a * a


@dataclass
class TensorSpec:
    name: str
    dtype: str
    shape: list[Any]


@dataclass
class ExportedGraph:
    file: str
    data_file: str
    data_bytes: int
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    weights: list[dict[str, Any]] = field(default_factory=list)
    #: checkpoint key -> the checkpoint tensor's shape (before any quantization): what a converter must find
    source_shapes: dict[str, list[int]] = field(default_factory=dict)


def _value_specs(values: Sequence[onnx.ValueInfoProto]) -> list[TensorSpec]:
    out = []
    for v in values:
        tt = v.type.tensor_type
        dims: list[Any] = [d.dim_value if d.HasField("dim_value") else d.dim_param for d in tt.shape.dim]
        out.append(TensorSpec(v.name, _ONNX_DTYPE_NAME[tt.elem_type], dims))
    return out


def fill_placeholders(module: torch.nn.Module, seed: int = 7) -> None:
    """Distinct, deterministic values in every float parameter/persistent buffer of `module`."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for k, v in module.state_dict().items():
            if v.is_floating_point() and not derived.is_derived(k):
                v.copy_(torch.rand(v.shape, generator=gen) + 1.0)


def export_graph(module: torch.nn.Module, example: tuple[torch.Tensor, ...], input_names: list[str],
                 output_names: list[str], dynamic_axes: dict[str, dict[int, str]], out_dir: Path, name: str,
                 target: str, quantize: str | None = None, accuracy_level: int = 0,
                 fp16: bool = False) -> ExportedGraph:
    """Writes `<out_dir>/<name>.onnx` (no data) and returns its layout. `module`'s values are overwritten.

    `quantize` (a weight-map transform kind of `quantize.KINDS`): every Linear weight consumed as
    MatMul(x, Transpose(W)) becomes a weight-only `com.microsoft.MatMulNBits` (8 or 4 bits, blocks of
    quantize.BLOCK along the input dimension, default zero point), with `accuracy_level` (onnxruntime's
    MatMulNBits attribute: 0 float32 activations, 4 activations quantized to int8 per block; see
    `quantize.ACCURACY_LEVELS`). `quantize` = `quantize.CHANNEL_KIND`: every such Linear becomes a
    `com.microsoft.DynamicQuantizeMatMul` (int8 weights per output channel, activations quantized per tensor at
    run time) with the Linear's bias folded in. `fp16`: weights and arithmetic in float16, inputs and outputs
    float32 (`fp16.convert_to_fp16`).
    """
    if quantize and fp16:
        raise ValueError("fp16 graphs with quantized weights are not supported")
    module.eval()
    fill_placeholders(module)
    state = module.state_dict()
    weight_keys = {k for k in state if not derived.is_derived(k)}
    buf = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        # tracer notes about Python ints and shape inference are expected: shapes are static except T/P/L
        warnings.simplefilter("ignore")
        torch.onnx.export(module, example, buf, input_names=input_names, output_names=output_names,
                          dynamic_axes=dynamic_axes, opset_version=OPSET, do_constant_folding=False,
                          export_params=False)
    model = onnx.load_from_string(buf.getvalue())
    graph = model.graph
    data_file = f"{name}.onnx.data"
    offset = 0
    weights: list[dict[str, Any]] = []

    def add_initializer(key: str, init_name: str, dtype: int, shape: list[int], transform: dict[str, Any]) -> None:
        nonlocal offset
        nbytes = _DTYPE_BYTES[dtype] * int(np.prod(shape, dtype=np.int64))
        offset = _align(offset, nbytes)
        init = TensorProto()
        init.name = init_name
        init.data_type = dtype
        init.dims.extend(shape)
        init.data_location = TensorProto.EXTERNAL
        for k, v in (("location", data_file), ("offset", str(offset)), ("length", str(nbytes))):
            e = init.external_data.add()
            e.key, e.value = k, v
        graph.initializer.append(init)
        weights.append({"key": key, "target": target, "initializer": init_name, "file": data_file,
                        "offset": offset, "length": nbytes, "dtype": _ONNX_DTYPE_NAME[dtype], "shape": shape,
                        "transform": transform})
        offset += nbytes

    # config-derived tensors: small inline initializers (before the fp16 pass, which sees them as constants)
    for inp in list(graph.input):
        if derived.is_derived(inp.name):
            graph.initializer.append(numpy_helper.from_array(state[inp.name].numpy(), inp.name))
            graph.input.remove(inp)
    if quantize == CHANNEL_KIND:
        quantized = _rewrite_dynamic_int8(graph, weight_keys)
    elif quantize:
        quantized = _rewrite_nbits(graph, weight_keys, KINDS[quantize][0], accuracy_level)
    else:
        quantized = {}
    if fp16:
        convert_to_fp16(model, {i.name for i in graph.input if i.name in weight_keys and i.name not in quantized})
    keep_inputs = []
    source_shapes: dict[str, list[int]] = {}
    for inp in graph.input:
        if inp.name not in weight_keys:
            keep_inputs.append(inp)
            continue
        tt = inp.type.tensor_type
        if tt.elem_type not in (TensorProto.FLOAT, TensorProto.FLOAT16):
            raise ValueError(f"{inp.name}: only float weights are supported, got {tt.elem_type}")
        shape = [d.dim_value for d in tt.shape.dim]
        source_shapes[inp.name] = list(state[inp.name].shape)
        if inp.name in quantized and quantize == CHANNEL_KIND:
            n_out, k_in = shape
            q = {"kind": quantize, "zeroPoint": 0}
            add_initializer(inp.name, quantized[inp.name][0], TensorProto.INT8, [k_in, n_out], {**q, "part": "values"})
            add_initializer(inp.name, quantized[inp.name][1], TensorProto.FLOAT, [n_out], {**q, "part": "scales"})
        elif inp.name in quantized:
            assert quantize is not None
            bits, zero_point = KINDS[quantize]
            n_out, k_in = shape
            blocks = k_in // BLOCK
            q = {"kind": quantize, "blockSize": BLOCK, "zeroPoint": zero_point}
            add_initializer(inp.name, quantized[inp.name][0], TensorProto.UINT8, [n_out, blocks, BLOCK * bits // 8],
                            {**q, "part": "values"})
            add_initializer(inp.name, quantized[inp.name][1], TensorProto.FLOAT, [n_out * blocks],
                            {**q, "part": "scales"})
        else:
            add_initializer(inp.name, inp.name, tt.elem_type, shape, {"kind": "cast"})
    if quantized:
        model.opset_import.append(onnx.helper.make_opsetid("com.microsoft", 1))
    missing = sorted(weight_keys - {w["key"] for w in weights})
    if missing:
        raise ValueError(f"{name}: parameters not found as graph inputs after export: {missing[:5]}")
    del graph.input[:]
    graph.input.extend(keep_inputs)
    if [i.name for i in graph.input] != input_names:
        raise ValueError(f"{name}: unexpected graph inputs {[i.name for i in graph.input]}")
    (out_dir / f"{name}.onnx").write_bytes(model.SerializeToString())
    return ExportedGraph(f"{name}.onnx", data_file, offset, _value_specs(graph.input), _value_specs(graph.output),
                         weights, source_shapes)


@dataclass
class _LinearMatMul:
    """MatMul(x, Transpose(W)) of a 2-D weight W [N, K] used by nothing else: how torch exports a Linear."""
    transpose: onnx.NodeProto
    matmul: onnx.NodeProto
    weight: str
    shape: list[int]


def _linear_matmuls(graph: onnx.GraphProto, weight_keys: set[str]
                    ) -> tuple[list[_LinearMatMul], dict[str, list[onnx.NodeProto]], dict[str, list[int]]]:
    """The graph's Linear matmuls, with every value's consumers and the weights' shapes."""
    shapes = {i.name: [d.dim_value for d in i.type.tensor_type.shape.dim] for i in graph.input}
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for n in graph.node:
        for x in n.input:
            consumers.setdefault(x, []).append(n)
    found = []
    for n in graph.node:
        w = n.input[0] if n.op_type == "Transpose" else None
        if w is None or w not in weight_keys or len(shapes.get(w, [])) != 2 or len(consumers.get(w, [])) != 1:
            continue
        users = consumers.get(n.output[0], [])
        if len(users) == 1 and users[0].op_type == "MatMul" and users[0].input[1] == n.output[0]:
            found.append(_LinearMatMul(n, users[0], w, shapes[w]))
    return found, consumers, shapes


def _replace(graph: onnx.GraphProto, new: list[tuple[onnx.NodeProto, onnx.NodeProto]], drop: set[int]) -> None:
    """Inserts each (new node, before node) pair and removes the nodes whose id() is in `drop`."""
    for node, before in new:
        graph.node.insert(list(graph.node).index(before), node)
    kept = [n for n in graph.node if id(n) not in drop]
    del graph.node[:]
    graph.node.extend(kept)


def _rewrite_nbits(graph: onnx.GraphProto, weight_keys: set[str], bits: int,
                   accuracy_level: int) -> dict[str, tuple[str, str]]:
    """Replaces MatMul(x, Transpose(W)) by MatMulNBits(x, W.int<bits>, W.scales) for 2-D weights W, every node
    with the given `accuracy_level` attribute.

    Returns {W: (values initializer name, scales initializer name)}.
    """
    found, _, _ = _linear_matmuls(graph, weight_keys)
    done: dict[str, tuple[str, str]] = {}
    new, drop = [], set()
    for lm in found:
        n_out, k_in = lm.shape
        if k_in % BLOCK:
            continue
        names = (f"{lm.weight}.int{bits}", f"{lm.weight}.scales")
        new.append((onnx.helper.make_node("MatMulNBits", [lm.matmul.input[0], *names], list(lm.matmul.output),
                                          name=f"{lm.matmul.name}/NBits", domain="com.microsoft", K=k_in, N=n_out,
                                          bits=bits, block_size=BLOCK, accuracy_level=accuracy_level), lm.matmul))
        drop.update({id(lm.transpose), id(lm.matmul)})
        done[lm.weight] = names
    _replace(graph, new, drop)
    return done


def _rewrite_dynamic_int8(graph: onnx.GraphProto, weight_keys: set[str]) -> dict[str, tuple[str, str]]:
    """Replaces MatMul(x, Transpose(W)) [+ bias] by DynamicQuantizeMatMul(x, W.int8 [K, N], W.scales [N], -, bias)
    for 2-D weights W; a following Add of a 1-D weight (the Linear's bias) is folded into the node.

    Returns {W: (codes initializer name, scales initializer name)}.
    """
    found, consumers, shapes = _linear_matmuls(graph, weight_keys)
    done: dict[str, tuple[str, str]] = {}
    new, drop = [], set()
    for lm in found:
        mm = lm.matmul
        names = (f"{lm.weight}.int8", f"{lm.weight}.scales")
        inputs, outputs = [mm.input[0], *names], list(mm.output)
        after = consumers.get(mm.output[0], [])
        if len(after) == 1 and after[0].op_type == "Add":
            add = after[0]
            bias = next((x for x in add.input if x != mm.output[0]), None)
            if bias in weight_keys and shapes.get(bias) == [lm.shape[0]] and len(consumers.get(bias, [])) == 1:
                inputs += ["", bias]
                outputs = list(add.output)
                drop.add(id(add))
        new.append((onnx.helper.make_node("DynamicQuantizeMatMul", inputs, outputs, name=f"{mm.name}/DynamicInt8",
                                          domain="com.microsoft"), mm))
        drop.update({id(lm.transpose), id(mm)})
        done[lm.weight] = names
    _replace(graph, new, drop)
    return done


def write_weight_files(out_dir: Path, entries: Sequence[Mapping[str, Any]], state: Mapping[str, torch.Tensor]) -> None:
    """Writes every weight-map entry's bytes (checkpoint tensor cast to the entry dtype) at its offset."""
    by_file: dict[str, list[Mapping[str, Any]]] = {}
    for e in entries:
        by_file.setdefault(e["file"], []).append(e)
    for fname, es in by_file.items():
        size = max(e["offset"] + e["length"] for e in es)
        with open(out_dir / fname, "wb") as f:
            f.truncate(size)
            for e in sorted(es, key=lambda e: e["offset"]):
                t = state[e["key"]]
                if e["transform"]["kind"] == "cast" and list(t.shape) != list(e["shape"]):
                    raise ValueError(f"{e['key']}: checkpoint shape {list(t.shape)} != graph shape {e['shape']}")
                kind = e["transform"]["kind"]
                if kind in KINDS or kind == CHANNEL_KIND:
                    values, scales = quantize_blocks(kind, t, e["transform"].get("blockSize", 0))
                    part = values if e["transform"]["part"] == "values" else scales
                    raw = part.contiguous().numpy().tobytes()
                elif kind == "cast" and e["dtype"] == "float32":
                    raw = t.detach().to(torch.float32).contiguous().numpy().astype("<f4", copy=False).tobytes()
                elif kind == "cast" and e["dtype"] == "float16":
                    raw = to_float16(t, e["key"]).numpy().astype("<f2", copy=False).tobytes()
                else:
                    raise ValueError(f"{e['key']}: unsupported transform {kind} to {e['dtype']}")
                if len(raw) != e["length"]:
                    raise ValueError(f"{e['key']}: {len(raw)} bytes, layout says {e['length']}")
                f.seek(e["offset"])
                f.write(raw)


def to_float16(t: torch.Tensor, what: str) -> torch.Tensor:
    """IEEE round-to-nearest-even float16 of a checkpoint tensor; refuses values that would become infinite."""
    src = t.detach().to(torch.float32)
    half = src.to(torch.float16).contiguous()
    if bool((torch.isfinite(src) & ~torch.isfinite(half)).any()):
        raise ValueError(f"{what}: values outside the float16 range (max |x| {src.abs().max().item():g})")
    return half
