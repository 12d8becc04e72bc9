"""PyTorch-eager side of `npm run bench:model` (not a test): the same random weights as a bundle made by
`tools.export.tiny_bundle` (same config.json, same seed), timed stage by stage, plus the machine's limits.

    /usr/bin/python3 bench/model_eager.py <bundle-dir> --view-tokens N --question-tokens L --prefix P --threads T

Prints one JSON object: per stage (image, llm_view, llm_question, head) eager median ms, FLOPs (torch
profiler, matmul/conv), weight bytes; and the measured float32 matmul peak (GFLOP/s) and memory bandwidth
(GB/s) at the same thread count.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tools.export.config import ModelConfig  # noqa: E402
from tools.export.model import HeadGraph, ImageGraph, LlmGraph, load_weights  # noqa: E402
from tools.export.tiny_bundle import random_state  # noqa: E402


def timed(fn, repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def flops(fn) -> float:
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU], with_flops=True) as prof:
        fn()
    return float(sum(e.flops for e in prof.key_averages() if e.flops))


def weight_bytes(module: torch.nn.Module) -> int:
    return sum(p.numel() * p.element_size() for p in module.parameters())


def matmul_peak(n: int = 2048, repeat: int = 5) -> float:
    a = torch.randn(n, n)
    b = torch.randn(n, n)
    ms = timed(lambda: torch.mm(a, b), repeat)
    return 2 * n**3 / (ms / 1000) / 1e9


def bandwidth(mb: int = 512, repeat: int = 5) -> float:
    src = np.ones(mb * 2**20 // 4, dtype=np.float32)
    dst = np.empty_like(src)
    ms = timed(lambda: np.copyto(dst, src), repeat)
    return 2 * src.nbytes / (ms / 1000) / 1e9  # read + write


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("bundle", type=Path)
    ap.add_argument("--view-tokens", type=int, required=True)
    ap.add_argument("--question-tokens", type=int, required=True)
    ap.add_argument("--prefix", type=int, required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg = ModelConfig.from_json(json.loads((args.bundle / "config.json").read_text()))
    state = random_state(cfg)
    image, llm, head = ImageGraph(cfg).eval(), LlmGraph(cfg).eval(), HeadGraph(cfg).eval()
    for m in (image, llm, head):
        load_weights(m, state, strict=False)
    H = cfg.phi.hidden_size
    nh = cfg.phi.num_kv_heads
    hd = H // cfg.phi.num_heads
    L = cfg.phi.num_layers
    out: dict[str, object] = {"threads": args.threads, "llmLayers": L}
    with torch.inference_mode():
        pv = torch.randn(1, 3, 1024, 1024)
        img = image(pv)
        _, res5, mf, ms0, ms1, ms2 = img

        def past(n: int) -> list[torch.Tensor]:
            return [torch.randn(1, nh, n, hd) for _ in range(2 * L)]

        p0 = past(args.prefix)
        pv_view = torch.randn(1, args.view_tokens, H)
        pos_view = torch.arange(args.prefix, args.prefix + args.view_tokens).unsqueeze(0)
        p1 = past(args.prefix + args.view_tokens)
        q = torch.randn(1, args.question_tokens, H)
        pos_q = torch.arange(args.prefix + args.view_tokens, args.prefix + args.view_tokens + args.question_tokens).unsqueeze(0)
        refer = torch.randn(1, args.question_tokens, H)
        stages = {
            "image": (lambda: image(pv), image),
            "llm_view": (lambda: llm(pv_view, pos_view, *p0), llm),
            "llm_question": (lambda: llm(q, pos_q, *p1), llm),
            "head": (lambda: head(refer, res5, mf, ms0, ms1, ms2), head),
        }
        for name, (fn, module) in stages.items():
            print(f"eager: {name}", file=sys.stderr, flush=True)
            out[name] = {"eagerMs": timed(fn, args.repeat), "flops": flops(fn), "weightBytes": weight_bytes(module)}
    out["matmulPeakGflops"] = matmul_peak()
    out["bandwidthGBs"] = bandwidth()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
