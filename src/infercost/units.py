"""Units and numeric precisions.

SI inside (bytes, seconds, FLOP/s, USD); conversions only at the edges. GB = 1e9 bytes,
GiB = 2**30 bytes, TFLOPS = 1e12 FLOP/s. A precision says how many bytes one element takes
(block-scaled formats include their scales: MXFP4 stores one 8-bit scale per 32 values, so
4.25 bits per value) and which peak FLOP/s column of an accelerator a matmul in it uses.
"""

from __future__ import annotations

from dataclasses import dataclass

from infercost.errors import InputError

GB = 1e9
GiB = 2**30
TB = 1e12
TFLOPS = 1e12
SECONDS_PER_HOUR = 3600.0
SECONDS_PER_DAY = 86_400.0
DAYS_PER_YEAR = 365.0
HOURS_PER_YEAR = 8760.0
HOURS_PER_MONTH = HOURS_PER_YEAR / 12  # 730 h, the month cloud price sheets use


@dataclass(frozen=True)
class Precision:
    """A number format: storage bytes per element and the FLOP/s column it computes in."""

    name: str
    bytes_per_element: float
    flops_key: str  # key into Accelerator.dense_flops_per_s when the hardware has this format


PRECISIONS: dict[str, Precision] = {
    p.name: p
    for p in (
        Precision("fp32", 4.0, "fp32"),
        Precision("bf16", 2.0, "bf16"),
        Precision("fp16", 2.0, "bf16"),
        Precision("fp8", 1.0, "fp8"),
        Precision("int8", 1.0, "int8"),
        # 4-bit integer weights with one fp16 scale per group of 128: 4.125 bits.
        Precision("int4", 4.125 / 8, "int4"),
        # OCP MXFP4: one 8-bit shared exponent per 32 values: 4.25 bits.
        Precision("mxfp4", 4.25 / 8, "fp4"),
        # NVIDIA NVFP4: one fp8 scale per 16 values: 4.5 bits.
        Precision("nvfp4", 4.5 / 8, "fp4"),
        Precision("fp4", 4.5 / 8, "fp4"),
        # llama.cpp GGUF block formats, scales included (ggml-common.h block sizes):
        # Q8_0 34 bytes per 32 weights, Q4_0 18 per 32, Q4_1 20 per 32; Q4_K_M mixes Q4_K
        # (4.5 bits) and Q6_K (6.56 bits) tensors, ~4.85 bits on average for Llama models.
        Precision("q8_0", 8.5 / 8, "int8"),
        Precision("q4_0", 4.5 / 8, "int4"),
        Precision("q4_1", 5.0 / 8, "int4"),
        Precision("q4_k_m", 4.85 / 8, "int4"),
    )
}

_ALIASES = {
    "float32": "fp32",
    "float16": "fp16",
    "half": "fp16",
    "bfloat16": "bf16",
    "float8": "fp8",
    "fp8_e4m3": "fp8",
    "e4m3": "fp8",
    "q4_k": "q4_k_m",
    "q4_k_s": "q4_k_m",
    "awq": "int4",
    "gptq": "int4",
}

# Weight/activation shorthands: "w4a16" stores int4 weights and multiplies in 16-bit.
_WA = {
    "w4a16": ("int4", "bf16"),
    "w8a16": ("int8", "bf16"),
    "w8a8": ("int8", "int8"),
    "w4a8": ("int4", "fp8"),
    "fp8-dynamic": ("fp8", "fp8"),
}


def precision(name: str, field: str = "precision") -> Precision:
    """Look up a precision by name or alias (case-insensitive)."""
    key = name.strip().lower().replace("-", "_") if name else ""
    key = _ALIASES.get(key, key)
    if key in PRECISIONS:
        return PRECISIONS[key]
    allowed = ", ".join(sorted(PRECISIONS))
    raise InputError(field, f"unknown precision {name!r}; allowed: {allowed}")


def weight_and_compute(name: str, field: str = "precision") -> tuple[Precision, Precision | None]:
    """Split "w4a16"-style shorthand into (weights, compute); plain names give (p, None)."""
    key = name.strip().lower()
    if key in _WA:
        w, a = _WA[key]
        return PRECISIONS[w], PRECISIONS[a]
    return precision(name, field), None
