"""Position-independent stand-in graphs for the runtime's tiling tests (TEST FIXTURE, not a model).

Writes image.onnx and head.onnx into OUT with the input/output *names* of the real bundle graphs, but:
- image: mask_features = pixel_values (identity, [1,3,S,S]); image_tokens / res5 / ms* are constants;
- head: mask_logits_256 = conv1x1(tanh(conv1x1(mask_features))) at full resolution [1,1,S,S] (plus 0 x the
  mean of refer_hidden, so the question input is consumed): each logit depends only on its own pixel, so a
  tiled run must equal the whole-scene function exactly.
Usage: /usr/bin/python3 stand_in_graphs.py OUT SIZE HIDDEN
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out, size, hidden = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
F = TensorProto.FLOAT


def const(name, arr):
    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(np.asarray(arr, dtype=np.float32), name + "_v"))


image = helper.make_graph(
    [
        helper.make_node("Identity", ["pixel_values"], ["mask_features"]),
        const("image_tokens", np.full((1, 64, hidden), 0.01)),
        const("res5", np.zeros((1, 1, 1, 1))),
        const("ms0", np.zeros((1, 1, 1, 1))),
        const("ms1", np.zeros((1, 1, 1, 1))),
        const("ms2", np.zeros((1, 1, 1, 1))),
    ],
    "stand_in_image",
    [helper.make_tensor_value_info("pixel_values", F, [1, 3, size, size])],
    [
        helper.make_tensor_value_info("image_tokens", F, [1, 64, hidden]),
        helper.make_tensor_value_info("res5", F, [1, 1, 1, 1]),
        helper.make_tensor_value_info("mask_features", F, [1, 3, size, size]),
        helper.make_tensor_value_info("ms0", F, [1, 1, 1, 1]),
        helper.make_tensor_value_info("ms1", F, [1, 1, 1, 1]),
        helper.make_tensor_value_info("ms2", F, [1, 1, 1, 1]),
    ],
)
w1 = np.array([[0.9, -0.4, 0.3], [-0.2, 0.7, -0.6], [0.5, 0.5, 0.5], [0.1, -0.8, 0.4]], dtype=np.float32).reshape(4, 3, 1, 1)
b1 = np.array([0.1, -0.2, 0.05, 0.3], dtype=np.float32)
w2 = np.array([1.5, -1.2, 2.0, 0.8], dtype=np.float32).reshape(1, 4, 1, 1)
b2 = np.array([-0.25], dtype=np.float32)
head = helper.make_graph(
    [
        helper.make_node("Conv", ["mask_features", "w1", "b1"], ["h1"]),
        helper.make_node("Tanh", ["h1"], ["t1"]),
        helper.make_node("Conv", ["t1", "w2", "b2"], ["l0"]),
        helper.make_node("ReduceMean", ["refer_hidden"], ["rm"], keepdims=0),
        helper.make_node("Mul", ["rm", "zero"], ["rz"]),
        helper.make_node("Add", ["l0", "rz"], ["mask_logits_256"]),
        const("q_desc", np.zeros((1, 1, 4))),
    ],
    "stand_in_head",
    [
        helper.make_tensor_value_info("refer_hidden", F, [1, "L", hidden]),
        helper.make_tensor_value_info("res5", F, [1, 1, 1, 1]),
        helper.make_tensor_value_info("mask_features", F, [1, 3, size, size]),
        helper.make_tensor_value_info("ms0", F, [1, 1, 1, 1]),
        helper.make_tensor_value_info("ms1", F, [1, 1, 1, 1]),
        helper.make_tensor_value_info("ms2", F, [1, 1, 1, 1]),
    ],
    [
        helper.make_tensor_value_info("mask_logits_256", F, [1, 1, size, size]),
        helper.make_tensor_value_info("q_desc", F, [1, 1, 4]),
    ],
    initializer=[
        numpy_helper.from_array(w1, "w1"),
        numpy_helper.from_array(b1, "b1"),
        numpy_helper.from_array(w2, "w2"),
        numpy_helper.from_array(b2, "b2"),
        numpy_helper.from_array(np.array(0.0, dtype=np.float32), "zero"),
    ],
)
for name, graph in (("image", image), ("head", head)):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, f"{out}/{name}.onnx")
