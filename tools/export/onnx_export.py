"""ONNX export of one graph with every checkpoint weight in external data, laid out by us.

torch.onnx.export runs without constant folding, so initializers keep the module's state_dict names, which
are the official checkpoint keys. We then move each such initializer into `<graph>.onnx.data` at an aligned
offset and record a weight-map entry (key -> file, offset, length, dtype, shape). Config-derived constants
(rotary frequencies, window labels) stay inside the .onnx file. The .onnx bytes do not depend on the weight
values, so a graphs-only export is byte-identical to the full one minus the data file.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import onnx
import torch
from onnx import TensorProto, numpy_helper

OPSET = 17

_ONNX_DTYPE_NAME = {TensorProto.FLOAT: "float32", TensorProto.FLOAT16: "float16", TensorProto.INT64: "int64",
                    TensorProto.INT32: "int32", TensorProto.INT8: "int8", TensorProto.UINT8: "uint8",
                    TensorProto.BOOL: "bool"}


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


def _value_specs(values: Sequence[onnx.ValueInfoProto]) -> list[TensorSpec]:
    out = []
    for v in values:
        tt = v.type.tensor_type
        dims: list[Any] = [d.dim_value if d.HasField("dim_value") else d.dim_param for d in tt.shape.dim]
        out.append(TensorSpec(v.name, _ONNX_DTYPE_NAME[tt.elem_type], dims))
    return out


def _trace(module: torch.nn.Module, example: tuple[torch.Tensor, ...], buf: io.BytesIO, input_names: list[str],
           output_names: list[str], dynamic_axes: dict[str, dict[int, str]]) -> None:
    with torch.no_grad():
        torch.onnx.export(module, example, buf, input_names=input_names, output_names=output_names,
                          dynamic_axes=dynamic_axes, opset_version=OPSET, do_constant_folding=False,
                          export_params=True, keep_initializers_as_inputs=False)


def export_graph(module: torch.nn.Module, example: tuple[torch.Tensor, ...], input_names: list[str],
                 output_names: list[str], dynamic_axes: dict[str, dict[int, str]], out_dir: Path, name: str,
                 target: str, weight_keys: set[str], write_data: bool = True) -> ExportedGraph:
    """Exports `module` to `<out_dir>/<name>.onnx` (+ `.onnx.data` unless `write_data` is False).

    `weight_keys`: initializer names that are checkpoint weights (moved to external data, recorded in the
    weight map); other initializers stay inline.
    """
    buf = io.BytesIO()
    module.eval()
    state = module.state_dict()
    real = {k: v.detach().clone() for k, v in state.items() if k in weight_keys}
    # Distinct placeholder values while tracing: torch.onnx merges initializers with equal values, which would
    # make the graph depend on the weights. Data comes from `real`, so the .onnx bytes never do.
    gen = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for k, v in state.items():
            if k in weight_keys and v.is_floating_point():
                v.copy_(torch.rand(v.shape, generator=gen) + 1.0)
    try:
        _trace(module, example, buf, input_names, output_names, dynamic_axes)
    finally:
        with torch.no_grad():
            for k, v in real.items():
                state[k].copy_(v)
    model = onnx.load_from_string(buf.getvalue())
    data_file = f"{name}.onnx.data"
    offset = 0
    chunks: list[tuple[int, bytes]] = []
    weights: list[dict[str, Any]] = []
    for init in model.graph.initializer:
        if init.name not in weight_keys:
            continue
        if init.data_type != TensorProto.FLOAT:
            raise ValueError(f"{init.name}: only float32 weights are supported, got {init.data_type}")
        arr = real[init.name].numpy().astype("<f4")
        raw = np.ascontiguousarray(arr).tobytes()
        offset = _align(offset, len(raw))
        chunks.append((offset, raw))
        init.ClearField("raw_data")
        init.ClearField("float_data")
        init.ClearField("int64_data")
        init.ClearField("int32_data")
        init.data_location = TensorProto.EXTERNAL
        del init.external_data[:]
        for k, v in (("location", data_file), ("offset", str(offset)), ("length", str(len(raw)))):
            e = init.external_data.add()
            e.key, e.value = k, v
        weights.append({"key": init.name, "target": target, "initializer": init.name, "file": data_file,
                        "offset": offset, "length": len(raw), "dtype": _ONNX_DTYPE_NAME[init.data_type],
                        "shape": list(arr.shape), "transform": {"kind": "cast"}})
        offset += len(raw)
    missing = sorted(set(real) - {w["key"] for w in weights})
    if missing:
        raise ValueError(f"{name}: weights not found as initializers after export: {missing[:5]}")
    total = offset
    (out_dir / f"{name}.onnx").write_bytes(model.SerializeToString())
    if write_data:
        with open(out_dir / data_file, "wb") as f:
            f.truncate(total)
            for off, raw in chunks:
                f.seek(off)
                f.write(raw)
    return ExportedGraph(f"{name}.onnx", data_file, total, _value_specs(model.graph.input),
                         _value_specs(model.graph.output), weights)
