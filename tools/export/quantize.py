"""Weight-only block quantization of Linear weights for `com.microsoft.MatMulNBits` (docs/MODEL_BUNDLE.md).

A Linear weight W [N, K] (out, in) is split along K into blocks of `block` values; every block has one float32
scale, and every value becomes an unsigned code with an implicit zero point of 2^(bits-1) (MatMulNBits'
default when the zero_points input is omitted): W ≈ (code - zero_point) * scale.

- int8 (bits 8, zero point 128): scale = max|w| / 127 (1 for an all-zero block);
  code = clamp(round(w / scale), -127, 127) + 128; one code per byte: values uint8 [N, K/block, block].
- int4 (bits 4, zero point 8): m = the block's value of largest magnitude (the first one on ties),
  scale = m / -8 (1 for an all-zero block; negative when m > 0), code = clamp(round(w / scale), -8, 7) + 8.
  The signed scale maps m itself to code 0 (-8 * scale = m), so all 16 codes are used (the scheme of
  onnxruntime's MLAS symmetric 4-bit quantizer). Two codes per byte, the even index in the low nibble:
  values uint8 [N, K/block, block/2].

Per-channel int8 for the image graph (`quantize-int8-channel`, com.microsoft.DynamicQuantizeMatMul): a Linear
weight W [N, K] gets one float32 scale per output channel n, scale = max_k |W[n, k]| / 127 (1 for an all-zero
row), and signed codes clamp(round(W / scale), -127, 127) stored int8 in the op's B layout [K, N] (row-major, W
transposed); zero point 0 (symmetric: onnxruntime's fastest integer GEMM, VNNI `vpdpbusd` where the CPU has it).
The op quantizes its activations per tensor at run time (uint8, scale = (max(x, 0) - min(x, 0)) / 255).

All arithmetic is float32 and `round` is round-half-to-even (torch.round), so a converter in another language
reproduces the bytes exactly. Scales are float32 [N * K/block] in row-major (n, block) order.

The nodes also carry MatMulNBits' `accuracy_level`, the lowest precision the op may compute the activations A
in (the weights are the same whatever the level): 0 unset (A as given, float32), 1 fp32, 2 fp16, 3 bf16,
4 int8 — A quantized to int8 per block of `block` values along K (scale = max|a| / 127, round to nearest), int32
dot products with the weight codes, then scaled. For float32 A, onnxruntime's CPU provider (MLAS) only tells 4
from the rest: 4 selects its int8 kernels where the CPU and build have them, anything else computes in float32;
and it has no float32 kernel for 8 bits, so 8-bit weights below level 4 are dequantized into a float32 [K, N]
matrix on every call (an int8 llm graph ran 27x slower than the float32 one, onnxruntime-node 1.30). Hence
DEFAULT_ACCURACY_LEVEL = 4 (docs/MODEL_BUNDLE.md "Precision").
"""
from __future__ import annotations

import torch

BLOCK = 32

#: transform kind (weights.json) -> (bits, zero point)
KINDS = {"quantize-int8-block": (8, 128), "quantize-int4-block": (4, 8)}
#: per-output-channel int8 (DynamicQuantizeMatMul's B), symmetric
CHANNEL_KIND = "quantize-int8-channel"

#: MatMulNBits accuracy_level -> the compute type of the activations it allows (onnxruntime ContribOperators)
ACCURACY_LEVELS = {0: "unset (float32)", 1: "fp32", 2: "fp16", 3: "bf16", 4: "int8"}
DEFAULT_ACCURACY_LEVEL = 4


def _blocks(w: torch.Tensor, block: int) -> torch.Tensor:
    n, k = w.shape
    if k % block:
        raise ValueError(f"K = {k} is not a multiple of the block size {block}")
    return w.detach().to(torch.float32).reshape(n, k // block, block)


def quantize_int8_blocks(w: torch.Tensor, block: int = BLOCK) -> tuple[torch.Tensor, torch.Tensor]:
    """Returns (values uint8 [N, K/block, block], scales float32 [N * K/block])."""
    wb = _blocks(w, block)
    amax = wb.abs().amax(dim=-1)
    scale = torch.where(amax > 0, amax / 127.0, torch.ones_like(amax))
    q = torch.clamp(torch.round(wb / scale[..., None]), -127, 127) + 128
    return q.to(torch.uint8), scale.reshape(-1)


def quantize_int4_blocks(w: torch.Tensor, block: int = BLOCK) -> tuple[torch.Tensor, torch.Tensor]:
    """Returns (values uint8 [N, K/block, block/2], two codes per byte, low nibble first; scales [N * K/block])."""
    if block % 2:
        raise ValueError("int4 blocks must have an even size")
    wb = _blocks(w, block)
    idx = wb.abs().argmax(dim=-1, keepdim=True)  # first maximum on ties (torch.argmax contract)
    m = torch.gather(wb, -1, idx)[..., 0]
    scale = torch.where(m != 0, m / -8.0, torch.ones_like(m))
    codes = (torch.clamp(torch.round(wb / scale[..., None]), -8, 7) + 8).to(torch.uint8)
    packed = codes[..., 0::2] | (codes[..., 1::2] << 4)
    return packed, scale.reshape(-1)


def quantize_int8_channels(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Returns (codes int8 [K, N] — W transposed, as DynamicQuantizeMatMul's B —, scales float32 [N])."""
    w = w.detach().to(torch.float32)
    amax = w.abs().amax(dim=1)
    scale = torch.where(amax > 0, amax / 127.0, torch.ones_like(amax))
    q = torch.clamp(torch.round(w / scale[:, None]), -127, 127).to(torch.int8)
    return q.t().contiguous(), scale


def dequantize_int8_channels(codes: torch.Tensor, scales: torch.Tensor) -> torch.Tensor:
    """The float32 weight [N, K] of (codes [K, N], scales [N])."""
    return (codes.to(torch.float32) * scales[None, :]).t().contiguous()


def dequantize_int8_blocks(values: torch.Tensor, scales: torch.Tensor) -> torch.Tensor:
    n, nb, block = values.shape
    return ((values.to(torch.float32) - 128) * scales.reshape(n, nb, 1)).reshape(n, nb * block)


def dequantize_int4_blocks(values: torch.Tensor, scales: torch.Tensor) -> torch.Tensor:
    n, nb, half = values.shape
    codes = torch.stack((values & 0x0F, values >> 4), dim=-1).reshape(n, nb, 2 * half)
    return ((codes.to(torch.float32) - 8) * scales.reshape(n, nb, 1)).reshape(n, nb * 2 * half)


def int8_activations(a: torch.Tensor, block: int = BLOCK) -> torch.Tensor:
    """What MatMulNBits with accuracy_level 4 computes with instead of the activations `a` [..., K]: each block of
    `block` values along K quantized to int8 with scale = max|a| / 127 and round-half-to-even of a * (127 / max|a|)
    (MLAS' QuantizeARow_CompInt8), dequantized back to float32. (code · scale)ᵀ(weight codes − zero point) · weight
    scale summed over blocks is exactly the op's int32 arithmetic, up to float32 rounding of the final sums."""
    shape = a.shape
    ab = a.to(torch.float32).reshape(*shape[:-1], shape[-1] // block, block)
    amax = ab.abs().amax(dim=-1, keepdim=True)
    inv = torch.where(amax > 0, 127.0 / amax, torch.zeros_like(amax))
    return (torch.round(ab * inv) * (amax / 127.0)).reshape(shape)


def quantize(kind: str, w: torch.Tensor, block: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(values, scales) of a weight-map transform kind (`block` is unused by the per-channel kind)."""
    if kind == CHANNEL_KIND:
        return quantize_int8_channels(w)
    if kind == "quantize-int8-block":
        return quantize_int8_blocks(w, block)
    if kind == "quantize-int4-block":
        return quantize_int4_blocks(w, block)
    raise ValueError(f"unknown quantization {kind}")


def dequantize(kind: str, values: torch.Tensor, scales: torch.Tensor) -> torch.Tensor:
    """The float32 weight [N, K] that MatMulNBits / DynamicQuantizeMatMul computes with."""
    if kind == CHANNEL_KIND:
        return dequantize_int8_channels(values, scales)
    if kind == "quantize-int8-block":
        return dequantize_int8_blocks(values, scales)
    if kind == "quantize-int4-block":
        return dequantize_int4_blocks(values, scales)
    raise ValueError(f"unknown quantization {kind}")
