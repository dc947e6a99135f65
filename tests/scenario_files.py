"""A small user scenario file shared by the loader and CLI tests."""

from pathlib import Path
from typing import Any

import yaml


def own_scenario(**changes: Any) -> dict[str, Any]:
    """A small valid scenario: Llama-3.1-8B on H100 SXM at 10 queries/s, rented."""
    doc: dict[str, Any] = {
        "scenario": "mine",
        "title": "My chatbot",
        "inputs": {
            "model": {"name": "llama-3.1-8b"},
            "hardware": {"gpu": "h100-sxm"},
            "workload": {"queries_per_second": 10, "input_tokens": 500, "output_tokens": 200},
            "cost": {"mode": "rent", "usd_per_gpu_hour": 2.5},
        },
        "provenance": {
            "model.name": {"basis": "stated", "source": "design-doc"},
            "hardware.gpu": {"basis": "stated", "source": "cloud-account"},
            "workload.queries_per_second": {"basis": "stated", "source": "logs"},
            "workload.input_tokens": {"basis": "stated", "source": "logs"},
            "workload.output_tokens": {"basis": "stated", "source": "logs"},
            "cost.mode": {"basis": "default", "source": "infercost"},
            "cost.usd_per_gpu_hour": {"basis": "stated", "source": "invoice"},
        },
        "sources": [
            {"id": "design-doc", "url": "https://wiki.example/chatbot", "as_of": "2026-11"},
            {"id": "cloud-account", "url": "https://cloud.example/account", "as_of": "2026-11"},
            {"id": "logs", "url": "https://logs.example/chatbot", "as_of": "2026-11"},
            {"id": "invoice", "url": "https://billing.example/2026-11", "as_of": "2026-11"},
        ],
    }
    doc.update(changes)
    return doc


def write(tmp_path: Path, doc: dict[str, Any], name: str = "mine.yaml") -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return str(path)
