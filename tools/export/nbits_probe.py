"""Writes one-node MatMulNBits graphs (8 and 4 bits) whose weights come from our quantizers, plus an input and
the expected output `A @ dequantize(W)ᵀ` computed here, so a test can check under onnxruntime that the op reads
our packed layout, scales and implicit zero points the way `quantize.dequantize` assumes.

    /usr/bin/python3 -m tools.export.nbits_probe OUT_DIR

Writes `a.bin` (float32 [M, K]) and, per bits b in (8, 4): `nbits{b}.onnx` (input "A", output "Y"; no
accuracy_level: float32 activations) and `nbits{b}.expected.bin` (float32 [M, N]), and the same node with
accuracy_level 4 (`nbits{b}.acc4.onnx`) with its expected output `int8_activations(A) @ dequantize(W)ᵀ`
(`nbits{b}.acc4.expected.bin`); prints {"M", "K", "N", "maxDequantError": {b: ...}, "maxActivationError"} as
JSON. The weight has an all-zero block and a block whose extremes tie in magnitude with opposite signs; A has
an all-zero block and values at exact half steps of its int8 grid.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

from .quantize import BLOCK, dequantize, int8_activations, quantize

M, K, N = 3, 96, 8
KINDS = {8: "quantize-int8-block", 4: "quantize-int4-block"}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(args[0])
    out.mkdir(parents=True, exist_ok=True)
    gen = torch.Generator().manual_seed(3)
    w = torch.randn(N, K, generator=gen)
    w[0, :BLOCK] = 0
    w[1, 3], w[1, 7] = -4.0, 4.0  # m = -4 (first), scale 0.5: +4 clamps to code 15 = 3.5, one step off
    a = torch.randn(M, K, generator=gen)
    a[1, BLOCK:2 * BLOCK] = 0
    a[2, :4] = torch.tensor([127.0, 0.5, 1.5, -2.5])  # max 127: scale 1, three values at exact half steps
    a.numpy().astype("<f4").tofile(out / "a.bin")
    a8 = int8_activations(a, BLOCK)
    errors = {}
    for bits, kind in KINDS.items():
        values, scales = quantize(kind, w, BLOCK)
        deq = dequantize(kind, values, scales)
        errors[bits] = float((deq - w).abs().max())
        for suffix, level, act in (("", None, a), (".acc4", 4, a8)):
            attrs = {} if level is None else {"accuracy_level": level}
            node = helper.make_node("MatMulNBits", ["A", "B", "scales"], ["Y"], domain="com.microsoft", K=K, N=N,
                                    bits=bits, block_size=BLOCK, **attrs)
            graph = helper.make_graph([node], f"nbits{bits}", [helper.make_tensor_value_info("A", TensorProto.FLOAT, [M, K])],
                                      [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [M, N])],
                                      [numpy_helper.from_array(values.numpy(), "B"),
                                       numpy_helper.from_array(scales.numpy(), "scales")])
            model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                            helper.make_opsetid("com.microsoft", 1)])
            onnx.save(model, out / f"nbits{bits}{suffix}.onnx")
            (act @ deq.T).numpy().astype("<f4").tofile(out / f"nbits{bits}{suffix}.expected.bin")
    print(json.dumps({"M": M, "K": K, "N": N, "maxDequantError": errors,
                      "maxActivationError": float((a8 - a).abs().max())}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
