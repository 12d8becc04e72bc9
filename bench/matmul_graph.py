"""Writes a one-node ONNX graph `C = A @ B` ([n, n] float32 inputs) for `npm run bench:model`'s machine floor:
onnxruntime's own matmul kernel (MLAS) is the best single-precision peak this machine reaches, so the per-stage
floors are computed against it (and against the PyTorch/BLAS peak, whichever is higher).

    /usr/bin/python3 bench/matmul_graph.py <out.onnx> [--n 2048]
"""
from __future__ import annotations

import argparse
import sys

import onnx
from onnx import TensorProto, helper


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--n", type=int, default=2048)
    args = ap.parse_args()
    n = args.n
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["A", "B"], ["C"])],
        "matmul_peak",
        [helper.make_tensor_value_info("A", TensorProto.FLOAT, [n, n]), helper.make_tensor_value_info("B", TensorProto.FLOAT, [n, n])],
        [helper.make_tensor_value_info("C", TensorProto.FLOAT, [n, n])],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
