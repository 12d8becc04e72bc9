"""SegEarth-R1 exporter: our own PyTorch definition of the model, loading the official checkpoint keys, and
the ONNX model-bundle writer (see docs/MODEL_BUNDLE.md). Needs only torch, numpy and onnx."""

EXPORTER_VERSION = "0.1.0"
