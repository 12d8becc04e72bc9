"""float16 version of a traced fp32 graph: weights and arithmetic in float16, inputs and outputs float32.

A small, self-contained graph pass (no onnxconverter-common). It runs on the traced graph while the
checkpoint weights are still graph inputs, and decides for every node whether it computes in float16 or
float32:

1. **Activation-dependent** float tensors are the float graph inputs (real inputs and weights) and every float
   output of a node that has an activation-dependent float input. Everything else — computations from the
   configuration and from integer inputs: rotary angles from `position_ids`, sine position tables, Swin window
   masks, deformable reference points — stays float32: those are cheap and precision-sensitive (a rotary
   angle of 200 rad has a float16 spacing of 0.125 rad). So does arithmetic on weights alone (a level
   embedding plus a position table): onnxruntime folds it once when the session loads; nodes that only move
   values (`LAYOUT_OPS`: the Transpose of a Linear weight) follow the weights into float16.
2. An activation-dependent node computes in **float16** unless its op type is in `FP32_OPS` (normalisations,
   Softmax, reductions: large dynamic range or long accumulations), it is not an ai.onnx op, or it belongs to
   an **attention-score path**: a MatMul of two activations (q @ kᵀ) and the element-wise/reshaping nodes
   between it and a Softmax (scale, relative-position bias, masks). Phi's reference implementation upcasts
   exactly these to float32 (q·k overflows float16 in Phi-2); we do it for every attention of the model.
3. Float inputs of a node are converted to the node's precision: constants (Constant nodes, inline
   initializers) get a converted copy, anything else a `Cast`. Input slots that ONNX requires to be float32
   whatever the node's type (Resize `roi`/`scales`) stay float32; Cast/Shape/Size take any type.
   `Cast(to=float)` nodes in float16 become `Cast(to=float16)`.
4. A weight is stored as float16 when some float16 node reads it, else as float32 (e.g. LayerNorm scale and
   bias); a float32 reader of a float16 weight gets a `Cast`.
5. Float graph inputs stay float32 (a `Cast` to float16 in front of their float16 readers); float graph
   outputs produced in float16 are renamed `<name>/fp16` and a final `Cast` restores `<name>` as float32. So the
   graph's interface, KV cache included, is exactly the fp32 graph's.

The result is type-checked with ONNX strict shape inference. onnxruntime's CPU provider runs such graphs by
computing nodes it has no float16 kernel for in float32 between Casts, so every node output is still rounded
to float16: a fair check of accuracy, not of speed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FLOAT, FLOAT16 = TensorProto.FLOAT, TensorProto.FLOAT16

#: ops that compute in float32 even on float16 activations (a Cast on each side)
FP32_OPS = frozenset({
    "LayerNormalization", "InstanceNormalization", "GroupNormalization", "BatchNormalization",
    "Softmax", "LogSoftmax", "ReduceMean", "ReduceSum", "ReduceSumSquare", "ReduceProd", "ReduceL2",
    "ReduceLogSumExp", "CumSum",
})
#: input slots that keep float32 whatever the node computes in (ONNX type constraints)
FP32_INPUT_SLOTS = {"Resize": frozenset({1, 2})}
#: ops that accept any input type (no conversion of their inputs)
ANY_INPUT_OPS = frozenset({"Cast", "Shape", "Size"})
#: ops that only move or select values: a weight read through them keeps float16 storage even when no
#: activation is involved yet (Transpose of a Linear weight, Gather from a position-bias table)
LAYOUT_OPS = frozenset({"Transpose", "Reshape", "Unsqueeze", "Squeeze", "Flatten", "Gather", "Slice", "Concat",
                        "Expand", "Identity", "Split", "Tile"})
#: nodes allowed between an attention MatMul and its Softmax
_SCORE_PATH_OPS = frozenset({"Div", "Mul", "Add", "Sub", "Where", "Reshape", "Transpose", "Unsqueeze", "Squeeze",
                             "Cast"})


@dataclass
class Fp16Report:
    fp16_nodes: int = 0
    fp32_nodes: int = 0
    casts: int = 0
    fp16_weights: set[str] = field(default_factory=set)
    attention_paths: int = 0


def _types(model: onnx.ModelProto) -> dict[str, int]:
    inferred = onnx.shape_inference.infer_shapes(model)
    g = inferred.graph
    out: dict[str, int] = {}
    for v in [*g.input, *g.output, *g.value_info]:
        out[v.name] = v.type.tensor_type.elem_type
    for init in g.initializer:
        out[init.name] = init.data_type
    for n in g.node:
        if n.op_type == "Constant":
            for a in n.attribute:
                if a.name == "value":
                    out[n.output[0]] = a.t.data_type
    return out


def _constant_value(node: onnx.NodeProto) -> np.ndarray | None:
    for a in node.attribute:
        if a.name == "value":
            return numpy_helper.to_array(a.t)
    return None


def _to_fp16(values: np.ndarray, what: str) -> np.ndarray:
    half = values.astype(np.float16)
    if np.any(np.isfinite(values) & ~np.isfinite(half)):
        raise ValueError(f"{what}: value outside the float16 range ({np.abs(values[np.isfinite(values)]).max():g})")
    return half


def _attention_nodes(nodes: list[onnx.NodeProto], producer: dict[str, onnx.NodeProto], act: set[str],
                     weights: set[str]) -> tuple[set[int], int]:
    """ids of the nodes on q @ kᵀ -> ... -> Softmax paths (the Softmax itself is in FP32_OPS anyway)."""

    def is_weightish(name: str) -> bool:
        p = producer.get(name)
        return name in weights or (p is not None and p.op_type == "Transpose" and p.input[0] in weights)

    marked: set[int] = set()
    paths = 0
    for sm in nodes:
        if sm.op_type != "Softmax":
            continue
        found: set[int] = set()

        def walk(name: str, path: list[onnx.NodeProto], depth: int) -> None:
            p = producer.get(name)
            if p is None or depth > 12:
                return
            if p.op_type == "MatMul":
                if all(x in act and not is_weightish(x) for x in p.input):
                    found.update(id(n) for n in [*path, p])
                return
            if p.op_type not in _SCORE_PATH_OPS:
                return
            for x in p.input:
                if x in act:
                    walk(x, [*path, p], depth + 1)

        walk(sm.input[0], [], 0)
        if found:
            paths += 1
            marked |= found
    return marked, paths


def convert_to_fp16(model: onnx.ModelProto, weights: set[str], keep_fp32: frozenset[str] = FP32_OPS,
                    attention_fp32: bool = True) -> Fp16Report:
    """Converts `model` in place. `weights` are float graph inputs holding checkpoint weights (their storage
    type is decided here: the caller reads it back from the graph input's elem_type)."""
    g = model.graph
    types = _types(model)
    nodes = list(g.node)
    inits = {i.name: i for i in g.initializer}
    const_nodes = {n.output[0]: n for n in nodes if n.op_type == "Constant"}
    producer = {o: n for n in nodes for o in n.output}
    graph_inputs = {i.name for i in g.input}
    report = Fp16Report()

    # 1. activation-dependent float tensors; `live`: those that depend on a real input, not only on weights
    act = {i.name for i in g.input if types.get(i.name) == FLOAT}
    live = act - weights
    dependent: set[int] = set()
    for n in nodes:
        if n.op_type == "Constant":
            continue
        floats = [x for x in n.input if types.get(x) == FLOAT]
        if not any(x in act for x in floats):
            continue
        outs = [o for o in n.output if types.get(o) == FLOAT]
        act.update(outs)
        if any(x in live for x in floats):
            live.update(outs)
        elif n.op_type not in LAYOUT_OPS:
            continue  # arithmetic on weights alone: float32, folded by onnxruntime when the session loads
        dependent.add(id(n))

    # 2. node precision
    score_nodes, report.attention_paths = _attention_nodes(nodes, producer, act, weights) if attention_fp32 \
        else (set(), 0)
    half: set[int] = {id(n) for n in nodes if id(n) in dependent and n.domain in ("", "ai.onnx")
                      and n.op_type not in keep_fp32 and id(n) not in score_nodes}
    for n in nodes:
        if n.op_type != "Constant":
            if id(n) in half:
                report.fp16_nodes += 1
            else:
                report.fp32_nodes += 1

    def wants(n: onnx.NodeProto, slot: int) -> int | None:
        """The float type node `n` needs at input `slot`, or None when any type is fine / not a float."""
        x = n.input[slot]
        if not x or types.get(x) != FLOAT or n.op_type in ANY_INPUT_OPS:
            return None
        if id(n) not in half or slot in FP32_INPUT_SLOTS.get(n.op_type, ()):
            return FLOAT
        return FLOAT16

    # 4. weight storage
    readers: dict[str, list[int | None]] = {}
    for n in nodes:
        for i, x in enumerate(n.input):
            if x in weights:
                readers.setdefault(x, []).append(wants(n, i))
    report.fp16_weights = {w for w, r in readers.items() if FLOAT16 in r}

    # 5a. float outputs produced in float16 get an internal name
    out_names = {o.name for o in g.output}
    renamed: dict[str, str] = {}
    for n in nodes:
        if id(n) in half:
            for i, o in enumerate(n.output):
                if o in out_names and types.get(o) == FLOAT:
                    renamed[o] = f"{o}/fp16"
                    n.output[i] = renamed[o]
    for n in nodes:
        for i, x in enumerate(n.input):
            if x in renamed:
                n.input[i] = renamed[x]
    for new in renamed.values():
        types[new] = FLOAT
    producer = {o: n for n in nodes for o in n.output}

    def current(name: str) -> int:
        """Type of `name` after conversion (float tensors only)."""
        if name in weights:
            return FLOAT16 if name in report.fp16_weights else FLOAT
        if name in graph_inputs or name in inits or name in const_nodes:
            return FLOAT
        p = producer.get(name)
        return FLOAT16 if p is not None and id(p) in half else FLOAT

    # 3. rewrite
    converted: dict[tuple[str, int], str] = {}
    new_nodes: list[onnx.NodeProto] = []
    new_inits: list[onnx.TensorProto] = []

    def convert(name: str, to: int) -> str:
        key = (name, to)
        if key in converted:
            return converted[key]
        suffix = "fp16" if to == FLOAT16 else "fp32"
        new = f"{name}/{suffix}"
        src = inits.get(name)
        cnode = const_nodes.get(name)
        if (src is not None and src.data_location != TensorProto.EXTERNAL) or cnode is not None:
            values = numpy_helper.to_array(src) if src is not None else _constant_value(cnode)  # type: ignore[arg-type]
            assert values is not None
            values = _to_fp16(values, name) if to == FLOAT16 else values.astype(np.float32)
            new_inits.append(numpy_helper.from_array(values, new))
        else:
            new_nodes.append(helper.make_node("Cast", [name], [new], name=f"{new}/Cast", to=to))
            report.casts += 1
        converted[key] = new
        return new

    for n in nodes:
        for i, x in enumerate(n.input):
            want = wants(n, i)
            if want is not None and current(x) != want:
                n.input[i] = convert(x, want)
        if id(n) in half and n.op_type == "Cast":
            for a in n.attribute:
                if a.name == "to" and a.i == FLOAT:
                    a.i = FLOAT16
        new_nodes.append(n)

    # 5b. outputs back to float32
    for old, new in renamed.items():
        new_nodes.append(helper.make_node("Cast", [new], [old], name=f"{old}/Cast", to=FLOAT))
        report.casts += 1
    used = {x for n in new_nodes for x in n.input} | out_names
    del g.node[:]
    g.node.extend(n for n in new_nodes if n.op_type != "Constant" or n.output[0] in used)
    g.initializer.extend(new_inits)
    for inp in g.input:
        if inp.name in report.fp16_weights:
            inp.type.tensor_type.elem_type = FLOAT16
    del g.value_info[:]
    onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    return report

