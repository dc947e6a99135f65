"""A measured benchmark row to vary in validation tests."""

from __future__ import annotations

from infercost.validation.dataset import MeasuredRow


def row(**fields: str) -> MeasuredRow:
    """A measured-points row: one H100 serving Llama-3.1-8B at max load, unless `fields` say."""
    base = {
        "id": "X-01",
        "engine": "vLLM",
        "engine_version": "",
        "model": "Llama-3.1-8B-Instruct",
        "precision_weights": "bf16",
        "precision_kv": "",
        "gpu": "H100 SXM 80GB",
        "num_gpus": "1",
        "tp": "1",
        "pp": "1",
        "ep": "",
        "input_len": "1000",
        "output_len": "200",
        "batch_or_concurrency": "max load",
        "request_rate": "",
        "metric": "throughput_output_tok_s",
        "value": "5000",
        "unit": "tok/s",
        "notes": "",
    }
    base.update(fields)
    return MeasuredRow(base["id"], base)
