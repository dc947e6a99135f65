"""The README's table "ChatGPT and search on GPUs, TPUs and custom silicon", computed.

    python scripts/silicon_table.py           # print the table (Markdown)
    python scripts/silicon_table.py --check   # exit 1 when README.md's table differs

Every cell comes from `infercost reproduce` on the built-in scenarios and their variants;
`tests/scenario/test_custom_silicon.py` fails when the README's copy is stale.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BEGIN = "<!-- silicon-table: begin (scripts/silicon_table.py) -->"
END = "<!-- silicon-table: end -->"
HOURS_PER_YEAR = 24 * 365

# (scenario, variant or None, what the row is)
ROWS = [
    ("chatgpt-2023", None, "ChatGPT 2023, HGX A100 rented at $1/GPU-hour (SemiAnalysis)"),
    ("chatgpt-2023", "owned", "the same fleet owned (owner's cost, 4 years)"),
    ("chatgpt-2023", "athena", "owned, chips a third cheaper (Athena / Maia)"),
    ("search-2023", None, "every Google search, HGX A100 at $1/GPU-hour (SemiAnalysis)"),
    ("search-2023", "tpu-v4", "every Google search, TPU v4 at its 3-year price"),
    ("search-2023", "tpu-v5e", "every Google search, TPU v5e at its 3-year price"),
    ("bard-2023", None, "Bard: 80 % of searches, 350-token answers, TPU v4"),
]


def _money(x: float | None) -> str:
    if x is None:
        return "—"
    for scale, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= scale:
            return f"${x / scale:,.2f} {unit}"
    return f"${x:,.2f}"


def _count(x: float | None) -> str:
    return "—" if x is None else f"{x:,.0f}"


def rows() -> list[list[str]]:
    import infercost

    docs: dict[str, dict[str, Any]] = {}
    out = []
    for name, variant, what in ROWS:
        doc = docs.get(name) or docs.setdefault(name, infercost.reproduce(scenario=name).to_dict())
        c = doc["variants"][variant] if variant else doc["computed"]
        base = doc["computed"]
        # the price per chip-hour at which this fleet costs what the scenario's A100 fleet does
        parity = (
            base["usd_per_day"] / 24 / c["gpus"] if variant and variant.startswith("tpu") else None
        )
        out.append(
            [
                f"`{name}`" + (f" `{variant}`" if variant else ""),
                what,
                _count(c["gpus"]),
                _count(c.get("pods")),
                f"${c['usd_per_gpu_hour']:.2f}" if c.get("usd_per_gpu_hour") else "—",
                _money(c["usd_per_day"] * 365),
                f"{c['usd_per_query'] * 100:.3f} ¢",
                _money(c.get("capex_usd")),
                "—" if parity is None else f"${parity:.2f}",
            ]
        )
    return out


def table() -> str:
    head = [
        "run",
        "what",
        "chips",
        "pods",
        "$/chip-hour",
        "$/year",
        "$/query",
        "capex",
        "parity $/chip-hour",
    ]
    lines = ["| " + " | ".join(head) + " |", "| " + " | ".join(["---"] * 2 + ["---:"] * 7) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows()]
    lines += ["", *implied()]
    return "\n".join(lines)


def implied() -> list[str]:
    """bard-2023's `implied` block: what each input alone would have to be for $3 B a year."""
    import infercost

    doc = infercost.reproduce(scenario="bard-2023").to_dict()
    out = [
        "| bard-2023: for SemiAnalysis's $3 B a year, alone | stated | would have to be |",
        "| --- | ---: | ---: |",
    ]
    for r in doc["implied"]:
        stated, implied = r["stated"], r["implied"]
        if r["input"] == "cost.usd_per_gpu_hour":
            cells = [f"${stated:.2f}", "—" if implied is None else f"${implied:.2f}"]
        else:
            cells = [f"{stated:,.0f}", "—" if implied is None else f"{implied:,.0f}"]
        out.append(f"| `{r['input']}` | {cells[0]} | {cells[1]} |")
    return out


def readme_table() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        return ""
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with README.md's table")
    args = parser.parse_args()
    now = table()
    if args.check:
        if readme_table() != now:
            print("README.md's silicon table is stale; paste:\n" + now)
            sys.exit(1)
        print("README.md's silicon table is current")
        return
    print(now)


if __name__ == "__main__":
    main()
