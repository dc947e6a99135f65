"""Measure real decode and prefill step times on a GPU, to check the roofline.

    python benchmarks/gpu_step_check.py OUT.json            # on a machine with a CUDA GPU
    python benchmarks/gpu_step_check.py --compare OUT.json  # here: prediction vs measurement

A Llama-2-7B-shaped decoder (32 layers, hidden 4096, 32 heads, gated MLP 11008, vocab
32000) with random bf16 weights runs eager PyTorch steps: decode at several batches over a
KV cache of 1,024 tokens, and prefill of 2,048-token prompts. Times are medians of CUDA-event
timings after warm-up. Weights are random: step time does not depend on their values.
"""

from __future__ import annotations

import json
import statistics
import sys

LAYERS, HIDDEN, HEADS, FFN, VOCAB = 32, 4096, 32, 11008, 32000
HEAD_DIM = HIDDEN // HEADS
DECODE_BATCHES = (1, 8, 32, 64)
CONTEXT = 1024
PREFILL = ((1, 2048), (4, 2048))


def measure(path: str) -> None:
    import torch
    import torch.nn.functional as F

    dev, dt = "cuda", torch.bfloat16
    torch.manual_seed(0)

    def w(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, device=dev, dtype=dt) * 0.02

    layers = [
        (w(3 * HIDDEN, HIDDEN), w(HIDDEN, HIDDEN), w(2 * FFN, HIDDEN), w(HIDDEN, FFN))
        for _ in range(LAYERS)
    ]
    head = w(VOCAB, HIDDEN)

    def step(x: torch.Tensor, kv: list[tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
        b, t, _ = x.shape
        for (qkv_w, o_w, up_w, down_w), (k_cache, v_cache) in zip(layers, kv, strict=True):
            q, k, v = F.linear(x, qkv_w).view(b, t, 3, HEADS, HEAD_DIM).unbind(2)
            q, k, v = (z.transpose(1, 2) for z in (q, k, v))
            if k_cache.shape[2]:
                k, v = torch.cat([k_cache, k], 2), torch.cat([v_cache, v], 2)
            a = F.scaled_dot_product_attention(q, k, v, is_causal=t > 1)
            x = x + F.linear(a.transpose(1, 2).reshape(b, t, HIDDEN), o_w)
            gate, up = F.linear(x, up_w).chunk(2, -1)
            x = x + F.linear(F.silu(gate) * up, down_w)
        return F.linear(x[:, -1], head)

    def timed(fn: object, reps: int = 10) -> float:
        for _ in range(3):
            fn()  # type: ignore[operator]
        times = []
        for _ in range(reps):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()  # type: ignore[operator]
            end.record()
            torch.cuda.synchronize()
            times.append(start.elapsed_time(end) / 1000)
        return statistics.median(times)

    out: dict[str, object] = {"device": torch.cuda.get_device_name(), "torch": torch.__version__}
    with torch.inference_mode():
        for batch in DECODE_BATCHES:
            kv = [
                (w(batch, HEADS, CONTEXT, HEAD_DIM), w(batch, HEADS, CONTEXT, HEAD_DIM))
                for _ in range(LAYERS)
            ]
            x = w(batch, 1, HIDDEN)
            out[f"decode_b{batch}_ctx{CONTEXT}_s"] = timed(lambda x=x, kv=kv: step(x, kv))
            del kv
        empty = [(w(1, HEADS, 0, HEAD_DIM), w(1, HEADS, 0, HEAD_DIM)) for _ in range(LAYERS)]
        for prompts, tokens in PREFILL:
            x = w(prompts, tokens, HIDDEN)
            kv0 = [(k.expand(prompts, -1, -1, -1), v.expand(prompts, -1, -1, -1)) for k, v in empty]
            out[f"prefill_{prompts}x{tokens}_s"] = timed(lambda x=x, kv0=kv0: step(x, kv0), reps=5)
        a = w(8192, 8192)
        out["matmul_8192_tflops"] = 2 * 8192**3 / timed(lambda: a @ a) / 1e12
        big = torch.empty(2**30, dtype=torch.uint8, device=dev)
        out["copy_gb_per_s"] = 2 * 2**30 / timed(lambda: big.clone()) / 1e9
    with open(path, "w") as f:
        json.dump(out, f, indent=2)
    print(json.dumps(out, indent=2))


def compare(path: str) -> None:
    from infercost.perf.deployment import build
    from infercost.perf.step import decode_step, prefill_step

    with open(path) as f:
        measured = json.load(f)
    gpu = "h200" if "H200" in str(measured["device"]) else "h100-sxm"
    dep = build("llama-2-7b", gpu)
    rows = []
    for batch in DECODE_BATCHES:
        key = f"decode_b{batch}_ctx{CONTEXT}_s"
        rows.append((key, measured[key], decode_step(dep, batch, CONTEXT).total_s))
    for prompts, tokens in PREFILL:
        key = f"prefill_{prompts}x{tokens}_s"
        rows.append((key, measured[key], prefill_step(dep, prompts, tokens).total_s))
    print(f"{measured['device']}: measured vs infercost ({gpu}, default efficiencies)")
    for key, m, p in rows:
        error = (p - m) / m
        print(f"{key:28s} measured {m * 1e3:8.2f} ms  predicted {p * 1e3:8.2f} ms  {error:+.1%}")


if __name__ == "__main__":
    if sys.argv[1] == "--compare":
        compare(sys.argv[2])
    else:
        measure(sys.argv[1])
