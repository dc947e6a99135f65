"""The catalogs as a verb: every row of a table, and a Hugging Face config.json imported into
a user's catalog folder."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infercost.api.models import CatalogRequest, ImportModelRequest, parse
from infercost.errors import InputError


def catalog_rows(
    request: CatalogRequest | dict[str, Any] | None = None, **fields: Any
) -> list[dict[str, Any]]:
    """Every row of one catalog table, as plain mappings."""
    from infercost.catalog import engines, hardware, models, prices

    req = parse(CatalogRequest, request, **fields)
    tables: dict[str, Callable[[], Any]] = {
        "gpus": hardware.accelerators,
        "servers": hardware.servers,
        "models": models.models,
        "prices": prices.price_points,
        "api-prices": prices.api_prices,
        "engines": engines.engines,
    }
    return [row.to_dict() for row in tables[req.table]()]


@dataclass(frozen=True)
class ImportedModel:
    row: dict[str, Any]
    total_params: int
    active_params: int
    attention: str
    written: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "total_params": self.total_params,
            "active_params": self.active_params,
            "written": None if self.written is None else str(self.written),
        }


def import_model(
    request: ImportModelRequest | dict[str, Any] | None = None, **fields: Any
) -> ImportedModel:
    """A Hugging Face config.json as a catalog row; with `into`, added to that catalog folder
    (its models.yaml), so that the model can be estimated by its id at once."""
    from infercost.catalog.hf_import import arch_to_row, load_hf_config

    req = parse(ImportModelRequest, request, **fields)
    arch = load_hf_config(Path(req.file), req.id)
    row = arch_to_row(arch)
    written = _add_to_catalog(row, Path(req.into), req.replace) if req.into else None
    return ImportedModel(
        row, arch.total_params(), arch.active_params(), arch.attention_kind, written
    )


def _add_to_catalog(row: dict[str, Any], folder: Path, replace_row: bool) -> Path:
    import yaml

    from infercost.catalog import models
    from infercost.catalog.lookup import DATA_DIR
    from infercost.files import read_yaml

    if not folder.is_dir():
        raise InputError("into", f"no such folder: {folder}")
    builtin = {r.get("id") for r in (read_yaml(DATA_DIR / "models.yaml", "models.yaml")["rows"])}
    if row["id"] in builtin:
        raise InputError("id", f"{row['id']!r} is a built-in model; choose another id")
    target = folder / "models.yaml"
    rows: list[dict[str, Any]] = []
    if target.exists():
        doc = read_yaml(target, "into")
        if not isinstance(doc, dict) or not isinstance(doc.get("rows"), list):
            raise InputError("into", f"{target} has no 'rows' list")
        rows = list(doc["rows"])
    if any(r.get("id") == row["id"] for r in rows) and not replace_row:
        raise InputError("id", f"{target} already has {row['id']!r}; pass replace to overwrite")
    rows = [r for r in rows if r.get("id") != row["id"]] + [row]
    text = yaml.safe_dump({"rows": rows}, sort_keys=False, allow_unicode=True)
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError("into", f"cannot write {target}: {exc.strerror or exc}") from None
    models._models.cache_clear()
    return target
