"""The pieces a report is made of — sections of paragraphs, tables and charts — and numbers
written as a reader wants them ($1,234; 12.3 ms; +4.5 %; — for a figure that is absent)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Link:
    text: str
    href: str


Cell = str | Link


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[list[Cell]]
    caption: str = ""


@dataclass
class Section:
    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)

    def figure(self, html: str | None) -> None:
        if html:
            self.figures.append(html)


Runs = list[tuple[str, dict[str, Any]]]  # (label, a `distributions` block) to overlay


# --- numbers as a reader wants them ---------------------------------------------------------


def num(value: Any, digits: int = 3) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int) or (abs(value) >= 1000 and float(value).is_integer()):
        return f"{value:,.0f}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def usd(value: Any) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "—"
    return f"${value:,.0f}" if abs(value) >= 100 else f"${value:.4g}"


def ms(value: Any) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "—"
    return f"{value * 1e3:,.1f} ms" if value < 10 else f"{value:,.1f} s"


def pct(value: Any) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "—"
    return f"{value:+.1f} %"


def pairs(title: str, rows: list[tuple[str, str]]) -> Table:
    return Table(["", ""], [[k, v] for k, v in rows], title)
